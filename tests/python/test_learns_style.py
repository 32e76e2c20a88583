"""The default recipe learns the texture, judged on held-out photos as a user judges it.

The quick CPU preset (64 px, batch 2, 300 iterations) with random VGG weights, on the built-in
sample photos and a strongly coloured built-in texture (blue and yellow swirls, a palette the
photos do not have). The signals of a learnt style (worker/style_signals.py), on photos the
network never trained on: the output's style loss far below the photo's own, its colours
moved most of the way to the texture's, and the photo kept (the output's edges correlate with
the photo's). How much the output differs from the photo is printed, not asserted: it does not
separate a learnt style from a network still learning to copy. The same run with
`--style_scale 1` (raw units: the style term a millionth of the content term) must fail them,
and so must outputs that ignore the photo (the texture itself, shrunk or cropped), or the test
would prove nothing. Pictures (photo, output, texture) are
saved in artifacts/learns_style/ (git-ignored) to be looked at.
"""
import pytest
import torch

from conftest import REPO, events, train_cli
from worker.images import save_image, to_image
from worker.style_signals import signals as signals_of, style_signals as measure

ARTIFACTS = REPO / 'artifacts' / 'learns_style'
TEXTURE = REPO / 'samples' / 'textures' / 'starry_swirls.jpg'
QUICK = ['--image_size', 64, '--batch_size', 2, '--iterations', 300, '--style_size', 256,
         '--vgg_weights', 'random', '--workers', 0, '--checkpoint_every', 100, '--preview_every', 100]


def style_signals(run, name):
    """The signals on the run's held-out photos; the picture (photos over outputs, the texture
    beside them) saved to look at."""
    signals, photos, out, texture, _ = measure(run)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = photos.shape[-1]
    swatch = torch.nn.functional.interpolate(texture, size=(size, size), mode='area')[0]
    picture = torch.cat([torch.cat(list(photos), 2), torch.cat(list(out), 2)], 1)
    picture = torch.cat([picture, torch.cat([swatch, torch.ones_like(swatch)], 1)], 2)
    picture = torch.nn.functional.interpolate(picture[None], scale_factor=3, mode='nearest')[0]  # to look at
    save_image(to_image(picture), ARTIFACTS / f'learns_style_{name}.png')
    return signals


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    out = {}
    for name, extra in (('default', []), ('raw_units', ['--style_scale', 1])):
        run = tmp_path_factory.mktemp(name) / 'run'
        train_cli('--data_dir', 'sample', '--texture', TEXTURE, '--out', run, *QUICK, *extra, timeout=600)
        out[name] = run
    return out


# Thresholds from measurement (this machine, torch 2.14.1): the default recipe gave style 0.096,
# colour 0.91, change 0.27 in fp32, and 0.12, 0.87, 0.29 in bf16 (--precision auto on a CPU with
# bf16 instructions, as this one); raw units gave style 0.41, colour 0.27, change 0.15-0.17. Style
# and colour separate the two by 2x or more; change does not (it is printed, not asserted).
# Content (edge correlation with the photo): the default recipe 0.54 (0.36 at iteration 100); the
# fakes below 0.001 (texture shrunk), 0.024 (one crop), 0.047 (a crop per photo), while their
# style and colour pass (0.011 / 0.99, 0.15 / 0.67, 0.15 / 0.96).
LEARNT = dict(style=0.2, colour=0.6, content=0.15)


def learnt(s):
    return s['style'] < LEARNT['style'] and s['colour'] > LEARNT['colour'] and s['content'] > LEARNT['content']


def test_the_default_recipe_learns_the_texture_on_held_out_photos(runs):
    s = style_signals(runs['default'], 'default')
    print('default recipe', s)
    assert learnt(s), s


def test_raw_units_fail_the_same_checks(runs):
    """Without calibration the style term is negligible: the network learns to reconstruct the
    photo from VGG features, and neither signal of a learnt style appears."""
    s = style_signals(runs['raw_units'], 'raw_units')
    print('raw units', s)
    assert s['style'] > LEARNT['style'] and s['colour'] < LEARNT['colour'], s


def test_outputs_that_ignore_the_photo_fail_the_same_checks(runs):
    """A network collapsed onto the texture scores a learnt style's style and colour: only the
    content signal tells it from one that paints the photo."""
    _, photos, _, texture, loss = measure(runs['default'])
    n, size = photos.shape[0], photos.shape[-1]
    crops = [texture[0, :, 37 * i:37 * i + size, 23 * i:23 * i + size] for i in range(n)]
    fakes = {'texture shrunk': torch.nn.functional.interpolate(texture, size=(size, size), mode='area').expand(n, -1, -1, -1),
             'one crop': torch.stack([crops[0]] * n),
             'a crop per photo': torch.stack(crops)}
    for name, fake in fakes.items():
        s = signals_of(fake, photos, texture, loss)
        print(name, s)
        assert not learnt(s) and s['content'] < LEARNT['content'], (name, s)


def test_the_held_out_curve_falls_with_the_default_recipe(runs):
    """Both terms on the held-out photos: the style toward the texture's, and the content (the
    photo's features kept) from the untrained network's. Measured: style 99 -> 0.54 and
    content 51 -> 5.5 (0.11x) at iteration 300; the texture cropped scores content 8.7 (0.17x)."""
    evals = events(runs['default'], 'eval')
    assert [e['iteration'] for e in evals] == [0, 100, 200, 300]
    assert evals[-1]['style'] < 0.2 * evals[0]['style'], evals
    assert evals[-1]['content'] < 0.15 * evals[0]['content'], evals
