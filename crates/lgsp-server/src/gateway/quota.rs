//! Grants' quotas taken in leases: a node takes a block of a grant's minute from the store at
//! once, atomically across nodes, and answers the next requests of that minute from it.
//!
//! A grant of `n` requests a minute is leased `n / 100` at a time (at least 1, at most 1 000),
//! so the store sees one write per block instead of one per request, and a quota of fewer than
//! 200 a minute is still counted request by request. Nodes never serve more than the quota
//! between them; what a node leased and did not use by the minute's end is lost, so several
//! busy nodes may refuse up to one block each before the quota is reached (at most 1 % of it
//! per node).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use lgsp_core::exchange::{quota_minute, Grant};
use lgsp_store::{Store, StoreError};

/// The most requests of one grant leased at once.
const MAX_LEASE: u32 = 1_000;

/// Requests of a grant's minute this node has leased and not used yet.
#[derive(Debug, Clone, Copy)]
struct Lease {
    minute: i64,
    left: u32,
}

/// This node's leases, by grant id.
#[derive(Default)]
pub struct QuotaLeases {
    leases: Mutex<HashMap<i64, Lease>>,
}

impl QuotaLeases {
    /// Counts one request under `grant` in the minute of `at`; `false` when its quota is used
    /// up (by this node and the others). A grant without a quota has nothing to count.
    pub async fn take(
        &self,
        store: &Store,
        grant: &Grant,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(per_minute) = grant.per_minute else {
            return Ok(true);
        };
        let minute = quota_minute(at);
        if let Some(lease) = self.lock().get_mut(&grant.id) {
            if lease.minute == minute && lease.left > 0 {
                lease.left -= 1;
                return Ok(true);
            }
        }
        let block = lease_size(per_minute);
        let taken = if block.get() > 1
            && store
                .take_quota(grant.id, Some(per_minute), at, block)
                .await?
        {
            block.get()
        } else if store
            .take_quota(grant.id, Some(per_minute), at, NonZeroU32::MIN)
            .await?
        {
            1
        } else {
            return Ok(false);
        };
        if taken > 1 {
            let mut leases = self.lock();
            let lease = leases.entry(grant.id).or_insert(Lease { minute, left: 0 });
            if lease.minute < minute {
                *lease = Lease { minute, left: 0 };
            }
            if lease.minute == minute {
                lease.left += taken - 1;
            }
        }
        Ok(true)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Lease>> {
        // Every update is a whole value: nothing is left half-written by a panic.
        self.leases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How many requests of a grant's minute a node leases at once.
fn lease_size(per_minute: NonZeroU32) -> NonZeroU32 {
    NonZeroU32::new((per_minute.get() / 100).clamp(1, MAX_LEASE)).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q13_1_small_quotas_are_counted_request_by_request() {
        let size = |n| lease_size(NonZeroU32::new(n).unwrap()).get();
        assert_eq!(size(1), 1);
        assert_eq!(size(60), 1);
        assert_eq!(size(199), 1);
        assert_eq!(size(200), 2);
        assert_eq!(size(6_000), 60);
        assert_eq!(size(100_000), 1_000);
        assert_eq!(size(10_000_000), 1_000);
    }
}
