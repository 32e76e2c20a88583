"""Reuse freed memory for the next big tensor instead of handing it back to the OS (glibc).

glibc gives every freed block above its mmap threshold (a few MB, adjusted as it goes, 32 MB at
most) straight back to the OS, and maps fresh pages for the next one, which the kernel then zeroes
one 4 kB page at a time as they are first touched. A forward at 1024 px allocates and frees maps of
8 to 170 MB dozens of times: on a CPU that page faulting was half of the generator's time and half
of the peer's (BENCHMARKS.md). With both thresholds at their largest, such blocks come from and
return to the heap.

The price is fragmentation: a heap that keeps what it frees can need more memory at its peak. So a
stylization holds the setting only while it runs (`reusing_freed_memory`), and a tiled render, which
must stay within its budget, runs without it; the trainer, whose every step allocates the same
tensors, keeps it for good (`reuse_freed_memory`). The settings are process-wide: two overlapping
stylizations in one process can end each other's, which costs speed, never results.
"""
from __future__ import annotations

import ctypes
import sys
from contextlib import contextmanager

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_LARGEST = 2**31 - 1  # mallopt takes an int
# Where glibc's own dynamic thresholds end up: mmap at its 32 MB ceiling, trim at twice that.
_USUAL_MMAP, _USUAL_TRIM = 32 * 2**20, 64 * 2**20


def _libc():
    if not sys.platform.startswith('linux'):
        return None
    libc = ctypes.CDLL(None)  # the C library this process already runs on
    return libc if hasattr(libc, 'mallopt') and hasattr(libc, 'malloc_trim') else None


def _set(mmap: int, trim: int) -> bool:
    libc = _libc()
    return bool(libc and libc.mallopt(_M_MMAP_THRESHOLD, mmap) and libc.mallopt(_M_TRIM_THRESHOLD, trim))


def reuse_freed_memory() -> bool:
    """For the rest of the process; False where the C library is not glibc or refuses."""
    return _set(_LARGEST, _LARGEST)


@contextmanager
def reusing_freed_memory():
    """For the duration of a block; then the usual thresholds, and the heap's free memory back to the OS."""
    reuse_freed_memory()
    try:
        yield
    finally:
        if _set(_USUAL_MMAP, _USUAL_TRIM):
            _libc().malloc_trim(0)
