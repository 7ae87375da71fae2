"""Why a grammar refused its input: reason codes and the one table of their messages.

Both engines name a refusal by a short code (``"bracket_not_closed"``); the English
text lives only here. The pure-Python tokenizers raise ``NoRule(position, message)``
with a message taken from this table, and the Rust core (``chemtok._native``) returns
the code, which the binding turns into the same message through the table handed
over by :mod:`chemtok.native` (see :func:`reason_messages`). So both engines give
byte-identical :class:`~chemtok.errors.TokenizationError` messages, and a message is
changed in one place.

A template with ``{fields}`` takes them from the grammar (the InChI prefixes, a
sequence alphabet): :func:`reason_messages` formats every template whose fields are
given.

Example:
    >>> from chemtok.reasons import REASONS, reason_messages
    >>> REASONS["bracket_not_closed"]
    'bracket atom is not closed'
    >>> reason_messages(name="dna", letters="ACGT")["sequence_no_rule"]
    'not a letter of the dna alphabet ACGT'
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["REASONS", "reason_messages", "bracket_repeated"]

#: Every reason code of both engines and its message template (``str.format`` fields).
REASONS: Mapping[str, str] = MappingProxyType(
    {
        # SMILES (chemtok/smiles.py, rust/chemtok-core/src/smiles.rs)
        "smiles_no_lexeme": "no SMILES lexeme starts here (not an organic-subset atom, bond, ring bond or branch)",
        "bracket_not_closed": "bracket atom is not closed",
        "bracket_no_symbol": "expected an element symbol inside the bracket atom",
        "bracket_no_property": "expected chirality, hydrogen count, charge, atom class or ']'",
        # A bracket atom repeats a property; the code ends in the property's kind.
        "bracket_repeated_symbol": "a bracket atom has at most one symbol",
        "bracket_repeated_chirality": "a bracket atom has at most one chirality",
        "bracket_repeated_hydrogen_count": "a bracket atom has at most one hydrogen count",
        "bracket_repeated_charge": "a bracket atom has at most one charge",
        "bracket_repeated_atom_class": "a bracket atom has at most one atom class",
        # InChI (chemtok/inchi.py, inchi.rs); {prefixes} is Python's repr of the list.
        "inchi_prefix": "an InChI starts with one of {prefixes}",
        "inchi_no_rule": "not an element symbol, number, layer tag or InChI punctuation",
        # Protein, DNA/RNA (chemtok/sequence.py, sequence.rs)
        "sequence_no_rule": "not a letter of the {name} alphabet {letters}",
        # SELFIES (chemtok/selfies.py, selfies.rs); the fields are grammar values,
        # {branch_bonds} the branch bond prefixes joined by ", ".
        "selfies_no_symbol": "SELFIES is a sequence of symbols in '{open}...{close}' (e.g. [C], [=O], [Branch1]) "
        "and '{dot}' between fragments",
        "selfies_not_closed": "symbol is not closed with '{close}'",
        "selfies_structure": "{branch} and {ring} symbols are [{branch}1] to [{branch}{max_length}], "
        "with a bond prefix ({branch_bonds}) or, for rings, two stereo bond characters",
        "selfies_no_element": "expected an element symbol, or a branch, ring or special symbol "
        "(e.g. [C], [=O], [Branch1], [Ring1], [nop]) inside '{open}...{close}'",
        "selfies_no_property": "expected chirality (@, @@), an H count (H0 to H9), a charge (+1, -2) or ']'",
    }
)


def _fields(template: str) -> frozenset[str]:
    return frozenset(field for _, field, _, _ in string.Formatter().parse(template) if field)


@functools.cache
def _messages(params: tuple[tuple[str, str], ...]) -> Mapping[str, str]:
    given = dict(params)
    return MappingProxyType(
        {code: template.format(**given) for code, template in REASONS.items() if _fields(template) <= given.keys()}
    )


def reason_messages(**params: str) -> Mapping[str, str]:
    """Return the message of every reason code whose template fields are in ``params``.

    A tokenizer calls this once with its grammar's values; the result (cached, read
    only) is what its refusals say, and what :mod:`chemtok.native` hands to the Rust
    core.

    Args:
        **params: template fields: ``prefixes`` (InChI), ``name`` and ``letters``
            (sequence grammars); ``open``, ``close``, ``dot``, ``branch``, ``ring``,
            ``max_length`` and ``branch_bonds`` (SELFIES).

    Example:
        >>> msgs = reason_messages(prefixes="['InChI=1S']")
        >>> msgs["inchi_prefix"]
        "an InChI starts with one of ['InChI=1S']"
        >>> "sequence_no_rule" in msgs
        False
    """
    return _messages(tuple(sorted(params.items())))


def bracket_repeated(kind: str) -> str:
    """Return the code for a bracket atom that repeats the property ``kind``.

    Example:
        >>> REASONS[bracket_repeated("atom_class")]  # [CH4:1:2]
        'a bracket atom has at most one atom class'
    """
    return f"bracket_repeated_{kind}"
