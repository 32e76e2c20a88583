"""The settings, defined once in worker/settings.json: every one round-trips through the
command line, and its bounds are the command line's checks."""
import pytest

from worker.config import DEFAULTS, MODE_DEFAULTS, SCHEMA, complete_config, from_request, parse_args, to_argv, validate
from worker.errors import UsageError

REQUIRED = {'data_dir': 'sample', 'texture': 'stained_glass'}


def other_value(key, spec):
    """A valid value for the setting that is not its default."""
    kind = spec['type']
    if kind == 'int':
        return spec['min'] + 1 if spec.get('default') != spec['min'] + 1 else spec['min'] + 2
    if kind == 'float':
        return (spec['min'] + spec['max']) / 3
    if kind == 'floats':
        return [float(i + 1) for i in range(len(spec['default']))]
    if kind == 'choice':
        return spec['choices'][-1]
    if kind == 'scale':
        return 2.5
    if kind == 'flag':
        return True
    return f'/somewhere/{key}'


@pytest.mark.parametrize('key', sorted(SCHEMA))
def test_every_setting_round_trips_through_the_command_line(key):
    spec = SCHEMA[key]
    value = other_value(key, spec)
    assert value != spec.get('default')
    required = {'texture': 'stained_glass'} if key == 'mode' else REQUIRED  # synthesis: no photos
    asked = {**required, key: value, 'out': '/tmp/x'}
    config, _ = validate(parse_args(to_argv(asked), raise_errors=True))
    assert config[key] == value
    assert validate(asked)[0] == config  # the same dict, as JSON gives it (the service, the sweep)
    defaults = {**DEFAULTS, **MODE_DEFAULTS[config['mode']]}
    assert {k: v for k, v in config.items() if k not in (key, 'out', *REQUIRED)} == \
        {k: v for k, v in defaults.items() if k not in (key, *REQUIRED)}


def test_synthesis_takes_its_own_defaults_and_no_photos():
    config, _ = complete_config(parse_args(['--mode', 'synthesis', '--texture', 'x', '--lr', '0.2'], raise_errors=True))
    assert MODE_DEFAULTS['synthesis'] and MODE_DEFAULTS['synthesis'].get('lr') != 0.2
    assert config['lr'] == 0.2  # the user's own value wins
    assert all(config[k] == v for k, v in MODE_DEFAULTS['synthesis'].items() if k != 'lr')
    with pytest.raises(UsageError, match='leave out --data_dir'):
        complete_config(parse_args(['--mode', 'synthesis', '--texture', 'x', '--data_dir', 'sample'], raise_errors=True))
    with pytest.raises(UsageError, match='--data_dir required'):
        complete_config(parse_args(['--texture', 'x'], raise_errors=True))


@pytest.mark.parametrize('key', sorted(k for k, s in SCHEMA.items() if 'min' in s))
def test_bounds_are_the_command_lines_checks(key):
    spec = SCHEMA[key]
    default = spec.get('default')
    assert default is None or all(spec['min'] <= v <= spec['max'] for v in (default if isinstance(default, list) else [default]))
    for bad in (spec['min'] - 1, spec['max'] * 2 + 1):
        value = [bad] * len(default) if spec['type'] == 'floats' else (int(bad) if spec['type'] == 'int' else bad)
        with pytest.raises(UsageError, match=f'--{key} must be between'):
            validate({**REQUIRED, key: value})


def test_unknown_settings_and_missing_ones_are_refused():
    with pytest.raises(UsageError, match="unknown setting 'rm -rf'"):
        validate({**REQUIRED, 'rm -rf': 1})
    with pytest.raises(UsageError, match='--data_dir and --texture required'):
        complete_config(parse_args([], raise_errors=True))


def test_a_dict_is_typed_as_the_command_line_types_it():
    config, _ = validate({**REQUIRED, 'iterations': '256', 'lr': 1, 'style_scale': 3, 'style_weights': [1, 2, 3, 4, 5]})
    assert config['iterations'] == 256 and config['lr'] == 1.0 and config['style_scale'] == 3.0
    assert config['style_weights'] == [1.0, 2.0, 3.0, 4.0, 5.0]
    for key, value, message in (('iterations', 2.5, 'a whole number'), ('iterations', True, 'a whole number'),
                                ('lr', 'fast', 'a number'), ('lr', float('nan'), 'a number'),
                                ('device', 'gpu', 'one of auto, cpu, cuda'), ('verbose', 'yes', 'true or false'),
                                ('style_weights', 5, 'a list of numbers'), ('texture', 3, 'a text')):
        with pytest.raises(UsageError, match=f'--{key} must be {message}, not'):
            validate({**REQUIRED, key: value})


def test_a_run_folder_prepared_by_the_web_app_gives_its_settings(tmp_path):
    """`--run DIR` (how the worker service starts a trainer): request.json's settings, checked as
    flags are; a continued run takes the checkpoint's and what a resume may change."""
    import json
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'request.json').write_text(json.dumps({'config': {'data_dir': 'photos', 'texture': 'glass', 'iterations': 7},
                                                  'texture_path': '/textures/glass.jpg'}))
    config, record = from_request(run)
    assert record is None and config['iterations'] == 7 and config['texture'] == '/textures/glass.jpg'
    assert config['out'] == str(run) and config['data_dir'] == 'photos'
    (run / 'request.json').write_text(json.dumps({'config': {'data_dir': 'photos', 'texture': 'glass', 'iterations': 0},
                                                  'texture_path': '/textures/glass.jpg'}))
    with pytest.raises(UsageError, match='--iterations must be between'):
        from_request(run)
    (run / 'request.json').write_text('{"config": ')
    with pytest.raises(UsageError, match='its request.json cannot be read'):
        from_request(run)


def test_run_takes_no_other_flag(tmp_path, caplog):
    from worker.train import main
    assert main(['--run', str(tmp_path), '--iterations', '3']) == 2
    assert '--run takes the settings from the run folder: give no other flag with it' in caplog.text
