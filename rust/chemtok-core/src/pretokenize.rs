//! Hand-written scanners for the regex pre-tokenizers of byte-level BPE models.
//!
//! `tokenizers` splits text with a backtracking regex (Oniguruma). The three patterns
//! chemtok supports are simple enough to scan by hand, one character class lookup per
//! character, with the one lookahead (`\s+(?!\S)`) emulated: match a whitespace run,
//! then give its last character back when a non-space follows and the run is longer
//! than one character.
//!
//! - [`PreTokenizer::Gpt2`]: `ByteLevel(use_regex=true)`, the GPT-2 pattern
//!   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
//! - [`PreTokenizer::DigitsGpt2`]: `Digits(individual_digits=true)` first (every
//!   numeric character its own piece), then the GPT-2 pattern inside the rest.
//! - [`PreTokenizer::Llama3`]: `Split(Isolated)` with the Llama 3 pattern
//!   `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//!   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
//!
//! Every scanner tiles its input: the pieces are non-empty, consecutive, and
//! concatenate to the text (each step consumes at least one character). That is what
//! makes byte-level BPE lossless on valid UTF-8: every byte of every piece has a token.
//!
//! The classes `\p{L}`, `\p{N}` and `\s` come from the Unicode tables of
//! `regex-syntax` (`\s` is Unicode `White_Space`), looked up by binary search outside
//! ASCII.

use std::sync::OnceLock;

use regex_syntax::hir::{Class as HirClass, HirKind};

/// The pre-tokenizers of the supported byte-level BPE family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreTokenizer {
    /// GPT-2's `ByteLevel(add_prefix_space=false, use_regex=true)`.
    Gpt2,
    /// `Sequence[Digits(individual_digits=true), ByteLevel(use_regex=true)]` (chemtok's model).
    DigitsGpt2,
    /// `Sequence[Split(Llama 3 regex, Isolated), ByteLevel(use_regex=false)]`.
    Llama3,
}

/// The regex of `Split` that [`PreTokenizer::Llama3`] stands for, exactly as in the file.
pub const LLAMA3_PATTERN: &str = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

impl PreTokenizer {
    /// Call `piece` with the `(start, end)` byte range of every piece of `text`, in order.
    pub fn for_each_piece(self, text: &str, mut piece: impl FnMut(usize, usize)) {
        let bytes = text.as_bytes();
        match self {
            PreTokenizer::Gpt2 => gpt2(bytes, 0, bytes.len(), &mut piece),
            PreTokenizer::Llama3 => llama3(bytes, &mut piece),
            PreTokenizer::DigitsGpt2 => {
                // `Digits` isolates every numeric character (`char::is_numeric`: the
                // categories Nd, Nl and No, so also `²` and `½`), not only ASCII digits.
                let mut start = 0;
                for (i, c) in text.char_indices() {
                    let numeric = if c.is_ascii() {
                        c.is_ascii_digit()
                    } else {
                        c.is_numeric()
                    };
                    if numeric {
                        if start < i {
                            gpt2(bytes, start, i, &mut piece);
                        }
                        let end = i + c.len_utf8();
                        piece(i, end);
                        start = end;
                    }
                }
                if start < bytes.len() {
                    gpt2(bytes, start, bytes.len(), &mut piece);
                }
            }
        }
    }

    /// The pieces of `text` as string slices (for tests and the Python `pieces`).
    pub fn pieces(self, text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        self.for_each_piece(text, |a, b| out.push(&text[a..b]));
        out
    }
}

/// The character classes of the patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Cls {
    Letter = 0,
    Number = 1,
    Space = 2,
    Other = 3,
}

/// Sorted, disjoint `(first, last, class)` code point ranges outside ASCII.
struct Tables {
    ranges: Vec<(u32, u32, Cls)>,
    ascii: [Cls; 128],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut ranges = Vec::new();
        for (pattern, cls) in [(r"\p{L}", Cls::Letter), (r"\p{N}", Cls::Number), (r"\s", Cls::Space)] {
            // The patterns are constants; regex-syntax always parses them into a class.
            let hir = regex_syntax::parse(pattern).unwrap_or_else(|_| regex_syntax::hir::Hir::empty());
            if let HirKind::Class(HirClass::Unicode(class)) = hir.kind() {
                for r in class.iter() {
                    ranges.push((u32::from(r.start()), u32::from(r.end()), cls));
                }
            }
        }
        ranges.sort_unstable_by_key(|r| r.0);
        let mut ascii = [Cls::Other; 128];
        for (c, slot) in ascii.iter_mut().enumerate() {
            *slot = lookup(&ranges, c as u32);
        }
        Tables { ranges, ascii }
    })
}

fn lookup(ranges: &[(u32, u32, Cls)], c: u32) -> Cls {
    let k = ranges.partition_point(|r| r.0 <= c);
    match k.checked_sub(1).map(|k| ranges[k]) {
        Some((_, last, cls)) if c <= last => cls,
        _ => Cls::Other,
    }
}

/// The class and byte length of the character starting at `i` (`i < bytes.len()`,
/// `bytes` valid UTF-8 and `i` on a character boundary).
#[inline(always)]
fn class_at(t: &Tables, bytes: &[u8], i: usize) -> (Cls, usize) {
    let b = bytes[i];
    if b < 0x80 {
        return (t.ascii[b as usize], 1);
    }
    let (c, len) = decode(bytes, i);
    (lookup(&t.ranges, c), len)
}

#[inline(always)]
fn decode(bytes: &[u8], i: usize) -> (u32, usize) {
    let b = bytes[i] as u32;
    let cont = |k: usize| (bytes[i + k] & 0x3f) as u32;
    if b < 0xe0 {
        (((b & 0x1f) << 6) | cont(1), 2)
    } else if b < 0xf0 {
        (((b & 0x0f) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        (((b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3), 4)
    }
}

/// End of the run of `cls` characters starting at `i` (which is of that class), and
/// the start of its last character.
#[inline(always)]
fn run(t: &Tables, bytes: &[u8], mut i: usize, end: usize, cls: Cls) -> (usize, usize) {
    let mut last = i;
    while i < end {
        let (c, len) = class_at(t, bytes, i);
        if c != cls {
            break;
        }
        last = i;
        i += len;
    }
    (i, last)
}

/// Length of a contraction (`s t re ve m ll d`) after an apostrophe at `i - 1`, or 0.
#[inline(always)]
fn contraction(bytes: &[u8], i: usize, end: usize, fold: bool) -> usize {
    let at = |k: usize| -> u8 {
        let b = if i + k < end { bytes[i + k] } else { 0 };
        if fold {
            b.to_ascii_lowercase()
        } else {
            b
        }
    };
    match at(0) {
        b's' | b't' | b'm' | b'd' => 1,
        b'r' | b'v' if at(1) == b'e' => 2,
        b'l' if at(1) == b'l' => 2,
        _ => 0,
    }
}

/// A whitespace run at `i`: `\s+(?!\S)` (giving back the last character before a
/// non-space), else `\s+`.
#[inline(always)]
fn whitespace(t: &Tables, bytes: &[u8], i: usize, end: usize) -> usize {
    let (stop, last) = run(t, bytes, i, end, Cls::Space);
    if stop < end && last > i {
        last
    } else {
        stop
    }
}

fn gpt2(bytes: &[u8], mut i: usize, end: usize, piece: &mut impl FnMut(usize, usize)) {
    let t = tables();
    while i < end {
        let start = i;
        let (cls, len) = class_at(t, bytes, i);
        let stop = match cls {
            Cls::Letter | Cls::Number => run(t, bytes, i, end, cls).0,
            Cls::Other => {
                let k = if bytes[i] == b'\'' {
                    contraction(bytes, i + 1, end, false)
                } else {
                    0
                };
                if k > 0 {
                    i + 1 + k
                } else {
                    other_run(t, bytes, i, end)
                }
            }
            Cls::Space => {
                let next = if bytes[i] == b' ' && i + 1 < end {
                    Some(class_at(t, bytes, i + 1).0)
                } else {
                    None
                };
                match next {
                    Some(c @ (Cls::Letter | Cls::Number)) => run(t, bytes, i + 1, end, c).0,
                    Some(Cls::Other) => other_run(t, bytes, i + 1, end),
                    _ => whitespace(t, bytes, i, end),
                }
            }
        };
        debug_assert!(stop >= start + len);
        piece(start, stop);
        i = stop;
    }
}

/// End of a `[^\s\p{L}\p{N}]+` run starting at `i`.
#[inline(always)]
fn other_run(t: &Tables, bytes: &[u8], i: usize, end: usize) -> usize {
    run(t, bytes, i, end, Cls::Other).0
}

fn llama3(bytes: &[u8], piece: &mut impl FnMut(usize, usize)) {
    let t = tables();
    let end = bytes.len();
    let mut i = 0;
    while i < end {
        let start = i;
        let b = bytes[i];
        let (cls, len) = class_at(t, bytes, i);
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if b == b'\'' {
            let k = contraction(bytes, i + 1, end, true);
            if k > 0 {
                piece(start, i + 1 + k);
                i += 1 + k;
                continue;
            }
        }
        let stop = match cls {
            // \p{L}+ (the optional prefix is absent)
            Cls::Letter => run(t, bytes, i, end, Cls::Letter).0,
            // \p{N}{1,3}
            Cls::Number => {
                let mut j = i;
                let mut n = 0;
                while j < end && n < 3 {
                    let (c, l) = class_at(t, bytes, j);
                    if c != Cls::Number {
                        break;
                    }
                    j += l;
                    n += 1;
                }
                j
            }
            _ => {
                let next = if i + len < end {
                    Some(class_at(t, bytes, i + len).0)
                } else {
                    None
                };
                if b != b'\r' && b != b'\n' && next == Some(Cls::Letter) {
                    // [^\r\n\p{L}\p{N}]\p{L}+
                    run(t, bytes, i + len, end, Cls::Letter).0
                } else if cls == Cls::Other || (b == b' ' && next == Some(Cls::Other)) {
                    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
                    let from = if cls == Cls::Other { i } else { i + 1 };
                    let mut j = other_run(t, bytes, from, end);
                    while j < end && (bytes[j] == b'\r' || bytes[j] == b'\n') {
                        j += 1;
                    }
                    j
                } else {
                    // Whitespace: \s*[\r\n]+ up to the run's last line break, else
                    // \s+(?!\S), else \s+.
                    let (stop, _) = run(t, bytes, i, end, Cls::Space);
                    match bytes[i..stop].iter().rposition(|&c| c == b'\r' || c == b'\n') {
                        Some(k) => i + k + 1,
                        None => whitespace(t, bytes, i, end),
                    }
                }
            }
        };
        piece(start, stop);
        i = stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_pieces() {
        let p = PreTokenizer::Gpt2;
        assert_eq!(p.pieces("Hello world"), ["Hello", " world"]);
        assert_eq!(p.pieces("it's  a\tb  "), ["it", "'s", " ", " a", "\t", "b", "  "]);
        assert_eq!(p.pieces("C6H12O6 !! 12"), ["C", "6", "H", "12", "O", "6", " !!", " 12"]);
        assert_eq!(p.pieces("x  \n y"), ["x", "  \n", " y"]);
        assert_eq!(p.pieces("'S 'll"), ["'", "S", " '", "ll"]);
    }

    #[test]
    fn digits_isolate_each_ascii_digit() {
        let p = PreTokenizer::DigitsGpt2;
        assert_eq!(p.pieces("at 78 °C"), ["at", " ", "7", "8", " °", "C"]);
        assert_eq!(p.pieces("m² ½x"), ["m", "²", " ", "½", "x"]);
    }

    #[test]
    fn llama3_pieces() {
        let p = PreTokenizer::Llama3;
        assert_eq!(
            p.pieces("Hello world's 12345"),
            ["Hello", " world", "'s", " ", "123", "45"]
        );
        assert_eq!(p.pieces("a\n\n  b"), ["a", "\n\n", " ", " b"]);
        assert_eq!(p.pieces("(x) !!\n\nIT'S"), ["(x", ")", " !!\n\n", "IT", "'S"]);
        assert_eq!(p.pieces("  \t"), ["  \t"]);
    }

    #[test]
    fn unicode_classes() {
        let t = tables();
        let cls = |s: &str| class_at(t, s.as_bytes(), 0).0;
        assert_eq!(cls("é"), Cls::Letter);
        assert_eq!(cls("٣"), Cls::Number);
        assert_eq!(cls("\u{3000}"), Cls::Space);
        assert_eq!(cls("°"), Cls::Other);
        assert_eq!(cls("😀"), Cls::Other);
    }
}
