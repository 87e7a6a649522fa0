//! TLS for the live audit: a rustls client configuration built from the `--tls-*` flags.
//! rustls (with the `ring` provider) needs no system OpenSSL at build or run time, so a
//! statically linked rcfg still speaks TLS. The handshake itself runs in `socket::open`
//! over the same deadline-bounded stream as every other byte.
//!
//! Trust: a `--tls-ca` file replaces the system store (as redis-cli's `--cacert` does);
//! otherwise the system's certificates are used. `--tls-insecure` accepts any certificate
//! and host name, for tests only.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::connect::Endpoint;
use super::wire::WireResult;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path, what: &str) -> WireResult<Vec<u8>> {
    // Bounded and checked like every file rcfg reads.
    crate::fsutil::read_config(path)
        .map(String::into_bytes)
        .map_err(|e| format!("cannot read the TLS {what} file: {e:#}"))
}

fn certs(pem: &[u8], what: &str, path: &Path) -> WireResult<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("TLS setup failed: {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "TLS setup failed: {}: no PEM certificate in the {what} file",
            path.display()
        ));
    }
    Ok(certs)
}

/// The client configuration for `ep`'s `--tls-*` flags.
pub fn client_config(ep: &Endpoint) -> WireResult<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let builder = if ep.tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        match &ep.tls.ca {
            Some(ca) => {
                for c in certs(&read(ca, "CA")?, "CA", ca)? {
                    roots
                        .add(c)
                        .map_err(|e| format!("TLS setup failed: {}: {e}", ca.display()))?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
            }
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&ep.tls.cert, &ep.tls.key) {
        (Some(c), Some(k)) => {
            let chain = certs(&read(c, "certificate")?, "certificate", c)?;
            let key = PrivateKeyDer::from_pem_slice(&read(k, "key")?).map_err(|e| {
                format!(
                    "TLS setup failed: {}: {e} (the key must be PEM: PKCS#8, PKCS#1 or SEC1)",
                    k.display()
                )
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("TLS setup failed: {e}"))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("--tls-cert and --tls-key go together".to_string()),
    };
    Ok(Arc::new(config))
}

/// The name the server certificate must carry (an IP address is checked as one).
pub fn server_name(host: &str) -> WireResult<ServerName<'static>> {
    ServerName::try_from(host.to_string())
        .map_err(|e| format!("TLS setup failed: `{host}` is not a valid server name: {e}"))
}

/// `--tls-insecure`: every certificate and name is accepted; signatures are still checked
/// so the handshake itself stays well-formed.
#[derive(Debug)]
struct AcceptAnything(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
