//! The context cues of `chemtok/detect.py` (`_SMILES_CUE`, `_MOLECULE_CUE`,
//! `_SEQUENCE_CUE`) as Python's `re` evaluates them with `pattern.search(text,
//! window, start)`: `\b` at `window` sees the character before it, `\b` at `start`
//! sees the end of the string, and `$` also matches right before a final `"\n"`.
//! The words are matched ASCII case-insensitively, which is exact once the text holds
//! none of the spec's `casefold_letters` (checked before detection starts).

use std::collections::HashSet;

use crate::error::SpecError;

use super::{char_count, Decided, DetectSpec, Undecided};

/// Python's `\s` and the case-folding letters, from the spec.
#[derive(Clone, Debug)]
pub(crate) struct Unicode {
    ascii_space: [bool; 128],
    space: HashSet<char>,
    casefold: HashSet<char>,
}

impl Unicode {
    pub(crate) fn new(spec: &DetectSpec) -> Result<Self, SpecError> {
        let mut ascii_space = [false; 128];
        let mut space = HashSet::new();
        for c in spec.whitespace.chars() {
            if c.is_ascii() {
                ascii_space[c as usize] = true;
            } else {
                space.insert(c);
            }
        }
        if !ascii_space[b' ' as usize] {
            return Err(SpecError("detect spec: whitespace lacks ' '".into()));
        }
        let casefold: HashSet<char> = spec.casefold_letters.chars().collect();
        if casefold.iter().any(char::is_ascii) {
            return Err(SpecError("detect spec: casefold_letters must be non-ASCII".into()));
        }
        Ok(Unicode {
            ascii_space,
            space,
            casefold,
        })
    }

    /// Python's `c.isspace()`.
    #[inline]
    pub(crate) fn is_space(&self, c: char) -> bool {
        if c.is_ascii() {
            self.ascii_space[c as usize]
        } else {
            self.space.contains(&c)
        }
    }

    pub(crate) fn has_casefold_letter(&self, text: &str) -> bool {
        text.chars().any(|c| !c.is_ascii() && self.casefold.contains(&c))
    }
}

/// Python's `\w` for an ASCII byte; non-ASCII characters are undecided.
#[inline]
fn ascii_word(c: char) -> Decided<bool> {
    if c.is_ascii() {
        Ok(c.is_ascii_alphanumeric() || c == '_')
    } else {
        Err(Undecided)
    }
}

/// `\b` before a word starting at byte `k` (the word's first character is a letter).
fn boundary_before(text: &str, k: usize) -> Decided<bool> {
    match text[..k].chars().next_back() {
        None => Ok(true),
        Some(c) => ascii_word(c).map(|w| !w),
    }
}

/// `\b` after a word ending at byte `e`, the search ending at `endpos` (a letter before `e`).
fn boundary_after(text: &str, e: usize, endpos: usize) -> Decided<bool> {
    if e >= endpos {
        return Ok(true);
    }
    match text[e..].chars().next() {
        None => Ok(true),
        Some(c) => ascii_word(c).map(|w| !w),
    }
}

/// Where `$` may match when the search ends at `endpos`: `endpos`, and right before a
/// final `"\n"`.
fn ends(text: &str, window: usize, endpos: usize) -> [Option<usize>; 2] {
    let before_newline = (endpos > window && text.as_bytes()[endpos - 1] == b'\n').then(|| endpos - 1);
    [Some(endpos), before_newline]
}

/// Byte offsets `k` in `window..endpos` where `word` starts (ASCII case-insensitively).
fn occurrences<'a>(text: &'a str, word: &'a str, window: usize, endpos: usize) -> impl Iterator<Item = usize> + 'a {
    let bytes = text.as_bytes();
    let w = word.as_bytes();
    let stop = match endpos.checked_sub(w.len()) {
        Some(last) if !w.is_empty() && last >= window => last + 1,
        _ => window,
    };
    (window..stop).filter(move |&k| bytes[k..k + w.len()].eq_ignore_ascii_case(w))
}

/// Combine one occurrence's answer into the running one: a definite match wins;
/// otherwise an undecided occurrence makes the whole search undecided.
fn fold(found: &mut Decided<bool>, this: Decided<bool>) -> bool {
    match this {
        Ok(true) => {
            *found = Ok(true);
            true
        }
        Ok(false) => false,
        Err(Undecided) => {
            *found = Err(Undecided);
            false
        }
    }
}

/// `\b(?:w1|w2|...)\b[^stops]{0,tail}$` searched in `text[window..endpos]`.
pub(crate) fn word_then_tail(
    text: &str,
    words: &[String],
    stops: &str,
    tail: usize,
    window: usize,
    endpos: usize,
) -> Decided<bool> {
    let mut found = Ok(false);
    for word in words {
        for k in occurrences(text, word, window, endpos) {
            let e = k + word.len();
            let tail_ok = ends(text, window, endpos).into_iter().flatten().any(|end| {
                end >= e
                    && !text[e..end].chars().any(|c| stops.contains(c))
                    && char_count(&text.as_bytes()[e..end]) <= tail
            });
            if !tail_ok {
                continue;
            }
            let this = both(boundary_before(text, k), || boundary_after(text, e, endpos));
            if fold(&mut found, this) {
                return found;
            }
        }
    }
    found
}

/// `a and b` over undecided answers: false if either is definitely false.
fn both(a: Decided<bool>, b: impl FnOnce() -> Decided<bool>) -> Decided<bool> {
    match a {
        Ok(false) => Ok(false),
        Ok(true) => b(),
        Err(Undecided) => match b() {
            Ok(false) => Ok(false),
            _ => Err(Undecided),
        },
    }
}

/// `\b(?:words)\s*(?:LINK\s*|VERB\s+)?[QUOTES]?$` searched in `text[window..endpos]`.
pub(crate) fn word_then_link(
    text: &str,
    spec: &DetectSpec,
    unicode: &Unicode,
    window: usize,
    endpos: usize,
) -> Decided<bool> {
    let mut found = Ok(false);
    for word in &spec.molecule_cue_words {
        for k in occurrences(text, word, window, endpos) {
            let e = k + word.len();
            let tail_ok = ends(text, window, endpos)
                .into_iter()
                .flatten()
                .any(|end| end >= e && link_tail(&text[e..end], spec, unicode));
            if !tail_ok {
                continue;
            }
            if fold(&mut found, boundary_before(text, k)) {
                return found;
            }
        }
    }
    found
}

/// Whether all of `tail` is `\s*(?:LINK\s*|VERB\s+)?[QUOTES]?`.
fn link_tail(tail: &str, spec: &DetectSpec, unicode: &Unicode) -> bool {
    let spaces = |s: &str| -> usize { s.len() - s.trim_start_matches(|c| unicode.is_space(c)).len() };
    let mut rest = &tail[spaces(tail)..];
    if let Some(link) = spec
        .molecule_cue_links
        .iter()
        .find(|l| !l.is_empty() && rest.starts_with(l.as_str()))
    {
        rest = &rest[link.len()..];
        rest = &rest[spaces(rest)..];
    } else {
        let verb = spec.molecule_cue_verb.as_bytes();
        let head = rest.as_bytes().get(..verb.len());
        if !verb.is_empty() && head.is_some_and(|h| h.eq_ignore_ascii_case(verb)) {
            // `verb` is ASCII (it matched ASCII bytes), so this is a char boundary.
            let after = &rest[verb.len()..];
            let n = spaces(after);
            if n > 0 {
                rest = &after[n..];
            }
        }
    }
    let mut chars = rest.chars();
    match chars.next() {
        None => true,
        Some(q) => spec.molecule_cue_quotes.contains(q) && chars.next().is_none(),
    }
}

/// The byte offset `n` code points before `pos` (or 0): `max(0, start - n)` in Python.
pub(crate) fn back_chars(text: &str, pos: usize, n: usize) -> usize {
    if n == 0 {
        return pos;
    }
    text[..pos].char_indices().rev().nth(n - 1).map_or(0, |(i, _)| i)
}
