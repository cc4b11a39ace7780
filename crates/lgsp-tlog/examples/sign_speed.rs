//! Ed25519 signatures per second on one core with the implementation the platform signs with
//! (`ed25519-dalek`), for `bench/gateway.sh`: every exchange carries two (the platform's over
//! the request to the provider, and over the answer). Usage: `sign_speed [seconds, default 3]`.

use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let key = SigningKey::from_bytes(&[7; 32]);
    // About the size of a response's signature base: status, digest, five `lgsp-*` fields.
    let message = vec![b'x'; 420];
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut signed = 0u64;
    while Instant::now() < until {
        for _ in 0..100 {
            std::hint::black_box(key.sign(std::hint::black_box(&message)));
        }
        signed += 100;
    }
    println!(
        "{:.0} signatures/s",
        signed as f64 / started.elapsed().as_secs_f64()
    );
}
