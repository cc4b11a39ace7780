//! The limit on error reports sent without signing in: so many per client address and minute,
//! counted in this node's memory (a fixed window per address). Small enough to write here; the
//! rate-limiting crates bring tower layers keyed by route, not a count we take inside a handler
//! after deciding the caller is anonymous.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::app::AppState;

const WINDOW: Duration = Duration::from_secs(60);
/// Past this many addresses, windows that have ended are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// Anonymous error reports per client address.
#[derive(Debug, Default)]
pub struct ReportLimiter {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl ReportLimiter {
    /// Counts one report from `client` at `now` if fewer than `per_minute` were counted in its
    /// current window (`per_minute` 0: no limit); otherwise the whole seconds until the window
    /// ends.
    pub fn admit(&self, client: IpAddr, per_minute: u32, now: Instant) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let key = bucket(client);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(key).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        if *count >= per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(*start));
            return Err(left.as_millis().div_ceil(1000).max(1) as u64);
        }
        *count += 1;
        Ok(())
    }
}

/// An IPv6 client usually holds a whole /64: count it as one address.
fn bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The client's address: from `client_ip_header` when set and readable (its last address,
/// the one the nearest proxy added), else the TCP connection's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let from_header = state
            .settings
            .client_ip_header
            .as_deref()
            .and_then(|name| parts.headers.get(name))
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        let connection = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(Self(
            from_header
                .or(connection)
                .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn so_many_per_minute_then_told_how_long_to_wait() {
        let limiter = ReportLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.admit(ip("203.0.113.7"), 3, t0), Ok(()));
        }
        assert_eq!(limiter.admit(ip("203.0.113.7"), 3, t0), Err(60));
        assert_eq!(
            limiter.admit(ip("203.0.113.7"), 3, t0 + Duration::from_millis(45_500)),
            Err(15)
        );
        // Another address has its own count; the first one's window ends after a minute.
        assert_eq!(limiter.admit(ip("203.0.113.8"), 3, t0), Ok(()));
        assert_eq!(
            limiter.admit(ip("203.0.113.7"), 3, t0 + Duration::from_secs(60)),
            Ok(())
        );
    }

    #[test]
    fn an_ipv6_slash_64_counts_as_one_client_and_zero_means_no_limit() {
        let limiter = ReportLimiter::default();
        let t0 = Instant::now();
        assert_eq!(limiter.admit(ip("2001:db8:1:2::1"), 1, t0), Ok(()));
        assert_eq!(limiter.admit(ip("2001:db8:1:2:ffff::9"), 1, t0), Err(60));
        assert_eq!(limiter.admit(ip("2001:db8:1:3::1"), 1, t0), Ok(()));
        assert_eq!(limiter.admit(ip("::ffff:198.51.100.1"), 1, t0), Ok(()));
        assert_eq!(limiter.admit(ip("198.51.100.1"), 1, t0), Err(60));
        for _ in 0..100 {
            assert_eq!(limiter.admit(ip("198.51.100.2"), 0, t0), Ok(()));
        }
    }
}
