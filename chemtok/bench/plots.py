"""The PNG plots of a benchmark (matplotlib, imported only when drawing).

Example:
    >>> from chemtok.bench.plots import plot_results
    >>> plot_results.__name__
    'plot_results'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chemtok.bench.inputs import CHEMTOK, COMPACT, GROUPS

if TYPE_CHECKING:
    from chemtok.bench.report import BenchmarkResult

__all__ = ["plot_results"]


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
    (log scale), the same relative to chemtok, and beside them how well the tokens
    sit on chemical units: atom alignment (InChI: layer alignment) and boundary
    alignment. ``length_distribution.png``: one panel per modality with the
    distribution of tokens per record for each tokenizer (box: quartiles, whiskers:
    5th-95th percentile, dots: the records beyond them; log scale), the panels
    filling the canvas row by row.

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
    from matplotlib.ticker import (
        FuncFormatter,
        LogLocator,
        NullFormatter,
        PercentFormatter,
    )

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
    fig, (top, bottom, align) = plt.subplots(
        3, 1, figsize=(max(9.0, 1.1 * edge + 1.5), 11.0), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]}
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
            # What chemtok claims: tokens inside one unit (solid) and on unit boundaries (pale).
            inside = s["atom_alignment"] if s["atom_alignment"] is not None else s["layer_alignment"]
            for share, shift, alpha in ((inside, -width / 4, 1.0), (s["boundary_alignment"], width / 4, 0.45)):
                if share is not None:
                    align.bar(x + shift, share, width / 2, color=colors[name], alpha=alpha, edgecolor="white")
    log_axis(top)
    highest = max((s["mean_tokens"] or 1) for s in summary)
    top.set_ylim(1, highest * 3)  # bars on a log axis start at one token; room for the labels
    top.set_ylabel("mean tokens per record (log scale)")
    fig.suptitle("Tokens per record by modality and tokenizer (fewer is better)", fontsize=12)
    bottom.axhline(1.0, color="black", linewidth=0.8)
    bottom.set_ylabel("tokens ÷ chemtok's tokens\n(below 1: fewer than chemtok)")
    align.set_ylim(0, 1.05)
    align.yaxis.set_major_formatter(PercentFormatter(1.0))
    align.set_ylabel("tokens on chemical units\nsolid: inside one atom (InChI: layer)\npale: on unit boundaries",
                     fontsize=9)
    align.set_xticks(centers)
    pad = max(0.0, 4.0 - edge) / 2  # a single group should not fill the figure with two huge bars
    align.set_xlim(-gap / 2 - pad, edge - gap / 2 + pad)
    labels = []
    for g in groups:
        records = next((s["records"] for s in summary if s["group"] == g and s["tokenizer"] == CHEMTOK), 0)
        labels.append(f"{g}\n{records:,} records")
    align.set_xticklabels(labels)
    for axis in (top, bottom, align):
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

    # 2. Distribution of tokens per record: rows of panels, each panel as wide as its
    # boxes, so that every row fills the canvas (mixed text with 11 tokenizers is wide).
    boxes = {g: sum(1 for s in summary if s["group"] == g) for g in groups}
    per_row = max(8, *boxes.values())
    panel_rows: list[list[str]] = [[]]
    for group in groups:
        if panel_rows[-1] and sum(boxes[g] for g in panel_rows[-1]) + boxes[group] > per_row:
            panel_rows.append([])
        panel_rows[-1].append(group)
    fig = plt.figure(figsize=(max(7.0, 0.75 * per_row + 2.0), 4.2 * len(panel_rows)))
    outer = fig.add_gridspec(len(panel_rows), 1)
    for r, row_groups in enumerate(panel_rows):
        inner = outer[r].subgridspec(1, len(row_groups), width_ratios=[max(2, boxes[g]) for g in row_groups])
        for c, group in enumerate(row_groups):
            ax = fig.add_subplot(inner[0, c])
            if c == 0:
                ax.set_ylabel("tokens per record (log scale)")
            tokenizer_names = [s["tokenizer"] for s in summary if s["group"] == group]
            inputs = [row["input"] for row in result.rows if row["group"] == group and row["tokenizer"] == CHEMTOK]
            data = [[max(1, n) for i in inputs for n in result.lengths.get((i, name), ())] for name in tokenizer_names]
            box = ax.boxplot(data, whis=(5, 95), showfliers=True, patch_artist=True, widths=0.6,
                             medianprops={"color": "black"},
                             flierprops={"marker": ".", "markersize": 3, "alpha": 0.35, "markeredgewidth": 0,
                                         "markerfacecolor": "black"})
            for patch, name in zip(box["boxes"], tokenizer_names):
                patch.set_facecolor(colors[name])
                patch.set_hatch(hatch(name))
                patch.set_alpha(0.85)
            log_axis(ax)
            values = [v for d in data for v in d]
            if values:  # the whole range, longest record included, and no empty band
                ax.set_ylim(min(values) / 1.2, max(values) * 1.2)
            ax.set_xticks(range(1, len(tokenizer_names) + 1))
            ax.set_xticklabels(tokenizer_names, rotation=35, ha="right", fontsize=8)
            ax.set_title(f"{group} ({len(data[0]) if data else 0:,} records)", fontsize=10)
            ax.grid(axis="y", alpha=0.3, which="both")
            ax.set_axisbelow(True)
    fig.suptitle("Sequence lengths: box = quartiles, whiskers = 5th-95th percentile, dots = beyond", fontsize=11)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.97))  # room for the title
    path = out / "length_distribution.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(str(path))
    return written
