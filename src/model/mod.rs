//! The typed chunk model: plain Rust, borrowed from the input where it can be.

#[macro_use]
mod macros;
mod chunk;
mod completion;
mod dump;
mod field;
mod json_value;
mod lazy;
mod strictness;

pub use chunk::*;
pub use completion::*;
pub use dump::{Dump, Mode, With};
pub use field::{Arguments, Field, Index, IntoOwned, StopReason, StopValue, Text};
pub use json_value::{Extra, JsonValue, MAX_DEPTH};
pub use lazy::{EntryRuns, LazyLogProbs};
pub use strictness::{is_strict, StrictnessGuard};

/// Why a parsed object is not a valid model object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    Missing(&'static str),
    Other(String),
}
