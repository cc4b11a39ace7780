//! The demo catalog of shared databases (*danh mục cơ sở dữ liệu dùng chung*): thirteen entries
//! of the kind a provincial catalog holds (Decision 07/2021/QĐ-UBND art. 5, DEMO.md), each with
//! the decision of the People's Committee that approved it.
//!
//! SAMPLE DATA. The decision numbers and dates, the contact units, telephone numbers and e-mail
//! addresses and the dataset descriptions are invented for the demo, and any person a dataset
//! mentions is fictitious. The legal documents cited are real and are kept as data (number,
//! date, issuer, article): the law changes (Decree 278/2025/NĐ-CP and the Data Law 2024 succeed
//! parts of these), and a later version of an entry cites the documents in force then.
//!
//! The integration tests search and publish this catalog and count on its shape (13 datasets;
//! `gia-dat` and `thua-dat` the only ones matching "đất đai"; `so-hoa-ho-tich` the only one of
//! Sở Tư pháp; three personal datasets; three datasets in force from 2024 on; …): change it
//! together with `tests/integration/publication.rs`, `records.rs` and `clients.rs`.

use chrono::NaiveDate;
use lgsp_core::catalog::EntryContent;
use serde_json::{json, Value};

use super::province;

/// One entry of the demo catalog and the (sample) decision that approved it.
pub struct DemoEntry {
    pub entry: EntryContent,
    pub decision_number: &'static str,
    pub decision_date: NaiveDate,
}

/// A decision of the People's Committee approving a batch of entries (sample number and date).
struct Approval {
    number: &'static str,
    date: &'static str,
}

/// The first catalog under the regulation.
const APPROVAL_2022: Approval = Approval {
    number: "1520/QĐ-UBND",
    date: "2022-08-15",
};
const APPROVAL_2023_MARCH: Approval = Approval {
    number: "2011/QĐ-UBND",
    date: "2023-03-20",
};
/// After Decree 13/2023/NĐ-CP (17/04/2023), which the entries holding personal data cite.
const APPROVAL_2023_OCTOBER: Approval = Approval {
    number: "2468/QĐ-UBND",
    date: "2023-10-25",
};
/// After the Land Law 2024 took effect (01/08/2024).
const APPROVAL_2024: Approval = Approval {
    number: "2150/QĐ-UBND",
    date: "2024-09-20",
};
/// The code list moves to the codes of Decision 19/2025/QĐ-TTg, issued the same day and in force
/// from 01/07/2025, the day the province was merged (sample: the last decision of the 2021
/// structure).
const APPROVAL_2025: Approval = Approval {
    number: "1432/QĐ-UBND",
    date: "2025-06-30",
};

/// A legal document as the catalog cites it.
struct Document {
    number: &'static str,
    date: &'static str,
    issuer: &'static str,
}

impl Document {
    /// The document cited at one article (or chapter).
    fn at(&self, article: &str) -> Value {
        json!({
            "number": self.number,
            "date": self.date,
            "issuer": self.issuer,
            "article": article
        })
    }

    /// The document cited as a whole.
    fn whole(&self) -> Value {
        json!({"number": self.number, "date": self.date, "issuer": self.issuer})
    }
}

/// Decree 47/2020/NĐ-CP on managing, connecting and sharing digital data; art. 11 is the catalog.
const DECREE_47_2020: Document = Document {
    number: "47/2020/NĐ-CP",
    date: "2020-04-09",
    issuer: "Chính phủ",
};
/// The regulation itself; the date is the one printed on it (/work/shared/seed), in force from
/// 22/04/2021.
const REGULATION_07_2021: Document = Document {
    number: "07/2021/QĐ-UBND",
    date: "2021-04-09",
    issuer: "Ủy ban nhân dân tỉnh Hà Nam",
};
/// Technical requirements for connecting to national databases.
const CIRCULAR_13_2017: Document = Document {
    number: "13/2017/TT-BTTTT",
    date: "2017-06-23",
    issuer: "Bộ Thông tin và Truyền thông",
};
/// Personal data protection: art. 9 the data subject's rights, art. 11 consent.
const DECREE_13_2023: Document = Document {
    number: "13/2023/NĐ-CP",
    date: "2023-04-17",
    issuer: "Chính phủ",
};
/// The Land Law 2024: art. 159 the land price table, chapter XII the land information system.
const LAND_LAW_2024: Document = Document {
    number: "31/2024/QH15",
    date: "2024-01-18",
    issuer: "Quốc hội",
};
/// The Law on Civil Status 2014: art. 75 keeps paper registers valid as evidence.
const CIVIL_STATUS_LAW_2014: Document = Document {
    number: "60/2014/QH13",
    date: "2014-11-20",
    issuer: "Quốc hội",
};
/// The electronic civil-status database; art. 24 has the provinces digitise paper registers.
const DECREE_87_2020: Document = Document {
    number: "87/2020/NĐ-CP",
    date: "2020-07-28",
    issuer: "Chính phủ",
};
/// The list and codes of Viet Nam's administrative units from 01/07/2025.
const ADMINISTRATIVE_UNITS_19_2025: Document = Document {
    number: "19/2025/QĐ-TTg",
    date: "2025-06-30",
    issuer: "Thủ tướng Chính phủ",
};

// The owners, by their (sample) codes in `province`.
const PROVINCIAL_OFFICE: &str = "000.00.01.H35";
const HOME_AFFAIRS: &str = "000.00.02.H35";
const PLANNING_AND_INVESTMENT: &str = "000.00.04.H35";
const NATURAL_RESOURCES: &str = "000.00.10.H35";
const LABOUR_AND_SOCIAL_AFFAIRS: &str = "000.00.12.H35";
const CULTURE_AND_TOURISM: &str = "000.00.13.H35";
const EDUCATION: &str = "000.00.14.H35";
const HEALTH: &str = "000.00.15.H35";

/// The themes of the demo datasets: one small shared vocabulary, so the theme facet groups.
mod theme {
    pub const ADMINISTRATION: &str = "Hành chính";
    pub const BUSINESS: &str = "Doanh nghiệp";
    pub const CULTURE_AND_TOURISM: &str = "Văn hóa – Du lịch";
    pub const EDUCATION: &str = "Giáo dục";
    pub const ENVIRONMENT: &str = "Môi trường";
    pub const HEALTH: &str = "Y tế";
    pub const JUSTICE: &str = "Tư pháp";
    pub const LABOUR_AND_SOCIAL_AFFAIRS: &str = "Lao động – Xã hội";
    pub const LAND: &str = "Đất đai";

    #[cfg(test)]
    pub const ALL: [&str; 9] = [
        ADMINISTRATION,
        BUSINESS,
        CULTURE_AND_TOURISM,
        EDUCATION,
        ENVIRONMENT,
        HEALTH,
        JUSTICE,
        LABOUR_AND_SOCIAL_AFFAIRS,
        LAND,
    ];
}

/// The licence of open data.
const OPEN_LICENCE: &str = "CC-BY-4.0";
/// The licence of everything else: the provider's terms, spelt out in `terms_of_use`.
const PROVINCE_TERMS: &str = "Điều khoản sử dụng dữ liệu dùng chung tỉnh Hà Nam";

/// A review criterion of Q5.3 that the entry meets, and why.
fn met(justification: &str) -> Value {
    json!({"met": true, "justification": justification})
}

/// A review criterion of Q5.3 that the entry does not meet, and why.
fn not_met(justification: &str) -> Value {
    json!({"met": false, "justification": justification})
}

/// A dataset's contact: a unit of the owner, its address at the owner's domain, maybe a phone.
fn contact(unit: &str, email: &str, phone: Option<&str>) -> Value {
    json!({"name": unit, "email": email, "phone": phone})
}

/// An entry as approved: `content` is what the proposal carried.
fn approved(approval: &Approval, content: Value) -> DemoEntry {
    let code = content["code"].to_string();
    DemoEntry {
        entry: serde_json::from_value(content)
            .unwrap_or_else(|error| panic!("demo entry {code} is invalid: {error}")),
        decision_number: approval.number,
        decision_date: approval
            .date
            .parse()
            .expect("demo decision dates are valid"),
    }
}

/// The demo catalog, in code order.
pub fn catalog() -> Vec<DemoEntry> {
    vec![
        approved(
            &APPROVAL_2023_OCTOBER,
            json!({
                "code": "CSDL.CBCCVC",
                "name": "Cơ sở dữ liệu cán bộ, công chức, viên chức",
                "description": "Hồ sơ điện tử của cán bộ, công chức, viên chức các cơ quan, đơn \
                    vị thuộc tỉnh Hà Nam: lý lịch, quá trình công tác, ngạch, bậc lương, đào tạo, \
                    bồi dưỡng, khen thưởng và kỷ luật. Là nguồn dữ liệu gốc về nhân sự khu vực \
                    công để các hệ thống quản lý tiền lương, thi đua, đánh giá của tỉnh đồng bộ.",
                "owner": HOME_AFFAIRS,
                "managing_system": "can-bo",
                "legal_bases": [
                    DECREE_47_2020.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5"),
                    DECREE_13_2023.at("Điều 9")
                ],
                "data_kinds": ["master", "personal"],
                "national_relation": {
                    "databases": [
                        "Cơ sở dữ liệu quốc gia về cán bộ, công chức, viên chức trong các cơ quan \
                         nhà nước"
                    ],
                    "overlaps": false,
                    "note": "Tỉnh là nơi cập nhật hồ sơ; dữ liệu được đồng bộ lên cơ sở dữ liệu \
                        quốc gia do Bộ Nội vụ quản lý, không thu thập lại từ đó."
                },
                "criteria": {
                    "legal_value": met(
                        "Hồ sơ được cập nhật từ quyết định tuyển dụng, nâng lương, bổ nhiệm đã \
                         ký số; bản điện tử có giá trị như hồ sơ giấy."
                    ),
                    "master_data": met(
                        "Là dữ liệu chủ về nhân sự khu vực công của tỉnh; các hệ thống tiền \
                         lương, thi đua khen thưởng tham chiếu theo mã hồ sơ."
                    ),
                    "administrative_procedures": not_met(
                        "Phục vụ quản lý nội bộ, không trực tiếp phục vụ giải quyết thủ tục hành \
                         chính cho người dân, doanh nghiệp."
                    )
                },
                "datasets": [{
                    "id": "ho-so-can-bo",
                    "title": "Hồ sơ cán bộ, công chức, viên chức",
                    "description": "Lý lịch, quá trình công tác, chức vụ, ngạch, bậc lương của \
                        từng cán bộ, công chức, viên chức trong tỉnh. Chỉ cung cấp cho cơ quan có \
                        thẩm quyền quản lý nhân sự theo đề nghị chia sẻ.",
                    "keywords": ["cán bộ", "công chức", "viên chức", "nhân sự"],
                    "themes": [theme::ADMINISTRATION],
                    "access_level": "personal",
                    "sharing_mode": "on_request",
                    "update_frequency": "continuous",
                    "licence": PROVINCE_TERMS,
                    "terms_of_use": "Dữ liệu cá nhân: chỉ khai thác để quản lý cán bộ, công chức, \
                        viên chức theo thẩm quyền và đúng mục đích nêu trong đề nghị chia sẻ; xử \
                        lý theo Nghị định 13/2023/NĐ-CP; không cung cấp cho bên thứ ba; ghi rõ \
                        nguồn và thời điểm khai thác (Điều 14 Quy chế ban hành kèm theo Quyết \
                        định 07/2021/QĐ-UBND).",
                    "contact": contact(
                        "Phòng Công chức, viên chức",
                        "ccvc@snv.hanam.gov.vn",
                        Some("0226 3851 415")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2024,
            json!({
                "code": "CSDL.DATDAI",
                "name": "Cơ sở dữ liệu đất đai",
                "description": "Dữ liệu địa chính của tỉnh: thửa đất, người sử dụng đất, quyền sử \
                    dụng đất, tài sản gắn liền với đất và biến động đất đai, cùng bản đồ địa chính \
                    dạng số. Được cập nhật khi đăng ký đất đai, cấp giấy chứng nhận và đăng ký \
                    biến động.",
                "owner": NATURAL_RESOURCES,
                "managing_system": "dat-dai",
                "legal_bases": [
                    LAND_LAW_2024.at("Chương XII"),
                    DECREE_47_2020.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5")
                ],
                "data_kinds": ["master", "specialised"],
                "national_relation": {
                    "databases": ["Cơ sở dữ liệu quốc gia về đất đai"],
                    "overlaps": false,
                    "note": "Tỉnh xây dựng, cập nhật phần dữ liệu đất đai của địa phương, là một \
                        thành phần của cơ sở dữ liệu quốc gia; không thu thập lại dữ liệu đã có ở \
                        cơ sở dữ liệu quốc gia."
                },
                "criteria": {
                    "legal_value": met(
                        "Thông tin thửa đất được cập nhật từ hồ sơ đăng ký đất đai do cơ quan có \
                         thẩm quyền ký số."
                    ),
                    "master_data": met(
                        "Là dữ liệu chủ về thửa đất; quy hoạch, xây dựng, thuế và giá đất tham \
                         chiếu theo mã thửa."
                    ),
                    "administrative_procedures": met(
                        "Phục vụ các thủ tục đăng ký đất đai, cấp giấy chứng nhận; người dân \
                         không phải nộp lại bản sao giấy tờ về đất."
                    )
                },
                "datasets": [{
                    "id": "thua-dat",
                    "title": "Thửa đất và bản đồ địa chính",
                    "description": "Số tờ, số thửa, diện tích, loại đất, người sử dụng đất và \
                        lịch sử biến động của từng thửa đất, cùng bản đồ địa chính dạng số của các \
                        xã, phường, thị trấn. Chỉ chia sẻ cho cơ quan nhà nước theo đề nghị chia \
                        sẻ.",
                    "keywords": ["thửa đất", "địa chính", "bản đồ địa chính", "quyền sử dụng đất"],
                    "themes": [theme::LAND],
                    "access_level": "restricted",
                    "sharing_mode": "on_request",
                    "update_frequency": "continuous",
                    "licence": PROVINCE_TERMS,
                    "terms_of_use": "Dữ liệu chuyên ngành hạn chế: chỉ khai thác phục vụ quản lý \
                        nhà nước và giải quyết thủ tục hành chính theo đề nghị chia sẻ đã được \
                        chấp thuận. Thông tin về người sử dụng đất là dữ liệu cá nhân, được xử lý \
                        theo quy định về bảo vệ dữ liệu cá nhân; không cung cấp cho bên thứ ba; \
                        ghi rõ nguồn và thời điểm khai thác.",
                    "fee_note": "Phí khai thác, sử dụng tài liệu đất đai theo Thông tư \
                        56/2024/TT-BTC ngày 31/07/2024 của Bộ Tài chính",
                    "contact": contact(
                        "Văn phòng Đăng ký đất đai",
                        "vpdkdd@stnmt.hanam.gov.vn",
                        Some("0226 3852 190")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2023_MARCH,
            json!({
                "code": "CSDL.DITICH",
                "name": "Cơ sở dữ liệu di tích, điểm du lịch",
                "description": "Thông tin về di tích lịch sử – văn hóa, danh lam thắng cảnh, điểm \
                    du lịch và lễ hội truyền thống trên địa bàn tỉnh Hà Nam. Phục vụ quản lý, bảo \
                    tồn di tích và quảng bá du lịch; là nguồn dữ liệu của Cổng thông tin du lịch \
                    Hà Nam.",
                "owner": CULTURE_AND_TOURISM,
                "managing_system": "di-tich-du-lich",
                "legal_bases": [DECREE_47_2020.at("Điều 11"), REGULATION_07_2021.at("Điều 5")],
                "data_kinds": ["open"],
                "national_relation": {"databases": [], "overlaps": false},
                "criteria": {
                    "legal_value": not_met(
                        "Dữ liệu giới thiệu, quảng bá; không thay thế hồ sơ xếp hạng di tích bản \
                         giấy."
                    ),
                    "master_data": met(
                        "Là danh mục di tích, điểm du lịch tham chiếu cho Cổng thông tin du lịch \
                         và bản đồ số của tỉnh."
                    ),
                    "administrative_procedures": not_met(
                        "Không phục vụ giải quyết thủ tục hành chính."
                    )
                },
                "datasets": [{
                    "id": "diem-du-lich",
                    "title": "Di tích và điểm du lịch",
                    "description": "Tên, địa chỉ, loại hình, cấp xếp hạng, tọa độ và giờ mở cửa \
                        của các di tích, danh lam thắng cảnh và điểm du lịch của Hà Nam; lịch các \
                        lễ hội truyền thống.",
                    "keywords": ["di tích", "du lịch", "lễ hội", "danh lam thắng cảnh"],
                    "themes": [theme::CULTURE_AND_TOURISM],
                    "access_level": "open",
                    "sharing_mode": "open",
                    "update_frequency": "quarterly",
                    "licence": OPEN_LICENCE,
                    "contact": contact(
                        "Phòng Quản lý du lịch",
                        "dulich@svhttdl.hanam.gov.vn",
                        None
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2022,
            json!({
                "code": "CSDL.DKDN",
                "name": "Cơ sở dữ liệu đăng ký doanh nghiệp",
                "description": "Thông tin đăng ký của doanh nghiệp, chi nhánh, văn phòng đại diện \
                    có trụ sở trên địa bàn tỉnh, đồng bộ hằng ngày từ Hệ thống thông tin quốc gia \
                    về đăng ký doanh nghiệp. Giúp các sở, ngành và UBND cấp huyện tra cứu thông \
                    tin doanh nghiệp qua LGSP mà không phải kết nối riêng với hệ thống quốc gia.",
                "owner": PLANNING_AND_INVESTMENT,
                "managing_system": "dang-ky-doanh-nghiep",
                "legal_bases": [
                    DECREE_47_2020.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5"),
                    CIRCULAR_13_2017.whole()
                ],
                "data_kinds": ["specialised"],
                "national_relation": {
                    "databases": ["Hệ thống thông tin quốc gia về đăng ký doanh nghiệp"],
                    "overlaps": true,
                    "note": "Tỉnh chỉ giữ bản sao chỉ đọc, đồng bộ hằng ngày, để các hệ thống \
                        trong tỉnh khai thác qua LGSP; việc đăng ký và mọi thay đổi vẫn thực hiện \
                        trên hệ thống quốc gia, nơi giữ dữ liệu gốc."
                },
                "criteria": {
                    "legal_value": met(
                        "Dữ liệu được đồng bộ nguyên trạng từ hệ thống quốc gia, nơi lưu hồ sơ \
                         đăng ký doanh nghiệp có giá trị pháp lý."
                    ),
                    "master_data": not_met(
                        "Dữ liệu chủ thuộc hệ thống quốc gia; tỉnh chỉ lưu bản sao."
                    ),
                    "administrative_procedures": met(
                        "Các cơ quan tra cứu thông tin doanh nghiệp khi giải quyết thủ tục, không \
                         yêu cầu doanh nghiệp nộp bản sao Giấy chứng nhận đăng ký doanh nghiệp."
                    )
                },
                "datasets": [{
                    "id": "doanh-nghiep",
                    "title": "Doanh nghiệp đang hoạt động trên địa bàn tỉnh",
                    "description": "Tên, mã số doanh nghiệp, địa chỉ trụ sở chính, ngành nghề \
                        kinh doanh chính, ngày thành lập và tình trạng hoạt động của các doanh \
                        nghiệp có trụ sở tại Hà Nam.",
                    "keywords": ["doanh nghiệp", "mã số doanh nghiệp", "đăng ký kinh doanh"],
                    "themes": [theme::BUSINESS],
                    "access_level": "public",
                    "sharing_mode": "default",
                    "update_frequency": "daily",
                    "licence": PROVINCE_TERMS,
                    "terms_of_use": "Thông tin công khai theo quy định về đăng ký doanh nghiệp, \
                        chia sẻ mặc định cho hệ thống thông tin của cơ quan nhà nước đã đăng ký \
                        qua LGSP. Thông tin có giá trị xác nhận được tra cứu trên Cổng thông tin \
                        quốc gia về đăng ký doanh nghiệp; ghi rõ nguồn và thời điểm khai thác.",
                    "contact": contact(
                        "Phòng Đăng ký kinh doanh",
                        "dkkd@skhdt.hanam.gov.vn",
                        Some("0226 3853 521")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2023_MARCH,
            json!({
                "code": "CSDL.DUANDAUTU",
                "name": "Cơ sở dữ liệu dự án đầu tư",
                "description": "Dự án đầu tư công và dự án đầu tư ngoài ngân sách trên địa bàn \
                    tỉnh: chủ đầu tư, nhà đầu tư, địa điểm, quy mô, tổng vốn, tiến độ thực hiện \
                    và giải ngân. Phục vụ theo dõi, đánh giá đầu tư và điều hành kế hoạch phát \
                    triển kinh tế – xã hội.",
                "owner": PLANNING_AND_INVESTMENT,
                "managing_system": "du-an-dau-tu",
                "legal_bases": [DECREE_47_2020.at("Điều 11"), REGULATION_07_2021.at("Điều 5")],
                "data_kinds": ["specialised"],
                "national_relation": {
                    "databases": [
                        "Hệ thống thông tin quốc gia về đầu tư công",
                        "Hệ thống thông tin quốc gia về đầu tư"
                    ],
                    "overlaps": false,
                    "note": "Tỉnh báo cáo kế hoạch, tiến độ lên các hệ thống quốc gia; phần theo \
                        dõi chi tiết tiến độ, giải phóng mặt bằng của tỉnh không có trên các hệ \
                        thống đó."
                },
                "criteria": {
                    "legal_value": not_met(
                        "Là dữ liệu tổng hợp để theo dõi; văn bản có giá trị pháp lý vẫn là quyết \
                         định chủ trương đầu tư, giấy chứng nhận đăng ký đầu tư."
                    ),
                    "master_data": met(
                        "Là danh mục dự án tham chiếu chung cho các sở, ngành và UBND cấp huyện \
                         khi theo dõi, báo cáo."
                    ),
                    "administrative_procedures": not_met(
                        "Không trực tiếp phục vụ giải quyết thủ tục hành chính."
                    )
                },
                "datasets": [{
                    "id": "du-an-dau-tu",
                    "title": "Dự án đầu tư trên địa bàn tỉnh",
                    "description": "Tên dự án, chủ đầu tư hoặc nhà đầu tư, địa điểm, quy mô, \
                        tổng vốn, tiến độ thực hiện và giải ngân của các dự án đầu tư công và dự \
                        án ngoài ngân sách.",
                    "keywords": ["dự án", "đầu tư công", "nhà đầu tư", "tiến độ"],
                    "themes": [theme::BUSINESS],
                    "access_level": "restricted",
                    "sharing_mode": "default",
                    "update_frequency": "monthly",
                    "licence": PROVINCE_TERMS,
                    "terms_of_use": "Dữ liệu chuyên ngành hạn chế: chia sẻ mặc định cho hệ thống \
                        thông tin của cơ quan nhà nước để quản lý, theo dõi đầu tư. Không công bố, \
                        không cung cấp cho bên thứ ba thông tin về nhà đầu tư và tiến độ giải \
                        ngân; ghi rõ nguồn và thời điểm khai thác.",
                    "contact": contact("Phòng Đầu tư", "dautu@skhdt.hanam.gov.vn", None)
                }]
            }),
        ),
        approved(
            &APPROVAL_2024,
            json!({
                "code": "CSDL.GIADAT",
                "name": "Cơ sở dữ liệu giá đất",
                "description": "Bảng giá đất do Ủy ban nhân dân tỉnh ban hành và các lần điều \
                    chỉnh, theo từng loại đất, tuyến đường, khu vực và vị trí. Dùng để tính tiền \
                    sử dụng đất, tiền thuê đất, thuế và lệ phí liên quan đến đất đai.",
                "owner": NATURAL_RESOURCES,
                "managing_system": "dat-dai",
                "legal_bases": [
                    LAND_LAW_2024.at("Điều 159"),
                    DECREE_47_2020.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5")
                ],
                "data_kinds": ["open", "specialised"],
                "national_relation": {
                    "databases": ["Cơ sở dữ liệu quốc gia về đất đai"],
                    "overlaps": false,
                    "note": "Bảng giá đất do tỉnh ban hành; tỉnh là nguồn cập nhật phần giá đất \
                        của cơ sở dữ liệu quốc gia."
                },
                "criteria": {
                    "legal_value": met(
                        "Giá đất được lấy từ quyết định ban hành bảng giá đất của UBND tỉnh đã ký \
                         số, đăng Công báo tỉnh."
                    ),
                    "master_data": met(
                        "Là nguồn tham chiếu giá đất cho các hệ thống thuế, tài chính và bồi \
                         thường, giải phóng mặt bằng của tỉnh."
                    ),
                    "administrative_procedures": met(
                        "Phục vụ tính tiền sử dụng đất, lệ phí trước bạ trong các thủ tục đất đai."
                    )
                },
                "datasets": [{
                    "id": "gia-dat",
                    "title": "Bảng giá đất tỉnh Hà Nam",
                    "description": "Giá từng loại đất theo tuyến đường, khu vực và vị trí tại các \
                        huyện, thị xã, thành phố, áp dụng trên địa bàn tỉnh theo quyết định của Ủy \
                        ban nhân dân tỉnh.",
                    "keywords": ["giá đất", "bảng giá đất", "tiền sử dụng đất"],
                    "themes": [theme::LAND],
                    "access_level": "open",
                    "sharing_mode": "open",
                    "update_frequency": "annual",
                    "licence": OPEN_LICENCE,
                    "contact": contact(
                        "Chi cục Quản lý đất đai",
                        "giadat@stnmt.hanam.gov.vn",
                        Some("0226 3852 176")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2023_OCTOBER,
            json!({
                "code": "CSDL.HONGHEO",
                "name": "Cơ sở dữ liệu hộ nghèo, hộ cận nghèo",
                "description": "Danh sách hộ nghèo, hộ cận nghèo theo kết quả rà soát hằng năm \
                    của các xã, phường, thị trấn, với thông tin thành viên hộ và mức độ thiếu hụt \
                    dịch vụ xã hội cơ bản. Là căn cứ thực hiện các chính sách giảm nghèo, bảo \
                    hiểm y tế, hỗ trợ học phí và tín dụng ưu đãi.",
                "owner": LABOUR_AND_SOCIAL_AFFAIRS,
                "managing_system": "ho-ngheo",
                "legal_bases": [
                    DECREE_47_2020.at("Điều 11"),
                    DECREE_13_2023.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5")
                ],
                "data_kinds": ["personal", "specialised"],
                "national_relation": {"databases": [], "overlaps": false},
                "criteria": {
                    "legal_value": met(
                        "Danh sách được lập từ quyết định công nhận hộ nghèo, hộ cận nghèo của \
                         Chủ tịch UBND cấp xã."
                    ),
                    "master_data": met(
                        "Là dữ liệu gốc để các hệ thống bảo hiểm y tế, giáo dục và tín dụng chính \
                         sách đối chiếu đối tượng thụ hưởng."
                    ),
                    "administrative_procedures": met(
                        "Người dân không phải nộp giấy xác nhận hộ nghèo khi làm thủ tục miễn, \
                         giảm học phí hay cấp thẻ bảo hiểm y tế."
                    )
                },
                "datasets": [{
                    "id": "ho-ngheo",
                    "title": "Hộ nghèo, hộ cận nghèo (dữ liệu mẫu)",
                    "description": "Chủ hộ, thành viên, địa bàn, mức thu nhập bình quân và các \
                        chỉ số thiếu hụt dịch vụ xã hội cơ bản của hộ nghèo, hộ cận nghèo theo kết \
                        quả rà soát hằng năm. Trong bản trình diễn, mọi hộ và mọi người đều là giả \
                        định.",
                    "keywords": ["hộ nghèo", "hộ cận nghèo", "an sinh xã hội", "giảm nghèo"],
                    "themes": [theme::LABOUR_AND_SOCIAL_AFFAIRS],
                    "access_level": "personal",
                    "sharing_mode": "on_request",
                    "update_frequency": "annual",
                    "licence": PROVINCE_TERMS,
                    "terms_of_use": "Dữ liệu cá nhân: chỉ cung cấp cho cơ quan thực hiện chính \
                        sách an sinh xã hội, đúng đối tượng và mục đích nêu trong đề nghị chia sẻ; \
                        xử lý theo Nghị định 13/2023/NĐ-CP, bảo đảm quyền của chủ thể dữ liệu; \
                        không công bố, không cung cấp cho bên thứ ba.",
                    "contact": contact(
                        "Phòng Bảo trợ xã hội",
                        "btxh@sldtbxh.hanam.gov.vn",
                        Some("0226 3852 241")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2023_MARCH,
            json!({
                "code": "CSDL.HOTICH",
                "name": "Cơ sở dữ liệu hộ tịch điện tử",
                "description": "Dữ liệu hộ tịch của cá nhân do các cơ quan đăng ký hộ tịch trong \
                    tỉnh quản lý: khai sinh, kết hôn, khai tử và các việc hộ tịch khác. Phần tỉnh \
                    lưu giữ là dữ liệu số hóa từ sổ hộ tịch giấy, phục vụ cấp bản sao trích lục \
                    và xác nhận thông tin hộ tịch.",
                "owner": province::JUSTICE,
                "managing_system": "ho-tich",
                "legal_bases": [
                    CIVIL_STATUS_LAW_2014.at("Điều 75"),
                    DECREE_87_2020.at("Điều 24"),
                    DECREE_47_2020.at("Điều 11")
                ],
                "data_kinds": ["personal", "specialised"],
                "national_relation": {
                    "databases": ["Cơ sở dữ liệu hộ tịch điện tử toàn quốc"],
                    "overlaps": true,
                    "note": "Việc đăng ký hộ tịch mới được cập nhật trực tiếp vào Cơ sở dữ liệu \
                        hộ tịch điện tử toàn quốc của Bộ Tư pháp, nên tỉnh không lưu lại. Tỉnh chỉ \
                        giữ phần chưa có trên cơ sở dữ liệu toàn quốc: dữ liệu số hóa từ sổ hộ \
                        tịch giấy, chuyển dần lên khi đã đối chiếu, chuẩn hóa."
                },
                "criteria": {
                    "legal_value": met(
                        "Dữ liệu số hóa được đối chiếu với sổ gốc và ký số; sổ hộ tịch lưu trữ \
                         vẫn có giá trị chứng minh sự kiện hộ tịch (Điều 75 Luật Hộ tịch)."
                    ),
                    "master_data": not_met(
                        "Dữ liệu chủ về hộ tịch là Cơ sở dữ liệu hộ tịch điện tử toàn quốc; tỉnh \
                         chỉ giữ phần bổ sung."
                    ),
                    "administrative_procedures": met(
                        "Phục vụ cấp bản sao trích lục hộ tịch, xác nhận thông tin hộ tịch mà \
                         người dân không phải xuất trình giấy tờ."
                    )
                },
                "datasets": [{
                    "id": "so-hoa-ho-tich",
                    "title": "Sổ hộ tịch đã số hóa",
                    "description": "Dữ liệu số hóa từ sổ đăng ký khai sinh, kết hôn, khai tử lưu \
                        tại các cơ quan đăng ký hộ tịch trong tỉnh, chưa có trên Cơ sở dữ liệu hộ \
                        tịch điện tử toàn quốc. Trong bản trình diễn, mọi cá nhân đều là giả định.",
                    "keywords": ["hộ tịch", "khai sinh", "kết hôn", "khai tử"],
                    "themes": [theme::JUSTICE],
                    "access_level": "personal",
                    "sharing_mode": "on_request",
                    "update_frequency": "monthly",
                    "licence": PROVINCE_TERMS,
                    "terms_of_use": "Dữ liệu cá nhân về hộ tịch: chỉ cung cấp cho cơ quan có thẩm \
                        quyền để giải quyết thủ tục hành chính hoặc khi chủ thể dữ liệu đồng ý, \
                        theo quy định về bảo vệ dữ liệu cá nhân; không công bố, không cung cấp cho \
                        bên thứ ba; ghi rõ nguồn và thời điểm khai thác.",
                    "contact": contact(
                        "Phòng Hành chính tư pháp",
                        "hctp@stp.hanam.gov.vn",
                        Some("0226 3852 369")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2022,
            json!({
                "code": "CSDL.KCB",
                "name": "Cơ sở dữ liệu cơ sở khám bệnh, chữa bệnh",
                "description": "Thông tin về các cơ sở khám bệnh, chữa bệnh công lập và ngoài \
                    công lập được cấp giấy phép hoạt động trên địa bàn tỉnh: bệnh viện, trung tâm \
                    y tế, trạm y tế xã, phòng khám. Phục vụ cấp phép, thanh tra, khám chữa bệnh \
                    bảo hiểm y tế và giúp người dân tìm nơi khám.",
                "owner": HEALTH,
                "managing_system": "kham-chua-benh",
                "legal_bases": [DECREE_47_2020.at("Điều 11"), REGULATION_07_2021.at("Điều 5")],
                "data_kinds": ["open", "specialised"],
                "national_relation": {"databases": [], "overlaps": false},
                "criteria": {
                    "legal_value": met(
                        "Thông tin được cập nhật từ giấy phép hoạt động đã ký số của Sở Y tế."
                    ),
                    "master_data": met(
                        "Là danh mục cơ sở khám bệnh, chữa bệnh tham chiếu cho các hệ thống bảo \
                         hiểm y tế và y tế cơ sở của tỉnh."
                    ),
                    "administrative_procedures": met(
                        "Phục vụ thủ tục cấp, điều chỉnh giấy phép hoạt động khám bệnh, chữa bệnh."
                    )
                },
                "datasets": [{
                    "id": "co-so-kham-chua-benh",
                    "title": "Cơ sở khám bệnh, chữa bệnh",
                    "description": "Tên, địa chỉ, số giấy phép hoạt động, hình thức tổ chức, phạm \
                        vi chuyên môn và giờ làm việc của bệnh viện, trung tâm y tế, trạm y tế xã \
                        và phòng khám trên địa bàn tỉnh.",
                    "keywords": ["bệnh viện", "trạm y tế", "phòng khám", "khám chữa bệnh"],
                    "themes": [theme::HEALTH],
                    "access_level": "open",
                    "sharing_mode": "open",
                    "update_frequency": "monthly",
                    "licence": OPEN_LICENCE,
                    "contact": contact(
                        "Phòng Nghiệp vụ Y",
                        "nghiepvuy@syt.hanam.gov.vn",
                        Some("0226 3852 067")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2023_OCTOBER,
            json!({
                "code": "CSDL.QUANTRAC",
                "name": "Cơ sở dữ liệu quan trắc môi trường",
                "description": "Kết quả quan trắc môi trường không khí, nước mặt và nước thải tại \
                    các trạm quan trắc tự động, liên tục và các đợt quan trắc định kỳ trên địa bàn \
                    tỉnh. Phục vụ cảnh báo ô nhiễm, kiểm soát nguồn thải và công bố thông tin môi \
                    trường cho người dân.",
                "owner": NATURAL_RESOURCES,
                "managing_system": "quan-trac",
                "legal_bases": [
                    DECREE_47_2020.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5"),
                    CIRCULAR_13_2017.whole()
                ],
                "data_kinds": ["open", "specialised"],
                "national_relation": {
                    "databases": ["Cơ sở dữ liệu môi trường quốc gia"],
                    "overlaps": false,
                    "note": "Số liệu từ các trạm tự động của tỉnh được truyền về Bộ Tài nguyên và \
                        Môi trường; tỉnh là nơi thu thập gốc, không lấy lại từ cơ sở dữ liệu quốc \
                        gia."
                },
                "criteria": {
                    "legal_value": not_met(
                        "Số liệu tự động dùng để theo dõi, cảnh báo; không thay thế báo cáo kết \
                         quả quan trắc có chữ ký."
                    ),
                    "master_data": met(
                        "Là nguồn số liệu môi trường duy nhất cho các hệ thống cảnh báo và báo cáo \
                         của tỉnh."
                    ),
                    "administrative_procedures": not_met(
                        "Không phục vụ giải quyết thủ tục hành chính."
                    )
                },
                "datasets": [{
                    "id": "quan-trac-khong-khi",
                    "title": "Chất lượng không khí",
                    "description": "Chỉ số chất lượng không khí (VN_AQI) theo giờ và nồng độ bụi \
                        PM2.5, PM10 cùng các khí SO2, NO2, CO, O3 đo tại các trạm quan trắc tự \
                        động trên địa bàn tỉnh.",
                    "keywords": ["không khí", "AQI", "bụi mịn", "quan trắc"],
                    "themes": [theme::ENVIRONMENT],
                    "access_level": "open",
                    "sharing_mode": "open",
                    "update_frequency": "continuous",
                    "licence": OPEN_LICENCE,
                    "fee_note": "Miễn phí theo Nghị định 47/2020/NĐ-CP",
                    "contact": contact(
                        "Trung tâm Quan trắc môi trường",
                        "quantrac@stnmt.hanam.gov.vn",
                        Some("0226 3852 177")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2022,
            json!({
                "code": "CSDL.TTHC",
                "name": "Cơ sở dữ liệu thủ tục hành chính",
                "description": "Thủ tục hành chính thuộc thẩm quyền giải quyết của các cấp chính \
                    quyền tỉnh Hà Nam, đồng bộ từ Cơ sở dữ liệu quốc gia về thủ tục hành chính và \
                    bổ sung quy trình nội bộ của tỉnh. Là nguồn của Cổng dịch vụ công và hệ thống \
                    một cửa điện tử các cấp.",
                "owner": PROVINCIAL_OFFICE,
                "managing_system": "thu-tuc-hanh-chinh",
                "legal_bases": [
                    DECREE_47_2020.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5"),
                    CIRCULAR_13_2017.whole()
                ],
                "data_kinds": ["open", "master"],
                "national_relation": {
                    "databases": ["Cơ sở dữ liệu quốc gia về thủ tục hành chính"],
                    "overlaps": true,
                    "note": "Nội dung thủ tục được đồng bộ từ cơ sở dữ liệu quốc gia; tỉnh chỉ bổ \
                        sung phần không có ở đó: quy trình nội bộ, thời hạn giải quyết được rút \
                        ngắn và nơi tiếp nhận của tỉnh."
                },
                "criteria": {
                    "legal_value": met(
                        "Danh mục thủ tục được công bố bằng quyết định của Chủ tịch UBND tỉnh đã \
                         ký số."
                    ),
                    "master_data": met(
                        "Là danh mục thủ tục tham chiếu cho Cổng dịch vụ công và hệ thống một cửa \
                         điện tử các cấp."
                    ),
                    "administrative_procedures": met(
                        "Trực tiếp phục vụ tiếp nhận, giải quyết thủ tục hành chính cho người \
                         dân, doanh nghiệp."
                    )
                },
                "datasets": [{
                    "id": "thu-tuc-hanh-chinh",
                    "title": "Danh mục thủ tục hành chính",
                    "description": "Tên thủ tục, lĩnh vực, cơ quan thực hiện, thời hạn giải quyết, \
                        phí, lệ phí, thành phần hồ sơ và mức độ cung cấp dịch vụ công trực tuyến \
                        của từng thủ tục.",
                    "keywords": ["thủ tục hành chính", "dịch vụ công", "một cửa"],
                    "themes": [theme::ADMINISTRATION],
                    "access_level": "open",
                    "sharing_mode": "open",
                    "update_frequency": "weekly",
                    "licence": OPEN_LICENCE,
                    "contact": contact(
                        "Phòng Kiểm soát thủ tục hành chính",
                        "ksttthc@vpubnd.hanam.gov.vn",
                        Some("0226 3852 736")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2023_MARCH,
            json!({
                "code": "CSDL.TRUONGHOC",
                "name": "Cơ sở dữ liệu trường học, giáo viên",
                "description": "Thông tin về trường mầm non, tiểu học, trung học cơ sở, trung học \
                    phổ thông và đội ngũ giáo viên của tỉnh: quy mô trường, lớp, học sinh, trình \
                    độ và phân công giảng dạy. Phục vụ quản lý, quy hoạch mạng lưới trường lớp và \
                    tuyển sinh.",
                "owner": EDUCATION,
                "managing_system": "truong-hoc",
                "legal_bases": [DECREE_47_2020.at("Điều 11"), REGULATION_07_2021.at("Điều 5")],
                "data_kinds": ["open", "specialised"],
                "national_relation": {
                    "databases": ["Cơ sở dữ liệu ngành giáo dục và đào tạo"],
                    "overlaps": false,
                    "note": "Tỉnh cập nhật lên cơ sở dữ liệu ngành của Bộ Giáo dục và Đào tạo; bộ \
                        dữ liệu mở chỉ gồm thông tin trường, không gồm hồ sơ học sinh, giáo viên."
                },
                "criteria": {
                    "legal_value": not_met(
                        "Là dữ liệu thống kê, quản lý; không thay thế hồ sơ giấy của nhà trường."
                    ),
                    "master_data": met(
                        "Là danh mục trường tham chiếu cho các hệ thống tuyển sinh, y tế học \
                         đường và báo cáo thống kê."
                    ),
                    "administrative_procedures": met(
                        "Phục vụ thủ tục tuyển sinh đầu cấp, chuyển trường."
                    )
                },
                "datasets": [{
                    "id": "truong-hoc",
                    "title": "Danh sách trường học",
                    "description": "Tên trường, cấp học, loại hình, địa chỉ, số lớp, số học sinh \
                        và số giáo viên của các trường mầm non, tiểu học, trung học cơ sở và trung \
                        học phổ thông, cập nhật theo năm học.",
                    "keywords": ["trường học", "giáo dục", "học sinh", "giáo viên"],
                    "themes": [theme::EDUCATION],
                    "access_level": "open",
                    "sharing_mode": "open",
                    "update_frequency": "annual",
                    "licence": OPEN_LICENCE,
                    "contact": contact(
                        "Phòng Kế hoạch – Tài chính",
                        "khtc@sgddt.hanam.gov.vn",
                        Some("0226 3852 862")
                    )
                }]
            }),
        ),
        approved(
            &APPROVAL_2025,
            json!({
                "code": "DM.DVHC",
                "name": "Danh mục đơn vị hành chính",
                "description": "Danh mục dùng chung các đơn vị hành chính theo bảng mã do Thủ \
                    tướng Chính phủ ban hành, với thời gian hiệu lực của từng đơn vị để tra cứu \
                    theo thời điểm. Phản ánh việc sắp xếp đơn vị hành chính năm 2025: cấp huyện \
                    không còn tổ chức và các xã, phường mới có hiệu lực từ ngày 01/07/2025.",
                "owner": HOME_AFFAIRS,
                "managing_system": "don-vi-hanh-chinh",
                "legal_bases": [
                    ADMINISTRATIVE_UNITS_19_2025.at("Điều 1"),
                    DECREE_47_2020.at("Điều 11"),
                    REGULATION_07_2021.at("Điều 5")
                ],
                "data_kinds": ["code_list", "master", "open"],
                "national_relation": {
                    "databases": ["Danh mục và mã số các đơn vị hành chính Việt Nam"],
                    "overlaps": false,
                    "note": "Tỉnh dùng nguyên mã do Thủ tướng Chính phủ ban hành, không tự đặt \
                        mã; chỉ bổ sung thời gian hiệu lực và bảng đối chiếu mã cũ – mã mới để tra \
                        cứu theo thời điểm."
                },
                "criteria": {
                    "legal_value": met(
                        "Mã và tên đơn vị hành chính được ban hành bằng quyết định của Thủ tướng \
                         Chính phủ."
                    ),
                    "master_data": met(
                        "Là danh mục dùng chung mà mọi hệ thống của tỉnh tham chiếu khi ghi địa \
                         chỉ."
                    ),
                    "administrative_procedures": met(
                        "Mọi thủ tục có thông tin địa chỉ đều dùng mã đơn vị hành chính."
                    )
                },
                "datasets": [{
                    "id": "don-vi-hanh-chinh",
                    "title": "Danh mục đơn vị hành chính",
                    "description": "Mã, tên, cấp và đơn vị cấp trên của các đơn vị hành chính cấp \
                        tỉnh, cấp huyện, cấp xã của Hà Nam, kèm ngày bắt đầu và kết thúc hiệu lực. \
                        Từ ngày 01/07/2025 có thêm các đơn vị sau sắp xếp và bảng đối chiếu mã cũ \
                        – mã mới theo Quyết định 19/2025/QĐ-TTg.",
                    "keywords": [
                        "đơn vị hành chính",
                        "mã đơn vị hành chính",
                        "danh mục dùng chung"
                    ],
                    "themes": [theme::ADMINISTRATION],
                    "access_level": "open",
                    "sharing_mode": "open",
                    "update_frequency": "irregular",
                    "licence": OPEN_LICENCE,
                    "contact": contact(
                        "Phòng Xây dựng chính quyền",
                        "xdcq@snv.hanam.gov.vn",
                        Some("0226 3851 413")
                    )
                }]
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use lgsp_core::catalog::{AccessLevel, DataKind, SharingMode};

    use super::*;

    fn agency(code: &lgsp_core::AgencyCode) -> Option<province::DemoAgency> {
        province::province()
            .into_iter()
            .find(|a| a.agency.code == *code)
    }

    #[test]
    fn every_entry_parses_and_codes_are_unique() {
        // Building the catalog parses every entry; a panic names the invalid one.
        let catalog = catalog();
        assert!(catalog.len() >= 12, "{} entries", catalog.len());
        let codes: HashSet<&str> = catalog.iter().map(|d| d.entry.code.as_str()).collect();
        assert_eq!(codes.len(), catalog.len(), "an entry code repeats");
    }

    #[test]
    fn owners_are_demo_agencies_and_manage_the_entry_through_their_own_system() {
        for demo in catalog() {
            let entry = &demo.entry;
            let owner = agency(&entry.owner)
                .unwrap_or_else(|| panic!("{}: no agency {}", entry.code, entry.owner));
            assert!(
                owner
                    .systems
                    .iter()
                    .any(|s| s.code == entry.managing_system),
                "{}: {} has no system {}",
                entry.code,
                entry.owner,
                entry.managing_system
            );
        }
    }

    #[test]
    fn dataset_ids_are_unique_across_the_whole_catalog() {
        let mut seen = HashSet::new();
        for demo in catalog() {
            for dataset in &demo.entry.datasets {
                assert!(
                    seen.insert(dataset.id.clone()),
                    "dataset {} appears twice",
                    dataset.id
                );
            }
        }
        assert!(!seen.is_empty());
    }

    #[test]
    fn every_access_level_sharing_mode_and_data_kind_appears() {
        let catalog = catalog();
        let datasets: Vec<_> = catalog.iter().flat_map(|d| &d.entry.datasets).collect();
        for level in AccessLevel::ALL {
            assert!(
                datasets.iter().any(|d| d.access_level == *level),
                "no {level:?} dataset"
            );
        }
        for mode in SharingMode::ALL {
            assert!(
                datasets.iter().any(|d| d.sharing_mode == *mode),
                "no {mode:?} dataset"
            );
        }
        for kind in DataKind::ALL {
            assert!(
                catalog.iter().any(|d| d.entry.data_kinds.contains(kind)),
                "no {kind:?} entry"
            );
        }
    }

    #[test]
    fn q5_1_overlaps_with_national_databases_are_declared_and_explained() {
        let catalog = catalog();
        let overlapping: Vec<_> = catalog
            .iter()
            .map(|d| &d.entry)
            .filter(|e| e.national_relation.overlaps)
            .collect();
        assert!(!overlapping.is_empty());
        for entry in overlapping {
            let relation = &entry.national_relation;
            assert!(
                !relation.databases.is_empty(),
                "{}: overlaps what?",
                entry.code
            );
            assert!(
                relation.note.is_some(),
                "{}: overlap unexplained",
                entry.code
            );
        }
    }

    #[test]
    fn the_administrative_units_are_a_code_list_of_home_affairs() {
        let units = catalog()
            .into_iter()
            .find(|d| d.entry.code.as_str() == "DM.DVHC")
            .expect("the administrative-unit code list is in the catalog")
            .entry;
        assert!(units.data_kinds.contains(&DataKind::CodeList));
        let owner = agency(&units.owner).expect("its owner is a demo agency");
        assert_eq!(owner.agency.name.as_str(), "Sở Nội vụ tỉnh Hà Nam");
    }

    #[test]
    fn q1_2_nothing_is_classified_as_a_state_secret() {
        for demo in catalog() {
            assert_eq!(demo.entry.state_secret(), None);
        }
    }

    #[test]
    fn decisions_fall_in_2022_to_2025_and_follow_the_documents_they_rest_on() {
        let first = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        for demo in catalog() {
            assert!((first..=last).contains(&demo.decision_date));
            for basis in &demo.entry.legal_bases {
                assert!(
                    basis.date <= demo.decision_date,
                    "{} decided on {} cites {} of {}",
                    demo.entry.code,
                    demo.decision_date,
                    basis.number,
                    basis.date
                );
            }
        }
    }

    #[test]
    fn open_data_is_openly_licensed_and_everything_else_has_terms_of_use() {
        for demo in catalog() {
            for d in &demo.entry.datasets {
                if d.access_level == AccessLevel::Open {
                    assert_eq!(d.sharing_mode, SharingMode::Open, "{}", d.id);
                    assert_eq!(d.licence.as_str(), OPEN_LICENCE, "{}", d.id);
                } else {
                    assert_eq!(d.licence.as_str(), PROVINCE_TERMS, "{}", d.id);
                    assert!(d.terms_of_use.is_some(), "{} has no terms of use", d.id);
                }
                if d.access_level == AccessLevel::Personal {
                    assert_eq!(d.sharing_mode, SharingMode::OnRequest, "{}", d.id);
                }
            }
        }
    }

    #[test]
    fn contacts_write_from_their_owners_domain() {
        let domain = |email: &str| email.split_once('@').unwrap().1.to_owned();
        for demo in catalog() {
            let owner = agency(&demo.entry.owner).unwrap();
            let expected = domain(owner.agency.focal_officer.email.as_str());
            for d in &demo.entry.datasets {
                assert_eq!(domain(d.contact.email.as_str()), expected, "{}", d.id);
            }
        }
    }

    #[test]
    fn themes_come_from_the_shared_vocabulary() {
        for demo in catalog() {
            for d in &demo.entry.datasets {
                assert!(!d.themes.is_empty(), "{} has no theme", d.id);
                for t in &d.themes {
                    assert!(theme::ALL.contains(&t.as_str()), "{}: theme {t}", d.id);
                }
            }
        }
    }
}
