"""chemtok.io.guards: SIGTERM handled like Ctrl-C (with real child processes), and outputs refused as inputs."""

from __future__ import annotations

import os
import pickle
import select
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from conftest import ROOT
from test_io_commit import CHILD_TIMEOUT, hidden, lay_out, snapshot

from chemtok.errors import ChemtokError
from chemtok.io.commit import OutputSet, clean_stale
from chemtok.io.guards import (
    OutputClashError,
    Terminated,
    check_not_an_output,
    interrupt_on_sigterm,
)

# -- SIGTERM --------------------------------------------------------------------------

# A long run that writes a few MB of temporary output, says "ready", then keeps writing
# until it is stopped; without the handler (argv[3] == "plain") SIGTERM kills it.
_SIGTERM_CHILD = textwrap.dedent(
    """
    import contextlib, sys
    from pathlib import Path
    from chemtok.io.commit import OutputSet
    from chemtok.io.guards import interrupt_on_sigterm

    out = Path(sys.argv[1])
    guard = contextlib.nullcontext() if sys.argv[2] == "plain" else interrupt_on_sigterm()
    chunk = b"C1=CC=CC=C1" * 100_000
    try:
        with guard, OutputSet([out, out.with_suffix(".meta.json")]) as outputs:
            handle = outputs.open_temp(out)
            meta = outputs.open_temp(out.with_suffix(".meta.json"))
            for _ in range(4):
                handle.write(chunk)
            handle.flush()
            print("ready", flush=True)
            for _ in range(100_000):
                handle.seek(0)
                handle.write(chunk)
            sys.exit(3)  # never stopped
    except KeyboardInterrupt as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(130)
    """
)


def start_and_terminate(out: Path, mode: str) -> tuple[int, str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _SIGTERM_CHILD, str(out), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], CHILD_TIMEOUT)
        assert ready, "the child never said it was ready"
        assert child.stdout.readline() == "ready\n"
        assert len(hidden(out.parent)) == 2  # its temporary files exist
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=CHILD_TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=CHILD_TIMEOUT)
    return child.returncode, stderr


def test_sigterm_runs_the_cleanup_and_leaves_nothing(tmp_path: Path) -> None:
    lay_out(tmp_path, {"out.npy": b"old ids"})
    code, stderr = start_and_terminate(tmp_path / "out.npy", "handled")
    assert code == 130, stderr
    assert "Terminated: terminated by SIGTERM" in stderr
    assert snapshot(tmp_path) == {"out.npy": b"old ids"}


def test_without_the_handler_sigterm_leaves_files_that_the_next_run_removes(tmp_path: Path) -> None:
    lay_out(tmp_path, {"out.npy": b"old ids"})
    code, stderr = start_and_terminate(tmp_path / "out.npy", "plain")
    assert code == -signal.SIGTERM, stderr
    left = hidden(tmp_path)
    assert len(left) == 2 and all(name.endswith(".chemtok-tmp") for name in left)
    removed = clean_stale([tmp_path / "out.npy", tmp_path / "out.meta.json"]).removed
    assert sorted(p.name for p in removed) == left
    assert snapshot(tmp_path) == {"out.npy": b"old ids"}


def test_the_handler_is_restored_and_a_second_signal_during_cleanup_is_ignored() -> None:
    seen: list[int] = []

    def previous(signum: int, frame: object) -> None:
        seen.append(signum)

    saved = signal.signal(signal.SIGTERM, previous)
    try:
        cleaned = False
        with pytest.raises(Terminated) as info, interrupt_on_sigterm():
            assert signal.getsignal(signal.SIGTERM) is not previous
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                pytest.fail("SIGTERM did not interrupt")  # pragma: no cover
            finally:
                os.kill(os.getpid(), signal.SIGTERM)  # impatient: a second one
                cleaned = True
        assert cleaned and info.value.signum == signal.SIGTERM
        assert isinstance(info.value, KeyboardInterrupt)
        assert signal.getsignal(signal.SIGTERM) is previous and seen == []
        os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, saved)


def test_an_ignored_sigterm_stays_ignored() -> None:
    saved = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with interrupt_on_sigterm():
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, saved)


def test_off_the_main_thread_it_does_nothing() -> None:
    before = signal.getsignal(signal.SIGTERM)
    results: list[object] = []

    def worker() -> None:  # an exception here leaves results empty
        with interrupt_on_sigterm():
            results.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=CHILD_TIMEOUT)
    assert results == [before]


# -- paths that are outputs -----------------------------------------------------------


def run_outputs(directory: Path) -> list[Path]:
    return [directory / n for n in ("out.npy", "out.offsets.npy", "out.records.npy", "out.meta.json")]


def test_an_errors_file_that_is_a_sidecar_is_refused(tmp_path: Path) -> None:
    outputs = run_outputs(tmp_path)
    with pytest.raises(OutputClashError) as info:
        check_not_an_output(tmp_path / "out.meta.json", outputs, role="--errors", instead=str(tmp_path / "out.errors.jsonl"))
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, ChemtokError)
    message = str(err)
    assert "--errors" in message and "out.meta.json" in message and "out.errors.jsonl" in message
    assert err.output == str(tmp_path / "out.meta.json") and err.role == "--errors"
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == message and again.output == err.output


@pytest.mark.parametrize("how", ["relative", "dotted", "symlink", "hardlink"])
def test_the_same_file_under_another_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.chdir(tmp_path)
    outputs = run_outputs(tmp_path)
    (tmp_path / "out.offsets.npy").write_bytes(b"offsets")
    given: Path | str
    if how == "relative":
        given = "out.offsets.npy"
    elif how == "dotted":
        (tmp_path / "sub").mkdir()
        given = "sub/../out.offsets.npy"
    elif how == "symlink":
        given = tmp_path / "link.npy"
        given.symlink_to(tmp_path / "out.offsets.npy")
    else:
        given = tmp_path / "hard.npy"
        os.link(tmp_path / "out.offsets.npy", given)
    with pytest.raises(OutputClashError, match=r"out\.offsets\.npy"):
        check_not_an_output(given, outputs)


def test_a_symlink_to_an_output_not_yet_written_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "errors.jsonl"
    link.symlink_to(tmp_path / "out.meta.json")  # dangling: the output does not exist yet
    with pytest.raises(OutputClashError):
        check_not_an_output(link, run_outputs(tmp_path), role="--errors")


def test_other_paths_pass(tmp_path: Path) -> None:
    (tmp_path / "mols.smi").write_text("CCO\n")
    for path in (tmp_path / "mols.smi", tmp_path / "out.errors.jsonl", "-", tmp_path / "out.npy.txt"):
        check_not_an_output(path, [*run_outputs(tmp_path), "-"])


def test_the_outputset_finals_are_what_to_check_against(tmp_path: Path) -> None:
    outputs = OutputSet(run_outputs(tmp_path))
    with pytest.raises(OutputClashError):
        check_not_an_output(tmp_path / "out.records.npy", outputs.finals, role="input")
    outputs.abort()

