//! Learned merges over atom-level units (compact SMILES models), mirroring
//! `split_words` and `apply_merges` in `chemtok/compact.py`.
//!
//! The lexer first writes the atom-level unit ids of a text. Those are split into merge
//! words: a separator (`.`, `>`, `>>`) or a byte-fallback token is a word of its own; a
//! spelled group (`[` up to the next `]`, `%(` up to the next `)`, or to the end) is a
//! word of its own; every other unit joins the current word. Inside each word the merge
//! of lowest rank among adjacent pairs is applied to every non-overlapping occurrence,
//! left to right, until no adjacent pair has a rank.
//!
//! Everything works on ids. The compact vocabulary starts with the atom-level one, so a
//! unit's id is the same in both; a merge is a table entry `(left id, right id) -> rank`,
//! and the rank gives the id of the merged token (which may be an atom-level token:
//! `1` + `2` = `12`).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use rustc_hash::FxHashMap;

use crate::error::SpecError;
use crate::vocab::Vocab;

/// The merges of a compact model and the word rules they run under, as
/// `SmilesTokenizer.merges` and `chemtok.compact.WordRules` hold them.
///
/// Tokens are bytes (UTF-8, or WTF-8 for lone surrogates), like the vocabulary's.
#[derive(Clone, Debug, Default)]
pub struct MergeSpec {
    /// `(left, right)` in rank order (rank = index; a pair listed twice keeps its
    /// last rank, as the reference's `{pair: rank for rank, pair in ...}` does).
    pub merges: Vec<(Vec<u8>, Vec<u8>)>,
    /// Units that are words of their own (`WordRules.separators`).
    pub separators: Vec<Vec<u8>>,
    /// Opener and closer of spelled groups (`WordRules.groups`; a later entry for the
    /// same opener wins, as in `dict(rules.groups)`).
    pub groups: Vec<(Vec<u8>, Vec<u8>)>,
}

const NONE: u32 = u32::MAX;

/// How a unit takes part in word splitting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Joins the current word.
    Joins,
    /// A word of its own: a separator or a byte-fallback token.
    Alone,
    /// Opens a group that runs to this closer id (inclusive), or to the end.
    Opens(u32),
}

/// The merge table of one compact tokenizer.
#[derive(Clone, Debug)]
pub(crate) struct Merges {
    /// `(left << 32) | right` -> rank.
    ranks: PairTable,
    /// By compact id: its index among the `HOT` tokens of the earliest merges, or
    /// `COLD`. Pairs of two hot tokens are looked up in `dense` (32 KiB, which stays
    /// in cache) instead of the hash table.
    hot: Vec<u8>,
    /// `HOT * HOT` ranks (`u16::MAX`: no merge); empty when a rank exceeds u16.
    dense: Vec<u16>,
    /// Rank -> id of the merged token (`NONE` for ranks overridden by a later duplicate).
    merged: Vec<u32>,
    /// By unit id: how it splits words.
    classes: Vec<Class>,
    /// Size of the compact vocabulary (ids `0..len`).
    len: usize,
    /// Names this table in the per-thread word caches (a clone shares it: same table,
    /// same merged words).
    table_id: u64,
    /// Alive while this table or a clone is: a thread drops its caches of dead tables
    /// when it next starts a cache.
    alive: Arc<()>,
}

/// Source of [`Merges::table_id`].
static NEXT_TABLE_ID: AtomicU64 = AtomicU64::new(0);

/// Words shorter than this are merged afresh: one or two rank lookups cost less than
/// hashing the word.
const CACHE_MIN_WORD: usize = 3;
/// Longer words are merged afresh (rare: the longest merge word of MoleculeNet HIV has
/// 400 units; keeps one word from taking much of the arena).
const CACHE_MAX_WORD: usize = 4096;
/// A thread's cache of one table is emptied when it would hold more words than this...
const CACHE_MAX_WORDS: usize = 1 << 17;
/// ... or more arena entries (u32: 16 MiB), so memory stays bounded on a corpus of
/// ever new words. With the slot table (at most `2 * CACHE_MAX_WORDS` slots of 8 bytes,
/// 2 MiB) a thread's cache of one table stays under 18 MiB; a word costs
/// `4 * (1 + units + merged ids)` arena bytes plus 8 to 16 slot bytes (about 200 bytes
/// for a drug-like SMILES: 37 units merged to 7 tokens).
const CACHE_MAX_ARENA: usize = 1 << 22;
/// Caches of this many tables per thread at most (tables of dropped tokenizers go).
const CACHE_MAX_TABLES: usize = 8;

/// The merged ids of words seen before, per merge table, on this thread.
///
/// Merging a word is a pure function of its unit ids and the table, so a word met
/// again (a corpus read twice, duplicated molecules, the frequent short words of
/// reactions and salts) takes its merged ids from here instead of running the merge
/// rounds again. One cache per thread: the batch loop's threads never share or lock
/// anything on the hot path. Thread-locals survive `fork` as plain memory of the one
/// thread the child has, so a forked child keeps a valid (warm) cache.
#[derive(Default)]
struct WordCache {
    tables: Vec<(u64, Weak<()>, WordMap)>,
}

impl WordCache {
    fn table(&mut self, id: u64, alive: &Arc<()>) -> &mut WordMap {
        // The last table used first: a thread mostly encodes with one tokenizer.
        let index = match self.tables.iter().rposition(|(t, _, _)| *t == id) {
            Some(index) => index,
            None => {
                // Caches of dropped tokenizers' tables can never be used again.
                self.tables.retain(|(_, table, _)| table.strong_count() > 0);
                if self.tables.len() >= CACHE_MAX_TABLES {
                    self.tables.remove(0);
                }
                self.tables.push((
                    id,
                    Arc::downgrade(alive),
                    WordMap::new(CACHE_MAX_WORDS, CACHE_MAX_ARENA),
                ));
                self.tables.len() - 1
            }
        };
        &mut self.tables[index].2
    }
}

/// Unit ids of a word -> its merged ids, for one merge table on one thread.
///
/// Each cached word is one arena entry: a header (`units << 16 | merged ids`), the
/// word's unit ids, its merged ids. An open-addressing table of `u64` slots finds it:
/// 32 bits of the word's hash and the entry's arena offset plus one (0: empty slot).
/// A hit reads one slot and one arena entry (header, key and value on neighbouring
/// cache lines) and copies the merged ids out; a new word costs no allocation of its
/// own (most words of a corpus of new molecules are new).
struct WordMap {
    slots: Vec<u64>,
    arena: Vec<u32>,
    words: usize,
    /// `CACHE_MAX_WORDS` and `CACHE_MAX_ARENA` (smaller in tests).
    max_words: usize,
    max_arena: usize,
}

/// Multiplier of the word hash (2^64 / golden ratio, odd).
const HASH_K: u64 = 0x9E37_79B9_7F4A_7C15;

impl WordMap {
    fn new(max_words: usize, max_arena: usize) -> Self {
        WordMap {
            slots: Vec::new(),
            arena: Vec::new(),
            words: 0,
            max_words,
            max_arena,
        }
    }

    /// A fast non-cryptographic hash of a word's unit ids: four ids per step in two
    /// independent multiply chains, then a final mix so that the top bits (the slot
    /// index and the tag) depend on every id.
    #[inline]
    fn hash(word: &[u32]) -> u64 {
        #[inline(always)]
        fn step(h: u64, x: u64) -> u64 {
            (h.rotate_left(23) ^ x).wrapping_mul(HASH_K)
        }
        let pair = |p: &[u32]| u64::from(p[0]) | (u64::from(p[1]) << 32);
        let (mut a, mut b) = (word.len() as u64, HASH_K);
        let mut quads = word.chunks_exact(4);
        for quad in &mut quads {
            a = step(a, pair(&quad[..2]));
            b = step(b, pair(&quad[2..]));
        }
        for &id in quads.remainder() {
            a = step(a, u64::from(id));
        }
        let h = step(a, b.rotate_left(32));
        (h ^ (h >> 29)).wrapping_mul(HASH_K)
    }

    /// Slot index of `hash` (its top bits; at most 32 of them, see `CACHE_MAX_WORDS`).
    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        (hash >> (64 - self.slots.len().trailing_zeros())) as usize
    }

    /// The part of a slot that holds the top 32 bits of the word's hash: enough to
    /// find the home slot again when the table grows, without reading the arena.
    const TAG: u64 = 0xFFFF_FFFF_0000_0000;

    /// Ask for the cache line of the home slot of `hash`.
    #[inline(always)]
    fn prefetch_slot(&self, hash: u64) {
        if !self.slots.is_empty() {
            prefetch(&self.slots, self.home(hash));
        }
    }

    /// Ask for the first cache lines of the entry the home slot of `hash` names, if
    /// its tag matches (the slot fetched by [`WordMap::prefetch_slot`] a little
    /// earlier). Without reading the entry's header: a load that misses would stall
    /// where a prefetch does not.
    #[inline(always)]
    fn prefetch_entry(&self, hash: u64) {
        let Some(&slot) = self.slots.get(self.home(hash)) else {
            return;
        };
        if slot != 0 && slot & Self::TAG == hash & Self::TAG {
            let at = (slot as u32 as usize).wrapping_sub(1);
            // Three 64-byte lines: a drug-like entry (header, ~37 unit ids, ~7
            // merged ids) is ~180 bytes.
            for line in 0..3 {
                prefetch(&self.arena, at + 16 * line);
            }
        }
    }

    /// The merged ids of `word` (whose [`WordMap::hash`] is `hash`), if cached.
    #[inline]
    fn get(&self, hash: u64, word: &[u32]) -> Option<&[u32]> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = hash & Self::TAG;
        let mut i = self.home(hash);
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                return None;
            }
            if slot & Self::TAG == tag {
                let at = (slot as u32 as usize).wrapping_sub(1);
                let head = self.arena.get(at).copied().unwrap_or(0) as usize;
                let (len, merged) = (head >> 16, head & 0xFFFF);
                let key = at + 1;
                if len == word.len() && self.arena.get(key..key + len) == Some(word) {
                    return self.arena.get(key + len..key + len + merged);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Merge `word` (not cached yet, `CACHE_MIN_WORD..=CACHE_MAX_WORD` units long, whose
    /// [`WordMap::hash`] is `hash`) in place with `merge`, cache the result, and return
    /// the merged length (`word[..len]`).
    fn merge_in(&mut self, hash: u64, word: &mut [u32], merge: impl FnOnce(&mut [u32]) -> usize) -> usize {
        // At most as many merged ids as units.
        let most = 1 + 2 * word.len();
        if self.words >= self.max_words || self.arena.len() + most > self.max_arena {
            self.words = 0;
            self.arena.clear();
            self.slots.iter_mut().for_each(|slot| *slot = 0);
        }
        if (self.words + 1) * 2 > self.slots.len() {
            self.grow();
        }
        if self.arena.capacity() == 0 {
            // The whole bound at once, never moved: the allocator maps it lazily, so
            // only the pages written take memory.
            self.arena.reserve_exact(self.max_arena);
        }
        let offset = self.arena.len();
        self.arena.push(0);
        self.arena.extend_from_slice(word);
        let merged = merge(word);
        self.arena.extend_from_slice(&word[..merged]);
        self.arena[offset] = ((word.len() as u32) << 16) | merged as u32;
        self.place((hash & Self::TAG) | (offset as u64 + 1));
        self.words += 1;
        merged
    }

    fn place(&mut self, slot: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(slot & Self::TAG);
        while self.slots[i] != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![0; (old.len() * 2).max(1024)];
        for slot in old.into_iter().filter(|&slot| slot != 0) {
            self.place(slot);
        }
    }
}

/// Ask the CPU to bring `slice[index]`'s cache line closer (a hint; nothing on other
/// targets or out of bounds).
#[inline(always)]
fn prefetch<T>(slice: &[T], index: usize) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    if let Some(item) = slice.get(index) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `sse` is enabled for this build (the cfg above; x86_64 baseline),
        // which is all `_mm_prefetch` requires; a prefetch reads nothing the program
        // sees and cannot fault (and `item` is a live reference anyway).
        unsafe { _mm_prefetch::<_MM_HINT_T0>((item as *const T).cast::<i8>()) };
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = (slice, index);
}

thread_local! {
    static WORDS: RefCell<WordCache> = RefCell::new(WordCache::default());
}

/// Open addressing over `(left, right)` keys, linear probing, load at most 1/4: the
/// rank lookup is the inner loop of merging, and most probes end at the first slot.
#[derive(Clone, Debug)]
struct PairTable {
    /// `(key, rank)`; an empty slot has key `EMPTY`.
    slots: Box<[(u64, u32)]>,
    shift: u32,
}

const EMPTY: u64 = u64::MAX;

impl PairTable {
    fn new(entries: &FxHashMap<u64, u32>) -> Self {
        let mut bits = 4u32;
        while (1usize << bits) < entries.len().saturating_mul(4) {
            bits += 1;
        }
        let mut slots = vec![(EMPTY, NONE); 1usize << bits].into_boxed_slice();
        let mask = slots.len() - 1;
        let shift = 64 - bits;
        for (&k, &rank) in entries {
            let mut i = Self::home(k, shift);
            while slots[i].0 != EMPTY {
                i = (i + 1) & mask;
            }
            slots[i] = (k, rank);
        }
        PairTable { slots, shift }
    }

    #[inline(always)]
    fn home(k: u64, shift: u32) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
    }

    #[inline(always)]
    fn get(&self, k: u64) -> u32 {
        let mask = self.slots.len() - 1;
        let mut i = Self::home(k, self.shift);
        loop {
            let (key, rank) = self.slots[i & mask];
            if key == k {
                return rank;
            }
            if key == EMPTY {
                return NONE;
            }
            i += 1;
        }
    }
}

/// Tokens with a dense rank table (the first to appear in the merges, i.e. the most
/// frequent in training): 128 x 128 u16 ranks are 32 KiB.
const HOT: usize = 128;
const COLD: u8 = u8::MAX;

/// The hot index of every compact id, and the dense rank table of hot pairs.
fn hot_tables(
    merges: &[(Vec<u8>, Vec<u8>)],
    compact: &Vocab,
    ranks: &FxHashMap<u64, u32>,
    len: usize,
) -> (Vec<u8>, Vec<u16>) {
    let mut hot = vec![COLD; len];
    if merges.len() >= usize::from(u16::MAX) {
        return (hot, Vec::new());
    }
    let mut order: Vec<u32> = Vec::with_capacity(HOT);
    'fill: for (left, right) in merges {
        let mut joined = left.clone();
        joined.extend_from_slice(right);
        for token in [left, right, &joined] {
            if order.len() == HOT {
                break 'fill;
            }
            if let Some(id) = compact.get(token) {
                if let Some(slot) = hot.get_mut(id as usize) {
                    if *slot == COLD {
                        *slot = order.len() as u8;
                        order.push(id);
                    }
                }
            }
        }
    }
    let mut dense = vec![u16::MAX; HOT * HOT];
    for (a, &left) in order.iter().enumerate() {
        for (b, &right) in order.iter().enumerate() {
            if let Some(&rank) = ranks.get(&key(left, right)) {
                dense[a * HOT + b] = u16::try_from(rank).unwrap_or(u16::MAX);
            }
        }
    }
    (hot, dense)
}

#[inline]
fn key(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

impl Merges {
    /// Build from the atom-level vocabulary (`units`, the lexer's), the compact token
    /// list in id order, and the merges.
    ///
    /// The compact list must start with the atom-level tokens in the same order (so
    /// unit ids are compact ids), and must hold every merged token.
    pub(crate) fn new<T: AsRef<[u8]>>(
        units: &Vocab,
        unit_tokens: &[T],
        tokens: &[T],
        spec: &MergeSpec,
    ) -> Result<Self, SpecError> {
        if tokens.len() < unit_tokens.len()
            || unit_tokens
                .iter()
                .zip(tokens)
                .any(|(unit, token)| unit.as_ref() != token.as_ref())
        {
            return Err(SpecError(
                "the compact vocabulary must start with the atom-level vocabulary, in the same order".into(),
            ));
        }
        // Checks the compact list for duplicates and gives the ids of merged tokens.
        let compact = Vocab::new(tokens)?;
        let mut ranks: FxHashMap<u64, u32> = FxHashMap::default();
        ranks.reserve(spec.merges.len());
        let mut merged = vec![NONE; spec.merges.len()];
        if u32::try_from(spec.merges.len()).map_or(true, |n| n == NONE) {
            return Err(SpecError("too many merges for u32 ranks".into()));
        }
        for (rank, (left, right)) in spec.merges.iter().enumerate() {
            // A pair whose sides are not tokens (or are empty: no token in a word is)
            // never occurs in a word: it cannot apply.
            if left.is_empty() || right.is_empty() {
                continue;
            }
            let (Some(l), Some(r)) = (compact.get(left), compact.get(right)) else {
                continue;
            };
            let mut joined = left.clone();
            joined.extend_from_slice(right);
            let id = compact.get(&joined).ok_or_else(|| {
                SpecError(format!(
                    "merge #{rank} makes {:?}, which the compact vocabulary lacks",
                    String::from_utf8_lossy(&joined)
                ))
            })?;
            let rank = rank as u32;
            if let Some(old) = ranks.insert(key(l, r), rank) {
                merged[old as usize] = NONE;
            }
            merged[rank as usize] = id;
        }

        let mut classes = vec![Class::Joins; unit_tokens.len()];
        for value in 0..=255u8 {
            if let Some(slot) = classes.get_mut(units.byte_id(value) as usize) {
                *slot = Class::Alone;
            }
        }
        for separator in &spec.separators {
            if let Some(slot) = units.get(separator).and_then(|id| classes.get_mut(id as usize)) {
                *slot = Class::Alone;
            }
        }
        // Groups last: in `split_words` an opener is a group even if it is also a
        // separator or a byte token.
        for (open, close) in &spec.groups {
            if open.is_empty() {
                return Err(SpecError("a merge-word group has an empty opener".into()));
            }
            let closer = units.get(close).unwrap_or(NONE);
            if let Some(slot) = units.get(open).and_then(|id| classes.get_mut(id as usize)) {
                *slot = Class::Opens(closer);
            }
        }
        let (hot, dense) = hot_tables(&spec.merges, &compact, &ranks, tokens.len());
        Ok(Merges {
            hot,
            dense,
            ranks: PairTable::new(&ranks),
            merged,
            classes,
            len: tokens.len(),
            table_id: NEXT_TABLE_ID.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
        })
    }

    /// Size of the compact vocabulary.
    pub(crate) fn vocab_len(&self) -> usize {
        self.len
    }

    #[inline]
    fn class(&self, id: u32) -> Class {
        self.classes.get(id as usize).copied().unwrap_or(Class::Joins)
    }

    #[inline]
    fn rank(&self, left: u32, right: u32) -> u32 {
        let a = self.hot.get(left as usize).copied().unwrap_or(COLD);
        let b = self.hot.get(right as usize).copied().unwrap_or(COLD);
        if a != COLD && b != COLD {
            if let Some(&rank) = self.dense.get(usize::from(a) * HOT + usize::from(b)) {
                return if rank == u16::MAX { NONE } else { u32::from(rank) };
            }
        }
        self.ranks.get(key(left, right))
    }

    /// Replace the unit ids `ids[mark..]` by their merged ids (`split_words`, then
    /// `apply_merges` on each word), taking words seen before on this thread from its
    /// word cache.
    pub(crate) fn apply(&self, ids: &mut Vec<u32>, mark: usize) {
        let mut lens = [ids.len().saturating_sub(mark)];
        self.apply_rows(ids, mark, &mut lens);
    }

    /// [`Merges::apply`] on consecutive rows: `ids[mark..]` holds the unit ids of row 0,
    /// then row 1, ... (`lens[k]` ids each, summing to `ids.len() - mark`). Each row is
    /// replaced by its merged ids and `lens` by the merged lengths.
    ///
    /// A batch merges several texts per call (`Tokenizer::encode_chunk`: 16): one
    /// access to the thread's cache per call, and the cache lines of the next words'
    /// slots and entries are requested before the first of them is looked up (most
    /// drug-like SMILES are one word, so within one text there is nothing to overlap).
    pub(crate) fn apply_rows(&self, ids: &mut Vec<u32>, mark: usize, lens: &mut [usize]) {
        let cached = WORDS.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut cache) => {
                self.apply_with(ids, mark, lens, Some(cache.table(self.table_id, &self.alive)));
                true
            }
            Err(_) => false,
        });
        if cached != Ok(true) {
            // No thread-local (a thread being torn down) or already borrowed: merge afresh.
            self.apply_with(ids, mark, lens, None);
        }
    }

    /// [`Merges::apply`] without the word cache: every word merged afresh (the tests
    /// compare both paths).
    #[cfg(test)]
    pub(crate) fn apply_uncached(&self, ids: &mut Vec<u32>, mark: usize) {
        let mut lens = [ids.len().saturating_sub(mark)];
        self.apply_with(ids, mark, &mut lens, None);
    }

    /// End of the merge word that starts at `start` (before `end`, the end of its row).
    #[inline(always)]
    fn word_end(&self, ids: &[u32], start: usize, end: usize) -> usize {
        let mut read = start + 1;
        match self.class(ids[start]) {
            Class::Joins => {
                while read < end && self.class(ids[read]) == Class::Joins {
                    read += 1;
                }
            }
            Class::Alone => {}
            Class::Opens(closer) => {
                while read < end && ids[read] != closer {
                    read += 1;
                }
                read = (read + 1).min(end);
            }
        }
        read
    }

    fn apply_with(&self, ids: &mut Vec<u32>, mark: usize, lens: &mut [usize], mut cache: Option<&mut WordMap>) {
        debug_assert_eq!(lens.iter().sum::<usize>(), ids.len() - mark);
        /// Words looked up together: their cache lines are requested before the first
        /// is needed.
        const BLOCK: usize = 8;
        let cacheable = |len: usize| (CACHE_MIN_WORD..=CACHE_MAX_WORD).contains(&len);
        let (mut read, mut write) = (mark, mark);
        // The row being split, where it ends, and the next row to start.
        let (mut row, mut row_end, mut next_row) = (0, mark, 0);
        loop {
            // (start, end, row, hash) of the next words.
            let mut block = [(0usize, 0usize, 0usize, 0u64); BLOCK];
            let mut count = 0;
            while count < BLOCK {
                while read == row_end && next_row < lens.len() {
                    row = next_row;
                    row_end += lens[row];
                    lens[row] = 0; // the merged length, added up below
                    next_row += 1;
                }
                if read >= row_end {
                    break;
                }
                let start = read;
                read = self.word_end(ids, start, row_end.min(ids.len()));
                let mut hash = 0;
                if let Some(map) = cache.as_deref().filter(|_| cacheable(read - start)) {
                    hash = WordMap::hash(&ids[start..read]);
                    map.prefetch_slot(hash);
                }
                block[count] = (start, read, row, hash);
                count += 1;
            }
            if count == 0 {
                break;
            }
            if let Some(map) = cache.as_deref() {
                for &(start, end, _, hash) in &block[..count] {
                    if cacheable(end - start) {
                        map.prefetch_entry(hash);
                    }
                }
            }
            for &(start, end, row, hash) in &block[..count] {
                let merged_len = match cache.as_deref_mut() {
                    Some(map) if cacheable(end - start) => {
                        let word = &mut ids[start..end];
                        if let Some(merged) = map.get(hash, word) {
                            // `merged` is no longer than the word and `write <= start`,
                            // so this stays inside the slots already read.
                            ids[write..write + merged.len()].copy_from_slice(merged);
                            write += merged.len();
                            lens[row] += merged.len();
                            continue;
                        }
                        map.merge_in(hash, word, |word| self.merge_word(word))
                    }
                    _ => self.merge_word(&mut ids[start..end]),
                };
                ids.copy_within(start..start + merged_len, write);
                write += merged_len;
                lens[row] += merged_len;
            }
        }
        ids.truncate(write);
    }

    /// `apply_merges` on one word, in place: returns the merged length; the merged ids
    /// are `word[..len]`.
    pub(crate) fn merge_word(&self, word: &mut [u32]) -> usize {
        if word.len() < 2 {
            word.len()
        } else if self.merged.len() < usize::from(u16::MAX) {
            if word.len() <= 64 {
                self.merge_short(word)
            } else {
                self.merge_as::<u16>(word)
            }
        } else {
            self.merge_as::<u32>(word)
        }
    }

    /// [`Merges::merge_as`] for words of at most 64 units with u16 ranks (about nine
    /// drug-like words in ten): the live slots in one `u64`, ranks on the stack, and
    /// the slots of a round's rank visited from one bit mask, without re-checking each.
    ///
    /// A merge at slot `i` absorbs its right neighbour `j`; `j` is the only other slot
    /// of the round's mask whose pair changes (its left side is gone), so it is dropped
    /// from the mask, and the left neighbour's new pair (already visited) cannot have
    /// the round's rank (see [`Merges::merge_as`]). The result is the reference's
    /// "every non-overlapping occurrence, left to right".
    fn merge_short(&self, word: &mut [u32]) -> usize {
        let n = word.len();
        debug_assert!((2..=64).contains(&n));
        let padded = n.div_ceil(8) * 8;
        let mut ranks = [u16::NONE; 64];
        let ranks = &mut ranks[..padded];
        let mut live: u64 = u64::MAX >> (64 - n);
        for i in 0..n - 1 {
            ranks[i] = u16::from_rank(self.rank(word[i], word[i + 1]));
        }
        loop {
            let best = u16::lowest(ranks);
            if best == u16::NONE {
                break;
            }
            let merged = self.merged.get(usize::from(best)).copied().unwrap_or(NONE);
            if merged == NONE {
                break; // unreachable: a rank in the table has its merged id
            }
            let mut mask = u16::eq_mask(ranks, best);
            while mask != 0 {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                // Live slots after i (bits above bit i): the first is the absorbed one.
                let after = live & !(u64::MAX >> (63 - i));
                if after == 0 {
                    break; // unreachable: a pair with a rank has a right slot
                }
                let j = after.trailing_zeros() as usize;
                live &= !(1u64 << j);
                mask &= !(1u64 << j);
                ranks[j] = u16::NONE;
                word[i] = merged;
                let rest = after & !(1u64 << j);
                ranks[i] = if rest == 0 {
                    u16::NONE
                } else {
                    u16::from_rank(self.rank(merged, word[rest.trailing_zeros() as usize]))
                };
                let before = live & ((1u64 << i) - 1);
                if before != 0 {
                    let p = 63 - before.leading_zeros() as usize;
                    ranks[p] = u16::from_rank(self.rank(word[p], merged));
                }
            }
        }
        let mut write = 0;
        while live != 0 {
            word[write] = word[live.trailing_zeros() as usize];
            live &= live - 1;
            write += 1;
        }
        write
    }

    /// [`Merges::merge_word`] with ranks stored as `R` (u16 ranks scan faster).
    /// Every round merges at least its first occurrence, so there are fewer rounds than
    /// units.
    ///
    /// The word keeps its slots; `live` has a bit per slot still holding a token, and
    /// `ranks[i]` is the rank of the pair starting at live slot `i` (`R::NONE` for a
    /// dead slot, the last live one, or a pair without a merge). Each round finds the
    /// lowest rank, then visits the slots holding it left to right and merges every
    /// pair that still has it. A merge changes only the ranks of the merged slot, of
    /// the slot it absorbs and of its left neighbour, and no new pair has the round's
    /// rank (a merged token differs from both its parts, so the best pair cannot form
    /// again), so updating in place while visiting gives the reference's "every
    /// non-overlapping occurrence, left to right" on the word as the round found it.
    fn merge_as<R: Rank>(&self, word: &mut [u32]) -> usize {
        let n = word.len();
        let padded = n.div_ceil(8) * 8;
        let blocks = n.div_ceil(64);
        let (mut ranks_stack, mut live_stack) = ([R::NONE; 64], [0u64; 1]);
        let (mut ranks_heap, mut live_heap) = (Vec::new(), Vec::new());
        let (ranks, live): (&mut [R], &mut [u64]) = if n <= 64 {
            (&mut ranks_stack[..padded], &mut live_stack)
        } else {
            ranks_heap.resize(padded, R::NONE);
            live_heap.resize(blocks, 0);
            (&mut ranks_heap, &mut live_heap)
        };
        for (b, bits) in live.iter_mut().enumerate() {
            let count = (n - b * 64).min(64);
            *bits = u64::MAX >> (64 - count);
        }
        for i in 0..n - 1 {
            ranks[i] = R::from_rank(self.rank(word[i], word[i + 1]));
        }
        loop {
            let best = R::lowest(ranks);
            if best == R::NONE {
                break;
            }
            let merged = self.merged.get(best.index()).copied().unwrap_or(NONE);
            if merged == NONE {
                break; // unreachable: a rank in the table has its merged id
            }
            for block in 0..blocks {
                let start = block * 64;
                let end = (start + 64).min(padded);
                let mut mask = R::eq_mask(&ranks[start..end], best);
                while mask != 0 {
                    let i = start + mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    // Absorbed by a merge earlier in this round.
                    if ranks[i] != best {
                        continue;
                    }
                    let Some(j) = next_live(live, i) else {
                        break; // unreachable: a pair with a rank has a right slot
                    };
                    clear(live, j);
                    ranks[j] = R::NONE;
                    word[i] = merged;
                    ranks[i] = match next_live(live, i) {
                        Some(k) => R::from_rank(self.rank(merged, word[k])),
                        None => R::NONE,
                    };
                    if let Some(p) = prev_live(live, i) {
                        ranks[p] = R::from_rank(self.rank(word[p], merged));
                    }
                }
            }
        }
        let mut write = 0;
        for (block, &bits) in live.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                word[write] = word[block * 64 + bits.trailing_zeros() as usize];
                bits &= bits - 1;
                write += 1;
            }
        }
        write
    }
}

/// The first live slot after slot `i`.
#[inline(always)]
fn next_live(live: &[u64], i: usize) -> Option<usize> {
    let (mut block, bit) = (i / 64, i % 64);
    let mut bits = live.get(block)? & u64::MAX.checked_shl(bit as u32 + 1).unwrap_or(0);
    loop {
        if bits != 0 {
            return Some(block * 64 + bits.trailing_zeros() as usize);
        }
        block += 1;
        bits = *live.get(block)?;
    }
}

/// The last live slot before slot `i`.
#[inline(always)]
fn prev_live(live: &[u64], i: usize) -> Option<usize> {
    let (mut block, bit) = (i / 64, i % 64);
    let mut bits = live.get(block)? & ((1u64 << bit) - 1);
    loop {
        if bits != 0 {
            return Some(block * 64 + 63 - bits.leading_zeros() as usize);
        }
        block = block.checked_sub(1)?;
        bits = *live.get(block)?;
    }
}

#[inline(always)]
fn clear(live: &mut [u64], i: usize) {
    if let Some(bits) = live.get_mut(i / 64) {
        *bits &= !(1u64 << (i % 64));
    }
}

/// A rank as stored while merging a word: `u16` when every rank fits, else `u32`.
trait Rank: Copy + Ord + Eq {
    const NONE: Self;
    /// From a table rank (`NONE` stays `NONE`).
    fn from_rank(rank: u32) -> Self;
    fn index(self) -> usize;

    /// The lowest of `ranks` (a multiple of 8 long).
    #[inline(always)]
    fn lowest(ranks: &[Self]) -> Self {
        ranks.iter().copied().min().unwrap_or(Self::NONE)
    }

    /// Bit k set where `block[k] == best` (`block` at most 64 long).
    #[inline(always)]
    fn eq_mask(block: &[Self], best: Self) -> u64 {
        let mut mask = 0u64;
        for (k, &rank) in block.iter().take(64).enumerate() {
            mask |= u64::from(rank == best) << k;
        }
        mask
    }
}

impl Rank for u16 {
    const NONE: Self = u16::MAX;

    #[inline(always)]
    fn from_rank(rank: u32) -> Self {
        u16::try_from(rank).unwrap_or(u16::MAX)
    }

    #[inline(always)]
    fn index(self) -> usize {
        usize::from(self)
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn lowest(ranks: &[Self]) -> Self {
        // SAFETY: `sse2` is enabled for this build (the cfg above; it is part of the
        // x86_64 baseline), which is all that calling this function requires.
        unsafe { sse2::min(ranks) }
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline(always)]
    fn eq_mask(block: &[Self], best: Self) -> u64 {
        // SAFETY: as above.
        unsafe { sse2::eq_mask(block, best) }
    }
}

impl Rank for u32 {
    const NONE: Self = u32::MAX;

    #[inline(always)]
    fn from_rank(rank: u32) -> Self {
        rank
    }

    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
}

/// The two scans of every merge round for u16 ranks, with SSE2: LLVM vectorises the
/// portable `min` but not the equality mask (no `pmovmskb`), and these scans are most
/// of the time spent per round.
///
/// Slices are read with safe indexing (eight lanes at a time, which compiles to one
/// unaligned load); the functions are `unsafe` only because they need SSE2, which the
/// cfg guarantees (an `unsafe fn` with `target_feature` also builds on Rust < 1.86).
/// Both take slices whose length is a multiple of 8 (`merge_as` pads with `NONE`);
/// a shorter tail would be ignored, never read out of bounds.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi16, _mm_cvtsi128_si32, _mm_min_epi16, _mm_movemask_epi8, _mm_packs_epi16, _mm_set1_epi16,
        _mm_set_epi16, _mm_setzero_si128, _mm_shuffle_epi32, _mm_shufflelo_epi16, _mm_xor_si128,
    };

    #[target_feature(enable = "sse2")]
    unsafe fn load(lanes: &[u16; 8]) -> __m128i {
        let [a, b, c, d, e, f, g, h] = lanes.map(|x| x as i16);
        _mm_set_epi16(h, g, f, e, d, c, b, a)
    }

    fn eights(ranks: &[u16]) -> impl Iterator<Item = &[u16; 8]> + Clone {
        ranks.chunks_exact(8).filter_map(|c| <&[u16; 8]>::try_from(c).ok())
    }

    /// The lowest of `ranks`.
    ///
    /// # Safety
    /// The CPU must support SSE2 (every x86_64 CPU does).
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn min(ranks: &[u16]) -> u16 {
        // Unsigned 16-bit min through the signed one: flip the sign bit on the way in
        // and out.
        let bias = _mm_set1_epi16(i16::MIN);
        let mut m = _mm_set1_epi16(i16::MAX);
        for lanes in eights(ranks) {
            m = _mm_min_epi16(m, _mm_xor_si128(load(lanes), bias));
        }
        m = _mm_min_epi16(m, _mm_shuffle_epi32::<0b0100_1110>(m));
        m = _mm_min_epi16(m, _mm_shuffle_epi32::<0b1011_0001>(m));
        m = _mm_min_epi16(m, _mm_shufflelo_epi16::<0b1011_0001>(m));
        (_mm_cvtsi128_si32(m) as u16) ^ 0x8000
    }

    /// Bit k set where `block[k] == best`.
    ///
    /// # Safety
    /// The CPU must support SSE2 (every x86_64 CPU does).
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn eq_mask(block: &[u16], best: u16) -> u64 {
        let b = _mm_set1_epi16(best as i16);
        let mut mask = 0u64;
        for (k, lanes) in eights(block).enumerate().take(8) {
            let eq = _mm_packs_epi16(_mm_cmpeq_epi16(load(lanes), b), _mm_setzero_si128());
            mask |= u64::from(_mm_movemask_epi8(eq) as u8) << (k * 8);
        }
        mask
    }
}

#[cfg(test)]
mod tests {
    //! The short-word path against the general one and against `apply_merges` done
    //! the slow way on ids, on many random tables; the word cache against fresh merges.
    //! (tests.rs checks both against the string-level reference of compact.py.)

    use super::*;

    /// xorshift64: the same tables and words every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// The byte block, then letters and two-letter units (so that a merge can make a
    /// unit: `a` + `b` = `ab`), then `.` (a separator).
    fn units() -> Vec<String> {
        let mut units: Vec<String> = (0..=255u8).map(crate::byte_token).collect();
        units.extend(["a", "b", "c", "d", "ab", "ba", "."].map(String::from));
        units
    }

    /// A random table of `count` merges over the units and earlier merged tokens, and
    /// the compact token list it needs.
    fn table(rng: &mut Rng, count: usize) -> (Merges, Vec<String>) {
        let units = units();
        let mut tokens = units.clone();
        let letters: Vec<String> = units[256..units.len() - 1].to_vec();
        let mut pool = letters.clone();
        let mut merges = Vec::new();
        for _ in 0..count {
            let left = pool[rng.below(pool.len())].clone();
            let right = pool[rng.below(pool.len())].clone();
            let joined = format!("{left}{right}");
            if joined.len() > 12 {
                continue;
            }
            if !tokens.contains(&joined) {
                tokens.push(joined.clone());
                pool.push(joined);
            }
            // A pair may come again (it keeps its last rank).
            merges.push((left.into_bytes(), right.into_bytes()));
        }
        let spec = MergeSpec {
            merges,
            separators: vec![b".".to_vec()],
            groups: Vec::new(),
        };
        let vocab = Vocab::new(&units).expect("units");
        let table = Merges::new(&vocab, &units, &tokens, &spec).expect("table");
        (table, tokens)
    }

    /// `apply_merges` on ids, the slow way: find the lowest rank, rebuild the word
    /// merging every non-overlapping occurrence of its pair left to right, repeat.
    fn reference(table: &Merges, word: &[u32]) -> Vec<u32> {
        let mut parts = word.to_vec();
        loop {
            let best = parts
                .windows(2)
                .map(|w| table.rank(w[0], w[1]))
                .filter(|&r| r != NONE)
                .min();
            let Some(best) = best else {
                return parts;
            };
            let at = parts
                .windows(2)
                .position(|w| table.rank(w[0], w[1]) == best)
                .expect("the best pair");
            let (left, right) = (parts[at], parts[at + 1]);
            let mut merged = Vec::with_capacity(parts.len());
            let mut i = 0;
            while i < parts.len() {
                if i + 1 < parts.len() && parts[i] == left && parts[i + 1] == right {
                    merged.push(table.merged[best as usize]);
                    i += 2;
                } else {
                    merged.push(parts[i]);
                    i += 1;
                }
            }
            parts = merged;
        }
    }

    fn random_word(rng: &mut Rng, len: usize) -> Vec<u32> {
        let letters = 256..262u32; // a b c d ab ba
        let width = letters.len();
        match rng.below(3) {
            // Runs of one unit: overlapping occurrences of one pair.
            0 => vec![letters.start + rng.below(2) as u32; len],
            // Few distinct units: many repeated pairs.
            1 => (0..len).map(|_| letters.start + rng.below(2) as u32).collect(),
            _ => (0..len).map(|_| letters.start + rng.below(width) as u32).collect(),
        }
    }

    #[test]
    fn short_words_merge_as_the_general_path_and_the_reference() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for count in [1, 3, 10, 40, 150] {
            for _ in 0..20 {
                let (table, _) = table(&mut rng, count);
                for _ in 0..300 {
                    let longest = if rng.below(4) == 0 { 150 } else { 70 };
                    let len = 2 + rng.below(longest);
                    let word = random_word(&mut rng, len);
                    let expected = reference(&table, &word);
                    let mut fast = word.clone();
                    let n = table.merge_word(&mut fast);
                    assert_eq!(&fast[..n], &expected[..], "merge_word on {word:?}");
                    let mut general = word.clone();
                    let n = table.merge_as::<u16>(&mut general);
                    assert_eq!(&general[..n], &expected[..], "merge_as on {word:?}");
                }
            }
        }
    }

    #[test]
    fn the_word_cache_gives_fresh_ids_past_its_bounds() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (table, _) = table(&mut rng, 60);
        let dot = 262u32;
        // More distinct words than the cache holds: it is emptied and refilled, and
        // every word, new or met again, merges as afresh.
        let words: Vec<Vec<u32>> = (0..CACHE_MAX_WORDS + 5000)
            .map(|i| {
                let mut word = random_word(&mut rng, 3 + i % 40);
                word[0] = 256 + (i % 4) as u32;
                word.extend((0..8).map(|bit| 256 + ((i >> (2 * bit)) & 3) as u32));
                word
            })
            .collect();
        for round in 0..2 {
            for chunk in words.chunks(7) {
                let mut text: Vec<u32> = vec![dot];
                for word in chunk {
                    text.extend_from_slice(word);
                    text.push(dot);
                }
                let mut cached = text.clone();
                table.apply(&mut cached, 1);
                let mut fresh = text.clone();
                table.apply_uncached(&mut fresh, 1);
                assert_eq!(cached, fresh, "round {round}");
            }
        }
    }

    /// Fill `map` with `count` words of up to `longest` units (merged afresh when not
    /// cached), checking every word met again against a fresh merge; returns how often
    /// the map was emptied.
    fn fill(table: &Merges, map: &mut WordMap, rng: &mut Rng, count: usize, longest: usize) -> usize {
        let mut flushes = 0;
        let mut kept: Vec<Vec<u32>> = Vec::new();
        for _ in 0..count {
            // A new word, or one inserted since the map was last emptied.
            let word = if !kept.is_empty() && rng.below(3) == 0 {
                kept[rng.below(kept.len())].clone()
            } else {
                let len = CACHE_MIN_WORD + rng.below(longest);
                random_word(rng, len)
            };
            let mut fresh = word.clone();
            let fresh_len = table.merge_word(&mut fresh);
            let hash = WordMap::hash(&word);
            if let Some(merged) = map.get(hash, &word) {
                assert_eq!(merged, &fresh[..fresh_len], "cached {word:?}");
                continue;
            }
            // Whatever was inserted since the last emptying is still there.
            assert!(!kept.contains(&word), "lost {word:?}");
            let before = map.words;
            let mut merged = word.clone();
            let len = map.merge_in(hash, &mut merged, |w| table.merge_word(w));
            assert_eq!(&merged[..len], &fresh[..fresh_len]);
            if map.words <= before {
                flushes += 1;
                kept.clear();
            }
            kept.push(word);
            assert!(map.words <= map.max_words && map.arena.len() <= map.max_arena);
            assert!(map.slots.len() <= 2 * map.max_words.next_power_of_two());
        }
        flushes
    }

    #[test]
    fn the_word_map_finds_its_words_and_keeps_its_bounds() {
        let mut rng = Rng(0x1234_5678_9ABC_DEF1);
        let (table, _) = table(&mut rng, 80);
        // The word count binds first...
        let mut by_count = WordMap::new(300, 1 << 20);
        assert!(fill(&table, &mut by_count, &mut rng, 3000, 30) >= 5);
        // ... or the arena (long words too).
        let mut by_arena = WordMap::new(100_000, 20_000);
        assert!(fill(&table, &mut by_arena, &mut rng, 3000, 300) >= 5);
    }

    fn cached_tables() -> Vec<u64> {
        WORDS.with(|cache| cache.borrow().tables.iter().map(|(id, _, _)| *id).collect())
    }

    #[test]
    fn a_dropped_table_leaves_the_word_caches() {
        let mut rng = Rng(0x0DDB_A11C_0FFE_E123);
        let text: Vec<u32> = vec![256, 257, 258, 259, 262, 256, 256, 257];
        let (first, _) = table(&mut rng, 30);
        let clone = first.clone();
        first.apply(&mut text.clone(), 0);
        let kept = first.table_id;
        assert!(cached_tables().contains(&kept));
        drop(first);
        // A clone keeps the table alive.
        let (second, _) = table(&mut rng, 30);
        second.apply(&mut text.clone(), 0);
        assert!(cached_tables().contains(&kept) && cached_tables().contains(&second.table_id));
        drop(clone);
        let (third, _) = table(&mut rng, 30);
        third.apply(&mut text.clone(), 0);
        let tables = cached_tables();
        assert!(!tables.contains(&kept), "{tables:?}");
        assert!(tables.contains(&second.table_id) && tables.contains(&third.table_id));
    }

    #[test]
    fn rows_merge_as_each_row_alone() {
        let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
        let (table, _) = table(&mut rng, 60);
        let dot = 262u32;
        for _ in 0..300 {
            // Empty rows, rows of one short word, rows of several words split by dots;
            // more than one block of words per call.
            let rows: Vec<Vec<u32>> = (0..rng.below(40))
                .map(|_| match rng.below(4) {
                    0 => Vec::new(),
                    1 => {
                        let len = 1 + rng.below(3);
                        random_word(&mut rng, len)
                    }
                    _ => {
                        let len = 1 + rng.below(90);
                        let mut row = random_word(&mut rng, len);
                        for _ in 0..rng.below(4) {
                            let at = rng.below(row.len() + 1);
                            row.insert(at, dot);
                        }
                        row
                    }
                })
                .collect();
            let mut expected: Vec<u32> = vec![7, 7];
            let mut expected_lens = Vec::new();
            for row in &rows {
                let mut merged = row.clone();
                table.apply_uncached(&mut merged, 0);
                expected_lens.push(merged.len());
                expected.extend(merged);
            }
            // Twice: words new to this thread's cache, then met again.
            for _ in 0..2 {
                let mut ids: Vec<u32> = vec![7, 7];
                let mut lens: Vec<usize> = rows.iter().map(Vec::len).collect();
                for row in &rows {
                    ids.extend_from_slice(row);
                }
                table.apply_rows(&mut ids, 2, &mut lens);
                assert_eq!(ids, expected, "rows {rows:?}");
                assert_eq!(lens, expected_lens, "rows {rows:?}");
            }
        }
    }
}
