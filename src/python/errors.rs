//! Python exception types and the conversion of core errors into them.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::ParseError as CoreParseError;
use crate::stream::StreamError as CoreStreamError;

pyo3::create_exception!(
    chatchunk,
    ParseError,
    PyValueError,
    "Invalid JSON, invalid UTF-8 or a schema violation, with .line, .column (1-based), .offset (byte) and .path (JSON path)."
);

pub fn parse_error(py: Python<'_>, error: &CoreParseError) -> PyErr {
    let err = ParseError::new_err(error.to_string());
    let value = err.value(py);
    let position = error.position;
    // Setting attributes on a fresh exception instance cannot fail short of memory errors.
    let _ = value.setattr("message", &error.message);
    let _ = value.setattr("line", position.map(|p| p.line));
    let _ = value.setattr("column", position.map(|p| p.column));
    let _ = value.setattr("offset", position.map(|p| p.offset));
    let _ = value.setattr("path", &error.path);
    err
}

pyo3::create_exception!(
    chatchunk,
    StreamError,
    pyo3::exceptions::PyException,
    "A stream could not be read to its end: the server sent an error event (.error holds its payload) or an event was larger than the limit (.error is None). .partial is the ChatCompletion merged before it; .chunks the chunks the failing call decoded before it (None for merge_sse and merge)."
);

/// The class-level defaults of the attributes stream errors carry, so that every instance
/// has them: a `ParseError` raised outside a stream function has `.partial` None too.
pub fn add_stream_attributes(py: Python<'_>) -> PyResult<()> {
    let stream_error = py.get_type::<StreamError>();
    stream_error.setattr("error", py.None())?;
    for class in [stream_error, py.get_type::<ParseError>()] {
        class.setattr("partial", py.None())?;
        class.setattr("chunks", py.None())?;
    }
    Ok(())
}

/// What a stream function had done when it failed: the completion merged so far and, when
/// the call hands out chunks, those it decoded before the failure.
pub struct Progress {
    pub partial: Py<PyAny>,
    pub chunks: Option<Py<PyAny>>,
}

impl Progress {
    fn attach(self, py: Python<'_>, err: PyErr) -> PyErr {
        let value = err.value(py);
        let _ = value.setattr("partial", self.partial);
        let _ = value.setattr("chunks", self.chunks);
        err
    }
}

/// A core stream error as a Python exception: a bad chunk is a `ParseError` (its position
/// relative to the whole body), the rest a `StreamError`.
pub fn stream_error(py: Python<'_>, error: &CoreStreamError, progress: Progress) -> PyErr {
    let err = match error {
        CoreStreamError::Parse(e) => parse_error(py, e),
        CoreStreamError::Server { payload, .. } => {
            let payload = super::model_class::to_python(py, payload)
                .map_or_else(|_| py.None(), |p| p.unbind());
            server_error(py, error.to_string(), payload)
        }
        CoreStreamError::Sse(_) => server_error(py, error.to_string(), py.None()),
    };
    progress.attach(py, err)
}

/// A `StreamError` for an error payload met outside an SSE body (a dict given to `merge`).
pub fn payload_error(py: Python<'_>, payload: Py<PyAny>, progress: Progress) -> PyErr {
    let payload_ref = payload.bind(py);
    let text = py
        .import("json")
        .and_then(|json| json.call_method1("dumps", (payload_ref,)))
        .or_else(|_| payload_ref.repr().map(pyo3::Bound::into_any))
        .map_or_else(|_| "?".to_owned(), |t| t.to_string());
    let err = server_error(py, format!("server error in the stream: {text}"), payload);
    progress.attach(py, err)
}

fn server_error(py: Python<'_>, message: String, payload: Py<PyAny>) -> PyErr {
    let err = StreamError::new_err(message);
    let _ = err.value(py).setattr("error", payload);
    err
}

/// Adds what was merged before `err` to it, if it is one of ours.
pub fn with_progress(py: Python<'_>, err: PyErr, progress: Progress) -> PyErr {
    if err.is_instance_of::<ParseError>(py) || err.is_instance_of::<StreamError>(py) {
        progress.attach(py, err)
    } else {
        err
    }
}
