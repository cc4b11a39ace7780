//! The fonts the PDF embeds and both the PDF and the DOCX measure text with: Liberation Serif
//! 2.x (metric-compatible with Times New Roman, which Decree 30 asks for, and free: SIL OFL 1.1,
//! see `fonts/LICENSE-OFL.txt`) and Liberation Mono for the queries.

use std::sync::OnceLock;

use ttf_parser::{Face, GlyphId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum FontKind {
    Regular,
    Bold,
    Italic,
    BoldItalic,
    Mono,
}

impl FontKind {
    #[cfg(test)]
    pub(crate) const ALL: [FontKind; 5] = [
        FontKind::Regular,
        FontKind::Bold,
        FontKind::Italic,
        FontKind::BoldItalic,
        FontKind::Mono,
    ];

    pub(crate) fn styled(bold: bool, italic: bool) -> FontKind {
        match (bold, italic) {
            (false, false) => FontKind::Regular,
            (true, false) => FontKind::Bold,
            (false, true) => FontKind::Italic,
            (true, true) => FontKind::BoldItalic,
        }
    }

    pub(crate) fn data(self) -> &'static [u8] {
        match self {
            FontKind::Regular => include_bytes!("../fonts/LiberationSerif-Regular.ttf"),
            FontKind::Bold => include_bytes!("../fonts/LiberationSerif-Bold.ttf"),
            FontKind::Italic => include_bytes!("../fonts/LiberationSerif-Italic.ttf"),
            FontKind::BoldItalic => include_bytes!("../fonts/LiberationSerif-BoldItalic.ttf"),
            FontKind::Mono => include_bytes!("../fonts/LiberationMono-Regular.ttf"),
        }
    }

    /// The PostScript name, as the PDF names the font.
    pub(crate) fn postscript_name(self) -> &'static str {
        match self {
            FontKind::Regular => "LiberationSerif",
            FontKind::Bold => "LiberationSerif-Bold",
            FontKind::Italic => "LiberationSerif-Italic",
            FontKind::BoldItalic => "LiberationSerif-BoldItalic",
            FontKind::Mono => "LiberationMono",
        }
    }

    pub(crate) fn face(self) -> &'static Face<'static> {
        static FACES: [OnceLock<Face<'static>>; 5] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        FACES[self as usize]
            .get_or_init(|| Face::parse(self.data(), 0).expect("the bundled fonts parse"))
    }

    /// The glyph of a character (`.notdef` when the font has none).
    pub(crate) fn glyph(self, c: char) -> GlyphId {
        self.face().glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// A glyph's advance in thousandths of the font size.
    pub(crate) fn advance(self, glyph: GlyphId) -> f64 {
        let face = self.face();
        f64::from(face.glyph_hor_advance(glyph).unwrap_or(0)) * 1000.0
            / f64::from(face.units_per_em())
    }

    /// The width of `text` set at `size` points, in points.
    pub(crate) fn width(self, text: &str, size: f64) -> f64 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f64>()
            * size
            / 1000.0
    }
}

/// A cell's text as set: the text, its font and its size in points.
pub(crate) type Measured = (String, FontKind, f64);

/// Column widths for a table of `total` width: each column gets at least its longest word and
/// the rest is shared in proportion to how much more its longest cell wants (the automatic
/// table layout of browsers, simplified). A header cell asks for half its length: a long header
/// wraps on two lines rather than widen a column of short numbers. `padding` is added to each
/// measure.
pub(crate) fn column_widths(
    header: &[Measured],
    rows: &[Vec<Measured>],
    total: f64,
    padding: f64,
) -> Vec<f64> {
    let columns = header.len();
    let mut min = vec![padding; columns];
    let mut max = vec![padding; columns];
    for (is_header, row) in
        std::iter::once((true, header)).chain(rows.iter().map(|r| (false, &r[..])))
    {
        for (c, (text, font, size)) in row.iter().enumerate().take(columns) {
            for word in text.split_whitespace() {
                min[c] = min[c].max(font.width(word, *size) + padding);
            }
            let share = if is_header { 0.5 } else { 1.0 };
            for line in text.lines() {
                max[c] = max[c].max(font.width(line, *size) * share + padding);
            }
        }
    }
    for (lo, hi) in min.iter().zip(max.iter_mut()) {
        *hi = hi.max(*lo);
    }
    let min_sum: f64 = min.iter().sum();
    let max_sum: f64 = max.iter().sum();
    if max_sum <= total {
        return max.iter().map(|w| w * total / max_sum).collect();
    }
    if min_sum >= total {
        return min.iter().map(|w| w * total / min_sum).collect();
    }
    let want: f64 = max_sum - min_sum;
    min.iter()
        .zip(&max)
        .map(|(lo, hi)| lo + (hi - lo) * (total - min_sum) / want)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vietnamese_letter_has_a_glyph_in_every_font() {
        let letters = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ";
        for font in FontKind::ALL {
            for c in letters.chars().chain(letters.to_uppercase().chars()) {
                assert_ne!(font.glyph(c), GlyphId(0), "{font:?} lacks {c}");
            }
        }
    }

    #[test]
    fn widths_follow_times_new_roman_metrics() {
        // Times New Roman and Liberation Serif: "M" is 889/1000 em, a space 250/1000.
        assert!((FontKind::Regular.width("M", 10.0) - 8.89).abs() < 0.01);
        assert!((FontKind::Regular.width(" ", 12.0) - 3.0).abs() < 0.01);
        // Liberation Mono: every glyph 600/1000 em.
        assert!((FontKind::Mono.width("SELECT ệ", 10.0) - 48.0).abs() < 0.01);
    }

    #[test]
    fn columns_fit_the_width_and_keep_their_longest_word() {
        let cell = |t: &str| (t.to_owned(), FontKind::Regular, 12.0);
        let header = [cell("STT"), cell("Cơ quan"), cell("Lượt trao đổi năm 2026")];
        let rows = vec![
            vec![
                cell("1"),
                cell("Sở Nông nghiệp và Phát triển nông thôn"),
                cell("1.234.567"),
            ],
            vec![cell("2"), cell("Sở Y tế"), cell("12")],
        ];
        let widths = column_widths(&header, &rows, 300.0, 8.0);
        assert!((widths.iter().sum::<f64>() - 300.0).abs() < 1e-6);
        assert!(widths[0] >= FontKind::Regular.width("STT", 12.0) + 8.0);
        // The long header wraps: the number column is not as wide as it.
        assert!(widths[2] < FontKind::Regular.width("Lượt trao đổi năm 2026", 12.0));
        assert!(widths[1] > widths[2] && widths[2] > widths[0]);
    }
}
