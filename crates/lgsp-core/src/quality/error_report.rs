//! Error reports on hosted datasets (*phản ánh sai sót dữ liệu*, Q16.2.c and Q15.2.d): anyone
//! who may read a dataset reports an error in it — optionally in one record, named by its
//! primary key, and one field — and the owner agency tracks the report to resolution:
//! open → acknowledged → fixed or rejected (with a reason the reporter is shown).
//!
//! Everything here is a value checked when it is made: a report's description, its target in
//! the dataset's Table Schema, its tracking code, and the steps that move it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::table_schema::{parse_cell, CellValue, TableSchema};
use crate::text::{string_newtype, ParseError, Text};

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Received, nobody at the owner agency has looked at it yet.
    Open,
    /// The owner agency is looking into it.
    Acknowledged,
    /// The data was corrected. Final.
    Fixed,
    /// The owner agency found the data right, with a reason. Final.
    Rejected,
}

impl ReportState {
    pub const ALL: [ReportState; 4] = [Self::Open, Self::Acknowledged, Self::Fixed, Self::Rejected];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Fixed => "fixed",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown report state `{value}`")))
    }

    /// What a person reads in the portal and the console.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Open => "Mới tiếp nhận",
            Self::Acknowledged => "Đang xử lý",
            Self::Fixed => "Đã sửa",
            Self::Rejected => "Không chấp nhận",
        }
    }

    /// Fixed and rejected reports take no further step.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Fixed | Self::Rejected)
    }

    /// Takes `step` from this state: the state it leads to, or why it cannot be taken.
    ///
    /// An open report may be acknowledged, fixed at once or rejected; an acknowledged one fixed
    /// or rejected. Rejecting carries its reason in the step itself, so a rejection without one
    /// cannot be asked for.
    pub fn take(self, step: &ReportStep) -> Result<ReportState, IllegalStep> {
        use ReportState::*;
        let to = step.leads_to();
        match (self, to) {
            (Open, Acknowledged) | (Open | Acknowledged, Fixed | Rejected) => Ok(to),
            _ => Err(IllegalStep {
                from: self,
                step: step.name(),
            }),
        }
    }
}

impl fmt::Display for ReportState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the owner agency does with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportStep {
    /// *Tiếp nhận*: the agency is looking into it.
    Acknowledge,
    /// *Đã sửa*: the data was corrected.
    Fix,
    /// *Không chấp nhận*: the data is right; the reason is shown to the reporter.
    Reject { reason: Text },
}

impl ReportStep {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Fix => "fix",
            Self::Reject { .. } => "reject",
        }
    }

    /// The state the step leads to.
    pub fn leads_to(&self) -> ReportState {
        match self {
            Self::Acknowledge => ReportState::Acknowledged,
            Self::Fix => ReportState::Fixed,
            Self::Reject { .. } => ReportState::Rejected,
        }
    }

    pub fn reason(&self) -> Option<&Text> {
        match self {
            Self::Reject { reason } => Some(reason),
            _ => None,
        }
    }
}

/// A step that cannot be taken from a report's state (fixed and rejected are final; an
/// acknowledged report is not acknowledged again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a report that is `{from}` cannot take the step `{step}`")]
pub struct IllegalStep {
    pub from: ReportState,
    pub step: &'static str,
}

/// What the reporter says is wrong: trimmed, 1 to [`ReportDescription::MAX_CHARS`] characters;
/// line breaks and tabs are kept (people write paragraphs), other control characters refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct ReportDescription(String);

impl ReportDescription {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref().replace("\r\n", "\n");
        let value = value.trim();
        if value.is_empty() {
            return Err(ParseError::new("must not be empty"));
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
        {
            return Err(ParseError::new(
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ReportDescription {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<ReportDescription> for String {
    fn from(value: ReportDescription) -> Self {
        value.0
    }
}

impl fmt::Display for ReportDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_newtype! {
    /// The code a reporter tracks a report by, e.g. `PA-7K3M-9QXD-2F8T` (*mã phản ánh*): `PA-`
    /// and twelve Crockford base-32 characters in groups of four, 60 random bits. It is the
    /// only key to the public tracking page, so it is random rather than a sequence number
    /// anyone could count through. Read without regard to case; `I`/`L` read as `1`, `O` as `0`.
    TrackingCode
}

/// Crockford's base-32 alphabet: no I, L, O, U, so a code read aloud or retyped survives.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS: usize = 12;

impl TrackingCode {
    /// The code spelling the low 60 bits of `entropy` (the caller supplies randomness).
    pub fn from_entropy(entropy: u64) -> Self {
        let mut code = String::from("PA");
        for i in 0..CODE_CHARS {
            if i % 4 == 0 {
                code.push('-');
            }
            let shift = 5 * (CODE_CHARS - 1 - i);
            code.push(char::from(CROCKFORD[((entropy >> shift) & 31) as usize]));
        }
        Self(code)
    }

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let invalid = || ParseError::new("a tracking code looks like PA-7K3M-9QXD-2F8T");
        let value = value.as_ref().trim().to_ascii_uppercase();
        let rest = value.strip_prefix("PA").ok_or_else(invalid)?;
        let mut entropy = 0u64;
        let mut count = 0;
        for c in rest.chars().filter(|&c| c != '-') {
            let c = match c {
                'I' | 'L' => '1',
                'O' => '0',
                other => other,
            };
            let digit = CROCKFORD
                .iter()
                .position(|&d| char::from(d) == c)
                .ok_or_else(invalid)?;
            entropy = (entropy << 5) | digit as u64;
            count += 1;
        }
        if count != CODE_CHARS {
            return Err(invalid());
        }
        Ok(Self::from_entropy(entropy))
    }
}

/// What a report is about inside a dataset: one record (its primary-key values) and/or one
/// field, both named as the dataset's Table Schema names them; neither for the dataset as a
/// whole.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportTarget {
    record_key: Option<Vec<(String, CellValue)>>,
    field: Option<String>,
}

/// Why a report's target does not fit the dataset: `part` is `record_key` or `field`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct TargetError {
    pub part: &'static str,
    pub message: String,
}

fn target_error(part: &'static str, message: impl Into<String>) -> TargetError {
    TargetError {
        part,
        message: message.into(),
    }
}

impl ReportTarget {
    /// The dataset as a whole.
    pub fn whole_dataset() -> Self {
        Self::default()
    }

    /// Checks `record_key` (a JSON object with exactly the primary-key fields, each value
    /// readable as its field's type) and `field` (a field of the schema) against `schema`, the
    /// dataset's Table Schema (`None` when it hosts no records, which then cannot be named).
    pub fn parse(
        schema: Option<&TableSchema>,
        record_key: Option<&serde_json::Value>,
        field: Option<&str>,
    ) -> Result<Self, TargetError> {
        let needs_schema = |part| {
            target_error(
                part,
                "the dataset hosts no records on the platform: report on the dataset as a whole",
            )
        };
        let field = match field.map(str::trim) {
            None | Some("") => None,
            Some(name) => {
                let schema = schema.ok_or_else(|| needs_schema("field"))?;
                if !schema.fields.iter().any(|f| f.name == name) {
                    return Err(target_error(
                        "field",
                        format!("the dataset has no field `{name}`"),
                    ));
                }
                Some(name.to_owned())
            }
        };
        let record_key = match record_key {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => {
                let schema = schema.ok_or_else(|| needs_schema("record_key"))?;
                Some(parse_key(schema, value)?)
            }
        };
        Ok(Self { record_key, field })
    }

    /// The primary-key values of the record, in the key's order.
    pub fn record_key(&self) -> Option<&[(String, CellValue)]> {
        self.record_key.as_deref()
    }

    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The record key as stored and shown: an object of the typed values.
    pub fn record_key_json(&self) -> Option<serde_json::Value> {
        self.record_key.as_ref().map(|key| {
            serde_json::Value::Object(
                key.iter()
                    .map(|(name, value)| {
                        (
                            name.clone(),
                            serde_json::to_value(value).unwrap_or_default(),
                        )
                    })
                    .collect(),
            )
        })
    }
}

fn parse_key(
    schema: &TableSchema,
    value: &serde_json::Value,
) -> Result<Vec<(String, CellValue)>, TargetError> {
    let bad = |message: String| target_error("record_key", message);
    if schema.primary_key.is_empty() {
        return Err(bad(
            "the dataset's schema has no primary key, so a record cannot be named; name the field only".into(),
        ));
    }
    let expected = schema.primary_key.join(", ");
    let object = value
        .as_object()
        .ok_or_else(|| bad(format!("must be an object of the primary key ({expected})")))?;
    if let Some(extra) = object.keys().find(|k| !schema.primary_key.contains(k)) {
        return Err(bad(format!(
            "`{extra}` is not part of the primary key ({expected})"
        )));
    }
    schema
        .primary_key
        .iter()
        .map(|name| {
            let raw = match object.get(name) {
                None | Some(serde_json::Value::Null) => {
                    return Err(bad(format!("the primary-key field `{name}` is missing")))
                }
                Some(serde_json::Value::String(text)) => text.trim().to_owned(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(serde_json::Value::Bool(b)) => b.to_string(),
                Some(_) => return Err(bad(format!("`{name}` must be a single value"))),
            };
            let field = schema
                .fields
                .iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| bad(format!("the schema has no field `{name}`")))?;
            if raw.is_empty() {
                return Err(bad(format!("the primary-key field `{name}` is empty")));
            }
            let value = parse_cell(field, &raw).map_err(|e| bad(format!("`{name}`: {e}")))?;
            Ok((name.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ReportState::*;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn reject(reason: &str) -> ReportStep {
        ReportStep::Reject {
            reason: Text::parse(reason).unwrap(),
        }
    }

    fn steps() -> [ReportStep; 3] {
        [ReportStep::Acknowledge, ReportStep::Fix, reject("lý do")]
    }

    #[test]
    fn q16_2_c_reports_go_open_acknowledged_fixed() {
        let s = Open.take(&ReportStep::Acknowledge).unwrap();
        assert_eq!(s, Acknowledged);
        assert_eq!(s.take(&ReportStep::Fix), Ok(Fixed));
        assert_eq!(
            s.take(&reject("Dữ liệu đúng theo quyết định gốc")),
            Ok(Rejected)
        );
    }

    #[test]
    fn q16_2_c_an_open_report_may_be_fixed_or_rejected_at_once() {
        assert_eq!(Open.take(&ReportStep::Fix), Ok(Fixed));
        assert_eq!(Open.take(&reject("Trùng phản ánh")), Ok(Rejected));
    }

    /// Every step from every state: legal exactly for the arrows of the diagram.
    #[test]
    fn q16_2_c_every_other_step_is_illegal() {
        for from in ReportState::ALL {
            for step in steps() {
                let legal = matches!(
                    (from, step.leads_to()),
                    (Open, Acknowledged) | (Open | Acknowledged, Fixed | Rejected)
                );
                let outcome = from.take(&step);
                if legal {
                    assert_eq!(outcome, Ok(step.leads_to()), "{from:?} {step:?}");
                } else {
                    assert_eq!(
                        outcome,
                        Err(IllegalStep {
                            from,
                            step: step.name()
                        }),
                        "{from:?} {step:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_rejection_cannot_be_made_without_a_reason() {
        // The reason is a `Text`: blank text is not one.
        assert!(Text::parse("   ").is_err());
        assert_eq!(
            reject("Dữ liệu đúng").reason().map(Text::as_str),
            Some("Dữ liệu đúng")
        );
    }

    #[test]
    fn states_read_in_vietnamese_and_round_trip() {
        assert_eq!(Fixed.label_vi(), "Đã sửa");
        assert_eq!(Rejected.label_vi(), "Không chấp nhận");
        for state in ReportState::ALL {
            assert_eq!(ReportState::parse(state.as_str()), Ok(state));
        }
        assert!(ReportState::parse("closed").is_err());
    }

    #[test]
    fn descriptions_keep_paragraphs_and_refuse_blank_long_and_control() {
        let d = ReportDescription::parse("  Dòng 1\r\nDòng 2\tcột  ").unwrap();
        assert_eq!(d.as_str(), "Dòng 1\nDòng 2\tcột");
        assert!(ReportDescription::parse(" \n ").is_err());
        assert!(ReportDescription::parse("a\u{7}b").is_err());
        assert!(ReportDescription::parse("ư".repeat(ReportDescription::MAX_CHARS)).is_ok());
        assert!(ReportDescription::parse("ư".repeat(ReportDescription::MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn tracking_codes_are_grouped_and_forgiving_when_typed() {
        let code = TrackingCode::from_entropy(0);
        assert_eq!(code.as_str(), "PA-0000-0000-0000");
        let code = TrackingCode::from_entropy(u64::MAX);
        assert_eq!(code.as_str(), "PA-ZZZZ-ZZZZ-ZZZZ");
        let typed = TrackingCode::parse(" pa-7k3m-9qxd-2f8t ").unwrap();
        assert_eq!(typed.as_str(), "PA-7K3M-9QXD-2F8T");
        assert_eq!(
            TrackingCode::parse("PA7K3M9QXD2F8T").unwrap(),
            typed,
            "dashes are optional"
        );
        assert_eq!(
            TrackingCode::parse("PA-OIL0-0000-0000").unwrap().as_str(),
            "PA-0110-0000-0000"
        );
        for bad in [
            "",
            "PA-",
            "PA-7K3M-9QXD-2F8",
            "PA-7K3M-9QXD-2F8TX",
            "BC-7K3M-9QXD-2F8T",
            "PA-7K3M-9QXD-2F8U",
        ] {
            assert!(TrackingCode::parse(bad).is_err(), "{bad}");
        }
    }

    fn schema() -> TableSchema {
        serde_json::from_value(json!({
            "fields": [
                {"name": "ma", "type": "integer"},
                {"name": "nam", "type": "year"},
                {"name": "ten", "type": "string"}
            ],
            "primaryKey": ["ma", "nam"]
        }))
        .unwrap()
    }

    #[test]
    fn q16_2_c_targets_are_checked_against_the_table_schema() {
        let schema = schema();
        let target = ReportTarget::parse(
            Some(&schema),
            Some(&json!({"ma": "12", "nam": 2025})),
            Some("ten"),
        )
        .unwrap();
        assert_eq!(target.field(), Some("ten"));
        assert_eq!(
            target.record_key(),
            Some(
                &[
                    ("ma".to_owned(), CellValue::Integer(12)),
                    ("nam".to_owned(), CellValue::Year(2025))
                ][..]
            )
        );
        assert_eq!(
            target.record_key_json(),
            Some(json!({"ma": 12, "nam": 2025}))
        );

        let whole = ReportTarget::parse(Some(&schema), None, Some("  ")).unwrap();
        assert_eq!(whole, ReportTarget::whole_dataset());

        let refused = |key: Option<serde_json::Value>, field: Option<&str>| {
            ReportTarget::parse(Some(&schema), key.as_ref(), field).unwrap_err()
        };
        assert_eq!(refused(None, Some("gia")).part, "field");
        for key in [
            json!({"ma": 12}),
            json!({"ma": 12, "nam": 2025, "ten": "x"}),
            json!({"ma": "mười hai", "nam": 2025}),
            json!({"ma": [12], "nam": 2025}),
            json!({"ma": 12, "nam": ""}),
            json!(12),
        ] {
            let error = refused(Some(key.clone()), None);
            assert_eq!(error.part, "record_key", "{key}");
        }
        assert!(refused(Some(json!({"ma": "x", "nam": 2025})), None)
            .message
            .contains("`ma`"));
    }

    #[test]
    fn without_a_schema_or_a_primary_key_records_cannot_be_named() {
        let error = ReportTarget::parse(None, Some(&json!({"ma": 1})), None).unwrap_err();
        assert_eq!(error.part, "record_key");
        let error = ReportTarget::parse(None, None, Some("ten")).unwrap_err();
        assert_eq!(error.part, "field");
        assert!(ReportTarget::parse(None, None, None).is_ok());
        let keyless: TableSchema =
            serde_json::from_value(json!({"fields": [{"name": "ten", "type": "string"}]})).unwrap();
        let error =
            ReportTarget::parse(Some(&keyless), Some(&json!({"ten": "x"})), None).unwrap_err();
        assert!(error.message.contains("no primary key"), "{error}");
    }

    fn any_step() -> impl Strategy<Value = ReportStep> {
        (0..3usize).prop_map(|i| steps()[i].clone())
    }

    proptest! {
        /// Whatever the provider clicks, in whatever order: a report only moves forward, takes
        /// at most two steps, and never leaves a final state.
        #[test]
        fn q16_2_c_reports_only_move_forward_and_final_states_stay(
            clicks in proptest::collection::vec(any_step(), 0..8)
        ) {
            fn rank(s: ReportState) -> u8 {
                match s { Open => 0, Acknowledged => 1, Fixed | Rejected => 2 }
            }
            let mut state = Open;
            let mut moves = 0;
            for step in &clicks {
                match state.take(step) {
                    Ok(next) => {
                        prop_assert!(!state.is_final());
                        prop_assert!(rank(next) > rank(state));
                        prop_assert_eq!(next, step.leads_to());
                        state = next;
                        moves += 1;
                    }
                    Err(e) => prop_assert_eq!(e.from, state),
                }
            }
            prop_assert!(moves <= 2);
        }

        /// Every code reads back as itself, in any case, and distinct entropy gives distinct
        /// codes.
        #[test]
        fn tracking_codes_round_trip(a in any::<u64>(), b in any::<u64>()) {
            let code = TrackingCode::from_entropy(a);
            prop_assert_eq!(TrackingCode::parse(code.as_str()).unwrap(), code.clone());
            prop_assert_eq!(TrackingCode::parse(code.as_str().to_lowercase()).unwrap(), code.clone());
            let mask = (1u64 << 60) - 1;
            prop_assert_eq!(a & mask == b & mask, code == TrackingCode::from_entropy(b));
        }

        #[test]
        fn descriptions_are_what_was_typed_trimmed(text in "[a-zA-Zàáạảãđêếệươ \n]{0,50}") {
            match ReportDescription::parse(&text) {
                Ok(d) => prop_assert_eq!(d.as_str(), text.trim()),
                Err(_) => prop_assert!(text.trim().is_empty()),
            }
        }
    }
}
