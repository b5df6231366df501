//! Self-signed certificates for TLS tests, made on the spot with rcgen.

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// A certificate and its private key, in PEM.
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCert {
    /// A self-signed certificate for `localhost` and `127.0.0.1`.
    pub fn localhost() -> Self {
        Self::for_names(&["localhost", "127.0.0.1"])
    }

    /// A self-signed certificate for the given DNS names (or IP addresses).
    pub fn for_names(names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let generated =
            rcgen::generate_simple_self_signed(names).expect("rcgen makes a certificate");
        Self {
            cert_pem: generated.cert.pem(),
            key_pem: generated.signing_key.serialize_pem(),
        }
    }

    /// Writes `cert.pem` and `key.pem` into `dir` and returns their paths.
    pub fn write_to(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.cert_pem).expect("writes cert.pem");
        std::fs::write(&key, &self.key_pem).expect("writes key.pem");
        (cert, key)
    }

    /// A server presenting this certificate.
    pub fn server_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new().identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
    }

    /// This certificate as a trust root.
    pub fn ca(&self) -> Certificate {
        Certificate::from_pem(&self.cert_pem)
    }

    /// A client trusting only this certificate, expecting it to name `name`.
    pub fn client_config(&self, name: &str) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(self.ca())
            .domain_name(name)
    }
}
