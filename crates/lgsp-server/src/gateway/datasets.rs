//! Hosted datasets through the same decision as services (Q13.1, Q13.3): a system reading the
//! records of a dataset that is not open or public needs an active grant on
//! `Target::Dataset`, a purpose, and quota; it receives only the grant's fields, signed, and
//! the read is a leaf of the transparency log like any exchange.

use std::future::Future;
use std::time::Instant;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use futures_util::StreamExt;
use lgsp_core::catalog::DatasetId;
use lgsp_core::exchange::{Attempt, Target};
use lgsp_core::{AgencyCode, SystemId};

use super::audit::{ExchangeLeaf, Subject};
use super::{authorise, finish, Answer, PURPOSE, REQUEST_ID, SUBJECT};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};

/// The route template recorded for dataset reads.
const ROUTE: &str = "/api/v1/datasets/{id}/records";

/// A system's read of a restricted dataset.
pub struct Exchange<'a> {
    pub caller: &'a Caller,
    pub system: &'a SystemId,
    pub headers: &'a HeaderMap,
    pub id: &'a DatasetId,
    pub owner: &'a AgencyCode,
}

impl Exchange<'_> {
    /// Decides, then runs `read` with the granted fields, and answers it recorded and signed.
    pub async fn run<F, Fut>(self, state: &AppState, read: F) -> Response
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = Result<Response, ApiError>>,
    {
        let started = Instant::now();
        let at = Utc::now();
        let request_id = self
            .headers
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
        let subject = self
            .headers
            .get(&SUBJECT)
            .map(|v| Subject::hash(&state.gateway.subject_salt, v.as_bytes()));
        let mut leaf = ExchangeLeaf::new(at, &request_id, "GET", subject);
        leaf.route = ROUTE;
        leaf.consumer = Some(self.system.clone());
        leaf.client = self.caller.client_id.clone();
        leaf.target = Some(Target::Dataset {
            id: self.id.clone(),
        });
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
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = Result<Response, ApiError>>,
    {
        let target = Target::Dataset {
            id: self.id.clone(),
        };
        let access = state.gateway.access.current(&state.store).await?;
        let grants = access.grants(self.system, &target).await?;
        let attempt = Attempt {
            consumer: self.system,
            target: &target,
            purpose,
            at,
        };
        let grant = authorise(state, &grants, &attempt).await?;
        leaf.grant = Some(grant.id);
        leaf.fields = grant.fields.as_slice().to_vec();
        let response = read(grant.fields.as_slice().to_vec()).await?;
        let (parts, body) = response.into_parts();
        let limit = state.settings.gateway_max_response_bytes;
        let mut stream = body.into_data_stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(ApiError::internal)?;
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(ApiError::new(ErrorCode::ExportTooLarge).detail(format!(
                    "a granted read is signed whole and may be at most {limit} bytes: \
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
