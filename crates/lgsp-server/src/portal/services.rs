//! Published services on the portal (Q8.1, Q12): what each provider offers through the
//! gateway, with the connection guide it wrote and its OpenAPI document.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lgsp_core::service::ServiceState;
use lgsp_core::AgencyCode;
use lgsp_store::{Service, ServiceFilter};

use super::view::{date_vi, render, Shell};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::Path;
use crate::services::{gateway_path, is_public};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(list))
        .route("/services/{id}", get(page))
}

/// A service as people read it.
pub struct ServiceCard {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub version: String,
    pub agency: String,
    pub agency_name: String,
    pub system: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub sharing: &'static str,
    pub methods: String,
    pub fields: Vec<String>,
    pub gateway_path: String,
    pub published: String,
}

impl ServiceCard {
    pub fn new(service: &Service, agency_name: &str) -> Self {
        Self {
            id: service.id,
            name: service.name.to_string(),
            code: service.code.to_string(),
            version: service.version.to_string(),
            agency: service.provider.agency.to_string(),
            agency_name: agency_name.to_owned(),
            system: service.provider.code.to_string(),
            state: service.state.label_vi(),
            state_class: service.state.as_str(),
            sharing: service.sharing_mode.label_vi(),
            methods: service
                .methods
                .as_slice()
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            fields: service
                .shareable_fields
                .as_slice()
                .iter()
                .map(ToString::to_string)
                .collect(),
            gateway_path: gateway_path(service),
            published: service.published_at.map(date_vi).unwrap_or_default(),
        }
    }
}

/// Agency names by code.
pub async fn agency_names(state: &AppState) -> Result<HashMap<AgencyCode, String>, ApiError> {
    Ok(state
        .store
        .list_agencies()
        .await?
        .into_iter()
        .map(|a| (a.code, a.name.to_string()))
        .collect())
}

#[derive(Template)]
#[template(path = "services/list.html")]
struct ListPage {
    shell: Shell,
    services: Vec<ServiceCard>,
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let names = agency_names(&state).await?;
    let mut services = Vec::new();
    for wanted in [ServiceState::Published, ServiceState::Deprecated] {
        let found = state
            .store
            .list_services(&ServiceFilter {
                state: Some(wanted),
                ..ServiceFilter::default()
            })
            .await?;
        services.extend(found.iter().map(|s| {
            ServiceCard::new(s, names.get(&s.provider.agency).map_or("", String::as_str))
        }));
    }
    Ok(render(
        StatusCode::OK,
        &ListPage {
            shell: Shell::new(&state.platform_name(), &caller),
            services,
        },
    ))
}

#[derive(Template)]
#[template(path = "services/page.html")]
struct ServicePage {
    shell: Shell,
    s: ServiceCard,
    docs: String,
    openapi_title: String,
    openapi_version: String,
    maintenance: Vec<crate::provider::maintenance::Notice>,
}

async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let service = match state.store.get_service(id).await {
        Ok(service) if is_public(&service) => service,
        Ok(_) | Err(lgsp_store::StoreError::NotFound(_)) => {
            return Ok(super::not_found_page(&state, &caller))
        }
        Err(other) => return Err(other.into()),
    };
    let names = agency_names(&state).await?;
    let agency_name = names
        .get(&service.provider.agency)
        .map_or("", String::as_str);
    Ok(render(
        StatusCode::OK,
        &ServicePage {
            shell: Shell::new(&state.platform_name(), &caller),
            s: ServiceCard::new(&service, agency_name),
            docs: service.docs.to_string(),
            openapi_title: service.openapi.title().to_owned(),
            openapi_version: service.openapi.version().to_owned(),
            maintenance: crate::provider::maintenance::notices_for(&state, Some(service.id), None)
                .await?,
        },
    ))
}
