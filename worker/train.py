"""Train a Texture Network for one texture: `python -m worker.train --data_dir DIR --texture IMG`
(stylization: photo + noise in), or `python -m worker.train --mode synthesis --texture IMG`
(texture synthesis: noise alone in, no photos).

One loop, readable top to bottom (`train`), after a set-up that returns everything it needs
(`set_up`). The run folder (--out) is the record of the run: config.json, events.jsonl
(worker.events), previews/, checkpoints/, and model.pth at the end. SIGINT/SIGTERM end the
current iteration, then save a checkpoint and model.pth. Runs under torchrun too
(DistributedDataParallel; rank 0 writes the record).
"""
from __future__ import annotations

import logging
import os
import platform
import random
import signal
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torchvision
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from models.fast import forward_fast
from models.generator import Generator
from models.losses import SynthesisLoss, TextureLoss
from models.synthesis import SynthesisGenerator, seeded_noise, tile
from models.vgg import VGGWeightsUnavailable, load_vgg19

from . import checkpoint as ckpt
from . import malloc, trainer_lock
from .atomic import DISK_FULL, write_json
from .config import by_layer, calibrate_with_defaults, default_workers, from_request, parse_args, validate
from .errors import RunFolderTaken, UsageError
from .data import (ContentDataset, DatasetError, IterationSampler, NoiseStream, Scan, load_crop, load_texture,
                   resolve_data_dir, resolve_texture, scan_folder)
from .events import EventLog, copy_history
from .hardware import cpu_has_bf16
from .images import save_image, to_image
from .protocol import PREVIEW_PHOTOS
from .report import Reporter, download_progress

log = logging.getLogger('tn.train')
# Texture synthesis: previews are the samples of these seeds (worker.synthesize --seed 0 gives the
# first), held-out evaluation the samples of EVAL_SEEDS (no training sample is drawn from them).
PREVIEW_SEEDS = tuple(range(4))
EVAL_SEEDS = tuple(range(1000, 1008))
EVAL_PHOTOS = 32  # at most this many photos of --eval_dir are held out and evaluated
# On every device: oneDNN's and cuDNN's convolutions are faster on NHWC tensors (bench/train_speed.py:
# 1.08x a step on this project's 2-core CPU).
MEMORY_FORMAT = torch.channels_last
RANDOM_VGG = ('VGG-19 has random weights (for tests): the network learns the texture\'s colours and local '
              'structure only. Use ImageNet weights for real styles.')


# ---------------------------------------------------------------------------------------------
# Pieces of the set-up


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
        auto = config['style_scale'] == 'auto'
        scale = calibrate_with_defaults(style, content, config['balance']) if auto else config['style_scale']
    except ValueError as e:
        raise UsageError(str(e)) from None
    weighted_content = loss_fn.content_weight * content
    ratio = scale * sum(w * l for w, l in zip(loss_fn.style_weights, style)) / weighted_content if weighted_content else None
    return {'style_scale': scale, 'start_balance': ratio}


def calibrate_synthesis(generator, loss_fn, noises, config: dict, world: int) -> dict:
    """Texture synthesis has no content term to balance against: the auto style scale makes the
    default-weighted style term start at 1 on step 1's own samples, so --diversity has one
    meaning for every texture and loss network."""
    with torch.no_grad():
        style, _ = loss_fn.terms(generator(noises))
    style = torch.stack([sum(w * l for w, l in zip(loss_fn.style_weights, style))]).float()
    if world > 1:
        dist.all_reduce(style)
        style /= world
    if config['style_scale'] != 'auto':
        return {'style_scale': config['style_scale'], 'start_balance': None}
    if not style.item() > 0:
        raise UsageError('the style scale cannot be calibrated: the texture has no style loss (a blank '
                         'texture?). Give --style_scale a number instead.')
    return {'style_scale': 1 / style.item(), 'start_balance': None}


def held_out_losses(generator, loss_fn, photos, batch_size: int, autocast) -> dict:
    """Mean losses of the held-out photos, with the same noise every time: only the net changes."""
    if isinstance(loss_fn, SynthesisLoss):
        return held_out_synthesis(generator, loss_fn, photos, autocast)
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


def held_out_synthesis(generator, loss_fn, noises, autocast) -> dict:
    """The style term and the mean nearest-sample distance of the samples of EVAL_SEEDS."""
    generator.eval()
    with torch.no_grad(), autocast():
        style, _, distance = loss_fn(generator(noises))
    generator.train()
    return dict(style=style.item(), distance=distance.item(), total=style.item())


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

    def agreed(self, it: int, setup: Setup) -> bool:
        """Whether to stop after step `it`. Under DDP every rank must leave the loop at the same
        step, or the next all-reduce hangs: the ranks agree every 10 steps."""
        if setup.world == 1:
            return self.requested
        if it % 10:
            return False
        flag = torch.tensor([float(self.requested)], device=setup.device)
        dist.all_reduce(flag)
        self.requested = flag.item() > 0
        return self.requested


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


# ---------------------------------------------------------------------------------------------
# Set-up


@dataclass
class Setup:
    """Everything the loop needs, made once by set_up()."""
    config: dict       # the settings asked for
    derived: dict      # what the trainer found: device, dataset, versions, the style scale
    device: torch.device
    world: int
    master: bool       # rank 0: it writes the record
    run_dir: Path
    generator: Generator
    model: torch.nn.Module  # the generator, or its DistributedDataParallel wrapper
    loss_fn: TextureLoss
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    loader: DataLoader
    previews: torch.Tensor | list  # the preview photos (synthesis: the noise of PREVIEW_SEEDS)
    held_out: torch.Tensor | list  # the photos evaluated at each checkpoint (synthesis: EVAL_SEEDS' noise)
    start: int         # iterations done before this process
    amp_dtype: torch.dtype | None
    report: Reporter

    def autocast(self):
        return torch.autocast(self.device.type, self.amp_dtype) if self.amp_dtype else nullcontext()

    def on_device(self, batch):
        return to_device(batch, self.device)


def to_device(batch, device):
    """A batch of photos, or (synthesis) the list of each scale's noise, on the device."""
    if isinstance(batch, list):
        return [to_device(x, device) for x in batch]
    return batch.to(device, non_blocking=True).contiguous(memory_format=MEMORY_FORMAT)


def set_up_device(config: dict):
    """(device, world size, rank), with seeds and threads set."""
    world = int(os.environ.get('WORLD_SIZE', 1))
    rank = int(os.environ.get('RANK', 0))
    device = resolve_device(config['device'])
    if world > 1:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    torch.manual_seed(config['seed'] + rank)
    random.seed(config['seed'] + rank)
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    elif 'OMP_NUM_THREADS' not in os.environ:  # an explicit setting (torchrun makes one) wins
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    return device, world, rank


def precision(device: torch.device, choice: str = 'auto') -> torch.dtype | None:
    """The autocast dtype (None: fp32) for this device and the `precision` setting. bf16 where the
    hardware computes it (GPUs since Ampere; CPUs with AVX512-BF16 or AMX: 1.8x on the CPU here);
    fp16 with a loss scaler on older GPUs. A CPU without bf16 instructions would emulate it, slower
    than fp32, so it stays in fp32."""
    if choice == 'fp32':
        return None
    if device.type == 'cuda':
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_bf16() else None


def open_record(config: dict, record, inputs) -> EventLog:
    """The run folder, ready for events (rank 0). A resumed run's log loses what came after its
    checkpoint; a run continued into a new folder starts with its source's curve."""
    run_dir = Path(config['out'])
    trainer_lock.claim(run_dir)  # first: while it is held, this folder is ours alone
    if record is None and (run_dir / 'events.jsonl').exists():
        raise RunFolderTaken(f'{run_dir} already holds a run. Continue it with --resume {run_dir}, '
                             'or give another --out.')
    for sub in ('checkpoints', 'previews'):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    # Before any preview event can be read: the dashboard shows these beside previews.
    if inputs.preview:
        save_image(to_image(torch.cat([load_crop(p, config['image_size']) for p in inputs.preview], 2)),
                   run_dir / 'previews' / 'photos.png')
    # The texture as the loss network sees it: the run folder shows its texture wherever it goes.
    save_image(to_image(inputs.texture[0]), run_dir / 'previews' / 'exemplar.png')
    # The settings at once, for whoever lists the folder meanwhile (the service lists a folder
    # from its config.json on: the pictures above are there); set_up adds what it derives.
    write_json(run_dir / 'config.json', {**config, 'derived': record.get('derived') if record else None})
    start = record['iteration'] if record is not None else None
    if record is not None:
        source = Path(config['resume']).parent.parent
        if not (run_dir / 'events.jsonl').exists() and source.resolve() != run_dir.resolve():
            copy_history(source, run_dir, start)
    return EventLog(run_dir, keep_until=start)


@dataclass
class Inputs:
    """The photos and the texture, found and checked before anything is written."""
    data_dir: Path | None  # None for texture synthesis: no photos
    scan: Scan | None  # what is usable, what was skipped and why
    texture_path: Path
    texture: torch.Tensor
    train: list        # photo paths the sampler draws from
    preview: list      # held out: stylized every preview_every steps
    eval: list         # held out: evaluated at each checkpoint (often the preview photos)


def find_inputs(config: dict) -> Inputs:
    if config['mode'] == 'synthesis':
        texture_path = resolve_texture(config['texture'])
        return Inputs(None, None, texture_path, load_texture(texture_path, config['style_size']), [], [], [])
    data_dir = resolve_data_dir(config['data_dir'])
    scan = scan_folder(data_dir)
    texture_path = resolve_texture(config['texture'])
    texture = load_texture(texture_path, config['style_size'])
    train_paths, preview_paths = held_out_split(scan.usable, PREVIEW_PHOTOS)
    train_paths, eval_paths = eval_split(train_paths, preview_paths, config['eval_dir'])
    log.info('%s', scan.summary())
    for path, reason in scan.skipped[:20]:
        log.warning('skipped %s: %s', path, reason)
    return Inputs(data_dir, scan, texture_path, texture, train_paths, preview_paths, eval_paths)


def build_networks(config: dict, texture, events, world: int, master: bool):
    """(generator, loss). Rank 0 loads VGG first and alone: it may download the weights."""
    vgg = load_vgg19(config['vgg_weights'], progress=download_progress(events)) if master else None
    if world > 1:
        dist.barrier()
    vgg = vgg if master else load_vgg19(config['vgg_weights'])
    if config['mode'] == 'synthesis':
        return (SynthesisGenerator(scales=config['scales'], norm=config['norm']),
                SynthesisLoss(vgg, texture, by_layer(config['style_weights']), config['diversity'],
                              normalise_grad=config['grad_norm']))
    generator = Generator(scales=config['scales'], norm=config['norm'], noise=config['noise'])
    return generator, TextureLoss(vgg, texture, by_layer(config['style_weights']), config['content_weight'])


def build_optimizer(generator, config: dict, amp_dtype, record: dict | None):
    """(optimizer, scheduler, scaler, iterations done), restored from the checkpoint on resume."""
    optimizer = torch.optim.Adam(generator.parameters(), lr=config['lr'])
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, config['lr_step'], config['lr_decay'])
    scaler = torch.amp.GradScaler('cuda', enabled=amp_dtype == torch.float16)
    if record is None:
        return optimizer, scheduler, scaler, 0
    generator.load_state_dict(record['state_dict'])
    optimizer.load_state_dict(record['optimizer'])
    scheduler.load_state_dict(record['scheduler'])
    scaler.load_state_dict(record['scaler'])
    set_rng_state(record['rng'])
    return optimizer, scheduler, scaler, record['iteration']


def make_loader(dataset, config: dict, start: int, rank: int, world: int, cuda: bool):
    """(loader, workers): this rank's batches from iteration `start` on, in the sampler's order."""
    workers = config['workers'] if config['workers'] is not None else default_workers(cuda)
    loader = DataLoader(
        dataset, batch_size=config['batch_size'],
        sampler=IterationSampler(len(dataset), config['batch_size'], config['seed'], start,
                                 config['iterations'], rank, world),
        num_workers=workers, pin_memory=cuda, persistent_workers=False, prefetch_factor=4 if workers else None,
        worker_init_fn=_ignore_sigint, generator=torch.Generator())  # its own seed: the global stream must not move
    return loader, workers


def photo_data(config, inputs, generator, loss_fn, record, start, rank, world, device):
    """(loader, workers, calibration, preview photos, held-out photos) of a stylization run."""
    dataset = ContentDataset(inputs.train, config['image_size'])
    if record is None:
        first = torch.stack([dataset[key] for key in IterationSampler(
            len(dataset), config['batch_size'], config['seed'], 0, 1, rank, world)])
        calibration = calibrate_style(generator, loss_fn, to_device(first, device), config, world)
    else:
        calibration = recorded_calibration(record)
    loss_fn.style_scale = calibration['style_scale']
    loader, workers = make_loader(dataset, config, start, rank, world, device.type == 'cuda')
    previews = torch.stack([load_crop(p, config['image_size']) for p in inputs.preview]).to(device)
    held_out = previews if inputs.eval is inputs.preview else \
        torch.stack([load_crop(p, config['image_size']) for p in inputs.eval]).to(device)
    return loader, workers, calibration, previews, held_out


def noise_data(config, inputs, generator, loss_fn, record, start, rank, world, device):
    """The same for texture synthesis: the noise stream, and the noise of the preview and
    held-out seeds (no workers: drawing noise costs nothing beside a step)."""
    size, batch = config['image_size'], config['batch_size']
    if record is None:
        first = next(iter(NoiseStream(generator, batch, size, config['seed'], 0, 1, rank, world)))
        calibration = calibrate_synthesis(generator, loss_fn, to_device(first, device), config, world)
    else:
        calibration = recorded_calibration(record)
    loss_fn.style_scale = calibration['style_scale']
    stream = NoiseStream(generator, batch, size, config['seed'], start, config['iterations'], rank, world)
    previews, held_out = (to_device(seeded_noise(generator, seeds, size, size), device)
                          for seeds in (PREVIEW_SEEDS, EVAL_SEEDS))
    return stream, 0, calibration, previews, held_out


def recorded_calibration(record: dict) -> dict:
    """The recorded scale: a resumed curve continues the same one (runs from before: raw units)."""
    return record.get('derived', {}).get('calibration') or {'style_scale': 1.0, 'start_balance': None}


def derive(inputs: Inputs, device, world: int, amp_dtype, workers: int, calibration: dict) -> dict:
    """What the trainer found, recorded beside the settings asked for (config.json `derived`)."""
    scan = inputs.scan
    dataset = None if scan is None else dict(
        usable=len(scan.usable), skipped=len(scan.skipped), reasons=scan.reasons(), preview_photos=inputs.preview,
        eval_photos=len(inputs.eval), held_out=len(inputs.train) < len(scan.usable))
    return dict(
        calibration=calibration, data_dir=inputs.data_dir and str(inputs.data_dir),
        texture_path=str(inputs.texture_path),
        world_size=world, device_name=describe_device(device),
        amp=str(amp_dtype).replace('torch.', '') if amp_dtype else 'fp32', workers=workers, dataset=dataset,
        versions=dict(python=platform.python_version(), torch=str(torch.__version__),
                      torchvision=str(torchvision.__version__)))


def set_up(config: dict, record: dict | None = None) -> Setup:
    device, world, rank = set_up_device(config)
    master, cuda = rank == 0, device.type == 'cuda'
    amp_dtype = precision(device, config['precision'])
    inputs = find_inputs(config)  # unusable photos or texture fail before anything is written
    events = open_record(config, record, inputs) if master else None

    generator, loss_fn = build_networks(config, inputs.texture, events, world, master)
    generator.to(device, memory_format=MEMORY_FORMAT)
    loss_fn.to(device, memory_format=MEMORY_FORMAT)
    optimizer, scheduler, scaler, start = build_optimizer(generator, config, amp_dtype, record)
    model = DistributedDataParallel(generator, device_ids=[device.index] if cuda else None) if world > 1 else generator
    make_data = noise_data if config['mode'] == 'synthesis' else photo_data
    loader, workers, calibration, previews, held_out = make_data(config, inputs, generator, loss_fn, record, start,
                                                                 rank, world, device)

    derived = derive(inputs, device, world, amp_dtype, workers, calibration)
    run_dir = Path(config['out'])
    report = Reporter(events, config, start, config['iterations'], world, run_dir.name)
    if master:
        write_json(run_dir / 'config.json', {**config, 'derived': derived})
        warnings = ([RANDOM_VGG] if config['vgg_weights'] == 'random' else []) + \
            (['skipped ' + inputs.scan.summary().split('; skipped ')[1]] if inputs.scan and inputs.scan.skipped else [])
        if config['mode'] == 'synthesis' and config['diversity'] and config['batch_size'] < 2:
            warnings.append('--diversity needs a batch of at least 2 samples to compare: with --batch_size 1 '
                            'it does nothing')
        report.begin(derived, record is not None, warnings, run_dir)
    log.info('run folder %s; %s; %s; %d train + %d preview photos', run_dir, derived['device_name'],
             derived['amp'], len(inputs.train), len(inputs.preview))
    return Setup(config, derived, device, world, master, run_dir, generator, model, loss_fn, optimizer, scheduler,
                 scaler, loader, previews, held_out, start, amp_dtype, report)


# ---------------------------------------------------------------------------------------------
# Training


def training_step(model, loss_fn, optimizer, scaler, batch, amp_dtype=None):
    """One optimiser step on a batch (photos, or a synthesis run's noise); returns the two terms
    added, detached (style and content, or style and diversity), and what the loss watches beside
    them (synthesis: the mean nearest-sample distance; else None). The benchmarks time this."""
    device = (batch[0] if isinstance(batch, list) else batch).device
    with torch.autocast(device.type, amp_dtype) if amp_dtype else nullcontext():
        first, second, watched = loss_fn.on_batch(model, batch)
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(first + second).backward()
    scaler.step(optimizer)
    scaler.update()
    return first.detach(), second.detach(), watched


def evaluate(setup: Setup, it: int):
    losses = held_out_losses(setup.generator, setup.loss_fn, setup.held_out, setup.config['batch_size'], setup.autocast)
    setup.report.emit('eval', iteration=it, **losses)


def save_preview(setup: Setup, it: int):
    """The preview photos through the network as stylize renders them (fp32, models.fast): the
    picture chosen by eye is the one the model gives."""
    if isinstance(setup.generator, SynthesisGenerator):
        return save_samples(setup, it)
    setup.model.eval()
    noise = torch.Generator(setup.device).manual_seed(0)  # the same noise every time: only the net changes
    out = forward_fast(setup.generator, setup.previews, generator=noise)
    setup.model.train()
    strip = torch.cat(list(out), 2)
    path = setup.run_dir / 'previews' / f'iter_{it:07d}.png'
    save_image(to_image(strip), path)
    setup.report.preview(it, str(path.relative_to(setup.run_dir)), strip)


def save_samples(setup: Setup, it: int):
    """Texture synthesis: the samples of PREVIEW_SEEDS side by side (fp32, as worker.synthesize
    renders them), and the first one tiled 2x2, so a seam would show while it trains."""
    setup.model.eval()
    with torch.no_grad():
        out = setup.generator(setup.previews).float()
    setup.model.train()
    strip = torch.cat(list(out), 2)
    path = setup.run_dir / 'previews' / f'iter_{it:07d}.png'
    tiled = path.with_name(f'iter_{it:07d}-tiled.png')
    save_image(to_image(strip), path)
    save_image(to_image(tile(out[:1], 2)[0]), tiled)
    setup.report.preview(it, str(path.relative_to(setup.run_dir)), strip, tiled=str(tiled.relative_to(setup.run_dir)))


def save_checkpoint(setup: Setup, it: int, final: bool = False):
    """A checkpoint (all a resume needs), its held-out losses, and at the end model.pth."""
    setup.report.flush()  # the curve reaches this iteration before the checkpoint does
    state = ckpt.model_record(setup.generator, it, setup.config, setup.derived)
    state.update(config=setup.config, derived=setup.derived, optimizer=setup.optimizer.state_dict(),
                 scheduler=setup.scheduler.state_dict(), scaler=setup.scaler.state_dict(), rng=rng_state())
    path = ckpt.checkpoint_path(setup.run_dir, it)
    ckpt.save(state, path)
    setup.report.emit('checkpoint', iteration=it, path=str(path.relative_to(setup.run_dir)))
    evaluate(setup, it)
    if final:
        ckpt.save(ckpt.model_record(setup.generator, it, setup.config, setup.derived), setup.run_dir / 'model.pth')


def train(config: dict, record: dict | None = None) -> int:
    setup = set_up(config, record)
    total = config['iterations']
    stop = StopRequest()
    if setup.master and record is None:
        evaluate(setup, 0)  # the held-out curve starts from the untrained network
    setup.model.train()
    it = setup.start
    for photos in setup.loader:
        it += 1
        terms = training_step(setup.model, setup.loss_fn, setup.optimizer, setup.scaler, setup.on_device(photos),
                              setup.amp_dtype)
        setup.report.step(it, *terms, setup.scheduler.get_last_lr()[0])
        setup.scheduler.step()
        stopping = stop.agreed(it, setup)
        last = it == total or stopping
        if setup.master and (it % config['preview_every'] == 0 or last):
            save_preview(setup, it)
        if setup.master and (it % config['checkpoint_every'] == 0 or last):
            save_checkpoint(setup, it, final=last)
        if stopping:
            break
    if setup.master and it == setup.start:  # nothing left to do, e.g. resuming a finished run
        save_checkpoint(setup, it, final=True)
    setup.report.end(it)
    if setup.master:
        log.info('done: %s', setup.run_dir / 'model.pth')
    if setup.world > 1:
        dist.destroy_process_group()
    return 0


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(message)s', datefmt='%H:%M:%S')
    malloc.reuse_freed_memory()  # every step allocates the same tensors: keep them (1.2x on the CPU here)
    try:
        args = parse_args(argv)
        if 'run' in args:
            if len(args) > 1:
                raise UsageError('--run takes the settings from the run folder: give no other flag with it')
            config = {'out': args['run']}  # where an error is recorded, until the settings are read
            config, record = from_request(args['run'])
        else:
            config, record = validate(args)
        return train(config, record)
    except RunFolderTaken as e:  # another run's folder: nothing of ours goes there
        log.error('%s', e)
        return 2
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
