//! Log blocks merged on their own, for engines that spread a log over many workers
//! (`chatchunk.dask`): `partial_block` merges a block into pieces (`crate::log::block`);
//! the streams that begin and end in the block become rows where they are, the others
//! travel as partial states and `partial_rows` combines them in input order.

use std::collections::HashSet;
use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::{PyBytes, PyDict};

use crate::log::{
    self, combine_pieces, merge_file, BlockBadRecord, LogCompletion, MergedBlock, Piece, Pointer,
};
use crate::merge::{PartialAccumulator, PartialError};

fn pointer(text: Option<&str>) -> PyResult<Option<Pointer>> {
    text.map(Pointer::parse)
        .transpose()
        .map_err(PyValueError::new_err)
}

fn partial_error(e: PartialError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A piece as it travels: key, first line (0-based in its block), whether its last chunk
/// was a usage-only report, whether it ended its stream, and its state's bytes.
type PieceTuple = (String, u64, bool, bool, Vec<u8>);

fn piece_tuple(p: Piece) -> PieceTuple {
    let state = p.state.to_bytes();
    (p.key, p.first_line, p.ends_with_usage, p.ended, state)
}

/// A bad record as Python sees it: line (0-based in the block), column, message, raw bytes.
type BadTuple<'py> = (u64, u64, String, Bound<'py, PyBytes>);

fn completion(state: PartialAccumulator, source: usize, first_line: u64) -> LogCompletion {
    LogCompletion {
        n_chunks: state.chunk_count(),
        complete: state.is_finished(),
        completion: state.into_completion(),
        key: String::new(),
        source,
        first_line,
        json: None,
    }
}

/// What a pickled `PartialBlock` holds: its pieces, line count, bad records, weight and
/// whether its rows were taken.
type PickledBlock<'py> = (Vec<PieceTuple>, u64, Vec<BadTuple<'py>>, usize, bool);

/// One block of JSONL records, merged into pieces per key; picklable (a scheduler may move
/// it between workers). `take_rows` takes the pieces of the streams it holds whole rather
/// than copying them (copying was most of the time it took), leaving the travelling ones,
/// so that it and `travelling` may run in either order.
#[pyclass(module = "chatchunk._core", frozen)]
pub struct PartialBlock {
    lines: u64,
    /// The bytes of the records merged: the memory the pieces hold is about as much (13.5
    /// MB for a 16 MiB block of the benchmark log), and a scheduler weighs it to decide
    /// whether moving the block is worth it.
    weight: usize,
    bad: Vec<BlockBadRecord>,
    block: Mutex<Pieces>,
}

/// The merged pieces (the block's `bad` moved out); once the rows are taken, only the
/// travelling ones.
struct Pieces {
    block: MergedBlock,
    rows_taken: bool,
}

impl PartialBlock {
    fn new(mut block: MergedBlock, weight: usize, rows_taken: bool) -> Self {
        PartialBlock {
            lines: block.lines,
            weight,
            bad: std::mem::take(&mut block.bad),
            block: Mutex::new(Pieces { block, rows_taken }),
        }
    }

    /// The pieces, locked without holding the GIL while waiting: a call that holds the
    /// lock lets the GIL go while it works, and must be able to take it back to finish
    /// (a Dask worker's event loop pickles a block while a task reads it).
    fn pieces(&self, py: Python<'_>) -> PyResult<std::sync::MutexGuard<'_, Pieces>> {
        self.block
            .lock_py_attached(py)
            .map_err(|_| PyValueError::new_err("this block is unusable: a call on it failed"))
    }
}

#[pymethods]
impl PartialBlock {
    /// Lines in the block, blank ones included.
    #[getter]
    fn lines(&self) -> u64 {
        self.lines
    }

    /// What planning needs to know of the block: a `BlockSummary` (of the pieces it holds:
    /// ask before `take_rows`).
    fn summary(&self, py: Python<'_>) -> PyResult<BlockSummary> {
        let pieces = self.pieces(py)?;
        Ok(BlockSummary(
            py.detach(|| log::BlockSummary::of(&pieces.block)),
        ))
    }

    /// The block's bad records.
    fn bad<'py>(&self, py: Python<'py>) -> Vec<BadTuple<'py>> {
        self.bad
            .iter()
            .map(|r| {
                let raw = PyBytes::new(py, &r.raw);
                (r.line, r.column, r.message.clone(), raw)
            })
            .collect()
    }

    /// The pieces that travel (see `MergedBlock::travelling`), read in place, as
    /// `(key, first_line, ends_with_usage, ended, state)`. `carried`: the keys an earlier
    /// block left open; `ahead`: the keys that come again soon after the block.
    fn travelling(
        &self,
        py: Python<'_>,
        carried: HashSet<String>,
        ahead: HashSet<String>,
    ) -> PyResult<Vec<PieceTuple>> {
        let pieces = self.pieces(py)?;
        Ok(py.detach(|| {
            pieces
                .block
                .travelling(&carried, &ahead)
                .into_iter()
                .map(piece_tuple)
                .collect()
        }))
    }

    /// The rows (as `merge_log_arrow`'s columns) of the streams the block holds whole,
    /// taking their pieces, once; `travelling` gives the same before or after. The
    /// arguments as for `travelling`, and `line_base`: the lines of the file before the
    /// block.
    fn take_rows<'py>(
        &self,
        py: Python<'py>,
        carried: HashSet<String>,
        ahead: HashSet<String>,
        source: String,
        line_base: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut pieces = self.pieces(py)?;
        if pieces.rows_taken {
            return Err(PyValueError::new_err("this block's rows have been taken"));
        }
        let block = std::mem::take(&mut pieces.block);
        let (rows, travelling) = py.detach(|| {
            let (whole, travelling) = block.into_parts(&carried, &ahead);
            let rows: Vec<_> = whole
                .into_iter()
                .map(|(state, line)| completion(state, 0, line_base + line + 1))
                .collect();
            (rows, travelling)
        });
        pieces.block.pieces = travelling;
        pieces.rows_taken = true;
        drop(pieces);
        super::arrow_columns::columns(py, &[source], rows)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, PickledBlock<'py>)> {
        let py = slf.py();
        let this = slf.get();
        let (pieces, rows_taken) = {
            let held = this.pieces(py)?;
            let pieces = held.block.pieces.iter().cloned().map(piece_tuple).collect();
            (pieces, held.rows_taken)
        };
        let rebuild = py.import("chatchunk._core")?.getattr("_partial_block")?;
        Ok((
            rebuild,
            (pieces, this.lines, this.bad(py), this.weight, rows_taken),
        ))
    }

    /// Roughly the memory held (see `weight`), for schedulers that weigh what they move.
    fn __sizeof__(&self, py: Python<'_>) -> usize {
        let whole = self.pieces(py).is_ok_and(|p| !p.rows_taken);
        let pieces = if whole { self.weight } else { 0 };
        pieces + self.bad.iter().map(|r| 64 + r.raw.len()).sum::<usize>()
    }
}

/// A block's lines, keys (each with the line of its first record) and the keys whose
/// stream it may leave open; pickles as one buffer.
#[pyclass(module = "chatchunk._core", frozen)]
pub struct BlockSummary(log::BlockSummary);

#[pymethods]
impl BlockSummary {
    /// Lines in the block, blank ones included.
    #[getter]
    fn lines(&self) -> u64 {
        self.0.lines
    }

    /// The keys whose first record is before line `limit` (0-based), with that line, in
    /// order.
    fn head(&self, limit: u64) -> Vec<(&str, u64)> {
        self.0.head(limit).collect()
    }

    /// Those of `keys` that the block has.
    fn among(&self, keys: HashSet<String>) -> Vec<String> {
        let found = self.0.among(keys.iter().map(String::as_str));
        found.into_iter().map(str::to_owned).collect()
    }

    /// The keys whose stream has a choice not finished at the end of the block.
    #[getter]
    fn unfinished(&self) -> Vec<&str> {
        self.0.unfinished.iter().map(String::as_str).collect()
    }

    /// The keys whose stream finished every choice but reported no usage by the end of the
    /// block.
    #[getter]
    fn unreported(&self) -> Vec<&str> {
        self.0.unreported.iter().map(String::as_str).collect()
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let rebuild = py.import("chatchunk._core")?.getattr("_block_summary")?;
        Ok((rebuild, (PyBytes::new(py, &slf.get().0.to_bytes()),)))
    }

    fn __sizeof__(&self) -> usize {
        let keys = |list: &[String]| list.iter().map(|k| k.len() + 32).sum::<usize>();
        let all: usize = self.0.head(u64::MAX).map(|(k, _)| k.len() + 40).sum();
        all + keys(&self.0.unfinished) + keys(&self.0.unreported)
    }
}

/// A `BlockSummary` from its pickled form.
#[pyfunction]
pub fn _block_summary(data: &[u8]) -> PyResult<BlockSummary> {
    log::BlockSummary::from_bytes(data)
        .map(BlockSummary)
        .ok_or_else(|| PyValueError::new_err("not a pickled BlockSummary"))
}

/// Merges one block of JSONL records (whole lines) into pieces per key.
#[pyfunction]
#[pyo3(signature = (data, *, key = None, chunk = None))]
pub fn partial_block(
    py: Python<'_>,
    data: &[u8],
    key: Option<&str>,
    chunk: Option<&str>,
) -> PyResult<PartialBlock> {
    let key_at = pointer(key)?;
    let chunk_at = pointer(chunk)?;
    let block = py.detach(|| MergedBlock::merge(data, key_at, chunk_at));
    Ok(PartialBlock::new(block, data.len(), false))
}

/// Merges the lines of a local file that start in `[start, end)` into pieces per key,
/// reading them without holding the GIL.
#[pyfunction]
#[pyo3(signature = (path, start, end, *, key = None, chunk = None))]
pub fn partial_block_file(
    py: Python<'_>,
    path: std::path::PathBuf,
    start: u64,
    end: u64,
    key: Option<&str>,
    chunk: Option<&str>,
) -> PyResult<PartialBlock> {
    let key_at = pointer(key)?;
    let chunk_at = pointer(chunk)?;
    let (block, weight) = py.detach(|| merge_file(&path, (start, end), key_at, chunk_at))?;
    Ok(PartialBlock::new(block, weight, false))
}

/// A `PartialBlock` from its pickled form.
#[pyfunction]
pub fn _partial_block(
    pieces: Vec<PieceTuple>,
    lines: u64,
    bad: Vec<(u64, u64, String, Vec<u8>)>,
    weight: usize,
    rows_taken: bool,
) -> PyResult<PartialBlock> {
    let pieces = pieces
        .into_iter()
        .map(|(key, first_line, ends_with_usage, ended, state)| {
            Ok(Piece {
                key,
                first_line,
                state: PartialAccumulator::from_bytes(&state)?,
                ends_with_usage,
                ended,
            })
        })
        .collect::<Result<Vec<_>, PartialError>>()
        .map_err(partial_error)?;
    let bad = bad
        .into_iter()
        .map(|(line, column, message, raw)| BlockBadRecord {
            line,
            column,
            message,
            raw,
        })
        .collect();
    Ok(PartialBlock::new(
        MergedBlock { pieces, lines, bad },
        weight,
        rows_taken,
    ))
}

/// A piece after the shuffle: state, ends_with_usage, source, first line in the file.
type TravelledPiece = (Vec<u8>, bool, usize, u64);

/// The rows of the streams that crossed blocks, as `merge_log_arrow`'s columns, in order of
/// (source, first line). `keys` holds, per key, its pieces in input order as `(state,
/// ends_with_usage, source, first_line)` (`source` indexes `sources`, `first_line` is
/// 1-based in the file); they are combined into streams by the single-machine end rule.
#[pyfunction]
pub fn partial_rows<'py>(
    py: Python<'py>,
    keys: Vec<Vec<TravelledPiece>>,
    sources: Vec<String>,
) -> PyResult<Bound<'py, PyDict>> {
    if let Some(&(_, _, source, _)) = keys.iter().flatten().find(|p| p.2 >= sources.len()) {
        return Err(PyValueError::new_err(format!(
            "source {source} is out of range: there are {} sources",
            sources.len()
        )));
    }
    let items = py
        .detach(|| {
            let mut items = Vec::new();
            for pieces in keys {
                let pieces = pieces
                    .into_iter()
                    .map(|(state, ends, source, line)| {
                        Ok((
                            PartialAccumulator::from_bytes(&state)?,
                            ends,
                            (source, line),
                        ))
                    })
                    .collect::<Result<Vec<_>, PartialError>>()?;
                for (state, (source, line)) in combine_pieces(pieces) {
                    items.push(completion(state, source, line));
                }
            }
            items.sort_by_key(|i| (i.source, i.first_line));
            Ok(items)
        })
        .map_err(partial_error)?;
    super::arrow_columns::columns(py, &sources, items)
}
