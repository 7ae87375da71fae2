//! Byte-level helpers over UTF-8 (or WTF-8: UTF-8 plus encoded lone surrogates).

/// Length in bytes of the character starting at `text[pos]`, never past the end.
///
/// The lead byte decides (1 to 4 bytes); a stray continuation byte counts as one, so
/// the caller always makes progress even on bytes that are not UTF-8.
#[inline]
pub fn char_len_at(text: &[u8], pos: usize) -> usize {
    let Some(&lead) = text.get(pos) else {
        return 0;
    };
    let len = match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    len.min(text.len() - pos)
}

/// The code-point index of byte offset `byte_pos` (what Python calls the position).
///
/// Counts the bytes before `byte_pos` that start a character; used only when an
/// error is reported, so it may scan.
pub fn char_index(text: &[u8], byte_pos: usize) -> usize {
    let end = byte_pos.min(text.len());
    text[..end].iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// The characters of `s` as byte slices (each a complete UTF-8/WTF-8 sequence).
pub(crate) fn chars(s: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= s.len() {
            return None;
        }
        let len = char_len_at(s, pos);
        let piece = &s[pos..pos + len];
        pos += len;
        Some(piece)
    })
}

/// Number of leading ASCII digits of `text[pos..]`.
#[inline]
pub(crate) fn digit_run(text: &[u8], pos: usize) -> usize {
    text.get(pos..)
        .map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count())
}

/// `text[pos..].starts_with(prefix)`, false when `pos` is past the end.
#[inline]
pub(crate) fn starts_with_at(text: &[u8], pos: usize, prefix: &[u8]) -> bool {
    text.get(pos..).is_some_and(|rest| rest.starts_with(prefix))
}

/// Literal strings grouped by first byte, each group longest first.
///
/// At a position, the first entry of the group that matches is the longest literal
/// that matches, which is what the reference's alternations (sorted by length, then
/// text, and tried in order by Python `re`) select: two different literals of the
/// same length cannot both match at one position.
#[derive(Clone, Debug)]
pub(crate) struct LongestMatch<T> {
    groups: Vec<Vec<(Box<[u8]>, T)>>,
}

impl<T: Clone> LongestMatch<T> {
    pub(crate) fn new<I: IntoIterator<Item = (Vec<u8>, T)>>(items: I) -> Self {
        let mut groups: Vec<Vec<(Box<[u8]>, T)>> = vec![Vec::new(); 256];
        for (literal, payload) in items {
            let Some(&first) = literal.first() else {
                continue;
            };
            let group = &mut groups[first as usize];
            if group.iter().any(|(seen, _)| **seen == *literal) {
                continue;
            }
            group.push((literal.into_boxed_slice(), payload));
        }
        for group in &mut groups {
            group.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        }
        LongestMatch { groups }
    }

    /// The longest literal matching at `pos`: `(length in bytes, payload)`.
    #[inline]
    pub(crate) fn find(&self, text: &[u8], pos: usize) -> Option<(usize, &T)> {
        let rest = text.get(pos..)?;
        let first = *rest.first()?;
        self.groups[first as usize]
            .iter()
            .find(|(literal, _)| rest.starts_with(literal))
            .map(|(literal, payload)| (literal.len(), payload))
    }

    /// The ends of every literal matching at `pos` and ending at or before `end`,
    /// longest first: the order in which a backtracking regex tries the alternation
    /// (the SELFIES atom parser needs every match, not only the longest).
    #[inline]
    pub(crate) fn ends_within<'a>(
        &'a self,
        text: &'a [u8],
        pos: usize,
        end: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        let rest = text.get(pos..end.min(text.len())).unwrap_or(&[]);
        let group = rest.first().map_or(&[][..], |&first| &self.groups[first as usize][..]);
        group
            .iter()
            .filter(move |(literal, _)| rest.starts_with(literal))
            .map(move |(literal, _)| pos + literal.len())
    }

    /// Every literal, in no particular order.
    pub(crate) fn literals(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.groups.iter().flatten().map(|(literal, _)| &**literal)
    }
}
