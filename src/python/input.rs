//! Getting JSON text out of the Python objects users pass in.

use std::borrow::Cow;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};

use crate::errors::{ParseError as CoreParseError, Position};

use super::errors::parse_error;

/// JSON text held for as long as a model parsed from it borrows from it.
#[expect(dead_code, reason = "held only to keep the text alive, never read")]
pub enum HeldText {
    Bytes(Py<PyBytes>),
    Owned(Vec<u8>),
}

/// Takes hold of the text in `data`; returns it with a pointer to its bytes, which stays
/// valid as long as the `HeldText` lives (wherever it moves).
pub fn hold_text(data: &Bound<'_, PyAny>) -> PyResult<(HeldText, *const [u8])> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        let ptr: *const [u8] = bytes.as_bytes();
        return Ok((HeldText::Bytes(bytes.clone().unbind()), ptr));
    }
    let owned = json_bytes(data)?.into_owned();
    let ptr: *const [u8] = owned.as_slice();
    Ok((HeldText::Owned(owned), ptr))
}

/// The bytes of `data` (str, bytes, bytearray or memoryview), borrowed when they can be.
pub fn json_bytes<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(bytes.as_bytes()));
    }
    if let Ok(text) = data.cast::<PyString>() {
        let cow = text.to_cow().map_err(|e| unencodable(text, e))?;
        return Ok(match cow {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        });
    }
    if let Ok(array) = data.cast::<PyByteArray>() {
        return Ok(Cow::Owned(array.to_vec()));
    }
    if data.is_instance_of::<PyMemoryView>() {
        let bytes = data.call_method0("tobytes")?;
        return Ok(Cow::Owned(bytes.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    Err(PyTypeError::new_err(format!(
        "expected str, bytes, bytearray or memoryview, got {}",
        data.get_type().name()?
    )))
}

/// A str that cannot be UTF-8 (a lone surrogate) is bad input like any other: a ParseError
/// at the offending character.
fn unencodable(text: &Bound<'_, PyString>, error: PyErr) -> PyErr {
    let py = text.py();
    let start = error
        .value(py)
        .getattr("start")
        .and_then(|s| s.extract::<isize>())
        .unwrap_or(0);
    let prefix = text
        .as_any()
        .get_item(pyo3::types::PySlice::new(py, 0, start, 1))
        .and_then(|p| p.extract::<String>())
        .unwrap_or_default();
    let position = Position::at(prefix.as_bytes(), prefix.len());
    let message = "invalid unicode: lone surrogate cannot be encoded as UTF-8";
    parse_error(py, &CoreParseError::new(message, Some(position), "$"))
}
