//! Real third-party clients against the running server: Python's `ckanapi` (CKAN's own client)
//! and `rdflib` (an RDF parser) in a throw-away virtualenv.
//!
//! Run with `cargo test -p lgsp-server --test integration -- --ignored integration::clients::`. The virtualenv
//! is `target/clients-venv`, created on first use (PyPI must be reachable), or the Python named
//! by `CLIENTS_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::helpers::{spawn_app, Backend};

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
        .args(["-c", "import ckanapi, rdflib"])
        .status()
        .unwrap()
        .success();
    if !ready {
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", "ckanapi", "rdflib"])
            .status()
            .unwrap();
        assert!(status.success(), "pip install ckanapi rdflib");
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
