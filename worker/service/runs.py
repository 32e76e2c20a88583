"""The runs a worker service supervises, and the commands that change them.

A run is a folder under the runs directory, however it was made: by this service, by a command
line (`python -m worker.train`, the sweep CLI), or copied in from another machine
(`run_folder.py` reads one). The service adds to a folder only what its trainer cannot know
(README: The run folder), so a restarted service finds every run as it was, follows every
trainer still writing (trainer.lock), and lists folders that appear while it runs. Commands
(here) change runs; the monitor thread (`monitor.py`) follows the folders, relays their events
and starts queued runs when a device slot is free (`devices.py`: the queue and the slots;
`trainer_process.py`: a trainer's start and end).
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

from ..atomic import write_json
from ..checkpoint import checkpoints_by_iteration, promote
from ..config import DEFAULTS, REQUEST, check_sweep, in_bounds, validate
from ..data import DatasetError, resolve_data_dir, scan_folder
from ..errors import Conflict, NotFound, UsageError
from ..events import FILENAME as EVENTS, EventLog, read_events
from ..protocol import ACTIVE, STOP_TIMEOUT
from . import trainer_process
from .devices import Devices
from .monitor import Monitor
from .run_folder import Run, continue_to

log = logging.getLogger('tn.runs')
NAME_MAX = 80  # characters of a run's name (meta.json)


class RunManager:
    """The runs, by id, and the commands on them. `on_event(run, seq, event)`, `on_state(run_info)`
    and `on_reset(run_id)` (its log was replaced: seqs start again from 1) are called from the
    monitor thread, `on_deleted(run_id)` from the command's or the monitor's. Every look at
    `runs` and the queue holds `lock`."""

    def __init__(self, runs_dir, textures, on_event, on_state, on_deleted=lambda run_id: None, slots=None,
                 on_reset=lambda run_id: None):
        self.runs_dir = Path(runs_dir)
        self.textures = textures
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.on_event, self.on_state, self.on_deleted, self.on_reset = on_event, on_state, on_deleted, on_reset
        self.lock = threading.RLock()
        self.runs: dict[str, Run] = {}
        self.devices = Devices(slots)
        self.closing = False
        self.monitor = Monitor(self)
        self.monitor.load_existing()
        self.monitor.start()

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
        with self.lock:
            have = 0 if self.devices.cpu_only else self.devices.count(self.runs.values())
        if gpus > 1 and gpus > have:
            raise UsageError(f'{gpus} GPUs asked for; this machine has {have}')
        return config, gpus, texture

    def _queue_new(self, config: dict, gpus: int, texture: Path, **extra) -> dict:
        with self.lock:  # a folder half made is not found by the monitor
            folder = self._new_folder(config['texture'])
            write_json(folder / REQUEST, {
                'config': config, 'gpus': gpus, 'created': time.time(), 'texture_path': str(texture), **extra})
            return self._enqueue(folder)

    def continue_run(self, run_id: str, iteration=None, iterations=None) -> dict:
        """Queue a new run that starts from a checkpoint of an ended run (its latest by default)
        and trains on to `iterations` in all. The ended run stays exactly as it was."""
        source = self.get_run(run_id)
        with self.lock:
            state = source.state(run_id in self.devices.queue)
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
        with self.lock:  # a folder half made is not found by the monitor
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
            self.devices.queue.append(run.id)
            info = run.info(self.devices.queue)
        self.on_state(info)
        return info

    def delete(self, run_id: str):
        """Remove an ended run's folder (checkpoints, previews, model) from disk."""
        run = self.get_run(run_id)
        with self.lock:
            state = run.state(run_id in self.devices.queue)
            if state in ACTIVE:
                raise Conflict(f'run {run_id} is {state}: stop it before deleting it')
            waiting = [r.id for r in self.runs.values() if r.id in self.devices.queue or r.running
                       if r.request.get('resume_from', {}).get('run') == run_id]
            if waiting:
                raise Conflict(f'run {waiting[0]} continues from this run\'s checkpoint: '
                                 f'delete this one after that run has ended')
            del self.runs[run_id]
            # Out of the runs directory's names at once (a name the monitor skips), removed after.
            trash = run.folder.with_name(f'.deleting-{run_id}')
            run.folder.rename(trash)
        shutil.rmtree(trash)
        log.info('deleted run %s', run_id)
        self.on_deleted(run_id)

    def use_checkpoint(self, run_id: str, iteration) -> dict:
        """Make an ended run's checkpoint its model.pth (the previous model kept beside it)."""
        run = self.get_run(run_id)
        with self.lock:
            state = run.state(run_id in self.devices.queue)
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
            info = run.info(self.devices.queue)
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
            info = run.info(self.devices.queue)
        self.on_state(info)
        return info

    def stop(self, run_id: str) -> dict:
        run = self.get_run(run_id)
        with self.lock:
            if run_id in self.devices.queue:
                self.devices.queue.remove(run_id)
                EventLog(run.folder).emit('done', iteration=0, stopped=True, model=None)
                run.read_new_events()
            elif run.running and not run.stop_requested_at:
                run.stop_requested_at = time.time()
                os.kill(run.trainer_pid, signal.SIGTERM)
            info = run.info(self.devices.queue)
        self.on_state(info)
        return info

    def get_run(self, run_id: str) -> Run:
        with self.lock:
            if not isinstance(run_id, str) or run_id not in self.runs:
                raise NotFound(f'no run {run_id!r}')
            return self.runs[run_id]

    def info(self, run_id: str) -> dict:
        with self.lock:
            return self.get_run(run_id).info(self.devices.queue)

    def list(self) -> dict:
        with self.lock:
            return {'runs': [r.info(self.devices.queue) for r in self.runs.values()], 'queue': list(self.devices.queue)}

    def history(self, run_id: str, after: int = 0) -> list:
        run = self.get_run(run_id)
        with self.lock:  # the monitor cannot relay a line between our read and its own
            events = read_events(run.folder / EVENTS)[: run.seq]
        return [{'seq': i, 'event': e} for i, e in enumerate(events, 1) if i > after]

    def shutdown(self):
        """Stop every trainer gracefully (checkpoint + model), waiting up to STOP_TIMEOUT."""
        self.closing = True
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
