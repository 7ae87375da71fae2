"""The Rust engine (chemtok._native) agrees with the pure-Python reference.

Same tokens, same ids, and the same ``TokenizationError`` (position, reason) for random
strings built from grammar parts plus junk, under every ``on_error`` policy; batches
equal single calls, arrays equal lists, and the thread count changes nothing. A seeded
sample of every file in ../shared/data gives identical results (every record with
CHEMTOK_FULL_CORPUS=1 or ``-m corpus``). The Rust unit tests run through ``cargo test``.

Compact SMILES models (learned merges over atom-level units) are held to the same: the
shipped model (``"smiles-compact"``) on the random strings and on every SMILES file, and
a model trained here on a few hundred strings, for a second merge table.

The example budget comes from CHEMTOK_MAX_EXAMPLES (default 200).
"""

from __future__ import annotations

import itertools
import os
import pickle
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, ROOT, full_corpus_enabled, grammar_corpus_files
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import smiles_like as valid_smiles

import chemtok
from chemtok import native
from chemtok.errors import TokenizationError
from chemtok.grammar import load_inchi_grammar, load_sequence_grammar, load_smiles_grammar
from chemtok.io import read_records

pytestmark = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

MAX_EXAMPLES = int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "200"))
POLICIES = ("raise", "fallback", "skip")
SAMPLE_SIZE = 3000


def _reference(cls: Callable[..., Any]) -> Any:
    """The pure-Python tokenizer, whatever engine the class would pick by default."""
    try:
        tok = cls(engine="python")
    except TypeError:  # a tokenizer without engine selection is the reference
        tok = cls()
    assert getattr(tok, "engine", "python") == "python"
    return tok


REFERENCE = {
    "smiles": _reference(chemtok.SmilesTokenizer),
    "smiles-compact": chemtok.SmilesTokenizer(model="compact", engine="python"),
    "inchi": _reference(chemtok.InchiTokenizer),
    "protein": _reference(chemtok.ProteinTokenizer),
    "dna": _reference(chemtok.DnaTokenizer),
}
assert REFERENCE["smiles-compact"].engine == "python" and REFERENCE["smiles-compact"].merges
ENGINE = {name: native.NativeEngine.for_tokenizer(tok) for name, tok in REFERENCE.items()} if native.available() else {}
# The public API over the engine (``_start_engine``), for the compact model.
COMPACT_NATIVE = chemtok.SmilesTokenizer(model="compact", engine="native") if native.available() else None


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """``("ok", result)`` or the facts of the TokenizationError raised."""
    try:
        return ("ok", call())
    except TokenizationError as err:
        return ("error", type(err), err.position, err.reason, err.modality, err.text)


def assert_parity(name: str, text: str, policy: str) -> None:
    tok, engine = REFERENCE[name], ENGINE[name]
    expected = outcome(lambda: tok.tokenize(text, on_error=policy))
    assert outcome(lambda: engine.tokenize(text, policy)) == expected, (name, text, policy)
    ids = outcome(lambda: tok.encode(text, on_error=policy))
    assert outcome(lambda: engine.encode(text, policy)) == ids, (name, text, policy)


# -- strategies built from the grammar files -----------------------------------------

G = load_smiles_grammar()
GI = load_inchi_grammar()

# Characters no grammar covers, including non-ASCII, astral and lone surrogates
# (the reference's fallback writes a surrogate as its three surrogatepass bytes).
junk = st.one_of(
    st.characters(),
    st.sampled_from(["§", "é", "\u00a0", "𝄞", "😀", "\x00", " ", "\n", "\ud800", "\udfff", "\udc80", "{", "}", "|"]),
)
digit_string = st.text(alphabet="0123456789", min_size=1, max_size=4)

ring_closure = st.one_of(
    st.sampled_from(G.ring_digits),
    st.builds(lambda a, b: f"{G.ring_percent}{a}{b}", st.sampled_from(G.ring_digits), st.sampled_from(G.ring_digits)),
    st.builds(
        lambda d: f"{G.ring_paren_open}{d}{G.ring_paren_close}",
        st.text(alphabet=G.ring_digits, min_size=1, max_size=G.ring_paren_max_digits),
    ),
)
bad_ring_closure = st.one_of(
    st.builds(
        lambda d: f"{G.ring_paren_open}{d}{G.ring_paren_close}",
        st.text(alphabet=G.ring_digits, min_size=0, max_size=G.ring_paren_max_digits + 2),
    ),
    st.builds(lambda d: f"{G.ring_paren_open}{d}", digit_string),  # never closed
    st.builds(lambda d: f"{G.ring_percent}{d}", st.sampled_from(G.ring_digits)),  # one digit only
)
top_literal = st.sampled_from(
    (*G.organic, *G.organic_aromatic, G.wildcard, *G.bonds, *G.dative_bonds, G.branch_open, G.branch_close, G.dot, *G.reaction)
)
# Symbols only brackets allow ("Fe", "se") and near misses.
bracket_only = st.sampled_from((*G.bracket_symbols, "Xx", "cl", "@", "H"))

chirality = st.sampled_from(G.chiralities)
bad_chirality = st.sampled_from(["@TH3", "@OH31", "@X", "@@@", "@TB0"])
hydrogens = st.builds(lambda d: G.hydrogen + d, st.one_of(st.just(""), digit_string))
charge = st.one_of(
    st.sampled_from(G.charge_signs),
    st.builds(lambda s, n: s * n, st.sampled_from(G.charge_signs), st.integers(2, 5)),
    st.builds(lambda s, d: s + d, st.sampled_from(G.charge_signs), digit_string),
)
atom_class = st.builds(lambda d: G.class_prefix + d, st.one_of(st.just(""), digit_string))


@st.composite
def bracket_atom(draw: st.DrawFn, dirty: bool) -> str:
    """``[`` isotope? symbol properties ``]``; properties in any order.

    Clean atoms use grammar parts only, each property kind at most once. Dirty ones
    may repeat a kind, lack the symbol or the ``]``, or hold junk.
    """
    isotope = draw(st.one_of(st.just(""), digit_string))
    kinds = [chirality, hydrogens, charge, atom_class]
    if not dirty:
        symbol = draw(st.sampled_from(G.bracket_symbols))
        chosen = draw(st.lists(st.sampled_from(range(len(kinds))), max_size=4, unique=True))
        props = [draw(kinds[k]) for k in chosen]
        return G.bracket_open + isotope + symbol + "".join(props) + G.bracket_close
    symbol = draw(st.one_of(st.sampled_from(G.bracket_symbols), st.just(""), junk))
    props = draw(st.lists(st.one_of(*kinds, bad_chirality, junk), max_size=5))
    close = draw(st.sampled_from([G.bracket_close] * 4 + ["", G.bracket_open]))
    return G.bracket_open + isotope + symbol + "".join(props) + close


@st.composite
def smiles_like(draw: st.DrawFn) -> str:
    """A SMILES-like string: half of the examples without junk, so lexing goes deep."""
    dirty = draw(st.booleans())
    part = st.one_of(top_literal, top_literal, top_literal, ring_closure, bracket_atom(dirty))
    if dirty:
        part = st.one_of(part, bad_ring_closure, bracket_only, junk)
    return "".join(draw(st.lists(part, max_size=25)))


inchi_clean_part = st.one_of(
    st.builds(lambda t: GI.layer_separator + t, st.sampled_from(GI.layer_tags)),
    st.just(GI.layer_separator),
    st.integers(0, 1500).map(str),
    st.builds(lambda d: "0" + d, digit_string),
    st.builds(lambda s, d: s + d, st.sampled_from(GI.symbols), st.one_of(st.just(""), digit_string)),
    st.sampled_from(GI.punctuation),
)
inchi_dirty_part = st.one_of(
    inchi_clean_part,
    st.builds(lambda t: GI.layer_separator + t, junk),
    st.sampled_from(("x", "e", "Q", "=")),
    junk,
)


@st.composite
def inchi_like(draw: st.DrawFn) -> str:
    """A prefix (mostly a valid one) and layer parts; half of the examples with junk."""
    dirty = draw(st.booleans())
    prefix = draw(
        st.one_of(st.sampled_from(GI.prefixes), st.just("InChI="), st.just(""), junk)
        if dirty
        else st.sampled_from(GI.prefixes)
    )
    parts = draw(st.lists(inchi_dirty_part if dirty else inchi_clean_part, max_size=25))
    return prefix + "".join(parts)


def sequence_like(name: str) -> st.SearchStrategy[str]:
    g = load_sequence_grammar(name)
    letter = st.sampled_from(g.symbols)
    return st.one_of(
        st.lists(letter, max_size=40),
        st.lists(st.one_of(letter, letter, letter, junk), max_size=40),
    ).map("".join)


# Runs of the units merges are made of, next to separators (".", ">", ">>"), spelled
# groups ("[CH3:1]", "%(5000)") and byte-fallback tokens ("§"): where the word rules
# decide what may merge.
merge_heavy = st.lists(
    st.sampled_from(
        ["C", "C", "C", "c", "c", "1", "2", "3", "(", ")", "=", "O", "N", ".", ">", ">>",
         "[CH3:1]", "[CH3:12]", "[C]", "%(1)", "%(12)", "%(5000)", "§", "[C"]
    ),
    max_size=30,
).map("".join)

STRATEGIES = {
    "smiles": smiles_like(),
    # Merges need long valid runs too: the strategy of tests/strategies.py (up to 40
    # lexemes, brackets with every property) and merge_heavy, beside the junk-laden one.
    "smiles-compact": st.one_of(smiles_like(), valid_smiles, merge_heavy),
    "inchi": inchi_like(),
    "protein": sequence_like("protein"),
    "dna": sequence_like("dna"),
}


# -- properties ----------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_hyp_native_equals_reference(name: str, policy: str) -> None:
    @settings(max_examples=MAX_EXAMPLES, deadline=None)
    @given(STRATEGIES[name])
    def check(text: str) -> None:
        assert_parity(name, text, policy)

    check()


def _batch_outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    result = outcome(call)
    if result[0] == "ok" and isinstance(result[1], tuple):  # arrays -> lists, for comparison
        ids, offsets = result[1]
        assert ids.dtype.name == "uint32" and offsets.dtype.name == "int64"
        bounds = offsets.tolist()
        rows = [ids[a:b].tolist() for a, b in itertools.pairwise(bounds)]
        return ("ok", rows)
    return result


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_hyp_batches_equal_single_calls(name: str) -> None:
    tok, engine = REFERENCE[name], ENGINE[name]

    @settings(max_examples=max(1, MAX_EXAMPLES // 2), deadline=None)
    @given(st.lists(STRATEGIES[name], max_size=12), st.sampled_from(POLICIES))
    def check(texts: list[str], policy: str) -> None:
        # The reference: each text in turn; under "raise" the first failure wins.
        expected = outcome(lambda: [tok.encode(t, on_error=policy) for t in texts])
        for threads in (1, 2, None):
            assert outcome(lambda: engine.encode_batch(texts, policy, threads)) == expected
            assert _batch_outcome(lambda: engine.encode_batch_arrays(texts, policy, threads)) == expected

    check()


def test_large_batch_threads_agree() -> None:
    """Enough texts for several chunks per thread; one bad text deep inside."""
    engine = ENGINE["smiles"]
    rng = random.Random(7)
    parts = ["C", "c1ccccc1", "[C@@H](N)", "O", "(=O)", "%(123)", "[13CH3:7]", "Cl", ".", ">>", "[Fe+2]"]
    texts = ["".join(rng.choice(parts) for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    lists = [engine.encode(t, "raise") for t in texts]
    for threads in (1, 2, 3, None):
        assert engine.encode_batch(texts, "raise", threads) == lists
        ids, offsets = engine.encode_batch_arrays(texts, "raise", threads)
        assert offsets[0] == 0 and len(offsets) == len(texts) + 1 and offsets[-1] == len(ids)
        assert ids[offsets[12_345] : offsets[12_346]].tolist() == lists[12_345]
    bad = list(texts)
    bad[15_000] = "CC§"
    bad[17_000] = "[C"
    for threads in (1, 2, None):
        with pytest.raises(TokenizationError) as info:
            engine.encode_batch_arrays(bad, "raise", threads)
        assert (info.value.text, info.value.position) == ("CC§", 2)


# -- batch errors name their record (issue 10, item 3) ---------------------------------

PUBLIC_NATIVE = (
    {
        "smiles": chemtok.SmilesTokenizer(engine="native"),
        "smiles-compact": COMPACT_NATIVE,
        "inchi": chemtok.InchiTokenizer(engine="native"),
        "protein": chemtok.ProteinTokenizer(engine="native"),
        "dna": chemtok.DnaTokenizer(engine="native"),
    }
    if native.available()
    else {}
)


def _batch_calls(name: str, texts: list[str]) -> dict[str, Callable[[], Any]]:
    """Every batch entry point of one modality: engine methods and the public API, both engines."""
    engine, reference, public = ENGINE[name], REFERENCE[name], PUBLIC_NATIVE[name]
    calls: dict[str, Callable[[], Any]] = {}
    for threads in (1, 2, None):
        calls[f"engine list {threads}"] = lambda t=threads: engine.encode_batch(texts, "raise", t)
        calls[f"engine arrays {threads}"] = lambda t=threads: engine.encode_batch_arrays(texts, "raise", t)
    for label, tok in (("python", reference), ("native", public)):
        assert tok.engine == label
        calls[f"{label} list"] = lambda tok=tok: tok.encode_batch(texts)
        calls[f"{label} arrays"] = lambda tok=tok: tok.encode_batch(texts, return_arrays=True)
    return calls


def _first_failure(name: str, texts: list[str]) -> tuple[int, TokenizationError] | None:
    for index, text in enumerate(texts):
        try:
            REFERENCE[name].encode(text)
        except TokenizationError as err:
            return index, err
    return None


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_hyp_batch_errors_carry_the_index_of_the_first_failing_text(name: str) -> None:
    @settings(max_examples=max(1, MAX_EXAMPLES // 4), deadline=None)
    @given(st.lists(STRATEGIES[name], max_size=12))
    def check(texts: list[str]) -> None:
        first = _first_failure(name, texts)
        for label, call in _batch_calls(name, texts).items():
            if first is None:
                call()
                continue
            index, single = first
            with pytest.raises(TokenizationError) as info:
                call()
            err = info.value
            assert err.index == index, (label, texts)
            assert (err.text, err.position, err.reason) == (texts[index], single.position, single.reason), label
            assert f" in text {index} of the batch" in str(err)

    check()


def test_batch_index_with_several_failing_texts() -> None:
    rng = random.Random(11)
    parts = ["C", "c1ccccc1", "[C@@H](N)", "O", "(=O)", "%(123)", "[13CH3:7]", "Cl", ".", ">>"]
    texts = ["".join(rng.choice(parts) for _ in range(rng.randint(0, 10))) for _ in range(20_000)]
    for bad, text in ((19_000, "C§"), (9_001, "[C"), (15_000, "CC§"), (9_000 + 2, "[Fe")):
        texts[bad] = text
    first = _first_failure("smiles", texts)
    assert first is not None and first[0] == 9_001
    for label, call in _batch_calls("smiles", texts).items():
        with pytest.raises(TokenizationError) as info:
            call()
        assert (info.value.index, info.value.text, info.value.position) == (9_001, "[C", first[1].position), label


def test_single_text_errors_have_no_index() -> None:
    for tok in (REFERENCE["smiles"], PUBLIC_NATIVE["smiles"]):
        with pytest.raises(TokenizationError) as info:
            tok.encode("CC§")
        assert info.value.index is None and "of the batch" not in str(info.value)
    with pytest.raises(TokenizationError) as info:
        ENGINE["smiles"].encode("CC§", "raise")
    assert info.value.index is None
    # pickling keeps the index (multiprocessing, Ray)
    with pytest.raises(TokenizationError) as info:
        ENGINE["inchi"].encode_batch(["InChI=1S/CH4", "x"], "raise")
    assert pickle.loads(pickle.dumps(info.value)).index == 1


def test_empty_inputs() -> None:
    engine = ENGINE["smiles"]
    assert engine.tokenize("", "raise") == [] and engine.encode("", "raise") == []
    assert engine.encode_batch([], "raise") == []
    ids, offsets = engine.encode_batch_arrays([], "raise")
    assert ids.tolist() == [] and offsets.tolist() == [0]
    assert engine.encode_batch(["", "C"], "raise", 2) == [[], [REFERENCE["smiles"].token_to_id("C")]]


def test_bad_arguments_raise_python_errors() -> None:
    engine = ENGINE["smiles"]
    with pytest.raises(ValueError) as info:
        engine.encode("C", "unk")
    with pytest.raises(ValueError) as reference:
        REFERENCE["smiles"].encode("C", on_error="unk")
    assert str(info.value) == str(reference.value)
    with pytest.raises(TypeError):
        engine.encode(b"C", "raise")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        engine.encode_batch(["C", 3], "raise")  # type: ignore[list-item]
    for bad in (0, -1, 10**6):
        with pytest.raises(ValueError):
            engine.encode_batch(["C"], "raise", bad)
    with pytest.raises(TypeError):
        engine.encode_batch(["C"], "raise", "2")  # type: ignore[arg-type]


def test_iterables_and_str_subclasses() -> None:
    engine = ENGINE["smiles"]

    class Smiles(str):
        pass

    expected = [engine.encode("CCO", "raise"), engine.encode("c1ccccc1", "raise")]
    assert engine.encode_batch(("CCO", "c1ccccc1"), "raise") == expected
    assert engine.encode_batch(iter(["CCO", Smiles("c1ccccc1")]), "raise") == expected
    assert engine.encode(Smiles("CCO"), "raise") == expected[0]


def test_long_text_releases_the_gil_and_still_agrees() -> None:
    text = "MKTAYIAKQR" * 20_000 + "1" + "ACDE"
    assert_parity("protein", text, "raise")
    assert_parity("protein", text, "fallback")


def test_pickle_rebuilds_the_engine() -> None:
    engine = ENGINE["inchi"]
    copy = pickle.loads(pickle.dumps(engine))
    assert type(copy) is type(engine)
    text = "InChI=1S/CH4O/c1-2/h2H,1H3"
    assert copy.encode(text, "raise") == engine.encode(text, "raise")


def test_for_tokenizer_reads_the_tokenizer() -> None:
    for name, tok in REFERENCE.items():
        engine = ENGINE[name]
        assert engine.modality == tok.name
        assert engine.vocab_size == len(tok.vocabulary.tokens)
    assert all(native.supports(tok) for tok in REFERENCE.values())
    text = chemtok.TextTokenizer()
    assert not native.supports(text)
    with pytest.raises(TypeError):
        native.NativeEngine.for_tokenizer(text)


def test_compact_smiles_models_run_natively() -> None:
    """A compact model gets the native engine, through the public API as well."""
    reference = REFERENCE["smiles-compact"]
    assert native.supports(reference)
    tok = chemtok.SmilesTokenizer(model="compact", engine="native")
    assert tok.engine == "native" and chemtok.SmilesTokenizer(model="compact").engine == "native"
    engine = tok.native_engine
    assert engine is not None
    assert engine.vocab_size == len(reference.vocabulary) > len(reference.unit_vocabulary)
    aspirin = "CC(=O)Oc1ccccc1C(=O)O"
    assert tok.tokenize(aspirin) == reference.tokenize(aspirin) == ["CC(=O)O", "c1ccccc1", "C(=O)O"]
    # A merged token that is also an atom-level token keeps the atom-level id.
    merged_units = [left + right for left, right in reference.merges if left + right in reference.unit_vocabulary]
    assert all(reference.token_to_id(t) < len(reference.unit_vocabulary) for t in merged_units)
    copy = pickle.loads(pickle.dumps(ENGINE["smiles-compact"]))
    assert copy.encode(aspirin, "raise") == reference.encode(aspirin)
    with pytest.raises(ValueError):  # merges are for SMILES only
        compact = {"unit_tokens": ["C"], "merges": [], "separators": [], "groups": []}
        native.NativeEngine("inchi", "inchi", {}, ["C"], compact)


@settings(max_examples=max(1, MAX_EXAMPLES // 2), deadline=None)
@given(st.lists(STRATEGIES["smiles-compact"], max_size=12), st.sampled_from(POLICIES))
def test_hyp_compact_public_api(texts: list[str], policy: str) -> None:
    """``SmilesTokenizer(model="compact")``: native and Python engines, every method."""
    python, native_tok = REFERENCE["smiles-compact"], COMPACT_NATIVE
    for text in texts:
        expected = outcome(lambda: python.tokenize(text, on_error=policy))
        assert outcome(lambda: native_tok.tokenize(text, on_error=policy)) == expected
        assert outcome(lambda: native_tok.encode(text, on_error=policy)) == outcome(
            lambda: python.encode(text, on_error=policy)
        )
    expected = outcome(lambda: python.encode_batch(texts, on_error=policy))
    for threads in (1, 2):
        assert outcome(lambda: native_tok.encode_batch(texts, on_error=policy, num_threads=threads)) == expected
        arrays = _batch_outcome(
            lambda: native_tok.encode_batch(texts, on_error=policy, num_threads=threads, return_arrays=True)
        )
        assert arrays == expected



def test_importing_native_does_not_import_numpy() -> None:
    code = "import sys, chemtok.native as n; assert n.available(); assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT.parent))


# -- real corpora ----------------------------------------------------------------------


def corpus_cases() -> list[tuple[str, str, str | None]]:
    """Every grammar corpus file, and every SMILES file once more for the compact model."""
    cases = []
    for modality, path, column in grammar_corpus_files():
        cases.append((modality, path, column))
        if modality == "smiles":
            cases.append(("smiles-compact", path, column))
    return cases
    for modality in ("smiles", "inchi", "protein", "dna"):
        for path in sorted((DATA / modality).iterdir()):
            column = None
            if path.name.endswith((".tsv", ".tsv.gz")):
                column = "inchi" if modality == "inchi" else "smiles"
            cases.append((modality, str(path), column))
            if modality == "smiles":
                cases.append(("smiles-compact", str(path), column))
    return cases


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name, path, column",
    corpus_cases(),
    ids=lambda v: Path(v).name if isinstance(v, str) and "/" in v else str(v),
)
def test_corpus_parity(request: pytest.FixtureRequest, name: str, path: str, column: str | None) -> None:
    texts = [r.text for r in read_records(path, column=column) if r.text is not None]
    if not full_corpus_enabled(request.config) and len(texts) > SAMPLE_SIZE:
        texts = random.Random(f"native:{Path(path).name}").sample(texts, SAMPLE_SIZE)
    assert texts, f"no records read from {path}"
    assert_corpus_parity(REFERENCE[name], ENGINE[name], texts, path)


def assert_corpus_parity(tok: Any, engine: Any, texts: list[str], path: str) -> None:
    """Tokens and errors one by one (``"raise"``), then ids of the batch paths (``"fallback"``)."""
    table = tok.vocabulary.token_to_id
    expected_ids = []
    mismatches = []
    for text in texts:
        expected = outcome(lambda: tok.tokenize(text, on_error="raise"))
        if outcome(lambda: engine.tokenize(text, "raise")) != expected:
            mismatches.append(text)
        tokens = expected[1] if expected[0] == "ok" else tok.tokenize(text, on_error="fallback")
        expected_ids.append([table[t] for t in tokens])
    assert not mismatches, f"{path}: {len(mismatches)} of {len(texts)} records differ, e.g. {mismatches[:3]}"
    # The batch path, on every thread count, gives the same ids as the reference.
    for threads in (1, None):
        ids, offsets = engine.encode_batch_arrays(texts, "fallback", threads)
        bounds = offsets.tolist()
        got = [ids[a:b].tolist() for a, b in itertools.pairwise(bounds)]
        assert got == expected_ids, path


# -- more merge tables: a compact model trained here, and a hand-written one -------------

# Merges no training produces: across separators and byte-fallback tokens, out of and
# into spelled groups (so only the word rules keep them from applying), a merge that
# spells an atom-level token ("1" + "2" = "12") ranked after one that needs it, repeated
# pairs (the last rank counts), and runs of one unit.
ADVERSARIAL_MERGES = (
    ("12", "3"), (".", "C"), ("C", "."), (">>", "C"), ("C", ">"), (">", "C"), ("C", ">>"),
    ("<0xC2>", "<0xA7>"), ("C", "<0xC2>"), ("[", "C"), ("C", "]"), ("]", "["), ("C", "["), ("]", "C"),
    ("%(", "1"), ("1", ")"), (")", "C"), ("C", "%("), ("1", "2"), ("c", "c"), ("cc", "cc"), ("c", "cc"),
    ("C", "C"), ("CC", "C"), ("C", "CC"), ("CC", "CC"), ("C", "C"), ("C", "("), ("C(", "="), ("=", "O"),
    ("O", ")"), ("=O", ")"), ("C(=", "O)"), ("CH3", ":1"), ("[", "CH3"), ("[CH3", ":1"), (":1", "]"),
    ("c1", "c"), ("c", "1"), ("N", "C"), ("NC", "C"), ("O", "O"), ("C", "O"), ("CO", "C"),
)


@pytest.fixture(scope="module", params=["trained", "adversarial"])
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """A compact model and its native engine: ``trained`` on 450 seeded records of
    several SMILES files (reactions, hard cases and atom maps included, so spelled groups
    get merges of their own), or the ``adversarial`` table above."""
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA}")
    from chemtok.compact import CompactModel, train_compact_model

    atom = REFERENCE["smiles"]
    if request.param == "trained":
        rng = random.Random("native:trained")
        corpus: list[str] = []
        for name in ("moleculenet_bbbp.smi.gz", "hard_cases.smi.gz", "reactions_rdkit_uspto_mapped.rsmi.gz"):
            texts = [r.text for r in read_records(str(DATA / "smiles" / name)) if r.text]
            corpus.extend(rng.sample(texts, min(len(texts), 150)))
        unit_count = len(atom.vocabulary) - len(atom.special_tokens) - 256
        model = train_compact_model(corpus, unit_count + 300, min_frequency=2, tokenizer=atom)
        assert model.merges, "training found no merges"
    else:
        model = CompactModel(ADVERSARIAL_MERGES, atom.grammar_tag, atom.vocabulary.fingerprint)
    directory = tmp_path_factory.mktemp(f"compact-{request.param}")
    model.save(directory)
    tok = chemtok.SmilesTokenizer(model=str(directory), engine="python")
    assert tok.merges == model.merges and tok.merges != REFERENCE["smiles-compact"].merges
    return tok, native.NativeEngine.for_tokenizer(tok)


@pytest.mark.parametrize("policy", POLICIES)
def test_hyp_trained_model_equals_reference(trained: tuple[Any, Any], policy: str) -> None:
    tok, engine = trained

    @settings(max_examples=max(1, MAX_EXAMPLES // 2), deadline=None)
    @given(st.lists(STRATEGIES["smiles-compact"], max_size=6))
    def check(texts: list[str]) -> None:
        for text in texts:
            expected = outcome(lambda: tok.tokenize(text, on_error=policy))
            assert outcome(lambda: engine.tokenize(text, policy)) == expected
            assert outcome(lambda: engine.encode(text, policy)) == outcome(lambda: tok.encode(text, on_error=policy))
        expected = outcome(lambda: [tok.encode(t, on_error=policy) for t in texts])
        for threads in (1, 2):
            assert outcome(lambda: engine.encode_batch(texts, policy, threads)) == expected
            assert _batch_outcome(lambda: engine.encode_batch_arrays(texts, policy, threads)) == expected

    check()


def test_trained_model_corpus_parity(request: pytest.FixtureRequest, trained: tuple[Any, Any]) -> None:
    """A seeded sample of every SMILES file (whole files with CHEMTOK_FULL_CORPUS=1)."""
    tok, engine = trained
    size = None if full_corpus_enabled(request.config) else 300
    for path in sorted((DATA / "smiles").iterdir()):
        column = "smiles" if path.name.endswith((".tsv", ".tsv.gz")) else None
        texts = [r.text for r in read_records(str(path), column=column) if r.text is not None]
        if size is not None and len(texts) > size:
            texts = random.Random(f"native-trained:{path.name}").sample(texts, size)
        assert_corpus_parity(tok, engine, texts, str(path))


# -- the Rust unit tests -----------------------------------------------------------------


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")
def test_cargo_test() -> None:
    """Run the Rust unit tests of the workspace (rust/), so CI's pytest covers them."""
    manifest = ROOT / "rust" / "Cargo.toml"
    result = subprocess.run(
        ["cargo", "test", "--workspace", "--release", "--manifest-path", str(manifest)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
