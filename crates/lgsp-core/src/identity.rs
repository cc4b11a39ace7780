//! People who use the platform and the roles they act in.

use serde::{Deserialize, Serialize};

use crate::text::{string_newtype, ParseError};
use crate::AgencyCode;

/// The role a person acts in. Each maps to a body named by the regulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Platform operator — *Sở Thông tin và Truyền thông* runs the platform (Q17).
    Operator,
    /// Approver — *Ủy ban nhân dân tỉnh* decides on catalog changes (Q5.2).
    Approver,
    /// Administrator of one agency: registers its systems, datasets, clients and staff.
    AgencyAdmin,
    /// Security auditor — *Công an tỉnh* (Q20).
    Auditor,
    /// Citizen or business — *người dân, doanh nghiệp* (Q13.2, Q15.2.h).
    Citizen,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Operator,
        Self::Approver,
        Self::AgencyAdmin,
        Self::Auditor,
        Self::Citizen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Approver => "approver",
            Self::AgencyAdmin => "agency_admin",
            Self::Auditor => "auditor",
            Self::Citizen => "citizen",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown role `{value}`")))
    }

    /// The Vietnamese label shown in the console.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Operator => "Quản trị nền tảng (Sở TTTT)",
            Self::Approver => "Phê duyệt (UBND tỉnh)",
            Self::AgencyAdmin => "Quản trị cơ quan",
            Self::Auditor => "Kiểm tra an ninh (Công an tỉnh)",
            Self::Citizen => "Người dân, doanh nghiệp",
        }
    }
}

string_newtype! {
    /// A sign-in name: 3–64 characters of `[a-z0-9._-]`, starting with a letter or digit.
    Username
}

impl Username {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        let ok = (3..=64).contains(&value.len())
            && value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && value.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if !ok {
            return Err(ParseError::new(
                "username must be 3 to 64 characters of a-z, 0-9, `.`, `_`, `-`",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype! {
    /// A citizen's identity number (*số định danh cá nhân*, printed on the *căn cước công dân*,
    /// CCCD): 12 digits, the first three the code of the province where the birth was
    /// registered, the fourth the sex and century of birth, the next two the year of birth.
    /// It names a person: it never appears on the transparency log, where a salted hash stands
    /// for it, and agencies see it masked.
    CitizenId
}

/// Province codes of the identity number (Circular 59/2021/TT-BCA, Annex I).
const CITIZEN_ID_PROVINCES: [u16; 63] = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
    38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
    79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

impl CitizenId {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        if value.len() != 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(
                "a citizen identity number (CCCD) is 12 digits",
            ));
        }
        let province: u16 = value[..3].parse().unwrap_or_default();
        if !CITIZEN_ID_PROVINCES.contains(&province) {
            return Err(ParseError::new(format!(
                "`{}` is not a province code of a citizen identity number",
                &value[..3]
            )));
        }
        Ok(Self(value.to_owned()))
    }

    /// The number as agencies see it: the last four digits only.
    pub fn masked(&self) -> String {
        format!("********{}", &self.0[8..])
    }
}

/// A password someone chose. Only its length is checked (NIST SP 800-63B: length, not
/// composition rules); it never prints.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(value: String) -> Result<Self, ParseError> {
        let chars = value.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(ParseError::new(format!(
                "password must be {} to {} characters",
                Self::MIN_CHARS,
                Self::MAX_CHARS
            )));
        }
        Ok(Self(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Password {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A person's role together with the agency it is exercised for. An agency administrator
/// always has an agency; a citizen never has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RoleAssignmentParts", into = "RoleAssignmentParts")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleAssignment {
    role: Role,
    agency: Option<AgencyCode>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleAssignmentParts {
    role: Role,
    #[serde(default)]
    agency: Option<AgencyCode>,
}

impl RoleAssignment {
    pub fn new(role: Role, agency: Option<AgencyCode>) -> Result<Self, ParseError> {
        match (role, &agency) {
            (Role::AgencyAdmin, None) => Err(ParseError::new(
                "an agency administrator must belong to an agency",
            )),
            (Role::Citizen, Some(_)) => Err(ParseError::new(
                "a citizen account does not belong to an agency",
            )),
            _ => Ok(Self { role, agency }),
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn agency(&self) -> Option<&AgencyCode> {
        self.agency.as_ref()
    }
}

impl TryFrom<RoleAssignmentParts> for RoleAssignment {
    type Error = ParseError;
    fn try_from(parts: RoleAssignmentParts) -> Result<Self, Self::Error> {
        Self::new(parts.role, parts.agency)
    }
}

impl From<RoleAssignment> for RoleAssignmentParts {
    fn from(value: RoleAssignment) -> Self {
        Self {
            role: value.role,
            agency: value.agency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("operator").is_ok());
        assert!(Username::parse("nv.a-1").is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("Admin").is_err());
        assert!(Username::parse(".x1").is_err());
    }

    #[test]
    fn agency_admin_needs_agency_and_citizen_has_none() {
        let code = AgencyCode::parse("000.00.01.H35").unwrap();
        assert!(RoleAssignment::new(Role::AgencyAdmin, None).is_err());
        assert!(RoleAssignment::new(Role::Citizen, Some(code.clone())).is_err());
        assert!(RoleAssignment::new(Role::AgencyAdmin, Some(code)).is_ok());
        assert!(RoleAssignment::new(Role::Operator, None).is_ok());
    }

    #[test]
    fn q15_2_h_citizen_ids_are_twelve_digits_of_a_province() {
        let id = CitizenId::parse("035190012345").unwrap();
        assert_eq!(id.masked(), "********2345");
        for bad in [
            "",
            "03519001234",
            "0351900123456",
            "03519001234a",
            "035 90012345",
            "003190012345",
            "099190012345",
            "٠٣٥١٩٠٠١٢٣٤٥",
        ] {
            assert!(CitizenId::parse(bad).is_err(), "{bad}");
        }
        assert!(CitizenId::parse("001090000001").is_ok());
        assert!(CitizenId::parse("096390000001").is_ok());
    }

    #[test]
    fn passwords_are_long_and_never_print() {
        assert!(Password::parse("short".into()).is_err());
        let password = Password::parse("đủ dài để an toàn".into()).unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
    }
}
