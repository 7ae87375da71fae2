"""A base model's special tokens: which of its tokens serve as ``bos``, ``eos``, ``pad``, ``unk``, ``mask``.

A :class:`~chemtok.ChemTokenizer` over a base text model (Llama, GPT-2) keeps the
base's own special tokens and their ids rather than appending chemtok's:
:func:`find_special_tokens` says which token fills each of :data:`SPECIAL_ROLES`,
reading the ``tokenizer_config.json`` or ``special_tokens_map.json`` beside the model
when there is one, and :func:`post_processor_template` reads how the base wraps a
sequence (Llama 3 puts ``<|begin_of_text|>`` first; GPT-2 adds nothing), so that
``<|begin_of_text|>[START_SMILES]CCO[END_SMILES]`` starts as the base model expects.

Example:
    >>> import chemtok, os
    >>> from chemtok.specials import find_special_tokens
    >>> path = "../shared/baselines/llama3/tokenizer.json"
    >>> if os.path.exists(path):
    ...     llama3 = chemtok.TextTokenizer.from_file(path)
    ...     assert find_special_tokens(llama3)["bos"] == "<|begin_of_text|>"
    ...     tok = chemtok.ChemTokenizer(text=llama3)
    ...     assert tok.decode(tok.encode("[START_SMILES]CCO[END_SMILES]")) == "[START_SMILES]CCO[END_SMILES]"
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from chemtok.errors import DataFileError

if TYPE_CHECKING:
    from chemtok.idspace import IdSpace
    from chemtok.text import TextTokenizer

__all__ = ["SPECIAL_ROLES", "find_special_tokens", "post_processor_template"]

#: The role of each special token, in the order ``grammars/markers.toml`` lists them
#: (``<pad> <s> </s> <unk> <mask>``).
SPECIAL_ROLES = ("pad", "bos", "eos", "unk", "mask")

#: Files beside a base ``tokenizer.json`` that name its special tokens, in the order
#: they are consulted (``transformers`` writes both).
_SPECIAL_TOKEN_FILES = ("tokenizer_config.json", "special_tokens_map.json")


def post_processor_template(text: TextTokenizer, *, pair: bool = False) -> list[tuple[int | str, int]]:
    """How a text model's post-processor wraps one sequence (or a pair) when asked to add special tokens.

    Each entry is ``(id, type_id)`` for a special token the post-processor adds, or
    ``("A", type_id)`` / ``("B", type_id)`` where the first / second sequence goes. It
    is read off the model itself (an encoding of a probe with
    ``add_special_tokens=True``), so every post-processor type answers alike.

    Example:
        >>> import chemtok, os
        >>> chemtok.specials.post_processor_template(chemtok.TextTokenizer())  # no post-processor
        [('A', 0)]
        >>> path = "../shared/baselines/llama2/tokenizer.json"
        >>> if os.path.exists(path):
        ...     llama2 = chemtok.TextTokenizer.from_file(path)
        ...     assert chemtok.specials.post_processor_template(llama2) == [(1, 0), ("A", 0)]  # <s> $A
    """
    backend = text.backend
    if pair:
        encoding = backend.encode("a", "b", add_special_tokens=True)
    else:
        encoding = backend.encode("a", add_special_tokens=True)
    template: list[tuple[int | str, int]] = []
    for token_id, sequence, type_id in zip(encoding.ids, encoding.sequence_ids, encoding.type_ids):
        entry: tuple[int | str, int] = (token_id, type_id) if sequence is None else ("AB"[sequence], type_id)
        if sequence is None or not template or template[-1] != entry:
            template.append(entry)
    return template


def find_special_tokens(text: TextTokenizer, directory: str | Path | None = None) -> dict[str, str]:
    """Which tokens of a base model serve as its ``bos``, ``eos``, ``pad``, ``unk`` and ``mask``.

    Files beside the model decide first: ``tokenizer_config.json``, then
    ``special_tokens_map.json`` in ``directory``, whose ``bos_token``, ``eos_token``,
    ``pad_token``, ``unk_token`` and ``mask_token`` are a token string, an
    ``AddedToken`` object (its ``"content"``) or ``null`` (the model has none). A role
    neither file names is derived from the ``tokenizer.json`` alone:

    * ``bos``: the first special token the post-processor puts before the sequence
      (Llama 2's ``<s>``, Llama 3's ``<|begin_of_text|>``);
    * ``eos``: the first special token it puts after the sequence; when it puts none,
      the special added token with the lowest id whose content contains ``end`` or
      ``eos`` or starts with ``</`` (Llama 2's ``</s>``, Llama 3's ``<|end_of_text|>``,
      GPT-2's ``<|endoftext|>``);
    * ``bos`` again, when the post-processor adds none: the ``eos`` token (GPT-2's
      ``<|endoftext|>`` both ends one document and starts the next);
    * ``unk``: the model's ``unk_token`` (Llama 2's ``<unk>``);
    * ``pad`` and ``mask`` are never guessed; only a file names them.

    Args:
        text: the base text model.
        directory: where to look for the two files (usually the folder of the
            ``tokenizer.json``); ``None``: derive everything from the model.

    Returns:
        Role to token string, for the roles the base model fills.

    Raises:
        DataFileError: a file is not a JSON object, or names a token the model does not have.

    Example:
        >>> import chemtok, os
        >>> path = "../shared/baselines/gpt2/tokenizer.json"
        >>> if os.path.exists(path):
        ...     gpt2 = chemtok.TextTokenizer.from_file(path)
        ...     assert chemtok.specials.find_special_tokens(gpt2) == {"bos": "<|endoftext|>", "eos": "<|endoftext|>"}
    """
    decided: dict[str, str | None] = {}
    paths = [Path(directory) / name for name in _SPECIAL_TOKEN_FILES] if directory is not None else []
    for path in paths:
        if path.is_file():
            for role, token in _configured_special_tokens(path, text).items():
                decided.setdefault(role, token)
    backend = text.backend
    template = post_processor_template(text)
    sequence = next((k for k, (entry, _) in enumerate(template) if entry == "A"), len(template))
    before = [entry for entry, _ in template[:sequence] if isinstance(entry, int)]
    after = [entry for entry, _ in template[sequence + 1 :] if isinstance(entry, int)]
    if "eos" not in decided:
        specials = sorted((i, t.content) for i, t in backend.get_added_tokens_decoder().items() if t.special)
        ends = [i for i, content in specials if _names_an_end(content)]
        eos_id = after[0] if after else (ends[0] if ends else None)
        decided["eos"] = None if eos_id is None else backend.id_to_token(eos_id)
    if "bos" not in decided:
        decided["bos"] = backend.id_to_token(before[0]) if before else decided["eos"]
    if "unk" not in decided:
        unk = getattr(backend.model, "unk_token", None)
        decided["unk"] = unk if isinstance(unk, str) and text.token_to_id(unk) is not None else None
    return {role: token for role in SPECIAL_ROLES if (token := decided.get(role)) is not None}


def _names_an_end(content: str) -> bool:
    lowered = content.lower()
    return "end" in lowered or "eos" in lowered or content.startswith("</")


def _configured_special_tokens(path: Path, text: TextTokenizer) -> dict[str, str | None]:
    """The roles a ``tokenizer_config.json`` / ``special_tokens_map.json`` names."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataFileError(str(path), None, f"not readable as JSON ({err})") from err
    if not isinstance(config, dict):
        raise DataFileError(str(path), None, "expected a JSON object")
    roles: dict[str, str | None] = {}
    for role in SPECIAL_ROLES:
        key = f"{role}_token"
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, dict):
            value = value.get("content")
            if not isinstance(value, str):
                raise DataFileError(str(path), f"{key}.content", "expected the token string")
        elif value is not None and not isinstance(value, str):
            raise DataFileError(str(path), key, "expected a token string, an object with 'content', or null")
        if value is not None and text.token_to_id(value) is None:
            raise DataFileError(
                str(path),
                key,
                f"names {value!r}, which the model {text.source} does not have; chemtok keeps the "
                "base model's ids and appends only its own tokens, so remove the key or name a token of the model",
            )
        roles[role] = value
    return roles


class SpecialTokenRoles:
    """The special-token roles of an id space as attributes: ``bos_token_id``, ``eos_token`` ...

    Mixed into :class:`~chemtok.router.ChemTokenizer`, which supplies :attr:`id_space`
    and ``id_to_token``; the names are those ``transformers`` users expect.
    """

    @property
    def id_space(self) -> IdSpace:
        raise NotImplementedError

    def id_to_token(self, token_id: int) -> str:
        raise NotImplementedError

    @property
    def special_token_ids(self) -> dict[str, int]:
        """Id of each special token, by its string.

        By default ``<pad>``, ``<s>``, ``</s>``, ``<unk>``, ``<mask>`` (never emitted by
        encode). With a base model its own tokens take their roles
        (``<|begin_of_text|>``: 128000 for Llama 3) and chemtok's fill the rest.
        """
        return self.id_space.special_token_ids

    def _role_token(self, role: str) -> str | None:
        token_id = self.id_space.role_ids.get(role)
        return None if token_id is None else self.id_to_token(token_id)

    @property
    def bos_token_id(self) -> int | None:
        """Id of the beginning-of-sequence token: the base model's if it has one, else ``<s>``.

        Example:
            >>> import chemtok
            >>> chemtok.ChemTokenizer().bos_token_id
            1
        """
        return self.id_space.role_ids.get("bos")

    @property
    def eos_token_id(self) -> int | None:
        """Id of the end-of-sequence token: the base model's if it has one, else ``</s>``."""
        return self.id_space.role_ids.get("eos")

    @property
    def pad_token_id(self) -> int | None:
        """Id of the padding token: the base model's if it names one, else ``<pad>``."""
        return self.id_space.role_ids.get("pad")

    @property
    def unk_token_id(self) -> int | None:
        """Id of the unknown token: the base model's if it has one, else ``<unk>``."""
        return self.id_space.role_ids.get("unk")

    @property
    def mask_token_id(self) -> int | None:
        """Id of the mask token: the base model's if it names one, else ``<mask>``."""
        return self.id_space.role_ids.get("mask")

    @property
    def bos_token(self) -> str | None:
        """The beginning-of-sequence token's string (``<s>``; ``<|begin_of_text|>`` over Llama 3)."""
        return self._role_token("bos")

    @property
    def eos_token(self) -> str | None:
        """The end-of-sequence token's string (``</s>``; ``<|endoftext|>`` over GPT-2)."""
        return self._role_token("eos")

    @property
    def pad_token(self) -> str | None:
        """The padding token's string (``<pad>``)."""
        return self._role_token("pad")

    @property
    def unk_token(self) -> str | None:
        """The unknown token's string (``<unk>``)."""
        return self._role_token("unk")

    @property
    def mask_token(self) -> str | None:
        """The mask token's string (``<mask>``)."""
        return self._role_token("mask")
