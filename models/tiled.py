"""The generator on an image of any size in bounded memory: tiles that add up to the untiled output.

At full resolution the last join holds 40 channels a pixel, several times over: a 24-megapixel
photo through the generator at once needs about 27 GB. Cut into tiles, three things would make
the result visibly differ from the untiled one, and each is handled here:

- Statistics. Every Norm normalises by the mean and variance of the *whole* image; a tile's
  own statistics would shift its tone. So the statistics are gathered first, over every tile,
  one Norm at a time (a Norm's input depends on the statistics of the Norms before it): each
  pass renders the tiles up to the first Norm without statistics, sums its input over the
  tiles' interiors, and stops there. Then every tile is rendered with them.
- Context. A conv sees its neighbours: on the deepest path, two 3x3 convs at each scale 16, 8,
  4, 2, 1 reach 2 * (16 + 8 + 4 + 2 + 1) = 62 px at full resolution, and the convs pad
  circularly, wrapping around the image's border. Each tile is cut with a margin of `halo` px
  (62 rounded up to the pooling multiple, 64) from the padded image, wrapping around its
  border as the padding does; only its interior is kept, so the wrong padding at the tile's
  own edge never reaches it.
- Noise. It is drawn once for the whole image, exactly as the untiled forward draws it, and
  cut like the image.

The output equals the untiled output to float precision (tests/python/test_tiled.py); it costs
one pass over the tiles per Norm, each stopping at its Norm: about four untiled forwards in all
(BENCHMARKS.md). Each tile goes through models.fast's forward, which reports each Norm's input
(`on_norm`) and normalises with the statistics a Norm holds.
"""
from __future__ import annotations

import torch

from .fast import forward_fast
from .generator import Generator, Norm


class _Recorded(Exception):
    """Stops a tile's forward once the Norm being measured has seen its input."""


def halo(generator: Generator) -> int:
    reach = 2 * sum(generator.ratios)
    m = generator.multiple
    return -(-reach // m) * m


def _cut(x, rows, cols, ratio):
    """Rows and columns (full-resolution indices, multiples of `ratio`) of a tensor at 1/ratio
    resolution, wrapping around its border: a view where the tile lies inside, else a copy."""
    (r0, r1), (c0, c1) = (rows[0] // ratio, rows[1] // ratio), (cols[0] // ratio, cols[1] // ratio)
    h, w = x.shape[-2:]
    if 0 <= r0 and r1 <= h and 0 <= c0 and c1 <= w:
        return x[..., r0:r1, c0:c1]
    r = torch.arange(r0, r1, device=x.device) % h
    c = torch.arange(c0, c1, device=x.device) % w
    return x.index_select(-2, r).index_select(-1, c)


def _spans(length, tile, m):
    """[start, end) spans of at most `tile` px, multiples of m, as equal as can be: tiles of one
    size keep the allocator from fragmenting, and no thin last tile pays a whole margin."""
    count = -(-length // tile)
    step = -(-length // count // m) * m
    return [(a, min(a + step, length)) for a in range(0, length, step)]


def _tiles(height, width, tile, margin, m):
    for y0, y1 in _spans(height, tile, m):
        for x0, x1 in _spans(width, tile, m):
            inner = (y0, y1), (x0, x1)
            yield inner, ((y0 - margin, y1 + margin), (x0 - margin, x1 + margin))


@torch.no_grad()
def forward_tiled(generator: Generator, image: torch.Tensor, noise: float | None = None,
                  rng: torch.Generator | None = None, tile: int = 1024, as_uint8: bool = False) -> torch.Tensor:
    """generator(image, noise, rng) for one image (1, 3, H, W), computed `tile` px at a time.
    `as_uint8`: the output as 8-bit RGB (1, 3, H, W), clamped: a quarter of the memory."""
    if image.shape[0] != 1:
        raise ValueError('forward_tiled takes one image at a time')
    m, margin = generator.multiple, halo(generator)
    tile = max(m, tile // m * m)
    h, w = image.shape[-2:]
    padded = generator.pad(image)
    height, width = padded.shape[-2:]
    noises = generator.draw_noise(padded, rng)
    norms = [mod for mod in generator.modules() if isinstance(mod, Norm)]

    def render(inner, outer, on_norm=None):
        crop = _cut(padded, *outer, 1)
        cuts = [_cut(z, *outer, r) for z, r in zip(noises, generator.ratios)]
        out = forward_fast(generator, crop, noise, noises=cuts, on_norm=on_norm)
        (y0, y1), (x0, x1) = inner
        return out[..., margin:margin + y1 - y0, margin:margin + x1 - x0]

    try:
        for norm in norms:
            norm.stats = None
        tiles = list(_tiles(height, width, tile, margin, m))
        while any(n.stats is None for n in norms):
            _measure(render, tiles, margin)
        result = torch.empty((1, 3, h, w), dtype=torch.uint8 if as_uint8 else image.dtype, device=image.device)
        for inner, outer in tiles:
            (y0, y1), (x0, x1) = inner
            if y0 >= h or x0 >= w:
                continue  # all padding
            out = render(inner, outer)[..., :h - y0, :w - x0]
            result[..., y0:min(y1, h), x0:min(x1, w)] = out.clamp(0, 1).mul_(255).round_() if as_uint8 else out
        return result
    finally:
        for norm in norms:
            norm.stats = None


def _measure(render, tiles, margin):
    """One pass over the tiles: the whole-image statistics of the first Norm that lacks them."""
    parts = {}  # norm -> [(pixels, mean, variance) of each tile's interior]
    current = {}

    def record(norm, x):
        if norm.stats is not None:
            return
        ratio = current['size'] // x.shape[-2]
        (y0, y1), (x0, x1) = current['inner']
        inside = x[..., margin // ratio:(margin + y1 - y0) // ratio, margin // ratio:(margin + x1 - x0) // ratio]
        var, mean = torch.var_mean(inside, dim=(0, 2, 3), correction=0)
        parts.setdefault(norm, []).append((inside[0, 0].numel(), mean.double(), var.double()))
        raise _Recorded

    for inner, outer in tiles:
        current.update(inner=inner, size=outer[0][1] - outer[0][0])
        try:
            render(inner, outer, record)
        except _Recorded:
            pass
    (norm, per_tile), = parts.items()  # every tile stops at the same Norm: the first one pending
    n = sum(count for count, _, _ in per_tile)
    mean = sum(count * m for count, m, _ in per_tile) / n
    var = sum(count * (v + (m - mean) ** 2) for count, m, v in per_tile) / n  # the tiles' pooled variance
    norm.stats = (mean.to(norm.weight.dtype), var.to(norm.weight.dtype))
