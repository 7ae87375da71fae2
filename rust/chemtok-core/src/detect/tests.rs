//! Unit tests of the detector, built from the shipped grammars and the spec Python
//! generates (`specs/detect.json`). Expected spans are what the Python reference,
//! `chemtok.detect.Detector(rdkit=False).detect`, returns; `tests/test_detect_native.py`
//! checks full parity on random and real texts.

use std::num::NonZeroUsize;

use crate::tests::{inchi, sequence, smiles, spec_file};
use crate::Threads;

use super::{Cue, DetectSpec, Detector, Lexers, Modality, Outcome, Span};

fn spec() -> DetectSpec {
    serde::Deserialize::deserialize(spec_file("detect")).expect("detect spec")
}

fn detector_with(spec: DetectSpec) -> Detector {
    let lexers = Lexers {
        smiles: smiles(),
        inchi: inchi(),
        protein: sequence("protein"),
        dna: sequence("dna"),
    };
    Detector::new(spec, lexers).expect("detector")
}

fn detector() -> Detector {
    detector_with(spec())
}

fn spans(d: &Detector, text: &str) -> Vec<(usize, usize, Modality, Cue)> {
    match d.detect(text) {
        Outcome::Spans(spans) => spans.iter().map(|s| (s.start, s.end, s.modality, s.cue)).collect(),
        Outcome::Undecided => panic!("undecided: {text:?}"),
    }
}

use Cue::*;
use Modality::*;

#[test]
fn smiles_by_structure_and_by_cue() {
    let d = detector();
    let text = "Its SMILES is CCO. Aspirin, CC(=O)Oc1ccccc1C(=O)O, is an NSAID; CO2 is not.";
    assert_eq!(
        spans(&d, text),
        vec![(14, 17, Smiles, SmilesCue), (28, 49, Smiles, Structure)]
    );
    // `$` matches right before a final newline: the cue's line ends there.
    assert_eq!(spans(&d, "SMILES:\nCCO"), vec![(8, 11, Smiles, SmilesCue)]);
    assert_eq!(spans(&d, "compound is \"CCO\""), vec![(13, 16, Smiles, SmilesCue)]);
    assert_eq!(
        spans(&d, "| CCO | OCC |\n"),
        vec![(2, 5, Smiles, Cell), (8, 11, Smiles, Cell)]
    );
    // Whitespace inside a bracket ends the bracket run (U+2000 is Python whitespace).
    assert_eq!(
        spans(&d, "x [C\u{2000}H]CC(C)C and [NH4+].[Cl-]"),
        vec![(7, 13, Smiles, Structure), (18, 30, Smiles, Structure)]
    );
    // Formulas, abbreviations and words stay text.
    assert_eq!(
        spans(&d, "CO2, C24H38N4O8S4, COX-1, NO and BRCA1 are not molecules here."),
        vec![]
    );
}

#[test]
fn inchi_and_sequences() {
    let d = detector();
    assert_eq!(
        spans(&d, "Methane is InChI=1S/CH4/h1H4."),
        vec![(11, 28, Inchi, Prefix)]
    );
    assert_eq!(
        spans(&d, "The primer ATGGCGTACGTTAGCCTAGGAT binds."),
        vec![(11, 33, Dna, Length)]
    );
    assert_eq!(
        spans(&d, "Seq: MKTAYIAKQRQISFVKSHFSRQ* and ABC*DEFGHIKLMNPQRSTVWYAC"),
        vec![(5, 28, Protein, Length), (37, 57, Protein, Length)]
    );
    assert_eq!(
        spans(&d, "the peptide MKTAYIAKQR."),
        vec![(12, 22, Protein, SequenceCue)]
    );
}

#[test]
fn offsets_are_code_points() {
    let d = detector();
    assert_eq!(
        spans(&d, "é — SMILES: CCO, and “CC(=O)O”"),
        vec![(12, 15, Smiles, SmilesCue), (22, 29, Smiles, Structure)]
    );
}

#[test]
fn unicode_the_core_cannot_decide_goes_to_the_reference() {
    let d = detector();
    // A letter case-insensitive matching equates with `s`, anywhere in the text.
    assert_eq!(d.detect("ſ SMILES: CCO"), Outcome::Undecided);
    // Is `é` a word character for the `\b` before the cue word? Python's tables decide.
    assert_eq!(d.detect("éSMILES CC"), Outcome::Undecided);
    // ... but not where the answer cannot change the spans.
    assert_eq!(
        d.detect("éSMILES CC(=O)O"),
        Outcome::Spans(vec![span(8, 15, Smiles, Structure)])
    );
}

fn span(start: usize, end: usize, modality: Modality, cue: Cue) -> Span {
    Span {
        start,
        end,
        modality,
        cue,
    }
}

#[test]
fn modalities_and_lengths_come_from_the_spec() {
    let mut only_dna = spec();
    only_dna.modalities = vec!["dna".into()];
    let d = detector_with(only_dna);
    assert_eq!(
        spans(&d, "CC(=O)O and ATGGCGTACGTTAGCCTAGGAT"),
        vec![(12, 34, Dna, Length)]
    );
    let mut long = spec();
    long.min_length.dna = 30;
    let d = detector_with(long);
    // Too short on its own; after the cue word "primer" long enough.
    assert_eq!(spans(&d, "It binds ATGGCGTACGTTAGCCTAGGAT."), vec![]);
    assert_eq!(
        spans(&d, "The primer ATGGCGTACGTTAGCCTAGGAT binds."),
        vec![(11, 33, Dna, SequenceCue)]
    );
    let mut bad = spec();
    bad.modalities = vec!["selfies".into()];
    assert!(Detector::new(
        bad,
        Lexers {
            smiles: smiles(),
            inchi: inchi(),
            protein: sequence("protein"),
            dna: sequence("dna"),
        }
    )
    .is_err());
}

#[test]
fn batches_equal_single_calls() {
    let d = detector();
    let texts: Vec<String> = (0..50)
        .map(|i| {
            let odd = if i % 5 == 0 { "ſ" } else { "" };
            format!(
                "Text {i}: SMILES: CCO, then CC(=O)Oc1ccccc1C(=O)O and {odd}{}",
                "ACGT".repeat(i % 7)
            )
        })
        .chain(["é — SMILES: CCO".to_owned(), String::new()])
        .collect();
    let single: Vec<Outcome> = texts.iter().map(|t| d.detect(t)).collect();
    for threads in [1, 2, 3] {
        let count = Threads::Count(NonZeroUsize::new(threads).expect("nonzero"));
        assert_eq!(d.detect_batch(&texts, count).expect("batch"), single);
    }
}
