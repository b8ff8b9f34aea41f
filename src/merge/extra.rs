//! Unknown keys merged across chunks: each key keeps the last value it was sent with.

use std::borrow::Cow;

use crate::model::{Extra, IntoOwned, JsonValue, Text};

/// Unknown keys seen at one level of the stream, in first-seen order, each with the last
/// value it was sent with.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastWins(Vec<(Text<'static>, JsonValue<'static>)>);

impl LastWins {
    /// Takes the keys of `extra`, except those named in `reserved` (keys the merged object
    /// defines itself, so writing them would duplicate a key).
    ///
    /// A value equal to the one kept already is not copied: a server that repeats the same
    /// extra on every chunk costs a comparison, not an allocation.
    #[inline]
    pub(crate) fn merge(&mut self, extra: &Extra<'_>, reserved: &[&str]) {
        for (key, value) in &extra.0 {
            let key = key.as_str();
            if reserved.contains(&key) {
                continue;
            }
            match self.0.iter_mut().find(|(k, _)| k.as_str() == key) {
                Some((_, kept)) => assign(kept, value),
                None => self
                    .0
                    .push((Text::from(key.to_owned()), value.clone().into_owned())),
            }
        }
    }

    pub(crate) fn into_extra(self) -> Extra<'static> {
        Extra(self.0)
    }

    /// A copy of the keys kept so far (for a partial state's snapshot).
    pub(crate) fn to_extra(&self) -> Extra<'static> {
        Extra(self.0.clone())
    }
}

/// Overwrites a kept value; a changing string (an obfuscation pad, a signature) reuses the
/// kept buffer.
#[inline]
fn assign(kept: &mut JsonValue<'static>, value: &JsonValue<'_>) {
    if let (JsonValue::Str(Text(Cow::Owned(buffer))), JsonValue::Str(text)) = (&mut *kept, value) {
        if buffer.as_str() != text.as_str() {
            buffer.clear();
            buffer.push_str(text.as_str());
        }
        return;
    }
    if &*kept != value {
        *kept = value.clone().into_owned();
    }
}
