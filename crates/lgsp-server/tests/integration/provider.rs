//! The provider's procedures: suspending every grant on a resource and maintenance announced
//! on the portal (Q15.1.c; Decree 47/2020 art. 43), the exchange report (Q15.2.e) and usage
//! reports (Q15.1.b).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use lgsp_core::calendar::{WorkCalendar, VIETNAM};
use lgsp_server::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};

use super::gateway::{call, grant, path, provider, provider_service};
use super::helpers::{
    assert_problem, on_both_backends, spawn_app, spawn_app_with, Backend, TestApp,
};
use super::services::JUSTICE;
use super::sharing_requests::admin_of;
use super::web::{browser, csrf_field, sign_in};

on_both_backends!(
    q15_1_c_suspending_all_grants_of_a_resource_refuses_the_next_request,
    q15_1_c_maintenance_needs_seven_working_days_notice_unless_force_majeure,
    q15_1_c_maintenance_is_published_on_the_portal,
    q15_2_e_provider_report_counts_exchanges_per_consumer_and_service,
    q15_1_b_usage_report_request_answer_and_overdue,
);

const CODE: &str = "tra-cuu-khai-sinh-bt";
const RECORD: &str = "/khai-sinh/123";

/// A published service of Sở Tư pháp in front of a live upstream, granted to the first demo
/// client's system; returns the service's id, the grant's id and the client's token.
async fn served(app: &TestApp, admin: &str) -> (i64, i64, String) {
    let (base, _) = provider().await;
    provider_service(app, admin, "ho-tich-gw", &base, CODE).await;
    let grant = grant(app, admin, CODE, json!(["/ho_ten"]), 1000).await;
    let service = app
        .get(&format!("/api/v1/grants/{grant}"), Some(admin))
        .await
        .json::<Value>()
        .await
        .unwrap()["service_id"]
        .as_i64()
        .unwrap();
    let (_, token) = app.client_token().await;
    (service, grant, token)
}

async fn exchange(app: &TestApp, token: &str) -> reqwest::Response {
    call(app, token, &path(CODE, RECORD), Some("TTHC")).await
}

async fn post(app: &TestApp, route: &str, token: &str, body: Value) -> reqwest::Response {
    app.send_json(Method::POST, route, Some(token), &body).await
}

async fn status_of(app: &TestApp, token: &str, grant: i64) -> Value {
    app.get(&format!("/api/v1/grants/{grant}"), Some(token))
        .await
        .json()
        .await
        .unwrap()
}

async fn q15_1_c_suspending_all_grants_of_a_resource_refuses_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let (service, first, token) = served(&app, &admin).await;
    // A second consumer on the same service, suspended on its own before.
    let first_client = &app.credentials.clients[0];
    let other_client = app
        .credentials
        .clients
        .iter()
        .find(|c| c.agency != first_client.agency && c.agency != JUSTICE)
        .expect("a demo client of another agency");
    let other = post(
        &app,
        "/api/v1/grants",
        &admin,
        json!({
            "consumer": {"agency": other_client.agency, "code": other_client.system},
            "target": {"kind": "service", "id": service},
            "fields": ["/ho_ten"],
            "purposes": ["TTHC"]
        }),
    )
    .await;
    assert_eq!(other.status(), 201);
    let second = other.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let until = (Utc::now() + Duration::days(3)).to_rfc3339();
    let response = post(
        &app,
        &format!("/api/v1/grants/{second}/suspend"),
        &admin,
        json!({"reason": "Vi phạm quy chế khai thác", "until": until}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let suspended: Value = response.json().await.unwrap();
    assert!(suspended["suspended_until"].is_string(), "{suspended}");
    assert_problem(
        post(
            &app,
            &format!("/api/v1/grants/{first}/suspend"),
            &admin,
            json!({"reason": "x", "until": "2020-01-01T00:00:00Z"}),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;
    assert_eq!(exchange(&app, &token).await.status(), 200);

    // Bad input, wrong roles: refused with their codes, nothing suspended.
    let target = json!({"kind": "service", "id": service});
    let citizen = app.token("citizen").await;
    let auditor = app.token("auditor").await;
    let body = json!({"target": target, "cause": "maintenance", "reason": "Nâng cấp máy chủ",
        "planned_end": (Utc::now() + Duration::hours(4)).to_rfc3339()});
    for token in [&citizen, &auditor] {
        assert_problem(
            post(&app, "/api/v1/resource-suspensions", token, body.clone()).await,
            403,
            "forbidden",
        )
        .await;
    }
    let (_, system_token) = app.client_token().await;
    assert_problem(
        post(
            &app,
            "/api/v1/resource-suspensions",
            &system_token,
            body.clone(),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    for (broken, code) in [
        (
            json!({"target": target, "cause": "holiday", "reason": "x"}),
            "invalid_body",
        ),
        (
            json!({"target": target, "cause": "maintenance", "reason": " "}),
            "invalid_body",
        ),
        (
            json!({"target": target, "cause": "maintenance"}),
            "invalid_body",
        ),
        (
            json!({"target": target, "cause": "maintenance", "reason": "x",
                "planned_end": "2020-01-01T00:00:00Z"}),
            "invalid_body",
        ),
        (
            json!({"target": {"kind": "service", "id": 99_999}, "cause": "maintenance",
                "reason": "x"}),
            "missing_reference",
        ),
    ] {
        assert_problem(
            post(&app, "/api/v1/resource-suspensions", &admin, broken).await,
            422,
            code,
        )
        .await;
    }
    assert_problem(
        app.send_json(Method::POST, "/api/v1/resource-suspensions", None, &body)
            .await,
        401,
        "authentication_required",
    )
    .await;
    assert_eq!(status_of(&app, &admin, first).await["status"], "active");
    assert_eq!(exchange(&app, &token).await.status(), 200);

    // Suspended at once: the very next request is refused.
    let response = post(&app, "/api/v1/resource-suspensions", &admin, body.clone()).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("lgsp-log-index"), "logged");
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["grants"], json!([first]), "only the active grant");
    assert_eq!(outcome["suspension"]["cause"], "maintenance");
    let id = outcome["suspension"]["id"].as_i64().unwrap();
    let refused = assert_problem(exchange(&app, &token).await, 403, "grant_suspended").await;
    assert_eq!(refused["reason"], "Nâng cấp máy chủ");
    let detail = status_of(&app, &admin, first).await;
    assert_eq!(detail["suspension_id"], id);
    assert!(detail["suspended_until"].is_string());
    assert_eq!(detail["history"].as_array().unwrap().len(), 2);
    // The consumer's view lists it too.
    let listed: Vec<Value> = app
        .get("/api/v1/resource-suspensions", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let none: Vec<Value> = app
        .get("/api/v1/resource-suspensions", Some(&citizen))
        .await
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());

    // Resuming: only what it suspended; once.
    assert_problem(
        post(
            &app,
            &format!("/api/v1/resource-suspensions/{id}/resume"),
            &citizen,
            json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        post(
            &app,
            "/api/v1/resource-suspensions/99999/resume",
            &admin,
            json!({}),
        )
        .await,
        404,
        "resource_not_found",
    )
    .await;
    let response = post(
        &app,
        &format!("/api/v1/resource-suspensions/{id}/resume"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let resumed: Value = response.json().await.unwrap();
    assert_eq!(resumed["grants"], json!([first]));
    assert!(resumed["suspension"]["resumed_at"].is_string());
    assert_eq!(exchange(&app, &token).await.status(), 200);
    let other = status_of(&app, &admin, second).await;
    assert_eq!(other["status"], "suspended");
    assert_eq!(other["reason"], "Vi phạm quy chế khai thác");
    assert_problem(
        post(
            &app,
            &format!("/api/v1/resource-suspensions/{id}/resume"),
            &admin,
            json!({}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;

    // The same through the console: suspend every grant with a planned end, shown on the
    // grants page, then resume.
    let client = browser(&app);
    assert_eq!(sign_in(&app, &client, "agency-admin").await.status(), 303);
    let html = client
        .get(app.url("/console/maintenance"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_field(&html);
    let planned = (Utc::now() + Duration::days(2)).with_timezone(&VIETNAM);
    let response = client
        .post(app.url("/console/suspensions"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("target", &format!("service:{service}")),
            ("cause", "force_majeure"),
            ("reason", "Hỏa hoạn tại phòng máy chủ"),
            ("planned_end", &planned.format("%Y-%m-%dT%H:%M").to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_problem(exchange(&app, &token).await, 403, "grant_suspended").await;
    let html = client
        .get(app.url("/console/grants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Lý do: Hỏa hoạn tại phòng máy chủ"));
    assert!(
        html.contains(&format!(
            "Dự kiến khôi phục: {}",
            planned.format("%d/%m/%Y %H:%M")
        )),
        "{html}"
    );
    let html = client
        .get(app.url("/console/maintenance"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sự kiện bất khả kháng: Hỏa hoạn tại phòng máy chủ"));
    let latest = app
        .get("/api/v1/resource-suspensions", Some(&admin))
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    assert!(html.contains(&format!("khoi-phuc-tat-ca-{latest}")));
    assert!(
        !html.contains(&format!("khoi-phuc-tat-ca-{id}\"")),
        "resumed already"
    );
    let response = client
        .post(app.url(&format!("/console/suspensions/{latest}/resume")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(exchange(&app, &token).await.status(), 200);
    // A citizen has no such page.
    let outsider = browser(&app);
    assert_eq!(sign_in(&app, &outsider, "citizen").await.status(), 303);
    assert_eq!(
        outsider
            .get(app.url("/console/maintenance"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    app.stop().await;
}

/// The next working day after today (Vietnam) is a holiday, so that the notice must count it
/// out.
fn holiday_tomorrow(settings: &mut Settings) {
    let mut day = Utc::now().with_timezone(&VIETNAM).date_naive();
    loop {
        day += Duration::days(1);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            break;
        }
    }
    settings.holidays = vec![day];
}

/// 08:00 in Vietnam on the `n`-th working day after today.
fn working_day_morning(calendar: &WorkCalendar, n: u32) -> DateTime<Utc> {
    let now = Utc::now();
    let day: NaiveDate = (calendar.deadline(now, n) - Duration::days(1))
        .with_timezone(&VIETNAM)
        .date_naive();
    day.and_hms_opt(8, 0, 0)
        .unwrap()
        .and_local_timezone(VIETNAM)
        .unwrap()
        .with_timezone(&Utc)
}

async fn q15_1_c_maintenance_needs_seven_working_days_notice_unless_force_majeure(
    backend: Backend,
) {
    let app = spawn_app_with(backend, holiday_tomorrow).await;
    let calendar = app.state.settings.calendar();
    let admin = app.token("agency-admin").await;
    let (service, _, token) = served(&app, &admin).await;
    let target = json!({"kind": "service", "id": service});
    let announce = |starts: DateTime<Utc>, force_majeure: bool| {
        json!({
            "target": target,
            "starts_at": starts.to_rfc3339(),
            "ends_at": (starts + Duration::hours(6)).to_rfc3339(),
            "description": "Nâng cấp cơ sở dữ liệu hộ tịch",
            "force_majeure": force_majeure
        })
    };
    let windows = || async {
        app.get("/api/v1/maintenance?all=true", None)
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
    };

    // Six working days away (the holiday not counting): refused, with the earliest start.
    let six = working_day_morning(&calendar, 6);
    let seven = working_day_morning(&calendar, 7);
    // Counting the holiday as a working day would have made six days seven.
    assert_eq!(
        WorkCalendar::default().working_days_between(Utc::now(), six),
        7
    );
    let problem = assert_problem(
        post(&app, "/api/v1/maintenance", &admin, announce(six, false)).await,
        422,
        "maintenance_notice_too_short",
    )
    .await;
    assert_eq!(problem["working_days"], 6);
    let earliest: DateTime<Utc> =
        serde_json::from_value(problem["earliest_start"].clone()).unwrap();
    assert!(
        earliest <= seven && seven - earliest < Duration::days(1),
        "{problem}"
    );
    assert!(windows().await.is_empty(), "nothing announced");
    // Bad input and wrong roles.
    let mut backwards = announce(seven, false);
    backwards["ends_at"] = json!((seven - Duration::hours(1)).to_rfc3339());
    assert_problem(
        post(&app, "/api/v1/maintenance", &admin, backwards).await,
        422,
        "invalid_body",
    )
    .await;
    let past = announce(Utc::now() - Duration::hours(2), true);
    assert_problem(
        post(&app, "/api/v1/maintenance", &admin, past).await,
        422,
        "invalid_body",
    )
    .await;
    let mut no_start = announce(seven, false);
    no_start.as_object_mut().unwrap().remove("starts_at");
    assert_problem(
        post(&app, "/api/v1/maintenance", &admin, no_start).await,
        422,
        "invalid_body",
    )
    .await;
    let citizen = app.token("citizen").await;
    assert_problem(
        post(
            &app,
            "/api/v1/maintenance",
            &citizen,
            announce(seven, false),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert!(windows().await.is_empty());

    // Seven working days: announced; the gateway still serves until it starts.
    let response = post(&app, "/api/v1/maintenance", &admin, announce(seven, false)).await;
    assert_eq!(response.status(), 201);
    let planned: Value = response.json().await.unwrap();
    assert_eq!(planned["force_majeure"], false);
    assert_eq!(exchange(&app, &token).await.status(), 200);

    // Force majeure: at once, and the gateway answers 503 until the expected restoration.
    let now = Utc::now();
    let response = post(
        &app,
        "/api/v1/maintenance",
        &admin,
        json!({
            "target": target,
            "ends_at": (now + Duration::hours(2)).to_rfc3339(),
            "description": "Mất điện tại trung tâm dữ liệu",
            "force_majeure": true
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let urgent: Value = response.json().await.unwrap();
    let refused = exchange(&app, &token).await;
    assert!(
        refused.headers().contains_key("lgsp-log-index"),
        "the refusal is logged"
    );
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((7000..=7200).contains(&retry), "{retry}");
    let problem = assert_problem(refused, 503, "under_maintenance").await;
    assert_eq!(problem["maintenance"], urgent["id"]);
    assert!(problem["detail"].as_str().unwrap().contains("Mất điện"));

    // Ended early: served again from the next request; cancelling twice is refused.
    let cancel = format!("/api/v1/maintenance/{}/cancel", urgent["id"]);
    assert_problem(
        post(&app, &cancel, &citizen, json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(post(&app, &cancel, &admin, json!({})).await.status(), 200);
    assert_eq!(exchange(&app, &token).await.status(), 200);
    assert_problem(
        post(&app, &cancel, &admin, json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        post(&app, "/api/v1/maintenance/99999/cancel", &admin, json!({})).await,
        404,
        "resource_not_found",
    )
    .await;
    let upcoming: Vec<Value> = app
        .get("/api/v1/maintenance", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(upcoming.len(), 1, "the cancelled one is gone");
    assert_eq!(upcoming[0]["id"], planned["id"]);
    app.stop().await;
}

async fn q15_1_c_maintenance_is_published_on_the_portal(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let (service, _, _) = served(&app, &admin).await;
    let consumer_agency = app.credentials.clients[0].agency.clone();
    let consumer = admin_of(&app, &consumer_agency, "khaithac.quantri").await;
    let starts = working_day_morning(&app.state.settings.calendar(), 8);
    let ends = starts + Duration::hours(5);
    let response = post(
        &app,
        "/api/v1/maintenance",
        &admin,
        json!({
            "target": {"kind": "service", "id": service},
            "starts_at": starts.to_rfc3339(),
            "ends_at": ends.to_rfc3339(),
            "description": "Nâng cấp phần mềm quản lý hộ tịch lên phiên bản mới"
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let date = |at: DateTime<Utc>| {
        at.with_timezone(&VIETNAM)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    };

    let page = app.get("/maintenance", None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Lịch tạm ngừng cung cấp dữ liệu"));
    assert!(html.contains(&format!("id=\"bao-tri-{id}\"")));
    assert!(html.contains("Nâng cấp phần mềm quản lý hộ tịch lên phiên bản mới"));
    assert!(html.contains(&date(starts)), "{html}");
    assert!(html.contains(&date(ends)));
    assert!(html.contains("Bảo trì, nâng cấp theo kế hoạch"));
    assert!(html.contains(&format!("/services/{service}")));
    let html = app
        .get(&format!("/services/{service}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Thông báo tạm ngừng cung cấp"));
    assert!(html.contains(&date(ends)));
    // Another service's page says nothing.
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(home.contains("href=\"/maintenance\""));

    // The consumer agency's administrator was told, in Vietnamese.
    let inbox: Vec<Value> = app
        .get("/api/v1/notifications", Some(&consumer))
        .await
        .json()
        .await
        .unwrap();
    let notice = inbox
        .iter()
        .find(|n| {
            n["subject"]
                .as_str()
                .unwrap()
                .starts_with("Bảo trì, nâng cấp")
        })
        .unwrap_or_else(|| panic!("{inbox:?}"));
    assert!(notice["body"].as_str().unwrap().contains(&date(starts)));

    // A hosted dataset's page shows its own windows.
    assert_eq!(
        app.send_json(
            Method::PUT,
            "/api/v1/datasets/so-hoa-ho-tich/schema",
            Some(&admin),
            &json!({"fields": [{"name": "so", "type": "integer"}], "primaryKey": "so"}),
        )
        .await
        .status(),
        201
    );
    let response = post(
        &app,
        "/api/v1/maintenance",
        &admin,
        json!({
            "target": {"kind": "dataset", "id": "so-hoa-ho-tich"},
            "ends_at": (Utc::now() + Duration::hours(1)).to_rfc3339(),
            "description": "Sự cố đường truyền",
            "force_majeure": true
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let html = app
        .get("/dataset/so-hoa-ho-tich", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sự cố đường truyền"));
    assert!(html.contains("Đang tạm ngừng"));
    assert!(!html.contains("Nâng cấp phần mềm quản lý hộ tịch"));

    // The provider's console page lists both and offers the forms.
    let client = browser(&app);
    assert_eq!(sign_in(&app, &client, "agency-admin").await.status(), 303);
    let html = client
        .get(app.url("/console/maintenance"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Thông báo bảo trì, sự cố"));
    assert!(html.contains(&format!("huy-bao-tri-{id}")));
    assert!(html.contains("value=\"dataset:so-hoa-ho-tich\""));
    // Too short a notice through the console: the Vietnamese problem page.
    let csrf = csrf_field(&html);
    let tomorrow = (Utc::now() + Duration::days(1)).with_timezone(&VIETNAM);
    let response = client
        .post(app.url("/console/maintenance/announce"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("target", &format!("service:{service}")),
            ("starts_at", &tomorrow.format("%Y-%m-%dT%H:%M").to_string()),
            (
                "ends_at",
                &(tomorrow + Duration::hours(2))
                    .format("%Y-%m-%dT%H:%M")
                    .to_string(),
            ),
            ("description", "Thay ổ cứng"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("trước ít nhất 7 ngày làm việc"));
    app.stop().await;
}

/// Today in Vietnam, `YYYY-MM-DD`.
fn today() -> String {
    Utc::now().with_timezone(&VIETNAM).date_naive().to_string()
}

async fn q15_2_e_provider_report_counts_exchanges_per_consumer_and_service(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let (_, _, token) = served(&app, &admin).await;
    let mut served_bytes = 0;
    for _ in 0..2 {
        let response = exchange(&app, &token).await;
        assert_eq!(response.status(), 200);
        served_bytes += response.bytes().await.unwrap().len() as i64;
    }
    assert_problem(
        call(&app, &token, &path(CODE, RECORD), None).await,
        400,
        "purpose_required",
    )
    .await;
    let client = &app.credentials.clients[0];
    let target = format!("{JUSTICE}/ho-tich-gw/{CODE}/v1");
    let day = today();
    let url = |query: &str| format!("/api/v1/reports/exchanges?{query}");

    let report: Value = app
        .get(&url(&format!("from={day}&to={day}")), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["provider"], JUSTICE);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    let served = rows.iter().find(|r| r["purpose"] == "TTHC").unwrap();
    assert_eq!(served["day"], day);
    assert_eq!(served["consumer_agency"], client.agency);
    assert_eq!(served["consumer_system"], client.system);
    assert_eq!(served["target"], target);
    assert_eq!(served["served"], 2);
    assert_eq!(served["refused"], 0);
    assert_eq!(served["bytes"], served_bytes);
    let refused = rows.iter().find(|r| r["purpose"].is_null()).unwrap();
    assert_eq!(
        (refused["served"].as_i64(), refused["refused"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(report["totals"].as_array().unwrap().len(), 1);
    assert_eq!(report["totals"][0]["served"], 2);
    assert_eq!(report["totals"][0]["refused"], 1);
    // A period without exchanges, and another agency's report as the operator sees it.
    let empty: Value = app
        .get(&url("from=2025-01-01&to=2025-01-31"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(empty["rows"].as_array().unwrap().is_empty());
    let operator = app.token("operator").await;
    let all: Value = app
        .get(&url(&format!("from={day}&to={day}")), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert!(all["provider"].is_null());
    assert_eq!(all["totals"][0]["served"], 2);

    // CSV: Vietnamese header, dd/mm/yyyy days.
    let response = app
        .get(
            &url(&format!("from={day}&to={day}&format=csv")),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(".csv"));
    let csv = response.text().await.unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "Ngày,Cơ quan khai thác,Hệ thống khai thác,Cơ quan cung cấp,Dịch vụ / bộ dữ liệu,Mục đích,Thành công,Bị từ chối hoặc lỗi,Dung lượng trả về (byte)"
    );
    let day_vi = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .unwrap()
        .format("%d/%m/%Y")
        .to_string();
    let lines: Vec<&str> = lines.collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines.contains(
            &format!(
                "{day_vi},{},{},{JUSTICE},{target},TTHC,2,0,{served_bytes}",
                client.agency, client.system
            )
            .as_str()
        ),
        "{csv}"
    );

    // XLSX: the totals sheet and the daily sheet.
    let response = app
        .get(
            &url(&format!("from={day}&to={day}&format=xlsx")),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    use calamine::Reader;
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(
        workbook.sheet_names(),
        ["Tổng hợp", "Theo ngày", "Thông tin báo cáo"]
    );
    let totals = workbook.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(totals.get((0, 0)).unwrap().to_string(), "Cơ quan khai thác");
    assert_eq!(totals.get((1, 3)).unwrap().to_string(), target);
    assert_eq!(totals.get((1, 5)).unwrap().to_string(), "2");
    assert_eq!(totals.get((1, 6)).unwrap().to_string(), "1");
    let daily = workbook.worksheet_range("Theo ngày").unwrap();
    assert_eq!(daily.height(), 3);
    assert_eq!(daily.get((1, 0)).unwrap().to_string(), day_vi);

    // Bad periods, formats and callers.
    for query in [
        format!("from={day}"),
        "from=2026-02-01&to=2026-01-01".to_owned(),
        "from=01/01/2026&to=2026-01-31".to_owned(),
        "from=2026-02-30&to=2026-03-01".to_owned(),
        "from=2024-01-01&to=2025-06-30".to_owned(),
    ] {
        assert_problem(
            app.get(&url(&query), Some(&admin)).await,
            400,
            "invalid_period",
        )
        .await;
    }
    assert_problem(
        app.get(
            &url(&format!("from={day}&to={day}&format=pdf")),
            Some(&admin),
        )
        .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        app.get(
            &url(&format!("from={day}&to={day}&provider=000.00.02.H35")),
            Some(&admin),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let citizen = app.token("citizen").await;
    assert_problem(
        app.get(&url(&format!("from={day}&to={day}")), Some(&citizen))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&url(&format!("from={day}&to={day}")), None).await,
        401,
        "authentication_required",
    )
    .await;

    // The console page, in Vietnamese, with the downloads.
    let browser = browser(&app);
    assert_eq!(sign_in(&app, &browser, "agency-admin").await.status(), 303);
    let response = browser
        .get(app.url(&format!("/console/reports/exchanges?from={day}&to={day}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Báo cáo tình hình cung cấp, trao đổi dữ liệu"));
    assert!(html.contains(&format!("{day_vi} – {day_vi}")));
    assert!(html.contains("format=xlsx"));
    assert!(html.contains(&target));
    let response = browser
        .get(app.url("/console/reports/exchanges?from=2026-02-01&to=2026-01-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Kỳ báo cáo chưa hợp lệ"));
    app.stop().await;
}

async fn q15_1_b_usage_report_request_answer_and_overdue(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let (_, grant_id, token) = served(&app, &admin).await;
    for _ in 0..3 {
        assert_eq!(exchange(&app, &token).await.status(), 200);
    }
    let consumer_agency = app.credentials.clients[0].agency.clone();
    let consumer = admin_of(&app, &consumer_agency, "khaithac.baocao").await;
    let ask = json!({
        "grant": grant_id,
        "questions": ["Dữ liệu được dùng cho thủ tục nào?", "Có chia sẻ tiếp cho bên thứ ba không?"],
        "working_days": 3
    });

    // Wrong roles and bad input: nothing asked.
    for (token, code, status) in [
        (&consumer, "forbidden", 403),
        (&app.token("citizen").await, "forbidden", 403),
    ] {
        assert_problem(
            post(&app, "/api/v1/usage-reports", token, ask.clone()).await,
            status,
            code,
        )
        .await;
    }
    for (broken, code) in [
        (json!({"grant": grant_id, "questions": []}), "invalid_body"),
        (
            json!({"grant": grant_id, "questions": [" "]}),
            "invalid_body",
        ),
        (
            json!({"grant": grant_id, "questions": ["x"], "working_days": 0}),
            "invalid_body",
        ),
        (
            json!({"grant": grant_id, "questions": ["x"], "working_days": 61}),
            "invalid_body",
        ),
        (
            json!({"grant": grant_id, "questions": ["x"], "period_from": "2026-01-02T00:00:00Z",
                "period_to": "2026-01-01T00:00:00Z"}),
            "invalid_body",
        ),
        (
            json!({"grant": 99_999, "questions": ["x"]}),
            "missing_reference",
        ),
    ] {
        assert_problem(
            post(&app, "/api/v1/usage-reports", &admin, broken).await,
            422,
            code,
        )
        .await;
    }

    let response = post(&app, "/api/v1/usage-reports", &admin, ask.clone()).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("lgsp-log-index"), "logged");
    let report: Value = response.json().await.unwrap();
    let id = report["id"].as_i64().unwrap();
    let due: DateTime<Utc> = serde_json::from_value(report["due_at"].clone()).unwrap();
    assert_eq!(
        due,
        app.state.settings.calendar().deadline(
            serde_json::from_value(report["requested_at"].clone()).unwrap(),
            3
        )
    );
    let inbox: Vec<Value> = app
        .get("/api/v1/notifications", Some(&consumer))
        .await
        .json()
        .await
        .unwrap();
    assert!(inbox
        .iter()
        .any(|n| n["subject"] == format!("Yêu cầu báo cáo tình hình khai thác số {id}")));

    // The consumer sees it with its measured use beside the questions.
    let detail: Value = app
        .get(&format!("/api/v1/usage-reports/{id}"), Some(&consumer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["overdue"], false);
    assert_eq!(detail["measured"]["served"], 3);
    assert_eq!(detail["measured"]["per_purpose"][0]["purpose"], "TTHC");
    assert_eq!(detail["measured"]["per_day"][0]["day"], today());
    assert_eq!(detail["measured"]["fields"], json!(["/ho_ten"]));
    assert!(detail["measured"]["bytes"].as_i64().unwrap() > 0);
    let citizen = app.token("citizen").await;
    assert_problem(
        app.get(&format!("/api/v1/usage-reports/{id}"), Some(&citizen))
            .await,
        403,
        "forbidden",
    )
    .await;

    // Answering: the consumer's administrator only, one answer per question, once.
    let answer = format!("/api/v1/usage-reports/{id}/answer");
    assert_problem(
        post(&app, &answer, &admin, json!({"answers": ["a", "b"]})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        post(&app, &answer, &consumer, json!({"answers": ["chỉ một"]})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        post(&app, &answer, &consumer, json!({"answers": ["a", "  "]})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        post(
            &app,
            "/api/v1/usage-reports/99999/answer",
            &consumer,
            json!({"answers": ["a"]}),
        )
        .await,
        404,
        "resource_not_found",
    )
    .await;
    let response = post(
        &app,
        &answer,
        &consumer,
        json!({"answers": ["Giải quyết thủ tục đăng ký kết hôn", "Không chia sẻ cho bên thứ ba"]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let answered: Value = response.json().await.unwrap();
    assert_eq!(answered["answered_by"], "khaithac.baocao");
    assert_problem(
        post(&app, &answer, &consumer, json!({"answers": ["a", "b"]})).await,
        409,
        "invalid_transition",
    )
    .await;

    // A request whose deadline passed without an answer is flagged overdue.
    let late = app
        .state
        .store
        .insert_usage_report(
            &lgsp_store::NewUsageReport {
                grant_id,
                questions: vec!["Số hồ sơ đã giải quyết?".into()],
                period_from: Utc::now() - Duration::days(30),
                period_to: Utc::now(),
                due_at: Utc::now() - Duration::hours(1),
            },
            "agency-admin",
        )
        .await
        .unwrap();
    let list: Vec<Value> = app
        .get("/api/v1/usage-reports", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    let flag = |id: i64| list.iter().find(|r| r["id"] == id).unwrap()["overdue"].clone();
    assert_eq!(flag(late.id), true);
    assert_eq!(flag(id), false);
    assert!(app
        .get("/api/v1/usage-reports", Some(&citizen))
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .is_empty());

    // The console: the provider sees the overdue flag; the answer beside the measured use.
    let client = browser(&app);
    assert_eq!(sign_in(&app, &client, "agency-admin").await.status(), 303);
    let html = client
        .get(app.url("/console/usage-reports"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Quá hạn trả lời"), "{html}");
    assert!(html.contains("Đã trả lời"));
    let html = client
        .get(app.url(&format!("/console/usage-reports/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Giải quyết thủ tục đăng ký kết hôn"));
    assert!(html.contains("Số liệu khai thác thực tế"));
    assert!(html.contains("<strong>3</strong>"), "{html}");
    assert!(
        !html.contains("id=\"tra-loi\""),
        "the provider does not answer"
    );
    // The provider asks through the console too.
    let list = client
        .get(app.url("/console/usage-reports"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = client
        .post(app.url("/console/usage-reports"))
        .form(&[
            ("csrf", csrf_field(&list).as_str()),
            ("grant", &grant_id.to_string()),
            (
                "questions",
                "Tần suất khai thác hằng tháng?\nCó sự cố nào không?",
            ),
            ("working_days", "5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();

    // The consumer answers it in the console.
    let consumer_browser = browser(&app);
    let form = consumer_browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = consumer_browser
        .post(app.url("/login"))
        .form(&[
            ("username", "khaithac.baocao"),
            ("password", "mật khẩu quản trị 2026"),
            ("csrf", &csrf_field(&form)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let html = consumer_browser
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"tra-loi\""));
    let csrf = csrf_field(&html);
    let response = consumer_browser
        .post(app.url(&format!("{location}/answer")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("answer", "Khoảng 200 lần"),
            ("answer", "Không"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let html = consumer_browser
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Khoảng 200 lần") && html.contains("Đã trả lời"),
        "{html}"
    );
    app.stop().await;
}
