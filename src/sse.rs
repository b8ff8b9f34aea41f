//! Incremental Server-Sent-Events decoder.
//!
//! Implements the WHATWG HTML "event stream interpretation" rules on raw
//! bytes that may be split at arbitrary positions (inside a UTF-8 sequence,
//! between CR and LF, inside a field name, ...). The output is identical for
//! every possible split of the same stream.
//!
//! Deliberate deviations from the specification:
//!
//! * At end of input the spec discards an event that was not terminated by a
//!   blank line. LLM providers frequently close the stream right after the
//!   last `data:` line, so [`SseDecoder::finish`] dispatches a pending event
//!   whose data buffer is non-empty (even when the last line has no line end).
//! * Event data is kept as raw bytes; UTF-8 is not validated here (the JSON
//!   parser downstream reports invalid UTF-8 with a precise position).
//! * A maximum event size bounds memory use (see [`SseError::EventTooLarge`]).

use std::fmt;

/// Default maximum size of one event (data buffer plus the current line).
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Buffers whose capacity grew beyond this are released after use instead of
/// being kept around for the rest of the stream.
const RETAIN_CAPACITY: usize = 64 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// Event type; `None` when no (non-empty) `event:` field was given, i.e. "message".
    pub event: Option<String>,
    /// Data lines joined with `\n` (no trailing newline). Not UTF-8 validated.
    pub data: Vec<u8>,
    /// Last event id seen so far in the stream (sticky, as per spec); `None`
    /// if never set. An `id:` field with an empty value yields `Some("")`.
    pub id: Option<String>,
    /// Reconnection time set by a `retry:` field inside this event's block
    /// (a `retry:` in a block without data is dropped with that block).
    pub retry: Option<u64>,
    /// 1-based line number of the first `data` line of the event.
    pub line: u64,
    /// Byte offset from the start of the stream (BOM included) of the first
    /// `data` line of the event.
    pub offset: u64,
}

/// Decoding error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// The data buffer plus the current line exceeded `limit` bytes; `offset`
    /// is the stream byte offset of the first byte beyond the limit.
    EventTooLarge { limit: usize, offset: u64 },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::EventTooLarge { limit, offset } => {
                write!(f, "SSE event larger than {limit} bytes at byte {offset}")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// Incremental SSE decoder. Feed byte chunks with [`feed`](Self::feed) and
/// call [`finish`](Self::finish) at end of input.
#[derive(Debug)]
pub struct SseDecoder {
    limit: usize,
    /// Total number of bytes passed to `feed`.
    bytes_seen: u64,
    /// Number of BOM bytes matched so far at the start of the stream.
    bom_matched: u8,
    /// Whether the BOM check at the start of the stream is over.
    bom_done: bool,
    /// The previous chunk ended with a CR line end; a LF at the start of the
    /// next chunk belongs to it.
    pending_cr: bool,
    /// 1-based number of the line currently being read.
    line_no: u64,
    /// Unterminated line carried over from previous chunks (empty when the
    /// previous chunk ended at a line boundary).
    partial: Vec<u8>,
    /// Stream offset of the first byte of `partial`.
    partial_start: u64,
    /// Data buffer of the event being assembled.
    data: Vec<u8>,
    /// Line number and offset of the first data line of the current event.
    data_line: u64,
    data_offset: u64,
    /// Event type buffer (`None` = empty = "message").
    event_type: Option<String>,
    /// Last event id buffer (sticky across events).
    last_id: Option<String>,
    /// Retry value set in the current block.
    retry: Option<u64>,
    /// Set after an error; all later calls return it.
    error: Option<SseError>,
    /// Data buffers of handled events, given back for the next events to reuse.
    spare: Vec<Vec<u8>>,
}

/// How many given-back buffers a decoder keeps.
const SPARE_BUFFERS: usize = 64;

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// Decoder with the default maximum event size ([`DEFAULT_MAX_EVENT_SIZE`]).
    pub fn new() -> Self {
        Self::with_max_event_size(DEFAULT_MAX_EVENT_SIZE)
    }

    /// Decoder that fails with [`SseError::EventTooLarge`] once the data
    /// buffer plus the current line exceed `limit` bytes.
    pub fn with_max_event_size(limit: usize) -> Self {
        SseDecoder {
            limit,
            bytes_seen: 0,
            bom_matched: 0,
            bom_done: false,
            pending_cr: false,
            line_no: 1,
            partial: Vec::new(),
            partial_start: 0,
            data: Vec::new(),
            data_line: 0,
            data_offset: 0,
            event_type: None,
            last_id: None,
            retry: None,
            error: None,
            spare: Vec::new(),
        }
    }

    /// Gives back the data buffer of a handled event, so that a later event can reuse its
    /// memory instead of allocating (one allocation per event otherwise).
    pub fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS && buffer.capacity() <= RETAIN_CAPACITY {
            buffer.clear();
            self.spare.push(buffer);
        }
    }

    /// Total number of bytes fed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.bytes_seen
    }

    /// Feed bytes; complete events are pushed onto `out`. After an error the
    /// decoder is poisoned: further feeds return the same error.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        let base = self.bytes_seen;
        self.bytes_seen += data.len() as u64;
        let result = self.feed_inner(data, base, out);
        if let Err(err) = &result {
            self.poison(err);
        }
        result
    }

    /// End of input: flush a pending event.
    ///
    /// Deviation from the spec (which discards an event not terminated by a
    /// blank line): if the data buffer is non-empty the event is dispatched,
    /// including when the last line has no line terminator at all. Calling
    /// `finish` again is a no-op.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        if !self.bom_done {
            // The stream ended inside what could have been a BOM: those
            // bytes are ordinary content.
            self.bom_done = true;
            let held = usize::from(self.bom_matched);
            if let Err(err) = self.process(&BOM[..held], 0, out) {
                self.poison(&err);
                return Err(err);
            }
        }
        self.pending_cr = false;
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            let start = self.partial_start;
            self.process_line(&line, start, out);
            self.line_no += 1;
            self.recycle_partial(line);
        }
        self.dispatch(out);
        Ok(())
    }

    fn poison(&mut self, err: &SseError) {
        self.error = Some(err.clone());
        // Release the buffers; the decoder cannot be used any more.
        self.partial = Vec::new();
        self.data = Vec::new();
    }

    fn feed_inner(
        &mut self,
        mut input: &[u8],
        mut base: u64,
        out: &mut Vec<SseEvent>,
    ) -> Result<(), SseError> {
        if !self.bom_done {
            while let Some(&b) = input.first() {
                if b == BOM[usize::from(self.bom_matched)] {
                    self.bom_matched += 1;
                    input = &input[1..];
                    base += 1;
                    if self.bom_matched == 3 {
                        self.bom_done = true;
                        break;
                    }
                } else {
                    // Not a BOM: replay the bytes held so far as content.
                    self.bom_done = true;
                    let held = usize::from(self.bom_matched);
                    self.process(&BOM[..held], 0, out)?;
                    break;
                }
            }
            if !self.bom_done {
                return Ok(());
            }
        }
        self.process(input, base, out)
    }

    /// Scan `buf`, whose first byte is at stream offset `base`.
    fn process(&mut self, buf: &[u8], base: u64, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if buf.is_empty() {
            return Ok(());
        }
        let mut pos = 0;
        if self.pending_cr {
            self.pending_cr = false;
            if buf[0] == b'\n' {
                pos = 1;
            }
        }
        while pos < buf.len() {
            let rest = &buf[pos..];
            let Some(i) = memchr::memchr2(b'\n', b'\r', rest) else {
                // Unterminated tail: carry it over to the next chunk.
                self.check_size(self.partial.len() + rest.len(), base + pos as u64)?;
                if self.partial.is_empty() {
                    self.partial_start = base + pos as u64;
                }
                let cap = self.limit.saturating_sub(self.data.len());
                extend_bounded(&mut self.partial, rest, cap);
                return Ok(());
            };
            let content = &rest[..i];
            if self.partial.is_empty() {
                // Whole line inside this chunk: no copy.
                let start = base + pos as u64;
                self.check_size(content.len(), start)?;
                self.process_line(content, start, out);
            } else {
                self.check_size(self.partial.len() + content.len(), base + pos as u64)?;
                let cap = self.limit.saturating_sub(self.data.len());
                let mut line = std::mem::take(&mut self.partial);
                extend_bounded(&mut line, content, cap);
                let start = self.partial_start;
                self.process_line(&line, start, out);
                self.recycle_partial(line);
            }
            self.line_no += 1;
            pos += i + 1;
            if rest[i] == b'\r' {
                if pos < buf.len() {
                    if buf[pos] == b'\n' {
                        pos += 1;
                    }
                } else {
                    self.pending_cr = true;
                }
            }
        }
        Ok(())
    }

    /// Check that the current line, `line_len` bytes long so far, fits next
    /// to the data buffer. `at` is the stream offset of the first byte of
    /// the line that is not yet in `partial`. The reported offset only
    /// depends on the stream content, never on how it was split.
    #[inline]
    fn check_size(&self, line_len: usize, at: u64) -> Result<(), SseError> {
        let used = self.data.len();
        if used.saturating_add(line_len) <= self.limit {
            return Ok(());
        }
        // Invariant: data.len() + partial.len() <= limit, so the first byte
        // beyond the limit lies in the new part of the line.
        let allowed = self.limit - used;
        let line_start = if self.partial.is_empty() {
            at
        } else {
            self.partial_start
        };
        Err(SseError::EventTooLarge {
            limit: self.limit,
            offset: line_start + allowed as u64,
        })
    }

    fn recycle_partial(&mut self, mut line: Vec<u8>) {
        if line.capacity() <= RETAIN_CAPACITY {
            line.clear();
            self.partial = line;
        }
    }

    /// Interpret one complete line (without its terminator) starting at
    /// stream offset `start`.
    #[inline]
    fn process_line(&mut self, line: &[u8], start: u64, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // comment
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(c) => {
                let v = &line[c + 1..];
                (&line[..c], v.strip_prefix(b" ").unwrap_or(v))
            }
            // Field named like the whole line with an empty value (e.g. a
            // bare `keep-alive-text`); only a bare `data`/`event`/`id`
            // matters below.
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if self.data.is_empty() {
                    self.data_line = self.line_no;
                    self.data_offset = start;
                }
                // data + value + "\n" <= data + line.len() <= limit.
                reserve_bounded(&mut self.data, value.len() + 1, self.limit);
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.event_type = if value.is_empty() {
                    None
                } else {
                    Some(String::from_utf8_lossy(value).into_owned())
                };
            }
            // An id containing NUL is ignored.
            b"id" if memchr::memchr(0, value).is_none() => {
                self.last_id = Some(String::from_utf8_lossy(value).into_owned());
            }
            // Only ASCII digits are accepted (values too large for u64 are
            // ignored as well); anything else leaves `retry` unchanged.
            b"retry" => self.retry = parse_u64(value).or(self.retry),
            _ => {}
        }
    }

    /// Blank line (or end of input): dispatch the pending event, if any.
    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event_type.take();
        let retry = self.retry.take();
        if self.data.is_empty() {
            return;
        }
        let next = match self.spare.pop() {
            Some(buffer) => buffer,
            None => Vec::with_capacity(self.data.len().min(RETAIN_CAPACITY)),
        };
        let mut data = std::mem::replace(&mut self.data, next);
        data.pop(); // trailing "\n"
        out.push(SseEvent {
            event,
            data,
            id: self.last_id.clone(),
            retry,
            line: self.data_line,
            offset: self.data_offset,
        });
    }
}

/// Reserve room for `additional` more bytes, growing geometrically but never
/// past `max(cap, needed)`, so that memory stays bounded by about the limit.
#[inline]
fn reserve_bounded(v: &mut Vec<u8>, additional: usize, cap: usize) {
    let needed = v.len() + additional;
    if needed > v.capacity() {
        let target = needed
            .max(v.capacity().saturating_mul(2))
            .min(cap.max(needed));
        v.reserve_exact(target - v.len());
    }
}

/// `extend_from_slice` with [`reserve_bounded`] growth.
#[inline]
fn extend_bounded(v: &mut Vec<u8>, bytes: &[u8], cap: usize) {
    reserve_bounded(v, bytes.len(), cap);
    v.extend_from_slice(bytes);
}

/// Parse a non-empty string of ASCII digits; `None` for anything else or on
/// overflow.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Endless pseudo-random sets of split points inside `len` bytes, each gap below `max_gap`:
/// the same sequence for the same seed, so a failing split reproduces.
#[cfg(test)]
pub(crate) fn random_cuts(
    mut seed: u64,
    len: usize,
    max_gap: u64,
) -> impl Iterator<Item = Vec<usize>> {
    std::iter::repeat_with(move || {
        let mut cuts = Vec::new();
        let mut pos = 0;
        loop {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            pos += (seed % max_gap) as usize;
            if pos >= len {
                return cuts;
            }
            cuts.push(pos);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(data: &str, line: u64, offset: u64) -> SseEvent {
        SseEvent {
            event: None,
            data: data.as_bytes().to_vec(),
            id: None,
            retry: None,
            line,
            offset,
        }
    }

    fn decode_chunks(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        decode_chunks_with(DEFAULT_MAX_EVENT_SIZE, chunks)
    }

    fn decode_chunks_with(limit: usize, chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut dec = SseDecoder::with_max_event_size(limit);
        let mut out = Vec::new();
        for c in chunks {
            dec.feed(c, &mut out)?;
        }
        dec.finish(&mut out)?;
        Ok(out)
    }

    fn decode(input: &[u8]) -> Vec<SseEvent> {
        decode_chunks(&[input]).unwrap()
    }

    /// Result (events before the error, plus the error) for a given split.
    fn decode_split_result(
        limit: usize,
        input: &[u8],
        cuts: &[usize],
    ) -> (Vec<SseEvent>, Option<SseError>) {
        let mut dec = SseDecoder::with_max_event_size(limit);
        let mut out = Vec::new();
        let mut prev = 0;
        for &c in cuts.iter().chain(std::iter::once(&input.len())) {
            if let Err(e) = dec.feed(&input[prev..c], &mut out) {
                return (out, Some(e));
            }
            prev = c;
        }
        match dec.finish(&mut out) {
            Ok(()) => (out, None),
            Err(e) => (out, Some(e)),
        }
    }

    /// Compare the one-shot result with every 2-way split, every 3-way split
    /// (for short inputs) and byte-by-byte feeding.
    fn assert_split_invariant(limit: usize, input: &[u8]) -> (Vec<SseEvent>, Option<SseError>) {
        let reference = decode_split_result(limit, input, &[]);
        for i in 0..=input.len() {
            assert_eq!(
                decode_split_result(limit, input, &[i]),
                reference,
                "split at {i}"
            );
        }
        if input.len() <= 64 {
            for i in 0..=input.len() {
                for j in i..=input.len() {
                    assert_eq!(
                        decode_split_result(limit, input, &[i, j]),
                        reference,
                        "split at {i},{j}"
                    );
                }
            }
        }
        let all: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            decode_split_result(limit, input, &all),
            reference,
            "byte by byte"
        );
        reference
    }

    #[test]
    fn lf_line_ends() {
        assert_eq!(
            decode(b"data: a\n\ndata: b\n\n"),
            vec![ev("a", 1, 0), ev("b", 3, 9)]
        );
    }

    #[test]
    fn crlf_line_ends() {
        assert_eq!(
            decode(b"data: a\r\n\r\ndata: b\r\n\r\n"),
            vec![ev("a", 1, 0), ev("b", 3, 11)]
        );
    }

    #[test]
    fn cr_line_ends() {
        assert_eq!(
            decode(b"data: a\r\rdata: b\r\r"),
            vec![ev("a", 1, 0), ev("b", 3, 9)]
        );
    }

    #[test]
    fn mixed_line_ends_split_invariant() {
        let input = b"data: a\r\n\rdata: b\n\r\ndata:c\r\rdata:d\n\n";
        let (events, err) = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, input);
        assert_eq!(err, None);
        assert_eq!(
            events,
            vec![
                ev("a", 1, 0),
                ev("b", 3, 10),
                ev("c", 5, 20),
                ev("d", 7, 28)
            ]
        );
    }

    #[test]
    fn cr_lf_split_across_feeds() {
        let out = decode_chunks(&[
            b"data: a\r",
            b"\n",
            b"data: b\r",
            b"\ndata: c\r",
            b"\n\r",
            b"\n",
        ])
        .unwrap();
        assert_eq!(out, vec![ev("a\nb\nc", 1, 0)]);
        // CR at the end of a feed, then an empty feed, then LF.
        let out = decode_chunks(&[b"data: a\r", b"", b"\n\r", b"", b"", b"\n"]).unwrap();
        assert_eq!(out, vec![ev("a", 1, 0)]);
        // CR at the end, then a non-LF byte: two separate line ends.
        let out = decode_chunks(&[b"data: a\r", b"\rdata: b\r", b"\r"]).unwrap();
        assert_eq!(out, vec![ev("a", 1, 0), ev("b", 3, 9)]);
    }

    fn realistic_body() -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(b": OPENROUTER PROCESSING\n\n");
        for i in 0..12 {
            body.extend_from_slice(
                format!(
                    "data: {{\"id\":\"chatcmpl-{i}\",\"object\":\"chat.completion.chunk\",\
                     \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"h\u{e9}llo \u{1F600} {i}\"}}}}]}}\r\n\r\n"
                )
                .as_bytes(),
            );
            if i % 4 == 1 {
                body.extend_from_slice(b": keep-alive\n\n");
            }
            if i % 5 == 2 {
                body.extend_from_slice(b"keep-alive-text\n\n");
            }
            if i == 7 {
                body.extend_from_slice(b"event: ping\rid: 7\rretry: 250\rdata\rdata:x\r\r");
            }
        }
        body.extend_from_slice(b"data: [DONE]\n\n");
        body
    }

    #[test]
    fn every_byte_split_matches_one_shot() {
        let body = realistic_body();
        let one_shot = decode(&body);
        assert_eq!(one_shot.len(), 14);
        assert_eq!(one_shot.last().unwrap().data, b"[DONE]");
        let (events, err) = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, &body);
        assert_eq!(err, None);
        assert_eq!(events, one_shot);

        // Pseudo-random multi-way splits.
        for cuts in random_cuts(0x2545F4914F6CDD1D, body.len(), 40).take(200) {
            assert_eq!(
                decode_split_result(DEFAULT_MAX_EVENT_SIZE, &body, &cuts),
                (one_shot.clone(), None)
            );
        }
    }

    #[test]
    fn bom_is_skipped_even_when_split() {
        let input = b"\xEF\xBB\xBFdata: a\n\ndata: b\n\n";
        let (events, err) = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, input);
        assert_eq!(err, None);
        assert_eq!(events, vec![ev("a", 1, 3), ev("b", 3, 12)]);
        let out = decode_chunks(&[b"\xEF", b"\xBB", b"\xBF", b"data: a\n\n"]).unwrap();
        assert_eq!(out, vec![ev("a", 1, 3)]);
    }

    #[test]
    fn bom_only_at_stream_start() {
        // A second BOM is content: the field name is then "\u{feff}data".
        assert_eq!(decode(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n"), vec![]);
        assert_eq!(
            decode(b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"),
            vec![ev("a", 1, 0)]
        );
    }

    #[test]
    fn partial_bom_is_content() {
        // Bytes that start like a BOM but are not one stay in the data.
        let input = b"\xEF\xBBx: y\ndata: \xEF\xBB\n\n";
        let (events, err) = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, input);
        assert_eq!(err, None);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, b"\xEF\xBB");
        assert_eq!((events[0].line, events[0].offset), (2, 7));
        // A partial BOM that is a data line prefix.
        let out = decode_chunks(&[b"\xEF", b"data: z"]).unwrap();
        assert_eq!(out, vec![]); // field name is "\xEFdata", unknown
                                 // Stream ending inside a possible BOM.
        let out = decode_chunks(&[b"\xEF\xBB"]).unwrap();
        assert_eq!(out, vec![]);
    }

    #[test]
    fn comments_are_ignored() {
        let input =
            b": keep-alive\n\n: OPENROUTER PROCESSING\n\ndata: a\n: inside\ndata: b\n\n:\n\n";
        assert_eq!(decode(input), vec![ev("a\nb", 5, 39)]);
    }

    #[test]
    fn data_with_and_without_space() {
        let out = decode(b"data:x\n\ndata: x\n\ndata:  x\n\ndata: \n\ndata:\n\ndata\n\n");
        let datas: Vec<&[u8]> = out.iter().map(|e| e.data.as_slice()).collect();
        assert_eq!(datas, vec![&b"x"[..], b"x", b" x", b"", b"", b""]);
    }

    #[test]
    fn multi_line_data_joined_with_newline() {
        assert_eq!(
            decode(b"data: a\ndata:b\ndata\ndata: c\n\n"),
            vec![ev("a\nb\n\nc", 1, 0)]
        );
        // Data ending in an explicit empty line keeps only one newline stripped.
        assert_eq!(decode(b"data: a\ndata:\n\n"), vec![ev("a\n", 1, 0)]);
    }

    #[test]
    fn bare_keep_alive_text_line_is_ignored() {
        let out = decode(b"keep-alive-text\n\ndata: a\nkeep-alive-text\ndata: b\n\n");
        assert_eq!(out, vec![ev("a\nb", 3, 17)]);
        // Unknown fields with values are ignored too.
        assert_eq!(decode(b"foo: bar\nDATA: x\n\n"), vec![]);
    }

    #[test]
    fn event_id_retry_fields() {
        let input = b"event: delta\nid: 1\nretry: 1500\ndata: a\n\n\
                      data: b\n\n\
                      event:\nid: 2\nretry: 12x\ndata: c\n\n\
                      id: bad\0id\nretry:\nevent: e\ndata: d\n\n\
                      id\ndata: e\n\n";
        let out = decode(input);
        assert_eq!(out.len(), 5);
        assert_eq!(out[0].event.as_deref(), Some("delta"));
        assert_eq!(out[0].id.as_deref(), Some("1"));
        assert_eq!(out[0].retry, Some(1500));
        assert_eq!(out[0].data, b"a");
        // Event type and retry reset after dispatch, id is sticky.
        assert_eq!(out[1].event, None);
        assert_eq!(out[1].id.as_deref(), Some("1"));
        assert_eq!(out[1].retry, None);
        // Empty event value means "message"; non-digit retry ignored.
        assert_eq!(out[2].event, None);
        assert_eq!(out[2].id.as_deref(), Some("2"));
        assert_eq!(out[2].retry, None);
        // id containing NUL ignored; empty retry ignored.
        assert_eq!(out[3].event.as_deref(), Some("e"));
        assert_eq!(out[3].id.as_deref(), Some("2"));
        assert_eq!(out[3].retry, None);
        // Bare `id` resets the id to the empty string.
        assert_eq!(out[4].id.as_deref(), Some(""));
        // Overflowing retry ignored.
        assert_eq!(
            decode(b"retry: 99999999999999999999\ndata: a\n\n")[0].retry,
            None
        );
        // Field values converted lossily.
        assert_eq!(
            decode(b"event: \xFFx\ndata: a\n\n")[0].event.as_deref(),
            Some("\u{FFFD}x")
        );
    }

    #[test]
    fn event_type_reset_by_block_without_data() {
        let out = decode(b"event: a\nretry: 5\n\ndata: x\n\n");
        assert_eq!(out, vec![ev("x", 4, 19)]);
    }

    #[test]
    fn blank_lines_only_gives_no_events() {
        assert_eq!(decode(b"\n\n\r\n\r\r\n\n"), vec![]);
        assert_eq!(decode(b""), vec![]);
        assert_eq!(decode(b"event: x\nid: 3\n\n\n"), vec![]);
    }

    #[test]
    fn unterminated_last_event_flushed_by_finish() {
        // Last line terminated but no blank line.
        assert_eq!(
            decode(b"data: a\n\ndata: b\n"),
            vec![ev("a", 1, 0), ev("b", 3, 9)]
        );
        // Last line without any line end.
        assert_eq!(
            decode(b"data: a\n\ndata: b"),
            vec![ev("a", 1, 0), ev("b", 3, 9)]
        );
        assert_eq!(decode(b"data: a\r\ndata: b"), vec![ev("a\nb", 1, 0)]);
        // A trailing CR, or a partial comment/field, is fine.
        assert_eq!(decode(b"data: a\r"), vec![ev("a", 1, 0)]);
        assert_eq!(decode(b"data: a\n: comm"), vec![ev("a", 1, 0)]);
        assert_eq!(decode(b"event: x"), vec![]);
        // finish() is idempotent.
        let mut dec = SseDecoder::new();
        let mut out = Vec::new();
        dec.feed(b"event: t\ndata: z", &mut out).unwrap();
        assert!(out.is_empty());
        dec.finish(&mut out).unwrap();
        dec.finish(&mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].event.as_deref(), Some("t"));
        assert_eq!((out[0].line, out[0].offset), (2, 9));
    }

    #[test]
    fn line_and_offset_reporting() {
        let input = b"\xEF\xBB\xBF: hi\r\n\r\nevent: x\ndata: one\rdata: two\n\n\n\nid: 5\r\ndata:three\n\n";
        let (out, err) = assert_split_invariant(DEFAULT_MAX_EVENT_SIZE, input);
        assert_eq!(err, None);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].data, b"one\ntwo");
        assert_eq!((out[0].line, out[0].offset), (4, 20));
        assert_eq!(&input[20..24], b"data");
        assert_eq!(out[1].data, b"three");
        assert_eq!((out[1].line, out[1].offset), (10, 50));
        assert_eq!(&input[50..55], b"data:");
    }

    #[test]
    fn bytes_seen_counts_everything() {
        let mut dec = SseDecoder::new();
        let mut out = Vec::new();
        dec.feed(b"\xEF\xBB", &mut out).unwrap();
        dec.feed(b"\xBFdata: a\r", &mut out).unwrap();
        dec.feed(b"\n", &mut out).unwrap();
        assert_eq!(dec.bytes_seen(), 12);
    }

    #[test]
    fn oversized_line_errors_with_offset() {
        // Never-ending line: error at the first byte beyond the limit.
        let limit = 1000;
        let mut dec = SseDecoder::with_max_event_size(limit);
        let mut out = Vec::new();
        dec.feed(b"data: ", &mut out).unwrap();
        let chunk = [b'a'; 97];
        let mut err = None;
        for _ in 0..1000 {
            if let Err(e) = dec.feed(&chunk, &mut out) {
                err = Some(e);
                break;
            }
            // The carried-over line never outgrows the limit.
            assert!(
                dec.partial.capacity() <= limit,
                "{}",
                dec.partial.capacity()
            );
        }
        let err = err.expect("limit must trigger");
        assert_eq!(
            err,
            SseError::EventTooLarge {
                limit,
                offset: 1000
            }
        );
        assert_eq!(
            err.to_string(),
            "SSE event larger than 1000 bytes at byte 1000"
        );
        // Poisoned.
        assert_eq!(dec.feed(b"\n\n", &mut out), Err(err.clone()));
        assert_eq!(dec.finish(&mut out), Err(err));
        assert!(out.is_empty());
    }

    #[test]
    fn oversized_event_counts_data_buffer() {
        // Each "data: xxxxxxxx\n" adds 9 bytes to the buffer; the limit
        // counts the buffer plus the current line.
        let mut input = Vec::new();
        input.extend_from_slice(b"data: ok\n\n");
        for _ in 0..10 {
            input.extend_from_slice(b"data: xxxxxxxx\n");
        }
        input.extend_from_slice(b"\n");
        let limit = 50;
        let (events, err) = assert_split_invariant(limit, &input);
        assert_eq!(events, vec![ev("ok", 1, 0)]);
        // After 5 lines the buffer holds 45 bytes; the 6th line (starting
        // at 10 + 5 * 15 = 85) may have 5 bytes, its 6th byte is beyond.
        assert_eq!(
            err,
            Some(SseError::EventTooLarge {
                limit,
                offset: 85 + 5
            })
        );
        // Exactly at the limit is fine.
        let line = b"data: 123456789\n\n"; // 15 bytes of line content
        assert_eq!(decode_chunks_with(15, &[line]).unwrap().len(), 1);
        assert_eq!(
            decode_chunks_with(14, &[line]),
            Err(SseError::EventTooLarge {
                limit: 14,
                offset: 14
            })
        );
        // A huge comment line counts as well.
        assert_eq!(
            decode_chunks_with(4, &[b": long comment\n"]),
            Err(SseError::EventTooLarge {
                limit: 4,
                offset: 4
            })
        );
    }

    #[test]
    fn large_event_memory_stays_bounded() {
        let limit = 64 * 1024;
        let mut dec = SseDecoder::with_max_event_size(limit);
        let mut out = Vec::new();
        let line = [b'z'; 1000];
        let mut err = None;
        for _ in 0..200 {
            let r = dec
                .feed(b"data: ", &mut out)
                .and_then(|_| dec.feed(&line, &mut out))
                .and_then(|_| dec.feed(b"\n", &mut out));
            if let Err(e) = r {
                err = Some(e);
                break;
            }
            assert!(dec.data.capacity() <= limit);
            assert!(dec.partial.capacity() <= limit);
        }
        assert!(matches!(err, Some(SseError::EventTooLarge { .. })));
    }
}
