//! The transparency log survives a crash (Q6.4): `lgsp serve` killed with SIGKILL in the middle
//! of concurrent exchanges loses no leaf it has answered with `LGSP-Log-Index` — each is at its
//! index, with its request id, after a restart — and the log after the restart extends the
//! checkpoint signed before the kill (`lgsp log verify`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lgsp_server::demo::DemoCredentials;
use lgsp_store::scratch::ScratchDatabase;
use lgsp_tlog::{decode_bundle, Checkpoint, NoteVerifier, Tile};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::gateway::provider;
use super::helpers::{http_client, on_both_backends, Backend};
use super::services::{openapi, GUIDE, JUSTICE};

on_both_backends!(q6_4_kill_9_under_load_loses_no_answered_leaf);

/// Concurrent clients of the load.
const WORKERS: usize = 8;
/// Answered exchanges after which the server is killed (or after `LOAD_FOR`, if sooner).
const KILL_AFTER: usize = 600;
const LOAD_FOR: Duration = Duration::from_secs(8);

/// The provider system of the story and its service.
const SYSTEM: &str = "ho-tich-crash";
const SERVICE: &str = "khai-sinh";

/// `lgsp serve --demo` on a free port of 127.0.0.1, on `data_dir` and `database` (else SQLite
/// in `data_dir`); its base URL.
async fn serve(data_dir: &Path, database: Option<&str>) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lgsp"));
    command
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("LGSP_LOG_FILTER", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if let Some(url) = database {
        command.args(["--database", url]);
    }
    let mut child = command.spawn().expect("lgsp starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("LGSP is listening on ") {
                return url.to_owned();
            }
        }
        panic!("lgsp stopped before listening");
    })
    .await
    .expect("lgsp listens within 120 s");
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

/// Removes the data directory and drops the PostgreSQL database, even when the test fails.
struct Cleanup {
    data_dir: PathBuf,
    scratch: Option<ScratchDatabase>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(scratch) = self.scratch.take() {
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                let _ = runtime.block_on(scratch.drop_database());
            })
            .join();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Sends `body` to `path` as `token`; asserts the status is `expected`; returns the body.
async fn send(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
    body: &Value,
    expected: u16,
) -> Value {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, expected, "{path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Sở Tư pháp publishes a service on `upstream` and grants it to the first demo client's
/// system, without a quota (no counter writes: the log is the only write under load); returns
/// that system's access token.
async fn set_up(http: &reqwest::Client, base: &str, data_dir: &Path, upstream: &str) -> String {
    let credentials: DemoCredentials = serde_json::from_slice(
        &std::fs::read(lgsp_server::demo::credentials_path(data_dir)).unwrap(),
    )
    .unwrap();
    let password = &credentials
        .users
        .iter()
        .find(|u| u.username == "agency-admin")
        .unwrap()
        .password;
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "agency-admin", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = login["token"].as_str().unwrap();
    let system = json!({
        "code": SYSTEM,
        "name": "Hệ thống hộ tịch (thử nghiệm sự cố)",
        "security_level": 2,
        "connection": {"model": "lgsp"},
        "base_url": upstream,
        "health_url": format!("{upstream}/health")
    });
    let path = format!("/api/v1/agencies/{JUSTICE}/systems");
    send(http, base, &path, admin, &system, 201).await;
    let service = json!({
        "agency": JUSTICE,
        "system": SYSTEM,
        "code": SERVICE,
        "version": "v1",
        "name": "Tra cứu thông tin khai sinh",
        "upstream_url": format!("{upstream}/api"),
        "methods": ["GET"],
        "openapi": openapi("/khai-sinh"),
        "shareable_fields": ["/ho_ten", "/ngay_sinh", "/noi_sinh"],
        "sharing_mode": "on_request",
        "docs": GUIDE
    });
    let created = send(http, base, "/api/v1/services", admin, &service, 201).await;
    let id = created["id"].as_i64().unwrap();
    let publish = format!("/api/v1/services/{id}/publish");
    send(http, base, &publish, admin, &json!({}), 200).await;
    let client = &credentials.clients[0];
    let grant = json!({
        "consumer": {"agency": client.agency, "code": client.system},
        "target": {"kind": "service", "id": id},
        "fields": ["/ho_ten"],
        "purposes": ["TTHC"],
        "valid_until": "2099-01-01T00:00:00Z"
    });
    send(http, base, "/api/v1/grants", admin, &grant, 201).await;
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

/// One answered exchange: the index it was answered with and its request id.
#[derive(Debug, Clone)]
struct Answered {
    index: u64,
    request_id: String,
}

/// One client of the load: exchanges through the gateway and reads of an open dataset, in
/// turn, each with its own `LGSP-Request-Id`, until `stop` or until the server is gone.
async fn client(
    http: reqwest::Client,
    base: String,
    token: String,
    worker: usize,
    stop: Arc<AtomicBool>,
    answered: Arc<Mutex<Vec<Answered>>>,
) {
    let exchange = format!("{base}/x/{JUSTICE}/{SYSTEM}/{SERVICE}/v1/khai-sinh/123");
    let dataset = format!("{base}/api/v1/datasets/don-vi-hanh-chinh/records?limit=1");
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let request_id = format!("tai-{worker}-{n}");
        let url = if n % 4 == 3 { &dataset } else { &exchange };
        let Ok(response) = http
            .get(url)
            .bearer_auth(&token)
            .header("lgsp-purpose", "TTHC")
            .header("lgsp-request-id", &request_id)
            .send()
            .await
        else {
            return; // killed: this request was never answered
        };
        // An answer counts from its header fields on: the index was given.
        assert_eq!(response.status(), 200, "{request_id}");
        assert_eq!(response.headers()["lgsp-request-id"], request_id.as_str());
        let index = response.headers()["lgsp-log-index"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        answered
            .lock()
            .unwrap()
            .push(Answered { index, request_id });
        if response.bytes().await.is_err() {
            return;
        }
    }
}

/// The newest signed checkpoint, opened with the log's key.
async fn checkpoint(
    http: &reqwest::Client,
    base: &str,
    key: &NoteVerifier,
) -> (Checkpoint, String) {
    let note = http
        .get(format!("{base}/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (Checkpoint::open(&note, key).unwrap(), note)
}

/// Every entry of the log up to `size`, from its entry bundles.
async fn entries(http: &reqwest::Client, base: &str, size: u64) -> Vec<Value> {
    let mut entries = Vec::new();
    for index in 0..size.div_ceil(256) {
        let tile = Tile {
            level: None,
            index,
            width: (size - index * 256).min(256) as u16,
        };
        let response = http
            .get(format!("{base}/log/{}", tile.path()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", tile.path());
        let bundle = response.bytes().await.unwrap();
        for entry in decode_bundle(&bundle).unwrap() {
            entries.push(serde_json::from_slice(entry).unwrap());
        }
    }
    entries
}

async fn q6_4_kill_9_under_load_loses_no_answered_leaf(backend: Backend) {
    let data_dir = std::env::temp_dir().join(format!("lgsp-crash-{}", uuid::Uuid::now_v7()));
    let scratch = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(
            ScratchDatabase::create()
                .await
                .expect("PostgreSQL is reachable"),
        ),
    };
    let database = scratch.as_ref().map(ScratchDatabase::url);
    let _cleanup = Cleanup {
        data_dir: data_dir.clone(),
        scratch,
    };
    let (mut server, base) = serve(&data_dir, database.as_deref()).await;
    let http = http_client();
    let (upstream, _) = provider().await;
    let token = set_up(&http, &base, &data_dir, &upstream).await;
    let key_text = http
        .get(format!("{base}/log/key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = NoteVerifier::parse(key_text.trim()).unwrap();

    // The load: clients exchanging as fast as the server answers.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..WORKERS)
        .map(|worker| {
            tokio::spawn(client(
                http.clone(),
                base.clone(),
                token.clone(),
                worker,
                stop.clone(),
                answered.clone(),
            ))
        })
        .collect();
    let count = || answered.lock().unwrap().len();
    let started = Instant::now();
    // A checkpoint signed under load, kept as an auditor would keep it.
    while count() < KILL_AFTER / 3 && started.elapsed() < LOAD_FOR / 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (before, before_note) = loop {
        let (before, note) = checkpoint(&http, &base, &key).await;
        if before.size > 0 {
            break (before, note);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    while count() < KILL_AFTER && started.elapsed() < LOAD_FOR {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL: no shutdown, no flush, whatever the committer was doing.
    server.start_kill().unwrap();
    let killed = server.wait().await.unwrap();
    assert!(!killed.success(), "{killed}");
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() >= 100,
        "only {} exchanges answered before the kill",
        answered.len()
    );

    // The same store, a new process.
    let (server, base) = serve(&data_dir, database.as_deref()).await;
    let highest = answered.iter().map(|a| a.index).max().unwrap();
    let waited = Instant::now();
    let (after, _) = loop {
        let (after, note) = checkpoint(&http, &base, &key).await;
        if after.size > highest {
            break (after, note);
        }
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "answered index {highest} is beyond the log's {} leaves after the restart",
            after.size
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(after.size >= before.size);

    // Every answered leaf is where its answer said, recording that very request.
    let entries = entries(&http, &base, after.size).await;
    for Answered { index, request_id } in &answered {
        let entry = &entries[*index as usize];
        assert_eq!(entry["kind"], "exchange", "leaf {index}: {entry}");
        assert_eq!(
            entry["request_id"],
            request_id.as_str(),
            "leaf {index}: {entry}"
        );
        assert_eq!(entry["status"], 200, "leaf {index}: {entry}");
    }
    let mut indexes: Vec<u64> = answered.iter().map(|a| a.index).collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), answered.len(), "an index was given twice");

    // The restarted log goes on after the last leaf; it re-derives, and extends the
    // checkpoint signed before the kill.
    let response = http
        .get(format!(
            "{base}/x/{JUSTICE}/{SYSTEM}/{SERVICE}/v1/khai-sinh/123"
        ))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let next: u64 = response.headers()["lgsp-log-index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next >= after.size, "{next} < {}", after.size);
    let saved = data_dir.join("checkpoint-before-kill");
    std::fs::write(&saved, &before_note).unwrap();
    let args: Vec<String> = vec![
        "log".into(),
        "verify".into(),
        "--url".into(),
        base.clone(),
        "--key".into(),
        key_text.trim().into(),
        "--checkpoint".into(),
        saved.to_str().unwrap().into(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("extends the saved checkpoint"),
        "{printed}"
    );

    let pid = server.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let mut server = server;
    let _ = tokio::time::timeout(Duration::from_secs(30), server.wait()).await;
}
