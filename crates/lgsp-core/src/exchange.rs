//! The gateway's decision (DESIGN "The exchange"): may this consumer system, for this purpose,
//! at this instant, reach this service or dataset — and with which grant? A pure function of
//! the grants in force, so every refusal has one stable reason and suspension or termination
//! takes effect on the very next request (the caller passes the grants as stored now).
//!
//! Grants are created directly by an operator or provider, or by the sharing-request workflow;
//! `default`-mode resources are granted to any registered agency system on subscription.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::DatasetId;
use crate::text::ParseError;
use crate::SystemId;

/// Why an exchange is requested (`LGSP-Purpose`): an uppercase code such as `TTHC`
/// (administrative procedure) or `THONG_KE`, 2–32 of `[A-Z0-9_.-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Service {
        provider: SystemId,
        code: String,
        version: String,
    },
    Dataset {
        id: DatasetId,
    },
}

/// Where a grant stands. Suspension is reversible; termination is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Active,
    Suspended,
    Terminated,
}

/// A consumer system's access to a target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub id: i64,
    pub consumer: SystemId,
    pub target: Target,
    /// The fields (JSON pointers for services, field names for datasets) the consumer receives;
    /// the gateway drops everything else.
    pub fields: Vec<String>,
    /// Purposes this grant serves; the request's `LGSP-Purpose` must be one of them.
    pub purposes: Vec<PurposeCode>,
    pub valid_from: DateTime<Utc>,
    /// End of validity (exclusive); `None` for open-ended grants.
    pub valid_until: Option<DateTime<Utc>>,
    pub status: GrantStatus,
    /// Requests allowed per minute; `None` for no quota.
    pub per_minute: Option<u32>,
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
        .filter(|g| g.status == GrantStatus::Active)
        .collect();
    if active.is_empty() {
        return Err(if mine.iter().any(|g| g.status == GrantStatus::Suspended) {
            Refusal::Suspended
        } else {
            Refusal::Terminated
        });
    }
    let valid: Vec<&Grant> = active
        .into_iter()
        .filter(|g| g.valid_from <= attempt.at && g.valid_until.is_none_or(|end| attempt.at < end))
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
                .is_none_or(|limit| used_this_minute(g.id) < limit)
        })
        .ok_or_else(|| Refusal::QuotaExceeded {
            retry_after_seconds: 60 - u64::from(attempt.at.timestamp().rem_euclid(60) as u32),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgencyCode, SystemCode};

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
            code: "tra-cuu-khai-sinh".into(),
            version: "v1".into(),
        }
    }

    fn grant(id: i64) -> Grant {
        Grant {
            id,
            consumer: system("000.00.12.H35", "motcua"),
            target: service(),
            fields: vec!["/ho_ten".into()],
            purposes: vec![PurposeCode::parse("TTHC").unwrap()],
            valid_from: at("2026-01-01T00:00:00Z"),
            valid_until: Some(at("2027-01-01T00:00:00Z")),
            status: GrantStatus::Active,
            per_minute: Some(2),
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
            status: GrantStatus::Suspended,
            ..grant(1)
        }];
        assert_eq!(
            decide_at(&suspended, Some("TTHC"), now, 0),
            Err(Refusal::Suspended)
        );
        let terminated = vec![Grant {
            status: GrantStatus::Terminated,
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
            fields: vec!["/ho_ten".into(), "/ngay_sinh".into()],
            ..grant(2)
        };
        let grants = vec![
            grant(1),
            wide.clone(),
            Grant {
                status: GrantStatus::Suspended,
                fields: vec![],
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
}
