//! The export's ZIP, written as a stream by `rawzip`: deflated entries with
//! data descriptors, so nothing needs seeking (the output is sealed as it is
//! written) and memory stays bounded. ZIP64 when an entry needs it. This
//! module only fixes our choices: deflate, UTF-8 names, and a 1980 date on
//! every entry, so the file says nothing about when it was made.

use std::io::{self, BufWriter, Write};

use flate2::write::DeflateEncoder;
use flate2::Compression;
use rawzip::{CompressionMethod, ZipArchiveWriter, ZipDataWriter, ZipEntryWriter};

/// Input is gathered into chunks this large before the encoder: many small
/// writes (a JSON value is written piece by piece) would cost more than the
/// compression itself.
const INPUT_CHUNK: usize = 32 * 1024;
/// 1980-01-01, the earliest date a ZIP can hold.
const NO_DATE: i64 = 315_532_800;

pub struct ZipStream<W: Write> {
    archive: ZipArchiveWriter<W>,
}

/// One entry being written; call [`EntryWriter::finish`] when done.
pub struct EntryWriter<'a, W: Write> {
    data: BufWriter<ZipDataWriter<DeflateEncoder<ZipEntryWriter<'a, W>>>>,
}

fn io_error(e: rawzip::Error) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> ZipStream<W> {
    pub fn new(inner: W) -> Self {
        ZipStream { archive: ZipArchiveWriter::new(inner) }
    }

    pub fn start(&mut self, name: &str) -> io::Result<EntryWriter<'_, W>> {
        let (entry, config) = self
            .archive
            .new_file(name)
            .compression_method(CompressionMethod::DEFLATE)
            .last_modified(rawzip::time::UtcDateTime::from_unix(NO_DATE))
            .start()
            .map_err(io_error)?;
        let data = config.wrap(DeflateEncoder::new(entry, Compression::default()));
        Ok(EntryWriter { data: BufWriter::with_capacity(INPUT_CHUNK, data) })
    }

    pub fn finish(self) -> io::Result<W> {
        let mut inner = self.archive.finish().map_err(io_error)?;
        inner.flush()?;
        Ok(inner)
    }
}

impl<W: Write> EntryWriter<'_, W> {
    pub fn finish(self) -> io::Result<()> {
        let data = self.data.into_inner().map_err(io::IntoInnerError::into_error)?;
        let (encoder, descriptor) = data.finish().map_err(io_error)?;
        let entry = encoder.finish()?;
        entry.finish(descriptor).map_err(io_error)?;
        Ok(())
    }
}

impl<W: Write> Write for EntryWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.data.flush()
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
