"""Model files and checkpoints: what is saved, and loading any of them as a generator.

model.pth      {'format': 'tn-studio-generator', 'version': 1, 'mode': 'stylize' or 'synthesis' (absent
                before synthesis existed: stylize), 'generator': the generator's config,
                'state_dict': ..., 'iteration': int, 'texture': str, 'train': {settings, and the
                style_scale it trained with: enough to rebuild its objective}}
checkpoint     everything in model.pth plus 'optimizer', 'scheduler', 'scaler', 'rng',
               'config' (every setting asked for) and 'derived' (what the trainer found, the
               style scale among it): enough to resume exactly.
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
from models.synthesis import SynthesisGenerator

from .atomic import atomic_write

FORMAT = 'tn-studio-generator'
VERSION = 1
MODEL_KEYS = ('format', 'version', 'mode', 'generator', 'state_dict', 'iteration', 'texture', 'train')  # model.pth's


def unwrap(model):
    """The Generator inside a DDP or torch.compile wrapper."""
    model = getattr(model, 'module', model)
    return getattr(model, '_orig_mod', model)


def model_record(generator, iteration: int, config: dict, derived: dict | None = None) -> dict:
    """`config`: the settings the run was asked for; `derived`: what the trainer found."""
    g = unwrap(generator)
    derived = derived or {}
    return {
        'format': FORMAT, 'version': VERSION, 'mode': config.get('mode', 'stylize'), 'generator': dict(g.config),
        'state_dict': {k: v.detach().cpu() for k, v in g.state_dict().items()},
        'iteration': iteration, 'texture': config.get('texture'),
        'train': {**{k: config.get(k) for k in ('image_size', 'style_size', 'style_weights', 'content_weight',
                                                'noise', 'norm', 'lr', 'batch_size', 'vgg_weights', 'diversity')},
                  'texture_path': derived.get('texture_path'),
                  'style_scale': derived.get('calibration', {}).get('style_scale', 1.0)},
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


def checkpoints_by_iteration(run_dir) -> dict[int, Path]:
    return {int(p.stem.split('_')[1]): p for p in list_checkpoints(run_dir)}


def resolve_model(spec) -> Path:
    """What a user names as a model: a model.pth, a checkpoint, a .t7, or a run folder (its model.pth)."""
    p = Path(spec).expanduser()
    if p.is_dir():
        if not (p / 'model.pth').exists():
            raise FileNotFoundError(f'{p} has no model.pth: give a checkpoint of it (checkpoints/iter_*.pth)')
        return p / 'model.pth'
    if not p.is_file():
        raise FileNotFoundError(f'{p} does not exist: give a model.pth, a checkpoint, a run folder or a .t7')
    return p


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


USES = {'stylize': 'it stylizes photos: use python -m worker.stylize, or Stylize a photo in the web app',
        'synthesis': 'it makes textures from noise alone: use python -m worker.synthesize, or Generate in the web app'}


def mode_of(generator) -> str:
    return 'synthesis' if isinstance(generator, SynthesisGenerator) else 'stylize'


def load_generator(path, mode: str | None = None) -> Generator | SynthesisGenerator:
    """A model.pth, a checkpoint, or an authors' .t7, as a generator in eval mode: a Generator
    (stylization) or a SynthesisGenerator, as the file's mode says. `mode`: the kind the caller
    needs; a file of the other kind is refused with a message that says what to do with it."""
    path = os.fspath(path)
    if path.lower().endswith('.t7'):
        from models.t7 import import_t7
        g = import_t7(path).eval()
    else:
        rec = load_record(path)
        g = (SynthesisGenerator if rec.get('mode') == 'synthesis' else Generator)(**rec['generator'])
        g.load_state_dict(rec['state_dict'])
        g.eval()
    if mode is not None and mode_of(g) != mode:
        raise ValueError(f'{path} is a {"texture-synthesis" if mode_of(g) == "synthesis" else "stylization"} '
                         f'model: {USES[mode_of(g)]}')
    return g


def promote(checkpoint: Path, run_dir: Path) -> dict:
    """Make a checkpoint the run's model.pth: the endpoint chosen by eye is often not the last.
    The model it replaces stays beside it as model-iter_N.pth. Both writes are atomic, and the
    old model is kept before the new one takes its place, so no step loses a model."""
    record = load_record(checkpoint)
    target = Path(run_dir) / 'model.pth'
    previous = None
    if target.exists():
        old = load_record(target)
        previous = target.with_name(f'model-iter_{old.get("iteration", 0):07d}.pth')
        if not previous.exists():
            data = target.read_bytes()
            atomic_write(previous, lambda f: f.write(data))
    save({k: record[k] for k in MODEL_KEYS if k in record}, target)
    return {'iteration': record['iteration'], 'previous': previous.name if previous else None}
