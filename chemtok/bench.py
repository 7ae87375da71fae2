"""Measure token efficiency against GPT-2, Llama or any tokenizer.json (chemtok bench).

How many tokens does chemtok save, and are they meaningful tokens? For every input
file and every tokenizer (chemtok, and each baseline such as GPT-2 or Llama) this
counts the tokens per record, the characters per token, the share of records that
decode back exactly, the unknown-token and byte-fallback rates, and how well the
tokens sit on chemical units (see :mod:`chemtok.metrics` for the definitions):

* SMILES: ``atom_alignment`` (share of tokens inside one atom-level lexeme),
  ``boundary_alignment`` (share of tokens that start and end on lexeme boundaries) and
  ``intact_alignment`` (share of tokens that cut no lexeme: one of the two);
* InChI: ``layer_alignment`` (share of tokens inside one ``/``-layer);
* mixed text: tokens spent on markers, inside marked spans, outside them, and
  crossing a boundary; plus the SMILES alignment of the tokens touching SMILES spans.

How each tokenizer is run:

* baselines: ``tokenizers.Tokenizer.from_file(path).encode_batch(texts,
  add_special_tokens=False)``, exactly as a user counts; round trip is
  ``decode(ids, skip_special_tokens=False) == text``; the unknown token is the
  model's ``unk_token`` (Llama 2's ``<unk>``; byte-level BPEs have none), byte
  fallback the model's ``<0xNN>`` tokens when ``byte_fallback`` is on;
* chemtok on single-modality files: that modality's tokenizer
  (:class:`~chemtok.SmilesTokenizer` ...) with ``on_error="fallback"``, so a string
  the grammar cannot cover is still counted (its uncovered characters as byte
  tokens, reported as ``byte_fallback_rate``);
* chemtok on text: :class:`~chemtok.ChemTokenizer` (chemtok's own text BPE between
  markers), and with ``hybrid=True`` also ``chemtok+NAME`` rows: the router with
  baseline NAME as its text model (``ChemTokenizer.from_base``), i.e. that model
  extended with chemistry tokens. Markers that do not pair up count as text;
* with ``compact=True`` (the default) the same again with chemtok's compact SMILES
  model (merges over atom-level tokens): ``chemtok-compact`` rows on SMILES and text
  inputs, ``chemtok-compact+NAME`` on text. ``tokens_vs_chemtok`` always compares with
  the atom-level ``chemtok`` row. On a text input where no record has a marker the
  ``+NAME`` and compact rows would repeat other rows exactly and are left out.

Token spans (character indices into the original string) come from chemtok's
``encode_with_offsets`` for chemtok rows, and from the Hugging Face
``Encoding.offsets`` for baselines, made to tile the string by the same rule
(:mod:`chemtok.encoding`): a character split over several tokens belongs to the token
that completes it, the others are *zero-width*; so is Llama 2's lone dummy prefix
``▁``. A zero-width token counts as a token but not in any alignment. Every record's
spans are checked to tile the string (``offset_mismatch_records`` counts the ones that
do not; expected 0).

Modality of an input, unless given (``modality=`` / ``--modality``):

* ``.smi``, ``.smiles``, ``.rsmi`` (optionally ``.gz``) → ``smiles`` (``.rsmi`` is
  grouped as ``reactions`` in the summary);
* ``.tsv``/``.csv`` → ``inchi`` if the file name or its folder says ``inchi``, else
  ``smiles`` if it says ``smiles``; the column defaults to the modality's name;
* ``.faa`` → ``protein``, ``.fna`` → ``dna``; ``.fasta``/``.fa`` → ``protein`` or
  ``dna`` when a folder on the path is named ``protein`` or ``dna``/``rna``;
* ``.jsonl`` and ``.txt`` → ``text`` (mixed text, routed at markers); the JSONL
  field defaults to ``"text"``. In the summary a text input is grouped as ``mixed``
  when at least one of its records has a marker, else as ``text`` (plain prose).

Anything else is refused with a message naming ``--modality``.

Example:
    >>> import os, tempfile
    >>> from chemtok.bench import run_benchmark
    >>> path = os.path.join(tempfile.mkdtemp(), "mols.smi")
    >>> _ = open(path, "w").write("c1ccccc1\\nCC(=O)O\\n")
    >>> result = run_benchmark([path], {}, plots=False)
    >>> row = result.rows[0]
    >>> row["tokenizer"], row["records"], row["mean_tokens"], row["atom_alignment"]
    ('chemtok', 2, 7.5, 1.0)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from chemtok.io.formats import infer_modality
from chemtok.metrics import (
    Alignment,
    Span,
    inchi_layer_spans,
    percentile,
    segment_token_counts,
    smiles_lexeme_spans,
    spans_tile,
    unit_alignment,
)
from chemtok.registry import load_tokenizer

__all__ = [
    "MODALITIES",
    "InputSpec",
    "Baseline",
    "BenchmarkResult",
    "CHEMTOK",
    "COMPACT",
    "infer_modality",
    "parse_baseline",
    "run_benchmark",
    "render_markdown",
    "write_results",
    "plot_results",
    "add_arguments",
    "run",
]

#: Modalities an input can have; ``text`` is mixed text routed at markers.
MODALITIES = ("smiles", "inchi", "protein", "dna", "text")
#: Summary groups, in display order: ``reactions`` are SMILES inputs from ``.rsmi``
#: files; text inputs are ``mixed`` when some record has a marker, else ``text``.
GROUPS = ("smiles", "reactions", "inchi", "protein", "dna", "mixed", "text")
#: Name of chemtok's own rows (atom-level SMILES, the default model).
CHEMTOK = "chemtok"
#: Name of the rows of chemtok's compact SMILES model (``SmilesTokenizer(model="compact")``).
COMPACT = "chemtok-compact"
_CHUNK = 4096


# -- inputs and baselines ---------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    """One input file, with its modality and column when they should not be inferred.

    Attributes:
        path: the file, as it will appear in the results (``input``).
        modality: one of :data:`MODALITIES`, or ``None`` to infer it from the path.
        column: the CSV/TSV column or JSONL field holding the strings, or ``None``
            for the default (the modality's name for tables, ``"text"`` for JSONL).
    """

    path: str
    modality: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class Baseline:
    """A baseline ``tokenizer.json``, identified by its SHA-256."""

    name: str
    path: str
    sha256: str


def _stripped_name(path: str | Path) -> str:
    name = Path(path).name.lower()
    return name[:-3] if name.endswith(".gz") else name


def _default_column(path: str | Path, modality: str) -> str | None:
    suffix = Path(_stripped_name(path)).suffix
    if suffix in (".tsv", ".csv", ".parquet"):
        return "smiles" if modality == "text" else modality
    if suffix == ".jsonl":
        return "text"
    return None


def _group(spec_path: str, modality: str, has_markers: bool = False) -> str:
    if modality == "smiles" and Path(_stripped_name(spec_path)).suffix == ".rsmi":
        return "reactions"
    if modality == "text" and has_markers:
        return "mixed"
    return modality


def parse_baseline(spec: str) -> tuple[str, str]:
    """Split a ``NAME=PATH`` baseline argument; a bare ``PATH`` is named after its folder.

    Example:
        >>> parse_baseline("gpt2=../shared/baselines/gpt2/tokenizer.json")
        ('gpt2', '../shared/baselines/gpt2/tokenizer.json')
        >>> parse_baseline("../shared/baselines/llama3/tokenizer.json")
        ('llama3', '../shared/baselines/llama3/tokenizer.json')
    """
    name, sep, path = spec.partition("=")
    if not sep:
        path = spec
        parent = Path(path).parent.name
        name = parent if Path(path).name == "tokenizer.json" and parent else Path(path).stem
    name, path = name.strip(), path.strip()
    if not name or not path:
        raise ValueError(f"--baseline expects NAME=PATH (e.g. gpt2=path/to/tokenizer.json), got {spec!r}")
    if name == CHEMTOK or name.startswith(CHEMTOK + "+"):
        raise ValueError(f"baseline name {name!r} is reserved for chemtok's own rows; choose another")
    return name, path


def _sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- tokenizer runners ------------------------------------------------------------------


@dataclass
class _Encoded:
    ids: list[int]
    spans: list[Span] | None  # None: spans not available for this record
    decoded: str


class _Runner:
    """A tokenizer under test: encodes chunks of records into ids, spans and decodes."""

    name: str
    unk_ids: frozenset[int] = frozenset()
    fallback_ids: frozenset[int] = frozenset()

    def encode(self, texts: list[str]) -> list[_Encoded]:
        raise NotImplementedError


def _model_unk_and_fallback(tok: Any, config: Mapping[str, Any]) -> tuple[frozenset[int], frozenset[int]]:
    """Ids of a ``tokenizer.json`` model's unknown token and of its ``<0xNN>`` byte-fallback tokens."""
    model = config.get("model") or {}
    unk = model.get("unk_token")
    unk_id = tok.token_to_id(unk) if isinstance(unk, str) else model.get("unk_id")
    unk_ids = frozenset([unk_id]) if isinstance(unk_id, int) else frozenset()
    fallback: frozenset[int] = frozenset()
    if model.get("byte_fallback"):
        ids = (tok.token_to_id(f"<0x{b:02X}>") for b in range(256))
        fallback = frozenset(i for i in ids if i is not None)
    return unk_ids, fallback


class _BaselineRunner(_Runner):
    def __init__(self, baseline: Baseline) -> None:
        from tokenizers import Tokenizer

        self.name = baseline.name
        try:
            self.tok = Tokenizer.from_file(baseline.path)
        except Exception as err:  # tokenizers raises a bare Exception
            raise ValueError(f"baseline {baseline.name!r}: {baseline.path} is not a loadable tokenizer.json ({err})") from None
        config = json.loads(self.tok.to_str())
        self.unk_ids, self.fallback_ids = _model_unk_and_fallback(self.tok, config)

    def encode(self, texts: list[str]) -> list[_Encoded]:
        from chemtok.encoding import tile_text_model_offsets

        encodings = self.tok.encode_batch(texts, add_special_tokens=False)
        ids = [e.ids for e in encodings]
        decoded = self.tok.decode_batch(ids, skip_special_tokens=False)
        # The model's offsets, made to tile the string by the rule chemtok's own text
        # model follows (see chemtok.encoding): comparable spans for every row.
        return [
            _Encoded(row, tile_text_model_offsets(text, e.offsets), back)
            for text, row, e, back in zip(texts, ids, encodings, decoded)
        ]


class _ModalityRunner(_Runner):
    """A chemtok grammar tokenizer (SMILES, InChI, protein, DNA) under ``on_error="fallback"``."""

    def __init__(self, name: str, tok: Any) -> None:
        from chemtok.vocab import byte_of_token

        self.name = name
        self.tok = tok
        unk = tok.vocabulary.token_to_id.get("<unk>")
        self.unk_ids = frozenset([unk]) if unk is not None else frozenset()
        self.fallback_ids = frozenset(i for i, t in enumerate(tok.vocabulary.tokens) if byte_of_token(t) is not None)

    def encode(self, texts: list[str]) -> list[_Encoded]:
        encodings = [self.tok.encode_with_offsets(text, on_error="fallback") for text in texts]
        return [_Encoded(e.ids, e.offsets, self.tok.decode(e.ids)) for e in encodings]


class _RouterRunner(_Runner):
    """chemtok's router on mixed text (spans from ``encode_with_offsets``)."""

    def __init__(self, name: str, tok: Any) -> None:
        self.name = name
        self.tok = tok
        offset, size = tok.block("byte")
        backend = tok.text.backend
        config = json.loads(backend.to_str())
        # The text model's own unknown and byte-fallback tokens count too (Llama 2's
        # <unk> and <0x0A> when it is the base), shifted into the unified id space.
        text_offset = tok.block("text")[0]
        text_unk, text_fallback = _model_unk_and_fallback(backend, config)
        self.unk_ids = frozenset([tok.unk_token_id, *(text_offset + i for i in text_unk)])
        self.fallback_ids = frozenset([*range(offset, offset + size), *(text_offset + i for i in text_fallback)])

    def encode(self, texts: list[str]) -> list[_Encoded]:
        encodings = [self.tok.encode_with_offsets(text, on_error="fallback") for text in texts]
        return [_Encoded(e.ids, e.offsets, self.tok.decode(e.ids)) for e in encodings]


def _split(router: Any, text: str) -> list[Any]:
    from chemtok.errors import MarkerError
    from chemtok.router import Segment

    try:
        return list(router.split(text))
    except MarkerError:
        return [Segment("text", 0, len(text), text)] if text else []


# -- measuring ----------------------------------------------------------------------------


@dataclass
class _Tally:
    """Running counts of one (input, tokenizer) pair."""

    lengths: list[int] = field(default_factory=list)
    chars: int = 0
    roundtrip: int = 0
    unk: int = 0
    fallback: int = 0
    zero_width: int = 0
    offset_mismatch: int = 0
    atom: Alignment = Alignment(0, 0, 0, 0)
    layer: Alignment = Alignment(0, 0, 0, 0)
    marker: int = 0
    inside: int = 0
    outside: int = 0
    crossing: int = 0
    inside_by_modality: dict[str, int] = field(default_factory=dict)


def _units(modality: str, text: str, segments: Sequence[Any] | None) -> tuple[list[Span], list[Span]]:
    """(SMILES lexeme spans, InChI layer spans) of a record."""
    if modality == "smiles":
        return smiles_lexeme_spans(text), []
    if modality == "inchi":
        return [], inchi_layer_spans(text)
    if modality == "text" and segments:
        lexemes: list[Span] = []
        layers: list[Span] = []
        for seg in segments:
            if seg.modality == "smiles":
                lexemes.extend((a + seg.start, b + seg.start) for a, b in smiles_lexeme_spans(seg.text))
            elif seg.modality == "inchi":
                layers.extend((a + seg.start, b + seg.start) for a, b in inchi_layer_spans(seg.text))
        return lexemes, layers
    return [], []


def _measure(
    runner: _Runner,
    texts: list[str],
    modality: str,
    units: list[tuple[list[Span], list[Span]]],
    segments: list[list[tuple[str, int, int]]] | None,
) -> _Tally:
    tally = _Tally()
    unk, fallback = runner.unk_ids, runner.fallback_ids
    for begin in range(0, len(texts), _CHUNK):
        chunk = texts[begin : begin + _CHUNK]
        for offset, (text, enc) in enumerate(zip(chunk, runner.encode(chunk))):
            index = begin + offset
            ids = enc.ids
            tally.lengths.append(len(ids))
            tally.chars += len(text)
            tally.roundtrip += enc.decoded == text
            if unk:
                tally.unk += sum(map(unk.__contains__, ids))
            if fallback:
                tally.fallback += sum(map(fallback.__contains__, ids))
            spans = enc.spans
            if spans is None or not spans_tile(text, spans):
                tally.offset_mismatch += 1
                continue
            tally.zero_width += sum(1 for a, b in spans if b <= a)
            lexemes, layers = units[index]
            if lexemes:
                tally.atom = tally.atom + unit_alignment(spans, lexemes)
            if layers:
                tally.layer = tally.layer + unit_alignment(spans, layers)
            if segments is not None:
                counts = segment_token_counts(spans, segments[index])
                tally.marker += counts.marker
                tally.inside += counts.inside
                tally.outside += counts.outside
                tally.crossing += counts.crossing
                for key, value in counts.inside_by_modality.items():
                    tally.inside_by_modality[key] = tally.inside_by_modality.get(key, 0) + value
    return tally


def _rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _row(spec: InputSpec, modality: str, group: str, column: str | None, name: str, tally: _Tally,
         available: int, unreadable: int) -> dict[str, Any]:
    lengths = tally.lengths
    tokens = sum(lengths)
    records = len(lengths)
    row: dict[str, Any] = {
        "input": spec.path,
        "modality": modality,
        "group": group,
        "column": column,
        "tokenizer": name,
        "records": records,
        "records_available": available,
        "unreadable_records": unreadable,
        "chars": tally.chars,
        "tokens": tokens,
        "mean_tokens": _rate(tokens, records),
        "median_tokens": percentile(lengths, 50) if lengths else None,
        "p95_tokens": percentile(lengths, 95) if lengths else None,
        "max_tokens": max(lengths) if lengths else None,
        "chars_per_token": _rate(tally.chars, tokens),
        "tokens_vs_chemtok": None,
        "roundtrip_rate": _rate(tally.roundtrip, records),
        "roundtrip_records": tally.roundtrip,
        "unk_rate": _rate(tally.unk, tokens) if tokens else None,
        "unk_tokens": tally.unk,
        "byte_fallback_rate": _rate(tally.fallback, tokens) if tokens else None,
        "byte_fallback_tokens": tally.fallback,
        "zero_width_tokens": tally.zero_width,
        "offset_mismatch_records": tally.offset_mismatch,
        "atom_alignment": None,
        "boundary_alignment": None,
        "intact_alignment": None,
        "layer_alignment": None,
    }
    if modality in ("smiles", "text") and tally.atom.counted:
        row["atom_alignment"] = tally.atom.inside_rate
        row["boundary_alignment"] = tally.atom.boundary_rate
        row["intact_alignment"] = tally.atom.intact_rate
        row["alignment_tokens"] = tally.atom.counted
    if modality in ("inchi", "text") and tally.layer.counted:
        row["layer_alignment"] = tally.layer.inside_rate
        row["layer_alignment_tokens"] = tally.layer.counted
    if modality == "text":
        row.update(
            marker_tokens=tally.marker,
            inside_tokens=tally.inside,
            outside_tokens=tally.outside,
            crossing_tokens=tally.crossing,
            inside_tokens_by_modality=dict(sorted(tally.inside_by_modality.items())),
            mean_inside_tokens=_rate(tally.inside, records),
            mean_outside_tokens=_rate(tally.outside, records),
            mean_marker_tokens=_rate(tally.marker, records),
        )
    return row


# -- the result -------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkResult:
    """What :func:`run_benchmark` measured.

    Attributes:
        rows: one dict per (input, tokenizer), in input order, chemtok first; the
            fields are listed in ``benchmarks/README.md`` and :func:`run_benchmark`.
        summary: one dict per (group, tokenizer), pooled over the inputs of the group.
        metadata: versions (chemtok, grammars, ``tokenizers``), baselines with their
            SHA-256, and the sampling settings.
        lengths: tokens per record for each ``(input, tokenizer)``, for plots.
        files: the files written (empty when no ``out_dir`` was given).
    """

    rows: tuple[dict[str, Any], ...]
    summary: tuple[dict[str, Any], ...]
    metadata: dict[str, Any]
    lengths: dict[tuple[str, str], tuple[int, ...]] = field(repr=False)
    files: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``results.json`` document (NaN written as ``null``)."""
        document: dict[str, Any] = _jsonable({**self.metadata, "rows": list(self.rows), "summary": list(self.summary)})
        return document

    def to_markdown(self) -> str:
        """The ``results.md`` tables."""
        return render_markdown(self)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _metadata(
    baselines: Sequence[Baseline], max_records: int | None, seed: int, hybrid: bool, compact: Any | None
) -> dict[str, Any]:
    import importlib.metadata
    import platform

    import chemtok
    from chemtok.grammar import load_inchi_grammar, load_markers, load_smiles_grammar, load_sequence_grammar

    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None

    smiles = chemtok.SmilesTokenizer()
    return {
        "chemtok_version": chemtok.__version__,
        "versions": {
            "chemtok": chemtok.__version__,
            "tokenizers": version("tokenizers"),
            "tiktoken": version("tiktoken"),
            "python": platform.python_version(),
        },
        "grammars": {
            "smiles": load_smiles_grammar().tag,
            "inchi": load_inchi_grammar().tag,
            "protein": load_sequence_grammar("protein").tag,
            "dna": load_sequence_grammar("dna").tag,
            "markers": load_markers().tag,
        },
        "chemtok_engine": smiles.engine,
        "chemtok_smiles_vocab_sha256": smiles.fingerprint,
        "chemtok_compact_vocab_sha256": compact.fingerprint if compact is not None else None,
        "chemtok_compact_engine": compact.engine if compact is not None else None,
        "baselines": [{"name": b.name, "path": b.path, "sha256": b.sha256} for b in baselines],
        "config": {"max_records": max_records, "seed": seed, "hybrid": hybrid, "compact": compact is not None},
    }


def _summarize(rows: Sequence[dict[str, Any]], lengths: Mapping[tuple[str, str], Sequence[int]]) -> list[dict[str, Any]]:
    keyed: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        keyed.setdefault((row["group"], row["tokenizer"]), []).append(row)
    chemtok_tokens: dict[tuple[str, frozenset[str]], int] = {}
    out: list[dict[str, Any]] = []
    order = {g: i for i, g in enumerate(GROUPS)}
    for (group, name), members in sorted(keyed.items(), key=lambda kv: order.get(kv[0][0], 99)):
        pooled = [n for r in members for n in lengths.get((r["input"], name), ())]
        tokens = sum(r["tokens"] for r in members)
        records = sum(r["records"] for r in members)
        chars = sum(r["chars"] for r in members)
        aligned = [r for r in members if r.get("alignment_tokens")]
        layered = [r for r in members if r.get("layer_alignment_tokens")]

        def pooled_rate(rs: list[dict[str, Any]], rate: str, weight: str) -> float | None:
            total = sum(r[weight] for r in rs)
            return _rate(sum(r[rate] * r[weight] for r in rs), total)

        entry: dict[str, Any] = {
            "group": group,
            "tokenizer": name,
            "inputs": len(members),
            "records": records,
            "chars": chars,
            "tokens": tokens,
            "mean_tokens": _rate(tokens, records),
            "median_tokens": percentile(pooled, 50) if pooled else None,
            "p95_tokens": percentile(pooled, 95) if pooled else None,
            "chars_per_token": _rate(chars, tokens),
            "tokens_vs_chemtok": None,
            "roundtrip_rate": _rate(sum(r["roundtrip_records"] for r in members), records),
            "unk_rate": _rate(sum(r["unk_tokens"] for r in members), tokens),
            "byte_fallback_rate": _rate(sum(r["byte_fallback_tokens"] for r in members), tokens),
            "atom_alignment": pooled_rate(aligned, "atom_alignment", "alignment_tokens"),
            "boundary_alignment": pooled_rate(aligned, "boundary_alignment", "alignment_tokens"),
            "intact_alignment": pooled_rate(aligned, "intact_alignment", "alignment_tokens"),
            "layer_alignment": pooled_rate(layered, "layer_alignment", "layer_alignment_tokens"),
        }
        if group in ("mixed", "text"):
            for key in ("marker_tokens", "inside_tokens", "outside_tokens", "crossing_tokens"):
                entry["mean_" + key] = _rate(sum(r[key] for r in members), records)
        out.append(entry)
        if name == CHEMTOK:
            chemtok_tokens[(group, frozenset(r["input"] for r in members))] = tokens
    for entry in out:
        inputs = frozenset(r["input"] for r in keyed[(entry["group"], entry["tokenizer"])])
        base = chemtok_tokens.get((entry["group"], inputs))
        entry["tokens_vs_chemtok"] = _rate(entry["tokens"], base) if base else None
    return out


# -- the benchmark ----------------------------------------------------------------------


def _read_texts(path: str, column: str | None, max_records: int | None, seed: int) -> tuple[list[str], int, int]:
    """(texts, records available, unreadable records); a seeded sample when capped."""
    from chemtok.io import read_records

    texts: list[str] = []
    unreadable = 0
    for record in read_records(path, column=column):
        if record.text is None:
            unreadable += 1
        elif record.text:
            texts.append(record.text)
    available = len(texts)
    if max_records is not None and available > max_records:
        rng = random.Random(f"{seed}:{_stripped_name(path)}:{column}")
        texts = [texts[i] for i in sorted(rng.sample(range(available), max_records))]
    return texts, available, unreadable


def _compact_smiles() -> Any | None:
    """chemtok's compact SMILES model, or ``None`` (with a warning) when it cannot load."""
    from chemtok.errors import ChemtokError

    try:
        return load_tokenizer("smiles", smiles_model="compact", on_error="fallback")
    except (TypeError, ValueError, OSError, ChemtokError) as err:
        warnings.warn(f"{COMPACT} rows skipped: the compact SMILES model does not load ({err})", stacklevel=3)
        return None


def _chemtok_runners(
    modality: str,
    baselines: Sequence[Baseline],
    hybrid: bool,
    compact: Any | None,
    extra: Mapping[str, Any],
    cache: dict[str, _Runner],
) -> list[_Runner]:
    """The tokenizers to run on an input of ``modality`` (``"prose"``: text without markers)."""
    import chemtok

    if modality == "prose":
        # Without markers the router sends everything to the text model: chemtok+NAME
        # would repeat NAME's row and chemtok-compact chemtok's, so both are left out.
        modality, hybrid, compact = "text", False, None

    def cached(key: str, make: Callable[[], _Runner]) -> _Runner:
        if key not in cache:
            cache[key] = make()
        return cache[key]

    runners: list[_Runner] = []
    if modality == "text":
        runners.append(
            cached(CHEMTOK + ":text", lambda: _RouterRunner(CHEMTOK, load_tokenizer("mixed", on_error="fallback", strict_markers=False)))
        )
    else:
        runners.append(cached(CHEMTOK + ":" + modality, lambda: _ModalityRunner(CHEMTOK, load_tokenizer(modality, on_error="fallback"))))
    if compact is not None and modality == "smiles":
        runners.append(cached(COMPACT + ":smiles", lambda: _ModalityRunner(COMPACT, compact)))
    elif compact is not None and modality == "text":
        runners.append(
            cached(
                COMPACT + ":text",
                lambda: _RouterRunner(
                    COMPACT, load_tokenizer("mixed", smiles_model=compact, on_error="fallback", strict_markers=False)
                ),
            )
        )
    for name, tok in extra.items():
        kind = getattr(tok, "name", None)
        if modality == "text" and kind == "chem":
            runners.append(cached(name + ":text", lambda: _RouterRunner(name, tok)))
        elif kind == modality:
            runners.append(cached(name + ":" + modality, lambda: _ModalityRunner(name, tok)))
    for b in baselines:
        runners.append(cached("baseline:" + b.name, lambda: _BaselineRunner(b)))
    if modality == "text" and hybrid:
        for b in baselines:
            runners.append(
                cached(
                    "hybrid:" + b.name,
                    lambda: _RouterRunner(
                        f"{CHEMTOK}+{b.name}",
                        chemtok.ChemTokenizer.from_base(b.path, on_error="fallback", strict_markers=False),
                    ),
                )
            )
        for b in baselines if compact is not None else ():
            runners.append(
                cached(
                    "compact-hybrid:" + b.name,
                    lambda: _RouterRunner(
                        f"{COMPACT}+{b.name}",
                        chemtok.ChemTokenizer.from_base(
                            b.path, smiles=compact, on_error="fallback", strict_markers=False
                        ),
                    ),
                )
            )
    return runners


def run_benchmark(
    inputs: Iterable[str | Path | InputSpec],
    baselines: Mapping[str, str | Path],
    *,
    out_dir: str | Path | None = None,
    modality: str | None = None,
    column: str | None = None,
    max_records: int | None = None,
    seed: int = 0,
    hybrid: bool = True,
    compact: bool = True,
    plots: bool = True,
    extra_tokenizers: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> BenchmarkResult:
    """Count tokens for every input with chemtok and every baseline; optionally write results.

    Args:
        inputs: files (paths or :class:`InputSpec`); ``-`` is not supported (every
            tokenizer reads the same records).
        baselines: ``{name: path to tokenizer.json}``, e.g. ``{"gpt2": ".../gpt2/tokenizer.json"}``.
        out_dir: where to write ``results.json``, ``results.md`` and the plots;
            ``None`` writes nothing.
        modality: force one modality for every input (default: infer per input).
        column: the CSV/TSV column or JSONL field for every input that has columns.
        max_records: at most this many records per input, a sample seeded by
            ``seed`` and the file name (default: every record).
        seed: the sampling seed.
        hybrid: on text inputs, also run ``chemtok+NAME``: the router with baseline
            NAME as its text model.
        compact: also run chemtok's compact SMILES model (``chemtok-compact`` rows on
            SMILES and text inputs, ``chemtok-compact+NAME`` with ``hybrid``); skipped
            with a warning when the model does not load.
        plots: write the PNG plots when ``out_dir`` is given (needs matplotlib; skipped
            with a warning when it is missing).
        extra_tokenizers: more chemtok tokenizers to compare, by row name; each is
            used on inputs of its modality (``tok.name``; a ``ChemTokenizer`` on text).
        progress: called with one line per input (e.g. ``print`` to stderr).

    Returns:
        The rows, pooled summary and metadata. Row fields: ``input``, ``modality``,
        ``group``, ``column``, ``tokenizer``, ``records`` (measured),
        ``records_available``, ``unreadable_records``, ``chars``, ``tokens``,
        ``mean_tokens``, ``median_tokens``, ``p95_tokens``, ``max_tokens``,
        ``chars_per_token``, ``tokens_vs_chemtok`` (tokens / chemtok's tokens on the
        same records), ``roundtrip_rate``, ``unk_rate``, ``byte_fallback_rate`` (and
        their counts), ``zero_width_tokens``, ``offset_mismatch_records``,
        ``atom_alignment`` and ``boundary_alignment`` (SMILES, and the SMILES spans of
        text), ``layer_alignment`` (InChI); for text also ``marker_tokens``,
        ``inside_tokens``, ``outside_tokens``, ``crossing_tokens``,
        ``inside_tokens_by_modality`` and their per-record means.

    Raises:
        ValueError: an input whose modality cannot be inferred, a missing column, an
            unknown modality, or a baseline that is not a loadable ``tokenizer.json``.
        OSError: an input or baseline file cannot be read.
    """
    if modality is not None and modality not in MODALITIES:
        raise ValueError(f"modality must be one of {', '.join(MODALITIES)}, got {modality!r}")
    if max_records is not None and max_records < 1:
        raise ValueError(f"max_records must be at least 1, got {max_records}")
    specs = [item if isinstance(item, InputSpec) else InputSpec(str(item)) for item in inputs]
    if not specs:
        raise ValueError("give at least one input file")
    resolved: list[tuple[InputSpec, str, str | None]] = []
    for spec in specs:
        if spec.path == "-":
            raise ValueError("chemtok bench reads files, not standard input: every tokenizer must see the same records")
        if not Path(spec.path).is_file():
            raise FileNotFoundError(f"input file not found: {spec.path}")
        mod = spec.modality or modality or infer_modality(spec.path)
        if mod not in MODALITIES:
            raise ValueError(f"modality must be one of {', '.join(MODALITIES)}, got {mod!r} for {spec.path}")
        col = spec.column or column or _default_column(spec.path, mod)
        resolved.append((spec, mod, col))
    loaded: list[Baseline] = []
    for name, path in baselines.items():
        if not Path(path).is_file():
            raise FileNotFoundError(f"baseline {name!r}: file not found: {path}")
        loaded.append(Baseline(name, str(path), _sha256(path)))

    cache: dict[str, _Runner] = {}
    compact_tok = _compact_smiles() if compact and any(m in ("smiles", "text") for _, m, _ in resolved) else None
    rows: list[dict[str, Any]] = []
    lengths: dict[tuple[str, str], tuple[int, ...]] = {}
    router = None
    for spec, mod, col in resolved:
        started = time.perf_counter()
        texts, available, unreadable = _read_texts(spec.path, col, max_records, seed)
        segments: list[list[Any]] | None = None
        if mod == "text":
            if router is None:
                router = load_tokenizer("mixed", strict_markers=False)
            segments = [_split(router, text) for text in texts]
        units = [_units(mod, text, segments[i] if segments else None) for i, text in enumerate(texts)]
        plain_segments = [[(s.modality, s.start, s.end) for s in segs] for segs in segments] if segments else None
        has_markers = any(s[0] == "marker" for segs in plain_segments or () for s in segs)
        group = _group(spec.path, mod, has_markers)
        kind = "prose" if mod == "text" and not has_markers else mod
        runners = _chemtok_runners(kind, loaded, hybrid, compact_tok, extra_tokenizers or {}, cache)
        input_rows: list[dict[str, Any]] = []
        for runner in runners:
            tally = _measure(runner, texts, mod, units, plain_segments)
            input_rows.append(_row(spec, mod, group, col, runner.name, tally, available, unreadable))
            lengths[(spec.path, runner.name)] = tuple(tally.lengths)
        chemtok_tokens = input_rows[0]["tokens"]
        for row in input_rows:
            row["tokens_vs_chemtok"] = _rate(row["tokens"], chemtok_tokens)
        rows.extend(input_rows)
        if progress is not None:
            sampled = f" (sample of {available:,})" if len(texts) < available else ""
            progress(
                f"{spec.path}: {mod}, {len(texts):,} records{sampled}, {len(runners)} tokenizers, "
                f"{time.perf_counter() - started:.1f} s"
            )
    result = BenchmarkResult(
        rows=tuple(rows),
        summary=tuple(_summarize(rows, lengths)),
        metadata=_metadata(loaded, max_records, seed, hybrid, compact_tok),
        lengths=lengths,
    )
    if out_dir is not None:
        files = write_results(result, out_dir, plots=plots)
        result = BenchmarkResult(result.rows, result.summary, result.metadata, result.lengths, tuple(files))
    return result


def write_results(result: BenchmarkResult, out_dir: str | Path, *, plots: bool = True) -> list[str]:
    """Write ``results.json``, ``results.md`` and (with matplotlib) the PNG plots.

    Returns:
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    (out / "results.json").write_text(json.dumps(result.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(str(out / "results.json"))
    (out / "results.md").write_text(render_markdown(result), encoding="utf-8")
    written.append(str(out / "results.md"))
    if plots:
        try:
            written.extend(plot_results(result, out))
        except ImportError as err:
            warnings.warn(f"plots skipped: {err}", stacklevel=2)
    return written


# -- markdown ---------------------------------------------------------------------------


def _fmt_num(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _fmt_pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.{digits}f}%"


def _fmt_ratio(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}×"


def _short(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else path


def _table(header: Sequence[str], body: Iterable[Sequence[str]], align: str | None = None) -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    return lines


def render_markdown(result: BenchmarkResult, *, detail: bool = True) -> str:
    """The results as markdown: a pooled summary per modality, then per-input tables.

    Args:
        result: what :func:`run_benchmark` returned.
        detail: include one table per modality with every (input, tokenizer) row.
    """
    meta = result.metadata
    lines = ["# chemtok token efficiency", ""]
    versions = meta["versions"]
    lines.append(
        f"chemtok {versions['chemtok']} (grammars {', '.join(meta['grammars'].values())}; "
        f"engine {meta['chemtok_engine']}), tokenizers {versions['tokenizers']}, Python {versions['python']}."
    )
    config = meta["config"]
    cap = f"at most {config['max_records']:,} records per input (seeded sample, seed {config['seed']})" if config[
        "max_records"] else "every record of every input"
    lines.append(f"Records: {cap}. Baselines counted with `add_special_tokens=False`:")
    lines.append("")
    for b in meta["baselines"]:
        lines.append(f"- `{b['name']}`: `{b['path']}` (sha256 `{b['sha256']}`)")
    lines.append("")
    lines.append(
        "`× chemtok` = this tokenizer's tokens / chemtok's tokens on the same records (above 1: chemtok "
        "uses fewer). Alignment: share of tokens inside one SMILES lexeme (atom), on lexeme boundaries "
        "(boundary), inside one InChI layer (layer)."
    )
    lines.append("")
    lines.extend(_summary_tables(result.summary))
    if detail:
        for group in GROUPS:
            group_rows = [r for r in result.rows if r["group"] == group]
            if group_rows:
                lines.append("")
                lines.extend(_detail_table(group, group_rows))
    return "\n".join(lines) + "\n"


def _summary_tables(summary: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["## Summary by modality (pooled over inputs)", ""]
    lines.extend(
        _table(
            ["modality", "tokenizer", "inputs", "records", "mean tokens", "median", "p95", "chars/token", "× chemtok"],
            (
                [
                    s["group"],
                    f"`{s['tokenizer']}`",
                    _fmt_num(s["inputs"]),
                    _fmt_num(s["records"]),
                    _fmt_num(s["mean_tokens"]),
                    _fmt_num(s["median_tokens"]),
                    _fmt_num(s["p95_tokens"]),
                    _fmt_num(s["chars_per_token"], 2),
                    _fmt_ratio(s["tokens_vs_chemtok"]),
                ]
                for s in summary
            ),
            "llrrrrrrr",
        )
    )
    lines += ["", "### Are the tokens meaningful?", ""]
    lines.extend(
        _table(
            ["modality", "tokenizer", "atom alignment", "boundary alignment", "no unit cut", "layer alignment",
             "round trip", "unk", "byte fallback"],
            (
                [
                    s["group"],
                    f"`{s['tokenizer']}`",
                    _fmt_pct(s["atom_alignment"]),
                    _fmt_pct(s["boundary_alignment"]),
                    _fmt_pct(s["intact_alignment"]),
                    _fmt_pct(s["layer_alignment"]),
                    _fmt_pct(s["roundtrip_rate"], 2),
                    _fmt_pct(s["unk_rate"], 2),
                    _fmt_pct(s["byte_fallback_rate"], 2),
                ]
                for s in summary
            ),
            "llrrrrrrr",
        )
    )
    text = [s for s in summary if s["group"] == "mixed"]
    if text:
        lines += ["", "### Mixed text (inputs with markers): where the tokens go (mean per record)", ""]
        lines.extend(
            _table(
                ["tokenizer", "total", "markers", "inside markers", "outside", "crossing", "× chemtok"],
                (
                    [
                        f"`{s['tokenizer']}`",
                        _fmt_num(s["mean_tokens"]),
                        _fmt_num(s["mean_marker_tokens"]),
                        _fmt_num(s["mean_inside_tokens"]),
                        _fmt_num(s["mean_outside_tokens"]),
                        _fmt_num(s["mean_crossing_tokens"], 2),
                        _fmt_ratio(s["tokens_vs_chemtok"]),
                    ]
                    for s in text
                ),
            )
        )
    return lines


def _detail_table(group: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    header = ["input", "tokenizer", "records", "mean", "median", "p95", "chars/token", "× chemtok", "round trip", "unk",
              "fallback"]
    extra: list[tuple[str, Callable[[dict[str, Any]], str]]] = []
    if group in ("smiles", "reactions"):
        extra = [
            ("atom", lambda r: _fmt_pct(r["atom_alignment"])),
            ("boundary", lambda r: _fmt_pct(r["boundary_alignment"])),
            ("no cut", lambda r: _fmt_pct(r["intact_alignment"])),
        ]
    elif group == "inchi":
        extra = [("layer", lambda r: _fmt_pct(r["layer_alignment"]))]
    elif group == "mixed":
        extra = [
            ("markers", lambda r: _fmt_num(r.get("mean_marker_tokens"))),
            ("inside", lambda r: _fmt_num(r.get("mean_inside_tokens"))),
            ("outside", lambda r: _fmt_num(r.get("mean_outside_tokens"))),
            ("crossing", lambda r: _fmt_num(_rate(r.get("crossing_tokens", 0), r["records"]), 2)),
            ("atom (SMILES spans)", lambda r: _fmt_pct(r["atom_alignment"])),
            ("boundary (SMILES spans)", lambda r: _fmt_pct(r["boundary_alignment"])),
            ("no cut (SMILES spans)", lambda r: _fmt_pct(r["intact_alignment"])),
        ]
    body = []
    for r in rows:
        column = f" ({r['column']})" if r["modality"] == "text" and r["column"] else ""
        records = _fmt_num(r["records"]) + ("*" if r["records"] < r["records_available"] else "")
        body.append(
            [
                f"{_short(r['input'])}{column}",
                f"`{r['tokenizer']}`",
                records,
                _fmt_num(r["mean_tokens"]),
                _fmt_num(r["median_tokens"]),
                _fmt_num(r["p95_tokens"]),
                _fmt_num(r["chars_per_token"], 2),
                _fmt_ratio(r["tokens_vs_chemtok"]),
                _fmt_pct(r["roundtrip_rate"], 2),
                _fmt_pct(r["unk_rate"], 2),
                _fmt_pct(r["byte_fallback_rate"], 2),
                *(f(r) for _, f in extra),
            ]
        )
    lines = [f"## {group}: per input", ""]
    lines.extend(_table(header + [name for name, _ in extra], body, "ll" + "r" * (len(header) + len(extra) - 2)))
    if any(r["records"] < r["records_available"] for r in rows):
        lines += ["", "\\* a seeded sample of the input's records."]
    return lines


# -- plots ------------------------------------------------------------------------------

_PALETTE = {
    CHEMTOK: "#1b7837",
    COMPACT: "#7fbc41",
    "gpt2": "#4575b4",
    "llama2": "#d73027",
    "llama3": "#fc8d59",
}
_OTHER_COLORS = ["#762a83", "#8c510a", "#01665e", "#c51b7d", "#7f7f7f", "#bf812d"]


def _colors(names: Sequence[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    spare = iter(_OTHER_COLORS * 4)
    for name in names:
        base = name.split("+", 1)[1] if "+" in name and name.startswith(CHEMTOK) else name
        colors[name] = _PALETTE.get(base) or next(spare)
    return colors


def plot_results(result: BenchmarkResult, out_dir: str | Path) -> list[str]:
    """Draw ``tokens_per_record.png`` and ``length_distribution.png`` into ``out_dir``.

    ``tokens_per_record.png``: mean tokens per record by modality and tokenizer
    (log scale), and the same relative to chemtok. ``length_distribution.png``: one
    panel per modality with the distribution of tokens per record for each tokenizer
    (box: quartiles, whiskers: 5th-95th percentile; log scale).

    Raises:
        ImportError: matplotlib is not installed (``pip install chemtok[bench]``).
    """
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("the plots need matplotlib: pip install 'chemtok[bench]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def log_axis(axis: Any) -> None:
        # Plain numbers at 1-2-5 steps read better than 6×10¹.
        axis.set_yscale("log")
        axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        axis.yaxis.set_minor_formatter(NullFormatter())

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = list(result.summary)
    groups = [g for g in GROUPS if any(s["group"] == g for s in summary)]
    names = list(dict.fromkeys(s["tokenizer"] for s in summary))
    colors = _colors(names)
    written: list[str] = []

    def hatch(name: str) -> str:
        if name.startswith(COMPACT + "+"):
            return "xx"
        return "//" if name.startswith(CHEMTOK + "+") else ""

    # 1. Mean tokens per record, and relative to chemtok.
    # Each group gets room in proportion to its bars, so the 11 bars of mixed text are as
    # wide as the 4 of a single modality.
    width, gap = 0.2, 0.45
    counts = [sum(1 for s in summary if s["group"] == g) for g in groups]
    centers: list[float] = []
    edge = 0.0
    for n in counts:
        span = max(n, 4) * width
        centers.append(edge + span / 2)
        edge += span + gap
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(max(9.0, 1.1 * edge + 1.5), 8.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    for gi, group in enumerate(groups):
        members = [s for s in summary if s["group"] == group]
        n = len(members)
        for k, s in enumerate(members):
            x = centers[gi] + (k - (n - 1) / 2) * width
            name = s["tokenizer"]
            top.bar(x, s["mean_tokens"] or 0, width, color=colors[name], hatch=hatch(name), edgecolor="white")
            if s["mean_tokens"]:
                top.text(x, s["mean_tokens"] * 1.04, f"{s['mean_tokens']:.0f}", ha="center", va="bottom", fontsize=7,
                         rotation=90)
            ratio = s["tokens_vs_chemtok"]
            if ratio is not None:
                bottom.bar(x, ratio, width, color=colors[name], hatch=hatch(name), edgecolor="white")
    log_axis(top)
    highest = max((s["mean_tokens"] or 1) for s in summary)
    top.set_ylim(1, highest * 3)  # bars on a log axis start at one token; room for the labels
    top.set_ylabel("mean tokens per record (log scale)")
    fig.suptitle("Tokens per record by modality and tokenizer (fewer is better)", fontsize=12)
    bottom.axhline(1.0, color="black", linewidth=0.8)
    bottom.set_ylabel("tokens ÷ chemtok's tokens\n(below 1: fewer than chemtok)")
    bottom.set_xticks(centers)
    pad = max(0.0, 4.0 - edge) / 2  # a single group should not fill the figure with two huge bars
    bottom.set_xlim(-gap / 2 - pad, edge - gap / 2 + pad)
    labels = []
    for g in groups:
        records = next((s["records"] for s in summary if s["group"] == g and s["tokenizer"] == CHEMTOK), 0)
        labels.append(f"{g}\n{records:,} records")
    bottom.set_xticklabels(labels)
    for axis in (top, bottom):
        axis.grid(axis="y", alpha=0.3)
        axis.set_axisbelow(True)
    handles = [Patch(facecolor=colors[n], hatch=hatch(n), edgecolor="white", label=n) for n in names]
    top.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(names)), fontsize=8,
               frameon=False)
    fig.tight_layout()
    path = out / "tokens_per_record.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(str(path))

    # 2. Distribution of tokens per record: one panel per group, two columns wide for
    # groups with many tokenizers (mixed text).
    cols = min(4, len(groups))
    places: list[tuple[int, int, int]] = []  # (row, column, span)
    row_i = col_i = 0
    for group in groups:
        span = min(cols, 2 if sum(1 for s in summary if s["group"] == group) > 6 else 1)
        if col_i + span > cols:
            row_i, col_i = row_i + 1, 0
        places.append((row_i, col_i, span))
        col_i += span
    rows_n = row_i + 1
    fig = plt.figure(figsize=(max(7.0, 4.2 * cols), 4.0 * rows_n))
    grid = fig.add_gridspec(rows_n, cols)
    for group, (r, c, span) in zip(groups, places):
        ax = fig.add_subplot(grid[r, c : c + span])
        if c == 0:
            ax.set_ylabel("tokens per record (log scale)")
        tokenizer_names = [s["tokenizer"] for s in summary if s["group"] == group]
        inputs = [row["input"] for row in result.rows if row["group"] == group and row["tokenizer"] == CHEMTOK]
        data = [[max(1, n) for i in inputs for n in result.lengths.get((i, name), ())] for name in tokenizer_names]
        box = ax.boxplot(data, whis=(5, 95), showfliers=False, patch_artist=True, widths=0.6,
                         medianprops={"color": "black"})
        for patch, name in zip(box["boxes"], tokenizer_names):
            patch.set_facecolor(colors[name])
            patch.set_hatch(hatch(name))
            patch.set_alpha(0.85)
        log_axis(ax)
        ax.set_xticks(range(1, len(tokenizer_names) + 1))
        ax.set_xticklabels(tokenizer_names, rotation=35, ha="right", fontsize=8)
        ax.set_title(f"{group} ({len(data[0]) if data else 0:,} records)", fontsize=10)
        ax.grid(axis="y", alpha=0.3, which="both")
        ax.set_axisbelow(True)
    fig.suptitle("Sequence lengths: box = quartiles, whiskers = 5th-95th percentile", fontsize=11)
    fig.tight_layout()
    path = out / "length_distribution.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(str(path))
    return written


# -- command line -----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``chemtok bench`` arguments to ``parser`` (the CLI's ``bench`` subcommand)."""
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="input files: .smi/.rsmi (SMILES), InChI/SMILES .tsv/.csv, protein or DNA .fasta, "
        "text .jsonl/.txt (optionally .gz); the modality is inferred from the name and folder",
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a tokenizer.json to compare against, e.g. gpt2=../shared/baselines/gpt2/tokenizer.json "
        "(repeat for several; a bare PATH is named after its folder)",
    )
    parser.add_argument(
        "--out", default="bench-results", metavar="DIR",
        help="write results.json, results.md and PNG plots here (default: %(default)s)",
    )
    parser.add_argument(
        "--modality", choices=MODALITIES, default=None,
        help="treat every input as this modality instead of inferring it (text = mixed text with markers)",
    )
    parser.add_argument(
        "--column", default=None,
        help="CSV/TSV column or JSONL field holding the strings (default: the modality's name for tables, "
        "'text' for JSONL)",
    )
    parser.add_argument(
        "--max-records", type=int, default=None, metavar="N",
        help="measure at most N records per input, a sample seeded by --seed and the file name (default: all)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the --max-records sample (default: %(default)s)")
    parser.add_argument(
        "--hybrid", action=argparse.BooleanOptionalAction, default=True,
        help="on text inputs, also count chemtok+NAME: chemtok's router with baseline NAME as its text model "
        "(default: on)",
    )
    parser.add_argument(
        "--compact", action=argparse.BooleanOptionalAction, default=True,
        help="also count chemtok's compact SMILES model (chemtok-compact rows on SMILES and text inputs; "
        "default: on)",
    )
    parser.add_argument(
        "--plots", action=argparse.BooleanOptionalAction, default=True,
        help="draw PNG plots with matplotlib (default: on; skipped with a warning if matplotlib is missing)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not report progress on stderr")


def run(args: argparse.Namespace) -> int:
    """Run ``chemtok bench`` from parsed arguments; print the summary; return the exit code.

    Exit codes: 0 done, 1 an input or baseline could not be read or measured, 2 a
    malformed argument.
    """
    try:
        baselines: dict[str, str] = {}
        for spec in args.baseline:
            name, path = parse_baseline(spec)
            if name in baselines:
                raise ValueError(f"baseline name {name!r} given twice; names must be unique")
            baselines[name] = path
        if args.max_records is not None and args.max_records < 1:
            raise ValueError(f"--max-records must be at least 1, got {args.max_records}")
    except ValueError as err:
        print(f"chemtok bench: error: {err}", file=sys.stderr)
        return 2

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    from chemtok.errors import ChemtokError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_benchmark(
                args.inputs,
                baselines,
                out_dir=args.out,
                modality=args.modality,
                column=args.column,
                max_records=args.max_records,
                seed=args.seed,
                hybrid=args.hybrid,
                compact=args.compact,
                plots=args.plots,
                progress=None if args.quiet else report,
            )
    except (ValueError, OSError, ChemtokError) as err:
        print(f"chemtok bench: error: {err}", file=sys.stderr)
        return 1
    for warning in caught:
        print(f"chemtok bench: warning: {warning.message}", file=sys.stderr)
    print("\n".join(_summary_tables(result.summary)))
    if not args.quiet:
        for path in result.files:
            report(f"wrote {path}")
    return 0
