"""The native SELFIES engine (``rust/chemtok-core/src/selfies.rs``) agrees with the reference.

The pure-Python ``SelfiesTokenizer(engine="python")`` is the definition. For arbitrary
text and for strings built from SELFIES symbols, valid and broken (unclosed ``[``, ``[]``,
non-ASCII inside brackets, a lone ``]``, dots, unseen atoms spelled from parts), under
every policy: the same tokens, ids and ``TokenizationError`` (position, reason, message);
batches, arrays and Arrow batches equal single calls. Real data: the SELFIES
``selfies.encoder`` makes of ``$CHEMTOK_SHARED/data`` SMILES (a seeded sample; every
record with CHEMTOK_FULL_CORPUS=1 or ``-m corpus``). The router: marked texts holding
SELFIES in every dialect that has SELFIES markers give the Python path's ids and errors,
and (where the router runs in Rust) never leave the native path.

The example budget comes from CHEMTOK_MAX_EXAMPLES (default 200).
"""

from __future__ import annotations

import functools
import itertools
import os
import pickle
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import full_corpus_enabled
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import plain_text, selfies_symbol

import chemtok
from chemtok import native
from chemtok.errors import TokenizationError
from chemtok.grammar import load_selfies_grammar
from chemtok.io import read_records

pytestmark = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

MAX_EXAMPLES = int(os.environ.get("CHEMTOK_MAX_EXAMPLES", "200"))
POLICIES = ("raise", "fallback", "skip")
G = load_selfies_grammar()
PYTHON = chemtok.SelfiesTokenizer(engine="python")
NATIVE = chemtok.SelfiesTokenizer(engine="native") if native.available() else PYTHON
#: SMILES files whose encoder output is compared (a sample of each by default).
CORPUS_FILES = (
    "moleculenet_bbbp.smi.gz",
    "moleculenet_hiv.smi.gz",
    "qm9.smi.gz",
    "hard_cases.smi.gz",
    "rdkit_chembl20_chiral.smi.gz",
    "rdkit_inorganic_dative_cx.smi",
)
SAMPLE_PER_FILE = 400
#: Dialects with a SELFIES pair; the others have none to test.
DIALECTS = ("galactica", "tags", "biot5")


def outcome(call: Callable[..., Any], *args: Any, **options: Any) -> tuple[Any, ...]:
    """``("ok", call(*args, **options))`` (arrays as row lists), or the facts of the TokenizationError raised."""
    try:
        result = call(*args, **options)
    except TokenizationError as err:
        return ("error", type(err), err.position, err.reason, err.modality, err.index, str(err))
    if isinstance(result, tuple):  # return_arrays
        ids, offsets = result
        assert (ids.dtype.name, offsets.dtype.name) == ("uint32", "int64")
        return ("ok", [ids[a:b].tolist() for a, b in itertools.pairwise(offsets.tolist())])
    return ("ok", result)


def assert_parity(text: str, policy: str) -> None:
    for call in ("tokenize", "encode"):
        expected = outcome(getattr(PYTHON, call), text, on_error=policy)
        assert outcome(getattr(NATIVE, call), text, on_error=policy) == expected, (call, text, policy)


# -- strategies ----------------------------------------------------------------------

#: Pieces that break a SELFIES: unclosed and empty brackets, nested ones, a lone "]",
#: non-ASCII and junk inside brackets, lowercase and unknown symbols, branch and ring
#: words with a bad length or prefix, H counts and charges outside the grammar.
broken_piece = st.one_of(
    st.sampled_from(
        [
            "[",
            "]",
            "[]",
            "[[C]",
            "[C",
            "[C]]",
            "[=]",
            "[c]",
            "[Xx]",
            "[Branch4]",
            "[Branch0]",
            "[=Ring]",
            "[--Ring1]",
            "[Ring1x]",
            "[CH12]",
            "[C+0]",
            "[C-01]",
            "[C@@@]",
            "[Cé]",
            "[é]",
            "[C😀]",
            "[ C]",
            "[C ]",
            "[1]",
            "[13]",
            "[H+]",
            "[=Branch",
            "[nop",
            "[epsilonx]",
            "..",
            " ",
            "C",
            "\n",
        ]
    ),
    st.builds(
        lambda body: f"{G.open}{body}{G.close}", st.text(alphabet="=#/\\-+@HCNOlr0123456789BRaingé😀", max_size=8)
    ),
    st.characters(),
)
valid_selfies = st.lists(selfies_symbol(), max_size=30).map("".join)
broken_selfies = st.lists(st.one_of(selfies_symbol(), selfies_symbol(), broken_piece), max_size=25).map("".join)
#: Any text at all (lone surrogates included), and text over SELFIES characters.
any_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from("[]=#/\\-+@.CNOHBrcl0123456789 xé\ud800"), max_size=30),
)
selfies_text = st.one_of(valid_selfies, broken_selfies, any_text)


# -- one text ------------------------------------------------------------------------


def test_the_native_engine_runs_by_default() -> None:
    assert chemtok.SelfiesTokenizer().engine == "native" and PYTHON.engine == "python"
    assert native.supports(PYTHON) and native.engine_spec(PYTHON)["open"] == "["
    engine = native.NativeEngine.for_tokenizer(PYTHON)
    assert engine.tokenize("[C][=O].[13CH4]", "raise") == ["[C]", "[=O]", ".", "[", "13", "C", "H4", "]"]
    assert engine.reason("selfies_not_closed") == "symbol is not closed with ']'"


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("strategy", ["valid", "broken", "any"])
def test_hyp_native_equals_reference(strategy: str, policy: str) -> None:
    @settings(max_examples=MAX_EXAMPLES, deadline=None)
    @given({"valid": valid_selfies, "broken": broken_selfies, "any": any_text}[strategy])
    def check(text: str) -> None:
        assert_parity(text, policy)

    check()


@pytest.mark.parametrize(
    "text, position, code",
    [
        ("[C]x[O]", 3, "selfies_no_symbol"),
        ("]", 0, "selfies_no_symbol"),
        ("[C][O", 3, "selfies_not_closed"),
        ("[C[O]", 0, "selfies_not_closed"),
        ("[]", 1, "selfies_no_element"),
        ("[Branch4]", 7, "selfies_structure"),
        ("[CH12]", 4, "selfies_no_property"),
        ("[Cé]", 2, "selfies_no_property"),
        ("[C]\ud800", 3, "selfies_no_symbol"),
    ],
)
def test_refusals_agree_exactly(text: str, position: int, code: str) -> None:
    errors = []
    for tok in (PYTHON, NATIVE):
        with pytest.raises(TokenizationError) as info:
            tok.encode(text)
        errors.append(info.value)
    assert [(e.position, e.reason, str(e)) for e in errors] == [
        (position, PYTHON.reason_messages[code], str(errors[0]))
    ] * 2


@settings(max_examples=max(1, MAX_EXAMPLES // 4), deadline=None)
@given(selfies_text, st.sampled_from(("fallback", "skip")))
def test_hyp_offsets_equal_the_reference(text: str, policy: str) -> None:
    fast, slow = NATIVE.encode_with_offsets(text, on_error=policy), PYTHON.encode_with_offsets(text, on_error=policy)
    assert (fast.ids, fast.tokens, fast.offsets) == (slow.ids, slow.tokens, slow.offsets)


def test_lone_surrogates_fall_back_to_their_bytes_like_the_reference() -> None:
    text = "[C]\udc80[O]"
    assert NATIVE.tokenize(text, on_error="fallback") == PYTHON.tokenize(text, on_error="fallback")
    assert NATIVE.decode(NATIVE.encode(text, on_error="fallback")) == text


# -- batches, arrays, Arrow ----------------------------------------------------------


@settings(max_examples=max(1, MAX_EXAMPLES // 2), deadline=None)
@given(st.lists(selfies_text, max_size=12), st.sampled_from(POLICIES))
def test_hyp_batches_and_arrays_equal_single_calls(texts: list[str], policy: str) -> None:
    expected = outcome(PYTHON.encode_batch, texts, on_error=policy)
    expected_arrays = outcome(PYTHON.encode_batch, texts, on_error=policy, return_arrays=True)
    for threads in (1, 2, None):
        assert outcome(NATIVE.encode_batch, texts, on_error=policy, num_threads=threads) == expected
        arrays = outcome(NATIVE.encode_batch, texts, on_error=policy, num_threads=threads, return_arrays=True)
        assert arrays == expected_arrays


def test_batch_error_names_the_first_failing_text() -> None:
    texts = ["[C]"] * 5000 + ["[C][O"] + ["[Branch4]"] * 10
    got = outcome(NATIVE.encode_batch, texts)
    assert got == outcome(PYTHON.encode_batch, texts)
    assert got[0] == "error" and got[5] == 5000 and got[2] == 3


@settings(max_examples=max(1, MAX_EXAMPLES // 4), deadline=None)
@given(st.lists(st.one_of(st.none(), st.one_of(valid_selfies, broken_selfies)), max_size=12), st.sampled_from(POLICIES))
def test_hyp_arrow_rows_equal_the_reference(texts: list[str | None], policy: str) -> None:
    pa = pytest.importorskip("pyarrow")
    from chemtok.text import strip_surrogates

    rows = [None if t is None else strip_surrogates(t) for t in texts]  # Arrow holds UTF-8 only
    for array in (pa.array(rows, pa.string()), pa.array(rows, pa.large_string())):
        fast = NATIVE.encode_arrow(array, on_error=policy).to_pylist()
        assert fast == PYTHON.encode_arrow(array, on_error=policy).to_pylist()


def test_pickle_rebuilds_the_native_engine() -> None:
    clone = pickle.loads(pickle.dumps(NATIVE))
    assert clone.engine == "native" and clone.encode("[C][=C][Ring1][#Branch2]") == PYTHON.encode(
        "[C][=C][Ring1][#Branch2]"
    )
    engine = pickle.loads(pickle.dumps(NATIVE.native_engine))
    assert engine is not None and engine.encode("[13CH4]", "raise") == PYTHON.encode("[13CH4]")


# -- real encoder output --------------------------------------------------------------


@pytest.fixture(scope="module")
def encoder_output(request: pytest.FixtureRequest, data_dir: Path) -> list[str]:
    """``selfies.encoder`` of a seeded sample of each corpus file (all with CHEMTOK_FULL_CORPUS=1)."""
    sf = pytest.importorskip("selfies")
    full = full_corpus_enabled(request.config)
    out: list[str] = []
    for name in CORPUS_FILES:
        path = data_dir / "smiles" / name
        texts = [r.text for r in read_records(path) if r.text]
        if not full and len(texts) > SAMPLE_PER_FILE:
            texts = random.Random(f"selfies-native:{name}").sample(texts, SAMPLE_PER_FILE)
        for smiles in texts:
            try:
                encoded = sf.encoder(smiles)
            except Exception:  # selfies.EncoderError: what the encoder refuses is no SELFIES
                continue
            if encoded:
                out.append(encoded)
    assert len(out) > 1000 or full
    return out


def test_encoder_output_gives_the_same_ids(encoder_output: list[str]) -> None:
    expected = PYTHON.encode_batch(encoder_output)
    assert NATIVE.encode_batch(encoder_output) == expected
    assert NATIVE.encode_batch(encoder_output, num_threads=1) == expected
    ids, offsets = NATIVE.encode_batch(encoder_output, return_arrays=True)
    assert ids.tolist() == [i for row in expected for i in row] and len(offsets) == len(encoder_output) + 1
    # Spelled atoms occur in real data (isotopes, rare charges): the slow path ran too.
    assert any(PYTHON.token_to_id("[") in row for row in expected)
    assert all(NATIVE.decode(row) == text for row, text in zip(expected, encoder_output, strict=True))


# -- the router ----------------------------------------------------------------------


@functools.cache
def routers(dialect: str) -> tuple[chemtok.ChemTokenizer, chemtok.ChemTokenizer]:
    """``(default engines, the Python path)`` for a marker dialect (built once per dialect)."""
    return chemtok.ChemTokenizer(markers=dialect), chemtok.ChemTokenizer(markers=dialect, engine="python")


def selfies_pair(tok: chemtok.ChemTokenizer) -> tuple[str, str]:
    (pair,) = [p for p in tok.markers.pairs if p.modality == "selfies"]
    return pair.start, pair.end


@st.composite
def marked_selfies(draw: st.DrawFn, dialect: str) -> str:
    """Prose with SELFIES spans (valid or broken) in ``dialect``'s markers, now and then unclosed."""
    start, end = selfies_pair(routers(dialect)[1])
    prose = plain_text.filter(lambda t: "<" not in t and ">" not in t)
    parts = [draw(prose)]
    for _ in range(draw(st.integers(1, 3))):
        body = draw(st.one_of(valid_selfies, valid_selfies, broken_selfies))
        parts.append(start + body + draw(st.sampled_from([end, end, end, ""])) + draw(prose))
    return "".join(parts)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_dialects_route_selfies_to_the_selfies_engine(dialect: str) -> None:
    fast, slow = routers(dialect)
    start, end = selfies_pair(fast)
    text = f"Acetic acid is {start}[C][C][=Branch1][C][=O][O]{end}; heavy methane {start}[13CH4]{end}."
    assert fast.modalities["selfies"].engine == "native"
    assert fast.encode(text) == slow.encode(text) and fast.decode(fast.encode(text)) == text
    if fast.engine == "native":  # every marked text stays in Rust: none is deferred
        engine = fast.native_engine
        assert engine is not None
        rows, deferred, failed = engine.encode_batch([text, text], "raise")
        assert (rows, deferred, failed) == ([slow.encode(text)] * 2, [], None)
    else:  # the tags dialect pads its pairs, which only the Python router reads
        assert dialect == "tags" and any(p.pad for p in fast.markers.pairs)


def test_galactica_and_biot5_routers_are_native() -> None:
    assert routers("galactica")[0].engine == routers("biot5")[0].engine == "native"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hyp_router_equals_the_python_path(dialect: str) -> None:
    fast, slow = routers(dialect)
    try:
        import pyarrow as pa
    except ImportError:
        pa = None

    @settings(max_examples=max(1, MAX_EXAMPLES // 4), deadline=None)
    @given(st.lists(marked_selfies(dialect), min_size=1, max_size=5), st.sampled_from(POLICIES))
    def check(texts: list[str], policy: str) -> None:
        for call, arg, options in (
            ("encode_batch", texts, {}),
            ("encode_batch", texts, {"return_arrays": True}),
            ("encode", texts[0], {}),
        ):
            got = outcome(getattr(fast, call), arg, on_error=policy, **options)
            assert got == outcome(getattr(slow, call), arg, on_error=policy, **options), (call, options)
        if pa is not None:  # the Arrow path: the router reads the buffers in place
            from chemtok.text import strip_surrogates

            array = pa.array([strip_surrogates(t) for t in texts], pa.string())  # Arrow holds UTF-8 only
            assert (
                fast.encode_arrow(array, on_error=policy).to_pylist()
                == slow.encode_arrow(array, on_error=policy).to_pylist()
            )

    check()


def test_router_errors_inside_selfies_agree() -> None:
    fast, slow = routers("galactica")
    bad = "ok [START_SELFIES][C][O[END_SELFIES] and [START_SELFIES][Branch4][END_SELFIES]"
    for texts in ([bad], ["[START_SELFIES][C][END_SELFIES]", bad]):
        got = outcome(fast.encode_batch, texts)
        assert got == outcome(slow.encode_batch, texts)
        assert got[0] == "error" and got[2] == bad.index("[O") and got[4] == "selfies"
