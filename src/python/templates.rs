//! Parsing a stream's chunks one `from_json` call at a time, without re-reading what
//! repeats.
//!
//! Each thread remembers the layout of the last chunk it parsed (see `crate::template`). A
//! chunk that fits it costs a byte comparison and the reading of its text fragment; when
//! the caller has let go of the previous chunk, even its storage is reused. Inputs that never
//! fit (chunks of unrelated streams, one after another) would pay for copying a template
//! each time, so after each template that went unused the next is taken ever more rarely.

use std::cell::RefCell;

use crate::model::Chunk;
use crate::template::ChunkTemplate;

use super::shared::Shared;

#[derive(Default)]
struct Recent {
    template: Option<ChunkTemplate>,
    /// Chunks the current template has produced.
    hits: u64,
    /// Misses to let pass before the next template is taken.
    skip: u32,
    /// How many templates in a row went unused (the wait grows as 2^backoff).
    backoff: u32,
}

const MAX_BACKOFF: u32 = 6;

thread_local! {
    static RECENT: RefCell<Recent> = RefCell::new(Recent::default());
}

/// The chunk `bytes` parses to, if it has the layout of the last one.
pub fn lookup(bytes: &[u8]) -> Option<Shared<Chunk<'static>>> {
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        let chunk = recent.template.as_mut()?.fill(bytes)?.clone();
        recent.hits += 1;
        Some(Shared::from_arc(chunk))
    })
}

/// Keeps the layout of `chunk`, just parsed from `bytes`, for the next call.
pub fn remember(bytes: &[u8], chunk: &Chunk<'_>) {
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.skip > 0 {
            recent.skip -= 1;
            return;
        }
        if recent.template.is_some() {
            recent.backoff = if recent.hits == 0 {
                (recent.backoff + 1).min(MAX_BACKOFF)
            } else {
                0
            };
        }
        recent.template = ChunkTemplate::record(bytes, chunk.clone());
        recent.hits = 0;
        recent.skip = (1 << recent.backoff) - 1;
    });
}
