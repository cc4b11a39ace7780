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

pub mod docx;
mod fonts;
pub mod html;
pub mod pdf;
#[cfg(any(test, feature = "sample"))]
pub mod sample;
pub mod svg;
pub mod xlsx;

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
    /// Listed in the appendix of the printed document (DOCX, PDF, HTML) as well as in the
    /// workbook, which lists every figure: a province's per-agency details would otherwise make
    /// the printed appendix hundreds of pages long.
    pub printed: bool,
}

impl Document {
    /// The figures the printed document's appendix lists.
    pub fn printed_figures(&self) -> impl Iterator<Item = &FigureSource> {
        self.figures.iter().filter(|f| f.printed)
    }

    /// Under the printed appendix, where the queries of the figures it leaves out are.
    pub fn workbook_note(&self) -> Option<String> {
        let left = self.figures.iter().filter(|f| !f.printed).count();
        (left > 0).then(|| {
            format!(
                "Câu lệnh truy vấn của {} số liệu chi tiết khác (theo từng cơ quan) có tại trang \
                 “Nguồn số liệu” của bảng tính (XLSX) kèm theo báo cáo này.",
                group_thousands(left as i64)
            )
        })
    }
}

impl Chart {
    /// The chart's numbers as a table (categories down, one column per series), shown under
    /// every chart so that its figures can be read without the picture.
    pub fn numbers(&self) -> Table {
        let mut columns = Vec::with_capacity(self.series.len() + 1);
        columns.push(String::new());
        columns.extend(self.series.iter().map(|s| s.name.clone()));
        let rows = self
            .categories
            .iter()
            .enumerate()
            .map(|(i, category)| {
                let mut row = vec![Cell::Text(category.clone())];
                row.extend(self.series.iter().map(|s| match s.values.get(i) {
                    Some(v) if !v.is_finite() => Cell::Empty,
                    Some(v) if v.fract() == 0.0 && v.abs() < 9e15 => Cell::Integer(*v as i64),
                    Some(v) => Cell::Decimal(*v, 1),
                    None => Cell::Empty,
                }));
                row
            })
            .collect();
        Table {
            caption: format!("Số liệu: {}", self.caption),
            columns,
            rows,
        }
    }
}

impl Cell {
    /// Numbers are right-aligned in every rendering; text is not.
    pub fn is_number(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// The number of a section at `depth` (0 = top level) as Decree 30 numbers them: "I.", "1.", "a)".
pub fn section_number(depth: usize, index: usize) -> String {
    match depth {
        0 => format!("{}.", roman(index + 1)),
        1 => format!("{}.", index + 1),
        _ => {
            let letters = "abcdđeghiklmnopqrstuvxy";
            let letter = letters
                .chars()
                .nth(index % letters.chars().count())
                .unwrap_or('a');
            format!("{letter})")
        }
    }
}

/// `4` → `"IV"`.
pub fn roman(mut n: usize) -> String {
    const NUMERALS: [(usize, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, numeral) in NUMERALS {
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    out
}

/// The date line: "Hà Nam, ngày 05 tháng 12 năm 2026" (day and month with two digits, as Decree 30
/// asks for days below 10 and months 1 and 2).
pub fn place_and_date(header: &Header) -> String {
    use chrono::Datelike;
    format!(
        "{}, ngày {:02} tháng {:02} năm {}",
        header.place,
        header.date.day(),
        header.date.month(),
        header.date.year()
    )
}

/// The line under the appendix's title: "(Kèm theo Báo cáo số        /BC-STTTT ngày 05/12/2026)".
pub fn appendix_note(header: &Header) -> String {
    let number = header
        .number
        .trim_start_matches("Số:")
        .trim_start_matches("số:");
    format!(
        "(Kèm theo Báo cáo số{} ngày {})",
        number.trim_end(),
        header.date.format("%d/%m/%Y")
    )
}

/// The widths, in points, of the two columns of the national header (issuing body; national
/// name and motto). Together a little wider than the text (Decree 30's 12-point capitals need
/// it), so the header runs slightly into the side margins.
pub(crate) const HEADER_COLUMNS_PT: [f64; 2] = [220.0, 270.0];

/// The series' colours in the DOCX and PDF charts, as in the SVG ones (Okabe–Ito: told apart
/// with the common colour-vision deficiencies).
pub(crate) const CHART_COLOURS: [&str; 7] = [
    "0072B2", "E69F00", "009E73", "D55E00", "CC79A7", "56B4E9", "000000",
];

/// The heading of the appendix that lists the query behind every figure.
pub const SOURCES_TITLE: &str = "Phụ lục: Nguồn số liệu";
/// The columns of that appendix.
pub const SOURCES_COLUMNS: [&str; 4] = ["Mã", "Số liệu", "Giá trị", "Truy vấn"];

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

    #[test]
    fn sections_are_numbered_the_administrative_way() {
        assert_eq!(section_number(0, 3), "IV.");
        assert_eq!(section_number(0, 8), "IX.");
        assert_eq!(section_number(1, 0), "1.");
        assert_eq!(section_number(2, 1), "b)");
        assert_eq!(section_number(2, 4), "đ)");
        assert_eq!(roman(2026), "MMXXVI");
        let header = Header {
            parent_body: String::new(),
            issuing_body: String::new(),
            number: String::new(),
            place: "Hà Nam".into(),
            date: NaiveDate::from_ymd_opt(2026, 2, 5).unwrap(),
        };
        assert_eq!(place_and_date(&header), "Hà Nam, ngày 05 tháng 02 năm 2026");
    }
}
