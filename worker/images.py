"""Reading any image a user has as 8-bit RGB, and writing tensors back as images.

Photo folders hold grayscale, CMYK, palette, alpha, 16-bit and rotated (EXIF) images, and
broken files; every reader in TN Studio goes through `open_rgb` so they are all treated alike.
"""
from __future__ import annotations

import io
import os
from contextlib import contextmanager

import numpy as np
import torch
from PIL import Image, ImageOps

from .atomic import atomic_write
from .protocol import IMAGE_EXTENSIONS as EXTENSIONS

# Above this an image is refused rather than decoded: a 200-megapixel RGB image is 600 MB in
# memory before any resizing. Pillow's own bomb check (DecompressionBombError) is at 2x its limit.
MAX_PIXELS = 178_956_970


class ImageError(ValueError):
    """An unusable image file; the message says why in words a user understands."""


def is_image_name(path) -> bool:
    return str(path).lower().endswith(EXTENSIONS)


@contextmanager
def _opened(source):
    """Image.open on a path or bytes, with every failure turned into an ImageError saying why."""
    if isinstance(source, (bytes, bytearray)):
        empty, source = not source, io.BytesIO(source)
    else:
        empty = os.path.getsize(source) == 0
    if empty:
        raise ImageError('empty file (0 bytes)')
    try:
        with Image.open(source) as im:
            _check_size(*im.size)
            yield im
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageError(f'too large ({e})') from None
    except Exception as e:
        raise _decode_error(e) from None


def check_image(path) -> tuple[int, int]:
    """Cheap validity check without a full decode: returns (width, height).

    Reads the header, and for PNG the chunk checksums (verify). A JPEG has no checksums, but a
    whole one ends with an EOI marker; only one without is decoded to find out.
    """
    with _opened(path) as im:
        size, fmt = im.size, im.format
        im.verify()
    if fmt == 'JPEG':
        with open(path, 'rb') as f:
            f.seek(max(0, os.path.getsize(path) - 32))
            whole = b'\xff\xd9' in f.read()
        if not whole:
            open_rgb(path)  # raises if it really is truncated
    return size


def _check_size(w, h):
    if w * h > MAX_PIXELS:
        # Exact counts: rounded to megapixels, one just over the limit reads "179; the limit is 179".
        raise ImageError(f'too large ({w}x{h} = {w * h:,} pixels; the limit is {MAX_PIXELS:,}, '
                         f'{MAX_PIXELS / 1e6:.0f} megapixels)')


def _decode_error(e: Exception) -> ImageError:
    text = f'{type(e).__name__}: {e}'
    if 'truncated' in str(e).lower() or isinstance(e, EOFError):
        return ImageError(f'truncated ({text})')
    return ImageError(f'not a readable image ({text})')


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I', 'F'):
        # Pillow's convert() clips 16-bit values to 255 (a white image); scale instead.
        a = np.asarray(im, dtype=np.float32)
        peak = 65535.0 if im.mode.startswith('I;16') or a.max() > 255 else 255.0
        if im.mode == 'F' and a.max() <= 1.0:
            peak = 1.0
        im = Image.fromarray(np.clip(a / peak * 255 + 0.5, 0, 255).astype(np.uint8), 'L')
    if im.mode == 'P':
        im = im.convert('RGBA')
    if im.mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La'):
        # Transparent parts become white, as a viewer shows them, instead of arbitrary colours.
        im = im.convert('RGBA')
        background = Image.new('RGBA', im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    return im.convert('RGB') if im.mode != 'RGB' else im


def open_rgb(source, min_side: int | None = None) -> Image.Image:
    """Decode a path (or bytes) fully as an upright RGB image. `min_side` lets JPEG decode at a
    reduced scale (draft mode) when the image is much larger than needed, which is most of
    MSCOCO's decode time. Raises ImageError with a readable reason."""
    with _opened(source) as im:
        w, h = im.size
        if min_side and im.format == 'JPEG' and min(w, h) / min_side >= 2:
            scale = min(w, h) / min_side
            im.draft('RGB', (int(w / scale) + 1, int(h / scale) + 1))
        im.load()
        return _to_rgb(ImageOps.exif_transpose(im))


def resize_long_side(im: Image.Image, size: int) -> Image.Image:
    w, h = im.size
    s = size / max(w, h)
    return im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC) if s != 1 else im


def to_tensor(im: Image.Image) -> torch.Tensor:
    """PIL RGB -> float tensor (3, H, W) in [0, 1]."""
    a = np.asarray(im, dtype=np.uint8).copy()
    return torch.from_numpy(a).permute(2, 0, 1).float().div_(255)


def to_image(t: torch.Tensor) -> Image.Image:
    """Tensor (3, H, W) or (1, 3, H, W), RGB in [0, 1] (clamped), or uint8 -> PIL image."""
    if t.dim() == 4:
        t = t[0]
    if t.dtype == torch.uint8:  # already 8-bit (models.tiled renders big images so)
        return Image.fromarray(t.permute(1, 2, 0).cpu().numpy(), 'RGB')
    a = t.detach().float().clamp(0, 1).mul_(255).round_().byte().permute(1, 2, 0).cpu().numpy()  # one copy: big images
    return Image.fromarray(a, 'RGB')


def save_image(im: Image.Image, path, **kwargs):
    """Save atomically, in the format the extension names."""
    fmt = Image.registered_extensions().get(os.path.splitext(os.fspath(path))[1].lower(), 'PNG')
    atomic_write(path, lambda f: im.save(f, format=fmt, **kwargs))
