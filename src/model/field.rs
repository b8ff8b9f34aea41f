//! Value wrappers shared by every model type: presence tracking and the lenient scalar forms.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::json_value::JsonValue;
use super::strictness::is_strict;

/// A key's state in the source document. Keeping `Null` apart from `Absent` is what makes
/// `to_dict()` lossless: explicit nulls are written back, missing keys are not.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Field<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_present(&self) -> bool {
        !matches!(self, Field::Absent)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Value(v) => Field::Value(f(v)),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Field::Value(v),
            None => Field::Null,
        })
    }
}

/// Turns a borrowed value into one that owns its data, so it can outlive the input buffer.
pub trait IntoOwned {
    type Owned: 'static;
    fn into_owned(self) -> Self::Owned;

    /// An owned copy, made in one pass where `clone().into_owned()` walks the value twice.
    fn to_owned_copy(&self) -> Self::Owned
    where
        Self: Clone,
    {
        self.clone().into_owned()
    }
}

macro_rules! owned_scalar {
    ($($t:ty),*) => {$(
        impl IntoOwned for $t {
            type Owned = $t;
            fn into_owned(self) -> $t { self }
        }
    )*};
}
owned_scalar!(bool, u32, u64, i64, f64, Index);

impl<T: IntoOwned + Clone> IntoOwned for Vec<T> {
    type Owned = Vec<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.into_iter().map(IntoOwned::into_owned).collect()
    }
    fn to_owned_copy(&self) -> Self::Owned {
        self.iter().map(IntoOwned::to_owned_copy).collect()
    }
}

impl<T: IntoOwned + Clone> IntoOwned for Box<T> {
    type Owned = Box<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        Box::new((*self).into_owned())
    }
    fn to_owned_copy(&self) -> Self::Owned {
        Box::new((**self).to_owned_copy())
    }
}

impl<T: IntoOwned + Clone> IntoOwned for Field<T> {
    type Owned = Field<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.map(IntoOwned::into_owned)
    }
    fn to_owned_copy(&self) -> Self::Owned {
        match self {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Value(v) => Field::Value(v.to_owned_copy()),
        }
    }
}

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text(Cow::Borrowed(s))
    }
}

impl From<String> for Text<'static> {
    fn from(s: String) -> Self {
        Text(Cow::Owned(s))
    }
}

impl IntoOwned for Text<'_> {
    type Owned = Text<'static>;
    fn into_owned(self) -> Text<'static> {
        Text(Cow::Owned(self.0.into_owned()))
    }
    fn to_owned_copy(&self) -> Text<'static> {
        Text(Cow::Owned(self.as_str().to_owned()))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(TextVisitor(PhantomData))
    }
}

/// A choice or tool-call index. Some servers send it as a digit string (`"0"`); lenient
/// parsing accepts that and remembers it so the chunk is written back as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Index {
    pub value: u32,
    pub quoted: bool,
}

impl Index {
    /// A quoted index as lenient parsing takes it: canonical digits only ("0", "17", not
    /// "017"), so that writing it back is lossless.
    pub fn from_digits(digits: &str) -> Option<Index> {
        let canonical = !digits.is_empty()
            && digits.len() <= 10
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits.len() == 1 || !digits.starts_with('0'));
        let value = digits.parse().ok().filter(|_| canonical)?;
        Some(Index {
            value,
            quoted: true,
        })
    }
}

impl From<u32> for Index {
    fn from(value: u32) -> Self {
        Index {
            value,
            quoted: false,
        }
    }
}

impl<'de> Deserialize<'de> for Index {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IndexVisitor;
        impl Visitor<'_> for IndexVisitor {
            type Value = Index;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an index from 0 to 4294967295")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Index, E> {
                u32::try_from(v)
                    .map(Index::from)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Index, E> {
                u32::try_from(v)
                    .map(Index::from)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Index, E> {
                match Index::from_digits(v) {
                    Some(index) if !is_strict() => Ok(index),
                    _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(IndexVisitor)
    }
}

/// Tool-call arguments: a JSON-encoded string on the wire, though some servers send the
/// object itself. Lenient parsing keeps such an object as compact JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Arguments<'a> {
    pub text: Text<'a>,
    /// The object or array the source held instead of a string, if it did.
    pub sent_as_json: Option<Box<JsonValue<'a>>>,
}

impl IntoOwned for Arguments<'_> {
    type Owned = Arguments<'static>;
    fn into_owned(self) -> Arguments<'static> {
        Arguments {
            text: self.text.into_owned(),
            sent_as_json: self.sent_as_json.map(IntoOwned::into_owned),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Arguments<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match JsonValue::deserialize(d)? {
            JsonValue::Str(text) => Ok(Arguments {
                text,
                sent_as_json: None,
            }),
            value @ (JsonValue::Object(_) | JsonValue::Array(_)) if !is_strict() => Ok(Arguments {
                text: Text::from(value.to_compact_json()),
                sent_as_json: Some(Box::new(value)),
            }),
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"a string of JSON-encoded arguments",
            )),
        }
    }
}

/// vLLM's `stop_reason`: the token id or stop string that ended a choice.
#[derive(Debug, Clone, PartialEq)]
pub enum StopValue<'a> {
    Int(i64),
    Str(Text<'a>),
}

/// `stop_reason` as vLLM sends it (`128009`, `"</s>"`) or as Atoma's serde enum does
/// (`{"Int": 128009}`, `{"String": "</s>"}`); `tagged` remembers which.
#[derive(Debug, Clone, PartialEq)]
pub struct StopReason<'a> {
    pub value: StopValue<'a>,
    pub tagged: bool,
}

impl IntoOwned for StopReason<'_> {
    type Owned = StopReason<'static>;
    fn into_owned(self) -> StopReason<'static> {
        let value = match self.value {
            StopValue::Int(i) => StopValue::Int(i),
            StopValue::Str(s) => StopValue::Str(s.into_owned()),
        };
        StopReason {
            value,
            tagged: self.tagged,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StopReason<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StopVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for StopVisitor<'a> {
            type Value = StopReason<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer, a string, {\"Int\": n} or {\"String\": s}")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(plain(StopValue::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(|i| plain(StopValue::Int(i)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(plain(StopValue::Str(Text::from(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(plain(StopValue::Str(Text::from(v.to_owned()))))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let Some(tag) = map.next_key::<Text<'a>>()? else {
                    return Err(de::Error::invalid_length(0, &self));
                };
                let value = match tag.as_str() {
                    "Int" => StopValue::Int(map.next_value()?),
                    "String" => StopValue::Str(map.next_value()?),
                    other => return Err(de::Error::unknown_variant(other, &["Int", "String"])),
                };
                if map.next_key::<Text<'a>>()?.is_some() {
                    return Err(de::Error::invalid_length(2, &self));
                }
                Ok(StopReason {
                    value,
                    tagged: true,
                })
            }
        }
        fn plain(value: StopValue<'_>) -> StopReason<'_> {
            StopReason {
                value,
                tagged: false,
            }
        }
        d.deserialize_any(StopVisitor(PhantomData))
    }
}
