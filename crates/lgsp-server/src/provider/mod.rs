//! The provider's procedures (Q15.1.b, Q15.1.c, Q15.2.e; Decree 47/2020 art. 43–44):
//! suspending every grant on a resource at once for maintenance or force majeure and resuming
//! them (`suspensions`), maintenance announced on the portal at least 7 working days ahead
//! (`maintenance`), the exchange report per consumer and resource (`report`) and requests that
//! a consumer report on its use of a grant (`usage_reports`).
//!
//! Every step is a request that changes something, so the transparency log records it
//! (`transparency::record_actions`).

pub mod maintenance;
pub mod report;
pub mod suspensions;
pub mod usage_reports;

use lgsp_core::{AgencyCode, Resource};
use lgsp_store::GrantFilter;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::grants::{resolve, Resolved, TargetRef};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(suspensions::routes())
        .merge(maintenance::routes())
        .merge(report::routes())
        .merge(usage_reports::routes())
}

/// The policy's resource for what a provider does on its own resources: its agency's
/// administrators and the operator act; the auditor reads.
pub fn provider_resource(provider: &AgencyCode) -> Resource<'_> {
    Resource::Grant {
        provider,
        consumer: provider,
    }
}

/// The target of a provider's step, found and authorised for `action`.
pub async fn provider_target(
    state: &AppState,
    caller: &Caller,
    target: &TargetRef,
    action: lgsp_core::Action,
) -> Result<Resolved, ApiError> {
    let resolved = resolve(state, target).await?;
    caller.authorize(action, provider_resource(&resolved.provider))?;
    Ok(resolved)
}

/// The consumer agencies holding a grant not terminated on the resource, each once.
pub async fn consumer_agencies(
    state: &AppState,
    on: &lgsp_store::GrantOn,
) -> Result<Vec<AgencyCode>, ApiError> {
    let (service_id, dataset) = match on {
        lgsp_store::GrantOn::Service(id) => (Some(*id), None),
        lgsp_store::GrantOn::Dataset(id) => (None, Some(id.clone())),
    };
    let grants = state
        .store
        .list_grants(&GrantFilter {
            service_id,
            dataset,
            ..GrantFilter::default()
        })
        .await?;
    let mut agencies: Vec<AgencyCode> = grants
        .into_iter()
        .filter(|g| g.grant.status.as_str() != "terminated")
        .map(|g| g.grant.consumer.agency)
        .collect();
    agencies.sort();
    agencies.dedup();
    Ok(agencies)
}

/// How a resource is named to people: the service's name or the dataset's id.
pub fn resource_label(on: &Resolved) -> String {
    match (&on.service, &on.on) {
        (Some(service), _) => format!(
            "dịch vụ “{}” ({}/{}/{}/{})",
            service.name,
            service.provider.agency,
            service.provider.code,
            service.code,
            service.version
        ),
        (None, lgsp_store::GrantOn::Dataset(id)) => format!("bộ dữ liệu {id}"),
        (None, lgsp_store::GrantOn::Service(id)) => format!("dịch vụ số {id}"),
    }
}
