//! Settings: defaults → `lgsp.toml` (or `--config FILE`) → `LGSP_*` environment → flags.
//!
//! Unknown keys are errors at every layer, so a misspelt setting never goes unnoticed. Secrets
//! can come from files (`database_file`, `LGSP_DATABASE_FILE`) and print as `***`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A value that must never appear in logs or output: it prints as `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything `lgsp serve` can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address of the web server (portal, console, API, gateway).
    pub listen: SocketAddr,
    /// Where the platform keeps its files: the SQLite database, keys, demo credentials.
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL, or a SQLite path; default `<data_dir>/lgsp.db`.
    pub database: Option<Secret>,
    /// A file whose content is the database URL (for secrets mounted as files).
    pub database_file: Option<PathBuf>,
    /// Address of the Prometheus `/metrics` listener; none when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Load the demo province at start.
    pub demo: bool,
    pub log_format: LogFormat,
    /// `tracing` filter, e.g. `info` or `lgsp_server=debug,info`.
    pub log_filter: String,
    /// The name at the top of every page, e.g. "Nền tảng tích hợp, chia sẻ dữ liệu tỉnh Hà Nam".
    pub platform_name: Option<String>,
    /// The URL people reach the platform at; when it is `https://…` cookies are marked Secure.
    pub public_url: Option<String>,
    /// How long a console session lasts without signing in again.
    pub session_minutes: u32,
    /// Lifetime of OAuth2 access tokens issued to systems.
    pub token_seconds: u32,
    /// Largest request body accepted by the API, in bytes.
    pub max_body_bytes: usize,
    /// Largest uploaded document (e.g. a proposal's official letter), in bytes.
    pub max_upload_bytes: usize,
    /// Largest data file an import takes, in bytes (imports stream: memory does not grow).
    pub max_import_bytes: u64,
    /// Largest XLSX workbook an import takes, in bytes. A workbook is a zip archive read whole
    /// into memory (it cannot stream, unlike CSV): memory grows with it, several times its size.
    pub max_xlsx_bytes: u64,
    /// How many days a dataset's change feed keeps its changes; older ones are pruned and a
    /// client that fell further behind downloads everything again.
    pub change_retention_days: u32,
    /// How many error reports one client address (an IPv6 /64) may send per minute without
    /// signing in; 0 means no limit. Signed-in people are not limited.
    pub error_reports_per_minute: u32,
    /// The request header holding the client's address when the platform runs behind a
    /// reverse proxy (e.g. `x-forwarded-for`, whose last address is taken, or `x-real-ip`).
    /// Set it only if the proxy always overwrites or appends to it: clients can send it too.
    /// Unset, the address of the TCP connection is used.
    pub client_ip_header: Option<String>,
    /// A NATS server (`nats://host:4222`, credentials allowed in the URL): every change of
    /// every hosted dataset is also published to JetStream, subject `lgsp.changes.<dataset>`
    /// in stream `LGSP_CHANGES`. None: no publication.
    pub nats: Option<Secret>,
    /// How often each node looks for changes to push (webhooks, NATS), in milliseconds.
    pub push_poll_millis: u64,
    /// The wait before the first retry of a failed push, in milliseconds; it doubles with
    /// each consecutive failure up to `push_retry_max_seconds`.
    pub push_retry_base_millis: u64,
    pub push_retry_max_seconds: u64,
    /// Most changes in one webhook delivery.
    pub webhook_batch_size: u32,
    /// How long a receiver has to answer a delivery.
    pub webhook_timeout_seconds: u64,
    /// Consecutive failed deliveries after which a subscription is dead (stops until
    /// reactivated).
    pub webhook_max_failures: u32,
    /// Accept `http://` targets on the loopback interface (localhost, 127.0.0.0/8, [::1]);
    /// for tests and local tools, never for agencies' systems.
    pub webhook_allow_http_loopback: bool,
    /// How long the gateway waits to connect to a provider's upstream, in milliseconds
    /// (then 502 `upstream_unreachable`).
    pub gateway_connect_timeout_millis: u64,
    /// How long the gateway waits for a provider's whole answer, in milliseconds (then 504
    /// `upstream_timeout`).
    pub gateway_timeout_millis: u64,
    /// The largest request body the gateway forwards (larger: 413 `payload_too_large`).
    pub gateway_max_request_bytes: u64,
    /// The largest answer the gateway reads from a provider (larger: 502
    /// `upstream_response_too_large`).
    pub gateway_max_response_bytes: u64,
    /// Days off besides weekends, as `YYYY-MM-DD` (Tết, 30/4, 1/5, 2/9 and the days the
    /// government moves each year); deadlines counted in working days skip them.
    pub holidays: Vec<chrono::NaiveDate>,
    /// Working days a provider has to answer a sharing request before it is overdue and
    /// escalated to the operator.
    pub request_response_working_days: u32,
    /// The province's mail relay, `smtp://[user:password@]host[:port]`: notices are also
    /// e-mailed to agencies' focal officers. None: in-app notifications only.
    pub smtp: Option<Secret>,
    /// The sender of those e-mails.
    pub mail_from: String,
    /// The wait before retrying a message the relay did not take; it doubles per try, up to
    /// an hour.
    pub mail_retry_base_millis: u64,
    /// Tries after which a message is given up.
    pub mail_max_attempts: u32,
    /// Rules of the state-secret guard added to (or, with `secret_builtin_rules = false`,
    /// replacing) the built-in ones: `[[secret_rules]]` tables with `id`, `kind` (`stamp` or
    /// `label`), `phrases` and, for labels, `clear_values`.
    pub secret_rules: Vec<lgsp_core::secret_guard::RuleSpec>,
    /// Whether the built-in rules (the stamps Mật, Tối mật, Tuyệt mật; "Độ mật:" lines) apply.
    pub secret_builtin_rules: bool,
    /// How often each registered system's health URL is probed, in seconds. With several
    /// nodes, one of them probes each system per round.
    pub health_probe_seconds: u64,
    /// Failed probes in a row after which the system's agency is alerted (once per outage).
    pub health_failures_before_alert: u32,
    /// Whether this node takes part in probing; off for a node without a route to the
    /// agencies' networks (and in tests, which run the rounds themselves).
    pub health_probes: bool,
    /// The province as its documents name it, e.g. "Hà Nam". Unset: taken from the name of
    /// the provincial People's Committee in the agency registry.
    pub province: Option<String>,
    /// The provincial regulation the platform implements, which the annual report (Q17.6)
    /// answers to. Unset: the People's Committee's document the catalog cites most.
    pub regulation: Option<Regulation>,
}

/// A provincial regulation as the annual report cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regulation {
    /// The decision issuing it, e.g. "07/2021/QĐ-UBND".
    pub number: String,
    pub date: chrono::NaiveDate,
    /// e.g. "Quy chế kết nối, chia sẻ, khai thác và sử dụng cơ sở dữ liệu dùng chung tỉnh Hà Nam".
    pub title: String,
    /// The clause that asks for the annual report, e.g. "khoản 6 Điều 17".
    #[serde(default)]
    pub report_clause: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("lgsp-data"),
            database: None,
            database_file: None,
            metrics_listen: None,
            demo: false,
            log_format: LogFormat::Human,
            // tantivy logs every segment file it deletes at `info`.
            log_filter: "info,tantivy=warn".into(),
            platform_name: None,
            public_url: None,
            session_minutes: 8 * 60,
            token_seconds: 3600,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
            max_import_bytes: 2 * 1024 * 1024 * 1024,
            max_xlsx_bytes: 50 * 1024 * 1024,
            change_retention_days: 90,
            error_reports_per_minute: 5,
            client_ip_header: None,
            nats: None,
            push_poll_millis: 1000,
            push_retry_base_millis: 10_000,
            push_retry_max_seconds: 3600,
            webhook_batch_size: 100,
            webhook_timeout_seconds: 10,
            webhook_max_failures: 15,
            webhook_allow_http_loopback: false,
            gateway_connect_timeout_millis: 3_000,
            gateway_timeout_millis: 30_000,
            gateway_max_request_bytes: 1024 * 1024,
            gateway_max_response_bytes: 10 * 1024 * 1024,
            holidays: Vec::new(),
            request_response_working_days: 5,
            smtp: None,
            mail_from: "lgsp@localhost".into(),
            mail_retry_base_millis: 60_000,
            mail_max_attempts: 10,
            secret_rules: Vec::new(),
            secret_builtin_rules: true,
            health_probe_seconds: 60,
            health_failures_before_alert: 3,
            health_probes: true,
            province: None,
            regulation: None,
        }
    }
}

/// Values given as command-line flags; only those present override the other layers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats: Option<Secret>,
}

/// The settings file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG: &str = "lgsp.toml";

/// Why settings could not be loaded; the message names the setting and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid settings: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("the configuration file {0} does not exist")]
    MissingConfig(PathBuf),
    #[error("cannot read the secret file {path}: {source}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("set either `database` or `database_file`, not both")]
    DatabaseTwice,
    #[error("`session_minutes`, `token_seconds`, `max_body_bytes`, `max_upload_bytes`, `push_poll_millis`, `webhook_batch_size`, `webhook_timeout_seconds`, `webhook_max_failures`, `request_response_working_days`, `mail_max_attempts`, `health_probe_seconds`, `health_failures_before_alert` and the `gateway_*` settings must be positive")]
    NotPositive,
    #[error("invalid `secret_rules`: {0}")]
    SecretRules(String),
    #[error("`secret_builtin_rules = false` needs at least one rule in `secret_rules`")]
    NoSecretRules,
}

impl Settings {
    /// Loads settings from the layers. `config` is the `--config` file (it must exist); without
    /// it `./lgsp.toml` is read when present. `env` is the process environment (a parameter, so
    /// tests need not touch the real one).
    pub fn load(
        config: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &Flags,
    ) -> Result<Self, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match config {
            Some(path) if !path.exists() => {
                return Err(SettingsError::MissingConfig(path.to_owned()))
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG))
            }
            None => {}
        }
        let env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("LGSP_") && key != "LGSP_CONFIG")
            .collect();
        figment = figment
            .merge(env_provider(env))
            .merge(Serialized::defaults(flags));
        let mut settings: Settings = figment.extract().map_err(Box::new)?;
        if let Some(path) = settings.database_file.take() {
            if settings.database.is_some() {
                return Err(SettingsError::DatabaseTwice);
            }
            let url = std::fs::read_to_string(&path)
                .map_err(|source| SettingsError::SecretFile { path, source })?;
            settings.database = Some(Secret::new(url.trim()));
        }
        if settings.session_minutes == 0
            || settings.token_seconds == 0
            || settings.max_body_bytes == 0
            || settings.push_poll_millis == 0
            || settings.webhook_batch_size == 0
            || settings.webhook_timeout_seconds == 0
            || settings.webhook_max_failures == 0
            || settings.gateway_connect_timeout_millis == 0
            || settings.gateway_timeout_millis == 0
            || settings.gateway_max_request_bytes == 0
            || settings.gateway_max_response_bytes == 0
            || settings.request_response_working_days == 0
            || settings.mail_max_attempts == 0
            || settings.health_probe_seconds == 0
            || settings.health_failures_before_alert == 0
        {
            return Err(SettingsError::NotPositive);
        }
        settings.secret_guard()?;
        Ok(settings)
    }

    /// The province's working-day calendar.
    pub fn calendar(&self) -> lgsp_core::calendar::WorkCalendar {
        lgsp_core::calendar::WorkCalendar::new(self.holidays.iter().copied())
    }

    /// The state-secret guard these settings describe.
    pub fn secret_guard(&self) -> Result<lgsp_core::secret_guard::SecretGuard, SettingsError> {
        let mut rules = if self.secret_builtin_rules {
            lgsp_core::secret_guard::builtin_rules()
        } else {
            Vec::new()
        };
        rules.extend(self.secret_rules.iter().cloned());
        if rules.is_empty() {
            return Err(SettingsError::NoSecretRules);
        }
        lgsp_core::secret_guard::SecretGuard::new(rules)
            .map_err(|e| SettingsError::SecretRules(e.to_string()))
    }

    /// The database URL: the configured one, or the SQLite file in the data directory.
    pub fn database_url(&self) -> Secret {
        self.database.clone().unwrap_or_else(|| {
            Secret::new(format!(
                "sqlite://{}",
                self.data_dir.join("lgsp.db").display()
            ))
        })
    }

    /// Whether cookies get the `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

/// `LGSP_FOO_BAR=x` sets `foo_bar`; every `LGSP_*` variable must name a setting. Values are
/// parsed like figment's own `Env` provider (numbers, booleans, strings); taking the variables
/// as a list rather than from the process keeps the loader testable.
fn env_provider(vars: Vec<(String, String)>) -> impl figment::Provider {
    use figment::value::{Dict, Map, Value};
    struct Vars(Vec<(String, String)>);
    impl figment::Provider for Vars {
        fn metadata(&self) -> figment::Metadata {
            figment::Metadata::named("LGSP_* environment variable")
        }
        fn data(&self) -> Result<Map<figment::Profile, Dict>, figment::Error> {
            let mut dict = Dict::new();
            for (key, value) in &self.0 {
                let name = key["LGSP_".len()..].to_ascii_lowercase();
                let parsed = value
                    .parse::<Value>()
                    .unwrap_or_else(|_| Value::from(value.clone()));
                dict.insert(name, parsed);
            }
            Ok(figment::Profile::Default.collect(dict))
        }
    }
    Vars(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A directory for one test, removed when dropped.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl std::ops::Deref for Scratch {
        type Target = PathBuf;
        fn deref(&self) -> &PathBuf {
            &self.0
        }
    }

    fn scratch(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("lgsp-settings-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    #[test]
    fn defaults() {
        let s = Settings::load(None, env(&[]), &Flags::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("lgsp-data"));
        assert_eq!(s.database_url().expose(), "sqlite://lgsp-data/lgsp.db");
        assert!(!s.demo);
    }

    #[test]
    fn layers_override_in_order_file_env_flags() {
        let dir = scratch("layers");
        let file = dir.join("lgsp.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/file\"\nlog_format = \"json\"\ntoken_seconds = 600\n",
        )
        .unwrap();
        let from_file = Settings::load(Some(&file), env(&[]), &Flags::default()).unwrap();
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.log_format, LogFormat::Json);

        let from_env = Settings::load(
            Some(&file),
            env(&[
                ("LGSP_DATA_DIR", "/srv/env"),
                ("LGSP_TOKEN_SECONDS", "60"),
                ("OTHER", "x"),
            ]),
            &Flags::default(),
        )
        .unwrap();
        assert_eq!(from_env.data_dir, PathBuf::from("/srv/env"));
        assert_eq!(from_env.token_seconds, 60);
        assert_eq!(from_env.listen.port(), 9000);

        let flags = Flags {
            data_dir: Some("/srv/flag".into()),
            demo: true,
            ..Flags::default()
        };
        let from_flags =
            Settings::load(Some(&file), env(&[("LGSP_DATA_DIR", "/srv/env")]), &flags).unwrap();
        assert_eq!(from_flags.data_dir, PathBuf::from("/srv/flag"));
        assert!(from_flags.demo);
    }

    #[test]
    fn holidays_come_from_the_file_and_shape_the_calendar() {
        let dir = scratch("holidays");
        let file = dir.join("lgsp.toml");
        std::fs::write(
            &file,
            "holidays = [\"2026-09-01\", \"2026-09-02\"]\nrequest_response_working_days = 3\n",
        )
        .unwrap();
        let s = Settings::load(Some(&file), env(&[]), &Flags::default()).unwrap();
        assert_eq!(s.request_response_working_days, 3);
        let calendar = s.calendar();
        let day = |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        assert!(!calendar.is_working_day(day("2026-09-01")));
        assert!(calendar.is_working_day(day("2026-09-03")));

        std::fs::write(&file, "holidays = [\"02/09/2026\"]\n").unwrap();
        let err = Settings::load(Some(&file), env(&[]), &Flags::default()).unwrap_err();
        assert!(err.to_string().contains("holidays"), "{err}");
    }

    #[test]
    fn unknown_settings_are_errors() {
        let dir = scratch("unknown");
        let file = dir.join("lgsp.toml");
        std::fs::write(&file, "listn = \"127.0.0.1:9000\"\n").unwrap();
        let err = Settings::load(Some(&file), env(&[]), &Flags::default()).unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");

        let err =
            Settings::load(None, env(&[("LGSP_DATA_DIRR", "x")]), &Flags::default()).unwrap_err();
        assert!(err.to_string().contains("data_dirr"), "{err}");

        let err = Settings::load(Some(&dir.join("missing.toml")), env(&[]), &Flags::default())
            .unwrap_err();
        assert!(matches!(err, SettingsError::MissingConfig(_)));

        let err = Settings::load(
            None,
            env(&[("LGSP_LISTEN", "not an address")]),
            &Flags::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("listen"), "{err}");
    }

    #[test]
    fn push_settings_come_from_the_environment_and_the_nats_url_never_prints() {
        let s = Settings::load(
            None,
            env(&[
                ("LGSP_NATS", "nats://lgsp:n4ts-secret@nats.example.vn:4222"),
                ("LGSP_PUSH_POLL_MILLIS", "250"),
                ("LGSP_WEBHOOK_MAX_FAILURES", "4"),
                ("LGSP_WEBHOOK_ALLOW_HTTP_LOOPBACK", "true"),
            ]),
            &Flags::default(),
        )
        .unwrap();
        assert_eq!(
            s.nats.as_ref().map(Secret::expose),
            Some("nats://lgsp:n4ts-secret@nats.example.vn:4222")
        );
        assert_eq!((s.push_poll_millis, s.webhook_max_failures), (250, 4));
        assert!(s.webhook_allow_http_loopback);
        assert!(!format!("{s:?}").contains("n4ts-secret"));
        let flag = Flags {
            nats: Some(Secret::new("nats://127.0.0.1:4222")),
            ..Flags::default()
        };
        let s = Settings::load(None, env(&[("LGSP_NATS", "nats://other:4222")]), &flag).unwrap();
        assert_eq!(s.nats.unwrap().expose(), "nats://127.0.0.1:4222");
        let zero = Settings::load(
            None,
            env(&[("LGSP_WEBHOOK_MAX_FAILURES", "0")]),
            &Flags::default(),
        );
        assert!(matches!(zero, Err(SettingsError::NotPositive)));
        let defaults = Settings::default();
        assert!(defaults.nats.is_none() && !defaults.webhook_allow_http_loopback);
    }

    #[test]
    fn q20_3_secret_rules_are_added_or_replace_the_built_in_ones() {
        let dir = scratch("secret-rules");
        let file = dir.join("lgsp.toml");
        std::fs::write(
            &file,
            "[[secret_rules]]\nid = \"confidential\"\nkind = \"stamp\"\nphrases = [\"confidential\"]\n",
        )
        .unwrap();
        let added = Settings::load(Some(&file), env(&[]), &Flags::default()).unwrap();
        let guard = added.secret_guard().unwrap();
        assert!(!guard.findings_in_text("CONFIDENTIAL").is_empty());
        assert!(!guard.findings_in_text("TỐI MẬT").is_empty());
        let replaced = Settings::load(
            Some(&file),
            env(&[("LGSP_SECRET_BUILTIN_RULES", "false")]),
            &Flags::default(),
        )
        .unwrap();
        let guard = replaced.secret_guard().unwrap();
        assert!(guard.findings_in_text("TỐI MẬT").is_empty());
        std::fs::write(
            &file,
            "[[secret_rules]]\nid = \"Bad Id\"\nkind = \"stamp\"\nphrases = [\"x\"]\n",
        )
        .unwrap();
        let err = Settings::load(Some(&file), env(&[]), &Flags::default()).unwrap_err();
        assert!(matches!(err, SettingsError::SecretRules(_)), "{err}");
        let none = Settings::load(
            None,
            env(&[("LGSP_SECRET_BUILTIN_RULES", "false")]),
            &Flags::default(),
        );
        assert!(matches!(none, Err(SettingsError::NoSecretRules)));
    }

    #[test]
    fn secrets_come_from_files_and_never_print() {
        let dir = scratch("secret");
        let secret_file = dir.join("db-url");
        std::fs::write(&secret_file, "postgres://lgsp:s3cr3t-pass@db/lgsp\n").unwrap();
        let s = Settings::load(
            None,
            env(&[("LGSP_DATABASE_FILE", secret_file.to_str().unwrap())]),
            &Flags::default(),
        )
        .unwrap();
        assert_eq!(
            s.database_url().expose(),
            "postgres://lgsp:s3cr3t-pass@db/lgsp"
        );
        let printed = format!("{s:?} {}", s.database_url());
        assert!(!printed.contains("s3cr3t"), "{printed}");

        let both = Settings::load(
            None,
            env(&[
                ("LGSP_DATABASE_FILE", secret_file.to_str().unwrap()),
                ("LGSP_DATABASE", "postgres://x"),
            ]),
            &Flags::default(),
        );
        assert!(matches!(both, Err(SettingsError::DatabaseTwice)));
    }
}
