//! Authenticator codes as Better Auth's `createOTP` computes them: RFC 6238 with HMAC-SHA1, 6 digits, 30-second
//! steps, the secret's text used as its UTF-8 bytes, one step of clock drift either way; and its `otpauth://` URI.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};
use warden_common::secret::encode_uri_component;

use crate::domain::random_string;

pub const DIGITS: usize = 6;
/// Seconds per code.
pub const PERIOD: u64 = 30;
/// Steps either side of now whose codes are accepted (Better Auth's `window: 1`).
const WINDOW: u64 = 1;
/// Secrets imported from elsewhere are stored as `base32:<secret>`; generated ones never hold a `:`.
const BASE32_PREFIX: &str = "base32:";
/// Better Auth's secret length: 32 characters of its random alphabet.
const SECRET_LEN: usize = 32;

/// An authenticator secret, opened. No `Debug`: it is a credential.
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// A fresh secret and its text, which is what gets sealed into the row.
    pub fn generate() -> (Self, String) {
        let text = random_string(SECRET_LEN);
        (Self(text.as_bytes().to_vec()), text)
    }

    /// The secret of an opened row: its text's bytes, or the decoded `base32:` form.
    pub fn from_stored(text: &str) -> Option<Self> {
        match text.strip_prefix(BASE32_PREFIX) {
            Some(encoded) => Secret::Encoded(encoded.to_ascii_uppercase())
                .to_bytes()
                .ok()
                .map(Self),
            None => Some(Self(text.as_bytes().to_vec())),
        }
    }

    /// A short name for the secret that does not reveal it: the first 8 bytes of its SHA-256, in hex.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(&self.0)[..8])
    }

    fn totp(&self) -> TOTP {
        TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, PERIOD, self.0.clone())
    }

    /// The code of time step `step`.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp().generate(step * PERIOD)
    }

    /// The time step whose code `code` is, among the steps around `unix_secs`; every candidate is compared, in
    /// constant time, so the timing says nothing about which (if any) matched.
    pub fn matching_step(&self, code: &str, unix_secs: u64) -> Option<u64> {
        let now = unix_secs / PERIOD;
        let totp = self.totp();
        let mut matched = None;
        for step in now.saturating_sub(WINDOW)..=now + WINDOW {
            let expected = totp.generate(step * PERIOD);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
                matched = Some(step);
            }
        }
        matched
    }

    /// `otpauth://totp/<issuer>:<account>?secret=…&issuer=…&digits=6&period=30`, byte for byte as Better Auth
    /// writes it (path parts as `encodeURIComponent`, the query as `URLSearchParams`).
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        let secret = Secret::Raw(self.0.clone()).to_encoded().to_string();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("secret", &secret)
            .append_pair("issuer", issuer)
            .append_pair("digits", &DIGITS.to_string())
            .append_pair("period", &PERIOD.to_string())
            .finish();
        format!(
            "otpauth://totp/{}:{}?{query}",
            encode_uri_component(issuer),
            encode_uri_component(account)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 secret, as text.
    const RFC_SECRET: &str = "12345678901234567890";

    #[test]
    fn codes_match_rfc_6238_vectors() {
        let secret = TotpSecret::from_stored(RFC_SECRET).unwrap();
        // RFC 6238, Appendix B (8-digit values; the last six are the 6-digit code).
        for (time, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(secret.code_at_step(time / PERIOD), eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_matches_its_own_step_and_one_either_side_only() {
        let secret = TotpSecret::from_stored(RFC_SECRET).unwrap();
        let now = 1_234_567_890;
        let step = now / PERIOD;
        for offset in [-1i64, 0, 1] {
            let at = step.checked_add_signed(offset).unwrap();
            assert_eq!(
                secret.matching_step(&secret.code_at_step(at), now),
                Some(at)
            );
        }
        for offset in [-2i64, 2] {
            let at = step.checked_add_signed(offset).unwrap();
            assert_eq!(secret.matching_step(&secret.code_at_step(at), now), None);
        }
        assert_eq!(secret.matching_step("", now), None);
        assert_eq!(secret.matching_step("1234567", now), None);
    }

    #[test]
    fn an_imported_base32_secret_is_decoded() {
        // "12345678901234567890" in Base32.
        let imported = TotpSecret::from_stored("base32:gezdgnbvgy3tqojqgezdgnbvgy3tqojq").unwrap();
        assert_eq!(
            imported.code_at_step(1),
            TotpSecret::from_stored(RFC_SECRET).unwrap().code_at_step(1)
        );
    }

    #[test]
    fn the_uri_is_better_auths() {
        // Better Auth 1.7's `createOTP("12345678901234567890").url("My App", "ada+1@example.com")`.
        let secret = TotpSecret::from_stored(RFC_SECRET).unwrap();
        assert_eq!(
            secret.uri("My App", "ada+1@example.com"),
            "otpauth://totp/My%20App:ada%2B1%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=My+App&digits=6&period=30"
        );
    }

    #[test]
    fn generated_secrets_are_32_characters_of_better_auths_alphabet() {
        let (_, text) = TotpSecret::generate();
        assert_eq!(text.len(), 32);
        assert!(!text.contains(':'));
    }
}
