//! Provenance of data (Q14: users record the source and the time of retrieval): every answer
//! carrying records says where they come from, when they last changed, when they were
//! retrieved, and offers a ready citation in Vietnamese.
//!
//! Header values are ASCII: Vietnamese text travels as an RFC 8187 `ext-value`
//! (`UTF-8''` followed by percent-encoded UTF-8), which clients decode like `filename*`.

use axum::http::header::{HeaderName, HeaderValue, LAST_MODIFIED};
use chrono::{DateTime, FixedOffset, Utc};

use crate::catalog::PublishedDataset;

pub const SOURCE: HeaderName = HeaderName::from_static("lgsp-source");
pub const RETRIEVED_AT: HeaderName = HeaderName::from_static("lgsp-retrieved-at");
pub const CITATION: HeaderName = HeaderName::from_static("lgsp-citation");

/// Where records come from and when.
pub struct Provenance<'a> {
    pub dataset: &'a PublishedDataset,
    pub last_change: Option<DateTime<Utc>>,
    pub retrieved_at: DateTime<Utc>,
    /// The site's address, for the dataset's link in the citation.
    pub base: &'a str,
}

/// RFC 8187 `ext-value`: `UTF-8''` and the text percent-encoded outside `attr-char`.
pub fn ext_value(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(7 + text.len() * 3);
    out.push_str("UTF-8''");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    out
}

impl Provenance<'_> {
    /// The citation to paste, in Vietnamese, with the retrieval time in Viet Nam time.
    pub fn citation(&self) -> String {
        let vietnam = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
        let d = self.dataset;
        format!(
            "{} ({}), “{}”, {}/dataset/{}, truy xuất lúc {} qua Nền tảng tích hợp, chia sẻ dữ liệu.",
            d.owner_name,
            d.owner,
            d.dataset.title,
            self.base,
            d.dataset.id,
            self.retrieved_at
                .with_timezone(&vietnam)
                .format("%H:%M ngày %d/%m/%Y")
        )
    }

    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = Vec::new();
        let ascii = |text: String| HeaderValue::from_str(&text).ok();
        if let Some(source) = ascii(format!(
            "{}; name*={}",
            self.dataset.owner,
            ext_value(&self.dataset.owner_name)
        )) {
            headers.push((SOURCE, source));
        }
        if let Some(at) = ascii(
            self.retrieved_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ) {
            headers.push((RETRIEVED_AT, at));
        }
        if let Some(citation) = ascii(ext_value(&self.citation())) {
            headers.push((CITATION, citation));
        }
        if let Some(changed) = self.last_change {
            let http_date = changed.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            if let Some(value) = ascii(http_date) {
                headers.push((LAST_MODIFIED, value));
            }
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q14_ext_values_are_ascii_and_decode_back() {
        let encoded = ext_value("Sở Giáo dục và Đào tạo");
        assert!(encoded.is_ascii());
        assert_eq!(
            encoded,
            "UTF-8''S%E1%BB%9F%20Gi%C3%A1o%20d%E1%BB%A5c%20v%C3%A0%20%C4%90%C3%A0o%20t%E1%BA%A1o"
        );
    }
}
