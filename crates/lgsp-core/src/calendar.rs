//! Working days: the unit of every deadline the regulation sets for a party to answer (a
//! sharing request, a ticket, a usage report, the notice of planned maintenance).
//!
//! A working day is a Monday to Friday in Vietnam that is not a holiday the operator configured
//! (Tết and the other public holidays move with the lunar calendar and with each year's
//! government decision on days off, so they are configuration, not code).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc, Weekday};

/// Vietnam's one time zone, UTC+7 (no daylight saving).
pub const VIETNAM: FixedOffset = match FixedOffset::east_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+7 is a valid offset"),
};

/// The calendar of one province: weekends and configured holidays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self {
            holidays: holidays.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// The deadline for an answer due `days` working days after `from`: the end (midnight in
    /// Vietnam) of the `days`-th working day after the day `from` falls on. The day something
    /// arrives does not count, as in the regulation's "within 5 working days of receipt".
    pub fn deadline(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let mut day = from.with_timezone(&VIETNAM).date_naive();
        let mut left = days;
        while left > 0 {
            day = day.succ_opt().expect("dates within chrono's range");
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        let end = day.succ_opt().expect("dates within chrono's range");
        end.and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_local_timezone(VIETNAM)
            .single()
            .expect("a fixed offset has one midnight")
            .with_timezone(&Utc)
    }

    /// Working days strictly after `from`'s day up to and including `to`'s day, in Vietnam;
    /// zero when `to` is not later. "Announced 7 working days ahead" means this is at least 7.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
        let mut day = from.with_timezone(&VIETNAM).date_naive();
        let last = to.with_timezone(&VIETNAM).date_naive();
        let mut count = 0;
        while day < last {
            day += Duration::days(1);
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekends_and_holidays_are_not_working_days() {
        let calendar = WorkCalendar::new([date("2026-09-02")]);
        assert!(calendar.is_working_day(date("2026-09-01")));
        assert!(
            !calendar.is_working_day(date("2026-09-02")),
            "a configured holiday"
        );
        assert!(!calendar.is_working_day(date("2026-09-05")), "Saturday");
        assert!(!calendar.is_working_day(date("2026-09-06")), "Sunday");
    }

    #[test]
    fn deadline_counts_working_days_after_the_day_of_receipt() {
        let calendar = WorkCalendar::default();
        // Received Thursday 26/11/2026 at 15:00 in Vietnam: Fri, Mon, Tue, Wed, Thu → end of
        // Thursday 03/12.
        let deadline = calendar.deadline(at("2026-11-26T15:00:00+07:00"), 5);
        assert_eq!(deadline, at("2026-12-04T00:00:00+07:00"));
    }

    #[test]
    fn deadline_skips_holidays_and_uses_vietnamese_dates() {
        // 18:00 UTC on Monday is already 01:00 on Tuesday in Vietnam.
        let calendar = WorkCalendar::new([date("2026-09-02")]);
        let deadline = calendar.deadline(at("2026-08-31T18:00:00Z"), 2);
        // Tuesday 01/09 in Vietnam; then Wed 02/09 (holiday), Thu 03/09, Fri 04/09.
        assert_eq!(deadline, at("2026-09-05T00:00:00+07:00"));
    }

    #[test]
    fn working_days_between_counts_the_notice_period() {
        let calendar = WorkCalendar::new([date("2026-12-01")]);
        let from = at("2026-11-27T09:00:00+07:00"); // Friday
        assert_eq!(
            calendar.working_days_between(from, at("2026-12-07T08:00:00+07:00")),
            5
        );
        assert_eq!(
            calendar.working_days_between(from, at("2026-12-09T08:00:00+07:00")),
            7
        );
        assert_eq!(calendar.working_days_between(from, from), 0);
        assert_eq!(
            calendar.working_days_between(from, at("2026-11-20T09:00:00+07:00")),
            0
        );
    }
}
