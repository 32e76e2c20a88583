"""worker.malloc: freed memory is kept while a stylization runs, and handed back after it."""
import json
import subprocess
import sys

import pytest

from conftest import REPO
from worker import malloc

# In a fresh process: the test process's own heap already holds whatever earlier tests freed.
MEASURE = '''
import json, os, torch
from worker import malloc
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
base = rss()
with malloc.reusing_freed_memory():
    for _ in range(3):
        t = torch.ones(50 * 2**20)  # 200 MB, every page touched, then freed
        del t
    inside = rss()
print(json.dumps({'inside': inside - base, 'after': rss() - base}))
'''


@pytest.mark.skipif(malloc._libc() is None, reason='glibc only: elsewhere the allocator is left as it is')
def test_freed_memory_is_kept_in_the_block_and_given_back_after_it():
    r = subprocess.run([sys.executable, '-c', MEASURE], cwd=REPO, capture_output=True, text=True, check=True)
    grown = json.loads(r.stdout.splitlines()[-1])
    mb = 2**20
    assert grown['inside'] > 150 * mb, grown  # kept for the next tensor: no fresh pages to fault in
    assert grown['after'] < 50 * mb, grown  # the service does not keep what a big picture needed
