"""Content photos: scanning a folder, and the training data stream.

The stream is a pure function of (seed, iteration): which photos make up batch i, and where
each is cropped, depend on nothing else. A run resumed at iteration i therefore sees exactly
the batches the uninterrupted run would have, whatever the number of DataLoader workers.
"""
from __future__ import annotations

import logging
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset, Sampler

from . import REPO
from .errors import UsageError
from .images import ImageError, check_image, is_image_name, open_rgb, resize_long_side, to_tensor

log = logging.getLogger(__name__)

SAMPLES = REPO / 'samples'


class DatasetError(ValueError):
    pass


def resolve_data_dir(arg: str) -> Path:
    """`sample` names the built-in sample photos; anything else is a folder path."""
    if arg == 'sample' and not Path(arg).exists():
        return SAMPLES / 'content'
    return Path(arg).expanduser()


def resolve_texture(arg: str) -> Path:
    """A file path, or the name of a built-in texture (a file stem in samples/textures)."""
    p = Path(arg).expanduser()
    if p.exists():
        return p
    for f in sorted((SAMPLES / 'textures').glob('*')):
        if f.stem == arg:
            return f
    names = ', '.join(sorted(f.stem for f in (SAMPLES / 'textures').glob('*') if is_image_name(f)))
    raise DatasetError(f'texture {arg!r} is neither a file nor a built-in texture ({names})')


def load_texture(path, size: int) -> torch.Tensor:
    """The texture as the loss takes it: (1, 3, H, W) in [0, 1], its long side `size`."""
    try:
        im = open_rgb(path)
    except ImageError as e:
        raise UsageError(f'the texture {path} cannot be used: {e}. Give a .jpg or .png image.') from None
    return to_tensor(resize_long_side(im, size)).unsqueeze(0)


def _were(n: int, noun: str) -> str:
    """'1 image file was', '2 image files were'."""
    return f'{n} {noun} was' if n == 1 else f'{n} {noun}s were'


@dataclass
class Scan:
    folder: str                                    # absolute
    given: str = ''                                # the path as given (relative or not)
    usable: list = field(default_factory=list)     # paths, sorted
    skipped: list = field(default_factory=list)    # (path, reason)
    others: list = field(default_factory=list)     # paths of files that are not images by name: ignored

    def reasons(self) -> dict:
        """{reason kind: count}, e.g. {'empty file (0 bytes)': 2, 'not a readable image': 1}."""
        return dict(Counter(r.split(' (')[0] for _, r in self.skipped))

    def relative(self, path) -> str:
        return os.path.relpath(path, self.folder)

    def subfolders(self) -> dict:
        """{top-level subfolder ('.': the folder itself): usable photos in it}, sorted."""
        where = Counter(rel.split(os.sep)[0] if os.sep in rel else '.' for rel in map(self.relative, self.usable))
        return dict(sorted(where.items()))

    def summary(self) -> str:
        s = f'{len(self.usable)} usable images in {self.folder}'
        if self.skipped:
            s += f'; skipped {len(self.skipped)}: ' + ', '.join(f'{n} {k}' for k, n in self.reasons().items())
        return s

    def nothing_usable(self) -> str:
        """What the folder holds instead of a usable photo, and what to do."""
        what = []
        if self.skipped:
            counts = ', '.join(f'{n} {k}' for k, n in sorted(self.reasons().items()))
            what.append(f'{_were(len(self.skipped), "image file")} unreadable ({counts})')
        if self.others:
            what.append(f'{_were(len(self.others), "other file")} ignored, not being images')
        return (f'No usable photo in {self.folder}{relative_note(self.given or self.folder)}: {"; ".join(what) or "it holds no files"}. '
                'Put .jpg or .png photos in it (subfolders are searched too).')


def relative_note(given) -> str:
    """Where a relative path was resolved from, for a message ('' for an absolute path)."""
    return '' if Path(given).is_absolute() else f' (a relative path starts from {os.getcwd()}, the working folder)'


def scan_folder(folder, limit: int | None = None) -> Scan:
    """Every file under `folder`, recursively (hidden files and folders left out): images checked
    from their header, none decoded; other files listed as ignored. With `limit`, it stops after
    that many usable images (a quick "is there a photo here?")."""
    given = Path(folder).expanduser()
    folder = Path(os.path.abspath(given))
    if not folder.exists():
        raise DatasetError(f'{folder} does not exist{relative_note(given)}. Give the path of a folder of photos '
                           '(e.g. MSCOCO train2014), or use the built-in sample photos (the path sample).')
    if not folder.is_dir():
        raise DatasetError(f'{folder} is a file, not a folder{relative_note(given)}. Give the folder that holds the photos.')
    scan = Scan(str(folder), str(given))
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            if name.startswith('.'):
                continue
            path = os.path.join(root, name)
            if not is_image_name(name):
                scan.others.append(path)
                continue
            try:
                check_image(path)
                scan.usable.append(path)
            except (ImageError, OSError) as e:
                scan.skipped.append((path, str(e)))
            if limit and len(scan.usable) >= limit:
                return scan
    if not scan.usable:
        raise DatasetError(scan.nothing_usable())
    return scan


def load_crop(path, size: int, rng: random.Random | None = None) -> torch.Tensor:
    """Resize the short side to `size`, crop `size` x `size` (random with `rng`, else centre)."""
    im = open_rgb(path, min_side=size)
    w, h = im.size
    s = size / min(w, h)
    nw, nh = max(size, round(w * s)), max(size, round(h * s))
    im = im.resize((nw, nh), resample=3)  # bicubic
    x = rng.randint(0, nw - size) if rng else (nw - size) // 2
    y = rng.randint(0, nh - size) if rng else (nh - size) // 2
    return to_tensor(im.crop((x, y, x + size, y + size)))


class ContentDataset(Dataset):
    """Photos at `size` x `size`. Keys are (index, crop_seed), from `IterationSampler`.

    A file that passed the header scan but fails to decode (a truncated JPEG, say) is replaced
    by the next photo and counted in `failures`, instead of stopping a long run.
    """

    def __init__(self, paths, size: int):
        self.paths = list(paths)
        self.size = size

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, key):
        index, crop_seed = key
        for attempt in range(min(10, len(self.paths))):
            path = self.paths[(index + attempt) % len(self.paths)]
            try:
                return load_crop(path, self.size, random.Random(crop_seed))
            except (ImageError, OSError) as e:
                log.warning('skipping %s: %s', path, e)
        raise DatasetError(f'10 photos in a row could not be decoded (last: {path}); is the folder intact?')


class IterationSampler(Sampler):
    """Yields the (index, crop_seed) keys of iterations [start, stop), `batch_size` per
    iteration per rank. Epoch e is a permutation seeded by (seed, e)."""

    def __init__(self, n: int, batch_size: int, seed: int, start: int, stop: int, rank: int = 0, world: int = 1):
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start, self.stop, self.rank, self.world = start, stop, rank, world

    def __len__(self):
        return max(0, self.stop - self.start) * self.batch_size

    def __iter__(self):
        global_batch = self.batch_size * self.world
        perm, perm_epoch = None, -1
        for it in range(self.start, self.stop):
            first = it * global_batch + self.rank * self.batch_size
            for pos in range(first, first + self.batch_size):
                epoch, i = divmod(pos, self.n)
                if epoch != perm_epoch:
                    g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
                    perm, perm_epoch = torch.randperm(self.n, generator=g).tolist(), epoch
                yield perm[i], self.seed * 1_000_003 + pos


class NoiseStream:
    """Texture synthesis's training data: each iteration's noise for this rank, a pure function
    of (seed, iteration, rank) like the photo stream, so a resumed run draws what the
    uninterrupted one would. Its seeds start at 2^40: a seed a user gives worker.synthesize (the
    previews' 0-3, the held-out 1000+) never made a training sample."""

    OFFSET = 2 ** 40

    def __init__(self, generator, batch_size: int, size: int, seed: int, start: int, stop: int,
                 rank: int = 0, world: int = 1):
        self.generator, self.batch_size, self.size, self.seed = generator, batch_size, size, seed
        self.start, self.stop, self.rank, self.world = start, stop, rank, world

    def __len__(self):
        return max(0, self.stop - self.start)

    def __iter__(self):
        for it in range(self.start, self.stop):
            g = torch.Generator().manual_seed(self.OFFSET + self.seed * 1_000_003 + it * self.world + self.rank)
            yield self.generator.draw_noise(self.batch_size, self.size, self.size, g, device='cpu')
