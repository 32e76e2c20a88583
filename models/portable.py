"""The generator in a form other runtimes run: ONNX (onnxruntime, onnxruntime-web) and TorchScript.

    out = Portable(generator)(image, noise, noise_factor)

image  (B, 3, H, W) RGB in [0, 1], H and W at least 2^(scales-1) (16 px for 5 scales)
noise  (B, 3, H, W) uniform in [0, 1): the caller draws it. Runtimes' random ops differ from
       PyTorch's and from each other, so noise drawn inside could never be checked against
       PyTorch; passed in, it is, and a video can pass the same noise for every frame.
noise_factor  a scalar (0-d tensor): the style strength k.

The generator draws fresh noise for each scale; here each scale takes every r-th pixel of the one
full-size draw (r = 1, 2, 4, ...), which is still independent uniform noise. `branch_noise` gives
PyTorch the same per-scale noise, so `Generator(image, noise=k, noises=branch_noise(g, noise))`
is what the exported model computes.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .generator import Generator


def branch_noise(g: Generator, noise: torch.Tensor) -> list[torch.Tensor]:
    """Each branch's noise from one full-size draw, padded as the image is (Generator.pad)."""
    padded = g.pad(noise)
    return [padded[..., ::r, ::r] for r in g.ratios]


class Portable(nn.Module):
    """Generator.forward without Python branches on the image size, so its graph holds for any
    size: the padding is always reflection (what Generator.pad does for any side of at least
    2^(scales-1)), the scales are a fixed loop."""

    def __init__(self, g: Generator):
        super().__init__()
        self.branches, self.joins, self.to_rgb = g.branches, g.joins, g.to_rgb
        self.multiple = g.multiple
        self.ratios = g.ratios

    def forward(self, image: torch.Tensor, noise: torch.Tensor, noise_factor: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2], image.shape[-1]
        pad_h = (self.multiple - h % self.multiple) % self.multiple
        pad_w = (self.multiple - w % self.multiple) % self.multiple
        image = F.pad(image, [0, pad_w, 0, pad_h], mode='reflect')
        noise = F.pad(noise, [0, pad_w, 0, pad_h], mode='reflect') * noise_factor
        out = torch.zeros(0)
        i = 0
        for branch in self.branches:
            r = self.ratios[i]
            pooled = F.avg_pool2d(image, r) if r > 1 else image
            x = branch(torch.cat([pooled, noise[:, :, ::r, ::r]], 1))
            if i == 0:
                out = x
            else:
                for j, join in enumerate(self.joins):
                    if j == i - 1:
                        out = join(out, x)
            i += 1
        return self.to_rgb(out)[:, :, :h, :w]


class PortableSynthesis(nn.Module):
    """A SynthesisGenerator for other runtimes: `out = PortableSynthesis(g)(noises)`.

    noises  a list of K tensors, coarsest first: uniform [0, 1) noise (B, 3, ceil(H/r), ceil(W/r))
            for r = 2^(K-1) .. 1, drawn by the caller (SynthesisGenerator.sizes gives the sizes;
            ONNX names them noise_32 .. noise_1 for 6 scales). The output is (B, 3, H, W) in [0, 1],
            H and W those of the last, and periodic: it tiles seamlessly.
    """

    def __init__(self, g):
        super().__init__()
        self.branches, self.joins, self.to_rgb = g.branches, g.joins, g.to_rgb
        self.ratios = g.ratios

    def forward(self, noises: list[torch.Tensor]) -> torch.Tensor:
        out = torch.zeros(0)
        i = 0
        for branch in self.branches:  # the joins by index: TorchScript cannot index a ModuleList
            x = branch(noises[i])
            if i == 0:
                out = x
            else:
                for j, join in enumerate(self.joins):
                    if j == i - 1:
                        out = join(out, x)
            i += 1
        return self.to_rgb(out)
