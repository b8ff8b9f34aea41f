//! Python exception types and the conversion of core errors into them.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::ParseError as CoreParseError;

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
