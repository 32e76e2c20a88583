"""The recipe, measured: does a short run learn the texture, at which balance and learning rate?

For each texture x balance x lr, the trainer CLI trains the quick CPU preset (64 px, batch 2,
300 iterations, the built-in sample photos) and the signals of a learnt style are measured on
its held-out photos (worker/style_signals.py: style = output's style loss / photo's, lower is
more style; colour = how far the colours moved toward the texture's, 0 to 1; change = mean
|output - photo|). Random VGG weights by default: the only ones every machine here has.

    .venv/bin/python bench/recipe.py [--textures starry_swirls,stained_glass] [--balances 0.5,2,6]
                                     [--lrs 1e-3,1e-2] [--iterations 300] [--vgg_weights random] [--keep DIR]
"""
import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import table
from worker.style_signals import style_signals
from worker.events import read_events

REPO = Path(__file__).resolve().parents[1]


def train(out, texture, balance, lr, a):
    strength = ['--style_scale', '1'] if balance == 'raw' else ['--balance', balance]
    cmd = [sys.executable, '-m', 'worker.train', '--data_dir', 'sample', '--texture', texture, '--out', out,
           '--image_size', 64, '--batch_size', 2, '--iterations', a.iterations, '--style_size', 256, '--lr', lr,
           '--vgg_weights', a.vgg_weights, '--workers', 0, '--checkpoint_every', a.iterations, *strength]
    subprocess.run(list(map(str, cmd)), cwd=REPO, check=True, capture_output=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--textures', default='starry_swirls,stained_glass,craquelure')
    p.add_argument('--balances', default='raw,0.5,2,6', help='raw: --style_scale 1 (no calibration)')
    p.add_argument('--lrs', default='1e-3,1e-2')
    p.add_argument('--iterations', type=int, default=300)
    p.add_argument('--vgg_weights', default='random')
    p.add_argument('--keep', help='keep the run folders here (to look at their previews)')
    a = p.parse_args()
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='recipe-'))
    rows = []
    for texture, balance, lr in itertools.product(a.textures.split(','), a.balances.split(','), a.lrs.split(',')):
        out = root / f'{texture}-b{balance}-lr{lr}'
        t = time.perf_counter()
        train(out, texture, balance, lr, a)
        signals, *_ = style_signals(out)
        start = next(e for e in read_events(out / 'events.jsonl') if e['type'] == 'start')
        rows.append((texture, balance, lr, f'{start["start_balance"]:.2g}', f'{signals["style"]:.3f}',
                     f'{signals["colour"]:.2f}', f'{signals["change"]:.3f}', f'{time.perf_counter() - t:.0f}'))
        print(*rows[-1], flush=True)
    print(f'quick preset ({a.iterations} iterations), {a.vgg_weights} VGG, runs in {root}')
    table(('texture', 'balance', 'lr', 'start ratio', 'style', 'colour', 'change', 's'), rows)


if __name__ == '__main__':
    main()
