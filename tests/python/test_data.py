"""The dataset scan and the data stream on a folder of awkward files."""
import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import smooth_image
from worker.data import (ContentDataset, DatasetError, IterationSampler, resolve_data_dir, resolve_texture,
                         scan_folder)
from worker.images import ImageError, open_rgb


def png_header_only(w, h):
    """A PNG that claims w x h pixels (a decompression bomb's header) with one tiny IDAT."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(b'\0' * 16)) + chunk(b'IEND', b''))


@pytest.fixture(scope='module')
def awkward(tmp_path_factory):
    d = tmp_path_factory.mktemp('awkward')
    rng = np.random.default_rng(1)
    photo = smooth_image(rng, 40, 60)
    photo.save(d / 'good.jpg')
    photo.save(d / 'SHOUTING.JPG')
    (d / 'nested' / 'deeper').mkdir(parents=True)
    photo.save(d / 'nested' / 'deeper' / 'inner.png')
    photo.convert('L').save(d / 'gray.png')
    photo.convert('CMYK').save(d / 'cmyk.jpg')
    photo.convert('P').save(d / 'palette.gif')
    rgba = photo.convert('RGBA')
    rgba.putalpha(0)  # fully transparent: must come out white, not black
    rgba.save(d / 'transparent.png')
    photo.convert('LA').save(d / 'gray_alpha.png')
    Image.fromarray(np.full((30, 50), 40000, np.uint16)).save(d / 'sixteen_bit.png')
    Image.fromarray(np.full((30, 50), 20000, np.uint16)).save(d / 'sixteen_bit.tif')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    photo.save(d / 'rotated.jpg', exif=exif)
    # Unusable ones:
    (d / 'empty.jpg').write_bytes(b'')
    (d / 'notes.jpg').write_text('this is not an image')
    buf = io.BytesIO()
    smooth_image(rng, 200, 200).save(buf, 'JPEG', quality=95)
    (d / 'truncated.jpg').write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    buf = io.BytesIO()
    smooth_image(rng, 100, 100).save(buf, 'PNG')
    (d / 'truncated.png').write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (d / 'bomb.png').write_bytes(png_header_only(30000, 30000))
    # Ignored: hidden files and non-image names.
    photo.save(d / '.hidden.jpg')
    (d / 'readme.txt').write_text('hello')
    return d


USABLE = {'good.jpg', 'SHOUTING.JPG', 'inner.png', 'gray.png', 'cmyk.jpg', 'palette.gif', 'transparent.png',
          'gray_alpha.png', 'sixteen_bit.png', 'sixteen_bit.tif', 'rotated.jpg'}


def test_scan_counts_usable_and_skipped_with_reasons(awkward):
    scan = scan_folder(awkward)
    assert {p.split('/')[-1] for p in scan.usable} == USABLE
    reasons = {p.split('/')[-1]: r for p, r in scan.skipped}
    assert set(reasons) == {'empty.jpg', 'notes.jpg', 'truncated.jpg', 'truncated.png', 'bomb.png'}
    assert reasons['empty.jpg'].startswith('empty file')
    assert reasons['notes.jpg'].startswith('not a readable image')
    assert reasons['truncated.jpg'].startswith('truncated')
    assert reasons['bomb.png'].startswith('too large')
    assert scan.reasons()['empty file'] == 1 and sum(scan.reasons().values()) == 5
    assert '11 usable' in scan.summary() and 'skipped 5' in scan.summary()


def test_every_usable_image_decodes_as_upright_rgb(awkward):
    for p in scan_folder(awkward).usable:
        im = open_rgb(p)
        assert im.mode == 'RGB', p
    assert open_rgb(awkward / 'rotated.jpg').size == (40, 60)  # EXIF orientation applied
    assert open_rgb(awkward / 'good.jpg').size == (60, 40)
    white = np.asarray(open_rgb(awkward / 'transparent.png'))
    assert white.min() == 255
    sixteen = np.asarray(open_rgb(awkward / 'sixteen_bit.png')).astype(int)
    assert abs(sixteen.mean() - 40000 / 65535 * 255) < 2  # scaled, not clipped to white
    cmyk = np.asarray(open_rgb(awkward / 'cmyk.jpg')).astype(int)
    good = np.asarray(open_rgb(awkward / 'good.jpg')).astype(int)
    assert np.abs(cmyk - good).mean() < 20


def test_decoding_errors_are_readable(awkward):
    with pytest.raises(ImageError, match='truncated'):
        open_rgb(awkward / 'truncated.jpg')
    with pytest.raises(ImageError, match='too large'):
        open_rgb(awkward / 'bomb.png')


def test_folder_errors_say_what_to_do(tmp_path, awkward, monkeypatch):
    with pytest.raises(DatasetError, match='does not exist'):
        scan_folder(tmp_path / 'missing')
    with pytest.raises(DatasetError, match='is a file, not a folder'):
        scan_folder(awkward / 'good.jpg')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(DatasetError, match='No usable photo in .*empty: it holds no files'):
        scan_folder(tmp_path / 'empty')
    bad = tmp_path / 'only_bad'
    bad.mkdir()
    (bad / 'a.jpg').write_bytes(b'')
    (bad / 'b.png').write_text('nope')
    with pytest.raises(DatasetError, match=r'No usable photo.*: 2 image files were unreadable \(1 empty file, 1 not a readable image\)\. Put'):
        scan_folder(bad)
    # One of each: singular; the other file said; a relative path says where it starts from.
    (bad / 'a.jpg').unlink()
    (bad / 'notes.txt').write_text('not a photo')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as e:
        scan_folder('only_bad')
    assert str(e.value) == (f'No usable photo in {bad} (a relative path starts from {tmp_path}, the working folder): '
                            '1 image file was unreadable (1 not a readable image); 1 other file was ignored, not being images. '
                            'Put .jpg or .png photos in it (subfolders are searched too).')
    assert '`' not in str(e.value)


def test_scan_counts_photos_per_subfolder_and_the_files_it_ignores(awkward, monkeypatch):
    monkeypatch.chdir(awkward.parent)
    scan = scan_folder(awkward.name)  # relative: the scan says the absolute folder
    assert scan.folder == str(awkward) and scan.given == awkward.name
    assert scan.subfolders() == {'.': len(USABLE) - 1, 'nested': 1}
    assert [scan.relative(p) for p in scan.others] == ['readme.txt']  # hidden files left out


def test_dataset_crops_and_replaces_a_photo_that_fails_to_decode(awkward):
    ds = ContentDataset([awkward / 'truncated.jpg', awkward / 'good.jpg'], 32)
    x = ds[(0, 5)]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1
    torch.testing.assert_close(x, ds[(1, 5)])  # the next photo, same crop


def test_sampler_is_a_function_of_the_iteration():
    full = list(IterationSampler(10, 3, seed=4, start=0, stop=12))
    tail = list(IterationSampler(10, 3, seed=4, start=5, stop=12))
    assert full[15:] == tail
    # every photo once per epoch
    assert sorted(i for i, _ in full[:10]) == list(range(10))
    # ranks split each global batch
    r0 = list(IterationSampler(10, 3, seed=4, start=0, stop=4, rank=0, world=2))
    r1 = list(IterationSampler(10, 3, seed=4, start=0, stop=4, rank=1, world=2))
    assert r0[:3] == full[:3] and r1[:3] == full[3:6]


def test_sample_names_resolve():
    assert resolve_data_dir('sample').is_dir()
    assert len(scan_folder(resolve_data_dir('sample')).usable) >= 8
    textures = sorted(p.stem for p in (resolve_data_dir('sample').parent / 'textures').iterdir() if p.suffix in ('.jpg', '.png'))
    assert len(textures) >= 4
    assert resolve_texture(textures[0]).is_file()
    with pytest.raises(DatasetError, match='neither a file nor a built-in texture'):
        resolve_texture('no-such-texture')


@pytest.mark.filterwarnings('ignore::PIL.Image.DecompressionBombWarning')  # Pillow warns from half the limit
def test_the_179_megapixel_limit_at_its_boundary(tmp_path, monkeypatch):
    """An image of exactly MAX_PIXELS passes the header check and the scan; one pixel more is
    refused, saying it is too large and what the limit is. Header-only PNGs: nothing is decoded."""
    from worker.images import MAX_PIXELS, check_image
    from worker.synthesize import parse_size
    assert MAX_PIXELS == 12470 * 14351 == 178_956_970  # the README's 179 megapixels; Pillow's own bomb limit
    folder = tmp_path / 'photos'
    folder.mkdir()
    (folder / 'at.png').write_bytes(png_header_only(12470, 14351))
    (folder / 'over.png').write_bytes(png_header_only(3033169, 59))  # 178,956,971 pixels
    assert check_image(folder / 'at.png') == (12470, 14351)
    scan = scan_folder(folder)
    assert [p.split('/')[-1] for p in scan.usable] == ['at.png']
    [(path, reason)] = scan.skipped
    assert path.endswith('over.png') and reason.startswith('too large') and '178956971' in reason, reason
    # The project's own check holds the same line where Pillow's is turned off or raised.
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', None)
    assert check_image(folder / 'at.png') == (12470, 14351)
    with pytest.raises(ImageError) as e:
        check_image(folder / 'over.png')
    assert str(e.value) == 'too large (3033169x59 = 178,956,971 pixels; the limit is 178,956,970, 179 megapixels)'
    # A synthesized sample has the same limit.
    assert parse_size('12470x14351') == (12470, 14351)
    with pytest.raises(ValueError, match=r'^12470x14352 is 178,969,440 pixels, over the limit of 178,956,970 '):
        parse_size('12470x14352')
