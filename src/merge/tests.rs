//! Each rule of the merge contract on a stream shaped as the vendor sends it.

use serde_json::{json, Value};

use super::Accumulator;
use crate::model::{Chunk, Completion, IntoOwned, Mode, With};
use crate::parse::parse;

fn accumulate(chunks: &[&str]) -> Accumulator {
    let mut acc = Accumulator::new();
    let mut parsed = Vec::new();
    for (i, src) in chunks.iter().enumerate() {
        let chunk: Chunk = parse(src.as_bytes(), false)
            .unwrap_or_else(|e| panic!("chunk {i} does not parse: {e}\n{src}"));
        acc.add(&chunk);
        parsed.push(chunk);
    }
    // Every stream of this file, cut anywhere into partial states, combines to the same.
    super::partial_tests::assert_every_cut_agrees(&parsed);
    assert_eq!(acc.chunk_count(), chunks.len() as u64);
    acc
}

fn canonical(completion: &Completion<'_>) -> Value {
    serde_json::to_value(With(completion, Mode::Canonical)).unwrap()
}

/// Merges `chunks` and checks the canonical dump of the result, of the snapshot and of the
/// consumed accumulator alike.
fn check(chunks: &[&str], expected: Value) -> Accumulator {
    let acc = accumulate(chunks);
    let snapshot = acc.completion();
    assert_eq!(canonical(&snapshot), expected);
    assert_eq!(acc.clone().into_completion(), snapshot);
    acc
}

#[test]
fn openai_text_with_final_usage_chunk() {
    let usage = r#"{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#;
    let head = r#"{"id":"chatcmpl-BxA1","object":"chat.completion.chunk","created":1753000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_34a54ae93c","#;
    let chunks = [
        format!(
            r#"{head}"choices":[{{"index":0,"delta":{{"role":"assistant","content":"","refusal":null}},"logprobs":null,"finish_reason":null}}],"usage":null,"obfuscation":"a1"}}"#
        ),
        format!(
            r#"{head}"choices":[{{"index":0,"delta":{{"content":"Hello"}},"logprobs":null,"finish_reason":null}}],"usage":null,"obfuscation":"b22"}}"#
        ),
        format!(
            r#"{head}"choices":[{{"index":0,"delta":{{"content":", wörld 🙂"}},"logprobs":null,"finish_reason":null}}],"usage":null,"obfuscation":"c"}}"#
        ),
        format!(
            r#"{head}"choices":[{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"stop"}}],"usage":null,"obfuscation":"d4"}}"#
        ),
        format!(r#"{head}"choices":[],"usage":{usage},"obfuscation":"e5e"}}"#),
    ];
    let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let expected = json!({
        "id": "chatcmpl-BxA1",
        "object": "chat.completion",
        "created": 1753000000,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_34a54ae93c",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hello, wörld 🙂"},
            "finish_reason": "stop"
        }],
        "usage": serde_json::from_str::<Value>(usage).unwrap(),
        "obfuscation": "e5e"
    });
    let acc = check(&chunks, expected);
    assert!(acc.is_finished());
    // Before the usage-only chunk the stream is not finished yet.
    assert!(!accumulate(&chunks[..4]).is_finished());
}

#[test]
fn openai_parallel_tool_calls() {
    let chunks = [
        r#"{"id":"chatcmpl-T","object":"chat.completion.chunk","created":1753000001,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Ab","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-T","object":"chat.completion.chunk","created":1753000001,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-T","object":"chat.completion.chunk","created":1753000001,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\": \"Zürich\"}"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-T","object":"chat.completion.chunk","created":1753000001,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Cd","type":"function","function":{"name":"get_time","arguments":""}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-T","object":"chat.completion.chunk","created":1753000001,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\":"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-T","object":"chat.completion.chunk","created":1753000001,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":" \"CET\"}"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-T","object":"chat.completion.chunk","created":1753000001,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}"#,
    ];
    let acc = check(
        &chunks,
        json!({
            "id": "chatcmpl-T",
            "object": "chat.completion",
            "created": 1753000001,
            "model": "gpt-4.1-2025-04-14",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [
                        {"id": "call_Ab", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\": \"Zürich\"}"}},
                        {"id": "call_Cd", "type": "function",
                         "function": {"name": "get_time", "arguments": "{\"tz\": \"CET\"}"}}
                    ]
                },
                "finish_reason": "tool_calls"
            }]
        }),
    );
    // Every choice finished, but no usage report: not "finished" by this simple rule.
    assert!(!acc.is_finished());
}

#[test]
fn azure_first_chunk_with_empty_envelope_and_filter_results() {
    let chunks = [
        r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false}}}]}"#,
        r#"{"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1753000002,"id":"chatcmpl-Az","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}"#,
        r#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Bonjour"},"finish_reason":null,"index":0,"logprobs":null}],"created":1753000002,"id":"chatcmpl-Az","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}"#,
        r#"{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":7},"delta":{},"finish_reason":null,"index":0,"logprobs":null}],"created":1753000002,"id":"chatcmpl-Az","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}"#,
        r#"{"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1753000002,"id":"chatcmpl-Az","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_ee1d74bde0"}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "chatcmpl-Az",
            "object": "chat.completion",
            "created": 1753000002,
            "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_ee1d74bde0",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
                "hate": {"filtered": false, "severity": "safe"},
                "jailbreak": {"filtered": false, "detected": false}}}],
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "Bonjour"},
                "finish_reason": "stop",
                "content_filter_results": {},
                "content_filter_offsets": {"check_offset": 0, "start_offset": 0, "end_offset": 7}
            }]
        }),
    );
    // Only the empty envelope: nothing counts as sent.
    let first = accumulate(&chunks[..1]).completion();
    assert_eq!(
        canonical(&first),
        json!({"object": "chat.completion", "choices": [],
               "prompt_filter_results": canonical(&first)["prompt_filter_results"]})
    );
}

#[test]
fn n2_choices_out_of_order_and_together() {
    let chunks = [
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":1,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":1,"delta":{"content":"B1"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null},{"index":1,"delta":{"content":" B2"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"A1"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":1,"delta":{},"logprobs":null,"finish_reason":"length"}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" A2"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}"#,
    ];
    let acc = check(
        &chunks,
        json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "A1 A2"}, "finish_reason": "stop"},
                {"index": 1, "message": {"role": "assistant", "content": "B1 B2"}, "finish_reason": "length"}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
        }),
    );
    assert!(acc.is_finished());
    // One choice still open: not finished, even with usage.
    let mut partial = accumulate(&chunks[..5]);
    partial.add(&parse::<Chunk>(chunks[7].as_bytes(), false).unwrap());
    assert!(!partial.is_finished());
}

#[test]
fn vllm_speculative_decoding_several_entries_per_index_in_one_chunk() {
    let chunks = [
        r#"{"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1753000003,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1753000003,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"chatcmpl-tool-1","type":"function","function":{"name":"search"}},{"index":0,"function":{"arguments":"{\"q\": "}},{"index":0,"function":{"arguments":"\"rust"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1753000003,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" serde\"}"}},{"index":1,"id":"chatcmpl-tool-2","type":"function","function":{"name":"fetch","arguments":""}},{"index":1,"function":{"arguments":"{\"url\": \"a\"}"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-9f","object":"chat.completion.chunk","created":1753000003,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"tool_calls","stop_reason":null}]}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "chatcmpl-9f", "object": "chat.completion", "created": 1753000003,
            "model": "Qwen/Qwen2.5-7B-Instruct",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant", "content": "",
                    "tool_calls": [
                        {"id": "chatcmpl-tool-1", "type": "function",
                         "function": {"name": "search", "arguments": "{\"q\": \"rust serde\"}"}},
                        {"id": "chatcmpl-tool-2", "type": "function",
                         "function": {"name": "fetch", "arguments": "{\"url\": \"a\"}"}}
                    ]
                },
                "finish_reason": "tool_calls"
            }]
        }),
    );
}

#[test]
fn minimax_and_fireworks_repeat_id_type_and_name_on_every_fragment() {
    let frag = |id: &str, name: &str, index: u32, args: &str| {
        format!(
            r#"{{"id":"4f0c","object":"chat.completion.chunk","created":1753000004,"model":"MiniMax-M1","choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{index},"id":"{id}","type":"function","function":{{"name":"{name}","arguments":"{args}"}}}}]}},"logprobs":null,"finish_reason":null}}],"usage":null}}"#
        )
    };
    let chunks = [
        r#"{"id":"4f0c","object":"chat.completion.chunk","created":1753000004,"model":"MiniMax-M1","choices":[{"index":0,"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}],"usage":null}"#.to_owned(),
        frag("call_function_1_1", "read_file", 0, ""),
        frag("call_function_1_1", "read_file", 0, r#"{\"path\":"#),
        frag("call_function_1_1", "read_file", 0, r#" \"a.txt\"}"#),
        frag("call_function_2_1", "list_dir", 1, r#"{\"dir\": \"/\"}"#),
        r#"{"id":"4f0c","object":"chat.completion.chunk","created":1753000004,"model":"MiniMax-M1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100}}"#.to_owned(),
    ];
    let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let acc = check(
        &chunks,
        json!({
            "id": "4f0c", "object": "chat.completion", "created": 1753000004, "model": "MiniMax-M1",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant", "content": null,
                    "tool_calls": [
                        {"id": "call_function_1_1", "type": "function",
                         "function": {"name": "read_file", "arguments": "{\"path\": \"a.txt\"}"}},
                        {"id": "call_function_2_1", "type": "function",
                         "function": {"name": "list_dir", "arguments": "{\"dir\": \"/\"}"}}
                    ]
                },
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100}
        }),
    );
    assert!(acc.is_finished());
}

#[test]
fn ollama_sends_every_call_at_index_0_with_object_arguments() {
    let expected = json!({
        "id": "chatcmpl-812", "object": "chat.completion", "created": 1753000005,
        "model": "llama3.1:8b", "system_fingerprint": "fp_ollama",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant", "content": "",
                "tool_calls": [
                    {"id": "call_x1", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Kraków\",\"days\":[1,2]}"}},
                    {"id": "call_x2", "type": "function",
                     "function": {"name": "get_time", "arguments": "{\"tz\":\"CET\"}"}}
                ]
            },
            "finish_reason": "tool_calls"
        }]
    });
    let finish = r#"{"id":"chatcmpl-812","object":"chat.completion.chunk","created":1753000005,"model":"llama3.1:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"tool_calls"}]}"#;
    // Both calls in one chunk.
    check(
        &[
            r#"{"id":"chatcmpl-812","object":"chat.completion.chunk","created":1753000005,"model":"llama3.1:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_x1","index":0,"type":"function","function":{"name":"get_weather","arguments":{"city":"Kraków","days":[1,2]}}},{"id":"call_x2","index":0,"type":"function","function":{"name":"get_time","arguments":{"tz":"CET"}}}]},"finish_reason":null}]}"#,
            finish,
        ],
        expected.clone(),
    );
    // One call per chunk, arguments as JSON text.
    check(
        &[
            r#"{"id":"chatcmpl-812","object":"chat.completion.chunk","created":1753000005,"model":"llama3.1:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_x1","index":0,"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Kraków\",\"days\":[1,2]}"}}]},"finish_reason":null}]}"#,
            r#"{"id":"chatcmpl-812","object":"chat.completion.chunk","created":1753000005,"model":"llama3.1:8b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_x2","index":0,"type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]},"finish_reason":null}]}"#,
            finish,
        ],
        expected,
    );
}

#[test]
fn litellm_index_0_new_id_starts_a_call_and_fragments_without_id_continue_it() {
    let chunks = [
        r#"{"id":"c","created":1,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"a","arguments":""}}]}}]}"#,
        r#"{"id":"c","created":1,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":1}"}}]}}]}"#,
        r#"{"id":"c","created":1,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_2","type":"function","function":{"name":"b","arguments":""}}]}}]}"#,
        r#"{"id":"c","created":1,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":null,"function":{"arguments":"{\"y\":"}}]}}]}"#,
        // The first call's id again: back to that call.
        r#"{"id":"c","created":1,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_1","function":{"arguments":""}}]}}]}"#,
        r#"{"id":"c","created":1,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_2","function":{"arguments":"2}"}}]}}]}"#,
        r#"{"id":"c","created":1,"model":"m","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "c", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "a", "arguments": "{\"x\":1}"}},
                    {"id": "toolu_2", "type": "function", "function": {"name": "b", "arguments": "{\"y\":2}"}}
                ]},
                "finish_reason": "tool_calls"
            }]
        }),
    );
}

#[test]
fn mistral_tool_calls_without_index() {
    let chunks = [
        r#"{"id":"9a1f","object":"chat.completion.chunk","created":1753000006,"model":"mistral-large-latest","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        r#"{"id":"9a1f","object":"chat.completion.chunk","created":1753000006,"model":"mistral-large-latest","choices":[{"index":0,"delta":{"tool_calls":[{"id":"D681PevKs","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},"finish_reason":null}]}"#,
        r#"{"id":"9a1f","object":"chat.completion.chunk","created":1753000006,"model":"mistral-large-latest","choices":[{"index":0,"delta":{"tool_calls":[{"id":"K2mQ8xZ1a","type":"function","function":{"name":"search","arguments":"{\"q\": "}}]},"finish_reason":null}]}"#,
        r#"{"id":"9a1f","object":"chat.completion.chunk","created":1753000006,"model":"mistral-large-latest","choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"\"news\"}"}}]},"finish_reason":null}]}"#,
        r#"{"id":"9a1f","object":"chat.completion.chunk","created":1753000006,"model":"mistral-large-latest","choices":[{"index":0,"delta":{"content":""},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":70,"total_tokens":100,"completion_tokens":30}}"#,
    ];
    let acc = check(
        &chunks,
        json!({
            "id": "9a1f", "object": "chat.completion", "created": 1753000006,
            "model": "mistral-large-latest",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "", "tool_calls": [
                    // No `type` was sent for this call: it can only be a function call.
                    {"id": "D681PevKs", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
                    {"id": "K2mQ8xZ1a", "type": "function", "function": {"name": "search", "arguments": "{\"q\": \"news\"}"}}
                ]},
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 70, "completion_tokens": 30, "total_tokens": 100}
        }),
    );
    assert!(acc.is_finished());
}

#[test]
fn calls_without_index_are_placed_after_indexed_ones_or_at_0() {
    // An index-less call with a known id joins it; a new id goes after the highest index;
    // an index-less fragment with no id and no call yet starts a call at index 0.
    let chunks = [
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"index":3,"id":"c3","function":{"name":"three","arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"cX","function":{"name":"x","arguments":"["}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"c3","function":{"arguments":"}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]}"#,
        r#"{"choices":[{"delta":{"tool_calls":[{"id":"cX","function":{"arguments":"]"}}]}}]}"#,
    ];
    check(
        &chunks,
        json!({
            "object": "chat.completion",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"type": "function", "function": {"arguments": "{"}},
                    {"id": "c3", "type": "function", "function": {"name": "three", "arguments": "{}}"}},
                    {"id": "cX", "type": "function", "function": {"name": "x", "arguments": "[]"}}
                ]},
                "finish_reason": null
            }]
        }),
    );
}

#[test]
fn string_indices_are_keys_like_numbers() {
    let chunks = [
        r#"{"id":"s","object":"chat.completion.chunk","created":2,"model":"m","choices":[{"index":"1","delta":{"role":"assistant","tool_calls":[{"index":"0","id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}"#,
        r#"{"id":"s","object":"chat.completion.chunk","created":2,"model":"m","choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":null}]}"#,
        r#"{"id":"s","object":"chat.completion.chunk","created":2,"model":"m","choices":[{"index":"0","delta":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#,
        r#"{"id":"s","object":"chat.completion.chunk","created":2,"model":"m","choices":[{"index":"1","delta":{},"finish_reason":"tool_calls"}]}"#,
    ];
    let acc = check(
        &chunks,
        json!({
            "id": "s", "object": "chat.completion", "created": 2, "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"},
                {"index": 1, "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ]}, "finish_reason": "tool_calls"}
            ]
        }),
    );
    // Merged output is canonical even in lossless mode: indices are numbers.
    let lossless = serde_json::to_value(With(&acc.completion(), Mode::Lossless)).unwrap();
    assert_eq!(lossless["choices"][1]["index"], 1);
}

#[test]
fn tool_indices_out_of_order_are_sorted() {
    let chunks = [
        r#"{"id":"o","object":"chat.completion.chunk","created":3,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":1,"id":"call_B","type":"function","function":{"name":"second","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"o","object":"chat.completion.chunk","created":3,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"first","arguments":""}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"o","object":"chat.completion.chunk","created":3,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"b\""}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"o","object":"chat.completion.chunk","created":3,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"o","object":"chat.completion.chunk","created":3,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":2}"}}]},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"o","object":"chat.completion.chunk","created":3,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "o", "object": "chat.completion", "created": 3, "model": "gpt-4o",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_A", "type": "function", "function": {"name": "first", "arguments": "{\"a\":1}"}},
                    {"id": "call_B", "type": "function", "function": {"name": "second", "arguments": "{\"b\":2}"}}
                ]},
                "finish_reason": "tool_calls"
            }]
        }),
    );
}

#[test]
fn legacy_function_call() {
    let chunks = [
        r#"{"id":"chatcmpl-F","object":"chat.completion.chunk","created":1690000000,"model":"gpt-3.5-turbo-0613","choices":[{"index":0,"delta":{"role":"assistant","content":null,"function_call":{"name":"get_current_weather","arguments":""}},"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-F","object":"chat.completion.chunk","created":1690000000,"model":"gpt-3.5-turbo-0613","choices":[{"index":0,"delta":{"function_call":{"arguments":"{\n  \"location\""}},"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-F","object":"chat.completion.chunk","created":1690000000,"model":"gpt-3.5-turbo-0613","choices":[{"index":0,"delta":{"function_call":{"name":"get_current_weather","arguments":": \"Boston\"\n}"}},"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-F","object":"chat.completion.chunk","created":1690000000,"model":"gpt-3.5-turbo-0613","choices":[{"index":0,"delta":{},"finish_reason":"function_call"}]}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "chatcmpl-F", "object": "chat.completion", "created": 1690000000,
            "model": "gpt-3.5-turbo-0613",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "function_call": {
                    "name": "get_current_weather", "arguments": "{\n  \"location\": \"Boston\"\n}"}},
                "finish_reason": "function_call"
            }]
        }),
    );
}

#[test]
fn logprobs_lists_are_concatenated() {
    let chunks = [
        r#"{"id":"l","object":"chat.completion.chunk","created":4,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":{"content":[],"refusal":null},"finish_reason":null}]}"#,
        r#"{"id":"l","object":"chat.completion.chunk","created":4,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.25,"bytes":[72,105]},{"token":"Hello","logprob":-1.5,"bytes":null}]}],"refusal":null},"finish_reason":null}]}"#,
        r#"{"id":"l","object":"chat.completion.chunk","created":4,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" there!"},"logprobs":{"content":[{"token":" there","logprob":-0.5,"bytes":[32,116,104,101,114,101],"top_logprobs":[]},{"token":"!","logprob":0.0,"bytes":[33],"top_logprobs":[]}],"refusal":null},"finish_reason":null}]}"#,
        r#"{"id":"l","object":"chat.completion.chunk","created":4,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "l", "object": "chat.completion", "created": 4, "model": "gpt-4o-mini",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": "Hi there!"},
                "logprobs": {"content": [
                    {"token": "Hi", "logprob": -0.25, "bytes": [72, 105], "top_logprobs": [
                        {"token": "Hi", "logprob": -0.25, "bytes": [72, 105]},
                        {"token": "Hello", "logprob": -1.5, "bytes": null}]},
                    {"token": " there", "logprob": -0.5, "bytes": [32, 116, 104, 101, 114, 101], "top_logprobs": []},
                    {"token": "!", "logprob": 0.0, "bytes": [33], "top_logprobs": []}
                ]},
                "finish_reason": "stop"
            }]
        }),
    );
    // Only null logprobs: absent.
    let plain = check(
        &[
            r#"{"choices":[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}]}"#,
        ],
        json!({"object": "chat.completion", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "x"}, "finish_reason": null}]}),
    );
    assert!(!plain.is_finished());
}

#[test]
fn refusal_with_refusal_logprobs() {
    let chunks = [
        r#"{"id":"r","object":"chat.completion.chunk","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"logprobs":{"content":null,"refusal":[]},"finish_reason":null}]}"#,
        r#"{"id":"r","object":"chat.completion.chunk","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":"I'm sorry"},"logprobs":{"content":null,"refusal":[{"token":"I'm sorry","logprob":-0.1,"bytes":null,"top_logprobs":[]}]},"finish_reason":null}]}"#,
        r#"{"id":"r","object":"chat.completion.chunk","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"refusal":", I can’t."},"logprobs":{"content":null,"refusal":[{"token":", I can’t.","logprob":-0.2,"bytes":null,"top_logprobs":[]}]},"finish_reason":null}]}"#,
        r#"{"id":"r","object":"chat.completion.chunk","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "r", "object": "chat.completion", "created": 5, "model": "gpt-4o",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": null, "refusal": "I'm sorry, I can’t."},
                "logprobs": {"refusal": [
                    {"token": "I'm sorry", "logprob": -0.1, "bytes": null, "top_logprobs": []},
                    {"token": ", I can’t.", "logprob": -0.2, "bytes": null, "top_logprobs": []}
                ]},
                "finish_reason": "stop"
            }]
        }),
    );
}

#[test]
fn reasoning_fields_concatenate_and_null_is_not_a_fragment() {
    // DeepSeek: reasoning_content, with content null while thinking.
    let deepseek = [
        r#"{"id":"ds","object":"chat.completion.chunk","created":6,"model":"deepseek-reasoner","system_fingerprint":"fp_1_prod0225","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"ds","object":"chat.completion.chunk","created":6,"model":"deepseek-reasoner","system_fingerprint":"fp_1_prod0225","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Think"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"ds","object":"chat.completion.chunk","created":6,"model":"deepseek-reasoner","system_fingerprint":"fp_1_prod0225","choices":[{"index":0,"delta":{"content":"Answer","reasoning_content":null},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"ds","object":"chat.completion.chunk","created":6,"model":"deepseek-reasoner","system_fingerprint":"fp_1_prod0225","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":10}}"#,
    ];
    check(
        &deepseek,
        json!({
            "id": "ds", "object": "chat.completion", "created": 6, "model": "deepseek-reasoner",
            "system_fingerprint": "fp_1_prod0225",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Answer",
                "reasoning_content": "Think"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
                "prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": 10}
        }),
    );
    // vLLM reasoning parser: `reasoning`; only "" ever sent for content stays "".
    let vllm = [
        r#"{"id":"v","object":"chat.completion.chunk","created":7,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"v","object":"chat.completion.chunk","created":7,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning":"Hmm, "},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"v","object":"chat.completion.chunk","created":7,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning":"ok."},"logprobs":null,"finish_reason":"length","stop_reason":null}]}"#,
    ];
    check(
        &vllm,
        json!({
            "id": "v", "object": "chat.completion", "created": 7, "model": "Qwen/Qwen3-8B",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "",
                "reasoning": "Hmm, ok."}, "finish_reason": "length"}]
        }),
    );
}

#[test]
fn vllm_continuous_usage_then_final_usage_only_chunk() {
    let chunks = [
        r#"{"id":"chatcmpl-u","object":"chat.completion.chunk","created":8,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":12,"total_tokens":12,"completion_tokens":0}}"#,
        r#"{"id":"chatcmpl-u","object":"chat.completion.chunk","created":8,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":"One"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":12,"total_tokens":13,"completion_tokens":1}}"#,
        r#"{"id":"chatcmpl-u","object":"chat.completion.chunk","created":8,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":" two"},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":12,"total_tokens":14,"completion_tokens":2}}"#,
        r#"{"id":"chatcmpl-u","object":"chat.completion.chunk","created":8,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[],"usage":{"prompt_tokens":12,"total_tokens":14,"completion_tokens":2,"prompt_tokens_details":null}}"#,
        r#"{"id":"chatcmpl-u","object":"chat.completion.chunk","created":8,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[],"usage":null}"#,
    ];
    let acc = check(
        &chunks,
        json!({
            "id": "chatcmpl-u", "object": "chat.completion", "created": 8,
            "model": "meta-llama/Llama-3.1-8B-Instruct",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "One two"},
                "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "total_tokens": 14, "completion_tokens": 2,
                "prompt_tokens_details": null}
        }),
    );
    assert!(acc.is_finished());
    // Usage arriving on the finishing chunk itself counts too.
    assert!(accumulate(&chunks[..3]).is_finished());
    assert!(!accumulate(&chunks[..2]).is_finished());
}

#[test]
fn stop_reason_last_non_null_in_canonical_form() {
    let stop = |reason: &str| {
        format!(
            r#"{{"id":"a","object":"chat.completion.chunk","created":9,"model":"m","choices":[{{"index":0,"delta":{{"content":"x"}},"logprobs":null,"finish_reason":"stop","stop_reason":{reason}}}]}}"#
        )
    };
    for (reasons, expected) in [
        (&["128009", "null"][..], json!(128009)),
        (&["\"</s>\""][..], json!("</s>")),
        (&["{\"Int\": 128009}", "null"][..], json!(128009)),
        (&["{\"String\": \"</s>\"}"][..], json!("</s>")),
        (&["1", "\"###\"", "null"][..], json!("###")),
    ] {
        let chunks: Vec<String> = reasons.iter().map(|r| stop(r)).collect();
        let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
        let content = "x".repeat(reasons.len());
        let acc = check(
            &chunks,
            json!({
                "id": "a", "object": "chat.completion", "created": 9, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop", "stop_reason": expected}]
            }),
        );
        // Atoma's wrapper is gone even from a lossless dump of the merged result.
        let lossless = serde_json::to_value(With(&acc.completion(), Mode::Lossless)).unwrap();
        assert_eq!(lossless["choices"][0]["stop_reason"], expected);
    }
}

#[test]
fn unknown_keys_keep_their_last_value_at_their_level() {
    let chunks = [
        r#"{"id":"gen-1","provider":"DeepInfra","object":"chat.completion.chunk","created":10,"model":"deepseek/deepseek-r1","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"a","reasoning_details":[{"type":"reasoning.text","text":"a"}],"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":"","strict":true},"cache":1}]},"finish_reason":null,"native_finish_reason":null,"message":{"content":"not a delta"}}],"signature":"s1"}"#,
        r#"{"id":"gen-1","provider":"Together","object":"chat.completion.chunk","created":10,"model":"deepseek/deepseek-r1","choices":[{"index":0,"delta":{"content":"b","tool_calls":[{"index":0,"function":{"arguments":"{}"},"cache":2}]},"finish_reason":"stop","native_finish_reason":"stop"}],"signature":"s2","response_hash":"h"}"#,
        r#"{"id":"gen-1","object":"chat.completion.chunk","created":10,"model":"deepseek/deepseek-r1","choices":[{"index":0,"delta":{"reasoning_details":[]},"finish_reason":null}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"cost":0.0012}}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "gen-1", "object": "chat.completion", "created": 10, "model": "deepseek/deepseek-r1",
            "provider": "Together", "signature": "s2", "response_hash": "h",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant", "content": "b", "reasoning": "a",
                    "reasoning_details": [],
                    "tool_calls": [{"id": "t1", "type": "function", "cache": 2,
                        "function": {"name": "f", "arguments": "{}", "strict": true}}]
                },
                "finish_reason": "stop",
                "native_finish_reason": "stop"
            }],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "cost": 0.0012}
        }),
    );
}

#[test]
fn absurd_indices_do_not_allocate_by_value() {
    let chunks = [
        r#"{"choices":[{"index":4294967295,"delta":{"role":"assistant","tool_calls":[{"index":4294967295,"id":"big","function":{"name":"f","arguments":"{"}}]}}]}"#,
        r#"{"choices":[{"index":4294967295,"delta":{"tool_calls":[{"index":4294967295,"function":{"arguments":"}"}},{"id":"after","function":{"name":"g","arguments":"[]"}}]},"finish_reason":"stop"},{"index":0,"delta":{"content":"small"}}]}"#,
    ];
    let acc = check(
        &chunks,
        json!({
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "small"}, "finish_reason": null},
                {"index": 4294967295u32, "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "big", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    // No index after the largest possible one: it stays there, after it.
                    {"id": "after", "type": "function", "function": {"name": "g", "arguments": "[]"}}
                ]}, "finish_reason": "stop"}
            ]
        }),
    );
    assert_eq!(acc.choices.len(), 2);
    assert!(acc.choices.capacity() < 16);
}

#[test]
fn missing_index_is_zero_and_null_parts_are_ignored() {
    let chunks = [
        r#"{"id":"","model":null,"created":null,"choices":[{"delta":{"role":"","content":"a"}}]}"#,
        r#"{"id":"x","model":"m","created":0,"choices":[{"index":null,"delta":null,"finish_reason":null,"logprobs":null,"stop_reason":null},{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":null,"function_call":null}}],"usage":null,"system_fingerprint":null,"service_tier":""}"#,
        r#"{"id":"y","model":"n","created":11,"choices":null}"#,
        r#"{"id":"z","model":"o","created":12,"choices":[{"index":0,"delta":{"role":"user","content":"b"},"finish_reason":"stop"}],"service_tier":"flex"}"#,
    ];
    check(
        &chunks,
        json!({
            "id": "x", "object": "chat.completion", "created": 11, "model": "m",
            "service_tier": "flex",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ab"},
                "finish_reason": "stop"}]
        }),
    );
}

#[test]
fn empty_stream_and_role_default() {
    let acc = Accumulator::new();
    assert_eq!(acc.chunk_count(), 0);
    assert!(!acc.is_finished());
    assert_eq!(
        canonical(&acc.completion()),
        json!({"object": "chat.completion", "choices": []})
    );
    // A choice that never got a role is still the assistant's.
    check(
        &[r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#],
        json!({"object": "chat.completion", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": null}, "finish_reason": "stop"}]}),
    );
}

#[test]
fn snapshot_does_not_consume_and_merging_goes_on() {
    let mut acc = Accumulator::default();
    let first: Chunk = parse(
        br#"{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}"#,
        false,
    )
    .unwrap();
    acc.add(&first);
    let before = acc.completion();
    acc.add(&first);
    let after = acc.completion();
    assert_eq!(canonical(&before)["choices"][0]["message"]["content"], "x");
    assert_eq!(canonical(&after)["choices"][0]["message"]["content"], "xx");
    assert_eq!(acc.chunk_count(), 2);
}

#[test]
fn full_mode_matches_the_none_filled_shape() {
    let acc = accumulate(&[
        r#"{"id":"f","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"n"}}]},"finish_reason":"tool_calls"}]}"#,
    ]);
    let full = serde_json::to_value(With(&acc.completion(), Mode::Full)).unwrap();
    assert_eq!(
        full,
        json!({
            "id": "f", "object": "chat.completion", "created": 1, "model": "m",
            "service_tier": null, "system_fingerprint": null, "usage": null,
            "choices": [{
                "index": 0, "finish_reason": "tool_calls", "logprobs": null, "stop_reason": null,
                "message": {
                    "role": "assistant", "content": null, "refusal": null,
                    "reasoning_content": null, "reasoning": null, "function_call": null,
                    "tool_calls": [{"id": "c", "type": "function",
                        "function": {"name": "n", "arguments": ""}}]
                }
            }]
        })
    );
}

#[test]
fn a_chunk_opens_something_with_a_first_role_or_a_new_tool_call_id() {
    let chunk = |delta: &str| -> Chunk<'static> {
        let text = format!(r#"{{"id":"c","choices":[{{"index":0,"delta":{delta}}}]}}"#);
        parse::<Chunk>(text.as_bytes(), false).unwrap().into_owned()
    };
    let role = chunk(r#"{"role":"assistant","content":""}"#);
    let text = chunk(r#"{"content":"Hi"}"#);
    let call = |id: &str| {
        chunk(&format!(
            r#"{{"tool_calls":[{{"index":0,"id":"{id}","function":{{"arguments":""}}}}]}}"#
        ))
    };
    let mut acc = Accumulator::new();
    assert!(acc.opens_something(&role));
    assert!(!acc.opens_something(&text));
    acc.add(&role);
    // A server that repeats the role, or a call's id, on every chunk.
    assert!(!acc.opens_something(&role));
    assert!(acc.opens_something(&call("call_1")));
    acc.add(&call("call_1"));
    assert!(!acc.opens_something(&call("call_1")));
    assert!(acc.opens_something(&call("call_2")));
    // An empty id or role opens nothing.
    assert!(!Accumulator::new().opens_something(&call("")));
    assert!(!Accumulator::new().opens_something(&chunk(r#"{"role":""}"#)));
}
