//! Small helpers for merged text values.

use crate::model::{Field, Text};

/// Appends a text fragment: `None` until a fragment (even `""`) arrives; null adds nothing.
#[inline]
pub(crate) fn append(buffer: &mut Option<String>, fragment: &Field<Text<'_>>) {
    if let Field::Value(text) = fragment {
        buffer
            .get_or_insert_with(|| String::with_capacity(text.as_str().len().max(64)))
            .push_str(text.as_str());
    }
}

/// Keeps the first non-empty value; later ones are ignored.
#[inline]
pub(crate) fn set_once(slot: &mut Option<String>, value: &Field<Text<'_>>) {
    if slot.is_none() {
        if let Field::Value(text) = value {
            if !text.as_str().is_empty() {
                *slot = Some(text.as_str().to_owned());
            }
        }
    }
}

/// Keeps the last non-null value, reusing the buffer (no allocation when it repeats).
#[inline]
pub(crate) fn set_last(slot: &mut Option<String>, value: &Field<Text<'_>>) {
    if let Field::Value(text) = value {
        match slot {
            Some(kept) if kept.as_str() == text.as_str() => {}
            Some(kept) => {
                kept.clear();
                kept.push_str(text.as_str());
            }
            None => *slot = Some(text.as_str().to_owned()),
        }
    }
}

/// A merged optional text as a model field: absent when never sent.
#[inline]
pub(crate) fn field(value: Option<String>) -> Field<Text<'static>> {
    value.map_or(Field::Absent, |s| Field::Value(Text::from(s)))
}
