//! A realistic annual report with made-up figures, for the renderings' tests, the `sample`
//! example and the server's tests (feature `sample`).

use chrono::NaiveDate;

use crate::{
    Block, Cell, Chart, ChartKind, Document, FigureSource, Header, Section, Series, Signature,
    Table,
};

/// The agencies of the sample: enough of them that the per-agency table runs over a page.
const AGENCIES: [&str; 40] = [
    "Văn phòng UBND tỉnh",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở Kế hoạch và Đầu tư",
    "Sở Tài chính",
    "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Giao thông vận tải",
    "Sở Xây dựng",
    "Sở Tài nguyên và Môi trường",
    "Sở Thông tin và Truyền thông",
    "Sở Lao động - Thương binh và Xã hội",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Thanh tra tỉnh",
    "Ban Dân tộc",
    "Ban Quản lý các khu công nghiệp",
    "Công an tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Cục Thuế tỉnh",
    "Kho bạc Nhà nước tỉnh",
    "Cục Thống kê tỉnh",
    "UBND thành phố Phủ Lý",
    "UBND thị xã Duy Tiên",
    "UBND thị xã Kim Bảng",
    "UBND huyện Thanh Liêm",
    "UBND huyện Bình Lục",
    "UBND huyện Lý Nhân",
    "Trung tâm Phục vụ hành chính công",
    "Trung tâm Công nghệ thông tin và Truyền thông",
    "Đài Phát thanh và Truyền hình tỉnh",
    "Báo Hà Nam",
    "Văn phòng Đăng ký đất đai",
    "Quỹ Đầu tư phát triển",
    "Trường Cao đẳng Y tế",
    "Bệnh viện Đa khoa tỉnh",
    "Trung tâm Kiểm soát bệnh tật",
    "Chi cục Kiểm lâm",
];

const MONTHS: [&str; 12] = [
    "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12",
];

/// The sample report of the Department of Information and Communications of Hà Nam for 2026.
pub fn sample() -> Document {
    let mut figures = Vec::new();
    let mut figure = |id: &str, label: &str, value: &Cell, query: &str| {
        figures.push(FigureSource {
            id: id.to_owned(),
            label: label.to_owned(),
            value: value.display(),
            query: query.to_owned(),
            printed: true,
        });
    };

    // I.1 Systems and their readiness.
    let systems_rows = vec![
        vec![
            Cell::Text("Hệ thống đã đăng ký".into()),
            Cell::Integer(58),
            Cell::Integer(47),
        ],
        vec![
            Cell::Text("Đã kết nối LGSP".into()),
            Cell::Integer(52),
            Cell::Integer(39),
        ],
        vec![
            Cell::Text("Sẵn sàng (ready)".into()),
            Cell::Integer(45),
            Cell::Empty,
        ],
        vec![
            Cell::Text("Cần nâng cấp (needs_upgrade)".into()),
            Cell::Integer(7),
            Cell::Empty,
        ],
        vec![
            Cell::Text("Tỷ lệ sẵn sàng hoạt động".into()),
            Cell::Percent(0.9876),
            Cell::Percent(0.9712),
        ],
    ];
    for (i, row) in systems_rows.iter().enumerate() {
        if let Cell::Text(label) = &row[0] {
            figure(
                &format!("B1.{}", i + 1),
                &format!("{label} năm 2026"),
                &row[1],
                "SELECT COUNT(*) FROM systems s\n  WHERE s.created_at < '2027-01-01'\n    AND s.status = 'connected';",
            );
        }
    }
    let systems = Table {
        caption: "Bảng 1. Hệ thống thông tin kết nối với LGSP".into(),
        columns: vec!["Chỉ tiêu".into(), "Năm 2026".into(), "Năm 2025".into()],
        rows: systems_rows,
    };

    // I.2 Datasets and services shared.
    let shared = Table {
        caption: "Bảng 2. Dữ liệu và dịch vụ được chia sẻ".into(),
        columns: vec![
            "Loại".into(),
            "Số lượng".into(),
            "Tăng so với 2025".into(),
            "Lượt tải về".into(),
        ],
        rows: vec![
            vec![
                Cell::Text("Bộ dữ liệu mở".into()),
                Cell::Integer(214),
                Cell::Percent(0.183),
                Cell::Integer(1_204_387),
            ],
            vec![
                Cell::Text("Bộ dữ liệu dùng chung".into()),
                Cell::Integer(96),
                Cell::Percent(0.067),
                Cell::Integer(48_210),
            ],
            vec![
                Cell::Text("Dịch vụ chia sẻ dữ liệu".into()),
                Cell::Integer(131),
                Cell::Percent(0.25),
                Cell::Empty,
            ],
        ],
    };
    figure(
        "B2.1",
        "Số bộ dữ liệu mở công bố",
        &Cell::Integer(214),
        "SELECT COUNT(*) FROM datasets WHERE access = 'open' AND published_at < '2027-01-01';",
    );

    // I.3 Exchanges per month, this year and last.
    let this_year: Vec<f64> = (0..12)
        .map(|m| 610_000.0 + 23_500.0 * m as f64 + if m == 6 { -40_000.0 } else { 0.0 })
        .collect();
    let last_year: Vec<f64> = (0..12).map(|m| 455_000.0 + 18_250.0 * m as f64).collect();
    let total: f64 = this_year.iter().sum();
    figure(
        "C1",
        "Tổng số lượt trao đổi dữ liệu năm 2026",
        &Cell::Integer(total as i64),
        "SELECT COUNT(*) FROM exchange_log\n  WHERE at >= '2026-01-01' AND at < '2027-01-01';",
    );
    let exchanges = Chart {
        kind: ChartKind::Bars,
        caption: "Biểu đồ 1. Lượt trao đổi dữ liệu theo tháng".into(),
        unit: "lượt trao đổi".into(),
        categories: MONTHS.iter().map(|m| (*m).to_owned()).collect(),
        series: vec![
            Series {
                name: "Năm 2026".into(),
                values: this_year,
            },
            Series {
                name: "Năm 2025".into(),
                values: last_year,
            },
        ],
    };
    let latency = Chart {
        kind: ChartKind::Lines,
        caption: "Biểu đồ 2. Thời gian phản hồi (mili giây)".into(),
        unit: "ms".into(),
        categories: MONTHS.iter().map(|m| (*m).to_owned()).collect(),
        series: vec![
            Series {
                name: "p50".into(),
                values: vec![
                    42.0, 41.5, 44.0, 43.0, 40.0, 39.5, 47.0, 41.0, 40.5, 39.0, 38.5, 38.0,
                ],
            },
            Series {
                name: "p95".into(),
                values: vec![
                    180.0, 176.0, 190.5, 185.0, 170.0, 168.0, 240.0, 172.0, 169.0, 165.0, 160.0,
                    158.0,
                ],
            },
        ],
    };

    // I.4 Requests approved and refused, with the reasons.
    let requests = Table {
        caption: "Bảng 3. Yêu cầu chia sẻ dữ liệu".into(),
        columns: vec![
            "Kết quả".into(),
            "Số yêu cầu".into(),
            "Thời gian xử lý TB (ngày)".into(),
        ],
        rows: vec![
            vec![
                Cell::Text("Chấp thuận".into()),
                Cell::Integer(312),
                Cell::Decimal(3.4, 1),
            ],
            vec![
                Cell::Text("Từ chối: dữ liệu có nội dung mật".into()),
                Cell::Integer(9),
                Cell::Decimal(5.25, 2),
            ],
            vec![
                Cell::Text("Từ chối: không đúng chức năng, nhiệm vụ".into()),
                Cell::Integer(14),
                Cell::Decimal(4.0, 1),
            ],
            vec![
                Cell::Text("Đang xử lý".into()),
                Cell::Integer(6),
                Cell::Empty,
            ],
        ],
    };
    figure(
        "B3.1",
        "Số yêu cầu chia sẻ được chấp thuận",
        &Cell::Integer(312),
        "SELECT COUNT(*) FROM sharing_requests\n  WHERE decided_at >= '2026-01-01' AND decided_at < '2027-01-01'\n    AND state = 'approved';",
    );

    // II. Per agency, over more than a page.
    let per_agency_rows: Vec<Vec<Cell>> = AGENCIES
        .iter()
        .enumerate()
        .map(|(i, agency)| {
            let n = i as i64;
            let volume = 12_000 + (n * 7_919 % 97) * 1_731 + n * 211;
            let previous = volume - 1_500 + (n % 5) * 900;
            vec![
                Cell::Integer(n + 1),
                Cell::Text((*agency).to_owned()),
                Cell::Integer(1 + n % 4),
                Cell::Integer(volume),
                Cell::Integer(previous),
                Cell::Percent(volume as f64 / previous as f64 - 1.0),
                Cell::Integer(n % 7),
                if n % 6 == 0 {
                    Cell::Empty
                } else {
                    Cell::Decimal(1.5 + (n % 9) as f64 * 0.75, 1)
                },
            ]
        })
        .collect();
    for row in per_agency_rows.iter().take(3) {
        if let (Cell::Integer(n), Cell::Text(agency)) = (&row[0], &row[1]) {
            figure(
                &format!("B4.{n}"),
                &format!("Lượt trao đổi năm 2026 của {agency}"),
                &row[3],
                &format!("SELECT COUNT(*) FROM exchange_log e JOIN agencies a ON a.id = e.provider_agency_id\n  WHERE a.code = 'H{n:02}' AND e.at >= '2026-01-01' AND e.at < '2027-01-01';"),
            );
        }
    }
    let per_agency = Table {
        caption: "Bảng 4. Kết quả theo cơ quan, đơn vị".into(),
        columns: vec![
            "STT".into(),
            "Cơ quan, đơn vị".into(),
            "Số hệ thống".into(),
            "Lượt trao đổi 2026".into(),
            "Lượt trao đổi 2025".into(),
            "Tăng, giảm".into(),
            "Phản ánh lỗi".into(),
            "Thời gian khắc phục TB (giờ)".into(),
        ],
        rows: per_agency_rows,
    };

    let sections = vec![
        Section {
            heading: "KẾT QUẢ THỰC HIỆN QUY CHẾ".into(),
            blocks: vec![Block::Paragraph(
                "Năm 2026, Nền tảng tích hợp, chia sẻ dữ liệu (LGSP) của tỉnh vận hành ổn định, \
                 kết nối các hệ thống thông tin của các cơ quan, đơn vị trên địa bàn tỉnh với Nền \
                 tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP)."
                    .into(),
            )],
            subsections: vec![
                Section {
                    heading: "Kết nối các hệ thống thông tin".into(),
                    blocks: vec![
                        Block::Paragraph(
                            "Đến ngày 30/11/2026, 52 hệ thống thông tin đã kết nối với LGSP, trong \
                             đó 45 hệ thống được đánh giá sẵn sàng và 7 hệ thống cần nâng cấp để \
                             đáp ứng yêu cầu kỹ thuật."
                                .into(),
                        ),
                        Block::Table(systems),
                    ],
                    subsections: vec![],
                },
                Section {
                    heading: "Dữ liệu và dịch vụ được chia sẻ".into(),
                    blocks: vec![Block::Table(shared)],
                    subsections: vec![],
                },
                Section {
                    heading: "Trao đổi dữ liệu qua LGSP".into(),
                    blocks: vec![
                        Block::Paragraph(format!(
                            "Tổng số lượt trao đổi dữ liệu trong năm đạt {}, tăng so với năm 2025; \
                             thời gian phản hồi p95 duy trì dưới 250 mili giây.",
                            crate::group_thousands(total as i64)
                        )),
                        Block::Chart(exchanges),
                        Block::Chart(latency),
                    ],
                    subsections: vec![],
                },
                Section {
                    heading: "Yêu cầu chia sẻ dữ liệu".into(),
                    blocks: vec![Block::Table(requests)],
                    subsections: vec![Section {
                        heading: "Lý do từ chối".into(),
                        blocks: vec![Block::Paragraph(
                            "Các yêu cầu bị từ chối đều có lý do bằng văn bản, chủ yếu do dữ liệu \
                             thuộc danh mục bí mật nhà nước hoặc không phù hợp chức năng, nhiệm vụ \
                             của cơ quan đề nghị."
                                .into(),
                        )],
                        subsections: vec![],
                    }],
                },
            ],
        },
        Section {
            heading: "KẾT QUẢ THEO CƠ QUAN, ĐƠN VỊ VÀ SO SÁNH VỚI NĂM 2025".into(),
            blocks: vec![
                Block::Paragraph(
                    "Bảng dưới đây tổng hợp kết quả của từng cơ quan, đơn vị; số liệu được tính \
                     từ nhật ký trao đổi và cơ sở dữ liệu của LGSP theo các truy vấn tại Phụ lục."
                        .into(),
                ),
                Block::Table(per_agency),
            ],
            subsections: vec![],
        },
        Section {
            heading: "ĐÁNH GIÁ VÀ KIẾN NGHỊ".into(),
            blocks: vec![],
            subsections: vec![
                Section {
                    heading: "Đánh giá chung".into(),
                    blocks: vec![Block::Paragraph(
                        "Việc thực hiện Quy chế quản lý, vận hành, khai thác LGSP bảo đảm đúng quy \
                         định; các cơ quan, đơn vị chủ động cập nhật dữ liệu và xử lý kịp thời các \
                         phản ánh lỗi. Tuy nhiên, một số hệ thống chưa đáp ứng yêu cầu kết nối, \
                         việc khai thác dữ liệu dùng chung ở cấp huyện còn hạn chế."
                            .into(),
                    )],
                    subsections: vec![],
                },
                Section {
                    heading: "Kiến nghị, đề xuất".into(),
                    blocks: vec![Block::Paragraph(
                        "Đề nghị UBND tỉnh chỉ đạo các cơ quan, đơn vị có hệ thống cần nâng cấp \
                         hoàn thành việc nâng cấp trước ngày 30/6/2027; bố trí kinh phí duy trì, \
                         vận hành LGSP năm 2027."
                            .into(),
                    )],
                    subsections: vec![],
                },
            ],
        },
    ];

    Document {
        header: Header {
            parent_body: "UBND TỈNH HÀ NAM".into(),
            issuing_body: "SỞ THÔNG TIN VÀ TRUYỀN THÔNG".into(),
            number: "Số:        /BC-STTTT".into(),
            place: "Hà Nam".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 5).expect("a valid date"),
        },
        title: "BÁO CÁO".into(),
        subject: "Tình hình thực hiện Quy chế quản lý, vận hành, khai thác Nền tảng tích hợp, chia sẻ dữ liệu tỉnh Hà Nam năm 2026".into(),
        preamble: vec![
            "Thực hiện Quyết định số 25/2024/QĐ-UBND ngày 15/5/2024 của UBND tỉnh ban hành Quy chế quản lý, vận hành, khai thác Nền tảng tích hợp, chia sẻ dữ liệu tỉnh Hà Nam, Sở Thông tin và Truyền thông báo cáo tình hình thực hiện năm 2026 như sau:".into(),
        ],
        sections,
        signature: Signature {
            authority: Some("KT. GIÁM ĐỐC".into()),
            position: "PHÓ GIÁM ĐỐC".into(),
            name: "Nguyễn Văn Hùng".into(),
        },
        recipients: vec![
            "- UBND tỉnh (để b/c);".into(),
            "- Bộ Thông tin và Truyền thông (để b/c);".into(),
            "- Các sở, ban, ngành;".into(),
            "- UBND các huyện, thị xã, thành phố;".into(),
            "- Lưu: VT, CĐS.".into(),
        ],
        figures,
    }
}

/// Every value a person should find in a rendering of `document`: table cells, chart numbers,
/// the figures' values. The renderings' tests look for each.
#[cfg(test)]
pub(crate) fn every_cell(document: &Document) -> Vec<String> {
    fn walk(section: &Section, out: &mut Vec<String>) {
        for block in &section.blocks {
            let table = match block {
                Block::Table(table) => table.clone(),
                Block::Chart(chart) => chart.numbers(),
                Block::Paragraph(_) => continue,
            };
            out.extend(table.columns.iter().filter(|c| !c.is_empty()).cloned());
            out.extend(table.rows.iter().flatten().map(Cell::display));
        }
        for sub in &section.subsections {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    for section in &document.sections {
        walk(section, &mut out);
    }
    out.extend(document.figures.iter().map(|f| f.value.clone()));
    out
}

/// Every element opened is closed, in order (`void` elements aside): enough to catch a
/// mismatched tag in XML or HTML without a parser.
#[cfg(test)]
pub(crate) fn assert_well_formed(xml: &str, void: &[&str]) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').expect("a tag is closed");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'))
            .collect();
        if void.contains(&name.as_str()) {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "</{name}>");
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert!(!rest.contains('>'), "a stray >");
}
