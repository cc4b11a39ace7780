//! The leaf every exchange appends to the transparency log (Q4, Q6.2, Q15.2.e), the salted
//! hash that stands for a data subject in it, and the exchange's row in the index by agency
//! that the console lists (written with the leaf).

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chrono::{DateTime, Utc};
use lgsp_core::exchange::Target;
use lgsp_core::SystemId;
use lgsp_store::ExchangeEntry;
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A data subject as the log shows them: SHA-256 of a server secret and the `LGSP-Subject`
/// value, so that the leaf (public) names nobody, while the platform can still find every
/// exchange about one person by hashing their identifier again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn hash(salt: &[u8; 32], subject: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(subject);
        Self(
            hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The salt of subjects' hashes: 32 random bytes in `<data-dir>/keys/subject-salt`, created on
/// first start (mode 0600). Nodes of one platform share it, as they share the keys.
pub fn load_or_create_salt(data_dir: &Path) -> std::io::Result<[u8; 32]> {
    let dir = data_dir.join("keys");
    let path = dir.join("subject-salt");
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes
            .try_into()
            .map_err(|_| std::io::Error::other(format!("{} is not 32 bytes", path.display())));
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let mut salt = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    std::io::Write::write_all(&mut file, &salt)?;
    file.sync_all()?;
    Ok(salt)
}

/// What one exchange's leaf says. Built as the request goes through the gateway; whatever is
/// not known when it is refused stays empty.
#[derive(Debug, Clone)]
pub struct ExchangeLeaf {
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub method: String,
    pub route: &'static str,
    pub consumer: Option<SystemId>,
    pub client: Option<String>,
    pub target: Option<Target>,
    /// The owner agency of a dataset target.
    pub dataset_owner: Option<String>,
    pub purpose: Option<String>,
    pub grant: Option<i64>,
    /// The fields returned: the grant's (JSON pointers, or dataset field names).
    pub fields: Vec<String>,
    pub status: u16,
    /// The problem code of a refusal or failure.
    pub refusal: Option<&'static str>,
    pub request_digest: Option<String>,
    pub response_digest: Option<String>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub latency_micros: u64,
    pub subject: Option<Subject>,
}

impl ExchangeLeaf {
    pub fn new(
        at: DateTime<Utc>,
        request_id: &str,
        method: &str,
        subject: Option<Subject>,
    ) -> Self {
        Self {
            at,
            request_id: request_id.to_owned(),
            method: method.to_owned(),
            route: super::ROUTE,
            consumer: None,
            client: None,
            target: None,
            dataset_owner: None,
            purpose: None,
            grant: None,
            fields: Vec::new(),
            status: 0,
            refusal: None,
            request_digest: None,
            response_digest: None,
            request_bytes: 0,
            response_bytes: 0,
            latency_micros: 0,
            subject,
        }
    }

    /// The provider agency: the service's, or (for datasets) set by the caller.
    fn provider_agency(&self) -> Option<String> {
        match &self.target {
            Some(Target::Service { provider, .. }) => Some(provider.agency.to_string()),
            _ => None,
        }
    }

    /// The target as one label: `agency/system/service/version` or `dataset:<id>`.
    pub fn target_label(&self) -> String {
        match &self.target {
            Some(Target::Service {
                provider,
                code,
                version,
            }) => format!("{}/{}/{code}/{version}", provider.agency, provider.code),
            Some(Target::Dataset { id }) => format!("dataset:{id}"),
            None => "unknown".into(),
        }
    }

    pub fn consumer_label(&self) -> String {
        self.consumer
            .as_ref()
            .map_or_else(|| "unknown".into(), |c| format!("{}/{}", c.agency, c.code))
    }

    /// The leaf's content; `transparency::canonical_json` makes its bytes.
    pub fn to_json(&self) -> Value {
        let provider = match &self.target {
            Some(Target::Service {
                provider,
                code,
                version,
            }) => json!({
                "agency": provider.agency.as_str(),
                "system": provider.code.as_str(),
                "service": code.as_str(),
                "version": version.as_str(),
            }),
            Some(Target::Dataset { id }) => json!({
                "agency": self.dataset_owner.as_deref(),
                "dataset": id.as_str(),
            }),
            None => Value::Null,
        };
        let consumer = self.consumer.as_ref().map(|c| {
            json!({"agency": c.agency.as_str(), "system": c.code.as_str(), "client": self.client})
        });
        json!({
            "v": 1,
            "kind": "exchange",
            "time": self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "request_id": self.request_id,
            "consumer": consumer,
            "provider": provider,
            "purpose": self.purpose,
            "method": self.method,
            "route": self.route,
            "grant": self.grant,
            "fields": self.fields,
            "status": self.status,
            "refusal": self.refusal,
            "request_digest": self.request_digest,
            "response_digest": self.response_digest,
            "request_bytes": self.request_bytes,
            "response_bytes": self.response_bytes,
            "latency_us": self.latency_micros,
            "subject": self.subject.as_ref().map(Subject::as_str),
        })
    }

    /// The exchange as the console's index lists it; the log sets `log_index` when it commits.
    pub fn entry(&self) -> ExchangeEntry {
        ExchangeEntry {
            log_index: 0,
            at: self.at,
            request_id: self.request_id.clone(),
            consumer_agency: self.consumer.as_ref().map(|c| c.agency.to_string()),
            consumer_system: self.consumer.as_ref().map(|c| c.code.to_string()),
            provider_agency: self
                .provider_agency()
                .or_else(|| self.dataset_owner.clone()),
            target: self.target.as_ref().map(|_| self.target_label()),
            purpose: self.purpose.clone(),
            method: self.method.clone(),
            status: i32::from(self.status),
            refusal: self.refusal.map(str::to_owned),
            response_bytes: self.response_bytes as i64,
            latency_micros: self.latency_micros as i64,
            subject: self.subject.as_ref().map(|s| s.as_str().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q6_2_subjects_are_salted_hashes() {
        let salt = [7u8; 32];
        let other = [8u8; 32];
        let a = Subject::hash(&salt, b"035090001234");
        assert_eq!(a, Subject::hash(&salt, b"035090001234"));
        assert_ne!(a, Subject::hash(&other, b"035090001234"));
        assert_ne!(a, Subject::hash(&salt, b"035090001235"));
        assert_eq!(a.as_str().len(), 64);
        assert!(!a.as_str().contains("035090001234"));
    }
}
