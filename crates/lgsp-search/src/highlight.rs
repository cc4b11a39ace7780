//! Highlighting: the matched words of a text wrapped in `<mark>`, everything else HTML-escaped.
//! Words are compared folded, so "dat" marks "đất" in the original text.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

use crate::fold::{self, fold};

/// The folded words of a query.
#[derive(Debug, Default)]
pub struct Marks(HashSet<String>);

impl Marks {
    pub fn new(query: &str) -> Self {
        let normalised = fold::exact(query);
        Self(
            fold::words(&normalised)
                .into_iter()
                .map(|(s, e)| fold(&normalised[s..e]))
                .collect(),
        )
    }

    /// The whole text, escaped, with matches marked.
    pub fn highlight(&self, text: &str) -> String {
        let text: String = text.nfc().collect();
        self.render(&text, 0, text.len())
    }

    /// About `words` words of the text around its first match (or its start), escaped and
    /// marked, with an ellipsis where it was cut.
    pub fn snippet(&self, text: &str, words: usize) -> String {
        let text: String = text.nfc().collect();
        let spans = fold::words(&text);
        if spans.len() <= words {
            return self.render(&text, 0, text.len());
        }
        let first = spans
            .iter()
            .position(|(s, e)| self.0.contains(&fold(&text[*s..*e])))
            .unwrap_or(0);
        let from = first.saturating_sub(words / 4);
        let to = (from + words).min(spans.len());
        let start = if from == 0 { 0 } else { spans[from].0 };
        let end = if to == spans.len() {
            text.len()
        } else {
            spans[to - 1].1
        };
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        out.push_str(&self.render(&text, start, end));
        if end < text.len() {
            out.push('…');
        }
        out
    }

    fn render(&self, text: &str, start: usize, end: usize) -> String {
        let mut out = String::with_capacity(end - start + 16);
        let mut cursor = start;
        for (s, e) in fold::words(&text[start..end]) {
            let (s, e) = (s + start, e + start);
            if self.0.contains(&fold(&text[s..e])) {
                escape_into(&mut out, &text[cursor..s]);
                out.push_str("<mark>");
                escape_into(&mut out, &text[s..e]);
                out.push_str("</mark>");
                cursor = e;
            }
        }
        escape_into(&mut out, &text[cursor..end]);
        out
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q15_2_c_matches_are_marked_whatever_the_diacritics() {
        let marks = Marks::new("dat dai");
        assert_eq!(
            marks.highlight("Cơ sở dữ liệu Đất đai"),
            "Cơ sở dữ liệu <mark>Đất</mark> <mark>đai</mark>"
        );
    }

    #[test]
    fn everything_else_is_escaped() {
        let marks = Marks::new("script");
        assert_eq!(
            marks.highlight("<script>alert('x')</script> & \"y\""),
            "&lt;<mark>script</mark>&gt;alert(&#39;x&#39;)&lt;/<mark>script</mark>&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn snippets_cut_around_the_first_match() {
        let text = (1..=100)
            .map(|i| format!("từ{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let snippet = Marks::new("tu60").snippet(&text, 10);
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        assert!(snippet.contains("<mark>từ60</mark>"), "{snippet}");
    }
}
