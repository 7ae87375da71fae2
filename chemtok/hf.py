"""Hugging Face ``transformers`` integration: :class:`HFChemTokenizer` over the router.

Needs the optional extra (``pip install "chemtok[hf]"``); ``import chemtok`` never
imports ``transformers``, this module does. Importing it registers the class with
``AutoTokenizer`` (``AutoTokenizer.register``), and a saved directory's
``tokenizer_config.json`` names it (``tokenizer_class``), so after ``import chemtok.hf``
a saved directory loads with ``AutoTokenizer.from_pretrained(dir)``. Without that import,
``AutoTokenizer.from_pretrained(dir, trust_remote_code=True)`` works too: the config's
``auto_map`` names the three-line ``tokenization_chemtok.py`` the directory holds, which
imports this class from the installed chemtok (no chemtok code is copied). What a saved directory holds, and how loading
checks it, is :mod:`chemtok.hf_manifest`.

What the class guarantees:

* ``tokenizer(text, add_special_tokens=False)["input_ids"] == ChemTokenizer.encode(text)``
  (batches go through ``ChemTokenizer.encode_batch``);
* ``add_special_tokens=True`` (the ``transformers`` default) wraps a sequence as
  ``<s> ids </s>`` and a pair as ``<s> a </s> b </s>``; ``bos``/``eos``/``pad``/``unk``/
  ``mask`` are chemtok's ``<s> </s> <pad> <unk> <mask>``. Over a base model
  (:meth:`HFChemTokenizer.from_base`) they are the base model's own where it has them
  (Llama 3: ``<|begin_of_text|>`` 128000 and ``<|end_of_text|>`` 128001), and the
  wrapping is the base's post-processor template (Llama 3: BOS only; GPT-2: nothing);
* ``decode(ids, skip_special_tokens=...)`` equals ``ChemTokenizer.decode``;
* ``return_offsets_mapping=True`` gives character offsets into the input, those of
  :meth:`ChemTokenizer.encode_with_offsets <chemtok.router.ChemTokenizer.encode_with_offsets>`:
  a marker covers its whole text, a modality token the characters it spells, a
  character split over several tokens (byte-level pieces, byte fallback) belongs to the
  token that completes it and the others are empty at its start; special tokens and
  padding are ``(0, 0)``.

Token strings (``convert_ids_to_tokens``, ``get_vocab``) are unique per id: special
tokens and markers are written as themselves (``<s>``, ``[START_SMILES]``); text tokens
keep the text model's strings (``Ġbenzene``, Llama 2's ``<s>``), prefixed ``text:`` only
if one collides with a special token or marker chemtok appends; every other token is
``namespace:token``, so SMILES carbon is ``smiles:C``, cysteine ``protein:C`` and a
byte-fallback token ``byte:<0x66>``.

Example:
    >>> from chemtok.hf import HFChemTokenizer
    >>> tok = HFChemTokenizer()
    >>> batch = tok(["[START_SMILES]CCO[END_SMILES]", "Ethanol"], padding=True, return_tensors="np")
    >>> batch["input_ids"].shape == batch["attention_mask"].shape
    True
    >>> tok.convert_ids_to_tokens(tok.encode("[START_SMILES]CCO[END_SMILES]", add_special_tokens=False))
    ['[START_SMILES]', 'smiles:C', 'smiles:C', 'smiles:O', '[END_SMILES]']
    >>> tok.decode(tok.encode("[START_AMINO]GIVEQ[END_AMINO]"), skip_special_tokens=True)
    '[START_AMINO]GIVEQ[END_AMINO]'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, cast

try:
    from transformers import AddedToken, AutoTokenizer, BatchEncoding, PretrainedConfig, PreTrainedTokenizer
    from transformers.tokenization_utils_base import TruncationStrategy
    from transformers.utils.generic import PaddingStrategy
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ModuleNotFoundError('chemtok.hf needs transformers: pip install "chemtok[hf]"', name="transformers") from err

from chemtok.hf_manifest import (
    BASE_FILE,
    MANIFEST_FILE,
    REMOTE_CODE_FILE,
    build_chem,
    check_manifest,
    check_options,
    write_saved_files,
)
from chemtok.router import ChemTokenizer
from chemtok.specials import post_processor_template
from chemtok.vocab import check_token_id

__all__ = ["HFChemTokenizer", "ChemtokConfig", "MANIFEST_FILE", "BASE_FILE"]  # the file names: chemtok.hf_manifest


class ChemtokConfig(PretrainedConfig):
    """A placeholder config under which :class:`HFChemTokenizer` is registered with ``AutoTokenizer``."""

    model_type = "chemtok"


class HFChemTokenizer(PreTrainedTokenizer):
    """A ``transformers`` tokenizer whose ids are exactly :class:`chemtok.ChemTokenizer`'s.

    Args:
        chemtok_file: a saved ``chemtok.json`` (passed by ``from_pretrained``); its id-space
            fingerprint must match the tokenizer built here.
        base_file: a base model's ``tokenizer.json`` to keep as the text model (see
            :meth:`from_base`).
        chem_tokenizer: a ready :class:`~chemtok.ChemTokenizer` to wrap instead; only its
            text model, SMILES model and policies are saved, and loading checks the
            fingerprint.
        on_error: ``"raise"`` (default), ``"fallback"`` or ``"skip"``, as in chemtok.
        strict_markers: raise on badly formed markers (default) or keep them as text.
        smiles_model: the SMILES model name (``"atom"``, the default).
        bos_token, eos_token, pad_token, unk_token, mask_token: ``transformers``'s
            special tokens; default: the ChemTokenizer's (the base model's own where
            it has them). Naming another token changes only what ``transformers``
            adds and pads with, never the id space.
        **kwargs: ``transformers`` options (``model_max_length``, ``padding_side``, ...).

    Example:
        >>> from chemtok.hf import HFChemTokenizer
        >>> tok = HFChemTokenizer()
        >>> enc = tok("[START_SMILES]C(=O)O[END_SMILES]", return_offsets_mapping=True)
        >>> enc["offset_mapping"][:4]
        [(0, 0), (0, 14), (14, 15), (15, 16)]
    """

    # Plain class attributes, as transformers' own base classes declare them.
    vocab_files_names = {"chemtok_file": MANIFEST_FILE, "base_file": BASE_FILE}  # noqa: RUF012
    model_input_names = ["input_ids", "attention_mask"]  # noqa: RUF012
    padding_side = "right"

    def __init__(
        self,
        chemtok_file: str | None = None,
        base_file: str | None = None,
        *,
        chem_tokenizer: ChemTokenizer | None = None,
        on_error: str = "raise",
        strict_markers: bool = True,
        smiles_model: str = "atom",
        bos_token: str | AddedToken | None = None,
        eos_token: str | AddedToken | None = None,
        pad_token: str | AddedToken | None = None,
        unk_token: str | AddedToken | None = None,
        mask_token: str | AddedToken | None = None,
        **kwargs: Any,
    ) -> None:
        if chem_tokenizer is None:
            check_options(chemtok_file, on_error, strict_markers, smiles_model)
            chem_tokenizer = build_chem(base_file, on_error, strict_markers, smiles_model, chemtok_file)
        else:
            on_error, strict_markers = chem_tokenizer.on_error, chem_tokenizer.strict_markers
            smiles_model = getattr(chem_tokenizer.modalities["smiles"], "model", "atom")
        self._chem = chem_tokenizer
        self.on_error = on_error
        self.strict_markers = strict_markers
        self.smiles_model = smiles_model
        if chemtok_file is not None:
            check_manifest(chemtok_file, chem_tokenizer)
        self._tokens, self._vocab = _token_table(chem_tokenizer)
        self._templates = _special_templates(chem_tokenizer)
        # Loading through trust_remote_code imports tokenization_chemtok.py from the directory.
        self._auto_map = {"AutoTokenizer": [f"{REMOTE_CODE_FILE[:-3]}.{type(self).__name__}", None]}
        chem = chem_tokenizer
        super().__init__(
            on_error=on_error,
            strict_markers=strict_markers,
            smiles_model=smiles_model,
            bos_token=bos_token if bos_token is not None else _token_of(self._tokens, chem.bos_token_id),
            eos_token=eos_token if eos_token is not None else _token_of(self._tokens, chem.eos_token_id),
            pad_token=pad_token if pad_token is not None else _token_of(self._tokens, chem.pad_token_id),
            unk_token=unk_token if unk_token is not None else _token_of(self._tokens, chem.unk_token_id),
            mask_token=mask_token if mask_token is not None else _token_of(self._tokens, chem.mask_token_id),
            **kwargs,
        )

    @classmethod
    def from_base(cls, path: str | os.PathLike[str], **kwargs: Any) -> HFChemTokenizer:
        """Extend a base model's ``tokenizer.json``: its ids stay, chemistry is appended.

        ``len(tokenizer)`` is the new embedding size and ``tokenizer.num_added_tokens``
        the rows to add: ``model.resize_token_embeddings(len(tokenizer))``. Text outside
        markers is tokenized exactly as the base model does, its special-token literals
        included. The base's special tokens keep their ids as ``bos``/``eos``/``pad``/
        ``unk`` (see :func:`chemtok.specials.find_special_tokens`, which also reads a
        ``tokenizer_config.json`` beside ``path``), and ``add_special_tokens=True`` wraps
        as the base's post-processor does. ``save_pretrained`` copies the base
        ``tokenizer.json`` into the directory and records those roles in ``chemtok.json``.

        Example:
            >>> import os
            >>> from chemtok.hf import HFChemTokenizer
            >>> path = "../shared/baselines/llama3/tokenizer.json"
            >>> if os.path.exists(path):
            ...     tok = HFChemTokenizer.from_base(path)
            ...     assert tok("[START_SMILES]CCO[END_SMILES]")["input_ids"][0] == tok.bos_token_id == 128000
        """
        return cls(base_file=str(path), **kwargs)

    # -- the wrapped router -------------------------------------------------------------

    @property
    def chem(self) -> ChemTokenizer:
        """The :class:`~chemtok.ChemTokenizer` that produces every id."""
        return self._chem

    @property
    def num_added_tokens(self) -> int:
        """Ids beyond the text model's: rows to add to a base model's embeddings."""
        return self._chem.num_added_tokens

    @property
    def vocab_size(self) -> int:
        return len(self._chem)

    def __len__(self) -> int:
        return len(self._chem)

    def get_vocab(self) -> dict[str, int]:
        return self._vocab

    def _convert_token_to_id(self, token: str) -> int:
        token_id = self._vocab.get(token)
        if token_id is None:
            unk = self._chem.unk_token_id
            if unk is None:
                raise KeyError(f"{token!r} is not a token of this tokenizer, and it has no unknown token")
            return unk
        return token_id

    def _convert_id_to_token(self, index: int) -> str:
        return self._tokens[check_token_id(index, len(self._tokens))]  # no counting from the end

    def _add_tokens(self, new_tokens: Sequence[str | AddedToken], special_tokens: bool = False) -> int:
        unknown = [str(t) for t in new_tokens if str(t) and str(t) not in self._vocab]
        if unknown:
            raise ValueError(
                f"chemtok's id space is closed and cannot take new tokens {unknown[:5]}; extend the base "
                "text model's tokenizer.json instead and build with HFChemTokenizer.from_base(path)"
            )
        # transformers accepts a mixed list at run time but types it as all-str or all-AddedToken.
        return int(super()._add_tokens(list(new_tokens), special_tokens=special_tokens))  # type: ignore[arg-type]

    # -- tokenizing ---------------------------------------------------------------------

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False, **kwargs: Any) -> list[str]:
        """Token strings of ``text`` (namespaced, see the module docs); no special tokens added by default."""
        if pair is None and not add_special_tokens:
            return [self._tokens[i] for i in self._chem.encode(text)]
        return [self._tokens[i] for i in self.encode(text, pair, add_special_tokens=add_special_tokens)]

    def _tokenize(self, text: str, **kwargs: Any) -> list[str]:
        return self.tokenize(text)

    def _template(self, pair: bool) -> list[tuple[int | str, int]]:
        if self._templates is not None:  # the base model's post-processor
            return self._templates[1 if pair else 0]
        bos, eos = self.bos_token_id, self.eos_token_id
        if pair:
            return [(bos, 0), ("A", 0), (eos, 0), ("B", 1), (eos, 1)]
        return [(bos, 0), ("A", 0), (eos, 0)]

    def _fill(self, token_ids_0: list[int], token_ids_1: list[int] | None, what: str) -> list[int]:
        out: list[int] = []
        for entry, type_id in self._template(token_ids_1 is not None):
            if isinstance(entry, int):
                out.append({"ids": entry, "mask": 1, "types": type_id}[what])
            else:
                seq = token_ids_0 if entry == "A" else token_ids_1 or []
                out.extend(seq if what == "ids" else [0 if what == "mask" else type_id] * len(seq))
        return out

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """``<s> a </s>``, or ``<s> a </s> b </s>`` for a pair; over a base model, its template."""
        return self._fill(token_ids_0, token_ids_1, "ids")

    def get_special_tokens_mask(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None, already_has_special_tokens: bool = False
    ) -> list[int]:
        if already_has_special_tokens:
            special = set(self.all_special_ids)
            return [1 if i in special else 0 for i in token_ids_0]
        return self._fill(token_ids_0, token_ids_1, "mask")

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        return self._fill(token_ids_0, token_ids_1, "types")

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return sum(isinstance(entry, int) for entry, _ in self._template(pair))

    # transformers' base classes disagree on the positional order of the options (the
    # Python backend has no return_offsets_mapping), so no signature matches both.
    def _encode_plus(  # type: ignore[override]
        self,
        text: Any,
        text_pair: Any = None,
        add_special_tokens: bool = True,
        padding_strategy: PaddingStrategy = PaddingStrategy.DO_NOT_PAD,
        truncation_strategy: TruncationStrategy = TruncationStrategy.DO_NOT_TRUNCATE,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: Any = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
        **kwargs: Any,
    ) -> BatchEncoding:
        """Encode one text or a batch through ``ChemTokenizer.encode_batch``.

        Truncation, special tokens and padding are the ``transformers`` base class's own
        (so ``truncation_side``, ``stride`` and the strategies behave as documented
        there); offsets follow the ids through them.
        """
        batched = isinstance(text, (list, tuple))
        texts = list(text) if batched else [text]
        pairs = None if text_pair is None else (list(text_pair) if batched else [text_pair])
        if is_split_into_words or not all(isinstance(t, str) for t in texts + (pairs or [])):
            raise ValueError(
                "HFChemTokenizer encodes strings (one text or a list of texts, with an optional text_pair); "
                "pre-split words and token lists are not supported: join them into one string first"
            )
        if pairs is not None and len(pairs) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(pairs)} text pairs")
        first_offsets: list[list[tuple[int, int]]] | None = None
        second_offsets: list[list[tuple[int, int]]] | None = None
        if return_offsets_mapping:
            encodings = [self._chem.encode_with_offsets(t) for t in texts]
            first, first_offsets = [e.ids for e in encodings], [e.offsets for e in encodings]
            second = None
            if pairs is not None:
                encodings = [self._chem.encode_with_offsets(t) for t in pairs]
                second, second_offsets = [e.ids for e in encodings], [e.offsets for e in encodings]
        else:
            first = cast("list[list[int]]", self._chem.encode_batch(texts))
            second = cast("list[list[int]]", self._chem.encode_batch(pairs)) if pairs is not None else None
        rows: list[dict[str, Any]] = []
        for index, ids in enumerate(first):
            pair_ids = second[index] if second is not None else None
            offsets = None
            if first_offsets is not None:
                offsets = first_offsets[index] + (second_offsets[index] if second_offsets is not None else [])
            rows.append(
                self._prepare_row(
                    ids,
                    pair_ids,
                    offsets,
                    add_special_tokens=add_special_tokens,
                    truncation_strategy=truncation_strategy,
                    max_length=max_length,
                    stride=stride,
                    return_token_type_ids=return_token_type_ids,
                    return_overflowing_tokens=return_overflowing_tokens,
                    return_special_tokens_mask=return_special_tokens_mask,
                    return_length=return_length,
                    verbose=verbose,
                )
            )
        pad_args = (padding_strategy, max_length, pad_to_multiple_of, padding_side, return_attention_mask)
        if not batched:
            padded = self._pad_rows(rows[0], *pad_args)
            return BatchEncoding(padded, tensor_type=return_tensors, prepend_batch_axis=return_tensors is not None)
        if return_tensors is not None and return_overflowing_tokens:
            for row in rows:
                row.pop("overflowing_tokens", None)
                row.pop("num_truncated_tokens", None)
        columns = {key: [row.get(key) for row in rows] for key in rows[0]} if rows else {"input_ids": []}
        padded = self._pad_rows(columns, *pad_args)
        return BatchEncoding(padded, tensor_type=return_tensors)

    def _pad_rows(
        self,
        encoded: dict[str, Any],
        padding_strategy: PaddingStrategy,
        max_length: int | None,
        pad_to_multiple_of: int | None,
        padding_side: str | None,
        return_attention_mask: bool | None,
    ) -> dict[str, Any]:
        if padding_side is None:  # transformers < 4.45 has no padding_side argument
            padded = self.pad(
                encoded,
                padding=padding_strategy.value,
                max_length=max_length,
                pad_to_multiple_of=pad_to_multiple_of,
                return_attention_mask=return_attention_mask,
            )
        else:
            padded = self.pad(
                encoded,
                padding=padding_strategy.value,
                max_length=max_length,
                pad_to_multiple_of=pad_to_multiple_of,
                padding_side=padding_side,
                return_attention_mask=return_attention_mask,
            )
        return dict(padded)

    # transformers 4.x routes batches here instead of through _encode_plus.
    def _batch_encode_plus(self, batch_text_or_text_pairs: Sequence[Any], **kwargs: Any) -> BatchEncoding:
        texts, pairs = [], []
        for item in batch_text_or_text_pairs:
            first, second = item if isinstance(item, (list, tuple)) else (item, None)
            texts.append(first)
            pairs.append(second)
        has_pairs = any(p is not None for p in pairs)
        return self._encode_plus(texts, pairs if has_pairs else None, **kwargs)

    def _prepare_row(
        self,
        ids: list[int],
        pair_ids: list[int] | None,
        offsets: list[tuple[int, int]] | None,
        **options: Any,
    ) -> dict[str, Any]:
        # Run the base class's truncation and special-token logic on *positions*
        # (-1, -2, ...) rather than ids: special tokens come back as their (non-negative)
        # ids and every other entry says which token it is, so ids and offsets stay
        # aligned whatever strategy, side or stride the caller chose.
        both = ids + (pair_ids or [])
        first = [-1 - k for k in range(len(ids))]
        second = None if pair_ids is None else [-1 - len(ids) - k for k in range(len(pair_ids))]
        row = dict(
            self.prepare_for_model(
                first,
                pair_ids=second,
                add_special_tokens=options["add_special_tokens"],
                padding=PaddingStrategy.DO_NOT_PAD.value,
                truncation=options["truncation_strategy"].value,
                max_length=options["max_length"],
                stride=options["stride"],
                return_attention_mask=False,
                return_token_type_ids=options["return_token_type_ids"],
                return_overflowing_tokens=options["return_overflowing_tokens"],
                return_special_tokens_mask=options["return_special_tokens_mask"],
                return_length=options["return_length"],
                verbose=options["verbose"],
            )
        )
        positions = row["input_ids"]
        row["input_ids"] = [both[-1 - p] if p < 0 else p for p in positions]
        if offsets is not None:
            row["offset_mapping"] = [offsets[-1 - p] if p < 0 else (0, 0) for p in positions]
        if "overflowing_tokens" in row:
            row["overflowing_tokens"] = [both[-1 - p] if p < 0 else p for p in row["overflowing_tokens"]]
        return row

    def _pad(self, encoded_inputs: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        offsets = encoded_inputs.pop("offset_mapping", None) if isinstance(encoded_inputs, dict) else None
        before = len(encoded_inputs["input_ids"])
        padded = super()._pad(encoded_inputs, *args, **kwargs)
        if offsets is not None:
            extra = [(0, 0)] * (len(padded["input_ids"]) - before)
            left = (kwargs.get("padding_side") or self.padding_side) == "left"
            padded["offset_mapping"] = extra + list(offsets) if left else list(offsets) + extra
        return dict(padded)

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character ``(start, end)`` of each id of ``ChemTokenizer.encode(text)``.

        The spans of :meth:`ChemTokenizer.encode_with_offsets
        <chemtok.router.ChemTokenizer.encode_with_offsets>`: they tile ``text``; a
        character spread over several tokens belongs to the one that completes it.

        Example:
            >>> from chemtok.hf import HFChemTokenizer
            >>> text = "Ethanol [START_SMILES]CCO[END_SMILES]"
            >>> [text[a:b] for a, b in HFChemTokenizer().offsets(text)][-5:]
            ['[START_SMILES]', 'C', 'C', 'O', '[END_SMILES]']
        """
        return self._chem.encode_with_offsets(text).offsets

    # -- decoding -----------------------------------------------------------------------

    def _decode(
        self,
        token_ids: int | list[int],
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
        **kwargs: Any,
    ) -> str:
        # clean_up_tokenization_spaces is ignored: chemtok's decode is exact, never cleaned up.
        ids = [token_ids] if isinstance(token_ids, int) else [int(i) for i in token_ids]
        return self._chem.decode(ids, skip_special_tokens=skip_special_tokens)

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        ids = self.convert_tokens_to_ids(tokens)
        return self._chem.decode([ids] if isinstance(ids, int) else ids)

    # -- saving -------------------------------------------------------------------------

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        """Write ``chemtok.json`` (what to rebuild and its fingerprint), the base model's
        ``tokenizer.json`` if there is one, and the ``trust_remote_code`` loader."""
        chem, model = self._chem, self.smiles_model
        return write_saved_files(chem, save_directory, filename_prefix=filename_prefix, smiles_model=model)

    @classmethod
    def register_for_auto_class(cls, auto_class: str = "AutoTokenizer") -> None:
        # transformers calls this after loading through trust_remote_code; the default
        # would make save_pretrained copy chemtok's own source into the directory.
        return None

    def __repr__(self) -> str:
        return f"HFChemTokenizer({self._chem!r}, model_max_length={self.model_max_length})"


def _special_templates(chem: ChemTokenizer) -> tuple[list[tuple[int | str, int]], list[tuple[int | str, int]]] | None:
    """The base model's wrapping of a sequence and of a pair, in chemtok ids; ``None`` without a base."""
    if not chem.has_base:
        return None
    offset = chem.block("text")[0]
    single, pair = (
        [(entry + offset if isinstance(entry, int) else entry, type_id) for entry, type_id in template]
        for template in (post_processor_template(chem.text), post_processor_template(chem.text, pair=True))
    )
    return single, pair


def _token_of(tokens: list[str], token_id: int | None) -> str | None:
    """The ``transformers`` token string of a special token id (see :func:`_token_table`)."""
    return None if token_id is None else tokens[token_id]


def _token_table(chem: ChemTokenizer) -> tuple[list[str], dict[str, int]]:
    """Unique token strings for every id (see the module docstring), and their inverse."""
    vocab = chem.get_vocab()
    table = [""] * len(vocab)
    for token, index in vocab.items():
        table[index] = token
    return table, vocab


# What makes AutoTokenizer.from_pretrained(dir) find the class after `import chemtok.hf`.
AutoTokenizer.register(ChemtokConfig, slow_tokenizer_class=HFChemTokenizer, exist_ok=True)
