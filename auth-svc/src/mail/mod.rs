//! Outgoing mail: one [`Mailer`] in front of two transports.
//!
//! Without `SMTP_URL` the development transport logs each mail (recipient, subject and the link's host; the link
//! itself only at debug level, since it carries a token) and keeps the latest ones in an in-memory [`Outbox`] that
//! the `DevService` lets a developer read. With `SMTP_URL` mail goes out over SMTP ([`smtp`]).
//!
//! Sending never blocks a request: [`Mailer::send`] puts the mail on a bounded queue that a background task drains,
//! retrying failed deliveries a few times. When the queue is full the mail is dropped with a warning rather than
//! making the caller wait.

mod outbox;
mod smtp;

use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;

pub use outbox::{Outbox, OutboxMail};
pub use smtp::{SmtpError, SmtpSettings, TlsMode};

/// Mails waiting to be delivered, at most.
pub const QUEUE_CAPACITY: usize = 1024;
/// Mails the development outbox keeps.
pub const OUTBOX_CAPACITY: usize = 100;
/// Delivery attempts per mail over SMTP.
const ATTEMPTS: u32 = 3;
/// Pause before the second attempt; doubled before each later one.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// One plain-text mail.
#[derive(Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The link the text carries, if any; logged by host only, since it holds a token.
    pub link: Option<String>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Where mail goes. Cheap to clone: clones share one queue.
#[derive(Clone, Debug)]
pub struct Mailer {
    queue: mpsc::Sender<Mail>,
    outbox: Option<Outbox>,
}

enum Transport {
    Development(Outbox),
    Smtp(Box<smtp::SmtpSender>),
}

impl Mailer {
    /// SMTP when `SMTP_URL` is set, else the development outbox. Needs a Tokio runtime (it starts the sender task).
    pub fn from_settings(smtp: Option<SmtpSettings>) -> Self {
        match smtp {
            Some(settings) => {
                tracing::info!(smtp = %settings, "mail goes out over SMTP");
                Self::smtp(settings)
            }
            None => {
                tracing::warn!(
                    "SMTP_URL is not set: mail is only logged and kept in the development outbox \
                     (DevService, GET /api/dev/outbox); set SMTP_URL in production"
                );
                Self::development()
            }
        }
    }

    /// Logs mail and keeps the latest [`OUTBOX_CAPACITY`] in an outbox.
    pub fn development() -> Self {
        let outbox = Outbox::new(OUTBOX_CAPACITY);
        Self::start(Transport::Development(outbox.clone()), Some(outbox))
    }

    pub fn smtp(settings: SmtpSettings) -> Self {
        Self::start(
            Transport::Smtp(Box::new(smtp::SmtpSender::new(settings))),
            None,
        )
    }

    fn start(transport: Transport, outbox: Option<Outbox>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(drain(receiver, transport));
        Self { queue, outbox }
    }

    /// Queues `mail` and returns at once; a full queue drops it with a warning.
    pub fn send(&self, mail: Mail) {
        match self.queue.try_send(mail) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(mail)) => {
                tracing::warn!(mail.subject = %mail.subject, "mail queue full: mail dropped");
            }
            Err(mpsc::error::TrySendError::Closed(mail)) => {
                tracing::error!(mail.subject = %mail.subject, "mail sender stopped: mail dropped");
            }
        }
    }

    /// The development outbox; `None` when mail goes out over SMTP.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.as_ref()
    }
}

async fn drain(mut receiver: mpsc::Receiver<Mail>, transport: Transport) {
    while let Some(mail) = receiver.recv().await {
        let host = mail.link.as_deref().and_then(link_host);
        match &transport {
            Transport::Development(outbox) => {
                tracing::info!(
                    mail.to = %mail.to,
                    mail.subject = %mail.subject,
                    mail.link_host = host.as_deref().unwrap_or("-"),
                    "mail kept in the development outbox"
                );
                if let Some(link) = &mail.link {
                    tracing::debug!(mail.to = %mail.to, mail.link = %link, "development mail link");
                }
                outbox.push(&mail, Utc::now());
            }
            Transport::Smtp(sender) => deliver(sender, &mail, host.as_deref()).await,
        }
    }
}

async fn deliver(sender: &smtp::SmtpSender, mail: &Mail, host: Option<&str>) {
    let mut delay = RETRY_DELAY;
    for attempt in 1..=ATTEMPTS {
        match sender.send(mail).await {
            Ok(()) => {
                tracing::info!(
                    mail.to = %mail.to,
                    mail.subject = %mail.subject,
                    mail.link_host = host.unwrap_or("-"),
                    "mail sent"
                );
                return;
            }
            Err(error) if error.is_permanent() || attempt == ATTEMPTS => {
                tracing::warn!(
                    mail.to = %mail.to,
                    mail.subject = %mail.subject,
                    attempt,
                    error = %error,
                    "mail not delivered"
                );
                return;
            }
            Err(error) => {
                tracing::info!(attempt, error = %error, "mail delivery failed, retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}

/// The host of a link, for logs that must not show the token in its path or query.
fn link_host(link: &str) -> Option<String> {
    url::Url::parse(link)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &str) -> Mail {
        Mail {
            to: to.into(),
            subject: "Hello".into(),
            text: "Open https://app.example.com/x?token=secret".into(),
            link: Some("https://app.example.com/x?token=secret".into()),
        }
    }

    #[test]
    fn links_are_logged_by_host_only() {
        assert_eq!(
            link_host("https://app.example.com:8443/a?token=t").as_deref(),
            Some("app.example.com")
        );
        assert_eq!(link_host("not a link"), None);
        assert!(!format!("{:?}", mail("a@b.co")).contains("secret"));
    }

    #[tokio::test]
    async fn development_mail_lands_in_the_outbox_newest_first() {
        let mailer = Mailer::development();
        mailer.send(mail("first@example.com"));
        mailer.send(mail("second@example.com"));
        let outbox = mailer.outbox().unwrap().clone();
        for _ in 0..100 {
            if outbox.list().len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mails = outbox.list();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0].to, "second@example.com");
        assert_eq!(mails[1].to, "first@example.com");
        assert!(mails[0].text.contains("token=secret"));
    }

    #[tokio::test]
    async fn a_full_queue_drops_mail_instead_of_waiting() {
        // A receiver nobody drains: the queue fills and `send` must still return at once.
        let (queue, _receiver) = mpsc::channel(2);
        let mailer = Mailer {
            queue,
            outbox: None,
        };
        let started = std::time::Instant::now();
        for _ in 0..10 {
            mailer.send(mail("a@example.com"));
        }
        assert!(started.elapsed() < Duration::from_millis(100));
    }
}
