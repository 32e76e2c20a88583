"""Import the authors' released Texture Networks (Lua Torch 7 `.t7` stylization generators).

The four networks of the paper's code (DmitryUlyanov/texture_nets, branch `texture_nets_v1`:
mosaic, starry, pleades, turner) are the 5-scale, 8-channel generator with batch norm, so
they load into `Generator(scales=5, channels=8, norm='batch', noise=1.0)`, giving the same
function as the authors' network with RGB in [0, 1] at both ends (tests/python/test_t7.py checks
it against the authors' own outputs).

Torch layout. The root nn.Sequential holds nn.Concat(2)(deeper, new branch) and the join's conv
blocks; the deeper path is itself such a Sequential, nested down to the coarsest branch, so a
depth-first walk meets the modules in this order:
  branch r=16, [upsample, deep norm of join 0],
  branch r=8, branch norm of join 0, join 0 convs, [upsample, deep norm of join 1],
  branch r=4, ... , join 3 convs, 1x1 output conv.
A branch is avg-pool r, GenNoise (overwrites input channels 3-5 with noise, so the conv input
is [image, noise]), then twice circular pad, 3x3 conv, BatchNorm, LeakyReLU(0.01).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .generator import Generator

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
MISSING = ('torch', 'identity')

_CONTAINERS = {b'nn.Sequential', b'nn.Concat'}


def import_t7(path: str | Path, missing: str = 'torch') -> Generator:
    """Load a released `.t7` generator into a `Generator` in eval mode.

    Three deeper-path norms (the 16-, 24- and 32-channel inputs of joins 1-3) were saved with
    8 channels. Torch's CUDA kernel indexes weight[c] and bias[c] without bounds checks, and the
    authors trained with `getParameters()`, which puts every parameter in one flat storage that
    the `.t7` keeps: the network they trained and ran reads channels 8+ from whatever follows in
    that storage (the norm's own bias, then the next conv's weight). `missing='torch'` loads
    exactly those values; the saved running statistics of the layers after each join match
    this network and not the alternative. `missing='identity'` uses weight 1, bias 0 instead
    (the spec's reading), a different network from the one trained.
    """
    if missing not in MISSING:
        raise ValueError(f'missing must be one of {MISSING}, not {missing!r}')
    import torchfile  # only needed here; the rest of the project does not read Torch files

    expected = 'a Texture Networks v1 stylization generator (5 scales, 8 channels, batch norm)'
    try:
        root = torchfile.load(str(path))
    except OSError:
        raise  # a missing or unreadable file already says what is wrong
    except Exception as e:
        raise ValueError(f'{path}: cannot read as a Torch 7 file ({e}); expected {expected}') from e

    g = Generator(scales=5, channels=8, norm='batch', noise=1.0)
    try:
        _copy(root, g, missing)
    except _Mismatch as e:
        raise ValueError(f'{path}: {e}; expected {expected}') from None
    return g.eval()


class _Mismatch(Exception):
    pass


def _copy(root, g: Generator, missing: str):
    leaves = iter(_leaves(root))

    def take(kind: str):
        m = next(leaves, None)
        name = None if m is None else m._typename.decode()
        if name != 'nn.' + kind:
            raise _Mismatch(f'found {name or "the end"} where nn.{kind} belongs')
        return m._obj

    def conv(dst, src):
        _assign(dst.weight, src[b'weight'], 'conv weight')
        _assign(dst.bias, src[b'bias'], 'conv bias')

    def norm(dst, src):
        w, b = src[b'weight'], src[b'bias']
        n, c = len(w), dst.weight.numel()
        if n < c:
            # The saved channels are Torch's planes 0..n-1 (plane c reads weight[c]).
            if missing == 'torch':
                w, b = _read_past_end(w, c), _read_past_end(b, c)
            else:
                w = np.concatenate([w, np.ones(c - n, w.dtype)])
                b = np.concatenate([b, np.zeros(c - n, b.dtype)])
        _assign(dst.weight, w, 'norm weight')
        _assign(dst.bias, b, 'norm bias')

    def block(dst):
        take('SpatialCircularPadding')
        conv(dst[0], take('SpatialConvolution'))
        norm(dst[1], take('SpatialBatchNormalization'))
        if float(take('LeakyReLU')[b'negval']) != 0.01:
            raise _Mismatch('LeakyReLU slope is not 0.01')

    def upsample_then_norm(dst):
        if int(take('SpatialUpSamplingNearest')[b'scale_factor']) != 2:
            raise _Mismatch('upsampling factor is not 2')
        norm(dst, take('SpatialBatchNormalization'))

    for i, branch in enumerate(g.branches):
        r = 2 ** (g.scales - 1 - i)
        pool = take('SpatialAveragePooling')
        if (int(pool[b'kW']), int(pool[b'dW'])) != (r, r):
            raise _Mismatch(f'branch {i} pools by {int(pool[b"kW"])}, not {r}')
        take('GenNoise')
        block(branch[0])
        block(branch[1])
        if i > 0:
            join = g.joins[i - 1]
            norm(join.norm_branch, take('SpatialBatchNormalization'))
            block(join.convs[0])
            block(join.convs[1])
        if i < g.scales - 1:
            upsample_then_norm(g.joins[i].norm_deep)
    take('SpatialCircularPadding')
    rgb = take('SpatialConvolution')
    if next(leaves, None) is not None:
        raise _Mismatch('extra modules after the output conv')

    # Torch outputs Caffe BGR, 0-255, mean subtracted; fold "add mean, BGR->RGB, /255" in.
    w = np.asarray(rgb[b'weight'], np.float64)[::-1] / 255
    b = (np.asarray(rgb[b'bias'], np.float64) + CAFFE_MEAN_BGR)[::-1] / 255
    _assign(g.to_rgb.weight, w, 'output conv weight')
    _assign(g.to_rgb.bias, b, 'output conv bias')


def _leaves(mod):
    """Modules in depth-first order, containers checked and left out."""
    if not hasattr(mod, '_typename'):
        raise _Mismatch(f'found a {type(mod).__name__}, not a Torch module')
    if mod._typename not in _CONTAINERS:
        yield mod
        return
    children = mod._obj.get(b'modules') or []
    if mod._typename == b'nn.Concat' and (mod._obj.get(b'dimension') != 2 or len(children) != 2):
        raise _Mismatch('an nn.Concat is not a two-way channel concatenation')
    for child in children:
        yield from _leaves(child)


def _read_past_end(a: np.ndarray, n: int) -> np.ndarray:
    """The first n values of a's Torch storage from a's offset: what an unchecked a[i] reads."""
    storage = a
    while getattr(storage, 'base', None) is not None:
        storage = storage.base
    offset = (a.__array_interface__['data'][0] - storage.__array_interface__['data'][0]) // a.itemsize
    if a.ndim != 1 or a.strides != (a.itemsize,) or offset + n > storage.size:
        raise _Mismatch('a short norm is not followed by the flat parameter storage Torch read')
    return np.asarray(storage[offset:offset + n])


def _assign(param: torch.nn.Parameter, value, what: str):
    value = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    if value.shape != param.shape:
        raise _Mismatch(f'{what} has shape {tuple(value.shape)}, not {tuple(param.shape)}')
    with torch.no_grad():
        param.copy_(value)
