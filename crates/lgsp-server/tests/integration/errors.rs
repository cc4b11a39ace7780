//! Bad input gets an RFC 9457 problem with a stable code, and loses nothing.

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    broken_requests_get_problems_and_change_nothing,
    internal_failures_reveal_nothing,
);

async fn snapshot(app: &TestApp) -> Value {
    app.get("/api/v1/agencies", None)
        .await
        .json()
        .await
        .unwrap()
}

async fn broken_requests_get_problems_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let before = snapshot(&app).await;
    let post = |body: reqwest::Body, content_type: &'static str| {
        let request = app
            .http
            .post(app.url("/api/v1/agencies"))
            .bearer_auth(&operator)
            .header("content-type", content_type)
            .body(body);
        async move { request.send().await.unwrap() }
    };

    let malformed = post(
        r#"{"code": "000.00.50.H35", "name": "#.into(),
        "application/json",
    )
    .await;
    assert_problem(malformed, 400, "malformed_json").await;

    let wrong_type = post(
        r#"{"code": 50, "name": "X", "kind": "department", "focal_officer": {}}"#.into(),
        "application/json",
    )
    .await;
    let body = assert_problem(wrong_type, 422, "invalid_body").await;
    assert!(body["detail"].as_str().unwrap().contains("code"), "{body}");

    let unknown_field = post(
        r#"{"code": "000.00.50.H35", "name": "X", "kind": "department", "focal_oficer": {}}"#
            .into(),
        "application/json",
    )
    .await;
    let body = assert_problem(unknown_field, 422, "unknown_field").await;
    assert!(body["detail"].as_str().unwrap().contains("focal_oficer"));

    let bad_kind = post(
        r#"{"code": "000.00.50.H35", "name": "X", "kind": "ministry", "focal_officer": {"name":"A","title":"B","phone":"0226 3000 000","email":"a@hanam.gov.vn"}}"#.into(),
        "application/json",
    )
    .await;
    assert_problem(bad_kind, 422, "invalid_body").await;

    let not_json = post("code=1".into(), "application/x-www-form-urlencoded").await;
    assert_problem(not_json, 415, "unsupported_media_type").await;

    let oversized = post(
        format!(r#"{{"name": "{}"}}"#, "a".repeat(2 * 1024 * 1024)).into(),
        "application/json",
    )
    .await;
    assert_problem(oversized, 413, "payload_too_large").await;

    let unknown_route = app.get("/api/v1/nothing-here", Some(&operator)).await;
    assert_problem(unknown_route, 404, "not_found").await;

    let wrong_method = app
        .http
        .delete(app.url("/api/v1/agencies"))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_problem(wrong_method, 405, "method_not_allowed").await;

    let no_credentials = app
        .send_json(Method::POST, "/api/v1/agencies", None, &json!({}))
        .await;
    assert_problem(no_credentials, 401, "authentication_required").await;

    let bad_query = app
        .get("/api/v1/systems?agency=a%20b", Some(&operator))
        .await;
    assert_problem(bad_query, 400, "invalid_parameter").await;
    let unknown_query = app.get("/api/v1/systems?agncy=x", Some(&operator)).await;
    assert_problem(unknown_query, 400, "invalid_parameter").await;

    assert_eq!(snapshot(&app).await, before, "no request changed anything");
    app.stop().await;
}

async fn internal_failures_reveal_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    // Storage goes away under the running server.
    app.state.store.close().await;
    let response = app.get("/api/v1/agencies", None).await;
    let body = assert_problem(response, 500, "internal_error").await;
    let text = body.to_string().to_lowercase();
    assert!(body.get("detail").is_none(), "{body}");
    for leak in ["sqlx", "pool", "sqlite", "postgres", "closed"] {
        assert!(!text.contains(leak), "{text} mentions {leak}");
    }
    let response = app.get("/readyz", None).await;
    assert_problem(response, 503, "storage_unavailable").await;
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    app.stop().await;
}
