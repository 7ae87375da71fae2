//! Unit tests against the shipped grammar and vocabulary files (read from the
//! repository, never copied). Expected tokens are what the Python reference gives;
//! `tests/test_native.py` checks full parity on random and real inputs.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use crate::merges::Merges;
use crate::{
    char_index, BatchError, Failure, InchiSpec, MergeSpec, NoRule, OnError, PropKind, Reason, SequenceSpec, SmilesSpec,
    Threads, Tokenizer, Vocab,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn toml_file(name: &str) -> toml::Value {
    let path = repo().join("grammars").join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn get<'a>(table: &'a toml::Value, dotted: &str) -> &'a toml::Value {
    dotted.split('.').fold(table, |t, key| {
        t.get(key).unwrap_or_else(|| panic!("missing key {dotted}"))
    })
}

fn string(table: &toml::Value, dotted: &str) -> String {
    get(table, dotted).as_str().expect(dotted).to_owned()
}

fn strings(table: &toml::Value, dotted: &str) -> Vec<String> {
    get(table, dotted)
        .as_array()
        .expect(dotted)
        .iter()
        .map(|v| v.as_str().expect(dotted).to_owned())
        .collect()
}

/// Special tokens, the 256 byte tokens, then the modality's tokens.
fn full_vocab(modality_tokens: Vec<String>) -> Vec<String> {
    let markers = toml_file("markers");
    let mut tokens = strings(&markers, "special_tokens");
    tokens.extend((0..=255u8).map(crate::byte_token));
    tokens.extend(modality_tokens);
    tokens
}

fn vocab_file(name: &str) -> Vec<String> {
    let path = repo().join("chemtok").join("data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let data: serde_json::Value = serde_json::from_str(&text).expect("vocabulary JSON");
    data["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .map(|v| v.as_str().expect("token").to_owned())
        .collect()
}

/// The engine spec Python generates for a shipped grammar (`chemtok.native.engine_spec`,
/// written to `specs/` by `scripts/write_native_specs.py`; `tests/test_native_spec.py`
/// keeps the files equal to what Python generates): exactly what the binding reads.
pub(crate) fn spec_file(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("specs")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn spec<T: serde::de::DeserializeOwned>(name: &str) -> T {
    T::deserialize(spec_file(name)).unwrap_or_else(|e| panic!("spec {name}: {e}"))
}

fn smiles_spec() -> SmilesSpec {
    spec("smiles")
}

pub(crate) fn smiles() -> Tokenizer {
    Tokenizer::smiles("smiles", &smiles_spec(), &full_vocab(vocab_file("smiles_vocab.json"))).expect("smiles tokenizer")
}

pub(crate) fn inchi() -> Tokenizer {
    let spec: InchiSpec = spec("inchi");
    Tokenizer::inchi("inchi", &spec, &full_vocab(vocab_file("inchi_vocab.json"))).expect("inchi tokenizer")
}

pub(crate) fn sequence(name: &str) -> Tokenizer {
    let spec: SequenceSpec = spec(name);
    Tokenizer::sequence(name, &spec, &full_vocab(spec.symbols.clone())).expect("sequence tokenizer")
}

/// Token strings of `text` under `policy`, or (char position, reason code).
fn tokens(tok: &Tokenizer, text: &str, policy: OnError) -> Result<Vec<String>, (usize, &'static str)> {
    let vocab = full_vocab_of(tok);
    match tok.encode(text.as_bytes(), policy) {
        Ok(ids) => Ok(ids.iter().map(|&id| vocab[id as usize].clone()).collect()),
        Err(Failure::NoRule(NoRule { pos, reason })) => Err((char_index(text.as_bytes(), pos), reason.code())),
        Err(other) => panic!("unexpected failure {other:?}"),
    }
}

fn full_vocab_of(tok: &Tokenizer) -> Vec<String> {
    match tok.modality() {
        "smiles" => full_vocab(vocab_file("smiles_vocab.json")),
        "inchi" => full_vocab(vocab_file("inchi_vocab.json")),
        name => full_vocab(spec::<SequenceSpec>(name).symbols),
    }
}

fn ok(tok: &Tokenizer, text: &str) -> Vec<String> {
    tokens(tok, text, OnError::Raise).unwrap_or_else(|e| panic!("{text:?} failed: {e:?}"))
}

fn err(tok: &Tokenizer, text: &str) -> (usize, &'static str) {
    match tokens(tok, text, OnError::Raise) {
        Ok(t) => panic!("{text:?} gave {t:?}"),
        Err(e) => e,
    }
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const NO_LEXEME: &str = "smiles_no_lexeme";

#[test]
fn smiles_top_level() {
    let t = smiles();
    assert_eq!(ok(&t, "ClCBr"), v(&["Cl", "C", "Br"]));
    assert_eq!(
        ok(&t, "C[C@@H](N)C(=O)O"),
        v(&["C", "[C@@H]", "(", "N", ")", "C", "(", "=", "O", ")", "O"])
    );
    assert_eq!(ok(&t, "C%12C%12"), v(&["C", "%12", "C", "%12"]));
    assert_eq!(ok(&t, "[se]C->[Fe]<-N"), v(&["[se]", "C", "->", "[Fe]", "<-", "N"]));
    assert_eq!(ok(&t, "CC>>C.C"), v(&["C", "C", ">>", "C", ".", "C"]));
    assert_eq!(ok(&t, ""), Vec::<String>::new());
}

#[test]
fn smiles_ring_numbers_in_parentheses() {
    let t = smiles();
    // Learned: one token. Rare: spelled "%(", digits, ")".
    assert_eq!(ok(&t, "C%(123)CC%(123)"), v(&["C", "%(123)", "C", "C", "%(123)"]));
    assert_eq!(ok(&t, "C%(5000)C"), v(&["C", "%(", "5", "0", "0", "0", ")", "C"]));
    // Six digits are not a ring bond: "%" has no rule.
    assert_eq!(err(&t, "C%(99999)C%(123456)C"), (10, NO_LEXEME));
    assert_eq!(
        tokens(&t, "C%(123456)C", OnError::Fallback).expect("fallback"),
        v(&["C", "<0x25>", "(", "1", "2", "3", "4", "5", "6", ")", "C"])
    );
}

#[test]
fn smiles_bracket_spelling() {
    let t = smiles();
    assert_eq!(
        ok(&t, "[CH3:12][OH:13]>>[CH2:12]=[O:13]")[..5].to_vec(),
        v(&["[", "CH3", ":12", "]", "["])
    );
    assert_eq!(ok(&t, "[13CH3:12]"), v(&["[", "13", "CH3", ":12", "]"]));
    assert_eq!(ok(&t, "[CH5+18]"), v(&["[", "C", "H5", "+", "1", "8", "]"]));
    assert_eq!(ok(&t, "[C+++]"), v(&["[", "C", "+", "+", "+", "]"]));
    assert_eq!(
        ok(&t, "[Fe@OH30H2--:201]"),
        v(&["[", "Fe", "@OH30", "H2", "--", ":", "2", "0", "1", "]"])
    );
    assert_eq!(ok(&t, "[007Og@TB20]"), v(&["[", "0", "0", "7", "Og", "@TB20", "]"]));
}

#[test]
fn smiles_bracket_errors() {
    let t = smiles();
    let expect_property = "bracket_no_property";
    assert_eq!(err(&t, "[C"), (0, "bracket_not_closed"));
    assert_eq!(err(&t, "CC["), (2, "bracket_not_closed"));
    assert_eq!(err(&t, "[]"), (1, "bracket_no_symbol"));
    assert_eq!(err(&t, "[CH3H]"), (4, "bracket_repeated_hydrogen_count"));
    assert_eq!(err(&t, "[C+-]"), (3, "bracket_repeated_charge"));
    assert_eq!(err(&t, "[CH3:1:2]"), (6, "bracket_repeated_atom_class"));
    assert_eq!(err(&t, "[C++2]"), (4, expect_property));
    assert_eq!(err(&t, "[C:]"), (2, expect_property));
    assert_eq!(err(&t, "[C@@TH1H]"), (4, expect_property));
    assert_eq!(err(&t, "c1c[nH]c2c1fccc2"), (11, NO_LEXEME));
}

#[test]
fn policies_recover_at_the_lexeme_start() {
    let t = smiles();
    assert_eq!(err(&t, "C§C"), (1, NO_LEXEME));
    assert_eq!(err(&t, "Cé[C"), (1, NO_LEXEME));
    assert_eq!(
        tokens(&t, "C§C", OnError::Fallback).expect("ok"),
        v(&["C", "<0xC2>", "<0xA7>", "C"])
    );
    assert_eq!(tokens(&t, "C§C", OnError::Skip).expect("ok"), v(&["C", "C"]));
    // An unclosed bracket fails at "[": that one character is recovered.
    assert_eq!(tokens(&t, "[C", OnError::Fallback).expect("ok"), v(&["<0x5B>", "C"]));
    assert_eq!(
        tokens(&t, "Cé[Cx", OnError::Fallback).expect("ok"),
        v(&["C", "<0xC3>", "<0xA9>", "<0x5B>", "C", "<0x78>"])
    );
    assert_eq!(tokens(&t, "Cé[Cx", OnError::Skip).expect("ok"), v(&["C", "C"]));
    assert_eq!(
        tokens(&t, "[C+-]", OnError::Fallback).expect("ok"),
        v(&["<0x5B>", "C", "<0x2B>", "-", "<0x5D>"])
    );
    // An astral character is one position and four bytes.
    assert_eq!(err(&t, "C𝄞x"), (1, NO_LEXEME));
    assert_eq!(err(&t, "𝄞C["), (0, NO_LEXEME));
    assert_eq!(
        tokens(&t, "C𝄞", OnError::Fallback).expect("ok"),
        v(&["C", "<0xF0>", "<0x9D>", "<0x84>", "<0x9E>"])
    );
}

#[test]
fn lone_surrogates_as_wtf8() {
    let t = smiles();
    // "C\ud800C" as Python encodes it with surrogatepass.
    let text = b"C\xed\xa0\x80C";
    let ids = t.encode(text, OnError::Fallback).expect("fallback");
    let vocab = full_vocab_of(&t);
    let names: Vec<&str> = ids.iter().map(|&i| vocab[i as usize].as_str()).collect();
    assert_eq!(names, ["C", "<0xED>", "<0xA0>", "<0x80>", "C"]);
    match t.encode(text, OnError::Raise) {
        Err(Failure::NoRule(NoRule {
            pos,
            reason: Reason::SmilesNoLexeme,
        })) => assert_eq!(char_index(text, pos), 1),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn inchi_layers() {
    let t = inchi();
    assert_eq!(
        ok(&t, "InChI=1S/CH4O/c1-2/h2H,1H3"),
        v(&["InChI=1S", "/", "C", "H4", "O", "/c", "1", "-", "2", "/h", "2", "H", ",", "1", "H3"])
    );
    assert_eq!(
        ok(&t, "InChI=1/C2H6O/c1-2-3/h3H,2H2,1H3/i/hD")[20..].to_vec(),
        v(&["/i", "/h", "D"])
    );
    assert_eq!(
        ok(&t, "InChI=1S/C200H7/c1007"),
        v(&["InChI=1S", "/", "C", "200", "H7", "/c", "1", "0", "0", "7"])
    );
    assert_eq!(err(&t, "XInChI"), (0, "inchi_prefix"));
    let no_rule = "inchi_no_rule";
    assert_eq!(err(&t, "InChI=1S/Ab"), (9, no_rule));
    assert_eq!(err(&t, "InChI=1S/C/x/"), (11, no_rule));
    assert_eq!(
        tokens(&t, "XInChI", OnError::Fallback).expect("ok"),
        v(&["<0x58>", "In", "C", "h", "I"])
    );
    assert_eq!(
        tokens(&t, "InChI=1S/C/x/", OnError::Fallback).expect("ok"),
        v(&["InChI=1S", "/", "C", "/", "<0x78>", "/"])
    );
}

#[test]
fn sequences() {
    let protein = sequence("protein");
    assert_eq!(
        ok(&protein, "MKTAYIAK*"),
        v(&["M", "K", "T", "A", "Y", "I", "A", "K", "*"])
    );
    assert_eq!(ok(&protein, "mkX"), v(&["m", "k", "X"]));
    assert_eq!(err(&protein, "MK1"), (2, "sequence_no_rule"));
    let dna = sequence("dna");
    assert_eq!(ok(&dna, "ACGTnnRY"), v(&["A", "C", "G", "T", "n", "n", "R", "Y"]));
    assert_eq!(err(&dna, "ACGTJ"), (4, "sequence_no_rule"));
    assert_eq!(tokens(&dna, "AéC", OnError::Skip).expect("ok"), v(&["A", "C"]));
}

#[test]
fn batches_equal_single_calls_on_any_thread_count() {
    let t = smiles();
    let texts: Vec<String> = (0..5000)
        .map(|i| match i % 7 {
            0 => format!("C{}CC[C@@H](N)C(=O)O", i % 10),
            1 => "c1ccccc1[N+](=O)[O-]".to_owned(),
            2 => format!("[{}CH3:{}]>>C%(123)C", i % 300, i % 500),
            3 => "C§C".to_owned(),
            4 => String::new(),
            5 => "ClC(Br)(I)F.[Na+].[Cl-]".to_owned(),
            _ => format!("C%({})C", i),
        })
        .collect();
    for policy in [OnError::Fallback, OnError::Skip] {
        let singles: Vec<Vec<u32>> = texts
            .iter()
            .map(|s| t.encode(s.as_bytes(), policy).expect("single"))
            .collect();
        for threads in [
            Threads::All,
            Threads::Count(NonZeroUsize::MIN),
            Threads::Count(NonZeroUsize::new(3).expect("3")),
        ] {
            let batch = t.encode_batch(&texts, policy, threads).expect("batch");
            assert_eq!(batch.offsets.len(), texts.len() + 1);
            for (i, single) in singles.iter().enumerate() {
                let (a, b) = (batch.offsets[i] as usize, batch.offsets[i + 1] as usize);
                assert_eq!(&batch.ids[a..b], single.as_slice(), "text {i} with {threads:?}");
            }
        }
    }
    // Under "raise" the error is that of the first failing text, whatever the threads.
    for threads in [
        Threads::All,
        Threads::Count(NonZeroUsize::MIN),
        Threads::Count(NonZeroUsize::new(4).expect("4")),
    ] {
        match t.encode_batch(&texts, OnError::Raise, threads) {
            Err(BatchError::Text {
                index,
                failure: Failure::NoRule(NoRule { pos, .. }),
            }) => {
                assert_eq!((index, pos), (3, 1));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let empty: Vec<&[u8]> = Vec::new();
    let batch = t.encode_batch(&empty, OnError::Raise, Threads::All).expect("empty");
    assert_eq!((batch.ids.len(), batch.offsets), (0, vec![0]));
}

#[test]
fn encode_each_keeps_going_past_failures() {
    let t = smiles();
    let texts: Vec<String> = (0..3000)
        .map(|i| match i % 5 {
            0 => "C§C".to_owned(),
            1 => "c1ccccc1[N+](=O)[O-]".to_owned(),
            2 => "[Fe".to_owned(),
            3 => String::new(),
            _ => format!("C%({})C", i),
        })
        .collect();
    for threads in [
        Threads::All,
        Threads::Count(NonZeroUsize::MIN),
        Threads::Count(NonZeroUsize::new(3).expect("3")),
    ] {
        let rows = t.encode_each(&texts, OnError::Raise, threads).expect("rows");
        let mut expected_failures = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let (a, b) = (rows.batch.offsets[i] as usize, rows.batch.offsets[i + 1] as usize);
            match t.encode(text.as_bytes(), OnError::Raise) {
                Ok(single) => assert_eq!(&rows.batch.ids[a..b], single.as_slice(), "text {i} with {threads:?}"),
                Err(failure) => {
                    assert_eq!(a, b, "a failed text has an empty row");
                    expected_failures.push((i, failure));
                }
            }
        }
        assert_eq!(rows.failures, expected_failures, "{threads:?}");
        assert_eq!(rows.failures.len(), 1200);
    }
}

#[test]
fn bad_specs_are_errors_not_panics() {
    let mut spec = smiles_spec();
    spec.bracket_open.clear();
    assert!(Tokenizer::smiles("smiles", &spec, &full_vocab(vocab_file("smiles_vocab.json"))).is_err());
    // No byte-fallback block.
    assert!(Tokenizer::smiles("smiles", &smiles_spec(), &["C".to_owned()]).is_err());
    // Duplicate token.
    let mut tokens = full_vocab(vocab_file("smiles_vocab.json"));
    tokens.push("C".into());
    assert!(Tokenizer::smiles("smiles", &smiles_spec(), &tokens).is_err());
}

/// Every reason code the core returns has a message in the specs Python generates,
/// and every code is distinct (the Python table is keyed by them).
#[test]
fn every_reason_code_has_a_message_in_the_specs() {
    let specs: Vec<serde_json::Value> = ["smiles", "inchi", "protein", "dna", "selfies"]
        .iter()
        .map(|n| spec_file(n))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for reason in Reason::ALL {
        assert!(seen.insert(reason.code()), "duplicate code {}", reason.code());
        assert!(
            specs.iter().any(|s| s["reasons"][reason.code()].is_string()),
            "no spec has a message for {}",
            reason.code()
        );
    }
    assert_eq!(
        Reason::BracketRepeated(PropKind::AtomClass).code(),
        "bracket_repeated_atom_class"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let tokenizers = [smiles(), inchi(), sequence("protein"), sequence("dna")];
    // A small deterministic generator: no dependency, same inputs every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet: &[u8] = b"[]()%0123456789CcNnOHh@+-:=#$/\\.*>-<InChI=1S/Bre\xc2\xa7\xf0\x9d\x84\x9e\xed\xa0\x80";
    for _ in 0..20_000 {
        let len = (state % 24) as usize;
        let mut text = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        for t in &tokenizers {
            for policy in [OnError::Raise, OnError::Fallback, OnError::Skip] {
                match t.encode(&text, policy) {
                    Ok(_) | Err(Failure::NoRule(_)) => {}
                    Err(other) => panic!("{:?}: {other:?}", String::from_utf8_lossy(&text)),
                }
            }
        }
    }
}

// -- compact models: split_words + apply_merges (merges.rs) ---------------------------

/// A small deterministic generator (xorshift64): no dependency, same inputs every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn is_byte_token(unit: &str) -> bool {
    (0..=255u8).any(|b| crate::byte_token(b) == unit)
}

/// `split_words` of `chemtok/compact.py`, transcribed on strings.
fn split_words_ref(units: &[String], separators: &[&str], groups: &[(&str, &str)]) -> Vec<Vec<String>> {
    let closers: HashMap<&str, &str> = groups.iter().copied().collect();
    let mut words = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let (mut i, n) = (0, units.len());
    while i < n {
        let unit = units[i].as_str();
        let closer = closers.get(unit);
        if separators.contains(&unit) || closer.is_some() || is_byte_token(unit) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            let Some(closer) = closer else {
                words.push(vec![unit.to_owned()]);
                i += 1;
                continue;
            };
            let mut end = i + 1;
            while end < n && units[end] != *closer {
                end += 1;
            }
            words.push(units[i..(end + 1).min(n)].to_vec());
            i = end + 1;
            continue;
        }
        current.push(unit.to_owned());
        i += 1;
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// `apply_merges` of `chemtok/compact.py`, transcribed on strings.
fn apply_merges_ref(word: &[String], ranks: &HashMap<(String, String), usize>) -> Vec<String> {
    let mut parts = word.to_vec();
    while parts.len() > 1 {
        let mut best: Option<(usize, (String, String))> = None;
        for pair in parts.windows(2) {
            if let Some(&rank) = ranks.get(&(pair[0].clone(), pair[1].clone())) {
                if best.as_ref().map_or(true, |(r, _)| rank < *r) {
                    best = Some((rank, (pair[0].clone(), pair[1].clone())));
                }
            }
        }
        let Some((_, (left, right))) = best else {
            break;
        };
        let mut merged = Vec::with_capacity(parts.len());
        let mut i = 0;
        while i < parts.len() {
            if i + 1 < parts.len() && parts[i] == left && parts[i + 1] == right {
                merged.push(format!("{left}{right}"));
                i += 2;
            } else {
                merged.push(parts[i].clone());
                i += 1;
            }
        }
        parts = merged;
    }
    parts
}

/// `{pair: rank for rank, pair in enumerate(merges)}`: a repeated pair keeps its last rank.
fn rank_map(merges: &[(String, String)]) -> HashMap<(String, String), usize> {
    merges
        .iter()
        .cloned()
        .enumerate()
        .map(|(rank, pair)| (pair, rank))
        .collect()
}

/// The compact vocabulary as `SmilesTokenizer` builds it: the units, then each merged
/// token (in rank order) that is not already there.
fn compact_tokens(units: &[String], merges: &[(String, String)]) -> Vec<String> {
    let mut tokens = units.to_vec();
    let mut seen: std::collections::HashSet<String> = units.iter().cloned().collect();
    for (left, right) in merges {
        let joined = format!("{left}{right}");
        if seen.insert(joined.clone()) {
            tokens.push(joined);
        }
    }
    tokens
}

fn merge_spec(merges: &[(String, String)], separators: &[&str], groups: &[(&str, &str)]) -> MergeSpec {
    MergeSpec {
        merges: merges
            .iter()
            .map(|(l, r)| (l.clone().into_bytes(), r.clone().into_bytes()))
            .collect(),
        separators: separators.iter().map(|s| s.as_bytes().to_vec()).collect(),
        groups: groups
            .iter()
            .map(|(o, c)| (o.as_bytes().to_vec(), c.as_bytes().to_vec()))
            .collect(),
    }
}

/// The compact model shipped in chemtok/data (merges in rank order).
fn shipped_merges() -> Vec<(String, String)> {
    let path = repo().join("chemtok").join("data").join("smiles_compact.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let data: serde_json::Value = serde_json::from_str(&text).expect("model JSON");
    data["merges"]
        .as_array()
        .expect("merges")
        .iter()
        .map(|pair| {
            let pair = pair.as_array().expect("pair");
            (
                pair[0].as_str().expect("left").to_owned(),
                pair[1].as_str().expect("right").to_owned(),
            )
        })
        .collect()
}

/// The word rules of the shipped SMILES grammar (`WordRules.for_grammar`).
fn smiles_word_rules() -> (Vec<String>, Vec<(String, String)>) {
    let g = toml_file("smiles");
    let mut separators = vec![string(&g, "structure.dot")];
    separators.extend(strings(&g, "structure.reaction"));
    let groups = vec![
        (string(&g, "bracket.open"), string(&g, "bracket.close")),
        (
            string(&g, "ring_closure.percent_paren_open"),
            string(&g, "ring_closure.percent_paren_close"),
        ),
    ];
    (separators, groups)
}

#[test]
fn compact_smiles_matches_split_words_and_apply_merges() {
    let units = full_vocab(vocab_file("smiles_vocab.json"));
    let merges = shipped_merges();
    let tokens = compact_tokens(&units, &merges);
    let (separators, groups) = smiles_word_rules();
    let seps: Vec<&str> = separators.iter().map(String::as_str).collect();
    let grps: Vec<(&str, &str)> = groups.iter().map(|(o, c)| (o.as_str(), c.as_str())).collect();
    let spec = merge_spec(&merges, &seps, &grps);
    let atom = smiles();
    let compact = Tokenizer::smiles_compact("smiles", &smiles_spec(), &units, &tokens, &spec).expect("compact");
    assert_eq!(compact.vocab_size(), tokens.len());
    let ranks = rank_map(&merges);
    let names = |ids: &[u32]| -> Vec<String> { ids.iter().map(|&i| tokens[i as usize].clone()).collect() };

    let aspirin = compact
        .encode(b"CC(=O)Oc1ccccc1C(=O)O", OnError::Raise)
        .expect("aspirin");
    assert_eq!(names(&aspirin), v(&["CC(=O)O", "c1ccccc1", "C(=O)O"]));
    // A spelled bracket atom is a word of its own; "." and ">>" are words of their own.
    let mapped = compact.encode(b"[CH3:7][OH:8].CC>>CC", OnError::Raise).expect("mapped");
    assert!(names(&mapped)
        .iter()
        .all(|t| t.matches('[').count() <= 1 && !t.starts_with(']')));
    assert_eq!(names(&mapped).concat(), "[CH3:7][OH:8].CC>>CC");

    // Random SMILES-like text: tokens, ids and errors equal the reference composition.
    let parts = [
        "C",
        "c",
        "N",
        "n",
        "O",
        "o",
        "S",
        "Cl",
        "Br",
        "(",
        ")",
        "=",
        "#",
        "1",
        "2",
        "3",
        "%12",
        "%(123)",
        "%(5000)",
        "[C@@H]",
        "[nH]",
        "[CH3:12]",
        "[13CH3-]",
        "[Fe+2]",
        "[Os@OH5+3:9]",
        ".",
        ">",
        ">>",
        "->",
        "§",
        "é",
        "[C",
        "x",
    ];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..3000 {
        let text: String = (0..rng.below(40)).map(|_| *rng.pick(&parts)).collect();
        for policy in [OnError::Raise, OnError::Fallback, OnError::Skip] {
            let expected = match atom.encode(text.as_bytes(), policy) {
                Ok(ids) => {
                    let unit_names: Vec<String> = ids.iter().map(|&i| units[i as usize].clone()).collect();
                    let words = split_words_ref(&unit_names, &seps, &grps);
                    Ok(words
                        .iter()
                        .flat_map(|w| apply_merges_ref(w, &ranks))
                        .collect::<Vec<_>>())
                }
                Err(failure) => Err(failure),
            };
            let got = compact.encode(text.as_bytes(), policy).map(|ids| names(&ids));
            assert_eq!(got, expected, "{text:?} under {policy:?}");
        }
    }
}

/// A toy unit vocabulary: the byte block, then units chosen so that merges can spell
/// existing units ("1" + "2" = "12") and tokens of several units ("ab" + "c").
fn toy_units() -> Vec<String> {
    let mut units: Vec<String> = (0..=255u8).map(crate::byte_token).collect();
    for unit in [
        "a", "b", "c", "ab", "1", "2", "12", "3", "123", ".", ">>", "[", "]", "%(", ")", "(", "x",
    ] {
        units.push(unit.to_owned());
    }
    units
}

/// A random merge table over `units`: sides from the units and earlier merged tokens,
/// repeated pairs, merges whose result is a unit, merges with a byte-fallback token,
/// and pairs of tokens that only exist after later merges (so a merge can make a pair
/// ranked below the round's).
fn random_merges(rng: &mut Rng, units: &[String], count: usize) -> Vec<(String, String)> {
    let plain: Vec<String> = units.iter().filter(|u| !is_byte_token(u)).cloned().collect();
    let mut pool = plain.clone();
    let mut merges: Vec<(String, String)> = Vec::new();
    for _ in 0..count {
        let pair = match rng.below(10) {
            0 if !merges.is_empty() => rng.pick(&merges).clone(),
            1 => ("1".to_owned(), "2".to_owned()),
            2 => ("12".to_owned(), "3".to_owned()),
            // A byte-fallback token is a word of its own: this merge must never apply.
            4 => ("<0x41>".to_owned(), rng.pick(&pool).clone()),
            // Runs of one unit ("aa" + "aaa"): overlapping pairs everywhere.
            5 | 6 => {
                let base = rng.pick(&plain[..3]).clone();
                (base.repeat(1 + rng.below(4)), base.repeat(1 + rng.below(4)))
            }
            3 => {
                let base = rng.pick(&plain).clone();
                (format!("{base}{base}"), rng.pick(&pool).clone())
            }
            _ => (rng.pick(&pool).clone(), rng.pick(&pool).clone()),
        };
        pool.push(format!("{}{}", pair.0, pair.1));
        merges.push(pair);
    }
    merges
}

fn check_toy_merges(rng: &mut Rng, merges: &[(String, String)], texts: usize) {
    let units = toy_units();
    let seps = [".", ">>"];
    // "(" also opens a group here: an opener wins over every other rule.
    let grps = [("[", "]"), ("%(", ")"), ("(", "x")];
    let tokens = compact_tokens(&units, merges);
    let unit_vocab = Vocab::new(&units).expect("units");
    let table = Merges::new(&unit_vocab, &units, &tokens, &merge_spec(merges, &seps, &grps)).expect("merges");
    let ranks = rank_map(merges);
    let ids: HashMap<&str, u32> = units.iter().enumerate().map(|(i, u)| (u.as_str(), i as u32)).collect();
    let alphabet: Vec<&str> = units[256..]
        .iter()
        .map(String::as_str)
        .chain(["<0x41>", "<0xC3>"])
        .collect();
    for _ in 0..texts {
        // Lengths past 64 and 128 cover words of several bit blocks.
        let len = match rng.below(4) {
            0 => rng.below(200),
            _ => rng.below(40),
        };
        let mut unit_names: Vec<String> = (0..len).map(|_| rng.pick(&alphabet).to_string()).collect();
        if rng.below(3) == 0 {
            // Long runs of one unit: overlapping occurrences of the same pair.
            let unit = rng.pick(&alphabet[..3]).to_string();
            unit_names = vec![unit; rng.below(200)];
        }
        let expected: Vec<String> = split_words_ref(&unit_names, &seps, &grps)
            .iter()
            .flat_map(|w| apply_merges_ref(w, &ranks))
            .collect();
        let mut buffer: Vec<u32> = vec![7, 7];
        buffer.extend(unit_names.iter().map(|u| ids[u.as_str()]));
        let units_of_text = buffer.clone();
        table.apply(&mut buffer, 2);
        // The word cache: the same words again (now cached on this thread), and merged
        // afresh, give the same ids.
        for apply in [Merges::apply, Merges::apply_uncached] {
            let mut again = units_of_text.clone();
            apply(&table, &mut again, 2);
            assert_eq!(again, buffer, "cached and fresh merges differ on {unit_names:?}");
        }
        assert_eq!(&buffer[..2], &[7, 7], "ids before the mark are kept");
        let got: Vec<String> = buffer[2..].iter().map(|&i| tokens[i as usize].clone()).collect();
        assert_eq!(got, expected, "units {unit_names:?}");
    }
}

#[test]
fn merges_match_the_reference_on_random_tables() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for count in [0, 1, 5, 30, 120, 400] {
        for _ in 0..4 {
            let merges = random_merges(&mut rng, &toy_units(), count);
            check_toy_merges(&mut rng, &merges, 400);
        }
    }
}

#[test]
fn merges_match_the_reference_with_u32_ranks() {
    // More than 65534 merges: ranks no longer fit u16 (the wide path). The padding
    // merges name no token, so they never apply.
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..3 {
        let mut merges: Vec<(String, String)> = (0..70_000).map(|i| (format!("#{i}"), "#".to_owned())).collect();
        merges.extend(random_merges(&mut rng, &toy_units(), 200));
        check_toy_merges(&mut rng, &merges, 300);
    }
}

#[test]
fn merge_tables_that_cannot_work_are_errors() {
    let units = toy_units();
    let unit_vocab = Vocab::new(&units).expect("units");
    let merges = vec![("a".to_owned(), "b".to_owned()), ("ab".to_owned(), "c".to_owned())];
    let spec = merge_spec(&merges, &["."], &[("[", "]")]);
    let tokens = compact_tokens(&units, &merges);
    assert!(Merges::new(&unit_vocab, &units, &tokens, &spec).is_ok());
    // The compact vocabulary lacks a merged token ("abc").
    assert!(Merges::new(&unit_vocab, &units, &units, &spec).is_err());
    // The compact vocabulary does not start with the units.
    let mut shuffled = tokens.clone();
    shuffled.swap(256, 257);
    assert!(Merges::new(&unit_vocab, &units, &shuffled, &spec).is_err());
    // An empty group opener.
    assert!(Merges::new(&unit_vocab, &units, &tokens, &merge_spec(&merges, &[], &[("", "]")])).is_err());
    // Merges naming no token never apply (and are no error).
    let odd = vec![("zz".to_owned(), "a".to_owned()), ("a".to_owned(), String::new())];
    let table = Merges::new(&unit_vocab, &units, &units, &merge_spec(&odd, &[], &[])).expect("odd");
    let a = units.iter().position(|u| u == "a").expect("a") as u32;
    let mut ids = vec![a, a, a];
    table.apply(&mut ids, 0);
    assert_eq!(ids, vec![a, a, a]);
}
