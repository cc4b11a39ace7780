//! Imports (Q15.2.d): XLSX workbooks beside CSV, import jobs with progress, and all or nothing
//! even when the importing process is killed.

use std::io::{BufRead, Write};
use std::time::Duration;

use reqwest::Method;
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q15_2_d_xlsx_cells_are_read_as_the_schema_types,
    q15_2_d_bad_files_are_refused_with_stable_codes_and_change_nothing,
    q15_2_d_async_imports_are_jobs_with_progress,
    q15_2_d_a_killed_import_changes_nothing,
    q15_2_d_a_failed_first_load_leaves_the_dataset_ready_for_the_next,
    q15_2_d_console_upload_checks_csrf_and_shows_the_job,
);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const HEADER: [&str; 5] = ["ma", "ten", "ngay_thanh_lap", "dien_tich", "cong_lap"];

async fn define_schema(app: &TestApp, token: &str) {
    let schema = json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "ten", "type": "string", "constraints": {"required": true}},
            {"name": "ngay_thanh_lap", "type": "date"},
            {"name": "dien_tich", "type": "number"},
            {"name": "cong_lap", "type": "boolean"}
        ],
        "primaryKey": "ma"
    });
    let response = app
        .send_json(
            Method::PUT,
            "/api/v1/datasets/truong-hoc/schema",
            Some(token),
            &schema,
        )
        .await;
    assert_eq!(response.status(), 201);
}

/// A school row: ma, ten, founding date as (y, m, d), area, public.
type School<'a> = (f64, &'a str, (u16, u8, u8), f64, bool);

/// A workbook whose first sheet holds `HEADER` and a row per `rows` entry: (ma, ten, date
/// as (y, m, d), area, public). Its second sheet, `Khác`, holds one other school.
fn workbook(rows: &[School<'_>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = book.add_worksheet();
    header_row(sheet);
    for (n, (ma, ten, (y, m, d), area, public)) in rows.iter().enumerate() {
        let row = n as u32 + 1;
        sheet.write_number(row, 0, *ma).unwrap();
        sheet.write_string(row, 1, *ten).unwrap();
        let day = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
        sheet
            .write_datetime_with_format(row, 2, &day, &date)
            .unwrap();
        sheet.write_number(row, 3, *area).unwrap();
        sheet.write_boolean(row, 4, *public).unwrap();
    }
    let other = book.add_worksheet();
    other.set_name("Khác").unwrap();
    header_row(other);
    other.write_number(1, 0, 99).unwrap();
    other.write_string(1, 1, "Trường khác").unwrap();
    book.save_to_buffer().unwrap()
}

/// Asserts a 200 answer, showing the problem otherwise.
async fn ok(response: reqwest::Response) {
    let status = response.status();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());
}

fn header_row(sheet: &mut rust_xlsxwriter::Worksheet) {
    for (col, name) in HEADER.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
}

async fn post(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/v1/datasets/truong-hoc/records{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn records(app: &TestApp) -> Vec<Value> {
    let response = app
        .get("/api/v1/datasets/truong-hoc/records?order=ma", None)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn job(app: &TestApp, token: &str, location: &str) -> Value {
    let response = app.get(location, Some(token)).await;
    assert_eq!(response.status(), 200, "{location}");
    response.json().await.unwrap()
}

async fn q15_2_d_xlsx_cells_are_read_as_the_schema_types(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schema(&app, &operator).await;
    let file = workbook(&[
        (1.0, "Trường THPT A", (2001, 9, 5), 1250.5, true),
        (2.0, "Trường THCS B", (1999, 1, 31), 800.0, false),
    ]);
    let response = post(&app, &operator, "", XLSX, file.clone()).await;
    assert_eq!(response.status(), 200);
    let location = response.headers()["content-location"]
        .to_str()
        .unwrap()
        .to_owned();
    let imported: Value = response.json().await.unwrap();
    assert_eq!(imported["rows"], 2);
    let rows = records(&app).await;
    assert_eq!(rows[0]["ma"], 1);
    assert_eq!(rows[0]["ten"], "Trường THPT A");
    assert_eq!(rows[0]["ngay_thanh_lap"], "2001-09-05");
    assert_eq!(rows[0]["dien_tich"], 1250.5);
    assert_eq!(rows[0]["cong_lap"], true);
    assert_eq!(rows[1]["ngay_thanh_lap"], "1999-01-31");
    assert_eq!(rows[1]["cong_lap"], false);
    let done = job(&app, &operator, &location).await;
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["format"], "xlsx");
    assert_eq!(done["rows_written"], 2);

    // Recognised by its zip signature without the Content-Type; `sheet` picks another sheet.
    let response = post(
        &app,
        &operator,
        "?sheet=Kh%C3%A1c",
        "application/octet-stream",
        file,
    )
    .await;
    assert_eq!(response.status(), 200);
    let rows = records(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["ma"], 99);

    // Formula cells count by their cached value, never evaluated: `=1+1` cached as 7 is 7.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    header_row(sheet);
    sheet
        .write_formula(1, 0, Formula::new("=1+1").set_result("7"))
        .unwrap();
    sheet
        .write_formula(
            1,
            1,
            Formula::new("=WEBSERVICE(\"http://127.0.0.1:9/\")").set_result("Bảy"),
        )
        .unwrap();
    let response = post(&app, &operator, "", XLSX, book.save_to_buffer().unwrap()).await;
    assert_eq!(response.status(), 200);
    let rows = records(&app).await;
    assert_eq!(rows[0]["ma"], 7);
    assert_eq!(rows[0]["ten"], "Bảy");

    // Bad cells are reported with the sheet's own row numbers.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    header_row(sheet);
    sheet.write_number(1, 0, 5).unwrap();
    sheet.write_string(1, 1, "Đúng").unwrap();
    sheet.write_string(2, 0, "năm").unwrap();
    sheet.write_string(2, 1, "Sai").unwrap();
    sheet.write_number(3, 0, 6).unwrap();
    sheet.write_string(3, 1, "Sai ngày").unwrap();
    sheet.write_string(3, 2, "31/02/2020").unwrap();
    let response = post(&app, &operator, "", XLSX, book.save_to_buffer().unwrap()).await;
    let problem = assert_problem(response, 422, "import_invalid").await;
    let errors = problem["report"]["errors"].as_array().unwrap();
    let found: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["rowNumber"].as_u64().unwrap_or(0),
                e["fieldName"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(3, "ma"), (3, "-"), (4, "ngay_thanh_lap")],
        "{problem}"
    );
    assert_eq!(records(&app).await.len(), 1, "nothing changed");
    app.stop().await;
}

/// Replaces `PLACEHOLDER` in a workbook's shared strings with `text`.
fn with_shared_string(xlsx: Vec<u8>, text: &str) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "xl/sharedStrings.xml" {
            content = String::from_utf8(content)
                .unwrap()
                .replace("PLACEHOLDER", text)
                .into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

async fn q15_2_d_bad_files_are_refused_with_stable_codes_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schema(&app, &operator).await;
    let file = workbook(&[(1.0, "Trường THPT A", (2001, 9, 5), 1250.5, true)]);
    assert_eq!(
        post(&app, &operator, "", XLSX, file.clone()).await.status(),
        200
    );
    let before = records(&app).await;

    let mut corrupt = file.clone();
    corrupt.truncate(file.len() / 2);
    let problem = assert_problem(
        post(&app, &operator, "", XLSX, corrupt).await,
        400,
        "invalid_spreadsheet",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("XLSX"),
        "{problem}"
    );
    assert_problem(
        post(&app, &operator, "", XLSX, b"not a workbook".to_vec()).await,
        400,
        "invalid_spreadsheet",
    )
    .await;
    assert_problem(
        post(&app, &operator, "?sheet=Kh%C3%B4ng", XLSX, file).await,
        400,
        "invalid_spreadsheet",
    )
    .await;
    assert_problem(
        post(&app, &operator, "", XLSX, Vec::new()).await,
        400,
        "empty_file",
    )
    .await;
    assert_problem(
        post(&app, &operator, "", "text/csv", Vec::new()).await,
        400,
        "empty_file",
    )
    .await;
    let mut book = Workbook::new();
    book.add_worksheet();
    assert_problem(
        post(&app, &operator, "", XLSX, book.save_to_buffer().unwrap()).await,
        400,
        "empty_file",
    )
    .await;
    // Non-UTF-8 CSV keeps its clear error.
    let latin1 = b"ma,ten,ngay_thanh_lap,dien_tich,cong_lap\n3,Tr\xfc\xf4ng,,,\n".to_vec();
    let problem = assert_problem(
        post(&app, &operator, "", "text/csv", latin1).await,
        422,
        "invalid_encoding",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(records(&app).await, before, "nothing changed");

    // A 10 MB cell is read, not a crash.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    header_row(sheet);
    sheet.write_number(1, 0, 8).unwrap();
    sheet.write_string(1, 1, "PLACEHOLDER").unwrap();
    let huge = with_shared_string(book.save_to_buffer().unwrap(), &"Đ".repeat(5 * 1024 * 1024));
    ok(post(&app, &operator, "", XLSX, huge).await).await;
    let rows = app
        .get("/api/v1/datasets/truong-hoc/records?select=ma", None)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(rows, json!([{"ma": 8}]));

    // Every attempt is a job; the failed ones say why.
    let list: Value = app
        .get("/api/v1/datasets/truong-hoc/imports", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = list["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["error_code"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        codes,
        [
            "-",
            "invalid_encoding",
            "empty_file",
            "empty_file",
            "empty_file",
            "invalid_spreadsheet",
            "invalid_spreadsheet",
            "invalid_spreadsheet",
            "-"
        ]
    );
    app.stop().await;
}

async fn q15_2_d_async_imports_are_jobs_with_progress(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schema(&app, &operator).await;
    let mut csv = String::from("ma,ten,ngay_thanh_lap,dien_tich,cong_lap\n");
    for n in 1..=5000 {
        csv.push_str(&format!("{n},Trường {n},2001-09-05,{n}.5,true\n"));
    }
    let response = app
        .http
        .post(app.url("/api/v1/datasets/truong-hoc/records?mode=replace"))
        .bearer_auth(&operator)
        .header("content-type", "text/csv")
        .header("prefer", "respond-async")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let accepted: Value = response.json().await.unwrap();
    assert!(location.ends_with(accepted["id"].as_str().unwrap()));
    assert_eq!(accepted["mode"], "replace");
    let mut done = Value::Null;
    for _ in 0..300 {
        done = job(&app, &operator, &location).await;
        if done["state"] == "succeeded" || done["state"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["rows_read"], 5000);
    assert_eq!(done["rows_written"], 5000);
    assert_eq!(done["report"]["valid"], true);
    assert_eq!(done["created_by"], "operator");
    let count = app
        .http
        .get(app.url("/api/v1/datasets/truong-hoc/records?limit=1"))
        .header("prefer", "count=exact")
        .send()
        .await
        .unwrap();
    assert!(count.headers()["content-range"]
        .to_str()
        .unwrap()
        .ends_with("/5000"));

    // An invalid file fails its job, with the report; nothing changes.
    let response = app
        .http
        .post(app.url("/api/v1/datasets/truong-hoc/records"))
        .bearer_auth(&operator)
        .header("prefer", "respond-async")
        .body("ma,ten,ngay_thanh_lap,dien_tich,cong_lap\n1,,,,\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    for _ in 0..300 {
        done = job(&app, &operator, &location).await;
        if done["state"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["error_code"], "import_invalid", "{done}");
    assert_eq!(done["report"]["errors"][0]["rowNumber"], 2);
    assert_eq!(done["rows_written"], 0);
    let list: Value = app
        .get("/api/v1/datasets/truong-hoc/imports", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["imports"].as_array().unwrap().len(), 2);
    assert_eq!(list["imports"][0]["state"], "failed");

    // Jobs are the owner's business.
    assert_eq!(
        app.get("/api/v1/datasets/truong-hoc/imports", None)
            .await
            .status(),
        401
    );
    assert_problem(
        app.get(
            "/api/v1/datasets/truong-hoc/imports/khong-co",
            Some(&operator),
        )
        .await,
        404,
        "resource_not_found",
    )
    .await;
    app.stop().await;
}

/// `lgsp import` on a large file, killed with SIGKILL mid-import: the records are exactly as
/// before, the job shows as failed after the next start, and a new import works.
async fn q15_2_d_a_killed_import_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schema(&app, &operator).await;
    let small =
        b"ma,ten,ngay_thanh_lap,dien_tich,cong_lap\n1,A,2001-09-05,1.5,true\n2,B,,,\n3,C,,,false\n";
    assert_eq!(
        post(&app, &operator, "", "text/csv", small.to_vec())
            .await
            .status(),
        200
    );
    let before = records(&app).await;

    let big = app.data_dir.join("lon.csv");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        writeln!(out, "ma,ten,ngay_thanh_lap,dien_tich,cong_lap").unwrap();
        for n in 1..=1_000_000 {
            writeln!(out, "{n},Trường số {n},2001-09-05,{n}.25,true").unwrap();
        }
    }
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"));
    command
        .args([
            "import",
            "--dataset",
            "truong-hoc",
            "--mode",
            "replace",
            "--data-dir",
        ])
        .arg(&app.data_dir);
    if let Some(url) = app.database_url() {
        command.args(["--database", &url]);
    }
    let mut child = command
        .arg(&big)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let progress = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let written = line
                .strip_suffix(" written")
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse::<u64>().ok());
            seen.push(line);
            if written.is_some_and(|n| n >= 2000) {
                return seen;
            }
        }
        panic!("the import ended before it wrote anything: {seen:?}");
    })
    .await
    .unwrap();
    assert!(
        progress.iter().any(|l| l.contains("rows read")),
        "{progress:?}"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    assert_eq!(records(&app).await, before, "records exactly as before");
    let app = app.restart().await;
    assert_eq!(records(&app).await, before);
    let operator = app.token("operator").await;
    let list: Value = app
        .get("/api/v1/datasets/truong-hoc/imports", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["imports"][0]["state"], "failed", "{list}");
    assert_eq!(list["imports"][0]["error_code"], "interrupted");
    assert!(list["imports"][0]["created_by"]
        .as_str()
        .unwrap()
        .starts_with("cli:"));

    let fresh = b"ma,ten,ngay_thanh_lap,dien_tich,cong_lap\n10,Moi,,,\n".to_vec();
    assert_eq!(
        post(&app, &operator, "?mode=append", "text/csv", fresh)
            .await
            .status(),
        200
    );
    assert_eq!(records(&app).await.len(), before.len() + 1);
    app.stop().await;
}

/// `lgsp import` reads XLSX workbooks too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q15_2_d_binary_imports_an_xlsx_workbook() {
    let app = spawn_app(Backend::Sqlite).await;
    let operator = app.token("operator").await;
    define_schema(&app, &operator).await;
    let path = app.data_dir.join("truong.xlsx");
    std::fs::write(
        &path,
        workbook(&[(4.0, "Trường D", (2010, 1, 2), 12.0, true)]),
    )
    .unwrap();
    let data_dir = app.data_dir.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
            .args(["import", "--dataset", "truong-hoc", "--data-dir"])
            .arg(data_dir)
            .arg(path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = records(&app).await;
    assert_eq!(rows[0]["ngay_thanh_lap"], "2010-01-02");

    // Workbooks are read whole, so `max_xlsx_bytes` bounds them.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lgsp"))
        .env("LGSP_MAX_XLSX_BYTES", "1000")
        .args(["import", "--dataset", "truong-hoc", "--data-dir"])
        .arg(&app.data_dir)
        .arg(app.data_dir.join("truong.xlsx"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("max_xlsx_bytes"));
    app.stop().await;
}

fn upload_form(csrf: &str, file: &'static [u8]) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .text("dataset", "truong-hoc")
        .text("mode", "replace")
        .part(
            "file",
            reqwest::multipart::Part::bytes(file).file_name("truong.csv"),
        )
}

async fn html_of(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

async fn q15_2_d_console_upload_checks_csrf_and_shows_the_job(backend: Backend) {
    use super::web::{browser, csrf_field, sign_in};
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schema(&app, &operator).await;
    let client = browser(&app);
    assert_eq!(sign_in(&app, &client, "operator").await.status(), 303);
    let page = html_of(&client, &app.url("/console/imports")).await;
    assert!(page.contains(r#"<option value="truong-hoc">"#), "{page}");
    let csrf = csrf_field(&page);
    let good: &'static [u8] =
        "ma,ten,ngay_thanh_lap,dien_tich,cong_lap\n1,Trường A,,,\n2,Trường B,,,\n".as_bytes();

    let forged = client
        .post(app.url("/console/imports"))
        .multipart(upload_form("forged", good))
        .send()
        .await
        .unwrap();
    assert_problem(forged, 403, "csrf_token_invalid").await;
    let file_first = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(good).file_name("truong.csv"),
        )
        .text("csrf", csrf.clone());
    let response = client
        .post(app.url("/console/imports"))
        .multipart(file_first)
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "malformed_multipart").await;
    assert!(records(&app).await.is_empty(), "nothing imported");

    let response = client
        .post(app.url("/console/imports"))
        .multipart(upload_form(&csrf, good))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let job_page = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        job_page.starts_with("/console/imports/truong-hoc/"),
        "{job_page}"
    );
    let mut html = String::new();
    for _ in 0..100 {
        html = html_of(&client, &app.url(&job_page)).await;
        if !html.contains("http-equiv=\"refresh\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        html.contains(r#"<dd id="trang-thai">Thành công</dd>"#),
        "{html}"
    );
    assert!(html.contains(r#"<dd id="so-dong-ghi">2</dd>"#), "{html}");
    assert_eq!(records(&app).await.len(), 2);
    let anonymous = app.http.get(app.url(&job_page)).send().await.unwrap();
    assert!(anonymous.status().is_redirection());
    app.stop().await;
}

/// A dataset's first load is a bulk load (on PostgreSQL its indexes are dropped and rebuilt at
/// commit): one that fails leaves everything as it was, and the next loads, upserts, appends and
/// change feed work as on any dataset.
async fn q15_2_d_a_failed_first_load_leaves_the_dataset_ready_for_the_next(backend: Backend) {
    let app = spawn_app(backend).await;
    let operator = app.token("operator").await;
    define_schema(&app, &operator).await;
    let header = "ma,ten,ngay_thanh_lap,dien_tich,cong_lap\n";
    let invalid = format!("{header}1,A,2001-09-05,1.5,true\n2,,,,\n");
    assert_problem(
        post(&app, &operator, "", "text/csv", invalid.into_bytes()).await,
        422,
        "import_invalid",
    )
    .await;
    assert_eq!(records(&app).await, Vec::<Value>::new());

    let first = format!("{header}1,A,2001-09-05,1.5,true\n2,B,,,\n3,C,,,false\n");
    let response = post(&app, &operator, "", "text/csv", first.into_bytes()).await;
    assert_eq!(response.status(), 200);
    let upsert = format!("{header}2,B mới,,2.5,\n4,D,,,\n");
    let response = post(
        &app,
        &operator,
        "?mode=upsert",
        "text/csv",
        upsert.into_bytes(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let again = format!("{header}1,A,,,\n");
    assert_problem(
        post(
            &app,
            &operator,
            "?mode=append",
            "text/csv",
            again.into_bytes(),
        )
        .await,
        409,
        "conflict",
    )
    .await;

    let names: Vec<Value> = records(&app)
        .await
        .iter()
        .map(|r| r["ten"].clone())
        .collect();
    assert_eq!(names, [json!("A"), json!("B mới"), json!("C"), json!("D")]);
    let response = app
        .get("/api/v1/datasets/truong-hoc/records?ma=eq.2", None)
        .await;
    let found: Value = response.json().await.unwrap();
    assert_eq!(found[0]["dien_tich"], json!(2.5));
    let response = app
        .get("/api/v1/datasets/truong-hoc/changes?limit=10", None)
        .await;
    let feed: Value = response.json().await.unwrap();
    let ops: Vec<(i64, &str)> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["seq"].as_i64().unwrap(), c["op"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ops,
        [
            (1, "insert"),
            (2, "insert"),
            (3, "insert"),
            (4, "update"),
            (5, "insert")
        ]
    );
    app.stop().await;
}
