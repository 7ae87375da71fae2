"""The structural check of a SMILES candidate: what a lexer accepts but no chemist writes.

:mod:`chemtok.detect` lexes a candidate with the :class:`~chemtok.SmilesTokenizer`, then
asks this check whether the tokens form a well-built molecule (or reaction): branches
balanced, ring closures paired and not between neighbours (``N2O2``), no bond at an
end, aromatic atoms inside a ring, reactions as reactants > agents > products. Its
:class:`SmilesShape` counts what the detector's context rules then weigh (a ring or a
branch makes ``CC(=O)O`` conclusive; ``CCO`` needs a cue).

The native detector classifies tokens the same way, from :meth:`SmilesStructure.token_kind`
of every vocabulary token (handed over in :meth:`chemtok.detect.Detector.native_spec`).

Example:
    >>> import chemtok
    >>> from chemtok.smiles_structure import SmilesStructure
    >>> tok = chemtok.SmilesTokenizer()
    >>> shape = SmilesStructure(tok.grammar).shape(tok.tokenize("CC(=O)Oc1ccccc1C(=O)O"))
    >>> shape.atoms, shape.rings, shape.branches, shape.structured
    (13, 1, 2, True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chemtok.grammar import SmilesGrammar

__all__ = ["TOKEN_KINDS", "SmilesShape", "SmilesStructure"]

#: Kinds of SMILES tokens for the structural check, in the order the native detector numbers them.
TOKEN_KINDS = (
    *("other", "bracket_open", "bracket_atom", "atom", "aromatic", "bond"),
    *("branch_open", "branch_close", "dot", "ring", "arrow", "bracket_close"),
)


@dataclass
class SmilesShape:
    """What the structural check learns of a SMILES: counts of its atoms, rings, branches..."""

    atoms: int = 0
    rings: int = 0
    branches: int = 0
    brackets: int = 0
    aromatic: int = 0
    arrows: int = 0
    bonds: int = 0
    dots: int = 0
    bare_brackets: int = 0  # [C], [O]: element symbol only, as SELFIES writes them

    @property
    def structured(self) -> bool:
        # One bracket atom among plain capitals ("[125I]PIC", a radioligand) is not enough.
        brackets = self.brackets >= 2 or (self.brackets == 1 and bool(self.bonds or self.dots or self.atoms == 1))
        return bool(self.rings or self.branches or self.arrows or brackets)

    @property
    def selfies_like(self) -> bool:
        """Only bare bracket atoms in a row (``[C][C][O]``): a SELFIES, not a SMILES."""
        return self.atoms >= 2 and self.bare_brackets == self.atoms and not (self.rings or self.branches or self.bonds)


class SmilesStructure:
    """The structural check over atom-level SMILES tokens of one grammar.

    Args:
        grammar: the SMILES grammar whose tokens are checked (``SmilesTokenizer().grammar``).
    """

    def __init__(self, grammar: SmilesGrammar) -> None:
        g = grammar
        self._grammar = g
        digits = re.escape(g.ring_digits)
        self._ring_re = re.compile(
            f"{re.escape(g.ring_paren_open)}[{digits}]+{re.escape(g.ring_paren_close)}"
            f"|{re.escape(g.ring_percent)}[{digits}][{digits}]|[{digits}]"
        )
        self._aromatic = frozenset(g.organic_aromatic)
        self._atoms = frozenset((*g.organic, *g.organic_aromatic, g.wildcard))
        self._bonds = frozenset((*g.bonds, *g.dative_bonds))
        self._arrows = frozenset(g.reaction)
        self._kinds: dict[str, str] = {}

    def shape(self, tokens: Sequence[str]) -> SmilesShape | None:
        """What the tokens of one candidate form, or ``None`` unless a well-built SMILES.

        Example:
            >>> import chemtok
            >>> from chemtok.smiles_structure import SmilesStructure
            >>> check = SmilesStructure(chemtok.SmilesTokenizer().grammar)
            >>> check.shape(chemtok.SmilesTokenizer().tokenize("c1ccccc1O")).rings
            1
            >>> check.shape(chemtok.SmilesTokenizer().tokenize("N2O2")) is None   # a ring bond between neighbours
            True
        """
        shape = SmilesShape()
        g = self._grammar
        parts: list[list[str]] = [[]]
        arrow_count = 0
        for token in tokens:
            if self.token_kind(token) == "arrow":
                arrow_count += len(token)
                parts.append([])
            else:
                parts[-1].append(token)
        if arrow_count:
            # reactants > agents > products: two arrows, reactants and products present
            if arrow_count != 2 or not parts[0] or not parts[-1]:
                return None
            shape.arrows = 1
        for part in parts:
            if part and not self._molecules(part, shape, g.bracket_close):
                return None
        if (shape.aromatic and not shape.rings) or shape.selfies_like:
            return None
        return shape if shape.atoms else None

    def token_kind(self, token: str) -> str:
        """What ``token`` is to the structural check: one of :data:`TOKEN_KINDS`.

        Example:
            >>> import chemtok
            >>> from chemtok.smiles_structure import SmilesStructure
            >>> check = SmilesStructure(chemtok.SmilesTokenizer().grammar)
            >>> [check.token_kind(t) for t in ("c", "[nH]", "=", "%10", ">")]
            ['aromatic', 'bracket_atom', 'bond', 'ring', 'arrow']
        """
        kind = self._kinds.get(token)
        if kind is None:
            kind = self._kinds[token] = self._classify(token)
        return kind

    def _classify(self, token: str) -> str:
        g = self._grammar
        bopen, bclose = g.bracket_open, g.bracket_close
        if token in self._arrows:
            return "arrow"
        if token == bopen:
            return "bracket_open"  # a bracket atom spelled from parts follows
        if token.startswith(bopen) and token.endswith(bclose) and len(token) > 2:
            return "bracket_atom"
        if token == bclose:
            return "bracket_close"
        if token in self._atoms:
            return "aromatic" if token in self._aromatic else "atom"
        if token in self._bonds:
            return "bond"
        if token == g.branch_open:
            return "branch_open"
        if token == g.branch_close:
            return "branch_close"
        if token == g.dot:
            return "dot"
        if self._ring_re.fullmatch(token):
            return "ring"
        return "other"

    def _molecules(self, tokens: list[str], shape: SmilesShape, bclose: str) -> bool:
        """Check one side of a reaction (molecules joined by dots), adding to ``shape``."""
        # last: kind of the previous token: "start", "atom", "bond", "open", "close", "ring", "dot"
        last = "start"
        current = -1  # index of the atom new bonds attach to
        parent: dict[int, int] = {}
        branch_stack: list[int] = []
        open_rings: dict[str, int] = {}
        i, n = 0, len(tokens)
        while i < n:
            token = tokens[i]
            kind = self.token_kind(token)
            if kind in ("bracket_open", "bracket_atom"):
                if kind == "bracket_open":  # a bracket atom spelled from parts
                    j = i + 1
                    while j < n and tokens[j] != bclose:
                        j += 1
                    if j >= n:
                        return False
                    inner = "".join(tokens[i + 1 : j])
                    i = j
                else:
                    inner = token[1:-1]
                symbol = inner.lstrip("0123456789")
                if symbol[:1].islower():
                    shape.aromatic += 1
                if inner.isalpha():
                    shape.bare_brackets += 1
                shape.brackets += 1
            elif kind in ("atom", "aromatic"):
                if kind == "aromatic":
                    shape.aromatic += 1
            elif kind == "bond":
                if last not in ("atom", "ring", "close", "open"):
                    return False
                last = "bond"
                shape.bonds += 1
                i += 1
                continue
            elif kind == "branch_open":
                if last not in ("atom", "ring", "close"):
                    return False
                branch_stack.append(current)
                shape.branches += 1
                last = "open"
                i += 1
                continue
            elif kind == "branch_close":
                if last not in ("atom", "ring", "close") or not branch_stack:
                    return False
                current = branch_stack.pop()
                last = "close"
                i += 1
                continue
            elif kind == "dot":
                if last not in ("atom", "ring", "close") or branch_stack:
                    return False
                current = -1
                shape.dots += 1
                last = "dot"
                i += 1
                continue
            elif kind == "ring":
                if last not in ("atom", "ring", "bond") or current < 0:
                    return False
                if last == "bond" and self.token_kind(tokens[i - 2]) == "branch_open":
                    return False
                other = open_rings.pop(token, None)
                if other is None:
                    open_rings[token] = current
                else:
                    # a ring bond to itself or to the atom it is already bonded to
                    if other == current or parent.get(current) == other:
                        return False
                    shape.rings += 1
                last = "ring"
                i += 1
                continue
            else:
                return False
            # an atom
            atom = shape.atoms
            shape.atoms += 1
            if current >= 0 and last != "dot":
                parent[atom] = current
            current = atom
            last = "atom"
            i += 1
        return last in ("atom", "ring", "close") and not branch_stack and not open_rings
