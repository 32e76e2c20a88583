"""The runs manager's thread: it follows every run folder under the runs directory. Each look
(every POLL seconds) relays the new events of the trainers being written, notices the ones that
ended and starts queued runs on the slots they freed; every DISCOVER_EVERY seconds it also looks
for folders made elsewhere (a command line, a copy), trainers that began writing a folder it knows
(a command-line --resume), and folders removed by hand."""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from .. import trainer_lock
from ..events import EventLog
from ..protocol import STOP_TIMEOUT
from . import trainer_process
from .run_folder import Run, alive, clock, find_runs

log = logging.getLogger('tn.runs')
POLL = 0.05  # seconds between looks at running trainers: the event latency floor
FACTS = ('start', 'checkpoint', 'done', 'error')  # events that change a RunInfo beyond its progress
# Seconds between two RunInfos a running run sends for its progress alone: what pages that list
# runs show between its facts (a dashboard follows the run's events themselves).
PROGRESS_EVERY = 1.0
DISCOVER_EVERY = 1.0  # seconds between looks for run folders made elsewhere, and trainers started elsewhere


class Monitor(threading.Thread):
    def __init__(self, manager):
        super().__init__(name='run-monitor', daemon=True)
        self.m = manager  # its runs, lock, devices and callbacks
        self.unloadable = set()  # ids of folders whose loading failed: not tried again every second
        self.discovered = 0.0

    def run(self):
        while not self.m.closing:
            try:
                self.tick()
                if time.monotonic() - self.discovered > DISCOVER_EVERY:
                    self.discover()
            except Exception:  # the monitor must outlive any one bad run folder
                log.exception('run monitor')
            time.sleep(POLL)

    # -- finding run folders -----------------------------------------------------------------

    def load_existing(self):
        for run_id, (folder, sweep) in find_runs(self.m.runs_dir).items():
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
        run = self.m.runs[run_id] = Run(folder, run_id, sweep)
        finished = 'done' in run.summary or 'error' in run.summary or (folder / 'exit.json').exists()
        if run.origin == 'cli':
            self._attach(run, trainer_lock.holder(folder))
            return run
        pid = _service_child(folder)
        if pid and not finished and alive(pid):
            self._attach(run, pid)  # a trainer that outlived the previous service: follow it again
            self.m.devices.hold(run, run.request.get('slots', []))
        elif (folder / 'trainer.pid').exists() and not finished:
            summary = run.summary
            trainer_process.mark_failed(run, None, f'the trainer ended while the worker service was down; its last '
                                        f'event was at {clock(summary.get("last_time"))} '
                                        f'(iteration {summary.get("iteration", 0)})')
        elif not finished:
            self.m.devices.queue.append(run.id)  # asked for, never started: it waits its turn again
        return run

    def _attach(self, run: Run, pid: int | None):
        if not pid:
            return
        run.pid, run.attached_at = pid, time.time()
        if run.origin == 'cli':  # its device is taken while it trains: queued runs wait for it
            self.m.devices.hold(run, trainer_process.devices_of(run, not self.m.devices.cpu_only))
        log.info('following run %s (%s trainer, pid %d%s)', run.id, 'its' if run.origin == 'app' else 'a command-line',
                 pid, f', on {",".join(run.slots)}' if run.slots else '')

    def discover(self):
        """Run folders made while the service runs (a command line, a copy), trainers that began
        writing a known folder (a command-line --resume), and folders removed by hand."""
        self.discovered = time.monotonic()
        found = find_runs(self.m.runs_dir)
        changed, gone = [], []
        with self.m.lock:
            queue = self.m.devices.queue
            for name, (folder, sweep) in found.items():
                run = self.m.runs.get(name)
                if run is None:
                    run = self._try_load(name, folder, sweep)
                    changed += [run] if run else []
                elif run.process is None and run.pid is None and name not in queue:
                    pid = trainer_lock.holder(folder)
                    if pid:  # a trainer began writing it (a command-line --resume): the ticks relay it
                        self._attach(run, pid)
                        changed.append(run)
                    elif run.log_changed() and self._relay(run):
                        changed.append(run)  # written while no one held it: a copy, a resume too short to see
            for name in [n for n, r in self.m.runs.items() if n not in found]:
                run = self.m.runs[name]
                if run.process is None and run.pid is None and name not in queue:
                    del self.m.runs[name]
                    gone.append(name)
            for run in changed:  # its progress is in this info too: the next one for progress waits
                run.progress_sent = time.monotonic()
            infos = [run.info(queue) for run in changed]
        for info in infos:
            self.m.on_state(info)
        for name in gone:
            self.m.on_deleted(name)

    # -- following trainers ------------------------------------------------------------------

    def tick(self):
        with self.m.lock:
            news, ended = [], []
            for run in self.m.runs.values():
                if run.process is None and run.pid is None:
                    continue
                if self._relay(run):
                    news.append(run)
                if run.running:
                    _kill_if_overdue(run)
                else:
                    self._reap(run)
                    ended.append(run)
            started = self._start_queued()
            changed = dict.fromkeys(news + ended + started)  # in order, once each
            queue = self.m.devices.queue
            if ended or started:  # the queue moved
                changed.update(dict.fromkeys(self.m.runs[q] for q in queue))
            infos = [run.info(queue) for run in changed]
        for info in infos:
            self.m.on_state(info)

    def _relay(self, run: Run) -> bool:
        """Relay a trainer's new events; True if the run's RunInfo is due: one changed its facts,
        or its progress moved and none was sent for PROGRESS_EVERY seconds."""
        facts = progress = False
        events = run.read_new_events()
        if run.replaced:  # what clients hold is another file's: they read this one from its start
            run.replaced = False
            self.m.on_reset(run.id)
            facts = True
        for seq, event in events:
            self.m.on_event(run.id, seq, event)
            facts |= event['type'] in FACTS
            progress |= event['type'] == 'iteration'
        now = time.monotonic()
        if facts or progress and now - run.progress_sent >= PROGRESS_EVERY:
            run.progress_sent = now
            return True
        return False

    def _reap(self, run: Run):
        """A trainer has ended: record how, relay its last events, free its device slots."""
        self._relay(run)  # its last words first: a final event written as it exited
        trainer_process.record_exit(run)
        self._relay(run)
        self.m.devices.release(run)
        run.process, run.pid, run.stop_requested_at = None, None, None

    def _start_queued(self) -> list[Run]:
        """Start queued runs, oldest first, while there are device slots for them."""
        started = []
        while not self.m.closing and (run := self.m.devices.next_to_start(self.m.runs)):
            try:
                trainer_process.start(run, run.slots)
            except Exception as e:  # e.g. settings valid yesterday, texture deleted today
                self.m.devices.release(run)
                EventLog(run.folder).emit('error', message=f'could not start: {e}')
                run.read_new_events()
            started.append(run)
        return started


def _service_child(folder: Path) -> int | None:
    """The pid of the trainer an earlier service started in this folder (trainer.pid)."""
    try:
        return int((folder / 'trainer.pid').read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _kill_if_overdue(run: Run):
    if run.stop_requested_at and time.time() - run.stop_requested_at > STOP_TIMEOUT:
        log.warning('run %s did not stop in %ss: killing it', run.id, STOP_TIMEOUT)
        trainer_process.kill(run)
