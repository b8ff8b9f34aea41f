//! One chunk as users hand it to `merge` or `StreamAccumulator.add`: one of our
//! `ChatCompletionChunk` objects (its Rust value is borrowed, never reparsed), a dict, JSON
//! text, or an openai-python model.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyString};

use crate::model::{Chunk, Extra, JsonValue};

use super::chunk_classes::ChatCompletionChunk;
use super::errors::ParseError;
use super::input::json_bytes;
use super::model_class::{from_json, from_python, to_python, ModelClass};
use super::shared::Shared;

/// A chunk to merge, or the error payload a server sent in its place.
pub enum ChunkInput {
    Chunk(Shared<Chunk<'static>>),
    ServerError(Py<PyAny>),
}

pub fn chunk_input(item: &Bound<'_, PyAny>) -> PyResult<ChunkInput> {
    let py = item.py();
    if let Ok(chunk) = item.cast::<ChatCompletionChunk>() {
        let shared = chunk.get().shared().clone();
        if reports_error(&shared.extra) {
            return Ok(ChunkInput::ServerError(
                chunk.call_method0("to_dict")?.unbind(),
            ));
        }
        return Ok(ChunkInput::Chunk(shared));
    }
    let is_text = item.is_instance_of::<PyBytes>()
        || item.is_instance_of::<PyString>()
        || item.is_instance_of::<PyByteArray>()
        || item.is_instance_of::<PyMemoryView>();
    let dict = if is_text || item.is_instance_of::<PyDict>() {
        item.clone()
    } else if item.get_type().hasattr("model_fields")? {
        // A pydantic model, such as openai's ChatCompletionChunk.
        super::openai_dump(item)?
    } else {
        return Err(PyTypeError::new_err(format!(
            "expected a ChatCompletionChunk, dict, str, bytes, bytearray or memoryview, got {}",
            item.get_type().name()?
        )));
    };
    let parsed: PyResult<ChatCompletionChunk> = if is_text {
        from_json(&dict, false)
    } else {
        from_python(&dict, false)
    };
    let chunk = match parsed {
        Ok(chunk) => chunk,
        Err(e) if e.is_instance_of::<ParseError>(py) => {
            // Not a chunk: perhaps the error object a server sends instead of one.
            return match error_payload(&dict, is_text)? {
                Some(payload) => Ok(ChunkInput::ServerError(payload)),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let shared = chunk.shared().clone();
    if reports_error(&shared.extra) {
        let payload = if is_text {
            chunk.to_dict_object(py)?
        } else {
            dict.unbind()
        };
        return Ok(ChunkInput::ServerError(payload));
    }
    Ok(ChunkInput::Chunk(shared))
}

/// A chunk carrying a non-null `"error"` key is a server's error report (as in SSE bodies).
fn reports_error(extra: &Extra<'_>) -> bool {
    extra.get("error").is_some_and(|e| *e != JsonValue::Null)
}

/// The item as a JSON value, if it is an object reporting an error: a non-null `"error"`
/// key, or `"object": "error"` (older vLLM).
fn error_payload(item: &Bound<'_, PyAny>, is_text: bool) -> PyResult<Option<Py<PyAny>>> {
    let py = item.py();
    if !is_text {
        let Ok(dict) = item.cast::<PyDict>() else {
            return Ok(None);
        };
        let error = dict.get_item("error")?.is_some_and(|e| !e.is_none());
        let object = dict
            .get_item("object")?
            .is_some_and(|o| o.extract::<String>().is_ok_and(|o| o == "error"));
        return Ok((error || object).then(|| dict.clone().into_any().unbind()));
    }
    let bytes = json_bytes(item)?;
    let Ok(value) = crate::parse::parse::<JsonValue>(&bytes, false) else {
        return Ok(None);
    };
    let JsonValue::Object(entries) = &value else {
        return Ok(None);
    };
    let reports = entries.iter().any(|(key, v)| match key.as_str() {
        "error" => *v != JsonValue::Null,
        "object" => matches!(v, JsonValue::Str(s) if s.as_str() == "error"),
        _ => false,
    });
    if !reports {
        return Ok(None);
    }
    Ok(Some(to_python(py, &value)?.unbind()))
}

impl ChatCompletionChunk {
    fn to_dict_object(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(super::model_class::dump(py, self, crate::model::Mode::Lossless)?.unbind())
    }
}
