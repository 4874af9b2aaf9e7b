//! Realistic-looking (but invented) personal data for generated customers, payins and beneficiaries.

use serde_json::{Map, Value};

use super::clock;
use super::rng::Rng;

/// The personal fields of an `individual` or an `authorized_user`, in paycombat's order.
pub(crate) const PERSON_FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "dob",
    "email",
    "nationality",
    "address_country",
    "address_state",
    "address_city",
    "address_line1",
    "address_line2",
    "address_zip_code",
    "country_of_residence",
    "phone_number",
    "phone_country_code",
    "phone_number_e164",
    "identification_type",
    "identification_custom_type",
    "identification_value",
];

/// A company's own fields (besides its `authorized_user` object).
pub(crate) const COMPANY_FIELDS: &[&str] = &[
    "name",
    "registration_number",
    "company_email",
    "company_domain",
];

struct Country {
    code: &'static str,
    dial: &'static str,
    phone: &'static str,
    zip: &'static str,
    national_id: &'static str,
    places: &'static [(&'static str, &'static str)],
    streets: &'static [&'static str],
}

const COUNTRIES: &[Country] = &[
    Country {
        code: "ID",
        dial: "+62",
        phone: "8##########",
        zip: "5####",
        national_id: "33##############",
        places: &[
            ("CENTRAL JAVA", "SEMARANG"),
            ("WEST JAVA", "BANDUNG"),
            ("DKI JAKARTA", "JAKARTA SELATAN"),
            ("EAST JAVA", "SURABAYA"),
            ("BALI", "DENPASAR"),
        ],
        streets: &[
            "JALAN PEMUDA",
            "JALAN SUDIRMAN",
            "JALAN DIPONEGORO",
            "GRAND RUDENSIA BLOK C",
        ],
    },
    Country {
        code: "SG",
        dial: "+65",
        phone: "9#######",
        zip: "######",
        national_id: "S#######A",
        places: &[("SINGAPORE", "SINGAPORE")],
        streets: &[
            "ORCHARD ROAD",
            "TAMPINES STREET 21",
            "ANG MO KIO AVENUE 3",
            "RAFFLES PLACE",
        ],
    },
    Country {
        code: "AU",
        dial: "+61",
        phone: "4########",
        zip: "2###",
        national_id: "########",
        places: &[("NSW", "SYDNEY"), ("VIC", "MELBOURNE"), ("QLD", "BRISBANE")],
        streets: &[
            "GEORGE STREET",
            "COLLINS STREET",
            "QUEEN STREET",
            "PITT STREET",
        ],
    },
    Country {
        code: "GB",
        dial: "+44",
        phone: "7#########",
        zip: "AA# #AA",
        national_id: "AA######A",
        places: &[
            ("ENGLAND", "LONDON"),
            ("ENGLAND", "MANCHESTER"),
            ("SCOTLAND", "EDINBURGH"),
        ],
        streets: &[
            "HIGH STREET",
            "STATION ROAD",
            "CHURCH LANE",
            "VICTORIA ROAD",
        ],
    },
    Country {
        code: "US",
        dial: "+1",
        phone: "415#######",
        zip: "9####",
        national_id: "###-##-####",
        places: &[
            ("CA", "SAN FRANCISCO"),
            ("NY", "NEW YORK"),
            ("TX", "AUSTIN"),
        ],
        streets: &[
            "MARKET STREET",
            "MAIN STREET",
            "BROADWAY",
            "CONGRESS AVENUE",
        ],
    },
    Country {
        code: "KR",
        dial: "+82",
        phone: "10########",
        zip: "0####",
        national_id: "######-#######",
        places: &[
            ("SEOUL", "GANGNAM-GU"),
            ("SEOUL", "MAPO-GU"),
            ("BUSAN", "HAEUNDAE-GU"),
        ],
        streets: &["TEHERAN-RO", "GANGNAM-DAERO", "HAEUN-DAERO", "WORLD CUP-RO"],
    },
    Country {
        code: "PH",
        dial: "+63",
        phone: "9#########",
        zip: "1###",
        national_id: "####-####-####",
        places: &[
            ("METRO MANILA", "MAKATI"),
            ("METRO MANILA", "TAGUIG"),
            ("CEBU", "CEBU CITY"),
        ],
        streets: &[
            "AYALA AVENUE",
            "BONIFACIO HIGH STREET",
            "OSMENA BOULEVARD",
            "PASEO DE ROXAS",
        ],
    },
];

const FIRST_NAMES: &[&str] = &[
    "Budi",
    "Siti",
    "Ayu",
    "Rizky",
    "Dewi",
    "Wei Ling",
    "Jun Hao",
    "Olivia",
    "Liam",
    "Noah",
    "Emma",
    "Charlotte",
    "Jack",
    "Min-jun",
    "Seo-yeon",
    "Ji-woo",
    "Maria",
    "Juan",
    "Andrea",
    "Aisha",
    "Priya",
    "Arjun",
    "Hannah",
    "Daniel",
    "Nur",
    "Mei",
    "Thomas",
    "Sophie",
    "Kim",
    "Jennie",
];

const LAST_NAMES: &[&str] = &[
    "Santoso", "Wijaya", "Hartono", "Kusuma", "Tan", "Lim", "Ng", "Smith", "Jones", "Taylor",
    "Brown", "Wilson", "Kim", "Park", "Lee", "Choi", "Reyes", "Cruz", "Garcia", "Santos", "Patel",
    "Sharma", "Nguyen", "Chen", "Wong", "Walker", "Murphy", "Jennie",
];

const MAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
];

const COMPANY_SUFFIXES: &[&str] = &[
    "Trading Pte Ltd",
    "Holdings",
    "Logistics Pty Ltd",
    "Digital Ltd",
    "Commerce Inc",
    "Global Corp",
];

fn country(rng: &mut Rng) -> &'static Country {
    let i = usize::try_from(rng.below(COUNTRIES.len() as u64)).unwrap_or(0);
    &COUNTRIES[i.min(COUNTRIES.len() - 1)]
}

fn slug(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn s(text: impl Into<String>) -> Value {
    Value::String(text.into())
}

/// An `individual` object with every field of [`PERSON_FIELDS`] filled.
pub(crate) fn person(rng: &mut Rng) -> Map<String, Value> {
    let home = country(rng);
    let first = rng.pick(FIRST_NAMES, "Alex");
    let last = rng.pick(LAST_NAMES, "Doe");
    let (state, city) = rng.pick(home.places, ("", ""));
    // Adults born 1950–2005.
    let dob = clock::date(rng.range(-7305, 13_148));
    let email = format!(
        "{}.{}{}@{}",
        slug(first),
        slug(last),
        rng.below(100),
        rng.pick(MAIL_DOMAINS, "example.com")
    );
    let phone = rng.pattern(home.phone);
    let (id_type, id_value) = match rng.below(10) {
        0..=5 => ("NATIONAL_ID", rng.pattern(home.national_id)),
        6..=8 => ("PASSPORT", rng.pattern("A########")),
        _ => ("DRIVING_LICENSE", rng.pattern("########")),
    };
    let line2 = if rng.chance(50) {
        Value::String(format!("UNIT {}", rng.range(1, 40)))
    } else {
        Value::Null
    };
    let mut p = Map::new();
    p.insert("first_name".into(), s(first));
    p.insert("last_name".into(), s(last));
    p.insert("dob".into(), s(dob));
    p.insert("email".into(), s(email));
    p.insert("nationality".into(), s(home.code));
    p.insert("address_country".into(), s(home.code));
    p.insert("address_state".into(), s(state));
    p.insert("address_city".into(), s(city));
    p.insert(
        "address_line1".into(),
        s(format!(
            "{} {}",
            rng.range(1, 250),
            rng.pick(home.streets, "MAIN STREET")
        )),
    );
    p.insert("address_line2".into(), line2);
    p.insert("address_zip_code".into(), s(rng.pattern(home.zip)));
    p.insert("country_of_residence".into(), s(home.code));
    p.insert("phone_number".into(), s(phone.clone()));
    p.insert("phone_country_code".into(), s(home.dial));
    p.insert(
        "phone_number_e164".into(),
        s(format!("{}{}", home.dial, phone)),
    );
    p.insert("identification_type".into(), s(id_type));
    p.insert("identification_custom_type".into(), Value::Null);
    p.insert("identification_value".into(), s(id_value));
    p
}

/// A `company` object: its own fields plus an `authorized_user` person.
pub(crate) fn company(rng: &mut Rng) -> Map<String, Value> {
    let founder = rng.pick(LAST_NAMES, "Acme");
    let name = format!("{founder} {}", rng.pick(COMPANY_SUFFIXES, "Ltd"));
    let domain = format!("{}{}.example.com", slug(founder), rng.below(1000));
    let mut c = Map::new();
    c.insert("name".into(), s(name));
    c.insert("registration_number".into(), s(rng.pattern("20########A")));
    c.insert("company_email".into(), s(format!("finance@{domain}")));
    c.insert("company_domain".into(), s(domain));
    c.insert("authorized_user".into(), Value::Object(person(rng)));
    c
}

/// A bank account holder's details, as beneficiaries carry them.
pub(crate) fn bank_account(rng: &mut Rng) -> Map<String, Value> {
    let mut b = Map::new();
    b.insert("account_number".into(), s(rng.pattern("##########")));
    b.insert("iban".into(), s(rng.pattern("GB##AAAA##############")));
    b.insert("bsb".into(), s(rng.pattern("###-###")));
    b.insert("bic_swift".into(), s(rng.pattern("AAAAAA2L")));
    b.insert("aba".into(), s(rng.pattern("#########")));
    b.insert("sort_code".into(), s(rng.pattern("##-##-##")));
    b.insert(
        "pay_id".into(),
        s(format!("{}@payid.example.com", rng.hex(8))),
    );
    b.insert("ifsc".into(), s(rng.pattern("AAAA0######")));
    b.insert("proxy_value".into(), s(rng.pattern("+6591######")));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_fills_every_field_consistently() {
        for key in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            let p = person(&mut Rng::keyed("person", key));
            for field in PERSON_FIELDS {
                assert!(p.contains_key(*field), "{field}");
            }
            let e164 = p["phone_number_e164"].as_str().unwrap_or_default();
            let cc = p["phone_country_code"].as_str().unwrap_or_default();
            let number = p["phone_number"].as_str().unwrap_or_default();
            assert_eq!(e164, format!("{cc}{number}"));
            assert!(p["email"].as_str().unwrap_or_default().contains('@'));
            let dob = p["dob"].as_str().unwrap_or_default();
            assert!(dob.as_bytes().get(4) == Some(&b'-') && ("1950".."2006").contains(&&dob[..4]));
        }
    }

    #[test]
    fn company_has_company_fields_and_an_authorized_user() {
        let c = company(&mut Rng::keyed("company", "x"));
        for field in COMPANY_FIELDS {
            assert!(c[*field].is_string(), "{field}");
        }
        assert!(c["authorized_user"]["identification_value"].is_string());
    }
}
