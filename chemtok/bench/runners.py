"""The tokenizers under test, and counting their tokens over the records of each input.

A :class:`Runner` encodes a chunk of records into ids, token spans and decodes:
:class:`BaselineRunner` a ``tokenizer.json`` (offsets made to tile the string by
:func:`chemtok.encoding.tile_text_model_offsets`), :class:`ModalityRunner` and
:class:`RouterRunner` a chemtok tokenizer from :func:`chemtok.registry.load_tokenizer`
(spans from ``encode_with_offsets``). :func:`run_benchmark` runs them all.

Example:
    >>> from chemtok.bench.runners import ModalityRunner
    >>> from chemtok.registry import load_tokenizer
    >>> runner = ModalityRunner("chemtok", load_tokenizer("smiles", on_error="fallback"))
    >>> [e.spans for e in runner.encode(["CCO"])]
    [[(0, 1), (1, 2), (2, 3)]]
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chemtok.base import ROUTER_MODALITY
from chemtok.bench.inputs import (
    CHEMTOK,
    COMPACT,
    MODALITIES,
    Baseline,
    InputSpec,
    default_column,
    group_of,
    infer_modality,
    read_texts,
    record_units,
    sha256_of,
    split_segments,
)
from chemtok.bench.metrics import (
    Alignment,
    Span,
    percentile,
    rate,
    segment_token_counts,
    spans_tile,
    unit_alignment,
)
from chemtok.bench.report import (
    BenchmarkResult,
    benchmark_metadata,
    summarize,
    write_results,
)
from chemtok.registry import load_tokenizer

__all__ = [
    "BaselineRunner",
    "Encoded",
    "ModalityRunner",
    "RouterRunner",
    "Runner",
    "Tally",
    "compact_smiles",
    "measure",
    "result_row",
    "run_benchmark",
    "select_runners",
]

_CHUNK = 4096


@dataclass
class Encoded:
    ids: list[int]
    spans: list[Span] | None  # None: spans not available for this record
    decoded: str


class Runner:
    """A tokenizer under test: encodes chunks of records into ids, spans and decodes."""

    name: str
    unk_ids: frozenset[int] = frozenset()
    fallback_ids: frozenset[int] = frozenset()

    def encode(self, texts: list[str]) -> list[Encoded]:
        raise NotImplementedError


def model_unk_and_fallback(tok: Any, config: Mapping[str, Any]) -> tuple[frozenset[int], frozenset[int]]:
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


class BaselineRunner(Runner):
    def __init__(self, baseline: Baseline) -> None:
        from tokenizers import Tokenizer

        self.name = baseline.name
        try:
            self.tok = Tokenizer.from_file(baseline.path)
        except Exception as err:  # tokenizers raises a bare Exception
            raise ValueError(f"baseline {baseline.name!r}: {baseline.path} is not a loadable tokenizer.json ({err})") from None
        config = json.loads(self.tok.to_str())
        self.unk_ids, self.fallback_ids = model_unk_and_fallback(self.tok, config)

    def encode(self, texts: list[str]) -> list[Encoded]:
        from chemtok.encoding import tile_text_model_offsets

        encodings = self.tok.encode_batch(texts, add_special_tokens=False)
        ids = [e.ids for e in encodings]
        decoded = self.tok.decode_batch(ids, skip_special_tokens=False)
        # The model's offsets, made to tile the string by the rule chemtok's own text
        # model follows (see chemtok.encoding): comparable spans for every row.
        return [
            Encoded(row, tile_text_model_offsets(text, e.offsets), back)
            for text, row, e, back in zip(texts, ids, encodings, decoded)
        ]


class ModalityRunner(Runner):
    """A chemtok grammar tokenizer (SMILES, InChI, protein, DNA) under ``on_error="fallback"``."""

    def __init__(self, name: str, tok: Any) -> None:
        from chemtok.vocab import byte_of_token

        self.name = name
        self.tok = tok
        unk = tok.vocabulary.token_to_id.get("<unk>")
        self.unk_ids = frozenset([unk]) if unk is not None else frozenset()
        self.fallback_ids = frozenset(i for i, t in enumerate(tok.vocabulary.tokens) if byte_of_token(t) is not None)

    @classmethod
    def load(cls, name: str, modality: str) -> ModalityRunner:
        """The runner of chemtok's own ``modality`` tokenizer (from :func:`~chemtok.registry.load_tokenizer`)."""
        return cls(name, load_tokenizer(modality, on_error="fallback"))

    def encode(self, texts: list[str]) -> list[Encoded]:
        encodings = [self.tok.encode_with_offsets(text, on_error="fallback") for text in texts]
        return [Encoded(e.ids, e.offsets, self.tok.decode(e.ids)) for e in encodings]


class RouterRunner(Runner):
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
        text_unk, text_fallback = model_unk_and_fallback(backend, config)
        self.unk_ids = frozenset([tok.unk_token_id, *(text_offset + i for i in text_unk)])
        self.fallback_ids = frozenset([*range(offset, offset + size), *(text_offset + i for i in text_fallback)])

    def encode(self, texts: list[str]) -> list[Encoded]:
        encodings = [self.tok.encode_with_offsets(text, on_error="fallback") for text in texts]
        return [Encoded(e.ids, e.offsets, self.tok.decode(e.ids)) for e in encodings]


# -- measuring ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Running counts of one (input, tokenizer) pair."""

    lengths: list[int] = field(default_factory=list)
    chars: int = 0
    roundtrip: int = 0
    unk: int = 0
    fallback: int = 0
    zero_width: int = 0
    offset_mismatch: int = 0
    atom: Alignment = field(default_factory=lambda: Alignment(0, 0, 0, 0))
    layer: Alignment = field(default_factory=lambda: Alignment(0, 0, 0, 0))
    marker: int = 0
    inside: int = 0
    outside: int = 0
    crossing: int = 0
    inside_by_modality: dict[str, int] = field(default_factory=dict)


def measure(
    runner: Runner,
    texts: list[str],
    modality: str,
    units: list[tuple[list[Span], list[Span]]],
    segments: list[list[tuple[str, int, int]]] | None,
) -> Tally:
    tally = Tally()
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


def result_row(spec: InputSpec, modality: str, group: str, column: str | None, name: str, tally: Tally,
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
        "mean_tokens": rate(tokens, records),
        "median_tokens": percentile(lengths, 50) if lengths else None,
        "p95_tokens": percentile(lengths, 95) if lengths else None,
        "max_tokens": max(lengths) if lengths else None,
        "chars_per_token": rate(tally.chars, tokens),
        "tokens_vs_chemtok": None,
        "roundtrip_rate": rate(tally.roundtrip, records),
        "roundtrip_records": tally.roundtrip,
        "unk_rate": rate(tally.unk, tokens) if tokens else None,
        "unk_tokens": tally.unk,
        "byte_fallback_rate": rate(tally.fallback, tokens) if tokens else None,
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
            mean_inside_tokens=rate(tally.inside, records),
            mean_outside_tokens=rate(tally.outside, records),
            mean_marker_tokens=rate(tally.marker, records),
        )
    return row


def compact_smiles() -> Any | None:
    """chemtok's compact SMILES model, or ``None`` (with a warning) when it cannot load."""
    from chemtok.errors import ChemtokError

    try:
        return load_tokenizer("smiles", smiles_model="compact", on_error="fallback")
    except (TypeError, ValueError, OSError, ChemtokError) as err:
        warnings.warn(f"{COMPACT} rows skipped: the compact SMILES model does not load ({err})", stacklevel=3)
        return None


def _router(name: str, smiles_model: Any) -> RouterRunner:
    """chemtok's router with its own text model (``chemtok`` or ``chemtok-compact`` rows on text)."""
    return RouterRunner(name, load_tokenizer(ROUTER_MODALITY, smiles_model=smiles_model, on_error="fallback", strict_markers=False))


def _hybrid(baseline: Baseline, smiles: Any | None) -> RouterRunner:
    """chemtok's router with ``baseline`` as its text model (``chemtok+NAME`` / ``chemtok-compact+NAME`` rows)."""
    import chemtok

    if smiles is None:
        tok = chemtok.ChemTokenizer.from_base(baseline.path, on_error="fallback", strict_markers=False)
        return RouterRunner(f"{CHEMTOK}+{baseline.name}", tok)
    tok = chemtok.ChemTokenizer.from_base(baseline.path, smiles=smiles, on_error="fallback", strict_markers=False)
    return RouterRunner(f"{COMPACT}+{baseline.name}", tok)


def select_runners(
    modality: str,
    baselines: Sequence[Baseline],
    hybrid: bool,
    compact: Any | None,
    extra: Mapping[str, Any],
    cache: dict[str, Runner],
) -> list[Runner]:
    """The tokenizers to run on an input of ``modality`` (``"prose"``: text without markers).

    A runner is built once per key of ``cache`` and shared by every input that needs it.

    Example:
        >>> [r.name for r in select_runners("dna", [], True, None, {}, {})]
        ['chemtok']
    """
    if modality == "prose":
        # Without markers the router sends everything to the text model: chemtok+NAME
        # would repeat NAME's row and chemtok-compact chemtok's, so both are left out.
        modality, hybrid, compact = "text", False, None

    wanted: list[tuple[str, Callable[..., Runner], tuple[Any, ...]]] = []  # (cache key, factory, its arguments)
    if modality == "text":
        wanted.append((CHEMTOK + ":text", _router, (CHEMTOK, "atom")))
    else:
        wanted.append((CHEMTOK + ":" + modality, ModalityRunner.load, (CHEMTOK, modality)))
    if compact is not None and modality == "smiles":
        wanted.append((COMPACT + ":smiles", ModalityRunner, (COMPACT, compact)))
    elif compact is not None and modality == "text":
        wanted.append((COMPACT + ":text", _router, (COMPACT, compact)))
    for name, tok in extra.items():
        kind = getattr(tok, "name", None)
        if modality == "text" and kind == ROUTER_MODALITY:
            wanted.append((name + ":text", RouterRunner, (name, tok)))
        elif kind == modality:
            wanted.append((name + ":" + modality, ModalityRunner, (name, tok)))
    wanted.extend(("baseline:" + b.name, BaselineRunner, (b,)) for b in baselines)
    if modality == "text" and hybrid:
        wanted.extend(("hybrid:" + b.name, _hybrid, (b, None)) for b in baselines)
        if compact is not None:
            wanted.extend(("compact-hybrid:" + b.name, _hybrid, (b, compact)) for b in baselines)
    runners: list[Runner] = []
    for key, make, args in wanted:
        if key not in cache:
            cache[key] = make(*args)
        runners.append(cache[key])
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
        col = spec.column or column or default_column(spec.path, mod)
        resolved.append((spec, mod, col))
    loaded: list[Baseline] = []
    for name, path in baselines.items():
        if not Path(path).is_file():
            raise FileNotFoundError(f"baseline {name!r}: file not found: {path}")
        loaded.append(Baseline(name, str(path), sha256_of(path)))

    cache: dict[str, Runner] = {}
    compact_tok = compact_smiles() if compact and any(m in ("smiles", "text") for _, m, _ in resolved) else None
    rows: list[dict[str, Any]] = []
    lengths: dict[tuple[str, str], tuple[int, ...]] = {}
    router = None
    for spec, mod, col in resolved:
        started = time.perf_counter()
        texts, available, unreadable = read_texts(spec.path, col, max_records, seed)
        segments: list[list[Any]] | None = None
        if mod == "text":
            if router is None:
                router = load_tokenizer(ROUTER_MODALITY, strict_markers=False)
            segments = [split_segments(router, text) for text in texts]
        units = [record_units(mod, text, segments[i] if segments else None) for i, text in enumerate(texts)]
        plain_segments = [[(s.modality, s.start, s.end) for s in segs] for segs in segments] if segments else None
        has_markers = any(s[0] == "marker" for segs in plain_segments or () for s in segs)
        group = group_of(spec.path, mod, has_markers)
        kind = "prose" if mod == "text" and not has_markers else mod
        runners = select_runners(kind, loaded, hybrid, compact_tok, extra_tokenizers or {}, cache)
        input_rows: list[dict[str, Any]] = []
        for runner in runners:
            tally = measure(runner, texts, mod, units, plain_segments)
            input_rows.append(result_row(spec, mod, group, col, runner.name, tally, available, unreadable))
            lengths[(spec.path, runner.name)] = tuple(tally.lengths)
        chemtok_tokens = input_rows[0]["tokens"]
        for row in input_rows:
            row["tokens_vs_chemtok"] = rate(row["tokens"], chemtok_tokens)
        rows.extend(input_rows)
        if progress is not None:
            sampled = f" (sample of {available:,})" if len(texts) < available else ""
            progress(
                f"{spec.path}: {mod}, {len(texts):,} records{sampled}, {len(runners)} tokenizers, "
                f"{time.perf_counter() - started:.1f} s"
            )
    result = BenchmarkResult(
        rows=tuple(rows),
        summary=tuple(summarize(rows, lengths)),
        metadata=benchmark_metadata(loaded, max_records, seed, hybrid, compact_tok),
        lengths=lengths,
    )
    if out_dir is not None:
        files = write_results(result, out_dir, plots=plots)
        result = BenchmarkResult(result.rows, result.summary, result.metadata, result.lengths, tuple(files))
    return result
