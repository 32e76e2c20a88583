"""A synthesis generator's sample of any size in bounded memory: bands of rows that add up to the
untiled sample.

models.tiled does this for stylization; a noise-only generator allows a simpler cut. The
generator is a chain of stages, one per scale, coarsest first: stage i turns its noise (and the
upsampled output of stage i-1) into a map of 8(i+1) channels at scale i. Only the finest stages
are large, so each stage is rendered whole when it fits the budget, and else in bands of whole
rows, its input (the previous stage's output, a quarter of the pixels) kept whole. As in
models.tiled, three things would make bands differ from the whole and each is handled:

- Statistics: every Norm normalises by its whole map's mean and variance, gathered first over the
  bands' interiors, one Norm at a time (a Norm's input depends on the statistics before it).
- Context: a stage has four 3x3 convs on its longest path (two in the branch, two after the
  join), so each band is cut with HALO = 4 rows more on each side, wrapping around the top and
  bottom as the circular padding does, and only its interior is kept. Bands span whole rows, so
  the columns wrap by the convs' own circular padding.
- Upsampling: the previous stage's rows are picked by PyTorch's own nearest-neighbour map (not
  recomputed here), so a band sees exactly the rows the whole upsample would give it.

tests/python/test_synthesis.py checks the banded sample against the untiled one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .generator import Norm

# Peak memory of the untiled synthesis generator per output pixel (fp32, CPU, 6 scales, with
# the 1x1 blocks: BENCHMARKS.md, Texture synthesis), used to size the bands.
BYTES_PER_PIXEL = 1200
HALO = 4


class _Recorded(Exception):
    """Stops a band's forward once the Norm being measured has seen its input."""


def _nearest_rows(n_in: int, n_out: int, device) -> torch.Tensor:
    """The source row of each of n_out rows in F.interpolate(mode='nearest') from n_in rows."""
    rows = torch.arange(n_in, dtype=torch.float32, device=device).view(1, 1, n_in, 1)
    return F.interpolate(rows, size=(n_out, 1), mode='nearest').view(-1).long()


def _stage(g, i, z, deep):
    """Stage i on a band: its noise rows `z`, and the previous stage's output already upsampled
    to the band's rows (None for the coarsest)."""
    x = g.branches[i](z)
    if deep is None:
        out = x
    else:
        join = g.joins[i - 1]
        out = join.convs(torch.cat([join.norm_deep(deep), join.norm_branch(x)], 1))
    return g.to_rgb(out) if i == g.scales - 1 else out


def _stage_norms(g, i) -> list[Norm]:
    mods = list(g.branches[i].modules()) + (list(g.joins[i - 1].modules()) if i else [])
    return [m for m in mods if isinstance(m, Norm)]


def _render_stage(g, i, z, prev, band_rows: int):
    """Stage i whole: (B, C, H, W), computed `band_rows` rows (plus halos) at a time."""
    height, width = z.shape[-2:]
    row_map = None if prev is None else _nearest_rows(prev.shape[-2], height, z.device)

    def band(r0, r1, halo):
        rows = torch.arange(r0 - halo, r1 + halo, device=z.device) % height
        # The previous map's rows for this band, then its columns: the rows are already as many as
        # the band's, so this upsamples the columns alone, exactly as the whole upsample would.
        deep = None if prev is None else F.interpolate(prev.index_select(-2, row_map[rows]),
                                                       size=(len(rows), width), mode='nearest')
        return _stage(g, i, z.index_select(-2, rows), deep)

    if band_rows >= height:
        return band(0, height, 0)
    spans = [(r, min(r + band_rows, height)) for r in range(0, height, band_rows)]
    norms = _stage_norms(g, i)
    try:
        for norm in norms:  # whole-map statistics, one Norm at a time, in the order they are used
            _measure(norm, [lambda r0=r0, r1=r1: band(r0, r1, HALO) for r0, r1 in spans], [r1 - r0 for r0, r1 in spans])
        out = None
        for r0, r1 in spans:
            part = band(r0, r1, HALO)[..., HALO:HALO + r1 - r0, :]
            if out is None:
                out = part.new_empty((*part.shape[:2], height, width))
            out[..., r0:r1, :] = part
        return out
    finally:
        for norm in norms:
            norm.stats = None


def _measure(norm: Norm, bands, lengths):
    """Run each band up to `norm` and give it the pooled statistics of the bands' interiors."""
    parts = []

    def record(module, args):
        x = args[0][..., HALO:HALO + lengths[len(parts)], :]
        var, mean = torch.var_mean(x, dim=(0, 2, 3), correction=0)
        parts.append((x[0, 0].numel(), mean.double(), var.double()))
        raise _Recorded

    hook = norm.register_forward_pre_hook(record)
    try:
        for run in bands:
            try:
                run()
            except _Recorded:
                pass
    finally:
        hook.remove()
    n = sum(count for count, _, _ in parts)
    mean = sum(count * m for count, m, _ in parts) / n
    var = sum(count * (v + (m - mean) ** 2) for count, m, v in parts) / n
    norm.stats = (mean.to(norm.weight.dtype), var.to(norm.weight.dtype))


@torch.no_grad()
def forward_banded(g, noises: list[torch.Tensor], budget: int) -> torch.Tensor:
    """g(noises) for a batch of one, each stage within about `budget` bytes."""
    if noises[0].shape[0] != 1:
        raise ValueError('forward_banded takes one sample at a time')
    out = None
    for i, z in enumerate(noises):
        width = z.shape[-1]
        rows = max(8, budget // (BYTES_PER_PIXEL * width) - 2 * HALO)
        out = _render_stage(g, i, z, out, rows)
    return out
