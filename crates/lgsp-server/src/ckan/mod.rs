//! A CKAN-compatible Action API (`/api/3/action/{name}`, `/api/action/{name}`), so that tools
//! written for CKAN portals — the `ckanapi` client, harvesters, notebooks — read the catalog
//! unchanged. Each dataset is a CKAN *package*, each owning agency an *organization*, each
//! theme a *group*, keywords are *tags*.
//!
//! The envelope, status codes and error `__type`s follow CKAN 2.10. Only reading actions exist:
//! the catalog changes through the procedure of Q5.2, never by `package_create`.

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::catalog::{today, PublishedDataset, Snapshot};
use crate::error::ApiError;

mod datastore;
mod search;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/3/action/{name}", get(action_get).post(action_post))
        .route("/api/action/{name}", get(action_get).post(action_post))
}

/// A CKAN error: HTTP status, `__type` and message (and field errors for validation).
pub struct CkanError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl CkanError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "Not Found Error",
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            kind: "Validation Error",
            message: message.into(),
        }
    }

    pub fn authorization(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "Authorization Error",
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "Bad request",
            message: message.into(),
        }
    }

    fn internal(error: ApiError) -> Self {
        // The cause goes to the log; the client gets nothing internal.
        tracing::error!(error = ?error, "CKAN action failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "Internal Server Error",
            message: "Internal server error".into(),
        }
    }
}

impl From<ApiError> for CkanError {
    fn from(error: ApiError) -> Self {
        Self::internal(error)
    }
}

/// The parameters of an action, from the query string (GET) or a JSON object (POST).
pub struct Params(Map<String, Value>);

impl Params {
    pub fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// An integer parameter within `range`, `default` when absent.
    pub fn int(&self, key: &str, default: usize, max: usize) -> Result<usize, CkanError> {
        let Some(value) = self.0.get(key) else {
            return Ok(default);
        };
        let parsed = match value {
            Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            Value::String(s) if s.is_empty() => Some(default),
            Value::String(s) => s.trim().parse().ok(),
            Value::Null => Some(default),
            _ => None,
        };
        let parsed =
            parsed.ok_or_else(|| CkanError::validation(format!("{key}: Invalid integer")))?;
        Ok(parsed.min(max))
    }

    /// A list parameter given as a JSON array or as a string holding one (CKAN accepts both).
    pub fn list(&self, key: &str) -> Result<Vec<String>, CkanError> {
        let invalid = || CkanError::validation(format!("{key}: expected a list of strings"));
        let value = match self.0.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(Vec::new()),
            Some(Value::String(s)) => serde_json::from_str(s).map_err(|_| invalid())?,
            Some(other) => other.clone(),
        };
        let Value::Array(items) = value else {
            return Err(invalid());
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(invalid()),
            })
            .collect()
    }
}

async fn action_get(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let params = query
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect::<Map<_, _>>();
    respond(&state, &name, &headers, Ok(Params(params))).await
}

async fn action_post(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let params = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Params(Map::new()))
    } else if form {
        serde_urlencoded_pairs(&body)
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => Ok(Params(map)),
            _ => Err(CkanError::bad_request(
                "Bad request - JSON Error: Request data JSON decoded to a non-dictionary",
            )),
        }
    };
    respond(&state, &name, &headers, params).await
}

fn serde_urlencoded_pairs(body: &[u8]) -> Result<Params, CkanError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| CkanError::bad_request("Bad request - the form body cannot be decoded"))?;
    Ok(Params(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    ))
}

/// The site's address as the client sees it, for absolute links.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn respond(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    params: Result<Params, CkanError>,
) -> Response {
    let base = base_url(state, headers);
    let help = format!("{base}/api/3/action/help_show?name={name}");
    let outcome = match params {
        Ok(params) => run(state, name, &base, &params).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(result) => (
            StatusCode::OK,
            axum::Json(json!({"help": help, "success": true, "result": result})),
        )
            .into_response(),
        Err(error) => (
            error.status,
            axum::Json(json!({
                "help": help,
                "success": false,
                "error": {"__type": error.kind, "message": error.message},
            })),
        )
            .into_response(),
    }
}

async fn run(
    state: &AppState,
    name: &str,
    base: &str,
    params: &Params,
) -> Result<Value, CkanError> {
    match name {
        "status_show" => Ok(json!({
            "site_title": state.platform_name(),
            "site_url": base,
            "site_description": "Danh mục cơ sở dữ liệu dùng chung (LGSP)",
            "ckan_version": "2.10.4",
            "locale_default": "vi",
            "extensions": ["lgsp"],
        })),
        "package_list" => {
            let snapshot = Snapshot::load(state, today()).await?;
            let limit = params.int("limit", usize::MAX, usize::MAX)?;
            let offset = params.int("offset", 0, usize::MAX)?;
            let mut names: Vec<&str> = snapshot
                .datasets
                .iter()
                .map(|d| d.dataset.id.as_str())
                .collect();
            names.sort_unstable();
            Ok(json!(names
                .into_iter()
                .skip(offset)
                .take(limit)
                .collect::<Vec<_>>()))
        }
        "package_show" => {
            let id = params
                .str("id")
                .or_else(|| params.str("name"))
                .ok_or_else(|| CkanError::validation("id: Missing value"))?;
            let snapshot = Snapshot::load(state, today()).await?;
            let dataset = snapshot
                .dataset(&id)
                .ok_or_else(|| CkanError::not_found("Not found"))?;
            Ok(package(dataset, base))
        }
        "resource_show" => {
            let id = params
                .str("id")
                .ok_or_else(|| CkanError::validation("id: Missing value"))?;
            let snapshot = Snapshot::load(state, today()).await?;
            snapshot
                .datasets
                .iter()
                .flat_map(|d| resources(d, base))
                .find(|r| r["id"] == id.as_str())
                .ok_or_else(|| CkanError::not_found("Resource was not found."))
        }
        "organization_list" => {
            let snapshot = Snapshot::load(state, today()).await?;
            let all_fields = params
                .str("all_fields")
                .is_some_and(|v| v == "true" || v == "True");
            let organizations = organizations(&snapshot);
            Ok(if all_fields {
                json!(organizations
                    .values()
                    .map(|o| organization(o, false, &snapshot, base))
                    .collect::<Vec<_>>())
            } else {
                json!(organizations.keys().collect::<Vec<_>>())
            })
        }
        "organization_show" => {
            let id = params
                .str("id")
                .ok_or_else(|| CkanError::validation("id: Missing value"))?;
            let snapshot = Snapshot::load(state, today()).await?;
            let organizations = organizations(&snapshot);
            let found = organizations
                .values()
                .find(|o| o.slug == id || o.code == id)
                .ok_or_else(|| CkanError::not_found("Organization not found"))?;
            let include = params
                .str("include_datasets")
                .is_some_and(|v| v == "true" || v == "True");
            Ok(organization(found, include, &snapshot, base))
        }
        "tag_list" => {
            let snapshot = Snapshot::load(state, today()).await?;
            let query = params.str("query").map(|q| crate::catalog::fold(&q));
            let mut tags: Vec<String> = snapshot
                .datasets
                .iter()
                .flat_map(|d| d.dataset.keywords.iter().map(ToString::to_string))
                .filter(|t| {
                    query
                        .as_ref()
                        .is_none_or(|q| crate::catalog::fold(t).contains(q.as_str()))
                })
                .collect();
            tags.sort();
            tags.dedup();
            Ok(json!(tags))
        }
        "package_search" => search::package_search(state, base, params).await,
        "datastore_search" => datastore::datastore_search(state, base, params).await,
        "help_show" => Ok(json!(format!(
            "LGSP implements these CKAN actions: {}",
            ACTIONS.join(", ")
        ))),
        _ => Err(CkanError::bad_request(format!(
            "Bad request - Action name not known: {name}"
        ))),
    }
}

const ACTIONS: [&str; 10] = [
    "status_show",
    "datastore_search",
    "package_list",
    "package_show",
    "package_search",
    "organization_list",
    "organization_show",
    "resource_show",
    "tag_list",
    "help_show",
];

/// A CKAN name for an agency: its code in lower case with dots as dashes.
pub fn organization_slug(code: &str) -> String {
    code.to_ascii_lowercase().replace('.', "-")
}

/// A CKAN name for a theme: the slug DCAT uses for it too.
pub fn group_slug(theme: &str) -> String {
    crate::dcat::slug(theme)
}

struct Organization {
    code: String,
    slug: String,
    title: String,
    count: usize,
}

fn organizations(snapshot: &Snapshot) -> BTreeMap<String, Organization> {
    let mut map: BTreeMap<String, Organization> = BTreeMap::new();
    for d in &snapshot.datasets {
        let slug = organization_slug(&d.owner);
        map.entry(slug.clone())
            .or_insert_with(|| Organization {
                code: d.owner.clone(),
                slug,
                title: d.owner_name.clone(),
                count: 0,
            })
            .count += 1;
    }
    map
}

fn organization(
    o: &Organization,
    include_datasets: bool,
    snapshot: &Snapshot,
    base: &str,
) -> Value {
    let mut value = organization_stub(&o.code, &o.title);
    value["package_count"] = json!(o.count);
    if include_datasets {
        value["packages"] = json!(snapshot
            .datasets
            .iter()
            .filter(|d| d.owner == o.code)
            .map(|d| package(d, base))
            .collect::<Vec<_>>());
    }
    value
}

fn organization_stub(code: &str, title: &str) -> Value {
    json!({
        "id": code,
        "name": organization_slug(code),
        "title": title,
        "display_name": title,
        "type": "organization",
        "is_organization": true,
        "state": "active",
        "approval_status": "approved",
        "description": "",
        "image_url": "",
    })
}

fn timestamp(day: chrono::NaiveDate) -> String {
    PublishedDataset::instant(day)
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

fn resources(d: &PublishedDataset, base: &str) -> Vec<Value> {
    let id = d.dataset.id.as_str();
    let created = timestamp(d.issued);
    let modified = timestamp(d.modified);
    [
        (
            "html",
            "Trang thông tin bộ dữ liệu",
            format!("{base}/dataset/{id}"),
            "HTML",
            "text/html",
        ),
        (
            "jsonld",
            "Siêu dữ liệu DCAT (JSON-LD)",
            format!("{base}/dataset/{id}.jsonld"),
            "JSON-LD",
            "application/ld+json",
        ),
        (
            "ttl",
            "Siêu dữ liệu DCAT (Turtle)",
            format!("{base}/dataset/{id}.ttl"),
            "RDF",
            "text/turtle",
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(position, (suffix, name, url, format, mimetype))| {
        json!({
            "id": format!("{id}-{suffix}"),
            "package_id": id,
            "name": name,
            "description": "",
            "url": url,
            "format": format,
            "mimetype": mimetype,
            "position": position,
            "state": "active",
            "created": created,
            "last_modified": modified,
            "url_type": null,
        })
    })
    .collect()
}

/// A dataset as a CKAN package dictionary.
pub fn package(d: &PublishedDataset, base: &str) -> Value {
    let meta = &d.dataset;
    let tags: Vec<Value> = meta
        .keywords
        .iter()
        .map(|k| json!({"name": k.as_str(), "display_name": k.as_str(), "id": k.as_str(), "state": "active", "vocabulary_id": null}))
        .collect();
    let groups: Vec<Value> = meta
        .themes
        .iter()
        .map(|t| json!({"name": group_slug(t.as_str()), "title": t.as_str(), "display_name": t.as_str(), "id": group_slug(t.as_str()), "description": "", "image_display_url": ""}))
        .collect();
    let resources = resources(d, base);
    let licence_url = (meta.licence.as_str() == "CC-BY-4.0")
        .then_some("https://creativecommons.org/licenses/by/4.0/");
    let mut extras = vec![
        json!({"key": "entry_code", "value": d.entry_code.as_str()}),
        json!({"key": "access_level", "value": meta.access_level.as_str()}),
        json!({"key": "sharing_mode", "value": meta.sharing_mode.as_str()}),
        json!({"key": "update_frequency", "value": meta.update_frequency.as_str()}),
        json!({"key": "data_kinds", "value": d.data_kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")}),
    ];
    if let Some(fee) = &meta.fee_note {
        extras.push(json!({"key": "fee_note", "value": fee.as_str()}));
    }
    if let Some(terms) = &meta.terms_of_use {
        extras.push(json!({"key": "terms_of_use", "value": terms.as_str()}));
    }
    json!({
        "id": meta.id.as_str(),
        "name": meta.id.as_str(),
        "title": meta.title.as_str(),
        "notes": meta.description.as_str(),
        "type": "dataset",
        "state": "active",
        "private": false,
        "author": d.owner_name,
        "author_email": null,
        "maintainer": meta.contact.name.as_str(),
        "maintainer_email": meta.contact.email.as_str(),
        "license_id": meta.licence.as_str(),
        "license_title": meta.licence.as_str(),
        "license_url": licence_url,
        "url": format!("{base}/dataset/{}", meta.id),
        "version": null,
        "metadata_created": timestamp(d.issued),
        "metadata_modified": timestamp(d.modified),
        "owner_org": d.owner,
        "organization": organization_stub(&d.owner, &d.owner_name),
        "num_tags": tags.len(),
        "tags": tags,
        "groups": groups,
        "num_resources": resources.len(),
        "resources": resources,
        "extras": extras,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    })
}

/// Datasets by id, for building search results in order.
pub fn by_id(snapshot: &Snapshot) -> HashMap<&str, &PublishedDataset> {
    snapshot
        .datasets
        .iter()
        .map(|d| (d.dataset.id.as_str(), d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ckan_names() {
        assert_eq!(organization_slug("000.00.03.H35"), "000-00-03-h35");
        assert_eq!(group_slug("Văn hóa – Du lịch"), "van-hoa-du-lich");
        assert_eq!(group_slug("Đất đai"), "dat-dai");
    }

    #[test]
    fn form_bodies_decode() {
        let params = serde_urlencoded_pairs(b"q=%C4%91%E1%BA%A5t+%C4%91ai&rows=5")
            .ok()
            .unwrap();
        assert_eq!(params.str("q").unwrap(), "đất đai");
        assert_eq!(params.str("rows").unwrap(), "5");
    }

    #[test]
    fn params_read_ckan_style_lists_and_ints() {
        let params = Params(
            json!({"facet.field": "[\"organization\",\"tags\"]", "rows": "20", "start": 3})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            params.list("facet.field").ok().unwrap(),
            ["organization", "tags"]
        );
        assert_eq!(params.int("rows", 10, 1000).ok().unwrap(), 20);
        assert_eq!(params.int("start", 0, usize::MAX).ok().unwrap(), 3);
        assert_eq!(params.int("missing", 10, 1000).ok().unwrap(), 10);
        let bad = Params(json!({"rows": "mười"}).as_object().unwrap().clone());
        assert!(bad.int("rows", 10, 1000).is_err());
    }
}
