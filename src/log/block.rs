//! One block of JSONL records merged on its own, for engines that spread a log over many
//! workers (`chatchunk.dask`).
//!
//! A block is cut from a log at line boundaries, so a stream may have begun in an earlier
//! block or go on in a later one. Within the block, records are merged per key (templates
//! included) into [`Piece`]s, and a piece ends at every usage-only chunk: whether that
//! chunk ends its stream (the single-machine rule: once every choice has finished) may
//! depend on what earlier blocks hold. [`combine_pieces`] applies the rule to the combined
//! states, in input order; [`MergedBlock::into_parts`] does so at once for the keys that no
//! earlier block left open, so only the streams that cross blocks travel.

use std::collections::{HashMap, HashSet};

use crate::merge::PartialAccumulator;

use super::worker::{record, record_text, usage_only, Item, Lines, Options, StreamLayout};
use super::Pointer;

/// A key's records in one block, merged, up to the end of their stream or of the block.
#[derive(Debug, Clone)]
pub struct Piece {
    pub key: String,
    /// The line of the piece's first record in the block (0-based).
    pub first_line: u64,
    pub state: PartialAccumulator,
    /// The last chunk was a usage report without choices (the piece ended there).
    pub ends_with_usage: bool,
    /// The piece ended its stream whatever came before: `ends_with_usage`, and its own
    /// state was finished.
    pub ended: bool,
}

/// A record of the block that is not a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockBadRecord {
    /// 0-based line in the block.
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct MergedBlock {
    /// In order of their first record.
    pub pieces: Vec<Piece>,
    /// Lines in the block, blank ones included.
    pub lines: u64,
    pub bad: Vec<BlockBadRecord>,
}

impl MergedBlock {
    /// Merges `data`, whole JSONL lines (the last may lack its line end). `key` and `chunk`
    /// locate the grouping key and the chunk in each record, as for the log engine.
    pub fn merge(data: &[u8], key: Option<Pointer>, chunk: Option<Pointer>) -> MergedBlock {
        let mut merger = BlockMerger::new(key, chunk);
        merger.feed(data);
        merger.finish()
    }
}

/// Merges a block given a few lines at a time, so that it need not be in memory whole.
pub struct BlockMerger {
    options: Options,
    block: MergedBlock,
    /// The piece each key's records go to, and the layout of its last chunk.
    open: HashMap<String, (usize, StreamLayout), foldhash::fast::RandomState>,
}

impl BlockMerger {
    pub fn new(key: Option<Pointer>, chunk: Option<Pointer>) -> BlockMerger {
        BlockMerger {
            options: Options::new(key, chunk),
            block: MergedBlock::default(),
            open: HashMap::default(),
        }
    }

    /// Merges the next lines of the block: whole lines, but for the block's last, which
    /// may lack its line end.
    pub fn feed(&mut self, data: &[u8]) {
        let BlockMerger {
            options,
            block,
            open,
        } = self;
        let before = block.lines;
        let mut lines = Lines::new(data);
        for (at, raw) in lines.by_ref() {
            let at = before + at;
            let Some(text) = record_text(raw) else {
                continue;
            };
            let scanned = options.scan_key(text);
            if let Some(key) = scanned.as_deref().filter(|_| options.chunk.is_none()) {
                if let Some((slot, layout)) = open.get_mut(key) {
                    if let Some((chunk, spans)) = layout.fill(text) {
                        let piece = &mut block.pieces[*slot];
                        piece.state.add_with_spans(&chunk, spans, text);
                        if piece.end_with(usage_only(&chunk)) {
                            open.remove(key);
                        }
                        continue;
                    }
                }
            }
            match record(text, 1, scanned, options) {
                Item::Chunk { key, chunk } => {
                    let first = !open.contains_key(key.as_ref());
                    if first {
                        open.insert(
                            key.clone().into_owned(),
                            (block.pieces.len(), StreamLayout::default()),
                        );
                        block.pieces.push(Piece {
                            key: key.clone().into_owned(),
                            first_line: at,
                            state: PartialAccumulator::new(),
                            ends_with_usage: false,
                            ended: false,
                        });
                    }
                    let (slot, layout) = open.get_mut(key.as_ref()).expect("inserted above");
                    let piece = &mut block.pieces[*slot];
                    // Decided before merging, as in the engine's partitions.
                    let learn =
                        options.chunk.is_none() && !first && !piece.state.opens_something(&chunk);
                    piece.state.add(&chunk);
                    if piece.end_with(usage_only(&chunk)) {
                        open.remove(key.as_ref());
                    } else if piece.state.choices_finished() {
                        layout.forget();
                    } else if learn {
                        // (An ended piece's layout would be dropped with it; see `learn` for
                        // the chunks that open something.)
                        layout.learn(text, chunk);
                    }
                }
                Item::Bad {
                    line: _,
                    column,
                    message,
                } => block.bad.push(BlockBadRecord {
                    line: at,
                    column,
                    message,
                    raw: raw.to_vec(),
                }),
            }
        }
        block.lines += lines.yielded();
    }

    pub fn finish(self) -> MergedBlock {
        self.block
    }
}

impl MergedBlock {
    /// The pieces that travel, to be combined with other blocks' pieces: see [`Fates`].
    /// Read in place (the states are copied): the streams the block holds whole can be
    /// finished apart, before or after. A block of only travelling pieces gives them all.
    pub fn travelling(&self, carried: &HashSet<String>, ahead: &HashSet<String>) -> Vec<Piece> {
        let Fates { fate, mut merged } = self.fates(carried, ahead);
        let mut out = Vec::new();
        for (at, piece) in self.pieces.iter().enumerate() {
            if let Fate::Travels = fate[at] {
                // A stream of several pieces travels as its combined state, already a copy.
                let (state, ends_with_usage) = merged
                    .remove(&at)
                    .unwrap_or_else(|| (piece.state.clone(), piece.ends_with_usage));
                out.push(Piece {
                    key: piece.key.clone(),
                    first_line: piece.first_line,
                    state,
                    ends_with_usage,
                    ended: piece.ended,
                });
            }
        }
        out
    }

    /// The streams the block holds whole (see [`Fates`]), each with its first line, in
    /// that order, and the pieces that travel, as [`travelling`](Self::travelling) gives
    /// them; both moved out of the block.
    pub fn into_parts(
        self,
        carried: &HashSet<String>,
        ahead: &HashSet<String>,
    ) -> (Vec<(PartialAccumulator, u64)>, Vec<Piece>) {
        let Fates { fate, mut merged } = self.fates(carried, ahead);
        let mut whole = Vec::new();
        let mut travelling = Vec::new();
        for (at, (mut piece, fate)) in self.pieces.into_iter().zip(fate).enumerate() {
            let combined = merged.remove(&at);
            match fate {
                Fate::Whole => {
                    let state = combined.map_or(piece.state, |(state, _)| state);
                    whole.push((state, piece.first_line));
                }
                Fate::Travels => {
                    if let Some((state, ends_with_usage)) = combined {
                        (piece.state, piece.ends_with_usage) = (state, ends_with_usage);
                    }
                    travelling.push(piece);
                }
                Fate::Merged => {}
            }
        }
        (whole, travelling)
    }

    /// What a split does with each piece.
    ///
    /// `carried`: the keys whose stream an earlier block left open; their pieces travel.
    /// The pieces of every other key are combined here: a stream that ends (the usage
    /// rule) is whole; so is one that finished every choice without a usage report, if
    /// its key is not in `ahead` (the keys that come again soon after the block, see
    /// [`LINGER`](super::LINGER)); the rest travel.
    ///
    /// Decided where the pieces lie, and in their order: each piece (456 bytes) moved
    /// through a map of open streams and a sort by first line was most of a split's time.
    fn fates(&self, carried: &HashSet<String>, ahead: &HashSet<String>) -> Fates {
        let mut fate = vec![Fate::Travels; self.pieces.len()];
        let mut merged = HashMap::new();
        // Per key not carried, the first piece of the stream its pieces make so far.
        let mut open: HashMap<&str, usize, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(self.pieces.len(), Default::default());
        for (at, piece) in self.pieces.iter().enumerate() {
            let key = piece.key.as_str();
            if carried.contains(key) {
                continue;
            }
            let Some(&head) = open.get(key) else {
                if ends_stream(&piece.state, piece.ends_with_usage) {
                    fate[at] = Fate::Whole;
                } else {
                    open.insert(key, at);
                }
                continue;
            };
            let first = &self.pieces[head];
            let (state, ends_with_usage) = merged
                .entry(head)
                .or_insert_with(|| (first.state.clone(), first.ends_with_usage));
            state.extend(&piece.state);
            *ends_with_usage = piece.ends_with_usage;
            fate[at] = Fate::Merged;
            if ends_stream(state, *ends_with_usage) {
                fate[head] = Fate::Whole;
                open.remove(key);
            }
        }
        for (key, head) in open {
            let state = merged.get(&head).map_or(&self.pieces[head].state, |m| &m.0);
            if state.choices_finished() && !ahead.contains(key) {
                fate[head] = Fate::Whole;
            }
        }
        Fates { fate, merged }
    }

    /// Every key of the block with the line of its first record, in that order.
    pub fn keys(&self) -> impl Iterator<Item = (&str, u64)> {
        let mut seen = HashSet::new();
        self.pieces
            .iter()
            .filter(move |p| seen.insert(p.key.as_str()))
            .map(|p| (p.key.as_str(), p.first_line))
    }

    /// The keys whose stream may be open at the end of the block, as two lists: those with
    /// a choice not finished, and those that finished every choice but reported no usage.
    pub fn open_keys(&self) -> (Vec<&str>, Vec<&str>) {
        let mut seen = HashSet::new();
        let mut unfinished = Vec::new();
        let mut unreported = Vec::new();
        // From the end: a key's first piece met is its last.
        for piece in self.pieces.iter().rev() {
            if !seen.insert(piece.key.as_str()) || piece.ended {
                continue;
            }
            if piece.state.choices_finished() {
                unreported.push(piece.key.as_str());
            } else {
                unfinished.push(piece.key.as_str());
            }
        }
        unfinished.reverse();
        unreported.reverse();
        (unfinished, unreported)
    }
}

/// Bytes of a file read and merged at a time by `merge_file`.
const READ_WINDOW: usize = 4 << 20;

/// Merges the lines of a local file that start in `[start, end)` (a line belongs to the
/// block where it starts), reading them a few MiB at a time into one buffer: a block of
/// 64 MiB read whole cost as much in fresh pages the kernel zeroes as in merging. Also
/// returns the bytes of those lines.
pub fn merge_file(
    path: &std::path::Path,
    (start, end): (u64, u64),
    key: Option<Pointer>,
    chunk: Option<Pointer>,
) -> std::io::Result<(MergedBlock, usize)> {
    merge_file_by(path, (start, end), key, chunk, READ_WINDOW)
}

fn merge_file_by(
    path: &std::path::Path,
    (start, end): (u64, u64),
    key: Option<Pointer>,
    chunk: Option<Pointer>,
    window: usize,
) -> std::io::Result<(MergedBlock, usize)> {
    use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom};
    let mut file = BufReader::new(std::fs::File::open(path)?);
    // Where the first line starting at or after `at` starts.
    let mut line_start = |at: u64| -> std::io::Result<u64> {
        if at == 0 {
            return Ok(0);
        }
        file.seek(SeekFrom::Start(at - 1))?;
        let mut skipped = Vec::new();
        let n = file.read_until(b'\n', &mut skipped)?;
        Ok(at - 1 + n as u64)
    };
    let begin = line_start(start)?;
    let stop = line_start(end)?.max(begin);
    let mut merger = BlockMerger::new(key, chunk);
    let mut left = stop - begin;
    file.seek(SeekFrom::Start(begin))?;
    let mut buf = Vec::with_capacity(window);
    while left > 0 {
        // A line longer than the window doubles it.
        let room = if buf.len() < window {
            window - buf.len()
        } else {
            buf.len()
        };
        let want = left.min(room as u64);
        let read = (&mut file).take(want).read_to_end(&mut buf)?;
        if read as u64 != want {
            return Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                "the file got shorter",
            ));
        }
        left -= want;
        let cut = match memchr::memrchr(b'\n', &buf) {
            _ if left == 0 => buf.len(),
            Some(i) => i + 1,
            None => continue,
        };
        merger.feed(&buf[..cut]);
        buf.drain(..cut);
    }
    Ok((merger.finish(), (stop - begin) as usize))
}

impl Piece {
    /// Notes whether the chunk just merged was a usage-only report; returns whether that
    /// ended the piece.
    fn end_with(&mut self, usage_only: bool) -> bool {
        self.ends_with_usage = usage_only;
        self.ended = ends_stream(&self.state, usage_only);
        usage_only
    }
}

/// The single-machine engine's end rule: a stream ends at a usage-only chunk once every
/// choice has finished. `ends_with_usage`: the state's last chunk was one.
fn ends_stream(state: &PartialAccumulator, ends_with_usage: bool) -> bool {
    ends_with_usage && state.is_finished()
}

/// What a split does with a piece.
#[derive(Clone, Copy)]
enum Fate {
    /// It starts a stream the block holds whole.
    Whole,
    /// It travels: its key was carried in, or it starts a stream that may go on after the
    /// block.
    Travels,
    /// It was merged into the first piece of its stream.
    Merged,
}

/// Each piece's [`Fate`], and the combined state (with whether its last chunk was a
/// usage-only report) of each stream of several pieces, by the index of its first.
struct Fates {
    fate: Vec<Fate>,
    merged: HashMap<usize, (PartialAccumulator, bool)>,
}

/// The streams that one key's pieces, in input order, make: a stream ends with a piece
/// whose last chunk is a usage-only report once the combined state is finished (the
/// single-machine engine's rule), and the next piece starts another. Each stream comes
/// with the tag of its first piece.
pub fn combine_pieces<T>(
    pieces: impl IntoIterator<Item = (PartialAccumulator, bool, T)>,
) -> Vec<(PartialAccumulator, T)> {
    let mut streams: Vec<(PartialAccumulator, T)> = Vec::new();
    let mut open = false;
    for (state, ends_with_usage, tag) in pieces {
        match streams.last_mut() {
            Some((acc, _)) if open => acc.extend(&state),
            _ => streams.push((state, tag)),
        }
        let acc = &streams.last().expect("a stream was just pushed").0;
        open = !ends_stream(acc, ends_with_usage);
    }
    streams
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::Accumulator;
    use crate::model::{Chunk, Mode, With};
    use crate::parse::parse;

    const ID: &str = "chatcmpl-1";

    fn line(id: &str, body: &str) -> String {
        format!(
            r#"{{"id":"{id}","object":"chat.completion.chunk","created":1,"model":"m",{body}}}"#
        )
    }

    fn content(id: &str, text: &str) -> String {
        line(
            id,
            &format!(
                r#""choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":null}}]"#
            ),
        )
    }

    fn finish(id: &str) -> String {
        line(
            id,
            r#""choices":[{"index":0,"delta":{},"finish_reason":"stop"}]"#,
        )
    }

    fn usage(id: &str) -> String {
        line(
            id,
            r#""choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}"#,
        )
    }

    fn json(acc: &PartialAccumulator) -> String {
        serde_json::to_string(&With(&acc.completion(), Mode::Lossless)).unwrap()
    }

    fn single_pass(lines: &[String]) -> String {
        let mut acc = Accumulator::new();
        for l in lines {
            acc.add(&parse::<Chunk>(l.as_bytes(), false).unwrap());
        }
        serde_json::to_string(&With(&acc.completion(), Mode::Lossless)).unwrap()
    }

    fn open(block: &MergedBlock) -> Vec<&str> {
        let (mut unfinished, unreported) = block.open_keys();
        unfinished.extend(unreported);
        unfinished
    }

    fn block(lines: &[String]) -> MergedBlock {
        MergedBlock::merge(lines.join("\n").as_bytes(), None, None)
    }

    /// The block's whole streams and travelling pieces, as a Dask split gets them, in
    /// either order.
    fn split(
        block: MergedBlock,
        carried: &HashSet<String>,
        ahead: &HashSet<String>,
    ) -> (Vec<(PartialAccumulator, u64)>, Vec<Piece>) {
        let travelling = block.travelling(carried, ahead);
        let (whole, moved) = block.into_parts(carried, ahead);
        assert_eq!(piece_list(&moved), piece_list(&travelling));
        // What is left of a block once its whole streams are out travels, all of it.
        let rest = MergedBlock {
            pieces: moved,
            ..MergedBlock::default()
        };
        assert_eq!(
            piece_list(&rest.travelling(carried, ahead)),
            piece_list(&travelling)
        );
        assert!(rest.into_parts(carried, ahead).0.is_empty());
        (whole, travelling)
    }

    fn piece_list(pieces: &[Piece]) -> Vec<(String, u64, bool, bool, Vec<u8>)> {
        pieces
            .iter()
            .map(|p| {
                let state = p.state.to_bytes();
                (
                    p.key.clone(),
                    p.first_line,
                    p.ends_with_usage,
                    p.ended,
                    state,
                )
            })
            .collect()
    }

    #[test]
    fn a_stream_cut_at_every_line_combines_to_the_single_pass() {
        let mut lines = vec![content(ID, "a")];
        lines.extend((0..6).map(|i| content(ID, &format!("w{i} "))));
        lines.push(finish(ID));
        lines.push(usage(ID));
        for cut in 1..lines.len() {
            let (a, b) = (block(&lines[..cut]), block(&lines[cut..]));
            assert_eq!(open(&a), [ID]);
            if cut + 1 < lines.len() {
                assert!(open(&b).is_empty(), "cut at {cut}");
            } else {
                // The usage report alone: only the combined state knows every choice
                // finished, so the piece stays open and the combination ends it.
                assert_eq!(open(&b), [ID]);
            }
            let pieces = a.pieces.into_iter().chain(b.pieces);
            let streams = combine_pieces(pieces.map(|p| (p.state, p.ends_with_usage, p.key)));
            assert_eq!(streams.len(), 1);
            assert!(streams[0].0.is_finished());
            assert_eq!(json(&streams[0].0), single_pass(&lines), "cut at {cut}");
        }
    }

    #[test]
    fn a_key_reused_after_its_stream_ended_starts_a_new_piece() {
        let lines = [
            content(ID, "one"),
            finish(ID),
            usage(ID),
            content(ID, "two"),
        ];
        let b = block(&lines);
        assert_eq!(b.pieces.len(), 2);
        assert!(b.pieces[0].ended);
        assert_eq!((b.pieces[1].first_line, b.pieces[1].ended), (3, false));
        assert_eq!(b.open_keys(), (vec![ID], vec![]));
        assert_eq!(b.keys().collect::<Vec<_>>(), [(ID, 0)]);
    }

    #[test]
    fn combining_ends_a_stream_only_once_the_combined_state_is_finished() {
        // The finish reason is in the first piece, the usage report in the second: only
        // combined is the stream finished, and the third piece is a new stream.
        let first = block(&[content(ID, "x"), finish(ID)]);
        let second = block(&[usage(ID)]);
        assert!(!second.pieces[0].ended);
        let third = block(&[content(ID, "again")]);
        let pieces = [first, second, third]
            .into_iter()
            .enumerate()
            .flat_map(|(n, b)| {
                b.pieces
                    .into_iter()
                    .map(move |p| (p.state, p.ends_with_usage, n))
            });
        let streams = combine_pieces(pieces);
        assert_eq!(streams.iter().map(|s| s.1).collect::<Vec<_>>(), [0, 2]);
        assert!(streams[0].0.is_finished());
        assert_eq!(streams[0].0.chunk_count(), 3);
        assert!(!streams[1].0.is_finished());
    }

    #[test]
    fn split_keeps_whole_streams_and_sends_the_others() {
        let (a, b, c) = ("chatcmpl-a", "chatcmpl-b", "chatcmpl-c");
        let lines = [
            content(b, "late "),
            content(a, "x"),
            content(c, "open"),
            finish(a),
            finish(b),
            usage(a),
            usage(b),
            content(a, "again"),
            finish(a),
            usage(a),
        ];
        let block = block(&lines);
        let carried = HashSet::from([b.to_owned()]);
        let (whole, travelling) = split(block, &carried, &HashSet::new());
        // `a` twice (its key reused after the end), `b` carried in, `c` still open.
        assert_eq!(whole.iter().map(|w| w.1).collect::<Vec<_>>(), [1, 7]);
        assert!(whole.iter().all(|w| w.0.is_finished()));
        let sent: Vec<_> = travelling
            .iter()
            .map(|p| (p.key.as_str(), p.first_line))
            .collect();
        assert_eq!(sent, [(b, 0), (c, 2)]);
        // A usage report alone ends a piece that only the combination can judge.
        let (whole, travelling) = split(
            MergedBlock::merge(usage(a).as_bytes(), None, None),
            &carried,
            &carried,
        );
        assert!(whole.is_empty());
        assert!(travelling[0].ends_with_usage && !travelling[0].ended);
    }

    #[test]
    fn a_stream_of_several_pieces_is_one_stream_whole_or_travelling() {
        let (d, e, f) = ("chatcmpl-d", "chatcmpl-e", "chatcmpl-f");
        let lines = [
            content(d, "one "),
            // Ends `d`'s first piece, not its stream: no choice has finished yet.
            usage(d),
            content(e, "x"),
            content(f, "a"),
            usage(f),
            finish(e),
            usage(e),
            content(d, "two"),
            finish(d),
            usage(d),
            // `f` goes on after the block.
            content(f, "b"),
        ];
        let block = block(&lines);
        assert_eq!(block.pieces.len(), 5);
        let (whole, travelling) = split(block, &HashSet::new(), &HashSet::new());
        // `d` ends after `e` but began before it.
        assert_eq!(whole.iter().map(|w| w.1).collect::<Vec<_>>(), [0, 2]);
        assert!(whole.iter().all(|w| w.0.is_finished()));
        assert_eq!(whole[0].0.chunk_count(), 5);
        let d_lines: Vec<String> = lines.iter().filter(|l| l.contains(d)).cloned().collect();
        assert_eq!(json(&whole[0].0), single_pass(&d_lines));
        // `f`'s two pieces travel as one, from its first line.
        assert_eq!(travelling.len(), 1);
        let sent = &travelling[0];
        assert_eq!((sent.key.as_str(), sent.first_line), (f, 3));
        assert!(!sent.ends_with_usage);
        let f_lines: Vec<String> = lines.iter().filter(|l| l.contains(f)).cloned().collect();
        assert_eq!(json(&sent.state), single_pass(&f_lines));
    }

    #[test]
    fn a_stream_without_usage_report_is_whole_unless_the_next_block_has_its_key() {
        let lines = [content(ID, "x"), finish(ID)];
        let block = block(&lines);
        assert_eq!(block.open_keys(), (vec![], vec![ID]));
        let (whole, travelling) = split(block.clone(), &HashSet::new(), &HashSet::new());
        assert_eq!((whole.len(), travelling.len()), (1, 0));
        assert!(whole[0].0.choices_finished() && !whole[0].0.is_finished());
        let ahead = HashSet::from([ID.to_owned()]);
        let (whole, travelling) = split(block, &HashSet::new(), &ahead);
        assert_eq!((whole.len(), travelling.len()), (0, 1));
    }

    #[test]
    fn a_file_merges_block_by_block_and_window_by_window_as_read_whole() {
        let mut lines: Vec<String> = (0..9).map(|n| content(ID, &format!("w{n} "))).collect();
        lines.insert(2, "not json".to_owned());
        lines.insert(5, String::new());
        lines.insert(7, content("chatcmpl-2", "other"));
        lines.push(usage(ID));
        let text = lines.join("\n");
        let dir = std::env::temp_dir().join(format!("chatchunk-block-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lines.jsonl");
        std::fs::write(&path, &text).unwrap();
        let whole = MergedBlock::merge(text.as_bytes(), None, None);
        let size = text.len() as u64;
        for window in [1, 9, 100, 1 << 20] {
            let (block, bytes) = merge_file_by(&path, (0, size), None, None, window).unwrap();
            assert_eq!(
                format!("{block:?}"),
                format!("{whole:?}"),
                "window {window}"
            );
            assert_eq!(bytes, text.len());
            for blocks in 2..=7 {
                let bounds: Vec<u64> = (0..=blocks).map(|n| size * n / blocks).collect();
                let (mut lines_seen, mut bytes_seen, mut bad) = (0, 0, Vec::new());
                for cut in bounds.windows(2) {
                    let (block, bytes) =
                        merge_file_by(&path, (cut[0], cut[1]), None, None, window).unwrap();
                    // Each block starts at the start of a line, and holds its lines.
                    let at = bytes_seen;
                    assert!(at == 0 || text.as_bytes()[at - 1] == b'\n', "{cut:?}");
                    let held = text[at..at + bytes].split_terminator('\n').count() as u64;
                    assert_eq!(block.lines, held, "{cut:?}");
                    bad.extend(
                        block
                            .bad
                            .iter()
                            .map(|r| (lines_seen + r.line, r.raw.clone())),
                    );
                    lines_seen += block.lines;
                    bytes_seen += bytes;
                }
                assert_eq!((lines_seen, bytes_seen), (whole.lines, text.len()));
                assert_eq!(
                    bad,
                    [(2, b"not json".to_vec())],
                    "{blocks} blocks of {window}"
                );
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_lines_are_kept_with_their_line_and_column() {
        let lines = [
            content(ID, "a"),
            "{\"id\": oops".to_owned(),
            String::new(),
            "[1]".to_owned(),
        ];
        let b = block(&lines);
        assert_eq!(b.lines, 4);
        let got: Vec<_> = b
            .bad
            .iter()
            .map(|r| (r.line, r.column, r.raw.clone()))
            .collect();
        assert_eq!(
            got,
            [(1, 8, b"{\"id\": oops".to_vec()), (3, 1, b"[1]".to_vec())]
        );
        assert_eq!(b.pieces.len(), 1);
    }
}
