"""Generator.forward for inference, the same function in fewer passes over memory and fewer
multiply-adds: `forward_fast(g, image, noise, rng)` (tests/python/test_fast.py checks it against
Generator.forward; BENCHMARKS.md has the speed).

At 1024 px the generator's full-resolution maps hold 8 to 40 channels: the convolutions are cheap
for a CPU and moving those maps in and out of memory is not. Four changes, none to the maths:

- Channels-last (NHWC) maps. oneDNN's 3x3 convolutions with 8-40 channels run about 1.3x faster on
  them than on NCHW ones (which it reorders on the way in and out).
- Instance norm as the batch norm of a batch of one image: the same statistics, and ATen's NHWC
  batch norm takes one fast pass where its NHWC instance norm is about 9x slower. So images go
  through one at a time.
- Circular padding in place: a block whose output feeds a conv writes it (LeakyReLU applied on the
  way) into the middle of the padded buffer that conv reads, then copies the four 1-px edges across.
- No upsampled map. A join normalises the deep path at its own resolution (nearest x2 upsampling
  repeats each pixel four times: the mean and variance do not change), and its first 3x3 conv over
  the upsampled deep path is four 2x2 convs over the coarse map, one per output phase: output row
  2i reads upsampled rows 2i-1, 2i, 2i+1, which are coarse rows i-1, i, i (kernel rows w0 and
  w1 + w2), and row 2i+1 reads coarse rows i, i, i+1 (w0 + w1 and w2); columns likewise. That is
  4 multiply-adds per output pixel and channel instead of 9, and the map four times the size is
  never built.

models.tiled renders its tiles with this function: `on_norm` lets it gather each Norm's
whole-image statistics, which the Norm then lends (Norm.stats).
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F

from .generator import Generator, Norm

# For output phase a (row 2i + a), the coarse rows a 3x3 kernel's rows fall on, as a 2x3 matrix:
# phase 0 -> rows (i-1, i) = (w0, w1 + w2); phase 1 -> rows (i, i+1) = (w0 + w1, w2).
_PHASE_ROWS = torch.tensor([[[1., 0., 0.], [0., 1., 1.]],
                            [[1., 1., 0.], [0., 0., 1.]]])


@torch.no_grad()
def forward_fast(g: Generator, image: torch.Tensor, noise: float | None = None,
                 generator: torch.Generator | None = None, noises: list[torch.Tensor] | None = None,
                 on_norm: Callable[[Norm, torch.Tensor], None] | None = None) -> torch.Tensor:
    """What g(image, noise, generator, noises) returns for a generator in eval mode (the same noise
    draws, in the same order), as an NCHW tensor. `on_norm(norm, x)` is called before each Norm
    normalises its input x (models.tiled gathers whole-image statistics with it)."""
    if g.training:
        raise ValueError('forward_fast is for inference: call g.eval() first')
    k = g.noise if noise is None else noise
    h, w = image.shape[-2:]
    image = g.pad(image)
    noises = g.draw_noise(image, generator) if noises is None else noises
    normalise = partial(_normalise, on_norm=on_norm)
    out = [_one_image(g, image[i:i + 1], [z[i:i + 1] for z in noises], k, normalise) for i in range(image.shape[0])]
    return torch.cat(out)[..., :h, :w].contiguous()


def _one_image(g: Generator, image, noises, k, normalise):
    deep = None
    for i, (branch, r, z) in enumerate(zip(g.branches, g.ratios, noises)):
        pooled = F.avg_pool2d(image, r) if r > 1 else image
        x = _padded(torch.cat([pooled, z * k], 1))
        x = _conv_block(branch[0], x, normalise, padded=True)
        x = _conv_block(branch[1], x, normalise, padded=False)
        deep = x if deep is None else _join(g.joins[i - 1], deep, x, normalise)
    return g.to_rgb(deep)


def _join(join, deep, branch, normalise):
    conv, norm, act = join.convs[0]
    d = deep.shape[1]
    y = F.conv2d(_padded(normalise(join.norm_branch, branch)), conv.weight[:, d:], conv.bias)
    _add_upsampled_conv(y, _padded(normalise(join.norm_deep, deep)), conv.weight[:, :d])
    x = _activate(normalise(norm, y), act, padded=True)
    return _conv_block(join.convs[1], x, normalise, padded=False)


def _normalise(norm: Norm, x, on_norm):
    if on_norm:
        on_norm(norm, x)
    if norm.stats is not None or x.shape[-2] * x.shape[-1] == 1:
        return norm(x)  # models.tiled's whole-image statistics; or one value a channel: batch norm refuses it
    return F.batch_norm(x, None, None, norm.weight, norm.bias, training=True, eps=1e-5)


def _add_upsampled_conv(y, coarse, weight):
    """y += conv3x3(circular pad(upsample x2(m)), weight), from coarse = circular pad(m)."""
    h, w = coarse.shape[-2] - 2, coarse.shape[-1] - 2
    rows = _PHASE_ROWS.to(weight)
    phases = y.unflatten(2, (h, 2)).unflatten(4, (w, 2))  # a view: [..., i, a, j, b] = y[..., 2i+a, 2j+b]
    for a in range(2):
        for b in range(2):
            kernel = torch.einsum('pk,ockl,ql->ocpq', rows[a], weight, rows[b])
            phases[:, :, :, a, :, b] += F.conv2d(coarse[..., a:a + h + 1, b:b + w + 1], kernel)


def _conv_block(block, x, normalise, padded: bool):
    """One ConvBlock (conv, Norm, LeakyReLU) on an already padded input."""
    conv, norm, act = block
    return _activate(normalise(norm, F.conv2d(x, conv.weight, conv.bias)), act, padded)


def _activate(x, act, padded: bool):
    """LeakyReLU, in place or into the middle of a new circularly padded buffer."""
    if not padded:
        return F.leaky_relu_(x, act.negative_slope)
    out = _empty_padded(x)
    torch.ops.aten.leaky_relu.out(x, act.negative_slope, out=out[..., 1:-1, 1:-1])
    return _wrap(out)


def _padded(x):
    out = _empty_padded(x)
    out[..., 1:-1, 1:-1] = x
    return _wrap(out)


def _empty_padded(x):
    n, c, h, w = x.shape
    return torch.empty((n, c, h + 2, w + 2), dtype=x.dtype, device=x.device, memory_format=torch.channels_last)


def _wrap(buf):
    """Circular padding of 1 px, in place: each edge copies the opposite side (rows first, so the
    column copies carry the corners)."""
    buf[..., 0, :] = buf[..., -2, :]
    buf[..., -1, :] = buf[..., 1, :]
    buf[..., :, 0] = buf[..., :, -2]
    buf[..., :, -1] = buf[..., :, 1]
    return buf
