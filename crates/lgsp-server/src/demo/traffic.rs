//! A year of generated traffic for the demo province (`lgsp bench-traffic`, used by
//! `bench/dashboard.sh`): exchange leaves between the demo systems and every service and
//! dataset of the demo catalog, appended through the store's own path (`Store::append_log`,
//! with their index rows and daily rollups) in large batches, their times spread over the
//! period. Not for a platform in service: the leaves are not signed by any request.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::exchange::Target;
use lgsp_core::SystemId;
use lgsp_store::{ServiceFilter, Store};

use crate::gateway::audit::ExchangeLeaf;
use crate::transparency::canonical_json;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub entries: u64,
    /// Days of traffic, ending with `last_day` (Viet Nam).
    pub days: u32,
    pub last_day: NaiveDate,
    pub batch: usize,
}

/// A small, fast, deterministic generator (xorshift64*).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// An index below `n`, skewed towards the first ones (a few targets carry most traffic).
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * n as f64) as usize).min(n - 1)
    }
}

/// Appends `plan.entries` exchange leaves; prints progress on stderr.
pub async fn generate(store: &Store, plan: Plan) -> anyhow::Result<()> {
    let consumers: Vec<SystemId> = store
        .list_systems(None)
        .await?
        .into_iter()
        .map(|s| SystemId {
            agency: s.agency,
            code: s.code,
        })
        .collect();
    let mut targets: Vec<(Target, Option<String>)> = store
        .list_services(&ServiceFilter::default())
        .await?
        .into_iter()
        .map(|s| {
            (
                Target::Service {
                    provider: s.provider,
                    code: s.code,
                    version: s.version,
                },
                None,
            )
        })
        .collect();
    for version in store.catalog_as_of(plan.last_day).await? {
        for dataset in &version.content.datasets {
            targets.push((
                Target::Dataset {
                    id: DatasetId::parse(dataset.id.as_str())?,
                },
                Some(version.content.owner.to_string()),
            ));
        }
    }
    anyhow::ensure!(
        !consumers.is_empty() && !targets.is_empty(),
        "load the demo province first (systems, services, catalog)"
    );
    let vietnam = lgsp_core::calendar::VIETNAM;
    let end: DateTime<Utc> = (plan.last_day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(vietnam).single())
        .context("the last day")?
        .with_timezone(&Utc);
    let span_micros = i64::from(plan.days) * 86_400_000_000;
    let start = end - Duration::microseconds(span_micros);
    let step = span_micros as f64 / plan.entries.max(1) as f64;
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let started = std::time::Instant::now();
    let mut done = 0u64;
    while done < plan.entries {
        let count = (plan.entries - done).min(plan.batch as u64);
        let mut entries = Vec::with_capacity(count as usize);
        let mut exchanges = Vec::with_capacity(count as usize);
        for offset in 0..count {
            let n = done + offset;
            let at = start + Duration::microseconds((n as f64 * step) as i64);
            let (target, owner) = &targets[random.skewed(targets.len())];
            let consumer = &consumers[(random.next() % consumers.len() as u64) as usize];
            let mut leaf = ExchangeLeaf::new(at, &format!("bench-{n:012}"), "GET", None);
            leaf.consumer = Some(consumer.clone());
            leaf.target = Some(target.clone());
            leaf.dataset_owner = owner.clone();
            leaf.purpose = Some("TTHC".into());
            let roll = random.next() % 1000;
            (leaf.status, leaf.refusal) = match roll {
                0..=14 => (403, Some("no_grant")),
                15..=19 => (429, Some("quota_exceeded")),
                20..=24 => (400, Some("purpose_required")),
                25..=29 => (502, Some("upstream_unreachable")),
                30..=31 => (504, Some("upstream_timeout")),
                _ => (200, None),
            };
            // Latency: mostly a few milliseconds, with a long tail.
            let base = 1_500 + random.next() % 8_000;
            let tail = match random.next() % 100 {
                0 => 200_000 + random.next() % 800_000,
                1..=5 => 20_000 + random.next() % 80_000,
                _ => 0,
            };
            leaf.latency_micros = base + tail;
            leaf.response_bytes = if leaf.refusal.is_none() {
                512 + random.next() % 8_192
            } else {
                300
            };
            entries.push(canonical_json(&leaf.to_json()).into_bytes());
            let mut entry = leaf.entry();
            entry.log_index = offset as i64;
            exchanges.push(entry);
        }
        store.append_log(&entries, &exchanges).await?;
        done += count;
        if done % (plan.batch as u64 * 20) == 0 || done == plan.entries {
            eprintln!(
                "{done} leaves, {:.0} leaves/s",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
