//! Opening one input: a file or stdin, gzip or zstd compressed or plain, counting the bytes
//! read from disk for the progress bar.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Progress;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Counts the (compressed) bytes read, for progress reports.
struct Counting<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress
            .bytes_read
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `path` (`-` is stdin). Compression is recognised by its magic bytes, whatever the
/// file is called: gzip (`.gz`, concatenated members too) and zstd (`.zst`).
pub fn open(path: &str, progress: Arc<Progress>) -> io::Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    let mut reader = BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: raw,
            progress,
        },
    );
    let head = reader.fill_buf()?;
    Ok(if head.starts_with(GZIP_MAGIC) {
        Box::new(flate2::bufread::MultiGzDecoder::new(reader))
    } else if head.starts_with(ZSTD_MAGIC) {
        Box::new(zstd::stream::read::Decoder::with_buffer(reader)?)
    } else {
        Box::new(reader)
    })
}

/// Reads until `buf` holds `want` more bytes or the input ends; false at the end.
pub fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    // `read_to_end` reads into spare capacity without zeroing it first (a `resize` did,
    // and that was 6% of a run).
    let read = reader.take(want as u64).read_to_end(buf)?;
    Ok(read == want)
}
