//! The report's formats and their files.

use lgsp_report::Document;

/// A format the report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Docx,
    Pdf,
    Xlsx,
    Html,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Docx, Format::Pdf, Format::Xlsx, Format::Html];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.extension() == name)
    }

    /// The file name extension, also the format's name in the CLI and the API.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Pdf => "pdf",
            Format::Xlsx => "xlsx",
            Format::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Pdf => "application/pdf",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Html => "text/html; charset=utf-8",
        }
    }

    /// What a person calls it, on the console's buttons.
    pub fn label(self) -> &'static str {
        match self {
            Format::Docx => "Word (DOCX)",
            Format::Pdf => "PDF",
            Format::Xlsx => "Excel (XLSX)",
            Format::Html => "HTML",
        }
    }

    /// The name the file is saved under: `bao-cao-nam-2026.docx`.
    pub fn file_name(self, year: i32) -> String {
        format!("bao-cao-nam-{year}.{}", self.extension())
    }
}

/// The formats' names, for messages: "docx, pdf, xlsx, html".
pub fn format_names() -> String {
    Format::ALL.map(Format::extension).join(", ")
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the report could not be written as {format}: {reason}")]
pub struct RenderError {
    pub format: &'static str,
    pub reason: String,
}

/// The document as a file of `format`.
// Until the renderers of `lgsp_report` (html, docx, pdf, xlsx) land: a plain HTML preview, and
// the other formats refused.
pub fn render(format: Format, document: &Document) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Html => Ok(preview(document).into_bytes()),
        other => Err(RenderError {
            format: other.extension(),
            reason: "not available yet".into(),
        }),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn preview(document: &Document) -> String {
    use lgsp_report::Block;
    fn section(out: &mut String, s: &lgsp_report::Section, depth: usize) {
        out.push_str(&format!("<h{0}>{1}</h{0}>", depth + 2, escape(&s.heading)));
        for block in &s.blocks {
            match block {
                Block::Paragraph(p) => out.push_str(&format!("<p>{}</p>", escape(p))),
                Block::Table(t) => {
                    out.push_str(&format!(
                        "<table><caption>{}</caption><tr>",
                        escape(&t.caption)
                    ));
                    for c in &t.columns {
                        out.push_str(&format!("<th>{}</th>", escape(c)));
                    }
                    out.push_str("</tr>");
                    for row in &t.rows {
                        out.push_str("<tr>");
                        for cell in row {
                            out.push_str(&format!("<td>{}</td>", escape(&cell.display())));
                        }
                        out.push_str("</tr>");
                    }
                    out.push_str("</table>");
                }
                Block::Chart(c) => {
                    out.push_str(&format!("<figure>{}</figure>", escape(&c.caption)))
                }
            }
        }
        for sub in &s.subsections {
            section(out, sub, depth + 1);
        }
    }
    let mut out = format!(
        "<!doctype html><html lang=\"vi\"><meta charset=\"utf-8\"><title>{}</title><body><p>{}<br>{}</p><p>{}</p><h1>{}</h1><p>{}</p>",
        escape(&document.subject),
        escape(&document.header.parent_body),
        escape(&document.header.issuing_body),
        escape(&document.header.number),
        escape(&document.title),
        escape(&document.subject)
    );
    for p in &document.preamble {
        out.push_str(&format!("<p>{}</p>", escape(p)));
    }
    for s in &document.sections {
        section(&mut out, s, 0);
    }
    out.push_str(&format!("<p>{}</p>", escape(&document.signature.position)));
    for r in &document.recipients {
        out.push_str(&format!("<p>{}</p>", escape(r)));
    }
    out.push_str("<h2>Phụ lục</h2><table>");
    for f in &document.figures {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&f.id),
            escape(&f.label),
            escape(&f.value),
            escape(&f.query)
        ));
    }
    out.push_str("</table></body></html>");
    out
}
