//! Opening one input: a file or stdin, gzip or zstd compressed or plain, counting the bytes
//! read from disk for the progress bar.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Progress;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Counts the compressed bytes read, for progress reports.
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

/// One opened input.
pub struct Input {
    reader: Box<dyn Read + Send>,
    /// Where to count the bytes read, for a plain input; a compressed one counts its
    /// compressed bytes as it reads them.
    plain: Option<Arc<Progress>>,
    /// The start of a plain input, read to look for a compression's magic bytes.
    head: Vec<u8>,
}

/// Opens `path` (`-` is stdin). Compression is recognised by its magic bytes, whatever the
/// file is called: gzip (`.gz`, concatenated members too) and zstd (`.zst`).
pub fn open(path: &str, progress: Arc<Progress>) -> io::Result<Input> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    let mut reader = BufReader::with_capacity(256 * 1024, raw);
    let head = reader.fill_buf()?;
    let compressed = head.starts_with(GZIP_MAGIC) || head.starts_with(ZSTD_MAGIC);
    if !compressed {
        // Read from directly, not through the buffer: the reads that fill a block start
        // small, and each of those went through the buffer, a copy of an eighth of the
        // input. (Nor wrapped: a wrapper without its own `read_buf` would have every block
        // zeroed before it is read into.)
        let head = reader.buffer().to_vec();
        return Ok(Input {
            reader: reader.into_inner(),
            plain: Some(progress),
            head,
        });
    }
    let gzip = head.starts_with(GZIP_MAGIC);
    let counted = BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: reader,
            progress,
        },
    );
    let reader: Box<dyn Read + Send> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(counted))
    } else {
        Box::new(zstd::stream::read::Decoder::with_buffer(counted)?)
    };
    Ok(Input {
        reader,
        plain: None,
        head: Vec::new(),
    })
}

impl Input {
    /// Reads until `buf` holds `want` more bytes or the input ends; false at the end.
    pub fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
        let head = self.head.len().min(want);
        buf.extend(self.head.drain(..head));
        // `read_to_end` reads into spare capacity without zeroing it first.
        let read = head
            + (&mut self.reader)
                .take((want - head) as u64)
                .read_to_end(buf)?;
        if let Some(progress) = &self.plain {
            progress
                .bytes_read
                .fetch_add(read as u64, Ordering::Relaxed);
        }
        Ok(read == want)
    }
}
