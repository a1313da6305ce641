//! TLS: a self-signed certificate generated on first start, or the operator's own.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::error::StartupError;

/// Returns the certificate and key to use, generating a self-signed pair into
/// `DATA_DIR/tls` when the operator gave none and none exists yet.
pub fn certificate_paths(data_dir: &Path, cert: Option<&Path>, key: Option<&Path>) -> Result<(PathBuf, PathBuf), StartupError> {
    if let (Some(cert), Some(key)) = (cert, key) {
        return Ok((cert.to_path_buf(), key.to_path_buf()));
    }
    let dir = data_dir.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let tls_error = |path: &Path, reason: String| StartupError::Tls { path: path.to_path_buf(), reason };
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()])
        .map_err(|e| tls_error(&cert, e.to_string()))?;
    fs::create_dir_all(&dir).map_err(|e| tls_error(&dir, e.to_string()))?;
    write_private(&key, generated.signing_key.serialize_pem().as_bytes()).map_err(|e| tls_error(&key, e.to_string()))?;
    fs::write(&cert, generated.cert.pem()).map_err(|e| tls_error(&cert, e.to_string()))?;
    tracing::warn!(path = %cert.display(), "generated a self-signed certificate; browsers will warn until you give --tls-cert and --tls-key");
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Builds the rustls configuration, with HTTP/2 and HTTP/1.1 offered.
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<Arc<ServerConfig>, StartupError> {
    let tls_error = |path: &Path, reason: String| StartupError::Tls { path: path.to_path_buf(), reason };
    let certs =
        CertificateDer::pem_file_iter(cert_path).and_then(|iter| iter.collect::<Result<Vec<_>, _>>()).map_err(|e| tls_error(cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(tls_error(cert_path, "no certificate in the file".to_string()));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| tls_error(key_path, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| tls_error(cert_path, e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn first_start_generates_a_usable_self_signed_pair_once() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = certificate_paths(dir.path(), None, None).unwrap();
        assert!(server_config(&cert, &key).is_ok());
        let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "private key readable by its owner only");
        let first = fs::read(&cert).unwrap();
        certificate_paths(dir.path(), None, None).unwrap();
        assert_eq!(fs::read(&cert).unwrap(), first, "an existing certificate is kept");
    }

    #[test]
    fn unreadable_or_garbage_certificates_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = server_config(&missing, &missing).unwrap_err();
        assert!(err.to_string().contains("missing.pem"), "{err}");

        let garbage = dir.path().join("garbage.pem");
        fs::write(&garbage, "not a certificate").unwrap();
        let err = server_config(&garbage, &garbage).unwrap_err();
        assert!(matches!(err, StartupError::Tls { .. }), "{err}");
    }
}
