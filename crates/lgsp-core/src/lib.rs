//! Domain types and pure decisions of the LGSP.
//!
//! Nothing here performs IO or awaits: every rule of the regulation that can be stated as a
//! function of values lives here and is tested exhaustively. Types follow "parse, don't
//! validate": a value of a type in this crate is already known to be valid.

pub mod agency;
pub mod calendar;
pub mod catalog;
pub mod conformance;
pub mod consent;
pub mod exchange;
pub mod forwarding;
pub mod http_signature;
pub mod identity;
pub mod policy;
pub mod proposal;
pub mod quality;
pub mod record_query;
pub mod secret_guard;
pub mod service;
pub mod sharing_request;
pub mod system;
pub mod table_schema;
pub mod text;
pub mod ticket;
pub mod webhook;

pub use agency::{AgencyCode, AgencyKind, Email, FocalOfficer, NewAgency, Phone};
pub use identity::{CitizenId, Password, Role, RoleAssignment, Username};
pub use policy::{authorize, may_see_personal_fields, Action, Actor, Denial, Resource};
pub use system::{
    ConnectionModel, Findings, HttpUrl, NewSystem, Origin, Readiness, SecurityLevel, SystemCode,
    SystemId,
};
pub use text::{ParseError, Text};
