//! Citizens' consent (Q15.2.h, Q7.4; Decree 13/2023 art. 9, 11, 12): a citizen authorises a
//! provider to share their records with a consumer for a purpose until a date and revokes it;
//! the gateway lets an exchange under a grant resting on consent through only with the
//! subject named and their consent in force; the citizen sees every exchange about them.

use chrono::{Duration, Utc};
use lgsp_server::demo::DEMO_CITIZEN_ID;
use reqwest::Method;
use serde_json::{json, Value};

use super::gateway::{provider, provider_service};
use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};
use super::services::JUSTICE;
use super::transparency::proven_entry;

on_both_backends!(
    q15_2_h_citizen_grants_then_revokes_consent_and_calls_go_from_allowed_to_refused,
    q15_2_h_personal_resource_requires_subject_header,
    q15_2_h_expired_consent_refuses,
    q15_2_h_consent_for_another_consumer_does_not_count,
    q15_2_h_citizen_sees_exchanges_about_them,
    q15_2_h_wrong_roles_unknown_ids_bad_numbers_and_past_dates_are_problems,
    q15_2_h_console_consent_covers_the_fields_the_citizen_names,
);

/// The provider's system and service of the stories (Sở Tư pháp).
const SYSTEM: &str = "ho-tich-dy";
const SERVICE: &str = "tra-cuu-khai-sinh";
/// Another person's identity number (Nam Định, 036).
const SOMEONE_ELSE: &str = "036085000111";

/// A day relative to today in Vietnam, as the API takes it.
pub fn day(offset_days: i64) -> String {
    (lgsp_core::consent::vietnam_date(Utc::now()) + Duration::days(offset_days))
        .format("%Y-%m-%d")
        .to_string()
}

/// Sở Tư pháp's published service on a live provider; returns its id.
pub async fn consent_service(app: &TestApp, admin: &str) -> i64 {
    let (base, _) = provider().await;
    provider_service(app, admin, SYSTEM, &base, SERVICE).await;
    let services: Vec<Value> = app
        .get(&format!("/api/v1/services?agency={JUSTICE}"), Some(admin))
        .await
        .json()
        .await
        .unwrap();
    services
        .iter()
        .find(|s| s["code"] == SERVICE && s["provider"]["code"] == SYSTEM)
        .unwrap_or_else(|| panic!("service in {services:?}"))["id"]
        .as_i64()
        .unwrap()
}

/// A grant resting on `basis` for the first demo client's system; returns its id.
pub async fn grant_with_basis(
    app: &TestApp,
    admin: &str,
    target: Value,
    fields: Value,
    basis: &str,
) -> reqwest::Response {
    let consumer = &app.credentials.clients[0];
    app.send_json(
        Method::POST,
        "/api/v1/grants",
        Some(admin),
        &json!({
            "consumer": {"agency": consumer.agency, "code": consumer.system},
            "target": target,
            "fields": fields,
            "purposes": ["TTHC", "THONG_KE"],
            "valid_until": "2099-01-01T00:00:00Z",
            "basis": basis
        }),
    )
    .await
}

/// The citizen's consent body for the first demo client's agency.
pub fn consent_body(app: &TestApp, target: Value, until: &str) -> Value {
    json!({
        "target": target,
        "consumer": app.credentials.clients[0].agency,
        "purpose": {"code": "TTHC", "text": "Giải quyết thủ tục đăng ký kết hôn"},
        "until": until
    })
}

/// A system's access token for demo client `n`.
pub async fn client_token(app: &TestApp, n: usize) -> String {
    let client = &app.credentials.clients[n];
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A consumer's call of the birth-record look-up about `subject` for `purpose`.
pub async fn call_about(
    app: &TestApp,
    token: &str,
    subject: Option<&str>,
    purpose: &str,
) -> reqwest::Response {
    let mut request = app
        .http
        .get(app.url(&format!("/x/{JUSTICE}/{SYSTEM}/{SERVICE}/v1/khai-sinh/123")))
        .bearer_auth(token)
        .header("lgsp-purpose", purpose);
    if let Some(subject) = subject {
        request = request.header("lgsp-subject", subject);
    }
    request.send().await.unwrap()
}

fn log_index(response: &reqwest::Response) -> u64 {
    response.headers()["lgsp-log-index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The `consent` leaf of step `step` of consent `id`, among the leaves just before `before`.
async fn consent_leaf(app: &TestApp, before: u64, id: i64, step: &str) -> Value {
    for index in (before.saturating_sub(8)..before).rev() {
        let entry = proven_entry(app, index).await;
        if entry["kind"] == "consent" && entry["consent"] == id && entry["step"] == step {
            return entry;
        }
    }
    panic!("no {step} leaf of consent {id} before {before}");
}

async fn give(app: &TestApp, citizen: &str, body: &Value) -> reqwest::Response {
    app.send_json(Method::POST, "/api/v1/consents", Some(citizen), body)
        .await
}

async fn revoke(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/consents/{id}/revoke"),
        Some(token),
        &json!({}),
    )
    .await
}

async fn q15_2_h_citizen_grants_then_revokes_consent_and_calls_go_from_allowed_to_refused(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let citizen = app.token("citizen").await;
    let service = consent_service(&app, &admin).await;
    let on_service = json!({"kind": "service", "id": service});
    let response = grant_with_basis(
        &app,
        &admin,
        on_service.clone(),
        json!(["/ho_ten", "/ngay_sinh"]),
        "consent",
    )
    .await;
    assert_eq!(response.status(), 201);
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["basis"], "consent");
    let consumer = client_token(&app, 0).await;

    // Before consent: refused, and the refusal is a leaf naming the subject only as a hash.
    let response = call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await;
    let refused_at = log_index(&response);
    assert_problem(response, 403, "consent_required").await;
    let leaf = proven_entry(&app, refused_at).await;
    assert_eq!(leaf["refusal"], "consent_required");
    let hash = leaf["subject"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);
    assert!(!leaf.to_string().contains(DEMO_CITIZEN_ID));

    // The citizen consents: the consent shows what it covers, the number masked.
    let response = give(
        &app,
        &citizen,
        &consent_body(&app, on_service.clone(), &day(30)),
    )
    .await;
    assert_eq!(response.status(), 201);
    let given_at = log_index(&response);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    assert!(!text.contains(DEMO_CITIZEN_ID), "{text}");
    let consent: Value = serde_json::from_str(&text).unwrap();
    let id = consent["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/consents/{id}"));
    assert_eq!(consent["state"], "active");
    assert_eq!(consent["citizen_id_masked"], "********2345");
    assert_eq!(consent["subject_name"], "Lê Thu Hà");
    assert_eq!(consent["provider"], JUSTICE);
    assert_eq!(consent["consumer"], app.credentials.clients[0].agency);
    assert_eq!(consent["purpose"]["code"], "TTHC");
    assert_eq!(
        consent["fields"],
        json!(["/ho_ten", "/ngay_sinh", "/noi_sinh"]),
        "by default everything the service shares"
    );
    let leaf = consent_leaf(&app, given_at, id, "grant").await;
    assert_eq!(
        leaf["subject"], hash,
        "the same salted hash as the exchange"
    );
    assert_eq!(leaf["consumer"], app.credentials.clients[0].agency);
    assert!(!leaf.to_string().contains(DEMO_CITIZEN_ID));
    let action = proven_entry(&app, given_at).await;
    assert_eq!(action["route"], "/api/v1/consents");
    assert_eq!(action["status"], 201);

    // Allowed: the granted fields only. Another person, or no consent for the purpose: not.
    let response = call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"ho_ten": "Nguyễn Văn An", "ngay_sinh": "2001-02-03"})
    );
    assert_problem(
        call_about(&app, &consumer, Some(SOMEONE_ELSE), "TTHC").await,
        403,
        "consent_required",
    )
    .await;
    assert_problem(
        call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "THONG_KE").await,
        403,
        "consent_required",
    )
    .await;

    // Revoked: refused from the very next request; a second revocation is a wrong step.
    let response = revoke(&app, &citizen, id).await;
    assert_eq!(response.status(), 200);
    let revoked_at = log_index(&response);
    let revoked: Value = response.json().await.unwrap();
    assert_eq!(revoked["state"], "revoked");
    assert!(revoked["revoked_at"].is_string());
    let leaf = consent_leaf(&app, revoked_at, id, "revoke").await;
    assert_eq!(leaf["subject"], hash);
    // The provider's administrators were told of both steps, without the citizen's number.
    let notices: Vec<Value> = app
        .get("/api/v1/notifications", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    for subject in [
        format!("Người dân đồng ý chia sẻ dữ liệu số {id}"),
        format!("Người dân rút lại đồng ý chia sẻ dữ liệu số {id}"),
    ] {
        let notice = notices
            .iter()
            .find(|n| n["subject"] == subject.as_str())
            .unwrap_or_else(|| panic!("{subject}: {notices:?}"));
        assert!(!notice.to_string().contains(DEMO_CITIZEN_ID));
    }
    assert_problem(
        call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await,
        403,
        "consent_required",
    )
    .await;
    assert_problem(revoke(&app, &citizen, id).await, 409, "invalid_transition").await;
    let listed: Vec<Value> = app
        .get("/api/v1/consents", Some(&citizen))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "revoked");
    app.stop().await;
}

async fn q15_2_h_personal_resource_requires_subject_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let citizen = app.token("citizen").await;
    let service = consent_service(&app, &admin).await;
    let consumer = client_token(&app, 0).await;

    // A service on consent: no `LGSP-Subject`, a refusal on the log.
    let response = grant_with_basis(
        &app,
        &admin,
        json!({"kind": "service", "id": service}),
        json!(["/ho_ten"]),
        "consent",
    )
    .await;
    assert_eq!(response.status(), 201);
    let response = call_about(&app, &consumer, None, "TTHC").await;
    let index = log_index(&response);
    let problem = assert_problem(response, 400, "subject_required").await;
    assert!(problem["detail"].as_str().unwrap().contains("LGSP-Subject"));
    assert_eq!(
        proven_entry(&app, index).await["refusal"],
        "subject_required"
    );

    // A personal dataset on consent, through the dataset route.
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/so-hoa-ho-tich/schema",
            Some(&admin),
            &json!({
                "fields": [
                    {"name": "so", "type": "integer", "constraints": {"required": true}},
                    {"name": "ho_ten", "type": "string", "personal": true},
                    {"name": "ngay_sinh", "type": "date"}
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
        .body("so,ho_ten,ngay_sinh\n1,Lê Thu Hà,1990-04-05\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let on_dataset = json!({"kind": "dataset", "id": "so-hoa-ho-tich"});
    let response = grant_with_basis(
        &app,
        &admin,
        on_dataset.clone(),
        json!(["so", "ho_ten"]),
        "consent",
    )
    .await;
    assert_eq!(response.status(), 201);
    let records = app.url("/api/v1/datasets/so-hoa-ho-tich/records");
    let read = |subject: Option<&'static str>| {
        let mut request = app
            .http
            .get(&records)
            .bearer_auth(&consumer)
            .header("lgsp-purpose", "TTHC");
        if let Some(subject) = subject {
            request = request.header("lgsp-subject", subject);
        }
        request.send()
    };
    let response = read(None).await.unwrap();
    assert!(response.headers().contains_key("lgsp-log-index"));
    assert_problem(response, 400, "subject_required").await;
    assert_problem(
        read(Some(DEMO_CITIZEN_ID)).await.unwrap(),
        403,
        "consent_required",
    )
    .await;
    let response = give(&app, &citizen, &consent_body(&app, on_dataset, &day(0))).await;
    assert_eq!(response.status(), 201, "a consent for today only");
    let consent: Value = response.json().await.unwrap();
    assert_eq!(consent["fields"], json!(["so", "ho_ten", "ngay_sinh"]));
    let response = read(Some(DEMO_CITIZEN_ID)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!([{"so": 1, "ho_ten": "Lê Thu Hà"}])
    );

    // Consent applies only where a subject can consent: not to a code list.
    let problem = assert_problem(
        grant_with_basis(
            &app,
            &operator,
            json!({"kind": "dataset", "id": "don-vi-hanh-chinh"}),
            json!(["ma", "ten"]),
            "consent",
        )
        .await,
        422,
        "consent_basis_not_applicable",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("personal"));
    assert_problem(
        grant_with_basis(
            &app,
            &operator,
            json!({"kind": "dataset", "id": "don-vi-hanh-chinh"}),
            json!(["ma", "ten"]),
            "maybe",
        )
        .await,
        422,
        "invalid_body",
    )
    .await;

    // A grant on a legal basis needs no subject.
    let response = grant_with_basis(
        &app,
        &operator,
        json!({"kind": "dataset", "id": "don-vi-hanh-chinh"}),
        json!(["ma", "ten"]),
        "legal",
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.json::<Value>().await.unwrap()["basis"], "legal");
    app.stop().await;
}

/// Moves consent `id`'s term into the past, directly in the app's database, as time would.
async fn expire(app: &TestApp, id: i64) {
    let url = app.state.settings.database_url().expose().to_owned();
    let (from, until) = (
        Utc::now() - Duration::days(10),
        Utc::now() - Duration::days(1),
    );
    let sql = "UPDATE consents SET valid_from = $1, valid_until = $2 WHERE id = $3";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let query = sqlx::query(sql).bind(from).bind(until).bind(id);
        query.execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(&url);
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let query = sqlx::query(sql).bind(from).bind(until).bind(id);
        query.execute(&pool).await.unwrap();
        pool.close().await;
    }
}

async fn q15_2_h_expired_consent_refuses(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let citizen = app.token("citizen").await;
    let service = consent_service(&app, &admin).await;
    let on_service = json!({"kind": "service", "id": service});
    let response = grant_with_basis(
        &app,
        &admin,
        on_service.clone(),
        json!(["/ho_ten"]),
        "consent",
    )
    .await;
    assert_eq!(response.status(), 201);
    let consumer = client_token(&app, 0).await;
    let response = give(&app, &citizen, &consent_body(&app, on_service, &day(7))).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC")
            .await
            .status(),
        200
    );

    expire(&app, id).await;
    assert_problem(
        call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await,
        403,
        "consent_required",
    )
    .await;
    let consent: Value = app
        .get(&format!("/api/v1/consents/{id}"), Some(&citizen))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(consent["state"], "expired");
    // An expired consent can still be revoked, and then says so.
    let response = revoke(&app, &citizen, id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["state"], "revoked");
    app.stop().await;
}

async fn q15_2_h_consent_for_another_consumer_does_not_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let citizen = app.token("citizen").await;
    let service = consent_service(&app, &admin).await;
    let on_service = json!({"kind": "service", "id": service});
    let response = grant_with_basis(
        &app,
        &admin,
        on_service.clone(),
        json!(["/ho_ten", "/ngay_sinh"]),
        "consent",
    )
    .await;
    assert_eq!(response.status(), 201);
    let consumer = client_token(&app, 0).await;
    let ours = app.credentials.clients[0].clone();
    let other = app
        .credentials
        .clients
        .iter()
        .find(|c| c.agency != ours.agency)
        .expect("a client of another agency")
        .clone();

    // Consent for another agency; for another system of the right agency; for fewer fields
    // than the grant opens: none counts.
    let mut for_other = consent_body(&app, on_service.clone(), &day(30));
    for_other["consumer"] = json!(other.agency);
    assert_eq!(give(&app, &citizen, &for_other).await.status(), 201);
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/agencies/{}/systems", ours.agency),
            Some(&app.token("operator").await),
            &json!({
                "code": "he-thong-khac",
                "name": "Hệ thống khác của cơ quan",
                "security_level": 2,
                "connection": {"model": "lgsp"},
                "base_url": "https://khac.hanam.gov.vn",
                "health_url": "https://khac.hanam.gov.vn/health"
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let mut for_other_system = consent_body(&app, on_service.clone(), &day(30));
    for_other_system["consumer_system"] = json!("he-thong-khac");
    assert_eq!(give(&app, &citizen, &for_other_system).await.status(), 201);
    let mut fewer_fields = consent_body(&app, on_service.clone(), &day(30));
    fewer_fields["fields"] = json!(["/ho_ten"]);
    assert_eq!(give(&app, &citizen, &fewer_fields).await.status(), 201);
    assert_problem(
        call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await,
        403,
        "consent_required",
    )
    .await;

    // Consent naming this very system, on every granted field: allowed.
    let mut for_ours = consent_body(&app, on_service.clone(), &day(30));
    for_ours["consumer_system"] = json!(ours.system);
    for_ours["fields"] = json!(["/ho_ten", "/ngay_sinh"]);
    assert_eq!(give(&app, &citizen, &for_ours).await.status(), 201);
    assert_eq!(
        call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC")
            .await
            .status(),
        200
    );
    app.stop().await;
}

async fn q15_2_h_citizen_sees_exchanges_about_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let citizen = app.token("citizen").await;
    let service = consent_service(&app, &admin).await;
    let on_service = json!({"kind": "service", "id": service});
    let response = grant_with_basis(
        &app,
        &admin,
        on_service.clone(),
        json!(["/ho_ten"]),
        "consent",
    )
    .await;
    assert_eq!(response.status(), 201);
    let consumer = client_token(&app, 0).await;
    let refused = call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await;
    assert_eq!(refused.status(), 403);
    let refused_at = log_index(&refused) as i64;
    let response = give(&app, &citizen, &consent_body(&app, on_service, &day(30))).await;
    assert_eq!(response.status(), 201);
    let allowed = call_about(&app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await;
    assert_eq!(allowed.status(), 200);
    let allowed_at = log_index(&allowed) as i64;
    // Exchanges about somebody else, or about nobody, are not theirs.
    call_about(&app, &consumer, Some(SOMEONE_ELSE), "TTHC").await;
    call_about(&app, &consumer, None, "TTHC").await;

    let response = app.get("/api/v1/consents/exchanges", Some(&citizen)).await;
    assert_eq!(response.status(), 200);
    let seen: Vec<Value> = response.json().await.unwrap();
    let indexes: Vec<i64> = seen
        .iter()
        .map(|e| e["log_index"].as_i64().unwrap())
        .collect();
    assert_eq!(indexes, vec![allowed_at, refused_at], "newest first");
    let ours = &app.credentials.clients[0];
    assert_eq!(seen[0]["consumer_agency"], ours.agency);
    assert_eq!(seen[0]["consumer_system"], ours.system);
    assert_eq!(seen[0]["provider_agency"], JUSTICE);
    assert_eq!(
        seen[0]["target"],
        format!("{JUSTICE}/{SYSTEM}/{SERVICE}/v1")
    );
    assert_eq!(seen[0]["purpose"], "TTHC");
    assert_eq!(seen[0]["status"], 200);
    assert!(seen[0]["at"].is_string());
    assert_eq!(seen[1]["refusal"], "consent_required");

    // Only a citizen with an identity number has exchanges about them.
    assert_problem(
        app.get("/api/v1/consents/exchanges", Some(&admin)).await,
        403,
        "not_a_citizen",
    )
    .await;
    assert_problem(
        app.get("/api/v1/consents/exchanges", None).await,
        401,
        "authentication_required",
    )
    .await;
    app.stop().await;
}

/// An account created by the operator; returns its API token.
async fn account(app: &TestApp, operator: &str, body: Value) -> String {
    let username = body["username"].as_str().unwrap().to_owned();
    let password = body["password"].as_str().unwrap().to_owned();
    let response = app
        .send_json(Method::POST, "/api/v1/users", Some(operator), &body)
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
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

async fn q15_2_h_wrong_roles_unknown_ids_bad_numbers_and_past_dates_are_problems(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let auditor = app.token("auditor").await;
    let citizen = app.token("citizen").await;
    let service = consent_service(&app, &admin).await;
    let on_service = json!({"kind": "service", "id": service});
    let good = consent_body(&app, on_service.clone(), &day(30));
    let consumer_agency = app.credentials.clients[0].agency.clone();

    // Identity numbers: 12 digits of a province, and only on a citizen's account.
    let person = |username: &str, role: &str, citizen_id: Value| {
        let mut body = json!({
            "username": username,
            "full_name": "Phạm Minh Đức",
            "role": role,
            "password": "mật khẩu đủ dài 123",
            "citizen_id": citizen_id
        });
        if role == "agency_admin" {
            body["agency"] = json!(consumer_agency);
        }
        body
    };
    for bad in ["03519001234", "03519001234x", "099190012345", ""] {
        assert_problem(
            app.send_json(
                Method::POST,
                "/api/v1/users",
                Some(&operator),
                &person("dan-sai", "citizen", json!(bad)),
            )
            .await,
            422,
            "invalid_body",
        )
        .await;
    }
    assert_problem(
        app.send_json(
            Method::POST,
            "/api/v1/users",
            Some(&operator),
            &person("qt-sai", "agency_admin", json!("036085000111")),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        app.send_json(
            Method::POST,
            "/api/v1/users",
            Some(&operator),
            &person("dan-trung", "citizen", json!(DEMO_CITIZEN_ID)),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    let other_citizen = account(
        &app,
        &operator,
        person("dan-khac", "citizen", json!(SOMEONE_ELSE)),
    )
    .await;
    let numberless = account(
        &app,
        &operator,
        person("dan-chua-so", "citizen", Value::Null),
    )
    .await;
    let consumer_admin = account(
        &app,
        &operator,
        person("qt-tieu-thu", "agency_admin", Value::Null),
    )
    .await;

    // Who may give consent: a citizen with an identity number, nobody else.
    assert_problem(give(&app, &admin, &good).await, 403, "not_a_citizen").await;
    assert_problem(give(&app, &operator, &good).await, 403, "not_a_citizen").await;
    assert_problem(give(&app, &numberless, &good).await, 403, "not_a_citizen").await;
    assert_problem(
        app.send_json(Method::POST, "/api/v1/consents", None, &good)
            .await,
        401,
        "authentication_required",
    )
    .await;
    let system = client_token(&app, 0).await;
    assert_problem(give(&app, &system, &good).await, 403, "forbidden").await;

    // Bad bodies, each with its code.
    let with = |name: &str, value: Value| {
        let mut body = good.clone();
        body[name] = value;
        body
    };
    for (body, status, code) in [
        (with("until", json!(day(-1))), 422, "invalid_body"),
        (with("until", json!("31/12/2030")), 422, "invalid_body"),
        (
            with("consumer", json!("000.00.99.H35")),
            422,
            "missing_reference",
        ),
        (
            with("consumer", json!("khong-phai-ma")),
            422,
            "invalid_body",
        ),
        (
            with("consumer_system", json!("khong-co")),
            422,
            "missing_reference",
        ),
        (
            with("target", json!({"kind": "service", "id": 999_999})),
            422,
            "missing_reference",
        ),
        (with("fields", json!(["/so_cccd"])), 422, "field_not_shared"),
        (with("fields", json!([])), 422, "invalid_body"),
        (
            with("purpose", json!({"code": "tthc", "text": "Thủ tục"})),
            422,
            "invalid_body",
        ),
        (
            with("purpose", json!({"code": "TTHC"})),
            422,
            "invalid_body",
        ),
        (with("extra", json!(1)), 422, "unknown_field"),
    ] {
        let problem = assert_problem(give(&app, &citizen, &body).await, status, code).await;
        assert!(problem["detail"].is_string(), "{body}: {problem}");
    }
    let response = app
        .http
        .post(app.url("/api/v1/consents"))
        .bearer_auth(&citizen)
        .header("content-type", "application/json")
        .body("{\"target\":")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "malformed_json").await;
    let mine: Vec<Value> = app
        .get("/api/v1/consents", Some(&citizen))
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.is_empty(), "nothing was stored");

    // One consent; who sees it and who may revoke it.
    let response = give(&app, &citizen, &good).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/consents/{id}");
    for token in [&citizen, &admin, &consumer_admin] {
        let response = app.get(&path, Some(token)).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        assert!(!text.contains(DEMO_CITIZEN_ID), "{text}");
        assert!(text.contains("********2345"));
    }
    for token in [&other_citizen, &auditor, &operator] {
        assert_problem(app.get(&path, Some(token)).await, 403, "forbidden").await;
    }
    assert_problem(app.get(&path, None).await, 401, "authentication_required").await;
    for (token, length) in [(&admin, 1), (&consumer_admin, 1), (&other_citizen, 0)] {
        let listed: Vec<Value> = app
            .get("/api/v1/consents", Some(token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed.len(), length);
    }
    for token in [&operator, &auditor] {
        assert_problem(
            app.get("/api/v1/consents", Some(token)).await,
            403,
            "forbidden",
        )
        .await;
    }
    for token in [&admin, &consumer_admin, &other_citizen, &operator] {
        assert_problem(revoke(&app, token, id).await, 403, "forbidden").await;
    }
    assert_problem(
        app.get("/api/v1/consents/999999", Some(&citizen)).await,
        404,
        "resource_not_found",
    )
    .await;
    assert_problem(
        revoke(&app, &citizen, 999_999).await,
        404,
        "resource_not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/consents/abc", Some(&citizen)).await,
        400,
        "invalid_parameter",
    )
    .await;
    let consent: Value = app.get(&path, Some(&citizen)).await.json().await.unwrap();
    assert_eq!(
        consent["state"], "active",
        "refused revocations changed nothing"
    );
    app.stop().await;
}

async fn q15_2_h_console_consent_covers_the_fields_the_citizen_names(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let citizen = app.token("citizen").await;
    let service = consent_service(&app, &admin).await;
    let person = super::web::browser(&app);
    assert_eq!(
        super::web::sign_in(&app, &person, "citizen").await.status(),
        303
    );
    let page = person
        .get(app.url("/console/consents"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"fields\""), "{page}");
    let csrf = super::web::csrf_field(&page);
    let until = (lgsp_core::consent::vietnam_date(Utc::now()) + Duration::days(30))
        .format("%d/%m/%Y")
        .to_string();
    let consumer = app.credentials.clients[0].agency.clone();
    let give_form = |fields: &'static str| {
        person
            .post(app.url("/console/consents"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("target", &format!("service:{service}")),
                ("consumer", consumer.as_str()),
                ("consumer_system", ""),
                ("fields", fields),
                ("purpose_code", "TTHC"),
                ("purpose_text", "Đăng ký thường trú"),
                ("until", until.as_str()),
            ])
            .send()
    };
    let consents = || async {
        app.get("/api/v1/consents", Some(&citizen))
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
    };

    // A field the service does not share is refused, and nothing is stored.
    let refused = give_form("/ho_ten, /so_dien_thoai").await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(consents().await.is_empty());

    // Named fields only: the consent covers those, not everything the service shares.
    assert_eq!(give_form("/ho_ten").await.unwrap().status(), 303);
    let given = consents().await;
    assert_eq!(given.len(), 1);
    assert_eq!(given[0]["fields"], json!(["/ho_ten"]));
    app.stop().await;
}
