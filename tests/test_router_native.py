"""The Rust router (``chemtok._native.RouterEngine``) gives the Python path's ids and errors.

The Python path (``ChemTokenizer(engine="python")``: split in Python, the reference
tokenizers, ``tokenizers`` for text) is the definition. For the default text model and
for ``from_base`` over GPT-2 and Llama 3, strict and lenient markers, every policy:
hypothesis properties on generated marked texts (well-formed and broken markers, bad
segments, lone surrogates, base special-token literals), the real marked corpora of
``$CHEMTOK_SHARED/data/text``, and a forked child.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import MARKERS, marked_text, plain_text

import chemtok
from chemtok import native

pytestmark = pytest.mark.skipif(not native.available(), reason="chemtok._native is not built")

SHARED = Path(os.environ.get("CHEMTOK_SHARED", Path(__file__).resolve().parents[2] / "shared"))
BASES = {name: SHARED / "baselines" / name / "tokenizer.json" for name in ("gpt2", "llama3")}
POLICIES = ("raise", "fallback", "skip")
MODELS = ("default", "gpt2", "llama3")


@functools.cache
def pair(model: str, strict: bool) -> tuple[chemtok.ChemTokenizer, chemtok.ChemTokenizer]:
    """``(native router, Python path)`` for a text model and marker mode."""
    if model == "default":
        make: Any = chemtok.ChemTokenizer
    else:
        if not BASES[model].is_file():
            pytest.skip(f"no {BASES[model]}")
        make = functools.partial(chemtok.ChemTokenizer.from_base, BASES[model])
    fast = make(strict_markers=strict)
    assert (fast.text.engine, fast.engine) == ("native", "native"), model
    return fast, make(strict_markers=strict, engine="python")


def outcome(tok: chemtok.ChemTokenizer, call: str, arg: Any, **options: Any) -> Any:
    """What a call returns, or the type, message, position and index of what it raises."""
    try:
        result = getattr(tok, call)(arg, **options)
    except chemtok.TokenizationError as err:
        return ("error", type(err), str(err), err.position, err.index)
    if isinstance(result, tuple):  # return_arrays
        ids, offsets = result
        return ("arrays", str(ids.dtype), str(offsets.dtype), ids.tolist(), offsets.tolist())
    return result


def assert_same(model: str, strict: bool, texts: list[str], policy: str) -> None:
    fast, slow = pair(model, strict)
    assert outcome(fast, "encode_batch", texts, on_error=policy) == outcome(slow, "encode_batch", texts, on_error=policy)
    assert outcome(fast, "encode_batch", texts, on_error=policy, return_arrays=True) == outcome(
        slow, "encode_batch", texts, on_error=policy, return_arrays=True
    )
    for text in texts[:2]:
        assert outcome(fast, "encode", text, on_error=policy) == outcome(slow, "encode", text, on_error=policy)


#: Pieces that break things: markers out of place, unknown markers, what no grammar
#: takes, lone surrogates, base models' special-token literals.
marker_strings = st.sampled_from([m for p in MARKERS.pairs for m in (p.start, p.end)])
breaking = st.sampled_from(
    ["[START_FOO]", "[END_BAR_2]", "§", "1", "\ud800", "\udfff", "<|endoftext|>", "<|begin_of_text|>", "</s>", "<s>"]
)
piece = st.one_of(plain_text, marked_text(), marker_strings, breaking)
messy_text = st.lists(piece, max_size=6).map("".join)
batches = st.lists(st.one_of(marked_text(), messy_text), min_size=1, max_size=6)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("strict", [True, False])
@given(texts=batches, policy=st.sampled_from(POLICIES))
@settings(max_examples=60, deadline=None)
def test_hyp_router_equals_the_python_path(model: str, strict: bool, texts: list[str], policy: str) -> None:
    assert_same(model, strict, texts, policy)


@pytest.mark.parametrize("model", MODELS)
@given(texts=st.lists(marked_text(), min_size=1, max_size=5))
@settings(max_examples=40, deadline=None)
def test_hyp_well_formed_marked_texts_encode_natively(model: str, texts: list[str]) -> None:
    fast, slow = pair(model, True)
    engine = fast.native_engine
    assert engine is not None
    rows, deferred, failed = engine.encode_batch(texts, "fallback")
    # No reference call but for the texts holding a marker of a modality the core does
    # not cover (SELFIES): every other row is the core's own.
    python_only = [
        pair.start
        for pair in fast.markers.pairs
        if pair.modality in fast.modalities and fast.modalities[pair.modality].native_engine is None
    ]
    assert (deferred, failed) == ([i for i, t in enumerate(texts) if any(m in t for m in python_only)], None)
    assert [row for i, row in enumerate(rows) if i not in deferred] == [
        row for i, row in enumerate(slow.encode_batch(texts, on_error="fallback")) if i not in deferred
    ]
    assert fast.encode_batch(texts, on_error="fallback") == slow.encode_batch(texts, on_error="fallback")
    assert fast.decode_batch(fast.encode_batch(texts, on_error="fallback")) == texts


@pytest.mark.parametrize(
    "texts, index",
    [
        (["fine", "[START_SMILES]CC§[END_SMILES]", "[START_SMILES]CC"], 1),
        (["[START_SMILES]CC", "[START_SMILES]CC§[END_SMILES]"], 0),
        (["a \ud800 b", "[START_FOO]"], 0),
        (["ok"] * 50 + ["[START_AMINO]MK1[END_AMINO]"] + ["[START_SMILES]C§[END_SMILES]"] * 50, 50),
    ],
)
def test_batch_errors_name_the_first_failing_text(texts: list[str], index: int) -> None:
    fast, slow = pair("default", True)
    got = outcome(fast, "encode_batch", texts)
    assert got == outcome(slow, "encode_batch", texts)
    assert got[0] == "error" and got[4] == index


def test_surrogates_take_the_reference_path_under_every_policy() -> None:
    text = "odd \udc80 byte [START_SMILES]C[END_SMILES] \ud83d"
    for policy in POLICIES:
        assert_same("default", True, [text, "plain", text], policy)


def test_engine_says_which_path_runs() -> None:
    assert chemtok.ChemTokenizer(engine="python").engine == "python"
    assert pair("default", True)[0].engine == "native"


def test_non_str_texts_raise_the_python_paths_type_error() -> None:
    fast, slow = pair("default", True)
    with pytest.raises(TypeError) as want:
        slow.encode_batch(["a", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError) as got:
        fast.encode_batch(["a", 3])  # type: ignore[list-item]
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("model", ["default", "gpt2"])
@given(texts=st.lists(st.one_of(st.none(), marked_text(), messy_text.filter(lambda t: "\ud800" not in t and "\udfff" not in t)), max_size=8), policy=st.sampled_from(POLICIES))
@settings(max_examples=40, deadline=None)
def test_hyp_encode_arrow_equals_the_python_path(model: str, texts: list[str | None], policy: str) -> None:
    pa = pytest.importorskip("pyarrow")
    fast, slow = pair(model, True)
    chunked = pa.chunked_array([pa.array(texts[:3], pa.string()), pa.array(texts[3:], pa.string())], pa.string())
    for array in (chunked, pa.array(texts, pa.large_string()).slice(1)):
        got = fast.encode_arrow(array, on_error=policy)  # type: ignore[arg-type]
        want = slow.encode_arrow(array, on_error=policy)  # type: ignore[arg-type]
        assert got.column("ids").to_pylist() == want.column("ids").to_pylist()
        assert got.column("error").to_pylist() == want.column("error").to_pylist()


def real_documents() -> list[str]:
    texts: list[str] = []
    for name in ("galactica_style_constructed.jsonl.gz", "scitooleval_questions.jsonl.gz"):
        path = SHARED / "data" / "text" / name
        if not path.is_file():
            pytest.skip(f"no {path}")
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    return texts


@pytest.mark.parametrize("model", MODELS)
def test_real_marked_corpora_equal_the_python_path(model: str) -> None:
    texts = real_documents()
    fast, slow = pair(model, True)
    for policy in ("raise", "fallback"):
        try:
            want = slow.encode_batch(texts, on_error=policy)
        except chemtok.TokenizationError as err:  # a real record the grammars refuse
            assert outcome(fast, "encode_batch", texts, on_error=policy) == outcome(
                slow, "encode_batch", texts, on_error=policy
            ), err
            continue
        assert fast.encode_batch(texts, on_error=policy, num_threads=2) == want
        ids, offsets = fast.encode_batch(texts, on_error=policy, return_arrays=True)
        assert offsets[-1] == len(ids) == sum(len(row) for row in want)


FORK = textwrap.dedent(
    """
    import json, os
    import chemtok

    tok = chemtok.ChemTokenizer()
    assert tok.engine == "native", tok.engine
    texts = ["Ethanol is [START_SMILES]CCO[END_SMILES].", "Insulin [START_AMINO]MALWMRLL[END_AMINO].", "Prose 2024."] * 200
    parent = tok.encode_batch(texts, num_threads=2)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        with os.fdopen(write_end, "w") as out:
            json.dump(tok.encode_batch(texts, num_threads=2), out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as source:
        child = json.load(source)
    status = os.waitpid(pid, 0)[1]
    print("RESULT " + json.dumps({"same": child == parent, "status": status, "rows": len(parent)}))
    """
)


def test_a_forked_child_encodes_with_the_router() -> None:
    from test_fork import clean_env, run_isolated

    out, err = run_isolated("router fork", ["-c", FORK], clean_env())
    line = next((line for line in out.splitlines() if line.startswith("RESULT ")), None)
    assert line is not None, out + err
    assert json.loads(line[len("RESULT ") :]) == {"same": True, "status": 0, "rows": 600}
