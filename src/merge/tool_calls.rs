//! Tool calls of one choice, assembled from `delta.tool_calls` fragments.

use super::extra::LastWins;
use super::function::FunctionState;
use super::text;
use crate::model::{Field, Text, ToolCall, ToolCallDelta};

#[derive(Debug, Clone)]
struct CallState {
    /// The logical index the call was sent (or placed) at; only used for ordering.
    index: u32,
    /// When this call last received a fragment (a counter local to the choice).
    touched: u64,
    id: Option<String>,
    kind: Option<String>,
    function: FunctionState,
    extra: LastWins,
}

/// The calls of one choice in order of arrival (the order among calls of equal index).
#[derive(Debug, Clone, Default)]
pub(crate) struct ToolCalls {
    calls: Vec<CallState>,
    /// The call that received the last fragment.
    last: Option<usize>,
    clock: u64,
}

impl ToolCalls {
    /// Merges one `tool_calls` entry. Which call it belongs to:
    ///
    /// * with an `index`: the call at that index with the same id; else the call at that
    ///   index that last received a fragment, unless both carry a non-empty id and they
    ///   differ (Ollama and litellm send index 0 for every call): then a new call starts at
    ///   the same index. An unknown index starts a new call.
    /// * without an `index` (Mistral): the call with the same id, or a new call placed after
    ///   every index seen so far when the id is new; with no id, the call that received the
    ///   last fragment (or a new call at index 0 when there is none).
    pub(crate) fn add(&mut self, entry: &ToolCallDelta<'_>) {
        let id = entry
            .id
            .get()
            .map(|t| t.as_str())
            .filter(|id| !id.is_empty());
        let slot = match entry.index.get() {
            Some(index) => self.find_at_index(index.value, id),
            None => match id {
                Some(id) => self.find(|call| call.id.as_deref() == Some(id)),
                None => self.last,
            },
        };
        let slot = match slot {
            Some(slot) => slot,
            None => {
                let index = match entry.index.get() {
                    Some(index) => index.value,
                    None => self.next_index(),
                };
                self.calls.push(CallState {
                    index,
                    touched: 0,
                    id: None,
                    kind: None,
                    function: FunctionState::default(),
                    extra: LastWins::default(),
                });
                self.calls.len() - 1
            }
        };
        self.clock += 1;
        self.last = Some(slot);
        let call = &mut self.calls[slot];
        call.touched = self.clock;
        text::set_once(&mut call.id, &entry.id);
        text::set_once(&mut call.kind, &entry.kind);
        if let Field::Value(function) = &entry.function {
            call.function.add(function);
        }
        if !entry.extra.is_empty() {
            call.extra.merge(&entry.extra, &[]);
        }
    }

    /// The call an entry sent at `index` continues, if any.
    #[inline]
    fn find_at_index(&self, index: u32, id: Option<&str>) -> Option<usize> {
        // Fast path: the entry continues the call that received the last fragment.
        if let Some(last) = self.last {
            let call = &self.calls[last];
            if call.index == index && (id.is_none() || call.id.as_deref() == id) {
                return Some(last);
            }
        }
        if let Some(id) = id {
            if let Some(slot) =
                self.find(|call| call.index == index && call.id.as_deref() == Some(id))
            {
                return Some(slot);
            }
        }
        let slot = self.find(|call| call.index == index)?;
        match (id, &self.calls[slot].id) {
            // The call at this index has started with another id: this is a new call.
            (Some(_), Some(_)) => None,
            _ => Some(slot),
        }
    }

    /// A call with this id has been sent.
    pub(crate) fn has(&self, id: &str) -> bool {
        self.calls.iter().any(|call| call.id.as_deref() == Some(id))
    }

    /// The matching call that most recently received a fragment.
    #[inline]
    fn find(&self, matches: impl Fn(&CallState) -> bool) -> Option<usize> {
        self.calls
            .iter()
            .enumerate()
            .filter(|(_, call)| matches(call))
            .max_by_key(|(_, call)| call.touched)
            .map(|(slot, _)| slot)
    }

    /// Where a call sent without an index goes: after every index seen so far.
    fn next_index(&self) -> u32 {
        self.calls
            .iter()
            .map(|call| call.index.saturating_add(1))
            .max()
            .unwrap_or(0)
    }

    /// The merged calls sorted by index, then by order of arrival; absent when none came.
    pub(crate) fn into_field(self) -> Field<Vec<ToolCall<'static>>> {
        if self.calls.is_empty() {
            return Field::Absent;
        }
        let mut calls = self.calls;
        // Stable: calls of equal index stay in order of arrival.
        calls.sort_by_key(|call| call.index);
        Field::Value(
            calls
                .into_iter()
                .map(|call| ToolCall {
                    id: text::field(call.id),
                    function: Field::Value(call.function.into_delta()),
                    // A call holding a `function` is a function call: openai requires the
                    // discriminator, some servers (Mistral) never send it.
                    kind: Field::Value(Text::from(
                        call.kind.unwrap_or_else(|| "function".to_owned()),
                    )),
                    extra: call.extra.into_extra(),
                })
                .collect(),
        )
    }
}
