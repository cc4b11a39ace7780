//! The annual report to the People's Committee (Q17.6; art. 17.6 of the demo regulation: the
//! Department of Information and Communications reports on the regulation's implementation
//! *before 15 December every year*).
//!
//! [`build`] reads a year's figures from storage — per agency and for the province, with the
//! previous year beside them — into an administrative document ([`lgsp_report::Document`]);
//! every figure carries the query that computes it ([`figures`]). [`render`] turns it into
//! DOCX, PDF, XLSX or HTML. The CLI (`lgsp report annual`), the API
//! (`/api/v1/reports/annual/{year}`) and the console (`/console/annual-report`) serve it;
//! [`reminder`] is what the operator's console says as the deadline nears.

pub mod figures;
pub mod reminder;
pub mod render;
pub mod routes;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lgsp_core::{AgencyKind, Role};
use lgsp_report::{
    Block, Cell, Chart, ChartKind, Document, Header, Section, Series, Signature, Table,
};
use lgsp_store::{Agency, Store, StoreError};

use crate::settings::{Regulation, Settings};
use figures::{exchanges_in, Kind, Period, Plan, Scope, Slot, EXCHANGES_ROW, ROWS};

pub use render::Format;
pub use routes::routes;

/// The first year a report can be asked for when no regulation is configured.
pub const FIRST_YEAR: i32 = 2000;

/// Viet Nam's date at `at`.
pub fn vietnam_date(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::Duration::hours(7)).date_naive()
}

/// The first year reported on: the regulation's, or [`FIRST_YEAR`].
pub fn first_year(settings: &Settings) -> i32 {
    settings
        .regulation
        .as_ref()
        .map_or(FIRST_YEAR, |r| r.date.year())
}

/// Why a year cannot be reported on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the year must be between {first} and {last} (the current year)")]
pub struct YearOutOfRange {
    pub first: i32,
    pub last: i32,
}

/// Checks that `year` is not before `first` and has begun (in Viet Nam on `today`).
pub fn check_year(year: i32, today: NaiveDate, first: i32) -> Result<i32, YearOutOfRange> {
    let last = today.year();
    if (first..=last).contains(&year) {
        Ok(year)
    } else {
        Err(YearOutOfRange { first, last })
    }
}

/// Who issues the report and under which regulation, from the settings and the registry.
struct Issuer {
    /// "Hà Nam".
    province: String,
    /// "Sở Thông tin và Truyền thông" (the operator's agency, without the province).
    body: String,
    regulation: Regulation,
}

/// The province's name: configured, or the provincial People's Committee's name less its
/// "Ủy ban nhân dân tỉnh" prefix.
fn province(settings: &Settings, agencies: &[Agency]) -> String {
    if let Some(province) = &settings.province {
        return province.clone();
    }
    agencies
        .iter()
        .find(|a| a.kind == AgencyKind::ProvincialCommittee)
        .map(|a| {
            let name = a.name.as_str();
            ["Ủy ban nhân dân tỉnh ", "UBND tỉnh ", "Ủy ban nhân dân "]
                .iter()
                .find_map(|prefix| name.strip_prefix(prefix))
                .unwrap_or(name)
                .to_owned()
        })
        .unwrap_or_default()
}

/// `name` without " tỉnh <province>" at its end.
fn short_name(name: &str, province: &str) -> String {
    name.strip_suffix(&format!(" tỉnh {province}"))
        .unwrap_or(name)
        .to_owned()
}

async fn issuer(
    store: &Store,
    settings: &Settings,
    agencies: &[Agency],
) -> Result<Issuer, StoreError> {
    let province = province(settings, agencies);
    // The operator's agency: the one the operators' accounts belong to.
    let users = store.list_users(None).await?;
    let operator_agency = users
        .iter()
        .filter(|u| !u.disabled && u.assignment.role() == Role::Operator)
        .find_map(|u| u.assignment.agency().cloned());
    let body = operator_agency
        .and_then(|code| agencies.iter().find(|a| a.code == code))
        .map(|a| short_name(a.name.as_str(), &province))
        // Art. 17 of the regulation names the department that reports.
        .unwrap_or_else(|| "Sở Thông tin và Truyền thông".to_owned());
    let regulation = match &settings.regulation {
        Some(regulation) => regulation.clone(),
        None => cited_regulation(store, agencies, &province).await?,
    };
    Ok(Issuer {
        province,
        body,
        regulation,
    })
}

/// The People's Committee's document the catalog cites most, as the regulation.
async fn cited_regulation(
    store: &Store,
    agencies: &[Agency],
    province: &str,
) -> Result<Regulation, StoreError> {
    let committee = agencies
        .iter()
        .find(|a| a.kind == AgencyKind::ProvincialCommittee)
        .map(|a| a.name.to_string())
        .unwrap_or_default();
    let mut cited: Vec<((String, NaiveDate), usize)> = Vec::new();
    for version in store.catalog_as_of(vietnam_date(Utc::now())).await? {
        for basis in &version.content.legal_bases {
            if basis.issuer.as_str() != committee {
                continue;
            }
            let key = (basis.number.to_string(), basis.date);
            match cited.iter_mut().find(|(k, _)| *k == key) {
                Some((_, count)) => *count += 1,
                None => cited.push((key, 1)),
            }
        }
    }
    cited.sort_by_key(|c| std::cmp::Reverse(c.1));
    let ((number, date), _) = cited
        .into_iter()
        .next()
        .unwrap_or_else(|| ((String::new(), NaiveDate::default()), 0));
    Ok(Regulation {
        number,
        date,
        title: format!(
            "Quy chế kết nối, chia sẻ, khai thác và sử dụng cơ sở dữ liệu dùng chung tỉnh {province}"
        ),
        report_clause: None,
    })
}

/// The abbreviation of a body in a document's number: "Sở Thông tin và Truyền thông" → "STTTT".
fn abbreviation(body: &str) -> String {
    body.split_whitespace()
        .filter(|word| *word != "và")
        .filter_map(|word| word.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// `d/m/yyyy` as Vietnamese documents write dates in running text.
fn date_text(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", date.day(), date.month(), date.year())
}

/// The agencies a section of II is written for, with their figures' slots for both years.
struct AgencyPlan {
    agency: Agency,
    /// Per row of [`ROWS`]: (previous year, this year, change) when the row applies.
    rows: Vec<Option<(Slot, Slot, Slot)>>,
}

/// Plans the rows of [`ROWS`] for `scope` (named `who` in the figures' labels), both years and
/// the change.
fn plan_rows(
    plan: &mut Plan,
    scope: Scope<'_>,
    who: &str,
    this: &Period,
    previous: &Period,
) -> Vec<Option<(Slot, Slot, Slot)>> {
    ROWS.iter()
        .map(|row| {
            let current = (row.query)(&scope, this)?;
            let before = (row.query)(&scope, previous)?;
            let label = |when: String| format!("{who}: {} – {when}", row.label);
            let before = plan.figure(label(format!("năm {}", previous.year)), row.kind, before);
            let current = plan.figure(label(format!("năm {}", this.year)), row.kind, current);
            let change = plan.change(label("tăng/giảm".into()), current, before);
            Some((before, current, change))
        })
        .collect()
}

/// The comparison table of a scope: "Chỉ tiêu | Năm N-1 | Năm N | Tăng/giảm".
fn comparison_table(
    results: &mut figures::Results,
    caption: String,
    reference: &str,
    rows: &[Option<(Slot, Slot, Slot)>],
    this: &Period,
) -> Table {
    let mut table = Table {
        caption,
        columns: vec![
            "Chỉ tiêu".into(),
            format!("Năm {}", this.year - 1),
            format!("Năm {}", this.year),
            "Tăng/giảm".into(),
        ],
        rows: Vec::new(),
    };
    for (n, (row, slots)) in ROWS.iter().zip(rows).enumerate() {
        let Some((before, current, delta)) = slots else {
            continue;
        };
        let id = |column: usize| format!("{reference}.{}.{column}", n + 1);
        table.rows.push(vec![
            Cell::Text(row.label.to_owned()),
            results.cell(*before, id(1)),
            results.cell(*current, id(2)),
            results.cell(*delta, id(3)),
        ]);
    }
    table
}

/// Whether any figure of an agency is more than nothing, either year.
fn has_activity(results: &figures::Results, rows: &[Option<(Slot, Slot, Slot)>]) -> bool {
    rows.iter().flatten().any(|(before, current, _)| {
        results.value(*before).is_some_and(|v| v != 0.0)
            || results.value(*current).is_some_and(|v| v != 0.0)
    })
}

/// Builds the report of `year`, dated `today` (Viet Nam's date).
pub async fn build(
    store: &Store,
    settings: &Settings,
    year: i32,
    today: NaiveDate,
) -> Result<Document, StoreError> {
    let agencies = store.list_agencies().await?;
    let issuer = issuer(store, settings, &agencies).await?;
    let this = Period::year(year);
    let previous = Period::year(year - 1);

    // Plan every figure, then run the queries together.
    let mut plan = Plan::default();
    let province_rows = plan_rows(&mut plan, Scope::Province, PROVINCE_WIDE, &this, &previous);
    let agency_plans: Vec<AgencyPlan> = agencies
        .iter()
        .map(|agency| AgencyPlan {
            rows: plan_rows(
                &mut plan,
                Scope::Agency(agency.code.as_str()),
                agency.name.as_str(),
                &this,
                &previous,
            ),
            agency: agency.clone(),
        })
        .collect();
    let months: Vec<(Slot, Slot)> = (1..=12)
        .map(|month| {
            let (from, to) = previous.month(month);
            let before = plan.figure(
                format!("Lượt trao đổi tháng {month}/{}", previous.year),
                Kind::Count,
                exchanges_in(from, to),
            );
            let (from, to) = this.month(month);
            let current = plan.figure(
                format!("Lượt trao đổi tháng {month}/{}", this.year),
                Kind::Count,
                exchanges_in(from, to),
            );
            (before, current)
        })
        .collect();
    let mut results = plan.run(store).await?;

    let refused = store.refused_requests(this.start, this.end).await?;
    let systems = store.list_systems(None).await?;

    // I. The general picture: the province's table and the charts.
    let exchanges = province_rows[EXCHANGES_ROW].map(|(before, current, _)| {
        (
            results.value(before).unwrap_or_default(),
            results.value(current).unwrap_or_default(),
        )
    });
    let active: Vec<&AgencyPlan> = agency_plans
        .iter()
        .filter(|p| has_activity(&results, &p.rows))
        .collect();
    let mut general = Section {
        heading: "Tình hình chung".into(),
        ..Section::default()
    };
    general.blocks.push(Block::Paragraph(format!(
        "Năm {year}, {} cơ quan, đơn vị có hoạt động kết nối, chia sẻ dữ liệu trên Nền tảng tích \
         hợp, chia sẻ dữ liệu của tỉnh (hệ thống thông tin, cơ sở dữ liệu, dịch vụ hoặc trao đổi \
         dữ liệu). Số liệu dưới đây được tổng hợp từ nhật ký minh bạch và cơ sở dữ liệu của nền \
         tảng theo giờ Việt Nam (UTC+7), từ ngày 01/01/{year} đến ngày 31/12/{year} hoặc đến thời \
         điểm lập báo cáo; câu lệnh truy vấn tạo ra từng số liệu được liệt kê tại Phụ lục.",
        lgsp_report::group_thousands(active.len() as i64),
    )));
    general.blocks.push(Block::Table(comparison_table(
        &mut results,
        format!(
            "Bảng 1. Tổng hợp toàn tỉnh năm {year} so với năm {}",
            year - 1
        ),
        "B1",
        &province_rows,
        &this,
    )));

    // The chart's numbers follow it as a table in every rendering; their sources are
    // "BĐ1.<month>.<1: last year, 2: this year>".
    let mut month_series = (Vec::new(), Vec::new());
    for (n, (before, current)) in months.iter().enumerate() {
        for (slot, column, series) in [
            (before, 1, &mut month_series.0),
            (current, 2, &mut month_series.1),
        ] {
            let cell = results.cell(*slot, format!("BĐ1.{}.{column}", n + 1));
            series.push(match cell {
                Cell::Integer(n) => n as f64,
                _ => 0.0,
            });
        }
    }
    general.blocks.push(Block::Chart(Chart {
        kind: ChartKind::Lines,
        caption: format!(
            "Biểu đồ 1. Lượt trao đổi dữ liệu theo tháng, năm {} và năm {year}",
            year - 1
        ),
        unit: "lượt trao đổi".into(),
        categories: (1..=12).map(|m| format!("T{m}")).collect(),
        series: vec![
            Series {
                name: format!("Năm {}", year - 1),
                values: month_series.0,
            },
            Series {
                name: format!("Năm {year}"),
                values: month_series.1,
            },
        ],
    }));

    let providers: Vec<(String, f64, f64)> = active
        .iter()
        .filter_map(|p| {
            let (before, current, _) = p.rows[EXCHANGES_ROW]?;
            let (before, current) = (
                results.value(before).unwrap_or_default(),
                results.value(current).unwrap_or_default(),
            );
            (before > 0.0 || current > 0.0).then(|| {
                (
                    short_name(p.agency.name.as_str(), &issuer.province),
                    before,
                    current,
                )
            })
        })
        .collect();
    if !providers.is_empty() {
        general.blocks.push(Block::Chart(Chart {
            kind: ChartKind::Bars,
            caption: "Biểu đồ 2. Lượt trao đổi dữ liệu theo cơ quan cung cấp (số liệu tại mục II)"
                .into(),
            unit: "lượt trao đổi".into(),
            categories: providers.iter().map(|p| p.0.clone()).collect(),
            series: vec![
                Series {
                    name: format!("Năm {}", year - 1),
                    values: providers.iter().map(|p| p.1).collect(),
                },
                Series {
                    name: format!("Năm {year}"),
                    values: providers.iter().map(|p| p.2).collect(),
                },
            ],
        }));
    }
    if let Some((before, current)) = exchanges {
        general.blocks.push(Block::Paragraph(format!(
            "Tổng số lượt trao đổi dữ liệu qua nền tảng năm {year} là {} lượt (năm {}: {} lượt).",
            lgsp_report::group_thousands(current as i64),
            year - 1,
            lgsp_report::group_thousands(before as i64),
        )));
    }

    // II. Results, agency by agency.
    let mut results_section = Section {
        heading: "Kết quả thực hiện".into(),
        ..Section::default()
    };
    for (n, plan) in active.iter().enumerate() {
        let reference = format!("B{}", n + 2);
        let name = plan.agency.name.to_string();
        let mut section = Section {
            heading: name.clone(),
            ..Section::default()
        };
        section.blocks.push(Block::Table(comparison_table(
            &mut results,
            format!("Bảng {}. {name}", n + 2),
            &reference,
            &plan.rows,
            &this,
        )));
        let own_refusals: Vec<_> = refused
            .iter()
            .filter(|r| r.provider_code == plan.agency.code.as_str())
            .collect();
        if !own_refusals.is_empty() {
            section.blocks.push(Block::Paragraph(
                "Các đề nghị chia sẻ bị từ chối trong năm, lý do và căn cứ pháp lý:".into(),
            ));
            section.blocks.push(Block::Table(Table {
                caption: format!("Đề nghị chia sẻ bị từ chối – {name}"),
                columns: vec![
                    "Đề nghị số".into(),
                    "Cơ quan đề nghị".into(),
                    "Ngày từ chối".into(),
                    "Lý do".into(),
                    "Căn cứ pháp lý".into(),
                ],
                rows: own_refusals
                    .iter()
                    .map(|r| {
                        vec![
                            Cell::Text(r.id.to_string()),
                            Cell::Text(r.consumer_name.clone()),
                            Cell::Text(date_text(vietnam_date(r.refused_at))),
                            Cell::Text(r.reason.clone()),
                            Cell::Text(r.legal_basis.clone()),
                        ]
                    })
                    .collect(),
            }));
        }
        results_section.subsections.push(section);
    }
    let quiet: Vec<String> = agency_plans
        .iter()
        .filter(|p| !has_activity(&results, &p.rows))
        .map(|p| p.agency.name.to_string())
        .collect();
    if !quiet.is_empty() {
        results_section.blocks.push(Block::Paragraph(format!(
            "Các cơ quan, đơn vị chưa phát sinh hoạt động kết nối, chia sẻ dữ liệu trong năm {} \
             và năm {year}: {}.",
            year - 1,
            quiet.join("; ")
        )));
    }

    // III. Shortcomings: the facts the platform knows, and room for the operator's own.
    let mut shortcomings = Section {
        heading: "Tồn tại, hạn chế".into(),
        ..Section::default()
    };
    let upgrades: Vec<String> = systems
        .iter()
        .filter(|s| matches!(s.readiness, lgsp_core::Readiness::NeedsUpgrade { .. }))
        .map(|s| {
            let owner = agencies
                .iter()
                .find(|a| a.code == s.agency)
                .map_or_else(|| s.agency.to_string(), |a| a.name.to_string());
            format!("{} ({owner})", s.name)
        })
        .collect();
    if !upgrades.is_empty() {
        shortcomings.blocks.push(Block::Paragraph(format!(
            "Hệ thống thông tin chưa đáp ứng yêu cầu kỹ thuật về kết nối, cần đầu tư, nâng cấp \
             (theo kết quả đánh giá mức sẵn sàng kết nối): {}.",
            upgrades.join("; ")
        )));
    }
    shortcomings
        .blocks
        .push(Block::Paragraph(OPERATOR_TO_WRITE.into()));

    let proposals = Section {
        heading: "Đề xuất, kiến nghị".into(),
        blocks: vec![Block::Paragraph(OPERATOR_TO_WRITE.into())],
        subsections: Vec::new(),
    };

    let regulation = &issuer.regulation;
    let clause = regulation
        .report_clause
        .as_deref()
        .map(|clause| format!("{clause} "))
        .unwrap_or_default();
    let preamble = vec![format!(
        "Thực hiện {clause}Quy chế ban hành kèm theo Quyết định số {} ngày {} của Ủy ban nhân dân \
         tỉnh {} ({}), {} báo cáo tình hình thực hiện Quy chế năm {year} như sau:",
        regulation.number,
        date_text(regulation.date),
        issuer.province,
        regulation.title,
        issuer.body,
    )];

    Ok(Document {
        header: Header {
            parent_body: format!("UBND TỈNH {}", issuer.province.to_uppercase()),
            issuing_body: issuer.body.to_uppercase(),
            number: format!("Số:      /BC-{}", abbreviation(&issuer.body)),
            place: issuer.province.clone(),
            date: today,
        },
        title: "BÁO CÁO".into(),
        subject: format!(
            "Tình hình thực hiện {} (Quyết định số {}) năm {year}",
            regulation.title, regulation.number
        ),
        preamble,
        sections: vec![general, results_section, shortcomings, proposals],
        signature: Signature {
            authority: None,
            position: "GIÁM ĐỐC".into(),
            name: String::new(),
        },
        recipients: vec![
            format!("UBND tỉnh {} (để báo cáo);", issuer.province),
            "Chủ tịch, các Phó Chủ tịch UBND tỉnh;".into(),
            "Các sở, ban, ngành; UBND các huyện, thị xã, thành phố;".into(),
            "Giám đốc, các Phó Giám đốc Sở;".into(),
            "Lưu: VT.".into(),
        ],
        figures: results.into_sources(),
    })
}

/// How the figures' labels name the province as a whole.
pub const PROVINCE_WIDE: &str = "Toàn tỉnh";

/// The paragraph left for the operator to write before signing.
pub const OPERATOR_TO_WRITE: &str = "[NỘI DUNG DO CƠ QUAN BÁO CÁO SOẠN THẢO — \
    thay đoạn này bằng nội dung của cơ quan trước khi trình ký.]";
