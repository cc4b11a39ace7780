//! The query language of hosted records (PostgREST-like, as DESIGN.md fixes it):
//! `select=a,b`, `{field}=[not.]op.value` with `eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `like`,
//! `ilike`, `in.(a,b)`, `is.null|true|false`, `order=a.desc,b.asc.nullslast`, `limit`, `offset`
//! or keyset `after`, and `as_of`.
//!
//! [`RecordQuery::parse`] checks every name against the dataset's Table Schema and reads every
//! value as its field's type, so storage only ever sees known column names and typed values to
//! bind. Errors name the parameter at fault.

use chrono::{DateTime, NaiveDate, Utc};

use crate::table_schema::{parse_cell, CellValue, Field, FieldType, TableSchema};

/// Default page size of a query, and the largest `limit` one page may ask for.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;

/// A comparison of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    /// `*` is the wildcard; case-sensitive.
    Like,
    /// `*` is the wildcard; ignores ASCII case.
    Ilike,
    In,
    IsNull,
    IsTrue,
    IsFalse,
}

/// `{field}=[not.]op.value`: the values are typed as the field (`Like`/`Ilike` hold one
/// string pattern, `In` one or more values, the `Is*` operators none).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: String,
    pub op: Op,
    pub negated: bool,
    pub values: Vec<CellValue>,
}

/// One key of `order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    pub field: String,
    pub descending: bool,
    /// `None` leaves the backend's default (NULLs last ascending, first descending).
    pub nulls_first: Option<bool>,
}

/// Where the previous page ended: the values of the order keys in the last record, and that
/// record version's row id (the tie-breaker every order ends with).
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub values: Vec<CellValue>,
    pub row: i64,
}

/// A read of a dataset's records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordQuery {
    /// The instant the records must have been current at (system time).
    pub as_of: DateTime<Utc>,
    /// Fields to return, in this order; `None` is all of them.
    pub select: Option<Vec<String>>,
    pub filters: Vec<Filter>,
    /// Empty: insertion order.
    pub order: Vec<OrderKey>,
    pub after: Option<Cursor>,
    /// `None`: every matching record (downloads).
    pub limit: Option<usize>,
    pub offset: usize,
    /// For code lists: only entries in effect on this date (business time), read from the
    /// schema's `effective_from` / `effective_to` date fields.
    pub effective_on: Option<NaiveDate>,
    /// Free text that one of some text fields must contain (ignoring ASCII case).
    pub search: Option<Search>,
}

/// `text` must occur in at least one of `fields` (CKAN's `q`).
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub text: String,
    pub fields: Vec<String>,
}

/// A query parameter that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{parameter}`: {message}")]
pub struct QueryError {
    pub parameter: String,
    pub message: String,
}

fn error(parameter: &str, message: impl Into<String>) -> QueryError {
    QueryError {
        parameter: parameter.to_owned(),
        message: message.into(),
    }
}

/// Parameters that are not field filters.
pub const RESERVED: [&str; 8] = [
    "select", "order", "limit", "offset", "after", "as_of", "format", "count",
];

/// The names of the business-time fields of a code list.
pub const EFFECTIVE_FROM: &str = "effective_from";
pub const EFFECTIVE_TO: &str = "effective_to";

impl RecordQuery {
    /// Everything current now, in insertion order, unpaged.
    pub fn all(as_of: DateTime<Utc>) -> Self {
        Self {
            as_of,
            select: None,
            filters: Vec::new(),
            order: Vec::new(),
            after: None,
            limit: None,
            offset: 0,
            effective_on: None,
            search: None,
        }
    }

    /// Reads a query string's parameters (in order, repeats allowed) against `schema`.
    /// `after` must already be decoded (see [`Cursor::decode`]); `now` is the default `as_of`.
    /// `format` and `count` are left to the caller.
    pub fn parse(
        schema: &TableSchema,
        params: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Self, QueryError> {
        let mut query = Self::all(now);
        query.limit = Some(DEFAULT_LIMIT);
        let mut after = None;
        let mut seen = std::collections::HashSet::new();
        for (name, value) in params {
            let name = name.as_str();
            if RESERVED.contains(&name) && !seen.insert(name) {
                return Err(error(name, "is given twice"));
            }
            match name {
                "select" => query.select = Some(parse_select(schema, value)?),
                "order" => query.order = parse_order(schema, value)?,
                "limit" => {
                    let limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| error(name, format!("must be 1 to {MAX_LIMIT}")))?;
                    query.limit = Some(limit);
                }
                "offset" => {
                    query.offset = value
                        .parse()
                        .map_err(|_| error(name, "must be a whole number"))?
                }
                "after" => after = Some(value.as_str()),
                "as_of" => {
                    query.as_of = parse_instant(value).ok_or_else(|| {
                        error(name, "must be an RFC 3339 instant or a date (YYYY-MM-DD)")
                    })?
                }
                "format" | "count" => {}
                field => query.filters.push(parse_filter(schema, field, value)?),
            }
        }
        if let Some(text) = after {
            if query.offset != 0 {
                return Err(error("after", "cannot be combined with `offset`"));
            }
            query.after = Some(Cursor::decode(schema, &query.order, text)?);
        }
        Ok(query)
    }

    /// The cursor that continues after `record` (its values in schema order, and row id).
    pub fn cursor_after(&self, schema: &TableSchema, record: &[CellValue], row: i64) -> Cursor {
        let values = self
            .order
            .iter()
            .filter_map(|key| schema.fields.iter().position(|f| f.name == key.field))
            .map(|i| record[i].clone())
            .collect();
        Cursor { values, row }
    }
}

/// `2024-05-01T00:00:00+07:00`, or a date meaning its first instant in Vietnam (UTC+7).
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600)?;
    date.and_hms_opt(0, 0, 0)?
        .and_local_timezone(vietnam)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn field<'a>(
    schema: &'a TableSchema,
    parameter: &str,
    name: &str,
) -> Result<&'a Field, QueryError> {
    schema
        .fields
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| {
            error(
                parameter,
                format!("`{name}` is not a field of this dataset"),
            )
        })
}

fn parse_select(schema: &TableSchema, value: &str) -> Result<Vec<String>, QueryError> {
    let mut names = Vec::new();
    for name in value.split(',').map(str::trim) {
        let field = field(schema, "select", name)?;
        if names.contains(&field.name) {
            return Err(error("select", format!("`{name}` is selected twice")));
        }
        names.push(field.name.clone());
    }
    Ok(names)
}

fn parse_order(schema: &TableSchema, value: &str) -> Result<Vec<OrderKey>, QueryError> {
    let mut keys: Vec<OrderKey> = Vec::new();
    for item in value.split(',').map(str::trim) {
        let mut parts = item.split('.');
        let name = parts.next().unwrap_or_default();
        let field = field(schema, "order", name)?;
        let mut key = OrderKey {
            field: field.name.clone(),
            descending: false,
            nulls_first: None,
        };
        for modifier in parts {
            match modifier {
                "asc" => key.descending = false,
                "desc" => key.descending = true,
                "nullsfirst" => key.nulls_first = Some(true),
                "nullslast" => key.nulls_first = Some(false),
                other => {
                    return Err(error(
                        "order",
                        format!("`{other}` is not `asc`, `desc`, `nullsfirst` or `nullslast`"),
                    ))
                }
            }
        }
        if keys.iter().any(|k| k.field == key.field) {
            return Err(error("order", format!("`{name}` appears twice")));
        }
        keys.push(key);
    }
    Ok(keys)
}

fn parse_filter(schema: &TableSchema, name: &str, value: &str) -> Result<Filter, QueryError> {
    let field = field(schema, name, name)?;
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (op, operand) = rest.split_once('.').ok_or_else(|| {
        error(
            name,
            "must be `operator.value`, for example `eq.5` or `in.(1,2)`",
        )
    })?;
    let typed = |raw: &str| parse_cell(field, raw).map_err(|why| error(name, why));
    let text_only = |op: Op| {
        if field.kind == FieldType::String {
            Ok(Filter {
                field: field.name.clone(),
                op,
                negated,
                values: vec![CellValue::String(operand.to_owned())],
            })
        } else {
            Err(error(name, "`like` and `ilike` apply to text fields"))
        }
    };
    let compare = |op: Op| {
        Ok(Filter {
            field: field.name.clone(),
            op,
            negated,
            values: vec![typed(operand)?],
        })
    };
    match op {
        "eq" => compare(Op::Eq),
        "neq" => compare(Op::Neq),
        "gt" => compare(Op::Gt),
        "gte" => compare(Op::Gte),
        "lt" => compare(Op::Lt),
        "lte" => compare(Op::Lte),
        "like" => text_only(Op::Like),
        "ilike" => text_only(Op::Ilike),
        "in" => {
            let inner = operand
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(|| error(name, "`in` takes a list in parentheses: `in.(a,b)`"))?;
            let values = split_list(inner)
                .iter()
                .map(|raw| typed(raw))
                .collect::<Result<Vec<_>, _>>()?;
            if values.is_empty() {
                return Err(error(name, "`in` needs at least one value"));
            }
            Ok(Filter {
                field: field.name.clone(),
                op: Op::In,
                negated,
                values,
            })
        }
        "is" => {
            let op = match operand {
                "null" => Op::IsNull,
                "true" if field.kind == FieldType::Boolean => Op::IsTrue,
                "false" if field.kind == FieldType::Boolean => Op::IsFalse,
                _ => {
                    return Err(error(
                        name,
                        "`is` takes `null`, or `true`/`false` for booleans",
                    ))
                }
            };
            Ok(Filter {
                field: field.name.clone(),
                op,
                negated,
                values: Vec::new(),
            })
        }
        other => Err(error(
            name,
            format!(
                "`{other}` is not an operator (eq, neq, gt, gte, lt, lte, like, ilike, in, is)"
            ),
        )),
    }
}

/// `a,"b,c",d` → `a`, `b,c`, `d` (double quotes protect commas, `\"` is a quote).
fn split_list(inner: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => current.extend(chars.next()),
            ',' if !quoted => items.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !inner.is_empty() {
        items.push(current);
    }
    items
}

/// A cell as text that [`parse_cell`] reads back to the same value (CSV, cursors).
pub fn cell_text(value: &CellValue) -> String {
    match value {
        CellValue::Null => String::new(),
        CellValue::String(s) => s.clone(),
        CellValue::Integer(n) => n.to_string(),
        CellValue::Number(n) => n.to_string(),
        CellValue::Boolean(b) => b.to_string(),
        CellValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        CellValue::Datetime(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        CellValue::Time(t) => t.format("%H:%M:%S").to_string(),
        CellValue::Year(y) => format!("{y:04}"),
        CellValue::Geopoint([lon, lat]) => format!("{lon},{lat}"),
    }
}

impl Cursor {
    /// The cursor as plain text: `row` then each order value, as JSON (the server wraps it in
    /// base64url so that it is opaque in URLs).
    pub fn encode(&self) -> String {
        let mut items = vec![serde_json::Value::from(self.row)];
        items.extend(self.values.iter().map(|v| match v {
            CellValue::Null => serde_json::Value::Null,
            other => serde_json::Value::String(cell_text(other)),
        }));
        serde_json::Value::Array(items).to_string()
    }

    /// Reads a cursor made by [`Cursor::encode`] for the same order.
    pub fn decode(
        schema: &TableSchema,
        order: &[OrderKey],
        text: &str,
    ) -> Result<Self, QueryError> {
        let bad = || {
            error(
                "after",
                "is not a cursor of this query (take it from the previous page's `Link` header)",
            )
        };
        let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|_| bad())?;
        let (row, values) = items.split_first().ok_or_else(bad)?;
        if values.len() != order.len() {
            return Err(bad());
        }
        let row = row.as_i64().ok_or_else(bad)?;
        let values = order
            .iter()
            .zip(values)
            .map(|(key, value)| {
                let field = field(schema, "after", &key.field)?;
                match value {
                    serde_json::Value::Null => Ok(CellValue::Null),
                    serde_json::Value::String(raw) => parse_cell(field, raw).map_err(|_| bad()),
                    _ => Err(bad()),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { values, row })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> TableSchema {
        serde_json::from_value(serde_json::json!({
            "fields": [
                {"name": "code", "type": "string"},
                {"name": "population", "type": "integer"},
                {"name": "founded", "type": "date"},
                {"name": "active", "type": "boolean"}
            ],
            "primaryKey": "code"
        }))
        .unwrap()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<RecordQuery, QueryError> {
        let params: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RecordQuery::parse(&schema(), &params, Utc::now())
    }

    #[test]
    fn filters_are_typed_by_their_field() {
        let q = parse(&[
            ("population", "gte.1000"),
            ("population", "lt.5000"),
            ("code", "in.(347,\"35,1\")"),
        ])
        .unwrap();
        assert_eq!(q.filters[0].op, Op::Gte);
        assert_eq!(q.filters[0].values, vec![CellValue::Integer(1000)]);
        assert_eq!(q.filters[1].op, Op::Lt);
        assert_eq!(
            q.filters[2].values,
            vec![
                CellValue::String("347".into()),
                CellValue::String("35,1".into())
            ]
        );
        let q = parse(&[("active", "is.true"), ("founded", "not.is.null")]).unwrap();
        assert_eq!((q.filters[0].op, q.filters[0].negated), (Op::IsTrue, false));
        assert_eq!((q.filters[1].op, q.filters[1].negated), (Op::IsNull, true));
    }

    #[test]
    fn errors_name_the_parameter() {
        for (pairs, parameter) in [
            (vec![("nope", "eq.1")], "nope"),
            (vec![("population", "eq.many")], "population"),
            (vec![("population", "approx.5")], "population"),
            (vec![("population", "like.5*")], "population"),
            (vec![("population", "5")], "population"),
            (vec![("code", "in.347")], "code"),
            (vec![("code", "is.true")], "code"),
            (vec![("select", "code,nope")], "select"),
            (vec![("order", "code.sideways")], "order"),
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "10001")], "limit"),
            (vec![("as_of", "yesterday")], "as_of"),
            (vec![("after", "garbage")], "after"),
            (vec![("limit", "5"), ("limit", "6")], "limit"),
        ] {
            let err = parse(&pairs).unwrap_err();
            assert_eq!(err.parameter, parameter, "{pairs:?}: {err}");
        }
    }

    #[test]
    fn order_and_select_keep_the_callers_order() {
        let q = parse(&[
            ("select", "population,code"),
            ("order", "population.desc.nullslast,code"),
        ])
        .unwrap();
        assert_eq!(q.select.unwrap(), vec!["population", "code"]);
        assert_eq!(
            q.order,
            vec![
                OrderKey {
                    field: "population".into(),
                    descending: true,
                    nulls_first: Some(false)
                },
                OrderKey {
                    field: "code".into(),
                    descending: false,
                    nulls_first: None
                },
            ]
        );
    }

    #[test]
    fn cursors_round_trip() {
        let q = parse(&[("order", "founded,population.desc")]).unwrap();
        let record = vec![
            CellValue::String("347".into()),
            CellValue::Integer(12),
            CellValue::Date(NaiveDate::from_ymd_opt(1890, 1, 1).unwrap()),
            CellValue::Null,
        ];
        let cursor = q.cursor_after(&schema(), &record, 42);
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&schema(), &q.order, &text).unwrap(), cursor);
        let next = parse(&[("order", "founded,population.desc"), ("after", &text)]).unwrap();
        assert_eq!(next.after, Some(cursor));
        // A cursor of another order is refused.
        assert!(parse(&[("order", "code"), ("after", &text)]).is_err());
    }

    #[test]
    fn dates_as_of_mean_midnight_in_vietnam() {
        let q = parse(&[("as_of", "2025-07-01")]).unwrap();
        assert_eq!(q.as_of.to_rfc3339(), "2025-06-30T17:00:00+00:00");
    }
}
