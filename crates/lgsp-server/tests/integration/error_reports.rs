//! Error reports on datasets (Q16.2.c, Q15.2.d): anyone who may read a dataset reports an
//! error, the owner agency tracks it to resolution, the reporter is told.

use reqwest::Method;
use serde_json::{json, Value};

use super::helpers::{assert_problem, on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q16_2_c_a_citizen_reports_an_error_and_the_owner_agency_fixes_it,
    q16_2_c_reports_on_restricted_data_need_someone_who_may_read_it,
    q16_2_c_unknown_records_and_fields_are_refused_and_nothing_is_stored,
    q16_2_c_steps_out_of_order_reasonless_rejections_and_other_agencies_are_refused,
    q16_2_c_reports_without_signing_in_are_rate_limited,
    q16_2_c_the_portal_form_needs_its_token_and_leads_to_the_tracking_page,
);

/// The demo's hosted code list, owned by Sở Nội vụ.
const UNITS: &str = "don-vi-hanh-chinh";
const HOME_AFFAIRS: &str = "000.00.02.H35";

fn reports_of(dataset: &str) -> String {
    format!("/api/v1/datasets/{dataset}/error-reports")
}

/// An administrator of Sở Nội vụ (the code list's owner), signed in for API use.
async fn home_affairs_admin(app: &TestApp) -> String {
    let operator = app.token("operator").await;
    let password = "mật khẩu của sở nội vụ 2026";
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&operator),
            &json!({
                "username": "noivu.quantri",
                "full_name": "Phạm Minh Tuấn",
                "role": "agency_admin",
                "agency": HOME_AFFAIRS,
                "password": password
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"username": "noivu.quantri", "password": password}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn report(
    app: &TestApp,
    token: Option<&str>,
    dataset: &str,
    body: &Value,
) -> reqwest::Response {
    app.send_json(Method::POST, &reports_of(dataset), token, body)
        .await
}

async fn created(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/error-reports/{}", body["code"].as_str().unwrap())
    );
    body
}

async fn step(
    app: &TestApp,
    token: Option<&str>,
    code: &str,
    name: &str,
    body: &Value,
) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/v1/error-reports/{code}/{name}"),
        token,
        body,
    )
    .await
}

async fn tracked(app: &TestApp, code: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/error-reports/{code}"), None)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn notifications(app: &TestApp, token: &str) -> Vec<Value> {
    let response = app.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn q16_2_c_a_citizen_reports_an_error_and_the_owner_agency_fixes_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = home_affairs_admin(&app).await;
    let citizen = app.token("citizen").await;
    let other_agency = app.token("agency-admin").await;

    // Without signing in, on open data, about one record and one field.
    let anonymous = created(
        report(
            &app,
            None,
            UNITS,
            &json!({
                "description": "Tên phường viết sai:\nphải là “Phường Phủ Lý”.",
                "record_key": {"ma": "13285"},
                "field": "ten",
                "contact_email": "nguoi.dan@example.vn"
            }),
        )
        .await,
    )
    .await;
    let code = anonymous["code"].as_str().unwrap().to_owned();
    assert!(
        code.len() == 17 && code.starts_with("PA-"),
        "a tracking code: {code}"
    );
    assert_eq!(anonymous["state"], "open");
    assert_eq!(anonymous["record_key"], json!({"ma": "13285"}));
    assert_eq!(anonymous["field"], "ten");
    assert_eq!(anonymous["tracking_url"], format!("/error-reports/{code}"));
    assert!(anonymous.get("handling").is_none(), "{anonymous}");

    // Anyone holding the code tracks it, without the reporter's contact.
    let public = tracked(&app, &code).await;
    assert_eq!(public["state_label"], "Mới tiếp nhận");
    assert!(!public.to_string().contains("nguoi.dan@example.vn"));
    // Codes are read without regard to case.
    assert_eq!(
        tracked(&app, &code.to_lowercase()).await["code"],
        code.as_str()
    );

    // The owner agency's administrators are told; the other agency's are not.
    let told = notifications(&app, &owner).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0]["subject"]
        .as_str()
        .unwrap()
        .contains("Phản ánh sai sót dữ liệu mới"));
    assert_eq!(told[0]["link"], "/console/error-reports");
    assert!(notifications(&app, &other_agency).await.is_empty());

    // A signed-in citizen reports on the dataset as a whole.
    let signed = created(
        report(
            &app,
            Some(&citizen),
            UNITS,
            &json!({"description": "Thiếu các xã mới sau sắp xếp năm 2025."}),
        )
        .await,
    )
    .await;
    let signed_code = signed["code"].as_str().unwrap().to_owned();
    assert_ne!(signed_code, code);
    assert!(signed["record_key"].is_null() && signed["field"].is_null());

    // The owner side sees who reported and how to reach them; its inbox has both.
    let listed: Vec<Value> = app
        .get(&reports_of(UNITS), Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    let by_code = |code: &str| listed.iter().find(|r| r["code"] == code).unwrap().clone();
    assert_eq!(
        by_code(&code)["handling"]["contact_email"],
        "nguoi.dan@example.vn"
    );
    assert!(by_code(&code)["handling"]["reporter"].is_null());
    assert_eq!(by_code(&signed_code)["handling"]["reporter"], "citizen");
    let inbox: Vec<Value> = app
        .get("/api/v1/error-reports", Some(&owner))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox.len(), 2);
    let elsewhere: Vec<Value> = app
        .get("/api/v1/error-reports", Some(&other_agency))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        elsewhere.is_empty(),
        "another agency's inbox: {elsewhere:?}"
    );
    let operator = app.token("operator").await;
    let everything: Vec<Value> = app
        .get("/api/v1/error-reports", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(everything.len(), 2);
    assert_problem(
        app.get("/api/v1/error-reports", Some(&citizen)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&reports_of(UNITS), Some(&citizen)).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get(&reports_of(UNITS), None).await,
        401,
        "authentication_required",
    )
    .await;

    // Acknowledged, then fixed: the time to fix is recorded and the reporter told each time.
    let acknowledged: Value = step(&app, Some(&owner), &signed_code, "acknowledge", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(acknowledged["state"], "acknowledged");
    assert!(acknowledged["acknowledged_at"].is_string());
    assert!(acknowledged["time_to_fix_seconds"].is_null());
    let response = step(&app, Some(&owner), &signed_code, "fix", &json!({})).await;
    assert_eq!(response.status(), 200);
    let fixed: Value = response.json().await.unwrap();
    assert_eq!(fixed["state"], "fixed");
    assert_eq!(fixed["state_label"], "Đã sửa");
    let seconds = fixed["time_to_fix_seconds"].as_i64().expect("time to fix");
    let created_at: chrono::DateTime<chrono::Utc> =
        fixed["created_at"].as_str().unwrap().parse().unwrap();
    let resolved_at: chrono::DateTime<chrono::Utc> =
        fixed["resolved_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(seconds, (resolved_at - created_at).num_seconds());
    assert_eq!(fixed["handling"]["resolved_by"], "noivu.quantri");
    let told = notifications(&app, &citizen).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(told[0]["subject"].as_str().unwrap().contains("Đã sửa"));
    assert!(told[1]["subject"].as_str().unwrap().contains("Đang xử lý"));
    assert_eq!(told[0]["link"], format!("/error-reports/{signed_code}"));

    // The anonymous report is rejected with a reason, which its tracking page shows.
    let response = step(
        &app,
        Some(&owner),
        &code,
        "reject",
        &json!({"reason": "Tên đúng theo Nghị quyết 1688/NQ-UBTVQH15."}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let page = app
        .get(&format!("/error-reports/{code}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Không chấp nhận"), "{page}");
    assert!(page.contains("Nghị quyết 1688/NQ-UBTVQH15"));
    assert!(!page.contains("nguoi.dan@example.vn"));
    let page = app
        .get(&format!("/error-reports/{signed_code}"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Đã sửa") && page.contains("Đang xử lý"),
        "{page}"
    );
    app.stop().await;
}

async fn q16_2_c_reports_on_restricted_data_need_someone_who_may_read_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = json!({"description": "Diện tích thửa đất không đúng."});
    // Land parcels: restricted, owned by Sở Tài nguyên và Môi trường.
    assert_problem(
        report(&app, None, "thua-dat", &body).await,
        401,
        "authentication_required",
    )
    .await;
    let citizen = app.token("citizen").await;
    assert_problem(
        report(&app, Some(&citizen), "thua-dat", &body).await,
        403,
        "forbidden",
    )
    .await;
    let (_, system) = app.client_token().await;
    assert_problem(
        report(&app, Some(&system), UNITS, &body).await,
        403,
        "forbidden",
    )
    .await;
    let operator = app.token("operator").await;
    let stored: Vec<Value> = app
        .get(&reports_of("thua-dat"), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert!(stored.is_empty(), "nothing stored: {stored:?}");

    // Someone who may read it reports.
    created(report(&app, Some(&operator), "thua-dat", &body).await).await;
    // Public data is open to reports without signing in too; unknown datasets are 404.
    created(report(&app, None, "doanh-nghiep", &body).await).await;
    assert_problem(
        report(&app, None, "khong-co", &body).await,
        404,
        "resource_not_found",
    )
    .await;
    app.stop().await;
}

async fn q16_2_c_unknown_records_and_fields_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let citizen = app.token("citizen").await;
    let description = "Sai tên";
    for (body, part) in [
        (
            json!({"description": description, "field": "ten_goi"}),
            "field",
        ),
        (
            json!({"description": description, "record_key": {"ma": "99999"}}),
            "record_key",
        ),
        (
            json!({"description": description, "record_key": {"ten": "Phủ Lý"}}),
            "record_key",
        ),
        (
            json!({"description": description, "record_key": {"ma": "13285", "cap": "xa"}}),
            "record_key",
        ),
        (
            json!({"description": description, "record_key": "13285"}),
            "record_key",
        ),
        (
            json!({"description": description, "record_key": {}}),
            "record_key",
        ),
    ] {
        let problem = assert_problem(
            report(&app, Some(&citizen), UNITS, &body).await,
            422,
            "invalid_record_reference",
        )
        .await;
        assert_eq!(problem["part"], part, "{body}");
        assert!(
            problem["detail"].as_str().unwrap().contains(part),
            "{problem}"
        );
    }
    // A dataset without hosted records has neither records nor fields to name.
    let problem = assert_problem(
        report(
            &app,
            Some(&citizen),
            "gia-dat",
            &json!({"description": description, "field": "gia"}),
        )
        .await,
        422,
        "invalid_record_reference",
    )
    .await;
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("hosts no records"));
    // The description is required and bounded; unknown members are refused.
    assert_problem(
        report(&app, Some(&citizen), UNITS, &json!({"description": "  "})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        report(
            &app,
            Some(&citizen),
            UNITS,
            &json!({"description": "x".repeat(2001)}),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        report(
            &app,
            Some(&citizen),
            UNITS,
            &json!({"description": description, "feild": "ten"}),
        )
        .await,
        422,
        "unknown_field",
    )
    .await;
    assert_problem(
        report(
            &app,
            Some(&citizen),
            UNITS,
            &json!({"description": description, "contact_email": "không phải thư"}),
        )
        .await,
        422,
        "invalid_body",
    )
    .await;

    let operator = app.token("operator").await;
    for dataset in [UNITS, "gia-dat"] {
        let stored: Vec<Value> = app
            .get(&reports_of(dataset), Some(&operator))
            .await
            .json()
            .await
            .unwrap();
        assert!(stored.is_empty(), "nothing stored on {dataset}: {stored:?}");
    }
    app.stop().await;
}

async fn q16_2_c_steps_out_of_order_reasonless_rejections_and_other_agencies_are_refused(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let owner = home_affairs_admin(&app).await;
    let citizen = app.token("citizen").await;
    let other_agency = app.token("agency-admin").await;
    let report = created(
        report(
            &app,
            Some(&citizen),
            UNITS,
            &json!({"description": "Mã thay thế của huyện Bình Lục sai.", "record_key": {"ma": 352}, "field": "ma_thay_the"}),
        )
        .await,
    )
    .await;
    let code = report["code"].as_str().unwrap();

    // Another agency's administrator, a citizen, nobody: refused, nothing moves.
    assert_problem(
        step(&app, Some(&other_agency), code, "fix", &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        step(&app, Some(&citizen), code, "acknowledge", &json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        step(&app, None, code, "acknowledge", &json!({})).await,
        401,
        "authentication_required",
    )
    .await;
    assert_eq!(tracked(&app, code).await["state"], "open");

    // Rejecting needs a reason.
    for body in [json!({}), json!({"reason": "   "})] {
        assert_problem(
            step(&app, Some(&owner), code, "reject", &body).await,
            422,
            "invalid_body",
        )
        .await;
    }
    assert_eq!(tracked(&app, code).await["state"], "open");

    // Steps out of order.
    assert_eq!(
        step(&app, Some(&owner), code, "acknowledge", &json!({}))
            .await
            .status(),
        200
    );
    let problem = assert_problem(
        step(&app, Some(&owner), code, "acknowledge", &json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(problem["state"], "acknowledged");
    assert_eq!(
        step(&app, Some(&owner), code, "fix", &json!({}))
            .await
            .status(),
        200
    );
    for (name, body) in [
        ("reject", json!({"reason": "Quá muộn"})),
        ("fix", json!({})),
        ("acknowledge", json!({})),
    ] {
        let problem = assert_problem(
            step(&app, Some(&owner), code, name, &body).await,
            409,
            "invalid_transition",
        )
        .await;
        assert_eq!(problem["state"], "fixed", "{name}");
    }
    let after = tracked(&app, code).await;
    assert_eq!(after["state"], "fixed");
    assert!(after["reason"].is_null());

    // Unknown and malformed codes.
    assert_problem(
        step(&app, Some(&owner), "PA-0000-0000-0000", "fix", &json!({})).await,
        404,
        "resource_not_found",
    )
    .await;
    assert_problem(
        app.get("/api/v1/error-reports/BC-2026-000123", None).await,
        400,
        "invalid_parameter",
    )
    .await;
    app.stop().await;
}

async fn q16_2_c_reports_without_signing_in_are_rate_limited(backend: Backend) {
    let app = spawn_app(backend).await;
    let limit = app.state.settings.error_reports_per_minute;
    assert!(limit > 0);
    let body = json!({"description": "Số liệu không khớp với báo cáo."});
    for _ in 0..limit {
        created(report(&app, None, UNITS, &body).await).await;
    }
    let response = report(&app, None, UNITS, &body).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(response, 429, "too_many_reports").await;
    // The portal form is limited by the same count.
    let form = app
        .http
        .post(app.url(&format!("/dataset/{UNITS}/error-reports")))
        .header("cookie", "lgsp_report=0123456789abcdef0123456789abcdef")
        .form(&[
            ("csrf", "0123456789abcdef0123456789abcdef"),
            ("description", "Số liệu không khớp"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 429);
    assert!(form.headers().contains_key("retry-after"));
    assert!(form.text().await.unwrap().contains("quá nhiều phản ánh"));
    // Signed-in people are not limited.
    let citizen = app.token("citizen").await;
    created(report(&app, Some(&citizen), UNITS, &body).await).await;
    let operator = app.token("operator").await;
    let stored: Vec<Value> = app
        .get(&reports_of(UNITS), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored.len() as u32, limit + 1);
    app.stop().await;
}

/// The form's CSRF token from a page.
fn form_token(page: &str) -> String {
    let start = page
        .find("name=\"csrf\" value=\"")
        .expect("the form carries a token")
        + "name=\"csrf\" value=\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}

async fn q16_2_c_the_portal_form_needs_its_token_and_leads_to_the_tracking_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get(&format!("/dataset/{UNITS}"), None).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("lgsp_report=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let page = response.text().await.unwrap();
    assert!(page.contains("Báo lỗi dữ liệu"));
    assert!(
        page.contains("name=\"key.ma\""),
        "a key input per primary-key field"
    );
    let token = form_token(&page);
    let form = [
        ("csrf", token.as_str()),
        ("description", "Tên huyện Lý Nhân thiếu dấu"),
        ("key.ma", "353"),
        ("field", "ten"),
        ("contact_email", ""),
    ];
    let url = app.url(&format!("/dataset/{UNITS}/error-reports"));

    // Without the cookie (as another site's form would be posted): refused, nothing stored.
    let refused = app.http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Phiên làm việc của biểu mẫu đã hết hạn"));

    // A key that names no record: the form again, with what was typed and why.
    let mut wrong = form;
    wrong[2] = ("key.ma", "99");
    let again = app
        .http
        .post(&url)
        .header("cookie", &cookie)
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 422);
    let again = again.text().await.unwrap();
    assert!(
        again.contains("Không tìm thấy bản ghi có khóa đã nhập"),
        "{again}"
    );
    assert!(again.contains("Tên huyện Lý Nhân thiếu dấu"));

    let operator = app.token("operator").await;
    let stored: Vec<Value> = app
        .get(&reports_of(UNITS), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert!(stored.is_empty());

    let sent = app
        .http
        .post(&url)
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    let location = sent.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/error-reports/PA-"), "{location}");
    let tracking = app.get(&location, None).await.text().await.unwrap();
    assert!(tracking.contains("Mới tiếp nhận"), "{tracking}");
    assert!(tracking.contains("Bản ghi: ma = 353"));
    // The lookup form leads to the same page, whatever the case typed.
    let code = location.trim_start_matches("/error-reports/");
    let lookup = app
        .get(
            &format!("/error-reports?code={}", code.to_lowercase()),
            None,
        )
        .await;
    assert_eq!(lookup.status(), 303);
    assert_eq!(lookup.headers()["location"], location.as_str());
    assert_eq!(
        app.get("/error-reports/PA-0000-0000-0000", None)
            .await
            .status(),
        404
    );

    // Restricted data: the page offers signing in instead of the form.
    let restricted = app
        .get("/dataset/thua-dat", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!restricted.contains("bieu-mau-bao-loi"));
    assert!(restricted.contains("đăng nhập</a> để phản ánh"));
    app.stop().await;
}
