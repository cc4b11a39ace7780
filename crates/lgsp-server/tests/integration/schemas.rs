//! Schemas of hosted datasets over time: batched imports of every type, schema changes checked
//! against the current records, and foreign keys to code lists.

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q15_2_d_batched_imports_keep_every_type_nulls_and_upserts_across_batches,
    q15_2_d_schema_change_keeps_records_or_refuses_naming_the_rows,
    q15_2_d_foreign_keys_to_code_lists_are_checked_on_save_and_import,
);

async fn put_schema(
    app: &TestApp,
    token: &str,
    dataset: &str,
    schema: &Value,
) -> reqwest::Response {
    app.send_json(
        Method::PUT,
        &format!("/api/v1/datasets/{dataset}/schema"),
        Some(token),
        schema,
    )
    .await
}

async fn import(
    app: &TestApp,
    token: &str,
    dataset: &str,
    mode: &str,
    csv: impl Into<reqwest::Body>,
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

async fn records(app: &TestApp, token: &str, dataset: &str, query: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/api/v1/datasets/{dataset}/records{query}"),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

/// Row `i` of the every-type file: every third row leaves its optional cells empty.
fn typed_row(i: usize, n: f64) -> String {
    if i % 3 == 0 {
        format!("{i},,,,,,,,\n")
    } else {
        format!(
            "{i},\"Dòng {i}\ttab \\\\ gạch, \"\"ngoặc\"\"\nxuống dòng\",{n},{},2024-0{}-1{},2025-03-0{}T0{}:30:15Z,1{}:05:09,19{:02},\"105.{i},20.5\"\n",
            i % 2 == 0,
            1 + i % 9,
            i % 10,
            1 + i % 9,
            i % 10,
            i % 10,
            i % 100
        )
    }
}

const TYPED_HEADER: &str = "ma,chuoi,so,dung,ngay,thoi_diem,gio,nam,toa_do\n";

async fn q15_2_d_batched_imports_keep_every_type_nulls_and_upserts_across_batches(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let schema = json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "chuoi", "type": "string"},
            {"name": "so", "type": "number"},
            {"name": "dung", "type": "boolean"},
            {"name": "ngay", "type": "date"},
            {"name": "thoi_diem", "type": "datetime"},
            {"name": "gio", "type": "time"},
            {"name": "nam", "type": "year"},
            {"name": "toa_do", "type": "geopoint"}
        ],
        "primaryKey": "ma"
    });
    let dataset = "quan-trac-khong-khi";
    assert_eq!(
        put_schema(&app, &operator, dataset, &schema).await.status(),
        201
    );
    // More rows than an import batch and than one multi-row statement, not a multiple of either.
    let mut csv = TYPED_HEADER.to_owned();
    for i in 1..=5003 {
        csv.push_str(&typed_row(i, i as f64 + 0.25));
    }
    let response = import(&app, &operator, dataset, "replace", csv).await;
    assert_eq!(response.status(), 200);
    let done: Value = response.json().await.unwrap();
    assert_eq!(done["rows"], 5003);
    let before = done["changed_at"].as_str().unwrap().replace('+', "%2B");

    let all = records(&app, &operator, dataset, "?limit=10000&order=ma").await;
    assert_eq!(all.len(), 5003);
    for i in [
        1usize, 2, 3, 499, 500, 501, 1000, 1001, 4999, 5000, 5001, 5003,
    ] {
        let row = &all[i - 1];
        assert_eq!(row["ma"], i);
        if i % 3 == 0 {
            for field in [
                "chuoi",
                "so",
                "dung",
                "ngay",
                "thoi_diem",
                "gio",
                "nam",
                "toa_do",
            ] {
                assert!(row[field].is_null(), "row {i} {field}: {row}");
            }
            continue;
        }
        assert_eq!(
            row["chuoi"],
            format!("Dòng {i}\ttab \\\\ gạch, \"ngoặc\"\nxuống dòng"),
            "{row}"
        );
        assert_eq!(row["so"], i as f64 + 0.25);
        assert_eq!(row["dung"], i % 2 == 0);
        assert_eq!(row["ngay"], format!("2024-0{}-1{}", 1 + i % 9, i % 10));
        let instant = row["thoi_diem"].as_str().unwrap();
        let parsed = chrono::DateTime::parse_from_rfc3339(instant).unwrap();
        assert_eq!(
            parsed.with_timezone(&chrono::Utc).to_rfc3339(),
            format!("2025-03-0{}T0{}:30:15+00:00", 1 + i % 9, i % 10)
        );
        assert!(row["gio"]
            .as_str()
            .unwrap()
            .starts_with(&format!("1{}:05:09", i % 10)));
        assert_eq!(row["nam"], 1900 + (i % 100) as i64);
        assert_eq!(
            row["toa_do"],
            json!([format!("105.{i}").parse::<f64>().unwrap(), 20.5]),
            "{row}"
        );
    }

    // Upsert over the batch boundaries: keys 400..=6003, 1000 of them new.
    let mut csv = TYPED_HEADER.to_owned();
    for i in 400..=6003 {
        csv.push_str(&typed_row(i, i as f64 * 2.0));
    }
    let response = import(&app, &operator, dataset, "upsert", csv).await;
    assert_eq!(response.status(), 200);
    let all = records(&app, &operator, dataset, "?limit=10000&order=ma").await;
    assert_eq!(all.len(), 6003, "one current version per key");
    assert_eq!(all[0]["so"], 1.25);
    assert_eq!(all[399]["so"], 800.0);
    assert_eq!(all[6001]["so"], 12004.0);
    let then = records(
        &app,
        &operator,
        dataset,
        &format!("?limit=10000&as_of={before}"),
    )
    .await;
    assert_eq!(then.len(), 5003, "the replaced versions are kept in time");
    let old_400 = then.iter().find(|r| r["ma"] == 400).unwrap();
    assert_eq!(old_400["so"], 400.25);
    app.stop().await;
}

fn schools(extra: Value) -> Value {
    let mut schema = json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "ten", "type": "string", "constraints": {"required": true}},
            {"name": "cap", "type": "string", "constraints": {"enum": ["mam_non", "tieu_hoc", "thcs", "thpt"]}},
            {"name": "so_hoc_sinh", "type": "integer"},
            {"name": "ghi_chu", "type": "string"}
        ],
        "primaryKey": "ma"
    });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            schema[k] = v;
        }
    }
    schema
}

async fn q15_2_d_schema_change_keeps_records_or_refuses_naming_the_rows(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let dataset = "truong-hoc";
    assert_eq!(
        put_schema(&app, &operator, dataset, &schools(json!({})))
            .await
            .status(),
        201
    );
    let first = "ma,ten,cap,so_hoc_sinh,ghi_chu\n1,Trường A,thpt,100,cũ\n2,Trường B,thcs,,\n3,Trường C,tieu_hoc,300,x\n";
    assert_eq!(
        import(&app, &operator, dataset, "replace", first)
            .await
            .status(),
        200
    );
    let second = "ma,ten,cap,so_hoc_sinh,ghi_chu\n1,Trường A1,thpt,150,mới\n";
    let done: Value = import(&app, &operator, dataset, "upsert", second)
        .await
        .json()
        .await
        .unwrap();
    let between = done["changed_at"].as_str().unwrap().replace('+', "%2B");
    let before_change = records(&app, &operator, dataset, "?order=ma").await;

    // Conflicting: `ten` as an integer, `cap` narrowed, a minimum one record is under.
    let conflicting = json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "ten", "type": "integer"},
            {"name": "cap", "type": "string", "constraints": {"enum": ["thpt", "thcs"]}},
            {"name": "so_hoc_sinh", "type": "integer", "constraints": {"unique": true, "minimum": 200}},
        ],
        "primaryKey": "ma"
    });
    let problem = assert_problem(
        put_schema(&app, &operator, dataset, &conflicting).await,
        422,
        "schema_change_conflict",
    )
    .await;
    let conflicts = problem["conflicts"].as_array().unwrap();
    let named: Vec<(String, String)> = conflicts
        .iter()
        .map(|c| {
            (
                c["row"].as_str().unwrap().to_owned(),
                c["field"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("1", "ten"),
        ("2", "ten"),
        ("3", "ten"),
        ("3", "cap"),
        ("1", "so_hoc_sinh"),
    ] {
        assert!(
            named.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {named:?}"
        );
    }
    assert!(!named.contains(&("2".to_owned(), "cap".to_owned())));
    assert_eq!(problem["total"], conflicts.len());
    assert_eq!(
        records(&app, &operator, dataset, "?order=ma").await,
        before_change,
        "nothing changed"
    );
    let still_old = "ma,ten,cap,so_hoc_sinh,ghi_chu\n4,Trường D,mam_non,5,\n";
    assert_eq!(
        import(&app, &operator, dataset, "upsert", still_old)
            .await
            .status(),
        200,
        "the old schema is still in force"
    );

    // Compatible: `so_hoc_sinh` becomes a number, `ghi_chu` is dropped, a new optional field
    // appears before the others.
    let compatible = json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "dia_chi", "type": "string"},
            {"name": "ten", "type": "string", "constraints": {"required": true}},
            {"name": "cap", "type": "string"},
            {"name": "so_hoc_sinh", "type": "number"}
        ],
        "primaryKey": "ma"
    });
    let response = put_schema(&app, &operator, dataset, &compatible).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["schema"]["fields"][1]["name"], "dia_chi");
    let now = records(&app, &operator, dataset, "?order=ma").await;
    assert_eq!(now.len(), 4);
    assert_eq!(now[0]["ten"], "Trường A1");
    assert_eq!(now[0]["so_hoc_sinh"], 150.0);
    assert!(now[0]["dia_chi"].is_null());
    assert!(now[0].get("ghi_chu").is_none(), "dropped: {}", now[0]);
    assert!(now[1]["so_hoc_sinh"].is_null());
    // Past versions keep their time intervals.
    let then = records(
        &app,
        &operator,
        dataset,
        &format!("?order=ma&as_of={between}"),
    )
    .await;
    assert_eq!(then.len(), 3);
    assert_eq!(then[0]["ten"], "Trường A1");
    let earliest = records(&app, &operator, dataset, "?order=ma&as_of=2000-01-01").await;
    assert!(earliest.is_empty());
    // The new schema is in force for imports, and new rows get fresh ids.
    let new_file = "ma,dia_chi,ten,cap,so_hoc_sinh\n5,Phủ Lý,Trường E,thpt,12.5\n";
    assert_eq!(
        import(&app, &operator, dataset, "upsert", new_file)
            .await
            .status(),
        200
    );
    let now = records(&app, &operator, dataset, "?order=ma").await;
    assert_eq!(now.len(), 5);
    assert_eq!(now[4]["dia_chi"], "Phủ Lý");
    app.stop().await;
}

async fn q15_2_d_foreign_keys_to_code_lists_are_checked_on_save_and_import(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    let dataset = "truong-hoc";
    let with_fk = |resource: &str, field: &str| {
        let mut schema = schools(json!({
            "foreignKeys": [{"fields": "ma_xa", "reference": {"resource": resource, "fields": field}}]
        }));
        schema["fields"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "ma_xa", "type": "string"}));
        schema
    };
    for (resource, field, says) in [
        ("khong-ton-tai", "ma", "not in the catalog"),
        ("quan-trac-khong-khi", "ma", "not a code list"),
        ("don-vi-hanh-chinh", "ma_khong_co", "no field `ma_khong_co`"),
    ] {
        let problem = assert_problem(
            put_schema(&app, &operator, dataset, &with_fk(resource, field)).await,
            400,
            "invalid_foreign_key",
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{problem}"
        );
    }
    assert_eq!(
        put_schema(
            &app,
            &operator,
            dataset,
            &with_fk("don-vi-hanh-chinh", "ma")
        )
        .await
        .status(),
        201
    );
    let bad = "ma,ten,cap,so_hoc_sinh,ghi_chu,ma_xa\n1,A,thpt,1,,13285\n2,B,thpt,1,,99999\n3,C,thpt,1,,\n4,D,thpt,1,,13324\n5,E,thpt,1,,1328\n";
    let problem = assert_problem(
        import(&app, &operator, dataset, "replace", bad).await,
        422,
        "import_invalid",
    )
    .await;
    let errors = problem["report"]["errors"].as_array().unwrap();
    let found: Vec<(&str, i64)> = errors
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["rowNumber"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [("foreign-key", 3), ("foreign-key", 6)]);
    assert!(errors[0]["message"].as_str().unwrap().contains("99999"));
    assert!(
        records(&app, &operator, dataset, "").await.is_empty(),
        "nothing imported"
    );
    let good = "ma,ten,cap,so_hoc_sinh,ghi_chu,ma_xa\n1,A,thpt,1,,13285\n3,C,thpt,1,,\n";
    assert_eq!(
        import(&app, &operator, dataset, "replace", good)
            .await
            .status(),
        200
    );
    app.stop().await;
}
