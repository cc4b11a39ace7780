//! The document's numbers as a workbook: a cover sheet, one sheet per top-level section with its
//! tables (numbers as numbers, with formats) and native charts, and the sheet of the query behind
//! every figure.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
pub use rust_xlsxwriter::XlsxError;
use rust_xlsxwriter::{
    Chart as XlsxChart, ChartType, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder,
    Workbook, Worksheet,
};

use crate::{
    place_and_date, section_number, Block, Cell, ChartKind, Document, Section, Table,
    SOURCES_COLUMNS,
};

/// The name of the sheet of sources (sheet names may carry diacritics).
pub const SOURCES_SHEET: &str = "Nguồn số liệu";
const MAX_WIDTH: f64 = 60.0;

/// The workbook as the bytes of an .xlsx file.
pub fn render(document: &Document) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = workbook_of(document.header.date);
    workbook.set_properties(
        &DocProperties::new()
            .set_title(format!("{} {}", document.title, document.subject))
            .set_author(&document.header.issuing_body)
            .set_creation_datetime(&creation_date(document.header.date)),
    );
    let formats = Formats::new();
    let mut names = HashSet::new();

    let cover = workbook.add_worksheet();
    cover.set_name(unique_name("Báo cáo", &mut names))?;
    let header = &document.header;
    let lines = [
        header.parent_body.as_str(),
        header.issuing_body.as_str(),
        header.number.as_str(),
        &place_and_date(header),
        document.title.as_str(),
        document.subject.as_str(),
    ];
    for (row, line) in lines.iter().enumerate() {
        let format = if row == 1 || row >= 4 {
            &formats.bold
        } else {
            &formats.plain
        };
        cover.write_string_with_format(row as u32, 0, *line, format)?;
    }
    cover.set_column_width(0, 100)?;

    for (i, section) in document.sections.iter().enumerate() {
        let mut tables = Vec::new();
        collect_tables(section, &mut tables);
        if tables.is_empty() {
            continue;
        }
        let number = section_number(0, i);
        let sheet = workbook.add_worksheet();
        sheet.set_name(unique_name(
            &format!("{number} {}", section.heading),
            &mut names,
        ))?;
        let sheet_name = sheet.name();
        sheet.write_string_with_format(
            0,
            0,
            format!("{number} {}", section.heading),
            &formats.bold,
        )?;
        let mut widths: Vec<f64> = Vec::new();
        let mut row = 2u32;
        for (table, chart) in tables {
            row = write_table(sheet, &formats, table.as_ref(), row, &mut widths)?;
            if let Some(chart) = chart {
                let first = row - table.rows.len() as u32;
                let last = row - 1;
                let mut native = XlsxChart::new(match chart.kind {
                    ChartKind::Bars => ChartType::Column,
                    ChartKind::Lines => ChartType::Line,
                });
                native.title().set_name(&chart.caption);
                native.y_axis().set_name(&chart.unit);
                for (s, _) in chart.series.iter().enumerate() {
                    let column = s as u16 + 1;
                    native
                        .add_series()
                        .set_name((sheet_name.as_str(), first - 1, column))
                        .set_categories((sheet_name.as_str(), first, 0, last, 0))
                        .set_values((sheet_name.as_str(), first, column, last, column));
                }
                let chart_column = table.columns.len() as u16 + 1;
                sheet.insert_chart(first - 2, chart_column, &native)?;
                // The chart is about 15 rows high; leave room when its table is shorter.
                row = row.max(first + 14);
            }
            row += 1;
        }
        for (column, width) in widths.iter().enumerate() {
            sheet.set_column_width(column as u16, width.min(MAX_WIDTH))?;
        }
        // Printed: A4 landscape, as wide as the page.
        sheet
            .set_paper_size(9)
            .set_landscape()
            .set_print_fit_to_pages(1, 0);
    }

    let sources = workbook.add_worksheet();
    sources.set_name(unique_name(SOURCES_SHEET, &mut names))?;
    for (column, title) in SOURCES_COLUMNS.iter().enumerate() {
        sources.write_string_with_format(0, column as u16, *title, &formats.header)?;
    }
    for (i, figure) in document.figures.iter().enumerate() {
        let row = i as u32 + 1;
        sources.write_string_with_format(row, 0, &figure.id, &formats.cell)?;
        sources.write_string_with_format(row, 1, &figure.label, &formats.wrap)?;
        sources.write_string_with_format(row, 2, &figure.value, &formats.right)?;
        sources.write_string_with_format(row, 3, &figure.query, &formats.code)?;
    }
    sources.set_column_width(0, 8)?;
    sources.set_column_width(1, 45)?;
    sources.set_column_width(2, 14)?;
    sources.set_column_width(3, 90)?;
    sources.set_freeze_panes(1, 0)?;
    sources
        .set_paper_size(9)
        .set_landscape()
        .set_print_fit_to_pages(1, 0);
    sources.set_repeat_rows(0, 0)?;

    workbook.save_to_buffer()
}

/// The tables of a section and its subsections in order; a chart contributes its numbers.
fn collect_tables<'a>(
    section: &'a Section,
    out: &mut Vec<(std::borrow::Cow<'a, Table>, Option<&'a crate::Chart>)>,
) {
    for block in &section.blocks {
        match block {
            Block::Table(table) => out.push((std::borrow::Cow::Borrowed(table), None)),
            Block::Chart(chart) => {
                out.push((std::borrow::Cow::Owned(chart.numbers()), Some(chart)))
            }
            Block::Paragraph(_) => {}
        }
    }
    for sub in &section.subsections {
        collect_tables(sub, out);
    }
}

/// Writes the caption, header row and rows from `row`; returns the row after the table.
fn write_table(
    sheet: &mut Worksheet,
    formats: &Formats,
    table: &Table,
    mut row: u32,
    widths: &mut Vec<f64>,
) -> Result<u32, XlsxError> {
    let mut widen = |column: usize, text: &str| {
        if widths.len() <= column {
            widths.resize(column + 1, 8.0);
        }
        widths[column] = widths[column].max(text.chars().count() as f64 * 1.1 + 2.0);
    };
    sheet.write_string_with_format(row, 0, &table.caption, &formats.caption)?;
    row += 1;
    for (column, title) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(row, column as u16, title, &formats.header)?;
        // Long headers wrap; give them a width of about half their length.
        widen(
            column,
            &title
                .chars()
                .take(title.chars().count().div_ceil(2) + 2)
                .collect::<String>(),
        );
    }
    row += 1;
    for cells in &table.rows {
        for (column, cell) in cells.iter().enumerate() {
            let c = column as u16;
            match cell {
                Cell::Text(text) => sheet.write_string_with_format(row, c, text, &formats.cell)?,
                Cell::Integer(n) => {
                    sheet.write_number_with_format(row, c, *n as f64, &formats.integer)?
                }
                Cell::Decimal(x, decimals) => {
                    sheet.write_number_with_format(row, c, *x, &formats.decimal(*decimals))?
                }
                Cell::Percent(x) => sheet.write_number_with_format(row, c, *x, &formats.percent)?,
                Cell::Empty => sheet.write_blank(row, c, &formats.cell)?,
            };
            widen(column, &cell.display());
        }
        row += 1;
    }
    Ok(row)
}

struct Formats {
    plain: Format,
    bold: Format,
    caption: Format,
    header: Format,
    cell: Format,
    wrap: Format,
    right: Format,
    code: Format,
    integer: Format,
    percent: Format,
}

impl Formats {
    fn new() -> Self {
        let base = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(12);
        let cell = base
            .clone()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Top);
        Formats {
            plain: base.clone(),
            bold: base.clone().set_bold(),
            caption: base.clone().set_bold().set_italic(),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            wrap: cell.clone().set_text_wrap(),
            right: cell.clone().set_align(FormatAlign::Right),
            code: cell
                .clone()
                .set_font_name("Courier New")
                .set_font_size(9)
                .set_text_wrap(),
            integer: cell.clone().set_num_format("#,##0"),
            percent: cell.clone().set_num_format("0.0%"),
            cell,
        }
    }

    fn decimal(&self, decimals: u8) -> Format {
        let zeros = "0".repeat(usize::from(decimals.min(6)));
        let pattern = if zeros.is_empty() {
            "#,##0".to_owned()
        } else {
            format!("#,##0.{zeros}")
        };
        self.integer.clone().set_num_format(pattern)
    }
}

/// A workbook dated `date` (not now): one document gives one file.
pub(crate) fn workbook_of(date: NaiveDate) -> Workbook {
    let mut workbook = Workbook::new();
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&creation_date(date)));
    workbook
}

fn creation_date(date: NaiveDate) -> ExcelDateTime {
    ExcelDateTime::from_ymd(
        u16::try_from(date.year()).unwrap_or(1900).clamp(1900, 9999),
        date.month() as u8,
        date.day() as u8,
    )
    .unwrap_or_else(|_| ExcelDateTime::from_ymd(2000, 1, 1).expect("a valid date"))
}

/// A valid sheet name (≤ 31 characters, none of `[]:*?/\`) not yet used in the workbook.
fn unique_name(wanted: &str, used: &mut HashSet<String>) -> String {
    let clean: String = wanted
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .collect();
    let clean = clean.trim().trim_matches('\'').to_owned();
    let base: String = clean
        .chars()
        .take(31)
        .collect::<String>()
        .trim_end()
        .to_owned();
    let mut name = if base.is_empty() {
        "Sheet".to_owned()
    } else {
        base.clone()
    };
    let mut n = 2;
    while used.contains(&name.to_lowercase()) {
        let suffix = format!(" ({n})");
        let keep = 31 - suffix.chars().count();
        name = format!(
            "{}{suffix}",
            base.chars().take(keep).collect::<String>().trim_end()
        );
        n += 1;
    }
    used.insert(name.to_lowercase());
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sample;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    #[test]
    fn sheet_names_are_short_valid_and_unique() {
        let mut used = HashSet::new();
        let long = "II. KẾT QUẢ THEO CƠ QUAN, ĐƠN VỊ VÀ SO SÁNH VỚI NĂM 2025";
        let first = unique_name(long, &mut used);
        let second = unique_name(long, &mut used);
        assert_eq!(first, "II. KẾT QUẢ THEO CƠ QUAN, ĐƠN V");
        assert_eq!(first.chars().count(), 31);
        assert_eq!(second.chars().count(), 31);
        assert!(second.ends_with(" (2)"));
        assert_eq!(unique_name("a/b: [c]?", &mut used), "ab c");
    }

    #[test]
    fn q17_6_the_workbook_holds_every_number_as_a_number_and_every_source() {
        let document = sample();
        let bytes = render(&document).unwrap();
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let names = workbook.sheet_names();
        assert_eq!(
            names,
            vec![
                "Báo cáo".to_owned(),
                "I. KẾT QUẢ THỰC HIỆN QUY CHẾ".to_owned(),
                "II. KẾT QUẢ THEO CƠ QUAN, ĐƠN V".to_owned(),
                SOURCES_SHEET.to_owned(),
            ]
        );

        // Every table of section II, row by row, with numbers as numbers.
        let range = workbook.worksheet_range(&names[2]).unwrap();
        let Block::Table(table) = &document.sections[1].blocks[1] else {
            panic!("the sample's section II has its table second")
        };
        let header_row = (0..range.height())
            .find(|&r| range.get((r, 1)) == Some(&Data::String("Cơ quan, đơn vị".into())))
            .expect("the header row");
        for (i, cells) in table.rows.iter().enumerate() {
            for (c, cell) in cells.iter().enumerate() {
                let got = range.get((header_row + 1 + i, c));
                match cell {
                    Cell::Text(text) => assert_eq!(got, Some(&Data::String(text.clone()))),
                    Cell::Integer(n) => assert_eq!(got, Some(&Data::Float(*n as f64))),
                    Cell::Decimal(x, _) | Cell::Percent(x) => {
                        assert_eq!(got, Some(&Data::Float(*x)))
                    }
                    Cell::Empty => assert!(matches!(got, None | Some(Data::Empty))),
                }
            }
        }

        // Chart numbers are in section I's sheet, with a native chart beside them.
        let range = workbook.worksheet_range(&names[1]).unwrap();
        let values: Vec<f64> = range
            .used_cells()
            .filter_map(|(_, _, d)| {
                if let Data::Float(x) = d {
                    Some(*x)
                } else {
                    None
                }
            })
            .collect();
        assert!(values.contains(&610_000.0) && values.contains(&240.0));
        assert!(values.contains(&0.9876));

        let sources = workbook.worksheet_range(SOURCES_SHEET).unwrap();
        assert_eq!(sources.height(), document.figures.len() + 1);
        for (i, figure) in document.figures.iter().enumerate() {
            let row: Vec<String> = (0..4)
                .map(|c| {
                    sources
                        .get((i + 1, c))
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                })
                .collect();
            assert_eq!(
                row,
                [&*figure.id, &figure.label, &figure.value, &figure.query]
            );
        }
    }

    #[test]
    fn q17_6_the_workbook_has_a_native_chart_per_chart() {
        let bytes = render(&sample()).unwrap();
        let zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
        let charts = zip
            .file_names()
            .filter(|name| {
                name.as_ref()
                    .is_ok_and(|n| n.starts_with("xl/charts/chart"))
            })
            .count();
        assert_eq!(charts, 2);
        // One document, one file.
        assert!(render(&sample()).unwrap() == bytes);
    }
}
