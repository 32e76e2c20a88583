"""Texture synthesis, judged as a user judges samples: the texture learnt (on held-out seeds, by
statistics the loss did not optimise), no seam when tiled, a different image for every seed and
the same for the same seed, any size; and the mode carried through model.pth, export, resume and
the command lines. Pictures (exemplar, samples, tilings) go to artifacts/synthesis/ to be looked at.
"""
import json
import subprocess
import sys

import pytest
import torch

from conftest import REPO, TINY, events, train_cli
from models.synthesis import SynthesisGenerator, seeded_noise, tile
from models.synthesis_tiled import forward_banded
from worker.checkpoint import load_generator, load_record
from worker.export import TOLERANCE, export
from worker.images import save_image, to_image, to_tensor
from worker.synthesize import loop_noise, synthesize
from worker.texture_signals import seam, spread, texture_signals
from worker.data import load_texture
from worker.train import EVAL_SEEDS

ARTIFACTS = REPO / 'artifacts' / 'synthesis'
TEXTURE = REPO / 'samples' / 'textures' / 'starry_swirls.jpg'
SIZE = 48
QUICK = ['--mode', 'synthesis', '--texture', TEXTURE, '--image_size', SIZE, '--batch_size', 4, '--iterations', 120,
         '--vgg_weights', 'random', '--checkpoint_every', 60, '--preview_every', 60]


def cli(module, *args, timeout=300):
    return subprocess.run([sys.executable, '-m', module, *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """A short run of the default recipe (no diversity term), and the same with the term."""
    out = {}
    for name, extra in (('default', []), ('diversity', ['--diversity', 0.01])):
        run = tmp_path_factory.mktemp(name) / 'run'
        train_cli(*QUICK, '--out', run, *extra, timeout=600)
        out[name] = run
    return out


@pytest.fixture(scope='module')
def exemplar():
    return load_texture(TEXTURE, 256)


def held_out_samples(model, size=SIZE):
    g = load_generator(model)
    with torch.no_grad():
        return g(seeded_noise(g, EVAL_SEEDS, size, size)).clamp(0, 1)


def save(name, picture):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    save_image(to_image(picture), ARTIFACTS / f'{name}.png')


# Thresholds from measurement (this machine, torch 2.14.1, the QUICK run above): trained
# colour 0.005-0.01, structure 0.25-0.3; the untrained generator 0.09 / 0.72, a constant image of
# the exemplar's mean colour 0.16 / 0.96.
COLOUR_MAX, STRUCTURE_MAX = 0.04, 0.5


def test_learns_the_texture(runs, exemplar):
    trained = held_out_samples(runs['default'] / 'model.pth')
    untrained = held_out_samples_of(SynthesisGenerator())
    constant = exemplar.mean((2, 3), keepdim=True).expand(len(EVAL_SEEDS), 3, SIZE, SIZE).clone()
    signals = {name: texture_signals(s, exemplar) for name, s in
               (('trained', trained), ('untrained', untrained), ('constant', constant))}
    print(json.dumps(signals, indent=1))
    swatch = torch.nn.functional.interpolate(exemplar, size=(SIZE, SIZE), mode='area')[0]
    save('samples', torch.cat([swatch, *trained[:4], *untrained[:2]], 2))
    assert signals['trained']['colour'] < COLOUR_MAX and signals['trained']['structure'] < STRUCTURE_MAX, signals
    for fake in ('untrained', 'constant'):
        assert not (signals[fake]['colour'] < COLOUR_MAX and signals[fake]['structure'] < STRUCTURE_MAX), (fake, signals)


def held_out_samples_of(g):
    g.eval()
    torch.manual_seed(0)
    with torch.no_grad():
        return g(seeded_noise(g, EVAL_SEEDS, SIZE, SIZE)).clamp(0, 1)


# Measured (worker.texture_signals.seam, the QUICK run's samples of seeds 0-5 at six sizes): 0.5-1.5
# for a sample as generated; 3.2-5.9 for a crop cut out of a larger sample, whose edges do not meet.
SEAM_MAX, CROP_MIN = 1.8, 2.5
# Measured: the trained generator's seeds differ by 0.28 on average, the untrained one's by 0.20.
# (With --diversity 0.01, 0.33: printed, not asserted, since the same run with the term's sign
# flipped spread as much; what the term does is asserted on the distance it optimises, below.)
SPREAD_MIN = 0.1


def test_seamless_at_any_size(runs):
    g = load_generator(runs['default'] / 'model.pth')
    for w, h in ((64, 64), (100, 60), (37, 53), (200, 120)):
        images = [to_tensor(synthesize(g, w, h, seed)) for seed in range(3)]
        assert images[0].shape[-2:] == (h, w)
        ratios = [seam(image) for image in images]
        save(f'tiled_{w}x{h}', tile(images[0][None], 2)[0])
        assert max(ratios) < SEAM_MAX, (w, h, ratios)
    bigger = to_tensor(synthesize(g, 160, 160, seed=3))
    cropped = bigger[:, 30:120, 40:120]  # cut out of a larger sample: its edges do not meet
    save('tiled_crop_not_periodic', tile(cropped[None], 2)[0])
    assert seam(cropped) > CROP_MIN, seam(cropped)


def test_different_for_every_seed_the_same_for_the_same_seed(runs):
    trained = held_out_samples(runs['default'] / 'model.pth')
    untrained = held_out_samples_of(SynthesisGenerator())
    with_term = held_out_samples(runs['diversity'] / 'model.pth')
    spreads = dict(default=spread(trained), untrained=spread(untrained), diversity_term=spread(with_term))
    print('spread (mean difference between seeds):', spreads)
    save('seeds_without_and_with_the_diversity_term', torch.cat([torch.cat(list(trained[:4]), 2),
                                                                 torch.cat(list(with_term[:4]), 2)], 1))
    assert spreads['default'] > SPREAD_MIN and spreads['default'] > 1.2 * spreads['untrained'], spreads
    g = load_generator(runs['default'] / 'model.pth')
    assert synthesize(g, 48, 40, seed=7).tobytes() == synthesize(g, 48, 40, seed=7).tobytes()
    assert synthesize(g, 48, 40, seed=7).tobytes() != synthesize(g, 48, 40, seed=8).tobytes()


def test_the_diversity_term_pushes_the_samples_apart(runs):
    """What the term optimises, the held-out samples' nearest distance in VGG features, ends higher
    with it than without (measured: 0.0348 against 0.0307)."""
    distance = {name: events(run, 'eval')[-1]['distance'] for name, run in runs.items()}
    print('held-out nearest-sample distance:', distance)
    assert distance['diversity'] > 1.05 * distance['default'], distance


def test_the_mode_is_recorded(runs):
    run = runs['default']
    assert json.loads((run / 'config.json').read_text())['mode'] == 'synthesis'
    assert events(run, 'start')[0]['mode'] == 'synthesis'
    assert load_record(run / 'model.pth')['mode'] == 'synthesis'
    it = events(run, 'iteration')[-1]
    assert {'style', 'diversity', 'distance', 'total'} <= set(it) and 'content' not in it
    preview = events(run, 'preview')[-1]
    assert (run / preview['path']).is_file() and (run / preview['tiled']).is_file()
    assert (run / 'previews' / 'exemplar.png').is_file()
    assert [e['iteration'] for e in events(run, 'eval')] == [0, 60, 120]
    first, last = events(run, 'eval')[0], events(run, 'eval')[-1]
    assert last['style'] < 0.5 * first['style'], (first, last)


def test_export_matches_pytorch(runs):
    g = load_generator(runs['default'] / 'model.pth')
    for fmt in ('onnx', 'torchscript'):
        data, worst = export(g, fmt)
        assert worst <= TOLERANCE and len(data) > 100_000, (fmt, worst)


def test_banded_rendering_equals_the_whole():
    torch.manual_seed(0)
    g = SynthesisGenerator().eval()
    for h, w in ((100, 70), (37, 200)):
        noises = seeded_noise(g, [3], h, w)
        with torch.no_grad():
            whole = g(noises)
        banded = forward_banded(g, noises, budget=1200 * w * 20)  # bands of 12 rows
        assert (whole - banded).abs().max() < 1e-4


def test_loop_moves_smoothly_and_closes(runs):
    """Measured at 128x96 (the QUICK model): the largest step from a frame to the next, over the
    difference between two seeds' samples, is 0.76 with 24 frames and 0.37 with 96. (At a few dozen
    px the coarsest scale is 1 or 2 px, whose normalisation flips: small loops jump.)"""
    g = load_generator(runs['default'] / 'model.pth')
    start, other = seeded_noise(g, [5], 96, 128), seeded_noise(g, [6], 96, 128)

    def steps(seq):  # each frame to the next, and the last back to the first
        return [(a - b).abs().mean().item() for a, b in zip(seq, seq[1:] + seq[:1])]
    frames = list(loop_noise(g, 128, 96, seed=5, frames=96))
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(frames[0], start))
    assert max(steps([z[-1] for z in frames])) < 0.1 * (start[-1] - other[-1]).abs().mean().item()
    for z in frames[37]:  # every frame's noise is uniform on [0, 1), as in training
        assert 0 <= z.min() and z.max() < 1 and abs(z.mean().item() - 0.5) < 0.05
    with torch.no_grad():
        far = (g(start) - g(other)).abs().mean().item()
        fine = max(steps([g(z) for z in frames])) / far
        coarse = max(steps([g(z) for z in loop_noise(g, 128, 96, seed=5, frames=24)])) / far
    print(f'largest step between frames over the difference of two seeds: {coarse:.2f} (24 frames), {fine:.2f} (96)')
    assert fine < 0.5 and fine < 0.7 * coarse


def test_synthesize_cli(runs, tmp_path):
    out = tmp_path / 'samples'
    r = cli('worker.synthesize', '--model', runs['default'], '--size', '90x50', '--count', 2, '--seed', 4,
            '--tile', 2, '--out', out)
    assert r.returncode == 0, r.stderr
    from PIL import Image
    assert Image.open(out / 'sample-90x50-seed4.png').size == (90, 50)
    assert Image.open(out / 'sample-90x50-seed5-tiled2.png').size == (180, 100)
    r = cli('worker.synthesize', '--model', runs['default'], '--size', '64x48', '--frames', 6, '--fps', 12.5,
            '--out', tmp_path / 'loop.mp4')
    assert r.returncode == 0, r.stderr
    from worker.video import probe
    assert probe(tmp_path / 'loop.mp4')['fps'] == 12.5
    r = cli('worker.synthesize', '--model', runs['default'], '--size', 'big', '--out', out)
    assert r.returncode == 2 and 'WIDTHxHEIGHT' in r.stderr


def test_a_model_of_the_other_mode_is_refused_clearly(runs, photos, texture, tmp_path):
    stylizer = tmp_path / 'stylize'
    train_cli('--data_dir', photos, '--texture', texture, '--out', stylizer, *TINY, '--iterations', 2)
    r = cli('worker.synthesize', '--model', stylizer, '--out', tmp_path / 'x')
    assert r.returncode == 2 and 'stylization model' in r.stderr and 'worker.stylize' in r.stderr, r.stderr
    r = cli('worker.stylize', '--model', runs['default'], '--input', REPO / 'samples' / 'content' / 'cat.jpg',
            '--output', tmp_path / 'x.png')
    assert r.returncode == 2 and 'texture-synthesis model' in r.stderr and 'worker.synthesize' in r.stderr, r.stderr
    r = train_cli('--mode', 'synthesis', '--texture', texture, '--data_dir', photos, '--out', tmp_path / 'y', check=False)
    assert r.returncode == 2 and 'leave out --data_dir' in r.stderr


def test_resume_continues_the_same_run(texture, tmp_path):
    args = ['--mode', 'synthesis', '--texture', texture, '--image_size', 32, '--style_size', 32, '--batch_size', 2,
            '--vgg_weights', 'random', '--checkpoint_every', 3, '--lr', 0.04, '--lr_step', 4, '--lr_decay', 0.5]
    whole, part = tmp_path / 'whole', tmp_path / 'part'
    train_cli(*args, '--iterations', 6, '--out', whole)
    train_cli(*args, '--iterations', 3, '--out', part)
    train_cli('--resume', part, '--iterations', 6)
    a, b = events(whole, 'iteration'), events(part, 'iteration')
    assert [e['iteration'] for e in b] == list(range(1, 7))
    assert [e['lr'] for e in a] == [e['lr'] for e in b] == [0.04] * 4 + [0.02] * 2
    for x, y in zip(a, b):
        assert x['style'] == pytest.approx(y['style'], rel=1e-4) and x['distance'] == pytest.approx(y['distance'], rel=1e-4)
    assert load_record(part / 'model.pth')['mode'] == 'synthesis'
