"""Token ids with their character spans: :class:`Encoding`, and the one offsets implementation.

Every tokenizer's ``encode_with_offsets(text)`` returns an :class:`Encoding` built here;
:mod:`chemtok.hf` (``return_offsets_mapping``), ``chemtok inspect`` and ``chemtok bench``
read their spans from it.

An offset is a half-open range ``(start, end)`` of code-point indices (Python ``str``
indices) into the input. Under a lossless policy (``"raise"``, ``"fallback"``) the
offsets *tile* the input: the first starts at 0, each starts where the previous one
ends, the last ends at ``len(text)``, so every character belongs to exactly one token.

When a character is spread over several tokens (the byte-fallback tokens ``<0xC3>``
``<0xA9>`` of ``é``, or byte-level BPE pieces holding parts of a character's UTF-8
bytes), the character belongs to **the token that completes it** (holds its last
byte); the tokens before it get an empty span at the character's start. A token's span
is thus exactly the text a streaming decoder can print once that token arrives. The
same rule makes the dummy prefix ``▁`` that Llama 2 prepends an empty span ``(0, 0)``:
it holds no character of the input.

Under ``on_error="skip"`` the dropped characters belong to no token: the offsets are
in order and never overlap, but leave gaps where characters were dropped. A token that
merges across a dropped character (a compact SMILES merge, or a text BPE token once a
lone surrogate is gone) runs from its first to its last character and so spans it.

Example:
    >>> import chemtok
    >>> enc = chemtok.SmilesTokenizer(on_error="fallback").encode_with_offsets("OCé")
    >>> enc.tokens, enc.offsets
    (['O', 'C', '<0xC3>', '<0xA9>'], [(0, 1), (1, 2), (2, 2), (2, 3)])
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chemtok.errors import TokenizationError
from chemtok.text import first_uncovered, strip_surrogates
from chemtok.vocab import byte_of_token, is_surrogate

if TYPE_CHECKING:
    from chemtok.base import GrammarTokenizer, OnError
    from chemtok.router import ChemTokenizer
    from chemtok.text import TextTokenizer

__all__ = ["Encoding", "Span", "shift_over_insertions", "tile_text_model_offsets"]

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Encoding:
    """The ids of one string, each with its token string, character span and modality.

    Attributes:
        ids: the token ids, equal to ``tokenizer.encode(text)``.
        tokens: the token strings (``tokenizer.id_to_token(i)`` for each id).
        offsets: ``(start, end)`` code-point indices into the input; under lossless
            policies they tile it (see the module docstring for characters split over
            several tokens and for ``on_error="skip"``).
        modalities: each token's modality: the tokenizer's name (``"smiles"``,
            ``"text"``, ...) for a single-modality tokenizer; for the router
            ``"marker"`` for a marker token, ``"transient"`` for a marker that
            ``ChemTokenizer(detect=True)`` inserted (an empty span at its insertion
            point: it holds no character of the input), otherwise the modality of
            the segment the token belongs to.

    Example:
        >>> import chemtok
        >>> enc = chemtok.ChemTokenizer().encode_with_offsets("[START_SMILES]CCO[END_SMILES]")
        >>> list(zip(enc.tokens, enc.offsets, enc.modalities))[:3]
        [('[START_SMILES]', (0, 14), 'marker'), ('C', (14, 15), 'smiles'), ('C', (15, 16), 'smiles')]
        >>> len(enc)
        5
    """

    ids: list[int]
    tokens: list[str]
    offsets: list[Span]
    modalities: list[str]

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not len(self.tokens) == len(self.offsets) == len(self.modalities) == n:
            raise ValueError(
                f"an Encoding needs one token, offset and modality per id: got {n} ids, {len(self.tokens)} "
                f"tokens, {len(self.offsets)} offsets and {len(self.modalities)} modalities"
            )

    def __len__(self) -> int:
        return len(self.ids)


# -- the span rules -----------------------------------------------------------------------


def _spelled_offsets(text: str, tokens: Sequence[str], start: int = 0) -> list[Span]:
    """Spans of tokens that spell ``text`` exactly, byte-fallback runs standing for characters.

    A byte-fallback token stands for one UTF-8 byte of the character at the cursor; the
    token holding its last byte gets the character, the ones before an empty span.
    """
    if "".join(tokens) == text:
        # No byte-fallback token: one would spell its character longer than the text.
        ends = list(itertools.accumulate(map(len, tokens), initial=start))
        return list(itertools.pairwise(ends))
    spans: list[Span] = []
    pos, n = 0, len(text)
    pending = 0  # bytes of the character at pos still to come
    for token in tokens:
        if byte_of_token(token) is not None:
            if pos >= n:
                break
            if pending == 0:
                pending = len(text[pos].encode("utf-8", "surrogatepass"))
            pending -= 1
            if pending:
                spans.append((start + pos, start + pos))
            else:
                spans.append((start + pos, start + pos + 1))
                pos += 1
            continue
        if pending or not text.startswith(token, pos):
            break
        spans.append((start + pos, start + pos + len(token)))
        pos += len(token)
    if len(spans) != len(tokens) or pos != n or pending:
        raise RuntimeError(
            f"chemtok: the tokens {list(tokens)[:8]}... do not spell {text[:40]!r}; please report this input"
        )
    return spans


def _map_to_original(spans: Sequence[Span], kept: Sequence[int], start: int = 0) -> list[Span]:
    """Move spans over a string with some characters dropped back onto the original.

    ``kept[i]`` is the original index of the ``i``-th kept character. A span keeps its
    first and last character; an empty span sits just after the kept character before it.
    """
    out: list[Span] = []
    for a, b in spans:
        if b > a:
            out.append((start + kept[a], start + kept[b - 1] + 1))
        else:
            at = kept[a - 1] + 1 if a > 0 else 0
            out.append((start + at, start + at))
    return out


def tile_text_model_offsets(text: str, reported: Sequence[Span], start: int = 0) -> list[Span]:
    """Turn the offsets a ``tokenizers`` model reports into spans that tile ``text``.

    ``tokenizers`` gives each token the characters its bytes touch, so pieces of one
    character all report that character (GPT-2's ``Ġâ`` ``Ħ`` ``ĥ`` for `` ℃``), Llama 2's
    lone dummy prefix ``▁`` reports the first character, and a post-processor with
    ``trim_offsets`` leaves whitespace out. The rule of this module fixes all three: a
    token ends where the next one starts when that is earlier than its own end (the
    character it shares is completed later), each token starts where the previous one
    ended (trimmed whitespace joins the next token), and the last ends at ``len(text)``.

    Args:
        text: the string the model encoded.
        reported: the model's ``Encoding.offsets`` for it (code-point offsets).
        start: added to every span (where ``text`` starts in a longer input).

    Example:
        >>> from chemtok.encoding import tile_text_model_offsets
        >>> tile_text_model_offsets(" ℃)", [(0, 2), (1, 2), (1, 2), (2, 3)])   # Ġâ Ħ ĥ )
        [(0, 1), (1, 1), (1, 2), (2, 3)]
        >>> tile_text_model_offsets("12", [(0, 1), (0, 1), (1, 2)])              # ▁ 1 2
        [(0, 0), (0, 1), (1, 2)]
    """
    spans: list[Span] = []
    last = len(reported) - 1
    pos = 0
    for i, (_, reported_end) in enumerate(reported):
        end = len(text) if i == last else min(reported_end, reported[i + 1][0])
        end = min(max(end, pos), len(text))
        spans.append((start + pos, start + end))
        pos = end
    return spans


# -- per tokenizer ------------------------------------------------------------------------


def grammar_encoding(tok: GrammarTokenizer, text: str, policy: OnError) -> Encoding:
    """:meth:`GrammarTokenizer.encode_with_offsets <chemtok.base.GrammarTokenizer.encode_with_offsets>`."""
    ids = tok.encode(text, on_error=policy)
    strings = tok.vocabulary.tokens
    tokens = [strings[i] for i in ids]
    if policy != "skip":
        offsets = _spelled_offsets(text, tokens)
    else:
        # "skip" drops exactly the characters "fallback" spells as bytes: find them from
        # the lossless tokens, then place the kept tokens on the kept characters.
        full = tok.tokenize(text, on_error="fallback")
        dropped = {a for token, (a, _) in zip(full, _spelled_offsets(text, full)) if byte_of_token(token) is not None}
        kept = [i for i in range(len(text)) if i not in dropped]
        offsets = _map_to_original(_spelled_offsets("".join(text[i] for i in kept), tokens), kept)
    return Encoding(ids, tokens, offsets, [tok.name] * len(ids))


def text_encoding(tok: TextTokenizer, text: str, policy: OnError) -> Encoding:
    """:meth:`TextTokenizer.encode_with_offsets <chemtok.text.TextTokenizer.encode_with_offsets>`."""
    if not isinstance(text, str):
        raise TypeError(f"TextTokenizer expects str, got {type(text).__name__}")
    bad = first_uncovered(text)
    if bad >= 0 and policy == "raise":
        tok.encode(text, on_error="raise")  # raises the TokenizationError encode raises
    model_input = text if bad < 0 else strip_surrogates(text)
    backend = tok.backend
    enc = backend.encode(model_input, add_special_tokens=False)
    ids = list(enc.ids)
    if backend.decode(ids, skip_special_tokens=False) != model_input:
        tok.encode(text, on_error=policy)  # raises, with the position
        raise RuntimeError("chemtok: the text model round trip failed only in encode_with_offsets; please report")
    offsets = tile_text_model_offsets(model_input, enc.offsets)
    if bad >= 0:  # "skip": the surrogates belong to no token
        offsets = _map_to_original(offsets, [i for i, ch in enumerate(text) if not is_surrogate(ch)])
    return Encoding(ids, list(enc.tokens), offsets, [tok.name] * len(ids))


def _router_id(chem: ChemTokenizer, token: str, namespace: str) -> int:
    token_id = chem.token_to_id(token, namespace)
    if token_id is None:  # pragma: no cover - every token a segment tokenizer emits has an id
        raise RuntimeError(f"chemtok: {namespace} token {token!r} has no id in the router; please report")
    return token_id


def router_encoding(chem: ChemTokenizer, text: str, policy: OnError) -> Encoding:
    """:meth:`ChemTokenizer.encode_with_offsets <chemtok.router.ChemTokenizer.encode_with_offsets>`.

    Each segment of :meth:`~chemtok.router.ChemTokenizer.split` is encoded by its own
    tokenizer's ``encode_with_offsets``, its spans shifted by the segment's start and its
    ids looked up in the router's namespaces, exactly as ``encode`` composes them.
    """
    ids: list[int] = []
    tokens: list[str] = []
    offsets: list[Span] = []
    modalities: list[str] = []
    text_offset = chem.block("text")[0]
    try:
        for segment in chem.split(text):
            kind, start = segment.modality, segment.start
            if kind == "marker":
                ids.append(_router_id(chem, segment.text, "marker"))
                tokens.append(segment.text)
                offsets.append((start, segment.end))
                modalities.append(kind)
                continue
            if kind != "text":
                part = chem.modalities[kind].encode_with_offsets(segment.text, on_error=policy)
                ids.extend(_router_id(chem, t, kind) for t in part.tokens)
                tokens.extend(part.tokens)
                offsets.extend((start + a, start + b) for a, b in part.offsets)
                modalities.extend([kind] * len(part))
                continue
            # Text: the router's own runs (text-model pieces, base special-token
            # literals, a lone surrogate's fallback bytes), so ids match encode exactly.
            for run in chem.text_runs(segment.text, on_error=policy):
                run_start = start + run.start
                if run.ids is not None:
                    # A literal or one surrogate: the last id completes the run's characters.
                    last = len(run.ids) - 1
                    ids.extend(run.ids)
                    tokens.extend(chem.id_to_token(i) for i in run.ids)
                    offsets.extend((run_start, run_start + len(run.text) * (k == last)) for k in range(len(run.ids)))
                    modalities.extend([kind] * len(run.ids))
                    continue
                part = chem.text.encode_with_offsets(run.text, on_error="skip" if policy == "skip" else "raise")
                ids.extend(text_offset + i for i in part.ids)
                tokens.extend(part.tokens)
                offsets.extend((run_start + a, run_start + b) for a, b in part.offsets)
                modalities.extend([kind] * len(part))
    except TokenizationError:
        chem.encode(text, on_error=policy)  # the same error, placed in the whole input
        raise
    return Encoding(ids, tokens, offsets, modalities)


def shift_over_insertions(spans: Sequence[Span], insertions: Sequence[tuple[int, int]]) -> list[Span]:
    """Move spans over a string with pieces inserted back onto the string without them.

    ``insertions`` are ``(position, length)`` of each inserted piece in the longer
    string, in order. A span that lies outside every piece loses the length of the
    pieces before it; a span on a piece (or inside one) becomes the empty span at the
    piece's insertion point in the original.

    Example:
        >>> from chemtok.encoding import shift_over_insertions
        >>> # "CCO" marked as "[S]CCO[E]": the markers collapse, the atoms move back by 3
        >>> shift_over_insertions([(0, 3), (3, 4), (4, 5), (5, 6), (6, 9)], [(0, 3), (6, 3)])
        [(0, 0), (0, 1), (1, 2), (2, 3), (3, 3)]
    """
    starts = [position for position, _ in insertions]
    ends = [position + length for position, length in insertions]
    removed = list(itertools.accumulate((length for _, length in insertions), initial=0))

    def before(x: int) -> int:  # length of the pieces ending at or before x
        return removed[bisect.bisect_right(ends, x)]

    out: list[Span] = []
    for a, b in spans:
        k = bisect.bisect_right(starts, a) - 1
        if k >= 0 and a < ends[k]:  # on an inserted piece
            at = starts[k] - removed[k]
            out.append((at, at))
        else:
            out.append((a - before(a), b - before(b)))
    return out


def detected_router_encoding(chem: ChemTokenizer, text: str, policy: OnError) -> Encoding:
    """:meth:`ChemTokenizer.encode_with_offsets <chemtok.router.ChemTokenizer.encode_with_offsets>` under ``detect=True``.

    The text is annotated (:func:`chemtok.annotate.annotate_with_insertions`, as
    ``encode`` does), the annotated text goes through :func:`router_encoding`, each
    inserted marker gets its transient id and modality ``"transient"``, and every span is
    moved back onto ``text`` (:func:`shift_over_insertions`): an inserted marker is the
    empty span at its insertion point, every other token spans the characters of
    ``text`` it stands for, so the spans of the other tokens tile ``text``.
    """
    from chemtok.annotate import annotate_with_insertions

    annotated, insertions = annotate_with_insertions(text, markers=chem.markers)
    try:
        enc = router_encoding(chem, annotated, policy)
    except TokenizationError:
        chem.encode(text, on_error=policy)  # the error encode gives, in the caller's coordinates
        raise
    if not insertions:
        return enc
    inserted = {i.position for i in insertions}
    transient = chem.id_space.transient_ids
    ids = list(enc.ids)
    modalities = list(enc.modalities)
    for j, ((start, _), kind) in enumerate(zip(enc.offsets, enc.modalities)):
        if kind == "marker" and start in inserted:
            ids[j] = transient[enc.tokens[j]]
            modalities[j] = "transient"
    offsets = shift_over_insertions(enc.offsets, [(i.position, len(i.marker)) for i in insertions])
    return Encoding(ids, list(enc.tokens), offsets, modalities)
