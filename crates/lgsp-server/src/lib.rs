//! The `lgsp` program: REST API, OAuth2 token endpoint, portal and console, operations.
//!
//! Each feature module owns its routes and handlers; [`app`] assembles them.

pub mod agencies;
pub mod annual_report;
pub mod app;
pub mod attachments;
pub mod auth;
pub mod catalog;
pub mod ckan;
pub mod clients;
pub mod clock;
pub mod consents;
pub mod console;
pub mod datasets;
pub mod dcat;
pub mod demo;
pub mod error;
pub mod error_reports;
pub mod extract;
pub mod gateway;
pub mod grants;
pub mod keys;
pub mod monitoring;
pub mod notifications;
pub mod ops;
pub mod portal;
pub mod provider;
pub mod push;
pub mod quarantine;
pub mod security;
pub mod services;
pub mod settings;
pub mod sharing_requests;
pub mod signatures;
pub mod statistics;
pub mod systems;
pub mod tickets;
pub mod transparency;
pub mod users;

use std::sync::Arc;

use anyhow::Context;
use lgsp_store::Store;

use app::AppState;
use keys::Keyring;
use settings::{LogFormat, Settings};

/// Sets up logging once per process: human-readable lines or JSON, filtered by `log_filter`.
pub fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Chooses the TLS implementation for outgoing HTTPS (ring), once per process. Needed because
/// more than one may be compiled in (the browser tests' WebDriver client brings another).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Opens storage, applies migrations, loads keys and (with `demo`) the demo province.
pub async fn prepare(settings: Settings) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let relay = settings
        .smtp
        .as_ref()
        .map(|url| {
            notifications::smtp::Relay::parse(
                url.expose(),
                std::time::Duration::from_secs(settings.webhook_timeout_seconds),
            )
        })
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let store = Store::connect(settings.database_url().expose())
        .await
        .context("cannot open the database")?
        .with_mail_outbox(relay.is_some());
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    tracing::info!(backend = ?store.backend(), "storage ready");
    let interrupted = store
        .fail_interrupted_import_jobs()
        .await
        .context("cannot mark interrupted imports")?;
    if interrupted > 0 {
        tracing::warn!(
            jobs = interrupted,
            "imports interrupted by a stop were marked failed"
        );
    }
    let keys = Keyring::load_or_create(&settings.data_dir)?;
    tracing::info!(kid = %keys.active().kid, "platform key loaded");
    let mut settings = settings;
    if settings.demo {
        let path = demo::load(&store, &settings.data_dir).await?;
        println!(
            "Demo province loaded. Accounts and client secrets: {}",
            path.display()
        );
        settings
            .platform_name
            .get_or_insert_with(|| demo::PLATFORM_NAME.into());
        settings
            .province
            .get_or_insert_with(|| demo::PROVINCE.into());
        settings.regulation.get_or_insert_with(demo::regulation);
    }
    let nats = match &settings.nats {
        Some(url) => {
            let publisher =
                push::nats::Publisher::connect(url.expose(), settings.change_retention_days)
                    .await?;
            tracing::info!("publishing dataset changes to NATS JetStream");
            Some(publisher)
        }
        None => None,
    };
    let origin = transparency::origin(settings.public_url.as_deref());
    let gateway = Arc::new(
        gateway::Gateway::new(&settings, store.clone())
            .context("cannot prepare the exchange gateway")?,
    );
    let secret_guard = Arc::new(quarantine::guard(&settings)?);
    let state = AppState {
        secret_guard,
        log: transparency::TransparencyLog::start(store.clone(), &origin),
        gateway,
        store,
        keys: Arc::new(keys),
        settings: Arc::new(settings),
        search: Arc::new(lgsp_search::SearchIndex::new()?),
        imports: Arc::default(),
        report_limiter: Arc::default(),
        nats,
        relay,
        clock: clock::Clock::default(),
    };
    let indexed = catalog::search::rebuild(&state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot build the search index: {e:?}"))?;
    tracing::info!(datasets = indexed, "search index built");
    Ok(state)
}

/// `lgsp serve`: runs until SIGTERM or Ctrl-C, then finishes requests in flight.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(settings = ?settings, "starting");
    let metrics_listen = settings.metrics_listen;
    let listen = settings.listen;
    let state = prepare(settings).await?;
    if let Some(address) = metrics_listen {
        let handle = ops::prometheus();
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen for metrics on {address}"))?;
        tracing::info!(%address, "metrics at /metrics");
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, ops::metrics_router(handle)).await {
                tracing::error!(error = ?error, "metrics listener stopped");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!("LGSP is listening on http://{}", listener.local_addr()?);
    let store = state.store.clone();
    app::run(listener, state, app::shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
