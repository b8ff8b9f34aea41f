//! Whether the parse in progress on this thread is strict.
//!
//! serde's `Deserialize` carries no context, so the mode travels in a thread-local that the
//! few places that care (required keys, lenient coercions) read. Parsing is synchronous, so
//! the guard below scopes it exactly to one parse.

use std::cell::Cell;

thread_local! {
    static STRICT: Cell<bool> = const { Cell::new(false) };
}

pub fn is_strict() -> bool {
    STRICT.with(Cell::get)
}

/// Sets the mode for the current thread until dropped, restoring the previous one.
pub struct StrictnessGuard {
    previous: bool,
}

impl StrictnessGuard {
    pub fn new(strict: bool) -> Self {
        StrictnessGuard {
            previous: STRICT.with(|s| s.replace(strict)),
        }
    }
}

impl Drop for StrictnessGuard {
    fn drop(&mut self) {
        STRICT.with(|s| s.set(self.previous));
    }
}
