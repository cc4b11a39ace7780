//! Assembling the application: shared state, the router with its layers, serving and graceful
//! shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, Request};
use axum::routing::get;
use axum::{middleware, Router};
use lgsp_store::Store;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::keys::Keyring;
use crate::settings::Settings;
use crate::{
    agencies, auth, catalog, ckan, clients, consents, console, datasets, error_reports, grants,
    notifications, ops, portal, provider, push, quarantine, security, services, sharing_requests,
    systems, tickets, transparency, users,
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: Arc<Keyring>,
    pub settings: Arc<Settings>,
    /// The catalog's search index, derived from storage (see `catalog::search`).
    pub search: Arc<lgsp_search::SearchIndex>,
    /// The transparency log's committer.
    pub log: transparency::TransparencyLog,
    /// Progress of the imports this process is running.
    pub imports: Arc<crate::datasets::jobs::RunningImports>,
    /// Error reports sent without signing in, per client address (this node's count).
    pub report_limiter: Arc<crate::error_reports::limit::ReportLimiter>,
    /// NATS JetStream, when changes are published there (`--nats`).
    pub nats: Option<crate::push::nats::Publisher>,
    /// The exchange gateway's pooled HTTP client and subject salt.
    pub gateway: Arc<crate::gateway::Gateway>,
    /// The mail relay notices are e-mailed through (`smtp`), if any.
    pub relay: Option<crate::notifications::smtp::Relay>,
    /// The state-secret guard (Q1.2, Q20.3), with the rules of the settings.
    pub secret_guard: Arc<lgsp_core::secret_guard::SecretGuard>,
    /// The date the annual report's reminder goes by (tests set it).
    pub clock: crate::clock::Clock,
}

impl AppState {
    /// The name shown at the top of every page.
    pub fn platform_name(&self) -> String {
        self.settings
            .platform_name
            .clone()
            .unwrap_or_else(|| "Nền tảng tích hợp, chia sẻ dữ liệu (LGSP)".into())
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "LGSP API",
        description = "REST API of the provincial data integration and sharing platform (LGSP). \
            Errors are RFC 9457 problems with a stable `code`; see `/docs/errors`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Signing in: people (sessions) and systems (OAuth2)"),
        (name = "agencies", description = "Agencies and their focal officers (Q8.2)"),
        (name = "systems", description = "Information systems (Q7.1, Q9, Q10.2, Q21.3)"),
        (name = "users", description = "People's accounts and roles"),
        (name = "clients", description = "Client credentials of systems"),
        (name = "catalog", description = "The catalog of shared databases and the procedure that changes it (Q5, Q12)"),
        (name = "notifications", description = "In-app notifications"),
        (name = "security", description = "Security events for the auditor (Q1.2, Q20)"),
        (name = "quarantine", description = "Content held by the state-secret guard, confirmed or released by the security auditors (Q1.2, Q20.3)"),
        (name = "datasets", description = "Hosted records of datasets: schema, imports, reads as of any instant"),
        (name = "error-reports", description = "Error reports on datasets, tracked to resolution by the owner agency (Q16.2.c)"),
        (name = "services", description = "Services of provider systems behind the gateway: registration, lifecycle, OpenAPI, connection guides, conformance checks (Q7.2, Q8.1, Q21.3)"),
        (name = "grants", description = "Grants of consumer systems on services and hosted datasets, subscriptions to resources shared by default, suspension and termination (Q13.1, Q8.4, Q15.1.c)"),
        (name = "sharing-requests", description = "Sharing requests of consumer agencies, approved into grants, returned for information, refused with a reason and legal basis, or withdrawn (Q13.1, Q15.1.a, Q16.1)"),
        (name = "provider", description = "The provider's procedures: suspending every grant on a resource, maintenance announced on the portal, the exchange report, usage reports (Q15.1.b, Q15.1.c, Q15.2.e; Decree 47/2020 art. 43–44)"),
        (name = "consents", description = "Citizens' consents to share their records with another agency, revocable at any moment, and the exchanges about them (Q15.2.h, Q7.4; Decree 13/2023 art. 11)"),
        (name = "tickets", description = "Tickets between consumers, providers and the operator: problems, disputes (every refusal of a sharing request opens one), data-use questions, proposals to simplify procedures; threads, attachments, deadlines in working days, escalation (Q15.2.g, Q16.1.b, Q22.2, Q23)"),
        (name = "statistics", description = "The dashboards' figures: exchanges per day, agency and service with outcomes and latency percentiles, most used and stale datasets, requests, error reports, tickets, availability (Q7.5, Q15.2.e, Q17.6); and the portal's open statistics"),
        (name = "transparency", description = "The transparency log: entries with inclusion proofs, consistency proofs (Q4, Q6.4)"),
        (name = "reports", description = "The annual report to the People's Committee on the regulation's implementation, its figures with their queries, and the record that it was sent (Q17.6)"),
        (name = "operations", description = "Probes"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A person's token from /api/v1/auth/login, or a system's access token from /oauth/token",
                    ))
                    .build(),
            ),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::default(),
        ]);
    }
}

/// The documented routes: `/api/v1/*`, the token endpoints and the probes, with their OpenAPI
/// document. Every route of the REST API is registered here, so none can go undocumented.
pub fn documented_routes(settings: &Settings) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .merge(auth::api_routes())
        .merge(agencies::routes())
        .merge(systems::routes())
        .merge(crate::monitoring::routes())
        .merge(users::routes())
        .merge(clients::routes())
        .merge(catalog::routes(settings.max_upload_bytes))
        .merge(notifications::routes())
        .merge(security::routes())
        .merge(quarantine::routes())
        .merge(datasets::routes())
        .merge(error_reports::routes())
        .merge(services::routes())
        .merge(grants::routes())
        .merge(sharing_requests::routes())
        .merge(provider::routes())
        .merge(consents::routes())
        .merge(sharing_requests::attachments::routes(
            settings.max_upload_bytes,
        ))
        .merge(tickets::routes(settings.max_upload_bytes))
        .merge(push::routes())
        .merge(crate::statistics::routes())
        .merge(transparency::routes::api_routes())
        .merge(crate::annual_report::routes());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .merge(auth::token_routes())
        .merge(ops::routes())
        .split_for_parts()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = documented_routes(&state.settings);
    openapi.paths.paths.insert(
        "/api/v1/openapi.json".into(),
        utoipa::openapi::path::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .summary(Some("This OpenAPI 3.1 document"))
                .tag("operations")
                .response("200", utoipa::openapi::Response::new("OpenAPI document")),
        ),
    );
    let openapi = Arc::new(openapi);
    let x_request_id = HeaderName::from_static("x-request-id");
    let max_body = state.settings.max_body_bytes;

    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let openapi = Arc::clone(&openapi);
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .route("/docs/errors", get(errors_doc))
        .merge(portal::routes())
        .merge(ckan::routes())
        .merge(console::routes(state.settings.max_upload_bytes))
        .merge(transparency::routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            transparency::record_actions,
        ))
        // The gateway records every exchange itself, whatever the method.
        .merge(crate::gateway::routes())
        .fallback(portal::not_found)
        .method_not_allowed_fallback(portal::method_not_allowed)
        .layer(middleware::from_fn(ops::record_metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    ops::MakeRequestUuidV7,
                ))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let request_id = request
                            .extensions()
                            .get::<RequestId>()
                            .and_then(|id| id.header_value().to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(CatchPanicLayer::custom(ops::panic_response))
                .layer(SetResponseHeaderLayer::if_not_present(
                    CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                         script-src 'self'; object-src 'none'; base-uri 'none'; \
                         form-action 'self'; frame-ancestors 'none'",
                    ),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                )),
        )
        .with_state(state)
}

async fn errors_doc() -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/markdown; charset=utf-8",
        )],
        crate::error::errors_markdown(),
    )
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight
/// finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut background = vec![
        tokio::spawn(purge_sessions(state.store.clone())),
        tokio::spawn(catalog::search::keep_current(state.clone())),
        tokio::spawn(transparency::keep_checkpoints(
            state.clone(),
            Duration::from_secs(1),
        )),
        tokio::spawn(prune_changes(
            state.store.clone(),
            state.settings.change_retention_days,
        )),
        tokio::spawn(prune_grant_usage(state.store.clone())),
        tokio::spawn(push::dispatch(state.clone(), state.nats.clone())),
        tokio::spawn(crate::sharing_requests::keep_deadlines(state.clone())),
        tokio::spawn(tickets::keep_escalating(
            state.clone(),
            Duration::from_secs(60),
        )),
    ];
    if state.settings.health_probes {
        background.push(tokio::spawn(crate::monitoring::keep_probing(state.clone())));
    }
    if let Some(relay) = state.relay.clone() {
        background.push(tokio::spawn(crate::notifications::mail::deliver(
            state.clone(),
            relay,
        )));
    }
    // The client's address is needed to limit error reports sent without signing in.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Answers leave as soon as they are written: no waiting on Nagle's algorithm for an ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(error = %error, "cannot set TCP_NODELAY");
        }
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    for task in background {
        task.abort();
    }
    served
}

/// Forgets dataset changes, webhook delivery attempts and e-mails sent or given up older than
/// the retention period, every hour.
async fn prune_changes(store: Store, days: u32) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store.prune_changes(days).await {
            Ok(count) if count > 0 => tracing::info!(count, "old dataset changes pruned"),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = ?error, "could not prune dataset changes"),
        }
        let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
        match store.prune_mail(before).await {
            Ok(count) if count > 0 => tracing::info!(count, "old e-mails pruned"),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = ?error, "could not prune the mail outbox"),
        }
        match store.prune_webhook_deliveries(days).await {
            Ok(count) if count > 0 => tracing::info!(count, "old webhook deliveries pruned"),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = ?error, "could not prune webhook deliveries"),
        }
    }
}

/// Forgets grants' quota counters older than an hour, every hour: quotas count per minute.
async fn prune_grant_usage(store: Store) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        let before = chrono::Utc::now() - chrono::Duration::hours(1);
        if let Err(error) = store.prune_grant_usage(before).await {
            tracing::warn!(error = ?error, "could not prune quota counters");
        }
    }
}

/// Removes expired sessions every hour.
async fn purge_sessions(store: Store) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store.purge_expired_sessions().await {
            Ok(count) if count > 0 => tracing::info!(count, "expired sessions removed"),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = ?error, "could not remove expired sessions"),
        }
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(error = ?error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
