//! The whole-stream functions: `merge`, `merge_sse` and `parse_sse`.

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::merge::Accumulator;
use crate::model::{Chunk, Completion, IntoOwned};
use crate::sse::DEFAULT_MAX_EVENT_SIZE;
use crate::stream::StreamMerger;

use super::chunk_classes::ChatCompletionChunk;
use super::chunk_input::{chunk_input, ChunkInput};
use super::completion_classes::ChatCompletion;
use super::errors::{payload_error, stream_error, with_progress, Progress};
use super::input::json_bytes;
use super::model_class::ModelClass;
use super::shared::Shared;

/// How many chunks `merge` gathers before merging them with the GIL released.
const BATCH: usize = 256;

pub fn completion_object(py: Python<'_>, completion: Completion<'static>) -> PyResult<Py<PyAny>> {
    Ok(Py::new(py, ChatCompletion::from_shared(Shared::new(completion)))?.into_any())
}

pub fn chunk_list<'py>(
    py: Python<'py>,
    chunks: Vec<Chunk<'static>>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for chunk in chunks {
        list.append(Py::new(
            py,
            ChatCompletionChunk::from_shared(Shared::new(chunk)),
        )?)?;
    }
    Ok(list)
}

/// A chunk borrowed from the stream, kept.
#[inline]
pub fn owned(chunk: &Chunk<'_>) -> Chunk<'static> {
    chunk.clone().into_owned()
}

/// The completion merged so far, for an error.
pub fn progress(
    py: Python<'_>,
    completion: Completion<'static>,
    chunks: Option<Py<PyAny>>,
) -> Progress {
    Progress {
        partial: completion_object(py, completion).unwrap_or_else(|_| py.None()),
        chunks,
    }
}

fn check_max(max_event_size: usize) -> PyResult<()> {
    if max_event_size == 0 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "max_event_size must be at least 1",
        ));
    }
    Ok(())
}

/// Merges chunks (ChatCompletionChunk objects, dicts, or JSON text as str or bytes) of one
/// stream, in order, into the ChatCompletion they add up to.
#[pyfunction]
pub fn merge(py: Python<'_>, chunks: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let mut accumulator = Accumulator::new();
    let mut batch: Vec<Shared<Chunk<'static>>> = Vec::with_capacity(BATCH);
    let merge_batch = |accumulator: &mut Accumulator, batch: &mut Vec<Shared<Chunk<'static>>>| {
        let mut work = || batch.iter().for_each(|chunk| accumulator.add(chunk));
        if batch.len() == BATCH {
            py.detach(work);
        } else {
            work();
        }
        batch.clear();
    };
    for item in chunks.try_iter()? {
        let input = item.and_then(|item| chunk_input(&item));
        match input {
            Ok(ChunkInput::Chunk(chunk)) => {
                batch.push(chunk);
                if batch.len() == BATCH {
                    merge_batch(&mut accumulator, &mut batch);
                }
            }
            Ok(ChunkInput::ServerError(payload)) => {
                merge_batch(&mut accumulator, &mut batch);
                let progress = progress(py, accumulator.into_completion(), None);
                return Err(payload_error(py, payload, progress));
            }
            Err(e) => {
                merge_batch(&mut accumulator, &mut batch);
                let progress = progress(py, accumulator.into_completion(), None);
                return Err(with_progress(py, e, progress));
            }
        }
    }
    merge_batch(&mut accumulator, &mut batch);
    completion_object(py, accumulator.into_completion())
}

/// Merges a whole SSE response body into its ChatCompletion, with the GIL released.
#[pyfunction]
#[pyo3(signature = (body, *, max_event_size = DEFAULT_MAX_EVENT_SIZE))]
pub fn merge_sse(
    py: Python<'_>,
    body: &Bound<'_, PyAny>,
    max_event_size: usize,
) -> PyResult<Py<PyAny>> {
    check_max(max_event_size)?;
    let bytes = json_bytes(body)?;
    let (merger, result) = py.detach(|| {
        let mut merger = StreamMerger::with_max_event_size(max_event_size);
        let result = merger.merge(&bytes).and_then(|()| merger.merge_finish());
        (merger, result)
    });
    match result {
        Ok(()) => completion_object(py, merger.into_completion()),
        Err(e) => Err(stream_error(
            py,
            &e,
            progress(py, merger.into_completion(), None),
        )),
    }
}

/// The chunks of a whole SSE response body, in order, up to `data: [DONE]`.
#[pyfunction]
#[pyo3(signature = (body, *, max_event_size = DEFAULT_MAX_EVENT_SIZE))]
pub fn parse_sse<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    max_event_size: usize,
) -> PyResult<Bound<'py, PyList>> {
    check_max(max_event_size)?;
    let bytes = json_bytes(body)?;
    let (merger, chunks, result) = py.detach(|| {
        let mut merger = StreamMerger::with_max_event_size(max_event_size);
        let mut chunks = Vec::new();
        let result = merger
            .feed(&bytes, |c| chunks.push(owned(c)))
            .and_then(|()| merger.finish(|c| chunks.push(owned(c))));
        (merger, chunks, result)
    });
    let chunks = chunk_list(py, chunks)?;
    match result {
        Ok(()) => Ok(chunks),
        Err(e) => {
            let progress = progress(
                py,
                merger.into_completion(),
                Some(chunks.into_any().unbind()),
            );
            Err(stream_error(py, &e, progress))
        }
    }
}
