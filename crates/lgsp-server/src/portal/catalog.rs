//! The public catalog in the portal (Q12, Q15.2.c): search with facets, entry pages, their
//! history, dataset pages, and the DCAT documents beside them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lgsp_core::catalog::{AccessLevel, DataKind, SharingMode};
use lgsp_search::{Facet, SearchQuery};
use serde::Deserialize;

use super::view::{render, Shell};
use super::MessagePage;
use crate::app::AppState;
use crate::auth::Caller;
use crate::catalog::{search, today, PublishedDataset, Snapshot};
use crate::ckan::base_url;
use crate::error::ApiError;
use crate::{dcat, portal};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/catalog", get(list))
        .route("/catalog.jsonld", get(catalog_jsonld))
        .route("/catalog.ttl", get(catalog_turtle))
        .route("/catalog/{code}", get(entry))
        .route("/catalog/{code}/history", get(history))
        .route("/dataset/{file}", get(dataset))
}

const PAGE_SIZE: usize = 20;
/// Datasets per page of the DCAT catalog documents.
const DCAT_PAGE: usize = 100;

#[derive(Deserialize, Default)]
struct ListParams {
    q: Option<String>,
    agency: Option<String>,
    theme: Option<String>,
    data_kind: Option<String>,
    access_level: Option<String>,
    sharing_mode: Option<String>,
    page: Option<usize>,
}

impl ListParams {
    fn selected(&self) -> Vec<(Facet, &str)> {
        [
            (Facet::Agency, &self.agency),
            (Facet::Theme, &self.theme),
            (Facet::DataKind, &self.data_kind),
            (Facet::AccessLevel, &self.access_level),
            (Facet::SharingMode, &self.sharing_mode),
        ]
        .into_iter()
        .filter_map(|(facet, value)| {
            value
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| (facet, v))
        })
        .collect()
    }

    /// The link to this list with `facet` set to `value` (or cleared when it already is) and
    /// `page` reset, keeping everything else.
    fn href(&self, toggle: Option<(Facet, &str)>, page: Option<usize>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(q) = self.q.as_deref().filter(|q| !q.is_empty()) {
            pairs.push(("q", q.to_owned()));
        }
        let mut toggled = false;
        for (facet, value) in self.selected() {
            if toggle == Some((facet, value)) {
                toggled = true;
                continue;
            }
            if toggle.is_some_and(|(f, _)| f == facet) {
                continue;
            }
            pairs.push((facet.as_str(), value.to_owned()));
        }
        if let Some((facet, value)) = toggle.filter(|_| !toggled) {
            pairs.push((facet.as_str(), value.to_owned()));
        }
        if let Some(page) = page.filter(|p| *p > 1) {
            pairs.push(("page", page.to_string()));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            "/catalog".into()
        } else {
            format!("/catalog?{query}")
        }
    }
}

struct FacetItem {
    label: String,
    count: u64,
    href: String,
    selected: bool,
}

struct FacetGroup {
    title: &'static str,
    items: Vec<FacetItem>,
}

struct Active {
    name: &'static str,
    value: String,
}

struct HitView {
    id: String,
    title_html: String,
    snippet_html: String,
    owner_name: String,
    entry_code: String,
    entry_name: String,
    access: &'static str,
    sharing: &'static str,
    freshness: Freshness,
}

/// The Q7.5 badge: whether the dataset is updated as often as it promises.
struct Freshness {
    /// `fresh` or `stale`: the badge's CSS class.
    class: &'static str,
    label: &'static str,
    /// The due day, dd/mm/yyyy; none for a dataset updated irregularly.
    due_by: Option<String>,
}

impl Freshness {
    fn of(d: &PublishedDataset) -> Self {
        let (class, label) = if d.stale {
            ("stale", "Quá hạn cập nhật")
        } else {
            ("fresh", "Cập nhật đúng hạn")
        };
        Self {
            class,
            label,
            due_by: d.due_by.map(|day| day.format("%d/%m/%Y").to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "catalog/list.html")]
struct ListPage {
    shell: Shell,
    q: String,
    active: Vec<Active>,
    facets: Vec<FacetGroup>,
    total: usize,
    hits: Vec<HitView>,
    previous: Option<String>,
    next: Option<String>,
}

fn facet_label(facet: Facet, value: &str, snapshot: &Snapshot) -> String {
    let known = match facet {
        Facet::Agency => snapshot
            .datasets
            .iter()
            .find(|d| d.owner == value)
            .map(|d| d.owner_name.clone()),
        Facet::DataKind => DataKind::parse(value).ok().map(|k| k.label_vi().to_owned()),
        Facet::AccessLevel => AccessLevel::parse(value)
            .ok()
            .map(|k| k.label_vi().to_owned()),
        Facet::SharingMode => SharingMode::parse(value)
            .ok()
            .map(|k| k.label_vi().to_owned()),
        Facet::Theme => None,
    };
    known.unwrap_or_else(|| value.to_owned())
}

fn facet_title(facet: Facet) -> &'static str {
    match facet {
        Facet::Agency => "Cơ quan chủ quản",
        Facet::Theme => "Chủ đề",
        Facet::DataKind => "Loại dữ liệu",
        Facet::AccessLevel => "Mức độ truy cập",
        Facet::SharingMode => "Hình thức chia sẻ",
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    let page = params.page.unwrap_or(1).clamp(1, 10_000);
    let query = SearchQuery {
        text: params.q.clone().filter(|q| !q.trim().is_empty()),
        filters: params
            .selected()
            .into_iter()
            .map(|(f, v)| (f, v.to_owned()))
            .collect(),
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        ..SearchQuery::default()
    };
    let results = search::run(&state, query).await?;
    let snapshot = Snapshot::load(&state, today()).await?;
    let selected = params.selected();
    let facets = [
        Facet::Agency,
        Facet::Theme,
        Facet::DataKind,
        Facet::AccessLevel,
        Facet::SharingMode,
    ]
    .into_iter()
    .map(|facet| FacetGroup {
        title: facet_title(facet),
        items: results
            .facets
            .get(facet.as_str())
            .into_iter()
            .flatten()
            .map(|(value, count)| FacetItem {
                label: facet_label(facet, value, &snapshot),
                count: *count,
                href: params.href(Some((facet, value)), None),
                selected: selected.contains(&(facet, value.as_str())),
            })
            .collect(),
    })
    .filter(|group| !group.items.is_empty())
    .collect();
    let hits = results
        .hits
        .iter()
        .filter_map(|hit| {
            let d = snapshot.dataset(&hit.dataset_id)?;
            Some(HitView {
                id: hit.dataset_id.clone(),
                title_html: hit.title_html.clone(),
                snippet_html: hit.snippet_html.clone(),
                owner_name: d.owner_name.clone(),
                entry_code: d.entry_code.to_string(),
                entry_name: d.entry_name.clone(),
                access: d.dataset.access_level.label_vi(),
                sharing: d.dataset.sharing_mode.label_vi(),
                freshness: Freshness::of(d),
            })
        })
        .collect();
    let pages = results.total.div_ceil(PAGE_SIZE);
    Ok(render(
        StatusCode::OK,
        &ListPage {
            shell: Shell::new(&state.platform_name(), &caller),
            q: params.q.clone().unwrap_or_default(),
            active: selected
                .iter()
                .map(|(f, v)| Active {
                    name: f.as_str(),
                    value: (*v).to_owned(),
                })
                .collect(),
            facets,
            total: results.total,
            hits,
            previous: (page > 1).then(|| params.href(None, Some(page - 1))),
            next: (page < pages).then(|| params.href(None, Some(page + 1))),
        },
    ))
}

fn not_found(state: &AppState, caller: &Caller) -> Response {
    render(
        StatusCode::NOT_FOUND,
        &MessagePage {
            shell: Shell::new(&state.platform_name(), caller),
            heading: "Không tìm thấy",
            message: "Mục danh mục hoặc bộ dữ liệu này không có trong danh mục hiện hành.",
        },
    )
}

fn legal_basis(b: &lgsp_core::catalog::LegalBasis) -> String {
    let mut text = format!(
        "{} ngày {} của {}",
        b.number,
        b.date.format("%d/%m/%Y"),
        b.issuer
    );
    if let Some(article) = &b.article {
        text.push_str(&format!(", {article}"));
    }
    text
}

#[derive(Template)]
#[template(path = "catalog/entry.html")]
struct EntryPage {
    shell: Shell,
    code: String,
    name: String,
    description: String,
    owner: String,
    owner_name: String,
    managing_system: String,
    kinds: String,
    valid_from: String,
    decision_number: String,
    decision_date: String,
    relation: String,
    overlaps: bool,
    relation_note: Option<String>,
    legal_bases: Vec<String>,
    criteria: Vec<String>,
    datasets: Vec<(String, String)>,
}

async fn entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let snapshot = Snapshot::load(&state, today()).await?;
    let Some(version) = snapshot.entry(&code) else {
        return Ok(not_found(&state, &caller));
    };
    let entry = &version.content;
    let owner = state.store.get_agency(&entry.owner).await?;
    let criterion = |label: &str, c: &lgsp_core::catalog::Criterion| {
        format!(
            "{label}: {} — {}",
            if c.met {
                "Đáp ứng"
            } else {
                "Không đáp ứng"
            },
            c.justification
        )
    };
    Ok(render(
        StatusCode::OK,
        &EntryPage {
            shell: Shell::new(&state.platform_name(), &caller),
            code: entry.code.to_string(),
            name: entry.name.to_string(),
            description: entry.description.to_string(),
            owner: owner.code.to_string(),
            owner_name: owner.name.to_string(),
            managing_system: entry.managing_system.to_string(),
            kinds: entry
                .data_kinds
                .iter()
                .map(|k| k.label_vi())
                .collect::<Vec<_>>()
                .join(", "),
            valid_from: version.valid_from.format("%d/%m/%Y").to_string(),
            decision_number: version.decision_number.clone(),
            decision_date: version.decision_date.format("%d/%m/%Y").to_string(),
            relation: entry
                .national_relation
                .databases
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            overlaps: entry.national_relation.overlaps,
            relation_note: entry
                .national_relation
                .note
                .as_ref()
                .map(ToString::to_string),
            legal_bases: entry.legal_bases.iter().map(legal_basis).collect(),
            criteria: vec![
                criterion(
                    "a) Giá trị pháp lý như bản giấy",
                    &entry.criteria.legal_value,
                ),
                criterion(
                    "b) Dữ liệu chủ làm căn cứ đồng bộ",
                    &entry.criteria.master_data,
                ),
                criterion(
                    "c) Phục vụ thủ tục hành chính",
                    &entry.criteria.administrative_procedures,
                ),
            ],
            datasets: entry
                .datasets
                .iter()
                .map(|d| (d.id.to_string(), d.title.to_string()))
                .collect(),
        },
    ))
}

struct VersionRow {
    version: i64,
    name: String,
    status: &'static str,
    validity: String,
    decision_number: String,
    decision_date: String,
}

#[derive(Template)]
#[template(path = "catalog/history.html")]
struct HistoryPage {
    shell: Shell,
    code: String,
    versions: Vec<VersionRow>,
}

async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let Ok(code) = lgsp_core::catalog::EntryCode::parse(&code) else {
        return Ok(not_found(&state, &caller));
    };
    let versions = match state.store.entry_history(&code).await {
        Ok(versions) => versions,
        Err(lgsp_store::StoreError::NotFound(_)) => return Ok(not_found(&state, &caller)),
        Err(other) => return Err(other.into()),
    };
    let rows = versions
        .iter()
        .map(|v| VersionRow {
            version: v.version,
            name: v.content.name.to_string(),
            status: match v.status {
                lgsp_store::EntryStatus::Active => "Đang áp dụng",
                lgsp_store::EntryStatus::Withdrawn => "Đã rút khỏi danh mục",
            },
            validity: match v.valid_to {
                Some(to) => format!(
                    "{} – {}",
                    v.valid_from.format("%d/%m/%Y"),
                    (to - chrono::Duration::days(1)).format("%d/%m/%Y")
                ),
                None => format!("từ {}", v.valid_from.format("%d/%m/%Y")),
            },
            decision_number: v.decision_number.clone(),
            decision_date: v.decision_date.format("%d/%m/%Y").to_string(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &HistoryPage {
            shell: Shell::new(&state.platform_name(), &caller),
            code: code.to_string(),
            versions: rows,
        },
    ))
}

#[derive(Template)]
#[template(path = "catalog/dataset.html")]
struct DatasetPage {
    shell: Shell,
    id: String,
    title: String,
    description: String,
    entry_code: String,
    entry_name: String,
    owner: String,
    owner_name: String,
    officer: String,
    contact: String,
    access: &'static str,
    sharing: &'static str,
    frequency: &'static str,
    licence: String,
    keywords: String,
    themes: String,
    issued: String,
    modified: String,
    freshness: Freshness,
    fee_note: Option<String>,
    legal_bases: Vec<String>,
    how_to_access: String,
    terms_of_use: Option<String>,
    preview: Option<super::preview::Preview>,
    report_form: Option<super::error_reports::ReportForm>,
    maintenance: Vec<crate::provider::maintenance::Notice>,
}

/// How someone gets the data, by sharing mode (Decree 47/2020).
fn how_to_access(d: &PublishedDataset) -> String {
    match d.dataset.sharing_mode {
        SharingMode::Open => "Dữ liệu mở: mọi người được xem và tải về miễn phí, ghi rõ nguồn theo giấy phép.".into(),
        SharingMode::Default => format!(
            "Chia sẻ mặc định: mọi hệ thống thông tin đã đăng ký của cơ quan nhà nước được cấp quyền khai thác khi đăng ký sử dụng qua LGSP; liên hệ {} để được hướng dẫn kết nối.",
            d.owner_name
        ),
        SharingMode::OnRequest => format!(
            "Chia sẻ theo yêu cầu đặc thù: cơ quan có nhu cầu gửi đề nghị chia sẻ nêu rõ mục đích, căn cứ pháp lý và các trường dữ liệu cần khai thác tới {}; cơ quan chủ quản xem xét và phản hồi bằng văn bản.",
            d.owner_name
        ),
    }
}

async fn dataset(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let snapshot = Snapshot::load(&state, today()).await?;
    let (id, format) = match file.rsplit_once('.') {
        Some((id, "jsonld")) => (id, Some(Format::JsonLd)),
        Some((id, "ttl")) => (id, Some(Format::Turtle)),
        _ => (file.as_str(), None),
    };
    let Some(d) = snapshot.dataset(id) else {
        return Ok(match format {
            Some(_) => portal::not_found_problem(&format!("dataset {id} is not in the catalog")),
            None => not_found(&state, &caller),
        });
    };
    if let Some(format) = format {
        let base = base_url(&state, &headers);
        let entry = &snapshot
            .entry(d.entry_code.as_str())
            .expect("a dataset's entry is in its snapshot")
            .content;
        let item = published(entry, d);
        return Ok(match format {
            Format::JsonLd => jsonld(dcat::dataset_jsonld(&item, &base)),
            Format::Turtle => turtle(dcat::dataset_turtle(&item, &base)),
        });
    }
    let meta = &d.dataset;
    let officer = &d.focal_officer;
    let base = base_url(&state, &headers);
    let preview = super::preview::preview(&state, &caller, d, &params, &base).await?;
    let (report_form, form_cookie) =
        super::error_reports::form_for(&state, &caller, d, &headers).await?;
    let mut response = render(
        StatusCode::OK,
        &DatasetPage {
            shell: Shell::new(&state.platform_name(), &caller),
            id: meta.id.to_string(),
            title: meta.title.to_string(),
            description: meta.description.to_string(),
            entry_code: d.entry_code.to_string(),
            entry_name: d.entry_name.clone(),
            owner: d.owner.clone(),
            owner_name: d.owner_name.clone(),
            officer: format!(
                "{}, {} · {} · {}",
                officer.name, officer.title, officer.phone, officer.email
            ),
            contact: match &meta.contact.phone {
                Some(phone) => {
                    format!("{} · {} · {}", meta.contact.name, meta.contact.email, phone)
                }
                None => format!("{} · {}", meta.contact.name, meta.contact.email),
            },
            access: meta.access_level.label_vi(),
            sharing: meta.sharing_mode.label_vi(),
            frequency: meta.update_frequency.label_vi(),
            licence: meta.licence.to_string(),
            keywords: meta
                .keywords
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            themes: meta
                .themes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            issued: d.issued.format("%d/%m/%Y").to_string(),
            modified: d.modified.format("%d/%m/%Y").to_string(),
            freshness: Freshness::of(d),
            fee_note: meta.fee_note.as_ref().map(ToString::to_string),
            legal_bases: d.legal_bases.iter().map(legal_basis).collect(),
            how_to_access: how_to_access(d),
            terms_of_use: meta.terms_of_use.as_ref().map(ToString::to_string),
            preview,
            report_form,
            maintenance: crate::provider::maintenance::notices_for(&state, None, Some(&meta.id))
                .await?,
        },
    );
    if let Some(value) = form_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

enum Format {
    JsonLd,
    Turtle,
}

fn published<'a>(
    entry: &'a lgsp_core::catalog::EntryContent,
    d: &'a PublishedDataset,
) -> dcat::Published<'a> {
    dcat::Published {
        entry,
        dataset: &d.dataset,
        publisher_name: &d.owner_name,
        issued: PublishedDataset::instant(d.issued),
        modified: PublishedDataset::instant(d.modified),
    }
}

fn jsonld(value: serde_json::Value) -> Response {
    (
        [(CONTENT_TYPE, "application/ld+json; charset=utf-8")],
        value.to_string(),
    )
        .into_response()
}

fn turtle(text: String) -> Response {
    ([(CONTENT_TYPE, "text/turtle; charset=utf-8")], text).into_response()
}

#[derive(Deserialize)]
struct PageParam {
    page: Option<usize>,
}

/// The page of the catalog a DCAT document holds, or a 404 problem past the last page.
async fn dcat_page(
    state: &AppState,
    page: Option<usize>,
) -> Result<Result<(Snapshot, dcat::Page), Response>, ApiError> {
    let snapshot = Snapshot::load(state, today()).await?;
    let total = snapshot.datasets.len();
    let number = page.unwrap_or(1);
    let last = total.div_ceil(DCAT_PAGE).max(1);
    if number == 0 || number > last {
        return Ok(Err(portal::not_found_problem(&format!(
            "the catalog has pages 1 to {last}"
        ))));
    }
    Ok(Ok((
        snapshot,
        dcat::Page {
            number,
            size: DCAT_PAGE,
            total,
        },
    )))
}

fn page_items<'a>(snapshot: &'a Snapshot, page: &dcat::Page) -> Vec<dcat::Published<'a>> {
    snapshot
        .datasets
        .iter()
        .skip((page.number - 1) * page.size)
        .take(page.size)
        .filter_map(|d| {
            let entry = &snapshot.entry(d.entry_code.as_str())?.content;
            Some(published(entry, d))
        })
        .collect()
}

async fn catalog_jsonld(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<PageParam>,
) -> Result<Response, ApiError> {
    let (snapshot, page) = match dcat_page(&state, params.page).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let base = base_url(&state, &headers);
    let items = page_items(&snapshot, &page);
    Ok(jsonld(dcat::catalog_jsonld(
        &items,
        &base,
        &page,
        &state.platform_name(),
    )))
}

async fn catalog_turtle(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<PageParam>,
) -> Result<Response, ApiError> {
    let (snapshot, page) = match dcat_page(&state, params.page).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let base = base_url(&state, &headers);
    let items = page_items(&snapshot, &page);
    Ok(turtle(dcat::catalog_turtle(
        &items,
        &base,
        &page,
        &state.platform_name(),
    )))
}
