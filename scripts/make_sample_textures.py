#!/usr/bin/env python3
"""Generate the procedural style textures shipped in samples/textures/.

Deterministic (every texture has its own fixed seed) and dependency-light:
NumPy + Pillow only. All textures are 512x512 and seamlessly tileable.
The generated images are dedicated to the public domain (CC0) by the project.

Usage:
    python scripts/make_sample_textures.py [--out samples/textures] [--only NAME ...]
"""
import argparse
import os

import numpy as np
from PIL import Image

SIZE = 512
JPEG_QUALITY = 90


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _freqs(n):
    f = np.fft.fftfreq(n)
    return f[None, :], f[:, None]


def blur(a, sigma):
    """Periodic Gaussian blur (FFT) of a 2-D array or an HxWxC array."""
    if sigma <= 0:
        return a
    n = a.shape[0]
    fx, fy = _freqs(n)
    k = np.exp(-2.0 * (np.pi ** 2) * (sigma ** 2) * (fx ** 2 + fy ** 2))
    if a.ndim == 3:
        return np.stack([blur(a[..., c], sigma) for c in range(a.shape[2])], -1)
    return np.real(np.fft.ifft2(np.fft.fft2(a) * k))


def noise(rng, n=SIZE, beta=2.5, fmin=1.0, fmax=None):
    """Periodic fractal noise with a 1/f^beta amplitude spectrum (zero mean, unit std).

    fmin/fmax are in cycles per image and band-limit the noise.
    """
    fx, fy = _freqs(n)
    f = np.sqrt(fx ** 2 + fy ** 2) * n
    amp = np.zeros_like(f)
    band = f >= fmin
    if fmax is not None:
        band &= f <= fmax
    amp[band] = f[band] ** (-beta)
    spec = amp * np.exp(2j * np.pi * rng.random((n, n)))
    out = np.real(np.fft.ifft2(spec))
    out -= out.mean()
    return out / (out.std() + 1e-12)


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def hexcol(h):
    h = h.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255.0


def palette_ramp(t, stops):
    """Map t in [0, 1] through a piecewise-linear colour ramp of hex colours."""
    cols = np.array([hexcol(c) for c in stops])
    pos = np.linspace(0.0, 1.0, len(stops))
    t = np.clip(t, 0.0, 1.0)
    return np.stack([np.interp(t, pos, cols[:, c]) for c in range(3)], -1)


def sample_wrap(img, y, x):
    """Bilinear sample of img (HxW or HxWxC) at float coords, wrapping around."""
    h, w = img.shape[:2]
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = x - x0
    fy = y - y0
    x0 %= w
    y0 %= h
    x1 = (x0 + 1) % w
    y1 = (y0 + 1) % h
    if img.ndim == 3:
        fx = fx[..., None]
        fy = fy[..., None]
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bot = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bot * fy


def voronoi_edge(rng, cells, n=SIZE, jitter=0.9, warp=None):
    """Periodic jittered-grid Voronoi diagram.

    Returns (f1, edge, cell_id, nearest_point_yx): distance to the nearest seed,
    exact distance to the nearest cell border (both in pixels), the nearest
    seed's cell index and its (unwrapped) position. `warp` is an optional
    (dy, dx) pair of HxW arrays that displaces the lookup position.
    """
    step = n / cells
    py0 = (np.arange(cells)[:, None] + 0.5 + jitter * (rng.random((cells, cells)) - 0.5)) * step
    px0 = (np.arange(cells)[None, :] + 0.5 + jitter * (rng.random((cells, cells)) - 0.5)) * step
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    if warp is not None:
        yy = yy + warp[0]
        xx = xx + warp[1]
    gy = np.floor(yy / step).astype(np.int64)
    gx = np.floor(xx / step).astype(np.int64)
    cand = []
    for dy in (-2, -1, 0, 1, 2):
        for dx in (-2, -1, 0, 1, 2):
            cy = gy + dy
            cx = gx + dx
            wy = np.floor_divide(cy, cells)
            wx = np.floor_divide(cx, cells)
            iy = cy - wy * cells
            ix = cx - wx * cells
            cand.append((py0[iy, ix] + wy * n, px0[iy, ix] + wx * n, iy * cells + ix))
    cy = np.stack([c[0] for c in cand])
    cx = np.stack([c[1] for c in cand])
    ids = np.stack([c[2] for c in cand])
    d2 = (yy - cy) ** 2 + (xx - cx) ** 2
    k = np.argmin(d2, axis=0)

    def take(a):
        return np.take_along_axis(a, k[None], 0)[0]

    ny, nx, cid = take(cy), take(cx), take(ids)
    f1 = np.sqrt(take(d2))
    # distance to the bisector between the nearest point and every other candidate
    my = (cy + ny) * 0.5
    mx = (cx + nx) * 0.5
    vy = cy - ny
    vx = cx - nx
    vl = np.sqrt(vy ** 2 + vx ** 2)
    vl[vl == 0] = np.inf
    dist = ((yy - my) * vy + (xx - mx) * vx) / vl
    dist = np.where(ids == cid, np.inf, -dist)
    edge = np.min(dist, axis=0)
    return f1, edge, cid, np.stack([ny, nx], -1)


def to_image(rgb):
    return Image.fromarray((np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), "RGB")


# ----------------------------------------------------------------------------
# textures
# ----------------------------------------------------------------------------
def stained_glass(seed=11):
    """Voronoi stained-glass mosaic: jewel-toned glass panes with dark lead came."""
    rng = np.random.default_rng(seed)
    warp = (noise(rng, beta=3.0, fmin=2) * 4.0, noise(rng, beta=3.0, fmin=2) * 4.0)
    _, edge, cid, _ = voronoi_edge(rng, 11, jitter=0.95, warp=warp)
    jewels = ["#b3122b", "#e0452a", "#f2a516", "#f7d046", "#1f8a4c", "#5cbf3a",
              "#0f5fa8", "#2d9fd9", "#1c2f8f", "#6b2fa0", "#c0398f", "#0f8c8c"]
    cols = np.array([hexcol(c) for c in jewels])
    ncell = 11 * 11
    pick = rng.integers(0, len(jewels), ncell)
    # avoid a pane sharing its colour with its grid neighbours as much as cheaply possible
    for _ in range(4):
        g = pick.reshape(11, 11)
        clash = (g == np.roll(g, 1, 0)) | (g == np.roll(g, 1, 1))
        g[clash] = rng.integers(0, len(jewels), clash.sum())
        pick = g.ravel()
    base = cols[pick[cid]]
    base = base * (0.85 + 0.3 * rng.random(ncell)[cid])[..., None]
    # glass: streaky, uneven thickness, brighter towards the pane centre
    streak = blur(rng.standard_normal((SIZE, SIZE)), 1.0)
    mottled = noise(rng, beta=2.0, fmin=6, fmax=90)
    centre = np.clip(edge / 18.0, 0.0, 1.0)
    light = 0.62 + 0.38 * centre + 0.10 * mottled + 0.05 * streak
    rgb = base * light[..., None]
    # slight white specular bloom in the middle of the panes
    rgb = rgb + 0.18 * (centre ** 3)[..., None] * (0.5 + 0.5 * mottled[..., None].clip(-1, 1))
    # lead came
    w = 2.6 + 0.6 * noise(rng, beta=3.0, fmin=3)
    lead = 1.0 - smoothstep(w - 0.9, w + 0.9, edge)
    came = np.array([0.09, 0.085, 0.08])
    ridge = np.clip(1.0 - np.abs(edge / np.maximum(w, 0.5)), 0, 1)
    came_rgb = came[None, None, :] + 0.10 * ridge[..., None]
    rgb = rgb * (1 - lead[..., None]) + came_rgb * lead[..., None]
    # darken panes just inside the lead (shadow)
    shade = 1.0 - 0.35 * (1.0 - smoothstep(w, w + 6.0, edge))
    rgb = rgb * shade[..., None]
    return to_image(rgb)


def starry_swirls(seed=23):
    """Swirling brush strokes: coloured streaks advected along a vortex flow field."""
    rng = np.random.default_rng(seed)
    n = SIZE
    # stream function from smooth noise plus a few periodic vortices -> divergence-free flow
    psi = noise(rng, beta=3.2, fmin=1.5)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    for _ in range(7):
        cy, cx = rng.random(2) * n
        r = rng.uniform(30, 70)
        s = rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 2.5)
        for oy in (-n, 0, n):  # sum the periodic images so the field stays seamless
            for ox in (-n, 0, n):
                psi += s * np.exp(-((xx - cx - ox) ** 2 + (yy - cy - oy) ** 2) / (2 * r ** 2))
    vy = -(np.roll(psi, -1, 1) - np.roll(psi, 1, 1))
    vx = np.roll(psi, -1, 0) - np.roll(psi, 1, 0)
    # soft normalisation: unit speed almost everywhere, slowing down smoothly at
    # stagnation points instead of flipping direction
    mag = np.sqrt(vx ** 2 + vy ** 2)
    m0 = 0.15 * np.median(mag)
    vy /= np.sqrt(mag ** 2 + m0 ** 2)
    vx /= np.sqrt(mag ** 2 + m0 ** 2)
    # paint colour field: blues / teals with golden and cream accents. It is a
    # function of the stream function (mostly), so colour bands follow the swirls
    # and smearing along streamlines does not produce hard seams.
    pn = (psi - psi.mean()) / psi.std()
    t = (0.5 + 0.26 * pn + 0.06 * np.sin(3.0 * pn * np.pi)
         + 0.05 * noise(rng, beta=2.6, fmin=1.5) + 0.04 * noise(rng, beta=1.5, fmin=8, fmax=60))
    paint = palette_ramp(t, ["#0b1a4a", "#123d8a", "#1f66b8", "#3d8fd0", "#8cc7d9",
                             "#f0e4a6", "#f2c230", "#e08f1d"])
    # stroke-scale dab noise: each dab is a few pixels wide with its own tint
    dab = rng.standard_normal((n, n, 3)) * 0.22 + rng.standard_normal((n, n, 1)) * 0.25
    dab = blur(dab, 1.0) * 3.0
    src = np.clip(paint + 0.5 * dab, 0, 1)
    # line-integral convolution along the flow (both directions)
    steps = 18
    acc = src.copy()
    wsum = np.ones((n, n))
    for direction in (1.0, -1.0):
        py = yy.copy()
        px = xx.copy()
        for i in range(1, steps + 1):
            sy = sample_wrap(vy, py, px)
            sx = sample_wrap(vx, py, px)
            py = py + direction * sy * 1.0
            px = px + direction * sx * 1.0
            wgt = np.exp(-(i / (0.7 * steps)) ** 2)
            acc += wgt * sample_wrap(src, py, px)
            wsum += wgt
    rgb = acc / wsum[..., None]
    # restore contrast lost by averaging, add impasto-ish relief from the streak luminance
    lum = rgb.mean(-1)
    mean = blur(rgb, 6.0)
    rgb = mean + (rgb - mean) * 2.6
    relief = (np.roll(lum, 1, 0) - np.roll(lum, -1, 0) + np.roll(lum, 1, 1) - np.roll(lum, -1, 1))
    rgb = rgb + 0.6 * relief[..., None]
    rgb = np.clip(rgb, 0, 1) ** 0.95
    return to_image(rgb)


def truchet_weave(seed=37):
    """Multi-coloured Truchet tiles of striped quarter-circle ribbons."""
    rng = np.random.default_rng(seed)
    ss = 3  # supersampling
    n = SIZE * ss
    tiles = 8
    ts = n / tiles
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64) + 0.5
    ty = np.floor(yy / ts).astype(np.int64)
    tx = np.floor(xx / ts).astype(np.int64)
    u0 = xx / ts - tx
    v = yy / ts - ty
    orient = rng.integers(0, 2, (tiles, tiles))[ty, tx]
    u = np.where(orient == 1, 1.0 - u0, u0)
    d1 = np.hypot(u, v)              # arc around corner (0, 0)
    d2 = np.hypot(1 - u, 1 - v)      # arc around corner (1, 1)
    d = np.minimum(d1, d2)           # radial coordinate of the nearer ribbon
    # background two-colouring: a lobe takes the colour of the grid vertex its arc
    # is centred on ((i + j) % 2); the middle region touches the other two
    # vertices, which have the opposite parity
    parity = (ty + tx + orient) % 2
    lobe = d < 0.5
    region = np.where(lobe, parity, 1 - parity)
    bg = np.array([hexcol("#f3e6c8"), hexcol("#1d2b4f")])[region]
    # the ribbon: centred on r = 0.5, with coloured stripes across its width
    r = (d - 0.5) / 0.30  # -1..1 across the ribbon
    ribbon = np.abs(r) <= 1.0
    stripes = ["#c8331f", "#f29f05", "#f2d16b", "#2a9d8f", "#f2d16b", "#f29f05", "#c8331f"]
    scol = np.array([hexcol(c) for c in stripes])
    sidx = np.clip(((r + 1.0) / 2.0 * len(stripes)).astype(np.int64), 0, len(stripes) - 1)
    rib = scol[sidx]
    # shading: ribbons look rounded, with a dark outline
    shade = 0.75 + 0.25 * np.sqrt(np.clip(1 - r ** 2, 0, 1))
    rib = rib * shade[..., None]
    outline = (np.abs(r) > 0.9) & ribbon
    rib[outline] = hexcol("#101820")
    rgb = np.where(ribbon[..., None], rib, bg)
    # a small dot on every grid vertex (inside lobes and free corners alike)
    dc = np.hypot(np.minimum(u0, 1 - u0), np.minimum(v, 1 - v))
    dot = dc < 0.13
    rgb[dot] = hexcol("#2a9d8f")
    rgb[(dc >= 0.13) & (dc < 0.17)] = hexcol("#101820")
    img = to_image(rgb)
    return img.resize((SIZE, SIZE), Image.LANCZOS)


def craquelure(seed=41):
    """Old varnished paint with a network of craquelure cracks."""
    rng = np.random.default_rng(seed)
    n = SIZE
    # underlying painting: warm earth tones with soft, broad variation
    t = 0.5 + 0.30 * noise(rng, beta=2.8, fmin=1.5) + 0.08 * noise(rng, beta=1.6, fmin=10, fmax=120)
    paint = palette_ramp(t, ["#3b2412", "#7a4a1f", "#b07a35", "#d6ad62", "#e8cf8e",
                             "#a9b47a", "#5f7a4e"])
    # large plates, then smaller secondary cracks inside them
    warp1 = (noise(rng, beta=2.6, fmin=3) * 6, noise(rng, beta=2.6, fmin=3) * 6)
    _, e1, cid1, _ = voronoi_edge(rng, 9, jitter=1.0, warp=warp1)
    warp2 = (noise(rng, beta=2.2, fmin=6) * 3, noise(rng, beta=2.2, fmin=6) * 3)
    _, e2, _, _ = voronoi_edge(rng, 22, jitter=1.0, warp=warp2)
    w1 = 1.3 + 0.5 * noise(rng, beta=2.5, fmin=4)
    w2 = 0.55 + 0.35 * noise(rng, beta=2.5, fmin=4)
    crack1 = 1.0 - smoothstep(w1 - 0.7, w1 + 0.7, e1)
    # secondary cracks fade in and out so the network looks irregular
    fade = smoothstep(-0.4, 0.6, noise(rng, beta=2.4, fmin=3))
    crack2 = (1.0 - smoothstep(w2 - 0.6, w2 + 0.6, e2)) * fade
    # cupping: each plate is a little darker at its rim and lit from the top-left
    cup = smoothstep(0.0, 14.0, e1)
    plate_tint = 0.9 + 0.2 * rng.random(9 * 9)[cid1]
    grain = blur(rng.standard_normal((n, n)), 0.8) * 0.05
    shade = (0.72 + 0.28 * cup) * plate_tint + grain
    rgb = paint * shade[..., None]
    # yellowed varnish
    rgb = rgb * np.array([1.0, 0.94, 0.78]) + np.array([0.03, 0.02, 0.0])
    crack_col = np.array([0.10, 0.06, 0.03])
    c = np.clip(crack1 + 0.8 * crack2, 0, 1)[..., None]
    rgb = rgb * (1 - c) + crack_col * c
    # crack edge highlight (lifted paint rim)
    rim = (smoothstep(w1 + 0.7, w1 + 1.8, e1) * (1 - smoothstep(w1 + 1.8, w1 + 3.0, e1)))
    rgb = rgb + 0.08 * rim[..., None]
    return to_image(rgb)


def watercolour(seed=53):
    """Overlapping watercolour washes with darkened, pooled edges on textured paper."""
    rng = np.random.default_rng(seed)
    n = SIZE
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    grain = blur(rng.standard_normal((n, n)), 1.0)
    grain /= grain.std()
    fibres = noise(rng, beta=1.2, fmin=40, fmax=200)
    rgb = np.ones((n, n, 3)) * hexcol("#faf5e8")
    rgb = rgb * (1.0 + 0.02 * grain[..., None] + 0.012 * fibres[..., None])
    pigments = ["#e63946", "#f4a261", "#2a9d8f", "#277da1", "#e9c46a", "#8e3b8f",
                "#d1495b", "#52b788", "#3a86ff", "#edae49", "#00798c", "#ef476f"]
    for i in range(22):
        cy, cx = rng.random(2) * n
        rad = rng.uniform(50, 115)
        ang = rng.uniform(0, np.pi)
        ex = rng.uniform(0.75, 1.35)
        # periodic offsets so washes wrap around the tile edges smoothly
        dy = (yy - cy + n / 2) % n - n / 2
        dx = (xx - cx + n / 2) % n - n / 2
        wy = noise(rng, beta=2.4, fmin=3) * 14.0
        wx = noise(rng, beta=2.4, fmin=3) * 14.0
        dy = dy + wy
        dx = dx + wx
        ry = (dy * np.cos(ang) + dx * np.sin(ang)) * ex
        rx = (-dy * np.sin(ang) + dx * np.cos(ang)) / ex
        field = 1.0 - np.sqrt(ry ** 2 + rx ** 2) / rad
        field += noise(rng, beta=1.6, fmin=10, fmax=90) * 0.035
        field = np.where(np.abs(dy - wy) > n / 2 - 20, -1.0, field)  # keep the wrap seam clean
        field = np.where(np.abs(dx - wx) > n / 2 - 20, -1.0, field)
        mask = smoothstep(0.0, 0.015, field)
        edge = mask * (1.0 - smoothstep(0.0, 0.07, field))  # pigment pooled at the rim
        flow = 0.55 + 0.25 * noise(rng, beta=2.2, fmin=3, fmax=40)  # uneven wash
        bloom = 1.0 - 0.45 * smoothstep(0.35, 0.9, field)  # lighter, diluted centre
        gran = 1.0 + 0.18 * grain
        density = (mask * flow * bloom + 0.75 * edge) * gran * rng.uniform(0.45, 0.75)
        col = hexcol(pigments[i % len(pigments)])
        absorb = np.clip(1.0 - col, 0.02, 1.0)  # subtractive (glazing) mix
        rgb = rgb * np.exp(-density[..., None] * absorb * 1.5)
    return to_image(np.clip(rgb, 0, 1))


def marbled_paper(seed=67):
    """Combed paper marbling (ebru): colour bands dragged by tines and swirls."""
    rng = np.random.default_rng(seed)
    n = SIZE
    ss = 3  # supersampling: the flow is evaluated on a 3x finer grid
    yy, xx = (np.mgrid[0:n * ss, 0:n * ss].astype(np.float64) + 0.5) / ss - 0.5
    y = yy.copy()
    x = xx.copy()

    # Operations are applied to the ink in order; sampling needs their inverses in
    # reverse order. Each op is a shear along one axis, so it inverts exactly.
    def comb(coord, across, spacing, shift, amount, lam):
        d = np.abs(((across - shift) % spacing) - spacing / 2.0)  # distance to nearest tine
        d = np.sqrt((spacing / 2.0 - d) ** 2 + 2.0)  # slightly rounded tine tip
        return coord - amount * lam / (d + lam)

    def wave(coord, across, amp, periods, phase):
        return coord - amp * np.sin(2 * np.pi * periods * across / n + phase)

    # a "flame" pattern: a slow wave, a comb drawn down then back up between the
    # first tines (gel-git), a sideways serpentine, then a fine comb
    ops = [
        ("y", lambda c, a: wave(c, a, 24.0, 1, 0.3)),
        ("y", lambda c, a: comb(c, a, 64.0, 0.0, 60.0, 10.0)),
        ("y", lambda c, a: comb(c, a, 64.0, 32.0, -60.0, 10.0)),
        ("x", lambda c, a: wave(c, a, 20.0, 3, 0.5)),
        ("x", lambda c, a: wave(c, a, 30.0, 1, 2.0)),
        ("y", lambda c, a: comb(c, a, 16.0, 0.0, 10.0, 3.0)),
    ]
    for axis, f in reversed(ops):
        if axis == "y":
            y = f(y, x)
        else:
            x = f(x, y)
    # gentle turbulence, as if the bath moved
    y = y + sample_wrap(noise(rng, beta=3.0, fmin=2), yy, xx) * 4.0
    x = x + sample_wrap(noise(rng, beta=3.0, fmin=2), yy, xx) * 4.0
    # initial ink: stripes of varying width in a rich palette
    inks = ["#0b3954", "#087e8b", "#bfd7ea", "#ff5a5f", "#c81d25", "#f6ae2d",
            "#fdf0d5", "#33658a", "#86bbd8", "#2f4858", "#f26419", "#ffe8c2"]
    widths = rng.uniform(4, 16, 200)
    period = float(n)
    widths = widths[np.cumsum(widths) <= period]
    widths = np.append(widths, period - widths.sum())
    edges = np.cumsum(widths)
    cols = np.array([hexcol(inks[i % len(inks)]) for i in range(len(widths))])
    idx = np.searchsorted(edges, y % period, side="right")
    rgb = cols[np.clip(idx, 0, len(cols) - 1)]
    rgb = rgb.reshape(n, ss, n, ss, 3).mean(axis=(1, 3))  # box-filter down to n x n
    # paper tooth and slight ink unevenness
    rgb = rgb * (1.0 + 0.04 * noise(rng, beta=1.5, fmin=10, fmax=150))[..., None]
    return to_image(rgb)


TEXTURES = {
    "stained_glass": stained_glass,
    "starry_swirls": starry_swirls,
    "truchet_weave": truchet_weave,
    "craquelure": craquelure,
    "watercolour": watercolour,
    "marbled_paper": marbled_paper,
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(os.path.dirname(here), "samples", "textures")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=default_out, help="output folder (default: samples/textures)")
    ap.add_argument("--only", nargs="*", choices=sorted(TEXTURES), help="generate only these")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or TEXTURES:
        img = TEXTURES[name]()
        assert img.size == (SIZE, SIZE)
        path = os.path.join(args.out, name + ".jpg")
        img.save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
        print(f"{path}  {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
