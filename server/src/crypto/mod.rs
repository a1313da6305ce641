//! Encryption at rest. Every personal value is written and read through here.
//!
//! - A master key (KEK) wraps one random data key (DEK) per account, plus the
//!   installation's system key (for the mail outbox) and the blind-index key.
//! - Values are AES-256-GCM blobs, `version | key id | nonce | ciphertext+tag`,
//!   base64-encoded, with associated data naming table, record id and field,
//!   so a value copied to another record or field does not decrypt.

mod keyring;
pub mod password;
mod store;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

pub use keyring::{KeySource, Keyring, KeyringError};
pub use store::{rotate_master_key, Crypto, DataKeyStore, KeyStoreError, RotateError};

const BLOB_VERSION: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the encrypted value is malformed")]
    Malformed,
    #[error("the encrypted value was made with unknown key {0}")]
    UnknownKey(String),
    #[error("the encrypted value failed authentication (wrong key, record or field, or tampered)")]
    Authentication,
    #[error("the decrypted value is not text")]
    NotText,
}

impl From<CryptoError> for crate::error::Error {
    fn from(e: CryptoError) -> Self {
        crate::error::Error::internal("decryption error", e)
    }
}

/// Which table, record and field a value belongs to: its associated data.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    pub table: &'a str,
    pub id: &'a str,
    pub name: &'a str,
}

impl<'a> Field<'a> {
    pub fn new(table: &'a str, id: &'a str, name: &'a str) -> Self {
        Field { table, id, name }
    }

    fn associated_data(&self) -> Vec<u8> {
        format!("chatfbtop|{}|{}|{}", self.table, self.id, self.name).into_bytes()
    }
}

/// A 256-bit key with an id; the bytes are wiped when it is dropped.
#[derive(Clone)]
pub struct SecretKey {
    id: [u8; KEY_ID_LEN],
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id_hex())
    }
}

impl SecretKey {
    pub fn generate() -> Self {
        let mut id = [0u8; KEY_ID_LEN];
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(&mut id);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        SecretKey { id, bytes }
    }

    /// A master key's id is derived from the key itself, so any process
    /// holding the same key file agrees on it without storing it.
    fn from_master_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes.as_ref()).expect("HMAC takes any key length");
        mac.update(b"chatfbtop kek id");
        let digest = mac.finalize().into_bytes();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        SecretKey { id, bytes }
    }

    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(self.bytes.as_ref()).expect("key is 32 bytes")
    }

    /// Encrypts `plaintext` for `field` into a base64 blob.
    pub fn seal(&self, field: Field<'_>, plaintext: &[u8]) -> String {
        self.seal_with_ad(&field.associated_data(), plaintext)
    }

    pub fn seal_str(&self, field: Field<'_>, plaintext: &str) -> String {
        self.seal(field, plaintext.as_bytes())
    }

    /// Decrypts a blob made by [`seal`](Self::seal) for the same field.
    pub fn open(&self, field: Field<'_>, blob: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.open_with_ad(&field.associated_data(), blob)
    }

    pub fn open_string(&self, field: Field<'_>, blob: &str) -> Result<String, CryptoError> {
        let bytes = self.open(field, blob)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            let mut raw = e.into_bytes();
            raw.zeroize();
            CryptoError::NotText
        })
    }

    fn seal_with_ad(&self, aad: &[u8], plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext =
            self.cipher().encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad }).expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut blob = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + ciphertext.len());
        blob.push(BLOB_VERSION);
        blob.extend_from_slice(&self.id);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        B64.encode(blob)
    }

    fn open_with_ad(&self, aad: &[u8], blob: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let parsed = ParsedBlob::parse(blob)?;
        if parsed.key_id != self.id {
            return Err(CryptoError::UnknownKey(hex::encode(parsed.key_id)));
        }
        self.cipher()
            .decrypt(Nonce::from_slice(&parsed.nonce), Payload { msg: &parsed.ciphertext, aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Authentication)
    }

    fn to_wrapped_plaintext(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(KEY_ID_LEN + KEY_LEN));
        out.extend_from_slice(&self.id);
        out.extend_from_slice(self.bytes.as_ref());
        out
    }

    fn from_wrapped_plaintext(raw: &[u8]) -> Result<Self, CryptoError> {
        if raw.len() != KEY_ID_LEN + KEY_LEN {
            return Err(CryptoError::Malformed);
        }
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&raw[..KEY_ID_LEN]);
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&raw[KEY_ID_LEN..]);
        Ok(SecretKey { id, bytes })
    }

    /// HMAC-SHA256 under this key, hex-encoded: the blind index of a value.
    pub fn blind_index(&self, purpose: &str, normalised: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.bytes.as_ref()).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

struct ParsedBlob {
    key_id: [u8; KEY_ID_LEN],
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl ParsedBlob {
    fn parse(blob: &str) -> Result<Self, CryptoError> {
        let raw = B64.decode(blob.as_bytes()).map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 1 + KEY_ID_LEN + NONCE_LEN + 16 || raw[0] != BLOB_VERSION {
            return Err(CryptoError::Malformed);
        }
        let mut key_id = [0u8; KEY_ID_LEN];
        key_id.copy_from_slice(&raw[1..1 + KEY_ID_LEN]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&raw[1 + KEY_ID_LEN..1 + KEY_ID_LEN + NONCE_LEN]);
        Ok(ParsedBlob { key_id, nonce, ciphertext: raw[1 + KEY_ID_LEN + NONCE_LEN..].to_vec() })
    }
}

/// The key id a blob names, without decrypting it.
pub fn blob_key_id(blob: &str) -> Result<String, CryptoError> {
    ParsedBlob::parse(blob).map(|b| hex::encode(b.key_id))
}

/// Lower-cased, trimmed: the form emails are compared and indexed in.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// 256 random bits, URL-safe: session ids and single-use mail tokens.
pub fn random_token() -> String {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref())
}

/// SHA-256 of a token, hex: what the database stores instead of the token.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random record key (not secret, just unguessable and URL-safe).
pub fn random_id() -> String {
    let mut bytes = [0u8; 15];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(id: &str, name: &str) -> Field<'static> {
        Field::new("account", Box::leak(id.to_string().into_boxed_str()), Box::leak(name.to_string().into_boxed_str()))
    }

    #[test]
    fn round_trip() {
        let key = SecretKey::generate();
        let blob = key.seal_str(field("a1", "email"), "ada@example.org");
        assert!(!blob.contains("ada"), "ciphertext hides the value");
        assert_eq!(key.open_string(field("a1", "email"), &blob).unwrap(), "ada@example.org");
        let again = key.seal_str(field("a1", "email"), "ada@example.org");
        assert_ne!(blob, again, "a fresh nonce every time");
    }

    #[test]
    fn blob_layout_is_version_key_id_nonce_ciphertext() {
        let key = SecretKey::generate();
        let blob = key.seal(field("a1", "email"), b"x");
        let raw = B64.decode(&blob).unwrap();
        assert_eq!(raw[0], BLOB_VERSION);
        assert_eq!(&raw[1..9], &key.id);
        assert_eq!(raw.len(), 1 + 8 + 12 + 1 + 16, "one byte of text plus a 16-byte tag");
        assert_eq!(blob_key_id(&blob).unwrap(), key.id_hex());
    }

    #[test]
    fn a_tampered_byte_is_rejected() {
        let key = SecretKey::generate();
        let blob = key.seal_str(field("a1", "email"), "ada@example.org");
        let mut raw = B64.decode(&blob).unwrap();
        for position in [1 + 8 + 12, raw.len() - 1, 1 + 8] {
            let mut tampered = raw.clone();
            tampered[position] ^= 0x01;
            let err = key.open(field("a1", "email"), &B64.encode(&tampered)).unwrap_err();
            assert_eq!(err, CryptoError::Authentication, "byte {position}");
        }
        raw[0] = 9;
        assert_eq!(key.open(field("a1", "email"), &B64.encode(&raw)).unwrap_err(), CryptoError::Malformed);
    }

    #[test]
    fn a_value_swapped_between_records_or_fields_is_rejected() {
        let key = SecretKey::generate();
        let blob = key.seal_str(field("a1", "email"), "ada@example.org");
        assert_eq!(key.open(field("a2", "email"), &blob).unwrap_err(), CryptoError::Authentication);
        assert_eq!(key.open(field("a1", "display_name"), &blob).unwrap_err(), CryptoError::Authentication);
        let other_table = Field::new("session", "a1", "email");
        assert_eq!(key.open(other_table, &blob).unwrap_err(), CryptoError::Authentication);
    }

    #[test]
    fn a_wrong_key_is_rejected() {
        let key = SecretKey::generate();
        let blob = key.seal_str(field("a1", "email"), "ada@example.org");
        let other = SecretKey::generate();
        assert!(matches!(other.open(field("a1", "email"), &blob), Err(CryptoError::UnknownKey(_))));
        // Same id, different bytes: authentication must still fail.
        let forged = SecretKey { id: key.id, bytes: other.bytes.clone() };
        assert_eq!(forged.open(field("a1", "email"), &blob).unwrap_err(), CryptoError::Authentication);
    }

    #[test]
    fn blind_index_is_stable_keyed_and_normalised() {
        let key = SecretKey::generate();
        let a = key.blind_index("email", &normalise_email("  Ada@Example.org "));
        let b = key.blind_index("email", &normalise_email("ada@example.org"));
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(a, SecretKey::generate().blind_index("email", "ada@example.org"), "depends on the key");
        assert_ne!(a, key.blind_index("other", "ada@example.org"), "depends on the purpose");
    }

    #[test]
    fn tokens_are_256_bits_and_stored_hashed() {
        let t = random_token();
        assert_eq!(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 32);
        assert_ne!(t, random_token());
        assert_eq!(token_hash(&t).len(), 64);
        assert_ne!(token_hash(&t), t);
    }
}
