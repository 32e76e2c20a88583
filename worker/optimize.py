"""Per-image optimisation (Gatys et al.): `python -m worker.optimize --texture IMG --content IMG --out IMG`,
or texture synthesis by optimisation: `python -m worker.optimize --mode synthesis --texture IMG --out IMG`.

The baseline a Texture Network is measured against: the same objective the trainer minimises
(same VGG, layers, weights and style scale), minimised over the pixels of one image, starting
from the content photo. A trained network does in one pass what this does in hundreds of
VGG passes; `bench/quality.py` compares the losses each reaches.

With `--model M` the objective is that model's own (its texture, weights, VGG and recorded
style scale); without it, the trainer's defaults and flags, with the scale calibrated as the
trainer does (the photo through the initial generator of `--seed`). In synthesis mode the image
starts from uniform noise (seed `--seed`) and the objective is the style term alone, its scale
calibrated as the trainer does (the style term of an untrained generator's sample at 1).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time

import torch

from models.generator import Generator
from models.losses import SynthesisLoss, TextureLoss
from models.synthesis import SynthesisGenerator, seeded_noise
from models.vgg import VGGWeightsUnavailable, load_vgg19

from .checkpoint import load_record, resolve_model
from .data import DatasetError, load_texture, resolve_texture
from .images import ImageError, open_rgb, resize_long_side, save_image, to_image, to_tensor
from .config import DEFAULTS, by_layer, calibrate_with_defaults, floats, scale_or_auto
from .errors import UsageError

log = logging.getLogger('tn.optimize')
LBFGS_ROUND = 20


def objective_of(model_path) -> dict:
    """The training objective recorded in a model.pth or checkpoint."""
    record = load_record(model_path)
    train = record['train']
    return dict(texture=train.get('texture_path') or record['texture'], style_size=train['style_size'], vgg_weights=train['vgg_weights'],
                style_weights=train['style_weights'], content_weight=train['content_weight'],
                style_scale=train.get('style_scale', 1.0), mode=record.get('mode', 'stylize'))


def build_loss(objective: dict, vgg=None) -> TextureLoss:
    """The objective's loss: a TextureLoss, or for synthesis a SynthesisLoss (its style term alone)."""
    texture = load_texture(resolve_texture(str(objective['texture'])), objective['style_size'])
    vgg = vgg if vgg is not None else load_vgg19(objective['vgg_weights'])
    scale = 1.0 if objective['style_scale'] == 'auto' else objective['style_scale']
    if objective.get('mode') == 'synthesis':
        return SynthesisLoss(vgg, texture, by_layer(objective['style_weights']), style_scale=scale)
    return TextureLoss(vgg, texture, by_layer(objective['style_weights']), objective['content_weight'], style_scale=scale)


def calibrate_on(loss_fn: TextureLoss, photo: torch.Tensor, balance: float, seed: int = 0) -> float:
    """The trainer's calibration for a batch of one photo: its output through the initial generator."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        generator = Generator().to(photo.device)
        style, content = loss_fn.terms(generator(photo), photo)
    return calibrate_with_defaults(style, content, balance)


def calibrate_synthesis_on(loss_fn: SynthesisLoss, size: int, seed: int = 0) -> float:
    """The trainer's calibration for synthesis: the style term of an untrained generator's sample at 1."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        generator = SynthesisGenerator()
        style, _ = loss_fn.terms(generator(seeded_noise(generator, [seed], size, size)))
    return 1 / sum(w * float(l) for w, l in zip(loss_fn.style_weights, style))


def objective_terms(loss_fn, image, photo=None):
    """(style, content) of an image: the content term is 0 for synthesis (no photo)."""
    if isinstance(loss_fn, SynthesisLoss):
        style = loss_fn(image)[0]
        return style, torch.zeros_like(style)
    return loss_fn(image, photo)


def optimize(loss_fn: TextureLoss, photo: torch.Tensor, steps: int = 200, method: str = 'lbfgs', lr: float = 0.02):
    """Minimise style + content over the pixels of one image (1, 3, H, W) in [0, 1], starting
    from the photo (synthesis: from the noise image given as `photo`, for the style term alone).
    Returns the image and its final (style, content)."""
    start = photo
    photo = None if isinstance(loss_fn, SynthesisLoss) else photo
    image = start.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    if method == 'lbfgs':
        # A step of L-BFGS runs up to max_iter evaluations (VGG forward+backward); the image is
        # clamped to [0, 1] between rounds of LBFGS_ROUND of them.
        per = min(LBFGS_ROUND, steps)
        opt = torch.optim.LBFGS([image], lr=1, max_iter=per, max_eval=per, history_size=50,
                                line_search_fn='strong_wolfe', tolerance_grad=0, tolerance_change=0)
        rounds = max(1, steps // per)
    else:
        opt, rounds = torch.optim.Adam([image], lr=lr), steps

    def closure():
        opt.zero_grad()
        style, content = objective_terms(loss_fn, image, photo)
        (style + content).backward()
        return style + content

    for _ in range(rounds):
        opt.step(closure)
        with torch.no_grad():
            image.clamp_(0, 1)  # an image, not any tensor: what a network's output could also be
    with torch.no_grad():
        style, content = objective_terms(loss_fn, image, photo)
    return image.detach(), style.item(), content.item()


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
    p = argparse.ArgumentParser(prog='python -m worker.optimize', description=__doc__.split('\n')[0])
    p.add_argument('--mode', choices=('stylize', 'synthesis'), default='stylize',
                   help='synthesis: a texture sample from noise, no --content (default: the --model\'s, else stylize)')
    p.add_argument('--content', help='the photo to stylize (stylize mode)')
    p.add_argument('--out', required=True, help='the image to write (.png or .jpg)')
    p.add_argument('--texture', help='style image or built-in texture name (default: the --model\'s)')
    p.add_argument('--model', help='take the objective (texture, weights, VGG, style scale) from this model')
    p.add_argument('--steps', type=int, default=200, help='VGG evaluations (default 200)')
    p.add_argument('--size', type=int, default=256, help='long side of the photo, or the synthesized square, px (default 256)')
    p.add_argument('--method', choices=('lbfgs', 'adam'), default='lbfgs')
    p.add_argument('--style_size', type=int, default=DEFAULTS['style_size'])
    p.add_argument('--style_weights', type=floats, default=DEFAULTS['style_weights'])
    p.add_argument('--content_weight', type=float, default=DEFAULTS['content_weight'])
    p.add_argument('--style_scale', type=scale_or_auto, default='auto')
    p.add_argument('--balance', type=float, default=DEFAULTS['balance'])
    p.add_argument('--vgg_weights', default=DEFAULTS['vgg_weights'])
    p.add_argument('--seed', type=int, default=0, help='of the initial generator that --style_scale auto measures with')
    p.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    args = p.parse_args(argv)
    device = torch.device('cuda' if args.device != 'cpu' and torch.cuda.is_available() else 'cpu')
    try:
        if args.model:
            objective = objective_of(resolve_model(args.model))
            if args.texture:
                objective['texture'] = args.texture
        elif args.texture:
            objective = {k: getattr(args, k) for k in ('texture', 'style_size', 'style_weights', 'content_weight',
                                                       'style_scale', 'vgg_weights', 'mode')}
        else:
            raise UsageError('give --texture (or --model, to use a trained model\'s objective)')
        synthesis = objective['mode'] == 'synthesis'
        if not synthesis and not args.content:
            raise UsageError('give --content, the photo to stylize (or --mode synthesis, for a texture from noise)')
        loss_fn = build_loss(objective).to(device)
        if synthesis:
            photo = torch.rand(1, 3, args.size, args.size, generator=torch.Generator().manual_seed(args.seed)).to(device)
        else:
            photo = to_tensor(resize_long_side(open_rgb(args.content), args.size)).unsqueeze(0).to(device)
        if objective['style_scale'] == 'auto':
            loss_fn.style_scale = (calibrate_synthesis_on(loss_fn, args.size, args.seed) if synthesis else
                                   calibrate_on(loss_fn, photo, args.balance, args.seed))
    except (UsageError, DatasetError, ImageError, VGGWeightsUnavailable, ValueError, OSError) as e:
        log.error('%s', e)
        return 2
    with torch.no_grad():
        start_style, start_content = (x.item() for x in objective_terms(loss_fn, photo, photo))
    t = time.perf_counter()
    image, style, content = optimize(loss_fn, photo, args.steps, args.method)
    seconds = time.perf_counter() - t
    save_image(to_image(image[0]), args.out)
    print(json.dumps(dict(style=style, content=content, total=style + content, start_total=start_style + start_content,
                          style_scale=loss_fn.style_scale, steps=args.steps, seconds=round(seconds, 2), out=args.out)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
