//! The PyO3 bindings: the only part of the crate that knows about Python.

#[macro_use]
mod py_model;
mod accumulator;
mod arrow_columns;
mod chunk_classes;
mod chunk_input;
mod completion_classes;
mod errors;
mod functions;
mod input;
mod logs;
mod model_class;
mod partials;
mod shared;
mod streams;
mod templates;

use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::model::{Mode, StopReason, StopValue};
use chunk_classes::*;
use completion_classes::*;
use model_class::ModelClass;
use shared::Shared;

/// Only the extension's own (Rust) allocations; Python's are untouched.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (its Rust bindings lack the constant).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc hands freed pages back to the OS (purges them) as it goes, and the next
/// allocations fault them in again, zeroed by the kernel: that was a third of the time of
/// `chatchunk merge` on a 420 MB log (0.54 s of system time; 0.12 s without purging) and
/// most of a first `merge_log` call's. Freed memory is kept for reuse instead: peak RSS on
/// that log went from 152 to 160 MB. An explicit `MIMALLOC_PURGE_DELAY` still decides.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one number in mimalloc's option table; any thread may.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
    }
}

pub(crate) fn full_mode(exclude_none: bool) -> Mode {
    if exclude_none {
        Mode::FullExcludeNone
    } else {
        Mode::Full
    }
}

pub(crate) fn stop_reason(py: Python<'_>, value: Option<&StopReason<'_>>) -> PyResult<Py<PyAny>> {
    use pyo3::IntoPyObjectExt;
    match value.map(|s| &s.value) {
        Some(StopValue::Int(i)) => i.into_py_any(py),
        Some(StopValue::Str(s)) => s.as_str().into_py_any(py),
        None => Ok(py.None()),
    }
}

/// A Python list of views onto the items of a list inside `parent`.
pub(crate) fn wrap_list<C, P>(
    py: Python<'_>,
    parent: &Shared<P>,
    len: usize,
    item: impl for<'x> Fn(&'x P, usize) -> Option<&'x C::Value>,
) -> PyResult<Py<PyAny>>
where
    C: ModelClass + pyo3::PyClass + Into<pyo3::PyClassInitializer<C>>,
{
    let list = PyList::empty(py);
    for i in 0..len {
        if let Some(view) = parent.project_opt(|p| item(p, i)) {
            list.append(Py::new(py, C::from_shared(view))?)?;
        }
    }
    Ok(list.into_any().unbind())
}

pub(crate) fn openai_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = py.import("openai.types.chat").map_err(|e| {
        pyo3::exceptions::PyImportError::new_err(format!(
            "to_openai() needs the openai package: pip install 'chatchunk[openai]' ({e})"
        ))
    })?;
    module.getattr(name)
}

/// An openai-python model as the dict it was built from: set keys only, extras included.
pub(crate) fn openai_dump<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = pyo3::types::PyDict::new(obj.py());
    kwargs.set_item("mode", "json")?;
    kwargs.set_item("exclude_unset", true)?;
    obj.call_method("model_dump", (), Some(&kwargs))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    keep_freed_memory();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ParseError", m.py().get_type::<errors::ParseError>())?;
    m.add("StreamError", m.py().get_type::<errors::StreamError>())?;
    errors::add_stream_attributes(m.py())?;
    m.add_function(wrap_pyfunction!(functions::validate_chunks, m)?)?;
    m.add_function(wrap_pyfunction!(streams::merge, m)?)?;
    m.add_function(wrap_pyfunction!(streams::merge_sse, m)?)?;
    m.add_function(wrap_pyfunction!(streams::parse_sse, m)?)?;
    m.add_class::<accumulator::StreamAccumulator>()?;
    m.add_function(wrap_pyfunction!(logs::open_log, m)?)?;
    m.add_function(wrap_pyfunction!(logs::_log_completion, m)?)?;
    m.add_class::<logs::LogIterator>()?;
    m.add_function(wrap_pyfunction!(partials::partial_block, m)?)?;
    m.add_function(wrap_pyfunction!(partials::partial_rows, m)?)?;
    m.add_function(wrap_pyfunction!(partials::partial_block_file, m)?)?;
    m.add_function(wrap_pyfunction!(partials::_partial_block, m)?)?;
    m.add_class::<partials::PartialBlock>()?;
    m.add_class::<partials::BlockSummary>()?;
    m.add_function(wrap_pyfunction!(partials::_block_summary, m)?)?;
    m.add("LINGER", crate::log::LINGER)?;
    m.add_class::<logs::LogCompletion>()?;
    m.add_class::<ChatCompletionChunk>()?;
    m.add_class::<ChatCompletionChunkChoice>()?;
    m.add_class::<ChatCompletionChunkDelta>()?;
    m.add_class::<ChatCompletionChunkDeltaToolCall>()?;
    m.add_class::<ChatCompletionChunkDeltaToolCallFunction>()?;
    m.add_class::<FunctionCall>()?;
    m.add_class::<ChatCompletionLogProbs>()?;
    m.add_class::<ChatCompletionLogProbsContent>()?;
    m.add_class::<ChatCompletionLogProb>()?;
    m.add_class::<CompletionUsage>()?;
    m.add_class::<PromptTokensDetails>()?;
    m.add_class::<CompletionTokensDetails>()?;
    m.add_class::<ChatCompletion>()?;
    m.add_class::<ChatCompletionChoice>()?;
    m.add_class::<ChatCompletionMessage>()?;
    m.add_class::<ToolCall>()?;
    m.add_class::<ToolCallFunction>()?;
    Ok(())
}
