"""Commit every output file of a run together, or none of them, and clean up after killed runs.

(:mod:`chemtok.io.guards` has the other two protections of a run's outputs: SIGTERM
handled like Ctrl-C, and user-given paths that are outputs refused.)

A ``chemtok tokenize`` run writes several files that only make sense together: the ids
(``out.npy``), their offsets and record numbers, the metadata sidecar and the errors
file. :class:`OutputSet` writes each of them under a hidden temporary name in the final
file's own directory and moves them into place in :meth:`OutputSet.commit`.

**The guarantee.** When :meth:`~OutputSet.commit` returns, every final path holds its
new content. When it raises (a rename fails, a full disk on the last flush, Ctrl-C or
SIGTERM during the commit), every final path holds exactly what it held before - the
same files, renamed back - and no temporary, backup or journal file is left; the one
exception is :class:`IncompleteRollbackError`, raised when even renaming the old files
back fails (or a second Ctrl-C interrupts the roll-back): the journal then stays, and
the next run on the same output finishes the roll-back. :meth:`~OutputSet.abort` (or leaving the ``with`` block by an exception)
removes every temporary file and never touches the finals. The set is atomic for the
next run and for anyone who reads after the commit or after a failure; a reader running
*during* the few renames of a commit can see some files new and some old, or a final
briefly missing.

**The protocol.** ``commit()`` (1) closes and fsyncs the temporary files, (2) writes a
journal ``.OUT.PID-TAG.chemtok-journal`` (atomically: temporary file, fsync, rename)
that lists, for each final, its temporary file and the backup name its old file will
get, (3) renames each existing final to its backup ``.NAME.PID-TAG.chemtok-old``, (4)
renames each temporary file to its final name, (5) deletes the journal - the commit
point - and (6) deletes the backups. A failure before (5) renames the backups back.

**What a crash (SIGKILL, power loss) leaves, and what the next run does.** The next
:class:`OutputSet` on any of the same final paths (or :func:`clean_stale`) recognises
files whose name holds a pid that is no longer running:

=====================================  ==================================  =================
killed during                          left in the directory               next run
=====================================  ==================================  =================
writing the temporary files            old finals + temporary files        deletes them: old
writing the journal (step 2)           the same + the journal's temp file  deletes them: old
steps 3-4 (journal in place)           a mix + journal + backups + temps   rolls back: old
step 6 (journal gone)                  new finals + some backups           deletes them: new
=====================================  ==================================  =================

Files of a running process (its pid is alive), files named after other outputs, and
other people's files are never touched. A pid reused by an unrelated process only makes
a stale file wait for a later run. Pids are only meaningful on one host: do not let runs
on several machines (or pid namespaces) write the same output directory. On Windows,
where a pid cannot be probed safely, stale files are left alone.

Example:
    >>> import os, tempfile
    >>> from chemtok.io.commit import OutputSet
    >>> folder = tempfile.mkdtemp()
    >>> ids, meta = os.path.join(folder, "mols.npy"), os.path.join(folder, "mols.meta.json")
    >>> with OutputSet([ids, meta]) as outputs:
    ...     with outputs.open_temp(ids) as handle:
    ...         _ = handle.write(b"CCO ids")
    ...     _ = outputs.temp_path(meta).write_text('{"modality": "smiles"}')
    >>> sorted(os.listdir(folder))
    ['mols.meta.json', 'mols.npy']
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "BACKUP_SUFFIX",
    "JOURNAL_SUFFIX",
    "TEMP_SUFFIX",
    "IncompleteRollbackError",
    "OutputSet",
    "Recovered",
    "clean_stale",
]

#: Every hidden file of this module is ``.NAME.PID-TAG`` followed by one of these.
TEMP_SUFFIX = ".chemtok-tmp"
BACKUP_SUFFIX = ".chemtok-old"
JOURNAL_SUFFIX = ".chemtok-journal"

# NAME is the final file's name; PID the writing process; TAG 8 random hex digits, so
# two sets of one process never collide. The suffix keeps today's ``.chemtok-tmp``.
_HIDDEN = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]{1,10})-(?P<tag>[0-9a-f]{8})\.chemtok-(?P<kind>tmp|old|journal)$")
_JOURNAL_VERSION = 1
# Renaming the old files back is retried: a transient failure (the one that broke the
# commit) should not leave the directory waiting for the next run.
_ROLLBACK_ATTEMPTS = 3


def _hidden_name(final: Path, suffix: str) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` may be a running process; ``True`` whenever unsure."""
    if pid == os.getpid() or os.name == "nt" or pid <= 0:  # Windows: os.kill(pid, 0) terminates
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: alive, someone else's
        return True
    return True


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some systems cannot fsync a directory; the renames stand
        _fsync(directory)


@dataclass(frozen=True)
class _Entry:
    """One final path of a commit: its new file (``None``: delete) and its old file's backup."""

    final: Path
    temp: Path | None
    backup: Path | None

    def to_json(self, base: Path) -> dict[str, str | None]:
        """Paths relative to the journal's directory, so a moved output folder still recovers."""
        return {key: None if value is None else _relative(value, base) for key, value in vars(self).items()}


def _relative(path: Path, base: Path) -> str:
    try:
        return os.path.relpath(path, base)
    except ValueError:  # another drive (Windows)
        return str(path)


def _roll_back(entries: Sequence[_Entry]) -> list[Path]:
    """Give each final its old file back; idempotent. Returns the finals that failed."""
    failed: list[Path] = []
    for entry in reversed(entries):
        try:
            if entry.backup is not None and os.path.lexists(entry.backup):
                os.replace(entry.backup, entry.final)
            elif entry.backup is None and entry.temp is not None and not os.path.lexists(entry.temp):
                _unlink(entry.final)  # no old file, and the new one was already moved into place
            if entry.temp is not None:
                _unlink(entry.temp)
        except OSError:
            failed.append(entry.final)
    return failed


def _roll_back_fully(entries: Sequence[_Entry]) -> list[Path]:
    """:func:`_roll_back`, retried; the finals still not restored."""
    failed = _roll_back(entries)
    for _ in range(_ROLLBACK_ATTEMPTS - 1):
        if not failed:
            break
        failed = _roll_back(entries)
    return failed


def _write_journal(path: Path, entries: Sequence[_Entry], *, temp: Path, fsync: bool) -> None:
    """Write the journal atomically: ``temp`` (a temporary file of the set), fsync, rename."""
    body = {"chemtok_journal": _JOURNAL_VERSION, "pid": os.getpid(), "entries": [e.to_json(path.parent) for e in entries]}
    try:
        with open(temp, "xb") as handle:
            handle.write(json.dumps(body, indent=1).encode("utf-8"))
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        _unlink(temp)
        raise
    if fsync:
        _fsync_dir(path.parent)


def _read_journal(path: Path) -> list[_Entry] | None:
    """The entries of a journal, or ``None`` when it is not one this module wrote."""
    try:
        body = json.loads(path.read_bytes())
        rows = body["entries"]
        if body.get("chemtok_journal") != _JOURNAL_VERSION or not isinstance(rows, list):
            return None
        base = path.parent
        entries = [
            _Entry(_absolute(base / row["final"]), *(None if row[k] is None else _absolute(base / row[k]) for k in ("temp", "backup")))
            for row in rows
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    # Act only on the files this module names after each final, beside it: a damaged or
    # foreign journal must not make a run rename or delete anything else.
    for entry in entries:
        for hidden, kind in ((entry.temp, "tmp"), (entry.backup, "old")):
            if hidden is None:
                continue
            match = _HIDDEN.match(hidden.name)
            if match is None or hidden.parent != entry.final.parent or match["name"] != entry.final.name or match["kind"] != kind:
                return None
    return entries


@dataclass(frozen=True)
class Recovered:
    """What :func:`clean_stale` did to the leftovers of killed runs.

    Attributes:
        restored: finals given their old file back from an interrupted commit.
        removed: stale temporary files, backups and journals deleted.
    """

    restored: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.fspath(path)))


def clean_stale(final_paths: Iterable[str | os.PathLike[str]]) -> Recovered:
    """Finish what killed runs left behind for these final paths: roll back, then delete.

    A journal of a dead process that names any of ``final_paths`` is rolled back (its
    commit never reached the commit point), then deleted. Then the hidden files named
    after one of ``final_paths`` whose pid is dead - temporary files and backups no
    journal still needs - are deleted. Nothing of a live process and nothing named
    after another file is touched. :class:`OutputSet` calls this when it is made.

    Args:
        final_paths: every file a run writes (the output and all its sidecars).

    Returns:
        Which finals were restored and which files were removed.

    Example:
        >>> import os, tempfile
        >>> from chemtok.io.commit import clean_stale
        >>> folder = tempfile.mkdtemp()
        >>> # a temporary file left by a process that no longer runs (pid 4194304 > pid_max)
        >>> open(os.path.join(folder, ".mols.npy.4194304-0123abcd.chemtok-tmp"), "w").close()
        >>> [p.name for p in clean_stale([os.path.join(folder, "mols.npy")]).removed]
        ['.mols.npy.4194304-0123abcd.chemtok-tmp']
    """
    finals = {_absolute(p) for p in final_paths}
    names: dict[Path, set[str]] = {}
    for final in finals:
        names.setdefault(final.parent, set()).add(final.name)
    restored: list[Path] = []
    removed: list[Path] = []
    needed: set[Path] = set()  # backups and temporaries that a journal kept (live or failed)
    stale: list[Path] = []
    for directory, wanted in names.items():
        try:
            listing = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        journals: list[tuple[Path, bool]] = []
        for item in listing:
            match = _HIDDEN.match(item.name)
            if match is None:
                continue
            path = directory / item.name
            dead = not _pid_alive(int(match["pid"]))
            if match["kind"] == "journal":
                journals.append((path, dead))
            elif dead and match["name"] in wanted:
                stale.append(path)
        for journal, dead in journals:
            entries = _read_journal(journal)
            if entries is None:
                continue  # not ours to judge; leave it
            hidden = {p for e in entries for p in (e.temp, e.backup) if p is not None}
            if not dead or not finals.intersection(e.final for e in entries):
                needed |= hidden
                continue
            backed_up = [e.final for e in entries if e.backup is not None and os.path.lexists(e.backup)]
            if _roll_back_fully(entries):
                needed |= hidden
                continue
            restored += backed_up
            with contextlib.suppress(OSError):
                os.unlink(journal)
                removed.append(journal)
    for path in stale:
        if path in needed or not os.path.lexists(path):
            continue
        with contextlib.suppress(OSError):
            os.unlink(path)
            removed.append(path)
    return Recovered(tuple(restored), tuple(removed))


class IncompleteRollbackError(OSError):
    """A commit failed and not every old file could be renamed back.

    The journal stays in the output's directory; the next :class:`OutputSet` on the
    same output (or :func:`clean_stale`) finishes restoring the old files.

    Attributes:
        journal: the journal file that lists the renames still to undo.
        finals: the final paths whose old file is not back yet.
    """

    def __init__(self, cause: BaseException, journal: Path, finals: Sequence[Path]) -> None:
        self.journal = journal
        self.finals = tuple(finals)
        errno = cause.errno if isinstance(cause, OSError) else None
        listed = ", ".join(str(p) for p in self.finals)
        super().__init__(
            errno,
            f"the commit failed ({cause}) and the old files of {listed} could not be restored yet; "
            f"the journal {journal} stays and the next run on this output restores them",
        )


class OutputSet:
    """The files of one run, made visible all together by :meth:`commit`, or not at all.

    Hand out a hidden temporary file per final path (:meth:`temp_path`, :meth:`open_temp`),
    write them, then :meth:`commit`. Use it as a context manager: a block that ends
    normally commits, one that raises aborts. Making a set first cleans what killed runs
    left for these paths (see :func:`clean_stale`; the result is :attr:`recovered`).

    Args:
        final_paths: every file the run may write or replace (the output, its sidecars,
            the errors file); the first names the journal. More can be added later by
            :meth:`temp_path` or :meth:`delete_on_commit`.
        fsync: make the new files and renames durable before the commit point (off
            only for scratch output; a crash may then leave empty "new" files).
        recover: clean up after killed runs first.

    Example:
        >>> import os, tempfile
        >>> from chemtok.io.commit import OutputSet
        >>> folder = tempfile.mkdtemp()
        >>> out = os.path.join(folder, "ethanol.jsonl")
        >>> outputs = OutputSet([out])
        >>> _ = outputs.temp_path(out).write_text('{"record": 1, "ids": [5, 5, 9]}\\n')
        >>> [p.name for p in outputs.commit()]
        ['ethanol.jsonl']
    """

    def __init__(self, final_paths: Sequence[str | os.PathLike[str]], *, fsync: bool = True, recover: bool = True) -> None:
        self.finals: list[Path] = []
        for path in final_paths:
            final = _absolute(path)
            if final not in self.finals:
                self.finals.append(final)
        if not self.finals:
            raise ValueError("an OutputSet needs at least one final path")
        self.fsync = fsync
        self.recovered = clean_stale(self.finals) if recover else Recovered()
        self._temps: dict[Path, Path] = {}
        self._deleted: list[Path] = []
        self._scratch: list[Path] = []
        self._handles: list[IO[bytes]] = []
        self._state = "open"

    def _add(self, path: str | os.PathLike[str], *, once: bool = True) -> Path:
        if self._state != "open":
            raise RuntimeError(f"this OutputSet is already {self._state}")
        final = _absolute(path)
        if once and (final in self._temps or final in self._deleted):
            raise ValueError(f"{final} already has a temporary file or is to be deleted in this OutputSet")
        if final not in self.finals:
            clean_stale([final])
            self.finals.append(final)
        return final

    def temp_path(self, final: str | os.PathLike[str]) -> Path:
        """Create the empty temporary file that :meth:`commit` will rename to ``final``.

        It is ``.NAME.PID-TAG.chemtok-tmp`` in ``final``'s directory, so the rename is
        atomic; created exclusively, never over an existing file.

        Args:
            final: the path the file is to have after the commit.

        Returns:
            The temporary path: write it by name (e.g. ``pyarrow.parquet.ParquetWriter``).

        Raises:
            ValueError: ``final`` already has one.
            OSError: it cannot be created (a missing directory, no permission).
        """
        final_path = self._add(final)
        temp = _hidden_name(final_path, TEMP_SUFFIX)
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask decides
        self._temps[final_path] = temp
        return temp

    def open_temp(self, final: str | os.PathLike[str], *, buffering: int = 1 << 20) -> IO[bytes]:
        """Open a new temporary file for ``final`` for binary writing.

        The set closes the handle at :meth:`commit` or :meth:`abort` if it is still open;
        a write error on that last flush (a full disk) fails the commit.

        Args:
            final: the path the file is to have after the commit.
            buffering: the buffer size in bytes.
        """
        temp = self.temp_path(final)
        handle = open(temp, "wb", buffering=buffering)  # noqa: SIM115 - the set closes it
        self._handles.append(handle)
        return handle

    def open_scratch(self, name: str | os.PathLike[str], *, buffering: int = 1 << 20) -> tuple[Path, IO[bytes]]:
        """Open a hidden working file named after ``name`` that is never committed.

        For data a writer needs only until the commit (the ``.bin`` writer's lengths and
        pointers before they are appended to ``.idx``): it is deleted by :meth:`commit`
        and :meth:`abort`, and by the next run when this one is killed, if that run lists
        ``name`` among its final paths too.

        Args:
            name: a path in the directory the file is to be made in, e.g. ``out.lengths.scratch``.
            buffering: the buffer size in bytes.

        Returns:
            The scratch file's path and a handle open for binary writing.
        """
        scratch = _hidden_name(self._add(name, once=False), TEMP_SUFFIX)
        fd = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        self._scratch.append(scratch)
        handle = os.fdopen(fd, "w+b", buffering=buffering)
        self._handles.append(handle)
        return scratch, handle

    def delete_on_commit(self, final: str | os.PathLike[str]) -> None:
        """Have the commit remove ``final`` (if it exists) together with the other renames.

        For an old sidecar the new run does not write (``out.sources.npy`` of an older
        run with several inputs): it must not stay beside the new files. A failed
        commit puts it back.
        """
        self._deleted.append(self._add(final))

    def commit(self) -> list[Path]:
        """Move every temporary file to its final name, all together or none at all.

        Returns:
            The final paths written, in the order their temporary files were made.

        Raises:
            OSError: a flush, fsync or rename failed; the old files are back and no
                temporary file is left (:class:`IncompleteRollbackError`: not yet).
            RuntimeError: the set is already committed or aborted.
        """
        if self._state != "open":
            raise RuntimeError(f"this OutputSet is already {self._state}")
        self._state = "committing"
        entries: list[_Entry] = []
        journal = _hidden_name(self.finals[0], JOURNAL_SUFFIX)
        try:
            for handle in self._handles:
                handle.close()  # the last flush: a full disk fails the commit here
            for temp in self._temps.values():
                if self.fsync:
                    _fsync(temp)
                elif not os.path.lexists(temp):
                    raise FileNotFoundError(2, "a temporary file of this commit is missing", str(temp))
            moves: list[tuple[Path, Path | None]] = [*self._temps.items(), *((f, None) for f in self._deleted)]
            for final, new in moves:
                old = os.path.lexists(final)
                if new is None and not old:
                    continue
                entries.append(_Entry(final, new, _hidden_name(final, BACKUP_SUFFIX) if old else None))
            _write_journal(journal, entries, temp=_hidden_name(self.finals[0], TEMP_SUFFIX), fsync=self.fsync)
            for entry in entries:
                if entry.backup is not None:
                    os.replace(entry.final, entry.backup)
            for entry in entries:
                if entry.temp is not None:
                    os.replace(entry.temp, entry.final)
            if self.fsync:
                for directory in {e.final.parent for e in entries}:
                    _fsync_dir(directory)
            os.unlink(journal)  # the commit point
        except BaseException as err:
            self._state = "aborted"
            # Idempotent, so also right when the failure came before the journal or the
            # first rename: nothing is moved then, and only the temporary files go.
            failed = _roll_back_fully(entries)
            self._remove_temps()
            if failed:
                raise IncompleteRollbackError(err, journal, failed) from err
            with contextlib.suppress(OSError):  # left behind, it names nothing to undo
                _unlink(journal)
            raise
        self._state = "committed"
        if self.fsync:
            _fsync_dir(journal.parent)
        for scratch in self._scratch:
            with contextlib.suppress(OSError):
                _unlink(scratch)
        for entry in entries:
            if entry.backup is not None:
                with contextlib.suppress(OSError):  # a stale backup: the next run deletes it
                    os.unlink(entry.backup)
        return list(self._temps)

    def abort(self) -> None:
        """Remove every temporary file; the finals stay as they are. Safe to call twice."""
        if self._state in ("committed", "aborted"):
            return
        self._state = "aborted"
        self._remove_temps()

    def _remove_temps(self) -> None:
        for handle in self._handles:
            with contextlib.suppress(OSError, ValueError):
                handle.close()
        # A close that failed (a full disk on the last flush) still releases the file.
        self._handles = []
        for temp in [*self._temps.values(), *self._scratch]:
            with contextlib.suppress(OSError):
                _unlink(temp)

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is not None:
            self.abort()
        elif self._state == "open":
            self.commit()

    def __repr__(self) -> str:
        return f"<OutputSet {self.finals[0].name} +{len(self.finals) - 1} {self._state}>"
