//! The SMILES lexer, mirroring `SmilesTokenizer._lex_at` / `SmilesLexer` in
//! `chemtok/smiles.py`.
//!
//! Top level, at a position: a bracket atom if the text opens one there; otherwise a
//! ring closure (`%(` digits `)`, `%` two digits, one digit, in that order), then the
//! longest literal among organic atoms, aromatic atoms, the wildcard, bonds, dative
//! bonds, branches, the dot and the reaction arrows. Each top-level lexeme is one
//! token, except a `%(nnn)` ring number the vocabulary lacks, which is spelled `%(`,
//! its digits, `)`.
//!
//! A bracket atom is one token when it is in the vocabulary, otherwise it is spelled
//! from its parts exactly as `SmilesTokenizer._spell_bracket` does.

use rustc_hash::FxHashMap;

use crate::error::{Failure, PropKind, Reason, SpecError};
use crate::text::{chars, digit_run, starts_with_at, LongestMatch};
use crate::vocab::Vocab;

/// The SMILES grammar tables, as `chemtok.grammar.SmilesGrammar` holds them.
///
/// `chiralities` and `bracket_symbols` are the grammar's derived tables
/// (`SmilesGrammar.chiralities`, `SmilesGrammar.bracket_symbols`), handed over as the
/// reference computes them.
///
/// # How a spec crosses from Python
///
/// Every spec struct derives `serde::Deserialize` and is read from one JSON object
/// that Python generates (`chemtok.native.engine_spec`: the grammar's `as_dict()`
/// plus its derived tables). The binding deserializes that JSON and the unit tests
/// read the same JSON, generated from the shipped grammars into
/// `rust/chemtok-core/specs/` (`tests/test_native_spec.py` keeps those files equal
/// to what Python generates). So a new grammar field touches two places: the Python
/// grammar dataclass and the field here (unknown keys are ignored, so Python may
/// hand over more than a lexer reads).
///
/// Chosen over `#[derive(FromPyObject)]` mirror structs in the binding because the
/// mirror would be a third copy of every field (core struct, mirror, conversion),
/// and because the Rust tests, which cannot call Python, could not use it: with
/// JSON they read exactly what the binding gets.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct SmilesSpec {
    pub organic: Vec<String>,
    pub organic_aromatic: Vec<String>,
    pub wildcard: String,
    pub bonds: Vec<String>,
    pub dative_bonds: Vec<String>,
    pub branch_open: String,
    pub branch_close: String,
    pub dot: String,
    pub reaction: Vec<String>,
    pub ring_digits: String,
    pub ring_percent: String,
    pub ring_paren_open: String,
    pub ring_paren_close: String,
    pub ring_paren_max_digits: usize,
    pub bracket_open: String,
    pub bracket_close: String,
    pub bracket_symbols: Vec<String>,
    pub chiralities: Vec<String>,
    pub hydrogen: String,
    pub charge_signs: Vec<String>,
    pub charge_sign_runs: bool,
    pub class_prefix: String,
}

/// The top-level dispatch of one first byte, for the common lexemes that need no
/// lookahead beyond one more byte (`C`, `Cl`, `c`, `(`, `=`, a ring digit, ...).
#[derive(Clone, Copy, Debug)]
struct Fast {
    /// Whether this byte may take the fast path at all: it opens no bracket atom and
    /// no `%` ring closure, and every literal starting with it is 1 or 2 bytes long.
    eligible: bool,
    /// Id of the one-byte lexeme, or `NONE`.
    one: u32,
    /// Two-byte literals starting with this byte: (second byte, id).
    pairs: [(u8, u32); 2],
    npairs: u8,
}

const NONE: u32 = u32::MAX;

impl Fast {
    const SLOW: Fast = Fast {
        eligible: false,
        one: NONE,
        pairs: [(0, NONE); 2],
        npairs: 0,
    };
}

/// One parsed bracket atom: byte spans into the text.
#[derive(Clone, Copy, Debug)]
struct Bracket {
    end: usize,
    isotope: Option<(usize, usize)>,
    /// The symbol first, then the properties in written order.
    props: [(PropKind, usize, usize); 5],
    count: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct SmilesLexer {
    bracket_open: Box<[u8]>,
    bracket_close: Box<[u8]>,
    ring_percent: Box<[u8]>,
    ring_paren_open: Box<[u8]>,
    ring_paren_close: Box<[u8]>,
    ring_paren_max_digits: usize,
    ring_digit: [bool; 256],
    /// Bytes that may start a ring closure (digits, first byte of `%` and `%(`).
    ring_first: [bool; 256],
    /// Top-level literals with their ids (`None`: not in the vocabulary).
    literals: LongestMatch<Option<u32>>,
    /// Per first byte: the fast path over `literals` and single-digit ring bonds.
    fast: Box<[Fast; 256]>,
    symbols: LongestMatch<()>,
    chiralities: LongestMatch<()>,
    hydrogen: Box<[u8]>,
    charge_signs: Vec<Box<[u8]>>,
    charge_sign_runs: bool,
    class_prefix: Box<[u8]>,
    /// Vocabulary tokens that are complete, valid bracket atoms (the reference's
    /// bracket cache, precomputed): looked up by the text up to the first `]`.
    whole_brackets: FxHashMap<Box<[u8]>, u32>,
    /// Whether that lookup is exact for this grammar (see [`SmilesLexer::new`]).
    fast_brackets: bool,
}

fn nonempty(field: &str, value: &str) -> Result<Box<[u8]>, SpecError> {
    if value.is_empty() {
        return Err(SpecError(format!("smiles grammar: '{field}' must not be empty")));
    }
    Ok(value.as_bytes().into())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

impl SmilesLexer {
    pub(crate) fn new(spec: &SmilesSpec, vocab: &Vocab) -> Result<Self, SpecError> {
        let bracket_open = nonempty("bracket.open", &spec.bracket_open)?;
        let bracket_close = nonempty("bracket.close", &spec.bracket_close)?;
        let ring_percent = nonempty("ring_closure.percent", &spec.ring_percent)?;
        let ring_paren_open = nonempty("ring_closure.percent_paren_open", &spec.ring_paren_open)?;
        let ring_paren_close = nonempty("ring_closure.percent_paren_close", &spec.ring_paren_close)?;
        let hydrogen = nonempty("bracket.hydrogen", &spec.hydrogen)?;
        let class_prefix = nonempty("bracket.class_prefix", &spec.class_prefix)?;
        if spec.ring_paren_max_digits == 0 {
            return Err(SpecError(
                "smiles grammar: 'ring_closure.percent_paren_max_digits' must be at least 1".into(),
            ));
        }
        if spec.ring_digits.is_empty() || !spec.ring_digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SpecError(
                "smiles grammar: 'ring_closure.digits' must be ASCII digits".into(),
            ));
        }
        let mut ring_digit = [false; 256];
        for b in spec.ring_digits.bytes() {
            ring_digit[b as usize] = true;
        }
        let mut ring_first = ring_digit;
        ring_first[ring_percent[0] as usize] = true;
        ring_first[ring_paren_open[0] as usize] = true;

        let mut top: Vec<&String> = Vec::new();
        top.extend(&spec.organic);
        top.extend(&spec.organic_aromatic);
        top.push(&spec.wildcard);
        top.extend(&spec.bonds);
        top.extend(&spec.dative_bonds);
        top.push(&spec.branch_open);
        top.push(&spec.branch_close);
        top.push(&spec.dot);
        top.extend(&spec.reaction);
        if let Some(empty) = top.iter().position(|s| s.is_empty()) {
            return Err(SpecError(format!(
                "smiles grammar: top-level literal #{empty} is empty"
            )));
        }
        let literals = LongestMatch::new(top.iter().map(|s| (s.as_bytes().to_vec(), vocab.get(s.as_bytes()))));
        let fast = Box::new(fast_table(
            &top,
            &ring_digit,
            &[&bracket_open, &ring_paren_open, &ring_percent],
            vocab,
        ));
        let symbols = LongestMatch::new(spec.bracket_symbols.iter().map(|s| (s.as_bytes().to_vec(), ())));
        let chiralities = LongestMatch::new(spec.chiralities.iter().map(|s| (s.as_bytes().to_vec(), ())));
        let mut charge_signs = Vec::with_capacity(spec.charge_signs.len());
        for sign in &spec.charge_signs {
            charge_signs.push(nonempty("bracket.charge_signs", sign)?);
        }

        // The whole-bracket lookup reads the text up to the first closing bracket. It
        // gives the parser's answer only if no part of a bracket atom can contain or
        // straddle that character: a one-byte close that is no digit and occurs in no
        // symbol, chirality, hydrogen, sign, class prefix or in the opening bracket.
        let close = &*bracket_close;
        let fast_brackets = close.len() == 1
            && !close[0].is_ascii_digit()
            && !contains(&bracket_open, close)
            && !contains(&hydrogen, close)
            && !contains(&class_prefix, close)
            && !charge_signs.iter().any(|s| contains(s, close))
            && !symbols.literals().any(|s| contains(s, close))
            && !chiralities.literals().any(|s| contains(s, close));

        let mut lexer = SmilesLexer {
            bracket_open,
            bracket_close,
            ring_percent,
            ring_paren_open,
            ring_paren_close,
            ring_paren_max_digits: spec.ring_paren_max_digits,
            ring_digit,
            ring_first,
            literals,
            fast,
            symbols,
            chiralities,
            hydrogen,
            charge_signs,
            charge_sign_runs: spec.charge_sign_runs,
            class_prefix,
            whole_brackets: FxHashMap::default(),
            fast_brackets,
        };
        if fast_brackets {
            let mut whole = FxHashMap::default();
            for (token, id) in vocab.iter() {
                if !token.starts_with(&lexer.bracket_open) {
                    continue;
                }
                if let Ok(parsed) = lexer.parse_bracket(token, 0) {
                    if parsed.end == token.len() {
                        whole.insert(Box::<[u8]>::from(token), id);
                    }
                }
            }
            lexer.whole_brackets = whole;
        }
        Ok(lexer)
    }

    /// Append the tokens of the lexemes from `pos` on; return where they end.
    ///
    /// Runs of common one- and two-byte lexemes are consumed in one loop (like the
    /// reference's `top_run`); anything else is one lexeme per call.
    #[inline]
    pub(crate) fn lex_at(&self, vocab: &Vocab, text: &[u8], pos: usize, out: &mut Vec<u32>) -> Result<usize, Failure> {
        let mut i = pos;
        'run: while let Some(&b) = text.get(i) {
            let fast = &self.fast[b as usize];
            if !fast.eligible {
                break;
            }
            if fast.npairs > 0 {
                if let Some(&next) = text.get(i + 1) {
                    for &(second, id) in &fast.pairs[..fast.npairs as usize] {
                        if second == next {
                            out.push(id);
                            i += 2;
                            continue 'run;
                        }
                    }
                }
            }
            if fast.one == NONE {
                break;
            }
            out.push(fast.one);
            i += 1;
        }
        if i > pos {
            return Ok(i);
        }
        self.lex_one(vocab, text, pos, out)
    }

    /// Append the tokens of the one lexeme at `pos`; return where it ends.
    fn lex_one(&self, vocab: &Vocab, text: &[u8], pos: usize, out: &mut Vec<u32>) -> Result<usize, Failure> {
        let Some(&first) = text.get(pos) else {
            return Err(Failure::no_rule(pos, Reason::SmilesNoLexeme));
        };
        if first == self.bracket_open[0] && starts_with_at(text, pos, &self.bracket_open) {
            return self.lex_bracket(vocab, text, pos, out);
        }
        // Ring closures come first: "%(" must not be read as an unknown "%" and a branch.
        if self.ring_first[first as usize] {
            if let Some(end) = self.ring_closure_end(text, pos) {
                let lexeme = &text[pos..end];
                match vocab.get(lexeme) {
                    Some(id) => out.push(id),
                    None => self.spell_unknown(vocab, lexeme, out)?,
                }
                return Ok(end);
            }
        }
        if let Some((len, id)) = self.literals.find(text, pos) {
            match id {
                Some(id) => out.push(*id),
                None => self.spell_unknown(vocab, &text[pos..pos + len], out)?,
            }
            return Ok(pos + len);
        }
        Err(Failure::no_rule(pos, Reason::SmilesNoLexeme))
    }

    /// End of the one top-level lexeme at `pos` other than a bracket atom (a ring
    /// closure, else the longest literal), as the reference's `SmilesLexer.lexeme`
    /// regex alternation matches it; `None` where neither matches. Detection scans
    /// runs of these (`chemtok.detect.Detector._smiles_run`).
    #[inline]
    pub(crate) fn top_lexeme_end(&self, text: &[u8], pos: usize) -> Option<usize> {
        let &first = text.get(pos)?;
        if self.ring_first[first as usize] {
            if let Some(end) = self.ring_closure_end(text, pos) {
                return Some(end);
            }
        }
        self.literals.find(text, pos).map(|(len, _)| pos + len)
    }

    /// End of the ring closure at `pos`: `%(` + 1..max digits + `)`, `%` + two digits,
    /// or one digit, tried in that order (the reference's regex alternation).
    #[inline]
    fn ring_closure_end(&self, text: &[u8], pos: usize) -> Option<usize> {
        if starts_with_at(text, pos, &self.ring_paren_open) {
            let start = pos + self.ring_paren_open.len();
            let run = text[start..]
                .iter()
                .take(self.ring_paren_max_digits)
                .take_while(|&&b| self.ring_digit[b as usize])
                .count();
            // `[digits]{1,max}` then `)`: greedy, backing off one digit at a time.
            for k in (1..=run).rev() {
                if starts_with_at(text, start + k, &self.ring_paren_close) {
                    return Some(start + k + self.ring_paren_close.len());
                }
            }
        }
        if starts_with_at(text, pos, &self.ring_percent) {
            let d = pos + self.ring_percent.len();
            if let (Some(&a), Some(&b)) = (text.get(d), text.get(d + 1)) {
                if self.ring_digit[a as usize] && self.ring_digit[b as usize] {
                    return Some(d + 2);
                }
            }
        }
        if self.ring_digit[text[pos] as usize] {
            return Some(pos + 1);
        }
        None
    }

    /// A top-level lexeme the vocabulary lacks (a `%(nnn)` ring number): the
    /// reference writes `%(`, each character between `%(` and `)`, then `)`.
    fn spell_unknown(&self, vocab: &Vocab, lexeme: &[u8], out: &mut Vec<u32>) -> Result<(), Failure> {
        vocab.push(&self.ring_paren_open, out)?;
        let pieces: Vec<&[u8]> = chars(lexeme).collect();
        let skip_front = chars(&self.ring_paren_open).count();
        let skip_back = chars(&self.ring_paren_close).count();
        let stop = pieces.len().saturating_sub(skip_back);
        if skip_front < stop {
            for piece in &pieces[skip_front..stop] {
                vocab.push(piece, out)?;
            }
        }
        vocab.push(&self.ring_paren_close, out)
    }

    fn lex_bracket(&self, vocab: &Vocab, text: &[u8], pos: usize, out: &mut Vec<u32>) -> Result<usize, Failure> {
        if self.fast_brackets {
            let close = self.bracket_close[0];
            let from = pos + self.bracket_open.len();
            if let Some(offset) = text.get(from..).and_then(|rest| rest.iter().position(|&b| b == close)) {
                let end = from + offset + 1;
                if let Some(&id) = self.whole_brackets.get(&text[pos..end]) {
                    out.push(id);
                    return Ok(end);
                }
            }
        }
        let parsed = self.parse_bracket(text, pos)?;
        self.spell_bracket(vocab, text, pos, &parsed, out)?;
        Ok(parsed.end)
    }

    /// Parse the bracket atom opening at `pos` (`SmilesLexer.bracket_parts`).
    fn parse_bracket(&self, text: &[u8], pos: usize) -> Result<Bracket, Failure> {
        let n = text.len();
        let mut i = pos + self.bracket_open.len();
        let mut isotope = None;
        let digits = digit_run(text, i);
        if digits > 0 {
            isotope = Some((i, i + digits));
            i += digits;
        }
        let Some((len, _)) = self.symbols.find(text, i) else {
            if i >= n {
                return Err(Failure::no_rule(pos, Reason::BracketNotClosed));
            }
            return Err(Failure::no_rule(i, Reason::BracketNoSymbol));
        };
        let mut parsed = Bracket {
            end: 0,
            isotope,
            props: [(PropKind::Symbol, i, i + len); 5],
            count: 1,
        };
        i += len;
        let mut seen = [false; 5];
        loop {
            if starts_with_at(text, i, &self.bracket_close) {
                parsed.end = i + self.bracket_close.len();
                return Ok(parsed);
            }
            let Some((kind, end)) = self.property_at(text, i) else {
                if i >= n {
                    return Err(Failure::no_rule(pos, Reason::BracketNotClosed));
                }
                return Err(Failure::no_rule(i, Reason::BracketNoProperty));
            };
            let slot = kind as usize;
            if seen[slot] {
                return Err(Failure::no_rule(i, Reason::BracketRepeated(kind)));
            }
            seen[slot] = true;
            // Four kinds, each at most once, after the symbol: never more than 5 entries.
            let Some(entry) = parsed.props.get_mut(parsed.count) else {
                return Err(Failure::Stalled(i));
            };
            *entry = (kind, i, end);
            parsed.count += 1;
            i = end;
        }
    }

    /// The property at `i`: chirality (longest spelling) | `H` digits* | a run of one
    /// sign (two or more) | a sign and digits* | class prefix and digits+.
    #[inline]
    fn property_at(&self, text: &[u8], i: usize) -> Option<(PropKind, usize)> {
        if let Some((len, _)) = self.chiralities.find(text, i) {
            return Some((PropKind::Chirality, i + len));
        }
        if starts_with_at(text, i, &self.hydrogen) {
            let j = i + self.hydrogen.len();
            return Some((PropKind::Hydrogens, j + digit_run(text, j)));
        }
        if self.charge_sign_runs {
            for sign in &self.charge_signs {
                if starts_with_at(text, i, sign) && starts_with_at(text, i + sign.len(), sign) {
                    let mut j = i;
                    while starts_with_at(text, j, sign) {
                        j += sign.len();
                    }
                    return Some((PropKind::Charge, j));
                }
            }
        }
        for sign in &self.charge_signs {
            if starts_with_at(text, i, sign) {
                let j = i + sign.len();
                return Some((PropKind::Charge, j + digit_run(text, j)));
            }
        }
        if starts_with_at(text, i, &self.class_prefix) {
            let j = i + self.class_prefix.len();
            let digits = digit_run(text, j);
            if digits > 0 {
                return Some((PropKind::AtomClass, j + digits));
            }
        }
        None
    }

    /// `SmilesTokenizer._spell_bracket`: the whole atom if known, else `[`, isotope,
    /// the core (symbol and the properties before any atom class) or its parts, the
    /// remaining parts, `]`; a part the vocabulary lacks is its non-digit head (whole,
    /// or character by character) followed by its digits one by one.
    fn spell_bracket(
        &self,
        vocab: &Vocab,
        text: &[u8],
        pos: usize,
        b: &Bracket,
        out: &mut Vec<u32>,
    ) -> Result<(), Failure> {
        if let Some(id) = vocab.get(&text[pos..b.end]) {
            out.push(id);
            return Ok(());
        }
        vocab.push(&self.bracket_open, out)?;
        if let Some((start, end)) = b.isotope {
            push_number(vocab, &text[start..end], out)?;
        }
        let props = &b.props[..b.count];
        let core_len = props
            .iter()
            .position(|p| p.0 == PropKind::AtomClass)
            .unwrap_or(props.len());
        let rest = match core_len {
            0 => props,
            _ => {
                let core = &text[props[0].1..props[core_len - 1].2];
                match vocab.get(core) {
                    Some(id) => {
                        out.push(id);
                        &props[core_len..]
                    }
                    None => props,
                }
            }
        };
        for &(_, start, end) in rest {
            let part = &text[start..end];
            if let Some(id) = vocab.get(part) {
                out.push(id);
                continue;
            }
            let digits = part.iter().rev().take_while(|b| b.is_ascii_digit()).count();
            let (head, tail) = part.split_at(part.len() - digits);
            if !head.is_empty() {
                match vocab.get(head) {
                    Some(id) => out.push(id),
                    None => {
                        for ch in chars(head) {
                            vocab.push(ch, out)?;
                        }
                    }
                }
            }
            for digit in tail.chunks(1) {
                vocab.push(digit, out)?;
            }
        }
        vocab.push(&self.bracket_close, out)
    }
}

/// The fast dispatch table. A byte is eligible only when the fast path gives exactly
/// the reference's first-match answer: it starts no bracket atom and no `%`/`%(` ring
/// closure; a ring digit is its own lexeme (ring closures come before literals, so no
/// literal may extend it); every literal starting with it is at most two bytes, at
/// most two of them two bytes; and every such lexeme is in the vocabulary.
fn fast_table(top: &[&String], ring_digit: &[bool; 256], openers: &[&[u8]], vocab: &Vocab) -> [Fast; 256] {
    let mut table = [Fast::SLOW; 256];
    for b in 0..=255u8 {
        if openers.iter().any(|o| o.first() == Some(&b)) {
            continue;
        }
        let starting: Vec<&[u8]> = top
            .iter()
            .map(|s| s.as_bytes())
            .filter(|s| s.first() == Some(&b))
            .collect();
        let mut entry = Fast {
            eligible: true,
            ..Fast::SLOW
        };
        if ring_digit[b as usize] {
            match vocab.get(&[b]) {
                Some(id) => entry.one = id,
                None => continue,
            }
            table[b as usize] = entry;
            continue;
        }
        if starting.is_empty() || starting.iter().any(|s| s.len() > 2) {
            continue;
        }
        let mut usable = true;
        for literal in &starting {
            let Some(id) = vocab.get(literal) else {
                usable = false;
                break;
            };
            match literal {
                [_] => entry.one = id,
                [_, second] => {
                    if entry.npairs as usize >= entry.pairs.len() {
                        usable = false;
                        break;
                    }
                    entry.pairs[entry.npairs as usize] = (*second, id);
                    entry.npairs += 1;
                }
                _ => usable = false,
            }
        }
        if usable {
            table[b as usize] = entry;
        }
    }
    table
}

/// A number: one token if the vocabulary has it, else digit by digit.
#[inline]
pub(crate) fn push_number(vocab: &Vocab, number: &[u8], out: &mut Vec<u32>) -> Result<(), Failure> {
    if let Some(id) = vocab.get(number) {
        out.push(id);
        return Ok(());
    }
    for digit in number.chunks(1) {
        vocab.push(digit, out)?;
    }
    Ok(())
}
