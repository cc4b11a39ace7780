//! Identity and access: people sign in with passwords (sessions), systems with OAuth2 client
//! credentials (EdDSA JWTs).

pub mod caller;
pub mod jwt;
pub mod password;
mod routes;
pub mod secrets;
pub mod sign_in;

pub use caller::Caller;
pub use routes::{api_routes, token_routes};
