//! Emails: `local@domain.tld`, the local part of letters, digits and `._%+'-`, the domain
//! one or more dot-separated labels and a TLD of two or more letters. Letters are Unicode
//! (internationalised addresses). A quoted local part and an address-literal domain count
//! too. Not claimed: obfuscated forms (`alice at example dot com`)
//! and an `@` with spaces around it.

use std::sync::LazyLock;

use regex::Regex;

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // A local part as usually written, or quoted (`"alice victim"@…`, RFC 5321).
        r#"(?:[\w.%+'\-]+|"[^"\r\n]{1,64}")@"#,
        // A host name, or an address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`) or bare
        // IPv4 address that mail clients also accept.
        r"(?:[\w\-]+(?:\.[\w\-]+)*\.[\p{L}]{2,}|\[(?:IPv6:)?[0-9A-Fa-f.:]{2,45}\]|\d{1,3}(?:\.\d{1,3}){3})",
    ))
        .unwrap_or_else(|e| panic!("email pattern: {e}"))
});

/// Whether `text` holds an email address.
pub(super) fn find(text: &str) -> bool {
    EMAIL.is_match(text)
}
