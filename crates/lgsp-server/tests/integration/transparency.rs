//! The transparency log over HTTP (Q4, Q6.4, Q15.1.b, Q15.2.e): every change request is a
//! leaf committed before its answer, with its index in `LGSP-Log-Index`; entries prove their
//! inclusion in signed checkpoints; tiles follow C2SP `tlog-tiles`; `lgsp log verify` catches
//! a rewritten entry.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use lgsp_tlog::{
    decode_bundle, leaf_hash, verify_consistency, verify_inclusion, Checkpoint, Hash, NoteVerifier,
    Tile,
};
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q4_every_change_is_logged_before_it_is_answered,
    q4_tiles_checkpoints_and_proofs_follow_c2sp,
    q4_log_verify_rederives_the_log_and_catches_a_rewritten_entry,
);

fn hashes(values: &Value) -> Vec<Hash> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            BASE64
                .decode(v.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect()
}

async fn verifier(app: &TestApp) -> NoteVerifier {
    let key = app.get("/log/key", None).await.text().await.unwrap();
    NoteVerifier::parse(key.trim()).unwrap()
}

/// The logged entry at `index`, after checking its inclusion proof against its checkpoint.
pub async fn proven_entry(app: &TestApp, index: u64) -> Value {
    let response = app.get(&format!("/api/v1/log/entries/{index}"), None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let checkpoint =
        Checkpoint::open(body["checkpoint"].as_str().unwrap(), &verifier(app).await).unwrap();
    let raw = body["entry"].to_string();
    let leaf = leaf_hash(raw.as_bytes());
    assert_eq!(
        BASE64.encode(leaf),
        body["leaf_hash"],
        "canonical JSON is what was hashed"
    );
    verify_inclusion(
        index,
        checkpoint.size,
        &leaf,
        &hashes(&body["inclusion_proof"]),
        &checkpoint.root,
    )
    .expect("the inclusion proof verifies against the signed checkpoint");
    body["entry"].clone()
}

fn log_index(response: &reqwest::Response) -> u64 {
    response.headers()["lgsp-log-index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn q4_every_change_is_logged_before_it_is_answered(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let officer = json!({
        "name": "Hoàng Văn Nam", "title": "Phó Chánh Văn phòng",
        "phone": "0226 3841 235", "email": "namhv@hanam.gov.vn"
    });
    let path = "/api/v1/agencies/000.00.05.H35/focal-officer";
    let response = app
        .send_json(Method::PUT, path, Some(&operator), &officer)
        .await;
    assert_eq!(response.status(), 200);
    let index = log_index(&response);
    // The leaf is committed by the time the answer arrives: readable at once, proven.
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["kind"], "action");
    assert_eq!(entry["actor"], "operator");
    assert_eq!(entry["method"], "PUT");
    assert_eq!(entry["route"], "/api/v1/agencies/{code}/focal-officer");
    assert_eq!(entry["status"], 200);
    assert_eq!(
        entry["request_id"].as_str().unwrap(),
        response.headers()["x-request-id"].to_str().unwrap()
    );

    // Refused steps are logged too, under who tried.
    let viewer = app.token("auditor").await;
    let refused = app
        .send_json(Method::PUT, path, Some(&viewer), &officer)
        .await;
    let refused_index = log_index(&refused);
    assert_problem(refused, 403, "forbidden").await;
    let entry = proven_entry(&app, refused_index).await;
    assert_eq!(
        (entry["actor"].as_str(), entry["status"].as_u64()),
        (Some("auditor"), Some(403))
    );
    assert!(refused_index > index);

    // Reading changes nothing and appends nothing.
    let size = app.state.store.log_size().await.unwrap();
    let read = app.get("/api/v1/agencies", None).await;
    assert!(read.headers().get("lgsp-log-index").is_none());
    assert_eq!(app.state.store.log_size().await.unwrap(), size);

    // The portal's transparency page checks an index against the signed checkpoint.
    let page = app
        .get(&format!("/transparency?index={index}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Hợp lệ:"), "{page}");
    assert!(page.contains("/api/v1/agencies/{code}/focal-officer"));
    assert!(page.contains("Người, hệ thống thực hiện"));
    let response = app.get("/transparency?index=abc", None).await;
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("không phải là số thứ tự"));
    let response = app.get("/transparency?index=999999", None).await;
    assert_eq!(response.status(), 404);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("chưa có bản ghi số 999999"));

    // Beyond the end: a problem, not a guess.
    let beyond = app
        .get(&format!("/api/v1/log/entries/{}", size + 10), None)
        .await;
    assert_problem(beyond, 404, "resource_not_found").await;
    let bad = app.get("/api/v1/log/entries/minus-one", None).await;
    assert_eq!(bad.status(), 400);
}

async fn q4_tiles_checkpoints_and_proofs_follow_c2sp(backend: Backend) {
    let app = spawn_app(backend).await;
    // Enough leaves for two full entry bundles and a partial third, from many writers at once.
    let writers: Vec<_> = (0..600)
        .map(|i| {
            let log = app.state.log.clone();
            tokio::spawn(async move { log.append(&json!({"kind": "test", "n": i})).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    lgsp_server::transparency::sign_checkpoint(&app.state)
        .await
        .unwrap();
    let note = app.get("/log/checkpoint", None).await.text().await.unwrap();
    let checkpoint = Checkpoint::open(&note, &verifier(&app).await).unwrap();
    assert!(checkpoint.origin.ends_with("/log"));
    let size = checkpoint.size;
    assert!(size >= 600, "{size}");
    assert_eq!(
        checkpoint.root,
        app.state.store.log_root(size).await.unwrap()
    );

    // Entry bundles re-derive the root; hash tiles hold the level-0 hashes.
    let mut entries = Vec::new();
    for index in 0..size.div_ceil(256) {
        let tile = Tile {
            level: None,
            index,
            width: (size - index * 256).min(256) as u16,
        };
        let response = app.get(&format!("/log/{}", tile.path()), None).await;
        assert_eq!(response.status(), 200, "{}", tile.path());
        assert!(response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        let bundle = response.bytes().await.unwrap();
        entries.extend(
            decode_bundle(&bundle)
                .unwrap()
                .into_iter()
                .map(<[u8]>::to_vec),
        );
    }
    let mut tree = lgsp_tlog::TreeBuilder::new();
    for entry in &entries {
        tree.push(leaf_hash(entry));
    }
    assert_eq!(tree.root(), checkpoint.root);
    let level0 = app
        .get("/log/tile/0/001", None)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(level0.len(), 256 * 32);
    assert_eq!(&level0[..32], &leaf_hash(&entries[256])[..]);
    let one: Value = app.get("/log/entries/7", None).await.json().await.unwrap();
    assert_eq!(one["entry"].to_string().as_bytes(), &entries[7][..]);
    let body: Value = app
        .get(&format!("/log/proof/inclusion?index=300&size={size}"), None)
        .await
        .json()
        .await
        .unwrap();
    let proof = hashes(&body["proof"]);
    verify_inclusion(
        300,
        size,
        &leaf_hash(&entries[300]),
        &proof,
        &checkpoint.root,
    )
    .unwrap();
    let response = app
        .get(&format!("/log/proof/inclusion?index={size}"), None)
        .await;
    assert_problem(response, 400, "invalid_parameter").await;

    // Tiles beyond the checkpoint and malformed paths do not exist.
    for path in [
        format!("/log/tile/0/{:03}", size / 256 + 1),
        format!("/log/tile/entries/{:03}", size / 256),
        "/log/tile/0/x000/001".to_owned(),
        "/log/tile/0/1".to_owned(),
        "/log/tile/9/000".to_owned(),
    ] {
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), 404, "{path}");
    }

    // Consistency between sizes, and bad sizes named.
    let old_root = app.state.store.log_root(300).await.unwrap();
    let body: Value = app
        .get(&format!("/log/proof/consistency?old=300&new={size}"), None)
        .await
        .json()
        .await
        .unwrap();
    verify_consistency(
        300,
        size,
        &old_root,
        &checkpoint.root,
        &hashes(&body["proof"]),
    )
    .unwrap();
    let response = app
        .get(
            &format!("/api/v1/log/proofs/consistency?old=5&new={}", size + 1),
            None,
        )
        .await;
    assert_problem(response, 400, "invalid_parameter").await;
    let response = app
        .get("/api/v1/log/proofs/consistency?old=x&new=1", None)
        .await;
    assert_problem(response, 400, "invalid_parameter").await;
}

/// Runs `lgsp log verify` against the app (with its published key unless `key`); returns the exit code and stderr.
async fn verify_cli(app: &TestApp, key: Option<&str>, extra: &[&str]) -> (i32, String) {
    let published = app.get("/log/key", None).await.text().await.unwrap();
    let key = key.unwrap_or(&published);
    let mut args = vec![
        "log".to_owned(),
        "verify".to_owned(),
        "--url".to_owned(),
        app.base.clone(),
        "--key".to_owned(),
        key.trim().to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned()
            + &String::from_utf8_lossy(&output.stdout),
    )
}

/// Appends test leaves numbered `numbers` and signs a checkpoint covering them.
async fn grow(app: &TestApp, numbers: std::ops::Range<u32>) {
    for n in numbers {
        let entry = json!({"kind": "test", "n": n});
        app.state.log.append(&entry).await.unwrap();
    }
    lgsp_server::transparency::sign_checkpoint(&app.state)
        .await
        .unwrap();
}

async fn q4_log_verify_rederives_the_log_and_catches_a_rewritten_entry(backend: Backend) {
    let app = spawn_app(backend).await;
    grow(&app, 0..40).await;
    let saved = app.data_dir.join("saved-checkpoint");
    let saved_arg = saved.to_str().unwrap();
    let (code, output) = verify_cli(&app, None, &["--save", saved_arg]).await;
    assert_eq!(code, 0, "{output}");
    assert!(std::fs::read_to_string(&saved)
        .unwrap()
        .contains("\n\u{2014} "));

    // The log grows: still consistent with what was saved.
    grow(&app, 40..300).await;
    let (code, output) = verify_cli(&app, None, &["--checkpoint", saved_arg]).await;
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("extends the saved checkpoint"), "{output}");

    // Someone with database access rewrites an early entry: caught.
    tamper(&app, "UPDATE log_entries SET entry = $1 WHERE idx = 3").await;
    let (code, output) = verify_cli(&app, None, &["--checkpoint", saved_arg]).await;
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("NOT CONSISTENT"), "{output}");

    // A wrong key is an error of use, not evidence.
    let (code, _) = verify_cli(&app, Some("nobody+00000000+AAAA"), &[]).await;
    assert_eq!(code, 2);
}

/// Runs `sql` with the rewritten entry `{}` as `$1` directly on the app's database.
async fn tamper(app: &TestApp, sql: &str) {
    let url = app.state.settings.database_url().expose().to_owned();
    let forged: &[u8] = b"{}";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(sql).bind(forged).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(&url);
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::query(sql).bind(forged).execute(&pool).await.unwrap();
        pool.close().await;
    }
}
