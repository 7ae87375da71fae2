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

impl PropKind {
    /// The name the reference uses in "a bracket atom has at most one {name}".
    pub fn label(self) -> &'static str {
        match self {
            PropKind::Symbol => "symbol",
            PropKind::Chirality => "chirality",
            PropKind::Hydrogens => "hydrogen count",
            PropKind::Charge => "charge",
            PropKind::AtomClass => "atom class",
        }
    }
}

/// What the grammar expected where it stopped. [`crate::Tokenizer::reason`] spells it
/// out with the same words as the Python reference (`chemtok/smiles.py`, `inchi.py`,
/// `sequence.py`); the text is built only when an error is reported.
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
