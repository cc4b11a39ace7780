//! The demo province: Hà Nam as structured in 2021, when Decision 07/2021/QĐ-UBND was issued.
//!
//! SAMPLE DATA. The agency names are the real ones; everything else is invented for the demo:
//! the agency codes (they have the QCVN 102:2016 shape `NNN.NN.NN.H35`, but Hà Nam's real
//! level-1 code could not be confirmed), the focal officers, their phone numbers and e-mail
//! addresses, and the hosts of the information systems. None of it may be used to reach a real
//! person or a real system.

use lgsp_core::{
    AgencyCode, AgencyKind, ConnectionModel, Email, FocalOfficer, HttpUrl, NewAgency, NewSystem,
    Phone, SecurityLevel, SystemCode, Text,
};

/// One demo agency with its information systems.
pub struct DemoAgency {
    pub agency: NewAgency,
    pub systems: Vec<NewSystem>,
}

// Sample codes. `H35` stands in for the province (the level-1 unit, rightmost); the level-2 units
// under the People's Committee fill the third group: departments 01–15, the police 20 and the
// district-level committees 31–36.

/// *Ủy ban nhân dân tỉnh Hà Nam*: approves connections and sharing (sample code).
pub const PEOPLES_COMMITTEE: &str = "000.00.00.H35";
/// *Sở Thông tin và Truyền thông*: operates the platform (sample code).
pub const OPERATOR_AGENCY: &str = "000.00.11.H35";
/// *Công an tỉnh Hà Nam*: audits security (sample code).
pub const POLICE: &str = "000.00.20.H35";
/// Sở Tư pháp: the demo agency administrator's agency.
pub const JUSTICE: &str = "000.00.03.H35";

/// The demo province: parents come before their children.
pub fn province() -> Vec<DemoAgency> {
    use AgencyKind::{Department, DistrictCommittee, Police, ProvincialCommittee};

    vec![
        // The People's Committee and its office.
        agency(
            ProvincialCommittee,
            PEOPLES_COMMITTEE,
            "Ủy ban nhân dân tỉnh Hà Nam",
            officer(
                "Trần Quốc Khánh",
                "Phó Chánh Văn phòng Ủy ban nhân dân tỉnh",
                "0226 3852 710",
                "khanhtq@hanam.gov.vn",
            ),
            vec![
                system(
                    "bao-cao",
                    "Hệ thống thông tin báo cáo tỉnh Hà Nam",
                    3,
                    "baocao.hanam.gov.vn",
                ),
                via(
                    "Kết nối qua Trục liên thông văn bản quốc gia",
                    system(
                        "qlvb",
                        "Hệ thống quản lý văn bản và điều hành",
                        3,
                        "qlvb.hanam.gov.vn",
                    ),
                ),
            ],
        ),
        agency(
            Department,
            "000.00.01.H35",
            "Văn phòng Ủy ban nhân dân tỉnh Hà Nam",
            officer(
                "Lê Thị Thu Hà",
                "Giám đốc Trung tâm Công báo – Tin học",
                "0226 3852 735",
                "haltt@vpubnd.hanam.gov.vn",
            ),
            vec![
                system(
                    "thu-tuc-hanh-chinh",
                    "Hệ thống cơ sở dữ liệu thủ tục hành chính tỉnh",
                    2,
                    "tthc.hanam.gov.vn",
                ),
                system(
                    "phan-anh-kien-nghi",
                    "Hệ thống tiếp nhận, xử lý phản ánh, kiến nghị",
                    2,
                    "phananh.hanam.gov.vn",
                ),
            ],
        ),
        // Departments (sở, ban, ngành).
        agency(
            Department,
            "000.00.02.H35",
            "Sở Nội vụ tỉnh Hà Nam",
            officer(
                "Phạm Minh Tuấn",
                "Chánh Văn phòng Sở",
                "0226 3851 412",
                "tuanpm@snv.hanam.gov.vn",
            ),
            vec![
                system(
                    "can-bo",
                    "Hệ thống quản lý cán bộ, công chức, viên chức",
                    3,
                    "canbo.snv.hanam.gov.vn",
                ),
                system(
                    "don-vi-hanh-chinh",
                    "Hệ thống danh mục đơn vị hành chính",
                    1,
                    "dvhc.snv.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            "000.00.03.H35",
            "Sở Tư pháp tỉnh Hà Nam",
            officer(
                "Nguyễn Thị Hồng Nhung",
                "Trưởng phòng Hành chính tư pháp",
                "0226 3852 368",
                "nhungnth@stp.hanam.gov.vn",
            ),
            vec![
                system(
                    "ho-tich",
                    "Hệ thống quản lý hộ tịch điện tử",
                    3,
                    "hotich.stp.hanam.gov.vn",
                ),
                system(
                    "ly-lich-tu-phap",
                    "Hệ thống quản lý lý lịch tư pháp",
                    3,
                    "lltp.stp.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            "000.00.04.H35",
            "Sở Kế hoạch và Đầu tư tỉnh Hà Nam",
            officer(
                "Đỗ Văn Thắng",
                "Trưởng phòng Đăng ký kinh doanh",
                "0226 3853 520",
                "thangdv@skhdt.hanam.gov.vn",
            ),
            vec![
                unmonitored(via(
                    "Kết nối qua Nền tảng tích hợp, chia sẻ dữ liệu quốc gia (NDXP) với Hệ thống \
                     thông tin quốc gia về đăng ký doanh nghiệp",
                    system(
                        "dang-ky-doanh-nghiep",
                        "Hệ thống đăng ký doanh nghiệp",
                        3,
                        "dkkd.skhdt.hanam.gov.vn",
                    ),
                )),
                system(
                    "du-an-dau-tu",
                    "Hệ thống quản lý dự án đầu tư",
                    2,
                    "duan.skhdt.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            "000.00.05.H35",
            "Sở Tài chính tỉnh Hà Nam",
            officer(
                "Vũ Thị Lan Anh",
                "Phó Chánh Văn phòng Sở",
                "0226 3852 283",
                "anhvtl@stc.hanam.gov.vn",
            ),
            vec![system(
                "tai-san-cong",
                "Hệ thống quản lý tài sản công",
                2,
                "taisan.stc.hanam.gov.vn",
            )],
        ),
        agency(
            Department,
            "000.00.06.H35",
            "Sở Công Thương tỉnh Hà Nam",
            officer(
                "Hoàng Đức Long",
                "Phó Chánh Văn phòng Sở",
                "0226 3852 906",
                "longhd@sct.hanam.gov.vn",
            ),
            vec![system(
                "cum-cong-nghiep",
                "Hệ thống quản lý cụm công nghiệp",
                2,
                "ccn.sct.hanam.gov.vn",
            )],
        ),
        agency(
            Department,
            "000.00.07.H35",
            "Sở Nông nghiệp và Phát triển nông thôn tỉnh Hà Nam",
            officer(
                "Bùi Văn Hải",
                "Chánh Văn phòng Sở",
                "0226 3851 657",
                "haibv@snnptnt.hanam.gov.vn",
            ),
            vec![system(
                "an-toan-thuc-pham",
                "Hệ thống quản lý an toàn thực phẩm nông lâm thủy sản",
                2,
                "attp.snnptnt.hanam.gov.vn",
            )],
        ),
        agency(
            Department,
            "000.00.08.H35",
            "Sở Giao thông vận tải tỉnh Hà Nam",
            officer(
                "Đinh Công Sơn",
                "Trưởng phòng Quản lý vận tải, phương tiện và người lái",
                "0226 3852 447",
                "sondc@sgtvt.hanam.gov.vn",
            ),
            vec![unmonitored(via(
                "Kết nối trực tiếp với Hệ thống quản lý giấy phép lái xe của Tổng cục Đường bộ \
                 Việt Nam",
                system(
                    "gplx",
                    "Hệ thống quản lý đào tạo, sát hạch, cấp giấy phép lái xe",
                    3,
                    "gplx.sgtvt.hanam.gov.vn",
                ),
            ))],
        ),
        agency(
            Department,
            "000.00.09.H35",
            "Sở Xây dựng tỉnh Hà Nam",
            officer(
                "Ngô Thị Thanh Huyền",
                "Phó Trưởng phòng Quy hoạch – Kiến trúc",
                "0226 3852 592",
                "huyenntt@sxd.hanam.gov.vn",
            ),
            vec![
                system(
                    "cap-phep-xay-dung",
                    "Hệ thống quản lý cấp phép xây dựng",
                    2,
                    "cpxd.sxd.hanam.gov.vn",
                ),
                system(
                    "quy-hoach",
                    "Hệ thống thông tin quy hoạch xây dựng",
                    2,
                    "quyhoach.sxd.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            "000.00.10.H35",
            "Sở Tài nguyên và Môi trường tỉnh Hà Nam",
            officer(
                "Lại Văn Dũng",
                "Giám đốc Trung tâm Công nghệ thông tin",
                "0226 3852 174",
                "dunglv@stnmt.hanam.gov.vn",
            ),
            vec![
                system(
                    "dat-dai",
                    "Hệ thống thông tin đất đai",
                    3,
                    "datdai.stnmt.hanam.gov.vn",
                ),
                system(
                    "quan-trac",
                    "Hệ thống quan trắc môi trường tự động",
                    2,
                    "quantrac.stnmt.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            OPERATOR_AGENCY,
            "Sở Thông tin và Truyền thông tỉnh Hà Nam",
            officer(
                "Nguyễn Mạnh Cường",
                "Trưởng phòng Công nghệ thông tin",
                "0226 3853 818",
                "cuongnm@stttt.hanam.gov.vn",
            ),
            vec![
                system(
                    "lgsp",
                    "Nền tảng tích hợp, chia sẻ dữ liệu tỉnh (LGSP)",
                    3,
                    "lgsp.hanam.gov.vn",
                ),
                system(
                    "dich-vu-cong",
                    "Cổng dịch vụ công trực tuyến",
                    3,
                    "dichvucong.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            "000.00.12.H35",
            "Sở Lao động – Thương binh và Xã hội tỉnh Hà Nam",
            officer(
                "Trịnh Thị Mai",
                "Trưởng phòng Người có công",
                "0226 3852 239",
                "maitt@sldtbxh.hanam.gov.vn",
            ),
            vec![
                system(
                    "nguoi-co-cong",
                    "Hệ thống quản lý người có công",
                    3,
                    "nguoicocong.sldtbxh.hanam.gov.vn",
                ),
                system(
                    "ho-ngheo",
                    "Hệ thống quản lý hộ nghèo, hộ cận nghèo",
                    3,
                    "hongheo.sldtbxh.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            "000.00.13.H35",
            "Sở Văn hóa, Thể thao và Du lịch tỉnh Hà Nam",
            officer(
                "Phan Văn Toàn",
                "Trưởng phòng Quản lý du lịch",
                "0226 3851 385",
                "toanpv@svhttdl.hanam.gov.vn",
            ),
            vec![
                system(
                    "di-tich-du-lich",
                    "Hệ thống quản lý di tích, điểm du lịch",
                    2,
                    "ditich.svhttdl.hanam.gov.vn",
                ),
                system(
                    "cong-du-lich",
                    "Cổng thông tin du lịch Hà Nam",
                    1,
                    "dulich.hanam.gov.vn",
                ),
            ],
        ),
        agency(
            Department,
            "000.00.14.H35",
            "Sở Giáo dục và Đào tạo tỉnh Hà Nam",
            officer(
                "Đặng Thị Phương",
                "Trưởng phòng Kế hoạch – Tài chính",
                "0226 3852 861",
                "phuongdt@sgddt.hanam.gov.vn",
            ),
            vec![system(
                "truong-hoc",
                "Hệ thống quản lý trường học, giáo viên",
                2,
                "truonghoc.sgddt.hanam.gov.vn",
            )],
        ),
        agency(
            Department,
            "000.00.15.H35",
            "Sở Y tế tỉnh Hà Nam",
            officer(
                "Lương Văn Bình",
                "Trưởng phòng Nghiệp vụ Y",
                "0226 3852 066",
                "binhlv@syt.hanam.gov.vn",
            ),
            vec![
                system(
                    "kham-chua-benh",
                    "Hệ thống quản lý cơ sở khám chữa bệnh",
                    2,
                    "kcb.syt.hanam.gov.vn",
                ),
                system(
                    "hanh-nghe-y-duoc",
                    "Hệ thống quản lý hành nghề y dược",
                    2,
                    "hanhnghe.syt.hanam.gov.vn",
                ),
            ],
        ),
        // The provincial police.
        agency(
            Police,
            POLICE,
            "Công an tỉnh Hà Nam",
            officer(
                "Đoàn Văn Hưng",
                "Phó Trưởng phòng An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao",
                "0226 3852 554",
                "hungdv@congan.hanam.gov.vn",
            ),
            vec![unmonitored(via(
                "Kết nối qua mạng truyền số liệu chuyên dùng của Bộ Công an",
                system(
                    "cu-tru",
                    "Hệ thống quản lý cư trú",
                    4,
                    "cutru.congan.hanam.gov.vn",
                ),
            ))],
        ),
        // District-level People's Committees, in the order of their statistical codes (347–353).
        agency(
            DistrictCommittee,
            "000.00.31.H35",
            "Ủy ban nhân dân thành phố Phủ Lý",
            officer(
                "Nguyễn Thị Ngọc Ánh",
                "Phó Chánh Văn phòng HĐND và UBND thành phố",
                "0226 3852 921",
                "anhntn@phuly.hanam.gov.vn",
            ),
            vec![
                system(
                    "mot-cua",
                    "Hệ thống một cửa điện tử cấp huyện",
                    2,
                    "motcua.phuly.hanam.gov.vn",
                ),
                via(
                    "Kết nối qua Trục liên thông văn bản quốc gia",
                    system(
                        "qlvb",
                        "Hệ thống quản lý văn bản và điều hành",
                        2,
                        "qlvb.phuly.hanam.gov.vn",
                    ),
                ),
            ],
        ),
        agency(
            DistrictCommittee,
            "000.00.32.H35",
            "Ủy ban nhân dân thị xã Duy Tiên",
            officer(
                "Trần Văn Quang",
                "Trưởng phòng Văn hóa và Thông tin thị xã",
                "0226 3830 215",
                "quangtv@duytien.hanam.gov.vn",
            ),
            vec![system(
                "mot-cua",
                "Hệ thống một cửa điện tử cấp huyện",
                2,
                "motcua.duytien.hanam.gov.vn",
            )],
        ),
        agency(
            DistrictCommittee,
            "000.00.33.H35",
            "Ủy ban nhân dân huyện Kim Bảng",
            officer(
                "Phạm Thị Hoa",
                "Phó Chánh Văn phòng HĐND và UBND huyện",
                "0226 3818 342",
                "hoapt@kimbang.hanam.gov.vn",
            ),
            vec![system(
                "mot-cua",
                "Hệ thống một cửa điện tử cấp huyện",
                2,
                "motcua.kimbang.hanam.gov.vn",
            )],
        ),
        agency(
            DistrictCommittee,
            "000.00.34.H35",
            "Ủy ban nhân dân huyện Thanh Liêm",
            officer(
                "Lê Văn Tùng",
                "Trưởng phòng Văn hóa và Thông tin huyện",
                "0226 3881 127",
                "tunglv@thanhliem.hanam.gov.vn",
            ),
            vec![system(
                "mot-cua",
                "Hệ thống một cửa điện tử cấp huyện",
                2,
                "motcua.thanhliem.hanam.gov.vn",
            )],
        ),
        agency(
            DistrictCommittee,
            "000.00.35.H35",
            "Ủy ban nhân dân huyện Bình Lục",
            officer(
                "Vũ Đức Thịnh",
                "Chánh Văn phòng HĐND và UBND huyện",
                "0226 3860 409",
                "thinhvd@binhluc.hanam.gov.vn",
            ),
            vec![system(
                "mot-cua",
                "Hệ thống một cửa điện tử cấp huyện",
                2,
                "motcua.binhluc.hanam.gov.vn",
            )],
        ),
        agency(
            DistrictCommittee,
            "000.00.36.H35",
            "Ủy ban nhân dân huyện Lý Nhân",
            officer(
                "Đỗ Thị Thu Trang",
                "Phó Trưởng phòng Văn hóa và Thông tin huyện",
                "0226 3871 530",
                "trangdtt@lynhan.hanam.gov.vn",
            ),
            vec![system(
                "mot-cua",
                "Hệ thống một cửa điện tử cấp huyện",
                2,
                "motcua.lynhan.hanam.gov.vn",
            )],
        ),
    ]
}

const VALID: &str = "demo data is valid";

/// An agency of the province; every agency but the People's Committee sits directly under it.
fn agency(
    kind: AgencyKind,
    code: &str,
    name: &str,
    focal_officer: FocalOfficer,
    systems: Vec<NewSystem>,
) -> DemoAgency {
    let parent = match kind {
        AgencyKind::ProvincialCommittee => None,
        _ => Some(AgencyCode::parse(PEOPLES_COMMITTEE).expect(VALID)),
    };
    DemoAgency {
        agency: NewAgency {
            code: AgencyCode::parse(code).expect(VALID),
            name: Text::parse(name).expect(VALID),
            parent,
            kind,
            focal_officer,
        },
        systems,
    }
}

/// A focal officer (invented person, phone number and address).
fn officer(name: &str, title: &str, phone: &str, email: &str) -> FocalOfficer {
    FocalOfficer {
        name: Text::parse(name).expect(VALID),
        title: Text::parse(title).expect(VALID),
        phone: Phone::parse(phone).expect(VALID),
        email: Email::parse(email).expect(VALID),
    }
}

/// A system served at `https://{host}` that connects through the LGSP and answers health checks
/// at `https://{host}/health`.
fn system(code: &str, name: &str, level: i64, host: &str) -> NewSystem {
    NewSystem {
        code: SystemCode::parse(code).expect(VALID),
        name: Text::parse(name).expect(VALID),
        security_level: SecurityLevel::parse(level).expect(VALID),
        connection: ConnectionModel::Lgsp,
        base_url: HttpUrl::parse(format!("https://{host}")).expect(VALID),
        health_url: Some(HttpUrl::parse(format!("https://{host}/health")).expect(VALID)),
    }
}

/// The same system, connected over another channel instead of the LGSP.
fn via(description: &str, system: NewSystem) -> NewSystem {
    NewSystem {
        connection: ConnectionModel::Other {
            description: Text::parse(description).expect(VALID),
        },
        ..system
    }
}

/// The same system, without a health endpoint the platform can reach.
fn unmonitored(system: NewSystem) -> NewSystem {
    NewSystem {
        health_url: None,
        ..system
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn count(province: &[DemoAgency], kind: AgencyKind) -> usize {
        province.iter().filter(|a| a.agency.kind == kind).count()
    }

    #[test]
    fn every_agency_and_system_parses() {
        // Building the province runs every `parse`; a panic here names the invalid value.
        let province = province();
        assert!(!province.is_empty());
    }

    #[test]
    fn agency_codes_are_unique() {
        let province = province();
        let codes: HashSet<&str> = province.iter().map(|a| a.agency.code.as_str()).collect();
        assert_eq!(codes.len(), province.len());
    }

    #[test]
    fn parents_come_before_their_children() {
        let mut seen = HashSet::new();
        for demo in province() {
            if let Some(parent) = &demo.agency.parent {
                assert!(
                    seen.contains(parent.as_str()),
                    "{} comes before its parent {parent}",
                    demo.agency.code
                );
            }
            seen.insert(demo.agency.code.as_str().to_owned());
        }
    }

    #[test]
    fn only_the_peoples_committee_has_no_parent() {
        for demo in province() {
            let is_root = demo.agency.code.as_str() == PEOPLES_COMMITTEE;
            assert_eq!(
                demo.agency.parent.is_none(),
                is_root,
                "{}",
                demo.agency.code
            );
        }
    }

    #[test]
    fn the_role_agencies_exist_with_their_kinds() {
        let province = province();
        let kind_of = |code: &str| {
            province
                .iter()
                .find(|a| a.agency.code.as_str() == code)
                .map(|a| a.agency.kind)
        };
        assert_eq!(
            kind_of(PEOPLES_COMMITTEE),
            Some(AgencyKind::ProvincialCommittee)
        );
        assert_eq!(kind_of(OPERATOR_AGENCY), Some(AgencyKind::Department));
        assert_eq!(kind_of(POLICE), Some(AgencyKind::Police));
        assert_eq!(count(&province, AgencyKind::ProvincialCommittee), 1);
        assert_eq!(count(&province, AgencyKind::Police), 1);
    }

    #[test]
    fn departments_and_districts_are_all_there() {
        let province = province();
        let other_departments = province
            .iter()
            .filter(|a| a.agency.kind == AgencyKind::Department)
            .filter(|a| a.agency.code.as_str() != OPERATOR_AGENCY)
            .count();
        assert!(other_departments >= 6, "{other_departments} departments");
        // The 14 departments of the 2021 structure besides the operator.
        assert_eq!(other_departments, 14);
        assert_eq!(count(&province, AgencyKind::DistrictCommittee), 6);
    }

    #[test]
    fn every_agency_has_a_system_and_system_codes_are_unique_per_agency() {
        for demo in province() {
            assert!(
                !demo.systems.is_empty(),
                "{} has no system",
                demo.agency.code
            );
            let codes: HashSet<&str> = demo.systems.iter().map(|s| s.code.as_str()).collect();
            assert_eq!(
                codes.len(),
                demo.systems.len(),
                "{} repeats a system code",
                demo.agency.code
            );
        }
    }

    #[test]
    fn systems_have_their_own_hosts_and_health_checks_stay_on_them() {
        let province = province();
        let systems: Vec<&NewSystem> = province.iter().flat_map(|a| &a.systems).collect();
        let hosts: HashSet<String> = systems.iter().map(|s| s.base_url.authority()).collect();
        assert_eq!(hosts.len(), systems.len(), "two systems share a host");
        for system in &systems {
            if let Some(health) = &system.health_url {
                assert_eq!(health.authority(), system.base_url.authority());
            }
        }
        let monitored = systems.iter().filter(|s| s.health_url.is_some()).count();
        let through_lgsp = systems
            .iter()
            .filter(|s| s.connection == ConnectionModel::Lgsp)
            .count();
        assert!(monitored * 2 > systems.len(), "most systems are monitored");
        assert!(
            through_lgsp * 2 > systems.len(),
            "most systems use the LGSP"
        );
        assert!(
            through_lgsp < systems.len(),
            "some systems use other channels"
        );
    }
}
