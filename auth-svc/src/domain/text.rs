//! Text as clients send it: names, pictures, reasons, roles, ids, search values, link tokens. Any string is one but a
//! string holding a NUL (U+0000): PostgreSQL's `text` cannot store that character, so such a value would reach the
//! database and fail there, a 500 where the client deserves a 400. No Better Auth client sends one on purpose; the
//! gRPC edge refuses it as Better Auth refuses a bad field (`VALIDATION_ERROR`), and a token holding one is a token
//! no link was ever made with. Passwords are exempt: they are only hashed and compared, never stored as sent.

/// Whether PostgreSQL can store `raw` as `text`, and compare a column with it.
pub fn is_storable(raw: &str) -> bool {
    !raw.contains('\0')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_nul_anywhere_is_what_cannot_be_stored() {
        assert!(is_storable(""));
        assert!(is_storable("Ada Lovelace"));
        assert!(is_storable("\u{1}\u{7f}\u{fffd}é"));
        assert!(!is_storable("\0"));
        assert!(!is_storable("Ada\0"));
        assert!(!is_storable("a\0b"));
    }

    proptest! {
        #[test]
        fn text_is_storable_exactly_when_it_has_no_nul(raw in any::<String>()) {
            prop_assert_eq!(is_storable(&raw), !raw.chars().any(|c| c == '\u{0}'));
        }
    }
}
