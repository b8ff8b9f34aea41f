//! Typed parsing straight from bytes: each model type reads itself off a `Reader`, with no
//! visitor layers in between. Anything unusual is a `Reject`, and the caller falls back to
//! serde_json, which either accepts (the same value) or explains the error.

use crate::model::{
    is_strict, Arguments, Field, Index, JsonValue, StopReason, StopValue, Text, MAX_DEPTH,
};

use super::reader::{Reader, Reject, Result};

pub trait FastParse<'a>: Sized {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self>;
}

/// A whole document: one value, then only whitespace.
pub fn parse_document<'a, T: FastParse<'a>>(input: &'a [u8]) -> Result<T> {
    let mut reader = Reader::new(input);
    let value = T::fast_parse(&mut reader)?;
    reader.end()?;
    Ok(value)
}

impl<'a> FastParse<'a> for Text<'a> {
    #[inline]
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        r.string()
    }
}

impl<'a> FastParse<'a> for u64 {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        r.u64()
    }
}

impl<'a> FastParse<'a> for i64 {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        r.i64()
    }
}

impl<'a> FastParse<'a> for f64 {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        r.f64()
    }
}

impl<'a, T: FastParse<'a>> FastParse<'a> for Field<T> {
    #[inline]
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        if r.null()? {
            Ok(Field::Null)
        } else {
            T::fast_parse(r).map(Field::Value)
        }
    }
}

impl<'a, T: FastParse<'a>> FastParse<'a> for Box<T> {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        T::fast_parse(r).map(Box::new)
    }
}

impl<'a, T: FastParse<'a>> FastParse<'a> for Vec<T> {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        // Sized for what streams send: one choice or tool call per chunk, a few top
        // logprobs, a token's handful of bytes. Fewer reallocations than growing from zero.
        let capacity = match size_of::<T>() {
            0..=16 => 8,
            17..=128 => 4,
            _ => 1,
        };
        let mut items = Vec::with_capacity(capacity);
        r.array(|r| {
            items.push(T::fast_parse(r)?);
            Ok(())
        })?;
        Ok(items)
    }
}

impl<'a> FastParse<'a> for Index {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        if r.peek() == Some(b'"') {
            // Lenient digit strings, canonical only ("7", not "07"), so that writing back
            // is lossless; strict parsing leaves the error to the slow path.
            if is_strict() {
                return Err(Reject);
            }
            return Index::from_digits(r.string()?.as_str()).ok_or(Reject);
        }
        u32::try_from(r.u64()?).map(Index::from).map_err(|_| Reject)
    }
}

impl<'a> FastParse<'a> for Arguments<'a> {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        match r.peek() {
            Some(b'"') => Ok(Arguments {
                text: r.string()?,
                sent_as_json: None,
            }),
            Some(b'{' | b'[') if !is_strict() => {
                let value = JsonValue::fast_parse(r)?;
                Ok(Arguments {
                    text: Text::from(value.to_compact_json()),
                    sent_as_json: Some(Box::new(value)),
                })
            }
            _ => Err(Reject),
        }
    }
}

impl<'a> FastParse<'a> for StopReason<'a> {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        let plain = |value| StopReason {
            value,
            tagged: false,
        };
        match r.peek() {
            Some(b'"') => Ok(plain(StopValue::Str(r.string()?))),
            Some(b'{') => {
                let mut value = None;
                r.object(|r, tag| {
                    if value.is_some() {
                        return Err(Reject);
                    }
                    value = Some(match tag.as_str() {
                        "Int" => StopValue::Int(r.i64()?),
                        "String" => StopValue::Str(r.string()?),
                        _ => return Err(Reject),
                    });
                    Ok(())
                })?;
                Ok(StopReason {
                    value: value.ok_or(Reject)?,
                    tagged: true,
                })
            }
            _ => Ok(plain(StopValue::Int(r.i64()?))),
        }
    }
}

impl<'a> FastParse<'a> for JsonValue<'a> {
    fn fast_parse(r: &mut Reader<'a>) -> Result<Self> {
        json_value(r, 0)
    }
}

fn json_value<'a>(r: &mut Reader<'a>, depth: usize) -> Result<JsonValue<'a>> {
    Ok(match r.peek().ok_or(Reject)? {
        b'"' => JsonValue::Str(r.string()?),
        b'n' => {
            r.null()?;
            JsonValue::Null
        }
        b't' | b'f' => JsonValue::Bool(r.boolean()?),
        b'[' | b'{' if depth >= MAX_DEPTH => return Err(Reject),
        b'[' => {
            let mut items = Vec::new();
            r.array(|r| {
                items.push(json_value(r, depth + 1)?);
                Ok(())
            })?;
            JsonValue::Array(items)
        }
        b'{' => {
            let mut entries = Vec::new();
            r.object(|r, key| {
                entries.push((key, json_value(r, depth + 1)?));
                Ok(())
            })?;
            JsonValue::Object(entries)
        }
        _ => {
            // serde_json's number model: non-negative integers as u64, negative as i64,
            // anything else (fractions, exponents, overflow) as f64.
            let n = r.number()?;
            if n.integer {
                if let Ok(u) = n.text.parse::<u64>() {
                    return Ok(JsonValue::UInt(u));
                }
                if let Ok(i) = n.text.parse::<i64>() {
                    return Ok(JsonValue::Int(i));
                }
            }
            let f: f64 = n.text.parse().map_err(|_| Reject)?;
            if !f.is_finite() {
                return Err(Reject);
            }
            JsonValue::Float(f)
        }
    })
}
