//! The search, end to end on a small catalog.

use chrono::TimeZone;

use super::*;

fn doc(id: &str, title: &str, agency: &str, theme: &str, access: &str, day: u32) -> SearchDoc {
    SearchDoc {
        dataset_id: id.into(),
        entry_code: format!("CSDL.{}", id.to_uppercase()),
        entry_name: format!("Cơ sở dữ liệu {title}"),
        title: title.into(),
        description: format!("Mô tả bộ dữ liệu {title} của tỉnh Hà Nam."),
        keywords: vec![title.to_lowercase()],
        themes: vec![theme.into()],
        agency_code: agency.into(),
        agency_name: match agency {
            "000.00.03.H35" => "Sở Tư pháp tỉnh Hà Nam".into(),
            _ => "Sở Tài nguyên và Môi trường".into(),
        },
        data_kinds: vec!["open".into()],
        access_level: access.into(),
        sharing_mode: "open".into(),
        modified: Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap(),
    }
}

fn index() -> SearchIndex {
    let index = SearchIndex::new().unwrap();
    index
        .replace_all([
            doc("gia-dat", "Giá đất", "000.00.06.H35", "Đất đai", "open", 1),
            doc(
                "dat-chuan",
                "Đạt chuẩn nông thôn mới",
                "000.00.06.H35",
                "Nông nghiệp",
                "public",
                2,
            ),
            doc(
                "ho-tich",
                "Hộ tịch",
                "000.00.03.H35",
                "Tư pháp",
                "personal",
                3,
            ),
            doc(
                "thua-dat",
                "Thửa đất và bản đồ địa chính",
                "000.00.06.H35",
                "Đất đai",
                "restricted",
                4,
            ),
        ])
        .unwrap();
    index
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.dataset_id.as_str()).collect()
}

fn text(q: &str) -> SearchQuery {
    SearchQuery {
        text: Some(q.into()),
        ..SearchQuery::default()
    }
}

#[test]
fn q15_2_c_diacritics_case_and_normal_form_do_not_matter() {
    let index = index();
    for q in ["dat dai", "đất đai", "ĐẤT ĐAI", "đa\u{0302}\u{0301}t đai"] {
        let found = index.search(&text(q)).unwrap();
        assert!(ids(&found).contains(&"gia-dat"), "{q}: {:?}", ids(&found));
        assert!(ids(&found).contains(&"thua-dat"), "{q}");
        assert!(!ids(&found).contains(&"ho-tich"), "{q}");
    }
    let found = index.search(&text("so tu phap")).unwrap();
    assert_eq!(ids(&found), ["ho-tich"], "agency names are searched");
}

#[test]
fn q15_2_c_exact_diacritics_rank_first() {
    let index = index();
    let found = index.search(&text("đất")).unwrap();
    let order = ids(&found);
    assert!(
        order.contains(&"dat-chuan"),
        "folded matches are found too: {order:?}"
    );
    let exact = order.iter().position(|id| *id == "gia-dat").unwrap();
    let folded = order.iter().position(|id| *id == "dat-chuan").unwrap();
    assert!(exact < folded, "{order:?}");
    let found = index.search(&text("đạt")).unwrap();
    assert_eq!(ids(&found)[0], "dat-chuan");
}

#[test]
fn q15_2_c_all_words_must_match_somewhere() {
    let index = index();
    assert_eq!(
        ids(&index.search(&text("ban do dia chinh")).unwrap()),
        ["thua-dat"]
    );
    assert!(index.search(&text("dat xyzxyz")).unwrap().hits.is_empty());
}

#[test]
fn q15_2_c_facets_filters_and_paging() {
    let index = index();
    let all = index.search(&SearchQuery::default()).unwrap();
    assert_eq!(all.total, 4);
    assert_eq!(
        ids(&all),
        ["thua-dat", "ho-tich", "dat-chuan", "gia-dat"],
        "newest first"
    );
    assert_eq!(
        all.facets["agency"],
        [
            ("000.00.06.H35".to_owned(), 3),
            ("000.00.03.H35".to_owned(), 1)
        ]
    );
    assert_eq!(all.facets["theme"][0], ("Đất đai".to_owned(), 2));

    let filtered = index
        .search(&SearchQuery {
            filters: vec![
                (Facet::Theme, "Đất đai".into()),
                (Facet::AccessLevel, "open".into()),
            ],
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&filtered), ["gia-dat"]);
    assert_eq!(filtered.facets["access_level"], [("open".to_owned(), 1)]);

    let second = index
        .search(&SearchQuery {
            offset: 1,
            limit: 2,
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(second.total, 4);
    assert_eq!(ids(&second), ["ho-tich", "dat-chuan"]);

    let by_title = index
        .search(&SearchQuery {
            sort: Sort::TitleAsc,
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(
        ids(&by_title),
        ["dat-chuan", "gia-dat", "ho-tich", "thua-dat"]
    );
}

#[test]
fn tags_and_modified_since_filter() {
    let index = index();
    let tagged = index
        .search(&SearchQuery {
            tags: vec!["GIÁ ĐẤT".into()],
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&tagged), ["gia-dat"]);
    let recent = index
        .search(&SearchQuery {
            modified_since: Some(Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap()),
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&recent), ["thua-dat", "ho-tich"]);
}

#[test]
fn upsert_replaces_and_remove_removes() {
    let index = index();
    index
        .upsert(doc(
            "gia-dat",
            "Bảng giá đất 2026",
            "000.00.06.H35",
            "Đất đai",
            "open",
            5,
        ))
        .unwrap();
    assert_eq!(index.len(), 4);
    let found = index.search(&text("bang gia")).unwrap();
    assert_eq!(ids(&found), ["gia-dat"]);
    assert_eq!(
        found.hits[0].title_html,
        "<mark>Bảng</mark> <mark>giá</mark> đất 2026"
    );
    index.remove("gia-dat").unwrap();
    assert_eq!(index.len(), 3);
    assert!(index.search(&text("bang gia")).unwrap().hits.is_empty());
}

#[test]
fn q15_2_c_junk_queries_are_not_errors_and_titles_are_escaped() {
    let index = index();
    for junk in ["\"(( AND :", "*:*", "", "   ", "title:[a TO", "\u{0}"] {
        index.search(&text(junk)).unwrap();
    }
    index
        .upsert(doc(
            "xss",
            "<script>alert(1)</script>",
            "000.00.06.H35",
            "Đất đai",
            "open",
            6,
        ))
        .unwrap();
    let found = index.search(&text("script")).unwrap();
    assert_eq!(
        found.hits[0].title_html,
        "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;"
    );
}
