//! From bytes to typed models.
//!
//! The fast path is our own reader, typed by the model (`fast`), which takes no notes on
//! the way. Only when it gives up is the input parsed again by serde_json under path
//! tracking: that either accepts (the fast path is conservative about rare forms such as
//! quoted indices) or says exactly where and what is wrong. Errors cost time; successes
//! cost nothing extra.

mod fast;
mod reader;
mod refill;
mod scan;
mod spans;

use serde::Deserialize;

use crate::errors::{ParseError, Position};
use crate::model::StrictnessGuard;

pub use fast::FastParse;
pub use reader::{Reader, Reject, Result as FastResult};
pub use refill::Refill;
pub use scan::{skip_space, string_end};
pub use spans::{logprobs_spans, LogProbsSpans};

/// Parses one JSON document into `T`, borrowing strings from `input` where possible.
pub fn parse<'a, T>(input: &'a [u8], strict: bool) -> Result<T, ParseError>
where
    T: FastParse<'a> + Deserialize<'a>,
{
    let _mode = StrictnessGuard::new(strict);
    match fast::parse_document(input) {
        Ok(value) => Ok(value),
        Err(Reject) => parse_slow(input),
    }
}

/// serde_json with path tracking; its recursion limit keeps deep nesting off the stack.
fn parse_slow<'a, T: Deserialize<'a>>(input: &'a [u8]) -> Result<T, ParseError> {
    let mut track = serde_path_to_error::Track::new();
    let mut de = serde_json::Deserializer::from_slice(input);
    let result = T::deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .and_then(|value| de.end().map(|()| value));
    result.map_err(|e| {
        let offset = byte_offset(input, e.line(), e.column());
        let message = strip_position(&e.to_string(), e.line(), e.column());
        ParseError::new(
            message,
            Some(Position::at(input, offset)),
            json_path(&track.path()),
        )
    })
}

/// serde_json reports line and byte column; turn them back into an offset.
fn byte_offset(input: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &input[start..]) {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    // serde_json's column is that of the last byte read; point at it.
    (start + column.saturating_sub(1)).min(input.len())
}

fn strip_position(message: &str, line: usize, column: usize) -> String {
    let suffix = format!(" at line {line} column {column}");
    message.strip_suffix(&suffix).unwrap_or(message).to_owned()
}

pub fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    out.push('.');
                    out.push_str(key);
                } else {
                    out.push_str(&format!("[{key:?}]"));
                }
            }
            Segment::Enum { variant } => {
                out.push('.');
                out.push_str(variant);
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Chunk, Dump, IntoOwned, Mode, StopValue, With};
    use std::borrow::Cow;

    const SEED: &str = r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":20,"completion_tokens":1,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":10}},"signature":"sig"}"#;

    fn lossless(chunk: &Chunk<'_>) -> serde_json::Value {
        serde_json::to_value(With(chunk, Mode::Lossless)).unwrap()
    }

    #[test]
    fn parses_seed_and_borrows_strings() {
        let chunk: Chunk = parse(SEED.as_bytes(), false).unwrap();
        let choice = &chunk.choices.get().unwrap()[0];
        let content = choice.delta.get().unwrap().content.get().unwrap();
        assert_eq!(content.as_str(), "Hello");
        assert!(matches!(content.0, Cow::Borrowed(_)));
        let usage = chunk.usage.get().unwrap();
        assert_eq!(
            usage
                .prompt_tokens_details
                .get()
                .unwrap()
                .cached_tokens
                .get(),
            Some(&10)
        );
        assert_eq!(
            chunk.extra.get("signature").unwrap(),
            &crate::model::JsonValue::Str("sig".into())
        );
        let expected: serde_json::Value = serde_json::from_str(SEED).unwrap();
        assert_eq!(lossless(&chunk), expected);
        assert_eq!(lossless(&chunk.clone().into_owned()), expected);
    }

    #[test]
    fn lenient_forms_round_trip_and_normalise() {
        let src = r#"{"choices":[{"index":"1","delta":{"tool_calls":[{"index":"0","function":{"arguments":{"a":[1,2]}}}]},"stop_reason":{"Int":128009}}]}"#;
        let chunk: Chunk = parse(src.as_bytes(), false).unwrap();
        let choice = &chunk.choices.get().unwrap()[0];
        assert_eq!(choice.index.get().unwrap().value, 1);
        assert_eq!(
            choice.stop_reason.get().unwrap().value,
            StopValue::Int(128009)
        );
        let call = &choice.delta.get().unwrap().tool_calls.get().unwrap()[0];
        let args = call.function.get().unwrap().arguments.get().unwrap();
        assert_eq!(args.text.as_str(), r#"{"a":[1,2]}"#);
        let expected: serde_json::Value = serde_json::from_str(src).unwrap();
        assert_eq!(lossless(&chunk), expected);
        let canonical = serde_json::to_value(With(&chunk, Mode::Canonical)).unwrap();
        assert_eq!(canonical["choices"][0]["index"], 1);
        assert_eq!(canonical["choices"][0]["stop_reason"], 128009);
        let err = parse::<Chunk>(src.as_bytes(), true).unwrap_err();
        assert_eq!(err.path, "$.choices[0].index", "{err}");
    }

    #[test]
    fn schema_error_has_line_column_and_path() {
        let src = "{\"choices\": [],\n \"usage\": {\"prompt_tokens\": \"many\"}}";
        let err = parse::<Chunk>(src.as_bytes(), false).unwrap_err();
        let p = err.position.unwrap();
        assert_eq!(p.line, 2);
        assert_eq!(err.path, "$.usage.prompt_tokens");
        assert_eq!(
            &src[p.offset as usize..p.offset as usize + 1],
            "\"",
            "{err}"
        );
    }

    #[test]
    fn syntax_and_shape_errors() {
        for bad in [
            &b"{\"choices\": [}"[..],
            b"[1]",
            b"{}",
            b"{\"choices\":[]} x",
            b"{\"choices\":[], \"id\": \"\xff\"}",
            b"{\"choices\":[], \"x\": \"\\ud800\"}",
            b"{\"choices\":[{\"index\": 99999999999}]}",
            b"{\"choices\":[], \"usage\": {\"total_tokens\": 1e400}}",
        ] {
            assert!(
                parse::<Chunk>(bad, false).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!(
            "{{\"choices\":[],\"x\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let err = parse::<Chunk>(deep.as_bytes(), false).unwrap_err();
        assert_eq!(err.position.unwrap().line, 1);
    }

    #[test]
    fn strict_demands_the_object_type() {
        let src = SEED.replace("chat.completion.chunk", "chat.completion");
        assert!(parse::<Chunk>(src.as_bytes(), false).is_ok());
        let err = parse::<Chunk>(src.as_bytes(), true).unwrap_err();
        assert!(err.message.contains("chat.completion.chunk"), "{err}");
        assert!(parse::<Chunk>(SEED.as_bytes(), true).is_ok());
    }

    #[test]
    fn full_mode_writes_every_known_key() {
        let chunk: Chunk = parse(br#"{"choices":[]}"#, false).unwrap();
        let full = serde_json::to_value(With(&chunk, Mode::Full)).unwrap();
        assert!(full["usage"].is_null() && full.get("service_tier").is_some());
        let mut out = Vec::new();
        chunk
            .dump(
                &mut serde_json::Serializer::new(&mut out),
                Mode::FullExcludeNone,
            )
            .unwrap();
        assert_eq!(out, br#"{"choices":[]}"#);
    }

    /// The fast path is only worth having if it takes ordinary chunks, and only correct if
    /// whatever it accepts, serde_json accepts as the same value.
    #[test]
    fn fast_path_takes_ordinary_chunks_and_agrees_with_serde_json() {
        let escapes =
            r#"{"choices":[{"index":0,"delta":{"content":"a\"b\\c\n\u00e9\ud83d\ude00 é"}}]}"#;
        let logprobs = r#"{"choices":[{"index":0,"delta":{},"logprobs":{"content":[{"token":" a","logprob":-0.0013,"bytes":[32,97],"top_logprobs":[{"token":"b","logprob":-1e-5,"bytes":null}]}],"refusal":null}}]}"#;
        let extras = r#"{"choices":[], "x": {"a": [1, -2, 3.5, 1e300, true, false, null, "s", 18446744073709551615, -9223372036854775808, 1e2]}, "usage": null}"#;
        let stop = r#"{"choices":[{"index":0,"delta":{},"stop_reason":{"Int":128009}},{"index":1,"delta":{},"stop_reason":"</s>"}]}"#;
        let tools = r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":{"q":[1,{"r":null}]}}}]}}]}"#;
        let spaced = " \n\t{ \"choices\" : [ ] , \"id\" : \"x\" } \r\n";
        let quoted = r#"{"choices":[{"index":"3","delta":{"tool_calls":[{"index":"10"}]}}]}"#;
        for src in [SEED, escapes, logprobs, extras, stop, tools, spaced, quoted] {
            let _mode = StrictnessGuard::new(false);
            let fast: Chunk =
                fast::parse_document(src.as_bytes()).unwrap_or_else(|_| panic!("{src}"));
            let slow: Chunk = parse_slow(src.as_bytes()).unwrap();
            assert_eq!(fast, slow, "{src}");
        }
        let rejected_by_json = [
            &b"{\"choices\":[],}"[..],
            b"{\"choices\":[1,]}",
            b"{\"choices\":[]",
            b"{\"choices\":[]}}",
            b"{\"choices\":[], \"x\": 01}",
            b"{\"choices\":[], \"x\": -}",
            b"{\"choices\":[], \"x\": 1.}",
            b"{\"choices\":[], \"x\": \"\t\"}",
            b"{\"choices\":[], \"x\": \"\\ud800\"}",
            b"{\"choices\":[], \"x\": \"\\q\"}",
            b"{\"choices\":[], \"x\": nul}",
            b"{\"choices\":[], \"x\": tru}",
            b"{\"choices\":[], \"x\": 1e999}",
            b"{\"choices\":[], \"x\": \"\xff\"}",
            b"{choices:[]}",
            b"{\"choices\":[]} []",
        ];
        for src in [
            &br#"{"choices":[{"index":"01"}]}"#[..],
            br#"{"choices":[{"index":""}]}"#,
        ] {
            let _mode = StrictnessGuard::new(false);
            assert!(fast::parse_document::<Chunk>(src).is_err());
            assert!(parse::<Chunk>(src, false).is_err());
        }
        for src in rejected_by_json {
            let _mode = StrictnessGuard::new(false);
            assert!(
                fast::parse_document::<Chunk>(src).is_err(),
                "{}",
                String::from_utf8_lossy(src)
            );
            assert!(parse::<Chunk>(src, false).is_err());
        }
    }
}
