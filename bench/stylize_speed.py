"""Stylize speed: milliseconds per image at 256, 512, 1024 px (the generator alone, inference).

    .venv/bin/python bench/stylize_speed.py [--device all|cpu|cuda]
"""
import argparse
import time

import torch

from common import devices, peak_mb, reset_peak, sync, table
from models.generator import Generator


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--device', default='all')
    p.add_argument('--sizes', default='256,512,1024')
    a = p.parse_args()
    rows = []
    for device in devices(a.device):
        g = Generator().eval().to(device)
        for size in map(int, a.sizes.split(',')):
            x = torch.rand(1, 3, size, size, device=device)
            reps = 3 if device == 'cpu' else 20
            with torch.inference_mode():
                g(x)
                sync(device)
                reset_peak(device)
                t = time.perf_counter()
                for _ in range(reps):
                    g(x)
                sync(device)
            rows.append((device, size, f'{(time.perf_counter() - t) / reps * 1000:.1f}', f'{peak_mb(device):.0f}'))
    table(('device', 'size', 'ms/image', 'peak MB'), rows)


if __name__ == '__main__':
    main()
