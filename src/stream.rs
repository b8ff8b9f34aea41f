//! From an SSE response body to chunks and the completion they merge into.
//!
//! Each event's data is parsed (leniently) as one [`Chunk`]; `data: [DONE]` ends the stream
//! and everything after it is ignored; an event whose data is empty (after trimming ASCII
//! whitespace) is skipped. Errors say where, relative to the whole body: the SSE decoder
//! gives the line and byte offset of an event's first `data` line, the JSON parser the
//! position inside the event's data.

use std::fmt;

use crate::errors::{ParseError, Position};
use crate::merge::Accumulator;
use crate::model::{Chunk, Completion, Field, IntoOwned, JsonValue};
use crate::parse::parse;
use crate::parse::LogProbsSpans;
use crate::sse::{SseDecoder, SseError, SseEvent, DEFAULT_MAX_EVENT_SIZE};
use crate::template::ChunkTemplate;

/// Why a stream could not be read to its end.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamError {
    /// The event stream itself is malformed (an event too large).
    Sse(SseError),
    /// An event's data is not a chunk. The position is relative to the whole body. It is
    /// exact for the first line of an event's data; later lines of a multi-line `data`
    /// event keep their column inside the data, and the byte offset assumes the data lines
    /// are adjacent. Lines are counted as the SSE decoder counts them (CR, LF and CRLF
    /// each end one).
    Parse(ParseError),
    /// The server reported an error in the stream: an event of type `error`, or an event
    /// whose data is a JSON object with a non-null `"error"` key (or with
    /// `"object": "error"`, as older vLLM versions send). `payload` is the event's whole
    /// JSON data (a string if it is not JSON, null if it is empty); `line` the line of its
    /// first `data` line.
    Server {
        payload: JsonValue<'static>,
        line: u64,
    },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Sse(e) => write!(f, "invalid event stream: {e}"),
            StreamError::Parse(e) => write!(f, "invalid chunk: {e}"),
            StreamError::Server { payload, line } => write!(
                f,
                "server error in the stream at line {line}: {}",
                payload.to_compact_json()
            ),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Sse(e) => Some(e),
            StreamError::Parse(e) => Some(e),
            StreamError::Server { .. } => None,
        }
    }
}

impl From<SseError> for StreamError {
    fn from(e: SseError) -> Self {
        StreamError::Sse(e)
    }
}

impl From<ParseError> for StreamError {
    fn from(e: ParseError) -> Self {
        StreamError::Parse(e)
    }
}

/// Decodes an SSE body fed in pieces into chunks, merging them as they come.
///
/// An error concerns one event: the events decoded after it are kept and handled by the
/// next call to [`feed`](Self::feed) or [`finish`](Self::finish), and everything merged
/// before it stays in [`completion`](Self::completion). A caller may stop at the first
/// error, or log it and carry on (`feed(b"", ..)`, or `finish` again, handles what is left).
/// An SSE error (event too large) is final: every later call returns it again.
#[derive(Debug)]
pub struct StreamMerger {
    events: ChunkEvents,
    accumulator: Accumulator,
}

impl Default for StreamMerger {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamMerger {
    /// A merger whose events may be up to [`DEFAULT_MAX_EVENT_SIZE`] bytes.
    pub fn new() -> Self {
        Self::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// A merger that fails with [`SseError::EventTooLarge`] on an event larger than `n` bytes.
    pub fn with_max_event_size(n: usize) -> Self {
        StreamMerger {
            events: ChunkEvents::new(n),
            accumulator: Accumulator::new(),
        }
    }

    /// Decodes `data`, parses each complete event as a chunk (leniently), merges it, then
    /// calls `on_chunk` with it (borrowed: a caller that keeps chunks converts them to
    /// owned, one that does not pays nothing).
    pub fn feed(
        &mut self,
        data: &[u8],
        mut on_chunk: impl FnMut(&Chunk<'_>),
    ) -> Result<(), StreamError> {
        let accumulator = &mut self.accumulator;
        self.events.feed(data, false, |filled| {
            accumulator.add(filled.chunk);
            on_chunk(filled.chunk);
        })
    }

    /// `feed` for a caller that wants only the completion: no chunk is handed out, so the
    /// log probabilities of chunks laid out like the last one are merged as their validated
    /// JSON text, never built per chunk (see [`crate::model::LazyLogProbs`]).
    pub fn merge(&mut self, data: &[u8]) -> Result<(), StreamError> {
        let accumulator = &mut self.accumulator;
        self.events.feed(data, true, |filled| {
            accumulator.add_with_spans(filled.chunk, filled.spans, filled.data);
        })
    }

    /// `finish` for a caller of [`merge`](Self::merge).
    pub fn merge_finish(&mut self) -> Result<(), StreamError> {
        let accumulator = &mut self.accumulator;
        self.events.finish(true, |filled| {
            accumulator.add_with_spans(filled.chunk, filled.spans, filled.data);
        })
    }

    /// End of input: handles an event left unterminated (streams are often closed right
    /// after the last `data:` line, without a blank line or `[DONE]`).
    pub fn finish(&mut self, mut on_chunk: impl FnMut(&Chunk<'_>)) -> Result<(), StreamError> {
        let accumulator = &mut self.accumulator;
        self.events.finish(false, |filled| {
            accumulator.add(filled.chunk);
            on_chunk(filled.chunk);
        })
    }

    /// Merges a chunk that arrived some other way than through `feed` (already parsed).
    pub fn add(&mut self, chunk: &Chunk<'_>) {
        self.accumulator.add(chunk);
    }

    /// Whether `data: [DONE]` has arrived (after which input is ignored).
    pub fn done(&self) -> bool {
        self.events.done
    }

    pub fn accumulator(&self) -> &Accumulator {
        &self.accumulator
    }

    /// The completion merged so far (see [`Accumulator::completion`]).
    pub fn completion(&self) -> Completion<'static> {
        self.accumulator.completion()
    }

    /// The completion merged so far, without copying it.
    pub fn into_completion(self) -> Completion<'static> {
        self.accumulator.into_completion()
    }
}

/// Merges a whole SSE body into its completion.
pub fn merge_sse(body: &[u8]) -> Result<Completion<'static>, StreamError> {
    let mut merger = StreamMerger::new();
    merger.merge(body)?;
    merger.merge_finish()?;
    Ok(merger.into_completion())
}

/// The chunks of a whole SSE body, owned, in order (up to `[DONE]`).
pub fn parse_sse(body: &[u8]) -> Result<Vec<Chunk<'static>>, StreamError> {
    let mut chunks = Vec::new();
    let mut events = ChunkEvents::new(DEFAULT_MAX_EVENT_SIZE);
    events.feed(body, false, |f| chunks.push(f.chunk.to_owned_copy()))?;
    events.finish(false, |f| chunks.push(f.chunk.to_owned_copy()))?;
    Ok(chunks)
}

/// SSE events turned into chunks, with the bookkeeping that error positions need.
#[derive(Debug)]
struct ChunkEvents {
    decoder: SseDecoder,
    /// Decoded events not handled yet (those after an event that failed), from `next` on.
    events: Vec<SseEvent>,
    /// For each of `events`, the length of its first line's `data:` prefix.
    prefixes: Vec<u8>,
    next: usize,
    locator: DataPrefixes,
    done: bool,
    /// The layout of the last chunk, to re-read only its holes when the next one shares it.
    template: Option<ChunkTemplate>,
    /// Where a merged chunk's log probabilities are (see `Filled`), reused chunk to chunk.
    spans: Vec<(usize, Field<LogProbsSpans>)>,
}

impl ChunkEvents {
    fn new(max_event_size: usize) -> Self {
        ChunkEvents {
            decoder: SseDecoder::with_max_event_size(max_event_size),
            events: Vec::new(),
            prefixes: Vec::new(),
            next: 0,
            locator: DataPrefixes::default(),
            done: false,
            template: None,
            spans: Vec::new(),
        }
    }

    /// Decodes `data` and hands each chunk to `on_chunk`; `merging`: see `Filled`.
    fn feed(
        &mut self,
        data: &[u8],
        merging: bool,
        mut on_chunk: impl FnMut(&Filled<'_>),
    ) -> Result<(), StreamError> {
        if self.done {
            return Ok(());
        }
        // Decoding a big body in pieces keeps the queue short and its buffers reused (a
        // whole body's worth of queued events costs page faults, not just copies).
        let mut rest = data;
        let mut result = Ok(());
        loop {
            let (piece, tail) = rest.split_at(rest.len().min(PIECE));
            rest = tail;
            let base = self.decoder.bytes_seen();
            let first_new = self.events.len();
            let decoded = self.decoder.feed(piece, &mut self.events);
            self.locate(first_new, piece, base);
            // After an event failed, the rest of `data` is only decoded and queued: the
            // next call goes on from there, so nothing received is lost.
            if result.is_ok() {
                result = self.drain(merging, &mut on_chunk);
                if self.done {
                    return result;
                }
            }
            if let Err(e) = decoded {
                return result.and(Err(StreamError::Sse(e)));
            }
            if rest.is_empty() {
                return result;
            }
        }
    }

    fn finish(
        &mut self,
        merging: bool,
        on_chunk: impl FnMut(&Filled<'_>),
    ) -> Result<(), StreamError> {
        if self.done {
            return Ok(());
        }
        let first_new = self.events.len();
        let decoded = self.decoder.finish(&mut self.events);
        self.locate(first_new, &[], self.decoder.bytes_seen());
        self.drain(merging, on_chunk)?;
        decoded.map_err(StreamError::Sse)
    }

    /// Works out where the data of each new event starts, then moves the locator past
    /// `data` (whose first byte is at stream offset `base`).
    fn locate(&mut self, first_new: usize, data: &[u8], base: u64) {
        for event in &self.events[first_new..] {
            let prefix = if event.offset >= base {
                data_prefix(line_head(&data[(event.offset - base) as usize..]))
            } else {
                self.locator.lookup(event.offset, data)
            };
            self.prefixes.push(prefix.unwrap_or(DEFAULT_PREFIX));
        }
        // Only the part after the last event dispatched here can hold the start of the
        // next one that will straddle a feed boundary.
        let restart = self.events[first_new..]
            .last()
            .map(|e| e.offset)
            .filter(|&offset| offset >= base);
        self.locator.advance(data, base, restart);
    }

    /// Handles the queued events in order; on error the rest stays queued.
    fn drain(
        &mut self,
        merging: bool,
        mut on_chunk: impl FnMut(&Filled<'_>),
    ) -> Result<(), StreamError> {
        while self.next < self.events.len() {
            let i = self.next;
            self.next += 1;
            match handle(
                &self.events[i],
                self.prefixes[i],
                &mut self.template,
                merging.then_some(&mut self.spans),
                &mut on_chunk,
            ) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        for event in self.events.drain(..) {
            self.decoder.recycle(event.data);
        }
        self.prefixes.clear();
        self.next = 0;
        if self.events.capacity() > 4096 {
            // A long queue built up after an error: do not keep its memory for good.
            self.events.shrink_to(256);
            self.prefixes.shrink_to(256);
        }
        Ok(())
    }
}

/// A chunk handed over by `ChunkEvents`. When merging (the caller only merges chunks),
/// the `logprobs` of the choices listed in `spans` are there, located in `data`, and
/// stale in `chunk`; otherwise `spans` is empty.
struct Filled<'x> {
    chunk: &'x Chunk<'x>,
    spans: &'x [(usize, Field<LogProbsSpans>)],
    data: &'x [u8],
}

/// Handles one event: `Ok(false)` for `[DONE]`.
#[inline]
fn handle(
    event: &SseEvent,
    prefix: u8,
    template: &mut Option<ChunkTemplate>,
    merging: Option<&mut Vec<(usize, Field<LogProbsSpans>)>>,
    on_chunk: &mut impl FnMut(&Filled<'_>),
) -> Result<bool, StreamError> {
    let merging_only = merging.is_some();
    if let (None, Some(template)) = (&event.event, template.as_mut()) {
        // A chunk laid out like the last one (no error can be among them: an error chunk
        // never becomes a template, and a template only takes chunks of its own layout).
        let (filled, spans) = match merging {
            Some(spans) => (template.fill_merging(&event.data, spans), &spans[..]),
            None => (template.fill(&event.data), &[][..]),
        };
        if let Some(chunk) = filled {
            on_chunk(&Filled {
                chunk,
                spans,
                data: &event.data,
            });
            return Ok(true);
        }
    }
    let trimmed = event.data.trim_ascii();
    if event.event.as_deref() == Some("error") {
        return Err(server_error(event, json_payload(trimmed)));
    }
    if trimmed.is_empty() {
        return Ok(true);
    }
    if trimmed == b"[DONE]" {
        return Ok(false);
    }
    match parse::<Chunk>(&event.data, false) {
        Ok(chunk) => {
            if chunk
                .extra
                .get("error")
                .is_some_and(|e| *e != JsonValue::Null)
            {
                return Err(server_error(event, json_payload(trimmed)));
            }
            on_chunk(&Filled {
                chunk: &chunk,
                spans: &[],
                data: &event.data,
            });
            *template = if merging_only {
                ChunkTemplate::record_for_merging(&event.data, chunk)
            } else {
                ChunkTemplate::record(&event.data, chunk)
            };
            Ok(true)
        }
        Err(e) => match server_error_object(trimmed) {
            Some(payload) => Err(server_error(event, payload)),
            None => Err(StreamError::Parse(e.within(data_start(event, prefix)))),
        },
    }
}

fn server_error(event: &SseEvent, payload: JsonValue<'static>) -> StreamError {
    StreamError::Server {
        payload,
        line: event.line,
    }
}

/// An error event's data: its JSON, the text itself if it is not JSON, null if empty.
fn json_payload(data: &[u8]) -> JsonValue<'static> {
    if data.is_empty() {
        return JsonValue::Null;
    }
    match parse::<JsonValue>(data, false) {
        Ok(value) => value.into_owned(),
        Err(_) => JsonValue::Str(String::from_utf8_lossy(data).into_owned().into()),
    }
}

/// The data as a JSON object, if it is one that reports an error.
fn server_error_object(data: &[u8]) -> Option<JsonValue<'static>> {
    let value = parse::<JsonValue>(data, false).ok()?;
    let JsonValue::Object(entries) = &value else {
        return None;
    };
    let reports_error = entries.iter().any(|(key, v)| match key.as_str() {
        "error" => *v != JsonValue::Null,
        "object" => matches!(v, JsonValue::Str(s) if s.as_str() == "error"),
        _ => false,
    });
    reports_error.then(|| value.into_owned())
}

/// The position in the body of the first byte of an event's data.
fn data_start(event: &SseEvent, prefix: u8) -> Position {
    // A byte order mark (offset 3 on line 1) is one character of the first line.
    let bom = u64::from(event.line == 1 && event.offset == BOM.len() as u64);
    Position {
        line: event.line,
        column: 1 + bom + u64::from(prefix),
        offset: event.offset + u64::from(prefix),
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes of a line's beginning enough to tell its field: a BOM and `data: `.
const HEAD: usize = 9;

/// How much of a large input is decoded before its events are handled.
const PIECE: usize = 32 * 1024;

/// The prefix assumed if an event's first line could not be found (never expected).
const DEFAULT_PREFIX: u8 = 6;

/// The first bytes of the line at the start of `bytes`, up to its end.
fn line_head(bytes: &[u8]) -> &[u8] {
    let bytes = &bytes[..bytes.len().min(HEAD)];
    match memchr::memchr2(b'\n', b'\r', bytes) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

/// How many bytes of a data line precede its value: `data` (a bare field), `data:`, or
/// `data: ` (the decoder drops one space). `None` if the line is not a data line.
/// `head` is the line's beginning, or the whole line if it is shorter than 6 bytes.
fn data_prefix(head: &[u8]) -> Option<u8> {
    if head == b"data" {
        Some(4)
    } else if head.starts_with(b"data:") {
        Some(if head.get(5) == Some(&b' ') { 6 } else { 5 })
    } else {
        None
    }
}

/// A line starting the stream is read after its byte order mark, as the decoder does.
fn skip_bom(start: u64, head: &[u8]) -> (u64, &[u8]) {
    match head.strip_prefix(BOM) {
        Some(rest) if start == 0 => (BOM.len() as u64, rest),
        _ => (start, head),
    }
}

/// Remembers, across feeds, the first `data` line of the event being received, so that an
/// event whose first line arrived in an earlier feed still reports exact positions.
///
/// It follows the line structure of the stream as the decoder does (CR, LF, CRLF, a CR/LF
/// pair split across feeds, a BOM), but only reads the first bytes of each line, and only
/// in the part of each feed after the last event dispatched there.
#[derive(Debug, Default)]
struct DataPrefixes {
    /// The last feed ended with CR: a LF starting the next belongs to it.
    pending_cr: bool,
    /// Stream offset of the line being read, and its first bytes so far.
    line_start: u64,
    head: [u8; HEAD],
    head_len: usize,
    /// The current block (since the last blank line) has had a data line.
    block_has_data: bool,
    /// Offset and prefix length of the current block's first data line.
    first_data: Option<(u64, u8)>,
}

impl DataPrefixes {
    /// The prefix of the data line at `offset`, which started before `data` (the bytes of
    /// this feed, empty at the end of input).
    fn lookup(&self, offset: u64, data: &[u8]) -> Option<u8> {
        if let Some((start, prefix)) = self.first_data {
            if start == offset {
                return Some(prefix);
            }
        }
        // The line was still open at the end of the last feed: complete it from `data`.
        let mut head = self.head;
        let mut len = self.head_len;
        for &b in line_head(data) {
            if len == HEAD {
                break;
            }
            head[len] = b;
            len += 1;
        }
        let (start, head) = skip_bom(self.line_start, &head[..len]);
        if start == offset {
            data_prefix(head)
        } else {
            None
        }
    }

    /// Reads `data`, whose first byte is at stream offset `base`. `restart`: the offset of
    /// a data line inside `data` whose event has been dispatched; reading can start there.
    fn advance(&mut self, data: &[u8], base: u64, restart: Option<u64>) {
        let mut pos = 0;
        if let Some(offset) = restart {
            self.pending_cr = false;
            self.line_start = offset;
            self.head_len = 0;
            self.block_has_data = false;
            self.first_data = None;
            pos = (offset - base) as usize;
        } else if self.pending_cr && !data.is_empty() {
            self.pending_cr = false;
            if data[0] == b'\n' {
                pos = 1;
                self.line_start = base + 1;
            }
        }
        while pos < data.len() {
            let rest = &data[pos..];
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.collect(rest);
                return;
            };
            self.collect(&rest[..end]);
            self.end_line();
            pos += end + 1;
            if rest[end] == b'\r' {
                if pos == data.len() {
                    self.pending_cr = true;
                } else if data[pos] == b'\n' {
                    pos += 1;
                }
            }
            self.line_start = base + pos as u64;
            self.head_len = 0;
        }
    }

    #[inline]
    fn collect(&mut self, bytes: &[u8]) {
        let n = (HEAD - self.head_len).min(bytes.len());
        self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
        self.head_len += n;
    }

    fn end_line(&mut self) {
        let (start, head) = skip_bom(self.line_start, &self.head[..self.head_len]);
        if head.is_empty() {
            self.block_has_data = false;
        } else if !self.block_has_data {
            if let Some(prefix) = data_prefix(head) {
                self.first_data = Some((start, prefix));
                self.block_has_data = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Mode, With};
    use serde_json::{json, Value};

    fn canonical(completion: &Completion<'_>) -> Value {
        serde_json::to_value(With(completion, Mode::Canonical)).unwrap()
    }

    fn lossless(chunk: &Chunk<'_>) -> Value {
        serde_json::to_value(With(chunk, Mode::Lossless)).unwrap()
    }

    /// Everything a run over one body produces.
    #[derive(Debug, PartialEq)]
    struct Run {
        completion: Value,
        chunks: Vec<Value>,
        errors: Vec<StreamError>,
        done: bool,
    }

    /// Feeds `body` cut at `cuts`, carrying on after event errors, as a log processor would.
    fn run_with(max: usize, body: &[u8], cuts: &[usize]) -> Run {
        let mut merger = StreamMerger::with_max_event_size(max);
        let mut chunks = Vec::new();
        let mut errors = Vec::new();
        let mut pieces = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&body.len())) {
            pieces.push(&body[start..cut]);
            start = cut;
        }
        'feeding: for (i, piece) in pieces.iter().enumerate() {
            let mut input: &[u8] = piece;
            loop {
                match merger.feed(input, |c| chunks.push(lossless(c))) {
                    Ok(()) => break,
                    Err(e @ StreamError::Sse(_)) => {
                        errors.push(e);
                        break 'feeding;
                    }
                    Err(e) => errors.push(e),
                }
                input = b"";
            }
            if i + 1 == pieces.len() {
                loop {
                    match merger.finish(|c| chunks.push(lossless(c))) {
                        Ok(()) => break,
                        Err(e @ StreamError::Sse(_)) => {
                            errors.push(e);
                            break;
                        }
                        Err(e) => errors.push(e),
                    }
                }
            }
        }
        Run {
            completion: canonical(&merger.completion()),
            chunks,
            errors,
            done: merger.done(),
        }
    }

    fn run(body: &[u8]) -> Run {
        run_with(DEFAULT_MAX_EVENT_SIZE, body, &[])
    }

    /// The same run for every split point, byte-by-byte feeding and random multi-splits.
    fn assert_split_invariant(max: usize, body: &[u8]) -> Run {
        let reference = run_with(max, body, &[]);
        for i in 0..=body.len() {
            assert_eq!(run_with(max, body, &[i]), reference, "split at {i}");
        }
        let every: Vec<usize> = (1..body.len()).collect();
        assert_eq!(run_with(max, body, &every), reference, "byte by byte");
        for cuts in crate::sse::random_cuts(0x9E37_79B9_7F4A_7C15, body.len(), 24).take(50) {
            assert_eq!(run_with(max, body, &cuts), reference, "cuts {cuts:?}");
        }
        reference
    }

    fn sse(events: &[&str], line_end: &str) -> Vec<u8> {
        let mut body = String::new();
        for event in events {
            for line in event.split('\n') {
                body.push_str(line);
                body.push_str(line_end);
            }
            body.push_str(line_end);
        }
        body.into_bytes()
    }

    const TOOL_STREAM: &[&str] = &[
        ": OPENROUTER PROCESSING",
        r#"data: {"id":"chatcmpl-S","object":"chat.completion.chunk","created":1753000100,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Sür","refusal":null},"logprobs":null,"finish_reason":null}]}"#,
        r#"data:{"id":"chatcmpl-S","object":"chat.completion.chunk","created":1753000100,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"e 🙂"},"logprobs":null,"finish_reason":null}]}"#,
        ": keep-alive",
        "data: {\"id\":\"chatcmpl-S\",\"object\":\"chat.completion.chunk\",\ndata: \"created\":1753000100,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}",
        r#"data: {"id":"chatcmpl-S","object":"chat.completion.chunk","created":1753000100,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]},"finish_reason":null}]}"#,
        "event: ping\ndata:",
        r#"data: {"id":"chatcmpl-S","object":"chat.completion.chunk","created":1753000100,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":null}]}"#,
        r#"data: {"id":"chatcmpl-S","object":"chat.completion.chunk","created":1753000100,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        r#"data: {"id":"chatcmpl-S","object":"chat.completion.chunk","created":1753000100,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}"#,
        "data: [DONE]",
    ];

    fn tool_stream_expected() -> Value {
        json!({
            "id": "chatcmpl-S", "object": "chat.completion", "created": 1753000100, "model": "gpt-4o",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "Süre 🙂", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}
                ]},
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
        })
    }

    #[test]
    fn merges_a_stream_with_comments_keep_alives_and_multi_line_data() {
        let body = sse(TOOL_STREAM, "\n");
        let completion = merge_sse(&body).unwrap();
        assert_eq!(canonical(&completion), tool_stream_expected());
        let chunks = parse_sse(&body).unwrap();
        assert_eq!(chunks.len(), 7);
        let mut merger = StreamMerger::new();
        merger.feed(&body, |_| {}).unwrap();
        assert!(merger.done());
        assert!(merger.accumulator().is_finished());
        assert_eq!(merger.accumulator().chunk_count(), 7);
        assert_eq!(merger.completion(), completion);
    }

    #[test]
    fn every_split_gives_the_same_chunks_and_completion() {
        for line_end in ["\n", "\r\n", "\r"] {
            let body = sse(TOOL_STREAM, line_end);
            let run = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, &body);
            assert_eq!(run.completion, tool_stream_expected(), "{line_end:?}");
            assert_eq!(run.chunks.len(), 7);
            assert!(run.errors.is_empty() && run.done);
            let reference: Vec<Value> = parse_sse(&body).unwrap().iter().map(lossless).collect();
            assert_eq!(run.chunks, reference);
        }
        // A byte order mark, and a body that ends without a line end.
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice(&sse(&TOOL_STREAM[..TOOL_STREAM.len() - 2], "\r\n"));
        body.extend_from_slice(TOOL_STREAM[TOOL_STREAM.len() - 2].as_bytes());
        let run = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, &body);
        assert_eq!(run.completion, tool_stream_expected());
        assert!(!run.done);
    }

    #[test]
    fn truncated_stream_without_done_still_merges() {
        let mut body = sse(&TOOL_STREAM[..5], "\n");
        // Cut inside the next event: that partial JSON is what the caller has.
        body.extend_from_slice(&TOOL_STREAM[5].as_bytes()[..60]);
        let mut merger = StreamMerger::new();
        merger.feed(&body, |_| {}).unwrap();
        assert!(!merger.done());
        let err = merger.finish(|_| {}).unwrap_err();
        assert!(matches!(err, StreamError::Parse(_)), "{err}");
        let so_far = canonical(&merger.completion());
        assert_eq!(so_far["choices"][0]["message"]["content"], "Süre 🙂");
        assert_eq!(
            so_far["choices"][0]["message"]["tool_calls"][0]["id"],
            "call_1"
        );
        assert_eq!(so_far["choices"][0]["finish_reason"], Value::Null);
        // Cut right after a complete event: merges without error.
        let body = sse(&TOOL_STREAM[..TOOL_STREAM.len() - 1], "\n");
        let completion = merge_sse(&body[..body.len() - 2]).unwrap();
        assert_eq!(canonical(&completion), tool_stream_expected());
    }

    #[test]
    fn done_ends_the_stream() {
        let body = b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n\
                     data:  [DONE] \t\n\n\
                     data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n\
                     data: not json at all\n\n";
        let run = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, body);
        assert!(run.done && run.errors.is_empty());
        assert_eq!(run.chunks.len(), 1);
        assert_eq!(run.completion["choices"][0]["message"]["content"], "a");
        // Input after [DONE] is not even decoded.
        let mut merger = StreamMerger::with_max_event_size(64);
        merger.feed(b"data: [DONE]\n\n", |_| {}).unwrap();
        merger.feed(&[b'x'; 1000], |_| {}).unwrap();
        merger.finish(|_| {}).unwrap();
        assert!(merger.done());
        // `[DONE]` inside JSON text or with other text is not the marker.
        assert!(merge_sse(b"data: [DONE] x\n\n").is_err());
    }

    #[test]
    fn empty_events_and_comments_are_skipped() {
        let body = b": hello\n\ndata:\n\ndata:   \n\nretry: 100\nid: 4\nevent: message\ndata: {\"choices\":[]}\n\n:\n\nkeep-alive\n\n";
        let run = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, body);
        assert!(run.errors.is_empty());
        assert_eq!(run.chunks, vec![json!({"choices": []})]);
        assert!(!run.done);
        assert_eq!(
            run.completion,
            json!({"object": "chat.completion", "choices": []})
        );
    }

    #[test]
    fn server_error_mid_stream_keeps_what_was_merged_and_what_follows() {
        let first = r#"data: {"id":"e","choices":[{"index":0,"delta":{"content":"part"}}]}"#;
        let later = r#"data: {"id":"e","choices":[{"index":0,"delta":{"content":"ial"},"finish_reason":"stop"}]}"#;
        let cases: [(&str, Value); 4] = [
            (
                "event: error\ndata: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\"}}",
                json!({"error": {"message": "Overloaded", "type": "overloaded_error"}}),
            ),
            (
                "data: {\"error\":{\"message\":\"upstream timeout\",\"code\":504}}",
                json!({"error": {"message": "upstream timeout", "code": 504}}),
            ),
            (
                // An error riding on an otherwise valid chunk.
                "data: {\"choices\":[],\"error\":{\"message\":\"quota\"}}",
                json!({"choices": [], "error": {"message": "quota"}}),
            ),
            (
                "data: {\"object\":\"error\",\"message\":\"bad\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}",
                json!({"object": "error", "message": "bad", "type": "BadRequestError", "param": null, "code": 400}),
            ),
        ];
        for (event, payload) in cases {
            let body = sse(&[first, event, later], "\n");
            let mut merger = StreamMerger::new();
            let err = merger.feed(&body, |_| {}).unwrap_err();
            let StreamError::Server { payload: got, line } = &err else {
                panic!("{err}");
            };
            assert_eq!(serde_json::to_value(got).unwrap(), payload);
            assert_eq!(*line, if event.starts_with("event") { 4 } else { 3 });
            assert!(err
                .to_string()
                .starts_with("server error in the stream at line"));
            let so_far = canonical(&merger.completion());
            assert_eq!(so_far["choices"][0]["message"]["content"], "part");
            assert_eq!(so_far["choices"][0]["finish_reason"], Value::Null);
            // Carrying on handles the events after the error.
            merger.finish(|_| {}).unwrap();
            let all = canonical(&merger.completion());
            assert_eq!(all["choices"][0]["message"]["content"], "partial");
            assert_eq!(all["choices"][0]["finish_reason"], "stop");
            assert_eq!(merger.accumulator().chunk_count(), 2);
        }
        // An error event that is not JSON, or empty.
        for (event, payload) in [
            (
                "event: error\ndata: Internal Server Error",
                json!("Internal Server Error"),
            ),
            ("event: error\ndata:", Value::Null),
        ] {
            match merge_sse(&sse(&[event], "\n")).unwrap_err() {
                StreamError::Server { payload: got, line } => {
                    assert_eq!(serde_json::to_value(got).unwrap(), payload);
                    assert_eq!(line, 2);
                }
                other => panic!("{other}"),
            }
        }
        // `"error": null` is not an error.
        assert!(merge_sse(b"data: {\"choices\":[],\"error\":null}\n\n").is_ok());
    }

    #[test]
    fn errors_are_split_invariant_and_carrying_on_loses_nothing() {
        let events = [
            TOOL_STREAM[1],
            "data: {\"choices\": [}",
            "event: error\ndata: {\"error\":\"x\"}",
            "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"!\"}}], \"usage\": {\"total_tokens\": \"many\"}}",
            TOOL_STREAM[2],
            "data: [DONE]",
        ];
        for line_end in ["\n", "\r\n", "\r"] {
            let body = sse(&events, line_end);
            let run = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, &body);
            assert_eq!(run.errors.len(), 3, "{:?}", run.errors);
            assert!(matches!(run.errors[0], StreamError::Parse(_)));
            assert!(matches!(run.errors[1], StreamError::Server { line: 6, .. }));
            assert!(matches!(run.errors[2], StreamError::Parse(_)));
            assert_eq!(run.chunks.len(), 2);
            assert_eq!(
                run.completion["choices"][0]["message"]["content"],
                "Süre 🙂"
            );
            assert!(run.done);
        }
    }

    /// The position of the error `parse` reports for `data`, moved to where `data` starts.
    fn error_in_body(body: &[u8], data: &str, data_offset: usize) -> Position {
        let inner = parse::<Chunk>(data.as_bytes(), false).unwrap_err();
        Position::at(body, data_offset + inner.position.unwrap().offset as usize)
    }

    #[test]
    fn parse_error_positions_are_relative_to_the_body() {
        for (prefix, bom) in [
            ("data: ", ""),
            ("data:", ""),
            ("data: ", "\u{feff}"),
            ("data:", "\u{feff}"),
        ] {
            for data in [
                "{\"choices\": [}",
                "{\"choices\":[], \"usage\": {\"prompt_tokens\": \"many\"}}",
                "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"é🙂\"}}], \"id\": 5}",
                "{\"id\":\"日本\", \"choices\": 1}",
            ] {
                let ok = format!("{prefix}{{\"choices\":[]}}");
                let bad = format!("{prefix}{data}");
                let body = format!("{bom}: comment\n\n{ok}\n\nid: 1\n{bad}\n\n{ok}\n\n");
                let body = body.as_bytes();
                let data_offset = body.len() - ok.len() - 4 - data.len();
                let expected = error_in_body(body, data, data_offset);
                let run = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, body);
                let [StreamError::Parse(err)] = &run.errors[..] else {
                    panic!("{:?}", run.errors);
                };
                assert_eq!(err.position, Some(expected), "{prefix:?} {data}");
                assert_eq!(expected.line, 6);
                assert_eq!(run.chunks.len(), 2);
                // First line of the stream, where a BOM counts as one character.
                let body = format!("{bom}{bad}\n\n");
                let body = body.as_bytes();
                let expected = error_in_body(body, data, bom.len() + prefix.len());
                match merge_sse(body).unwrap_err() {
                    StreamError::Parse(err) => assert_eq!(err.position, Some(expected)),
                    other => panic!("{other}"),
                }
                assert_eq!(expected.line, 1);
            }
        }
    }

    #[test]
    fn large_bodies_decoded_in_pieces_lose_nothing_after_an_error() {
        // An error early on; the body goes on well past one decoding piece, with a bad
        // event ("data:" without a space) straddling the first piece boundary.
        let mut body = Vec::new();
        let mut text = String::new();
        let mut bad_data_offset = 0;
        for i in 0..300 {
            if i == 3 {
                body.extend_from_slice(b"event: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n");
            }
            if body.len() > PIECE - 100 && bad_data_offset == 0 {
                body.extend_from_slice(b"data:");
                bad_data_offset = body.len();
                body.extend_from_slice(
                    format!("{{\"choices\":[],\"pad\":\"{}\",}}\n\n", "p".repeat(150)).as_bytes(),
                );
                assert!(bad_data_offset < PIECE && body.len() > PIECE);
            }
            let piece = format!("tok{i} ");
            text.push_str(&piece);
            body.extend_from_slice(
                format!("data: {{\"id\":\"big\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{piece}\"}},\"finish_reason\":null}}],\"obfuscation\":\"{}\"}}\n\n", "o".repeat(i % 70)).as_bytes(),
            );
        }
        body.extend_from_slice(b"data: [DONE]\n\n");
        assert!(bad_data_offset > 0);
        let reference = run(&body);
        assert_eq!(reference.chunks.len(), 300);
        assert_eq!(
            reference.completion["choices"][0]["message"]["content"],
            text.as_str()
        );
        assert!(reference.done);
        let bad = std::str::from_utf8(&body[bad_data_offset..]).unwrap();
        let bad = &bad[..bad.find('\n').unwrap()];
        match &reference.errors[..] {
            [StreamError::Server { line: 8, .. }, StreamError::Parse(err)] => {
                assert_eq!(
                    err.position,
                    Some(error_in_body(&body, bad, bad_data_offset))
                );
            }
            other => panic!("{other:?}"),
        }
        for step in [1000, 4093, PIECE - 1, PIECE + 1] {
            let cuts: Vec<usize> = (step..body.len()).step_by(step).collect();
            assert_eq!(
                run_with(DEFAULT_MAX_EVENT_SIZE, &body, &cuts),
                reference,
                "{step}"
            );
        }
        // Stopping at the first error keeps what came before it.
        let mut merger = StreamMerger::new();
        assert!(matches!(
            merger.feed(&body, |_| {}),
            Err(StreamError::Server { .. })
        ));
        assert_eq!(merger.accumulator().chunk_count(), 3);
    }

    #[test]
    fn parse_error_display_and_path() {
        let err = merge_sse(b": x\n\ndata: {\"choices\":[],\"created\":\"soon\"}\n\n").unwrap_err();
        let StreamError::Parse(inner) = &err else {
            panic!("{err}");
        };
        assert_eq!(inner.path, "$.created");
        // serde_json points at the last byte it read: the string's closing quote.
        let p = inner.position.unwrap();
        assert_eq!((p.line, p.column, p.offset), (3, 36, 40));
        assert!(err.to_string().starts_with("invalid chunk: "), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn oversized_event_is_a_final_error_that_keeps_the_merge() {
        let small = r#"data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}"#;
        let big = format!(
            r#"data: {{"choices":[{{"index":0,"delta":{{"content":"{}"}}}}]}}"#,
            "x".repeat(500)
        );
        let body = sse(&[small, &big, small], "\n");
        let run = assert_split_invariant(200, &body);
        assert_eq!(run.chunks.len(), 1);
        assert!(matches!(
            run.errors[..],
            [StreamError::Sse(SseError::EventTooLarge { limit: 200, .. })]
        ));
        assert_eq!(run.completion["choices"][0]["message"]["content"], "ok");
        let mut merger = StreamMerger::with_max_event_size(200);
        let err = merger.feed(&body, |_| {}).unwrap_err();
        assert_eq!(merger.feed(b"data: {}\n\n", |_| {}).unwrap_err(), err);
        assert_eq!(merger.finish(|_| {}).unwrap_err(), err);
        assert!(err.to_string().contains("larger than 200 bytes"), "{err}");
    }

    #[test]
    fn feed_passes_each_chunk_and_parse_sse_owns_them() {
        let body = sse(TOOL_STREAM, "\n");
        let mut seen = Vec::new();
        let mut merger = StreamMerger::default();
        for piece in body.chunks(7) {
            merger
                .feed(piece, |chunk| seen.push(chunk.clone().into_owned()))
                .unwrap();
        }
        merger.finish(|_| unreachable!()).unwrap();
        let owned = parse_sse(&body).unwrap();
        assert_eq!(seen, owned);
        assert_eq!(
            owned[1].choices.get().unwrap()[0]
                .delta
                .get()
                .unwrap()
                .content
                .get()
                .unwrap()
                .as_str(),
            "e 🙂"
        );
    }

    #[test]
    fn recorded_openai_streams_merge() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openai-recorded");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return; // not copied in yet
        };
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("sse") {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            let completion = merge_sse(&body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let value = canonical(&completion);
            assert!(
                value["id"].is_string() && value["model"].is_string(),
                "{}",
                path.display()
            );
            let chunks = parse_sse(&body).unwrap();
            assert!(!chunks.is_empty());
            // The same through byte-sized pieces.
            let pieces: Vec<usize> = (1..body.len()).step_by(13).collect();
            assert_eq!(
                run_with(DEFAULT_MAX_EVENT_SIZE, &body, &pieces).completion,
                value
            );
            count += 1;
        }
        assert!(count > 0);
    }
}

#[cfg(test)]
mod merging_tests {
    use super::*;

    /// The completion and error of `feed`/`finish`, which build every chunk.
    fn typed(body: &[u8]) -> (Completion<'static>, Result<(), StreamError>) {
        let mut merger = StreamMerger::new();
        let result = merger
            .feed(body, |_| {})
            .and_then(|()| merger.finish(|_| {}));
        (merger.into_completion(), result)
    }

    fn merged(body: &[u8]) -> (Completion<'static>, Result<(), StreamError>) {
        let mut merger = StreamMerger::new();
        let result = merger.merge(body).and_then(|()| merger.merge_finish());
        (merger.into_completion(), result)
    }

    fn chunk(content: &str, logprobs: &str, second: Option<&str>) -> String {
        let choice = |index: u32, logprobs: &str| {
            format!(
                r#"{{"index":{index},"delta":{{"content":"{content}"}},"logprobs":{logprobs},"finish_reason":null}}"#
            )
        };
        let mut choices = choice(0, logprobs);
        if let Some(other) = second {
            choices = format!("{choices},{}", choice(1, other));
        }
        format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{choices}]}}\n\n"
        )
    }

    fn entry(token: &str, logprob: &str, bytes: &str) -> String {
        format!(
            r#"{{"token":"{token}","logprob":{logprob},"bytes":{bytes},"top_logprobs":[{{"token":"{token}","logprob":{logprob},"bytes":{bytes}}},{{"token":"x","logprob":-9.5,"bytes":[120]}}]}}"#
        )
    }

    /// Chunks laid out alike (so merged from their text) and not, every kind of value.
    #[test]
    fn merging_only_gives_what_building_every_chunk_gives() {
        let values = [
            format!(
                r#"{{"content":[{}],"refusal":null}}"#,
                entry("a", "-1.5", "[97]")
            ),
            format!(
                r#"{{"content":[{}],"refusal":null}}"#,
                entry("bc", "-0.25e-3", "[98,99]")
            ),
            format!(
                r#"{{"content":[{}],"refusal":null}}"#,
                entry("d\\\"e", "-2", "[100,34,101]")
            ),
            format!(
                r#"{{"content":[{}],"refusal":null}}"#,
                entry("é", "0", "null")
            ),
            r#"{"content":[],"refusal":null}"#.to_owned(),
            format!(
                r#"{{"content":null,"refusal":[{}]}}"#,
                entry("no", "-1", "[110,111]")
            ),
            format!(
                r#"{{"content":[{},{}],"refusal":null,"k":{{"v":[1,-0]}}}}"#,
                entry("f", "-3", "[102]"),
                entry("g", "-4", "[103]")
            ),
            r#"{"content":[{"token":"h","q":{"r":null}}]}"#.to_owned(),
            format!(
                r#"{{"content":[{}],"content":[]}}"#,
                entry("i", "-5", "[105]")
            ),
            "null".to_owned(),
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..300 {
            let mut body = String::new();
            for i in 0..12 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly the same value kind, so templates fill; now and then another.
                let pick = if seed % 3 == 0 {
                    (seed >> 8) as usize % values.len()
                } else {
                    round % values.len()
                };
                let second = (round % 4 == 0).then(|| values[(pick + i) % values.len()].as_str());
                body.push_str(&chunk(&format!("t{i}"), &values[pick], second));
            }
            let (want, want_result) = typed(body.as_bytes());
            let (got, got_result) = merged(body.as_bytes());
            assert_eq!(got_result, want_result, "{body}");
            assert_eq!(got, want, "{body}");
            assert_eq!(
                serde_json::to_string(&crate::model::With(&got, crate::model::Mode::Lossless))
                    .unwrap(),
                serde_json::to_string(&crate::model::With(&want, crate::model::Mode::Lossless))
                    .unwrap()
            );
        }
    }

    /// A bad value in a chunk laid out like the last one fails as the full parse does.
    #[test]
    fn bad_log_probabilities_fail_with_the_same_error() {
        let good = format!(
            r#"{{"content":[{}],"refusal":null}}"#,
            entry("a", "-1.5", "[97]")
        );
        for bad in [
            good.replace("-1.5", "\"-1.5\""),
            good.replace("[97]", "[97.5]"),
            good.replace("[97]", "[\"a\"]"),
            good.replace("-1.5", "1e999"),
            good.replace("\"a\"", "\"a\\q\""),
            good.replace("[97]", "[9223372036854775808]"),
        ] {
            let body = [
                chunk("a", &good, None),
                chunk("b", &good, None),
                chunk("c", &bad, None),
                chunk("d", &good, None),
            ]
            .concat();
            let (want, want_result) = typed(body.as_bytes());
            let (got, got_result) = merged(body.as_bytes());
            assert!(want_result.is_err(), "{bad}");
            assert_eq!(got_result, want_result, "{bad}");
            assert_eq!(got, want, "{bad}");
        }
    }
}
