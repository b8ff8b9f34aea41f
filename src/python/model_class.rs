//! What every Python model class shares: construction from JSON, dicts and keywords,
//! dumping, equality, repr and pickling. `py_model!` generates the per-class glue.

use std::fmt::Debug;

use pyo3::prelude::*;
use pyo3::pyclass::boolean_struct::True;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::PyClass;
use serde::Serialize;

use crate::errors::ParseError as CoreParseError;
use crate::model::{Dump, Extra, Mode, With};

use pyo3::exceptions::{PyTypeError, PyValueError};

use super::errors::{parse_error, ParseError};
use super::input::hold_text;
use super::shared::Shared;

pub trait ModelClass: PyClass<Frozen = True> + Sync + Sized {
    type Value: Dump + PartialEq + Debug + Send + Sync + 'static;
    const FIELDS: &'static [&'static str];

    fn shared(&self) -> &Shared<Self::Value>;
    fn from_shared(value: Shared<Self::Value>) -> Self;
    fn extra(&self) -> &Extra<'static>;
    /// The value `bytes` parses to if it has the layout of the last one parsed on this
    /// thread (chunks only: see `templates`).
    fn from_template(bytes: &[u8]) -> Option<Shared<Self::Value>>;
    /// Keeps the layout of a value just parsed from `bytes` for `from_template`.
    fn remember(bytes: &[u8], value: &Self::Value);
    /// Parses a value borrowing from `bytes` (see `Shared::parse_backed`).
    fn parse(bytes: &'static [u8], strict: bool) -> Result<Self::Value, CoreParseError>;
}

pub fn from_json<M: ModelClass>(data: &Bound<'_, PyAny>, strict: bool) -> PyResult<M> {
    let (text, bytes) = hold_text(data)?;
    // SAFETY: `bytes` points into the heap data of `text`, which stays put and alive until
    // the end of this function (moved into the `Shared` below, which lives that long).
    let slice = unsafe { &*bytes };
    // Strict parses always run in full: templates come from lenient ones.
    if !strict {
        if let Some(shared) = M::from_template(slice) {
            return Ok(M::from_shared(shared));
        }
    }
    // SAFETY: `bytes` points into `text` (a Python bytes object or a Vec's heap data), and
    // `M::parse` borrows from nothing else.
    let shared = unsafe { Shared::parse_backed(text, bytes, |bytes| M::parse(bytes, strict)) }
        .map_err(|e| parse_error(data.py(), &e))?;
    if !strict {
        M::remember(slice, &shared);
    }
    Ok(M::from_shared(shared))
}

/// Builds a model from Python values by way of their JSON text, so that a dict is held to
/// exactly the rules JSON input is (no bools for ints, no strings for lists). Positions in
/// that internal text mean nothing to the caller and are dropped; the JSON path stays.
pub fn from_python<M: ModelClass>(obj: &Bound<'_, PyAny>, strict: bool) -> PyResult<M> {
    let py = obj.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item("ensure_ascii", false)?;
    kwargs.set_item("allow_nan", false)?;
    let text = match py
        .import("json")?
        .getattr("dumps")?
        .call((obj,), Some(&kwargs))
    {
        Ok(text) => text,
        Err(e) if e.is_instance_of::<PyTypeError>(py) || e.is_instance_of::<PyValueError>(py) => {
            let message = format!("not JSON data: {}", e.value(py));
            let path = non_json_path(obj, "$".to_owned()).unwrap_or_else(|| "$".to_owned());
            return Err(parse_error(py, &CoreParseError::new(message, None, path)));
        }
        Err(e) => return Err(e),
    };
    from_json::<M>(&text, strict).inspect_err(|e| {
        if e.is_instance_of::<ParseError>(py) {
            let value = e.value(py);
            for attr in ["line", "column", "offset"] {
                let _ = value.setattr(attr, py.None());
            }
            // A lone surrogate fails before parsing, so the path comes from the dict.
            if let Some(path) = non_json_path(obj, "$".to_owned()) {
                let _ = value.setattr("path", path);
            }
        }
    })
}

/// The JSON path of the first value JSON cannot carry: not a str/int/float/bool/None/list/
/// dict, a NaN or infinity, or a str with a lone surrogate.
fn non_json_path(obj: &Bound<'_, PyAny>, path: String) -> Option<String> {
    if let Ok(dict) = obj.cast::<PyDict>() {
        return dict.iter().find_map(|(k, v)| {
            let key = k.extract::<String>().unwrap_or_default();
            non_json_path(&v, format!("{path}.{key}"))
        });
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = obj.try_iter().ok()?;
        return items
            .enumerate()
            .find_map(|(i, item)| non_json_path(&item.ok()?, format!("{path}[{i}]")));
    }
    let fine = if let Ok(text) = obj.cast::<PyString>() {
        text.to_cow().is_ok()
    } else if let Ok(number) = obj.cast::<pyo3::types::PyFloat>() {
        number.value().is_finite()
    } else {
        obj.is_none()
            || obj.is_instance_of::<pyo3::types::PyBool>()
            || obj.is_instance_of::<pyo3::types::PyInt>()
    };
    (!fine).then_some(path)
}

/// Keyword construction: nested model instances become their dicts, then the whole is
/// validated like `from_dict`.
pub fn construct<M: ModelClass>(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<M> {
    let plain = match fields {
        Some(fields) => to_plain(fields.as_any())?,
        None => PyDict::new(py).into_any(),
    };
    from_python(&plain, false)
}

fn to_plain<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    if let Ok(dict) = obj.cast::<PyDict>() {
        let out = PyDict::new(py);
        for (k, v) in dict.iter() {
            out.set_item(k, to_plain(&v)?)?;
        }
        return Ok(out.into_any());
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = obj
            .try_iter()?
            .map(|item| to_plain(&item?))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(PyList::new(py, items)?.into_any());
    }
    let is_model = obj
        .get_type()
        .module()
        .is_ok_and(|m| m.to_cow().is_ok_and(|m| m == "chatchunk"));
    if is_model && obj.hasattr("to_dict")? {
        return obj.call_method0("to_dict");
    }
    Ok(obj.clone())
}

pub fn dump<'py, M: ModelClass>(
    py: Python<'py>,
    model: &M,
    mode: Mode,
) -> PyResult<Bound<'py, PyAny>> {
    to_python(py, &With(&**model.shared(), mode))
}

pub fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(PyErr::from)
}

pub fn dump_json<M: ModelClass>(model: &M, mode: Mode, indent: Option<usize>) -> PyResult<String> {
    let value = With(&**model.shared(), mode);
    let mut out = Vec::with_capacity(256);
    let written = match indent {
        None => serde_json::to_writer(&mut out, &value),
        Some(n) => {
            let indent = " ".repeat(n);
            let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
            value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out, formatter,
            ))
        }
    };
    written.map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    // serde_json writes only valid UTF-8.
    String::from_utf8(out).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

pub fn extra<'py, M: ModelClass>(py: Python<'py>, model: &M) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (key, value) in &model.extra().0 {
        dict.set_item(key.as_str(), to_python(py, value)?)?;
    }
    Ok(dict)
}

pub fn equals<M: ModelClass>(model: &M, other: &Bound<'_, PyAny>) -> Py<PyAny> {
    let py = other.py();
    match other.cast::<M>() {
        Ok(other) => (**model.shared() == **other.get().shared())
            .into_pyobject(py)
            .map(|b| b.to_owned().into_any().unbind())
            .unwrap_or_else(|_| py.NotImplemented()),
        Err(_) => py.NotImplemented(),
    }
}

/// pydantic-style `Name(field=value, ...)`, extras last when there are any.
pub fn repr<M: ModelClass>(slf: &Bound<'_, M>) -> PyResult<String> {
    let mut parts = Vec::with_capacity(M::FIELDS.len() + 1);
    for name in M::FIELDS {
        let value = slf.as_any().getattr(*name)?;
        parts.push(format!("{name}={}", value.repr()?));
    }
    let extra = extra(slf.py(), slf.get())?;
    if !extra.is_empty() {
        parts.push(format!("extra={}", extra.repr()?));
    }
    Ok(format!(
        "{}({})",
        slf.as_any().get_type().name()?,
        parts.join(", ")
    ))
}

/// Pickles as `Class.from_json(lossless_json_bytes)`.
pub fn reduce<'py, M: ModelClass>(slf: &Bound<'py, M>) -> PyResult<Bound<'py, PyTuple>> {
    let py = slf.py();
    let json = dump_json(slf.get(), Mode::Lossless, None)?;
    let constructor = slf.as_any().get_type().getattr("from_json")?;
    let args = PyTuple::new(py, [PyBytes::new(py, json.as_bytes())])?;
    PyTuple::new(py, [constructor, args.into_any()])
}

pub fn text_or_none(py: Python<'_>, value: Option<&str>) -> Py<PyAny> {
    match value {
        Some(s) => PyString::new(py, s).into_any().unbind(),
        None => py.None(),
    }
}
