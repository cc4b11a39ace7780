//! Transparency-log figures for `bench/log.sh`: durable appends in batches (leaves per
//! second) and inclusion proofs at the final size (latency), on the database given.
//!
//! Usage: log_bench DATABASE_URL LEAVES BATCH PROOFS [exchanges]
//!
//! With `exchanges`, every leaf also carries its exchange index row (as the gateway's do), so
//! the appends write the index and its daily rollups too: 12 providers, 40 consumers, 60
//! services, the leaves of a batch spread over one hour.

use std::time::Instant;

use lgsp_store::{ExchangeEntry, Store};

/// The index row of leaf `n` (at `index` in its batch): a mix of agencies, services, outcomes
/// and latencies, one hour of traffic per million leaves.
fn exchange(n: u64, index: i64) -> ExchangeEntry {
    let start: chrono::DateTime<chrono::Utc> = "2026-11-29T00:00:00Z".parse().expect("time");
    let provider = n % 12;
    let (status, refusal) = match n % 50 {
        0 => (403, Some("no_grant".to_owned())),
        1 => (502, Some("upstream_unreachable".to_owned())),
        _ => (200, None),
    };
    ExchangeEntry {
        log_index: index,
        at: start + chrono::Duration::microseconds((n * 3600) as i64),
        request_id: format!("0193a4f2-7b1c-7def-8a00-{n:012}"),
        consumer_agency: Some(format!("000.00.{:02}.H35", 20 + n % 40)),
        consumer_system: Some("motcua".into()),
        provider_agency: Some(format!("000.00.{provider:02}.H35")),
        target: Some(format!(
            "000.00.{provider:02}.H35/he-thong/dich-vu-{}/v1",
            n % 5
        )),
        purpose: Some("TTHC".into()),
        method: "GET".into(),
        status,
        refusal,
        response_bytes: 1024,
        latency_micros: (800 + (n * 7919) % 40_000) as i64,
        subject: None,
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, leaves, batch, proofs, with_exchanges) = match args.as_slice() {
        [_, url, leaves, batch, proofs] => (url, leaves, batch, proofs, false),
        [_, url, leaves, batch, proofs, flag] if flag == "exchanges" => {
            (url, leaves, batch, proofs, true)
        }
        _ => {
            eprintln!("usage: log_bench DATABASE_URL LEAVES BATCH PROOFS [exchanges]");
            std::process::exit(2);
        }
    };
    let (leaves, batch, proofs): (u64, usize, usize) = (
        leaves.parse().expect("LEAVES"),
        batch.parse().expect("BATCH"),
        proofs.parse().expect("PROOFS"),
    );
    let store = Store::connect(url).await.expect("database");
    store.migrate().await.expect("migrations");
    let start = Instant::now();
    let mut appended = 0u64;
    while appended < leaves {
        let count = (leaves - appended).min(batch as u64);
        // An exchange record of the size the gateway writes (~330 bytes of canonical JSON).
        let entries: Vec<Vec<u8>> = (appended..appended + count)
            .map(|n| {
                format!(
                    r#"{{"consumer":"000.00.12.H35/motcua","duration_ms":12,"kind":"exchange","method":"GET","provider":"000.00.05.H35/hotich","purpose":"TTHC","request_digest":"sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:","request_id":"0193a4f2-7b1c-7def-8a00-{n:012}","response_digest":"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:","route":"/x/{{agency}}/{{system}}/{{service}}/{{version}}/{{path}}","status":200,"time":"2026-11-29T04:00:00.000000Z","v":1}}"#
                )
                .into_bytes()
            })
            .collect();
        let exchanges: Vec<ExchangeEntry> = if with_exchanges {
            (0..count)
                .map(|i| exchange(appended + i, i as i64))
                .collect()
        } else {
            Vec::new()
        };
        store
            .append_log(&entries, &exchanges)
            .await
            .expect("append");
        appended += count;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "appends: {leaves} leaves in batches of {batch}: {seconds:.2} s, {:.0} leaves/s",
        leaves as f64 / seconds
    );
    let size = store.log_size().await.expect("size");
    let mut latencies = Vec::with_capacity(proofs);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..proofs {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let index = state % size;
        let start = Instant::now();
        let proof = store.log_inclusion_proof(index, size).await.expect("proof");
        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(!proof.is_empty() || size == 1);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "inclusion proofs at {size} leaves: {proofs} proofs, p50 {:.3} ms, p99 {:.3} ms",
        at(0.5),
        at(0.99)
    );
    store.close().await;
}
