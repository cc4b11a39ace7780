//! Agencies (*cơ quan*) and their focal officers (*cán bộ đầu mối*, Q8.2).

use serde::{Deserialize, Serialize};

use crate::text::{string_newtype, ParseError, Text};

string_newtype! {
    /// The electronic identifier of an agency per QCVN 102:2016 / Decision 20/2020/QĐ-TTg:
    /// 1–35 characters of `[0-9A-Z.]`, in practice `NNN.NN.NN.XNN` with the level-1 unit on the
    /// right. Dots separate non-empty groups.
    AgencyCode
}

impl AgencyCode {
    pub const MAX_LEN: usize = 35;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(ParseError::new(
                "agency code must be 1 to 35 characters (QCVN 102:2016)",
            ));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'.')
        {
            return Err(ParseError::new(
                "agency code may contain only digits, upper-case letters A-Z and dots (QCVN 102:2016)",
            ));
        }
        if value.split('.').any(str::is_empty) {
            return Err(ParseError::new(
                "agency code groups separated by dots must not be empty",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// What kind of body an agency is; decides nothing by itself but drives the demo, the portal
/// grouping and the annual report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgencyKind {
    /// *Ủy ban nhân dân tỉnh* — the provincial People's Committee.
    ProvincialCommittee,
    /// *Sở, ban, ngành* — a provincial department or equivalent body.
    Department,
    /// *Công an tỉnh* — the provincial police.
    Police,
    /// *Ủy ban nhân dân cấp huyện* — a district-level People's Committee.
    DistrictCommittee,
    /// *Ủy ban nhân dân cấp xã* — a commune-level People's Committee.
    CommuneCommittee,
    /// Any other state body (public service units, centrally managed agencies in the province).
    Other,
}

impl AgencyKind {
    pub const ALL: [AgencyKind; 6] = [
        Self::ProvincialCommittee,
        Self::Department,
        Self::Police,
        Self::DistrictCommittee,
        Self::CommuneCommittee,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProvincialCommittee => "provincial_committee",
            Self::Department => "department",
            Self::Police => "police",
            Self::DistrictCommittee => "district_committee",
            Self::CommuneCommittee => "commune_committee",
            Self::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown agency kind `{value}`")))
    }

    /// The Vietnamese label shown in the portal and console.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::ProvincialCommittee => "UBND cấp tỉnh",
            Self::Department => "Sở, ban, ngành",
            Self::Police => "Công an",
            Self::DistrictCommittee => "UBND cấp huyện",
            Self::CommuneCommittee => "UBND cấp xã",
            Self::Other => "Cơ quan khác",
        }
    }
}

string_newtype! {
    /// An e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
    Email
}

impl Email {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref().trim();
        let invalid = || ParseError::new(format!("`{value}` is not an e-mail address"));
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@');
        if local.is_empty()
            || !domain_ok
            || value.len() > 254
            || value.contains(char::is_whitespace)
        {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype! {
    /// A telephone number as written in Viet Nam: digits with optional leading `+`, spaces,
    /// dots, dashes and parentheses; 8–15 digits in all.
    Phone
}

impl Phone {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref().trim();
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')') || (c == '+' && i == 0)
        });
        if !allowed || !(8..=15).contains(&digits) {
            return Err(ParseError::new(format!(
                "`{value}` is not a telephone number (8 to 15 digits)"
            )));
        }
        Ok(Self(value.to_owned()))
    }
}

/// The one named contact of an agency for connection and sharing matters (Q8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FocalOfficer {
    pub name: Text,
    pub title: Text,
    pub phone: Phone,
    pub email: Email,
}

/// An agency ready to be registered. It cannot exist without its focal officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAgency {
    pub code: AgencyCode,
    pub name: Text,
    #[serde(default)]
    pub parent: Option<AgencyCode>,
    pub kind: AgencyKind,
    pub focal_officer: FocalOfficer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_codes_follow_qcvn_102() {
        for ok in ["000.00.00.H35", "H35", "000.00.12.H35", "A"] {
            assert!(AgencyCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "000.00.00.h35",
            "000 00",
            "..H35",
            "H35.",
            &"1".repeat(36),
            "Sở",
        ] {
            assert!(AgencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn q8_2_agency_without_focal_officer_does_not_parse() {
        let without = r#"{"code":"000.00.01.H35","name":"Sở Tư pháp","kind":"department"}"#;
        let err = serde_json::from_str::<NewAgency>(without).unwrap_err();
        assert!(err.to_string().contains("focal_officer"), "{err}");
    }

    #[test]
    fn emails_and_phones() {
        assert!(Email::parse("nva@hanam.gov.vn").is_ok());
        assert!(Email::parse("nva@hanam").is_err());
        assert!(Email::parse("@hanam.gov.vn").is_err());
        assert!(Email::parse("a b@hanam.gov.vn").is_err());
        assert!(Phone::parse("0226 3852 701").is_ok());
        assert!(Phone::parse("+84 226 3852701").is_ok());
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("0226-abc-701").is_err());
        assert!(Phone::parse("02+26385270").is_err());
    }

    #[test]
    fn agency_kind_round_trips() {
        for kind in AgencyKind::ALL {
            assert_eq!(AgencyKind::parse(kind.as_str()).unwrap(), kind);
        }
    }
}
