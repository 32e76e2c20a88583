"""Sweeps: the same run with one setting at 2 to 6 values, everything else equal, to compare by eye.

    python -m worker.sweep --set content_weight=250,1000,4000 --data_dir DIR --texture IMG [trainer flags]

writes one folder, runs/sweep-<time>-<setting>/, holding sweep.json (the setting, its values, and
each run's folder) and one run folder per value, and trains them one after another (or, with
--parallel N on a machine with N GPUs, N at a time, one GPU each). The web app's sweeps are the
same runs queued by the worker service (start_sweep), grouped by their RunInfo's `sweep`.
Which settings can be swept (and the grid the wizard suggests for each) are in settings.json.
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from . import REPO
from .atomic import write_json
from .config import check_sweep, parse_args, to_argv, validate
from .errors import UsageError

log = logging.getLogger('tn.sweep')
def parse_set(text: str) -> tuple[str, list]:
    """`content_weight=250,1000,4000` -> ('content_weight', [250.0, 1000.0, 4000.0]), checked."""
    key, sep, rest = text.partition('=')
    if not sep:
        raise UsageError(f'--set takes SETTING=V1,V2,..., e.g. content_weight=250,1000,4000; got {text!r}')
    try:
        values = [float(v) for v in rest.split(',') if v.strip()]
    except ValueError:
        raise UsageError(f'--set {key}: the values must be numbers separated by commas, got {rest!r}') from None
    return check_sweep(key.strip(), values)


def variants(config: dict, key: str, values: list) -> list[dict]:
    """One run's settings per value, each checked as the trainer checks its command line."""
    out = []
    for value in values:
        variant = {**config, key: value}
        validate(variant)
        out.append(variant)
    return out


def label(key: str, value) -> str:
    return f'{key}={value:g}'


# -- the command line --------------------------------------------------------------------------

def plan(argv) -> tuple[dict, list[dict], Path, int]:
    """(sweep.json, the trainer configs, the sweep folder, runs at a time) from the command line."""
    p = argparse.ArgumentParser(prog='python -m worker.sweep', description=__doc__.split('\n\n')[0],
                                epilog='Every other flag is a trainer flag (python -m worker.train --help).')
    p.add_argument('--set', required=True, metavar='SETTING=V1,V2,...', help='the setting to sweep and its values')
    p.add_argument('--name', help='the sweep\'s name (default: the setting)')
    p.add_argument('--sweep_dir', help='where the sweep goes (default: runs/sweep-<time>-<setting>)')
    p.add_argument('--parallel', type=int, default=1, help='runs at a time, one GPU each (default 1)')
    ours, trainer_argv = p.parse_known_args(argv)
    key, values = parse_set(ours.set)
    if '--out' in trainer_argv or '--resume' in trainer_argv or any(a.startswith(('--out=', '--resume=')) for a in trainer_argv):
        raise UsageError('a sweep places its runs itself: give --sweep_dir, not --out or --resume')
    asked = parse_args(trainer_argv, raise_errors=True)
    validate(asked)  # the trainer's own checks, before anything is written
    configs = variants(asked, key, values)
    folder = Path(ours.sweep_dir or REPO / 'runs' / f'sweep-{datetime.now():%Y%m%d-%H%M%S}-{key}')
    if (folder / 'sweep.json').exists():
        raise UsageError(f'{folder} already holds a sweep; give another --sweep_dir')
    runs = []
    for config, value in zip(configs, values):
        config['out'] = str(folder / label(key, value))
        runs.append({'value': value, 'folder': label(key, value)})
    record = {'id': folder.name, 'name': ours.name or key, 'setting': key, 'values': values,
              'created': time.time(), 'runs': runs}
    if ours.parallel < 1:
        raise UsageError('--parallel must be 1 or more')
    return record, configs, folder, ours.parallel


def run_all(configs: list[dict], parallel: int) -> list[int]:
    """Train each config in its own process, `parallel` at a time (GPU i for slot i); exit codes."""
    gpus = os.environ.get('CUDA_VISIBLE_DEVICES', '').split(',') if parallel > 1 else []
    pending, running, codes = list(enumerate(configs)), {}, [None] * len(configs)
    while pending or running:
        while pending and len(running) < parallel:
            i, config = pending.pop(0)
            env = dict(os.environ)
            if parallel > 1:
                slot = len(running)
                env['CUDA_VISIBLE_DEVICES'] = gpus[slot] if slot < len(gpus) and gpus[slot] else str(slot)
            log.info('run %d of %d: %s', i + 1, len(configs), config['out'])
            running[i] = subprocess.Popen([sys.executable, '-m', 'worker.train', *to_argv(config)],
                                          cwd=REPO, env=env)
        for i, proc in list(running.items()):
            if proc.poll() is not None:
                codes[i] = proc.returncode
                del running[i]
        try:
            time.sleep(0.2)
        except KeyboardInterrupt:  # the trainers got the Ctrl-C too: each saves a checkpoint and ends
            log.warning('interrupted: waiting for the running trainers to save their checkpoints')
            for proc in running.values():
                proc.wait()
            raise
    return codes


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format='%(asctime)s sweep %(message)s', datefmt='%H:%M:%S')
    try:
        record, configs, folder, parallel = plan(argv)
    except UsageError as e:
        log.error('%s', e)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / 'sweep.json', record)
    log.info('sweep %s: %s = %s, %d runs in %s', record['name'], record['setting'],
             ', '.join(f'{v:g}' for v in record['values']), len(configs), folder)
    try:
        codes = run_all(configs, parallel)
    except KeyboardInterrupt:
        log.warning('stopped: each run that started keeps its last checkpoint')
        return 130
    failed = [configs[i]['out'] for i, c in enumerate(codes) if c != 0]
    for out in failed:
        log.error('failed: %s (its events.jsonl says why)', out)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
