//! Mergeable partial state: a stream merged in pieces (by different workers, from different
//! files or blocks), each piece saved as bytes, the pieces combined in input order.
//!
//! # Design
//!
//! Almost every merge rule combines directly: a partial that has not seen the start of its
//! stream still knows exactly what its chunks contribute (the first non-empty `id`, the
//! concatenated `content`, the last `finish_reason`, the last `usage`, its extras in
//! first-seen order with their last values, …), and that contribution does not depend on
//! what came before. So a partial state is written out as ONE synthetic chunk that has, on
//! any accumulator, the same effect as all the chunks it merged: the concatenations as one
//! fragment, the set-once values as sent once, the last values as sent last.
//!
//! Tool calls are the exception: which call an entry joins depends on the calls made before
//! it (an entry without index and id continues the *last* call; an index with a new id may
//! start a new call at that index; an entry without index but with a new id goes after the
//! highest index so far). A partial that has not seen the stream's start cannot resolve them.
//! So, next to a normal [`Accumulator`], a partial keeps a [`ToolCallLog`]: per choice, the
//! `tool_calls` entries in arrival order, unresolved, and the synthetic chunk carries that
//! log as its `delta.tool_calls` list. When partials combine, the later log is replayed
//! into the earlier accumulator (which resolves it in the right context) and appended to the
//! earlier log. The accumulator of a partial that starts at the stream's start therefore
//! holds exactly the single-pass result.
//!
//! The log stays compact: an entry is fused into the previous one when it provably joins the
//! same call whatever came before, which is how nearly every vendor streams (the id and name
//! on the first fragment, then fragments with only `index` and `arguments`):
//!
//! * an entry with an `index` fuses when the previous entry has the same index and the entry
//!   has no id or the same non-empty id (the previous entry left its call as the last one
//!   touched, at that index, with that id);
//! * an entry without an `index` fuses when it has no id (it continues the last call), or
//!   the same non-empty id as the previous entry (the most recent call with that id).
//!
//! Fusing follows the merge rules of a call (id, type and name set once, arguments
//! concatenated, extras last-wins in first-seen order), so the fused entry has the same
//! effect as the two in a row. A plain OpenAI tool call is one entry, whatever its length.
//!
//! # Bytes
//!
//! `b"CCPS"`, a format version byte (1), the chunk count (u64, little endian), then the
//! synthetic chunk as JSON (lossless dump, parsed back leniently). Anything else is an
//! error, never a panic.

use std::fmt;

use super::Accumulator;
use crate::model::{
    Arguments, Chunk, Extra, Field, FunctionDelta, IntoOwned, JsonValue, Mode, Text, ToolCallDelta,
    With, CHUNK_OBJECT,
};
use crate::parse::{parse, LogProbsSpans};

const MAGIC: &[u8; 4] = b"CCPS";
/// The version of the byte format; bumped whenever the layout changes.
pub const PARTIAL_FORMAT_VERSION: u8 = 1;
const HEADER: usize = MAGIC.len() + 1 + 8;

/// Why bytes could not be read back as a partial state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialError(pub String);

impl fmt::Display for PartialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid partial state: {}", self.0)
    }
}

impl std::error::Error for PartialError {}

/// The `tool_calls` entries of a stream, per choice, in arrival order and unresolved
/// (adjacent entries that provably join the same call fused). See the module docs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCallLog {
    /// Sorted by choice index.
    choices: Vec<(u32, Vec<ToolCallDelta<'static>>)>,
}

impl ToolCallLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the `tool_calls` entries of one chunk (a no-op for chunks without any).
    #[inline]
    pub fn record(&mut self, chunk: &Chunk<'_>) {
        let Field::Value(choices) = &chunk.choices else {
            return;
        };
        for choice in choices {
            let Field::Value(delta) = &choice.delta else {
                continue;
            };
            let Field::Value(calls) = &delta.tool_calls else {
                continue;
            };
            if calls.is_empty() {
                continue;
            }
            let index = choice.index.get().map_or(0, |i| i.value);
            let log = self.entries(index);
            for call in calls {
                push(log, call);
            }
        }
    }

    /// Appends the log of a later piece of the same stream.
    pub fn append(&mut self, later: &ToolCallLog) {
        for (index, entries) in &later.choices {
            let log = self.entries(*index);
            for entry in entries {
                push(log, entry);
            }
        }
    }

    /// How many (fused) entries the log holds.
    pub fn len(&self) -> usize {
        self.choices.iter().map(|(_, e)| e.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }

    fn entries(&mut self, index: u32) -> &mut Vec<ToolCallDelta<'static>> {
        let slot = match self.choices.binary_search_by_key(&index, |(i, _)| *i) {
            Ok(slot) => slot,
            Err(slot) => {
                self.choices.insert(slot, (index, Vec::new()));
                slot
            }
        };
        &mut self.choices[slot].1
    }

    fn get(&self, index: u32) -> Option<&Vec<ToolCallDelta<'static>>> {
        self.choices
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .map(|slot| &self.choices[slot].1)
    }
}

fn nonempty<'x>(text: &'x Field<Text<'_>>) -> Option<&'x str> {
    text.get().map(|t| t.as_str()).filter(|s| !s.is_empty())
}

/// Whether `next`, arriving right after `prev` in the same choice, joins the call `prev`
/// joined whatever the calls before them were (see the module docs for why).
fn continues(prev: &ToolCallDelta<'_>, next: &ToolCallDelta<'_>) -> bool {
    let id = nonempty(&next.id);
    let same_id = id.is_none() || id == nonempty(&prev.id);
    match next.index.get() {
        Some(index) => prev.index.get().map(|i| i.value) == Some(index.value) && same_id,
        None => same_id,
    }
}

fn push(log: &mut Vec<ToolCallDelta<'static>>, entry: &ToolCallDelta<'_>) {
    if let Some(prev) = log.last_mut() {
        if continues(prev, entry) {
            fuse(prev, entry);
            return;
        }
    }
    log.push(normalized(entry));
}

/// An owned copy of `entry` in the form the log keeps: extras without repeated keys
/// (last value wins), arguments as text, indices unquoted.
fn normalized(entry: &ToolCallDelta<'_>) -> ToolCallDelta<'static> {
    ToolCallDelta {
        index: entry.index.clone().map(|i| i.value.into()),
        id: entry.id.clone().into_owned(),
        kind: entry.kind.clone().into_owned(),
        function: entry.function.clone().map(|f| normalized_function(&f)),
        extra: last_wins(&Extra::default(), &entry.extra),
    }
}

fn normalized_function(function: &FunctionDelta<'_>) -> FunctionDelta<'static> {
    FunctionDelta {
        name: function.name.clone().into_owned(),
        arguments: function.arguments.clone().map(|a| Arguments {
            text: Text::from(a.text.as_str().to_owned()),
            sent_as_json: None,
        }),
        extra: last_wins(&Extra::default(), &function.extra),
    }
}

/// `kept` updated by `sent` as the merge does it: each key keeps its first position and its
/// last value.
fn last_wins(kept: &Extra<'static>, sent: &Extra<'_>) -> Extra<'static> {
    let mut out: Vec<(Text<'static>, JsonValue<'static>)> = kept.0.clone();
    for (key, value) in &sent.0 {
        match out.iter_mut().find(|(k, _)| k.as_str() == key.as_str()) {
            Some((_, kept)) => *kept = value.clone().into_owned(),
            None => out.push((
                Text::from(key.as_str().to_owned()),
                value.clone().into_owned(),
            )),
        }
    }
    Extra(out)
}

fn set_once(slot: &mut Field<Text<'static>>, value: &Field<Text<'_>>) {
    if nonempty(slot).is_none() {
        if let Some(text) = nonempty(value) {
            *slot = Field::Value(Text::from(text.to_owned()));
        }
    }
}

/// `prev` followed by `next` (which joins the same call) as one entry.
fn fuse(prev: &mut ToolCallDelta<'static>, next: &ToolCallDelta<'_>) {
    // The id is the same or `next` has none (see `continues`); set once otherwise.
    set_once(&mut prev.id, &next.id);
    set_once(&mut prev.kind, &next.kind);
    if let Field::Value(function) = &next.function {
        match &mut prev.function {
            Field::Value(kept) => {
                set_once(&mut kept.name, &function.name);
                if let Field::Value(arguments) = &function.arguments {
                    match &mut kept.arguments {
                        Field::Value(buffer) => {
                            buffer.text.0.to_mut().push_str(arguments.text.as_str())
                        }
                        slot => {
                            *slot = Field::Value(Arguments {
                                text: Text::from(arguments.text.as_str().to_owned()),
                                sent_as_json: None,
                            })
                        }
                    }
                }
                if !function.extra.is_empty() {
                    kept.extra = last_wins(&kept.extra, &function.extra);
                }
            }
            slot => *slot = Field::Value(normalized_function(function)),
        }
    }
    if !next.extra.is_empty() {
        prev.extra = last_wins(&prev.extra, &next.extra);
    }
}

/// One stream's merge state that can be saved as bytes and combined with the state of a
/// later piece of the same stream; see the module docs.
///
/// `completion()` is the single-pass result when the first piece started at the stream's
/// first chunk (as the combination of all pieces in order does).
#[derive(Debug, Clone, Default)]
pub struct PartialAccumulator {
    acc: Accumulator,
    log: ToolCallLog,
}

impl PartialAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// A partial state from an accumulator and the tool-call log recorded next to it (a
    /// caller that drives an [`Accumulator`] itself records with [`ToolCallLog::record`]).
    pub fn from_parts(acc: Accumulator, log: ToolCallLog) -> Self {
        PartialAccumulator { acc, log }
    }

    pub fn into_parts(self) -> (Accumulator, ToolCallLog) {
        (self.acc, self.log)
    }

    /// Merges one chunk.
    #[inline]
    pub fn add(&mut self, chunk: &Chunk<'_>) {
        self.acc.add(chunk);
        self.log.record(chunk);
    }

    /// See [`Accumulator::add_with_spans`].
    pub fn add_with_spans(
        &mut self,
        chunk: &Chunk<'_>,
        spans: &[(usize, Field<LogProbsSpans>)],
        data: &[u8],
    ) {
        self.acc.add_with_spans(chunk, spans, data);
        self.log.record(chunk);
    }

    pub fn accumulator(&self) -> &Accumulator {
        &self.acc
    }

    pub fn tool_call_log(&self) -> &ToolCallLog {
        &self.log
    }

    pub fn chunk_count(&self) -> u64 {
        self.acc.chunk_count()
    }

    pub fn is_finished(&self) -> bool {
        self.acc.is_finished()
    }

    /// See [`Accumulator::opens_something`].
    pub fn opens_something(&self, chunk: &Chunk<'_>) -> bool {
        self.acc.opens_something(chunk)
    }

    /// See [`Accumulator::choices_finished`].
    pub fn choices_finished(&self) -> bool {
        self.acc.choices_finished()
    }

    /// See [`Accumulator::completion`].
    pub fn completion(&self) -> crate::model::Completion<'static> {
        self.acc.completion()
    }

    pub fn into_completion(self) -> crate::model::Completion<'static> {
        self.acc.into_completion()
    }

    /// Merges the state of the piece that follows this one in input order: the result is
    /// what merging this piece's chunks and then the later piece's gives.
    pub fn extend(&mut self, later: &PartialAccumulator) {
        let chunks = self.acc.chunk_count() + later.acc.chunk_count();
        self.acc.add(&snapshot_chunk(&later.acc, &later.log));
        self.acc.chunks = chunks;
        self.log.append(&later.log);
    }

    /// `self` (earlier) followed by `later`.
    pub fn combine(mut self, later: &PartialAccumulator) -> Self {
        self.extend(later);
        self
    }

    /// The versioned byte form (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(&self.acc, &self.log, self.acc.chunk_count())
    }

    /// Reads back what [`to_bytes`](Self::to_bytes) wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PartialError> {
        let (chunk, chunks) = decode(bytes)?;
        let mut partial = PartialAccumulator::new();
        partial.add(&chunk);
        partial.acc.chunks = chunks;
        Ok(partial)
    }
}

/// The byte form of a state held as an accumulator and its log, with `chunks` as the chunk
/// count (a caller that replayed snapshots keeps its own count).
pub fn encode(acc: &Accumulator, log: &ToolCallLog, chunks: u64) -> Vec<u8> {
    let chunk = snapshot_chunk(acc, log);
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(MAGIC);
    out.push(PARTIAL_FORMAT_VERSION);
    out.extend_from_slice(&chunks.to_le_bytes());
    serde_json::to_writer(&mut out, &With(&chunk, Mode::Lossless))
        .expect("a chunk always serialises");
    out
}

/// The synthetic chunk and chunk count of a byte form: replaying the chunk into an
/// accumulator (and its log) restores the state.
pub fn decode(bytes: &[u8]) -> Result<(Chunk<'static>, u64), PartialError> {
    if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
        return Err(PartialError("not a chatchunk partial state".to_owned()));
    }
    let version = bytes[MAGIC.len()];
    if version != PARTIAL_FORMAT_VERSION {
        return Err(PartialError(format!(
            "format version {version}, this build reads {PARTIAL_FORMAT_VERSION}"
        )));
    }
    let mut count = [0u8; 8];
    count.copy_from_slice(&bytes[MAGIC.len() + 1..HEADER]);
    let chunk: Chunk<'_> =
        parse(&bytes[HEADER..], false).map_err(|e| PartialError(e.to_string()))?;
    Ok((chunk.into_owned(), u64::from_le_bytes(count)))
}

/// One chunk with the effect of everything `acc` merged (its tool calls taken from `log`,
/// unresolved), on any accumulator.
pub fn snapshot_chunk(acc: &Accumulator, log: &ToolCallLog) -> Chunk<'static> {
    use super::text::field;
    let choices = acc
        .choices
        .iter()
        .map(|choice| {
            let mut snapshot = choice.snapshot();
            if let (Some(entries), Field::Value(delta)) =
                (log.get(choice.index), &mut snapshot.delta)
            {
                delta.tool_calls = Field::Value(entries.clone());
            }
            snapshot
        })
        .collect();
    Chunk {
        id: field(acc.id.clone()),
        object: Field::Value(Text::from(CHUNK_OBJECT)),
        created: acc.created.map_or(Field::Absent, Field::Value),
        model: field(acc.model.clone()),
        choices: Field::Value(choices),
        usage: acc
            .usage
            .clone()
            .map_or(Field::Absent, |u| Field::Value(Box::new(u))),
        system_fingerprint: field(acc.system_fingerprint.clone()),
        service_tier: field(acc.service_tier.clone()),
        extra: acc.extra.to_extra(),
    }
}
