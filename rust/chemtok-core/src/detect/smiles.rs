//! SMILES detection: `Detector._find_smiles`, `_smiles_span`, `_smiles_cue`,
//! `_structure` and `_molecules` of `chemtok/detect.py`.

use crate::error::SpecError;
use crate::tokenizer::OnError;
use crate::vocab::Vocab;

use super::cue::{back_chars, word_then_link, word_then_tail};
use super::{Cue, Decided, Detector, Modality, Span, Undecided};

/// Token kinds, as `chemtok.detect.TOKEN_KINDS` numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Other = 0,
    BracketOpen = 1,
    BracketAtom = 2,
    Atom = 3,
    Aromatic = 4,
    Bond = 5,
    BranchOpen = 6,
    BranchClose = 7,
    Dot = 8,
    Ring = 9,
    Arrow = 10,
    BracketClose = 11,
}

impl Kind {
    fn from_code(code: u8) -> Option<Kind> {
        use Kind::*;
        [
            Other,
            BracketOpen,
            BracketAtom,
            Atom,
            Aromatic,
            Bond,
            BranchOpen,
            BranchClose,
            Dot,
            Ring,
            Arrow,
            BracketClose,
        ]
        .get(usize::from(code))
        .copied()
    }
}

/// The kind and text of every SMILES token id.
#[derive(Clone, Debug)]
pub(crate) struct Kinds {
    kinds: Vec<Kind>,
    tokens: Vec<Box<[u8]>>,
}

impl Kinds {
    pub(crate) fn new(codes: &[u8], vocab: &Vocab) -> Result<Self, SpecError> {
        if codes.len() != vocab.len() {
            return Err(SpecError(format!(
                "detect spec: {} SMILES token kinds for {} tokens",
                codes.len(),
                vocab.len()
            )));
        }
        let kinds = codes
            .iter()
            .map(|&c| Kind::from_code(c).ok_or_else(|| SpecError(format!("detect spec: unknown token kind {c}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tokens: Vec<Box<[u8]>> = vec![Box::from(&b""[..]); vocab.len()];
        for (token, id) in vocab.iter() {
            tokens[id as usize] = Box::from(token);
        }
        Ok(Kinds { kinds, tokens })
    }

    fn kind(&self, id: u32) -> Kind {
        self.kinds.get(id as usize).copied().unwrap_or(Kind::Other)
    }

    fn text(&self, id: u32) -> &[u8] {
        self.tokens.get(id as usize).map_or(&[][..], |t| t)
    }
}

/// What the structural check learns of a SMILES (`_Shape`).
#[derive(Clone, Copy, Debug, Default)]
struct Shape {
    atoms: usize,
    rings: usize,
    branches: usize,
    brackets: usize,
    aromatic: usize,
    arrows: usize,
    bonds: usize,
    dots: usize,
    bare_brackets: usize,
}

impl Shape {
    fn structured(&self) -> bool {
        let brackets =
            self.brackets >= 2 || (self.brackets == 1 && (self.bonds > 0 || self.dots > 0 || self.atoms == 1));
        self.rings > 0 || self.branches > 0 || self.arrows > 0 || brackets
    }

    fn selfies_like(&self) -> bool {
        self.atoms >= 2 && self.bare_brackets == self.atoms && self.rings == 0 && self.branches == 0 && self.bonds == 0
    }
}

#[inline]
fn wordlike(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Detector {
    /// `_find_smiles`: every run of SMILES lexemes, as `_smiles_run.finditer` finds them.
    pub(crate) fn find_smiles(&self, text: &str, found: &mut Vec<Span>) -> Decided<()> {
        let bytes = text.as_bytes();
        let n = bytes.len();
        let mut pos = 0;
        while pos < n {
            let end = self.run_end(text, pos);
            if end == pos {
                pos += crate::text::char_len_at(bytes, pos);
                continue;
            }
            let (start, run) = (pos, &bytes[pos..end]);
            pos = end;
            if start > 0 && wordlike(bytes[start - 1]) {
                continue;
            }
            if end < n && wordlike(bytes[end]) {
                continue;
            }
            // A non-ASCII character (inside `[...]`) stays in every trimmed form, and
            // the SMILES grammar is ASCII: no candidate of this run lexes.
            if !run.is_ascii() || !run.iter().any(|&b| b.is_ascii_alphabetic() || b == b'*') {
                continue;
            }
            if let Some(span) = self.smiles_span(text, start, end)? {
                found.push(span);
            }
        }
        Ok(())
    }

    /// End of the run of `(?:\[[^\s\[\]]{1,40}\]|<lexeme>)+` at `pos` (`pos` if none).
    fn run_end(&self, text: &str, mut pos: usize) -> usize {
        let bytes = text.as_bytes();
        let Some(lexer) = self.lexers.smiles.smiles_lexer() else {
            return pos;
        };
        loop {
            if bytes.get(pos) == Some(&b'[') {
                if let Some(end) = self.bracket_run(text, pos) {
                    pos = end;
                    continue;
                }
            }
            match lexer.top_lexeme_end(bytes, pos) {
                Some(end) if end > pos => pos = end,
                _ => return pos,
            }
        }
    }

    /// `\[[^\s\[\]]{1,max}\]` at `pos`: the end after `]`, if it matches.
    fn bracket_run(&self, text: &str, pos: usize) -> Option<usize> {
        let mut count = 0;
        for (offset, c) in text[pos + 1..].char_indices() {
            if c == ']' {
                return (count >= 1).then_some(pos + 1 + offset + 1);
            }
            if c == '[' || self.unicode.is_space(c) {
                return None;
            }
            count += 1;
            if count > self.spec.bracket_run_max {
                return None;
            }
        }
        None
    }

    /// `_smiles_span`: the longest trimmed form of the (ASCII) run that is a SMILES here.
    fn smiles_span(&self, text: &str, start: usize, end: usize) -> Decided<Option<Span>> {
        let bytes = text.as_bytes();
        for (begin, finish) in self.trims(bytes, start, end) {
            if finish - begin < self.spec.min_length.smiles {
                continue;
            }
            let candidate = &bytes[begin..finish];
            if !candidate.iter().any(|&b| b.is_ascii_uppercase() || b == b'*')
                && !candidate.iter().any(u8::is_ascii_digit)
            {
                continue;
            }
            let Some(shape) = self.shape(candidate) else {
                continue;
            };
            if let Some(cue) = self.smiles_cue(text, begin, finish, &shape)? {
                return Ok(Some(Span {
                    start: begin,
                    end: finish,
                    modality: Modality::Smiles,
                    cue,
                }));
            }
        }
        Ok(None)
    }

    /// `_trims`: the run, then forms with up to `max_trim` leading/trailing characters off.
    fn trims(&self, bytes: &[u8], start: usize, end: usize) -> Vec<(usize, usize)> {
        let run = &bytes[start..end];
        let leading = self.spec.leading.as_bytes();
        let trailing = self.spec.trailing.as_bytes();
        let lead = run.iter().take_while(|b| leading.contains(b)).count();
        let trail = run.iter().rev().take_while(|b| trailing.contains(b)).count();
        let mut out = vec![(start, end)];
        for total in 1..=(lead + trail).min(self.spec.max_trim) {
            for left in (0..=lead.min(total)).rev() {
                let right = total - left;
                if right <= trail && end - right > start + left {
                    out.push((start + left, end - right));
                }
            }
        }
        out
    }

    /// `_smiles_cue`: what makes this valid SMILES a molecule in this text.
    fn smiles_cue(&self, text: &str, start: usize, end: usize, shape: &Shape) -> Decided<Option<Cue>> {
        let spec = &self.spec;
        if (shape.atoms >= 2 && shape.structured()) || shape.atoms >= spec.plain_atoms {
            return Ok(Some(Cue::Structure));
        }
        let window = back_chars(text, start, spec.cue_window);
        let smiles = word_then_tail(
            text,
            &spec.smiles_cue_words,
            &spec.cue_stops,
            spec.cue_tail,
            window,
            start,
        );
        if smiles == Ok(true) {
            return Ok(Some(Cue::SmilesCue));
        }
        let molecule = if shape.atoms >= 2 || shape.brackets > 0 {
            word_then_link(text, spec, &self.unicode, window, start)
        } else {
            Ok(false)
        };
        match (smiles, molecule) {
            (_, Ok(true)) => return Ok(Some(Cue::SmilesCue)),
            (Err(Undecided), _) | (_, Err(Undecided)) => return Err(Undecided),
            _ => {}
        }
        let bytes = text.as_bytes();
        let candidate = &bytes[start..end];
        let numeral = spec.numeral.as_bytes();
        if (shape.atoms < 3 && !shape.structured()) || candidate.iter().all(|b| numeral.contains(b)) {
            return Ok(None);
        }
        let line_start = bytes[..start].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line_end = bytes[end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| end + i);
        let (before, after) = (&bytes[line_start..start], &bytes[end..line_end]);
        let only = |s: &[u8], set: &str| s.iter().all(|b| set.as_bytes().contains(b));
        if only(before, &spec.line_before_strip) && only(after, &spec.line_after_strip) {
            return Ok(Some(Cue::Line));
        }
        let edge = spec.cell_edge.as_bytes();
        let left = &before[..before.len() - before.iter().rev().take_while(|&&b| b == b' ').count()];
        let right = &after[after.iter().take_while(|&&b| b == b' ').count()..];
        let at_edges =
            left.last().map_or(true, |b| edge.contains(b)) && right.first().map_or(true, |b| edge.contains(b));
        if at_edges && before.iter().chain(after).any(|b| edge.contains(b)) {
            return Ok(Some(Cue::Cell));
        }
        Ok(None)
    }

    /// `_shape`: lex `candidate` and check its structure.
    fn shape(&self, candidate: &[u8]) -> Option<Shape> {
        let ids = self.lexers.smiles.encode(candidate, OnError::Raise).ok()?;
        self.structure(&ids)
    }

    /// `_structure`: reactions split at their arrows, each side checked.
    fn structure(&self, ids: &[u32]) -> Option<Shape> {
        let mut shape = Shape::default();
        let mut parts: Vec<&[u32]> = Vec::new();
        let mut arrow_count = 0;
        let mut from = 0;
        for (i, &id) in ids.iter().enumerate() {
            if self.kinds.kind(id) == Kind::Arrow {
                arrow_count += super::char_count(self.kinds.text(id));
                parts.push(&ids[from..i]);
                from = i + 1;
            }
        }
        parts.push(&ids[from..]);
        if arrow_count > 0 {
            if arrow_count != 2 || parts[0].is_empty() || parts[parts.len() - 1].is_empty() {
                return None;
            }
            shape.arrows = 1;
        }
        for part in parts {
            if !part.is_empty() && !self.molecules(part, &mut shape) {
                return None;
            }
        }
        if (shape.aromatic > 0 && shape.rings == 0) || shape.selfies_like() || shape.atoms == 0 {
            return None;
        }
        Some(shape)
    }

    /// `_molecules`: one side of a reaction, molecules joined by dots.
    fn molecules(&self, ids: &[u32], shape: &mut Shape) -> bool {
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum Last {
            Start,
            Atom,
            Bond,
            Open,
            Close,
            Ring,
            Dot,
        }
        let bonded = |last: Last| matches!(last, Last::Atom | Last::Ring | Last::Close);
        let mut last = Last::Start;
        let mut current: Option<usize> = None;
        let mut parent: Vec<Option<usize>> = Vec::new();
        let mut branch_stack: Vec<Option<usize>> = Vec::new();
        let mut open_rings: Vec<(u32, usize)> = Vec::new();
        let atom_base = shape.atoms;
        let n = ids.len();
        let mut i = 0;
        while i < n {
            let id = ids[i];
            match self.kinds.kind(id) {
                kind @ (Kind::BracketOpen | Kind::BracketAtom) => {
                    let inner: Vec<u8> = if kind == Kind::BracketOpen {
                        let mut j = i + 1;
                        while j < n && self.kinds.kind(ids[j]) != Kind::BracketClose {
                            j += 1;
                        }
                        if j >= n {
                            return false;
                        }
                        let inner = ids[i + 1..j]
                            .iter()
                            .flat_map(|&t| self.kinds.text(t).iter().copied())
                            .collect();
                        i = j;
                        inner
                    } else {
                        let t = self.kinds.text(id);
                        t[1..t.len() - 1].to_vec()
                    };
                    let symbol = &inner[inner.iter().take_while(|b| b.is_ascii_digit()).count()..];
                    if symbol.first().is_some_and(u8::is_ascii_lowercase) {
                        shape.aromatic += 1;
                    }
                    if !inner.is_empty() && inner.iter().all(u8::is_ascii_alphabetic) {
                        shape.bare_brackets += 1;
                    }
                    shape.brackets += 1;
                }
                Kind::Atom => {}
                Kind::Aromatic => shape.aromatic += 1,
                Kind::Bond => {
                    if !(bonded(last) || last == Last::Open) {
                        return false;
                    }
                    last = Last::Bond;
                    shape.bonds += 1;
                    i += 1;
                    continue;
                }
                Kind::BranchOpen => {
                    if !bonded(last) {
                        return false;
                    }
                    branch_stack.push(current);
                    shape.branches += 1;
                    last = Last::Open;
                    i += 1;
                    continue;
                }
                Kind::BranchClose => {
                    let Some(top) = branch_stack.pop().filter(|_| bonded(last)) else {
                        return false;
                    };
                    current = top;
                    last = Last::Close;
                    i += 1;
                    continue;
                }
                Kind::Dot => {
                    if !bonded(last) || !branch_stack.is_empty() {
                        return false;
                    }
                    current = None;
                    shape.dots += 1;
                    last = Last::Dot;
                    i += 1;
                    continue;
                }
                Kind::Ring => {
                    let Some(here) = current.filter(|_| matches!(last, Last::Atom | Last::Ring | Last::Bond)) else {
                        return false;
                    };
                    if last == Last::Bond && i >= 2 && self.kinds.kind(ids[i - 2]) == Kind::BranchOpen {
                        return false;
                    }
                    match open_rings.iter().position(|&(t, _)| t == id) {
                        None => open_rings.push((id, here)),
                        Some(k) => {
                            let (_, other) = open_rings.swap_remove(k);
                            let parent_of_here = parent.get(here - atom_base).copied().flatten();
                            if other == here || parent_of_here == Some(other) {
                                return false;
                            }
                            shape.rings += 1;
                        }
                    }
                    last = Last::Ring;
                    i += 1;
                    continue;
                }
                Kind::Other | Kind::Arrow | Kind::BracketClose => return false,
            }
            // an atom
            let atom = shape.atoms;
            shape.atoms += 1;
            parent.push(if last != Last::Dot { current } else { None });
            current = Some(atom);
            last = Last::Atom;
            i += 1;
        }
        bonded(last) && branch_stack.is_empty() && open_rings.is_empty()
    }
}
