//! Validating a `logprobs` value by comparing it with the last one.
//!
//! A stream sends its log probabilities in the same shape chunk after chunk: the same keys,
//! as many entries and alternatives; only the tokens, log probabilities and byte arrays
//! differ. A [`LogProbsLayout`] keeps a validated value's bytes with those values as holes.
//! A value that matches it everywhere but in the holes, each hole holding what the typed
//! parser accepts for its key, is valid exactly as the recorded one was, and its lists lie
//! where the recorded ones did, shifted by the holes' lengths. Anything else is left to
//! `parse::logprobs_spans`.

use std::ops::Range;

use crate::model::{Extra, Field, JsonValue};
use crate::parse::{FastParse, LogProbsSpans, Reader, Reject};

#[derive(Debug, Clone, Copy)]
enum Slot {
    Token,
    LogProb,
    Bytes,
}

/// A place in the value: a literal, and an offset inside it.
type Mark = (usize, usize);

#[derive(Debug)]
pub struct LogProbsLayout {
    bytes: Vec<u8>,
    /// The bytes between holes: one more than there are holes.
    literals: Vec<Range<usize>>,
    slots: Vec<Slot>,
    /// Where the text between the brackets of each list begins and ends.
    content: Field<(Mark, Mark)>,
    refusal: Field<(Mark, Mark)>,
    /// Those marks as (literal, offset, list, end), sorted by literal: what `read` must
    /// note as it passes each literal.
    marks: Vec<(usize, usize, usize, bool)>,
}

impl LogProbsLayout {
    /// The layout of `value`, a `logprobs` object that `parse::logprobs_spans` accepted, if
    /// it has only the lists (unknown keys at its top would need reading every time).
    pub fn record(value: &[u8]) -> Option<Self> {
        let mut holes = Vec::new();
        let mut lists = [Field::Absent, Field::Absent];
        let mut r = Reader::new(value);
        r.object(|r, key| {
            let list = match key.as_str() {
                "content" => &mut lists[0],
                "refusal" => &mut lists[1],
                _ => return Err(Reject),
            };
            if r.null()? {
                *list = Field::Null;
                return Ok(());
            }
            r.peek();
            let open = r.position() + 1;
            r.array(|r| entry_holes(r, true, &mut holes))?;
            *list = Field::Value((open, r.position() - 1));
            Ok(())
        })
        .ok()?;
        r.end().ok()?;
        let mut literals = Vec::with_capacity(holes.len() + 1);
        let mut slots = Vec::with_capacity(holes.len());
        let mut at = 0;
        for (span, slot) in holes {
            literals.push(at..span.start);
            slots.push(slot);
            at = span.end;
        }
        literals.push(at..value.len());
        // A list's brackets are literal bytes: find the literal holding each end.
        let mark = |position: usize| {
            let i = literals
                .iter()
                .position(|l| l.start <= position && position < l.end)?;
            Some((i, position - literals[i].start))
        };
        let marks = |list: &Field<(usize, usize)>| -> Option<Field<(Mark, Mark)>> {
            Some(match *list {
                Field::Value((open, close)) => Field::Value((mark(open)?, mark(close)?)),
                Field::Null => Field::Null,
                Field::Absent => Field::Absent,
            })
        };
        let content = marks(&lists[0])?;
        let refusal = marks(&lists[1])?;
        let mut sorted = Vec::new();
        for (k, list) in [&content, &refusal].into_iter().enumerate() {
            if let Field::Value(((open, from), (close, to))) = *list {
                sorted.push((open, from, k, false));
                sorted.push((close, to, k, true));
            }
        }
        sorted.sort_unstable();
        Some(LogProbsLayout {
            content,
            refusal,
            marks: sorted,
            bytes: value.to_vec(),
            literals,
            slots,
        })
    }

    /// Where the value at `at` in `data` ends and what `logprobs_spans` would find in it,
    /// if it has this layout.
    pub fn read(&self, data: &[u8], mut at: usize) -> Option<(usize, LogProbsSpans)> {
        let mut starts = [0usize; 2];
        let mut ends = [0usize; 2];
        let mut mark = 0;
        for (i, literal) in self.literals.iter().enumerate() {
            if !starts_with_literal(&data[at..], &self.bytes[literal.clone()]) {
                return None;
            }
            while let Some(&(_, offset, k, end)) = self.marks.get(mark).filter(|m| m.0 == i) {
                let place = if end { &mut ends[k] } else { &mut starts[k] };
                *place = at + offset;
                mark += 1;
            }
            at += literal.len();
            if let Some(slot) = self.slots.get(i) {
                let mut r = Reader::at(data, at);
                match slot {
                    Slot::Token => r.skip_string(),
                    Slot::LogProb => r.finite_number(),
                    Slot::Bytes => r.skip_i64_array(),
                }
                .ok()?;
                at = r.position();
            }
        }
        let span = |k: usize, list: &Field<(Mark, Mark)>| match list {
            Field::Value(_) => Field::Value(starts[k]..ends[k]),
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        };
        let spans = LogProbsSpans {
            content: span(0, &self.content),
            refusal: span(1, &self.refusal),
            extra: Extra::default(),
        };
        Some((at, spans))
    }
}

/// `data.starts_with(literal)`: the literals between holes are mostly short, and a few
/// word compares cost less than a call to `memcmp`, which long ones still get.
#[inline]
pub fn starts_with_literal(data: &[u8], literal: &[u8]) -> bool {
    let n = literal.len();
    let Some(data) = data.get(..n) else {
        return false;
    };
    if n > 32 {
        return data == literal;
    }
    if n < 8 {
        return data.iter().zip(literal).all(|(a, b)| a == b);
    }
    let word = |s: &[u8], i: usize| {
        u64::from_le_bytes(
            s.get(i..i + 8)
                .and_then(|w| w.try_into().ok())
                .unwrap_or_default(),
        )
    };
    let mut i = 0;
    while i + 8 < n {
        if word(data, i) != word(literal, i) {
            return false;
        }
        i += 8;
    }
    // The last eight bytes, overlapping what was compared.
    word(data, n - 8) == word(literal, n - 8)
}

/// The holes of one entry (`top`) or alternative: string tokens, numeric log probabilities
/// and byte arrays. Other values (nulls, unknown keys) stay literal.
fn entry_holes(
    r: &mut Reader<'_>,
    top: bool,
    holes: &mut Vec<(Range<usize>, Slot)>,
) -> Result<(), Reject> {
    r.object(|r, key| {
        let next = r.peek();
        let start = r.position();
        let slot = match (key.as_str(), next) {
            ("token", Some(b'"')) => {
                r.string()?;
                Slot::Token
            }
            ("logprob", Some(b'-' | b'0'..=b'9')) => {
                r.f64()?;
                Slot::LogProb
            }
            ("bytes", Some(b'[')) => {
                r.i64_array(drop)?;
                Slot::Bytes
            }
            ("top_logprobs", Some(b'[')) if top => {
                return r.array(|r| entry_holes(r, false, holes));
            }
            _ => return JsonValue::fast_parse(r).map(drop),
        };
        holes.push((start..r.position(), slot));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::logprobs_spans;

    const VALUE: &str = r#"{"content":[{"token":"a","logprob":-1.5,"bytes":[97],"top_logprobs":[{"token":"a","logprob":-1.5,"bytes":[97]},{"token":"b","logprob":-2,"bytes":null,"n":1}]}],"refusal":null}"#;

    fn spans(value: &str) -> Option<(usize, LogProbsSpans)> {
        let mut r = Reader::new(value.as_bytes());
        let spans = logprobs_spans(&mut r).ok()?;
        match spans {
            Field::Value(spans) => Some((r.position(), spans)),
            _ => None,
        }
    }

    #[test]
    fn a_value_of_the_same_layout_reads_as_the_validator_reads_it() {
        let layout = LogProbsLayout::record(VALUE.as_bytes()).unwrap();
        for next in [
            VALUE.to_owned(),
            VALUE
                .replace("\"a\"", "\"x\\\"yz\"")
                .replace("[97]", "[1,2,3]"),
            VALUE.replace("-1.5", "0").replace("-2", "-2.5e-7"),
            VALUE.replace("[97]", "[]"),
        ] {
            assert_eq!(layout.read(next.as_bytes(), 0), spans(&next), "{next}");
        }
        for other in [
            VALUE.replace("-1.5", "null"),
            VALUE.replace("[97]", "null"),
            VALUE.replace("-1.5", "\"x\""),
            VALUE.replace("[97]", "[9.5]"),
            VALUE.replace("-1.5", "1e999"),
            VALUE.replace("\"a\"", "\"a\\q\""),
            VALUE.replace("\"n\":1", "\"n\":2"),
            VALUE.replace("null}", "[]}"),
            VALUE.replace("}]}]", "},{}]}]"),
        ] {
            assert_eq!(layout.read(other.as_bytes(), 0), None, "{other}");
        }
    }

    #[test]
    fn literal_prefixes_agree_with_starts_with() {
        let text = b"{\"content\":[{\"token\":\"a\",\"logprob\":-1}]}";
        for start in 0..text.len() {
            for len in 0..=text.len() - start {
                let literal = &text[start..start + len];
                for at in 0..text.len() {
                    let data = &text[at..];
                    assert_eq!(
                        starts_with_literal(data, literal),
                        data.starts_with(literal)
                    );
                }
            }
        }
    }

    #[test]
    fn unknown_keys_at_the_top_are_not_recorded() {
        assert!(LogProbsLayout::record(br#"{"content":[],"k":1}"#).is_none());
        assert!(LogProbsLayout::record(b"null").is_none());
        assert!(LogProbsLayout::record(br#"{"content":[]}"#).is_some());
    }
}
