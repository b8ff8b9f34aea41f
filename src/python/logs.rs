//! Bindings of the log engine (`crate::log`): the iterator behind `merge_log`, the Arrow
//! columns behind `merge_log_arrow`, the JSONL writer of `chatchunk merge` and the counts
//! of `log_stats`. The engine runs on its own threads; Python waits for it with the GIL
//! released.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::log::{
    Config, ErrorMode, FormatChoice, LogCompletion as CoreLogCompletion, LogError, LogReader, Stats,
};
use crate::model::{Mode, With};

use super::completion_classes::ChatCompletion;
use super::errors::ParseError;
use super::model_class::ModelClass;
use super::shared::Shared;

/// A `ChatCompletion` merged from a log, knowing where it came from.
#[pyclass(module = "chatchunk", extends = ChatCompletion, frozen)]
pub struct LogCompletion {
    /// The input (path as given, `-` for stdin) holding the stream's first chunk.
    #[pyo3(get)]
    source: String,
    /// 1-based line of the stream's first chunk in `source`.
    #[pyo3(get)]
    first_line: u64,
    /// How many chunks were merged.
    #[pyo3(get)]
    n_chunks: u64,
    /// Whether the stream finished (see the log documentation); False if it was cut.
    #[pyo3(get)]
    complete: bool,
    /// The grouping key: the chunk id, or the value at `key=`.
    #[pyo3(get)]
    key: String,
}

fn log_completion(
    py: Python<'_>,
    sources: &[String],
    item: CoreLogCompletion,
) -> PyResult<Py<PyAny>> {
    let origin = LogCompletion {
        source: sources[item.source].clone(),
        first_line: item.first_line,
        n_chunks: item.n_chunks,
        complete: item.complete,
        key: item.key,
    };
    new_log_completion(py, item.completion, origin)
}

fn new_log_completion(
    py: Python<'_>,
    completion: crate::model::Completion<'static>,
    origin: LogCompletion,
) -> PyResult<Py<PyAny>> {
    let base = ChatCompletion::from_shared(Shared::new(completion));
    let init = PyClassInitializer::from(base).add_subclass(origin);
    Ok(Py::new(py, init)?.into_any())
}

/// What a pickled `LogCompletion` holds: the completion's lossless JSON and where it came from.
type LogCompletionState = (String, String, u64, u64, bool, String);

#[pymethods]
impl LogCompletion {
    /// Pickles with its origin (the base class's reduction would drop it).
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, LogCompletionState)> {
        let py = slf.py();
        let json = super::model_class::dump_json(
            slf.as_super().get(),
            crate::model::Mode::Lossless,
            None,
        )?;
        let this = slf.get();
        let rebuild = py.import("chatchunk._core")?.getattr("_log_completion")?;
        Ok((
            rebuild,
            (
                json,
                this.source.clone(),
                this.first_line,
                this.n_chunks,
                this.complete,
                this.key.clone(),
            ),
        ))
    }
}

/// Rebuilds a pickled `LogCompletion` (see `LogCompletion.__reduce__`).
#[pyfunction]
pub fn _log_completion(
    py: Python<'_>,
    json: &str,
    source: String,
    first_line: u64,
    n_chunks: u64,
    complete: bool,
    key: String,
) -> PyResult<Py<PyAny>> {
    let completion = crate::parse::parse::<crate::model::Completion>(json.as_bytes(), false)
        .map_err(|e| super::errors::parse_error(py, &e))?;
    let origin = LogCompletion {
        source,
        first_line,
        n_chunks,
        complete,
        key,
    };
    new_log_completion(py, crate::model::IntoOwned::into_owned(completion), origin)
}

fn log_error(py: Python<'_>, sources: &[String], error: LogError) -> PyErr {
    match error {
        LogError::Bad(bad) => {
            let source = &sources[bad.source];
            let err = ParseError::new_err(format!(
                "{source}:{}:{}: {}",
                bad.line, bad.column, bad.message
            ));
            let value = err.value(py);
            let _ = value.setattr("message", &bad.message);
            let _ = value.setattr("source", source);
            let _ = value.setattr("line", bad.line);
            let _ = value.setattr("column", bad.column);
            let _ = value.setattr("offset", py.None());
            let _ = value.setattr("path", py.None());
            err
        }
        LogError::Io { source, error } => {
            let path = &sources[source];
            match error.raw_os_error() {
                Some(errno) => {
                    let text = error.to_string();
                    let suffix = format!(" (os error {errno})");
                    let text = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
                    PyOSError::new_err((errno, text, path.clone()))
                }
                None => PyOSError::new_err(format!("{path}: {error}")),
            }
        }
        LogError::Quarantine(e) => PyOSError::new_err(format!("quarantine file: {e}")),
        LogError::Config(message) => PyValueError::new_err(message),
    }
}

/// The running engine, as a Python iterator of `LogCompletion`s.
#[pyclass(module = "chatchunk._core")]
pub struct LogIterator {
    reader: Option<LogReader>,
    sources: Vec<String>,
}

impl LogIterator {
    fn reader(&mut self) -> PyResult<&mut LogReader> {
        self.reader
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the log was closed"))
    }

    fn batch(&mut self, py: Python<'_>, max: usize) -> PyResult<Vec<CoreLogCompletion>> {
        let reader = self.reader()?;
        match py.detach(|| reader.next_batch(max)) {
            Ok(items) => Ok(items),
            Err(e) => {
                self.reader = None;
                Err(log_error(py, &self.sources, e))
            }
        }
    }

    fn figures(&self) -> (u64, u64, u64) {
        self.reader.as_ref().map_or((0, 0, 0), |r| {
            let p = r.progress();
            (
                p.bytes_read.load(Ordering::Relaxed),
                p.streams.load(Ordering::Relaxed),
                p.lines.load(Ordering::Relaxed),
            )
        })
    }
}

fn report(py: Python<'_>, progress: Option<&Py<PyAny>>, figures: (u64, u64, u64)) -> PyResult<()> {
    if let Some(callback) = progress {
        callback.call1(py, figures)?;
    }
    Ok(())
}

const REPORT_EVERY: Duration = Duration::from_millis(200);

#[pymethods]
impl LogIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        if self.reader.is_none() {
            return Ok(None);
        }
        let reader = self.reader()?;
        let next = py.detach(|| reader.next_completion());
        match next {
            Some(Ok(item)) => log_completion(py, &self.sources, item).map(Some),
            Some(Err(e)) => {
                self.reader = None;
                Err(log_error(py, &self.sources, e))
            }
            None => Ok(None),
        }
    }

    /// Up to `n` completions; an empty list at the end.
    fn next_batch(&mut self, py: Python<'_>, n: usize) -> PyResult<Vec<Py<PyAny>>> {
        let items = self.batch(py, n.max(1))?;
        items
            .into_iter()
            .map(|item| log_completion(py, &self.sources, item))
            .collect()
    }

    /// The Arrow columns (a dict of lists, one row per (stream, choice)) of up to `n`
    /// streams; None at the end.
    fn next_columns<'py>(
        &mut self,
        py: Python<'py>,
        n: usize,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let items = self.batch(py, n.max(1))?;
        if items.is_empty() {
            return Ok(None);
        }
        super::arrow_columns::columns(py, &self.sources, items).map(Some)
    }

    /// `(bytes_read, streams, lines)` so far.
    fn progress(&self) -> (u64, u64, u64) {
        self.figures()
    }

    /// The counts once the log has been read to its end, else None.
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        match self.reader.as_ref().and_then(LogReader::counts) {
            None => Ok(None),
            Some(c) => {
                let d = PyDict::new(py);
                d.set_item("lines", c.lines)?;
                d.set_item("chunks", c.chunks)?;
                d.set_item("bad_lines", c.bad_lines)?;
                d.set_item("streams", c.streams)?;
                d.set_item("incomplete_streams", c.incomplete_streams)?;
                Ok(Some(d))
            }
        }
    }

    /// Writes every remaining completion as one JSON line to `path` (`-`: stdout), calling
    /// `progress(bytes_read, streams, lines)` now and then.
    #[pyo3(signature = (path, progress = None))]
    fn write_jsonl(
        &mut self,
        py: Python<'_>,
        path: &str,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let mut out: Box<dyn Write + Send> = if path == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(File::create(PathBuf::from(path))?)
        };
        let mut out = BufWriter::with_capacity(1 << 20, &mut out);
        let mut last = Instant::now();
        loop {
            let items = self.batch(py, 256)?;
            if items.is_empty() {
                break;
            }
            py.detach(|| -> std::io::Result<()> {
                for item in &items {
                    match &item.json {
                        Some(json) => out.write_all(json)?,
                        None => serde_json::to_writer(
                            &mut out,
                            &With(&item.completion, Mode::Lossless),
                        )?,
                    }
                    out.write_all(b"\n")?;
                }
                Ok(())
            })?;
            if last.elapsed() >= REPORT_EVERY {
                last = Instant::now();
                report(py, progress.as_ref(), self.figures())?;
                py.check_signals()?;
            }
        }
        out.flush()?;
        report(py, progress.as_ref(), self.figures())
    }

    /// Reads the rest of the log and returns `log_stats`' dict.
    #[pyo3(signature = (progress = None))]
    fn stats<'py>(
        &mut self,
        py: Python<'py>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut stats = Stats::default();
        let mut last = Instant::now();
        loop {
            let items = self.batch(py, 1024)?;
            if items.is_empty() {
                break;
            }
            items.iter().for_each(|item| stats.add(item));
            if last.elapsed() >= REPORT_EVERY {
                last = Instant::now();
                report(py, progress.as_ref(), self.figures())?;
                py.check_signals()?;
            }
        }
        report(py, progress.as_ref(), self.figures())?;
        let d = self.counts(py)?.unwrap_or_else(|| PyDict::new(py));
        let models = PyDict::new(py);
        for (name, m) in &stats.models {
            let entry = PyDict::new(py);
            entry.set_item("streams", m.streams)?;
            entry.set_item("prompt_tokens", m.prompt_tokens)?;
            entry.set_item("completion_tokens", m.completion_tokens)?;
            entry.set_item("total_tokens", m.total_tokens)?;
            entry.set_item("cached_tokens", m.cached_tokens)?;
            models.set_item(name, entry)?;
        }
        d.set_item("models", models)?;
        Ok(d)
    }

    /// Reads the rest of the log (opened with `errors="report"`) and returns every bad
    /// record as `(source, line, column, message)`, in input order.
    fn problems(&mut self, py: Python<'_>) -> PyResult<Vec<(String, u64, u64, String)>> {
        let mut bad = Vec::new();
        loop {
            let items = self.batch(py, 1024)?;
            if let Some(reader) = self.reader.as_mut() {
                bad.extend(reader.take_bad());
            }
            if items.is_empty() {
                break;
            }
        }
        Ok(bad
            .into_iter()
            .map(|b| (self.sources[b.source].clone(), b.line, b.column, b.message))
            .collect())
    }

    /// Stops the engine; further iteration ends.
    fn close(&mut self) {
        self.reader = None;
    }
}

/// Starts the engine on `inputs` (already expanded: paths or `-`).
#[pyfunction]
#[pyo3(signature = (inputs, *, key = None, chunk = None, format = "auto", threads = None, errors = "raise", quarantine = None, block_size = None, serialize = false))]
#[allow(clippy::too_many_arguments)]
pub fn open_log(
    inputs: Vec<String>,
    key: Option<String>,
    chunk: Option<String>,
    format: &str,
    threads: Option<usize>,
    errors: &str,
    quarantine: Option<PathBuf>,
    block_size: Option<usize>,
    serialize: bool,
) -> PyResult<LogIterator> {
    let mut config = Config::new(inputs.clone());
    config.format = match format {
        "auto" => FormatChoice::Auto,
        "jsonl" => FormatChoice::Jsonl,
        "sse" => FormatChoice::Sse,
        other => {
            return Err(PyValueError::new_err(format!(
                "format must be 'auto', 'jsonl' or 'sse', not {other:?}"
            )))
        }
    };
    config.errors = match errors {
        "raise" => ErrorMode::Raise,
        "skip" => ErrorMode::Skip,
        "quarantine" => ErrorMode::Quarantine,
        "report" => ErrorMode::Report,
        other => {
            return Err(PyValueError::new_err(format!(
                "errors must be 'raise', 'skip' or 'quarantine', not {other:?}"
            )))
        }
    };
    if let Some(threads) = threads {
        if threads == 0 {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        config.threads = threads;
    }
    if let Some(size) = block_size {
        config.block_size = size;
    }
    config.key = key;
    config.chunk = chunk;
    config.quarantine = quarantine;
    config.serialize = serialize;
    let reader =
        LogReader::open(config).map_err(|e| Python::attach(|py| log_error(py, &inputs, e)))?;
    Ok(LogIterator {
        reader: Some(reader),
        sources: inputs,
    })
}
