"""protocol.json is the one list of commands and refusal kinds: the service answers each command
with a method of worker.service.commands, and every refusal carries a kind Node has a status for."""
import errno
import inspect
import subprocess
import sys

import pytest

from worker import REPO
from worker.service.commands import Commands, noise_and_seed, stylize_size
from worker.errors import Conflict, NotFound, UsageError
from worker.protocol import PROTOCOL
from worker.service.app import refusal


def test_every_command_has_a_handler_and_every_handler_a_name():
    handlers = {name for name, _ in inspect.getmembers(Commands, inspect.isfunction) if not name.startswith('_')}
    assert handlers == set(PROTOCOL['commands'])


def test_every_refusal_has_a_kind_with_a_status():
    kinds = PROTOCOL['errors']
    cases = [(UsageError('bad'), 'invalid'), (NotFound('no run'), 'not_found'), (Conflict('running'), 'conflict'),
             (ValueError('not a number'), 'invalid'), (OSError(errno.ENOSPC, 'No space left'), 'disk_full'),
             (RuntimeError('a bug'), 'failed')]
    for error, kind in cases:
        ack = refusal('start_run', error)
        assert ack['ok'] is False and ack['kind'] == kind and ack['error'], (error, ack)
        assert isinstance(kinds[kind], int) and 400 <= kinds[kind] < 600
    assert 'the disk is full' in refusal('save_texture', OSError(errno.ENOSPC, 'No space left'))['error']


def test_a_stylize_request_takes_the_protocols_defaults_and_bounds():
    """Checked by the service, for Node and any other caller (Node checks only that it is a number)."""
    defaults = PROTOCOL['stylize_defaults']
    assert noise_and_seed({}) == (defaults['noise'], defaults['seed'])
    assert noise_and_seed({'noise': 0, 'seed': 0}) == (0.0, 0)  # a zero is a value, not "none given"
    low, high = PROTOCOL['limits']['stylize_size']
    assert stylize_size({}) is None and stylize_size({'size': low}) == low and stylize_size({'size': high}) == high
    for size in (low - 1, high + 1):
        with pytest.raises(UsageError, match=f'size must be {low} to {high} pixels'):
            stylize_size({'size': size})


def test_the_service_imports_no_command_line_tool():
    """The trainer, the sweep and the optimiser are programs the service starts or never needs: what
    the service shares with them lives in modules of their own (config, data, hardware)."""
    code = ('import sys, worker.service.app; '
            'print(" ".join(sorted(m for m in sys.modules if m.startswith("worker."))))')
    loaded = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert 'worker.service.runs' in loaded and 'worker.config' in loaded
    assert not {'worker.train', 'worker.sweep', 'worker.optimize'} & set(loaded), loaded
