"""New samples of a texture from a synthesis model: `python -m worker.synthesize --model M --size 2048x1024
--count 4 --seed 0 --out DIR`.

Each sample is generated at exactly the size asked for, any size, and is periodic: laid edge to
edge it tiles without a seam (models.synthesis says why). Seed s gives the same sample on every
run and device; seeds s, s+1, ... give `--count` different ones. `--tile N` writes each sample's
NxN tiling beside it, to see that it is seamless. A sample too large for the memory budget is
rendered in bands of rows (models.synthesis_tiled): the same image in bounded memory.

`--frames N --fps F --out clip.mp4` renders a loop instead: the noise moves smoothly along a
closed path through noise space, so the texture flows and the last frame leads back to the first.
"""
from __future__ import annotations

import argparse
import logging
import math
import re
import sys
from pathlib import Path

import torch
from PIL import Image

from models.synthesis import SynthesisGenerator, seeded_noise
from models.synthesis_tiled import BYTES_PER_PIXEL, forward_banded

from .checkpoint import load_generator, resolve_model
from .images import MAX_PIXELS, save_image, to_image
from .stylize import add_device_arguments, device_and_budget, memory_budget
from .video import VideoError, is_video_name, write_video

log = logging.getLogger('tn.synthesize')


def parse_size(text: str) -> tuple[int, int]:
    """'2048x1024' (width x height) or '512' (a square) -> (width, height)."""
    m = re.fullmatch(r'\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*', str(text))
    if not m:
        raise ValueError(f'a size is WIDTHxHEIGHT (e.g. 2048x1024) or one number for a square, not {text!r}')
    width, height = int(m[1]), int(m[2] or m[1])
    check_size(width, height)
    return width, height


def check_size(width: int, height: int):
    if width < 1 or height < 1:
        raise ValueError(f'a sample needs at least 1x1 px, not {width}x{height}')
    if width * height > MAX_PIXELS:
        raise ValueError(f'{width}x{height} is {width * height:,} pixels, over the limit of {MAX_PIXELS:,} '
                         f'({MAX_PIXELS / 1e6:.0f} megapixels): ask for a smaller size (it tiles: repeat it instead)')


def render(generator: SynthesisGenerator, noises: list[torch.Tensor], budget: int | None = None) -> Image.Image:
    """The sample of these noises (one per scale, batch of one), as an RGB image: untiled when it
    fits the memory budget, else in bands of rows."""
    device = next(generator.parameters()).device
    noises = [z.to(device) for z in noises]
    height, width = noises[-1].shape[-2:]
    budget = budget or memory_budget(device)
    with torch.inference_mode():
        if BYTES_PER_PIXEL * width * height <= budget:
            out = generator(noises)
        else:
            log.info('%dx%d: rendered in bands, to stay within the memory budget', width, height)
            out = forward_banded(generator, noises, budget)
        return to_image(out[0])


def synthesize(generator: SynthesisGenerator, width: int, height: int, seed: int = 0,
               budget: int | None = None) -> Image.Image:
    """The sample of `seed` at width x height."""
    check_size(width, height)
    return render(generator, seeded_noise(generator, [seed], height, width), budget)


def tiled(image: Image.Image, n: int) -> Image.Image:
    """The image laid n x n edge to edge."""
    out = Image.new('RGB', (image.width * n, image.height * n))
    for i in range(n):
        for j in range(n):
            out.paste(image, (j * image.width, i * image.height))
    return out


def loop_noise(generator: SynthesisGenerator, width: int, height: int, seed: int, frames: int):
    """Each frame's noise on a closed path: z(t) = Phi(cos(t) Phi^-1(a) + sin(t) Phi^-1(b)) for the
    noises a (seed) and b (seed + 1), t = 2 pi i / frames. Gaussians rotated stay Gaussian, so
    every frame's noise is exactly uniform, as in training; frame 0 is the sample of `seed`."""
    normal = torch.distributions.Normal(0.0, 1.0)
    a, b = (seeded_noise(generator, [s], height, width) for s in (seed, seed + 1))
    ga = [normal.icdf(z.clamp(1e-6, 1 - 1e-6)) for z in a]
    gb = [normal.icdf(z.clamp(1e-6, 1 - 1e-6)) for z in b]
    for i in range(frames):
        t = 2 * math.pi * i / frames
        yield [normal.cdf(math.cos(t) * x + math.sin(t) * y) for x, y in zip(ga, gb)]


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
    p = argparse.ArgumentParser(prog='python -m worker.synthesize', description=__doc__.split('\n')[0])
    p.add_argument('--model', required=True, help='a synthesis model.pth, a checkpoint of one, or its run folder')
    p.add_argument('--size', default='512', help='WIDTHxHEIGHT, or one number for a square (default 512)')
    p.add_argument('--count', type=int, default=1, help='how many samples, of seeds seed, seed+1, ... (default 1)')
    p.add_argument('--seed', type=int, default=0, help='the first sample\'s seed (default 0)')
    p.add_argument('--out', required=True, help='a folder for the samples, or with --frames a video file (.mp4)')
    p.add_argument('--tile', type=int, default=0, metavar='N', help='also write each sample laid NxN (e.g. 2)')
    p.add_argument('--frames', type=int, help='render a seamless loop of this many frames to --out (a video)')
    p.add_argument('--fps', type=float, default=12, help='the loop\'s frame rate (default 12)')
    add_device_arguments(p, 'larger samples are rendered in bands')
    args = p.parse_args(argv)
    try:
        device, budget = device_and_budget(args)
        width, height = parse_size(args.size)
        if args.count < 1 or args.tile < 0 or (args.frames is not None and args.frames < 1) or not args.fps > 0:
            raise ValueError('--count and --frames must be at least 1, --tile at least 0, --fps positive')
        generator = load_generator(resolve_model(args.model), mode='synthesis').to(device)
        out = Path(args.out).expanduser()
        if args.frames:
            return _loop(generator, width, height, args, out, budget)
        if out.exists() and not out.is_dir():
            raise ValueError(f'--out {out} is a file: give a folder for the samples')
        out.mkdir(parents=True, exist_ok=True)
    except (ValueError, FileNotFoundError, OSError) as e:
        log.error('%s', e)
        return 2
    for seed in range(args.seed, args.seed + args.count):
        image = synthesize(generator, width, height, seed, budget)
        path = out / f'sample-{width}x{height}-seed{seed}.png'
        save_image(image, path)
        if args.tile > 1:
            save_image(tiled(image, args.tile), path.with_name(f'{path.stem}-tiled{args.tile}.png'))
        log.info('seed %d -> %s', seed, path)
    return 0


def _loop(generator, width, height, args, out: Path, budget) -> int:
    if not is_video_name(out):
        raise VideoError(f'--frames writes a video: --out {out} needs a video extension (.mp4)')
    from tqdm import tqdm
    bar = tqdm(total=args.frames, unit='frame', desc=out.name)
    images = (render(generator, noises, budget) for noises in loop_noise(generator, width, height, args.seed,
                                                                          args.frames))
    result = write_video(images, out, args.fps, progress=lambda done: bar.update(done - bar.n))
    bar.close()
    log.info('%s: %d frames, %dx%d, %g fps, looping', out, result['frames'], *result['size'], result['fps'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
