//! Validating a CSV file against a Table Schema, streaming: one record in memory at a time (plus
//! what uniqueness checks must remember). The report has Frictionless's shape, so it reads the
//! same as `frictionless validate` on the same file and schema.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx, XlsxError};
use lgsp_core::table_schema::{CellValue, FieldType, ReportError, RowValidator, TableSchema};
use serde::Serialize;

use super::import::SecretWatch;

/// Errors kept in a report; more are counted but not listed.
const MAX_LISTED_ERRORS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub rows: usize,
    pub errors: usize,
    pub fields: usize,
}

/// A validation report, shaped like Frictionless's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub valid: bool,
    pub stats: Stats,
    pub errors: Vec<ReportError>,
}

/// Why a file could not be read at all (as opposed to rows being invalid).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the file is not UTF-8 text (line {line}); save it as UTF-8 and try again")]
    NotUtf8 { line: u64 },
    #[error("the file is empty: a header row is required")]
    Empty,
    #[error("the file cannot be read as CSV: {0}")]
    Csv(String),
    #[error("the file cannot be read as an XLSX workbook: {0}")]
    Spreadsheet(String),
    #[error("the workbook has no sheet named `{0}`")]
    NoSuchSheet(String),
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
}

impl From<csv::Error> for ReadError {
    fn from(error: csv::Error) -> Self {
        match error.kind() {
            csv::ErrorKind::Utf8 { pos, .. } => Self::NotUtf8 {
                line: pos.as_ref().map_or(0, csv::Position::line),
            },
            csv::ErrorKind::Io(_) => match error.into_kind() {
                csv::ErrorKind::Io(io) => Self::Io(io),
                _ => unreachable!("checked above"),
            },
            _ => Self::Csv(error.to_string()),
        }
    }
}

/// The delimiter of a CSV file: whichever of `,`, `;` and tab is most frequent, outside quotes,
/// in its first line (comma when none appears).
fn sniff_delimiter(first_line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in first_line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        [b',', b';', b'\t'][best]
    }
}

/// Valid rows' counter, for progress: bumped every [`PROGRESS_EVERY`] rows, not per row.
pub type RowCounter = std::sync::atomic::AtomicU64;

/// How often the rows-read counter moves.
pub const PROGRESS_EVERY: usize = 1000;

/// What a file's rows go through: the schema's validator, the report's errors, and the
/// progress counter.
struct Checker<'a, F> {
    validator: RowValidator<'a>,
    /// The state-secret guard over every cell, valid or not (imports).
    watch: Option<&'a mut SecretWatch>,
    errors: Vec<ReportError>,
    total_errors: usize,
    rows: usize,
    read: Option<&'a RowCounter>,
    on_valid_row: F,
}

impl<'a, F: FnMut(Vec<CellValue>)> Checker<'a, F> {
    fn new(
        schema: &'a TableSchema,
        header: &[String],
        references: Vec<HashSet<Vec<String>>>,
        read: Option<&'a RowCounter>,
        watch: Option<&'a mut SecretWatch>,
        on_valid_row: F,
    ) -> Self {
        let (validator, errors) = RowValidator::new(schema, header, references);
        let total_errors = errors.len();
        let mut watch = watch;
        if let Some(watch) = watch.as_deref_mut() {
            watch.header(header);
        }
        Self {
            validator,
            watch,
            errors,
            total_errors,
            rows: 0,
            read,
            on_valid_row,
        }
    }

    /// Checks one data row; `row_number` is its number in the file (the header is row 1 of
    /// a CSV file).
    fn row(&mut self, row_number: usize, cells: &[&str]) {
        self.rows += 1;
        if let Some(watch) = self.watch.as_deref_mut() {
            watch.row(row_number, cells);
        }
        match self.validator.check(row_number, cells) {
            Ok(values) => (self.on_valid_row)(values),
            Err(row_errors) => {
                self.total_errors += row_errors.len();
                let room = MAX_LISTED_ERRORS.saturating_sub(self.errors.len());
                self.errors.extend(row_errors.into_iter().take(room));
            }
        }
        if self.rows % PROGRESS_EVERY == 0 {
            self.count();
        }
    }

    fn count(&self) {
        if let Some(read) = self.read {
            read.store(self.rows as u64, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn report(self, schema: &TableSchema) -> Report {
        self.count();
        Report {
            valid: self.total_errors == 0,
            stats: Stats {
                rows: self.rows,
                errors: self.total_errors,
                fields: schema.fields.len(),
            },
            errors: self.errors,
        }
    }
}

/// Validates `input` (UTF-8 with or without BOM; comma, semicolon or tab; quoted fields; CRLF)
/// against `schema`. `references` holds, per foreign key, the referenced key values; an empty
/// list skips foreign-key checks. `on_valid_row` receives every valid row's typed values, so
/// an import can stream them on.
pub fn validate_csv<R: Read>(
    input: R,
    schema: &TableSchema,
    references: Vec<HashSet<Vec<String>>>,
    on_valid_row: impl FnMut(Vec<CellValue>),
) -> Result<Report, ReadError> {
    validate_csv_counted(input, schema, references, None, None, on_valid_row)
}

/// [`validate_csv`], keeping `read` at the number of rows read so far.
pub fn validate_csv_counted<R: Read>(
    input: R,
    schema: &TableSchema,
    references: Vec<HashSet<Vec<String>>>,
    read: Option<&RowCounter>,
    watch: Option<&mut SecretWatch>,
    on_valid_row: impl FnMut(Vec<CellValue>),
) -> Result<Report, ReadError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, input);
    let head = buffered.fill_buf()?;
    if head.is_empty() {
        return Err(ReadError::Empty);
    }
    let bom = head.starts_with(b"\xEF\xBB\xBF");
    if bom {
        buffered.consume(3);
    }
    let head = buffered.fill_buf()?;
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = sniff_delimiter(first_line);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(buffered);
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(ReadError::Empty);
    }
    let mut checker = Checker::new(schema, &header, references, read, watch, on_valid_row);
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record)? {
        let cells: Vec<&str> = record.iter().collect();
        checker.row(checker.rows + 2, &cells);
    }
    Ok(checker.report(schema))
}

/// The text a spreadsheet cell stands for, as the schema's field type reads it: numbers
/// without a needless `.0`, dates as ISO 8601, booleans as `true`/`false`, error values
/// (`#DIV/0!`) as themselves so that they fail typed fields. Formula cells arrive with their
/// cached value: nothing is ever evaluated.
fn cell_text(cell: &Data, kind: Option<FieldType>) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(x) => {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", *x as i64)
            } else {
                x.to_string()
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::Error(error) => error.to_string(),
        Data::DateTime(value) => match value.as_datetime() {
            Some(at) if !value.is_duration() => match kind {
                Some(FieldType::Date) => at.format("%Y-%m-%d").to_string(),
                Some(FieldType::Time) => at.format("%H:%M:%S").to_string(),
                Some(FieldType::Year) => at.format("%Y").to_string(),
                Some(FieldType::Datetime) => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
                _ if at.time() == chrono::NaiveTime::MIN => at.format("%Y-%m-%d").to_string(),
                _ => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            },
            _ => value.as_f64().to_string(),
        },
    }
}

/// Validates the first sheet (or the one named `sheet`) of an XLSX workbook against
/// `schema`, like [`validate_csv`]: its first row holds the field names, and `rowNumber`s in
/// the report are the sheet's own row numbers. The workbook is read whole (XLSX is a zip
/// archive: it cannot stream), so callers bound its size.
pub fn validate_xlsx(
    bytes: Vec<u8>,
    sheet: Option<&str>,
    schema: &TableSchema,
    references: Vec<HashSet<Vec<String>>>,
    read: Option<&RowCounter>,
    watch: Option<&mut SecretWatch>,
    on_valid_row: impl FnMut(Vec<CellValue>),
) -> Result<Report, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    let spreadsheet = |e: XlsxError| ReadError::Spreadsheet(e.to_string());
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(spreadsheet)?;
    let range = match sheet {
        Some(name) => {
            if !workbook.sheet_names().iter().any(|s| s == name) {
                return Err(ReadError::NoSuchSheet(name.to_owned()));
            }
            workbook.worksheet_range(name).map_err(spreadsheet)?
        }
        None => workbook
            .worksheet_range_at(0)
            .ok_or(ReadError::Empty)?
            .map_err(spreadsheet)?,
    };
    let Some((first_row, _)) = range.start() else {
        return Err(ReadError::Empty);
    };
    let mut rows = range.rows();
    let mut header: Vec<String> = rows
        .next()
        .map(|cells| {
            cells
                .iter()
                .map(|c| cell_text(c, None).trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    // The sheet's used range may be wider than its header (cells further right below it).
    let width = header
        .iter()
        .rposition(|t| !t.is_empty())
        .map_or(0, |i| i + 1);
    header.truncate(width);
    if header.is_empty() {
        return Err(ReadError::Empty);
    }
    let kinds: Vec<Option<FieldType>> = header
        .iter()
        .map(|name| {
            schema
                .fields
                .iter()
                .find(|f| &f.name == name)
                .map(|f| f.kind)
        })
        .collect();
    let mut checker = Checker::new(schema, &header, references, read, watch, on_valid_row);
    for (n, cells) in rows.enumerate() {
        let texts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| cell_text(cell, kinds.get(i).copied().flatten()))
            .collect();
        // Empty cells right of the header are no cells; filled ones are extra cells.
        let used = texts
            .iter()
            .rposition(|t| !t.is_empty())
            .map_or(0, |i| i + 1)
            .max(width)
            .min(texts.len());
        let cells: Vec<&str> = texts[..used].iter().map(String::as_str).collect();
        checker.row(first_row as usize + 2 + n, &cells);
    }
    Ok(checker.report(schema))
}

#[cfg(test)]
mod tests {
    use lgsp_core::table_schema::ErrorType;

    use super::*;

    fn schema() -> TableSchema {
        serde_json::from_value(serde_json::json!({
            "fields": [
                {"name": "ma", "type": "integer", "constraints": {"required": true}},
                {"name": "ten", "type": "string"}
            ],
            "primaryKey": "ma"
        }))
        .unwrap()
    }

    /// Each listed error's type and row.
    fn found(report: &Report) -> Vec<(ErrorType, Option<usize>)> {
        report
            .errors
            .iter()
            .map(|e| (e.kind, e.row_number))
            .collect()
    }

    fn check(bytes: &[u8]) -> Result<Report, ReadError> {
        validate_csv(bytes, &schema(), Vec::new(), |_| {})
    }

    #[test]
    fn q15_2_d_csv_dialects_all_read_the_same() {
        for file in [
            &b"ma,ten\n347,Ph\xe1\xbb\xa7 L\xc3\xbd\n349,\"Duy Ti\xc3\xaan, H\xc3\xa0 Nam\"\n"[..],
            b"\xEF\xBB\xBFma;ten\r\n347;Ph\xe1\xbb\xa7 L\xc3\xbd\r\n349;\"Duy Ti\xc3\xaan, H\xc3\xa0 Nam\"\r\n",
            b"ma\tten\n347\tPh\xe1\xbb\xa7 L\xc3\xbd\n349\t\"Duy Ti\xc3\xaan, H\xc3\xa0 Nam\"\n",
        ] {
            let report = check(file).unwrap();
            assert!(report.valid, "{report:?}");
            assert_eq!(report.stats.rows, 2);
        }
    }

    #[test]
    fn q15_2_d_invalid_rows_are_reported_with_their_numbers() {
        let mut valid_rows = Vec::new();
        let report = validate_csv(
            &b"ma,ten\n1,a\nx,b\n1,c\n,,\n"[..],
            &schema(),
            Vec::new(),
            |row| valid_rows.push(row),
        )
        .unwrap();
        assert!(!report.valid);
        assert_eq!(
            found(&report),
            [
                (ErrorType::TypeError, Some(3)),
                (ErrorType::PrimaryKey, Some(3)),
                (ErrorType::PrimaryKey, Some(4)),
                (ErrorType::BlankRow, Some(5)),
                (ErrorType::PrimaryKey, Some(5)),
            ]
        );
        assert_eq!(valid_rows.len(), 1);
        assert_eq!(report.stats.errors, 5);
    }

    #[test]
    fn non_utf8_and_empty_files_get_clear_errors() {
        let latin1 = b"ma,ten\n347,Ph\xfb L\xfd\n";
        let error = check(latin1).unwrap_err();
        assert!(matches!(error, ReadError::NotUtf8 { line: 2 }), "{error:?}");
        assert!(error.to_string().contains("UTF-8"));
        assert!(matches!(check(b""), Err(ReadError::Empty)));
    }

    #[test]
    fn delimiters_are_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a;b;c"), b';');
        assert_eq!(sniff_delimiter(b"\"a,b\";c"), b';');
        assert_eq!(sniff_delimiter(b"a\tb"), b'\t');
        assert_eq!(sniff_delimiter(b"abc"), b',');
    }

    #[test]
    fn q15_2_d_cells_read_as_the_field_types_want() {
        use calamine::{CellErrorType, Data, ExcelDateTime, ExcelDateTimeType};
        assert_eq!(cell_text(&Data::Float(3.0), Some(FieldType::Integer)), "3");
        assert_eq!(cell_text(&Data::Float(0.1), None), "0.1");
        assert_eq!(cell_text(&Data::Float(1e20), None), "100000000000000000000");
        assert_eq!(cell_text(&Data::Bool(true), None), "true");
        assert_eq!(
            cell_text(&Data::Error(CellErrorType::Div0), None),
            "#DIV/0!"
        );
        let day = Data::DateTime(ExcelDateTime::new(
            45000.5,
            ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&day, Some(FieldType::Date)), "2023-03-15");
        assert_eq!(
            cell_text(&day, Some(FieldType::Datetime)),
            "2023-03-15T12:00:00"
        );
        assert_eq!(cell_text(&day, Some(FieldType::Time)), "12:00:00");
        assert_eq!(cell_text(&day, Some(FieldType::Year)), "2023");
        assert_eq!(cell_text(&day, None), "2023-03-15T12:00:00");
    }

    #[test]
    fn q15_2_d_sheet_rows_keep_their_numbers_wherever_the_table_starts() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        // The table starts at B3; a note two columns right of the header makes two extra
        // cells, as `x,c,,ghi chú` would in a CSV file.
        sheet.write_string(2, 1, "ma").unwrap();
        sheet.write_string(2, 2, "ten").unwrap();
        sheet.write_number(3, 1, 1).unwrap();
        sheet.write_string(3, 2, "a").unwrap();
        sheet.write_number(5, 1, 2).unwrap();
        sheet.write_string(6, 1, "x").unwrap();
        sheet.write_string(6, 2, "c").unwrap();
        sheet.write_string(6, 4, "ghi chú").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let mut valid = 0;
        let report = validate_xlsx(bytes, None, &schema(), Vec::new(), None, None, |_| {
            valid += 1
        })
        .unwrap();
        assert_eq!(
            found(&report),
            [
                (ErrorType::BlankRow, Some(5)),
                (ErrorType::PrimaryKey, Some(5)),
                (ErrorType::TypeError, Some(7)),
                (ErrorType::ExtraCell, Some(7)),
                (ErrorType::ExtraCell, Some(7)),
                (ErrorType::PrimaryKey, Some(7)),
            ]
        );
        assert_eq!(valid, 2);
        assert_eq!(report.stats.rows, 4);
    }
}
