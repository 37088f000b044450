"""`quiet_stdout` from several threads at once (a sweep solves budgets in threads): file
descriptor 1 must end where it started."""

from __future__ import annotations

import contextlib
import os
import threading

import pytest

from lifecircle.optimizer.solve.backends.base import quiet_stdout


@contextlib.contextmanager
def fd1_to(path):
    """Point file descriptor 1 at ``path`` (inside the test body: pytest's own capture re-points
    fd 1 between a fixture's setup and the test call)."""
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    saved = os.dup(1)
    os.dup2(target, 1)
    os.close(target)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def test_overlapping_spans_restore_fd1(tmp_path):
    """A enters, B enters, A leaves, B leaves: the order in which two independent save/restore
    pairs leave /dev/null on fd 1 for good."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    timeout = 10

    def first():
        with quiet_stdout():
            a_in.set()
            assert b_in.wait(timeout)
            os.write(1, b"hidden-a\n")
        a_out.set()

    def second():
        assert a_in.wait(timeout)
        with quiet_stdout():
            b_in.set()
            assert a_out.wait(timeout)
            os.write(1, b"hidden-b\n")  # A has left; B's span is still quiet

    path = tmp_path / "fd1.txt"
    with fd1_to(path):
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in threads)
        os.write(1, b"after\n")
    assert path.read_text() == "after\n"


def test_many_threads_many_spans(tmp_path):
    barrier = threading.Barrier(8)

    def work(n):
        barrier.wait(10)
        for m in range(200):
            with quiet_stdout():
                os.write(1, f"hidden {n} {m}\n".encode())

    path = tmp_path / "fd1.txt"
    with fd1_to(path):
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        os.write(1, b"after\n")
    assert path.read_text() == "after\n"


def test_nested_and_exception(tmp_path):
    path = tmp_path / "fd1.txt"
    with fd1_to(path):
        with pytest.raises(RuntimeError), quiet_stdout():
            with quiet_stdout():
                os.write(1, b"hidden\n")
            os.write(1, b"still hidden\n")
            raise RuntimeError("boom")
        os.write(1, b"after\n")
    assert path.read_text() == "after\n"
