//! Which JSON parser should build `Chunk` on the hot path?
//!
//! Each input is one `chat.completion.chunk` as it arrives in an SSE `data:` line. Every
//! variant builds the same borrowed `Chunk<'_>`; the serde variants go through the same
//! hand-written visitors with a different `Deserializer` underneath:
//!
//! * `serde_json`         — `serde_json::from_slice` (borrows strings without escapes);
//! * `sonic_rs`           — `sonic_rs::from_slice` (borrows strings without escapes);
//! * `chatchunk_parse`    — `chatchunk::parse::parse(.., false)`, the production path: our
//!   own reader typed by the model, no serde layers (serde_json only explains failures);
//! * `simd_json`          — `simd_json::serde::from_slice`. It parses in place, so each
//!   iteration first copies the input into a fresh `Vec` — the copy (and its allocation) is
//!   part of the timing, because a caller holding `&[u8]` would have to pay it;
//! * `simd_json_reuse`    — the same, but the copy goes into a reused `Vec` and simd-json's
//!   scratch `Buffers` are reused too: its best case when a caller owns a mutable buffer.
//!
//! Run with `cargo bench --bench parsers`. Timing settings are short on purpose (the whole
//! run stays well under a minute); compare ratios, not absolute numbers.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use chatchunk::model::{Chunk, Text};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// (a) A plain content delta, the bulk of every stream.
const CONTENT: &str = r#"{"id":"chatcmpl-B7xQ2mVnR4kTz9LcWd1sFh8YpJe3a","object":"chat.completion.chunk","created":1740931200,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}"#;

/// (b) A content delta with `logprobs: true, top_logprobs: 3`.
const LOGPROBS: &str = r#"{"id":"chatcmpl-B7xQ2mVnR4kTz9LcWd1sFh8YpJe3a","object":"chat.completion.chunk","created":1740931200,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" Paris"},"logprobs":{"content":[{"token":" Paris","logprob":-0.0013844952,"bytes":[32,80,97,114,105,115],"top_logprobs":[{"token":" Paris","logprob":-0.0013844952,"bytes":[32,80,97,114,105,115]},{"token":" paris","logprob":-7.1263847,"bytes":[32,112,97,114,105,115]},{"token":" the","logprob":-9.875012,"bytes":[32,116,104,101]}]}],"refusal":null},"finish_reason":null}]}"#;

/// (c) A fragment of streamed tool-call arguments (JSON-in-a-string, so full of `\"`).
const TOOL_CALL: &str = r#"{"id":"chatcmpl-B7xQ2mVnR4kTz9LcWd1sFh8YpJe3a","object":"chat.completion.chunk","created":1740931200,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\": \"San Francisco, CA\", \"unit\": \""}}]},"logprobs":null,"finish_reason":null}]}"#;

/// (d) Content that needs unescaping: `\n`, `\"`, `\u00e9`, a surrogate-pair emoji, and
/// raw multi-byte UTF-8 (an emoji and a euro sign) alongside.
const ESCAPES: &str = r#"{"id":"chatcmpl-B7xQ2mVnR4kTz9LcWd1sFh8YpJe3a","object":"chat.completion.chunk","created":1740931200,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"Voil\u00e0:\n\"caf\u00e9 cr\u00e8me\" \u2014 3\u20ac \ud83d\ude80\nNext line 🚀 with a \\path\\ and a\ttab."},"logprobs":null,"finish_reason":null}]}"#;

const INPUTS: [(&str, &str); 4] = [
    ("a_content", CONTENT),
    ("b_logprobs", LOGPROBS),
    ("c_tool_call", TOOL_CALL),
    ("d_escapes", ESCAPES),
];

fn with_serde_json(input: &[u8]) -> Chunk<'_> {
    serde_json::from_slice(input).expect("serde_json parses the sample")
}

fn with_sonic_rs(input: &[u8]) -> Chunk<'_> {
    sonic_rs::from_slice(input).expect("sonic-rs parses the sample")
}

fn with_chatchunk(input: &[u8]) -> Chunk<'_> {
    chatchunk::parse::parse(input, false).expect("chatchunk parses the sample")
}

fn with_simd_json(buffer: &mut [u8]) -> Chunk<'_> {
    simd_json::serde::from_slice(buffer).expect("simd-json parses the sample")
}

/// The string the benchmark is mostly about: delta content, or else the tool-call arguments.
fn payload<'c>(chunk: &'c Chunk<'_>) -> &'c Text<'c> {
    let delta = chunk.choices.get().unwrap()[0].delta.get().unwrap();
    match delta.content.get() {
        Some(content) => content,
        None => {
            let call = &delta.tool_calls.get().unwrap()[0];
            &call.function.get().unwrap().arguments.get().unwrap().text
        }
    }
}

fn borrowed(text: &Text<'_>) -> &'static str {
    match text.0 {
        Cow::Borrowed(_) => "borrowed",
        Cow::Owned(_) => "owned",
    }
}

/// Before timing anything: every parser must build the very same `Chunk` from each input.
/// Also reports whether the main string came out borrowed or owned.
fn check_agreement() {
    for (name, json) in INPUTS {
        let input = json.as_bytes();
        let reference = with_serde_json(input);
        let sonic = with_sonic_rs(input);
        let production = with_chatchunk(input);
        let mut copy = input.to_vec();
        let simd = with_simd_json(&mut copy);
        assert_eq!(
            sonic, reference,
            "{name}: sonic-rs disagrees with serde_json"
        );
        assert_eq!(
            production, reference,
            "{name}: parse() disagrees with serde_json"
        );
        assert_eq!(
            simd, reference,
            "{name}: simd-json disagrees with serde_json"
        );
        eprintln!(
            "{name}: {} bytes; payload string is {} (serde_json), {} (sonic-rs), {} (simd-json)",
            input.len(),
            borrowed(payload(&reference)),
            borrowed(payload(&sonic)),
            borrowed(payload(&simd)),
        );
    }
}

fn parsers(c: &mut Criterion) {
    check_agreement();
    for (name, json) in INPUTS {
        let input = json.as_bytes();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(input.len() as u64));

        group.bench_with_input(BenchmarkId::from_parameter("serde_json"), input, |b, i| {
            b.iter(|| black_box(with_serde_json(black_box(i))))
        });
        group.bench_with_input(BenchmarkId::from_parameter("sonic_rs"), input, |b, i| {
            b.iter(|| black_box(with_sonic_rs(black_box(i))))
        });
        group.bench_with_input(
            BenchmarkId::from_parameter("chatchunk_parse"),
            input,
            |b, i| b.iter(|| black_box(with_chatchunk(black_box(i)))),
        );
        // The copy into a fresh, owned buffer is deliberately inside the timed closure.
        group.bench_with_input(BenchmarkId::from_parameter("simd_json"), input, |b, i| {
            b.iter(|| {
                let mut copy = black_box(i).to_vec();
                let chunk = with_simd_json(&mut copy);
                black_box(&chunk);
            })
        });
        // Copy still timed, but into a reused buffer, with simd-json's scratch reused too.
        group.bench_with_input(
            BenchmarkId::from_parameter("simd_json_reuse"),
            input,
            |b, i| {
                let mut copy = Vec::with_capacity(i.len());
                let mut scratch = simd_json::Buffers::new(i.len());
                b.iter(|| {
                    copy.clear();
                    copy.extend_from_slice(black_box(i));
                    let chunk: Chunk<'_> =
                        simd_json::serde::from_slice_with_buffers(&mut copy, &mut scratch)
                            .expect("simd-json parses the sample");
                    black_box(&chunk);
                })
            },
        );
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(40);
    targets = parsers
}
criterion_main!(benches);
