//! Reads: the records current at an instant, filtered, ordered and paged (the query language
//! of [`lgsp_core::record_query`], already checked against the schema), as one page, as a
//! count, or as a stream of batches for downloads.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use futures_util::StreamExt;
use lgsp_core::record_query::{Filter, Op, RecordQuery, EFFECTIVE_FROM, EFFECTIVE_TO};
use lgsp_core::table_schema::{CellValue, FieldType};
use sqlx::Row;
use tokio::sync::mpsc;

use super::RecordTable;
use crate::{on_pool, Backend, Result, Store, StoreError};

/// One record version: its row id (stable, used by cursors) and its values in schema order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub row: i64,
    pub values: Vec<CellValue>,
}

/// How many records a download batch holds.
const BATCH: usize = 1_000;

/// SQL text with its typed parameters; `$1` is always the `as_of` instant.
struct Statement {
    sql: String,
    binds: Vec<(FieldType, CellValue)>,
}

impl Statement {
    fn bind(&mut self, kind: FieldType, value: CellValue) -> String {
        self.binds.push((kind, value));
        format!("${}", self.binds.len() + 1)
    }
}

/// The conditions a record must meet: current at `as_of`, in effect (code lists), matching
/// every filter, after the cursor.
fn conditions(
    table: &RecordTable,
    query: &RecordQuery,
    backend: Backend,
    with_cursor: bool,
) -> Result<(Vec<String>, Statement)> {
    let mut statement = Statement {
        sql: String::new(),
        binds: Vec::new(),
    };
    let mut conditions = vec![
        "_valid_from <= $1".to_owned(),
        "(_valid_to IS NULL OR _valid_to > $1)".to_owned(),
    ];
    let kind_of = |name: &str| {
        table
            .schema
            .fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.kind)
            .ok_or_else(|| StoreError::MissingReference(format!("no field `{name}`")))
    };
    if let Some(day) = query.effective_on {
        for (name, compare) in [(EFFECTIVE_FROM, "<="), (EFFECTIVE_TO, ">")] {
            if matches!(kind_of(name), Ok(FieldType::Date)) {
                let p = statement.bind(FieldType::Date, CellValue::Date(day));
                conditions.push(format!("(\"{name}\" IS NULL OR \"{name}\" {compare} {p})"));
            }
        }
    }
    if let Some(search) = query.search.as_ref().filter(|s| !s.fields.is_empty()) {
        let pattern = format!("%{}%", like_escape(&search.text));
        let p = statement.bind(FieldType::String, CellValue::String(pattern));
        let operator = match backend {
            Backend::Postgres => "ILIKE",
            Backend::Sqlite => "LIKE",
        };
        let mut any = Vec::new();
        for name in &search.fields {
            if kind_of(name)? == FieldType::String {
                any.push(format!("\"{name}\" {operator} {p} ESCAPE '\\'"));
            }
        }
        if !any.is_empty() {
            conditions.push(format!("({})", any.join(" OR ")));
        }
    }
    for filter in &query.filters {
        let kind = kind_of(&filter.field)?;
        let condition = filter_sql(filter, kind, backend, &mut statement);
        conditions.push(if filter.negated {
            format!("NOT ({condition})")
        } else {
            condition
        });
    }
    if let (true, Some(cursor)) = (with_cursor, &query.after) {
        // Rows after the cursor in the query's order: for some key i, every earlier key equal
        // and key i strictly after; or every key equal and a later row id.
        let mut alternatives = Vec::new();
        let mut equal_so_far: Vec<String> = Vec::new();
        for (key, value) in query.order.iter().zip(&cursor.values) {
            let kind = kind_of(&key.field)?;
            let column = format!("\"{}\"", key.field);
            let nulls_first = key.nulls_first.unwrap_or(key.descending);
            let after = match value {
                CellValue::Null if nulls_first => Some(format!("{column} IS NOT NULL")),
                CellValue::Null => None,
                value => {
                    let p = statement.bind(kind, value.clone());
                    let compare = if key.descending { "<" } else { ">" };
                    Some(if nulls_first {
                        format!("{column} {compare} {p}")
                    } else {
                        format!("({column} {compare} {p} OR {column} IS NULL)")
                    })
                }
            };
            if let Some(after) = after {
                let mut parts = equal_so_far.clone();
                parts.push(after);
                alternatives.push(format!("({})", parts.join(" AND ")));
            }
            equal_so_far.push(match value {
                CellValue::Null => format!("{column} IS NULL"),
                value => format!("{column} = {}", statement.bind(kind, value.clone())),
            });
        }
        equal_so_far.push(format!(
            "_id > {}",
            statement.bind(FieldType::Integer, CellValue::Integer(cursor.row))
        ));
        alternatives.push(format!("({})", equal_so_far.join(" AND ")));
        conditions.push(format!("({})", alternatives.join(" OR ")));
    }
    Ok((conditions, statement))
}

fn filter_sql(filter: &Filter, kind: FieldType, backend: Backend, s: &mut Statement) -> String {
    let column = format!("\"{}\"", filter.field);
    let first = || filter.values.first().cloned().unwrap_or(CellValue::Null);
    let compare = |s: &mut Statement, operator: &str| {
        format!("{column} {operator} {}", s.bind(kind, first()))
    };
    match filter.op {
        Op::Eq => compare(s, "="),
        Op::Neq => compare(s, "<>"),
        Op::Gt => compare(s, ">"),
        Op::Gte => compare(s, ">="),
        Op::Lt => compare(s, "<"),
        Op::Lte => compare(s, "<="),
        Op::Like | Op::Ilike => {
            let pattern = match first() {
                CellValue::String(p) => p,
                _ => String::new(),
            };
            match (backend, filter.op) {
                // GLOB is SQLite's case-sensitive match: `*` is already its wildcard; `?` and
                // `[` must be literal.
                (Backend::Sqlite, Op::Like) => {
                    let glob = pattern.replace('[', "[[]").replace('?', "[?]");
                    format!("{column} GLOB {}", s.bind(kind, CellValue::String(glob)))
                }
                (backend, op) => {
                    let like = like_escape(&pattern).replace('*', "%");
                    let operator = match (backend, op) {
                        (Backend::Postgres, Op::Ilike) => "ILIKE",
                        _ => "LIKE", // SQLite's LIKE ignores ASCII case
                    };
                    let p = s.bind(kind, CellValue::String(like));
                    format!("{column} {operator} {p} ESCAPE '\\'")
                }
            }
        }
        Op::In => {
            let placeholders: Vec<String> = filter
                .values
                .iter()
                .map(|v| s.bind(kind, v.clone()))
                .collect();
            format!("{column} IN ({})", placeholders.join(", "))
        }
        Op::IsNull => format!("{column} IS NULL"),
        Op::IsTrue => format!("{column} IS TRUE"),
        Op::IsFalse => format!("{column} IS FALSE"),
    }
}

/// Text matched literally by LIKE … ESCAPE '\'.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn order_by(query: &RecordQuery) -> String {
    let mut keys: Vec<String> = query
        .order
        .iter()
        .map(|key| {
            // Both backends put NULLs where PostgreSQL does by default, unless asked.
            let nulls_first = key.nulls_first.unwrap_or(key.descending);
            format!(
                "\"{}\" {} NULLS {}",
                key.field,
                if key.descending { "DESC" } else { "ASC" },
                if nulls_first { "FIRST" } else { "LAST" }
            )
        })
        .collect();
    keys.push("_id ASC".to_owned());
    keys.join(", ")
}

fn select_sql(table: &RecordTable, query: &RecordQuery, backend: Backend) -> Result<Statement> {
    let (conditions, mut statement) = conditions(table, query, backend, true)?;
    let names: Vec<String> = table
        .schema
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect();
    let mut sql = format!(
        "SELECT _id, {} FROM \"{}\" WHERE {} ORDER BY {}",
        names.join(", "),
        table.table,
        conditions.join(" AND "),
        order_by(query)
    );
    if let Some(limit) = query.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    } else if query.offset > 0 {
        sql.push_str(if backend == Backend::Sqlite {
            " LIMIT -1"
        } else {
            " LIMIT ALL"
        });
    }
    if query.offset > 0 {
        sql.push_str(&format!(" OFFSET {}", query.offset));
    }
    statement.sql = sql;
    Ok(statement)
}

/// Runs a statement's select with its binds, handing each record to `$each`.
macro_rules! fetch_records {
    ($pool:expr, $table:expr, $as_of:expr, $statement:expr, |$record:ident| $each:expr) => {{
        let mut select = sqlx::query(&$statement.sql).bind($as_of);
        for (kind, value) in &$statement.binds {
            select = bind_cell!(select, *kind, value);
        }
        let mut rows = select.fetch($pool);
        while let Some(row) = rows.next().await {
            let row = row?;
            let mut values = Vec::with_capacity($table.schema.fields.len());
            for (i, field) in $table.schema.fields.iter().enumerate() {
                values.push(read_cell!(&row, i + 1, field.kind));
            }
            let $record = Record {
                row: row.try_get::<i64, _>(0)?,
                values,
            };
            $each
        }
    }};
}

impl Store {
    /// The records matching `query`, in its order, one page.
    pub async fn records(&self, table: &RecordTable, query: &RecordQuery) -> Result<Vec<Record>> {
        let statement = select_sql(table, query, self.backend())?;
        let mut records = Vec::new();
        on_pool!(self, |pool| {
            fetch_records!(pool, table, query.as_of, statement, |record| records
                .push(record))
        });
        Ok(records)
    }

    /// How many records match `query`'s conditions (its cursor, limit and offset aside).
    pub async fn count_records(&self, table: &RecordTable, query: &RecordQuery) -> Result<u64> {
        let (conditions, statement) = conditions(table, query, self.backend(), false)?;
        let sql = format!(
            "SELECT COUNT(*) FROM \"{}\" WHERE {}",
            table.table,
            conditions.join(" AND ")
        );
        let count: i64 = on_pool!(self, |pool| {
            let mut select = sqlx::query_scalar(&sql).bind(query.as_of);
            for (kind, value) in &statement.binds {
                select = bind_cell!(select, *kind, value);
            }
            select.fetch_one(pool).await?
        });
        Ok(count.max(0) as u64)
    }

    /// The records matching `query`, streamed in batches from a task of their own: memory
    /// holds a few batches whatever the number of records. The stream ends early if the
    /// receiver is dropped; an error ends it after being sent.
    pub fn stream_records(
        &self,
        table: &RecordTable,
        query: &RecordQuery,
    ) -> mpsc::Receiver<Result<Vec<Record>>> {
        let (sender, receiver) = mpsc::channel(4);
        let (store, table, query) = (self.clone(), table.clone(), query.clone());
        tokio::spawn(async move {
            let run = async {
                let statement = select_sql(&table, &query, store.backend())?;
                let mut batch = Vec::with_capacity(BATCH);
                on_pool!(store, |pool| {
                    fetch_records!(pool, table, query.as_of, statement, |record| {
                        batch.push(record);
                        if batch.len() == BATCH {
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                            if sender.send(Ok(full)).await.is_err() {
                                return Ok(());
                            }
                        }
                    })
                });
                if !batch.is_empty() {
                    let _ = sender.send(Ok(batch)).await;
                }
                Ok::<(), StoreError>(())
            };
            if let Err(error) = run.await {
                let _ = sender.send(Err(error)).await;
            }
        });
        receiver
    }
}
