//! The conformance check of a provider's service (Q7.2, Q8.3, Q21.3): what each measured fact
//! means, and the readiness it gives the provider's system. The server does the IO (requests
//! to the upstream) and hands the facts here.

use serde::{Deserialize, Serialize};

use crate::system::{Findings, Readiness};
use crate::text::Text;

/// Above this, a probe's answer counts as too slow for timely access (Q7.5).
pub const SLOW_MILLISECONDS: u64 = 2_000;

/// One thing the check verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The upstream is reached over TLS (`https`, Q10.1).
    Tls,
    /// The system's health URL answers 2xx.
    Health,
    /// The stored OpenAPI document is valid and has a GET path to probe.
    Openapi,
    /// A GET on a documented path answers 2xx with a JSON media type and a JSON body.
    Json,
    /// That answer is UTF-8 (declared charset, if any, and bytes).
    Utf8,
    /// That answer came within [`SLOW_MILLISECONDS`].
    Latency,
}

impl Check {
    pub const ALL: [Check; 6] = [
        Self::Tls,
        Self::Health,
        Self::Openapi,
        Self::Json,
        Self::Utf8,
        Self::Latency,
    ];

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Tls => "Kết nối mã hóa TLS (HTTPS)",
            Self::Health => "Địa chỉ kiểm tra tình trạng hoạt động",
            Self::Openapi => "Tài liệu đặc tả OpenAPI",
            Self::Json => "Dữ liệu trả về dạng JSON",
            Self::Utf8 => "Bảng mã UTF-8",
            Self::Latency => "Thời gian phản hồi",
        }
    }
}

/// The outcome of one check, with what was seen (Vietnamese, for people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    pub check: Check,
    pub passed: bool,
    pub detail: String,
}

impl CheckResult {
    pub fn pass(check: Check, detail: impl Into<String>) -> Self {
        Self {
            check,
            passed: true,
            detail: detail.into(),
        }
    }

    pub fn fail(check: Check, detail: impl Into<String>) -> Self {
        Self {
            check,
            passed: false,
            detail: detail.into(),
        }
    }
}

/// Judges a probe's answer: `Json` (2xx, a JSON media type, a body that parses) and `Utf8`
/// (no charset other than UTF-8 declared, and the bytes are UTF-8).
pub fn judge_answer(status: u16, content_type: Option<&str>, body: &[u8]) -> [CheckResult; 2] {
    let (media_type, charset) = split_content_type(content_type.unwrap_or_default());
    let is_json_type = media_type == "application/json"
        || (media_type.starts_with("application/") && media_type.ends_with("+json"));
    let text = std::str::from_utf8(body);
    let json = if !(200..300).contains(&status) {
        CheckResult::fail(
            Check::Json,
            format!("Mã trạng thái HTTP {status}, không phải 2xx"),
        )
    } else if !is_json_type {
        let shown = if media_type.is_empty() {
            "không khai báo".to_owned()
        } else {
            media_type.clone()
        };
        CheckResult::fail(
            Check::Json,
            format!("Kiểu nội dung (Content-Type) là {shown}, không phải application/json"),
        )
    } else if serde_json::from_slice::<serde_json::Value>(body).is_err() {
        CheckResult::fail(Check::Json, "Nội dung trả về không phải JSON hợp lệ")
    } else {
        CheckResult::pass(Check::Json, format!("Trả về {media_type}"))
    };
    let utf8 = match (&charset, text) {
        (Some(charset), _) if !is_utf8_label(charset) => CheckResult::fail(
            Check::Utf8,
            format!("Khai báo bảng mã {charset}, không phải UTF-8"),
        ),
        (_, Err(error)) => CheckResult::fail(
            Check::Utf8,
            format!(
                "Nội dung không phải UTF-8 (byte sai ở vị trí {})",
                error.valid_up_to()
            ),
        ),
        (_, Ok(_)) => CheckResult::pass(Check::Utf8, "Nội dung là UTF-8"),
    };
    [json, utf8]
}

/// Judges the time a probe took.
pub fn judge_latency(milliseconds: u64) -> CheckResult {
    if milliseconds > SLOW_MILLISECONDS {
        CheckResult::fail(
            Check::Latency,
            format!("Phản hồi sau {milliseconds} ms, chậm hơn mức {SLOW_MILLISECONDS} ms"),
        )
    } else {
        CheckResult::pass(Check::Latency, format!("Phản hồi sau {milliseconds} ms"))
    }
}

/// The readiness a set of results gives the provider's system (Q21.3.a–b): ready when every
/// check passed, otherwise in need of an upgrade with one finding per failed check.
pub fn readiness(results: &[CheckResult]) -> Readiness {
    let findings: Vec<Text> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            let line = format!("{}: {}", r.check.label_vi(), r.detail);
            // Details quote what the upstream sent: no control characters, bounded length.
            let short: String = line
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(Text::MAX_CHARS)
                .collect();
            Text::parse(short).expect("a label and a detail are non-empty text")
        })
        .collect();
    match Findings::new(findings) {
        Ok(findings) => Readiness::NeedsUpgrade { findings },
        Err(_) => Readiness::Ready,
    }
}

/// `type/subtype` lower-cased, and the `charset` parameter if any (unquoted, lower-cased).
fn split_content_type(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let media_type = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    });
    (media_type, charset)
}

fn is_utf8_label(charset: &str) -> bool {
    matches!(charset, "utf-8" | "utf8" | "unicode-1-1-utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q7_2_json_in_utf8_passes() {
        let [json, utf8] = judge_answer(
            200,
            Some("application/json; charset=UTF-8"),
            "{\"ten\":\"Phủ Lý\"}".as_bytes(),
        );
        assert!(json.passed && utf8.passed, "{json:?} {utf8:?}");
        let [json, utf8] = judge_answer(200, Some("application/problem+json"), b"{}");
        assert!(json.passed && utf8.passed);
    }

    #[test]
    fn q7_2_html_in_latin1_fails_both() {
        // "Phủ Lý" cannot be written in Latin-1; "Hà Nam" can: 0xE0 is `à`.
        let body = b"<html><body>H\xe0 Nam</body></html>";
        let [json, utf8] = judge_answer(200, Some("text/html; charset=ISO-8859-1"), body);
        assert!(
            !json.passed && json.detail.contains("text/html"),
            "{json:?}"
        );
        assert!(
            !utf8.passed && utf8.detail.contains("iso-8859-1"),
            "{utf8:?}"
        );
        // Without a declared charset, the bytes themselves are checked.
        let [_, utf8] = judge_answer(200, Some("application/json"), b"{\"a\":\"H\xe0\"}");
        assert!(!utf8.passed && utf8.detail.contains("vị trí 7"), "{utf8:?}");
    }

    #[test]
    fn q7_2_errors_and_broken_json_fail() {
        let [json, _] = judge_answer(500, Some("application/json"), b"{}");
        assert!(!json.passed && json.detail.contains("500"));
        let [json, _] = judge_answer(200, Some("application/json"), b"{");
        assert!(!json.passed);
        let [json, _] = judge_answer(200, None, b"{}");
        assert!(!json.passed && json.detail.contains("không khai báo"));
    }

    #[test]
    fn q7_5_latency_has_a_limit() {
        assert!(judge_latency(SLOW_MILLISECONDS).passed);
        assert!(!judge_latency(SLOW_MILLISECONDS + 1).passed);
    }

    #[test]
    fn q21_3_b_readiness_lists_every_failed_check() {
        let all_passed: Vec<CheckResult> = Check::ALL
            .iter()
            .map(|c| CheckResult::pass(*c, "ok"))
            .collect();
        assert_eq!(readiness(&all_passed), Readiness::Ready);
        let mut some_failed = all_passed.clone();
        some_failed[0] = CheckResult::fail(Check::Tls, "Dịch vụ dùng http://");
        some_failed[4] = CheckResult::fail(Check::Utf8, "Bảng mã iso-8859-1");
        let result = readiness(&some_failed);
        let findings: Vec<&str> = result.findings().iter().map(Text::as_str).collect();
        assert_eq!(
            findings,
            [
                "Kết nối mã hóa TLS (HTTPS): Dịch vụ dùng http://",
                "Bảng mã UTF-8: Bảng mã iso-8859-1"
            ]
        );
        // A very long detail is cut to what a finding holds.
        let long = vec![CheckResult::fail(Check::Json, "x".repeat(2000))];
        assert_eq!(
            readiness(&long).findings()[0].as_str().chars().count(),
            Text::MAX_CHARS
        );
    }
}
