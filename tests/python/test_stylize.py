"""`python -m worker.stylize` round trips: files, folders, sizes, colours, model kinds."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO, SHARED, TINY, smooth_image, train_cli
from models.generator import Generator


def stylize_cli(*args, check=True):
    r = subprocess.run([sys.executable, '-m', 'worker.stylize', *map(str, args)], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f'stylize exited {r.returncode}\n{r.stderr[-3000:]}')
    return r


def generator_of(model):
    """The generator in a model.pth, built here from its file: torch.load and load_state_dict,
    not worker.checkpoint."""
    record = torch.load(model, map_location='cpu', weights_only=True)
    g = Generator(**record['generator'])
    g.load_state_dict(record['state_dict'])
    return g.eval()


def reference(g, photo, size=None, noise=1.0, seed=0):
    """The stylization the CLI should write, computed apart from it: the photo decoded and
    resized by PIL, through the generator's own forward (not models.fast's), with the noise of
    `seed` drawn as the CLI draws it; 8-bit RGB as an int array (H, W, 3)."""
    im = Image.open(photo).convert('RGB')
    if size:
        im = im.resize(size, Image.BICUBIC)
    x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        y = g(x, noise, torch.Generator().manual_seed(seed))[0]
    return (y.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(int)


def pixels(path):
    return np.asarray(Image.open(path), dtype=int)


@pytest.fixture(scope='module')
def run(photos, texture, tmp_path_factory):
    run = tmp_path_factory.mktemp('stylize') / 'run'
    train_cli('--data_dir', photos, '--texture', texture, '--out', run, '--iterations', 4, *TINY)
    return run


@pytest.fixture(scope='module')
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp('inputs')
    rng = np.random.default_rng(5)
    smooth_image(rng, 37, 101).save(d / 'wide.png')
    (d / 'sub').mkdir()
    smooth_image(rng, 90, 23).convert('L').save(d / 'sub' / 'tall_gray.jpg')
    return d


def test_a_file_keeps_its_size_any_aspect(run, inputs, tmp_path):
    out = tmp_path / 'out.png'
    stylize_cli('--model', run / 'model.pth', '--input', inputs / 'wide.png', '--output', out)
    want = reference(generator_of(run / 'model.pth'), inputs / 'wide.png')
    assert want.shape == (37, 101, 3) and pixels(out).shape == want.shape
    assert np.abs(pixels(out) - want).max() <= 1  # the same image, within 8-bit rounding


def test_a_folder_in_gives_a_folder_out(run, inputs, tmp_path):
    stylize_cli('--model', run, '--input', inputs, '--output', tmp_path / 'styled', '--size', 64)
    g = generator_of(run / 'model.pth')  # a run folder means its model.pth
    wide = pixels(tmp_path / 'styled' / 'wide.png')
    assert np.abs(wide - reference(g, inputs / 'wide.png', size=(64, 23))).max() <= 1
    tall = Image.open(tmp_path / 'styled' / 'sub' / 'tall_gray.jpg')
    assert tall.format == 'JPEG' and tall.mode == 'RGB'  # a grey photo comes out in colour, as a .jpg
    # JPEG at quality 95: measured 3.7 grey levels from the reference on average; another seed's
    # noise is 36 or more away, noise factor 2 instead of 1 is 10.
    assert np.abs(np.asarray(tall, dtype=int) - reference(g, inputs / 'sub' / 'tall_gray.jpg', size=(16, 64))).mean() < 6


def test_seed_noise_and_checkpoints(run, inputs, tmp_path):
    args = ['--input', inputs / 'wide.png']
    stylize_cli('--model', run / 'model.pth', *args, '--output', tmp_path / 'a.png', '--seed', 1)
    stylize_cli('--model', run / 'model.pth', *args, '--output', tmp_path / 'b.png', '--seed', 1)
    stylize_cli('--model', run / 'model.pth', *args, '--output', tmp_path / 'c.png', '--seed', 1, '--noise', 6)
    ckpt = sorted((run / 'checkpoints').glob('*.pth'))[-1]
    stylize_cli('--model', ckpt, *args, '--output', tmp_path / 'd.png', '--seed', 1)
    a, b, c, d = (np.asarray(Image.open(tmp_path / f'{n}.png')).astype(int) for n in 'abcd')
    assert (a == b).all() and (a == d).all()  # same seed, same model: same image
    assert np.abs(a - c).mean() > 1  # the noise factor changes the result


def test_preserve_colors_keeps_the_photos_chrominance(run, inputs, tmp_path):
    out = tmp_path / 'kept.png'
    stylize_cli('--model', run / 'model.pth', '--input', inputs / 'wide.png', '--output', out, '--preserve_colors')
    photo = np.asarray(Image.open(inputs / 'wide.png').convert('YCbCr')).astype(int)
    kept = np.asarray(Image.open(out).convert('YCbCr')).astype(int)
    assert np.abs(photo[..., 1:] - kept[..., 1:]).mean() < 3


def test_clear_errors(run, inputs, tmp_path):
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'garbage')
    r = stylize_cli('--model', bad, '--input', inputs / 'wide.png', '--output', tmp_path / 'x.png', check=False)
    assert r.returncode == 2 and 'could not be read as a TN Studio model' in r.stderr
    r = stylize_cli('--model', run / 'model.pth', '--input', inputs / 'wide.png', '--output', tmp_path / 'x', check=False)
    assert r.returncode == 2 and 'image extension' in r.stderr
    r = stylize_cli('--model', run / 'model.pth', '--input', tmp_path / 'missing.png', '--output', tmp_path / 'x.png',
                    check=False)
    assert r.returncode == 2 and 'does not exist' in r.stderr


@pytest.mark.skipif(not (SHARED / 'texture_nets_v1').is_dir(),
                    reason='../shared/data (the authors\' .t7 models) is not beside this clone')
def test_the_authors_t7_models_stylize_from_the_command_line(inputs, tmp_path):
    from models.t7 import import_t7
    out = tmp_path / 't7.png'
    stylize_cli('--model', SHARED / 'texture_nets_v1' / 'mosaic.t7', '--input', inputs / 'wide.png', '--output', out)
    want = reference(import_t7(SHARED / 'texture_nets_v1' / 'mosaic.t7').eval(), inputs / 'wide.png')
    assert pixels(out).shape == want.shape == (37, 101, 3)
    assert np.abs(pixels(out) - want).max() <= 1
