"""Stylize in bounded memory: seconds and peak RSS of `python -m worker.stylize` on camera-sized
photos, tiled (models.tiled) under a memory budget, and untiled where that fits, each in its own
process (a random-init generator: speed and memory do not depend on the weights).

    .venv/bin/python bench/stylize_memory.py [--sizes 2000x1500,6000x4000] [--budget_gb 2.5] [--untiled 2000x1500]
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from common import table
from models.generator import Generator
from worker.checkpoint import model_record, save

REPO = Path(__file__).resolve().parents[1]
CODE = ('import sys\nfrom worker.stylize import main\nrc = main(sys.argv[1:])\n'
        'print("peak", next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM")))\n'
        'sys.exit(rc)\n')


def photo(path, width, height):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(x / 300), 128 + 100 * np.cos(y / 200), 128 + 60 * np.sin((x + y) / 500)], -1)
    Image.fromarray(rgb.astype(np.uint8)).save(path, quality=90)


def run(model, image, out, budget_gb):
    t = time.perf_counter()
    r = subprocess.run([sys.executable, '-c', CODE, '--model', model, '--input', image, '--output', out,
                        '--max_memory_gb', str(budget_gb), '--device', 'cpu'],
                       cwd=REPO, capture_output=True, text=True, check=True)
    return time.perf_counter() - t, int(r.stdout.split('peak')[1]) / 2**30, 'tiles' in r.stderr


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--sizes', default='2000x1500,6000x4000')
    p.add_argument('--budget_gb', type=float, default=2.5)
    p.add_argument('--untiled', default='2000x1500', help='sizes also run with an unlimited budget')
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        save(model_record(Generator(), 0, {}), tmp / 'model.pth')
        for size in a.sizes.split(','):
            w, h = map(int, size.split('x'))
            photo(tmp / 'in.jpg', w, h)
            budgets = [a.budget_gb] + ([1000] if size in a.untiled.split(',') else [])
            for budget in budgets:
                seconds, peak, tiled = run(tmp / 'model.pth', tmp / 'in.jpg', tmp / 'out.jpg', budget)
                rows.append((size, f'{w * h / 1e6:.0f}', f'{budget:g}' if budget < 1000 else 'none',
                             'tiled' if tiled else 'untiled', f'{seconds:.0f}', f'{peak:.2f}'))
                print(*rows[-1], flush=True)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, CPU')
    table(('size', 'MP', 'budget GB', 'how', 's (whole process)', 'peak RSS GB'), rows)


if __name__ == '__main__':
    main()
