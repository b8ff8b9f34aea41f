//! A merged choice's log probabilities, typed when first read.
//!
//! A stream with log probabilities sends token entries in every chunk, and building each
//! entry (a string and a vector per token and per alternative) costs more than everything
//! else a merge does. So the merge may keep entries as their JSON text, already validated
//! as the parser reads them (`parse::logprobs_spans`), and the typed entries are built the
//! first time anything reads them: attributes, dumps, equality. Most merged completions
//! are never read token by token.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serializer};

use super::chunk::{LogProbContent, LogProbs};
use super::dump::{Dump, Mode};
use super::field::{Field, IntoOwned};
use super::json_value::Extra;

/// Token entries in arrival order: runs of typed entries and of JSON text.
#[derive(Debug, Clone, Default)]
pub struct EntryRuns(Vec<Run>);

#[derive(Debug, Clone)]
enum Run {
    Typed(Vec<LogProbContent<'static>>),
    /// `[` then the entries' JSON text separated by commas, without the closing `]`.
    Json(Vec<u8>),
}

impl EntryRuns {
    pub fn push_typed(&mut self, entries: &[LogProbContent<'_>]) {
        if entries.is_empty() {
            return;
        }
        let owned = entries.iter().map(IntoOwned::to_owned_copy);
        match self.0.last_mut() {
            Some(Run::Typed(kept)) => kept.extend(owned),
            _ => self.0.push(Run::Typed(owned.collect())),
        }
    }

    /// `items` is the text between the brackets of a JSON array of entries that
    /// `parse::logprobs_spans` validated.
    pub fn push_json(&mut self, items: &[u8]) {
        let items = items.trim_ascii();
        if items.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some(Run::Json(text)) => {
                text.push(b',');
                text.extend_from_slice(items);
            }
            _ => {
                // Room for a long stream's entries from the start: growing a buffer copies it.
                let mut text = Vec::with_capacity(64 * 1024);
                text.push(b'[');
                text.extend_from_slice(items);
                self.0.push(Run::Json(text));
            }
        }
    }

    pub fn build(&self) -> Vec<LogProbContent<'static>> {
        let mut entries = Vec::new();
        for run in &self.0 {
            match run {
                Run::Typed(typed) => entries.extend(typed.iter().cloned()),
                Run::Json(text) => {
                    let mut text = text.clone();
                    text.push(b']');
                    // The text was validated by the reader that parses it here, so this
                    // cannot fail; were it to, the entries would be missing, not a panic.
                    if let Ok(parsed) = crate::parse::parse::<Vec<LogProbContent<'_>>>(&text, false)
                    {
                        entries.extend(parsed.into_iter().map(IntoOwned::into_owned));
                    }
                }
            }
        }
        entries
    }
}

/// What a merge kept, and its typed form once built.
#[derive(Debug, Clone)]
struct Merged {
    content: Option<EntryRuns>,
    refusal: Option<EntryRuns>,
    extra: Extra<'static>,
    built: OnceLock<LogProbs<'static>>,
}

/// `logprobs` of a completion choice: a [`LogProbs`] (reached through `Deref`), built from
/// merged entries on first access when the merge kept them as text.
#[derive(Clone)]
pub struct LazyLogProbs<'a>(Inner<'a>);

// A `OnceLock` of a borrowing type would make completions invariant in their lifetime:
// only the owned, merged form is built lazily.
#[derive(Clone)]
enum Inner<'a> {
    Typed(LogProbs<'a>),
    Merged(Box<Merged>),
}

impl LazyLogProbs<'static> {
    /// The lists merged (`None`: never sent) and the extras, typed when first read.
    pub fn merged(
        content: Option<EntryRuns>,
        refusal: Option<EntryRuns>,
        extra: Extra<'static>,
    ) -> Self {
        LazyLogProbs(Inner::Merged(Box::new(Merged {
            content,
            refusal,
            extra,
            built: OnceLock::new(),
        })))
    }
}

impl<'a> From<LogProbs<'a>> for LazyLogProbs<'a> {
    fn from(value: LogProbs<'a>) -> Self {
        LazyLogProbs(Inner::Typed(value))
    }
}

impl<'a> Deref for LazyLogProbs<'a> {
    type Target = LogProbs<'a>;
    fn deref(&self) -> &LogProbs<'a> {
        match &self.0 {
            Inner::Typed(value) => value,
            Inner::Merged(merged) => merged.built.get_or_init(|| {
                let list = |runs: &Option<EntryRuns>| {
                    runs.as_ref()
                        .map_or(Field::Absent, |r| Field::Value(r.build()))
                };
                LogProbs {
                    content: list(&merged.content),
                    refusal: list(&merged.refusal),
                    extra: merged.extra.clone(),
                }
            }),
        }
    }
}

impl<'a> Borrow<LogProbs<'a>> for LazyLogProbs<'a> {
    fn borrow(&self) -> &LogProbs<'a> {
        self
    }
}

impl PartialEq for LazyLogProbs<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for LazyLogProbs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl IntoOwned for LazyLogProbs<'_> {
    type Owned = LazyLogProbs<'static>;
    fn into_owned(self) -> LazyLogProbs<'static> {
        LazyLogProbs(match self.0 {
            Inner::Typed(value) => Inner::Typed(value.into_owned()),
            Inner::Merged(merged) => Inner::Merged(merged),
        })
    }
}

impl<'a> crate::parse::FastParse<'a> for LazyLogProbs<'a> {
    fn fast_parse(r: &mut crate::parse::Reader<'a>) -> crate::parse::FastResult<Self> {
        LogProbs::fast_parse(r).map(LazyLogProbs::from)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LazyLogProbs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LogProbs::deserialize(d).map(LazyLogProbs::from)
    }
}

impl Dump for LazyLogProbs<'_> {
    fn dump<S: Serializer>(&self, s: S, mode: Mode) -> Result<S::Ok, S::Error> {
        (**self).dump(s, mode)
    }
}
