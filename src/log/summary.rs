//! What planning needs to know of a [`MergedBlock`], in a form cheap to move between
//! workers: one buffer rather than thousands of Python strings and tuples (building,
//! pickling and unpickling those was 8 ms of every Dask merge, on the path the rest waits
//! on).

use std::collections::HashSet;

use super::MergedBlock;

/// A block's lines, keys and the streams it may leave open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSummary {
    pub lines: u64,
    /// Every key with the line of its first record (0-based), in that order.
    keys: Vec<(String, u64)>,
    /// The keys whose stream may be open at the end of the block: with a choice not
    /// finished, and finished without a usage report.
    pub unfinished: Vec<String>,
    pub unreported: Vec<String>,
}

impl BlockSummary {
    pub fn of(block: &MergedBlock) -> BlockSummary {
        let owned = |keys: Vec<&str>| keys.into_iter().map(str::to_owned).collect();
        let (unfinished, unreported) = block.open_keys();
        BlockSummary {
            lines: block.lines,
            keys: block.keys().map(|(k, line)| (k.to_owned(), line)).collect(),
            unfinished: owned(unfinished),
            unreported: owned(unreported),
        }
    }

    /// The keys whose first record is before line `limit`, with that line, in order.
    pub fn head(&self, limit: u64) -> impl Iterator<Item = (&str, u64)> {
        self.keys
            .iter()
            .take_while(move |(_, line)| *line < limit)
            .map(|(k, line)| (k.as_str(), *line))
    }

    /// Those of `keys` that the block has.
    pub fn among<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
        let mine: HashSet<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        keys.into_iter().filter(|k| mine.contains(k)).collect()
    }

    /// Little-endian: lines, then each list as a count and its items, a key as its byte
    /// length and bytes, a first line; every number a u64.
    pub fn to_bytes(&self) -> Vec<u8> {
        let text: usize = self.keys.iter().map(|(k, _)| k.len() + 16).sum();
        let open = self.unfinished.len() + self.unreported.len();
        let mut out = Vec::with_capacity(32 + text + open * 40);
        out.extend_from_slice(&self.lines.to_le_bytes());
        put_len(&mut out, self.keys.len());
        for (key, line) in &self.keys {
            put_key(&mut out, key);
            out.extend_from_slice(&line.to_le_bytes());
        }
        for list in [&self.unfinished, &self.unreported] {
            put_len(&mut out, list.len());
            for key in list {
                put_key(&mut out, key);
            }
        }
        out
    }

    /// The summary `to_bytes` wrote; None for anything else.
    pub fn from_bytes(data: &[u8]) -> Option<BlockSummary> {
        let mut at = Reader { data, at: 0 };
        let lines = at.u64()?;
        let count = at.len()?;
        let mut keys = Vec::with_capacity(count.min(data.len() / 12));
        for _ in 0..count {
            keys.push((at.key()?, at.u64()?));
        }
        let mut list = || -> Option<Vec<String>> { (0..at.len()?).map(|_| at.key()).collect() };
        let unfinished = list()?;
        let unreported = list()?;
        (at.at == data.len()).then_some(BlockSummary {
            lines,
            keys,
            unfinished,
            unreported,
        })
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u64).to_le_bytes());
}

fn put_key(out: &mut Vec<u8>, key: &str) {
    put_len(out, key.len());
    out.extend_from_slice(key.as_bytes());
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let bytes = self.data.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    fn key(&mut self) -> Option<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, body: &str) -> String {
        format!(
            r#"{{"id":"{id}","object":"chat.completion.chunk","created":1,"model":"m",{body}}}"#
        )
    }

    fn summary() -> BlockSummary {
        let lines = [
            line("a", r#""choices":[{"index":0,"delta":{"content":"x"}}]"#),
            line(
                "b",
                r#""choices":[{"index":0,"delta":{},"finish_reason":"stop"}]"#,
            ),
            // A key with an escaped line end and quote, as JSON may hold.
            line(
                r#"é\n\"c"#,
                r#""choices":[{"index":0,"delta":{"content":"y"}}]"#,
            ),
            line("a", r#""choices":[{"index":0,"delta":{"content":"z"}}]"#),
        ];
        BlockSummary::of(&MergedBlock::merge(lines.join("\n").as_bytes(), None, None))
    }

    #[test]
    fn a_summary_lists_keys_in_order_and_the_streams_left_open() {
        let s = summary();
        assert_eq!(s.lines, 4);
        let head: Vec<_> = s.head(u64::MAX).collect();
        assert_eq!(head, [("a", 0), ("b", 1), ("é\n\"c", 2)]);
        assert_eq!(s.head(2).count(), 2);
        assert_eq!(s.unfinished, ["a", "é\n\"c"]);
        assert_eq!(s.unreported, ["b"]);
        assert_eq!(s.among(["b", "z", "a"]), ["b", "a"]);
    }

    #[test]
    fn a_summary_round_trips_through_bytes_and_refuses_anything_else() {
        let s = summary();
        let bytes = s.to_bytes();
        assert_eq!(BlockSummary::from_bytes(&bytes), Some(s));
        for cut in 0..bytes.len() {
            assert_eq!(
                BlockSummary::from_bytes(&bytes[..cut]),
                None,
                "cut at {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(BlockSummary::from_bytes(&longer), None);
        let mut huge = bytes;
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(BlockSummary::from_bytes(&huge), None);
    }
}
