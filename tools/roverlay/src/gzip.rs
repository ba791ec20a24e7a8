//! Parallel gzip for `commit`: the stream is cut into chunks of a fixed
//! size, each compressed on a thread of its own as an independent gzip
//! member, and the members written in order. RFC 1952 allows a file of
//! several members; gzip(1), Go's compress/gzip (umoci, containerd) and
//! flate2's `MultiGzDecoder` read it as one stream. The chunks are cut
//! where the stream is, not where the threads are, so the same input
//! gives the same bytes on any machine. Each chunk gets a thread of its
//! own (a spawn costs microseconds, a MiB of deflate tens of
//! milliseconds): no pool, queue or shutdown to get right.
//!
//! zlib writes and reads the gzip wrapper (header, CRC-32, length) itself
//! (`Compress::new_gzip`, `Decompress::new_gzip`): no second gzip layer
//! and checksum in the binary.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};
use std::thread::{self, JoinHandle};

use flate2::write::ZlibEncoder;
use flate2::{Compress, Compression, Decompress, FlushDecompress, Status};

/// zlib's largest window, 32 KiB.
const WINDOW_BITS: u8 = 15;

/// Input bytes per gzip member. Each member starts with an empty window,
/// which costs 0.005% in size at this length; 4 MiB was no faster on two
/// cores and holds four times the memory.
pub const CHUNK: usize = 1 << 20;

/// A `Write` that gzips what it is given on as many threads as the machine
/// has cores; [`ParGzEncoder::finish`] writes the rest and gives the inner
/// writer back. At most one chunk per thread is in flight, besides the one
/// being filled.
pub struct ParGzEncoder<W: Write> {
    inner: W,
    level: Compression,
    chunk: usize,
    buf: Vec<u8>,
    /// Members being compressed, oldest first.
    pending: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
    threads: usize,
    /// Whether a member was started: an empty stream still gets one.
    started: bool,
}

impl<W: Write> ParGzEncoder<W> {
    /// An encoder at `level` cutting the stream every `chunk` bytes.
    pub fn new(inner: W, level: Compression, chunk: usize) -> Self {
        let chunk = chunk.max(1);
        ParGzEncoder {
            inner,
            level,
            chunk,
            buf: Vec::with_capacity(chunk),
            pending: VecDeque::new(),
            threads: common::process::cpus(),
            started: false,
        }
    }

    /// Hands the filled chunk to a thread, first writing out the oldest
    /// member when every thread is busy.
    fn send(&mut self) -> io::Result<()> {
        while self.pending.len() >= self.threads {
            self.write_oldest()?;
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(self.chunk));
        let level = self.level;
        let worker = thread::Builder::new().name("roverlay-gzip".into());
        let handle = worker.spawn(move || {
            let mut gz =
                ZlibEncoder::new_with_compress(Vec::new(), Compress::new_gzip(level, WINDOW_BITS));
            gz.write_all(&data)?;
            gz.finish()
        })?;
        self.pending.push_back(handle);
        self.started = true;
        Ok(())
    }

    /// Waits for the oldest member and writes it out.
    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(handle) = self.pending.pop_front() {
            let member = handle
                .join()
                .map_err(|_| io::Error::other("a gzip thread panicked"))??;
            self.inner.write_all(&member)?;
        }
        Ok(())
    }

    /// Compresses and writes what is buffered, and waits for every member.
    fn drain(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() || !self.started {
            self.send()?;
        }
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Writes the last members and gives back the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.drain()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ParGzEncoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() == self.chunk {
            self.send()?;
        }
        let n = data.len().min(self.chunk - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    /// Ends the current member early, so that all written so far reaches
    /// the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

/// A `Read` of the gzip members `inner` holds, one after another, as one
/// stream (flate2's `MultiGzDecoder`): a corrupt member, or a stream that
/// ends inside one, is an error.
pub struct MultiGzReader<R: BufRead> {
    inner: R,
    inflate: Decompress,
}

impl<R: BufRead> MultiGzReader<R> {
    pub fn new(inner: R) -> Self {
        MultiGzReader {
            inner,
            inflate: Decompress::new_gzip(WINDOW_BITS),
        }
    }
}

impl<R: BufRead> Read for MultiGzReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                // Between two members, or inside one.
                if self.inflate.total_in() == 0 {
                    return Ok(0);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the gzip stream ends inside a member",
                ));
            }
            let (read, written) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, out, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let used = (self.inflate.total_in() - read) as usize;
            let made = (self.inflate.total_out() - written) as usize;
            self.inner.consume(used);
            if status == Status::StreamEnd {
                self.inflate = Decompress::new_gzip(WINDOW_BITS);
            }
            if made > 0 || out.is_empty() {
                return Ok(made);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn round_trip(data: &[u8], chunk: usize) -> (Vec<u8>, Vec<u8>) {
        let mut gz = ParGzEncoder::new(Vec::new(), Compression::default(), chunk);
        gz.write_all(data).unwrap();
        let packed = gz.finish().unwrap();
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&packed[..])
            .read_to_end(&mut out)
            .unwrap();
        (packed, out)
    }

    /// Bytes that compress somewhat, and differ from chunk to chunk.
    fn sample(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 / 5 % 251) as u8).collect()
    }

    /// The number of gzip members in `packed`.
    fn members(mut packed: &[u8]) -> usize {
        let mut n = 0;
        while !packed.is_empty() {
            let mut one = flate2::bufread::GzDecoder::new(packed);
            io::copy(&mut one, &mut io::sink()).unwrap();
            packed = one.into_inner();
            n += 1;
        }
        n
    }

    #[test]
    fn empty_input_is_one_empty_member() {
        let (packed, out) = round_trip(b"", 16);
        assert!(out.is_empty());
        assert_eq!(members(&packed), 1);
    }

    #[test]
    fn one_byte() {
        let (packed, out) = round_trip(b"x", 16);
        assert_eq!(out, b"x");
        assert_eq!(members(&packed), 1);
    }

    #[test]
    fn exactly_one_chunk_is_one_member() {
        let data = sample(4096);
        let (packed, out) = round_trip(&data, 4096);
        assert_eq!(out, data);
        assert_eq!(members(&packed), 1);
    }

    #[test]
    fn several_chunks_come_back_in_order() {
        let data = sample(10 * 4096 + 123);
        let (packed, out) = round_trip(&data, 4096);
        assert_eq!(out, data);
        assert_eq!(members(&packed), 11);
        // Cut where the stream is: the same bytes however it was written.
        let mut gz = ParGzEncoder::new(Vec::new(), Compression::default(), 4096);
        for piece in data.chunks(1000) {
            gz.write_all(piece).unwrap();
        }
        assert_eq!(gz.finish().unwrap(), packed);
    }

    #[test]
    fn flush_ends_a_member_and_reaches_the_inner_writer() {
        let mut gz = ParGzEncoder::new(Vec::new(), Compression::default(), 4096);
        gz.write_all(b"first").unwrap();
        gz.flush().unwrap();
        gz.write_all(b"second").unwrap();
        let packed = gz.finish().unwrap();
        assert_eq!(members(&packed), 2);
        let mut out = String::new();
        flate2::read::MultiGzDecoder::new(&packed[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "firstsecond");
    }

    fn unpacked(packed: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        MultiGzReader::new(packed).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn the_reader_reads_every_member_as_one_stream() {
        let data = sample(10 * 4096 + 123);
        let (packed, _) = round_trip(&data, 4096);
        assert_eq!(unpacked(&packed).unwrap(), data);
        // gzip(1)'s own, one member.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&data).unwrap();
        assert_eq!(unpacked(&gz.finish().unwrap()).unwrap(), data);
        let (empty, _) = round_trip(b"", 16);
        assert_eq!(unpacked(&empty).unwrap(), b"");
    }

    #[test]
    fn the_reader_refuses_a_cut_or_corrupt_stream() {
        let data = sample(3 * 4096);
        let (packed, _) = round_trip(&data, 4096);
        for cut in [1, 10, packed.len() / 2, packed.len() - 1] {
            let err = unpacked(&packed[..cut]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        let mut bad = packed.clone();
        bad[0] ^= 0xff;
        let err = unpacked(&bad).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        let mut trailing = packed;
        trailing.extend_from_slice(b"garbage");
        assert!(unpacked(&trailing).is_err());
    }

    /// Takes `room` bytes, then fails.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let n = data.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_error_of_the_inner_writer_comes_back() {
        let data = sample(64 * 4096);
        let mut gz = ParGzEncoder::new(Full { room: 100 }, Compression::default(), 4096);
        let written = gz.write_all(&data).and_then(|()| gz.finish().map(drop));
        let err = written.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
    }
}
