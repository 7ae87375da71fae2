"""``chemtok bench``: its arguments and run belong to :mod:`chemtok.bench`, imported only when asked for."""

from __future__ import annotations

from typing import Any

from chemtok.cli.common import Formatter

__all__ = ["add_parser"]


def add_parser(sub: Any, bench: Any) -> None:
    """Add ``bench`` to ``sub``; ``bench`` is the imported :mod:`chemtok.bench`, or ``None`` (a stub for ``--help``)."""
    if bench is None:
        sub.add_parser("bench", help="token efficiency against GPT-2, Llama or any tokenizer.json", add_help=False)
        return
    p = sub.add_parser(
        "bench",
        help="token efficiency against GPT-2, Llama or any tokenizer.json",
        description=(bench.__doc__ or "").strip().splitlines()[0] if bench.__doc__ else None,
        formatter_class=Formatter,
    )
    bench.add_arguments(p)
    p.set_defaults(handler=bench.run)
