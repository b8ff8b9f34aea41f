//! One record: found, keyed, parsed.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::Arc;

use crate::errors::{ParseError, Position};
use crate::model::{Chunk, Field};
use crate::parse::{parse, LogProbsSpans};
use crate::template::ChunkTemplate;

use super::pointer::{key_text, trailing_id, Pointer};

/// The data of one SSE event, inside a block's buffer.
pub(super) struct SseRecord {
    pub start: usize,
    pub end: usize,
    pub line: u64,
    pub column: u64,
    pub done: bool,
}

pub(super) enum Item<'a> {
    Chunk {
        key: Cow<'a, str>,
        chunk: Chunk<'a>,
    },
    Bad {
        /// Relative to the record's first line (0-based).
        line: u64,
        column: u64,
        message: String,
    },
}

pub(super) struct Options {
    /// Hashes keys once per record (on the reading thread) for both the choice of partition
    /// and that partition's table of open streams. Seeded per run.
    pub hasher: foldhash::fast::RandomState,
    pub key: Option<Pointer>,
    pub chunk: Option<Pointer>,
    /// Where the grouping key is: `key`, else the chunk's `id`.
    key_at: Pointer,
    /// See `Config::serialize`.
    pub serialize: bool,
}

impl Options {
    pub fn new(key: Option<Pointer>, chunk: Option<Pointer>) -> Options {
        let key_at = match (&key, &chunk) {
            (Some(key), _) => key.clone(),
            (None, Some(chunk)) => chunk.join("id"),
            (None, None) => Pointer::parse("/id").expect("a valid pointer"),
        };
        Options {
            hasher: foldhash::fast::RandomState::default(),
            key,
            chunk,
            key_at,
            serialize: false,
        }
    }

    /// The record's grouping key, found without parsing it; None if the record is too
    /// broken to tell (it is then bad, or keyed when parsed).
    pub fn scan_key<'a>(&self, text: &'a [u8]) -> Option<Cow<'a, str>> {
        if self.key.is_none() && self.chunk.is_none() {
            // The usual first key of a chunk: `{"id":"chatcmpl-..."`.
            if let Some(rest) = text.strip_prefix(b"{\"id\":\"") {
                if let Some(end) = memchr::memchr2(b'"', b'\\', rest) {
                    if rest[end] == b'"' {
                        return utf8(&rest[..end]).map(Cow::Borrowed);
                    }
                }
            }
            if let Some((start, end)) = trailing_id(text) {
                return utf8(&text[start..end]).map(Cow::Borrowed);
            }
        }
        match self.key_at.find(text) {
            Ok(Some((start, end))) => key_text(&text[start..end]).ok(),
            Ok(None) => Some(Cow::Borrowed("")),
            Err(_) => None,
        }
    }

    pub fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }
}

/// Ids are ASCII: checked a word at a time, without `from_utf8`'s general path (a
/// fifth of the key scan's time).
fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

/// The partition that merges the stream of a key with this hash (its high bits: the tables
/// of open streams index by the low ones).
pub(super) fn shard_of(hash: u64, shards: usize) -> usize {
    ((hash >> 32) as usize) % shards.max(1)
}

/// Where a record's grouping key is, as the reader found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyAt {
    /// These bytes of the block, as they stand (no escapes).
    Span(usize, usize),
    /// The record has none: its stream is keyed "".
    Missing,
    /// Escaped, or the record is too broken to tell: its partition looks again.
    Unknown,
}

/// A non-blank line of a JSONL block.
#[derive(Debug)]
pub(super) struct IndexedRecord {
    /// The line's bytes in the block, line end excluded.
    pub line: Range<usize>,
    /// The record: the line without a trailing CR.
    pub text_end: usize,
    /// Line and record numbers in the block, from 0.
    pub at: u64,
    pub number: u64,
    pub key: KeyAt,
    /// `Options::hash` of the key, unless it is `Unknown`.
    pub hash: u64,
}

/// The records of a JSONL block, each dealt to the partition that merges its key. Found
/// once by the reading thread, rather than every partition scanning every line.
#[derive(Debug, Default)]
pub(super) struct BlockIndex {
    pub shards: Vec<Vec<IndexedRecord>>,
    /// Non-blank lines.
    pub records: u64,
    /// Lines that end in the block (a last line without a line end goes on in the next).
    pub lines_ended: u64,
}

impl BlockIndex {
    /// `expect`: about how many records each partition will get (the last block's counts).
    pub fn new(data: &[u8], options: &Options, expect: &[usize]) -> BlockIndex {
        let shards = expect.len();
        let mut index = BlockIndex {
            shards: expect
                .iter()
                .map(|&n| Vec::with_capacity(n + n / 8))
                .collect(),
            ..BlockIndex::default()
        };
        let mut lines = Lines::new(data);
        for (at, raw) in lines.by_ref() {
            let Some(text) = record_text(raw) else {
                continue;
            };
            let start = raw.as_ptr() as usize - data.as_ptr() as usize;
            let scanned = options.scan_key(text);
            let hash = scanned.as_deref().map_or(0, |key| options.hash(key));
            let shard = scanned.as_ref().map_or(0, |_| shard_of(hash, shards));
            let key = match &scanned {
                Some(Cow::Borrowed("")) => KeyAt::Missing,
                Some(Cow::Borrowed(key)) => span_in(data, key),
                _ => KeyAt::Unknown,
            };
            index.shards[shard].push(IndexedRecord {
                line: start..start + raw.len(),
                text_end: start + text.len(),
                at,
                number: index.records,
                key,
                hash,
            });
            index.records += 1;
        }
        index.lines_ended = if data.ends_with(b"\n") {
            lines.yielded()
        } else {
            lines.yielded().saturating_sub(1)
        };
        index
    }
}

/// Where `key`, borrowed from `data`, lies in it (checked, since `key` makes a `&str` of
/// those bytes again without checking them).
fn span_in(data: &[u8], key: &str) -> KeyAt {
    let start = (key.as_ptr() as usize).wrapping_sub(data.as_ptr() as usize);
    match start.checked_add(key.len()) {
        Some(end) if end <= data.len() => KeyAt::Span(start, end),
        _ => KeyAt::Unknown,
    }
}

impl IndexedRecord {
    /// The record's key, as `Options::scan_key` gives it, and its hash.
    pub fn key<'a>(&self, data: &'a [u8], options: &Options) -> Option<(Cow<'a, str>, u64)> {
        match self.key {
            // SAFETY: the span is a `&str` that `scan_key` borrowed from these same bytes.
            KeyAt::Span(start, end) => Some((
                Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(&data[start..end]) }),
                self.hash,
            )),
            KeyAt::Missing => Some((Cow::Borrowed(""), self.hash)),
            KeyAt::Unknown => options
                .scan_key(&data[self.line.start..self.text_end])
                .map(|key| {
                    let hash = options.hash(&key);
                    (key, hash)
                }),
        }
    }
}

/// One record: its key (`scanned`, else found again) and chunk, or why it is bad.
/// `column` is where the record starts on its line.
pub(super) fn record<'a>(
    text: &'a [u8],
    column: u64,
    scanned: Option<Cow<'a, str>>,
    options: &Options,
) -> Item<'a> {
    let bad = |at: Position, message: String| Item::Bad {
        line: at.line - 1,
        column: if at.line == 1 {
            column + at.column - 1
        } else {
            at.column
        },
        message,
    };
    let wrapped = options.key.is_some() || options.chunk.is_some();
    if wrapped {
        if let Err(e) = std::str::from_utf8(text) {
            return bad(
                Position::at(text, e.valid_up_to()),
                "invalid UTF-8".to_owned(),
            );
        }
    }
    let (chunk_text, chunk_at) = match &options.chunk {
        None => (text, 0),
        Some(pointer) => match pointer.locate(text) {
            Ok(Some((start, end))) => (&text[start..end], start),
            Ok(None) => {
                return bad(
                    Position::at(text, 0),
                    format!("no chunk at {}", pointer.as_str()),
                )
            }
            Err(message) => {
                return bad(Position::at(text, 0), format!("invalid record: {message}"))
            }
        },
    };
    let chunk = match parse::<Chunk>(chunk_text, false) {
        Ok(chunk) => chunk,
        Err(e) => return bad(position_in(text, chunk_at, &e), describe(&e)),
    };
    if let Some(key) = scanned {
        return Item::Chunk { key, chunk };
    }
    let key = match &options.key {
        None => chunk.id.get().map_or(Cow::Borrowed(""), |id| id.0.clone()),
        Some(pointer) => match pointer.locate(text) {
            Ok(Some((start, end))) => match key_text(&text[start..end]) {
                Ok(key) => key,
                Err(message) => {
                    return bad(Position::at(text, start), format!("invalid key: {message}"))
                }
            },
            Ok(None) => Cow::Borrowed(""),
            Err(message) => {
                return bad(Position::at(text, 0), format!("invalid record: {message}"))
            }
        },
    };
    Item::Chunk { key, chunk }
}

fn position_in(text: &[u8], chunk_at: usize, e: &ParseError) -> Position {
    let offset = e.position.map_or(0, |p| p.offset as usize);
    Position::at(text, chunk_at + offset)
}

fn describe(e: &ParseError) -> String {
    if e.path == "$" {
        e.message.clone()
    } else {
        format!("{} (at {})", e.message, e.path)
    }
}

/// The lines of a block of JSONL (the last may lack its line end), numbered from 0.
pub(super) struct Lines<'a> {
    data: &'a [u8],
    start: usize,
    next: u64,
}

impl<'a> Lines<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Lines {
            data,
            start: 0,
            next: 0,
        }
    }

    /// How many lines were yielded so far.
    pub fn yielded(&self) -> u64 {
        self.next
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let data = self.data;
        if self.start >= data.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &data[self.start..]).map_or(data.len(), |i| self.start + i);
        let line = (self.next, &data[self.start..end]);
        self.start = end + 1;
        self.next += 1;
        Some(line)
    }
}

/// A line's record: the line without a trailing CR; None for a blank line.
pub(super) fn record_text(raw: &[u8]) -> Option<&[u8]> {
    (!raw.trim_ascii().is_empty()).then(|| raw.strip_suffix(b"\r").unwrap_or(raw))
}

/// A usage report with no choices: what ends a stream once every choice has finished.
pub(super) fn usage_only(chunk: &Chunk<'_>) -> bool {
    matches!(chunk.usage, Field::Value(_))
        && chunk.choices.get().is_none_or(|choices| choices.is_empty())
}

/// A chunk whose layout its stream's next chunk will not share (see `learn`).
fn one_of_a_kind(chunk: &Chunk<'_>) -> bool {
    let Some(choices) = chunk.choices.get() else {
        return false;
    };
    choices.is_empty()
        || choices.iter().any(|choice| {
            choice
                .finish_reason
                .get()
                .is_some_and(|r| !r.as_str().is_empty())
        })
}

/// Where the `logprobs` of a chunk read through a stream's layout are, by choice position
/// (see `ChunkTemplate::fill_merging`).
pub(super) type Spans = [(usize, Field<LogProbsSpans>)];

/// The layouts of a stream's last chunks, to read its next chunk through.
#[derive(Default)]
pub(super) struct StreamLayout {
    /// Most recently used first. Streams with two choices, or with parallel tool calls,
    /// take turns between layouts that differ only in an index: on the benchmark log,
    /// keeping four instead of one turned 13% more of the lines into fills.
    templates: [Option<ChunkTemplate>; 4],
    spans: Vec<(usize, Field<LogProbsSpans>)>,
}

impl StreamLayout {
    /// The chunk `text` parses to, if it has one of the stream's last layouts (only what
    /// changed is read), for merging with `Accumulator::add_with_spans(chunk, spans, text)`:
    /// log probabilities are validated and located, not built (building them was a tenth
    /// of the time on the benchmark log), so the chunk's own `logprobs` at the positions
    /// in `spans` are stale and must not be read.
    pub fn fill(&mut self, text: &[u8]) -> Option<(Arc<Chunk<'static>>, &Spans)> {
        for t in 0..self.templates.len() {
            let template = self.templates[t].as_mut()?;
            if let Some(chunk) = template.fill_merging(text, &mut self.spans) {
                let chunk = Arc::clone(chunk);
                self.templates[..=t].rotate_right(1);
                return Some((chunk, &self.spans));
            }
        }
        None
    }

    /// Drops the layouts of a stream whose every choice has finished: only its usage report
    /// may follow, one of a kind. Two thirds of the benchmark log's streams send none and
    /// wait LINGER records for it, finished streams five times as many as those still
    /// sending; their layouts only crowded the caches (5-7% of a merge).
    pub fn forget(&mut self) {
        *self = StreamLayout::default();
    }

    /// Learns the layout of `chunk`, just parsed in full from `text` and merged (the
    /// template keeps only what merging its layout again needs), unless it is a finish
    /// or a usage report: on the benchmark log no template of those was used again. It
    /// takes the place of the least recently used layout; a chunk that makes no template
    /// (holes that cannot be told apart) leaves the others in place.
    ///
    /// Callers do not learn a stream's first chunk either, nor one that opens a message or
    /// a tool call (`Accumulator::opens_something`): 80% of the templates of those were
    /// never used. Where the server repeats the role or the call id on every chunk,
    /// learning the next one costs one more parse per message or call. Of the templates
    /// learnt on the benchmark log, 91% are used.
    pub fn learn(&mut self, text: &[u8], chunk: Chunk<'_>) {
        if one_of_a_kind(&chunk) {
            return;
        }
        if let Some(template) = ChunkTemplate::record_for_merging(text, chunk) {
            self.templates.rotate_right(1);
            self.templates[0] = Some(template);
        }
    }
}
