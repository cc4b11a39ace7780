//! Data quality: datasets updated as often as they promise (Q7.5).

use chrono::{FixedOffset, Months, NaiveDate, Utc};
use serde_json::Value;

use super::helpers::{on_both_backends, spawn_app, Backend, TestApp};
use super::queries::load_schools;

on_both_backends!(q7_5_datasets_show_when_their_next_update_is_due_and_whether_it_is_overdue);

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
        .date_naive()
}

fn day(value: &Value) -> NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

async fn dataset(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("/api/v1/datasets/{id}"), None).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path, None).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn q7_5_datasets_show_when_their_next_update_is_due_and_whether_it_is_overdue(
    backend: Backend,
) {
    let app = spawn_app(backend).await;

    // Published in the demo years ago, daily, never loaded: due the day after publication.
    let business = dataset(&app, "doanh-nghiep").await;
    assert_eq!(business["update_frequency"], "daily");
    assert!(business["last_change_at"].is_null());
    let issued = day(&business["issued"]);
    assert_eq!(day(&business["due_by"]), issued.succ_opt().unwrap());
    assert_eq!(business["stale"], true);

    // Updated irregularly: never due.
    let units = dataset(&app, "don-vi-hanh-chinh").await;
    assert!(units["due_by"].is_null());
    assert_eq!(units["stale"], false);

    // Annual, never loaded: due a year after publication, so overdue by now.
    let schools = dataset(&app, "truong-hoc").await;
    assert_eq!(schools["update_frequency"], "annual");
    let issued = day(&schools["issued"]);
    assert_eq!(
        day(&schools["due_by"]),
        issued.checked_add_months(Months::new(12)).unwrap()
    );
    assert!(issued.checked_add_months(Months::new(12)).unwrap() < today());
    assert_eq!(schools["stale"], true);
    let stale_page = page(&app, "/dataset/truong-hoc").await;
    assert!(stale_page.contains("Quá hạn cập nhật"));

    // Loading its records makes it fresh until the same day next year.
    load_schools(&app).await;

    let schools = dataset(&app, "truong-hoc").await;
    assert!(schools["last_change_at"].is_string());
    let due = today().checked_add_months(Months::new(12)).unwrap();
    assert_eq!(day(&schools["due_by"]), due);
    assert_eq!(schools["stale"], false);

    let fresh_page = page(&app, "/dataset/truong-hoc").await;
    assert!(fresh_page.contains("Cập nhật đúng hạn"));
    assert!(!fresh_page.contains("Quá hạn cập nhật"));
    assert!(fresh_page.contains(&due.format("%d/%m/%Y").to_string()));

    // The catalog list carries the same badges.
    let list = page(&app, "/catalog?q=tr%C6%B0%E1%BB%9Dng").await;
    assert!(list.contains("Cập nhật đúng hạn"), "{list}");
    let list = page(&app, "/catalog?q=doanh%20nghi%E1%BB%87p").await;
    assert!(list.contains("Quá hạn cập nhật"), "{list}");

    app.stop().await;
}
