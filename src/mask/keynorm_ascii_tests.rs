//! Property: the ASCII path of `fold_key_into` (slices copied, then lower-cased in place)
//! folds every ASCII key, controls and DEL included, as `fold_key` does.

use proptest::prelude::*;

use super::{fold_key, fold_key_into};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn ascii_fold_into_is_fold_key(raw in "[\\x00-\\x7f]{0,24}", junk in "\\PC{0,8}") {
        let mut buf = junk;
        let into = fold_key_into(&raw, &mut buf).to_owned();
        prop_assert_eq!(into, fold_key(&raw).into_owned());
    }
}
