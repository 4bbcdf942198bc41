//! Whom a database login trusts when `ssl` asks for TLS.
//!
//! Amazon RDS and Aurora certificates chain to the RDS certificate authorities, which neither
//! the system trust store (PostgreSQL) nor the bundled Mozilla roots (MySQL) hold, so `ssl:
//! true` against RDS needs the RDS CA bundle: `DB_CA_BUNDLE` names a PEM file whose
//! certificates are trusted in addition to the usual roots. The file is read and checked once
//! at start-up, so a wrong path is a configuration error, not a failed rotation weeks later.
//!
//! When verification fails because the issuer is unknown, the error names the issuer (for
//! PostgreSQL, whose TLS set-up is ours) and says how to trust it, instead of rustls's bare
//! `UnknownIssuer`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The extra trust anchors of `DB_CA_BUNDLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    pub path: PathBuf,
    pub certificates: Vec<CertificateDer<'static>>,
}

impl CaBundle {
    /// Reads a PEM file of CA certificates; an unreadable file, or one with no certificate,
    /// is an error that names the path.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let certificates = CertificateDer::pem_slice_iter(&text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{} is not a PEM certificate bundle: {e}", path.display()))?;
        if certificates.is_empty() {
            return Err(format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            certificates,
        })
    }
}

/// What to tell an operator whose server certificate is not trusted.
pub fn untrusted_issuer_hint(issuer: Option<&str>, bundle: Option<&CaBundle>) -> String {
    let who = match issuer {
        Some(name) => {
            format!("the server's certificate is issued by `{name}`, which is not a trusted CA")
        }
        None => "the server's certificate is issued by a CA that is not trusted".to_owned(),
    };
    let trusted = match bundle {
        Some(b) => format!(
            "neither the default roots nor DB_CA_BUNDLE ({}) hold it",
            b.path.display()
        ),
        None => "the default roots do not hold it and DB_CA_BUNDLE is not set".to_owned(),
    };
    format!(
        "{who} ({trusted}); set DB_CA_BUNDLE to a PEM file with that CA (for Amazon RDS and Aurora: the RDS global bundle, see the README)"
    )
}

/// The issuer's distinguished name of a DER certificate, if it parses.
fn issuer_of(certificate: &CertificateDer<'_>) -> Option<String> {
    use x509_cert::der::Decode;
    x509_cert::Certificate::from_der(certificate.as_ref())
        .ok()
        .map(|c| c.tbs_certificate.issuer.to_string())
}

/// rustls's WebPKI verifier, with an unknown issuer reported by name.
#[derive(Debug)]
struct NamingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    bundle: Option<CaBundle>,
}

impl ServerCertVerifier for NamingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| match e {
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                    let issuer = intermediates
                        .last()
                        .and_then(issuer_of)
                        .or_else(|| issuer_of(end_entity));
                    rustls::Error::General(untrusted_issuer_hint(
                        issuer.as_deref(),
                        self.bundle.as_ref(),
                    ))
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The client configuration of PostgreSQL logins: the system trust store plus the bundle,
/// hostname verified.
pub fn client_config(bundle: Option<&CaBundle>) -> Result<rustls::ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for certificate in native.certs {
        // A system store may hold a certificate rustls cannot use; the others still count.
        let _ = roots.add(certificate);
    }
    for certificate in bundle
        .map(|b| b.certificates.as_slice())
        .unwrap_or_default()
    {
        roots
            .add(certificate.clone())
            .map_err(|e| format!("DB_CA_BUNDLE: a certificate cannot be used as a CA: {e}"))?;
    }
    if roots.is_empty() {
        return Err("no trusted CA: the system store is empty and DB_CA_BUNDLE is not set".into());
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NamingVerifier {
            inner,
            bundle: bundle.cloned(),
        }))
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_are_checked_and_hints_name_the_issuer() {
        let dir = std::env::temp_dir().join(format!("ca-bundle-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = CaBundle::load(&empty).unwrap_err();
        assert!(err.contains("holds no PEM certificate"), "{err}");
        let missing = CaBundle::load(&dir.join("missing.pem")).unwrap_err();
        assert!(missing.contains("cannot read"), "{missing}");
        let hint = untrusted_issuer_hint(Some("CN=Test CA"), None);
        assert!(
            hint.contains("`CN=Test CA`") && hint.contains("DB_CA_BUNDLE is not set"),
            "{hint}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
