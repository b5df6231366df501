//! Pagination (AIP-158): a page size within bounds, and opaque page tokens that carry a keyset position.
//!
//! A token is base64url (no padding) of `version ‖ filter ‖ created_at µs (i64, big-endian) ‖ id ‖ checksum`, where
//! `filter` is 0 (all), 1 (open) or 2 (completed) and `checksum` is the first 8 bytes of SHA-256 over the owner's id
//! and everything before it. A token that does not decode, fails its checksum, belongs to another user or was made
//! for another filter is refused. The owner is bound in but not written down, and the position is only ever used
//! inside the caller's own tasks, so a forged token can reveal nothing.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::{domain::TaskId, error::TaskError};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 100;

const VERSION: u8 = 1;
const CHECKSUM_LEN: usize = 8;
/// version + filter + timestamp.
const HEADER_LEN: usize = 1 + 1 + 8;

/// How many tasks a page holds: 0 means the default, more than the maximum is capped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    pub fn parse(requested: i32) -> Result<Self, TaskError> {
        match u32::try_from(requested) {
            Err(_) => Err(TaskError::Validation(
                "page_size must not be negative".to_owned(),
            )),
            Ok(0) => Ok(Self(DEFAULT_PAGE_SIZE)),
            Ok(size) => Ok(Self(size.min(MAX_PAGE_SIZE))),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A position in the newest-first order: the last task of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: TaskId,
}

/// Where the next page starts, and the filter it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageToken {
    pub after: Cursor,
    pub completed: Option<bool>,
}

impl PageToken {
    pub fn encode(&self, owner_id: &str) -> String {
        let mut bytes =
            Vec::with_capacity(HEADER_LEN + self.after.id.as_str().len() + CHECKSUM_LEN);
        bytes.push(VERSION);
        bytes.push(match self.completed {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
        bytes.extend_from_slice(&self.after.created_at.timestamp_micros().to_be_bytes());
        bytes.extend_from_slice(self.after.id.as_str().as_bytes());
        let checksum = checksum(owner_id, &bytes);
        bytes.extend_from_slice(&checksum);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a token that `owner_id`'s listing made.
    pub fn parse(raw: &str, owner_id: &str) -> Result<Self, TaskError> {
        Self::decode(raw, owner_id).ok_or(TaskError::InvalidPageToken)
    }

    fn decode(raw: &str, owner_id: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let body_len = bytes.len().checked_sub(CHECKSUM_LEN)?;
        let (body, sum) = bytes.split_at(body_len);
        if body.len() <= HEADER_LEN || checksum(owner_id, body) != sum || body[0] != VERSION {
            return None;
        }
        let completed = match body[1] {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return None,
        };
        let micros = i64::from_be_bytes(body[2..HEADER_LEN].try_into().ok()?);
        let created_at = DateTime::from_timestamp_micros(micros)?;
        let id = TaskId::parse(std::str::from_utf8(&body[HEADER_LEN..]).ok()?)?;
        Some(Self {
            after: Cursor { created_at, id },
            completed,
        })
    }
}

fn checksum(owner_id: &str, body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::new()
        .chain_update(b"warden.task.v1 page token\0")
        .chain_update(owner_id.as_bytes())
        .chain_update([0])
        .chain_update(body)
        .finalize();
    let mut sum = [0; CHECKSUM_LEN];
    sum.copy_from_slice(&digest[..CHECKSUM_LEN]);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(completed: Option<bool>) -> PageToken {
        PageToken {
            after: Cursor {
                created_at: DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap(),
                id: TaskId::generate(),
            },
            completed,
        }
    }

    #[test]
    fn page_size_defaults_to_50_and_is_capped_at_100() {
        assert_eq!(PageSize::parse(0).unwrap().get(), 50);
        assert_eq!(PageSize::parse(1).unwrap().get(), 1);
        assert_eq!(PageSize::parse(100).unwrap().get(), 100);
        assert_eq!(PageSize::parse(101).unwrap().get(), 100);
        assert_eq!(PageSize::parse(i32::MAX).unwrap().get(), 100);
    }

    #[test]
    fn a_negative_page_size_is_a_validation_error() {
        let error = PageSize::parse(-1).unwrap_err();
        assert_eq!(error.reason(), Some(warden_proto::Reason::ValidationError));
    }

    #[test]
    fn a_token_reads_back_as_it_was_written() {
        for completed in [None, Some(false), Some(true)] {
            let original = token(completed);
            let encoded = original.encode("user-1");
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(PageToken::parse(&encoded, "user-1").unwrap(), original);
        }
    }

    #[test]
    fn a_token_with_any_byte_changed_is_refused() {
        let encoded = token(Some(true)).encode("user-1");
        let bytes = URL_SAFE_NO_PAD.decode(&encoded).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let tampered = URL_SAFE_NO_PAD.encode(tampered);
            assert!(PageToken::parse(&tampered, "user-1").is_err(), "byte {i}");
        }
    }

    #[test]
    fn another_users_token_is_refused() {
        let encoded = token(None).encode("user-1");
        assert!(matches!(
            PageToken::parse(&encoded, "user-2"),
            Err(TaskError::InvalidPageToken)
        ));
    }

    #[test]
    fn garbage_is_refused() {
        for raw in ["", "x", "not base64!", "AAAA", &"A".repeat(40)] {
            assert!(PageToken::parse(raw, "user-1").is_err(), "{raw:?}");
        }
    }
}
