"""The trainer's settings: the command line, its checks, and a run's complete config.

Every setting (name, type, default, bounds, whether a resume may change it) is defined once, in
settings.json, which Node also serves to the wizard; this module builds argparse and the checks
from it. Every way of starting a run goes through `validate()`: the command line (argparse has
typed the flags), the worker service and the sweep (JSON dicts), and a run folder the service
prepared (`--run DIR`: its request.json). It gives the run's complete config; the trainer adds
what it derived (the device, versions, dataset counts, the calibrated style scale) under
config['derived'].
"""
from __future__ import annotations

import argparse
import json
import math
import os
from datetime import datetime
from pathlib import Path

from models.losses import calibrate

from . import REPO, checkpoint as ckpt
from .errors import UsageError

_FILE = json.loads((Path(__file__).with_name('settings.json')).read_text())
SCHEMA = _FILE['settings']
SWEEP_VALUES = tuple(_FILE['sweep_values'])  # how many values a sweep takes: (at least, at most)
DEFAULTS = {k: s['default'] for k, s in SCHEMA.items() if 'default' in s}
STYLE_LAYERS = tuple(SCHEMA['style_weights']['labels'])  # relu1_1..relu5_1: a style weight each


def by_layer(weights) -> dict[str, float]:
    """Style weights as models.losses takes them: {layer: weight}, in STYLE_LAYERS order."""
    if len(weights) != len(STYLE_LAYERS):
        raise UsageError(f'{len(STYLE_LAYERS)} style weights are needed (one per layer {", ".join(STYLE_LAYERS)}), '
                         f'got {len(weights)}')
    return dict(zip(STYLE_LAYERS, (float(w) for w in weights)))


def calibrate_with_defaults(style_terms, content_term, balance: float) -> float:
    """models.losses.calibrate against the default weights, the units the balance is stated in."""
    return calibrate(style_terms, content_term, balance, DEFAULTS['style_weights'], DEFAULTS['content_weight'])
# What each mode (stylize, synthesis) changes from DEFAULTS.
MODE_DEFAULTS = {mode: d for mode, d in _FILE['mode_defaults'].items() if not mode.startswith('_')}
# What a resumed run may change; everything else comes from the checkpoint.
RESUMABLE = tuple(k for k, s in SCHEMA.items() if s.get('resumable'))
SWEEPABLE = tuple(key for key, spec in SCHEMA.items() if 'sweep' in spec)
# Flags that are not settings: where the run goes, and what it resumes.
RUN_FLAGS = ('out', 'resume')
REQUEST = 'request.json'  # a run folder's settings as the web app asked for them (README: The run folder)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        if self.raise_errors:
            raise UsageError(message)
        super().error(message)


def floats(s: str):
    try:
        return [float(x) for x in s.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected comma-separated numbers like 5,6,2,2,2, got {s!r}')


def scale_or_auto(s: str):
    if s == 'auto':
        return s
    try:
        value = float(s)
    except ValueError:
        value = -1
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f'expected auto or a positive number, got {s!r}')
    return value


TYPES = {'int': int, 'float': float, 'floats': floats, 'scale': scale_or_auto, 'text': str, 'path': str}


def _help(key: str, spec: dict) -> str:
    default = spec.get('default')
    if isinstance(default, list):
        default = ','.join(f'{x:g}' for x in default)
    shown = f' (default {default})' if default not in (None, False) else ''
    return spec['help'].rstrip('.') + shown


def parser(raise_errors: bool = False) -> _Parser:
    p = _Parser(prog='python -m worker.train', description='Train a Texture Network for one texture.',
                argument_default=argparse.SUPPRESS)  # only the flags given: --resume keeps the rest
    p.raise_errors = raise_errors
    for key, spec in SCHEMA.items():
        if spec['type'] == 'flag':
            p.add_argument(f'--{key}', action='store_true', help=spec['help'])
        elif spec['type'] == 'choice':
            p.add_argument(f'--{key}', choices=spec['choices'], help=_help(key, spec))
        else:
            p.add_argument(f'--{key}', type=TYPES[spec['type']], help=_help(key, spec))
    p.add_argument('--cuda', action='store_const', const='cuda', dest='device', help='same as --device cuda')
    p.add_argument('--out', help='run folder (default: runs/<time>-<texture>)')
    p.add_argument('--resume', metavar='RUN_DIR_OR_CHECKPOINT',
                   help='continue a run from its latest (or the given) checkpoint')
    p.add_argument('--run', metavar='RUN_DIR', help=f'train the run the web app prepared in RUN_DIR (its {REQUEST})')
    return p


def parse_args(argv=None, raise_errors: bool = False) -> dict:
    """Flags -> dict of the flags given. `raise_errors`: UsageError instead of exiting (the service)."""
    return vars(parser(raise_errors).parse_args(argv))


def to_argv(config: dict) -> list[str]:
    """The trainer's command line for a settings dict (the sweep starts its trainers with it)."""
    argv = []
    for key, value in config.items():
        if isinstance(value, bool):
            argv += [f'--{key}'] if value else []
        elif isinstance(value, (list, tuple)):  # --key=value: a value may start with '-'
            argv.append(f'--{key}=' + ','.join(str(v) for v in value))
        elif value is not None:
            argv.append(f'--{key}={value}')
    return argv


_KINDS = {'flag': 'true or false', 'choice': 'one of {choices}', 'int': 'a whole number', 'float': 'a number',
          'floats': 'a list of numbers', 'scale': 'auto or a positive number', 'text': 'a text', 'path': 'a path'}


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def typed(key: str, value):
    """One setting of a JSON dict as the command line would have typed it, or UsageError. A text
    is read as the command line reads its flag ("256" is 256)."""
    spec = SCHEMA[key]
    kind = spec['type']
    try:
        if isinstance(value, str) and kind not in ('text', 'path', 'choice', 'flag'):
            value = TYPES[kind](value)
    except (ValueError, argparse.ArgumentTypeError):
        pass  # refused below, with the value as given
    ok = {'flag': lambda v: isinstance(v, bool), 'choice': lambda v: v in spec.get('choices', ()),
          'int': lambda v: _is_number(v) and float(v).is_integer(), 'float': _is_number,
          'floats': lambda v: isinstance(v, list) and all(map(_is_number, v)),
          'scale': lambda v: v == 'auto' or _is_number(v) and v > 0,
          'text': lambda v: isinstance(v, str), 'path': lambda v: isinstance(v, str)}[kind]
    if not ok(value):
        what = _KINDS[kind].format(choices=', '.join(spec.get('choices', ())))
        raise UsageError(f'--{key} must be {what}, not {value!r}')
    if kind == 'int':
        return int(value)
    if kind == 'float' or kind == 'scale' and value != 'auto':
        return float(value)
    return [float(v) for v in value] if kind == 'floats' else value


def validate(config: dict) -> tuple[dict, dict | None]:
    """A run's settings, checked once, however they came: the run's complete config, and the
    checkpoint record when it resumes. Raises UsageError saying what to change."""
    args = {}
    for key, value in config.items():
        if key in RUN_FLAGS:
            if value is not None:
                args[key] = str(value)
        elif key not in SCHEMA:
            raise UsageError(f'unknown setting {key!r}')
        elif value is not None:
            args[key] = typed(key, value)
    return complete_config(args)


def check_sweep(key, values) -> tuple[str, list]:
    """(setting, values) checked: a sweepable setting and 2 to 6 distinct numbers of its type."""
    if key not in SWEEPABLE:
        raise UsageError(f'{key!r} cannot be swept; choose one of {", ".join(SWEEPABLE)}')
    low, high = SWEEP_VALUES
    if not isinstance(values, list) or not low <= len(values) <= high:
        raise UsageError(f'a sweep takes {low} to {high} values of {key}, separated by commas')
    kind = SCHEMA[key]['type']
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise UsageError(f'{key} values must be numbers, not {v!r}')
        if kind == 'int' and v != int(v):
            raise UsageError(f'{key} takes whole numbers, not {v}')
        out.append(int(v) if kind == 'int' else float(v))
    if len(set(out)) != len(out):
        raise UsageError(f'the values of {key} repeat; give each once')
    return key, out


def from_request(run_dir) -> tuple[dict, dict | None]:
    """`--run DIR`: the settings of a run the web app prepared, from its request.json: what was
    asked for, or for a continued run the checkpoint and what a resume may change."""
    run_dir = Path(run_dir)
    try:
        request = json.loads((run_dir / REQUEST).read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f'--run {run_dir}: its {REQUEST} cannot be read ({e}); give a run folder the web app '
                         'made, or the settings as flags') from None
    if 'resume_from' in request:
        config = {k: v for k, v in request['config'].items() if k in RESUMABLE}
        config['resume'] = request['resume_from']['checkpoint']
    else:
        config = {**request['config'], 'texture': request['texture_path']}
    return validate({**config, 'out': str(run_dir)})


def in_bounds(key: str, value):
    spec = SCHEMA[key]
    for v in value if isinstance(value, list) else [value]:
        if not math.isfinite(v) or v < spec['min'] or v > spec['max']:
            raise UsageError(f'--{key} must be between {spec["min"]:g} and {spec["max"]:g}, not {v:g}')


def check(config: dict):
    """The bounds of settings.json, and the rules bounds cannot say."""
    for key, spec in SCHEMA.items():
        if config.get(key) is not None and spec['type'] in ('int', 'float', 'floats'):
            in_bounds(key, config[key])
    want = len(SCHEMA['style_weights']['labels'])
    if len(config['style_weights']) != want:
        raise UsageError(f'--style_weights needs {want} numbers ({", ".join(SCHEMA["style_weights"]["labels"])}), '
                         f'got {len(config["style_weights"])}')


def complete_config(args: dict) -> tuple[dict, dict | None]:
    """The run's complete config (the settings asked for, with defaults), and the checkpoint
    record when resuming."""
    record = None
    if 'resume' in args:
        try:
            path = ckpt.find_checkpoint(args['resume'])
            record = ckpt.load_record(path)
        except (FileNotFoundError, ValueError) as e:
            raise UsageError(str(e)) from None
        if 'optimizer' not in record:
            raise UsageError(f'{path} is a finished model, not a checkpoint: it cannot be resumed')
        config = {**DEFAULTS, **record['config']}  # settings added since the checkpoint: their defaults
        config.update({k: v for k, v in args.items() if k in RESUMABLE})
        config['resume'] = str(path)
        config['out'] = args.get('out') or str(path.parent.parent)
        return config, record
    mode = args.get('mode', DEFAULTS['mode'])
    missing = [f'--{k}' for k, s in SCHEMA.items()
               if (s.get('required') or mode in s.get('required_modes', ())) and k not in args]
    if missing:
        raise UsageError(f'{" and ".join(missing)} required (or --resume RUN_DIR)')
    if mode == 'synthesis' and args.get('data_dir'):
        raise UsageError('--mode synthesis learns from the texture alone: leave out --data_dir '
                         '(or train a stylization network with --mode stylize)')
    config = {**DEFAULTS, **MODE_DEFAULTS[mode], **args}
    check(config)
    if 'out' not in config:
        stem = Path(config['texture']).stem
        config['out'] = str(REPO / 'runs' / f'{datetime.now():%Y%m%d-%H%M%S}-{stem}')
    return config, None


def default_workers(cuda: bool, cpus: int | None = None) -> int:
    """DataLoader processes. A GPU step takes ~20 ms per 256 px photo, so it needs several; a
    CPU step takes ~600 ms, and loading the photo in the training process itself (~2 ms) costs
    less than a worker's competition for the cores (bench/cpu_plan.py, BENCHMARKS.md)."""
    cpus = cpus or os.cpu_count() or 1
    if cuda:
        return min(8, max(1, cpus // 2))
    return 0 if cpus <= 4 else 1
