//! `py_model!` turns a core model type into a frozen Python class with attribute getters
//! named as on the wire and the shared protocol of `model_class`.

macro_rules! py_model {
    (
        $(#[$doc:meta])*
        class $py:ident($rust:ident) {
            $( $key:literal => $field:ident : $kind:ident $(($class:ident))?, )*
        }
        $(openai = $openai:literal;)?
        $(templates = $templates:path;)?
    ) => {
        $(#[$doc])*
        #[pyo3::pyclass(module = "chatchunk", frozen, subclass)]
        pub struct $py {
            inner: $crate::python::shared::Shared<$crate::model::$rust<'static>>,
        }

        impl $crate::python::model_class::ModelClass for $py {
            type Value = $crate::model::$rust<'static>;
            const FIELDS: &'static [&'static str] = &[$($key),*];

            fn shared(&self) -> &$crate::python::shared::Shared<Self::Value> {
                &self.inner
            }
            fn from_shared(inner: $crate::python::shared::Shared<Self::Value>) -> Self {
                $py { inner }
            }
            fn extra(&self) -> &$crate::model::Extra<'static> {
                &self.inner.extra
            }
            fn from_template(
                _bytes: &[u8],
            ) -> Option<$crate::python::shared::Shared<Self::Value>> {
                py_model_templates!(lookup(_bytes) $(, $templates)?)
            }
            fn remember(_bytes: &[u8], _value: &Self::Value) {
                py_model_templates!(remember(_bytes, _value) $(, $templates)?)
            }
            fn parse(
                bytes: &'static [u8],
                strict: bool,
            ) -> Result<Self::Value, $crate::errors::ParseError> {
                $crate::parse::parse::<$crate::model::$rust<'static>>(bytes, strict)
            }
        }

        #[pyo3::pymethods]
        impl $py {
            $(
                #[getter]
                #[pyo3(name = $key)]
                fn $field(&self, py: pyo3::Python<'_>) -> pyo3::PyResult<pyo3::Py<pyo3::PyAny>> {
                    py_getter!(py, self.inner, $field, $kind $(($class))?)
                }
            )*

            #[new]
            #[pyo3(signature = (**fields))]
            fn __new__(
                py: pyo3::Python<'_>,
                fields: Option<&pyo3::Bound<'_, pyo3::types::PyDict>>,
            ) -> pyo3::PyResult<Self> {
                $crate::python::model_class::construct(py, fields)
            }

            /// Parse JSON text (str, bytes, bytearray or memoryview).
            #[classmethod]
            #[pyo3(signature = (data, *, strict = false))]
            fn from_json(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                data: &pyo3::Bound<'_, pyo3::PyAny>,
                strict: bool,
            ) -> pyo3::PyResult<Self> {
                $crate::python::model_class::from_json(data, strict)
            }

            /// Alias of `from_json`, as in pydantic.
            #[classmethod]
            #[pyo3(signature = (data, *, strict = false))]
            fn model_validate_json(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                data: &pyo3::Bound<'_, pyo3::PyAny>,
                strict: bool,
            ) -> pyo3::PyResult<Self> {
                $crate::python::model_class::from_json(data, strict)
            }

            /// Build from a dict of JSON-compatible values.
            #[classmethod]
            #[pyo3(signature = (obj, *, strict = false))]
            fn from_dict(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                obj: &pyo3::Bound<'_, pyo3::PyAny>,
                strict: bool,
            ) -> pyo3::PyResult<Self> {
                $crate::python::model_class::from_python(obj, strict)
            }

            /// Alias of `from_dict`, as in pydantic.
            #[classmethod]
            #[pyo3(signature = (obj, *, strict = false))]
            fn model_validate(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                obj: &pyo3::Bound<'_, pyo3::PyAny>,
                strict: bool,
            ) -> pyo3::PyResult<Self> {
                $crate::python::model_class::from_python(obj, strict)
            }

            /// Exactly the keys and values the source had, extras included.
            fn to_dict<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                $crate::python::model_class::dump(py, self, $crate::model::Mode::Lossless)
            }

            /// Compact JSON text of `to_dict()`.
            fn to_json(&self) -> pyo3::PyResult<String> {
                $crate::python::model_class::dump_json(self, $crate::model::Mode::Lossless, None)
            }

            /// Every known field (None where absent) plus extras, as pydantic's model_dump.
            #[pyo3(signature = (*, exclude_none = false))]
            fn model_dump<'py>(
                &self,
                py: pyo3::Python<'py>,
                exclude_none: bool,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                $crate::python::model_class::dump(py, self, $crate::python::full_mode(exclude_none))
            }

            #[pyo3(signature = (*, exclude_none = false, indent = None))]
            fn model_dump_json(
                &self,
                exclude_none: bool,
                indent: Option<usize>,
            ) -> pyo3::PyResult<String> {
                $crate::python::model_class::dump_json(
                    self,
                    $crate::python::full_mode(exclude_none),
                    indent,
                )
            }

            /// Keys the source had that this model does not define.
            #[getter]
            fn extra<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyDict>> {
                $crate::python::model_class::extra(py, self)
            }

            fn __eq__(&self, other: &pyo3::Bound<'_, pyo3::PyAny>) -> pyo3::Py<pyo3::PyAny> {
                $crate::python::model_class::equals(self, other)
            }

            fn __repr__(slf: &pyo3::Bound<'_, Self>) -> pyo3::PyResult<String> {
                $crate::python::model_class::repr(slf)
            }

            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::types::PyTuple>> {
                $crate::python::model_class::reduce(slf)
            }

            /// Immutable: a copy is the object itself.
            fn __copy__(slf: pyo3::Bound<'_, Self>) -> pyo3::Bound<'_, Self> {
                slf
            }

            fn __deepcopy__<'py>(
                slf: pyo3::Bound<'py, Self>,
                _memo: &pyo3::Bound<'py, pyo3::PyAny>,
            ) -> pyo3::Bound<'py, Self> {
                slf
            }

            $(
                /// The equivalent openai-python model (needs the `openai` package).
                fn to_openai<'py>(
                    &self,
                    py: pyo3::Python<'py>,
                ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                    let data =
                        $crate::python::model_class::dump(py, self, $crate::model::Mode::Canonical)?;
                    $crate::python::openai_class(py, $openai)?.call_method1("model_validate", (data,))
                }

                /// Build from an openai-python model instance.
                #[classmethod]
                fn from_openai(
                    _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                    obj: &pyo3::Bound<'_, pyo3::PyAny>,
                ) -> pyo3::PyResult<Self> {
                    let data = $crate::python::openai_dump(obj)?;
                    let _ = $openai;
                    $crate::python::model_class::from_python(&data, false)
                }
            )?
        }
    };
}

/// A class's use of layout templates: the named module's function, or nothing.
macro_rules! py_model_templates {
    (lookup($bytes:ident)) => {
        None
    };
    (remember($bytes:ident, $value:ident)) => {
        ()
    };
    ($function:ident($($arg:ident),*), $templates:path) => {{
        use $templates as templates;
        templates::$function($($arg),*)
    }};
}

/// One getter body per kind of field.
macro_rules! py_getter {
    ($py:ident, $inner:expr, $field:ident, text) => {
        Ok($crate::python::model_class::text_or_none(
            $py,
            $inner.$field.get().map(|t| t.as_str()),
        ))
    };
    ($py:ident, $inner:expr, $field:ident, number) => {
        pyo3::IntoPyObjectExt::into_py_any($inner.$field.get().copied(), $py)
    };
    ($py:ident, $inner:expr, $field:ident, index) => {
        pyo3::IntoPyObjectExt::into_py_any($inner.$field.get().map(|i| i.value), $py)
    };
    ($py:ident, $inner:expr, $field:ident, arguments) => {
        Ok($crate::python::model_class::text_or_none(
            $py,
            $inner.$field.get().map(|a| a.text.as_str()),
        ))
    };
    ($py:ident, $inner:expr, $field:ident, stop_reason) => {
        $crate::python::stop_reason($py, $inner.$field.get())
    };
    ($py:ident, $inner:expr, $field:ident, int_list) => {
        pyo3::IntoPyObjectExt::into_py_any($inner.$field.get(), $py)
    };
    ($py:ident, $inner:expr, $field:ident, object($class:ident)) => {
        match $inner.project_opt(|v| v.$field.get().map(std::borrow::Borrow::borrow)) {
            Some(shared) => pyo3::IntoPyObjectExt::into_py_any(
                <$class as $crate::python::model_class::ModelClass>::from_shared(shared),
                $py,
            ),
            None => Ok($py.None()),
        }
    };
    ($py:ident, $inner:expr, $field:ident, list($class:ident)) => {
        match $inner.$field.get() {
            Some(items) => {
                $crate::python::wrap_list::<$class, _>($py, &$inner, items.len(), |v, i| {
                    v.$field.get().and_then(|l| l.get(i))
                })
            }
            None => Ok($py.None()),
        }
    };
    ($py:ident, $inner:expr, $field:ident, list_or_empty($class:ident)) => {
        $crate::python::wrap_list::<$class, _>(
            $py,
            &$inner,
            $inner.$field.get().map_or(0, Vec::len),
            |v, i| v.$field.get().and_then(|l| l.get(i)),
        )
    };
}
