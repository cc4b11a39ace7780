//! Every error the API answers with: one table of stable codes, rendered as RFC 9457
//! `application/problem+json`, and generated into `docs/errors.md`.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lgsp_store::StoreError;
use serde::Serialize;

macro_rules! error_codes {
    ($( $variant:ident = ($status:ident, $code:literal, $title:literal, $explanation:literal); )*) => {
        /// The stable code of a problem. Renaming one breaks clients: add, never rename.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $( #[doc = $explanation] $variant, )* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }

            pub fn code(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title,)* }
            }

            /// When to expect the problem and what to do about it.
            pub fn explanation(self) -> &'static str {
                match self { $(ErrorCode::$variant => $explanation,)* }
            }
        }
    };
}

error_codes! {
    MalformedJson = (BAD_REQUEST, "malformed_json", "Malformed JSON",
        "The body is not well-formed JSON. Fix the syntax; nothing was changed.");
    InvalidBody = (UNPROCESSABLE_ENTITY, "invalid_body", "Invalid request body",
        "The body is JSON but a field is missing, has the wrong type or breaks a rule; `detail` names the field.");
    UnknownField = (UNPROCESSABLE_ENTITY, "unknown_field", "Unknown field",
        "The body has a field this endpoint does not know; `detail` names it. Misspelt fields are refused rather than silently ignored.");
    InvalidParameter = (BAD_REQUEST, "invalid_parameter", "Invalid parameter",
        "A path segment or query parameter is malformed; `detail` names it.");
    NotAcceptable = (NOT_ACCEPTABLE, "not_acceptable", "Not acceptable",
        "None of the media types in `Accept` can be produced; `detail` lists those that can (or use `format=`).");
    ExportTooLarge = (PAYLOAD_TOO_LARGE, "export_too_large", "Too many rows for this format",
        "The records asked for do not fit the format (an XLSX sheet holds 1,048,575 rows): filter them, page them, or download CSV.");
    UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Unsupported media type",
        "The body has a media type this endpoint does not take (send `application/json`).");
    PayloadTooLarge = (PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large",
        "The body is larger than the server accepts.");
    NotFound = (NOT_FOUND, "not_found", "Not found",
        "No route has this path.");
    MethodNotAllowed = (METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed",
        "The route exists but not with this method; see the `Allow` header.");
    ResourceNotFound = (NOT_FOUND, "resource_not_found", "Resource not found",
        "The record named in the path does not exist.");
    Conflict = (CONFLICT, "conflict", "Conflict",
        "The request conflicts with what is stored, e.g. a code that is already taken.");
    MissingReference = (UNPROCESSABLE_ENTITY, "missing_reference", "Missing reference",
        "The request refers to a record that does not exist, e.g. an unknown parent agency.");
    AuthenticationRequired = (UNAUTHORIZED, "authentication_required", "Authentication required",
        "The resource needs a signed-in person or an authenticated system.");
    InvalidCredentials = (UNAUTHORIZED, "invalid_credentials", "Invalid credentials",
        "The username or password is wrong, or the account is disabled. The message never says which.");
    InvalidToken = (UNAUTHORIZED, "invalid_token", "Invalid token",
        "The bearer token is malformed, expired, revoked or not signed by this platform.");
    LoginThrottled = (TOO_MANY_REQUESTS, "login_throttled", "Too many failed sign-ins",
        "Too many failed sign-ins for this account: wait for `Retry-After` seconds.");
    Forbidden = (FORBIDDEN, "forbidden", "Forbidden",
        "The caller is known but not allowed to do this.");
    CsrfTokenInvalid = (FORBIDDEN, "csrf_token_invalid", "Invalid CSRF token",
        "The form or cookie-authenticated request lacks a valid CSRF token; reload the page.");
    InvalidClient = (UNAUTHORIZED, "invalid_client", "Invalid client",
        "OAuth2: the client is unknown, revoked, or its secret is wrong (RFC 6749 `invalid_client`).");
    UnsupportedGrantType = (BAD_REQUEST, "unsupported_grant_type", "Unsupported grant type",
        "OAuth2: only `grant_type=client_credentials` is supported.");
    InvalidScope = (BAD_REQUEST, "invalid_scope", "Invalid scope",
        "OAuth2: the requested scope is not one this platform issues (RFC 6749 `invalid_scope`); ask for `gateway` or omit it.");
    InvalidRequest = (BAD_REQUEST, "invalid_request", "Invalid request",
        "OAuth2: a required parameter is missing or repeated (RFC 6749 `invalid_request`).");
    ImportInvalid = (UNPROCESSABLE_ENTITY, "import_invalid", "The file does not match the schema",
        "An import was refused because rows break the dataset's Table Schema; nothing was changed. The `report` member lists the errors as Frictionless does (`type`, `rowNumber`, `fieldName`, `message`).");
    SchemaChangeConflict = (UNPROCESSABLE_ENTITY, "schema_change_conflict", "Current records do not fit the new schema",
        "A dataset's Table Schema change was refused because current records break it (a type they cannot convert to, a constraint, a key); nothing was changed. `conflicts` lists up to 100 (`row`: the primary key or `_id=N`, `field`, `message`), `total` counts them all.");
    InvalidForeignKey = (BAD_REQUEST, "invalid_foreign_key", "Invalid foreign key",
        "A Table Schema's foreign key must reference a code-list dataset that has its records, by fields it has; `detail` says which part is wrong.");
    ChangesExpired = (GONE, "changes_expired", "Changes no longer kept",
        "The change feed no longer holds changes after the given `since`: they are older than the retention period. `oldest_seq` is the first change still available and `last_seq` the newest; download the dataset's records in full, then follow the feed from `last_seq`.");
    InvalidWebhookUrl = (UNPROCESSABLE_ENTITY, "invalid_webhook_url", "The URL cannot receive deliveries",
        "A webhook target must be an absolute `https://` URL of at most 2000 printable ASCII characters (percent-encode the rest), with a valid host and port, without credentials or fragment; `detail` says what is wrong. Nothing was created.");
    InsecureWebhookUrl = (UNPROCESSABLE_ENTITY, "insecure_webhook_url", "Deliveries go over HTTPS only",
        "A webhook target with plain `http://` was refused: changes are delivered over TLS. Plain HTTP is accepted only to the platform's own machine (localhost, 127.0.0.0/8, [::1]) and only where the operator enabled `webhook_allow_http_loopback`. Use an `https://` URL.");
    InvalidEncoding = (UNPROCESSABLE_ENTITY, "invalid_encoding", "The file is not UTF-8",
        "The uploaded text is not UTF-8; `detail` names the line. Save the file as UTF-8 and try again; nothing was changed.");
    InvalidSpreadsheet = (BAD_REQUEST, "invalid_spreadsheet", "The file is not a readable XLSX workbook",
        "The uploaded workbook is corrupt, is not XLSX (e.g. an old .xls file), or has no sheet named by `sheet`; `detail` says which. Save it as .xlsx or CSV and try again; nothing was changed.");
    EmptyFile = (BAD_REQUEST, "empty_file", "The file is empty",
        "The uploaded file has no header row (an empty file or an empty sheet); nothing was changed.");
    StateSecretNotAllowed = (UNPROCESSABLE_ENTITY, "state_secret_not_allowed", "State secrets are not allowed",
        "The platform does not take data classified as a state secret (Mật, Tối mật, Tuyệt mật; Q1.2 of the regulation). The attempt is recorded for the security auditor.");
    StateSecretSuspected = (UNAVAILABLE_FOR_LEGAL_REASONS, "state_secret_suspected", "Suspected state secret",
        "The content carries what looks like a state-secret marking (a stamp `MẬT`, `TỐI MẬT` or `TUYỆT MẬT` standing alone, or a line `Độ mật: …`; Q1.2, Q20.3 of the regulation), which the platform does not take or pass on. Nothing was stored or forwarded; the content is held for the security auditors (`quarantine` is its id, `findings` says what was found where), who confirm or release it. If it is not a state secret, the same content passes once released.");
    InvalidRecordReference = (UNPROCESSABLE_ENTITY, "invalid_record_reference", "No such record or field in the dataset",
        "An error report names a record or a field the dataset does not have: `part` is `record_key` (not an object of exactly the primary-key fields with values of their types, or no current record has that key, or the dataset has no primary key or no hosted records) or `field` (not a field of its Table Schema); `detail` says which. Nothing was stored.");
    TooManyReports = (TOO_MANY_REQUESTS, "too_many_reports", "Too many error reports",
        "Error reports sent without signing in are limited per client address and minute (`error_reports_per_minute`): wait for `Retry-After` seconds, or sign in.");
    InvalidTransition = (CONFLICT, "invalid_transition", "Step not allowed in this state",
        "The workflow step cannot be taken from the object's current state (e.g. approving a proposal that has not been forwarded); `detail` names both.");
    RefusalReasonRequired = (UNPROCESSABLE_ENTITY, "refusal_reason_required", "A refusal needs a reason and a legal basis",
        "A provider refuses a sharing request only with the reason and the legal basis it relies on (Q15.1.a of the regulation): `reason` and `legal_basis` must both be non-empty text; `detail` names the missing one. The request was not refused.");
    ApprovalExceedsRequest = (UNPROCESSABLE_ENTITY, "approval_exceeds_request", "Approval wider than the request",
        "An approval may grant fewer fields and a shorter period than the sharing request asked, never more: every approved field must be one asked for (for a service, or inside one), and `valid_until` not later than asked. `detail` names what exceeds it; nothing was granted.");
    UpstreamNotAllowed = (UNPROCESSABLE_ENTITY, "upstream_not_allowed", "Upstream not on the provider's system",
        "A service's upstream URL must be on the scheme, host and port of its provider system's registered base URL (the gateway is never an open proxy), and have no query; `detail` names the expected origin. Register or correct the system first; nothing was changed.");
    InvalidOpenapi = (UNPROCESSABLE_ENTITY, "invalid_openapi", "Invalid OpenAPI document",
        "A service's `openapi` must be an OpenAPI 3.0.x or 3.1.x document (JSON) with `info.title`, `info.version` and a `paths` object; `detail` names the first problem. Nothing was changed.");
    NotEditable = (CONFLICT, "not_editable", "No longer editable",
        "Only a draft service can be edited. A published service keeps its registration: register a new version instead.");
    FieldNotShared = (UNPROCESSABLE_ENTITY, "field_not_shared", "Field not shared",
        "A grant names a field the provider does not share: for a service, a JSON pointer not equal to or inside one of its `shareable_fields`; for a dataset, a name that is not a field of its Table Schema. `detail` names it; nothing was changed.");
    NotSubscribable = (CONFLICT, "not_subscribable", "Not shared by default",
        "Only services and datasets whose sharing mode is `default` (chia sẻ mặc định) take subscriptions. `on_request` ones need a sharing request approved by the provider; `open` ones need no grant.");
    TargetUnavailable = (CONFLICT, "target_unavailable", "Target cannot be granted",
        "The grant's target takes no new grants now: a retired service, a service that is not published (subscriptions), or a dataset without hosted records or without any non-personal field to share by default; `detail` says which.");
    InvalidAttachment = (UNPROCESSABLE_ENTITY, "invalid_attachment", "Invalid attachment",
        "The uploaded document is missing, empty or not of the required type (an official letter must be a PDF).");
    MalformedMultipart = (BAD_REQUEST, "malformed_multipart", "Malformed multipart body",
        "The `multipart/form-data` body could not be read; `detail` says why.");
    PurposeRequired = (BAD_REQUEST, "purpose_required", "Purpose required",
        "An exchange through the gateway must say why in `LGSP-Purpose`: a purpose code of the grant (2–32 of A-Z, 0-9, `_`, `.`, `-`, e.g. `TTHC`). The refusal is recorded in the transparency log.");
    NoGrant = (FORBIDDEN, "no_grant", "No grant",
        "The consumer system holds no grant on this service or dataset (Q13.1). Ask the provider for one (a sharing request), or subscribe if it is shared by default. The refusal is recorded in the transparency log.");
    GrantSuspended = (FORBIDDEN, "grant_suspended", "Grant suspended",
        "The consumer's grant is suspended by the provider or the operator; `reason` says why. It takes effect on the very next request and lasts until the grant is resumed.");
    GrantTerminated = (FORBIDDEN, "grant_terminated", "Grant terminated",
        "The consumer's grant is terminated, which is final; `reason` says why. A new grant is needed.");
    GrantNotInForce = (FORBIDDEN, "grant_not_in_force", "Grant not in force",
        "The consumer's grant has not started yet or has expired (its validity period does not include now).");
    PurposeNotGranted = (FORBIDDEN, "purpose_not_granted", "Purpose not granted",
        "The consumer holds a grant, but not for the purpose in `LGSP-Purpose`; `purposes` lists those granted.");
    SubjectRequired = (BAD_REQUEST, "subject_required", "Data subject required",
        "The consumer's grant on this personal data rests on the data subject's consent (Q15.2.h; Decree 13/2023 art. 11): the exchange must name the subject in `LGSP-Subject` (a citizen's 12-digit identity number). The refusal is recorded in the transparency log, which keeps only a salted hash of the subject.");
    ConsentRequired = (FORBIDDEN, "consent_required", "Consent required",
        "The consumer's grant rests on the data subject's consent, and the subject named in `LGSP-Subject` has no consent in force for this consumer agency (or system), this service or dataset, this purpose and the granted fields: never given, revoked, or expired. The citizen gives and revokes consent in the console; a revocation counts from the very next request.");
    ConsentBasisNotApplicable = (UNPROCESSABLE_ENTITY, "consent_basis_not_applicable", "Consent basis not applicable",
        "A grant may rest on consent only where a data subject can consent: a service, or a dataset whose access level is `personal`.");
    NotACitizen = (FORBIDDEN, "not_a_citizen", "Citizen account required",
        "Only a citizen's account holding a citizen identity number (CCCD) gives consent; ask the operator to record the number on the account.");
    QuotaExceeded = (TOO_MANY_REQUESTS, "quota_exceeded", "Quota exceeded",
        "The grant's requests per minute are used up: wait `Retry-After` seconds. The quota is counted across all nodes.");
    MaintenanceNoticeTooShort = (UNPROCESSABLE_ENTITY, "maintenance_notice_too_short", "Maintenance announced too late",
        "Planned maintenance of a service or dataset must be announced at least 7 working days before it starts (Decree 47/2020 art. 43; weekends and the configured holidays do not count): `working_days` says how many this start leaves, `earliest_start` the earliest start allowed. Move the start, or mark the announcement `force_majeure` if it is one. Nothing was announced.");
    UnderMaintenance = (SERVICE_UNAVAILABLE, "under_maintenance", "Under maintenance",
        "The provider announced maintenance of this service or dataset on the portal and it is under way: `restored_at` (and `Retry-After`, in seconds) is the expected restoration, `maintenance` the announcement's id. The refusal is recorded in the transparency log; the grant is untouched.");
    InvalidPeriod = (BAD_REQUEST, "invalid_period", "Invalid period",
        "A report's period must be given as `from` and `to`, dates `YYYY-MM-DD` (both included, Vietnam's days), `from` not after `to`, at most 366 days; `detail` says what is wrong.");
    InvalidReportYear = (UNPROCESSABLE_ENTITY, "invalid_report_year", "No report for this year",
        "The annual report (Q17.6) covers a year from 2000 to the current one (Viet Nam's calendar); `detail` gives the range.");
    ReportAlreadySubmitted = (CONFLICT, "report_already_submitted", "Report already marked as sent",
        "This year's annual report is already marked as sent to the People's Committee; the first record stands.");
    UpstreamUnreachable = (BAD_GATEWAY, "upstream_unreachable", "Provider system unreachable",
        "The gateway could not connect to the provider's system, or the connection broke, or the service's upstream is no longer on the provider system's registered address. Try again later; the provider is told by its availability monitoring.");
    UpstreamTimeout = (GATEWAY_TIMEOUT, "upstream_timeout", "Provider system too slow",
        "The provider's system did not answer completely within `gateway_timeout_millis`. Try again later.");
    UpstreamResponseTooLarge = (BAD_GATEWAY, "upstream_response_too_large", "Provider answer too large",
        "The provider's answer is larger than `gateway_max_response_bytes`; ask for less (a filter, a page).");
    UpstreamInvalidResponse = (BAD_GATEWAY, "upstream_invalid_response", "Provider answer cannot be filtered",
        "The provider's answer is declared JSON but is not, or is not JSON while the grant covers only some of the service's shareable fields, so the granted fields cannot be picked out. Nothing of it was sent on.");
    StorageUnavailable = (SERVICE_UNAVAILABLE, "storage_unavailable", "Storage unavailable",
        "The storage is not reachable; try again later.");
    Internal = (INTERNAL_SERVER_ERROR, "internal_error", "Internal error",
        "Something failed inside the platform. The response says nothing more; the server log has the cause under the request id.");
}

/// The `type` URI of a problem: its anchor in the error documentation served by the platform.
pub fn type_uri(code: ErrorCode) -> String {
    format!("/docs/errors#{}", code.code())
}

/// An error answered as an RFC 9457 problem.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: Option<String>,
    retry_after: Option<u64>,
    /// The internal cause, logged and never sent.
    source: Option<anyhow::Error>,
    /// Extra members of the problem (RFC 9457 §3.2), e.g. a validation report.
    extensions: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    type_uri: String,
    title: &'static str,
    status: u16,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    /// RFC 6749 §5.2 error code, so OAuth2 clients understand token errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(flatten)]
    extensions: &'a serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: None,
            retry_after: None,
            source: None,
            extensions: serde_json::Map::new(),
        }
    }

    /// Adds a member to the problem body (4xx only; 5xx bodies stay bare).
    pub fn with(mut self, name: &str, value: serde_json::Value) -> Self {
        self.extensions.insert(name.to_owned(), value);
        self
    }

    /// Adds a message for the caller. Never put internal details here.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// An internal failure: the cause is logged, the caller gets a bare 500.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ErrorCode::Internal)
        }
    }

    /// An extra member of the problem (e.g. `report`), or null.
    pub fn extension(&self, name: &str) -> serde_json::Value {
        self.extensions.get(name).cloned().unwrap_or_default()
    }

    /// The human-readable explanation, if any.
    pub fn detail_text(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The `Retry-After` seconds, if the problem has them.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        self.retry_after
    }

    fn oauth_error(&self) -> Option<&'static str> {
        match self.code {
            ErrorCode::InvalidClient => Some("invalid_client"),
            ErrorCode::UnsupportedGrantType => Some("unsupported_grant_type"),
            ErrorCode::InvalidRequest => Some("invalid_request"),
            ErrorCode::InvalidScope => Some("invalid_scope"),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        // Maintenance is announced, not an internal failure: its problem says when to return.
        let bare = status.is_server_error() && self.code != ErrorCode::UnderMaintenance;
        if bare {
            match &self.source {
                Some(source) => {
                    tracing::error!(code = self.code.code(), error = ?source, "request failed")
                }
                None => tracing::error!(code = self.code.code(), "request failed"),
            }
        }
        let detail = if bare { None } else { self.detail.as_deref() };
        let none = serde_json::Map::new();
        let problem = Problem {
            type_uri: type_uri(self.code),
            title: self.code.title(),
            status: status.as_u16(),
            code: self.code.code(),
            detail,
            error: self.oauth_error(),
            extensions: if bare { &none } else { &self.extensions },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.code == ErrorCode::PayloadTooLarge {
            // The rest of the body was not read: the connection cannot carry another request.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if self.code == ErrorCode::InvalidClient {
                "Basic realm=\"lgsp\""
            } else {
                "Bearer realm=\"lgsp\""
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if self.code == ErrorCode::InvalidClient || self.oauth_error().is_some() {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => {
                Self::new(ErrorCode::ResourceNotFound).detail(format!("{what} not found"))
            }
            StoreError::Conflict(message) => Self::new(ErrorCode::Conflict).detail(message),
            StoreError::MissingReference(message) => {
                Self::new(ErrorCode::MissingReference).detail(message)
            }
            other => Self::internal(other),
        }
    }
}

impl From<lgsp_core::Denial> for ApiError {
    fn from(denial: lgsp_core::Denial) -> Self {
        match denial {
            lgsp_core::Denial::Unauthenticated => Self::new(ErrorCode::AuthenticationRequired),
            lgsp_core::Denial::Forbidden => Self::new(ErrorCode::Forbidden),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonSyntaxError(e) => {
                Self::new(ErrorCode::MalformedJson).detail(e.body_text())
            }
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                let code = if text.contains("unknown field") {
                    ErrorCode::UnknownField
                } else {
                    ErrorCode::InvalidBody
                };
                Self::new(code).detail(strip_axum_prefix(&text))
            }
            JsonRejection::MissingJsonContentType(_) => Self::new(ErrorCode::UnsupportedMediaType)
                .detail("send the body as `Content-Type: application/json`"),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(ErrorCode::PayloadTooLarge)
            }
            other => Self::new(ErrorCode::InvalidBody).detail(other.body_text()),
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(rejection: FormRejection) -> Self {
        match rejection {
            FormRejection::InvalidFormContentType(_) => Self::new(ErrorCode::UnsupportedMediaType)
                .detail("send the body as `application/x-www-form-urlencoded`"),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(ErrorCode::PayloadTooLarge)
            }
            other => Self::new(ErrorCode::InvalidRequest).detail(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::new(ErrorCode::InvalidParameter).detail(strip_axum_prefix(&rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(ErrorCode::InvalidParameter).detail(strip_axum_prefix(&rejection.body_text()))
    }
}

/// Axum prefixes serde's message with its own ("Failed to deserialize the JSON body into the
/// target type: "); the caller only needs serde's part, which starts with the field's path.
fn strip_axum_prefix(text: &str) -> String {
    text.split_once(": ")
        .map_or(text, |(_, rest)| rest)
        .to_owned()
}

/// `docs/errors.md`, generated from the table above (`lgsp docs errors`).
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Error codes\n\n\
         Generated by `lgsp docs errors` from `crates/lgsp-server/src/error.rs`; do not edit.\n\n\
         Every error is an RFC 9457 `application/problem+json` body with `type`, `title`, \
         `status`, a stable `code` and, for 4xx, a `detail` for the caller. 5xx bodies say \
         nothing internal; the server log has the cause under the response's `x-request-id`.\n\n\
         | code | status | title |\n|---|---|---|\n",
    );
    for code in ErrorCode::ALL {
        out.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} |\n",
            code.code(),
            code.status().as_u16(),
            code.title()
        ));
    }
    for code in ErrorCode::ALL {
        out.push_str(&format!(
            "\n## {}\n\n{} {}.{}\n",
            code.code(),
            code.status().as_u16(),
            code.title(),
            code.explanation()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.code()), "duplicate {}", code.code());
            assert!(code
                .code()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(!code.explanation().is_empty());
        }
    }

    #[test]
    fn docs_errors_md_is_generated_from_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == errors_markdown(),
            "docs/errors.md is stale: run `cargo run -- docs errors > docs/errors.md`"
        );
    }
}

/// The shape of every problem body, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ProblemDoc {
    /// `/docs/errors#<code>`
    #[schema(rename = "type")]
    type_uri: String,
    title: String,
    status: u16,
    /// The stable snake_case code; see `docs/errors.md`.
    code: String,
    /// What was wrong, for the caller (4xx only).
    detail: Option<String>,
}
