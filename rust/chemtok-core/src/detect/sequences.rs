//! InChI and sequence detection: `Detector._find_inchi`, `_inchi_end` and
//! `Detector._find_sequences` of `chemtok/detect.py`.

use crate::text::char_len_at;

use super::cue::{back_chars, word_then_tail};
use super::{char_count, Cue, Decided, Detector, Modality, Span};

#[inline]
fn wordlike(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The distinct letters of an ASCII run, upper-cased, as a bit set.
fn letter_set(letters: &[u8]) -> u32 {
    letters
        .iter()
        .filter(|b| b.is_ascii_alphabetic())
        .fold(0, |set, b| set | 1 << (b.to_ascii_uppercase() - b'A'))
}

fn set_of(chars: &str) -> u32 {
    letter_set(chars.as_bytes())
}

impl Detector {
    /// `_find_inchi`: `(?<![A-Za-z0-9_])(?:prefixes)/\S+`, trimmed, that the InChI lexer reads.
    pub(crate) fn find_inchi(&self, text: &str, found: &mut Vec<Span>) {
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut pos = 0;
        while pos < n {
            let Some(end) = self.inchi_match(text, pos) else {
                pos += char_len_at(bytes, pos);
                continue;
            };
            let finish = self.inchi_end(bytes, pos, end);
            if char_count(&bytes[pos..finish]) >= self.spec.min_length.inchi
                && Detector::accepts(&self.lexers.inchi, &bytes[pos..finish])
            {
                found.push(Span {
                    start: pos,
                    end: finish,
                    modality: Modality::Inchi,
                    cue: Cue::Prefix,
                });
            }
            pos = end;
        }
    }

    /// The end of the InChI run starting at `pos`, if one starts there.
    fn inchi_match(&self, text: &str, pos: usize) -> Option<usize> {
        let bytes = text.as_bytes();
        if pos > 0 && wordlike(bytes[pos - 1]) {
            return None;
        }
        let sep = self.spec.inchi_separator.as_bytes();
        for prefix in &self.spec.inchi_prefixes {
            let p = prefix.as_bytes();
            let after = pos + p.len() + sep.len();
            if !(bytes[pos..].starts_with(p) && bytes[pos + p.len()..].starts_with(sep)) {
                continue;
            }
            // `\S+`: at least one character that is not whitespace, as many as there are.
            let run: usize = text[after..]
                .chars()
                .take_while(|&c| !self.unicode.is_space(c))
                .map(char::len_utf8)
                .sum();
            if run > 0 {
                return Some(after + run);
            }
        }
        None
    }

    /// `_inchi_end`: sentence punctuation and a stray `)` off the end.
    fn inchi_end(&self, bytes: &[u8], start: usize, mut end: usize) -> usize {
        let trailing = self.spec.inchi_trailing.as_bytes();
        while end > start {
            let last = bytes[end - 1];
            let run = &bytes[start..end];
            let count = |b: u8| run.iter().filter(|&&x| x == b).count();
            if trailing.contains(&last) || (last == b')' && count(b'(') < count(b')')) {
                end -= 1;
            } else {
                break;
            }
        }
        end
    }

    /// `_find_sequences`: runs of `_SEQUENCE_RUN`, as DNA/RNA or protein.
    pub(crate) fn find_sequences(&self, text: &str, found: &mut Vec<Span>) -> Decided<()> {
        let spec = &self.spec;
        let bytes = text.as_bytes();
        let n = bytes.len();
        let want_dna = self.wants(Modality::Dna);
        let want_protein = self.wants(Modality::Protein);
        let shortest = spec
            .cued_sequence_length
            .min(spec.min_length.dna)
            .min(spec.min_length.protein);
        let nucleotides = set_of(&spec.nucleotides);
        let rare = set_of(&spec.rare_residues);
        let t_and_u = set_of(&spec.dna_and_rna);
        let lower_nucleotides = spec.nucleotides.to_ascii_lowercase();
        let mut pos = 0;
        while pos < n {
            if !wordlike(bytes[pos]) {
                pos += 1;
                continue;
            }
            let start = pos;
            while pos < n && wordlike(bytes[pos]) {
                pos += 1;
            }
            let word = &bytes[start..pos];
            // `(?:[A-Z]+\*?|[acgtun]+)` between non-word characters: a whole word.
            let end = if word.iter().all(u8::is_ascii_uppercase) {
                let star = bytes.get(pos) == Some(&b'*') && !bytes.get(pos + 1).is_some_and(|&b| wordlike(b));
                pos + usize::from(star)
            } else if word.iter().all(|b| lower_nucleotides.as_bytes().contains(b)) {
                pos
            } else {
                continue;
            };
            let run = &bytes[start..end];
            if run.len() < shortest {
                continue;
            }
            let letters = &bytes[start..pos];
            let distinct = letter_set(letters);
            let count = distinct.count_ones() as usize;
            let cued = || -> Decided<bool> {
                let window = back_chars(text, start, spec.cue_window);
                word_then_tail(
                    text,
                    &spec.sequence_cue_words,
                    &spec.cue_stops,
                    spec.cue_tail,
                    window,
                    start,
                )
            };
            if distinct & !nucleotides == 0 && run.len() == letters.len() && distinct & t_and_u != t_and_u && count >= 2
            {
                if !want_dna {
                    continue;
                }
                let enough = run.len() >= spec.min_length.dna;
                let take = enough || (run.len() >= spec.cued_sequence_length && cued()?);
                if take && Detector::accepts(&self.lexers.dna, run) {
                    found.push(self.sequence_span(start, end, Modality::Dna, enough));
                }
                continue;
            }
            if !want_protein || !run[0].is_ascii_uppercase() || count < spec.protein_distinct.min(letters.len()) {
                continue;
            }
            if distinct & rare != 0 && run.len() < spec.rare_residue_length {
                continue;
            }
            let enough = run.len() >= spec.min_length.protein && count >= spec.protein_distinct;
            let take = enough || (run.len() >= spec.cued_sequence_length && cued()?);
            if take && Detector::accepts(&self.lexers.protein, run) {
                found.push(self.sequence_span(start, end, Modality::Protein, enough));
            }
        }
        Ok(())
    }

    fn sequence_span(&self, start: usize, end: usize, modality: Modality, enough: bool) -> Span {
        Span {
            start,
            end,
            modality,
            cue: if enough { Cue::Length } else { Cue::SequenceCue },
        }
    }
}
