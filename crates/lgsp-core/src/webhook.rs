//! Webhook subscriptions (Q5.3.b, push): a consuming agency's system receives a dataset's
//! changes as signed POSTs to its URL. The rules that need no IO: which URLs may receive
//! (HTTPS; plain HTTP only to this machine, and only where the operator allows it), and how
//! long to wait before trying again after a failed delivery.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a URL cannot receive deliveries. The messages are safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not an absolute `https://` (or `http://`) URL the platform can post to.
    #[error("{0}")]
    Invalid(String),
    /// A plain-HTTP URL: deliveries carry data, so they go over TLS. HTTP is accepted only
    /// to the loopback interface, and only when the operator allows it (tests, local tools).
    #[error("{0}")]
    Insecure(String),
}

/// Where a subscription's deliveries go: an absolute URL, normalised (lower-case scheme and
/// host, no default port, at least `/` as path), without credentials or fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookTarget(String);

impl WebhookTarget {
    pub const MAX_LEN: usize = 2000;

    /// Parses `raw`. `allow_http_loopback` lets `http://` reach `localhost`, `127.0.0.0/8` or
    /// `[::1]` (never another host).
    pub fn parse(raw: &str, allow_http_loopback: bool) -> Result<Self, TargetError> {
        let invalid =
            |why: &str| TargetError::Invalid(format!("`{raw}` cannot receive deliveries: {why}"));
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(invalid("it must be 1 to 2000 characters long"));
        }
        if !raw.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
            return Err(invalid(
                "it may contain only printable ASCII without spaces (percent-encode the rest; an international domain in its xn-- form)",
            ));
        }
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| invalid("it must be an absolute https:// URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(invalid("it must be an absolute https:// URL"));
        }
        if rest.contains('#') {
            return Err(invalid("it must not have a fragment"));
        }
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(end);
        if authority.contains('@') {
            return Err(invalid("credentials do not belong in a URL"));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| invalid("its host or port is not valid"))?;
        let host = host.to_ascii_lowercase();
        if scheme == "http" {
            if !is_loopback(&host) {
                return Err(TargetError::Insecure(format!(
                    "`{raw}` is plain HTTP: deliveries are sent over HTTPS only"
                )));
            }
            if !allow_http_loopback {
                return Err(TargetError::Insecure(format!(
                    "`{raw}` is plain HTTP: this platform delivers over HTTPS only (HTTP to the \
                     local machine is not enabled)"
                )));
            }
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let mut normalised = format!("{scheme}://{host}");
        if let Some(port) = port.filter(|p| *p != default_port) {
            normalised.push_str(&format!(":{port}"));
        }
        if !path_and_query.starts_with('/') {
            normalised.push('/');
        }
        normalised.push_str(path_and_query);
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a target stored earlier (already checked when it was accepted).
    pub fn stored(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Display for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `host[:port]` → (host, port); IPv6 literals keep their brackets.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, rest) = authority.split_at(close + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = if host.starts_with('[') {
        host.len() > 2
            && host[1..host.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
            && !host.starts_with(['.', '-'])
    };
    if !host_ok {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|p| *p > 0)?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

/// The state of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebhookState {
    /// Changes are delivered as they come.
    Active,
    /// Delivery stopped after too many consecutive failures (or because the subscribing
    /// agency may no longer read the dataset); reactivating resumes from the first change not
    /// delivered.
    Dead,
}

impl WebhookState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Dead => "dead",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(Self::Active),
            "dead" => Some(Self::Dead),
            _ => None,
        }
    }

    /// The Vietnamese label shown to people.
    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Active => "Đang hoạt động",
            Self::Dead => "Đã dừng do lỗi",
        }
    }
}

/// How long to wait after the `failures`-th consecutive failure (1 for the first): `base`
/// doubled for each failure before it, at most `max`.
pub fn retry_delay(failures: u32, base: Duration, max: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(32);
    base.saturating_mul(1u32 << doublings.min(31)).min(max)
}

/// `delay` spread over its upper half by `unit`, a number in `[0, 1)` the caller draws at
/// random: receivers that failed together (one outage) are then not all tried again at the
/// same instant, and no wait is shorter than half the backoff.
pub fn jittered(delay: Duration, unit: f64) -> Duration {
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    delay / 2 + delay.mul_f64(unit / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn retries_are_spread_over_the_upper_half_of_the_backoff() {
        let delay = Duration::from_secs(80);
        assert_eq!(jittered(delay, 0.0), Duration::from_secs(40));
        assert_eq!(jittered(delay, 0.5), Duration::from_secs(60));
        assert_eq!(jittered(delay, 1.0), delay);
        assert_eq!(jittered(delay, 7.0), delay);
        assert_eq!(jittered(delay, f64::NAN), Duration::from_secs(40));
        // Two receivers failing together with different draws are tried apart.
        assert_ne!(jittered(delay, 0.1), jittered(delay, 0.9));
    }

    fn target(raw: &str) -> Result<String, TargetError> {
        WebhookTarget::parse(raw, true).map(|t| t.0)
    }

    #[test]
    fn https_urls_are_normalised() {
        assert_eq!(
            target("HTTPS://Hook.Example.VN:443/lgsp/thay-doi?khoa=1").unwrap(),
            "https://hook.example.vn/lgsp/thay-doi?khoa=1"
        );
        assert_eq!(
            target("https://hook.example.vn").unwrap(),
            "https://hook.example.vn/"
        );
        assert_eq!(
            target("https://hook.example.vn:8443?a=b").unwrap(),
            "https://hook.example.vn:8443/?a=b"
        );
        assert_eq!(
            target("https://[2001:db8::1]:9000/x").unwrap(),
            "https://[2001:db8::1]:9000/x"
        );
    }

    #[test]
    fn bad_urls_are_invalid() {
        for raw in [
            "",
            "hook.example.vn/x",
            "ftp://hook.example.vn/",
            "https://",
            "https:///path",
            "https://user:pass@hook.example.vn/",
            "https://hook.example.vn/#frag",
            "https://hook.example.vn/a b",
            "https://hướng.vn/",
            "https://hook.example.vn:99999/",
            "https://hook.example.vn:0/",
            "https://hook.example.vn:/",
            "https://-bad.vn/",
            "https://[::1/",
        ] {
            assert!(
                matches!(target(raw), Err(TargetError::Invalid(_))),
                "{raw}: {:?}",
                target(raw)
            );
        }
        assert!(matches!(
            target(&format!("https://h.vn/{}", "a".repeat(2000))),
            Err(TargetError::Invalid(_))
        ));
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_allowed() {
        for raw in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://127.1.2.3/",
            "http://[::1]:9/",
        ] {
            assert!(WebhookTarget::parse(raw, true).is_ok(), "{raw}");
            assert!(
                matches!(
                    WebhookTarget::parse(raw, false),
                    Err(TargetError::Insecure(_))
                ),
                "{raw}"
            );
        }
        assert_eq!(
            target("http://LOCALHOST:80/x").unwrap(),
            "http://localhost/x"
        );
        for raw in [
            "http://hook.example.vn/",
            "http://10.0.0.1/",
            "http://127.0.0.1.example.vn/",
            "http://localhost.example.vn/",
            "http://128.0.0.1/",
        ] {
            assert!(
                matches!(target(raw), Err(TargetError::Insecure(_))),
                "{raw}: {:?}",
                target(raw)
            );
        }
    }

    #[test]
    fn retries_back_off_exponentially_up_to_a_ceiling() {
        let base = Duration::from_secs(10);
        let max = Duration::from_secs(3600);
        let delays: Vec<u64> = (1..=11)
            .map(|n| retry_delay(n, base, max).as_secs())
            .collect();
        assert_eq!(
            delays,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(retry_delay(0, base, max), base);
        assert_eq!(retry_delay(u32::MAX, base, max), max);
    }

    proptest! {
        #[test]
        fn accepted_targets_parse_again_to_themselves(
            host in "[a-z][a-z0-9-]{0,20}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
            port in proptest::option::of(1u16..),
            path in "(/[a-zA-Z0-9._~%-]{0,10}){0,4}",
            query in proptest::option::of("[a-zA-Z0-9=&%._-]{0,20}"),
        ) {
            let mut raw = format!("https://{host}");
            if let Some(port) = port {
                raw.push_str(&format!(":{port}"));
            }
            raw.push_str(&path);
            if let Some(query) = &query {
                raw.push('?');
                raw.push_str(query);
            }
            let parsed = WebhookTarget::parse(&raw, false).unwrap();
            prop_assert_eq!(WebhookTarget::parse(parsed.as_str(), false).unwrap(), parsed.clone());
        }

        #[test]
        fn parsing_never_panics(raw in "\\PC{0,60}", allow in any::<bool>()) {
            let _ = WebhookTarget::parse(&raw, allow);
        }
    }
}
