//! Partial states: any cut of a stream into pieces, each merged on its own, saved as bytes,
//! read back and combined in order, gives exactly the single pass.

use serde_json::{json, Value};

use super::{Accumulator, PartialAccumulator, PartialError, ToolCallLog};
use crate::model::{Chunk, Completion, Mode, With};
use crate::parse::parse;

fn canonical(completion: &Completion<'_>) -> Value {
    serde_json::to_value(With(completion, Mode::Lossless)).unwrap()
}

fn single_pass(chunks: &[Chunk<'_>]) -> Accumulator {
    let mut acc = Accumulator::new();
    for chunk in chunks {
        acc.add(chunk);
    }
    acc
}

/// Each piece merged on its own and sent through bytes.
fn pieces(chunks: &[Chunk<'_>], cuts: &[usize]) -> Vec<PartialAccumulator> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(chunks.len());
    bounds
        .windows(2)
        .map(|w| {
            let mut partial = PartialAccumulator::new();
            for chunk in &chunks[w[0]..w[1]] {
                partial.add(chunk);
            }
            let bytes = partial.to_bytes();
            let back = PartialAccumulator::from_bytes(&bytes).unwrap();
            assert_eq!(back.chunk_count(), partial.chunk_count());
            // Saving is stable: the restored state saves to the same bytes.
            assert_eq!(back.to_bytes(), bytes);
            back
        })
        .collect()
}

fn check_cut(chunks: &[Chunk<'_>], cuts: &[usize], expected: &Completion<'_>) {
    let parts = pieces(chunks, cuts);
    // Left to right, as a stream is read.
    let mut left = PartialAccumulator::new();
    for part in &parts {
        left.extend(part);
    }
    // Right to left: later pieces combined first, as a tree reduction may do.
    let mut right = PartialAccumulator::new();
    for part in parts.iter().rev() {
        right = part.clone().combine(&right);
    }
    for (how, result) in [("left", left), ("right", right)] {
        assert_eq!(
            result.chunk_count(),
            chunks.len() as u64,
            "{how} fold, cuts {cuts:?}"
        );
        let got = result.completion();
        if &got != expected {
            panic!(
                "{how} fold, cuts {cuts:?}:\n got {}\nwant {}",
                canonical(&got),
                canonical(expected)
            );
        }
        // Once more through bytes, as the final state travels to the reducer.
        let back = PartialAccumulator::from_bytes(&result.to_bytes()).unwrap();
        assert_eq!(
            &back.completion(),
            expected,
            "{how} fold via bytes, cuts {cuts:?}"
        );
    }
}

/// Every cut of `chunks` into pieces when there are few chunks, else every cut in two and a
/// sample of cuts in many pieces.
pub(super) fn assert_every_cut_agrees(chunks: &[Chunk<'_>]) {
    let expected = single_pass(chunks).into_completion();
    let n = chunks.len();
    if n <= 10 {
        for mask in 0u32..(1 << n.saturating_sub(1)) {
            let cuts: Vec<usize> = (1..n).filter(|i| mask & (1 << (i - 1)) != 0).collect();
            check_cut(chunks, &cuts, &expected);
        }
    } else {
        for cut in 0..=n {
            check_cut(chunks, &[cut], &expected);
        }
        let mut rng = Rng(n as u64 * 7919 + 1);
        for _ in 0..64 {
            let mut cuts: Vec<usize> = (1..n).filter(|_| rng.below(3) == 0).collect();
            cuts.dedup();
            check_cut(chunks, &cuts, &expected);
        }
    }
}

fn parse_all(sources: &[String]) -> Vec<Chunk<'_>> {
    sources
        .iter()
        .map(|s| parse(s.as_bytes(), false).unwrap_or_else(|e| panic!("{e}: {s}")))
        .collect()
}

/// xorshift64*: enough randomness for test cases, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'x>(&mut self, items: &[&'x str]) -> &'x str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A random `tool_calls` entry mixing every quirk: index absent, numeric or quoted, ids
/// repeated, new, empty or absent, names repeated, object arguments, extras.
fn random_entry(rng: &mut Rng) -> Value {
    let mut entry = serde_json::Map::new();
    match rng.below(6) {
        0 | 1 => {}
        2 => {
            entry.insert("index".into(), json!(rng.pick(&["0", "1", "2"])));
        }
        _ => {
            entry.insert("index".into(), json!(rng.below(3)));
        }
    }
    match rng.below(6) {
        0 => {
            entry.insert("id".into(), json!(""));
        }
        1 | 2 => {
            entry.insert("id".into(), json!(rng.pick(&["a", "b", "c", "d"])));
        }
        3 => {
            entry.insert("id".into(), Value::Null);
        }
        _ => {}
    }
    if rng.below(4) == 0 {
        entry.insert("type".into(), json!(rng.pick(&["function", "", "custom"])));
    }
    let mut function = serde_json::Map::new();
    if rng.below(3) == 0 {
        function.insert("name".into(), json!(rng.pick(&["f", "g", "", "f"])));
    }
    match rng.below(5) {
        0 => {}
        1 => {
            function.insert("arguments".into(), json!({"k": rng.below(9)}));
        }
        _ => {
            function.insert(
                "arguments".into(),
                json!(rng.pick(&["{", "\"x\"", ":1", "}", ""])),
            );
        }
    }
    if rng.below(8) == 0 {
        function.insert("fx".into(), json!(rng.below(4)));
    }
    if rng.below(6) != 0 {
        entry.insert("function".into(), Value::Object(function));
    } else if rng.below(2) == 0 {
        entry.insert("function".into(), Value::Null);
    }
    if rng.below(6) == 0 {
        entry.insert(rng.pick(&["x1", "x2"]).into(), json!(rng.below(3)));
    }
    Value::Object(entry)
}

/// A random stream: one or two choices, tool-call entries (several per chunk at times),
/// text, reasoning, logprobs, usage, finish and stop reasons and extras at every level.
fn random_stream(rng: &mut Rng) -> Vec<String> {
    let n = 1 + rng.below(12) as usize;
    (0..n)
        .map(|i| {
            let mut choices = Vec::new();
            for index in 0..1 + rng.below(2) {
                let mut delta = serde_json::Map::new();
                if rng.below(3) == 0 {
                    delta.insert("content".into(), json!(rng.pick(&["a", "", "b c"])));
                }
                if rng.below(5) == 0 {
                    delta.insert("role".into(), json!(rng.pick(&["assistant", ""])));
                }
                if rng.below(6) == 0 {
                    delta.insert("reasoning_content".into(), json!("r"));
                }
                if rng.below(7) == 0 {
                    delta.insert("function_call".into(), json!({"name": "h", "arguments": "{}"}));
                }
                if rng.below(8) == 0 {
                    delta.insert("dx".into(), json!(i));
                }
                if rng.below(3) != 0 {
                    let entries: Vec<Value> =
                        (0..1 + rng.below(3)).map(|_| random_entry(rng)).collect();
                    delta.insert("tool_calls".into(), Value::Array(entries));
                }
                let mut choice = json!({"index": index, "delta": Value::Object(delta)});
                if rng.below(5) == 0 {
                    choice["finish_reason"] = json!(rng.pick(&["tool_calls", "stop", ""]));
                }
                if rng.below(8) == 0 {
                    choice["stop_reason"] = json!({"Int": 7});
                }
                if rng.below(6) == 0 {
                    choice["logprobs"] =
                        json!({"content": [{"token": "t", "logprob": -0.1 * i as f64, "bytes": [116], "top_logprobs": []}]});
                }
                if rng.below(9) == 0 {
                    choice["cx"] = json!([i]);
                }
                choices.push(choice);
            }
            if rng.below(3) == 0 {
                choices.reverse();
            }
            let mut chunk = json!({"object": "chat.completion.chunk", "choices": choices});
            if rng.below(2) == 0 {
                chunk["id"] = json!(rng.pick(&["", "s1", "s2"]));
                chunk["created"] = json!(rng.below(3));
                chunk["model"] = json!(rng.pick(&["m", ""]));
            }
            if rng.below(6) == 0 {
                chunk["usage"] = json!({"prompt_tokens": i, "completion_tokens": 1, "total_tokens": i + 1});
            }
            if rng.below(7) == 0 {
                chunk[rng.pick(&["obfuscation", "p"])] = json!(format!("pad{i}"));
            }
            chunk.to_string()
        })
        .collect()
}

#[test]
fn random_streams_any_cut_equals_the_single_pass() {
    let mut rng = Rng(0x5eed);
    for _ in 0..200 {
        let sources = random_stream(&mut rng);
        assert_every_cut_agrees(&parse_all(&sources));
    }
}

#[test]
fn tool_call_quirks_every_cut() {
    let streams: [&[&str]; 6] = [
        // vLLM speculative decoding: several entries at one index in one chunk.
        &[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}},{"index":0,"function":{"arguments":"\"x\""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}},{"index":1,"id":"b","function":{"name":"g"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
        ],
        // MiniMax / Fireworks: id, type and name repeated on every fragment.
        &[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"read","arguments":"{"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"read","arguments":"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"read","arguments":""}}]}}]}"#,
        ],
        // Ollama / litellm: every call at index 0 with a new id, object arguments.
        &[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":{"x":1}}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"g","arguments":{"y":2}}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"tail"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"arguments":"!"}}]}}]}"#,
        ],
        // Mistral: no index at all; continuations without id go to the last call.
        &[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":"["}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"]"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"arguments":" "}}]}}]}"#,
        ],
        // Out of order and string indices, a call without index placed after the others.
        &[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":"2","id":"c","function":{"name":"h"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":2,"function":{"arguments":"{}"}},{"id":"d","function":{"name":"k"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"[]"}},{"index":"0","function":{"arguments":"1"}}]}}]}"#,
        ],
        // Two choices, each with its calls, arriving interleaved.
        &[
            r#"{"choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"f"}}]}},{"index":0,"delta":{"tool_calls":[{"index":0,"id":"y","function":{"name":"g"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"0"}}]}}]}"#,
            r#"{"choices":[{"index":1,"delta":{"tool_calls":[{"function":{"arguments":"1"}}]}}]}"#,
        ],
    ];
    for stream in streams {
        let sources: Vec<String> = stream.iter().map(|s| s.to_string()).collect();
        assert_every_cut_agrees(&parse_all(&sources));
    }
}

#[test]
fn a_plain_tool_call_is_one_log_entry() {
    let sources: Vec<String> = (0..50)
        .map(|i| {
            if i == 0 {
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":""}}]}}]}"#.to_owned()
            } else {
                format!(r#"{{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"function":{{"arguments":"{i},"}}}}]}}}}]}}"#)
            }
        })
        .collect();
    let chunks = parse_all(&sources);
    let mut log = ToolCallLog::new();
    for chunk in &chunks {
        log.record(chunk);
    }
    assert_eq!(log.len(), 1);
}

#[test]
fn empty_partials_combine_to_nothing() {
    let empty = PartialAccumulator::new();
    let back = PartialAccumulator::from_bytes(&empty.to_bytes()).unwrap();
    assert_eq!(back.chunk_count(), 0);
    assert_eq!(back.completion(), Accumulator::new().completion());
    assert_eq!(
        back.clone().combine(&empty).completion(),
        Accumulator::new().completion()
    );
}

#[test]
fn malformed_bytes_are_errors_not_panics() {
    let sources = vec![
        r#"{"id":"s","choices":[{"index":0,"delta":{"content":"hé","tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]}}]}"#.to_owned(),
    ];
    let chunks = parse_all(&sources);
    let mut partial = PartialAccumulator::new();
    partial.add(&chunks[0]);
    let bytes = partial.to_bytes();
    assert!(PartialAccumulator::from_bytes(&bytes).is_ok());
    // Every truncation, and every single-byte corruption.
    for len in 0..bytes.len() {
        let _ = PartialAccumulator::from_bytes(&bytes[..len]);
        assert!(PartialAccumulator::from_bytes(&bytes[..len]).is_err() || len >= 13);
    }
    for i in 0..bytes.len() {
        for b in [0u8, b'"', b'{', b'}', 0xff, b'x'] {
            let mut bad = bytes.clone();
            bad[i] = b;
            let _ = PartialAccumulator::from_bytes(&bad);
        }
    }
    let mut other = bytes.clone();
    other[4] = 9;
    assert!(
        matches!(PartialAccumulator::from_bytes(&other), Err(PartialError(m)) if m.contains("version 9"))
    );
    assert!(PartialAccumulator::from_bytes(b"hello").is_err());
    assert!(PartialAccumulator::from_bytes(b"").is_err());
}
