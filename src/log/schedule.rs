//! Dealing the partitions' work to the merging threads.
//!
//! Records are split by key into more partitions than there are threads (each partition a
//! [`Shard`], merging its streams in input order). A free thread takes the partition
//! whose next block is oldest, so a thread that gets lighter streams takes on more
//! partitions instead of waiting for the other at the end of the input: with one partition
//! per thread, the last thread finished 6-12 ms after the first on the benchmark log.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crossbeam_channel::Sender;

use super::shard::{Block, Shard, ShardOut};

/// Partitions per merging thread: enough that the work left at the end of the input is
/// small, few enough that the per-block overhead of each is nothing.
pub(super) const PARTITIONS_PER_THREAD: usize = 4;

struct Partition {
    /// None while a thread works on it.
    shard: Option<Shard>,
    /// Blocks it has yet to merge, oldest first.
    blocks: VecDeque<Arc<Block>>,
    finished: bool,
}

struct State {
    partitions: Vec<Partition>,
    /// No more blocks will come.
    closed: bool,
}

pub(super) struct Schedule {
    state: Mutex<State>,
    changed: Condvar,
    stop: Arc<AtomicBool>,
}

enum Task {
    Block(usize, Shard, Arc<Block>),
    Finish(Shard),
}

impl Schedule {
    pub fn new(shards: Vec<Shard>, stop: Arc<AtomicBool>) -> Schedule {
        let partitions = shards
            .into_iter()
            .map(|shard| Partition {
                shard: Some(shard),
                blocks: VecDeque::new(),
                finished: false,
            })
            .collect();
        Schedule {
            state: Mutex::new(State {
                partitions,
                closed: false,
            }),
            changed: Condvar::new(),
            stop,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A thread that panicked holding the lock left nothing half-changed that matters
        // here: the pipeline is stopping anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Gives `block` to every partition.
    pub fn push(&self, block: Arc<Block>) {
        let mut state = self.lock();
        for partition in &mut state.partitions {
            partition.blocks.push_back(Arc::clone(&block));
        }
        drop(state);
        self.changed.notify_all();
    }

    /// No more blocks: the partitions finish once they have merged theirs.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// A merging thread: takes tasks until every partition has finished, sending each
    /// output to the coordinator.
    pub fn work(&self, out: &Sender<ShardOut>) {
        let _stop_on_panic = StopOnPanic(self);
        while let Some(task) = self.next_task() {
            let done = match task {
                Task::Block(at, mut shard, block) => {
                    let output = shard.block(&block);
                    drop(block);
                    self.lock().partitions[at].shard = Some(shard);
                    self.changed.notify_all();
                    output
                }
                Task::Finish(shard) => shard.finish(),
            };
            if out.send(done).is_err() {
                self.halt();
                return;
            }
        }
    }

    /// Stops every thread. Set under the lock, so that no thread can miss it between
    /// looking and waiting.
    fn halt(&self) {
        let state = self.lock();
        self.stop.store(true, Ordering::Relaxed);
        drop(state);
        self.changed.notify_all();
    }

    /// The next task, waiting for one; None when there is nothing left to do.
    fn next_task(&self) -> Option<Task> {
        let mut state = self.lock();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            let free = |p: &Partition| p.shard.is_some() && !p.finished;
            let oldest = state
                .partitions
                .iter()
                .enumerate()
                .filter(|(_, p)| free(p))
                .filter_map(|(at, p)| p.blocks.front().map(|b| (b.seq, at)))
                .min();
            if let Some((_, at)) = oldest {
                let partition = &mut state.partitions[at];
                let block = partition.blocks.pop_front()?;
                return Some(Task::Block(at, partition.shard.take()?, block));
            }
            if state.closed {
                if let Some(partition) = state.partitions.iter_mut().find(|p| free(p)) {
                    partition.finished = true;
                    return Some(Task::Finish(partition.shard.take()?));
                }
                if state.partitions.iter().all(|p| p.finished) {
                    return None;
                }
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A merging thread that panics (a bug) would leave its partition taken for good, and the
/// other threads waiting for it: stopping them ends the run with an error instead.
struct StopOnPanic<'a>(&'a Schedule);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt();
        }
    }
}
