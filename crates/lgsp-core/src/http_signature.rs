//! HTTP Message Signatures (RFC 9421): which parts of a message a signature covers, the
//! signature base built from them, and the `Signature-Input` / `Signature` fields that carry
//! them. No keys and no IO here: the server signs the base with the platform key and checks
//! signatures it is shown.
//!
//! The platform signs with one label (`sig1`) and only the parameters `created`, `keyid` and
//! `alg="ed25519"`, so that common verifiers accept its signatures. Covered components are the
//! derived components `@method`, `@target-uri`, `@authority`, `@path`, `@query`, `@status` and
//! header fields by name; component parameters (`;sf`, `;key`, `;bs`, `;req`, `;tr`) are not
//! supported and are refused when verifying, as are other signature parameters.
//!
//! The fields are RFC 8941 Structured Fields. The small parser below reads the subset they use
//! (dictionaries, inner lists, strings, tokens, integers, booleans, byte sequences) rather than
//! bringing in a general crate for two header fields.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// The label the platform signs under.
pub const LABEL: &str = "sig1";
/// The `alg` parameter of the platform's signatures (RFC 9421 §3.3.6).
pub const ED25519: &str = "ed25519";

/// Why a signature input, a signature field or a signature base could not be made or read.
/// Messages are safe to show to whoever sent the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("malformed structured field: {0}")]
    Malformed(String),
    #[error("no signature labelled `{0}`")]
    MissingLabel(String),
    #[error("unsupported component `{0}`")]
    UnsupportedComponent(String),
    #[error("component `{0}` is covered twice")]
    DuplicateComponent(String),
    #[error("unsupported signature parameter `{0}`")]
    UnsupportedParameter(String),
    #[error("the signature parameter `{0}` is missing or has the wrong type")]
    MissingParameter(&'static str),
    #[error("the message has no `{0}` to cover")]
    MissingComponent(String),
    #[error("the value of `{0}` cannot be signed (a line break or a non-ASCII character)")]
    InvalidValue(String),
    #[error("the target URI is not an absolute http(s) URI")]
    InvalidTargetUri,
}

/// A component of a message that a signature covers (RFC 9421 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Component {
    /// `@method`: the request method.
    Method,
    /// `@target-uri`: the full target URI of the request.
    TargetUri,
    /// `@authority`: host and (non-default) port, in lower case.
    Authority,
    /// `@path`: the absolute path of the target URI (`/` when empty).
    Path,
    /// `@query`: `?` and the query (just `?` when there is none).
    Query,
    /// `@status`: the response status code.
    Status,
    /// A header field, by its lower-case name.
    Field(String),
}

impl Component {
    /// A header field component; the name is lower-cased.
    pub fn field(name: &str) -> Result<Self, SignatureError> {
        Self::parse(&name.to_ascii_lowercase())
    }

    /// A component by its identifier as it appears in a signature input: `@method`, …, or a
    /// lower-case field name.
    pub fn parse(identifier: &str) -> Result<Self, SignatureError> {
        Ok(match identifier {
            "@method" => Self::Method,
            "@target-uri" => Self::TargetUri,
            "@authority" => Self::Authority,
            "@path" => Self::Path,
            "@query" => Self::Query,
            "@status" => Self::Status,
            name if !name.is_empty()
                && name.bytes().all(|b| is_tchar(b) && !b.is_ascii_uppercase()) =>
            {
                Self::Field(name.to_owned())
            }
            other => return Err(SignatureError::UnsupportedComponent(other.to_owned())),
        })
    }

    pub fn identifier(&self) -> &str {
        match self {
            Self::Method => "@method",
            Self::TargetUri => "@target-uri",
            Self::Authority => "@authority",
            Self::Path => "@path",
            Self::Query => "@query",
            Self::Status => "@status",
            Self::Field(name) => name,
        }
    }
}

/// The signature parameters, in the order they were given (the order is signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    Created,
    Keyid,
    Alg,
}

/// What one signature covers and its parameters: the member of `Signature-Input` under the
/// signature's label, and the last line of its signature base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureInput {
    components: Vec<Component>,
    /// `created`: when the signature was made, in seconds since the Unix epoch.
    pub created: i64,
    /// `keyid`: the key that made it (the platform's is its RFC 7638 thumbprint).
    pub keyid: String,
    /// `alg`, when given.
    pub alg: Option<String>,
    order: Vec<Param>,
}

impl SignatureInput {
    /// An input covering `components` (each at most once) with `created`, `keyid` and, when
    /// given, `alg`, in that order.
    pub fn new(
        components: Vec<Component>,
        created: i64,
        keyid: impl Into<String>,
        alg: Option<&str>,
    ) -> Result<Self, SignatureError> {
        check_unique(&components)?;
        let keyid = keyid.into();
        if !is_sf_string(&keyid) || alg.is_some_and(|a| !is_sf_string(a)) {
            return Err(SignatureError::InvalidValue("keyid".into()));
        }
        let mut order = vec![Param::Created, Param::Keyid];
        if alg.is_some() {
            order.push(Param::Alg);
        }
        Ok(Self {
            components,
            created,
            keyid,
            alg: alg.map(str::to_owned),
            order,
        })
    }

    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// Whether the signature covers `component`.
    pub fn covers(&self, component: &Component) -> bool {
        self.components.contains(component)
    }

    /// The inner list with its parameters, e.g.
    /// `("@method" "content-digest");created=1618884473;keyid="k";alg="ed25519"`.
    pub fn serialize(&self) -> String {
        let items: Vec<String> = self
            .components
            .iter()
            .map(|c| serialize_string(c.identifier()))
            .collect();
        let mut out = format!("({})", items.join(" "));
        for param in &self.order {
            match param {
                Param::Created => out.push_str(&format!(";created={}", self.created)),
                Param::Keyid => {
                    out.push_str(";keyid=");
                    out.push_str(&serialize_string(&self.keyid));
                }
                Param::Alg => {
                    if let Some(alg) = &self.alg {
                        out.push_str(";alg=");
                        out.push_str(&serialize_string(alg));
                    }
                }
            }
        }
        out
    }

    /// The `Signature-Input` field value holding this input under `label`.
    pub fn header_value(&self, label: &str) -> String {
        format!("{label}={}", self.serialize())
    }

    /// The input labelled `label` in a `Signature-Input` field value.
    pub fn from_header(value: &str, label: &str) -> Result<Self, SignatureError> {
        let dictionary = sf::parse_dictionary(value)?;
        let member = dictionary
            .into_iter()
            .rev()
            .find(|(key, _)| key == label)
            .map(|(_, member)| member)
            .ok_or_else(|| SignatureError::MissingLabel(label.to_owned()))?;
        let sf::Member::InnerList(items, params) = member else {
            return Err(SignatureError::Malformed(
                "a signature input is an inner list".into(),
            ));
        };
        let mut components = Vec::with_capacity(items.len());
        for item in items {
            let sf::BareItem::String(identifier) = item.value else {
                return Err(SignatureError::Malformed(
                    "component identifiers are strings".into(),
                ));
            };
            if let Some((name, _)) = item.params.first() {
                return Err(SignatureError::UnsupportedComponent(format!(
                    "{identifier};{name}"
                )));
            }
            components.push(Component::parse(&identifier)?);
        }
        check_unique(&components)?;
        let (mut created, mut keyid, mut alg, mut order) = (None, None, None, Vec::new());
        for (name, value) in params {
            let param = match (name.as_str(), value) {
                ("created", sf::BareItem::Integer(n)) => {
                    created = Some(n);
                    Param::Created
                }
                ("keyid", sf::BareItem::String(s)) => {
                    keyid = Some(s);
                    Param::Keyid
                }
                ("alg", sf::BareItem::String(s)) => {
                    alg = Some(s);
                    Param::Alg
                }
                ("created", _) => return Err(SignatureError::MissingParameter("created")),
                ("keyid", _) => return Err(SignatureError::MissingParameter("keyid")),
                ("alg", _) => return Err(SignatureError::MissingParameter("alg")),
                (other, _) => return Err(SignatureError::UnsupportedParameter(other.to_owned())),
            };
            if order.contains(&param) {
                return Err(SignatureError::Malformed(format!(
                    "`{name}` is given twice"
                )));
            }
            order.push(param);
        }
        Ok(Self {
            components,
            created: created.ok_or(SignatureError::MissingParameter("created"))?,
            keyid: keyid.ok_or(SignatureError::MissingParameter("keyid"))?,
            alg,
            order,
        })
    }
}

fn check_unique(components: &[Component]) -> Result<(), SignatureError> {
    for (i, component) in components.iter().enumerate() {
        if components[..i].contains(component) {
            return Err(SignatureError::DuplicateComponent(
                component.identifier().to_owned(),
            ));
        }
    }
    Ok(())
}

/// The `Signature` field value holding `signature` under `label`.
pub fn signature_header_value(label: &str, signature: &[u8]) -> String {
    format!("{label}=:{}:", STANDARD.encode(signature))
}

/// The signature labelled `label` in a `Signature` field value.
pub fn signature_from_header(value: &str, label: &str) -> Result<Vec<u8>, SignatureError> {
    let dictionary = sf::parse_dictionary(value)?;
    match dictionary.into_iter().rev().find(|(key, _)| key == label) {
        Some((
            _,
            sf::Member::Item(sf::Item {
                value: sf::BareItem::Bytes(bytes),
                ..
            }),
        )) => Ok(bytes),
        Some(_) => Err(SignatureError::Malformed(
            "a signature is a byte sequence".into(),
        )),
        None => Err(SignatureError::MissingLabel(label.to_owned())),
    }
}

/// The parts of an HTTP message a signature can cover: a request (method and target URI) or a
/// response (status), and its header fields in the order they appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpMessage {
    method: Option<String>,
    target_uri: Option<String>,
    status: Option<u16>,
    fields: Vec<(String, String)>,
}

impl HttpMessage {
    /// A request to the absolute URI `target_uri`.
    pub fn request(method: &str, target_uri: &str) -> Self {
        Self {
            method: Some(method.to_owned()),
            target_uri: Some(target_uri.to_owned()),
            ..Self::default()
        }
    }

    /// A response with `status`.
    pub fn response(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::default()
        }
    }

    /// Adds a header field line (a field may appear on several lines).
    pub fn with_field(mut self, name: &str, value: &str) -> Self {
        self.fields
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The value of `component` in this message (RFC 9421 §2.1, §2.2).
    pub fn component_value(&self, component: &Component) -> Result<String, SignatureError> {
        let missing = || SignatureError::MissingComponent(component.identifier().to_owned());
        let uri = || -> Result<TargetUri<'_>, SignatureError> {
            TargetUri::parse(self.target_uri.as_deref().ok_or_else(missing)?)
        };
        let value = match component {
            Component::Method => self.method.clone().ok_or_else(missing)?,
            Component::TargetUri => self.target_uri.clone().ok_or_else(missing)?,
            Component::Authority => uri()?.authority(),
            Component::Path => uri()?.path.to_owned(),
            Component::Query => format!("?{}", uri()?.query),
            Component::Status => format!("{:03}", self.status.ok_or_else(missing)?),
            Component::Field(name) => {
                let values: Vec<&str> = self
                    .fields
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.trim_matches([' ', '\t']))
                    .collect();
                if values.is_empty() {
                    return Err(missing());
                }
                values.join(", ")
            }
        };
        let signable = value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if !signable {
            return Err(SignatureError::InvalidValue(
                component.identifier().to_owned(),
            ));
        }
        Ok(value)
    }
}

/// The parts of an absolute `http(s)` target URI that derived components use.
struct TargetUri<'a> {
    scheme: String,
    host_port: &'a str,
    path: &'a str,
    query: &'a str,
}

impl<'a> TargetUri<'a> {
    fn parse(uri: &'a str) -> Result<Self, SignatureError> {
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or(SignatureError::InvalidTargetUri)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(SignatureError::InvalidTargetUri);
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (host_port, rest) = rest.split_at(end);
        if host_port.is_empty() || host_port.contains('@') {
            return Err(SignatureError::InvalidTargetUri);
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Ok(Self {
            scheme,
            host_port,
            path: if path.is_empty() { "/" } else { path },
            query,
        })
    }

    /// Host in lower case with the port unless it is the scheme's default.
    fn authority(&self) -> String {
        let lower = self.host_port.to_ascii_lowercase();
        let default = if self.scheme == "https" {
            ":443"
        } else {
            ":80"
        };
        match lower.strip_suffix(default) {
            Some(host) if !host.ends_with(':') => host.to_owned(),
            _ => lower,
        }
    }
}

/// The signature base of `message` for `input` (RFC 9421 §2.5): one line per covered
/// component, then the `@signature-params` line, joined by `\n` with none at the end.
pub fn signature_base(
    message: &HttpMessage,
    input: &SignatureInput,
) -> Result<String, SignatureError> {
    let mut base = String::new();
    for component in &input.components {
        let value = message.component_value(component)?;
        base.push_str(&serialize_string(component.identifier()));
        base.push_str(": ");
        base.push_str(&value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&input.serialize());
    Ok(base)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_sf_string(value: &str) -> bool {
    value.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// An RFC 8941 string: quoted, with `"` and `\` escaped.
fn serialize_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The subset of RFC 8941 parsing that signature fields need.
mod sf {
    use super::{is_tchar, SignatureError};
    use base64::Engine;

    /// RFC 8941 §4.2.7: parsers should not fail when `=` padding is missing.
    const LENIENT: super::GeneralPurpose = super::GeneralPurpose::new(
        &super::alphabet::STANDARD,
        super::GeneralPurposeConfig::new()
            .with_decode_padding_mode(super::DecodePaddingMode::Indifferent),
    );

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum BareItem {
        Integer(i64),
        String(String),
        Token(String),
        Bytes(Vec<u8>),
        Boolean(bool),
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Item {
        pub value: BareItem,
        pub params: Vec<(String, BareItem)>,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Member {
        Item(Item),
        InnerList(Vec<Item>, Vec<(String, BareItem)>),
    }

    struct Parser<'a> {
        input: &'a [u8],
        at: usize,
    }

    fn malformed(what: &str) -> SignatureError {
        SignatureError::Malformed(what.to_owned())
    }

    /// A dictionary's members in order (a key given twice appears twice; the last one counts).
    pub fn parse_dictionary(value: &str) -> Result<Vec<(String, Member)>, SignatureError> {
        let mut parser = Parser {
            input: value.as_bytes(),
            at: 0,
        };
        parser.skip(b" ");
        let mut members = Vec::new();
        while parser.peek().is_some() {
            let key = parser.key()?;
            let member = if parser.eat(b'=') {
                parser.member()?
            } else {
                Member::Item(Item {
                    value: BareItem::Boolean(true),
                    params: parser.params()?,
                })
            };
            members.push((key, member));
            parser.skip(b" \t");
            if parser.peek().is_none() {
                break;
            }
            if !parser.eat(b',') {
                return Err(malformed("dictionary members are separated by commas"));
            }
            parser.skip(b" \t");
            if parser.peek().is_none() {
                return Err(malformed("a dictionary cannot end with a comma"));
            }
        }
        Ok(members)
    }

    impl Parser<'_> {
        fn peek(&self) -> Option<u8> {
            self.input.get(self.at).copied()
        }

        fn eat(&mut self, byte: u8) -> bool {
            if self.peek() == Some(byte) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn skip(&mut self, set: &[u8]) {
            while self.peek().is_some_and(|b| set.contains(&b)) {
                self.at += 1;
            }
        }

        fn key(&mut self) -> Result<String, SignatureError> {
            let start = self.at;
            match self.peek() {
                Some(b) if b.is_ascii_lowercase() || b == b'*' => self.at += 1,
                _ => return Err(malformed("a key starts with a lower-case letter or `*`")),
            }
            while self.peek().is_some_and(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b)
            }) {
                self.at += 1;
            }
            Ok(String::from_utf8_lossy(&self.input[start..self.at]).into_owned())
        }

        fn member(&mut self) -> Result<Member, SignatureError> {
            if self.eat(b'(') {
                let mut items = Vec::new();
                loop {
                    self.skip(b" ");
                    if self.eat(b')') {
                        break;
                    }
                    items.push(self.item()?);
                    match self.peek() {
                        Some(b' ') | Some(b')') => {}
                        _ => return Err(malformed("inner-list items are separated by spaces")),
                    }
                }
                Ok(Member::InnerList(items, self.params()?))
            } else {
                Ok(Member::Item(self.item()?))
            }
        }

        fn item(&mut self) -> Result<Item, SignatureError> {
            Ok(Item {
                value: self.bare_item()?,
                params: self.params()?,
            })
        }

        fn params(&mut self) -> Result<Vec<(String, BareItem)>, SignatureError> {
            let mut params = Vec::new();
            while self.eat(b';') {
                self.skip(b" ");
                let key = self.key()?;
                let value = if self.eat(b'=') {
                    self.bare_item()?
                } else {
                    BareItem::Boolean(true)
                };
                // A parameter given twice keeps its first place with the last value.
                match params.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, existing)) => *existing = value,
                    None => params.push((key, value)),
                }
            }
            Ok(params)
        }

        fn bare_item(&mut self) -> Result<BareItem, SignatureError> {
            match self.peek() {
                Some(b'"') => self.string(),
                Some(b':') => self.bytes(),
                Some(b'?') => {
                    self.at += 1;
                    let value = match self.peek() {
                        Some(b'1') => true,
                        Some(b'0') => false,
                        _ => return Err(malformed("a boolean is ?1 or ?0")),
                    };
                    self.at += 1;
                    Ok(BareItem::Boolean(value))
                }
                Some(b) if b == b'-' || b.is_ascii_digit() => self.integer(),
                Some(b) if b.is_ascii_alphabetic() || b == b'*' => {
                    let start = self.at;
                    self.at += 1;
                    while self
                        .peek()
                        .is_some_and(|b| is_tchar(b) || b == b':' || b == b'/')
                    {
                        self.at += 1;
                    }
                    Ok(BareItem::Token(
                        String::from_utf8_lossy(&self.input[start..self.at]).into_owned(),
                    ))
                }
                _ => Err(malformed("expected an item")),
            }
        }

        fn string(&mut self) -> Result<BareItem, SignatureError> {
            self.at += 1;
            let mut out = String::new();
            loop {
                match self.peek() {
                    None => return Err(malformed("unterminated string")),
                    Some(b'"') => {
                        self.at += 1;
                        return Ok(BareItem::String(out));
                    }
                    Some(b'\\') => {
                        self.at += 1;
                        match self.peek() {
                            Some(c @ (b'"' | b'\\')) => out.push(char::from(c)),
                            _ => return Err(malformed("bad escape in a string")),
                        }
                        self.at += 1;
                    }
                    Some(c @ b' '..=b'~') => {
                        out.push(char::from(c));
                        self.at += 1;
                    }
                    Some(_) => return Err(malformed("strings hold printable ASCII only")),
                }
            }
        }

        fn bytes(&mut self) -> Result<BareItem, SignatureError> {
            self.at += 1;
            let start = self.at;
            while self
                .peek()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
            {
                self.at += 1;
            }
            let text = &self.input[start..self.at];
            if !self.eat(b':') {
                return Err(malformed("unterminated byte sequence"));
            }
            LENIENT
                .decode(text)
                .map(BareItem::Bytes)
                .map_err(|_| malformed("a byte sequence is base64"))
        }

        fn integer(&mut self) -> Result<BareItem, SignatureError> {
            let start = self.at;
            self.eat(b'-');
            let digits = self.at;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.at += 1;
            }
            let count = self.at - digits;
            if count == 0 || count > 15 || self.peek() == Some(b'.') {
                return Err(malformed("an integer has 1 to 15 digits (no decimals)"));
            }
            std::str::from_utf8(&self.input[start..self.at])
                .ok()
                .and_then(|s| s.parse().ok())
                .map(BareItem::Integer)
                .ok_or_else(|| malformed("bad integer"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 9421 Appendix B.2 "test-request", the parts Appendix B.2.6 covers.
    fn rfc_9421_test_request() -> HttpMessage {
        HttpMessage::request("POST", "https://example.com/foo?param=Value&Pet=dog")
            .with_field("Host", "example.com")
            .with_field("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
            .with_field("Content-Type", "application/json")
            .with_field(
                "Content-Digest",
                "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            )
            .with_field("Content-Length", "18")
    }

    /// RFC 9421 Appendix B.2.6, "Signing a Request Using ed25519": the signature input and the
    /// signature base, byte for byte (the RFC wraps the long line per RFC 8792; unwrapped here).
    #[test]
    fn rfc_9421_b_2_6_signature_base() {
        let header = "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \
                      \"content-type\" \"content-length\");created=1618884473\
                      ;keyid=\"test-key-ed25519\"";
        let input = SignatureInput::from_header(header, "sig-b26").unwrap();
        assert_eq!(input.header_value("sig-b26"), header);
        assert_eq!(input.created, 1_618_884_473);
        assert_eq!(input.keyid, "test-key-ed25519");
        assert_eq!(input.alg, None);
        let expected = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
                        \"@method\": POST\n\
                        \"@path\": /foo\n\
                        \"@authority\": example.com\n\
                        \"content-type\": application/json\n\
                        \"content-length\": 18\n\
                        \"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \
                        \"content-type\" \"content-length\");created=1618884473\
                        ;keyid=\"test-key-ed25519\"";
        assert_eq!(
            signature_base(&rfc_9421_test_request(), &input).unwrap(),
            expected
        );
        // The same input built rather than parsed serialises identically.
        let built = SignatureInput::new(
            [
                "date",
                "@method",
                "@path",
                "@authority",
                "content-type",
                "content-length",
            ]
            .iter()
            .map(|c| Component::parse(c).unwrap())
            .collect(),
            1_618_884_473,
            "test-key-ed25519",
            None,
        )
        .unwrap();
        assert_eq!(built, input);
        let signature = signature_from_header(
            "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
            "sig-b26",
        )
        .unwrap();
        assert_eq!(signature.len(), 64);
    }

    #[test]
    fn derived_components_of_a_request_and_a_response() {
        let request =
            HttpMessage::request("GET", "HTTPS://WWW.Example.com:443/a%20b/c?x=1&y=%C3%A9");
        let value = |c: Component| request.component_value(&c).unwrap();
        assert_eq!(value(Component::Authority), "www.example.com");
        assert_eq!(value(Component::Path), "/a%20b/c");
        assert_eq!(value(Component::Query), "?x=1&y=%C3%A9");
        assert_eq!(value(Component::Method), "GET");
        let bare = HttpMessage::request("POST", "http://127.0.0.1:8080");
        assert_eq!(bare.component_value(&Component::Path).unwrap(), "/");
        assert_eq!(bare.component_value(&Component::Query).unwrap(), "?");
        assert_eq!(
            bare.component_value(&Component::Authority).unwrap(),
            "127.0.0.1:8080"
        );
        let response = HttpMessage::response(200)
            .with_field("X-A", " one ")
            .with_field("x-a", "two");
        assert_eq!(response.component_value(&Component::Status).unwrap(), "200");
        assert_eq!(
            response
                .component_value(&Component::field("X-A").unwrap())
                .unwrap(),
            "one, two"
        );
        assert_eq!(
            response.component_value(&Component::Method),
            Err(SignatureError::MissingComponent("@method".into()))
        );
        assert_eq!(
            response.component_value(&Component::field("missing").unwrap()),
            Err(SignatureError::MissingComponent("missing".into()))
        );
        let bad = HttpMessage::response(200).with_field("x-b", "Việt");
        assert!(matches!(
            bad.component_value(&Component::field("x-b").unwrap()),
            Err(SignatureError::InvalidValue(_))
        ));
    }

    #[test]
    fn unsupported_inputs_are_refused() {
        let refused = |header: &str| SignatureInput::from_header(header, "sig1").unwrap_err();
        assert!(matches!(
            refused("sig1=(\"@method\");created=1;keyid=\"k\";expires=2"),
            SignatureError::UnsupportedParameter(p) if p == "expires"
        ));
        assert!(matches!(
            refused("sig1=(\"content-digest\";sf);created=1;keyid=\"k\""),
            SignatureError::UnsupportedComponent(_)
        ));
        assert!(matches!(
            refused("sig1=(\"@request-target\");created=1;keyid=\"k\""),
            SignatureError::UnsupportedComponent(_)
        ));
        assert!(matches!(
            refused("sig1=(\"Content-Type\");created=1;keyid=\"k\""),
            SignatureError::UnsupportedComponent(_)
        ));
        assert!(matches!(
            refused("sig1=(\"@method\" \"@method\");created=1;keyid=\"k\""),
            SignatureError::DuplicateComponent(_)
        ));
        assert_eq!(
            refused("sig1=(\"@method\");keyid=\"k\""),
            SignatureError::MissingParameter("created")
        );
        assert_eq!(
            refused("sig1=(\"@method\");created=\"1\";keyid=\"k\""),
            SignatureError::MissingParameter("created")
        );
        assert_eq!(
            refused("other=(\"@method\");created=1;keyid=\"k\""),
            SignatureError::MissingLabel("sig1".into())
        );
        assert!(matches!(
            refused("sig1=(\"@method\";created=1"),
            SignatureError::Malformed(_)
        ));
        assert!(matches!(
            signature_from_header("sig1=:not base64!:", "sig1"),
            Err(SignatureError::Malformed(_))
        ));
        assert!(matches!(
            signature_from_header("sig1=(\"@method\")", "sig1"),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn the_right_member_is_found_among_several() {
        let input = SignatureInput::from_header(
            "a=(\"@status\");created=5;keyid=\"x\", sig1=(\"@method\" \"@path\");created=9;keyid=\"y\";alg=\"ed25519\"",
            "sig1",
        )
        .unwrap();
        assert_eq!(input.components(), [Component::Method, Component::Path]);
        assert_eq!(input.alg.as_deref(), Some(ED25519));
        assert_eq!(
            signature_from_header("a=:AAEC:, sig1=:AwQ=:", "sig1").unwrap(),
            vec![3, 4]
        );
        // Parameters keep the order they were signed in.
        let reordered =
            SignatureInput::from_header("sig1=(\"@method\");keyid=\"y\";created=9", "sig1")
                .unwrap();
        assert_eq!(reordered.serialize(), "(\"@method\");keyid=\"y\";created=9");
    }

    fn component() -> impl Strategy<Value = Component> {
        prop_oneof![
            Just(Component::Method),
            Just(Component::TargetUri),
            Just(Component::Authority),
            Just(Component::Path),
            Just(Component::Query),
            Just(Component::Status),
            "[a-z][a-z0-9-]{0,20}".prop_map(Component::Field),
        ]
    }

    proptest! {
        #[test]
        fn inputs_survive_a_round_trip(
            components in proptest::collection::vec(component(), 0..8),
            created in 0i64..=999_999_999_999_999,
            keyid in "[ -~]{0,40}",
            alg in proptest::option::of("[a-z0-9-]{1,20}"),
        ) {
            let mut unique = Vec::new();
            for c in components {
                if !unique.contains(&c) {
                    unique.push(c);
                }
            }
            let input = SignatureInput::new(unique, created, keyid, alg.as_deref()).unwrap();
            let parsed = SignatureInput::from_header(&input.header_value(LABEL), LABEL).unwrap();
            prop_assert_eq!(parsed, input);
        }

        #[test]
        fn the_parser_never_panics(text in "\\PC{0,80}") {
            let _ = SignatureInput::from_header(&text, LABEL);
            let _ = signature_from_header(&text, LABEL);
        }
    }
}
