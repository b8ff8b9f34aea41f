//! The rows of merged streams as Arrow buffers: `merge_log_arrow`'s and the Dask frames'
//! columns, built in Rust and handed to pyarrow as they are (`chatchunk._log.arrow_batch`
//! wraps them without a copy), rather than as Python lists pyarrow then converts (a
//! Python string per text value was most of the time it took).
//!
//! Each column is a tuple: `("utf8", length, nulls, validity, offsets, data)`,
//! `("int64", length, nulls, validity, values)`, `("bool", length, 0, None, values)`, or for
//! `tool_calls` `("list", length, nulls, validity, offsets, {field: utf8 column})`. A
//! validity bitmap is None when there are no nulls. Offsets are little-endian i32, values
//! little-endian i64, bitmaps least significant bit first, as Arrow lays them out.
//!
//! Each buffer is an [`ArrowBuffer`]: the vector the column was built in, which pyarrow
//! reads in place (`pyarrow.foreign_buffer`) and keeps alive as long as it needs it. A
//! `bytes` copy cost a second copy of the text and, being large, a fresh `mmap` from the C
//! allocator every time, its pages faulted in anew (hundreds of faults per Dask split).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::log::LogCompletion;
use crate::model::{Completion, CompletionChoice, StopValue};

/// Bytes built in Rust, lent to pyarrow without a copy: it reads them at `address`, and
/// holds this object until it no longer does.
#[pyclass(frozen, module = "chatchunk._core")]
pub(crate) struct ArrowBuffer {
    bytes: Vec<u8>,
}

impl ArrowBuffer {
    fn new(py: Python<'_>, mut bytes: Vec<u8>) -> PyResult<Bound<'_, ArrowBuffer>> {
        // An empty vector has no allocation, only a dangling address: give it one.
        bytes.reserve(1);
        Bound::new(py, ArrowBuffer { bytes })
    }
}

#[pymethods]
impl ArrowBuffer {
    #[getter]
    fn address(&self) -> usize {
        self.bytes.as_ptr() as usize
    }

    #[getter]
    fn size(&self) -> usize {
        self.bytes.len()
    }
}

/// A validity (or boolean) bitmap.
#[derive(Default)]
struct Bitmap {
    bytes: Vec<u8>,
    len: usize,
    unset: usize,
}

impl Bitmap {
    fn push(&mut self, set: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if set {
            self.bytes[self.len / 8] |= 1 << (self.len % 8);
        } else {
            self.unset += 1;
        }
        self.len += 1;
    }

    /// The bitmap, None when every bit is set (no nulls).
    fn validity(self, py: Python<'_>) -> PyResult<Option<Bound<'_, ArrowBuffer>>> {
        (self.unset > 0)
            .then(|| ArrowBuffer::new(py, self.bytes))
            .transpose()
    }
}

/// Offsets start at 0, before the first value's end.
fn offsets() -> Vec<u8> {
    0i32.to_le_bytes().to_vec()
}

struct Utf8 {
    offsets: Vec<u8>,
    data: Vec<u8>,
    valid: Bitmap,
}

impl Default for Utf8 {
    fn default() -> Self {
        Utf8 {
            offsets: offsets(),
            data: Vec::new(),
            valid: Bitmap::default(),
        }
    }
}

/// A column's text passed the 2 GiB that 32-bit Arrow offsets reach.
struct TooMuchText;

impl Utf8 {
    fn push(&mut self, value: Option<&str>) -> Result<(), TooMuchText> {
        self.data.extend_from_slice(value.unwrap_or("").as_bytes());
        let end = i32::try_from(self.data.len()).map_err(|_| TooMuchText)?;
        self.offsets.extend_from_slice(&end.to_le_bytes());
        self.valid.push(value.is_some());
        Ok(())
    }

    fn into_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        (
            "utf8",
            self.valid.len,
            self.valid.unset,
            self.valid.validity(py)?,
            ArrowBuffer::new(py, self.offsets)?,
            ArrowBuffer::new(py, self.data)?,
        )
            .into_pyobject(py)
    }
}

#[derive(Default)]
struct Int64 {
    values: Vec<u8>,
    valid: Bitmap,
}

impl Int64 {
    fn push(&mut self, value: Option<i64>) {
        self.values
            .extend_from_slice(&value.unwrap_or(0).to_le_bytes());
        self.valid.push(value.is_some());
    }

    fn into_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        (
            "int64",
            self.valid.len,
            self.valid.unset,
            self.valid.validity(py)?,
            ArrowBuffer::new(py, self.values)?,
        )
            .into_pyobject(py)
    }
}

/// `list<struct<id, type, name, arguments>>`.
struct ToolCalls {
    offsets: Vec<u8>,
    count: i32,
    valid: Bitmap,
    id: Utf8,
    kind: Utf8,
    name: Utf8,
    arguments: Utf8,
}

impl Default for ToolCalls {
    fn default() -> Self {
        ToolCalls {
            offsets: offsets(),
            count: 0,
            valid: Bitmap::default(),
            id: Utf8::default(),
            kind: Utf8::default(),
            name: Utf8::default(),
            arguments: Utf8::default(),
        }
    }
}

impl ToolCalls {
    fn push(&mut self, choice: Option<&CompletionChoice<'static>>) -> Result<(), TooMuchText> {
        let calls = choice
            .and_then(|c| c.message.get())
            .and_then(|m| m.tool_calls.get());
        for call in calls.into_iter().flatten() {
            let function = call.function.get();
            self.id.push(call.id.get().map(|t| t.as_str()))?;
            self.kind.push(call.kind.get().map(|t| t.as_str()))?;
            self.name
                .push(function.and_then(|f| f.name.get()).map(|t| t.as_str()))?;
            self.arguments.push(
                function
                    .and_then(|f| f.arguments.get())
                    .map(|a| a.text.as_str()),
            )?;
            self.count += 1;
        }
        self.offsets.extend_from_slice(&self.count.to_le_bytes());
        self.valid.push(calls.is_some());
        Ok(())
    }

    fn into_py<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let fields = PyDict::new(py);
        fields.set_item("id", self.id.into_py(py)?)?;
        fields.set_item("type", self.kind.into_py(py)?)?;
        fields.set_item("name", self.name.into_py(py)?)?;
        fields.set_item("arguments", self.arguments.into_py(py)?)?;
        (
            "list",
            self.valid.len,
            self.valid.unset,
            self.valid.validity(py)?,
            ArrowBuffer::new(py, self.offsets)?,
            fields,
        )
            .into_pyobject(py)
    }
}

fn count(value: Option<&u64>) -> Option<i64> {
    value.map(|&n| n as i64)
}

/// The Arrow columns of `items`: one row per (stream, choice), one row with a null
/// `choice_index` for a stream without choices. Built without the GIL, which a Dask
/// worker's event loop needs to serve transfers meanwhile. A large batch of `items` is
/// freed on another thread once copied: freeing the merged streams of a Dask block took a
/// fifth of its split, on the path every later task waits on. A small one costs less to
/// free here than a thread costs to start.
pub(crate) fn columns<'py>(
    py: Python<'py>,
    sources: &[String],
    items: Vec<LogCompletion>,
) -> PyResult<Bound<'py, PyDict>> {
    let built = py.detach(|| Columns::build(sources, &items));
    if items.len() >= 1024 {
        // If no thread can be started, the closure and the items with it are dropped here.
        let _ = std::thread::Builder::new().spawn(move || drop(items));
    }
    built
        .map_err(|TooMuchText| PyValueError::new_err("more than 2 GiB of text in one batch"))?
        .into_py(py)
}

/// `merge_log_arrow`'s columns, in its order.
#[derive(Default)]
struct Columns {
    id: Utf8,
    choice_index: Int64,
    model: Utf8,
    created: Int64,
    fingerprint: Utf8,
    role: Utf8,
    content: Utf8,
    reasoning: Utf8,
    refusal: Utf8,
    tool_calls: ToolCalls,
    finish: Utf8,
    stop: Utf8,
    prompt: Int64,
    completion_tokens: Int64,
    total: Int64,
    cached: Int64,
    reasoning_tokens: Int64,
    n_chunks: Int64,
    complete: Bitmap,
    source: Utf8,
    first_line: Int64,
}

impl Columns {
    fn build(sources: &[String], items: &[LogCompletion]) -> Result<Columns, TooMuchText> {
        let mut cols = Columns::default();
        for item in items {
            let c: &Completion<'static> = &item.completion;
            let usage = c.usage.get();
            let choices: &[CompletionChoice<'static>] = c.choices.get().map_or(&[], Vec::as_slice);
            for k in 0..choices.len().max(1) {
                let choice = choices.get(k);
                let message = choice.and_then(|ch| ch.message.get());
                cols.id.push(c.id.get().map(|t| t.as_str()))?;
                cols.model.push(c.model.get().map(|t| t.as_str()))?;
                cols.created.push(c.created.get().copied());
                cols.fingerprint
                    .push(c.system_fingerprint.get().map(|t| t.as_str()))?;
                cols.choice_index
                    .push(choice.map(|ch| ch.index.get().map_or(0, |i| i.value as i64)));
                cols.role
                    .push(message.and_then(|m| m.role.get()).map(|t| t.as_str()))?;
                cols.content
                    .push(message.and_then(|m| m.content.get()).map(|t| t.as_str()))?;
                cols.reasoning.push(
                    message
                        .and_then(|m| m.reasoning_content.get().or(m.reasoning.get()))
                        .map(|t| t.as_str()),
                )?;
                cols.refusal
                    .push(message.and_then(|m| m.refusal.get()).map(|t| t.as_str()))?;
                cols.tool_calls.push(choice)?;
                cols.finish.push(
                    choice
                        .and_then(|ch| ch.finish_reason.get())
                        .map(|t| t.as_str()),
                )?;
                let stop_text =
                    choice
                        .and_then(|ch| ch.stop_reason.get())
                        .map(|s| match &s.value {
                            StopValue::Int(i) => i.to_string(),
                            StopValue::Str(t) => t.as_str().to_owned(),
                        });
                cols.stop.push(stop_text.as_deref())?;
                cols.prompt
                    .push(count(usage.and_then(|u| u.prompt_tokens.get())));
                cols.completion_tokens
                    .push(count(usage.and_then(|u| u.completion_tokens.get())));
                cols.total
                    .push(count(usage.and_then(|u| u.total_tokens.get())));
                cols.cached.push(count(
                    usage
                        .and_then(|u| u.prompt_tokens_details.get())
                        .and_then(|d| d.cached_tokens.get()),
                ));
                cols.reasoning_tokens.push(count(
                    usage
                        .and_then(|u| u.completion_tokens_details.get())
                        .and_then(|d| d.reasoning_tokens.get()),
                ));
                cols.n_chunks.push(Some(item.n_chunks as i64));
                cols.complete.push(item.complete);
                cols.source.push(Some(&sources[item.source]))?;
                cols.first_line.push(Some(item.first_line as i64));
            }
        }
        Ok(cols)
    }

    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let rows = self.complete.len;
        let d = PyDict::new(py);
        d.set_item("id", self.id.into_py(py)?)?;
        d.set_item("choice_index", self.choice_index.into_py(py)?)?;
        d.set_item("model", self.model.into_py(py)?)?;
        d.set_item("created", self.created.into_py(py)?)?;
        d.set_item("system_fingerprint", self.fingerprint.into_py(py)?)?;
        d.set_item("role", self.role.into_py(py)?)?;
        d.set_item("content", self.content.into_py(py)?)?;
        d.set_item("reasoning_content", self.reasoning.into_py(py)?)?;
        d.set_item("refusal", self.refusal.into_py(py)?)?;
        d.set_item("tool_calls", self.tool_calls.into_py(py)?)?;
        d.set_item("finish_reason", self.finish.into_py(py)?)?;
        d.set_item("stop_reason", self.stop.into_py(py)?)?;
        d.set_item("prompt_tokens", self.prompt.into_py(py)?)?;
        d.set_item("completion_tokens", self.completion_tokens.into_py(py)?)?;
        d.set_item("total_tokens", self.total.into_py(py)?)?;
        d.set_item("cached_tokens", self.cached.into_py(py)?)?;
        d.set_item("reasoning_tokens", self.reasoning_tokens.into_py(py)?)?;
        d.set_item("n_chunks", self.n_chunks.into_py(py)?)?;
        let complete = (
            "bool",
            rows,
            0,
            py.None(),
            ArrowBuffer::new(py, self.complete.bytes)?,
        );
        d.set_item("complete", complete)?;
        d.set_item("source", self.source.into_py(py)?)?;
        d.set_item("first_line", self.first_line.into_py(py)?)?;
        Ok(d)
    }
}
