//! Validating a CSV file against a Table Schema, streaming: one record in memory at a time (plus
//! what uniqueness checks must remember). The report has Frictionless's shape, so it reads the
//! same as `frictionless validate` on the same file and schema.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};

use lgsp_core::table_schema::{CellValue, ReportError, RowValidator, TableSchema};
use serde::Serialize;

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

/// Validates `input` (UTF-8 with or without BOM; comma, semicolon or tab; quoted fields; CRLF)
/// against `schema`. `references` holds, per foreign key, the referenced key values; an empty
/// list skips foreign-key checks. `on_valid_row` receives every valid row's typed values, so
/// an import can stream them on.
pub fn validate_csv<R: Read>(
    input: R,
    schema: &TableSchema,
    references: Vec<HashSet<Vec<String>>>,
    mut on_valid_row: impl FnMut(Vec<CellValue>),
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
    let (mut validator, mut errors) = RowValidator::new(schema, &header, references);
    let mut total_errors = errors.len();
    let mut rows = 0;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record)? {
        rows += 1;
        let cells: Vec<&str> = record.iter().collect();
        match validator.check(rows + 1, &cells) {
            Ok(values) => on_valid_row(values),
            Err(row_errors) => {
                total_errors += row_errors.len();
                let room = MAX_LISTED_ERRORS.saturating_sub(errors.len());
                errors.extend(row_errors.into_iter().take(room));
            }
        }
    }
    Ok(Report {
        valid: total_errors == 0,
        stats: Stats {
            rows,
            errors: total_errors,
            fields: schema.fields.len(),
        },
        errors,
    })
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
        let found: Vec<(ErrorType, Option<usize>)> = report
            .errors
            .iter()
            .map(|e| (e.kind, e.row_number))
            .collect();
        assert_eq!(
            found,
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
}
