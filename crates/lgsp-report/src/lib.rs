//! Documents the LGSP writes for people to read, sign and file.
//!
//! [`Document`] is an administrative document (Decree 30/2020/NĐ-CP): the issuing body and
//! national header, a number and date line, a title, numbered sections of paragraphs, tables and
//! charts, a signature block and the list of recipients, plus an appendix of the query behind
//! every figure so that each can be recomputed from storage. The renderings in this crate turn
//! one model into HTML, DOCX, PDF and XLSX; the server builds the model from the store.
//!
//! [`svg`] draws the charts of the console's dashboards and of the HTML report, with no
//! script and no external asset.

pub mod svg;

use chrono::NaiveDate;

/// An administrative document (báo cáo) as Decree 30/2020 lays it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub header: Header,
    /// The kind of document, in capitals: "BÁO CÁO".
    pub title: String,
    /// What it is about, under the title: "Tình hình thực hiện Quy chế … năm 2026".
    pub subject: String,
    /// Paragraphs before the first section (the legal bases the report answers to).
    pub preamble: Vec<String>,
    /// Numbered sections: I, II, III … at the top level, 1, 2, 3 … below.
    pub sections: Vec<Section>,
    pub signature: Signature,
    /// "Nơi nhận:" lines.
    pub recipients: Vec<String>,
    /// The query behind every figure (Q17.6: each is reproducible from the log and storage).
    pub figures: Vec<FigureSource>,
}

/// The top of the first page: issuing body on the left, national name and motto on the right,
/// then the number and the place and date.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The governing body above the issuer, in capitals: "UBND TỈNH HÀ NAM".
    pub parent_body: String,
    /// The issuing body, in capitals: "SỞ THÔNG TIN VÀ TRUYỀN THÔNG".
    pub issuing_body: String,
    /// The number and symbol: "Số:      /BC-STTTT" (left blank for the clerk to fill in).
    pub number: String,
    /// The place name in the date line: "Hà Nam".
    pub place: String,
    pub date: NaiveDate,
}

/// A numbered section with its content and its subsections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
    pub subsections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(String),
    Table(Table),
    Chart(Chart),
}

/// A table with a caption; every numeric cell of it should have a [`FigureSource`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// A value with this many decimals (rates, hours).
    Decimal(f64, u8),
    /// A fraction shown as a percentage with one decimal.
    Percent(f64),
    /// No value (nothing to measure), shown as "–".
    Empty,
}

impl Cell {
    /// The cell as a person reads it, Vietnamese style: "1.234.567", "12,5", "98,2%".
    pub fn display(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Integer(n) => group_thousands(*n),
            Cell::Decimal(x, decimals) => decimal_comma(*x, *decimals),
            Cell::Percent(x) => format!("{}%", decimal_comma(x * 100.0, 1)),
            Cell::Empty => "–".to_owned(),
        }
    }
}

/// A chart: categories along one axis, one or more series of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub kind: ChartKind,
    pub caption: String,
    /// What the values count, for the value axis: "lượt trao đổi".
    pub unit: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Vertical bars, grouped when there are several series.
    Bars,
    /// Lines over the categories, for values over time.
    Lines,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// One value per category.
    pub values: Vec<f64>,
}

/// The signature block at the bottom right.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signature {
    /// "KT. GIÁM ĐỐC" and similar, if signed on behalf.
    pub authority: Option<String>,
    /// "GIÁM ĐỐC".
    pub position: String,
    /// Left empty for the signer to fill in.
    pub name: String,
}

/// Where a figure of the document comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureSource {
    /// A short reference the document uses for the figure: "B2.3".
    pub id: String,
    /// What it counts, in Vietnamese.
    pub label: String,
    /// The value as the document shows it.
    pub value: String,
    /// The SQL that computes it on the store (both backends read it the same way).
    pub query: String,
}

/// `1234567` → `"1.234.567"` (Vietnamese groups thousands with dots).
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

/// `12.5` with 1 decimal → `"12,5"`; the integer part grouped with dots.
pub fn decimal_comma(x: f64, decimals: u8) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let text = format!("{:.*}", usize::from(decimals), x.abs());
    let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole: i64 = integer.parse().unwrap_or(0);
    let sign = if x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{}", group_thousands(whole))
    } else {
        format!("{sign}{},{fraction}", group_thousands(whole))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_vietnamese_way() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1.000");
        assert_eq!(group_thousands(-1_234_567), "-1.234.567");
        assert_eq!(decimal_comma(12.5, 1), "12,5");
        assert_eq!(decimal_comma(1234.0, 0), "1.234");
        assert_eq!(decimal_comma(-0.01, 1), "0,0");
        assert_eq!(Cell::Percent(0.9823).display(), "98,2%");
        assert_eq!(Cell::Empty.display(), "–");
    }
}
