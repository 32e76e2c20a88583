"""The per-image optimisation baseline and the quality benchmark built on it."""
import json
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from conftest import REPO, TINY, train_cli
from models.losses import SynthesisLoss, TextureLoss
from models.vgg import load_vgg19
from worker.config import DEFAULTS, by_layer
from worker.data import load_texture


def run(*args, **kw):
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=300, **kw)


def tensor(im):
    """A PIL image as (1, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.asarray(im.convert('RGB'), dtype=np.float32) / 255).permute(2, 0, 1)[None]


def saved_loss(out, texture, style_scale, photo=None, size=None):
    """(style, content) of the image written to `out`, under the objective the optimiser ran (the
    defaults, random VGG, the reported scale), computed here from the file: the loss the written
    image has, not the one the optimiser says its last iterate had."""
    vgg = load_vgg19('random')
    style_image = load_texture(texture, DEFAULTS['style_size'])
    image = Image.open(out)
    with torch.no_grad():
        if photo is None:
            style = SynthesisLoss(vgg, style_image, by_layer(DEFAULTS['style_weights']), style_scale=style_scale)(tensor(image))[0]
            return style.item(), 0.0
        assert max(image.size) == size
        photo = Image.open(photo).convert('RGB').resize(image.size, Image.BICUBIC)  # the long side at --size
        loss = TextureLoss(vgg, style_image, by_layer(DEFAULTS['style_weights']), DEFAULTS['content_weight'],
                           style_scale=style_scale)
        style, content = loss(tensor(image), tensor(photo))
        return style.item(), content.item()


def test_optimisation_lowers_the_loss_from_the_photo(photos, texture, tmp_path):
    photo = sorted(photos.iterdir())[0]
    out = tmp_path / 'optimised.png'
    r = run('-m', 'worker.optimize', '--texture', texture, '--content', photo, '--out', out, '--steps', 40,
            '--size', 48, '--vgg_weights', 'random')
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result['total'] < 0.5 * result['start_total'], result
    assert result['style_scale'] > 1e3  # calibrated, as the trainer does
    # The file holds the optimised image: its loss, measured here, is the one reported (8-bit
    # rounding moved it by 0.03%), so half the photo's or less.
    style, content = saved_loss(out, texture, result['style_scale'], photo=photo, size=48)
    assert abs(style + content - result['total']) < 0.01 * result['total'], (style, content, result)
    r = run('-m', 'worker.optimize', '--texture', texture, '--content', photo, '--out', out, '--steps', 40,
            '--size', 48, '--vgg_weights', 'random', '--method', 'adam')
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result['total'] < result['start_total'], result


def test_a_models_own_objective_and_the_quality_ratio(photos, texture, tmp_path):
    model = tmp_path / 'run'
    train_cli('--data_dir', photos, '--texture', texture, '--out', model, '--iterations', 4, *TINY)
    photo = sorted(photos.iterdir())[0]
    r = run('-m', 'worker.optimize', '--model', model, '--content', photo, '--out', tmp_path / 'o.png',
            '--steps', 20, '--size', 48)
    assert r.returncode == 0, r.stderr[-2000:]
    recorded = json.loads((model / 'config.json').read_text())['derived']['calibration']['style_scale']
    assert json.loads(r.stdout.strip().splitlines()[-1])['style_scale'] == recorded
    r = run('bench/quality.py', '--model', model, '--photos', photos, '--size', 48, '--steps', 20, '--limit', 2)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(rows) == 2
    for row in rows:
        assert 0 < row['ratio'] < float('inf') and row['optimisation'] < row['photo_itself'], row
    assert 'median ratio' in r.stdout


def test_optimize_says_what_it_needs(photos, tmp_path):
    r = run('-m', 'worker.optimize', '--content', sorted(photos.iterdir())[0], '--out', tmp_path / 'o.png')
    assert r.returncode == 2 and 'give --texture' in r.stderr
    r = run('-m', 'worker.optimize', '--texture', 'no_such_texture', '--content', sorted(photos.iterdir())[0],
            '--out', tmp_path / 'o.png', '--vgg_weights', 'random')
    assert r.returncode == 2 and 'no_such_texture' in r.stderr


def test_texture_synthesis_by_optimisation_and_its_quality_ratio(texture, tmp_path):
    out = tmp_path / 'gatys.png'
    r = run('-m', 'worker.optimize', '--mode', 'synthesis', '--texture', texture, '--out', out, '--steps', 40,
            '--size', 40, '--vgg_weights', 'random')
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result['content'] == 0 and result['style'] < 0.2 * result['start_total'], result  # from noise: scale 1 at the start
    assert Image.open(out).size == (40, 40)
    style, _ = saved_loss(out, texture, result['style_scale'])  # the file holds the sample whose loss is reported
    assert abs(style - result['style']) < 0.01 * result['style'], (style, result)  # measured: 0.015% apart
    model = tmp_path / 'run'
    train_cli('--mode', 'synthesis', '--texture', texture, '--out', model, '--iterations', 4, *TINY)
    r = run('bench/quality.py', '--model', model, '--size', 40, '--steps', 20, '--samples', 2)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    assert [row['photo'] for row in rows] == ['seed 0', 'seed 1']
    assert all(0 < row['ratio'] < float('inf') and row['network_s'] < row['optimisation_s'] for row in rows), rows
    r = run('-m', 'worker.optimize', '--texture', texture, '--out', out, '--vgg_weights', 'random')
    assert r.returncode == 2 and 'give --content' in r.stderr
