//! Change feeds of hosted datasets (Q5.3.b): every committed import adds its inserts, updates
//! and deletes under the dataset's gap-free sequence; consumers follow them with a cursor.

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q5_3_b_change_feed_follows_imports_in_order,
    q5_3_b_change_feed_without_primary_key_and_access,
    q5_3_b_change_feed_pages_through_loads_recorded_as_runs,
);

async fn define(app: &TestApp, token: &str, dataset: &str, schema: Value) {
    let path = format!("/api/v1/datasets/{dataset}/schema");
    let response = app
        .send_json(Method::PUT, &path, Some(token), &schema)
        .await;
    assert_eq!(response.status(), 201);
}

async fn import(
    app: &TestApp,
    token: &str,
    dataset: &str,
    mode: &str,
    csv: &'static str,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/v1/datasets/{dataset}/records?mode={mode}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

async fn changes(app: &TestApp, token: Option<&str>, dataset: &str, query: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/datasets/{dataset}/changes{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

/// (seq, op, key) of each change.
fn summary(page: &Value) -> Vec<(i64, String, Value)> {
    page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["seq"].as_i64().unwrap(),
                c["op"].as_str().unwrap().to_owned(),
                c["key"].clone(),
            )
        })
        .collect()
}

async fn q5_3_b_change_feed_follows_imports_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define(
        &app,
        &operator,
        "truong-hoc",
        json!({
            "fields": [
                {"name": "ma", "type": "integer", "constraints": {"required": true}},
                {"name": "ten", "type": "string"},
                {"name": "so_hoc_sinh", "type": "integer", "constraints": {"minimum": 0}},
                {"name": "dien_thoai", "type": "string", "personal": true}
            ],
            "primaryKey": "ma"
        }),
    )
    .await;
    let empty = changes(&app, None, "truong-hoc", "").await;
    assert_eq!(empty["changes"], json!([]));
    assert_eq!(
        (empty["next"].clone(), empty["last_seq"].clone()),
        (json!(0), json!(0))
    );

    let first = import(&app, &operator, "truong-hoc", "replace",
        "ma,ten,so_hoc_sinh,dien_thoai\n1,Trường A,100,0911\n2,Trường B,200,0912\n3,Trường C,300,\n").await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    // Row 2 changes, row 3 comes back unchanged (no change), row 4 is new.
    let upsert = import(
        &app,
        &operator,
        "truong-hoc",
        "upsert",
        "ma,ten,so_hoc_sinh,dien_thoai\n2,Trường B,250,0912\n3,Trường C,300,\n4,Trường D,400,\n",
    )
    .await;
    assert_eq!(upsert.status(), 200);
    // The whole content again, without row 3: one delete.
    let replace = import(&app, &operator, "truong-hoc", "replace",
        "ma,ten,so_hoc_sinh,dien_thoai\n1,Trường A,100,0911\n2,Trường B,250,0912\n4,Trường D,400,\n").await;
    assert_eq!(replace.status(), 200);
    // Refused imports change nothing, so add no change.
    let refused = import(
        &app,
        &operator,
        "truong-hoc",
        "replace",
        "ma,ten,so_hoc_sinh,dien_thoai\n1,Trường A,-5,\n",
    )
    .await;
    assert_problem(refused, 422, "import_invalid").await;
    let appended = import(
        &app,
        &operator,
        "truong-hoc",
        "append",
        "ma,ten,so_hoc_sinh,dien_thoai\n1,Trường A,1,\n",
    )
    .await;
    assert_problem(appended, 409, "conflict").await;

    let all = changes(&app, Some(&operator), "truong-hoc", "?limit=100").await;
    assert_eq!(
        summary(&all),
        vec![
            (1, "insert".into(), json!({"ma": 1})),
            (2, "insert".into(), json!({"ma": 2})),
            (3, "insert".into(), json!({"ma": 3})),
            (4, "update".into(), json!({"ma": 2})),
            (5, "insert".into(), json!({"ma": 4})),
            (6, "delete".into(), json!({"ma": 3})),
        ]
    );
    assert_eq!(all["next"], 6);
    assert_eq!(all["last_seq"], 6);
    let list = all["changes"].as_array().unwrap();
    assert_eq!(list[0]["changed_at"], first["changed_at"]);
    assert_eq!(
        list[3]["record"],
        json!({"ma": 2, "ten": "Trường B", "so_hoc_sinh": 250, "dien_thoai": "0912"})
    );
    assert_eq!(list[5]["record"], Value::Null);

    // The public follows page by page; personal fields stay hidden.
    let response = app
        .get("/api/v1/datasets/truong-hoc/changes?since=0&limit=4", None)
        .await;
    assert_eq!(response.status(), 200);
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("/api/v1/datasets/truong-hoc/changes?since=4&limit=4>; rel=\"next\""),
        "{link}"
    );
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["next"], 4);
    assert_eq!(
        page["changes"][3]["record"],
        json!({"ma": 2, "ten": "Trường B", "so_hoc_sinh": 250})
    );
    let response = app
        .get("/api/v1/datasets/truong-hoc/changes?since=4&limit=4", None)
        .await;
    assert!(
        response.headers().get("link").is_none(),
        "the last page has no next"
    );
    let rest: Value = response.json().await.unwrap();
    assert_eq!(
        summary(&rest).iter().map(|c| c.0).collect::<Vec<_>>(),
        vec![5, 6]
    );

    // Bad parameters are named.
    for (query, parameter) in [
        ("?since=-1", "since"),
        ("?since=abc", "since"),
        ("?limit=0", "limit"),
        ("?limit=10001", "limit"),
        ("?sinse=1", "sinse"),
    ] {
        let response = app
            .get(&format!("/api/v1/datasets/truong-hoc/changes{query}"), None)
            .await;
        let problem = assert_problem(response, 400, "invalid_parameter").await;
        assert_eq!(problem["parameter"], parameter, "{query}");
    }

    // Past the retention period the changes go: a client behind them downloads everything.
    // (The demo's own datasets have changes too.)
    assert!(app.state.store.prune_changes(0).await.unwrap() >= 6);
    let response = app
        .get("/api/v1/datasets/truong-hoc/changes?since=2", None)
        .await;
    let problem = assert_problem(response, 410, "changes_expired").await;
    assert_eq!(
        (problem["oldest_seq"].clone(), problem["last_seq"].clone()),
        (json!(7), json!(6))
    );
    assert!(problem["detail"].as_str().unwrap().contains("in full"));
    let current = changes(&app, None, "truong-hoc", "?since=6").await;
    assert_eq!(current["changes"], json!([]));
    let later = import(
        &app,
        &operator,
        "truong-hoc",
        "upsert",
        "ma,ten,so_hoc_sinh,dien_thoai\n5,Trường E,500,\n",
    )
    .await;
    assert_eq!(later.status(), 200);
    let current = changes(&app, None, "truong-hoc", "?since=6").await;
    assert_eq!(
        summary(&current),
        vec![(7, "insert".into(), json!({"ma": 5}))]
    );
    app.stop().await;
}

async fn q5_3_b_change_feed_without_primary_key_and_access(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.token("agency-admin").await; // Sở Tư pháp owns so-hoa-ho-tich
    let citizen = app.token("citizen").await;
    let path = "/api/v1/datasets/so-hoa-ho-tich/changes";
    assert_problem(app.get(path, Some(&owner)).await, 404, "resource_not_found").await;
    define(
        &app,
        &owner,
        "so-hoa-ho-tich",
        json!({"fields": [
            {"name": "so_dang_ky", "type": "string"},
            {"name": "ho_ten", "type": "string", "personal": true}
        ]}),
    )
    .await;
    let one = import(
        &app,
        &owner,
        "so-hoa-ho-tich",
        "replace",
        "so_dang_ky,ho_ten\nKS-01,Nguyễn Văn A\nKS-02,Trần Thị B\n",
    )
    .await;
    assert_eq!(one.status(), 200);
    let two = import(
        &app,
        &owner,
        "so-hoa-ho-tich",
        "replace",
        "so_dang_ky,ho_ten\nKS-01,Nguyễn Văn A\nKS-03,Lê Văn C\n",
    )
    .await;
    assert_eq!(two.status(), 200);
    // Without a primary key every ended version is a delete and every new one an insert; the
    // key is the whole record.
    let all = changes(&app, Some(&owner), "so-hoa-ho-tich", "").await;
    let ops: Vec<(i64, String, Value)> = summary(&all);
    assert_eq!(
        ops,
        vec![
            (
                1,
                "insert".into(),
                json!({"so_dang_ky": "KS-01", "ho_ten": "Nguyễn Văn A"})
            ),
            (
                2,
                "insert".into(),
                json!({"so_dang_ky": "KS-02", "ho_ten": "Trần Thị B"})
            ),
            (
                3,
                "delete".into(),
                json!({"so_dang_ky": "KS-01", "ho_ten": "Nguyễn Văn A"})
            ),
            (
                4,
                "delete".into(),
                json!({"so_dang_ky": "KS-02", "ho_ten": "Trần Thị B"})
            ),
            (
                5,
                "insert".into(),
                json!({"so_dang_ky": "KS-01", "ho_ten": "Nguyễn Văn A"})
            ),
            (
                6,
                "insert".into(),
                json!({"so_dang_ky": "KS-03", "ho_ten": "Lê Văn C"})
            ),
        ]
    );
    // The same access as the records: a personal dataset is not open to others.
    assert_problem(app.get(path, None).await, 401, "authentication_required").await;
    assert_problem(app.get(path, Some(&citizen)).await, 403, "forbidden").await;
    app.stop().await;
}

/// A first load and an append end no version, so their inserts are recorded as one run each;
/// the feed still answers every sequence number, page by page from anywhere inside a run.
async fn q5_3_b_change_feed_pages_through_loads_recorded_as_runs(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define(
        &app,
        &operator,
        "truong-hoc",
        json!({
            "fields": [
                {"name": "ma", "type": "integer", "constraints": {"required": true}},
                {"name": "ten", "type": "string"}
            ],
            "primaryKey": "ma"
        }),
    )
    .await;
    let rows = |from: i64, to: i64| -> &'static str {
        let mut csv = String::from("ma,ten\n");
        for ma in from..=to {
            csv.push_str(&format!("{ma},Trường {ma}\n"));
        }
        Box::leak(csv.into_boxed_str())
    };
    let first = import(&app, &operator, "truong-hoc", "replace", rows(1, 25)).await;
    assert_eq!(first.status(), 200);
    let appended = import(&app, &operator, "truong-hoc", "append", rows(26, 28)).await;
    assert_eq!(appended.status(), 200);
    // An upsert that ends versions is derived row by row after the runs.
    let upsert = import(
        &app,
        &operator,
        "truong-hoc",
        "upsert",
        "ma,ten\n3,Trường Ba\n",
    )
    .await;
    assert_eq!(upsert.status(), 200);

    let keys = |page: &Value| -> Vec<(i64, String, i64)> {
        summary(page)
            .into_iter()
            .map(|(seq, op, key)| (seq, op, key["ma"].as_i64().unwrap()))
            .collect()
    };
    let page = changes(&app, None, "truong-hoc", "?since=7&limit=5").await;
    assert_eq!(
        keys(&page),
        (8..=12)
            .map(|n| (n, "insert".to_owned(), n))
            .collect::<Vec<_>>()
    );
    assert_eq!(page["next"], 12);
    assert_eq!(page["last_seq"], 29);
    // Across the end of one run into the next and on into a single change.
    let page = changes(&app, None, "truong-hoc", "?since=24&limit=5").await;
    assert_eq!(
        keys(&page),
        vec![
            (25, "insert".into(), 25),
            (26, "insert".into(), 26),
            (27, "insert".into(), 27),
            (28, "insert".into(), 28),
            (29, "update".into(), 3),
        ]
    );
    assert_eq!(
        page["changes"][4]["record"],
        json!({"ma": 3, "ten": "Trường Ba"})
    );
    // Following the whole feed from 0 in small pages gives every number once, in order.
    let mut since = 0;
    let mut seen = Vec::new();
    loop {
        let page = changes(&app, None, "truong-hoc", &format!("?since={since}&limit=4")).await;
        let got = keys(&page);
        if got.is_empty() {
            break;
        }
        seen.extend(got.iter().map(|c| c.0));
        since = page["next"].as_i64().unwrap();
    }
    assert_eq!(seen, (1..=29).collect::<Vec<_>>());
    // Pruning takes whole runs: nothing before the newest prune point is answered.
    assert!(app.state.store.prune_changes(0).await.unwrap() >= 29);
    let response = app
        .get("/api/v1/datasets/truong-hoc/changes?since=20", None)
        .await;
    let problem = assert_problem(response, 410, "changes_expired").await;
    assert_eq!(problem["oldest_seq"], json!(30));
    app.stop().await;
}
