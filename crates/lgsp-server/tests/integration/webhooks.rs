//! Webhook subscriptions (Q5.3.b, push): a receiver inside the test, on 127.0.0.1:0, gets a
//! dataset's changes in order as RFC 9421-signed POSTs, checked with the platform's published
//! key; failures are retried (the same batch again), too many in a row make the subscription
//! dead, and reactivating resumes from the first change not delivered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use lgsp_core::http_signature::{Component, HttpMessage, ED25519};
use lgsp_server::settings::Settings;
use lgsp_server::signatures::{check_content_digest, jwk_verifying_key, verify};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::helpers::{assert_problem, on_both_backends, spawn_app_with, Backend, TestApp};

on_both_backends!(
    q5_3_b_webhook_delivers_two_imports_in_order_with_valid_signatures,
    q5_3_b_webhook_sends_the_same_batch_again_until_acknowledged,
    q5_3_b_webhook_dies_after_consecutive_failures_and_reactivation_delivers_the_rest,
    q5_3_b_webhook_refuses_bad_urls_and_non_readers,
);

/// Fast retries for tests: poll every 20 ms, back off from 50 ms to 200 ms, dead after 3.
pub fn fast(settings: &mut Settings) {
    settings.push_poll_millis = 20;
    settings.push_retry_base_millis = 50;
    settings.push_retry_max_seconds = 1;
    settings.webhook_max_failures = 3;
    settings.webhook_batch_size = 100;
    settings.webhook_timeout_seconds = 5;
    settings.webhook_allow_http_loopback = true;
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// The target URI as the receiver reconstructs it (scheme, `Host`, path and query).
    pub target_uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status it answered with.
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decides the status of the `n`-th request (0 first).
pub type Plan = Arc<dyn Fn(usize) -> u16 + Send + Sync>;

pub struct Receiver {
    pub url: String,
    pub requests: mpsc::UnboundedReceiver<Received>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone)]
struct ReceiverState {
    count: Arc<AtomicUsize>,
    plan: Plan,
    sender: mpsc::UnboundedSender<Received>,
}

async fn receive(
    State(state): State<ReceiverState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let n = state.count.fetch_add(1, Ordering::SeqCst);
    let answered = (state.plan)(n);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let _ = state.sender.send(Received {
        method: "POST".into(),
        target_uri: format!("http://{host}{path}"),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

/// A webhook receiver on 127.0.0.1:0 answering as `plan` says.
pub async fn receiver(plan: Plan) -> Receiver {
    let (sender, requests) = mpsc::unbounded_channel();
    let state = ReceiverState {
        count: Arc::default(),
        plan,
        sender,
    };
    let router = axum::Router::new()
        .route("/lgsp/hook", post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/lgsp/hook?he-thong=mot-cua",
        listener.local_addr().unwrap()
    );
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Receiver {
        url,
        requests,
        server,
    }
}

/// The next request, waiting at most 20 s.
pub async fn next(receiver: &mut Receiver) -> Received {
    tokio::time::timeout(Duration::from_secs(20), receiver.requests.recv())
        .await
        .expect("a delivery within 20 s")
        .expect("the receiver runs")
}

/// Checks the delivery's RFC 9421 signature with the key the platform publishes and its
/// Content-Digest; returns its body.
pub async fn verified(app: &TestApp, received: &Received) -> Value {
    let jwks: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    let mut message = HttpMessage::request(&received.method, &received.target_uri);
    for (name, value) in &received.headers {
        message = message.with_field(name, value);
    }
    let input = verify(
        &message,
        received.header("signature-input").expect("Signature-Input"),
        received.header("signature").expect("Signature"),
        "sig1",
        |kid| {
            jwks["keys"]
                .as_array()?
                .iter()
                .find(|k| k["kid"] == kid)
                .and_then(jwk_verifying_key)
        },
    )
    .expect("the signature verifies with the published key");
    for component in [
        Component::Method,
        Component::TargetUri,
        Component::field("content-digest").unwrap(),
        Component::field("content-type").unwrap(),
    ] {
        assert!(input.covers(&component), "{component:?} is covered");
    }
    assert_eq!(input.alg.as_deref(), Some(ED25519));
    assert_eq!(input.keyid, app.state.keys.active().kid);
    let age = chrono::Utc::now().timestamp() - input.created;
    assert!((0..60).contains(&age), "created {age} s ago");
    assert_eq!(received.header("content-type"), Some("application/json"));
    check_content_digest(
        received.header("content-digest").expect("Content-Digest"),
        &received.body,
    )
    .expect("the body matches its digest");
    serde_json::from_slice(&received.body).unwrap()
}

pub async fn define_schools(app: &TestApp, token: &str) {
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/truong-hoc/schema",
            Some(token),
            &json!({
                "fields": [
                    {"name": "ma", "type": "integer", "constraints": {"required": true}},
                    {"name": "ten", "type": "string"},
                    {"name": "so_hoc_sinh", "type": "integer"},
                    {"name": "dien_thoai", "type": "string", "personal": true}
                ],
                "primaryKey": "ma"
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
}

pub async fn import(app: &TestApp, token: &str, mode: &str, csv: &'static str) {
    let response = app
        .http
        .post(app.url(&format!("/api/v1/datasets/truong-hoc/records?mode={mode}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{mode} import");
}

const FIRST: &str =
    "ma,ten,so_hoc_sinh,dien_thoai\n1,Trường A,100,0911\n2,Trường B,200,0912\n3,Trường C,300,\n";
const SECOND: &str = "ma,ten,so_hoc_sinh,dien_thoai\n2,Trường B,250,0912\n4,Trường D,400,0914\n";

async fn subscribe(app: &TestApp, token: &str, url: &str) -> Value {
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/datasets/truong-hoc/webhooks",
            Some(token),
            &json!({ "url": url }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/api/v1/datasets/truong-hoc/webhooks/{}",
            body["id"].as_str().unwrap()
        )
    );
    body
}

fn seqs(batch: &Value) -> Vec<i64> {
    batch["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_i64().unwrap())
        .collect()
}

async fn webhook(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app
        .get(
            &format!("/api/v1/datasets/truong-hoc/webhooks/{id}"),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn deliveries(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/api/v1/datasets/truong-hoc/webhooks/{id}/deliveries"),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["deliveries"].as_array().unwrap().clone()
}

/// Waits (at most 20 s) until the subscription is as `wanted` says; returns it.
async fn until(app: &TestApp, token: &str, id: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let found = webhook(app, token, id).await;
        if wanted(&found) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "webhook {id} never got there: {}",
        webhook(app, token, id).await
    );
}

/// Waits until the receiver's acknowledgement of change `seq` is recorded.
async fn until_delivered(app: &TestApp, token: &str, id: &str, seq: i64) -> Value {
    until(app, token, id, |w| w["delivered_seq"] == seq).await
}

async fn q5_3_b_webhook_delivers_two_imports_in_order_with_valid_signatures(backend: Backend) {
    let app = spawn_app_with(backend, fast).await;
    // A second node on the same database: each batch must still be delivered once.
    let node = app.second_node().await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;
    define_schools(&app, &operator).await;
    let mut hook = receiver(Arc::new(|_| 200)).await;
    let created = subscribe(&app, &admin, &hook.url).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["state"], "active");
    assert_eq!(created["delivered_seq"], 0);
    assert_eq!(created["agency"], "000.00.03.H35", "Sở Tư pháp subscribes");
    assert_eq!(created["url"], hook.url);

    import(&app, &operator, "replace", FIRST).await;
    import(&app, &operator, "upsert", SECOND).await;
    let mut batches = Vec::new();
    let mut seen = Vec::new();
    while seen.last() != Some(&5) {
        let received = next(&mut hook).await;
        assert_eq!(received.target_uri, hook.url);
        let batch = verified(&app, &received).await;
        assert_eq!(batch["webhook"], id);
        assert_eq!(batch["dataset"], "truong-hoc");
        let list = seqs(&batch);
        assert_eq!(batch["from_seq"], list[0]);
        assert_eq!(batch["to_seq"], *list.last().unwrap());
        seen.extend(list);
        batches.push(batch);
    }
    assert_eq!(seen, [1, 2, 3, 4, 5], "in order, each once");

    // The changes are exactly what the change feed shows this agency (no personal field).
    let feed = app
        .get("/api/v1/datasets/truong-hoc/changes", Some(&admin))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let pushed: Vec<Value> = batches
        .iter()
        .flat_map(|b| b["changes"].as_array().unwrap().clone())
        .collect();
    assert_eq!(Value::from(pushed.clone()), feed["changes"]);
    assert_eq!(
        pushed[3],
        json!({"seq": 4, "op": "update", "changed_at": pushed[3]["changed_at"],
               "key": {"ma": 2}, "record": {"ma": 2, "ten": "Trường B", "so_hoc_sinh": 250}})
    );
    assert_eq!(pushed[4]["op"], "insert");
    assert!(pushed
        .iter()
        .all(|c| c["record"].get("dien_thoai").is_none()));

    let found = until_delivered(&app, &admin, &id, 5).await;
    assert_eq!(found["last_seq"], 5);
    assert_eq!(found["failures"], 0);
    assert_eq!(found["next_attempt_at"], Value::Null);
    let log = deliveries(&app, &admin, &id).await;
    assert_eq!(log.len(), batches.len());
    assert!(log
        .iter()
        .all(|d| d["outcome"] == "delivered" && d["status"] == 200 && d["error"].is_null()));
    assert_eq!(log.last().unwrap()["from_seq"], 1);
    assert_eq!(log[0]["to_seq"], 5);

    // The list: the agency's own for its administrator, all for the operator and auditor.
    for user in ["agency-admin", "operator", "auditor"] {
        let token = app.token(user).await;
        let list: Value = app
            .get("/api/v1/datasets/truong-hoc/webhooks", Some(&token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1, "{user}");
    }
    // Nothing more arrives.
    assert!(hook.requests.try_recv().is_err());

    let page = console_page(&app).await;
    assert!(page.contains("Đang hoạt động"), "{page}");
    assert!(page.contains("Thành công (HTTP 200)"), "{page}");
    node.stop().await;
    app.stop().await;
}

async fn q5_3_b_webhook_sends_the_same_batch_again_until_acknowledged(backend: Backend) {
    let app = spawn_app_with(backend, fast).await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;
    define_schools(&app, &operator).await;
    // Fails twice, then succeeds.
    let mut hook = receiver(Arc::new(|n| if n < 2 { 500 } else { 200 })).await;
    let id = subscribe(&app, &admin, &hook.url).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    import(&app, &operator, "replace", FIRST).await;

    let attempts = [
        next(&mut hook).await,
        next(&mut hook).await,
        next(&mut hook).await,
    ];
    let bodies: Vec<Value> = {
        let mut bodies = Vec::new();
        for received in &attempts {
            bodies.push(verified(&app, received).await);
        }
        bodies
    };
    assert_eq!(
        attempts.iter().map(|a| a.answered).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    for body in &bodies {
        assert_eq!(seqs(body), [1, 2, 3], "the same batch every time");
        assert_eq!(body["changes"], bodies[0]["changes"]);
    }
    // Then the next import, continuing in order.
    import(&app, &operator, "upsert", SECOND).await;
    let after = verified(&app, &next(&mut hook).await).await;
    assert_eq!(seqs(&after), [4, 5]);
    let found = until_delivered(&app, &admin, &id, 5).await;
    assert_eq!(found["failures"], 0);

    let log = deliveries(&app, &admin, &id).await;
    let summary: Vec<(String, Value, i64, i64)> = log
        .iter()
        .map(|d| {
            (
                d["outcome"].as_str().unwrap().to_owned(),
                d["status"].clone(),
                d["from_seq"].as_i64().unwrap(),
                d["to_seq"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("delivered".into(), json!(200), 4, 5),
            ("delivered".into(), json!(200), 1, 3),
            ("failed".into(), json!(500), 1, 3),
            ("failed".into(), json!(500), 1, 3),
        ]
    );
    assert_eq!(log[3]["error"], "HTTP 500");
    // Each retry waited at least half its backoff (50 ms, then 100 ms; the rest is at random).
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(log[i]["attempted_at"].as_str().unwrap()).unwrap()
    };
    assert!((at(2) - at(3)).num_milliseconds() >= 25);
    assert!((at(1) - at(2)).num_milliseconds() >= 50);
    app.stop().await;
}

async fn q5_3_b_webhook_dies_after_consecutive_failures_and_reactivation_delivers_the_rest(
    backend: Backend,
) {
    let app = spawn_app_with(backend, fast).await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;
    define_schools(&app, &operator).await;
    // Down for the first three requests (the subscription dies after 3), then up.
    let mut hook = receiver(Arc::new(|n| if n < 3 { 503 } else { 200 })).await;
    let id = subscribe(&app, &admin, &hook.url).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    import(&app, &operator, "replace", FIRST).await;
    for _ in 0..3 {
        assert_eq!(next(&mut hook).await.answered, 503);
    }
    let dead = until(&app, &admin, &id, |w| w["state"] == "dead").await;
    assert_eq!(dead["failures"], 3);
    assert_eq!(dead["delivered_seq"], 0);
    assert_eq!(dead["last_error"], "HTTP 503");
    assert!(dead["dead_at"].is_string());
    let log = deliveries(&app, &admin, &id).await;
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d["outcome"] == "failed"
        && d["status"] == 503
        && d["from_seq"] == 1
        && d["to_seq"] == 3
        && d["duration_ms"].is_i64()));

    // While dead, changes wait.
    import(&app, &operator, "upsert", SECOND).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(hook.requests.try_recv().is_err(), "nothing sent while dead");
    assert_eq!(deliveries(&app, &admin, &id).await.len(), 3);

    // The console shows it dead, with the failures, in Vietnamese.
    let page = console_page(&app).await;
    assert!(page.contains("Đã dừng do lỗi"), "{page}");
    assert!(page.contains("Hệ thống nhận trả lời HTTP 503"), "{page}");
    assert!(page.contains("Kích hoạt lại"), "{page}");

    let path = format!("/api/v1/datasets/truong-hoc/webhooks/{id}/reactivate");
    let citizen = app.token("citizen").await;
    let refused = app
        .send_json(Method::POST, &path, Some(&citizen), &json!({}))
        .await;
    assert_problem(refused, 403, "forbidden").await;
    let response = app
        .send_json(Method::POST, &path, Some(&admin), &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let active: Value = response.json().await.unwrap();
    assert_eq!(active["state"], "active");
    assert_eq!(active["failures"], 0);
    assert_eq!(active["dead_at"], Value::Null);

    // Everything not delivered, from the first change, in order.
    let mut seen = Vec::new();
    while seen.last() != Some(&5) {
        let received = next(&mut hook).await;
        assert_eq!(received.answered, 200);
        seen.extend(seqs(&verified(&app, &received).await));
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    let found = until_delivered(&app, &admin, &id, 5).await;
    assert_eq!(found["state"], "active");
    let again = app
        .send_json(Method::POST, &path, Some(&admin), &json!({}))
        .await;
    assert_problem(again, 409, "invalid_transition").await;
    app.stop().await;
}

/// The console's webhook page as the demo agency administrator sees it.
async fn console_page(app: &TestApp) -> String {
    let client = super::web::browser(app);
    let signed_in = super::web::sign_in(app, &client, "agency-admin").await;
    assert!(signed_in.status().is_redirection(), "signed in");
    let response = client
        .get(app.url("/console/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn q5_3_b_webhook_refuses_bad_urls_and_non_readers(backend: Backend) {
    // Default settings: no plain HTTP, not even to this machine.
    let app = spawn_app_with(backend, |_| {}).await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;
    define_schools(&app, &operator).await;
    let path = "/api/v1/datasets/truong-hoc/webhooks";
    let post = |token: Option<String>, body: Value| {
        let app = &app;
        async move {
            app.send_json(Method::POST, path, token.as_deref(), &body)
                .await
        }
    };
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://hook.so-giao-duc.example.vn/lgsp",
    ] {
        let refused = post(Some(admin.clone()), json!({ "url": url })).await;
        let body = assert_problem(refused, 422, "insecure_webhook_url").await;
        assert!(body["detail"].as_str().unwrap().contains(url), "{body}");
    }
    for url in [
        "ftp://hook.example.vn/",
        "hook.example.vn/lgsp",
        "https://user:secret@hook.example.vn/",
        "https://hook.example.vn/#x",
        "https://hook.example.vn/có dấu",
        "https://hook.example.vn:99999/",
    ] {
        let refused = post(Some(admin.clone()), json!({ "url": url })).await;
        assert_problem(refused, 422, "invalid_webhook_url").await;
    }
    let missing = post(Some(admin.clone()), json!({})).await;
    assert_problem(missing, 422, "invalid_body").await;
    let unknown = post(
        Some(admin.clone()),
        json!({"url": "https://hook.example.vn/", "secret": "x"}),
    )
    .await;
    assert_problem(unknown, 422, "unknown_field").await;
    let ahead = post(
        Some(admin.clone()),
        json!({"url": "https://hook.example.vn/", "since": 7}),
    )
    .await;
    assert_problem(ahead, 422, "invalid_body").await;

    // Only readers of the dataset, for an agency, subscribe.
    let https = json!({"url": "https://hook.so-tu-phap.example.vn/lgsp"});
    let restricted = app
        .send_json(
            Method::POST,
            "/api/v1/datasets/thua-dat/webhooks",
            Some(&admin),
            &https,
        )
        .await;
    assert_problem(restricted, 403, "forbidden").await;
    let citizen = app.token("citizen").await;
    assert_problem(post(Some(citizen), https.clone()).await, 403, "forbidden").await;
    assert_problem(
        post(None, https.clone()).await,
        401,
        "authentication_required",
    )
    .await;
    let (_, system) = app.client_token().await;
    assert_problem(post(Some(system), https.clone()).await, 403, "forbidden").await;
    let unknown_dataset = app
        .send_json(
            Method::POST,
            "/api/v1/datasets/khong-co/webhooks",
            Some(&admin),
            &https,
        )
        .await;
    assert_problem(unknown_dataset, 404, "resource_not_found").await;
    let no_schema = app
        .send_json(
            Method::POST,
            "/api/v1/datasets/diem-du-lich/webhooks",
            Some(&admin),
            &https,
        )
        .await;
    assert_problem(no_schema, 404, "resource_not_found").await;

    // Nothing was stored by the refusals.
    let list: Value = app.get(path, Some(&operator)).await.json().await.unwrap();
    assert_eq!(list, json!([]));

    let created = post(Some(admin.clone()), https.clone()).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["url"], "https://hook.so-tu-phap.example.vn/lgsp");
    let twice = post(Some(admin.clone()), https.clone()).await;
    assert_problem(twice, 409, "conflict").await;
    let id = created["id"].as_str().unwrap();
    let one = format!("{path}/{id}");
    let not_dead = app
        .send_json(
            Method::POST,
            &format!("{one}/reactivate"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_problem(not_dead, 409, "invalid_transition").await;
    let bad_limit = app
        .get(&format!("{one}/deliveries?limit=0"), Some(&admin))
        .await;
    assert_problem(bad_limit, 400, "invalid_parameter").await;
    let citizen = app.token("citizen").await;
    let hidden = app.get(&one, Some(&citizen)).await;
    assert_problem(hidden, 403, "forbidden").await;
    let deleted = app
        .http
        .delete(app.url(&one))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get(&one, Some(&admin)).await, 404, "resource_not_found").await;
    assert_problem(
        app.get(&format!("{one}/deliveries"), Some(&admin)).await,
        404,
        "resource_not_found",
    )
    .await;
    // After deleting, the same URL can be subscribed again.
    assert_eq!(post(Some(admin.clone()), https).await.status(), 201);
    app.stop().await;
}
