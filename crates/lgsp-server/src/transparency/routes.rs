//! The log over HTTP: C2SP `tlog-tiles` at `/log/…` (checkpoint, verifier key, hash tiles,
//! entry bundles — static-file shaped, cacheable forever once written); one entry with its
//! inclusion proof, and inclusion and consistency proofs between sizes, at `/log/entries/{index}`
//! and `/log/proof/…` and, documented, under `/api/v1/log/…`.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use lgsp_tlog::{encode_bundle, Tile};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sign_checkpoint;
use crate::app::AppState;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Path, Query};

/// The C2SP paths, outside the versioned API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/key", get(verifier_key))
        .route("/log/tile/{*path}", get(tile))
        .route("/log/entries/{index}", get(entry))
        .route("/log/proof/inclusion", get(inclusion))
        .route("/log/proof/consistency", get(consistency))
}

/// The documented JSON endpoints, under `/api/v1`.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(entry))
        .routes(routes!(inclusion))
        .routes(routes!(consistency))
}

fn text(body: String, cache: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8"),
            (CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// The newest signed checkpoint, signing one first if the log has grown past it.
pub async fn current_checkpoint(
    state: &AppState,
) -> Result<lgsp_store::StoredCheckpoint, ApiError> {
    if let Some(latest) = state.store.latest_checkpoint().await? {
        return Ok(latest);
    }
    sign_checkpoint(state).await?;
    state
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no checkpoint after signing one")))
}

async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let latest = current_checkpoint(&state).await?;
    Ok(text(latest.note, "no-cache"))
}

/// The verifier key of checkpoints: `<origin>+<key id>+<base64 key>`.
async fn verifier_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let signer = super::signer(&state.keys, &state.log.origin).map_err(ApiError::internal)?;
    Ok(text(signer.verifier_key() + "\n", "no-cache"))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such tile\n").into_response()
}

async fn tile(
    State(state): State<AppState>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    serve_tile(&state, &format!("tile/{path}")).await
}

/// A hash tile (concatenated 32-byte hashes) or an entry bundle, if the latest checkpoint
/// covers all of it. Tiles never change once they exist.
async fn serve_tile(state: &AppState, path: &str) -> Result<Response, ApiError> {
    let Ok(tile) = Tile::parse(path) else {
        return Ok(not_found());
    };
    let size = current_checkpoint(state).await?.size;
    if !tile.is_within(size) {
        return Ok(not_found());
    }
    let body = match tile.level {
        Some(_) => {
            let indexes = tile.hash_indexes();
            let hashes = state.store.log_hashes(&indexes).await?;
            let mut body = Vec::with_capacity(indexes.len() * 32);
            for index in indexes {
                let hash = hashes.get(&index).ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("stored hash {index} missing"))
                })?;
                body.extend_from_slice(hash);
            }
            body
        }
        None => {
            let first = tile.first();
            let entries = state
                .store
                .log_entries(first, first + u64::from(tile.width))
                .await?;
            encode_bundle(entries.iter().map(Vec::as_slice)).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("an entry is too long for a bundle"))
            })?
        }
    };
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream"),
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        Body::from(body),
    )
        .into_response())
}

fn b64(hashes: &[lgsp_tlog::Hash]) -> Vec<String> {
    hashes.iter().map(|h| BASE64.encode(h)).collect()
}

/// One leaf of the log with the proof that the signed checkpoint includes it.
#[derive(Serialize, ToSchema)]
pub struct LoggedEntry {
    pub index: u64,
    /// The leaf's content: canonical JSON.
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
    /// SHA-256(0x00 ‖ entry), base64.
    pub leaf_hash: String,
    /// The signed checkpoint (C2SP signed note) the proof leads to.
    pub checkpoint: String,
    pub tree_size: u64,
    /// The RFC 9162 inclusion proof, base64 hashes from the leaf upwards.
    pub inclusion_proof: Vec<String>,
}

/// An entry of the transparency log, with its inclusion proof against a signed checkpoint.
#[utoipa::path(get, path = "/log/entries/{index}", tag = "transparency",
    params(("index" = u64, Path, description = "The leaf index (`LGSP-Log-Index`)")),
    responses((status = 200, body = LoggedEntry), (status = 404, body = ProblemDoc)))]
async fn entry(
    State(state): State<AppState>,
    Path(index): Path<u64>,
) -> Result<axum::Json<LoggedEntry>, ApiError> {
    Ok(axum::Json(prove_entry(&state, index).await?))
}

/// Entry `index` with its inclusion proof against the newest checkpoint (signing one first if
/// the entry came after it).
pub async fn prove_entry(state: &AppState, index: u64) -> Result<LoggedEntry, ApiError> {
    let missing = || {
        ApiError::new(ErrorCode::ResourceNotFound).detail(format!("the log has no entry {index}"))
    };
    let mut checkpoint = current_checkpoint(state).await?;
    if index >= checkpoint.size {
        // A leaf committed since the last checkpoint: sign one that covers it now.
        if index >= state.store.log_size().await? {
            return Err(missing());
        }
        sign_checkpoint(state).await?;
        checkpoint = current_checkpoint(state).await?;
    }
    let raw = state
        .store
        .log_entries(index, index + 1)
        .await?
        .pop()
        .ok_or_else(missing)?;
    let proof = state
        .store
        .log_inclusion_proof(index, checkpoint.size)
        .await?;
    Ok(LoggedEntry {
        index,
        entry: serde_json::from_slice(&raw).map_err(ApiError::internal)?,
        leaf_hash: BASE64.encode(lgsp_tlog::leaf_hash(&raw)),
        checkpoint: checkpoint.note,
        tree_size: checkpoint.size,
        inclusion_proof: b64(&proof),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The leaf index.
    index: u64,
    /// The tree size [default: the latest checkpoint's].
    size: Option<u64>,
}

/// An inclusion proof.
#[derive(Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// RFC 9162 inclusion proof, base64 hashes from the leaf upwards.
    pub proof: Vec<String>,
}

fn bad_size(latest: u64, parameter: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter)
        .detail(format!(
            "sizes go up to {latest} (the latest checkpoint's); an index must be below the size"
        ))
        .with("parameter", serde_json::json!(parameter))
}

/// The proof that entry `index` is in the log at `size` entries.
#[utoipa::path(get, path = "/log/proofs/inclusion", tag = "transparency",
    params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 400, body = ProblemDoc)))]
async fn inclusion(
    State(state): State<AppState>,
    Query(query): Query<InclusionQuery>,
) -> Result<axum::Json<InclusionProof>, ApiError> {
    let latest = current_checkpoint(&state).await?.size;
    let size = query.size.unwrap_or(latest);
    if size > latest {
        return Err(bad_size(latest, "size"));
    }
    if query.index >= size {
        return Err(bad_size(latest, "index"));
    }
    let proof = state.store.log_inclusion_proof(query.index, size).await?;
    Ok(axum::Json(InclusionProof {
        index: query.index,
        size,
        proof: b64(&proof),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SizesQuery {
    /// The older tree size.
    old: u64,
    /// The newer tree size (at most the latest checkpoint's).
    new: u64,
}

/// A consistency proof between two tree sizes.
#[derive(Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub old: u64,
    pub new: u64,
    /// RFC 9162 consistency proof, base64 hashes.
    pub proof: Vec<String>,
}

/// The proof that the log at `new` entries extends the log at `old` entries.
#[utoipa::path(get, path = "/log/proofs/consistency", tag = "transparency",
    params(SizesQuery),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = ProblemDoc)))]
async fn consistency(
    State(state): State<AppState>,
    Query(sizes): Query<SizesQuery>,
) -> Result<axum::Json<ConsistencyProof>, ApiError> {
    let latest = current_checkpoint(&state).await?.size;
    if sizes.new > latest {
        return Err(bad_size(latest, "new"));
    }
    if sizes.old > sizes.new {
        return Err(bad_size(latest, "old"));
    }
    let proof = state
        .store
        .log_consistency_proof(sizes.old, sizes.new)
        .await?;
    Ok(axum::Json(ConsistencyProof {
        old: sizes.old,
        new: sizes.new,
        proof: b64(&proof),
    }))
}
