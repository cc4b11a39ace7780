//! The document as a Word file (Office Open XML, ECMA-376), laid out as Decree 30/2020/NĐ-CP
//! asks of an administrative document, for the operator to edit and sign.
//!
//! The XML is written by hand: no well-kept Rust crate writes WordprocessingML with native
//! charts, and the parts needed here are few. Elements follow the schema's order (Word refuses a
//! file whose properties are out of order). Charts are DrawingML charts with their values cached
//! in the chart part (what Word and LibreOffice draw) and an embedded workbook (what Word opens
//! for "Edit Data").

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::fonts::{column_widths, FontKind, Measured};
use crate::svg::escape;
use crate::{
    appendix_note, place_and_date, section_number, Block, Chart, ChartKind, Document, Section,
    Table, CHART_COLOURS, HEADER_COLUMNS_PT, SOURCES_COLUMNS,
};

/// A4 in twentieths of a point.
pub const PAGE_WIDTH: u32 = 11906;
pub const PAGE_HEIGHT: u32 = 16838;
/// Margins (Decree 30, Appendix I: top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm).
pub const MARGIN_TOP: u32 = 1134; // 20 mm
pub const MARGIN_BOTTOM: u32 = 1134; // 20 mm
pub const MARGIN_LEFT: u32 = 1701; // 30 mm
pub const MARGIN_RIGHT: u32 = 850; // 15 mm
const TEXT_WIDTH: u32 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
/// Charts: 16 cm by 8 cm, in EMU.
const CHART_CX: u32 = 5_760_000;
const CHART_CY: u32 = 2_880_000;

const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const REL_TYPE: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// The .docx file.
pub fn render(document: &Document) -> Vec<u8> {
    let mut body = Body::default();
    body.header(document);
    for (i, section) in document.sections.iter().enumerate() {
        body.section(section, 0, i);
    }
    body.closing(document);
    body.appendix(document);
    body.section_properties();

    let mut parts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut overrides = String::new();
    let mut relationships = String::new();
    let mut part = |name: String, content_type: Option<&str>, bytes: Vec<u8>| {
        if let Some(content_type) = content_type {
            let _ = write!(
                overrides,
                r#"<Override PartName="/{name}" ContentType="application/vnd.openxmlformats-{content_type}"/>"#
            );
        }
        parts.push((name, bytes));
    };
    let rel = |relationships: &mut String, id: &str, kind: &str, target: &str| {
        let _ = write!(
            relationships,
            r#"<Relationship Id="{id}" Type="{REL_TYPE}/{kind}" Target="{target}"/>"#
        );
    };
    rel(&mut relationships, "rIdStyles", "styles", "styles.xml");
    rel(
        &mut relationships,
        "rIdSettings",
        "settings",
        "settings.xml",
    );
    rel(&mut relationships, "rIdHeader", "header", "header1.xml");
    rel(
        &mut relationships,
        "rIdFirstHeader",
        "header",
        "header2.xml",
    );
    for (i, chart) in body.charts.iter().enumerate() {
        let n = i + 1;
        rel(
            &mut relationships,
            &format!("rIdChart{n}"),
            "chart",
            &format!("charts/chart{n}.xml"),
        );
        let workbook = chart_workbook(chart, document.header.date);
        part(
            format!("word/charts/chart{n}.xml"),
            Some("officedocument.drawingml.chart+xml"),
            chart_xml(chart, workbook.is_some()).into_bytes(),
        );
        if let Some(workbook) = workbook {
            part(
                format!("word/charts/_rels/chart{n}.xml.rels"),
                None,
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{REL_NS}"><Relationship Id="rId1" Type="{REL_TYPE}/package" Target="../embeddings/Microsoft_Excel_Worksheet{n}.xlsx"/></Relationships>"#
                )
                .into_bytes(),
            );
            part(
                format!("word/embeddings/Microsoft_Excel_Worksheet{n}.xlsx"),
                None,
                workbook,
            );
        }
    }
    part(
        "word/document.xml".into(),
        Some("officedocument.wordprocessingml.document.main+xml"),
        body.finish().into_bytes(),
    );
    part(
        "word/styles.xml".into(),
        Some("officedocument.wordprocessingml.styles+xml"),
        styles().into_bytes(),
    );
    part(
        "word/settings.xml".into(),
        Some("officedocument.wordprocessingml.settings+xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="{W_NS}"><w:zoom w:percent="100"/><w:defaultTabStop w:val="720"/><w:characterSpacingControl w:val="doNotCompress"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>"#
        )
        .into_bytes(),
    );
    // Page numbers at the top centre from the second page (Decree 30, Appendix I, section II.8).
    part(
        "word/header1.xml".into(),
        Some("officedocument.wordprocessingml.header+xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:hdr xmlns:w="{W_NS}"><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>2</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:hdr>"#
        )
        .into_bytes(),
    );
    part(
        "word/header2.xml".into(),
        Some("officedocument.wordprocessingml.header+xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:hdr xmlns:w="{W_NS}"><w:p/></w:hdr>"#
        )
        .into_bytes(),
    );
    part(
        "word/_rels/document.xml.rels".into(),
        None,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{REL_NS}">{relationships}</Relationships>"#
        )
        .into_bytes(),
    );
    let created = document.header.date.format("%Y-%m-%dT00:00:00Z");
    part(
        "docProps/core.xml".into(),
        Some("package.core-properties+xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{title}</dc:title><dc:subject>{subject}</dc:subject><dc:creator>{creator}</dc:creator><dc:language>vi-VN</dc:language><dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified></cp:coreProperties>"#,
            title = escape(&format!("{} {}", document.title, document.subject)),
            subject = escape(&document.subject),
            creator = escape(&document.header.issuing_body),
        )
        .into_bytes(),
    );
    part(
        "docProps/app.xml".into(),
        Some("officedocument.extended-properties+xml"),
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>LGSP</Application></Properties>"#
            .as_bytes()
            .to_vec(),
    );

    let content_types = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="xlsx" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"/>{overrides}</Types>"#
    );
    let root_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{REL_NS}"><Relationship Id="rId1" Type="{REL_TYPE}/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="{REL_TYPE}/extended-properties" Target="docProps/app.xml"/></Relationships>"#
    );

    // The date of the document as the files' time, so that one document gives one file.
    let date = document.header.date;
    let time = DateTime::from_date_and_time(
        u16::try_from(chrono::Datelike::year(&date))
            .unwrap_or(1980)
            .clamp(1980, 2107),
        chrono::Datelike::month(&date) as u8,
        chrono::Datelike::day(&date) as u8,
        0,
        0,
        0,
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(time);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let all = [
        ("[Content_Types].xml".to_owned(), content_types.into_bytes()),
        ("_rels/.rels".to_owned(), root_rels.into_bytes()),
    ]
    .into_iter()
    .chain(parts);
    for (name, bytes) in all {
        // Writing to memory fails only if the archive is malformed, which these fixed names rule out.
        zip.start_file(name, options).expect("a new zip entry");
        zip.write_all(&bytes).expect("writing to memory");
    }
    zip.finish()
        .expect("finishing the zip in memory")
        .into_inner()
}

/// How a run of text looks.
#[derive(Clone, Copy, Default)]
struct Run {
    bold: bool,
    italic: bool,
    /// In points; the document's default (14) when `None`.
    size: Option<f64>,
    mono: bool,
}

impl Run {
    const PLAIN: Run = Run {
        bold: false,
        italic: false,
        size: None,
        mono: false,
    };
    fn bold() -> Run {
        Run {
            bold: true,
            ..Run::PLAIN
        }
    }
    fn sized(self, size: f64) -> Run {
        Run {
            size: Some(size),
            ..self
        }
    }

    /// `<w:r>` elements for `text`; line breaks become `<w:br/>`.
    fn xml(self, text: &str) -> String {
        let mut props = String::new();
        if self.mono {
            props.push_str(
                r#"<w:rFonts w:ascii="Courier New" w:hAnsi="Courier New" w:cs="Courier New"/>"#,
            );
        }
        if self.bold {
            props.push_str("<w:b/><w:bCs/>");
        }
        if self.italic {
            props.push_str("<w:i/><w:iCs/>");
        }
        if let Some(size) = self.size {
            let half_points = (size * 2.0).round() as u32;
            let _ = write!(
                props,
                r#"<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>"#
            );
        }
        let mut out = String::from("<w:r>");
        if !props.is_empty() {
            let _ = write!(out, "<w:rPr>{props}</w:rPr>");
        }
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.push_str("<w:br/>");
            }
            let _ = write!(out, r#"<w:t xml:space="preserve">{}</w:t>"#, escape(line));
        }
        out.push_str("</w:r>");
        out
    }

    fn font(self) -> FontKind {
        if self.mono {
            FontKind::Mono
        } else {
            FontKind::styled(self.bold, self.italic)
        }
    }
}

/// Paragraph properties, written in the schema's order.
#[derive(Default)]
struct Para<'a> {
    style: Option<&'a str>,
    keep_next: bool,
    page_break_before: bool,
    /// A rule along the top of the paragraph (an otherwise empty one: a short line).
    rule: bool,
    /// Space before and after, in twips.
    spacing: Option<(u32, u32)>,
    /// Left and right indents, in twips.
    indent: Option<(u32, u32)>,
    align: Option<&'a str>,
}

impl Para<'_> {
    fn xml(&self, runs: &str) -> String {
        let mut props = String::new();
        if let Some(style) = self.style {
            let _ = write!(props, r#"<w:pStyle w:val="{style}"/>"#);
        }
        if self.keep_next {
            props.push_str("<w:keepNext/>");
        }
        if self.page_break_before {
            props.push_str("<w:pageBreakBefore/>");
        }
        if self.rule {
            props.push_str(
                r#"<w:pBdr><w:top w:val="single" w:sz="6" w:space="0" w:color="000000"/></w:pBdr>"#,
            );
        }
        if self.rule {
            props.push_str(
                r#"<w:spacing w:before="0" w:after="0" w:line="80" w:lineRule="exact"/>"#,
            );
        } else if let Some((before, after)) = self.spacing {
            let _ = write!(
                props,
                r#"<w:spacing w:before="{before}" w:after="{after}"/>"#
            );
        }
        if let Some((left, right)) = self.indent {
            let _ = write!(
                props,
                r#"<w:ind w:left="{left}" w:right="{right}" w:firstLine="0"/>"#
            );
        }
        if let Some(align) = self.align {
            let _ = write!(props, r#"<w:jc w:val="{align}"/>"#);
        }
        if self.rule {
            props.push_str(r#"<w:rPr><w:sz w:val="4"/></w:rPr>"#);
        }
        format!("<w:p><w:pPr>{props}</w:pPr>{runs}</w:p>")
    }

    fn centred() -> Self {
        Para {
            align: Some("center"),
            ..Para::default()
        }
    }

    /// A centred horizontal line `length` twips long in a space `width` twips wide.
    fn rule(length: f64, width: u32) -> String {
        let side = ((f64::from(width) - length) / 2.0).max(0.0).round() as u32;
        Para {
            rule: true,
            indent: Some((side, side)),
            ..Para::default()
        }
        .xml("")
    }
}

#[derive(Default)]
struct Body {
    xml: String,
    charts: Vec<Chart>,
}

impl Body {
    fn push(&mut self, xml: &str) {
        self.xml.push_str(xml);
    }

    /// The national header, the title and the subject, and the preamble.
    fn header(&mut self, document: &Document) {
        let header = &document.header;
        let [left, right] = HEADER_COLUMNS_PT.map(|w| (w * 20.0) as u32);
        let small = Run::PLAIN.sized(12.0);
        let issuer = Run::bold().sized(12.0);
        let motto = Run::bold().sized(13.0);
        let cell = |width: u32, content: &str| {
            format!(r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{content}</w:tc>"#)
        };
        let issuer_width = issuer
            .font()
            .width(&header.issuing_body, 12.0)
            .min(f64::from(left) / 20.0);
        let motto_text = "Độc lập - Tự do - Hạnh phúc";
        let motto_width = motto.font().width(motto_text, 13.0);
        let top_left = format!(
            "{}{}{}",
            Para::centred().xml(&small.xml(&header.parent_body)),
            Para::centred().xml(&issuer.xml(&header.issuing_body)),
            // Under the issuing body a line a third to a half of its length.
            Para::rule(issuer_width * 20.0 * 0.4, left),
        );
        let top_right = format!(
            "{}{}{}",
            Para::centred().xml(&issuer.xml("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")),
            Para::centred().xml(&motto.xml(motto_text)),
            // Under the motto a line as long as it.
            Para::rule(motto_width * 20.0, right),
        );
        let spaced = Para {
            spacing: Some((120, 0)),
            ..Para::centred()
        };
        let bottom_left = spaced.xml(&Run::PLAIN.sized(13.0).xml(&header.number));
        let bottom_right = spaced.xml(
            &Run {
                italic: true,
                ..Run::PLAIN
            }
            .xml(&place_and_date(header)),
        );
        let _ = write!(
            self.xml,
            r#"<w:tbl><w:tblPr><w:tblW w:w="{total}" w:type="dxa"/><w:jc w:val="center"/><w:tblBorders><w:top w:val="nil"/><w:left w:val="nil"/><w:bottom w:val="nil"/><w:right w:val="nil"/><w:insideH w:val="nil"/><w:insideV w:val="nil"/></w:tblBorders><w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar><w:tblLook w:val="0000"/></w:tblPr><w:tblGrid><w:gridCol w:w="{left}"/><w:gridCol w:w="{right}"/></w:tblGrid><w:tr>{c1}{c2}</w:tr><w:tr>{c3}{c4}</w:tr></w:tbl>"#,
            total = left + right,
            c1 = cell(left, &top_left),
            c2 = cell(right, &top_right),
            c3 = cell(left, &bottom_left),
            c4 = cell(right, &bottom_right),
        );
        let title = Para {
            spacing: Some((360, 0)),
            ..Para::centred()
        };
        self.push(&title.xml(&Run::bold().xml(&document.title)));
        self.push(&Para::centred().xml(&Run::bold().xml(&document.subject)));
        let subject_width = Run::bold().font().width(&document.subject, 14.0) * 20.0;
        self.push(&Para::rule(
            subject_width.min(f64::from(TEXT_WIDTH)) / 3.0,
            TEXT_WIDTH,
        ));
        for paragraph in &document.preamble {
            self.paragraph(paragraph);
        }
    }

    fn paragraph(&mut self, text: &str) {
        self.push(
            &Para {
                style: Some("BodyText"),
                ..Para::default()
            }
            .xml(&Run::PLAIN.xml(text)),
        );
    }

    fn section(&mut self, section: &Section, depth: usize, index: usize) {
        let style = ["Heading1", "Heading2", "Heading3"][depth.min(2)];
        let heading = format!("{} {}", section_number(depth, index), section.heading);
        self.push(
            &Para {
                style: Some(style),
                ..Para::default()
            }
            .xml(&Run::PLAIN.xml(&heading)),
        );
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => self.paragraph(text),
                Block::Table(table) => self.table(table),
                Block::Chart(chart) => {
                    self.chart(chart);
                    self.table(&chart.numbers());
                }
            }
        }
        for (i, sub) in section.subsections.iter().enumerate() {
            self.section(sub, depth + 1, i);
        }
    }

    fn chart(&mut self, chart: &Chart) {
        self.charts.push(chart.clone());
        let n = self.charts.len();
        let _ = write!(
            self.xml,
            r#"<w:p><w:pPr><w:keepNext/><w:spacing w:before="120" w:after="0"/><w:jc w:val="center"/></w:pPr><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{CHART_CX}" cy="{CHART_CY}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:docPr id="{n}" name="Biểu đồ {n}" descr="{caption}"/><wp:cNvGraphicFramePr/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:chart r:id="rIdChart{n}"/></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"#,
            caption = escape(&chart.caption)
        );
        self.push(
            &Para {
                style: Some("Caption"),
                ..Para::default()
            }
            .xml(&Run::PLAIN.xml(&chart.caption)),
        );
    }

    /// A bordered table under its caption; the header row repeats on every page.
    fn table(&mut self, table: &Table) {
        if !table.caption.is_empty() {
            self.push(
                &Para {
                    style: Some("Caption"),
                    ..Para::default()
                }
                .xml(&Run::PLAIN.xml(&table.caption)),
            );
        }
        let header: Vec<(String, Run)> = table
            .columns
            .iter()
            .map(|c| (c.clone(), Run::bold().sized(13.0)))
            .collect();
        let rows: Vec<Vec<(String, Run, bool)>> = table
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|cell| (cell.display(), Run::PLAIN.sized(13.0), cell.is_number()))
                    .collect()
            })
            .collect();
        self.grid(&header, &rows);
    }

    /// A bordered table of a header row and rows of (text, look, right-aligned).
    fn grid(&mut self, header: &[(String, Run)], rows: &[Vec<(String, Run, bool)>]) {
        const PADDING: f64 = 5.7; // the cell margins (57 twips a side), in points
        let measure =
            |text: &String, run: &Run| (text.clone(), run.font(), run.size.unwrap_or(14.0));
        let head: Vec<Measured> = header.iter().map(|(t, run)| measure(t, run)).collect();
        let measured: Vec<Vec<Measured>> = rows
            .iter()
            .map(|row| row.iter().map(|(t, run, _)| measure(t, run)).collect())
            .collect();
        let widths: Vec<u32> = column_widths(
            &head,
            &measured,
            f64::from(TEXT_WIDTH) / 20.0,
            PADDING + 1.0,
        )
        .into_iter()
        .map(|w| (w * 20.0).floor() as u32)
        .collect();
        let _ = write!(
            self.xml,
            r#"<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{}" w:type="dxa"/><w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0"/></w:tblPr><w:tblGrid>"#,
            widths.iter().sum::<u32>()
        );
        for width in &widths {
            let _ = write!(self.xml, r#"<w:gridCol w:w="{width}"/>"#);
        }
        self.xml.push_str("</w:tblGrid>");
        let cell = |width: u32, align: &str, content: &str| {
            format!(
                r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{}</w:tc>"#,
                Para {
                    style: Some("TableText"),
                    align: Some(align),
                    ..Para::default()
                }
                .xml(content)
            )
        };
        self.xml
            .push_str("<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>");
        for ((text, run), width) in header.iter().zip(&widths) {
            let c = cell(*width, "center", &run.xml(text));
            self.xml.push_str(&c);
        }
        self.xml.push_str("</w:tr>");
        for row in rows {
            self.xml.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
            for (i, width) in widths.iter().enumerate() {
                let c = match row.get(i) {
                    Some((text, run, right)) => cell(
                        *width,
                        if *right { "right" } else { "left" },
                        &run.xml(text),
                    ),
                    None => cell(*width, "left", ""),
                };
                self.xml.push_str(&c);
            }
            self.xml.push_str("</w:tr>");
        }
        self.xml.push_str("</w:tbl>");
    }

    /// "Nơi nhận:" at the bottom left, the signature block at the bottom right.
    fn closing(&mut self, document: &Document) {
        let half = TEXT_WIDTH / 2;
        let left_para = Para {
            indent: Some((0, 0)),
            align: Some("left"),
            ..Para::default()
        };
        let mut recipients = left_para.xml(
            &Run {
                bold: true,
                italic: true,
                ..Run::PLAIN
            }
            .sized(12.0)
            .xml("Nơi nhận:"),
        );
        for line in &document.recipients {
            recipients.push_str(&left_para.xml(&Run::PLAIN.sized(11.0).xml(line)));
        }
        let signature = &document.signature;
        let mut sign = String::new();
        if let Some(authority) = &signature.authority {
            sign.push_str(&Para::centred().xml(&Run::bold().xml(authority)));
        }
        sign.push_str(&Para::centred().xml(&Run::bold().xml(&signature.position)));
        for _ in 0..4 {
            sign.push_str(&Para::centred().xml(""));
        }
        sign.push_str(&Para::centred().xml(&Run::bold().xml(&signature.name)));
        let _ = write!(
            self.xml,
            r#"<w:p><w:pPr><w:keepNext/></w:pPr></w:p><w:tbl><w:tblPr><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/><w:tblBorders><w:top w:val="nil"/><w:left w:val="nil"/><w:bottom w:val="nil"/><w:right w:val="nil"/><w:insideH w:val="nil"/><w:insideV w:val="nil"/></w:tblBorders><w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar><w:tblLook w:val="0000"/></w:tblPr><w:tblGrid><w:gridCol w:w="{half}"/><w:gridCol w:w="{rest}"/></w:tblGrid><w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr><w:tcW w:w="{half}" w:type="dxa"/></w:tcPr>{recipients}</w:tc><w:tc><w:tcPr><w:tcW w:w="{rest}" w:type="dxa"/></w:tcPr>{sign}</w:tc></w:tr></w:tbl>"#,
            rest = TEXT_WIDTH - half,
        );
    }

    /// The query behind every figure, on a page of its own.
    fn appendix(&mut self, document: &Document) {
        let first = Para {
            page_break_before: true,
            ..Para::centred()
        };
        self.push(&first.xml(&Run::bold().xml("PHỤ LỤC")));
        self.push(&Para::centred().xml(&Run::bold().xml("NGUỒN SỐ LIỆU")));
        self.push(
            &Para {
                spacing: Some((0, 120)),
                ..Para::centred()
            }
            .xml(
                &Run {
                    italic: true,
                    ..Run::PLAIN
                }
                .xml(&appendix_note(&document.header)),
            ),
        );
        if let Some(note) = document.workbook_note() {
            self.push(
                &Para {
                    spacing: Some((0, 120)),
                    ..Para::centred()
                }
                .xml(
                    &Run {
                        italic: true,
                        ..Run::PLAIN
                    }
                    .xml(&note),
                ),
            );
        }
        let head = Run::bold().sized(12.0);
        let text = Run::PLAIN.sized(12.0);
        let code = Run {
            mono: true,
            ..Run::PLAIN
        }
        .sized(9.0);
        let header: Vec<(String, Run)> = SOURCES_COLUMNS
            .iter()
            .map(|c| ((*c).to_owned(), head))
            .collect();
        let rows: Vec<Vec<(String, Run, bool)>> = document
            .printed_figures()
            .map(|f| {
                vec![
                    (f.id.clone(), text, false),
                    (f.label.clone(), text, false),
                    (f.value.clone(), text, true),
                    (f.query.clone(), code, false),
                ]
            })
            .collect();
        self.grid(&header, &rows);
    }

    fn section_properties(&mut self) {
        let _ = write!(
            self.xml,
            r#"<w:sectPr><w:headerReference w:type="default" r:id="rIdHeader"/><w:headerReference w:type="first" r:id="rIdFirstHeader"/><w:pgSz w:w="{PAGE_WIDTH}" w:h="{PAGE_HEIGHT}"/><w:pgMar w:top="{MARGIN_TOP}" w:right="{MARGIN_RIGHT}" w:bottom="{MARGIN_BOTTOM}" w:left="{MARGIN_LEFT}" w:header="567" w:footer="567" w:gutter="0"/><w:cols w:space="720"/><w:titlePg/><w:docGrid w:linePitch="381"/></w:sectPr>"#
        );
    }

    fn finish(self) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"><w:body>{}</w:body></w:document>"#,
            self.xml
        )
    }
}

/// Times New Roman 14 pt throughout (Decree 30: 13–14 pt), justified body paragraphs with a
/// first-line indent, numbered headings in bold.
fn styles() -> String {
    let heading = |id: &str, name: &str, level: u8, italic: bool| {
        format!(
            r#"<w:style w:type="paragraph" w:styleId="{id}"><w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:next w:val="BodyText"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="120" w:after="0"/><w:ind w:firstLine="567"/><w:jc w:val="both"/><w:outlineLvl w:val="{level}"/></w:pPr><w:rPr><w:b/><w:bCs/>{}</w:rPr></w:style>"#,
            if italic { "<w:i/><w:iCs/>" } else { "" }
        )
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="{W_NS}"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:eastAsia="Times New Roman" w:hAnsi="Times New Roman" w:cs="Times New Roman"/><w:sz w:val="28"/><w:szCs w:val="28"/><w:lang w:val="vi-VN" w:eastAsia="en-US" w:bidi="ar-SA"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style><w:style w:type="paragraph" w:styleId="BodyText"><w:name w:val="Body Text"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:before="120" w:after="0" w:line="288" w:lineRule="auto"/><w:ind w:firstLine="567"/><w:jc w:val="both"/></w:pPr></w:style>{h1}{h2}{h3}<w:style w:type="paragraph" w:styleId="Caption"><w:name w:val="caption"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="120" w:after="60"/><w:jc w:val="center"/></w:pPr><w:rPr><w:b/><w:bCs/><w:i/><w:iCs/><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr></w:style><w:style w:type="paragraph" w:styleId="TableText"><w:name w:val="Table Text"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:before="20" w:after="20"/></w:pPr><w:rPr><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr></w:style><w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:uiPriority w:val="99"/><w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style><w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders><w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style></w:styles>"#,
        h1 = heading("Heading1", "heading 1", 0, false),
        h2 = heading("Heading2", "heading 2", 1, false),
        h3 = heading("Heading3", "heading 3", 2, true),
    )
}

/// The chart part: a bar or line chart with its categories and values cached, so that it is
/// drawn without the embedded workbook.
fn chart_xml(chart: &Chart, with_workbook: bool) -> String {
    let rows = chart.categories.len();
    let mut series = String::new();
    for (s, serie) in chart.series.iter().enumerate() {
        let colour = CHART_COLOURS[s % CHART_COLOURS.len()];
        let column = column_letter(s + 1);
        let _ = write!(
            series,
            r#"<c:ser><c:idx val="{s}"/><c:order val="{s}"/><c:tx><c:strRef><c:f>Sheet1!${column}$1</c:f><c:strCache><c:ptCount val="1"/><c:pt idx="0"><c:v>{name}</c:v></c:pt></c:strCache></c:strRef></c:tx>"#,
            name = escape(&serie.name)
        );
        match chart.kind {
            ChartKind::Bars => {
                let _ = write!(
                    series,
                    r#"<c:spPr><a:solidFill><a:srgbClr val="{colour}"/></a:solidFill></c:spPr><c:invertIfNegative val="0"/>"#
                );
            }
            ChartKind::Lines => {
                let _ = write!(
                    series,
                    r#"<c:spPr><a:ln w="28575" cap="rnd"><a:solidFill><a:srgbClr val="{colour}"/></a:solidFill><a:round/></a:ln></c:spPr><c:marker><c:symbol val="none"/></c:marker>"#
                );
            }
        }
        let _ = write!(
            series,
            r#"<c:cat><c:strRef><c:f>Sheet1!$A$2:$A${last}</c:f><c:strCache><c:ptCount val="{rows}"/>"#,
            last = rows + 1
        );
        for (i, category) in chart.categories.iter().enumerate() {
            let _ = write!(
                series,
                r#"<c:pt idx="{i}"><c:v>{}</c:v></c:pt>"#,
                escape(category)
            );
        }
        let _ = write!(
            series,
            r#"</c:strCache></c:strRef></c:cat><c:val><c:numRef><c:f>Sheet1!${column}$2:${column}${last}</c:f><c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="{rows}"/>"#,
            last = rows + 1
        );
        for (i, value) in serie.values.iter().enumerate().take(rows) {
            if value.is_finite() {
                let _ = write!(series, r#"<c:pt idx="{i}"><c:v>{value}</c:v></c:pt>"#);
            }
        }
        series.push_str("</c:numCache></c:numRef></c:val>");
        if chart.kind == ChartKind::Lines {
            series.push_str(r#"<c:smooth val="0"/>"#);
        }
        series.push_str("</c:ser>");
    }
    let plot = match chart.kind {
        ChartKind::Bars => format!(
            r#"<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/>{series}<c:gapWidth val="60"/><c:axId val="1001"/><c:axId val="1002"/></c:barChart>"#
        ),
        ChartKind::Lines => format!(
            r#"<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>{series}<c:marker val="1"/><c:axId val="1001"/><c:axId val="1002"/></c:lineChart>"#
        ),
    };
    let external = if with_workbook {
        r#"<c:externalData r:id="rId1"><c:autoUpdate val="0"/></c:externalData>"#
    } else {
        ""
    };
    format!(
        r##"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{R_NS}"><c:date1904 val="0"/><c:lang val="vi-VN"/><c:roundedCorners val="0"/><c:chart><c:autoTitleDeleted val="1"/><c:plotArea><c:layout/>{plot}<c:catAx><c:axId val="1001"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="1002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx><c:valAx><c:axId val="1002"/><c:scaling><c:orientation val="minMax"/></c:scaling><c:delete val="0"/><c:axPos val="l"/><c:majorGridlines><c:spPr><a:ln w="6350"><a:solidFill><a:srgbClr val="D9D9D9"/></a:solidFill></a:ln></c:spPr></c:majorGridlines><c:title><c:tx><c:rich><a:bodyPr rot="-5400000" vert="horz"/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1000" b="0"/></a:pPr><a:r><a:rPr lang="vi-VN" sz="1000" b="0"/><a:t>{unit}</a:t></a:r></a:p></c:rich></c:tx><c:overlay val="0"/></c:title><c:numFmt formatCode="#,##0" sourceLinked="0"/><c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="1001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx></c:plotArea><c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend><c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart><c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="1000"><a:latin typeface="Times New Roman"/><a:cs typeface="Times New Roman"/></a:defRPr></a:pPr><a:endParaRPr lang="vi-VN"/></a:p></c:txPr>{external}</c:chartSpace>"##,
        unit = escape(&chart.unit)
    )
}

/// The chart's data as the workbook Word opens for "Edit Data" (categories in A, a series per
/// column from B). `None` if it cannot be written: the chart is still drawn from its cache.
fn chart_workbook(chart: &Chart, date: chrono::NaiveDate) -> Option<Vec<u8>> {
    let mut workbook = crate::xlsx::workbook_of(date);
    let sheet = workbook.add_worksheet();
    sheet.set_name("Sheet1").ok()?;
    for (s, serie) in chart.series.iter().enumerate() {
        let column = u16::try_from(s + 1).ok()?;
        sheet.write_string(0, column, &serie.name).ok()?;
        for (i, value) in serie.values.iter().enumerate().take(chart.categories.len()) {
            if value.is_finite() {
                sheet.write_number(i as u32 + 1, column, *value).ok()?;
            }
        }
    }
    for (i, category) in chart.categories.iter().enumerate() {
        sheet.write_string(i as u32 + 1, 0, category).ok()?;
    }
    workbook.save_to_buffer().ok()
}

/// `1` → `"B"`, `26` → `"AA"` (0 is column A).
fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{assert_well_formed, every_cell, sample};
    use std::io::Read;

    fn parts(bytes: &[u8]) -> zip::ZipArchive<Cursor<&[u8]>> {
        zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip")
    }

    fn read(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> String {
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name}"))
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    /// The text of every `<w:t>` of a part, unescaped, runs of a paragraph joined.
    fn paragraphs(xml: &str) -> Vec<String> {
        xml.split("<w:p>")
            .skip(1)
            .map(|p| {
                p.split("<w:t xml:space=\"preserve\">")
                    .skip(1)
                    .filter_map(|t| t.split("</w:t>").next())
                    .collect::<String>()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&")
            })
            .collect()
    }

    #[test]
    fn columns_are_lettered_like_a_spreadsheet() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(1), "B");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn q17_6_the_docx_follows_decree_30_and_holds_every_figure() {
        let document = sample();
        let bytes = render(&document);
        let mut archive = parts(&bytes);
        for name in [
            "[Content_Types].xml",
            "_rels/.rels",
            "word/_rels/document.xml.rels",
            "word/styles.xml",
            "word/settings.xml",
            "word/header1.xml",
            "docProps/core.xml",
            "docProps/app.xml",
        ] {
            assert_well_formed(&read(&mut archive, name), &[]);
        }
        let xml = read(&mut archive, "word/document.xml");
        assert_well_formed(&xml, &[]);

        // A4, margins 20/20/30/15 mm.
        assert!(xml.contains(r#"<w:pgSz w:w="11906" w:h="16838"/>"#));
        assert!(
            xml.contains(r#"<w:pgMar w:top="1134" w:right="850" w:bottom="1134" w:left="1701""#)
        );
        let styles = read(&mut archive, "word/styles.xml");
        assert!(styles.contains(r#"w:ascii="Times New Roman""#));
        assert!(styles.contains(r#"<w:sz w:val="28"/>"#));

        let text = paragraphs(&xml);
        let position = |wanted: &str| {
            text.iter()
                .position(|p| p == wanted)
                .unwrap_or_else(|| panic!("{wanted:?} in {text:?}"))
        };
        // The national header: issuing body left, national name and motto right, in that order.
        let issuer = position("SỞ THÔNG TIN VÀ TRUYỀN THÔNG");
        assert!(position("UBND TỈNH HÀ NAM") < issuer);
        let national = position("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
        assert_eq!(position("Độc lập - Tự do - Hạnh phúc"), national + 1);
        assert!(position("Số:        /BC-STTTT") > national);
        assert!(position("Hà Nam, ngày 05 tháng 12 năm 2026") > national);
        assert!(position("BÁO CÁO") < position(&document.subject));
        assert!(
            position("I. KẾT QUẢ THỰC HIỆN QUY CHẾ")
                < position("1. Kết nối các hệ thống thông tin")
        );
        assert!(position("III. ĐÁNH GIÁ VÀ KIẾN NGHỊ") < position("2. Kiến nghị, đề xuất"));
        assert!(position("a) Lý do từ chối") > position("4. Yêu cầu chia sẻ dữ liệu"));
        assert!(position("Nơi nhận:") > position("2. Kiến nghị, đề xuất"));
        assert!(position("KT. GIÁM ĐỐC") < position("Nguyễn Văn Hùng"));
        assert!(position("PHỤ LỤC") > position("Nguyễn Văn Hùng"));
        // The motto is bold, the date line italic.
        assert!(xml.contains("<w:b/><w:bCs/><w:sz w:val=\"26\"/><w:szCs w:val=\"26\"/></w:rPr><w:t xml:space=\"preserve\">Độc lập"));
        assert!(
            xml.contains("<w:rPr><w:i/><w:iCs/></w:rPr><w:t xml:space=\"preserve\">Hà Nam, ngày")
        );

        for value in every_cell(&document) {
            assert!(
                text.contains(&value),
                "{value:?} is not a paragraph of its own"
            );
        }
        for figure in &document.figures {
            let query = figure.query.replace('\n', "");
            assert!(text.contains(&query), "{query}");
        }
        // Header rows repeat on every page; numbers are right-aligned.
        assert!(xml.matches("<w:tblHeader/>").count() >= 6);
        assert!(xml.contains(r#"<w:jc w:val="right"/></w:pPr><w:r><w:rPr><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr><w:t xml:space="preserve">1.204.387</w:t>"#));

        // A chart part per chart, referenced from the document and its content types.
        let types = read(&mut archive, "[Content_Types].xml");
        let rels = read(&mut archive, "word/_rels/document.xml.rels");
        for n in 1..=2 {
            let chart = read(&mut archive, &format!("word/charts/chart{n}.xml"));
            assert_well_formed(&chart, &[]);
            assert!(xml.contains(&format!(r#"r:id="rIdChart{n}""#)));
            assert!(rels.contains(&format!(r#"Target="charts/chart{n}.xml""#)));
            assert!(types.contains(&format!(r#"PartName="/word/charts/chart{n}.xml""#)));
            assert!(archive
                .by_name(&format!(
                    "word/embeddings/Microsoft_Excel_Worksheet{n}.xlsx"
                ))
                .is_ok());
        }
        let bars = read(&mut archive, "word/charts/chart1.xml");
        assert!(
            bars.contains("<c:barChart>")
                && bars.contains("<c:v>610000</c:v>")
                && bars.contains("<c:v>Năm 2025</c:v>")
        );
        let lines = read(&mut archive, "word/charts/chart2.xml");
        assert!(lines.contains("<c:lineChart>") && lines.contains("<c:v>41.5</c:v>"));

        let core = read(&mut archive, "docProps/core.xml");
        assert!(core.contains("<dc:title>BÁO CÁO Tình hình thực hiện Quy chế"));
        assert!(core.contains(
            r#"<dcterms:created xsi:type="dcterms:W3CDTF">2026-12-05T00:00:00Z</dcterms:created>"#
        ));
        // One document, one file.
        assert!(render(&document) == bytes);
    }
}
