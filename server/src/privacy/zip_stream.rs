//! A minimal streaming ZIP writer: deflated entries with data descriptors,
//! so nothing needs seeking and memory stays bounded. Entries up to 4 GiB
//! (no ZIP64).

use std::io::{self, Write};

use flate2::write::DeflateEncoder;
use flate2::Compression;

struct CountingWriter<W: Write> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Entry {
    name: String,
    offset: u32,
    crc: u32,
    compressed: u32,
    size: u32,
}

pub struct ZipStream<W: Write> {
    out: CountingWriter<W>,
    entries: Vec<Entry>,
}

/// One entry being written; call [`EntryWriter::finish`] when done.
pub struct EntryWriter<'a, W: Write> {
    zip: &'a mut ZipStream<W>,
    /// Input gathered before it reaches the encoder: the encoder clears its
    /// whole output buffer on every write, so many small writes (a JSON
    /// value is written piece by piece) cost more than the compression.
    pending: Vec<u8>,
    encoder: DeflateEncoder<Vec<u8>>,
    crc: crc32fast::Hasher,
    size: u64,
    name: String,
    offset: u64,
    compressed: u64,
}

const DOS_TIME: u16 = 0;
const INPUT_CHUNK: usize = 32 * 1024;
const DOS_DATE: u16 = (1 << 5) | 1; // 1980-01-01: no timestamps that say when

impl<W: Write> ZipStream<W> {
    pub fn new(inner: W) -> Self {
        ZipStream { out: CountingWriter { inner, written: 0 }, entries: Vec::new() }
    }

    pub fn start(&mut self, name: &str) -> io::Result<EntryWriter<'_, W>> {
        let offset = self.out.written;
        let o = &mut self.out;
        o.write_all(&0x0403_4b50u32.to_le_bytes())?;
        o.write_all(&20u16.to_le_bytes())?; // version needed
        o.write_all(&(0x0008u16 | 0x0800).to_le_bytes())?; // data descriptor, UTF-8 names
        o.write_all(&8u16.to_le_bytes())?; // deflate
        o.write_all(&DOS_TIME.to_le_bytes())?;
        o.write_all(&DOS_DATE.to_le_bytes())?;
        o.write_all(&[0u8; 12])?; // crc, sizes: in the descriptor
        o.write_all(&(name.len() as u16).to_le_bytes())?;
        o.write_all(&0u16.to_le_bytes())?;
        o.write_all(name.as_bytes())?;
        Ok(EntryWriter {
            zip: self,
            pending: Vec::with_capacity(INPUT_CHUNK),
            encoder: DeflateEncoder::new(Vec::new(), Compression::default()),
            crc: crc32fast::Hasher::new(),
            size: 0,
            name: name.to_string(),
            offset,
            compressed: 0,
        })
    }

    pub fn finish(mut self) -> io::Result<W> {
        let start = self.out.written;
        for e in &self.entries {
            let o = &mut self.out;
            o.write_all(&0x0201_4b50u32.to_le_bytes())?;
            o.write_all(&20u16.to_le_bytes())?; // made by
            o.write_all(&20u16.to_le_bytes())?; // needed
            o.write_all(&(0x0008u16 | 0x0800).to_le_bytes())?;
            o.write_all(&8u16.to_le_bytes())?;
            o.write_all(&DOS_TIME.to_le_bytes())?;
            o.write_all(&DOS_DATE.to_le_bytes())?;
            o.write_all(&e.crc.to_le_bytes())?;
            o.write_all(&e.compressed.to_le_bytes())?;
            o.write_all(&e.size.to_le_bytes())?;
            o.write_all(&(e.name.len() as u16).to_le_bytes())?;
            o.write_all(&[0u8; 8])?; // extra, comment, disk, internal attrs
            o.write_all(&0u32.to_le_bytes())?; // external attrs
            o.write_all(&e.offset.to_le_bytes())?;
            o.write_all(e.name.as_bytes())?;
        }
        let size = self.out.written - start;
        let o = &mut self.out;
        o.write_all(&0x0605_4b50u32.to_le_bytes())?;
        o.write_all(&[0u8; 4])?;
        o.write_all(&(self.entries.len() as u16).to_le_bytes())?;
        o.write_all(&(self.entries.len() as u16).to_le_bytes())?;
        o.write_all(&(size as u32).to_le_bytes())?;
        o.write_all(&(start as u32).to_le_bytes())?;
        o.write_all(&0u16.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out.inner)
    }
}

fn too_large() -> io::Error {
    io::Error::other("a ZIP entry over 4 GiB needs ZIP64, which this writer does not do")
}

impl<W: Write> EntryWriter<'_, W> {
    /// Compresses the gathered input, and moves the output on once there is enough.
    fn compress_pending(&mut self) -> io::Result<()> {
        self.encoder.write_all(&self.pending)?;
        self.pending.clear();
        if self.encoder.get_ref().len() >= 64 * 1024 {
            self.drain()?;
        }
        Ok(())
    }

    /// Moves compressed bytes out of the encoder, keeping memory bounded.
    fn drain(&mut self) -> io::Result<()> {
        let buffered = std::mem::take(self.encoder.get_mut());
        self.compressed += buffered.len() as u64;
        self.zip.out.write_all(&buffered)
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.compress_pending()?;
        self.encoder.try_finish()?;
        self.drain()?;
        let crc = std::mem::take(&mut self.crc).finalize();
        let (compressed, size) = (u32::try_from(self.compressed).map_err(|_| too_large())?, u32::try_from(self.size).map_err(|_| too_large())?);
        let o = &mut self.zip.out;
        o.write_all(&0x0807_4b50u32.to_le_bytes())?;
        o.write_all(&crc.to_le_bytes())?;
        o.write_all(&compressed.to_le_bytes())?;
        o.write_all(&size.to_le_bytes())?;
        let offset = u32::try_from(self.offset).map_err(|_| too_large())?;
        self.zip.entries.push(Entry { name: std::mem::take(&mut self.name), offset, crc, compressed, size });
        Ok(())
    }
}

impl<W: Write> Write for EntryWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.crc.update(buf);
        self.size += buf.len() as u64;
        if self.pending.len() >= INPUT_CHUNK {
            self.compress_pending()?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn pythons_zipfile_reads_what_we_write() {
        let mut zip = ZipStream::new(Vec::new());
        let mut a = zip.start("data.json").unwrap();
        a.write_all(br#"{"hello":"world"}"#).unwrap();
        a.finish().unwrap();
        let mut b = zip.start("index.html").unwrap();
        for _ in 0..20_000 {
            b.write_all(b"<p>line of text</p>\n").unwrap();
        }
        b.finish().unwrap();
        let bytes = zip.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.zip");
        std::fs::write(&path, &bytes).unwrap();
        let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                      print(z.read('data.json').decode())\nprint(len(z.read('index.html')))";
        let out = Command::new("python3").args(["-c", script]).arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(r#"{"hello":"world"}"#), "{text}");
        assert!(text.contains("400000"), "{text}");
        assert!(bytes.len() < 100_000, "compressed: {}", bytes.len());
    }
}
