//! Comma lists, the shape of every multi-valued setting (`TRUSTED_ORIGINS`, `TRUSTED_PROXIES`, `ADMIN_USER_IDS`, …).

/// The items of `a, b,,c`: trimmed, empty ones dropped.
pub fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn items_are_trimmed_and_blanks_dropped() {
        assert_eq!(split_list(" a, b ,,c,"), ["a", "b", "c"]);
        assert!(split_list("").is_empty());
        assert!(split_list(" , ").is_empty());
    }

    proptest! {
        #[test]
        fn joining_the_items_again_gives_the_same_items(items in proptest::collection::vec("[a-z0-9:/.*-]{1,12}", 0..6)) {
            let list = items.join(" , ");
            prop_assert_eq!(split_list(&list), items);
        }
    }
}
