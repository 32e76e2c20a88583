"""Shared fixtures: small image folders made by the tests themselves, and the trainer CLI."""
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / 'shared' / 'data'
sys.path.insert(0, str(REPO))


def smooth_image(rng, h, w):
    """A photo-like image: smooth colour gradients plus a few shapes (VGG features need
    structure; uniform noise gives degenerate losses)."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    a = np.stack([np.sin(x * rng.uniform(2, 8) + rng.uniform(0, 6)) for _ in range(3)], -1)
    a = a * 0.35 + 0.5 + 0.15 * np.stack([np.cos(y * rng.uniform(2, 8))] * 3, -1)
    for _ in range(3):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(4, max(h, w) / 3)
        mask = (np.mgrid[0:h, 0:w][0] - cy) ** 2 + (np.mgrid[0:h, 0:w][1] - cx) ** 2 < r * r
        a[mask] = rng.uniform(0, 1, 3)
    return Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8))


@pytest.fixture(scope='session')
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp('photos')
    rng = np.random.default_rng(0)
    for i in range(12):
        smooth_image(rng, 60 + 4 * i, 80 - 2 * i).save(folder / f'photo_{i:02d}.jpg', quality=92)
    return folder


@pytest.fixture(scope='session')
def texture(tmp_path_factory):
    path = tmp_path_factory.mktemp('texture') / 'stripes.png'
    y, x = np.mgrid[0:48, 0:48]
    a = np.stack([(np.sin(x / 2.0) > 0) * 220, (np.sin((x + y) / 3.0) > 0) * 180, np.full_like(x, 60)], -1)
    Image.fromarray(a.astype(np.uint8)).save(path)
    return path


TINY = ['--image_size', '32', '--style_size', '32', '--batch_size', '2', '--vgg_weights', 'random',
        '--workers', '0', '--lr', '0.01']


def file_size_limit(nbytes):
    """A preexec_fn: the child's writes past nbytes fail (EFBIG from write(), not a SIGXFSZ kill),
    as they do on a full disk."""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


def train_cli(*args, check=True, timeout=300, **kw):
    """Run `python -m worker.train` as a user would."""
    r = subprocess.run([sys.executable, '-m', 'worker.train', *map(str, args)], cwd=REPO,
                       capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f'train exited {r.returncode}\n{r.stderr[-3000:]}')
    return r


def events(run_dir, type=None):
    """The run's complete events, read as the service reads them (a line the trainer is still
    writing is not one yet)."""
    from worker.events import read_events
    return [e for e in read_events(Path(run_dir, 'events.jsonl')) if type is None or e['type'] == type]
