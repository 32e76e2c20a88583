"""The multi-scale generator of Texture Networks (Ulyanov et al. 2016, arXiv 1603.03417).

A photo is average-pooled to K scales (r = 2^(K-1) .. 1). Each scale gets fresh uniform noise,
times the noise factor, and two conv blocks; the coarsest result is upsampled and joined with
the next finer branch, and so on up to full resolution, where a 1x1 conv gives the image.

With the paper's configuration (K = 5, 8 channels a branch) the generator has 68,507
parameters: 5 branches of 1,056, join blocks of 4,736 + 10,560 + 18,688 + 29,120, and the
123 of the output conv. `count_parameters(Generator())` checks it.

The generator works in RGB in [0, 1] at both ends (input photo and output image). The
authors' released networks output Caffe's BGR, mean-subtracted space; `models.t7` folds that
conversion into the output conv when it imports them, so they too output RGB in [0, 1].
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

NORMS = ('instance', 'batch')


class Norm(nn.Module):
    """Affine normalisation over each channel.

    `instance` normalises each image by its own statistics. `batch` (the paper) normalises over
    the batch while training, but over each image alone at inference: a Texture Network's
    stored running statistics give a flat, wrong image (the authors' released networks do:
    their stored statistics were never meant for single images), so none are kept.
    """

    def __init__(self, channels: int, kind: str = 'instance'):
        super().__init__()
        if kind not in NORMS:
            raise ValueError(f'norm must be one of {NORMS}, not {kind!r}')
        self.kind = kind
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.stats = None  # (mean, var) of the whole image, set by models.tiled while it renders tiles

    def forward(self, x):
        if self.kind == 'batch' and self.training:
            return F.batch_norm(x, None, None, self.weight, self.bias, training=True)
        if self.stats is not None:
            mean, var = self.stats
            return F.batch_norm(x, mean, var, self.weight, self.bias, training=False, eps=1e-5)
        # The aten op, not F.instance_norm: the coarsest scale of a small image can be 1x1,
        # which is well defined here (the output is the bias) but F.instance_norm refuses.
        return torch.instance_norm(x, self.weight, self.bias, None, None, True, 0.0, 1e-5,
                                   torch.backends.cudnn.enabled)

    def extra_repr(self):
        return f'{self.weight.numel()}, kind={self.kind}'


class ConvBlock(nn.Sequential):
    """Circular pad, 3x3 conv, norm, LeakyReLU(0.01): the unit every branch and join repeats."""

    def __init__(self, in_channels: int, out_channels: int, norm: str):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode='circular'),
            Norm(out_channels, norm),
            nn.LeakyReLU(0.01, inplace=True),
        )


class Branch(nn.Sequential):
    """One scale: [pooled RGB, noise] (6 channels) through two conv blocks."""

    def __init__(self, channels: int, norm: str):
        super().__init__(ConvBlock(6, channels, norm), ConvBlock(channels, channels, norm))


class JoinBlock(nn.Module):
    """Upsample the deeper path x2, normalise both paths, concatenate, two conv blocks."""

    def __init__(self, deep_channels: int, branch_channels: int, norm: str):
        super().__init__()
        channels = deep_channels + branch_channels
        self.norm_deep = Norm(deep_channels, norm)
        self.norm_branch = Norm(branch_channels, norm)
        self.convs = nn.Sequential(ConvBlock(channels, channels, norm), ConvBlock(channels, channels, norm))

    def forward(self, deep, branch):
        deep = F.interpolate(deep, scale_factor=2.0, mode='nearest')
        return self.convs(torch.cat([self.norm_deep(deep), self.norm_branch(branch)], 1))


class Generator(nn.Module):
    """Texture Network generator: photo (B,3,H,W) in [0,1] plus noise -> stylized image.

    Any H and W work: the input is padded to a multiple of 2^(scales-1) and the output cropped
    back. `noise` is the default noise factor k (1 in training); `forward` can override it.
    """

    def __init__(self, scales: int = 5, channels: int = 8, norm: str = 'instance', noise: float = 1.0):
        super().__init__()
        if scales < 1:
            raise ValueError('scales must be at least 1')
        self.config = dict(scales=scales, channels=channels, norm=norm, noise=noise)
        self.scales = scales
        self.noise = noise
        self.branches = nn.ModuleList(Branch(channels, norm) for _ in range(scales))
        self.joins = nn.ModuleList(JoinBlock(channels * (i + 1), channels, norm) for i in range(scales - 1))
        self.to_rgb = nn.Conv2d(channels * scales, 3, 1)
        self.reset_parameters()

    def reset_parameters(self):
        torch7_init(self)

    @property
    def multiple(self) -> int:
        return 2 ** (self.scales - 1)

    @property
    def ratios(self) -> list[int]:
        """The pooling factor of each branch, coarsest first: 16, 8, 4, 2, 1."""
        return [2 ** (self.scales - 1 - i) for i in range(self.scales)]

    def pad(self, image):
        """The image padded (bottom and right) to a multiple of 2^(scales-1)."""
        h, w = image.shape[-2:]
        m = self.multiple
        pad_h, pad_w = (-h) % m, (-w) % m
        if not (pad_h or pad_w):
            return image
        # Reflection keeps the border content-like; it needs the pad smaller than the side.
        mode = 'reflect' if pad_h < h and pad_w < w else 'replicate'
        return F.pad(image, (0, pad_w, 0, pad_h), mode=mode)

    def draw_noise(self, padded, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        """Uniform noise for each branch of a padded image, unscaled, in the order forward draws it."""
        b, _, h, w = padded.shape
        return [torch.rand((b, 3, h // r, w // r), generator=generator, device=padded.device, dtype=padded.dtype)
                for r in self.ratios]

    def forward(self, image, noise: float | None = None, generator: torch.Generator | None = None,
                noises: list[torch.Tensor] | None = None):
        """`noises`: the branches' noise, as draw_noise gives it (models.tiled cuts it into tiles)."""
        k = self.noise if noise is None else noise
        h, w = image.shape[-2:]
        image = self.pad(image)
        noises = self.draw_noise(image, generator) if noises is None else noises
        out = None
        for i, (branch, r, z) in enumerate(zip(self.branches, self.ratios, noises)):
            pooled = F.avg_pool2d(image, r) if r > 1 else image
            x = branch(torch.cat([pooled, z * k], 1))
            out = x if out is None else self.joins[i - 1](out, x)
        return self.to_rgb(out)[..., :h, :w]


def torch7_init(model: nn.Module):
    """Torch 7's init, as the authors trained with: U(+-1/sqrt(fan_in)) convs, norm weight U[0,1)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            bound = 1 / (m.in_channels * m.kernel_size[0] * m.kernel_size[1]) ** 0.5
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.uniform_(m.bias, -bound, bound)
        elif isinstance(m, Norm):
            nn.init.uniform_(m.weight, 0, 1)
            nn.init.zeros_(m.bias)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
