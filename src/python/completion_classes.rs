//! Python classes for the `chat.completion` document a stream merges into, named as
//! openai-python names them (`ChatCompletionResponse`, the Atoma SDK's name, is an alias
//! made in the Python package).

use pyo3::prelude::*;

use super::chunk_classes::{ChatCompletionLogProbs, CompletionUsage, FunctionCall};

py_model! {
    /// A whole chat completion: what the chunks of one stream merge into.
    class ChatCompletion(Completion) {
        "id" => id: text,
        "choices" => choices: list_or_empty(ChatCompletionChoice),
        "created" => created: number,
        "model" => model: text,
        "object" => object: text,
        "service_tier" => service_tier: text,
        "system_fingerprint" => system_fingerprint: text,
        "usage" => usage: object(CompletionUsage),
    }
    openai = "ChatCompletion";
}

py_model! {
    class ChatCompletionChoice(CompletionChoice) {
        "finish_reason" => finish_reason: text,
        "index" => index: index,
        "logprobs" => logprobs: object(ChatCompletionLogProbs),
        "message" => message: object(ChatCompletionMessage),
        "stop_reason" => stop_reason: stop_reason,
    }
}

py_model! {
    /// The assistant's message of one choice.
    class ChatCompletionMessage(Message) {
        "content" => content: text,
        "refusal" => refusal: text,
        "role" => role: text,
        "function_call" => function_call: object(FunctionCall),
        "tool_calls" => tool_calls: list(ToolCall),
        "reasoning_content" => reasoning_content: text,
        "reasoning" => reasoning: text,
    }
}

py_model! {
    /// One complete tool call: its id, type and function with the whole arguments text.
    class ToolCall(ToolCall) {
        "id" => id: text,
        "function" => function: object(ToolCallFunction),
        "type" => kind: text,
    }
}

py_model! {
    class ToolCallFunction(FunctionDelta) {
        "arguments" => arguments: arguments,
        "name" => name: text,
    }
}
