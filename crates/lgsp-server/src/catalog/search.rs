//! Full-text search over the catalog in force (Q15.2.c): the index, kept current from storage,
//! and `/api/v1/search`. The portal and CKAN's `package_search` use the same index.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use lgsp_search::{Facet, SearchDoc, SearchQuery, Sort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{today, PublishedDataset, Snapshot};
use crate::app::AppState;
use crate::error::{ApiError, ErrorCode, ProblemDoc};
use crate::extract::Query;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// What the index holds for a dataset.
pub fn search_doc(d: &PublishedDataset) -> SearchDoc {
    let meta = &d.dataset;
    SearchDoc {
        dataset_id: meta.id.to_string(),
        entry_code: d.entry_code.to_string(),
        entry_name: d.entry_name.clone(),
        title: meta.title.to_string(),
        description: meta.description.to_string(),
        keywords: meta.keywords.iter().map(ToString::to_string).collect(),
        themes: meta.themes.iter().map(ToString::to_string).collect(),
        agency_code: d.owner.clone(),
        agency_name: d.owner_name.clone(),
        data_kinds: d.data_kinds.iter().map(|k| k.as_str().to_owned()).collect(),
        access_level: meta.access_level.as_str().to_owned(),
        sharing_mode: meta.sharing_mode.as_str().to_owned(),
        modified: PublishedDataset::instant(d.modified),
    }
}

/// Rebuilds the index from the catalog in force today.
pub async fn rebuild(state: &AppState) -> Result<usize, ApiError> {
    let snapshot = Snapshot::load(state, today()).await?;
    let docs: Vec<SearchDoc> = snapshot.datasets.iter().map(search_doc).collect();
    let count = docs.len();
    let index = state.search.clone();
    tokio::task::spawn_blocking(move || index.replace_all(docs))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(count)
}

/// Keeps the index current: rebuilds it when a decision changed the catalog (on any node:
/// the revision lives in storage) or when a new day brings decisions into force. Checks once a
/// second, so a change shows in search within a second.
pub async fn keep_current(state: AppState) {
    let mut seen: Option<(i64, chrono::NaiveDate)> = None;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let current = match state.store.catalog_revision().await {
            Ok(revision) => (revision, today()),
            Err(error) => {
                tracing::warn!(error = ?error, "cannot read the catalog revision");
                continue;
            }
        };
        if seen == Some(current) {
            continue;
        }
        match rebuild(&state).await {
            Ok(count) => {
                tracing::debug!(count, revision = current.0, "search index rebuilt");
                seen = Some(current);
            }
            Err(error) => tracing::warn!(error = ?error, "search index not rebuilt; retrying"),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words to look for; diacritics and case do not matter ("dat dai" finds "Đất đai").
    q: Option<String>,
    /// Owner agency code.
    agency: Option<String>,
    theme: Option<String>,
    data_kind: Option<String>,
    access_level: Option<String>,
    sharing_mode: Option<String>,
    /// `relevance` (default), `modified` (newest first) or `title`.
    sort: Option<String>,
    #[param(minimum = 0)]
    offset: Option<usize>,
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

impl SearchParams {
    /// The query, checked: facet values and sort must be known words.
    fn to_query(&self) -> Result<SearchQuery, ApiError> {
        let bad = |name: &str, why: &str| {
            ApiError::new(ErrorCode::InvalidParameter).detail(format!("`{name}`: {why}"))
        };
        let mut filters = Vec::new();
        for (facet, value) in [
            (Facet::Agency, &self.agency),
            (Facet::Theme, &self.theme),
            (Facet::DataKind, &self.data_kind),
            (Facet::AccessLevel, &self.access_level),
            (Facet::SharingMode, &self.sharing_mode),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                filters.push((facet, value.to_owned()));
            }
        }
        let sort = match self.sort.as_deref() {
            None | Some("relevance") => Sort::Relevance,
            Some("modified") => Sort::ModifiedDesc,
            Some("title") => Sort::TitleAsc,
            Some(_) => return Err(bad("sort", "one of `relevance`, `modified`, `title`")),
        };
        let limit = self.limit.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(bad("limit", "between 1 and 100"));
        }
        Ok(SearchQuery {
            text: self.q.clone().filter(|q| !q.trim().is_empty()),
            filters,
            offset: self.offset.unwrap_or(0).min(100_000),
            limit,
            sort,
            ..SearchQuery::default()
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchHit {
    dataset_id: String,
    entry_code: String,
    score: f32,
    /// The title with matches in `<mark>`; HTML-escaped otherwise.
    title_html: String,
    snippet_html: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchAnswer {
    total: usize,
    hits: Vec<SearchHit>,
    /// Counts per facet value over all matches.
    facets: BTreeMap<String, Vec<(String, u64)>>,
}

/// Runs a query on the index; a blocking call, so off the async threads.
pub async fn run(
    state: &AppState,
    query: SearchQuery,
) -> Result<lgsp_search::SearchResults, ApiError> {
    let index = state.search.clone();
    tokio::task::spawn_blocking(move || index.search(&query))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Search the catalog's datasets (Q15.2.c).
#[utoipa::path(get, path = "/search", tag = "catalog", params(SearchParams),
    responses((status = 200, body = SearchAnswer), (status = 400, body = ProblemDoc)))]
async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<axum::Json<SearchAnswer>, ApiError> {
    let results = run(&state, params.to_query()?).await?;
    Ok(axum::Json(SearchAnswer {
        total: results.total,
        hits: results
            .hits
            .into_iter()
            .map(|h| SearchHit {
                dataset_id: h.dataset_id,
                entry_code: h.entry_code,
                score: h.score,
                title_html: h.title_html,
                snippet_html: h.snippet_html,
            })
            .collect(),
        facets: results.facets,
    }))
}
