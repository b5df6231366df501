//! An authenticator app for the tests: RFC 6238 codes (HMAC-SHA1, 6 digits, 30-second steps) from an `otpauth://`
//! URI, written here from the RFC so Warden's own TOTP code is not what checks itself.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The secret's bytes, from the URI's Base32 `secret` parameter.
pub fn secret_of(uri: &str) -> Vec<u8> {
    let url = url::Url::parse(uri).expect("an otpauth URI");
    assert_eq!(url.scheme(), "otpauth");
    let secret = url
        .query_pairs()
        .find(|(key, _)| key == "secret")
        .expect("a secret parameter")
        .1
        .into_owned();
    BASE32_NOPAD
        .decode(secret.as_bytes())
        .expect("the secret is Base32")
}

/// The current 30-second step.
pub fn now_step() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    now / 30
}

/// RFC 4226's HOTP of `step` (RFC 6238's time step), six digits.
pub fn code_at(secret: &[u8], step: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    format!("{:06}", binary % 1_000_000)
}

/// The code the authenticator shows now for `uri`, or `offset` steps away.
pub fn code(uri: &str, offset: i64) -> String {
    code_at(
        &secret_of(uri),
        now_step().checked_add_signed(offset).unwrap(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(secret, time / 30), eight[2..]);
        }
    }

    #[test]
    fn the_secret_comes_from_the_uri() {
        let uri = "otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=A&digits=6&period=30";
        assert_eq!(secret_of(uri), b"12345678901234567890");
    }
}
