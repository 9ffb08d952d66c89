"""The benchmarks' memory sampler: the peak of a process tree, with the pages a forked
worker shares with its parent counted once."""

from __future__ import annotations

import multiprocessing
import sys
import time

import pytest
from benchmarks.common import TreeMemory

MIB = 2**20


def _hold(mib: int) -> None:
    block = bytearray(mib * MIB)  # zero-filled: every page is touched
    time.sleep(1.5)
    del block


def _parent(shared_mib: int, own_mib: int) -> None:
    shared = bytearray(shared_mib * MIB)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_hold, args=(own_mib,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    del shared


def _peak(shared_mib: int, own_mib: int) -> TreeMemory:
    context = multiprocessing.get_context("fork")
    parent = context.Process(target=_parent, args=(shared_mib, own_mib))
    parent.start()
    assert parent.pid is not None
    with TreeMemory(parent.pid, interval=0.05) as tree:
        parent.join()
    assert parent.exitcode == 0
    assert tree.samples > 5
    return tree


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_a_forked_tree_counts_shared_pages_once() -> None:
    # The same tree holding nothing: what the forked interpreters themselves take.
    empty = _peak(0, 0).peak_mib
    # 200 MiB in the parent, shared by both workers, plus 100 MiB of each worker's own:
    # about 400 MiB more; adding resident sizes would give about 800.
    grown = _peak(200, 100).peak_mib - empty
    assert 360 <= grown <= 460, (empty, grown)
