//! The InChI lexer, mirroring `InchiTokenizer._lex_at` in `chemtok/inchi.py`.
//!
//! At position 0: the longest prefix (`InChI=1S`, ...). Elsewhere, in this order: the
//! layer separator with its tag (`/c`; a bare `/` when no tag follows), a run of ASCII
//! digits (one token if the vocabulary has it, else digit by digit), the longest
//! element symbol with its count (`C12` whole if known, else `C` then the count whole
//! or digit by digit), one punctuation character.

use crate::error::{Failure, Reason, SpecError};
use crate::smiles::push_number;
use crate::text::{char_len_at, digit_run, starts_with_at, LongestMatch};
use crate::vocab::Vocab;

/// The InChI grammar tables, as `chemtok.grammar.InchiGrammar` holds them.
///
/// `symbols` is the derived table `InchiGrammar.symbols` (elements, then D and T).
/// Deserialized from the spec `chemtok.native.engine_spec` writes (see `SmilesSpec`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct InchiSpec {
    pub prefixes: Vec<String>,
    pub layer_separator: String,
    pub layer_tags: Vec<String>,
    pub symbols: Vec<String>,
    pub punctuation: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct InchiLexer {
    prefixes: LongestMatch<()>,
    separator: Box<[u8]>,
    /// Tag characters with the token `separator + tag`.
    tags: LongestMatch<Box<[u8]>>,
    symbols: LongestMatch<()>,
    punctuation: LongestMatch<()>,
}

fn one_char(field: &str, value: &str) -> Result<(), SpecError> {
    if value.chars().count() != 1 {
        return Err(SpecError(format!(
            "inchi grammar: '{field}' entries must be single characters, got {value:?}"
        )));
    }
    Ok(())
}

impl InchiLexer {
    pub(crate) fn new(spec: &InchiSpec) -> Result<Self, SpecError> {
        if spec.prefixes.is_empty() || spec.prefixes.iter().any(String::is_empty) {
            return Err(SpecError("inchi grammar: 'prefixes' must be non-empty strings".into()));
        }
        one_char("layer_separator", &spec.layer_separator)?;
        for tag in &spec.layer_tags {
            one_char("layer_tags", tag)?;
        }
        for mark in &spec.punctuation {
            one_char("punctuation", mark)?;
        }
        let separator: Box<[u8]> = spec.layer_separator.as_bytes().into();
        let tags = LongestMatch::new(spec.layer_tags.iter().map(|tag| {
            let token = [spec.layer_separator.as_bytes(), tag.as_bytes()]
                .concat()
                .into_boxed_slice();
            (tag.as_bytes().to_vec(), token)
        }));
        Ok(InchiLexer {
            prefixes: LongestMatch::new(spec.prefixes.iter().map(|s| (s.as_bytes().to_vec(), ()))),
            separator,
            tags,
            symbols: LongestMatch::new(
                spec.symbols
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| (s.as_bytes().to_vec(), ())),
            ),
            punctuation: LongestMatch::new(spec.punctuation.iter().map(|s| (s.as_bytes().to_vec(), ()))),
        })
    }

    #[inline]
    pub(crate) fn lex_at(&self, vocab: &Vocab, text: &[u8], pos: usize, out: &mut Vec<u32>) -> Result<usize, Failure> {
        if pos == 0 {
            let Some((len, _)) = self.prefixes.find(text, 0) else {
                return Err(Failure::no_rule(0, Reason::InchiPrefix));
            };
            vocab.push(&text[..len], out)?;
            return Ok(len);
        }
        if starts_with_at(text, pos, &self.separator) {
            let after = pos + self.separator.len();
            // A tag is one character; the match must cover that whole character.
            if let Some((len, token)) = self.tags.find(text, after) {
                if len == char_len_at(text, after) {
                    vocab.push(token, out)?;
                    return Ok(after + len);
                }
            }
            vocab.push(&self.separator, out)?;
            return Ok(after);
        }
        let digits = digit_run(text, pos);
        if digits > 0 {
            push_number(vocab, &text[pos..pos + digits], out)?;
            return Ok(pos + digits);
        }
        if let Some((len, _)) = self.symbols.find(text, pos) {
            let count = digit_run(text, pos + len);
            let end = pos + len + count;
            if let Some(id) = vocab.get(&text[pos..end]) {
                out.push(id);
            } else {
                vocab.push(&text[pos..pos + len], out)?;
                if count > 0 {
                    push_number(vocab, &text[pos + len..end], out)?;
                }
            }
            return Ok(end);
        }
        if let Some((len, _)) = self.punctuation.find(text, pos) {
            if len == char_len_at(text, pos) {
                vocab.push(&text[pos..pos + len], out)?;
                return Ok(pos + len);
            }
        }
        Err(Failure::no_rule(pos, Reason::InchiNoRule))
    }
}
