//! A [`Tokenizer`]: one lexer plus its vocabulary, the `on_error` policies and the
//! batch loop.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Failure, SpecError};
use crate::inchi::{InchiLexer, InchiSpec};
use crate::merges::{MergeSpec, Merges};
use crate::ordered::{self, Rows};
use crate::pool::{self, Threads};
use crate::selfies::{SelfiesLexer, SelfiesSpec};
use crate::sequence::{SequenceLexer, SequenceSpec};
use crate::smiles::{SmilesLexer, SmilesSpec};
use crate::text::char_len_at;
use crate::vocab::Vocab;

/// What to do where no rule of the grammar covers the input (`GrammarTokenizer.tokenize`).
///
/// Recovery always starts at the lexeme that failed, which is where the lexer was
/// called, not where inside it the grammar gave up: under `Fallback` that one
/// character becomes its UTF-8 bytes as `<0xNN>` tokens, under `Skip` it is dropped,
/// and lexing resumes after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    Raise,
    Fallback,
    Skip,
}

impl OnError {
    /// The policy names, in the order the reference lists them.
    pub const NAMES: [&'static str; 3] = ["raise", "skip", "fallback"];

    /// Parse a policy name; `None` for anything else.
    #[inline]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "raise" => Some(OnError::Raise),
            "fallback" => Some(OnError::Fallback),
            "skip" => Some(OnError::Skip),
            _ => None,
        }
    }
}

// One per tokenizer, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Lexer {
    Smiles(SmilesLexer),
    Inchi(InchiLexer),
    Sequence(SequenceLexer),
    Selfies(SelfiesLexer),
}

/// The ids of a batch, flat: text `i` has `ids[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlatBatch {
    pub ids: Vec<u32>,
    pub offsets: Vec<i64>,
}

/// The ids of a batch encoded row by row, failures kept beside the ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowBatch {
    /// Failed texts have an empty row here.
    pub batch: FlatBatch,
    /// `(index, failure)` of every text that failed, in input order.
    pub failures: Vec<(usize, Failure)>,
}

/// Why a batch was not encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// The first text (in input order) that failed, and why.
    Text { index: usize, failure: Failure },
    /// The worker threads could not be started.
    Threads(String),
}

/// A grammar-driven tokenizer for one modality.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    lexer: Lexer,
    /// The lexer's vocabulary (for a compact model: the atom-level one).
    vocab: Vocab,
    modality: String,
    /// Learned merges applied after lexing (a compact SMILES model).
    merges: Option<Box<Merges>>,
}

impl Tokenizer {
    /// A SMILES tokenizer; `tokens` is the vocabulary in id order.
    pub fn smiles<T: AsRef<[u8]>>(modality: &str, spec: &SmilesSpec, tokens: &[T]) -> Result<Self, SpecError> {
        let vocab = Vocab::new(tokens)?;
        let lexer = Lexer::Smiles(SmilesLexer::new(spec, &vocab)?);
        Ok(Tokenizer {
            lexer,
            vocab,
            modality: modality.to_owned(),
            merges: None,
        })
    }

    /// A compact SMILES tokenizer: atom-level lexing with `unit_tokens` (which decide
    /// how brackets and ring numbers are spelled), then `merges` applied inside merge
    /// words (`SmilesTokenizer(model=...)`). `tokens` is the compact vocabulary in id
    /// order: `unit_tokens` first, then the merged tokens they lack.
    pub fn smiles_compact<T: AsRef<[u8]>>(
        modality: &str,
        spec: &SmilesSpec,
        unit_tokens: &[T],
        tokens: &[T],
        merges: &MergeSpec,
    ) -> Result<Self, SpecError> {
        let mut tokenizer = Tokenizer::smiles(modality, spec, unit_tokens)?;
        let table = Merges::new(&tokenizer.vocab, unit_tokens, tokens, merges)?;
        tokenizer.merges = Some(Box::new(table));
        Ok(tokenizer)
    }

    /// An InChI tokenizer; `tokens` is the vocabulary in id order.
    pub fn inchi<T: AsRef<[u8]>>(modality: &str, spec: &InchiSpec, tokens: &[T]) -> Result<Self, SpecError> {
        let vocab = Vocab::new(tokens)?;
        let lexer = Lexer::Inchi(InchiLexer::new(spec)?);
        Ok(Tokenizer {
            lexer,
            vocab,
            modality: modality.to_owned(),
            merges: None,
        })
    }

    /// A character-level sequence tokenizer (protein, DNA/RNA).
    pub fn sequence<T: AsRef<[u8]>>(modality: &str, spec: &SequenceSpec, tokens: &[T]) -> Result<Self, SpecError> {
        let vocab = Vocab::new(tokens)?;
        let lexer = Lexer::Sequence(SequenceLexer::new(spec, &vocab)?);
        Ok(Tokenizer {
            lexer,
            vocab,
            modality: modality.to_owned(),
            merges: None,
        })
    }

    /// A SELFIES tokenizer: one token per symbol, unseen atoms spelled from parts.
    pub fn selfies<T: AsRef<[u8]>>(modality: &str, spec: &SelfiesSpec, tokens: &[T]) -> Result<Self, SpecError> {
        let vocab = Vocab::new(tokens)?;
        let lexer = Lexer::Selfies(SelfiesLexer::new(spec)?);
        Ok(Tokenizer {
            lexer,
            vocab,
            modality: modality.to_owned(),
            merges: None,
        })
    }

    /// The SMILES lexer, for a SMILES tokenizer without merges (detection scans with it).
    pub(crate) fn smiles_lexer(&self) -> Option<&SmilesLexer> {
        match (&self.lexer, &self.merges) {
            (Lexer::Smiles(lexer), None) => Some(lexer),
            _ => None,
        }
    }

    /// The modality name reported in errors (`"smiles"`, `"protein"`, ...).
    pub fn modality(&self) -> &str {
        &self.modality
    }

    /// The lexer's vocabulary (for a compact model, the atom-level one).
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Number of ids this tokenizer can return (for a compact model, the size of the
    /// compact vocabulary).
    pub fn vocab_size(&self) -> usize {
        self.merges.as_ref().map_or(self.vocab.len(), |m| m.vocab_len())
    }

    /// Append the ids of `text` (UTF-8, or WTF-8 for lone surrogates) to `out`.
    ///
    /// On failure the ids of the lexemes before the failure stay in `out`; a caller
    /// that reuses `out` truncates it.
    #[inline]
    pub fn encode_into(&self, text: &[u8], on_error: OnError, out: &mut Vec<u32>) -> Result<(), Failure> {
        match &self.merges {
            None => self.lex_into(text, on_error, out),
            Some(merges) => {
                // Merging starts after the whole text lexed: errors are the lexer's.
                let mark = out.len();
                self.lex_into(text, on_error, out)?;
                merges.apply(out, mark);
                Ok(())
            }
        }
    }

    /// The atom-level unit ids of `text`, appended to `out`.
    #[inline]
    fn lex_into(&self, text: &[u8], on_error: OnError, out: &mut Vec<u32>) -> Result<(), Failure> {
        let vocab = &self.vocab;
        match &self.lexer {
            Lexer::Smiles(lexer) => drive(text, on_error, vocab, out, |pos, out| {
                lexer.lex_at(vocab, text, pos, out)
            }),
            Lexer::Inchi(lexer) => drive(text, on_error, vocab, out, |pos, out| {
                lexer.lex_at(vocab, text, pos, out)
            }),
            Lexer::Sequence(lexer) => drive(text, on_error, vocab, out, |pos, out| lexer.lex_at(text, pos, out)),
            Lexer::Selfies(lexer) => drive(text, on_error, vocab, out, |pos, out| {
                lexer.lex_at(vocab, text, pos, out)
            }),
        }
    }

    /// The ids of `text`.
    pub fn encode(&self, text: &[u8], on_error: OnError) -> Result<Vec<u32>, Failure> {
        // Every token covers at least one byte of input, so this never reallocates.
        let mut out = Vec::with_capacity(text.len());
        self.encode_into(text, on_error, &mut out)?;
        Ok(out)
    }

    /// Encode many texts, in parallel unless `threads` is one.
    ///
    /// Equal to encoding each text in turn; under `OnError::Raise` the error is that of
    /// the first failing text in input order, whichever thread met it first.
    pub fn encode_batch<T: AsRef<[u8]> + Sync>(
        &self,
        texts: &[T],
        on_error: OnError,
        threads: Threads,
    ) -> Result<FlatBatch, BatchError> {
        let first_error = AtomicUsize::new(usize::MAX);
        let rows = self
            .encode_rows(texts, on_error, threads, Some(&first_error))
            .map_err(BatchError::Threads)?;
        // Chunks hold consecutive texts, so the first failure in chunk order is the
        // first failing text in input order.
        if let Some((index, failure)) = rows.failures.into_iter().next() {
            return Err(BatchError::Text { index, failure });
        }
        Ok(FlatBatch {
            ids: rows.ids,
            offsets: rows.offsets,
        })
    }

    /// Encode many texts, each on its own: a failing text gets an empty row and its
    /// failure is recorded, and every other text is still encoded (Arrow batches,
    /// where one bad row must not fail the batch).
    ///
    /// Under `OnError::Fallback` and `OnError::Skip` nothing the grammar refuses
    /// fails, so only a broken vocabulary or a lexer bug lands in `failures`. The
    /// error is the worker threads' failure to start.
    pub fn encode_each<T: AsRef<[u8]> + Sync>(
        &self,
        texts: &[T],
        on_error: OnError,
        threads: Threads,
    ) -> Result<RowBatch, String> {
        let rows = self.encode_rows(texts, on_error, threads, None)?;
        Ok(RowBatch {
            batch: FlatBatch {
                ids: rows.ids,
                offsets: rows.offsets,
            },
            failures: rows.failures,
        })
    }

    /// The texts encoded in consecutive chunks and assembled in input order;
    /// `first_error` set means stop at the first failure (in input order: the rows are
    /// then incomplete and only the failures count), unset means record failures and go on.
    fn encode_rows<T: AsRef<[u8]> + Sync>(
        &self,
        texts: &[T],
        on_error: OnError,
        threads: Threads,
        first_error: Option<&AtomicUsize>,
    ) -> Result<Rows<(usize, Failure)>, String> {
        let mut rows = Rows::new(texts.len());
        let workers = threads.count();
        if workers <= 1 || texts.len() <= 1 {
            let chunk = self.encode_chunk(texts, 0, on_error, first_error);
            rows.take(chunk.ids, &chunk.lens, chunk.failures);
            return Ok(rows);
        }
        let pool = pool::pool(workers)?;
        // Each chunk joins the rows and is freed as soon as the chunks before it have:
        // a few chunks beside the rows at any time, so the peak is ~1x the result, not
        // 2x as when every chunk was kept until one final copy (see `crate::ordered`).
        ordered::in_order_slices(
            &pool,
            workers,
            texts,
            8192,
            |slice, start| self.encode_chunk(slice, start, on_error, first_error),
            |chunk| rows.take(chunk.ids, &chunk.lens, chunk.failures),
        );
        Ok(rows)
    }

    fn encode_chunk<T: AsRef<[u8]>>(
        &self,
        texts: &[T],
        base: usize,
        on_error: OnError,
        first_error: Option<&AtomicUsize>,
    ) -> Chunk {
        let capacity: usize = texts.iter().map(|t| t.as_ref().len()).sum();
        let mut chunk = Chunk {
            ids: Vec::with_capacity(capacity),
            lens: Vec::with_capacity(texts.len()),
            failures: Vec::new(),
        };
        // Ids and rows before these are merged.
        let mut merged = (0, 0);
        for (j, text) in texts.iter().enumerate() {
            let index = base + j;
            // An earlier text already failed: nothing after it is returned.
            if let Some(first) = first_error {
                if on_error == OnError::Raise && first.load(Ordering::Relaxed) < index {
                    break;
                }
            }
            if let Some(merges) = &self.merges {
                // Merges (a compact model) run over a few texts at a time (see
                // `Merges::apply_rows`), while their unit ids are still in cache.
                if chunk.lens.len() - merged.1 >= MERGE_ROWS {
                    merges.apply_rows(&mut chunk.ids, merged.0, &mut chunk.lens[merged.1..]);
                    merged = (chunk.ids.len(), chunk.lens.len());
                }
            }
            let mark = chunk.ids.len();
            match self.lex_into(text.as_ref(), on_error, &mut chunk.ids) {
                Ok(()) => chunk.lens.push(chunk.ids.len() - mark),
                Err(failure) => {
                    chunk.ids.truncate(mark);
                    chunk.failures.push((index, failure));
                    match first_error {
                        Some(first) => {
                            first.fetch_min(index, Ordering::Relaxed);
                            break;
                        }
                        None => chunk.lens.push(0),
                    }
                }
            }
        }
        if let Some(merges) = &self.merges {
            merges.apply_rows(&mut chunk.ids, merged.0, &mut chunk.lens[merged.1..]);
        }
        chunk
    }
}

/// Texts of a chunk lexed before their merges run together.
const MERGE_ROWS: usize = 16;

/// The ids of one slice of a batch.
struct Chunk {
    ids: Vec<u32>,
    lens: Vec<usize>,
    failures: Vec<(usize, Failure)>,
}

/// The policy loop of `GrammarTokenizer.tokenize`.
#[inline(always)]
fn drive(
    text: &[u8],
    on_error: OnError,
    vocab: &Vocab,
    out: &mut Vec<u32>,
    mut lex: impl FnMut(usize, &mut Vec<u32>) -> Result<usize, Failure>,
) -> Result<(), Failure> {
    let n = text.len();
    let mut pos = 0;
    while pos < n {
        let mark = out.len();
        match lex(pos, out) {
            Ok(end) if end > pos => pos = end,
            Ok(_) => {
                out.truncate(mark);
                return Err(Failure::Stalled(pos));
            }
            Err(Failure::NoRule(stuck)) => {
                out.truncate(mark);
                let len = char_len_at(text, pos);
                match on_error {
                    OnError::Raise => return Err(Failure::NoRule(stuck)),
                    OnError::Fallback => out.extend(text[pos..pos + len].iter().map(|&b| vocab.byte_id(b))),
                    OnError::Skip => {}
                }
                pos += len;
            }
            Err(other) => {
                out.truncate(mark);
                return Err(other);
            }
        }
    }
    Ok(())
}
