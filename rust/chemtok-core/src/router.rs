//! The router: marked scientific text to ids of one id space, a whole batch at a time.
//!
//! The Python reference is `chemtok/router.py` with `chemtok/markers.py` (where the
//! markers are), `chemtok/idspace.py` (the id layout, `text_runs`) and
//! `chemtok/batch.py` (the batch path). A [`Router`] holds the same tables, handed
//! over by the caller: the marker pairs and their ids, the strict flag and the
//! table's unknown-marker pattern, each modality's [`Tokenizer`] with the table that
//! maps its local ids into the router's space, the text model and its offset, and the
//! base model's special-token literals with their ids.
//!
//! A text is encoded in one pass: the markers are found (one `regex` scan: the known
//! markers longest first, then the unknown-marker pattern under `strict`, as Python's
//! `re` alternation picks them), paired up as `MarkerMatcher` pairs them, and every
//! segment's ids are written straight into the row. The router does not report *why*
//! a text failed, only *which* text failed first: errors are rare, and the caller
//! (`chemtok/batch.py`) reruns the Python reference on that one text for the exact
//! error. Texts are `&str`, so lone surrogates never reach here (the caller keeps
//! those texts on the reference path).
//!
//! Losslessness is structural, not checked by decoding: markers are their own ids,
//! every modality lexer covers each byte of its segment (or fails), and a byte-level
//! BPE covers every byte of a text run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use regex::Regex;

use crate::bpe::PieceCache;
use crate::error::SpecError;
use crate::ordered::{self, Rows};
use crate::pool::{self, Threads};
use crate::tokenizer::{FlatBatch, OnError, Tokenizer};

/// A text model: appends the ids of a plain run of text (no markers, no literals).
///
/// Implemented by [`crate::ByteLevelBpe`]. Its ids are local; the router adds the
/// text block's offset.
pub trait TextModel: Send + Sync {
    /// Append the ids of `text` to `out`; a byte-level model covers every byte.
    /// `cache` holds merged pieces of the texts of one batch chunk (prose repeats
    /// its words); it only speeds encoding up.
    fn encode_text<'t>(&self, text: &'t str, cache: &mut PieceCache<'t>, out: &mut Vec<u32>);
}

impl TextModel for crate::ByteLevelBpe {
    #[inline]
    fn encode_text<'t>(&self, text: &'t str, cache: &mut PieceCache<'t>, out: &mut Vec<u32>) {
        self.encode_cached(text, cache, out);
    }
}

/// Where a segment's content goes: the text model or a modality tokenizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The text model (also the content of text-modality pairs such as `<work>`).
    Text,
    /// The modality tokenizer at this index of [`RouterSpec::modalities`].
    Modality(usize),
}

/// One marker pair of the table, in table order.
#[derive(Clone, Debug)]
pub struct PairSpec {
    pub start: String,
    pub end: String,
    pub target: Target,
}

/// A modality tokenizer and the router id of each of its local ids.
#[derive(Clone, Debug)]
pub struct ModalitySpec {
    pub tokenizer: Tokenizer,
    /// `translation[local id]` is the router id (`IdSpace.translation(modality)`).
    pub translation: Vec<u32>,
}

/// Everything a [`Router`] is built from (plain data from `chemtok.router.ChemTokenizer`).
pub struct RouterSpec {
    pub pairs: Vec<PairSpec>,
    /// The router id of every marker string (`IdSpace.marker_ids`).
    pub marker_ids: Vec<(String, u32)>,
    /// The table's `unknown_marker_pattern`, in Python `re` syntax (the linear-time
    /// subset `chemtok.markers.check_marker_pattern` admits).
    pub unknown_marker_pattern: String,
    /// `strict_markers`: refuse unknown, unclosed, unopened and nested markers.
    pub strict: bool,
    pub modalities: Vec<ModalitySpec>,
    pub text: Arc<dyn TextModel>,
    /// Router id of the text model's id 0.
    pub text_offset: u32,
    /// The base model's special-token literals and their router ids, in the order the
    /// reference tries them (longest first).
    pub literals: Vec<(String, u32)>,
}

/// The first text of a batch the router could not encode, in input order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouterBatch {
    /// Row `i` of every text before `failed`; deferred, failed and later rows are empty.
    pub batch: FlatBatch,
    /// The first text that failed (bad markers, or a segment its tokenizer refused).
    pub failed: Option<usize>,
}

/// What a known marker string is: the pair it starts and the pair it ends.
#[derive(Clone, Copy, Debug)]
struct MarkerRole {
    id: u32,
    starts: Option<usize>,
    ends: Option<usize>,
}

/// Marker scanning, dispatch and assembly for one id space (see the module docs).
pub struct Router {
    pairs: Vec<PairSpec>,
    markers: Regex,
    roles: HashMap<String, MarkerRole>,
    strict: bool,
    modalities: Vec<ModalitySpec>,
    text: Arc<dyn TextModel>,
    text_offset: u32,
    literals: Option<Regex>,
    literal_ids: HashMap<String, u32>,
}

/// The text failed; the caller asks the reference why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused;

impl Router {
    /// Build a router.
    ///
    /// Errors: a table without markers, a pattern outside the subset, a marker without
    /// an id, a modality index out of range.
    pub fn new(spec: RouterSpec) -> Result<Self, SpecError> {
        if spec.pairs.is_empty() {
            return Err(SpecError("the marker table has no pairs".into()));
        }
        let ids: HashMap<&str, u32> = spec.marker_ids.iter().map(|(m, id)| (m.as_str(), *id)).collect();
        let mut roles: HashMap<String, MarkerRole> = HashMap::new();
        for (index, pair) in spec.pairs.iter().enumerate() {
            if let Target::Modality(k) = pair.target {
                if k >= spec.modalities.len() {
                    return Err(SpecError(format!(
                        "pair {index} names modality {k}, which is not given"
                    )));
                }
            }
            for (marker, starts) in [(&pair.start, true), (&pair.end, false)] {
                let id = *ids
                    .get(marker.as_str())
                    .ok_or_else(|| SpecError(format!("marker {marker:?} has no id")))?;
                let role = roles.entry(marker.clone()).or_insert(MarkerRole {
                    id,
                    starts: None,
                    ends: None,
                });
                // As the reference's dicts: a later pair wins.
                if starts {
                    role.starts = Some(index);
                } else {
                    role.ends = Some(index);
                }
            }
        }
        // The reference's alternation: known markers longest first (a stable sort, so
        // table order among equal lengths), then the unknown-marker pattern.
        let mut known: Vec<&str> = spec
            .pairs
            .iter()
            .flat_map(|p| [p.start.as_str(), p.end.as_str()])
            .collect();
        known.sort_by_key(|m| std::cmp::Reverse(m.chars().count()));
        let mut alternatives: Vec<String> = known.iter().map(|m| regex::escape(m)).collect();
        if spec.strict {
            alternatives.push(format!("(?:{})", python_pattern_to_rust(&spec.unknown_marker_pattern)?));
        }
        let markers = Regex::new(&alternatives.join("|"))
            .map_err(|err| SpecError(format!("the marker pattern does not compile: {err}")))?;
        let literal_ids: HashMap<String, u32> = spec.literals.iter().cloned().collect();
        let literals = if spec.literals.is_empty() {
            None
        } else {
            let alternation: Vec<String> = spec.literals.iter().map(|(l, _)| regex::escape(l)).collect();
            Some(
                Regex::new(&alternation.join("|"))
                    .map_err(|err| SpecError(format!("the special-token literals do not compile: {err}")))?,
            )
        };
        Ok(Router {
            pairs: spec.pairs,
            markers,
            roles,
            strict: spec.strict,
            modalities: spec.modalities,
            text: spec.text,
            text_offset: spec.text_offset,
            literals,
            literal_ids,
        })
    }

    /// Append the router ids of `text` to `out` (on failure `out` may hold a prefix).
    pub fn encode_into(&self, text: &str, on_error: OnError, out: &mut Vec<u32>) -> Result<(), Refused> {
        self.encode_with(text, on_error, &mut PieceCache::new(), out)
    }

    /// [`encode_into`](Self::encode_into) with the text model's piece cache of a chunk.
    fn encode_with<'t>(
        &self,
        text: &'t str,
        on_error: OnError,
        cache: &mut PieceCache<'t>,
        out: &mut Vec<u32>,
    ) -> Result<(), Refused> {
        let pairs = self.matched_pairs(text)?;
        if pairs.is_empty() {
            return self.encode_text(text, cache, out);
        }
        // Events in text order; pairs nest properly, so a stack gives each gap's target.
        let mut events: Vec<(usize, usize, usize, bool)> = Vec::with_capacity(pairs.len() * 2);
        for &(open, close, pair) in &pairs {
            let p = &self.pairs[pair];
            events.push((open, open + p.start.len(), pair, true));
            events.push((close, close + p.end.len(), pair, false));
        }
        events.sort_by_key(|e| e.0);
        let mut stack: Vec<Target> = vec![Target::Text];
        let mut pos = 0;
        for (begin, finish, pair, opening) in events {
            let target = stack.last().copied().unwrap_or(Target::Text);
            if begin > pos {
                self.encode_segment(target, &text[pos..begin], on_error, cache, out)?;
            }
            let marker = &text[begin..finish];
            out.push(self.roles.get(marker).ok_or(Refused)?.id);
            if opening {
                stack.push(self.pairs[pair].target);
            } else {
                stack.pop();
            }
            pos = finish;
        }
        if pos < text.len() {
            let target = stack.last().copied().unwrap_or(Target::Text);
            self.encode_segment(target, &text[pos..], on_error, cache, out)?;
        }
        Ok(())
    }

    /// `(start marker offset, end marker offset, pair)` of every pair, as
    /// `MarkerMatcher._matched_markers` pairs them, sorted by start; `Refused` where
    /// the reference raises a `MarkerError`.
    fn matched_pairs(&self, text: &str) -> Result<Vec<(usize, usize, usize)>, Refused> {
        let strict = self.strict;
        let mut stack: Vec<(usize, usize)> = Vec::new(); // (offset, pair)
        let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
        for m in self.markers.find_iter(text) {
            let token = m.as_str();
            let Some(role) = self.roles.get(token) else {
                return Err(Refused); // an unknown marker (only the strict pattern finds one)
            };
            let top = stack.last().copied();
            if let Some((_, open)) = top {
                let p = &self.pairs[open];
                if p.target != Target::Text && token != p.end {
                    if strict {
                        return Err(Refused);
                    }
                    continue;
                }
            }
            if let Some(starts) = role.starts {
                if stack.iter().any(|&(_, open)| open == starts) {
                    if strict {
                        return Err(Refused);
                    }
                    continue;
                }
                stack.push((m.start(), starts));
                continue;
            }
            match (top, role.ends) {
                (Some((offset, open)), Some(ends)) if open == ends => {
                    stack.pop();
                    pairs.push((offset, m.start(), ends));
                }
                _ if strict => return Err(Refused),
                _ => {}
            }
        }
        if strict && !stack.is_empty() {
            return Err(Refused);
        }
        pairs.sort_by_key(|p| p.0);
        Ok(pairs)
    }

    #[inline]
    fn encode_segment<'t>(
        &self,
        target: Target,
        text: &'t str,
        on_error: OnError,
        cache: &mut PieceCache<'t>,
        out: &mut Vec<u32>,
    ) -> Result<(), Refused> {
        match target {
            Target::Text => self.encode_text(text, cache, out),
            Target::Modality(k) => {
                let modality = &self.modalities[k];
                let mark = out.len();
                modality
                    .tokenizer
                    .encode_into(text.as_bytes(), on_error, out)
                    .map_err(|_| Refused)?;
                let table = &modality.translation;
                for id in &mut out[mark..] {
                    *id = *table.get(*id as usize).ok_or(Refused)?;
                }
                Ok(())
            }
        }
    }

    /// A text segment: the base model's special-token literals as their ids, the runs
    /// between them through the text model (`IdSpace.text_runs` without surrogates).
    fn encode_text<'t>(&self, text: &'t str, cache: &mut PieceCache<'t>, out: &mut Vec<u32>) -> Result<(), Refused> {
        let Some(literals) = &self.literals else {
            self.encode_run(text, cache, out);
            return Ok(());
        };
        let mut pos = 0;
        for m in literals.find_iter(text) {
            if m.start() > pos {
                self.encode_run(&text[pos..m.start()], cache, out);
            }
            out.push(*self.literal_ids.get(m.as_str()).ok_or(Refused)?);
            pos = m.end();
        }
        if pos < text.len() {
            self.encode_run(&text[pos..], cache, out);
        }
        Ok(())
    }

    #[inline]
    fn encode_run<'t>(&self, text: &'t str, cache: &mut PieceCache<'t>, out: &mut Vec<u32>) {
        let mark = out.len();
        self.text.encode_text(text, cache, out);
        let offset = self.text_offset;
        if offset != 0 {
            for id in &mut out[mark..] {
                *id += offset;
            }
        }
    }

    /// Encode many texts, in parallel unless `threads` is one. `None` texts are left
    /// to the caller (empty rows); the first failing text (input order) stops the batch.
    pub fn encode_batch(
        &self,
        texts: &[Option<&str>],
        on_error: OnError,
        threads: Threads,
    ) -> Result<RouterBatch, String> {
        let (batch, failures) = self.run(texts, on_error, threads, true)?;
        Ok(RouterBatch {
            batch,
            failed: failures.first().copied(),
        })
    }

    /// Encode many texts, each on its own (Arrow rows): a failing text gets an empty
    /// row and is listed, in input order, and every other text is still encoded.
    pub fn encode_each(
        &self,
        texts: &[Option<&str>],
        on_error: OnError,
        threads: Threads,
    ) -> Result<(FlatBatch, Vec<usize>), String> {
        self.run(texts, on_error, threads, false)
    }

    /// The rows and the failing texts; `stop`: nothing after the first failure.
    fn run(
        &self,
        texts: &[Option<&str>],
        on_error: OnError,
        threads: Threads,
        stop: bool,
    ) -> Result<(FlatBatch, Vec<usize>), String> {
        let first = AtomicUsize::new(usize::MAX);
        let workers = threads.count();
        let mut rows = Rows::new(texts.len());
        if workers <= 1 || texts.len() <= 1 {
            let chunk = self.encode_chunk(texts, 0, on_error, stop.then_some(&first));
            rows.take(chunk.ids, &chunk.lens, chunk.failed);
        } else {
            let pool = pool::pool(workers)?;
            // Each chunk is appended to the rows and freed as soon as the chunks before
            // it are in, so only a few chunks exist beside the rows at any time and the
            // peak is ~1x the result, not 2x (see `crate::ordered`).
            ordered::in_order_slices(
                &pool,
                workers,
                texts,
                4096,
                |slice, start| self.encode_chunk(slice, start, on_error, stop.then_some(&first)),
                |chunk| rows.take(chunk.ids, &chunk.lens, chunk.failed),
            );
        }
        let Rows {
            mut ids,
            mut offsets,
            mut failures,
        } = rows;
        if stop {
            // Chunks are in input order, so the first listed is the first failing text.
            failures.truncate(1);
            // A chunk skips the texts after a failure it already knows of, but another
            // thread may have encoded later texts before that failure was known: empty
            // every row from the failing one on, so the batch is the same on any thread count.
            if let Some(&failed) = failures.first() {
                let keep = offsets[failed];
                ids.truncate(usize::try_from(keep).unwrap_or(0));
                for offset in &mut offsets[failed + 1..] {
                    *offset = keep;
                }
            }
        }
        Ok((FlatBatch { ids, offsets }, failures))
    }

    fn encode_chunk(
        &self,
        texts: &[Option<&str>],
        base: usize,
        on_error: OnError,
        first: Option<&AtomicUsize>,
    ) -> Chunk {
        let capacity: usize = texts.iter().map(|t| t.map_or(0, str::len) / 3).sum();
        let mut chunk = Chunk {
            ids: Vec::with_capacity(capacity),
            lens: Vec::with_capacity(texts.len()),
            failed: Vec::new(),
        };
        let mut cache = PieceCache::new();
        for (j, text) in texts.iter().enumerate() {
            let index = base + j;
            let mark = chunk.ids.len();
            if first.is_some_and(|f| f.load(Ordering::Relaxed) < index) {
                chunk.lens.push(0); // an earlier text failed: this row is not returned
                continue;
            }
            if let Some(text) = text {
                if self.encode_with(text, on_error, &mut cache, &mut chunk.ids).is_err() {
                    chunk.ids.truncate(mark);
                    chunk.failed.push(index);
                    if let Some(f) = first {
                        f.fetch_min(index, Ordering::Relaxed);
                    }
                }
            }
            chunk.lens.push(chunk.ids.len() - mark);
        }
        chunk
    }
}

struct Chunk {
    ids: Vec<u32>,
    lens: Vec<usize>,
    /// Texts of this chunk that failed, in order.
    failed: Vec<usize>,
}

/// The Rust `regex` spelling of a pattern in the subset of Python `re` that
/// `chemtok.markers.check_marker_pattern` admits: every literal character becomes a
/// `\x{...}` escape (so no character means something else in Rust, e.g. `&&` in a
/// class or `\<`), structure (classes, ranges, `(?:a|b)` groups, repeats, `.`) is kept.
pub fn python_pattern_to_rust(pattern: &str) -> Result<String, SpecError> {
    fn literal(out: &mut String, c: char) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push_str(&format!("\\x{{{:X}}}", c as u32));
        }
    }
    let bad = |why: &str| SpecError(format!("unknown_marker_pattern {pattern:?}: {why}"));
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut i = 0;
    // The character at `i` (an escape or a plain one) and the index after it.
    let read = |i: usize| -> Result<(char, usize), SpecError> {
        match chars.get(i) {
            Some('\\') => match chars.get(i + 1) {
                Some(&c) if !(c.is_alphanumeric() || c == '_') => Ok((c, i + 2)),
                _ => Err(bad("unsupported escape")),
            },
            Some(&c) => Ok((c, i + 1)),
            None => Err(bad("unexpected end")),
        }
    };
    while i < chars.len() {
        match chars[i] {
            '[' => {
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                let mut first = true;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("a class is not closed")),
                        Some(']') if !first => {
                            out.push(']');
                            i += 1;
                            break;
                        }
                        Some('[') => return Err(bad("'[' in a class")),
                        _ => {}
                    }
                    let (low, next) = read(i)?;
                    i = next;
                    first = false;
                    literal(&mut out, low);
                    if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&c| c != ']') {
                        let (high, next) = read(i + 1)?;
                        i = next;
                        out.push('-');
                        literal(&mut out, high);
                    }
                }
            }
            '(' => {
                if chars.get(i + 1..i + 3) != Some(&['?', ':'][..]) {
                    return Err(bad("only (?:...) groups"));
                }
                out.push_str("(?:");
                i += 3;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("a group is not closed")),
                        Some(&c @ ('|' | ')')) => {
                            out.push(c);
                            i += 1;
                            if c == ')' {
                                break;
                            }
                        }
                        Some(&c) if c != '\\' && ".^$*+?{}[]()".contains(c) => {
                            return Err(bad("a group holds literal text only"))
                        }
                        _ => {
                            let (c, next) = read(i)?;
                            i = next;
                            literal(&mut out, c);
                        }
                    }
                }
            }
            '.' | '?' | '*' | '+' => {
                out.push(chars[i]);
                i += 1;
            }
            '{' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .ok_or_else(|| bad("bad repeat"))?
                    + i;
                let body: String = chars[i + 1..close].iter().collect();
                if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == ',') {
                    return Err(bad("bad repeat"));
                }
                out.push('{');
                out.push_str(&body);
                out.push('}');
                i = close + 1;
            }
            '^' | '$' | '|' | ')' | ']' | '}' => return Err(bad("unsupported metacharacter")),
            _ => {
                let (c, next) = read(i)?;
                i = next;
                literal(&mut out, c);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text model double: one id per byte.
    struct Bytes;

    impl TextModel for Bytes {
        fn encode_text<'t>(&self, text: &'t str, _cache: &mut PieceCache<'t>, out: &mut Vec<u32>) {
            out.extend(text.bytes().map(u32::from));
        }
    }

    fn router(strict: bool, literals: Vec<(String, u32)>) -> Router {
        let pair = |s: &str, e: &str, target| PairSpec {
            start: s.into(),
            end: e.into(),
            target,
        };
        let pairs = vec![
            pair("[START_SMILES]", "[END_SMILES]", Target::Text),
            pair("[START_REF]", "[END_REF]", Target::Text),
        ];
        let marker_ids = pairs
            .iter()
            .flat_map(|p| [p.start.clone(), p.end.clone()])
            .enumerate()
            .map(|(i, m)| (m, 1000 + i as u32))
            .collect();
        Router::new(RouterSpec {
            pairs,
            marker_ids,
            unknown_marker_pattern: r"\[(?:START|END)_[A-Z0-9_]+\]".into(),
            strict,
            modalities: vec![],
            text: Arc::new(Bytes),
            text_offset: 10,
            literals,
        })
        .expect("router")
    }

    fn encode(r: &Router, text: &str) -> Result<Vec<u32>, Refused> {
        let mut out = Vec::new();
        r.encode_into(text, OnError::Raise, &mut out).map(|()| out)
    }

    #[test]
    fn markers_are_their_ids_and_text_is_offset() {
        let r = router(true, vec![]);
        assert_eq!(
            encode(&r, "a[START_SMILES]b[END_SMILES]"),
            Ok(vec![107, 1000, 108, 1001])
        );
    }

    #[test]
    fn strict_refuses_what_lenient_keeps_as_text() {
        for text in ["[START_FOO]", "[START_SMILES]x", "[END_REF]", "[START_REF][START_REF]"] {
            assert_eq!(encode(&router(true, vec![]), text), Err(Refused), "{text}");
            let lenient = encode(&router(false, vec![]), text).expect("lenient");
            assert_eq!(
                lenient,
                text.bytes().map(|b| u32::from(b) + 10).collect::<Vec<_>>(),
                "{text}"
            );
        }
    }

    #[test]
    fn literals_are_cut_out_of_text_runs() {
        let r = router(true, vec![("<|e|>".into(), 5)]);
        assert_eq!(encode(&r, "a<|e|>b"), Ok(vec![107, 5, 108]));
    }

    #[test]
    fn a_batch_stops_at_the_first_failure_in_input_order() {
        let r = router(true, vec![]);
        let texts = [Some("a"), None, Some("[START_FOO]"), Some("b"), Some("[END_REF]")];
        for threads in [Threads::Count(1.try_into().expect("1")), Threads::All] {
            let out = r.encode_batch(&texts, OnError::Raise, threads).expect("batch");
            assert_eq!(out.failed, Some(2));
            assert_eq!(out.batch.ids, vec![107]);
            assert_eq!(out.batch.offsets, vec![0, 1, 1, 1, 1, 1]);
        }
    }

    #[test]
    fn a_large_batch_is_the_same_on_any_thread_count() {
        let r = router(true, vec![]);
        // Texts of 0 to 12 bytes, some with markers, one failing in the middle.
        let owned: Vec<String> = (0..20_000)
            .map(|i: usize| match i {
                13_338 => "[START_FOO]".to_string(),
                _ if i % 11 == 0 => format!("x[START_SMILES]{}[END_SMILES]", i % 97),
                _ => "abcdefghijkl"[..i % 13].to_string(),
            })
            .collect();
        let texts: Vec<Option<&str>> = owned
            .iter()
            .enumerate()
            .map(|(i, t)| (i % 101 != 5).then_some(t.as_str()))
            .collect();
        let mut ids = Vec::new();
        let mut offsets = vec![0i64];
        for (i, text) in texts.iter().enumerate() {
            if let (Some(text), true) = (text, i < 13_338) {
                r.encode_into(text, OnError::Raise, &mut ids).expect("encodes");
            }
            offsets.push(ids.len() as i64);
        }
        for threads in [1, 2, 3] {
            let threads = Threads::from_option(Some(threads)).expect("threads");
            let out = r.encode_batch(&texts, OnError::Raise, threads).expect("batch");
            assert_eq!(out.failed, Some(13_338));
            assert_eq!(out.batch.ids, ids);
            assert_eq!(out.batch.offsets, offsets);
            let (each, failed) = r.encode_each(&texts, OnError::Raise, threads).expect("rows");
            assert_eq!(failed, vec![13_338]);
            assert_eq!(each.offsets.len(), texts.len() + 1);
            assert_eq!(&each.ids[..ids.len()], &ids[..]);
        }
    }

    #[test]
    fn each_row_on_its_own_lists_every_failure() {
        let r = router(true, vec![]);
        let texts = [Some("[END_REF]"), Some("a"), Some("[START_FOO]"), Some("b")];
        let (batch, failed) = r.encode_each(&texts, OnError::Raise, Threads::All).expect("rows");
        assert_eq!(failed, vec![0, 2]);
        assert_eq!(batch.ids, vec![107, 108]);
        assert_eq!(batch.offsets, vec![0, 0, 1, 1, 2]);
    }

    #[test]
    fn patterns_translate_literals_to_escapes() {
        let rust = python_pattern_to_rust(r"\[(?:START|END)_[A-Z0-9_]+\]").expect("pattern");
        let re = Regex::new(&rust).expect("compiles");
        assert!(re.is_match("[START_FOO_1]") && !re.is_match("[START_foo]"));
        let class = Regex::new(&python_pattern_to_rust(r"<[&&-]>").expect("pattern")).expect("compiles");
        assert!(class.is_match("<&>") && class.is_match("<->") && !class.is_match("<a>"));
        assert!(python_pattern_to_rust(r"(a)").is_err());
    }
}
