//! Byte-level BPE (GPT-2, Llama 3, chemtok's text model) with the ids of `tokenizers`.
//!
//! A text is split into pieces by a hand-written [`PreTokenizer`]; every piece's bytes
//! start as one token each and are merged pair by pair, always the pair of lowest
//! merge rank (its index in the file's `merges`), the leftmost one on a tie; the
//! merged token's id is `vocab[left + right]`. That is exactly the order of the
//! `tokenizers` BPE model, so the ids are the same. With `ignore_merges` (Llama 3) a
//! piece found whole in the vocabulary is that one id.
//!
//! Lossless by construction on valid UTF-8: the pieces tile the text and every byte
//! has a token ([`ByteLevelBpe::new`] refuses a vocabulary without all 256), so
//! decoding the ids gives the text's bytes back.
//!
//! Short pieces (nearly all of them) are merged in place on the stack; long ones
//! (whitespace runs, long words) through a heap, so a piece of n bytes costs
//! O(n log n), never O(n²). A batch remembers the merged pieces of each chunk of
//! texts (dropped with the chunk); a single `encode_into` merges every piece afresh.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use crate::error::SpecError;
use crate::ordered::{self, Rows};
use crate::pool::{self, Threads};
use crate::pretokenize::PreTokenizer;
use crate::tokenizer::FlatBatch;

/// A byte-level BPE model in plain data, as read from a `tokenizer.json`.
///
/// Token strings are in the byte-level alphabet of GPT-2 (`Ġ` for a space): every
/// byte stands for one character. [`BpeSpec::from_tokenizer_json`] reads one from the
/// file and refuses anything outside the supported family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BpeSpec {
    pub pre_tokenizer: PreTokenizer,
    /// `(token, id)` of the model's vocabulary.
    pub vocab: Vec<(String, u32)>,
    /// The merges in rank order (rank 0 first), as `(left, right)` token strings.
    pub merges: Vec<(String, String)>,
    /// A piece found whole in the vocabulary is that one token (Llama 3).
    pub ignore_merges: bool,
    /// `(id, content)` of added tokens: decoded, never produced by encoding (literal
    /// special-token text in the input is encoded as plain text).
    pub added: Vec<(u32, String)>,
}

/// A rank-ordered byte-level BPE; `Send + Sync`, immutable after construction.
#[derive(Debug)]
pub struct ByteLevelBpe {
    pre: PreTokenizer,
    /// Id of the one-byte token of every byte.
    byte_ids: [u32; 256],
    /// `(left << 32) | right` -> `(rank << 32) | merged`.
    pairs: FxHashMap<u64, u64>,
    /// Whole-piece lookup, only filled for `ignore_merges`.
    whole: FxHashMap<Box<[u8]>, u32>,
    /// Bytes of every id (`None` for an id no token has).
    bytes: Vec<Option<Box<[u8]>>>,
}

/// Pieces up to this many bytes are merged on the stack.
const SMALL: usize = 64;
const NONE: u64 = u64::MAX;

impl ByteLevelBpe {
    /// Build the model; a `SpecError` names what does not fit (a merge of unknown
    /// tokens, a missing byte token, an id too large).
    pub fn new(spec: BpeSpec) -> Result<Self, SpecError> {
        let mut by_text: FxHashMap<&str, u32> = FxHashMap::default();
        let mut by_bytes: FxHashMap<Box<[u8]>, u32> = FxHashMap::default();
        let mut bytes: Vec<Option<Box<[u8]>>> = Vec::new();
        let set = |id: u32, b: Box<[u8]>, bytes: &mut Vec<Option<Box<[u8]>>>| -> Result<(), SpecError> {
            let k = id as usize;
            if k >= 1 << 26 {
                return Err(SpecError(format!("token id {id} is too large for a BPE vocabulary")));
            }
            if bytes.len() <= k {
                bytes.resize(k + 1, None);
            }
            bytes[k] = Some(b);
            Ok(())
        };
        for (token, id) in &spec.vocab {
            let (b, clean) = token_bytes(token);
            if clean {
                by_bytes.entry(b.clone()).or_insert(*id);
            }
            by_text.insert(token.as_str(), *id);
            set(*id, b, &mut bytes)?;
        }
        for (id, content) in &spec.added {
            // An added token that is also a model token keeps the model's bytes.
            if bytes.get(*id as usize).is_some_and(Option::is_some) {
                continue;
            }
            set(*id, token_bytes(content).0, &mut bytes)?;
        }
        let mut byte_ids = [0u32; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            *slot = *by_bytes.get(&[b as u8][..]).ok_or_else(|| {
                SpecError(format!(
                    "the vocabulary has no token for byte {b:#04x} ({:?})",
                    byte_char(b as u8)
                ))
            })?;
        }
        let mut pairs = FxHashMap::default();
        pairs.reserve(spec.merges.len());
        for (rank, (left, right)) in spec.merges.iter().enumerate() {
            let id = |t: &str| {
                by_text.get(t).copied().ok_or_else(|| {
                    SpecError(format!(
                        "merge {rank} ({left:?} {right:?}): {t:?} is not in the vocabulary"
                    ))
                })
            };
            let (l, r) = (id(left)?, id(right)?);
            let merged = id(&format!("{left}{right}"))?;
            // A pair listed twice keeps its later rank, as the map `tokenizers` builds.
            pairs.insert(
                (u64::from(l) << 32) | u64::from(r),
                ((rank as u64) << 32) | u64::from(merged),
            );
        }
        let whole = if spec.ignore_merges {
            by_bytes
        } else {
            FxHashMap::default()
        };
        Ok(ByteLevelBpe {
            pre: spec.pre_tokenizer,
            byte_ids,
            pairs,
            whole,
            bytes,
        })
    }

    /// The pre-tokenizer this model splits text with.
    pub fn pre_tokenizer(&self) -> PreTokenizer {
        self.pre
    }

    /// Append the ids of `text` to `out`.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        let bytes = text.as_bytes();
        self.pre
            .for_each_piece(text, |a, b| self.encode_piece(&bytes[a..b], out));
    }

    /// The ids of `text`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_into(text, &mut out);
        out
    }

    /// Append the bytes of `ids` to `out`; `Err(id)` for an id outside the vocabulary.
    pub fn decode_into(&self, ids: &[u32], out: &mut Vec<u8>) -> Result<(), u32> {
        for &id in ids {
            match self.bytes.get(id as usize) {
                Some(Some(b)) => out.extend_from_slice(b),
                _ => return Err(id),
            }
        }
        Ok(())
    }

    /// One more than the largest id (model and added tokens).
    pub fn vocab_size(&self) -> usize {
        self.bytes.len()
    }

    /// Encode many texts on `threads` (the process's cached pool), row `i` being
    /// `ids[offsets[i]..offsets[i + 1]]`. `Err` only when the threads cannot start.
    pub fn encode_batch<T: AsRef<str> + Sync>(&self, texts: &[T], threads: Threads) -> Result<FlatBatch, String> {
        let workers = threads.count();
        let encode_chunk = |slice: &[T]| {
            let capacity: usize = slice.iter().map(|t| t.as_ref().len() / 3 + 1).sum();
            let mut ids = Vec::with_capacity(capacity);
            let mut lens = Vec::with_capacity(slice.len());
            let mut cache = PieceCache::default();
            for text in slice {
                let mark = ids.len();
                self.encode_cached(text.as_ref(), &mut cache, &mut ids);
                lens.push(ids.len() - mark);
            }
            (ids, lens)
        };
        let mut rows: Rows<()> = Rows::new(texts.len());
        if workers <= 1 || texts.len() <= 1 {
            let (ids, lens) = encode_chunk(texts);
            rows.take(ids, &lens, Vec::new());
        } else {
            let pool = pool::pool(workers)?;
            // Chunks join the rows in order and are freed at once: the peak is ~1x the
            // result, not 2x (see `crate::ordered`).
            ordered::in_order_slices(
                &pool,
                workers,
                texts,
                4096,
                |slice, _| encode_chunk(slice),
                |(ids, lens)| rows.take(ids, &lens, Vec::new()),
            );
        }
        let Rows { ids, offsets, .. } = rows;
        Ok(FlatBatch { ids, offsets })
    }

    /// [`encode_into`](Self::encode_into) remembering merged pieces in `cache` (prose
    /// repeats its words): the same ids, faster over many texts that outlive `cache`
    /// (one cache per worker and chunk of a batch, as [`encode_batch`](Self::encode_batch)
    /// does). Use a cache with one model only.
    pub fn encode_cached<'t>(&self, text: &'t str, cache: &mut PieceCache<'t>, out: &mut Vec<u32>) {
        let bytes = text.as_bytes();
        self.pre.for_each_piece(text, |a, b| {
            let piece: &'t [u8] = &bytes[a..b];
            if piece.len() == 1 {
                out.push(self.byte_ids[piece[0] as usize]);
                return;
            }
            if let Some(&(start, len)) = cache.map.get(piece) {
                out.extend_from_slice(&cache.arena[start as usize..(start + len) as usize]);
                return;
            }
            let mark = out.len();
            self.encode_piece(piece, out);
            if cache.map.len() < PieceCache::ENTRIES && piece.len() <= SMALL {
                let start = cache.arena.len() as u32;
                cache.arena.extend_from_slice(&out[mark..]);
                cache.map.insert(piece, (start, (out.len() - mark) as u32));
            }
        });
    }

    #[inline(always)]
    fn pair(&self, left: u32, right: u32) -> u64 {
        match self.pairs.get(&((u64::from(left) << 32) | u64::from(right))) {
            Some(&v) => v,
            None => NONE,
        }
    }

    #[inline]
    fn encode_piece(&self, piece: &[u8], out: &mut Vec<u32>) {
        if piece.len() == 1 {
            out.push(self.byte_ids[piece[0] as usize]);
            return;
        }
        if !self.whole.is_empty() {
            if let Some(&id) = self.whole.get(piece) {
                out.push(id);
                return;
            }
        }
        if piece.len() <= SMALL {
            self.merge_small(piece, out);
        } else {
            self.merge_heap(piece, out);
        }
    }

    /// Merge a short piece in place: `ids[k]` and the `(rank, merged)` of the pair
    /// `(ids[k], ids[k + 1])`, lowest rank found by a scan.
    fn merge_small(&self, piece: &[u8], out: &mut Vec<u32>) {
        let mut ids = [0u32; SMALL];
        let mut next = [NONE; SMALL];
        let mut n = piece.len();
        for (slot, &b) in ids.iter_mut().zip(piece) {
            *slot = self.byte_ids[b as usize];
        }
        for k in 0..n - 1 {
            next[k] = self.pair(ids[k], ids[k + 1]);
        }
        loop {
            let mut best = NONE;
            let mut at = 0;
            for (k, &v) in next[..n - 1].iter().enumerate() {
                // Ranks are the high half: the smallest value is the lowest rank, and
                // `<` keeps the leftmost of equal ranks.
                if v < best {
                    best = v;
                    at = k;
                }
            }
            if best == NONE {
                break;
            }
            ids[at] = best as u32;
            ids.copy_within(at + 2..n, at + 1);
            next.copy_within(at + 2..n, at + 1);
            n -= 1;
            if at + 1 < n {
                next[at] = self.pair(ids[at], ids[at + 1]);
            } else {
                next[at] = NONE;
            }
            if at > 0 {
                next[at - 1] = self.pair(ids[at - 1], ids[at]);
            }
            if n == 1 {
                break;
            }
        }
        out.extend_from_slice(&ids[..n]);
    }

    /// Merge a long piece through a heap of candidate pairs over a linked list.
    fn merge_heap(&self, piece: &[u8], out: &mut Vec<u32>) {
        let n = piece.len();
        let mut ids: Vec<u32> = piece.iter().map(|&b| self.byte_ids[b as usize]).collect();
        let mut prev: Vec<usize> = (0..n).map(|k| k.wrapping_sub(1)).collect();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut alive = vec![true; n];
        // (rank, position, left id, right id), smallest rank then leftmost first.
        let mut heap = BinaryHeap::with_capacity(n);
        for k in 0..n - 1 {
            let v = self.pair(ids[k], ids[k + 1]);
            if v != NONE {
                heap.push(Reverse(((v >> 32) as u32, k, ids[k], ids[k + 1])));
            }
        }
        while let Some(Reverse((_, k, left, right))) = heap.pop() {
            let r = next[k];
            // Stale: a side was merged away since this pair was pushed.
            if !alive[k] || r >= n || ids[k] != left || ids[r] != right {
                continue;
            }
            ids[k] = self.pair(left, right) as u32;
            alive[r] = false;
            next[k] = next[r];
            if next[k] < n {
                prev[next[k]] = k;
                let v = self.pair(ids[k], ids[next[k]]);
                if v != NONE {
                    heap.push(Reverse(((v >> 32) as u32, k, ids[k], ids[next[k]])));
                }
            }
            let p = prev[k];
            if p < n {
                let v = self.pair(ids[p], ids[k]);
                if v != NONE {
                    heap.push(Reverse(((v >> 32) as u32, p, ids[p], ids[k])));
                }
            }
        }
        let mut k = 0;
        while k < n {
            out.push(ids[k]);
            k = next[k];
        }
    }
}

/// Merged pieces of one batch chunk for [`ByteLevelBpe::encode_cached`]: piece bytes
/// (borrowed from the texts) -> a range of `arena`. Bounded to `ENTRIES` pieces.
#[derive(Debug, Default)]
pub struct PieceCache<'t> {
    map: FxHashMap<&'t [u8], (u32, u32)>,
    arena: Vec<u32>,
}

impl PieceCache<'_> {
    /// Distinct pieces remembered per chunk (bounded memory on odd input).
    const ENTRIES: usize = 1 << 16;

    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The character GPT-2's byte-level alphabet shows for byte `b`.
pub(crate) fn byte_char(b: u8) -> char {
    let printable = matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff);
    if printable {
        return char::from(b);
    }
    // The others, in byte order, become U+0100, U+0101, ...
    let shift = (0..b)
        .filter(|&c| !matches!(c, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff))
        .count() as u32;
    char::from_u32(256 + shift).unwrap_or('\u{fffd}')
}

/// The byte of a byte-level alphabet character, if it is one.
fn char_byte(c: char) -> Option<u8> {
    let c = u32::from(c);
    if c < 256 {
        let b = c as u8;
        return matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff).then_some(b);
    }
    let shift = c.checked_sub(256)?;
    (0..=255u8)
        .filter(|&b| !matches!(b, b'!'..=b'~' | 0xa1..=0xac | 0xae..=0xff))
        .nth(shift as usize)
}

/// The bytes a token string decodes to, and whether it was all byte-level characters
/// (otherwise its own UTF-8, as the `ByteLevel` decoder of `tokenizers` does).
fn token_bytes(token: &str) -> (Box<[u8]>, bool) {
    let mapped: Option<Vec<u8>> = token.chars().map(char_byte).collect();
    match mapped {
        Some(b) => (b.into_boxed_slice(), true),
        None => (token.as_bytes().into(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy model: all bytes, merges `a b`, `ab c`, `b c`, `c c`.
    fn toy(ignore_merges: bool) -> ByteLevelBpe {
        let mut vocab: Vec<(String, u32)> = (0..=255u8).map(|b| (byte_char(b).to_string(), u32::from(b))).collect();
        for (k, t) in ["ab", "abc", "bc", "cc", "Ġabc"].iter().enumerate() {
            vocab.push((t.to_string(), 256 + k as u32));
        }
        let merges = [("a", "b"), ("ab", "c"), ("b", "c"), ("c", "c")]
            .iter()
            .map(|(l, r)| (l.to_string(), r.to_string()))
            .collect();
        ByteLevelBpe::new(BpeSpec {
            pre_tokenizer: PreTokenizer::Gpt2,
            vocab,
            merges,
            ignore_merges,
            added: vec![(300, "<|end|>".into())],
        })
        .expect("toy model")
    }

    #[test]
    fn the_model_is_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<ByteLevelBpe>();
    }

    #[test]
    fn the_byte_alphabet_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(char_byte(byte_char(b)), Some(b));
        }
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
    }

    #[test]
    fn merges_follow_rank_then_position() {
        let bpe = toy(false);
        assert_eq!(bpe.encode("abc"), [257]);
        assert_eq!(bpe.encode("bcc"), [258, b'c' as u32]);
        assert_eq!(bpe.encode("ccc"), [259, b'c' as u32]);
        // " abc" is one piece but "Ġabc" has no merge: not reached without ignore_merges.
        assert_eq!(bpe.encode(" abc"), [b' ' as u32, 257]);
        assert_eq!(toy(true).encode(" abc"), [260]);
    }

    #[test]
    fn long_pieces_merge_as_short_ones() {
        let bpe = toy(false);
        for text in ["abcabccbcabcc", "ccccccccccccc", "abababcbcbcbcc"] {
            let long = text.repeat(20);
            let mut small = Vec::new();
            let mut heap = Vec::new();
            bpe.merge_small(text.as_bytes(), &mut small);
            bpe.merge_heap(text.as_bytes(), &mut heap);
            assert_eq!(small, heap, "{text}");
            let mut out = Vec::new();
            bpe.merge_heap(long.as_bytes(), &mut out);
            let mut back = Vec::new();
            bpe.decode_into(&out, &mut back).expect("decode");
            assert_eq!(back, long.as_bytes());
        }
    }

    #[test]
    fn decode_gives_the_bytes_back_and_refuses_unknown_ids() {
        let bpe = toy(false);
        let text = "abc, été 42 😀\n\n  x";
        let mut back = Vec::new();
        bpe.decode_into(&bpe.encode(text), &mut back).expect("decode");
        assert_eq!(back, text.as_bytes());
        let mut out = Vec::new();
        assert_eq!(bpe.decode_into(&[300], &mut out), Ok(()));
        assert_eq!(out, b"<|end|>");
        assert_eq!(bpe.decode_into(&[299], &mut out), Err(299));
        assert_eq!(bpe.vocab_size(), 301);
    }

    #[test]
    fn batches_equal_single_calls() {
        let bpe = toy(false);
        let texts: Vec<String> = (0..100).map(|k| format!("abc {k} cc{}", "ab".repeat(k % 7))).collect();
        let mut cache = PieceCache::new();
        for text in &texts {
            let mut cached = Vec::new();
            bpe.encode_cached(text, &mut cache, &mut cached);
            assert_eq!(cached, bpe.encode(text));
        }
        let flat = bpe
            .encode_batch(&texts, Threads::from_option(Some(2)).expect("2"))
            .expect("batch");
        for (k, text) in texts.iter().enumerate() {
            let row = &flat.ids[flat.offsets[k] as usize..flat.offsets[k + 1] as usize];
            assert_eq!(row, bpe.encode(text));
        }
    }

    #[test]
    fn a_missing_byte_token_is_refused() {
        let spec = BpeSpec {
            pre_tokenizer: PreTokenizer::Gpt2,
            vocab: vec![("a".into(), 0)],
            merges: vec![],
            ignore_merges: false,
            added: vec![],
        };
        assert!(ByteLevelBpe::new(spec).is_err());
    }
}
