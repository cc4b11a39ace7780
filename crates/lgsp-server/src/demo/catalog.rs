//! The demo catalog of shared databases: a dozen entries of a provincial catalog as Decision
//! 07/2021/QĐ-UBND and DEMO.md describe them. Sample data: the decision numbers, contacts and
//! dataset contents are invented; the legal documents cited are real and kept as data.

use chrono::NaiveDate;
use lgsp_core::catalog::EntryContent;
use serde_json::{json, Value};

/// One approved entry and the decision (sample) that put it in the catalog.
pub struct DemoEntry {
    pub entry: EntryContent,
    pub decision_number: &'static str,
    pub decision_date: NaiveDate,
}

const DECREE_47: (&str, &str, &str, &str) = ("47/2020/NĐ-CP", "2020-04-09", "Chính phủ", "Điều 11");
// The date of Decision 07/2021/QĐ-UBND is sample data to be checked against the gazette.
const DECISION_07: (&str, &str, &str, &str) = (
    "07/2021/QĐ-UBND",
    "2021-04-15",
    "Ủy ban nhân dân tỉnh Hà Nam",
    "Điều 5",
);
const DECREE_13: (&str, &str, &str, &str) = ("13/2023/NĐ-CP", "2023-04-17", "Chính phủ", "Điều 11");

fn bases(list: &[(&str, &str, &str, &str)]) -> Value {
    json!(list
        .iter()
        .map(|(number, date, issuer, article)| json!({"number": number, "date": date, "issuer": issuer, "article": article}))
        .collect::<Vec<_>>())
}

fn criterion(met: bool, why: &str) -> Value {
    json!({"met": met, "justification": why})
}

/// A dataset: (id, title, description, keywords, theme, access, sharing, frequency).
#[allow(clippy::too_many_arguments)]
fn dataset(
    id: &str,
    title: &str,
    description: &str,
    keywords: &[&str],
    theme: &str,
    access: &str,
    sharing: &str,
    frequency: &str,
    contact: (&str, &str),
) -> Value {
    let open = access == "open";
    let mut d = json!({
        "id": id, "title": title, "description": description, "keywords": keywords,
        "themes": [theme], "access_level": access, "sharing_mode": sharing,
        "update_frequency": frequency,
        "licence": if open { "CC-BY-4.0" } else { "Điều khoản sử dụng dữ liệu dùng chung tỉnh Hà Nam" },
        "contact": {"name": contact.0, "email": contact.1},
    });
    if !open {
        d["terms_of_use"] = json!("Chỉ sử dụng đúng mục đích đã đăng ký; không cung cấp cho bên thứ ba; ghi rõ nguồn dữ liệu khi sử dụng (Điều 11 Quy chế).");
    }
    d
}

/// An entry: the parts that differ between entries; the rest is filled in.
struct Spec {
    code: &'static str,
    name: &'static str,
    description: &'static str,
    owner: &'static str,
    system: &'static str,
    kinds: &'static [&'static str],
    bases: &'static [(&'static str, &'static str, &'static str, &'static str)],
    national: Value,
    criteria: [(bool, &'static str); 3],
    datasets: Vec<Value>,
    decision: (&'static str, &'static str),
}

fn entry(spec: Spec) -> DemoEntry {
    let value = json!({
        "code": spec.code, "name": spec.name, "description": spec.description,
        "owner": spec.owner, "managing_system": spec.system,
        "legal_bases": bases(spec.bases), "data_kinds": spec.kinds,
        "national_relation": spec.national,
        "criteria": {
            "legal_value": criterion(spec.criteria[0].0, spec.criteria[0].1),
            "master_data": criterion(spec.criteria[1].0, spec.criteria[1].1),
            "administrative_procedures": criterion(spec.criteria[2].0, spec.criteria[2].1),
        },
        "datasets": spec.datasets,
    });
    DemoEntry {
        entry: serde_json::from_value(value).expect("demo entries are valid"),
        decision_number: spec.decision.0,
        decision_date: spec.decision.1.parse().expect("demo dates are valid"),
    }
}

fn none() -> Value {
    json!({"databases": [], "overlaps": false})
}

/// The demo catalog, in code order.
pub fn catalog() -> Vec<DemoEntry> {
    let signed = (
        true,
        "Dữ liệu được cập nhật từ hồ sơ điện tử đã ký số, có giá trị pháp lý như bản giấy",
    );
    let reference = (
        true,
        "Là dữ liệu gốc để các cơ sở dữ liệu khác của tỉnh đồng bộ, đối chiếu",
    );
    let not_master = (false, "Không phải dữ liệu chủ; được tổng hợp từ nguồn khác");
    let procedures = (
        true,
        "Phục vụ giải quyết thủ tục hành chính, giảm giấy tờ người dân phải nộp",
    );
    vec![
        entry(Spec {
            code: "CSDL.CBCCVC",
            name: "Cơ sở dữ liệu cán bộ, công chức, viên chức",
            description: "Thông tin hồ sơ cán bộ, công chức, viên chức của các cơ quan, đơn vị thuộc tỉnh, phục vụ quản lý, tuyển dụng, đào tạo.",
            owner: "000.00.02.H35", system: "can-bo", kinds: &["master", "personal"],
            bases: &[DECREE_47, DECISION_07, DECREE_13],
            national: json!({"databases": ["Cơ sở dữ liệu quốc gia về cán bộ, công chức, viên chức"], "overlaps": false}),
            criteria: [signed, reference, procedures],
            datasets: vec![dataset("ho-so-can-bo", "Hồ sơ cán bộ, công chức, viên chức", "Lý lịch, quá trình công tác, chức vụ của cán bộ, công chức, viên chức trong tỉnh.", &["cán bộ", "công chức", "viên chức"], "Hành chính", "personal", "on_request", "continuous", ("Phòng Công chức, viên chức", "ccvc@snv.hanam.gov.vn"))],
            decision: ("1520/QĐ-UBND", "2022-08-15"),
        }),
        entry(Spec {
            code: "CSDL.DATDAI",
            name: "Cơ sở dữ liệu đất đai",
            description: "Thửa đất, chủ sử dụng, quyền sử dụng đất và bản đồ địa chính trên địa bàn tỉnh Hà Nam.",
            owner: "000.00.10.H35", system: "dat-dai", kinds: &["master", "specialised"],
            bases: &[("31/2024/QH15", "2024-01-18", "Quốc hội", "Điều 164"), DECREE_47, DECISION_07],
            national: json!({"databases": ["Cơ sở dữ liệu quốc gia về đất đai"], "overlaps": false, "note": "Tỉnh là nguồn cập nhật cho cơ sở dữ liệu quốc gia"}),
            criteria: [signed, reference, procedures],
            datasets: vec![
                dataset("thua-dat", "Thửa đất và bản đồ địa chính", "Thông tin thửa đất, diện tích, mục đích sử dụng và bản đồ địa chính số.", &["thửa đất", "địa chính"], "Đất đai", "restricted", "on_request", "continuous", ("Văn phòng Đăng ký đất đai", "vpdkdd@stnmt.hanam.gov.vn")),
                dataset("gia-dat", "Bảng giá đất tỉnh Hà Nam", "Bảng giá các loại đất áp dụng trên địa bàn tỉnh theo quyết định của UBND tỉnh.", &["giá đất", "bảng giá"], "Đất đai", "open", "open", "annual", ("Phòng Giá đất", "giadat@stnmt.hanam.gov.vn")),
            ],
            decision: ("1520/QĐ-UBND", "2022-08-15"),
        }),
        entry(Spec {
            code: "CSDL.HOTICH",
            name: "Cơ sở dữ liệu hộ tịch điện tử",
            description: "Dữ liệu đăng ký khai sinh, kết hôn, khai tử và các việc hộ tịch khác do các cấp trong tỉnh thực hiện.",
            owner: "000.00.03.H35", system: "ho-tich", kinds: &["personal", "specialised"],
            bases: &[("60/2014/QH13", "2014-11-20", "Quốc hội", "Điều 5"), DECREE_47, DECREE_13],
            national: json!({"databases": ["Cơ sở dữ liệu hộ tịch điện tử toàn quốc"], "overlaps": true, "note": "Tỉnh chỉ lưu phần dữ liệu số hóa sổ hộ tịch cũ chưa có trên cơ sở dữ liệu toàn quốc"}),
            criteria: [signed, not_master, procedures],
            datasets: vec![dataset("so-hoa-ho-tich", "Sổ hộ tịch đã số hóa", "Dữ liệu số hóa sổ đăng ký khai sinh, kết hôn trước năm 2016.", &["hộ tịch", "khai sinh", "kết hôn"], "Tư pháp", "personal", "on_request", "monthly", ("Phòng Hành chính tư pháp", "hctp@stp.hanam.gov.vn"))],
            decision: ("2011/QĐ-UBND", "2023-03-20"),
        }),
        entry(Spec {
            code: "CSDL.DKDN",
            name: "Cơ sở dữ liệu đăng ký doanh nghiệp",
            description: "Thông tin doanh nghiệp, hộ kinh doanh đăng ký trên địa bàn tỉnh, đồng bộ từ hệ thống quốc gia.",
            owner: "000.00.04.H35", system: "dang-ky-doanh-nghiep", kinds: &["specialised", "open"],
            bases: &[DECREE_47, DECISION_07],
            national: json!({"databases": ["Hệ thống thông tin quốc gia về đăng ký doanh nghiệp"], "overlaps": true, "note": "Chỉ lưu bản sao phục vụ khai thác trong tỉnh"}),
            criteria: [signed, not_master, procedures],
            datasets: vec![dataset("doanh-nghiep", "Danh sách doanh nghiệp đang hoạt động", "Tên, mã số, địa chỉ, ngành nghề của doanh nghiệp đang hoạt động tại Hà Nam.", &["doanh nghiệp", "mã số thuế"], "Doanh nghiệp", "public", "default", "daily", ("Phòng Đăng ký kinh doanh", "dkkd@skhdt.hanam.gov.vn"))],
            decision: ("1520/QĐ-UBND", "2022-08-15"),
        }),
        entry(Spec {
            code: "CSDL.DUANDAUTU",
            name: "Cơ sở dữ liệu dự án đầu tư",
            description: "Dự án đầu tư trong và ngoài ngân sách: chủ đầu tư, vốn, tiến độ, địa điểm.",
            owner: "000.00.04.H35", system: "du-an-dau-tu", kinds: &["specialised"],
            bases: &[DECREE_47, DECISION_07],
            national: none(),
            criteria: [signed, reference, (false, "Không trực tiếp phục vụ thủ tục hành chính")],
            datasets: vec![dataset("du-an-dau-tu", "Dự án đầu tư trên địa bàn tỉnh", "Danh mục dự án, chủ đầu tư, tổng vốn và tiến độ thực hiện.", &["dự án", "đầu tư"], "Doanh nghiệp", "restricted", "default", "monthly", ("Phòng Đầu tư", "dautu@skhdt.hanam.gov.vn"))],
            decision: ("2011/QĐ-UBND", "2023-03-20"),
        }),
        entry(Spec {
            code: "CSDL.KCB",
            name: "Cơ sở dữ liệu cơ sở khám, chữa bệnh",
            description: "Bệnh viện, trạm y tế, phòng khám được cấp phép hoạt động trên địa bàn tỉnh.",
            owner: "000.00.15.H35", system: "kham-chua-benh", kinds: &["open", "specialised"],
            bases: &[DECREE_47, DECISION_07],
            national: none(),
            criteria: [signed, reference, procedures],
            datasets: vec![dataset("co-so-kham-chua-benh", "Cơ sở khám, chữa bệnh", "Tên, địa chỉ, giấy phép, chuyên khoa của các cơ sở khám, chữa bệnh.", &["bệnh viện", "trạm y tế", "phòng khám"], "Y tế", "open", "open", "monthly", ("Phòng Nghiệp vụ Y", "nghiepvuy@syt.hanam.gov.vn"))],
            decision: ("1520/QĐ-UBND", "2022-08-15"),
        }),
        entry(Spec {
            code: "CSDL.TRUONGHOC",
            name: "Cơ sở dữ liệu trường học, giáo viên",
            description: "Trường học các cấp, quy mô lớp, học sinh và đội ngũ giáo viên của tỉnh.",
            owner: "000.00.14.H35", system: "truong-hoc", kinds: &["open", "specialised"],
            bases: &[DECREE_47, DECISION_07],
            national: json!({"databases": ["Cơ sở dữ liệu ngành giáo dục"], "overlaps": false}),
            criteria: [signed, reference, procedures],
            datasets: vec![dataset("truong-hoc", "Danh sách trường học", "Tên trường, cấp học, địa chỉ, số lớp, số học sinh.", &["trường học", "giáo dục"], "Giáo dục", "open", "open", "annual", ("Văn phòng Sở", "vanphong@sgddt.hanam.gov.vn"))],
            decision: ("2011/QĐ-UBND", "2023-03-20"),
        }),
        entry(Spec {
            code: "CSDL.HONGHEO",
            name: "Cơ sở dữ liệu hộ nghèo, hộ cận nghèo",
            description: "Hộ nghèo, cận nghèo theo kết quả rà soát hằng năm, phục vụ chính sách an sinh.",
            owner: "000.00.12.H35", system: "ho-ngheo", kinds: &["personal", "specialised"],
            bases: &[DECREE_47, DECREE_13],
            national: none(),
            criteria: [signed, reference, procedures],
            datasets: vec![dataset("ho-ngheo", "Hộ nghèo, hộ cận nghèo (dữ liệu mẫu)", "Thông tin hộ, thành viên, mức độ thiếu hụt dịch vụ xã hội cơ bản.", &["hộ nghèo", "an sinh"], "Lao động – Xã hội", "personal", "on_request", "annual", ("Phòng Bảo trợ xã hội", "btxh@sldtbxh.hanam.gov.vn"))],
            decision: ("3005/QĐ-UBND", "2024-06-10"),
        }),
        entry(Spec {
            code: "CSDL.DITICH",
            name: "Cơ sở dữ liệu di tích, điểm du lịch",
            description: "Di tích lịch sử – văn hóa, điểm du lịch và lễ hội truyền thống của Hà Nam.",
            owner: "000.00.13.H35", system: "di-tich-du-lich", kinds: &["open"],
            bases: &[DECREE_47, DECISION_07],
            national: none(),
            criteria: [(false, "Dữ liệu giới thiệu, không thay thế hồ sơ giấy"), not_master, (false, "Không phục vụ thủ tục hành chính")],
            datasets: vec![dataset("diem-du-lich", "Di tích và điểm du lịch", "Tên, địa chỉ, xếp hạng di tích, giờ mở cửa của các điểm du lịch.", &["di tích", "du lịch", "lễ hội"], "Văn hóa – Du lịch", "open", "open", "quarterly", ("Phòng Quản lý du lịch", "dulich@svhttdl.hanam.gov.vn"))],
            decision: ("3005/QĐ-UBND", "2024-06-10"),
        }),
        entry(Spec {
            code: "CSDL.TTHC",
            name: "Cơ sở dữ liệu thủ tục hành chính",
            description: "Thủ tục hành chính thuộc thẩm quyền giải quyết của các cấp chính quyền tỉnh Hà Nam.",
            owner: "000.00.01.H35", system: "thu-tuc-hanh-chinh", kinds: &["open", "master"],
            bases: &[DECREE_47, DECISION_07],
            national: json!({"databases": ["Cơ sở dữ liệu quốc gia về thủ tục hành chính"], "overlaps": true, "note": "Đồng bộ từ cơ sở dữ liệu quốc gia, bổ sung quy trình nội bộ của tỉnh"}),
            criteria: [signed, reference, procedures],
            datasets: vec![dataset("thu-tuc-hanh-chinh", "Danh mục thủ tục hành chính", "Tên thủ tục, cơ quan giải quyết, thời hạn, phí, lệ phí.", &["thủ tục hành chính", "dịch vụ công"], "Hành chính", "open", "open", "weekly", ("Phòng Kiểm soát thủ tục hành chính", "ksttthc@vpubnd.hanam.gov.vn"))],
            decision: ("1520/QĐ-UBND", "2022-08-15"),
        }),
        entry(Spec {
            code: "CSDL.QUANTRAC",
            name: "Cơ sở dữ liệu quan trắc môi trường",
            description: "Kết quả quan trắc không khí, nước mặt, nước thải tại các trạm tự động và định kỳ.",
            owner: "000.00.10.H35", system: "quan-trac", kinds: &["open", "specialised"],
            bases: &[DECREE_47, ("13/2017/TT-BTTTT", "2017-06-23", "Bộ Thông tin và Truyền thông", "Điều 4")],
            national: none(),
            criteria: [signed, reference, (false, "Không phục vụ thủ tục hành chính")],
            datasets: vec![{
                let mut d = dataset("quan-trac-khong-khi", "Chất lượng không khí", "Chỉ số chất lượng không khí (AQI) theo giờ tại các trạm quan trắc tự động.", &["không khí", "AQI", "môi trường"], "Môi trường", "open", "open", "continuous", ("Trung tâm Quan trắc", "quantrac@stnmt.hanam.gov.vn"));
                d["fee_note"] = json!("Miễn phí theo Nghị định 47/2020/NĐ-CP");
                d
            }],
            decision: ("3005/QĐ-UBND", "2024-06-10"),
        }),
        entry(Spec {
            code: "DM.DVHC",
            name: "Danh mục đơn vị hành chính",
            description: "Danh mục dùng chung các đơn vị hành chính cấp tỉnh, huyện, xã theo mã của Tổng cục Thống kê, kèm bảng chuyển đổi mã sau sắp xếp năm 2025.",
            owner: "000.00.02.H35", system: "don-vi-hanh-chinh", kinds: &["code_list", "master", "open"],
            bases: &[DECREE_47, ("19/2025/QĐ-TTg", "2025-06-30", "Thủ tướng Chính phủ", "Điều 1")],
            national: json!({"databases": ["Danh mục đơn vị hành chính Việt Nam"], "overlaps": false}),
            criteria: [signed, reference, procedures],
            datasets: vec![dataset("don-vi-hanh-chinh", "Đơn vị hành chính tỉnh Hà Nam", "Mã, tên, cấp của các đơn vị hành chính và hiệu lực theo thời gian.", &["đơn vị hành chính", "mã xã", "danh mục"], "Hành chính", "open", "open", "irregular", ("Phòng Xây dựng chính quyền", "xdcq@snv.hanam.gov.vn"))],
            decision: ("1520/QĐ-UBND", "2022-08-15"),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use lgsp_core::catalog::{AccessLevel, DataKind, SharingMode};

    use super::*;
    use crate::demo::province;

    #[test]
    fn the_demo_catalog_is_consistent_with_the_demo_province() {
        let province = province::province();
        let entries = catalog();
        assert!(entries.len() >= 12);
        let mut codes = HashSet::new();
        let mut datasets = HashSet::new();
        let (mut access, mut sharing, mut kinds) = (HashSet::new(), HashSet::new(), HashSet::new());
        for demo in &entries {
            let e = &demo.entry;
            assert!(codes.insert(e.code.clone()), "{} twice", e.code);
            let owner = province
                .iter()
                .find(|a| a.agency.code == e.owner)
                .unwrap_or_else(|| panic!("{}: no agency {}", e.code, e.owner));
            assert!(
                owner.systems.iter().any(|s| s.code == e.managing_system),
                "{}: {} has no system {}",
                e.code,
                e.owner,
                e.managing_system
            );
            assert!(e.state_secret().is_none());
            kinds.extend(e.data_kinds.iter().copied());
            for d in &e.datasets {
                assert!(datasets.insert(d.id.clone()), "dataset {} twice", d.id);
                access.insert(d.access_level);
                sharing.insert(d.sharing_mode);
            }
        }
        assert_eq!(access.len(), AccessLevel::ALL.len());
        assert_eq!(sharing.len(), SharingMode::ALL.len());
        assert_eq!(kinds.len(), DataKind::ALL.len());
        assert!(entries.iter().any(|d| d.entry.national_relation.overlaps));
    }
}
