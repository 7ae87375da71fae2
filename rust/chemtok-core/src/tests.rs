//! Unit tests against the shipped grammar and vocabulary files (read from the
//! repository, never copied). Expected tokens are what the Python reference gives;
//! `tests/test_native.py` checks full parity on random and real inputs.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use crate::{
    char_index, BatchError, Failure, InchiSpec, NoRule, OnError, PropKind, Reason, SequenceSpec, SmilesSpec, Threads,
    Tokenizer,
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

fn smiles_spec() -> SmilesSpec {
    let g = toml_file("smiles");
    // The derived tables, computed as SmilesGrammar.chiralities / .bracket_symbols do.
    let mut chiralities = strings(&g, "bracket.chirality_plain");
    for entry in get(&g, "bracket.chirality_numbered").as_array().expect("numbered") {
        let prefix = entry["prefix"].as_str().expect("prefix");
        let max = entry["max"].as_integer().expect("max");
        chiralities.extend((1..=max).map(|n| format!("{prefix}{n}")));
    }
    let mut bracket_symbols = strings(&g, "atoms.elements");
    bracket_symbols.extend(strings(&g, "atoms.bracket_aromatic"));
    bracket_symbols.push(string(&g, "atoms.wildcard"));
    SmilesSpec {
        organic: strings(&g, "atoms.organic"),
        organic_aromatic: strings(&g, "atoms.organic_aromatic"),
        wildcard: string(&g, "atoms.wildcard"),
        bonds: strings(&g, "bonds.symbols"),
        dative_bonds: strings(&g, "bonds.dative"),
        branch_open: string(&g, "structure.branch_open"),
        branch_close: string(&g, "structure.branch_close"),
        dot: string(&g, "structure.dot"),
        reaction: strings(&g, "structure.reaction"),
        ring_digits: string(&g, "ring_closure.digits"),
        ring_percent: string(&g, "ring_closure.percent"),
        ring_paren_open: string(&g, "ring_closure.percent_paren_open"),
        ring_paren_close: string(&g, "ring_closure.percent_paren_close"),
        ring_paren_max_digits: get(&g, "ring_closure.percent_paren_max_digits")
            .as_integer()
            .expect("int") as usize,
        bracket_open: string(&g, "bracket.open"),
        bracket_close: string(&g, "bracket.close"),
        bracket_symbols,
        chiralities,
        hydrogen: string(&g, "bracket.hydrogen"),
        charge_signs: strings(&g, "bracket.charge_signs"),
        charge_sign_runs: get(&g, "bracket.charge_sign_runs").as_bool().expect("bool"),
        class_prefix: string(&g, "bracket.class_prefix"),
    }
}

fn smiles() -> Tokenizer {
    Tokenizer::smiles("smiles", &smiles_spec(), &full_vocab(vocab_file("smiles_vocab.json"))).expect("smiles tokenizer")
}

fn inchi() -> Tokenizer {
    let g = toml_file("inchi");
    let mut symbols = strings(&g, "elements");
    symbols.extend(strings(&g, "isotope_symbols"));
    let spec = InchiSpec {
        prefixes: strings(&g, "prefixes"),
        layer_separator: string(&g, "layer_separator"),
        layer_tags: strings(&g, "layer_tags"),
        symbols,
        punctuation: strings(&g, "punctuation"),
        prefixes_display: None,
    };
    Tokenizer::inchi("inchi", &spec, &full_vocab(vocab_file("inchi_vocab.json"))).expect("inchi tokenizer")
}

fn sequence(name: &str) -> Tokenizer {
    let g = toml_file(name);
    let alphabet = strings(&g, "alphabet");
    let mut symbols = alphabet.clone();
    if get(&g, "keep_lowercase").as_bool().expect("bool") {
        symbols.extend(
            alphabet
                .iter()
                .filter(|c| c.chars().all(char::is_alphabetic))
                .map(|c| c.to_lowercase()),
        );
    }
    let spec = SequenceSpec {
        name: name.to_owned(),
        alphabet,
        symbols: symbols.clone(),
    };
    Tokenizer::sequence(name, &spec, &full_vocab(symbols)).expect("sequence tokenizer")
}

/// Token strings of `text` under `policy`, or (char position, reason).
fn tokens(tok: &Tokenizer, text: &str, policy: OnError) -> Result<Vec<String>, (usize, String)> {
    let vocab = full_vocab_of(tok);
    match tok.encode(text.as_bytes(), policy) {
        Ok(ids) => Ok(ids.iter().map(|&id| vocab[id as usize].clone()).collect()),
        Err(Failure::NoRule(NoRule { pos, reason })) => Err((char_index(text.as_bytes(), pos), tok.reason(reason))),
        Err(other) => panic!("unexpected failure {other:?}"),
    }
}

fn full_vocab_of(tok: &Tokenizer) -> Vec<String> {
    match tok.modality() {
        "smiles" => full_vocab(vocab_file("smiles_vocab.json")),
        "inchi" => full_vocab(vocab_file("inchi_vocab.json")),
        name => {
            let g = toml_file(name);
            let alphabet = strings(&g, "alphabet");
            let mut symbols = alphabet.clone();
            symbols.extend(
                alphabet
                    .iter()
                    .filter(|c| c.chars().all(char::is_alphabetic))
                    .map(|c| c.to_lowercase()),
            );
            full_vocab(symbols)
        }
    }
}

fn ok(tok: &Tokenizer, text: &str) -> Vec<String> {
    tokens(tok, text, OnError::Raise).unwrap_or_else(|e| panic!("{text:?} failed: {e:?}"))
}

fn err(tok: &Tokenizer, text: &str) -> (usize, String) {
    match tokens(tok, text, OnError::Raise) {
        Ok(t) => panic!("{text:?} gave {t:?}"),
        Err(e) => e,
    }
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const NO_LEXEME: &str = "no SMILES lexeme starts here (not an organic-subset atom, bond, ring bond or branch)";

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
    assert_eq!(err(&t, "C%(99999)C%(123456)C"), (10, NO_LEXEME.to_owned()));
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
    let expect_property = "expected chirality, hydrogen count, charge, atom class or ']'".to_owned();
    assert_eq!(err(&t, "[C"), (0, "bracket atom is not closed".into()));
    assert_eq!(err(&t, "CC["), (2, "bracket atom is not closed".into()));
    assert_eq!(
        err(&t, "[]"),
        (1, "expected an element symbol inside the bracket atom".into())
    );
    assert_eq!(
        err(&t, "[CH3H]"),
        (4, "a bracket atom has at most one hydrogen count".into())
    );
    assert_eq!(err(&t, "[C+-]"), (3, "a bracket atom has at most one charge".into()));
    assert_eq!(
        err(&t, "[CH3:1:2]"),
        (6, "a bracket atom has at most one atom class".into())
    );
    assert_eq!(err(&t, "[C++2]"), (4, expect_property.clone()));
    assert_eq!(err(&t, "[C:]"), (2, expect_property.clone()));
    assert_eq!(err(&t, "[C@@TH1H]"), (4, expect_property));
    assert_eq!(err(&t, "c1c[nH]c2c1fccc2"), (11, NO_LEXEME.to_owned()));
}

#[test]
fn policies_recover_at_the_lexeme_start() {
    let t = smiles();
    assert_eq!(err(&t, "C§C"), (1, NO_LEXEME.to_owned()));
    assert_eq!(err(&t, "Cé[C"), (1, NO_LEXEME.to_owned()));
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
    assert_eq!(err(&t, "C𝄞x"), (1, NO_LEXEME.to_owned()));
    assert_eq!(err(&t, "𝄞C["), (0, NO_LEXEME.to_owned()));
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
    assert_eq!(
        err(&t, "XInChI"),
        (
            0,
            "an InChI starts with one of ['InChI=1S', 'InChI=1B', 'InChI=1']".into()
        )
    );
    let no_rule = "not an element symbol, number, layer tag or InChI punctuation".to_owned();
    assert_eq!(err(&t, "InChI=1S/Ab"), (9, no_rule.clone()));
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
    assert_eq!(
        err(&protein, "MK1"),
        (
            2,
            "not a letter of the protein alphabet ACDEFGHIKLMNPQRSTVWYBZJUOX*-".into()
        )
    );
    let dna = sequence("dna");
    assert_eq!(ok(&dna, "ACGTnnRY"), v(&["A", "C", "G", "T", "n", "n", "R", "Y"]));
    assert_eq!(
        err(&dna, "ACGTJ"),
        (4, "not a letter of the dna alphabet ACGTURYSWKMBDHVN-%".into())
    );
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
    assert_eq!(PropKind::AtomClass.label(), "atom class");
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
