//! CKAN's `package_search` on the platform's search index: `q`, the common `fq` forms, `rows`,
//! `start`, `sort` and `facet.field`.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use lgsp_search::{Facet, SearchQuery, Sort};
use serde_json::{json, Value};

use super::{by_id, group_slug, organization_slug, package, CkanError, Params};
use crate::app::AppState;
use crate::catalog::{search, today, Snapshot};

/// What an `fq` clause asks for.
#[derive(Debug, PartialEq)]
enum Clause {
    Facet(Facet, String),
    Tag(String),
    ModifiedSince(DateTime<Utc>),
    /// A clause harvesters send that every package here satisfies (`state:active`, …).
    Always,
}

/// Splits `fq` into `field:value` clauses: values may be quoted or a `[A TO B]` range, and a
/// clause may carry a leading `+`.
fn clauses(fq: &str) -> Result<Vec<(String, String)>, CkanError> {
    let mut out = Vec::new();
    let mut rest = fq.trim();
    while !rest.is_empty() {
        let rest_clause = rest.trim_start_matches('+');
        let (field, after) = rest_clause
            .split_once(':')
            .ok_or_else(|| CkanError::validation(format!("fq: cannot read `{rest}`")))?;
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| CkanError::validation("fq: unclosed quote"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else if after.starts_with('[') {
            let end = after
                .find(']')
                .ok_or_else(|| CkanError::validation("fq: unclosed range"))?;
            (&after[..=end], &after[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.push((field.trim().to_owned(), value.to_owned()));
        rest = remainder.trim_start();
        if let Some(next) = rest.strip_prefix("AND ") {
            rest = next.trim_start();
        }
    }
    Ok(out)
}

fn instant(text: &str) -> Result<DateTime<Utc>, CkanError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = text.parse::<NaiveDate>() {
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    // Solr also takes timestamps without the offset, as CKAN writes them.
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|_| CkanError::validation(format!("fq: `{text}` is not a date")))
}

fn clause(field: &str, value: &str, snapshot: &Snapshot) -> Result<Clause, CkanError> {
    let unknown = || CkanError::validation(format!("fq: no {field} `{value}`"));
    Ok(match field {
        "organization" | "owner_org" => {
            let code = snapshot
                .datasets
                .iter()
                .map(|d| &d.owner)
                .find(|code| organization_slug(code) == value || code.as_str() == value)
                .ok_or_else(unknown)?;
            Clause::Facet(Facet::Agency, code.clone())
        }
        "groups" => {
            let theme = snapshot
                .datasets
                .iter()
                .flat_map(|d| d.dataset.themes.iter())
                .find(|t| group_slug(t.as_str()) == value || t.as_str() == value)
                .ok_or_else(unknown)?;
            Clause::Facet(Facet::Theme, theme.to_string())
        }
        "tags" => Clause::Tag(value.to_owned()),
        "data_kind" => Clause::Facet(Facet::DataKind, value.to_owned()),
        "access_level" => Clause::Facet(Facet::AccessLevel, value.to_owned()),
        "sharing_mode" => Clause::Facet(Facet::SharingMode, value.to_owned()),
        "metadata_modified" => {
            let range = value
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or_else(|| CkanError::validation("fq: metadata_modified takes [FROM TO *]"))?;
            let (from, to) = range
                .split_once(" TO ")
                .ok_or_else(|| CkanError::validation("fq: metadata_modified takes [FROM TO *]"))?;
            if to.trim() != "*" {
                return Err(CkanError::validation(
                    "fq: only open ranges `[FROM TO *]` are supported on metadata_modified",
                ));
            }
            Clause::ModifiedSince(instant(from.trim())?)
        }
        "state" if value == "active" => Clause::Always,
        "dataset_type" | "type" if value == "dataset" => Clause::Always,
        "capacity" if value == "public" => Clause::Always,
        "private" if value == "false" => Clause::Always,
        _ => {
            return Err(CkanError::validation(format!(
                "fq: unsupported field `{field}` (use organization, groups, tags, data_kind, access_level, sharing_mode, metadata_modified)"
            )))
        }
    })
}

fn sort(text: Option<String>) -> Result<Sort, CkanError> {
    let Some(text) = text else {
        return Ok(Sort::Relevance);
    };
    let first = text.split(',').next().unwrap_or_default().trim();
    match first {
        "" | "score desc" | "rank desc" => Ok(Sort::Relevance),
        "metadata_modified desc" => Ok(Sort::ModifiedDesc),
        "title_string asc" | "name asc" | "title asc" => Ok(Sort::TitleAsc),
        other => Err(CkanError::validation(format!(
            "sort: `{other}` is not supported (score desc, metadata_modified desc, title_string asc, name asc)"
        ))),
    }
}

/// The CKAN facet fields answered from the index, and the index facet behind each.
fn facet_of(field: &str) -> Option<Facet> {
    match field {
        "organization" => Some(Facet::Agency),
        "groups" => Some(Facet::Theme),
        "data_kind" => Some(Facet::DataKind),
        "access_level" => Some(Facet::AccessLevel),
        "sharing_mode" => Some(Facet::SharingMode),
        _ => None,
    }
}

pub async fn package_search(
    state: &AppState,
    base: &str,
    params: &Params,
) -> Result<Value, CkanError> {
    let rows = params.int("rows", 10, 1000)?;
    let start = params.int("start", 0, 1_000_000)?;
    let text = params
        .str("q")
        .filter(|q| !q.trim().is_empty() && q.trim() != "*:*");
    let snapshot = Snapshot::load(state, today()).await?;
    let mut query = SearchQuery {
        text,
        offset: start,
        limit: rows,
        sort: sort(params.str("sort"))?,
        ..SearchQuery::default()
    };
    if let Some(fq) = params.str("fq") {
        for (field, value) in clauses(&fq)? {
            match clause(&field, &value, &snapshot)? {
                Clause::Facet(facet, value) => query.filters.push((facet, value)),
                Clause::Tag(tag) => query.tags.push(tag),
                Clause::ModifiedSince(at) => query.modified_since = Some(at),
                Clause::Always => {}
            }
        }
    }
    let fields = params.list("facet.field")?;
    let facet_limit = params.int("facet.limit", 50, 1000)?;
    let results = search::run(state, query.clone()).await?;
    let datasets = by_id(&snapshot);
    let packages: Vec<Value> = results
        .hits
        .iter()
        .filter_map(|hit| datasets.get(hit.dataset_id.as_str()))
        .map(|d| package(d, base))
        .collect();

    // Tags are counted over every match, from the catalog rather than the index.
    let tag_counts = if fields.iter().any(|f| f == "tags") {
        let all = search::run(
            state,
            SearchQuery {
                offset: 0,
                limit: results.total.max(1),
                ..query
            },
        )
        .await?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for hit in &all.hits {
            if let Some(d) = datasets.get(hit.dataset_id.as_str()) {
                for k in &d.dataset.keywords {
                    *counts.entry(k.to_string()).or_default() += 1;
                }
            }
        }
        let mut counted: Vec<(String, u64)> = counts.into_iter().collect();
        counted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counted
    } else {
        Vec::new()
    };

    let mut facets = serde_json::Map::new();
    let mut search_facets = serde_json::Map::new();
    for field in &fields {
        let counts: Vec<(String, String, u64)> = if field == "tags" {
            tag_counts
                .iter()
                .map(|(t, c)| (t.clone(), t.clone(), *c))
                .collect()
        } else if let Some(facet) = facet_of(field) {
            results
                .facets
                .get(facet.as_str())
                .map(|values| {
                    values
                        .iter()
                        .map(|(value, count)| match facet {
                            Facet::Agency => {
                                let title = snapshot
                                    .datasets
                                    .iter()
                                    .find(|d| &d.owner == value)
                                    .map_or_else(|| value.clone(), |d| d.owner_name.clone());
                                (organization_slug(value), title, *count)
                            }
                            Facet::Theme => (group_slug(value), value.clone(), *count),
                            _ => (value.clone(), value.clone(), *count),
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let counts: Vec<_> = counts.into_iter().take(facet_limit).collect();
        facets.insert(
            field.clone(),
            json!(counts
                .iter()
                .map(|(name, _, count)| (name.clone(), json!(count)))
                .collect::<serde_json::Map<_, _>>()),
        );
        search_facets.insert(
            field.clone(),
            json!({
                "title": field,
                "items": counts.iter().map(|(name, display, count)| json!({"name": name, "display_name": display, "count": count})).collect::<Vec<_>>(),
            }),
        );
    }
    Ok(json!({
        "count": results.total,
        "results": packages,
        "sort": params.str("sort").unwrap_or_else(|| "score desc, metadata_modified desc".into()),
        "facets": facets,
        "search_facets": search_facets,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fq_clauses_are_split_like_solr() {
        let parsed = clauses(r#"+organization:000-00-03-h35 tags:"giá đất" metadata_modified:[2024-01-01T00:00:00Z TO *]"#)
            .ok()
            .unwrap();
        assert_eq!(
            parsed,
            [
                ("organization".to_owned(), "000-00-03-h35".to_owned()),
                ("tags".to_owned(), "giá đất".to_owned()),
                (
                    "metadata_modified".to_owned(),
                    "[2024-01-01T00:00:00Z TO *]".to_owned()
                ),
            ]
        );
        assert!(clauses("organization").is_err());
        assert!(clauses(r#"tags:"open"#).is_err());
        assert!(instant("2024-01-01T00:00:00.000000").is_ok());
        assert!(instant("2024-01-01").is_ok());
        assert!(instant("hôm qua").is_err());
    }

    #[test]
    fn sorts_ckan_clients_send() {
        assert_eq!(sort(None).ok(), Some(Sort::Relevance));
        assert_eq!(
            sort(Some("metadata_modified desc".into())).ok(),
            Some(Sort::ModifiedDesc)
        );
        assert_eq!(sort(Some("name asc".into())).ok(), Some(Sort::TitleAsc));
        assert!(sort(Some("views_recent desc".into())).is_err());
    }
}
