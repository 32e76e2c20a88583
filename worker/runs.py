"""The runs a worker service supervises: a queue, trainer processes, and their run folders.

A run is a folder under the runs directory, however it was made: by this service, by a command
line (`python -m worker.train`, the sweep CLI), or copied in from another machine. The trainer
writes the record (config.json, events.jsonl, checkpoints, previews, model.pth) and holds
trainer.lock while it writes; the service adds only what the trainer cannot know, and only to
the runs it started: request.json (the settings asked for), trainer.pid, trainer.log (its stdout
and stderr), exit.json (its exit code); and to any run, model.json (which checkpoint a user made
the model) and meta.json (the name a user gave it). A run's state is derived from these files and
the trainer's lock, so a restarted service finds every run as it was, follows every trainer still
writing, and lists folders that appear while it runs (README: The run folder).
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from . import REPO, trainer_lock
from .atomic import write_json
from .data import DatasetError, resolve_data_dir, scan_folder
from .events import FILENAME as EVENTS, EventLog, read_events
from .checkpoint import checkpoints_by_iteration, promote
from .protocol import ACTIVE, RUN_ID, STOP_TIMEOUT
from .config import DEFAULTS, RESUMABLE, RUN_FLAGS, argv_from_config
from .errors import Conflict, NotFound, UsageError
from .sweep import check_sweep, new_id

log = logging.getLogger('tn.runs')
POLL = 0.05  # seconds between looks at running trainers: the event latency floor
NAME_MAX = 80  # characters of a run's name (meta.json)
FACTS = ('start', 'checkpoint', 'done', 'error')  # events that change a RunInfo beyond its progress
DISCOVER_EVERY = 1.0  # seconds between looks for run folders made elsewhere, and trainers started elsewhere
# A folder under the runs directory is a run if it holds one of these. A trainer writes its
# config.json after its claim (trainer.lock) and the pictures the list shows.
RUN_MARKS = ('request.json', 'config.json', EVENTS)
_rev_lock = threading.Lock()
_last_rev = 0


def _next_rev() -> int:
    """A number that grows with every RunInfo made, across service restarts too (it starts from
    the clock). Clients keep the info with the highest rev, so the answer to a request made
    before a state change cannot overwrite the run_state message that announced the change."""
    global _last_rev
    with _rev_lock:
        _last_rev = max(_last_rev + 1, time.time_ns() // 1000)
        return _last_rev


def continue_to(iteration: int, total: int) -> int:
    """Where a run continued from a checkpoint trains to by default: its own end if it stopped
    early, else as many iterations again. RunInfo gives it with each checkpoint (the dialog shows it)."""
    return total if iteration < total else iteration + total


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a recycled pid is not our trainer
        return b'worker.train' in Path(f'/proc/{pid}/cmdline').read_bytes()
    except OSError:
        return True


def is_run_folder(folder: Path) -> bool:
    return RUN_ID.match(folder.name) is not None and folder.is_dir() and any(
        (folder / mark).exists() for mark in RUN_MARKS)


def _clock(t) -> str:
    return datetime.fromtimestamp(t).strftime('%H:%M:%S') if t else 'an unknown time'


def _kill(run: 'Run'):
    """SIGKILL a trainer that did not stop: ours with its DataLoader workers (its own session,
    see _start); a command line's alone (its process group is its terminal's job)."""
    if run.origin == 'app':
        os.killpg(run.trainer_pid, signal.SIGKILL)
    else:
        os.kill(run.trainer_pid, signal.SIGKILL)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f'was killed by signal {-code} ({signal.Signals(-code).name})'
        except ValueError:
            return f'was killed by signal {-code}'
    return f'exited with code {code}'


class Run:
    """One run folder, and its trainer process while there is one."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.id = folder.name
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None
        self.attached_at: float | None = None  # when this service began following a trainer it did not start
        self.slots: list = []
        self.stop_requested_at: float | None = None
        self.offset = 0   # bytes of events.jsonl already relayed
        self.seq = 0      # lines of events.jsonl already relayed
        self.summary = {}
        self.read_new_events()  # what the record already holds; later lines are relayed live

    @property
    def request(self) -> dict:
        try:
            return json.loads((self.folder / 'request.json').read_text())
        except (OSError, ValueError):
            return {}

    @property
    def origin(self) -> str:
        """'app' for a run this (or an earlier) service started, 'cli' for one trained from a command line."""
        return 'app' if (self.folder / 'request.json').exists() else 'cli'

    def _trainer_config(self) -> dict:
        try:
            config = json.loads((self.folder / 'config.json').read_text())
        except (OSError, ValueError):
            return {}
        return config if isinstance(config, dict) else {}

    @property
    def config(self) -> dict:
        """The settings asked for: the request's, or a command-line run's config.json without what
        the trainer derived and where it wrote."""
        if self.origin == 'app':
            return self.request.get('config', {})
        return {k: v for k, v in self._trainer_config().items() if k not in ('derived', *RUN_FLAGS)}

    @property
    def texture_path(self) -> str | None:
        return self.request.get('texture_path') or (self._trainer_config().get('derived') or {}).get('texture_path') \
            or self.config.get('texture')

    def problem(self) -> str | None:
        """Why this folder cannot be read as a run, or None."""
        for name in ('request.json', 'config.json'):
            try:
                data = json.loads((self.folder / name).read_text())
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as e:
                return f'its {name} cannot be read ({e}); the other files are untouched'
            if not isinstance(data, dict):
                return f'its {name} is not a JSON object; the other files are untouched'
        if not os.access(self.folder / EVENTS, os.R_OK) and (self.folder / EVENTS).exists():
            return f'its {EVENTS} cannot be read (permission denied)'
        return None

    def silent_end(self) -> str:
        """Why a run with no final event and no trainer ended, from what its record says."""
        s = self.summary
        if 'iteration' not in s:
            where = 'before its first iteration'
        else:
            where = f'after iteration {s["iteration"]} (its last event, at {_clock(s.get("last_time"))})'
        message = f'its trainer stopped writing {where} without a final event: it was killed or crashed'
        if self.origin == 'cli':
            message += ', or it trains on another machine'
        if s.get('checkpoints'):
            message += f'; its last checkpoint (iteration {s["checkpoints"][-1]["iteration"]}) is usable'
        return message

    @property
    def name(self) -> str | None:
        """The name a user gave the run (meta.json), else None."""
        try:
            name = json.loads((self.folder / 'meta.json').read_text()).get('name')
        except (OSError, ValueError, AttributeError):
            return None
        return name if isinstance(name, str) and name else None

    def _note(self, event: dict):
        t = event['type']
        s = self.summary
        s['last_time'] = event.get('time')
        s.setdefault('first_time', event.get('time'))
        if t == 'iteration':
            s['iteration'] = event['iteration']
            # stylize: style, content, total; synthesis: style, diversity, distance, total
            s['losses'] = {k: event[k] for k in ('style', 'content', 'diversity', 'distance', 'total') if k in event}
            s['images_per_s'], s['eta_s'] = event.get('images_per_s'), event.get('eta_s')
        elif t == 'start':
            # A run continued into this folder begins with its source's starts (run_dir names the
            # source): its time is counted from its own first start.
            if Path(str(event.get('run_dir') or self.folder)).name == self.folder.name:
                s.setdefault('started', event['time'])
            s['iterations'] = event['iterations']
            s['device'] = event['device']
            s.setdefault('calibration', {k: event.get(k) for k in ('style_scale', 'start_balance')})
        elif t == 'preview':
            s['latest_preview'] = event['path']
        elif t == 'checkpoint':
            s.setdefault('checkpoints', [])
            s['checkpoints'] = [c for c in s['checkpoints'] if c['iteration'] < event['iteration']]
            s['checkpoints'].append({'iteration': event['iteration'], 'path': event['path']})
        elif t == 'done':
            s['done'] = event
            s['finished'] = event['time']
        elif t == 'error':
            s['error'] = event['message']
            s['finished'] = event['time']

    @property
    def trainer_pid(self) -> int | None:
        """Our child's pid, or that of a trainer re-attached after a service restart."""
        return self.process.pid if self.process else self.pid

    @property
    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.pid is not None and _alive(self.pid)

    def state(self, queued: bool) -> str:
        if self.process is not None or self.pid is not None:  # until the monitor has seen it end
            return 'stopping' if self.stop_requested_at else 'running'
        if 'done' in self.summary:
            return 'stopped' if self.summary['done'].get('stopped') else 'done'
        if 'error' in self.summary or (self.folder / 'exit.json').exists():
            return 'failed'
        return 'queued' if queued else 'failed'

    def info(self, queue: list) -> dict:
        rev = _next_rev()  # before reading the state: an info is never older than its rev
        exit_info = {}
        try:
            exit_info = json.loads((self.folder / 'exit.json').read_text())
        except (OSError, ValueError):
            pass
        request, config = self.request, self.config
        s = self.summary
        state, problem = self.state(self.id in queue), self.problem()
        error = s.get('error')
        if problem:
            state, error = 'failed', f'This run folder cannot be read: {problem}.'
        elif state == 'failed' and not error and not exit_info:
            error = self.silent_end()
        total = s.get('iterations', config.get('iterations', DEFAULTS['iterations']))
        texture = str(config.get('texture') or '') or None
        return {
            'id': self.id, 'rev': rev, 'state': state, 'name': self.name, 'origin': self.origin,
            'created': request.get('created') or s.get('first_time') or self._made(),
            'started': s.get('started'), 'finished': s.get('finished'),
            # a command line names the texture by its path: the stem is what a person calls it
            'texture': Path(texture).stem if texture and (self.origin == 'cli' or '/' in texture) else texture,
            'texture_image': 'previews/exemplar.png' if (self.folder / 'previews' / 'exemplar.png').exists() else None,
            'mode': config.get('mode', 'stylize'),
            'config': config, 'iteration': s.get('iteration', 0),
            'iterations': total, 'device': s.get('device'),
            **s.get('calibration', {'style_scale': None, 'start_balance': None}),
            'losses': s.get('losses'), 'images_per_s': s.get('images_per_s'), 'eta_s': s.get('eta_s'),
            'latest_preview': s.get('latest_preview'),
            'checkpoints': [{**c, 'continue_to': continue_to(c['iteration'], total)} for c in s.get('checkpoints', [])],
            'model': 'model.pth' if (self.folder / 'model.pth').exists() else None,
            'model_iteration': self.model_iteration(),
            'error': error, 'exit_code': exit_info.get('exit_code'),
            'stderr_tail': exit_info.get('stderr_tail'),
            'queue_position': queue.index(self.id) + 1 if self.id in queue else None,
            'sweep': request.get('sweep'),
            'resumed_from': {k: v for k, v in request['resume_from'].items() if k != 'checkpoint'}
            if 'resume_from' in request else None,
        }

    def _made(self) -> float | None:
        try:
            return self.folder.stat().st_mtime
        except OSError:
            return None

    def model_iteration(self) -> int | None:
        """Which iteration model.pth holds: the one chosen by eye (model.json), else the end."""
        if not (self.folder / 'model.pth').exists():
            return None
        try:
            return json.loads((self.folder / 'model.json').read_text())['iteration']
        except (OSError, ValueError, KeyError):
            return self.summary.get('done', {}).get('iteration')

    def model_path(self, checkpoint: str | None = None) -> Path:
        """The network to stylize with: a named checkpoint, else the model, else the latest checkpoint."""
        if checkpoint:
            path = self.folder / 'checkpoints' / Path(str(checkpoint)).name
            if not path.is_file():
                raise NotFound(f'run {self.id} has no checkpoint {checkpoint!r}')
            return path
        if (self.folder / 'model.pth').is_file():
            return self.folder / 'model.pth'
        found = checkpoints_by_iteration(self.folder)
        if not found:
            raise NotFound(f'run {self.id} has no model or checkpoint yet')
        return found[max(found)]

    def read_new_events(self):
        """Complete lines appended to events.jsonl since the last call, as (seq, event)."""
        path = self.folder / EVENTS
        try:
            with open(path, 'rb') as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b'\n') + 1  # a line still being written waits for the next look
        out = []
        for line in data[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # as read_events does, so history and live seq numbers agree
            self.seq += 1
            self._note(event)
            out.append((self.seq, event))
        self.offset += end
        return out


class RunManager:
    """Starts queued runs when a device slot is free, follows their events, notices exits.

    `on_event(run, seq, event)` and `on_state(run_info)` are called from the monitor thread,
    `on_deleted(run_id)` from the command's.
    """

    def __init__(self, runs_dir, textures, on_event, on_state, on_deleted=lambda run_id: None, slots=None):
        self.runs_dir = Path(runs_dir)
        self.textures = textures
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.on_event, self.on_state, self.on_deleted = on_event, on_state, on_deleted
        self.lock = threading.RLock()
        self.runs: dict[str, Run] = {}
        self.queue: list[str] = []
        self.free = list(slots if slots is not None else self._device_slots())
        self.cpu_only = self.free == ['cpu']
        self._closing = False
        self._load_existing()
        self.thread = threading.Thread(target=self._monitor, name='run-monitor', daemon=True)
        self.thread.start()

    @staticmethod
    def _device_slots():
        import torch
        return [str(i) for i in range(torch.cuda.device_count())] or ['cpu']

    # -- what is on disk --------------------------------------------------------------------

    def _load_existing(self):
        for folder in sorted(self.runs_dir.iterdir()):
            if is_run_folder(folder):
                self._load(folder)
        self.discovered = time.monotonic()

    def _load(self, folder: Path) -> Run:
        """A run folder found on disk: its record read, its trainer followed if one is writing."""
        run = self.runs[folder.name] = Run(folder)
        finished = 'done' in run.summary or 'error' in run.summary or (folder / 'exit.json').exists()
        if run.origin == 'cli':
            self._attach(run, trainer_lock.holder(folder))
            return run
        pid = self._service_child(folder)
        if pid and not finished and _alive(pid):
            self._attach(run, pid)  # a trainer that outlived the previous service: follow it again
            run.slots = run.request.get('slots', [])
            self.free = [s for s in self.free if s not in run.slots]
        elif (folder / 'trainer.pid').exists() and not finished:
            s = run.summary
            self._mark_failed(run, None, f'the trainer ended while the worker service was down; its last event was '
                                         f'at {_clock(s.get("last_time"))} (iteration {s.get("iteration", 0)})')
        elif not finished:
            self.queue.append(run.id)  # asked for, never started: it waits its turn again
        return run

    @staticmethod
    def _service_child(folder: Path) -> int | None:
        try:
            return int((folder / 'trainer.pid').read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _attach(self, run: Run, pid: int | None):
        if pid:
            run.pid, run.attached_at = pid, time.time()
            log.info('following run %s (%s trainer, pid %d)', run.id,
                     'its' if run.origin == 'app' else 'a command-line', pid)

    def _discover(self):
        """Run folders made while the service runs (a command line, a copy), trainers that began
        writing a known folder (a command-line --resume), and folders removed by hand."""
        self.discovered = time.monotonic()
        found = {f.name: f for f in self.runs_dir.iterdir() if is_run_folder(f)}
        changed, gone = [], []
        with self.lock:
            for name, folder in found.items():
                run = self.runs.get(name)
                if run is None:
                    changed.append(self._load(folder))
                elif run.process is None and run.pid is None and name not in self.queue:
                    pid = trainer_lock.holder(folder)
                    if pid:
                        run.read_new_events()
                        self._attach(run, pid)
                        changed.append(run)
            for name in [n for n, r in self.runs.items() if n not in found]:
                run = self.runs[name]
                if run.process is None and run.pid is None and name not in self.queue:
                    del self.runs[name]
                    gone.append(name)
            infos = [run.info(self.queue) for run in changed]
        for info in infos:
            self.on_state(info)
        for name in gone:
            self.on_deleted(name)

    # -- commands ---------------------------------------------------------------------------

    def create(self, config: dict) -> dict:
        """Validate a run's settings as the trainer would, then queue it."""
        return self._queue_new(*self._checked(config))

    def create_sweep(self, config: dict, setting, values, name=None) -> dict:
        """Queue one run per value of `setting`, everything else equal, grouped as a sweep (each
        RunInfo's `sweep`). Every run is checked before any is queued."""
        key, values = check_sweep(setting, values)
        checked = [self._checked({**config, key: value}) for value in values]
        name = str(name or '').strip()[:80] or f'{key} sweep'
        sweep = {'id': new_id(), 'name': name, 'setting': key, 'values': values}
        runs = [self._queue_new(*c, sweep={**sweep, 'value': value, 'index': i})
                for i, (c, value) in enumerate(zip(checked, values))]
        return {'sweep': sweep, 'runs': runs}

    def _checked(self, config: dict) -> tuple[dict, int, Path]:
        """(settings, GPUs, texture file) of a new run, checked as the trainer checks them."""
        config = dict(config)
        gpus = int(config.pop('gpus', 1) or 1)
        synthesis = config.get('mode') == 'synthesis'
        if 'texture' not in config or ('data_dir' not in config and not synthesis):
            raise UsageError('a run needs a texture, and data_dir (a folder of photos) unless its mode is synthesis')
        try:
            # One usable photo is enough here: the wizard has just scanned the folder, and the
            # trainer scans it again; a full scan of a big folder on a slow disk could outlast
            # the request that creates the run.
            if not synthesis:
                scan_folder(resolve_data_dir(str(config['data_dir'])), limit=1)
            texture = self.textures.path(str(config['texture']))
        except (DatasetError, NotFound) as e:  # a setting of the new run, not a missing resource
            raise UsageError(str(e)) from None
        config.pop('out', None)
        argv_from_config({**config, 'texture': str(texture)})
        if gpus > 1 and (self.cpu_only or gpus > len(self._all_slots())):
            raise UsageError(f'{gpus} GPUs asked for; this machine has '
                             f'{0 if self.cpu_only else len(self._all_slots())}')
        return config, gpus, texture

    def _queue_new(self, config: dict, gpus: int, texture: Path, **extra) -> dict:
        with self.lock:  # a folder half made is not found by _discover
            folder = self._new_folder(config['texture'])
            write_json(folder / 'request.json', {
                'config': config, 'gpus': gpus, 'created': time.time(), 'texture_path': str(texture), **extra})
            return self._enqueue(folder)

    def continue_run(self, run_id: str, iteration=None, iterations=None) -> dict:
        """Queue a new run that starts from a checkpoint of an ended run (its latest by default)
        and trains on to `iterations` in all. The ended run stays exactly as it was."""
        source = self.get_run(run_id)
        with self.lock:
            state = source.state(run_id in self.queue)
        if state in ACTIVE:
            raise Conflict(f'run {run_id} is {state}: stop it, or wait for it to end, before continuing it')
        checkpoints = checkpoints_by_iteration(source.folder)
        if not checkpoints:
            raise Conflict(f'run {run_id} has no checkpoint to continue from')
        if iteration is None:
            iteration = max(checkpoints)
        if not isinstance(iteration, int) or iteration not in checkpoints:
            raise NotFound(f'run {run_id} has no checkpoint at iteration {iteration}; '
                             f'it has {", ".join(map(str, sorted(checkpoints)))}')
        config = source.config
        total = config.get('iterations', DEFAULTS['iterations'])
        iterations = iterations if iterations is not None else continue_to(iteration, total)
        if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations <= iteration:
            raise UsageError(f'iterations must be a whole number above the checkpoint\'s {iteration} '
                             f'(it is the total, counted from the start of the first run)')
        resume_from = {'run': run_id, 'iteration': iteration, 'checkpoint': str(checkpoints[iteration])}
        with self.lock:  # a folder half made is not found by _discover
            folder = self._new_folder(config.get('texture', 'texture'))
            write_json(folder / 'request.json', {
                'gpus': source.request.get('gpus', 1), 'texture_path': source.texture_path,
                'config': {**config, 'iterations': iterations}, 'created': time.time(),
                'resume_from': resume_from})
            try:
                argv_from_config(self._trainer_config(Run(folder)))  # the trainer's own checks
            except UsageError:
                shutil.rmtree(folder)
                raise
            return self._enqueue(folder)

    def _new_folder(self, texture: str) -> Path:
        stem = re.sub(r'[^A-Za-z0-9_-]+', '-', Path(str(texture)).stem)[:40] or 'texture'
        folder = self.runs_dir / f'{datetime.now():%Y%m%d-%H%M%S}-{stem}-{secrets.token_hex(2)}'
        folder.mkdir()
        return folder

    def _enqueue(self, folder: Path) -> dict:
        with self.lock:
            run = Run(folder)
            self.runs[run.id] = run
            self.queue.append(run.id)
            info = run.info(self.queue)
        self.on_state(info)
        return info

    @staticmethod
    def _trainer_config(run: Run) -> dict:
        """The trainer's settings for a run: what was asked for, or, for a continued run, the
        checkpoint and what a resume may change."""
        request = run.request
        if 'resume_from' in request:
            overrides = {k: v for k, v in request['config'].items() if k in RESUMABLE}
            return {**overrides, 'resume': request['resume_from']['checkpoint'], 'out': str(run.folder)}
        return {**request['config'], 'texture': request['texture_path'], 'out': str(run.folder)}

    def delete(self, run_id: str):
        """Remove an ended run's folder (checkpoints, previews, model) from disk."""
        run = self.get_run(run_id)
        with self.lock:
            state = run.state(run_id in self.queue)
            if state in ACTIVE:
                raise Conflict(f'run {run_id} is {state}: stop it before deleting it')
            waiting = [r.id for r in self.runs.values() if r.id in self.queue or r.running
                       if r.request.get('resume_from', {}).get('run') == run_id]
            if waiting:
                raise Conflict(f'run {waiting[0]} continues from this run\'s checkpoint: '
                                 f'delete this one after that run has ended')
            del self.runs[run_id]
            # Out of the runs directory's names at once (a name _discover skips), removed after.
            trash = run.folder.with_name(f'.deleting-{run_id}')
            run.folder.rename(trash)
        shutil.rmtree(trash)
        log.info('deleted run %s', run_id)
        self.on_deleted(run_id)

    def use_checkpoint(self, run_id: str, iteration) -> dict:
        """Make an ended run's checkpoint its model.pth (the previous model kept beside it)."""
        run = self.get_run(run_id)
        with self.lock:
            state = run.state(run_id in self.queue)
        if state in ACTIVE:
            raise Conflict(f'run {run_id} is {state}: its trainer writes model.pth as it ends; '
                           'choose the model after that')
        checkpoints = checkpoints_by_iteration(run.folder)
        if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration not in checkpoints:
            raise NotFound(f'run {run_id} has no checkpoint at iteration {iteration}; '
                           f'it has {", ".join(map(str, sorted(checkpoints))) or "none"}')
        result = promote(checkpoints[iteration], run.folder)
        write_json(run.folder / 'model.json', {'iteration': iteration, 'chosen': time.time(),
                                                'previous': result['previous']})
        log.info('run %s: model.pth is now iteration %d', run_id, iteration)
        with self.lock:
            info = run.info(self.queue)
        self.on_state(info)
        return {'run': info, 'previous': result['previous']}

    def rename(self, run_id: str, name) -> dict:
        """Name a run (meta.json, written atomically); an empty name removes it."""
        if not isinstance(name, str):
            raise UsageError('send {name}: a text of at most %d characters (empty: no name)' % NAME_MAX)
        name = ' '.join(name.split())
        if len(name) > NAME_MAX:
            raise UsageError(f'a run\'s name is at most {NAME_MAX} characters; this one has {len(name)}')
        run = self.get_run(run_id)
        with self.lock:
            write_json(run.folder / 'meta.json', {'name': name or None, 'renamed': time.time()})
            info = run.info(self.queue)
        self.on_state(info)
        return info

    def stop(self, run_id: str) -> dict:
        run = self.get_run(run_id)
        with self.lock:
            if run_id in self.queue:
                self.queue.remove(run_id)
                EventLog(run.folder).emit('done', iteration=0, stopped=True, model=None)
                run.read_new_events()
            elif run.running and not run.stop_requested_at:
                run.stop_requested_at = time.time()
                os.kill(run.trainer_pid, signal.SIGTERM)
            info = run.info(self.queue)
        self.on_state(info)
        return info

    def get_run(self, run_id: str) -> Run:
        with self.lock:
            if not isinstance(run_id, str) or run_id not in self.runs:
                raise NotFound(f'no run {run_id!r}')
            return self.runs[run_id]

    def info(self, run_id: str) -> dict:
        with self.lock:
            return self.get_run(run_id).info(self.queue)

    def list(self) -> dict:
        with self.lock:
            return {'runs': [r.info(self.queue) for r in self.runs.values()], 'queue': list(self.queue)}

    def history(self, run_id: str, after: int = 0) -> list:
        run = self.get_run(run_id)
        with self.lock:  # the monitor cannot relay a line between our read and its own
            events = read_events(run.folder / EVENTS)[: run.seq]
        return [{'seq': i, 'event': e} for i, e in enumerate(events, 1) if i > after]

    def shutdown(self):
        """Stop every trainer gracefully (checkpoint + model), waiting up to STOP_TIMEOUT."""
        self._closing = True
        with self.lock:
            # a command-line trainer is its terminal's, not ours: it goes on
            running = [r for r in self.runs.values() if r.running and r.origin == 'app']
            for run in running:
                if not run.stop_requested_at:
                    run.stop_requested_at = time.time()
                    os.kill(run.trainer_pid, signal.SIGTERM)
        deadline = time.time() + STOP_TIMEOUT
        while any(r.running for r in running) and time.time() < deadline:
            time.sleep(0.1)
        for run in running:
            if run.running:
                _kill(run)

    # -- the monitor ------------------------------------------------------------------------

    def _all_slots(self):
        with self.lock:
            return self.free + [s for r in self.runs.values() if r.running for s in r.slots]

    def _start(self, run: Run, slots: list):
        request = run.request
        argv = argv_from_config(self._trainer_config(run))
        gpus = request.get('gpus', 1)
        if gpus > 1:
            cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={gpus}',
                   '-m', 'worker.train', *argv]
        else:
            cmd = [sys.executable, '-m', 'worker.train', *argv]
        env = dict(os.environ)
        if slots != ['cpu']:
            env['CUDA_VISIBLE_DEVICES'] = ','.join(slots)
        logfile = open(run.folder / 'trainer.log', 'ab')
        # Its own session: a Ctrl-C in the service's terminal, or the service's death, does not
        # reach the trainer; stopping is always the service's explicit, graceful SIGTERM.
        run.process = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=logfile,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        logfile.close()
        run.slots = slots
        (run.folder / 'trainer.pid').write_text(f'{run.process.pid}\n')
        write_json(run.folder / 'request.json', {**request, 'slots': slots})
        log.info('started run %s on %s (pid %d)', run.id, ','.join(slots), run.process.pid)

    def _mark_failed(self, run: Run, code, reason=None):
        try:
            lines = (run.folder / 'trainer.log').read_text(errors='replace').splitlines()
        except OSError:
            lines = []
        if run.origin == 'app':  # a command-line run's exit is its terminal's to tell
            write_json(run.folder / 'exit.json', {'exit_code': code, 'stderr_tail': '\n'.join(lines[-20:])})
        if 'done' not in run.summary and 'error' not in run.summary:
            message = reason or f'the trainer {_describe_exit(code)} before finishing'
            if run.summary.get('checkpoints'):
                message += f'; its last checkpoint (iteration {run.summary["checkpoints"][-1]["iteration"]}) is usable'
            EventLog(run.folder).emit('error', message=message)

    def _monitor(self):
        while not self._closing:
            try:
                self._tick()
                if time.monotonic() - self.discovered > DISCOVER_EVERY:
                    self._discover()
            except Exception:  # the monitor must outlive any one bad run folder
                log.exception('run monitor')
            time.sleep(POLL)

    def _tick(self):
        with self.lock:
            news, ended = [], []
            for run in self.runs.values():
                if run.process is None and run.pid is None:
                    continue
                if self._relay(run):
                    news.append(run)
                if run.running:
                    self._kill_if_overdue(run)
                else:
                    self._reap(run)
                    ended.append(run)
            started = self._start_queued()
            changed = dict.fromkeys(news + ended + started)  # in order, once each
            if ended or started:  # the queue moved
                changed.update(dict.fromkeys(self.runs[q] for q in self.queue))
            infos = [run.info(self.queue) for run in changed]
        for info in infos:
            self.on_state(info)

    def _relay(self, run: Run) -> bool:
        """Relay a trainer's new events; True if one changed the run's facts (RunInfo), not only
        its progress: browsers get a run_state then, and follow progress from the events."""
        facts = False
        for seq, event in run.read_new_events():
            self.on_event(run.id, seq, event)
            facts |= event['type'] in FACTS
        return facts

    def _kill_if_overdue(self, run: Run):
        if run.stop_requested_at and time.time() - run.stop_requested_at > STOP_TIMEOUT:
            log.warning('run %s did not stop in %ss: killing it', run.id, STOP_TIMEOUT)
            _kill(run)

    def _reap(self, run: Run):
        """A trainer has ended: record how, relay its last events, free its device slots."""
        self._relay(run)  # its last words first: a final event written as it exited
        self._record_exit(run)
        self._relay(run)
        self.free += run.slots
        run.process, run.pid, run.slots, run.stop_requested_at = None, None, [], None

    def _record_exit(self, run: Run):
        if run.process is None:
            if 'done' not in run.summary and 'error' not in run.summary:
                self._mark_failed(run, None, self._unobserved_end(run))
            return
        code = run.process.returncode
        if 'done' not in run.summary and run.stop_requested_at and code == -signal.SIGTERM:
            # Stopped while starting up, before its own SIGTERM handler was in place:
            # stopped as asked, with nothing to keep.
            EventLog(run.folder).emit('done', iteration=run.summary.get('iteration', 0), stopped=True, model=None)
            write_json(run.folder / 'exit.json', {'exit_code': code, 'stderr_tail': ''})
        elif code != 0 or 'done' not in run.summary:
            self._mark_failed(run, code)
        else:
            write_json(run.folder / 'exit.json', {'exit_code': code, 'stderr_tail': ''})

    @staticmethod
    def _unobserved_end(run: Run) -> str:
        """What is known of a trainer this service followed but did not start (a command line's,
        or its own from before a restart) that ended without a final event: not its exit."""
        who = 'started from a command line' if run.origin == 'cli' else 'started before the worker service restarted'
        s = run.summary
        last = f'iteration {s["iteration"]}' if 'iteration' in s else 'no iteration'
        return (f'the trainer (pid {run.pid}, {who}) ended without a final event; the service followed it '
                f'from {_clock(run.attached_at)}, its last event was at {_clock(s.get("last_time"))} ({last}); '
                'how it ended (a signal, a crash) was not observed')

    def _start_queued(self) -> list[Run]:
        """Start queued runs, oldest first, while there are device slots for them: one run per
        GPU (a multi-GPU run takes several), or one at a time on the CPU."""
        started = []
        while self.queue and not self._closing:
            run = self.runs[self.queue[0]]
            want = 1 if self.cpu_only else run.request.get('gpus', 1)
            if len(self.free) < want:
                break
            slots = self.free[:want]
            self.queue.pop(0)
            self.free = [s for s in self.free if s not in slots]
            try:
                self._start(run, slots)
            except Exception as e:  # e.g. settings valid yesterday, texture deleted today
                self.free += slots
                EventLog(run.folder).emit('error', message=f'could not start: {e}')
                run.read_new_events()
            started.append(run)
        return started
