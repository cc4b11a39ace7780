//! Hosted datasets: reading and validating tabular files against a dataset's Table Schema.
//! (Storage of the records, queries and downloads build on this.)

mod downloads;
pub mod import;
pub mod provenance;
mod records;
pub mod references;
pub mod validation;

pub use records::routes;
