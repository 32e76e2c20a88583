"""CPU training: images/s of the trainer CLI by DataLoader workers and torch threads, to choose
the defaults. Each run is `python -m worker.train` on the built-in sample photos (random VGG),
read back from its events (the rate after the first iterations).

    .venv/bin/python bench/cpu_plan.py [--plans 1x1,0xN,1xN] [--size 128] [--batch 4] [--iterations 30]

A plan is WORKERSxTHREADS; N = every core; `auto` = the trainer's own choice.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import table

REPO = Path(__file__).resolve().parents[1]


def run(plan, a, out):
    workers, threads = plan.split('x') if plan != 'auto' else (None, None)
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    if threads:
        env['OMP_NUM_THREADS'] = str(os.cpu_count() if threads == 'N' else int(threads))
    cmd = [sys.executable, '-m', 'worker.train', '--data_dir', 'sample', '--texture', 'stained_glass', '--out', out,
           '--image_size', a.size, '--batch_size', a.batch, '--iterations', a.iterations, '--vgg_weights', 'random',
           '--device', 'cpu', '--checkpoint_every', 100000, '--preview_every', 100000]
    cmd += ['--workers', workers] if workers is not None else []
    subprocess.run(list(map(str, cmd)), cwd=REPO, env=env, check=True, capture_output=True)
    events = [json.loads(line) for line in open(Path(out) / 'events.jsonl')]
    config = json.load(open(Path(out) / 'config.json'))
    rates = [e['images_per_s'] for e in events if e['type'] == 'iteration' and e['images_per_s']]
    return config['derived']['workers'], config['derived']['device_name'], statistics.median(rates[len(rates) // 3:])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--plans', default='1x1,0xN,1xN,auto')
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--iterations', type=int, default=30)
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, plan in enumerate(a.plans.split(',')):
            workers, device, rate = run(plan, a, Path(tmp) / str(i))
            rows.append((plan, workers, device, f'{rate:.2f}'))
    print(f'{os.cpu_count()} cores, {a.size} px, batch {a.batch}')
    table(('plan', 'workers', 'device', 'img/s'), rows)


if __name__ == '__main__':
    main()
