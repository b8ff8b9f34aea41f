//! Merging the chunks of one stream into the completion they add up to.

mod choice;
mod extra;
mod function;
mod partial;
mod text;
mod tool_calls;

#[cfg(test)]
mod partial_tests;
#[cfg(test)]
mod tests;

pub use partial::{
    decode as partial_decode, encode as partial_encode, snapshot_chunk, PartialAccumulator,
    PartialError, ToolCallLog, PARTIAL_FORMAT_VERSION,
};

use choice::ChoiceState;
use extra::LastWins;

use crate::model::{Chunk, Completion, Field, IntoOwned, Text, Usage, COMPLETION_OBJECT};
use crate::parse::LogProbsSpans;

/// Merges the chunks of ONE stream, in arrival order, into a [`Completion`].
///
/// The rules:
///
/// * `id`, `model`, `system_fingerprint`, `service_tier`: the first non-empty value; `created`:
///   the first non-zero one. (Azure's first chunk carries `""`, `""` and `0` with nothing
///   but `prompt_filter_results`.) A value only ever sent empty counts as never sent.
/// * Choices are keyed by `index` (missing or null counts as 0), whatever order they arrive
///   in; the result is sorted by index. Storage never depends on the index value.
/// * `message.role`: the first non-empty value. `content`, `refusal`, `reasoning_content`,
///   `reasoning`: the fragments concatenated in arrival order; a null is not a fragment,
///   `""` is.
/// * `tool_calls`: keyed by their logical `index`, never by list position; see
///   `ToolCalls::add` in `tool_calls.rs` for how each entry finds its call. `id`, `type` and
///   `function.name` are set once (first non-empty value), `function.arguments` fragments
///   are concatenated (object-valued arguments as compact JSON text). Sorted by index, then
///   by arrival.
/// * Legacy `function_call`: name set once, arguments concatenated.
/// * `finish_reason`, `stop_reason`: the last non-null value (`stop_reason` in its canonical
///   form: Atoma's `{"Int": n}` becomes `n`).
/// * `logprobs.content`, `logprobs.refusal`: the non-null lists concatenated; `logprobs`
///   stays absent until a non-null one arrives.
/// * `usage`: the last non-null report, whether on a content chunk (vLLM's continuous
///   usage) or on the final usage-only chunk. Reports are cumulative: never added up.
/// * Unknown keys: each keeps the LAST value it was sent with, at the level it was sent at:
///   chunk → completion, choice → choice, delta → message, tool call → tool call,
///   `function`/`function_call` → the same object, `logprobs` → `logprobs`. Keys keep the
///   order they first appeared in. An unknown choice key named `message` is dropped: the
///   completion choice defines that key itself.
///
/// What the result holds for values never sent is described in [`crate::model::Completion`]'s
/// module: `finish_reason` and `content` are null, `role` is `"assistant"`, a tool call's
/// `type` is `"function"`, arguments are `""`, the rest is absent.
///
/// Merging copies only what it keeps: text is appended from the borrowed chunk straight
/// into growing buffers, repeated values (ids, names, unchanged extras) cost a comparison.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    chunks: u64,
    id: Option<String>,
    model: Option<String>,
    created: Option<i64>,
    system_fingerprint: Option<String>,
    service_tier: Option<String>,
    /// Sorted by index; a stream has few choices, so a sorted Vec beats a map.
    choices: Vec<ChoiceState>,
    /// Position in `choices` of the choice merged last (the next chunk is likely for it).
    last_choice: usize,
    usage: Option<Usage<'static>>,
    extra: LastWins,
}

impl Accumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Merges one parsed chunk.
    pub fn add(&mut self, chunk: &Chunk<'_>) {
        self.add_with_spans(chunk, &[], &[]);
    }

    /// Merges a chunk whose choices at the positions listed in `spans` have their
    /// `logprobs` there, located in `data` and validated, instead of in the chunk (see
    /// `ChunkTemplate::fill_merging`).
    #[inline]
    pub fn add_with_spans(
        &mut self,
        chunk: &Chunk<'_>,
        spans: &[(usize, Field<LogProbsSpans>)],
        data: &[u8],
    ) {
        self.chunks += 1;
        text::set_once(&mut self.id, &chunk.id);
        text::set_once(&mut self.model, &chunk.model);
        text::set_once(&mut self.system_fingerprint, &chunk.system_fingerprint);
        text::set_once(&mut self.service_tier, &chunk.service_tier);
        if self.created.is_none() {
            if let Field::Value(created) = chunk.created {
                if created != 0 {
                    self.created = Some(created);
                }
            }
        }
        if let Field::Value(choices) = &chunk.choices {
            for (position, choice) in choices.iter().enumerate() {
                let index = choice.index.get().map_or(0, |i| i.value);
                let slot = self.choice_slot(index);
                let spans = spans
                    .iter()
                    .find(|(p, _)| *p == position)
                    .map(|(_, s)| (s, data));
                self.choices[slot].add(choice, spans);
            }
        }
        if let Field::Value(usage) = &chunk.usage {
            self.usage = Some((**usage).clone().into_owned());
        }
        if !chunk.extra.is_empty() {
            self.extra.merge(&chunk.extra, &[]);
        }
    }

    /// Whether `chunk` opens something in this stream: a choice's first role, or a tool
    /// call whose id the stream has not sent yet. The chunks that follow in the message or
    /// call carry neither, so its layout is seldom seen again, unless the server repeats
    /// them on every chunk, which its next chunk then shows.
    pub fn opens_something(&self, chunk: &Chunk<'_>) -> bool {
        chunk.choices.get().into_iter().flatten().any(|choice| {
            let Some(delta) = choice.delta.get() else {
                return false;
            };
            let index = choice.index.get().map_or(0, |i| i.value);
            let state = self.position(index).ok().map(|slot| &self.choices[slot]);
            let new_role = delta.role.get().is_some_and(|r| !r.as_str().is_empty())
                && !state.is_some_and(ChoiceState::has_role);
            new_role
                || delta.tool_calls.get().into_iter().flatten().any(|call| {
                    call.id.get().is_some_and(|id| {
                        !id.as_str().is_empty()
                            && !state.is_some_and(|s| s.has_tool_call(id.as_str()))
                    })
                })
        })
    }

    /// Position of the choice with `index`, created if new.
    #[inline]
    fn choice_slot(&mut self, index: u32) -> usize {
        if self
            .choices
            .get(self.last_choice)
            .is_some_and(|c| c.index == index)
        {
            return self.last_choice;
        }
        let slot = match self.position(index) {
            Ok(slot) => slot,
            Err(slot) => {
                self.choices.insert(slot, ChoiceState::new(index));
                slot
            }
        };
        self.last_choice = slot;
        slot
    }

    /// Where the choice with `index` is in `choices`, or would go.
    #[inline]
    fn position(&self, index: u32) -> Result<usize, usize> {
        self.choices.binary_search_by_key(&index, |c| c.index)
    }

    /// The completion merged so far. Callable at any time; merging can go on afterwards.
    pub fn completion(&self) -> Completion<'static> {
        self.clone().into_completion()
    }

    /// The completion merged so far, without copying it.
    pub fn into_completion(self) -> Completion<'static> {
        Completion {
            id: text::field(self.id),
            choices: Field::Value(
                self.choices
                    .into_iter()
                    .map(ChoiceState::into_choice)
                    .collect(),
            ),
            created: self.created.map_or(Field::Absent, Field::Value),
            model: text::field(self.model),
            object: Field::Value(Text::from(COMPLETION_OBJECT)),
            service_tier: text::field(self.service_tier),
            system_fingerprint: text::field(self.system_fingerprint),
            usage: self.usage.map_or(Field::Absent, Field::Value),
            extra: self.extra.into_extra(),
        }
    }

    /// How many chunks were merged.
    pub fn chunk_count(&self) -> u64 {
        self.chunks
    }

    /// Whether the stream looks complete: at least one choice, every choice has a non-empty
    /// `finish_reason`, and a usage report has arrived.
    ///
    /// Deliberately simple: a stream that never reports usage (no
    /// `stream_options.include_usage`) is never "finished" here; its end is `data: [DONE]`
    /// or the end of the input, which the caller sees.
    pub fn is_finished(&self) -> bool {
        self.choices_finished() && self.usage.is_some()
    }

    /// At least one choice, and every choice has a non-empty `finish_reason`.
    pub fn choices_finished(&self) -> bool {
        !self.choices.is_empty() && self.choices.iter().all(ChoiceState::is_finished)
    }
}
