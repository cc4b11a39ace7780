//! Extractors whose rejections are RFC 9457 problems instead of axum's plain text.

use axum::extract::FromRequest;
use axum::extract::FromRequestParts;

use crate::error::ApiError;

/// A JSON body; malformed, mistyped, unknown-field and oversized bodies become problems.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

/// Path parameters; malformed ones become `invalid_parameter` problems.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters; malformed ones become `invalid_parameter` problems.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// A form body; malformed ones become problems.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct Form<T>(pub T);

/// For `Option<Option<T>>` fields of PATCH bodies: a field that is present (even `null`) becomes
/// `Some(…)`, an absent one stays `None` through `#[serde(default)]`.
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}
