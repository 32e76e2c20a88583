"""worker.atomic: the order of the calls that make a write survive a crash.

What a power cut does cannot be reproduced in a test; what can be checked is the protocol that
makes it safe: the whole content is written and flushed to the temporary file, that file is
fsynced, and only then renamed over the target. A spy on os.fsync and os.replace records what each
saw. This catches a missing fsync, a missing flush (the fsync would find the file short), an
fsync after the rename, and an fsync of some other file; it cannot show that the kernel or the
disk honour fsync. The folder is not fsynced after the rename (worker.atomic does not promise
that the rename itself survives a power cut: a reader then finds the old file, still whole).
"""
import os

import pytest

from worker import atomic
from worker.atomic import atomic_write, write_json


@pytest.fixture
def calls(monkeypatch):
    """Every os.fsync and os.replace, in order: ('fsync', path of the fd, its size then) and
    ('replace', src, dst)."""
    seen = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        seen.append(('fsync', os.readlink(f'/proc/self/fd/{fd}'), os.fstat(fd).st_size))
        return real_fsync(fd)

    def replace(src, dst, *a, **kw):
        seen.append(('replace', os.fspath(src), os.fspath(dst)))
        return real_replace(src, dst, *a, **kw)
    monkeypatch.setattr(atomic.os, 'fsync', fsync)
    monkeypatch.setattr(atomic.os, 'replace', replace)
    return seen


@pytest.mark.parametrize('mode, data', [('wb', b'\x89PNG' + bytes(range(256)) * 3), ('w', 'text, not bytes\n' * 5)])
def test_the_whole_file_is_fsynced_before_it_is_renamed_into_place(tmp_path, calls, mode, data):
    target = tmp_path / 'model.pth'
    target.write_bytes(b'the old one')
    atomic_write(target, lambda f: f.write(data), mode=mode)
    size = len(data.encode() if isinstance(data, str) else data)
    assert len(calls) == 2, calls
    (op1, synced, synced_size), (op2, src, dst) = calls
    assert op1 == 'fsync' and op2 == 'replace'
    assert synced == src and os.path.dirname(src) == str(tmp_path) and dst == str(target)  # the temporary file itself
    assert synced_size == size  # all of it written out (flushed) before the fsync
    assert target.read_bytes() == (data.encode() if isinstance(data, str) else data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['model.pth']


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, calls):
    target = tmp_path / 'run.json'
    write_json(target, {'iteration': 1})
    calls.clear()

    def half(f):
        f.write('{"iteration": ')
        raise OSError(28, 'No space left on device')
    with pytest.raises(OSError) as e:
        atomic_write(target, half, mode='w')
    assert e.value.filename == str(target)  # the error names the file a user knows
    assert calls == []  # nothing synced, nothing renamed
    assert target.read_text() == '{\n  "iteration": 1\n}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['run.json']
