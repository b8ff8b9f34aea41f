"""chatchunk: parse and merge streamed ``chat.completion.chunk`` data, fast and correctly."""

from chatchunk._core import (
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionChunkDelta,
    ChatCompletionChunkDeltaToolCall,
    ChatCompletionChunkDeltaToolCallFunction,
    ChatCompletionLogProb,
    ChatCompletionLogProbs,
    ChatCompletionLogProbsContent,
    CompletionTokensDetails,
    CompletionUsage,
    FunctionCall,
    ParseError,
    PromptTokensDetails,
    __version__,
    validate_chunks,
)

__all__ = [
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionChunkDelta",
    "ChatCompletionChunkDeltaToolCall",
    "ChatCompletionChunkDeltaToolCallFunction",
    "ChatCompletionLogProb",
    "ChatCompletionLogProbs",
    "ChatCompletionLogProbsContent",
    "CompletionTokensDetails",
    "CompletionUsage",
    "FunctionCall",
    "ParseError",
    "PromptTokensDetails",
    "__version__",
    "validate_chunks",
]
