//! The web shell over plain HTTP: pages, sessions, CSRF, security headers.

use super::helpers::{on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    pages_are_vietnamese_self_contained_and_locked_down,
    console_sign_in_uses_server_side_sessions_with_csrf,
);

/// The hidden `csrf` field of the first form on a page.
pub(super) fn csrf_field(html: &str) -> String {
    let start =
        html.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Signs `username` in through the form, as a browser would: fetch the form, post it back.
pub(super) async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
) -> reqwest::Response {
    let form = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let password = app.password_of(username);
    client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", password.as_str()),
            ("csrf", &csrf_field(&form)),
        ])
        .send()
        .await
        .unwrap()
}

pub(super) fn browser(app: &TestApp) -> reqwest::Client {
    let _ = app;
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn pages_are_vietnamese_self_contained_and_locked_down(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/", "/agencies", "/login"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"<html lang="vi">"#));
        assert!(html.contains(r#"name="viewport""#), "usable on a phone");
        assert!(
            html.contains("Bỏ qua, đến nội dung chính"),
            "a skip link for keyboards"
        );
        // Nothing is fetched from elsewhere: every src/href is local or a mailto/tel link.
        for attribute in ["src=\"", "href=\""] {
            for piece in html.split(attribute).skip(1) {
                let target = &piece[..piece.find('"').unwrap()];
                assert!(
                    target.starts_with('/')
                        || target.starts_with('#')
                        || target.starts_with("mailto:")
                        || target.starts_with("tel:"),
                    "{path} refers to {target}"
                );
            }
        }
    }
    let agencies = app.get("/agencies", None).await.text().await.unwrap();
    assert!(agencies.contains("Sở Tư pháp tỉnh Hà Nam"));
    assert!(agencies.contains("Cán bộ đầu mối"));
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap());
    assert!(
        agencies.contains(&today.format("%d/%m/%Y").to_string()),
        "dates are dd/mm/yyyy"
    );

    let css = app.get("/static/app.css", None).await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    let missing = app
        .http
        .get(app.url("/khong-co-trang-nay"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("Không tìm thấy trang"));
    app.stop().await;
}

async fn console_sign_in_uses_server_side_sessions_with_csrf(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = browser(&app);

    // The console sends visitors to sign in.
    let response = client.get(app.url("/console")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");

    // A sign-in form posted without the form's token is refused.
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", "operator"),
            ("password", "x"),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    let form = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let wrong = client
        .post(app.url("/login"))
        .form(&[
            ("username", "operator"),
            ("password", "sai mật khẩu"),
            ("csrf", &csrf_field(&form)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let page = wrong.text().await.unwrap();
    assert!(page.contains("Tên đăng nhập hoặc mật khẩu không đúng."));

    let password = app.password_of("operator");
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", "operator"),
            ("password", password.as_str()),
            ("csrf", &csrf_field(&page)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/console");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("lgsp_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let agencies = client
        .get(app.url("/console/agencies"))
        .send()
        .await
        .unwrap();
    assert_eq!(agencies.status(), 200);
    let html = agencies.text().await.unwrap();
    assert!(
        html.contains("focal-officer") && html.contains("Trần Quốc Khánh"),
        "focal officers listed"
    );
    assert!(
        html.contains(r#"href="/console/systems""#),
        "the operator sees the systems registry"
    );
    let systems = client
        .get(app.url("/console/systems"))
        .send()
        .await
        .unwrap();
    assert_eq!(systems.status(), 200);
    assert!(systems.text().await.unwrap().contains("Cấp độ"));

    // With the session cookie alone, the API refuses changes without the CSRF header.
    let response = client
        .patch(app.url("/api/v1/agencies/000.00.03.H35"))
        .json(&serde_json::json!({"name": "Đổi tên"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "csrf_token_invalid");
    let csrf = csrf_field(&html);
    let response = client.get(app.url("/api/v1/auth/me")).send().await.unwrap();
    assert_eq!(response.status(), 200, "reads need no CSRF token");

    // Signing out needs the session's CSRF token, then the session is gone.
    let response = client
        .post(app.url("/logout"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = client
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let response = client
        .get(app.url("/console/agencies"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signed out");

    // A citizen's console does not offer the systems registry, and refuses it.
    let citizen = browser(&app);
    sign_in(&app, &citizen, "citizen").await;
    let console = citizen
        .get(app.url("/console"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!console.contains("/console/systems"));
    let response = citizen
        .get(app.url("/console/systems"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app.stop().await;
}
