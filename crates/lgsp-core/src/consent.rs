//! A data subject's consent (*sự đồng ý của chủ thể dữ liệu*, Decree 13/2023 art. 11; Q15.2.h,
//! Q7.4): a citizen authorises a provider agency to share their records in one service or
//! dataset with one consumer agency (optionally one of its systems), for one purpose, until a
//! date. It is revocable at any moment (art. 12); a revoked or lapsed consent lets nothing
//! through.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::exchange::PurposeCode;
use crate::text::Text;

/// Vietnam's offset: a consent "until 31/12/2026" runs to the end of that day there.
fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The day it is in Vietnam at `at`.
pub fn vietnam_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&vietnam()).date_naive()
}

/// What a consent is for: a purpose code, as exchanges name it in `LGSP-Purpose`, and the
/// purpose in words, as the citizen reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentPurpose {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "TTHC"))]
    pub code: PurposeCode,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub text: Text,
}

/// How long a consent runs: from when it is given to the end of its last day (Vietnam time),
/// exclusive. The last day cannot be before the day it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentTerm {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// A last day already past.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the consent's last day {until} is before today ({today})")]
pub struct PastDate {
    pub until: NaiveDate,
    pub today: NaiveDate,
}

impl ConsentTerm {
    /// A consent given at `now` with `last_day` as its last day.
    pub fn new(now: DateTime<Utc>, last_day: NaiveDate) -> Result<Self, PastDate> {
        let today = vietnam_date(now);
        if last_day < today {
            return Err(PastDate {
                until: last_day,
                today,
            });
        }
        let next = last_day.succ_opt().unwrap_or(NaiveDate::MAX);
        let until = vietnam()
            .from_local_datetime(&next.and_time(NaiveTime::MIN))
            .single()
            .map_or(DateTime::<Utc>::MAX_UTC, |t| t.with_timezone(&Utc));
        Ok(Self { from: now, until })
    }
}

/// Where a consent stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// In force: exchanges it covers go through.
    Active,
    /// Its last day has passed.
    Expired,
    /// The citizen withdrew it.
    Revoked,
}

impl ConsentState {
    /// The state of a consent ending at `until`, revoked or not, at `at`.
    pub fn at(until: DateTime<Utc>, revoked: bool, at: DateTime<Utc>) -> Self {
        if revoked {
            Self::Revoked
        } else if at >= until {
            Self::Expired
        } else {
            Self::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Active => "Đang hiệu lực",
            Self::Expired => "Đã hết hạn",
            Self::Revoked => "Đã rút lại",
        }
    }
}

/// Whether `consent_fields` cover every field a grant opens: for a service, each granted JSON
/// pointer within one consented (`/dia_chi/tinh` within `/dia_chi`); for a dataset, each
/// granted field name among the consented ones.
pub fn covers(consent_fields: &[String], granted: &[String], service: bool) -> bool {
    granted.iter().all(|field| {
        consent_fields.iter().any(|consented| {
            if service {
                match (
                    crate::service::JsonPointer::parse(field),
                    crate::service::JsonPointer::parse(consented),
                ) {
                    (Ok(f), Ok(c)) => f.is_within(&c),
                    _ => false,
                }
            } else {
                field == consented
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn q15_2_h_a_consent_runs_to_the_end_of_its_last_day_in_vietnam() {
        // 20:00 UTC on 31/05 is 03:00 on 01/06 in Vietnam.
        let now = at("2026-05-31T20:00:00Z");
        assert!(ConsentTerm::new(now, NaiveDate::from_ymd_opt(2026, 5, 31).unwrap()).is_err());
        let today = ConsentTerm::new(now, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()).unwrap();
        assert_eq!(today.until, at("2026-06-01T17:00:00Z"));
        assert_eq!(
            ConsentState::at(today.until, false, at("2026-06-01T16:59:59Z")),
            ConsentState::Active
        );
        assert_eq!(
            ConsentState::at(today.until, false, today.until),
            ConsentState::Expired
        );
        assert_eq!(
            ConsentState::at(today.until, true, now),
            ConsentState::Revoked
        );
    }

    #[test]
    fn q15_2_h_consented_fields_cover_the_grant() {
        let consent = vec!["/ho_ten".to_owned(), "/dia_chi".to_owned()];
        assert!(covers(&consent, &["/dia_chi/tinh".into()], true));
        assert!(covers(
            &consent,
            &["/ho_ten".into(), "/dia_chi".into()],
            true
        ));
        assert!(!covers(&consent, &["/ngay_sinh".into()], true));
        assert!(!covers(&consent, &["/ho".into()], true));
        let columns = vec!["ho_ten".to_owned()];
        assert!(covers(&columns, &["ho_ten".into()], false));
        assert!(!covers(&columns, &["ngay_sinh".into()], false));
    }
}
