//! `DetectorEngine`: the detector of chemtok-core (`chemtok_core::Detector`) for Python.
//!
//! Built from the JSON spec `chemtok.detect.Detector.native_spec` writes (the
//! detector's constants, Python's whitespace and case-folding tables, the kind of
//! every SMILES token) and the native `Engine`s of the four lexers. Spans come back
//! as plain int tuples `(start, end, modality, cue)` in code points, `modality` an
//! index into `chemtok.detect.DETECTABLE` and `cue` into `chemtok.detect.CUES`; a text
//! the core cannot decide exactly (see `chemtok_core::Outcome::Undecided`), or one
//! holding a lone surrogate, is reported so that Python runs the reference on it.

use chemtok_core::{DetectSpec, Detector, Lexers, Outcome, Span};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};

use crate::{collect_texts, parse_spec, read_spec, spec_error, threads, Engine};

/// Texts at least this long (bytes) are detected with the GIL released even one at a time.
const DETACH_BYTES: usize = 1 << 14;

/// `(row_offsets, starts, ends, modalities, cues, undecided)`.
type Flat = (Vec<usize>, Vec<usize>, Vec<usize>, Vec<u8>, Vec<u8>, Vec<usize>);

/// Find SMILES, InChI, protein and DNA strings in unmarked text with the Rust core.
///
/// Args:
///     spec: the JSON text of ``chemtok.detect.Detector.native_spec()``.
///     smiles, inchi, protein, dna: the native ``Engine`` of each lexer (the SMILES
///         one atom-level, as the detector's ``SmilesTokenizer``).
#[pyclass(module = "chemtok._native", name = "DetectorEngine", frozen)]
pub(crate) struct DetectorEngine {
    core: Detector,
    /// The constructor arguments, for pickling.
    args: Py<PyTuple>,
}

fn spans_of(outcome: &Outcome) -> Option<&[Span]> {
    match outcome {
        Outcome::Spans(spans) => Some(spans),
        Outcome::Undecided => None,
    }
}

#[pymethods]
impl DetectorEngine {
    #[new]
    fn new(
        py: Python<'_>,
        spec: &Bound<'_, PyAny>,
        smiles: Bound<'_, Engine>,
        inchi: Bound<'_, Engine>,
        protein: Bound<'_, Engine>,
        dna: Bound<'_, Engine>,
    ) -> PyResult<Self> {
        let value = parse_spec(spec)?;
        let detect_spec: DetectSpec = read_spec(&value, "detect")?;
        let lexers = Lexers {
            smiles: smiles.get().core.clone(),
            inchi: inchi.get().core.clone(),
            protein: protein.get().core.clone(),
            dna: dna.get().core.clone(),
        };
        let core = Detector::new(detect_spec, lexers).map_err(spec_error)?;
        let args = PyTuple::new(
            py,
            [
                spec.clone(),
                smiles.into_any(),
                inchi.into_any(),
                protein.into_any(),
                dna.into_any(),
            ],
        )?;
        Ok(DetectorEngine {
            core,
            args: args.unbind(),
        })
    }

    /// The spans of ``text`` as ``(start, end, modality, cue)`` tuples, or ``None``
    /// when the reference must decide it.
    fn detect(&self, py: Python<'_>, text: &Bound<'_, PyString>) -> Option<Vec<(usize, usize, u8, u8)>> {
        let s = text.to_str().ok()?;
        let core = &self.core;
        let outcome = if s.len() >= DETACH_BYTES {
            py.detach(|| core.detect(s))
        } else {
            core.detect(s)
        };
        spans_of(&outcome).map(|spans| {
            spans
                .iter()
                .map(|s| (s.start, s.end, s.modality as u8, s.cue as u8))
                .collect()
        })
    }

    /// The spans of every text, detected in parallel with the GIL released, flat:
    /// ``(row_offsets, starts, ends, modalities, cues, undecided)``; text ``i`` has the
    /// spans ``row_offsets[i]:row_offsets[i + 1]`` of the other lists (none when it is
    /// undecided), and ``undecided`` lists the texts the reference must decide.
    #[pyo3(signature = (texts, num_threads = None))]
    fn detect_batch(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        num_threads: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Flat> {
        let threads = threads(num_threads)?;
        let strings = collect_texts(texts)?;
        // A lone surrogate cannot cross as UTF-8: that text goes to the reference.
        let strs: Vec<Option<&str>> = strings.iter().map(|s| s.to_str().ok()).collect();
        let core = &self.core;
        let outcomes = py
            .detach(|| {
                let present: Vec<&str> = strs.iter().map(|s| s.unwrap_or("")).collect();
                core.detect_batch(&present, threads)
            })
            .map_err(PyRuntimeError::new_err)?;
        let mut flat: Flat = (vec![0], Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (index, (outcome, s)) in outcomes.iter().zip(&strs).enumerate() {
            match (s, spans_of(outcome)) {
                (Some(_), Some(spans)) => {
                    for span in spans {
                        flat.1.push(span.start);
                        flat.2.push(span.end);
                        flat.3.push(span.modality as u8);
                        flat.4.push(span.cue as u8);
                    }
                }
                _ => flat.5.push(index),
            }
            flat.0.push(flat.1.len());
        }
        Ok(flat)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        Ok((slf.get_type(), slf.get().args.bind(slf.py()).clone()))
    }

    fn __repr__(&self) -> String {
        "<DetectorEngine>".to_owned()
    }
}
