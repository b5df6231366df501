//! The development outbox: the latest mails, kept in memory for a developer to read.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::Mail;

/// A mail as the outbox keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

/// The latest mails, at most `capacity`; cheap to clone (clones share the mails).
#[derive(Clone, Debug)]
pub struct Outbox {
    mails: Arc<Mutex<VecDeque<OutboxMail>>>,
    capacity: usize,
}

impl Outbox {
    pub fn new(capacity: usize) -> Self {
        Self {
            mails: Arc::new(Mutex::new(VecDeque::with_capacity(capacity))),
            capacity: capacity.max(1),
        }
    }

    pub(super) fn push(&self, mail: &Mail, sent_at: DateTime<Utc>) {
        let mut mails = self
            .mails
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if mails.len() == self.capacity {
            mails.pop_front();
        }
        mails.push_back(OutboxMail {
            to: mail.to.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            sent_at,
        });
    }

    /// The kept mails, newest first.
    pub fn list(&self) -> Vec<OutboxMail> {
        let mails = self
            .mails
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        mails.iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_mail_goes_when_the_outbox_is_full() {
        let outbox = Outbox::new(2);
        for to in ["a@x.io", "b@x.io", "c@x.io"] {
            let mail = Mail {
                to: to.into(),
                subject: "s".into(),
                text: "t".into(),
                link: None,
            };
            outbox.push(&mail, Utc::now());
        }
        let kept: Vec<String> = outbox.list().into_iter().map(|mail| mail.to).collect();
        assert_eq!(kept, ["c@x.io", "b@x.io"]);
    }
}
