//! Re-reading only what changes from one chunk to the next.
//!
//! Within a stream, consecutive chunks are mostly the same bytes: the same id, model,
//! fingerprint and structure, with only the text fragment (and OpenAI's random
//! `obfuscation` padding, and log probabilities when asked for) different. A
//! [`ChunkTemplate`] keeps the bytes of a chunk just parsed, with its varying values marked
//! as holes. A new chunk whose bytes match the template everywhere but in the holes, each
//! hole holding a valid value of its kind, parses to the template's chunk with those values
//! put in: exactly what the full parse would give, since parsing is a function of the bytes.
//! Anything else falls back to the full parse.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use crate::layout::LogProbsLayout;
use crate::model::{Chunk, ChunkChoice, Delta, Field, IntoOwned, JsonValue, Text};
use crate::parse::{self, skip_space, string_end, FastParse, LogProbsSpans, Reader, Refill};

/// Larger chunks are rare and not worth keeping a copy of.
const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// Where a varying value sits in a chunk: a string re-read in place, or a whole value re-parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    Content(usize),
    Refusal(usize),
    ReasoningContent(usize),
    Reasoning(usize),
    ToolArguments(usize, usize),
    FunctionArguments(usize),
    /// A top-level unknown key with a string value (OpenAI's `obfuscation`).
    Extra(usize),
    /// A choice's whole `logprobs` value: re-parsed, not just re-read.
    LogProbs(usize),
    /// An unknown key of a choice's delta with an array or object value, re-parsed:
    /// OpenRouter sends the reasoning text again inside `reasoning_details` on every chunk.
    DeltaExtra(usize, usize),
    /// The whole `usage` value (vLLM reports it on every chunk, its counts growing).
    Usage,
}

#[derive(Debug)]
pub struct ChunkTemplate {
    bytes: Vec<u8>,
    /// The bytes between holes: one more than there are holes.
    literals: Vec<Range<usize>>,
    holes: Vec<Hole>,
    /// Shared with whoever took the last filled chunk; filling again copies it only if
    /// they still hold it.
    chunk: Arc<Chunk<'static>>,
    /// The layout of the last `logprobs` value validated for each choice position, for
    /// `fill_merging`.
    layouts: Vec<(usize, LogProbsLayout)>,
    /// Made by `record_for_merging`: `chunk` lacks the fields merging takes only once, so
    /// only `fill_merging` may fill it.
    for_merging: bool,
}

impl ChunkTemplate {
    /// A template of `chunk`, just parsed from `data`, if it is worth keeping: it has holes,
    /// and each can be found in `data`.
    pub fn record(data: &[u8], chunk: Chunk<'_>) -> Option<Self> {
        Self::build(data, chunk, false)
    }

    /// `record` for a caller that only ever calls `fill_merging`, and has merged `chunk`
    /// itself: the chunk kept lacks the fields that a merge takes from a stream's first
    /// chunk that has them (`id`, `model`, `created`, `system_fingerprint`, `service_tier`)
    /// and `object`, which it ignores. A chunk of this layout has the very same values, so
    /// merging them again would change nothing; not owning them saves most of the strings
    /// a template copies (and frees).
    pub fn record_for_merging(data: &[u8], chunk: Chunk<'_>) -> Option<Self> {
        Self::build(data, chunk, true)
    }

    fn build(data: &[u8], mut chunk: Chunk<'_>, for_merging: bool) -> Option<Self> {
        if data.len() > MAX_TEMPLATE_BYTES {
            return None;
        }
        let holes = holes_of(&chunk);
        let mut spans = Vec::with_capacity(holes.len());
        for (n, &hole) in holes.iter().enumerate() {
            let span = match text_at(&chunk, hole) {
                // A string read without escapes lies where it was borrowed from; an
                // escaped one (tool arguments nearly always are) is found by its key.
                Some(text) => match borrowed_span(data, text) {
                    Some(span) => span,
                    None => escaped_span(data, &chunk, &holes, n)?,
                },
                None => span_at(data, &value_path(&chunk, hole)?)?,
            };
            spans.push((span, hole));
        }
        // Chunks carry one or two varying strings; more means an unusual layout.
        if spans.is_empty() || spans.len() > 8 {
            return None;
        }
        spans.sort_unstable_by_key(|(span, _)| span.start);
        let mut literals = Vec::with_capacity(spans.len() + 1);
        let mut at = 0;
        for (span, _) in &spans {
            literals.push(at..span.start);
            at = span.end;
        }
        literals.push(at..data.len());
        if for_merging {
            chunk.id = Field::Absent;
            chunk.object = Field::Absent;
            chunk.created = Field::Absent;
            chunk.model = Field::Absent;
            chunk.system_fingerprint = Field::Absent;
            chunk.service_tier = Field::Absent;
        }
        Some(ChunkTemplate {
            bytes: data.to_vec(),
            literals,
            holes: spans.into_iter().map(|(_, hole)| hole).collect(),
            // Moved, not cloned: its vectors are reused as they are.
            chunk: Arc::new(chunk.into_owned()),
            layouts: Vec::new(),
            for_merging,
        })
    }

    /// The chunk `data` parses to, if it has this template's layout.
    ///
    /// Holes are written as they are read. A chunk that turns out not to fit leaves some of
    /// them changed, which is harmless (every fill writes every hole), but then may have
    /// copied a chunk someone holds for nothing: rare, as layouts differ early or not at all.
    /// None for a template made by `record_for_merging`.
    pub fn fill(&mut self, data: &[u8]) -> Option<&Arc<Chunk<'static>>> {
        if self.for_merging {
            return None;
        }
        self.fill_built(data)
    }

    /// `fill`, whatever the template was made for.
    fn fill_built(&mut self, data: &[u8]) -> Option<&Arc<Chunk<'static>>> {
        self.fill_holes(data, |chunk, c, reader| {
            // Over the last chunk's value: its strings and vectors are reused.
            let chunk = Arc::make_mut(chunk);
            choice_mut(chunk, c)?.logprobs.refill(reader).ok()
        })
    }

    /// `fill` for a caller that only merges the chunk: each `logprobs` hole is validated and
    /// located (pushed onto `spans` with its choice's position), not built, and the chunk
    /// returned holds stale `logprobs` for those choices, which must not be read.
    pub fn fill_merging(
        &mut self,
        data: &[u8],
        spans: &mut Vec<(usize, Field<LogProbsSpans>)>,
    ) -> Option<&Arc<Chunk<'static>>> {
        spans.clear();
        // Without log probabilities, the plain fill does the same with less bookkeeping.
        if !self.holes.iter().any(|h| matches!(h, Hole::LogProbs(_))) {
            return self.fill_built(data);
        }
        let mut layouts = std::mem::take(&mut self.layouts);
        let filled = self
            .fill_holes(data, |_, c, reader| {
                let start = reader.position();
                let layout = layouts.iter().position(|(choice, _)| *choice == c);
                if let Some((end, found)) = layout.and_then(|l| layouts[l].1.read(data, start)) {
                    *reader = Reader::at(data, end);
                    spans.push((c, Field::Value(found)));
                    return Some(());
                }
                let found = parse::logprobs_spans(reader).ok()?;
                // The next chunk most likely has this value's layout.
                let recorded = LogProbsLayout::record(&data[start..reader.position()]);
                match (layout, recorded) {
                    (Some(l), Some(recorded)) => layouts[l].1 = recorded,
                    (None, Some(recorded)) => layouts.push((c, recorded)),
                    (_, None) => {}
                }
                spans.push((c, found));
                Some(())
            })
            .is_some();
        self.layouts = layouts;
        filled.then_some(&self.chunk)
    }

    fn fill_holes<'d>(
        &mut self,
        data: &'d [u8],
        mut logprobs: impl FnMut(&mut Arc<Chunk<'static>>, usize, &mut Reader<'d>) -> Option<()>,
    ) -> Option<&Arc<Chunk<'static>>> {
        let mut at = 0;
        for (literal, hole) in self.literals.iter().zip(&self.holes) {
            let literal = &self.bytes[literal.clone()];
            if !data[at..].starts_with(literal) {
                return None;
            }
            let mut reader = Reader::at(data, at + literal.len());
            match *hole {
                Hole::LogProbs(c) => logprobs(&mut self.chunk, c, &mut reader)?,
                Hole::DeltaExtra(c, e) => {
                    let sent = JsonValue::fast_parse(&mut reader).ok()?.into_owned();
                    delta_mut(Arc::make_mut(&mut self.chunk), c)?
                        .extra
                        .0
                        .get_mut(e)?
                        .1 = sent;
                }
                Hole::Usage => Arc::make_mut(&mut self.chunk)
                    .usage
                    .refill(&mut reader)
                    .ok()?,
                hole => {
                    // Read over the last chunk's value: no allocation, no second copy.
                    let slot = text_at_mut(Arc::make_mut(&mut self.chunk), hole)?;
                    reader.string_into(slot.0.to_mut()).ok()?;
                }
            }
            at = reader.position();
        }
        let last = self.literals.last()?;
        (data[at..] == self.bytes[last.clone()]).then_some(&self.chunk)
    }
}

/// The span of `text`, quotes included, when it is borrowed from `data` as it stands.
fn borrowed_span(data: &[u8], text: &Text<'_>) -> Option<Range<usize>> {
    let Cow::Borrowed(s) = &text.0 else {
        return None;
    };
    let start = (s.as_ptr() as usize).checked_sub(data.as_ptr() as usize)?;
    let end = start + s.len();
    let quoted = start >= 1 && data.get(start - 1) == Some(&b'"') && data.get(end) == Some(&b'"');
    quoted.then(|| start - 1..end + 1)
}

/// The span, quotes included, of the escaped string of `holes[n]`, found by its key: the
/// holes with that key are the only string values of that key in the document, in
/// document order, when there are as many of those as of them (a raw `"` cannot occur
/// inside a JSON string, so every match of `"key"` is a string of the document itself,
/// and followed by `:` it is a key). Anything else is left to the parser.
fn escaped_span(data: &[u8], chunk: &Chunk<'_>, holes: &[Hole], n: usize) -> Option<Range<usize>> {
    let key = key_of(chunk, holes[n])?;
    let same_key: Vec<Hole> = holes
        .iter()
        .copied()
        .filter(|&h| key_of(chunk, h) == Some(key))
        .collect();
    // Tool and legacy function arguments share a key but not an order.
    if same_key
        .iter()
        .any(|h| std::mem::discriminant(h) != std::mem::discriminant(&holes[n]))
    {
        return None;
    }
    let nth = same_key.iter().position(|&h| h == holes[n])?;
    let pattern = format!("\"{key}\"");
    let mut found = Vec::with_capacity(same_key.len());
    for at in memchr::memmem::find_iter(data, pattern.as_bytes()) {
        let after_key = skip_space(data, at + pattern.len());
        if data.get(after_key) != Some(&b':') {
            continue;
        }
        let value = skip_space(data, after_key + 1);
        if data.get(value) == Some(&b'"') {
            found.push(value..string_end(data, value)?);
        }
    }
    if found.len() != same_key.len() {
        return None;
    }
    Some(found.swap_remove(nth))
}

/// The key whose value a string hole is.
fn key_of<'c>(chunk: &'c Chunk<'_>, hole: Hole) -> Option<&'c str> {
    Some(match hole {
        Hole::Content(_) => "content",
        Hole::Refusal(_) => "refusal",
        Hole::ReasoningContent(_) => "reasoning_content",
        Hole::Reasoning(_) => "reasoning",
        Hole::ToolArguments(..) | Hole::FunctionArguments(_) => "arguments",
        Hole::Extra(e) => chunk.extra.0.get(e)?.0.as_str(),
        Hole::LogProbs(_) | Hole::DeltaExtra(..) | Hole::Usage => return None,
    })
}

fn holes_of(chunk: &Chunk<'_>) -> Vec<Hole> {
    let mut holes = Vec::new();
    for (c, choice) in chunk.choices.get().into_iter().flatten().enumerate() {
        let Some(delta) = choice.delta.get() else {
            continue;
        };
        let present = [
            (delta.content.get().is_some(), Hole::Content(c)),
            (delta.refusal.get().is_some(), Hole::Refusal(c)),
            (
                delta.reasoning_content.get().is_some(),
                Hole::ReasoningContent(c),
            ),
            (delta.reasoning.get().is_some(), Hole::Reasoning(c)),
            (
                delta
                    .function_call
                    .get()
                    .is_some_and(|f| f.arguments.get().is_some()),
                Hole::FunctionArguments(c),
            ),
        ];
        holes.extend(present.into_iter().filter(|(p, _)| *p).map(|(_, h)| h));
        for (e, (_, value)) in delta.extra.0.iter().enumerate() {
            if matches!(value, JsonValue::Array(_) | JsonValue::Object(_)) {
                holes.push(Hole::DeltaExtra(c, e));
            }
        }
        // A null `logprobs` stays literal (the next chunk likely has null too).
        if choice.logprobs.get().is_some() {
            holes.push(Hole::LogProbs(c));
        }
        for (t, call) in delta.tool_calls.get().into_iter().flatten().enumerate() {
            if call
                .function
                .get()
                .is_some_and(|f| f.arguments.get().is_some())
            {
                holes.push(Hole::ToolArguments(c, t));
            }
        }
    }
    for (e, (_, value)) in chunk.extra.0.iter().enumerate() {
        if matches!(value, JsonValue::Str(_)) {
            holes.push(Hole::Extra(e));
        }
    }
    if chunk.usage.get().is_some() {
        holes.push(Hole::Usage);
    }
    holes
}

fn text_at<'c, 'a>(chunk: &'c Chunk<'a>, hole: Hole) -> Option<&'c Text<'a>> {
    let delta = |c: usize| chunk.choices.get()?.get(c)?.delta.get();
    match hole {
        Hole::Content(c) => delta(c)?.content.get(),
        Hole::Refusal(c) => delta(c)?.refusal.get(),
        Hole::ReasoningContent(c) => delta(c)?.reasoning_content.get(),
        Hole::Reasoning(c) => delta(c)?.reasoning.get(),
        Hole::FunctionArguments(c) => Some(&delta(c)?.function_call.get()?.arguments.get()?.text),
        Hole::ToolArguments(c, t) => {
            let call = delta(c)?.tool_calls.get()?.get(t)?;
            let arguments = call.function.get()?.arguments.get()?;
            // Arguments sent as an object are not a string to re-read.
            arguments.sent_as_json.is_none().then_some(&arguments.text)
        }
        Hole::Extra(e) => match &chunk.extra.0.get(e)?.1 {
            JsonValue::Str(text) => Some(text),
            _ => None,
        },
        Hole::LogProbs(_) | Hole::DeltaExtra(..) | Hole::Usage => None,
    }
}

/// A step of the way to a value: an object's key, or an array's position.
#[derive(Debug, Clone, Copy)]
enum Step<'k> {
    Key(&'k str),
    At(usize),
}

/// The way to a hole of `chunk` that is a whole value (not a string re-read in place).
fn value_path<'c>(chunk: &'c Chunk<'_>, hole: Hole) -> Option<Vec<Step<'c>>> {
    match hole {
        Hole::LogProbs(c) => Some(vec![
            Step::Key("choices"),
            Step::At(c),
            Step::Key("logprobs"),
        ]),
        Hole::DeltaExtra(c, e) => {
            let delta = chunk.choices.get()?.get(c)?.delta.get()?;
            Some(vec![
                Step::Key("choices"),
                Step::At(c),
                Step::Key("delta"),
                Step::Key(delta.extra.0.get(e)?.0.as_str()),
            ])
        }
        Hole::Usage => Some(vec![Step::Key("usage")]),
        _ => None,
    }
}

/// Where the value at `path` lies in `data`, found by walking the document's structure;
/// None if it is not there or is there twice (a repeated key: which one counts is the
/// parser's business). Only templates are made this way, so the walk need not be fast.
fn span_at(data: &[u8], path: &[Step]) -> Option<Range<usize>> {
    fn walk(
        r: &mut Reader<'_>,
        path: &[Step],
        found: &mut Vec<Range<usize>>,
    ) -> crate::parse::FastResult<()> {
        let Some((step, rest)) = path.split_first() else {
            r.peek();
            let start = r.position();
            r.skip()?;
            found.push(start..r.position());
            return Ok(());
        };
        match (step, r.peek()) {
            (Step::Key(want), Some(b'{')) => r.object(|r, key| {
                if key.as_str() == *want {
                    walk(r, rest, found)
                } else {
                    r.skip()
                }
            }),
            (Step::At(want), Some(b'[')) => {
                let mut at = 0;
                r.array(|r| {
                    let result = if at == *want {
                        walk(r, rest, found)
                    } else {
                        r.skip()
                    };
                    at += 1;
                    result
                })
            }
            _ => r.skip(),
        }
    }
    let mut found = Vec::new();
    walk(&mut Reader::new(data), path, &mut found).ok()?;
    match found.len() {
        1 => found.pop(),
        _ => None,
    }
}

fn choice_mut<'c>(chunk: &'c mut Chunk<'static>, c: usize) -> Option<&'c mut ChunkChoice<'static>> {
    value(&mut chunk.choices)?.get_mut(c)
}

fn value<T>(field: &mut Field<T>) -> Option<&mut T> {
    match field {
        Field::Value(v) => Some(v),
        _ => None,
    }
}

fn delta_mut<'c>(chunk: &'c mut Chunk<'static>, c: usize) -> Option<&'c mut Delta<'static>> {
    value(&mut choice_mut(chunk, c)?.delta)
}

fn text_at_mut<'c>(chunk: &'c mut Chunk<'static>, hole: Hole) -> Option<&'c mut Text<'static>> {
    match hole {
        Hole::Content(c) => value(&mut delta_mut(chunk, c)?.content),
        Hole::Refusal(c) => value(&mut delta_mut(chunk, c)?.refusal),
        Hole::ReasoningContent(c) => value(&mut delta_mut(chunk, c)?.reasoning_content),
        Hole::Reasoning(c) => value(&mut delta_mut(chunk, c)?.reasoning),
        Hole::FunctionArguments(c) => {
            let function = value(&mut delta_mut(chunk, c)?.function_call)?;
            Some(&mut value(&mut function.arguments)?.text)
        }
        Hole::ToolArguments(c, t) => {
            let call = value(&mut delta_mut(chunk, c)?.tool_calls)?.get_mut(t)?;
            Some(&mut value(&mut value(&mut call.function)?.arguments)?.text)
        }
        Hole::Extra(e) => match &mut chunk.extra.0.get_mut(e)?.1 {
            JsonValue::Str(text) => Some(text),
            _ => None,
        },
        Hole::LogProbs(_) | Hole::DeltaExtra(..) | Hole::Usage => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::Accumulator;
    use crate::parse::parse;

    fn parsed(data: &str) -> Chunk<'_> {
        parse(data.as_bytes(), false).unwrap()
    }

    const FIRST: &str = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}],"obfuscation":"q1"}"#;

    #[test]
    fn a_chunk_with_the_same_layout_fills_to_what_parsing_gives() {
        let mut template = ChunkTemplate::record(FIRST.as_bytes(), parsed(FIRST)).unwrap();
        for next in [
            FIRST
                .replace("\"Hel\"", "\"lo, \\\"world\\\" é\"")
                .replace("q1", "zz9"),
            FIRST.replace("\"Hel\"", "\"\""),
            FIRST.to_owned(),
        ] {
            let filled = template.fill(next.as_bytes()).map(|c| (**c).clone());
            assert_eq!(filled, Some(parsed(&next).into_owned()), "{next}");
        }
    }

    #[test]
    fn a_template_for_merging_merges_as_the_parsed_chunks_do_and_fills_nothing_else() {
        let mut template =
            ChunkTemplate::record_for_merging(FIRST.as_bytes(), parsed(FIRST)).unwrap();
        let next = FIRST.replace("\"Hel\"", "\"lo\"").replace("q1", "q22");
        assert!(template.fill(next.as_bytes()).is_none());
        let mut spans = Vec::new();
        let filled = template.fill_merging(next.as_bytes(), &mut spans).unwrap();
        assert_eq!(filled.id, Field::Absent, "taken from the first chunk");
        let (mut merged, mut parsed_each) = (Accumulator::new(), Accumulator::new());
        merged.add(&parsed(FIRST));
        merged.add_with_spans(filled, &spans, next.as_bytes());
        parsed_each.add(&parsed(FIRST));
        parsed_each.add(&parsed(&next));
        assert_eq!(merged.completion(), parsed_each.completion());
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        let mut template = ChunkTemplate::record(FIRST.as_bytes(), parsed(FIRST)).unwrap();
        for other in [
            FIRST.replace("\"created\":1", "\"created\":2"),
            FIRST.replace("\"Hel\"", "\"a\" , \"x\": \"b\""),
            FIRST.replace("\"Hel\"", "\"open"),
            FIRST.replace("\"Hel\"", "\"bad\\q\""),
            FIRST.replace("\"Hel\"", "\"a\u{1}\""),
            FIRST.replace("\"Hel\"", "5"),
            format!("{FIRST} x"),
            FIRST[..FIRST.len() - 1].to_owned(),
            FIRST.replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
        ] {
            assert!(template.fill(other.as_bytes()).is_none(), "{other}");
        }
        // It still fills after refusing.
        assert!(template.fill(FIRST.as_bytes()).is_some());
    }

    #[test]
    fn tool_arguments_and_logprobs_are_holes() {
        let tool = r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"a"}}]}}]}"#;
        let plain = tool.replace("{\\\"a", "x");
        // Recorded from an escaped fragment or a plain one, the template fills either.
        for (recorded, next) in [(tool, plain.as_str()), (plain.as_str(), tool)] {
            let mut template =
                ChunkTemplate::record(recorded.as_bytes(), parsed(recorded)).unwrap();
            let filled = template.fill(next.as_bytes()).map(|c| (**c).clone());
            assert_eq!(
                filled,
                Some(parsed(next).into_owned()),
                "{recorded} then {next}"
            );
        }
        let logprobs = r#"{"choices":[{"index":0,"delta":{"content":"a"},"logprobs":{"content":[{"token":"a","logprob":-1.0,"bytes":[97],"top_logprobs":[]}]}}]}"#;
        let mut template = ChunkTemplate::record(logprobs.as_bytes(), parsed(logprobs)).unwrap();
        for next in [
            logprobs.replace("\"a\"", "\"bc\"").replace("-1.0", "-0.25e-3").replace("[97]", "[98,99]"),
            logprobs.replace("{\"content\":[{", "{\"refusal\":null,\"content\":[{"),
            logprobs.replace("\"logprobs\":{\"content\":[{\"token\":\"a\",\"logprob\":-1.0,\"bytes\":[97],\"top_logprobs\":[]}]}", "\"logprobs\":null"),
        ] {
            let filled = template.fill(next.as_bytes()).map(|c| (**c).clone());
            assert_eq!(filled, Some(parsed(&next).into_owned()), "{next}");
        }
        assert!(template
            .fill(logprobs.replace("-1.0", "-1.0x").as_bytes())
            .is_none());
    }

    #[test]
    fn a_usage_report_on_every_chunk_is_a_hole() {
        let first = r#"{"id":"c","choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#;
        let mut template = ChunkTemplate::record(first.as_bytes(), parsed(first)).unwrap();
        for next in [
            first
                .replace("\"a\"", "\"b\\n\"")
                .replace(":1,", ":2,")
                .replace(":10", ":11"),
            first.replace(
                "{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}",
                "null",
            ),
        ] {
            let filled = template.fill(next.as_bytes()).map(|c| (**c).clone());
            assert_eq!(filled, Some(parsed(&next).into_owned()), "{next}");
        }
        assert!(template
            .fill(first.replace(":9,", ":-9.5x,").as_bytes())
            .is_none());
    }

    #[test]
    fn escaped_holes_are_found_by_their_key_when_it_says_which_is_which() {
        let two = r#"{"id":"c","choices":[{"index":0,"delta":{"content" : "a\nb"}},{"index":1,"delta":{"content":"\"c\"","tool_calls":[{"index":0,"function":{"arguments":"{\"x\":"}},{"index":1,"function":{"arguments":"[1"}}]}}],"obfuscation":"o\/"}"#;
        let mut template = ChunkTemplate::record(two.as_bytes(), parsed(two)).unwrap();
        let next = two
            .replace(r#""a\nb""#, r#""plain""#)
            .replace(r#""\"c\"""#, r#""d\te""#)
            .replace(r#""[1""#, r#""\u00e9""#)
            .replace(r#""o\/""#, r#""p""#);
        let filled = template.fill(next.as_bytes()).map(|c| (**c).clone());
        assert_eq!(filled, Some(parsed(&next).into_owned()), "{next}");
        // The original fills back: each value went to its own hole.
        let filled = template.fill(two.as_bytes()).map(|c| (**c).clone());
        assert_eq!(filled, Some(parsed(two).into_owned()));
        for ambiguous in [
            // Another string value of the same key, nested in an unknown field.
            two.replace(r#""obfuscation""#, r#""x":{"content":"n"},"obfuscation""#),
            // Legacy function arguments beside tool arguments.
            two.replace(
                r#"{"content" : "a\nb"}"#,
                r#"{"content":"a\nb","function_call":{"arguments":"z"}}"#,
            ),
            // A repeated key: which value counts is the parser's business.
            two.replace(
                r#"{"content" : "a\nb"}"#,
                r#"{"content":"y","content" : "a\nb"}"#,
            ),
        ] {
            let chunk = parsed(&ambiguous);
            assert!(
                ChunkTemplate::record(ambiguous.as_bytes(), chunk).is_none(),
                "{ambiguous}"
            );
        }
    }

    #[test]
    fn structured_unknown_fields_of_a_delta_are_holes() {
        let first = r#"{"id":"c","choices":[{"index":0,"delta":{"reasoning":"a","reasoning_details":[{"type":"reasoning.text","text":"a","index":0}],"x":1},"finish_reason":null}]}"#;
        let mut template = ChunkTemplate::record(first.as_bytes(), parsed(first)).unwrap();
        for next in [
            first.replace("\"a\"", "\"b\\n\""),
            first.replace(r#"[{"type":"reasoning.text","text":"a","index":0}]"#, "[]"),
            first.replace(
                r#"[{"type":"reasoning.text","text":"a","index":0}]"#,
                r#"{"k":[1,2.5,null]}"#,
            ),
        ] {
            let filled = template.fill(next.as_bytes()).map(|c| (**c).clone());
            assert_eq!(filled, Some(parsed(&next).into_owned()), "{next}");
        }
        // Scalars stay literal; a broken value is the parser's to report.
        for other in [
            first.replace(r#""x":1"#, r#""x":2"#),
            first.replace(r#""text":"a","#, r#""text":"a,"#),
        ] {
            assert!(template.fill(other.as_bytes()).is_none(), "{other}");
        }
        let twice = first.replace(r#""x":1"#, r#""reasoning_details":[]"#);
        assert!(ChunkTemplate::record(twice.as_bytes(), parsed(&twice)).is_none());
    }

    #[test]
    fn a_hole_behind_a_repeated_key_is_no_template() {
        let twice =
            r#"{"id":"c","choices":[],"usage":{"total_tokens":1},"usage":{"total_tokens":2}}"#;
        assert!(ChunkTemplate::record(twice.as_bytes(), parsed(twice)).is_none());
    }

    #[test]
    fn a_filled_chunk_someone_holds_is_not_changed_by_the_next_fill() {
        let mut template = ChunkTemplate::record(FIRST.as_bytes(), parsed(FIRST)).unwrap();
        let one = FIRST.replace("Hel", "one");
        let held = Arc::clone(template.fill(one.as_bytes()).unwrap());
        let two = FIRST.replace("Hel", "two");
        let next = Arc::clone(template.fill(two.as_bytes()).unwrap());
        assert_eq!(*held, parsed(&one).into_owned());
        assert_eq!(*next, parsed(&two).into_owned());
        // A chunk that fails half way leaves the template as it was.
        assert!(template
            .fill(FIRST.replace("\"created\":1", "\"created\":2").as_bytes())
            .is_none());
        assert_eq!(**template.fill(two.as_bytes()).unwrap(), *next);
    }
}
