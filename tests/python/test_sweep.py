"""Sweeps: the CLI trains one run per value into one folder; the checks refuse a bad sweep
before anything is written."""
import json
import subprocess
import sys

import pytest
import torch

from conftest import REPO, TINY, events
from worker.errors import UsageError
from worker.config import check_sweep
from worker.sweep import parse_set


def sweep_cli(*args, timeout=600):
    return subprocess.run([sys.executable, '-m', 'worker.sweep', *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_the_cli_trains_one_run_per_value_into_one_sweep_folder(photos, texture, tmp_path):
    folder = tmp_path / 'sweep'
    r = sweep_cli('--set', 'content_weight=250,4000', '--name', 'style or photo', '--sweep_dir', folder,
                  '--data_dir', photos, '--texture', texture, '--iterations', 6, *TINY,
                  '--checkpoint_every', 3, '--preview_every', 3)
    assert r.returncode == 0, r.stderr[-3000:]
    record = json.loads((folder / 'sweep.json').read_text())
    assert record['name'] == 'style or photo' and record['setting'] == 'content_weight'
    assert record['values'] == [250, 4000]
    weights = []
    for run, value in zip(record['runs'], [250, 4000]):
        run_dir = folder / run['folder']
        config = json.loads((run_dir / 'config.json').read_text())
        assert config['content_weight'] == value and config['iterations'] == 6  # only the swept setting differs
        # Its model is the end of its own training: the last checkpoint's weights, trained with its value.
        model = torch.load(run_dir / 'model.pth', weights_only=True)
        last = torch.load(run_dir / 'checkpoints' / 'iter_0000006.pth', weights_only=True)
        assert model['iteration'] == 6 and model['train']['content_weight'] == value
        assert model['state_dict'].keys() == last['state_dict'].keys()
        assert all(torch.equal(model['state_dict'][k], last['state_dict'][k]) for k in model['state_dict'])
        weights.append(model['state_dict'])
        assert [e['iteration'] for e in events(run_dir, 'preview')] == [3, 6]
    # The same start (same seed), different content weights: different networks.
    assert any(not torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    # Everything but the swept setting is equal.
    a, b = (json.loads((folder / run['folder'] / 'config.json').read_text()) for run in record['runs'])
    assert {k for k in a if a[k] != b[k]} == {'content_weight', 'out', 'derived'}  # derived: its calibration


@pytest.mark.parametrize('flag, message', [
    ('nothing=1,2', "'nothing' cannot be swept"),
    ('lr=0.01', '2 to 6 values'),
    ('lr=1,2,3,4,5,6,7', '2 to 6 values'),
    ('scales=2,2.5', 'whole numbers'),
    ('lr=0.1,0.1', 'repeat'),
    ('lr=0.1,much', 'must be numbers'),
    ('lr=0.1,5', 'must be between'),  # the trainer's own bound, checked for every value
])
def test_a_bad_sweep_is_refused_before_anything_is_written(photos, texture, tmp_path, flag, message):
    r = sweep_cli('--set', flag, '--sweep_dir', tmp_path / 'sweep', '--data_dir', photos, '--texture', texture, *TINY)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert not (tmp_path / 'sweep').exists()


def test_sweep_values_are_checked_for_the_service_too():
    assert check_sweep('image_size', [32, 64.0]) == ('image_size', [32, 64])
    assert parse_set('balance=0.5, 2,8') == ('balance', [0.5, 2.0, 8.0])
    for bad in (('balance', 'lots'), ('balance', [1, True]), ('balance', [1, float('nan')])):
        with pytest.raises(UsageError):
            check_sweep(*bad)
