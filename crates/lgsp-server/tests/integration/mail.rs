//! Notices by e-mail: each step of a sharing request lands in the other side's inbox and, through
//! the outbox, reaches the agency's focal officer at a real SMTP listener on 127.0.0.1 (a sink
//! that speaks the server side of RFC 5321 and keeps what it receives). A relay that refuses
//! for now is tried again; one that refuses for good is given up and shown to the operator.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::helpers::{assert_problem, on_both_backends, spawn_app_configured, Backend, TestApp};
use super::services::JUSTICE;
use super::sharing_requests::{parties, request_body, step, submit};

on_both_backends!(q16_1_request_steps_reach_the_other_side_in_the_inbox_and_by_email);

/// One message as the sink received it.
#[derive(Debug, Clone)]
struct Received {
    auth: Option<String>,
    to: String,
    subject: String,
    body: String,
}

#[derive(Default)]
struct SinkState {
    received: Vec<Received>,
    /// Transactions still to refuse with a 451 at `MAIL FROM`.
    refuse_next: usize,
}

/// An SMTP server on 127.0.0.1 that accepts everything except recipients whose address starts
/// with `khong-ton-tai` (550) and, on demand, the next transactions (451).
#[derive(Clone)]
struct SmtpSink {
    port: u16,
    state: Arc<Mutex<SinkState>>,
}

impl SmtpSink {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = Self {
            port: listener.local_addr().unwrap().port(),
            state: Arc::default(),
        };
        let state = sink.state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, state.clone()));
            }
        });
        sink
    }

    fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits (at most 20 s) until a message to `to` has arrived.
    async fn wait_for(&self, to: &str) -> Received {
        for _ in 0..200 {
            if let Some(found) = self.received().into_iter().find(|m| m.to == to) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no e-mail to {to}; received {:?}", self.received());
    }
}

async fn session(stream: tokio::net::TcpStream, state: Arc<Mutex<SinkState>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.local ESMTP\r\n").await.unwrap();
    let (mut auth, mut to) = (None, String::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            "250-sink.local\r\n250 AUTH PLAIN".to_owned()
        } else if let Some(token) = line.strip_prefix("AUTH PLAIN ") {
            auth = Some(String::from_utf8(BASE64.decode(token).unwrap()).unwrap());
            "235 2.7.0 accepted".to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            let mut state = state.lock().unwrap();
            if state.refuse_next > 0 {
                state.refuse_next -= 1;
                "451 4.3.0 try again later".to_owned()
            } else {
                "250 2.1.0 ok".to_owned()
            }
        } else if let Some(address) = line.strip_prefix("RCPT TO:<") {
            to = address.trim_end_matches('>').to_owned();
            if to.starts_with("khong-ton-tai") {
                "550 5.1.1 no such mailbox".to_owned()
            } else {
                "250 2.1.5 ok".to_owned()
            }
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await.unwrap();
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(&line);
                data.push('\n');
            }
            let (subject, body) = parse(&data);
            state.lock().unwrap().received.push(Received {
                auth: auth.clone(),
                to: to.clone(),
                subject,
                body,
            });
            "250 2.0.0 queued".to_owned()
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            "502 5.5.2 not implemented".to_owned()
        };
        if write
            .write_all(format!("{answer}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// The decoded subject (RFC 2047 base64 words, folded) and base64 body of a message.
fn parse(data: &str) -> (String, String) {
    let (head, body) = data.split_once("\n\n").expect("headers, then the body");
    let mut subject = String::new();
    let mut in_subject = false;
    for line in head.lines() {
        let part = if let Some(value) = line.strip_prefix("Subject: ") {
            in_subject = true;
            value
        } else if in_subject && line.starts_with(' ') {
            line.trim()
        } else {
            in_subject = false;
            continue;
        };
        let decoded = match part
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="))
        {
            Some(word) => String::from_utf8(BASE64.decode(word).unwrap()).unwrap(),
            None => part.to_owned(),
        };
        subject.push_str(&decoded);
    }
    assert!(
        head.contains("Content-Type: text/plain; charset=utf-8"),
        "{head}"
    );
    let joined: String = body.lines().collect();
    let body = String::from_utf8(BASE64.decode(joined).unwrap()).unwrap();
    (subject, body)
}

/// The current focal officer's address of `agency`, from the public registry.
async fn focal_officer_email(app: &TestApp, agency: &str) -> String {
    let agencies: Value = app
        .get("/api/v1/agencies", None)
        .await
        .json()
        .await
        .unwrap();
    agencies
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == agency)
        .and_then(|a| a["focal_officer"]["email"].as_str())
        .unwrap_or_else(|| panic!("agency {agency} with a focal officer: {agencies}"))
        .to_owned()
}

async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn outbox(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get("/api/v1/notifications/outbox", Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn q16_1_request_steps_reach_the_other_side_in_the_inbox_and_by_email(backend: Backend) {
    let sink = SmtpSink::start().await;
    sink.state.lock().unwrap().refuse_next = 1;
    let relay = format!(
        "smtp://lgsp%40hanam:m%E1%BA%ADt-kh%E1%BA%A9u@127.0.0.1:{}",
        sink.port
    );
    let app = spawn_app_configured(backend, move |settings| {
        settings.smtp = Some(lgsp_server::settings::Secret::new(relay.clone()));
        settings.mail_from = "lgsp@hanam.gov.vn".into();
        settings.mail_retry_base_millis = 100;
        settings.push_poll_millis = 100;
    })
    .await;
    let p = parties(&app).await;
    let consumer_agency = app.credentials.clients[0].agency.clone();

    // Submitted: the provider's administrators see it in their inbox, its focal officer by
    // e-mail — after the relay's first refusal (451), on the next try.
    let created = submit(
        &app,
        &p.consumer,
        &request_body(&app, json!(["so", "ngay_sinh"])),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    // Agencies are named as people name them, not by their codes.
    let consumer_name = app
        .get(&format!("/api/v1/agencies/{consumer_agency}"), None)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let subject = format!("Yêu cầu chia sẻ dữ liệu số {id} từ {consumer_name}");
    let notices = inbox(&app, &p.provider).await;
    let notice = notices
        .iter()
        .find(|n| n["subject"] == subject.as_str())
        .unwrap_or_else(|| panic!("the provider is told: {notices:?}"));
    assert!(notice["body"].as_str().unwrap().contains("Hạn trả lời: "));
    assert!(inbox(&app, &p.consumer)
        .await
        .iter()
        .all(|n| n["subject"] != subject.as_str()));

    let officer = focal_officer_email(&app, JUSTICE).await;
    let mail = sink.wait_for(&officer).await;
    assert_eq!(mail.subject, subject);
    assert_eq!(mail.auth.as_deref(), Some("\0lgsp@hanam\0mật-khẩu"));
    assert!(
        mail.body.contains(notice["body"].as_str().unwrap()),
        "{}",
        mail.body
    );
    assert!(
        mail.body
            .contains(&format!("/console/sharing-requests#yeu-cau-{id}")),
        "{}",
        mail.body
    );
    let queued = outbox(&app, &p.operator).await;
    let sent = queued
        .iter()
        .find(|m| m["recipient"] == officer.as_str())
        .unwrap();
    assert_eq!(sent["attempts"], 2, "{sent}");
    assert!(
        sent["sent_at"].is_string() && sent["failed_at"].is_null(),
        "{sent}"
    );

    // Refused: the consumer hears why, in the app and by e-mail to its focal officer.
    let consumer_officer = focal_officer_email(&app, &consumer_agency).await;
    let response = step(
        &app,
        &p.provider,
        id,
        "refuse",
        &json!({"reason": "Dữ liệu có thông tin cá nhân của người dân",
                "legal_basis": "Điều 9 Nghị định 13/2023/NĐ-CP"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let refused = format!("Yêu cầu chia sẻ dữ liệu số {id} bị từ chối");
    let notices = inbox(&app, &p.consumer).await;
    let notice = notices
        .iter()
        .find(|n| n["subject"] == refused.as_str())
        .unwrap_or_else(|| panic!("the consumer is told: {notices:?}"));
    assert!(notice["body"]
        .as_str()
        .unwrap()
        .contains("Điều 9 Nghị định 13/2023/NĐ-CP"));
    let mail = sink.wait_for(&consumer_officer).await;
    assert_eq!(mail.subject, refused);

    // A relay that refuses an address for good is not tried again; the operator sees why.
    let response = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/agencies/{consumer_agency}/focal-officer"),
            Some(&p.operator),
            &json!({"name": "Phạm Văn Đông", "title": "Chuyên viên",
                    "phone": "0226 3852 001", "email": "khong-ton-tai@hanam.gov.vn"}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let second = submit(&app, &p.consumer, &request_body(&app, json!(["so"]))).await;
    let second_id = second["id"].as_i64().unwrap();
    let response = step(&app, &p.provider, second_id, "approve", &json!({})).await;
    assert_eq!(response.status(), 200);
    let mut given_up = None;
    for _ in 0..200 {
        given_up = outbox(&app, &p.operator)
            .await
            .into_iter()
            .find(|m| m["recipient"] == "khong-ton-tai@hanam.gov.vn" && m["failed_at"].is_string());
        if given_up.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let given_up = given_up.expect("the refused message is given up");
    assert_eq!(given_up["attempts"], 1);
    assert!(
        given_up["last_error"].as_str().unwrap().contains("550"),
        "{given_up}"
    );
    assert!(sink
        .received()
        .iter()
        .all(|m| m.to != "khong-ton-tai@hanam.gov.vn"));

    // The outbox is the operator's to read.
    assert_problem(
        app.get("/api/v1/notifications/outbox", Some(&p.consumer))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/api/v1/notifications/outbox", None).await,
        401,
        "authentication_required",
    )
    .await;
    app.stop().await;
}
