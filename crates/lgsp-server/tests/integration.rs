//! The server's integration tests: one binary (link time matters on small machines), each test
//! starting the real server on port 0 with the demo province loaded.
//!
//! Every story runs on SQLite; its PostgreSQL twin is `#[ignore]`d and runs with
//! `cargo test -p lgsp-server --test integration -- --ignored postgres` against a fresh database
//! per test. The browser suite (`-- --ignored browser`) needs Debian's chromium and
//! chromium-driver.

mod integration {
    pub mod helpers;

    mod access;
    mod agencies;
    mod annual_report;
    mod browser;
    mod catalog;
    mod changes;
    mod clients;
    mod consents;
    mod dashboard;
    mod durability;
    mod error_reports;
    mod errors;
    mod gateway;
    mod grants;
    mod identity;
    mod imports;
    mod mail;
    mod monitoring;
    mod nats;
    mod operations;
    mod provider;
    mod publication;
    mod quality;
    mod quarantine;
    mod queries;
    mod records;
    mod schemas;
    mod services;
    mod sharing_requests;
    mod tickets;
    mod transparency;
    mod web;
    mod webhooks;
}
