"""Texture synthesis: samples per second by size, and peak memory, untiled and in bands.

    .venv/bin/python bench/synthesis_speed.py --sizes 256,1024 --banded 4096 --budget_gb 1

Each figure is measured in a fresh process (peak RSS is the process's own), with a randomly
initialised 6-scale generator (speed does not depend on the weights), through worker.synthesize's
own render(): untiled when the sample fits the budget, else in bands of rows.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def measure(size: int, repeats: int, budget_gb: float | None, device: str) -> dict:
    sys.path.insert(0, str(REPO))
    import torch
    from models.synthesis import SynthesisGenerator, seeded_noise
    from worker.synthesize import render
    torch.manual_seed(0)
    g = SynthesisGenerator().eval().to(device)
    budget = int(budget_gb * 2**30) if budget_gb else 1 << 62
    render(g, seeded_noise(g, [0], 64, 64), budget)  # warm up
    times = []
    for seed in range(repeats):
        noises = seeded_noise(g, [seed], size, size)
        t = time.perf_counter()
        render(g, noises, budget)
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    best = min(times)
    return dict(size=size, device=device, banded=budget_gb is not None, ms=round(best * 1000, 1),
                samples_per_s=round(1 / best, 2), peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--sizes', default='256,1024', help='untiled sizes (px, square)')
    p.add_argument('--banded', default='4096', help='sizes rendered within --budget_gb, in bands')
    p.add_argument('--budget_gb', type=float, default=1.0)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', default='cpu')
    p.add_argument('--one', help=argparse.SUPPRESS)  # size:budget, measured in this process
    a = p.parse_args()
    if a.one:
        size, budget = a.one.split(':')
        print(json.dumps(measure(int(size), a.repeats, float(budget) if budget else None, a.device)))
        return
    jobs = [(int(s), '') for s in a.sizes.split(',') if s] + [(int(s), str(a.budget_gb)) for s in a.banded.split(',') if s]
    print(f'{"size":>6} {"rendering":>18} {"ms":>9} {"samples/s":>9} {"peak MB":>8}')
    for size, budget in jobs:
        out = subprocess.run([sys.executable, __file__, '--one', f'{size}:{budget}', '--repeats',
                              str(a.repeats if size <= 1024 else 1), '--device', a.device],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        how = f'bands, {budget} GB budget' if budget else 'untiled'
        print(f'{size:6d} {how:>18} {r["ms"]:9.1f} {r["samples_per_s"]:9.2f} {r["peak_mb"]:8d}', flush=True)


if __name__ == '__main__':
    main()
