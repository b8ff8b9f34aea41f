//! Partial merge states of log blocks, for engines that split a log over many workers
//! (`chatchunk.dask`): a block of JSONL records becomes one partial state per stream key,
//! and the states of one key, combined in input order, become the rows `merge_log_arrow`
//! has for that stream.

use std::borrow::Cow;
use std::collections::HashMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::Position;
use crate::log::{LogCompletion, Pointer};
use crate::merge::{PartialAccumulator, PartialError};
use crate::model::Chunk;
use crate::parse::parse;

fn pointer(text: Option<&str>) -> PyResult<Option<Pointer>> {
    text.map(Pointer::parse)
        .transpose()
        .map_err(PyValueError::new_err)
}

/// The grouping key a value stands for: a string's text, the JSON text of anything else,
/// `""` for null (as the log engine does).
fn key_text(value: &[u8]) -> Result<Cow<'_, str>, String> {
    if value == b"null" {
        return Ok(Cow::Borrowed(""));
    }
    if value.first() == Some(&b'"') {
        return serde_json::from_slice::<String>(value)
            .map(Cow::Owned)
            .map_err(|e| e.to_string());
    }
    std::str::from_utf8(value)
        .map(Cow::Borrowed)
        .map_err(|e| e.to_string())
}

/// A bad record: its column on the line and what is wrong with it.
type Bad = (u64, String);

/// One JSONL record: its key and chunk, or why it is bad (as the log engine decides).
fn record<'a>(
    text: &'a [u8],
    key_at: Option<&Pointer>,
    chunk_at: Option<&Pointer>,
) -> Result<(Cow<'a, str>, Chunk<'a>), Bad> {
    let bad = |offset: usize, message: String| (Position::at(text, offset).column, message);
    if key_at.is_some() || chunk_at.is_some() {
        if let Err(e) = std::str::from_utf8(text) {
            return Err(bad(e.valid_up_to(), "invalid UTF-8".to_owned()));
        }
    }
    let (chunk_text, start) = match chunk_at {
        None => (text, 0),
        Some(p) => match p.locate(text) {
            Ok(Some((start, end))) => (&text[start..end], start),
            Ok(None) => return Err(bad(0, format!("no chunk at {}", p.as_str()))),
            Err(message) => return Err(bad(0, format!("invalid record: {message}"))),
        },
    };
    let chunk = match parse::<Chunk>(chunk_text, false) {
        Ok(chunk) => chunk,
        Err(e) => {
            let offset = e.position.map_or(0, |p| p.offset as usize);
            let message = if e.path == "$" {
                e.message.clone()
            } else {
                format!("{} (at {})", e.message, e.path)
            };
            return Err(bad(start + offset, message));
        }
    };
    let key = match key_at {
        None => chunk.id.get().map_or(Cow::Borrowed(""), |id| id.0.clone()),
        Some(p) => match p.locate(text) {
            Ok(Some((start, end))) => match key_text(&text[start..end]) {
                Ok(key) => key,
                Err(message) => return Err(bad(start, format!("invalid key: {message}"))),
            },
            Ok(None) => Cow::Borrowed(""),
            Err(message) => return Err(bad(0, format!("invalid record: {message}"))),
        },
    };
    Ok((key, chunk))
}

/// What `partial_block` returns: per key (in order of first record) its first line (0-based
/// in the block) and state; the number of lines in the block; the bad records as (line,
/// column, message, raw bytes).
type BlockOut<'py> = (
    Vec<String>,
    Vec<u64>,
    Vec<Bound<'py, PyBytes>>,
    u64,
    Vec<(u64, u64, String, Bound<'py, PyBytes>)>,
);

/// Merges the JSONL records of one block (whole lines) into one partial state per key.
#[pyfunction]
#[pyo3(signature = (data, *, key = None, chunk = None))]
pub fn partial_block<'py>(
    py: Python<'py>,
    data: &[u8],
    key: Option<&str>,
    chunk: Option<&str>,
) -> PyResult<BlockOut<'py>> {
    let key_at = pointer(key)?;
    let chunk_at = pointer(chunk)?;
    type Work = (
        Vec<(String, u64, PartialAccumulator)>,
        u64,
        Vec<(u64, u64, String, (usize, usize))>,
    );
    let work = || -> Work {
        let mut slots: HashMap<String, usize> = HashMap::new();
        let mut states: Vec<(String, u64, PartialAccumulator)> = Vec::new();
        let mut bad = Vec::new();
        let mut start = 0;
        let mut line = 0u64;
        while start < data.len() {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
            let raw = &data[start..end];
            let at = line;
            let raw_at = (start, end);
            start = end + 1;
            line += 1;
            if raw.trim_ascii().is_empty() {
                continue;
            }
            let text = raw.strip_suffix(b"\r").unwrap_or(raw);
            match record(text, key_at.as_ref(), chunk_at.as_ref()) {
                Ok((key, chunk)) => {
                    let slot = match slots.get(key.as_ref()) {
                        Some(&slot) => slot,
                        None => {
                            slots.insert(key.clone().into_owned(), states.len());
                            states.push((key.into_owned(), at, PartialAccumulator::new()));
                            states.len() - 1
                        }
                    };
                    states[slot].2.add(&chunk);
                }
                Err((column, message)) => bad.push((at, column, message, raw_at)),
            }
        }
        (states, line, bad)
    };
    let (states, lines, bad) = py.detach(work);
    let mut keys = Vec::with_capacity(states.len());
    let mut firsts = Vec::with_capacity(states.len());
    let mut blobs = Vec::with_capacity(states.len());
    for (key, first, state) in states {
        keys.push(key);
        firsts.push(first);
        blobs.push(PyBytes::new(py, &state.to_bytes()));
    }
    let bad = bad
        .into_iter()
        .map(|(line, column, message, (s, e))| {
            (line, column, message, PyBytes::new(py, &data[s..e]))
        })
        .collect();
    Ok((keys, firsts, blobs, lines, bad))
}

fn partial_error(e: PartialError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// The rows of finished streams, one row per (stream, choice), as `merge_log_arrow`'s
/// columns: each stream given as its partial states in input order, its source and its
/// first line.
#[pyfunction]
pub fn partial_rows<'py>(
    py: Python<'py>,
    streams: Vec<Vec<Vec<u8>>>,
    sources: Vec<String>,
    first_lines: Vec<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    if sources.len() != streams.len() || first_lines.len() != streams.len() {
        return Err(PyValueError::new_err(
            "streams, sources and first_lines must have the same length",
        ));
    }
    let items = py
        .detach(|| {
            streams
                .iter()
                .zip(&first_lines)
                .enumerate()
                .map(|(row, (states, &first_line))| {
                    let mut acc = PartialAccumulator::new();
                    for state in states {
                        acc.extend(&PartialAccumulator::from_bytes(state)?);
                    }
                    Ok(LogCompletion {
                        n_chunks: acc.chunk_count(),
                        complete: acc.is_finished(),
                        completion: acc.into_completion(),
                        key: String::new(),
                        source: row,
                        first_line,
                        json: None,
                    })
                })
                .collect::<Result<Vec<_>, PartialError>>()
        })
        .map_err(partial_error)?;
    super::logs::columns(py, &sources, &items)
}
