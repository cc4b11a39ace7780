//! Search benchmark: 10 000 synthetic datasets with Vietnamese titles, 2 000 mixed queries
//! (with and without diacritics, one to three words, some with facet filters). Prints latency
//! percentiles, and writes the same rows and queries for the SQLite FTS5 baseline that
//! `bench/search.sh` times in the same run.
//!
//! `cargo run --release -p lgsp-search --example search_bench -- OUT_DIR`

use std::fmt::Write as _;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use lgsp_search::{fold, Facet, SearchDoc, SearchIndex, SearchQuery};

const DATASETS: usize = 10_000;
const QUERIES: usize = 2_000;

const KINDS: [&str; 8] = [
    "Danh sách",
    "Thống kê",
    "Báo cáo",
    "Bản đồ",
    "Danh mục",
    "Số liệu",
    "Kết quả",
    "Hồ sơ",
];
const TOPICS: [&str; 20] = [
    "đất đai",
    "giá đất",
    "trường học",
    "bệnh viện",
    "hộ tịch",
    "doanh nghiệp",
    "dự án đầu tư",
    "di tích",
    "điểm du lịch",
    "quan trắc môi trường",
    "chất lượng không khí",
    "nước thải",
    "giao thông",
    "công trình xây dựng",
    "quy hoạch",
    "hộ nghèo",
    "người có công",
    "thủ tục hành chính",
    "cán bộ công chức",
    "an toàn thực phẩm",
];
const PLACES: [&str; 12] = [
    "Phủ Lý",
    "Duy Tiên",
    "Kim Bảng",
    "Thanh Liêm",
    "Bình Lục",
    "Lý Nhân",
    "Châu Sơn",
    "Lam Hạ",
    "Tiên Nội",
    "Hòa Mạc",
    "Ba Sao",
    "Kiện Khê",
];
const AGENCIES: [(&str, &str); 8] = [
    ("000.00.02.H35", "Sở Nội vụ"),
    ("000.00.03.H35", "Sở Tư pháp"),
    ("000.00.04.H35", "Sở Kế hoạch và Đầu tư"),
    ("000.00.10.H35", "Sở Tài nguyên và Môi trường"),
    ("000.00.12.H35", "Sở Lao động – Thương binh và Xã hội"),
    ("000.00.13.H35", "Sở Văn hóa, Thể thao và Du lịch"),
    ("000.00.14.H35", "Sở Giáo dục và Đào tạo"),
    ("000.00.15.H35", "Sở Y tế"),
];
const THEMES: [&str; 6] = [
    "Đất đai",
    "Y tế",
    "Giáo dục",
    "Doanh nghiệp",
    "Môi trường",
    "Hành chính",
];
const ACCESS: [&str; 4] = ["open", "public", "restricted", "personal"];

/// xorshift64*: deterministic, so every run measures the same data and queries.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/search-bench".into());
    std::fs::create_dir_all(&out).expect("output directory");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut docs = Vec::with_capacity(DATASETS);
    for i in 0..DATASETS {
        let (kind, topic, place) = (rng.pick(&KINDS), rng.pick(&TOPICS), rng.pick(&PLACES));
        let year = 2015 + rng.next() % 12;
        let (code, agency) = *rng.pick(&AGENCIES);
        docs.push(SearchDoc {
            dataset_id: format!("bo-du-lieu-{i}"),
            entry_code: format!("CSDL.{}", i % 400),
            entry_name: format!("Cơ sở dữ liệu {topic}"),
            title: format!("{kind} {topic} {place} năm {year}"),
            description: format!(
                "{kind} về {topic} trên địa bàn {place}, tỉnh Hà Nam, cập nhật năm {year}. Dữ liệu do {agency} quản lý, phục vụ chia sẻ giữa các cơ quan nhà nước."
            ),
            keywords: vec![(*topic).to_owned(), (*place).to_owned()],
            themes: vec![(*rng.pick(&THEMES)).to_owned()],
            agency_code: code.to_owned(),
            agency_name: agency.to_owned(),
            data_kinds: vec!["specialised".into()],
            access_level: (*rng.pick(&ACCESS)).to_owned(),
            sharing_mode: "default".into(),
            modified: Utc.timestamp_opt(1_600_000_000 + i as i64 * 3600, 0).unwrap(),
        });
    }

    let index = SearchIndex::new().expect("index");
    let started = Instant::now();
    index.replace_all(docs.clone()).expect("indexing");
    let indexing = started.elapsed();

    let mut queries = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let topic = *rng.pick(&TOPICS);
        let words: Vec<&str> = topic.split(' ').collect();
        let take = 1 + (rng.next() % words.len().min(3) as u64) as usize;
        let mut text = words[..take].join(" ");
        if rng.next() % 3 == 0 {
            text.push(' ');
            text.push_str(rng.pick::<&str>(&PLACES));
        }
        if rng.next() % 2 == 0 {
            text = fold(&text);
        }
        let filters = if rng.next() % 4 == 0 {
            vec![(Facet::AccessLevel, (*rng.pick(&ACCESS)).to_owned())]
        } else {
            Vec::new()
        };
        queries.push(SearchQuery {
            text: Some(text),
            filters,
            limit: 10,
            ..SearchQuery::default()
        });
    }

    // Warm up, then measure each query.
    for query in queries.iter().take(100) {
        index.search(query).expect("search");
    }
    let mut latencies = Vec::with_capacity(QUERIES);
    let mut found = 0usize;
    for query in &queries {
        let started = Instant::now();
        let results = index.search(query).expect("search");
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        found += usize::from(results.total > 0);
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct =
        |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).min(latencies.len()) - 1];
    let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
    println!("lgsp-search: {DATASETS} datasets indexed in {:.2} s; {QUERIES} queries ({found} with results)", indexing.as_secs_f64());
    println!(
        "lgsp-search latency ms: mean {mean:.3}  p50 {:.3}  p95 {:.3}  p99 {:.3}  max {:.3}  (target p99 <= 20 ms: {})",
        pct(0.50),
        pct(0.95),
        pct(0.99),
        latencies[latencies.len() - 1],
        if pct(0.99) <= 20.0 { "met" } else { "MISSED" }
    );
    println!("lgsp-mean-ms {mean:.6}");

    // The same rows and queries for SQLite FTS5 (folding with remove_diacritics 2; đ → d
    // folded beforehand, as FTS5 keeps đ).
    let mut sql = String::from(
        "PRAGMA journal_mode=OFF;\nCREATE VIRTUAL TABLE docs USING fts5(title, description, keywords, agency, access UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');\nBEGIN;\n",
    );
    let quote = |s: &str| s.replace('\'', "''");
    for d in &docs {
        let _ = writeln!(
            sql,
            "INSERT INTO docs VALUES ('{}', '{}', '{}', '{}', '{}');",
            quote(&fold(&d.title)),
            quote(&fold(&d.description)),
            quote(&fold(&d.keywords.join(" "))),
            quote(&fold(&d.agency_name)),
            d.access_level
        );
    }
    sql.push_str("COMMIT;\n");
    std::fs::write(format!("{out}/data.sql"), sql).expect("data.sql");
    let mut lookups = String::new();
    for q in &queries {
        let words: Vec<String> = fold(q.text.as_deref().unwrap_or_default())
            .split_whitespace()
            .map(|w| format!("\"{w}\""))
            .collect();
        let filter = q
            .filters
            .first()
            .map(|(_, v)| format!(" AND access = '{v}'"))
            .unwrap_or_default();
        let _ = writeln!(
            lookups,
            "SELECT count(*) FROM docs WHERE docs MATCH '{}'{filter}; SELECT rowid FROM docs WHERE docs MATCH '{}'{filter} ORDER BY rank LIMIT 10;",
            words.join(" AND "),
            words.join(" AND ")
        );
    }
    std::fs::write(format!("{out}/queries.sql"), lookups).expect("queries.sql");
}
