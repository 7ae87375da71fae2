//! `chemtok._native`: the Python binding of chemtok-core (the only binding file).
//!
//! One class, `Engine`, built from a tokenizer spec (one JSON object that
//! `chemtok.native.engine_spec` generates: the grammar's `as_dict()`, its derived
//! tables and the messages of its reason codes) and the vocabulary's token list. `chemtok/native.py` subclasses it as `NativeEngine`; the methods here are the
//! hot path, so they are called directly, without a Python wrapper in between.
//!
//! Every failure is a Python exception: refused input raises
//! `chemtok.errors.TokenizationError(text, position, modality, reason, index)` with the
//! reference's position (a code-point index) and the message the spec's `reasons`
//! table gives for the core's reason code (no English is written here: the table is
//! `chemtok.reasons.REASONS`, formatted in Python), and in a batch the failing text's
//! index. `encode_arrow_buffers` raises nothing for refused rows: it returns their
//! row, position and reason code, and `chemtok/arrow.py` writes the messages.
//!
//! Specs are deserialized with serde from JSON rather than extracted field by field:
//! see the doc comment of `chemtok_core::SmilesSpec` for why.

mod detect;
mod router;
mod text;

use std::borrow::Cow;

use chemtok_core::SelfiesSpec;
use chemtok_core::{
    char_index, BatchError, Failure, FlatBatch, InchiSpec, MergeSpec, NoRule, OnError, Reason, SequenceSpec,
    SmilesSpec, SpecError, Threads, Tokenizer,
};
use numpy::PyArray1;
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::{PyBufferError, PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

/// Texts longer than this (bytes) are encoded with the GIL released even one at a time.
const DETACH_SINGLE_BYTES: usize = 1 << 16;

/// `(ids uint32, row_offsets int64)`.
type IdArrays<'py> = (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<i64>>);

/// `(ids uint32, row_offsets int64, status uint8, failures [(row, position, reason code)])`.
type ArrowRows<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyList>,
);

/// Row status codes of `encode_arrow_buffers` (`chemtok/arrow.py` reads the same).
const ROW_OK: u8 = 0;
const ROW_NULL: u8 = 1;
const ROW_REFUSED: u8 = 2;
/// The row's offsets or validity bit lie outside the buffers handed over.
const ROW_OUT_OF_BOUNDS: u8 = 3;

/// The largest `num_threads` accepted.
const MAX_THREADS: usize = 1024;

static TOKENIZATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Tokenize and encode strings of one modality with the Rust core.
///
/// Args:
///     kind: ``"smiles"``, ``"inchi"``, ``"sequence"`` or ``"selfies"``: which lexer to build.
///     modality: the name reported in errors (the tokenizer's ``name``).
///     spec: a JSON object (``chemtok.native.engine_spec``): the grammar as plain
///         data (``Grammar.as_dict()``), its derived tables (``chiralities`` and
///         ``bracket_symbols`` for SMILES, ``symbols`` for InChI and sequences) and
///         ``reasons``, the message of each reason code (``chemtok.reasons``).
///     tokens: the vocabulary's tokens in id order (the ids returned).
///     compact: ``None``, or for a SMILES tokenizer with learned merges a dict with
///         ``unit_tokens`` (the atom-level vocabulary in id order, which ``tokens``
///         starts with; it decides how brackets and ring numbers are spelled),
///         ``merges`` (``(left, right)`` pairs in rank order), ``separators`` and
///         ``groups`` (``(opener, closer)`` pairs): ``chemtok.compact.WordRules``.
#[pyclass(module = "chemtok._native", name = "Engine", subclass, frozen)]
struct Engine {
    core: Tokenizer,
    modality: Py<PyString>,
    /// Python ints for every id, so lists are built without allocating ints.
    id_objects: Vec<Py<PyAny>>,
    /// The vocabulary's own token strings, in id order.
    token_objects: Vec<Py<PyAny>>,
    /// The message of each reason code, from the spec (`Reason::ALL` order; `None`
    /// when the spec has none for a code this lexer never returns).
    messages: Vec<Option<Py<PyString>>>,
    /// The constructor arguments, for pickling.
    args: Py<PyTuple>,
}

fn spec_error(err: SpecError) -> PyErr {
    PyValueError::new_err(err.0)
}

/// The bytes of every str in `items` (a list, tuple or iterable of str).
fn byte_strings(items: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    collect_texts(items)?
        .iter()
        .map(|t| str_bytes(t).map(Cow::into_owned))
        .collect()
}

/// The `(str, str)` pairs of `items` as bytes.
fn byte_pairs(items: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    for (index, item) in items.try_iter()?.enumerate() {
        let item = item?;
        // A str is iterable too: "ab" must not pass as the pair ("a", "b").
        let pair = (!item.is_instance_of::<PyString>())
            .then(|| byte_strings(&item).ok())
            .flatten()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| PyValueError::new_err(format!("{what}[{index}] is not a pair of str")))?;
        let mut pair = pair.into_iter();
        if let (Some(left), Some(right)) = (pair.next(), pair.next()) {
            out.push((left, right));
        }
    }
    Ok(out)
}

/// The merge table and word rules of a compact model (see `Engine`).
fn merge_spec(compact: &Bound<'_, PyDict>) -> PyResult<(Vec<Vec<u8>>, MergeSpec)> {
    let unit_tokens = byte_strings(&lookup_in(compact, "compact", "unit_tokens")?)?;
    let spec = MergeSpec {
        merges: byte_pairs(&lookup_in(compact, "compact", "merges")?, "merges")?,
        separators: byte_strings(&lookup_in(compact, "compact", "separators")?)?,
        groups: byte_pairs(&lookup_in(compact, "compact", "groups")?, "groups")?,
    };
    Ok((unit_tokens, spec))
}

fn lookup_in<'py>(dict: &Bound<'py, PyDict>, name: &str, key: &str) -> PyResult<Bound<'py, PyAny>> {
    dict.get_item(key)?
        .ok_or_else(|| PyValueError::new_err(format!("{name} spec has no key {key:?}")))
}

/// The spec JSON parsed, and a spec struct read from it (serde ignores the keys the
/// lexer does not read).
fn parse_spec(spec: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let text = spec
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err("spec must be a JSON str (chemtok.native.engine_spec)"))?;
    serde_json::from_str(text.to_str()?).map_err(|err| PyValueError::new_err(format!("spec is not valid JSON: {err}")))
}

fn read_spec<T: serde::de::DeserializeOwned>(value: &serde_json::Value, kind: &str) -> PyResult<T> {
    T::deserialize(value).map_err(|err| PyValueError::new_err(format!("{kind} spec: {err}")))
}

/// The message of each reason code (`Reason::ALL` order) from the spec's `reasons`.
fn messages(py: Python<'_>, value: &serde_json::Value) -> Vec<Option<Py<PyString>>> {
    Reason::ALL
        .iter()
        .map(|reason| {
            value
                .get("reasons")
                .and_then(|table| table.get(reason.code()))
                .and_then(serde_json::Value::as_str)
                .map(|message| PyString::new(py, message).unbind())
        })
        .collect()
}

/// The bytes of a Python str: its UTF-8 (no copy), or, when it holds lone
/// surrogates, the `surrogatepass` encoding (the bytes the reference's byte fallback
/// emits for them).
fn str_bytes<'a>(text: &'a Bound<'_, PyString>) -> PyResult<Cow<'a, [u8]>> {
    match text.to_str() {
        Ok(s) => Ok(Cow::Borrowed(s.as_bytes())),
        Err(_) => {
            let encoded = text.call_method1("encode", ("utf-8", "surrogatepass"))?;
            let encoded = encoded.cast_into::<PyBytes>()?;
            Ok(Cow::Owned(encoded.as_bytes().to_vec()))
        }
    }
}

/// The policy named by `on_error`, or the reference's `ValueError`.
#[inline]
fn policy(on_error: &Bound<'_, PyAny>) -> PyResult<OnError> {
    // The policy names as Python interns them (string literals, the tokenizers'
    // defaults): a pointer comparison, no string read, on the per-call path.
    let py = on_error.py();
    if on_error.is(intern!(py, "raise")) {
        return Ok(OnError::Raise);
    }
    if on_error.is(intern!(py, "fallback")) {
        return Ok(OnError::Fallback);
    }
    if on_error.is(intern!(py, "skip")) {
        return Ok(OnError::Skip);
    }
    if let Ok(name) = on_error.cast::<PyString>() {
        if let Some(policy) = name.to_str().ok().and_then(OnError::parse) {
            return Ok(policy);
        }
    }
    let names: Vec<String> = OnError::NAMES.iter().map(|n| format!("'{n}'")).collect();
    Err(PyValueError::new_err(format!(
        "on_error must be one of [{}], got {}",
        names.join(", "),
        on_error.repr()?
    )))
}

fn threads(num_threads: Option<&Bound<'_, PyAny>>) -> PyResult<Threads> {
    let Some(value) = num_threads.filter(|v| !v.is_none()) else {
        return Ok(Threads::All);
    };
    let count: i64 = value.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "num_threads must be an int or None, got {}",
            value.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))
    })?;
    // Pools are cached per size, so an absurd count must not start (and keep) threads.
    usize::try_from(count)
        .ok()
        .filter(|&n| n <= MAX_THREADS)
        .and_then(|n| Threads::from_option(Some(n)))
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "num_threads must be None or an integer from 1 to {MAX_THREADS}, got {count}"
            ))
        })
}

/// The strings of `texts` (a list, tuple or any iterable of str).
fn collect_texts<'py>(texts: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyString>>> {
    fn push<'py>(out: &mut Vec<Bound<'py, PyString>>, index: usize, item: Bound<'py, PyAny>) -> PyResult<()> {
        match item.cast_into::<PyString>() {
            Ok(text) => {
                out.push(text);
                Ok(())
            }
            Err(err) => {
                let kind = err
                    .into_inner()
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".to_owned(), |n| n.to_string());
                Err(PyTypeError::new_err(format!("texts[{index}] is {kind}, not str")))
            }
        }
    }
    // Lists and tuples are read by index; anything else through the iterator protocol.
    if let Ok(list) = texts.cast::<PyList>() {
        let mut out = Vec::with_capacity(list.len());
        for (index, item) in list.iter().enumerate() {
            push(&mut out, index, item)?;
        }
        return Ok(out);
    }
    if let Ok(tuple) = texts.cast::<PyTuple>() {
        let mut out = Vec::with_capacity(tuple.len());
        for (index, item) in tuple.iter().enumerate() {
            push(&mut out, index, item)?;
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(texts.len().unwrap_or(0));
    for (index, item) in texts.try_iter()?.enumerate() {
        push(&mut out, index, item?)?;
    }
    Ok(out)
}

/// The bytes of a contiguous buffer (a `pyarrow.Buffer`, `bytes`, a numpy array).
fn buffer_bytes(buffer: &PyUntypedBuffer) -> PyResult<&[u8]> {
    if !buffer.is_c_contiguous() {
        return Err(PyBufferError::new_err("expected a contiguous buffer"));
    }
    let len = buffer.len_bytes();
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: the buffer is contiguous, `len` bytes long and stays exported (so
    // allocated) while `buffer` lives, which outlives the returned slice. Arrow
    // buffers are immutable by contract, so nothing writes to it meanwhile.
    Ok(unsafe { std::slice::from_raw_parts(buffer.buf_ptr().cast::<u8>().cast_const(), len) })
}

/// The three buffers of an Arrow `string`/`large_string` array, held exported while
/// its rows are read (`encode_arrow_buffers` of `Engine` and `RouterEngine`).
pub(crate) struct ArrowBuffers {
    validity: Option<PyUntypedBuffer>,
    offsets: PyUntypedBuffer,
    data: PyUntypedBuffer,
}

impl ArrowBuffers {
    /// Take the buffers Python handed over (`validity` may be `None`).
    pub(crate) fn get(
        validity: Option<&Bound<'_, PyAny>>,
        offsets: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        Ok(ArrowBuffers {
            validity: validity
                .filter(|v| !v.is_none())
                .map(PyUntypedBuffer::get)
                .transpose()?,
            offsets: PyUntypedBuffer::get(offsets)?,
            data: PyUntypedBuffer::get(data)?,
        })
    }

    /// `(bytes, status)` of the rows `offset..offset + length` (see [`arrow_rows`]).
    pub(crate) fn rows(&self, offset: usize, length: usize, large: bool) -> PyResult<(Vec<&[u8]>, Vec<u8>)> {
        let validity = self.validity.as_ref().map(buffer_bytes).transpose()?;
        Ok(arrow_rows(
            validity,
            buffer_bytes(&self.offsets)?,
            buffer_bytes(&self.data)?,
            offset,
            length,
            if large { 8 } else { 4 },
        ))
    }
}

/// The Arrow string rows `offset..offset + length`: `(bytes, status)` per row, null and
/// out-of-bounds rows empty. `width` is 4 (`string`) or 8 (`large_string`) bytes per offset.
fn arrow_rows<'a>(
    validity: Option<&[u8]>,
    offsets: &[u8],
    data: &'a [u8],
    offset: usize,
    length: usize,
    width: usize,
) -> (Vec<&'a [u8]>, Vec<u8>) {
    // Offsets are read as little-endian integers byte by byte: no alignment assumed.
    let offset_at = |k: usize| -> Option<usize> {
        let start = k.checked_mul(width)?;
        let raw = offsets.get(start..start.checked_add(width)?)?;
        let value = match width {
            4 => i64::from(i32::from_le_bytes(raw.try_into().ok()?)),
            _ => i64::from_le_bytes(raw.try_into().ok()?),
        };
        usize::try_from(value).ok()
    };
    let mut rows = Vec::with_capacity(length);
    let mut status = Vec::with_capacity(length);
    for i in 0..length {
        let k = offset + i;
        let valid = match validity {
            None => Some(true),
            Some(bits) => bits.get(k / 8).map(|byte| byte & (1 << (k % 8)) != 0),
        };
        let (row, code) = match valid {
            Some(false) => (&[][..], ROW_NULL),
            None => (&[][..], ROW_OUT_OF_BOUNDS),
            Some(true) => match (offset_at(k), offset_at(k + 1)) {
                (Some(start), Some(end)) => match data.get(start..end) {
                    Some(row) => (row, ROW_OK),
                    None => (&[][..], ROW_OUT_OF_BOUNDS),
                },
                _ => (&[][..], ROW_OUT_OF_BOUNDS),
            },
        };
        rows.push(row);
        status.push(code);
    }
    (rows, status)
}

impl Engine {
    /// The message of `reason`, from the spec's `reasons` table.
    fn message<'py>(&self, py: Python<'py>, reason: Reason) -> PyResult<Bound<'py, PyString>> {
        Reason::ALL
            .iter()
            .position(|r| *r == reason)
            .and_then(|i| self.messages.get(i))
            .and_then(Option::as_ref)
            .map(|m| m.bind(py).clone())
            .ok_or_else(|| {
                PyRuntimeError::new_err(format!(
                    "the engine spec has no message for reason code {:?} (chemtok.native.engine_spec adds them)",
                    reason.code()
                ))
            })
    }

    /// The Python exception for `failure` on `text` (the Python object and its bytes).
    fn error(
        &self,
        py: Python<'_>,
        text: &Bound<'_, PyAny>,
        bytes: &[u8],
        failure: Failure,
        index: Option<usize>,
    ) -> PyErr {
        match failure {
            Failure::NoRule(NoRule { pos, reason }) => {
                let position = char_index(bytes, pos);
                let reason = match self.message(py, reason) {
                    Ok(message) => message,
                    Err(err) => return err,
                };
                let class = match TOKENIZATION_ERROR.import(py, "chemtok.errors", "TokenizationError") {
                    Ok(class) => class,
                    Err(err) => return err,
                };
                match class.call1((text, position, self.modality.bind(py), reason, index)) {
                    Ok(exc) => PyErr::from_value(exc),
                    Err(err) => err,
                }
            }
            Failure::MissingToken(token) => PyKeyError::new_err(format!(
                "the lexer produced {:?}, which the vocabulary lacks (is it built for this grammar?)",
                String::from_utf8_lossy(&token)
            )),
            Failure::Stalled(pos) => PyRuntimeError::new_err(format!(
                "chemtok._native made no progress at byte {pos} of {:?}; please report this input",
                String::from_utf8_lossy(bytes)
            )),
        }
    }

    fn batch_error(
        &self,
        py: Python<'_>,
        texts: &[Bound<'_, PyString>],
        bytes: &[Cow<'_, [u8]>],
        err: BatchError,
    ) -> PyErr {
        match err {
            BatchError::Text { index, failure } => match (texts.get(index), bytes.get(index)) {
                (Some(text), Some(b)) => self.error(py, text.as_any(), b, failure, Some(index)),
                _ => PyRuntimeError::new_err(format!("chemtok._native: failure at text {index} of {}", texts.len())),
            },
            BatchError::Threads(message) => PyRuntimeError::new_err(message),
        }
    }

    /// The ids of one string.
    #[inline]
    fn encode_one(&self, py: Python<'_>, text: &Bound<'_, PyString>, on_error: OnError) -> PyResult<Vec<u32>> {
        let bytes = str_bytes(text)?;
        let result = if bytes.len() >= DETACH_SINGLE_BYTES {
            py.detach(|| self.core.encode(&bytes, on_error))
        } else {
            self.core.encode(&bytes, on_error)
        };
        result.map_err(|failure| self.error(py, text.as_any(), &bytes, failure, None))
    }

    /// The flat ids of a batch, computed with the GIL released.
    fn encode_flat<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        on_error: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<FlatBatch> {
        let on_error = policy(on_error)?;
        let threads = threads(num_threads)?;
        let strings = collect_texts(texts)?;
        let bytes: Vec<Cow<'_, [u8]>> = strings.iter().map(str_bytes).collect::<PyResult<_>>()?;
        let core = &self.core;
        py.detach(|| core.encode_batch(&bytes, on_error, threads))
            .map_err(|err| self.batch_error(py, &strings, &bytes, err))
    }

    #[inline]
    fn id_list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        id_list(py, &self.id_objects, ids)
    }
}

/// Python ints `0..size`, made once per engine so id lists are built without allocating ints.
pub(crate) fn int_objects(py: Python<'_>, size: usize) -> Vec<Py<PyAny>> {
    (0..size)
        .map(|id| match id.into_pyobject(py) {
            Ok(int) => int.into_any().unbind(),
            Err(never) => match never {},
        })
        .collect()
}

/// A Python list of `ids`, from the engine's cached int objects.
pub(crate) fn id_list<'py>(py: Python<'py>, objects: &[Py<PyAny>], ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, ids.iter().map(|&id| cached(py, objects, id)))
}

/// The cached object of `id`, or a fresh int (never needed: ids come from the vocabulary).
#[inline]
fn cached<'py>(py: Python<'py>, objects: &[Py<PyAny>], id: u32) -> Bound<'py, PyAny> {
    match objects.get(id as usize) {
        Some(object) => object.bind(py).clone(),
        None => id
            .into_pyobject(py)
            .map(Bound::into_any)
            .unwrap_or_else(|never| match never {}),
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (kind, modality, spec, tokens, compact = None))]
    fn new(
        py: Python<'_>,
        kind: &str,
        modality: &Bound<'_, PyString>,
        spec: &Bound<'_, PyAny>,
        tokens: &Bound<'_, PyAny>,
        compact: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        if compact.is_some() && kind != "smiles" {
            return Err(PyValueError::new_err(format!(
                "compact (learned merges) is for kind 'smiles' only, got {kind:?}"
            )));
        }
        let token_strings = collect_texts(tokens)?;
        let token_bytes: Vec<Vec<u8>> = token_strings
            .iter()
            .map(|t| str_bytes(t).map(Cow::into_owned))
            .collect::<PyResult<_>>()?;
        let name = modality.to_str()?;
        let value = parse_spec(spec)?;
        let core = match kind {
            "smiles" => {
                let spec: SmilesSpec = read_spec(&value, kind)?;
                match compact {
                    None => Tokenizer::smiles(name, &spec, &token_bytes),
                    Some(compact) => {
                        let (unit_tokens, merges) = merge_spec(compact)?;
                        Tokenizer::smiles_compact(name, &spec, &unit_tokens, &token_bytes, &merges)
                    }
                }
            }
            "inchi" => Tokenizer::inchi(name, &read_spec::<InchiSpec>(&value, kind)?, &token_bytes),
            "sequence" => Tokenizer::sequence(name, &read_spec::<SequenceSpec>(&value, kind)?, &token_bytes),
            "selfies" => Tokenizer::selfies(name, &read_spec::<SelfiesSpec>(&value, kind)?, &token_bytes),
            other => {
                return Err(PyValueError::new_err(format!(
                    "kind must be 'smiles', 'inchi', 'sequence' or 'selfies', got {other:?}"
                )))
            }
        }
        .map_err(spec_error)?;
        let id_objects = int_objects(py, token_strings.len());
        let token_objects = token_strings.iter().map(|t| t.clone().into_any().unbind()).collect();
        let messages = messages(py, &value);
        let args = PyTuple::new(
            py,
            [
                kind.into_pyobject(py)?.into_any(),
                modality.clone().into_any(),
                spec.clone(),
                tokens.clone(),
                match compact {
                    Some(compact) => compact.clone().into_any(),
                    None => py.None().into_bound(py),
                },
            ],
        )?;
        Ok(Engine {
            core,
            modality: modality.clone().unbind(),
            id_objects,
            token_objects,
            messages,
            args: args.unbind(),
        })
    }

    /// Split ``text`` into token strings (``GrammarTokenizer.tokenize``).
    #[pyo3(signature = (text, on_error))]
    fn tokenize<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        on_error: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let ids = self.encode_one(py, text, policy(on_error)?)?;
        PyList::new(py, ids.iter().map(|&id| cached(py, &self.token_objects, id)))
    }

    /// The token ids of ``text`` (``GrammarTokenizer.encode``).
    #[pyo3(signature = (text, on_error))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        on_error: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let ids = self.encode_one(py, text, policy(on_error)?)?;
        self.id_list(py, &ids)
    }

    /// Encode many strings in parallel; a list of id lists, one per text.
    #[pyo3(signature = (texts, on_error, num_threads = None))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        on_error: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let flat = self.encode_flat(py, texts, on_error, num_threads)?;
        let rows = flat.offsets.windows(2).map(|w| {
            let (start, end) = (w[0] as usize, w[1] as usize);
            self.id_list(py, flat.ids.get(start..end).unwrap_or(&[]))
        });
        let rows: Vec<Bound<'py, PyList>> = rows.collect::<PyResult<_>>()?;
        PyList::new(py, rows)
    }

    /// Encode many strings in parallel into ``(ids uint32, row_offsets int64)``.
    #[pyo3(signature = (texts, on_error, num_threads = None))]
    fn encode_batch_arrays<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        on_error: &Bound<'py, PyAny>,
        num_threads: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<IdArrays<'py>> {
        // Import numpy first: a missing numpy is then an ImportError, not a panic.
        py.import("numpy")?;
        let flat = self.encode_flat(py, texts, on_error, num_threads)?;
        Ok((PyArray1::from_vec(py, flat.ids), PyArray1::from_vec(py, flat.offsets)))
    }

    /// Encode the rows of an Arrow ``string``/``large_string`` array from its buffers.
    ///
    /// Reads the buffers in place (no Python strings) and encodes every valid row with
    /// the GIL released; a row the grammar refuses does not stop the others. Returns
    /// ``(ids, row_offsets, status, failures)``: ``ids`` uint32 and ``row_offsets``
    /// int64 (``length + 1`` entries, empty rows for null and refused rows) as in
    /// ``encode_batch_arrays``; ``status`` uint8 per row (0 encoded, 1 null, 2 refused,
    /// 3 offsets or validity outside the buffers); ``failures`` a list of
    /// ``(row, position, code)`` for the refused rows, in row order, ``position``
    /// a code-point index into the row's text and ``code`` a reason code
    /// (``chemtok.reasons``; :meth:`reason` gives its message).
    ///
    /// Args:
    ///     length, offset: the array's ``len()`` and ``offset`` (sliced arrays).
    ///     large: ``True`` for int64 offsets (``large_string``), else int32.
    ///     validity, offsets, data: the array's three buffers (``array.buffers()``);
    ///         ``validity`` is ``None`` when no row is null.
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
        let core = &self.core;
        let encoded = py
            .detach(|| core.encode_each(&rows, on_error, threads))
            .map_err(PyRuntimeError::new_err)?;
        let failures = PyList::empty(py);
        for (row, failure) in encoded.failures {
            let bytes = rows.get(row).copied().unwrap_or_default();
            match failure {
                Failure::NoRule(NoRule { pos, reason }) => {
                    if let Some(code) = status.get_mut(row) {
                        *code = ROW_REFUSED;
                    }
                    failures.append((row, char_index(bytes, pos), reason.code()))?;
                }
                // A broken vocabulary or a lexer bug: not the row's fault, so not a row error.
                other => {
                    let text = PyString::new(py, &String::from_utf8_lossy(bytes));
                    return Err(self.error(py, text.as_any(), bytes, other, Some(row)));
                }
            }
        }
        Ok((
            PyArray1::from_vec(py, encoded.batch.ids),
            PyArray1::from_vec(py, encoded.batch.offsets),
            PyArray1::from_vec(py, status),
            failures,
        ))
    }

    /// The message of reason ``code`` (``chemtok.reasons``) for this engine's grammar.
    fn reason<'py>(&self, py: Python<'py>, code: &str) -> PyResult<Bound<'py, PyString>> {
        let reason = Reason::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| PyKeyError::new_err(format!("no reason code {code:?}")))?;
        self.message(py, reason)
    }

    /// The modality reported in errors.
    #[getter]
    fn modality(&self, py: Python<'_>) -> Py<PyString> {
        self.modality.clone_ref(py)
    }

    /// Number of tokens in the vocabulary.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.core.vocab_size()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        Ok((slf.get_type(), slf.get().args.bind(py).clone()))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let this = slf.get();
        Ok(format!(
            "<{} {} {} tokens>",
            slf.get_type().name()?,
            this.modality.bind(slf.py()).repr()?,
            this.core.vocab_size()
        ))
    }
}

/// The Rust fast path of chemtok (see ``chemtok.native``).
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<text::TextEngine>()?;
    m.add_class::<router::RouterEngine>()?;
    m.add_class::<detect::DetectorEngine>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
