//! The catalog as published (Q12): on any day (Q5.4), entry by entry with its history, dataset
//! by dataset with who to contact.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use lgsp_core::catalog::{DatasetId, DatasetMeta, EntryCode};
use lgsp_core::{AgencyCode, FocalOfficer};
use lgsp_store::{Agency, EntryVersion};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::today;
use crate::app::AppState;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::{Path, Query};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalog))
        .routes(routes!(entry))
        .routes(routes!(entry_history))
        .routes(routes!(dataset))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    /// A day (`2026-01-31`) or an instant (RFC 3339, read in Viet Nam time); default today.
    as_of: Option<String>,
}

/// Reads `as_of` as a day in Viet Nam.
fn as_of_day(value: Option<&str>) -> Result<NaiveDate, ApiError> {
    let Some(value) = value else {
        return Ok(today());
    };
    if let Ok(day) = value.parse::<NaiveDate>() {
        return Ok(day);
    }
    DateTime::parse_from_rfc3339(value)
        .map(|at| vietnam_day(at.with_timezone(&Utc)))
        .map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter)
                .detail("`as_of` must be a date (YYYY-MM-DD) or an RFC 3339 instant")
        })
}

#[derive(Serialize, ToSchema)]
pub struct CatalogView {
    as_of: NaiveDate,
    entries: Vec<EntryVersion>,
}

/// The catalog exactly as it stood on a day: every entry in force, in the version in force.
#[utoipa::path(get, path = "/catalog", tag = "catalog", params(AsOf),
    responses((status = 200, body = CatalogView), (status = 400, body = ProblemDoc)))]
async fn catalog(
    State(state): State<AppState>,
    Query(query): Query<AsOf>,
) -> Result<axum::Json<CatalogView>, ApiError> {
    let as_of = as_of_day(query.as_of.as_deref())?;
    let entries = state.store.catalog_as_of(as_of).await?;
    Ok(axum::Json(CatalogView { as_of, entries }))
}

/// The version of an entry in force on a day (default today).
#[utoipa::path(get, path = "/catalog/entries/{code}", tag = "catalog",
    params(("code" = String, Path, description = "Entry code"), AsOf),
    responses((status = 200, body = EntryVersion), (status = 404, body = ProblemDoc)))]
async fn entry(
    State(state): State<AppState>,
    Path(code): Path<EntryCode>,
    Query(query): Query<AsOf>,
) -> Result<axum::Json<EntryVersion>, ApiError> {
    let day = as_of_day(query.as_of.as_deref())?;
    state
        .store
        .entry_history(&code)
        .await?
        .into_iter()
        .find(|v| in_force(v, day))
        .map(axum::Json)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ResourceNotFound)
                .detail(format!("catalog entry {code} is not in force on {day}"))
        })
}

fn in_force(version: &EntryVersion, day: NaiveDate) -> bool {
    version.status == lgsp_store::EntryStatus::Active
        && version.valid_from <= day
        && version.valid_to.is_none_or(|to| day < to)
}

/// Every version of an entry, oldest first, with the decision behind each (Q5.4).
#[utoipa::path(get, path = "/catalog/entries/{code}/history", tag = "catalog",
    params(("code" = String, Path, description = "Entry code")),
    responses((status = 200, body = Vec<EntryVersion>), (status = 404, body = ProblemDoc)))]
async fn entry_history(
    State(state): State<AppState>,
    Path(code): Path<EntryCode>,
) -> Result<axum::Json<Vec<EntryVersion>>, ApiError> {
    Ok(axum::Json(state.store.entry_history(&code).await?))
}

/// A dataset as published today, with its entry, owner and who to contact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedDataset {
    #[serde(flatten)]
    pub dataset: DatasetMeta,
    pub entry_code: EntryCode,
    pub entry_name: String,
    pub data_kinds: Vec<lgsp_core::catalog::DataKind>,
    pub owner: String,
    pub owner_name: String,
    pub focal_officer: FocalOfficer,
    pub legal_bases: Vec<lgsp_core::catalog::LegalBasis>,
    /// The first day the dataset was published and the day its entry last changed.
    pub issued: NaiveDate,
    pub modified: NaiveDate,
    /// When its hosted records last changed; `None` if it has never been loaded.
    pub last_change_at: Option<DateTime<Utc>>,
    /// The last day its next update is on time (Q7.5), from its update frequency and its last
    /// change (or, never loaded, the day it was published); `None` if updated irregularly.
    pub due_by: Option<NaiveDate>,
    /// The due day has passed without an update.
    pub stale: bool,
}

/// The catalog in force on a day, flattened to its datasets with everything people and
/// machine-readable formats show about them (portal, search, CKAN, DCAT).
pub struct Snapshot {
    pub day: NaiveDate,
    pub entries: Vec<EntryVersion>,
    pub datasets: Vec<PublishedDataset>,
}

impl Snapshot {
    pub async fn load(state: &AppState, day: NaiveDate) -> Result<Self, ApiError> {
        let entries = state.store.catalog_as_of(day).await?;
        let agencies: HashMap<AgencyCode, Agency> = state
            .store
            .list_agencies()
            .await?
            .into_iter()
            .map(|a| (a.code.clone(), a))
            .collect();
        let first_days: HashMap<EntryCode, NaiveDate> =
            state.store.entry_first_days().await?.into_iter().collect();
        let last_changes: HashMap<DatasetId, DateTime<Utc>> = state
            .store
            .record_last_changes()
            .await?
            .into_iter()
            .filter_map(|(id, at)| Some((id, at?)))
            .collect();
        let mut datasets = Vec::new();
        for version in &entries {
            let entry = &version.content;
            let owner = agencies.get(&entry.owner).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!(
                    "agency {} of entry {} is missing",
                    entry.owner,
                    entry.code
                ))
            })?;
            for dataset in &entry.datasets {
                let issued = first_days
                    .get(&entry.code)
                    .copied()
                    .unwrap_or(version.valid_from);
                let last_change_at = last_changes.get(&dataset.id).copied();
                let freshness = lgsp_core::quality::freshness(
                    dataset.update_frequency,
                    last_change_at.map_or(issued, vietnam_day),
                    day,
                );
                datasets.push(PublishedDataset {
                    dataset: dataset.clone(),
                    entry_code: entry.code.clone(),
                    entry_name: entry.name.to_string(),
                    data_kinds: entry.data_kinds.clone(),
                    owner: owner.code.to_string(),
                    owner_name: owner.name.to_string(),
                    focal_officer: owner.focal_officer.clone(),
                    legal_bases: entry.legal_bases.clone(),
                    issued,
                    modified: version.valid_from,
                    last_change_at,
                    due_by: freshness.due_by,
                    stale: freshness.stale,
                });
            }
        }
        Ok(Self {
            day,
            entries,
            datasets,
        })
    }

    pub fn dataset(&self, id: &str) -> Option<&PublishedDataset> {
        self.datasets.iter().find(|d| d.dataset.id.as_str() == id)
    }

    pub fn entry(&self, code: &str) -> Option<&EntryVersion> {
        self.entries
            .iter()
            .find(|v| v.content.code.as_str() == code)
    }
}

/// The day an instant falls on in Viet Nam.
fn vietnam_day(at: DateTime<Utc>) -> NaiveDate {
    let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    at.with_timezone(&vietnam).date_naive()
}

impl PublishedDataset {
    /// The start of a day in Viet Nam, as an instant.
    pub fn instant(day: NaiveDate) -> DateTime<Utc> {
        let vietnam = chrono::FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(vietnam).single())
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
    }
}

#[utoipa::path(get, path = "/datasets/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Dataset id")),
    responses((status = 200, body = PublishedDataset), (status = 404, body = ProblemDoc)))]
async fn dataset(
    State(state): State<AppState>,
    Path(id): Path<DatasetId>,
) -> Result<axum::Json<PublishedDataset>, ApiError> {
    let snapshot = Snapshot::load(&state, today()).await?;
    snapshot
        .datasets
        .into_iter()
        .find(|d| d.dataset.id == id)
        .map(axum::Json)
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ResourceNotFound)
                .detail(format!("dataset {id} is not in the catalog"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_takes_days_and_instants_in_vietnam_time() {
        assert_eq!(
            as_of_day(Some("2026-01-31")).unwrap().to_string(),
            "2026-01-31"
        );
        assert_eq!(
            as_of_day(Some("2026-01-31T18:00:00Z")).unwrap().to_string(),
            "2026-02-01"
        );
        assert!(as_of_day(Some("31/01/2026")).is_err());
    }
}
