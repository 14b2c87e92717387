"""htrkit.threads: the cores a process may use (affinity and a container's CPU quota) and
the lazily made, fork-safe thread pools."""

from __future__ import annotations

import copy
import os
import threading
import time

import pytest
from conftest import passes_in_fork

from htrkit import threads
from htrkit.threads import LazyPool, available_cores


@pytest.mark.parametrize(
    ("text", "cores"),
    [
        ("max 100000\n", None),  # no quota
        ("200000 100000\n", 2),
        ("150000 100000\n", 2),  # 1.5 CPUs: two cores run, each part of the time
        ("50000 100000\n", 1),
        ("garbage\n", None),
        ("100 0\n", None),
    ],
)
def test_a_containers_cpu_quota_reads_as_cores(tmp_path, text, cores):
    path = tmp_path / "cpu.max"
    path.write_text(text)
    assert threads._quota_cores(path) == cores


def test_available_cores_keeps_to_the_affinity_and_the_quota(tmp_path, monkeypatch):
    affinity = len(os.sched_getaffinity(0))
    monkeypatch.setattr(threads, "CPU_MAX", tmp_path / "absent")
    assert available_cores() == affinity
    quota = tmp_path / "cpu.max"
    quota.write_text("100000 100000\n")
    monkeypatch.setattr(threads, "CPU_MAX", quota)
    assert available_cores() == 1
    quota.write_text(f"{(affinity + 8) * 100000} 100000\n")  # a quota above the affinity
    assert available_cores() == affinity


def test_a_pool_runs_in_order_on_its_threads_and_starts_again_after_close():
    pool = LazyPool(3, "htrkit-test")
    assert not pool.started
    names = pool.map(lambda k: (k, threading.current_thread().name), range(20))
    assert [k for k, _ in names] == list(range(20))
    assert all(name.startswith("htrkit-test") for _, name in names)
    assert pool.started
    twin = copy.deepcopy(pool)  # a copied pipeline carries no threads
    assert not twin.started and twin.threads == 3 and twin.map(abs, [-1, -2]) == [1, 2]
    pool.close()
    assert not pool.started and pool.map(abs, [-3]) == [3]
    pool.close()
    twin.close()


def test_a_pool_made_before_fork_works_in_the_child():
    """A forked child inherits the pool object without its threads: without a new pool
    its work would wait for ever (a pre-fork server, multiprocessing's fork)."""
    pool = LazyPool(2, "htrkit-fork")
    # both threads made and then idle: the child's pool would count on them
    assert pool.map(lambda k: time.sleep(0.05) or k, range(4)) == [0, 1, 2, 3]
    assert passes_in_fork(lambda: pool.map(abs, [-4, -5, -6]) == [4, 5, 6])
    assert pool.map(abs, [-7]) == [7]  # the parent's pool is untouched
    pool.close()
