use super::*;
use proptest::prelude::*;

fn schema(value: serde_json::Value) -> TableSchema {
    serde_json::from_value(value).unwrap()
}

fn units() -> TableSchema {
    schema(serde_json::json!({
        "fields": [
            {"name": "ma", "type": "string", "title": "Mã", "constraints": {"required": true, "pattern": "[0-9]{3,5}"}},
            {"name": "ten", "type": "string", "title": "Tên", "constraints": {"required": true, "maxLength": 50}},
            {"name": "cap", "type": "string", "constraints": {"enum": ["tinh", "huyen", "xa"]}},
            {"name": "dan_so", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "dien_tich", "type": "number"},
            {"name": "hieu_luc", "type": "date"},
            {"name": "email", "type": "string", "format": "email", "personal": true},
            {"name": "ma_tinh", "type": "string"}
        ],
        "primaryKey": "ma",
        "foreignKeys": [{"fields": "ma_tinh", "reference": {"resource": "don-vi-hanh-chinh", "fields": "ma"}}]
    }))
}

fn header(schema: &TableSchema) -> Vec<String> {
    schema.fields.iter().map(|f| f.name.clone()).collect()
}

fn provinces() -> Vec<HashSet<Vec<String>>> {
    vec![HashSet::from([
        vec!["35".to_owned()],
        vec!["37".to_owned()],
    ])]
}

fn kinds(result: Result<Vec<CellValue>, Vec<ReportError>>) -> Vec<(ErrorType, Option<String>)> {
    result
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.kind, e.field_name))
        .collect()
}

#[test]
fn schemas_are_checked_when_saved() {
    let bad = [
        serde_json::json!({"fields": []}),
        serde_json::json!({"fields": [{"name": "Ma"}]}),
        serde_json::json!({"fields": [{"name": "a"}, {"name": "a"}]}),
        serde_json::json!({"fields": [{"name": "a"}], "primaryKey": "b"}),
        serde_json::json!({"fields": [{"name": "a", "type": "integer", "constraints": {"pattern": "x"}}]}),
        serde_json::json!({"fields": [{"name": "a", "constraints": {"pattern": "(a|b)"}}]}),
        serde_json::json!({"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": "mot"}}]}),
        serde_json::json!({"fields": [{"name": "a", "type": "money"}]}),
        serde_json::json!({"fields": [{"name": "a"}], "foreignKeys": [{"fields": ["a"], "reference": {"resource": "x", "fields": []}}]}),
    ];
    for value in bad {
        assert!(
            serde_json::from_value::<TableSchema>(value.clone()).is_err(),
            "{value}"
        );
    }
    let ok = units();
    assert_eq!(ok.primary_key, ["ma"]);
    assert_eq!(ok.missing_values, [""]);
    assert!(ok.fields[6].personal);
    // It serialises back to a Table Schema with camelCase keys.
    let back = serde_json::to_value(&ok).unwrap();
    assert_eq!(back["primaryKey"][0], "ma");
    assert_eq!(back["fields"][0]["constraints"]["required"], true);
}

#[test]
fn a_valid_row_gives_typed_values() {
    let schema = units();
    let (mut validator, header_errors) = RowValidator::new(&schema, &header(&schema), provinces());
    assert!(header_errors.is_empty());
    let values = validator
        .check(
            2,
            &[
                "347",
                "Thành phố Phủ Lý",
                "huyen",
                "158000",
                "87.87",
                "2008-09-09",
                "",
                "35",
            ],
        )
        .unwrap();
    assert_eq!(values[3], CellValue::Integer(158_000));
    assert_eq!(values[4], CellValue::Number(87.87));
    assert_eq!(values[6], CellValue::Null);
}

#[test]
fn each_kind_of_row_error_is_reported_like_frictionless() {
    let schema = units();
    let (mut v, _) = RowValidator::new(&schema, &header(&schema), provinces());
    v.check(
        2,
        &["347", "Phủ Lý", "huyen", "1", "1", "2008-09-09", "", "35"],
    )
    .unwrap();
    // As Frictionless: a blank row also leaves the primary key empty.
    assert_eq!(
        kinds(v.check(3, &["", "", "", "", "", "", "", ""])),
        [(ErrorType::BlankRow, None), (ErrorType::PrimaryKey, None)]
    );
    assert_eq!(
        kinds(v.check(4, &["349", "Duy Tiên", "huyen"]))
            .iter()
            .filter(|(k, _)| *k == ErrorType::MissingCell)
            .count(),
        5
    );
    assert_eq!(
        kinds(v.check(
            5,
            &[
                "350",
                "Kim Bảng",
                "huyen",
                "1",
                "1",
                "2008-09-09",
                "",
                "35",
                "thừa"
            ]
        )),
        [(ErrorType::ExtraCell, None)]
    );
    assert_eq!(
        kinds(v.check(
            6,
            &[
                "351",
                "Thanh Liêm",
                "huyen",
                "mười",
                "1",
                "2008-09-09",
                "",
                "35"
            ]
        )),
        [(ErrorType::TypeError, Some("dan_so".into()))]
    );
    assert_eq!(
        kinds(v.check(
            7,
            &[
                "352",
                "Bình Lục",
                "thon",
                "-1",
                "1",
                "09/09/2008",
                "khong-phai-email",
                "35"
            ]
        )),
        [
            (ErrorType::ConstraintError, Some("cap".into())),
            (ErrorType::ConstraintError, Some("dan_so".into())),
            (ErrorType::TypeError, Some("hieu_luc".into())),
            (ErrorType::TypeError, Some("email".into())),
        ]
    );
    assert_eq!(
        kinds(v.check(8, &["3a", "", "", "", "", "", "", ""])),
        [
            (ErrorType::ConstraintError, Some("ma".into())),
            (ErrorType::ConstraintError, Some("ten".into()))
        ]
    );
    assert_eq!(
        kinds(v.check(9, &["347", "Trùng mã", "", "", "", "", "", ""])),
        [(ErrorType::PrimaryKey, None)]
    );
    assert_eq!(
        kinds(v.check(10, &["353", "Lý Nhân", "", "", "", "", "", "99"])),
        [(ErrorType::ForeignKey, None)]
    );
    let long = "x".repeat(51);
    let errors = v
        .check(11, &["354", &long, "", "", "", "", "", ""])
        .unwrap_err();
    assert_eq!(errors[0].kind, ErrorType::ConstraintError);
    assert_eq!(errors[0].row_number, Some(11));
    assert_eq!(errors[0].field_number, Some(2));
    assert!(errors[0].message.contains("maxLength"));
    let json = serde_json::to_value(&errors[0]).unwrap();
    assert_eq!(json["type"], "constraint-error");
    assert_eq!(json["rowNumber"], 11);
    assert_eq!(json["fieldName"], "ten");
}

#[test]
fn unique_constraints_are_tracked_across_rows() {
    let schema = schema(
        serde_json::json!({"fields": [{"name": "so", "type": "string", "constraints": {"unique": true}}]}),
    );
    let (mut v, _) = RowValidator::new(&schema, &["so".into()], Vec::new());
    v.check(2, &["1"]).unwrap();
    assert_eq!(
        kinds(v.check(3, &["1"])),
        [(ErrorType::UniqueError, Some("so".into()))]
    );
}

#[test]
fn header_errors() {
    let schema = units();
    let mut labels = header(&schema);
    labels[1] = "name".into();
    labels.push("extra".into());
    let (_, errors) = RowValidator::new(&schema, &labels, provinces());
    let kinds: Vec<ErrorType> = errors.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [ErrorType::IncorrectLabel, ErrorType::ExtraLabel]);
    let (_, errors) = RowValidator::new(&schema, &labels[..3], provinces());
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.kind == ErrorType::MissingLabel)
            .count(),
        5
    );
}

#[test]
fn every_type_parses_its_canonical_forms() {
    let field = |kind: FieldType| Field {
        name: "x".into(),
        kind,
        format: None,
        title: None,
        description: None,
        personal: false,
        constraints: Constraints::default(),
    };
    let ok = [
        (FieldType::Integer, "-42"),
        (FieldType::Integer, "+7"),
        (FieldType::Number, "1e3"),
        (FieldType::Number, "NaN"),
        (FieldType::Boolean, "TRUE"),
        (FieldType::Boolean, "0"),
        (FieldType::Date, "2025-07-01"),
        (FieldType::Datetime, "2025-07-01T08:00:00+07:00"),
        (FieldType::Datetime, "2025-07-01T08:00:00Z"),
        (FieldType::Time, "08:30:00"),
        (FieldType::Year, "2025"),
        (FieldType::Geopoint, "105.91, 20.54"),
    ];
    for (kind, raw) in ok {
        assert!(parse_cell(&field(kind), raw).is_ok(), "{kind:?} {raw}");
    }
    let bad = [
        (FieldType::Integer, "1.0"),
        (FieldType::Integer, "1 000"),
        (FieldType::Number, "1,5"),
        (FieldType::Boolean, "yes"),
        (FieldType::Date, "2025-02-30"),
        (FieldType::Time, "25:00:00"),
        (FieldType::Year, "25"),
        (FieldType::Geopoint, "200, 20"),
    ];
    for (kind, raw) in bad {
        assert!(parse_cell(&field(kind), raw).is_err(), "{kind:?} {raw}");
    }
    let mut uuid = field(FieldType::String);
    uuid.format = Some("uuid".into());
    assert!(parse_cell(&uuid, "01a222d3-ea68-7109-a6dc-82c940ae818c").is_ok());
    assert!(parse_cell(&uuid, "01a222d3").is_err());
}

/// The reference implementation's readings (frictionless 5 on Python): see
/// `tests/clients/differential.py` in lgsp-server for the side-by-side comparison.
#[test]
fn cells_read_as_frictionless_reads_them() {
    let field = |kind: FieldType, format: Option<&str>| Field {
        name: "x".into(),
        kind,
        format: format.map(Into::into),
        title: None,
        description: None,
        personal: false,
        constraints: Constraints::default(),
    };
    let cases: [(FieldType, Option<&str>, &str, Option<CellValue>); 22] = [
        (FieldType::Integer, None, " 1 ", Some(CellValue::Integer(1))),
        (
            FieldType::Integer,
            None,
            "1_000",
            Some(CellValue::Integer(1000)),
        ),
        (FieldType::Integer, None, "01", Some(CellValue::Integer(1))),
        (FieldType::Integer, None, "1__0", None),
        (FieldType::Integer, None, "9223372036854775808", None),
        (
            FieldType::Number,
            None,
            "Infinity",
            Some(CellValue::Number(f64::INFINITY)),
        ),
        (
            FieldType::Number,
            None,
            "-inf",
            Some(CellValue::Number(f64::NEG_INFINITY)),
        ),
        (FieldType::Number, None, " .5", Some(CellValue::Number(0.5))),
        (FieldType::Number, None, ".", None),
        (FieldType::Date, None, " 2024-01-31", None),
        (
            FieldType::Date,
            Some("%d/%m/%Y"),
            "31/01/2024",
            NaiveDate::from_ymd_opt(2024, 1, 31).map(CellValue::Date),
        ),
        (FieldType::Date, Some("%d/%m/%Y"), "2024-01-31", None),
        (
            FieldType::Datetime,
            None,
            "2024-01-31 10:00:00+0700",
            "2024-01-31T03:00:00Z".parse().ok().map(CellValue::Datetime),
        ),
        (FieldType::Datetime, None, "2024-01-31T10:00Z", None),
        (
            FieldType::Datetime,
            None,
            "2024-01-31T24:00:00",
            "2024-02-01T00:00:00Z".parse().ok().map(CellValue::Datetime),
        ),
        (
            FieldType::Time,
            None,
            "10:00:00.5+07:00",
            NaiveTime::from_hms_milli_opt(10, 0, 0, 500).map(CellValue::Time),
        ),
        (FieldType::Time, None, "23:59:60", None),
        (FieldType::Time, None, "1:00:00", None),
        (
            FieldType::Geopoint,
            Some("array"),
            "[105.9, 20.5]",
            Some(CellValue::Geopoint([105.9, 20.5])),
        ),
        (
            FieldType::Geopoint,
            Some("object"),
            r#"{"lon": 105.9, "lat": 20.5}"#,
            Some(CellValue::Geopoint([105.9, 20.5])),
        ),
        (
            FieldType::String,
            Some("uuid"),
            "{550E8400E29B41D4A716446655440000}",
            Some(CellValue::String(
                "{550E8400E29B41D4A716446655440000}".into(),
            )),
        ),
        (
            FieldType::String,
            Some("email"),
            "nguyễn@hanam.gov.vn",
            None,
        ),
    ];
    for (kind, format, raw, expected) in cases {
        assert_eq!(
            parse_cell(&field(kind, format), raw).ok(),
            expected,
            "{kind:?} {format:?} {raw:?}"
        );
    }
}

#[test]
fn patterns_cover_the_usual_table_schema_forms() {
    let cases = [
        ("[0-9]{3,5}", "347", true),
        ("[0-9]{3,5}", "34", false),
        ("[0-9]{3,5}", "347a", false),
        ("^\\d{2}\\.\\d{2}$", "12.34", true),
        ("[A-Z]+-\\d*", "HN-", true),
        ("[^x]+", "abc", true),
        ("[^x]+", "axc", false),
        ("a.c", "abc", true),
        ("colou?r", "color", true),
        ("\\w+@\\w+", "a_b@c", true),
    ];
    for (pattern, text, expected) in cases {
        let compiled = Pattern::compile(pattern).unwrap_or_else(|| panic!("{pattern}"));
        assert_eq!(compiled.is_match(text), expected, "{pattern} ~ {text}");
    }
    for unsupported in ["(a)", "a|b", "\\p{L}", "a{2"] {
        assert!(Pattern::compile(unsupported).is_none(), "{unsupported}");
    }
}

proptest! {
    #[test]
    fn integers_round_trip(n in any::<i64>()) {
        let field = Field { name: "n".into(), kind: FieldType::Integer, format: None, title: None, description: None, personal: false, constraints: Constraints::default() };
        prop_assert_eq!(parse_cell(&field, &n.to_string()), Ok(CellValue::Integer(n)));
    }

    #[test]
    fn digit_patterns_agree_with_a_plain_check(text in "[0-9a]{0,8}") {
        let pattern = Pattern::compile("[0-9]{3,5}").unwrap();
        let expected = (3..=5).contains(&text.len()) && text.chars().all(|c| c.is_ascii_digit());
        prop_assert_eq!(pattern.is_match(&text), expected);
    }
}
