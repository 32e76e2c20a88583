"""A run's trainer process, as the worker service sees it: started from its run folder, alive,
killed, and how it ended, recorded in the folder (exit.json, an error event) so that a restarted
service, and a person reading the folder, know it too."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from .. import REPO
from ..atomic import write_json
from ..config import REQUEST
from ..events import EventLog
from .run_folder import Run, clock

log = logging.getLogger('tn.runs')


def kill(run: Run):
    """SIGKILL a trainer that did not stop: ours with its DataLoader workers (its own session,
    see _start); a command line's alone (its process group is its terminal's job)."""
    if run.origin == 'app':
        os.killpg(run.trainer_pid, signal.SIGKILL)
    else:
        os.kill(run.trainer_pid, signal.SIGKILL)


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f'was killed by signal {-code} ({signal.Signals(-code).name})'
        except ValueError:
            return f'was killed by signal {-code}'
    return f'exited with code {code}'


def devices_of(run: Run, gpus: bool) -> list[str]:
    """The device slots a trainer the service did not start trains on, so the queue does not
    start another there: the CPU on a machine without GPUs; beside GPUs, none for a CPU run, else
    the first GPU its CUDA_VISIBLE_DEVICES names (GPU 0 when unset, as torch picks). Only the
    trainer holding the folder's lock is seen: a torchrun's other ranks are not counted."""
    if not gpus:
        return ['cpu']
    if run.config.get('device') == 'cpu':
        return []
    try:
        environ = (Path('/proc') / str(run.pid) / 'environ').read_bytes().split(b'\0')
    except OSError:  # gone already, or another user's
        environ = []
    visible = next((v[len(b'CUDA_VISIBLE_DEVICES='):].decode() for v in environ
                    if v.startswith(b'CUDA_VISIBLE_DEVICES=')), None)
    return [visible.split(',')[0].strip()] if visible else ['0']


def start(run: Run, slots: list):
    """Start a queued run's trainer on these device slots (GPU ids, or ['cpu'])."""
    request = run.request
    argv = ['--run', str(run.folder)]  # the trainer reads the request itself (config.from_request)
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
    write_json(run.folder / REQUEST, {**request, 'slots': slots})
    log.info('started run %s on %s (pid %d)', run.id, ','.join(slots), run.process.pid)


def record_exit(run: Run):
    """A trainer has ended: how, in its folder (exit.json; an error event if it said nothing)."""
    if run.process is None:
        if 'done' not in run.summary and 'error' not in run.summary:
            mark_failed(run, None, unobserved_end(run))
        return
    code = run.process.returncode
    if 'done' not in run.summary and run.stop_requested_at and code == -signal.SIGTERM:
        # Stopped while starting up, before its own SIGTERM handler was in place:
        # stopped as asked, with nothing to keep.
        EventLog(run.folder).emit('done', iteration=run.summary.get('iteration', 0), stopped=True, model=None)
        write_json(run.folder / 'exit.json', {'exit_code': code, 'stderr_tail': ''})
    elif code != 0 or 'done' not in run.summary:
        mark_failed(run, code)
    else:
        write_json(run.folder / 'exit.json', {'exit_code': code, 'stderr_tail': ''})


def mark_failed(run: Run, code, reason=None):
    try:
        lines = (run.folder / 'trainer.log').read_text(errors='replace').splitlines()
    except OSError:
        lines = []
    if run.origin == 'app':  # a command-line run's exit is its terminal's to tell
        write_json(run.folder / 'exit.json', {'exit_code': code, 'stderr_tail': '\n'.join(lines[-20:])})
    if 'done' not in run.summary and 'error' not in run.summary:
        message = reason or f'the trainer {describe_exit(code)} before finishing'
        if run.summary.get('checkpoints'):
            message += f'; its last checkpoint (iteration {run.summary["checkpoints"][-1]["iteration"]}) is usable'
        EventLog(run.folder).emit('error', message=message)


def unobserved_end(run: Run) -> str:
    """What is known of a trainer this service followed but did not start (a command line's,
    or its own from before a restart) that ended without a final event: not its exit."""
    who = 'started from a command line' if run.origin == 'cli' else 'started before the worker service restarted'
    summary = run.summary
    last = f'iteration {summary["iteration"]}' if 'iteration' in summary else 'no iteration'
    return (f'the trainer (pid {run.pid}, {who}) ended without a final event; the service followed it '
            f'from {clock(run.attached_at)}, its last event was at {clock(summary.get("last_time"))} ({last}); '
            'how it ended (a signal, a crash) was not observed')
