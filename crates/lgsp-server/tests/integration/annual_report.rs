//! The annual report to the People's Committee (Q17.6): built from real activity, every figure
//! recomputed from its own query and the exchange figures recounted from the transparency
//! log's leaves; the previous year beside this one; the operator's alone; the reminder from
//! 1 November until it is marked sent; the CLI.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use lgsp_server::annual_report::vietnam_date;
use lgsp_store::ExchangeEntry;
use reqwest::Method;
use serde_json::{json, Value};

use super::gateway::{call, grant, path, provider, provider_service, SYSTEM};
use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};
use super::services::JUSTICE;
use super::sharing_requests::{parties, request_body, step as request_step, submit};
use super::web::{browser, csrf_field, sign_in};

on_both_backends!(
    q17_6_annual_report_figures_match_the_log_and_storage,
    q17_6_report_compares_with_the_previous_year,
    q17_6_only_the_operator_builds_and_submits_the_report,
    q17_6_reminder_from_1_november_until_submitted,
    q17_6_cli_writes_the_report,
    q17_6_downloads_in_each_format_are_valid_files,
);

/// The code list hosted by Sở Nội vụ in the demo.
const UNITS: &str = "don-vi-hanh-chinh";
const HOME_AFFAIRS: &str = "000.00.02.H35";
const JUSTICE_NAME: &str = "Sở Tư pháp tỉnh Hà Nam";

fn this_year() -> i32 {
    vietnam_date(Utc::now()).year()
}

/// The report's figures as the API gives them.
async fn figures(app: &TestApp, token: &str, year: i32) -> Vec<Value> {
    let response = app
        .get(&format!("/api/v1/reports/annual/{year}"), Some(token))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["year"], year);
    body["figures"].as_array().unwrap().clone()
}

/// The figure labelled `label`.
fn figure<'a>(figures: &'a [Value], label: &str) -> &'a Value {
    figures
        .iter()
        .find(|f| f["label"] == label)
        .unwrap_or_else(|| panic!("no figure `{label}`"))
}

/// A shown value read back as a number: "1.234" → 1234, "12,5" → 12.5, "98,2%" → 0.982;
/// "–" → none. Also the precision shown (half a unit of the last digit).
fn shown(value: &str) -> Option<(f64, f64)> {
    if value == "–" {
        return None;
    }
    let percent = value.ends_with('%');
    let digits = value
        .trim_end_matches('%')
        .replace('.', "")
        .replace(',', ".");
    let decimals = digits.split_once('.').map_or(0, |(_, f)| f.len());
    let mut number: f64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("a number: {value}"));
    let mut half = 0.5 * 10f64.powi(-(decimals as i32));
    if percent {
        number /= 100.0;
        half /= 100.0;
    }
    Some((number, half))
}

/// Runs every figure's query on the store and checks it gives the value shown.
async fn every_query_gives_its_value(app: &TestApp, figures: &[Value]) {
    assert!(!figures.is_empty());
    for f in figures {
        let query = f["query"].as_str().unwrap();
        let value = app
            .state
            .store
            .figure_value(query)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e:?}"));
        match (shown(f["value"].as_str().unwrap()), value.as_f64()) {
            (None, None) => {}
            (Some((number, half)), Some(computed)) => assert!(
                (number - computed).abs() <= half + 1e-9,
                "{}: shown {} but the query gives {computed}",
                f["label"],
                f["value"]
            ),
            (shown, computed) => panic!("{}: {shown:?} vs {computed:?}", f["label"]),
        }
    }
}

/// Exchanges in the log's leaves whose time falls in `year` (Viet Nam), by provider agency:
/// (leaves, refused leaves, distinct consumer agencies of the served ones).
async fn count_leaves(app: &TestApp, year: i32, provider: Option<&str>) -> (i64, i64, i64) {
    let size = app.state.store.log_size().await.unwrap();
    let entries = app.state.store.log_entries(0, size).await.unwrap();
    let (mut total, mut refused) = (0, 0);
    let mut consumers = std::collections::BTreeSet::new();
    for raw in entries {
        let leaf: Value = serde_json::from_slice(&raw).unwrap();
        if leaf["kind"] != "exchange" {
            continue;
        }
        let time: DateTime<Utc> = leaf["time"].as_str().unwrap().parse().unwrap();
        if vietnam_date(time).year() != year {
            continue;
        }
        if provider.is_some_and(|p| leaf["provider"]["agency"] != p) {
            continue;
        }
        total += 1;
        if leaf["refusal"].is_null() {
            if let Some(consumer) = leaf["consumer"]["agency"].as_str() {
                consumers.insert(consumer.to_owned());
            }
        } else {
            refused += 1;
        }
    }
    (total, refused, consumers.len() as i64)
}

fn of_justice(row: &str, year: i32) -> String {
    format!("{JUSTICE_NAME}: {row} – năm {year}")
}

fn count_of(figures: &[Value], label: &str) -> i64 {
    shown(figure(figures, label)["value"].as_str().unwrap()).map_or(-1, |(n, _)| n as i64)
}

async fn q17_6_annual_report_figures_match_the_log_and_storage(backend: Backend) {
    let app = spawn_app(backend).await;
    let year = this_year();
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;

    // Exchanges through the gateway: served, refused (no purpose), refused while suspended.
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    let grant_id = grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 1000).await;
    let (_, token) = app.client_token().await;
    let url = path("khai-sinh", "/khai-sinh/1");
    for _ in 0..4 {
        assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 200);
    }
    assert!(call(&app, &token, &url, None)
        .await
        .status()
        .is_client_error());
    let grant_step = |step: &'static str, body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let response = app
                .send_json(
                    Method::POST,
                    &format!("/api/v1/grants/{grant_id}/{step}"),
                    Some(&admin),
                    &body,
                )
                .await;
            assert_eq!(response.status(), 200, "{step}");
        }
    };
    grant_step("suspend", json!({"reason": "Kiểm tra an toàn thông tin"})).await;
    assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 403);
    grant_step("resume", json!({})).await;
    grant_step("terminate", json!({"reason": "Hết nhu cầu khai thác"})).await;

    // Sharing requests to Sở Tư pháp: one approved, one refused with its reason (which also
    // opens a dispute ticket).
    let p = parties(&app).await;
    let approved = submit(
        &app,
        &p.consumer,
        &request_body(&app, json!(["so", "ho_ten"])),
    )
    .await;
    let response = request_step(
        &app,
        &p.provider,
        approved["id"].as_i64().unwrap(),
        "approve",
        &json!({}),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let refused = submit(&app, &p.consumer, &request_body(&app, json!(["so"]))).await;
    let reason = "Dữ liệu hộ tịch có thông tin cá nhân, chưa có sự đồng ý của chủ thể";
    let response = request_step(
        &app,
        &p.provider,
        refused["id"].as_i64().unwrap(),
        "refuse",
        &json!({"reason": reason, "legal_basis": "Nghị định 13/2023/NĐ-CP, Điều 11"}),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    // An error report on Sở Nội vụ's code list, fixed by the operator.
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/datasets/{UNITS}/error-reports"),
            None,
            &json!({"description": "Thiếu các xã mới sau sắp xếp năm 2025."}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let code = response.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    for step in ["acknowledge", "fix"] {
        let response = app
            .send_json(
                Method::POST,
                &format!("/api/v1/error-reports/{code}/{step}"),
                Some(&operator),
                &json!({}),
            )
            .await;
        assert_eq!(response.status(), 200, "{step}");
    }

    // Monitoring: the provider system has no health route, so three rounds of probes make an
    // outage (the demo's other systems, on invented hosts, fail too).
    let now = Utc::now();
    for n in 0..3 {
        lgsp_server::monitoring::probe_due(&app.state, now + chrono::Duration::seconds(61 * n))
            .await
            .unwrap();
    }

    let figures = figures(&app, &operator, year).await;
    every_query_gives_its_value(&app, &figures).await;
    assert_eq!(
        count_of(
            &figures,
            &of_justice("Sự cố ngừng hoạt động của hệ thống", year)
        ),
        {
            let systems = app.state.store.list_systems(None).await.unwrap();
            systems
                .iter()
                .filter(|s| s.agency.as_str() == JUSTICE && s.health_url.is_some())
                .count() as i64
        }
    );
    assert_eq!(
        figure(
            &figures,
            &of_justice("Tỷ lệ hoạt động của hệ thống (giám sát)", year)
        )["value"],
        "0,0%"
    );

    // The exchange figures, recounted from the leaves of the log.
    let (total, refused_leaves, consumers) = count_leaves(&app, year, Some(JUSTICE)).await;
    assert_eq!(total, 6, "4 served, 1 without purpose, 1 while suspended");
    let of = |row: &str| format!("{JUSTICE_NAME}: {row} – năm {year}");
    assert_eq!(
        count_of(&figures, &of("Lượt trao đổi dữ liệu (cơ quan cung cấp)")),
        total
    );
    assert_eq!(
        count_of(&figures, &of("– trong đó bị từ chối hoặc lỗi")),
        refused_leaves
    );
    assert_eq!(
        count_of(&figures, &of("Cơ quan khai thác dữ liệu (khác nhau)")),
        consumers
    );
    let (all, _, _) = count_leaves(&app, year, None).await;
    assert_eq!(
        count_of(
            &figures,
            &format!("Toàn tỉnh: Lượt trao đổi dữ liệu (cơ quan cung cấp) – năm {year}")
        ),
        all
    );
    let month = vietnam_date(Utc::now()).month();
    assert_eq!(
        count_of(&figures, &format!("Lượt trao đổi tháng {month}/{year}")),
        all
    );
    // The workflows, from storage.
    assert_eq!(
        count_of(&figures, &of("Đề nghị chia sẻ được chấp thuận")),
        1
    );
    assert_eq!(count_of(&figures, &of("Đề nghị chia sẻ bị từ chối")), 1);
    assert_eq!(count_of(&figures, &of("Lượt tạm dừng chia sẻ")), 1);
    assert_eq!(count_of(&figures, &of("Lượt chấm dứt chia sẻ")), 1);
    assert_eq!(
        count_of(&figures, &of("Dịch vụ chia sẻ dữ liệu qua nền tảng")),
        1
    );
    let home = |row: &str| format!("Sở Nội vụ tỉnh Hà Nam: {row} – năm {year}");
    assert_eq!(
        count_of(&figures, &home("Phản ánh sai sót dữ liệu nhận được")),
        1
    );
    assert_eq!(count_of(&figures, &home("– đã khắc phục trong năm")), 1);
    assert!(
        count_of(
            &figures,
            &format!("Toàn tỉnh: Vướng mắc (phiếu) phải giải quyết – năm {year}")
        ) >= 1
    );
    assert_eq!(
        count_of(
            &figures,
            &format!("{JUSTICE_NAME}: Lượt trao đổi dữ liệu (cơ quan cung cấp) – tăng/giảm")
        ),
        total,
        "nothing the year before"
    );

    // The document lists the refusal with its reason and legal basis.
    let response = app
        .get(
            &format!("/api/v1/reports/annual/{year}?format=html"),
            Some(&operator),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(reason), "the refusal's reason is listed");
    assert!(html.contains("Nghị định 13/2023/NĐ-CP, Điều 11"));
    assert!(html.contains("UBND TỈNH HÀ NAM"));
    assert!(html.contains("07/2021/QĐ-UBND"));
    let _ = HOME_AFFAIRS;
    app.stop().await;
}

/// Appends an exchange leaf (and its index row) at `at`, from the first demo client to
/// Sở Tư pháp, as the gateway records one.
async fn exchange_at(app: &TestApp, at: DateTime<Utc>, n: usize) {
    let client = &app.credentials.clients[0];
    let request_id = format!("test-{}-{n}", at.timestamp());
    let leaf = json!({
        "v": 1,
        "kind": "exchange",
        "time": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "request_id": request_id,
        "consumer": {"agency": client.agency, "system": client.system, "client": client.client_id},
        "provider": {"agency": JUSTICE, "system": SYSTEM, "service": "khai-sinh", "version": "v1"},
        "purpose": "TTHC",
        "method": "GET",
        "status": 200,
        "refusal": null,
    });
    app.state
        .log
        .append_exchange(
            &leaf,
            ExchangeEntry {
                log_index: 0,
                at,
                request_id,
                consumer_agency: Some(client.agency.clone()),
                consumer_system: Some(client.system.clone()),
                provider_agency: Some(JUSTICE.into()),
                target: Some(format!("{JUSTICE}/{SYSTEM}/khai-sinh/v1")),
                purpose: Some("TTHC".into()),
                method: "GET".into(),
                status: 200,
                refusal: None,
                response_bytes: 100,
                latency_micros: 1000,
                subject: None,
            },
        )
        .await
        .unwrap();
}

/// Viet Nam's wall-clock time as a UTC instant.
fn vietnam(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
        .unwrap()
        - chrono::Duration::hours(7)
}

async fn q17_6_report_compares_with_the_previous_year(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let year = this_year();
    let before = year - 1;
    // Three exchanges in March of last year, one on its last evening (in Viet Nam), and two
    // in the first minutes of this year — still 31 December in UTC.
    for n in 0..3 {
        exchange_at(&app, vietnam(before, 3, 10, 9, n), n as usize).await;
    }
    exchange_at(&app, vietnam(before, 12, 31, 23, 30), 3).await;
    exchange_at(&app, vietnam(year, 1, 1, 0, 10), 4).await;
    exchange_at(&app, vietnam(year, 1, 1, 0, 20), 5).await;

    let figures = figures(&app, &operator, year).await;
    every_query_gives_its_value(&app, &figures).await;
    let row = "Lượt trao đổi dữ liệu (cơ quan cung cấp)";
    let province = |when: &str| format!("Toàn tỉnh: {row} – {when}");
    assert_eq!(count_of(&figures, &province(&format!("năm {before}"))), 4);
    assert_eq!(count_of(&figures, &province(&format!("năm {year}"))), 2);
    assert_eq!(count_of(&figures, &province("tăng/giảm")), -2);
    assert_eq!(
        count_of(&figures, &format!("{JUSTICE_NAME}: {row} – năm {before}")),
        4
    );
    assert_eq!(
        count_of(&figures, &format!("Lượt trao đổi tháng 3/{before}")),
        3
    );
    assert_eq!(
        count_of(&figures, &format!("Lượt trao đổi tháng 12/{before}")),
        1
    );
    assert_eq!(
        count_of(&figures, &format!("Lượt trao đổi tháng 1/{year}")),
        2
    );
    // The same from the leaves.
    assert_eq!(count_leaves(&app, before, Some(JUSTICE)).await.0, 4);
    assert_eq!(count_leaves(&app, year, Some(JUSTICE)).await.0, 2);

    // The document has both years' columns.
    let html = app
        .get(
            &format!("/api/v1/reports/annual/{year}?format=html"),
            Some(&operator),
        )
        .await
        .text()
        .await
        .unwrap();
    for column in [
        format!("Năm {before}"),
        format!("Năm {year}"),
        "Tăng/giảm".into(),
    ] {
        assert!(html.contains(&column), "{column}");
    }
    app.stop().await;
}

async fn q17_6_only_the_operator_builds_and_submits_the_report(backend: Backend) {
    let app = spawn_app(backend).await;
    let year = this_year();
    let report = format!("/api/v1/reports/annual/{year}");
    let submission = format!("{report}/submission");
    for username in ["agency-admin", "approver", "auditor", "citizen"] {
        let token = app.token(username).await;
        assert_problem(app.get(&report, Some(&token)).await, 403, "forbidden").await;
        assert_problem(
            app.get(&format!("{report}?format=docx"), Some(&token))
                .await,
            403,
            "forbidden",
        )
        .await;
        assert_problem(
            app.send_json(Method::POST, &submission, Some(&token), &json!({}))
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_problem(app.get(&report, None).await, 401, "authentication_required").await;

    let operator = app.token("operator").await;
    assert_problem(
        app.get("/api/v1/reports/annual/nam-nay", Some(&operator))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    for bad in [1999, year + 1] {
        let problem = assert_problem(
            app.get(&format!("/api/v1/reports/annual/{bad}"), Some(&operator))
                .await,
            422,
            "invalid_report_year",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("2021"),
            "{problem}"
        );
    }
    assert_problem(
        app.get(&format!("{report}?format=odt"), Some(&operator))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        app.send_json(
            Method::POST,
            &submission,
            Some(&operator),
            &json!({"document_date": "10/12/2026"}),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;
    assert!(app
        .state
        .store
        .annual_report_submission(year)
        .await
        .unwrap()
        .is_none());

    let response = app
        .send_json(
            Method::POST,
            &submission,
            Some(&operator),
            &json!({"document_number": "125/BC-STTTT", "document_date": format!("{year}-12-10")}),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("lgsp-log-index"));
    let sent: Value = response.json().await.unwrap();
    assert_eq!(sent["submitted_by"], "operator");
    assert_eq!(sent["document_number"], "125/BC-STTTT");
    // The step is a leaf of the log.
    let index = sent["log_index"].as_u64().unwrap();
    let entry = super::transparency::proven_entry(&app, index).await;
    assert_eq!(entry["step"], "submit_annual_report");
    assert_eq!(entry["year"], year);
    assert_eq!(entry["actor"], "operator");
    // Once.
    assert_problem(
        app.send_json(Method::POST, &submission, Some(&operator), &json!({}))
            .await,
        409,
        "report_already_submitted",
    )
    .await;
    let body: Value = app
        .get(&report, Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["submission"]["document_number"], "125/BC-STTTT");
    assert!(body["reminder"].is_null());

    // The console page is the operator's too.
    let client = browser(&app);
    sign_in(&app, &client, "agency-admin").await;
    let page = client
        .get(app.url("/console/annual-report"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    app.stop().await;
}

async fn console(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let response = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn q17_6_reminder_from_1_november_until_submitted(backend: Backend) {
    let app = spawn_app(backend).await;
    let year = this_year();
    let operator = browser(&app);
    sign_in(&app, &operator, "operator").await;
    let admin = browser(&app);
    sign_in(&app, &admin, "agency-admin").await;

    app.state.clock.set(Some(vietnam(year, 10, 31, 16, 0)));
    assert!(!console(&operator, &app, "/console")
        .await
        .contains("nhac-bao-cao"));

    app.state.clock.set(Some(vietnam(year, 11, 1, 8, 0)));
    let overview = console(&operator, &app, "/console").await;
    assert!(overview.contains("nhac-bao-cao"), "{overview}");
    assert!(overview.contains(&format!("15/12/{year}")));
    assert!(overview.contains("còn 44 ngày"));
    assert!(!console(&admin, &app, "/console")
        .await
        .contains("nhac-bao-cao"));

    app.state.clock.set(Some(vietnam(year, 12, 15, 16, 0)));
    assert!(console(&operator, &app, "/console")
        .await
        .contains("hạn cuối"));

    app.state.clock.set(Some(vietnam(year, 12, 16, 8, 0)));
    let overview = console(&operator, &app, "/console").await;
    assert!(overview.contains("quá hạn"), "{overview}");
    let page = console(&operator, &app, "/console/annual-report").await;
    assert!(page.contains("quá hạn"));
    for id in ["tai-docx", "tai-pdf", "tai-xlsx", "xem-truoc"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }

    // Marked sent from the console (the form needs its token): the reminder stops.
    let refused = operator
        .post(app.url(&format!("/console/annual-report/{year}/submission")))
        .form(&[("csrf", "sai"), ("document_number", "125/BC-STTTT")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let response = operator
        .post(app.url(&format!("/console/annual-report/{year}/submission")))
        .form(&[
            ("csrf", csrf_field(&page).as_str()),
            ("document_number", "125/BC-STTTT"),
            ("document_date", &format!("{year}-12-16")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(!console(&operator, &app, "/console")
        .await
        .contains("nhac-bao-cao"));
    let page = console(&operator, &app, "/console/annual-report").await;
    assert!(
        page.contains("Đã gửi") && page.contains("125/BC-STTTT"),
        "{page}"
    );
    assert!(page.contains(&format!("16/12/{year}")));
    let stored = app
        .state
        .store
        .annual_report_submission(year)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.submitted_at, vietnam(year, 12, 16, 8, 0));

    // A new season: from 1 November of the next year, the next report.
    app.state.clock.set(Some(vietnam(year + 1, 11, 2, 8, 0)));
    assert!(console(&operator, &app, "/console")
        .await
        .contains(&format!("năm {}", year + 1)));
    app.state.clock.set(None);
    app.stop().await;
}

async fn q17_6_cli_writes_the_report(backend: Backend) {
    let app = spawn_app(backend).await;
    let year = this_year();
    let dir = app.data_dir.join("bao-cao");
    std::fs::create_dir_all(&dir).unwrap();
    let database = app
        .database_url()
        .unwrap_or_else(|| app.data_dir.join("lgsp.db").display().to_string());
    let run = |args: Vec<String>| {
        let (dir, database) = (dir.clone(), database.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
                    .current_dir(&dir)
                    .args(["report", "annual", "--database", &database])
                    .args(&args)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    // The default name, in the current directory.
    let output = run(vec![
        "--year".into(),
        year.to_string(),
        "--format".into(),
        "html".into(),
    ])
    .await;
    let printed = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{printed}");
    let html = std::fs::read_to_string(dir.join(format!("bao-cao-nam-{year}.html"))).unwrap();
    // No settings name the province or the regulation: both come from the registry and the
    // catalog.
    assert!(html.contains("UBND TỈNH HÀ NAM"), "{html}");
    assert!(html.contains("SỞ THÔNG TIN VÀ TRUYỀN THÔNG"));
    assert!(html.contains("/BC-STTTT"));
    assert!(html.contains("07/2021/QĐ-UBND"));
    assert!(html.contains(&format!("Năm {}", year - 1)));
    // An explicit output.
    let named = dir.join("bao-cao.html");
    let output = run(vec![
        "--year".into(),
        year.to_string(),
        "--format".into(),
        "html".into(),
        "--output".into(),
        named.display().to_string(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(0));
    assert!(named.exists());
    // Bad format, bad year: exit 2 with a clear message, no file.
    let output = run(vec![
        "--year".into(),
        year.to_string(),
        "--format".into(),
        "odt".into(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("unknown format `odt`: docx, pdf, xlsx, html"));
    let output = run(vec![
        "--year".into(),
        (year + 1).to_string(),
        "--format".into(),
        "html".into(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no report for"));
    assert!(!dir.join(format!("bao-cao-nam-{}.html", year + 1)).exists());
    app.stop().await;
}

/// The text of a part of an OOXML package.
fn part(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip package");
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in the package"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

async fn q17_6_downloads_in_each_format_are_valid_files(backend: Backend) {
    let app = spawn_app(backend).await;
    let year = this_year();
    let operator = app.token("operator").await;
    let figures = figures(&app, &operator, year).await;
    let systems = figure(
        &figures,
        &format!("Toàn tỉnh: Hệ thống thông tin đã đăng ký – năm {year}"),
    )["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = browser(&app);
    sign_in(&app, &client, "operator").await;
    for (format, content_type, magic) in [
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &b"PK"[..],
        ),
        ("pdf", "application/pdf", &b"%PDF-"[..]),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &b"PK"[..],
        ),
        ("html", "text/html; charset=utf-8", &b"<!"[..]),
    ] {
        // The API and the console's buttons give the same file.
        let api = app
            .get(
                &format!("/api/v1/reports/annual/{year}?format={format}"),
                Some(&operator),
            )
            .await;
        let console = client
            .get(app.url(&format!(
                "/console/annual-report/{year}/download?format={format}"
            )))
            .send()
            .await
            .unwrap();
        for response in [&api, &console] {
            assert_eq!(response.status(), 200, "{format}");
            assert_eq!(response.headers()["content-type"], content_type);
            let disposition = response.headers()["content-disposition"].to_str().unwrap();
            assert!(
                disposition.ends_with(&format!("filename=\"bao-cao-nam-{year}.{format}\"")),
                "{disposition}"
            );
        }
        let (api, console) = (api.bytes().await.unwrap(), console.bytes().await.unwrap());
        assert_eq!(api, console, "{format}");
        assert!(api.starts_with(magic), "{format}");
        match format {
            "docx" => {
                let body = part(&api, "word/document.xml");
                for text in [
                    "BÁO CÁO",
                    "UBND TỈNH HÀ NAM",
                    "GIÁM ĐỐC",
                    "Lưu: VT",
                    "Tồn tại, hạn chế",
                ] {
                    assert!(body.contains(text), "{text} in the DOCX");
                }
            }
            "xlsx" => {
                use calamine::{Reader, Xlsx};
                let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(api.to_vec())).unwrap();
                let sources = book
                    .worksheet_range("Nguồn số liệu")
                    .expect("the sources sheet");
                let found = sources.rows().any(|row| {
                    row.iter().any(|c| {
                        c.to_string()
                            .contains("Toàn tỉnh: Hệ thống thông tin đã đăng ký")
                    }) && row.iter().any(|c| c.to_string() == systems)
                });
                assert!(found, "the figure and its value in the XLSX's sources");
            }
            "pdf" => assert!(
                api.ends_with(b"%%EOF\n") || api.ends_with(b"%%EOF"),
                "a whole PDF"
            ),
            _ => assert!(String::from_utf8_lossy(&api).contains("Phụ lục: Nguồn số liệu")),
        }
    }
    app.stop().await;
}
