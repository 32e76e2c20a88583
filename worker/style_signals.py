"""Signals that a network learnt a texture, measured on held-out photos as a user would judge
them (the learnt-style test and `bench/recipe.py` use them):

  style   the output's style loss divided by the photo's own: below 1, the output's Gram
          statistics are nearer the texture's than the photo's are;
  colour  how far the output's colour distribution moved from the photo's toward the texture's:
          1 - d(output, texture) / d(photo, texture), d the Fréchet distance between RGB
          Gaussians (0: the photo's colours; 1: the texture's);
  content how much of the photo the output keeps: the correlation of the output's edges with
          the photo's (Sobel gradient magnitude of the luminance, per photo, averaged); near 0
          for a texture that ignores the photo, 1 for the photo itself;
  change  the mean absolute difference between output and photo, in [0, 1].
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

from models.vgg import load_vgg19

from .checkpoint import load_generator
from .data import load_crop
from .optimize import build_loss, objective_of
from .data import load_texture


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


def edges(images: torch.Tensor) -> torch.Tensor:
    """Sobel gradient magnitude of the luminance, (N, H-2, W-2)."""
    y = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    kx = torch.tensor([[-1., 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3)
    gx, gy = F.conv2d(y, kx), F.conv2d(y, kx.transpose(2, 3))
    return (gx ** 2 + gy ** 2).sqrt()[:, 0]


def edge_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over images of the Pearson correlation of a's and b's edge maps."""
    ea, eb = (edges(x).flatten(1).double() for x in (a, b))
    ea, eb = ea - ea.mean(1, keepdim=True), eb - eb.mean(1, keepdim=True)
    return ((ea * eb).sum(1) / (ea.norm(dim=1) * eb.norm(dim=1)).clamp(min=1e-12)).mean().item()


def signals(out, photos, texture, loss_fn) -> dict:
    """The signals of outputs `out` for `photos` (any outputs: the learnt-style test also scores
    fakes that ignore the photo, which must fail them)."""
    with torch.no_grad():
        style_out, _ = loss_fn(out, photos)
        style_photo, _ = loss_fn(photos, photos)
    tex = colour_gaussian(texture)
    return dict(style=style_out.item() / style_photo.item(),
                colour=1 - frechet(colour_gaussian(out), tex) / frechet(colour_gaussian(photos), tex),
                content=edge_correlation(out, photos),
                change=(out - photos).abs().mean().item())


def style_signals(run_dir, model=None) -> tuple[dict, torch.Tensor, torch.Tensor, torch.Tensor, torch.nn.Module]:
    """(signals, photos, outputs, texture, loss) for a finished run's held-out preview photos (with
    its model.pth, or the checkpoint `model`), at its training size, with the noise seed the
    previews use."""
    run_dir = Path(run_dir)
    config = json.loads((run_dir / 'config.json').read_text())
    model = model or run_dir / 'model.pth'
    photos = torch.stack([load_crop(p, config['image_size']) for p in config['derived']['dataset']['preview_photos']])
    objective = objective_of(model)
    with torch.no_grad():
        out = load_generator(model)(photos, generator=torch.Generator().manual_seed(0)).clamp(0, 1)
    loss_fn = build_loss(objective, vgg=load_vgg19(objective['vgg_weights']))
    texture = load_texture(objective['texture'], config['style_size'])
    return signals(out, photos, texture, loss_fn), photos, out, texture, loss_fn
