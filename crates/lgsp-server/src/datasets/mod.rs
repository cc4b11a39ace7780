//! Hosted datasets: reading and validating tabular files against a dataset's Table Schema.
//! (Storage of the records, queries and downloads build on this.)

mod changes;
mod downloads;
pub mod import;
pub mod jobs;
pub mod provenance;
mod records;
pub mod references;
pub mod validation;

pub(crate) use changes::{change_docs, ChangeDoc};
pub use records::parse_mode;
pub(crate) use records::{allowed, job_view, table};

/// The routes of hosted datasets: schema, records, change feeds.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::app::AppState> {
    records::routes().merge(changes::routes())
}
