//! The partitions of the merge. Every partition sees every block; each parses and merges
//! only the records whose key hashes to it (the reading thread keys each record without
//! parsing it, see `BlockIndex`), so parsing and merging run on all cores with no parsed
//! data crossing threads, and each stream is merged by one partition in input order (see
//! `schedule` for which thread runs which). SSE blocks are all merged by partition 0.

use std::sync::{Arc, Mutex};

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use crate::merge::Accumulator;
use crate::model::{Chunk, Completion, Mode, With};

use super::worker::{record, usage_only, BlockIndex, Item, Options, SseRecord, StreamLayout};
use super::{BadRecord, LogCompletion, LogError, LINGER};

/// What the reader gives every partition.
pub(super) struct Block {
    pub seq: u64,
    pub source: usize,
    pub body: Body,
    /// Where the buffer goes back to for reuse once every partition is done with it.
    pub recycle: Option<crossbeam_channel::Sender<Vec<u8>>>,
}

impl Drop for Block {
    fn drop(&mut self) {
        if let (Some(recycle), Body::Jsonl { data, .. } | Body::Sse { data, .. }) =
            (&self.recycle, &mut self.body)
        {
            let _ = recycle.try_send(std::mem::take(data));
        }
    }
}

pub(super) enum Body {
    /// Whole lines (the last block of a file may end without a line end), and where each
    /// partition's records are.
    Jsonl {
        data: Vec<u8>,
        index: BlockIndex,
    },
    /// The data of SSE events, one after another.
    Sse {
        data: Vec<u8>,
        events: Vec<SseRecord>,
    },
    EndOfFile {
        sse: bool,
    },
    /// Reading failed; partition 0 reports it.
    Failed(Mutex<Option<LogError>>),
}

/// Something a partition produced at a position of the input.
pub(super) struct Out {
    /// Line in the block (JSONL) or event number (SSE); `u64::MAX` after the block's records.
    pub at: u64,
    /// Orders outputs at the same position (by the streams' first record).
    pub order: u64,
    pub what: What,
}

pub(super) enum What {
    Completion(Box<LogCompletion>),
    Bad { record: BadRecord, raw: Vec<u8> },
    Failed(LogError),
}

/// One partition's outputs for one block (`seq == u64::MAX`: the end of the input).
pub(super) struct ShardOut {
    pub seq: u64,
    pub outs: Vec<Out>,
    pub chunks: u64,
    pub bad: u64,
}

impl ShardOut {
    /// A merged stream, emitted at `at` (in the order of `order` among those at `at`).
    fn push_completion(&mut self, at: u64, order: u64, completion: LogCompletion) {
        self.outs.push(Out {
            at,
            order,
            what: What::Completion(Box::new(completion)),
        });
    }

    /// A bad record, kept verbatim for quarantine.
    fn push_bad(&mut self, at: u64, record: BadRecord, raw: &[u8]) {
        self.bad += 1;
        self.outs.push(Out {
            at,
            order: 0,
            what: What::Bad {
                record,
                raw: raw.to_vec(),
            },
        });
    }
}

struct Open {
    acc: Accumulator,
    source: usize,
    first_line: u64,
    /// Number of the first record, for ordering.
    order: u64,
    last_seen: u64,
    layout: StreamLayout,
}

impl Open {
    fn new(source: usize, first_line: u64, order: u64) -> Open {
        Open {
            acc: Accumulator::new(),
            source,
            first_line,
            order,
            last_seen: order,
            layout: StreamLayout::default(),
        }
    }

    fn add(&mut self, chunk: &Chunk<'_>, record: u64) {
        self.acc.add(chunk);
        self.last_seen = record;
    }

    /// Merges record `text` if it has one of the stream's last layouts; the chunk merged.
    fn fill(&mut self, text: &[u8], record: u64) -> Option<Arc<Chunk<'static>>> {
        let (chunk, spans) = self.layout.fill(text)?;
        self.acc.add_with_spans(&chunk, spans, text);
        self.last_seen = record;
        Some(chunk)
    }

    fn into_completion(self, options: &Options, key: String, complete: bool) -> LogCompletion {
        let n_chunks = self.acc.chunk_count();
        let mut completion = self.acc.into_completion();
        let json = options.serialize.then(|| {
            let json = serde_json::to_vec(&With(&completion, Mode::Lossless))
                .expect("a completion always serialises");
            completion = Completion::default();
            json
        });
        LogCompletion {
            completion,
            key,
            source: self.source,
            first_line: self.first_line,
            n_chunks,
            complete,
            json,
        }
    }
}

pub(super) struct Shard {
    index: usize,
    options: Arc<Options>,
    /// By `Options::hash` of the key, which the reading thread computed for each record
    /// (hashing it again here was 4% of the time).
    open: HashTable<(String, Open)>,
    sse: Option<(String, Open)>,
    /// Lines of the current file before the next JSONL block.
    line_base: u64,
    /// JSONL records (non-blank lines) read so far, by every partition alike.
    records: u64,
    next_linger_check: u64,
}

impl Shard {
    pub fn new(index: usize, options: Arc<Options>) -> Shard {
        Shard {
            index,
            options,
            open: HashTable::new(),
            sse: None,
            line_base: 0,
            records: 0,
            next_linger_check: LINGER,
        }
    }

    pub fn block(&mut self, block: &Block) -> ShardOut {
        let mut out = ShardOut {
            seq: block.seq,
            outs: Vec::new(),
            chunks: 0,
            bad: 0,
        };
        match &block.body {
            Body::Jsonl { data, index } => self.jsonl(block.source, data, index, &mut out),
            Body::Sse { data, events } => {
                if self.index == 0 {
                    self.sse_events(block.source, data, events, &mut out);
                }
            }
            Body::EndOfFile { sse } => {
                self.line_base = 0;
                if *sse {
                    self.close_sse(0, &mut out);
                }
            }
            Body::Failed(error) => {
                if self.index == 0 {
                    if let Some(e) = error.lock().ok().and_then(|mut e| e.take()) {
                        out.outs.push(Out {
                            at: 0,
                            order: 0,
                            what: What::Failed(e),
                        });
                    }
                }
            }
        }
        out
    }

    /// The streams still open at the end of the input.
    pub fn finish(mut self) -> ShardOut {
        let mut out = ShardOut {
            seq: u64::MAX,
            outs: Vec::new(),
            chunks: 0,
            bad: 0,
        };
        self.close_sse(0, &mut out);
        for (key, open) in self.open.drain() {
            let complete = open.acc.is_finished();
            out.push_completion(
                u64::MAX,
                open.order,
                open.into_completion(&self.options, key, complete),
            );
        }
        out
    }

    fn jsonl(&mut self, source: usize, data: &[u8], index: &BlockIndex, out: &mut ShardOut) {
        let options = Arc::clone(&self.options);
        let records = &index.shards[self.index];
        for (i, indexed) in records.iter().enumerate() {
            if let Some(ahead) = records.get(i + PREFETCH_AHEAD) {
                prefetch(&data[ahead.line.clone()]);
            }
            let raw = &data[indexed.line.clone()];
            let text = &data[indexed.line.start..indexed.text_end];
            let at = indexed.at;
            let scanned = indexed.key(data, &options);
            let abs = self.line_base + at + 1;
            let record_no = self.records + indexed.number + 1;
            if let Some((key, hash)) = scanned.as_ref().filter(|_| options.chunk.is_none()) {
                if let Some((_, open)) = self.open.find_mut(*hash, |(k, _)| k == key) {
                    if let Some(chunk) = open.fill(text, record_no) {
                        out.chunks += 1;
                        let ended = usage_only(&chunk) && open.acc.is_finished();
                        drop(chunk);
                        if ended {
                            self.end(key, *hash, at, out);
                        }
                        continue;
                    }
                }
            }
            let hash = scanned.as_ref().map(|(_, hash)| *hash);
            match record(text, 1, scanned.map(|(key, _)| key), &options) {
                Item::Chunk { key, chunk } => {
                    out.chunks += 1;
                    let hash = hash.unwrap_or_else(|| options.hash(&key));
                    let entry = self
                        .open
                        .entry(hash, |(k, _)| k == &key, |(k, _)| options.hash(k));
                    let ((_, open), first) = match entry {
                        Entry::Occupied(found) => (found.into_mut(), false),
                        Entry::Vacant(vacant) => {
                            let open = Open::new(source, abs, record_no);
                            let stream = (key.clone().into_owned(), open);
                            (vacant.insert(stream).into_mut(), true)
                        }
                    };
                    // Decided before merging: whether the chunk opens something depends
                    // on what the stream had before it.
                    let learn =
                        options.chunk.is_none() && !first && !open.acc.opens_something(&chunk);
                    open.add(&chunk, record_no);
                    if usage_only(&chunk) && open.acc.is_finished() {
                        self.end(&key, hash, at, out);
                    } else if open.acc.choices_finished() {
                        open.layout.forget();
                    } else if learn {
                        // (An ended stream's layout would be dropped with it; see `learn` for
                        // the chunks that open something.)
                        open.layout.learn(text, chunk);
                    }
                }
                Item::Bad {
                    line: rel,
                    column,
                    message,
                } => {
                    let record = BadRecord {
                        source,
                        line: abs + rel,
                        column,
                        message,
                    };
                    out.push_bad(at, record, raw);
                }
            }
        }
        self.records += index.records;
        self.line_base += index.lines_ended;
        if self.records >= self.next_linger_check {
            self.linger(out);
            self.next_linger_check = self.records + LINGER / 4;
        }
    }

    /// Emits the finished stream `key`.
    fn end(&mut self, key: &str, hash: u64, at: u64, out: &mut ShardOut) {
        if let Ok(entry) = self.open.find_entry(hash, |(k, _)| k == key) {
            let ((key, open), _) = entry.remove();
            out.push_completion(at, 0, open.into_completion(&self.options, key, true));
        }
    }

    fn sse_events(&mut self, source: usize, data: &[u8], events: &[SseRecord], out: &mut ShardOut) {
        let options = Arc::clone(&self.options);
        for (n, event) in events.iter().enumerate() {
            let at = n as u64;
            if event.done {
                if let Some((key, open)) = self.sse.take() {
                    out.push_completion(at, 0, open.into_completion(&self.options, key, true));
                }
                continue;
            }
            let text = &data[event.start..event.end];
            match record(text, event.column, None, &options) {
                Item::Chunk { key, chunk } => {
                    out.chunks += 1;
                    // A new stream: a different key, or an empty one once every choice has
                    // finished (Azure's first chunk, `"id": ""`, after a stream that sent
                    // no `[DONE]`).
                    let other = matches!(&self.sse, Some((k, open))
                        if !k.is_empty() && k != &key && (!key.is_empty() || open.acc.choices_finished()));
                    if other {
                        self.close_sse(at, out);
                    }
                    let (current, open) = self.sse.get_or_insert_with(|| {
                        (key.clone().into_owned(), Open::new(source, event.line, 0))
                    });
                    if current.is_empty() && !key.is_empty() {
                        key.as_ref().clone_into(current);
                    }
                    open.add(&chunk, 0);
                }
                Item::Bad {
                    line,
                    column,
                    message,
                } => {
                    let record = BadRecord {
                        source,
                        line: event.line + line,
                        column,
                        message,
                    };
                    out.push_bad(at, record, text);
                }
            }
        }
    }

    fn close_sse(&mut self, at: u64, out: &mut ShardOut) {
        if let Some((key, open)) = self.sse.take() {
            let complete = open.acc.is_finished();
            out.push_completion(at, 0, open.into_completion(&self.options, key, complete));
        }
    }

    /// Emits the streams that finished every choice but have had no chunk for a while.
    fn linger(&mut self, out: &mut ShardOut) {
        let now = self.records;
        let gone = self
            .open
            // The record count first: it is in the table, the choices are behind a pointer.
            .extract_if(|(_, open)| now - open.last_seen >= LINGER && open.acc.choices_finished());
        for (key, open) in gone {
            let complete = open.acc.is_finished();
            out.push_completion(
                u64::MAX,
                open.order,
                open.into_completion(&self.options, key, complete),
            );
        }
    }
}

/// How many records ahead a partition asks for the bytes of the one it will read. Its
/// records are every eighth line or so (four partitions a thread, two threads) of a block
/// the reading thread indexed a moment ago on another core; asking early hides the wait
/// (5% of the time).
const PREFETCH_AHEAD: usize = 2;

/// Asks the CPU to bring the start of `bytes` into its cache, where that is supported.
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // Lines longer than this are read in order, and the hardware follows them itself.
        for at in (0..bytes.len().min(512)).step_by(64) {
            // SAFETY: a hint with an address inside `bytes`; it reads nothing.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().add(at).cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}
