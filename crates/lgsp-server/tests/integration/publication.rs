//! The catalog as published: search (Q15.2.c), the CKAN Action API, DCAT-AP and the portal
//! pages (Q12), over the demo catalog.

use serde_json::{json, Value};

use super::helpers::{on_both_backends, spawn_app, Backend, TestApp};

on_both_backends!(
    q15_2_c_search_finds_with_or_without_diacritics_with_facets,
    q12_ckan_action_api_answers_like_ckan,
    q12_dcat_documents_are_served_and_paged,
    q12_portal_shows_catalog_entries_datasets_and_history,
    q15_2_c_an_approval_shows_in_search_on_every_node_within_a_second,
);

async fn search(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/search?{query}"), None).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn ids(answer: &Value) -> Vec<String> {
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["dataset_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn q15_2_c_search_finds_with_or_without_diacritics_with_facets(backend: Backend) {
    let app = spawn_app(backend).await;
    for q in [
        "dat+dai",
        "%C4%91%E1%BA%A5t+%C4%91ai",
        "%C4%90%E1%BA%A4T+%C4%90AI",
    ] {
        let found = ids(&search(&app, &format!("q={q}")).await);
        assert!(found.contains(&"gia-dat".to_owned()), "{q}: {found:?}");
        assert!(found.contains(&"thua-dat".to_owned()), "{q}: {found:?}");
    }
    let justice = search(&app, "q=so+tu+phap").await;
    assert_eq!(
        ids(&justice),
        ["so-hoa-ho-tich"],
        "agency names are searched"
    );
    let marked = search(&app, "q=gia+dat").await;
    assert!(marked["hits"][0]["title_html"]
        .as_str()
        .unwrap()
        .contains("<mark>"));

    let all = search(&app, "limit=100").await;
    assert_eq!(all["total"], 13);
    let themes = all["facets"]["theme"].as_array().unwrap();
    assert!(
        themes.iter().any(|t| t[0] == "Đất đai" && t[1] == 2),
        "{themes:?}"
    );
    let open = search(&app, "access_level=open&theme=%C4%90%E1%BA%A5t+%C4%91ai").await;
    assert_eq!(ids(&open), ["gia-dat"]);
    let paged = search(&app, "limit=5&offset=10").await;
    assert_eq!(paged["hits"].as_array().unwrap().len(), 3);
    assert_eq!(app.get("/api/v1/search?limit=0", None).await.status(), 400);
    assert_eq!(
        app.get("/api/v1/search?sort=views", None).await.status(),
        400
    );
    assert_eq!(
        app.get("/api/v1/search?q=%22((+AND+:", None).await.status(),
        200
    );
    app.stop().await;
}

async fn ckan(app: &TestApp, action: &str, query: &str) -> (u16, Value) {
    let response = app
        .get(&format!("/api/3/action/{action}?{query}"), None)
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn q12_ckan_action_api_answers_like_ckan(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, list) = ckan(&app, "package_list", "").await;
    assert_eq!(status, 200);
    assert_eq!(list["success"], true);
    assert!(list["help"].as_str().unwrap().contains("help_show"));
    assert_eq!(list["result"].as_array().unwrap().len(), 13);

    let (_, package) = ckan(&app, "package_show", "id=gia-dat").await;
    let package = &package["result"];
    assert_eq!(package["name"], "gia-dat");
    assert_eq!(package["organization"]["name"], "000-00-10-h35");
    assert_eq!(package["license_id"], "CC-BY-4.0");
    assert!(package["resources"].as_array().unwrap().len() >= 3);
    assert!(package["metadata_modified"]
        .as_str()
        .unwrap()
        .starts_with("20"));

    let (status, missing) = ckan(&app, "package_show", "id=khong-co").await;
    assert_eq!(status, 404);
    assert_eq!(missing["success"], false);
    assert_eq!(missing["error"]["__type"], "Not Found Error");
    let (status, unknown) = ckan(&app, "package_create", "").await;
    assert_eq!(status, 400);
    assert_eq!(unknown["success"], false);
    let (status, bad) = ckan(&app, "package_search", "rows=nhieu").await;
    assert_eq!(status, 409);
    assert_eq!(bad["error"]["__type"], "Validation Error");

    let (_, found) = ckan(
        &app,
        "package_search",
        "q=dat+dai&facet.field=%5B%22organization%22,%22tags%22,%22groups%22%5D&rows=1",
    )
    .await;
    let result = &found["result"];
    assert_eq!(result["count"], 2);
    assert_eq!(result["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        result["search_facets"]["organization"]["items"][0]["name"],
        "000-00-10-h35"
    );
    assert!(result["facets"]["tags"]
        .as_object()
        .unwrap()
        .contains_key("giá đất"));

    let (_, by_org) = ckan(&app, "package_search", "fq=organization:000-00-10-h35").await;
    assert_eq!(by_org["result"]["count"], 3);
    let (_, by_tag) = ckan(
        &app,
        "package_search",
        "fq=tags:%22gi%C3%A1+%C4%91%E1%BA%A5t%22",
    )
    .await;
    assert_eq!(by_tag["result"]["count"], 1);
    let (_, recent) = ckan(
        &app,
        "package_search",
        "fq=metadata_modified:%5B2024-01-01T00:00:00Z+TO+*%5D",
    )
    .await;
    assert_eq!(
        recent["result"]["count"], 3,
        "only the entries decided in 2024"
    );
    let (status, _) = ckan(&app, "package_search", "fq=res_format:CSV").await;
    assert_eq!(status, 409);

    // JSON POST, with an extra key real clients send.
    let response = app
        .http
        .post(app.url("/api/action/package_search"))
        .json(&json!({"q": "truong hoc", "rows": 5, "include_private": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"]["results"][0]["name"], "truong-hoc");

    let (_, orgs) = ckan(&app, "organization_list", "").await;
    assert!(orgs["result"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "000-00-10-h35"));
    let (_, org) = ckan(
        &app,
        "organization_show",
        "id=000-00-10-h35&include_datasets=true",
    )
    .await;
    assert_eq!(org["result"]["package_count"], 3);
    let first = &org["result"]["packages"][0];
    assert!(
        first["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{first}"
    );
    let (_, tags) = ckan(&app, "tag_list", "").await;
    assert!(tags["result"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "giá đất"));
    let (_, resource) = ckan(&app, "resource_show", "id=gia-dat-jsonld").await;
    assert_eq!(resource["result"]["format"], "JSON-LD");
    let (_, status_show) = ckan(&app, "status_show", "").await;
    assert!(status_show["result"]["ckan_version"].is_string());
    app.stop().await;
}

async fn q12_dcat_documents_are_served_and_paged(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.get("/catalog.jsonld", None).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/ld+json"));
    let doc: Value = response.json().await.unwrap();
    let text = doc.to_string();
    assert!(
        text.contains("dcat:Catalog") && text.contains("gia-dat"),
        "{text}"
    );
    let turtle = app.get("/catalog.ttl?page=1", None).await;
    assert!(turtle.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/turtle"));
    let turtle = turtle.text().await.unwrap();
    assert!(
        turtle.contains("dcat:Dataset") || turtle.contains("http://www.w3.org/ns/dcat#Dataset")
    );
    assert_eq!(app.get("/catalog.ttl?page=2", None).await.status(), 404);
    assert_eq!(app.get("/catalog.ttl?page=0", None).await.status(), 404);
    let one = app.get("/dataset/gia-dat.ttl", None).await;
    assert_eq!(one.status(), 200);
    assert!(one
        .text()
        .await
        .unwrap()
        .contains("Bảng giá đất tỉnh Hà Nam"));
    assert_eq!(
        app.get("/dataset/khong-co.jsonld", None).await.status(),
        404
    );
    app.stop().await;
}

async fn q12_portal_shows_catalog_entries_datasets_and_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let list = app
        .get("/catalog?q=dat+dai", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("<mark>đất</mark>") || list.contains("<mark>Đất</mark>"),
        "highlighted"
    );
    assert!(list.contains("Cơ quan chủ quản"), "facets shown");
    let filtered = app
        .get("/catalog?access_level=personal", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(filtered.contains("3 bộ dữ liệu"), "{filtered}");

    let entry = app
        .get("/catalog/CSDL.HOTICH", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        entry.contains("Có trùng lặp"),
        "the overlap flag is shown (Q5.1)"
    );
    assert!(
        entry.contains("60/2014/QH13 ngày 20/11/2014"),
        "legal bases with dd/mm/yyyy"
    );
    let history = app
        .get("/catalog/CSDL.HOTICH/history", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(history.contains("2011/QĐ-UBND") && history.contains("20/03/2023"));
    let dataset = app
        .get("/dataset/so-hoa-ho-tich", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(dataset.contains("Chia sẻ theo yêu cầu đặc thù"));
    assert!(dataset.contains("Cán bộ đầu mối"));
    assert!(dataset.contains("Sở Tư pháp"));
    let missing = app
        .http
        .get(app.url("/catalog/CSDL.KHONGCO"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

async fn q15_2_c_an_approval_shows_in_search_on_every_node_within_a_second(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.second_node().await;
    let admin = app.token("agency-admin").await;
    let operator = app.token("operator").await;
    let approver = app.token("approver").await;
    let system: Vec<Value> = app
        .get("/api/v1/agencies/000.00.03.H35/systems", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
        .date_naive()
        .to_string();
    let entry = json!({
        "code": "CSDL.CONGCHUNG", "name": "Cơ sở dữ liệu công chứng", "description": "Văn phòng công chứng.",
        "owner": "000.00.03.H35", "managing_system": system[0]["code"],
        "legal_bases": [{"number": "47/2020/NĐ-CP", "date": "2020-04-09", "issuer": "Chính phủ"}],
        "data_kinds": ["open"], "national_relation": {"overlaps": false},
        "criteria": {
            "legal_value": {"met": true, "justification": "Có"},
            "master_data": {"met": false, "justification": "Không"},
            "administrative_procedures": {"met": true, "justification": "Có"}
        },
        "datasets": [{"id": "van-phong-cong-chung", "title": "Văn phòng công chứng", "description": "Danh sách",
            "access_level": "open", "sharing_mode": "open", "update_frequency": "monthly", "licence": "CC-BY-4.0",
            "contact": {"name": "Phòng Bổ trợ tư pháp", "email": "bttp@stp.hanam.gov.vn"}}]
    });
    let form = reqwest::multipart::Form::new()
        .text(
            "proposal",
            json!({"change": {"action": "add", "entry": entry}, "reason": "Bổ sung"}).to_string(),
        )
        .part(
            "letter",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 cong van".to_vec())
                .file_name("cv.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let created: Value = app
        .http
        .post(app.url("/api/v1/catalog/proposals"))
        .bearer_auth(&admin)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    let forwarded = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/catalog/submissions",
            Some(&operator),
            &json!({"proposals": [id], "recommendation": "Đề nghị phê duyệt"}),
        )
        .await;
    assert_eq!(forwarded.status(), 201);
    let query = "/api/v1/search?q=cong+chung";
    assert_eq!(search(&other, "q=cong+chung").await["total"], 0);
    let approved = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/catalog/proposals/{id}/approve"),
            Some(&approver),
            &json!({"decision": {"number": "99/QĐ-UBND", "date": today, "effective_date": today}}),
        )
        .await;
    assert_eq!(approved.status(), 200);
    let decided = std::time::Instant::now();
    // The node that took the decision shows it at once …
    assert_eq!(search(&app, "q=cong+chung").await["total"], 1);
    // … the other within a second (it polls storage once a second), with a margin for a slow
    // machine.
    loop {
        let answer: Value = other.get(query, None).await.json().await.unwrap();
        if answer["total"] == 1 {
            break;
        }
        assert!(
            decided.elapsed() < std::time::Duration::from_millis(1500),
            "not seen after 1.5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    other.stop().await;
    app.stop().await;
}
