"""chemtok.io.writers and chemtok.io.arrays: every file of a run is committed together, or none.

Through the writer API, the pipeline API and ``main([...])``: fault injection at every
rename of a commit (the old files stay byte for byte, no hidden file stays), a real
1 MiB tmpfs for full disks, SIGTERM and SIGKILL of real child runs, and the stale files
a killed run leaves, cleaned by the next run on the same output.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT
from test_io_commit import (
    CHILD_TIMEOUT,
    FailingCalls,
    hidden,
    lay_out,
    small_disk,
    snapshot,
)

from chemtok import cli
from chemtok.io import writers
from chemtok.io.commit import OutputSet
from chemtok.io.guards import OutputClashError
from chemtok.io.pipeline import OutputError, tokenize_files
from chemtok.registry import load_tokenizer

__all__ = ["small_disk"]  # the tmpfs fixture, shared with test_io_commit

SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz", ".npy", ".bin")
# A process id above Linux's pid_max: never running.
DEAD = 4194304


@pytest.fixture(scope="module")
def tok() -> Any:
    return load_tokenizer("smiles")


def run(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    return code, capsys.readouterr().err


def last_line(err: str) -> str:
    return [line for line in err.splitlines() if line.strip()][-1]


def smiles_file(path: Path, count: int, *, seed: int = 0, bad_every: int = 0, length: int = 30) -> Path:
    """Random chain SMILES; every ``bad_every``-th one ends in "§" (not SMILES)."""
    rng = random.Random(seed)
    atoms = ["C", "N", "O", "S", "F", "Cl", "Br", "c1ccccc1", "C(=O)", "[nH]"]
    lines = []
    for number in range(1, count + 1):
        text = "C" + "".join(rng.choice(atoms) for _ in range(length))
        lines.append(text + ("§" if bad_every and number % bad_every == 0 else ""))
    path.write_text("\n".join(lines) + "\n")
    return path


def old_run(directory: Path, stem: str, suffix: str, *, errors: str | None = None) -> dict[str, bytes]:
    """Files of an older run with several inputs (a sources sidecar) and an errors file."""
    files = {p.name: f"old {p.name}".encode() for p in writers.output_paths(directory / f"{stem}{suffix}", errors=errors)}
    lay_out(directory, files)
    return files


def write_one(path: Path, sources: list[str], **kwargs: Any) -> writers.Writer:
    writer = writers.open_writer(path, metadata={"modality": "smiles"}, sources=sources, vocab_size=300, **kwargs)
    writer.write(np.array([1, 2]), len(sources) - 1, np.array([262, 275, 262], dtype=np.uint32), np.array([0, 2, 3]))
    return writer


# -- the writer API ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("inputs", [1, 2])
def test_finalize_commits_exactly_the_listed_files_and_nothing_else(suffix: str, inputs: int, tmp_path: Path) -> None:
    out, errors = tmp_path / f"out{suffix}", tmp_path / "bad.jsonl"
    writer = write_one(out, [f"in{i}.smi" for i in range(inputs)], errors=errors)
    assert writer.errors_file is not None
    writer.errors_file.write(b'{"record": 3}\n')
    paths = writer.finalize({"records_read": 3, "records_failed": 1})
    listed = writers.output_paths(out, errors=errors)
    if inputs == 1:
        listed = [p for p in listed if not p.name.endswith(".sources.npy")]
    assert paths[0] == out and paths[-1] == errors
    assert sorted(p.name for p in paths) == sorted(p.name for p in listed) == sorted(os.listdir(tmp_path))
    assert errors.read_bytes() == b'{"record": 3}\n'


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_abort_leaves_the_old_files_and_nothing_else(suffix: str, tmp_path: Path) -> None:
    old = old_run(tmp_path, "out", suffix, errors="bad.jsonl")
    writer = write_one(tmp_path / f"out{suffix}", ["in.smi"], errors=tmp_path / "bad.jsonl")
    assert hidden(tmp_path)  # its temporary files exist while it writes
    writer.abort()
    writer.abort()
    assert snapshot(tmp_path) == old


@pytest.mark.parametrize("suffix", [".npy", ".bin"])
def test_one_input_removes_an_old_sources_sidecar(suffix: str, tmp_path: Path) -> None:
    old_run(tmp_path, "out", suffix)
    write_one(tmp_path / f"out{suffix}", ["in.smi"]).finalize()
    assert not (tmp_path / "out.sources.npy").exists()
    assert np.load(tmp_path / "out.records.npy").tolist() == [1, 2]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_rename_failing_at_any_step_of_finalize_keeps_exactly_the_old_files(
    suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / f"out{suffix}"
    old = old_run(tmp_path, "out", suffix, errors="bad.jsonl")
    counting = FailingCalls(0, every=False)
    monkeypatch.setattr(os, "replace", counting)
    write_one(out, ["in.smi"], errors=tmp_path / "bad.jsonl").finalize()
    renames = counting.calls
    monkeypatch.setattr(os, "replace", counting.real)
    assert renames >= 4  # the journal, the old files aside, the new ones in
    for k in range(1, renames + 1):
        lay_out(tmp_path, old)
        writer = write_one(out, ["in.smi"], errors=tmp_path / "bad.jsonl")
        monkeypatch.setattr(os, "replace", FailingCalls(k, every=False))
        with pytest.raises(OSError, match="injected rename failure"):
            writer.finalize()
        monkeypatch.setattr(os, "replace", counting.real)
        assert snapshot(tmp_path) == old, k


def test_the_next_writer_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    stale = [f".{name}.{DEAD}-0123abcd.chemtok-tmp" for name in ("out.bin", "out.idx", "out.lengths.scratch", "bad.jsonl")]
    lay_out(tmp_path, {name: b"left by a killed run" for name in stale})
    writer = write_one(out, ["in.smi"], errors=tmp_path / "bad.jsonl")
    assert writer.outputs is not None
    assert sorted(p.name for p in writer.outputs.recovered.removed) == sorted(stale)
    writer.finalize()
    assert hidden(tmp_path) == []


def test_standard_output_commits_only_the_errors_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    errors = tmp_path / "bad.jsonl"
    writer = write_one(Path("-"), ["in.smi"], errors=errors)
    assert writer.errors_file is not None
    writer.errors_file.write(b"{}\n")
    assert writer.finalize() == [errors]
    assert capsysbinary.readouterr().out.count(b'"record"') == 2
    assert sorted(os.listdir(tmp_path)) == ["bad.jsonl"]


def test_output_paths_and_check_run_paths() -> None:
    assert [p.name for p in writers.output_paths("m.jsonl.gz", errors="e.jsonl")] == ["m.jsonl.gz", "m.meta.json", "e.jsonl"]
    assert writers.output_paths("-") == []
    writers.check_run_paths(["m.smi", "-"], "-", errors="e.jsonl")
    for inputs, errors in ((["m.meta.json"], None), (["e.jsonl"], "e.jsonl"), (["m.smi"], "m.idx")):
        with pytest.raises(OutputClashError):
            writers.check_run_paths(inputs, "m.bin", errors=errors)


# -- the pipeline API --------------------------------------------------------------------


def test_the_pipeline_refuses_an_errors_file_that_is_a_sidecar(tok: Any, tmp_path: Path) -> None:
    src = smiles_file(tmp_path / "in.smi", 5)
    with pytest.raises(OutputClashError, match=r"out\.offsets\.npy"):
        tokenize_files([str(src)], ["smi"], tok, str(tmp_path / "out.npy"), modality="smiles", errors=str(tmp_path / "out.offsets.npy"))
    assert sorted(os.listdir(tmp_path)) == ["in.smi"]


def test_the_errors_file_comes_with_the_output_and_goes_with_a_stopped_run(tok: Any, tmp_path: Path) -> None:
    src = smiles_file(tmp_path / "in.smi", 40, bad_every=10)
    out, errors = tmp_path / "out.npy", tmp_path / "bad.jsonl"
    done = tokenize_files([str(src)], ["smi"], tok, str(out), modality="smiles", policy="skip", errors=str(errors))
    assert done.paths[0] == out and done.paths[-1] == errors
    assert [json.loads(line)["record"] for line in errors.read_text().splitlines()] == [10, 20, 30, 40]
    before = snapshot(tmp_path)
    # Under raise the run stops at record 10: neither a new output nor a new errors file.
    stopped = tokenize_files([str(src)], ["smi"], tok, str(out), modality="smiles", policy="raise", errors=str(errors))
    assert stopped.stop is not None and stopped.stop.record == 10 and stopped.paths == []
    assert snapshot(tmp_path) == before


def test_a_failed_rename_in_the_pipeline_is_an_output_error_with_the_counts(
    tok: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = smiles_file(tmp_path / "in.smi", 30, bad_every=10)
    old = old_run(tmp_path, "out", ".bin", errors="bad.jsonl")
    monkeypatch.setattr(os, "replace", FailingCalls(4, every=False))
    with pytest.raises(OutputError) as info:
        tokenize_files([str(src)], ["smi"], tok, str(tmp_path / "out.bin"), modality="smiles", policy="skip", errors=str(tmp_path / "bad.jsonl"))
    assert "nothing was kept, older files are unchanged" in str(info.value)
    assert (info.value.counts.read, info.value.counts.failed) == (30, 3)
    assert snapshot(tmp_path) == {**old, "in.smi": src.read_bytes()}


# -- main([...]): a failed commit, a failed roll-back, clashes --------------------------


@pytest.mark.parametrize("suffix", [".npy", ".bin", ".jsonl.gz", ".parquet"])
def test_main_with_a_rename_failing_at_any_step_exits_1_and_keeps_the_old_files(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = smiles_file(tmp_path / "in.smi", 50, bad_every=7)
    out, errors = tmp_path / f"out{suffix}", tmp_path / "bad.jsonl"
    argv = ["tokenize", src, "-o", out, "--on-error", "skip", "--errors", errors]
    old = {**old_run(tmp_path, "out", suffix, errors="bad.jsonl"), "in.smi": src.read_bytes()}
    counting = FailingCalls(0, every=False)
    monkeypatch.setattr(os, "replace", counting)
    code, err = run(argv, capsys)
    assert code == 0, err
    monkeypatch.setattr(os, "replace", counting.real)
    assert counting.calls >= 4  # the journal, the old files aside, the new ones in
    for k in range(1, counting.calls + 1):
        lay_out(tmp_path, old)
        monkeypatch.setattr(os, "replace", FailingCalls(k, every=False))
        code, err = run(argv, capsys)
        monkeypatch.setattr(os, "replace", counting.real)
        assert code == 1 and "injected rename failure" in err and "Traceback" not in err, (k, err)
        assert last_line(err) == "chemtok: read 50, written 0, failed 7 (the output could not be written: exit status 1)"
        assert snapshot(tmp_path) == old, k


_FAILING_ROLLBACK_CHILD = textwrap.dedent(
    """
    import os, sys
    from chemtok import cli

    real, calls = os.replace, 0
    def replace(src, dst):  # the journal and one old file aside pass, then every rename fails
        global calls
        calls += 1
        if calls > 2:
            raise OSError(5, "injected rename failure", str(src))
        real(src, dst)
    os.replace = replace
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def test_a_failed_roll_back_is_reported_and_the_next_run_finishes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = smiles_file(tmp_path / "in.smi", 20)
    out = tmp_path / "out.npy"
    old = {**old_run(tmp_path, "out", ".npy"), "in.smi": src.read_bytes()}
    done = subprocess.run(
        [sys.executable, "-c", _FAILING_ROLLBACK_CHILD, "tokenize", str(src), "-o", str(out)],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT, cwd=ROOT, check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "could not be restored yet" in done.stderr and "the next run on this output restores them" in done.stderr
    assert "Traceback" not in done.stderr and last_line(done.stderr).startswith("chemtok: read 20, written 0, failed 0")
    assert any(name.endswith(".chemtok-journal") for name in hidden(tmp_path))
    # The next run on the same output rolls the dead run's commit back, then commits its own.
    outputs = OutputSet(writers.output_paths(out))
    assert snapshot(tmp_path) == old
    outputs.abort()
    code, err = run(["tokenize", src, "-o", out], capsys)
    assert code == 0, err
    assert hidden(tmp_path) == [] and np.load(tmp_path / "out.records.npy").tolist() == list(range(1, 21))


def test_outputs_are_refused_as_inputs_and_as_the_errors_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = smiles_file(tmp_path / "in.smi", 5)
    old = {**old_run(tmp_path, "out", ".npy"), **old_run(tmp_path, "t", ".jsonl"), "in.smi": src.read_bytes()}
    cases = [
        (["tokenize", src, "-o", tmp_path / "out.npy", "--errors", tmp_path / "out.meta.json"], "out.meta.json"),
        (["tokenize", src, "-o", tmp_path / "out.npy", "--errors", tmp_path / "out.sources.npy"], "out.sources.npy"),
        (["tokenize", tmp_path / "t.jsonl", "--column", "smiles", "--modality", "smiles", "-o", tmp_path / "t.jsonl"], "t.jsonl"),
        (["tokenize", tmp_path / "t.meta.json", "--input-format", "jsonl", "--column", "smiles", "--modality", "smiles", "-o", tmp_path / "t.jsonl"], "t.meta.json"),
        (["tokenize", src, "-o", tmp_path / "x.npy", "--errors", src], "in.smi"),
        (["tokenize", src, "-o", "-", "--errors", src], "in.smi"),
    ]
    for argv, named in cases:
        code, err = run(argv, capsys)
        assert code == 2 and named in err and "one of the files this run writes" in err, err
    code, err = run(cases[0][0], capsys)
    assert "out.errors.jsonl" in err  # what to pass instead
    assert snapshot(tmp_path) == old


def test_a_stopped_run_keeps_neither_output_nor_errors_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = smiles_file(tmp_path / "in.smi", 20, bad_every=5)
    old = {**old_run(tmp_path, "out", ".parquet", errors="bad.jsonl"), "in.smi": src.read_bytes()}
    code, err = run(["tokenize", src, "-o", tmp_path / "out.parquet", "--errors", tmp_path / "bad.jsonl"], capsys)
    assert code == 1 and "record 5 of" in err
    assert snapshot(tmp_path) == old


# -- a full disk (a real 1 MiB tmpfs) -----------------------------------------------------


def leave_free(disk: Path, free: int) -> bytes:
    """Fill ``disk`` with a padding file until only about ``free`` bytes are left."""
    stat = os.statvfs(disk)
    size = max(0, stat.f_bavail * stat.f_frsize - free)
    data = b"\0" * size
    (disk / "padding").write_bytes(data)
    return data


@pytest.mark.parametrize(
    ("suffix", "on_disk"),
    [(".bin", "output"), (".jsonl.gz", "output"), (".npy", "errors"), (".jsonl.gz", "errors")],
)
def test_a_full_disk_exits_1_with_the_summary_last_and_leaves_the_old_files(
    suffix: str, on_disk: str, small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    if on_disk == "output":
        src = smiles_file(inputs / "in.smi", 6000, length=60)
        out, errors = small_disk / f"out{suffix}", inputs / "bad.jsonl"
        old = old_run(small_disk, "out", suffix)
    else:  # long failing records: their text fills the errors file
        src = smiles_file(inputs / "in.smi", 400, length=600, bad_every=2)
        out, errors = inputs / f"out{suffix}", small_disk / "bad.jsonl"
        old = {"bad.jsonl": b"old errors"}
        lay_out(small_disk, old)
    old["padding"] = leave_free(small_disk, 48 << 10)
    code, err = run(["tokenize", src, "-o", out, "--on-error", "skip", "--errors", errors], capsys)
    assert code == 1, err
    assert "No space left on device" in err and "nothing was kept" in err and "Traceback" not in err
    total, failed = (6000, 0) if on_disk == "output" else (400, 200)
    assert last_line(err) == f"chemtok: read {total}, written 0, failed {failed} (the output could not be written: exit status 1)"
    assert snapshot(small_disk) == old
    assert sorted(os.listdir(inputs)) == ["in.smi"]


# -- SIGTERM and SIGKILL of a real run -----------------------------------------------------

# main([...]) on its arguments; after the first chunk it says "ready" and waits on stdin,
# its temporary files open, until the test signals it.
_PAUSED_RUN = textwrap.dedent(
    """
    import sys
    from chemtok import cli
    from chemtok.io import pipeline

    real, calls = pipeline.encode_chunk, 0
    def paused(*args):
        global calls
        calls += 1
        if calls == 2:
            print("ready", flush=True)
            sys.stdin.readline()
        return real(*args)
    pipeline.encode_chunk = paused
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def signal_paused_run(argv: list[Any], signum: int) -> tuple[int, str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_RUN, *map(str, argv)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], CHILD_TIMEOUT)
        assert ready and child.stdout.readline() == "ready\n", "the child never said it was ready"
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=CHILD_TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=CHILD_TIMEOUT)
    return child.returncode, stderr


@pytest.mark.parametrize("suffix", [".npy", ".bin", ".jsonl.gz"])
def test_sigterm_exits_143_and_leaves_only_the_old_files(suffix: str, tmp_path: Path) -> None:
    src = smiles_file(tmp_path / "in.smi", 300, bad_every=50)
    out = tmp_path / f"out{suffix}"
    old = {**old_run(tmp_path, "out", suffix, errors="bad.jsonl"), "in.smi": src.read_bytes()}
    argv = ["tokenize", src, "-o", out, "--chunk-size", "100", "--on-error", "skip", "--errors", tmp_path / "bad.jsonl"]
    code, stderr = signal_paused_run(argv, signal.SIGTERM)
    assert code == 143, stderr
    assert "terminated by SIGTERM" in stderr and "Traceback" not in stderr
    assert snapshot(tmp_path) == old


def test_after_sigkill_the_next_run_on_the_output_cleans_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = smiles_file(tmp_path / "in.smi", 300)
    out, errors = tmp_path / "out.bin", tmp_path / "bad.jsonl"
    argv = ["tokenize", src, "-o", out, "--chunk-size", "100", "--errors", errors]
    code, stderr = signal_paused_run(argv, signal.SIGKILL)
    assert code == -signal.SIGKILL, stderr
    left = hidden(tmp_path)
    assert any(".lengths.scratch." in name for name in left) and any(name.startswith(".bad.jsonl.") for name in left)
    code, err = run(argv, capsys)
    assert code == 0, err
    assert hidden(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == ["bad.jsonl", "in.smi", "out.bin", "out.idx", "out.meta.json", "out.records.npy"]


def test_an_errors_file_in_a_missing_directory_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = smiles_file(tmp_path / "in.smi", 5)
    code, err = run(["tokenize", src, "-o", tmp_path / "out.npy", "--errors", tmp_path / "no" / "bad.jsonl"], capsys)
    assert code == 2 and "--errors" in err and "does not exist" in err
    assert sorted(os.listdir(tmp_path)) == ["in.smi"]
