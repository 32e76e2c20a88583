"""One run folder, read: what its record says (RunInfo), however the folder was made.

The trainer writes the record (config.json, events.jsonl, checkpoints, previews, model.pth); a
RunInfo is one fold over its events (`Run._note`), the same for a run followed live and one read
from a finished log, plus the few files beside it (README: The run folder). A run folder that
cannot be read is a RunInfo too, saying why.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

from ..checkpoint import checkpoints_by_iteration
from ..config import DEFAULTS, REQUEST, RUN_FLAGS
from ..errors import NotFound
from ..events import FILENAME as EVENTS
from ..protocol import RUN_ID, STATE

# A folder under the runs directory is a run if it holds one of these. A trainer writes its
# config.json after its claim (trainer.lock) and the pictures the list shows.
RUN_MARKS = (REQUEST, 'config.json', EVENTS)
SWEEP = 'sweep.json'  # a sweep CLI's folder (worker/sweep.py): its runs are inside it

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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a recycled pid is not our trainer
        return b'worker.train' in Path(f'/proc/{pid}/cmdline').read_bytes()
    except OSError:
        return True


def is_run_folder(folder: Path) -> bool:
    return folder.is_dir() and any((folder / mark).exists() for mark in RUN_MARKS)


def find_runs(runs_dir: Path) -> dict[str, tuple[Path, dict | None]]:
    """Every run folder under runs_dir, by id: (folder, sweep). A folder's id is its name; the
    runs of a sweep CLI's folder (its sweep.json) are listed as `<sweep folder>.<run folder>`,
    with their sweep as the web app's sweeps have it (RunInfo `sweep`)."""
    found = {}
    for folder in sorted(runs_dir.iterdir()):
        if RUN_ID.match(folder.name) and is_run_folder(folder):
            found[folder.name] = (folder, None)
        elif RUN_ID.match(folder.name) and (folder / SWEEP).is_file():
            found.update(_sweep_runs(folder))
    return found


def _sweep_runs(folder: Path) -> dict:
    try:
        record = json.loads((folder / SWEEP).read_text())
        keys = {k: record[k] for k in ('name', 'setting', 'values')}
        runs = [(r['folder'], r['value']) for r in record['runs']]
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # being written, or not ours: the next look reads it again
    found = {}
    for index, (name, value) in enumerate(runs):
        run_id = f'{folder.name}.{re.sub(r"[^A-Za-z0-9._-]", "-", str(name))}'
        if RUN_ID.match(run_id) and is_run_folder(folder / str(name)):
            found[run_id] = (folder / str(name), {'id': folder.name, **keys, 'value': value, 'index': index})
    return found


def clock(t) -> str:
    return datetime.fromtimestamp(t).strftime('%H:%M:%S') if t else 'an unknown time'


class Run:
    """One run folder, and its trainer process while there is one."""

    def __init__(self, folder: Path, run_id: str | None = None, sweep: dict | None = None):
        self.folder = folder
        self.id = run_id or folder.name
        self.sweep = sweep  # a sweep CLI's run: its sweep (find_runs)
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None
        self.attached_at: float | None = None  # when this service began following a trainer it did not start
        self.slots: list = []
        self.stop_requested_at: float | None = None
        self.progress_sent = 0.0  # monotonic time of the last RunInfo sent for this run
        self.inode = None  # of the events.jsonl read: a resume replaces the file
        self.replaced = False  # the log was replaced, and clients still hold the old one's seqs
        self.offset = 0   # bytes of events.jsonl already relayed
        self.seq = 0      # lines of events.jsonl already relayed
        self.summary = {}
        self._files = {}  # name -> (stat key, parsed JSON): see _json
        self.read_new_events()  # what the record already holds; later lines are relayed live

    def _json(self, name: str):
        """A JSON file of the folder, parsed: the value, None if absent, or the OSError/ValueError
        that reading it raised. Read again only when the file changed (RunInfos are made up to
        once a second per run, and each needs request.json, config.json and meta.json)."""
        path = self.folder / name
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as e:
            return e
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._files.get(name)
        if cached and cached[0] == key:
            return cached[1]
        try:
            value = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            value = e
        self._files[name] = (key, value)
        return value

    def _dict(self, name: str) -> dict:
        value = self._json(name)
        return value if isinstance(value, dict) else {}

    @property
    def request(self) -> dict:
        return self._dict(REQUEST)

    @property
    def origin(self) -> str:
        """'app' for a run this (or an earlier) service started, 'cli' for one trained from a command line."""
        return 'app' if (self.folder / REQUEST).exists() else 'cli'

    def _recorded_config(self) -> dict:
        return self._dict('config.json')

    @property
    def config(self) -> dict:
        """The settings asked for: the request's, or a command-line run's config.json without what
        the trainer derived and where it wrote."""
        if self.origin == 'app':
            return self.request.get('config', {})
        return {k: v for k, v in self._recorded_config().items() if k not in ('derived', *RUN_FLAGS)}

    @property
    def texture_path(self) -> str | None:
        return self.request.get('texture_path') or (self._recorded_config().get('derived') or {}).get('texture_path') \
            or self.config.get('texture')

    def problem(self) -> str | None:
        """Why this folder cannot be read as a run, or None."""
        for name in (REQUEST, 'config.json'):
            data = self._json(name)
            if isinstance(data, (OSError, ValueError)):
                why = f'its {name} cannot be read ({data})'
            elif data is not None and not isinstance(data, dict):
                why = f'its {name} is not a JSON object'
            else:
                continue
            return (f'{why}; the other files are untouched: mend {name} (a JSON object) or copy it from where '
                    'the run was made, or delete the folder')
        if not os.access(self.folder / EVENTS, os.R_OK) and (self.folder / EVENTS).exists():
            return f'its {EVENTS} cannot be read (permission denied)'
        return None

    def silent_end(self) -> str:
        """Why a run with no final event and no trainer ended, from what its record says."""
        summary = self.summary
        if 'iteration' not in summary:
            where = 'before its first iteration'
        else:
            where = f'after iteration {summary["iteration"]} (its last event, at {clock(summary.get("last_time"))})'
        message = f'its trainer stopped writing {where} without a final event: it was killed or crashed'
        if self.origin == 'cli':
            message += ', or it trains on another machine'
        if summary.get('checkpoints'):
            message += f'; its last checkpoint (iteration {summary["checkpoints"][-1]["iteration"]}) is usable'
        return message

    @property
    def name(self) -> str | None:
        """The name a user gave the run (meta.json), else None."""
        name = self._dict('meta.json').get('name')
        return name if isinstance(name, str) and name else None

    def _note(self, event: dict):
        t = event['type']
        summary = self.summary
        summary['last_time'] = event.get('time')
        summary.setdefault('first_time', event.get('time'))
        if t == 'iteration':
            summary['iteration'] = event['iteration']
            # stylize: style, content, total; synthesis: style, diversity, distance, total
            summary['losses'] = {k: event[k] for k in ('style', 'content', 'diversity', 'distance', 'total') if k in event}
            summary['images_per_s'], summary['eta_s'] = event.get('images_per_s'), event.get('eta_s')
        elif t == 'start':
            # A run continued into this folder begins with its source's starts (run_dir names the
            # source): its time is counted from its own first start.
            if Path(str(event.get('run_dir') or self.folder)).name == self.folder.name:
                summary.setdefault('started', event['time'])
            summary['iterations'] = event['iterations']
            summary['device'] = event['device']
            summary.setdefault('calibration', {k: event.get(k) for k in ('style_scale', 'start_balance')})
        elif t == 'preview':
            summary['latest_preview'] = event['path']
        elif t == 'checkpoint':
            summary.setdefault('checkpoints', [])
            summary['checkpoints'] = [c for c in summary['checkpoints'] if c['iteration'] < event['iteration']]
            summary['checkpoints'].append({'iteration': event['iteration'], 'path': event['path']})
        elif t == 'done':
            summary['done'] = event
            summary['finished'] = event['time']
        elif t == 'error':
            summary['error'] = event['message']
            summary['finished'] = event['time']

    @property
    def trainer_pid(self) -> int | None:
        """Our child's pid, or that of a trainer re-attached after a service restart."""
        return self.process.pid if self.process else self.pid

    @property
    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.pid is not None and alive(self.pid)

    def state(self, queued: bool) -> str:
        if self.process is not None or self.pid is not None:  # until the monitor has seen it end
            return STATE.stopping if self.stop_requested_at else STATE.running
        if 'done' in self.summary:
            return STATE.stopped if self.summary['done'].get('stopped') else STATE.done
        if 'error' in self.summary or (self.folder / 'exit.json').exists():
            return STATE.failed
        return STATE.queued if queued else STATE.failed

    def info(self, queue: list) -> dict:
        rev = _next_rev()  # before reading the state: an info is never older than its rev
        exit_info = self._dict('exit.json')
        request, config = self.request, self.config
        summary = self.summary
        state, problem = self.state(self.id in queue), self.problem()
        error = summary.get('error')
        if problem:
            state, error = STATE.failed, f'This run folder cannot be read: {problem}.'
        elif state == STATE.failed and not error and not exit_info:
            error = self.silent_end()
        total = summary.get('iterations', config.get('iterations', DEFAULTS['iterations']))
        texture = str(config.get('texture') or '') or None
        return {
            'id': self.id, 'rev': rev, 'state': state, 'name': self.name, 'origin': self.origin,
            'created': request.get('created') or summary.get('first_time') or self._made(),
            'started': summary.get('started'), 'finished': summary.get('finished'),
            # a command line names the texture by its path: the stem is what a person calls it
            'texture': Path(texture).stem if texture and (self.origin == 'cli' or '/' in texture) else texture,
            'texture_image': 'previews/exemplar.png' if (self.folder / 'previews' / 'exemplar.png').exists() else None,
            'mode': config.get('mode', 'stylize'),
            'config': config, 'iteration': summary.get('iteration', 0),
            'iterations': total, 'device': summary.get('device'),
            **summary.get('calibration', {'style_scale': None, 'start_balance': None}),
            'losses': summary.get('losses'), 'images_per_s': summary.get('images_per_s'), 'eta_s': summary.get('eta_s'),
            'latest_preview': summary.get('latest_preview'),
            'checkpoints': [{**c, 'continue_to': continue_to(c['iteration'], total)}
                            for c in summary.get('checkpoints', [])],
            'model': 'model.pth' if (self.folder / 'model.pth').exists() else None,
            'model_iteration': self.model_iteration(),
            'error': error, 'exit_code': exit_info.get('exit_code'),
            'stderr_tail': exit_info.get('stderr_tail'),
            'queue_position': queue.index(self.id) + 1 if self.id in queue else None,
            'sweep': request.get('sweep') or self.sweep,
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

    def log_changed(self) -> bool:
        """Whether events.jsonl is another file, or longer, than what has been read of it."""
        try:
            st = (self.folder / EVENTS).stat()
        except OSError:
            return False
        return st.st_ino != self.inode or st.st_size > self.offset

    def read_new_events(self):
        """Complete lines appended to events.jsonl since the last call, as (seq, event). A log
        replaced by a new file (a --resume drops what followed its checkpoint) is read anew from
        its first line, and `replaced` says so until the monitor has told the clients."""
        path = self.folder / EVENTS
        try:
            with open(path, 'rb') as f:
                inode = os.fstat(f.fileno()).st_ino
                if inode != self.inode:
                    self.replaced = self.replaced or (self.inode is not None and self.seq > 0)
                    self.inode, self.offset, self.seq, self.summary = inode, 0, 0, {}
                f.seek(self.offset)
                data = f.read()
        except OSError:  # none yet, or unreadable: problem() says which
            return []
        end = data.rfind(b'\n') + 1  # a line still being written waits for the next look
        out = []
        for line in data[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # as read_events does, so history and live seq numbers agree
            self.seq += 1
            try:
                self._note(event)
            except (KeyError, TypeError, AttributeError):
                pass  # not an event of ours (a folder copied in, edited by hand): relayed, not folded
            out.append((self.seq, event))
        self.offset += end
        return out
