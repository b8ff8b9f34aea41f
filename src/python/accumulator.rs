//! `StreamAccumulator`: an SSE body fed as it arrives, merged as it goes.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple, PyType};

use crate::merge::{partial_decode, partial_encode, snapshot_chunk, ToolCallLog};
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
    /// The `tool_calls` entries, unresolved, for the partial state (see `merge/partial.rs`).
    log: ToolCallLog,
    /// Chunks merged minus the chunks the merger counted (restoring and combining replay one
    /// synthetic chunk per partial state).
    chunk_adjust: i64,
    /// `[DONE]` arrived before this state was restored or combined.
    done: bool,
    max_event_size: usize,
}

impl State {
    fn new(max_event_size: usize) -> Self {
        State {
            merger: StreamMerger::with_max_event_size(max_event_size),
            closed: false,
            log: ToolCallLog::new(),
            chunk_adjust: 0,
            done: false,
            max_event_size,
        }
    }

    fn chunk_count(&self) -> u64 {
        (self.merger.accumulator().chunk_count() as i64 + self.chunk_adjust).max(0) as u64
    }

    fn done(&self) -> bool {
        self.done || self.merger.done()
    }

    fn to_bytes(&self) -> Vec<u8> {
        partial_encode(self.merger.accumulator(), &self.log, self.chunk_count())
    }

    /// Merges a later partial state given as its synthetic chunk and chunk count.
    fn extend(&mut self, chunk: &Chunk<'_>, chunks: u64) {
        self.merger.add(chunk);
        self.log.record(chunk);
        self.chunk_adjust += chunks as i64 - 1;
    }
}

fn partial_error(e: crate::merge::PartialError) -> PyErr {
    PyValueError::new_err(e.to_string())
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
            state: Mutex::new(State::new(max_event_size)),
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
            if state.done {
                // Restored after `[DONE]`: input is ignored, as the merger would.
                state.closed |= r#final;
                return Some((chunks, Ok(())));
            }
            let log = &mut state.log;
            let mut on_chunk = |c: &Chunk<'_>| {
                log.record(c);
                chunks.push(owned(c));
            };
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
                    state.log.record(&chunk);
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
        self.lock().done()
    }

    /// End of the body: decodes an event left unterminated, closes the accumulator and
    /// returns the final ChatCompletion. Calling it again returns the completion again.
    fn close(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let (result, completion) = {
            let mut guard = self.lock();
            let state = &mut *guard;
            let mut result = Ok(());
            if !state.closed {
                let log = &mut state.log;
                result = state.merger.finish(|c| log.record(c));
                state.closed = result.is_ok();
            }
            (result, state.merger.completion())
        };
        match result {
            Ok(()) => completion_object(py, completion),
            Err(e) => Err(stream_error(py, &e, progress(py, completion, None))),
        }
    }

    /// The number of chunks merged (across combined partial states too).
    #[getter]
    fn n_chunks(&self) -> u64 {
        self.lock().chunk_count()
    }

    /// The merge state as bytes (versioned; see `from_bytes`). Holds what was merged, not
    /// the bytes of an SSE event still unterminated, nor `done`/closed.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = self.lock().to_bytes();
        PyBytes::new(py, &bytes)
    }

    /// A StreamAccumulator holding the merge state `to_bytes()` returned; ValueError on bytes
    /// that are not such a state.
    #[classmethod]
    #[pyo3(signature = (data, *, max_event_size = DEFAULT_MAX_EVENT_SIZE))]
    fn from_bytes(_cls: &Bound<'_, PyType>, data: &[u8], max_event_size: usize) -> PyResult<Self> {
        let acc = Self::new(max_event_size)?;
        let (chunk, chunks) = partial_decode(data).map_err(partial_error)?;
        acc.lock().extend(&chunk, chunks);
        Ok(acc)
    }

    /// Merges `later`, the partial state of the piece of the same stream that follows this
    /// one in input order: the result is exactly what merging this piece's chunks and then
    /// the later piece's gives, however the stream was cut. `later` is left as it is.
    fn extend(&self, later: &Bound<'_, StreamAccumulator>) -> PyResult<()> {
        let later = later.borrow();
        if std::ptr::eq(&*later, self) {
            return Err(PyValueError::new_err(
                "a StreamAccumulator cannot be extended with itself",
            ));
        }
        let (chunk, chunks, done) = {
            let state = later.lock();
            (
                snapshot_chunk(state.merger.accumulator(), &state.log),
                state.chunk_count(),
                state.done(),
            )
        };
        let mut state = self.lock();
        state.extend(&chunk, chunks);
        state.done |= done;
        Ok(())
    }

    /// A new StreamAccumulator: `earlier` followed by `later` (see `extend`).
    #[staticmethod]
    fn combine(
        earlier: &Bound<'_, StreamAccumulator>,
        later: &Bound<'_, StreamAccumulator>,
    ) -> PyResult<Self> {
        let (bytes, max_event_size, done) = {
            let earlier = earlier.borrow();
            let state = earlier.lock();
            (state.to_bytes(), state.max_event_size, state.done())
        };
        let acc = Self::new(max_event_size)?;
        {
            let (chunk, chunks) = partial_decode(&bytes).map_err(partial_error)?;
            let mut state = acc.lock();
            state.extend(&chunk, chunks);
            state.done = done;
        }
        acc.extend(later)?;
        Ok(acc)
    }

    /// Pickling keeps the merge state, `done`, whether it is closed, and max_event_size.
    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let state = self.lock();
        let bytes = PyBytes::new(py, &state.to_bytes());
        PyTuple::new(
            py,
            [
                bytes.into_any(),
                state.max_event_size.into_pyobject(py)?.into_any(),
                pyo3::types::PyBool::new(py, state.done())
                    .to_owned()
                    .into_any(),
                pyo3::types::PyBool::new(py, state.closed)
                    .to_owned()
                    .into_any(),
            ],
        )
    }

    fn __setstate__(&self, state: (Vec<u8>, usize, bool, bool)) -> PyResult<()> {
        let (bytes, max_event_size, done, closed) = state;
        if max_event_size == 0 {
            return Err(PyValueError::new_err("max_event_size must be at least 1"));
        }
        let (chunk, chunks) = partial_decode(&bytes).map_err(partial_error)?;
        let mut fresh = State::new(max_event_size);
        fresh.extend(&chunk, chunks);
        fresh.done = done;
        fresh.closed = closed;
        *self.lock() = fresh;
        Ok(())
    }

    fn __repr__(&self) -> String {
        let state = self.lock();
        format!(
            "StreamAccumulator(chunks={}, done={}, closed={})",
            state.chunk_count(),
            if state.done() { "True" } else { "False" },
            if state.closed { "True" } else { "False" },
        )
    }
}
