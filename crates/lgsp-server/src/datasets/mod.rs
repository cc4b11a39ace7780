//! Hosted datasets: reading and validating tabular files against a dataset's Table Schema.
//! (Storage of the records, queries and downloads build on this.)

mod downloads;
pub mod import;
pub mod jobs;
pub mod provenance;
mod records;
pub mod references;
pub mod validation;

pub(crate) use records::{allowed, job_view, table};
pub use records::{parse_mode, routes};
