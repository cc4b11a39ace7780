//! The reminder of the annual report's deadline (Q17.6: the report reaches the People's
//! Committee *before 15 December every year*): from 1 November to the end of the year, until
//! the operator marks the year's report as sent.

use chrono::{Datelike, NaiveDate};

/// What the operator's console says about this year's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminder {
    /// The deadline is ahead (or today).
    Due {
        year: i32,
        deadline: NaiveDate,
        days_left: i64,
    },
    /// The deadline has passed and the report is not marked as sent.
    Late {
        year: i32,
        deadline: NaiveDate,
        days_late: i64,
    },
}

/// The deadline of `year`'s report: 15 December.
pub fn deadline(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 15).unwrap_or_default()
}

/// The reminder on `today` (Viet Nam's date), given whether this year's report was marked
/// sent; none before 1 November or once sent.
pub fn reminder(today: NaiveDate, submitted: bool) -> Option<Reminder> {
    let year = today.year();
    if submitted || today.month() < 11 {
        return None;
    }
    let deadline = deadline(year);
    let days = (deadline - today).num_days();
    Some(if days >= 0 {
        Reminder::Due {
            year,
            deadline,
            days_left: days,
        }
    } else {
        Reminder::Late {
            year,
            deadline,
            days_late: -days,
        }
    })
}

impl Reminder {
    pub fn year(&self) -> i32 {
        match self {
            Reminder::Due { year, .. } | Reminder::Late { year, .. } => *year,
        }
    }

    pub fn is_late(&self) -> bool {
        matches!(self, Reminder::Late { .. })
    }

    /// The sentence the console shows.
    pub fn message(&self) -> String {
        match self {
            Reminder::Due {
                year,
                deadline,
                days_left: 0,
            } => format!(
                "Hôm nay ({}) là hạn cuối gửi Ủy ban nhân dân tỉnh báo cáo tình hình thực hiện \
                 Quy chế năm {year}.",
                deadline.format("%d/%m/%Y")
            ),
            Reminder::Due {
                year,
                deadline,
                days_left,
            } => format!(
                "Báo cáo tình hình thực hiện Quy chế năm {year} phải gửi Ủy ban nhân dân tỉnh \
                 trước ngày {} (còn {days_left} ngày).",
                deadline.format("%d/%m/%Y")
            ),
            Reminder::Late {
                year,
                deadline,
                days_late,
            } => format!(
                "Báo cáo tình hình thực hiện Quy chế năm {year} đã quá hạn gửi Ủy ban nhân dân \
                 tỉnh ({}, trễ {days_late} ngày) và chưa được đánh dấu đã gửi.",
                deadline.format("%d/%m/%Y")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn q17_6_the_reminder_runs_from_1_november_until_sent() {
        assert_eq!(reminder(day("2026-10-31"), false), None);
        assert_eq!(
            reminder(day("2026-11-01"), false),
            Some(Reminder::Due {
                year: 2026,
                deadline: day("2026-12-15"),
                days_left: 44
            })
        );
        let last = reminder(day("2026-12-15"), false).unwrap();
        assert!(!last.is_late());
        assert!(last.message().contains("hạn cuối"), "{}", last.message());
        let late = reminder(day("2026-12-16"), false).unwrap();
        assert!(late.is_late());
        assert!(late.message().contains("quá hạn"), "{}", late.message());
        assert_eq!(reminder(day("2026-11-20"), true), None);
        assert_eq!(reminder(day("2027-01-02"), false), None);
    }
}
