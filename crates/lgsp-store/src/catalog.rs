//! The catalog of shared databases: entry versions valid over date ranges, the proposals that
//! change them with their letters and steps, and the decisions that apply them.

use chrono::{DateTime, NaiveDate, Utc};
use lgsp_core::catalog::{DatasetId, EntryCode, EntryContent};
use lgsp_core::proposal::{Decision, ProposalAction, ProposalState, Step};
use lgsp_core::{AgencyCode, Text};
use serde::Serialize;
use sqlx::types::Json;

use crate::{now, on_pool, Result, Store, StoreError};

/// Records a step in a transaction `$tx` of either backend.
macro_rules! insert_event {
    ($tx:ident, $id:expr, $step:expr, $actor:expr, $from:expr, $to:expr, $comment:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO catalog_proposal_events (proposal_id, step, actor, from_state, to_state, comment, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($id)
        .bind($step.as_str())
        .bind($actor)
        .bind($from.map(ProposalState::as_str))
        .bind($to.as_str())
        .bind($comment)
        .bind($at)
        .execute(&mut *$tx)
        .await?;
    };
}

/// Applies an approved action to the catalog in transaction `$tx`: the entry's open version is
/// closed at the effective date and the new one opens there. A decision may not take effect
/// before the entry's latest version does (the history stays a sequence), and dataset ids stay
/// with the entry that first published them.
macro_rules! apply_decision {
    ($tx:ident, $action:expr, $decision:expr, $proposal_id:expr, $at:expr) => {{
        let action: &ProposalAction = $action;
        let decision: &Decision = $decision;
        let code = action.code();
        let latest: Option<(i64, i64, i64, String, NaiveDate, Json<EntryContent>)> = sqlx::query_as(
            "SELECT e.id, v.id, v.version, v.status, v.valid_from, v.content
             FROM catalog_entries e JOIN catalog_versions v ON v.entry_id = e.id
             WHERE e.code = $1 ORDER BY v.version DESC LIMIT 1",
        )
        .bind(code.as_str())
        .fetch_optional(&mut *$tx)
        .await?;
        let (entry_id, version, status, content) = match (action, latest) {
            (ProposalAction::Add { entry }, None) => {
                let entry_id: i64 = sqlx::query_scalar(
                    "INSERT INTO catalog_entries (code, created_at) VALUES ($1, $2) RETURNING id",
                )
                .bind(code.as_str())
                .bind($at)
                .fetch_one(&mut *$tx)
                .await?;
                (entry_id, 1_i64, "active", entry.clone())
            }
            (ProposalAction::Add { .. }, Some(_)) => {
                return Err(StoreError::Conflict(format!("catalog entry {code} already exists")))
            }
            (_, None) => return Err(StoreError::NotFound("catalog entry")),
            (_, Some((_, _, _, status, _, _))) if status == "withdrawn" => {
                return Err(StoreError::Conflict(format!("catalog entry {code} was withdrawn")))
            }
            (_, Some((_, _, _, _, from, _))) if from > decision.effective_date => {
                return Err(StoreError::Conflict(format!(
                    "a decision already changes catalog entry {code} from {from}; this one cannot take effect before it"
                )))
            }
            (_, Some((entry_id, version_id, version, _, _, previous))) => {
                sqlx::query("UPDATE catalog_versions SET valid_to = $2 WHERE id = $1")
                    .bind(version_id)
                    .bind(decision.effective_date)
                    .execute(&mut *$tx)
                    .await?;
                match action {
                    ProposalAction::Modify { entry } => (entry_id, version + 1, "active", entry.clone()),
                    _ => (entry_id, version + 1, "withdrawn", previous.0),
                }
            }
        };
        sqlx::query(
            "INSERT INTO catalog_versions (entry_id, version, status, content, owner_code, valid_from,
                 proposal_id, decision_number, decision_date, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(entry_id)
        .bind(version)
        .bind(status)
        .bind(Json(&content))
        .bind(content.owner.as_str())
        .bind(decision.effective_date)
        .bind($proposal_id)
        .bind(decision.number.as_str())
        .bind(decision.date)
        .bind($at)
        .execute(&mut *$tx)
        .await?;
        for dataset in &content.datasets {
            sqlx::query(
                "INSERT INTO catalog_datasets (dataset_id, entry_id) VALUES ($1, $2)
                 ON CONFLICT (dataset_id) DO NOTHING",
            )
            .bind(dataset.id.as_str())
            .bind(entry_id)
            .execute(&mut *$tx)
            .await?;
            let owner: i64 = sqlx::query_scalar("SELECT entry_id FROM catalog_datasets WHERE dataset_id = $1")
                .bind(dataset.id.as_str())
                .fetch_one(&mut *$tx)
                .await?;
            if owner != entry_id {
                return Err(StoreError::Conflict(format!(
                    "dataset id {} belongs to another catalog entry", dataset.id
                )));
            }
        }
    }};
}

/// An uploaded document, e.g. the official letter of a proposal. Its bytes are fetched apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub filename: String,
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub sha256: String,
    pub media_type: String,
    pub filename: String,
    pub content: Vec<u8>,
    pub uploaded_by: String,
}

/// One step taken on a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalEvent {
    pub step: Step,
    pub actor: String,
    pub from_state: Option<ProposalState>,
    pub to_state: ProposalState,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// The operator's bundle of forwarded proposals with its recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Submission {
    pub id: i64,
    pub recommendation: String,
}

/// A proposal to add, modify or withdraw a catalog entry, with everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub id: i64,
    pub agency: AgencyCode,
    #[serde(flatten)]
    pub action: ProposalAction,
    pub reason: Text,
    pub letter: Attachment,
    pub state: ProposalState,
    pub submission: Option<Submission>,
    pub decision: Option<Decision>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub events: Vec<ProposalEvent>,
}

/// Whether a version keeps the entry in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Active,
    Withdrawn,
}

/// One version of a catalog entry and the decision that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryVersion {
    pub version: i64,
    pub status: EntryStatus,
    pub content: EntryContent,
    /// First day the version is in force.
    pub valid_from: NaiveDate,
    /// First day it no longer is; none while it is the latest.
    pub valid_to: Option<NaiveDate>,
    pub decision_number: String,
    pub decision_date: NaiveDate,
    pub proposal_id: Option<i64>,
    pub recorded_at: DateTime<Utc>,
}

/// What a step records and changes besides the state.
#[derive(Debug, Clone, Default)]
pub struct StepChanges {
    /// The actor's comment (a reason for returning, a recommendation, …).
    pub comment: Option<String>,
    /// On resubmission: the revised action, reason and, optionally, letter.
    pub action: Option<ProposalAction>,
    pub reason: Option<Text>,
    pub letter_id: Option<i64>,
}

/// A notification for the people of a role (and agency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub subject: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    id: i64,
    sha256: String,
    size: i64,
    media_type: String,
    filename: String,
    uploaded_by: String,
    created_at: DateTime<Utc>,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Self {
            id: r.id,
            sha256: r.sha256,
            size: r.size,
            media_type: r.media_type,
            filename: r.filename,
            uploaded_by: r.uploaded_by,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AttachmentWithContent {
    #[sqlx(flatten)]
    info: AttachmentRow,
    content: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct ProposalRow {
    id: i64,
    agency_code: String,
    payload: Json<ProposalAction>,
    reason: String,
    state: String,
    letter_id: i64,
    submission_id: Option<i64>,
    recommendation: Option<String>,
    decision_number: Option<String>,
    decision_date: Option<NaiveDate>,
    effective_date: Option<NaiveDate>,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    proposal_id: i64,
    step: String,
    actor: String,
    from_state: Option<String>,
    to_state: String,
    comment: Option<String>,
    at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    code: String,
    version: i64,
    status: String,
    content: Json<EntryContent>,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    proposal_id: Option<i64>,
    decision_number: String,
    decision_date: NaiveDate,
    recorded_at: DateTime<Utc>,
}

impl TryFrom<VersionRow> for EntryVersion {
    type Error = StoreError;
    fn try_from(r: VersionRow) -> Result<Self> {
        let status = match r.status.as_str() {
            "active" => EntryStatus::Active,
            "withdrawn" => EntryStatus::Withdrawn,
            other => return Err(StoreError::Corrupt(format!("entry status {other}"))),
        };
        debug_assert_eq!(r.code, r.content.0.code.as_str());
        Ok(Self {
            version: r.version,
            status,
            content: r.content.0,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            decision_number: r.decision_number,
            decision_date: r.decision_date,
            proposal_id: r.proposal_id,
            recorded_at: r.recorded_at,
        })
    }
}

const SELECT_PROPOSAL: &str = "
    SELECT p.id, p.agency_code, p.payload, p.reason, p.state, p.letter_id, p.submission_id,
           s.recommendation, p.decision_number, p.decision_date, p.effective_date,
           p.created_by, p.created_at, p.updated_at
    FROM catalog_proposals p LEFT JOIN catalog_submissions s ON s.id = p.submission_id";

const SELECT_VERSION: &str = "
    SELECT e.code, v.version, v.status, v.content, v.valid_from, v.valid_to, v.proposal_id,
           v.decision_number, v.decision_date, v.recorded_at
    FROM catalog_versions v JOIN catalog_entries e ON e.id = v.entry_id";

fn state(value: &str) -> Result<ProposalState> {
    Ok(ProposalState::parse(value)?)
}

impl Store {
    pub async fn insert_attachment(&self, new: &NewAttachment) -> Result<Attachment> {
        let row: AttachmentRow = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO attachments (sha256, size, media_type, filename, content, uploaded_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 RETURNING id, sha256, size, media_type, filename, uploaded_by, created_at",
            )
            .bind(&new.sha256)
            .bind(i64::try_from(new.content.len()).unwrap_or(i64::MAX))
            .bind(&new.media_type)
            .bind(&new.filename)
            .bind(&new.content)
            .bind(&new.uploaded_by)
            .bind(now())
            .fetch_one(pool)
            .await?
        });
        Ok(row.into())
    }

    /// An attachment and its bytes.
    pub async fn attachment(&self, id: i64) -> Result<(Attachment, Vec<u8>)> {
        let row: Option<AttachmentWithContent> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, sha256, size, media_type, filename, uploaded_by, created_at, content
                 FROM attachments WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let row = row.ok_or(StoreError::NotFound("attachment"))?;
        Ok((row.info.into(), row.content))
    }

    async fn attachment_info(&self, id: i64) -> Result<Attachment> {
        let row: Option<AttachmentRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, sha256, size, media_type, filename, uploaded_by, created_at
                 FROM attachments WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.ok_or(StoreError::NotFound("attachment"))?.into())
    }

    /// Records a new proposal in the `submitted` state, with its first event.
    pub async fn insert_proposal(
        &self,
        agency: &AgencyCode,
        action: &ProposalAction,
        reason: &Text,
        letter_id: i64,
        actor: &str,
    ) -> Result<Proposal> {
        let at = now();
        let id: i64 = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO catalog_proposals (agency_code, action, entry_code, payload, reason,
                     letter_id, state, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'submitted', $7, $8, $8) RETURNING id",
            )
            .bind(agency.as_str())
            .bind(action.as_str())
            .bind(action.code().as_str())
            .bind(Json(action))
            .bind(reason.as_str())
            .bind(letter_id)
            .bind(actor)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::on_constraint("conflicting proposal"))?;
            sqlx::query(
                "INSERT INTO catalog_proposal_events (proposal_id, step, actor, from_state, to_state, comment, at)
                 VALUES ($1, 'submit', $2, NULL, 'submitted', $3, $4)",
            )
            .bind(id)
            .bind(actor)
            .bind(reason.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            id
        });
        self.get_proposal(id).await
    }

    pub async fn get_proposal(&self, id: i64) -> Result<Proposal> {
        let row: Option<ProposalRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_PROPOSAL} WHERE p.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let row = row.ok_or(StoreError::NotFound("proposal"))?;
        let events = self.proposal_events(Some(id)).await?;
        self.proposal_from(row, events.into_iter().map(|(_, e)| e).collect())
            .await
    }

    /// Proposals, newest first: of one agency, in one state, or all.
    pub async fn list_proposals(
        &self,
        agency: Option<&AgencyCode>,
        in_state: Option<ProposalState>,
    ) -> Result<Vec<Proposal>> {
        let rows: Vec<ProposalRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_PROPOSAL} WHERE ($1 IS NULL OR p.agency_code = $1)
                 AND ($2 IS NULL OR p.state = $2) ORDER BY p.id DESC"
            ))
            .bind(agency.map(AgencyCode::as_str))
            .bind(in_state.map(ProposalState::as_str))
            .fetch_all(pool)
            .await?
        });
        let mut events = self.proposal_events(None).await?;
        let mut proposals = Vec::with_capacity(rows.len());
        for row in rows {
            let (mine, rest): (Vec<_>, Vec<_>) =
                events.into_iter().partition(|(id, _)| *id == row.id);
            events = rest;
            proposals.push(
                self.proposal_from(row, mine.into_iter().map(|(_, e)| e).collect())
                    .await?,
            );
        }
        Ok(proposals)
    }

    async fn proposal_events(&self, id: Option<i64>) -> Result<Vec<(i64, ProposalEvent)>> {
        let rows: Vec<EventRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT proposal_id, step, actor, from_state, to_state, comment, at
                 FROM catalog_proposal_events WHERE ($1 IS NULL OR proposal_id = $1) ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.proposal_id,
                    ProposalEvent {
                        step: Step::parse(&r.step)?,
                        actor: r.actor,
                        from_state: r.from_state.as_deref().map(state).transpose()?,
                        to_state: state(&r.to_state)?,
                        comment: r.comment,
                        at: r.at,
                    },
                ))
            })
            .collect()
    }

    async fn proposal_from(
        &self,
        row: ProposalRow,
        events: Vec<ProposalEvent>,
    ) -> Result<Proposal> {
        let decision = match (row.decision_number, row.decision_date, row.effective_date) {
            (Some(number), Some(date), Some(effective_date)) => Some(Decision {
                number: Text::parse(number)?,
                date,
                effective_date,
            }),
            _ => None,
        };
        Ok(Proposal {
            id: row.id,
            agency: AgencyCode::parse(&row.agency_code)?,
            action: row.payload.0,
            reason: Text::parse(&row.reason)?,
            letter: self.attachment_info(row.letter_id).await?,
            state: state(&row.state)?,
            submission: row.submission_id.map(|id| Submission {
                id,
                recommendation: row.recommendation.unwrap_or_default(),
            }),
            decision,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            events,
        })
    }

    /// Moves a proposal from `from` to `to` by `step`, atomically: if another request moved it
    /// first, nothing changes and the answer is a conflict.
    pub async fn take_proposal_step(
        &self,
        id: i64,
        from: ProposalState,
        step: Step,
        to: ProposalState,
        actor: &str,
        changes: &StepChanges,
    ) -> Result<Proposal> {
        let at = now();
        let comment = changes.comment.as_deref();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE catalog_proposals
                 SET state = $3, updated_at = $4,
                     payload = COALESCE($5, payload), reason = COALESCE($6, reason),
                     letter_id = COALESCE($7, letter_id)
                 WHERE id = $1 AND state = $2",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(at)
            .bind(changes.action.as_ref().map(Json))
            .bind(changes.reason.as_ref().map(Text::as_str))
            .bind(changes.letter_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "proposal {id} is no longer `{}`",
                    from.as_str()
                )));
            }
            insert_event!(tx, id, step, actor, Some(from), to, comment, at);
            tx.commit().await?;
        });
        self.get_proposal(id).await
    }

    /// Forwards several submitted proposals to the approver as one submission with the
    /// operator's recommendation. All or none: if one is not `submitted`, nothing changes.
    pub async fn forward_proposals(
        &self,
        ids: &[i64],
        recommendation: &Text,
        actor: &str,
    ) -> Result<i64> {
        let at = now();
        let submission_id: i64 = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let submission_id: i64 = sqlx::query_scalar(
                "INSERT INTO catalog_submissions (recommendation, created_by, created_at)
                 VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(recommendation.as_str())
            .bind(actor)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            for &id in ids {
                let moved = sqlx::query(
                    "UPDATE catalog_proposals SET state = 'forwarded', submission_id = $2, updated_at = $3
                     WHERE id = $1 AND state = 'submitted'",
                )
                .bind(id)
                .bind(submission_id)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved != 1 {
                    return Err(StoreError::Conflict(format!(
                        "proposal {id} is not waiting for review"
                    )));
                }
                let step = Step::Forward;
                let from = Some(ProposalState::Submitted);
                let to = ProposalState::Forwarded;
                let comment = Some(recommendation.as_str());
                insert_event!(tx, id, step, actor, from, to, comment, at);
            }
            tx.commit().await?;
            submission_id
        });
        Ok(submission_id)
    }

    /// Decides a forwarded proposal. Approval applies the change to the catalog from the
    /// decision's effective date, in the same transaction; rejection changes nothing else.
    pub async fn decide_proposal(
        &self,
        id: i64,
        approve: bool,
        decision: &Decision,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<Proposal> {
        let proposal = self.get_proposal(id).await?;
        let (step, to) = if approve {
            (Step::Approve, ProposalState::Approved)
        } else {
            (Step::Reject, ProposalState::Rejected)
        };
        let at = now();
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE catalog_proposals SET state = $2, decision_number = $3, decision_date = $4,
                     effective_date = $5, updated_at = $6
                 WHERE id = $1 AND state = 'forwarded'",
            )
            .bind(id)
            .bind(to.as_str())
            .bind(decision.number.as_str())
            .bind(decision.date)
            .bind(decision.effective_date)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "proposal {id} is not waiting for a decision"
                )));
            }
            let from = Some(ProposalState::Forwarded);
            insert_event!(tx, id, step, actor, from, to, comment, at);
            if approve {
                let proposal_id = Some(id);
                let action = &proposal.action;
                apply_decision!(tx, action, decision, proposal_id, at);
            }
            tx.commit().await?;
        });
        self.get_proposal(id).await
    }

    /// Puts an entry in the catalog as decided outside the platform (demo data, migration from
    /// an earlier catalog). Does nothing if the entry exists.
    pub async fn seed_entry(&self, entry: &EntryContent, decision: &Decision) -> Result<bool> {
        if self.entry_exists(&entry.code).await? {
            return Ok(false);
        }
        let at = now();
        let action = &ProposalAction::Add {
            entry: entry.clone(),
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let proposal_id: Option<i64> = None;
            apply_decision!(tx, action, decision, proposal_id, at);
            tx.commit().await?;
        });
        Ok(true)
    }

    pub async fn entry_exists(&self, code: &EntryCode) -> Result<bool> {
        let found: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM catalog_entries WHERE code = $1")
                .bind(code.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(found.is_some())
    }

    /// The entry a dataset id belongs to, if the id is taken.
    pub async fn dataset_entry(&self, dataset: &DatasetId) -> Result<Option<EntryCode>> {
        let code: Option<String> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT e.code FROM catalog_datasets d JOIN catalog_entries e ON e.id = d.entry_id
                 WHERE d.dataset_id = $1",
            )
            .bind(dataset.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(code.map(EntryCode::parse).transpose()?)
    }

    /// The catalog as it stood on `day`: the active version of every entry in force that day.
    pub async fn catalog_as_of(&self, day: NaiveDate) -> Result<Vec<EntryVersion>> {
        let rows: Vec<VersionRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_VERSION} WHERE v.valid_from <= $1 AND (v.valid_to IS NULL OR v.valid_to > $1)
                 AND v.status = 'active' ORDER BY e.code"
            ))
            .bind(day)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(EntryVersion::try_from).collect()
    }

    /// A number that grows whenever a decision changes the catalog: nodes compare it to know
    /// when to rebuild what they derive from the catalog (the search index).
    pub async fn catalog_revision(&self) -> Result<i64> {
        let revision: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM catalog_versions")
                .fetch_one(pool)
                .await?
        });
        Ok(revision)
    }

    /// The first day each entry was in the catalog, by entry code.
    pub async fn entry_first_days(&self) -> Result<Vec<(EntryCode, NaiveDate)>> {
        let rows: Vec<(String, NaiveDate)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT e.code, MIN(v.valid_from) FROM catalog_versions v
                 JOIN catalog_entries e ON e.id = v.entry_id GROUP BY e.code",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(code, day)| Ok((EntryCode::parse(code)?, day)))
            .collect()
    }

    /// Every version of an entry, oldest first, including ones decided to take effect later.
    pub async fn entry_history(&self, code: &EntryCode) -> Result<Vec<EntryVersion>> {
        let rows: Vec<VersionRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_VERSION} WHERE e.code = $1 ORDER BY v.version"
            ))
            .bind(code.as_str())
            .fetch_all(pool)
            .await?
        });
        if rows.is_empty() {
            return Err(StoreError::NotFound("catalog entry"));
        }
        rows.into_iter().map(EntryVersion::try_from).collect()
    }

    /// Notifies every active account of `role` (of `agency`, when given) in the app and, when
    /// the store has a mail outbox, queues the same notice by e-mail in the same transaction: to
    /// the agency's current focal officer (Q8.2); without an agency, to the focal officers of
    /// the agencies of the people notified (a person without an agency: to their own address).
    pub async fn notify(
        &self,
        role: lgsp_core::Role,
        agency: Option<&AgencyCode>,
        subject: &str,
        body: &str,
        link: Option<&str>,
    ) -> Result<u64> {
        let at = now();
        let sent = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let sent = sqlx::query(
                "INSERT INTO notifications (user_id, subject, body, link, created_at)
                 SELECT u.id, $3, $4, $5, $6 FROM users u LEFT JOIN agencies a ON a.id = u.agency_id
                 WHERE u.role = $1 AND ($2 IS NULL OR a.code = $2) AND u.disabled_at IS NULL",
            )
            .bind(role.as_str())
            .bind(agency.map(AgencyCode::as_str))
            .bind(subject)
            .bind(body)
            .bind(link)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if self.mail {
                let queue = "INSERT INTO mail_outbox (recipient, subject, body, link, created_at,
                                 next_attempt_at)
                             SELECT r.email, $2, $3, $4, $5, $5 FROM";
                let (sql, key) = match agency {
                    Some(agency) => (
                        format!(
                            "{queue} focal_officers r JOIN agencies a ON a.id = r.agency_id
                             WHERE a.code = $1 AND r.valid_to IS NULL"
                        ),
                        agency.as_str(),
                    ),
                    None => (
                        format!(
                            "{queue} (SELECT DISTINCT COALESCE(f.email, u.email) AS email
                                      FROM users u LEFT JOIN focal_officers f
                                        ON f.agency_id = u.agency_id AND f.valid_to IS NULL
                                      WHERE u.role = $1 AND u.disabled_at IS NULL
                                        AND COALESCE(f.email, u.email) IS NOT NULL) r"
                        ),
                        role.as_str(),
                    ),
                };
                sqlx::query(&sql)
                    .bind(key)
                    .bind(subject)
                    .bind(body)
                    .bind(link)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            sent
        });
        Ok(sent)
    }

    /// Notifies one person (a citizen, who has no agency) in the app and, with a mail outbox,
    /// queues the notice to their own address if they gave one.
    pub async fn notify_person(
        &self,
        username: &str,
        subject: &str,
        body: &str,
        link: Option<&str>,
    ) -> Result<u64> {
        let at = now();
        let sent = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let sent = sqlx::query(
                "INSERT INTO notifications (user_id, subject, body, link, created_at)
                 SELECT id, $2, $3, $4, $5 FROM users
                 WHERE username = $1 AND disabled_at IS NULL",
            )
            .bind(username)
            .bind(subject)
            .bind(body)
            .bind(link)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if self.mail {
                sqlx::query(
                    "INSERT INTO mail_outbox (recipient, subject, body, link, created_at,
                         next_attempt_at)
                     SELECT email, $2, $3, $4, $5, $5 FROM users
                     WHERE username = $1 AND disabled_at IS NULL AND email IS NOT NULL",
                )
                .bind(username)
                .bind(subject)
                .bind(body)
                .bind(link)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            sent
        });
        Ok(sent)
    }

    /// A person's notifications, newest first.
    pub async fn notifications(&self, user_id: i64) -> Result<Vec<Notification>> {
        let rows: Vec<Notification> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, subject, body, link, created_at, read_at FROM notifications
                 WHERE user_id = $1 ORDER BY id DESC LIMIT 200",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Marks one of a person's notifications read.
    pub async fn mark_notification_read(&self, user_id: i64, id: i64) -> Result<()> {
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2",
            )
            .bind(id)
            .bind(user_id)
            .bind(now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound("notification"));
        }
        Ok(())
    }

    /// Records a security-relevant attempt (e.g. Q1.2 state-secret registration).
    pub async fn record_security_event(&self, kind: &str, actor: &str, detail: &str) -> Result<()> {
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO security_events (kind, actor, detail, at) VALUES ($1, $2, $3, $4)",
            )
            .bind(kind)
            .bind(actor)
            .bind(detail)
            .bind(now())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Security events, newest first: `(kind, actor, detail, at)`.
    pub async fn security_events(&self) -> Result<Vec<(String, String, String, DateTime<Utc>)>> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT kind, actor, detail, at FROM security_events ORDER BY id DESC LIMIT 1000",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }
}
