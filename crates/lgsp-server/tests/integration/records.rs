//! Hosted records through the API: a schema, imports that replace the records all or nothing,
//! reads as of any instant, who may read what (Q13.2), personal fields kept from the public.

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q13_2_imports_replace_records_all_or_nothing_and_reads_go_back_in_time,
    q13_2_personal_data_stays_with_its_owner,
    q14_records_carry_their_source_time_and_a_citation,
    imports_upsert_by_primary_key_and_append_new_keys_only,
);

fn schools_schema() -> Value {
    json!({
        "fields": [
            {"name": "ma", "type": "integer", "title": "Mã trường", "constraints": {"required": true}},
            {"name": "ten", "type": "string", "title": "Tên trường", "constraints": {"required": true}},
            {"name": "cap", "type": "string", "constraints": {"enum": ["mam_non", "tieu_hoc", "thcs", "thpt"]}},
            {"name": "so_hoc_sinh", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "dien_thoai_hieu_truong", "type": "string", "title": "Điện thoại hiệu trưởng", "personal": true}
        ],
        "primaryKey": "ma"
    })
}

/// The operator gives the demo's open dataset `truong-hoc` its schema.
async fn define_schools(app: &TestApp, token: &str) {
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/truong-hoc/schema",
            Some(token),
            &schools_schema(),
        )
        .await;
    assert_eq!(response.status(), 201);
}

async fn import_as(
    app: &TestApp,
    token: &str,
    mode: &str,
    csv: &'static [u8],
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/v1/datasets/truong-hoc/records?mode={mode}")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

async fn import(
    app: &TestApp,
    token: Option<&str>,
    dataset: &str,
    csv: &'static [u8],
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(&format!("/api/v1/datasets/{dataset}/records")))
        .header("content-type", "text/csv")
        .body(csv);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn records(app: &TestApp, token: Option<&str>, query: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/api/v1/datasets/truong-hoc/records{query}"),
            token,
        )
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

async fn q13_2_imports_replace_records_all_or_nothing_and_reads_go_back_in_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let other_admin = app.token("agency-admin").await; // Sở Tư pháp, not the owner

    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/truong-hoc/schema",
            Some(&other_admin),
            &schools_schema(),
        )
        .await;
    assert_problem(response, 403, "forbidden").await;
    define_schools(&app, &operator).await;
    let again = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/truong-hoc/schema",
            Some(&operator),
            &schools_schema(),
        )
        .await;
    assert_eq!(again.status(), 200, "the same schema again changes nothing");

    let first = b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n1,Tr\xc6\xb0\xe1\xbb\x9dng THPT Chuy\xc3\xaan Bi\xc3\xaan H\xc3\xb2a,thpt,1200,0912345678\n2,Tr\xc6\xb0\xe1\xbb\x9dng Ti\xe1\xbb\x83u h\xe1\xbb\x8dc L\xc3\xaa H\xe1\xbb\x93ng Phong,tieu_hoc,800,\n";
    assert_problem(
        import(&app, None, "truong-hoc", first).await,
        401,
        "authentication_required",
    )
    .await;
    let response = import(&app, Some(&operator), "truong-hoc", first).await;
    assert_eq!(response.status(), 200);
    let done: Value = response.json().await.unwrap();
    assert_eq!(done["rows"], 2);
    assert_eq!(done["report"]["valid"], true);
    let first_at = done["changed_at"].as_str().unwrap().to_owned();

    let public = records(&app, None, "").await;
    assert_eq!(public.len(), 2);
    assert_eq!(public[0]["ten"], "Trường THPT Chuyên Biên Hòa");
    assert_eq!(public[0]["so_hoc_sinh"], 1200);

    // A file with one bad row changes nothing, and says where the problem is.
    let bad = b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n3,Tr\xc6\xb0\xe1\xbb\x9dng A,thcs,500,\n4,Tr\xc6\xb0\xe1\xbb\x9dng B,dai_hoc,-1,\n";
    let problem = assert_problem(
        import(&app, Some(&operator), "truong-hoc", bad).await,
        422,
        "import_invalid",
    )
    .await;
    let errors = problem["report"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| e["rowNumber"] == 3));
    assert_eq!(errors[0]["type"], "constraint-error");
    assert_eq!(records(&app, None, "").await.len(), 2, "nothing changed");

    let latin1 = b"ma,ten\n5,Tr\xfd\n";
    assert_problem(
        import(&app, Some(&operator), "truong-hoc", latin1).await,
        422,
        "invalid_encoding",
    )
    .await;

    let second = b"\xEF\xBB\xBFma;ten;cap;so_hoc_sinh;dien_thoai_hieu_truong\r\n1;\"Tr\xc6\xb0\xe1\xbb\x9dng THPT Chuy\xc3\xaan Bi\xc3\xaan H\xc3\xb2a\";thpt;1250;\r\n";
    let response = import(&app, Some(&operator), "truong-hoc", second).await;
    assert_eq!(response.status(), 200);
    let now = records(&app, None, "").await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["so_hoc_sinh"], 1250);
    let then = records(
        &app,
        None,
        &format!("?as_of={}", first_at.replace('+', "%2B")),
    )
    .await;
    assert_eq!(then.len(), 2, "as of the first import");
    let filtered = records(
        &app,
        None,
        &format!("?ma=eq.2&as_of={}", first_at.replace('+', "%2B")),
    )
    .await;
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["ma"], 2);

    let paged = records(
        &app,
        None,
        &format!("?limit=1&offset=1&as_of={}", first_at.replace('+', "%2B")),
    )
    .await;
    assert_eq!(paged.len(), 1);
    assert_eq!(paged[0]["ma"], 2);
    // An unknown field, an unknown operator, a value of the wrong type, a bad instant, a bad
    // limit: each a 400 naming the parameter.
    for query in [
        "?khong_co=eq.1",
        "?ma=about.1",
        "?ma=eq.mot",
        "?as_of=hom-qua",
        "?limit=0",
    ] {
        let response = app
            .get(&format!("/api/v1/datasets/truong-hoc/records{query}"), None)
            .await;
        assert_problem(response, 400, "invalid_parameter").await;
    }
    assert_problem(
        app.get("/api/v1/datasets/gia-dat/records", None).await,
        404,
        "resource_not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/datasets/khong-co/records", None).await,
        404,
        "resource_not_found",
    )
    .await;
    app.stop().await;
}

async fn q13_2_personal_data_stays_with_its_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let citizen = app.token("citizen").await;
    let owner = app.token("agency-admin").await; // Sở Tư pháp owns so-hoa-ho-tich
    define_schools(&app, &operator).await;
    let file = b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n1,Tr\xc6\xb0\xe1\xbb\x9dng A,thpt,1,0912345678\n";
    assert_eq!(
        import(&app, Some(&operator), "truong-hoc", file)
            .await
            .status(),
        200
    );
    let public = records(&app, None, "").await;
    assert!(
        public[0].get("dien_thoai_hieu_truong").is_none(),
        "personal fields are not shown to the public"
    );
    let full = records(&app, Some(&operator), "").await;
    assert_eq!(full[0]["dien_thoai_hieu_truong"], "0912345678");

    // A personal dataset is not open at all: not to the public, not to other agencies' people.
    let schema = json!({"fields": [
        {"name": "so_dang_ky", "type": "string"},
        {"name": "ho_ten", "type": "string", "personal": true}
    ], "primaryKey": "so_dang_ky"});
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/so-hoa-ho-tich/schema",
            Some(&owner),
            &schema,
        )
        .await;
    assert_eq!(response.status(), 201);
    let file = b"so_dang_ky,ho_ten\nKS-01,Nguy\xe1\xbb\x85n V\xc4\x83n M\xe1\xba\xabu\n";
    assert_eq!(
        import(&app, Some(&owner), "so-hoa-ho-tich", file)
            .await
            .status(),
        200
    );
    let path = "/api/v1/datasets/so-hoa-ho-tich/records";
    assert_problem(app.get(path, None).await, 401, "authentication_required").await;
    assert_problem(app.get(path, Some(&citizen)).await, 403, "forbidden").await;
    let own: Vec<Value> = app.get(path, Some(&owner)).await.json().await.unwrap();
    assert_eq!(own[0]["ho_ten"], "Nguyễn Văn Mẫu");
    app.stop().await;
}

/// Decodes an RFC 8187 ext-value (`UTF-8''…`).
fn decode_ext(value: &str) -> String {
    let encoded = value.strip_prefix("UTF-8''").expect("an ext-value");
    let bytes = encoded.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&encoded[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn q14_records_carry_their_source_time_and_a_citation(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schools(&app, &operator).await;
    let file = b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n1,A,thpt,1,\n";
    assert_eq!(
        import(&app, Some(&operator), "truong-hoc", file)
            .await
            .status(),
        200
    );

    let response = app.get("/api/v1/datasets/truong-hoc/records", None).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let source = headers["lgsp-source"].to_str().unwrap();
    assert!(
        source.starts_with("000.00.14.H35; name*=UTF-8''"),
        "{source}"
    );
    assert_eq!(
        decode_ext(source.split_once("name*=").unwrap().1),
        "Sở Giáo dục và Đào tạo tỉnh Hà Nam"
    );
    let citation = decode_ext(headers["lgsp-citation"].to_str().unwrap());
    assert!(
        citation.contains("“Danh sách trường học”") && citation.contains("truy xuất lúc"),
        "{citation}"
    );
    assert!(headers["last-modified"].to_str().unwrap().ends_with(" GMT"));
    chrono::DateTime::parse_from_rfc3339(headers["lgsp-retrieved-at"].to_str().unwrap()).unwrap();

    // ETag / If-None-Match: unchanged data is not sent again; changed data is.
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let again = app
        .http
        .get(app.url("/api/v1/datasets/truong-hoc/records"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(
        again.headers().contains_key("lgsp-source"),
        "provenance on 304 too"
    );
    assert_eq!(
        import(&app, Some(&operator), "truong-hoc", file)
            .await
            .status(),
        200
    );
    let changed = app
        .http
        .get(app.url("/api/v1/datasets/truong-hoc/records"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    app.stop().await;
}

async fn imports_upsert_by_primary_key_and_append_new_keys_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schools(&app, &operator).await;
    let base = b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n1,A,thpt,100,\n2,B,thcs,200,\n";
    let done: Value = import_as(&app, &operator, "replace", base)
        .await
        .json()
        .await
        .unwrap();
    let before = done["changed_at"].as_str().unwrap().replace('+', "%2B");

    let upsert =
        b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n2,B,thcs,250,\n3,C,tieu_hoc,300,\n";
    assert_eq!(
        import_as(&app, &operator, "upsert", upsert).await.status(),
        200
    );
    let now = records(&app, None, "").await;
    let students: Vec<(i64, i64)> = now
        .iter()
        .map(|r| {
            (
                r["ma"].as_i64().unwrap(),
                r["so_hoc_sinh"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = students.clone();
    sorted.sort();
    assert_eq!(sorted, [(1, 100), (2, 250), (3, 300)]);
    let then = records(&app, None, &format!("?ma=eq.2&as_of={before}")).await;
    assert_eq!(
        then[0]["so_hoc_sinh"], 200,
        "the replaced version is kept in time"
    );

    let existing = b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n4,D,thpt,1,\n1,A2,thpt,1,\n";
    assert_problem(
        import_as(&app, &operator, "append", existing).await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(
        records(&app, None, "").await.len(),
        3,
        "nothing was appended"
    );
    let fresh = b"ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n4,D,thpt,1,\n";
    assert_eq!(
        import_as(&app, &operator, "append", fresh).await.status(),
        200
    );
    assert_eq!(records(&app, None, "").await.len(), 4);
    assert_problem(
        import_as(&app, &operator, "merge", fresh).await,
        400,
        "invalid_parameter",
    )
    .await;
    app.stop().await;
}

/// `lgsp import` reads the same settings as the server and imports through the same path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_imports_a_csv_file_all_or_nothing() {
    let app = spawn_app(Backend::Sqlite).await;
    let operator = app.token("operator").await;
    define_schools(&app, &operator).await;
    let good = app.data_dir.join("truong-hoc.csv");
    std::fs::write(
        &good,
        "ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n1,A,thpt,10,\n2,B,thcs,20,\n",
    )
    .unwrap();
    let bad = app.data_dir.join("sai.csv");
    std::fs::write(
        &bad,
        "ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong\n3,C,dai_hoc,10,\n",
    )
    .unwrap();
    let run = |file: std::path::PathBuf| {
        let data_dir = app.data_dir.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
                .args(["import", "--dataset", "truong-hoc", "--data-dir"])
                .arg(data_dir)
                .arg(file)
                .output()
                .unwrap()
        })
    };
    let output = run(good).await.unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let imported: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(imported["rows"], 2);
    assert_eq!(records(&app, None, "").await.len(), 2);

    let output = run(bad).await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["errors"][0]["type"], "constraint-error");
    assert_eq!(records(&app, None, "").await.len(), 2, "nothing changed");
    app.stop().await;
}
