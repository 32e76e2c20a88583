"""Signals that a network learnt a texture, measured on held-out photos as a user would judge
them (the learnt-style test and `bench/recipe.py` use them):

  style   the output's style loss divided by the photo's own: below 1, the output's Gram
          statistics are nearer the texture's than the photo's are;
  colour  how far the output's colour distribution moved from the photo's toward the texture's:
          1 - d(output, texture) / d(photo, texture), d the Fréchet distance between RGB
          Gaussians (0: the photo's colours; 1: the texture's);
  change  the mean absolute difference between output and photo, in [0, 1].
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from models.vgg import load_vgg19

from .checkpoint import load_generator
from .data import load_crop
from .optimize import build_loss, objective_of
from .train import load_texture


def colour_gaussian(images: torch.Tensor):
    pixels = images.permute(1, 0, 2, 3).reshape(3, -1).double()
    return pixels.mean(1), torch.cov(pixels)


def frechet(a, b) -> float:
    """Fréchet distance between two Gaussians (mean, covariance)."""
    (m1, c1), (m2, c2) = a, b
    e, v = torch.linalg.eigh(c1)
    root = v @ torch.diag(e.clamp(min=0).sqrt()) @ v.T
    cross = torch.linalg.eigvalsh(root @ c2 @ root).clamp(min=0).sqrt().sum()
    return (((m1 - m2) ** 2).sum() + c1.trace() + c2.trace() - 2 * cross).item()


def style_signals(run_dir) -> tuple[dict, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(signals, photos, outputs, texture) for a finished run's held-out preview photos, at its
    training size, with the noise seed the previews use."""
    run_dir = Path(run_dir)
    config = json.loads((run_dir / 'config.json').read_text())
    model = run_dir / 'model.pth'
    photos = torch.stack([load_crop(p, config['image_size']) for p in config['derived']['dataset']['preview_photos']])
    objective = objective_of(model)
    with torch.no_grad():
        out = load_generator(model)(photos, generator=torch.Generator().manual_seed(0)).clamp(0, 1)
        loss_fn = build_loss(objective, vgg=load_vgg19(objective['vgg_weights']))
        style_out, _ = loss_fn(out, photos)
        style_photo, _ = loss_fn(photos, photos)
    texture = load_texture(objective['texture'], config['style_size'])
    tex = colour_gaussian(texture)
    signals = dict(style=style_out.item() / style_photo.item(),
                   colour=1 - frechet(colour_gaussian(out), tex) / frechet(colour_gaussian(photos), tex),
                   change=(out - photos).abs().mean().item())
    return signals, photos, out, texture
