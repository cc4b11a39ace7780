//! The catalog procedure through the API (Q5.2, Q5.4, Q1.2, Q5.1): every role, wrong roles and
//! wrong states, letters, decisions and the catalog on any day.

use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q5_2_proposal_goes_through_every_role_and_refuses_wrong_roles_and_states,
    q5_2_reason_and_pdf_letter_are_required,
    q1_2_state_secrets_are_refused_and_recorded,
    q5_4_the_catalog_on_each_day_is_the_one_decided_for_it,
);

/// Sở Tư pháp, whose administrator is the demo account `agency-admin`.
const JUSTICE: &str = "000.00.03.H35";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
        .date_naive()
}

async fn justice_system(app: &TestApp) -> String {
    let token = app.token("operator").await;
    let systems: Vec<Value> = app
        .get(&format!("/api/v1/agencies/{JUSTICE}/systems"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    systems[0]["code"].as_str().unwrap().to_owned()
}

fn entry(code: &str, name: &str, system: &str, dataset: &str) -> Value {
    json!({
        "code": code,
        "name": name,
        "description": "Thông tin công chứng, chứng thực trên địa bàn tỉnh.",
        "owner": JUSTICE,
        "managing_system": system,
        "legal_bases": [{"number": "47/2020/NĐ-CP", "date": "2020-04-09", "issuer": "Chính phủ", "article": "Điều 11"}],
        "data_kinds": ["specialised"],
        "national_relation": {"databases": ["Cơ sở dữ liệu công chứng quốc gia"], "overlaps": true,
                              "note": "Tỉnh chỉ lưu phần chưa có ở cơ sở dữ liệu quốc gia"},
        "criteria": {
            "legal_value": {"met": true, "justification": "Văn bản công chứng có giá trị pháp lý"},
            "master_data": {"met": false, "justification": "Không phải dữ liệu chủ"},
            "administrative_procedures": {"met": true, "justification": "Phục vụ thủ tục chứng thực"}
        },
        "datasets": [{
            "id": dataset, "title": "Tổ chức hành nghề công chứng", "description": "Danh sách văn phòng công chứng",
            "keywords": ["công chứng"], "themes": ["Tư pháp"], "access_level": "open", "sharing_mode": "open",
            "update_frequency": "monthly", "licence": "CC-BY-4.0",
            "contact": {"name": "Phòng Bổ trợ tư pháp", "email": "botrotuphap@stp.hanam.gov.vn"}
        }]
    })
}

fn upload(proposal: &Value, letter: Option<(&'static [u8], &'static str)>) -> Form {
    let form = Form::new().text("proposal", proposal.to_string());
    match letter {
        Some((bytes, mime)) => form.part(
            "letter",
            Part::bytes(bytes)
                .file_name("cong-van.pdf")
                .mime_str(mime)
                .unwrap(),
        ),
        None => form,
    }
}

async fn submit(app: &TestApp, token: Option<&str>, form: Form) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/api/v1/catalog/proposals"))
        .multipart(form);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn add(entry: Value) -> Value {
    json!({"change": {"action": "add", "entry": entry}, "reason": "Bổ sung CSDL công chứng vào danh mục"})
}

async fn step(app: &TestApp, token: &str, id: i64, name: &str, body: Value) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/catalog/proposals/{id}/{name}"),
        Some(token),
        &body,
    )
    .await
}

async fn forward(app: &TestApp, token: &str, ids: &[i64]) -> reqwest::Response {
    app.send_json(
        Method::POST,
        "/api/v1/catalog/submissions",
        Some(token),
        &json!({"proposals": ids, "recommendation": "Đề nghị UBND tỉnh phê duyệt"}),
    )
    .await
}

fn decision(number: &str, effective: NaiveDate) -> Value {
    json!({"decision": {"number": number, "date": today().to_string(), "effective_date": effective.to_string()}})
}

async fn notified(app: &TestApp, token: &str, needle: &str) -> bool {
    let list: Vec<Value> = app
        .get("/api/v1/notifications", Some(token))
        .await
        .json()
        .await
        .unwrap();
    list.iter()
        .any(|n| n["subject"].as_str().unwrap().contains(needle))
}

async fn q5_2_proposal_goes_through_every_role_and_refuses_wrong_roles_and_states(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let approver = app.token("approver").await;
    let citizen = app.token("citizen").await;
    let system = justice_system(&app).await;
    let proposal = add(entry(
        "CSDL.CONGCHUNG",
        "CSDL công chứng",
        &system,
        "van-phong-cong-chung",
    ));

    // Only the owning agency's administrator submits.
    assert_problem(
        submit(
            &app,
            None,
            upload(&proposal, Some((PDF, "application/pdf"))),
        )
        .await,
        401,
        "authentication_required",
    )
    .await;
    for token in [&operator, &citizen, &approver] {
        let response = submit(
            &app,
            Some(token),
            upload(&proposal, Some((PDF, "application/pdf"))),
        )
        .await;
        assert_problem(response, 403, "forbidden").await;
    }
    let response = submit(
        &app,
        Some(&admin),
        upload(&proposal, Some((PDF, "application/pdf"))),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["state"], "submitted");
    // Q5.1: the declared overlap with a national database travels with the proposal.
    assert_eq!(created["entry"]["national_relation"]["overlaps"], true);
    assert!(
        notified(&app, &operator, &format!("Đề nghị số {id}")).await,
        "the operator is told"
    );

    // Wrong role: 403 whatever the state; right role, wrong state: 409.
    assert_problem(
        step(
            &app,
            &operator,
            id,
            "approve",
            decision("1/QĐ-UBND", today()),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        step(
            &app,
            &approver,
            id,
            "approve",
            decision("1/QĐ-UBND", today()),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        step(&app, &admin, id, "return", json!({"comment": "x"})).await,
        403,
        "forbidden",
    )
    .await;
    let response = step(&app, &operator, id, "return", json!({})).await;
    assert_problem(response, 422, "invalid_body").await;

    let response = step(
        &app,
        &operator,
        id,
        "return",
        json!({"comment": "Bổ sung căn cứ pháp lý"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        notified(&app, &admin, "trả lại").await,
        "the agency is told"
    );
    assert_problem(
        forward(&app, &operator, &[id]).await,
        409,
        "invalid_transition",
    )
    .await;

    let resubmitted = app
        .http
        .post(app.url(&format!("/api/v1/catalog/proposals/{id}/resubmit")))
        .bearer_auth(&admin)
        .multipart(upload(&proposal, None))
        .send()
        .await
        .unwrap();
    assert_eq!(resubmitted.status(), 200);

    let response = forward(&app, &operator, &[id]).await;
    assert_eq!(response.status(), 201);
    assert!(
        notified(&app, &approver, "trình").await,
        "the approver is told"
    );
    assert_problem(
        step(
            &app,
            &admin,
            id,
            "reject",
            json!({"number": "2/QĐ-UBND", "date": today().to_string(), "reason": "x"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    let tomorrow = today() + Duration::days(1);
    let response = step(
        &app,
        &approver,
        id,
        "approve",
        decision("1520/QĐ-UBND", tomorrow),
    )
    .await;
    assert_eq!(response.status(), 200);
    let decided: Value = response.json().await.unwrap();
    assert_eq!(decided["state"], "approved");
    assert_eq!(decided["decision"]["number"], "1520/QĐ-UBND");
    // Every step is recorded with its actor, time and comment.
    let steps: Vec<(String, String)> = decided["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["step"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("submit", "agency-admin"),
            ("return", "operator"),
            ("resubmit", "agency-admin"),
            ("forward", "operator"),
            ("approve", "approver"),
        ]
        .map(|(s, a)| (s.to_owned(), a.to_owned()))
    );
    assert_eq!(decided["events"][1]["comment"], "Bổ sung căn cứ pháp lý");
    assert!(decided["events"][4]["at"].is_string());
    assert!(notified(&app, &admin, "đã được phê duyệt").await);
    assert_problem(
        step(
            &app,
            &approver,
            id,
            "approve",
            decision("1521/QĐ-UBND", tomorrow),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;

    // Only from the effective date is the entry in the catalog.
    let code_in = |catalog: &Value| {
        catalog["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["content"]["code"] == "CSDL.CONGCHUNG")
    };
    let now: Value = app.get("/api/v1/catalog", None).await.json().await.unwrap();
    assert!(!code_in(&now), "not before its effective date");
    let then: Value = app
        .get(&format!("/api/v1/catalog?as_of={tomorrow}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(code_in(&then));

    // The people of the procedure see the proposal; another agency does not.
    let other = app
        .get(&format!("/api/v1/catalog/proposals/{id}"), Some(&citizen))
        .await;
    assert_problem(other, 403, "forbidden").await;
    assert_eq!(
        app.get(&format!("/api/v1/catalog/proposals/{id}"), Some(&approver))
            .await
            .status(),
        200
    );
    app.stop().await;
}

async fn q5_2_reason_and_pdf_letter_are_required(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let system = justice_system(&app).await;
    let proposal = add(entry(
        "CSDL.CONGCHUNG",
        "CSDL công chứng",
        &system,
        "van-phong-cong-chung",
    ));

    let mut no_reason = proposal.clone();
    no_reason.as_object_mut().unwrap().remove("reason");
    let response = submit(
        &app,
        Some(&admin),
        upload(&no_reason, Some((PDF, "application/pdf"))),
    )
    .await;
    let body = assert_problem(response, 422, "invalid_body").await;
    assert!(
        body["detail"].as_str().unwrap().contains("reason"),
        "{body}"
    );
    let mut blank_reason = proposal.clone();
    blank_reason["reason"] = json!("   ");
    assert_problem(
        submit(
            &app,
            Some(&admin),
            upload(&blank_reason, Some((PDF, "application/pdf"))),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;

    assert_problem(
        submit(&app, Some(&admin), upload(&proposal, None)).await,
        422,
        "invalid_attachment",
    )
    .await;
    assert_problem(
        submit(
            &app,
            Some(&admin),
            upload(&proposal, Some((b"PK\x03\x04 docx", "application/pdf"))),
        )
        .await,
        422,
        "invalid_attachment",
    )
    .await;
    assert_problem(
        submit(
            &app,
            Some(&admin),
            upload(&proposal, Some((PDF, "image/png"))),
        )
        .await,
        422,
        "invalid_attachment",
    )
    .await;
    let huge = Form::new().text("proposal", proposal.to_string()).part(
        "letter",
        Part::bytes(vec![b'%'; 11 * 1024 * 1024])
            .file_name("x.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    assert_problem(
        submit(&app, Some(&admin), huge).await,
        413,
        "payload_too_large",
    )
    .await;
    let wrong_part = Form::new()
        .text("proposal", proposal.to_string())
        .text("letterr", "x");
    assert_problem(
        submit(&app, Some(&admin), wrong_part).await,
        400,
        "malformed_multipart",
    )
    .await;

    // The registry is checked: the managing system must be the agency's.
    let foreign = add(entry(
        "CSDL.CONGCHUNG",
        "CSDL công chứng",
        "khong-co-he-thong",
        "van-phong-cong-chung",
    ));
    assert_problem(
        submit(
            &app,
            Some(&admin),
            upload(&foreign, Some((PDF, "application/pdf"))),
        )
        .await,
        422,
        "missing_reference",
    )
    .await;
    let listed: Vec<Value> = app
        .get("/api/v1/catalog/proposals", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        listed.is_empty(),
        "no refused submission left anything behind"
    );

    let response = submit(
        &app,
        Some(&admin),
        upload(&proposal, Some((PDF, "application/pdf"))),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let expected = {
        use sha2::{Digest, Sha256};
        Sha256::digest(PDF)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(created["letter"]["sha256"], expected);
    assert_eq!(created["letter"]["size"], PDF.len());
    let letter = app
        .get(
            &format!("/api/v1/catalog/proposals/{}/letter", created["id"]),
            Some(&admin),
        )
        .await;
    assert_eq!(letter.headers()["content-type"], "application/pdf");
    assert_eq!(letter.bytes().await.unwrap().as_ref(), PDF);
    app.stop().await;
}

async fn q1_2_state_secrets_are_refused_and_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let auditor = app.token("auditor").await;
    let system = justice_system(&app).await;
    let base = entry("CSDL.MAT", "CSDL mật", &system, "bo-du-lieu-mat");

    let mut secret_entry = base.clone();
    secret_entry["classification"] = json!("mat");
    let mut secret_dataset = base.clone();
    secret_dataset["datasets"][0]["classification"] = json!("toi_mat");
    let mut secret_letter = add(base.clone());
    secret_letter["letter_classification"] = json!("tuyet_mat");
    for proposal in [add(secret_entry), add(secret_dataset), secret_letter] {
        let response = submit(
            &app,
            Some(&admin),
            upload(&proposal, Some((PDF, "application/pdf"))),
        )
        .await;
        assert_problem(response, 422, "state_secret_not_allowed").await;
    }
    let listed: Vec<Value> = app
        .get("/api/v1/catalog/proposals", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed.is_empty());
    let events: Vec<Value> = app
        .get("/api/v1/security-events", Some(&auditor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(events.len(), 3, "every attempt is recorded");
    assert!(events
        .iter()
        .all(|e| e["actor"] == "agency-admin" && e["kind"] == "state_secret_refused"));
    assert_problem(
        app.get("/api/v1/security-events", Some(&admin)).await,
        403,
        "forbidden",
    )
    .await;
    app.stop().await;
}

async fn q5_4_the_catalog_on_each_day_is_the_one_decided_for_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let approver = app.token("approver").await;
    let system = justice_system(&app).await;

    let decide = |change: Value, number: &'static str, effective: NaiveDate| {
        let (app, admin, operator, approver) = (&app, &admin, &operator, &approver);
        async move {
            let proposal = json!({"change": change, "reason": "Cập nhật danh mục"});
            let created: Value = submit(
                app,
                Some(admin),
                upload(&proposal, Some((PDF, "application/pdf"))),
            )
            .await
            .json()
            .await
            .unwrap();
            let id = created["id"].as_i64().expect("created");
            assert_eq!(forward(app, operator, &[id]).await.status(), 201);
            let response = step(app, approver, id, "approve", decision(number, effective)).await;
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }
    };
    let d1 = today() + Duration::days(10);
    let d2 = today() + Duration::days(20);
    let d3 = today() + Duration::days(30);
    decide(json!({"action": "add", "entry": entry("CSDL.CONGCHUNG", "CSDL công chứng", &system, "van-phong-cong-chung")}), "10/QĐ-UBND", d1).await;
    decide(json!({"action": "modify", "entry": entry("CSDL.CONGCHUNG", "CSDL công chứng, chứng thực", &system, "van-phong-cong-chung")}), "20/QĐ-UBND", d2).await;
    decide(
        json!({"action": "withdraw", "code": "CSDL.CONGCHUNG"}),
        "30/QĐ-UBND",
        d3,
    )
    .await;

    let name_on = |day: NaiveDate| {
        let app = &app;
        async move {
            let response = app
                .get(
                    &format!("/api/v1/catalog/entries/CSDL.CONGCHUNG?as_of={day}"),
                    None,
                )
                .await;
            if response.status() == 404 {
                return None;
            }
            let version: Value = response.json().await.unwrap();
            Some(version["content"]["name"].as_str().unwrap().to_owned())
        }
    };
    assert_eq!(name_on(d1 - Duration::days(1)).await, None);
    assert_eq!(name_on(d1).await.as_deref(), Some("CSDL công chứng"));
    assert_eq!(
        name_on(d2 - Duration::days(1)).await.as_deref(),
        Some("CSDL công chứng")
    );
    assert_eq!(
        name_on(d2).await.as_deref(),
        Some("CSDL công chứng, chứng thực")
    );
    assert_eq!(name_on(d3).await, None, "withdrawn");
    let at_instant = app
        .get(
            &format!("/api/v1/catalog?as_of={}T12:00:00%2B07:00", d2),
            None,
        )
        .await;
    assert_eq!(at_instant.status(), 200);

    let history: Vec<Value> = app
        .get("/api/v1/catalog/entries/CSDL.CONGCHUNG/history", None)
        .await
        .json()
        .await
        .unwrap();
    let summary: Vec<(i64, String, String)> = history
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap().to_owned(),
                v["decision_number"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "active", "10/QĐ-UBND"),
            (2, "active", "20/QĐ-UBND"),
            (3, "withdrawn", "30/QĐ-UBND")
        ]
        .map(|(v, s, d)| (v, s.to_owned(), d.to_owned()))
    );
    assert_eq!(history[0]["valid_to"], d2.to_string());
    assert_problem(
        app.get("/api/v1/catalog?as_of=hom-qua", None).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_problem(
        app.get("/api/v1/catalog/entries/CSDL.KHONGCO/history", None)
            .await,
        404,
        "resource_not_found",
    )
    .await;
    app.stop().await;
}
