//! Grants of consumer systems on services and hosted datasets (Q13.1, Q8.4, Q15.1.c), their
//! status history and the counters of their quotas.

use std::collections::HashMap;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::exchange::{
    quota_minute, Grant, GrantBasis, GrantFields, GrantSource, GrantStatus, Purposes, Target,
    Validity,
};
use lgsp_core::service::{ServiceCode, ServiceVersion};
use lgsp_core::{AgencyCode, SystemCode, SystemId, Text};
use serde::Serialize;
use sqlx::types::Json;

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// What a new grant is on: a registered service (by id) or a hosted dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantOn {
    Service(i64),
    Dataset(DatasetId),
}

/// A grant to be created; the caller has checked fields against what the provider shares.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub consumer: SystemId,
    pub provider: AgencyCode,
    pub on: GrantOn,
    pub fields: GrantFields,
    pub purposes: Purposes,
    pub validity: Validity,
    pub per_minute: Option<NonZeroU32>,
    pub source: GrantSource,
    pub basis: GrantBasis,
}

/// A stored grant: the core's [`Grant`] with who provides it, where it came from and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantRecord {
    #[serde(flatten)]
    pub grant: Grant,
    /// The provider agency.
    pub provider: AgencyCode,
    /// The service's id when the target is a service.
    pub service_id: Option<i64>,
    pub source: GrantSource,
    /// When the provider expects to resume a suspended grant: shown to the consumer; the
    /// grant stays suspended until it is resumed.
    pub suspended_until: Option<DateTime<Utc>>,
    /// The suspension of every grant on the resource that suspended this one, if one did.
    pub suspension_id: Option<i64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One status a grant took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantEvent {
    /// `None` when the grant was created.
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// Which grants to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    pub consumer: Option<SystemId>,
    pub consumer_agency: Option<AgencyCode>,
    pub provider: Option<AgencyCode>,
    pub service_id: Option<i64>,
    pub dataset: Option<DatasetId>,
    /// `active`, `suspended` or `terminated`.
    pub status: Option<String>,
    /// `direct`, `subscription` or `request`.
    pub source: Option<String>,
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: i64,
    consumer_agency: String,
    consumer_code: String,
    provider_code: String,
    service_id: Option<i64>,
    service_agency: Option<String>,
    service_system: Option<String>,
    service_code: Option<String>,
    service_version: Option<String>,
    dataset_id: Option<String>,
    fields: Json<Vec<String>>,
    purposes: Json<Purposes>,
    valid_from: Timestamp,
    valid_until: Option<Timestamp>,
    per_minute: Option<i64>,
    status: String,
    status_reason: Option<String>,
    source: String,
    request_id: Option<i64>,
    suspended_until: Option<Timestamp>,
    suspension_id: Option<i64>,
    basis: String,
    created_by: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<GrantRow> for GrantRecord {
    type Error = StoreError;
    fn try_from(row: GrantRow) -> Result<Self> {
        let target = match (
            row.service_agency,
            row.service_system,
            row.service_code,
            row.service_version,
            row.dataset_id,
        ) {
            (Some(agency), Some(system), Some(code), Some(version), None) => Target::Service {
                provider: SystemId {
                    agency: AgencyCode::parse(agency)?,
                    code: SystemCode::parse(system)?,
                },
                code: ServiceCode::parse(code)?,
                version: ServiceVersion::parse(version)?,
            },
            (None, None, None, None, Some(dataset)) => Target::Dataset {
                id: DatasetId::parse(dataset)?,
            },
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "grant {} has no target",
                    row.id
                )))
            }
        };
        let per_minute = row
            .per_minute
            .map(|n| {
                u32::try_from(n)
                    .ok()
                    .and_then(NonZeroU32::new)
                    .ok_or_else(|| StoreError::Corrupt(format!("quota {n}")))
            })
            .transpose()?;
        Ok(Self {
            grant: Grant {
                id: row.id,
                consumer: SystemId {
                    agency: AgencyCode::parse(&row.consumer_agency)?,
                    code: SystemCode::parse(&row.consumer_code)?,
                },
                target,
                fields: GrantFields::new(row.fields.0)?,
                purposes: row.purposes.0,
                validity: Validity::new(row.valid_from, row.valid_until)?,
                status: GrantStatus::from_parts(&row.status, row.status_reason)?,
                per_minute,
                basis: GrantBasis::parse(&row.basis)?,
            },
            provider: AgencyCode::parse(&row.provider_code)?,
            service_id: row.service_id,
            source: GrantSource::from_parts(&row.source, row.request_id)?,
            suspended_until: row.suspended_until,
            suspension_id: row.suspension_id,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SELECT_GRANT: &str = "
    SELECT g.id, ca.code AS consumer_agency, cs.code AS consumer_code, g.provider_code,
           g.service_id, pa.code AS service_agency, ps.code AS service_system,
           v.code AS service_code, v.version AS service_version, g.dataset_id, g.fields,
           g.purposes, g.valid_from, g.valid_until, g.per_minute, g.status, g.status_reason,
           g.source, g.request_id, g.suspended_until, g.suspension_id, g.basis, g.created_by,
           g.created_at, g.updated_at
    FROM grants g
    JOIN systems cs ON cs.id = g.consumer_system_id
    JOIN agencies ca ON ca.id = cs.agency_id
    LEFT JOIN services v ON v.id = g.service_id
    LEFT JOIN systems ps ON ps.id = v.system_id
    LEFT JOIN agencies pa ON pa.id = ps.agency_id";

/// Records a status event inside the transaction `$tx`.
macro_rules! insert_event {
    ($tx:expr, $id:expr, $from:expr, $to:expr, $reason:expr, $actor:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO grant_events (grant_id, from_status, to_status, reason, actor, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($id)
        .bind($from)
        .bind($to)
        .bind($reason)
        .bind($actor)
        .bind($at)
        .execute(&mut *$tx)
        .await?
    };
}

/// Inserts the active grant `$new` (a [`NewGrant`]) of the consumer system row `$consumer_id`
/// and the first entry of its history inside the transaction `$tx`; evaluates to its id.
macro_rules! insert_grant_row {
    ($tx:expr, $new:expr, $consumer_id:expr, $actor:expr, $at:expr) => {{
        let new: &$crate::grants::NewGrant = $new;
        let (service_id, dataset_id) = match &new.on {
            $crate::grants::GrantOn::Service(id) => (Some(*id), None),
            $crate::grants::GrantOn::Dataset(id) => (None, Some(id.as_str())),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO grants (consumer_system_id, provider_code, service_id, dataset_id,
                 fields, purposes, valid_from, valid_until, per_minute, status, source,
                 request_id, created_by, created_at, updated_at, basis)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $12, $13, $13, $14)
             RETURNING id",
        )
        .bind($consumer_id)
        .bind(new.provider.as_str())
        .bind(service_id)
        .bind(dataset_id)
        .bind(sqlx::types::Json(&new.fields))
        .bind(sqlx::types::Json(&new.purposes))
        .bind(new.validity.from)
        .bind(new.validity.until)
        .bind(new.per_minute.map(|n| i64::from(n.get())))
        .bind(new.source.as_str())
        .bind(new.source.request_id())
        .bind($actor)
        .bind($at)
        .bind(new.basis.as_str())
        .fetch_one(&mut *$tx)
        .await
        .map_err($crate::StoreError::on_constraint("grant"))?;
        sqlx::query(
            "INSERT INTO grant_events (grant_id, from_status, to_status, reason, actor, at)
             VALUES ($1, NULL, 'active', NULL, $2, $3)",
        )
        .bind(id)
        .bind($actor)
        .bind($at)
        .execute(&mut *$tx)
        .await?;
        id
    }};
}
pub(crate) use insert_grant_row;

#[derive(sqlx::FromRow)]
struct EventRow {
    from_status: Option<String>,
    to_status: String,
    reason: Option<String>,
    actor: String,
    at: Timestamp,
}

impl Store {
    /// Creates an active grant and the first entry of its history.
    pub async fn insert_grant(&self, new: &NewGrant, actor: &str) -> Result<GrantRecord> {
        let consumer_id = self.system_row_id(&new.consumer).await?;
        let at = now();
        let id: i64 = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id = insert_grant_row!(tx, new, consumer_id, actor, at);
            tx.commit().await?;
            id
        });
        self.get_grant(id).await
    }

    pub async fn get_grant(&self, id: i64) -> Result<GrantRecord> {
        let row: Option<GrantRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_GRANT} WHERE g.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("grant"))?.try_into()
    }

    /// Grants matching `filter`, newest first.
    pub async fn list_grants(&self, filter: &GrantFilter) -> Result<Vec<GrantRecord>> {
        let rows: Vec<GrantRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_GRANT}
                 WHERE ($1 IS NULL OR ca.code = $1) AND ($2 IS NULL OR cs.code = $2)
                   AND ($3 IS NULL OR ca.code = $3) AND ($4 IS NULL OR g.provider_code = $4)
                   AND ($5 IS NULL OR g.service_id = $5) AND ($6 IS NULL OR g.dataset_id = $6)
                   AND ($7 IS NULL OR g.status = $7) AND ($8 IS NULL OR g.source = $8)
                 ORDER BY g.id DESC"
            ))
            .bind(filter.consumer.as_ref().map(|c| c.agency.as_str()))
            .bind(filter.consumer.as_ref().map(|c| c.code.as_str()))
            .bind(filter.consumer_agency.as_ref().map(AgencyCode::as_str))
            .bind(filter.provider.as_ref().map(AgencyCode::as_str))
            .bind(filter.service_id)
            .bind(filter.dataset.as_ref().map(DatasetId::as_str))
            .bind(filter.status.as_deref())
            .bind(filter.source.as_deref())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(GrantRecord::try_from).collect()
    }

    /// Every grant of `consumer` on `target`, in any status, as the gateway's decision takes
    /// them ([`lgsp_core::exchange::decide`]). Read per request, so a suspension or
    /// termination takes effect at once.
    pub async fn grants_for(&self, consumer: &SystemId, target: &Target) -> Result<Vec<Grant>> {
        let (service, dataset) = match target {
            Target::Service {
                provider,
                code,
                version,
            } => (Some((provider, code, version)), None),
            Target::Dataset { id } => (None, Some(id)),
        };
        let rows: Vec<GrantRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_GRANT}
                 WHERE ca.code = $1 AND cs.code = $2
                   AND (($3 IS NOT NULL AND pa.code = $3 AND ps.code = $4 AND v.code = $5
                         AND v.version = $6)
                        OR ($7 IS NOT NULL AND g.dataset_id = $7))
                 ORDER BY g.id"
            ))
            .bind(consumer.agency.as_str())
            .bind(consumer.code.as_str())
            .bind(service.map(|(p, _, _)| p.agency.as_str()))
            .bind(service.map(|(p, _, _)| p.code.as_str()))
            .bind(service.map(|(_, c, _)| c.as_str()))
            .bind(service.map(|(_, _, v)| v.as_str()))
            .bind(dataset.map(DatasetId::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|row| GrantRecord::try_from(row).map(|r| r.grant))
            .collect()
    }

    /// Moves a grant from status `from` to `to` with the history entry, atomically: if another
    /// request changed the status first, nothing changes and the answer is a conflict. `until`
    /// is the planned end of a suspension; any step leaves the grant outside a resource-wide
    /// suspension.
    pub async fn move_grant(
        &self,
        id: i64,
        from: &GrantStatus,
        to: &GrantStatus,
        until: Option<DateTime<Utc>>,
        actor: &str,
    ) -> Result<GrantRecord> {
        let at = now();
        let reason = to.reason().map(Text::as_str);
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE grants SET status = $3, status_reason = $4, updated_at = $5,
                     suspended_until = $6, suspension_id = NULL
                 WHERE id = $1 AND status = $2",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(reason)
            .bind(at)
            .bind(until)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "grant {id} is no longer {}",
                    from.as_str()
                )));
            }
            insert_event!(tx, id, Some(from.as_str()), to.as_str(), reason, actor, at);
            tx.commit().await?;
        });
        self.get_grant(id).await
    }

    /// A grant's statuses, oldest first.
    pub async fn grant_events(&self, id: i64) -> Result<Vec<GrantEvent>> {
        let rows: Vec<EventRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT from_status, to_status, reason, actor, at FROM grant_events
                 WHERE grant_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| GrantEvent {
                from_status: r.from_status,
                to_status: r.to_status,
                reason: r.reason,
                actor: r.actor,
                at: r.at,
            })
            .collect())
    }

    /// How many requests each of `grants` served in the minute of `at`: the counter
    /// [`lgsp_core::exchange::decide`] takes. Grants without use are absent.
    pub async fn grant_usage(
        &self,
        grants: &[i64],
        at: DateTime<Utc>,
    ) -> Result<HashMap<i64, u32>> {
        if grants.is_empty() {
            return Ok(HashMap::new());
        }
        // A consumer holds a handful of grants on one target: one placeholder each.
        let placeholders: Vec<String> = (2..grants.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT grant_id, count FROM grant_usage WHERE minute = $1 AND grant_id IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<(i64, i64)> = on_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql).bind(quota_minute(at));
            for id in grants {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, count)| (id, u32::try_from(count).unwrap_or(u32::MAX)))
            .collect())
    }

    /// Counts `units` requests under `grant` in the minute of `at` if they all fit in the
    /// grant's quota (`None`: no quota), atomically across nodes; `false` when they do not, in
    /// which case nothing is counted. A node may take several units at once and answer the
    /// next requests from them (see the gateway's quota leases).
    pub async fn take_quota(
        &self,
        grant: i64,
        per_minute: Option<NonZeroU32>,
        at: DateTime<Utc>,
        units: NonZeroU32,
    ) -> Result<bool> {
        let limit = per_minute.map_or(i64::MAX, |n| i64::from(n.get()));
        let units = i64::from(units.get());
        if units > limit {
            return Ok(false);
        }
        let counted: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO grant_usage (grant_id, minute, count) VALUES ($1, $2, $4)
                 ON CONFLICT (grant_id, minute) DO UPDATE SET count = grant_usage.count + $4
                 WHERE grant_usage.count + $4 <= $3
                 RETURNING count",
            )
            .bind(grant)
            .bind(quota_minute(at))
            .bind(limit)
            .bind(units)
            .fetch_optional(pool)
            .await?
        });
        Ok(counted.is_some())
    }

    /// The revision of everything an exchange is decided on — agencies, systems, clients,
    /// services and grants — which any change to them moves forward (migration
    /// `0014_access_revision`). What was read at one revision stays true until it moves.
    pub async fn access_revision(&self) -> Result<i64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT revision FROM access_revision WHERE id = 1")
                .fetch_one(pool)
                .await?
        }))
    }

    /// A connection of its own for reading the access revision over and over (the gateway
    /// reads it for every request): each read then costs the query alone, not a trip through
    /// the pool.
    pub async fn revision_reader(&self) -> Result<RevisionReader> {
        Ok(match &self.pool {
            crate::Pool::Sqlite(pool) => RevisionReader::Sqlite(pool.acquire().await?),
            crate::Pool::Postgres(pool) => RevisionReader::Postgres(pool.acquire().await?),
        })
    }

    /// Forgets quota counters of minutes before `before`; returns how many rows went.
    pub async fn prune_grant_usage(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(on_pool!(self, |pool| {
            sqlx::query("DELETE FROM grant_usage WHERE minute < $1")
                .bind(quota_minute(before))
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}

/// A connection held for reading the access revision ([`Store::revision_reader`]). After an
/// error, take a new one: the connection may be broken.
pub enum RevisionReader {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl RevisionReader {
    /// The access revision now, as [`Store::access_revision`] reads it.
    pub async fn read(&mut self) -> Result<i64> {
        const SQL: &str = "SELECT revision FROM access_revision WHERE id = 1";
        Ok(match self {
            Self::Sqlite(conn) => sqlx::query_scalar(SQL).fetch_one(&mut **conn).await?,
            Self::Postgres(conn) => sqlx::query_scalar(SQL).fetch_one(&mut **conn).await?,
        })
    }
}
