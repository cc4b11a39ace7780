//! Transparency-log figures for `bench/log.sh`: durable appends in batches (leaves per
//! second) and inclusion proofs at the final size (latency), on the database given.
//!
//! Usage: log_bench DATABASE_URL LEAVES BATCH PROOFS

use std::time::Instant;

use lgsp_store::Store;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, leaves, batch, proofs] = args.as_slice() else {
        eprintln!("usage: log_bench DATABASE_URL LEAVES BATCH PROOFS");
        std::process::exit(2);
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
        store.append_log(&entries, &[]).await.expect("append");
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
