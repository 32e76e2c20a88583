"""Signals that a synthesis network learnt its texture, measured as a user would judge samples,
with statistics its training loss did not optimise (the learnt-texture test and
bench/synthesis_recipe.py use them):

  colour     Fréchet distance between the RGB Gaussians of the samples and of the exemplar
             (worker.style_signals.frechet): 0 when the palettes match.
  structure  the relative Gram distance of samples and exemplar in an independent network: a
             small random conv net of another seed and shape than the VGG-19 the loss used
             (averaged over its three layers; 0 when the local statistics match).
  spread     the mean absolute difference between the samples of different seeds, in [0, 1]:
             0 when every seed gives the same image.
  seam       in a 2x2 tiling of a sample, the mean absolute step across a seam line over that
             across the steepest lines inside (`seam`): at most about 1 for a seamless tile, far
             above it where the edges do not meet.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.losses import gram_matrix

from .style_signals import colour_gaussian, frechet

PROBE_SEED = 12345


def colour(samples: torch.Tensor, exemplar: torch.Tensor) -> float:
    return frechet(colour_gaussian(samples), colour_gaussian(exemplar))


def _probe() -> nn.Module:
    """Three conv layers (5x5 to 48, 3x3 to 96 and to 96, average pooling between), seeded:
    nothing like VGG-19's 3x3 stacks of 64-512 max-pooled channels."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(PROBE_SEED)
        layers = nn.ModuleList([nn.Conv2d(3, 48, 5, padding=2), nn.Conv2d(48, 96, 3, padding=1),
                                nn.Conv2d(96, 96, 3, padding=1)])
        for conv in layers:
            nn.init.kaiming_normal_(conv.weight, nonlinearity='relu')
            nn.init.zeros_(conv.bias)
    return layers


@torch.no_grad()
def structure(samples: torch.Tensor, exemplar: torch.Tensor) -> float:
    probe = _probe()

    def grams(x):
        out = []
        x = (x - 0.5) * 4
        for i, conv in enumerate(probe):
            x = F.relu(conv(x if i == 0 else F.avg_pool2d(x, 2)))
            out.append(gram_matrix(x).mean(0))
        return out
    return sum(((a - b).norm() / b.norm()).item() for a, b in zip(grams(samples), grams(exemplar))) / len(probe)


def spread(samples: torch.Tensor) -> float:
    n = len(samples)
    if n < 2:
        raise ValueError('spread needs at least two samples')
    pairs = [(samples[i] - samples[j]).abs().mean().item() for i in range(n) for j in range(i + 1, n)]
    return sum(pairs) / len(pairs)


def seam(sample: torch.Tensor) -> float:
    """`sample` (3, H, W), tiled 2x2: the mean step across its seam lines (the larger of the two)
    over the 95th percentile of the mean steps across every other line between two rows or two
    columns. A line, not a pixel: a seam runs the whole tile. The seam is compared with the
    steepest lines inside rather than their mean because the generator's upsampling makes some
    lines steeper than others, and a seam falls on one of those."""
    tiled = sample.repeat(1, 2, 2)
    h, w = sample.shape[-2:]
    rows = (tiled[:, 1:] - tiled[:, :-1]).abs().mean((0, 2))        # rows[i]: the line between rows i and i+1
    cols = (tiled[:, :, 1:] - tiled[:, :, :-1]).abs().mean((0, 1))
    inside = torch.cat([torch.cat([rows[:h - 1], rows[h:]]), torch.cat([cols[:w - 1], cols[w:]])])
    return (max(rows[h - 1], cols[w - 1]) / torch.quantile(inside, 0.95)).item()


def texture_signals(samples: torch.Tensor, exemplar: torch.Tensor) -> dict:
    """All four, for samples (B, 3, H, W) of different seeds and the exemplar (1, 3, h, w), RGB in [0, 1]."""
    samples = samples.float().clamp(0, 1)
    return dict(colour=colour(samples, exemplar), structure=structure(samples, exemplar),
                spread=spread(samples), seam=max(seam(s) for s in samples))
