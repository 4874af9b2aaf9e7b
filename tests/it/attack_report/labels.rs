//! Field names and labels in values: beside the container, in forms, structured text, validation and database errors, padded.

use super::*;

/// a field name in a value makes only the container the string stands in personal.
/// Columnar answers (`columns` + `rows`, `headers` + `rows`: report and export endpoints),
/// a field descriptor one level down (`{"field": {"ref": "first_name"}, "text": …}`, the
/// shape of form webhooks such as Typeform's) and a key/value pair split over two objects
/// carry the name in a sibling or a child, and the value passes.
#[tokio::test]
async fn field_names_beside_the_container_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {
        "columns": ["id", "first_name", "last_name"],
        "rows": [["c1", "Alicia", "Columnson"]],
        "table": {"headers": ["Full Name", "Amount"], "rows": [["Brenda Headerson", 100]]},
        "answers": [{"field": {"id": "abc", "type": "short_text", "ref": "first_name"},
                     "type": "text", "text": "Carla Typeformson"}],
        "pairs": [{"k": "last_name"}, {"v": "Dora Splitson"}],
    }})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-next-columns",
        "200 OK",
        &body,
        &["Columnson", "Headerson", "Typeformson", "Splitson"],
        "field names beside the container",
    )
    .await;
    app.stop().await;
}

/// a label is read as a field name only if it is letters, digits, spaces and
/// `_ - . / : [ ]`, at most four words, and a capitalised word only if it *is* a vocabulary
/// word. Ordinary form labels carry an apostrophe, `#`, `*` (required), parentheses, `&` or
/// `,`, or five words, or are capitalised plurals (`Contacts`, `Emails`), and the value
/// beside them passes.
#[tokio::test]
async fn form_labels_with_punctuation_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let fields = [
        ("Account holder's name", "Anna Apostrophson"),
        ("Recipient's name", "Rina Possessive"),
        ("Phone #", "Hasan Hashmark"),
        ("Email address *", "Rita Requiredson"),
        ("Date of birth (DD/MM/YYYY)", "Bella Bracketson"),
        ("Nama (sesuai KTP)", "Siti Kurungan"),
        ("Phone (mobile)", "Mona Mobileson"),
        ("Name & surname", "Ampy Ersandson"),
        ("Name, surname", "Cora Commason"),
        ("Nama Lengkap Penerima Dana Anda", "Lima Katason"),
        ("Contacts", "Pluralia Contactson"),
        ("Emails", "Pluralia Emailson"),
        ("Addresses", "Pluralia Addresson"),
    ];
    let custom: Vec<_> = fields
        .iter()
        .map(|(label, value)| json!({"label": label, "value": value}))
        .collect();
    let body = json!({"status": true, "data": {"custom_fields": custom}}).to_string();
    let seeds: Vec<&str> = fields
        .iter()
        .map(|(_, v)| v.split(' ').nth(1).unwrap())
        .collect();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/checkout/attack-next-labels",
        "200 OK",
        &body,
        &seeds,
        "form labels with punctuation",
    )
    .await;
    app.stop().await;
}

/// labels inside text are read in query strings, forms, JSON/Python keys and
/// `label:` clauses, but not in the other structured texts an upstream embeds: a CSV export
/// with its header row, an XML document (a bank's raw SOAP answer), a markdown table row or
/// bold label, `;`-separated pairs, and role-word labels (`Payer: …`, `Recipient: …`, the
/// remittance line of a transfer).
#[tokio::test]
async fn labels_in_structured_text_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let notes = [
        "first_name,last_name\nAlice,Csvson",
        "<customer><name>Alice Xmlson</name></customer>",
        "<first_name>Alice</first_name><last_name>Xmltagson</last_name>",
        "Name | Alice Pipeson",
        "**Name** Alice Boldson",
        "Name;Alice Semicolonson",
        "Payer: Alice Payerlabelson",
        "Recipient: Alice Recipientlabelson",
    ];
    let items: Vec<_> = notes.iter().map(|n| json!({"note": n})).collect();
    let body = json!({"status": true, "data": {"items": items}}).to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-next-text-labels",
        "200 OK",
        &body,
        &[
            "Csvson",
            "Xmlson",
            "Xmltagson",
            "Pipeson",
            "Boldson",
            "Semicolonson",
            "Payerlabelson",
            "Recipientlabelson",
        ],
        "labels in structured text",
    )
    .await;
    app.stop().await;
}

/// Field names in values (above) on the shapes frameworks write: a validation error echoes the
/// rejected input beside a field path that stands in another container or is spelled with
/// `$` or `#`: FastAPI/pydantic's `{"loc": ["body", "first_name"], "input": …}`, JSON:API's
/// `{"source": {"pointer": "/data/attributes/first_name"}, "meta": {"value": …}}`, a JSON
/// Patch `path` written as JSONPath (`$.customer.first_name`) or a URI fragment
/// (`#/customer/first_name`), an audit entry `{"attribute": {"name": …}, "new_value": …}`.
/// Answered as a 422, the way such errors come.
#[tokio::test]
async fn validation_errors_never_echo_personal_input() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({
        "detail": [{"type": "string_too_long", "loc": ["body", "first_name"], "msg": "too long",
                    "input": "Alice Pydanticson"}],
        "errors": [{"source": {"pointer": "/data/attributes/first_name"}, "detail": "invalid",
                    "meta": {"value": "Alice Jsonapison"}}],
        "patch": [
            {"op": "replace", "path": "$.customer.first_name", "value": "Alice Jsonpathson"},
            {"op": "replace", "path": "#/customer/last_name", "value": "Alice Fragmentson"},
        ],
        "audit": [{"attribute": {"name": "first_name"}, "new_value": "Alice Auditson"}],
    })
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-next-validation",
        "422 Unprocessable Entity",
        &body,
        &[
            "Pydanticson",
            "Jsonapison",
            "Jsonpathson",
            "Fragmentson",
            "Auditson",
        ],
        "validation errors",
    )
    .await;
    app.stop().await;
}

/// labels inside text are found after `=`, `:` and quotes at a clause start, but not
/// in the error texts servers echo most: PostgreSQL's unique-violation detail (`Key
/// (last_name)=(Victimson) already exists.`, the composite form `(first_name,
/// last_name)=(…)`), and a Python dataclass/namedtuple repr or a Lombok `toString` whose
/// first field follows `(` (`Customer(first_name='Alice …', id=3)`). Answered as a 409.
#[tokio::test]
async fn database_and_repr_error_texts_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": false, "errors": [
        {"message": "duplicate key value violates unique constraint \"c_name\"",
         "detail": "Key (last_name)=(Postgreson) already exists."},
        {"detail": "Key (first_name, last_name)=(Alice, Compositeson) already exists."},
        {"message": "invalid Customer(first_name='Alice Pythonreprson', id=3)"},
        {"message": "error: invalid Customer(lastName=Lombokson)"},
    ]})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-next-db-errors",
        "409 Conflict",
        &body,
        &["Postgreson", "Compositeson", "Pythonreprson", "Lombokson"],
        "database and repr error texts",
    )
    .await;
    app.stop().await;
}

/// a field name in a value is looked for only in strings of at most 1024 bytes, and a
/// name of at most 64 bytes of letters, digits, spaces and a few marks, all measured before
/// trimming and before invisible characters are dropped. `"first_name"` padded with 1100
/// spaces (`s.trim()` / `s.strip()` read `first_name`), followed by twenty zero-width spaces
/// (rendered as `first_name`), or by a NUL (the key fold drops NUL from keys, a C reader
/// stops at it) is no field name, and the value beside it passes.
#[tokio::test]
async fn padded_field_names_in_values_never_pass() {
    let h = Hostile::start().await;
    let bodies = serve(&h);
    let app = gateway(&h).await;
    let body = json!({"status": true, "data": {"fields": [
        {"field": format!("first_name{}", " ".repeat(1100)), "value": "Alice Spacepadson"},
        {"field": format!("last_name{}", "\u{200b}".repeat(20)), "value": "Alice Zwspson"},
        {"field": "first_name\u{0}", "value": "Alice Nulson"},
    ]}})
    .to_string();
    read_everywhere(
        &app,
        &bodies,
        "/api/v1/payin/attack-next-padded-labels",
        "200 OK",
        &body,
        &["Spacepadson", "Zwspson", "Nulson"],
        "padded field names in values",
    )
    .await;
    app.stop().await;
}
