//! The browser suite: real headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`). Screenshots land in `target/screenshots/` for people to look at.
//!
//! Run with `cargo test -p lgsp-server --test integration -- --ignored browser`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use super::helpers::{spawn_app, Backend};

/// A chromedriver process on a free port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> Driver {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary} (apt-get install chromium-driver): {e}"));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // Wait, bounded, until the driver answers.
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn headless_chromium(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": binary,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    lgsp_server::install_tls_provider();
    ClientBuilder::rustls()
        .expect("a WebDriver connector")
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// The demo server and a headless Chromium pointed at it. Dropping it stops the driver and
/// removes the server's data, so a failed assertion leaves nothing running.
struct BrowserRun {
    app: super::helpers::TestApp,
    browser: Client,
    _driver: Driver,
}

async fn open_browser() -> BrowserRun {
    let app = spawn_app(Backend::Sqlite).await;
    let driver = start_driver().await;
    let browser = headless_chromium(&driver, &app.data_dir.join("chromium-profile")).await;
    BrowserRun {
        app,
        browser,
        _driver: driver,
    }
}

impl BrowserRun {
    async fn finish(self) {
        self.browser.clone().close().await.unwrap();
        self.app.stop().await;
    }
}

fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn browser_operator_signs_in_sees_focal_officers_and_signs_out() {
    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);
    browser.goto(&app.url("/")).await.unwrap();
    screenshot(browser, "01-trang-chu").await;
    browser
        .find(Locator::Id("dang-nhap"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("username"))
        .await
        .unwrap();
    screenshot(browser, "02-dang-nhap").await;

    // Keyboard only: type, tab to the password, press Enter.
    let username = browser.find(Locator::Id("username")).await.unwrap();
    username.send_keys("operator").await.unwrap();
    let password = browser.find(Locator::Id("password")).await.unwrap();
    password
        .send_keys(&app.password_of("operator"))
        .await
        .unwrap();
    password.send_keys("\u{E007}").await.unwrap(); // WebDriver's Enter key
    browser
        .wait()
        .for_url(&url_of(&app.url("/console")))
        .await
        .unwrap();
    screenshot(browser, "03-bang-dieu-khien").await;

    browser.goto(&app.url("/console/agencies")).await.unwrap();
    let table = browser
        .wait()
        .for_element(Locator::Id("bang-co-quan"))
        .await
        .unwrap();
    let text = table.text().await.unwrap();
    assert!(text.contains("Sở Tư pháp tỉnh Hà Nam"), "{text}");
    let officers = browser
        .find_all(Locator::Css("td.focal-officer"))
        .await
        .unwrap();
    assert!(officers.len() >= 15, "a focal officer on every row");
    for officer in &officers {
        assert!(!officer.text().await.unwrap().trim().is_empty());
    }
    screenshot(browser, "04-co-quan-dau-moi").await;

    browser.goto(&app.url("/console/systems")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Id("bang-he-thong"))
        .await
        .unwrap();
    screenshot(browser, "05-he-thong").await;

    // Phone-sized: the page still works.
    browser.set_window_size(390, 844).await.unwrap();
    browser.goto(&app.url("/console/agencies")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Id("bang-co-quan"))
        .await
        .unwrap();
    screenshot(browser, "06-dien-thoai").await;
    browser.set_window_size(1280, 900).await.unwrap();

    browser
        .find(Locator::Id("dang-xuat"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("dang-nhap"))
        .await
        .unwrap();
    browser.goto(&app.url("/console/agencies")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Id("nut-dang-nhap"))
        .await
        .unwrap();
    assert!(browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/login"));
    screenshot(browser, "07-da-dang-xuat").await;
    run.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn browser_citizen_finds_datasets_without_typing_diacritics() {
    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);
    browser.goto(&app.url("/")).await.unwrap();
    let search = browser.find(Locator::Id("q")).await.unwrap();
    search.send_keys("dat dai").await.unwrap();
    search.send_keys("\u{E007}").await.unwrap();
    let count = browser
        .wait()
        .for_element(Locator::Id("so-ket-qua"))
        .await
        .unwrap();
    assert!(count.text().await.unwrap().starts_with("2 bộ dữ liệu"));
    let marks = browser
        .find_all(Locator::Css("article.hit mark"))
        .await
        .unwrap();
    assert!(!marks.is_empty(), "matches are highlighted");
    screenshot(browser, "08-tim-kiem-danh-muc").await;

    browser
        .find(Locator::LinkText("Bảng giá đất tỉnh Hà Nam"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let access = browser
        .wait()
        .for_element(Locator::Id("cach-khai-thac"))
        .await
        .unwrap();
    assert!(access.text().await.unwrap().contains("Dữ liệu mở"));
    screenshot(browser, "09-bo-du-lieu").await;

    browser
        .goto(&app.url("/catalog/CSDL.HOTICH/history"))
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("bang-lich-su"))
        .await
        .unwrap();
    screenshot(browser, "10-lich-su-muc-danh-muc").await;
    run.finish().await;
}

fn url_of(text: &str) -> url::Url {
    url::Url::parse(text).unwrap()
}

/// Q15.2.d: an agency's person uploads a file in the console, reads the errors in
/// Vietnamese, fixes the file and sees the import succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn browser_q15_2_d_upload_a_bad_file_then_a_good_one() {
    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);
    let token = app.token("operator").await;
    let schema = serde_json::json!({
        "fields": [
            {"name": "ma", "type": "integer", "constraints": {"required": true}},
            {"name": "ten", "type": "string", "constraints": {"required": true}}
        ],
        "primaryKey": "ma"
    });
    let response = app
        .send_json(
            reqwest::Method::PUT,
            "/api/v1/datasets/truong-hoc/schema",
            Some(&token),
            &schema,
        )
        .await;
    assert_eq!(response.status(), 201);
    let bad = app.data_dir.join("truong-sai.csv");
    std::fs::write(&bad, "ma,ten\n1,Trường A\nhai,Trường B\n").unwrap();
    let good = app.data_dir.join("truong-dung.csv");
    std::fs::write(&good, "ma,ten\n1,Trường A\n2,Trường B\n").unwrap();

    browser.goto(&app.url("/login")).await.unwrap();
    let username = browser
        .wait()
        .for_element(Locator::Id("username"))
        .await
        .unwrap();
    username.send_keys("operator").await.unwrap();
    let password = browser.find(Locator::Id("password")).await.unwrap();
    password
        .send_keys(&app.password_of("operator"))
        .await
        .unwrap();
    password.send_keys("\u{E007}").await.unwrap();
    browser
        .wait()
        .for_url(&url_of(&app.url("/console")))
        .await
        .unwrap();

    let upload = |file: PathBuf| async move {
        browser.goto(&app.url("/console/imports")).await.unwrap();
        let select = browser
            .wait()
            .for_element(Locator::Id("dataset"))
            .await
            .unwrap();
        select.select_by_value("truong-hoc").await.unwrap();
        browser
            .find(Locator::Css("input[name=mode][value=replace]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser
            .find(Locator::Id("file"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        screenshot(browser, "20-nhap-du-lieu").await;
        browser
            .find(Locator::Id("nhap"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The job page refreshes itself until the job ends.
        for _ in 0..100 {
            if let Ok(state) = browser.find(Locator::Id("trang-thai")).await {
                let text = state.text().await.unwrap_or_default();
                if text == "Thành công" || text == "Không thành công" {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the import job did not end");
    };

    assert_eq!(upload(bad).await, "Không thành công");
    let errors = browser
        .find(Locator::Id("bang-loi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        errors.contains("Giá trị không đúng kiểu: cần số nguyên"),
        "{errors}"
    );
    assert!(errors.contains('3'), "row 3 is named: {errors}");
    screenshot(browser, "21-nhap-loi").await;

    assert_eq!(upload(good).await, "Thành công");
    let written = browser
        .find(Locator::Id("so-dong-ghi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(written, "2");
    screenshot(browser, "22-nhap-thanh-cong").await;
    let rows: serde_json::Value = app
        .get("/api/v1/datasets/truong-hoc/records", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    run.finish().await;
}

/// Q16.2.c: a citizen, not signed in, reports an error from a dataset's page and gets a
/// tracking code; the owner agency's administrator fixes it from the console's inbox; the
/// citizen's tracking page then reads "Đã sửa".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn browser_q16_2_c_citizen_reports_an_error_and_the_owner_fixes_it() {
    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);
    // An administrator of Sở Nội vụ, which owns the administrative-units code list.
    let operator = app.token("operator").await;
    let password = "mật khẩu của sở nội vụ 2026";
    let response = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(&operator),
            &serde_json::json!({
                "username": "noivu.quantri", "full_name": "Phạm Minh Tuấn",
                "role": "agency_admin", "agency": "000.00.02.H35", "password": password
            }),
        )
        .await;
    assert_eq!(response.status(), 201);

    browser
        .goto(&app.url("/dataset/don-vi-hanh-chinh"))
        .await
        .unwrap();
    let description = browser
        .wait()
        .for_element(Locator::Id("mo-ta-loi"))
        .await
        .unwrap();
    description
        .send_keys("Tên phường viết sai, phải là “Phường Phủ Lý”.")
        .await
        .unwrap();
    browser
        .find(Locator::Id("khoa-ma"))
        .await
        .unwrap()
        .send_keys("13285")
        .await
        .unwrap();
    browser
        .find(Locator::Id("truong-loi"))
        .await
        .unwrap()
        .select_by_value("ten")
        .await
        .unwrap();
    browser
        .find(Locator::Id("email-lien-he"))
        .await
        .unwrap()
        .send_keys("nguoi.dan@example.vn")
        .await
        .unwrap();
    screenshot(browser, "30-bao-loi-du-lieu").await;
    browser
        .find(Locator::Id("gui-phan-anh"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let code = browser
        .wait()
        .for_element(Locator::Id("ma-phan-anh"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(code.starts_with("PA-"), "{code}");
    let tracking = browser.current_url().await.unwrap();
    assert_eq!(tracking.path(), format!("/error-reports/{code}"));
    let state = browser
        .find(Locator::Id("trang-thai-phan-anh"))
        .await
        .unwrap();
    assert_eq!(state.text().await.unwrap(), "Mới tiếp nhận");
    screenshot(browser, "31-theo-doi-phan-anh").await;

    // The owner agency's administrator signs in and fixes it from the inbox.
    browser.goto(&app.url("/login")).await.unwrap();
    let username = browser
        .wait()
        .for_element(Locator::Id("username"))
        .await
        .unwrap();
    username.send_keys("noivu.quantri").await.unwrap();
    let field = browser.find(Locator::Id("password")).await.unwrap();
    field.send_keys(password).await.unwrap();
    field.send_keys("\u{E007}").await.unwrap();
    browser
        .wait()
        .for_url(&url_of(&app.url("/console")))
        .await
        .unwrap();
    browser
        .find(Locator::LinkText("Phản ánh sai sót"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = browser
        .wait()
        .for_element(Locator::Id(&format!("phan-anh-{code}")))
        .await
        .unwrap();
    let text = row.text().await.unwrap();
    assert!(
        text.contains("Mới tiếp nhận") && text.contains("nguoi.dan@example.vn"),
        "{text}"
    );
    screenshot(browser, "32-hop-thu-phan-anh").await;
    row.find(Locator::Css("button.da-sua"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let fixed_row = browser
        .wait()
        .for_element(Locator::Css(&format!("#phan-anh-{code} .thoi-gian-sua")))
        .await
        .unwrap();
    assert!(!fixed_row.text().await.unwrap().is_empty());
    let text = browser
        .find(Locator::Id(&format!("phan-anh-{code}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("Đã sửa"), "{text}");
    screenshot(browser, "33-da-sua-phan-anh").await;
    browser
        .find(Locator::Id("dang-xuat"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("dang-nhap"))
        .await
        .unwrap();

    // The citizen's tracking page.
    browser.goto(tracking.as_str()).await.unwrap();
    let state = browser
        .wait()
        .for_element(Locator::Id("trang-thai-phan-anh"))
        .await
        .unwrap();
    assert_eq!(state.text().await.unwrap(), "Đã sửa");
    let history = browser
        .find(Locator::Id("lich-su-phan-anh"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        history.contains("Mới tiếp nhận") && history.contains("Đã sửa"),
        "{history}"
    );
    assert!(browser.find(Locator::Id("thoi-gian-sua")).await.is_ok());
    screenshot(browser, "34-phan-anh-da-sua").await;
    run.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn browser_q8_1_q15_1_c_services_are_public_and_grants_suspended_with_a_reason() {
    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);

    // Anyone reads the published services and their connection guides (Q8.1).
    browser.goto(&app.url("/services")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Id("bang-dich-vu"))
        .await
        .unwrap();
    screenshot(browser, "20-dich-vu-chia-se").await;
    browser
        .find(Locator::LinkText("Tra cứu dự án đầu tư trên địa bàn tỉnh"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let guide = browser
        .wait()
        .for_element(Locator::Id("huong-dan"))
        .await
        .unwrap();
    assert!(guide.text().await.unwrap().contains("Các bước kết nối"));
    screenshot(browser, "21-huong-dan-ket-noi").await;

    // The operator grants the demo service to a consumer system, then suspends it in the
    // console with a reason (Q15.1.c).
    let operator = app.token("operator").await;
    let services: serde_json::Value = app
        .get("/api/v1/services?agency=000.00.04.H35", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    let service = services[0]["id"].as_i64().unwrap();
    let grant: serde_json::Value = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/grants",
            Some(&operator),
            &serde_json::json!({
                "consumer": {"agency": "000.00.01.H35", "code": "thu-tuc-hanh-chinh"},
                "target": {"kind": "service", "id": service},
                "fields": ["/ma_du_an", "/ten_du_an"],
                "purposes": ["THONG_KE"],
                "per_minute": 120
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let grant = grant["id"].as_i64().unwrap();

    sign_in_as(browser, app, "operator", &app.password_of("operator")).await;
    browser.goto(&app.url("/console/services")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Id("form-dich-vu"))
        .await
        .unwrap();
    screenshot(browser, "22-bang-dieu-khien-dich-vu").await;
    browser
        .goto(&app.url(&format!("/console/services/{service}")))
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("chua-kiem-tra"))
        .await
        .unwrap();
    screenshot(browser, "23-chi-tiet-dich-vu").await;

    browser.goto(&app.url("/console/grants")).await.unwrap();
    let reason = browser
        .wait()
        .for_element(Locator::Id(&format!("ly-do-tam-dung-{grant}")))
        .await
        .unwrap();
    reason
        .send_keys("Bảo trì hệ thống đến hết 20/12")
        .await
        .unwrap();
    screenshot(browser, "24-quyen-khai-thac").await;
    browser
        .find(Locator::Id(&format!("tam-dung-{grant}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let resume = browser
        .wait()
        .for_element(Locator::Id(&format!("khoi-phuc-{grant}")))
        .await
        .unwrap();
    assert!(resume.is_displayed().await.unwrap());
    let row = browser
        .find(Locator::Id(&format!("quyen-{grant}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("Tạm dừng") && row.contains("Lý do: Bảo trì hệ thống đến hết 20/12"),
        "{row}"
    );
    screenshot(browser, "25-da-tam-dung").await;
    run.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn q15_2_h_browser_citizen_grants_then_revokes_consent() {
    use super::consents::{call_about, client_token, consent_service, day, grant_with_basis};
    use lgsp_server::demo::DEMO_CITIZEN_ID;

    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);

    // Sở Tư pháp shares its birth-record look-up with a consumer system on consent only.
    let admin = app.token("agency-admin").await;
    let service = consent_service(app, &admin).await;
    let response = grant_with_basis(
        app,
        &admin,
        serde_json::json!({"kind": "service", "id": service}),
        serde_json::json!(["/ho_ten", "/ngay_sinh"]),
        "consent",
    )
    .await;
    assert_eq!(response.status(), 201);
    let consumer = client_token(app, 0).await;
    let consumer_agency = app.credentials.clients[0].agency.clone();
    let refused = call_about(app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await;
    assert_eq!(refused.status(), 403, "no consent yet");

    // The citizen signs in and consents in the console.
    sign_in_as(browser, app, "citizen", &app.password_of("citizen")).await;
    browser
        .find(Locator::LinkText("Đồng ý chia sẻ dữ liệu"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let form = browser
        .wait()
        .for_element(Locator::Id("form-dong-y"))
        .await
        .unwrap();
    let number = browser
        .find(Locator::Id("so-dinh-danh"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(number.contains("********2345"), "{number}");
    form.find(Locator::Id("target"))
        .await
        .unwrap()
        .select_by_value(&format!("service:{service}"))
        .await
        .unwrap();
    form.find(Locator::Id("consumer"))
        .await
        .unwrap()
        .select_by_value(&consumer_agency)
        .await
        .unwrap();
    form.find(Locator::Id("purpose_text"))
        .await
        .unwrap()
        .send_keys("Giải quyết thủ tục đăng ký kết hôn")
        .await
        .unwrap();
    let until = chrono::NaiveDate::parse_from_str(&day(30), "%Y-%m-%d")
        .unwrap()
        .format("%d/%m/%Y")
        .to_string();
    form.find(Locator::Id("until"))
        .await
        .unwrap()
        .send_keys(&until)
        .await
        .unwrap();
    screenshot(browser, "40-nguoi-dan-dong-y").await;
    browser
        .find(Locator::Id("dong-y"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = browser
        .wait()
        .for_element(Locator::Id("bang-dong-y"))
        .await
        .unwrap();
    let text = table.text().await.unwrap();
    assert!(
        text.contains("Đang hiệu lực")
            && text.contains("/ho_ten, /ngay_sinh, /noi_sinh")
            && text.contains("TTHC — Giải quyết thủ tục đăng ký kết hôn")
            && text.contains(&until),
        "{text}"
    );
    screenshot(browser, "41-da-dong-y").await;

    // The consumer's call goes through now.
    let allowed = call_about(app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await;
    assert_eq!(allowed.status(), 200);

    // The citizen revokes; the next call is refused.
    let citizen = app.token("citizen").await;
    let consents: serde_json::Value = app
        .get("/api/v1/consents", Some(&citizen))
        .await
        .json()
        .await
        .unwrap();
    let id = consents[0]["id"].as_i64().unwrap();
    browser
        .find(Locator::Id(&format!("rut-dong-y-{id}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Wait for the page after the revocation: the page before it has the same element.
    let revoked = format!("//*[@id='trang-thai-{id}' and normalize-space()='Đã rút lại']");
    let state = browser
        .wait()
        .for_element(Locator::XPath(&revoked))
        .await
        .unwrap();
    assert_eq!(state.text().await.unwrap(), "Đã rút lại");
    assert!(browser
        .find(Locator::Id(&format!("rut-dong-y-{id}")))
        .await
        .is_err());
    let after = call_about(app, &consumer, Some(DEMO_CITIZEN_ID), "TTHC").await;
    assert_eq!(after.status(), 403, "refused from the next request");

    // The citizen sees every exchange about them: refused, allowed, refused.
    browser.refresh().await.unwrap();
    let exchanges = browser
        .wait()
        .for_element(Locator::Id("bang-trao-doi-ve-toi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        exchanges.matches("Bị từ chối (consent_required)").count(),
        2,
        "{exchanges}"
    );
    assert_eq!(exchanges.matches("Đã cung cấp dữ liệu").count(), 1);
    assert!(exchanges.contains("tra-cuu-khai-sinh"), "{exchanges}");
    screenshot(browser, "42-da-rut-dong-y").await;
    run.finish().await;
}

/// Signs `username` in through the login form and waits for the console.
async fn sign_in_as(
    browser: &Client,
    app: &super::helpers::TestApp,
    username: &str,
    password: &str,
) {
    browser.goto(&app.url("/login")).await.unwrap();
    let field = browser.find(Locator::Id("username")).await.unwrap();
    field.send_keys(username).await.unwrap();
    let secret = browser.find(Locator::Id("password")).await.unwrap();
    secret.send_keys(password).await.unwrap();
    secret.send_keys("\u{E007}").await.unwrap();
    browser
        .wait()
        .for_url(&url_of(&app.url("/console")))
        .await
        .unwrap();
}

async fn sign_out(browser: &Client) {
    browser
        .find(Locator::Id("dang-xuat"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("dang-nhap"))
        .await
        .unwrap();
}

async fn type_into(browser: &Client, id: &str, text: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Chooses the option with `value` in the select list `id`.
async fn choose(browser: &Client, id: &str, value: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn click(browser: &Client, id: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn text_of(browser: &Client, id: &str) -> String {
    browser
        .wait()
        .for_element(Locator::Id(id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The text of element `id` once it contains `needle` (the page after a form was sent may still
/// be loading); bounded, fails with the last text seen.
async fn text_with(browser: &Client, id: &str, needle: &str) -> String {
    let mut seen = String::new();
    for _ in 0..100 {
        if let Ok(element) = browser.find(Locator::Id(id)).await {
            if let Ok(text) = element.text().await {
                if text.contains(needle) {
                    return text;
                }
                seen = text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("#{id} never contained {needle:?}; last seen: {seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn q15_1_a_browser_refusal_and_dispute() {
    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);
    // Sở Tư pháp hosts birth records; the consumer agency has an administrator.
    let parties = super::sharing_requests::parties(app).await;
    let system = app.credentials.clients[0].system.clone();

    // The consumer submits a request from the console.
    sign_in_as(browser, app, "tieuthu.quantri", "mật khẩu quản trị 2026").await;
    browser
        .goto(&app.url("/console/sharing-requests"))
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("form-yeu-cau"))
        .await
        .unwrap();
    choose(browser, "doi-tuong", "dataset:so-hoa-ho-tich").await;
    click(browser, &format!("he-thong-{system}")).await;
    type_into(browser, "truong-du-lieu", "so, ho_ten, ngay_sinh").await;
    type_into(browser, "ma-muc-dich", "TTHC").await;
    type_into(browser, "muc-dich", "Giải quyết thủ tục đăng ký thường trú").await;
    type_into(browser, "can-cu", "Luật Cư trú 2020").await;
    type_into(browser, "tan-suat", "Khoảng 200 lượt mỗi ngày").await;
    browser
        .execute(
            "document.getElementById('thoi-han').value = '2099-01-01';",
            vec![],
        )
        .await
        .unwrap();
    screenshot(browser, "40-gui-yeu-cau-chia-se").await;
    click(browser, "gui-yeu-cau").await;
    browser
        .wait()
        .for_element(Locator::Id("bang-yeu-cau"))
        .await
        .unwrap();
    let requests: Vec<serde_json::Value> = app
        .get("/api/v1/sharing-requests", Some(&parties.consumer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(requests.len(), 1);
    let id = requests[0]["id"].as_i64().unwrap();
    assert_eq!(requests[0]["state"], "pending");
    assert_eq!(
        requests[0]["fields"],
        serde_json::json!(["so", "ho_ten", "ngay_sinh"])
    );
    sign_out(browser).await;

    // The provider returns it for more information …
    sign_in_as(
        browser,
        app,
        "agency-admin",
        &app.password_of("agency-admin"),
    )
    .await;
    browser
        .goto(&app.url("/console/sharing-requests"))
        .await
        .unwrap();
    type_into(
        browser,
        &format!("noi-dung-tra-lai-{id}"),
        "Đề nghị chỉ rõ trường dữ liệu thực sự cần",
    )
    .await;
    click(browser, &format!("tra-lai-{id}")).await;
    text_with(browser, &format!("yeu-cau-{id}"), "Lý do: Đề nghị chỉ rõ").await;
    sign_out(browser).await;

    // … the consumer amends the fields in the console and sends it again …
    sign_in_as(browser, app, "tieuthu.quantri", "mật khẩu quản trị 2026").await;
    browser
        .goto(&app.url("/console/sharing-requests"))
        .await
        .unwrap();
    let fields = browser
        .wait()
        .for_element(Locator::Id(&format!("bs-truong-{id}")))
        .await
        .unwrap();
    assert_eq!(
        fields.prop("value").await.unwrap().as_deref(),
        Some("so, ho_ten, ngay_sinh")
    );
    fields.clear().await.unwrap();
    fields.send_keys("so, ho_ten").await.unwrap();
    screenshot(browser, "40b-bo-sung-yeu-cau").await;
    click(browser, &format!("gui-lai-{id}")).await;
    text_with(
        browser,
        &format!("yeu-cau-{id}"),
        "Chờ bên cung cấp xem xét",
    )
    .await;
    let amended: serde_json::Value = app
        .get(
            &format!("/api/v1/sharing-requests/{id}"),
            Some(&parties.consumer),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(amended["state"], "pending");
    assert_eq!(amended["fields"], serde_json::json!(["so", "ho_ten"]));
    sign_out(browser).await;

    // The provider tries to refuse without a reason: blocked, told why in Vietnamese.
    sign_in_as(
        browser,
        app,
        "agency-admin",
        &app.password_of("agency-admin"),
    )
    .await;
    browser
        .goto(&app.url("/console/sharing-requests"))
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id(&format!("tu-choi-{id}")))
        .await
        .unwrap();
    click(browser, &format!("tu-choi-{id}")).await;
    text_with(
        browser,
        "loi",
        "Từ chối yêu cầu chia sẻ phải nêu rõ lý do và căn cứ pháp lý.",
    )
    .await;
    screenshot(browser, "41-tu-choi-thieu-ly-do").await;
    let still: serde_json::Value = app
        .get(
            &format!("/api/v1/sharing-requests/{id}"),
            Some(&parties.provider),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["state"], "pending");

    // … then with a reason and a legal basis.
    browser
        .goto(&app.url("/console/sharing-requests"))
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id(&format!("ly-do-tu-choi-{id}")))
        .await
        .unwrap();
    type_into(
        browser,
        &format!("ly-do-tu-choi-{id}"),
        "Họ tên là dữ liệu cá nhân",
    )
    .await;
    type_into(
        browser,
        &format!("can-cu-tu-choi-{id}"),
        "Điều 11 Nghị định 13/2023/NĐ-CP",
    )
    .await;
    click(browser, &format!("tu-choi-{id}")).await;
    text_with(browser, &format!("yeu-cau-{id}"), "Đã từ chối").await;
    sign_out(browser).await;

    // The consumer sees the refusal and pursues the dispute it opened.
    sign_in_as(browser, app, "tieuthu.quantri", "mật khẩu quản trị 2026").await;
    browser
        .goto(&app.url("/console/sharing-requests"))
        .await
        .unwrap();
    let row = text_of(browser, &format!("yeu-cau-{id}")).await;
    assert!(
        row.contains("Đã từ chối")
            && row.contains("Lý do: Họ tên là dữ liệu cá nhân")
            && row.contains("Căn cứ từ chối: Điều 11 Nghị định 13/2023/NĐ-CP"),
        "{row}"
    );
    screenshot(browser, "42-yeu-cau-bi-tu-choi").await;
    click(browser, &format!("tranh-chap-{id}")).await;
    browser
        .wait()
        .for_element(Locator::Id("y-kien"))
        .await
        .unwrap();
    type_into(
        browser,
        "y-kien",
        "Đề nghị Sở xem xét: thủ tục đăng ký thường trú cần đối chiếu họ tên.",
    )
    .await;
    click(browser, "gui-y-kien").await;
    text_with(browser, "trao-doi", "Đề nghị Sở xem xét").await;
    screenshot(browser, "43-phieu-tranh-chap").await;
    let ticket = browser
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    sign_out(browser).await;

    // The operator sees it among the tickets and answers.
    sign_in_as(browser, app, "operator", &app.password_of("operator")).await;
    browser.goto(&app.url("/console/tickets")).await.unwrap();
    let row = text_of(browser, &format!("phieu-{ticket}")).await;
    assert!(
        row.contains("Tranh chấp, khiếu nại") && row.contains(&format!("Yêu cầu chia sẻ số {id}")),
        "{row}"
    );
    screenshot(browser, "44-so-tttt-xem-phieu").await;
    browser
        .goto(&app.url(&format!("/console/tickets/{ticket}")))
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("noi-dung-resolve"))
        .await
        .unwrap();
    type_into(
        browser,
        "noi-dung-resolve",
        "Việc từ chối có căn cứ; đề nghị gửi lại yêu cầu không gồm trường họ tên.",
    )
    .await;
    click(browser, "buoc-resolve").await;
    text_with(browser, "trang-thai-phieu", "Đã trả lời").await;
    run.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver: run with --ignored browser"]
async fn browser_q15_2_e_operator_reads_the_dashboard_and_filters_it() {
    let run = open_browser().await;
    let (app, browser) = (&run.app, &run.browser);
    // Two months of generated traffic between the demo's systems, services and datasets.
    let today = lgsp_server::catalog::today();
    lgsp_server::demo::traffic::generate(
        &app.state.store,
        lgsp_server::demo::traffic::Plan {
            entries: 20_000,
            days: 60,
            last_day: today,
            batch: 5_000,
        },
    )
    .await
    .unwrap();

    sign_in_as(browser, app, "operator", &app.password_of("operator")).await;
    browser
        .find(Locator::LinkText("Biểu đồ thống kê"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let chart = browser
        .wait()
        .for_element(Locator::Css("#exchanges-per-day svg.chart"))
        .await
        .unwrap();
    assert!(chart.is_displayed().await.unwrap());
    let scope = browser.find(Locator::Id("pham-vi")).await.unwrap();
    assert_eq!(scope.text().await.unwrap(), "toàn tỉnh");
    let total = browser
        .find(Locator::Id("tong-trao-doi"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(total.contains('.'), "thousands grouped with dots: {total}");
    let rows = browser
        .find_all(Locator::Css("#bang-exchanges-per-day tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 30);
    screenshot(browser, "40-bieu-do-thong-ke").await;

    // One agency over the last 7 days.
    let from = (today - chrono::Duration::days(6))
        .format("%Y-%m-%d")
        .to_string();
    browser
        .execute(
            "document.getElementById('tu-ngay').value = arguments[0];",
            vec![serde_json::json!(from)],
        )
        .await
        .unwrap();
    browser
        .find(Locator::Css("#co-quan option[value='000.00.03.H35']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .find(Locator::Id("xem-thong-ke"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The scope line of the page the filter loads (the old page's may still be there: it goes
    // stale under a plain wait).
    text_with(browser, "pham-vi", "Sở Tư pháp tỉnh Hà Nam (000.00.03.H35)").await;
    let rows = browser
        .find_all(Locator::Css("#bang-exchanges-per-day tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 7);
    let services = browser
        .find(Locator::Id("bang-services"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(services.contains("Tra cứu dự án đầu tư"), "{services}");
    assert!(browser
        .find(Locator::Css("#services svg.chart"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
    screenshot(browser, "41-bieu-do-theo-co-quan").await;
    browser
        .goto(&app.url(&format!(
            "/console/dashboard?from={from}&to={today}&agency=000.00.03.H35#providers"
        )))
        .await
        .unwrap();
    screenshot(browser, "42-theo-co-quan-cung-cap").await;
    browser
        .goto(&app.url(&format!(
            "/console/dashboard?from={from}&to={today}&agency=000.00.03.H35#latency"
        )))
        .await
        .unwrap();
    screenshot(browser, "43-do-tre").await;

    // The portal's open statistics, from the navigation.
    browser.goto(&app.url("/")).await.unwrap();
    browser
        .find(Locator::LinkText("Thống kê"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let figures = browser
        .wait()
        .for_element(Locator::Id("so-lieu"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(figures.contains("Cơ quan đã kết nối"), "{figures}");
    screenshot(browser, "44-thong-ke-cong-khai").await;
    run.finish().await;
}
