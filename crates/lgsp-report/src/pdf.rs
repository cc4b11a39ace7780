//! The document as a PDF laid out like the DOCX (Decree 30/2020: A4, margins 20/20/30/15 mm,
//! a Times New Roman–metric serif at 13–14 pt, the national header, numbered sections, the
//! signature block and recipients, page numbers at the top from page 2), ready to print.
//!
//! Text is set in Liberation Serif, embedded as subsets (Type 0 / CIDFontType2, Identity-H) with
//! a ToUnicode map so that the text can be searched and copied. Lines are broken by measured
//! widths; tables split across pages with their header row repeated; charts are vector paths.
//! No shaping: Vietnamese is written with precomposed letters (NFC), which the fonts carry.

use std::collections::BTreeMap;
use std::io::Write as _;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use subsetter::GlyphRemapper;

use crate::fonts::{column_widths, FontKind, Measured};
use crate::svg::nice_scale;
use crate::{
    appendix_note, decimal_comma, place_and_date, section_number, Block, Chart, ChartKind,
    Document, Section, Table, CHART_COLOURS, HEADER_COLUMNS_PT, SOURCES_COLUMNS,
};

const MM: f64 = 72.0 / 25.4;
const PAGE_WIDTH: f64 = 210.0 * MM;
const PAGE_HEIGHT: f64 = 297.0 * MM;
const MARGIN_TOP: f64 = 20.0 * MM;
const MARGIN_BOTTOM: f64 = 20.0 * MM;
const MARGIN_LEFT: f64 = 30.0 * MM;
const MARGIN_RIGHT: f64 = 15.0 * MM;
const TEXT_WIDTH: f64 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
const TOP: f64 = PAGE_HEIGHT - MARGIN_TOP;
/// The body's first-line indent (1 cm, as in the DOCX) and size.
const INDENT: f64 = 10.0 * MM;
const BODY: f64 = 14.0;
/// Cell padding, horizontal and vertical.
const PAD_X: f64 = 3.0;
const PAD_Y: f64 = 1.5;
const CHART_HEIGHT: f64 = 200.0;

/// The .pdf file.
pub fn render(document: &Document) -> Vec<u8> {
    let mut writer = Writer::new();
    writer.header(document);
    for (i, section) in document.sections.iter().enumerate() {
        writer.section(section, 0, i);
    }
    writer.closing(document);
    writer.appendix(document);
    writer.page_numbers();
    writer.finish(document)
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Centre,
    Right,
    Justify,
}

/// How a paragraph is set.
#[derive(Clone, Copy)]
struct Style {
    font: FontKind,
    size: f64,
    align: Align,
    first_indent: f64,
    /// Baseline to baseline.
    leading: f64,
    space_before: f64,
}

impl Style {
    fn new(font: FontKind, size: f64, align: Align) -> Style {
        Style {
            font,
            size,
            align,
            first_indent: 0.0,
            leading: size * 1.2,
            space_before: 0.0,
        }
    }
    fn body() -> Style {
        Style {
            first_indent: INDENT,
            leading: BODY * 1.35,
            space_before: 6.0,
            ..Style::new(FontKind::Regular, BODY, Align::Justify)
        }
    }
    fn caption() -> Style {
        Style {
            space_before: 6.0,
            ..Style::new(FontKind::BoldItalic, 13.0, Align::Centre)
        }
    }
}

/// One cell's text and how it is set.
struct CellText {
    text: String,
    font: FontKind,
    size: f64,
    align: Align,
}

/// The glyphs used of one font, for its subset and its ToUnicode map.
struct UsedFont {
    remapper: GlyphRemapper,
    unicode: BTreeMap<u16, char>,
}

struct Writer {
    pages: Vec<Content>,
    /// The top of the free space on the current page, in PDF coordinates (from the bottom).
    y: f64,
    fonts: BTreeMap<FontKind, UsedFont>,
}

impl Writer {
    fn new() -> Self {
        Writer {
            pages: vec![Content::new()],
            y: TOP,
            fonts: BTreeMap::new(),
        }
    }

    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("there is always a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = TOP;
    }

    /// A new page unless `height` fits above the bottom margin.
    fn keep(&mut self, height: f64) {
        if self.y - height < MARGIN_BOTTOM && self.y < TOP {
            self.new_page();
        }
    }

    /// Glyph ids of the subset for `text` (two bytes each, as Identity-H reads them).
    fn glyphs(&mut self, font: FontKind, text: &str) -> Vec<u8> {
        let used = self.fonts.entry(font).or_insert_with(|| UsedFont {
            remapper: GlyphRemapper::new(),
            unicode: BTreeMap::new(),
        });
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = used.remapper.remap(font.glyph(c).0);
            used.unicode.entry(glyph).or_insert(c);
            out.extend_from_slice(&glyph.to_be_bytes());
        }
        out
    }

    /// Sets `text` with its baseline at (`x`, `baseline`); `word_gap` widens each space (justified).
    fn show(
        &mut self,
        x: f64,
        baseline: f64,
        font: FontKind,
        size: f64,
        text: &str,
        word_gap: f64,
    ) {
        if text.is_empty() {
            return;
        }
        let name = font_name(font);
        let words: Vec<Vec<u8>> = if word_gap > 0.0 {
            text.split_inclusive(' ')
                .map(|w| self.glyphs(font, w))
                .collect()
        } else {
            vec![self.glyphs(font, text)]
        };
        let page = self.page();
        page.begin_text();
        page.set_font(Name(name.as_bytes()), size as f32);
        page.next_line(x as f32, baseline as f32);
        if words.len() > 1 {
            let adjust = (-word_gap * 1000.0 / size) as f32;
            let mut shown = page.show_positioned();
            let mut items = shown.items();
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    items.adjust(adjust);
                }
                items.show(Str(word));
            }
        } else {
            page.show(Str(&words[0]));
        }
        page.end_text();
    }

    /// Sets `text` in the box from `x`, `width` wide, from the cursor down, breaking pages.
    fn paragraph_in(&mut self, text: &str, style: Style, x: f64, width: f64) {
        self.y -= style.space_before;
        let lines = wrap(
            text,
            style.font,
            style.size,
            width - style.first_indent,
            width,
        );
        let count = lines.len();
        for (i, line) in lines.iter().enumerate() {
            self.keep(style.leading);
            let indent = if i == 0 { style.first_indent } else { 0.0 };
            let line_width = style.font.width(line, style.size);
            let room = width - indent;
            let (dx, gap) = match style.align {
                Align::Left => (indent, 0.0),
                Align::Centre => (indent + (room - line_width) / 2.0, 0.0),
                Align::Right => (indent + room - line_width, 0.0),
                Align::Justify => {
                    let spaces = line.matches(' ').count();
                    if i + 1 < count && spaces > 0 {
                        (indent, ((room - line_width) / spaces as f64).max(0.0))
                    } else {
                        (indent, 0.0)
                    }
                }
            };
            let baseline = self.y - baseline_offset(style.size, style.leading);
            self.show(x + dx, baseline, style.font, style.size, line, gap);
            self.y -= style.leading;
        }
    }

    fn paragraph(&mut self, text: &str, style: Style) {
        self.paragraph_in(text, style, MARGIN_LEFT, TEXT_WIDTH);
    }

    /// A horizontal rule `length` long centred on `centre`, at the cursor.
    fn rule(&mut self, centre: f64, length: f64) {
        let y = (self.y - 3.5) as f32;
        let page = self.page();
        page.set_line_width(0.6);
        page.move_to((centre - length / 2.0) as f32, y);
        page.line_to((centre + length / 2.0) as f32, y);
        page.stroke();
        self.y -= 7.5;
    }

    /// The national header in two columns, the number and date line, title and subject.
    fn header(&mut self, document: &Document) {
        let header = &document.header;
        let [left, right] = HEADER_COLUMNS_PT;
        let x0 = MARGIN_LEFT + (TEXT_WIDTH - left - right) / 2.0;
        let top = self.y;

        // Left: parent body, issuing body (bold), a rule 2/5 of the issuing body's length.
        let issuer = Style::new(FontKind::Bold, 12.0, Align::Centre);
        self.paragraph_in(
            &header.parent_body,
            Style::new(FontKind::Regular, 12.0, Align::Centre),
            x0,
            left,
        );
        self.paragraph_in(&header.issuing_body, issuer, x0, left);
        let issuer_width = FontKind::Bold.width(&header.issuing_body, 12.0).min(left);
        self.rule(x0 + left / 2.0, issuer_width * 0.4);
        let left_bottom = self.y;

        // Right: national name, motto (bold), a rule as long as the motto.
        self.y = top;
        let motto = "Độc lập - Tự do - Hạnh phúc";
        self.paragraph_in(
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            issuer,
            x0 + left,
            right,
        );
        self.paragraph_in(
            motto,
            Style::new(FontKind::Bold, 13.0, Align::Centre),
            x0 + left,
            right,
        );
        self.rule(x0 + left + right / 2.0, FontKind::Bold.width(motto, 13.0));

        // The number (left) and the place and date (right, italic) on one line.
        self.y = self.y.min(left_bottom) - 4.0;
        let line_top = self.y;
        self.paragraph_in(
            &header.number,
            Style::new(FontKind::Regular, 13.0, Align::Centre),
            x0,
            left,
        );
        self.y = line_top;
        self.paragraph_in(
            &place_and_date(header),
            Style::new(FontKind::Italic, 14.0, Align::Centre),
            x0 + left,
            right,
        );

        let title = Style {
            space_before: 18.0,
            ..Style::new(FontKind::Bold, BODY, Align::Centre)
        };
        self.paragraph(&document.title, title);
        self.paragraph(
            &document.subject,
            Style::new(FontKind::Bold, BODY, Align::Centre),
        );
        let subject_width = FontKind::Bold
            .width(&document.subject, BODY)
            .min(TEXT_WIDTH);
        self.rule(MARGIN_LEFT + TEXT_WIDTH / 2.0, subject_width / 3.0);
        for paragraph in &document.preamble {
            self.paragraph(paragraph, Style::body());
        }
    }

    fn section(&mut self, section: &Section, depth: usize, index: usize) {
        let font = if depth >= 2 {
            FontKind::BoldItalic
        } else {
            FontKind::Bold
        };
        let style = Style {
            font,
            ..Style::body()
        };
        // A heading is not left alone at the bottom of a page.
        self.keep(style.space_before + style.leading * 3.0);
        self.paragraph(
            &format!("{} {}", section_number(depth, index), section.heading),
            style,
        );
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => self.paragraph(text, Style::body()),
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

    fn table(&mut self, table: &Table) {
        let header = table
            .columns
            .iter()
            .map(|c| CellText {
                text: c.clone(),
                font: FontKind::Bold,
                size: 12.0,
                align: Align::Centre,
            })
            .collect();
        let rows = table
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|cell| CellText {
                        text: cell.display(),
                        font: FontKind::Regular,
                        size: 12.0,
                        align: if cell.is_number() {
                            Align::Right
                        } else {
                            Align::Left
                        },
                    })
                    .collect()
            })
            .collect();
        self.grid(&table.caption, header, rows);
    }

    /// A bordered table under its caption; split across pages with the header row repeated.
    fn grid(&mut self, caption: &str, header: Vec<CellText>, rows: Vec<Vec<CellText>>) {
        let measure = |row: &[CellText]| -> Vec<Measured> {
            row.iter()
                .map(|c| (c.text.clone(), c.font, c.size))
                .collect()
        };
        let measured: Vec<Vec<Measured>> = rows.iter().map(|r| measure(r)).collect();
        let widths = column_widths(&measure(&header), &measured, TEXT_WIDTH, 2.0 * PAD_X + 0.5);
        let lay_out = |row: &[CellText]| -> Vec<Vec<String>> {
            row.iter()
                .zip(&widths)
                .map(|(cell, width)| {
                    let room = width - 2.0 * PAD_X;
                    wrap(&cell.text, cell.font, cell.size, room, room)
                })
                .collect()
        };
        let header_lines = lay_out(&header);
        let header_height = row_height(&header, &header_lines);

        // The caption stays with the header row and the first rows.
        let first_height = rows
            .first()
            .map(|r| row_height(r, &lay_out(r)))
            .unwrap_or(0.0);
        let caption_height = if caption.is_empty() {
            0.0
        } else {
            Style::caption().leading + 6.0
        };
        self.keep(caption_height + header_height + first_height.min(60.0) + 4.0);
        if !caption.is_empty() {
            self.paragraph(caption, Style::caption());
        }
        self.y -= 2.0;
        self.draw_row(&header, &header_lines, &widths, header_height);

        for row in &rows {
            let mut lines = lay_out(row);
            let mut fresh = false;
            loop {
                let height = row_height(row, &lines);
                if self.y - height >= MARGIN_BOTTOM {
                    self.draw_row(row, &lines, &widths, height);
                    break;
                }
                if !fresh {
                    // Start the row on the next page, under the header again.
                    self.new_page();
                    self.draw_row(&header, &header_lines, &widths, header_height);
                    fresh = true;
                    continue;
                }
                // Taller than a page: set what fits and carry the rest over.
                let room = self.y - MARGIN_BOTTOM - 2.0 * PAD_Y;
                let mut rest = Vec::with_capacity(lines.len());
                for (cell, cell_lines) in row.iter().zip(lines.iter_mut()) {
                    let fit = ((room / (cell.size * 1.2)).floor() as usize).max(1);
                    rest.push(cell_lines.split_off(fit.min(cell_lines.len())));
                }
                let height = row_height(row, &lines);
                self.draw_row(row, &lines, &widths, height);
                lines = rest;
                self.new_page();
                self.draw_row(&header, &header_lines, &widths, header_height);
            }
        }
        self.y -= 4.0;
    }

    fn draw_row(&mut self, cells: &[CellText], lines: &[Vec<String>], widths: &[f64], height: f64) {
        let mut x = MARGIN_LEFT;
        let top = self.y;
        for ((cell, cell_lines), width) in cells.iter().zip(lines).zip(widths) {
            {
                let page = self.page();
                page.set_line_width(0.5);
                page.rect(
                    x as f32,
                    (top - height) as f32,
                    *width as f32,
                    height as f32,
                );
                page.stroke();
            }
            let leading = cell.size * 1.2;
            for (i, line) in cell_lines.iter().enumerate() {
                let line_width = cell.font.width(line, cell.size);
                let dx = match cell.align {
                    Align::Right => width - PAD_X - line_width,
                    Align::Centre => (width - line_width) / 2.0,
                    Align::Left | Align::Justify => PAD_X,
                };
                let baseline =
                    top - PAD_Y - leading * i as f64 - baseline_offset(cell.size, leading);
                self.show(x + dx, baseline, cell.font, cell.size, line, 0.0);
            }
            x += width;
        }
        self.y = top - height;
    }

    /// A bar or line chart as vector paths, with its value axis, category labels and legend.
    fn chart(&mut self, chart: &Chart) {
        self.keep(CHART_HEIGHT + Style::caption().leading + 12.0);
        self.y -= 6.0;
        let top = self.y;
        let (left, right) = (MARGIN_LEFT + 56.0, MARGIN_LEFT + TEXT_WIDTH - 8.0);
        let (plot_top, plot_bottom) = (top - 8.0, top - CHART_HEIGHT + 40.0);
        let max = chart
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let (scale_top, step) = nice_scale(max);
        let y_of =
            |v: f64| plot_bottom + (plot_top - plot_bottom) * (v / scale_top).clamp(0.0, 1.0);

        // Value axis: gridlines and labels.
        let mut tick = 0.0;
        while tick <= scale_top + step / 2.0 {
            let y = y_of(tick);
            {
                let page = self.page();
                page.set_line_width(0.4);
                page.set_stroke_gray(if tick == 0.0 { 0.0 } else { 0.8 });
                page.move_to(left as f32, y as f32);
                page.line_to(right as f32, y as f32);
                page.stroke();
                page.set_stroke_gray(0.0);
            }
            let label = decimal_comma(tick, if step.fract() == 0.0 { 0 } else { 2 });
            let width = FontKind::Regular.width(&label, 8.0);
            self.show(
                left - 4.0 - width,
                y - 2.8,
                FontKind::Regular,
                8.0,
                &label,
                0.0,
            );
            tick += step;
        }
        // The unit, along the value axis.
        let unit = self.glyphs(FontKind::Regular, &chart.unit);
        let unit_width = FontKind::Regular.width(&chart.unit, 8.0);
        let middle = (plot_top + plot_bottom) / 2.0 - unit_width / 2.0;
        let page = self.page();
        page.begin_text();
        page.set_font(Name(font_name(FontKind::Regular).as_bytes()), 8.0);
        page.set_text_matrix([
            0.0,
            1.0,
            -1.0,
            0.0,
            (MARGIN_LEFT + 8.0) as f32,
            middle as f32,
        ]);
        page.show(Str(&unit));
        page.end_text();

        let categories = chart.categories.len().max(1);
        let band = (right - left) / categories as f64;
        let label_every = categories.div_ceil(12);
        for (i, category) in chart.categories.iter().enumerate() {
            if i % label_every == 0 {
                let width = FontKind::Regular.width(category, 8.0);
                let x = left + band * (i as f64 + 0.5) - width / 2.0;
                self.show(x, plot_bottom - 11.0, FontKind::Regular, 8.0, category, 0.0);
            }
        }
        let series = chart.series.len().max(1) as f64;
        for (s, serie) in chart.series.iter().enumerate() {
            let (r, g, b) = rgb(CHART_COLOURS[s % CHART_COLOURS.len()]);
            let page = self.page();
            match chart.kind {
                ChartKind::Bars => {
                    page.set_fill_rgb(r, g, b);
                    let bar = band * 0.8 / series;
                    for (i, value) in serie.values.iter().enumerate().take(categories) {
                        if !value.is_finite() || *value <= 0.0 {
                            continue;
                        }
                        let x = left + band * i as f64 + band * 0.1 + bar * s as f64;
                        let height = y_of(*value) - plot_bottom;
                        page.rect(
                            x as f32,
                            plot_bottom as f32,
                            bar.max(0.5) as f32,
                            height as f32,
                        );
                    }
                    page.fill_nonzero();
                }
                ChartKind::Lines => {
                    page.set_stroke_rgb(r, g, b);
                    page.set_line_width(1.5);
                    let mut drawing = false;
                    for (i, value) in serie.values.iter().enumerate().take(categories) {
                        let x = (left + band * (i as f64 + 0.5)) as f32;
                        if !value.is_finite() {
                            drawing = false;
                            continue;
                        }
                        let y = y_of(*value) as f32;
                        if drawing {
                            page.line_to(x, y);
                        } else {
                            page.move_to(x, y);
                            drawing = true;
                        }
                    }
                    page.stroke();
                    page.set_stroke_gray(0.0);
                }
            }
        }

        // The legend, under the category labels.
        let mut x = left;
        let legend_y = plot_bottom - 28.0;
        for (s, serie) in chart.series.iter().enumerate() {
            let (r, g, b) = rgb(CHART_COLOURS[s % CHART_COLOURS.len()]);
            let page = self.page();
            page.set_fill_rgb(r, g, b);
            page.rect(x as f32, legend_y as f32, 8.0, 8.0);
            page.fill_nonzero();
            page.set_fill_gray(0.0);
            self.show(
                x + 11.0,
                legend_y + 1.0,
                FontKind::Regular,
                9.0,
                &serie.name,
                0.0,
            );
            x += 24.0 + FontKind::Regular.width(&serie.name, 9.0);
        }
        self.page().set_fill_gray(0.0);
        self.y = top - CHART_HEIGHT;
        self.paragraph(
            &chart.caption,
            Style {
                space_before: 0.0,
                ..Style::caption()
            },
        );
    }

    /// "Nơi nhận:" at the bottom left, the signature block at the bottom right.
    fn closing(&mut self, document: &Document) {
        let signature = &document.signature;
        let recipients_height = 12.0 * 1.2 + document.recipients.len() as f64 * 11.0 * 1.2;
        let signature_lines = 2.0 + f64::from(u8::from(signature.authority.is_some()));
        let signature_height = signature_lines * BODY * 1.2 + 4.0 * BODY * 1.2;
        self.y -= 12.0;
        self.keep(recipients_height.max(signature_height));
        let top = self.y;
        let half = TEXT_WIDTH / 2.0;
        let right_x = MARGIN_LEFT + half;
        let bold = Style::new(FontKind::Bold, BODY, Align::Centre);
        if let Some(authority) = &signature.authority {
            self.paragraph_in(authority, bold, right_x, half);
        }
        self.paragraph_in(&signature.position, bold, right_x, half);
        self.y -= 4.0 * BODY * 1.2;
        self.paragraph_in(&signature.name, bold, right_x, half);
        let bottom = self.y;
        self.y = top;
        self.paragraph_in(
            "Nơi nhận:",
            Style::new(FontKind::BoldItalic, 12.0, Align::Left),
            MARGIN_LEFT,
            half,
        );
        for line in &document.recipients {
            self.paragraph_in(
                line,
                Style::new(FontKind::Regular, 11.0, Align::Left),
                MARGIN_LEFT,
                half,
            );
        }
        self.y = self.y.min(bottom);
    }

    /// The query behind every figure, from a new page.
    fn appendix(&mut self, document: &Document) {
        self.new_page();
        let bold = Style::new(FontKind::Bold, BODY, Align::Centre);
        self.paragraph("PHỤ LỤC", bold);
        self.paragraph("NGUỒN SỐ LIỆU", bold);
        self.paragraph(
            &appendix_note(&document.header),
            Style::new(FontKind::Italic, BODY, Align::Centre),
        );
        if let Some(note) = document.workbook_note() {
            self.paragraph(&note, Style::new(FontKind::Italic, BODY, Align::Centre));
        }
        self.y -= 6.0;
        let text = |text: &str, font: FontKind, size: f64, align: Align| CellText {
            text: text.to_owned(),
            font,
            size,
            align,
        };
        let header = SOURCES_COLUMNS
            .iter()
            .map(|c| text(c, FontKind::Bold, 12.0, Align::Centre))
            .collect();
        let rows = document
            .printed_figures()
            .map(|f| {
                vec![
                    text(&f.id, FontKind::Regular, 12.0, Align::Left),
                    text(&f.label, FontKind::Regular, 12.0, Align::Left),
                    text(&f.value, FontKind::Regular, 12.0, Align::Right),
                    text(&f.query, FontKind::Mono, 8.0, Align::Left),
                ]
            })
            .collect();
        self.grid("", header, rows);
    }

    /// Page numbers at the top centre from the second page.
    fn page_numbers(&mut self) {
        let last = self.pages.len();
        for number in 2..=last {
            let label = number.to_string();
            let width = FontKind::Regular.width(&label, 13.0);
            let glyphs = self.glyphs(FontKind::Regular, &label);
            let page = &mut self.pages[number - 1];
            page.begin_text();
            page.set_font(Name(font_name(FontKind::Regular).as_bytes()), 13.0);
            page.next_line(
                (MARGIN_LEFT + (TEXT_WIDTH - width) / 2.0) as f32,
                (PAGE_HEIGHT - MARGIN_TOP / 2.0 - 4.0) as f32,
            );
            page.show(Str(&glyphs));
            page.end_text();
        }
    }

    fn finish(self, document: &Document) -> Vec<u8> {
        let mut next = 1;
        let mut alloc = || {
            next += 1;
            Ref::new(next - 1)
        };
        let catalog_id = alloc();
        let pages_id = alloc();
        let info_id = alloc();
        let mut pdf = Pdf::new();

        // Fonts: a subset of each font used.
        let mut font_refs = Vec::new();
        for (font, used) in &self.fonts {
            let (type0, cid, descriptor, file, cmap) =
                (alloc(), alloc(), alloc(), alloc(), alloc());
            font_refs.push((*font, type0));
            let face = font.face();
            let units = f64::from(face.units_per_em());
            let scale = |v: i16| (f64::from(v) * 1000.0 / units) as f32;
            let base = format!("{}+{}", subset_tag(*font), font.postscript_name());
            pdf.type0_font(type0)
                .base_font(Name(base.as_bytes()))
                .encoding_predefined(Name(b"Identity-H"))
                .descendant_font(cid)
                .to_unicode(cmap);
            let widths: Vec<f32> = used
                .remapper
                .remapped_gids()
                .map(|old| font.advance(ttf_parser::GlyphId(old)) as f32)
                .collect();
            let mut cid_font = pdf.cid_font(cid);
            cid_font
                .subtype(CidFontType::Type2)
                .base_font(Name(base.as_bytes()))
                .system_info(SYSTEM_INFO)
                .font_descriptor(descriptor)
                .default_width(0.0)
                .cid_to_gid_map_predefined(Name(b"Identity"));
            cid_font.widths().consecutive(0, widths);
            cid_font.finish();
            let bbox = face.global_bounding_box();
            let mut flags = FontFlags::NON_SYMBOLIC;
            match font {
                FontKind::Mono => flags |= FontFlags::FIXED_PITCH,
                FontKind::Italic | FontKind::BoldItalic => {
                    flags |= FontFlags::SERIF | FontFlags::ITALIC
                }
                FontKind::Regular | FontKind::Bold => flags |= FontFlags::SERIF,
            }
            pdf.font_descriptor(descriptor)
                .name(Name(base.as_bytes()))
                .flags(flags)
                .bbox(Rect::new(
                    scale(bbox.x_min),
                    scale(bbox.y_min),
                    scale(bbox.x_max),
                    scale(bbox.y_max),
                ))
                .italic_angle(face.italic_angle())
                .ascent(scale(face.ascender()))
                .descent(scale(face.descender()))
                .cap_height(scale(face.capital_height().unwrap_or(face.ascender())))
                .stem_v(if matches!(font, FontKind::Bold | FontKind::BoldItalic) {
                    140.0
                } else {
                    80.0
                })
                .font_file2(file);
            // Subsetting a bundled, well-formed font does not fail; if it ever did, embed it whole.
            let program = subsetter::subset(font.data(), 0, &used.remapper)
                .unwrap_or_else(|_| font.data().to_vec());
            pdf.stream(file, &deflate(&program))
                .filter(Filter::FlateDecode);
            let mut unicode = UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
            for (glyph, c) in &used.unicode {
                unicode.pair(*glyph, *c);
            }
            pdf.cmap(cmap, &deflate(&unicode.finish()))
                .filter(Filter::FlateDecode);
        }

        let mut page_ids = Vec::with_capacity(self.pages.len());
        for content in self.pages {
            let (page_id, content_id) = (alloc(), alloc());
            page_ids.push(page_id);
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH as f32, PAGE_HEIGHT as f32))
                .parent(pages_id)
                .contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            for (font, id) in &font_refs {
                fonts.pair(Name(font_name(*font).as_bytes()), *id);
            }
            fonts.finish();
            resources.finish();
            page.finish();
            pdf.stream(content_id, &deflate(&content.finish()))
                .filter(Filter::FlateDecode);
        }
        pdf.pages(pages_id)
            .count(page_ids.len() as i32)
            .kids(page_ids);
        pdf.catalog(catalog_id).pages(pages_id).lang(TextStr("vi"));
        let date = document.header.date;
        let title = format!("{} {}", document.title, document.subject);
        pdf.document_info(info_id)
            .title(TextStr(&title))
            .author(TextStr(&document.header.issuing_body))
            .creator(TextStr("LGSP"))
            .creation_date(
                Date::new(u16::try_from(chrono::Datelike::year(&date)).unwrap_or(2000))
                    .month(chrono::Datelike::month(&date) as u8)
                    .day(chrono::Datelike::day(&date) as u8),
            );
        pdf.finish()
    }
}

const SYSTEM_INFO: SystemInfo = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// The resource name of a font on every page.
fn font_name(font: FontKind) -> String {
    format!("F{}", font as usize)
}

/// The six capitals that mark an embedded font as a subset.
fn subset_tag(font: FontKind) -> String {
    format!("LGSPA{}", (b'A' + font as u8) as char)
}

/// Where the baseline sits below the top of a line of `size` set `leading` apart.
fn baseline_offset(size: f64, leading: f64) -> f64 {
    (leading - size) / 2.0 + size * 0.86
}

fn row_height(cells: &[CellText], lines: &[Vec<String>]) -> f64 {
    cells
        .iter()
        .zip(lines)
        .map(|(cell, lines)| lines.len().max(1) as f64 * cell.size * 1.2)
        .fold(0.0, f64::max)
        + 2.0 * PAD_Y
}

/// `text` broken into lines at spaces so that the first fits `first_width` and the others
/// `width`; explicit line breaks are kept, as are runs of spaces inside a line, and a word
/// longer than a line is cut.
fn wrap(text: &str, font: FontKind, size: f64, first_width: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let room = |lines: &Vec<String>| if lines.is_empty() { first_width } else { width };
    for hard in text.split('\n') {
        let mut line = String::new();
        let mut started = false;
        for word in hard.split(' ') {
            let candidate = if started {
                format!("{line} {word}")
            } else {
                word.to_owned()
            };
            if started && !line.trim().is_empty() && font.width(&candidate, size) > room(&lines) {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            } else {
                line = candidate;
            }
            started = true;
            while font.width(&line, size) > room(&lines) && line.chars().count() > 1 {
                let mut cut = 0;
                let mut used = 0.0;
                for (i, c) in line.char_indices() {
                    used += font.advance(font.glyph(c)) * size / 1000.0;
                    if used > room(&lines) && i > 0 {
                        cut = i;
                        break;
                    }
                }
                if cut == 0 {
                    break;
                }
                let rest = line.split_off(cut);
                lines.push(line);
                line = rest;
            }
        }
        lines.push(line);
    }
    lines
}

fn rgb(hex: &str) -> (f32, f32, f32) {
    let channel = |i: usize| {
        f32::from(u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0)) / 255.0
    };
    (channel(0), channel(2), channel(4))
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::best());
    // Writing to a Vec does not fail.
    encoder.write_all(bytes).expect("compressing in memory");
    encoder.finish().expect("compressing in memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{every_cell, sample};
    use std::collections::HashMap;
    use std::io::Read;

    /// The objects of a file as pdf-writer writes them: number → bytes of `N 0 obj … endobj`.
    fn objects(pdf: &[u8]) -> HashMap<i32, &[u8]> {
        let text = pdf;
        let mut out = HashMap::new();
        let mut at = 0;
        while let Some(found) = find(&text[at..], b" 0 obj\n") {
            let start = at + found;
            let digits = text[..start]
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let number: i32 = std::str::from_utf8(&text[start - digits..start])
                .unwrap()
                .parse()
                .unwrap();
            let end = start + find(&text[start..], b"endobj").unwrap();
            out.insert(number, &text[start + 7..end]);
            at = end;
        }
        out
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    fn dict(object: &[u8]) -> String {
        let end = find(object, b"stream\n").unwrap_or(object.len());
        String::from_utf8_lossy(&object[..end]).into_owned()
    }

    /// The decompressed stream of an object.
    fn stream(object: &[u8]) -> Vec<u8> {
        let start = find(object, b"stream\n").expect("a stream") + 7;
        let end = start + find(&object[start..], b"\nendstream").unwrap();
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&object[start..end])
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// The reference after `key` in a dictionary: `/Contents 12 0 R` → 12.
    fn reference(dict: &str, key: &str) -> i32 {
        let rest = &dict[dict.find(key).unwrap_or_else(|| panic!("{key} in {dict}")) + key.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// Glyph → character, from a ToUnicode CMap's `bfchar` entries.
    fn to_unicode(cmap: &[u8]) -> HashMap<u16, char> {
        let text = String::from_utf8_lossy(cmap);
        let mut map = HashMap::new();
        for block in text.split("beginbfchar").skip(1) {
            let block = block.split("endbfchar").next().unwrap();
            let hex: Vec<&str> = block
                .split(['<', '>'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            for pair in hex.chunks(2) {
                let glyph = u16::from_str_radix(pair[0], 16).unwrap();
                let c = char::from_u32(u32::from_str_radix(pair[1], 16).unwrap()).unwrap();
                map.insert(glyph, c);
            }
        }
        map
    }

    /// The text each `Tj`/`TJ` of a content stream shows, decoded through the fonts' maps.
    fn shown(content: &[u8], maps: &HashMap<String, HashMap<u16, char>>) -> Vec<String> {
        let mut out = Vec::new();
        let (mut font, mut last_name, mut pending) =
            (String::new(), String::new(), Vec::<Vec<u8>>::new());
        let mut i = 0;
        while i < content.len() {
            match content[i] {
                b'/' => {
                    let len = content[i + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_alphanumeric())
                        .count();
                    last_name = String::from_utf8_lossy(&content[i + 1..i + 1 + len]).into_owned();
                    i += len + 1;
                }
                b'(' => {
                    let mut bytes = Vec::new();
                    let mut depth = 0;
                    i += 1;
                    loop {
                        match content[i] {
                            b'\\' => {
                                i += 1;
                                match content[i] {
                                    b'n' => bytes.push(b'\n'),
                                    b'r' => bytes.push(b'\r'),
                                    b't' => bytes.push(b'\t'),
                                    b'b' => bytes.push(8),
                                    b'f' => bytes.push(12),
                                    d @ b'0'..=b'7' => {
                                        let mut value = u32::from(d - b'0');
                                        for _ in 0..2 {
                                            if matches!(content[i + 1], b'0'..=b'7') {
                                                i += 1;
                                                value = value * 8 + u32::from(content[i] - b'0');
                                            }
                                        }
                                        bytes.push(value as u8);
                                    }
                                    other => bytes.push(other),
                                }
                            }
                            b'(' => {
                                depth += 1;
                                bytes.push(b'(');
                            }
                            b')' if depth > 0 => {
                                depth -= 1;
                                bytes.push(b')');
                            }
                            b')' => break,
                            other => bytes.push(other),
                        }
                        i += 1;
                    }
                    pending.push(bytes);
                    i += 1;
                }
                b'<' => {
                    let len = content[i + 1..].iter().position(|b| *b == b'>').unwrap();
                    let hex = std::str::from_utf8(&content[i + 1..i + 1 + len]).unwrap();
                    let bytes = (0..hex.len())
                        .step_by(2)
                        .map(|j| u8::from_str_radix(&hex[j..j + 2], 16).unwrap())
                        .collect();
                    pending.push(bytes);
                    i += len + 2;
                }
                b if b.is_ascii_alphabetic() || b == b'\'' || b == b'"' || b == b'*' => {
                    let len = content[i..]
                        .iter()
                        .take_while(|b| b.is_ascii_alphabetic() || matches!(b, b'\'' | b'"' | b'*'))
                        .count();
                    let operator = &content[i..i + len];
                    match operator {
                        b"Tf" => font = last_name.clone(),
                        b"Tj" | b"TJ" => {
                            let map = &maps[&font];
                            let text = pending
                                .iter()
                                .flat_map(|bytes| bytes.chunks(2))
                                .map(|pair| map[&u16::from_be_bytes([pair[0], pair[1]])])
                                .collect();
                            out.push(text);
                        }
                        _ => {}
                    }
                    pending.clear();
                    i += len;
                }
                _ => i += 1,
            }
        }
        out
    }

    /// What each page shows, in order, as a reader extracting the text would find it.
    fn pages(pdf: &[u8]) -> Vec<Vec<String>> {
        let objects = objects(pdf);
        let mut numbers: Vec<i32> = objects
            .iter()
            .filter(|(_, o)| dict(o).contains("/Type /Page\n"))
            .map(|(n, _)| *n)
            .collect();
        numbers.sort();
        numbers
            .iter()
            .map(|n| {
                let page = dict(objects[n]);
                let fonts = &page[page.find("/Font <<").unwrap()..];
                let fonts = &fonts[..fonts.find(">>").unwrap()];
                let maps = fonts
                    .split('/')
                    .skip(2)
                    .map(|entry| {
                        let name = entry.split_whitespace().next().unwrap().to_owned();
                        let font = reference(entry, &name);
                        let cmap = reference(&dict(objects[&font]), "/ToUnicode");
                        (name, to_unicode(&stream(objects[&cmap])))
                    })
                    .collect();
                shown(&stream(objects[&reference(&page, "/Contents")]), &maps)
            })
            .collect()
    }

    #[test]
    fn lines_break_at_spaces_within_the_width_and_keep_hard_breaks() {
        let text = "Sở Thông tin và Truyền thông báo cáo tình hình thực hiện năm 2026";
        let lines = wrap(text, FontKind::Regular, 14.0, 120.0, 200.0);
        assert_eq!(lines.join(" "), text);
        assert!(FontKind::Regular.width(&lines[0], 14.0) <= 120.0);
        assert!(lines[1..]
            .iter()
            .all(|l| FontKind::Regular.width(l, 14.0) <= 200.0));
        let query = "SELECT 1\n  FROM t WHERE a_very_long_identifier_that_cannot_fit = 1";
        let lines = wrap(query, FontKind::Mono, 10.0, 150.0, 150.0);
        assert_eq!(lines[0], "SELECT 1");
        assert!(lines[1].starts_with("  FROM t"));
        assert!(lines.iter().all(|l| FontKind::Mono.width(l, 10.0) <= 150.0));
        assert_eq!(
            lines.concat().replace(' ', ""),
            query.replace([' ', '\n'], "")
        );
        assert_eq!(
            wrap("Số:        /BC", FontKind::Regular, 13.0, 300.0, 300.0),
            ["Số:        /BC"]
        );
    }

    #[test]
    fn q17_6_the_pdf_embeds_its_fonts_and_its_text_can_be_extracted() {
        let document = sample();
        let pdf = render(&document);
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
        let objects = objects(&pdf);

        // Five fonts, each embedded as a subset (a whole Liberation Serif is over 370 kB).
        let files: Vec<i32> = objects
            .values()
            .filter(|o| dict(o).contains("/FontFile2"))
            .map(|o| reference(&dict(o), "/FontFile2"))
            .collect();
        assert_eq!(files.len(), 5);
        for file in files {
            let program = stream(objects[&file]);
            assert!(
                program.len() > 1_000 && program.len() < 80_000,
                "{}",
                program.len()
            );
            assert!(ttf_parser::Face::parse(&program, 0).is_ok());
        }
        assert!(pdf.len() < 150_000, "{} bytes", pdf.len());

        let pages = pages(&pdf);
        let count = dict(
            objects
                .values()
                .find(|o| dict(o).contains("/Type /Pages"))
                .unwrap(),
        );
        assert!(count.contains(&format!("/Count {}", pages.len())));
        // The header and section I.1–3, the charts, section I.4 and the table of agencies over
        // two pages, the closing, the appendix.
        assert_eq!(pages.len(), 6);

        let first = &pages[0];
        for line in [
            "UBND TỈNH HÀ NAM",
            "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "Số:        /BC-STTTT",
            "Hà Nam, ngày 05 tháng 12 năm 2026",
            "BÁO CÁO",
            "I. KẾT QUẢ THỰC HIỆN QUY CHẾ",
        ] {
            assert!(
                first.iter().any(|s| s == line),
                "{line:?} on page 1: {first:?}"
            );
        }
        // Page numbers from the second page.
        assert!(!first.iter().any(|s| s == "1"));
        for (i, page) in pages.iter().enumerate().skip(1) {
            assert_eq!(page.last(), Some(&(i + 1).to_string()));
        }

        let all = pages
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        for value in every_cell(&document) {
            assert!(all.contains(&value), "{value:?}");
        }
        // The long table runs over pages with its header row on each.
        let with_header = pages
            .iter()
            .filter(|p| p.iter().any(|s| s.starts_with("Cơ quan, đơn")))
            .count();
        assert!(with_header >= 2, "{with_header}");
        let last = pages.last().unwrap();
        assert!(last.iter().any(|s| s == "PHỤ LỤC"));
        assert!(last
            .iter()
            .any(|s| s.starts_with("SELECT COUNT(*) FROM exchange_log")));
        assert!(pages
            .iter()
            .any(|p| p.iter().any(|s| s == "Nguyễn Văn Hùng")));

        // One document, one file.
        assert!(render(&document) == pdf);
    }
}
