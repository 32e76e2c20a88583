"""The style scale: calibrated so the style term starts at --balance times the content term,
recorded, kept on resume; and the held-out evaluation at each checkpoint."""
import json

import pytest

from conftest import TINY, events, train_cli
from worker.checkpoint import load_record


def start_ratio(run):
    first = events(run, 'iteration')[0]
    assert first['iteration'] == 1
    return first['style'] / first['content']


def test_the_first_iteration_starts_at_the_balance_and_the_scale_is_recorded(photos, texture, tmp_path):
    common = ['--data_dir', photos, '--texture', texture, *TINY, '--iterations', 2, '--checkpoint_every', 2]
    train_cli(*common, '--out', tmp_path / 'a', '--balance', 3)
    train_cli(*common, '--out', tmp_path / 'b', '--balance', 3)
    train_cli(*common, '--out', tmp_path / 'c', '--balance', 0.5)
    assert start_ratio(tmp_path / 'a') == pytest.approx(3, rel=0.02)
    assert start_ratio(tmp_path / 'c') == pytest.approx(0.5, rel=0.02)
    (start,) = events(tmp_path / 'a', 'start')
    assert start['start_balance'] == pytest.approx(3, rel=1e-6)
    s = start['style_scale']
    assert s > 1e3  # this VGG's raw style term is far below its content term
    assert events(tmp_path / 'b', 'start')[0]['style_scale'] == s  # deterministic for a seed
    assert events(tmp_path / 'c', 'start')[0]['style_scale'] == pytest.approx(s / 6, rel=1e-6)
    config = json.loads((tmp_path / 'a' / 'config.json').read_text())
    assert config['style_scale'] == 'auto' and config['derived']['calibration']['style_scale'] == s
    for path in (tmp_path / 'a' / 'checkpoints' / 'iter_0000002.pth', tmp_path / 'a' / 'model.pth'):
        assert load_record(path)['train']['style_scale'] == s


def test_user_weights_act_on_top_of_the_calibrated_scale(photos, texture, tmp_path):
    """The scale is computed for the default weights: doubling the content weight halves the
    starting balance, as it would without calibration."""
    common = ['--data_dir', photos, '--texture', texture, *TINY, '--iterations', 1, '--balance', 4]
    train_cli(*common, '--out', tmp_path / 'default')
    train_cli(*common, '--out', tmp_path / 'content', '--content_weight', 2000)
    train_cli(*common, '--out', tmp_path / 'style', '--style_weights', '10,12,4,4,4')
    s = events(tmp_path / 'default', 'start')[0]['style_scale']
    assert events(tmp_path / 'content', 'start')[0]['style_scale'] == s
    assert start_ratio(tmp_path / 'content') == pytest.approx(2, rel=0.02)
    assert start_ratio(tmp_path / 'style') == pytest.approx(8, rel=0.02)


def test_an_explicit_style_scale_is_used_as_given(photos, texture, tmp_path):
    common = ['--data_dir', photos, '--texture', texture, *TINY, '--iterations', 1]
    train_cli(*common, '--out', tmp_path / 'raw', '--style_scale', 1)
    train_cli(*common, '--out', tmp_path / 'x', '--style_scale', 2.5e4)
    raw, x = events(tmp_path / 'raw', 'iteration')[0], events(tmp_path / 'x', 'iteration')[0]
    assert x['style'] == pytest.approx(2.5e4 * raw['style'], rel=1e-4)
    assert x['content'] == pytest.approx(raw['content'], rel=1e-5)
    start = events(tmp_path / 'x', 'start')[0]
    assert start['style_scale'] == 2.5e4 and start['start_balance'] == pytest.approx(start_ratio(tmp_path / 'x'), rel=0.02)
    r = train_cli(*common, '--out', tmp_path / 'bad', '--style_scale', 'loud', check=False)
    assert r.returncode == 2 and 'auto or a positive number' in r.stderr
    r = train_cli(*common, '--out', tmp_path / 'bad', '--balance', 0, check=False)
    assert r.returncode == 2 and '--balance must be between' in r.stderr


def test_held_out_photos_are_evaluated_at_the_start_and_at_each_checkpoint(photos, texture, tmp_path):
    run = tmp_path / 'run'
    train_cli('--data_dir', photos, '--texture', texture, *TINY, '--out', run, '--iterations', 6,
              '--checkpoint_every', 3)
    evals = events(run, 'eval')
    assert [e['iteration'] for e in evals] == [0, 3, 6]
    for e in evals:
        assert e['total'] == pytest.approx(e['style'] + e['content']) and e['style'] > 0 and e['content'] > 0
    assert json.loads((run / 'config.json').read_text())['derived']['dataset']['eval_photos'] == 4  # the preview photos
    # Resumed from 3: the held-out curve is one line again, its start kept.
    train_cli('--resume', run / 'checkpoints' / 'iter_0000003.pth', '--iterations', 9)
    assert [e['iteration'] for e in events(run, 'eval')] == [0, 3, 6, 9]
    assert events(run, 'start')[1]['style_scale'] == events(run, 'start')[0]['style_scale']


def test_an_eval_dir_is_held_out_of_training(photos, texture, tmp_path):
    import shutil
    held = tmp_path / 'held'
    held.mkdir()
    for p in sorted(photos.iterdir())[:3]:
        shutil.copy(p, held / p.name)
    run = tmp_path / 'run'
    train_cli('--data_dir', photos, '--texture', texture, *TINY, '--out', run, '--iterations', 2, '--eval_dir', held)
    config = json.loads((run / 'config.json').read_text())
    assert config['derived']['dataset']['eval_photos'] == 3
    assert [e['iteration'] for e in events(run, 'eval')] == [0, 2]
    # The same photos inside the training folder are not trained on.
    r = train_cli('--data_dir', held, '--texture', texture, *TINY, '--out', tmp_path / 'all', '--iterations', 1,
                  '--eval_dir', held, check=False)
    assert r.returncode == 2 and 'nothing is left to train on' in r.stderr
