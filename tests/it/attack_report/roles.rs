//! Role words, vocabulary gaps, people as keys, and spellings of the detail route that would pick a weaker policy.

use super::*;

/// a name under a role word is masked only as a string directly under a key that is
/// the role word alone. Under the role as an object with a neutral key (`{"payer": {"full":
/// …}}`), under the role with a neutral word (`payer_info`, `recipient_display`), beside a
/// role named in a value (`{"label": "Recipient", "value": …}`), or written with a digit
/// (`alice.victimson1990`, one token: an "identifier"), the name passes.
#[tokio::test]
async fn names_in_a_role_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "payer": {"full": "Olga Objectson"},
        "payer_info": "Ines Infoson",
        "recipient_display": "Dina Displayson",
        "parties": [{"label": "Recipient", "value": "Lara Labelson"}],
        "sender": "umar.digitson1990",
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-next-roles",
        "200 OK",
        &body,
        &["Objectson", "Infoson", "Displayson", "Labelson", "digitson"],
        "names in a role",
    )
    .await;
    app.stop().await;
}

/// `report` masks a shapeless value only under a vocabulary word, and common keys of
/// paycombat's own market are not in it: Indonesian address parts (`kota`, `provinsi`,
/// `kabupaten`, `desa`, `rt_rw`, while English `village` is a key word), `a_n` (*atas nama*,
/// the account name on a transfer), `jk` (*jenis kelamin*), `status_perkawinan` (`marital`
/// is listed), `gol_darah`, `nopol` (a vehicle plate), `ttd` (*tanda tangan*, `tandatangan`
/// is listed), and English abbreviations `acct`, `acc_no`, `bank_acc`, `tel`, `cell`, `mob`,
/// `lat`/`lng`; and English special categories and identifiers beside listed ones
/// (`ethnicity`, `race`, `health` beside `religion`; `tax_number` beside `taxid`;
/// `social_security` beside `ssn`; `citizenship` beside `nationality`; `salary`).
#[tokio::test]
async fn common_personal_keys_outside_the_vocabulary_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let fields = [
        ("kota", "Kota Rahasiaville"),
        ("provinsi", "Provinsi Rahasiaprov"),
        ("kabupaten", "Kab Rahasiakab"),
        ("desa", "Desa Rahasiadesa"),
        ("rt_rw", "RT Rahasiart"),
        ("a_n", "Anita Atasnamason"),
        ("jk", "Perempuan Jkson"),
        ("status_perkawinan", "Kawin Cerai Hidupson"),
        ("gol_darah", "AB Darahson"),
        ("nopol", "B XYZ Nopolson"),
        ("ttd", "Tanda Ttdson"),
        ("acct", "Acctia Acctson"),
        ("acc_no", "Accnoa Accnoson"),
        ("bank_acc", "Bankia Bankaccson"),
        ("tel", "Telia Telson"),
        ("cell", "Cellia Cellson"),
        ("mob", "Mobia Mobson"),
        ("lat", "minus six Latson"),
        ("ethnicity", "Etnia Ethnicson"),
        ("race", "Rasa Raceson"),
        ("health", "Diabetes Healthson"),
        ("tax_number", "Pajak Taxnumberson"),
        ("social_security", "Sosial Socialsecson"),
        ("citizenship", "Warga Citizenson"),
        ("salary", "Gaji Salaryson"),
    ];
    let data: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let body = json!({"status": true, "data": data}).to_string();
    let seeds: Vec<&str> = fields
        .iter()
        .map(|(_, v)| v.rsplit(' ').next().unwrap())
        .collect();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payout/attack-next-vocabulary",
        "200 OK",
        &body,
        &seeds,
        "personal keys outside the vocabulary",
    )
    .await;
    app.stop().await;
}

/// keys below a personal key become `<key>#N`, but a container that is personal for
/// another reason keeps the keys below it: a map keyed by people under a role word
/// (`payers: {"Alice …": 150000}`, `recipients: [{"Alice …": 1}]`), and a value container
/// beside a field name (`{"field": "first_name", "value": {"Alice …": "x"}}`: the leaves are
/// masked, the person-named key is copied), and a key whose value is a person's record
/// (`index: {"Ivan …": {"first_name": …, "email": …}}`: the record is masked, its key is not).
#[tokio::test]
async fn people_as_keys_under_roles_and_labels_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "payers": {"Paula Payerkeyson": 150000},
        "recipients": [{"Rosa Recipientkeyson": 1}],
        "custom": {"field": "first_name", "value": {"Fiona Fieldkeyson": "x"}},
        "labelled": [{"label": "Full Name", "value": {"Lena Labelkeyson": {"note": "x"}}}],
        "index": {"Ivan Indexkeyson": {"first_name": "Ivan", "email": "ivan@example.com"}},
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-next-people-keys",
        "200 OK",
        &body,
        &[
            "Payerkeyson",
            "Recipientkeyson",
            "Fieldkeyson",
            "Labelkeyson",
            "Indexkeyson",
        ],
        "people as keys",
    )
    .await;
    app.stop().await;
}

/// `?_method=` (also `%5Fmethod`) and case, `%XX`, `//` and `;` variants of a path are
/// refused or judged as the detail route, but the method override a POST carries in its
/// *body* is forwarded: Laravel reads `_method` from form and JSON input, Symfony from a form
/// parameter, and serves the customer detail, which the gateway judges as a `customer`-family
/// POST (`report`): the detail's undeclared free text passes. (The other spellings below held;
/// they stay as guards.)
#[tokio::test]
async fn normalised_spellings_of_the_detail_route_never_pick_a_weaker_policy() {
    let h = Hostile::start().await;
    let app = gateway(&h).await;
    let id = customer_id(0x21e_014);
    let body = json!({"status": true, "data": {
        "customer_id": "customer_67d84b19d50b490a8fa75ab20bbf275a",
        "is_wallet_ready": true,
        "notes": "Alice Normalisedname",
    }})
    .to_string();
    h.answer_json(body);
    let path = detail(&id);
    // The detail route itself masks the note.
    let r = app.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_no_seed(&r, &["Normalisedname"], "GET detail");
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let json_ct = [("content-type", "application/json")];
    type Variant<'a> = (Method, String, &'a [(&'a str, &'a str)], &'a [u8]);
    let variants: Vec<Variant> = vec![
        (
            Method::POST,
            format!("{path}?%5Fmethod=GET"),
            &json_ct[..],
            b"{}",
        ),
        (Method::POST, path.clone(), &form[..], b"_method=GET"),
        (
            Method::POST,
            path.clone(),
            &json_ct[..],
            br#"{"_method":"GET"}"#,
        ),
        (
            Method::GET,
            path.replacen("/customer/", "/%63ustomer/", 1),
            &[],
            b"",
        ),
        (
            Method::GET,
            path.replacen("/customer/", "//customer/", 1),
            &[],
            b"",
        ),
        (Method::GET, format!("{path};jsessionid=1"), &[], b""),
    ];
    let mut leaked = Vec::new();
    for (method, p, headers, b) in variants {
        let r = app.send(method.clone(), &p, headers, b).await;
        if String::from_utf8_lossy(&r.body).contains("Normalisedname") {
            leaked.push(format!(
                "{method} {p} body {:?} -> {}",
                String::from_utf8_lossy(b),
                r.status
            ));
        }
    }
    assert!(
        leaked.is_empty(),
        "the detail's note reached the client: {leaked:#?}"
    );
    app.stop().await;
}
