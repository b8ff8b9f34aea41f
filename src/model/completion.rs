//! The `chat.completion` document a stream of chunks merges into.
//!
//! Keys are declared in the order of openai-python's models (`ChatCompletion`, `Choice`,
//! `ChatCompletionMessage`, `ChatCompletionMessageFunctionToolCall`), so a dump lists them as
//! `model_dump()` of the openai object would; the vendor extensions (`stop_reason`,
//! `reasoning_content`, `reasoning`) come last, where pydantic puts extra fields.
//!
//! What the merge engine ([`crate::merge::Accumulator`]) writes when a stream never sent a
//! value, chosen so that a `Mode::Canonical` dump validates as openai's `ChatCompletion`
//! whenever the stream sent an id, a model and a creation time:
//!
//! * `object` is always `"chat.completion"`.
//! * `choices[].finish_reason` and `message.content` are `Field::Null` (the keys exist,
//!   holding `null`), as openai requires them.
//! * `message.role` is `"assistant"`, the only role a completion message can have.
//! * A tool call's `type` is `"function"` (the only kind of call that holds a `function`;
//!   Mistral never sends it), and `tool_calls[].function.arguments` and
//!   `function_call.arguments` are `""` (the concatenation of no fragment): openai requires
//!   both.
//! * Everything else never sent (`refusal`, `reasoning_content`, `reasoning`, `tool_calls`,
//!   `function_call`, `logprobs`, `stop_reason`, `usage`, `id`, `model`, `created`,
//!   `system_fingerprint`, `service_tier`, a tool call's `id` or `function.name`) is
//!   `Field::Absent`, so `to_dict()` omits it: identifiers are never invented.
//!
//! openai's `finish_reason` must be one of its literals, so a stream cut before its end
//! (`finish_reason: null`) does not validate; neither does one that never sent an id,
//! model or creation time.

use super::chunk::{FunctionDelta, Usage};
use super::field::{Index, StopReason, Text};
use super::lazy::LazyLogProbs;

model! {
    /// A whole chat completion, as a non-streamed request returns it, or as the chunks of
    /// one stream merge into.
    pub struct Completion {
        "id" => id: Text<'a>,
        "choices" => choices: Vec<CompletionChoice<'a>>,
        "created" => created: i64,
        "model" => model: Text<'a>,
        "object" => object: Text<'a>,
        "service_tier" => service_tier: Text<'a>,
        "system_fingerprint" => system_fingerprint: Text<'a>,
        "usage" => usage: Usage<'a>,
    }
    required(always) = [choices];
    required(strict) = [id, choices, created, model, object];
    strict_check = check_object_type;
}

/// The `object` of every [`Completion`].
pub const COMPLETION_OBJECT: &str = "chat.completion";

fn check_object_type(completion: &Completion<'_>) -> Result<(), String> {
    match completion.object.get() {
        Some(object) if object.as_str() != COMPLETION_OBJECT => Err(format!(
            "object is {:?}, expected {COMPLETION_OBJECT:?}",
            object.as_str()
        )),
        _ => Ok(()),
    }
}

model! {
    pub struct CompletionChoice {
        "finish_reason" => finish_reason: Text<'a>,
        "index" => index: Index,
        "logprobs" => logprobs: LazyLogProbs<'a>,
        "message" => message: Message<'a>,
        "stop_reason" => stop_reason: StopReason<'a>,
    }
    required(always) = [];
    required(strict) = [index, message];
}

model! {
    /// The assistant's message of one choice.
    pub struct Message {
        "content" => content: Text<'a>,
        "refusal" => refusal: Text<'a>,
        "role" => role: Text<'a>,
        "function_call" => function_call: FunctionDelta<'a>,
        "tool_calls" => tool_calls: Vec<ToolCall<'a>>,
        "reasoning_content" => reasoning_content: Text<'a>,
        "reasoning" => reasoning: Text<'a>,
    }
    required(always) = [];
    required(strict) = [role];
}

model! {
    /// One complete tool call; `function` holds its name and its whole arguments text.
    pub struct ToolCall {
        "id" => id: Text<'a>,
        "function" => function: FunctionDelta<'a>,
        "type" => kind: Text<'a>,
    }
    required(always) = [];
    required(strict) = [id, function, kind];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Field, IntoOwned, Mode, With};
    use crate::parse::parse;

    const NON_STREAMED: &str = r#"{"id":"chatcmpl-B9","object":"chat.completion","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}],"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29},"service_tier":"default"}"#;

    #[test]
    fn parses_and_round_trips_a_non_streamed_completion() {
        let completion: Completion = parse(NON_STREAMED.as_bytes(), true).unwrap();
        let choice = &completion.choices.get().unwrap()[0];
        let message = choice.message.get().unwrap();
        assert_eq!(message.content, Field::Null);
        assert!(message.extra.get("annotations").is_some());
        let call = &message.tool_calls.get().unwrap()[0];
        assert_eq!(call.kind.get().unwrap().as_str(), "function");
        let expected: serde_json::Value = serde_json::from_str(NON_STREAMED).unwrap();
        let owned = completion.clone().into_owned();
        assert_eq!(owned, completion);
        assert_eq!(
            serde_json::to_value(With(&owned, Mode::Lossless)).unwrap(),
            expected
        );
    }

    #[test]
    fn strict_checks_object_and_required_keys() {
        let chunk_typed = NON_STREAMED.replace("\"chat.completion\"", "\"chat.completion.chunk\"");
        assert!(parse::<Completion>(chunk_typed.as_bytes(), false).is_ok());
        let err = parse::<Completion>(chunk_typed.as_bytes(), true).unwrap_err();
        assert!(err.message.contains("chat.completion"), "{err}");
        let no_role = NON_STREAMED.replace("\"role\":\"assistant\",", "");
        let err = parse::<Completion>(no_role.as_bytes(), true).unwrap_err();
        assert_eq!(err.path, "$.choices[0].message", "{err}");
    }

    #[test]
    fn full_mode_lists_keys_in_openai_order() {
        let completion: Completion = parse(br#"{"choices":[]}"#, false).unwrap();
        let mut out = Vec::new();
        crate::model::Dump::dump(
            &completion,
            &mut serde_json::Serializer::new(&mut out),
            Mode::Full,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"id":null,"choices":[],"created":null,"model":null,"object":null,"service_tier":null,"system_fingerprint":null,"usage":null}"#
        );
    }
}
