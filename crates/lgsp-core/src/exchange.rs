//! The gateway's decision (DESIGN "The exchange"): may this consumer system, for this purpose,
//! at this instant, reach this service or dataset — and with which grant? A pure function of
//! the grants in force, so every refusal has one stable reason and suspension or termination
//! takes effect on the very next request (the caller passes the grants as stored now).
//!
//! Grants are created directly by an operator or provider, or by the sharing-request workflow;
//! `default`-mode resources are granted to any registered agency system on subscription.

use std::collections::HashSet;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::DatasetId;
use crate::service::{JsonPointer, ServiceCode, ServiceVersion};
use crate::text::{ParseError, Text};
use crate::SystemId;

/// Why an exchange is requested (`LGSP-Purpose`): an uppercase code such as `TTHC`
/// (administrative procedure) or `THONG_KE`, 2–32 of `[A-Z0-9_.-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct PurposeCode(String);

impl PurposeCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let ok = (2..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseError::new(
                "a purpose code is 2 to 32 of A-Z, 0-9, `_`, `.`, `-`",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PurposeCode {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, ParseError> {
        Self::parse(&raw)
    }
}

impl From<PurposeCode> for String {
    fn from(code: PurposeCode) -> Self {
        code.0
    }
}

/// What a grant opens: one version of a provider's service, or a hosted dataset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Service {
        provider: SystemId,
        code: ServiceCode,
        version: ServiceVersion,
    },
    Dataset {
        id: DatasetId,
    },
}

/// Where a grant stands (Q15.1.c). Suspension (*tạm dừng*) is reversible; termination
/// (*chấm dứt*) is final. Both carry the reason the consumer is told: a suspension or
/// termination without one cannot be represented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum GrantStatus {
    Active,
    Suspended { reason: Text },
    Terminated { reason: Text },
}

impl GrantStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended { .. } => "suspended",
            Self::Terminated { .. } => "terminated",
        }
    }

    pub fn label_vi(&self) -> &'static str {
        match self {
            Self::Active => "Đang hiệu lực",
            Self::Suspended { .. } => "Tạm dừng",
            Self::Terminated { .. } => "Đã chấm dứt",
        }
    }

    pub fn reason(&self) -> Option<&Text> {
        match self {
            Self::Active => None,
            Self::Suspended { reason } | Self::Terminated { reason } => Some(reason),
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active)
    }

    /// Rebuilds a status from its stored parts.
    pub fn from_parts(status: &str, reason: Option<String>) -> Result<Self, ParseError> {
        let reason = || {
            reason
                .clone()
                .ok_or_else(|| ParseError::new(format!("a {status} grant needs a reason")))
                .and_then(Text::parse)
        };
        match status {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended { reason: reason()? }),
            "terminated" => Ok(Self::Terminated { reason: reason()? }),
            other => Err(ParseError::new(format!("unknown grant status `{other}`"))),
        }
    }

    /// Takes `step` from this status: active → suspended → active, and active or suspended →
    /// terminated, which is final.
    pub fn take(&self, step: GrantStep) -> Result<GrantStatus, GrantStepError> {
        match (self, step) {
            (Self::Active, GrantStep::Suspend { reason }) => Ok(Self::Suspended { reason }),
            (Self::Suspended { .. }, GrantStep::Resume) => Ok(Self::Active),
            (Self::Active | Self::Suspended { .. }, GrantStep::Terminate { reason }) => {
                Ok(Self::Terminated { reason })
            }
            (from, step) => Err(GrantStepError {
                from: from.as_str(),
                step: step.as_str(),
            }),
        }
    }
}

/// A change of a grant's status; suspending and terminating need their reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantStep {
    Suspend { reason: Text },
    Resume,
    Terminate { reason: Text },
}

impl GrantStep {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Suspend { .. } => "suspend",
            Self::Resume => "resume",
            Self::Terminate { .. } => "terminate",
        }
    }
}

/// A step the grant's status does not allow (e.g. resuming a terminated grant).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} grant cannot {step}")]
pub struct GrantStepError {
    pub from: &'static str,
    pub step: &'static str,
}

/// The fields a grant opens (Q8.4–Q8.5): JSON pointers into a service's responses, or field
/// names of a dataset's schema. At least one, each once: a grant of nothing is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct GrantFields(Vec<String>);

impl GrantFields {
    pub fn new(fields: Vec<String>) -> Result<Self, ParseError> {
        if fields.is_empty() {
            return Err(ParseError::new("a grant lists at least one field"));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = fields.iter().find(|f| !seen.insert(f.as_str())) {
            return Err(ParseError::new(format!(
                "the field `{twice}` is listed twice"
            )));
        }
        Ok(Self(fields))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

impl TryFrom<Vec<String>> for GrantFields {
    type Error = ParseError;
    fn try_from(value: Vec<String>) -> Result<Self, ParseError> {
        Self::new(value)
    }
}

impl From<GrantFields> for Vec<String> {
    fn from(value: GrantFields) -> Self {
        value.0
    }
}

/// Why asked-for fields cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("`{0}` is not a field the provider shares")]
    NotShared(String),
    #[error("{0}")]
    Invalid(ParseError),
}

/// Checks fields asked of a service against its shareable fields: each must be a JSON pointer
/// equal to, or inside, a shareable one (`/dia_chi/tinh` within `/dia_chi`).
pub fn service_fields(
    asked: &GrantFields,
    shareable: &[JsonPointer],
) -> Result<GrantFields, FieldError> {
    for field in asked.as_slice() {
        let pointer = JsonPointer::parse(field).map_err(FieldError::Invalid)?;
        if !shareable.iter().any(|s| pointer.is_within(s)) {
            return Err(FieldError::NotShared(field.clone()));
        }
    }
    Ok(asked.clone())
}

/// Checks fields asked of a dataset against the names of its schema's fields.
pub fn dataset_fields(
    asked: &GrantFields,
    schema_fields: &[&str],
) -> Result<GrantFields, FieldError> {
    match asked
        .as_slice()
        .iter()
        .find(|f| !schema_fields.contains(&f.as_str()))
    {
        Some(unknown) => Err(FieldError::NotShared(unknown.clone())),
        None => Ok(asked.clone()),
    }
}

/// The purposes a grant serves: at least one, each once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "Vec<PurposeCode>", into = "Vec<PurposeCode>")]
pub struct Purposes(Vec<PurposeCode>);

impl Purposes {
    pub fn new(purposes: Vec<PurposeCode>) -> Result<Self, ParseError> {
        if purposes.is_empty() {
            return Err(ParseError::new("a grant serves at least one purpose"));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = purposes.iter().find(|p| !seen.insert(p.as_str())) {
            return Err(ParseError::new(format!(
                "the purpose `{}` is listed twice",
                twice.as_str()
            )));
        }
        Ok(Self(purposes))
    }

    pub fn as_slice(&self) -> &[PurposeCode] {
        &self.0
    }

    pub fn contains(&self, purpose: &PurposeCode) -> bool {
        self.0.contains(purpose)
    }
}

impl TryFrom<Vec<PurposeCode>> for Purposes {
    type Error = ParseError;
    fn try_from(value: Vec<PurposeCode>) -> Result<Self, ParseError> {
        Self::new(value)
    }
}

impl From<Purposes> for Vec<PurposeCode> {
    fn from(value: Purposes) -> Self {
        value.0
    }
}

/// How long a grant runs: from an instant, until an instant after it (exclusive) or without end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "ValidityParts")]
pub struct Validity {
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct ValidityParts {
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

impl TryFrom<ValidityParts> for Validity {
    type Error = ParseError;
    fn try_from(parts: ValidityParts) -> Result<Self, ParseError> {
        Self::new(parts.from, parts.until)
    }
}

impl Validity {
    pub fn new(from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Result<Self, ParseError> {
        if until.is_some_and(|until| until <= from) {
            return Err(ParseError::new("a grant must end after it starts"));
        }
        Ok(Self { from, until })
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|end| at < end)
    }
}

/// Where a grant came from: created directly by the operator or the provider, by a consumer
/// subscribing to a resource shared by default, or by an approved sharing request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GrantSource {
    Direct,
    Subscription,
    Request { id: i64 },
}

impl GrantSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Subscription => "subscription",
            Self::Request { .. } => "request",
        }
    }

    pub fn request_id(self) -> Option<i64> {
        match self {
            Self::Request { id } => Some(id),
            _ => None,
        }
    }

    pub fn from_parts(kind: &str, request_id: Option<i64>) -> Result<Self, ParseError> {
        match (kind, request_id) {
            ("direct", None) => Ok(Self::Direct),
            ("subscription", None) => Ok(Self::Subscription),
            ("request", Some(id)) => Ok(Self::Request { id }),
            (kind, _) => Err(ParseError::new(format!(
                "grant source `{kind}` is inconsistent"
            ))),
        }
    }
}

/// What a grant's processing of personal data rests on (Decree 13/2023 art. 9, 11, 17; Q7.4,
/// Q15.2.h). Under a legal basis the law or the provider's decision allows it, and the grant
/// alone decides. Under consent every exchange names its data subject (`LGSP-Subject`) and
/// goes through only while that subject's consent covers the consumer, the resource and the
/// purpose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GrantBasis {
    #[default]
    Legal,
    Consent,
}

impl GrantBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legal => "legal",
            Self::Consent => "consent",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Legal => "Theo quy định pháp luật",
            Self::Consent => "Theo sự đồng ý của chủ thể dữ liệu",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "legal" => Ok(Self::Legal),
            "consent" => Ok(Self::Consent),
            other => Err(ParseError::new(format!("unknown grant basis `{other}`"))),
        }
    }
}

/// A consumer system's access to a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub id: i64,
    pub consumer: SystemId,
    pub target: Target,
    /// The fields (JSON pointers for services, field names for datasets) the consumer receives;
    /// the gateway drops everything else.
    pub fields: GrantFields,
    /// Purposes this grant serves; the request's `LGSP-Purpose` must be one of them.
    pub purposes: Purposes,
    pub validity: Validity,
    /// `status`, and the `reason` of a suspension or termination.
    #[serde(flatten)]
    pub status: GrantStatus,
    /// Requests allowed per minute; `None` for no quota.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, minimum = 1))]
    pub per_minute: Option<NonZeroU32>,
    /// What the processing rests on; under consent the gateway also asks for the subject's.
    #[serde(default)]
    pub basis: GrantBasis,
}

/// The minute an instant falls in, as counted by quotas: minutes since the Unix epoch.
pub fn quota_minute(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

/// One request reaching the gateway.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub consumer: &'a SystemId,
    pub target: &'a Target,
    pub purpose: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Why an exchange is refused; each maps to one problem code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `LGSP-Purpose`, or not a purpose code.
    PurposeMissing,
    /// The consumer holds no grant for the target.
    NoGrant,
    /// The only grants are suspended.
    Suspended,
    /// The only grants are terminated.
    Terminated,
    /// The grants are not yet, or no longer, valid.
    OutsideValidity,
    /// Grants exist, but none for this purpose.
    PurposeNotGranted,
    /// The grant's quota for the current minute is used up.
    QuotaExceeded { retry_after_seconds: u64 },
}

/// Chooses the grant an attempt exchanges under, or says why there is none. `used_this_minute`
/// tells how many requests a grant has served in the current minute (the caller's rate
/// counter). Among several usable grants the one with the most fields wins.
pub fn decide<'g>(
    grants: &'g [Grant],
    attempt: &Attempt<'_>,
    used_this_minute: impl Fn(i64) -> u32,
) -> Result<&'g Grant, Refusal> {
    let purpose = attempt
        .purpose
        .and_then(|p| PurposeCode::parse(p.trim()).ok())
        .ok_or(Refusal::PurposeMissing)?;
    let mine: Vec<&Grant> = grants
        .iter()
        .filter(|g| &g.consumer == attempt.consumer && &g.target == attempt.target)
        .collect();
    if mine.is_empty() {
        return Err(Refusal::NoGrant);
    }
    let active: Vec<&Grant> = mine
        .iter()
        .copied()
        .filter(|g| g.status.is_active())
        .collect();
    if active.is_empty() {
        return Err(
            if mine
                .iter()
                .any(|g| matches!(g.status, GrantStatus::Suspended { .. }))
            {
                Refusal::Suspended
            } else {
                Refusal::Terminated
            },
        );
    }
    let valid: Vec<&Grant> = active
        .into_iter()
        .filter(|g| g.validity.contains(attempt.at))
        .collect();
    if valid.is_empty() {
        return Err(Refusal::OutsideValidity);
    }
    let mut serving: Vec<&Grant> = valid
        .into_iter()
        .filter(|g| g.purposes.contains(&purpose))
        .collect();
    if serving.is_empty() {
        return Err(Refusal::PurposeNotGranted);
    }
    serving.sort_by_key(|g| std::cmp::Reverse(g.fields.len()));
    serving
        .iter()
        .copied()
        .find(|g| {
            g.per_minute
                .is_none_or(|limit| used_this_minute(g.id) < limit.get())
        })
        .ok_or_else(|| Refusal::QuotaExceeded {
            retry_after_seconds: 60 - u64::from(attempt.at.timestamp().rem_euclid(60) as u32),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgencyCode, SystemCode};
    use proptest::prelude::*;

    fn system(agency: &str, code: &str) -> SystemId {
        SystemId {
            agency: AgencyCode::parse(agency).unwrap(),
            code: SystemCode::parse(code).unwrap(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn service() -> Target {
        Target::Service {
            provider: system("000.00.05.H35", "hotich"),
            code: ServiceCode::parse("tra-cuu-khai-sinh").unwrap(),
            version: ServiceVersion::parse("v1").unwrap(),
        }
    }

    fn fields(names: &[&str]) -> GrantFields {
        GrantFields::new(names.iter().map(|s| s.to_string()).collect()).unwrap()
    }

    fn reason(text: &str) -> Text {
        Text::parse(text).unwrap()
    }

    fn grant(id: i64) -> Grant {
        Grant {
            id,
            consumer: system("000.00.12.H35", "motcua"),
            target: service(),
            fields: fields(&["/ho_ten"]),
            purposes: Purposes::new(vec![PurposeCode::parse("TTHC").unwrap()]).unwrap(),
            validity: Validity::new(at("2026-01-01T00:00:00Z"), Some(at("2027-01-01T00:00:00Z")))
                .unwrap(),
            status: GrantStatus::Active,
            per_minute: NonZeroU32::new(2),
            basis: GrantBasis::Legal,
        }
    }

    fn attempt<'a>(
        consumer: &'a SystemId,
        target: &'a Target,
        purpose: Option<&'a str>,
        when: &str,
    ) -> Attempt<'a> {
        Attempt {
            consumer,
            target,
            purpose,
            at: at(when),
        }
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let consumer = system("000.00.12.H35", "motcua");
        let other = system("000.00.13.H35", "motcua");
        let target = service();
        let now = "2026-06-01T10:00:30Z";
        let grants = vec![grant(1)];
        let unused = |_| 0;
        let decide_at = |grants: &[Grant], purpose: Option<&str>, when: &str, used: u32| {
            decide(grants, &attempt(&consumer, &target, purpose, when), |_| {
                used
            })
            .map(|g| g.id)
        };
        assert_eq!(decide_at(&grants, Some("TTHC"), now, 0), Ok(1));
        assert_eq!(
            decide_at(&grants, None, now, 0),
            Err(Refusal::PurposeMissing)
        );
        assert_eq!(
            decide_at(&grants, Some("tthc"), now, 0),
            Err(Refusal::PurposeMissing)
        );
        assert_eq!(
            decide_at(&grants, Some("THONG_KE"), now, 0),
            Err(Refusal::PurposeNotGranted)
        );
        assert_eq!(
            decide(
                &grants,
                &attempt(&other, &target, Some("TTHC"), now),
                unused
            )
            .map(|g| g.id),
            Err(Refusal::NoGrant)
        );
        let other_target = Target::Dataset {
            id: DatasetId::parse("truong-hoc").unwrap(),
        };
        assert_eq!(
            decide(
                &grants,
                &attempt(&consumer, &other_target, Some("TTHC"), now),
                unused
            )
            .map(|g| g.id),
            Err(Refusal::NoGrant)
        );
        assert_eq!(
            decide_at(&grants, Some("TTHC"), "2025-12-31T23:59:59Z", 0),
            Err(Refusal::OutsideValidity)
        );
        assert_eq!(
            decide_at(&grants, Some("TTHC"), "2027-01-01T00:00:00Z", 0),
            Err(Refusal::OutsideValidity)
        );
        assert_eq!(
            decide_at(&grants, Some("TTHC"), "2026-12-31T23:59:59Z", 0),
            Ok(1)
        );
        assert_eq!(
            decide_at(&grants, Some("TTHC"), now, 2),
            Err(Refusal::QuotaExceeded {
                retry_after_seconds: 30
            })
        );
        let suspended = vec![Grant {
            status: GrantStatus::Suspended {
                reason: reason("Bảo trì hệ thống"),
            },
            ..grant(1)
        }];
        assert_eq!(
            decide_at(&suspended, Some("TTHC"), now, 0),
            Err(Refusal::Suspended)
        );
        let terminated = vec![Grant {
            status: GrantStatus::Terminated {
                reason: reason("Vi phạm quy chế khai thác"),
            },
            ..grant(1)
        }];
        assert_eq!(
            decide_at(&terminated, Some("TTHC"), now, 0),
            Err(Refusal::Terminated)
        );
    }

    #[test]
    fn the_widest_usable_grant_serves() {
        let consumer = system("000.00.12.H35", "motcua");
        let target = service();
        let wide = Grant {
            fields: fields(&["/ho_ten", "/ngay_sinh"]),
            ..grant(2)
        };
        let grants = vec![
            grant(1),
            wide.clone(),
            Grant {
                status: GrantStatus::Suspended {
                    reason: reason("Tạm dừng để kiểm tra"),
                },
                fields: fields(&["/ho_ten", "/ngay_sinh", "/que_quan"]),
                ..grant(3)
            },
        ];
        let chosen = decide(
            &grants,
            &attempt(&consumer, &target, Some("TTHC"), "2026-06-01T10:00:00Z"),
            |_| 0,
        );
        assert_eq!(chosen.map(|g| g.id), Ok(2));
        // The wide grant's quota is used up: the narrower one still serves.
        let chosen = decide(
            &grants,
            &attempt(&consumer, &target, Some("TTHC"), "2026-06-01T10:00:00Z"),
            |id| if id == 2 { 5 } else { 0 },
        );
        assert_eq!(chosen.map(|g| g.id), Ok(1));
    }

    #[test]
    fn purpose_codes_are_checked() {
        for ok in ["TTHC", "THONG_KE", "QD-07.2021"] {
            assert!(PurposeCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "T", "tthc", "TT HC", "MỤC", &"A".repeat(33)] {
            assert!(PurposeCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn q15_1_c_suspension_is_reversible_and_termination_final() {
        let active = GrantStatus::Active;
        let suspended = active
            .take(GrantStep::Suspend {
                reason: reason("Bảo trì"),
            })
            .unwrap();
        assert_eq!(suspended.reason().unwrap().as_str(), "Bảo trì");
        assert_eq!(suspended.take(GrantStep::Resume), Ok(GrantStatus::Active));
        let terminated = suspended
            .take(GrantStep::Terminate {
                reason: reason("Hết nhu cầu"),
            })
            .unwrap();
        for step in [
            GrantStep::Resume,
            GrantStep::Suspend {
                reason: reason("x"),
            },
            GrantStep::Terminate {
                reason: reason("x"),
            },
        ] {
            assert_eq!(
                terminated.take(step.clone()),
                Err(GrantStepError {
                    from: "terminated",
                    step: step.as_str()
                })
            );
        }
        assert!(active.take(GrantStep::Resume).is_err());
        assert!(suspended
            .take(GrantStep::Suspend {
                reason: reason("x")
            })
            .is_err());
    }

    #[test]
    fn q15_1_c_a_reasonless_suspension_cannot_be_represented() {
        use serde_json::json;
        assert!(serde_json::from_value::<GrantStatus>(json!({"status": "suspended"})).is_err());
        assert!(serde_json::from_value::<GrantStatus>(
            json!({"status": "terminated", "reason": "  "})
        )
        .is_err());
        assert!(GrantStatus::from_parts("suspended", None).is_err());
        assert_eq!(
            GrantStatus::from_parts("suspended", Some("Bảo trì".into())).unwrap(),
            GrantStatus::Suspended {
                reason: reason("Bảo trì")
            }
        );
    }

    #[test]
    fn q8_4_grants_name_fields_the_provider_shares() {
        let shareable: Vec<JsonPointer> = ["/ho_ten", "/dia_chi"]
            .iter()
            .map(|p| JsonPointer::parse(p).unwrap())
            .collect();
        assert!(service_fields(&fields(&["/ho_ten", "/dia_chi/tinh"]), &shareable).is_ok());
        assert_eq!(
            service_fields(&fields(&["/ho_ten", "/so_cccd"]), &shareable),
            Err(FieldError::NotShared("/so_cccd".into()))
        );
        assert!(matches!(
            service_fields(&fields(&["ho_ten"]), &shareable),
            Err(FieldError::Invalid(_))
        ));
        assert!(dataset_fields(&fields(&["ma", "ten"]), &["ma", "ten", "cap"]).is_ok());
        assert_eq!(
            dataset_fields(&fields(&["ma", "so_dan"]), &["ma", "ten"]),
            Err(FieldError::NotShared("so_dan".into()))
        );
        assert!(GrantFields::new(vec![]).is_err());
        assert!(GrantFields::new(vec!["a".into(), "a".into()]).is_err());
        assert!(Purposes::new(vec![]).is_err());
    }

    #[test]
    fn grants_serialise_with_a_flat_status_and_read_back() {
        let grant = Grant {
            status: GrantStatus::Suspended {
                reason: reason("Bảo trì"),
            },
            ..grant(4)
        };
        let json = serde_json::to_value(&grant).unwrap();
        assert_eq!(json["status"], "suspended");
        assert_eq!(json["reason"], "Bảo trì");
        assert_eq!(json["per_minute"], 2);
        assert_eq!(json["target"]["kind"], "service");
        assert_eq!(serde_json::from_value::<Grant>(json).unwrap(), grant);
    }

    #[test]
    fn validity_ends_after_it_starts() {
        let start = at("2026-01-01T00:00:00Z");
        assert!(Validity::new(start, Some(start)).is_err());
        assert!(Validity::new(start, None)
            .unwrap()
            .contains(at("2099-01-01T00:00:00Z")));
        assert_eq!(quota_minute(at("1970-01-01T00:01:59Z")), 1);
        assert_eq!(quota_minute(at("1969-12-31T23:59:59Z")), -1);
    }

    fn any_status() -> impl Strategy<Value = GrantStatus> {
        prop_oneof![
            Just(GrantStatus::Active),
            Just(GrantStatus::Suspended {
                reason: Text::parse("Bảo trì").unwrap()
            }),
            Just(GrantStatus::Terminated {
                reason: Text::parse("Chấm dứt").unwrap()
            }),
        ]
    }

    fn any_grant() -> impl Strategy<Value = Grant> {
        (
            1i64..50,
            0u8..2,
            0u8..2,
            any_status(),
            proptest::sample::subsequence(vec!["TTHC", "THONG_KE", "KIEM_TRA"], 1..3),
            -5i64..5,
            proptest::option::of(1i64..10),
            proptest::option::of(1u32..4),
            1usize..4,
        )
            .prop_map(
                |(id, consumer, target, status, purposes, start, length, quota, width)| {
                    let base = at("2026-06-01T00:00:00Z");
                    let from = base + chrono::Duration::days(start);
                    Grant {
                        id,
                        consumer: system("000.00.12.H35", ["motcua", "baocao"][consumer as usize]),
                        target: if target == 0 {
                            service()
                        } else {
                            Target::Dataset {
                                id: DatasetId::parse("truong-hoc").unwrap(),
                            }
                        },
                        fields: GrantFields::new((0..width).map(|i| format!("/f{i}")).collect())
                            .unwrap(),
                        purposes: Purposes::new(
                            purposes
                                .iter()
                                .map(|p| PurposeCode::parse(p).unwrap())
                                .collect(),
                        )
                        .unwrap(),
                        validity: Validity::new(
                            from,
                            length.map(|days| from + chrono::Duration::days(days)),
                        )
                        .unwrap(),
                        status,
                        per_minute: quota.and_then(NonZeroU32::new),
                        basis: GrantBasis::Legal,
                    }
                },
            )
    }

    proptest! {
        /// Whatever the grants, a chosen grant is the consumer's, for the target, active, valid
        /// now, for the purpose, with quota left; and a refusal means no such grant exists.
        #[test]
        fn decide_serves_only_under_a_usable_grant(
            grants in proptest::collection::vec(any_grant(), 0..6),
            purpose in proptest::sample::select(vec!["TTHC", "THONG_KE", "KIEM_TRA"]),
            used in 0u32..4,
            offset in -7i64..12,
        ) {
            let consumer = system("000.00.12.H35", "motcua");
            let target = service();
            let now = at("2026-06-01T12:00:00Z") + chrono::Duration::days(offset);
            let attempt = Attempt { consumer: &consumer, target: &target, purpose: Some(purpose), at: now };
            let code = PurposeCode::parse(purpose).unwrap();
            let usable = |g: &Grant| g.consumer == consumer && g.target == target
                && g.status.is_active() && g.validity.contains(now) && g.purposes.contains(&code)
                && g.per_minute.is_none_or(|limit| used < limit.get());
            match decide(&grants, &attempt, |_| used) {
                Ok(chosen) => {
                    prop_assert!(usable(chosen));
                    let widest = grants.iter().filter(|g| usable(g)).map(|g| g.fields.len()).max();
                    prop_assert_eq!(Some(chosen.fields.len()), widest);
                }
                Err(_) => prop_assert!(!grants.iter().any(usable)),
            }
        }

        /// A terminated grant takes no step, and no step ever leaves a reasonless
        /// non-active status.
        #[test]
        fn terminated_is_final(status in any_status(), step in 0u8..3) {
            let step = match step {
                0 => GrantStep::Resume,
                1 => GrantStep::Suspend { reason: Text::parse("Lý do").unwrap() },
                _ => GrantStep::Terminate { reason: Text::parse("Lý do").unwrap() },
            };
            if let Ok(next) = status.take(step) {
                let was_terminated = matches!(status, GrantStatus::Terminated { .. });
                prop_assert!(!was_terminated);
                prop_assert_eq!(next.is_active(), next.reason().is_none());
            }
        }
    }
}
