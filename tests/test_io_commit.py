"""chemtok.io.commit: all-or-nothing commits and recovery after killed runs."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from chemtok.io.commit import IncompleteRollbackError, OutputSet, clean_stale

# One run's files and two versions of them. The old run had several inputs (a sources
# sidecar) and no errors file; the new run has one input and an errors file.
OLD = {
    "out.npy": b"old ids CCO",
    "out.offsets.npy": b"old offsets",
    "out.records.npy": b"old records",
    "out.sources.npy": b"old sources",
    "out.meta.json": b'{"run": "old"}',
}
NEW = {
    "out.npy": b"new ids c1ccccc1",
    "out.offsets.npy": b"new offsets",
    "out.records.npy": b"new records",
    "out.meta.json": b'{"run": "new"}',
    "bad.jsonl": b'{"record": 3, "input": "C1CC"}\n',
}
FINALS = ["out.npy", "out.offsets.npy", "out.records.npy", "out.sources.npy", "out.meta.json", "bad.jsonl"]
# A commit of NEW over OLD: 1 journal rename, 5 old files aside, 5 new files in.
REPLACES = 1 + 5 + 5
CHILD_TIMEOUT = 120


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file in ``directory``, hidden ones included, with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def hidden(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".chemtok-" in p.name)


def lay_out(directory: Path, files: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)


def stage(directory: Path, **kwargs: Any) -> OutputSet:
    """An OutputSet over FINALS holding NEW in its temporary files, ready to commit."""
    outputs = OutputSet([directory / name for name in FINALS], **kwargs)
    for name, data in NEW.items():
        if name == "out.npy":
            with outputs.open_temp(directory / name) as handle:
                handle.write(data)
        else:
            outputs.temp_path(directory / name).write_bytes(data)
    outputs.delete_on_commit(directory / "out.sources.npy")
    return outputs


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True, timeout=CHILD_TIMEOUT
    )
    return int(child.stdout)


class FailingCalls:
    """Replace ``os.replace`` and ``os.rename`` with versions failing at call k (or every k)."""

    def __init__(self, k: int, *, every: bool) -> None:
        self.k = k
        self.every = every
        self.calls = 0
        self.failures = 0
        self.real = os.replace

    def __call__(self, src: Any, dst: Any) -> None:
        self.calls += 1
        if self.calls == self.k or (self.every and self.calls % self.k == 0):
            self.failures += 1
            raise OSError(errno.EIO, "injected rename failure", str(src))
        self.real(src, dst)


# -- commit and abort -----------------------------------------------------------------


def test_commit_makes_every_file_appear_and_leaves_nothing_else(tmp_path: Path) -> None:
    lay_out(tmp_path, OLD)
    outputs = stage(tmp_path)
    assert snapshot(tmp_path).keys() > OLD.keys()  # the new files are only hidden so far
    written = outputs.commit()
    assert [p.name for p in written] == list(NEW)
    assert snapshot(tmp_path) == NEW  # out.sources.npy of the old run is gone too


def test_temporary_files_are_hidden_beside_their_final_and_name_the_process(tmp_path: Path) -> None:
    outputs = OutputSet([tmp_path / "mols.npy"])
    temp = outputs.temp_path(tmp_path / "mols.npy")
    assert temp.parent == tmp_path and temp.exists()
    prefix, suffix = f".mols.npy.{os.getpid()}-", ".chemtok-tmp"
    assert temp.name.startswith(prefix) and temp.name.endswith(suffix)
    assert len(temp.name) == len(prefix) + 8 + len(suffix)
    outputs.abort()
    assert snapshot(tmp_path) == {}


def test_abort_and_an_exception_in_the_block_keep_the_old_files(tmp_path: Path) -> None:
    lay_out(tmp_path, OLD)
    stage(tmp_path).abort()
    assert snapshot(tmp_path) == OLD
    with pytest.raises(KeyError), stage(tmp_path):
        raise KeyError("a failing record under --on-error raise")
    assert snapshot(tmp_path) == OLD


def test_the_block_commits_when_it_ends_normally(tmp_path: Path) -> None:
    lay_out(tmp_path, OLD)
    with stage(tmp_path) as outputs:
        pass
    assert snapshot(tmp_path) == NEW
    with pytest.raises(RuntimeError, match="committed"):
        outputs.commit()
    outputs.abort()  # a no-op now
    assert snapshot(tmp_path) == NEW


def test_misuse_is_refused(tmp_path: Path) -> None:
    outputs = OutputSet([tmp_path / "a.npy"])
    outputs.temp_path(tmp_path / "a.npy")
    with pytest.raises(ValueError, match="already has a temporary file"):
        outputs.open_temp(tmp_path / "a.npy")
    outputs.abort()
    with pytest.raises(RuntimeError, match="aborted"):
        outputs.temp_path(tmp_path / "b.npy")
    with pytest.raises(ValueError, match="at least one"):
        OutputSet([])


def test_a_deleted_temporary_file_fails_the_commit_and_keeps_the_old_files(tmp_path: Path) -> None:
    lay_out(tmp_path, OLD)
    outputs = stage(tmp_path)
    os.unlink(outputs.temp_path(tmp_path / "extra.txt"))
    with pytest.raises(FileNotFoundError):
        outputs.commit()
    assert snapshot(tmp_path) == OLD


@pytest.mark.parametrize("end", ["commit", "abort"])
def test_scratch_files_never_become_outputs_and_never_stay(tmp_path: Path, end: str) -> None:
    outputs = OutputSet([tmp_path / "out.bin", tmp_path / "out.idx"])
    outputs.temp_path(tmp_path / "out.bin").write_bytes(b"ids")
    path, handle = outputs.open_scratch(tmp_path / "out.lengths.scratch")
    handle.write(b"\3\0\0\0")
    handle.flush()
    assert path.parent == tmp_path and path.name.startswith(".out.lengths.scratch.") and path.read_bytes() == b"\3\0\0\0"
    assert tmp_path / "out.lengths.scratch" in outputs.finals  # so a later run cleans it up
    getattr(outputs, end)()
    assert handle.closed
    assert snapshot(tmp_path) == ({"out.bin": b"ids"} if end == "commit" else {})


def test_finals_in_two_directories_commit_together(tmp_path: Path) -> None:
    data, logs = tmp_path / "data", tmp_path / "logs"
    lay_out(data, {"out.npy": b"old"})
    lay_out(logs, {"bad.jsonl": b"old errors"})
    with OutputSet([data / "out.npy", logs / "bad.jsonl"]) as outputs:
        outputs.temp_path(data / "out.npy").write_bytes(b"new")
        outputs.temp_path(logs / "bad.jsonl").write_bytes(b"new errors")
    assert snapshot(data) == {"out.npy": b"new"} and snapshot(logs) == {"bad.jsonl": b"new errors"}


@pytest.mark.parametrize("every", [False, True], ids=["kth-call", "every-kth-call"])
@pytest.mark.parametrize("k", range(1, REPLACES + 2))
def test_a_rename_failing_at_any_step_leaves_exactly_the_old_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, k: int, every: bool
) -> None:
    lay_out(tmp_path, OLD)
    outputs = stage(tmp_path, fsync=False)
    failing = FailingCalls(k, every=every)
    monkeypatch.setattr(os, "replace", failing)
    monkeypatch.setattr(os, "rename", failing)
    if k > REPLACES:
        outputs.commit()
        assert failing.failures == 0 and snapshot(tmp_path) == NEW
        return
    with pytest.raises(OSError, match="injected rename failure") as info:
        outputs.commit()
    assert not isinstance(info.value, IncompleteRollbackError)
    assert failing.failures >= 1
    assert snapshot(tmp_path) == OLD  # byte for byte, and nothing hidden left


def test_a_failed_rollback_keeps_the_journal_and_the_next_run_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lay_out(tmp_path, OLD)
    outputs = stage(tmp_path, fsync=False)
    real = os.replace
    calls = 0

    def fail_after_first_temp(src: Any, dst: Any) -> None:
        # Everything fails once the first new file is in place: the commit and every
        # attempt to put an old file back.
        nonlocal calls
        calls += 1
        if calls > 1 + 5 + 1:
            raise OSError(errno.EIO, "the disk went away")
        real(src, dst)

    monkeypatch.setattr(os, "replace", fail_after_first_temp)
    with pytest.raises(IncompleteRollbackError) as info:
        outputs.commit()
    err = info.value
    assert err.errno == errno.EIO and isinstance(err, OSError)
    assert err.journal.exists() and str(err.journal) in str(err)
    assert {p.name for p in err.finals} == OLD.keys()  # every old file is still aside
    monkeypatch.setattr(os, "replace", real)
    # This process is still alive, so its journal is left alone ...
    assert clean_stale([tmp_path / "out.npy"]).restored == ()
    # ... until it has gone: a journal named after a dead process is rolled back.
    err.journal.rename(err.journal.with_name(err.journal.name.replace(f".{os.getpid()}-", f".{dead_pid()}-")))
    recovered = clean_stale([tmp_path / "out.npy"])
    assert {p.name for p in recovered.restored} == OLD.keys()
    assert snapshot(tmp_path) == OLD


def test_a_failing_commit_point_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lay_out(tmp_path, OLD)
    outputs = stage(tmp_path)
    real = os.unlink
    failed: list[str] = []

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        if str(path).endswith(".chemtok-journal") and not failed:
            failed.append(str(path))
            raise PermissionError(errno.EACCES, "injected", str(path))
        real(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(PermissionError):
        outputs.commit()
    assert failed and snapshot(tmp_path) == OLD


@given(
    old=st.lists(st.booleans(), min_size=4, max_size=4),
    new=st.lists(st.sampled_from(["write", "delete", "keep"]), min_size=4, max_size=4),
    k=st.integers(min_value=1, max_value=12),
    every=st.booleans(),
)
def test_hyp_any_set_and_any_failing_rename_is_all_or_nothing(old: list[bool], new: list[str], k: int, every: bool) -> None:
    names = ["mol.npy", "mol.offsets.npy", "mol.meta.json", "mol.errors.jsonl"]
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        before = {n: f"old {n}".encode() for n, present in zip(names, old) if present}
        lay_out(directory, before)
        after = dict(before)
        outputs = OutputSet([directory / n for n in names], fsync=False)
        for name, action in zip(names, new):
            if action == "write":
                outputs.temp_path(directory / name).write_bytes(f"new {name}".encode())
                after[name] = f"new {name}".encode()
            elif action == "delete":
                outputs.delete_on_commit(directory / name)
                after.pop(name, None)
        failing = FailingCalls(k, every=every)
        with mock.patch.object(os, "replace", failing):
            try:
                outputs.commit()
            except OSError:
                assert failing.failures >= 1
                assert snapshot(directory) == before
            else:
                assert failing.failures == 0
                assert snapshot(directory) == after


# -- a full disk ----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted on a fresh directory; skips where mounting is not allowed."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if not sys.platform.startswith("linux"):
        pytest.skip("tmpfs mounts are a Linux feature")
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"cannot mount a tmpfs: {err}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=CHILD_TIMEOUT, check=False)


def fill(path: Path) -> None:
    """Write ``path`` until the disk is full (unbuffered, so it stops exactly there)."""
    with open(path, "ab", buffering=0) as handle:
        block = b"\0" * 4096
        with pytest.raises(OSError) as info:
            while True:
                handle.write(block)
    assert info.value.errno == errno.ENOSPC


def test_a_full_disk_while_writing_leaves_no_temporary_and_the_old_files(small_disk: Path) -> None:
    lay_out(small_disk, OLD)
    outputs = OutputSet([small_disk / n for n in FINALS])
    with pytest.raises(OSError) as info, outputs, outputs.open_temp(small_disk / "out.npy") as handle:
        for _ in range(8):
            handle.write(b"\1" * (256 << 10))  # twice the disk, in all
    assert info.value.errno == errno.ENOSPC
    assert snapshot(small_disk) == OLD


def test_a_full_disk_on_the_last_flush_fails_the_commit_cleanly(small_disk: Path) -> None:
    lay_out(small_disk, OLD)
    outputs = OutputSet([small_disk / n for n in FINALS])
    outputs.temp_path(small_disk / "out.offsets.npy").write_bytes(b"\2" * (700 << 10))
    handle = outputs.open_temp(small_disk / "out.npy", buffering=1 << 20)
    handle.write(b"\1" * (600 << 10))  # still in the buffer: the disk is not full yet
    with pytest.raises(OSError) as info:
        outputs.commit()
    assert info.value.errno == errno.ENOSPC
    assert snapshot(small_disk) == OLD


def test_a_full_disk_for_the_journal_fails_the_commit_cleanly(small_disk: Path) -> None:
    lay_out(small_disk, OLD)
    outputs = stage(small_disk)
    fill(outputs.temp_path(small_disk / "padding.bin"))
    with pytest.raises(OSError) as info:
        outputs.commit()
    assert info.value.errno == errno.ENOSPC
    assert snapshot(small_disk) == OLD


# -- killed runs ----------------------------------------------------------------------

# A run that stages NEW over the old files in a directory and is SIGKILLed just before
# the k-th rename or delete of its commit.
_KILLED_CHILD = textwrap.dedent(
    f"""
    import os, signal, sys
    from pathlib import Path
    from chemtok.io.commit import OutputSet

    directory, k = Path(sys.argv[1]), int(sys.argv[2])
    outputs = OutputSet([directory / name for name in {FINALS!r}])
    for name, data in {NEW!r}.items():
        outputs.temp_path(directory / name).write_bytes(data)
    outputs.delete_on_commit(directory / "out.sources.npy")
    calls = 0
    def counted(real):
        def call(*args, **kwargs):
            global calls
            calls += 1
            if calls == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return call
    os.replace, os.unlink = counted(os.replace), counted(os.unlink)
    outputs.commit()
    """
)
# The commit's calls: the journal, 5 old files aside, 5 new files in, the journal
# deleted (the commit point), 5 backups deleted.
_COMMIT_POINT = REPLACES + 1
_COMMIT_CALLS = _COMMIT_POINT + 5


def run_child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("k", range(1, _COMMIT_CALLS + 2))
def test_a_run_killed_at_any_step_is_recovered_by_the_next_run(tmp_path: Path, k: int) -> None:
    lay_out(tmp_path, OLD)
    done = run_child(_KILLED_CHILD, str(tmp_path), str(k))
    if k > _COMMIT_CALLS:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == -signal.SIGKILL, done.stderr
        assert hidden(tmp_path)  # the killed run left hidden files behind
    # The next run on the same output:
    outputs = OutputSet([tmp_path / name for name in FINALS])
    assert snapshot(tmp_path) == (OLD if k <= _COMMIT_POINT else NEW)
    moved_aside = min(max(k - 2, 0), 5) if k <= _COMMIT_POINT else 0  # calls 2..6 move old files aside
    assert len(outputs.recovered.restored) == moved_aside
    outputs.abort()


def test_a_killed_commit_is_rolled_back_after_its_folder_was_moved(tmp_path: Path) -> None:
    first, moved = tmp_path / "run", tmp_path / "moved"
    lay_out(first, OLD)
    done = run_child(_KILLED_CHILD, str(first), str(1 + 5 + 2))  # two new files already in place
    assert done.returncode == -signal.SIGKILL, done.stderr
    first.rename(moved)
    OutputSet([moved / name for name in FINALS]).abort()
    assert snapshot(moved) == OLD


def test_stale_files_of_dead_processes_go_and_everything_else_stays(tmp_path: Path) -> None:
    dead, alive, parent = dead_pid(), os.getpid(), os.getppid()
    keep = {
        "out.npy": b"ids",
        f".out.npy.{alive}-0000000a.chemtok-tmp": b"this process is still writing",
        f".out.npy.{parent}-0000000b.chemtok-tmp": b"so is its parent",
        f".other.npy.{dead}-0000000c.chemtok-tmp": b"another output's leftovers",
        ".out.npy.0123abcd.chemtok-tmp": b"an older chemtok's name: no pid, so not provably stale",
        f".out.npy.{dead}-0000000d.chemtok-tmp.keep": b"not our name",
        "notes.txt": b"unrelated",
    }
    stale = {
        f".out.npy.{dead}-0000000e.chemtok-tmp": b"half-written ids",
        f".out.meta.json.{dead}-0000000f.chemtok-old": b"a backup after the commit point",
    }
    lay_out(tmp_path, {**keep, **stale})
    recovered = clean_stale([tmp_path / "out.npy", tmp_path / "out.meta.json"])
    assert sorted(p.name for p in recovered.removed) == sorted(stale)
    assert recovered.restored == ()
    assert snapshot(tmp_path) == keep


def test_the_constructor_cleans_and_a_late_final_is_cleaned_too(tmp_path: Path) -> None:
    dead = dead_pid()
    lay_out(tmp_path, {f".out.npy.{dead}-00000001.chemtok-tmp": b"x", f".bad.jsonl.{dead}-00000002.chemtok-tmp": b"y"})
    outputs = OutputSet([tmp_path / "out.npy"])
    assert [p.name for p in outputs.recovered.removed] == [f".out.npy.{dead}-00000001.chemtok-tmp"]
    outputs.temp_path(tmp_path / "bad.jsonl").write_bytes(b"errors")
    outputs.commit()
    assert snapshot(tmp_path) == {"bad.jsonl": b"errors"}


def write_journal(directory: Path, pid: int, entries: list[dict[str, str | None]]) -> Path:
    journal = directory / f".out.npy.{pid}-00000099.chemtok-journal"
    journal.write_text(json.dumps({"chemtok_journal": 1, "pid": pid, "entries": entries}))
    return journal


def test_a_journal_that_is_not_ours_to_judge_is_left_alone(tmp_path: Path) -> None:
    dead = dead_pid()
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    lay_out(elsewhere, {".victim.txt.1-00000001.chemtok-old": b"x"})
    lay_out(tmp_path, {"out.npy": b"new", "victim.txt": b"precious"})
    # A dead run's journal that points outside the names this module gives is refused whole.
    forged = write_journal(
        tmp_path,
        dead,
        [
            {"final": str(tmp_path / "out.npy"), "temp": None, "backup": None},
            {"final": str(tmp_path / "victim.txt"), "temp": None, "backup": str(elsewhere / ".victim.txt.1-00000001.chemtok-old")},
        ],
    )
    corrupt = tmp_path / f".out.npy.{dead}-00000098.chemtok-journal"
    corrupt.write_bytes(b'{"chemtok_journal": 1, "entr')
    before = snapshot(tmp_path)
    assert clean_stale([tmp_path / "out.npy"]).removed == ()
    assert snapshot(tmp_path) == before and forged.exists() and corrupt.exists()


def test_a_live_runs_journal_protects_its_backups(tmp_path: Path) -> None:
    dead = dead_pid()
    backup = tmp_path / f".out.npy.{dead}-00000001.chemtok-old"
    lay_out(tmp_path, {backup.name: b"old ids", "out.npy": b"new ids"})
    write_journal(tmp_path, os.getppid(), [{"final": str(tmp_path / "out.npy"), "temp": None, "backup": str(backup)}])
    clean_stale([tmp_path / "out.npy"])
    assert backup.read_bytes() == b"old ids"
