//! `[mask.policy]` validation: the shipped section is valid, and each wrong key is reported
//! under its dotted name.

use crate::mask::detect::Detector;
use crate::mask::policy::{Kind, Leaf, Mode, PolicyFamily};
use crate::mask::{default_config, MaskConfig, MaskConfigError};

fn problems(edit: impl FnOnce(&mut MaskConfig)) -> Vec<(String, String)> {
    let mut cfg = default_config();
    edit(&mut cfg);
    match cfg.validate() {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|e: &MaskConfigError| (e.full_key(), e.reason()))
            .collect(),
    }
}

#[test]
fn shipped_policy_is_valid_and_documented_reads_enforce() {
    let s = crate::mask::default_settings();
    let p = &s.policies;
    assert_eq!(
        p.for_family(PolicyFamily::CustomerDetail).mode,
        Mode::Enforce
    );
    assert_eq!(p.for_family(PolicyFamily::WalletReady).mode, Mode::Enforce);
    // Every customer endpoint has a documented schema: the customer object is enforced on
    // all of them, not only on the detail read.
    assert_eq!(p.for_family(PolicyFamily::Customer).mode, Mode::Enforce);
    for f in PolicyFamily::ALL {
        if !matches!(
            f,
            PolicyFamily::CustomerDetail | PolicyFamily::WalletReady | PolicyFamily::Customer
        ) {
            assert_eq!(p.for_family(f).mode, Mode::Report, "{f:?}");
        }
        let d = &p.for_family(f).declared;
        let status = d.child(d.root(), "status").expect("status declared");
        let k = d.kind(status).expect("status has a kind");
        assert!(
            k.fits(Leaf::Bool) && !k.fits(Leaf::Str("Alice Victimson")),
            "{f:?}"
        );
        // `message` is free text: never copied (its key is kept where it is declared).
        assert!(
            d.child(d.root(), "message")
                .and_then(|m| d.kind(m))
                .is_none_or(|k| *k == Kind::Personal),
            "{f:?} copies message"
        );
        // Every shipped declaration has a kind that copies no free text.
        for (path, kind) in d.paths() {
            assert!(*kind != Kind::Text, "{f:?} {path} is declared `text`");
        }
    }
    for d in Detector::ALL {
        assert!(p.detectors().is_enabled(d));
    }
    assert!(p.is_personal_key("msisdn"));
}

/// `=word` meets whole words only: accepted, folded, and a duplicate of its bare form.
#[test]
fn an_exact_word_is_accepted_and_meets_whole_words_only() {
    let n = default_config().policy.key_words.len();
    let found = problems(|c| {
        c.policy.key_words.push("=Trace".into());
        c.policy.key_words.push("=".into());
        c.policy.key_words.push("race".into());
    });
    let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    let empty = format!("mask.policy.key_words[{}]", n + 1);
    let twice = format!("mask.policy.key_words[{}]", n + 2);
    assert_eq!(keys, [empty.as_str(), twice.as_str()], "{found:#?}");
    let mut cfg = default_config();
    cfg.policy.key_words.push("=Trace".into());
    let s = cfg.validate().expect("valid");
    assert!(s.policies.is_personal_key("trace"));
    assert!(s.policies.is_personal_key("race_group"));
    assert!(!s.policies.is_personal_key("traceable"));
    assert!(!s.policies.is_personal_key("embrace"));
}

#[test]
fn each_wrong_key_is_named() {
    // The two bad words are appended: their indices follow the shipped vocabulary, whatever
    // its length.
    let shipped = default_config().policy;
    let (shipped_words, shipped_detectors) = (shipped.key_words.len(), shipped.detectors.len());
    let found = problems(|c| {
        c.policy.default_strategy = "keep".into();
        c.policy.key_words.push("two words".into());
        c.policy.key_words.push("NAME".into());
        c.policy.detectors.push("ssn".into());
        c.policy.digit_run_min = 3;
        c.policy.max_undeclared_paths = 0;
        let fam = c.policy.families.get_mut("payin").expect("payin");
        fam.mode = "audit".into();
        fam.declared = vec![
            "data.amount:amount".into(),
            "data.amount:amount".into(),
            "data..x:text".into(),
            "data.customer_email:text".into(),
            "data.beneficiary.phone_type:code".into(),
            "data.fee".into(),
            "data.fee2:money".into(),
            "data.fee3:flag|personal".into(),
        ];
        c.policy
            .objects
            .insert("loop".into(), vec!["next:loop".into()]);
        c.policy.objects.insert("flag".into(), vec!["x:id".into()]);
        c.policy.enums.insert("empty".into(), Vec::new());
        c.policy.families.insert(
            "payins".into(),
            crate::mask::policy::FamilyConfig {
                mode: "report".into(),
                declared: Vec::new(),
            },
        );
    });
    let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    let two_words = format!("mask.policy.key_words[{shipped_words}]");
    let upper_name = format!("mask.policy.key_words[{}]", shipped_words + 1);
    let ssn = format!("mask.policy.detectors[{shipped_detectors}]");
    for want in [
        "mask.policy.default_strategy",
        &two_words,
        &upper_name,
        &ssn,
        "mask.policy.digit_run_min",
        "mask.policy.max_undeclared_paths",
        "mask.policy.families.payin.mode",
        "mask.policy.families.payin.declared[1]",
        "mask.policy.families.payin.declared[2]",
        "mask.policy.families.payin.declared[5]",
        "mask.policy.families.payin.declared[6]",
        "mask.policy.families.payin.declared[7]",
        "mask.policy.families.payins",
        "mask.policy.objects.loop",
        "mask.policy.objects.flag",
        "mask.policy.enums.empty",
    ] {
        assert!(keys.contains(&want), "{want} missing from {found:#?}");
    }
    let reason = |k: &str| &found.iter().find(|(key, _)| key == k).expect(k).1;
    assert!(
        !keys.contains(&"mask.policy.families.payin.declared[3]"),
        "a rule-covered path may be declared: the rule wins"
    );
    assert!(
        !keys.contains(&"mask.policy.families.payin.declared[4]"),
        "a key-word path may be declared"
    );
    assert!(reason("mask.policy.default_strategy").contains("\"redact\""));
    assert!(reason("mask.policy.families.payin.declared[5]").contains("needs a kind"));
    assert!(reason("mask.policy.families.payin.declared[6]").contains("unknown kind \"money\""));
    assert!(reason("mask.policy.objects.loop").contains("contains itself"));
    assert!(reason("mask.policy.objects.flag").contains("built-in"));
}

#[test]
fn a_layer_switches_a_family_and_declares_paths() {
    let cfg = parse(
        "[mask.policy.families.payin]\nmode = \"enforce\"\ndeclared = [\"status:flag\", \"data.amount:amount\", \"data.payer:party\", \"data.state:flag|party_kind\"]\n[mask.policy.objects]\nparty = [\"id:id\", \"kind:party_kind\"]\n[mask.policy.enums]\nparty_kind = [\"merchant\", \"bank\"]\n",
    )
    .expect("parses");
    let s = cfg.validate().expect("valid");
    let payin = s.policies.for_family(PolicyFamily::Payin);
    assert_eq!(payin.mode, Mode::Enforce);
    let d = &payin.declared;
    let data = d.child(d.root(), "data").expect("data");
    assert_eq!(
        d.kind(d.child(data, "amount").expect("amount")),
        Some(&Kind::Amount)
    );
    // An object placed at a path, its enum kind with its values.
    let payer = d.child(data, "payer").expect("payer");
    assert_eq!(d.kind(d.child(payer, "id").expect("id")), Some(&Kind::Id));
    let kind = d
        .kind(d.child(payer, "kind").expect("kind"))
        .expect("declared");
    assert!(kind.fits(Leaf::Str("bank")) && !kind.fits(Leaf::Str("Alice")));
    // A union fits what any of its kinds fits.
    let state = d
        .kind(d.child(data, "state").expect("state"))
        .expect("declared");
    assert!(state.fits(Leaf::Bool) && state.fits(Leaf::Str("merchant")));
    assert!(!state.fits(Leaf::Str("Alice Victimson")));
    // Other families keep the shipped tables.
    assert_eq!(
        s.policies.for_family(PolicyFamily::WalletReady).mode,
        Mode::Enforce
    );
}

/// `toml` layered over `config/default.toml`, as the gateway reads it.
fn parse(toml: &str) -> Result<MaskConfig, ::config::ConfigError> {
    ::config::Config::builder()
        .add_source(::config::File::from_str(
            crate::defaults::DEFAULT_TOML,
            ::config::FileFormat::Toml,
        ))
        .add_source(::config::File::from_str(toml, ::config::FileFormat::Toml))
        .build()?
        .get::<MaskConfig>("mask")
}

/// The shipped vocabulary reads Indonesian keys (paycombat's merchants and payers write keys in
/// Indonesian as often as in English), and leaves the documented payment keys alone.
#[test]
fn indonesian_keys_are_personal_and_payment_keys_are_not() {
    let s = crate::mask::default_settings();
    let p = &s.policies;
    for key in [
        "nama",
        "nama_lengkap",
        "alamat",
        "telepon",
        "telp",
        "no_telp",
        "no_hp",
        "nomor_hp",
        "noHp",
        "surel",
        "tanggal_lahir",
        "tempat_lahir",
        "tglLahir",
        "nik",
        "no_ktp",
        "rekening",
        "no_rekening",
        "nomorRekening",
        "ibu_kandung",
        "nama_gadis_ibu",
        "jenis_kelamin",
        "kodepos",
        "whatsapp",
        "nohp",
        "nomorhp",
        "norek",
        "NoRek",
        "noktp",
        "tgl_lhr",
        "ttl",
        "nomor_induk_kependudukan",
    ] {
        assert!(p.is_personal_key(key), "{key}");
    }
    for key in [
        "customer_id",
        "org_id",
        "type",
        "is_active",
        "status",
        "amount",
        "currency",
        "created_at",
        "payin_method",
        "reference_id",
        "jumlah",
        "mata_uang",
        "keterangan_status",
        "notification_url",
        "nominal",
        "note",
        "nonce",
        "number",
        "no_referensi",
    ] {
        assert!(!p.is_personal_key(key), "{key}");
    }
}

mod key_word_props {
    use proptest::prelude::*;

    /// Each shipped word, in any case, under a prefix, with either separator or camelCase,
    /// in full-width letters: personal.
    fn spelled(word: &str, style: u8, prefix: &str) -> String {
        let w = match style % 4 {
            0 => word.to_owned(),
            1 => word.to_uppercase(),
            2 => {
                let mut c = word.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
            _ => word
                .chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        char::from_u32(c as u32 - 'a' as u32 + 0xff41).unwrap_or(c)
                    } else {
                        c
                    }
                })
                .collect(),
        };
        match style / 4 % 3 {
            0 => format!("{prefix}_{w}"),
            1 => format!("{prefix}-{w}"),
            _ if style % 4 == 2 => format!("{prefix}{w}"),
            _ => w,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn every_shipped_word_is_personal_in_every_spelling(
            i in 0usize..1000,
            style in 0u8..12,
            prefix in "(no|nomor|data|customer|payer)",
        ) {
            let s = crate::mask::default_settings();
            let words = crate::mask::default_config().policy.key_words;
            // `=race`: the word itself, matched whole.
            let word = words[i % words.len()].trim_start_matches('=');
            let key = spelled(word, style, &prefix);
            prop_assert!(s.policies.is_personal_key(&key), "{}", key);
        }
    }
}
