//! Sharing requests (Q13.1, Q15.1.a, Q16.1): a consumer agency asks Sở Tư pháp for its hosted
//! civil-status records; the provider approves (a grant the gateway honours, never wider than
//! asked), returns the request for more information, or refuses only with a reason and a legal
//! basis; the consumer amends, resubmits or withdraws. Every step is a leaf of the log.

use reqwest::Method;
use serde_json::{json, Value};

use super::gateway::{provider as provider_upstream, provider_service};
use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};
use super::services::{register, service_body, step as service_step, JUSTICE};
use super::transparency::proven_entry;
use super::web::{browser, csrf_field, sign_in};

on_both_backends!(
    q15_1_a_refusal_requires_reason_and_legal_basis,
    q13_1_approved_request_becomes_a_grant_the_gateway_honours,
    q16_1_request_steps_follow_the_state_machine,
    q15_1_a_console_refusal_needs_reason_and_the_consumer_sees_it,
    q16_1_console_lists_what_may_be_asked_and_amends_a_returned_request,
    q13_1_requests_for_resources_shared_by_default_are_granted_at_once,
    q16_1_overdue_requests_are_escalated_to_the_operator_once,
    q16_1_answer_period_counts_working_days_skipping_holidays,
);

const DATASET: &str = "so-hoa-ho-tich";
const REQUESTS: &str = "/api/v1/sharing-requests";

/// Sở Tư pháp (whose administrator is the demo's `agency-admin`) hosts birth records.
async fn hosted_birth_records(app: &TestApp, admin: &str) {
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/datasets/{DATASET}/schema"),
            Some(admin),
            &json!({
                "fields": [
                    {"name": "so", "type": "integer", "constraints": {"required": true}},
                    {"name": "ho_ten", "type": "string", "personal": true},
                    {"name": "ngay_sinh", "type": "date"},
                    {"name": "noi_sinh", "type": "string"}
                ],
                "primaryKey": "so"
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let response = app
        .http
        .post(app.url(&format!("/api/v1/datasets/{DATASET}/records")))
        .bearer_auth(admin)
        .header("content-type", "text/csv")
        .body("so,ho_ten,ngay_sinh,noi_sinh\n1,Nguyễn Văn An,2001-02-03,Hà Nam\n2,Trần Thị Bình,1999-12-31,Nam Định\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Creates an agency administrator and signs them in for API use.
pub(super) async fn admin_of(app: &TestApp, agency: &str, username: &str) -> String {
    let operator = app.token("operator").await;
    let password = "mật khẩu quản trị 2026";
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&operator),
            &json!({
                "username": username,
                "full_name": "Vũ Thị Mai",
                "role": "agency_admin",
                "agency": agency,
                "password": password
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The story's parties: the provider's admin, the consumer's admin (of the first demo client's
/// agency) and the operator, with the records hosted.
pub(super) struct Parties {
    pub provider: String,
    pub consumer: String,
    pub operator: String,
}

pub(super) async fn parties(app: &TestApp) -> Parties {
    let provider = app.token("agency-admin").await;
    hosted_birth_records(app, &provider).await;
    let consumer_agency = app.credentials.clients[0].agency.clone();
    Parties {
        consumer: admin_of(app, &consumer_agency, "tieuthu.quantri").await,
        operator: app.token("operator").await,
        provider,
    }
}

pub(super) fn request_body(app: &TestApp, fields: Value) -> Value {
    json!({
        "target": {"kind": "dataset", "id": DATASET},
        "systems": [app.credentials.clients[0].system],
        "fields": fields,
        "purpose": {"code": "TTHC", "text": "Giải quyết thủ tục đăng ký thường trú"},
        "legal_basis": "Luật Cư trú 2020; Nghị định 47/2020/NĐ-CP",
        "expected_volume": "Khoảng 200 lượt tra cứu mỗi ngày, trong giờ hành chính",
        "valid_until": "2099-01-01T00:00:00Z"
    })
}

pub(super) async fn submit(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app
        .send_json(Method::POST, REQUESTS, Some(token), body)
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    assert!(response.headers().contains_key("lgsp-log-index"));
    response.json().await.unwrap()
}

pub(super) async fn step(
    app: &TestApp,
    token: &str,
    id: i64,
    step: &str,
    body: &Value,
) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("{REQUESTS}/{id}/{step}"),
        Some(token),
        body,
    )
    .await
}

async fn show(app: &TestApp, token: &str, id: i64) -> Value {
    let response = app.get(&format!("{REQUESTS}/{id}"), Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(super) fn log_index(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("lgsp-log-index")
        .expect("a log index")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn steps(detail: &Value) -> Vec<&str> {
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect()
}

async fn q15_1_a_refusal_requires_reason_and_legal_basis(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let created = submit(
        &app,
        &p.consumer,
        &request_body(&app, json!(["so", "ho_ten"])),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["state"], "pending");
    assert_eq!(created["state_label"], "Chờ bên cung cấp xem xét");
    let before = show(&app, &p.provider, id).await;

    // Without a reason, without a legal basis, or with blank ones: refused, and logged.
    for body in [
        json!({}),
        json!({"reason": "Dữ liệu có thông tin cá nhân"}),
        json!({"legal_basis": "Nghị định 13/2023/NĐ-CP"}),
        json!({"reason": "   ", "legal_basis": "Nghị định 13/2023/NĐ-CP"}),
        json!({"reason": "Dữ liệu có thông tin cá nhân", "legal_basis": ""}),
    ] {
        let response = step(&app, &p.provider, id, "refuse", &body).await;
        assert!(response.headers().contains_key("lgsp-log-index"));
        let problem = assert_problem(response, 422, "refusal_reason_required").await;
        assert!(problem["detail"].is_string(), "{problem}");
    }
    // The operator is held to the same rule.
    assert_problem(
        step(
            &app,
            &p.operator,
            id,
            "refuse",
            &json!({"reason": "Không rõ"}),
        )
        .await,
        422,
        "refusal_reason_required",
    )
    .await;
    // The consumer does not refuse its own request, reasons or not.
    assert_problem(
        step(
            &app,
            &p.consumer,
            id,
            "refuse",
            &json!({"reason": "x", "legal_basis": "y"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(show(&app, &p.provider, id).await, before, "nothing changed");

    let response = step(
        &app,
        &p.provider,
        id,
        "refuse",
        &json!({
            "reason": "Yêu cầu gồm họ tên là dữ liệu cá nhân, cần sự đồng ý của chủ thể dữ liệu",
            "legal_basis": "Điều 11 Nghị định 13/2023/NĐ-CP"
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let index = log_index(&response);
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["state"], "refused");
    assert_eq!(refused["state_label"], "Đã từ chối");
    assert_eq!(
        refused["refusal_legal_basis"],
        "Điều 11 Nghị định 13/2023/NĐ-CP"
    );
    assert_eq!(refused["grants"], json!([]));
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["route"], "/api/v1/sharing-requests/{id}/refuse");
    assert_eq!(entry["status"], 200);

    // The consumer sees why, with the step in the history.
    let seen = show(&app, &p.consumer, id).await;
    assert_eq!(steps(&seen), ["submit", "refuse"]);
    let last = &seen["history"][1];
    assert_eq!(last["from_state"], "pending");
    assert_eq!(last["to_state"], "refused");
    assert!(last["reason"]
        .as_str()
        .unwrap()
        .starts_with("Yêu cầu gồm họ tên"));
    // A refusal is final.
    for (who, action, body) in [
        (
            &p.provider,
            "refuse",
            json!({"reason": "x", "legal_basis": "y"}),
        ),
        (&p.provider, "approve", json!({})),
        (&p.consumer, "withdraw", json!({})),
    ] {
        assert_problem(
            step(&app, who, id, action, &body).await,
            409,
            "invalid_transition",
        )
        .await;
    }
    app.stop().await;
}

async fn q13_1_approved_request_becomes_a_grant_the_gateway_honours(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let (_, system) = app.client_token().await;
    let records = format!("/api/v1/datasets/{DATASET}/records?order=so");
    let read = || {
        app.http
            .get(app.url(&records))
            .bearer_auth(&system)
            .header("lgsp-purpose", "TTHC")
            .send()
    };
    assert_problem(read().await.unwrap(), 403, "no_grant").await;

    let created = submit(
        &app,
        &p.consumer,
        &request_body(&app, json!(["so", "ngay_sinh", "noi_sinh"])),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let before = show(&app, &p.provider, id).await;

    // Never more than asked: a field not asked for, a longer period.
    let problem = assert_problem(
        step(
            &app,
            &p.provider,
            id,
            "approve",
            &json!({"fields": ["so", "ho_ten"]}),
        )
        .await,
        422,
        "approval_exceeds_request",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("ho_ten"));
    assert_problem(
        step(
            &app,
            &p.provider,
            id,
            "approve",
            &json!({"valid_until": "2100-01-01T00:00:00Z"}),
        )
        .await,
        422,
        "approval_exceeds_request",
    )
    .await;
    assert_problem(
        step(&app, &p.provider, id, "approve", &json!({"fields": []})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_eq!(show(&app, &p.provider, id).await, before);
    assert_problem(read().await.unwrap(), 403, "no_grant").await;

    // Fewer fields and a shorter period than asked.
    let response = step(
        &app,
        &p.provider,
        id,
        "approve",
        &json!({"fields": ["so", "ngay_sinh"], "valid_until": "2098-01-01T00:00:00Z", "per_minute": 100}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("lgsp-log-index"));
    let approved: Value = response.json().await.unwrap();
    assert_eq!(approved["state"], "approved");
    assert_eq!(steps(&approved), ["submit", "approve"]);
    let grants = approved["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "one grant per system asked for");
    let grant: Value = app
        .get(&format!("/api/v1/grants/{}", grants[0]), Some(&p.consumer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grant["source"], json!({"kind": "request", "id": id}));
    assert_eq!(grant["fields"], json!(["so", "ngay_sinh"]));
    assert_eq!(grant["purposes"], json!(["TTHC"]));
    assert_eq!(grant["status"], "active");
    assert!(grant["validity"]["until"]
        .as_str()
        .unwrap()
        .starts_with("2098-01-01T00:00:00"));
    assert_eq!(
        grant["consumer"],
        json!({"agency": app.credentials.clients[0].agency, "code": app.credentials.clients[0].system})
    );

    // The gateway honours it: the approved fields only, for the request's purpose only.
    let response = read().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!([{"so": 1, "ngay_sinh": "2001-02-03"}, {"so": 2, "ngay_sinh": "1999-12-31"}])
    );
    let response = app
        .http
        .get(app.url(&records))
        .bearer_auth(&system)
        .header("lgsp-purpose", "THONG_KE")
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "purpose_not_granted").await;
    // Asked-for but not approved fields stay closed.
    let response = app
        .http
        .get(app.url(&format!(
            "/api/v1/datasets/{DATASET}/records?select=noi_sinh"
        )))
        .bearer_auth(&system)
        .header("lgsp-purpose", "TTHC")
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "forbidden").await;
    // Approving twice creates nothing more.
    assert_problem(
        step(&app, &p.operator, id, "approve", &json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(
        show(&app, &p.operator, id).await["grants"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A service: the approval may narrow a field asked for to a part of it.
    let (base, _) = provider_upstream().await;
    provider_service(&app, &p.provider, "ho-tich-yc", &base, "khai-sinh").await;
    let services: Vec<Value> = app
        .get(
            &format!("/api/v1/services?agency={JUSTICE}"),
            Some(&p.provider),
        )
        .await
        .json()
        .await
        .unwrap();
    let service = services.iter().find(|s| s["code"] == "khai-sinh").unwrap();
    let mut body = request_body(&app, json!(["/ho_ten", "/noi_sinh"]));
    body["target"] = json!({"kind": "service", "id": service["id"]});
    let id = submit(&app, &p.consumer, &body).await["id"]
        .as_i64()
        .unwrap();
    assert_problem(
        step(
            &app,
            &p.provider,
            id,
            "approve",
            &json!({"fields": ["/ngay_sinh"]}),
        )
        .await,
        422,
        "approval_exceeds_request",
    )
    .await;
    let response = step(
        &app,
        &p.provider,
        id,
        "approve",
        &json!({"fields": ["/noi_sinh/tinh"]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = app
        .http
        .get(app.url(&format!(
            "/x/{JUSTICE}/ho-tich-yc/khai-sinh/v1/khai-sinh/123"
        )))
        .bearer_auth(&system)
        .header("lgsp-purpose", "TTHC")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"noi_sinh": {"tinh": "Hà Nam"}})
    );
    app.stop().await;
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get(REQUESTS, Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn q16_1_request_steps_follow_the_state_machine(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let good = request_body(&app, json!(["so", "ngay_sinh"]));

    // Malformed or invalid bodies: a problem each, nothing stored.
    let response = app
        .http
        .post(app.url(REQUESTS))
        .bearer_auth(&p.consumer)
        .header("content-type", "application/json")
        .body("{\"target\": ")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "malformed_json").await;
    let mut cases = Vec::new();
    let mut no_basis = good.clone();
    no_basis.as_object_mut().unwrap().remove("legal_basis");
    cases.push((no_basis, 422, "invalid_body"));
    let mut unknown = good.clone();
    unknown["urgent"] = json!(true);
    cases.push((unknown, 422, "unknown_field"));
    let mut no_system = good.clone();
    no_system["systems"] = json!([]);
    cases.push((no_system, 422, "invalid_body"));
    let mut bad_purpose = good.clone();
    bad_purpose["purpose"]["code"] = json!("tthc");
    cases.push((bad_purpose, 422, "invalid_body"));
    let mut past = good.clone();
    past["valid_until"] = json!("2020-01-01T00:00:00Z");
    cases.push((past, 422, "invalid_body"));
    let mut not_ours = good.clone();
    not_ours["systems"] = json!(["khong-co-he-thong"]);
    cases.push((not_ours, 422, "missing_reference"));
    let mut no_field = good.clone();
    no_field["fields"] = json!(["so", "so_cccd"]);
    cases.push((no_field, 422, "field_not_shared"));
    let mut no_dataset = good.clone();
    no_dataset["target"]["id"] = json!("khong-co-du-lieu");
    cases.push((no_dataset, 422, "missing_reference"));
    for (body, status, code) in cases {
        assert_problem(
            app.send_json(Method::POST, REQUESTS, Some(&p.consumer), &body)
                .await,
            status,
            code,
        )
        .await;
    }
    // Only a consumer agency's administrator submits.
    assert_problem(
        app.send_json(Method::POST, REQUESTS, None, &good).await,
        401,
        "authentication_required",
    )
    .await;
    for who in ["operator", "auditor", "approver"] {
        let token = app.token(who).await;
        assert_problem(
            app.send_json(Method::POST, REQUESTS, Some(&token), &good)
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    assert!(list(&app, &p.operator).await.is_empty());

    let id = submit(&app, &p.consumer, &good).await["id"]
        .as_i64()
        .unwrap();
    let pending = show(&app, &p.consumer, id).await;

    // Who sees it: both sides and the operator; not another agency.
    let consumer_agency = &app.credentials.clients[0].agency;
    let elsewhere_agency = ["000.00.02.H35", "000.00.01.H35"]
        .into_iter()
        .find(|a| a != consumer_agency)
        .unwrap();
    let other = admin_of(&app, elsewhere_agency, "coquankhac.quantri").await;
    for token in [&p.consumer, &p.provider, &p.operator] {
        assert_eq!(list(&app, token).await.len(), 1);
    }
    assert!(list(&app, &other).await.is_empty());
    assert_problem(
        app.get(&format!("{REQUESTS}/{id}"), Some(&other)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&format!("{REQUESTS}?state=dang-cho"), Some(&p.operator))
            .await,
        400,
        "invalid_parameter",
    )
    .await;

    // Wrong side: 403 whatever the state; wrong state: 409; nothing changes either way.
    let reason = json!({"reason": "Đề nghị bổ sung văn bản giao nhiệm vụ"});
    for (token, action, body) in [
        (&p.consumer, "approve", json!({})),
        (&p.consumer, "return", reason.clone()),
        (&p.provider, "withdraw", json!({})),
        (&p.provider, "resubmit", good.clone()),
        (&other, "approve", json!({})),
        (&other, "withdraw", json!({})),
    ] {
        assert_problem(step(&app, token, id, action, &body).await, 403, "forbidden").await;
    }
    assert_problem(
        step(&app, &p.consumer, id, "resubmit", &good).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        step(&app, &p.provider, id, "return", &json!({})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        step(&app, &p.provider, 999_999, "return", &reason).await,
        404,
        "resource_not_found",
    )
    .await;
    assert_eq!(show(&app, &p.consumer, id).await, pending);

    // Returned for more information, amended, resubmitted.
    let response = step(&app, &p.provider, id, "return", &reason).await;
    assert_eq!(response.status(), 200);
    let returned: Value = response.json().await.unwrap();
    assert_eq!(returned["state"], "returned");
    assert_eq!(
        returned["decision_reason"],
        "Đề nghị bổ sung văn bản giao nhiệm vụ"
    );
    assert_problem(
        step(&app, &p.provider, id, "return", &reason).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        step(&app, &p.provider, id, "approve", &json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    let mut elsewhere = good.clone();
    elsewhere["target"] = json!({"kind": "dataset", "id": "don-vi-hanh-chinh"});
    elsewhere["fields"] = json!(["ma"]);
    assert_problem(
        step(&app, &p.consumer, id, "resubmit", &elsewhere).await,
        422,
        "invalid_body",
    )
    .await;
    let mut amended = good.clone();
    amended["fields"] = json!(["so"]);
    amended["legal_basis"] = json!("Luật Cư trú 2020; Công văn 123/UBND-KSTT giao nhiệm vụ");
    let response = step(&app, &p.consumer, id, "resubmit", &amended).await;
    assert_eq!(response.status(), 200);
    let resubmitted: Value = response.json().await.unwrap();
    assert_eq!(resubmitted["state"], "pending");
    assert_eq!(resubmitted["fields"], json!(["so"]));
    assert_eq!(
        resubmitted["legal_basis"],
        "Luật Cư trú 2020; Công văn 123/UBND-KSTT giao nhiệm vụ"
    );
    assert_eq!(resubmitted["decision_reason"], Value::Null);

    // Withdrawn by the consumer, which is final.
    let response = step(&app, &p.consumer, id, "withdraw", &json!({})).await;
    assert_eq!(response.status(), 200);
    let withdrawn: Value = response.json().await.unwrap();
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_eq!(
        steps(&withdrawn),
        ["submit", "return", "resubmit", "withdraw"]
    );
    for (token, action) in [(&p.consumer, "withdraw"), (&p.provider, "approve")] {
        assert_problem(
            step(&app, token, id, action, &json!({})).await,
            409,
            "invalid_transition",
        )
        .await;
    }
    assert_eq!(show(&app, &p.consumer, id).await, withdrawn);

    // Two decisions at once: exactly one is taken (compare-and-set), one grant at most.
    let id = submit(&app, &p.consumer, &good).await["id"]
        .as_i64()
        .unwrap();
    let refusal = json!({"reason": "Trùng yêu cầu đã có", "legal_basis": "Điều 15 Quyết định 07/2021/QĐ-UBND"});
    let everything = json!({});
    let (a, b) = tokio::join!(
        step(&app, &p.provider, id, "approve", &everything),
        step(&app, &p.operator, id, "refuse", &refusal),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let decided = show(&app, &p.operator, id).await;
    let grants = decided["grants"].as_array().unwrap().len();
    match decided["state"].as_str().unwrap() {
        "approved" => assert_eq!(grants, 1),
        "refused" => assert_eq!(grants, 0),
        other => panic!("state {other}"),
    }
    assert_eq!(steps(&decided).len(), 2);
    app.stop().await;
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let response = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn q15_1_a_console_refusal_needs_reason_and_the_consumer_sees_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let id = submit(
        &app,
        &p.consumer,
        &request_body(&app, json!(["so", "ngay_sinh"])),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    let provider = browser(&app);
    assert_eq!(sign_in(&app, &provider, "agency-admin").await.status(), 303);
    assert!(page(&provider, &app, "/console")
        .await
        .contains("/console/sharing-requests"));
    let html = page(&provider, &app, "/console/sharing-requests").await;
    assert!(html.contains(&format!("id=\"tu-choi-{id}\"")));
    assert!(!html.contains(&format!("id=\"rut-{id}\"")));
    let csrf = csrf_field(&html);
    let refuse = |reason: &'static str, basis: &'static str| {
        provider
            .post(app.url(&format!("/console/sharing-requests/{id}/step")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("step", "refuse"),
                ("reason", reason),
                ("legal_basis", basis),
            ])
            .send()
    };
    let refused = refuse("Dữ liệu có thông tin cá nhân", "  ").await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Từ chối yêu cầu chia sẻ phải nêu rõ lý do và căn cứ pháp lý."));
    assert_eq!(show(&app, &p.provider, id).await["state"], "pending");
    let done = refuse(
        "Dữ liệu có thông tin cá nhân",
        "Điều 11 Nghị định 13/2023/NĐ-CP",
    )
    .await
    .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(show(&app, &p.provider, id).await["state"], "refused");

    // The consumer's administrator sees the refusal with its reason and legal basis.
    let consumer = browser(&app);
    let form = page(&consumer, &app, "/login").await;
    let response = consumer
        .post(app.url("/login"))
        .form(&[
            ("username", "tieuthu.quantri"),
            ("password", "mật khẩu quản trị 2026"),
            ("csrf", &csrf_field(&form)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let html = page(&consumer, &app, "/console/sharing-requests").await;
    assert!(html.contains("Đã từ chối"), "{html}");
    assert!(html.contains("Lý do: Dữ liệu có thông tin cá nhân"));
    assert!(html.contains("Căn cứ từ chối: Điều 11 Nghị định 13/2023/NĐ-CP"));
    assert!(!html.contains(&format!("id=\"tu-choi-{id}\"")));
    app.stop().await;
}

/// The consumer's administrator, signed in to the console.
async fn consumer_console(app: &TestApp) -> reqwest::Client {
    let consumer = browser(app);
    let form = page(&consumer, app, "/login").await;
    let response = consumer
        .post(app.url("/login"))
        .form(&[
            ("username", "tieuthu.quantri"),
            ("password", "mật khẩu quản trị 2026"),
            ("csrf", &csrf_field(&form)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    consumer
}

/// The console's request form as multipart, with `target` and `fields` as given.
fn console_request(
    app: &TestApp,
    csrf: &str,
    target: &str,
    fields: &str,
) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("target", target.to_owned())
        .text("systems", app.credentials.clients[0].system.clone())
        .text("fields", fields.to_owned())
        .text("purpose_code", "TTHC")
        .text("purpose_text", "Giải quyết thủ tục đăng ký thường trú")
        .text("legal_basis", "Luật Cư trú 2020")
        .text("expected_volume", "Khoảng 200 lượt mỗi ngày")
        .text("valid_until", "2099-01-01")
}

async fn q16_1_console_lists_what_may_be_asked_and_amends_a_returned_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let consumer = consumer_console(&app).await;

    // The form offers other agencies' datasets by name, not a box to type a code into.
    let html = page(&consumer, &app, "/console/sharing-requests").await;
    assert!(
        html.contains(&format!("<option value=\"dataset:{DATASET}\">")),
        "{html}"
    );
    let csrf = csrf_field(&html);

    // A target that is neither a dataset nor a service is refused and nothing is stored.
    let response = consumer
        .post(app.url("/console/sharing-requests"))
        .multipart(console_request(&app, &csrf, DATASET, "so, ho_ten"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("choose a dataset or a service"));
    let listed: Vec<Value> = app
        .get(REQUESTS, Some(&p.consumer))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed.is_empty());

    let target = format!("dataset:{DATASET}");
    let response = consumer
        .post(app.url("/console/sharing-requests"))
        .multipart(console_request(
            &app,
            &csrf,
            &target,
            "so, ho_ten, ngay_sinh",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let listed: Vec<Value> = app
        .get(REQUESTS, Some(&p.consumer))
        .await
        .json()
        .await
        .unwrap();
    let id = listed[0]["id"].as_i64().unwrap();

    // Returned for more information: the consumer's page holds the amend form, filled in.
    let reason = json!({"reason": "Đề nghị bớt trường ngày sinh"});
    assert_eq!(
        step(&app, &p.provider, id, "return", &reason)
            .await
            .status(),
        200
    );
    let html = page(&consumer, &app, "/console/sharing-requests").await;
    assert!(html.contains(&format!("id=\"gui-lai-{id}\"")), "{html}");
    assert!(html.contains("value=\"so, ho_ten, ngay_sinh\""));
    assert!(html.contains("value=\"2099-01-01\""));
    assert!(html.contains("Đến 01/01/2099"));

    // Amended and sent again: pending with the new fields and a step in its history.
    let response = consumer
        .post(app.url(&format!("/console/sharing-requests/{id}/resubmit")))
        .multipart(console_request(&app, &csrf, &target, "so, ho_ten"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let amended = show(&app, &p.consumer, id).await;
    assert_eq!(amended["state"], "pending");
    assert_eq!(amended["fields"], json!(["so", "ho_ten"]));
    assert_eq!(steps(&amended).last(), Some(&"resubmit"));

    // Once pending, it cannot be sent again; the terms stay as they are.
    let response = consumer
        .post(app.url(&format!("/console/sharing-requests/{id}/resubmit")))
        .multipart(console_request(&app, &csrf, &target, "so"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(
        show(&app, &p.consumer, id).await["fields"],
        json!(["so", "ho_ten"])
    );
    app.stop().await;
}

async fn q13_1_requests_for_resources_shared_by_default_are_granted_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let id = register(
        &app,
        &p.provider,
        &service_body(
            "ho-tich",
            "tra-cuu-mac-dinh",
            "https://hotich.stp.hanam.gov.vn/lgsp",
            "default",
        ),
    )
    .await;
    assert_eq!(
        service_step(&app, &p.provider, id, "publish")
            .await
            .status(),
        200
    );
    let mut body = request_body(&app, json!(["/ho_ten"]));
    body["target"] = json!({"kind": "service", "id": id});
    let granted = submit(&app, &p.consumer, &body).await;
    assert_eq!(granted["state"], "approved");
    assert_eq!(steps(&granted), ["submit", "approve"]);
    assert_eq!(granted["history"][1]["actor"], "lgsp:chia-se-mac-dinh");
    let grants = granted["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1);
    let grant: Value = app
        .get(&format!("/api/v1/grants/{}", grants[0]), Some(&p.consumer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grant["fields"], json!(["/ho_ten"]));
    assert_eq!(
        grant["source"],
        json!({"kind": "request", "id": granted["id"]})
    );

    // A dataset shared on request waits for the provider.
    let pending = submit(&app, &p.consumer, &request_body(&app, json!(["so"]))).await;
    assert_eq!(pending["state"], "pending");
    assert_eq!(pending["grants"], json!([]));
    app.stop().await;
}

fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    serde_json::from_value(value.clone()).unwrap_or_else(|_| panic!("a time: {value}"))
}

/// Past its answer period a pending request is escalated to the operator, once: a step in its
/// history, a proven leaf on the log, a notice to the operator and the provider. The provider
/// can still decide; a resubmission opens a new period, escalated anew when it passes.
async fn q16_1_overdue_requests_are_escalated_to_the_operator_once(backend: Backend) {
    use lgsp_server::sharing_requests::{escalate_overdue, DEADLINE_ACTOR};
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let created = submit(
        &app,
        &p.consumer,
        &request_body(&app, json!(["so", "ngay_sinh"])),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let respond_by = time(&created["respond_by"]);
    assert_eq!(
        respond_by,
        lgsp_core::calendar::WorkCalendar::default().deadline(time(&created["created_at"]), 5),
        "five working days by default"
    );
    assert_eq!(created["overdue"], false);
    assert!(created["escalated_at"].is_null());

    let second = chrono::Duration::seconds(1);
    assert!(escalate_overdue(&app.state, respond_by - second)
        .await
        .unwrap()
        .is_empty());
    let escalated = escalate_overdue(&app.state, respond_by + second)
        .await
        .unwrap();
    assert_eq!(escalated.len(), 1);
    let (request, index) = &escalated[0];
    assert_eq!(request.id, id);
    let entry = proven_entry(&app, *index).await;
    assert_eq!(entry["kind"], "step");
    assert_eq!(entry["step"], "escalate");
    assert_eq!(entry["actor"], DEADLINE_ACTOR);
    assert_eq!(entry["route"], format!("{REQUESTS}/{id}"));
    // Once per period, whoever looks again (another node, the next minute).
    assert!(escalate_overdue(&app.state, respond_by + second * 120)
        .await
        .unwrap()
        .is_empty());

    let detail = show(&app, &p.consumer, id).await;
    assert_eq!(steps(&detail), ["submit", "escalate"]);
    assert_eq!(detail["state"], "pending");
    assert_eq!(time(&detail["escalated_at"]), respond_by + second);
    let overdue = format!("Yêu cầu chia sẻ dữ liệu số {id} quá hạn trả lời");
    for token in [&p.operator, &p.provider] {
        let notices: Vec<Value> = app
            .get("/api/v1/notifications", Some(token))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            notices.iter().any(|n| n["subject"] == overdue.as_str()),
            "{notices:?}"
        );
    }

    // Returned and resubmitted: a new period, not escalated yet.
    let response = step(
        &app,
        &p.provider,
        id,
        "return",
        &json!({"reason": "Bổ sung văn bản giao nhiệm vụ"}),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let response = step(
        &app,
        &p.consumer,
        id,
        "resubmit",
        &request_body(&app, json!(["so"])),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let resubmitted: Value = response.json().await.unwrap();
    assert!(resubmitted["escalated_at"].is_null());
    let new_period = time(&resubmitted["respond_by"]);
    assert!(new_period >= respond_by);
    assert!(escalate_overdue(&app.state, new_period - second)
        .await
        .unwrap()
        .is_empty());
    let again = escalate_overdue(&app.state, new_period + second)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|(r, _)| r.id).collect::<Vec<_>>(), [id]);
    let detail = show(&app, &p.consumer, id).await;
    assert_eq!(
        steps(&detail),
        ["submit", "escalate", "return", "resubmit", "escalate"]
    );
    app.stop().await;
}

/// Holidays configured for the province do not count: with the next two weeks off and two
/// working days to answer, the answer is due after them. The console shows the last day.
async fn q16_1_answer_period_counts_working_days_skipping_holidays(backend: Backend) {
    fn two_weeks_off(settings: &mut lgsp_server::settings::Settings) {
        let today = chrono::Utc::now()
            .with_timezone(&lgsp_core::calendar::VIETNAM)
            .date_naive();
        settings.holidays = (0..14).map(|d| today + chrono::Duration::days(d)).collect();
        settings.request_response_working_days = 2;
    }
    let app = super::helpers::spawn_app_with(backend, two_weeks_off).await;
    let p = parties(&app).await;
    let created = submit(&app, &p.consumer, &request_body(&app, json!(["so"]))).await;
    let submitted = time(&created["created_at"]);
    let respond_by = time(&created["respond_by"]);
    let mut settings = lgsp_server::settings::Settings::default();
    two_weeks_off(&mut settings);
    assert_eq!(respond_by, settings.calendar().deadline(submitted, 2));
    assert!(respond_by > submitted + chrono::Duration::days(14));
    assert!(respond_by <= submitted + chrono::Duration::days(19));

    let browser = browser(&app);
    sign_in(&app, &browser, "agency-admin").await;
    let page = browser
        .get(app.url("/console/sharing-requests"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let last_day = (respond_by - chrono::Duration::seconds(1))
        .with_timezone(&lgsp_core::calendar::VIETNAM)
        .format("%d/%m/%Y")
        .to_string();
    assert!(page.contains(&format!("Hạn trả lời: {last_day}")), "{page}");
    app.stop().await;
}
