//! Reading documents for the state-secret guard: plain text line by line, CSV cell by cell,
//! JSON string by string, and the text of PDF files.
//!
//! PDF text is read without a PDF library: the string operands of text-showing operators in
//! content streams that are uncompressed or Flate-compressed (what most generators write), and
//! the strings of the document information dictionary. That finds text written in a standard
//! encoding or UTF-16, which covers PDFs generated with Unicode text, metadata and form fields.
//! It does not find text drawn with subset fonts whose codes are glyph numbers (common for
//! Vietnamese set in embedded fonts, which would need each font's `ToUnicode` map), nor text in
//! scanned images: such files pass unflagged. Other binary types are not read.

use std::io::Read;

use lgsp_core::secret_guard::{Finding, SecretGuard};

/// The most text a PDF's streams may inflate to before reading stops (a zip bomb stays small).
const MAX_INFLATED: u64 = 32 * 1024 * 1024;

/// What `guard` finds in a document of `media_type` (or recognised by its file name or first
/// bytes).
pub fn scan(
    guard: &SecretGuard,
    bytes: &[u8],
    media_type: &str,
    filename: Option<&str>,
) -> Vec<Finding> {
    let media = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let extension = filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mut findings = Vec::new();
    if media == "application/pdf" || extension == "pdf" || bytes.starts_with(b"%PDF-") {
        guard.scan_text(&pdf_text(bytes), &mut findings);
        return findings;
    }
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) else {
        return findings;
    };
    if !guard.may_contain(text.as_bytes()) {
        return findings;
    }
    let is_json = media == "application/json" || media.ends_with("+json") || extension == "json";
    let is_csv = media == "text/csv" || extension == "csv";
    if is_json {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            guard.scan_json(&value, &mut findings);
            return findings;
        }
    } else if is_csv {
        scan_csv(guard, text, &mut findings);
        return findings;
    }
    guard.scan_text(text, &mut findings);
    findings
}

/// Every cell of a CSV text (comma, semicolon or tab), the header row included; a file that
/// is not well-formed CSV is read as lines instead.
pub fn scan_csv(guard: &SecretGuard, text: &str, findings: &mut Vec<Finding>) {
    let first = text.lines().next().unwrap_or_default();
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut header: Vec<String> = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let Ok(record) = record else {
            findings.clear();
            guard.scan_text(text, findings);
            return;
        };
        if n == 0 {
            header = record.iter().map(str::to_owned).collect();
        }
        for (i, cell) in record.iter().enumerate() {
            let column = header
                .get(i)
                .filter(|h| !h.is_empty())
                .cloned()
                .unwrap_or_else(|| (i + 1).to_string());
            guard.scan_cell(cell, n + 1, &column, findings);
        }
    }
}

/// The text of a PDF file, one line per text-positioning step, as far as it can be read (see
/// the module documentation).
pub fn pdf_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut budget = MAX_INFLATED;
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], b"stream") {
        let keyword = at + found;
        let mut start = keyword + b"stream".len();
        // `endstream` contains `stream`; the data starts after an end of line.
        if keyword >= 3 && &bytes[keyword - 3..keyword] == b"end" {
            at = start;
            continue;
        }
        match bytes.get(start..start + 2) {
            Some(b"\r\n") => start += 2,
            Some([b'\n', _]) | Some([b'\r', _]) => start += 1,
            _ => {
                at = start;
                continue;
            }
        }
        let Some(length) = find(&bytes[start..], b"endstream") else {
            break;
        };
        let data = &bytes[start..start + length];
        let dictionary = &bytes[keyword.saturating_sub(1024)..keyword];
        let dictionary = match rfind(dictionary, b"<<") {
            Some(open) => &dictionary[open..],
            None => dictionary,
        };
        let filters = find(dictionary, b"/Filter").is_some();
        let flate = find(dictionary, b"/FlateDecode").is_some();
        let decoded = if flate {
            let mut inflated = Vec::new();
            let _ = flate2::read::ZlibDecoder::new(data)
                .take(budget)
                .read_to_end(&mut inflated);
            budget = budget.saturating_sub(inflated.len() as u64);
            Some(inflated)
        } else if !filters {
            Some(data.to_vec())
        } else {
            None
        };
        if let Some(content) = decoded {
            content_text(&content, &mut out);
        }
        at = start + length + b"endstream".len();
        if budget == 0 {
            break;
        }
    }
    // The document information dictionary (title, subject, keywords) lies outside streams.
    for key in [&b"/Title"[..], b"/Subject", b"/Keywords"] {
        let mut from = 0;
        while let Some(found) = find(&bytes[from..], key) {
            let after = from + found + key.len();
            let rest = &bytes[after..];
            let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
            if rest.get(skip) == Some(&b'(') {
                let (text, _) = literal(&rest[skip + 1..]);
                out.push_str(&decode(&text));
                out.push('\n');
            }
            from = after;
        }
    }
    out
}

/// Appends the strings a content stream shows, breaking lines at text-positioning operators.
fn content_text(content: &[u8], out: &mut String) {
    let mut i = 0;
    while i < content.len() {
        match content[i] {
            b'(' => {
                let (text, used) = literal(&content[i + 1..]);
                out.push_str(&decode(&text));
                i += 1 + used;
            }
            b'%' => {
                while i < content.len() && content[i] != b'\n' && content[i] != b'\r' {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'\'' || c == b'"' || c == b'*' => {
                let start = i;
                while i < content.len()
                    && (content[i].is_ascii_alphabetic()
                        || matches!(content[i], b'*' | b'\'' | b'"'))
                {
                    i += 1;
                }
                if matches!(
                    &content[start..i],
                    b"Td" | b"TD" | b"T*" | b"Tm" | b"ET" | b"'" | b"\""
                ) && !out.ends_with('\n')
                {
                    out.push('\n');
                }
            }
            _ => i += 1,
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

/// A literal string's bytes, from just after its `(`; returns them and the bytes used
/// (through the closing `)`).
fn literal(bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        match b {
            b'\\' => {
                let Some(&next) = bytes.get(i) else { break };
                i += 1;
                match next {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'\r' | b'\n' => {
                        if next == b'\r' && bytes.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                    }
                    b'0'..=b'7' => {
                        let mut value = u32::from(next - b'0');
                        for _ in 0..2 {
                            match bytes.get(i) {
                                Some(d @ b'0'..=b'7') => {
                                    value = value * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push((value & 0xFF) as u8);
                    }
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' if depth == 0 => return (out, i),
            b')' => {
                depth -= 1;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    (out, i)
}

/// A PDF string's text: UTF-16BE with a byte-order mark, UTF-8, or else one byte per
/// character (PDFDocEncoding and WinAnsi agree with Latin-1 on letters).
fn decode(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(b"\xFE\xFF") {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// A one-page PDF showing `lines` (UTF-16BE strings), its content stream Flate-compressed
    /// when `compress`.
    pub fn pdf(lines: &[&str], compress: bool) -> Vec<u8> {
        let mut content = b"BT /F1 12 Tf 72 720 Td\n".to_vec();
        for line in lines {
            content.extend_from_slice(b"(\xFE\xFF");
            for unit in line.encode_utf16() {
                for byte in unit.to_be_bytes() {
                    if matches!(byte, b'(' | b')' | b'\\') {
                        content.push(b'\\');
                    }
                    content.push(byte);
                }
            }
            content.extend_from_slice(b") Tj 0 -14 Td\n");
        }
        content.extend_from_slice(b"ET\n");
        let (data, filter) = if compress {
            let mut encoder =
                flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&content).unwrap();
            (encoder.finish().unwrap(), " /Filter /FlateDecode")
        } else {
            (content, "")
        };
        let mut out = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n".to_vec();
        out.extend_from_slice(
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
              3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n",
        );
        out.extend_from_slice(
            format!("4 0 obj << /Length {}{filter} >>\nstream\n", data.len()).as_bytes(),
        );
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
        out
    }

    #[test]
    fn q20_3_pdf_text_is_read_from_plain_and_flate_streams() {
        let guard = SecretGuard::default();
        for compress in [false, true] {
            let secret = pdf(&["CÔNG AN TỈNH HÀ NAM", "TỐI MẬT", "Số: 12/BC"], compress);
            let text = pdf_text(&secret);
            assert!(text.contains("TỐI MẬT"), "{text}");
            let found = scan(&guard, &secret, "application/pdf", Some("bao-cao.pdf"));
            assert_eq!(found.len(), 1, "{found:?}");
            let plain = pdf(&["Giữ bí mật thông tin", "Đổi mật khẩu"], compress);
            assert!(scan(&guard, &plain, "application/pdf", None).is_empty());
        }
    }

    #[test]
    fn q20_3_csv_json_and_text_attachments_are_read_by_their_kind() {
        let guard = SecretGuard::default();
        let csv = "so,trich_yeu,do_mat\n12/BC,Báo cáo,Tối mật\n".as_bytes();
        let found = scan(&guard, csv, "text/csv", None);
        assert_eq!(
            found[0].location,
            lgsp_core::secret_guard::Location::Cell {
                row: 2,
                column: "do_mat".into()
            }
        );
        let json = r#"{"van_ban": {"do_mat": "Mật"}}"#.as_bytes();
        assert!(!scan(&guard, json, "application/json", None).is_empty());
        let text = "Kính gửi: Sở Tư pháp\n\n        TUYỆT MẬT\n".as_bytes();
        assert!(!scan(&guard, text, "text/plain", Some("cong-van.txt")).is_empty());
        assert!(scan(&guard, "Mật khẩu: 1234".as_bytes(), "text/plain", None).is_empty());
        assert!(scan(&guard, &[0xFF, 0xD8, 0xFF, 0x00], "image/jpeg", None).is_empty());
    }
}
