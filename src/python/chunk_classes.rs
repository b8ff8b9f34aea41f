//! Python classes for the `chat.completion.chunk` document, named as openai-python and the
//! Atoma SDK name them.

use pyo3::prelude::*;

py_model! {
    /// One streamed `chat.completion.chunk`.
    class ChatCompletionChunk(Chunk) {
        "id" => id: text,
        "choices" => choices: list_or_empty(ChatCompletionChunkChoice),
        "created" => created: number,
        "model" => model: text,
        "object" => object: text,
        "service_tier" => service_tier: text,
        "system_fingerprint" => system_fingerprint: text,
        "usage" => usage: object(CompletionUsage),
    }
    openai = "ChatCompletionChunk";
    templates = crate::python::templates;
}

py_model! {
    class ChatCompletionChunkChoice(ChunkChoice) {
        "delta" => delta: object(ChatCompletionChunkDelta),
        "finish_reason" => finish_reason: text,
        "index" => index: index,
        "logprobs" => logprobs: object(ChatCompletionLogProbs),
        "stop_reason" => stop_reason: stop_reason,
    }
}

py_model! {
    class ChatCompletionChunkDelta(Delta) {
        "content" => content: text,
        "function_call" => function_call: object(FunctionCall),
        "refusal" => refusal: text,
        "role" => role: text,
        "tool_calls" => tool_calls: list(ChatCompletionChunkDeltaToolCall),
        "reasoning_content" => reasoning_content: text,
        "reasoning" => reasoning: text,
    }
}

py_model! {
    class ChatCompletionChunkDeltaToolCall(ToolCallDelta) {
        "index" => index: index,
        "id" => id: text,
        "function" => function: object(ChatCompletionChunkDeltaToolCallFunction),
        "type" => kind: text,
    }
}

py_model! {
    class ChatCompletionChunkDeltaToolCallFunction(FunctionDelta) {
        "arguments" => arguments: arguments,
        "name" => name: text,
    }
}

py_model! {
    /// The legacy `delta.function_call` / `message.function_call`.
    class FunctionCall(FunctionDelta) {
        "arguments" => arguments: arguments,
        "name" => name: text,
    }
}

py_model! {
    class ChatCompletionLogProbs(LogProbs) {
        "content" => content: list(ChatCompletionLogProbsContent),
        "refusal" => refusal: list(ChatCompletionLogProbsContent),
    }
}

py_model! {
    class ChatCompletionLogProbsContent(LogProbContent) {
        "token" => token: text,
        "bytes" => bytes: int_list,
        "logprob" => logprob: number,
        "top_logprobs" => top_logprobs: list(ChatCompletionLogProb),
    }
}

py_model! {
    class ChatCompletionLogProb(TopLogProb) {
        "token" => token: text,
        "bytes" => bytes: int_list,
        "logprob" => logprob: number,
    }
}

py_model! {
    class CompletionUsage(Usage) {
        "completion_tokens" => completion_tokens: number,
        "prompt_tokens" => prompt_tokens: number,
        "total_tokens" => total_tokens: number,
        "completion_tokens_details" => completion_tokens_details: object(CompletionTokensDetails),
        "prompt_tokens_details" => prompt_tokens_details: object(PromptTokensDetails),
    }
}

py_model! {
    class PromptTokensDetails(PromptTokensDetails) {
        "audio_tokens" => audio_tokens: number,
        "cached_tokens" => cached_tokens: number,
    }
}

py_model! {
    class CompletionTokensDetails(CompletionTokensDetails) {
        "accepted_prediction_tokens" => accepted_prediction_tokens: number,
        "audio_tokens" => audio_tokens: number,
        "reasoning_tokens" => reasoning_tokens: number,
        "rejected_prediction_tokens" => rejected_prediction_tokens: number,
    }
}
