//! Sends the e-mail outbox through the SMTP relay (`smtp`): every node takes due messages
//! under a lease, so a message goes out once even with several nodes; a refusal that may pass
//! (4xx, an unreachable relay) is retried after a doubling wait, a permanent one (5xx) or the
//! last allowed try gives up and stays visible to the operator.

use std::time::Duration;

use chrono::Utc;
use lgsp_store::{MailAttempt, OutgoingMail};

use super::smtp::{Message, Relay};
use crate::app::AppState;

/// How long a node holds the messages it took before another may take them.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Most messages taken at once.
const BATCH: i64 = 20;

/// The wait before try `attempts + 1`: the base, doubled per earlier try, at most an hour.
pub fn backoff(base_millis: u64, attempts: i32) -> Duration {
    let doubled = base_millis.saturating_mul(1 << attempts.clamp(0, 20));
    Duration::from_millis(doubled.min(3_600_000))
}

/// The text a focal officer reads: the notice, where to see it, who sent it.
fn body(state: &AppState, mail: &OutgoingMail) -> String {
    let mut text = mail.body.clone();
    if let Some(link) = &mail.link {
        let base = state.settings.public_url.as_deref().unwrap_or_default();
        text.push_str(&format!(
            "\n\nXem chi tiết: {}{link}",
            base.trim_end_matches('/')
        ));
    }
    text.push_str(&format!(
        "\n\n--\n{}\nThư được gửi tự động, vui lòng không trả lời thư này.\n",
        state.platform_name()
    ));
    text
}

/// Tries to send one message; what to record of the try.
async fn attempt(state: &AppState, relay: &Relay, mail: &OutgoingMail) -> MailAttempt {
    let id = format!("thong-bao-{}-{}@lgsp", mail.id, mail.created_at.timestamp());
    let text = body(state, mail);
    let name = state.platform_name();
    let message = Message {
        from: &state.settings.mail_from,
        from_name: &name,
        to: &mail.recipient,
        subject: &mail.subject,
        body: &text,
        id: &id,
        date: Utc::now(),
    };
    match relay.send(&message).await {
        Ok(()) => MailAttempt::Sent,
        Err(error)
            if error.is_permanent()
                || mail.attempts + 1 >= state.settings.mail_max_attempts as i32 =>
        {
            MailAttempt::Failed {
                error: error.to_string(),
            }
        }
        Err(error) => {
            let wait = backoff(state.settings.mail_retry_base_millis, mail.attempts);
            MailAttempt::Retry {
                at: lgsp_store::now() + chrono::Duration::from_std(wait).unwrap_or(LEASE),
                error: error.to_string(),
            }
        }
    }
}

/// Sends what is due, then waits `push_poll_millis`; forever.
pub async fn deliver(state: AppState, relay: Relay) {
    let mut every = tokio::time::interval(Duration::from_millis(state.settings.push_poll_millis));
    loop {
        every.tick().await;
        let now = lgsp_store::now();
        let due = match state.store.take_due_mail(now, now + LEASE, BATCH).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(error = ?error, "could not read the mail outbox");
                continue;
            }
        };
        for mail in due {
            let outcome = attempt(&state, &relay, &mail).await;
            match &outcome {
                MailAttempt::Sent => tracing::info!(mail = mail.id, "notice e-mailed"),
                MailAttempt::Retry { error, .. } => {
                    tracing::warn!(mail = mail.id, error, "notice e-mail will be retried")
                }
                MailAttempt::Failed { error } => {
                    tracing::warn!(mail = mail.id, error, "notice e-mail given up")
                }
            }
            if let Err(error) = state
                .store
                .record_mail_attempt(mail.id, lgsp_store::now(), &outcome)
                .await
            {
                tracing::warn!(mail = mail.id, error = ?error, "could not record a mail attempt");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(1000, 0), Duration::from_secs(1));
        assert_eq!(backoff(1000, 3), Duration::from_secs(8));
        assert_eq!(backoff(60_000, 10), Duration::from_secs(3600));
        assert_eq!(backoff(60_000, 1000), Duration::from_secs(3600));
    }
}
