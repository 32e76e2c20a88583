"""Train a Texture Network for one texture: `python -m worker.train --data_dir DIR --texture IMG`.

One loop, readable top to bottom. The run folder (--out) is the record of the run:
config.json, events.jsonl (worker.events), previews/, checkpoints/, and model.pth at the end.
SIGINT/SIGTERM end the current iteration, then save a checkpoint and model.pth. Runs under
torchrun too (DistributedDataParallel; rank 0 writes the record).
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import random
import signal
import sys
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import torch
import torch.distributed as dist
import torchvision
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from models.generator import NORMS, Generator
from models.losses import DEFAULT_CONTENT_WEIGHT, DEFAULT_STYLE_WEIGHTS, STYLE_LAYERS, TextureLoss, calibrate
from models.vgg import VGGWeightsUnavailable, load_vgg19

from . import checkpoint as ckpt
from .atomic import DISK_FULL, write_json
from .data import (ContentDataset, DatasetError, IterationSampler, load_crop, resolve_data_dir,
                   resolve_texture, scan_folder)
from .events import EventLog, copy_history
from .images import ImageError, open_rgb, resize_long_side, save_image, to_image, to_tensor

log = logging.getLogger('tn.train')
REPO = Path(__file__).resolve().parents[1]
PREVIEW_PHOTOS = 4
EVAL_PHOTOS = 32  # at most this many photos of --eval_dir are held out and evaluated
# A weighted style loss this small beside the content loss at the start means the content term
# dominates the gradient: the net learns to copy the photo. Said once, as a warning event.
STYLE_TOO_WEAK = 0.01

# Defaults live here, not in argparse, so that --resume can tell which flags were given.
# The recipe (balance 2, Adam 1e-2, x0.8 every 300 steps) was chosen by measurement: see
# BENCHMARKS.md, "Recipe".
DEFAULTS = dict(
    iterations=3000, batch_size=4, image_size=256, style_size=256, lr=1e-2, lr_step=300, lr_decay=0.8,
    style_weights=list(DEFAULT_STYLE_WEIGHTS), content_weight=DEFAULT_CONTENT_WEIGHT, style_scale='auto',
    balance=2.0, noise=1.0, norm='instance', scales=5, checkpoint_every=500, preview_every=100, seed=0,
    vgg_weights='imagenet', eval_dir=None, device='auto', workers=None, verbose=False, viz=False,
)
# What a resumed run may change; everything else comes from the checkpoint.
RESUMABLE_OVERRIDES = ('iterations', 'checkpoint_every', 'preview_every', 'device', 'workers', 'verbose', 'viz',
                       'data_dir', 'eval_dir')


class UsageError(Exception):
    """A problem the user can fix; printed without a traceback."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        if self.raise_errors:
            raise UsageError(message)
        super().error(message)


def parse_args(argv=None, raise_errors: bool = False) -> dict:
    """Flags -> dict of the flags given. `raise_errors`: UsageError instead of exiting (the service)."""
    p = _Parser(prog='python -m worker.train', description=__doc__.split('\n')[0],
                argument_default=argparse.SUPPRESS)
    p.raise_errors = raise_errors
    a = p.add_argument
    a('--data_dir', help='folder of content photos, searched recursively; `sample` for the built-in set')
    a('--texture', help='style image, or the name of a built-in texture')
    a('--out', help='run folder (default: runs/<time>-<texture>)')
    a('--resume', metavar='RUN_DIR_OR_CHECKPOINT', help="continue a run from its latest (or the given) checkpoint")
    a('--iterations', type=int, help=f'optimiser steps (default {DEFAULTS["iterations"]})')
    a('--batch_size', type=int, help=f'photos per step (default {DEFAULTS["batch_size"]})')
    a('--image_size', type=int, help=f'training crop, px (default {DEFAULTS["image_size"]})')
    a('--style_size', type=int, help=f'long side of the texture, px (default {DEFAULTS["style_size"]})')
    a('--lr', type=float, help=f'Adam learning rate (default {DEFAULTS["lr"]})')
    a('--lr_step', type=int, help=f'multiply the lr by --lr_decay every this many steps (default {DEFAULTS["lr_step"]})')
    a('--lr_decay', type=float, help=f'(default {DEFAULTS["lr_decay"]})')
    a('--style_weights', type=_floats, help='weights of relu1_1..relu5_1 (default 5,6,2,2,2)')
    a('--content_weight', type=float, help=f'relu4_2 content weight (default {DEFAULTS["content_weight"]:g})')
    a('--style_scale', type=_scale, help='multiplies the style term: auto (default) calibrates it so that, with the '
      'default weights, the style term starts at --balance times the content term; a number sets it (1: raw units)')
    a('--balance', type=float, help=f'style:content at the start, for --style_scale auto (default {DEFAULTS["balance"]:g})')
    a('--noise', type=float, help='noise factor k (default 1)')
    a('--norm', choices=NORMS, help='instance (default; Improved Texture Networks) or batch (the paper)')
    a('--scales', type=int, help='generator scales K (default 5)')
    a('--checkpoint_every', type=int, help=f'(default {DEFAULTS["checkpoint_every"]})')
    a('--preview_every', type=int, help=f'(default {DEFAULTS["preview_every"]})')
    a('--seed', type=int, help='(default 0)')
    a('--vgg_weights', help='imagenet (default), a path to a VGG-19 state dict, or random (tests only)')
    a('--eval_dir', help='held-out photos, evaluated at each checkpoint and never trained on '
      f'(default: the {PREVIEW_PHOTOS} preview photos; at most {EVAL_PHOTOS} are used)')
    a('--device', choices=('auto', 'cpu', 'cuda'), help='(default auto: cuda when there is a GPU)')
    a('--cuda', action='store_const', const='cuda', dest='device', help='same as --device cuda')
    a('--workers', type=int, help='DataLoader worker processes (default: on a GPU, half the cores up to 8; '
      'on the CPU, none up to 4 cores, else 1)')
    a('--verbose', action='store_true', help="print each iteration's losses instead of a progress bar")
    a('--viz', action='store_true', help='also send curves and previews to a running visdom server')
    return vars(p.parse_args(argv))


def argv_from_config(config: dict) -> list[str]:
    """Trainer flags for a settings dict (what the worker service's start_run receives),
    checked exactly as the command line checks them. Raises UsageError."""
    argv = []
    for key, value in config.items():
        if key not in DEFAULTS and key not in ('data_dir', 'texture', 'out', 'resume'):
            raise UsageError(f'unknown setting {key!r}')
        if isinstance(value, bool):
            argv += [f'--{key}'] if value else []
        elif isinstance(value, (list, tuple)):
            argv += [f'--{key}', ','.join(str(v) for v in value)]
        elif value is not None:
            argv += [f'--{key}', str(value)]
    settings(parse_args(argv, raise_errors=True))
    return argv


def _scale(s: str):
    if s == 'auto':
        return s
    try:
        value = float(s)
    except ValueError:
        value = -1
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f'expected auto or a positive number, got {s!r}')
    return value


def _floats(s: str):
    try:
        return [float(x) for x in s.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected comma-separated numbers like 5,6,2,2,2, got {s!r}')


# ---------------------------------------------------------------------------------------------
# Set-up


def default_workers(cuda: bool, cpus: int) -> int:
    """DataLoader processes. A GPU step takes ~20 ms per 256 px photo, so it needs several; a
    CPU step takes ~600 ms, and loading the photo in the training process itself (~2 ms) costs
    less than a worker's competition for the cores (bench/cpu_plan.py, BENCHMARKS.md)."""
    if cuda:
        return min(8, max(1, cpus // 2))
    return 0 if cpus <= 4 else 1


def resolve_device(name: str) -> torch.device:
    if name == 'cuda' or (name == 'auto' and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise UsageError('--cuda / --device cuda was given, but PyTorch sees no CUDA GPU '
                             f'(torch {torch.__version__}, CUDA build: {torch.version.cuda}). '
                             'Check `nvidia-smi`, or train on the CPU with --device cpu.')
        local_rank = int(os.environ.get('LOCAL_RANK', 0))
        torch.cuda.set_device(local_rank)
        return torch.device('cuda', local_rank)
    return torch.device('cpu')


def describe_device(device: torch.device) -> str:
    if device.type == 'cuda':
        p = torch.cuda.get_device_properties(device)
        return f'cuda:{device.index} {p.name} ({p.total_memory / 2**30:.0f} GiB)'
    n = torch.get_num_threads()
    return f'cpu ({n} thread{"s" if n != 1 else ""})'


def load_texture(path, size: int) -> torch.Tensor:
    try:
        im = open_rgb(path)
    except ImageError as e:
        raise UsageError(f'the texture {path} cannot be used: {e}. Give a .jpg or .png image.') from None
    return to_tensor(resize_long_side(im, size)).unsqueeze(0)


def settings(args: dict) -> tuple[dict, dict | None]:
    """The run's complete config, and the checkpoint record when resuming."""
    record = None
    if 'resume' in args:
        try:
            path = ckpt.find_checkpoint(args['resume'])
            record = ckpt.load_record(path)
        except (FileNotFoundError, ValueError) as e:
            raise UsageError(str(e)) from None
        if 'optimizer' not in record:
            raise UsageError(f'{path} is a finished model, not a checkpoint: it cannot be resumed')
        config = dict(record['config'])
        config.update({k: v for k, v in args.items() if k in RESUMABLE_OVERRIDES})
        config['resume'] = str(path)
        config['out'] = args.get('out') or str(path.parent.parent)
        return config, record
    missing = [f'--{k}' for k in ('data_dir', 'texture') if k not in args]
    if missing:
        raise UsageError(f'{" and ".join(missing)} required (or --resume RUN_DIR)')
    config = {**DEFAULTS, **args}
    if len(config['style_weights']) != len(STYLE_LAYERS):
        raise UsageError(f'--style_weights needs {len(STYLE_LAYERS)} numbers (relu1_1..relu5_1), '
                         f'got {len(config["style_weights"])}')
    for k in ('iterations', 'batch_size', 'image_size', 'style_size', 'checkpoint_every', 'preview_every', 'scales'):
        if config[k] < 1:
            raise UsageError(f'--{k} must be at least 1')
    if not (config['balance'] > 0 and math.isfinite(config['balance'])):
        raise UsageError('--balance must be a positive number (the style:content ratio at the start, e.g. 2)')
    if 'out' not in config:
        stem = Path(config['texture']).stem
        config['out'] = str(REPO / 'runs' / f'{datetime.now():%Y%m%d-%H%M%S}-{stem}')
    return config, None


def held_out_split(paths: list, count: int) -> tuple[list, list]:
    """A fixed few photos for previews, kept out of training when there are enough."""
    order = sorted(paths)
    random.Random(0).shuffle(order)
    previews = sorted(order[:count])
    train = [p for p in paths if p not in set(previews)] if len(paths) > 2 * count else list(paths)
    return train, previews


def eval_split(train_paths: list, preview_paths: list, eval_dir) -> tuple[list, list]:
    """The held-out photos (--eval_dir's, else the preview photos) and the training photos
    without them: a photo that is evaluated is never trained on."""
    if not eval_dir:
        return train_paths, preview_paths
    held = sorted(scan_folder(resolve_data_dir(eval_dir)).usable)[:EVAL_PHOTOS]
    if not held:
        raise UsageError(f'--eval_dir {eval_dir} has no usable photo')
    held_set = {Path(p).resolve() for p in held}
    train_paths = [p for p in train_paths if Path(p).resolve() not in held_set]
    if not train_paths:
        raise UsageError(f'every training photo is also in --eval_dir {eval_dir}: nothing is left to train on. '
                         'Give a folder of other photos.')
    return train_paths, held


def calibrate_style(generator, loss_fn, photos, config: dict, world: int) -> dict:
    """The style scale for a new run, and the style:content ratio it starts at, measured on
    step 1's own batch and noise (a forked RNG: the run's stream does not move), so the first
    iteration shows the balance. Every rank gets the same scale."""
    devices = [photos.device] if photos.device.type == 'cuda' else []
    with torch.no_grad(), torch.random.fork_rng(devices=devices):
        style, content = loss_fn.terms(generator(photos), photos)
    terms = torch.stack([*style, content]).float()
    if world > 1:
        dist.all_reduce(terms)
    *style, content = terms.tolist()
    try:
        scale = calibrate(style, content, config['balance']) if config['style_scale'] == 'auto' else config['style_scale']
    except ValueError as e:
        raise UsageError(str(e)) from None
    weighted_content = loss_fn.content_weight * content
    ratio = scale * sum(w * l for w, l in zip(loss_fn.style_weights, style)) / weighted_content if weighted_content else None
    return {'style_scale': scale, 'start_balance': ratio}


def held_out_losses(generator, loss_fn, photos, batch_size: int, autocast) -> dict:
    """Mean losses of the held-out photos, with the same noise every time: only the net changes."""
    generator.eval()
    noise = torch.Generator(photos.device).manual_seed(0)
    style = content = 0.0
    with torch.no_grad(), autocast():
        for chunk in photos.split(batch_size):
            s, c = loss_fn(generator(chunk, generator=noise), chunk)
            style, content = style + s.item() * len(chunk), content + c.item() * len(chunk)
    generator.train()
    n = len(photos)
    return dict(style=style / n, content=content / n, total=(style + content) / n)


class StopRequest:
    """SIGINT/SIGTERM ask for a clean stop after the current iteration; a second one aborts."""

    def __init__(self):
        self.requested = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning('stop requested: finishing this iteration, then saving a checkpoint and model.pth')


def _ignore_sigint(_worker_id):
    # Ctrl-C reaches the whole process group; the main process decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def rng_state() -> dict:
    state = {'torch': torch.get_rng_state(), 'python': random.getstate()}
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict):
    torch.set_rng_state(state['torch'])
    random.setstate(state['python'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


class Visdom:
    """--viz: curves and previews mirrored to a visdom server (optional dependency)."""

    def __init__(self, env: str):
        try:
            import visdom
        except ImportError:
            raise UsageError('--viz needs visdom: `.venv/bin/pip install visdom`, then start the '
                             'server with `.venv/bin/python -m visdom.server`') from None
        self.vis = visdom.Visdom(env=env, raise_exceptions=False)
        if not self.vis.check_connection(timeout_seconds=3):
            raise UsageError('--viz: no visdom server answers at localhost:8097. Start one with '
                             '`.venv/bin/python -m visdom.server` (or leave out --viz).')

    def losses(self, it, style, content):
        self.vis.line(X=[[it, it]], Y=[[style, content]], win='loss', update='append',
                      opts=dict(title='losses', legend=['style', 'content'], ytype='log'))

    def preview(self, image: torch.Tensor):
        self.vis.image(image.clamp(0, 1), win='preview', opts=dict(title='preview'))


# ---------------------------------------------------------------------------------------------
# Training


def training_step(model, loss_fn, optimizer, scaler, photos, amp_dtype=None):
    """One optimiser step on a batch of photos; returns the (style, content) losses, detached.
    The benchmarks time this same function."""
    with torch.autocast('cuda', amp_dtype) if amp_dtype else nullcontext():
        style, content = loss_fn(model(photos), photos)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(style + content).backward()
    scaler.step(optimizer)
    scaler.update()
    return style.detach(), content.detach()


def download_events(events, every_s: float = 1.0):
    """A progress(done, total) for load_vgg19 that says how far a download is, as `download`
    events (at most one a second, and the last), so the dashboard shows it."""
    last = [0.0]

    def progress(done, total):
        now = time.monotonic()
        if done >= total or now - last[0] >= every_s:
            last[0] = now
            events.emit('download', what='VGG-19 ImageNet weights (the first run only)', done=done, total=total)
    return progress


def warn_unbalanced(events, calibration):
    message = (f'the style term starts at {calibration["start_balance"]:.2g} times the content term (style scale '
               f'{calibration["style_scale"]:.3g}): the network will learn little of the texture. Use --style_scale '
               f'auto, or raise the balance or the style weights, and compare the previews.')
    log.warning(message)
    events.emit('warning', message=message)


def train(config: dict, record: dict | None = None) -> int:
    world = int(os.environ.get('WORLD_SIZE', 1))
    rank = int(os.environ.get('RANK', 0))
    device = resolve_device(config['device'])
    if world > 1:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    master = rank == 0
    torch.manual_seed(config['seed'] + rank)
    random.seed(config['seed'] + rank)
    cuda = device.type == 'cuda'
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    if config.get('workers') is None:
        config['workers'] = default_workers(cuda, os.cpu_count() or 1)
    if not cuda and 'OMP_NUM_THREADS' not in os.environ:  # an explicit setting (torchrun makes one) wins
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else None
    autocast = (lambda: torch.autocast('cuda', amp_dtype)) if amp_dtype else nullcontext
    memory_format = torch.channels_last if cuda else torch.contiguous_format

    # Data: fail before anything is written if the photos or the texture are unusable.
    data_dir = resolve_data_dir(config['data_dir'])
    scan = scan_folder(data_dir)
    texture_path = resolve_texture(config['texture'])
    texture = load_texture(texture_path, config['style_size'])
    train_paths, preview_paths = held_out_split(scan.usable, PREVIEW_PHOTOS)
    train_paths, eval_paths = eval_split(train_paths, preview_paths, config.get('eval_dir'))
    log.info('%s', scan.summary())
    for path, reason in scan.skipped[:20]:
        log.warning('skipped %s: %s', path, reason)

    run_dir = Path(config['out'])
    viz = Visdom(env=run_dir.name) if master and config['viz'] else None
    events = None
    start = record['iteration'] if record is not None else 0
    if master:
        if record is None and (run_dir / 'events.jsonl').exists():
            raise UsageError(f'{run_dir} already holds a run. Continue it with --resume {run_dir}, '
                             'or give another --out.')
        for sub in ('checkpoints', 'previews'):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        # Before any preview event can be read: the dashboard shows these photos beside previews.
        save_image(to_image(torch.cat([load_crop(p, config['image_size']) for p in preview_paths], 2)),
                   run_dir / 'previews' / 'photos.png')
        source_dir = Path(config['resume']).parent.parent if record is not None else None
        if source_dir and not (run_dir / 'events.jsonl').exists() and source_dir.resolve() != run_dir.resolve():
            copy_history(source_dir, run_dir, start)  # continued in a new folder: the curve from iteration 1
        events = EventLog(run_dir, keep_until=start if record is not None else None)

    generator = Generator(scales=config['scales'], norm=config['norm'], noise=config['noise'])
    if master:  # first, and alone: it may download the weights (the others wait, then read the cache)
        vgg = load_vgg19(config['vgg_weights'], progress=download_events(events))
    if world > 1:
        dist.barrier()
    if not master:
        vgg = load_vgg19(config['vgg_weights'])
    loss_fn = TextureLoss(vgg, texture, config['style_weights'], config['content_weight'])
    del vgg
    generator.to(device, memory_format=memory_format)
    loss_fn.to(device, memory_format=memory_format)
    optimizer = torch.optim.Adam(generator.parameters(), lr=config['lr'])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config['lr_step'], config['lr_decay'])
    scaler = torch.amp.GradScaler('cuda', enabled=amp_dtype == torch.float16)
    if record is not None:
        generator.load_state_dict(record['state_dict'])
        optimizer.load_state_dict(record['optimizer'])
        scheduler.load_state_dict(record['scheduler'])
        scaler.load_state_dict(record['scaler'])
        set_rng_state(record['rng'])
    model = DistributedDataParallel(generator, device_ids=[device.index] if cuda else None) if world > 1 else generator

    total = config['iterations']
    dataset = ContentDataset(train_paths, config['image_size'])
    if record is None:
        first = torch.stack([dataset[key] for key in IterationSampler(
            len(train_paths), config['batch_size'], config['seed'], 0, 1, rank, world)])
        calibration = calibrate_style(generator, loss_fn, first.to(device).contiguous(memory_format=memory_format),
                                      config, world)
    else:  # the recorded scale: a resumed curve continues the same one (runs from before: raw units)
        calibration = config.get('calibration') or {'style_scale': 1.0, 'start_balance': None}
    loss_fn.style_scale = calibration['style_scale']
    config.update(
        calibration=calibration, data_dir_resolved=str(data_dir), texture_path=str(texture_path), world_size=world,
        device_name=describe_device(device), amp=str(amp_dtype).replace('torch.', '') if amp_dtype else 'fp32',
        dataset=dict(usable=len(scan.usable), skipped=len(scan.skipped), reasons=scan.reasons(),
                     preview_photos=preview_paths, eval_photos=len(eval_paths),
                     held_out=len(train_paths) < len(scan.usable)),
        versions=dict(python=platform.python_version(), torch=str(torch.__version__),
                      torchvision=str(torchvision.__version__)),
    )
    if master:
        write_json(run_dir / 'config.json', config)
        if config['vgg_weights'] == 'random':
            events.emit('warning', message='VGG-19 has random weights (for tests): the network learns the texture\'s '
                                           'colours and local structure only. Use ImageNet weights for real styles.')
        if scan.skipped:
            events.emit('warning', message='skipped ' + scan.summary().split('; skipped ')[1])
        ratio = calibration['start_balance']
        if record is None and ratio is not None and ratio < STYLE_TOO_WEAK:
            warn_unbalanced(events, calibration)
        events.emit('start', iteration=start + 1, iterations=total, device=config['device_name'],
                    resumed=record is not None, run_dir=str(run_dir), **calibration)
    log.info('run folder %s; %s; %s; %d train + %d preview photos', run_dir, config['device_name'],
             config['amp'], len(train_paths), len(preview_paths))

    loader = DataLoader(
        dataset, batch_size=config['batch_size'],
        sampler=IterationSampler(len(train_paths), config['batch_size'], config['seed'], start, total, rank, world),
        num_workers=config['workers'], pin_memory=cuda, persistent_workers=False,
        prefetch_factor=4 if config['workers'] else None, worker_init_fn=_ignore_sigint,
        generator=torch.Generator())  # its own seed source: the global RNG stream must not move
    previews = torch.cat([load_crop(p, config['image_size']).unsqueeze(0) for p in preview_paths]).to(device)
    held_out = previews if eval_paths is preview_paths else \
        torch.stack([load_crop(p, config['image_size']) for p in eval_paths]).to(device)

    def evaluate(it):
        losses = held_out_losses(generator, loss_fn, held_out.contiguous(memory_format=memory_format),
                                 config['batch_size'], autocast)
        events.emit('eval', iteration=it, **losses)

    def save_preview(it):
        model.eval()
        with torch.no_grad(), autocast():
            noise = torch.Generator(device).manual_seed(0)  # the same noise every time: only the net changes
            out = generator(previews.contiguous(memory_format=memory_format), generator=noise).float()
        model.train()
        strip = torch.cat(list(out), 2)
        path = run_dir / 'previews' / f'iter_{it:07d}.png'
        save_image(to_image(strip), path)
        events.emit('preview', iteration=it, path=str(path.relative_to(run_dir)))
        if viz:
            viz.preview(strip)

    def save_checkpoint(it, final=False):
        state = ckpt.model_record(generator, it, config)
        state.update(config=config, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                     scaler=scaler.state_dict(), rng=rng_state())
        path = ckpt.checkpoint_path(run_dir, it)
        ckpt.save(state, path)
        events.emit('checkpoint', iteration=it, path=str(path.relative_to(run_dir)))
        evaluate(it)
        if final:
            ckpt.save(ckpt.model_record(generator, it, config), run_dir / 'model.pth')

    stop = StopRequest()
    progress = None
    if master and not config['verbose']:
        from tqdm import tqdm
        progress = tqdm(total=total, initial=start, unit='it', dynamic_ncols=True, file=sys.stderr,
                        disable=None)  # no bar when stderr is a log file, not a terminal
    pending = None  # losses of the last step, read one step late so the GPU never waits for them

    def report_pending():
        nonlocal pending
        if pending:
            pending[-1].synchronize()
            report(*pending[:-1])
            pending = None
    rate = None     # smoothed iterations per second
    it = start
    t_last = time.perf_counter()

    def report(report_it, losses, lr, rate):
        style, content = losses.tolist()
        if not math.isfinite(style + content):
            raise FloatingPointError(f'the loss became {style + content} at iteration {report_it}: '
                                     f'resume from the last checkpoint with a lower --lr')
        eta = (total - report_it) / rate if rate else None
        events.emit('iteration', iteration=report_it, style=style, content=content, total=style + content,
                    lr=lr, images_per_s=round(rate * config['batch_size'] * world, 2) if rate else None,
                    eta_s=round(eta, 1) if eta is not None else None)
        if config['verbose']:
            print(f'iter {report_it}/{total}  style {style:.4g}  content {content:.4g}  total {style + content:.4g}',
                  flush=True)
        elif progress is not None:
            progress.set_postfix(style=f'{style:.3g}', content=f'{content:.3g}', refresh=False)
        if viz:
            viz.losses(report_it, style, content)

    if master and record is None:
        evaluate(0)  # the held-out curve starts from the untrained network
    model.train()
    for photos in loader:
        it += 1
        photos = photos.to(device, non_blocking=True).contiguous(memory_format=memory_format)
        style, content = training_step(model, loss_fn, optimizer, scaler, photos, amp_dtype)
        lr = scheduler.get_last_lr()[0]
        scheduler.step()

        now = time.perf_counter()
        if it > start + 1:  # the first step also paid for DataLoader start-up: not a rate
            rate = 1 / (now - t_last) if rate is None else 0.9 * rate + 0.1 / (now - t_last)
        t_last = now
        if master:
            losses = torch.stack([style, content]).float()
            if cuda:
                done_event = torch.cuda.Event()
                losses = losses.to('cpu', non_blocking=True)
                done_event.record()
                report_pending()
                pending = (it, losses, lr, rate, done_event)
            else:
                report(it, losses, lr, rate)
            if progress is not None:
                progress.update(1)
        if world > 1 and it % 10 == 0:
            # Every rank must leave the loop at the same step, or DDP's next all-reduce hangs.
            flag = torch.tensor([float(stop.requested)], device=device)
            dist.all_reduce(flag)
            stop.requested = flag.item() > 0
        stopping = stop.requested if world == 1 or it % 10 == 0 else False
        last = it == total or stopping
        if master and (it % config['preview_every'] == 0 or last):
            save_preview(it)
        if master and (it % config['checkpoint_every'] == 0 or last):
            report_pending()
            save_checkpoint(it, final=last)
        if stopping:
            break
    if progress is not None:
        progress.close()
    if master:
        report_pending()
        if it == start:  # nothing left to do, e.g. resuming a finished run
            save_checkpoint(it, final=True)
        events.emit('done', iteration=it, stopped=it < total, model='model.pth')
        events.close()
        log.info('done: %s', run_dir / 'model.pth')
    if world > 1:
        dist.destroy_process_group()
    return 0


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(message)s', datefmt='%H:%M:%S')
    try:
        config, record = settings(parse_args(argv))
        return train(config, record)
    except (UsageError, DatasetError, VGGWeightsUnavailable) as e:
        log.error('%s', e)
        _record_error(locals().get('config'), str(e))
        return 2
    except OSError as e:
        if e.errno not in DISK_FULL:
            _record_error(locals().get('config'), f'{type(e).__name__}: {e}')
            raise
        config = locals().get('config') or {}
        message = (f'no room to write {e.filename or "a file"} ({e.strerror}). The last complete checkpoint is '
                   f'intact: free some disk space, then continue with --resume {config.get("out", "RUN_DIR")}')
        log.error('%s', message)
        _record_error(config, message)
        return 1
    except Exception as e:
        _record_error(locals().get('config'), f'{type(e).__name__}: {e}')
        raise


def _record_error(config, message):
    """Put the error in the run's events too, when the run folder exists, so a UI sees why."""
    out = config and config.get('out')
    if out and os.path.isdir(out) and int(os.environ.get('RANK', 0)) == 0:
        try:
            EventLog(out).emit('error', message=message)
        except OSError:
            pass  # e.g. the disk is full: the message is on stderr already


if __name__ == '__main__':
    sys.exit(main())
