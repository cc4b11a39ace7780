//! `/api/v1/consents`: a signed-in citizen authorises a provider agency to share their records
//! in one service or dataset with a consumer agency (optionally one of its systems) for a
//! purpose until a date, sees what the consent covers, revokes it at any moment (Q15.2.h,
//! Q7.4; Decree 13/2023 art. 9, 11, 12), and sees every exchange that named them. The provider
//! and the consumer agencies' administrators list the consents concerning them, the citizen's
//! identity number masked.
//!
//! Each grant and revocation is an action leaf of the transparency log
//! (`transparency::record_actions`) and a `consent` leaf saying what was consented, in which
//! the citizen appears only as the gateway's salted hash of their identity number
//! ([`crate::gateway::audit::Subject`]). The gateway checks consents per exchange
//! ([`crate::gateway::consented`]).

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use lgsp_core::consent::{ConsentPurpose, ConsentState, ConsentTerm};
use lgsp_core::exchange::GrantFields;
use lgsp_core::{Action, Actor, AgencyCode, CitizenId, Resource, Role, SystemCode, Username};
use lgsp_store::{Consent, ConsentFilter, ExchangeEntry, NewConsent, RequestTarget, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Json, Path};
use crate::gateway::audit::Subject;
use crate::grants::{resolve, TargetRef};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_consents, give_consent))
        .routes(routes!(exchanges_about_me))
        .routes(routes!(get_consent))
        .routes(routes!(revoke_consent))
}

/// How many of a citizen's exchanges are listed, newest first.
pub const EXCHANGES_SHOWN: i64 = 200;

/// A consent a citizen gives.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    /// The service or hosted dataset holding the citizen's records; its agency is the
    /// provider.
    pub target: TargetRef,
    /// The consumer agency the records may be shared with.
    #[schema(value_type = String)]
    pub consumer: AgencyCode,
    /// One system of the consumer agency; none for any of its systems.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub consumer_system: Option<SystemCode>,
    /// The data consented to: JSON pointers within the service's shareable fields, or the
    /// dataset's field names. Default: everything the resource shares.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub fields: Option<GrantFields>,
    pub purpose: ConsentPurpose,
    /// The last day the consent is in force (Vietnam time); not before today.
    pub until: NaiveDate,
}

/// A consent as the API shows it: the citizen's identity number masked, whoever asks.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub id: i64,
    pub state: ConsentState,
    /// The citizen's account.
    #[schema(value_type = String)]
    pub subject: Username,
    pub subject_name: String,
    /// The identity number with only its last four digits.
    pub citizen_id_masked: Option<String>,
    #[schema(value_type = String)]
    pub provider: AgencyCode,
    pub provider_name: String,
    #[schema(value_type = Object)]
    pub target: RequestTarget,
    pub target_name: String,
    /// The processor: the consumer agency and, if named, its one system.
    #[schema(value_type = String)]
    pub consumer: AgencyCode,
    pub consumer_name: String,
    #[schema(value_type = Option<String>)]
    pub consumer_system: Option<SystemCode>,
    #[schema(value_type = Vec<String>)]
    pub fields: GrantFields,
    pub purpose: ConsentPurpose,
    pub valid_from: DateTime<Utc>,
    /// Exclusive: the end of the consent's last day in Vietnam.
    pub valid_until: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Consent> for ConsentView {
    fn from(c: Consent) -> Self {
        Self {
            id: c.id,
            state: c.state(Utc::now()),
            citizen_id_masked: c.citizen_id.as_ref().map(CitizenId::masked),
            subject: c.subject,
            subject_name: c.subject_name.to_string(),
            provider: c.provider,
            provider_name: c.provider_name,
            target: c.target,
            target_name: c.target_name,
            consumer: c.consumer,
            consumer_name: c.consumer_name,
            consumer_system: c.consumer_system,
            fields: c.fields,
            purpose: c.purpose,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            revoked_at: c.revoked_at,
            created_at: c.created_at,
        }
    }
}

fn resource(consent: &Consent) -> Resource<'_> {
    Resource::Consent {
        subject: &consent.subject,
        provider: &consent.provider,
        consumer: &consent.consumer,
    }
}

/// The signed-in citizen's identity number, or why the caller cannot consent.
fn citizen_id(caller: &Caller) -> Result<&CitizenId, ApiError> {
    caller.require_person()?;
    let user = caller
        .user
        .as_ref()
        .filter(|u| u.assignment.role() == Role::Citizen)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::NotACitizen).detail("only a citizen's account consents")
        })?;
    user.citizen_id.as_ref().ok_or_else(|| {
        ApiError::new(ErrorCode::NotACitizen)
            .detail("the account holds no citizen identity number (CCCD)")
    })
}

/// The salted hash standing for a citizen in the log and in exchanges' `LGSP-Subject`.
pub fn subject_hash(state: &AppState, id: &CitizenId) -> String {
    Subject::hash(&state.gateway.subject_salt, id.as_str().as_bytes())
        .as_str()
        .to_owned()
}

fn missing(what: String) -> ApiError {
    ApiError::new(ErrorCode::MissingReference).detail(what)
}

/// Gives a consent: what the API and the console both do.
pub async fn give(
    state: &AppState,
    caller: &Caller,
    body: ConsentBody,
) -> Result<Consent, ApiError> {
    let citizen = citizen_id(caller)?.clone();
    let Actor::Person { username, .. } = &caller.actor else {
        return Err(ApiError::new(ErrorCode::Forbidden));
    };
    let target = resolve(state, &body.target).await?;
    caller.authorize(
        Action::Create,
        Resource::Consent {
            subject: username,
            provider: &target.provider,
            consumer: &body.consumer,
        },
    )?;
    match state.store.get_agency(&body.consumer).await {
        Err(StoreError::NotFound(_)) => {
            return Err(missing(format!("agency {} does not exist", body.consumer)))
        }
        other => other?,
    };
    if let Some(system) = &body.consumer_system {
        match state.store.get_system(&body.consumer, system).await {
            Err(StoreError::NotFound(_)) => {
                return Err(missing(format!(
                    "system {}/{system} is not registered",
                    body.consumer
                )))
            }
            other => other?,
        };
    }
    let offered = match &body.fields {
        Some(fields) => fields.clone(),
        None => GrantFields::new(match &target.service {
            Some(service) => service
                .shareable_fields
                .as_slice()
                .iter()
                .map(ToString::to_string)
                .collect(),
            None => target
                .dataset_fields
                .iter()
                .map(|(n, _)| n.clone())
                .collect(),
        })
        .map_err(|e| ApiError::new(ErrorCode::TargetUnavailable).detail(e.0))?,
    };
    let fields = target.check_fields(&offered)?;
    let term = ConsentTerm::new(Utc::now(), body.until)
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(format!("until: {e}")))?;
    let hash = subject_hash(state, &citizen);
    let consent = state
        .store
        .insert_consent(&NewConsent {
            subject: username.clone(),
            subject_hash: hash,
            provider: target.provider,
            target: RequestTarget::from(&target.on),
            consumer: body.consumer,
            consumer_system: body.consumer_system,
            fields,
            purpose: body.purpose,
            term,
        })
        .await?;
    log_step(state, &consent, "grant", &consent.subject_hash).await?;
    tracing::info!(consent = consent.id, by = %caller.name(), "consent given");
    tell_agencies(state, &consent, false).await;
    Ok(consent)
}

/// Revokes a consent: what the API and the console both do.
pub async fn revoke(state: &AppState, caller: &Caller, id: i64) -> Result<Consent, ApiError> {
    caller.require_person()?;
    let consent = state.store.get_consent(id).await?;
    caller.authorize(Action::Revoke, resource(&consent))?;
    let revoked = state.store.revoke_consent(id).await.map_err(|e| match e {
        StoreError::Conflict(message) => {
            ApiError::new(ErrorCode::InvalidTransition).detail(message)
        }
        other => other.into(),
    })?;
    // The hash the consent was given with, even if the account's number changed since.
    log_step(state, &revoked, "revoke", &revoked.subject_hash).await?;
    tracing::info!(consent = id, by = %caller.name(), "consent revoked");
    tell_agencies(state, &revoked, true).await;
    Ok(revoked)
}

/// Tells the provider's and the consumer's administrators that a citizen gave or revoked a
/// consent concerning them — what, for what, until when; never who (they read the consent,
/// the number masked, if they need to). A failure to notify is logged, not undone.
async fn tell_agencies(state: &AppState, consent: &Consent, revoked: bool) {
    let id = consent.id;
    let (subject, body) = if revoked {
        (
            format!("Người dân rút lại đồng ý chia sẻ dữ liệu số {id}"),
            format!(
                "Đồng ý cho {} chia sẻ {} với {} đã bị rút lại; các lần khai thác dựa trên đồng ý này bị từ chối kể từ bây giờ.",
                consent.provider_name, consent.target_name, consent.consumer_name
            ),
        )
    } else {
        (
            format!("Người dân đồng ý chia sẻ dữ liệu số {id}"),
            format!(
                "Người dân đồng ý cho {} chia sẻ {} với {} cho mục đích: {}, đến hết ngày {}.",
                consent.provider_name,
                consent.target_name,
                consent.consumer_name,
                consent.purpose.text,
                crate::portal::view::date_vi(consent.valid_until - chrono::Duration::seconds(1))
            ),
        )
    };
    let link = format!("/console/consents#dong-y-{id}");
    for agency in [&consent.provider, &consent.consumer] {
        if let Err(error) = state
            .store
            .notify(
                Role::AgencyAdmin,
                Some(agency),
                &subject,
                &body,
                Some(&link),
            )
            .await
        {
            tracing::warn!(consent = id, error = ?error, "could not notify a consent step");
        }
    }
}

/// The `consent` leaf of a grant or a revocation: what was consented, the citizen only as the
/// salted hash of their identity number.
async fn log_step(state: &AppState, c: &Consent, step: &str, hash: &str) -> Result<u64, ApiError> {
    let target = match &c.target {
        RequestTarget::Service { id } => json!({"service": id}),
        RequestTarget::Dataset { id } => json!({"dataset": id.as_str()}),
    };
    let entry = json!({
        "v": 1,
        "kind": "consent",
        "time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "step": step,
        "consent": c.id,
        "subject": hash,
        "provider": c.provider.as_str(),
        "target": target,
        "consumer": c.consumer.as_str(),
        "consumer_system": c.consumer_system.as_ref().map(SystemCode::as_str),
        "fields": c.fields.as_slice(),
        "purpose": c.purpose.code.as_str(),
        "valid_until": c.valid_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    Ok(state.log.append(&entry).await?)
}

/// The consents the caller may list: a citizen's own, or those concerning an agency
/// administrator's agency on either side.
pub async fn visible(state: &AppState, caller: &Caller) -> Result<Vec<Consent>, ApiError> {
    caller.require_person()?;
    let filter = match &caller.actor {
        Actor::Person {
            username,
            assignment,
        } => match (assignment.role(), assignment.agency()) {
            (Role::Citizen, _) => ConsentFilter::Subject(username.clone()),
            (Role::AgencyAdmin, Some(agency)) => ConsentFilter::Agency(agency.clone()),
            _ => {
                return Err(ApiError::new(ErrorCode::Forbidden)
                    .detail("consents are the citizen's and the two agencies' own"))
            }
        },
        _ => return Err(ApiError::new(ErrorCode::Forbidden)),
    };
    Ok(state.store.list_consents(&filter).await?)
}

/// Give consent (Q15.2.h; Decree 13/2023 art. 11). A signed-in citizen whose account holds a
/// citizen identity number (`not_a_citizen` otherwise). The consent covers the consumer
/// agency (or one of its systems), the resource, the purpose code and the fields, through the
/// end of `until` (Vietnam time). Recorded on the transparency log with the citizen as a
/// salted hash.
#[utoipa::path(post, path = "/consents", tag = "consents", request_body = ConsentBody,
    responses((status = 201, body = ConsentView), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc, description = "`forbidden`, `not_a_citizen`"),
        (status = 409, body = ProblemDoc, description = "`target_unavailable`"),
        (status = 422, body = ProblemDoc, description = "`invalid_body` (e.g. a past `until`), `field_not_shared`, `missing_reference`")))]
async fn give_consent(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ConsentBody>,
) -> Result<impl IntoResponse, ApiError> {
    let consent = give(&state, &caller, body).await?;
    let location = format!("/api/v1/consents/{}", consent.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        axum::Json(ConsentView::from(consent)),
    ))
}

/// Consents the caller may see: a citizen their own; an agency administrator those in which
/// the agency provides or consumes. Anyone else: 403.
#[utoipa::path(get, path = "/consents", tag = "consents",
    responses((status = 200, body = Vec<ConsentView>), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc)))]
async fn list_consents(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<ConsentView>>, ApiError> {
    let consents = visible(&state, &caller).await?;
    Ok(axum::Json(consents.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/consents/{id}", tag = "consents",
    params(("id" = i64, Path, description = "Consent id")),
    responses((status = 200, body = ConsentView), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc)))]
async fn get_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ConsentView>, ApiError> {
    caller.require_person()?;
    let consent = state.store.get_consent(id).await?;
    caller.authorize(Action::Read, resource(&consent))?;
    Ok(axum::Json(consent.into()))
}

/// Revoke a consent (Decree 13/2023 art. 12): the citizen only, at any moment; the gateway
/// refuses exchanges under it from the very next request. A revoked consent stays revoked
/// (`invalid_transition`).
#[utoipa::path(post, path = "/consents/{id}/revoke", tag = "consents",
    params(("id" = i64, Path, description = "Consent id")),
    responses((status = 200, body = ConsentView), (status = 403, body = ProblemDoc),
        (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "`invalid_transition`: already revoked")))]
async fn revoke_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<ConsentView>, ApiError> {
    Ok(axum::Json(revoke(&state, &caller, id).await?.into()))
}

/// One exchange that named the citizen: who read what, when, for which purpose.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeAboutMe {
    /// The leaf of the transparency log recording it.
    pub log_index: i64,
    pub at: DateTime<Utc>,
    pub consumer_agency: Option<String>,
    pub consumer_system: Option<String>,
    pub provider_agency: Option<String>,
    /// `agency/system/service/version` or `dataset:<id>`.
    pub target: Option<String>,
    pub purpose: Option<String>,
    pub status: i32,
    /// The problem code when the exchange was refused.
    pub refusal: Option<String>,
}

impl From<ExchangeEntry> for ExchangeAboutMe {
    fn from(e: ExchangeEntry) -> Self {
        Self {
            log_index: e.log_index,
            at: e.at,
            consumer_agency: e.consumer_agency,
            consumer_system: e.consumer_system,
            provider_agency: e.provider_agency,
            target: e.target,
            purpose: e.purpose,
            status: e.status,
            refusal: e.refusal,
        }
    }
}

/// The signed-in citizen's exchanges: those whose `LGSP-Subject` is their identity number.
pub async fn my_exchanges(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<ExchangeEntry>, ApiError> {
    let citizen = citizen_id(caller)?;
    Ok(state
        .store
        .exchanges_about(&subject_hash(state, citizen), EXCHANGES_SHOWN)
        .await?)
}

/// Every exchange about the signed-in citizen (Q15.2.h): found in the log's index by the
/// salted hash of their identity number, newest first (at most 200), allowed or refused.
#[utoipa::path(get, path = "/consents/exchanges", tag = "consents",
    responses((status = 200, body = Vec<ExchangeAboutMe>), (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc, description = "`not_a_citizen`")))]
async fn exchanges_about_me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<ExchangeAboutMe>>, ApiError> {
    let exchanges = my_exchanges(&state, &caller).await?;
    Ok(axum::Json(exchanges.into_iter().map(Into::into).collect()))
}
