//! The SELFIES lexer, mirroring `SelfiesTokenizer._lex_at` and `SelfiesLexer` in
//! `chemtok/selfies.py`.
//!
//! At a position: the dot (`.`) is one token. Otherwise the text must open a symbol
//! (`[`) that closes (`]`) before any other `[` opens. A symbol the vocabulary holds
//! (`[C]`, `[=Branch1]`, `[-/Ring2]`, `[nop]`) is one token; any other symbol must be
//! an atom, `bond? isotope? element chirality? H-count? charge?` between the
//! brackets, and is spelled from its parts: `[`, each part (whole when the
//! vocabulary has it; a charge the vocabulary lacks is its sign, then its digits; any
//! other part character by character), `]`. So `[13CH4]` is `[` `13` `C` `H4` `]`.
//!
//! The atom parser is the reference's regex (`SelfiesGrammar.atom_body_pattern`)
//! matched the way Python's backtracking `re.fullmatch` matches it: each optional
//! part is tried present before absent, alternations longest literal first, digit
//! runs greedy, and the first combination that ends exactly at the `]` wins. When
//! none does, the position and reason are those of `SelfiesLexer.explain`.

use crate::error::{Failure, Reason, SpecError};
use crate::text::{chars, digit_run, starts_with_at, LongestMatch};
use crate::vocab::Vocab;

/// The SELFIES grammar tables, as `chemtok.grammar.SelfiesGrammar` holds them.
///
/// Deserialized from the spec `chemtok.native.engine_spec` writes (see `SmilesSpec`);
/// the lexer needs no derived table, since every branch, ring and special symbol is a
/// vocabulary token and is found by looking the whole symbol up.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct SelfiesSpec {
    pub open: String,
    pub close: String,
    pub dot: String,
    pub atom_bonds: Vec<String>,
    pub branch_bonds: Vec<String>,
    pub branch: String,
    pub ring: String,
    pub ring_stereo: Vec<String>,
    pub chirality: Vec<String>,
    pub hydrogen: String,
    pub charge_signs: Vec<String>,
    pub elements: Vec<String>,
}

/// The parts of an atom symbol, in written order (the regex groups of the reference).
const BOND: usize = 0;
const ISOTOPE: usize = 1;
const ELEMENT: usize = 2;
const CHIRALITY: usize = 3;
const HYDROGEN: usize = 4;
const CHARGE: usize = 5;
const PARTS: usize = 6;

/// The byte span of each part of a parsed atom body (`None`: the part is absent).
type Spans = [Option<(usize, usize)>; PARTS];

#[derive(Clone, Debug)]
pub(crate) struct SelfiesLexer {
    open: Box<[u8]>,
    close: Box<[u8]>,
    dot: Box<[u8]>,
    atom_bonds: LongestMatch<()>,
    /// The characters a branch or ring symbol may start with before its word
    /// (`branch_bonds` and `ring_stereo`): the reference's `structure` character class.
    structure_bonds: LongestMatch<()>,
    /// `branch`, then `ring`: the order of the reference's alternation.
    structure_words: [Box<[u8]>; 2],
    elements: LongestMatch<()>,
    chirality: LongestMatch<()>,
    hydrogen: Box<[u8]>,
    charge_signs: LongestMatch<()>,
}

fn one_char(field: &str, value: &str) -> Result<Box<[u8]>, SpecError> {
    if value.chars().count() != 1 {
        return Err(SpecError(format!(
            "selfies grammar: '{field}' must be one character, got {value:?}"
        )));
    }
    Ok(value.as_bytes().into())
}

fn literals(field: &str, values: &[String], single: bool) -> Result<LongestMatch<()>, SpecError> {
    if values.is_empty() {
        return Err(SpecError(format!("selfies grammar: '{field}' must not be empty")));
    }
    for value in values {
        if value.is_empty() || (single && value.chars().count() != 1) {
            return Err(SpecError(format!(
                "selfies grammar: '{field}' entries must be {}, got {value:?}",
                if single {
                    "single characters"
                } else {
                    "non-empty strings"
                }
            )));
        }
    }
    Ok(LongestMatch::new(values.iter().map(|v| (v.as_bytes().to_vec(), ()))))
}

fn word(field: &str, value: &str) -> Result<Box<[u8]>, SpecError> {
    if value.is_empty() {
        return Err(SpecError(format!("selfies grammar: '{field}' must not be empty")));
    }
    Ok(value.as_bytes().into())
}

impl SelfiesLexer {
    pub(crate) fn new(spec: &SelfiesSpec) -> Result<Self, SpecError> {
        let structure: Vec<String> = spec.branch_bonds.iter().chain(&spec.ring_stereo).cloned().collect();
        Ok(SelfiesLexer {
            open: one_char("open", &spec.open)?,
            close: one_char("close", &spec.close)?,
            dot: one_char("dot", &spec.dot)?,
            atom_bonds: literals("atom_bonds", &spec.atom_bonds, true)?,
            structure_bonds: literals("branch_bonds and ring_stereo", &structure, true)?,
            structure_words: [word("branch", &spec.branch)?, word("ring", &spec.ring)?],
            elements: literals("elements", &spec.elements, false)?,
            chirality: literals("chirality", &spec.chirality, false)?,
            hydrogen: one_char("hydrogen", &spec.hydrogen)?,
            charge_signs: literals("charge_signs", &spec.charge_signs, true)?,
        })
    }

    /// Append the tokens of the symbol (or dot) at `pos`; return where it ends.
    #[inline]
    pub(crate) fn lex_at(&self, vocab: &Vocab, text: &[u8], pos: usize, out: &mut Vec<u32>) -> Result<usize, Failure> {
        if starts_with_at(text, pos, &self.dot) {
            vocab.push(&self.dot, out)?;
            return Ok(pos + self.dot.len());
        }
        if !starts_with_at(text, pos, &self.open) {
            return Err(Failure::no_rule(pos, Reason::SelfiesNoSymbol));
        }
        let from = pos + self.open.len();
        let close = self
            .close_at(text, from)
            .ok_or_else(|| Failure::no_rule(pos, Reason::SelfiesNotClosed))?;
        let end = close + self.close.len();
        if let Some(id) = vocab.get(&text[pos..end]) {
            out.push(id);
            return Ok(end);
        }
        let mut spans: Spans = [None; PARTS];
        if !self.atom_body(text, from, close, &mut spans) {
            return Err(self.explain(text, from, close));
        }
        vocab.push(&self.open, out)?;
        for (part, span) in spans.iter().enumerate() {
            let Some((start, stop)) = *span else {
                continue;
            };
            let value = &text[start..stop];
            if let Some(id) = vocab.get(value) {
                out.push(id);
                continue;
            }
            let mut pieces = chars(value);
            if part == CHARGE {
                // A number beyond the vocabulary's charges: the sign whole, then digits.
                if let Some(sign) = pieces.next() {
                    vocab.push(sign, out)?;
                }
            }
            for piece in pieces {
                vocab.push(piece, out)?;
            }
        }
        vocab.push(&self.close, out)?;
        Ok(end)
    }

    /// Where the symbol opened before `from` closes: the first `]` from `from` on,
    /// or `None` when the text ends first or another `[` opens before it.
    #[inline]
    fn close_at(&self, text: &[u8], from: usize) -> Option<usize> {
        let (open, close) = (self.open[0], self.close[0]);
        let mut j = from;
        while let Some(&b) = text.get(j) {
            // Close first: with open == close the reference's `reopen < close` is false.
            if b == close && starts_with_at(text, j, &self.close) {
                return Some(j);
            }
            if b == open && starts_with_at(text, j, &self.open) {
                return None;
            }
            j += 1;
        }
        None
    }

    /// Whether `text[start..end]` is an atom body, filling `spans` with its parts as
    /// the reference's `body.fullmatch` groups them.
    fn atom_body(&self, text: &[u8], start: usize, end: usize, spans: &mut Spans) -> bool {
        let body = &text[..end];
        self.parts_from(body, BOND, start, spans)
    }

    /// The ends `part` may take at `i`, in the order a backtracking regex tries them,
    /// and whether the part may be absent (tried after every end).
    fn options(&self, body: &[u8], part: usize, i: usize) -> (Vec<usize>, bool) {
        let end = body.len();
        match part {
            BOND => (self.atom_bonds.ends_within(body, i, end).collect(), true),
            ISOTOPE => {
                // `[0-9]+` greedy: the whole run first, then one digit less each time.
                let run = digit_run(body, i);
                ((1..=run).rev().map(|k| i + k).collect(), true)
            }
            ELEMENT => (self.elements.ends_within(body, i, end).collect(), false),
            CHIRALITY => (self.chirality.ends_within(body, i, end).collect(), true),
            HYDROGEN => {
                let digit = i + self.hydrogen.len();
                let present =
                    starts_with_at(body, i, &self.hydrogen) && body.get(digit).is_some_and(u8::is_ascii_digit);
                (if present { vec![digit + 1] } else { Vec::new() }, true)
            }
            _ => {
                // A sign, then `[1-9][0-9]*` greedy.
                let mut ends = Vec::new();
                for after_sign in self.charge_signs.ends_within(body, i, end) {
                    if body.get(after_sign).is_some_and(|b| (b'1'..=b'9').contains(b)) {
                        let run = digit_run(body, after_sign + 1);
                        ends.extend((0..=run).rev().map(|k| after_sign + 1 + k));
                    }
                }
                (ends, true)
            }
        }
    }

    /// Depth-first over the parts from `part` on at `i`: true when they can end exactly
    /// at the end of `body`.
    fn parts_from(&self, body: &[u8], part: usize, i: usize, spans: &mut Spans) -> bool {
        if part == PARTS {
            return i == body.len();
        }
        let (ends, optional) = self.options(body, part, i);
        for end in ends {
            spans[part] = Some((i, end));
            if self.parts_from(body, part + 1, end, spans) {
                return true;
            }
        }
        spans[part] = None;
        optional && self.parts_from(body, part + 1, i, spans)
    }

    /// `SelfiesLexer.explain`: why the body `text[start..end]` is not an atom.
    fn explain(&self, text: &[u8], start: usize, end: usize) -> Failure {
        // A branch or ring symbol the vocabulary lacks ([Branch4], [--Ring1]): the
        // reference's `[bonds]*(?:Branch|Ring)` matched at `start`, backing off the run.
        let mut run = vec![start];
        let mut i = start;
        while let Some(next) = self.structure_bonds.ends_within(text, i, end).next() {
            run.push(next);
            i = next;
        }
        for &at in run.iter().rev() {
            for word in &self.structure_words {
                if at + word.len() <= end && starts_with_at(text, at, word) {
                    return Failure::no_rule(at + word.len(), Reason::SelfiesStructure);
                }
            }
        }
        let mut i = start;
        if let Some(next) = self.atom_bonds.ends_within(text, i, end).next() {
            i = next;
        }
        i += digit_run(&text[..end], i);
        let Some(element_end) = self.elements.ends_within(text, i, end).next() else {
            return Failure::no_rule(i, Reason::SelfiesNoElement);
        };
        // The error is after the longest prefix of the body that is an atom.
        let mut spans: Spans = [None; PARTS];
        let mut stop = end;
        while stop > element_end {
            if self.atom_body(text, start, stop, &mut spans) {
                return Failure::no_rule(stop, Reason::SelfiesNoProperty);
            }
            stop = previous_char_start(text, stop);
        }
        Failure::no_rule(element_end, Reason::SelfiesNoProperty)
    }
}

/// The start of the character before byte offset `pos` (one code point back, as
/// the reference's `range(end, m.end(), -1)` steps).
fn previous_char_start(text: &[u8], pos: usize) -> usize {
    let mut i = pos.saturating_sub(1);
    while i > 0 && (text[i] & 0xC0) == 0x80 {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    //! Against the shipped grammar: `specs/selfies.json` and `specs/selfies_tokens.json`
    //! are what Python hands the binding (`scripts/write_native_specs.py`;
    //! `tests/test_native_spec.py` keeps them current). Expected tokens, positions and
    //! reason codes are what the Python reference gives; `tests/test_selfies_native.py`
    //! checks full parity on random and real inputs.

    use std::path::PathBuf;

    use crate::{char_index, Failure, NoRule, OnError, SelfiesSpec, Threads, Tokenizer};

    fn specs_file(name: &str) -> serde_json::Value {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn vocabulary() -> Vec<String> {
        serde_json::from_value(specs_file("selfies_tokens.json")).expect("token list")
    }

    fn selfies() -> Tokenizer {
        let spec: SelfiesSpec = serde_json::from_value(specs_file("selfies.json")).expect("selfies spec");
        Tokenizer::selfies("selfies", &spec, &vocabulary()).expect("selfies tokenizer")
    }

    fn tokens(tok: &Tokenizer, text: &str, policy: OnError) -> Result<Vec<String>, (usize, &'static str)> {
        let vocab = vocabulary();
        match tok.encode(text.as_bytes(), policy) {
            Ok(ids) => Ok(ids.iter().map(|&id| vocab[id as usize].clone()).collect()),
            Err(Failure::NoRule(NoRule { pos, reason })) => Err((char_index(text.as_bytes(), pos), reason.code())),
            Err(other) => panic!("unexpected failure {other:?}"),
        }
    }

    fn ok(tok: &Tokenizer, text: &str) -> Vec<String> {
        tokens(tok, text, OnError::Raise).unwrap_or_else(|e| panic!("{text:?} failed: {e:?}"))
    }

    #[test]
    fn vocabulary_symbols_are_one_token() {
        let tok = selfies();
        assert_eq!(ok(&tok, "[C][=C][F].[C]"), ["[C]", "[=C]", "[F]", ".", "[C]"]);
        assert_eq!(
            ok(&tok, "[N][C@@H1][Ring2][#Branch3][-/Ring1][\\/Ring3][nop][epsilon]"),
            [
                "[N]",
                "[C@@H1]",
                "[Ring2]",
                "[#Branch3]",
                "[-/Ring1]",
                "[\\/Ring3]",
                "[nop]",
                "[epsilon]"
            ]
        );
        assert_eq!(ok(&tok, ""), Vec::<String>::new());
    }

    #[test]
    fn unseen_atoms_are_spelled_from_their_parts() {
        let tok = selfies();
        assert_eq!(ok(&tok, "[13CH4].[Na+1]"), ["[", "13", "C", "H4", "]", ".", "[Na+1]"]);
        assert_eq!(ok(&tok, "[=Fe+2]"), ["[", "=", "Fe", "+2", "]"]);
        assert_eq!(ok(&tok, "[/2H]"), ["[", "/", "2", "H", "]"]);
        // Numbers beyond the vocabulary: an isotope digit by digit, a charge sign then digits.
        assert_eq!(
            ok(&tok, "[1000Og@H9-12]"),
            ["[", "1", "0", "0", "0", "Og", "@", "H9", "-", "1", "2", "]"]
        );
        assert_eq!(ok(&tok, "[C+10]"), ["[", "C", "+", "1", "0", "]"]);
        assert_eq!(ok(&tok, "[007C]"), ["[", "0", "0", "7", "C", "]"]);
    }

    #[test]
    fn refusals_give_the_reference_position_and_code() {
        let tok = selfies();
        for (text, position, code) in [
            ("[C]x[O]", 3, "selfies_no_symbol"),
            ("]", 0, "selfies_no_symbol"),
            ("[C]]", 3, "selfies_no_symbol"),
            ("[C]é", 3, "selfies_no_symbol"),
            ("[C][O", 3, "selfies_not_closed"),
            ("[C[O]", 0, "selfies_not_closed"),
            ("[é", 0, "selfies_not_closed"),
            ("[]", 1, "selfies_no_element"),
            ("[=]", 2, "selfies_no_element"),
            ("[C][c]", 4, "selfies_no_element"),
            ("[Branch4]", 7, "selfies_structure"),
            ("[--Ring1]", 7, "selfies_structure"),
            ("[Ring]", 5, "selfies_structure"),
            ("[-Ring1x]", 6, "selfies_structure"),
            ("[CH12]", 4, "selfies_no_property"),
            ("[C+0]", 2, "selfies_no_property"),
            ("[C@@@]", 4, "selfies_no_property"),
            ("[Cé]", 2, "selfies_no_property"),
            ("[Ce\u{1F600}]", 3, "selfies_no_property"),
        ] {
            assert_eq!(tokens(&tok, text, OnError::Raise), Err((position, code)), "{text:?}");
        }
    }

    #[test]
    fn policies_recover_at_the_failing_character() {
        let tok = selfies();
        assert_eq!(
            tokens(&tok, "[C]§[O]", OnError::Fallback),
            Ok(vec!["[C]".into(), "<0xC2>".into(), "<0xA7>".into(), "[O]".into()])
        );
        assert_eq!(
            tokens(&tok, "[C]§[O]", OnError::Skip),
            Ok(vec!["[C]".into(), "[O]".into()])
        );
        // An unclosed symbol: only its "[" is dropped, then "C" (no symbol), then "[O]".
        assert_eq!(tokens(&tok, "[C[O]", OnError::Skip), Ok(vec!["[O]".into()]));
    }

    #[test]
    fn batches_equal_texts_one_by_one() {
        let tok = selfies();
        let texts: Vec<String> = (0..200).map(|i| format!("[C][{}CH{}]", i % 7, i % 10)).collect();
        let batch = tok.encode_batch(&texts, OnError::Raise, Threads::All).expect("batch");
        for (i, text) in texts.iter().enumerate() {
            let row = &batch.ids[batch.offsets[i] as usize..batch.offsets[i + 1] as usize];
            assert_eq!(row, tok.encode(text.as_bytes(), OnError::Raise).expect("text"));
        }
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut spec: SelfiesSpec = serde_json::from_value(specs_file("selfies.json")).expect("selfies spec");
        spec.open = "[[".into();
        assert!(Tokenizer::selfies("selfies", &spec, &vocabulary()).is_err());
        let mut spec: SelfiesSpec = serde_json::from_value(specs_file("selfies.json")).expect("selfies spec");
        spec.elements.clear();
        assert!(Tokenizer::selfies("selfies", &spec, &vocabulary()).is_err());
    }
}
