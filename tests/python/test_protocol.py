"""protocol.json is the one list of commands and refusal kinds: the service answers each command
with a method of worker.commands, and every refusal carries a kind Node has a status for."""
import errno
import inspect

from worker.commands import Commands
from worker.errors import Conflict, NotFound, UsageError
from worker.protocol import PROTOCOL
from worker.service import refusal


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
