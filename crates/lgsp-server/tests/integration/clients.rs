//! Real third-party tools against the platform: Python's `ckanapi` (CKAN's own client),
//! `rdflib` (an RDF parser), `frictionless` (the Table Schema reference validator) and
//! `http-message-signatures` (an RFC 9421 implementation), `python-docx`, `pypdf` and
//! `openpyxl` (the annual report's files), in a throw-away virtualenv.
//!
//! Run with `cargo test -p lgsp-server --test integration -- --ignored integration::clients::`. The virtualenv
//! is `target/clients-venv`, created on first use (PyPI must be reachable), or the Python named
//! by `CLIENTS_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::helpers::{spawn_app, spawn_app_with, Backend};
use super::webhooks;

fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("CLIENTS_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/clients-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(status.success(), "python3 -m venv");
    }
    let ready = Command::new(&python)
        .args([
            "-c",
            "import ckanapi, rdflib, frictionless, http_message_signatures, docx, pypdf, openpyxl",
        ])
        .status()
        .unwrap()
        .success();
    if !ready {
        let status = Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "-q",
                "ckanapi",
                "rdflib",
                "frictionless",
                "http-message-signatures",
                "python-docx",
                "pypdf",
                "openpyxl",
            ])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "pip install ckanapi rdflib frictionless http-message-signatures python-docx pypdf openpyxl"
        );
    }
    python
}

/// Runs `python args…` off the async threads; returns stdout, failing the test on error.
async fn run(python: &Path, args: Vec<String>) -> String {
    let python = python.to_path_buf();
    // As in an activated virtualenv: `ckanapi dump` starts its workers by name.
    let bin = python.parent().map(PathBuf::from).unwrap_or_default();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python).args(&args).env("PATH", path).output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with ckanapi and rdflib (PyPI): run with --ignored clients"]
async fn clients_ckanapi_reads_the_catalog_unchanged() {
    let python = python();
    let app = spawn_app(Backend::Sqlite).await;
    let base = app.base.clone();
    // The `ckanapi` command installed next to the interpreter, run by it.
    let command = python.with_file_name("ckanapi").display().to_string();
    let ckanapi = |rest: &[&str]| {
        let mut all = vec![command.clone()];
        all.extend(args(rest));
        all.extend(args(&["-r", &base]));
        all
    };

    let listed: Vec<String> =
        serde_json::from_str(&run(&python, ckanapi(&["action", "package_list"])).await).unwrap();
    assert_eq!(listed.len(), 13);
    let shown: Value = serde_json::from_str(
        &run(&python, ckanapi(&["action", "package_show", "id=gia-dat"])).await,
    )
    .unwrap();
    assert_eq!(shown["title"], "Bảng giá đất tỉnh Hà Nam");
    let searched: Value = serde_json::from_str(
        &run(
            &python,
            ckanapi(&[
                "action",
                "package_search",
                "q=dat dai",
                "fq=organization:000-00-10-h35",
            ]),
        )
        .await,
    )
    .unwrap();
    assert_eq!(searched["count"], 2);
    let org: Value = serde_json::from_str(
        &run(
            &python,
            ckanapi(&["action", "organization_show", "id=000-00-10-h35"]),
        )
        .await,
    )
    .unwrap();
    assert_eq!(org["package_count"], 3);

    // `dump` and `search`, the commands harvesters use: one JSON line per package.
    let dump = run(&python, ckanapi(&["dump", "datasets", "--all", "-q"])).await;
    let dumped: Vec<Value> = dump
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dumped.len(), 13);
    assert!(dumped.iter().all(|p| p["organization"]["name"].is_string()));
    let search = run(&python, ckanapi(&["search", "datasets", "q=truong hoc"])).await;
    let found: Vec<Value> = search
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "truong-hoc");

    // The DataStore: records of the code list, filtered and sorted as CKAN clients ask.
    let store: Value = serde_json::from_str(
        &run(
            &python,
            ckanapi(&[
                "action",
                "datastore_search",
                "resource_id=don-vi-hanh-chinh",
                "filters={\"cap\": \"xa\"}",
                "sort=ma desc",
                "fields=ma,ten",
            ]),
        )
        .await,
    )
    .unwrap();
    assert_eq!(store["total"], 3);
    assert_eq!(store["records"][0]["ma"], "13384");
    assert_eq!(store["records"][0]["ten"], "Phường Kim Bảng");
    app.stop().await;
}

/// Q14: a downloaded Data Package is valid for `frictionless validate` (descriptor, schema
/// and data together).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with frictionless (PyPI): run with --ignored clients"]
async fn clients_q14_frictionless_validates_a_downloaded_data_package() {
    let python = python();
    let app = spawn_app(Backend::Sqlite).await;
    let response = app
        .get(
            "/api/v1/datasets/don-vi-hanh-chinh/records?format=datapackage&as_of=2025-01-01",
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let dir = app.data_dir.join("package");
    std::fs::create_dir_all(&dir).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    archive.extract(&dir).unwrap();
    let frictionless = python.with_file_name("frictionless").display().to_string();
    let output = Command::new(&frictionless)
        .current_dir(&dir)
        .args(["validate", "datapackage.json", "--json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(
        report["tasks"][0]["stats"]["rows"], 7,
        "the units in effect on 01/01/2025"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with ckanapi and rdflib (PyPI): run with --ignored clients"]
async fn clients_rdflib_loads_the_dcat_documents() {
    let python = python();
    let app = spawn_app(Backend::Sqlite).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/check_rdf.py");
    let url = |path: &str| format!("{}{path}", app.base);
    let out = run(
        &python,
        vec![
            script.display().to_string(),
            url("/catalog.ttl"),
            url("/catalog.jsonld"),
            url("/dataset/gia-dat.ttl"),
            url("/dataset/so-hoa-ho-tich.jsonld"),
            "--same".into(),
            url("/catalog.ttl"),
            url("/catalog.jsonld"),
            "--same".into(),
            url("/dataset/quan-trac-khong-khi.ttl"),
            url("/dataset/quan-trac-khong-khi.jsonld"),
        ],
    )
    .await;
    assert!(out.contains("0 failed"), "{out}");
    app.stop().await;
}

/// The verdict of a report: valid or not, and which errors on which rows.
fn verdict(report: &Value) -> (bool, Vec<(String, u64)>) {
    let mut errors: Vec<(String, u64)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["rowNumber"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    errors.sort();
    (report["valid"].as_bool().unwrap(), errors)
}

/// Q15.2.d: for every file of the corpus, `lgsp validate` and `frictionless validate` agree on
/// validity and on which errors occur on which rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with frictionless (PyPI): run with --ignored clients"]
async fn clients_q15_2_d_frictionless_agrees_on_the_validation_corpus() {
    let python = python();
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/corpus");
    let schema = corpus.join("schema.json");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the corpus has good and bad files");
    let frictionless = python.with_file_name("frictionless").display().to_string();
    for file in files {
        // Frictionless refuses absolute paths as unsafe: run it in the corpus folder.
        let theirs = Command::new(&frictionless)
            .current_dir(&corpus)
            .arg("validate")
            .arg(file.file_name().unwrap())
            .args(["--schema", "schema.json", "--json"])
            .output()
            .unwrap();
        let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
        let ours = Command::new(env!("CARGO_BIN_EXE_lgsp"))
            .args(["validate", "--schema"])
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        let ours: Value = serde_json::from_slice(&ours.stdout).unwrap();
        assert_eq!(
            verdict(&ours),
            verdict(&theirs["tasks"][0]),
            "{}",
            file.display()
        );
    }
}

/// Q15.2.d: cell by cell — every type, format and constraint with tricky values (whitespace,
/// signs, underscores, leading zeros, `inf`/`nan`, strptime formats, ISO offsets, leap seconds,
/// e-mail and UUID forms, Vietnamese lengths) gets the same verdict from `lgsp validate` and
/// `frictionless validate` (`tests/clients/differential.py`).
#[test]
#[ignore = "needs Python with frictionless (PyPI): run with --ignored clients"]
fn clients_q15_2_d_frictionless_agrees_cell_by_cell() {
    let python = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/differential.py");
    let work = std::env::temp_dir().join(format!("lgsp-differential-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let output = Command::new(&python)
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_lgsp"))
        .arg(python.with_file_name("frictionless"))
        .arg(&work)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&work);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.lines().count() >= 20, "{report}");
}

/// Q5.3.b: a webhook delivery verifies with PyPI's `http-message-signatures` (RFC 9421),
/// using the public key from the platform's JWKS, with the body checked against its
/// `Content-Digest`; a changed body or URL does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with http-message-signatures (PyPI): run with --ignored clients"]
async fn clients_q5_3_b_http_message_signatures_verifies_a_webhook_delivery() {
    use base64::Engine;
    let python = python();
    let app = spawn_app_with(Backend::Sqlite, webhooks::fast).await;
    let operator = app.token("operator").await;
    let admin = app.token("agency-admin").await;
    webhooks::define_schools(&app, &operator).await;
    let mut hook = webhooks::receiver(std::sync::Arc::new(|_| 200)).await;
    let response = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/datasets/truong-hoc/webhooks",
            Some(&admin),
            &serde_json::json!({ "url": hook.url }),
        )
        .await;
    assert_eq!(response.status(), 201);
    webhooks::import(
        &app,
        &operator,
        "replace",
        "ma,ten,so_hoc_sinh,dien_thoai\n1,Trường A,100,\n",
    )
    .await;
    let received = webhooks::next(&mut hook).await;
    let headers: serde_json::Map<String, Value> = received
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), Value::from(v.clone())))
        .collect();
    let captured = serde_json::json!({
        "method": received.method,
        "url": received.target_uri,
        "headers": headers,
        "body": base64::engine::general_purpose::STANDARD.encode(&received.body),
    });
    let file = app.data_dir.join("delivery.json");
    std::fs::write(&file, captured.to_string()).unwrap();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/verify_signature.py");
    let out = run(
        &python,
        vec![
            script.display().to_string(),
            app.url("/.well-known/jwks.json"),
            file.display().to_string(),
        ],
    )
    .await;
    assert!(
        out.contains(&format!(
            "verified: label sig1, keyid {}",
            app.state.keys.active().kid
        )),
        "{out}"
    );
    assert!(out.contains("refused: a changed body"), "{out}");
    assert!(out.contains("refused: another URL"), "{out}");
    app.stop().await;
}

/// Q4, Q6.4: a gateway answer verifies with PyPI's `http-message-signatures` (RFC 9421), using
/// the public key from the platform's JWKS: one label, `created`/`keyid`/`alg` only, covering
/// `@status`, `content-digest` and every `lgsp-*` field, the body checked against its
/// `Content-Digest`; a changed body or status does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with http-message-signatures (PyPI): run with --ignored clients"]
async fn clients_q4_q6_4_http_message_signatures_verifies_a_gateway_answer() {
    use super::gateway;
    use base64::Engine;
    let python = python();
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.token("agency-admin").await;
    let (base, _) = gateway::provider().await;
    gateway::provider_service(&app, &admin, "ho-tich-gw", &base, "khai-sinh").await;
    gateway::grant(
        &app,
        &admin,
        "khai-sinh",
        serde_json::json!(["/ho_ten", "/noi_sinh"]),
        100,
    )
    .await;
    let (_, token) = app.client_token().await;
    let response = app
        .http
        .get(app.url("/x/000.00.03.H35/ho-tich-gw/khai-sinh/v1/khai-sinh/123"))
        .bearer_auth(&token)
        .header("lgsp-purpose", "TTHC")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let status = response.status().as_u16();
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), Value::from(v.to_str().unwrap())))
        .collect();
    let body = response.bytes().await.unwrap();
    let captured = serde_json::json!({
        "status": status,
        "headers": headers,
        "body": base64::engine::general_purpose::STANDARD.encode(&body),
    });
    let file = app.data_dir.join("answer.json");
    std::fs::write(&file, captured.to_string()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients/verify_response_signature.py");
    let out = run(
        &python,
        vec![
            script.display().to_string(),
            app.url("/.well-known/jwks.json"),
            file.display().to_string(),
        ],
    )
    .await;
    assert!(
        out.contains(&format!(
            "verified: label sig1, keyid {}",
            app.state.keys.active().kid
        )),
        "{out}"
    );
    assert!(out.contains("lgsp-log-index"), "{out}");
    assert!(out.contains("refused: a changed body"), "{out}");
    assert!(out.contains("refused: another status"), "{out}");
    app.stop().await;
}

/// Reads the annual report's DOCX, PDF and XLSX with python-docx, pypdf and openpyxl and prints
/// what a person would look for in each.
const READ_REPORT: &str = r#"
import json, sys
import docx, pypdf, openpyxl
folder, label = sys.argv[1], sys.argv[2]
d = docx.Document(f"{folder}/bao-cao.docx")
texts = [p.text for p in d.paragraphs]
cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
pdf = pypdf.PdfReader(f"{folder}/bao-cao.pdf")
pdf_text = "\n".join(page.extract_text() for page in pdf.pages)
book = openpyxl.load_workbook(f"{folder}/bao-cao.xlsx")
sources = book["Nguồn số liệu"]
value = None
for row in sources.iter_rows(values_only=True):
    if any(isinstance(c, str) and c == label for c in row):
        value = [c for c in row if c is not None]
print(json.dumps({
    "docx_title": any(t.strip() == "BÁO CÁO" for t in texts + cells),
    "docx_cells": cells,
    "docx_text": "\n".join(texts + cells),
    "pdf_pages": len(pdf.pages),
    "pdf_text": pdf_text,
    "xlsx_sheets": book.sheetnames,
    "xlsx_source": value,
}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Python with python-docx, pypdf and openpyxl (PyPI): run with --ignored clients"]
async fn clients_q17_6_the_annual_report_opens_in_word_pdf_and_excel_readers() {
    use chrono::Datelike;
    let python = python();
    let app = spawn_app(Backend::Sqlite).await;
    let operator = app.token("operator").await;
    let year = lgsp_server::annual_report::vietnam_date(chrono::Utc::now()).year();
    let folder = app.data_dir.join("bao-cao-nam");
    std::fs::create_dir_all(&folder).unwrap();
    for format in ["docx", "pdf", "xlsx"] {
        let response = app
            .get(
                &format!("/api/v1/reports/annual/{year}?format={format}"),
                Some(&operator),
            )
            .await;
        assert_eq!(response.status(), 200);
        std::fs::write(
            folder.join(format!("bao-cao.{format}")),
            response.bytes().await.unwrap(),
        )
        .unwrap();
    }
    let summary: Value = app
        .get(&format!("/api/v1/reports/annual/{year}"), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    let label = format!("Toàn tỉnh: Hệ thống thông tin đã đăng ký – năm {year}");
    let systems = summary["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == label.as_str())
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let script = folder.join("read_report.py");
    std::fs::write(&script, READ_REPORT).unwrap();
    let read: Value = serde_json::from_str(
        &run(
            &python,
            vec![
                script.display().to_string(),
                folder.display().to_string(),
                label.clone(),
            ],
        )
        .await,
    )
    .unwrap();
    // The DOCX: the title, the header, the province's table with the figure.
    assert_eq!(read["docx_title"], true);
    let docx_text = read["docx_text"].as_str().unwrap();
    for text in [
        "UBND TỈNH HÀ NAM",
        "Hệ thống thông tin đã đăng ký",
        "GIÁM ĐỐC",
    ] {
        assert!(docx_text.contains(text), "{text} in the DOCX");
    }
    assert!(read["docx_cells"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == systems.as_str()));
    // The PDF: pages of text with the same words.
    assert!(read["pdf_pages"].as_u64().unwrap() >= 2);
    let pdf_text = read["pdf_text"].as_str().unwrap();
    for text in ["BÁO CÁO", "Hệ thống thông tin đã đăng ký", "Nơi nhận"] {
        assert!(pdf_text.contains(text), "{text} in the PDF");
    }
    // The XLSX: the figure with its value and its query.
    let source = read["xlsx_source"]
        .as_array()
        .expect("the figure in the workbook");
    assert!(
        source
            .iter()
            .any(|c| c == systems.as_str() || c.as_f64().is_some_and(|n| n.to_string() == systems)),
        "{source:?}"
    );
    assert!(source.iter().any(|c| c
        .as_str()
        .is_some_and(|q| q.starts_with("SELECT COUNT(*) FROM systems"))));
    app.stop().await;
}
