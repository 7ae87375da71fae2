"""Guards around a run's outputs: SIGTERM handled like Ctrl-C, and user paths that are outputs refused.

:func:`interrupt_on_sigterm` turns SIGTERM (what ``kill``, ``timeout``, systemd and job
schedulers send) into a ``KeyboardInterrupt``, so the cleanup path that Ctrl-C takes
removes an unfinished output (see :mod:`chemtok.io.commit`) instead of leaving hundreds of
MB of hidden temporary files. :func:`check_not_an_output` refuses an input or an
``--errors`` path that is one of the files the run writes, before anything is written.

Example:
    >>> from chemtok.io.guards import check_not_an_output, interrupt_on_sigterm
    >>> outputs = ["caffeine.npy", "caffeine.offsets.npy", "caffeine.meta.json"]
    >>> with interrupt_on_sigterm():
    ...     check_not_an_output("caffeine.smi", outputs)
    ...     check_not_an_output("caffeine.errors.jsonl", outputs, role="--errors")
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from chemtok.errors import ChemtokError

__all__ = ["OutputClashError", "Terminated", "check_not_an_output", "interrupt_on_sigterm"]


class OutputClashError(ChemtokError, ValueError):
    """A path the user gave (an input, ``--errors``) is one of the files the run writes.

    Attributes:
        path: the path as the user gave it.
        output: the output or sidecar it is the same file as.
        role: what the user meant it to be (``"input"``, ``"--errors"``).
    """

    def __init__(self, path: str, output: str, role: str, outputs: Sequence[str] = (), instead: str | None = None) -> None:
        self.path = path
        self.output = output
        self.role = role
        self.outputs = tuple(outputs)
        self.instead = instead
        same = "" if os.path.abspath(path) == os.path.abspath(output) else f" (the same file as {output!r})"
        listed = f" ({', '.join(self.outputs)})" if self.outputs else ""
        hint = f", e.g. {instead}" if instead else ""
        super().__init__(
            f"the {role} {path!r} is one of the files this run writes{same}, so it would be overwritten; "
            f"pass a {role} path that is none of them{listed}{hint}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.output, self.role, self.outputs, self.instead))


def _same_file(a: Path, b: Path) -> bool:
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:  # one of them does not exist yet
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_not_an_output(
    path: str | os.PathLike[str],
    outputs: Iterable[str | os.PathLike[str]],
    *,
    role: str = "input",
    instead: str | None = None,
) -> None:
    """Refuse a user-given path that is one of the run's outputs or sidecars.

    ``--errors out.meta.json`` while writing ``out.npy`` would overwrite the metadata;
    an input that is (a link to) ``out.offsets.npy`` would be truncated before it is
    read. Paths compare as the same file (hard and symbolic links) or, for files that
    do not exist yet, as the same resolved path. ``-`` (standard input or output) never
    clashes.

    Args:
        path: the path the user gave.
        outputs: every file the run writes (e.g. :attr:`chemtok.io.commit.OutputSet.finals`).
        role: how the message names ``path`` (``"input"``, ``"--errors"``).
        instead: an example of a path to pass instead, shown in the message.

    Raises:
        OutputClashError: ``path`` is one of ``outputs``.

    Example:
        >>> from chemtok.io.guards import check_not_an_output
        >>> check_not_an_output("aspirin.smi", ["aspirin.npy", "aspirin.meta.json"])
        >>> check_not_an_output("aspirin.meta.json", ["aspirin.npy", "aspirin.meta.json"], role="--errors")
        Traceback (most recent call last):
        ...
        chemtok.io.guards.OutputClashError: the --errors 'aspirin.meta.json' is one of the files this run writes, so it would be overwritten; pass a --errors path that is none of them (aspirin.npy, aspirin.meta.json)
    """
    given = os.fspath(path)
    if given == "-":
        return
    listed = [os.fspath(p) for p in outputs if os.fspath(p) != "-"]
    for output in listed:
        if _same_file(Path(given), Path(output)):
            raise OutputClashError(given, output, role, listed, instead)


class Terminated(KeyboardInterrupt):
    """The run was asked to stop by a signal (SIGTERM); a :class:`KeyboardInterrupt`.

    Attributes:
        signum: the signal number (``signal.SIGTERM``).
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"terminated by {signal.Signals(signum).name}")


@contextlib.contextmanager
def interrupt_on_sigterm(*, signals: Sequence[int] = (signal.SIGTERM,)) -> Iterator[None]:
    """Turn SIGTERM into a :class:`Terminated` (a ``KeyboardInterrupt``) while the block runs.

    A plain SIGTERM kills the process without running ``finally`` blocks, leaving the
    temporary files of an unfinished output behind; handled like SIGINT, the run's
    cleanup path removes them. The first signal raises in the main thread; one more
    during the cleanup is ignored, so the cleanup finishes. The previous handlers come
    back when the block ends. Off the main thread (where Python cannot set handlers),
    and for a signal the process was started with ignored, this does nothing.

    Args:
        signals: the signals to handle (``signal.SIGHUP`` may be added).

    Example:
        >>> import os, signal
        >>> from chemtok.io.guards import Terminated, interrupt_on_sigterm
        >>> try:
        ...     with interrupt_on_sigterm():
        ...         os.kill(os.getpid(), signal.SIGTERM)
        ... except KeyboardInterrupt as err:
        ...     print(isinstance(err, Terminated), err)
        True terminated by SIGTERM
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise Terminated(signum)

    previous: dict[int, Any] = {}
    try:
        for signum in signals:
            old = signal.getsignal(signum)
            if old == signal.SIG_IGN:
                continue
            signal.signal(signum, handler)
            previous[signum] = old
        yield
    finally:
        for signum, old in previous.items():
            # None: a handler not set from Python; the default is the closest we can restore.
            signal.signal(signum, signal.SIG_DFL if old is None else old)
