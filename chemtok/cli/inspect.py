"""``chemtok inspect``: how one string is tokenized, token by token."""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from typing import Any

from chemtok.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    MODALITIES,
    ROUTER_ALIASES,
    ROUTER_MODALITY,
    Formatter,
    add_markers_option,
    canonical_modality,
    err,
    load_tokenizer,
    visible,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Add ``inspect`` to the subcommands ``sub``."""
    p = sub.add_parser(
        "inspect",
        help="show how a string is tokenized: boundaries, modality and id of each token",
        description="Print the segmentation of one string: the string cut at token boundaries, then one row per token.",
        epilog='examples:\n  chemtok inspect "Aspirin is [START_SMILES]CC(=O)Oc1ccccc1C(=O)O[END_SMILES]."\n'
        '  chemtok inspect --modality smiles "C[C@@H](N)C(=O)O"\n'
        '  chemtok inspect "CC(=O)O"   # unmarked: detected as SMILES\n',
        formatter_class=Formatter,
    )
    p.add_argument("string", metavar="STRING", help="the string to tokenize ('-' reads it from standard input)")
    p.add_argument(
        "--modality", type=canonical_modality, choices=MODALITIES,
        help=f"default: {ROUTER_MODALITY} (the marker router; alias: {', '.join(ROUTER_ALIASES)}), with unmarked SMILES, InChI, proteins and DNA found and marked first (chemtok.annotate)",
    )
    p.add_argument("--tokenizer", metavar="DIR", help="tokenizer.json for the text model (text or mixed)")
    p.add_argument("--strict-markers", action=argparse.BooleanOptionalAction, default=True, help="mixed: fail on bad markers (default)")
    add_markers_option(p)
    p.add_argument("--engine", choices=("auto", "native", "python"), default="auto", help="tokenizer engine")
    p.add_argument("--smiles-model", default="atom", metavar="MODEL", help="atom (default), compact, or a trained model directory")
    p.set_defaults(handler=run)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    modality: str
    id: int
    token: str


def _inspect_spans(tok: Any, text: str) -> list[_Span]:
    """One row per token, from the tokenizer's ``encode_with_offsets``."""
    enc = tok.encode_with_offsets(text)  # raises TokenizationError (with the caret) for bad input
    return [
        _Span(start, end, modality, token_id, token)
        for token_id, token, (start, end), modality in zip(enc.ids, enc.tokens, enc.offsets, enc.modalities)
    ]


#: The modality shown for a marker detection inserted (it stands on no character of the input).
_INSERTED = "inserted"


def _detected_spans(tok: Any, text: str) -> tuple[list[_Span], list[tuple[int, int]]]:
    """The rows of ``text`` with detected chemistry marked, in ``text``'s own coordinates.

    Each inserted marker is an empty span at its insertion point, modality ``inserted``;
    the other tokens keep the characters of ``text`` they stand for. Also returns the
    insertions as ``(position in the marked text, length)``.
    """
    from chemtok.annotate import annotate_with_insertions
    from chemtok.encoding import shift_over_insertions
    from chemtok.errors import TokenizationError

    marked, insertions = annotate_with_insertions(text, markers=tok.markers)
    if not insertions:
        return _inspect_spans(tok, text), []
    try:
        spans = _inspect_spans(tok, marked)
    except TokenizationError:
        _inspect_spans(tok, text)  # the error the input itself gives, in its own positions
        raise
    pieces = [(i.position, len(i.marker)) for i in insertions]
    inserted = {i.position for i in insertions}
    moved = shift_over_insertions([(s.start, s.end) for s in spans], pieces)
    rows = [
        _Span(a, b, _INSERTED if s.modality == "marker" and s.start in inserted else s.modality, s.id, s.token)
        for s, (a, b) in zip(spans, moved)
    ]
    return rows, pieces


def run(args: argparse.Namespace) -> int:
    """Run ``chemtok inspect`` with parsed ``args``; return the exit status."""
    from chemtok.errors import MarkerError, TokenizationError

    text = sys.stdin.read().rstrip("\n") if args.string == "-" else args.string
    detected = args.modality is None  # no --modality: detection marks what is unmarked
    modality = ROUTER_MODALITY if detected else args.modality
    tok = load_tokenizer(
        modality, args.tokenizer, engine=args.engine, strict_markers=args.strict_markers, smiles_model=args.smiles_model,
        markers=args.markers,
    )
    insertions: list[tuple[int, int]] = []
    try:
        if detected:
            spans, insertions = _detected_spans(tok, text)
        else:
            spans = _inspect_spans(tok, text)
    except TokenizationError as error:
        lines = str(error).splitlines()
        err(lines[0])
        print("\n".join(lines[1:3]), file=sys.stderr)
        if isinstance(error, MarkerError):
            print("  Markers must pair up; --no-strict-markers keeps unknown or unbalanced markers as text.", file=sys.stderr)
        elif modality != ROUTER_MODALITY:
            print(
                f"  Is this the right --modality? (default: {ROUTER_MODALITY}, text with [START_SMILES]-style markers)",
                file=sys.stderr,
            )
        return EXIT_FAILED
    width = max(60, min(120, shutil.get_terminal_size((80, 24)).columns))
    note = f" ({len(insertions)} markers inserted around detected chemistry)" if insertions else ""
    print(f"{modality}: {len(spans)} tokens, {len(text)} characters{note}")
    print(f"{type(tok).__name__}, {tok.vocab_size:,} ids, vocabulary fingerprint {tok.fingerprint[:16]}")
    print()
    # The string cut at token boundaries, wrapped between tokens (a token longer than a
    # line is wrapped inside).
    line = ""
    for span in spans:
        piece = visible(span.token if span.modality == _INSERTED else text[span.start : span.end])
        while piece:
            if line and len(line) + len(piece) + 2 > width:
                print(line + "|")
                line = ""
            part, piece = (piece, "") if len(piece) < width else (piece[: width - 1], piece[width - 1 :])
            line = (line + "|" if line else "") + part
    print(line)
    print()
    index_w = max(1, len(str(len(spans) - 1)))
    span_w = max(5, len(f"{len(text)}-{len(text)}"))
    id_w = max(2, len(str(max((s.id for s in spans), default=0))))
    mod_w = max(8, max((len(s.modality) for s in spans), default=0))
    header = f"{'#':>{index_w}}  {'chars':<{span_w}}  {'modality':<{mod_w}}  {'id':>{id_w}}  token"
    print(header)
    room = max(10, width - len(header) + len("token"))
    for i, span in enumerate(spans):
        token = visible(span.token)
        if len(token) > room:
            token = token[: room - 3] + "..."
        print(f"{i:>{index_w}}  {f'{span.start}-{span.end}':<{span_w}}  {span.modality:<{mod_w}}  {span.id:>{id_w}}  {token}")
    return EXIT_OK
