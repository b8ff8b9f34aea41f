//! Checking every chunk of a JSONL or SSE file, reporting each bad one with its position.

use crate::errors::{ParseError, Position};
use crate::model::Chunk;
use crate::parse::parse;
use crate::sse::SseDecoder;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One chunk per line.
    Jsonl,
    /// Server-sent events, one chunk per `data:` event.
    Sse,
}

impl Format {
    /// SSE when the first non-blank line is an SSE field or comment, JSONL otherwise.
    pub fn detect(input: &[u8]) -> Format {
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let first = input
            .split(|&b| b == b'\n' || b == b'\r')
            .map(|line| line.trim_ascii())
            .find(|line| !line.is_empty())
            .unwrap_or_default();
        let is_sse = [&b"data:"[..], b"event:", b"id:", b"retry:", b":"]
            .iter()
            .any(|prefix| first.starts_with(prefix));
        if is_sse {
            Format::Sse
        } else {
            Format::Jsonl
        }
    }
}

/// A chunk that failed to parse, positioned in the whole input.
pub type Problem = ParseError;

/// Every bad chunk of `input`, in input order. `[DONE]` markers and blank lines are fine.
pub fn validate(input: &[u8], format: Format) -> Vec<Problem> {
    match format {
        Format::Jsonl => validate_jsonl(input),
        Format::Sse => validate_sse(input),
    }
}

fn validate_jsonl(input: &[u8]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut start = 0;
    let mut line_no = 1;
    while start < input.len() {
        let end = memchr::memchr(b'\n', &input[start..]).map_or(input.len(), |i| start + i);
        let line = &input[start..end];
        if !line.trim_ascii().is_empty() {
            if let Err(e) = parse::<Chunk>(line, false) {
                let base = Position {
                    line: line_no,
                    column: 1,
                    offset: start as u64,
                };
                problems.push(e.within(base));
            }
        }
        start = end + 1;
        line_no += 1;
    }
    problems
}

fn validate_sse(input: &[u8]) -> Vec<Problem> {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let decoded = decoder
        .feed(input, &mut events)
        .and_then(|()| decoder.finish(&mut events));
    let mut problems = Vec::new();
    for event in &events {
        let data = event.data.trim_ascii();
        if data.is_empty() || data == b"[DONE]" {
            continue;
        }
        if let Err(e) = parse::<Chunk>(&event.data, false) {
            problems.push(e.within(data_start(input, event.line, event.offset)));
        }
    }
    if let Err(e) = decoded {
        let offset = match e {
            crate::sse::SseError::EventTooLarge { offset, .. } => offset as usize,
        };
        problems.push(ParseError::new(
            e.to_string(),
            Some(Position::at(input, offset)),
            "$",
        ));
    }
    problems
}

/// Where an event's data begins: after `data:` and the one optional space.
pub fn data_start(input: &[u8], line: u64, line_offset: u64) -> Position {
    let at = line_offset as usize;
    let rest = input.get(at..).unwrap_or_default();
    let prefix = if rest.starts_with(b"data: ") {
        6
    } else if rest.starts_with(b"data:") {
        5
    } else {
        0
    };
    Position {
        line,
        column: prefix as u64 + 1,
        offset: (at + prefix) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(Format::detect(b"\n\ndata: {}\n"), Format::Sse);
        assert_eq!(Format::detect(b": keep-alive\n"), Format::Sse);
        assert_eq!(Format::detect(b"{\"choices\":[]}\n"), Format::Jsonl);
    }

    #[test]
    fn jsonl_problems_are_positioned_in_the_file() {
        let input = b"{\"choices\":[]}\n\n{\"choices\":[], \"created\": \"x\"}\nnot json\n";
        let problems = validate(input, Format::Jsonl);
        assert_eq!(problems.len(), 2);
        let first = problems[0].position.unwrap();
        assert_eq!(first.line, 3);
        assert_eq!(problems[0].path, "$.created");
        // Errors point at the last byte of the offending value: the closing quote of "x".
        assert_eq!(
            &input[first.offset as usize - 2..=first.offset as usize],
            b"\"x\""
        );
        assert_eq!(problems[1].position.unwrap().line, 4);
    }

    #[test]
    fn sse_problems_are_positioned_after_the_prefix() {
        let input = b": hi\ndata: {\"choices\":[]}\n\ndata:{\"choices\":1}\n\ndata: [DONE]\n\n";
        let problems = validate(input, Format::Sse);
        assert_eq!(problems.len(), 1);
        let p = problems[0].position.unwrap();
        assert_eq!(p.line, 4);
        assert_eq!(problems[0].path, "$.choices");
        assert_eq!(input[p.offset as usize], b'1');
    }
}
