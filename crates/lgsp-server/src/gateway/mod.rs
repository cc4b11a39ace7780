//! The exchange gateway (DESIGN "The exchange"; Q6.2, Q6.4, Q8.4–Q8.5, Q9, Q13.1, Q14):
//! `ANY /x/{agency}/{system}/{service}/{version}/{path…}` forwards a consumer system's request
//! to the provider's upstream when a grant allows it, and answers with only the granted fields,
//! provenance, a `Content-Digest` and the platform's RFC 9421 signature. Every exchange,
//! allowed or refused, is one leaf of the transparency log, committed before the answer
//! leaves (`LGSP-Log-Index`).
//!
//! The decision follows `docs/architecture.md` ("Services and grants"): the client, the service
//! and the grants as they are at the store's access revision read for this request (a
//! suspension counts from the next request: see `access`), its upstream re-checked,
//! `lgsp_core::exchange::decide`, the quota taken atomically across nodes (`quota`).

pub mod access;
pub mod audit;
pub mod datasets;
mod forward;
pub mod quota;

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, LAST_MODIFIED};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use chrono::{DateTime, Utc};
use lgsp_core::exchange::{
    decide, Attempt, Grant, GrantBasis, GrantStatus, PurposeCode, Refusal, Target,
};
use lgsp_core::forwarding::{keep_fields, ForwardPath};
use lgsp_core::http_signature::{Component, HttpMessage};
use lgsp_core::secret_guard::QuarantineSource;
use lgsp_core::service::{HttpMethod, JsonPointer, ServiceCode, ServiceVersion};
use lgsp_core::{Actor, AgencyCode, SystemCode, SystemId};
use lgsp_store::{GrantOn, NewQuarantine, Service, Store};

use crate::app::AppState;
use crate::auth::Caller;
use crate::datasets::provenance::{ext_value, CITATION, RETRIEVED_AT, SOURCE};
use crate::error::{ApiError, ErrorCode};
use crate::quarantine::documents;
use crate::signatures::{content_digest, sign};
use crate::transparency::LOG_INDEX;
use access::Access;
use audit::{ExchangeLeaf, Subject};

pub const PURPOSE: HeaderName = HeaderName::from_static("lgsp-purpose");
pub const REQUEST_ID: HeaderName = HeaderName::from_static("lgsp-request-id");
pub const CONSUMER: HeaderName = HeaderName::from_static("lgsp-consumer");
pub const SUBJECT: HeaderName = HeaderName::from_static("lgsp-subject");
pub const CONTENT_DIGEST: HeaderName = HeaderName::from_static("content-digest");
pub const SIGNATURE_INPUT: HeaderName = HeaderName::from_static("signature-input");
pub const SIGNATURE: HeaderName = HeaderName::from_static("signature");

/// The route template recorded in the log (never the filled-in path, which may carry
/// personal identifiers).
pub const ROUTE: &str = "/x/{agency}/{system}/{service}/{version}/{*path}";

/// What the gateway keeps between requests: one pooled HTTP client (connections to providers
/// are reused across requests), the salt of data subjects' hashes, what exchanges are decided
/// on as of the last access revision, this node's quota leases and the system tokens already
/// checked.
pub struct Gateway {
    pub client: reqwest::Client,
    pub subject_salt: [u8; 32],
    pub access: access::AccessCache,
    pub quotas: quota::QuotaLeases,
    pub tokens: crate::auth::jwt::VerifiedTokens,
}

impl Gateway {
    /// The gateway of a node; starts its reader of access revisions on the current runtime.
    pub fn new(settings: &crate::settings::Settings, store: Store) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(
                settings.gateway_connect_timeout_millis,
            ))
            .timeout(Duration::from_millis(settings.gateway_timeout_millis))
            // A provider answers itself; a redirect elsewhere would make the gateway a proxy.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            subject_salt: audit::load_or_create_salt(&settings.data_dir)?,
            access: access::AccessCache::start(store),
            quotas: quota::QuotaLeases::default(),
            tokens: crate::auth::jwt::VerifiedTokens::default(),
        })
    }
}

/// The gateway's routes. They are outside `transparency::record_actions`: the gateway writes
/// its own, richer leaf for every method.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/x/{agency}/{system}/{service}/{version}", any(exchange))
        .route(
            "/x/{agency}/{system}/{service}/{version}/{*path}",
            any(exchange),
        )
}

/// An answer before signing: status, the header fields to send and the body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// A problem answer (RFC 9457), its body read back from the rendered response.
    pub(crate) async fn problem(error: ApiError) -> Self {
        let response = error.into_response();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 64 * 1024)
            .await
            .unwrap_or_default();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

async fn exchange(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let at = Utc::now();
    let headers = request.headers();
    let request_id = headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let subject = headers
        .get(&SUBJECT)
        .map(|v| Subject::hash(&state.gateway.subject_salt, v.as_bytes()));
    let mut leaf = ExchangeLeaf::new(at, &request_id, request.method().as_str(), subject);
    let answer = match run(&state, &mut leaf, at, &request_id, request).await {
        Ok(answer) => answer,
        Err(error) => {
            leaf.refusal = Some(error.code().code());
            let allow = error.extension("allow");
            let mut answer = Answer::problem(error).await;
            if let Some(methods) = allow.as_array() {
                let list: Vec<&str> = methods.iter().filter_map(|m| m.as_str()).collect();
                if let Ok(value) = HeaderValue::from_str(&list.join(", ")) {
                    answer.headers.insert(ALLOW, value);
                }
            }
            answer
        }
    };
    finish(&state, leaf, &request_id, answer, started).await
}

/// Records the exchange, then answers it signed: `Content-Digest`, `LGSP-Request-Id`,
/// `LGSP-Log-Index` and a signature over `@status`, `content-digest` and every `lgsp-*` field.
pub(crate) async fn finish(
    state: &AppState,
    mut leaf: ExchangeLeaf,
    request_id: &str,
    mut answer: Answer,
    started: Instant,
) -> Response {
    let digest = content_digest(&answer.body);
    leaf.status = answer.status.as_u16();
    leaf.response_bytes = answer.body.len() as u64;
    leaf.response_digest = Some(digest.clone());
    leaf.latency_micros = started.elapsed().as_micros() as u64;
    metrics(&leaf, started.elapsed());
    let index = match state
        .log
        .append_exchange(&leaf.to_json(), leaf.entry())
        .await
    {
        Ok(index) => index,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let headers = &mut answer.headers;
    headers.insert(LOG_INDEX, HeaderValue::from(index));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&digest) {
        headers.insert(CONTENT_DIGEST, value);
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(answer.body.len()));
    sign_answer(state, answer.status, headers);
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    response
}

/// Signs a response: RFC 9421, label `sig1`, `created`/`keyid`/`alg` only, covering
/// `@status`, `content-digest` and every `lgsp-*` field in name order.
fn sign_answer(state: &AppState, status: StatusCode, headers: &mut HeaderMap) {
    let mut names: Vec<&str> = headers
        .keys()
        .map(HeaderName::as_str)
        .filter(|name| name.starts_with("lgsp-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut message = HttpMessage::response(status.as_u16());
    let mut components = vec![Component::Status];
    for name in std::iter::once("content-digest").chain(names) {
        let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let Ok(component) = Component::field(name) else {
            continue;
        };
        message = message.with_field(name, value);
        components.push(component);
    }
    match sign(
        state.keys.active(),
        &message,
        components,
        Utc::now().timestamp(),
    ) {
        Ok(fields) => {
            if let (Ok(input), Ok(signature)) = (
                HeaderValue::from_str(&fields.signature_input),
                HeaderValue::from_str(&fields.signature),
            ) {
                headers.insert(SIGNATURE_INPUT, input);
                headers.insert(SIGNATURE, signature);
            }
        }
        Err(error) => tracing::error!(error = %error, "could not sign an exchange"),
    }
}

fn metrics(leaf: &ExchangeLeaf, elapsed: Duration) {
    let labels = [
        ("service", leaf.target_label()),
        ("consumer", leaf.consumer_label()),
        ("status", leaf.status.to_string()),
    ];
    metrics::counter!("lgsp_exchanges_total", &labels).increment(1);
    metrics::histogram!("lgsp_exchange_duration_seconds", &labels).record(elapsed.as_secs_f64());
    metrics::histogram!("lgsp_exchange_response_bytes", &labels).record(leaf.response_bytes as f64);
    metrics::histogram!("lgsp_exchange_request_bytes", &labels).record(leaf.request_bytes as f64);
}

/// The service a gateway path names, and the rest of the path to forward.
struct Named {
    provider: SystemId,
    code: ServiceCode,
    version: ServiceVersion,
    rest: ForwardPath,
}

/// Reads `/x/{agency}/{system}/{service}/{version}[/rest]` from the path as sent (still
/// percent-encoded, so that encoded slashes and dots are seen and refused).
fn parse_path(raw: &str) -> Result<Named, ApiError> {
    let unknown = || ApiError::new(ErrorCode::ResourceNotFound).detail("no such service");
    let after = raw.strip_prefix("/x/").ok_or_else(unknown)?;
    let mut parts = after.splitn(5, '/');
    let mut next = || parts.next().filter(|p| !p.is_empty()).ok_or_else(unknown);
    let (agency, system, code, version) = (next()?, next()?, next()?, next()?);
    let rest = parts.next().map(|r| format!("/{r}")).unwrap_or_default();
    let provider = SystemId {
        agency: AgencyCode::parse(agency).map_err(|_| unknown())?,
        code: SystemCode::parse(system).map_err(|_| unknown())?,
    };
    Ok(Named {
        provider,
        code: ServiceCode::parse(code).map_err(|_| unknown())?,
        version: ServiceVersion::parse(version).map_err(|_| unknown())?,
        rest: ForwardPath::parse(&rest).map_err(|e| {
            ApiError::new(ErrorCode::InvalidParameter)
                .detail(e.to_string())
                .with("parameter", serde_json::json!("path"))
        })?,
    })
}

/// The consumer system a request comes from: only systems exchange through the gateway.
pub(crate) async fn consumer(
    state: &AppState,
    access: &Access<'_>,
    parts: &mut axum::http::request::Parts,
    leaf: &mut ExchangeLeaf,
) -> Result<SystemId, ApiError> {
    use axum::extract::FromRequestParts;
    let caller = match crate::auth::caller::system_token(&parts.headers) {
        Some(token) => crate::auth::caller::system_caller(state, access, token).await?,
        None => Caller::from_request_parts(parts, state).await?,
    };
    match caller.actor {
        Actor::System(system) => {
            leaf.consumer = Some(system.clone());
            leaf.client = caller.client_id;
            Ok(system)
        }
        Actor::Anonymous => Err(ApiError::new(ErrorCode::AuthenticationRequired).detail(
            "send a system's access token from /oauth/token: `Authorization: Bearer <token>`",
        )),
        Actor::Person { .. } => Err(ApiError::new(ErrorCode::Forbidden).detail(
            "only agency systems exchange data through the gateway, with a token from /oauth/token",
        )),
    }
}

/// What an exchange is about beyond the decision's facts: the resource as stored (for
/// consents) and the data subject it names (`LGSP-Subject`, hashed).
pub(crate) struct About<'a> {
    pub on: GrantOn,
    pub subject: Option<&'a Subject>,
}

/// The grant an exchange goes under, taken with its quota, or the refusal as a problem.
///
/// The common case costs no read of the counters: the decision is first taken as if no quota
/// were used, and the chosen grant's quota is then taken atomically (`take_quota`). Only when
/// that quota is used up are the counters read and the decision taken again with them, so the
/// outcome is that of `decide` over the real counters. A grant resting on consent is checked
/// against the subject's consents before any quota is taken ([`consented`]).
pub(crate) async fn authorise<'g>(
    state: &AppState,
    grants: &'g [Grant],
    attempt: &Attempt<'_>,
    about: &About<'_>,
) -> Result<&'g Grant, ApiError> {
    let grant = decide(grants, attempt, |_| 0).map_err(|refusal| refused(refusal, grants))?;
    consented(state, grant, attempt, about).await?;
    if take(state, grant, attempt.at).await? {
        return Ok(grant);
    }
    let ids: Vec<i64> = grants.iter().map(|g| g.id).collect();
    let usage = state.store.grant_usage(&ids, attempt.at).await?;
    let again = decide(grants, attempt, |id| usage.get(&id).copied().unwrap_or(0))
        .map_err(|refusal| refused(refusal, grants))?;
    if again.id != grant.id {
        consented(state, again, attempt, about).await?;
    }
    if take(state, again, attempt.at).await? {
        return Ok(again);
    }
    Err(refused(
        Refusal::QuotaExceeded {
            retry_after_seconds: 60 - attempt.at.timestamp().rem_euclid(60) as u64,
        },
        grants,
    ))
}

/// Q15.2.h, Q7.4 (Decree 13/2023 art. 11): an exchange under a grant resting on consent names
/// its data subject in `LGSP-Subject` (`subject_required`) and goes through only while that
/// subject's consent is in force — not revoked, not expired — for the consumer agency (and
/// system, if the consent names one), this resource, the request's purpose and every field of
/// the grant (`consent_required`). Consents are read here on each such exchange, one indexed
/// query, not kept under the access revision: a revocation counts from the very next request
/// on every node, and exchanges under a legal basis pay nothing for it.
pub(crate) async fn consented(
    state: &AppState,
    grant: &Grant,
    attempt: &Attempt<'_>,
    about: &About<'_>,
) -> Result<(), ApiError> {
    if grant.basis != GrantBasis::Consent {
        return Ok(());
    }
    let subject = about.subject.ok_or_else(|| {
        ApiError::new(ErrorCode::SubjectRequired).detail(
            "this grant rests on the data subject's consent: name the subject in `LGSP-Subject`",
        )
    })?;
    let purpose = attempt
        .purpose
        .and_then(|p| PurposeCode::parse(p.trim()).ok())
        .ok_or_else(|| ApiError::new(ErrorCode::PurposeRequired))?;
    let live = state
        .store
        .live_consents(
            subject.as_str(),
            &grant.consumer.agency,
            &grant.consumer.code,
            &about.on,
            &purpose,
            attempt.at,
        )
        .await?;
    let service = matches!(about.on, GrantOn::Service(_));
    if live
        .iter()
        .any(|c| lgsp_core::consent::covers(&c.fields, grant.fields.as_slice(), service))
    {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::ConsentRequired).detail(
            "the data subject has no consent in force for this consumer, resource, purpose and \
             the granted fields",
        ))
    }
}

/// Counts one request under `grant` if its quota has room (from this node's lease when it
/// holds one). A grant without a quota has nothing to count: no write on the request's path.
async fn take(state: &AppState, grant: &Grant, at: DateTime<Utc>) -> Result<bool, ApiError> {
    Ok(state.gateway.quotas.take(&state.store, grant, at).await?)
}

/// The problem a refusal is answered with (each its stable code).
fn refused(refusal: Refusal, grants: &[Grant]) -> ApiError {
    let reason = |suspended: bool| {
        grants
            .iter()
            .find_map(|g| match (&g.status, suspended) {
                (GrantStatus::Suspended { reason }, true)
                | (GrantStatus::Terminated { reason }, false) => Some(reason.to_string()),
                _ => None,
            })
            .unwrap_or_default()
    };
    match refusal {
        Refusal::PurposeMissing => ApiError::new(ErrorCode::PurposeRequired)
            .detail("send `LGSP-Purpose` with one of the grant's purpose codes"),
        Refusal::NoGrant => ApiError::new(ErrorCode::NoGrant)
            .detail("the consumer system holds no grant on this resource"),
        Refusal::Suspended => {
            let reason = reason(true);
            ApiError::new(ErrorCode::GrantSuspended)
                .detail(format!("the grant is suspended: {reason}"))
                .with("reason", serde_json::json!(reason))
        }
        Refusal::Terminated => {
            let reason = reason(false);
            ApiError::new(ErrorCode::GrantTerminated)
                .detail(format!("the grant is terminated: {reason}"))
                .with("reason", serde_json::json!(reason))
        }
        Refusal::OutsideValidity => ApiError::new(ErrorCode::GrantNotInForce)
            .detail("the grant is not in force at this time"),
        Refusal::PurposeNotGranted => {
            let mut purposes: Vec<&str> = grants
                .iter()
                .filter(|g| g.status.is_active())
                .flat_map(|g| g.purposes.as_slice().iter().map(|p| p.as_str()))
                .collect();
            purposes.sort_unstable();
            purposes.dedup();
            ApiError::new(ErrorCode::PurposeNotGranted)
                .detail("the grant does not serve this purpose")
                .with("purposes", serde_json::json!(purposes))
        }
        Refusal::QuotaExceeded {
            retry_after_seconds,
        } => ApiError::new(ErrorCode::QuotaExceeded)
            .detail("the grant's requests per minute are used up")
            .retry_after(retry_after_seconds.max(1)),
    }
}

async fn run(
    state: &AppState,
    leaf: &mut ExchangeLeaf,
    at: DateTime<Utc>,
    request_id: &str,
    request: Request,
) -> Result<Answer, ApiError> {
    let (mut parts, body) = request.into_parts();
    let access = state.gateway.access.current(&state.store).await?;
    let consumer = consumer(state, &access, &mut parts, leaf).await?;
    let named = parse_path(parts.uri.path())?;
    leaf.target = Some(Target::Service {
        provider: named.provider.clone(),
        code: named.code.clone(),
        version: named.version.clone(),
    });
    let service = access
        .service(&named.provider, &named.code, &named.version)
        .await?
        .filter(|s| s.state.is_served())
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ResourceNotFound).detail("no such published service")
        })?;
    let method = HttpMethod::parse(parts.method.as_str())
        .ok()
        .filter(|m| service.methods.allows(*m))
        .ok_or_else(|| method_not_allowed(&service))?;
    let purpose = parts.headers.get(&PURPOSE).and_then(|v| v.to_str().ok());
    leaf.purpose = purpose.map(str::to_owned);
    let target = service.target();
    crate::provider::maintenance::check_open(&access.maintenance(&target).await?, at)?;
    let grants = access.grants(&consumer, &target).await?;
    let attempt = Attempt {
        consumer: &consumer,
        target: &target,
        purpose,
        at,
    };
    let about = About {
        on: GrantOn::Service(service.id),
        subject: leaf.subject.as_ref(),
    };
    let grant = authorise(state, &grants, &attempt, &about).await?;
    leaf.grant = Some(grant.id);
    let upstream = service.upstream().map_err(|error| {
        tracing::error!(service = service.id, error = %error, "a service's upstream left its system");
        ApiError::new(ErrorCode::UpstreamUnreachable)
    })?;
    let body = forward::read_body(body, state.settings.gateway_max_request_bytes).await?;
    leaf.request_bytes = body.len() as u64;
    if !body.is_empty() {
        leaf.request_digest = Some(content_digest(&body));
    }
    let request_type = parts.headers.get(CONTENT_TYPE);
    guard_payload(
        state,
        leaf,
        QuarantineSource::ExchangeRequest,
        request_type,
        &body,
    )
    .await?;
    let sent = forward::Outgoing {
        method,
        upstream: upstream.as_str(),
        path: &named.rest,
        query: parts.uri.query(),
        headers: &parts.headers,
        consumer: &consumer,
        purpose: purpose.unwrap_or_default().trim(),
        request_id,
        body,
    };
    let received = forward::send(state, sent).await?;
    let fields: Vec<JsonPointer> = grant
        .fields
        .as_slice()
        .iter()
        .filter_map(|f| JsonPointer::parse(f).ok())
        .collect();
    let body = filter(&service, &fields, &received.headers, received.body)?;
    guard_payload(
        state,
        leaf,
        QuarantineSource::ExchangeResponse,
        received.headers.get(CONTENT_TYPE),
        &body,
    )
    .await?;
    leaf.fields = grant.fields.as_slice().to_vec();
    let mut headers = HeaderMap::new();
    for name in [
        CONTENT_TYPE,
        LAST_MODIFIED,
        axum::http::header::CONTENT_LANGUAGE,
        axum::http::header::CACHE_CONTROL,
    ] {
        if let Some(value) = received.headers.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    provenance(&service, at, &state.settings, &mut headers);
    Ok(Answer {
        status: received.status,
        headers,
        body,
    })
}

/// Q20.3: refuses a payload with a suspected state-secret marking (451), holding it for the
/// auditors, unless the same payload to or from the same service was released. Only text-like
/// bodies are read (JSON, text, XML, CSV, forms, or no declared type), and most of those cost
/// one pass of the guard's byte prefilter.
async fn guard_payload(
    state: &AppState,
    leaf: &ExchangeLeaf,
    source: QuarantineSource,
    content_type: Option<&HeaderValue>,
    body: &Bytes,
) -> Result<(), ApiError> {
    if body.is_empty() || !state.secret_guard.may_contain(body) {
        return Ok(());
    }
    let media_type = content_type
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/plain")
        .to_owned();
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let text_like = essence.starts_with("text/")
        || essence == "application/json"
        || essence.ends_with("+json")
        || essence.ends_with("/xml")
        || essence.ends_with("+xml")
        || essence == "application/x-www-form-urlencoded";
    if !text_like {
        return Ok(());
    }
    let findings = documents::scan(&state.secret_guard, body, &media_type, None);
    if findings.is_empty() {
        return Ok(());
    }
    let service = leaf.target_label();
    let scope = format!("service:{service}");
    let digest = crate::quarantine::sha256_hex(body);
    if state
        .store
        .released_fingerprints(&scope)
        .await?
        .contains(&digest)
    {
        return Ok(());
    }
    let consumer = leaf.consumer_label();
    let (submitted_by, agency) = match (source, &leaf.target, &leaf.consumer) {
        (QuarantineSource::ExchangeResponse, Some(Target::Service { provider, .. }), _) => (
            format!("system:{}/{}", provider.agency, provider.code),
            Some(provider.agency.to_string()),
        ),
        (_, _, Some(system)) => (
            format!("system:{consumer}"),
            Some(system.agency.to_string()),
        ),
        _ => (format!("system:{consumer}"), None),
    };
    Err(crate::quarantine::hold(
        state,
        NewQuarantine {
            source,
            scope,
            dataset_id: None,
            import_job: None,
            request_id: Some(leaf.request_id.clone()),
            service: Some(service),
            consumer: Some(consumer),
            agency_code: agency,
            submitted_by,
            media_type,
            filename: None,
            content: body.to_vec(),
            content_bytes: body.len() as i64,
            content_sha256: digest.clone(),
            fingerprints: vec![digest],
            findings,
        },
    )
    .await)
}

fn method_not_allowed(service: &Service) -> ApiError {
    let allowed: Vec<&str> = service
        .methods
        .as_slice()
        .iter()
        .map(|m| m.as_str())
        .collect();
    ApiError::new(ErrorCode::MethodNotAllowed)
        .detail(format!("this service takes {}", allowed.join(", ")))
        .with("allow", serde_json::json!(allowed))
}

/// Keeps the granted fields of a JSON answer. Other answers pass unchanged only when the grant
/// covers every field the provider shares (nothing to pick out), and an empty body is empty.
fn filter(
    service: &Service,
    fields: &[JsonPointer],
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Bytes, ApiError> {
    if body.is_empty() {
        return Ok(body);
    }
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| t == "application/json" || t.ends_with("+json"));
    if is_json {
        let document: serde_json::Value = serde_json::from_slice(&body).map_err(|error| {
            tracing::warn!(service = service.id, error = %error, "a provider answered malformed JSON");
            ApiError::new(ErrorCode::UpstreamInvalidResponse)
        })?;
        let kept = keep_fields(&document, fields);
        return Ok(Bytes::from(
            serde_json::to_vec(&kept).map_err(ApiError::internal)?,
        ));
    }
    let covers_all = service
        .shareable_fields
        .as_slice()
        .iter()
        .all(|shared| fields.iter().any(|f| shared.is_within(f)));
    if covers_all {
        Ok(body)
    } else {
        tracing::warn!(
            service = service.id,
            "a non-JSON answer cannot be filtered to the grant"
        );
        Err(ApiError::new(ErrorCode::UpstreamInvalidResponse))
    }
}

/// Q14: where the answer comes from and when it was retrieved, with a ready citation.
fn provenance(
    service: &Service,
    at: DateTime<Utc>,
    settings: &crate::settings::Settings,
    headers: &mut HeaderMap,
) {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    let source = format!(
        "{}; name*={}; system={}; service={}/{}",
        service.provider.agency,
        ext_value(&service.provider_name),
        service.provider.code,
        service.code,
        service.version
    );
    let base = settings
        .public_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/');
    let citation = format!(
        "{} ({}), dịch vụ “{}” ({} {}), {}/services, truy xuất lúc {} qua Nền tảng tích hợp, chia sẻ dữ liệu.",
        service.provider_name,
        service.provider.agency,
        service.name,
        service.code,
        service.version,
        base,
        at.with_timezone(&vietnam).format("%H:%M:%S ngày %d/%m/%Y")
    );
    for (name, value) in [
        (SOURCE, source),
        (
            RETRIEVED_AT,
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ),
        (CITATION, ext_value(&citation)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}
