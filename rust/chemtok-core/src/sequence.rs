//! Protein and DNA/RNA: one token per character of the alphabet, mirroring
//! `SequenceTokenizer._lex_at` in `chemtok/sequence.py`.

use rustc_hash::FxHashMap;

use crate::error::{Failure, Reason, SpecError};
use crate::text::{char_len_at, chars};
use crate::vocab::Vocab;

/// A sequence alphabet, as `chemtok.grammar.SequenceGrammar` holds it.
///
/// `symbols` is the derived table `SequenceGrammar.symbols` (the alphabet, then its
/// lowercase letters when `keep_lowercase`, then the characters appended after it);
/// every character of it is accepted. Deserialized from the spec
/// `chemtok.native.engine_spec` writes (see `SmilesSpec`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct SequenceSpec {
    pub name: String,
    pub symbols: Vec<String>,
}

/// Not an accepted character.
const REJECT: u32 = u32::MAX;
/// Accepted, but the vocabulary has no token for it.
const MISSING: u32 = u32::MAX - 1;

#[derive(Clone, Debug)]
pub(crate) struct SequenceLexer {
    ascii: [u32; 128],
    other: FxHashMap<Box<[u8]>, u32>,
}

impl SequenceLexer {
    pub(crate) fn new(spec: &SequenceSpec, vocab: &Vocab) -> Result<Self, SpecError> {
        if spec.symbols.is_empty() {
            return Err(SpecError(format!("{} grammar: the alphabet is empty", spec.name)));
        }
        let mut ascii = [REJECT; 128];
        let mut other = FxHashMap::default();
        for symbol in &spec.symbols {
            for ch in chars(symbol.as_bytes()) {
                let id = vocab.get(ch).unwrap_or(MISSING);
                match ch {
                    [b] if b.is_ascii() => ascii[*b as usize] = id,
                    _ => {
                        other.insert(Box::<[u8]>::from(ch), id);
                    }
                }
            }
        }
        Ok(SequenceLexer { ascii, other })
    }

    #[inline]
    pub(crate) fn lex_at(&self, text: &[u8], pos: usize, out: &mut Vec<u32>) -> Result<usize, Failure> {
        let mut i = pos;
        // A run of accepted characters, like the reference's `[alphabet]+` match.
        while let Some(&b) = text.get(i) {
            let (id, len) = if b.is_ascii() {
                (self.ascii[b as usize], 1)
            } else {
                let len = char_len_at(text, i);
                (self.other.get(&text[i..i + len]).copied().unwrap_or(REJECT), len)
            };
            match id {
                REJECT => break,
                MISSING => return Err(Failure::MissingToken(text[i..i + len].to_vec())),
                id => out.push(id),
            }
            i += len;
        }
        if i == pos {
            return Err(Failure::no_rule(pos, Reason::SequenceNoRule));
        }
        Ok(i)
    }
}
