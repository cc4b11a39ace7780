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
pub fn render(format: Format, document: &Document) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Html => Ok(lgsp_report::html::render(document).into_bytes()),
        Format::Docx => Ok(lgsp_report::docx::render(document)),
        Format::Pdf => Ok(lgsp_report::pdf::render(document)),
        Format::Xlsx => lgsp_report::xlsx::render(document).map_err(|error| RenderError {
            format: "xlsx",
            reason: error.to_string(),
        }),
    }
}
