//! Changes published to NATS JetStream (Q5.3.b): `lgsp serve --nats URL` publishes every change
//! to `lgsp.changes.<dataset>` in stream `LGSP_CHANGES`, in order, with `Nats-Msg-Id`
//! `<dataset>:<seq>`; a cursor in the database makes a restarted server go on where it stopped.
//!
//! Needs a NATS server with JetStream on 127.0.0.1:4222: run with
//! `cargo test -p lgsp-server --test integration -- --ignored nats`. The dataset is unique per
//! run (the stream outlives test runs and JetStream deduplicates by message id).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;
use lgsp_core::catalog::EntryContent;
use lgsp_core::proposal::Decision;
use lgsp_core::Text;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const NATS: &str = "nats://127.0.0.1:4222";

/// `lgsp serve --demo --nats …` on a free port; its base URL.
async fn serve(data_dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lgsp"))
        .arg("serve")
        .arg("--demo")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0", "--nats", NATS])
        .env("LGSP_PUSH_POLL_MILLIS", "50")
        .env("LGSP_PUSH_RETRY_BASE_MILLIS", "100")
        .env("LGSP_LOG_FILTER", "warn")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("lgsp starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("LGSP is listening on ") {
                return url.to_owned();
            }
        }
        panic!("lgsp stopped before listening");
    })
    .await
    .expect("lgsp listens within 60 s");
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

/// Stops the server as an operator would (SIGTERM) and waits for it.
async fn stop(mut child: Child) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("lgsp stops within 30 s")
        .unwrap();
    assert!(exited.success(), "{exited}");
}

/// Adds a catalog entry with one open dataset named `dataset` (the demo's schools entry,
/// renamed), as an approved decision would.
async fn add_dataset(data_dir: &Path, dataset: &str, code: &str) {
    let schools = lgsp_server::demo::catalog::catalog()
        .into_iter()
        .find(|d| d.entry.code.as_str() == "CSDL.TRUONGHOC")
        .unwrap();
    let mut entry = serde_json::to_value(&schools.entry).unwrap();
    entry["code"] = json!(code);
    let mut meta = entry["datasets"][0].clone();
    meta["id"] = json!(dataset);
    entry["datasets"] = json!([meta]);
    let entry: EntryContent = serde_json::from_value(entry).unwrap();
    let store = lgsp_store::Store::open_sqlite(&data_dir.join("lgsp.db"))
        .await
        .unwrap();
    let decision = Decision {
        number: Text::parse("99/QĐ-UBND").unwrap(),
        date: schools.decision_date,
        effective_date: schools.decision_date,
    };
    assert!(store.seed_entry(&entry, &decision).await.unwrap());
    store.close().await;
}

/// The publication cursor of `dataset` as stored: (published_seq, lease held).
async fn cursor(data_dir: &Path, dataset: &str) -> Option<(i64, bool)> {
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", data_dir.join("lgsp.db").display()))
            .await
            .unwrap();
    let row: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT published_seq, lease_token FROM change_publications
         WHERE sink = 'nats' AND dataset_id = $1",
    )
    .bind(dataset)
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    row.map(|(seq, lease)| (seq, lease.is_some()))
}

/// Waits until everything up to `seq` is published and the cursor is let go.
async fn until_published(data_dir: &Path, dataset: &str, seq: i64) {
    for _ in 0..400 {
        if cursor(data_dir, dataset).await == Some((seq, false)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cursor of {dataset}: {:?}", cursor(data_dir, dataset).await);
}

/// A message as consumed: its id header and JSON body.
struct Published {
    subject: String,
    id: String,
    body: Value,
}

/// The next `count` messages of the consumer, waiting at most 20 s for each.
async fn take(messages: &mut consumer::pull::Stream, count: usize) -> Vec<Published> {
    let mut out = Vec::new();
    for _ in 0..count {
        let message = tokio::time::timeout(Duration::from_secs(20), messages.next())
            .await
            .expect("a message within 20 s")
            .expect("the consumer runs")
            .expect("a message");
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.as_str().to_owned())
            .expect("Nats-Msg-Id");
        out.push(Published {
            subject: message.subject.to_string(),
            id,
            body: serde_json::from_slice(&message.payload).unwrap(),
        });
    }
    out
}

async fn token(http: &reqwest::Client, base: &str, data_dir: &Path, user: &str) -> String {
    let credentials: Value = serde_json::from_slice(
        &std::fs::read(lgsp_server::demo::credentials_path(data_dir)).unwrap(),
    )
    .unwrap();
    let password = credentials["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == user)
        .unwrap()["password"]
        .clone();
    let response: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS with JetStream on 127.0.0.1:4222: run with --ignored nats"]
async fn q5_3_b_changes_are_published_to_nats() {
    let run = uuid::Uuid::now_v7().simple().to_string();
    let dataset = format!("nats-{}", &run[run.len() - 16..]);
    let code = format!("CSDL.NATS.{}", run[run.len() - 16..].to_uppercase());
    let data_dir: PathBuf = std::env::temp_dir().join(format!("lgsp-nats-{run}"));
    std::fs::create_dir_all(&data_dir).unwrap();
    let http = reqwest::Client::new();

    let (server, base) = serve(&data_dir).await;
    add_dataset(&data_dir, &dataset, &code).await;
    let operator = token(&http, &base, &data_dir, "operator").await;
    let schema = json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "ten", "type": "string"},
            {"name": "dien_thoai", "type": "string", "personal": true}
        ],
        "primaryKey": "ma"
    });
    let defined = http
        .request(
            Method::PUT,
            format!("{base}/api/v1/datasets/{dataset}/schema"),
        )
        .bearer_auth(&operator)
        .json(&schema)
        .send()
        .await
        .unwrap();
    assert_eq!(defined.status(), 201);
    for (mode, csv) in [
        (
            "replace",
            "ma,ten,dien_thoai\n1,Trường A,0911\n2,Trường B,0912\n3,Trường C,\n",
        ),
        (
            "upsert",
            "ma,ten,dien_thoai\n2,Trường B mới,0912\n4,Trường D,\n",
        ),
    ] {
        let imported = http
            .post(format!(
                "{base}/api/v1/datasets/{dataset}/records?mode={mode}"
            ))
            .bearer_auth(&operator)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(imported.status(), 200, "{mode}");
    }

    // A consumer of our own on the server's stream, for this dataset only.
    let jetstream = jetstream::new(async_nats::connect(NATS).await.expect("NATS runs"));
    let mut stream = None;
    for _ in 0..200 {
        if let Ok(found) = jetstream.get_stream("LGSP_CHANGES").await {
            stream = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut stream = stream.expect("the server creates the stream LGSP_CHANGES");
    let info = stream.info().await.unwrap();
    assert!(info.config.subjects.contains(&"lgsp.changes.>".to_owned()));
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            name: Some(format!("lgsp-test-{run}")),
            filter_subject: format!("lgsp.changes.{dataset}"),
            deliver_policy: consumer::DeliverPolicy::All,
            ack_policy: consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let first = take(&mut messages, 5).await;

    // In order, one message per change, each the change as the public feed shows it.
    let feed: Value = http
        .get(format!("{base}/api/v1/datasets/{dataset}/changes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<Value> = first.iter().map(|m| m.body.clone()).collect();
    assert_eq!(Value::from(bodies), feed["changes"]);
    for (i, message) in first.iter().enumerate() {
        let seq = i as i64 + 1;
        assert_eq!(message.subject, format!("lgsp.changes.{dataset}"));
        assert_eq!(message.id, format!("{dataset}:{seq}"));
        assert_eq!(message.body["seq"], seq);
        assert!(
            message.body["record"].get("dien_thoai").is_none(),
            "no personal field"
        );
    }
    assert_eq!(first[3].body["op"], "update");
    assert_eq!(first[3].body["record"]["ten"], "Trường B mới");

    // Stopped, an import through the command line; started again, it goes on from its
    // cursor: the new changes and nothing twice.
    until_published(&data_dir, &dataset, 5).await;
    stop(server).await;
    let file = data_dir.join("more.csv");
    std::fs::write(&file, "ma,ten,dien_thoai\n5,Trường E,\n").unwrap();
    let imported = Command::new(env!("CARGO_BIN_EXE_lgsp"))
        .arg("import")
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--dataset", &dataset, "--mode", "append"])
        .arg(&file)
        .env("LGSP_LOG_FILTER", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert_eq!(cursor(&data_dir, &dataset).await, Some((5, false)));
    let (server, _) = serve(&data_dir).await;
    let after = take(&mut messages, 1).await;
    assert_eq!(after[0].id, format!("{dataset}:6"));
    assert_eq!(after[0].body["op"], "insert");
    assert_eq!(after[0].body["key"], json!({"ma": 5}));
    until_published(&data_dir, &dataset, 6).await;
    let nothing_more = tokio::time::timeout(Duration::from_millis(500), messages.next()).await;
    assert!(nothing_more.is_err(), "nothing published twice");
    stop(server).await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
