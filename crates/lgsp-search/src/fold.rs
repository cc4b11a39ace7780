//! Vietnamese-aware text folding: what makes "dat dai", "đất đai" and "ĐẤT ĐAI" the same words.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Folds text for matching: canonical decomposition, combining marks dropped, `đ`/`Đ` → `d`,
/// lower case. "Sở Tư pháp" → "so tu phap".
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// Normalises text for exact matching: NFC, lower case (diacritics kept).
pub fn exact(text: &str) -> String {
    text.nfc().flat_map(char::to_lowercase).collect()
}

/// The words of a text, as byte ranges of the (NFC) text: runs of alphanumeric characters.
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q15_2_c_folding_ignores_case_diacritics_and_normal_form() {
        assert_eq!(fold("Sở Tư pháp"), "so tu phap");
        assert_eq!(fold("ĐẤT ĐAI"), "dat dai");
        assert_eq!(fold("đất đai"), "dat dai");
        // NFD input: "đa" + combining grave + "t".
        assert_eq!(fold("đa\u{0300}t"), "dat");
        assert_eq!(exact("Đất\u{0020}ĐAI"), "đất đai");
        assert_eq!(exact("da\u{0300}"), "dà");
    }

    #[test]
    fn words_are_alphanumeric_runs() {
        let text = "Giá đất, năm 2024!";
        let found: Vec<&str> = words(text).into_iter().map(|(s, e)| &text[s..e]).collect();
        assert_eq!(found, ["Giá", "đất", "năm", "2024"]);
    }
}
