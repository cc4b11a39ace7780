//! Services behind the gateway: registration, lifecycle, public connection guides (Q8.1) and
//! the conformance check against real upstreams (Q7.2, Q21.3).

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q8_1_connection_guide_and_openapi_are_public_once_published,
    q7_2_registration_refuses_bad_input_and_changes_nothing,
    q7_2_lifecycle_steps_in_order_and_only_drafts_are_edited,
    q7_2_q21_3_conformance_check_calls_the_real_upstream,
    q8_1_q15_1_c_console_registers_publishes_checks_and_suspends_with_a_reason,
);

/// Sở Tư pháp, the demo agency administrator's agency.
pub const JUSTICE: &str = "000.00.03.H35";

pub fn openapi(path: &str) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Tra cứu khai sinh", "version": "1.0.0"},
        "paths": {
            path: {"get": {"responses": {"200": {"description": "Thông tin khai sinh"}}}},
            "/khai-sinh/{so}": {"get": {"responses": {"200": {"description": "Một bản ghi"}}}}
        }
    })
}

pub const GUIDE: &str = "# Kết nối dịch vụ tra cứu khai sinh\n\n\
    1. Đăng ký tài khoản kết nối (client) cho hệ thống của cơ quan.\n\
    2. Lấy token: `POST /oauth/token` với `grant_type=client_credentials`.\n\
    3. Gọi `GET /x/000.00.03.H35/ho-tich/tra-cuu-khai-sinh/v1/khai-sinh?so=…` kèm `LGSP-Purpose: TTHC`.";

/// A registration of `system` of Sở Tư pháp with its upstream at `upstream`.
pub fn service_body(system: &str, code: &str, upstream: &str, mode: &str) -> Value {
    json!({
        "agency": JUSTICE,
        "system": system,
        "code": code,
        "version": "v1",
        "name": "Tra cứu thông tin khai sinh",
        "upstream_url": upstream,
        "methods": ["GET"],
        "openapi": openapi("/khai-sinh"),
        "shareable_fields": ["/ho_ten", "/ngay_sinh", "/noi_sinh"],
        "sharing_mode": mode,
        "docs": GUIDE
    })
}

/// Registers a service and returns its id.
pub async fn register(app: &TestApp, token: &str, body: &Value) -> i64 {
    let response = app
        .send_json(Method::POST, "/api/v1/services", Some(token), body)
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let created: Value = response.json().await.unwrap();
    created["id"].as_i64().unwrap()
}

pub async fn step(app: &TestApp, token: &str, id: i64, step: &str) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/services/{id}/{step}"),
        Some(token),
        &json!({}),
    )
    .await
}

async fn q8_1_connection_guide_and_openapi_are_public_once_published(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let body = service_body(
        "ho-tich",
        "tra-cuu-khai-sinh",
        "https://hotich.stp.hanam.gov.vn/lgsp",
        "on_request",
    );
    let id = register(&app, &admin, &body).await;
    let service: Value = app
        .get(&format!("/api/v1/services/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(service["state"], "draft");
    assert_eq!(service["provider"]["agency"], JUSTICE);
    assert_eq!(
        service["gateway_path"],
        format!("/x/{JUSTICE}/ho-tich/tra-cuu-khai-sinh/v1/")
    );
    assert_eq!(service["history"][0]["to_state"], "draft");

    // A draft is the provider's: the public does not see it, nor its guide.
    for path in [
        format!("/api/v1/services/{id}"),
        format!("/api/v1/services/{id}/docs"),
        format!("/api/v1/services/{id}/openapi.json"),
    ] {
        assert_problem(app.get(&path, None).await, 404, "resource_not_found").await;
    }
    let public: Vec<Value> = app
        .get("/api/v1/services", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(public.iter().all(|s| s["id"] != id));
    assert_eq!(
        app.get(&format!("/services/{id}"), None).await.status(),
        404
    );

    let response = step(&app, &admin, id, "publish").await;
    assert_eq!(response.status(), 200);
    let published: Value = response.json().await.unwrap();
    assert_eq!(published["state"], "published");
    assert!(published["published_at"].is_string());

    // Published: the guide and the OpenAPI document are public (Q8.1, Q12).
    let docs = app.get(&format!("/api/v1/services/{id}/docs"), None).await;
    assert_eq!(docs.status(), 200);
    assert_eq!(docs.headers()[CONTENT_TYPE], "text/markdown; charset=utf-8");
    assert_eq!(docs.text().await.unwrap(), GUIDE);
    let document: Value = app
        .get(&format!("/api/v1/services/{id}/openapi.json"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(document, openapi("/khai-sinh"));
    let public: Vec<Value> = app
        .get("/api/v1/services?state=published", None)
        .await
        .json()
        .await
        .unwrap();
    let listed = public.iter().find(|s| s["id"] == id).expect("listed");
    assert_eq!(listed["docs"], GUIDE);
    assert_eq!(
        listed["openapi_url"],
        format!("/api/v1/services/{id}/openapi.json")
    );

    // The portal lists it and shows the guide to anyone.
    let page = app.get("/services", None).await.text().await.unwrap();
    assert!(page.contains("Tra cứu thông tin khai sinh"), "{page}");
    assert!(page.contains(&format!("/services/{id}")));
    let page = app
        .get(&format!("/services/{id}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Kết nối dịch vụ tra cứu khai sinh"));
    assert!(page.contains("LGSP-Purpose: TTHC"));
    assert!(page.contains(&format!("/x/{JUSTICE}/ho-tich/tra-cuu-khai-sinh/v1/")));
    assert!(page.contains("Sở Tư pháp tỉnh Hà Nam"));
    app.stop().await;
}

async fn service_count(app: &TestApp, token: &str) -> usize {
    app.get(&format!("/api/v1/services?agency={JUSTICE}"), Some(token))
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .len()
}

async fn q7_2_registration_refuses_bad_input_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let good = service_body(
        "ho-tich",
        "tra-cuu-khai-sinh",
        "https://hotich.stp.hanam.gov.vn/lgsp",
        "on_request",
    );
    let post = |body: Value, token: String| {
        let app = &app;
        async move {
            app.send_json(Method::POST, "/api/v1/services", Some(&token), &body)
                .await
        }
    };

    // Upstreams on any other origin than the system's are refused: no open proxy.
    for upstream in [
        "https://hotich.stp.hanam.gov.vn.example.com/lgsp",
        "http://hotich.stp.hanam.gov.vn/lgsp",
        "https://hotich.stp.hanam.gov.vn:8443/lgsp",
        "https://lltp.stp.hanam.gov.vn/lgsp",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:5432/",
    ] {
        let mut body = good.clone();
        body["upstream_url"] = json!(upstream);
        let problem =
            assert_problem(post(body, admin.clone()).await, 422, "upstream_not_allowed").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("https://hotich.stp.hanam.gov.vn:443"),
            "{problem}"
        );
    }

    // Invalid OpenAPI documents, each refused naming the problem.
    for (change, named) in [
        (json!({"openapi": "2.0"}), "`openapi`"),
        (json!({"info": {"version": "1"}}), "`info.title`"),
        (json!({"paths": ["/khai-sinh"]}), "`paths`"),
    ] {
        let mut body = good.clone();
        for (key, value) in change.as_object().unwrap() {
            body["openapi"][key] = value.clone();
        }
        let problem = assert_problem(post(body, admin.clone()).await, 422, "invalid_openapi").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(named),
            "{problem}"
        );
    }
    let mut body = good.clone();
    body["openapi"] = json!("not a document");
    assert_problem(post(body, admin.clone()).await, 422, "invalid_openapi").await;

    // Shareable fields are RFC 6901 pointers.
    for bad in [
        json!(["ho_ten"]),
        json!(["/ho~2ten"]),
        json!([]),
        json!(["/a", "/a"]),
    ] {
        let mut body = good.clone();
        body["shareable_fields"] = bad.clone();
        let problem = assert_problem(post(body, admin.clone()).await, 422, "invalid_body").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("shareable_fields"),
            "{bad}: {problem}"
        );
    }
    for (field, value) in [
        ("code", json!("Tra_Cuu")),
        ("version", json!("1.0")),
        ("methods", json!([])),
        ("sharing_mode", json!("free")),
        ("docs", json!("  ")),
    ] {
        let mut body = good.clone();
        body[field] = value;
        let problem = assert_problem(post(body, admin.clone()).await, 422, "invalid_body").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{field}: {problem}"
        );
    }

    // Another agency's system is not this administrator's to expose.
    let mut body = good.clone();
    body["agency"] = json!("000.00.05.H35");
    body["system"] = json!("tai-san-cong");
    body["upstream_url"] = json!("https://taisan.stp.hanam.gov.vn/");
    assert_problem(post(body.clone(), admin.clone()).await, 403, "forbidden").await;
    // An unknown system, and state secrets (Q1.2).
    let mut unknown = good.clone();
    unknown["system"] = json!("khong-co");
    assert_problem(post(unknown, admin.clone()).await, 422, "missing_reference").await;
    let mut secret = good.clone();
    secret["classification"] = json!("mat");
    assert_problem(
        post(secret, admin.clone()).await,
        422,
        "state_secret_not_allowed",
    )
    .await;
    // Without credentials nothing happens at all.
    assert_problem(
        app.send_json(Method::POST, "/api/v1/services", None, &good)
            .await,
        401,
        "authentication_required",
    )
    .await;
    let citizen = app.token("citizen").await;
    assert_problem(post(good.clone(), citizen).await, 403, "forbidden").await;

    assert_eq!(
        service_count(&app, &operator).await,
        0,
        "nothing was stored"
    );
    // The operator registers on the agency's behalf; the same code and version again conflict.
    register(&app, &operator, &good).await;
    assert_problem(post(good.clone(), admin.clone()).await, 409, "conflict").await;
    assert_eq!(service_count(&app, &operator).await, 1);
    app.stop().await;
}

async fn state_of(app: &TestApp, token: &str, id: i64) -> String {
    app.get(&format!("/api/v1/services/{id}"), Some(token))
        .await
        .json::<Value>()
        .await
        .unwrap()["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn q7_2_lifecycle_steps_in_order_and_only_drafts_are_edited(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let body = service_body(
        "ho-tich",
        "tra-cuu-khai-sinh",
        "https://hotich.stp.hanam.gov.vn/lgsp",
        "default",
    );
    let id = register(&app, &admin, &body).await;

    // A draft can be edited (PUT replaces the registration).
    let mut edited = body.clone();
    edited["name"] = json!("Tra cứu khai sinh (bản sửa)");
    edited.as_object_mut().unwrap().remove("agency");
    edited.as_object_mut().unwrap().remove("system");
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/services/{id}"),
            Some(&admin),
            &edited,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["name"],
        "Tra cứu khai sinh (bản sửa)"
    );
    let mut moved = edited.clone();
    moved["system"] = json!("ly-lich-tu-phap");
    assert_problem(
        app.send_json(
            Method::PUT,
            &format!("/api/v1/services/{id}"),
            Some(&admin),
            &moved,
        )
        .await,
        422,
        "invalid_body",
    )
    .await;

    // Wrong steps: 409, nothing moves.
    for wrong in ["deprecate", "retire"] {
        let problem = assert_problem(
            step(&app, &admin, id, wrong).await,
            409,
            "invalid_transition",
        )
        .await;
        assert!(problem["detail"].as_str().unwrap().contains("draft"));
    }
    assert_eq!(state_of(&app, &admin, id).await, "draft");
    // Another agency's administrator may not move it (the operator may).
    let auditor = app.token("auditor").await;
    assert_problem(step(&app, &auditor, id, "publish").await, 403, "forbidden").await;

    assert_eq!(step(&app, &admin, id, "publish").await.status(), 200);
    assert_problem(
        step(&app, &admin, id, "publish").await,
        409,
        "invalid_transition",
    )
    .await;
    // Published: the registration is fixed.
    assert_problem(
        app.send_json(
            Method::PUT,
            &format!("/api/v1/services/{id}"),
            Some(&admin),
            &edited,
        )
        .await,
        409,
        "not_editable",
    )
    .await;
    let operator = app.token("operator").await;
    assert_eq!(step(&app, &operator, id, "deprecate").await.status(), 200);
    assert_eq!(step(&app, &admin, id, "retire").await.status(), 200);
    assert_problem(
        step(&app, &admin, id, "publish").await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(state_of(&app, &admin, id).await, "retired");
    let detail: Value = app
        .get(&format!("/api/v1/services/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["register", "edit", "publish", "deprecate", "retire"]
    );
    assert_eq!(detail["history"][3]["actor"], "operator");
    app.stop().await;
}

/// A small provider system on 127.0.0.1:0: `/health`, and `/api/khai-sinh` answering JSON in
/// UTF-8 (`good`) or an HTML page in Latin-1 (not `good`).
async fn upstream(good: bool) -> String {
    let answer = move || async move {
        if good {
            (
                [(CONTENT_TYPE, "application/json; charset=utf-8")],
                "{\"ho_ten\":\"Nguyễn Văn An\",\"noi_sinh\":\"Phủ Lý\"}"
                    .as_bytes()
                    .to_vec(),
            )
        } else {
            (
                [(CONTENT_TYPE, "text/html; charset=ISO-8859-1")],
                b"<html><body>H\xe0 Nam</body></html>".to_vec(),
            )
        }
    };
    let router = axum::Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/api/khai-sinh", get(answer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

/// Registers a system of Sở Tư pháp at `base` and a published service on it.
async fn system_with_service(app: &TestApp, admin: &str, code: &str, base: &str) -> i64 {
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/agencies/{JUSTICE}/systems"),
            Some(admin),
            &json!({
                "code": code,
                "name": "Hệ thống thử nghiệm kết nối",
                "security_level": 2,
                "connection": {"model": "lgsp"},
                "base_url": base,
                "health_url": format!("{base}/health")
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let mut body = service_body(code, "khai-sinh", &format!("{base}/api"), "on_request");
    body["openapi"] = openapi("/khai-sinh");
    register(app, admin, &body).await
}

async fn readiness(app: &TestApp, token: &str, system: &str) -> Value {
    app.get(
        &format!("/api/v1/agencies/{JUSTICE}/systems/{system}"),
        Some(token),
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["readiness"]
        .clone()
}

fn result<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == check)
        .unwrap_or_else(|| panic!("{check} in {report}"))
}

async fn q7_2_q21_3_conformance_check_calls_the_real_upstream(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let good = system_with_service(&app, &admin, "thu-nghiem-tot", &upstream(true).await).await;
    let bad = system_with_service(&app, &admin, "thu-nghiem-loi", &upstream(false).await).await;
    assert_eq!(
        readiness(&app, &admin, "thu-nghiem-tot").await["status"],
        "unassessed"
    );

    let run = |id: i64, token: String| {
        let app = &app;
        async move {
            app.send_json(
                Method::POST,
                &format!("/api/v1/services/{id}/conformance"),
                Some(&token),
                &json!({}),
            )
            .await
        }
    };
    let response = run(good, admin.clone()).await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    // Everything answers as it should; plain HTTP is the one finding (Q10.1).
    for check in ["health", "openapi", "json", "utf8", "latency"] {
        assert_eq!(result(&report, check)["passed"], true, "{check}: {report}");
    }
    assert_eq!(result(&report, "tls")["passed"], false);
    assert!(report["latency_ms"].as_i64().unwrap() < 2000);
    assert_eq!(report["passed"], false);
    assert_eq!(report["readiness"]["status"], "needs_upgrade");
    assert_eq!(report["readiness"]["findings"].as_array().unwrap().len(), 1);
    let stored = readiness(&app, &admin, "thu-nghiem-tot").await;
    assert_eq!(
        stored, report["readiness"],
        "the system's readiness follows the check"
    );

    let report: Value = run(bad, admin.clone()).await.json().await.unwrap();
    assert_eq!(result(&report, "health")["passed"], true);
    let json_result = result(&report, "json");
    assert_eq!(json_result["passed"], false);
    assert!(json_result["detail"]
        .as_str()
        .unwrap()
        .contains("text/html"));
    let utf8 = result(&report, "utf8");
    assert_eq!(utf8["passed"], false);
    assert!(utf8["detail"].as_str().unwrap().contains("iso-8859-1"));
    let findings = readiness(&app, &admin, "thu-nghiem-loi").await["findings"].clone();
    let findings: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(findings.len(), 3, "{findings:?}");
    assert!(findings
        .iter()
        .any(|f| f.starts_with("Dữ liệu trả về dạng JSON")));
    assert!(findings.iter().any(|f| f.starts_with("Bảng mã UTF-8")));

    // The newest result is kept; another agency may not run the check.
    let latest: Value = app
        .get(&format!("/api/v1/services/{bad}/conformance"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(latest["id"], report["id"]);
    let auditor = app.token("auditor").await;
    assert_problem(run(bad, auditor).await, 403, "forbidden").await;

    // A provider system that stops answering is found out too.
    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/agencies/{JUSTICE}/systems/thu-nghiem-tot"),
            Some(&admin),
            &json!({"health_url": null}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let report: Value = run(good, admin.clone()).await.json().await.unwrap();
    assert_eq!(result(&report, "health")["passed"], false);
    app.stop().await;
}

async fn q8_1_q15_1_c_console_registers_publishes_checks_and_suspends_with_a_reason(
    backend: Backend,
) {
    use super::web::{browser, csrf_field, sign_in};
    let app = spawn_app(backend).await;
    let admin_token = app.token("agency-admin").await;
    let base = upstream(true).await;
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/agencies/{JUSTICE}/systems"),
            Some(&admin_token),
            &json!({
                "code": "thu-nghiem", "name": "Hệ thống thử nghiệm", "security_level": 2,
                "connection": {"model": "lgsp"}, "base_url": base,
                "health_url": format!("{base}/health")
            }),
        )
        .await;
    assert_eq!(response.status(), 201);

    let citizen = browser(&app);
    sign_in(&app, &citizen, "citizen").await;
    let page = citizen
        .get(app.url("/console/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);

    let web = browser(&app);
    assert_eq!(sign_in(&app, &web, "agency-admin").await.status(), 303);
    let page = web
        .get(app.url("/console"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/console/services") && page.contains("/console/grants"));
    let page = web.get(app.url("/console/services")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Đăng ký dịch vụ mới"));
    assert!(page.contains(&format!("value=\"{JUSTICE}/thu-nghiem\"")));
    let csrf = csrf_field(&page);
    let openapi = openapi("/khai-sinh").to_string();
    let form = |upstream: String, csrf: String| {
        vec![
            ("csrf", csrf),
            ("system", format!("{JUSTICE}/thu-nghiem")),
            ("name", "Tra cứu khai sinh thử nghiệm".to_owned()),
            ("code", "khai-sinh".to_owned()),
            ("version", "v1".to_owned()),
            ("upstream_url", upstream),
            ("method_get", "on".to_owned()),
            ("sharing_mode", "on_request".to_owned()),
            ("shareable_fields", "/ho_ten\n/noi_sinh\n".to_owned()),
            ("openapi", openapi.clone()),
            ("docs", GUIDE.to_owned()),
        ]
    };

    // A forged token changes nothing; an upstream elsewhere is refused in Vietnamese, the
    // form keeps what was typed.
    let forged = web
        .post(app.url("/console/services"))
        .form(&form(format!("{base}/api"), "forged".into()))
        .send()
        .await
        .unwrap();
    assert_problem(forged, 403, "csrf_token_invalid").await;
    let refused = web
        .post(app.url("/console/services"))
        .form(&form("https://example.com/api".into(), csrf.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("phải nằm trên đúng máy chủ"), "{page}");
    assert!(page.contains("Tra cứu khai sinh thử nghiệm"));
    assert_eq!(service_count(&app, &admin_token).await, 0);

    let created = web
        .post(app.url("/console/services"))
        .form(&form(format!("{base}/api"), csrf.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let page = web
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Bản nháp") && page.contains("id=\"buoc-publish\""));
    assert!(page.contains("Dịch vụ chưa được kiểm tra"));

    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let web = &web;
        let url = app.url(&path);
        async move { web.post(url).form(&fields).send().await.unwrap() }
    };
    let published = post(
        format!("/console/services/{id}/step"),
        vec![("csrf", csrf.clone()), ("step", "publish".into())],
    )
    .await;
    assert_eq!(published.status(), 303);
    let again = post(
        format!("/console/services/{id}/step"),
        vec![("csrf", csrf.clone()), ("step", "publish".into())],
    )
    .await;
    assert_eq!(again.status(), 409);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("Không thể thực hiện bước này"));
    let checked = post(
        format!("/console/services/{id}/conformance"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(checked.status(), 303);
    let page = web
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Đã công bố"));
    assert!(page.contains("id=\"ket-qua-kiem-tra\""));
    assert!(page.contains("Chưa đạt") && page.contains("Dịch vụ dùng http://"));

    // Grants: the provider suspends with a reason; without one nothing changes.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/grants",
            Some(&admin_token),
            &json!({
                "consumer": {"agency": "000.00.01.H35", "code": "thu-tuc-hanh-chinh"},
                "target": {"kind": "service", "id": id},
                "fields": ["/ho_ten"],
                "purposes": ["TTHC"]
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let grant = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let page = web
        .get(app.url("/console/grants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("id=\"tam-dung-{grant}\"")));
    let step = |name: &'static str, reason: &'static str| {
        post(
            format!("/console/grants/{grant}/step"),
            vec![
                ("csrf", csrf.clone()),
                ("step", name.into()),
                ("reason", reason.into()),
            ],
        )
    };
    let refused = step("suspend", "  ").await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Thông tin nhập chưa hợp lệ"));
    let status = || async {
        app.get(&format!("/api/v1/grants/{grant}"), Some(&admin_token))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status().await, "active");
    assert_eq!(step("suspend", "Bảo trì máy chủ").await.status(), 303);
    let page = web
        .get(app.url("/console/grants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Tạm dừng") && page.contains("Lý do: Bảo trì máy chủ"));
    assert!(page.contains(&format!("id=\"khoi-phuc-{grant}\"")));
    assert_eq!(step("terminate", "Chấm dứt thỏa thuận").await.status(), 303);
    assert_eq!(step("resume", "").await.status(), 409);
    assert_eq!(status().await, "terminated");
    let page = web
        .get(app.url("/console/grants"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Đã chấm dứt") && !page.contains(&format!("id=\"khoi-phuc-{grant}\"")));
    app.stop().await;
}
