"""Video flicker: the mean absolute change between consecutive frames (0-255 grey levels) of a
clip, of its stylization with the same noise for every frame (worker.video), and with a fresh
draw for each frame. A slow pan across a photo, so the input itself changes a little.

    .venv/bin/python bench/video_flicker.py [--model M] [--frames 40] [--size 256]

M: a model.pth or .t7 (default: the authors' starry.t7 in ../shared, else a random generator).
"""
import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from common import table
from models.generator import Generator
from worker.checkpoint import load_generator
from worker.stylize import stylize

SHARED = Path(__file__).resolve().parents[2] / 'shared' / 'data'
SAMPLES = Path(__file__).resolve().parents[1] / 'samples' / 'content'


def pan(photo: Image.Image, frames: int, size: int, step: int = 2):
    """`frames` crops of `size`, each `step` px right of the last."""
    scale = (size + step * frames) / min(photo.size)
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.LANCZOS)
    return [photo.crop((i * step, 0, i * step + size, size)) for i in range(frames)]


def flicker(images) -> float:
    arrays = [np.asarray(im, dtype=np.float32) for im in images]
    return float(np.mean([np.abs(a - b).mean() for a, b in zip(arrays, arrays[1:])]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', help='default: ../shared/data/texture_nets_v1/starry.t7, else a random generator')
    p.add_argument('--frames', type=int, default=40)
    p.add_argument('--size', type=int, default=256)
    p.add_argument('--noise', type=float, default=1.0)
    a = p.parse_args()
    model = a.model or (SHARED / 'texture_nets_v1' / 'starry.t7')
    generator = load_generator(model) if Path(model).exists() else Generator().eval()
    source = SHARED / 'amber.jpg' if (SHARED / 'amber.jpg').exists() else sorted(SAMPLES.glob('*'))[0]
    clip = pan(Image.open(source).convert('RGB'), a.frames, a.size)
    fixed = [stylize(generator, f, a.noise, seed=0) for f in clip]
    fresh = [stylize(generator, f, a.noise, seed=i) for i, f in enumerate(clip)]
    base = flicker(clip)
    rows = [('input', f'{base:.2f}', '1.00'),
            ('same noise every frame', f'{flicker(fixed):.2f}', f'{flicker(fixed) / base:.2f}'),
            ('fresh noise each frame', f'{flicker(fresh):.2f}', f'{flicker(fresh) / base:.2f}')]
    print(f'{model if Path(model).exists() else "random generator"} on {source.name}, {a.frames} frames of '
          f'{a.size} px, a 2 px pan a frame, noise factor {a.noise}')
    table(('frames', 'mean |change|', 'x input'), rows)
    print(json.dumps({r[0]: float(r[1]) for r in rows}))


if __name__ == '__main__':
    main()
