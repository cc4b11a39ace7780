//! `/api/v1/datasets/{id}/changes`: a dataset's change feed, so that a consuming system keeps
//! a copy current without downloading everything again (Q5.3.b).

use axum::extract::State;
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use lgsp_core::catalog::DatasetId;
use lgsp_core::{may_see_personal_fields, Action, Actor};
use lgsp_store::ChangePage;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::downloads::Columns;
use super::records::{allowed, published, query_pairs, refused_read, table};
use crate::app::AppState;
use crate::auth::Caller;
use crate::ckan::base_url;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::Path;
use crate::gateway::datasets::{bears_system_token, Access, Exchange, CHANGES};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_changes))
}

/// The default and largest page of changes.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 10_000;

/// One change: `record` is the record after it (null for a delete); `key` its primary key
/// (for a dataset without one, every field of the record that went or came).
#[derive(Serialize, ToSchema)]
pub struct ChangeDoc {
    seq: i64,
    /// `insert`, `update` or `delete`.
    op: &'static str,
    changed_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = Object)]
    key: Map<String, Value>,
    #[schema(value_type = Option<Object>)]
    record: Option<Map<String, Value>>,
}

#[derive(Serialize, ToSchema)]
pub struct ChangesDoc {
    changes: Vec<ChangeDoc>,
    /// The `since` to ask next: the last change given, or `since` when there was none.
    next: i64,
    /// The newest change there is.
    last_seq: i64,
}

/// Renders changes as the feed shows them (and pushes send them): personal fields only when
/// `personal`; the key is the primary key, or every shown field without one.
pub(crate) fn change_docs(
    table: &lgsp_store::RecordTable,
    changes: &[lgsp_store::Change],
    personal: bool,
) -> Vec<ChangeDoc> {
    let schema = &table.schema;
    let shown = Columns {
        fields: schema
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| personal || !f.personal)
            .map(|(i, f)| (i, f.clone()))
            .collect(),
    };
    let key_columns = if schema.primary_key.is_empty() {
        shown.clone()
    } else {
        Columns {
            fields: shown
                .fields
                .iter()
                .filter(|(_, f)| schema.primary_key.contains(&f.name))
                .cloned()
                .collect(),
        }
    };
    changes
        .iter()
        .map(|change| ChangeDoc {
            seq: change.seq,
            op: change.op.as_str(),
            changed_at: change.changed_at,
            key: key_columns.object(&change.values),
            record: (change.op != lgsp_store::ChangeOp::Delete)
                .then(|| shown.object(&change.values)),
        })
        .collect()
}

impl ChangeDoc {
    pub(crate) fn seq(&self) -> i64 {
        self.seq
    }
}

fn invalid(parameter: &str, detail: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter)
        .detail(format!("`{parameter}` {detail}"))
        .with("parameter", Value::from(parameter))
}

/// Read a dataset's changes after sequence number `since` (0, the default, is the beginning),
/// in order: every committed import adds its inserts, updates and deletes under the dataset's
/// sequence, strictly increasing and without gaps. Follow `next` (also in `Link: rel="next"`
/// while more are waiting). Changes older than the retention period are pruned: asking from
/// before them answers 410 `changes_expired`, and the client downloads the records in full
/// again. Access as for the records; personal fields only for the owner side. A system follows
/// the feed of open and public data; its read, or its refused token, is an exchange: signed
/// (`Content-Digest`, `Signature`) and recorded in the transparency log (`LGSP-Log-Index`).
#[utoipa::path(get, path = "/datasets/{id}/changes", tag = "datasets",
    params(("id" = String, Path, description = "Dataset id"),
        ("since" = Option<i64>, Query, description = "The last sequence number already seen (default 0)"),
        ("limit" = Option<u32>, Query, description = "1–10000, default 100")),
    responses((status = 200, body = ChangesDoc),
        (status = 400, body = ProblemDoc, description = "`invalid_parameter` naming the parameter"),
        (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 410, body = ProblemDoc, description = "`changes_expired` with `oldest_seq` and `last_seq`")))]
async fn read_changes(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    path: Result<Path<DatasetId>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = match caller {
        Ok(caller) => caller,
        // A refused system token is a refused exchange, recorded as the gateway's are.
        Err(error) if bears_system_token(&headers) => {
            let id = path.ok().map(|Path(id)| id);
            return Ok(refused_read(&state, &headers, CHANGES, None, id.as_ref(), error).await);
        }
        Err(error) => return Err(error),
    };
    let Actor::System(system) = &caller.actor else {
        let Path(id) = path?;
        return changes(&state, &caller, &headers, &uri, &id).await;
    };
    // A system's read of the feed is an exchange (Q15.2.e), refusals too. The feed carries
    // whole records, so the policy serves it for open and public data only (restricted data
    // reaches a system as a grant's fields, through `/records`): no grant is looked up here.
    let (id, owner) = match path {
        Ok(Path(id)) => match published(&state, &id).await {
            Ok((owner, ..)) => (id, owner),
            Err(error) => {
                let caller = Some(&caller);
                return Ok(refused_read(&state, &headers, CHANGES, caller, Some(&id), error).await);
            }
        },
        Err(error) => {
            return Ok(refused_read(&state, &headers, CHANGES, Some(&caller), None, error).await)
        }
    };
    let exchange = Exchange {
        route: CHANGES,
        caller: &caller,
        system,
        headers: &headers,
        id: &id,
        owner: &owner,
        access: Access::Open,
    };
    Ok(exchange
        .run(&state, |_| changes(&state, &caller, &headers, &uri, &id))
        .await)
}

/// A page of the feed, if `caller` may read the dataset's records.
async fn changes(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    id: &DatasetId,
) -> Result<Response, ApiError> {
    let params = query_pairs(uri)?;
    let (mut since, mut limit) = (0i64, DEFAULT_LIMIT);
    for (name, value) in &params {
        match name.as_str() {
            "since" => {
                since = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| invalid("since", "is a sequence number: 0 or more"))?
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| invalid("limit", "is a number from 1 to 10000"))?
            }
            other => return Err(invalid(other, "is not a parameter of the change feed")),
        }
    }
    let (owner, _) = allowed(state, caller, id, Action::Read).await?;
    let table = table(state, id).await?;
    let personal = may_see_personal_fields(&caller.actor, &owner);
    let (changes, last_seq) = match state.store.changes(&table, since, limit).await? {
        ChangePage::Changes { changes, last_seq } => (changes, last_seq),
        ChangePage::Expired {
            pruned_seq,
            last_seq,
        } => {
            return Err(ApiError::new(ErrorCode::ChangesExpired)
                .detail(format!(
                    "changes up to {pruned_seq} are no longer kept: the oldest available is {}; \
                     download the records in full, then follow the feed from {last_seq}",
                    pruned_seq + 1
                ))
                .with("oldest_seq", Value::from(pruned_seq + 1))
                .with("last_seq", Value::from(last_seq)))
        }
    };
    let docs = change_docs(&table, &changes, personal);
    let next = docs.last().map_or(since, |c| c.seq);
    let mut response = axum::Json(ChangesDoc {
        changes: docs,
        next,
        last_seq,
    })
    .into_response();
    if next < last_seq {
        let base = base_url(state, headers);
        let link = format!(
            "<{base}/api/v1/datasets/{id}/changes?since={next}&limit={limit}>; rel=\"next\""
        );
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(LINK, value);
        }
    }
    Ok(response)
}
