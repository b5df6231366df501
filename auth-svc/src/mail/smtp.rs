//! The SMTP transport (lettre over Tokio with rustls), configured by one URL:
//! `smtp://host:port` (no TLS), `smtp://host:port?tls=starttls` (STARTTLS required) or `smtps://host:port` (TLS from
//! the first byte), with credentials as `smtp://user:password@host`.

use std::fmt;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Mail;

/// One SMTP conversation may take this long before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why `SMTP_URL` or `MAIL_FROM` cannot be used. Never shows the URL's password.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("SMTP_URL must be smtp://host[:port][?tls=starttls] or smtps://host[:port] ({0})")]
    InvalidUrl(&'static str),
    #[error("MAIL_FROM is not a mailbox such as `Warden <no-reply@example.com>`")]
    InvalidFrom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    Off,
    StartTls,
    Implicit,
}

/// A parsed `SMTP_URL` and sender.
#[derive(Clone)]
pub struct SmtpSettings {
    host: String,
    port: u16,
    tls: TlsMode,
    credentials: Option<(String, String)>,
    from: Mailbox,
}

impl fmt::Display for SmtpSettings {
    /// `host:port (tls)`, without credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tls = match self.tls {
            TlsMode::Off => "no TLS",
            TlsMode::StartTls => "STARTTLS",
            TlsMode::Implicit => "TLS",
        };
        write!(f, "{}:{} ({tls})", self.host, self.port)
    }
}

/// As `Display`: never the credentials.
impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpSettings({self})")
    }
}

impl SmtpSettings {
    pub fn parse(url: &str, from: &str) -> Result<Self, SmtpError> {
        let url = url::Url::parse(url).map_err(|_| SmtpError::InvalidUrl("not a URL"))?;
        let tls_param = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.to_ascii_lowercase());
        let tls = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", None | Some("implicit" | "wrapper")) => TlsMode::Implicit,
            ("smtp", None | Some("none")) => TlsMode::Off,
            ("smtp", Some("starttls" | "required")) => TlsMode::StartTls,
            ("smtp" | "smtps", Some(_)) => return Err(SmtpError::InvalidUrl("unknown tls mode")),
            _ => return Err(SmtpError::InvalidUrl("unknown scheme")),
        };
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or(SmtpError::InvalidUrl("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port().unwrap_or(match tls {
            TlsMode::Off => 25,
            TlsMode::StartTls => 587,
            TlsMode::Implicit => 465,
        });
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|_| SmtpError::InvalidUrl("credentials are not UTF-8"))
        };
        let credentials = if url.username().is_empty() {
            None
        } else {
            Some((
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        let from = from.parse().map_err(|_| SmtpError::InvalidFrom)?;
        Ok(Self {
            host,
            port,
            tls,
            credentials,
            from,
        })
    }

    pub fn tls(&self) -> TlsMode {
        self.tls
    }
}

/// Why one delivery failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("recipient is not a mailbox")]
    BadRecipient,
    #[error("message could not be built: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

impl SendError {
    /// Failures another attempt cannot fix.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::BadRecipient | Self::Message(_) => true,
            Self::Smtp(error) => error.is_permanent(),
        }
    }
}

pub(super) struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    pub(super) fn new(settings: SmtpSettings) -> Self {
        let builder = match settings.tls {
            TlsMode::Off => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host),
            TlsMode::StartTls => {
                match AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host) {
                    Ok(builder) => builder,
                    // Only an unusable host name fails here, which `url` has already ruled out.
                    Err(_) => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
                    }
                }
            }
            TlsMode::Implicit => {
                match AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host) {
                    Ok(builder) => builder,
                    Err(_) => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
                    }
                }
            }
        };
        let mut builder = builder.port(settings.port).timeout(Some(SMTP_TIMEOUT));
        if let Some((user, password)) = settings.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Self {
            transport: builder.build(),
            from: settings.from,
        }
    }

    pub(super) async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let to: Mailbox = mail.to.parse().map_err(|_| SendError::BadRecipient)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())?;
        self.transport.send(message).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "Warden <no-reply@localhost>";

    #[test]
    fn plain_starttls_and_implicit_tls_urls_are_understood() {
        let plain = SmtpSettings::parse("smtp://127.0.0.1:2525", FROM).unwrap();
        assert_eq!((plain.tls(), plain.port), (TlsMode::Off, 2525));
        let starttls = SmtpSettings::parse("smtp://mail.example.com?tls=starttls", FROM).unwrap();
        assert_eq!((starttls.tls(), starttls.port), (TlsMode::StartTls, 587));
        let implicit = SmtpSettings::parse("smtps://mail.example.com", FROM).unwrap();
        assert_eq!((implicit.tls(), implicit.port), (TlsMode::Implicit, 465));
    }

    #[test]
    fn credentials_come_from_the_url_and_are_never_displayed() {
        let settings = SmtpSettings::parse(
            "smtps://me%40example.com:p%40ss@mail.example.com:2465",
            FROM,
        )
        .unwrap();
        assert_eq!(
            settings.credentials,
            Some(("me@example.com".to_owned(), "p@ss".to_owned()))
        );
        assert_eq!(settings.to_string(), "mail.example.com:2465 (TLS)");
    }

    #[test]
    fn bad_urls_and_senders_are_refused() {
        for url in [
            "http://mail.example.com",
            "smtp://",
            "smtp://h?tls=maybe",
            "nonsense",
        ] {
            assert!(SmtpSettings::parse(url, FROM).is_err(), "{url}");
        }
        assert!(matches!(
            SmtpSettings::parse("smtp://h", "not a mailbox"),
            Err(SmtpError::InvalidFrom)
        ));
    }
}
