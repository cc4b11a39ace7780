//! The exchange gateway against a real provider: an axum server on 127.0.0.1:0 registered as
//! the provider system. Grants decide (Q13.1), only granted fields leave (Q8.4–Q8.5), answers
//! carry provenance (Q14), a digest and the platform's signature (Q4, Q6.4), failures and
//! limits have their problems (Q6.5), and every exchange is a proven leaf of the log (Q6.2).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use lgsp_core::http_signature::{Component, HttpMessage, LABEL};
use lgsp_server::settings::Settings;
use lgsp_server::signatures::{check_content_digest, jwk_verifying_key, verify};
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app_with, Backend, TestApp};
use super::services::{openapi, register, step, GUIDE, JUSTICE};
use super::transparency::proven_entry;

on_both_backends!(
    q8_5_q14_q6_4_exchange_returns_granted_fields_signed_with_provenance_and_a_proven_leaf,
    q13_1_refusals_have_stable_codes_and_are_logged,
    q15_1_c_suspension_and_termination_take_effect_on_the_next_request,
    q6_5_quota_per_grant_answers_429,
    q15_1_c_changes_made_on_another_node_count_from_the_next_request,
    q6_5_quota_leases_never_serve_more_than_the_quota_across_nodes,
    q6_5_upstream_failures_and_size_limits_are_problems,
    q13_3_hosted_dataset_reads_go_through_a_grant,
    q15_2_e_console_lists_the_agency_exchanges_and_metrics_count_them,
    q15_2_e_system_reads_of_open_datasets_are_logged,
    q15_2_e_refused_system_reads_of_datasets_are_logged,
    q15_1_c_maintenance_of_an_open_dataset_answers_systems_503_and_citizens_keep_reading,
);

/// The provider's system in the stories: Sở Tư pháp's civil-status look-up.
pub(super) const SYSTEM: &str = "ho-tich-gw";

/// Short limits so the failure stories run fast.
fn limits(settings: &mut Settings) {
    settings.gateway_timeout_millis = 1_000;
    settings.gateway_connect_timeout_millis = 1_000;
    settings.gateway_max_request_bytes = 1024;
    settings.gateway_max_response_bytes = 64 * 1024;
}

/// One request as the provider received it: header fields, URI and body.
type Received = (HeaderMap, String, Vec<u8>);

/// What the provider received.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Received>>>);

impl Seen {
    fn last(&self) -> Received {
        self.0.lock().unwrap().last().cloned().expect("a request")
    }
}

pub fn birth_record() -> Value {
    json!({
        "so": "123",
        "ho_ten": "Nguyễn Văn An",
        "ngay_sinh": "2001-02-03",
        "noi_sinh": {"tinh": "Hà Nam", "xa": "Liêm Chính"},
        "so_cccd": "035201001234"
    })
}

/// The provider: `/api/khai-sinh/{so}` (JSON with `Last-Modified`), `/api/cham` (too slow),
/// `/api/lon` (too large), `/api/van-ban` (plain text), `/api/nop` (POST echo).
pub async fn provider() -> (String, Seen) {
    let seen = Seen::default();
    let record = seen.clone();
    let echo = seen.clone();
    let router = axum::Router::new()
        .route(
            "/api/khai-sinh/{so}",
            get(move |headers: HeaderMap, uri: axum::http::Uri| {
                let record = record.clone();
                async move {
                    record
                        .0
                        .lock()
                        .unwrap()
                        .push((headers, uri.to_string(), Vec::new()));
                    (
                        [
                            ("content-type", "application/json"),
                            ("last-modified", "Tue, 01 Sep 2026 08:00:00 GMT"),
                            ("etag", "\"upstream\""),
                        ],
                        birth_record().to_string(),
                    )
                }
            }),
        )
        .route(
            "/api/cham",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                axum::Json(json!({"ho_ten": "muộn"}))
            }),
        )
        .route(
            "/api/lon",
            get(|| async {
                let big: Vec<Value> = (0..5000)
                    .map(|i| json!({"ho_ten": format!("Người số {i}"), "so_cccd": "0"}))
                    .collect();
                axum::Json(json!({ "ho_ten": big }))
            }),
        )
        .route(
            "/api/van-ban",
            get(|| async { ([("content-type", "text/plain")], "không phải JSON") }),
        )
        .route(
            "/api/nop",
            post(
                move |headers: HeaderMap, uri: axum::http::Uri, body: axum::body::Bytes| {
                    let echo = echo.clone();
                    async move {
                        echo.0
                            .lock()
                            .unwrap()
                            .push((headers, uri.to_string(), body.to_vec()));
                        (
                            axum::http::StatusCode::CREATED,
                            [("content-type", "application/json")],
                            body,
                        )
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}"), seen)
}

/// A provider system of Sở Tư pháp at `base` with a published service `code` on `{base}/api`.
pub async fn provider_service(app: &TestApp, admin: &str, system: &str, base: &str, code: &str) {
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/agencies/{JUSTICE}/systems"),
            Some(admin),
            &json!({
                "code": system,
                "name": "Hệ thống hộ tịch (thử nghiệm cổng)",
                "security_level": 2,
                "connection": {"model": "lgsp"},
                "base_url": base,
                "health_url": format!("{base}/health")
            }),
        )
        .await;
    assert!(
        response.status() == 201 || response.status() == 409,
        "{}",
        response.status()
    );
    let id = register(
        app,
        admin,
        &json!({
            "agency": JUSTICE,
            "system": system,
            "code": code,
            "version": "v1",
            "name": "Tra cứu thông tin khai sinh",
            "upstream_url": format!("{base}/api"),
            "methods": ["GET", "POST"],
            "openapi": openapi("/khai-sinh"),
            "shareable_fields": ["/ho_ten", "/ngay_sinh", "/noi_sinh"],
            "sharing_mode": "on_request",
            "docs": GUIDE
        }),
    )
    .await;
    assert_eq!(step(app, admin, id, "publish").await.status(), 200);
}

/// Grants the first demo client's system `fields` of service `code`; returns the grant's id.
pub async fn grant(app: &TestApp, admin: &str, code: &str, fields: Value, per_minute: u32) -> i64 {
    let services: Vec<Value> = app
        .get(&format!("/api/v1/services?agency={JUSTICE}"), Some(admin))
        .await
        .json()
        .await
        .unwrap();
    let service = services
        .iter()
        .find(|s| s["code"] == code)
        .unwrap_or_else(|| panic!("service {code} in {services:?}"));
    grant_on(
        app,
        admin,
        json!({"kind": "service", "id": service["id"]}),
        fields,
        per_minute,
    )
    .await
}

pub(super) async fn grant_on(
    app: &TestApp,
    admin: &str,
    target: Value,
    fields: Value,
    per_minute: u32,
) -> i64 {
    let consumer = &app.credentials.clients[0];
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/grants",
            Some(admin),
            &json!({
                "consumer": {"agency": consumer.agency, "code": consumer.system},
                "target": target,
                "fields": fields,
                "purposes": ["TTHC"],
                "valid_until": "2099-01-01T00:00:00Z",
                "per_minute": per_minute
            }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

pub(super) fn path(code: &str, rest: &str) -> String {
    format!("/x/{JUSTICE}/{SYSTEM}/{code}/v1{rest}")
}

pub(super) async fn call(
    app: &TestApp,
    token: &str,
    url: &str,
    purpose: Option<&str>,
) -> reqwest::Response {
    let mut request = app.http.get(app.url(url)).bearer_auth(token);
    if let Some(purpose) = purpose {
        request = request.header("lgsp-purpose", purpose);
    }
    request.send().await.unwrap()
}

async fn jwks(app: &TestApp) -> Value {
    app.get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap()
}

fn key_for(jwks: &Value) -> impl Fn(&str) -> Option<ed25519_dalek::VerifyingKey> + '_ {
    move |kid: &str| {
        jwks["keys"]
            .as_array()?
            .iter()
            .find(|k| k["kid"] == kid)
            .and_then(jwk_verifying_key)
    }
}

/// Checks an answer's `Content-Digest` and RFC 9421 signature with the JWKS key: one label,
/// `created`/`keyid`/`alg` only, covering `@status`, `content-digest` and every `lgsp-*` field.
pub fn assert_signed(jwks: &Value, status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) {
    let text = |name: &str| headers[name].to_str().unwrap().to_owned();
    check_content_digest(&text("content-digest"), body).expect("the digest matches the body");
    let input = text("signature-input");
    assert!(
        input.starts_with("sig1=(\"@status\" \"content-digest\""),
        "{input}"
    );
    assert!(
        input.contains(";created=")
            && input.contains(";keyid=")
            && input.ends_with(";alg=\"ed25519\""),
        "{input}"
    );
    let mut message = HttpMessage::response(status);
    for (name, value) in headers {
        message = message.with_field(name.as_str(), value.to_str().unwrap());
    }
    let verified = verify(&message, &input, &text("signature"), LABEL, key_for(jwks))
        .expect("the answer's signature verifies with the JWKS key");
    for name in headers.keys().filter(|n| n.as_str().starts_with("lgsp-")) {
        assert!(
            verified.covers(&Component::field(name.as_str()).unwrap()),
            "{name} is signed"
        );
    }
    let tampered = HttpMessage::response(if status == 200 { 201 } else { 200 });
    let mut tampered = tampered;
    for (name, value) in headers {
        tampered = tampered.with_field(name.as_str(), value.to_str().unwrap());
    }
    assert!(verify(&tampered, &input, &text("signature"), LABEL, key_for(jwks)).is_err());
}

/// A GET sent byte for byte as given (no client-side normalisation of the path); returns the
/// status and the body.
async fn raw_get(app: &TestApp, target: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         LGSP-Purpose: TTHC\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer[9..12].parse().unwrap();
    (status, answer)
}

fn log_index(response: &reqwest::Response) -> u64 {
    response.headers()["lgsp-log-index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn q8_5_q14_q6_4_exchange_returns_granted_fields_signed_with_provenance_and_a_proven_leaf(
    backend: Backend,
) {
    let app = spawn_app_with(backend, limits).await;
    let admin = app.token("agency-admin").await;
    let (base, seen) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    grant(
        &app,
        &admin,
        "khai-sinh",
        json!(["/ho_ten", "/noi_sinh/tinh"]),
        100,
    )
    .await;
    let (client_id, token) = app.client_token().await;
    let jwks = jwks(&app).await;

    let response = app
        .http
        .get(app.url(&path("khai-sinh", "/khai-sinh/123?chi_tiet=1")))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .header("lgsp-request-id", "yeu-cau-0001")
        .header("lgsp-subject", "035201001234")
        .header("lgsp-consumer", "gia-mao")
        .header("cookie", "lgsp_session=bi-mat")
        .header("connection", "keep-alive, x-rieng")
        .header("x-rieng", "chi-mot-chang")
        .header("x-tra-cuu", "giu-lai")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let index = log_index(&response);
    let body = response.bytes().await.unwrap();
    // Only the granted fields, nested ones picked out (Q8.5).
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        answer,
        json!({"ho_ten": "Nguyễn Văn An", "noi_sinh": {"tinh": "Hà Nam"}})
    );
    // Provenance (Q14).
    assert!(headers["lgsp-source"]
        .to_str()
        .unwrap()
        .starts_with(&format!("{JUSTICE}; name*=UTF-8''")));
    assert_eq!(headers["last-modified"], "Tue, 01 Sep 2026 08:00:00 GMT");
    assert!(headers.contains_key("lgsp-retrieved-at"));
    assert!(headers["lgsp-citation"]
        .to_str()
        .unwrap()
        .starts_with("UTF-8''"));
    assert_eq!(headers["lgsp-request-id"], "yeu-cau-0001");
    assert!(
        !headers.contains_key("etag"),
        "the upstream's ETag named another body"
    );
    // Digest and signature (Q4, Q6.4).
    assert_signed(&jwks, 200, &headers, &body);

    // The provider got the platform's fields, signed, and none of the client's credentials.
    let (received, uri, _) = seen.last();
    assert_eq!(uri, "/api/khai-sinh/123?chi_tiet=1");
    for gone in ["authorization", "cookie", "x-rieng", "keep-alive"] {
        assert!(!received.contains_key(gone), "{gone} was forwarded");
    }
    assert_eq!(received["x-tra-cuu"], "giu-lai");
    let consumer = &app.credentials.clients[0];
    assert_eq!(
        received["lgsp-consumer"],
        format!("{}/{}", consumer.agency, consumer.system).as_str()
    );
    assert_eq!(received["lgsp-purpose"], "TTHC");
    assert_eq!(received["lgsp-request-id"], "yeu-cau-0001");
    let mut message = HttpMessage::request("GET", &format!("{base}/api/khai-sinh/123?chi_tiet=1"));
    for (name, value) in &received {
        message = message.with_field(name.as_str(), value.to_str().unwrap());
    }
    let input = received["signature-input"].to_str().unwrap();
    let verified = verify(
        &message,
        input,
        received["signature"].to_str().unwrap(),
        LABEL,
        key_for(&jwks),
    )
    .expect("the provider verifies the platform's request signature");
    for component in [
        "@method",
        "@target-uri",
        "lgsp-consumer",
        "lgsp-purpose",
        "lgsp-request-id",
    ] {
        assert!(
            verified.covers(&Component::parse(component).unwrap()),
            "{component}"
        );
    }
    let elsewhere = HttpMessage::request("GET", &format!("{base}/api/khai-sinh/124?chi_tiet=1"));
    let mut elsewhere = elsewhere;
    for (name, value) in &received {
        elsewhere = elsewhere.with_field(name.as_str(), value.to_str().unwrap());
    }
    assert!(verify(
        &elsewhere,
        input,
        received["signature"].to_str().unwrap(),
        LABEL,
        key_for(&jwks)
    )
    .is_err());

    // The leaf: committed before the answer, proven against a signed checkpoint, naming
    // nobody but by a salted hash.
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["kind"], "exchange");
    assert_eq!(entry["request_id"], "yeu-cau-0001");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["purpose"], "TTHC");
    assert_eq!(entry["method"], "GET");
    assert_eq!(
        entry["route"],
        "/x/{agency}/{system}/{service}/{version}/{*path}"
    );
    assert_eq!(entry["consumer"]["client"], client_id.as_str());
    assert_eq!(entry["provider"]["service"], "khai-sinh");
    assert_eq!(entry["fields"], json!(["/ho_ten", "/noi_sinh/tinh"]));
    assert_eq!(entry["response_bytes"], body.len());
    assert_eq!(
        entry["response_digest"],
        headers["content-digest"].to_str().unwrap()
    );
    let subject = entry["subject"].as_str().unwrap();
    assert_eq!(subject.len(), 64);
    assert!(!entry.to_string().contains("035201001234"));
    assert!(!entry.to_string().contains("khai-sinh/123"));

    // A generated request id is a UUIDv7.
    let response = call(
        &app,
        &token,
        &path("khai-sinh", "/khai-sinh/9"),
        Some("TTHC"),
    )
    .await;
    let id = response.headers()["lgsp-request-id"].to_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);

    // POST bodies go through with their digest, the answer filtered.
    let response = app
        .http
        .post(app.url(&path("khai-sinh", "/nop")))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .json(&birth_record())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let (received, _, sent) = seen.last();
    assert_eq!(
        serde_json::from_slice::<Value>(&sent).unwrap(),
        birth_record()
    );
    check_content_digest(received["content-digest"].to_str().unwrap(), &sent).unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"ho_ten": "Nguyễn Văn An", "noi_sinh": {"tinh": "Hà Nam"}})
    );
    app.stop().await;
}

async fn q13_1_refusals_have_stable_codes_and_are_logged(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-tu").await;
    grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 100).await;
    let (_, token) = app.client_token().await;
    let jwks = jwks(&app).await;
    let url = path("khai-sinh", "/khai-sinh/1");

    let refusals = [
        (
            app.http.get(app.url(&url)).header("lgsp-purpose", "TTHC"),
            401,
            "authentication_required",
        ),
        (
            app.http
                .get(app.url(&url))
                .bearer_auth("a.b.c")
                .header("lgsp-purpose", "TTHC"),
            401,
            "invalid_token",
        ),
        (
            app.http
                .get(app.url(&url))
                .bearer_auth(app.token("operator").await)
                .header("lgsp-purpose", "TTHC"),
            403,
            "forbidden",
        ),
        (
            app.http.get(app.url(&url)).bearer_auth(&token),
            400,
            "purpose_required",
        ),
        (
            app.http
                .get(app.url(&url))
                .bearer_auth(&token)
                .header("lgsp-purpose", "tthc"),
            400,
            "purpose_required",
        ),
        (
            app.http
                .get(app.url(&url))
                .bearer_auth(&token)
                .header("lgsp-purpose", "THONG_KE"),
            403,
            "purpose_not_granted",
        ),
        (
            app.http
                .get(app.url(&path("khai-tu", "/x")))
                .bearer_auth(&token)
                .header("lgsp-purpose", "TTHC"),
            403,
            "no_grant",
        ),
        (
            app.http
                .get(app.url(&path("khong-co", "/x")))
                .bearer_auth(&token)
                .header("lgsp-purpose", "TTHC"),
            404,
            "resource_not_found",
        ),
        (
            app.http
                .delete(app.url(&url))
                .bearer_auth(&token)
                .header("lgsp-purpose", "TTHC"),
            405,
            "method_not_allowed",
        ),
        (
            app.http
                .get(app.url(&path("khai-sinh", "/a%2fb")))
                .bearer_auth(&token)
                .header("lgsp-purpose", "TTHC"),
            400,
            "invalid_parameter",
        ),
        (
            app.http
                .get(app.url(&path("khai-sinh", "/a%5c..%5cb")))
                .bearer_auth(&token)
                .header("lgsp-purpose", "TTHC"),
            400,
            "invalid_parameter",
        ),
    ];
    for (request, status, code) in refusals {
        let response = request.send().await.unwrap();
        let index = log_index(&response);
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap();
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["status"], status);
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_signed(&jwks, status, &headers, &body);
        let entry = proven_entry(&app, index).await;
        assert_eq!(entry["kind"], "exchange");
        assert_eq!(entry["status"], status);
        assert_eq!(entry["refusal"], code);
    }
    // Dot segments, sent as they are (HTTP clients would resolve them first), never leave the
    // service's upstream.
    for trick in [
        "/../../admin",
        "/%2e%2e/admin",
        "/khai-sinh/.%2E/.%2e/cham",
        "/./khai-sinh/1",
    ] {
        let (status, body) = raw_get(&app, &path("khai-sinh", trick), &token).await;
        assert_eq!(status, 400, "{trick}: {body}");
        assert!(body.contains("\"invalid_parameter\""), "{trick}: {body}");
    }

    // A 405 names the methods.
    let response = app
        .http
        .delete(app.url(&url))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, POST");

    // A grant not in force any more.
    let operator = app.token("operator").await;
    let consumer = &app.credentials.clients[0];
    let services: Vec<Value> = app
        .get(&format!("/api/v1/services?agency={JUSTICE}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let khai_tu = services.iter().find(|s| s["code"] == "khai-tu").unwrap();
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/grants",
            Some(&operator),
            &json!({
                "consumer": {"agency": consumer.agency, "code": consumer.system},
                "target": {"kind": "service", "id": khai_tu["id"]},
                "fields": ["/ho_ten"],
                "purposes": ["TTHC"],
                "valid_from": "2020-01-01T00:00:00Z",
                "valid_until": "2021-01-01T00:00:00Z"
            }),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    assert_problem(
        call(&app, &token, &path("khai-tu", "/x"), Some("TTHC")).await,
        403,
        "grant_not_in_force",
    )
    .await;
    app.stop().await;
}

async fn q15_1_c_suspension_and_termination_take_effect_on_the_next_request(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    let id = grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 1000).await;
    let (_, token) = app.client_token().await;
    let url = path("khai-sinh", "/khai-sinh/1");
    let move_grant = |step: &'static str, reason: Option<&'static str>| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let body = reason.map_or(json!({}), |r| json!({ "reason": r }));
            let response = app
                .send_json(
                    Method::POST,
                    &format!("/api/v1/grants/{id}/{step}"),
                    Some(&admin),
                    &body,
                )
                .await;
            assert_eq!(response.status(), 200, "{step}");
        }
    };
    // Requests in flight keep going while the grant is suspended; the next one is refused.
    let load = {
        let http = app.http.clone();
        let target = app.url(&url);
        let token = token.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..40 {
                let response = http
                    .get(&target)
                    .bearer_auth(&token)
                    .header("lgsp-purpose", "TTHC")
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
            }
            statuses
        })
    };
    assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 200);
    move_grant("suspend", Some("Kiểm tra an toàn thông tin")).await;
    let problem = assert_problem(
        call(&app, &token, &url, Some("TTHC")).await,
        403,
        "grant_suspended",
    )
    .await;
    assert_eq!(problem["reason"], "Kiểm tra an toàn thông tin");
    let statuses = load.await.unwrap();
    // Once refused, never served again while suspended: no cache lets a request through.
    let first_refused = statuses
        .iter()
        .position(|s| *s == 403)
        .unwrap_or(statuses.len());
    assert!(
        statuses[first_refused..].iter().all(|s| *s == 403),
        "{statuses:?}"
    );
    move_grant("resume", None).await;
    assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 200);
    move_grant("terminate", Some("Hết nhu cầu khai thác")).await;
    let problem = assert_problem(
        call(&app, &token, &url, Some("TTHC")).await,
        403,
        "grant_terminated",
    )
    .await;
    assert_eq!(problem["reason"], "Hết nhu cầu khai thác");
    app.stop().await;
}

async fn q6_5_quota_per_grant_answers_429(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 3).await;
    let (_, token) = app.client_token().await;
    let url = path("khai-sinh", "/khai-sinh/1");
    // Quotas count per minute: start early in one.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 50 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
    for _ in 0..3 {
        assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 200);
    }
    let response = call(&app, &token, &url, Some("TTHC")).await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(response.headers().contains_key("lgsp-log-index"));
    assert_problem(response, 429, "quota_exceeded").await;
    app.stop().await;
}

/// The gateway keeps what it read of clients, services and grants between requests, under the
/// store's access revision: a change made on another node (here a second server on the same
/// store) is still seen by the very next request on this one.
async fn q15_1_c_changes_made_on_another_node_count_from_the_next_request(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let other = app.second_node().await;
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    let id = grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 1000).await;
    let (client_id, token) = app.client_token().await;
    let url = path("khai-sinh", "/khai-sinh/1");
    let on_other = |method: Method, path: String, body: Value| {
        let (other, admin) = (&other, admin.clone());
        async move {
            let response = other.send_json(method, &path, Some(&admin), &body).await;
            assert_eq!(response.status(), 200, "{path}");
        }
    };
    for _ in 0..3 {
        assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 200);
    }
    on_other(
        Method::POST,
        format!("/api/v1/grants/{id}/suspend"),
        json!({"reason": "Bảo trì"}),
    )
    .await;
    assert_problem(
        call(&app, &token, &url, Some("TTHC")).await,
        403,
        "grant_suspended",
    )
    .await;
    on_other(
        Method::POST,
        format!("/api/v1/grants/{id}/resume"),
        json!({}),
    )
    .await;
    assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 200);

    let services: Vec<Value> = app
        .get(&format!("/api/v1/services?agency={JUSTICE}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let service = services.iter().find(|s| s["code"] == "khai-sinh").unwrap()["id"]
        .as_i64()
        .unwrap();
    on_other(
        Method::POST,
        format!("/api/v1/services/{service}/deprecate"),
        json!({}),
    )
    .await;
    assert_eq!(call(&app, &token, &url, Some("TTHC")).await.status(), 200);
    on_other(
        Method::POST,
        format!("/api/v1/services/{service}/retire"),
        json!({}),
    )
    .await;
    assert_problem(
        call(&app, &token, &url, Some("TTHC")).await,
        404,
        "resource_not_found",
    )
    .await;

    let operator = app.token("operator").await;
    let response = other
        .send_json(
            Method::DELETE,
            &format!("/api/v1/clients/{client_id}"),
            Some(&operator),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_problem(
        call(&app, &token, &url, Some("TTHC")).await,
        401,
        "invalid_token",
    )
    .await;
    other.stop().await;
    app.stop().await;
}

/// Nodes lease a grant's quota in blocks (here 4 of 400 a minute): between them they never
/// serve more than the quota, and leave at most a block each unused.
async fn q6_5_quota_leases_never_serve_more_than_the_quota_across_nodes(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let other = app.second_node().await;
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 400).await;
    let (_, token) = app.client_token().await;
    let url = path("khai-sinh", "/khai-sinh/1");
    // Quotas count per minute: start early in one.
    let second = chrono::Utc::now().timestamp().rem_euclid(60);
    if second > 20 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
    let started = chrono::Utc::now().timestamp().div_euclid(60);
    let mut served = 0;
    let mut refused = [false, false];
    while refused != [true, true] && served <= 400 {
        for (n, node) in [&app, &other].into_iter().enumerate() {
            let response = call(node, &token, &url, Some("TTHC")).await;
            match response.status().as_u16() {
                200 => served += 1,
                429 => refused[n] = true,
                status => panic!("{status}"),
            }
        }
    }
    assert_eq!(
        chrono::Utc::now().timestamp().div_euclid(60),
        started,
        "the story ran within one minute"
    );
    assert!((400 - 2 * 3..=400).contains(&served), "{served} served");
    other.stop().await;
    app.stop().await;
}

async fn q6_5_upstream_failures_and_size_limits_are_problems(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 1000).await;
    // A system whose address nobody listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    provider_service(&app, &admin, "ho-tich-tat", &closed, "khai-sinh-tat").await;
    grant(&app, &admin, "khai-sinh-tat", json!(["/ho_ten"]), 1000).await;
    let (_, token) = app.client_token().await;
    let jwks = jwks(&app).await;

    let started = std::time::Instant::now();
    let response = call(&app, &token, &path("khai-sinh", "/cham"), Some("TTHC")).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the total timeout applies"
    );
    assert!(response.headers().contains_key("lgsp-log-index"));
    assert_problem(response, 504, "upstream_timeout").await;

    let response = call(&app, &token, &path("khai-sinh", "/lon"), Some("TTHC")).await;
    assert_problem(response, 502, "upstream_response_too_large").await;

    let response = call(&app, &token, &path("khai-sinh", "/van-ban"), Some("TTHC")).await;
    assert_problem(response, 502, "upstream_invalid_response").await;

    let response = call(
        &app,
        &token,
        &format!("/x/{JUSTICE}/ho-tich-tat/khai-sinh-tat/v1/khai-sinh/1"),
        Some("TTHC"),
    )
    .await;
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    assert_signed(&jwks, 502, &headers, &body);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "upstream_unreachable");
    assert!(problem.get("detail").is_none(), "5xx say nothing internal");

    let response = app
        .http
        .post(app.url(&path("khai-sinh", "/nop")))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .body(vec![b'x'; 2048])
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "payload_too_large").await;
    app.stop().await;
}

async fn q13_3_hosted_dataset_reads_go_through_a_grant(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let admin = app.token("agency-admin").await;
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/so-hoa-ho-tich/schema",
            Some(&admin),
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
        .post(app.url("/api/v1/datasets/so-hoa-ho-tich/records"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body("so,ho_ten,ngay_sinh,noi_sinh\n1,Nguyễn Văn An,2001-02-03,Hà Nam\n2,Trần Thị Bình,1999-12-31,Nam Định\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, token) = app.client_token().await;
    let records = "/api/v1/datasets/so-hoa-ho-tich/records?order=so";

    // Without a grant: refused, and logged.
    let response = call(&app, &token, records, Some("TTHC")).await;
    assert!(response.headers().contains_key("lgsp-log-index"));
    assert_problem(response, 403, "no_grant").await;

    grant_on(
        &app,
        &admin,
        json!({"kind": "dataset", "id": "so-hoa-ho-tich"}),
        json!(["so", "ngay_sinh"]),
        100,
    )
    .await;
    assert_problem(
        call(&app, &token, records, None).await,
        400,
        "purpose_required",
    )
    .await;
    let response = call(&app, &token, records, Some("TTHC")).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let index = log_index(&response);
    let body = response.bytes().await.unwrap();
    assert_signed(&jwks(&app).await, 200, &headers, &body);
    assert!(headers.contains_key("lgsp-source"));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!([{"so": 1, "ngay_sinh": "2001-02-03"}, {"so": 2, "ngay_sinh": "1999-12-31"}])
    );
    let entry = proven_entry(&app, index).await;
    assert_eq!(
        entry["provider"],
        json!({"agency": JUSTICE, "dataset": "so-hoa-ho-tich"})
    );
    assert_eq!(entry["fields"], json!(["so", "ngay_sinh"]));
    assert_eq!(entry["route"], "/api/v1/datasets/{id}/records");
    // Fields outside the grant cannot be asked for, filtered or ordered by.
    for query in ["select=ho_ten", "ho_ten=eq.x", "order=noi_sinh"] {
        assert_problem(
            call(
                &app,
                &token,
                &format!("/api/v1/datasets/so-hoa-ho-tich/records?{query}"),
                Some("TTHC"),
            )
            .await,
            403,
            "forbidden",
        )
        .await;
    }
    app.stop().await;
}

/// The console page of exchanges as `username` sees it: status and HTML.
async fn exchange_log(app: &TestApp, username: &str) -> (u16, String) {
    let client = super::web::browser(app);
    let signed_in = super::web::sign_in(app, &client, username).await;
    assert!(signed_in.status().is_redirection(), "signed in");
    let response = client
        .get(app.url("/console/exchanges"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn exchange_log_page(app: &TestApp, username: &str) -> String {
    let (status, page) = exchange_log(app, username).await;
    assert_eq!(status, 200, "{page}");
    page
}

async fn q15_2_e_console_lists_the_agency_exchanges_and_metrics_count_them(backend: Backend) {
    let handle = lgsp_server::ops::prometheus();
    let app = spawn_app_with(backend, limits).await;
    let admin = app.token("agency-admin").await;
    let (base, _) = provider().await;
    provider_service(&app, &admin, SYSTEM, &base, "khai-sinh").await;
    grant(&app, &admin, "khai-sinh", json!(["/ho_ten"]), 100).await;
    let (_, token) = app.client_token().await;
    let served = call(
        &app,
        &token,
        &path("khai-sinh", "/khai-sinh/1"),
        Some("TTHC"),
    )
    .await;
    let index = log_index(&served);
    assert_eq!(served.status(), 200, "{}", served.text().await.unwrap());
    let served = index;
    let refused = call(
        &app,
        &token,
        &path("khai-sinh", "/khai-sinh/1"),
        Some("THONG_KE"),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let refused = log_index(&refused);
    // The demo's investment-project service of Sở Kế hoạch và Đầu tư: not Sở Tư pháp's business.
    let elsewhere = call(
        &app,
        &token,
        "/x/000.00.04.H35/du-an-dau-tu/tra-cuu-du-an/v1/du-an",
        Some("THONG_KE"),
    )
    .await;
    assert_eq!(elsewhere.status(), 403);
    let elsewhere = log_index(&elsewhere);

    // The index is written after the leaves commit, off the request path: wait for it.
    let link = |index: u64| format!("href=\"/log/entries/{index}\"");
    let mut page = String::new();
    for _ in 0..50 {
        page = exchange_log_page(&app, "agency-admin").await;
        if page.contains(&link(refused)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(page.contains("Nhật ký trao đổi dữ liệu"), "{page}");
    assert!(page.contains(&link(served)), "{page}");
    assert!(page.contains(&link(refused)), "{page}");
    assert!(page.contains("Thành công (HTTP 200)"), "{page}");
    assert!(page.contains("Mục đích không được cấp"), "{page}");
    assert!(
        !page.contains(&link(elsewhere)),
        "another agencies' exchange is not shown"
    );
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
        .format("%d/%m/%Y")
        .to_string();
    assert!(page.contains(&today), "dates are dd/mm/yyyy");
    let auditor = exchange_log_page(&app, "auditor").await;
    assert!(
        auditor.contains(&link(elsewhere)),
        "the auditor sees every agency's"
    );
    let (status, page) = exchange_log(&app, "citizen").await;
    assert_eq!(status, 403);
    assert!(page.contains("Không có quyền truy cập"), "{page}");

    let text = handle.render();
    let counted = |status: &str| {
        text.lines().any(|line| {
            line.starts_with("lgsp_exchanges_total{")
                && line.contains(&format!("service=\"{JUSTICE}/{SYSTEM}/khai-sinh/v1\""))
                && line.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(counted("200") && counted("403"), "{text}");
    assert!(text.contains("lgsp_exchange_duration_seconds"), "{text}");
    app.stop().await;
}

/// The demo's open code list of administrative units, with records, owned by Sở Nội vụ.
const UNITS: &str = "/api/v1/datasets/don-vi-hanh-chinh/records";
const HOME_AFFAIRS: &str = "000.00.02.H35";

async fn q15_1_c_maintenance_of_an_open_dataset_answers_systems_503_and_citizens_keep_reading(
    backend: Backend,
) {
    let app = spawn_app_with(backend, limits).await;
    let (_, token) = app.client_token().await;
    let operator = app.token("operator").await;
    assert_eq!(call(&app, &token, UNITS, None).await.status(), 200);

    // Force majeure on the open dataset, for two hours.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/maintenance",
            Some(&operator),
            &json!({
                "target": {"kind": "dataset", "id": "don-vi-hanh-chinh"},
                "ends_at": (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339(),
                "description": "Sự cố đường truyền tới hệ thống nguồn",
                "force_majeure": true
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let window: Value = response.json().await.unwrap();

    // A system is told when to come back, and the refusal is a leaf of the log …
    let refused = call(&app, &token, UNITS, None).await;
    let index = log_index(&refused);
    assert!(refused.headers().contains_key("retry-after"));
    let problem = assert_problem(refused, 503, "under_maintenance").await;
    assert_eq!(problem["maintenance"], window["id"]);
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["status"], 503);
    assert_eq!(entry["refusal"], "under_maintenance");

    // … while people read the open data as last published, unlogged.
    let response = app.get(UNITS, None).await;
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("lgsp-log-index"));

    // Over early: served again from the next request.
    let cancel = format!("/api/v1/maintenance/{}/cancel", window["id"]);
    let response = app
        .send_json(Method::POST, &cancel, Some(&operator), &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(call(&app, &token, UNITS, None).await.status(), 200);
    app.stop().await;
}

async fn q15_2_e_system_reads_of_open_datasets_are_logged(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let (client_id, token) = app.client_token().await;
    let consumer = &app.credentials.clients[0];
    let jwks = jwks(&app).await;

    // A system reads open data without a grant: an exchange all the same, signed and logged.
    let response = app
        .http
        .get(app.url(&format!("{UNITS}?limit=2&order=ma")))
        .bearer_auth(&token)
        .header("lgsp-request-id", "doc-du-lieu-mo-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let index = log_index(&response);
    let body = response.bytes().await.unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&body)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_signed(&jwks, 200, &headers, &body);
    assert_eq!(headers["lgsp-request-id"], "doc-du-lieu-mo-1");
    assert!(headers.contains_key("lgsp-source"), "provenance is kept");
    assert!(headers.contains_key("content-range"), "paging is kept");
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["kind"], "exchange");
    assert_eq!(entry["request_id"], "doc-du-lieu-mo-1");
    assert_eq!(
        entry["consumer"],
        json!({"agency": consumer.agency, "system": consumer.system, "client": client_id})
    );
    assert_eq!(
        entry["provider"],
        json!({"agency": HOME_AFFAIRS, "dataset": "don-vi-hanh-chinh"})
    );
    assert_eq!(entry["grant"], Value::Null);
    assert_eq!(entry["route"], "/api/v1/datasets/{id}/records");
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["refusal"], Value::Null);
    assert_eq!(
        entry["response_digest"],
        headers["content-digest"].to_str().unwrap()
    );
    assert_eq!(entry["response_bytes"], body.len());

    // A download is the same exchange; an unchanged page too (304, empty body).
    let response = call(&app, &token, &format!("{UNITS}?format=csv"), None).await;
    assert_eq!(response.status(), 200);
    let index = log_index(&response);
    let etag = response.headers()["etag"].clone();
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("ma,ten,cap"), "{csv}");
    assert_eq!(proven_entry(&app, index).await["response_bytes"], csv.len());
    let response = app
        .http
        .get(app.url(&format!("{UNITS}?format=csv")))
        .bearer_auth(&token)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(
        proven_entry(&app, log_index(&response)).await["status"],
        304
    );

    // Following the change feed of open data is an exchange too; of restricted data, a
    // refused one (whole records: restricted data reaches a system only through a grant).
    let response = call(
        &app,
        &token,
        "/api/v1/datasets/don-vi-hanh-chinh/changes",
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let index = log_index(&response);
    let body = response.bytes().await.unwrap();
    assert_signed(&jwks, 200, &headers, &body);
    let feed: Value = serde_json::from_slice(&body).unwrap();
    assert!(!feed["changes"].as_array().unwrap().is_empty(), "{feed}");
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["route"], "/api/v1/datasets/{id}/changes");
    assert_eq!(entry["consumer"]["client"], client_id.as_str());
    assert_eq!(entry["provider"]["dataset"], "don-vi-hanh-chinh");
    assert_eq!(entry["status"], 200);
    let response = call(
        &app,
        &token,
        "/api/v1/datasets/so-hoa-ho-tich/changes",
        None,
    )
    .await;
    let index = log_index(&response);
    assert_problem(response, 403, "forbidden").await;
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["refusal"], "forbidden");
    assert_eq!(entry["route"], "/api/v1/datasets/{id}/changes");

    // A read that fails is logged with its problem: an open dataset without records yet.
    let response = call(&app, &token, "/api/v1/datasets/truong-hoc/records", None).await;
    let index = log_index(&response);
    assert_problem(response, 404, "resource_not_found").await;
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["refusal"], "resource_not_found");
    assert_eq!(entry["provider"]["dataset"], "truong-hoc");
    // So is a read of a dataset the catalog does not hold.
    let response = call(&app, &token, "/api/v1/datasets/khong-co/records", None).await;
    let index = log_index(&response);
    assert_problem(response, 404, "resource_not_found").await;
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["consumer"]["system"], consumer.system.as_str());
    assert_eq!(
        entry["provider"],
        json!({"agency": null, "dataset": "khong-co"})
    );
    // And a dataset id that is not one: no target at all.
    let response = call(&app, &token, "/api/v1/datasets/Sai_Ten/records", None).await;
    let index = log_index(&response);
    assert_problem(response, 400, "invalid_parameter").await;
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["consumer"]["system"], consumer.system.as_str());
    assert_eq!(entry["provider"], Value::Null);
    assert_eq!(entry["refusal"], "invalid_parameter");

    // Visitors and people reading open data are not logged.
    let officer = app.token("agency-admin").await;
    let size = app.state.store.log_size().await.unwrap();
    for token in [None, Some(officer.as_str())] {
        let response = app.get(&format!("{UNITS}?limit=2"), token).await;
        assert_eq!(response.status(), 200);
        assert!(!response.headers().contains_key("lgsp-log-index"));
        assert!(!response.headers().contains_key("signature"));
    }
    assert_eq!(app.state.store.log_size().await.unwrap(), size);
    app.stop().await;
}

async fn q15_2_e_refused_system_reads_of_datasets_are_logged(backend: Backend) {
    let app = spawn_app_with(backend, limits).await;
    let (client_id, token) = app.client_token().await;
    let consumer = &app.credentials.clients[0];
    let jwks = jwks(&app).await;
    let now = chrono::Utc::now().timestamp();
    let expired = lgsp_server::auth::jwt::issue(
        app.state.keys.active(),
        &lgsp_server::auth::jwt::ClientClaims {
            iss: lgsp_server::auth::jwt::ISSUER.into(),
            sub: client_id.clone(),
            aud: lgsp_server::auth::jwt::AUDIENCE.into(),
            iat: now - 7200,
            nbf: now - 7200,
            exp: now - 3600,
            jti: "het-han".into(),
            scope: String::new(),
            agency: consumer.agency.clone(),
            system: consumer.system.clone(),
        },
    );

    // Refused system tokens, on open and on restricted data: the same problems as ever, now
    // signed and logged as refused exchanges.
    let expect = |token: &str, dataset: &'static str, detail: &'static str| {
        let request = app
            .http
            .get(app.url(&format!("/api/v1/datasets/{dataset}/records")))
            .bearer_auth(token)
            .header("lgsp-purpose", "TTHC")
            .header("lgsp-request-id", format!("tu-choi-{dataset}"));
        (request, dataset, detail)
    };
    let mut refusals = vec![
        expect("a.b.c", "don-vi-hanh-chinh", "not a well-formed JWT"),
        expect(&expired, "don-vi-hanh-chinh", "has expired"),
        expect(&expired, "so-hoa-ho-tich", "has expired"),
    ];
    let operator = app.token("operator").await;
    let revoked = app
        .http
        .delete(app.url(&format!("/api/v1/clients/{client_id}")))
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    refusals.push(expect(&token, "don-vi-hanh-chinh", "has been revoked"));
    let response = app
        .http
        .get(app.url("/api/v1/datasets/don-vi-hanh-chinh/changes"))
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    let index = log_index(&response);
    assert_problem(response, 401, "invalid_token").await;
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["route"], "/api/v1/datasets/{id}/changes");
    assert_eq!(entry["refusal"], "invalid_token");
    refusals.push(expect(&token, "so-hoa-ho-tich", "has been revoked"));
    for (request, dataset, detail) in refusals {
        let response = request.send().await.unwrap();
        let index = log_index(&response);
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap();
        assert_signed(&jwks, 401, &headers, &body);
        assert_eq!(headers["content-type"], "application/problem+json");
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "invalid_token", "{problem}");
        assert_eq!(problem["status"], 401);
        assert!(
            problem["detail"].as_str().unwrap().contains(detail),
            "{problem}"
        );
        let entry = proven_entry(&app, index).await;
        assert_eq!(entry["kind"], "exchange");
        assert_eq!(entry["request_id"], format!("tu-choi-{dataset}"));
        assert_eq!(entry["status"], 401);
        assert_eq!(entry["refusal"], "invalid_token");
        assert_eq!(
            entry["consumer"],
            Value::Null,
            "a refused token names nobody"
        );
        assert_eq!(entry["provider"]["dataset"], dataset);
        assert!(entry["provider"]["agency"].is_string(), "{entry}");
        assert_eq!(entry["purpose"], "TTHC");
        assert_eq!(entry["grant"], Value::Null);
        assert_eq!(
            entry["response_digest"],
            headers["content-digest"].to_str().unwrap()
        );
    }

    // A refused person's token, and a visitor on restricted data, are not exchanges.
    let size = app.state.store.log_size().await.unwrap();
    let response = app.get(UNITS, Some("khong-phai-token")).await;
    assert!(!response.headers().contains_key("lgsp-log-index"));
    assert_problem(response, 401, "invalid_token").await;
    let response = app
        .get("/api/v1/datasets/so-hoa-ho-tich/records", None)
        .await;
    assert!(!response.headers().contains_key("lgsp-log-index"));
    assert_problem(response, 401, "authentication_required").await;
    assert_eq!(app.state.store.log_size().await.unwrap(), size);
    app.stop().await;
}
