//! Data quality: whether a dataset is kept up to date as often as its metadata promises (Q7.5),
//! and reports of errors in its data tracked to resolution (Q15.2.d, Q16.2.c; see
//! [`error_report`]).

pub mod error_report;

pub use error_report::{ReportState, ReportStep};

use chrono::{Days, Months, NaiveDate};
use serde::Serialize;

use crate::catalog::UpdateFrequency;

/// When a dataset's next update is due and whether that day has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Freshness {
    /// The last day on which the next update is on time; `None` for a dataset updated
    /// irregularly, which is never overdue.
    pub due_by: Option<NaiveDate>,
    /// The due day has passed without an update.
    pub stale: bool,
}

/// The next update of a dataset last changed on `last_change` (for a dataset never loaded, the
/// day it was published) with the promised `frequency`, as seen on `today`.
///
/// A continuously or daily updated dataset is due the day after its last change; weekly, seven
/// days after; monthly, quarterly and annually, one, three and twelve calendar months after
/// (clamped to the end of a shorter month: 31/01 → 28/02 or 29/02). It is stale from the day
/// after the due day.
pub fn freshness(
    frequency: UpdateFrequency,
    last_change: NaiveDate,
    today: NaiveDate,
) -> Freshness {
    let due_by = match frequency {
        UpdateFrequency::Continuous | UpdateFrequency::Daily => {
            last_change.checked_add_days(Days::new(1))
        }
        UpdateFrequency::Weekly => last_change.checked_add_days(Days::new(7)),
        UpdateFrequency::Monthly => last_change.checked_add_months(Months::new(1)),
        UpdateFrequency::Quarterly => last_change.checked_add_months(Months::new(3)),
        UpdateFrequency::Annual => last_change.checked_add_months(Months::new(12)),
        UpdateFrequency::Irregular => None,
    };
    Freshness {
        due_by,
        stale: due_by.is_some_and(|due| today > due),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// Due on `due`, fresh on it, stale the day after.
    fn boundary(frequency: UpdateFrequency, last: &str, due: &str) {
        let (last, due) = (day(last), day(due));
        let on_due = freshness(frequency, last, due);
        assert_eq!(on_due.due_by, Some(due), "{frequency:?}");
        assert!(!on_due.stale, "{frequency:?} is on time on its due day");
        assert!(!freshness(frequency, last, last).stale);
        let after = freshness(frequency, last, due.succ_opt().unwrap());
        assert!(
            after.stale,
            "{frequency:?} is stale the day after its due day"
        );
        assert_eq!(after.due_by, Some(due));
    }

    #[test]
    fn continuous_and_daily_are_due_the_next_day() {
        boundary(UpdateFrequency::Continuous, "2026-11-28", "2026-11-29");
        boundary(UpdateFrequency::Daily, "2026-12-31", "2027-01-01");
    }

    #[test]
    fn weekly_is_due_seven_days_later() {
        boundary(UpdateFrequency::Weekly, "2026-11-25", "2026-12-02");
    }

    #[test]
    fn monthly_is_due_a_calendar_month_later_clamped_to_the_month_end() {
        boundary(UpdateFrequency::Monthly, "2026-10-15", "2026-11-15");
        boundary(UpdateFrequency::Monthly, "2026-01-31", "2026-02-28");
        boundary(UpdateFrequency::Monthly, "2028-01-31", "2028-02-29");
    }

    #[test]
    fn quarterly_is_due_three_months_later() {
        boundary(UpdateFrequency::Quarterly, "2026-08-31", "2026-11-30");
        boundary(UpdateFrequency::Quarterly, "2026-11-29", "2027-02-28");
    }

    #[test]
    fn annual_is_due_twelve_months_later() {
        boundary(UpdateFrequency::Annual, "2025-11-29", "2026-11-29");
        boundary(UpdateFrequency::Annual, "2028-02-29", "2029-02-28");
    }

    #[test]
    fn irregular_is_never_due_nor_stale() {
        let f = freshness(
            UpdateFrequency::Irregular,
            day("2000-01-01"),
            day("2026-11-29"),
        );
        assert_eq!(
            f,
            Freshness {
                due_by: None,
                stale: false
            }
        );
    }
}
