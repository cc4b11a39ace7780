//! The state-secret guard (Q1.2, Q20.2–3): finds suspected state-secret markings — the stamps
//! *Mật*, *Tối mật*, *Tuyệt mật* (Law on Protection of State Secrets 2018, art. 8) standing
//! alone, and classification lines such as "Độ mật: Mật" — in text, table cells and JSON.
//!
//! A stamp is a word that also occurs in ordinary words ("bí mật", "mật khẩu", "mật độ", "mật
//! ong", "thân mật", "mật mã"), so a phrase counts only where it *stands apart* from the words
//! around it:
//! - alone in its line or cell, whatever decorates it (`MẬT`, `[TỐI MẬT]`, `*** Mật ***`);
//! - written in capitals and separated from its neighbours by a stamp-like gap (two spaces or
//!   more, a tab, a bracket, a bar, a dash, a comma…) or by a change of case ("Báo cáo MẬT");
//! - in any case, after a label colon or between table bars or tabs ("Phân loại: Mật").
//!
//! A neighbour word that makes a compound with the phrase ("bí", "khẩu", "ong"…) never lets it
//! count. Text is compared in Unicode NFC, case-insensitively, with no-break and odd spaces read
//! as spaces, zero-width characters ignored and spaced-out letters ("M Ậ T") read as one word.
//! Scanning is linear in the input; a byte prefilter ([`SecretGuard::may_contain`]) lets
//! callers skip text that cannot match without decoding it.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::text::ParseError;

/// How a rule recognises a marking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RuleKind {
    /// The phrase is a stamp when it stands apart (see the module documentation).
    Stamp,
    /// The phrase is a label: a line that starts with it and a colon ("Độ mật: Tối mật"), or a
    /// JSON member named by it, is a classification unless its value is one of `clear_values`
    /// or empty.
    Label,
}

/// A rule as operators write it in the settings (`[[secret_rules]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A short name reported with every finding, e.g. `classification_stamp`.
    pub id: String,
    pub kind: RuleKind,
    /// The phrases, in any case and spacing, e.g. `["mật", "tối mật", "tuyệt mật"]`.
    pub phrases: Vec<String>,
    /// Label rules: values that mean "not classified", e.g. `["không", "thường"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clear_values: Vec<String>,
}

/// The rules every platform starts with.
pub fn builtin_rules() -> Vec<RuleSpec> {
    vec![
        RuleSpec {
            id: "classification_stamp".into(),
            kind: RuleKind::Stamp,
            phrases: vec!["mật".into(), "tối mật".into(), "tuyệt mật".into()],
            clear_values: Vec::new(),
        },
        RuleSpec {
            id: "classification_line".into(),
            kind: RuleKind::Label,
            phrases: vec!["độ mật".into(), "do mat".into(), "do_mat".into()],
            clear_values: vec![
                "không".into(),
                "không mật".into(),
                "thường".into(),
                "bình thường".into(),
                "công khai".into(),
                "không có".into(),
                "không phân loại".into(),
                "none".into(),
                "null".into(),
            ],
        },
    ]
}

/// Words that make an ordinary compound with a stamp word when written next to it: "bí mật",
/// "thân mật", "cơ mật" before; "mật khẩu", "mật độ", "mật ong", "mật mã"… after.
const NOT_AFTER: &[&str] = &[
    "bí",
    "bảo",
    "thân",
    "cơ",
    "kín",
    "tỉ",
    "tỷ",
    "cẩn",
    "thông",
    "đường",
];
const NOT_BEFORE: &[&str] = &[
    "khẩu", "độ", "ong", "mã", "thiết", "thám", "vụ", "báo", "lệnh", "ngữ", "đàm", "khu", "hiệu",
    "danh", "gấu", "mía", "hoa", "thư", "tín", "ước", "nghị", "rỉ", "gan", "đắng", "ngọt", "thất",
    "tập", "phục", "sứ", "mưu", "chỉ", "tấu", "tuyến", "bộ",
];

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Location {
    /// Line and column (1-based, in characters) of a text.
    Line { line: usize, column: usize },
    /// A member of a JSON document, as a JSON pointer.
    Field { pointer: String },
    /// A cell of a table: its row number in the file and its column's name (or number).
    Cell { row: usize, column: String },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Line { line, column } => write!(f, "line {line}, column {column}"),
            Self::Field { pointer } => write!(f, "field {pointer}"),
            Self::Cell { row, column } => write!(f, "row {row}, column {column}"),
        }
    }
}

/// One suspected marking: which rule, the text it matched (NFC, at most 200 characters) and
/// where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub rule: String,
    pub matched: String,
    pub location: Location,
}

/// A compiled rule: phrases as lower-case token lists.
#[derive(Debug, Clone)]
struct Rule {
    id: String,
    kind: RuleKind,
    phrases: Vec<Vec<String>>,
    clear_values: Vec<String>,
}

/// The scanner: rules and the byte needles of its prefilter.
#[derive(Debug, Clone)]
pub struct SecretGuard {
    rules: Vec<Rule>,
    needles: Vec<Vec<u8>>,
}

impl Default for SecretGuard {
    fn default() -> Self {
        Self::new(builtin_rules()).expect("the built-in rules are valid")
    }
}

/// The most findings one scan reports; the content is blocked on the first.
pub const MAX_FINDINGS: usize = 20;

impl SecretGuard {
    /// Compiles `specs`; an id must be 1–64 of `a-z0-9_-`, a rule needs a phrase and every
    /// phrase a letter.
    pub fn new(specs: Vec<RuleSpec>) -> Result<Self, ParseError> {
        let mut rules = Vec::with_capacity(specs.len());
        let mut needles: Vec<Vec<u8>> = Vec::new();
        for spec in specs {
            let id_ok = !spec.id.is_empty()
                && spec.id.len() <= 64
                && spec.id.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !id_ok {
                return Err(ParseError::new(format!(
                    "secret rule id `{}` must be 1–64 of a-z, 0-9, `_`, `-`",
                    spec.id
                )));
            }
            if spec.phrases.is_empty() {
                return Err(ParseError::new(format!(
                    "secret rule `{}` has no phrase",
                    spec.id
                )));
            }
            let mut phrases = Vec::with_capacity(spec.phrases.len());
            for phrase in &spec.phrases {
                let normal = normalise(phrase);
                let tokens: Vec<String> = tokens(&normal)
                    .into_iter()
                    .map(|t| lower(&normal[t.start..t.end]).replace(' ', ""))
                    .collect();
                if tokens.is_empty() {
                    return Err(ParseError::new(format!(
                        "secret rule `{}`: phrase `{phrase}` has no letter",
                        spec.id
                    )));
                }
                for needle in phrase_needles(&normal) {
                    if !needles.contains(&needle) {
                        needles.push(needle);
                    }
                }
                phrases.push(tokens);
            }
            // Longer phrases first, so "tối mật" is reported rather than its "mật".
            phrases.sort_by_key(|p| std::cmp::Reverse(p.len()));
            rules.push(Rule {
                id: spec.id,
                kind: spec.kind,
                phrases,
                clear_values: spec
                    .clear_values
                    .iter()
                    .map(|v| lower(&normalise(v)).trim().to_owned())
                    .collect(),
            });
        }
        Ok(Self { rules, needles })
    }

    /// Whether `bytes` may hold a marking: false only when no rule can match, so that callers
    /// skip decoding and scanning. It looks for the first non-ASCII letter of every phrase
    /// (upper and lower case, NFC and NFD) and for JSON `\u` escapes.
    pub fn may_contain(&self, bytes: &[u8]) -> bool {
        self.needles
            .iter()
            .any(|needle| memchr::memmem::find(bytes, needle).is_some())
    }

    /// Scans a text line by line.
    pub fn scan_text(&self, text: &str, findings: &mut Vec<Finding>) {
        if !self.may_contain(text.as_bytes()) {
            return;
        }
        let normal = normalise(text);
        for (n, line) in normal.lines().enumerate() {
            if findings.len() >= MAX_FINDINGS {
                return;
            }
            self.scan_line(line, findings, |column| Location::Line {
                line: n + 1,
                column,
            });
        }
    }

    /// Scans one table cell (each of its lines stands alone).
    pub fn scan_cell(&self, text: &str, row: usize, column: &str, findings: &mut Vec<Finding>) {
        if !self.may_contain(text.as_bytes()) {
            return;
        }
        let normal = normalise(text);
        for line in normal.lines() {
            if findings.len() >= MAX_FINDINGS {
                return;
            }
            self.scan_line(line, findings, |_| Location::Cell {
                row,
                column: column.to_owned(),
            });
        }
    }

    /// Scans every string, and every member name, of a JSON document. A member named by a
    /// label rule ("độ mật", "do_mat") is read as a classification line with its value.
    pub fn scan_json(&self, value: &serde_json::Value, findings: &mut Vec<Finding>) {
        let mut pointer = String::new();
        self.scan_value(value, &mut pointer, findings);
    }

    fn scan_value(
        &self,
        value: &serde_json::Value,
        pointer: &mut String,
        findings: &mut Vec<Finding>,
    ) {
        use serde_json::Value;
        if findings.len() >= MAX_FINDINGS {
            return;
        }
        match value {
            Value::String(text) => self.scan_field(text, pointer, findings),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    self.scan_value(item, pointer, findings);
                    pointer.truncate(len);
                }
            }
            Value::Object(members) => {
                for (name, member) in members {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                    self.scan_field(name, pointer, findings);
                    if let Value::String(text) = member {
                        self.scan_labelled(name, text, pointer, findings);
                    }
                    self.scan_value(member, pointer, findings);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn scan_field(&self, text: &str, pointer: &str, findings: &mut Vec<Finding>) {
        if !self.may_contain(text.as_bytes()) {
            return;
        }
        let normal = normalise(text);
        for line in normal.lines() {
            if findings.len() >= MAX_FINDINGS {
                return;
            }
            self.scan_line(line, findings, |_| Location::Field {
                pointer: pointer.to_owned(),
            });
        }
    }

    /// A JSON member `"độ mật": "Tối mật"` read as the line `độ mật: Tối mật`. Member names
    /// are compared letter by letter without allocating: most members name no label.
    fn scan_labelled(&self, name: &str, value: &str, pointer: &str, findings: &mut Vec<Finding>) {
        let name = normalise(name);
        for rule in self.rules.iter().filter(|r| r.kind == RuleKind::Label) {
            let named = rule.phrases.iter().any(|phrase| {
                name.chars()
                    .filter(|c| c.is_alphanumeric())
                    .flat_map(char::to_lowercase)
                    .eq(phrase.iter().flat_map(|w| w.chars()))
            });
            if named && !rule.clears(&normalise(value)) {
                push(
                    findings,
                    &rule.id,
                    &format!("{name}: {value}"),
                    Location::Field {
                        pointer: pointer.to_owned(),
                    },
                );
                return;
            }
        }
    }

    /// Scans one line of NFC text; `at` makes the location from a 1-based column.
    fn scan_line(&self, line: &str, findings: &mut Vec<Finding>, at: impl Fn(usize) -> Location) {
        if !self.may_contain(line.as_bytes()) {
            return;
        }
        let words = tokens(line);
        if words.is_empty() {
            return;
        }
        let lowered: Vec<String> = words
            .iter()
            .map(|w| lower(&line[w.start..w.end]).replace(' ', ""))
            .collect();
        for rule in &self.rules {
            let found = match rule.kind {
                RuleKind::Stamp => rule.stamp_in(line, &words, &lowered),
                RuleKind::Label => rule.label_in(line, &words, &lowered),
            };
            if let Some((start, end)) = found {
                let column = line[..start].chars().count() + 1;
                push(findings, &rule.id, &line[start..end], at(column));
                return;
            }
        }
    }

    /// Everything found in `text`, scanned as lines (a convenience for tests and tools).
    pub fn findings_in_text(&self, text: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.scan_text(text, &mut findings);
        findings
    }
}

fn push(findings: &mut Vec<Finding>, rule: &str, matched: &str, location: Location) {
    if findings.len() < MAX_FINDINGS {
        findings.push(Finding {
            rule: rule.to_owned(),
            matched: matched.chars().take(200).collect(),
            location,
        });
    }
}

impl Rule {
    /// The byte range of the first phrase standing apart in `line`.
    fn stamp_in(&self, line: &str, words: &[Word], lowered: &[String]) -> Option<(usize, usize)> {
        for i in 0..words.len() {
            for phrase in &self.phrases {
                let Some(j) = phrase_at(phrase, lowered, i) else {
                    continue;
                };
                if stands_apart(line, words, lowered, i, j) {
                    return Some((words[i].start, words[j - 1].end));
                }
            }
        }
        None
    }

    /// The byte range of a line that starts with a label phrase and a colon and has a value
    /// that is not clear.
    fn label_in(&self, line: &str, words: &[Word], lowered: &[String]) -> Option<(usize, usize)> {
        if words[0].start > 0 && line[..words[0].start].chars().any(|c| !is_decoration(c)) {
            return None;
        }
        for phrase in &self.phrases {
            let Some(j) = phrase_at(phrase, lowered, 0) else {
                continue;
            };
            let rest = &line[words[j - 1].end..];
            let Some(value) = rest.trim_start().strip_prefix([':', '：']) else {
                continue;
            };
            if !self.clears(value) {
                return Some((words[0].start, line.trim_end().len()));
            }
        }
        None
    }

    /// Whether a label's value says "not classified" (or nothing).
    fn clears(&self, value: &str) -> bool {
        let value = lower(value);
        let value = value.trim_matches(|c: char| !c.is_alphanumeric());
        value.is_empty() || self.clear_values.iter().any(|v| v == value)
    }
}

/// A word of a line: a maximal run of letters and digits, as a byte range.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

/// The words of an NFC line, spaced-out letters ("M Ậ T") joined into one word.
fn tokens(line: &str) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push(Word { start: s, end: i });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(Word {
            start: s,
            end: line.len(),
        });
    }
    // Join runs of two or more one-letter words separated by one space each.
    let single = |w: &Word| line[w.start..w.end].chars().count() == 1;
    let mut joined: Vec<Word> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let mut j = i;
        while j + 1 < words.len()
            && single(&words[j])
            && single(&words[j + 1])
            && &line[words[j].end..words[j + 1].start] == " "
        {
            j += 1;
        }
        if j > i {
            joined.push(Word {
                start: words[i].start,
                end: words[j].end,
            });
        } else {
            joined.push(words[i]);
        }
        i = j + 1;
    }
    joined
}

/// Where `phrase` ends (exclusive word index) if it starts at word `i`: word by word, or as
/// one spaced-out word ("TỐIMẬT" from "T Ố I M Ậ T").
fn phrase_at(phrase: &[String], lowered: &[String], i: usize) -> Option<usize> {
    let end = i + phrase.len();
    if end <= lowered.len() && lowered[i..end] == *phrase {
        return Some(end);
    }
    (phrase.len() > 1 && lowered[i] == phrase.concat()).then_some(i + 1)
}

/// Whether the phrase in words `i..j` stands apart from the rest of `line`.
fn stands_apart(line: &str, words: &[Word], lowered: &[String], i: usize, j: usize) -> bool {
    let before = if i == 0 {
        None
    } else {
        Some(&line[words[i - 1].end..words[i].start])
    };
    let after = words.get(j).map(|next| &line[words[j - 1].end..next.start]);
    // A neighbour written right next to it that makes an ordinary compound.
    if before.is_some_and(is_plain_space) && NOT_AFTER.contains(&lowered[i - 1].as_str()) {
        return false;
    }
    if after.is_some_and(is_plain_space) && NOT_BEFORE.contains(&lowered[j].as_str()) {
        return false;
    }
    let (Some(before), Some(after)) = (before, after) else {
        // At an edge of the line: alone, or with one side open.
        return match (before, after) {
            (None, None) => true,
            (None, Some(after)) => edge_then(line, words, i, j, after, true),
            (Some(before), None) => edge_then(line, words, i, j, before, false),
            _ => unreachable!(),
        };
    };
    let upper = is_upper(&line[words[i].start..words[j - 1].end]);
    if upper {
        let left = strong_gap(before) || contrast(&line[words[i - 1].start..words[i - 1].end]);
        let right = strong_gap(after) || contrast(&line[words[j].start..words[j].end]);
        left && right
    } else {
        hard_gap(before, true) && hard_gap(after, false)
    }
}

/// A phrase at one edge of its line; `gap` separates it from the words on the other side
/// (after it when `at_start`).
fn edge_then(line: &str, words: &[Word], i: usize, j: usize, gap: &str, at_start: bool) -> bool {
    if is_upper(&line[words[i].start..words[j - 1].end]) {
        let neighbour = if at_start { words[j] } else { words[i - 1] };
        strong_gap(gap) || contrast(&line[neighbour.start..neighbour.end])
    } else {
        hard_gap(gap, !at_start)
    }
}

/// One ordinary space (or none) between two words.
fn is_plain_space(gap: &str) -> bool {
    gap.chars().all(char::is_whitespace) && gap.chars().count() <= 1
}

/// A gap that sets a capitalised stamp apart: two spaces or more, a tab, or punctuation.
fn strong_gap(gap: &str) -> bool {
    gap.chars().filter(|c| c.is_whitespace()).count() >= 2
        || gap.contains('\t')
        || gap.chars().any(|c| !c.is_whitespace())
}

/// A gap that sets a stamp in any case apart: a tab, a table bar, or (before it) a colon.
fn hard_gap(gap: &str, before: bool) -> bool {
    gap.contains('\t') || gap.contains('|') || (before && (gap.contains(':') || gap.contains('：')))
}

/// A neighbour word in lower or mixed case next to a capitalised stamp.
fn contrast(word: &str) -> bool {
    word.chars().any(char::is_lowercase)
}

/// Every cased letter is upper case, and there is one.
fn is_upper(text: &str) -> bool {
    let mut cased = false;
    for c in text.chars() {
        if c.is_lowercase() {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// What may surround a label at the start of a line: not a letter or digit.
fn is_decoration(c: char) -> bool {
    !c.is_alphanumeric()
}

fn lower(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

/// NFC, with odd spaces as spaces and invisible characters dropped.
fn normalise(text: &str) -> Cow<'_, str> {
    let odd = |c: char| {
        matches!(
            c,
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
                | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
        )
    };
    if is_nfc_quick(text.chars()) == IsNormalized::Yes && !text.chars().any(odd) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.nfc()
            .filter_map(|c| match c {
                '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => None,
                c if odd(c) => Some(' '),
                c => Some(c),
            })
            .collect(),
    )
}

/// The byte needles of a phrase for the prefilter: its first non-ASCII letter in lower and
/// upper case (NFC), the first combining mark of its decomposition (NFD text), and `\u`
/// (JSON escapes). A phrase of ASCII letters only gives itself in the usual spellings of a
/// name (spaces, `_`, `-` or nothing between words; lower, upper, title or camel case).
fn phrase_needles(phrase: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut add = |s: String| {
        let bytes = s.into_bytes();
        if !out.contains(&bytes) {
            out.push(bytes);
        }
    };
    match phrase.chars().find(|c| !c.is_ascii() && c.is_alphabetic()) {
        Some(c) => {
            add(c.to_lowercase().collect());
            add(c.to_uppercase().collect());
            if let Some(mark) = std::iter::once(c)
                .nfd()
                .find(|m| unicode_normalization::char::is_combining_mark(*m))
            {
                add(mark.to_string());
            }
            add("\\u".into());
        }
        None => {
            // The whole phrase as it may be spelt: "do mat", "do_mat", "DO-MAT", "doMat", "DoMat"
            // (a single letter would let nearly every text through).
            let words: Vec<String> = phrase
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            let title = |w: &String| {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            };
            for separator in ["", " ", "_", "-"] {
                add(words.join(separator));
                add(words.join(separator).to_ascii_uppercase());
                let titled: Vec<String> = words.iter().map(title).collect();
                add(titled.join(separator));
                if let Some((first, rest)) = titled.split_first() {
                    add(first.to_ascii_lowercase() + &rest.join(separator));
                }
            }
        }
    }
    out
}

/// Where quarantined content came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum QuarantineSource {
    /// A file imported into a dataset's records.
    Import,
    /// A consumer system's request body through the gateway.
    ExchangeRequest,
    /// A provider system's answer through the gateway.
    ExchangeResponse,
    /// An uploaded document (a letter, a ticket's attachment).
    Attachment,
}

impl QuarantineSource {
    pub const ALL: [Self; 4] = [
        Self::Import,
        Self::ExchangeRequest,
        Self::ExchangeResponse,
        Self::Attachment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Import => "import",
            Self::ExchangeRequest => "exchange_request",
            Self::ExchangeResponse => "exchange_response",
            Self::Attachment => "attachment",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown quarantine source `{value}`")))
    }

    /// As the console shows it.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Import => "Nhập dữ liệu",
            Self::ExchangeRequest => "Yêu cầu qua cổng trao đổi",
            Self::ExchangeResponse => "Trả lời qua cổng trao đổi",
            Self::Attachment => "Tệp đính kèm",
        }
    }
}

/// Quarantined content (*nội dung bị tạm giữ*) goes from `held` to `confirmed` (the auditor
/// judges it a state secret: the content is erased) or `released` (not a state secret: the
/// same content passes from then on). Both decisions are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum QuarantineState {
    Held,
    Confirmed,
    Released,
}

impl QuarantineState {
    pub const ALL: [Self; 3] = [Self::Held, Self::Confirmed, Self::Released];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Confirmed => "confirmed",
            Self::Released => "released",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ParseError::new(format!("unknown quarantine state `{value}`")))
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Held => "Đang tạm giữ",
            Self::Confirmed => "Đã xác nhận là bí mật nhà nước",
            Self::Released => "Đã giải phóng",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(text: &str) -> bool {
        !SecretGuard::default().findings_in_text(text).is_empty()
    }

    #[test]
    fn q20_3_stamps_standing_alone_are_found() {
        for text in [
            "MẬT",
            "Tối mật",
            "TUYỆT MẬT",
            "[ TỐI MẬT ]",
            "M Ậ T",
            "T U Y Ệ T   M Ậ T",
            "Số: 12/BC-CAT          MẬT",
            "Phân loại: Mật",
            "Hỏa tốc | Tối mật | 2024",
            "Báo cáo tình hình MẬT",
            "Độ mật: Tuyệt mật",
            "ĐỘ MẬT : A",
            "tuye\u{0302}\u{0323}t ma\u{0323}\u{0302}t",
            "TỐI\u{00A0}\u{00A0}MẬT",
        ] {
            assert!(hit(text), "{text:?} should be found");
        }
    }

    #[test]
    fn q20_3_ordinary_words_are_not_found() {
        for text in [
            "Giữ bí mật thông tin của người dân",
            "BẢO VỆ BÍ MẬT NHÀ NƯỚC",
            "Đổi mật khẩu sau 90 ngày",
            "MẬT KHẨU",
            "Mật độ dân số 1.200 người/km²",
            "Mật ong rừng U Minh",
            "quan hệ thân mật",
            "Mật mã học cơ bản",
            "Độ mật: Không",
            "Độ mật:",
            "độ mật của tài liệu được xác định theo luật",
            "Dự án được giữ tuyệt mật trong nhiều năm",
            "LÊ THỊ MẬT",
            "Nguyễn Thị Mật",
            "cập nhật luật mới",
        ] {
            assert!(!hit(text), "{text:?} should not be found");
        }
    }

    #[test]
    fn q20_3_findings_say_where() {
        let guard = SecretGuard::default();
        let found = guard.findings_in_text("Kính gửi: Sở Tư pháp\n\n   TỐI MẬT\n");
        assert_eq!(
            found,
            [Finding {
                rule: "classification_stamp".into(),
                matched: "TỐI MẬT".into(),
                location: Location::Line { line: 3, column: 4 },
            }]
        );
        let mut found = Vec::new();
        guard.scan_json(
            &serde_json::json!({"ho_so": [{"ten": "A"}, {"do_mat": "Mật"}]}),
            &mut found,
        );
        assert_eq!(
            found[0].location,
            Location::Field {
                pointer: "/ho_so/1/do_mat".into()
            }
        );
        let mut found = Vec::new();
        guard.scan_json(&serde_json::json!({"ghi_chu": "M\u{1eac}T"}), &mut found);
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn q20_3_prefilter_skips_text_without_the_letters() {
        let guard = SecretGuard::default();
        assert!(!guard.may_contain(b"{\"name\":\"Ministry\",\"items\":[1,2,3]}"));
        assert!(!guard.may_contain("Sở Tư pháp tỉnh Hà Nam".as_bytes()));
        assert!(guard.may_contain("MẬT".as_bytes()));
        assert!(guard.may_contain("ma\u{0323}\u{0302}t".as_bytes()));
        assert!(guard.may_contain(b"{\"x\":\"M\\u1eacT\"}"));
        assert!(guard.may_contain(b"{\"doMat\":\"A\"}"));
        assert!(!guard.may_contain(b"{\"id\":\"dataset\",\"mode\":\"dom\"}"));
    }

    #[test]
    fn q20_3_operators_add_and_replace_rules() {
        let guard = SecretGuard::new(vec![RuleSpec {
            id: "confidential".into(),
            kind: RuleKind::Stamp,
            phrases: vec!["Confidential".into()],
            clear_values: Vec::new(),
        }])
        .unwrap();
        assert!(!guard.findings_in_text("CONFIDENTIAL").is_empty());
        assert!(guard.findings_in_text("MẬT").is_empty());
        assert!(SecretGuard::new(vec![RuleSpec {
            id: "Bad id".into(),
            kind: RuleKind::Stamp,
            phrases: vec!["x".into()],
            clear_values: Vec::new(),
        }])
        .is_err());
        assert!(SecretGuard::new(vec![RuleSpec {
            id: "empty".into(),
            kind: RuleKind::Label,
            phrases: vec!["  : ".into()],
            clear_values: Vec::new(),
        }])
        .is_err());
    }
}
