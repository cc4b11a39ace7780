//! Frictionless Table Schema (<https://specs.frictionlessdata.io/table-schema/>) for hosted
//! datasets, with the platform's two additions per field: `personal` (personal data, Decree
//! 13/2023) and a Vietnamese `title` (Frictionless's own label property).
//!
//! [`RowValidator`] checks rows one at a time, as an import streams them, and reports errors in
//! Frictionless's shape (`type`, `rowNumber`, `fieldName`, `message`) so that a report reads the
//! same as `frictionless validate` on the same file.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::text::ParseError;

/// The types of Table Schema the platform stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Datetime,
    Time,
    Year,
    Geopoint,
}

/// Constraints of a field (Table Schema `constraints`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Constraints {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<serde_json::Value>>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type", default = "default_type")]
    pub kind: FieldType,
    /// For strings: `default`, `email`, `uri` or `uuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The Vietnamese label shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Personal data: masked unless granted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub personal: bool,
    #[serde(default, skip_serializing_if = "is_default")]
    pub constraints: Constraints,
}

fn default_type() -> FieldType {
    FieldType::String
}

fn is_default(c: &Constraints) -> bool {
    *c == Constraints::default()
}

/// A reference from fields of this table to fields of another dataset (a code list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    #[serde(with = "one_or_many")]
    pub fields: Vec<String>,
    pub reference: Reference,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// The referenced dataset's id.
    pub resource: String,
    #[serde(with = "one_or_many")]
    pub fields: Vec<String>,
}

/// Table Schema lets `primaryKey` and key `fields` be a string or a list.
mod cells;

mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }

    pub fn serialize<S: Serializer>(value: &[String], s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        })
    }
}

/// A dataset's schema, checked to be coherent: unique field names, keys naming real fields,
/// constraints that fit their field's type, patterns that compile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", try_from = "SchemaParts")]
pub struct TableSchema {
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    pub missing_values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SchemaParts {
    fields: Vec<Field>,
    #[serde(default, with = "one_or_many")]
    primary_key: Vec<String>,
    #[serde(default)]
    foreign_keys: Vec<ForeignKey>,
    #[serde(default = "default_missing")]
    missing_values: Vec<String>,
}

fn default_missing() -> Vec<String> {
    vec![String::new()]
}

impl TryFrom<SchemaParts> for TableSchema {
    type Error = ParseError;
    fn try_from(p: SchemaParts) -> Result<Self, ParseError> {
        if p.fields.is_empty() {
            return Err(ParseError::new("a schema needs at least one field"));
        }
        let mut names = HashSet::new();
        for field in &p.fields {
            let ok = !field.name.is_empty()
                && field.name.len() <= 63
                && field
                    .name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && field
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(ParseError::new(format!(
                    "field name `{}` must be 1 to 63 characters of a-z, 0-9, `_`, starting with a letter or `_` (it becomes a column name)",
                    field.name
                )));
            }
            if !names.insert(field.name.as_str()) {
                return Err(ParseError::new(format!(
                    "field `{}` appears twice",
                    field.name
                )));
            }
            check_field(field)?;
        }
        let known = |name: &String| names.contains(name.as_str());
        if let Some(missing) = p.primary_key.iter().find(|n| !known(n)) {
            return Err(ParseError::new(format!(
                "primary key field `{missing}` is not a field"
            )));
        }
        for fk in &p.foreign_keys {
            if let Some(missing) = fk.fields.iter().find(|n| !known(n)) {
                return Err(ParseError::new(format!(
                    "foreign key field `{missing}` is not a field"
                )));
            }
            if fk.fields.len() != fk.reference.fields.len() || fk.fields.is_empty() {
                return Err(ParseError::new(
                    "a foreign key names as many referenced fields as it has fields",
                ));
            }
        }
        Ok(Self {
            fields: p.fields,
            primary_key: p.primary_key,
            foreign_keys: p.foreign_keys,
            missing_values: p.missing_values,
        })
    }
}

/// Constraints must make sense for the field's type.
fn check_field(field: &Field) -> Result<(), ParseError> {
    let c = &field.constraints;
    let bad = |why: &str| Err(ParseError::new(format!("field `{}`: {why}", field.name)));
    if let Some(format) = &field.format {
        let ok = match field.kind {
            FieldType::String => ["default", "email", "uri", "uuid"].contains(&format.as_str()),
            FieldType::Geopoint => ["default", "array", "object"].contains(&format.as_str()),
            // `strptime` patterns, as in Table Schema v1.
            FieldType::Date | FieldType::Datetime | FieldType::Time => {
                format == "default" || format == "any" || format.contains('%')
            }
            _ => format == "default" || format == "any",
        };
        if !ok {
            return bad("unsupported format");
        }
    }
    if (c.min_length.is_some() || c.max_length.is_some() || c.pattern.is_some())
        && field.kind != FieldType::String
    {
        return bad("minLength, maxLength and pattern apply to strings");
    }
    if let Some(pattern) = &c.pattern {
        if Pattern::compile(pattern).is_none() {
            return bad("the pattern is not supported");
        }
    }
    for bound in [&c.minimum, &c.maximum].into_iter().flatten() {
        let raw = match bound {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if parse_cell(field, &raw).is_err() {
            return bad("minimum and maximum must be values of the field's type");
        }
    }
    Ok(())
}

/// A typed cell value.
#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize)]
#[serde(untagged)]
pub enum CellValue {
    Null,
    String(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
    Date(NaiveDate),
    Datetime(DateTime<Utc>),
    Time(NaiveTime),
    Year(i32),
    /// `[longitude, latitude]`.
    Geopoint([f64; 2]),
}

/// Reads a (non-missing) cell as its field's type; the error says why not.
pub fn parse_cell(field: &Field, raw: &str) -> Result<CellValue, String> {
    let fail = |what: &str| Err(format!("“{raw}” is not a valid {what}"));
    let format = field.format.as_deref();
    match field.kind {
        FieldType::String => {
            let ok = match format {
                Some("email") => cells::email(raw),
                Some("uri") => raw.contains(':') && !raw.contains(char::is_whitespace),
                Some("uuid") => cells::uuid(raw),
                _ => true,
            };
            if ok {
                Ok(CellValue::String(raw.to_owned()))
            } else {
                fail(&format!("{} string", format.unwrap_or("default")))
            }
        }
        FieldType::Integer => cells::integer(raw).map(CellValue::Integer).or_else(&fail),
        FieldType::Number => cells::number(raw).map(CellValue::Number).or_else(&fail),
        FieldType::Boolean => match raw {
            "true" | "True" | "TRUE" | "1" => Ok(CellValue::Boolean(true)),
            "false" | "False" | "FALSE" | "0" => Ok(CellValue::Boolean(false)),
            _ => fail("boolean"),
        },
        FieldType::Date => cells::date(raw, format)
            .map(CellValue::Date)
            .map_or_else(|| fail("date (YYYY-MM-DD)"), Ok),
        FieldType::Datetime => cells::datetime(raw, format)
            .map(CellValue::Datetime)
            .map_or_else(|| fail("datetime (ISO 8601)"), Ok),
        FieldType::Time => cells::time(raw, format)
            .map(CellValue::Time)
            .map_or_else(|| fail("time (hh:mm:ss)"), Ok),
        FieldType::Year => match raw.parse::<i32>() {
            Ok(year) if raw.len() == 4 => Ok(CellValue::Year(year)),
            _ => fail("year"),
        },
        FieldType::Geopoint => cells::geopoint(raw, format)
            .map(CellValue::Geopoint)
            .map_or_else(|| fail("geopoint (lon, lat)"), Ok),
    }
}

/// Typed values already seen, for uniqueness and primary keys: equal values (`1` and `01`, `0`
/// and `-0`, every NaN) are the same key. A single integer — the usual key — is kept as itself,
/// anything else in a compact byte encoding; a million keys stay a few tens of MiB and hash fast.
#[derive(Debug, Default)]
struct SeenKeys {
    integers: HashSet<i64>,
    encoded: HashSet<Box<[u8]>>,
}

impl SeenKeys {
    /// Remembers `key`; false when it was seen before.
    fn insert(&mut self, key: &[&CellValue]) -> bool {
        if let [CellValue::Integer(n)] = key {
            return self.integers.insert(*n);
        }
        let mut bytes = Vec::with_capacity(24);
        for value in key {
            encode_key(value, &mut bytes);
        }
        self.encoded.insert(bytes.into_boxed_slice())
    }
}

/// Appends `value` to a key's bytes: a tag, then a fixed-width value or text ended by 0xFF
/// (which UTF-8 never contains), so that the parts of a key cannot run into each other.
fn encode_key(value: &CellValue, out: &mut Vec<u8>) {
    match value {
        CellValue::String(text) => {
            out.push(b's');
            out.extend_from_slice(text.as_bytes());
            out.push(0xFF);
        }
        CellValue::Integer(n) => {
            out.push(b'i');
            out.extend_from_slice(&n.to_be_bytes());
        }
        CellValue::Number(n) => {
            let canonical = if *n == 0.0 {
                0.0
            } else if n.is_nan() {
                f64::NAN
            } else {
                *n
            };
            out.push(b'n');
            out.extend_from_slice(&canonical.to_bits().to_be_bytes());
        }
        other => {
            out.push(b'o');
            out.extend_from_slice(format!("{other:?}").as_bytes());
            out.push(0xFF);
        }
    }
}

/// The small regular-expression subset Table Schema patterns use in practice here: literal
/// characters, `.`, classes `[...]` (ranges, negation), `\d`, `\w`, `\s`, and the quantifiers
/// `?`, `*`, `+`, `{n}`, `{n,m}`, anchored on both ends as the specification says. Written here
/// to keep the core free of a regex engine; anything outside the subset is refused when the
/// schema is saved, so no pattern is silently misread.
#[derive(Debug, Clone)]
pub struct Pattern(Vec<(Atom, usize, usize)>);

#[derive(Debug, Clone)]
enum Atom {
    Any,
    Literal(char),
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Self::Any => true,
            Self::Literal(l) => *l == c,
            Self::Class { negated, items } => {
                items.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

impl Pattern {
    pub fn compile(source: &str) -> Option<Self> {
        let source = source.strip_prefix('^').unwrap_or(source);
        let source = source.strip_suffix('$').unwrap_or(source);
        let chars: Vec<char> = source.chars().collect();
        let mut atoms = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let atom = match chars[i] {
                '.' => Atom::Any,
                '\\' => {
                    i += 1;
                    escape(*chars.get(i)?)?
                }
                '[' => {
                    let mut items = Vec::new();
                    i += 1;
                    let negated = chars.get(i) == Some(&'^');
                    if negated {
                        i += 1;
                    }
                    while *chars.get(i)? != ']' {
                        let lo = match chars[i] {
                            '\\' => {
                                i += 1;
                                match escape(*chars.get(i)?)? {
                                    Atom::Literal(c) => c,
                                    Atom::Class { items: more, .. } => {
                                        items.extend(more);
                                        i += 1;
                                        continue;
                                    }
                                    Atom::Any => return None,
                                }
                            }
                            c => c,
                        };
                        if chars.get(i + 1) == Some(&'-')
                            && chars.get(i + 2).is_some_and(|c| *c != ']')
                        {
                            items.push((lo, chars[i + 2]));
                            i += 3;
                        } else {
                            items.push((lo, lo));
                            i += 1;
                        }
                    }
                    Atom::Class { negated, items }
                }
                '(' | ')' | '|' | '^' | '$' | '*' | '+' | '?' | '{' | '}' => return None,
                c => Atom::Literal(c),
            };
            i += 1;
            let (min, max) = match chars.get(i) {
                Some('?') => (0, 1),
                Some('*') => (0, usize::MAX),
                Some('+') => (1, usize::MAX),
                Some('{') => {
                    let end = i + chars[i..].iter().position(|c| *c == '}')?;
                    let inside: String = chars[i + 1..end].iter().collect();
                    i = end;
                    match inside.split_once(',') {
                        Some((lo, "")) => (lo.parse().ok()?, usize::MAX),
                        Some((lo, hi)) => (lo.parse().ok()?, hi.parse().ok()?),
                        None => {
                            let n = inside.parse().ok()?;
                            (n, n)
                        }
                    }
                }
                _ => {
                    atoms.push((atom, 1, 1));
                    continue;
                }
            };
            i += 1;
            atoms.push((atom, min, max));
        }
        Some(Self(atoms))
    }

    /// Whether the whole text matches (backtracking over quantifiers).
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        matches_from(&self.0, &chars)
    }
}

fn escape(c: char) -> Option<Atom> {
    let class = |items: Vec<(char, char)>| Atom::Class {
        negated: false,
        items,
    };
    Some(match c {
        'd' => class(vec![('0', '9')]),
        'w' => class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]),
        's' => class(vec![(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')]),
        c if c.is_ascii_alphanumeric() => return None,
        c => Atom::Literal(c),
    })
}

fn matches_from(atoms: &[(Atom, usize, usize)], text: &[char]) -> bool {
    let Some(((atom, min, max), rest)) = atoms.split_first() else {
        return text.is_empty();
    };
    let run = text
        .iter()
        .take_while(|c| atom.matches(**c))
        .count()
        .min(*max);
    (*min..=run).rev().any(|n| matches_from(rest, &text[n..]))
}

/// The kinds of error of a Frictionless validation report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ErrorType {
    BlankLabel,
    DuplicateLabel,
    IncorrectLabel,
    MissingLabel,
    ExtraLabel,
    BlankRow,
    ExtraCell,
    MissingCell,
    TypeError,
    ConstraintError,
    UniqueError,
    PrimaryKey,
    ForeignKey,
}

/// One error, as Frictionless reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReportError {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// 1-based, the header being row 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_number: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_number: Option<usize>,
    pub message: String,
}

/// Checks rows against a schema one by one, remembering what uniqueness and keys need.
pub struct RowValidator<'a> {
    schema: &'a TableSchema,
    patterns: Vec<Option<Pattern>>,
    /// For each field, its index in the file's header.
    unique_seen: Vec<Option<SeenKeys>>,
    /// The primary key's fields, by position.
    primary_key: Vec<usize>,
    primary_seen: SeenKeys,
    /// Per foreign key: the referenced values that exist.
    references: Vec<HashSet<Vec<String>>>,
}

impl<'a> RowValidator<'a> {
    /// Checks the header against the schema's fields (names in order, as Frictionless does by
    /// default). `references` holds, per foreign key of the schema, the key values that exist
    /// in the referenced dataset.
    pub fn new(
        schema: &'a TableSchema,
        header: &[String],
        references: Vec<HashSet<Vec<String>>>,
    ) -> (Self, Vec<ReportError>) {
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        for (i, label) in header.iter().enumerate() {
            let position = Some(i + 1);
            let error = |kind, message: String| ReportError {
                kind,
                row_number: None,
                field_name: schema.fields.get(i).map(|f| f.name.clone()),
                field_number: position,
                message,
            };
            if label.trim().is_empty() {
                errors.push(error(
                    ErrorType::BlankLabel,
                    format!(
                        "Label in the header in field at position \"{}\" is blank",
                        i + 1
                    ),
                ));
            } else if !seen.insert(label.as_str()) {
                errors.push(error(
                    ErrorType::DuplicateLabel,
                    format!(
                        "Label \"{label}\" in the header at position \"{}\" is duplicated",
                        i + 1
                    ),
                ));
            } else if let Some(field) = schema.fields.get(i) {
                if field.name != *label {
                    errors.push(error(ErrorType::IncorrectLabel, format!("Label \"{label}\" in field {} at position \"{}\" does not match the field name in the schema", field.name, i + 1)));
                }
            } else {
                errors.push(error(
                    ErrorType::ExtraLabel,
                    format!(
                        "Label \"{label}\" in the header at position \"{}\" is extra",
                        i + 1
                    ),
                ));
            }
        }
        for (i, field) in schema.fields.iter().enumerate().skip(header.len()) {
            errors.push(ReportError {
                kind: ErrorType::MissingLabel,
                row_number: None,
                field_name: Some(field.name.clone()),
                field_number: Some(i + 1),
                message: format!(
                    "Label corresponding to field \"{}\" at position \"{}\" is missing",
                    field.name,
                    i + 1
                ),
            });
        }
        let validator = Self {
            schema,
            patterns: schema
                .fields
                .iter()
                .map(|f| f.constraints.pattern.as_deref().and_then(Pattern::compile))
                .collect(),
            unique_seen: schema
                .fields
                .iter()
                .map(|f| f.constraints.unique.then(SeenKeys::default))
                .collect(),
            primary_key: schema
                .primary_key
                .iter()
                .filter_map(|name| schema.fields.iter().position(|f| &f.name == name))
                .collect(),
            primary_seen: SeenKeys::default(),
            references,
        };
        (validator, errors)
    }

    /// Checks one row (`row_number` counts the header as 1). Returns the typed values when the
    /// row is valid, the row's errors otherwise.
    pub fn check(
        &mut self,
        row_number: usize,
        cells: &[&str],
    ) -> Result<Vec<CellValue>, Vec<ReportError>> {
        let row = Some(row_number);
        if cells.iter().all(|c| c.is_empty()) {
            let mut errors = vec![ReportError {
                kind: ErrorType::BlankRow,
                row_number: row,
                field_name: None,
                field_number: None,
                message: format!("Row at position \"{row_number}\" is completely blank"),
            }];
            if !self.schema.primary_key.is_empty() {
                errors.push(self.empty_key(row_number));
            }
            return Err(errors);
        }
        let mut errors = Vec::new();
        let mut values = Vec::with_capacity(self.schema.fields.len());
        for (i, field) in self.schema.fields.iter().enumerate() {
            let error = |kind, message: String| ReportError {
                kind,
                row_number: row,
                field_name: Some(field.name.clone()),
                field_number: Some(i + 1),
                message,
            };
            let Some(raw) = cells.get(i) else {
                errors.push(error(ErrorType::MissingCell, format!("Row at position \"{row_number}\" has a missing cell in field \"{}\" at position \"{}\"", field.name, i + 1)));
                values.push(CellValue::Null);
                continue;
            };
            if self.schema.missing_values.iter().any(|m| m == raw) {
                if field.constraints.required || self.schema.primary_key.contains(&field.name) {
                    errors.push(error(ErrorType::ConstraintError, format!("The cell \"\" in row at position \"{row_number}\" and field \"{}\" at position \"{}\" does not conform to a constraint: constraint \"required\" is \"True\"", field.name, i + 1)));
                }
                values.push(CellValue::Null);
                continue;
            }
            let value = match parse_cell(field, raw) {
                Ok(value) => value,
                Err(why) => {
                    errors.push(error(ErrorType::TypeError, format!("Type error in the cell \"{raw}\" in row \"{row_number}\" and field \"{}\" at position \"{}\": {why}", field.name, i + 1)));
                    values.push(CellValue::Null);
                    continue;
                }
            };
            if let Some(broken) = self.broken_constraint(i, field, raw, &value) {
                errors.push(error(ErrorType::ConstraintError, format!("The cell \"{raw}\" in row at position \"{row_number}\" and field \"{}\" at position \"{}\" does not conform to a constraint: {broken}", field.name, i + 1)));
            }
            if let Some(seen) = &mut self.unique_seen[i] {
                if !seen.insert(&[&value]) {
                    errors.push(error(ErrorType::UniqueError, format!("Row at position \"{row_number}\" has unique constraint violation in field \"{}\" at position \"{}\"", field.name, i + 1)));
                }
            }
            values.push(value);
        }
        for (i, extra) in cells.iter().enumerate().skip(self.schema.fields.len()) {
            errors.push(ReportError {
                kind: ErrorType::ExtraCell,
                row_number: row,
                field_name: None,
                field_number: Some(i + 1),
                message: format!("Row at position \"{row_number}\" has an extra value \"{extra}\" in field at position \"{}\"", i + 1),
            });
        }
        // As Frictionless: a key with an empty (missing or unreadable) part is an error of its
        // own; a complete key must not repeat.
        let key_parts: Vec<&CellValue> = self.primary_key.iter().map(|&i| &values[i]).collect();
        if key_parts.contains(&&CellValue::Null) {
            errors.push(self.empty_key(row_number));
        } else if !self.schema.primary_key.is_empty() {
            // Typed values, as Frictionless compares them: `01` and `1` are the same integer.
            if !self.primary_seen.insert(&key_parts) {
                errors.push(ReportError {
                    kind: ErrorType::PrimaryKey,
                    row_number: row,
                    field_name: None,
                    field_number: None,
                    message: format!("Row at position \"{row_number}\" violates the primary key: all the cells compose the primary key ({}) are already present in another row", self.schema.primary_key.join(", ")),
                });
            }
        }
        for (fk, existing) in self.schema.foreign_keys.iter().zip(&self.references) {
            let key = self.key(&fk.fields, cells);
            // A key with a missing part refers to nothing and is not checked (as Frictionless).
            if key
                .iter()
                .any(|part| self.schema.missing_values.contains(part))
            {
                continue;
            }
            if !existing.contains(&key) {
                errors.push(ReportError {
                    kind: ErrorType::ForeignKey,
                    row_number: row,
                    field_name: None,
                    field_number: None,
                    message: format!("Row at position \"{row_number}\" violates the foreign key: for \"{}\": values \"{}\" not found in the lookup table \"{}\" as \"{}\"", fk.fields.join(", "), key.join(", "), fk.reference.resource, fk.reference.fields.join(", ")),
                });
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }

    fn empty_key(&self, row_number: usize) -> ReportError {
        ReportError {
            kind: ErrorType::PrimaryKey,
            row_number: Some(row_number),
            field_name: None,
            field_number: None,
            message: format!(
                "Row at position \"{row_number}\" violates the primary key: cells composing the primary key ({}) are empty",
                self.schema.primary_key.join(", ")
            ),
        }
    }

    fn key(&self, names: &[String], cells: &[&str]) -> Vec<String> {
        names
            .iter()
            .map(|name| {
                let i = self
                    .schema
                    .fields
                    .iter()
                    .position(|f| &f.name == name)
                    .unwrap_or(usize::MAX);
                cells.get(i).map(|c| (*c).to_owned()).unwrap_or_default()
            })
            .collect()
    }

    fn broken_constraint(
        &self,
        i: usize,
        field: &Field,
        raw: &str,
        value: &CellValue,
    ) -> Option<String> {
        let c = &field.constraints;
        let length = raw.chars().count();
        if c.min_length.is_some_and(|min| length < min) {
            return Some(format!(
                "constraint \"minLength\" is \"{}\"",
                c.min_length.unwrap_or_default()
            ));
        }
        if c.max_length.is_some_and(|max| length > max) {
            return Some(format!(
                "constraint \"maxLength\" is \"{}\"",
                c.max_length.unwrap_or_default()
            ));
        }
        if let Some(pattern) = &self.patterns[i] {
            if !pattern.is_match(raw) {
                return Some(format!(
                    "constraint \"pattern\" is \"{}\"",
                    c.pattern.as_deref().unwrap_or_default()
                ));
            }
        }
        let bound = |b: &serde_json::Value| {
            let text = match b {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parse_cell(field, &text).ok()
        };
        if let Some(min) = c.minimum.as_ref().and_then(bound) {
            if value < &min {
                return Some(format!(
                    "constraint \"minimum\" is \"{}\"",
                    c.minimum
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ));
            }
        }
        if let Some(max) = c.maximum.as_ref().and_then(bound) {
            if value > &max {
                return Some(format!(
                    "constraint \"maximum\" is \"{}\"",
                    c.maximum
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ));
            }
        }
        if let Some(allowed) = &c.allowed {
            let ok = allowed.iter().filter_map(bound).any(|a| &a == value);
            if !ok {
                return Some("constraint \"enum\" is not met".into());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
