//! Q1.2, Q20.3: the state-secret guard over the corpus in `tests/corpus/state_secret`: every
//! positive sample is flagged, no negative one is.

use lgsp_core::secret_guard::{Finding, SecretGuard};

/// The samples of a corpus file: separated by `====` lines, each with its scanning mode.
fn samples(name: &str) -> Vec<(String, String)> {
    let path = format!(
        "{}/tests/corpus/state_secret/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the corpus file");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines().chain(std::iter::once("====")) {
        if line == "====" {
            if !current.trim().is_empty() {
                let (mode, body) = match current.split_once('\n') {
                    Some((first, rest)) if first.starts_with('@') => (first.to_owned(), rest),
                    _ => ("@text".to_owned(), current.as_str()),
                };
                out.push((mode, body.to_owned()));
            }
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    out
}

fn scan(guard: &SecretGuard, mode: &str, body: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    match mode {
        "@text" => guard.scan_text(body, &mut findings),
        "@json" => {
            let value: serde_json::Value = serde_json::from_str(body).expect("a JSON sample");
            guard.scan_json(&value, &mut findings);
        }
        "@csv" => {
            let delimiter = if body.lines().next().unwrap_or("").contains(';') {
                b';'
            } else {
                b','
            };
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .from_reader(body.as_bytes());
            let header: Vec<String> = reader
                .headers()
                .expect("a header")
                .iter()
                .map(str::to_owned)
                .collect();
            for (n, header_cell) in header.iter().enumerate() {
                guard.scan_cell(header_cell, 1, &(n + 1).to_string(), &mut findings);
            }
            for (row, record) in reader.records().enumerate() {
                let record = record.expect("a CSV row");
                for (n, cell) in record.iter().enumerate() {
                    let column = header
                        .get(n)
                        .cloned()
                        .unwrap_or_else(|| (n + 1).to_string());
                    guard.scan_cell(cell, row + 2, &column, &mut findings);
                }
            }
        }
        other => panic!("unknown mode {other}"),
    }
    findings
}

#[test]
fn q1_2_corpus_positive_samples_are_all_flagged() {
    let guard = SecretGuard::default();
    let positives = samples("positive.txt");
    assert!(
        positives.len() >= 50,
        "{} positive samples",
        positives.len()
    );
    let missed: Vec<&String> = positives
        .iter()
        .filter(|(mode, body)| scan(&guard, mode, body).is_empty())
        .map(|(_, body)| body)
        .collect();
    assert!(missed.is_empty(), "missed: {missed:#?}");
}

#[test]
fn q1_2_corpus_negative_samples_are_never_flagged() {
    let guard = SecretGuard::default();
    let negatives = samples("negative.txt");
    assert!(
        negatives.len() >= 50,
        "{} negative samples",
        negatives.len()
    );
    let flagged: Vec<(&String, Vec<Finding>)> = negatives
        .iter()
        .map(|(mode, body)| (body, scan(&guard, mode, body)))
        .filter(|(_, findings)| !findings.is_empty())
        .collect();
    assert!(flagged.is_empty(), "false hits: {flagged:#?}");
}
