//! Monitoring of connected systems (Q6.1, Q7.5, Q21.3) against a real health endpoint on
//! 127.0.0.1:0 that answers 200 or 503 as the story needs: an outage is told to the agency
//! once after `health_failures_before_alert` failures and its end once, availability is
//! counted per month, two nodes never probe a system twice in a round, and the operator's
//! list shows health and readiness.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use lgsp_server::monitoring::probe_due;
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};
use super::services::JUSTICE;

on_both_backends!(
    q7_5_outage_is_alerted_once_and_recovery_once_with_availability_counted,
    q6_1_two_nodes_never_probe_a_system_in_the_same_round,
    q21_3_operator_lists_health_and_readiness_and_others_are_refused,
);

pub(super) const SYSTEM: &str = "cong-chung-gs";
const NAME: &str = "Hệ thống quản lý công chứng";

/// A health endpoint that answers 200 while `up` holds, 503 otherwise.
pub(super) async fn health_endpoint() -> (String, Arc<AtomicBool>) {
    let up = Arc::new(AtomicBool::new(true));
    let state = up.clone();
    let router = axum::Router::new().route(
        "/health",
        axum::routing::get(move || {
            let state = state.clone();
            async move {
                if state.load(Ordering::SeqCst) {
                    (axum::http::StatusCode::OK, "ok")
                } else {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "bảo trì")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, up)
}

/// Registers the monitored system of Sở Tư pháp with its health URL on `base`.
pub(super) async fn register_system(app: &TestApp, token: &str, base: &str) {
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/agencies/{JUSTICE}/systems"),
            Some(token),
            &json!({
                "code": SYSTEM,
                "name": NAME,
                "security_level": 2,
                "connection": {"model": "lgsp"},
                "base_url": base,
                "health_url": format!("{base}/health"),
            }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// The first rounds of the current month: far enough from its end that the story stays in it.
pub(super) fn round(n: i64) -> DateTime<Utc> {
    let today = Utc::now();
    Utc.with_ymd_and_hms(today.year(), today.month(), 1, 1, 0, 0)
        .unwrap()
        + Duration::seconds(60 * n)
}

async fn health(app: &TestApp, token: &str) -> Value {
    let response = app
        .get(
            &format!("/api/v1/systems/{JUSTICE}/{SYSTEM}/health"),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Notices about the system in the agency administrator's inbox: (outages, recoveries).
async fn notices(app: &TestApp, token: &str) -> (Vec<Value>, Vec<Value>) {
    let response = app.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(response.status(), 200);
    let all: Vec<Value> = response.json().await.unwrap();
    let about = |suffix: &str| -> Vec<Value> {
        all.iter()
            .filter(|n| n["subject"] == format!("Hệ thống {NAME} {suffix}"))
            .cloned()
            .collect()
    };
    (about("không hoạt động"), about("đã hoạt động trở lại"))
}

async fn q7_5_outage_is_alerted_once_and_recovery_once_with_availability_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let (base, up) = health_endpoint().await;
    register_system(&app, &admin, &base).await;

    let before = health(&app, &admin).await;
    assert_eq!(before["status"], "unknown");

    probe_due(&app.state, round(0)).await.unwrap();
    let first = health(&app, &admin).await;
    assert_eq!(first["status"], "up");
    assert_eq!(first["probes"][0]["status_code"], 200);

    up.store(false, Ordering::SeqCst);
    for n in 1..=2 {
        probe_due(&app.state, round(n)).await.unwrap();
    }
    let (outages, _) = notices(&app, &admin).await;
    assert!(outages.is_empty(), "no alert before the third failure");
    let down = health(&app, &admin).await;
    assert_eq!(down["status"], "down");
    assert_eq!(down["consecutive_failures"], 2);
    assert_eq!(down["probes"][0]["status_code"], 503);

    for n in 3..=5 {
        probe_due(&app.state, round(n)).await.unwrap();
    }
    let (outages, recoveries) = notices(&app, &admin).await;
    assert_eq!(outages.len(), 1, "one alert per outage: {outages:?}");
    assert!(recoveries.is_empty());
    let body = outages[0]["body"].as_str().unwrap();
    assert!(body.contains("3 lần liên tiếp"), "{body}");
    assert!(body.contains("mã HTTP 503"), "{body}");
    assert!(
        body.contains(&round(3).format("%d/%m/%Y").to_string()),
        "{body}"
    );
    assert_eq!(
        outages[0]["link"],
        format!("/api/v1/systems/{JUSTICE}/{SYSTEM}/health")
    );
    let alerted = health(&app, &admin).await;
    assert_eq!(alerted["consecutive_failures"], 5);
    assert!(alerted["alerted_at"].is_string());

    up.store(true, Ordering::SeqCst);
    for n in 6..=7 {
        probe_due(&app.state, round(n)).await.unwrap();
    }
    let (outages, recoveries) = notices(&app, &admin).await;
    assert_eq!(outages.len(), 1);
    assert_eq!(
        recoveries.len(),
        1,
        "one notice on recovery: {recoveries:?}"
    );

    let after = health(&app, &admin).await;
    assert_eq!(after["status"], "up");
    assert_eq!(after["consecutive_failures"], 0);
    assert!(after["alerted_at"].is_null());
    assert_eq!(after["probes"].as_array().unwrap().len(), 8);
    let month = round(0).format("%Y-%m").to_string();
    assert_eq!(
        after["availability"],
        json!([{"month": month, "probes": 8, "up": 3}])
    );
    assert_eq!(after["month_probes"], 8);
    assert_eq!(after["month_up"], 3);
    assert_eq!(after["month_availability_percent"], 37.5);

    // A second outage is alerted again.
    up.store(false, Ordering::SeqCst);
    for n in 8..=10 {
        probe_due(&app.state, round(n)).await.unwrap();
    }
    let (outages, _) = notices(&app, &admin).await;
    assert_eq!(outages.len(), 2);

    // Raw probes are pruned; the month's availability stays.
    let pruned = app.state.store.prune_probes(round(11)).await.unwrap();
    assert!(pruned >= 11, "{pruned}");
    let pruned = health(&app, &admin).await;
    assert!(pruned["probes"].as_array().unwrap().is_empty());
    assert_eq!(pruned["availability"][0]["probes"], 11);
    app.stop().await;
}

async fn q6_1_two_nodes_never_probe_a_system_in_the_same_round(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let (base, _up) = health_endpoint().await;
    register_system(&app, &admin, &base).await;
    let node = app.second_node().await;

    let monitored = app
        .state
        .store
        .list_systems(None)
        .await
        .unwrap()
        .iter()
        .filter(|s| s.health_url.is_some())
        .count();
    for n in 0..3 {
        let (one, two) = tokio::join!(
            probe_due(&app.state, round(n)),
            probe_due(&node.state, round(n))
        );
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_eq!(one + two, monitored, "round {n}: {one} + {two}");
        // Nothing is due again within the round.
        assert_eq!(
            probe_due(&node.state, round(n) + Duration::seconds(30))
                .await
                .unwrap(),
            0
        );
    }
    let after = health(&app, &admin).await;
    assert_eq!(after["probes"].as_array().unwrap().len(), 3);
    assert_eq!(after["month_probes"], 3);
    node.stop().await;
    app.stop().await;
}

async fn q21_3_operator_lists_health_and_readiness_and_others_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let auditor = app.token("auditor").await;
    let citizen = app.token("citizen").await;
    let (base, up) = health_endpoint().await;
    register_system(&app, &admin, &base).await;
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/agencies/{JUSTICE}/systems/{SYSTEM}/readiness"),
            Some(&operator),
            &json!({"status": "needs_upgrade", "findings": ["Chưa hỗ trợ TLS 1.2"]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    up.store(false, Ordering::SeqCst);
    probe_due(&app.state, round(0)).await.unwrap();

    for token in [&operator, &auditor] {
        let response = app.get("/api/v1/monitoring/systems", Some(token)).await;
        assert_eq!(response.status(), 200);
        let rows: Vec<Value> = response.json().await.unwrap();
        let row = rows
            .iter()
            .find(|r| r["system"] == SYSTEM)
            .expect("the system is listed");
        assert_eq!(row["agency"], JUSTICE);
        assert_eq!(row["status"], "down");
        assert_eq!(row["consecutive_failures"], 1);
        assert_eq!(row["readiness"], "needs_upgrade");
        assert_eq!(row["month_probes"], 1);
        assert_eq!(row["month_up"], 0);
        assert!(rows.iter().any(|r| r["status"] == "unmonitored"));
    }
    assert_problem(
        app.get("/api/v1/monitoring/systems", Some(&admin)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/monitoring/systems", None).await,
        401,
        "authentication_required",
    )
    .await;
    let path = format!("/api/v1/systems/{JUSTICE}/{SYSTEM}/health");
    assert_problem(app.get(&path, Some(&citizen)).await, 403, "forbidden").await;
    assert_problem(app.get(&path, None).await, 401, "authentication_required").await;
    assert_problem(
        app.get(
            &format!("/api/v1/systems/{JUSTICE}/khong-co/health"),
            Some(&admin),
        )
        .await,
        404,
        "resource_not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/systems/khong-phai-ma/x/health", Some(&admin))
            .await,
        400,
        "invalid_parameter",
    )
    .await;

    let page = app
        .http
        .get(app.url("/console/monitoring"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Giám sát hệ thống kết nối"));
    assert!(html.contains(NAME));
    assert!(html.contains("Không hoạt động"));
    assert!(html.contains("Cần nâng cấp"));
    assert!(html.contains("0,00% (0/1 lần)"), "{html}");
    let refused = app
        .http
        .get(app.url("/console/monitoring"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    app.stop().await;
}
