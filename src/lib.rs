//! chatchunk: parse and merge streamed `chat.completion.chunk` data.
//!
//! The core (model, parsing, SSE, merging) is plain Rust; `python` holds the PyO3 bindings
//! and is compiled only with the `python` feature.

pub mod errors;
mod layout;
pub mod log;
pub mod merge;
pub mod model;
pub mod parse;
pub mod sse;
pub mod stream;
pub mod template;
pub mod validate;

#[cfg(feature = "python")]
mod python;
