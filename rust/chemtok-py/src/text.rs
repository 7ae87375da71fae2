//! `TextEngine`: the byte-level BPE of chemtok-core (`ByteLevelBpe`) for Python.
//!
//! Built from the text of a `tokenizer.json`, parsed here in Rust
//! (`BpeSpec::from_tokenizer_json`); a model outside the supported family raises
//! `ValueError` with the key that does not fit, and `chemtok/text.py` then keeps
//! `tokenizers`. Texts must be valid UTF-8: a str holding a lone surrogate raises
//! `ValueError` (`TextTokenizer` finds and reports those before calling in).
//!
//! The router binding takes a `TextEngine` argument and shares its model through
//! [`TextEngine::bpe`].

use std::sync::Arc;

use chemtok_core::{BpeSpec, ByteLevelBpe, PreTokenizer};
use numpy::PyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple, PyType};

use crate::{collect_texts, spec_error, threads};

/// A single text at least this long is encoded with the GIL released.
const DETACH_BYTES: usize = 1 << 14;

/// The byte-level BPE of a ``tokenizer.json`` (GPT-2, Llama 3, chemtok's text model).
///
/// Args:
///     tokenizer_json: the file's text. ``ValueError`` if the model is not a byte-level
///         BPE this engine reproduces exactly (normalizers, dropout, byte fallback, a
///         pre-tokenizer other than GPT-2's, chemtok's or Llama 3's).
#[pyclass(module = "chemtok._native", name = "TextEngine", frozen)]
pub(crate) struct TextEngine {
    bpe: Arc<ByteLevelBpe>,
    /// Python ints of every id, so id lists are built without allocating ints.
    id_objects: Vec<Py<PyAny>>,
    /// The constructor argument, for pickling.
    json: Py<PyString>,
}

impl TextEngine {
    /// The shared model (for the router binding).
    #[allow(dead_code)] // called by the router binding (rust/chemtok-py/src/router.rs)
    pub(crate) fn bpe(&self) -> Arc<ByteLevelBpe> {
        Arc::clone(&self.bpe)
    }

    fn id_list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        crate::id_list(py, &self.id_objects, ids)
    }

    fn flat<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<chemtok_core::FlatBatch> {
        let threads = threads(num_threads)?;
        let strings = collect_texts(texts)?;
        let strs: Vec<&str> = strings
            .iter()
            .enumerate()
            .map(|(index, s)| s.to_str().map_err(|_| surrogate(Some(index))))
            .collect::<PyResult<_>>()?;
        let bpe = &self.bpe;
        py.detach(|| bpe.encode_batch(&strs, threads))
            .map_err(pyo3::exceptions::PyRuntimeError::new_err)
    }
}

fn surrogate(index: Option<usize>) -> PyErr {
    let at = index.map_or_else(String::new, |i| format!("texts[{i}] "));
    PyValueError::new_err(format!("{at}holds a lone surrogate, which UTF-8 cannot encode"))
}

fn text_str<'a>(text: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    text.to_str().map_err(|_| surrogate(None))
}

#[pymethods]
impl TextEngine {
    #[new]
    fn new(py: Python<'_>, tokenizer_json: Bound<'_, PyString>) -> PyResult<Self> {
        let spec = BpeSpec::from_tokenizer_json(tokenizer_json.to_str()?).map_err(spec_error)?;
        let bpe = py.detach(|| ByteLevelBpe::new(spec)).map_err(spec_error)?;
        let id_objects = crate::int_objects(py, bpe.vocab_size());
        Ok(TextEngine {
            bpe: Arc::new(bpe),
            id_objects,
            json: tokenizer_json.unbind(),
        })
    }

    /// The ids of ``text``.
    fn encode<'py>(&self, py: Python<'py>, text: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyList>> {
        let s = text_str(text)?;
        let ids = if s.len() >= DETACH_BYTES {
            py.detach(|| self.bpe.encode(s))
        } else {
            self.bpe.encode(s)
        };
        self.id_list(py, &ids)
    }

    /// The ids of every text, encoded in parallel with the GIL released.
    #[pyo3(signature = (texts, num_threads = None))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let flat = self.flat(py, texts, num_threads)?;
        let rows = flat
            .offsets
            .windows(2)
            .map(|w| self.id_list(py, flat.ids.get(w[0] as usize..w[1] as usize).unwrap_or(&[])))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, rows)
    }

    /// ``(ids uint32, row_offsets int64)``: row i is ``ids[row_offsets[i]:row_offsets[i + 1]]``.
    #[pyo3(signature = (texts, num_threads = None))]
    fn encode_batch_arrays<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<crate::IdArrays<'py>> {
        py.import("numpy")?;
        let flat = self.flat(py, texts, num_threads)?;
        Ok((PyArray1::from_vec(py, flat.ids), PyArray1::from_vec(py, flat.offsets)))
    }

    /// The text of ``ids`` (invalid UTF-8 from a partial sequence becomes U+FFFD, as
    /// ``tokenizers`` decodes it); ``ValueError`` for an id the model does not have.
    fn decode(&self, ids: Vec<u32>) -> PyResult<String> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        self.bpe.decode_into(&ids, &mut out).map_err(|id| {
            let index = ids.iter().position(|&i| i == id).unwrap_or(0);
            PyValueError::new_err(format!("ids[{index}] = {id} is not a token of this model"))
        })?;
        Ok(match String::from_utf8(out) {
            Ok(s) => s,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        })
    }

    /// The pre-tokenizer's pieces of ``text`` (they concatenate to ``text``).
    fn pieces(&self, text: &Bound<'_, PyString>) -> PyResult<Vec<String>> {
        let s = text_str(text)?;
        Ok(self
            .bpe
            .pre_tokenizer()
            .pieces(s)
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    /// ``"gpt2"``, ``"digits+gpt2"`` or ``"llama3"``.
    #[getter]
    fn pre_tokenizer(&self) -> &'static str {
        match self.bpe.pre_tokenizer() {
            PreTokenizer::Gpt2 => "gpt2",
            PreTokenizer::DigitsGpt2 => "digits+gpt2",
            PreTokenizer::Llama3 => "llama3",
        }
    }

    /// One more than the largest id.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.bpe.vocab_size()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        Ok((slf.get_type(), PyTuple::new(py, [slf.get().json.clone_ref(py)])?))
    }

    fn __repr__(&self) -> String {
        format!("<TextEngine {} {} tokens>", self.pre_tokenizer(), self.bpe.vocab_size())
    }
}
