//! The catalog of shared databases (*danh mục cơ sở dữ liệu dùng chung*, Q5) and the datasets
//! each one holds.
//!
//! An entry's content is versioned as a whole: a decision of the People's Committee replaces it
//! from its effective date (Q5.4). Everything here is a value; storage and the workflow that
//! changes it live elsewhere.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::agency::{Email, Phone};
use crate::text::{string_newtype, ParseError, Text};
use crate::{AgencyCode, SystemCode};

string_newtype! {
    /// The code of a catalog entry, e.g. `CSDL.DATDAI`: 2–64 characters of `[A-Z0-9._-]`.
    EntryCode
}

impl EntryCode {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        let ok = (2..=64).contains(&value.len())
            && value
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && value.bytes().all(|b| {
                b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if !ok {
            return Err(ParseError::new(
                "entry code must be 2 to 64 characters of A-Z, 0-9, `.`, `_`, `-`",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype! {
    /// The public identifier of a dataset, also its CKAN `name`: 2–100 characters of
    /// `[a-z0-9_-]`, starting with a letter or digit.
    DatasetId
}

impl DatasetId {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        let ok = (2..=100).contains(&value.len())
            && value
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if !ok {
            return Err(ParseError::new(
                "dataset id must be 2 to 100 characters of a-z, 0-9, `-`, `_`",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype! {
    /// Longer free text (descriptions): trimmed, non-empty, at most 10 000 characters.
    LongText
}

impl LongText {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref().trim();
        if value.is_empty() {
            return Err(ParseError::new("must not be empty"));
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new("must be at most 10000 characters"));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ParseError::new("must not contain control characters"));
        }
        Ok(Self(value.to_owned()))
    }
}

macro_rules! labelled_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($text:literal, $label:literal)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// The Vietnamese label shown to people.
            pub fn label_vi(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }

            pub fn parse(value: &str) -> Result<Self, ParseError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == value)
                    .ok_or_else(|| ParseError::new(format!(
                        concat!("unknown ", stringify!($name), " `{}`"), value
                    )))
            }
        }
    };
}

labelled_enum! {
    /// The kinds of data of Q3 (and Decree 47 art. 3).
    DataKind {
        /// *Dữ liệu chủ* — master data other databases sync from (Q5.3.b).
        Master = ("master", "Dữ liệu chủ"),
        /// *Dữ liệu danh mục dùng chung* — shared code lists.
        CodeList = ("code_list", "Danh mục dùng chung"),
        /// *Dữ liệu mở*.
        Open = ("open", "Dữ liệu mở"),
        /// *Dữ liệu chuyên ngành*.
        Specialised = ("specialised", "Dữ liệu chuyên ngành"),
        /// *Dữ liệu cá nhân* (Decree 13/2023).
        Personal = ("personal", "Dữ liệu cá nhân"),
    }
}

labelled_enum! {
    /// Who may see a dataset's records.
    AccessLevel {
        Open = ("open", "Mở"),
        Public = ("public", "Công khai"),
        Restricted = ("restricted", "Hạn chế"),
        Personal = ("personal", "Dữ liệu cá nhân"),
    }
}

labelled_enum! {
    /// How a dataset is shared (Decree 47): with anyone, by default with any registered agency
    /// system (*chia sẻ mặc định*), or on a specific request (*theo yêu cầu đặc thù*).
    SharingMode {
        Open = ("open", "Chia sẻ mở"),
        Default = ("default", "Chia sẻ mặc định"),
        OnRequest = ("on_request", "Chia sẻ theo yêu cầu đặc thù"),
    }
}

labelled_enum! {
    /// How often a dataset is updated; maps to the EU frequency vocabulary in DCAT.
    UpdateFrequency {
        Continuous = ("continuous", "Liên tục"),
        Daily = ("daily", "Hằng ngày"),
        Weekly = ("weekly", "Hằng tuần"),
        Monthly = ("monthly", "Hằng tháng"),
        Quarterly = ("quarterly", "Hằng quý"),
        Annual = ("annual", "Hằng năm"),
        Irregular = ("irregular", "Không định kỳ"),
    }
}

labelled_enum! {
    /// Classification under the Law on Protection of State Secrets 2018. The platform does not
    /// take state secrets at all (Q1.2): anything marked `mat`, `toi_mat` or `tuyet_mat` is
    /// refused.
    Classification {
        Unclassified = ("unclassified", "Không mật"),
        /// *Mật*.
        Mat = ("mat", "Mật"),
        /// *Tối mật*.
        ToiMat = ("toi_mat", "Tối mật"),
        /// *Tuyệt mật*.
        TuyetMat = ("tuyet_mat", "Tuyệt mật"),
    }
}

impl Classification {
    pub fn is_state_secret(self) -> bool {
        self != Self::Unclassified
    }
}

// `labelled_enum!` derives no `Default`, so it is written out here.
#[allow(clippy::derivable_impls)]
impl Default for Classification {
    fn default() -> Self {
        Self::Unclassified
    }
}

/// A legal document an entry rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    /// e.g. "47/2020/NĐ-CP".
    pub number: Text,
    pub date: NaiveDate,
    /// e.g. "Chính phủ".
    pub issuer: Text,
    /// e.g. "Điều 11".
    #[serde(default)]
    pub article: Option<Text>,
}

/// How an entry relates to national or ministry databases (Q5.1): which ones, and whether it
/// collects what they already hold. Reviewers see the overlap flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NationalRelation {
    #[serde(default)]
    pub databases: Vec<Text>,
    pub overlaps: bool,
    #[serde(default)]
    pub note: Option<Text>,
}

/// One review criterion of Q5.3, with why it is or is not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub met: bool,
    pub justification: Text,
}

/// The criteria of Q5.3 a–c, each recorded with its justification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewCriteria {
    /// a) the data has legal value equal to paper records.
    pub legal_value: Criterion,
    /// b) it holds provincial master data other databases sync from.
    pub master_data: Criterion,
    /// c) it serves administrative procedures.
    pub administrative_procedures: Criterion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: Text,
    pub email: Email,
    #[serde(default)]
    pub phone: Option<Phone>,
}

/// A dataset's metadata (its records are hosted data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DatasetMeta {
    pub id: DatasetId,
    pub title: Text,
    pub description: LongText,
    #[serde(default)]
    pub keywords: Vec<Text>,
    #[serde(default)]
    pub themes: Vec<Text>,
    pub access_level: AccessLevel,
    pub sharing_mode: SharingMode,
    pub update_frequency: UpdateFrequency,
    /// e.g. "CC-BY-4.0" or "Giấy phép dữ liệu mở tỉnh Hà Nam".
    pub licence: Text,
    /// The provider's own rules of use (Q21.4).
    #[serde(default)]
    pub terms_of_use: Option<LongText>,
    /// A fee the law sets, shown not charged (Q11.7).
    #[serde(default)]
    pub fee_note: Option<Text>,
    pub contact: Contact,
    #[serde(default)]
    pub classification: Classification,
}

/// What a catalog entry says: one version of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, try_from = "EntryContentParts")]
pub struct EntryContent {
    pub code: EntryCode,
    pub name: Text,
    pub description: LongText,
    pub owner: AgencyCode,
    pub managing_system: SystemCode,
    /// At least one.
    pub legal_bases: Vec<LegalBasis>,
    /// At least one.
    pub data_kinds: Vec<DataKind>,
    pub national_relation: NationalRelation,
    pub criteria: ReviewCriteria,
    #[serde(default)]
    pub classification: Classification,
    #[serde(default)]
    pub datasets: Vec<DatasetMeta>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryContentParts {
    code: EntryCode,
    name: Text,
    description: LongText,
    owner: AgencyCode,
    managing_system: SystemCode,
    legal_bases: Vec<LegalBasis>,
    data_kinds: Vec<DataKind>,
    national_relation: NationalRelation,
    criteria: ReviewCriteria,
    #[serde(default)]
    classification: Classification,
    #[serde(default)]
    datasets: Vec<DatasetMeta>,
}

impl TryFrom<EntryContentParts> for EntryContent {
    type Error = ParseError;
    fn try_from(p: EntryContentParts) -> Result<Self, ParseError> {
        if p.legal_bases.is_empty() {
            return Err(ParseError::new("an entry needs at least one legal basis"));
        }
        if p.data_kinds.is_empty() {
            return Err(ParseError::new("an entry needs at least one data kind"));
        }
        let mut ids: Vec<&DatasetId> = p.datasets.iter().map(|d| &d.id).collect();
        ids.sort();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(ParseError::new(format!(
                "dataset id `{}` appears twice",
                pair[0]
            )));
        }
        Ok(Self {
            code: p.code,
            name: p.name,
            description: p.description,
            owner: p.owner,
            managing_system: p.managing_system,
            legal_bases: p.legal_bases,
            data_kinds: p.data_kinds,
            national_relation: p.national_relation,
            criteria: p.criteria,
            classification: p.classification,
            datasets: p.datasets,
        })
    }
}

impl EntryContent {
    /// What in this entry is classified as a state secret, if anything (Q1.2).
    pub fn state_secret(&self) -> Option<String> {
        if self.classification.is_state_secret() {
            return Some(format!(
                "entry {} is classified `{}`",
                self.code,
                self.classification.as_str()
            ));
        }
        self.datasets
            .iter()
            .find(|d| d.classification.is_state_secret())
            .map(|d| {
                format!(
                    "dataset {} is classified `{}`",
                    d.id,
                    d.classification.as_str()
                )
            })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid entry in JSON, for tests that change one field of it.
    pub fn sample_entry_json() -> serde_json::Value {
        serde_json::json!({
            "code": "CSDL.DATDAI",
            "name": "Cơ sở dữ liệu đất đai",
            "description": "Thông tin thửa đất, quyền sử dụng đất trên địa bàn tỉnh.",
            "owner": "000.00.06.H35",
            "managing_system": "dat-dai",
            "legal_bases": [{"number": "47/2020/NĐ-CP", "date": "2020-04-09", "issuer": "Chính phủ", "article": "Điều 11"}],
            "data_kinds": ["master", "specialised"],
            "national_relation": {"databases": ["Cơ sở dữ liệu quốc gia về đất đai"], "overlaps": false},
            "criteria": {
                "legal_value": {"met": true, "justification": "Dữ liệu được ký số"},
                "master_data": {"met": true, "justification": "Là dữ liệu gốc về thửa đất"},
                "administrative_procedures": {"met": true, "justification": "Phục vụ thủ tục đất đai"}
            },
            "datasets": [{
                "id": "gia-dat", "title": "Bảng giá đất", "description": "Bảng giá đất tỉnh Hà Nam",
                "keywords": ["giá đất"], "themes": ["Đất đai"], "access_level": "open",
                "sharing_mode": "open", "update_frequency": "annual", "licence": "CC-BY-4.0",
                "contact": {"name": "Phòng Giá đất", "email": "giadat@stnmt.hanam.gov.vn"}
            }]
        })
    }

    #[test]
    fn a_valid_entry_parses() {
        let entry: EntryContent = serde_json::from_value(sample_entry_json()).unwrap();
        assert_eq!(
            entry.datasets[0].classification,
            Classification::Unclassified
        );
        assert!(entry.state_secret().is_none());
    }

    #[test]
    fn entries_need_legal_bases_and_kinds_and_unique_datasets() {
        let mut no_basis = sample_entry_json();
        no_basis["legal_bases"] = serde_json::json!([]);
        assert!(serde_json::from_value::<EntryContent>(no_basis).is_err());
        let mut no_kind = sample_entry_json();
        no_kind["data_kinds"] = serde_json::json!([]);
        assert!(serde_json::from_value::<EntryContent>(no_kind).is_err());
        let mut twice = sample_entry_json();
        let dataset = twice["datasets"][0].clone();
        twice["datasets"].as_array_mut().unwrap().push(dataset);
        let err = serde_json::from_value::<EntryContent>(twice).unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
    }

    #[test]
    fn q1_2_state_secrets_are_recognised_on_entries_and_datasets() {
        for level in ["mat", "toi_mat", "tuyet_mat"] {
            let mut entry = sample_entry_json();
            entry["classification"] = serde_json::json!(level);
            let parsed: EntryContent = serde_json::from_value(entry).unwrap();
            assert!(parsed.state_secret().unwrap().contains(level));
            let mut dataset = sample_entry_json();
            dataset["datasets"][0]["classification"] = serde_json::json!(level);
            let parsed: EntryContent = serde_json::from_value(dataset).unwrap();
            assert!(parsed.state_secret().unwrap().contains("gia-dat"));
        }
    }

    #[test]
    fn codes_and_ids() {
        assert!(EntryCode::parse("CSDL.DATDAI").is_ok());
        assert!(EntryCode::parse("csdl").is_err());
        assert!(DatasetId::parse("gia-dat-2026").is_ok());
        assert!(DatasetId::parse("Gia Dat").is_err());
        assert_eq!(
            SharingMode::parse("on_request").unwrap(),
            SharingMode::OnRequest
        );
    }
}
