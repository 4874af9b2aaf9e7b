//! Emails: `local@domain.tld`, the local part of letters, digits and `._%+'-`, the domain
//! one or more dot-separated labels and a TLD of two or more letters. Letters are Unicode
//! (internationalised addresses). Not claimed: obfuscated forms (`alice at example dot com`)
//! and an `@` with spaces around it.

use std::sync::LazyLock;

use regex::Regex;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\w.%+'\-]+@[\w\-]+(?:\.[\w\-]+)*\.[\p{L}]{2,}")
        .unwrap_or_else(|e| panic!("email pattern: {e}"))
});

/// Whether `text` holds an email address.
pub(super) fn find(text: &str) -> bool {
    EMAIL.is_match(text)
}
