"""Hypothesis strategies built from the grammar files, so tests and grammar never drift."""

from __future__ import annotations

from hypothesis import strategies as st

from chemtok.dialects import load_markers
from chemtok.grammar import load_inchi_grammar, load_sequence_grammar, load_smiles_grammar

G = load_smiles_grammar()
GI = load_inchi_grammar()

digits = st.sampled_from(G.ring_digits)
ring_closure = st.one_of(
    digits,
    st.builds(lambda a, b: f"%{a}{b}", digits, digits),
    st.builds(lambda n: f"%({n})", st.integers(0, 10 ** G.ring_paren_max_digits - 1)),
)
organic_atom = st.sampled_from(G.organic + G.organic_aromatic + (G.wildcard,))
bond = st.sampled_from(G.bonds + G.dative_bonds)
structural = st.sampled_from((G.branch_open, G.branch_close, G.dot) + G.reaction)


@st.composite
def bracket_atom(draw: st.DrawFn) -> str:
    """A bracket atom with optional isotope, chirality, H count, charge and class in any order."""
    isotope = draw(st.one_of(st.just(""), st.integers(0, 999).map(str), st.sampled_from(["002", "0"])))
    symbol = draw(st.sampled_from(G.bracket_symbols))
    props = draw(
        st.lists(
            st.one_of(
                st.sampled_from(G.chiralities).map(lambda p: ("chirality", p)),
                st.integers(0, 12).map(lambda n: ("h", "H" + ("" if n == 0 else str(n)))),
                st.one_of(
                    st.sampled_from(["+", "-", "++", "--", "+++", "----"]),
                    st.builds(lambda s, n: f"{s}{n}", st.sampled_from("+-"), st.integers(0, 20)),
                ).map(lambda p: ("charge", p)),
                st.integers(0, 1500).map(lambda n: ("class", f":{n}")),
            ),
            max_size=4,
            unique_by=lambda p: p[0],
        )
    )
    return f"[{isotope}{symbol}{''.join(p for _, p in props)}]"


smiles_lexeme = st.one_of(organic_atom, organic_atom, bracket_atom(), bond, ring_closure, structural)
#: Strings the SMILES grammar accepts (lexically): concatenations of lexemes.
smiles_like = st.lists(smiles_lexeme, max_size=40).map("".join)


@st.composite
def inchi_like(draw: st.DrawFn) -> str:
    """A string the InChI grammar accepts: a prefix, then layers of InChI lexemes."""
    prefix = draw(st.sampled_from(GI.prefixes))
    element_count = st.builds(
        lambda s, n: s + n, st.sampled_from(GI.symbols), st.one_of(st.just(""), st.integers(1, 3000).map(str))
    )
    lexeme = st.one_of(
        element_count,
        st.integers(0, 5000).map(str),
        st.sampled_from(GI.punctuation),
        st.sampled_from([GI.layer_separator + t for t in GI.layer_tags] + [GI.layer_separator]),
    )
    # Real InChI continue the prefix with a layer ("InChI=1" + "Sn" would read as "InChI=1S" "n").
    return prefix + GI.layer_separator + "".join(draw(st.lists(lexeme, max_size=40)))


def sequence_like(name: str) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.sampled_from(load_sequence_grammar(name).symbols), max_size=200)


#: Text that contains no marker and no lone surrogate: any other Unicode.
MARKERS = load_markers()
@st.composite
def selfies_symbol(draw: st.DrawFn) -> str:
    """One SELFIES symbol of ``grammars/selfies.toml``: structure, listed atom or spelled atom."""
    from chemtok.grammar import load_selfies_grammar

    g = load_selfies_grammar()
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(g.structure_symbols + (g.dot,)))
    bond = draw(st.sampled_from(("",) + g.atom_bonds))
    if kind == 1:
        return g.bracket(bond + draw(st.sampled_from(g.atoms)))
    isotope = draw(st.sampled_from(["", str(draw(st.integers(1, 2000)))]))
    chirality = draw(st.sampled_from(("",) + g.chirality))
    hydrogen = draw(st.sampled_from(["", f"{g.hydrogen}{draw(st.integers(0, 9))}"]))
    charge = draw(st.sampled_from(["", f"{draw(st.sampled_from(g.charge_signs))}{draw(st.integers(1, 15))}"]))
    return g.bracket(f"{bond}{isotope}{draw(st.sampled_from(g.elements))}{chirality}{hydrogen}{charge}")


selfies_like = st.lists(selfies_symbol(), max_size=30).map("".join)

plain_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80).filter(
    lambda t: "[START_" not in t and "[END_" not in t and "<work>" not in t and "</work>" not in t
)


@st.composite
def marked_text(draw: st.DrawFn) -> str:
    """Prose with well-formed marker spans of every modality."""
    content = {
        "smiles": smiles_like,
        "inchi": inchi_like(),
        "protein": sequence_like("protein"),
        "dna": sequence_like("dna"),
        "selfies": selfies_like,
        "text": plain_text,
    }
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(plain_text))
        pair = draw(st.sampled_from(MARKERS.pairs))
        parts.append(pair.start + draw(content[pair.modality]) + pair.end)
    parts.append(draw(plain_text))
    return "".join(parts)
