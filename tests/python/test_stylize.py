"""`python -m worker.stylize` round trips: files, folders, sizes, colours, model kinds."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, SHARED, TINY, smooth_image, train_cli


def stylize_cli(*args, check=True):
    r = subprocess.run([sys.executable, '-m', 'worker.stylize', *map(str, args)], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f'stylize exited {r.returncode}\n{r.stderr[-3000:]}')
    return r


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
    assert Image.open(out).size == (101, 37)


def test_a_folder_in_gives_a_folder_out(run, inputs, tmp_path):
    stylize_cli('--model', run, '--input', inputs, '--output', tmp_path / 'styled', '--size', 64)
    assert Image.open(tmp_path / 'styled' / 'wide.png').size == (64, 23)
    tall = Image.open(tmp_path / 'styled' / 'sub' / 'tall_gray.jpg')
    assert tall.size == (16, 64) and tall.mode == 'RGB'


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
    out = tmp_path / 't7.png'
    stylize_cli('--model', SHARED / 'texture_nets_v1' / 'mosaic.t7', '--input', inputs / 'wide.png', '--output', out)
    assert Image.open(out).size == (101, 37)
