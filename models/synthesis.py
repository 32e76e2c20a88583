"""The texture-synthesis generator of Texture Networks: noise alone in, a sample of the texture out.

g(z) takes one uniform noise tensor per scale (K scales, coarsest first) and no photo: each
scale's noise goes through a branch of conv blocks, and the coarser result is upsampled and
joined with the next finer branch, as in the stylization generator (models.generator), whose
blocks it reuses. The output is RGB in [0, 1].

Seamless at any size. Every conv pads circularly, so each scale is a torus; nearest upsampling
from a torus of n pixels to one of m (any m >= n) sends m-1 to n-1 and 0 to 0, neighbours on
the torus, so it is a torus too, and the whole sample is periodic: laid edge to edge it tiles
without a seam. The sizes of the scales are ceil(H / 2^i), not halves of a padded multiple: a
sample of 1000x600 is generated at exactly that size (generating 1024x608 and cropping would
cut the period). When H is a multiple of 2^(K-1) the upsampling is exactly x2.

Blocks: `point=True` ends each branch and join with a 1x1 conv block (3x3, 3x3, 1x1), as the
authors' synthesis pyramid; `point=False` is the stylization generator's (3x3, 3x3).
BENCHMARKS.md (Texture synthesis) says which is the default and why.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .generator import ConvBlock, Norm, count_parameters, torch7_init  # noqa: F401  (count_parameters: for callers)

NOISE_CHANNELS = 3


class PointBlock(nn.Sequential):
    """1x1 conv, norm, LeakyReLU(0.01): the authors' pyramid ends each block with it."""

    def __init__(self, channels: int, norm: str):
        super().__init__(nn.Conv2d(channels, channels, 1), Norm(channels, norm), nn.LeakyReLU(0.01, inplace=True))


def _block(in_channels: int, channels: int, norm: str, point: bool) -> nn.Sequential:
    layers = [ConvBlock(in_channels, channels, norm), ConvBlock(channels, channels, norm)]
    return nn.Sequential(*layers, *([PointBlock(channels, norm)] if point else []))


class Join(nn.Module):
    """The deeper path upsampled to the new branch's size, both normalised, concatenated, a block."""

    def __init__(self, deep_channels: int, branch_channels: int, norm: str, point: bool):
        super().__init__()
        self.norm_deep = Norm(deep_channels, norm)
        self.norm_branch = Norm(branch_channels, norm)
        self.convs = _block(deep_channels + branch_channels, deep_channels + branch_channels, norm, point)

    def forward(self, deep, branch):
        deep = F.interpolate(deep, size=branch.shape[-2:], mode='nearest')
        return self.convs(torch.cat([self.norm_deep(deep), self.norm_branch(branch)], 1))


class SynthesisGenerator(nn.Module):
    """g(noises) -> (B, 3, H, W) RGB in [0, 1], where noises[-1] is (B, 3, H, W)."""

    def __init__(self, scales: int = 6, channels: int = 8, norm: str = 'instance', point: bool = True):
        super().__init__()
        if scales < 1:
            raise ValueError('scales must be at least 1')
        self.config = dict(scales=scales, channels=channels, norm=norm, point=point)
        self.scales = scales
        self.branches = nn.ModuleList(_block(NOISE_CHANNELS, channels, norm, point) for _ in range(scales))
        self.joins = nn.ModuleList(Join(channels * (i + 1), channels, norm, point) for i in range(scales - 1))
        self.to_rgb = nn.Conv2d(channels * scales, 3, 1)
        self.reset_parameters()

    def reset_parameters(self):
        torch7_init(self)
        with torch.no_grad():  # start at mid-grey rather than black: the texture's mean is near it
            self.to_rgb.bias.add_(0.5)

    @property
    def ratios(self) -> list[int]:
        """The downsampling factor of each scale, coarsest first: 32, 16, 8, 4, 2, 1 for 6 scales."""
        return [2 ** (self.scales - 1 - i) for i in range(self.scales)]

    def sizes(self, height: int, width: int) -> list[tuple[int, int]]:
        """(h, w) of each scale's noise, coarsest first: ceil(H / r), so the finest is (H, W)."""
        if height < 1 or width < 1:
            raise ValueError(f'a sample needs a positive size, not {width}x{height}')
        return [(math.ceil(height / r), math.ceil(width / r)) for r in self.ratios]

    def draw_noise(self, batch: int, height: int, width: int, generator: torch.Generator | None = None,
                   device=None, dtype=None) -> list[torch.Tensor]:
        """Uniform U[0, 1) noise for each scale, coarsest first; `generator` makes it repeatable."""
        device = device if device is not None else self.to_rgb.weight.device
        return [torch.rand((batch, NOISE_CHANNELS, h, w), generator=generator, device=device, dtype=dtype)
                for h, w in self.sizes(height, width)]

    def forward(self, noises: list[torch.Tensor]) -> torch.Tensor:
        if len(noises) != self.scales:
            raise ValueError(f'{self.scales} noise tensors are needed (one per scale), got {len(noises)}')
        out = None
        for i, (branch, z) in enumerate(zip(self.branches, noises)):
            x = branch(z)
            out = x if out is None else self.joins[i - 1](out, x)
        return self.to_rgb(out)

    def sample(self, batch: int, height: int, width: int, generator: torch.Generator | None = None):
        return self(self.draw_noise(batch, height, width, generator))


def seeded_noise(generator: SynthesisGenerator, seeds, height: int, width: int) -> list[torch.Tensor]:
    """The noise of one sample per seed, drawn on the CPU so that a seed gives the same sample on
    every device: the sample of seed s is g(seeded_noise(g, [s], H, W))."""
    draws = [generator.draw_noise(1, height, width, torch.Generator().manual_seed(s), device='cpu') for s in seeds]
    return [torch.cat(scale) for scale in zip(*draws)]


def tile(image: torch.Tensor, n: int = 2) -> torch.Tensor:
    """(B, C, H, W) laid n x n edge to edge: a periodic sample shows no seam in it."""
    return image.repeat(1, 1, n, n)
