//! Sharing requests of consumer agencies (Q13.1, Q15.1.a, Q16.1), the steps taken on them and
//! the grants an approval creates, in the same transaction as the step.

use chrono::{DateTime, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::exchange::{GrantFields, PurposeCode};
use lgsp_core::sharing_request::{Refusal, RequestPurpose, RequestState, RequestStep};
use lgsp_core::{AgencyCode, SystemCode, Text};
use serde::Serialize;
use sqlx::types::Json;

use crate::grants::{insert_grant_row, GrantOn, NewGrant};
use crate::tickets::{insert_ticket_row, NewTicket};
use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// What a request asks for: a registered service (by id) or a hosted dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RequestTarget {
    Service {
        id: i64,
    },
    Dataset {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        id: DatasetId,
    },
}

impl From<&RequestTarget> for GrantOn {
    fn from(target: &RequestTarget) -> Self {
        match target {
            RequestTarget::Service { id } => GrantOn::Service(*id),
            RequestTarget::Dataset { id } => GrantOn::Dataset(id.clone()),
        }
    }
}

impl From<&GrantOn> for RequestTarget {
    fn from(on: &GrantOn) -> Self {
        match on {
            GrantOn::Service(id) => RequestTarget::Service { id: *id },
            GrantOn::Dataset(id) => RequestTarget::Dataset { id: id.clone() },
        }
    }
}

/// The terms a consumer asks for, when submitting or resubmitting; the caller has checked the
/// target, its provider, the systems and the fields.
#[derive(Debug, Clone)]
pub struct RequestTerms {
    pub consumer: AgencyCode,
    /// The consumer agency's systems that will use the grant; at least one.
    pub systems: Vec<SystemCode>,
    pub provider: AgencyCode,
    pub target: RequestTarget,
    pub fields: GrantFields,
    pub purpose: RequestPurpose,
    pub legal_basis: Text,
    /// Expected frequency and volume, in the consumer's words.
    pub expected_volume: Text,
    /// Until when the consumer asks for access.
    pub valid_until: DateTime<Utc>,
}

/// A stored sharing request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharingRequest {
    pub id: i64,
    /// The consumer agency.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub consumer: AgencyCode,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub systems: Vec<SystemCode>,
    /// The provider agency.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub provider: AgencyCode,
    pub target: RequestTarget,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub fields: GrantFields,
    pub purpose: RequestPurpose,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub legal_basis: Text,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub expected_volume: Text,
    pub valid_until: DateTime<Utc>,
    pub state: RequestState,
    /// The state in Vietnamese, as the console shows it.
    pub state_label: &'static str,
    /// The provider's message when it returned or refused the request.
    pub decision_reason: Option<String>,
    /// The legal basis of a refusal.
    pub refusal_legal_basis: Option<String>,
    /// While pending: the end of the provider's answer period (working days from submission
    /// or resubmission).
    pub respond_by: Option<DateTime<Utc>>,
    /// Pending past `respond_by`.
    pub overdue: bool,
    /// When the overdue request was handed to the operator.
    pub escalated_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SharingRequest {
    /// The terms as they stand, e.g. to be amended.
    pub fn terms(&self) -> RequestTerms {
        RequestTerms {
            consumer: self.consumer.clone(),
            systems: self.systems.clone(),
            provider: self.provider.clone(),
            target: self.target.clone(),
            fields: self.fields.clone(),
            purpose: self.purpose.clone(),
            legal_basis: self.legal_basis.clone(),
            expected_volume: self.expected_volume.clone(),
            valid_until: self.valid_until,
        }
    }
}

/// One step taken on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestEvent {
    pub step: RequestStep,
    /// `None` when the request was submitted.
    pub from_state: Option<RequestState>,
    pub to_state: RequestState,
    pub reason: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// What a step changes besides the state.
#[derive(Debug, Clone)]
pub enum StepChange<'a> {
    /// Withdrawal: nothing else.
    None,
    /// Return for more information, with the provider's message.
    Return { message: &'a Text },
    /// Refusal with its reason and legal basis, and the dispute it opens with the operator
    /// (Decree 47/2020 art. 48), stored with it.
    Refuse {
        refusal: &'a Refusal,
        dispute: &'a NewTicket,
    },
    /// Resubmission with amended terms (target and parties unchanged) and the end of the new
    /// answer period.
    Amend {
        terms: &'a RequestTerms,
        respond_by: Timestamp,
    },
    /// Approval: the grants to create, one per consumer system.
    Approve(&'a [NewGrant]),
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    consumer_code: String,
    systems: Json<Vec<String>>,
    provider_code: String,
    service_id: Option<i64>,
    dataset_id: Option<String>,
    fields: Json<Vec<String>>,
    purpose_code: String,
    purpose_text: String,
    legal_basis: String,
    expected_volume: String,
    valid_until: Timestamp,
    state: String,
    decision_reason: Option<String>,
    refusal_legal_basis: Option<String>,
    respond_by: Option<Timestamp>,
    escalated_at: Option<Timestamp>,
    created_by: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<RequestRow> for SharingRequest {
    type Error = StoreError;
    fn try_from(row: RequestRow) -> Result<Self> {
        let target = match (row.service_id, row.dataset_id) {
            (Some(id), None) => RequestTarget::Service { id },
            (None, Some(id)) => RequestTarget::Dataset {
                id: DatasetId::parse(id)?,
            },
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "sharing request {} has no target",
                    row.id
                )))
            }
        };
        let state = RequestState::parse(&row.state)?;
        Ok(Self {
            id: row.id,
            consumer: AgencyCode::parse(&row.consumer_code)?,
            systems: row
                .systems
                .0
                .into_iter()
                .map(SystemCode::parse)
                .collect::<std::result::Result<_, _>>()?,
            provider: AgencyCode::parse(&row.provider_code)?,
            target,
            fields: GrantFields::new(row.fields.0)?,
            purpose: RequestPurpose {
                code: PurposeCode::parse(&row.purpose_code)?,
                text: Text::parse(row.purpose_text)?,
            },
            legal_basis: Text::parse(row.legal_basis)?,
            expected_volume: Text::parse(row.expected_volume)?,
            valid_until: row.valid_until,
            state,
            state_label: state.label_vi(),
            decision_reason: row.decision_reason,
            refusal_legal_basis: row.refusal_legal_basis,
            respond_by: row.respond_by,
            overdue: state == RequestState::Pending
                && row.respond_by.is_some_and(|deadline| deadline < Utc::now()),
            escalated_at: row.escalated_at,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SELECT_REQUEST: &str = "
    SELECT id, consumer_code, systems, provider_code, service_id, dataset_id, fields,
           purpose_code, purpose_text, legal_basis, expected_volume, valid_until, state,
           decision_reason, refusal_legal_basis, respond_by, escalated_at, created_by,
           created_at, updated_at
    FROM sharing_requests";

/// Records a step inside the transaction `$tx`.
macro_rules! insert_request_event {
    ($tx:expr, $id:expr, $step:expr, $from:expr, $to:expr, $reason:expr, $actor:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO sharing_request_events
                 (request_id, step, from_state, to_state, reason, actor, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($id)
        .bind($step)
        .bind($from)
        .bind($to)
        .bind($reason)
        .bind($actor)
        .bind($at)
        .execute(&mut *$tx)
        .await?
    };
}

#[derive(sqlx::FromRow)]
struct EventRow {
    step: String,
    from_state: Option<String>,
    to_state: String,
    reason: Option<String>,
    actor: String,
    at: Timestamp,
}

fn parse_step(value: &str) -> Result<RequestStep> {
    RequestStep::ALL
        .into_iter()
        .find(|s| s.as_str() == value)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown request step `{value}`")))
}

impl Store {
    /// Stores a submitted request, pending until `respond_by`, with the first entry of its
    /// history.
    pub async fn insert_sharing_request(
        &self,
        terms: &RequestTerms,
        respond_by: Timestamp,
        actor: &str,
    ) -> Result<SharingRequest> {
        let (service_id, dataset_id) = match &terms.target {
            RequestTarget::Service { id } => (Some(*id), None),
            RequestTarget::Dataset { id } => (None, Some(id.as_str())),
        };
        let systems: Vec<&str> = terms.systems.iter().map(SystemCode::as_str).collect();
        let at = now();
        let pending = RequestState::Pending.as_str();
        let id: i64 = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sharing_requests (consumer_code, systems, provider_code, service_id,
                     dataset_id, fields, purpose_code, purpose_text, legal_basis,
                     expected_volume, valid_until, state, created_by, created_at, updated_at,
                     respond_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15)
                 RETURNING id",
            )
            .bind(terms.consumer.as_str())
            .bind(Json(&systems))
            .bind(terms.provider.as_str())
            .bind(service_id)
            .bind(dataset_id)
            .bind(Json(&terms.fields))
            .bind(terms.purpose.code.as_str())
            .bind(terms.purpose.text.as_str())
            .bind(terms.legal_basis.as_str())
            .bind(terms.expected_volume.as_str())
            .bind(terms.valid_until)
            .bind(pending)
            .bind(actor)
            .bind(at)
            .bind(respond_by)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_constraint("sharing request"))?;
            insert_request_event!(
                tx,
                id,
                RequestStep::Submit.as_str(),
                None::<&str>,
                pending,
                None::<&str>,
                actor,
                at
            );
            tx.commit().await?;
            id
        });
        self.get_sharing_request(id).await
    }

    pub async fn get_sharing_request(&self, id: i64) -> Result<SharingRequest> {
        let row: Option<RequestRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_REQUEST} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("sharing request"))?
            .try_into()
    }

    /// Requests of which `agency` is the consumer or the provider (`None`: all), optionally in
    /// one state, newest first.
    pub async fn list_sharing_requests(
        &self,
        agency: Option<&AgencyCode>,
        state: Option<RequestState>,
    ) -> Result<Vec<SharingRequest>> {
        let rows: Vec<RequestRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_REQUEST}
                 WHERE ($1 IS NULL OR consumer_code = $1 OR provider_code = $1)
                   AND ($2 IS NULL OR state = $2)
                 ORDER BY id DESC"
            ))
            .bind(agency.map(AgencyCode::as_str))
            .bind(state.map(RequestState::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(SharingRequest::try_from).collect()
    }

    /// Takes `step` on request `id` from state `from` to `to`, with what it changes and its
    /// history entry, atomically: if another step moved the request first, nothing changes and
    /// the answer is a conflict. An approval creates its grants in the same transaction.
    pub async fn move_sharing_request(
        &self,
        id: i64,
        step: RequestStep,
        from: RequestState,
        to: RequestState,
        change: StepChange<'_>,
        actor: &str,
    ) -> Result<SharingRequest> {
        let at = now();
        let (reason, legal_basis) = match &change {
            StepChange::Return { message } => (Some(message.as_str()), None),
            StepChange::Refuse { refusal, .. } => (
                Some(refusal.reason.as_str()),
                Some(refusal.legal_basis.as_str()),
            ),
            _ => (None, None),
        };
        let respond_by = match &change {
            StepChange::Amend { respond_by, .. } => Some(*respond_by),
            _ => None,
        };
        let consumers = match &change {
            StepChange::Approve(grants) => {
                let mut ids = Vec::with_capacity(grants.len());
                for grant in *grants {
                    ids.push(self.system_row_id(&grant.consumer).await?);
                }
                ids
            }
            _ => Vec::new(),
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE sharing_requests
                 SET state = $3, decision_reason = $4, refusal_legal_basis = $5, updated_at = $6,
                     respond_by = $7,
                     escalated_at = CASE WHEN $7 IS NULL THEN escalated_at END
                 WHERE id = $1 AND state = $2",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(reason)
            .bind(legal_basis)
            .bind(at)
            .bind(respond_by)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "sharing request {id} is no longer {}",
                    from.as_str()
                )));
            }
            match &change {
                StepChange::Amend { terms, .. } => {
                    let systems: Vec<&str> = terms.systems.iter().map(SystemCode::as_str).collect();
                    sqlx::query(
                        "UPDATE sharing_requests
                         SET systems = $2, fields = $3, purpose_code = $4, purpose_text = $5,
                             legal_basis = $6, expected_volume = $7, valid_until = $8
                         WHERE id = $1",
                    )
                    .bind(id)
                    .bind(Json(&systems))
                    .bind(Json(&terms.fields))
                    .bind(terms.purpose.code.as_str())
                    .bind(terms.purpose.text.as_str())
                    .bind(terms.legal_basis.as_str())
                    .bind(terms.expected_volume.as_str())
                    .bind(terms.valid_until)
                    .execute(&mut *tx)
                    .await?;
                }
                StepChange::Approve(grants) => {
                    for (grant, consumer_id) in grants.iter().zip(&consumers) {
                        insert_grant_row!(tx, grant, *consumer_id, actor, at);
                    }
                }
                StepChange::Refuse { dispute, .. } => {
                    insert_ticket_row!(tx, dispute, at);
                }
                StepChange::None | StepChange::Return { .. } => {}
            }
            insert_request_event!(
                tx,
                id,
                step.as_str(),
                Some(from.as_str()),
                to.as_str(),
                reason,
                actor,
                at
            );
            tx.commit().await?;
        });
        self.get_sharing_request(id).await
    }

    /// Hands every request still pending past its answer period to the operator: marks it
    /// escalated with an `escalate` step in its history, once per answer period. Atomic per
    /// request, so with several nodes each request is escalated by exactly one; returns those
    /// this call escalated.
    pub async fn escalate_overdue_requests(
        &self,
        at: Timestamp,
        actor: &str,
    ) -> Result<Vec<SharingRequest>> {
        let pending = RequestState::Pending.as_str();
        let ids: Vec<i64> = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "UPDATE sharing_requests SET escalated_at = $2
                 WHERE state = $1 AND escalated_at IS NULL AND respond_by < $2
                 RETURNING id",
            )
            .bind(pending)
            .bind(at)
            .fetch_all(&mut *tx)
            .await?;
            for id in &ids {
                insert_request_event!(
                    tx,
                    *id,
                    RequestStep::Escalate.as_str(),
                    Some(pending),
                    pending,
                    None::<&str>,
                    actor,
                    at
                );
            }
            tx.commit().await?;
            ids
        });
        let mut escalated = Vec::with_capacity(ids.len());
        for id in ids {
            escalated.push(self.get_sharing_request(id).await?);
        }
        Ok(escalated)
    }

    /// A request's steps, oldest first.
    pub async fn sharing_request_events(&self, id: i64) -> Result<Vec<RequestEvent>> {
        let rows: Vec<EventRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT step, from_state, to_state, reason, actor, at
                 FROM sharing_request_events WHERE request_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(RequestEvent {
                    step: parse_step(&r.step)?,
                    from_state: r
                        .from_state
                        .as_deref()
                        .map(RequestState::parse)
                        .transpose()?,
                    to_state: RequestState::parse(&r.to_state)?,
                    reason: r.reason,
                    actor: r.actor,
                    at: r.at,
                })
            })
            .collect()
    }

    /// The ids of the grants an approved request created.
    pub async fn sharing_request_grants(&self, id: i64) -> Result<Vec<i64>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM grants WHERE source = 'request' AND request_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        }))
    }
}
