//! Findings on `report` routes about keys and roles: abbreviated key words, payment-message
//! party roles, name keys, names as payment systems write them, role words inside structured
//! text, acronym key words, handles kept as identifiers.

use serde_json::json;

use crate::attack_keys::{gateway, read_everywhere, serve};
use crate::common::*;

/// Finding 2: the key-word vocabulary matches whole words, prefixes and suffixes of its
/// entries, but not the abbreviations payment and banking schemas write: `addr`
/// (`billing_addr1`), `nm` (`cust_nm`, `bene_nm`, `acc_nm`, `fullnm`), `brth`/`bdate` for a
/// birth date, `zipcd`. A full street address *with* numbers, a name and a date of birth pass
/// under them on a `report` family (the stated residual covers a neutral key only).
#[tokio::test]
async fn abbreviated_key_words_are_key_words() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "addr": "Jl Abbraddr No 42 RT 03 RW 05 Jakarta 12345",
        "billing_addr1": "Jl Abbrbill 42",
        "cust_nm": "ALICE ABBRCUST",
        "bene_nm": "Budi Abbrbene",
        "acc_nm": "Citra Abbracc",
        "fullnm": "Dewi Abbrfull",
        "bdate": "1990-05-17",
        "brth_dt": "17/05/1991",
        "zipcd": "12345",
        "national_id_no": "B1234567",
        "id_card": "Abbridcard S123",
        "document_number": "Abbrdoc A12345",
        "id_num": "Abbridnum",
        "ic_no": "Abbric S123",
        "fin": "Abbrfin F123",
        "no_kp": "Abbrkp 900517",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-abbrev",
        "200 OK",
        &body,
        &[
            "Abbraddr",
            "Abbrbill",
            "ABBRCUST",
            "Abbrbene",
            "Abbracc",
            "Abbrfull",
            "1990-05-17",
            "17/05/1991",
            "B1234567",
            "Abbridcard",
            "Abbrdoc",
            "Abbridnum",
            "Abbric",
            "Abbrfin",
            "Abbrkp",
        ],
        "abbreviated key words",
    )
    .await;
    app.stop().await;
}

/// Finding 3: role words name the parties of a payment (`payer`, `sender`, `beneficiary`, …),
/// but not the ones ISO 20022 and SWIFT MT103 messages use — `debtor`, `creditor`,
/// `ultimate_debtor`, `remitter`, `orderer`/`ordering_customer` (field 50), `consignee`,
/// `bill_to`/`ship_to`, `signatory`, `applicant`, `principal`, `attn`. A person's name written
/// as a name (`Alice Victimson`, the shape the role-word check masks) passes under them.
#[tokio::test]
async fn payment_message_party_roles_are_role_words() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "debtor": "Alice Roledebtor",
        "creditor": {"nm": "Budi Rolecreditor"},
        "ultimate_debtor": "Citra Roleultimate",
        "remitter": "Dewi Roleremitter",
        "orderer": "Eka Roleorderer",
        "ordering_cust": "Fajar Roleordering",
        "consignee": "Gita Roleconsignee",
        "bill_to": "Hadi Rolebill, Jl Melati 42",
        "ship_to": "Jl Roleship 42",
        "signatory": "Indah Rolesign",
        "applicant": "Joko Roleapplicant",
        "attn": "Kiki Roleattn",
        // ISO 20022 as JSON: the creditor's `Nm` (the debtor's is masked).
        "Cdtr": {"Nm": "Lala Roleisocdtr"},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-roles",
        "200 OK",
        &body,
        &[
            "Roledebtor",
            "Rolecreditor",
            "Roleultimate",
            "Roleremitter",
            "Roleorderer",
            "Roleordering",
            "Roleconsignee",
            "Rolebill",
            "Roleship",
            "Rolesign",
            "Roleapplicant",
            "Roleattn",
        ],
        "payment message party roles",
    )
    .await;
    app.stop().await;
}

/// Finding 4: on a `report` family a key that is no plain field name (a space, a comma: a
/// person's full name, an address) is copied to the client unless something *below* it was
/// masked — while `/admin/mask/undeclared` already lists the same key as `<key>`. A summary map
/// from payer to amount (`{"totals": {"Budi Hartono": 150000}}`) or to a flag passes whole.
/// The stated residual concedes only a *single-word* name used as a key.
#[tokio::test]
async fn name_keys_over_unmasked_values_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "totals": {"Budi Keytotals": 150000, "Citra Keyaddr, Jl Melati 42": 2},
        "notes": {"Alice Keynotes": 1},
        "by": {"DEWI KEYBY": "PAID"},
        "tags": {"eka.keytags": true},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-name-keys",
        "200 OK",
        &body,
        &["Keytotals", "Keyaddr", "Keynotes", "KEYBY", "keytags"],
        "name keys over unmasked values",
    )
    .await;
    app.stop().await;
}

/// Finding 8: under a role word the gateway masks "a string written as a person's name — two to
/// six words of letters, each starting with a capital". Names as payment systems write them
/// fall outside that grammar and pass inside a role's value: surname first with a comma (bank
/// statements), lower-case particles (`bin`, `binti`, `van der`: most Malay/Indonesian men's
/// names), academic titles after a comma (`S.H.`, Indonesia), words joined by NBSP, `+`,
/// `%20`, `_` or `.` (a form or URL encoder's spelling of the same name), and CJK names. The
/// stated residual concedes only a lower-case or one-word name.
#[tokio::test]
async fn names_as_payment_systems_write_them_never_pass_under_a_role() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let names = [
        "Rolename, Alice",
        "Muhammad bin Rolebin",
        "Siti binti Rolebinti",
        "Alice van der Rolevan",
        "Alice Roletitle, S.H.",
        "Alice\u{a0}Rolenbsp",
        "Alice+Roleplus",
        "Alice%20Rolepct",
        "Alice_Roleunder",
        "Alice.Roledot",
        "李小龍",
    ];
    let body = json!({"status": true, "data": {
        "payer": {"display": names},
        "sender_info": {"a": names[0], "b": names[1], "c": names[5], "d": names[7], "e": names[10]},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-role-names",
        "200 OK",
        &body,
        &[
            "Rolename",
            "Rolebin",
            "Rolebinti",
            "Rolevan",
            "Roletitle",
            "Rolenbsp",
            "Roleplus",
            "Rolepct",
            "Roleunder",
            "Roledot",
            "李小龍",
        ],
        "names under role words",
    )
    .await;
    app.stop().await;
}

/// Finding 10: in text, a role word labels a name only as a clause label (`Payer: Alice …`). The
/// same role as a key inside structured text — a query string (`payer=Alice+…`, the `+` and
/// `%20` spellings), `key=value`, XML (`<payer>…</payer>`), a CSV header, a Python repr
/// (`{'payer': '…'}`), SQL (`beneficiary='…'`) — is not read, while a key word in the same
/// shapes (`first_name=Alice`) is.
#[tokio::test]
async fn role_words_inside_structured_text_mark_their_value() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "q": "payer=Alice+Stqs&amount=100",
        "q2": "recipient=Alice%20Stpct",
        "kv": "payer=Alice Stkv",
        "xml": "<payer>Alice Stxml</payer>",
        "csv": "payer,amount\nAlice Stcsv,100",
        "repr": "{'payer': 'Alice Strepr'}",
        "sql": "beneficiary='Alice Stsql'",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-role-structured",
        "200 OK",
        &body,
        &["Stqs", "Stpct", "Stkv", "Stxml", "Stcsv", "Strepr", "Stsql"],
        "role words in structured text",
    )
    .await;
    app.stop().await;
}

/// Finding 12: key words are found by splitting keys on case changes (`IBANNumber` → `iban`
/// `number`), but an upper-case acronym of three letters or fewer followed by a lower-case word
/// is split one letter too early (`KTPno` → `kt` `pno`), and short words match whole words
/// only, so `KTPno`, `NIKnum`, `NIKvalue`, `SSNno`, `DOBdate`, `HPnumber`, `TELnum`, `PANno`
/// are not personal keys (`NPWPno` and `IBANno`, four letters, are).
#[tokio::test]
async fn short_acronym_key_words_followed_by_lower_case_are_key_words() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "KTPno": "Acroktp 42",
        "NIKnum": "Acronik 42",
        "NIKvalue": "Acronikv",
        "SSNno": "Acrossn",
        "DOBdate": "17 Mei Acrodob",
        "HPnumber": "Acrohp",
        "TELnum": "Acrotel",
        "PANno": "Acropan",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-acronym-keys",
        "200 OK",
        &body,
        &[
            "Acroktp", "Acronik", "Acrossn", "Acrodob", "Acrohp", "Acrotel", "Acropan",
        ],
        "short acronym key words",
    )
    .await;
    app.stop().await;
}

/// Finding 14: under a role word, "one token with a digit and no `.` or `@`" is kept as an
/// identifier (a reference to the person). Only the `.` separates a handle from an id in that
/// rule (`umar.digitson1990` is masked), so the same handle with `_` or `-`, a CamelCase name
/// with a digit, a name with a phone number, or a name with an address passes — and the
/// exception even wins over the digit detectors: `Budi_Hartono_081234567890` under `recipient`
/// passes, while `no_081234567890` under a neutral key is masked.
#[tokio::test]
async fn handles_under_a_role_are_not_identifiers() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    // One per answer: a masked value beside them would make their container personal.
    let cases = [
        ("recipient", "Budi_Handlebud_081234567890", "081234567890"),
        ("payee", "alice-handlekebab-17051990", "handlekebab"),
        ("sender", "AliceHandlecamel1", "Handlecamel"),
        ("user", "citra-handleaddr-jl-melati-42", "handleaddr"),
        ("payer", "umar_Handlesnake1990", "Handlesnake"),
    ];
    for (n, (role, value, seed)) in cases.into_iter().enumerate() {
        let body = json!({"status": true, "data": {role: value}}).to_string();
        read_everywhere(
            &app,
            &bodies,
            &format!("/api/v1/payin/attack-role-handle-{n}"),
            "200 OK",
            &body,
            &[seed],
            "handles under role words",
        )
        .await;
    }
    app.stop().await;
}
