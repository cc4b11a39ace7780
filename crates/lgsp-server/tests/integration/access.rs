//! Roles at work through the API: what each demo account may and may not do.

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend};

on_both_backends!(
    roles_are_enforced_on_every_registry,
    users_are_created_within_role_limits,
    clients_are_issued_once_and_revocable_by_their_agency,
);

async fn roles_are_enforced_on_every_registry(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.token("citizen").await;
    let approver = app.token("approver").await;
    let auditor = app.token("auditor").await;

    assert_problem(
        app.get("/api/v1/systems", None).await,
        401,
        "authentication_required",
    )
    .await;
    assert_problem(
        app.get("/api/v1/systems", Some(&citizen)).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/systems", Some(&approver)).await.status(),
        200
    );
    assert_eq!(app.get("/api/v1/users", Some(&auditor)).await.status(), 200);
    assert_problem(
        app.get("/api/v1/users", Some(&approver)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/clients", None).await,
        401,
        "authentication_required",
    )
    .await;

    let response = app
        .send_json(
            Method::POST,
            "/api/v1/agencies",
            Some(&auditor),
            &json!({"code": "000.00.42.H35", "name": "X", "kind": "other",
                    "focal_officer": {"name": "A", "title": "B", "phone": "0226 3000 000", "email": "a@hanam.gov.vn"}}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    // A system's token is not a person: it reads the public registry but nothing else.
    let (_, system_token) = app.client_token().await;
    assert_eq!(
        app.get("/api/v1/agencies", Some(&system_token))
            .await
            .status(),
        200
    );
    assert_problem(
        app.get("/api/v1/users", Some(&system_token)).await,
        403,
        "forbidden",
    )
    .await;
    app.stop().await;
}

async fn users_are_created_within_role_limits(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;

    let colleague = json!({
        "username": "tuphap.canbo2",
        "full_name": "Bùi Thị Hạnh",
        "role": "agency_admin",
        "agency": "000.00.03.H35",
        "password": "mật khẩu rất dài 2026"
    });
    let response = app
        .send_json(Method::POST, "/api/v1/users", Some(&admin), &colleague)
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["role"], "agency_admin");
    assert!(created.get("password_hash").is_none() && created.get("password").is_none());

    // The new account signs in with its password.
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"username": "tuphap.canbo2", "password": "mật khẩu rất dài 2026"}),
        )
        .await;
    assert_eq!(response.status(), 200);

    let mut operator_account = colleague.clone();
    operator_account["username"] = json!("gia.mao");
    operator_account["role"] = json!("operator");
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            &operator_account,
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    let mut elsewhere = colleague.clone();
    elsewhere["username"] = json!("so.khac");
    elsewhere["agency"] = json!("000.00.05.H35");
    let response = app
        .send_json(Method::POST, "/api/v1/users", Some(&admin), &elsewhere)
        .await;
    assert_problem(response, 403, "forbidden").await;

    let mut short_password = colleague.clone();
    short_password["username"] = json!("mat.khau.ngan");
    short_password["password"] = json!("ngan");
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&operator),
            &short_password,
        )
        .await;
    assert_problem(response, 422, "invalid_body").await;

    let mut admin_without_agency = colleague.clone();
    admin_without_agency["username"] = json!("khong.co.quan");
    admin_without_agency
        .as_object_mut()
        .unwrap()
        .remove("agency");
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&operator),
            &admin_without_agency,
        )
        .await;
    assert_problem(response, 422, "invalid_body").await;

    let response = app
        .send_json(Method::POST, "/api/v1/users", Some(&operator), &colleague)
        .await;
    assert_problem(response, 409, "conflict").await;

    // Disabling an account ends its sessions at once.
    let colleague_token = {
        let response = app
            .send_json(
                Method::POST,
                "/api/v1/auth/login",
                None,
                &json!({"username": "tuphap.canbo2", "password": "mật khẩu rất dài 2026"}),
            )
            .await;
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        app.get("/api/v1/systems", Some(&colleague_token))
            .await
            .status(),
        200
    );
    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/tuphap.canbo2",
            Some(&operator),
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_problem(
        app.get("/api/v1/systems", Some(&colleague_token)).await,
        401,
        "invalid_token",
    )
    .await;

    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/operator",
            Some(&operator),
            &json!({"disabled": true}),
        )
        .await;
    assert_problem(response, 409, "conflict").await;

    let listed: Vec<Value> = app
        .get("/api/v1/users", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        listed.iter().all(|u| u["agency"] == "000.00.03.H35"),
        "{listed:?}"
    );
    app.stop().await;
}

async fn clients_are_issued_once_and_revocable_by_their_agency(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.token("agency-admin").await;
    let systems: Vec<Value> = app
        .get("/api/v1/agencies/000.00.03.H35/systems", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let system = systems[0]["code"].as_str().unwrap();

    let response = app
        .send_json(
            Method::POST,
            "/api/v1/clients",
            Some(&admin),
            &json!({"agency": "000.00.03.H35", "system": system, "name": "Kết nối thử nghiệm"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let issued: Value = response.json().await.unwrap();
    let client_id = issued["client_id"].as_str().unwrap().to_owned();
    let secret = issued["client_secret"].as_str().unwrap().to_owned();
    let shown: Value = app
        .get(&format!("/api/v1/clients/{client_id}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        shown.get("client_secret").is_none(),
        "the secret is shown once"
    );

    let token_response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token_response.status(), 200);
    let token = token_response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = app
        .get("/api/v1/auth/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "system");
    assert_eq!(me["system"], system);

    let response = app
        .send_json(
            Method::POST,
            "/api/v1/clients",
            Some(&admin),
            &json!({"agency": "000.00.05.H35", "system": "x", "name": "Không được"}),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;

    let response = app
        .http
        .delete(app.url(&format!("/api/v1/clients/{client_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Revocation takes effect on the very next request and for new tokens.
    assert_problem(
        app.get("/api/v1/auth/me", Some(&token)).await,
        401,
        "invalid_token",
    )
    .await;
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "invalid_client").await;
    app.stop().await;
}
