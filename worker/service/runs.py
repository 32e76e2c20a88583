"""The runs a worker service supervises: their folders, a queue, and device slots for trainers.

A run is a folder under the runs directory, however it was made: by this service, by a command
line (`python -m worker.train`, the sweep CLI), or copied in from another machine
(`run_folder.py` reads one). The service adds to a folder only what its trainer cannot know
(README: The run folder), so a restarted service finds every run as it was, follows every
trainer still writing (trainer.lock), and lists folders that appear while it runs. Commands
change runs; a monitor thread starts queued runs when a device slot is free
(`trainer_process.py` starts them and records how they end) and relays their events. A
command-line trainer it follows holds its device slot too, until it ends.
"""
from __future__ import annotations

import logging
import re
import secrets
import os
import shutil
import signal
import threading
import time
from datetime import datetime
from pathlib import Path

from .. import trainer_lock
from ..atomic import write_json
from ..checkpoint import checkpoints_by_iteration, promote
from ..config import DEFAULTS, REQUEST, check_sweep, in_bounds, validate
from ..data import DatasetError, resolve_data_dir, scan_folder
from ..errors import Conflict, NotFound, UsageError
from ..events import FILENAME as EVENTS, EventLog, read_events
from ..protocol import ACTIVE, STOP_TIMEOUT
from . import trainer_process
from .run_folder import Run, alive, clock, continue_to, find_runs

log = logging.getLogger('tn.runs')
POLL = 0.05  # seconds between looks at running trainers: the event latency floor
NAME_MAX = 80  # characters of a run's name (meta.json)
FACTS = ('start', 'checkpoint', 'done', 'error')  # events that change a RunInfo beyond its progress
# Seconds between two RunInfos a running run sends for its progress alone: what pages that list
# runs show between its facts (a dashboard follows the run's events themselves).
PROGRESS_EVERY = 1.0
DISCOVER_EVERY = 1.0  # seconds between looks for run folders made elsewhere, and trainers started elsewhere


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
        self.unloadable = set()  # ids of folders whose loading failed: not tried again every second
        self._load_existing()
        self.thread = threading.Thread(target=self._monitor, name='run-monitor', daemon=True)
        self.thread.start()

    @staticmethod
    def _device_slots():
        import torch
        return [str(i) for i in range(torch.cuda.device_count())] or ['cpu']

    # -- what is on disk --------------------------------------------------------------------

    def _load_existing(self):
        for run_id, (folder, sweep) in find_runs(self.runs_dir).items():
            self._try_load(run_id, folder, sweep)
        self.discovered = time.monotonic()

    def _try_load(self, run_id: str, folder: Path, sweep: dict | None = None) -> Run | None:
        if run_id in self.unloadable:
            return None
        try:
            return self._load(run_id, folder, sweep)
        except Exception:  # one odd folder must not hide the others, nor stop the service
            log.exception('run folder %s could not be loaded; it is left out until the service restarts', folder)
            self.unloadable.add(run_id)
            return None

    def _load(self, run_id: str, folder: Path, sweep: dict | None = None) -> Run:
        """A run folder found on disk: its record read, its trainer followed if one is writing."""
        run = self.runs[run_id] = Run(folder, run_id, sweep)
        finished = 'done' in run.summary or 'error' in run.summary or (folder / 'exit.json').exists()
        if run.origin == 'cli':
            self._attach(run, trainer_lock.holder(folder))
            return run
        pid = self._service_child(folder)
        if pid and not finished and alive(pid):
            self._attach(run, pid)  # a trainer that outlived the previous service: follow it again
            run.slots = run.request.get('slots', [])
            self.free = [s for s in self.free if s not in run.slots]
        elif (folder / 'trainer.pid').exists() and not finished:
            summary = run.summary
            trainer_process.mark_failed(run, None, f'the trainer ended while the worker service was down; its last event was '
                                         f'at {clock(summary.get("last_time"))} (iteration {summary.get("iteration", 0)})')
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
        if not pid:
            return
        run.pid, run.attached_at = pid, time.time()
        if run.origin == 'cli':  # its device is taken while it trains: queued runs wait for it
            run.slots = [s for s in trainer_process.devices_of(run, not self.cpu_only) if s in self.free]
            self.free = [s for s in self.free if s not in run.slots]
        log.info('following run %s (%s trainer, pid %d%s)', run.id, 'its' if run.origin == 'app' else 'a command-line',
                 pid, f', on {",".join(run.slots)}' if run.slots else '')

    def _discover(self):
        """Run folders made while the service runs (a command line, a copy), trainers that began
        writing a known folder (a command-line --resume), and folders removed by hand."""
        self.discovered = time.monotonic()
        found = find_runs(self.runs_dir)
        changed, gone = [], []
        with self.lock:
            for name, (folder, sweep) in found.items():
                run = self.runs.get(name)
                if run is None:
                    run = self._try_load(name, folder, sweep)
                    changed += [run] if run else []
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
            for run in changed:  # its progress is in this info too: the next one for progress waits
                run.progress_sent = time.monotonic()
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
        # a web sweep's id; a CLI sweep is named by its folder
        sweep_id = f'{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}'
        sweep = {'id': sweep_id, 'name': name, 'setting': key, 'values': values}
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
        validate({**config, 'texture': str(texture)})
        if gpus > 1 and (self.cpu_only or gpus > len(self._all_slots())):
            raise UsageError(f'{gpus} GPUs asked for; this machine has '
                             f'{0 if self.cpu_only else len(self._all_slots())}')
        return config, gpus, texture

    def _queue_new(self, config: dict, gpus: int, texture: Path, **extra) -> dict:
        with self.lock:  # a folder half made is not found by _discover
            folder = self._new_folder(config['texture'])
            write_json(folder / REQUEST, {
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
        in_bounds('iterations', iterations)  # the rest is the checkpoint's, read once: by its trainer
        resume_from = {'run': run_id, 'iteration': iteration, 'checkpoint': str(checkpoints[iteration])}
        with self.lock:  # a folder half made is not found by _discover
            folder = self._new_folder(config.get('texture', 'texture'))
            write_json(folder / REQUEST, {
                'gpus': source.request.get('gpus', 1), 'texture_path': source.texture_path,
                'config': {**config, 'iterations': iterations}, 'created': time.time(),
                'resume_from': resume_from})
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
                trainer_process.kill(run)

    # -- the monitor ------------------------------------------------------------------------

    def _all_slots(self):
        with self.lock:
            return self.free + [s for r in self.runs.values() if r.running for s in r.slots]

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
        """Relay a trainer's new events; True if the run's RunInfo is due: one changed its facts,
        or its progress moved and none was sent for PROGRESS_EVERY seconds."""
        facts = progress = False
        for seq, event in run.read_new_events():
            self.on_event(run.id, seq, event)
            facts |= event['type'] in FACTS
            progress |= event['type'] == 'iteration'
        now = time.monotonic()
        if facts or progress and now - run.progress_sent >= PROGRESS_EVERY:
            run.progress_sent = now
            return True
        return False

    def _kill_if_overdue(self, run: Run):
        if run.stop_requested_at and time.time() - run.stop_requested_at > STOP_TIMEOUT:
            log.warning('run %s did not stop in %ss: killing it', run.id, STOP_TIMEOUT)
            trainer_process.kill(run)

    def _reap(self, run: Run):
        """A trainer has ended: record how, relay its last events, free its device slots."""
        self._relay(run)  # its last words first: a final event written as it exited
        trainer_process.record_exit(run)
        self._relay(run)
        self.free += run.slots
        run.process, run.pid, run.slots, run.stop_requested_at = None, None, [], None

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
                trainer_process.start(run, slots)
            except Exception as e:  # e.g. settings valid yesterday, texture deleted today
                self.free += slots
                EventLog(run.folder).emit('error', message=f'could not start: {e}')
                run.read_new_events()
            started.append(run)
        return started
