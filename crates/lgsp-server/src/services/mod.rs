//! Services of provider systems behind the gateway (Q7.2, Q8.1): registration by the provider
//! agency or the operator, the lifecycle `draft → published → deprecated → retired`, the
//! OpenAPI document and connection guide (public once published), and the conformance check.

use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lgsp_core::catalog::{Classification, SharingMode};
use lgsp_core::service::{
    check_upstream, take_step, LifecycleStep, Methods, OpenApiDocument, ServiceCode, ServiceDocs,
    ServiceSpec, ServiceState, ServiceVersion, ShareableFields,
};
use lgsp_core::{Action, AgencyCode, HttpUrl, Readiness, Resource, SystemCode, SystemId, Text};
use lgsp_store::{Service, ServiceCheck, ServiceEvent, ServiceFilter, StoreError, System};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod conformance;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, replace_service))
        .routes(routes!(publish))
        .routes(routes!(deprecate))
        .routes(routes!(retire))
        .routes(routes!(openapi_document))
        .routes(routes!(connection_guide))
        .routes(routes!(run_conformance, latest_conformance))
}

/// A service as the API shows it, with where to find its documents and how to call it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    #[serde(flatten)]
    pub service: Service,
    /// The service's OpenAPI document.
    pub openapi_url: String,
    /// The connection guide as text.
    pub docs_url: String,
    /// Where consumers call it through the gateway.
    pub gateway_path: String,
}

impl From<Service> for ServiceView {
    fn from(service: Service) -> Self {
        let id = service.id;
        Self {
            openapi_url: format!("/api/v1/services/{id}/openapi.json"),
            docs_url: format!("/api/v1/services/{id}/docs"),
            gateway_path: gateway_path(&service),
            service,
        }
    }
}

/// `/x/{agency}/{system}/{service}/{version}/`.
pub fn gateway_path(service: &Service) -> String {
    format!(
        "/x/{}/{}/{}/{}/",
        service.provider.agency, service.provider.code, service.code, service.version
    )
}

/// Whether the public may see a service: every one that was ever published.
pub fn is_public(service: &Service) -> bool {
    service.state != ServiceState::Draft
}

/// The policy's resource for a service.
pub fn resource(service: &Service) -> Resource<'_> {
    Resource::Service {
        owner: &service.provider.agency,
        published: is_public(service),
    }
}

/// What a provider sends to register a service, or to replace a draft's registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    /// The provider agency (required to register; cannot change afterwards).
    #[schema(value_type = Option<String>)]
    pub agency: Option<AgencyCode>,
    /// The provider system of that agency (required to register; cannot change afterwards).
    #[schema(value_type = Option<String>)]
    pub system: Option<SystemCode>,
    /// `[a-z0-9-]`, as in the gateway path.
    #[schema(value_type = String)]
    pub code: ServiceCode,
    /// e.g. `v1`.
    #[schema(value_type = String)]
    pub version: ServiceVersion,
    /// The name people read (Vietnamese).
    #[schema(value_type = String)]
    pub name: Text,
    /// The provider system's URL the gateway forwards to; on the system's registered origin.
    #[schema(value_type = String)]
    pub upstream_url: HttpUrl,
    #[schema(value_type = Vec<String>)]
    pub methods: Methods,
    /// An OpenAPI 3.0 or 3.1 document (JSON).
    #[schema(value_type = Object)]
    pub openapi: serde_json::Value,
    /// JSON pointers (RFC 6901) of the response fields the provider agrees to share.
    #[schema(value_type = Vec<String>)]
    pub shareable_fields: ShareableFields,
    pub sharing_mode: SharingMode,
    /// The connection guide (Markdown or plain text), public once published (Q8.1).
    #[schema(value_type = String)]
    pub docs: ServiceDocs,
    /// State secrets are refused (Q1.2).
    #[serde(default)]
    pub classification: Classification,
}

impl ServiceBody {
    /// The parsed registration, checked against the provider system: a valid OpenAPI document
    /// and an upstream on the system's origin.
    fn spec(self, system: &System) -> Result<ServiceSpec, ApiError> {
        let openapi = OpenApiDocument::parse(self.openapi)
            .map_err(|e| ApiError::new(ErrorCode::InvalidOpenapi).detail(e.0))?;
        check_upstream(&system.base_url, &self.upstream_url)
            .map_err(|e| ApiError::new(ErrorCode::UpstreamNotAllowed).detail(e.to_string()))?;
        Ok(ServiceSpec {
            code: self.code,
            version: self.version,
            name: self.name,
            upstream_url: self.upstream_url,
            methods: self.methods,
            openapi,
            shareable_fields: self.shareable_fields,
            sharing_mode: self.sharing_mode,
            docs: self.docs,
            classification: self.classification,
        })
    }
}

/// Refuses and records a service classified as a state secret (Q1.2).
async fn refuse_state_secret(
    state: &AppState,
    caller: &Caller,
    body: &ServiceBody,
) -> Result<(), ApiError> {
    if !body.classification.is_state_secret() {
        return Ok(());
    }
    let what = format!(
        "service {} {} is classified `{}`",
        body.code,
        body.version,
        body.classification.as_str()
    );
    state
        .store
        .record_security_event("state_secret_refused", &caller.name(), &what)
        .await?;
    tracing::warn!(actor = %caller.name(), %what, "state-secret service refused");
    Err(ApiError::new(ErrorCode::StateSecretNotAllowed).detail(what))
}

/// The provider system named in a body, or `missing_reference`.
async fn provider_system(state: &AppState, provider: &SystemId) -> Result<System, ApiError> {
    match state
        .store
        .get_system(&provider.agency, &provider.code)
        .await
    {
        Ok(system) => Ok(system),
        Err(StoreError::NotFound(_)) => {
            Err(ApiError::new(ErrorCode::MissingReference).detail(format!(
                "system {}/{} is not registered",
                provider.agency, provider.code
            )))
        }
        Err(other) => Err(other.into()),
    }
}

/// Registers a draft service: what the API and the console's form both do.
pub async fn register(
    state: &AppState,
    caller: &Caller,
    body: ServiceBody,
) -> Result<Service, ApiError> {
    let (Some(agency), Some(system)) = (body.agency.clone(), body.system.clone()) else {
        return Err(ApiError::new(ErrorCode::InvalidBody)
            .detail("`agency` and `system` name the provider system"));
    };
    caller.authorize(
        Action::Create,
        Resource::Service {
            owner: &agency,
            published: false,
        },
    )?;
    refuse_state_secret(state, caller, &body).await?;
    let provider = SystemId {
        agency,
        code: system,
    };
    let system = provider_system(state, &provider).await?;
    let spec = body.spec(&system)?;
    let created = state
        .store
        .insert_service(&provider, &spec, &caller.name())
        .await?;
    tracing::info!(service = created.id, code = %created.code, version = %created.version,
        by = %caller.name(), "service registered");
    Ok(created)
}

/// Loads a service the caller may take `action` on. A draft the caller may not see is "not
/// found" to outsiders rather than "forbidden", so drafts do not reveal themselves.
pub async fn allowed(
    state: &AppState,
    caller: &Caller,
    id: i64,
    action: Action,
) -> Result<Service, ApiError> {
    let service = state.store.get_service(id).await?;
    if action != Action::Read {
        caller.authorize(action, resource(&service))?;
    } else if caller.authorize(Action::Read, resource(&service)).is_err() {
        return Err(ApiError::new(ErrorCode::ResourceNotFound).detail("service not found"));
    }
    Ok(service)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ServiceQuery {
    /// Only services of this provider agency.
    #[param(value_type = Option<String>)]
    agency: Option<AgencyCode>,
    /// Only services of this provider system.
    #[param(value_type = Option<String>)]
    system: Option<SystemCode>,
    /// `draft`, `published`, `deprecated` or `retired`.
    #[param(value_type = Option<String>)]
    state: Option<ServiceState>,
    /// `open`, `default` or `on_request`.
    #[param(value_type = Option<String>)]
    sharing_mode: Option<SharingMode>,
}

/// Services the caller may see: every published, deprecated or retired one; drafts only to
/// their provider agency, the operator and the auditor.
#[utoipa::path(get, path = "/services", tag = "services", params(ServiceQuery),
    responses((status = 200, body = Vec<ServiceView>), (status = 400, body = ProblemDoc)))]
async fn list_services(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ServiceQuery>,
) -> Result<axum::Json<Vec<ServiceView>>, ApiError> {
    let services = state
        .store
        .list_services(&ServiceFilter {
            agency: query.agency,
            system: query.system,
            state: query.state,
            sharing_mode: query.sharing_mode,
        })
        .await?;
    Ok(axum::Json(
        services
            .into_iter()
            .filter(|s| caller.authorize(Action::Read, resource(s)).is_ok())
            .map(ServiceView::from)
            .collect(),
    ))
}

/// Register a service of a provider system, as a draft. The provider agency's administrator or
/// the operator. The upstream URL must be on the system's registered origin
/// (`upstream_not_allowed`), the OpenAPI document valid (`invalid_openapi`).
#[utoipa::path(post, path = "/services", tag = "services", request_body = ServiceBody,
    responses((status = 201, body = ServiceView), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc),
        (status = 422, body = ProblemDoc, description = "`invalid_body`, `invalid_openapi`, `upstream_not_allowed`, `missing_reference`, `state_secret_not_allowed`")))]
async fn create_service(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ServiceBody>,
) -> Result<impl IntoResponse, ApiError> {
    let created = register(&state, &caller, body).await?;
    let location = format!("/api/v1/services/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(ServiceView::from(created)),
    ))
}

/// A service with its lifecycle history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub view: ServiceView,
    pub history: Vec<ServiceEvent>,
}

#[utoipa::path(get, path = "/services/{id}", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ServiceDetail), (status = 404, body = ProblemDoc)))]
async fn get_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ServiceDetail>, ApiError> {
    let service = allowed(&state, &caller, id, Action::Read).await?;
    let history = state.store.service_events(id).await?;
    Ok(axum::Json(ServiceDetail {
        view: service.into(),
        history,
    }))
}

/// Replace the registration of a draft service (the provider system stays). A service that is
/// no longer a draft is `not_editable`: register a new version.
#[utoipa::path(put, path = "/services/{id}", tag = "services", request_body = ServiceBody,
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ServiceView), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "`not_editable`, `conflict`"),
        (status = 422, body = ProblemDoc)))]
async fn replace_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<ServiceBody>,
) -> Result<axum::Json<ServiceView>, ApiError> {
    let service = allowed(&state, &caller, id, Action::Update).await?;
    let moved = |given: Option<bool>| given == Some(false);
    if moved(body.agency.as_ref().map(|a| a == &service.provider.agency))
        || moved(body.system.as_ref().map(|s| s == &service.provider.code))
    {
        return Err(ApiError::new(ErrorCode::InvalidBody)
            .detail("a service stays with its provider system: register it anew instead"));
    }
    if service.state != ServiceState::Draft {
        return Err(not_editable(&service));
    }
    refuse_state_secret(&state, &caller, &body).await?;
    let system = provider_system(&state, &service.provider).await?;
    let spec = body.spec(&system)?;
    let updated = match state
        .store
        .replace_draft_service(id, &spec, &caller.name())
        .await
    {
        Err(StoreError::Conflict(message)) if message.contains("no longer a draft") => {
            return Err(ApiError::new(ErrorCode::NotEditable).detail(message))
        }
        other => other?,
    };
    tracing::info!(service = id, by = %caller.name(), "draft service replaced");
    Ok(axum::Json(updated.into()))
}

fn not_editable(service: &Service) -> ApiError {
    ApiError::new(ErrorCode::NotEditable).detail(format!(
        "service {} is {}, not a draft: register a new version instead",
        service.id,
        service.state.as_str()
    ))
}

/// Takes a lifecycle step: what the API and the console both do.
pub async fn step(
    state: &AppState,
    caller: &Caller,
    id: i64,
    step: LifecycleStep,
) -> Result<Service, ApiError> {
    let service = allowed(state, caller, id, Action::Update).await?;
    let to = take_step(service.state, step)
        .map_err(|e| ApiError::new(ErrorCode::InvalidTransition).detail(e.to_string()))?;
    if step == LifecycleStep::Publish {
        // The system's base URL may have moved since the draft was registered.
        service
            .upstream()
            .map_err(|e| ApiError::new(ErrorCode::UpstreamNotAllowed).detail(e.to_string()))?;
    }
    let moved = state
        .store
        .move_service(id, service.state, step, to, &caller.name())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::InvalidTransition).detail(message)
            }
            other => other.into(),
        })?;
    tracing::info!(service = id, step = step.as_str(), by = %caller.name(), "service lifecycle step");
    Ok(moved)
}

/// Publish a draft: it becomes callable through the gateway and public on the portal.
#[utoipa::path(post, path = "/services/{id}/publish", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ServiceView), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`"),
        (status = 422, body = ProblemDoc, description = "`upstream_not_allowed`")))]
async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ServiceView>, ApiError> {
    Ok(axum::Json(
        step(&state, &caller, id, LifecycleStep::Publish)
            .await?
            .into(),
    ))
}

/// Deprecate a published service: existing grants go on, no new subscriptions.
#[utoipa::path(post, path = "/services/{id}/deprecate", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ServiceView), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`")))]
async fn deprecate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ServiceView>, ApiError> {
    Ok(axum::Json(
        step(&state, &caller, id, LifecycleStep::Deprecate)
            .await?
            .into(),
    ))
}

/// Retire a published or deprecated service: the gateway no longer serves it. Final.
#[utoipa::path(post, path = "/services/{id}/retire", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ServiceView), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`")))]
async fn retire(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ServiceView>, ApiError> {
    Ok(axum::Json(
        step(&state, &caller, id, LifecycleStep::Retire)
            .await?
            .into(),
    ))
}

/// The service's OpenAPI document as its provider registered it (Q7.2, Q12).
#[utoipa::path(get, path = "/services/{id}/openapi.json", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = Object, description = "OpenAPI 3.0/3.1 document"),
        (status = 404, body = ProblemDoc)))]
async fn openapi_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let service = allowed(&state, &caller, id, Action::Read).await?;
    Ok(axum::Json(service.openapi.into()))
}

/// The connection guide the provider wrote (Q8.1), as `text/markdown`.
#[utoipa::path(get, path = "/services/{id}/docs", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = String, content_type = "text/markdown"),
        (status = 404, body = ProblemDoc)))]
async fn connection_guide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let service = allowed(&state, &caller, id, Action::Read).await?;
    Ok((
        [(CONTENT_TYPE, "text/markdown; charset=utf-8")],
        String::from(service.docs),
    )
        .into_response())
}

/// A conformance check and the readiness it gave the provider's system.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConformanceReport {
    #[serde(flatten)]
    pub check: ServiceCheck,
    /// The provider system's readiness as now recorded (Q21.3).
    pub readiness: Readiness,
}

/// Runs the conformance check now: a real request to the upstream (TLS, the system's health
/// URL, the OpenAPI document, a GET on a documented path answering JSON in UTF-8, latency).
/// The result is stored and sets the provider system's readiness (`ready`, or `needs_upgrade`
/// with one finding per failed check). The provider agency's administrator or the operator.
#[utoipa::path(post, path = "/services/{id}/conformance", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ConformanceReport), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn run_conformance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ConformanceReport>, ApiError> {
    let service = allowed(&state, &caller, id, Action::Assess).await?;
    Ok(axum::Json(check_now(&state, &caller, &service).await?))
}

/// Checks `service` and records the result and the system's readiness.
pub async fn check_now(
    state: &AppState,
    caller: &Caller,
    service: &Service,
) -> Result<ConformanceReport, ApiError> {
    let system = state
        .store
        .get_system(&service.provider.agency, &service.provider.code)
        .await?;
    let outcome = conformance::run(service, &system).await;
    let check = state
        .store
        .record_service_check(
            service.id,
            &outcome.results,
            outcome.latency_ms,
            &caller.name(),
        )
        .await?;
    let readiness = lgsp_core::conformance::readiness(&outcome.results);
    state
        .store
        .assess_system(
            &service.provider.agency,
            &service.provider.code,
            &readiness,
            &format!("conformance:{}", caller.name()),
        )
        .await?;
    tracing::info!(
        service = service.id,
        passed = check.passed,
        readiness = readiness.as_str(),
        "conformance checked"
    );
    Ok(ConformanceReport { check, readiness })
}

/// The newest conformance check of the service.
#[utoipa::path(get, path = "/services/{id}/conformance", tag = "services",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ServiceCheck), (status = 404, body = ProblemDoc)))]
async fn latest_conformance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ServiceCheck>, ApiError> {
    allowed(&state, &caller, id, Action::Read).await?;
    state
        .store
        .latest_service_check(id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ResourceNotFound)
                .detail(format!("service {id} has not been checked yet"))
        })
}
