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
