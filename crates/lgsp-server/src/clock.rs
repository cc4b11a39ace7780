//! The platform's clock: the system time, or a time a test sets, for what depends on the date
//! (the annual report's reminder from 1 November, Q17.6).

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// Shared by every clone of the application state, so a test that sets the time sets it for
/// the running server.
#[derive(Clone, Default)]
pub struct Clock(Arc<RwLock<Option<DateTime<Utc>>>>);

impl Clock {
    /// The current time: the system's, unless one was set.
    pub fn now(&self) -> DateTime<Utc> {
        self.0
            .read()
            .ok()
            .and_then(|set| *set)
            .unwrap_or_else(lgsp_store::now)
    }

    /// Stops the clock at `at` (`None`: back to the system time). For tests.
    pub fn set(&self, at: Option<DateTime<Utc>>) {
        if let Ok(mut set) = self.0.write() {
            *set = at;
        }
    }
}
