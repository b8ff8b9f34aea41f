//! The `chat.completion.chunk` document: the OpenAI schema plus the fields of vLLM,
//! DeepSeek and Atoma that ride on it.
//!
//! Objects that most chunks lack (usage, logprobs, function_call) are boxed: it keeps the
//! structs small, and moving them is most of what parsing a small chunk costs otherwise.

use super::field::{Arguments, Index, StopReason, Text};

model! {
    /// One streamed `chat.completion.chunk`.
    pub struct Chunk {
        "id" => id: Text<'a>,
        "object" => object: Text<'a>,
        "created" => created: i64,
        "model" => model: Text<'a>,
        "choices" => choices: Vec<ChunkChoice<'a>>,
        "usage" => usage: Box<Usage<'a>>,
        "system_fingerprint" => system_fingerprint: Text<'a>,
        "service_tier" => service_tier: Text<'a>,
    }
    required(always) = [choices];
    required(strict) = [id, object, created, model, choices];
    strict_check = check_object_type;
    list_in_dumps = [choices];
}

pub const CHUNK_OBJECT: &str = "chat.completion.chunk";

fn check_object_type(chunk: &Chunk<'_>) -> Result<(), String> {
    match chunk.object.get() {
        Some(object) if object.as_str() != CHUNK_OBJECT => Err(format!(
            "object is {:?}, expected {CHUNK_OBJECT:?}",
            object.as_str()
        )),
        _ => Ok(()),
    }
}

model! {
    pub struct ChunkChoice {
        "index" => index: Index,
        "delta" => delta: Delta<'a>,
        "finish_reason" => finish_reason: Text<'a>,
        "logprobs" => logprobs: Box<LogProbs<'a>>,
        "stop_reason" => stop_reason: StopReason<'a>,
    }
    required(always) = [];
    required(strict) = [index, delta];
}

model! {
    pub struct Delta {
        "role" => role: Text<'a>,
        "content" => content: Text<'a>,
        "refusal" => refusal: Text<'a>,
        "reasoning_content" => reasoning_content: Text<'a>,
        "reasoning" => reasoning: Text<'a>,
        "tool_calls" => tool_calls: Vec<ToolCallDelta<'a>>,
        "function_call" => function_call: Box<FunctionDelta<'a>>,
    }
    required(always) = [];
    required(strict) = [];
}

model! {
    pub struct ToolCallDelta {
        "index" => index: Index,
        "id" => id: Text<'a>,
        "type" => kind: Text<'a>,
        "function" => function: FunctionDelta<'a>,
    }
    required(always) = [];
    required(strict) = [index];
}

model! {
    /// A function name and (a fragment of) its JSON arguments: `tool_calls[].function` and
    /// the legacy `function_call` share this shape.
    pub struct FunctionDelta {
        "name" => name: Text<'a>,
        "arguments" => arguments: Arguments<'a>,
    }
    required(always) = [];
    required(strict) = [];
}

model! {
    pub struct LogProbs {
        "content" => content: Vec<LogProbContent<'a>>,
        "refusal" => refusal: Vec<LogProbContent<'a>>,
    }
    required(always) = [];
    required(strict) = [];
}

model! {
    pub struct LogProbContent {
        "token" => token: Text<'a>,
        "logprob" => logprob: f64,
        "bytes" => bytes: Vec<i64>,
        "top_logprobs" => top_logprobs: Vec<TopLogProb<'a>>,
    }
    required(always) = [];
    required(strict) = [token, logprob];
}

model! {
    pub struct TopLogProb {
        "token" => token: Text<'a>,
        "logprob" => logprob: f64,
        "bytes" => bytes: Vec<i64>,
    }
    required(always) = [];
    required(strict) = [token, logprob];
}

model! {
    pub struct Usage {
        "prompt_tokens" => prompt_tokens: u64,
        "completion_tokens" => completion_tokens: u64,
        "total_tokens" => total_tokens: u64,
        "prompt_tokens_details" => prompt_tokens_details: PromptTokensDetails<'a>,
        "completion_tokens_details" => completion_tokens_details: CompletionTokensDetails<'a>,
    }
    required(always) = [];
    required(strict) = [prompt_tokens, completion_tokens, total_tokens];
}

model! {
    pub struct PromptTokensDetails {
        "cached_tokens" => cached_tokens: u64,
        "audio_tokens" => audio_tokens: u64,
    }
    required(always) = [];
    required(strict) = [];
}

model! {
    pub struct CompletionTokensDetails {
        "reasoning_tokens" => reasoning_tokens: u64,
        "audio_tokens" => audio_tokens: u64,
        "accepted_prediction_tokens" => accepted_prediction_tokens: u64,
        "rejected_prediction_tokens" => rejected_prediction_tokens: u64,
    }
    required(always) = [];
    required(strict) = [];
}
