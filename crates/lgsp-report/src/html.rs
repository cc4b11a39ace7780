//! The document as one standalone HTML page: inline CSS, charts as inline SVG each followed by
//! its numbers, the appendix of sources; laid out for A4 when printed.

use std::fmt::Write;

use crate::svg::{self, escape};
use crate::{
    place_and_date, section_number, Block, Document, Section, Table, SOURCES_COLUMNS, SOURCES_TITLE,
};

const STYLE: &str = r#"
@page { size: A4; margin: 20mm 15mm 20mm 30mm; }
body { font-family: "Times New Roman", "Liberation Serif", Tinos, serif; font-size: 14pt; line-height: 1.35; color: #000; background: #fff; max-width: 165mm; margin: 2em auto; padding: 0 1em; }
@media print { body { margin: 0; padding: 0; max-width: none; } }
table.header, table.closing { width: 100%; border-collapse: collapse; }
table.header { width: 104%; margin-left: -2%; }
table.header td, table.closing td { vertical-align: top; text-align: center; padding: 0; border: 0; }
table.header td.left { width: 45%; font-size: 12pt; }
table.header td.right { font-size: 12pt; }
table.header td.right div:nth-child(2) { font-size: 13pt; }
.number { font-size: 13pt; white-space: pre; margin-top: 4px; }
.rule { width: 35%; margin: 4px auto 6px; border-top: 1px solid #000; }
.rule.wide { width: 68%; }
.date { font-style: italic; font-size: 14pt; margin-top: 4px; }
h1 { font-size: 14pt; text-align: center; margin: 1.2em 0 0; }
p.subject { font-weight: bold; text-align: center; margin: 0; }
p.body { text-align: justify; text-indent: 1.27cm; margin: 6pt 0 0; }
h2, h3, h4 { font-size: 14pt; margin: 8pt 0 0; text-indent: 1.27cm; }
h2, h3 { font-weight: bold; }
h4 { font-weight: bold; font-style: italic; }
figure { margin: 10pt 0; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; }
figcaption, caption { font-weight: bold; font-style: italic; font-size: 13pt; text-align: center; padding: 4pt 0; }
table.data { width: 100%; border-collapse: collapse; margin: 6pt 0 10pt; font-size: 13pt; }
table.data th, table.data td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }
table.data th { font-weight: bold; text-align: center; }
table.data thead { display: table-header-group; }
table.data tr { page-break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; }
td.recipients { text-align: left !important; width: 50%; font-size: 11pt; }
td.recipients p { margin: 0; }
td.recipients .title { font-weight: bold; font-style: italic; font-size: 12pt; }
td.signature { font-weight: bold; }
td.signature .space { height: 5em; }
section.appendix { page-break-before: always; }
section.appendix h2 { text-align: center; text-indent: 0; }
table.sources td pre { font-family: "Courier New", "Liberation Mono", monospace; font-size: 9pt; white-space: pre-wrap; margin: 0; }
"#;

/// A complete page for the browser or the printer.
pub fn render(document: &Document) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let header = &document.header;
    let title = format!("{} {}", document.title, document.subject);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<table class="header"><tr>
<td class="left"><div>{parent}</div><div><strong>{issuer}</strong></div><div class="rule"></div><div class="number">{number}</div></td>
<td class="right"><div><strong>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</strong></div><div><strong>Độc lập - Tự do - Hạnh phúc</strong></div><div class="rule wide"></div><div class="date">{date}</div></td>
</tr></table>
<h1>{doc_title}</h1>
<p class="subject">{subject}</p>
<div class="rule"></div>
"#,
        title = escape(&title),
        parent = escape(&header.parent_body),
        issuer = escape(&header.issuing_body),
        number = escape(&header.number),
        date = escape(&place_and_date(header)),
        doc_title = escape(&document.title),
        subject = escape(&document.subject),
    );
    for paragraph in &document.preamble {
        let _ = writeln!(out, r#"<p class="body">{}</p>"#, escape(paragraph));
    }
    for (i, section) in document.sections.iter().enumerate() {
        write_section(&mut out, section, 0, i);
    }

    let signature = &document.signature;
    out.push_str(
        r#"<table class="closing"><tr><td class="recipients"><p class="title">Nơi nhận:</p>"#,
    );
    for recipient in &document.recipients {
        let _ = write!(out, "<p>{}</p>", escape(recipient));
    }
    out.push_str(r#"</td><td class="signature">"#);
    if let Some(authority) = &signature.authority {
        let _ = write!(out, "<div>{}</div>", escape(authority));
    }
    let _ = write!(
        out,
        r#"<div>{}</div><div class="space"></div><div>{}</div></td></tr></table>"#,
        escape(&signature.position),
        escape(&signature.name)
    );

    let _ = write!(
        out,
        r#"
<section class="appendix"><h2>{}</h2>{}
<table class="data sources"><thead><tr>"#,
        escape(SOURCES_TITLE),
        document
            .workbook_note()
            .map(|note| format!(r#"<p class="note">{}</p>"#, escape(&note)))
            .unwrap_or_default()
    );
    for column in SOURCES_COLUMNS {
        let _ = write!(out, "<th>{column}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for figure in document.printed_figures() {
        let _ = writeln!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td><td><pre>{}</pre></td></tr>"#,
            escape(&figure.id),
            escape(&figure.label),
            escape(&figure.value),
            escape(&figure.query)
        );
    }
    out.push_str("</tbody></table></section>\n</body>\n</html>\n");
    out
}

fn write_section(out: &mut String, section: &Section, depth: usize, index: usize) {
    let level = (depth + 2).min(4);
    let _ = writeln!(
        out,
        "<h{level}>{} {}</h{level}>",
        section_number(depth, index),
        escape(&section.heading)
    );
    for block in &section.blocks {
        match block {
            Block::Paragraph(text) => {
                let _ = writeln!(out, r#"<p class="body">{}</p>"#, escape(text));
            }
            Block::Table(table) => write_table(out, table),
            Block::Chart(chart) => {
                let _ = writeln!(
                    out,
                    "<figure>{}<figcaption>{}</figcaption></figure>",
                    svg::render(chart),
                    escape(&chart.caption)
                );
                write_table(out, &chart.numbers());
            }
        }
    }
    for (i, sub) in section.subsections.iter().enumerate() {
        write_section(out, sub, depth + 1, i);
    }
}

fn write_table(out: &mut String, table: &Table) {
    let _ = write!(
        out,
        r#"<table class="data"><caption>{}</caption><thead><tr>"#,
        escape(&table.caption)
    );
    for column in &table.columns {
        let _ = write!(out, "<th>{}</th>", escape(column));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if cell.is_number() {
                r#" class="num""#
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&cell.display()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{assert_well_formed, every_cell, sample};

    #[test]
    fn q17_6_the_html_report_is_a_standalone_page_with_every_figure() {
        let document = sample();
        let html = render(&document);
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"vi\">"));
        assert_well_formed(&html, &["meta"]);
        assert!(html.contains("@page { size: A4;"));
        assert!(html.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        assert!(html.contains("Độc lập - Tự do - Hạnh phúc"));
        assert!(html.contains("Hà Nam, ngày 05 tháng 12 năm 2026"));
        assert!(html.contains("<h2>I. KẾT QUẢ THỰC HIỆN QUY CHẾ</h2>"));
        assert!(html.contains("<h3>4. Yêu cầu chia sẻ dữ liệu</h3>"));
        assert!(html.contains("<h4>a) Lý do từ chối</h4>"));
        assert_eq!(html.matches("<svg").count(), 2);
        assert!(html.contains("Phụ lục: Nguồn số liệu"));
        for value in every_cell(&document) {
            assert!(html.contains(&escape(&value)), "{value} missing");
        }
        for figure in &document.figures {
            assert!(html.contains(&format!("<pre>{}</pre>", escape(&figure.query))));
        }
        // Figures left to the workbook are not printed; the page says where they are.
        let mut detailed = document.clone();
        detailed.figures[0].printed = false;
        detailed.figures[0].query = "SELECT 'chỉ trong bảng tính'".into();
        let html = render(&detailed);
        assert!(!html.contains("chỉ trong bảng tính"));
        assert!(html.contains("Câu lệnh truy vấn của 1 số liệu chi tiết khác"));
        // No external asset: nothing is fetched when the page is opened.
        assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
    }
}
