//! Hosted datasets through the same decision as services (Q13.1, Q13.3): a system reading the
//! records of a dataset that is not open or public needs an active grant on
//! `Target::Dataset`, a purpose, and quota; it receives only the grant's fields, signed, and
//! the read is a leaf of the transparency log like any exchange. A system reading open or
//! public data needs no grant, but its read is an exchange all the same (Q15.2.e): one leaf,
//! signed, `LGSP-Log-Index`; so is a system token refused on the way in. Anonymous visitors
//! and people reading open data are not logged.

use std::future::Future;
use std::time::Instant;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use futures_util::StreamExt;
use lgsp_core::catalog::DatasetId;
use lgsp_core::exchange::{Attempt, Target};
use lgsp_core::{Actor, AgencyCode, SystemId};

use super::audit::{ExchangeLeaf, Subject};
use super::{authorise, finish, About, Answer, PURPOSE, REQUEST_ID, SUBJECT};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};

/// The route templates recorded for dataset reads: the records, and their change feed.
pub const RECORDS: &str = "/api/v1/datasets/{id}/records";
pub const CHANGES: &str = "/api/v1/datasets/{id}/changes";

/// How a system reads a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Restricted or personal data: under a grant, only its fields.
    Granted,
    /// Open or public data: no grant, the fields anyone sees.
    Open,
}

/// A system's read of a dataset's records.
pub struct Exchange<'a> {
    /// [`RECORDS`] or [`CHANGES`].
    pub route: &'static str,
    pub caller: &'a Caller,
    pub system: &'a SystemId,
    pub headers: &'a HeaderMap,
    pub id: &'a DatasetId,
    pub owner: &'a AgencyCode,
    pub access: Access,
}

impl Exchange<'_> {
    /// Decides, then runs `read` with the granted fields (`None` for open data), and answers
    /// it recorded and signed.
    pub async fn run<F, Fut>(self, state: &AppState, read: F) -> Response
    where
        F: FnOnce(Option<Vec<String>>) -> Fut,
        Fut: Future<Output = Result<Response, ApiError>>,
    {
        let started = Instant::now();
        let at = Utc::now();
        let (mut leaf, request_id) = new_leaf(state, self.headers, self.route, Some(self.id), at);
        leaf.consumer = Some(self.system.clone());
        leaf.client = self.caller.client_id.clone();
        leaf.dataset_owner = Some(self.owner.to_string());
        let purpose = self.headers.get(&PURPOSE).and_then(|v| v.to_str().ok());
        leaf.purpose = purpose.map(str::to_owned);
        let answer = match self.decide(state, &mut leaf, purpose, at, read).await {
            Ok(answer) => answer,
            Err(error) => {
                leaf.refusal = Some(error.code().code());
                Answer::problem(error).await
            }
        };
        finish(state, leaf, &request_id, answer, started).await
    }

    async fn decide<F, Fut>(
        &self,
        state: &AppState,
        leaf: &mut ExchangeLeaf,
        purpose: Option<&str>,
        at: chrono::DateTime<Utc>,
        read: F,
    ) -> Result<Answer, ApiError>
    where
        F: FnOnce(Option<Vec<String>>) -> Fut,
        Fut: Future<Output = Result<Response, ApiError>>,
    {
        let target = Target::Dataset {
            id: self.id.clone(),
        };
        let access = state.gateway.access.current(&state.store).await?;
        // A window on the dataset holds every system's read, open data included: systems are
        // told when to come back (people keep reading open data as last published).
        crate::provider::maintenance::check_open(&access.maintenance(&target).await?, at)?;
        let granted = match self.access {
            Access::Open => None,
            Access::Granted => {
                let grants = access.grants(self.system, &target).await?;
                let attempt = Attempt {
                    consumer: self.system,
                    target: &target,
                    purpose,
                    at,
                };
                let about = About {
                    on: lgsp_store::GrantOn::Dataset(self.id.clone()),
                    subject: leaf.subject.as_ref(),
                };
                let grant = authorise(state, &grants, &attempt, &about).await?;
                leaf.grant = Some(grant.id);
                leaf.fields = grant.fields.as_slice().to_vec();
                Some(grant.fields.as_slice().to_vec())
            }
        };
        let response = read(granted).await?;
        let (parts, body) = response.into_parts();
        let limit = state.settings.gateway_max_response_bytes;
        let mut stream = body.into_data_stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(ApiError::internal)?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(ApiError::new(ErrorCode::ExportTooLarge).detail(format!(
                    "a system's read is signed whole and may be at most {limit} bytes: \
                     ask for pages with `limit`"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body: Bytes::from(bytes),
        })
    }
}

/// The leaf of a read of dataset `id` (unknown if the path was malformed) and the request id
/// it goes under (the caller's `LGSP-Request-Id` if usable, else a new one).
fn new_leaf(
    state: &AppState,
    headers: &HeaderMap,
    route: &'static str,
    id: Option<&DatasetId>,
    at: chrono::DateTime<Utc>,
) -> (ExchangeLeaf, String) {
    let request_id = headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let subject = headers
        .get(&SUBJECT)
        .map(|v| Subject::hash(&state.gateway.subject_salt, v.as_bytes()));
    let mut leaf = ExchangeLeaf::new(at, &request_id, "GET", subject);
    leaf.route = route;
    leaf.target = id.map(|id| Target::Dataset { id: id.clone() });
    (leaf, request_id)
}

/// Whether a request presents a system's access token (see `auth::caller::system_token`).
pub fn bears_system_token(headers: &HeaderMap) -> bool {
    crate::auth::caller::system_token(headers).is_some()
}

/// Answers a system's read of dataset `id` refused before any decision with `error`, after
/// recording the refusal as an exchange leaf, as the gateway records refused exchanges: a
/// token refused on the way in (expired, forged, of a revoked client; `caller` is `None`, since
/// such a token names nobody reliably), a malformed dataset id (`id` is `None`) or a dataset
/// not in the catalog. `owner` is the dataset's owner agency when known.
pub async fn refused(
    state: &AppState,
    headers: &HeaderMap,
    route: &'static str,
    caller: Option<&Caller>,
    id: Option<&DatasetId>,
    owner: Option<&AgencyCode>,
    error: ApiError,
) -> Response {
    let started = Instant::now();
    let (mut leaf, request_id) = new_leaf(state, headers, route, id, Utc::now());
    if let Some(Caller {
        actor: Actor::System(system),
        client_id,
        ..
    }) = caller
    {
        leaf.consumer = Some(system.clone());
        leaf.client = client_id.clone();
    }
    leaf.dataset_owner = owner.map(ToString::to_string);
    leaf.purpose = headers
        .get(&PURPOSE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    leaf.refusal = Some(error.code().code());
    let answer = Answer::problem(error).await;
    finish(state, leaf, &request_id, answer, started).await
}
