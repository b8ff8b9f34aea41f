//! `StreamAccumulator`: an SSE body fed as it arrives, merged as it goes.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::model::{Chunk, Completion};
use crate::sse::DEFAULT_MAX_EVENT_SIZE;
use crate::stream::{StreamError, StreamMerger};

use super::chunk_input::{chunk_input, ChunkInput};
use super::errors::{payload_error, stream_error, with_progress};
use super::input::json_bytes;
use super::streams::{chunk_list, completion_object, owned, progress};

/// Feeds at least this large are decoded with the GIL released; smaller ones (a network
/// read) are done before a GIL hand-over would pay off.
const DETACH_AT: usize = 64 * 1024;

struct State {
    /// Decodes the SSE body into chunks and merges them, with those given to `add()`.
    merger: StreamMerger,
    closed: bool,
}

/// Decodes an SSE response body fed in pieces of any size and merges its chunks: feed(data)
/// returns the chunks completed by data, completion() the merge so far.
#[pyclass(module = "chatchunk")]
pub struct StreamAccumulator {
    state: Mutex<State>,
}

impl StreamAccumulator {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic inside the core leaves a state that is at worst partly merged.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn closed_error() -> PyErr {
    PyValueError::new_err("the StreamAccumulator is closed")
}

/// The result of one feed: the chunks it completed, and the error that stopped it with the
/// completion merged before that error.
type Fed = (
    Vec<Chunk<'static>>,
    Result<(), (StreamError, Completion<'static>)>,
);

#[pymethods]
impl StreamAccumulator {
    #[new]
    #[pyo3(signature = (*, max_event_size = DEFAULT_MAX_EVENT_SIZE))]
    fn new(max_event_size: usize) -> PyResult<Self> {
        if max_event_size == 0 {
            return Err(PyValueError::new_err("max_event_size must be at least 1"));
        }
        Ok(StreamAccumulator {
            state: Mutex::new(State {
                merger: StreamMerger::with_max_event_size(max_event_size),
                closed: false,
            }),
        })
    }

    /// Decodes the next piece of the body (split anywhere); returns the chunks it completed.
    /// `final=True` marks the end of the body: an event left unterminated is decoded too and
    /// the accumulator is closed.
    #[pyo3(signature = (data, r#final = false))]
    fn feed<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        r#final: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let bytes = json_bytes(data)?;
        let work = || -> Option<Fed> {
            let mut guard = self.lock();
            let state = &mut *guard;
            if state.closed {
                return None;
            }
            let mut chunks = Vec::new();
            let mut on_chunk = |c: &Chunk<'_>| chunks.push(owned(c));
            let mut result = state.merger.feed(&bytes, &mut on_chunk);
            if result.is_ok() && r#final {
                result = state.merger.finish(&mut on_chunk);
                state.closed = result.is_ok();
            }
            let result = result.map_err(|e| (e, state.merger.completion()));
            Some((chunks, result))
        };
        let fed = if bytes.len() >= DETACH_AT {
            py.detach(work)
        } else {
            work()
        };
        let (chunks, result) = fed.ok_or_else(closed_error)?;
        let chunks = chunk_list(py, chunks)?;
        match result {
            Ok(()) => Ok(chunks),
            Err((e, partial)) => {
                let progress = progress(py, partial, Some(chunks.into_any().unbind()));
                Err(stream_error(py, &e, progress))
            }
        }
    }

    /// Merges one chunk given as a ChatCompletionChunk, a dict, or JSON text.
    fn add(&self, py: Python<'_>, chunk: &Bound<'_, PyAny>) -> PyResult<()> {
        let input = chunk_input(chunk);
        // Python objects are made after the lock is released.
        let (failure, partial) = {
            let mut state = self.lock();
            if state.closed {
                return Err(closed_error());
            }
            let failure = match input {
                Ok(ChunkInput::Chunk(chunk)) => {
                    state.merger.add(&chunk);
                    return Ok(());
                }
                Ok(ChunkInput::ServerError(payload)) => Ok(payload),
                Err(e) => Err(e),
            };
            (failure, state.merger.completion())
        };
        let progress = progress(py, partial, None);
        Err(match failure {
            Ok(payload) => payload_error(py, payload, progress),
            Err(e) => with_progress(py, e, progress),
        })
    }

    /// The ChatCompletion merged so far (a snapshot; merging goes on).
    fn completion(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let completion = self.lock().merger.completion();
        completion_object(py, completion)
    }

    /// Whether `data: [DONE]` has arrived (input after it is ignored).
    #[getter]
    fn done(&self) -> bool {
        self.lock().merger.done()
    }

    /// End of the body: decodes an event left unterminated, closes the accumulator and
    /// returns the final ChatCompletion. Calling it again returns the completion again.
    fn close(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let (result, completion) = {
            let mut guard = self.lock();
            let state = &mut *guard;
            let mut result = Ok(());
            if !state.closed {
                result = state.merger.finish(|_| {});
                state.closed = result.is_ok();
            }
            (result, state.merger.completion())
        };
        match result {
            Ok(()) => completion_object(py, completion),
            Err(e) => Err(stream_error(py, &e, progress(py, completion, None))),
        }
    }

    fn __repr__(&self) -> String {
        let state = self.lock();
        format!(
            "StreamAccumulator(chunks={}, done={}, closed={})",
            state.merger.accumulator().chunk_count(),
            if state.merger.done() { "True" } else { "False" },
            if state.closed { "True" } else { "False" },
        )
    }
}
