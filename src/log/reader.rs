//! The reading thread and the wiring of the pipeline: reader → partitions, run by the
//! merging threads → coordinator.

use std::fs::File;
use std::io::{self, BufWriter};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use crate::sse::{SseDecoder, SseEvent};
use crate::validate::Format;

use super::input;
use super::merger::Coordinator;
use super::pointer::Pointer;
use super::schedule::{Schedule, PARTITIONS_PER_THREAD};
use super::shard::{Block, Body, Shard, ShardOut};
use super::worker::{BlockIndex, Options, SseRecord};
use super::{Config, ErrorMode, Event, FormatChoice, LogError, Progress};

pub(super) fn start(
    config: Config,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
) -> Result<Receiver<Event>, LogError> {
    let pointer = |p: &Option<String>| {
        p.as_deref()
            .map(Pointer::parse)
            .transpose()
            .map_err(LogError::Config)
    };
    let mut options = Options::new(pointer(&config.key)?, pointer(&config.chunk)?);
    options.serialize = config.serialize;
    let options = Arc::new(options);
    let quarantine = match config.errors {
        ErrorMode::Quarantine => {
            let path = config.quarantine.as_ref().ok_or_else(|| {
                LogError::Config("errors='quarantine' needs a quarantine file".to_owned())
            })?;
            Some(BufWriter::new(
                File::create(path).map_err(LogError::Quarantine)?,
            ))
        }
        _ => None,
    };
    let threads = config.threads.max(1);
    let shards = threads * PARTITIONS_PER_THREAD;
    let in_flight = 2 * threads + 2;
    let (token_tx, token_rx) = bounded::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(());
    }
    let (shard_tx, shard_rx) = unbounded::<ShardOut>();
    let (out_tx, out_rx) = bounded::<Event>(16);

    let schedule = Arc::new(Schedule::new(
        (0..shards)
            .map(|index| Shard::new(index, Arc::clone(&options)))
            .collect(),
        Arc::clone(&stop),
    ));
    for _ in 0..threads {
        let schedule = Arc::clone(&schedule);
        let shard_tx = shard_tx.clone();
        thread::spawn(move || schedule.work(&shard_tx));
    }
    drop(shard_tx);

    let coordinator = Coordinator::new(
        shards,
        config.errors,
        quarantine,
        Arc::clone(&progress),
        Arc::clone(&stop),
    );
    thread::spawn(move || coordinator.run(shard_rx, token_tx, out_tx));

    thread::spawn(move || {
        let (recycle, pool) = bounded::<Vec<u8>>(in_flight + 2);
        let mut reader = Reader {
            config,
            options,
            per_shard: vec![0; shards],
            schedule,
            token_rx,
            pool,
            recycle,
            progress,
            stop,
            seq: 0,
        };
        reader.run();
    });
    Ok(out_rx)
}

struct Reader {
    config: Config,
    options: Arc<Options>,
    /// Records each partition got of the last JSONL block.
    per_shard: Vec<usize>,
    schedule: Arc<Schedule>,
    token_rx: Receiver<()>,
    pool: Receiver<Vec<u8>>,
    recycle: Sender<Vec<u8>>,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
    seq: u64,
}

/// However reading ends, the partitions finish what they were given.
impl Drop for Reader {
    fn drop(&mut self) {
        self.schedule.close();
    }
}

impl Reader {
    fn run(&mut self) {
        for source in 0..self.config.inputs.len() {
            match self.read_file(source) {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => {
                    self.send(
                        source,
                        Body::Failed(Mutex::new(Some(LogError::Io { source, error }))),
                    );
                    return;
                }
            }
        }
    }

    /// Waits for room in the pipeline; false when it is shutting down.
    fn token(&self) -> bool {
        !self.stop.load(Ordering::Relaxed) && self.token_rx.recv().is_ok()
    }

    /// An empty buffer of at least `capacity` bytes, recycled from a block when one is free:
    /// no page faults or zeroing of fresh memory for every block. New buffers get room for
    /// the start of a line carried over from the block before; a recycled one too small is
    /// dropped, not grown (growing copies its old bytes, a block's worth, for nothing).
    fn buffer(&self, capacity: usize) -> Vec<u8> {
        match self.pool.try_recv() {
            Ok(mut buf) if buf.capacity() >= capacity => {
                buf.clear();
                buf
            }
            _ => Vec::with_capacity(capacity + capacity / 8),
        }
    }

    /// Gives a block to every partition; false when the pipeline is shutting down.
    fn send(&mut self, source: usize, body: Body) -> bool {
        if !self.token() {
            return false;
        }
        let block = Arc::new(Block {
            seq: self.seq,
            source,
            body,
            recycle: Some(self.recycle.clone()),
        });
        self.seq += 1;
        self.schedule.push(block);
        true
    }

    /// Reads one input; false when the pipeline is shutting down.
    fn read_file(&mut self, source: usize) -> io::Result<bool> {
        let path = self.config.inputs[source].clone();
        let mut file = input::open(&path, Arc::clone(&self.progress))?;
        let block = self.config.block_size.max(1024);
        let mut buf: Vec<u8> = self.buffer(block);
        let mut format = None;
        let mut decoder = SseDecoder::new();
        let mut events: Vec<SseEvent> = Vec::new();
        let mut consumed: u64 = 0;
        loop {
            let more = file.fill(&mut buf, block)?;
            let format = *format.get_or_insert_with(|| match self.config.format {
                FormatChoice::Auto => Format::detect(&buf),
                FormatChoice::Jsonl => Format::Jsonl,
                FormatChoice::Sse => Format::Sse,
            });
            match format {
                Format::Jsonl => {
                    let cut = if more {
                        match memchr::memrchr(b'\n', &buf) {
                            Some(i) => i + 1,
                            None => continue, // a line longer than a block: read on
                        }
                    } else {
                        buf.len()
                    };
                    let mut rest = self.buffer(block + (buf.len() - cut));
                    rest.extend_from_slice(&buf[cut..]);
                    buf.truncate(cut);
                    let data = std::mem::replace(&mut buf, rest);
                    let index = BlockIndex::new(&data, &self.options, &self.per_shard);
                    for (n, records) in self.per_shard.iter_mut().zip(&index.shards) {
                        *n = records.len();
                    }
                    if !data.is_empty() && !self.send(source, Body::Jsonl { data, index }) {
                        return Ok(false);
                    }
                }
                Format::Sse => {
                    let decoded = decoder.feed(&buf, &mut events).and_then(|()| {
                        if more {
                            Ok(())
                        } else {
                            decoder.finish(&mut events)
                        }
                    });
                    if let Err(e) = decoded {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
                    }
                    let body = sse_body(&mut events, &buf, consumed);
                    consumed += buf.len() as u64;
                    buf.clear();
                    if let Some(body) = body {
                        if !self.send(source, body) {
                            return Ok(false);
                        }
                    }
                }
            }
            if !more {
                break;
            }
        }
        Ok(self.send(
            source,
            Body::EndOfFile {
                sse: format == Some(Format::Sse),
            },
        ))
    }
}

/// The data of the events decoded so far, as one job; None if there were none.
fn sse_body(events: &mut Vec<SseEvent>, block: &[u8], block_offset: u64) -> Option<Body> {
    if events.is_empty() {
        return None;
    }
    let mut data = Vec::with_capacity(events.iter().map(|e| e.data.len()).sum());
    let mut records = Vec::with_capacity(events.len());
    for event in events.drain(..) {
        let text = event.data.trim_ascii();
        if text.is_empty() {
            continue;
        }
        // Where the data starts on its line: after `data:` and one optional space.
        let at = event.offset.checked_sub(block_offset).map(|o| o as usize);
        let spaced = at
            .and_then(|o| block.get(o..))
            .is_none_or(|line| line.starts_with(b"data: "));
        let start = data.len();
        data.extend_from_slice(&event.data);
        records.push(SseRecord {
            start,
            end: data.len(),
            line: event.line,
            column: if spaced { 7 } else { 6 },
            done: text == b"[DONE]",
        });
    }
    if records.is_empty() {
        None
    } else {
        Some(Body::Sse {
            data,
            events: records,
        })
    }
}
