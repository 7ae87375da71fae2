"""Build the shipped SMILES and InChI vocabularies from real data.

Every vocabulary is the grammar's closed base (every token an input may need) plus
tokens learned from the corpora: whole bracket atoms, bracket cores (``CH3``,
``C@@H``) and ``%(nnn)`` ring numbers for SMILES; element+count pairs (``C12``,
``H3``) for InChI. Learned tokens are ordered by frequency, ties by string, so the
result is deterministic for a given input.

Usage (from the repository root):
    python scripts/build_vocab.py --data ../shared/data

Atom-mapped bracket atoms are never learned whole, so ``[cH:6]`` is ``[``, ``cH``,
``:6``, ``]`` and shares its core token with every other mapped aromatic CH.

Writes ``chemtok/data/smiles_vocab.json`` and ``chemtok/data/inchi_vocab.json``.

After a grammar change that adds base tokens, ``--keep-ids`` keeps every token of
the shipped files at its id and appends only the base tokens they lack (no corpus is
read), so that ids already in use never move:
    python scripts/build_vocab.py --keep-ids
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from chemtok.base import NoRule
from chemtok.grammar import load_inchi_grammar, load_smiles_grammar
from chemtok.inchi import InchiLexer, inchi_base_tokens
from chemtok.io import read_records
from chemtok.smiles import SmilesLexer, smiles_base_tokens

ROOT = Path(__file__).resolve().parent.parent


def smiles_counts(paths: list[Path]) -> collections.Counter[str]:
    """Count learnable SMILES lexemes over every record of ``paths``."""
    g = load_smiles_grammar()
    lexer = SmilesLexer(g)
    counts: collections.Counter[str] = collections.Counter()
    for path in paths:
        column = "smiles" if path.name.endswith((".tsv", ".tsv.gz")) else None
        for record in read_records(path, column=column):
            text = record.text or ""
            pos = 0
            while pos < len(text):
                if text.startswith(g.bracket_open, pos):
                    try:
                        end, _, _, props = lexer.bracket_parts(text, pos)
                    except NoRule:
                        break
                    core = []
                    for kind, part in props:
                        if kind == "atom_class":
                            break
                        core.append(part)
                    counts["".join(core)] += 1
                    # An atom-mapped bracket ([cH:6]) is never learned whole: it is
                    # spelled "[", core, class, "]", so [cH:6] and [cH:7] share the core.
                    if len(core) == len(props):
                        counts[text[pos:end]] += 1
                    pos = end
                    continue
                m = lexer.top_run.match(text, pos)
                if not m:
                    break
                for lexeme in lexer.top.findall(m.group()):
                    if lexeme.startswith(g.ring_paren_open):
                        counts[lexeme] += 1
                pos = m.end()
    return counts


def inchi_counts(paths: list[Path]) -> collections.Counter[str]:
    """Count element+count pairs over every InChI in ``paths``."""
    lexer = InchiLexer(load_inchi_grammar())
    counts: collections.Counter[str] = collections.Counter()
    for path in paths:
        for record in read_records(path, column="inchi"):
            for m in lexer.element_count.finditer(record.text or ""):
                if m.group(2):
                    counts[m.group()] += 1
    return counts


def learned(counts: collections.Counter[str], base: tuple[str, ...], min_count: int) -> list[str]:
    have = set(base)
    items = [(n, t) for t, n in counts.items() if n >= min_count and t not in have]
    return [t for n, t in sorted(items, key=lambda x: (-x[0], x[1]))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="the shared data folder")
    parser.add_argument("--out", type=Path, default=ROOT / "chemtok" / "data", help="where to write the vocabularies")
    parser.add_argument("--min-count", type=int, default=10, help="keep learned tokens seen at least this often")
    parser.add_argument(
        "--keep-ids", action="store_true", help="keep the shipped files' ids; append the base tokens they lack"
    )
    args = parser.parse_args(argv)
    if args.keep_ids:
        append_base(args.out / "smiles_vocab.json", load_smiles_grammar().tag, smiles_base_tokens(load_smiles_grammar()))
        append_base(args.out / "inchi_vocab.json", load_inchi_grammar().tag, inchi_base_tokens(load_inchi_grammar()))
        return 0

    smiles_files = sorted(p for p in (args.data / "smiles").iterdir() if p.name != "hard_cases.tsv.gz")
    g = load_smiles_grammar()
    base = smiles_base_tokens(g)
    extra = learned(smiles_counts(smiles_files), base, args.min_count)
    write(args.out / "smiles_vocab.json", g.tag, base, extra, smiles_files, args.min_count)

    inchi_files = sorted((args.data / "inchi").iterdir())
    gi = load_inchi_grammar()
    base_i = inchi_base_tokens(gi)
    extra_i = learned(inchi_counts(inchi_files), base_i, args.min_count)
    write(args.out / "inchi_vocab.json", gi.tag, base_i, extra_i, inchi_files, args.min_count)
    return 0


def write(path: Path, tag: str, base: tuple[str, ...], extra: list[str], sources: list[Path], min_count: int) -> None:
    data = {
        "grammar": tag,
        "built_by": "scripts/build_vocab.py",
        "sources": [f"shared/data/{p.parent.name}/{p.name}" for p in sources],
        "min_count": min_count,
        "base_tokens": len(base),
        "learned_tokens": len(extra),
        "tokens": [*base, *extra],
    }
    path.write_text(json.dumps(data, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: {len(base)} base + {len(extra)} learned tokens")


def append_base(path: Path, tag: str, base: tuple[str, ...]) -> None:
    """Append to the vocabulary at ``path`` the base tokens it lacks, keeping every id."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("grammar") != tag:
        raise SystemExit(f"{path}: built for {data.get('grammar')!r}, not {tag!r}; rebuild it without --keep-ids")
    have = set(data["tokens"])
    missing = [t for t in base if t not in have]
    if not missing:
        print(f"{path}: nothing to add")
        return
    data["tokens"] = [*data["tokens"], *missing]
    data["base_tokens"] = len(base)
    data["appended_base_tokens"] = [*data.get("appended_base_tokens", []), *missing]
    path.write_text(json.dumps(data, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: appended {len(missing)} base tokens {missing}")


if __name__ == "__main__":
    raise SystemExit(main())
