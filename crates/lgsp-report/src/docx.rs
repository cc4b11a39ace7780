//! DOCX.
use crate::Document;
/// The document as a .docx file.
pub fn render(_document: &Document) -> Vec<u8> {
    Vec::new()
}
