//! Forwarding one request to a provider's upstream and reading its answer, within the size
//! and time limits of the settings.
//!
//! Both bodies are read whole (bounded): the request's `Content-Digest` is signed before the
//! request is sent, and the answer's `Content-Digest` and signature are header fields, which
//! must precede its body (HTTP trailers would allow streaming, but few clients read them).

use axum::body::{Body, Bytes};
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, COOKIE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use futures_util::StreamExt;
use lgsp_core::forwarding::{is_hop_by_hop, ForwardPath};
use lgsp_core::http_signature::{Component, HttpMessage};
use lgsp_core::service::HttpMethod;
use lgsp_core::SystemId;

use super::{CONSUMER, CONTENT_DIGEST, PURPOSE, REQUEST_ID, SIGNATURE, SIGNATURE_INPUT};
use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::signatures::{content_digest, sign};

/// A request on its way to the provider.
pub(super) struct Outgoing<'a> {
    pub method: HttpMethod,
    /// The service's upstream base URL, checked against its system.
    pub upstream: &'a str,
    pub path: &'a ForwardPath,
    pub query: Option<&'a str>,
    /// The client's header fields.
    pub headers: &'a HeaderMap,
    pub consumer: &'a SystemId,
    pub purpose: &'a str,
    pub request_id: &'a str,
    pub body: Bytes,
}

/// The provider's answer, read.
pub(super) struct Received {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The client's body, refused past `limit` bytes (413).
pub(super) async fn read_body(body: Body, limit: u64) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(ErrorCode::PayloadTooLarge).detail(format!(
            "the gateway forwards bodies of at most {limit} bytes"
        ))
    };
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::new(ErrorCode::InvalidBody).detail(e.to_string()))?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(bytes))
}

/// The client's header fields that go on: not hop-by-hop, not the client's credentials or
/// cookies, not `Host` (the upstream's own), not `LGSP-*` or signature fields (the gateway
/// sets those itself, so the provider can trust them), not `Accept-Encoding`.
fn forwarded_headers(client: &HeaderMap) -> HeaderMap {
    let listed: Vec<String> = client
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::new();
    for (name, value) in client {
        let n = name.as_str();
        let dropped = is_hop_by_hop(n, &listed)
            || *name == AUTHORIZATION
            || *name == COOKIE
            || *name == HOST
            || *name == CONTENT_LENGTH
            || n.starts_with("lgsp-")
            || n == "content-digest"
            || n == "signature"
            || n == "signature-input"
            || n == "x-request-id"
            || n == "forwarded"
            || n.starts_with("x-forwarded-")
            // The gateway reads the answer to filter and sign it: identity encoding only.
            || n == "accept-encoding";
        if !dropped {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Sends the request signed by the platform (RFC 9421 over `@method`, `@target-uri`, the
/// `lgsp-*` fields and, with a body, `content-digest`), and reads the answer within the limits.
pub(super) async fn send(state: &AppState, out: Outgoing<'_>) -> Result<Received, ApiError> {
    let mut url = String::with_capacity(out.upstream.len() + out.path.as_str().len() + 64);
    url.push_str(out.upstream.trim_end_matches('/'));
    url.push_str(out.path.as_str());
    if let Some(query) = out.query {
        url.push('?');
        url.push_str(query);
    }
    let mut headers = forwarded_headers(out.headers);
    let consumer = format!("{}/{}", out.consumer.agency, out.consumer.code);
    let mut message = HttpMessage::request(out.method.as_str(), &url);
    let mut components = vec![Component::Method, Component::TargetUri];
    let mut fields: Vec<(axum::http::HeaderName, String)> = vec![
        (CONSUMER, consumer),
        (PURPOSE, out.purpose.to_owned()),
        (REQUEST_ID, out.request_id.to_owned()),
    ];
    if !out.body.is_empty() {
        fields.push((CONTENT_DIGEST, content_digest(&out.body)));
    }
    for (name, value) in fields {
        let value = HeaderValue::from_str(&value).map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter)
                .detail(format!("`{name}` must be visible ASCII"))
        })?;
        message = message.with_field(name.as_str(), value.to_str().unwrap_or_default());
        components.push(Component::field(name.as_str()).map_err(ApiError::internal)?);
        headers.insert(name, value);
    }
    let signed = sign(
        state.keys.active(),
        &message,
        components,
        chrono::Utc::now().timestamp(),
    )
    .map_err(ApiError::internal)?;
    for (name, value) in [
        (SIGNATURE_INPUT, signed.signature_input),
        (SIGNATURE, signed.signature),
    ] {
        headers.insert(
            name,
            HeaderValue::from_str(&value).map_err(ApiError::internal)?,
        );
    }
    let method =
        reqwest::Method::from_bytes(out.method.as_str().as_bytes()).map_err(ApiError::internal)?;
    let response = state
        .gateway
        .client
        .request(method, &url)
        .headers(headers)
        .body(out.body)
        .send()
        .await
        .map_err(upstream_error)?;
    let limit = state.settings.gateway_max_response_bytes;
    let too_large = || ApiError::new(ErrorCode::UpstreamResponseTooLarge);
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    let mut response = response;
    while let Some(chunk) = response.chunk().await.map_err(upstream_error)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received {
        status: StatusCode::from_u16(status.as_u16()).map_err(ApiError::internal)?,
        headers,
        body: Bytes::from(body),
    })
}

fn upstream_error(error: reqwest::Error) -> ApiError {
    // A connection that cannot be made (refused, or not within the connect timeout) is 502;
    // a provider that connected but did not answer in time is 504.
    if error.is_timeout() && !error.is_connect() {
        tracing::warn!(error = ?error, "a provider did not answer in time");
        ApiError::new(ErrorCode::UpstreamTimeout)
    } else {
        tracing::warn!(error = ?error, "a provider could not be reached");
        ApiError::new(ErrorCode::UpstreamUnreachable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q6_5_hop_by_hop_and_credentials_stay_behind() {
        let mut client = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer secret"),
            ("cookie", "lgsp_session=x"),
            ("connection", "keep-alive, x-private"),
            ("keep-alive", "timeout=5"),
            ("x-private", "1"),
            ("te", "trailers"),
            ("host", "lgsp.example"),
            ("lgsp-consumer", "forged"),
            ("signature", "sig1=:AAAA:"),
            ("accept", "application/json"),
            ("accept-encoding", "gzip, br"),
            ("x-tra-cuu", "1"),
        ] {
            client.append(
                axum::http::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let out = forwarded_headers(&client);
        let names: Vec<&str> = out.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["accept", "x-tra-cuu"]);
    }
}
