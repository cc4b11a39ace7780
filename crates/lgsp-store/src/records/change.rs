//! Changing the Table Schema of a dataset that already has records, in one transaction: every
//! current record is first checked against the new schema (types, constraints, keys); if any
//! fails, nothing changes and the offending rows are named. Otherwise the table is rebuilt
//! with the new columns, every version (current and past, with its system-time interval and
//! row id) copied across, its values converted to the new types, and the indexes recreated.
//! The old table is kept, renamed, with the old schema in `dataset_schemas`.
//!
//! Limits: reads `as_of` an instant before the change use the new schema's columns (a dropped
//! column's past values stay only in the archived table; a past value that does not convert
//! to a new type is NULL in the rebuilt table, its original in the archived one).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use lgsp_core::catalog::DatasetId;
use lgsp_core::table_schema::{parse_cell, CellValue, FieldType, RowValidator, TableSchema};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::Row;

use super::{table_statements, RecordTable};
use crate::{now, on_pool, Backend, Result, Store, StoreError};

/// Conflicts listed in a refusal; more are counted.
const MAX_CONFLICTS: usize = 100;
/// Record versions read (and written) at a time while checking and copying.
const PAGE: i64 = 1_000;

/// A current record the new schema does not accept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaConflict {
    /// The record's primary key (values joined by `,`), or `_id=N` without one.
    pub row: String,
    /// The field at fault, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// The outcome of a schema change.
#[derive(Debug)]
pub enum SchemaChange {
    Applied(RecordTable),
    /// Nothing changed: `conflicts` lists up to 100 of the `total` problems.
    Refused {
        total: usize,
        conflicts: Vec<SchemaConflict>,
    },
}

/// A value as Table Schema text (what a CSV cell holding it reads as), `None` for NULL.
pub fn cell_text(value: &CellValue) -> Option<String> {
    Some(match value {
        CellValue::Null => return None,
        CellValue::String(v) => v.clone(),
        CellValue::Integer(v) => v.to_string(),
        CellValue::Year(v) => v.to_string(),
        CellValue::Number(v) if v.is_nan() => "NaN".into(),
        CellValue::Number(v) if v.is_infinite() => if *v > 0.0 { "INF" } else { "-INF" }.into(),
        CellValue::Number(v) => v.to_string(),
        CellValue::Boolean(v) => v.to_string(),
        CellValue::Date(v) => v.format("%Y-%m-%d").to_string(),
        CellValue::Datetime(v) => v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        CellValue::Time(v) => v.format("%H:%M:%S").to_string(),
        CellValue::Geopoint([lon, lat]) => format!("{lon},{lat}"),
    })
}

fn select_columns(schema: &TableSchema) -> String {
    let names: Vec<String> = schema
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect();
    names.join(", ")
}

impl Store {
    /// The key values (as Table Schema text) of `fields` in the current records of a dataset,
    /// for foreign-key checks against it. `None` when the dataset has no table or lacks one of
    /// the fields.
    pub async fn current_key_values(
        &self,
        dataset: &DatasetId,
        fields: &[String],
    ) -> Result<Option<HashSet<Vec<String>>>> {
        let Some(table) = self.record_table(dataset).await? else {
            return Ok(None);
        };
        let mut kinds = Vec::new();
        for name in fields {
            match table.schema.fields.iter().find(|f| &f.name == name) {
                Some(field) => kinds.push(field.kind),
                None => return Ok(None),
            }
        }
        let quoted: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
        let sql = format!(
            "SELECT _id, {} FROM \"{}\" WHERE _valid_to IS NULL AND _id > $1 ORDER BY _id LIMIT {PAGE}",
            quoted.join(", "),
            table.table
        );
        let mut values = HashSet::new();
        let mut after = 0i64;
        loop {
            let page: Vec<(i64, Vec<CellValue>)> = on_pool!(self, |pool| {
                let rows = sqlx::query(&sql).bind(after).fetch_all(pool).await?;
                let mut page = Vec::with_capacity(rows.len());
                for row in &rows {
                    let mut cells = Vec::with_capacity(kinds.len());
                    for (i, kind) in kinds.iter().enumerate() {
                        cells.push(read_cell!(row, i + 1, *kind));
                    }
                    page.push((row.try_get::<i64, _>(0)?, cells));
                }
                page
            });
            let Some(last) = page.last() else { break };
            after = last.0;
            for (_, cells) in page {
                values.insert(
                    cells
                        .iter()
                        .map(|c| cell_text(c).unwrap_or_default())
                        .collect(),
                );
            }
        }
        Ok(Some(values))
    }

    /// Gives a dataset that has a table of records a new schema (see the module's doc).
    pub async fn change_record_table(
        &self,
        dataset: &DatasetId,
        schema: &TableSchema,
    ) -> Result<SchemaChange> {
        let table = self
            .record_table(dataset)
            .await?
            .ok_or(StoreError::NotFound("record table"))?;
        if table.schema == *schema {
            return Ok(SchemaChange::Applied(table));
        }
        let backend = self.backend();
        let old = &table.schema;
        let name = &table.table;
        let current_page = format!(
            "SELECT _id, {} FROM \"{name}\" WHERE _valid_to IS NULL AND _id > $1 ORDER BY _id LIMIT {PAGE}",
            select_columns(old)
        );
        // Where each new field comes from in the old schema.
        let sources: Vec<Option<usize>> = schema
            .fields
            .iter()
            .map(|f| old.fields.iter().position(|o| o.name == f.name))
            .collect();
        let old_key: Vec<usize> = old
            .primary_key
            .iter()
            .filter_map(|k| old.fields.iter().position(|f| &f.name == k))
            .collect();
        let header: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
        let blank = schema.missing_values.first().cloned().unwrap_or_default();
        let at = now();

        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            // Take the write lock first, so that no import slips between the check and the change.
            if backend == Backend::Postgres {
                sqlx::query(&format!("LOCK TABLE \"{name}\" IN EXCLUSIVE MODE"))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE dataset_tables SET table_name = table_name WHERE dataset_id = $1")
                .bind(dataset.as_str())
                .execute(&mut *tx)
                .await?;

            // 1. Every current record against the new schema.
            let (mut validator, _) = RowValidator::new(schema, &header, Vec::new());
            let mut conflicts = Vec::new();
            let mut total = 0;
            let mut after = 0i64;
            let mut row_number = 1;
            loop {
                let rows = sqlx::query(&current_page)
                    .bind(after)
                    .fetch_all(&mut *tx)
                    .await?;
                let Some(last) = rows.last() else { break };
                after = last.try_get::<i64, _>(0)?;
                for row in &rows {
                    let mut values = Vec::with_capacity(old.fields.len());
                    for (i, field) in old.fields.iter().enumerate() {
                        values.push(read_cell!(row, i + 1, field.kind));
                    }
                    let cells: Vec<String> = sources
                        .iter()
                        .map(|source| {
                            source
                                .and_then(|i| cell_text(&values[i]))
                                .unwrap_or_else(|| blank.clone())
                        })
                        .collect();
                    let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                    row_number += 1;
                    if let Err(errors) = validator.check(row_number, &cells) {
                        let id = if old_key.is_empty() {
                            format!("_id={}", row.try_get::<i64, _>(0)?)
                        } else {
                            old_key
                                .iter()
                                .map(|&i| cell_text(&values[i]).unwrap_or_default())
                                .collect::<Vec<_>>()
                                .join(",")
                        };
                        total += errors.len();
                        for error in errors {
                            if conflicts.len() < MAX_CONFLICTS {
                                conflicts.push(SchemaConflict {
                                    row: id.clone(),
                                    field: error.field_name,
                                    message: error.message,
                                });
                            }
                        }
                    }
                }
            }
            if total > 0 {
                return Ok(SchemaChange::Refused { total, conflicts });
            }

            // 2. Keep the old table as an archive; build the new one.
            let archived: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM dataset_schemas WHERE dataset_id = $1")
                    .bind(dataset.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
            let archive = format!("{name}__v{}", archived + 1);
            sqlx::query(&format!("ALTER TABLE \"{name}\" RENAME TO \"{archive}\""))
                .execute(&mut *tx)
                .await?;
            let mut drops = vec![format!("DROP INDEX IF EXISTS \"{name}_current\"")];
            for n in 0..=old.foreign_keys.len() {
                drops.push(format!("DROP INDEX IF EXISTS \"{name}_key{n}\""));
            }
            if backend == Backend::Postgres {
                drops.push(format!(
                    "ALTER INDEX IF EXISTS \"{name}_pkey\" RENAME TO \"{archive}_pkey\""
                ));
            }
            for statement in drops.iter().chain(&table_statements(name, schema, backend)) {
                sqlx::query(statement).execute(&mut *tx).await?;
            }

            // 3. Every version across, converted.
            let versions_page = format!(
                "SELECT _id, _valid_from, _valid_to, {} FROM \"{archive}\" WHERE _id > $1 ORDER BY _id LIMIT {PAGE}",
                select_columns(old)
            );
            let columns = 3 + schema.fields.len();
            let overriding = match backend {
                Backend::Postgres => " OVERRIDING SYSTEM VALUE",
                Backend::Sqlite => "",
            };
            let mut after = 0i64;
            loop {
                let rows = sqlx::query(&versions_page)
                    .bind(after)
                    .fetch_all(&mut *tx)
                    .await?;
                let Some(last) = rows.last() else { break };
                after = last.try_get::<i64, _>(0)?;
                let sql = format!(
                    "INSERT INTO \"{name}\" (_id, _valid_from, _valid_to, {}){overriding} VALUES {}",
                    select_columns(schema),
                    crate::value_lists(rows.len(), columns, 1, backend)
                );
                let mut insert = sqlx::query(&sql);
                for row in &rows {
                    insert = insert
                        .bind(row.try_get::<i64, _>(0)?)
                        .bind(row.try_get::<DateTime<Utc>, _>(1)?)
                        .bind(row.try_get::<Option<DateTime<Utc>>, _>(2)?);
                    for (field, source) in schema.fields.iter().zip(&sources) {
                        let value = match source {
                            Some(i) => {
                                let value = read_cell!(row, i + 3, old.fields[*i].kind);
                                if old.fields[*i].kind == field.kind {
                                    value
                                } else {
                                    cell_text(&value)
                                        .and_then(|text| parse_cell(field, &text).ok())
                                        .unwrap_or(CellValue::Null)
                                }
                            }
                            None => CellValue::Null,
                        };
                        insert = bind_cell!(insert, field.kind, &value);
                    }
                }
                insert.execute(&mut *tx).await?;
            }
            if backend == Backend::Postgres {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('\"{name}\"', '_id'), (SELECT COALESCE(MAX(_id), 0) + 1 FROM \"{name}\"), false)"
                ))
                .execute(&mut *tx)
                .await?;
            }

            // 4. The new schema in force, the old one in the history.
            sqlx::query(
                "INSERT INTO dataset_schemas (dataset_id, table_schema, archive_table, replaced_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(dataset.as_str())
            .bind(Json(old))
            .bind(&archive)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE dataset_tables SET table_schema = $2, last_change_at = $3 WHERE dataset_id = $1",
            )
            .bind(dataset.as_str())
            .bind(Json(schema))
            .bind(at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        let changed = self
            .record_table(dataset)
            .await?
            .ok_or(StoreError::NotFound("record table"))?;
        Ok(SchemaChange::Applied(changed))
    }
}
