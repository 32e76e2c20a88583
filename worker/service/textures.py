"""The textures a run can use, by name: the built-in ones and those uploaded through the app.

The service takes names only, never paths, so no request can point a trainer at an arbitrary
file. Uploaded names never collide with built-in ones (a number is added)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from PIL import Image

from ..data import SAMPLES
from ..errors import NotFound, UsageError
from ..images import EXTENSIONS, ImageError, check_image, open_rgb
from ..protocol import UPLOAD_BYTES


class Textures:
    def __init__(self, uploads: Path):
        self.builtin_dir = SAMPLES / 'textures'
        self.uploads = Path(uploads)
        self.uploads.mkdir(parents=True, exist_ok=True)

    def _files(self):
        """(path, builtin) for every texture, built-in ones first."""
        for folder, builtin in ((self.builtin_dir, True), (self.uploads, False)):
            for p in sorted(folder.iterdir()):
                if p.suffix.lower() in EXTENSIONS and not p.name.startswith('.'):
                    yield p, builtin

    @staticmethod
    def describe(path: Path, builtin: bool) -> dict:
        with Image.open(path) as im:
            return {'name': path.stem, 'builtin': builtin, 'width': im.width, 'height': im.height}

    def list(self) -> list[dict]:
        return [self.describe(p, builtin) for p, builtin in self._files()]

    def path(self, name: str) -> Path:
        for p, _ in self._files():
            if p.stem == name:
                return p
        names = ', '.join(p.stem for p, builtin in self._files() if builtin)
        raise NotFound(f'no texture {name!r}: choose a built-in texture ({names}) or upload one')

    def save(self, blob, filename: str) -> dict:
        """Store an upload under a fresh name; a file that is not a whole, usable image is refused
        now (not mid-training) and nothing half-written stays behind."""
        if not isinstance(blob, (bytes, bytearray)) or not blob:
            raise UsageError('no image data was sent')
        if len(blob) > UPLOAD_BYTES:
            raise UsageError(f'the image is over {UPLOAD_BYTES // 2**20} MB; use a smaller one')
        stem = re.sub(r'[^A-Za-z0-9_-]+', '-', Path(filename).stem).strip('-')[:40] or 'texture'
        ext = Path(filename).suffix.lower() if Path(filename).suffix.lower() in EXTENSIONS else '.png'
        taken = {p.stem for p, _ in self._files()}
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f'{stem}-{n}'
        tmp, final = self.uploads / f'.upload-{name}{ext}', self.uploads / f'{name}{ext}'
        try:
            tmp.write_bytes(blob)
            check_image(tmp)
            open_rgb(tmp)  # a full decode: a truncated upload is refused here
            os.replace(tmp, final)
        except ImageError as e:
            raise UsageError(f'{filename} is not a usable image: {e}') from None
        finally:
            tmp.unlink(missing_ok=True)
        return self.describe(final, False)
