//! Signing in (people), client credentials (systems), keys, and what survives a restart.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    sign_in_never_reveals_which_accounts_exist,
    failed_sign_ins_make_the_next_attempt_wait,
    oauth2_client_credentials_follow_rfc_6749,
    access_tokens_verify_with_the_published_keys_across_rotation,
    everything_is_still_there_after_a_restart,
);

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.send_json(
        Method::POST,
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": password}),
    )
    .await
}

async fn sign_in_never_reveals_which_accounts_exist(backend: Backend) {
    let app = spawn_app(backend).await;
    let wrong_password = login(&app, "operator", "not the password at all").await;
    let unknown_user = login(&app, "nobody-here", "not the password at all").await;
    let a = assert_problem(wrong_password, 401, "invalid_credentials").await;
    let b = assert_problem(unknown_user, 401, "invalid_credentials").await;
    assert_eq!(
        a, b,
        "the same answer for a wrong password and an unknown account"
    );

    // A token for API use works on protected routes and ends with logout.
    let token = app.token("operator").await;
    let me: Value = app
        .get("/api/v1/auth/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "person");
    assert_eq!(me["role"], "operator");
    let response = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_problem(
        app.get("/api/v1/auth/me", Some(&token)).await,
        401,
        "invalid_token",
    )
    .await;
    assert_problem(
        app.get("/api/v1/systems", Some("garbage")).await,
        401,
        "invalid_token",
    )
    .await;
    let response = app
        .http
        .get(app.url("/api/v1/systems"))
        .basic_auth("operator", Some(app.password_of("operator")))
        .send()
        .await
        .unwrap();
    assert_problem(response, 401, "invalid_token").await;
    app.stop().await;
}

async fn failed_sign_ins_make_the_next_attempt_wait(backend: Backend) {
    let app = spawn_app(backend).await;
    for username in ["auditor", "no-such-account"] {
        for _ in 0..3 {
            assert_eq!(
                login(&app, username, "wrong password, again")
                    .await
                    .status(),
                401
            );
        }
        // The next attempt must wait, even with the right password: the delay grows.
        let right = if username == "auditor" {
            app.password_of("auditor")
        } else {
            "whatever it is".into()
        };
        let response = login(&app, username, &right).await;
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry_after), "{retry_after}");
        assert_problem(response, 429, "login_throttled").await;
    }
    // Other accounts are not affected.
    assert_eq!(
        login(&app, "approver", &app.password_of("approver"))
            .await
            .status(),
        200
    );
    app.stop().await;
}

async fn oauth2_client_credentials_follow_rfc_6749(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = app.credentials.clients[0].clone();
    let token = |form: Vec<(&'static str, String)>| {
        let request = app.http.post(app.url("/oauth/token")).form(&form);
        async move { request.send().await.unwrap() }
    };

    // Form fields, and the WSO2-style `/token` alias with HTTP Basic.
    let response = token(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", client.client_id.clone()),
        ("client_secret", client.client_secret.clone()),
    ])
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "gateway");

    let response = app
        .http
        .post(app.url("/token"))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "gateway")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let wrong_secret = token(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", client.client_id.clone()),
        ("client_secret", "not-the-secret".into()),
    ])
    .await;
    assert_eq!(
        wrong_secret.headers()["www-authenticate"],
        "Basic realm=\"lgsp\""
    );
    let body = assert_problem(wrong_secret, 401, "invalid_client").await;
    assert_eq!(body["error"], "invalid_client");

    let unknown = token(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", "unknown".into()),
        ("client_secret", "x".into()),
    ])
    .await;
    assert_problem(unknown, 401, "invalid_client").await;

    let missing_grant = token(vec![("client_id", client.client_id.clone())]).await;
    let body = assert_problem(missing_grant, 400, "invalid_request").await;
    assert_eq!(body["error"], "invalid_request");

    let password_grant = token(vec![
        ("grant_type", "password".into()),
        ("client_id", client.client_id.clone()),
        ("client_secret", client.client_secret.clone()),
    ])
    .await;
    assert_problem(password_grant, 400, "unsupported_grant_type").await;

    let bad_scope = token(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", client.client_id.clone()),
        ("client_secret", client.client_secret.clone()),
        ("scope", "admin".into()),
    ])
    .await;
    assert_problem(bad_scope, 400, "invalid_scope").await;

    let both = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_secret", client.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_problem(both, 400, "invalid_request").await;

    let json_body = app
        .send_json(
            Method::POST,
            "/oauth/token",
            None,
            &json!({"grant_type": "client_credentials"}),
        )
        .await;
    assert_problem(json_body, 415, "unsupported_media_type").await;
    app.stop().await;
}

/// Verifies a compact JWS with the JWK Set served by the platform, as a third party would.
async fn verify_with_jwks(app: &TestApp, token: &str) -> String {
    let jwks: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let kid = header["kid"].as_str().unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("the token's key is published");
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = VerifyingKey::from_bytes(&x).unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the signature verifies with the published key");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 3600, "short-lived");
    kid.to_owned()
}

async fn access_tokens_verify_with_the_published_keys_across_rotation(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, old_token) = app.client_token().await;
    let old_kid = verify_with_jwks(&app, &old_token).await;

    lgsp_server::keys::Keyring::rotate(&app.data_dir).unwrap();
    let app = app.restart().await;
    let jwks: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);

    let (_, new_token) = app.client_token().await;
    let new_kid = verify_with_jwks(&app, &new_token).await;
    assert_ne!(new_kid, old_kid, "the new key signs");
    // The old key still verifies what it signed, for the platform and for third parties.
    assert_eq!(verify_with_jwks(&app, &old_token).await, old_kid);
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&old_token)).await.status(),
        200
    );

    // A token signed by a key the platform never had is refused.
    let forged = format!(
        "{}.{}",
        &new_token[..new_token.rfind('.').unwrap()],
        URL_SAFE_NO_PAD.encode([7u8; 64])
    );
    assert_problem(
        app.get("/api/v1/auth/me", Some(&forged)).await,
        401,
        "invalid_token",
    )
    .await;
    app.stop().await;
}

async fn everything_is_still_there_after_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/agencies",
            Some(&operator),
            &json!({"code": "000.00.43.H35", "name": "Trung tâm Phục vụ hành chính công", "kind": "other",
                    "parent": "000.00.00.H35",
                    "focal_officer": {"name": "Đinh Văn Long", "title": "Giám đốc", "phone": "0226 3555 666", "email": "longdv@hanam.gov.vn"}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let agencies_before: Vec<Value> = app
        .get("/api/v1/agencies", None)
        .await
        .json()
        .await
        .unwrap();
    let credentials_before =
        std::fs::read(lgsp_server::demo::credentials_path(&app.data_dir)).unwrap();

    // The restart loads the demo again: nothing may be duplicated, no secret changed.
    let app = app.restart().await;
    let agencies_after: Vec<Value> = app
        .get("/api/v1/agencies", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(agencies_after.len(), agencies_before.len());
    assert!(agencies_after.iter().any(|a| a["code"] == "000.00.43.H35"));
    assert_eq!(
        std::fs::read(lgsp_server::demo::credentials_path(&app.data_dir)).unwrap(),
        credentials_before
    );
    // Sessions survive too: they are stored server-side.
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&operator)).await.status(),
        200
    );
    assert_eq!(app.token("citizen").await.len(), 43);
    app.stop().await;
}
