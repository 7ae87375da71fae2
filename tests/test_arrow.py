"""Arrow in, Arrow out (issue 10, item 8): ``encode_arrow`` equals encoding row by row.

Every row of the result is what ``tok.encode(row)`` gives: its ids and a null error, or
null ids and ``str()`` of the error it raises; a null row is null in both columns. The
native path (the Rust core reading the Arrow buffers) and the reference path
(``encode_batch``) agree on every modality, policy, slice, chunking and offset width.
"""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from test_native import MAX_EXAMPLES, POLICIES, PUBLIC_NATIVE, REFERENCE, STRATEGIES

import chemtok
from chemtok import native
from chemtok.arrow import encode_arrow
from chemtok.errors import ChemtokError, TokenizationError
from chemtok.text import strip_surrogates

pa = pytest.importorskip("pyarrow")
np = pytest.importorskip("numpy")

needs_native = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

# Arrow strings are UTF-8: lone surrogates cannot be stored, so they are left out.
ROWS = {
    name: st.lists(st.one_of(st.none(), strategy.map(strip_surrogates)), max_size=12)
    for name, strategy in STRATEGIES.items()
}


def expected_rows(tok: Any, texts: list[str | None], on_error: str | None = None) -> list[dict[str, Any]]:
    """What encode_arrow must return: one ``encode`` call per row."""
    rows = []
    for text in texts:
        if text is None:
            rows.append({"ids": None, "error": None})
            continue
        try:
            ids = tok.encode(text) if on_error is None else tok.encode(text, on_error=on_error)
        except ChemtokError as err:
            rows.append({"ids": None, "error": str(err)})
        else:
            rows.append({"ids": list(ids), "error": None})
    return rows


def check_batch(batch: Any, expected: list[dict[str, Any]]) -> None:
    assert batch.schema.names == ["ids", "error"]
    assert batch.schema.field("ids").type == pa.list_(pa.uint32())
    assert batch.schema.field("error").type == pa.string()
    assert batch.to_pylist() == expected


@needs_native
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_hyp_rows_equal_single_encodes(name: str) -> None:
    tokenizers = (PUBLIC_NATIVE[name], REFERENCE[name])

    @settings(max_examples=max(1, MAX_EXAMPLES // 4), deadline=None)
    @given(ROWS[name], st.sampled_from(POLICIES), st.data())
    def check(texts: list[str | None], policy: str, data: st.DataObject) -> None:
        expected = expected_rows(REFERENCE[name], texts, policy)
        array = pa.array(texts, type=pa.string())
        start = data.draw(st.integers(0, len(texts)), label="start")
        stop = data.draw(st.integers(start, len(texts)), label="stop")
        split = data.draw(st.integers(start, stop), label="split")
        sliced = array.slice(start, stop - start)
        chunked = pa.chunked_array([array.slice(start, split - start), array.slice(split, stop - split)])
        for tok in tokenizers:
            check_batch(encode_arrow(tok, array, on_error=policy), expected)
            check_batch(encode_arrow(tok, array.cast(pa.large_string()), on_error=policy), expected)
            check_batch(encode_arrow(tok, sliced, on_error=policy), expected[start:stop])
            check_batch(encode_arrow(tok, chunked, on_error=policy), expected[start:stop])
            check_batch(tok.encode_arrow(sliced.cast(pa.large_string()), on_error=policy), expected[start:stop])

    check()


@needs_native
def test_error_column_is_the_message_of_the_error() -> None:
    tok = PUBLIC_NATIVE["smiles"]
    batch = tok.encode_arrow(pa.array(["CCO", "C1CC§C1", None, "[C@@H"]))
    for row, text in ((1, "C1CC§C1"), (3, "[C@@H")):
        with pytest.raises(TokenizationError) as info:
            tok.encode(text)
        assert batch.column("error")[row].as_py() == str(info.value)
        assert f"position {info.value.position}" in str(info.value)
    assert batch.column("ids").to_pylist() == [tok.encode("CCO"), None, None, None]
    assert batch.column("ids").null_count == 3 and batch.column("error").null_count == 2


@needs_native
def test_policies_follow_the_tokenizer_and_the_call() -> None:
    texts = ["CC§O", "c1ccccc1", None]
    for policy in ("fallback", "skip"):
        tok = chemtok.SmilesTokenizer(on_error=policy)  # type: ignore[arg-type]
        out = encode_arrow(tok, pa.array(texts))
        assert out.column("error").null_count == 3
        assert out.column("ids").to_pylist() == [*tok.encode_batch(texts[:2]), None]
        assert encode_arrow(PUBLIC_NATIVE["smiles"], pa.array(texts), on_error=policy).equals(out)
    with pytest.raises(ValueError, match="on_error"):
        encode_arrow(PUBLIC_NATIVE["smiles"], pa.array(texts), on_error="unk")


@needs_native
@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_empty_and_all_null_arrays(name: str) -> None:
    for tok in (PUBLIC_NATIVE[name], REFERENCE[name]):
        for empty in (
            pa.array([], type=pa.string()),
            pa.array([], type=pa.large_string()),
            pa.chunked_array([], type=pa.string()),
            pa.array(["CCO"]).slice(1),
        ):
            check_batch(encode_arrow(tok, empty), [])
        check_batch(encode_arrow(tok, pa.array([None, None])), [{"ids": None, "error": None}] * 2)
        check_batch(encode_arrow(tok, pa.array([None, None], type=pa.string())), [{"ids": None, "error": None}] * 2)


@needs_native
def test_native_tokenizers_take_the_buffer_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_reference(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the reference path (Python strings per row) was taken")

    # The reference path goes through the tokenizer's own encode_batch/encode; the buffer path does not.
    for tok in [*PUBLIC_NATIVE.values(), REFERENCE["smiles"]]:
        monkeypatch.setattr(tok, "encode_batch", no_reference)
        monkeypatch.setattr(tok, "encode", no_reference)
    for name, tok in PUBLIC_NATIVE.items():
        assert tok.engine == "native", name
        assert encode_arrow(tok, pa.array(["CCO", None])).num_rows == 2
    with pytest.raises(AssertionError, match="reference path"):
        encode_arrow(REFERENCE["smiles"], pa.array(["CCO"]))


@needs_native
def test_large_batches_agree_across_engines_and_threads() -> None:
    rng = random.Random(3)
    parts = ["C", "c1ccccc1", "[C@@H](N)", "O", "(=O)", "%(123)", "[13CH3:7]", "Cl", ".", ">>", "§", "[C", None]
    texts = [
        None if rng.random() < 0.05 else "".join(p for p in rng.choices(parts, k=rng.randint(0, 8)) if p)
        for _ in range(20_000)
    ]
    expected = encode_arrow(REFERENCE["smiles"], pa.array(texts))
    assert 0 < expected.column("error").null_count < len(texts)
    for threads in (1, 2, None):
        assert encode_arrow(PUBLIC_NATIVE["smiles"], pa.array(texts), num_threads=threads).equals(expected)
    check_batch(expected, expected_rows(REFERENCE["smiles"], texts))


def test_router_and_text_model_through_the_generic_function() -> None:
    texts = [
        "Ethanol is [START_SMILES]CCO[END_SMILES].",
        None,
        "A bad one: [START_SMILES]C§C[END_SMILES].",
        "Unclosed [START_SMILES]CCO",
        "Plain prose, 12 h at 80 °C.",
    ]
    chem = chemtok.ChemTokenizer()
    batch = encode_arrow(chem, pa.array(texts))
    check_batch(batch, expected_rows(chem, texts))
    assert batch.column("error").null_count == 3
    assert chem.encode_arrow(pa.array(texts)).equals(batch)
    text = chemtok.TextTokenizer()
    chunked = pa.chunked_array([texts[:2], texts[2:]])
    check_batch(encode_arrow(text, chunked), expected_rows(text, texts))
    assert text.encode_arrow(chunked).equals(encode_arrow(text, chunked))


def test_reference_path_uses_the_batch_index_and_still_encodes_every_row() -> None:
    calls: list[int] = []

    class Counting:
        """A tokenizer whose batch errors carry .index (as GrammarTokenizer's do)."""

        name = "smiles"

        def __init__(self) -> None:
            self.tok = chemtok.SmilesTokenizer(engine="python")

        def encode(self, text: str, *, on_error: str | None = None) -> list[int]:
            return self.tok.encode(text)

        def encode_batch(self, texts: list[str], **options: Any) -> list[list[int]]:
            calls.append(len(texts))
            return self.tok.encode_batch(texts, **options)

    texts = ["CCO", "C§", "O", "O", "[C", "N"]
    tok = Counting()
    check_batch(encode_arrow(tok, pa.array(texts)), expected_rows(tok.tok, texts))
    # One pass to the first failure, the rows before it again, and so on: not row by row.
    assert calls == [6, 1, 4, 2, 1]


def test_not_an_arrow_string_array() -> None:
    tok = chemtok.SmilesTokenizer()
    with pytest.raises(TypeError, match="pyarrow"):
        encode_arrow(tok, ["CCO"])
    with pytest.raises(TypeError, match="string"):
        encode_arrow(tok, pa.array([1, 2]))


@needs_native
def test_buffers_outside_their_bounds_are_flagged_not_read() -> None:
    """The core checks every offset and validity bit against the buffers it was given."""
    engine = PUBLIC_NATIVE["smiles"].native_engine
    c = PUBLIC_NATIVE["smiles"].token_to_id("C")

    def status(length: int, offset: int, validity: Any, offsets: list[int], data: bytes, large: bool = False) -> Any:
        raw = np.array(offsets, dtype=np.int64 if large else np.int32).tobytes()
        ids, row_offsets, codes, failures = engine.encode_arrow_buffers(
            length, offset, large, validity, raw, data, "raise"
        )
        return ids.tolist(), row_offsets.tolist(), codes.tolist(), failures

    assert status(2, 0, None, [0, 1, 1000], b"CC") == ([c], [0, 1, 1], [0, 3], [])
    assert status(2, 0, None, [0, 2, 1], b"CC") == ([c, c], [0, 2, 2], [0, 3], [])  # decreasing
    assert status(3, 0, None, [0, 1, 2], b"CC") == ([c, c], [0, 1, 2, 2], [0, 0, 3], [])  # offsets too short
    assert status(2, 1, None, [0, 1, 2, 3], b"CCC", large=True) == ([c, c], [0, 1, 2], [0, 0], [])
    assert status(2, 7, b"\x80", [0] * 8 + [1, 2], b"CC") == ([c], [0, 1, 1], [0, 3], [])  # bitmap too short
    assert status(2, 0, b"\x02", [0, 1, 3], b"C\xc2\xa7") == ([], [0, 0, 0], [1, 2], [(1, 0, REASON)])


REASON = "smiles_no_lexeme"  # encode_arrow_buffers returns reason codes (chemtok.reasons)


def test_import_chemtok_does_not_import_pyarrow() -> None:
    code = "import sys, chemtok, chemtok.arrow; assert 'pyarrow' not in sys.modules, 'pyarrow imported'"
    subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), check=True, timeout=120)
