"""Helpers shared by the benchmarks: devices to measure, peak memory, a table printer."""
import resource
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def devices(arg: str):
    if arg == 'all':
        return ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])
    return [arg]


def reset_peak(device):
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_mb(device) -> float:
    """CUDA: peak allocated by torch. CPU: the process's peak resident set (it only grows)."""
    if device == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def table(headers, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda r: '  '.join(str(x).rjust(w) for x, w in zip(r, widths))
    print(line(headers))
    for r in rows:
        print(line(r))
