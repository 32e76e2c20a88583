"""`trainer.lock` in a run folder: a trainer's claim on the folder while it writes to it.

The trainer (rank 0) holds a POSIX lock on the file for as long as it lives, and writes its pid
into it. The kernel drops the lock when the process dies, however it dies (kill -9 included),
so "the lock is held" means "a trainer is writing this folder now" for every reader: a second
trainer given the same --out, and the worker service, which follows any run folder whose lock
is held, whether it started the trainer or a command line did.

POSIX locks (lockf), not flock: they are not inherited by forked DataLoader workers, which
would keep a dead trainer's claim alive, and they belong to the process, not to one descriptor.
A test of the lock takes it for a moment: the trainer retries its own claim briefly for that.
"""
from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from .errors import RunFolderTaken

FILENAME = 'trainer.lock'
_held: dict[str, int] = {}  # run folder -> descriptor: kept open (and locked) until the process ends


def claim(run_dir) -> None:
    """Lock `run_dir` for this process, or raise RunFolderTaken naming the trainer that holds it."""
    run_dir = Path(run_dir)
    key = str(run_dir.resolve())
    if key in _held:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / FILENAME, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + 1.0  # a reader's test holds the lock for microseconds
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if time.monotonic() > deadline:
                os.close(fd)
                pid = holder(run_dir)
                raise RunFolderTaken(
                    f'another trainer{f" (pid {pid})" if pid else ""} is writing to {run_dir}: wait for it '
                    'to end, or stop it (Ctrl-C in its terminal, or Stop in the web app), or give another --out')
            time.sleep(0.02)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f'{os.getpid()}\n'.encode(), 0)
    _held[key] = fd


def holder(run_dir) -> int | None:
    """The pid of the trainer writing `run_dir` now, or None when no trainer holds it."""
    key = str(Path(run_dir).resolve())
    if key in _held:  # ours: testing it here would give up our own lock
        return os.getpid()
    try:
        fd = os.open(Path(run_dir) / FILENAME, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held by a live trainer, which writes its pid just after locking
            for _ in range(50):
                try:
                    return int(os.pread(fd, 32, 0).split()[0])
                except (ValueError, IndexError):
                    time.sleep(0.02)
            return None  # locked, but by nothing that wrote a pid: not a trainer of ours
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)  # drops this process's test lock too (POSIX locks are per process and file)
