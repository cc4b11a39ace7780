//! Citizens' consents (Q15.2.h; Decree 13/2023 art. 11–12, migration `0017_consents`): given
//! and revoked by the citizen, read by the gateway on each exchange under consent.

use chrono::{DateTime, Utc};
use lgsp_core::consent::{ConsentPurpose, ConsentState, ConsentTerm};
use lgsp_core::exchange::{GrantFields, PurposeCode};
use lgsp_core::{AgencyCode, CitizenId, SystemCode, Text, Username};
use serde::Serialize;
use sqlx::types::Json;

use crate::grants::GrantOn;
use crate::sharing_requests::RequestTarget;
use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// A consent to store; the caller has checked the resource, its provider, the consumer and the
/// fields, and hashed the citizen's identity number with the gateway's salt.
#[derive(Debug, Clone)]
pub struct NewConsent {
    pub subject: Username,
    pub subject_hash: String,
    pub provider: AgencyCode,
    pub target: RequestTarget,
    pub consumer: AgencyCode,
    /// One system of the consumer agency, or any of them.
    pub consumer_system: Option<SystemCode>,
    pub fields: GrantFields,
    pub purpose: ConsentPurpose,
    pub term: ConsentTerm,
}

/// A stored consent with the names people read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: i64,
    pub subject: Username,
    pub subject_name: Text,
    pub citizen_id: Option<CitizenId>,
    /// The salted hash of the identity number the consent was given with.
    pub subject_hash: String,
    pub provider: AgencyCode,
    pub provider_name: String,
    pub target: RequestTarget,
    /// The service's name, or the dataset's id.
    pub target_name: String,
    pub consumer: AgencyCode,
    pub consumer_name: String,
    pub consumer_system: Option<SystemCode>,
    pub fields: GrantFields,
    pub purpose: ConsentPurpose,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Consent {
    pub fn state(&self, at: DateTime<Utc>) -> ConsentState {
        ConsentState::at(self.valid_until, self.revoked_at.is_some(), at)
    }
}

/// Which consents to list: a citizen's own, or those concerning an agency on either side.
#[derive(Debug, Clone)]
pub enum ConsentFilter {
    Subject(Username),
    Agency(AgencyCode),
}

/// What a live consent says, as the gateway checks it against the grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveConsent {
    pub id: i64,
    pub fields: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: i64,
    username: String,
    full_name: String,
    citizen_id: Option<String>,
    subject_hash: String,
    provider_code: String,
    provider_name: String,
    service_id: Option<i64>,
    service_name: Option<String>,
    dataset_id: Option<String>,
    consumer_code: String,
    consumer_name: String,
    consumer_system: Option<String>,
    fields: Json<Vec<String>>,
    purpose_code: String,
    purpose_text: String,
    valid_from: Timestamp,
    valid_until: Timestamp,
    revoked_at: Option<Timestamp>,
    created_at: Timestamp,
}

impl TryFrom<ConsentRow> for Consent {
    type Error = StoreError;
    fn try_from(row: ConsentRow) -> Result<Self> {
        let (target, target_name) = match (row.service_id, row.dataset_id) {
            (Some(id), None) => (
                RequestTarget::Service { id },
                row.service_name.unwrap_or_default(),
            ),
            (None, Some(id)) => (
                RequestTarget::Dataset {
                    id: lgsp_core::catalog::DatasetId::parse(&id)?,
                },
                id,
            ),
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "consent {} has no target",
                    row.id
                )))
            }
        };
        Ok(Self {
            id: row.id,
            subject: Username::parse(&row.username)?,
            subject_name: Text::parse(&row.full_name)?,
            citizen_id: row.citizen_id.map(CitizenId::parse).transpose()?,
            subject_hash: row.subject_hash,
            provider: AgencyCode::parse(&row.provider_code)?,
            provider_name: row.provider_name,
            target,
            target_name,
            consumer: AgencyCode::parse(&row.consumer_code)?,
            consumer_name: row.consumer_name,
            consumer_system: row.consumer_system.map(SystemCode::parse).transpose()?,
            fields: GrantFields::new(row.fields.0)?,
            purpose: ConsentPurpose {
                code: PurposeCode::parse(&row.purpose_code)?,
                text: Text::parse(&row.purpose_text)?,
            },
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            revoked_at: row.revoked_at,
            created_at: row.created_at,
        })
    }
}

const SELECT_CONSENT: &str = "
    SELECT c.id, u.username, u.full_name, u.citizen_id, c.subject_hash, c.provider_code,
           pa.name AS provider_name, c.service_id, s.name AS service_name, c.dataset_id,
           c.consumer_code, ca.name AS consumer_name, c.consumer_system, c.fields,
           c.purpose_code, c.purpose_text, c.valid_from, c.valid_until, c.revoked_at,
           c.created_at
    FROM consents c
    JOIN users u ON u.id = c.user_id
    JOIN agencies pa ON pa.code = c.provider_code
    JOIN agencies ca ON ca.code = c.consumer_code
    LEFT JOIN services s ON s.id = c.service_id";

impl Store {
    /// Stores a consent given now.
    pub async fn insert_consent(&self, new: &NewConsent) -> Result<Consent> {
        let (service_id, dataset_id) = match &new.target {
            RequestTarget::Service { id } => (Some(*id), None),
            RequestTarget::Dataset { id } => (None, Some(id.as_str())),
        };
        let id: i64 = on_pool!(self, |pool| {
            let user_id: Option<i64> =
                sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                    .bind(new.subject.as_str())
                    .fetch_optional(pool)
                    .await?;
            let user_id = user_id.ok_or(StoreError::NotFound("user"))?;
            sqlx::query_scalar(
                "INSERT INTO consents (user_id, subject_hash, provider_code, service_id,
                     dataset_id, consumer_code, consumer_system, fields, purpose_code,
                     purpose_text, valid_from, valid_until, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 RETURNING id",
            )
            .bind(user_id)
            .bind(&new.subject_hash)
            .bind(new.provider.as_str())
            .bind(service_id)
            .bind(dataset_id)
            .bind(new.consumer.as_str())
            .bind(new.consumer_system.as_ref().map(SystemCode::as_str))
            .bind(Json(&new.fields))
            .bind(new.purpose.code.as_str())
            .bind(new.purpose.text.as_str())
            .bind(new.term.from)
            .bind(new.term.until)
            .bind(now())
            .fetch_one(pool)
            .await
            .map_err(StoreError::on_constraint("consent"))?
        });
        self.get_consent(id).await
    }

    pub async fn get_consent(&self, id: i64) -> Result<Consent> {
        let row: Option<ConsentRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_CONSENT} WHERE c.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("consent"))?.try_into()
    }

    /// Consents matching `filter`, newest first.
    pub async fn list_consents(&self, filter: &ConsentFilter) -> Result<Vec<Consent>> {
        let (subject, agency) = match filter {
            ConsentFilter::Subject(username) => (Some(username.as_str()), None),
            ConsentFilter::Agency(code) => (None, Some(code.as_str())),
        };
        let rows: Vec<ConsentRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_CONSENT}
                 WHERE ($1 IS NULL OR u.username = $1)
                   AND ($2 IS NULL OR c.provider_code = $2 OR c.consumer_code = $2)
                 ORDER BY c.id DESC"
            ))
            .bind(subject)
            .bind(agency)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Consent::try_from).collect()
    }

    /// Revokes a consent now, once: a consent already revoked is a conflict.
    pub async fn revoke_consent(&self, id: i64) -> Result<Consent> {
        let revoked = on_pool!(self, |pool| {
            sqlx::query("UPDATE consents SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if revoked != 1 {
            self.get_consent(id).await?;
            return Err(StoreError::Conflict(format!(
                "consent {id} is already revoked"
            )));
        }
        self.get_consent(id).await
    }

    /// The consents of the subject hashed as `subject_hash` in force at `at` for an exchange of
    /// system `consumer_system` of agency `consumer` on `on` for `purpose`: one indexed query,
    /// read on each exchange under consent, so a revocation counts from the next request.
    pub async fn live_consents(
        &self,
        subject_hash: &str,
        consumer: &AgencyCode,
        consumer_system: &SystemCode,
        on: &GrantOn,
        purpose: &PurposeCode,
        at: DateTime<Utc>,
    ) -> Result<Vec<LiveConsent>> {
        let (service_id, dataset_id) = match on {
            GrantOn::Service(id) => (Some(*id), None),
            GrantOn::Dataset(id) => (None, Some(id.as_str())),
        };
        let rows: Vec<(i64, Json<Vec<String>>)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, fields FROM consents
                 WHERE subject_hash = $1 AND consumer_code = $2
                   AND (consumer_system IS NULL OR consumer_system = $3)
                   AND (service_id = $4 OR dataset_id = $5)
                   AND purpose_code = $6 AND revoked_at IS NULL
                   AND valid_from <= $7 AND valid_until > $7",
            )
            .bind(subject_hash)
            .bind(consumer.as_str())
            .bind(consumer_system.as_str())
            .bind(service_id)
            .bind(dataset_id)
            .bind(purpose.as_str())
            .bind(at)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, fields)| LiveConsent {
                id,
                fields: fields.0,
            })
            .collect())
    }
}
