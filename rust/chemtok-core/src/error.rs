//! Why a lexer stopped, and why a grammar spec was refused.

use std::fmt;

/// A kind of bracket-atom part; the last four may each appear once per atom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropKind {
    Symbol,
    Chirality,
    Hydrogens,
    Charge,
    AtomClass,
}

/// What the grammar expected where it stopped: a code, never a message.
///
/// The English text of every code lives in one Python table, `REASONS` in
/// `chemtok/reasons.py`, which the pure-Python reference tokenizers use too; the
/// binding hands the code (or the message the table gives for it) to Python, so
/// both engines word an error identically and the wording is changed in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    SmilesNoLexeme,
    BracketNotClosed,
    BracketNoSymbol,
    BracketNoProperty,
    BracketRepeated(PropKind),
    InchiPrefix,
    InchiNoRule,
    SequenceNoRule,
    SelfiesNoSymbol,
    SelfiesNotClosed,
    SelfiesStructure,
    SelfiesNoElement,
    SelfiesNoProperty,
}

impl Reason {
    /// Every code, for tests that check the Python table covers them.
    pub const ALL: [Reason; 17] = [
        Reason::SmilesNoLexeme,
        Reason::BracketNotClosed,
        Reason::BracketNoSymbol,
        Reason::BracketNoProperty,
        Reason::BracketRepeated(PropKind::Symbol),
        Reason::BracketRepeated(PropKind::Chirality),
        Reason::BracketRepeated(PropKind::Hydrogens),
        Reason::BracketRepeated(PropKind::Charge),
        Reason::BracketRepeated(PropKind::AtomClass),
        Reason::InchiPrefix,
        Reason::InchiNoRule,
        Reason::SequenceNoRule,
        Reason::SelfiesNoSymbol,
        Reason::SelfiesNotClosed,
        Reason::SelfiesStructure,
        Reason::SelfiesNoElement,
        Reason::SelfiesNoProperty,
    ];

    /// The reason code, a key of `chemtok.reasons.REASONS`.
    pub fn code(self) -> &'static str {
        match self {
            Reason::SmilesNoLexeme => "smiles_no_lexeme",
            Reason::BracketNotClosed => "bracket_not_closed",
            Reason::BracketNoSymbol => "bracket_no_symbol",
            Reason::BracketNoProperty => "bracket_no_property",
            // The reference's codes end in the regex group name of the property.
            Reason::BracketRepeated(PropKind::Symbol) => "bracket_repeated_symbol",
            Reason::BracketRepeated(PropKind::Chirality) => "bracket_repeated_chirality",
            Reason::BracketRepeated(PropKind::Hydrogens) => "bracket_repeated_hydrogen_count",
            Reason::BracketRepeated(PropKind::Charge) => "bracket_repeated_charge",
            Reason::BracketRepeated(PropKind::AtomClass) => "bracket_repeated_atom_class",
            Reason::InchiPrefix => "inchi_prefix",
            Reason::InchiNoRule => "inchi_no_rule",
            Reason::SequenceNoRule => "sequence_no_rule",
            Reason::SelfiesNoSymbol => "selfies_no_symbol",
            Reason::SelfiesNotClosed => "selfies_not_closed",
            Reason::SelfiesStructure => "selfies_structure",
            Reason::SelfiesNoElement => "selfies_no_element",
            Reason::SelfiesNoProperty => "selfies_no_property",
        }
    }
}

/// No rule of the grammar covers the input at `pos` (a byte offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRule {
    pub pos: usize,
    pub reason: Reason,
}

/// Why encoding one text stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The grammar does not cover the input (recoverable under `fallback`/`skip`).
    NoRule(NoRule),
    /// The lexer produced a token the vocabulary lacks. The reference vocabularies
    /// hold every base token of their grammar, so this means a broken vocabulary.
    MissingToken(Vec<u8>),
    /// A lexer made no progress at this byte offset: a bug, reported instead of looping.
    Stalled(usize),
}

impl Failure {
    pub(crate) fn no_rule(pos: usize, reason: Reason) -> Self {
        Failure::NoRule(NoRule { pos, reason })
    }
}

/// A grammar spec or vocabulary that cannot drive a lexer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}
