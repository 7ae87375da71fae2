"""What a benchmark reports: :class:`BenchmarkResult`, its pooled summary, ``results.json`` and ``results.md``.

Example:
    >>> from chemtok.bench.report import summary_tables
    >>> row = {"group": "smiles", "tokenizer": "chemtok", "inputs": 1, "records": 2, "chars": 15,
    ...        "tokens": 15, "mean_tokens": 7.5, "median_tokens": 7.5, "p95_tokens": 8.0,
    ...        "chars_per_token": 1.0, "tokens_vs_chemtok": 1.0, "roundtrip_rate": 1.0, "unk_rate": 0.0,
    ...        "byte_fallback_rate": 0.0, "atom_alignment": 1.0, "boundary_alignment": 1.0,
    ...        "intact_alignment": 1.0, "layer_alignment": None}
    >>> print(summary_tables([row])[4])
    | smiles | `chemtok` | 1 | 2 | 7.5 | 7.5 | 8.0 | 1.00 | 1.00× |
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chemtok.base import ROUTER_MODALITY
from chemtok.bench.inputs import CHEMTOK, GROUPS, Baseline
from chemtok.bench.metrics import percentile, rate
from chemtok.bench.plots import plot_results

__all__ = [
    "BenchmarkResult",
    "benchmark_metadata",
    "jsonable",
    "render_markdown",
    "summarize",
    "summary_tables",
    "write_results",
]


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
        document: dict[str, Any] = jsonable({**self.metadata, "rows": list(self.rows), "summary": list(self.summary)})
        return document

    def to_markdown(self) -> str:
        """The ``results.md`` tables."""
        return render_markdown(self)


def jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def benchmark_metadata(
    baselines: Sequence[Baseline], max_records: int | None, seed: int, hybrid: bool, compact: Any | None
) -> dict[str, Any]:
    import importlib.metadata
    import platform

    import chemtok
    from chemtok.dialects import load_markers
    from chemtok.grammar import (
        load_inchi_grammar,
        load_sequence_grammar,
        load_smiles_grammar,
    )

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


def summarize(rows: Sequence[dict[str, Any]], lengths: Mapping[tuple[str, str], Sequence[int]]) -> list[dict[str, Any]]:
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

        def pooled_rate(rs: list[dict[str, Any]], key: str, weight: str) -> float | None:
            total = sum(r[weight] for r in rs)
            return rate(sum(r[key] * r[weight] for r in rs), total)

        entry: dict[str, Any] = {
            "group": group,
            "tokenizer": name,
            "inputs": len(members),
            "records": records,
            "chars": chars,
            "tokens": tokens,
            "mean_tokens": rate(tokens, records),
            "median_tokens": percentile(pooled, 50) if pooled else None,
            "p95_tokens": percentile(pooled, 95) if pooled else None,
            "chars_per_token": rate(chars, tokens),
            "tokens_vs_chemtok": None,
            "roundtrip_rate": rate(sum(r["roundtrip_records"] for r in members), records),
            "unk_rate": rate(sum(r["unk_tokens"] for r in members), tokens),
            "byte_fallback_rate": rate(sum(r["byte_fallback_tokens"] for r in members), tokens),
            "atom_alignment": pooled_rate(aligned, "atom_alignment", "alignment_tokens"),
            "boundary_alignment": pooled_rate(aligned, "boundary_alignment", "alignment_tokens"),
            "intact_alignment": pooled_rate(aligned, "intact_alignment", "alignment_tokens"),
            "layer_alignment": pooled_rate(layered, "layer_alignment", "layer_alignment_tokens"),
        }
        if group in (ROUTER_MODALITY, "text"):
            for key in ("marker_tokens", "inside_tokens", "outside_tokens", "crossing_tokens"):
                entry["mean_" + key] = rate(sum(r[key] for r in members), records)
        out.append(entry)
        if name == CHEMTOK:
            chemtok_tokens[(group, frozenset(r["input"] for r in members))] = tokens
    for entry in out:
        inputs = frozenset(r["input"] for r in keyed[(entry["group"], entry["tokenizer"])])
        base = chemtok_tokens.get((entry["group"], inputs))
        entry["tokens_vs_chemtok"] = rate(entry["tokens"], base) if base else None
    return out


def write_results(result: BenchmarkResult, out_dir: str | Path, *, plots: bool = True) -> list[str]:
    """Write ``results.json``, ``results.md`` and (with matplotlib) the PNG plots.

    Returns:
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
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
    lines.extend(summary_tables(result.summary))
    if detail:
        for group in GROUPS:
            group_rows = [r for r in result.rows if r["group"] == group]
            if group_rows:
                lines.append("")
                lines.extend(_detail_table(group, group_rows))
    return "\n".join(lines) + "\n"


def summary_tables(summary: Sequence[dict[str, Any]]) -> list[str]:
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
    text = [s for s in summary if s["group"] == ROUTER_MODALITY]
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
    elif group == ROUTER_MODALITY:
        extra = [
            ("markers", lambda r: _fmt_num(r.get("mean_marker_tokens"))),
            ("inside", lambda r: _fmt_num(r.get("mean_inside_tokens"))),
            ("outside", lambda r: _fmt_num(r.get("mean_outside_tokens"))),
            ("crossing", lambda r: _fmt_num(rate(r.get("crossing_tokens", 0), r["records"]), 2)),
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
