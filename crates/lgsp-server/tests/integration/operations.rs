//! Probes, metrics, request ids, graceful shutdown, the OpenAPI document and the demo loader.

use std::collections::BTreeSet;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use super::helpers::{on_both_backends, spawn_app, Backend};

on_both_backends!(
    probes_answer_and_requests_carry_ids,
    openapi_3_1_documents_every_route,
    demo_loads_a_whole_province_once,
);

async fn probes_answer_and_requests_carry_ids(backend: Backend) {
    // The recorder is installed when the metrics listener is configured; before that, metrics
    // are not collected.
    let handle = lgsp_server::ops::prometheus();
    let app = spawn_app(backend).await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status(), 200);
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        uuid::Uuid::parse_str(&generated).unwrap().get_version_num(),
        7
    );
    let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "from-the-client-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "from-the-client-42");

    // Metrics are served by their own router, never by the public one.
    assert_eq!(app.get("/metrics", None).await.status(), 404);
    let metrics = lgsp_server::ops::metrics_router(handle);
    let response = metrics
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        text.contains(r#"lgsp_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{text}"
    );
    app.stop().await;
}

async fn openapi_3_1_documents_every_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    for expected in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/agencies",
        "/api/v1/agencies/{code}",
        "/api/v1/agencies/{code}/focal-officer",
        "/api/v1/agencies/{code}/focal-officer/history",
        "/api/v1/agencies/{code}/systems",
        "/api/v1/agencies/{code}/systems/{system}",
        "/api/v1/agencies/{code}/systems/{system}/readiness",
        "/api/v1/systems",
        "/api/v1/users",
        "/api/v1/users/{username}",
        "/api/v1/clients",
        "/api/v1/clients/{client_id}",
        "/api/v1/clients/{client_id}/secret",
        "/api/v1/openapi.json",
        "/oauth/token",
        "/token",
        "/.well-known/jwks.json",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            documented.contains(expected),
            "{expected} is not documented"
        );
    }
    // And every documented operation is really served: no 404/405 from the router.
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{code}", "000.00.03.H35")
            .replace("{system}", "khong-co")
            .replace("{username}", "khong-co")
            .replace("{client_id}", "khong-co");
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .http
                .request(method.clone(), app.url(&concrete))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(
                !(status == 405 || (status == 404 && body["code"] == "not_found")),
                "{method} {path} is documented but not routed ({status})"
            );
        }
        let operations = item.as_object().unwrap();
        for operation in operations.values() {
            assert!(
                operation["responses"].is_object(),
                "{path} documents its responses"
            );
        }
    }
    app.stop().await;
}

async fn demo_loads_a_whole_province_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = lgsp_server::demo::credentials_path(&app.data_dir);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the credentials file is private");
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let roles: BTreeSet<&str> = file["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        BTreeSet::from(["operator", "approver", "agency_admin", "auditor", "citizen"])
    );
    for user in file["users"].as_array().unwrap() {
        for field in ["username", "password", "role", "agency"] {
            assert!(user.get(field).is_some(), "{user} has {field}");
        }
    }
    for client in file["clients"].as_array().unwrap() {
        for field in ["client_id", "client_secret", "agency", "system"] {
            assert!(client[field].is_string(), "{client} has {field}");
        }
    }

    let operator = app.token("operator").await;
    let agencies: Vec<Value> = app
        .get("/api/v1/agencies", None)
        .await
        .json()
        .await
        .unwrap();
    let kinds = |kind: &str| agencies.iter().filter(|a| a["kind"] == kind).count();
    assert_eq!(kinds("provincial_committee"), 1);
    assert!(
        kinds("department") >= 7,
        "Sở TTTT and at least six other departments"
    );
    assert_eq!(kinds("police"), 1);
    assert!(kinds("district_committee") >= 6);
    let systems: Vec<Value> = app
        .get("/api/v1/systems", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    for agency in &agencies {
        assert!(
            systems.iter().any(|s| s["agency"] == agency["code"]),
            "{} has a system",
            agency["code"]
        );
    }
    let clients: Vec<Value> = app
        .get("/api/v1/clients", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clients.len(), file["clients"].as_array().unwrap().len());

    // Loading again changes nothing; losing the file gives fresh, working secrets.
    lgsp_server::demo::load(&app.state.store, &app.data_dir)
        .await
        .unwrap();
    let again: Vec<Value> = app
        .get("/api/v1/agencies", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again.len(), agencies.len());
    assert_eq!(
        serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()).unwrap(),
        file
    );
    std::fs::remove_file(&path).unwrap();
    lgsp_server::demo::load(&app.state.store, &app.data_dir)
        .await
        .unwrap();
    let renewed: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let password = renewed["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "operator")
        .unwrap()["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            &serde_json::json!({"username": "operator", "password": password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    // The new password ended the operator's earlier sessions.
    assert_eq!(
        app.get("/api/v1/clients", Some(&operator)).await.status(),
        401
    );
    let operator = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let clients_after: Vec<Value> = app
        .get("/api/v1/clients", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(clients_after.len(), clients.len(), "no client duplicated");
    app.stop().await;
}

/// SIGTERM-style shutdown lets a request in flight finish. The request is held open with
/// `Expect: 100-continue`: once the server has sent `100 Continue` it is inside the handler;
/// then shutdown starts, the body arrives, and the answer must still come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_lets_requests_in_flight_finish() {
    let settings = lgsp_server::settings::Settings {
        data_dir: std::env::temp_dir().join(format!("lgsp-test-{}", uuid::Uuid::now_v7())),
        ..Default::default()
    };
    let data_dir = settings.data_dir.clone();
    let state = lgsp_server::prepare(settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lgsp_server::app::run(listener, state, async move {
        let _ = stopped.await;
    }));

    let body = r#"{"username":"nobody","password":"not a password"}"#;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/auth/login HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nexpect: 100-continue\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut buffer = vec![0u8; 4096];
    let n = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 100 Continue"));

    stop.send(()).unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("invalid_credentials"));
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(data_dir);
}

/// The `lgsp` binary itself: flags and environment are read, the server answers, and SIGTERM
/// stops it cleanly and promptly.
#[test]
fn binary_serves_until_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    let data_dir = std::env::temp_dir().join(format!("lgsp-bin-{}", uuid::Uuid::now_v7()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lgsp"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env("LGSP_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let address = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the server exited: {printed}"
        );
        printed.push_str(&line);
        if let Some(address) = line.trim().strip_prefix("LGSP is listening on http://") {
            break address.to_owned();
        }
    };
    assert!(
        printed.contains("demo-credentials.json"),
        "the credentials path is printed"
    );

    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let asked = std::time::Instant::now();
    let exit = child.wait().unwrap();
    // The demo's systems have invented host names: a monitoring probe may be waiting on the
    // resolver (5 s without network); the exit does not wait for it.
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(3),
        "SIGTERM took {:?} to stop the server",
        asked.elapsed()
    );
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(exit.success(), "{logs}");
    // Structured logs: one JSON object per line, and the database URL never printed.
    let first: Value = serde_json::from_str(logs.lines().next().unwrap()).unwrap();
    assert_eq!(first["message"], "starting");
    assert!(logs.contains("\"message\":\"stopped\""), "{logs}");
    let _ = std::fs::remove_dir_all(data_dir);
}

#[test]
fn binary_refuses_unknown_settings_and_hides_secrets() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
        .args(["serve", "--data-dir", "/nonexistent-never-created"])
        .env("LGSP_LISTN", "127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("listn"), "{stderr}");

    let data_dir = std::env::temp_dir().join(format!("lgsp-bin-{}", uuid::Uuid::now_v7()));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
        .args(["serve", "--listen", "127.0.0.1:1", "--data-dir"])
        .arg(&data_dir)
        .args([
            "--database",
            "postgres://lgsp:hunter2-secret@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success(), "no database there");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("cannot open the database"), "{all}");
    assert!(!all.contains("hunter2"), "the password leaked: {all}");
    let _ = std::fs::remove_dir_all(data_dir);
}
