//! Files on disk that hold personal data (exports) are encrypted as a stream
//! of AES-256-GCM chunks under a one-off key: `[u32 length][ciphertext]`…
//! The nonce is the chunk counter, and the last chunk says so in its
//! associated data, so chunks cannot be reordered, dropped or cut off.

use std::io::{self, Read, Write};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

pub const CHUNK: usize = 64 * 1024;

fn nonce(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    n
}

fn aad(last: bool) -> &'static [u8] {
    if last {
        b"chatfbtop-sealed-file|last"
    } else {
        b"chatfbtop-sealed-file|more"
    }
}

pub struct SealingWriter<W: Write> {
    inner: W,
    cipher: Aes256Gcm,
    buffer: Zeroizing<Vec<u8>>,
    counter: u64,
}

impl<W: Write> SealingWriter<W> {
    pub fn new(inner: W, key: &[u8; 32]) -> Self {
        SealingWriter { inner, cipher: Aes256Gcm::new_from_slice(key).expect("32-byte key"), buffer: Zeroizing::new(Vec::with_capacity(CHUNK)), counter: 0 }
    }

    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce(self.counter)), Payload { msg: &self.buffer, aad: aad(last) })
            .map_err(|_| io::Error::other("encryption failed"))?;
        self.inner.write_all(&(sealed.len() as u32).to_be_bytes())?;
        self.inner.write_all(&sealed)?;
        self.counter += 1;
        self.buffer.clear();
        Ok(())
    }

    /// Seals the final chunk; without it the file does not open.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_chunk(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SealingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buffer.len();
        let take = room.min(data.len());
        self.buffer.extend_from_slice(&data[..take]);
        if self.buffer.len() == CHUNK {
            self.seal_chunk(false)?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads a sealed file chunk by chunk. Yields plaintext chunks; an error
/// for any tampering or truncation.
pub struct OpeningReader<R: Read> {
    inner: R,
    cipher: Aes256Gcm,
    counter: u64,
    done: bool,
}

impl<R: Read> OpeningReader<R> {
    pub fn new(inner: R, key: &[u8; 32]) -> Self {
        OpeningReader { inner, cipher: Aes256Gcm::new_from_slice(key).expect("32-byte key"), counter: 0, done: false }
    }

    pub fn next_chunk(&mut self) -> io::Result<Option<Zeroizing<Vec<u8>>>> {
        if self.done {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        if let Err(e) = self.inner.read_exact(&mut len) {
            return Err(if e.kind() == io::ErrorKind::UnexpectedEof { io::Error::other("the file was cut short") } else { e });
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > CHUNK + 16 {
            return Err(io::Error::other("malformed chunk"));
        }
        let mut sealed = vec![0u8; len];
        self.inner.read_exact(&mut sealed)?;
        let nonce = nonce(self.counter);
        for last in [false, true] {
            if let Ok(plain) = self.cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &sealed, aad: aad(last) }) {
                self.counter += 1;
                self.done = last;
                return Ok(Some(Zeroizing::new(plain)));
            }
        }
        Err(io::Error::other("the file failed authentication"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(data: &[u8], key: &[u8; 32]) -> Vec<u8> {
        let mut w = SealingWriter::new(Vec::new(), key);
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn open(sealed: &[u8], key: &[u8; 32]) -> io::Result<Vec<u8>> {
        let mut r = OpeningReader::new(sealed, key);
        let mut out = Vec::new();
        while let Some(chunk) = r.next_chunk()? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    #[test]
    fn round_trips_across_chunk_boundaries() {
        let key = [7u8; 32];
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&data, &key);
            assert_eq!(open(&sealed, &key).unwrap(), data, "size {size}");
        }
    }

    #[test]
    fn truncation_tampering_and_wrong_keys_are_refused() {
        let key = [7u8; 32];
        let data = vec![42u8; 2 * CHUNK + 5];
        let sealed = seal(&data, &key);
        let first_chunk_end = 4 + CHUNK + 16;
        assert!(open(&sealed[..first_chunk_end], &key).is_err(), "dropping the tail is detected");
        let mut flipped = sealed.clone();
        flipped[10] ^= 1;
        assert!(open(&flipped, &key).is_err());
        assert!(open(&sealed, &[8u8; 32]).is_err());
        assert!(!sealed.windows(8).any(|w| w == [42u8; 8]), "no plaintext in the file");
    }
}
