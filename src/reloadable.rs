//! Which configuration keys a running gateway takes on when its configuration is
//! reloaded, and which only at the next start. Each component declares the class of
//! every key of its own section next to that section's raw struct (a [`Keys`] value);
//! the config pass only puts the declarations side by side. A key no pattern covers has
//! no class, and `config`'s tests fail on it, so a new key cannot be added without
//! deciding.

/// When a change to a key takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    /// On the next configuration reload (SIGHUP or a change to the config file).
    Live,
    /// Only at the next start: the running value is kept (a listener is bound, a
    /// connection or store is open, a file is already read and watched).
    Restart,
}

impl KeyClass {
    pub fn name(self) -> &'static str {
        match self {
            KeyClass::Live => "live",
            KeyClass::Restart => "restart",
        }
    }
}

/// The classes of one section's keys, relative to the section (`"listen"`, not
/// `"server.listen"`). A pattern names a key, or a table and everything under it.
#[derive(Debug, Clone, Copy)]
pub struct Keys {
    pub live: &'static [&'static str],
    pub restart: &'static [&'static str],
}

impl Keys {
    /// The class of `key` (relative to the section), or None when no pattern covers it
    /// or both classes do (an undecided key).
    pub fn class_of(&self, key: &str) -> Option<KeyClass> {
        let live = self.live.iter().any(|p| covers(p, key));
        let restart = self.restart.iter().any(|p| covers(p, key));
        match (live, restart) {
            (true, false) => Some(KeyClass::Live),
            (false, true) => Some(KeyClass::Restart),
            _ => None,
        }
    }
}

/// Whether `pattern` names `key` or a table holding it.
pub fn covers(pattern: &str, key: &str) -> bool {
    key == pattern
        || key
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_covers_its_key_and_its_table_never_a_longer_name() {
        assert!(covers("tls", "tls"));
        assert!(covers("tls", "tls.cert_file"));
        assert!(!covers("tls", "tls_extra"));
        assert!(!covers("listen", "listen2"));
        let keys = Keys {
            live: &["a", "b.x"],
            restart: &["b", "a"],
        };
        assert_eq!(keys.class_of("b.y"), Some(KeyClass::Restart));
        // Both classes cover `a` and `b.x`: undecided.
        assert_eq!(keys.class_of("a"), None);
        assert_eq!(keys.class_of("b.x"), None);
        assert_eq!(keys.class_of("c"), None);
    }
}
