//! What the exchange gateway does to a message on its way through, as pure functions: which
//! path it forwards (never a way out of the provider's upstream), which header fields stay
//! behind (hop-by-hop), and which fields of a JSON answer the consumer receives (Q8.4–Q8.5).

use serde_json::{Map, Value};

use crate::service::JsonPointer;

/// The rest of a gateway path (after `/x/{agency}/{system}/{service}/{version}`), checked so
/// that it stays under the service's upstream: no `.` or `..` segment (also percent-encoded),
/// no encoded `/` or `\`, no backslash, no control character, no empty segment inside.
/// Kept percent-encoded, exactly as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardPath(String);

/// Why a path is not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the path cannot be forwarded: {0}")]
pub struct PathError(&'static str);

impl ForwardPath {
    /// `raw` is the remainder of the request's path as sent (percent-encoded), starting with
    /// `/` or empty.
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        if raw.is_empty() {
            return Ok(Self(String::new()));
        }
        if !raw.starts_with('/') {
            return Err(PathError("it must start with `/`"));
        }
        if raw
            .bytes()
            .any(|b| b == b'\\' || b.is_ascii_control() || b >= 0x80)
        {
            return Err(PathError("it holds a backslash or a control character"));
        }
        let segments: Vec<&str> = raw[1..].split('/').collect();
        let last = segments.len() - 1;
        for (i, segment) in segments.iter().enumerate() {
            if segment.is_empty() && i != last {
                return Err(PathError("it holds an empty segment (`//`)"));
            }
            let decoded = crate::text::percent_decode(segment)
                .ok_or(PathError("a `%` escape is malformed"))?;
            if decoded == "." || decoded == ".." {
                return Err(PathError("it holds a `.` or `..` segment"));
            }
            if decoded.contains(['/', '\\']) || decoded.chars().any(char::is_control) {
                return Err(PathError(
                    "it holds an encoded slash, backslash or control character",
                ));
            }
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Header fields that belong to one connection (RFC 9110 §7.6.1) and are never forwarded,
/// plus those the gateway sets itself.
pub fn is_hop_by_hop(name: &str, connection_tokens: &[String]) -> bool {
    const HOP_BY_HOP: &[&str] = &[
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    let name = name.to_ascii_lowercase();
    HOP_BY_HOP.contains(&name.as_str()) || connection_tokens.contains(&name)
}

/// Keeps only the members of `document` that `fields` name (Q8.5): everything else — any
/// member not granted, personal or not — is left out. Pointers follow RFC 6901, with one
/// convention for lists: an array is transparent to a token that is not an index, so
/// `/ho_ten` keeps `ho_ten` in every element of a top-level list and `/con/ten` in every
/// element of `con`; a numeric token still picks one element. A pointer that names nothing
/// keeps nothing. The result has the document's shape (an object stays an object).
pub fn keep_fields(document: &Value, fields: &[JsonPointer]) -> Value {
    let tokens: Vec<Vec<String>> = fields.iter().map(JsonPointer::tokens).collect();
    let paths: Vec<&[String]> = tokens.iter().map(Vec::as_slice).collect();
    project(document, &paths).unwrap_or_else(|| match document {
        Value::Array(_) => Value::Array(Vec::new()),
        _ => Value::Object(Map::new()),
    })
}

fn project(value: &Value, paths: &[&[String]]) -> Option<Value> {
    if paths.is_empty() {
        return None;
    }
    if paths.iter().any(|p| p.is_empty()) {
        return Some(value.clone());
    }
    match value {
        Value::Object(map) => {
            let mut kept = Map::new();
            for (key, child) in map {
                let rest: Vec<&[String]> = paths
                    .iter()
                    .filter(|p| p[0] == *key)
                    .map(|p| &p[1..])
                    .collect();
                if let Some(projected) = project(child, &rest) {
                    kept.insert(key.clone(), projected);
                }
            }
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let rest: Vec<&[String]> = paths
                        .iter()
                        .filter_map(|p| match array_index(&p[0]) {
                            Some(index) if index == i => Some(&p[1..]),
                            Some(_) => None,
                            None => Some(*p),
                        })
                        .collect();
                    project(item, &rest)
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        _ => None,
    }
}

/// A token that indexes an array (RFC 6901: `0` or digits without a leading zero).
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    (digits && (token == "0" || !token.starts_with('0')))
        .then(|| token.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn pointers(list: &[&str]) -> Vec<JsonPointer> {
        list.iter()
            .map(|p| JsonPointer::parse(p).unwrap())
            .collect()
    }

    #[test]
    fn q8_5_only_granted_fields_are_kept_in_nested_json() {
        let document = json!({
            "ho_ten": "Nguyễn Văn An",
            "so_cccd": "035090001234",
            "dia_chi": {"tinh": "Hà Nam", "xa": "Liêm Chính", "so_nha": "12"},
            "con": [{"ten": "Bình", "cccd": "1"}, {"ten": "Chi", "cccd": "2"}],
            "ghi_chu": null
        });
        assert_eq!(
            keep_fields(
                &document,
                &pointers(&["/ho_ten", "/dia_chi/tinh", "/con/ten"])
            ),
            json!({
                "ho_ten": "Nguyễn Văn An",
                "dia_chi": {"tinh": "Hà Nam"},
                "con": [{"ten": "Bình"}, {"ten": "Chi"}]
            })
        );
        assert_eq!(
            keep_fields(
                &document,
                &pointers(&["/dia_chi", "/con/1/cccd", "/ghi_chu"])
            ),
            json!({
                "dia_chi": {"tinh": "Hà Nam", "xa": "Liêm Chính", "so_nha": "12"},
                "con": [{"cccd": "2"}],
                "ghi_chu": null
            })
        );
        assert_eq!(keep_fields(&document, &pointers(&["/khong_co"])), json!({}));
        assert_eq!(keep_fields(&document, &pointers(&["/ho_ten/x"])), json!({}));
    }

    #[test]
    fn lists_are_transparent_to_names() {
        let list = json!([
            {"ma_du_an": "DA1", "ten_du_an": "Cầu", "noi_bo": 1},
            {"ma_du_an": "DA2", "noi_bo": 2},
            {"noi_bo": 3}
        ]);
        assert_eq!(
            keep_fields(&list, &pointers(&["/ma_du_an", "/ten_du_an"])),
            json!([{"ma_du_an": "DA1", "ten_du_an": "Cầu"}, {"ma_du_an": "DA2"}])
        );
        assert_eq!(keep_fields(&list, &pointers(&["/x"])), json!([]));
        assert_eq!(keep_fields(&json!(5), &pointers(&["/x"])), json!({}));
        assert_eq!(
            keep_fields(
                &json!({"a~b": 1, "c/d": 2, "e": 3}),
                &pointers(&["/a~0b", "/c~1d"])
            ),
            json!({"a~b": 1, "c/d": 2})
        );
    }

    #[test]
    fn paths_stay_under_the_upstream() {
        for ok in [
            "",
            "/",
            "/khai-sinh",
            "/khai-sinh/",
            "/khai-sinh/035%20090",
            "/a/b.json",
            "/a/..b",
        ] {
            assert!(ForwardPath::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/..",
            "/a/../b",
            "/a/./b",
            "/%2e%2e/x",
            "/%2E./x",
            "/.%2e",
            "/a%2fb",
            "/a%2F..%2Fb",
            "/a%5cb",
            "/a\\b",
            "//evil.example/x",
            "/a//b",
            "/a%00b",
            "/a%zz",
            "/a%c3",
            "x",
        ] {
            assert!(ForwardPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hop_by_hop_fields() {
        let listed = vec!["x-private".to_owned()];
        for name in [
            "Connection",
            "keep-alive",
            "TE",
            "Transfer-Encoding",
            "Upgrade",
            "x-private",
        ] {
            assert!(is_hop_by_hop(name, &listed), "{name}");
        }
        for name in ["content-type", "accept", "lgsp-purpose"] {
            assert!(!is_hop_by_hop(name, &listed), "{name}");
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-c]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Whether `kept` is `document` with members or elements removed.
    fn within(kept: &Value, document: &Value) -> bool {
        match (kept, document) {
            (Value::Object(k), Value::Object(d)) => k
                .iter()
                .all(|(key, v)| d.get(key).is_some_and(|dv| within(v, dv))),
            (Value::Array(k), Value::Array(d)) => {
                k.iter().all(|v| d.iter().any(|dv| within(v, dv)))
            }
            (k, d) => k == d,
        }
    }

    proptest! {
        /// Filtering never invents data: what is kept lies within the document.
        #[test]
        fn filtering_only_removes(document in json_value(),
                                  granted in prop::collection::vec("(/[a-c0-2]){1,3}", 1..4)) {
            let fields: Vec<JsonPointer> =
                granted.iter().map(|p| JsonPointer::parse(p).unwrap()).collect();
            let kept = keep_fields(&document, &fields);
            let empty = kept == Value::Object(Map::new()) || kept == Value::Array(Vec::new());
            prop_assert!(within(&kept, &document) || empty, "{} from {}", kept, document);
            let all = keep_fields(&document, &pointers(&["/a", "/b", "/c", "/0", "/1", "/2"]));
            if document.is_object() {
                // Keeping every top-level member of an object keeps it whole (minus empties).
                let nonempty = document.as_object().unwrap().keys()
                    .all(|k| ["a", "b", "c"].contains(&k.as_str()));
                prop_assert!(!nonempty || all == document);
            }
        }
    }
}
