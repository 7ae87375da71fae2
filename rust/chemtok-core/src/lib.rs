//! chemtok-core: the grammar-driven lexers of chemtok, in Rust, without Python.
//!
//! This crate is the fast path of the Python package `chemtok`; the pure-Python
//! tokenizers in `chemtok/` are the reference it must agree with token for token,
//! id for id, and error position for error position.
//!
//! Nothing here holds a grammar table of its own. A [`Tokenizer`] is built from a
//! grammar spec ([`SmilesSpec`], [`InchiSpec`], [`SequenceSpec`]) and the vocabulary's
//! token list in id order, both handed over by the caller (the Python binding reads
//! them from `grammars/*.toml` through `chemtok.grammar`). A compact SMILES model adds
//! its merges and word rules ([`MergeSpec`]), applied to the atom-level units.
//!
//! Text is taken as bytes: UTF-8, or "WTF-8" when the Python string holds lone
//! surrogates (encoded with `surrogatepass`). Every position inside the crate is a
//! byte offset; [`char_index`] converts one to the code-point index Python reports.
//!
//! No function here panics on user input: every refusal is a [`Failure`].

mod bpe;
mod bpe_json;
mod detect;
mod error;
mod inchi;
mod merges;
mod ordered;
mod pool;
mod pretokenize;
pub mod router;
mod selfies;
mod sequence;
mod smiles;
mod text;
mod tokenizer;
mod vocab;

pub use bpe::{BpeSpec, ByteLevelBpe, PieceCache};
pub use detect::{Cue, DetectSpec, Detector, Lexers, MinLength, Modality, Outcome, Span};
pub use error::{Failure, NoRule, PropKind, Reason, SpecError};
pub use inchi::InchiSpec;
pub use merges::MergeSpec;
pub use pool::Threads;
pub use pretokenize::PreTokenizer;
pub use selfies::SelfiesSpec;
pub use sequence::SequenceSpec;
pub use smiles::SmilesSpec;
pub use text::{char_index, char_len_at};
pub use tokenizer::{BatchError, FlatBatch, OnError, RowBatch, Tokenizer};
pub use vocab::{byte_token, Vocab};

#[cfg(test)]
mod tests;
