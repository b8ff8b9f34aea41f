//! Values of keys the model does not know, kept so that nothing in the input is lost.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::field::{IntoOwned, Text};

/// Nesting deeper than this inside unknown keys is rejected: recursion must never be able to
/// exhaust the stack, whichever JSON parser drives it.
pub const MAX_DEPTH: usize = 64;

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

struct DepthGuard;

impl DepthGuard {
    fn enter<E: de::Error>() -> Result<DepthGuard, E> {
        DEPTH.with(|d| {
            let depth = d.get() + 1;
            if depth > MAX_DEPTH {
                return Err(E::custom(format_args!(
                    "nesting deeper than {MAX_DEPTH} levels"
                )));
            }
            d.set(depth);
            Ok(DepthGuard)
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Text<'a>),
    Array(Vec<JsonValue<'a>>),
    /// Keys in source order; duplicates kept, as the source had them.
    Object(Vec<(Text<'a>, JsonValue<'a>)>),
}

impl JsonValue<'_> {
    pub fn to_compact_json(&self) -> String {
        serde_json::to_string(self).expect("a JsonValue always serialises")
    }

    pub fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            JsonValue::Null => de::Unexpected::Unit,
            JsonValue::Bool(b) => de::Unexpected::Bool(*b),
            JsonValue::Int(i) => de::Unexpected::Signed(*i),
            JsonValue::UInt(u) => de::Unexpected::Unsigned(*u),
            JsonValue::Float(f) => de::Unexpected::Float(*f),
            JsonValue::Str(s) => de::Unexpected::Str(s.as_str()),
            JsonValue::Array(_) => de::Unexpected::Seq,
            JsonValue::Object(_) => de::Unexpected::Map,
        }
    }
}

impl IntoOwned for JsonValue<'_> {
    type Owned = JsonValue<'static>;
    fn into_owned(self) -> JsonValue<'static> {
        match self {
            JsonValue::Null => JsonValue::Null,
            JsonValue::Bool(b) => JsonValue::Bool(b),
            JsonValue::Int(i) => JsonValue::Int(i),
            JsonValue::UInt(u) => JsonValue::UInt(u),
            JsonValue::Float(f) => JsonValue::Float(f),
            JsonValue::Str(s) => JsonValue::Str(s.into_owned()),
            JsonValue::Array(items) => JsonValue::Array(items.into_owned()),
            JsonValue::Object(entries) => JsonValue::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor(PhantomData))
    }
}

struct ValueVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ValueVisitor<'a> {
    type Value = JsonValue<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(JsonValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(JsonValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        JsonValue::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(JsonValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(JsonValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(JsonValue::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.is_finite() {
            Ok(JsonValue::Float(v))
        } else {
            Err(E::custom("number out of range"))
        }
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(JsonValue::Str(Text::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(JsonValue::Str(Text::from(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(JsonValue::Str(Text::from(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let _depth = DepthGuard::enter()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsonValue::Array(items))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let _depth = DepthGuard::enter()?;
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Text<'a>, JsonValue<'a>>()? {
            entries.push((key, value));
        }
        Ok(JsonValue::Object(entries))
    }
}

impl Serialize for JsonValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonValue::Null => s.serialize_unit(),
            JsonValue::Bool(b) => s.serialize_bool(*b),
            JsonValue::Int(i) => s.serialize_i64(*i),
            JsonValue::UInt(u) => s.serialize_u64(*u),
            JsonValue::Float(f) => s.serialize_f64(*f),
            JsonValue::Str(t) => s.serialize_str(t.as_str()),
            JsonValue::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            JsonValue::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

/// Keys an object carried that its model does not define, in source order.
#[derive(Debug, Clone, Default)]
pub struct Extra<'a>(pub Vec<(Text<'a>, JsonValue<'a>)>);

impl<'a> Extra<'a> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&JsonValue<'a>> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    pub fn to_owned_copy(&self) -> Extra<'static> {
        Extra(
            self.0
                .iter()
                .map(|(k, v)| (k.to_owned_copy(), v.to_owned_copy()))
                .collect(),
        )
    }

    pub fn into_owned(self) -> Extra<'static> {
        Extra(
            self.0
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
}

/// Key order carries no meaning in JSON, so two objects with the same extras are equal.
impl PartialEq for Extra<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().all(|(k, v)| other.get(k.as_str()) == Some(v))
    }
}
