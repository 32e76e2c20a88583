"""worker.malloc: freed memory is kept while a stylization runs, and handed back after it."""
import os

import pytest
import torch

from worker import malloc


def rss() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


@pytest.mark.skipif(malloc._libc() is None, reason='glibc only: elsewhere the allocator is left as it is')
def test_freed_memory_is_kept_in_the_block_and_given_back_after_it():
    mb = 2**20
    base = rss()
    with malloc.reusing_freed_memory():
        for _ in range(3):
            t = torch.ones(50 * 2**18)  # 200 MB, every page touched, then freed
            del t
        inside = rss()
    after = rss()
    assert inside - base > 150 * mb  # kept for the next tensor: no fresh pages to fault in
    assert after - base < 50 * mb  # the service does not keep what a big picture needed
