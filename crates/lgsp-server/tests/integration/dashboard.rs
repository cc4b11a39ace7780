//! The dashboards (Q7.5, Q15.2.e, Q12): real exchanges through the gateway, then the
//! operator's figures (JSON, the console's tables and CSV) count exactly them, filtered by
//! period and agency; an agency's administrator reads only their own agency's; availability
//! comes from monitoring's probes; the portal's open statistics count datasets, downloads and
//! agencies connected.

use chrono::{NaiveDate, Utc};
use lgsp_core::calendar::VIETNAM;
use lgsp_server::monitoring::probe_due;
use serde_json::{json, Value};

use super::gateway::{call, grant, path, provider, provider_service};
use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};
use super::monitoring::{health_endpoint, register_system, round, SYSTEM as MONITORED};
use super::services::JUSTICE;
use super::web::{browser, sign_in};

on_both_backends!(
    q15_2_e_dashboard_counts_gateway_exchanges_in_its_tables_and_csv,
    q15_2_e_dashboard_filters_by_period_and_agency,
    q15_2_e_agency_dashboard_shows_its_own_agency_only,
    q7_5_dashboard_availability_comes_from_monitoring,
    q12_public_statistics_count_datasets_downloads_and_agencies,
);

const CODE: &str = "tra-cuu-khai-sinh-tk";
/// An agency of the demo province that takes no part in the story's exchanges.
const OTHER: &str = "000.00.02.H35";

fn today() -> NaiveDate {
    Utc::now().with_timezone(&VIETNAM).date_naive()
}

fn day_vi(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

/// Three exchanges answered and one refused (no purpose) through the gateway, on a service of
/// Sở Tư pháp granted to the first demo client's system; returns the service's target label.
async fn exchanges(app: &TestApp) -> String {
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(app, &admin, "ho-tich-gw", &base, CODE).await;
    grant(app, &admin, CODE, json!(["/ho_ten"]), 1000).await;
    let (_, token) = app.client_token().await;
    for _ in 0..3 {
        let response = call(app, &token, &path(CODE, "/khai-sinh/1"), Some("TTHC")).await;
        assert_eq!(response.status(), 200);
    }
    assert_problem(
        call(app, &token, &path(CODE, "/khai-sinh/1"), None).await,
        400,
        "purpose_required",
    )
    .await;
    format!("{JUSTICE}/ho-tich-gw/{CODE}/v1")
}

async fn dashboard(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app
        .get(
            &format!("/api/v1/statistics/dashboard?{query}"),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn row<'a>(rows: &'a Value, key: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("{key} in {rows}"))
}

/// A CSV download's lines, without the byte-order mark.
async fn csv_lines(response: reqwest::Response) -> Vec<String> {
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = response.text().await.unwrap();
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn q15_2_e_dashboard_counts_gateway_exchanges_in_its_tables_and_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    let target = exchanges(&app).await;
    let client = app.credentials.clients[0].clone();
    let operator = app.token("operator").await;

    // The JSON: the default period is the last 30 days, today last.
    let figures = dashboard(&app, &operator, "").await;
    let today = today();
    assert_eq!(figures["to"], today.to_string());
    assert_eq!(figures["days"].as_array().unwrap().len(), 30);
    assert!(figures["agency"].is_null());
    let totals = &figures["totals"];
    assert_eq!(
        (
            &totals["exchanges"],
            &totals["ok"],
            &totals["refusals"],
            &totals["errors"]
        ),
        (&json!(4), &json!(3), &json!(1), &json!(0)),
        "{totals}"
    );
    assert_eq!(totals["refusal_rate"], 0.25);
    for p in ["latency_p50_ms", "latency_p95_ms", "latency_p99_ms"] {
        assert!(totals[p].as_f64().unwrap() > 0.0, "{p}: {totals}");
    }
    let last = &figures["days"][29];
    assert_eq!(
        (&last["day"], &last["exchanges"]),
        (&json!(today.to_string()), &json!(4))
    );
    assert_eq!(figures["days"][0]["exchanges"], 0);
    let justice = row(&figures["providers"], JUSTICE);
    assert_eq!(
        (&justice["exchanges"], &justice["ok"]),
        (&json!(4), &json!(3))
    );
    assert!(!justice["name"].as_str().unwrap().is_empty());
    assert_eq!(row(&figures["consumers"], &client.agency)["exchanges"], 4);
    let service = row(&figures["services"], &target);
    assert_eq!(
        (&service["ok"], &service["refusals"]),
        (&json!(3), &json!(1))
    );
    assert_eq!(service["name"], "Tra cứu thông tin khai sinh");

    // The same numbers as CSV, from the API and from the console.
    let day = day_vi(today);
    let lines = csv_lines(
        app.get(
            "/api/v1/statistics/dashboard?format=csv&chart=services",
            Some(&operator),
        )
        .await,
    )
    .await;
    assert_eq!(
        lines[0],
        "Dịch vụ,Tên,Tổng,Thành công,Bị từ chối,Lỗi,Độ trễ p95 (ms)"
    );
    assert!(
        lines[1].starts_with(&format!("{target},Tra cứu thông tin khai sinh,4,3,1,0,")),
        "{lines:?}"
    );
    let web = browser(&app);
    assert_eq!(sign_in(&app, &web, "operator").await.status(), 303);
    let response = web
        .get(app.url("/console/dashboard?format=csv&chart=exchanges-per-day"))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("thong-ke_exchanges-per-day_toan-tinh_"));
    let lines = csv_lines(response).await;
    assert_eq!(lines[0], "Ngày,Tổng,Thành công,Bị từ chối,Lỗi");
    assert_eq!(lines.len(), 31);
    assert_eq!(lines[30], format!("{day},4,3,1,0"));

    // The console page: every chart drawn, with its table beside it.
    let response = web.get(app.url("/console/dashboard")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Thống kê, giám sát hoạt động trao đổi dữ liệu"));
    assert!(html.contains("<strong id=\"pham-vi\">toàn tỉnh</strong>"));
    assert!(html.matches("<svg class=\"chart\"").count() >= 6, "{html}");
    assert!(!html.contains("<script"));
    assert!(html.contains(&format!("<td>{day}</td><td class=\"num\">4</td><td class=\"num\">3</td><td class=\"num\">1</td><td class=\"num\">0</td>")), "{html}");
    assert!(html.contains(
        "id=\"tong-trao-doi\"><span class=\"muted\">Lượt trao đổi</span><strong>4</strong>"
    ));
    assert!(
        html.contains("<strong>25,0%</strong>"),
        "the refusal rate, Vietnamese style"
    );
    assert!(
        html.contains("href=\"/console/dashboard\""),
        "in the navigation"
    );
    for name in [
        "latency",
        "providers",
        "consumers",
        "services",
        "datasets",
        "availability",
        "stale-datasets",
        "sharing-requests",
        "error-reports",
        "tickets",
    ] {
        assert!(html.contains(&format!("id=\"bang-{name}\"")), "{name}");
        assert!(
            html.contains(&format!("format=csv&#38;chart={name}\"")),
            "{name}"
        );
    }

    // Bad filters are refused, nothing else.
    let url = |query: &str| format!("/api/v1/statistics/dashboard?{query}");
    for query in [
        "from=2026-02-01&to=2026-01-01",
        "from=2024-01-01&to=2025-06-30",
        "from=2026-01-01",
        "from=01/01/2026&to=2026-01-31",
    ] {
        assert_problem(
            app.get(&url(query), Some(&operator)).await,
            400,
            "invalid_period",
        )
        .await;
    }
    for query in [
        "format=pdf",
        "format=csv&chart=nope",
        "format=csv",
        "agency=khong-phai-ma",
    ] {
        assert_problem(
            app.get(&url(query), Some(&operator)).await,
            400,
            "invalid_parameter",
        )
        .await;
    }
    let response = web
        .get(app.url("/console/dashboard?from=2026-02-01&to=2026-01-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("không quá 366 ngày"));
    app.stop().await;
}

async fn q15_2_e_dashboard_filters_by_period_and_agency(backend: Backend) {
    let app = spawn_app(backend).await;
    exchanges(&app).await;
    let operator = app.token("operator").await;
    let today = today();

    // A period before the exchanges: nothing; a period of today only: them.
    let before = dashboard(&app, &operator, "from=2025-01-01&to=2025-01-31").await;
    assert_eq!(before["totals"]["exchanges"], 0);
    assert_eq!(before["days"].as_array().unwrap().len(), 31);
    assert!(before["totals"]["latency_p50_ms"].is_null());
    let on_the_day = dashboard(&app, &operator, &format!("from={today}&to={today}")).await;
    assert_eq!(on_the_day["totals"]["exchanges"], 4);
    assert_eq!(on_the_day["days"].as_array().unwrap().len(), 1);

    // The agency filter: either side of the exchange counts; an agency without any sees none.
    let justice = dashboard(&app, &operator, &format!("agency={JUSTICE}")).await;
    assert_eq!(justice["agency"], JUSTICE);
    assert_eq!(justice["totals"]["exchanges"], 4);
    let consumer = app.credentials.clients[0].agency.clone();
    let consuming = dashboard(&app, &operator, &format!("agency={consumer}")).await;
    assert_eq!(consuming["totals"]["exchanges"], 4);
    let other = dashboard(&app, &operator, &format!("agency={OTHER}")).await;
    assert_eq!(other["totals"]["exchanges"], 0);
    assert!(other["providers"].as_array().unwrap().is_empty());

    // The console's form keeps the filters; its tables follow them.
    let web = browser(&app);
    assert_eq!(sign_in(&app, &web, "operator").await.status(), 303);
    let html = web
        .get(app.url(&format!(
            "/console/dashboard?from={today}&to={today}&agency={OTHER}"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("value=\"{today}\"")));
    assert!(
        html.contains(&format!("<option value=\"{OTHER}\" selected>")),
        "{html}"
    );
    assert!(html.contains(&format!("{} – {}", day_vi(today), day_vi(today))));
    assert!(html.contains(
        "id=\"tong-trao-doi\"><span class=\"muted\">Lượt trao đổi</span><strong>0</strong>"
    ));
    app.stop().await;
}

async fn q15_2_e_agency_dashboard_shows_its_own_agency_only(backend: Backend) {
    let app = spawn_app(backend).await;
    exchanges(&app).await;
    // An exchange between two other agencies, appended as the gateway appends its leaves.
    let stranger = lgsp_store::ExchangeEntry {
        log_index: 0,
        at: Utc::now(),
        request_id: "ngoai-pham-vi".into(),
        consumer_agency: Some("000.00.20.H35".into()),
        consumer_system: Some("mot-cua".into()),
        provider_agency: Some(OTHER.into()),
        target: Some(format!("{OTHER}/he-thong/dich-vu/v1")),
        purpose: Some("TTHC".into()),
        method: "GET".into(),
        status: 200,
        refusal: None,
        response_bytes: 10,
        latency_micros: 1500,
        subject: None,
    };
    app.state
        .store
        .append_log(&[b"{\"kind\":\"exchange\"}".to_vec()], &[stranger])
        .await
        .unwrap();
    let operator = app.token("operator").await;
    assert_eq!(
        dashboard(&app, &operator, "").await["totals"]["exchanges"],
        5
    );

    // Sở Tư pháp's administrator: their agency's figures, by default and when asked.
    let admin = app.token("agency-admin").await;
    let own = dashboard(&app, &admin, "").await;
    assert_eq!(own["agency"], JUSTICE);
    assert_eq!(own["totals"]["exchanges"], 4);
    assert!(own["providers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["key"] != OTHER));
    assert_eq!(
        dashboard(&app, &admin, &format!("agency={JUSTICE}")).await["totals"]["exchanges"],
        4
    );
    // Another agency's: refused, as JSON, CSV and page.
    let url = format!("/api/v1/statistics/dashboard?agency={OTHER}");
    assert_problem(app.get(&url, Some(&admin)).await, 403, "forbidden").await;
    assert_problem(
        app.get(&format!("{url}&format=csv&chart=services"), Some(&admin))
            .await,
        403,
        "forbidden",
    )
    .await;
    let web = browser(&app);
    assert_eq!(sign_in(&app, &web, "agency-admin").await.status(), 303);
    let response = web
        .get(app.url(&format!("/console/dashboard?agency={OTHER}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let page = web.get(app.url("/console/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("({JUSTICE})</strong>")),
        "scoped to the agency"
    );
    assert!(!html.contains("id=\"co-quan\""), "no agency to choose");
    assert!(!html.contains(OTHER));
    let lines = csv_lines(
        web.get(app.url("/console/dashboard?format=csv&chart=providers"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(lines.iter().all(|l| !l.contains(OTHER)), "{lines:?}");

    // Citizens and visitors read no dashboard.
    let citizen = app.token("citizen").await;
    assert_problem(
        app.get("/api/v1/statistics/dashboard", Some(&citizen))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/statistics/dashboard", None).await,
        401,
        "authentication_required",
    )
    .await;
    let anonymous = browser(&app);
    let response = anonymous
        .get(app.url("/console/dashboard"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    app.stop().await;
}

async fn q7_5_dashboard_availability_comes_from_monitoring(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let (base, up) = health_endpoint().await;
    register_system(&app, &admin, &base).await;
    // Up, then down: 3 probes of 4 answered.
    for n in 0..3 {
        probe_due(&app.state, round(n)).await.unwrap();
    }
    up.store(false, std::sync::atomic::Ordering::SeqCst);
    probe_due(&app.state, round(3)).await.unwrap();

    let operator = app.token("operator").await;
    let figures = dashboard(&app, &operator, "").await;
    let system = figures["availability"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["system"] == MONITORED)
        .unwrap_or_else(|| panic!("{figures}"));
    assert_eq!(
        (
            &system["agency"],
            &system["probes"],
            &system["up"],
            &system["availability_percent"]
        ),
        (&json!(JUSTICE), &json!(4), &json!(3), &json!(75.0))
    );
    // The agency's own dashboard lists its systems; another agency's systems are not there.
    assert!(figures["availability"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["agency"] != JUSTICE));
    let own = dashboard(&app, &admin, "").await;
    let own = own["availability"].as_array().unwrap();
    assert!(own.iter().all(|a| a["agency"] == JUSTICE), "{own:?}");
    assert!(own.iter().any(|a| a["system"] == MONITORED));
    let lines = csv_lines(
        app.get(
            "/api/v1/statistics/dashboard?format=csv&chart=availability",
            Some(&operator),
        )
        .await,
    )
    .await;
    assert_eq!(
        lines[0],
        "Cơ quan,Hệ thống,Tên,Lần kiểm tra,Hoạt động,Tỷ lệ hoạt động"
    );
    assert!(lines.contains(&format!(
        "{JUSTICE},{MONITORED},Hệ thống quản lý công chứng,4,3,75.00"
    )));
    // Stale datasets are those the catalog shows as overdue for an update.
    let html = app
        .http
        .get(app.url("/catalog"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let stale = figures["stale_datasets"].as_array().unwrap();
    assert_eq!(
        stale.is_empty(),
        !html.contains("badge stale"),
        "the dashboard and the catalog agree on stale datasets"
    );
    app.stop().await;
}

async fn q12_public_statistics_count_datasets_downloads_and_agencies(backend: Backend) {
    let app = spawn_app(backend).await;
    let statistics = |app: &TestApp| {
        let url = app.url("/api/v1/statistics/public");
        let http = app.http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let before = statistics(&app).await;
    assert_eq!(before["downloads"], 0);
    assert!(before["most_downloaded"].as_array().unwrap().is_empty());
    let systems: Vec<Value> = app
        .get("/api/v1/systems", Some(&app.token("operator").await))
        .await
        .json()
        .await
        .unwrap();
    let mut agencies: Vec<&str> = systems
        .iter()
        .map(|s| s["agency"].as_str().unwrap())
        .collect();
    agencies.sort_unstable();
    agencies.dedup();
    assert!(!agencies.is_empty());
    assert_eq!(before["agencies_connected"], agencies.len());
    assert_eq!(before["systems"], systems.len());
    assert!(before["open_datasets"].as_i64().unwrap() > 0, "{before}");
    assert!(
        before["open_datasets"].as_i64().unwrap() + before["public_datasets"].as_i64().unwrap()
            <= before["datasets"].as_i64().unwrap()
    );

    // A visitor downloads an open dataset twice; a page of it is no download.
    let records = "/api/v1/datasets/don-vi-hanh-chinh/records";
    for _ in 0..2 {
        let response = app
            .http
            .get(app.url(&format!("{records}?format=csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        app.http
            .get(app.url(records))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let after = statistics(&app).await;
    assert_eq!(after["downloads"], 2);
    assert_eq!(after["most_downloaded"][0]["id"], "don-vi-hanh-chinh");
    assert_eq!(after["most_downloaded"][0]["downloads"], 2);

    // The page, linked from every page's navigation.
    let home = app
        .http
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("<a href=\"/statistics\">Thống kê</a>"));
    let response = app.http.get(app.url("/statistics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Thống kê nền tảng"));
    assert!(html.contains(&format!(
        "id=\"so-co-quan-ket-noi\"><span class=\"muted\">Cơ quan đã kết nối</span><strong>{}</strong>",
        agencies.len()
    )));
    assert!(html.contains("id=\"so-luot-tai\"><span class=\"muted\">Lượt tải dữ liệu (30 ngày)</span><strong>2</strong>"));
    assert!(html.contains("<a href=\"/dataset/don-vi-hanh-chinh\">"));
    app.stop().await;
}
