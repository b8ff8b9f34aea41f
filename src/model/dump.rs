//! Writing models back out, as JSON text or (through the bindings) Python dicts.

use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::field::{Arguments, Index, StopReason, StopValue, Text};
use super::json_value::JsonValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Exactly the keys and forms the source had: quoted indices, tagged stop reasons and
    /// object arguments come back as they were sent.
    Lossless,
    /// The keys the source had, with values in their canonical OpenAI form.
    Canonical,
    /// pydantic's `model_dump()`: every known key, None where absent, canonical forms.
    Full,
    /// pydantic's `model_dump(exclude_none=True)`.
    FullExcludeNone,
}

impl Mode {
    pub fn writes_absent(self) -> bool {
        self == Mode::Full
    }

    pub fn writes_null(self) -> bool {
        self != Mode::FullExcludeNone
    }
}

/// Serialisation that depends on the output mode.
pub trait Dump {
    fn dump<S: Serializer>(&self, s: S, mode: Mode) -> Result<S::Ok, S::Error>;
}

/// Adapts a `Dump` value and its mode to serde's `Serialize`.
pub struct With<'x, T: ?Sized>(pub &'x T, pub Mode);

impl<T: Dump + ?Sized> Serialize for With<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.dump(s, self.1)
    }
}

macro_rules! dump_as_serialize {
    ($($t:ty),*) => {$(
        impl Dump for $t {
            fn dump<S: Serializer>(&self, s: S, _mode: Mode) -> Result<S::Ok, S::Error> {
                self.serialize(s)
            }
        }
    )*};
}
dump_as_serialize!(u32, u64, i64, f64, JsonValue<'_>);

impl Dump for Text<'_> {
    fn dump<S: Serializer>(&self, s: S, _mode: Mode) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<T: Dump> Dump for Box<T> {
    fn dump<S: Serializer>(&self, s: S, mode: Mode) -> Result<S::Ok, S::Error> {
        (**self).dump(s, mode)
    }
}

impl<T: Dump> Dump for Vec<T> {
    fn dump<S: Serializer>(&self, s: S, mode: Mode) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for item in self {
            seq.serialize_element(&With(item, mode))?;
        }
        seq.end()
    }
}

impl Dump for Index {
    fn dump<S: Serializer>(&self, s: S, mode: Mode) -> Result<S::Ok, S::Error> {
        if self.quoted && mode == Mode::Lossless {
            s.collect_str(&self.value)
        } else {
            s.serialize_u32(self.value)
        }
    }
}

impl Dump for Arguments<'_> {
    fn dump<S: Serializer>(&self, s: S, mode: Mode) -> Result<S::Ok, S::Error> {
        match &self.sent_as_json {
            Some(value) if mode == Mode::Lossless => value.serialize(s),
            _ => s.serialize_str(self.text.as_str()),
        }
    }
}

impl Dump for StopReason<'_> {
    fn dump<S: Serializer>(&self, s: S, mode: Mode) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.tagged && mode == Mode::Lossless {
            let mut map = s.serialize_map(Some(1))?;
            match &self.value {
                StopValue::Int(i) => map.serialize_entry("Int", i)?,
                StopValue::Str(t) => map.serialize_entry("String", t.as_str())?,
            }
            map.end()
        } else {
            match &self.value {
                StopValue::Int(i) => s.serialize_i64(*i),
                StopValue::Str(t) => s.serialize_str(t.as_str()),
            }
        }
    }
}
