//! The state-secret guard (Q1.2, Q20.3): imports and gateway payloads with a stamp are refused
//! with 451 `state_secret_suspected`, held in quarantine with the auditors alerted, and every
//! block and decision is on the transparency log; only auditors see and decide.

use axum::http::HeaderMap;
use axum::routing::{get, post};
use reqwest::Method;
use serde_json::{json, Value};

use super::gateway::{grant, provider_service};
use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};
use super::services::JUSTICE;

on_both_backends!(
    q20_3_import_with_a_secret_stamp_is_blocked_and_quarantined,
    q20_3_gateway_payload_with_a_secret_stamp_is_refused_with_451,
    q20_3_auditor_confirms_or_releases,
    q20_3_only_auditors_decide,
);

/// Sở Tư pháp's digitised civil-status register (the demo admin's agency owns it).
const DATASET: &str = "/api/v1/datasets/so-hoa-ho-tich";

async fn define_schema(app: &TestApp, token: &str) {
    let schema = json!({
        "fields": [
            {"name": "so", "type": "string", "constraints": {"required": true}},
            {"name": "trich_yeu", "type": "string"},
            {"name": "do_mat", "type": "string"}
        ],
        "primaryKey": "so"
    });
    let response = app
        .send_json(
            Method::PUT,
            &format!("{DATASET}/schema"),
            Some(token),
            &schema,
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

async fn import(app: &TestApp, token: &str, csv: &str, respond_async: bool) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(&format!("{DATASET}/records?mode=replace")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    if respond_async {
        request = request.header("prefer", "respond-async");
    }
    request.send().await.unwrap()
}

async fn records(app: &TestApp, token: &str) -> Value {
    let response = app
        .get(&format!("{DATASET}/records?order=so"), Some(token))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The quarantine leaves of the transparency log: (event, item id).
async fn quarantine_leaves(app: &TestApp) -> Vec<(String, i64)> {
    let size = app.state.store.log_size().await.unwrap();
    app.state
        .store
        .log_entries(0, size)
        .await
        .unwrap()
        .into_iter()
        .map(|raw| serde_json::from_slice::<Value>(&raw).unwrap())
        .filter(|leaf| leaf["kind"] == "quarantine")
        .map(|leaf| {
            assert!(leaf.get("content").is_none(), "the log never holds content");
            (
                leaf["event"].as_str().unwrap().to_owned(),
                leaf["quarantine"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn notifications(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/notifications", Some(token))
        .await
        .json()
        .await
        .unwrap()
}

async fn item(app: &TestApp, token: &str, id: i64) -> Value {
    let response = app
        .get(&format!("/api/v1/quarantine/{id}"), Some(token))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn decide(app: &TestApp, token: &str, id: i64, step: &str, note: Value) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/quarantine/{id}/{step}"),
        Some(token),
        &note,
    )
    .await
}

const CLEAN: &str = "so,trich_yeu,do_mat\n01/BC,Báo cáo tình hình cải cách hành chính,Thường\n\
                     02/KH,Kế hoạch cập nhật dữ liệu đất đai,Không\n";
const STAMPED: &str = "so,trich_yeu,do_mat\n03/BC,Báo cáo quý III,Thường\n\
                       04/PA,Phương án bảo vệ mục tiêu,TỐI MẬT\n";

async fn q20_3_import_with_a_secret_stamp_is_blocked_and_quarantined(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let auditor = app.token("auditor").await;
    define_schema(&app, &admin).await;
    assert_eq!(import(&app, &admin, CLEAN, false).await.status(), 200);
    let before = records(&app, &admin).await;
    assert_eq!(before.as_array().unwrap().len(), 2);

    // The stamped file is refused and nothing changes.
    let problem = assert_problem(
        import(&app, &admin, STAMPED, false).await,
        451,
        "state_secret_suspected",
    )
    .await;
    let id = problem["quarantine"].as_i64().unwrap();
    assert_eq!(problem["findings"][0]["matched"], "TỐI MẬT");
    assert_eq!(
        problem["findings"][0]["location"],
        json!({"kind": "cell", "row": 3, "column": "do_mat"})
    );
    assert_eq!(records(&app, &admin).await, before);

    // The job failed with the code; the item holds the flagged row only.
    let jobs: Value = app
        .get(&format!("{DATASET}/imports"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let job = &jobs["imports"][0];
    assert_eq!(job["state"], "failed");
    assert_eq!(job["error_code"], "state_secret_suspected");
    assert_eq!(job["rows_written"], 0);
    let held = item(&app, &auditor, id).await;
    assert_eq!(held["state"], "held");
    assert_eq!(held["source"], "import");
    assert_eq!(held["dataset_id"], "so-hoa-ho-tich");
    assert_eq!(held["import_job"], job["id"]);
    assert_eq!(held["submitted_by"], "agency-admin");
    let content: Value = app
        .get(&format!("/api/v1/quarantine/{id}/content"), Some(&auditor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        content,
        json!({"header": ["so", "trich_yeu", "do_mat"],
               "rows": [{"row": 3, "cells": ["04/PA", "Phương án bảo vệ mục tiêu", "TỐI MẬT"]}]})
    );

    // The auditors are alerted, in Vietnamese, with a link to the item.
    let inbox = notifications(&app, &auditor).await;
    let alert = inbox
        .iter()
        .find(|n| n["link"] == format!("/console/quarantine/{id}"))
        .expect("the auditor is alerted");
    assert!(alert["subject"]
        .as_str()
        .unwrap()
        .contains("bí mật nhà nước"));
    assert!(quarantine_leaves(&app)
        .await
        .contains(&("held".to_owned(), id)));

    // An asynchronous import is held the same way; an XLSX-free stamp in the header too.
    let response = import(&app, &admin, "so,trich_yeu,do_mat\n05/TB,\"MẬT\",x\n", true).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let mut job = Value::Null;
    for _ in 0..100 {
        job = app.get(&location, Some(&admin)).await.json().await.unwrap();
        if job["state"] == "failed" || job["state"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(job["state"], "failed");
    assert_eq!(job["error_code"], "state_secret_suspected");
    let held: Vec<Value> = app
        .get("/api/v1/quarantine?state=held", Some(&auditor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(records(&app, &admin).await, before);

    // Ordinary words pass: "bí mật", "mật khẩu", "mật độ" in prose.
    let prose = "so,trich_yeu,do_mat\n06/QC,Quy chế bảo vệ bí mật nhà nước,Thường\n\
                 07/HD,Hướng dẫn đổi mật khẩu; mật độ dân số,Không\n";
    assert_eq!(import(&app, &admin, prose, false).await.status(), 200);
    assert_eq!(records(&app, &admin).await.as_array().unwrap().len(), 2);
    app.stop().await;
}

/// A provider whose `/api/ho-so/{so}` answers a record whose summary is stamped for `so` =
/// `mat`, and `/api/nop` echoes what it receives; returns its base URL and the bodies it got.
async fn stamped_provider() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let echo = received.clone();
    let router = axum::Router::new()
        .route(
            "/api/ho-so/{so}",
            get(
                |axum::extract::Path(so): axum::extract::Path<String>| async move {
                    let ngay_sinh = if so == "mat" {
                        "TUYỆT MẬT"
                    } else {
                        "2001-02-03"
                    };
                    axum::Json(json!({
                        "ho_ten": "Nguyễn Văn An",
                        "ngay_sinh": ngay_sinh,
                        "so_cccd": "035201001234"
                    }))
                },
            ),
        )
        .route(
            "/api/nop",
            post(move |_: HeaderMap, body: axum::body::Bytes| {
                let echo = echo.clone();
                async move {
                    echo.lock().unwrap().push(body.to_vec());
                    ([("content-type", "application/json")], body)
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}"), received)
}

const SYSTEM: &str = "ho-so-mat";

fn path(rest: &str) -> String {
    format!("/x/{JUSTICE}/{SYSTEM}/ho-so/v1{rest}")
}

async fn send(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(app.url(&path("/nop")))
        .bearer_auth(token)
        .header("lgsp-purpose", "TTHC")
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn gateway_setup(app: &TestApp) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    let admin = app.token("agency-admin").await;
    let (base, received) = stamped_provider().await;
    provider_service(app, &admin, SYSTEM, &base, "ho-so").await;
    grant(
        app,
        &admin,
        "ho-so",
        json!(["/ho_ten", "/ngay_sinh", "/noi_sinh"]),
        1000,
    )
    .await;
    let (_, token) = app.client_token().await;
    (token, received)
}

async fn q20_3_gateway_payload_with_a_secret_stamp_is_refused_with_451(backend: Backend) {
    let app = spawn_app(backend).await;
    let auditor = app.token("auditor").await;
    let (token, received) = gateway_setup(&app).await;

    // An ordinary request and answer go through, "mật khẩu" and all.
    let ordinary = json!({"ho_ten": "Nguyễn Văn An", "ghi_chu": "quên mật khẩu, cập nhật hồ sơ"});
    let response = send(&app, &token, &ordinary).await;
    assert_eq!(response.status(), 200);
    assert_eq!(received.lock().unwrap().len(), 1);

    // A consumer's stamped request never reaches the provider (NFD text, JSON escapes too).
    for body in [
        json!({"ho_ten": "Nguyễn Văn An", "phan_loai": "TỐI MẬT"}),
        json!({"van_ban": {"do_mat": "Tuye\u{0302}\u{0323}t ma\u{0323}\u{0302}t"}}),
    ] {
        let problem = assert_problem(
            send(&app, &token, &body).await,
            451,
            "state_secret_suspected",
        )
        .await;
        assert!(problem["quarantine"].is_i64());
    }
    let escaped = app
        .http
        .post(app.url(&path("/nop")))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .header("lgsp-request-id", "yeu-cau-mat-01")
        .header("content-type", "application/json")
        .body(r#"{"ghi_chu": "M\u1eacT"}"#)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(escaped, 451, "state_secret_suspected").await;
    assert_eq!(received.lock().unwrap().len(), 1, "nothing was forwarded");
    let held = item(&app, &auditor, problem["quarantine"].as_i64().unwrap()).await;
    assert_eq!(held["source"], "exchange_request");
    assert_eq!(held["request_id"], "yeu-cau-mat-01");
    assert_eq!(held["service"], format!("{JUSTICE}/{SYSTEM}/ho-so/v1"));
    assert_eq!(
        held["consumer"],
        format!(
            "{}/{}",
            app.credentials.clients[0].agency, app.credentials.clients[0].system
        )
    );

    // A provider's stamped answer is not passed on.
    let response = app
        .http
        .get(app.url(&path("/ho-so/mat")))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("lgsp-log-index"));
    let problem = assert_problem(response, 451, "state_secret_suspected").await;
    let held = item(&app, &auditor, problem["quarantine"].as_i64().unwrap()).await;
    assert_eq!(held["source"], "exchange_response");
    assert_eq!(held["submitted_by"], format!("system:{JUSTICE}/{SYSTEM}"));
    let fine = app
        .http
        .get(app.url(&path("/ho-so/1")))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);

    // The refusals are exchanges on the log, with their code; holds have their own leaves.
    let exchanges: Vec<Value> = app
        .state
        .store
        .list_exchanges(None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| json!({"status": e.status, "refusal": e.refusal}))
        .collect();
    let refused = exchanges
        .iter()
        .filter(|e| e["refusal"] == "state_secret_suspected" && e["status"] == 451)
        .count();
    assert_eq!(refused, 4);
    assert_eq!(quarantine_leaves(&app).await.len(), 4);
    app.stop().await;
}

async fn q20_3_auditor_confirms_or_releases(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let auditor = app.token("auditor").await;
    define_schema(&app, &admin).await;
    let (token, received) = gateway_setup(&app).await;

    // Release: not a state secret (a classification column of an ordinary register). The same
    // file then imports, and the uploader is told.
    let first = assert_problem(
        import(&app, &admin, STAMPED, false).await,
        451,
        "state_secret_suspected",
    )
    .await["quarantine"]
        .as_i64()
        .unwrap();
    let problem = assert_problem(
        decide(&app, &auditor, first, "release", json!({})).await,
        422,
        "invalid_body",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("note"));
    let released = decide(
        &app,
        &auditor,
        first,
        "release",
        json!({"note": "Sổ đăng ký văn bản mẫu, không phải tài liệu mật (biên bản 12/BB-PA03)"}),
    )
    .await;
    assert_eq!(released.status(), 200);
    let released: Value = released.json().await.unwrap();
    assert_eq!(released["state"], "released");
    assert_eq!(released["decided_by"], "auditor");
    assert!(released["decided_at"].is_string());
    assert!(released["content_held"].as_bool().unwrap());
    assert!(notifications(&app, &admin)
        .await
        .iter()
        .any(|n| n["subject"] == "Nội dung bị tạm giữ đã được giải phóng"));
    assert_eq!(import(&app, &admin, STAMPED, false).await.status(), 200);
    assert_eq!(records(&app, &admin).await.as_array().unwrap().len(), 2);
    // A different stamped cell is still held.
    let other = "so,trich_yeu,do_mat\n08/PA,Phương án khác,TUYỆT MẬT\n";
    assert_problem(
        import(&app, &admin, other, false).await,
        451,
        "state_secret_suspected",
    )
    .await;

    // Release of a request: the consumer sends the same body again and it goes through.
    let body = json!({"ho_ten": "Nguyễn Văn An", "ghi_chu": "MẬT"});
    let held = assert_problem(
        send(&app, &token, &body).await,
        451,
        "state_secret_suspected",
    )
    .await["quarantine"]
        .as_i64()
        .unwrap();
    let note = json!({"note": "Ghi chú thử nghiệm, không phải dấu mật"});
    assert_eq!(
        decide(&app, &auditor, held, "release", note.clone())
            .await
            .status(),
        200
    );
    assert_eq!(send(&app, &token, &body).await.status(), 200);
    assert_eq!(received.lock().unwrap().len(), 1);

    // Confirmation: the content is erased, the record stays; a decision is final.
    let secret = json!({"ho_ten": "Nguyễn Văn An", "phan_loai": "TỐI MẬT"});
    let held = assert_problem(
        send(&app, &token, &secret).await,
        451,
        "state_secret_suspected",
    )
    .await["quarantine"]
        .as_i64()
        .unwrap();
    let confirmed = decide(
        &app,
        &auditor,
        held,
        "confirm",
        json!({"note": "Tài liệu mật, chuyển hồ sơ số 45/PA03"}),
    )
    .await;
    assert_eq!(confirmed.status(), 200);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert_eq!(confirmed["state"], "confirmed");
    assert_eq!(confirmed["content_held"], false);
    assert_eq!(confirmed["findings"][0]["matched"], "TỐI MẬT");
    assert_problem(
        app.get(
            &format!("/api/v1/quarantine/{held}/content"),
            Some(&auditor),
        )
        .await,
        404,
        "resource_not_found",
    )
    .await;
    for step in ["release", "confirm"] {
        assert_problem(
            decide(&app, &auditor, held, step, note.clone()).await,
            409,
            "invalid_transition",
        )
        .await;
    }
    assert_problem(
        send(&app, &token, &secret).await,
        451,
        "state_secret_suspected",
    )
    .await;
    assert_problem(
        decide(&app, &auditor, 999_999, "confirm", note.clone()).await,
        404,
        "resource_not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/quarantine?state=maybe", Some(&auditor))
            .await,
        400,
        "invalid_parameter",
    )
    .await;

    // Every block and decision is on the log.
    let leaves = quarantine_leaves(&app).await;
    for expected in [
        ("held".to_owned(), first),
        ("released".to_owned(), first),
        ("held".to_owned(), held),
        ("confirmed".to_owned(), held),
    ] {
        assert!(leaves.contains(&expected), "{expected:?} in {leaves:?}");
    }

    // The console shows the items and takes decisions in Vietnamese.
    let page = app
        .http
        .get(app.url("/console/quarantine"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Đã xác nhận là bí mật nhà nước"), "{html}");
    assert!(html.contains("Đã giải phóng"));
    app.stop().await;
}

async fn q20_3_only_auditors_decide(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let auditor = app.token("auditor").await;
    define_schema(&app, &admin).await;
    let id = assert_problem(
        import(&app, &admin, STAMPED, false).await,
        451,
        "state_secret_suspected",
    )
    .await["quarantine"]
        .as_i64()
        .unwrap();
    let note = json!({"note": "Không phải tài liệu mật"});
    for token in [&admin, &operator] {
        for path in [
            "/api/v1/quarantine".to_owned(),
            format!("/api/v1/quarantine/{id}"),
            format!("/api/v1/quarantine/{id}/content"),
        ] {
            assert_problem(app.get(&path, Some(token)).await, 403, "forbidden").await;
        }
        for step in ["confirm", "release"] {
            assert_problem(
                decide(&app, token, id, step, note.clone()).await,
                403,
                "forbidden",
            )
            .await;
        }
        let page = app
            .http
            .get(app.url("/console/quarantine"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 403);
    }
    assert_problem(
        app.get("/api/v1/quarantine", None).await,
        401,
        "authentication_required",
    )
    .await;
    assert_problem(
        app.send_json(
            Method::POST,
            &format!("/api/v1/quarantine/{id}/release"),
            None,
            &note,
        )
        .await,
        401,
        "authentication_required",
    )
    .await;
    // A system cannot decide either.
    let (_, system) = app.client_token().await;
    assert_problem(
        decide(&app, &system, id, "release", note.clone()).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(item(&app, &auditor, id).await["state"], "held");
    app.stop().await;
}
