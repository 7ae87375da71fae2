"""The garbage collector pause around building id lists restores the caller's state."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

import pytest

import chemtok
from chemtok.errors import TokenizationError
from chemtok.rows import collector_paused


@contextlib.contextmanager
def _paused_in_another_thread() -> Iterator[None]:
    """A second thread holds a collector pause until the block ends."""
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with collector_paused():
            inside.set()
            release.wait(timeout=30)

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert inside.wait(timeout=30)
        yield
    finally:
        release.set()
        worker.join(timeout=30)


@pytest.fixture
def restore_collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize(
    "call",
    [
        lambda: chemtok.SmilesTokenizer().encode_batch(["CCO", "c1ccccc1"]),
        lambda: chemtok.ChemTokenizer().encode_batch(["Ethanol is [START_SMILES]CCO[END_SMILES]."]),
        lambda: chemtok.TextTokenizer().encode_batch(["The yield was 85%."]),
    ],
    ids=["smiles", "router", "text"],
)
def test_batches_leave_the_collector_as_they_found_it(restore_collector: None, enabled: bool, call: object) -> None:
    (gc.enable if enabled else gc.disable)()
    assert callable(call)
    call()
    assert gc.isenabled() is enabled


def test_a_failing_batch_resumes_the_collector(restore_collector: None) -> None:
    gc.enable()
    with pytest.raises(TokenizationError):
        chemtok.SmilesTokenizer().encode_batch(["CCO", "C§C"])
    assert gc.isenabled()


def test_the_collector_is_paused_inside_and_resumes_after_the_last_overlapping_pause(restore_collector: None) -> None:
    gc.enable()
    states: list[bool] = []
    with _paused_in_another_thread():
        with collector_paused():
            states.append(gc.isenabled())
        states.append(gc.isenabled())  # the other thread still holds its pause
    assert states == [False, False]
    assert gc.isenabled()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork()")
def test_a_child_forked_during_another_threads_pause_runs_its_collector(restore_collector: None) -> None:
    import multiprocessing

    gc.enable()
    with _paused_in_another_thread(), multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_child_state).get(timeout=60)
    assert child == (True, [[262, 262, 264]], True)


def _child_state() -> tuple[bool, list[list[int]], bool]:
    before = gc.isenabled()
    rows = chemtok.SmilesTokenizer().encode_batch(["CCO"])
    return before, rows, gc.isenabled()
