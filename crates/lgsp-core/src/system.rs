//! Information systems (*hệ thống thông tin*) of agencies and how they connect (Q7.1, Q9, Q10.2,
//! Q21.3).

use serde::{Deserialize, Serialize};

use crate::text::{string_newtype, ParseError, Text};
use crate::AgencyCode;

string_newtype! {
    /// The code of a system within its agency: 1–64 characters of `[A-Za-z0-9._-]`, starting
    /// with a letter or digit. It appears in gateway paths, so it is URL-safe by construction.
    SystemCode
}

impl SystemCode {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        let first_ok = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !first_ok || !rest_ok || value.len() > 64 {
            return Err(ParseError::new(
                "system code must be 1 to 64 characters of A-Z, a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// The security level (*cấp độ an toàn hệ thống thông tin*, 1–5) a system was classified at
/// under Decree 85/2016/NĐ-CP (Q10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityLevel(u8);

impl SecurityLevel {
    pub fn parse(value: i64) -> Result<Self, ParseError> {
        match u8::try_from(value) {
            Ok(level @ 1..=5) => Ok(Self(level)),
            _ => Err(ParseError::new("security level must be 1 to 5")),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<i64> for SecurityLevel {
    type Error = ParseError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<SecurityLevel> for i64 {
    fn from(value: SecurityLevel) -> Self {
        i64::from(value.0)
    }
}

string_newtype! {
    /// An absolute `http` or `https` URL with a host, no credentials and no fragment.
    HttpUrl
}

impl HttpUrl {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref().trim();
        let invalid = |why: &str| ParseError::new(format!("`{value}` is not a usable URL: {why}"));
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .ok_or_else(|| invalid("it must start with http:// or https://"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.is_empty() || authority.starts_with(':') {
            return Err(invalid("it has no host"));
        }
        if authority.contains('@') {
            return Err(invalid("credentials do not belong in a URL"));
        }
        if value.contains('#') {
            return Err(invalid("it must not have a fragment"));
        }
        if value.len() > 2000 || value.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it is too long or contains spaces"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The `host[:port]` part, lower-cased: what the gateway compares to decide whether a
    /// service URL belongs to a registered system.
    pub fn authority(&self) -> String {
        let rest = self.0.split_once("://").map_or("", |(_, rest)| rest);
        rest.split(['/', '?'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// Scheme, lower-cased host and port (the scheme's default when absent): two URLs reach
    /// the same server exactly when their origins are equal (RFC 6454).
    pub fn origin(&self) -> Origin {
        let (scheme, _) = self.0.split_once("://").unwrap_or(("http", ""));
        let scheme = scheme.to_ascii_lowercase();
        let authority = self.authority();
        let default_port = if scheme == "https" { 443 } else { 80 };
        // An IPv6 literal keeps its brackets; the port follows the closing one.
        let (host, port) = match authority.rfind(':') {
            Some(colon) if !authority[colon..].contains(']') => {
                let port = &authority[colon + 1..];
                (
                    authority[..colon].to_owned(),
                    // An unparsable port cannot equal any registered one.
                    port.parse::<u16>().ok().map(u32::from).unwrap_or(u32::MAX),
                )
            }
            _ => (authority.clone(), default_port),
        };
        Origin { scheme, host, port }
    }

    /// Whether the URL has a query part.
    pub fn has_query(&self) -> bool {
        self.0.contains('?')
    }
}

/// Where a URL leads: scheme, host and port (see [`HttpUrl::origin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    /// `u32::MAX` for a port that is not a number.
    pub port: u32,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// How a system connects for sharing (Q9): through the LGSP gateway, or over another existing
/// channel, which must then be described.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConnectionModel {
    Lgsp,
    Other { description: Text },
}

impl ConnectionModel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Lgsp => "lgsp",
            Self::Other { .. } => "other",
        }
    }

    pub fn description(&self) -> Option<&Text> {
        match self {
            Self::Lgsp => None,
            Self::Other { description } => Some(description),
        }
    }

    /// Rebuilds the model from its stored parts.
    pub fn from_parts(model: &str, description: Option<String>) -> Result<Self, ParseError> {
        match (model, description) {
            ("lgsp", _) => Ok(Self::Lgsp),
            ("other", Some(description)) => Ok(Self::Other {
                description: Text::parse(description)?,
            }),
            ("other", None) => Err(ParseError::new(
                "a connection by another channel needs a description",
            )),
            (other, _) => Err(ParseError::new(format!(
                "unknown connection model `{other}`"
            ))),
        }
    }
}

/// Whether an existing system can connect to the shared database system (Q21.3.a–b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Readiness {
    /// Not assessed yet.
    Unassessed,
    /// Assessed and able to connect.
    Ready,
    /// Cannot connect as it is; the findings say what must be upgraded (Q21.3.b).
    NeedsUpgrade { findings: Findings },
}

impl Readiness {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unassessed => "unassessed",
            Self::Ready => "ready",
            Self::NeedsUpgrade { .. } => "needs_upgrade",
        }
    }

    pub fn findings(&self) -> &[Text] {
        match self {
            Self::NeedsUpgrade { findings } => findings.as_slice(),
            _ => &[],
        }
    }

    /// Rebuilds a readiness from its stored parts.
    pub fn from_parts(status: &str, findings: Vec<Text>) -> Result<Self, ParseError> {
        match status {
            "unassessed" => Ok(Self::Unassessed),
            "ready" => Ok(Self::Ready),
            "needs_upgrade" => Ok(Self::NeedsUpgrade {
                findings: Findings::new(findings)?,
            }),
            other => Err(ParseError::new(format!(
                "unknown readiness status `{other}`"
            ))),
        }
    }
}

/// At least one finding: a system that needs upgrading must say why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Text>", into = "Vec<Text>")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Findings(Vec<Text>);

impl Findings {
    pub fn new(findings: Vec<Text>) -> Result<Self, ParseError> {
        if findings.is_empty() {
            return Err(ParseError::new(
                "a system that needs upgrading must list at least one finding",
            ));
        }
        Ok(Self(findings))
    }

    pub fn as_slice(&self) -> &[Text] {
        &self.0
    }
}

impl TryFrom<Vec<Text>> for Findings {
    type Error = ParseError;
    fn try_from(value: Vec<Text>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Findings> for Vec<Text> {
    fn from(value: Findings) -> Self {
        value.0
    }
}

/// An information system ready to be registered under its agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSystem {
    pub code: SystemCode,
    pub name: Text,
    pub security_level: SecurityLevel,
    pub connection: ConnectionModel,
    pub base_url: HttpUrl,
    #[serde(default)]
    pub health_url: Option<HttpUrl>,
}

/// The agency a system belongs to, with the system's code: its identity on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemId {
    pub agency: AgencyCode,
    pub code: SystemCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q10_2_security_level_is_one_to_five() {
        assert!(SecurityLevel::parse(0).is_err());
        assert!(SecurityLevel::parse(6).is_err());
        assert!(SecurityLevel::parse(-1).is_err());
        assert_eq!(SecurityLevel::parse(3).unwrap().get(), 3);
    }

    #[test]
    fn q9_other_connection_needs_a_description() {
        assert!(serde_json::from_str::<ConnectionModel>(r#"{"model":"other"}"#).is_err());
        assert!(serde_json::from_str::<ConnectionModel>(
            r#"{"model":"other","description":"Trục liên thông văn bản quốc gia"}"#
        )
        .is_ok());
        assert_eq!(
            serde_json::from_str::<ConnectionModel>(r#"{"model":"lgsp"}"#).unwrap(),
            ConnectionModel::Lgsp
        );
    }

    #[test]
    fn q21_3_b_needs_upgrade_requires_findings() {
        assert!(
            serde_json::from_str::<Readiness>(r#"{"status":"needs_upgrade","findings":[]}"#)
                .is_err()
        );
        let readiness: Readiness =
            serde_json::from_str(r#"{"status":"needs_upgrade","findings":["Chưa hỗ trợ TLS"]}"#)
                .unwrap();
        assert_eq!(readiness.findings().len(), 1);
    }

    #[test]
    fn urls_and_system_codes() {
        let url = HttpUrl::parse("https://HCC.hanam.gov.vn:8443/api?x=1").unwrap();
        assert_eq!(url.authority(), "hcc.hanam.gov.vn:8443");
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@host/",
            "http://a b",
            "https://h/#f",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(SystemCode::parse("mot-cua.v2").is_ok());
        assert!(SystemCode::parse("-x").is_err());
        assert!(SystemCode::parse("a/b").is_err());
    }

    #[test]
    fn origins_compare_scheme_host_and_effective_port() {
        let origin = |u: &str| HttpUrl::parse(u).unwrap().origin();
        assert_eq!(origin("https://A.vn/x"), origin("https://a.vn:443/y?z"));
        assert_eq!(origin("http://a.vn"), origin("http://a.vn:80"));
        assert_ne!(origin("http://a.vn"), origin("https://a.vn"));
        assert_ne!(origin("https://a.vn:8443"), origin("https://a.vn"));
        assert_ne!(origin("https://a.vn.evil.com"), origin("https://a.vn"));
        assert_eq!(origin("http://[::1]:8080/x").host, "[::1]");
        assert_eq!(origin("http://[::1]:8080/x").port, 8080);
        assert_eq!(origin("http://[::1]/x").port, 80);
        assert_eq!(origin("http://127.0.0.1:0x50/").port, u32::MAX);
    }
}
