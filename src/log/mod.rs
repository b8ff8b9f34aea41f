//! Merging logs of chunks: many files, many interleaved streams, on every core, in memory
//! bounded by the streams still open.
//!
//! # Inputs
//! Files are read in the order given (`-` is stdin; gzip and zstd are recognised by their
//! magic bytes), in blocks of a few MiB, never whole. Each file's format is detected from
//! its first block ([`Format::detect`]) unless forced.
//!
//! * **JSONL**: one record per line. The chunk is the line itself, or the value at the
//!   `chunk` JSON pointer inside it. Records are grouped into streams by the chunk's `id`,
//!   or by the value at the `key` pointer (a string's text, any other value's JSON text).
//!   An empty or missing key (Azure's first chunk carries `"id": ""`) is a key like any
//!   other: those chunks form one stream keyed `""`. Streams stay open across files, so a
//!   rotated log given in order merges as one.
//! * **SSE**: `data:` events, one stream after another: a stream ends at `data: [DONE]`,
//!   when a chunk with a different non-empty key arrives (or one with an empty key once
//!   every choice has finished), or at the end of the file.
//!
//! # When a stream is emitted
//! * JSONL: when a usage-only chunk (usage, no choices) arrives after every choice has
//!   finished (`complete = true`); or, once every choice has finished, after
//!   [`LINGER`] records without a chunk of it (its usage report would have come right
//!   after; `complete` says whether one came); or at the end of the input
//!   (`complete = Accumulator::is_finished()`).
//! * SSE: at `[DONE]` (`complete = true`), or at a key change or the end of the file
//!   (`complete = Accumulator::is_finished()`).
//!
//! # Order
//! Deterministic, whatever the number of threads: streams come out in the order of the
//! record that completed them (input order); those evicted together by the linger rule
//! and those left open at the end come out in the order of their first record.
//!
//! # Bad records
//! Not JSON, truncated, invalid UTF-8, or JSON that is not a chunk: [`ErrorMode::Raise`]
//! stops at the first (in input order) with its file, line and column; `Skip` counts them;
//! `Quarantine` also writes each bad record verbatim, one per line, to a file, so that
//! records read = chunks merged + records quarantined.
//!
//! # Threads
//! One thread reads (and decompresses, and decodes SSE framing); `threads` threads parse
//! and merge the records of each block, split by key into a few partitions per thread;
//! one puts their output in input order. At most `2 * threads + 2` blocks are in flight,
//! which with the open streams bounds the memory used.

mod block;
mod input;
mod merger;
mod pointer;
mod reader;
mod schedule;
mod shard;
mod stats;
mod summary;
mod worker;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::Receiver;

use crate::model::Completion;
pub use block::{combine_pieces, merge_file, BlockBadRecord, MergedBlock, Piece};
pub use pointer::Pointer;
pub use stats::{ModelStats, Stats};
pub use summary::BlockSummary;

/// Records without a chunk of a finished-but-unreported stream before it is emitted.
pub const LINGER: u64 = 65_536;

/// The default size of the blocks read and parsed at once.
pub const DEFAULT_BLOCK_SIZE: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    Auto,
    Jsonl,
    Sse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorMode {
    Raise,
    Skip,
    Quarantine,
    /// Like `Skip`, and every bad record is kept for [`LogReader::take_bad`] (`validate`).
    Report,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// File paths, `-` for stdin, read in this order.
    pub inputs: Vec<String>,
    pub format: FormatChoice,
    /// JSON pointer to the grouping key inside each record; the chunk's `id` if None.
    pub key: Option<String>,
    /// JSON pointer to the chunk inside each record; the record itself if None.
    pub chunk: Option<String>,
    /// Parse threads (at least 1).
    pub threads: usize,
    pub errors: ErrorMode,
    /// Where `Quarantine` writes bad records.
    pub quarantine: Option<PathBuf>,
    pub block_size: usize,
    /// Write each completion as JSON text (`LogCompletion::json`) on the merging threads,
    /// for writers of JSON lines, and leave `completion` empty.
    pub serialize: bool,
}

impl Config {
    pub fn new(inputs: Vec<String>) -> Config {
        Config {
            inputs,
            format: FormatChoice::Auto,
            key: None,
            chunk: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            errors: ErrorMode::Raise,
            quarantine: None,
            block_size: DEFAULT_BLOCK_SIZE,
            serialize: false,
        }
    }
}

/// One merged stream of a log.
#[derive(Debug, Clone)]
pub struct LogCompletion {
    pub completion: Completion<'static>,
    /// The grouping key (the chunk id by default).
    pub key: String,
    /// Index into `Config::inputs` of the file of the first chunk.
    pub source: usize,
    /// 1-based line of the first chunk in that file.
    pub first_line: u64,
    pub n_chunks: u64,
    pub complete: bool,
    /// The completion's JSON text (lossless dump), when `Config::serialize` is set.
    pub json: Option<Vec<u8>>,
}

/// A bad record, positioned in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub source: usize,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

#[derive(Debug)]
pub enum LogError {
    /// A bad record in `Raise` mode, or an SSE event too large to decode.
    Bad(BadRecord),
    /// Reading input `source` failed.
    Io {
        source: usize,
        error: std::io::Error,
    },
    /// Writing the quarantine file failed.
    Quarantine(std::io::Error),
    /// A bad configuration (an invalid pointer, no quarantine file).
    Config(String),
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Bad(b) => write!(f, "{}:{}: {}", b.line, b.column, b.message),
            LogError::Io { error, .. } => write!(f, "{error}"),
            LogError::Quarantine(e) => write!(f, "cannot write the quarantine file: {e}"),
            LogError::Config(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LogError {}

/// What a run read, once it is over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records read: non-blank JSONL lines, SSE data events other than `[DONE]`.
    pub lines: u64,
    /// Records merged.
    pub chunks: u64,
    /// Records skipped or quarantined.
    pub bad_lines: u64,
    pub streams: u64,
    pub incomplete_streams: u64,
}

/// Live figures for a progress bar.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read from the inputs (compressed bytes for compressed files).
    pub bytes_read: AtomicU64,
    pub streams: AtomicU64,
    pub lines: AtomicU64,
}

pub(crate) enum Event {
    Completions(Vec<LogCompletion>),
    Bad(Vec<BadRecord>),
    Error(LogError),
    End(Counts),
}

/// Runs a log through the engine; iterate for the merged streams, in the documented order.
/// Dropping it stops the threads.
pub struct LogReader {
    rx: Receiver<Event>,
    ready: VecDeque<LogCompletion>,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
    counts: Option<Counts>,
    failed: bool,
    bad: Vec<BadRecord>,
}

impl LogReader {
    pub fn open(config: Config) -> Result<LogReader, LogError> {
        let progress = Arc::new(Progress::default());
        let stop = Arc::new(AtomicBool::new(false));
        let rx = reader::start(config, Arc::clone(&progress), Arc::clone(&stop))?;
        Ok(LogReader {
            rx,
            ready: VecDeque::new(),
            progress,
            stop,
            counts: None,
            failed: false,
            bad: Vec::new(),
        })
    }

    pub fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// The counts, once the iteration has ended without an error.
    pub fn counts(&self) -> Option<Counts> {
        self.counts
    }

    /// The bad records met so far in [`ErrorMode::Report`], in input order.
    pub fn take_bad(&mut self) -> Vec<BadRecord> {
        std::mem::take(&mut self.bad)
    }

    /// The next merged stream; blocks until one is ready.
    pub fn next_completion(&mut self) -> Option<Result<LogCompletion, LogError>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(Ok(item));
            }
            if self.counts.is_some() || self.failed {
                return None;
            }
            match self.rx.recv() {
                Ok(Event::Completions(items)) => self.ready.extend(items),
                Ok(Event::Bad(records)) => self.bad.extend(records),
                Ok(Event::Error(e)) => {
                    self.failed = true;
                    return Some(Err(e));
                }
                Ok(Event::End(counts)) => self.counts = Some(counts),
                Err(_) => {
                    self.failed = true;
                    return Some(Err(LogError::Config(
                        "the log engine stopped unexpectedly".to_owned(),
                    )));
                }
            }
        }
    }

    /// Up to `max` merged streams (at least one unless the run is over).
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<LogCompletion>, LogError> {
        let mut out = Vec::new();
        while out.len() < max {
            if out.is_empty() || !self.ready.is_empty() {
                match self.next_completion() {
                    Some(Ok(item)) => out.push(item),
                    Some(Err(e)) => return Err(e),
                    None => break,
                }
            } else {
                break;
            }
        }
        Ok(out)
    }
}

impl Iterator for LogReader {
    type Item = Result<LogCompletion, LogError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_completion()
    }
}

impl Drop for LogReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
