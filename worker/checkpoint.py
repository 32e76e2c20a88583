"""Model files and checkpoints: what is saved, and loading any of them as a generator.

model.pth      {'format': 'tn-studio-generator', 'version': 1, 'generator': Generator.config,
                'state_dict': ..., 'iteration': int, 'texture': str, 'train': {settings, and the
                style_scale it trained with: enough to rebuild its objective}}
checkpoint     everything in model.pth plus 'optimizer', 'scheduler', 'scaler', 'rng' and
               'config' (every training setting): enough to resume exactly.
*.t7           the authors' released Torch 7 generators, imported by models.t7.

Every file is written atomically (worker.atomic).
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path

import torch

from models.generator import Generator

from .atomic import atomic_write

FORMAT = 'tn-studio-generator'
VERSION = 1


def unwrap(model):
    """The Generator inside a DDP or torch.compile wrapper."""
    model = getattr(model, 'module', model)
    return getattr(model, '_orig_mod', model)


def model_record(generator, iteration: int, config: dict) -> dict:
    g = unwrap(generator)
    return {
        'format': FORMAT, 'version': VERSION, 'generator': dict(g.config),
        'state_dict': {k: v.detach().cpu() for k, v in g.state_dict().items()},
        'iteration': iteration, 'texture': config.get('texture'),
        'train': {**{k: config.get(k) for k in ('image_size', 'style_size', 'style_weights', 'content_weight',
                                                'noise', 'norm', 'lr', 'batch_size', 'vgg_weights', 'texture_path')},
                  'style_scale': config.get('calibration', {}).get('style_scale', 1.0)},
    }


def save(obj: dict, path):
    # Serialise in memory first: torch.save reports a failed write (a full disk) as an opaque
    # RuntimeError, while a plain write() raises OSError with errno ENOSPC.
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, lambda f: f.write(buffer.getbuffer()))


def checkpoint_path(run_dir, iteration: int) -> Path:
    return Path(run_dir) / 'checkpoints' / f'iter_{iteration:07d}.pth'


def list_checkpoints(run_dir) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    folder = Path(run_dir) / 'checkpoints'
    return sorted(p for p in folder.glob('iter_*.pth') if re.fullmatch(r'iter_\d+\.pth', p.name))


def find_checkpoint(spec) -> Path:
    """A checkpoint file, or a run folder (its latest checkpoint)."""
    p = Path(spec).expanduser()
    if p.is_dir():
        found = list_checkpoints(p)
        if not found:
            raise FileNotFoundError(f'{p} has no checkpoints/iter_*.pth to resume from')
        return found[-1]
    if not p.is_file():
        raise FileNotFoundError(f'{p} is neither a run folder nor a checkpoint file')
    return p


def load_record(path) -> dict:
    try:
        rec = torch.load(path, map_location='cpu', weights_only=True)  # never unpickle code
    except Exception as e:
        raise ValueError(f'{path} could not be read as a TN Studio model or checkpoint ({e})') from e
    if not isinstance(rec, dict) or rec.get('format') != FORMAT:
        raise ValueError(f'{path} is not a TN Studio model or checkpoint (no {FORMAT!r} format tag)')
    if rec.get('version', 0) > VERSION:
        raise ValueError(f'{path} was written by a newer TN Studio (format version {rec["version"]})')
    return rec


def load_generator(path) -> Generator:
    """A model.pth, a checkpoint, or an authors' .t7, as a Generator in eval mode."""
    path = os.fspath(path)
    if path.lower().endswith('.t7'):
        from models.t7 import import_t7
        return import_t7(path).eval()
    rec = load_record(path)
    g = Generator(**rec['generator'])
    g.load_state_dict(rec['state_dict'])
    return g.eval()
