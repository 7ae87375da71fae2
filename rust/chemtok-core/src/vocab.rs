//! The vocabulary: token bytes to ids, and the byte-fallback block.

use rustc_hash::FxHashMap;

use crate::error::{Failure, SpecError};

const NONE: u32 = u32::MAX;

/// The byte-fallback token of one byte, as the reference spells it (`<0xC2>`).
pub fn byte_token(value: u8) -> String {
    format!("<0x{value:02X}>")
}

/// An ordered list of unique tokens; the id of a token is its index.
#[derive(Clone, Debug)]
pub struct Vocab {
    ids: FxHashMap<Box<[u8]>, u32>,
    len: usize,
    byte_ids: [u32; 256],
    single: [u32; 256],
}

impl Vocab {
    /// Build from the full token list in id order (special tokens, the 256 byte
    /// tokens `<0x00>`..`<0xFF>`, modality tokens), as the Python `Vocabulary` holds it.
    pub fn new<T: AsRef<[u8]>>(tokens: &[T]) -> Result<Self, SpecError> {
        if u32::try_from(tokens.len()).map_or(true, |n| n == NONE) {
            return Err(SpecError(format!(
                "vocabulary has {} tokens, too many for u32 ids",
                tokens.len()
            )));
        }
        let mut ids = FxHashMap::default();
        ids.reserve(tokens.len());
        let mut single = [NONE; 256];
        for (index, token) in tokens.iter().enumerate() {
            let token = token.as_ref();
            let id = index as u32;
            if ids.insert(Box::<[u8]>::from(token), id).is_some() {
                return Err(SpecError(format!(
                    "vocabulary token {:?} appears twice",
                    String::from_utf8_lossy(token)
                )));
            }
            if let [b] = token {
                single[*b as usize] = id;
            }
        }
        let mut byte_ids = [NONE; 256];
        for (value, slot) in byte_ids.iter_mut().enumerate() {
            let name = byte_token(value as u8);
            *slot = *ids
                .get(name.as_bytes())
                .ok_or_else(|| SpecError(format!("vocabulary lacks the byte-fallback token {name}")))?;
        }
        Ok(Vocab {
            ids,
            len: tokens.len(),
            byte_ids,
            single,
        })
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty vocabulary (never the case once built: it has byte tokens).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The id of `token`, if it is in the vocabulary.
    #[inline]
    pub fn get(&self, token: &[u8]) -> Option<u32> {
        if let [b] = token {
            let id = self.single[*b as usize];
            return (id != NONE).then_some(id);
        }
        self.ids.get(token).copied()
    }

    /// The id of `token`, or the failure that reports it missing.
    #[inline]
    pub(crate) fn require(&self, token: &[u8]) -> Result<u32, Failure> {
        self.get(token).ok_or_else(|| Failure::MissingToken(token.to_vec()))
    }

    /// Append the id of `token` to `out`.
    #[inline]
    pub(crate) fn push(&self, token: &[u8], out: &mut Vec<u32>) -> Result<(), Failure> {
        out.push(self.require(token)?);
        Ok(())
    }

    /// The id of the byte-fallback token of `value`.
    #[inline]
    pub fn byte_id(&self, value: u8) -> u32 {
        self.byte_ids[value as usize]
    }

    /// Every token with its id (for building derived tables).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], u32)> + '_ {
        self.ids.iter().map(|(token, &id)| (&**token, id))
    }
}
