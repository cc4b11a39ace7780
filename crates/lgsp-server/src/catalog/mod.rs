//! The catalog of shared databases: the written procedure that changes it (Q5.2), the catalog
//! as it stands on any day (Q5.4), and its public API (Q12).

use chrono::{FixedOffset, NaiveDate, Utc};
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;

mod letters;
mod proposals;
mod published;
pub mod search;

pub use published::{PublishedDataset, Snapshot};

pub fn routes(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(proposals::routes(max_upload_bytes))
        .merge(published::routes())
        .merge(search::routes())
}

pub use lgsp_search::fold;

/// Today in Viet Nam (UTC+7): the day decisions take effect and `as_of` defaults to.
pub fn today() -> NaiveDate {
    let vietnam = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    Utc::now().with_timezone(&vietnam).date_naive()
}
