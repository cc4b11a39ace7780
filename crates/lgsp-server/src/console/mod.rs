//! The signed-in console: an overview and the registries of agencies and systems, with
//! navigation that follows the person's role.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lgsp_core::{Action, Actor, Resource};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::portal::view::{render, AgencyRow, Shell, SystemRow};
use crate::portal::{to_login, MessagePage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(overview))
        .route("/console/agencies", get(agencies))
        .route("/console/systems", get(systems))
}

/// The page to answer instead when the caller may not see `resource`: anonymous visitors are
/// sent to sign in, others are told their role does not allow it.
fn refusal(state: &AppState, caller: &Caller, resource: Resource<'_>) -> Option<Response> {
    if caller.actor == Actor::Anonymous {
        return Some(to_login());
    }
    caller
        .authorize(Action::Read, Resource::Console)
        .and_then(|()| caller.authorize(Action::Read, resource))
        .err()
        .map(|_| {
            render(
                StatusCode::FORBIDDEN,
                &MessagePage {
                    shell: Shell::new(&state.platform_name(), caller),
                    heading: "Không có quyền truy cập",
                    message: "Vai trò của bạn không được xem trang này.",
                },
            )
        })
}

#[derive(Template)]
#[template(path = "console/index.html")]
struct OverviewPage {
    shell: Shell,
}

async fn overview(State(state): State<AppState>, caller: Caller) -> Response {
    if let Some(response) = refusal(&state, &caller, Resource::Console) {
        return response;
    }
    render(
        StatusCode::OK,
        &OverviewPage {
            shell: Shell::new(&state.platform_name(), &caller),
        },
    )
}

#[derive(Template)]
#[template(path = "console/agencies.html")]
struct AgenciesPage {
    shell: Shell,
    agencies: Vec<AgencyRow>,
}

async fn agencies(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::Agency(None)) {
        return Ok(response);
    }
    let agencies = state.store.list_agencies().await?;
    Ok(render(
        StatusCode::OK,
        &AgenciesPage {
            shell: Shell::new(&state.platform_name(), &caller),
            agencies: agencies.into_iter().map(AgencyRow::from).collect(),
        },
    ))
}

#[derive(Template)]
#[template(path = "console/systems.html")]
struct SystemsPage {
    shell: Shell,
    systems: Vec<SystemRow>,
}

async fn systems(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(response) = refusal(&state, &caller, Resource::System(None)) {
        return Ok(response);
    }
    let systems = state.store.list_systems(None).await?;
    Ok(render(
        StatusCode::OK,
        &SystemsPage {
            shell: Shell::new(&state.platform_name(), &caller),
            systems: systems.into_iter().map(SystemRow::from).collect(),
        },
    ))
}
