//! Tickets (Q15.2.g, Q16.1.b, Q22.2, Q23; Decree 47/2020 art. 48): a consumer agency raises a
//! problem with Sở Tư pháp, they talk it through, the consumer escalates to the operator; every
//! refusal of a sharing request opens a dispute the consumer pursues and the operator resolves;
//! deadlines count working days and a ticket left unanswered is escalated by the platform.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use lgsp_core::calendar::{WorkCalendar, VIETNAM};
use lgsp_server::settings::Settings;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{
    assert_problem, on_both_backends, spawn_app, spawn_app_with, Backend, TestApp,
};
use super::services::JUSTICE;
use super::sharing_requests::{log_index, parties, request_body, step, submit};
use super::transparency::proven_entry;

on_both_backends!(
    q15_2_g_ticket_thread_states_and_escalation,
    q15_2_g_tickets_refuse_wrong_roles_states_and_ids,
    q15_1_a_refusal_opens_a_dispute_ticket_for_the_operator,
    q23_ticket_deadline_counts_working_days_and_flags_overdue,
    q15_2_g_attachments_are_checked_for_size_and_type,
    q20_3_attachments_with_a_secret_stamp_are_held_for_the_auditors,
);

const TICKETS: &str = "/api/v1/tickets";

async fn open(app: &TestApp, token: &str, body: &Value) -> Value {
    let response = app
        .send_json(Method::POST, TICKETS, Some(token), body)
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    assert!(response.headers().contains_key("lgsp-log-index"));
    response.json().await.unwrap()
}

async fn act(
    app: &TestApp,
    token: &str,
    id: i64,
    action: &str,
    message: Option<&str>,
) -> reqwest::Response {
    let body = match message {
        Some(m) => json!({"message": m}),
        None => json!({}),
    };
    app.send_json(
        Method::POST,
        &format!("{TICKETS}/{id}/{action}"),
        Some(token),
        &body,
    )
    .await
}

async fn show(app: &TestApp, token: &str, id: i64) -> Value {
    let response = app.get(&format!("{TICKETS}/{id}"), Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get(TICKETS, Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn thread_steps(detail: &Value) -> Vec<&str> {
    detail["thread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["step"].as_str().unwrap())
        .collect()
}

async fn notification_subjects(app: &TestApp, token: &str) -> Vec<String> {
    let list: Vec<Value> = app
        .get("/api/v1/notifications", Some(token))
        .await
        .json()
        .await
        .unwrap();
    list.iter()
        .map(|n| n["subject"].as_str().unwrap().to_owned())
        .collect()
}

fn technical() -> Value {
    json!({
        "kind": "technical",
        "subject": "Dịch vụ tra cứu khai sinh trả lỗi 502",
        "body": "Từ 8 giờ sáng nay, mọi lượt tra cứu đều nhận lỗi 502 từ cổng LGSP.",
        "assignee": JUSTICE
    })
}

async fn q15_2_g_ticket_thread_states_and_escalation(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let opened = open(&app, &p.consumer, &technical()).await;
    let id = opened["id"].as_i64().unwrap();
    assert_eq!(opened["state"], "open");
    assert_eq!(opened["state_label"], "Mới tiếp nhận");
    assert_eq!(opened["kind_label"], "Sự cố kỹ thuật");
    assert_eq!(opened["assignee"], JUSTICE);
    assert_eq!(opened["overdue"], false);
    assert_eq!(opened["escalated_at"], Value::Null);
    assert_eq!(thread_steps(&opened), ["open"]);
    assert!(notification_subjects(&app, &p.provider)
        .await
        .iter()
        .any(|s| s == &format!("Phiếu số {id} mới: Dịch vụ tra cứu khai sinh trả lỗi 502")));

    // The provider asks for detail and takes it up; the consumer answers.
    let response = act(
        &app,
        &p.provider,
        id,
        "comments",
        Some("Xin mã yêu cầu (x-request-id) của một lượt lỗi"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        act(&app, &p.provider, id, "start", None).await.status(),
        200
    );
    let response = act(
        &app,
        &p.consumer,
        id,
        "comments",
        Some("Mã yêu cầu 0190a1b2-…"),
    )
    .await;
    let detail: Value = response.json().await.unwrap();
    assert_eq!(detail["state"], "in_progress");
    assert_eq!(
        thread_steps(&detail),
        ["open", "comment", "start", "comment"]
    );
    assert_eq!(detail["thread"][1]["actor"], "agency-admin");
    assert_eq!(detail["thread"][3]["actor"], "tieuthu.quantri");

    // The consumer escalates to the operator (Q23), once; the operator is told.
    let response = act(
        &app,
        &p.consumer,
        id,
        "escalate",
        Some("Đã 2 ngày chưa khắc phục"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let index = log_index(&response);
    let escalated: Value = response.json().await.unwrap();
    assert_eq!(escalated["escalated_by"], "tieuthu.quantri");
    assert!(escalated["escalated_at"].is_string());
    let entry = proven_entry(&app, index).await;
    assert_eq!(entry["route"], "/api/v1/tickets/{id}/escalate");
    assert_eq!(entry["actor"], "tieuthu.quantri");
    assert_problem(
        act(&app, &p.consumer, id, "escalate", Some("Lần nữa")).await,
        409,
        "invalid_transition",
    )
    .await;
    assert!(notification_subjects(&app, &p.operator)
        .await
        .iter()
        .any(|s| s.starts_with(&format!("Phiếu số {id}: chuyển sở"))));

    // The operator answers; the consumer is not satisfied and reopens; then closes.
    let resolved: Value = act(
        &app,
        &p.operator,
        id,
        "resolve",
        Some("Đã khởi động lại kết nối tới hệ thống hộ tịch"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["state_label"], "Đã trả lời");
    let reopened: Value = act(
        &app,
        &p.consumer,
        id,
        "reopen",
        Some("Vẫn lỗi với tham số so"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(reopened["state"], "open");
    assert_eq!(
        act(
            &app,
            &p.provider,
            id,
            "resolve",
            Some("Đã sửa ánh xạ tham số so")
        )
        .await
        .status(),
        200
    );
    let closed: Value = act(&app, &p.consumer, id, "close", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed["state"], "closed");
    assert_eq!(
        thread_steps(&closed),
        [
            "open", "comment", "start", "comment", "escalate", "resolve", "reopen", "resolve",
            "close"
        ]
    );
    // Closed is final.
    for (token, action) in [
        (&p.consumer, "comments"),
        (&p.consumer, "reopen"),
        (&p.provider, "resolve"),
        (&p.operator, "close"),
    ] {
        assert_problem(
            act(&app, token, id, action, Some("x")).await,
            409,
            "invalid_transition",
        )
        .await;
    }
    assert_eq!(show(&app, &p.consumer, id).await, closed);

    // The console shows the thread, in Vietnamese, dates dd/mm/yyyy.
    let console = super::web::browser(&app);
    assert_eq!(
        super::web::sign_in(&app, &console, "agency-admin")
            .await
            .status(),
        303
    );
    let html = console
        .get(app.url(&format!("/console/tickets/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Chuyển Sở Thông tin và Truyền thông"),
        "{html}"
    );
    assert!(html.contains("Đã sửa ánh xạ tham số so"));
    assert!(html.contains("Đã đóng"));
    let created: DateTime<Utc> = closed["created_at"].as_str().unwrap().parse().unwrap();
    assert!(html.contains(
        &created
            .with_timezone(&VIETNAM)
            .format("%d/%m/%Y")
            .to_string()
    ));
    app.stop().await;
}

async fn q15_2_g_tickets_refuse_wrong_roles_states_and_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let good = technical();
    assert_problem(
        app.send_json(Method::POST, TICKETS, None, &good).await,
        401,
        "authentication_required",
    )
    .await;
    for who in ["auditor", "approver", "citizen"] {
        let token = app.token(who).await;
        assert_problem(
            app.send_json(Method::POST, TICKETS, Some(&token), &good)
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    let mut cases = Vec::new();
    let mut own = good.clone();
    own["assignee"] = json!(app.credentials.clients[0].agency);
    cases.push((own, 422, "invalid_body"));
    let mut nobody = good.clone();
    nobody["assignee"] = json!("000.99.99.H35");
    cases.push((nobody, 422, "missing_reference"));
    let mut kind = good.clone();
    kind["kind"] = json!("complaint");
    cases.push((kind, 422, "invalid_body"));
    let mut blank = good.clone();
    blank["subject"] = json!("   ");
    cases.push((blank, 422, "invalid_body"));
    let mut extra = good.clone();
    extra["priority"] = json!("high");
    cases.push((extra, 422, "unknown_field"));
    for (field, value) in [
        ("grant_id", json!(999_999)),
        ("sharing_request_id", json!(999_999)),
        ("service_id", json!(999_999)),
        ("dataset_id", json!("khong-co-du-lieu")),
    ] {
        let mut about = good.clone();
        about[field] = value;
        cases.push((about, 422, "missing_reference"));
    }
    for (body, status, code) in cases {
        assert_problem(
            app.send_json(Method::POST, TICKETS, Some(&p.consumer), &body)
                .await,
            status,
            code,
        )
        .await;
    }
    assert!(list(&app, &p.operator).await.is_empty(), "nothing stored");

    let id = open(&app, &p.consumer, &good).await["id"].as_i64().unwrap();
    let before = show(&app, &p.consumer, id).await;
    // Wrong side: 403; wrong state: 409; missing message: 422; unknown ticket: 404.
    for (token, action) in [
        (&p.consumer, "resolve"),
        (&p.consumer, "start"),
        (&p.provider, "escalate"),
        (&p.provider, "reopen"),
        (&p.provider, "close"),
    ] {
        assert_problem(
            act(&app, token, id, action, Some("x")).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        act(&app, &p.consumer, id, "reopen", Some("x")).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_problem(
        act(&app, &p.provider, id, "resolve", None).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        act(&app, &p.consumer, id, "comments", Some("   ")).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        act(&app, &p.provider, 999_999, "start", None).await,
        404,
        "resource_not_found",
    )
    .await;
    let auditor = app.token("auditor").await;
    assert_eq!(
        show(&app, &auditor, id).await["id"],
        id,
        "the auditor reads"
    );
    assert_problem(
        act(&app, &auditor, id, "comments", Some("x")).await,
        403,
        "forbidden",
    )
    .await;
    let citizen = app.token("citizen").await;
    assert_problem(
        app.get(&format!("{TICKETS}/{id}"), Some(&citizen)).await,
        403,
        "forbidden",
    )
    .await;
    assert!(list(&app, &citizen).await.is_empty());
    assert_problem(
        app.get(&format!("{TICKETS}?state=mo"), Some(&p.operator))
            .await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(show(&app, &p.consumer, id).await, before, "nothing changed");

    // A citizen raises a data-use problem, and reads only their own tickets.
    let mine = open(
        &app,
        &citizen,
        &json!({"kind": "data_use", "subject": "Dữ liệu hộ tịch của tôi bị sai", "body": "Ngày sinh ghi 03/02/2001, đúng là 02/03/2001.", "assignee": JUSTICE}),
    )
    .await;
    assert_eq!(mine["opener_agency"], Value::Null);
    assert_eq!(list(&app, &citizen).await.len(), 1);
    assert_eq!(list(&app, &p.provider).await.len(), 2);
    assert_eq!(
        list(&app, &p.consumer).await.len(),
        1,
        "not the citizen's ticket"
    );
    let filtered: Vec<Value> = app
        .get(&format!("{TICKETS}?kind=data_use"), Some(&p.operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);

    // The provider answers; the citizen, who has no agency, is told in their own inbox.
    let mine_id = mine["id"].as_i64().unwrap();
    let response = app
        .send_json(
            Method::POST,
            &format!("{TICKETS}/{mine_id}/resolve"),
            Some(&p.provider),
            &json!({"message": "Đã đính chính ngày sinh theo giấy khai sinh gốc."}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let notices: Vec<Value> = app
        .get("/api/v1/notifications", Some(&citizen))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n["link"] == format!("/console/tickets/{mine_id}").as_str()),
        "{notices:?}"
    );
    app.stop().await;
}

async fn q15_1_a_refusal_opens_a_dispute_ticket_for_the_operator(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let request = submit(
        &app,
        &p.consumer,
        &request_body(&app, json!(["so", "ho_ten"])),
    )
    .await;
    let request_id = request["id"].as_i64().unwrap();
    // A blocked refusal opens nothing.
    assert_problem(
        step(
            &app,
            &p.provider,
            request_id,
            "refuse",
            &json!({"reason": "Dữ liệu cá nhân"}),
        )
        .await,
        422,
        "refusal_reason_required",
    )
    .await;
    assert!(list(&app, &p.operator).await.is_empty());
    let response = step(
        &app,
        &p.provider,
        request_id,
        "refuse",
        &json!({"reason": "Họ tên là dữ liệu cá nhân", "legal_basis": "Điều 11 Nghị định 13/2023/NĐ-CP"}),
    )
    .await;
    assert_eq!(response.status(), 200);

    // One dispute, pursued by the consumer, resolved by the operator, the provider taking part.
    let disputes = list(&app, &p.operator).await;
    assert_eq!(disputes.len(), 1);
    let dispute = &disputes[0];
    let id = dispute["id"].as_i64().unwrap();
    assert_eq!(dispute["kind"], "dispute");
    assert_eq!(dispute["sharing_request_id"], request_id);
    assert_eq!(dispute["assignee"], Value::Null);
    assert_eq!(dispute["opener_agency"], app.credentials.clients[0].agency);
    assert_eq!(dispute["counterparty"], JUSTICE);
    assert_eq!(dispute["opened_by"], "lgsp:tu-choi-yeu-cau");
    assert!(dispute["body"]
        .as_str()
        .unwrap()
        .contains("Điều 11 Nghị định 13/2023/NĐ-CP"));
    for token in [&p.consumer, &p.provider] {
        assert_eq!(list(&app, token).await.len(), 1);
    }
    let subject = format!("Từ chối yêu cầu chia sẻ số {request_id}: phiếu tranh chấp số {id}");
    for token in [&p.operator, &p.consumer, &p.provider] {
        assert!(notification_subjects(&app, token).await.contains(&subject));
    }

    // The consumer pursues it: a comment, a document; escalation is moot (already with the
    // operator); a second dispute about the same request is refused.
    assert_eq!(
        act(
            &app,
            &p.consumer,
            id,
            "comments",
            Some("Chúng tôi có văn bản giao nhiệm vụ của UBND tỉnh")
        )
        .await
        .status(),
        200
    );
    let form = Form::new().part(
        "file",
        Part::bytes(b"%PDF-1.7 cong van giao nhiem vu".to_vec())
            .file_name("Công văn giao nhiệm vụ.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let response = app
        .http
        .post(app.url(&format!("{TICKETS}/{id}/attachments")))
        .bearer_auth(&p.consumer)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_problem(
        act(&app, &p.consumer, id, "escalate", Some("x")).await,
        409,
        "invalid_transition",
    )
    .await;
    let mut again = technical();
    again["kind"] = json!("dispute");
    again["sharing_request_id"] = json!(request_id);
    again.as_object_mut().unwrap().remove("assignee");
    assert_problem(
        app.send_json(Method::POST, TICKETS, Some(&p.consumer), &again)
            .await,
        409,
        "conflict",
    )
    .await;
    // The provider explains but does not decide; the operator does.
    assert_eq!(
        act(
            &app,
            &p.provider,
            id,
            "comments",
            Some("Cần sự đồng ý của chủ thể dữ liệu")
        )
        .await
        .status(),
        200
    );
    assert_problem(
        act(&app, &p.provider, id, "resolve", Some("x")).await,
        403,
        "forbidden",
    )
    .await;
    let resolved: Value = act(
        &app,
        &p.operator,
        id,
        "resolve",
        Some("Việc từ chối có căn cứ; đề nghị cơ quan khai thác gửi lại yêu cầu không gồm trường họ tên"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(
        thread_steps(&resolved),
        ["open", "comment", "comment", "resolve"]
    );
    assert_eq!(resolved["attachments"].as_array().unwrap().len(), 1);
    app.stop().await;
}

/// Holidays on the next three days after today in Vietnam: the deadline must skip them.
fn three_day_holiday(settings: &mut Settings) {
    let today = Utc::now().with_timezone(&VIETNAM).date_naive();
    settings.holidays = (1..=3).map(|d| today + Duration::days(d)).collect();
    settings.request_response_working_days = 2;
}

/// Runs `sql` with `$1` a time and `$2` an id directly on the app's database: moving a deadline
/// into the past stands in for waiting days.
async fn backdate(app: &TestApp, sql: &str, at: DateTime<Utc>, id: i64) {
    let url = app.state.settings.database_url().expose().to_owned();
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(&url);
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::query(sql)
            .bind(at)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

async fn q23_ticket_deadline_counts_working_days_and_flags_overdue(backend: Backend) {
    let app = spawn_app_with(backend, three_day_holiday).await;
    let p = parties(&app).await;
    let opened = open(&app, &p.consumer, &technical()).await;
    let id = opened["id"].as_i64().unwrap();
    let created: DateTime<Utc> = opened["created_at"].as_str().unwrap().parse().unwrap();
    let due: DateTime<Utc> = opened["due_at"].as_str().unwrap().parse().unwrap();
    let holidays = app.state.settings.holidays.clone();
    assert_eq!(
        due,
        WorkCalendar::new(holidays.clone()).deadline(created, 2)
    );
    // Two working days after today, past the three holidays and any weekend: at least six
    // calendar days later, ending at midnight in Vietnam.
    let last_day: NaiveDate = (due - Duration::seconds(1))
        .with_timezone(&VIETNAM)
        .date_naive();
    let today = created.with_timezone(&VIETNAM).date_naive();
    assert!(last_day > holidays[2], "{last_day} after the holidays");
    assert!(!matches!(last_day.weekday(), Weekday::Sat | Weekday::Sun));
    assert!(WorkCalendar::default().deadline(created, 2) < due);
    assert_eq!(
        WorkCalendar::new(holidays).working_days_between(created, due - Duration::seconds(1)),
        2
    );
    assert!(last_day >= today + Duration::days(6));

    // A ticket the operator answers, past its deadline: flagged overdue, nothing to escalate.
    let mut to_operator = technical();
    to_operator.as_object_mut().unwrap().remove("assignee");
    let with_operator = open(&app, &p.consumer, &to_operator).await["id"]
        .as_i64()
        .unwrap();
    let past = Utc::now() - Duration::hours(1);
    backdate(
        &app,
        "UPDATE tickets SET due_at = $1 WHERE id = $2",
        past,
        with_operator,
    )
    .await;
    let late = show(&app, &p.operator, with_operator).await;
    assert_eq!(late["overdue"], true);
    assert_eq!(late["escalated_at"], Value::Null);
    let console = super::web::browser(&app);
    assert_eq!(
        super::web::sign_in(&app, &console, "operator")
            .await
            .status(),
        303
    );
    let html = console
        .get(app.url("/console/tickets"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Quá hạn"), "{html}");
    assert!(html.contains(
        &(past - Duration::seconds(1))
            .with_timezone(&VIETNAM)
            .format("%d/%m/%Y")
            .to_string()
    ));

    // A ticket an agency left unanswered past its deadline: escalated to the operator by the
    // platform on the next read, once, with a new deadline, logged and notified.
    backdate(
        &app,
        "UPDATE tickets SET due_at = $1 WHERE id = $2",
        past,
        id,
    )
    .await;
    let escalated = show(&app, &p.consumer, id).await;
    assert_eq!(escalated["escalated_by"], "lgsp:qua-han");
    assert_eq!(escalated["overdue"], false, "the operator's deadline runs");
    assert_eq!(thread_steps(&escalated), ["open", "escalate"]);
    assert!(escalated["thread"][1]["message"]
        .as_str()
        .unwrap()
        .starts_with("Quá hạn trả lời"));
    assert_eq!(
        show(&app, &p.operator, id).await["thread"],
        escalated["thread"],
        "once"
    );
    assert!(notification_subjects(&app, &p.operator)
        .await
        .contains(&format!("Phiếu số {id} quá hạn, chuyển Sở TTTT")));
    let after = act(&app, &p.consumer, id, "comments", Some("Cảm ơn")).await;
    let index = log_index(&after);
    let mut found = false;
    for i in (index.saturating_sub(10)..index).rev() {
        let entry = proven_entry(&app, i).await;
        if entry["actor"] == "lgsp:qua-han" {
            assert_eq!(entry["ticket"], id);
            assert_eq!(entry["route"], "/api/v1/tickets/{id}/escalate");
            found = true;
            break;
        }
    }
    assert!(found, "the automatic escalation is on the log");
    app.stop().await;
}

fn small_uploads(settings: &mut Settings) {
    settings.max_upload_bytes = 4096;
}

async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    part: &str,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new().part(
        part.to_owned(),
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    );
    app.http
        .post(app.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn q15_2_g_attachments_are_checked_for_size_and_type(backend: Backend) {
    let app = spawn_app_with(backend, small_uploads).await;
    let p = parties(&app).await;
    let id = open(&app, &p.consumer, &technical()).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("{TICKETS}/{id}/attachments");
    for (part, name, mime, bytes, status, code) in [
        (
            "file",
            "to.pdf",
            "application/pdf",
            vec![b'%'; 5000],
            413,
            "payload_too_large",
        ),
        (
            "file",
            "setup.exe",
            "application/octet-stream",
            b"MZ\x90\x00".to_vec(),
            422,
            "invalid_attachment",
        ),
        (
            "file",
            "trang.html",
            "text/html",
            b"<script>alert(1)</script>".to_vec(),
            422,
            "invalid_attachment",
        ),
        (
            "file",
            "cv.pdf",
            "text/plain",
            b"%PDF-1.7".to_vec(),
            422,
            "invalid_attachment",
        ),
        (
            "file",
            "rong.txt",
            "text/plain",
            Vec::new(),
            422,
            "invalid_attachment",
        ),
        (
            "tep",
            "cv.pdf",
            "application/pdf",
            b"%PDF-1.7".to_vec(),
            400,
            "malformed_multipart",
        ),
    ] {
        assert_problem(
            upload(&app, &p.consumer, &path, part, name, mime, bytes).await,
            status,
            code,
        )
        .await;
    }
    assert_eq!(show(&app, &p.consumer, id).await["attachments"], json!([]));

    let content = "so,ngay_loi\n1,2026-11-02\n".as_bytes().to_vec();
    let response = upload(
        &app,
        &p.consumer,
        &path,
        "file",
        "nhật ký lỗi.csv",
        "text/csv",
        content.clone(),
    )
    .await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("lgsp-log-index"));
    let attached: Value = response.json().await.unwrap();
    assert_eq!(attached["media_type"], "text/csv");
    assert_eq!(attached["size"], content.len());
    assert_eq!(attached["filename"], "nhật ký lỗi.csv");
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(attached["sha256"], digest);
    let aid = attached["id"].as_i64().unwrap();
    let download = app.get(&format!("{path}/{aid}"), Some(&p.provider)).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "text/csv");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(download.bytes().await.unwrap().to_vec(), content);
    let citizen = app.token("citizen").await;
    assert_problem(
        app.get(&format!("{path}/{aid}"), Some(&citizen)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&format!("{path}/999999"), Some(&p.provider)).await,
        404,
        "resource_not_found",
    )
    .await;
    // Once closed, nothing more is attached.
    assert_eq!(
        act(&app, &p.consumer, id, "close", None).await.status(),
        200
    );
    assert_problem(
        upload(
            &app,
            &p.consumer,
            &path,
            "file",
            "b.txt",
            "text/plain",
            b"them".to_vec(),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;

    // Sharing requests take documents the same way, while awaiting a decision.
    let request = submit(&app, &p.consumer, &request_body(&app, json!(["so"]))).await["id"]
        .as_i64()
        .unwrap();
    let documents = format!("/api/v1/sharing-requests/{request}/attachments");
    assert_problem(
        upload(
            &app,
            &p.consumer,
            &documents,
            "file",
            "a.exe",
            "application/octet-stream",
            b"MZ".to_vec(),
        )
        .await,
        422,
        "invalid_attachment",
    )
    .await;
    let response = upload(
        &app,
        &p.consumer,
        &documents,
        "file",
        "giao-nhiem-vu.pdf",
        "application/pdf",
        b"%PDF-1.4 giao nhiem vu".to_vec(),
    )
    .await;
    assert_eq!(response.status(), 201);
    let listed: Vec<Value> = app
        .get(&documents, Some(&p.provider))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["filename"], "giao-nhiem-vu.pdf");
    let consumer_agency = &app.credentials.clients[0].agency;
    let elsewhere = ["000.00.02.H35", "000.00.01.H35"]
        .into_iter()
        .find(|a| a != consumer_agency)
        .unwrap();
    let other = super::sharing_requests::admin_of(&app, elsewhere, "khac.quantri").await;
    assert_problem(app.get(&documents, Some(&other)).await, 403, "forbidden").await;
    assert_eq!(
        step(
            &app,
            &p.provider,
            request,
            "refuse",
            &json!({"reason": "Không phù hợp", "legal_basis": "Điều 15 Quy chế"})
        )
        .await
        .status(),
        200
    );
    assert_problem(
        upload(
            &app,
            &p.consumer,
            &documents,
            "file",
            "b.pdf",
            "application/pdf",
            b"%PDF-1.4".to_vec(),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    app.stop().await;
}

/// A document stamped as a state secret is not attached: 451 `state_secret_suspected`, the
/// ticket keeps no attachment, and the auditors find it held in quarantine.
async fn q20_3_attachments_with_a_secret_stamp_are_held_for_the_auditors(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = parties(&app).await;
    let id = open(&app, &p.consumer, &technical()).await["id"]
        .as_i64()
        .unwrap();
    let path = format!("{TICKETS}/{id}/attachments");
    let letter = "UBND TỈNH HÀ NAM\n\nTỐI MẬT\n\nBáo cáo tình hình an ninh khu vực biên giới\n";
    let problem = assert_problem(
        upload(
            &app,
            &p.consumer,
            &path,
            "file",
            "bao-cao.txt",
            "text/plain",
            letter.as_bytes().to_vec(),
        )
        .await,
        451,
        "state_secret_suspected",
    )
    .await;
    assert!(problem["detail"].is_string(), "{problem}");
    assert_eq!(show(&app, &p.consumer, id).await["attachments"], json!([]));

    let auditor = app.token("auditor").await;
    let held: Vec<Value> = app
        .get("/api/v1/quarantine?state=held", Some(&auditor))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        held.iter().any(|q| q["source"] == "attachment"),
        "the upload is held: {held:?}"
    );
    // An ordinary document still goes through.
    let response = upload(
        &app,
        &p.consumer,
        &path,
        "file",
        "ghi-chu.txt",
        "text/plain",
        "Mật khẩu hệ thống đã được đổi; mật độ truy cập bình thường."
            .as_bytes()
            .to_vec(),
    )
    .await;
    assert_eq!(response.status(), 201);
    app.stop().await;
}
