//! `RouterEngine`: the router of chemtok-core (`chemtok_core::router::Router`) for Python.
//!
//! Built by `chemtok/batch.py` (`router_engine`) from the tables of a `ChemTokenizer`:
//! its marker pairs and marker ids, the strict flag and the unknown-marker pattern,
//! each modality's native `Engine` with its id translation, the native `TextEngine` and
//! the text block's offset, and the base model's special-token literals. A whole batch
//! is encoded with the GIL released, in parallel, into one flat id buffer.
//!
//! The engine never raises for refused input: it returns the index of the first text
//! that failed (and of the texts holding lone surrogates, which it leaves alone), and
//! `chemtok/batch.py` runs the Python reference on those texts, so errors and
//! surrogate handling are the reference's own.

use chemtok_core::router::{ModalitySpec, PairSpec, Router, RouterBatch, RouterSpec, Target};
use numpy::PyArray1;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple, PyType};

use crate::text::TextEngine;
use crate::{collect_texts, policy, threads, ArrowBuffers, Engine, ROW_OK, ROW_REFUSED};

/// A single text at least this long is encoded with the GIL released.
const DETACH_BYTES: usize = 1 << 14;

/// `(rows, deferred, failed)` of `encode_batch`.
type Rows<'py> = (Bound<'py, PyList>, Vec<usize>, Option<usize>);

/// `(ids uint32, row_offsets int64, status uint8, reference rows)` of `encode_arrow_buffers`.
type ArrowRows<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u8>>,
    Vec<usize>,
);

/// `(ids uint32, row_offsets int64, deferred, failed)` of `encode_batch_arrays`.
type Arrays<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<i64>>,
    Vec<usize>,
    Option<usize>,
);

/// Marked text to ids of one id space (``ChemTokenizer``), a whole batch in Rust.
///
/// Args:
///     pairs: ``(start, end, modality)`` of each marker pair in table order;
///         ``modality`` is ``"text"``, a name in ``modalities``, or a modality whose
///         tokenizer the core cannot run (no native engine): texts holding that pair's
///         start marker are left to the reference (listed in ``deferred``, as texts
///         with lone surrogates are).
///     marker_ids: ``(marker, id)`` for every marker string.
///     unknown_marker_pattern: the table's pattern (Python ``re`` syntax, the subset
///         ``chemtok.markers.check_marker_pattern`` admits).
///     strict: ``strict_markers``.
///     modalities: ``(name, engine, translation)``: a native ``Engine`` and the router
///         id of each of its local ids.
///     text: the native ``TextEngine`` of the text model.
///     text_offset: the router id of text id 0.
///     literals: ``(literal, id)`` of the base model's special-token literals, longest first.
///     size: the number of router ids.
#[pyclass(module = "chemtok._native", name = "RouterEngine", frozen)]
pub(crate) struct RouterEngine {
    core: Router,
    /// Start markers of the pairs whose modality tokenizer has no native engine:
    /// a text holding one is left to the reference, as a text with a lone surrogate is.
    deferred_markers: Vec<String>,
    /// Python ints of every router id.
    id_objects: Vec<Py<PyAny>>,
    args: Py<PyTuple>,
}

impl RouterEngine {
    /// The text as the core may encode it: `None` for texts left to the reference.
    fn native_text<'a>(&self, text: Option<&'a str>) -> Option<&'a str> {
        text.filter(|t| !self.deferred_markers.iter().any(|m| t.contains(m.as_str())))
    }

    fn id_list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        crate::id_list(py, &self.id_objects, ids)
    }

    /// The batch encoded with the GIL released, and the texts left to the reference
    /// (lone surrogates) before the first failure.
    fn flat(
        &self,
        py: Python<'_>,
        texts: &Bound<'_, PyAny>,
        on_error: &Bound<'_, PyAny>,
        num_threads: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(RouterBatch, Vec<usize>)> {
        let on_error = policy(on_error)?;
        let threads = threads(num_threads)?;
        let strings = collect_texts(texts)?;
        let strs: Vec<Option<&str>> = strings.iter().map(|s| self.native_text(s.to_str().ok())).collect();
        let core = &self.core;
        let batch = py
            .detach(|| core.encode_batch(&strs, on_error, threads))
            .map_err(PyRuntimeError::new_err)?;
        let end = batch.failed.unwrap_or(strs.len());
        let deferred = strs[..end]
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.is_none().then_some(i))
            .collect();
        Ok((batch, deferred))
    }
}

#[pymethods]
impl RouterEngine {
    #[new]
    #[pyo3(signature = (pairs, marker_ids, unknown_marker_pattern, strict, modalities, text, text_offset, literals, size))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        pairs: Vec<(String, String, String)>,
        marker_ids: Vec<(String, u32)>,
        unknown_marker_pattern: String,
        strict: bool,
        modalities: Vec<(String, Bound<'_, Engine>, Vec<u32>)>,
        text: Bound<'_, TextEngine>,
        text_offset: u32,
        literals: Vec<(String, u32)>,
        size: u32,
    ) -> PyResult<Self> {
        let names: Vec<&str> = modalities.iter().map(|(name, _, _)| name.as_str()).collect();
        let mut deferred_markers = Vec::new();
        let pair_specs = pairs
            .iter()
            .map(|(start, end, modality)| {
                let target = match modality.as_str() {
                    "text" => Target::Text,
                    name => match names.iter().position(|n| *n == name) {
                        Some(k) => Target::Modality(k),
                        None => {
                            // No engine for it: every text holding its start marker goes to
                            // the reference, so the core never opens this pair; its end
                            // marker alone is read as the reference reads it.
                            deferred_markers.push(start.clone());
                            Target::Text
                        }
                    },
                };
                Ok(PairSpec {
                    start: start.clone(),
                    end: end.clone(),
                    target,
                })
            })
            .collect::<PyResult<_>>()?;
        let modality_specs = modalities
            .iter()
            .map(|(_, engine, translation)| ModalitySpec {
                tokenizer: engine.get().core.clone(),
                translation: translation.clone(),
            })
            .collect();
        let core = Router::new(RouterSpec {
            pairs: pair_specs,
            marker_ids: marker_ids.clone(),
            unknown_marker_pattern: unknown_marker_pattern.clone(),
            strict,
            modalities: modality_specs,
            text: text.get().bpe(),
            text_offset,
            literals: literals.clone(),
        })
        .map_err(|err| PyValueError::new_err(err.0))?;
        let id_objects = crate::int_objects(py, size as usize);
        let modality_args: Vec<Bound<'_, PyTuple>> = modalities
            .iter()
            .map(|(name, engine, translation)| {
                PyTuple::new(
                    py,
                    [
                        name.into_pyobject(py)?.into_any(),
                        engine.clone().into_any(),
                        translation.clone().into_pyobject(py)?.into_any(),
                    ],
                )
            })
            .collect::<PyResult<_>>()?;
        let args = PyTuple::new(
            py,
            [
                pairs.into_pyobject(py)?.into_any(),
                marker_ids.into_pyobject(py)?.into_any(),
                unknown_marker_pattern.into_pyobject(py)?.into_any(),
                strict.into_pyobject(py)?.to_owned().into_any(),
                PyList::new(py, modality_args)?.into_any(),
                text.into_any(),
                text_offset.into_pyobject(py)?.into_any(),
                literals.into_pyobject(py)?.into_any(),
                size.into_pyobject(py)?.into_any(),
            ],
        )?;
        Ok(RouterEngine {
            core,
            deferred_markers,
            id_objects,
            args: args.unbind(),
        })
    }

    /// The ids of one text, or ``None`` when the reference must encode it (it fails, or
    /// holds a lone surrogate).
    #[pyo3(signature = (text, on_error))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        on_error: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        let on_error = policy(on_error)?;
        let Some(text) = self.native_text(text.to_str().ok()) else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(text.len() / 3 + 4);
        let core = &self.core;
        let result = if text.len() >= DETACH_BYTES {
            py.detach(|| core.encode_into(text, on_error, &mut out))
        } else {
            core.encode_into(text, on_error, &mut out)
        };
        match result {
            Ok(()) => Ok(Some(self.id_list(py, &out)?)),
            Err(_) => Ok(None),
        }
    }

    /// Encode many texts: ``(rows, deferred, failed)``.
    ///
    /// ``rows`` has one id list per text; ``failed`` is the index of the first text
    /// that failed (``None`` if none did), whose row and every later row are empty;
    /// ``deferred`` the texts before it that hold lone surrogates (empty rows too).
    #[pyo3(signature = (texts, on_error, num_threads = None))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        on_error: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Rows<'py>> {
        let (batch, deferred) = self.flat(py, texts, on_error, num_threads)?;
        let ids = &batch.batch.ids;
        let rows: Vec<Bound<'py, PyList>> = batch
            .batch
            .offsets
            .windows(2)
            .map(|w| self.id_list(py, ids.get(w[0] as usize..w[1] as usize).unwrap_or(&[])))
            .collect::<PyResult<_>>()?;
        Ok((PyList::new(py, rows)?, deferred, batch.failed))
    }

    /// Encode many texts into ``(ids uint32, row_offsets int64, deferred, failed)``
    /// (see ``encode_batch``).
    #[pyo3(signature = (texts, on_error, num_threads = None))]
    fn encode_batch_arrays<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        on_error: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Arrays<'py>> {
        py.import("numpy")?;
        let (batch, deferred) = self.flat(py, texts, on_error, num_threads)?;
        let RouterBatch { batch, failed } = batch;
        Ok((
            PyArray1::from_vec(py, batch.ids),
            PyArray1::from_vec(py, batch.offsets),
            deferred,
            failed,
        ))
    }

    /// Encode the rows of an Arrow ``string``/``large_string`` array from its buffers
    /// (as ``Engine.encode_arrow_buffers``): ``(ids, row_offsets, status, reference)``.
    ///
    /// ``status`` is uint8 per row: 0 encoded, 1 null, 2 left to the reference (the
    /// router refused it, or it is not UTF-8), 3 offsets or validity outside the
    /// buffers; ``reference`` lists the status-2 rows in order. Rows other than 0 are empty.
    #[pyo3(signature = (length, offset, large, validity, offsets, data, on_error, num_threads = None))]
    #[allow(clippy::too_many_arguments)]
    fn encode_arrow_buffers<'py>(
        &self,
        py: Python<'py>,
        length: usize,
        offset: usize,
        large: bool,
        validity: Option<&Bound<'py, PyAny>>,
        offsets: &Bound<'py, PyAny>,
        data: &Bound<'py, PyAny>,
        on_error: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<ArrowRows<'py>> {
        py.import("numpy")?;
        let on_error = policy(on_error)?;
        let threads = threads(num_threads)?;
        let buffers = ArrowBuffers::get(validity, offsets, data)?;
        let (rows, mut status) = buffers.rows(offset, length, large)?;
        let strs: Vec<Option<&str>> = rows
            .iter()
            .zip(&status)
            .map(|(row, &code)| {
                if code == ROW_OK {
                    self.native_text(std::str::from_utf8(row).ok())
                } else {
                    Some("")
                }
            })
            .collect();
        let core = &self.core;
        let (batch, failed) = py
            .detach(|| core.encode_each(&strs, on_error, threads))
            .map_err(PyRuntimeError::new_err)?;
        let mut reference = Vec::new();
        let mut failed = failed.into_iter().peekable();
        for (row, (text, code)) in strs.iter().zip(status.iter_mut()).enumerate() {
            let refused = failed.next_if_eq(&row).is_some();
            if *code == ROW_OK && (refused || text.is_none()) {
                *code = ROW_REFUSED;
                reference.push(row);
            }
        }
        Ok((
            PyArray1::from_vec(py, batch.ids),
            PyArray1::from_vec(py, batch.offsets),
            PyArray1::from_vec(py, status),
            reference,
        ))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        Ok((slf.get_type(), slf.get().args.bind(slf.py()).clone()))
    }

    fn __repr__(&self) -> String {
        format!("<RouterEngine {} ids>", self.id_objects.len())
    }
}
