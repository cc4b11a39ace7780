//! Signing people in: password check, growing delay after failures, session creation.

use chrono::Duration;
use lgsp_store::{SessionKind, StoreError, Timestamp, User};

use super::{password, secrets};
use crate::app::AppState;

/// Why a sign-in failed. `Invalid` never says whether the account exists.
#[derive(Debug)]
pub enum SignInError {
    Invalid,
    Throttled { retry_after: u64 },
    Store(StoreError),
}

impl From<StoreError> for SignInError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// After this many failures in a row, each further attempt must wait.
const FREE_FAILURES: u32 = 3;
const MAX_DELAY_SECONDS: i64 = 15 * 60;

/// How long to wait after `failures` failed sign-ins in a row: nothing for the first few,
/// then 2 s, 4 s, 8 s … up to 15 minutes.
pub fn delay_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::zero();
    }
    let exponent = (failures - FREE_FAILURES + 1).min(20);
    Duration::seconds((1i64 << exponent).min(MAX_DELAY_SECONDS))
}

/// The throttling key of a typed username: the same for every spelling of it.
fn throttle_key(username: &str) -> String {
    username.trim().to_lowercase().chars().take(64).collect()
}

/// Checks a username and password. Unknown accounts, wrong passwords and disabled accounts
/// answer the same, after the same work.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<User, SignInError> {
    let key = throttle_key(username);
    if let Some((failures, last)) = state.store.login_failures(&key).await? {
        let wait_until = last + delay_after(failures);
        let now = lgsp_store::now();
        if now < wait_until {
            let seconds = (wait_until - now).num_milliseconds().saturating_add(999) / 1000;
            return Err(SignInError::Throttled {
                retry_after: u64::try_from(seconds).unwrap_or(1).max(1),
            });
        }
    }
    let credentials = match lgsp_core::Username::parse(username.trim()) {
        Ok(name) => match state.store.user_credentials(&name).await {
            Ok(found) => Some(found),
            Err(StoreError::NotFound(_)) => None,
            Err(other) => return Err(other.into()),
        },
        Err(_) => None,
    };
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || match credentials {
        Some((user, hash)) => password::verify(&password, &hash).then_some(user),
        None => {
            password::verify_against_nothing(&password);
            None
        }
    })
    .await
    .map_err(|_| SignInError::Invalid)?;
    match verified {
        Some(user) if !user.disabled => {
            state.store.clear_login_failures(&key).await?;
            Ok(user)
        }
        _ => {
            state.store.record_login_failure(&key).await?;
            Err(SignInError::Invalid)
        }
    }
}

/// A new session for `user`: the token to hand out, and the session's CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

pub async fn open_session(
    state: &AppState,
    user: &User,
    kind: SessionKind,
) -> Result<NewSession, StoreError> {
    let token = secrets::random_token();
    let csrf_token = secrets::random_token();
    let expires_at =
        lgsp_store::now() + Duration::minutes(i64::from(state.settings.session_minutes));
    state
        .store
        .create_session(
            &secrets::sha256_hex(&token),
            user,
            kind,
            &csrf_token,
            expires_at,
        )
        .await?;
    Ok(NewSession {
        token,
        csrf_token,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_after_a_few_failures_and_is_capped() {
        assert_eq!(delay_after(0), Duration::zero());
        assert_eq!(delay_after(2), Duration::zero());
        assert_eq!(delay_after(3), Duration::seconds(2));
        assert_eq!(delay_after(4), Duration::seconds(4));
        assert_eq!(delay_after(5), Duration::seconds(8));
        assert_eq!(delay_after(40), Duration::seconds(MAX_DELAY_SECONDS));
        assert_eq!(delay_after(u32::MAX), Duration::seconds(MAX_DELAY_SECONDS));
    }

    #[test]
    fn throttle_key_ignores_case_and_spaces() {
        assert_eq!(throttle_key(" Operator "), "operator");
    }
}
