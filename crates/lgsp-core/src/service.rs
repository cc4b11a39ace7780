//! Services (*dịch vụ chia sẻ dữ liệu*): REST endpoints of a provider's information system that
//! the gateway exposes at `/x/{agency}/{system}/{service}/{version}/…` (Q7.2, Q8.1).
//!
//! Everything a provider registers is parsed here: the code and version that appear in gateway
//! paths, the upstream URL that must stay on the provider's registered system (the gateway is
//! never an open proxy), the OpenAPI document (3.0 or 3.1), the shareable fields as RFC 6901
//! JSON pointers, and the lifecycle `draft → published → deprecated → retired`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{Classification, SharingMode};
use crate::system::HttpUrl;
use crate::text::{string_newtype, ParseError, Text};

string_newtype! {
    /// The code of a service within its system, as it appears in gateway paths: 2–64
    /// characters of `[a-z0-9-]`, starting and ending with a letter or digit.
    ServiceCode
}

impl ServiceCode {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        let bytes = value.as_bytes();
        let edge_ok =
            |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let ok = (2..=64).contains(&value.len())
            && edge_ok(bytes.first())
            && edge_ok(bytes.last())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if !ok {
            return Err(ParseError::new(
                "a service code is 2 to 64 characters of a-z, 0-9 and `-`, starting and ending with a letter or digit",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype! {
    /// The version of a service in gateway paths: `v` and a number, optionally with minor
    /// numbers (`v1`, `v2`, `v2.1`), at most 16 characters.
    ServiceVersion
}

impl ServiceVersion {
    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        let ok = value.len() <= 16
            && value.strip_prefix('v').is_some_and(|numbers| {
                numbers
                    .split('.')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            });
        if !ok {
            return Err(ParseError::new(
                "a service version is `v` followed by a number, e.g. `v1` or `v2.1`",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// An HTTP method a service accepts through the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// The method named exactly (upper case), if services may take it.
    pub fn parse(name: &str) -> Result<Self, ParseError> {
        [Self::Get, Self::Post, Self::Put, Self::Patch, Self::Delete]
            .into_iter()
            .find(|m| m.as_str() == name)
            .ok_or_else(|| ParseError::new(format!("`{name}` is not a method services take")))
    }
}

/// The methods a service accepts: at least one, each once, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "Vec<HttpMethod>", into = "Vec<HttpMethod>")]
pub struct Methods(Vec<HttpMethod>);

impl Methods {
    pub fn new(mut methods: Vec<HttpMethod>) -> Result<Self, ParseError> {
        methods.sort();
        methods.dedup();
        if methods.is_empty() {
            return Err(ParseError::new("a service accepts at least one method"));
        }
        Ok(Self(methods))
    }

    pub fn as_slice(&self) -> &[HttpMethod] {
        &self.0
    }

    pub fn allows(&self, method: HttpMethod) -> bool {
        self.0.contains(&method)
    }
}

impl TryFrom<Vec<HttpMethod>> for Methods {
    type Error = ParseError;
    fn try_from(value: Vec<HttpMethod>) -> Result<Self, ParseError> {
        Self::new(value)
    }
}

impl From<Methods> for Vec<HttpMethod> {
    fn from(value: Methods) -> Self {
        value.0
    }
}

string_newtype! {
    /// A JSON pointer (RFC 6901) naming a member of a response: `/` followed by reference
    /// tokens separated by `/`, in which `~` is only ever `~0` (a `~`) or `~1` (a `/`). The
    /// empty pointer (the whole document) is not a field and is refused.
    JsonPointer
}

impl JsonPointer {
    pub const MAX_LEN: usize = 1000;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref();
        let invalid = |why: &str| {
            ParseError::new(format!("`{value}` is not a JSON pointer (RFC 6901): {why}"))
        };
        if value.is_empty() {
            return Err(invalid(
                "the empty pointer names the whole document, not a field",
            ));
        }
        if !value.starts_with('/') {
            return Err(invalid("it must start with `/`"));
        }
        if value.len() > Self::MAX_LEN {
            return Err(invalid("it is longer than 1000 bytes"));
        }
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(invalid("`~` must be followed by `0` or `1`"));
            }
        }
        Ok(Self(value.to_owned()))
    }

    /// Builds the pointer to a path of member names (escaping `~` and `/`).
    pub fn from_tokens<S: AsRef<str>>(tokens: &[S]) -> Result<Self, ParseError> {
        let mut text = String::new();
        for token in tokens {
            text.push('/');
            text.push_str(&token.as_ref().replace('~', "~0").replace('/', "~1"));
        }
        Self::parse(text)
    }

    /// The reference tokens, unescaped (`~1` → `/`, then `~0` → `~`, as RFC 6901 §4 says).
    pub fn tokens(&self) -> Vec<String> {
        self.0[1..]
            .split('/')
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
            .collect()
    }

    /// Whether this pointer is `ancestor` or lies inside it (`/a/b` is within `/a`).
    pub fn is_within(&self, ancestor: &JsonPointer) -> bool {
        let (mine, theirs) = (self.tokens(), ancestor.tokens());
        mine.len() >= theirs.len() && mine[..theirs.len()] == theirs[..]
    }

    /// The value this pointer names in `document`, if any (RFC 6901 §4).
    pub fn resolve<'v>(&self, document: &'v Value) -> Option<&'v Value> {
        self.tokens()
            .iter()
            .try_fold(document, |value, token| match value {
                Value::Object(map) => map.get(token),
                Value::Array(items) => token
                    .parse::<usize>()
                    .ok()
                    .filter(|_| token == "0" || !token.starts_with('0'))
                    .and_then(|i| items.get(i)),
                _ => None,
            })
    }
}

/// The fields of a service's responses a provider agrees to share (Q8.4): at least one JSON
/// pointer, each once. Grants pick from these; the gateway keeps only the granted ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "Vec<JsonPointer>", into = "Vec<JsonPointer>")]
pub struct ShareableFields(Vec<JsonPointer>);

impl ShareableFields {
    pub fn new(fields: Vec<JsonPointer>) -> Result<Self, ParseError> {
        if fields.is_empty() {
            return Err(ParseError::new(
                "a service shares at least one field (a JSON pointer such as `/ho_ten`)",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = fields.iter().find(|f| !seen.insert(f.as_str())) {
            return Err(ParseError::new(format!(
                "the field `{twice}` is listed twice"
            )));
        }
        Ok(Self(fields))
    }

    pub fn as_slice(&self) -> &[JsonPointer] {
        &self.0
    }
}

impl TryFrom<Vec<JsonPointer>> for ShareableFields {
    type Error = ParseError;
    fn try_from(value: Vec<JsonPointer>) -> Result<Self, ParseError> {
        Self::new(value)
    }
}

impl From<ShareableFields> for Vec<JsonPointer> {
    fn from(value: ShareableFields) -> Self {
        value.0
    }
}

string_newtype! {
    /// The connection guide a provider writes for a service (Q8.1, Q15.2.a): Markdown or plain
    /// text, trimmed, non-empty, at most 100 000 characters, no control characters but line
    /// breaks and tabs. Shown publicly once the service is published.
    ServiceDocs
}

impl ServiceDocs {
    pub const MAX_CHARS: usize = 100_000;

    pub fn parse(value: impl AsRef<str>) -> Result<Self, ParseError> {
        let value = value.as_ref().trim();
        if value.is_empty() {
            return Err(ParseError::new("the connection guide must not be empty"));
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                "the connection guide must be at most 100000 characters",
            ));
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ParseError::new(
                "the connection guide must not contain control characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// The operations an OpenAPI path item may hold.
const OPERATIONS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A service's OpenAPI document (3.0.x or 3.1.x), checked for what the platform relies on: the
/// version, `info.title`, `info.version` and a `paths` object of path items whose keys start
/// with `/` and whose operations are objects. Kept as the provider wrote it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "Value")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = Object))]
pub struct OpenApiDocument(Value);

impl OpenApiDocument {
    /// Checks `document`; the error names the first problem found, by its place in the
    /// document.
    pub fn parse(document: Value) -> Result<Self, ParseError> {
        let fail = |why: String| Err(ParseError::new(why));
        let Value::Object(root) = &document else {
            return fail("an OpenAPI document is a JSON object".into());
        };
        match root.get("openapi") {
            Some(Value::String(version)) if is_openapi_3(version) => {}
            Some(other) => {
                return fail(format!(
                    "`openapi` must be a 3.0.x or 3.1.x version string, not {other}"
                ))
            }
            None if root.contains_key("swagger") => {
                return fail(
                    "`openapi` is missing: this looks like Swagger 2.0; convert it to OpenAPI 3"
                        .into(),
                )
            }
            None => return fail("`openapi` (the version, e.g. \"3.1.0\") is missing".into()),
        }
        let Some(Value::Object(info)) = root.get("info") else {
            return fail("`info` must be an object".into());
        };
        match info.get("title") {
            Some(Value::String(title)) if !title.trim().is_empty() => {}
            _ => return fail("`info.title` must be a non-empty string".into()),
        }
        match info.get("version") {
            Some(Value::String(version)) if !version.trim().is_empty() => {}
            _ => return fail("`info.version` must be a non-empty string".into()),
        }
        let Some(Value::Object(paths)) = root.get("paths") else {
            return fail("`paths` must be an object".into());
        };
        for (path, item) in paths {
            if path.starts_with("x-") {
                continue;
            }
            if !path.starts_with('/') {
                return fail(format!("path `{path}` in `paths` must start with `/`"));
            }
            let Value::Object(item) = item else {
                return fail(format!("`paths.{path}` must be an object"));
            };
            for operation in OPERATIONS {
                if item.get(operation).is_some_and(|op| !op.is_object()) {
                    return fail(format!("`paths.{path}.{operation}` must be an object"));
                }
            }
        }
        Ok(Self(document))
    }

    pub fn as_value(&self) -> &Value {
        &self.0
    }

    /// `info.title`.
    pub fn title(&self) -> &str {
        self.0["info"]["title"].as_str().unwrap_or_default()
    }

    /// The `openapi` version string.
    pub fn version(&self) -> &str {
        self.0["openapi"].as_str().unwrap_or_default()
    }

    /// Paths with a GET operation and no path parameters: what a conformance check can call
    /// without knowing any value. In the document's key order (sorted).
    pub fn probe_paths(&self) -> Vec<String> {
        self.0["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(path, item)| {
                path.starts_with('/') && !path.contains('{') && item.get("get").is_some()
            })
            .map(|(path, _)| path.clone())
            .collect()
    }
}

impl From<OpenApiDocument> for Value {
    fn from(value: OpenApiDocument) -> Self {
        value.0
    }
}

fn is_openapi_3(version: &str) -> bool {
    let mut parts = version.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("3"), Some("0" | "1"), Some(patch), None)
            if !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit())
    )
}

/// Why an upstream URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream is not on the provider system's scheme, host and port.
    #[error("the upstream URL must be on the provider system's registered origin {expected}, not {found}")]
    OtherOrigin { expected: String, found: String },
    /// The gateway appends the request's path and query; the base has none of its own.
    #[error("the upstream base URL must not have a query")]
    HasQuery,
}

/// Checks that `upstream` lies on the origin (scheme, host, port) of the provider system's
/// registered base URL, so the gateway only ever forwards to registered systems (no open
/// proxy, no SSRF to other hosts). Callers check again before each use, since a system's base
/// URL can change after a service was registered.
pub fn check_upstream(system_base: &HttpUrl, upstream: &HttpUrl) -> Result<(), UpstreamError> {
    let (expected, found) = (system_base.origin(), upstream.origin());
    if expected != found {
        return Err(UpstreamError::OtherOrigin {
            expected: expected.to_string(),
            found: found.to_string(),
        });
    }
    if upstream.has_query() {
        return Err(UpstreamError::HasQuery);
    }
    Ok(())
}

/// Where a service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceState {
    /// Registered, editable, not reachable through the gateway.
    Draft,
    /// Open to consumers and shown on the portal.
    Published,
    /// Still served to existing grants; no new subscriptions.
    Deprecated,
    /// No longer served. Final.
    Retired,
}

impl ServiceState {
    pub const ALL: [ServiceState; 4] = [
        Self::Draft,
        Self::Published,
        Self::Deprecated,
        Self::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Deprecated => "deprecated",
            Self::Retired => "retired",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Draft => "Bản nháp",
            Self::Published => "Đã công bố",
            Self::Deprecated => "Ngừng khuyến nghị",
            Self::Retired => "Đã ngừng cung cấp",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown service state `{value}`")))
    }

    /// Whether the gateway serves the service: published or deprecated.
    pub fn is_served(self) -> bool {
        matches!(self, Self::Published | Self::Deprecated)
    }
}

/// A step of a service's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LifecycleStep {
    Publish,
    Deprecate,
    Retire,
}

impl LifecycleStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Deprecate => "deprecate",
            Self::Retire => "retire",
        }
    }
}

/// A step the service's state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {} service cannot {}", from.as_str(), step.as_str())]
pub struct LifecycleError {
    pub from: ServiceState,
    pub step: LifecycleStep,
}

/// `draft → published → deprecated → retired`; a published service may also retire at once.
pub fn take_step(from: ServiceState, step: LifecycleStep) -> Result<ServiceState, LifecycleError> {
    use LifecycleStep::*;
    use ServiceState::*;
    match (from, step) {
        (Draft, Publish) => Ok(Published),
        (Published, Deprecate) => Ok(Deprecated),
        (Published | Deprecated, Retire) => Ok(Retired),
        _ => Err(LifecycleError { from, step }),
    }
}

/// What a provider registers for a service (everything but who provides it), parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub code: ServiceCode,
    pub version: ServiceVersion,
    pub name: Text,
    pub upstream_url: HttpUrl,
    pub methods: Methods,
    pub openapi: OpenApiDocument,
    pub shareable_fields: ShareableFields,
    pub sharing_mode: SharingMode,
    pub docs: ServiceDocs,
    pub classification: Classification,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn url(s: &str) -> HttpUrl {
        HttpUrl::parse(s).unwrap()
    }

    #[test]
    fn codes_and_versions() {
        for ok in ["tra-cuu-khai-sinh", "v2", "a1"] {
            assert!(ServiceCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-ab", "ab-", "Ab", "a_b", "a.b", &"a".repeat(65)] {
            assert!(ServiceCode::parse(bad).is_err(), "{bad}");
        }
        for ok in ["v1", "v2.1", "v10.0.3"] {
            assert!(ServiceVersion::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1",
            "v",
            "v1.",
            "V1",
            "v1a",
            "v1..2",
            "v1234567890123456",
        ] {
            assert!(ServiceVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn methods_are_a_non_empty_set() {
        let methods: Methods = serde_json::from_value(json!(["POST", "GET", "GET"])).unwrap();
        assert_eq!(methods.as_slice(), &[HttpMethod::Get, HttpMethod::Post]);
        assert!(serde_json::from_value::<Methods>(json!([])).is_err());
        assert!(serde_json::from_value::<Methods>(json!(["get"])).is_err());
        assert!(serde_json::from_value::<Methods>(json!(["CONNECT"])).is_err());
    }

    #[test]
    fn json_pointers_follow_rfc_6901() {
        // RFC 6901 §5 example document and pointers.
        let doc = json!({
            "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
            "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8
        });
        let cases = [
            ("/foo", json!(["bar", "baz"])),
            ("/foo/0", json!("bar")),
            ("/", json!(0)),
            ("/a~1b", json!(1)),
            ("/c%d", json!(2)),
            ("/e^f", json!(3)),
            ("/g|h", json!(4)),
            ("/i\\j", json!(5)),
            ("/k\"l", json!(6)),
            ("/ ", json!(7)),
            ("/m~0n", json!(8)),
        ];
        for (pointer, expected) in cases {
            let parsed = JsonPointer::parse(pointer).unwrap();
            assert_eq!(parsed.resolve(&doc), Some(&expected), "{pointer}");
        }
        assert_eq!(JsonPointer::parse("/foo/01").unwrap().resolve(&doc), None);
        assert_eq!(JsonPointer::parse("/foo/-").unwrap().resolve(&doc), None);
        for bad in [
            "",
            "foo",
            "/a~",
            "/a~2",
            "/~x/b",
            &format!("/{}", "a".repeat(1000)),
        ] {
            assert!(JsonPointer::parse(bad).is_err(), "{bad}");
        }
        let tokens = JsonPointer::parse("/a~1b/m~0n/~01").unwrap().tokens();
        assert_eq!(tokens, ["a/b", "m~n", "~1"]);
    }

    #[test]
    fn pointers_nest() {
        let p = |s: &str| JsonPointer::parse(s).unwrap();
        assert!(p("/dia_chi/tinh").is_within(&p("/dia_chi")));
        assert!(p("/dia_chi").is_within(&p("/dia_chi")));
        assert!(!p("/dia_chi_cu").is_within(&p("/dia_chi")));
        assert!(!p("/dia_chi").is_within(&p("/dia_chi/tinh")));
    }

    #[test]
    fn shareable_fields_are_some_and_unique() {
        assert!(serde_json::from_value::<ShareableFields>(json!([])).is_err());
        assert!(serde_json::from_value::<ShareableFields>(json!(["/a", "/a"])).is_err());
        assert!(serde_json::from_value::<ShareableFields>(json!(["a"])).is_err());
        assert!(serde_json::from_value::<ShareableFields>(json!(["/a", "/b/c"])).is_ok());
    }

    fn openapi() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "Tra cứu hộ tịch", "version": "1.0.0"},
            "paths": {
                "/khai-sinh": {"get": {"responses": {"200": {"description": "OK"}}}},
                "/khai-sinh/{so}": {"get": {"responses": {"200": {"description": "OK"}}}},
                "/nop-ho-so": {"post": {"responses": {"201": {"description": "OK"}}}}
            }
        })
    }

    #[test]
    fn openapi_documents_are_checked_and_name_the_problem() {
        let doc = OpenApiDocument::parse(openapi()).unwrap();
        assert_eq!(doc.title(), "Tra cứu hộ tịch");
        assert_eq!(doc.probe_paths(), ["/khai-sinh"]);
        assert!(OpenApiDocument::parse(
            json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}})
        )
        .is_ok());

        let broken = |change: &dyn Fn(&mut Value), expected: &str| {
            let mut doc = openapi();
            change(&mut doc);
            let error = OpenApiDocument::parse(doc).unwrap_err().0;
            assert!(error.contains(expected), "{error} should name {expected}");
        };
        broken(&|d| d["openapi"] = json!("2.0"), "`openapi`");
        broken(&|d| d["openapi"] = json!("3.2"), "`openapi`");
        broken(&|d| d["openapi"] = json!(3.1), "`openapi`");
        broken(
            &|d| {
                d.as_object_mut().unwrap().remove("openapi");
                d["swagger"] = json!("2.0");
            },
            "Swagger 2.0",
        );
        broken(
            &|d| {
                d.as_object_mut().unwrap().remove("openapi");
            },
            "`openapi`",
        );
        broken(&|d| d["info"] = json!("x"), "`info`");
        broken(&|d| d["info"]["title"] = json!(" "), "`info.title`");
        broken(
            &|d| {
                d["info"].as_object_mut().unwrap().remove("version");
            },
            "`info.version`",
        );
        broken(
            &|d| {
                d.as_object_mut().unwrap().remove("paths");
            },
            "`paths`",
        );
        broken(&|d| d["paths"] = json!([]), "`paths`");
        broken(&|d| d["paths"]["khong-gach"] = json!({}), "`khong-gach`");
        broken(
            &|d| d["paths"]["/x"] = json!({"get": true}),
            "`paths./x.get`",
        );
        assert!(OpenApiDocument::parse(json!([1])).is_err());
    }

    #[test]
    fn upstreams_stay_on_the_registered_origin() {
        let base = url("https://hotich.stp.hanam.gov.vn/api");
        for ok in [
            "https://hotich.stp.hanam.gov.vn/lgsp/v1",
            "https://HOTICH.stp.hanam.gov.vn:443/",
            "https://hotich.stp.hanam.gov.vn",
        ] {
            assert_eq!(check_upstream(&base, &url(ok)), Ok(()), "{ok}");
        }
        for bad in [
            "http://hotich.stp.hanam.gov.vn/lgsp",
            "https://hotich.stp.hanam.gov.vn:8443/lgsp",
            "https://hotich.stp.hanam.gov.vn.example.com/",
            "https://stp.hanam.gov.vn/",
            "https://127.0.0.1/",
            "https://169.254.169.254/latest/meta-data",
        ] {
            assert!(
                matches!(
                    check_upstream(&base, &url(bad)),
                    Err(UpstreamError::OtherOrigin { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            check_upstream(&base, &url("https://hotich.stp.hanam.gov.vn/a?b=1")),
            Err(UpstreamError::HasQuery)
        );
    }

    #[test]
    fn lifecycle_goes_draft_published_deprecated_retired() {
        use LifecycleStep::*;
        use ServiceState::*;
        let steps = [Publish, Deprecate, Retire];
        for from in ServiceState::ALL {
            for step in steps {
                let legal = matches!(
                    (from, step),
                    (Draft, Publish) | (Published, Deprecate) | (Published | Deprecated, Retire)
                );
                assert_eq!(take_step(from, step).is_ok(), legal, "{from:?} {step:?}");
            }
        }
        assert_eq!(take_step(Draft, Publish), Ok(Published));
        assert_eq!(take_step(Published, Deprecate), Ok(Deprecated));
        assert_eq!(take_step(Deprecated, Retire), Ok(Retired));
        assert_eq!(
            take_step(Retired, Publish).unwrap_err().to_string(),
            "a retired service cannot publish"
        );
        assert!(!Draft.is_served() && Published.is_served() && Deprecated.is_served());
        assert!(!Retired.is_served());
    }

    proptest! {
        /// Any member names make a pointer that parses back to the same names.
        #[test]
        fn pointers_round_trip(tokens in proptest::collection::vec(".{0,12}", 1..5)) {
            let pointer = JsonPointer::from_tokens(&tokens).unwrap();
            prop_assert_eq!(JsonPointer::parse(pointer.as_str()).unwrap().tokens(), tokens);
        }

        /// A pointer never panics the parser, and a parsed one always resolves without panic.
        #[test]
        fn pointer_parsing_is_total(raw in "\\PC{0,40}") {
            if let Ok(pointer) = JsonPointer::parse(&raw) {
                let _ = pointer.resolve(&json!({"a": [1, {"b": 2}]}));
            }
        }

        /// Every path on the system's origin is accepted; every other host is refused.
        #[test]
        fn upstream_check_is_the_origin(
            path in "(/[a-z0-9._~-]{0,10}){0,4}",
            host in "[a-z]{1,10}(\\.[a-z]{1,5}){0,3}",
        ) {
            let base = url("https://he-thong.hanam.gov.vn");
            let same = url(&format!("https://he-thong.hanam.gov.vn{path}"));
            prop_assert_eq!(check_upstream(&base, &same), Ok(()));
            prop_assume!(host != "he-thong.hanam.gov.vn");
            let other = url(&format!("https://{host}{path}"));
            prop_assert!(check_upstream(&base, &other).is_err());
        }
    }
}
