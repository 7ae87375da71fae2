//! A backtracking encoder for merge words that gives the ids of `apply_merges`
//! (merges.rs) while consuming several units per step, after the idea of the
//! backtracking encoder of GitHub's rust-gems `bpe` crate (written anew here for
//! tokens over unit ids and for `apply_merges`' rounds).
//!
//! # Why it gives the same ids
//!
//! *Rounds equal one merge at a time.* Call a table *ordered* when every merge has a
//! higher rank than the merges that make its two parts, and no token is made by two
//! merges. `apply_merges` merges, per round, every non-overlapping occurrence of the
//! lowest-ranked pair, left to right; standard BPE merges the leftmost occurrence of
//! the lowest-ranked pair, one at a time. After standard BPE merges an occurrence of
//! rank `r` into `M`, the only new pairs contain `M`, whose merges rank above `r` in an
//! ordered table; so the lowest rank stays `r` while occurrences remain, the next one
//! taken is the leftmost occurrence left (the next non-overlapping one: `M` differs
//! from both parts, so no new pair has rank `r`), and the two rules agree.
//!
//! *Forms.* In an ordered table a token has one merge tree, except that a token which
//! is also a unit (`1` + `2` = `12`) appears either as the unit or built by its merge,
//! and so does every token built on it. The encoder works on *forms*: a token with one
//! tree (unit ids first, their unit form; then the forms of each merge over the forms
//! of its parts). A form's unit sequence is its leaves; distinct forms have distinct
//! sequences (a form's leaves spell the token's bytes, and units are not empty).
//!
//! *A pair of forms is valid* when merging the leaves of `a` then `b` gives `[a, b]`.
//! Merging them, the right edge of `a` is, over time, the chain `a`, right part of `a`,
//! its right part ... down to a unit: each link lives from the rank that made it to
//! the rank that made the link above. The left edge of `b` likewise. If no pair across
//! the edge merges, both halves merge as they would alone; the first crossing merge is
//! a pair `(x, y)` of two links alive at its rank, so the check walks the two chains
//! back in time (one pair per interval, as in rust-gems) and tests each pair's rank
//! against the interval where both are alive. Ties go to the leftmost pair: the
//! crossing pair loses to `a`'s last merge and wins over `b`'s first.
//!
//! *The encoding is the one sequence of reachable forms whose adjacent pairs are all
//! valid* (reachable: merging its own leaves gives the form): in such a sequence the
//! earliest crossing merge would be across one adjacent pair, which validity rules
//! out, and every form merges to itself. The encoder looks for it depth first: at a
//! position the longest form of the trie first, then shorter prefixes, and back one
//! form when none fits. A position from which nothing fits is not a boundary of the
//! encoding (a valid sequence up to a boundary is the encoding of that prefix, from
//! which the encoding's next form fits), so it is crossed off and never tried again.
//!
//! A table that is not ordered (or has too many forms) gets no encoder and keeps the
//! round-by-round path; so does a word holding an id that is not a unit.

use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use crate::merges::{Merges, PairTable};

const NONE: u32 = u32::MAX;

/// At most this many forms per compact token on average; beyond, no encoder.
const MAX_FORMS_PER_TOKEN: usize = 4;

/// Validity of pairs of forms met before: `2^MEMO_BITS` direct-mapped entries of
/// `(a << 32 | b) << 1 | valid` (`u64::MAX`: empty), 128 KiB. Shared by the batch
/// threads without a lock: an entry is one relaxed atomic word, and a pair's validity
/// never changes, so a racing store only ever writes a right answer.
struct Memo(Box<[AtomicU64]>);

const MEMO_BITS: u32 = 13;

impl Memo {
    fn new() -> Self {
        Memo((0..1usize << MEMO_BITS).map(|_| AtomicU64::new(u64::MAX)).collect())
    }
}

impl Clone for Memo {
    /// An empty memo (it only ever holds what `valid` would answer).
    fn clone(&self) -> Self {
        Memo::new()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

/// The trie of reachable forms over unit ids, with nodes numbered in depth-first
/// order (unit `u`'s node is `u`) and each node's children next to each other, so a
/// walk down a long token mostly reads neighbouring memory (a hash table of edges
/// costs a cache miss per unit).
#[derive(Clone, Debug)]
struct Trie {
    /// By node: its children start at `kids[first[node]]` (one more entry at the end).
    first: Vec<u32>,
    /// `(unit, child)`, sorted by unit within each node.
    kids: Vec<(u32, u32)>,
    /// By node: its reachable form, or `NONE`.
    form_at: Vec<u32>,
}

impl Trie {
    /// From edges `(node << 32 | unit) -> child` and each node's form, over nodes
    /// numbered with units first.
    fn new(edges: &FxHashMap<u64, u32>, form_at: Vec<u32>, units: usize) -> Option<Self> {
        let nodes = form_at.len();
        let mut children: Vec<Vec<(u32, u32)>> = vec![Vec::new(); nodes];
        for (&k, &child) in edges {
            children.get_mut(usize::try_from(k >> 32).ok()?)?.push((k as u32, child));
        }
        for list in &mut children {
            list.sort_unstable();
        }
        // Depth-first numbering below each unit.
        let mut number = vec![NONE; nodes];
        let mut order: Vec<u32> = (0..units as u32).collect();
        for (unit, slot) in number.iter_mut().enumerate().take(units) {
            *slot = unit as u32;
        }
        let mut stack = Vec::new();
        for root in 0..units {
            stack.extend(children[root].iter().rev().map(|&(_, c)| c));
            while let Some(node) = stack.pop() {
                number[node as usize] = order.len() as u32;
                order.push(node);
                stack.extend(children[node as usize].iter().rev().map(|&(_, c)| c));
            }
        }
        let mut first = Vec::with_capacity(nodes + 1);
        let mut kids = Vec::with_capacity(edges.len());
        for &old in &order {
            first.push(u32::try_from(kids.len()).ok()?);
            kids.extend(children[old as usize].iter().map(|&(unit, c)| (unit, number[c as usize])));
        }
        first.push(u32::try_from(kids.len()).ok()?);
        let form_at = order.iter().map(|&old| form_at[old as usize]).collect();
        Some(Trie { first, kids, form_at })
    }

    /// The child of `node` by `unit`, or `NONE`.
    #[inline(always)]
    fn child(&self, node: u32, unit: u32) -> u32 {
        let (start, end) = (self.first[node as usize] as usize, self.first[node as usize + 1] as usize);
        let kids = &self.kids[start..end];
        if kids.len() <= 8 {
            kids.iter().find(|k| k.0 == unit).map_or(NONE, |k| k.1)
        } else {
            kids.binary_search_by_key(&unit, |k| k.0).map_or(NONE, |i| kids[i].1)
        }
    }
}

/// One form, in 32 bytes (two per cache line: the encoder reads all of one form's
/// fields together).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
struct Form {
    /// The compact id it writes.
    id: u32,
    /// Left and right part forms (`NONE` for a unit).
    left: u32,
    right: u32,
    /// The rank of the merge that made it, plus one (0 for a unit).
    born: u32,
    /// Its number of units.
    units: u32,
    /// The longest reachable form whose leaves are a proper prefix of its leaves
    /// (`NONE` for a unit).
    shorter: u32,
    /// Bit 0 set when its token is the left part of a merge, bit 1 when the right part
    /// (a pair whose sides lack these bits has no rank: no lookup).
    sides: u8,
}

/// The trie of reachable forms over unit ids and each form's tree.
#[derive(Clone, Debug)]
pub(crate) struct Backtrack {
    /// By form number.
    form: Vec<Form>,
    /// Unit ids are below this; a unit's trie node and form have its number.
    root_len: u32,
    trie: Trie,
    memo: Memo,
}

#[inline]
fn key(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

impl Backtrack {
    /// The encoder of `table`, whose live merges are `merges` (`(left, right,
    /// merged)` ids with their rank), over `units` unit ids; `None` when the table is
    /// not ordered, a form is unreachable in a way the trie cannot hold, or there are
    /// too many forms.
    pub(crate) fn new(table: &Merges, merges: &[(u32, u32, u32, u32)], units: usize, len: usize) -> Option<Self> {
        let units32 = u32::try_from(units).ok()?;
        // Ordered: one merge per token, above the merges of its parts.
        let mut made_at = vec![NONE; len];
        for &(_, _, merged, rank) in merges {
            let slot = made_at.get_mut(merged as usize)?;
            if *slot != NONE {
                return None;
            }
            *slot = rank;
        }
        for &(left, right, _, rank) in merges {
            for part in [left, right] {
                let made = *made_at.get(part as usize)?;
                if made != NONE && made >= rank {
                    return None;
                }
            }
        }
        // Forms, in rank order (a merge's parts come before it).
        let mut id: Vec<u32> = (0..units32).collect();
        let mut parts = vec![(NONE, NONE); units];
        let mut born = vec![0u32; units];
        let mut leaves = vec![1u32; units];
        let mut forms_of: Vec<Vec<u32>> = (0..len)
            .map(|t| if t < units { vec![t as u32] } else { Vec::new() })
            .collect();
        let mut token_sides = vec![0u8; len];
        for &(left, right, _, _) in merges {
            *token_sides.get_mut(left as usize)? |= 1;
            *token_sides.get_mut(right as usize)? |= 2;
        }
        let mut order: Vec<&(u32, u32, u32, u32)> = merges.iter().collect();
        order.sort_by_key(|m| m.3);
        for &&(left, right, merged, rank) in &order {
            let lefts = forms_of[left as usize].clone();
            let rights = forms_of[right as usize].clone();
            for &l in &lefts {
                for &r in &rights {
                    let form = id.len() as u32;
                    id.push(merged);
                    parts.push((l, r));
                    born.push(rank.checked_add(1)?);
                    leaves.push(leaves[l as usize] + leaves[r as usize]);
                    forms_of[merged as usize].push(form);
                    if id.len() > len.saturating_mul(MAX_FORMS_PER_TOKEN) || id.len() >= 1 << 31 {
                        return None;
                    }
                }
            }
        }
        // Reachable forms: merging their leaves gives the token. A form's leaves:
        let leaf_list = |form: u32, out: &mut Vec<u32>| {
            let mut stack = vec![form];
            while let Some(f) = stack.pop() {
                let (l, r) = parts[f as usize];
                if l == NONE {
                    out.push(f);
                } else {
                    stack.push(r);
                    stack.push(l);
                }
            }
        };
        let mut reachable = vec![true; id.len()];
        let mut word = Vec::new();
        for form in units..id.len() {
            word.clear();
            leaf_list(form as u32, &mut word);
            let n = table.merge_rounds(&mut word);
            reachable[form] = n == 1 && word[0] == id[form];
        }
        // The trie: node = unit id for the first unit; deeper nodes numbered on.
        let mut edges: FxHashMap<u64, u32> = FxHashMap::default();
        let mut form_at: Vec<u32> = (0..units32).collect();
        let mut node_of = vec![NONE; id.len()];
        for (form, slot) in node_of.iter_mut().enumerate().take(units) {
            *slot = form as u32;
        }
        let mut path = Vec::new();
        for form in units..id.len() {
            if !reachable[form] {
                continue;
            }
            path.clear();
            leaf_list(form as u32, &mut path);
            let mut node = path[0];
            for &unit in &path[1..] {
                let next = form_at.len() as u32;
                node = *edges.entry(key(node, unit)).or_insert(next);
                if node == next {
                    form_at.push(NONE);
                }
            }
            if form_at[node as usize] != NONE {
                return None; // two forms, one unit sequence: cannot happen (see above)
            }
            form_at[node as usize] = form as u32;
            node_of[form] = node;
        }
        // The longest shorter prefix form of each reachable form: walk its leaves.
        let trie = PairTable::new(&edges);
        let mut shorter = vec![NONE; id.len()];
        for form in units..id.len() {
            if !reachable[form] {
                continue;
            }
            path.clear();
            leaf_list(form as u32, &mut path);
            let mut node = path[0];
            let mut best = form_at[node as usize];
            for &unit in &path[1..path.len() - 1] {
                node = trie.get(key(node, unit));
                if form_at[node as usize] != NONE {
                    best = form_at[node as usize];
                }
            }
            shorter[form] = best;
        }
        let sides: Vec<u8> = id.iter().map(|&t| token_sides[t as usize]).collect();
        let trie = Trie::new(&edges, form_at, units)?;
        let form = (0..id.len())
            .map(|f| Form {
                id: id[f],
                left: parts[f].0,
                right: parts[f].1,
                born: born[f],
                units: leaves[f],
                shorter: shorter[f],
                sides: sides[f],
            })
            .collect();
        Some(Backtrack {
            form,
            root_len: units32,
            trie,
            memo: Memo::new(),
        })
    }

    /// The longest reachable form starting at `word[0]` (a unit id).
    #[inline]
    fn longest(&self, word: &[u32]) -> u32 {
        let mut node = word[0];
        let mut best = node;
        for &unit in &word[1..] {
            node = self.trie.child(node, unit);
            if node == NONE {
                break;
            }
            let form = self.trie.form_at[node as usize];
            if form != NONE {
                best = form;
            }
        }
        best
    }

    /// [`Backtrack::valid`] through the memo.
    #[inline]
    fn valid_memo(&self, table: &Merges, a: u32, b: u32) -> bool {
        let pair = (u64::from(a) << 32) | u64::from(b);
        let slot = &self.memo.0[(pair.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - MEMO_BITS)) as usize];
        let entry = slot.load(Ordering::Relaxed);
        if entry >> 1 == pair {
            return entry & 1 == 1;
        }
        let valid = self.valid(table, a, b);
        slot.store((pair << 1) | u64::from(valid), Ordering::Relaxed);
        valid
    }

    /// Whether merging the leaves of form `a` then form `b` gives `[a, b]` (forms are
    /// below `2^31`, so a memo entry holds both and the answer).
    #[inline]
    fn valid(&self, table: &Merges, a: u32, b: u32) -> bool {
        let (mut x, mut y) = (&self.form[a as usize], &self.form[b as usize]);
        // `x` is alive for ranks+1 in (born[x], x_end), `y` in (born[y], y_end].
        let (mut x_end, mut y_end) = (u32::MAX, u32::MAX);
        loop {
            let rank = if x.sides & 1 != 0 && y.sides & 2 != 0 {
                table.rank(x.id, y.id)
            } else {
                NONE
            };
            if rank != NONE {
                let t = rank + 1;
                if t > x.born.max(y.born) && t < x_end && t <= y_end {
                    return false;
                }
            }
            let (bx, by) = (x.born, y.born);
            if bx == 0 && by == 0 {
                return true;
            }
            if bx >= by {
                x_end = bx;
                x = &self.form[x.right as usize];
            }
            if by >= bx {
                y_end = by;
                y = &self.form[y.left as usize];
            }
        }
    }

    /// `apply_merges` on one word of unit ids, in place: the merged length, or `None`
    /// (word untouched) for a word this encoder does not take.
    pub(crate) fn merge_word(&self, table: &Merges, word: &mut [u32]) -> Option<usize> {
        let n = word.len();
        if n > 255 || word.iter().any(|&u| u >= self.root_len) {
            return None;
        }
        // Positions 0..=n that may still end a form.
        let mut open = [u64::MAX; 4];
        let mut stack = [0u32; 256];
        let mut depth = 0usize;
        let mut pos = 0usize;
        let mut next = self.longest(word);
        while pos < n {
            let mut form = next;
            loop {
                let end = pos + self.form[form as usize].units as usize;
                if open[end / 64] & (1u64 << (end % 64)) != 0
                    && (depth == 0 || self.valid_memo(table, stack[depth - 1], form))
                {
                    stack[depth] = form;
                    depth += 1;
                    pos = end;
                    if pos < n {
                        next = self.longest(&word[pos..]);
                    }
                    break;
                }
                let shorter = self.form[form as usize].shorter;
                if shorter != NONE {
                    form = shorter;
                    continue;
                }
                // Nothing fits at `pos`: cross it off and take back the last form.
                open[pos / 64] &= !(1u64 << (pos % 64));
                if depth == 0 {
                    return None; // unreachable: the encoding fits
                }
                depth -= 1;
                let last = stack[depth];
                pos -= self.form[last as usize].units as usize;
                next = last;
                break;
            }
        }
        for (slot, &form) in word.iter_mut().zip(&stack[..depth]) {
            *slot = self.form[form as usize].id;
        }
        Some(depth)
    }
}

#[cfg(test)]
mod tests {
    //! The backtracking encoder against the merge rounds (the oracle, itself tested
    //! against `apply_merges` in merges.rs and tests.rs) on many random tables.

    use super::*;
    use crate::merges::MergeSpec;
    use crate::vocab::Vocab;

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

    /// Letters `a`..`d`, then two-letter units a merge can make (`a` + `b` = `ab`).
    const LETTERS: [&str; 6] = ["a", "b", "c", "d", "ab", "ba"];

    /// A random table of up to `count` merges. `ordered`: skip merges that would make
    /// a token twice or make a token already used as a part (the tables the encoder
    /// takes); otherwise anything goes (a pair again, `ab` made after use...).
    fn table(rng: &mut Rng, count: usize, ordered: bool) -> Merges {
        let mut units: Vec<String> = (0..=255u8).map(crate::byte_token).collect();
        units.extend(LETTERS.map(String::from));
        units.push(".".into());
        let mut tokens = units.clone();
        let mut pool: Vec<String> = LETTERS.map(String::from).to_vec();
        let mut made: Vec<String> = Vec::new();
        let mut used: Vec<String> = Vec::new();
        let mut merges = Vec::new();
        for _ in 0..count {
            let left = pool[rng.below(pool.len())].clone();
            let right = pool[rng.below(pool.len())].clone();
            let joined = format!("{left}{right}");
            if joined.len() > 10 || (ordered && (made.contains(&joined) || used.contains(&joined))) {
                continue;
            }
            made.push(joined.clone());
            used.extend([left.clone(), right.clone()]);
            if !tokens.contains(&joined) {
                tokens.push(joined.clone());
                pool.push(joined);
            }
            merges.push((left.into_bytes(), right.into_bytes()));
        }
        let spec = MergeSpec {
            merges,
            separators: vec![b".".to_vec()],
            groups: Vec::new(),
        };
        let vocab = Vocab::new(&units).expect("units");
        Merges::new(&vocab, &units, &tokens, &spec).expect("table")
    }

    fn random_word(rng: &mut Rng, len: usize) -> Vec<u32> {
        let width = LETTERS.len();
        match rng.below(3) {
            0 => vec![256 + rng.below(2) as u32; len],
            1 => (0..len).map(|_| 256 + rng.below(2) as u32).collect(),
            _ => (0..len).map(|_| 256 + rng.below(width) as u32).collect(),
        }
    }

    #[test]
    fn backtracking_gives_the_ids_of_the_merge_rounds() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut taken, mut refused) = (0, 0);
        for count in [1, 3, 10, 40, 150, 400] {
            for trial in 0..40 {
                let table = table(&mut rng, count, trial % 4 != 0);
                let Some(backtrack) = table.backtrack() else {
                    refused += 1;
                    continue;
                };
                taken += 1;
                for _ in 0..300 {
                    let longest = if rng.below(4) == 0 { 200 } else { 40 };
                    let len = 1 + rng.below(longest);
                    let word = random_word(&mut rng, len);
                    let mut rounds = word.clone();
                    let n = table.merge_rounds(&mut rounds);
                    // The encoder itself, not its fall-back to the rounds.
                    let mut fast = word.clone();
                    let m = backtrack
                        .merge_word(&table, &mut fast)
                        .expect("the encoder takes the word");
                    assert_eq!(&fast[..m], &rounds[..n], "word {word:?}");
                }
            }
        }
        // Both kinds of table occur: the test exercises the encoder and the fall-back.
        assert!(taken > 150 && refused > 10, "taken {taken}, refused {refused}");
    }

    /// The shipped compact model (chemtok/data/smiles_compact.json over the atom-level
    /// vocabulary, as the binding builds it) takes the encoder, which agrees with the
    /// rounds on random runs of its tokens' units (tests/test_compact_encoder.py
    /// compares whole SMILES with the Python reference).
    #[test]
    fn the_shipped_table_backtracks() {
        let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("..");
        let read = |path: &[&str]| -> String {
            let file = path.iter().fold(repo.clone(), |p, part| p.join(part));
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        };
        let markers: toml::Value = toml::from_str(&read(&["grammars", "markers.toml"])).expect("markers");
        let strings = |value: &serde_json::Value| -> Vec<String> {
            value
                .as_array()
                .expect("list")
                .iter()
                .map(|t| t.as_str().expect("string").to_owned())
                .collect()
        };
        let mut units: Vec<String> = markers["special_tokens"]
            .as_array()
            .expect("special tokens")
            .iter()
            .map(|t| t.as_str().expect("token").to_owned())
            .collect();
        units.extend((0..=255u8).map(crate::byte_token));
        let vocab: serde_json::Value =
            serde_json::from_str(&read(&["chemtok", "data", "smiles_vocab.json"])).expect("vocab");
        units.extend(strings(&vocab["tokens"]));
        let model: serde_json::Value =
            serde_json::from_str(&read(&["chemtok", "data", "smiles_compact.json"])).expect("model");
        let merges: Vec<(Vec<u8>, Vec<u8>)> = model["merges"]
            .as_array()
            .expect("merges")
            .iter()
            .map(|m| {
                let m = strings(m);
                (m[0].clone().into_bytes(), m[1].clone().into_bytes())
            })
            .collect();
        let mut tokens = units.clone();
        for (l, r) in &merges {
            let joined = String::from_utf8([l.clone(), r.clone()].concat()).expect("utf-8");
            if !tokens.contains(&joined) {
                tokens.push(joined);
            }
        }
        let spec = MergeSpec {
            merges,
            separators: Vec::new(),
            groups: Vec::new(),
        };
        let table = Merges::new(&Vocab::new(&units).expect("units"), &units, &tokens, &spec).expect("table");
        let backtrack = table.backtrack().expect("the shipped table takes the encoder");
        // Words made of the leaves of random forms (real SMILES pieces, in odd orders).
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let forms = backtrack.form.len() as u32;
        let mut words = Vec::new();
        for _ in 0..20_000 {
            let mut word = Vec::new();
            for _ in 0..1 + rng.below(8) {
                let mut form = rng.below(forms as usize) as u32;
                let mut stack = vec![];
                loop {
                    let (l, r) = (backtrack.form[form as usize].left, backtrack.form[form as usize].right);
                    if l == NONE {
                        word.push(form);
                        match stack.pop() {
                            Some(next) => form = next,
                            None => break,
                        }
                    } else {
                        stack.push(r);
                        form = l;
                    }
                }
            }
            let mut rounds = word.clone();
            let n = table.merge_rounds(&mut rounds);
            let mut fast = word.clone();
            let m = backtrack
                .merge_word(&table, &mut fast)
                .expect("the encoder takes the word");
            assert_eq!(&fast[..m], &rounds[..n], "word {word:?}");
            words.push(word);
        }
        let t0 = std::time::Instant::now();
        let mut total = 0;
        for w in &words {
            let mut x = w.clone();
            total += table.merge_rounds(&mut x);
        }
        let t1 = std::time::Instant::now();
        for w in &words {
            let mut x = w.clone();
            total += backtrack.merge_word(&table, &mut x).unwrap();
        }
        let t2 = std::time::Instant::now();
        eprintln!(
            "TIMING rounds {:?} bt {:?} units {} {total}",
            t1 - t0,
            t2 - t1,
            words.iter().map(|w| w.len()).sum::<usize>()
        );
    }

    #[test]
    fn unordered_tables_keep_the_rounds() {
        let units: Vec<String> = (0..=255u8)
            .map(crate::byte_token)
            .chain(["a", "b", "ab"].map(String::from))
            .collect();
        let vocab = Vocab::new(&units).expect("units");
        let abb = [units.clone(), vec!["abb".into(), "bb".into()]].concat();
        let spec = |merges: &[(&str, &str)]| MergeSpec {
            merges: merges
                .iter()
                .map(|(l, r)| (l.as_bytes().to_vec(), r.as_bytes().to_vec()))
                .collect(),
            separators: Vec::new(),
            groups: Vec::new(),
        };
        // `ab` used (rank 0) before a merge makes it (rank 1): refused.
        let late = Merges::new(&vocab, &units, &abb, &spec(&[("ab", "b"), ("a", "b")])).expect("table");
        assert!(late.backtrack().is_none());
        // `abb` made two ways: refused.
        let twice = Merges::new(
            &vocab,
            &units,
            &abb,
            &spec(&[("a", "b"), ("b", "b"), ("ab", "b"), ("a", "bb")]),
        )
        .expect("table");
        assert!(twice.backtrack().is_none());
        // A merge making a unit, then used: taken, with both forms of `ab`.
        let unit = Merges::new(&vocab, &units, &abb, &spec(&[("a", "b"), ("ab", "b")])).expect("table");
        assert!(unit.backtrack().is_some());
        for word in [vec![256, 257, 257], vec![258, 257], vec![256, 258, 257, 256, 257]] {
            let mut rounds = word.clone();
            let n = unit.merge_rounds(&mut rounds);
            let mut fast = word.clone();
            let m = unit
                .backtrack()
                .and_then(|b| b.merge_word(&unit, &mut fast))
                .expect("taken");
            assert_eq!(&fast[..m], &rounds[..n]);
        }
    }
}
