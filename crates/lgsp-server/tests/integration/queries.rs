//! The records query language over HTTP (Q13.2: filters, order, keyset and offset paging,
//! counts) and downloads in every format with their provenance (Q14).

use std::io::Read;

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q13_2_query_language_filters_orders_and_pages,
    q13_2_bad_queries_name_the_parameter_and_change_nothing,
    q14_downloads_in_every_format_carry_their_provenance,
    q13_2_personal_fields_cannot_be_probed_by_the_public,
    q5_3_b_code_lists_answer_as_of_their_effective_dates,
    q13_2_ckan_datastore_search_answers_from_the_same_engine,
    q12_dataset_pages_preview_records_with_filters_downloads_and_api,
);

const SCHOOLS: &[u8] = "ma,ten,cap,so_hoc_sinh,dien_thoai_hieu_truong
1,Trường THPT Chuyên Biên Hòa,thpt,1250,0912000001
2,Trường THPT A Phủ Lý,thpt,980,
3,Trường Tiểu học Lam Hạ,tieu_hoc,640,0912000003
4,Trường Mầm non Hoa Sen,mam_non,,
5,Trường THCS Trần Phú,thcs,820,0912000005
"
.as_bytes();

async fn schools(backend: Backend) -> (TestApp, String) {
    let app = spawn_app(backend).await;
    let operator = load_schools(&app).await;
    (app, operator)
}

/// Gives the demo's `truong-hoc` its schema and five schools, as the operator; returns the
/// operator's token.
pub(super) async fn load_schools(app: &TestApp) -> String {
    let operator = app.token("operator").await;
    let schema = json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "ten", "type": "string", "constraints": {"required": true}},
            {"name": "cap", "type": "string"},
            {"name": "so_hoc_sinh", "type": "integer"},
            {"name": "dien_thoai_hieu_truong", "type": "string", "personal": true}
        ],
        "primaryKey": "ma"
    });
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/truong-hoc/schema",
            Some(&operator),
            &schema,
        )
        .await;
    assert_eq!(response.status(), 201);
    let response = app
        .http
        .post(app.url("/api/v1/datasets/truong-hoc/records"))
        .bearer_auth(&operator)
        .header("content-type", "text/csv")
        .body(SCHOOLS)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    operator
}

fn codes(records: &[Value]) -> Vec<i64> {
    records.iter().map(|r| r["ma"].as_i64().unwrap()).collect()
}

async fn get_json(app: &TestApp, query: &str) -> (reqwest::header::HeaderMap, Vec<Value>) {
    let response = app
        .get(&format!("/api/v1/datasets/truong-hoc/records{query}"), None)
        .await;
    assert_eq!(response.status(), 200, "{query}");
    let headers = response.headers().clone();
    (headers, response.json().await.unwrap())
}

async fn q13_2_query_language_filters_orders_and_pages(backend: Backend) {
    let (app, _) = schools(backend).await;
    for (query, expected) in [
        ("?so_hoc_sinh=gt.900", vec![1, 2]),
        ("?so_hoc_sinh=gte.820&so_hoc_sinh=lt.1000", vec![2, 5]),
        ("?cap=neq.thpt", vec![3, 4, 5]),
        ("?cap=in.(thcs,tieu_hoc)", vec![3, 5]),
        ("?ma=not.in.(1,2,3)", vec![4, 5]),
        ("?so_hoc_sinh=is.null", vec![4]),
        ("?ten=like.*Ph%C3%BA*", vec![5]),
        ("?ten=ilike.*thpt*", vec![1, 2]),
        ("?ten=like.*thpt*", vec![]),
        ("?so_hoc_sinh=lte.640&order=ma.desc", vec![3]),
        ("?order=so_hoc_sinh.desc", vec![4, 1, 2, 5, 3]),
        ("?order=so_hoc_sinh.desc.nullslast", vec![1, 2, 5, 3, 4]),
        ("?order=cap,ma.desc&limit=3", vec![4, 5, 2]),
        ("?order=ma&offset=3", vec![4, 5]),
        ("?ten=eq.%27%3B%20DROP%20TABLE%20ds_truong_hoc%3B--", vec![]),
    ] {
        let (_, records) = get_json(&app, query).await;
        assert_eq!(codes(&records), expected, "{query}");
    }
    let (_, all) = get_json(&app, "").await;
    assert_eq!(all.len(), 5, "values are bound, the table is intact");

    // select keeps the caller's order of fields.
    let (_, picked) = get_json(&app, "?select=ten,ma&ma=eq.3").await;
    assert_eq!(
        picked,
        vec![json!({"ten": "Trường Tiểu học Lam Hạ", "ma": 3})]
    );

    // Counts: Content-Range always, the total with Prefer: count=exact.
    let response = app
        .http
        .get(app.url("/api/v1/datasets/truong-hoc/records?cap=eq.thpt&limit=1"))
        .header("prefer", "count=exact")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-range"], "0-0/2");
    assert_eq!(response.headers()["preference-applied"], "count=exact");
    let (headers, _) = get_json(&app, "?limit=2&offset=2").await;
    assert_eq!(headers["content-range"], "2-3/*");

    // Keyset paging: following `Link: rel="next"` walks the whole order once.
    let mut next = Some(app.url(
        "/api/v1/datasets/truong-hoc/records?order=so_hoc_sinh.desc,ten&limit=2&cap=neq.mam_non",
    ));
    let mut walked = Vec::new();
    while let Some(url) = next.take() {
        let response = app.http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        next = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned())
            .map(|l| {
                assert!(l.ends_with("; rel=\"next\""), "{l}");
                l[1..l.find('>').unwrap()].to_owned()
            });
        let page: Vec<Value> = response.json().await.unwrap();
        walked.extend(codes(&page));
    }
    assert_eq!(walked, vec![1, 2, 5, 3]);
    app.stop().await;
}

async fn q13_2_bad_queries_name_the_parameter_and_change_nothing(backend: Backend) {
    let (app, _) = schools(backend).await;
    for (query, parameter) in [
        ("?khong_co=eq.1", "khong_co"),
        ("?ma=approx.1", "ma"),
        ("?ma=eq.mot", "ma"),
        ("?ma=1", "ma"),
        ("?ma=like.1*", "ma"),
        ("?cap=in.thpt", "cap"),
        ("?select=ma,khong_co", "select"),
        ("?order=ma.sideways", "order"),
        ("?limit=0", "limit"),
        ("?limit=10001", "limit"),
        ("?offset=-1", "offset"),
        ("?as_of=yesterday", "as_of"),
        ("?after=bm90LWEtY3Vyc29y", "after"),
        ("?format=pdf", "format"),
    ] {
        let response = app
            .get(&format!("/api/v1/datasets/truong-hoc/records{query}"), None)
            .await;
        let problem = assert_problem(response, 400, "invalid_parameter").await;
        assert_eq!(problem["parameter"], parameter, "{query}: {problem}");
    }
    let response = app
        .http
        .get(app.url("/api/v1/datasets/truong-hoc/records"))
        .header("accept", "image/png")
        .send()
        .await
        .unwrap();
    assert_problem(response, 406, "not_acceptable").await;
    let (_, all) = get_json(&app, "").await;
    assert_eq!(all.len(), 5);
    app.stop().await;
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip file");
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        let name = file.name().expect("a file name").to_string();
        files.insert(name, content);
    }
    files
}

async fn download(app: &TestApp, query: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .get(app.url(&format!("/api/v1/datasets/truong-hoc/records{query}")));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{query}");
    for header in [
        "lgsp-source",
        "lgsp-retrieved-at",
        "lgsp-citation",
        "last-modified",
        "etag",
    ] {
        assert!(response.headers().contains_key(header), "{query}: {header}");
    }
    response
}

async fn q14_downloads_in_every_format_carry_their_provenance(backend: Backend) {
    let (app, _) = schools(backend).await;

    let csv = download(&app, "?format=csv&order=ma.desc", None).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers()["content-disposition"],
        "attachment; filename=\"truong-hoc.csv\""
    );
    let etag = csv.headers()["etag"].clone();
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "ma,ten,cap,so_hoc_sinh",
        "no personal column for the public"
    );
    assert_eq!(lines[1], "5,Trường THCS Trần Phú,thcs,820");
    assert_eq!(lines.len(), 6, "downloads hold every record, not one page");
    let again = app
        .http
        .get(app.url("/api/v1/datasets/truong-hoc/records?format=csv&order=ma.desc"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let ndjson = download(&app, "?cap=eq.thpt", Some("application/x-ndjson")).await;
    assert_eq!(ndjson.headers()["content-type"], "application/x-ndjson");
    let text = ndjson.text().await.unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(codes(&rows), vec![1, 2]);

    let xlsx = download(
        &app,
        "",
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )
    .await;
    let files = unzip(&xlsx.bytes().await.unwrap());
    let workbook = String::from_utf8(files["xl/workbook.xml"].clone()).unwrap();
    assert!(
        workbook.contains("Dữ liệu") && workbook.contains("Nguồn dữ liệu"),
        "{workbook}"
    );
    // Cells may be inline or shared strings: look through every part.
    let strings: String = files
        .values()
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect();
    for expected in [
        "Trường THPT Chuyên Biên Hòa",
        "Trích dẫn",
        "Sở Giáo dục và Đào tạo",
        "truy xuất lúc",
    ] {
        assert!(strings.contains(expected), "the XLSX holds {expected}");
    }
    assert!(
        !strings.contains("0912000001"),
        "no personal data for the public"
    );

    let package = download(&app, "?format=datapackage&so_hoc_sinh=gte.800", None).await;
    assert_eq!(package.headers()["content-type"], "application/zip");
    let files = unzip(&package.bytes().await.unwrap());
    let descriptor: Value = serde_json::from_slice(&files["datapackage.json"]).unwrap();
    assert_eq!(descriptor["name"], "truong-hoc");
    assert_eq!(descriptor["licenses"][0]["name"], "CC-BY-4.0");
    assert!(descriptor["sources"][0]["title"]
        .as_str()
        .unwrap()
        .contains("Sở Giáo dục và Đào tạo"));
    assert!(descriptor["lgsp:citation"]
        .as_str()
        .unwrap()
        .contains("truy xuất lúc"));
    assert!(descriptor["created"].as_str().unwrap().ends_with('Z'));
    let resource = &descriptor["resources"][0];
    assert_eq!(resource["path"], "data.csv");
    assert_eq!(resource["schema"]["primaryKey"], json!(["ma"]));
    assert_eq!(resource["schema"]["fields"].as_array().unwrap().len(), 4);
    let data = String::from_utf8(files["data.csv"].clone()).unwrap();
    assert_eq!(
        data.lines().count(),
        4,
        "header and the three matching schools"
    );
    app.stop().await;
}

async fn q13_2_personal_fields_cannot_be_probed_by_the_public(backend: Backend) {
    let (app, operator) = schools(backend).await;
    for query in [
        "?dien_thoai_hieu_truong=eq.0912000001",
        "?select=ma,dien_thoai_hieu_truong",
        "?order=dien_thoai_hieu_truong",
    ] {
        let response = app
            .get(&format!("/api/v1/datasets/truong-hoc/records{query}"), None)
            .await;
        assert_problem(response, 403, "forbidden").await;
    }
    let response = app
        .get(
            "/api/v1/datasets/truong-hoc/records?dien_thoai_hieu_truong=is.null&select=ma",
            Some(&operator),
        )
        .await;
    let rows: Vec<Value> = response.json().await.unwrap();
    assert_eq!(
        codes(&rows),
        vec![2, 4],
        "the owner side may filter on them"
    );
    app.stop().await;
}

async fn q5_3_b_code_lists_answer_as_of_their_effective_dates(backend: Backend) {
    let app = spawn_app(backend).await;
    let units = |query: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get(
                    &format!("/api/v1/datasets/don-vi-hanh-chinh/records{query}"),
                    None,
                )
                .await;
            assert_eq!(response.status(), 200, "{query}");
            let rows: Vec<Value> = response.json().await.unwrap();
            rows.iter()
                .map(|r| r["ma"].as_str().unwrap().to_owned())
                .collect::<Vec<String>>()
        }
    };
    let before = units("?as_of=2024-06-30&order=ma").await;
    assert_eq!(before, vec!["347", "349", "35", "350", "351", "352", "353"]);
    let last_day = units("?as_of=2025-06-30T23:59:59%2B07:00&cap=eq.tinh").await;
    assert_eq!(last_day, vec!["35"]);
    let after = units("?as_of=2025-07-01&order=ma").await;
    assert_eq!(after, vec!["13285", "13324", "13384", "37"]);
    let now = units("?cap=eq.tinh").await;
    assert_eq!(now, vec!["37"]);
    // The crosswalk: every old code says where it went.
    let response = app
        .get(
            "/api/v1/datasets/don-vi-hanh-chinh/records?as_of=2025-06-30&ma=eq.347&select=ma,ten,ma_thay_the",
            None,
        )
        .await;
    let rows: Vec<Value> = response.json().await.unwrap();
    assert_eq!(rows[0]["ma_thay_the"], "13285");
    assert_eq!(rows[0]["ten"], "Thành phố Phủ Lý");
    app.stop().await;
}

async fn datastore(app: &TestApp, query: &str) -> reqwest::Response {
    app.get(&format!("/api/3/action/datastore_search?{query}"), None)
        .await
}

async fn q13_2_ckan_datastore_search_answers_from_the_same_engine(backend: Backend) {
    let (app, _) = schools(backend).await;
    let ok = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], true, "{body}");
        body["result"].clone()
    };
    let result = ok(datastore(
        &app,
        "resource_id=truong-hoc&filters=%7B%22cap%22%3A%22thpt%22%7D&sort=so_hoc_sinh%20desc&fields=ma,ten",
    )
    .await)
    .await;
    assert_eq!(result["total"], 2);
    assert_eq!(result["records"][0]["ma"], 1);
    assert!(result["records"][0]["_id"].is_i64());
    assert!(
        result["records"][0].get("cap").is_none(),
        "only the fields asked"
    );
    let ids: Vec<&str> = result["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["_id", "ma", "ten"]);

    // q searches every text field; a list filter is `in`; include_total can be turned off.
    let result = ok(datastore(
        &app,
        "resource_id=truong-hoc-records&q=tr%E1%BA%A7n%20ph%C3%BA",
    )
    .await)
    .await;
    assert_eq!(result["total"], 1, "Trường THCS Trần Phú");
    let result = ok(datastore(&app, "resource_id=truong-hoc&q=THPT").await).await;
    assert_eq!(result["total"], 2);
    let result = ok(datastore(
        &app,
        "resource_id=truong-hoc&filters=%7B%22ma%22%3A%5B3%2C4%5D%7D&include_total=false&limit=1&offset=1",
    )
    .await)
    .await;
    assert_eq!(result["records"].as_array().unwrap().len(), 1);
    assert_eq!(result["records"][0]["ma"], 4);
    assert!(result.get("total").is_none());
    let all = ok(datastore(&app, "resource_id=truong-hoc&limit=99999").await).await;
    assert_eq!(all["limit"], 32000);
    assert!(
        all["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "dien_thoai_hieu_truong"),
        "no personal field"
    );

    for (query, status, kind) in [
        ("resource_id=khong-co", 404, "Not Found Error"),
        ("resource_id=thua-dat", 403, "Authorization Error"),
        (
            "resource_id=truong-hoc&filters=%7B%22khong_co%22%3A1%7D",
            409,
            "Validation Error",
        ),
        (
            "resource_id=truong-hoc&filters=%7B%22dien_thoai_hieu_truong%22%3A%220912000001%22%7D",
            409,
            "Validation Error",
        ),
        (
            "resource_id=truong-hoc&filters=%7B%22ma%22%3A%22mot%22%7D",
            409,
            "Validation Error",
        ),
        (
            "resource_id=truong-hoc&sort=ma%20sideways",
            409,
            "Validation Error",
        ),
        (
            "resource_id=truong-hoc&filters=not-json",
            409,
            "Validation Error",
        ),
        ("", 409, "Validation Error"),
    ] {
        let response = datastore(&app, query).await;
        assert_eq!(response.status(), status, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["__type"], kind, "{query}");
    }
    app.stop().await;
}

async fn page(app: &TestApp, path: &str, token: Option<&str>) -> String {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn q12_dataset_pages_preview_records_with_filters_downloads_and_api(backend: Backend) {
    let (app, operator) = schools(backend).await;
    // The code list shows the units in effect today, filterable, with its schema.
    let units = page(&app, "/dataset/don-vi-hanh-chinh", None).await;
    assert!(
        units.contains("<strong id=\"so-ban-ghi\">4</strong> bản ghi"),
        "{units}"
    );
    assert!(units.contains("Phường Phủ Lý") && !units.contains("Huyện Lý Nhân"));
    assert!(units.contains("01/07/2025"), "dates as dd/mm/yyyy");
    assert!(units.contains("Mã đơn vị hành chính") && units.contains("một trong: tinh, huyen, xa"));
    let filtered = page(&app, "/dataset/don-vi-hanh-chinh?cap=xa", None).await;
    assert!(filtered.contains("<strong id=\"so-ban-ghi\">3</strong> bản ghi"));
    assert!(
        filtered.contains("format=csv&amp;cap=eq.xa"),
        "downloads keep the filter"
    );
    assert!(
        filtered.contains("records?cap=eq.xa&#38;limit=20&#39;</code>"),
        "a ready-to-paste API call with the same filter: {filtered}"
    );
    let bad = page(
        &app,
        "/dataset/don-vi-hanh-chinh?effective_from=hom-qua",
        None,
    )
    .await;
    assert!(bad.contains("role=\"alert\"") && bad.contains("không hợp lệ"));

    // Personal fields: hidden from the public, shown to the owner side.
    let public = page(&app, "/dataset/truong-hoc", None).await;
    assert!(public.contains("Trường THPT Chuyên Biên Hòa"));
    assert!(!public.contains("0912000001"));
    assert!(public.contains("chỉ hiển thị cho cơ quan chủ quản"));
    let own = page(&app, "/dataset/truong-hoc", Some(&operator)).await;
    assert!(own.contains("0912000001"));

    // Datasets the caller may not read, or without records, show no preview.
    let restricted = page(&app, "/dataset/thua-dat", None).await;
    assert!(!restricted.contains("id=\"xem-truoc\""));
    let empty = page(&app, "/dataset/gia-dat", None).await;
    assert!(!empty.contains("id=\"xem-truoc\""));
    app.stop().await;
}
