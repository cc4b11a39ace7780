//! PDF.
use crate::Document;
/// The document as a PDF file.
pub fn render(_document: &Document) -> Vec<u8> {
    Vec::new()
}
