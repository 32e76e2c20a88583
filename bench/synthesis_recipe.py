"""The texture-synthesis recipe, measured: which generator, learning rate, gradient normalisation
and diversity weight learn a texture best in a short CPU run, judged by worker.texture_signals on
held-out seeds (statistics the loss did not optimise; 128 px samples whatever the training
crops), with the time each took.

    .venv/bin/python bench/synthesis_recipe.py --steps 300 --size 128 --batch 4 \
        --textures samples/textures/starry_swirls.jpg --variants pyramid6,plain5,gradnorm,nodiv

Every variant trains with the trainer's own pieces (SynthesisLoss, NoiseStream, training_step),
from the same seed, and its held-out samples are saved under bench/results/synthesis_recipe/.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.losses import SynthesisLoss  # noqa: E402
from models.synthesis import SynthesisGenerator, count_parameters, seeded_noise  # noqa: E402
from models.vgg import load_vgg19  # noqa: E402
from worker.config import DEFAULTS, by_layer  # noqa: E402
from worker.data import NoiseStream  # noqa: E402
from worker.images import save_image, to_image  # noqa: E402
from worker.texture_signals import texture_signals  # noqa: E402
from worker.data import load_texture  # noqa: E402
from worker.train import EVAL_SEEDS, MEMORY_FORMAT, precision, training_step  # noqa: E402

BASE = dict(scales=6, point=True, lr=0.05, diversity=0.0, grad_norm=False)
VARIANTS = {
    'pyramid6': {},                                    # the authors' pyramid: 6 scales, 3x3-3x3-1x1 blocks
    'plain5': dict(scales=5, point=False),             # the stylization generator minus its photo
    'plain6': dict(scales=6, point=False),
    'gradnorm': dict(grad_norm=True),                  # each layer's gradient L1-normalised (times its weight)
    'div0.001': dict(diversity=0.001),
    'div0.01': dict(diversity=0.01),
    'div0.1': dict(diversity=0.1),
    'gradnorm_div0.1': dict(grad_norm=True, diversity=0.1),
    'lr0.01': dict(lr=0.01),
    'lr0.1': dict(lr=0.1),
    'px64': dict(size=64),                             # smaller training crops: 4x fewer pixels a step
    'px96': dict(size=96),
    'steps150': dict(steps=150),
}


def train_variant(texture, vgg, v: dict, amp):
    steps, size, batch = v['steps'], v['size'], v['batch']
    torch.manual_seed(0)
    g = SynthesisGenerator(v['scales'], point=v['point']).to(memory_format=MEMORY_FORMAT)
    loss = SynthesisLoss(vgg, texture, by_layer(DEFAULTS['style_weights']), diversity=v['diversity'], normalise_grad=v['grad_norm'])
    first = next(iter(NoiseStream(g, batch, size, 0, 0, 1)))
    with torch.no_grad():
        style, _ = loss.terms(g(first))
    loss.style_scale = 1 / sum(w * s for w, s in zip(loss.style_weights, style)).item()
    opt = torch.optim.Adam(g.parameters(), lr=v['lr'])
    sched = torch.optim.lr_scheduler.StepLR(opt, 300, 0.8)
    scaler = torch.amp.GradScaler('cuda', enabled=False)
    t = time.perf_counter()
    for noises in NoiseStream(g, batch, size, 0, 0, steps):
        training_step(g, loss, opt, scaler, [z.contiguous(memory_format=MEMORY_FORMAT) for z in noises], amp)
        sched.step()
    return g.eval(), time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--steps', type=int, default=300)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--batch', type=int, default=4)
    p.add_argument('--textures', default='samples/textures/starry_swirls.jpg')
    p.add_argument('--variants', default=','.join(VARIANTS))
    p.add_argument('--precision', choices=('auto', 'fp32'), default='auto')
    p.add_argument('--vgg_weights', default='random')
    args = p.parse_args()
    amp = precision(torch.device('cpu'), args.precision)
    vgg = load_vgg19(args.vgg_weights)
    out_dir = Path(__file__).resolve().parent / 'results' / 'synthesis_recipe'
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f'{args.steps} steps, {args.size} px, batch {args.batch}, {amp or "fp32"}, VGG {args.vgg_weights}')
    print(f'{"texture":16} {"variant":9} {"params":>7} {"s":>6} {"colour":>7} {"struct":>7} {"spread":>7} {"seam":>5}')
    for texture_path in args.textures.split(','):
        texture = load_texture(texture_path, 256)
        name = Path(texture_path).stem[:16]
        run = dict(steps=args.steps, size=args.size, batch=args.batch)
        for key in ['untrained', *args.variants.split(',')]:
            g, seconds = (SynthesisGenerator().eval(), 0.0) if key == 'untrained' else \
                train_variant(texture, vgg, {**BASE, **run, **VARIANTS[key]}, amp)
            with torch.no_grad():
                samples = g(seeded_noise(g, EVAL_SEEDS, 128, 128))  # judged at one size, whatever the crops
            s = texture_signals(samples, texture)
            print(f'{name:16} {key:9} {count_parameters(g):7d} {seconds:6.0f} {s["colour"]:7.4f} '
                  f'{s["structure"]:7.3f} {s["spread"]:7.3f} {s["seam"]:5.2f}', flush=True)
            save_image(to_image(torch.cat(list(samples.clamp(0, 1)[:4]), 2)), out_dir / f'{name}-{key}.png')


if __name__ == '__main__':
    main()
