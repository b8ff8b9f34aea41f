//! The engine on small logs written to a temporary directory.

use std::io::Write;
use std::path::PathBuf;

use super::*;

fn temp(name: &str, content: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("chatchunk-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(content)
        .unwrap();
    path.to_string_lossy().into_owned()
}

fn chunk(id: &str, content: Option<&str>, finish: Option<&str>, usage: bool) -> String {
    let choices = match content {
        Some(text) => format!(
            r#"[{{"index":0,"delta":{{"content":{text:?}}},"finish_reason":{}}}]"#,
            finish.map_or("null".to_owned(), |f| format!("{f:?}"))
        ),
        None => "[]".to_owned(),
    };
    let usage = if usage {
        r#"{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}"#
    } else {
        "null"
    };
    format!(r#"{{"id":"{id}","model":"m","choices":{choices},"usage":{usage}}}"#)
}

fn interleaved() -> String {
    [
        chunk("a", Some("Hel"), None, false),
        chunk("b", Some("Bon"), None, false),
        chunk("a", Some("lo"), Some("stop"), false),
        chunk("b", Some("jour"), Some("stop"), false),
        chunk("b", None, None, true),
        String::new(),
        chunk("a", None, None, true),
        chunk("c", Some("cut"), None, false),
    ]
    .join("\n")
}

fn run(config: Config) -> (Vec<LogCompletion>, Option<Counts>) {
    let mut reader = LogReader::open(config).unwrap();
    let items: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    (items, reader.counts())
}

fn content(item: &LogCompletion) -> &str {
    item.completion.choices.get().unwrap()[0]
        .message
        .get()
        .unwrap()
        .content
        .get()
        .unwrap()
        .as_str()
}

#[test]
fn merges_interleaved_jsonl_in_completion_order() {
    for threads in [1, 3] {
        for block_size in [1024, 64 << 10] {
            let path = temp("interleaved.jsonl", interleaved().as_bytes());
            let mut config = Config::new(vec![path]);
            config.threads = threads;
            config.block_size = block_size;
            let (items, counts) = run(config);
            let keys: Vec<_> = items.iter().map(|i| i.key.as_str()).collect();
            assert_eq!(keys, ["b", "a", "c"]);
            assert_eq!(content(&items[0]), "Bonjour");
            assert_eq!(content(&items[1]), "Hello");
            assert_eq!(
                items.iter().map(|i| i.first_line).collect::<Vec<_>>(),
                [2, 1, 8]
            );
            assert_eq!(
                items.iter().map(|i| i.complete).collect::<Vec<_>>(),
                [true, true, false]
            );
            let counts = counts.unwrap();
            assert_eq!((counts.lines, counts.chunks, counts.bad_lines), (7, 7, 0));
            assert_eq!((counts.streams, counts.incomplete_streams), (3, 1));
        }
    }
}

#[test]
fn bad_records_raise_skip_or_quarantine() {
    let text = format!(
        "{}\nnot json\n[1]\n{}\n{{\"id\":\"b\",\"cho",
        chunk("a", Some("x"), None, false),
        chunk("a", Some("y"), None, false)
    );
    let path = temp("bad.jsonl", text.as_bytes());
    let mut reader = LogReader::open(Config::new(vec![path.clone()])).unwrap();
    match reader.next() {
        Some(Err(LogError::Bad(bad))) => assert_eq!((bad.source, bad.line), (0, 2)),
        other => panic!("{other:?}"),
    }
    let mut config = Config::new(vec![path.clone()]);
    config.errors = ErrorMode::Skip;
    let (items, counts) = run(config);
    assert_eq!(content(&items[0]), "xy");
    assert_eq!(counts.unwrap().bad_lines, 3);
    let quarantine = std::env::temp_dir().join(format!("chatchunk-q-{}", std::process::id()));
    let mut config = Config::new(vec![path]);
    config.errors = ErrorMode::Quarantine;
    config.quarantine = Some(quarantine.clone());
    let (_, counts) = run(config);
    let counts = counts.unwrap();
    assert_eq!(counts.lines, counts.chunks + counts.bad_lines);
    let bad = std::fs::read_to_string(&quarantine).unwrap();
    assert_eq!(bad, "not json\n[1]\n{\"id\":\"b\",\"cho\n");
}

#[test]
fn wrapped_records_and_sse() {
    let wrapped = format!(
        "{{\"request_id\": 7, \"response\": {{\"chunk\": {}}}}}\n{{\"request_id\": 7, \"response\": {{\"chunk\": {}}}}}\n",
        chunk("", Some("a"), None, false),
        chunk("", Some("b"), Some("stop"), true),
    );
    let path = temp("wrapped.jsonl", wrapped.as_bytes());
    let mut config = Config::new(vec![path]);
    config.key = Some("/request_id".into());
    config.chunk = Some("/response/chunk".into());
    let (items, _) = run(config);
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].key.as_str(), content(&items[0])), ("7", "ab"));

    let sse = format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\ndata:{}\n\n",
        chunk("s1", Some("a"), None, false),
        chunk("s1", Some("b"), Some("stop"), false),
        chunk("s2", Some("c"), None, false),
    );
    let path = temp("t.sse", sse.as_bytes());
    let (items, counts) = run(Config::new(vec![path]));
    assert_eq!(items.len(), 2);
    assert_eq!((content(&items[0]), items[0].complete), ("ab", true));
    assert_eq!((items[1].first_line, items[1].complete), (7, false));
    assert_eq!(counts.unwrap().lines, 3);
}

#[test]
fn compressed_inputs() {
    let text = interleaved();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = temp("log.jsonl.gz", &gz.finish().unwrap());
    let zst = temp(
        "log.jsonl.zst",
        &zstd::encode_all(text.as_bytes(), 1).unwrap(),
    );
    let plain = temp("log.jsonl", text.as_bytes());
    let on_disk: u64 = [&gz, &zst, &plain]
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let mut reader = LogReader::open(Config::new(vec![gz, zst, plain])).unwrap();
    let items: Vec<_> = reader.by_ref().map(Result::unwrap).collect();
    // Each file's `a` and `b` open new streams after the previous file's were emitted;
    // the unfinished `c` goes on across the files.
    assert_eq!(items.len(), 7);
    // Progress counts the bytes on disk: compressed ones for compressed files.
    let read = reader.progress().bytes_read.load(Ordering::Relaxed);
    assert_eq!(read, on_disk);
}

#[test]
fn finished_streams_without_usage_are_emitted_after_lingering() {
    let mut lines = vec![
        chunk("early", Some("a"), None, false),
        chunk("early", Some("b"), Some("stop"), false),
        chunk("cut", Some("never finished"), None, false),
    ];
    let n = LINGER as usize + LINGER as usize / 2;
    for i in 0..n / 2 {
        let id = format!("s{i}");
        lines.push(chunk(&id, Some("x"), Some("stop"), false));
        lines.push(chunk(&id, None, None, true));
    }
    let path = temp("linger.jsonl", lines.join("\n").as_bytes());
    for threads in [1, 2] {
        let mut config = Config::new(vec![path.clone()]);
        config.threads = threads;
        config.block_size = 256 << 10;
        let (items, counts) = run(config);
        let early = items.iter().position(|i| i.key == "early").unwrap();
        // Emitted once it had lingered, among the streams completed then, not at the end.
        assert!(early > 1000 && early < items.len() - 1000, "{early}");
        assert!(!items[early].complete);
        assert_eq!(content(&items[early]), "ab");
        assert_eq!(items.last().unwrap().key, "cut");
        assert_eq!(counts.unwrap().incomplete_streams, 2);
    }
}

#[test]
fn the_block_index_deals_each_record_to_its_keys_thread() {
    use super::worker::{shard_of, BlockIndex, KeyAt, Options};
    let options = Options::new(None, None);
    let lines = [
        r#"{"id":"a","choices":[]}"#.to_owned() + "\r",
        "  ".to_owned(),
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_1"}]}}],"id":"b"}"#.to_owned(),
        r#"{"id":"c\u0041","choices":[]}"#.to_owned(),
        r#"{"choices":[]}"#.to_owned(),
        r#"{"choices":[{"index":0,"#.to_owned(),
        r#"{"id":"a","choices":[]}"#.to_owned(),
    ];
    for ending in ["", "\n"] {
        let data = lines.join("\n") + ending;
        let data = data.as_bytes();
        let index = BlockIndex::new(data, &options, &[0, 0, 0]);
        assert_eq!(index.records, 6, "the blank line is no record");
        assert_eq!(index.lines_ended, if ending.is_empty() { 6 } else { 7 });
        let mut dealt: Vec<_> = index
            .shards
            .iter()
            .enumerate()
            .flat_map(|(shard, records)| records.iter().map(move |r| (r.number, shard, r)))
            .collect();
        dealt.sort_by_key(|(number, ..)| *number);
        let keys: Vec<_> = dealt
            .iter()
            .map(|(_, _, r)| r.key(data, &options).map(|(k, _)| k.into_owned()))
            .collect();
        let a = Some("a".to_owned());
        assert_eq!(
            keys,
            [
                a.clone(),
                Some("b".into()),
                Some("cA".into()),
                Some("".into()),
                None,
                a
            ]
        );
        for ((_, shard, record), key) in dealt.iter().zip(&keys) {
            // A record too broken to key goes to the first thread, to be reported there.
            assert_eq!(
                *shard,
                key.as_deref().map_or(0, |k| shard_of(options.hash(k), 3))
            );
            if let (Some(key), false) = (key, record.key == KeyAt::Unknown) {
                assert_eq!(
                    record.hash,
                    options.hash(key),
                    "the hash is the merging thread's"
                );
            }
            let text = &data[record.line.start..record.text_end];
            assert!(!text.ends_with(b"\r") && !text.is_empty());
        }
        // Only the escaped key is looked for again by its thread.
        let unknown: Vec<_> = dealt
            .iter()
            .map(|(_, _, r)| r.key == KeyAt::Unknown)
            .collect();
        assert_eq!(unknown, [false, false, true, false, true, false]);
        assert_eq!(
            dealt.iter().map(|(_, _, r)| r.at).collect::<Vec<_>>(),
            [0, 2, 3, 4, 5, 6]
        );
    }
}

#[test]
fn a_reader_dropped_midway_stops_and_partitions_merge_alike_on_any_thread_count() {
    // Many small blocks, many streams: every partition has work in most blocks.
    let mut lines = Vec::new();
    for n in 0..600 {
        let id = format!("s{}", n % 150);
        lines.push(if n < 450 {
            chunk(&id, Some(&format!("{n} ")), None, false)
        } else {
            chunk(&id, Some("."), Some("stop"), false)
        });
    }
    let path = temp("many-blocks.jsonl", lines.join("\n").as_bytes());
    let config = |threads| {
        let mut config = Config::new(vec![path.clone()]);
        config.threads = threads;
        config.block_size = 1024;
        config
    };
    let mut reader = LogReader::open(config(2)).unwrap();
    assert!(reader.next_completion().unwrap().is_ok());
    // Returns at once, its threads wind down on their own; a hang would fail the run.
    drop(reader);
    let merged = |threads| -> Vec<(String, String, u64)> {
        run(config(threads))
            .0
            .iter()
            .map(|i| (i.key.clone(), content(i).to_owned(), i.first_line))
            .collect()
    };
    let one = merged(1);
    assert_eq!(one.len(), 150);
    assert_eq!(one[0], ("s0".to_owned(), "0 150 300 .".to_owned(), 1));
    assert_eq!(merged(3), one);
}

#[test]
fn chunks_after_a_finish_merge_as_a_single_pass_does() {
    // Layouts are dropped once every choice has finished; a vendor that sends more after
    // its finish must still merge exactly.
    let lines = [
        chunk("a", Some("x"), None, false),
        chunk("a", Some("y"), None, false),
        chunk("a", Some("z"), Some("stop"), false),
        chunk("a", Some("late"), None, false),
        chunk("a", Some("later"), None, false),
        chunk("a", None, None, true),
    ];
    let mut single = crate::merge::Accumulator::new();
    for line in &lines {
        single.add(&crate::parse::parse(line.as_bytes(), false).unwrap());
    }
    let path = temp("after-finish.jsonl", lines.join("\n").as_bytes());
    let (items, _) = run(Config::new(vec![path]));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].completion, single.completion());
    assert_eq!(content(&items[0]), "xyzlatelater");
}
