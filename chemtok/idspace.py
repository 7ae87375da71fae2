"""The router's id space: namespaces in id order, token strings, special-token roles, decoding.

One :class:`IdSpace` lays out every id a :class:`~chemtok.ChemTokenizer` can emit, as
blocks (namespaces) in a fixed order: by default the special tokens, the markers, the
text vocabulary, 256 byte-fallback tokens, then the SMILES, InChI, protein, DNA and
SELFIES vocabularies (:data:`MODALITY_ORDER`), then the ``appended_marker`` block (markers
added to a table after its ids were first shipped, such as ``[START_SELFIES]``); over a
base text model its ids come first and unchanged. Each namespace has ids of its own, so SMILES ``C`` (carbon) and protein
``C`` (cysteine) are different ids. The router dispatches segments to their tokenizers
and asks the id space for the global id of each local one.

Example:
    >>> import chemtok
    >>> from chemtok.dialects import load_markers
    >>> from chemtok.idspace import IdSpace
    >>> tok = chemtok.ChemTokenizer()
    >>> space = IdSpace(load_markers(), tok.text, tok.modalities, has_base=False, base_special_tokens={})
    >>> space.namespaces
    ('special', 'marker', 'text', 'byte', 'smiles', 'inchi', 'protein', 'dna', 'selfies', 'appended_marker')
    >>> space.token_to_id("C", "smiles") != space.token_to_id("C", "protein")
    True
    >>> space.decode(tok.encode("[START_SMILES]CCO[END_SMILES]"))
    '[START_SMILES]CCO[END_SMILES]'
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chemtok.dialects import load_markers, markers_from_table
from chemtok.errors import DataFileError, DecodeError
from chemtok.specials import SPECIAL_ROLES
from chemtok.text import first_uncovered
from chemtok.vocab import BYTE_TOKENS, byte_of_token, check_token_id, is_surrogate

if TYPE_CHECKING:
    from chemtok.base import GrammarTokenizer
    from chemtok.markers import MarkerTable
    from chemtok.text import TextTokenizer

__all__ = ["IdSpace", "MODALITY_ORDER", "TextRun"]

#: Order of the modality namespaces in the id space.
#: New modalities are appended, so that no earlier id moves.
MODALITY_ORDER = ("smiles", "inchi", "protein", "dna", "selfies")

# Kinds of ids in the unified space, used by decode.
_SPECIAL, _MARKER, _TEXT, _BYTE, _PIECE, _TRANSIENT = range(6)


@dataclass(frozen=True)
class TextRun:
    """A run of a text segment (see :meth:`chemtok.ChemTokenizer.text_runs`).

    Attributes:
        start: index of the run's first character in the segment.
        text: the run's characters.
        ids: ``None`` for plain text the text model encodes; otherwise the run's ids in
            the router's space (a base special-token literal, or a lone surrogate's
            byte-fallback ids).
    """

    start: int
    text: str
    ids: tuple[int, ...] | None


@dataclass(frozen=True)
class _Block:
    name: str
    offset: int
    size: int


class IdSpace:
    """Every id of a router: blocks in order, their token strings, roles, and decoding.

    Args:
        markers: the marker table (its special tokens and markers get ids).
        text: the text model; its ids form the ``text`` block.
        modalities: the tokenizer of each of :data:`MODALITY_ORDER`; every vocabulary
            starts with the table's special tokens and the 256 byte-fallback tokens,
            which map to the shared ``special`` and ``byte`` blocks.
        has_base: ``text`` is a base model: its ids come first, unchanged.
        base_special_tokens: the base model's token for each role it fills
            (:func:`~chemtok.specials.find_special_tokens`); those roles keep the
            base's ids and chemtok appends tokens for the rest.
        transient: append a ``transient`` block after every other id: one id per
            marker, for markers detection inserted, which :meth:`decode` drops
            (``ChemTokenizer(detect=True)``). No other id moves.

    Raises:
        DataFileError: the table's special tokens are not those every vocabulary starts with.
        ValueError: a role or token of ``base_special_tokens`` is unknown, or a
            vocabulary does not start with the special and byte-fallback tokens.
    """

    def __init__(
        self,
        markers: MarkerTable,
        text: TextTokenizer,
        modalities: Mapping[str, GrammarTokenizer],
        *,
        has_base: bool,
        base_special_tokens: Mapping[str, str],
        transient: bool = False,
    ) -> None:
        self._transient = transient
        self._markers = markers
        self._text = text
        self._modalities = modalities
        self._has_base = has_base
        self._base_special_tokens = base_special_tokens
        self._check_markers()
        self._build()

    def _check_markers(self) -> None:
        """A custom table passes the checks of a loaded one; every modality vocabulary
        must start with its special tokens."""
        if self._markers != load_markers():  # a table built in code skipped the loader's checks
            markers_from_table(self._markers.source, self._markers.as_dict())
        specials = tuple(self._markers.special_tokens)
        for name in MODALITY_ORDER:
            tokens = self._modalities[name].vocabulary.tokens
            # The special tokens are what comes before the byte-fallback block.
            local = tuple(tokens[: tokens.index(BYTE_TOKENS[0])] if BYTE_TOKENS[0] in tokens else ())
            if local != specials:
                raise DataFileError(
                    self._markers.source,
                    "special_tokens",
                    f"the table lists {list(specials)} but the {name} vocabulary starts with "
                    f"{list(local)}; a marker table must list the special tokens every vocabulary starts with",
                )

    def _build(self) -> None:
        specials = self._markers.special_tokens
        marker_tokens = self._markers.first_markers
        appended_markers = self._markers.appended_markers
        # Roles the base model fills keep its ids; chemtok appends tokens for the rest.
        base_role_ids = self._base_role_ids()
        own = [t for i, t in enumerate(specials) if i >= len(SPECIAL_ROLES) or SPECIAL_ROLES[i] not in base_role_ids]
        # (name, tokens or None for the text model's, kind of id)
        blocks: list[tuple[str, Sequence[str] | None, int]] = []
        text_size = self._text.vocab_size
        head: list[tuple[str, Sequence[str] | None, int]] = [
            ("special", own, _SPECIAL),
            ("marker", marker_tokens, _MARKER),
        ]
        text_block: list[tuple[str, Sequence[str] | None, int]] = [("text", None, _TEXT)]
        blocks.extend(text_block + head if self._has_base else head + text_block)
        blocks.append(("byte", BYTE_TOKENS, _BYTE))
        local_skip = len(specials) + len(BYTE_TOKENS)
        for name in MODALITY_ORDER:
            tok = self._modalities[name]
            local = tok.vocabulary.tokens
            if tuple(local[: len(specials)]) != tuple(specials) or tuple(
                local[len(specials) : local_skip]
            ) != BYTE_TOKENS:
                raise ValueError(
                    f"the {name} tokenizer's vocabulary must start with the special tokens "
                    f"{list(specials)} and the 256 byte-fallback tokens"
                )
            blocks.append((name, local[local_skip:], _PIECE))
        if appended_markers:
            blocks.append(("appended_marker", appended_markers, _MARKER))
        if self._transient:  # last, so that every other id stays where it was
            blocks.append(("transient", [*marker_tokens, *appended_markers], _TRANSIENT))

        self._blocks: dict[str, _Block] = {}
        self._kinds: list[int] = []
        self._strings: list[str | None] = []
        offset = 0
        for name, tokens, kind in blocks:
            size = text_size if tokens is None else len(tokens)
            self._blocks[name] = _Block(name, offset, size)
            self._kinds.extend([kind] * size)
            self._strings.extend([None] * size if tokens is None else tokens)
            offset += size
        self._size = offset
        self._special_id = {t: self._blocks["special"].offset + i for i, t in enumerate(own)}
        self._marker_id = {t: self._blocks["marker"].offset + i for i, t in enumerate(marker_tokens)}
        if appended_markers:
            late = self._blocks["appended_marker"].offset
            self._marker_id.update({t: late + i for i, t in enumerate(appended_markers)})
        self._transient_id = (
            {t: self._blocks["transient"].offset + i for i, t in enumerate([*marker_tokens, *appended_markers])} if self._transient else {}
        )
        # Each special token of the local vocabularies (and each role) -> its global id.
        text_offset = self._blocks["text"].offset
        local_special_ids = [
            text_offset + base_role_ids[SPECIAL_ROLES[i]]
            if i < len(SPECIAL_ROLES) and SPECIAL_ROLES[i] in base_role_ids
            else self._special_id[t]
            for i, t in enumerate(specials)
        ]
        self._role_ids: dict[str, int] = dict(zip(SPECIAL_ROLES, local_special_ids))
        self._literal_re: re.Pattern[str] | None = None
        self._literal_id: dict[str, int] = {}
        if self._has_base:
            self._mark_base_specials()
        byte_offset = self._blocks["byte"].offset
        # local id of each modality tokenizer -> global id
        self._translate: dict[str, list[int]] = {}
        for name in MODALITY_ORDER:
            n_local = len(self._modalities[name].vocabulary)
            block = self._blocks[name]
            table = list(local_special_ids)
            table += [byte_offset + b for b in range(256)]
            table += [block.offset + i for i in range(n_local - local_skip)]
            self._translate[name] = table

    def _base_role_ids(self) -> dict[str, int]:
        """Text-model id of each role ``base_special_tokens`` gives to a base token."""
        ids: dict[str, int] = {}
        for role, token in self._base_special_tokens.items():
            if role not in SPECIAL_ROLES:
                raise ValueError(f"base_special_tokens: unknown role {role!r} (known: {', '.join(SPECIAL_ROLES)})")
            local = self._text.token_to_id(token)
            if local is None:
                raise ValueError(
                    f"base_special_tokens: the {role} token {token!r} is not in the base model "
                    f"{self._text.source}; name one of its tokens, or leave the role out to append chemtok's own"
                )
            ids[role] = local
        return ids

    def _mark_base_specials(self) -> None:
        """Make the base model's special tokens special here too (decode, skip, literals).

        Each special added token of the base is decoded as its literal (or skipped
        with ``skip_special_tokens``), and its literal in text maps to its id, as the
        base tokenizer does by default. Tokens that strip neighbouring whitespace or
        match normalized text are left to the text model, which reads them as plain
        text: matching them would drop characters.
        """
        text_offset = self._blocks["text"].offset
        for local, added in self._text.backend.get_added_tokens_decoder().items():
            if not added.special or not 0 <= local < self._blocks["text"].size:
                continue
            self._kinds[text_offset + local] = _SPECIAL
            self._strings[text_offset + local] = added.content
            if added.content and not (added.lstrip or added.rstrip or added.single_word or added.normalized):
                self._literal_id[added.content] = text_offset + local
        if self._literal_id:
            # Longest first: at one position the longest literal wins, as in tokenizers.
            alternatives = [literal for literal, _ in self.special_literals]
            self._literal_re = re.compile("|".join(re.escape(a) for a in alternatives))

    @property
    def size(self) -> int:
        """Number of ids."""
        return self._size

    def __len__(self) -> int:
        return self._size

    @property
    def role_ids(self) -> Mapping[str, int]:
        """Id of each role (``"bos"``, ``"eos"``, ...): the base model's where it fills the role."""
        return self._role_ids

    @property
    def marker_ids(self) -> Mapping[str, int]:
        """Id of each marker string."""
        return self._marker_id

    @property
    def transient_ids(self) -> Mapping[str, int]:
        """Id of each marker string in the ``transient`` block (empty without one)."""
        return self._transient_id

    @property
    def special_literals(self) -> tuple[tuple[str, int], ...]:
        """``(literal, id)`` of the base model's special-token literals that text runs cut
        out (see :meth:`text_runs`), in the order they are tried: longest first."""
        return tuple((literal, self._literal_id[literal]) for literal in sorted(self._literal_id, key=len, reverse=True))

    def translation(self, modality: str) -> Sequence[int]:
        """The global id of each local id of ``modality``'s tokenizer (a list indexed by local id)."""
        return self._translate[modality]

    @functools.cached_property
    def fingerprint(self) -> str:
        """SHA-256 over every block of the id space: equal fingerprints mean identical ids."""
        digest = hashlib.sha256()
        for name, block in self._blocks.items():
            digest.update(f"{name}:{block.offset}:{block.size}\n".encode())
        digest.update(self._text.fingerprint.encode())
        for name in MODALITY_ORDER:
            digest.update(self._modalities[name].fingerprint.encode())
        for marker in self._markers.markers:
            digest.update(marker.encode() + b"\x00")
        if self._markers.dialect != "galactica":  # what each marker routes to
            digest.update(f"dialect:{self._markers.dialect}\n".encode())
            for pair in self._markers.pairs:
                digest.update(f"{pair.start}\x00{pair.modality}\x00{pair.pad}\n".encode())
        for role, token in sorted(self._base_special_tokens.items()):  # roles kept on base ids
            digest.update(f"role:{role}:{self._role_ids[role]}:{token}\n".encode())
        return digest.hexdigest()

    def block(self, name: str) -> tuple[int, int]:
        """``(offset, size)`` of a namespace: ``special``, ``marker``, ``text``, ``byte``,
        ``smiles``, ``inchi``, ``protein``, ``dna``, ``selfies`` or ``appended_marker``."""
        b = self._blocks[name]
        return b.offset, b.size

    def namespace_of(self, token_id: int) -> str:
        """The namespace an id belongs to (see :meth:`block`)."""
        token_id = check_token_id(token_id, self._size)
        for b in self._blocks.values():
            if b.offset <= token_id < b.offset + b.size:
                return b.name
        raise AssertionError("unreachable: blocks cover the id space")  # pragma: no cover

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces of the id space in id order: ``special``, ``marker``, ``text``, ..."""
        return tuple(sorted(self._blocks, key=lambda name: self._blocks[name].offset))

    def id_to_token(self, token_id: int) -> str:
        """The token string of an id; see :meth:`chemtok.ChemTokenizer.id_to_token`."""
        token_id = check_token_id(token_id, self._size)
        string = self._strings[token_id]
        if string is None:
            return self._text.id_to_token(token_id - self._blocks["text"].offset)
        return string

    def _string(self, token_id: int) -> str:
        """The stored string of an id outside the text block (only text ids have none)."""
        string = self._strings[token_id]
        if string is None:  # pragma: no cover - callers pass special, marker, byte or modality ids
            raise AssertionError(f"id {token_id} is a text id: ask the text model for its string")
        return string

    def token_to_id(self, token: str, modality: str | None) -> int | None:
        """The id of ``token`` in a namespace; see :meth:`chemtok.ChemTokenizer.token_to_id`."""
        if modality not in self._blocks:
            raise ValueError(
                f"ChemTokenizer.token_to_id needs the namespace of {token!r}: pass one of "
                f"{list(self.namespaces)}, got {modality!r}"
            )
        if modality == "text":
            local = self._text.token_to_id(token)
            return None if local is None else local + self._blocks["text"].offset
        if modality == "special":
            return self._special_id.get(token)
        if modality == "marker":  # every marker, in either marker block
            return self._marker_id.get(token)
        if modality == "appended_marker":
            found = self._marker_id.get(token)
            return None if found is None or self.namespace_of(found) != modality else found
        if modality == "transient":
            return self._transient_id.get(token)
        if modality == "byte":
            value = byte_of_token(token)
            return None if value is None else self._blocks["byte"].offset + value
        tok = self._modalities[modality]
        local = tok.token_to_id(token)
        return None if local is None else self._translate[modality][local]

    def get_vocab(self) -> dict[str, int]:
        """Every id under a unique token string (a fresh dict); see :meth:`chemtok.ChemTokenizer.get_vocab`."""
        return dict(self._token_table[1])

    @functools.cached_property
    def _token_table(self) -> tuple[list[str], dict[str, int]]:
        """Unique token strings for every id (see :meth:`get_vocab`), and their inverse."""
        size = self._size
        tokens: list[str | None] = [None] * size
        reserved: set[str] = set()
        for name in ("special", "marker", "appended_marker"):
            if name not in self._blocks:
                continue
            block = self._blocks[name]
            for i in range(block.offset, block.offset + block.size):
                string = self._string(i)
                tokens[i] = string
                reserved.add(string)
        text = self._blocks["text"]
        for string, local in self._text.get_vocab().items():
            if 0 <= local < text.size:
                tokens[text.offset + local] = f"text:{string}" if string in reserved else string
        for name in ("byte", *MODALITY_ORDER, *(("transient",) if self._transient else ())):
            block = self._blocks[name]
            for i in range(block.offset, block.offset + block.size):
                tokens[i] = f"{name}:{self._strings[i]}"
        table = [f"text:<unused {i}>" if token is None else token for i, token in enumerate(tokens)]
        vocab = {t: i for i, t in enumerate(table)}
        if len(vocab) != size:
            seen: set[str] = set()
            dup = ""
            for token in table:  # the first string met twice
                if token in seen:
                    dup = token
                    break
                seen.add(token)
            raise DataFileError(
                self._text.source, None, f"token string {dup!r} names two ids; rename it in the text model"
            )
        return table, vocab

    @property
    def special_token_ids(self) -> dict[str, int]:
        """Id of each special token, by its string; see :attr:`chemtok.ChemTokenizer.special_token_ids`."""
        ids = {self.id_to_token(i): i for i in self._role_ids.values()}
        ids.update(self._special_id)
        return ids

    def text_runs(self, text: str, *, fallback: bool) -> list[TextRun]:
        """Cut a text segment into text-model runs and runs with ids of their own.

        See :meth:`chemtok.ChemTokenizer.text_runs`; ``fallback`` is ``on_error="fallback"``
        (lone surrogates become byte-fallback ids).
        """
        runs: list[TextRun] = []
        for start, run, literal_id in self._literal_runs(text):
            if literal_id is not None:
                runs.append(TextRun(start, run, (literal_id,)))
            elif not fallback or first_uncovered(run) < 0:
                runs.append(TextRun(start, run, None))
            else:
                byte_offset = self._blocks["byte"].offset
                plain_start = 0
                for i, ch in enumerate(run):
                    if is_surrogate(ch):
                        if i > plain_start:
                            runs.append(TextRun(start + plain_start, run[plain_start:i], None))
                        ids = tuple(byte_offset + b for b in ch.encode("utf-8", "surrogatepass"))
                        runs.append(TextRun(start + i, ch, ids))
                        plain_start = i + 1
                if plain_start < len(run):
                    runs.append(TextRun(start + plain_start, run[plain_start:], None))
        return runs

    def _literal_runs(self, text: str) -> list[tuple[int, str, int | None]]:
        """``(offset, piece, id)``: runs of plain text (id ``None``) and the base model's
        special-token literals (with their id), in order."""
        pattern = self._literal_re
        if pattern is None:
            return [(0, text, None)]
        runs: list[tuple[int, str, int | None]] = []
        pos = 0
        for m in pattern.finditer(text):
            if m.start() > pos:
                runs.append((pos, text[pos : m.start()], None))
            runs.append((m.start(), m.group(), self._literal_id[m.group()]))
            pos = m.end()
        if pos < len(text):
            runs.append((pos, text[pos:], None))
        return runs

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """The text of ``ids``; see :meth:`chemtok.ChemTokenizer.decode`."""
        kinds, size = self._kinds, self._size
        text_offset = self._blocks["text"].offset
        byte_offset = self._blocks["byte"].offset
        out: list[str] = []
        run_kind = -1
        run: list[int] = []
        run_start = 0

        def flush() -> None:
            if not run:
                return
            if run_kind == _TEXT:
                out.append(self._text.decode([i - text_offset for i in run]))
            else:
                try:
                    out.append(bytes(i - byte_offset for i in run).decode("utf-8", "surrogatepass"))
                except UnicodeDecodeError as err:
                    raise DecodeError(run_start + err.start, "byte-fallback ids do not form valid UTF-8") from None
            run.clear()

        for index, token_id in enumerate(ids):
            if not 0 <= token_id < size:
                raise DecodeError(index, f"id {token_id} is outside the vocabulary (0 to {size - 1})")
            kind = kinds[token_id]
            if kind in (_TEXT, _BYTE):
                if kind != run_kind:
                    flush()
                    run_kind, run_start = kind, index
                run.append(token_id)
                continue
            flush()
            run_kind = -1
            if kind == _TRANSIENT or (kind == _SPECIAL and skip_special_tokens):
                continue  # a transient marker was never in the text
            out.append(self._string(token_id))
        flush()
        return "".join(out)
