//! The coordinating thread: gathers every partition's outputs for each block, puts
//! them in input order, handles bad records (raise, skip, quarantine) and hands the
//! completed streams on.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use super::shard::{Out, ShardOut, What};
use super::{Counts, ErrorMode, Event, LogCompletion, LogError, Progress};

pub(super) struct Coordinator {
    pub shards: usize,
    pub errors: ErrorMode,
    pub quarantine: Option<BufWriter<File>>,
    pub progress: Arc<Progress>,
    pub stop: Arc<AtomicBool>,
    counts: Counts,
}

/// Outputs of one block gathered so far.
#[derive(Default)]
struct Gathered {
    shards: usize,
    outs: Vec<Out>,
    chunks: u64,
    bad: u64,
}

impl Gathered {
    fn add(&mut self, out: ShardOut) {
        self.shards += 1;
        self.outs.extend(out.outs);
        self.chunks += out.chunks;
        self.bad += out.bad;
    }
}

impl Coordinator {
    pub fn new(
        shards: usize,
        errors: ErrorMode,
        quarantine: Option<BufWriter<File>>,
        progress: Arc<Progress>,
        stop: Arc<AtomicBool>,
    ) -> Coordinator {
        Coordinator {
            shards,
            errors,
            quarantine,
            progress,
            stop,
            counts: Counts::default(),
        }
    }

    pub fn run(mut self, rx: Receiver<ShardOut>, token_tx: Sender<()>, out_tx: Sender<Event>) {
        let mut pending: HashMap<u64, Gathered> = HashMap::new();
        let mut last = Gathered::default();
        let mut next = 0u64;
        for out in rx.iter() {
            if out.seq == u64::MAX {
                last.add(out);
                continue;
            }
            pending.entry(out.seq).or_default().add(out);
            while pending.get(&next).is_some_and(|g| g.shards == self.shards) {
                let gathered = pending.remove(&next).unwrap_or_default();
                next += 1;
                let _ = token_tx.try_send(());
                if !self.block(gathered, &out_tx) {
                    self.stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
        if self.stop.load(Ordering::Relaxed) || last.shards != self.shards {
            return;
        }
        if !self.block(last, &out_tx) {
            return;
        }
        if let Some(q) = &mut self.quarantine {
            if let Err(e) = q.flush() {
                let _ = out_tx.send(Event::Error(LogError::Quarantine(e)));
                return;
            }
        }
        let _ = out_tx.send(Event::End(self.counts));
    }

    /// Handles one block's outputs in input order; false to stop.
    fn block(&mut self, mut gathered: Gathered, out_tx: &Sender<Event>) -> bool {
        gathered.outs.sort_by_key(|o| (o.at, o.order));
        self.counts.lines += gathered.chunks + gathered.bad;
        self.counts.chunks += gathered.chunks;
        self.counts.bad_lines += gathered.bad;
        let mut ready: Vec<LogCompletion> = Vec::new();
        let mut reported = Vec::new();
        let mut failure = None;
        for out in gathered.outs {
            match out.what {
                What::Completion(c) => {
                    self.counts.streams += 1;
                    if !c.complete {
                        self.counts.incomplete_streams += 1;
                    }
                    ready.push(*c);
                }
                What::Bad { record, raw } => match self.errors {
                    ErrorMode::Raise => {
                        failure = Some(LogError::Bad(record));
                        break;
                    }
                    ErrorMode::Skip => {}
                    ErrorMode::Report => reported.push(record),
                    ErrorMode::Quarantine => {
                        if let Some(q) = &mut self.quarantine {
                            if let Err(e) = q.write_all(&raw).and_then(|()| q.write_all(b"\n")) {
                                failure = Some(LogError::Quarantine(e));
                                break;
                            }
                        }
                    }
                },
                What::Failed(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.progress
            .streams
            .store(self.counts.streams, Ordering::Relaxed);
        self.progress
            .lines
            .store(self.counts.lines, Ordering::Relaxed);
        if !reported.is_empty() && out_tx.send(Event::Bad(reported)).is_err() {
            return false;
        }
        if !ready.is_empty() && out_tx.send(Event::Completions(ready)).is_err() {
            return false;
        }
        if let Some(e) = failure {
            let _ = out_tx.send(Event::Error(e));
            return false;
        }
        true
    }
}
