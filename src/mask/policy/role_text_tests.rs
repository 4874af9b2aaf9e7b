fn shipped() -> super::KeyWords {
    crate::mask::default_settings().policies.key_words().clone()
}

#[test]
fn a_role_word_before_a_name_marks_it_in_every_form() {
    let w = shipped();
    for t in [
        "<tr><td>Payer</td><td>Alice Victimson</td></tr>",
        "<dl><dt>Beneficiary</dt><dd>Alice Victimson</dd></dl>",
        "| Payer | Alice Victimson |",
        "{:payer \"Alice Victimson\", :amount 100}",
        "(payer . \"Alice Victimson\")",
        "payer -> Alice Victimson",
        "Recipient - Alice Victimson",
        "Payer\u{2236} Alice Victimson",
        "Payer\u{ff1a}Alice",
        "[payer]\nfull = \"Alice Victimson\"",
        "Pengirim - Budi Hartono",
        "payer|Alice Victimson",
        "ORDERING CUSTOMER ALICE VICTIMSON",
        "BY ORDER OF ALICE VICTIMSON",
        "Transfer to beneficiary Budi Hartono, ref 123",
        "recipients: 李小龍",
        "Beneficiary\n  Alice Victimson",
    ] {
        assert!(w.role_labels_name(t), "{t}");
        assert!(w.mentions_field(t), "{t}");
    }
}

#[test]
fn payment_text_with_a_role_word_is_no_name() {
    let w = shipped();
    for t in [
        "Customer created",
        "customer not found",
        "customer is not active",
        "Sandbox customer 1a2b3c",
        "Test New Customer 2",
        "customer_id is required",
        "company is not allowed on an individual customer",
        "individual is not allowed on a company customer",
        "type must be individual or company",
        "/api/v1/customer/customer/cus_N2fr9",
        "customer is not wallet-ready: missing individual.dob",
        "Refund to customer cus_N2fr9 approved",
        "payer=cus_N2fr9",
        "Payer ID 12345",
        "beneficiary",
        "",
    ] {
        assert!(!w.role_labels_name(t), "{t}");
    }
}

/// The class: whatever punctuation stands between a role word and a name (ASCII or not,
/// a markup tag, a line break under a heading), the name is found.
#[test]
fn any_separator_between_a_role_word_and_a_name() {
    let w = shipped();
    let seps = [
        " ",
        ": ",
        " = ",
        " -> ",
        " | ",
        " - ",
        "\u{2236} ",
        "\u{ff1a}",
        " => ",
        "</td><td>",
        "\": \"",
        " :: ",
        "\u{2014}",
        "\t",
        "]\n",
        ") ",
        " . \"",
    ];
    for role in [
        "payer",
        "Beneficiary",
        "PENERIMA",
        "ordering customer",
        "Remitter",
    ] {
        for sep in seps {
            let t = format!("{role}{sep}Alice Victimson");
            assert!(w.role_labels_name(&t), "{t:?}");
        }
    }
}
