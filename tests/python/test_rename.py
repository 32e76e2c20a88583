"""A run's name (the web app's *Rename*): kept in the run's meta.json, whitespace collapsed, at most
80 characters (a longer one refused, saying so, the old name kept), empty to remove it; it
survives a new RunManager on the same folder, and a restarted worker service."""
import json

import pytest

from conftest import train_cli
from test_service import Service
from worker.errors import NotFound, UsageError
from worker.service.runs import NAME_MAX, RunManager
from worker.service.textures import Textures

RUN_ID = '20261201-000000-ab12'


@pytest.fixture(scope='module')
def runs_dir(tmp_path_factory, photos):
    """A runs folder holding one real, finished run."""
    runs = tmp_path_factory.mktemp('tn') / 'runs'
    train_cli('--data_dir', photos, '--texture', 'stained_glass', '--out', runs / RUN_ID, '--iterations', 2,
              '--image_size', 32, '--style_size', 32, '--batch_size', 2, '--vgg_weights', 'random', '--workers', 0)
    return runs


def manager(runs_dir, states):
    return RunManager(runs_dir, Textures(runs_dir.parent / 'textures'), on_event=lambda *a: None,
                      on_state=states.append, slots=['cpu'])


def meta(runs_dir):
    return json.loads((runs_dir / RUN_ID / 'meta.json').read_text())


def test_a_name_is_kept_in_meta_json_and_survives_a_new_manager(runs_dir):
    states = []
    runs = manager(runs_dir, states)
    try:
        assert runs.info(RUN_ID)['name'] is None  # none until one is given
        info = runs.rename(RUN_ID, '  Soft\n\tswirls   at  64 px ')
        assert info['name'] == 'Soft swirls at 64 px' and states[-1] == info  # the browsers are told
        assert meta(runs_dir)['name'] == 'Soft swirls at 64 px'
        assert runs.rename(RUN_ID, 'x' * NAME_MAX)['name'] == 'x' * NAME_MAX  # the longest allowed
        with pytest.raises(UsageError, match=f"at most {NAME_MAX} characters; this one has {NAME_MAX + 1}"):
            runs.rename(RUN_ID, 'y' * (NAME_MAX + 1))
        with pytest.raises(UsageError, match='a text of at most'):
            runs.rename(RUN_ID, 42)
        with pytest.raises(NotFound):
            runs.rename('20261201-000000-ffff', 'Nothing')
        assert meta(runs_dir)['name'] == 'x' * NAME_MAX  # the refusals changed nothing
        runs.rename(RUN_ID, 'Gentle swirls')
    finally:
        runs.shutdown()
    again = manager(runs_dir, [])
    try:
        assert again.info(RUN_ID)['name'] == 'Gentle swirls'
        assert again.rename(RUN_ID, ' \n ')['name'] is None  # empty: the name removed
        assert meta(runs_dir)['name'] is None
    finally:
        again.shutdown()


def test_the_rename_command_over_a_restarted_service(runs_dir):
    service = Service(runs_dir.parent)
    try:
        ack = service.call('rename_run', {'run': RUN_ID, 'name': ' Glass,\n first try '})
        assert ack['ok'] and ack['run']['name'] == 'Glass, first try', ack
        refused = service.call('rename_run', {'run': RUN_ID, 'name': 'z' * (NAME_MAX + 1)})
        assert not refused['ok'] and refused['kind'] == 'invalid', refused
        assert f'at most {NAME_MAX} characters' in refused['error']
    finally:
        service.close()
    service = Service(runs_dir.parent)
    try:
        assert service.call('get_run', {'run': RUN_ID})['run']['name'] == 'Glass, first try'
        assert service.call('rename_run', {'run': RUN_ID, 'name': ''})['run']['name'] is None
    finally:
        service.close()
