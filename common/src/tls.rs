//! Optional TLS (rustls) on the gRPC ports and on the channels between the services.
//!
//! A service with `TLS_CERT` and `TLS_KEY` (PEM files) serves TLS only; a client whose upstream URL is `https://`
//! verifies the server against `TLS_CA` (a PEM bundle), or against the public web PKI when `TLS_CA` is unset.
//! Errors name the variable at fault.

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, Server, ServerTlsConfig};

/// A TLS setting that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {reason}")]
pub struct TlsError {
    pub variable: &'static str,
    pub reason: String,
}

impl TlsError {
    fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        Self {
            variable,
            reason: reason.into(),
        }
    }
}

/// The server side from `TLS_CERT` and `TLS_KEY`: `None` when neither is set, an error when only one is or when the
/// files do not hold a certificate chain and its private key. Empty paths count as unset.
pub fn server_config(
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<Option<ServerTlsConfig>, TlsError> {
    match (non_empty(cert), non_empty(key)) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(TlsError::new("TLS_KEY", "is required when TLS_CERT is set")),
        (None, Some(_)) => Err(TlsError::new("TLS_CERT", "is required when TLS_KEY is set")),
        (Some(cert), Some(key)) => {
            let cert = read_pem("TLS_CERT", cert, "CERTIFICATE")?;
            let key = read_pem("TLS_KEY", key, "PRIVATE KEY")?;
            server_config_from_pem(cert, key).map(Some)
        }
    }
}

/// The server side from PEM text: a certificate chain (leaf first) and its private key.
pub fn server_config_from_pem(
    cert: impl AsRef<[u8]>,
    key: impl AsRef<[u8]>,
) -> Result<ServerTlsConfig, TlsError> {
    let config = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
    // Building the acceptor parses both and checks that the key fits the certificate.
    Server::builder()
        .tls_config(config.clone())
        .map_err(|error| {
            TlsError::new(
                "TLS_CERT",
                format!(
                    "the certificate and TLS_KEY's private key cannot be used together ({error})"
                ),
            )
        })?;
    Ok(config)
}

/// The certificate authorities in `TLS_CA`; empty path counts as unset.
pub fn read_ca(path: Option<&Path>) -> Result<Option<Certificate>, TlsError> {
    match non_empty(path) {
        None => Ok(None),
        Some(path) => read_pem("TLS_CA", path, "CERTIFICATE")
            .map(Certificate::from_pem)
            .map(Some),
    }
}

/// A client's TLS for `url`: `None` for `http://`; for `https://`, the server is verified against `ca`, or the
/// public web PKI without one, under the URL's host name.
pub fn client_config(url: &str, ca: Option<&Certificate>) -> Option<ClientTlsConfig> {
    if !url
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("https://")
    {
        return None;
    }
    let config = ClientTlsConfig::new();
    Some(match ca {
        Some(ca) => config.ca_certificate(ca.clone()),
        None => config.with_webpki_roots(),
    })
}

/// An endpoint for `url` with TLS when it is `https://` (see [`client_config`]).
pub fn endpoint(url: &str, ca: Option<&Certificate>) -> Result<Endpoint, tonic::transport::Error> {
    let endpoint = Endpoint::from_shared(url.to_owned())?;
    match client_config(url, ca) {
        Some(tls) => endpoint.tls_config(tls),
        None => Ok(endpoint),
    }
}

fn non_empty(path: Option<&Path>) -> Option<&Path> {
    path.filter(|path| !path.as_os_str().is_empty())
}

/// The file's text, which must hold at least one PEM block whose label ends with `label`.
fn read_pem(variable: &'static str, path: &Path, label: &str) -> Result<Vec<u8>, TlsError> {
    let text = std::fs::read(path).map_err(|error| {
        TlsError::new(variable, format!("cannot read {}: {error}", path.display()))
    })?;
    let holds_block = String::from_utf8_lossy(&text).lines().any(|line| {
        line.starts_with("-----BEGIN ") && line.trim_end().ends_with(&format!("{label}-----"))
    });
    if !holds_block {
        return Err(TlsError::new(
            variable,
            format!("{} holds no PEM {label}", path.display()),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_files_there_is_no_tls() {
        assert!(server_config(None, None).unwrap().is_none());
        assert!(
            server_config(Some(Path::new("")), Some(Path::new("")))
                .unwrap()
                .is_none()
        );
        assert!(read_ca(None).unwrap().is_none());
    }

    #[test]
    fn a_certificate_without_its_key_is_refused_naming_the_missing_variable() {
        let error = server_config(Some(Path::new("cert.pem")), None).unwrap_err();
        assert_eq!(error.variable, "TLS_KEY");
        let error = server_config(None, Some(Path::new("key.pem"))).unwrap_err();
        assert_eq!(error.variable, "TLS_CERT");
    }

    #[test]
    fn an_unreadable_file_is_refused_naming_its_variable() {
        let missing = Path::new("/nonexistent/warden/cert.pem");
        let error = server_config(Some(missing), Some(missing)).unwrap_err();
        assert_eq!(error.variable, "TLS_CERT");
        assert_eq!(read_ca(Some(missing)).unwrap_err().variable, "TLS_CA");
    }

    #[test]
    fn plain_urls_get_no_tls_and_https_ones_do() {
        assert!(client_config("http://auth-svc:50051", None).is_none());
        assert!(client_config("https://auth-svc:50051", None).is_some());
        assert!(client_config("HTTPS://auth-svc:50051", None).is_some());
    }
}
