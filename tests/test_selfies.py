"""SELFIES: one token per symbol, a closed vocabulary, exact errors, and real encoder output.

The corpus tests encode SMILES of ``../shared/data`` with ``selfies.encoder`` (a seeded
sample of each file; every record with CHEMTOK_FULL_CORPUS=1 or ``pytest -m corpus``):
every SELFIES the encoder makes must tokenize into exactly the symbols
``selfies.split_selfies`` gives (a symbol the vocabulary lacks spelled from parts that
join back to it), round-trip, survive the exported ``tokenizer.json`` with the same
ids, and decode to the same molecule (the validator).
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest
from conftest import DATA, full_corpus_enabled
from hypothesis import given
from hypothesis import strategies as st
from strategies import selfies_like, selfies_symbol

import chemtok
from chemtok.export import to_tokenizers
from chemtok.grammar import load_selfies_grammar
from chemtok.io import read_records
from chemtok.selfies import selfies_base_tokens

sf = pytest.importorskip("selfies")

TOK = chemtok.SelfiesTokenizer()
G = load_selfies_grammar()
SAMPLE_PER_FILE = 300
#: MoleculeNet, QM9 and the hard cases: what the issue asks every encoder output of.
CORPUS_FILES = sorted(p.name for p in (DATA / "smiles").glob("moleculenet_*.smi.gz")) + ["qm9.smi.gz", "hard_cases.smi.gz"]


# -- exact tokens ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("[C][=C][F].[C]", ["[C]", "[=C]", "[F]", ".", "[C]"]),
        ("[C][C][=Branch1][C][=O][O]", ["[C]", "[C]", "[=Branch1]", "[C]", "[=O]", "[O]"]),
        ("[N][C@@H1][Ring2][#Branch3][-/Ring1][\\/Ring3]", ["[N]", "[C@@H1]", "[Ring2]", "[#Branch3]", "[-/Ring1]", "[\\/Ring3]"]),
        ("[NH1+1][O-1][/C][\\C][#N][nop][epsilon]", ["[NH1+1]", "[O-1]", "[/C]", "[\\C]", "[#N]", "[nop]", "[epsilon]"]),
        # Atom symbols the vocabulary lacks: spelled from parts, as SMILES spells brackets.
        ("[13CH4]", ["[", "13", "C", "H4", "]"]),
        ("[=Fe+2]", ["[", "=", "Fe", "+2", "]"]),
        ("[/2H]", ["[", "/", "2", "H", "]"]),
        ("[HH1]", ["[", "H", "H1", "]"]),
        ("[1000Og@H9-12]", ["[", "1", "0", "0", "0", "Og", "@", "H9", "-", "1", "2", "]"]),
        ("", []),
    ],
)
def test_symbols_and_spelled_atoms(text: str, tokens: list[str]) -> None:
    assert TOK.tokenize(text) == tokens
    assert TOK.decode(TOK.encode(text)) == text


def test_vocabulary_is_built_from_the_grammar() -> None:
    tokens = selfies_base_tokens(G)
    assert len(tokens) == len(set(tokens))
    assert len(G.elements) == len(set(G.elements)) == 118
    # 3 lengths x ("", "=", "#") branches and rings, 3 x 8 stereo rings, [nop], [epsilon]
    assert len(G.structure_symbols) == 9 + 9 + 24 + 2
    for atom in G.atoms:
        for bond in ("", "=", "#", "/", "\\"):
            assert f"[{bond}{atom}]" in TOK.vocabulary
    assert "[--Ring1]" not in TOK.vocabulary and "[Branch4]" not in TOK.vocabulary
    assert TOK.vocabulary.tokens[: len(TOK.special_tokens)] == TOK.special_tokens
    assert TOK.grammar_tag == "selfies@1" and repr(TOK).startswith("<SelfiesTokenizer 'selfies' grammar selfies@1")


@pytest.mark.parametrize(
    "text, position, fragment",
    [
        ("[C]x[O]", 3, "sequence of symbols"),
        ("C[C]", 0, "sequence of symbols"),
        ("[C] [C]", 3, "sequence of symbols"),
        ("[C][O", 3, "not closed"),
        ("[C[O]", 0, "not closed"),
        ("[C][c]", 4, "element symbol"),
        ("[C][Xx]", 4, "element symbol"),
        ("[]", 1, "element symbol"),
        ("[Branch4]", 7, "Branch1] to [Branch3]"),
        ("[--Ring1]", 7, "Branch1] to [Branch3]"),
        ("[CH12]", 4, "H count"),
        ("[C+0]", 2, "charge"),
        ("[C@@@]", 4, "chirality"),
        ("[C]é", 3, "sequence of symbols"),
    ],
)
def test_refusals_name_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(chemtok.TokenizationError) as info:
        TOK.tokenize(text)
    assert info.value.position == position and info.value.modality == "selfies"
    assert fragment in str(info.value)


def test_fallback_and_skip_policies() -> None:
    text = "[C]§[O]"
    assert TOK.decode(TOK.encode(text, on_error="fallback")) == text
    assert TOK.tokenize(text, on_error="skip") == ["[C]", "[O]"]
    with pytest.raises(chemtok.TokenizationError) as info:
        TOK.encode_batch(["[C]", text])
    assert info.value.index == 1


def test_registry_engine_pickle_and_save(tmp_path: Path) -> None:
    assert isinstance(chemtok.get_tokenizer("selfies"), chemtok.SelfiesTokenizer)
    from chemtok import native

    assert TOK.engine == ("native" if native.available() else "python")
    assert chemtok.SelfiesTokenizer(engine="python").engine == "python"
    if native.available():
        assert chemtok.SelfiesTokenizer(engine="native").engine == "native"
    clone = pickle.loads(pickle.dumps(TOK))
    assert clone.encode("[C][=O]") == TOK.encode("[C][=O]")
    loaded = chemtok.load(TOK.save(tmp_path / "selfies"))
    assert isinstance(loaded, chemtok.SelfiesTokenizer) and loaded.fingerprint == TOK.fingerprint


def test_broken_grammar_names_file_and_key(tmp_path: Path) -> None:
    shipped = (Path(chemtok.__file__).parent.parent / "grammars" / "selfies.toml").read_text(encoding="utf-8")
    for old, new, key in [
        ('"NH1+1", ', '"NH1+1", "=O", ', "vocabulary.atoms"),
        ('"Og",\n]', "]", "atoms.elements"),
        ('atom_bonds = ["=", "#", "/", "\\\\"]', 'atom_bonds = ["==", "#"]', "symbols.atom_bonds"),
        ("max_length = 3", "max_length = 0", "symbols.max_length"),
    ]:
        assert old in shipped, old
        path = tmp_path / "selfies.toml"
        path.write_text(shipped.replace(old, new), encoding="utf-8")
        with pytest.raises(chemtok.GrammarError) as info:
            load_selfies_grammar(str(path))
        assert info.value.key == key


# -- properties --------------------------------------------------------------------------

EXPORTED = to_tokenizers(TOK)


@given(selfies_like)
def test_hyp_round_trip_and_export_parity(text: str) -> None:
    tokens = TOK.tokenize(text)
    assert "".join(tokens) == text
    assert TOK.decode(TOK.encode(text)) == text
    assert EXPORTED.encode(text).ids == TOK.encode(text)


@given(selfies_symbol())
def test_hyp_one_symbol_is_one_token_or_spelled(symbol: str) -> None:
    tokens = TOK.tokenize(symbol)
    assert tokens == [symbol] if symbol in TOK.vocabulary else (tokens[0], tokens[-1]) == ("[", "]")


@given(st.text(alphabet=st.sampled_from("[]=#/\\-+@.CNOHBrcl0123456789 xé"), max_size=30))
def test_hyp_any_text_tokenizes_or_raises_tokenization_error(text: str) -> None:
    try:
        tokens = TOK.tokenize(text)
    except chemtok.TokenizationError as err:
        assert 0 <= err.position < len(text)
    else:
        assert "".join(tokens) == text


# -- real encoder output -------------------------------------------------------------------


@pytest.fixture(scope="module")
def encoded_corpus(request: pytest.FixtureRequest, data_dir: Path) -> list[tuple[str, str]]:
    """``(smiles, selfies.encoder(smiles))`` for a seeded sample of each corpus file."""
    full = full_corpus_enabled(request.config)
    pairs: list[tuple[str, str]] = []
    for name in CORPUS_FILES:
        texts = [r.text for r in read_records(data_dir / "smiles" / name) if r.text]
        if not full and len(texts) > SAMPLE_PER_FILE:
            texts = random.Random(f"selfies:{name}").sample(texts, SAMPLE_PER_FILE)
        for smiles in texts:
            try:
                encoded = sf.encoder(smiles)
            except Exception:  # selfies.EncoderError: what the encoder refuses is not SELFIES
                continue
            if encoded:
                pairs.append((smiles, encoded))
    assert len(pairs) > 1000 or full
    return pairs


def test_every_encoder_output_tokenizes_into_its_symbols(encoded_corpus: list[tuple[str, str]]) -> None:
    mismatches = []
    for _, encoded in encoded_corpus:
        tokens = TOK.tokenize(encoded)
        symbols = list(sf.split_selfies(encoded))
        # One token per symbol; a symbol the vocabulary lacks is its parts, joined.
        grouped, current = [], ""
        for token in tokens:
            current += token
            if token == "." or token.endswith("]"):
                grouped.append(current)
                current = ""
        if grouped != symbols or TOK.decode(TOK.encode(encoded)) != encoded:
            mismatches.append(encoded)
    assert not mismatches, mismatches[:3]


def test_exported_file_gives_the_same_ids_on_encoder_output(encoded_corpus: list[tuple[str, str]]) -> None:
    texts = [encoded for _, encoded in encoded_corpus]
    rows = EXPORTED.encode_batch(texts, add_special_tokens=False)
    bad = [t for t, row in zip(texts, rows, strict=True) if row.ids != TOK.encode(t)]
    assert not bad, bad[:3]


@pytest.mark.rdkit
def test_validator_finds_the_same_molecule(encoded_corpus: list[tuple[str, str]]) -> None:
    pytest.importorskip("rdkit")
    from chemtok import validate

    summary = validate.check_many([e for _, e in encoded_corpus], modality="selfies")
    assert summary.total == summary.exact == len(encoded_corpus)
    assert summary.tokenization_failed == 0
    # The encoder's own output always decodes; the molecule is the same on both sides.
    assert summary.same_molecule == summary.total - summary.unparsable
    assert not summary.failures, summary.failures[:3]


@pytest.mark.rdkit
def test_validator_reports_what_does_not_decode_or_round_trip() -> None:
    pytest.importorskip("rdkit")
    from chemtok import validate

    report = validate.check_selfies("[C][=C][C][=C][C][=C][Ring1][=Branch1]")
    assert report.ok and report.canonical_input == "c1ccccc1"
    unknown = validate.check_selfies("[C][Og]")  # chemtok's grammar has Og; selfies 2.x does not
    assert unknown.exact and not unknown.parsable and "selfies decoder" in (unknown.error or "")

    class Lossy:  # a tokenizer that changes the molecule: [O] -> [N]
        def encode(self, text: str) -> list[int]:
            return TOK.encode(text.replace("[O]", "[N]"))

        def decode(self, ids: list[int]) -> str:
            return TOK.decode(ids)

    lossy = validate.check_selfies("[C][C][O]", tokenizer=Lossy())
    assert not lossy.ok and lossy.same_molecule is False and lossy.canonical_output == "CCN"


# -- the router ----------------------------------------------------------------------------


def test_router_routes_start_selfies_after_every_earlier_id() -> None:
    router = chemtok.ChemTokenizer()
    text = "Acetic acid is [START_SELFIES][C][C][=Branch1][C][=O][O][END_SELFIES], ethanol [START_SMILES]CCO[END_SMILES]."
    segments = [(s.modality, s.text) for s in router.split(text)]
    assert ("selfies", "[C][C][=Branch1][C][=O][O]") in segments
    assert router.decode(router.encode(text)) == text
    ids = router.encode("[START_SELFIES][C][END_SELFIES]")
    offset, size = router.block("selfies")
    late, count = router.block("appended_marker")
    assert late == offset + size and count == 2 and late + count == len(router)
    assert ids == [late, offset + TOK.token_to_id("[C]") - len(TOK.special_tokens) - 256, late + 1]
    assert router.namespace_of(ids[0]) == "appended_marker"
    assert router.token_to_id("[START_SELFIES]", "appended_marker") == late
    assert router.token_to_id("[START_SELFIES]", "marker") == late  # "marker": every marker
    assert router.token_to_id("[START_SMILES]", "appended_marker") is None
    assert router.get_vocab()["[START_SELFIES]"] == late and router.get_vocab()["selfies:[C]"] == ids[1]
    enc = router.encode_with_offsets("[START_SELFIES][C][=O][END_SELFIES]")
    assert enc.modalities == ["marker", "selfies", "selfies", "marker"]


def test_router_selfies_errors_carry_text_positions_and_index() -> None:
    router = chemtok.ChemTokenizer()
    bad = "ok [START_SELFIES][C]x[END_SELFIES]"
    with pytest.raises(chemtok.TokenizationError) as info:
        router.encode(bad)
    assert info.value.position == bad.index("x") and info.value.modality == "selfies"
    with pytest.raises(chemtok.TokenizationError) as info:
        router.encode_batch(["[START_SELFIES][C][END_SELFIES]", bad])
    assert info.value.index == 1 and info.value.position == bad.index("x")


def test_router_save_load_keeps_the_selfies_block(tmp_path: Path) -> None:
    router = chemtok.ChemTokenizer()
    loaded = chemtok.ChemTokenizer.load(router.save(tmp_path / "chem"))
    assert loaded.fingerprint == router.fingerprint and loaded.block("selfies") == router.block("selfies")
    text = "[START_SELFIES][N][#N][END_SELFIES]"
    assert loaded.encode(text) == router.encode(text)
