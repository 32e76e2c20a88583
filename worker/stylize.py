"""Stylize photos with a trained generator: `python -m worker.stylize --model M --input IMG_OR_DIR --output PATH`.

A video in (--input clip.mp4 --output out.mp4) is stylized frame by frame with the same noise for
every frame, its sound kept (worker.video).

The model may be a model.pth, a checkpoint, or one of the authors' .t7 networks. Any size and
aspect works; the output has the input's size unless --size (long side) is given. The noise
factor is the style-strength control: 0 gives the clearest content, 1 is the training value,
larger lets the texture take over.

The untiled forward is models.fast's (the same function as the generator's, faster). An image
whose untiled pass would not fit the memory budget (half the free memory, or
--max_memory_gb) is rendered in tiles by models.tiled: the same output, in bounded memory,
about four times slower.
"""
from __future__ import annotations

import argparse
import itertools
import logging
import os
import sys
from pathlib import Path

import torch
from PIL import Image

from models.fast import forward_fast
from models.tiled import forward_tiled, halo

from . import malloc
from .checkpoint import load_generator, resolve_model
from .images import EXTENSIONS, ImageError, is_image_name, open_rgb, resize_long_side, save_image, to_image, to_tensor
from .protocol import STYLIZE_NOISE, STYLIZE_SEED
from .video import VIDEO_EXTENSIONS, VideoError, is_video_name, stylize_video

log = logging.getLogger('tn.stylize')
# Peak memory of the untiled generator, per pixel (measured on the CPU, fp32: 3.6 GB for a
# 3-megapixel photo, 13.4 GB for 12): the full-resolution join's 40 channels, several times over.
BYTES_PER_PIXEL = 1100
# The same for a tile with its margin, measured the same way (more: the allocator keeps what
# the previous tile freed).
TILE_BYTES_PER_PIXEL = 1500
# What a tiled render keeps for the whole image, per pixel: the photo and the noise of every
# scale in fp32, the 8-bit images at both ends (measured: 1.5 GB at 24 megapixels).
TILED_BYTES_PER_PIXEL = 60


def memory_budget(device: torch.device) -> int:
    """Bytes a stylization may use: TN_MAX_MEMORY_GB, else most of the free GPU memory, or half
    the memory this machine has available."""
    if os.environ.get('TN_MAX_MEMORY_GB'):
        return int(float(os.environ['TN_MAX_MEMORY_GB']) * 2**30)
    if device.type == 'cuda':
        return int(torch.cuda.mem_get_info(device)[0] * 0.8)
    try:
        with open('/proc/meminfo') as f:
            available = next(int(line.split()[1]) * 1024 for line in f if line.startswith('MemAvailable:'))
    except (OSError, StopIteration):
        available = 8 * 2**30
    return available // 2


def add_device_arguments(p: argparse.ArgumentParser, larger: str):
    """--device and --max_memory_gb, for a command that renders with a generator."""
    p.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    p.add_argument('--max_memory_gb', type=float, help=f'memory budget; {larger} (default: half the available '
                   'memory, most of the free GPU memory)')


def device_and_budget(args) -> tuple[torch.device, int | None]:
    """The device and the memory budget (bytes, None: the default) those arguments ask for."""
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise ValueError('--device cuda: PyTorch sees no CUDA GPU; use --device cpu')
    device = torch.device('cuda' if args.device != 'cpu' and torch.cuda.is_available() else 'cpu')
    return device, int(args.max_memory_gb * 2**30) if args.max_memory_gb else None


def tile_size(generator, budget: int, pixels: int) -> int | None:
    """The tile side that fits the budget beside the whole image's buffers; None when the image
    fits untiled."""
    if BYTES_PER_PIXEL * pixels <= budget:
        return None
    left = max(budget - TILED_BYTES_PER_PIXEL * pixels, 0)
    side = int((left / TILE_BYTES_PER_PIXEL) ** 0.5) - 2 * halo(generator)
    return max(256, min(2048, side))


def stylize(generator, image: Image.Image, noise: float = STYLIZE_NOISE, seed: int | None = STYLIZE_SEED,
            size: int | None = None, preserve_colors: bool = False, budget: int | None = None) -> Image.Image:
    """One RGB PIL image in, its stylization out. A fixed `seed` makes the result repeatable."""
    if size:
        image = resize_long_side(image, size)
    device = next(generator.parameters()).device
    x = to_tensor(image).unsqueeze(0).to(device)
    rng = torch.Generator(device).manual_seed(seed) if seed is not None else None
    tile = tile_size(generator, budget or memory_budget(device), image.width * image.height)
    with torch.inference_mode():
        if tile is None:
            with malloc.reusing_freed_memory():
                out = forward_fast(generator, x, noise, rng)
        else:
            log.info('%dx%d: rendered in %d px tiles, to stay within the memory budget', *image.size, tile)
            out = forward_tiled(generator, x, noise, rng, tile, as_uint8=True)
        del x
        out = to_image(out)
    if preserve_colors:
        out = keep_colors(image, out)
    return out


def keep_colors(photo: Image.Image, styled: Image.Image) -> Image.Image:
    """The stylized luminance with the photo's chrominance: style without its palette."""
    y, _, _ = styled.convert('YCbCr').split()
    _, cb, cr = photo.resize(styled.size).convert('YCbCr').split()
    return Image.merge('YCbCr', (y, cb, cr)).convert('RGB')


def _pairs(inp: Path, out: Path):
    """(input, output) paths: a file to a file, or a folder to a folder (same relative names)."""
    if inp.is_dir():
        files = sorted(p for p in inp.rglob('*') if p.is_file() and is_image_name(p))
        if not files:
            raise ValueError(f'{inp} holds no images ({", ".join(EXTENSIONS)})')
        if out.exists() and not out.is_dir():
            raise ValueError(f'--input is a folder, so --output must be a folder too; {out} is a file')
        return [(f, out / f.relative_to(inp)) for f in files]
    if not inp.is_file():
        raise ValueError(f'{inp} does not exist')
    if out.is_dir():
        out = out / (inp.stem + '.png')
    elif not is_image_name(out):
        raise ValueError(f'--output {out} needs an image extension (.png or .jpg), or must be an existing folder')
    return [(inp, out)]


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
    p = argparse.ArgumentParser(prog='python -m worker.stylize', description=__doc__.split('\n')[0])
    p.add_argument('--model', required=True, help='model.pth, a checkpoint, a run folder, or an authors\' .t7')
    p.add_argument('--input', required=True, help='an image, a folder of images, or a video')
    p.add_argument('--output', required=True, help='an image path, a folder, or a video path')
    p.add_argument('--noise', type=float, default=STYLIZE_NOISE,
                   help=f'noise factor: style strength (default {STYLIZE_NOISE:g})')
    p.add_argument('--seed', type=int, default=STYLIZE_SEED,
                   help=f'noise seed, for repeatable results (default {STYLIZE_SEED})')
    p.add_argument('--fresh_noise', action='store_true',
                   help='video: a new noise draw for each frame (the texture boils; for comparison)')
    p.add_argument('--size', type=int, help='resize so the long side is this many px')
    p.add_argument('--preserve_colors', action='store_true', help="keep the photo's colours")
    add_device_arguments(p, 'larger images are rendered in tiles')
    args = p.parse_args(argv)
    try:
        device, budget = device_and_budget(args)
        generator = load_generator(resolve_model(args.model), mode='stylize').to(device)
        if is_video_name(args.input):
            return _video(generator, args, budget)
        pairs = _pairs(Path(args.input).expanduser(), Path(args.output).expanduser())
    except (ValueError, FileNotFoundError, OSError) as e:
        log.error('%s', e)
        return 2
    failed = 0
    for src, dst in pairs:
        try:
            styled = stylize(generator, open_rgb(src), args.noise, args.seed, args.size, args.preserve_colors, budget)
        except ImageError as e:
            log.warning('skipped %s: %s', src, e)
            failed += 1
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        save_image(styled, dst, **({'quality': 95} if dst.suffix.lower() in ('.jpg', '.jpeg') else {}))
        log.info('%s -> %s (%dx%d)', src, dst, *styled.size)
    if failed == len(pairs):
        log.error('no image could be stylized')
        return 1
    return 0


def _video(generator, args, budget) -> int:
    src, dst = Path(args.input).expanduser(), Path(args.output).expanduser()
    if not src.is_file():
        raise VideoError(f'{src} does not exist')
    if not is_video_name(dst):
        raise VideoError(f'--output {dst} needs a video extension ({", ".join(VIDEO_EXTENSIONS)})')
    from tqdm import tqdm
    bar = tqdm(unit='frame', desc=dst.name)
    count = itertools.count()

    def render(frame):
        seed = args.seed + next(count) if args.fresh_noise else args.seed
        return stylize(generator, frame, args.noise, seed, args.size, args.preserve_colors, budget)

    def progress(done, total):
        bar.total = total
        bar.update(done - bar.n)
    result = stylize_video(render, src, dst, progress)
    bar.close()
    log.info('%s -> %s: %d frames, %dx%d, %g fps%s', src, dst, result['frames'], *result['size'], result['fps'],
             ', with its sound' if result['audio'] else '')
    return 0


if __name__ == '__main__':
    sys.exit(main())
