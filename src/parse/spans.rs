//! Validating a `logprobs` value without building it.
//!
//! A merge that only wants the completion keeps the token entries of a chunk as their JSON
//! text (see `model::LazyLogProbs`). That text must be exactly what the typed parse would
//! accept, so this walks it with the same reader and the same rules as `FastParse` for
//! `Field<Box<LogProbs>>`, building nothing but the (rare) unknown keys.

use std::ops::Range;

use crate::model::{is_strict, Extra, Field, IntoOwned, JsonValue};

use super::reader::{Reader, Reject, Result};
use super::FastParse;

/// A choice's `logprobs` object: where its lists lie, and its unknown keys (owned, so
/// that a buffer of these outlives the event they come from; they are rare).
#[derive(Debug, Clone, PartialEq)]
pub struct LogProbsSpans {
    /// The text between the brackets of `content`, if it was a list.
    pub content: Field<Range<usize>>,
    pub refusal: Field<Range<usize>>,
    pub extra: Extra<'static>,
}

/// Reads a `logprobs` value (`null` or an object), positions relative to the reader's
/// input. Lenient parsing only: strict parsing demands keys this does not track.
pub fn logprobs_spans(r: &mut Reader<'_>) -> Result<Field<LogProbsSpans>> {
    if is_strict() {
        return Err(Reject);
    }
    if r.null()? {
        return Ok(Field::Null);
    }
    let mut spans = LogProbsSpans {
        content: Field::Absent,
        refusal: Field::Absent,
        extra: Extra::default(),
    };
    r.object(|r, key| {
        match key.as_str() {
            "content" => spans.content = entries(r)?,
            "refusal" => spans.refusal = entries(r)?,
            _ => {
                let value = JsonValue::fast_parse(r)?;
                spans.extra.0.push((key.into_owned(), value.into_owned()));
            }
        }
        Ok(())
    })?;
    Ok(Field::Value(spans))
}

/// A list of token entries (`Vec<LogProbContent>`), or null.
fn entries(r: &mut Reader<'_>) -> Result<Field<Range<usize>>> {
    if r.null()? {
        return Ok(Field::Null);
    }
    r.peek();
    let open = r.position();
    r.array(|r| entry(r, true))?;
    Ok(Field::Value(open + 1..r.position() - 1))
}

/// One `LogProbContent`, or with `top` false one `TopLogProb`: every key may be null.
fn entry(r: &mut Reader<'_>, top: bool) -> Result<()> {
    r.object(|r, key| {
        // A null is a null field, or an unknown key's null value: fine either way.
        if r.null()? {
            return Ok(());
        }
        match key.as_str() {
            "token" => r.skip_string(),
            "logprob" => r.finite_number(),
            "bytes" => r.skip_i64_array(),
            "top_logprobs" if top => r.array(|r| entry(r, false)),
            _ => JsonValue::fast_parse(r).map(drop),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LogProbs, StrictnessGuard};
    use crate::parse::fast::parse_document;

    /// Accepts exactly what the typed parse accepts, and finds the lists it reads.
    #[test]
    fn spans_agree_with_the_typed_parse() {
        let good = r#"{"content":[{"token":"a","logprob":-1.5,"bytes":[97],"top_logprobs":[{"token":"a","logprob":-1.5,"bytes":[97]},{"token":"b","logprob":-2,"bytes":[98],"x":[{}]}]}],"refusal":null}"#;
        let cases = [
            good.to_owned(),
            "null".to_owned(),
            "{}".to_owned(),
            r#"{"content":[],"refusal":[ ],"e":{"f":[1,-0,2.5e3]}}"#.to_owned(),
            r#"{"content":null,"content":[{"token":null,"logprob":null,"bytes":null,"top_logprobs":null}]}"#.to_owned(),
            r#" { "content" : [ { "token" : "x\"\u00e9" } , {} ] } "#.to_owned(),
            good.replace("-1.5", "\"-1.5\""),
            good.replace("[97]", "[97.5]"),
            good.replace("[97]", "[\"a\"]"),
            good.replace("[97]", "[9223372036854775808]"),
            good.replace("\"a\"", "1"),
            good.replace("-1.5", "1e999"),
            good.replace("-2", "-2."),
            good.replace(r#""top_logprobs":["#, r#""top_logprobs":{"a":["#),
            good.replace(r#""x":[{}]"#, r#""x":[{]"#),
            good.replace(r#""x":[{}]"#, r#""top_logprobs":[]"#),
            good.replace("\"a\"", "\"a\\q\""),
            good.replace("}]}", "}]"),
            good.replace("[{\"token\"", "{\"token\""),
            good.replace("null}", "nul}"),
        ];
        for case in &cases {
            let typed = parse_document::<Field<Box<LogProbs>>>(case.as_bytes());
            let mut r = Reader::new(case.as_bytes());
            let spans = logprobs_spans(&mut r).and_then(|s| r.end().map(|()| s));
            assert_eq!(spans.is_ok(), typed.is_ok(), "{case}");
            let (Ok(spans), Ok(typed)) = (spans, typed) else {
                continue;
            };
            let (Field::Value(spans), Field::Value(typed)) = (spans, typed) else {
                continue;
            };
            for (span, list) in [
                (&spans.content, &typed.content),
                (&spans.refusal, &typed.refusal),
            ] {
                let from_span = span.clone().map(|s| {
                    let text = format!("[{}]", &case[s]);
                    parse_document::<Vec<crate::model::LogProbContent>>(text.as_bytes())
                        .unwrap()
                        .len()
                });
                assert_eq!(from_span, list.clone().map(|l| l.len()), "{case}");
            }
            assert_eq!(spans.extra, typed.extra, "{case}");
        }
        let _strict = StrictnessGuard::new(true);
        assert!(logprobs_spans(&mut Reader::new(good.as_bytes())).is_err());
    }
}
