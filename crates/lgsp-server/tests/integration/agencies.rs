//! Agencies, focal officers and information systems through the REST API.

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend};

on_both_backends!(
    q8_2_agency_cannot_be_saved_without_focal_officer_and_keeps_history,
    q8_2_agencies_and_focal_officers_are_public,
    q7_1_q9_q10_2_systems_record_connection_model_and_security_level,
    q21_3_readiness_is_assessed_by_the_operator_with_findings,
    agency_hierarchy_is_checked,
);

fn new_agency(code: &str) -> Value {
    json!({
        "code": code,
        "name": "Ban Quản lý các khu công nghiệp tỉnh",
        "parent": "000.00.00.H35",
        "kind": "department",
        "focal_officer": {
            "name": "Vũ Thị Mai",
            "title": "Chánh Văn phòng",
            "phone": "0226 3841 234",
            "email": "maivt@hanam.gov.vn"
        }
    })
}

async fn agency_count(app: &super::helpers::TestApp) -> usize {
    app.get("/api/v1/agencies", None)
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .len()
}

async fn q8_2_agency_cannot_be_saved_without_focal_officer_and_keeps_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let before = agency_count(&app).await;

    let mut without = new_agency("000.00.40.H35");
    without.as_object_mut().unwrap().remove("focal_officer");
    let response = app
        .send_json(Method::POST, "/api/v1/agencies", Some(&operator), &without)
        .await;
    let problem = assert_problem(response, 422, "invalid_body").await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("focal_officer"));
    assert_eq!(agency_count(&app).await, before, "nothing was saved");

    let response = app
        .send_json(
            Method::POST,
            "/api/v1/agencies",
            Some(&operator),
            &new_agency("000.00.40.H35"),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["location"],
        "/api/v1/agencies/000.00.40.H35"
    );
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["focal_officer"]["name"], "Vũ Thị Mai");

    let duplicate = app
        .send_json(
            Method::POST,
            "/api/v1/agencies",
            Some(&operator),
            &new_agency("000.00.40.H35"),
        )
        .await;
    assert_problem(duplicate, 409, "conflict").await;

    let new_officer = json!({
        "name": "Hoàng Văn Nam",
        "title": "Phó Chánh Văn phòng",
        "phone": "0226 3841 235",
        "email": "namhv@hanam.gov.vn"
    });
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/agencies/000.00.40.H35/focal-officer",
            Some(&operator),
            &new_officer,
        )
        .await;
    assert_eq!(response.status(), 200);
    let history: Vec<Value> = app
        .get("/api/v1/agencies/000.00.40.H35/focal-officer/history", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["officer"]["name"], "Hoàng Văn Nam");
    assert_eq!(history[0]["valid_to"], Value::Null);
    assert_eq!(history[0]["changed_by"], "operator");
    assert_eq!(history[1]["officer"]["name"], "Vũ Thị Mai");
    assert!(history[1]["valid_to"].is_string());

    // A focal officer with a broken e-mail is refused and the current one stays.
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/agencies/000.00.40.H35/focal-officer",
            Some(&operator),
            &json!({"name": "X", "title": "Y", "phone": "0226 3841 235", "email": "not-an-email"}),
        )
        .await;
    assert_problem(response, 422, "invalid_body").await;
    let agency: Value = app
        .get("/api/v1/agencies/000.00.40.H35", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agency["focal_officer"]["name"], "Hoàng Văn Nam");
    app.stop().await;
}

async fn q8_2_agencies_and_focal_officers_are_public(backend: Backend) {
    let app = spawn_app(backend).await;
    let agencies: Vec<Value> = app
        .get("/api/v1/agencies", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(agencies.len() >= 15, "the demo province has its agencies");
    for agency in &agencies {
        for field in ["name", "title", "phone", "email"] {
            assert!(
                agency["focal_officer"][field].is_string(),
                "{} has a focal officer {field}",
                agency["code"]
            );
        }
    }
    let response = app.get("/api/v1/agencies/999.99.99.H35", None).await;
    assert_problem(response, 404, "resource_not_found").await;
    let response = app.get("/api/v1/agencies/not%20a%20code", None).await;
    assert_problem(response, 400, "invalid_parameter").await;
    app.stop().await;
}

fn new_system(code: &str) -> Value {
    json!({
        "code": code,
        "name": "Hệ thống quản lý công chứng",
        "security_level": 3,
        "connection": {"model": "lgsp"},
        "base_url": "https://congchung.hanam.gov.vn",
        "health_url": "https://congchung.hanam.gov.vn/health"
    })
}

async fn q7_1_q9_q10_2_systems_record_connection_model_and_security_level(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await; // Sở Tư pháp
    let path = "/api/v1/agencies/000.00.03.H35/systems";

    let response = app
        .send_json(Method::POST, path, Some(&admin), &new_system("cong-chung"))
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["connection"]["model"], "lgsp");
    assert_eq!(created["security_level"], 3);
    assert_eq!(created["readiness"]["status"], "unassessed");

    let mut level_six = new_system("cap-sau");
    level_six["security_level"] = json!(6);
    let response = app
        .send_json(Method::POST, path, Some(&admin), &level_six)
        .await;
    let problem = assert_problem(response, 422, "invalid_body").await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("security level"));

    let mut other_without_description = new_system("kenh-khac");
    other_without_description["connection"] = json!({"model": "other"});
    let response = app
        .send_json(Method::POST, path, Some(&admin), &other_without_description)
        .await;
    assert_problem(response, 422, "invalid_body").await;

    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/agencies/000.00.03.H35/systems/cong-chung",
            Some(&admin),
            &json!({"connection": {"model": "other", "description": "Trục liên thông văn bản quốc gia"}, "health_url": null}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["connection"]["model"], "other");
    assert_eq!(
        updated["connection"]["description"],
        "Trục liên thông văn bản quốc gia"
    );
    assert_eq!(updated["health_url"], Value::Null);

    // The administrator of Sở Tư pháp cannot register systems for another agency.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/agencies/000.00.05.H35/systems",
            Some(&admin),
            &new_system("la"),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    let mine: Vec<Value> = app
        .get("/api/v1/systems?agency=000.00.03.H35", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.iter().any(|s| s["code"] == "cong-chung"));
    assert!(mine.iter().all(|s| s["agency"] == "000.00.03.H35"));
    app.stop().await;
}

async fn q21_3_readiness_is_assessed_by_the_operator_with_findings(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;
    let systems: Vec<Value> = app
        .get("/api/v1/agencies/000.00.03.H35/systems", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    let code = systems[0]["code"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/agencies/000.00.03.H35/systems/{code}/readiness");

    let response = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin),
            &json!({"status": "ready"}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    let response = app
        .send_json(
            Method::PUT,
            &path,
            Some(&operator),
            &json!({"status": "needs_upgrade", "findings": []}),
        )
        .await;
    assert_problem(response, 422, "invalid_body").await;

    let response = app
        .send_json(
            Method::PUT,
            &path,
            Some(&operator),
            &json!({"status": "needs_upgrade", "findings": ["Chưa hỗ trợ TLS 1.2", "Chưa có tài liệu OpenAPI"]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let assessed: Value = response.json().await.unwrap();
    assert_eq!(assessed["readiness"]["status"], "needs_upgrade");
    assert_eq!(
        assessed["readiness"]["findings"][1],
        "Chưa có tài liệu OpenAPI"
    );
    assert_eq!(assessed["readiness_assessed_by"], "operator");
    app.stop().await;
}

async fn agency_hierarchy_is_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;

    let mut orphan = new_agency("000.00.41.H35");
    orphan["parent"] = json!("000.00.98.H35");
    let response = app
        .send_json(Method::POST, "/api/v1/agencies", Some(&operator), &orphan)
        .await;
    assert_problem(response, 422, "missing_reference").await;

    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/agencies/000.00.00.H35",
            Some(&operator),
            &json!({"parent": "000.00.03.H35"}),
        )
        .await;
    assert_problem(response, 409, "conflict").await;

    // An agency administrator may rename its agency but not move it in the hierarchy.
    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/agencies/000.00.03.H35",
            Some(&admin),
            &json!({"parent": null}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;
    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/agencies/000.00.03.H35",
            Some(&admin),
            &json!({"name": "Sở Tư pháp tỉnh Hà Nam (đã cập nhật)"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let agency: Value = response.json().await.unwrap();
    assert_eq!(agency["parent"], "000.00.00.H35");
    app.stop().await;
}
