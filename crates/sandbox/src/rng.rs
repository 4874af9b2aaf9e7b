//! A deterministic generator keyed by a string, so the same id always yields the same customer.

use sha2::{Digest, Sha256};

/// SplitMix64 seeded from SHA-256 of the key: stable across runs, platforms and crate versions.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn keyed(namespace: &str, key: &str) -> Self {
        let digest = Sha256::new()
            .chain_update(namespace.as_bytes())
            .chain_update([0u8])
            .chain_update(key.as_bytes())
            .finalize();
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&digest[..8]);
        Rng(u64::from_le_bytes(seed))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough value in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    pub(crate) fn range(&mut self, low: i64, high_inclusive: i64) -> i64 {
        let span = high_inclusive.saturating_sub(low).saturating_add(1).max(1);
        low + i64::try_from(self.below(span.unsigned_abs())).unwrap_or(0)
    }

    /// `true` with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One item of a non-empty slice (the tables it is used with are constants).
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T], fallback: T) -> T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(i).copied().unwrap_or(fallback)
    }

    /// Fills a pattern: `#` a digit, `A` an uppercase letter, anything else literally.
    pub(crate) fn pattern(&mut self, pattern: &str) -> String {
        pattern
            .chars()
            .map(|c| match c {
                '#' => char::from(b'0' + (self.below(10) as u8)),
                'A' => char::from(b'A' + (self.below(26) as u8)),
                other => other,
            })
            .collect()
    }

    pub(crate) fn hex(&mut self, digits: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        (0..digits)
            .map(|_| char::from(HEX[(self.next_u64() & 0xF) as usize]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_sequence_different_key_different_sequence() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::keyed("ns", "k1");
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::keyed("ns", "k1");
                move |_| r.next_u64()
            })
            .collect();
        let c = Rng::keyed("ns", "k2").next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
    }

    #[test]
    fn helpers_stay_in_bounds() {
        let mut r = Rng::keyed("ns", "bounds");
        for _ in 0..1000 {
            let v = r.range(-3, 3);
            assert!((-3..=3).contains(&v));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.pick::<u8>(&[], 7), 7);
        let s = r.pattern("AA-##");
        assert!(s.len() == 5 && s.as_bytes()[2] == b'-');
        assert!(r
            .hex(32)
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
