"""Write the engine specs of the shipped grammars for the Rust unit tests.

The Rust core builds its lexers from one JSON spec that Python generates
(:func:`chemtok.native.engine_spec`); ``cargo test`` cannot call Python, so it reads
the same JSON from ``rust/chemtok-core/specs/`` (and ``detect.json``, the spec of
:meth:`chemtok.detect.Detector.native_spec`). Run this after changing a grammar
file, a grammar dataclass or a reason message; ``tests/test_native_spec.py`` fails
while the files differ from what Python generates.

The SELFIES vocabulary is built in Python from the grammar (no data file holds it),
so its token list in id order, as the binding receives it, is written beside its spec
(``selfies_tokens.json``).

    python scripts/write_native_specs.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import chemtok
from chemtok.detect import Detector
from chemtok.native import engine_spec_json

SPECS = Path(__file__).resolve().parent.parent / "rust" / "chemtok-core" / "specs"


def main() -> int:
    SPECS.mkdir(parents=True, exist_ok=True)
    for name in ("smiles", "inchi", "protein", "dna"):
        tok = chemtok.get_tokenizer(name)
        (SPECS / f"{name}.json").write_text(engine_spec_json(tok, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {SPECS / name}.json")
    selfies = chemtok.get_tokenizer("selfies")
    (SPECS / "selfies.json").write_text(engine_spec_json(selfies, indent=1) + "\n", encoding="utf-8")
    tokens = json.dumps(list(selfies.vocabulary.tokens), ensure_ascii=False, indent=1)
    (SPECS / "selfies_tokens.json").write_text(tokens + "\n", encoding="utf-8")
    print(f"wrote {SPECS / 'selfies.json'} and {SPECS / 'selfies_tokens.json'}")
    # The detector's rules (chemtok.detect.Detector.native_spec), for the detector's tests.
    detect = json.dumps(Detector(engine="python").native_spec(), sort_keys=True, ensure_ascii=False, indent=1)
    (SPECS / "detect.json").write_text(detect + "\n", encoding="utf-8")
    print(f"wrote {SPECS / 'detect'}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
