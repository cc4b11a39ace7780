//! Foreign keys from a dataset's Table Schema to code lists (catalog kind `CodeList`, such as
//! the administrative units `don-vi-hanh-chinh`): checked when a schema is saved, and loaded
//! as the sets of current key values an import validates against.

use std::collections::HashSet;

use lgsp_core::catalog::{DataKind, DatasetId};
use lgsp_core::table_schema::TableSchema;
use lgsp_store::{Store, StoreError};

use crate::app::AppState;
use crate::catalog::{today, Snapshot};
use crate::error::{ApiError, ErrorCode};

/// Checks that every foreign key of `schema` references a code-list dataset of the catalog in
/// force that has a table of records with the referenced fields.
pub async fn check(state: &AppState, schema: &TableSchema) -> Result<(), ApiError> {
    if schema.foreign_keys.is_empty() {
        return Ok(());
    }
    let invalid = |detail: String| ApiError::new(ErrorCode::InvalidForeignKey).detail(detail);
    let snapshot = Snapshot::load(state, today()).await?;
    for fk in &schema.foreign_keys {
        let resource = &fk.reference.resource;
        let found = snapshot.dataset(resource).ok_or_else(|| {
            invalid(format!(
                "foreign key ({}): dataset `{resource}` is not in the catalog; a foreign key references a code-list dataset by its id",
                fk.fields.join(", ")
            ))
        })?;
        if !found.data_kinds.contains(&DataKind::CodeList) {
            return Err(invalid(format!(
                "foreign key ({}): dataset `{resource}` is not a code list",
                fk.fields.join(", ")
            )));
        }
        let id = DatasetId::parse(resource).map_err(ApiError::internal)?;
        let table = state.store.record_table(&id).await?.ok_or_else(|| {
            invalid(format!(
                "foreign key ({}): code list `{resource}` has no records yet",
                fk.fields.join(", ")
            ))
        })?;
        if let Some(missing) = fk
            .reference
            .fields
            .iter()
            .find(|name| !table.schema.fields.iter().any(|f| &f.name == *name))
        {
            return Err(invalid(format!(
                "foreign key ({}): code list `{resource}` has no field `{missing}`",
                fk.fields.join(", ")
            )));
        }
    }
    Ok(())
}

/// Per foreign key of `schema`, the key values of the referenced code list's current entries
/// (as text, as the validator compares them). Memory: the keys only, one page of entries read
/// at a time.
pub async fn load(
    store: &Store,
    schema: &TableSchema,
) -> Result<Vec<HashSet<Vec<String>>>, StoreError> {
    let mut references = Vec::with_capacity(schema.foreign_keys.len());
    for fk in &schema.foreign_keys {
        let missing = || {
            StoreError::MissingReference(format!(
                "the code list `{}` referenced by a foreign key has no table of records with fields {}",
                fk.reference.resource,
                fk.reference.fields.join(", ")
            ))
        };
        let id = DatasetId::parse(&fk.reference.resource).map_err(|_| missing())?;
        let values = store
            .current_key_values(&id, &fk.reference.fields)
            .await?
            .ok_or_else(missing)?;
        references.push(values);
    }
    Ok(references)
}
