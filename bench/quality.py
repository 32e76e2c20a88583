"""Quality against the per-image optimisation baseline (Gatys et al.): for each photo, the
trained network's loss divided by the loss per-image optimisation reaches on the same
objective (the model's texture, weights, VGG and style scale), and the time of each.

    .venv/bin/python bench/quality.py --model runs/glass/model.pth --photos samples/content [--size 256] [--steps 200]

A ratio of 1 means the network's one pass is as good, by its own objective, as hundreds of
VGG passes on that photo; the paper reports its networks within a small factor of it.
A texture-synthesis model is measured the same way on `--samples` seeds instead of photos: its
sample's style loss over the loss optimisation from noise reaches (`--photos` is not needed); the
paper's claim is comparable quality, hundreds of times faster.

    .venv/bin/python bench/quality.py --model runs/swirls --size 256 --samples 4

Prints a table, then the figures as JSON.
"""
import argparse
import json
import time

import torch

from common import table
from worker.checkpoint import load_generator
from worker.images import is_image_name, open_rgb, resize_long_side, to_tensor
from worker.optimize import build_loss, objective_of, objective_terms, optimize
from models.synthesis import seeded_noise
from worker.checkpoint import resolve_model


def measure(model_path, photo_paths, size, steps, method, device):
    generator = load_generator(model_path).to(device)
    loss_fn = build_loss(objective_of(model_path)).to(device)
    rows = []
    for path in photo_paths:
        photo = to_tensor(resize_long_side(open_rgb(path), size)).unsqueeze(0).to(device)
        t = time.perf_counter()
        with torch.no_grad():
            out = generator(photo, generator=torch.Generator(device).manual_seed(0)).clamp(0, 1)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            net_s = time.perf_counter() - t
            net = sum(x.item() for x in loss_fn(out, photo))
            start = sum(x.item() for x in loss_fn(photo, photo))
        t = time.perf_counter()
        _, style, content = optimize(loss_fn, photo, steps, method)
        rows.append(dict(photo=path.name, network=net, optimisation=style + content, photo_itself=start,
                         ratio=net / (style + content), network_s=net_s, optimisation_s=time.perf_counter() - t))
    return rows


def measure_synthesis(model_path, seeds, size, steps, method, device):
    generator = load_generator(model_path, mode='synthesis').to(device)
    loss_fn = build_loss(objective_of(model_path)).to(device)
    rows = []
    for seed in seeds:
        noises = [z.to(device) for z in seeded_noise(generator, [seed], size, size)]
        t = time.perf_counter()
        with torch.no_grad():
            out = generator(noises).clamp(0, 1)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            net_s = time.perf_counter() - t
            net = objective_terms(loss_fn, out)[0].item()
        start = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed)).to(device)
        t = time.perf_counter()
        _, style, _ = optimize(loss_fn, start, steps, method)
        rows.append(dict(photo=f'seed {seed}', network=net, optimisation=style, ratio=net / style,
                         network_s=net_s, optimisation_s=time.perf_counter() - t))
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True, help='model.pth, a checkpoint or a run folder')
    p.add_argument('--photos', help='a folder of photos (stylization models)')
    p.add_argument('--samples', type=int, default=4, help='synthesis models: samples of seeds 0..N-1 (default 4)')
    p.add_argument('--size', type=int, default=256, help='long side, px (default 256)')
    p.add_argument('--steps', type=int, default=200, help='VGG evaluations of the optimisation (default 200)')
    p.add_argument('--method', choices=('lbfgs', 'adam'), default='lbfgs')
    p.add_argument('--limit', type=int, default=6, help='at most this many photos (default 6)')
    p.add_argument('--device', choices=('cpu', 'cuda'), default='cuda' if torch.cuda.is_available() else 'cpu')
    a = p.parse_args()
    from pathlib import Path
    model = resolve_model(a.model)
    if objective_of(model)['mode'] == 'synthesis':
        rows = measure_synthesis(model, range(a.samples), a.size, a.steps, a.method, torch.device(a.device))
    else:
        if not a.photos:
            p.error('--photos is needed for a stylization model')
        photos = sorted(f for f in Path(a.photos).iterdir() if is_image_name(f))[: a.limit]
        rows = measure(model, photos, a.size, a.steps, a.method, torch.device(a.device))
    print(f'{a.model}: {a.size} px, {a.method} {a.steps} evaluations, {a.device}, torch {torch.__version__}')
    table(('photo', 'network loss', 'optimised loss', 'ratio', 'network ms', 'optimisation s'),
          [(r['photo'], f'{r["network"]:.4g}', f'{r["optimisation"]:.4g}', f'{r["ratio"]:.2f}',
            f'{r["network_s"] * 1000:.0f}', f'{r["optimisation_s"]:.1f}') for r in rows])
    ratios = [r['ratio'] for r in rows]
    print(f'median ratio {sorted(ratios)[len(ratios) // 2]:.2f}')
    print(json.dumps(rows))


if __name__ == '__main__':
    main()
