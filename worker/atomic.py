"""Atomic file writes: write to a temporary name in the same folder, fsync, then rename.

A reader (the service, a browser, a resumed run) sees either the old file or the whole new
one, never half of one, even when the process is killed or the disk fills mid-write.
"""
from __future__ import annotations

import errno
import json
import os
import tempfile

# What a write raises when there is no room: a full disk, a quota, a file size limit.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def atomic_write(path, write, mode: str = 'wb'):
    """Call `write(file)` on a temporary file, then rename it to `path`."""
    path = os.fspath(path)
    folder = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-', suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError) and e.filename is None:
            e.filename = path  # e.g. a full disk surfaces in write(), which names no file
        raise


def write_json(path, obj):
    atomic_write(path, lambda f: json.dump(obj, f, indent=2, sort_keys=True), mode='w')
