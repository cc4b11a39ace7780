//! Grants (Q13.1, Q8.4), their suspension and termination (Q15.1.c) and subscriptions to
//! resources shared by default.

use lgsp_core::exchange::{decide, Attempt, Refusal};
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};
use super::services::{register, service_body, step, JUSTICE};

on_both_backends!(
    q13_1_grants_are_made_by_the_provider_on_shared_fields_only,
    q15_1_c_suspension_needs_a_reason_and_termination_is_final,
    q13_1_subscriptions_grant_resources_shared_by_default_at_once,
);

/// The consumer of the stories: the provincial office's administrative-procedures system.
const CONSUMER_AGENCY: &str = "000.00.01.H35";
const CONSUMER_SYSTEM: &str = "thu-tuc-hanh-chinh";

async fn published_service(app: &TestApp, token: &str, code: &str, mode: &str) -> i64 {
    let id = register(
        app,
        token,
        &service_body(
            "ho-tich",
            code,
            "https://hotich.stp.hanam.gov.vn/lgsp",
            mode,
        ),
    )
    .await;
    assert_eq!(step(app, token, id, "publish").await.status(), 200);
    id
}

fn grant_body(target: Value, fields: Value) -> Value {
    json!({
        "consumer": {"agency": CONSUMER_AGENCY, "code": CONSUMER_SYSTEM},
        "target": target,
        "fields": fields,
        "purposes": ["TTHC"],
        "valid_until": "2099-01-01T00:00:00Z",
        "per_minute": 60
    })
}

async fn all_grants(app: &TestApp, operator: &str) -> Vec<Value> {
    app.get("/api/v1/grants", Some(operator))
        .await
        .json()
        .await
        .unwrap()
}

async fn q13_1_grants_are_made_by_the_provider_on_shared_fields_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let service = published_service(&app, &admin, "tra-cuu-khai-sinh", "on_request").await;
    let on_service = json!({"kind": "service", "id": service});
    let post = |body: Value, token: String| {
        let app = &app;
        async move {
            app.send_json(Method::POST, "/api/v1/grants", Some(&token), &body)
                .await
        }
    };

    // Refusals, each with its code, and nothing stored.
    let problem = assert_problem(
        post(
            grant_body(on_service.clone(), json!(["/ho_ten", "/so_cccd"])),
            admin.clone(),
        )
        .await,
        422,
        "field_not_shared",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("/so_cccd"));
    for (fields, named) in [(json!([]), "fields"), (json!(["ho_ten"]), "fields")] {
        let problem = assert_problem(
            post(grant_body(on_service.clone(), fields), admin.clone()).await,
            422,
            "invalid_body",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains(named),
            "{problem}"
        );
    }
    let mut no_purpose = grant_body(on_service.clone(), json!(["/ho_ten"]));
    no_purpose["purposes"] = json!(["tthc"]);
    assert_problem(post(no_purpose, admin.clone()).await, 422, "invalid_body").await;
    let mut backwards = grant_body(on_service.clone(), json!(["/ho_ten"]));
    backwards["valid_from"] = json!("2030-01-01T00:00:00Z");
    backwards["valid_until"] = json!("2029-01-01T00:00:00Z");
    assert_problem(post(backwards, admin.clone()).await, 422, "invalid_body").await;
    let mut zero_quota = grant_body(on_service.clone(), json!(["/ho_ten"]));
    zero_quota["per_minute"] = json!(0);
    assert_problem(post(zero_quota, admin.clone()).await, 422, "invalid_body").await;
    let mut unknown_consumer = grant_body(on_service.clone(), json!(["/ho_ten"]));
    unknown_consumer["consumer"]["code"] = json!("khong-co");
    assert_problem(
        post(unknown_consumer, admin.clone()).await,
        422,
        "missing_reference",
    )
    .await;
    assert_problem(
        post(
            grant_body(
                json!({"kind": "service", "id": 999_999}),
                json!(["/ho_ten"]),
            ),
            admin.clone(),
        )
        .await,
        422,
        "missing_reference",
    )
    .await;
    // Sở Tư pháp does not grant on Sở Nội vụ's code list; the consumer does not grant itself.
    let units = json!({"kind": "dataset", "id": "don-vi-hanh-chinh"});
    assert_problem(
        post(
            grant_body(units.clone(), json!(["ma", "ten"])),
            admin.clone(),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let auditor = app.token("auditor").await;
    assert_problem(
        post(
            grant_body(on_service.clone(), json!(["/ho_ten"])),
            auditor.clone(),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert!(
        all_grants(&app, &operator).await.is_empty(),
        "nothing was stored"
    );

    // The provider grants a field inside a shared one; the operator grants on a dataset.
    let response = post(
        grant_body(on_service.clone(), json!(["/ho_ten", "/noi_sinh/tinh"])),
        admin.clone(),
    )
    .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let grant: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/grants/{}", grant["id"]));
    assert_eq!(grant["status"], "active");
    assert_eq!(grant["source"]["kind"], "direct");
    assert_eq!(grant["provider"], JUSTICE);
    assert_eq!(grant["per_minute"], 60);
    assert_eq!(grant["target"]["kind"], "service");
    assert_eq!(grant["target"]["code"], "tra-cuu-khai-sinh");
    assert_eq!(grant["service_id"], service);
    assert_problem(
        post(
            grant_body(units.clone(), json!(["ma", "dan_so"])),
            operator.clone(),
        )
        .await,
        422,
        "field_not_shared",
    )
    .await;
    let response = post(
        grant_body(units.clone(), json!(["ma", "ten"])),
        operator.clone(),
    )
    .await;
    assert_eq!(response.status(), 201);
    let on_units: Value = response.json().await.unwrap();
    // A catalog dataset without hosted records cannot be granted yet.
    assert_problem(
        post(
            grant_body(
                json!({"kind": "dataset", "id": "doanh-nghiep"}),
                json!(["ma"]),
            ),
            operator.clone(),
        )
        .await,
        409,
        "target_unavailable",
    )
    .await;

    // Who sees what: the provider its grants, the consumer its own, others nothing.
    let ids =
        |list: Vec<Value>| -> Vec<i64> { list.iter().map(|g| g["id"].as_i64().unwrap()).collect() };
    assert_eq!(
        ids(all_grants(&app, &operator).await),
        [
            on_units["id"].as_i64().unwrap(),
            grant["id"].as_i64().unwrap()
        ]
    );
    assert_eq!(
        ids(all_grants(&app, &admin).await),
        [grant["id"].as_i64().unwrap()]
    );
    let citizen = app.token("citizen").await;
    assert!(all_grants(&app, &citizen).await.is_empty());
    assert_problem(
        app.get("/api/v1/grants", None).await,
        401,
        "authentication_required",
    )
    .await;
    let detail = app
        .get(&format!("/api/v1/grants/{}", grant["id"]), Some(&citizen))
        .await;
    assert_problem(detail, 403, "forbidden").await;
    let detail: Value = app
        .get(&format!("/api/v1/grants/{}", grant["id"]), Some(&auditor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["history"][0]["to_status"], "active");
    assert_eq!(detail["history"][0]["actor"], "agency-admin");

    // The consumer system itself reads its grants with its access token.
    let token = client_token_of(&app, CONSUMER_AGENCY, CONSUMER_SYSTEM).await;
    let mine = all_grants(&app, &token).await;
    assert_eq!(mine.len(), 2);
    app.stop().await;
}

/// An access token of the demo client of `agency`/`system`.
pub async fn client_token_of(app: &TestApp, agency: &str, system: &str) -> String {
    let client = app
        .credentials
        .clients
        .iter()
        .find(|c| c.agency == agency && c.system == system)
        .unwrap_or_else(|| panic!("a demo client of {agency}/{system}"));
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

/// What the gateway will decide for the consumer now, from storage as it stands.
async fn gateway_decision(app: &TestApp, service: i64) -> Result<i64, Refusal> {
    let store = &app.state.store;
    let target = store.get_service(service).await.unwrap().target();
    let consumer = lgsp_core::SystemId {
        agency: lgsp_core::AgencyCode::parse(CONSUMER_AGENCY).unwrap(),
        code: lgsp_core::SystemCode::parse(CONSUMER_SYSTEM).unwrap(),
    };
    let grants = store.grants_for(&consumer, &target).await.unwrap();
    let attempt = Attempt {
        consumer: &consumer,
        target: &target,
        purpose: Some("TTHC"),
        at: chrono::Utc::now(),
    };
    decide(&grants, &attempt, |_| 0).map(|g| g.id)
}

async fn q15_1_c_suspension_needs_a_reason_and_termination_is_final(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let service = published_service(&app, &admin, "tra-cuu-khai-sinh", "on_request").await;
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/grants",
            Some(&admin),
            &grant_body(
                json!({"kind": "service", "id": service}),
                json!(["/ho_ten"]),
            ),
        )
        .await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(gateway_decision(&app, service).await, Ok(id));
    let act = |step: &'static str, body: Value, token: String| {
        let app = &app;
        async move {
            app.send_json(
                Method::POST,
                &format!("/api/v1/grants/{id}/{step}"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    let status = || {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.get(&format!("/api/v1/grants/{id}"), Some(&admin))
                .await
                .json::<Value>()
                .await
                .unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };

    // No reason, no suspension: the body cannot even be read as one.
    for body in [json!({}), json!({"reason": "   "}), json!({"reason": null})] {
        let problem = assert_problem(
            act("suspend", body, admin.clone()).await,
            422,
            "invalid_body",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("reason"),
            "{problem}"
        );
        assert_problem(
            act("terminate", json!({}), admin.clone()).await,
            422,
            "invalid_body",
        )
        .await;
    }
    assert_eq!(status().await, "active");
    // The consumer's agency and outsiders may not suspend it.
    let consumer = client_token_of(&app, CONSUMER_AGENCY, CONSUMER_SYSTEM).await;
    let reason = json!({"reason": "Hệ thống khai thác vi phạm quy chế"});
    assert_problem(
        act("suspend", reason.clone(), consumer).await,
        403,
        "forbidden",
    )
    .await;
    let citizen = app.token("citizen").await;
    assert_problem(
        act("suspend", reason.clone(), citizen).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        act("resume", json!({}), admin.clone()).await,
        409,
        "invalid_transition",
    )
    .await;

    let suspended: Value = act(
        "suspend",
        json!({"reason": "Bảo trì hệ thống hộ tịch đến 20/12"}),
        admin.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(suspended["status"], "suspended");
    assert_eq!(suspended["reason"], "Bảo trì hệ thống hộ tịch đến 20/12");
    // Enforced at once: the gateway's decision from storage now refuses.
    assert_eq!(
        gateway_decision(&app, service).await,
        Err(Refusal::Suspended)
    );
    assert_problem(
        act("suspend", reason.clone(), admin.clone()).await,
        409,
        "invalid_transition",
    )
    .await;
    let resumed: Value = act("resume", json!({}), admin.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["status"], "active");
    assert!(resumed.get("reason").is_none());
    assert_eq!(gateway_decision(&app, service).await, Ok(id));

    let operator = app.token("operator").await;
    let terminated: Value = act(
        "terminate",
        json!({"reason": "Hết thời hạn thỏa thuận chia sẻ"}),
        operator.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(terminated["status"], "terminated");
    assert_eq!(
        gateway_decision(&app, service).await,
        Err(Refusal::Terminated)
    );
    // Terminated is final: nothing moves it again.
    for (step, body) in [
        ("resume", json!({})),
        ("suspend", reason.clone()),
        ("terminate", reason.clone()),
    ] {
        let problem = assert_problem(
            act(step, body, admin.clone()).await,
            409,
            "invalid_transition",
        )
        .await;
        assert!(problem["detail"].as_str().unwrap().contains("terminated"));
    }
    assert_eq!(status().await, "terminated");
    let history: Value = app
        .get(&format!("/api/v1/grants/{id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<(String, Value, String)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["to_status"].as_str().unwrap().to_owned(),
                e["reason"].clone(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("active".into(), Value::Null, "agency-admin".into()),
            (
                "suspended".into(),
                json!("Bảo trì hệ thống hộ tịch đến 20/12"),
                "agency-admin".into()
            ),
            ("active".into(), Value::Null, "agency-admin".into()),
            (
                "terminated".into(),
                json!("Hết thời hạn thỏa thuận chia sẻ"),
                "operator".into()
            ),
        ]
    );
    app.stop().await;
}

async fn q13_1_subscriptions_grant_resources_shared_by_default_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let by_default = published_service(&app, &admin, "tra-cuu-khai-sinh", "default").await;
    let on_request = published_service(&app, &admin, "tra-cuu-ket-hon", "on_request").await;
    let draft = register(
        &app,
        &admin,
        &service_body(
            "ho-tich",
            "tra-cuu-khai-tu",
            "https://hotich.stp.hanam.gov.vn/lgsp",
            "default",
        ),
    )
    .await;
    let consumer = client_token_of(&app, CONSUMER_AGENCY, CONSUMER_SYSTEM).await;
    let subscribe = |target: Value, token: String| {
        let app = &app;
        async move {
            app.send_json(
                Method::POST,
                "/api/v1/subscriptions",
                Some(&token),
                &json!({
                    "consumer": {"agency": CONSUMER_AGENCY, "code": CONSUMER_SYSTEM},
                    "target": target,
                    "purposes": ["TTHC", "THONG_KE"]
                }),
            )
            .await
        }
    };

    assert_problem(
        subscribe(
            json!({"kind": "service", "id": on_request}),
            consumer.clone(),
        )
        .await,
        409,
        "not_subscribable",
    )
    .await;
    assert_problem(
        subscribe(json!({"kind": "service", "id": draft}), consumer.clone()).await,
        409,
        "target_unavailable",
    )
    .await;
    // Another agency's administrator cannot subscribe this consumer.
    assert_problem(
        subscribe(json!({"kind": "service", "id": by_default}), admin.clone()).await,
        403,
        "forbidden",
    )
    .await;
    assert!(all_grants(&app, &operator).await.is_empty());

    // The consumer system subscribes itself: active at once, every shareable field.
    let response = subscribe(
        json!({"kind": "service", "id": by_default}),
        consumer.clone(),
    )
    .await;
    assert_eq!(response.status(), 201);
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["status"], "active");
    assert_eq!(grant["source"]["kind"], "subscription");
    assert_eq!(
        grant["fields"],
        json!(["/ho_ten", "/ngay_sinh", "/noi_sinh"])
    );
    assert_eq!(grant["purposes"], json!(["TTHC", "THONG_KE"]));
    assert_eq!(grant["per_minute"], Value::Null);
    assert_eq!(
        gateway_decision(&app, by_default).await,
        Ok(grant["id"].as_i64().unwrap())
    );
    // Subscribing again is the same grant.
    let again = subscribe(
        json!({"kind": "service", "id": by_default}),
        consumer.clone(),
    )
    .await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], grant["id"]);
    // A subscription the provider suspended is not renewed by subscribing again.
    let response = app
        .send_json(
            Method::POST,
            &format!("/api/v1/grants/{}/suspend", grant["id"]),
            Some(&admin),
            &json!({"reason": "Kiểm tra việc khai thác"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_problem(
        subscribe(
            json!({"kind": "service", "id": by_default}),
            consumer.clone(),
        )
        .await,
        409,
        "conflict",
    )
    .await;

    // A dataset shared by default: once hosted, subscribing grants its non-personal fields.
    let businesses = json!({"kind": "dataset", "id": "doanh-nghiep"});
    assert_problem(
        subscribe(businesses.clone(), consumer.clone()).await,
        409,
        "target_unavailable",
    )
    .await;
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/doanh-nghiep/schema",
            Some(&operator),
            &json!({"fields": [
                {"name": "ma_so", "type": "string"},
                {"name": "ten", "type": "string"},
                {"name": "nguoi_dai_dien", "type": "string", "personal": true}
            ], "primaryKey": "ma_so"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let response = subscribe(businesses.clone(), consumer.clone()).await;
    assert_eq!(response.status(), 201);
    let on_dataset: Value = response.json().await.unwrap();
    assert_eq!(on_dataset["fields"], json!(["ma_so", "ten"]));
    assert_eq!(on_dataset["provider"], "000.00.04.H35");
    assert_eq!(
        on_dataset["target"],
        json!({"kind": "dataset", "id": "doanh-nghiep"})
    );
    // Open data needs no grant; the operator subscribes on a system's behalf too.
    assert_problem(
        subscribe(
            json!({"kind": "dataset", "id": "don-vi-hanh-chinh"}),
            operator.clone(),
        )
        .await,
        409,
        "not_subscribable",
    )
    .await;
    assert_eq!(all_grants(&app, &operator).await.len(), 2);
    app.stop().await;
}
