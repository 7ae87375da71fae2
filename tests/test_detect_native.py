"""The native detector (Rust core) returns exactly the spans of the Python reference.

``Detector(engine="python")`` is the reference; ``Detector()`` runs the Rust core when it
is built. Properties over arbitrary Unicode and over text made of SMILES pieces, cue
words and look-alike characters; every text of the detection evaluation set and of the
text files of the shared data (a seeded sample by default, every record with
``CHEMTOK_FULL_CORPUS=1``); exact cases for the traps of Python's ``re`` (``\\s``,
``\\b``, ``$``, case-insensitive letters, code-point offsets).
"""

from __future__ import annotations

import gzip
import json
import pickle
import random
import re
import sys
import textwrap
from collections.abc import Iterator

import pytest
from conftest import DATA, ROOT, full_corpus_enabled
from hypothesis import given
from hypothesis import strategies as st

from chemtok import native
from chemtok.annotate import (
    _matcher,
    annotate,
    annotate_batch,
    annotate_with_insertions,
    resolve_markers,
    text_spans,
)
from chemtok.detect import CUES, DETECTABLE, TOKEN_KINDS, Detector, Span

pytestmark = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

REFERENCE = Detector(engine="python")
NATIVE = Detector(engine="native") if native.available() else REFERENCE
SAMPLE_SIZE = 1500


def same(text: str, fast: Detector = NATIVE, reference: Detector = REFERENCE) -> list[Span]:
    expected = reference.detect(text)
    assert fast.detect(text) == expected, text
    return expected


def test_the_native_detector_runs() -> None:
    assert NATIVE.engine == "native"
    assert REFERENCE.engine == "python"
    assert Detector(rdkit=False).engine == "native"


# -- properties ------------------------------------------------------------------------


@given(st.text())
def test_any_unicode_text(text: str) -> None:
    same(text)


PIECES = [
    *"CNOSPFIBcnosp*()[]=#-+/\\%@:.>1234567890",
    *("Cl", "Br", "[nH]", "[C@@H]", "[NH4+]", "c1ccccc1", "CC(=O)O", "%10", "%(123)", ">>", "->"),
    *(" ", " ", "  ", "\n", "\t", "|", ",", ";", "!", "?", "'", '"', "`", "{", "}", "<"),
    *("SMILES", "smiles", "molecule", "compound is", "structure:", "sequence", "peptide", "FASTA", "seq"),
    *("primers", "oligos", "is", "=", "The", "acid", "of", "ethanol", "II", "III", "NO", "CO2", "COX-1"),
    *("InChI=1S/", "InChI=1/", "CH4/h1H4", "C2H6O/c1-2-3/h3H,2H2,1H3", "InChI"),
    *("ACGT", "ACGTACGTAC", "acgtn", "UUAGC", "MKTAYIAKQRQISFVKSHFSRQ", "ABCDEFGHIKLMNPQRSTVWY", "*"),
    *("\u2019", "\u201c", "\u2014", "\u00b5", "\u00e9", "\u00a0", "\u017f", "\u212a", "\u0130", "\u0131", "\u2000"),
    *("\u0085", "\u1680", "\u3000", "\u200b", "\x1c", "\u2028", "\u00b2", "_", "x", "a", "Z"),
]


@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_text_of_smiles_pieces_cue_words_and_look_alikes(text: str) -> None:
    same(text)


@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), st.integers(-2, 25))
def test_options_pass_through(text: str, length: int) -> None:
    for options in ({"modalities": ("dna",)}, {"modalities": ("smiles", "protein")}, {"min_length": length}):
        same(text, Detector(engine="native", **options), Detector(engine="python", **options))  # type: ignore[arg-type]


@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=20).map("".join), max_size=8), st.sampled_from([1, 2, 3]))
def test_a_batch_is_the_texts_one_by_one(texts: list[str], threads: int) -> None:
    assert NATIVE.detect_batch(texts, num_threads=threads) == [REFERENCE.detect(t) for t in texts]


# -- Python's Unicode tables, as the spec hands them over --------------------------------------


def test_whitespace_is_python_isspace_for_every_code_point() -> None:
    whitespace = set(NATIVE.native_spec()["whitespace"])
    everything = [chr(c) for c in range(sys.maxunicode + 1)]
    assert whitespace == {c for c in everything if c.isspace()}
    # each one ends a bracket run and an InChI run exactly where Python's \s does
    for c in sorted(whitespace) + ["\u200b", "\ufeff", "\u180e", "\u00b7", "\x1b"]:
        same(f"x [N{c}H4+]CC(C)C and InChI=1S/CH4/h1H4{c}x")


def test_casefold_letters_are_every_non_ascii_match_of_an_ascii_letter() -> None:
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    matches = set()
    for letter in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
        matches.update(c for c in re.findall(f"(?i){letter}", everything) if not c.isascii())
    assert set(NATIVE.native_spec()["casefold_letters"]) == matches == {"\u0130", "\u0131", "\u017f", "\u212a"}


def test_the_spec_numbers_follow_the_reference_tables() -> None:
    spec = NATIVE.native_spec()
    kinds = spec["smiles_kinds"]
    tokens = REFERENCE._smiles.vocabulary.tokens
    assert len(kinds) == len(tokens)
    by_token = dict(zip(tokens, (TOKEN_KINDS[k] for k in kinds)))
    assert (by_token["C"], by_token["c"], by_token["="], by_token["("], by_token["%10"]) == (
        "atom",
        "aromatic",
        "bond",
        "branch_open",
        "ring",
    )
    assert (by_token["["], by_token["]"], by_token[">>"], by_token["<0x41>"]) == (
        "bracket_open",
        "bracket_close",
        "arrow",
        "other",
    )
    assert spec["modalities"] == list(DETECTABLE)
    assert len(CUES) == 7


# -- exact cases ---------------------------------------------------------------------------------


def found(text: str) -> list[tuple[str, str, str]]:
    return [(text[s.start : s.end], s.modality, s.cue) for s in same(text)]


def undecided(text: str) -> bool:
    engine = NATIVE._native
    assert engine is not None
    return engine.detect(text) is None


@pytest.mark.parametrize(
    ("text", "expected", "falls_back"),
    [
        # `$` also matches right before a final "\n": the cue stands on the line above
        ("SMILES:\nCCO", [("CCO", "smiles", "smiles-cue")], False),
        ("SMILES:\n\nCCO", [("CCO", "smiles", "line")], False),
        # \s is Python's: NBSP and a tab after the cue word
        ("the molecule\u00a0CCO", [("CCO", "smiles", "smiles-cue")], False),
        ("compound:\tCCO", [("CCO", "smiles", "smiles-cue")], False),
        ("compound isCCO", [], False),
        # a cue's tail is at most 60 code points, whatever their bytes
        ("SMILES " + "\u00e9" * 58 + " CC", [("CC", "smiles", "smiles-cue")], False),
        ("SMILES " + "\u00e9" * 59 + " CC", [], False),
        # Python's IGNORECASE: long s, Kelvin sign, dotted/dotless i match ASCII letters
        ("\u017fMILES: CCO", [("CCO", "smiles", "smiles-cue")], True),
        ("the \u212aelvin sign; SMILES: CCO", [("CCO", "smiles", "smiles-cue")], True),
        ("mol\u0130cule CCO", [], True),
        ("Sequence\u0131 MKTAYIAKQR", [], True),
        # is a non-ASCII neighbour a word character for \b? Python's tables decide
        ("\u00e9SMILES CC", [], True),
        ("\u00b2SMILES CC", [], True),
        ("\u2019SMILES\u2019 CC", [("CC", "smiles", "smiles-cue")], True),
        ("peptide\u00e9 MKTAYIAKQR", [], True),
        # ... unless the answer cannot change the spans
        ("\u00e9SMILES CC(=O)O", [("CC(=O)O", "smiles", "structure")], False),
        # code-point offsets around non-ASCII text
        (
            "\u00e9 \u2014 SMILES: CCO, and \u201cCC(=O)O\u201d",
            [("CCO", "smiles", "smiles-cue"), ("CC(=O)O", "smiles", "structure")],
            False,
        ),
        # a rejected run still consumes its extent; brackets hold up to 40 code points
        ("xCC(=O)O CC(=O)O", [("CC(=O)O", "smiles", "structure")], False),
        ("[" + "N" * 40 + "]CC(=O)O", [], False),
        ("[" + "\u00e9" * 3 + "]CC(=O)O", [], False),
        # a protein stop '*' before a word character is left out of the run
        (
            "Seq: MKTAYIAKQRQISFVKSHFSRQ* and ABC*DEFGHIKLMNPQRSTVWYAC",
            [("MKTAYIAKQRQISFVKSHFSRQ*", "protein", "length"), ("DEFGHIKLMNPQRSTVWYAC", "protein", "length")],
            False,
        ),
        ("the peptide MKTAYIAKQR.", [("MKTAYIAKQR", "protein", "sequence-cue")], False),
        ("primer acgtacgtacgtacgtacgt", [("acgtacgtacgtacgtacgt", "dna", "length")], False),
        # InChI: trimmed, then checked by the InChI lexer
        ("Methane (InChI=1S/CH4/h1H4).", [("InChI=1S/CH4/h1H4", "inchi", "prefix")], False),
        ("xInChI=1S/CH4/h1H4", [], False),
    ],
)
def test_traps_of_python_re(text: str, expected: list[tuple[str, str, str]], falls_back: bool) -> None:
    assert found(text) == expected
    assert undecided(text) == falls_back


def test_a_lone_surrogate_goes_to_the_reference() -> None:
    text = "Aspirin, CC(=O)Oc1ccccc1C(=O)O \ud800 SMILES: CCO"
    assert [(text[s.start : s.end], s.cue) for s in same(text)] == [
        ("CC(=O)Oc1ccccc1C(=O)O", "structure"),
        ("CCO", "smiles-cue"),
    ]
    assert undecided(text)
    assert NATIVE.detect_batch([text, "CCO"]) == [REFERENCE.detect(text), REFERENCE.detect("CCO")]


def test_detect_batch_checks_its_items() -> None:
    with pytest.raises(TypeError, match="index 1"):
        NATIVE.detect_batch(["CCO", b"CCO"])  # type: ignore[list-item]


def test_rdkit_keeps_the_python_path() -> None:
    pytest.importorskip("rdkit")
    assert Detector(rdkit=True).engine == "python"


def test_a_detector_pickles_with_its_native_engine() -> None:
    copy = pickle.loads(pickle.dumps(Detector(modalities=("smiles",), min_length=4)))
    assert copy.engine == "native"
    # min_length=4 travels along: CCO is too short, CCCO is not
    assert copy.detect("SMILES: CCO; SMILES: CCCO") == [Span(21, 25, "smiles", 0.7, "smiles-cue")]


FORK = textwrap.dedent(
    """
    import json, os
    from chemtok.detect import Detector

    detector = Detector()
    assert detector.engine == "native", detector.engine
    texts = ["Aspirin, CC(=O)Oc1ccccc1C(=O)O, is an NSAID.", "SMILES: CCO", "The primer ATGGCGTACGTTAGCCTAGGAT."] * 200
    parent = [[(s.start, s.end, s.cue) for s in spans] for spans in detector.detect_batch(texts, num_threads=2)]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        child = [[(s.start, s.end, s.cue) for s in spans] for spans in detector.detect_batch(texts, num_threads=2)]
        with os.fdopen(write_end, "w") as out:
            json.dump(child, out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as source:
        child = [[tuple(s) for s in spans] for spans in json.load(source)]
    status = os.waitpid(pid, 0)[1]
    print("RESULT " + json.dumps({"same": child == parent, "status": status, "rows": len(parent)}))
    """
)


def test_a_forked_child_detects_with_the_parents_pools_gone() -> None:
    from test_fork import clean_env, run_isolated

    out, err = run_isolated("detect fork", ["-c", FORK], clean_env())
    line = next((line for line in out.splitlines() if line.startswith("RESULT ")), None)
    assert line is not None, out + err
    assert json.loads(line[len("RESULT ") :]) == {"same": True, "status": 0, "rows": 600}


# -- real texts ----------------------------------------------------------------------------------


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def text_file_texts(full: bool) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((DATA / "text").glob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            texts = [s for line in f if line.strip() for s in _strings(json.loads(line))]
        if not full and len(texts) > SAMPLE_SIZE:
            texts = random.Random(path.name).sample(texts, SAMPLE_SIZE)
        out[path.name] = texts
    return out


def eval_set_texts(full: bool) -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from detection_eval import load_eval_set

    texts = [d.text for docs in load_eval_set(prompts=False).values() for d in docs]
    if not full and len(texts) > 2 * SAMPLE_SIZE:
        texts = random.Random("eval").sample(texts, 2 * SAMPLE_SIZE)
    return texts


@pytest.fixture(scope="module")
def corpora(request: pytest.FixtureRequest) -> dict[str, list[str]]:
    if not (DATA / "text").is_dir():
        pytest.skip(f"shared data not found at {DATA} (set CHEMTOK_SHARED)")
    full = full_corpus_enabled(request.config)
    texts = text_file_texts(full)
    texts["detection eval set"] = eval_set_texts(full)
    return texts


def test_real_texts_match_the_reference_and_rarely_fall_back(corpora: dict[str, list[str]]) -> None:
    engine = NATIVE._native
    assert engine is not None
    for name, texts in corpora.items():
        assert NATIVE.detect_batch(texts) == [REFERENCE.detect(t) for t in texts], name
        fallbacks = len(engine.detect_batch(texts)[5])
        # Measured on every record of every file (about 100,000 texts): no fallback at all.
        assert fallbacks <= len(texts) // 1000, (name, fallbacks, len(texts))


# -- annotate ---------------------------------------------------------------------------------


MARKERS = ["[START_SMILES]", "[END_SMILES]", "[START_DNA]", "[END_DNA]", "<SMILES>", "</SMILES>"]


@given(st.lists(st.sampled_from(PIECES + MARKERS), max_size=30).map("".join))
def test_annotate_equals_the_reference_and_its_batch(text: str) -> None:
    expected = annotate_with_insertions(text, detector=REFERENCE)
    assert annotate_with_insertions(text, detector=NATIVE) == expected
    assert annotate(text) == expected[0]
    assert annotate_batch([text, text[::-1]]) == [expected[0], annotate(text[::-1])]


@pytest.mark.parametrize("dialect", ["galactica", "tags", "biot5"])
@given(text=st.lists(st.sampled_from([*PIECES, *MARKERS[1::2], "<bo", "[START_"]), max_size=30).map("".join))
def test_text_spans_without_a_start_marker_is_the_whole_text(dialect: str, text: str) -> None:
    table = resolve_markers(dialect)
    split = [(s.start, s.end) for s in _matcher(table).split(text) if s.modality != "marker"]
    assert text_spans(text, table) == split


def test_annotate_batch_on_real_texts(corpora: dict[str, list[str]]) -> None:
    texts = corpora["detection eval set"][:500]
    reference = [annotate_with_insertions(t, detector=REFERENCE)[0] for t in texts]
    assert annotate_batch(texts) == reference
    assert annotate_batch(texts, markers="tags", modalities=("smiles",), num_threads=2) == [
        annotate_with_insertions(t, markers="tags", detector=Detector(engine="python", modalities=("smiles",)))[0]
        for t in texts
    ]
