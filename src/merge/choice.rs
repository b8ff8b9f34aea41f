//! One choice of the stream: its message, finish and stop reasons and log probabilities.

use super::extra::LastWins;
use super::function::FunctionState;
use super::text;
use super::tool_calls::ToolCalls;
use crate::model::{
    ChunkChoice, CompletionChoice, Delta, EntryRuns, Field, Index, IntoOwned, LazyLogProbs,
    LogProbs, Message, StopReason, Text,
};
use crate::parse::LogProbsSpans;

/// Keys of a completion choice that a chunk choice does not define: an unknown chunk-choice
/// key of that name is dropped rather than written twice.
const CHOICE_KEYS: &[&str] = &["message"];

#[derive(Debug, Clone)]
pub(crate) struct ChoiceState {
    pub(crate) index: u32,
    role: Option<String>,
    content: Option<String>,
    refusal: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    tool_calls: ToolCalls,
    function_call: Option<FunctionState>,
    finish_reason: Option<String>,
    stop_reason: Option<StopReason<'static>>,
    logprobs: Option<LogProbsState>,
    extra: LastWins,
    message_extra: LastWins,
}

impl ChoiceState {
    pub(crate) fn new(index: u32) -> Self {
        ChoiceState {
            index,
            role: None,
            content: None,
            refusal: None,
            reasoning_content: None,
            reasoning: None,
            tool_calls: ToolCalls::default(),
            function_call: None,
            finish_reason: None,
            stop_reason: None,
            logprobs: None,
            extra: LastWins::default(),
            message_extra: LastWins::default(),
        }
    }

    pub(crate) fn has_role(&self) -> bool {
        self.role.is_some()
    }

    pub(crate) fn has_tool_call(&self, id: &str) -> bool {
        self.tool_calls.has(id)
    }

    /// A non-empty finish reason has arrived.
    pub(crate) fn is_finished(&self) -> bool {
        self.finish_reason.as_deref().is_some_and(|r| !r.is_empty())
    }

    /// Merges a choice; with `spans`, its `logprobs` are those (located in `data`), not the
    /// choice's own (see `ChunkTemplate::fill_merging`).
    #[inline]
    pub(crate) fn add(
        &mut self,
        choice: &ChunkChoice<'_>,
        spans: Option<(&Field<LogProbsSpans>, &[u8])>,
    ) {
        if let Field::Value(delta) = &choice.delta {
            self.add_delta(delta);
        }
        text::set_last(&mut self.finish_reason, &choice.finish_reason);
        if let Field::Value(stop) = &choice.stop_reason {
            // Kept in its canonical form: Atoma's {"Int": n} becomes n.
            let mut stop = stop.clone().into_owned();
            stop.tagged = false;
            self.stop_reason = Some(stop);
        }
        match spans {
            Some((Field::Value(spans), data)) => self
                .logprobs
                .get_or_insert_with(LogProbsState::default)
                .add_spans(spans, data),
            Some(_) => {}
            None => {
                if let Field::Value(logprobs) = &choice.logprobs {
                    self.logprobs
                        .get_or_insert_with(LogProbsState::default)
                        .add(logprobs);
                }
            }
        }
        if !choice.extra.is_empty() {
            self.extra.merge(&choice.extra, CHOICE_KEYS);
        }
    }

    #[inline]
    fn add_delta(&mut self, delta: &Delta<'_>) {
        text::set_once(&mut self.role, &delta.role);
        text::append(&mut self.content, &delta.content);
        text::append(&mut self.refusal, &delta.refusal);
        text::append(&mut self.reasoning_content, &delta.reasoning_content);
        text::append(&mut self.reasoning, &delta.reasoning);
        if let Field::Value(calls) = &delta.tool_calls {
            for call in calls {
                self.tool_calls.add(call);
            }
        }
        if let Field::Value(function) = &delta.function_call {
            self.function_call
                .get_or_insert_with(FunctionState::default)
                .add(function);
        }
        if !delta.extra.is_empty() {
            self.message_extra.merge(&delta.extra, &[]);
        }
    }

    /// The state as one chunk choice that has the same effect on any choice state, tool calls
    /// left out (a partial state records those as an op log: see `partial.rs`).
    pub(crate) fn snapshot(&self) -> ChunkChoice<'static> {
        let delta = Delta {
            role: text::field(self.role.clone()),
            content: text::field(self.content.clone()),
            refusal: text::field(self.refusal.clone()),
            reasoning_content: text::field(self.reasoning_content.clone()),
            reasoning: text::field(self.reasoning.clone()),
            tool_calls: Field::Absent,
            function_call: self
                .function_call
                .as_ref()
                .map_or(Field::Absent, |f| Field::Value(Box::new(f.snapshot()))),
            extra: self.message_extra.to_extra(),
        };
        ChunkChoice {
            index: Field::Value(Index::from(self.index)),
            delta: Field::Value(delta),
            finish_reason: text::field(self.finish_reason.clone()),
            logprobs: self.logprobs.as_ref().map_or(Field::Absent, |l| {
                let list = |runs: &Option<EntryRuns>| {
                    runs.as_ref()
                        .map_or(Field::Absent, |r| Field::Value(r.build()))
                };
                Field::Value(Box::new(LogProbs {
                    content: list(&l.content),
                    refusal: list(&l.refusal),
                    extra: l.extra.to_extra(),
                }))
            }),
            stop_reason: self.stop_reason.clone().map_or(Field::Absent, Field::Value),
            extra: self.extra.to_extra(),
        }
    }

    pub(crate) fn into_choice(self) -> CompletionChoice<'static> {
        let message = Message {
            content: self
                .content
                .map_or(Field::Null, |s| Field::Value(Text::from(s))),
            refusal: text::field(self.refusal),
            role: Field::Value(Text::from(
                self.role.unwrap_or_else(|| "assistant".to_owned()),
            )),
            function_call: self
                .function_call
                .map_or(Field::Absent, |f| Field::Value(f.into_delta())),
            tool_calls: self.tool_calls.into_field(),
            reasoning_content: text::field(self.reasoning_content),
            reasoning: text::field(self.reasoning),
            extra: self.message_extra.into_extra(),
        };
        CompletionChoice {
            finish_reason: self
                .finish_reason
                .map_or(Field::Null, |s| Field::Value(Text::from(s))),
            index: Field::Value(Index::from(self.index)),
            logprobs: self
                .logprobs
                .map_or(Field::Absent, |l| Field::Value(l.into_logprobs())),
            message: Field::Value(message),
            stop_reason: self.stop_reason.map_or(Field::Absent, Field::Value),
            extra: self.extra.into_extra(),
        }
    }
}

/// `logprobs.content` and `logprobs.refusal`: the non-null lists concatenated.
#[derive(Debug, Clone, Default)]
struct LogProbsState {
    content: Option<EntryRuns>,
    refusal: Option<EntryRuns>,
    extra: LastWins,
}

impl LogProbsState {
    fn add(&mut self, logprobs: &LogProbs<'_>) {
        for (kept, sent) in [
            (&mut self.content, &logprobs.content),
            (&mut self.refusal, &logprobs.refusal),
        ] {
            if let Field::Value(entries) = sent {
                kept.get_or_insert_with(EntryRuns::default)
                    .push_typed(entries);
            }
        }
        if !logprobs.extra.is_empty() {
            self.extra.merge(&logprobs.extra, &[]);
        }
    }

    /// The same as `add` for the value `spans` locates in `data`.
    fn add_spans(&mut self, spans: &LogProbsSpans, data: &[u8]) {
        for (kept, sent) in [
            (&mut self.content, &spans.content),
            (&mut self.refusal, &spans.refusal),
        ] {
            if let Field::Value(items) = sent {
                kept.get_or_insert_with(EntryRuns::default)
                    .push_json(&data[items.clone()]);
            }
        }
        if !spans.extra.is_empty() {
            self.extra.merge(&spans.extra, &[]);
        }
    }

    fn into_logprobs(self) -> LazyLogProbs<'static> {
        LazyLogProbs::merged(self.content, self.refusal, self.extra.into_extra())
    }
}
