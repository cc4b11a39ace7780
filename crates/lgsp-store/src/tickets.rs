//! Tickets (Q15.2.g, Q16.1.b, Q23), their threads, and attachments owned by a record.

use chrono::{DateTime, Utc};
use lgsp_core::ticket::{TicketKind, TicketParties, TicketState, TicketStep};
use lgsp_core::{AgencyCode, Text};
use serde::Serialize;

use crate::catalog::AttachmentRow;
use crate::{now, on_pool, Attachment, NewAttachment, Result, Store, StoreError, Timestamp};

/// What a ticket is about, besides its text: any of a grant, a sharing request, a service, a
/// dataset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketAbout {
    pub grant_id: Option<i64>,
    pub sharing_request_id: Option<i64>,
    pub service_id: Option<i64>,
    pub dataset_id: Option<String>,
}

/// A ticket to store; the caller has checked the parties and what it is about.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub kind: TicketKind,
    pub subject: Text,
    pub body: Text,
    pub opener_agency: Option<AgencyCode>,
    pub opened_by: String,
    pub assignee: Option<AgencyCode>,
    pub counterparty: Option<AgencyCode>,
    pub about: TicketAbout,
    pub due_at: DateTime<Utc>,
}

/// A stored ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    pub id: i64,
    pub kind: TicketKind,
    /// The kind in Vietnamese.
    pub kind_label: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub subject: Text,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub body: Text,
    /// The opener's agency; absent for a citizen.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub opener_agency: Option<AgencyCode>,
    pub opened_by: String,
    /// The agency that answers; absent when the operator answers.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub assignee: Option<AgencyCode>,
    /// The other side of a dispute (the provider that refused), who reads and comments.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub counterparty: Option<AgencyCode>,
    #[serde(flatten)]
    pub about: TicketAbout,
    pub state: TicketState,
    /// The state in Vietnamese.
    pub state_label: &'static str,
    /// When the answer is due (end of the last working day, Vietnam time).
    pub due_at: DateTime<Utc>,
    /// Whether an answer is awaited and the deadline has passed.
    pub overdue: bool,
    /// When the ticket was escalated to the operator, and by whom (`lgsp:qua-han` when the
    /// deadline passed).
    pub escalated_at: Option<DateTime<Utc>>,
    pub escalated_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    /// The parties, as the rules of `lgsp_core::ticket` take them.
    pub fn parties(&self) -> TicketParties<'_> {
        TicketParties {
            opener_agency: self.opener_agency.as_ref(),
            opened_by: &self.opened_by,
            assignee: self.assignee.as_ref(),
            counterparty: self.counterparty.as_ref(),
            escalated: self.escalated_at.is_some(),
        }
    }
}

/// One entry of a ticket's thread: a comment or a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketEvent {
    pub step: TicketStep,
    /// The step in Vietnamese.
    pub step_label: &'static str,
    /// `None` when the ticket was opened.
    pub from_state: Option<TicketState>,
    pub to_state: TicketState,
    pub message: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TicketRow {
    id: i64,
    kind: String,
    subject: String,
    body: String,
    opener_agency: Option<String>,
    opened_by: String,
    assignee_agency: Option<String>,
    counterparty_agency: Option<String>,
    grant_id: Option<i64>,
    sharing_request_id: Option<i64>,
    service_id: Option<i64>,
    dataset_id: Option<String>,
    state: String,
    due_at: Timestamp,
    escalated_at: Option<Timestamp>,
    escalated_by: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

fn agency(code: Option<String>) -> Result<Option<AgencyCode>> {
    Ok(code.map(AgencyCode::parse).transpose()?)
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;
    fn try_from(row: TicketRow) -> Result<Self> {
        let kind = TicketKind::parse(&row.kind)?;
        let state = TicketState::parse(&row.state)?;
        Ok(Self {
            id: row.id,
            kind,
            kind_label: kind.label_vi(),
            subject: Text::parse(row.subject)?,
            body: Text::parse(row.body)?,
            opener_agency: agency(row.opener_agency)?,
            opened_by: row.opened_by,
            assignee: agency(row.assignee_agency)?,
            counterparty: agency(row.counterparty_agency)?,
            about: TicketAbout {
                grant_id: row.grant_id,
                sharing_request_id: row.sharing_request_id,
                service_id: row.service_id,
                dataset_id: row.dataset_id,
            },
            state,
            state_label: state.label_vi(),
            due_at: row.due_at,
            overdue: state.awaits_answer() && row.due_at < Utc::now(),
            escalated_at: row.escalated_at,
            escalated_by: row.escalated_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SELECT_TICKET: &str = "
    SELECT id, kind, subject, body, opener_agency, opened_by, assignee_agency,
           counterparty_agency, grant_id, sharing_request_id, service_id, dataset_id, state,
           due_at, escalated_at, escalated_by, created_at, updated_at
    FROM tickets";

/// Records a thread entry inside the transaction `$tx`.
macro_rules! insert_ticket_event {
    ($tx:expr, $id:expr, $step:expr, $from:expr, $to:expr, $message:expr, $actor:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, step, from_state, to_state, message, actor, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($id)
        .bind($step)
        .bind($from)
        .bind($to)
        .bind($message)
        .bind($actor)
        .bind($at)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use insert_ticket_event;

/// Inserts the opened ticket `$new` (a [`NewTicket`]) with the first entry of its thread (its
/// body) inside the transaction `$tx`; evaluates to its id. A second dispute about one sharing
/// request is a conflict.
macro_rules! insert_ticket_row {
    ($tx:expr, $new:expr, $at:expr) => {{
        let new: &$crate::tickets::NewTicket = $new;
        let open = lgsp_core::ticket::TicketState::Open.as_str();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tickets (kind, subject, body, opener_agency, opened_by,
                 assignee_agency, counterparty_agency, grant_id, sharing_request_id,
                 service_id, dataset_id, state, due_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
             RETURNING id",
        )
        .bind(new.kind.as_str())
        .bind(new.subject.as_str())
        .bind(new.body.as_str())
        .bind(
            new.opener_agency
                .as_ref()
                .map(lgsp_core::AgencyCode::as_str),
        )
        .bind(&new.opened_by)
        .bind(new.assignee.as_ref().map(lgsp_core::AgencyCode::as_str))
        .bind(new.counterparty.as_ref().map(lgsp_core::AgencyCode::as_str))
        .bind(new.about.grant_id)
        .bind(new.about.sharing_request_id)
        .bind(new.about.service_id)
        .bind(new.about.dataset_id.as_deref())
        .bind(open)
        .bind(new.due_at)
        .bind($at)
        .fetch_one(&mut *$tx)
        .await
        .map_err($crate::StoreError::on_constraint(
            "a dispute about this sharing request is already open",
        ))?;
        $crate::tickets::insert_ticket_event!(
            $tx,
            id,
            lgsp_core::ticket::TicketStep::Open.as_str(),
            None::<&str>,
            open,
            Some(new.body.as_str()),
            &new.opened_by,
            $at
        );
        id
    }};
}
pub(crate) use insert_ticket_row;

#[derive(sqlx::FromRow)]
struct EventRow {
    step: String,
    from_state: Option<String>,
    to_state: String,
    message: Option<String>,
    actor: String,
    at: Timestamp,
}

/// What a step changes besides the state and the thread.
#[derive(Debug, Clone, Copy)]
pub enum TicketChange {
    None,
    /// A new deadline for the answer (reopening).
    Due(DateTime<Utc>),
    /// Escalation to the operator, with the operator's deadline.
    Escalate {
        due_at: DateTime<Utc>,
    },
}

/// A step to take on a ticket: from which state to which, what else it changes, its message.
#[derive(Debug, Clone, Copy)]
pub struct TicketMove<'a> {
    pub step: TicketStep,
    pub from: TicketState,
    pub to: TicketState,
    pub change: TicketChange,
    pub message: Option<&'a str>,
}

impl Store {
    /// Stores an opened ticket with the first entry of its thread (its body). A second dispute
    /// about one sharing request is a conflict.
    pub async fn insert_ticket(&self, new: &NewTicket) -> Result<Ticket> {
        let at = now();
        let id: i64 = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id = insert_ticket_row!(tx, new, at);
            tx.commit().await?;
            id
        });
        self.get_ticket(id).await
    }

    pub async fn get_ticket(&self, id: i64) -> Result<Ticket> {
        let row: Option<TicketRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_TICKET} WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("ticket"))?.try_into()
    }

    /// Tickets in which `agency` takes part (`None`: all), newest first.
    pub async fn list_tickets(&self, agency: Option<&AgencyCode>) -> Result<Vec<Ticket>> {
        let rows: Vec<TicketRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_TICKET}
                 WHERE ($1 IS NULL OR opener_agency = $1 OR assignee_agency = $1
                        OR counterparty_agency = $1)
                 ORDER BY id DESC"
            ))
            .bind(agency.map(AgencyCode::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Ticket::try_from).collect()
    }

    /// A citizen's own tickets, newest first.
    pub async fn tickets_opened_by(&self, username: &str) -> Result<Vec<Ticket>> {
        let rows: Vec<TicketRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_TICKET} WHERE opened_by = $1 AND opener_agency IS NULL ORDER BY id DESC"
            ))
            .bind(username)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Ticket::try_from).collect()
    }

    /// The dispute about sharing request `request_id`, if one was opened.
    pub async fn dispute_of_request(&self, request_id: i64) -> Result<Option<Ticket>> {
        let row: Option<TicketRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_TICKET} WHERE kind = 'dispute' AND sharing_request_id = $1"
            ))
            .bind(request_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(Ticket::try_from).transpose()
    }

    /// Takes `step` on ticket `id` from state `from` to `to` with its thread entry, atomically:
    /// if another step moved the ticket first (or escalated it, for an escalation), nothing
    /// changes and the answer is a conflict.
    pub async fn move_ticket(&self, id: i64, taken: TicketMove<'_>, actor: &str) -> Result<Ticket> {
        let TicketMove {
            step,
            from,
            to,
            change,
            message,
        } = taken;
        let at = now();
        let (due_at, escalating) = match change {
            TicketChange::None => (None, false),
            TicketChange::Due(due) => (Some(due), false),
            TicketChange::Escalate { due_at } => (Some(due_at), true),
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let moved = sqlx::query(
                "UPDATE tickets
                 SET state = $3, updated_at = $4, due_at = COALESCE($5, due_at),
                     escalated_at = CASE WHEN $6 THEN $4 ELSE escalated_at END,
                     escalated_by = CASE WHEN $6 THEN $7 ELSE escalated_by END
                 WHERE id = $1 AND state = $2 AND (NOT $6 OR escalated_at IS NULL)",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(at)
            .bind(due_at)
            .bind(escalating)
            .bind(actor)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict(format!(
                    "ticket {id} changed meanwhile; it is no longer {}",
                    from.as_str()
                )));
            }
            insert_ticket_event!(
                tx,
                id,
                step.as_str(),
                Some(from.as_str()),
                to.as_str(),
                message,
                actor,
                at
            );
            tx.commit().await?;
        });
        self.get_ticket(id).await
    }

    /// Tickets awaiting an answer from an agency, past their deadline and not escalated yet.
    pub async fn overdue_tickets_to_escalate(&self) -> Result<Vec<Ticket>> {
        let rows: Vec<TicketRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_TICKET}
                 WHERE state IN ('open', 'in_progress') AND due_at < $1
                   AND escalated_at IS NULL AND assignee_agency IS NOT NULL
                 ORDER BY id"
            ))
            .bind(now())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Ticket::try_from).collect()
    }

    /// A ticket's thread, oldest first.
    pub async fn ticket_events(&self, id: i64) -> Result<Vec<TicketEvent>> {
        let rows: Vec<EventRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT step, from_state, to_state, message, actor, at
                 FROM ticket_events WHERE ticket_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                let step = TicketStep::parse(&r.step)?;
                Ok(TicketEvent {
                    step,
                    step_label: step.label_vi(),
                    from_state: r
                        .from_state
                        .as_deref()
                        .map(TicketState::parse)
                        .transpose()?,
                    to_state: TicketState::parse(&r.to_state)?,
                    message: r.message,
                    actor: r.actor,
                    at: r.at,
                })
            })
            .collect()
    }

    /// Stores an attachment owned by record `owner_id` of kind `owner_kind` (`ticket`,
    /// `sharing_request`).
    pub async fn attach(
        &self,
        owner_kind: &str,
        owner_id: i64,
        new: &NewAttachment,
    ) -> Result<Attachment> {
        let row: AttachmentRow = on_pool!(self, |pool| {
            sqlx::query_as(
                "INSERT INTO attachments (sha256, size, media_type, filename, content,
                     uploaded_by, created_at, owner_kind, owner_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 RETURNING id, sha256, size, media_type, filename, uploaded_by, created_at",
            )
            .bind(&new.sha256)
            .bind(i64::try_from(new.content.len()).unwrap_or(i64::MAX))
            .bind(&new.media_type)
            .bind(&new.filename)
            .bind(&new.content)
            .bind(&new.uploaded_by)
            .bind(now())
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_one(pool)
            .await?
        });
        Ok(row.into())
    }

    /// The attachments a record owns, oldest first, without their bytes.
    pub async fn attachments_of(&self, owner_kind: &str, owner_id: i64) -> Result<Vec<Attachment>> {
        let rows: Vec<AttachmentRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, sha256, size, media_type, filename, uploaded_by, created_at
                 FROM attachments WHERE owner_kind = $1 AND owner_id = $2 ORDER BY id",
            )
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Attachment::from).collect())
    }

    /// Attachment `id` with its bytes, if record `owner_id` of kind `owner_kind` owns it.
    pub async fn owned_attachment(
        &self,
        owner_kind: &str,
        owner_id: i64,
        id: i64,
    ) -> Result<(Attachment, Vec<u8>)> {
        let owned: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM attachments WHERE id = $1 AND owner_kind = $2 AND owner_id = $3",
            )
            .bind(id)
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_optional(pool)
            .await?
        });
        match owned {
            Some(id) => self.attachment(id).await,
            None => Err(StoreError::NotFound("attachment")),
        }
    }
}
