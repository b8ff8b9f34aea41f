//! Module-level functions.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::validate::{validate, Format};

use super::input::json_bytes;

pub fn parse_format(format: &str, data: &[u8]) -> PyResult<Format> {
    match format {
        "auto" => Ok(Format::detect(data)),
        "jsonl" => Ok(Format::Jsonl),
        "sse" => Ok(Format::Sse),
        other => Err(PyValueError::new_err(format!(
            "format must be 'auto', 'jsonl' or 'sse', not {other:?}"
        ))),
    }
}

/// `(line, column, offset, path, message)` of one bad chunk.
type Problem = (u64, u64, u64, String, String);

/// Every bad chunk in a JSONL or SSE document.
#[pyfunction]
#[pyo3(signature = (data, *, format = "auto"))]
pub fn validate_chunks(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    format: &str,
) -> PyResult<Vec<Problem>> {
    let bytes = json_bytes(data)?;
    let format = parse_format(format, &bytes)?;
    let problems = py.detach(|| validate(&bytes, format));
    Ok(problems
        .into_iter()
        .map(|p| {
            let pos = p.position.unwrap_or(crate::errors::Position {
                line: 1,
                column: 1,
                offset: 0,
            });
            (pos.line, pos.column, pos.offset, p.path, p.message)
        })
        .collect())
}
