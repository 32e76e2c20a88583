"""The settings, defined once in worker/settings.json: every one round-trips through the
command line, and its bounds are the command line's checks."""
import pytest

from worker.config import DEFAULTS, MODE_DEFAULTS, SCHEMA, argv_from_config, parse_args, settings
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
    config, _ = settings(parse_args(argv_from_config({**required, key: value, 'out': '/tmp/x'}), raise_errors=True))
    assert config[key] == value
    defaults = {**DEFAULTS, **MODE_DEFAULTS[config['mode']]}
    assert {k: v for k, v in config.items() if k not in (key, 'out', *REQUIRED)} == \
        {k: v for k, v in defaults.items() if k not in (key, *REQUIRED)}


def test_synthesis_takes_its_own_defaults_and_no_photos():
    config, _ = settings(parse_args(['--mode', 'synthesis', '--texture', 'x', '--lr', '0.2'], raise_errors=True))
    assert MODE_DEFAULTS['synthesis'] and MODE_DEFAULTS['synthesis'].get('lr') != 0.2
    assert config['lr'] == 0.2  # the user's own value wins
    assert all(config[k] == v for k, v in MODE_DEFAULTS['synthesis'].items() if k != 'lr')
    with pytest.raises(UsageError, match='leave out --data_dir'):
        settings(parse_args(['--mode', 'synthesis', '--texture', 'x', '--data_dir', 'sample'], raise_errors=True))
    with pytest.raises(UsageError, match='--data_dir required'):
        settings(parse_args(['--texture', 'x'], raise_errors=True))


@pytest.mark.parametrize('key', sorted(k for k, s in SCHEMA.items() if 'min' in s))
def test_bounds_are_the_command_lines_checks(key):
    spec = SCHEMA[key]
    default = spec.get('default')
    assert default is None or all(spec['min'] <= v <= spec['max'] for v in (default if isinstance(default, list) else [default]))
    for bad in (spec['min'] - 1, spec['max'] * 2 + 1):
        value = [bad] * len(default) if spec['type'] == 'floats' else (int(bad) if spec['type'] == 'int' else bad)
        with pytest.raises(UsageError, match=f'--{key} must be between'):
            argv_from_config({**REQUIRED, key: value})


def test_unknown_settings_and_missing_ones_are_refused():
    with pytest.raises(UsageError, match="unknown setting 'rm -rf'"):
        argv_from_config({**REQUIRED, 'rm -rf': 1})
    with pytest.raises(UsageError, match='--data_dir and --texture required'):
        settings(parse_args([], raise_errors=True))
