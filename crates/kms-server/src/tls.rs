//! TLS with rustls: certificate and key from PEM files, reloaded on
//! SIGHUP; optional mutual TLS, where a client certificate signed by the
//! configured CA names a principal (its subject) mapped to policies in
//! `[server.tls.client_principals]`.

use std::path::PathBuf;
use std::sync::Arc;

use kms_core::Error;
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of the TLS listener.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA bundle for client certificates (mutual TLS), if any.
    pub client_ca: Option<PathBuf>,
}

fn bad(what: &str, path: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::invalid("tls", format!("{what} {}: {e}", path.display()))
}

impl TlsFiles {
    /// Reads the files and builds the rustls configuration.
    pub fn load(&self) -> kms_core::Result<Arc<ServerConfig>> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| bad("cannot read the certificate", &self.cert, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| bad("bad certificate PEM in", &self.cert, e))?;
        if certs.is_empty() {
            return Err(bad("no certificate in", &self.cert, "empty"));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| bad("cannot read the private key", &self.key, e))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Internal(format!("TLS protocol setup: {e}")))?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca)
                    .map_err(|e| bad("cannot read the client CA", ca, e))?
                {
                    let c = c.map_err(|e| bad("bad client CA PEM in", ca, e))?;
                    roots
                        .add(c)
                        .map_err(|e| bad("unusable client CA in", ca, e))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| bad("client CA", ca, e))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| bad("the key does not fit the certificate", &self.key, e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The subject of a DER certificate, normalised (`CN=a,O=b`: no spaces after commas).
pub fn subject_of(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(normalise_subject(&cert.subject().to_string()))
}

/// Removes spaces around the commas of an RFC 4514 name, so that config
/// keys written either way match.
pub fn normalise_subject(s: &str) -> String {
    s.split(',').map(str::trim).collect::<Vec<_>>().join(",")
}
