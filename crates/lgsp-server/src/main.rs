//! `lgsp`: the command line of the platform.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lgsp_server::keys::Keyring;
use lgsp_server::settings::{Flags, Secret, Settings};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lgsp",
    version,
    about = "The provincial data integration and sharing platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform.
    Serve(ServeArgs),
    /// The transparency log.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Manage the platform's signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Validate a CSV file against a Table Schema; prints a Frictionless-shaped report.
    /// Exits 0 when valid, 1 when not, 2 when the file cannot be read.
    Validate {
        /// The Table Schema (JSON).
        #[arg(long)]
        schema: PathBuf,
        /// The CSV file (UTF-8; comma, semicolon or tab).
        file: PathBuf,
    },
    /// Import a CSV file or an XLSX workbook into a dataset's records (the dataset must have its
    /// schema), all or nothing, as an import job. Prints progress on stderr and the report on
    /// stdout; exits 0 when imported, 1 when the file is invalid, 2 on other errors.
    Import {
        #[command(flatten)]
        common: CommonArgs,
        /// `postgres://…` URL or SQLite file [default: <data-dir>/lgsp.db].
        #[arg(long)]
        database: Option<String>,
        /// The dataset id.
        #[arg(long)]
        dataset: String,
        /// `replace` (default), `upsert` or `append`.
        #[arg(long, default_value = "replace")]
        mode: String,
        /// XLSX: the sheet to read [default: the first].
        #[arg(long)]
        sheet: Option<String>,
        /// The CSV file (UTF-8; comma, semicolon or tab) or XLSX workbook.
        file: PathBuf,
    },
    /// Reports the platform writes.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Benchmarks only (bench/dashboard.sh): load the demo province into the database and
    /// append generated exchange leaves spread over the last days, as the gateway would.
    #[command(hide = true)]
    BenchTraffic {
        #[command(flatten)]
        common: CommonArgs,
        /// `postgres://…` URL or SQLite file [default: <data-dir>/lgsp.db].
        #[arg(long)]
        database: Option<String>,
        /// Leaves to append.
        #[arg(long, default_value_t = 10_000_000)]
        entries: u64,
        /// Days of traffic, ending today.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Leaves per append.
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
    },
    /// Print generated documentation.
    Docs {
        #[command(subcommand)]
        command: DocsCommand,
    },
}

#[derive(Args)]
struct CommonArgs {
    /// Settings file (default: ./lgsp.toml when present).
    #[arg(long, env = "LGSP_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory [default: ./lgsp-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// `postgres://…` URL or SQLite file [default: <data-dir>/lgsp.db].
    #[arg(long)]
    database: Option<String>,
    /// Address of the Prometheus metrics listener.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// Load the demo province (Hà Nam) with demo accounts and clients.
    #[arg(long)]
    demo: bool,
    /// Publish every dataset change to NATS JetStream at this URL (`nats://host:4222`),
    /// subject `lgsp.changes.<dataset>`.
    #[arg(long)]
    nats: Option<String>,
}

#[derive(Subcommand)]
enum LogCommand {
    /// Re-derive the transparency log from its entries and check it against its current signed
    /// checkpoint and against a checkpoint saved earlier. Exits 0 when consistent, 1 on
    /// evidence of tampering, 2 when the log or a file cannot be read.
    Verify {
        /// The platform's base URL, e.g. https://lgsp.hanam.gov.vn
        #[arg(long)]
        url: String,
        /// The checkpoint verifier key (as published at /log/key, obtained out of band), or a
        /// file holding it.
        #[arg(long)]
        key: String,
        /// A signed checkpoint saved earlier.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Where to save the current signed checkpoint once verified.
        #[arg(long)]
        save: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The annual report to the People's Committee on the regulation's implementation
    /// (Q17.6), with every figure's query in an appendix. Exits 2 on a bad year or format.
    Annual {
        #[command(flatten)]
        common: CommonArgs,
        /// `postgres://…` URL or SQLite file [default: <data-dir>/lgsp.db].
        #[arg(long)]
        database: Option<String>,
        /// The year reported on (Viet Nam's calendar).
        #[arg(long)]
        year: i32,
        /// docx, pdf, xlsx or html.
        #[arg(long, default_value = "docx")]
        format: String,
        /// Where to write the file [default: bao-cao-nam-YYYY.<format>].
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key; older keys stay published and verifiable.
    Rotate,
    /// List the key ids, newest last.
    List,
}

#[derive(Subcommand)]
enum DocsCommand {
    /// The error code table as Markdown (docs/errors.md).
    Errors,
    /// The OpenAPI 3.1 document of the REST API.
    Openapi,
}

fn load(common: &CommonArgs, flags: Flags) -> Result<Settings, String> {
    let flags = Flags {
        data_dir: common.data_dir.clone(),
        ..flags
    };
    Settings::load(common.config.as_deref(), std::env::vars(), &flags).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    lgsp_server::install_tls_provider();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Keys { command, common } => keys(command, &common),
        Command::Log { command } => return log(command),
        Command::Validate { schema, file } => return validate(&schema, &file),
        Command::Import {
            common,
            database,
            dataset,
            mode,
            sheet,
            file,
        } => {
            let flags = Flags {
                database: database.map(Secret::new),
                ..Flags::default()
            };
            return match load(&common, flags) {
                Ok(settings) => import(settings, &dataset, &mode, sheet, &file),
                Err(message) => {
                    eprintln!("lgsp: {message}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Report {
            command:
                ReportCommand::Annual {
                    common,
                    database,
                    year,
                    format,
                    output,
                },
        } => {
            let flags = Flags {
                database: database.map(Secret::new),
                ..Flags::default()
            };
            return match load(&common, flags) {
                Ok(settings) => annual_report(settings, year, &format, output),
                Err(message) => {
                    eprintln!("lgsp: {message}");
                    ExitCode::from(2)
                }
            };
        }
        Command::BenchTraffic {
            common,
            database,
            entries,
            days,
            batch,
        } => {
            let flags = Flags {
                database: database.map(Secret::new),
                ..Flags::default()
            };
            load(&common, flags).and_then(|settings| bench_traffic(settings, entries, days, batch))
        }
        Command::Docs { command } => {
            match command {
                DocsCommand::Errors => print!("{}", lgsp_server::error::errors_markdown()),
                DocsCommand::Openapi => {
                    let (_, openapi) = lgsp_server::app::documented_routes(&Settings::default());
                    println!("{}", openapi.to_pretty_json().unwrap_or_default());
                }
            }
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lgsp: {message}");
            ExitCode::FAILURE
        }
    }
}

fn bench_traffic(settings: Settings, entries: u64, days: u32, batch: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let store = lgsp_store::Store::connect(settings.database_url().expose())
            .await
            .map_err(|e| e.to_string())?;
        store.migrate().await.map_err(|e| e.to_string())?;
        lgsp_server::demo::load(&store, &settings.data_dir)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let plan = lgsp_server::demo::traffic::Plan {
            entries,
            days,
            last_day: lgsp_server::catalog::today(),
            batch: batch.max(1),
        };
        let outcome = lgsp_server::demo::traffic::generate(&store, plan)
            .await
            .map_err(|e| format!("{e:#}"));
        store.close().await;
        outcome
    })
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let flags = Flags {
        listen: args.listen,
        database: args.database.map(Secret::new),
        metrics_listen: args.metrics_listen,
        demo: args.demo,
        nats: args.nats.map(Secret::new),
        ..Flags::default()
    };
    let settings = load(&args.common, flags)?;
    lgsp_server::init_tracing(&settings);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let served = runtime
        .block_on(lgsp_server::serve(settings))
        .map_err(|e| format!("{e:#}"));
    // Requests are finished and the store closed; what may still run is a monitoring probe's
    // name lookup on a blocking thread, which can take the resolver's whole timeout. Do not
    // hold the exit for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    served
}

fn log(command: LogCommand) -> ExitCode {
    use lgsp_server::transparency::verify::{verify_log, VerifyError};
    let LogCommand::Verify {
        url,
        key,
        checkpoint,
        save,
    } = command;
    let fail = |message: String| {
        eprintln!("lgsp: {message}");
        ExitCode::from(2)
    };
    let key = match std::fs::read_to_string(&key) {
        Ok(contents) => contents,
        Err(_) if key.contains('+') => key,
        Err(e) => return fail(format!("{key}: {e}")),
    };
    let saved = match checkpoint
        .as_deref()
        .map(std::fs::read_to_string)
        .transpose()
    {
        Ok(saved) => saved,
        Err(e) => return fail(format!("the saved checkpoint: {e}")),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(e.to_string()),
    };
    match runtime.block_on(verify_log(&url, &key, saved.as_deref())) {
        Ok(verified) => {
            match verified.saved_size {
                Some(old) => println!(
                    "ok: {} entries re-derived; the root matches the signed checkpoint and \
                     extends the saved checkpoint of {old} entries",
                    verified.current.size
                ),
                None => println!(
                    "ok: {} entries re-derived; the root matches the signed checkpoint",
                    verified.current.size
                ),
            }
            if let Some(path) = save {
                if let Err(e) = std::fs::write(&path, &verified.note) {
                    return fail(format!("{}: {e}", path.display()));
                }
            }
            ExitCode::SUCCESS
        }
        Err(VerifyError::Inconsistent(message)) => {
            eprintln!("lgsp: NOT CONSISTENT: {message}");
            ExitCode::from(1)
        }
        Err(VerifyError::Unavailable(message)) => fail(message),
    }
}

fn keys(command: KeysCommand, common: &CommonArgs) -> Result<(), String> {
    let settings = load(common, Flags::default())?;
    let keyring = match command {
        KeysCommand::Rotate => Keyring::rotate(&settings.data_dir),
        KeysCommand::List => Keyring::load_or_create(&settings.data_dir),
    }
    .map_err(|e| e.to_string())?;
    for key in keyring.keys() {
        println!("{}  created {}", key.kid, key.created_at.to_rfc3339());
    }
    if matches!(command, KeysCommand::Rotate) {
        println!(
            "New signing key: {}. Restart the servers to sign with it.",
            keyring.active().kid
        );
    }
    Ok(())
}

fn validate(schema: &std::path::Path, file: &std::path::Path) -> ExitCode {
    let schema: lgsp_core::table_schema::TableSchema = match std::fs::read(schema)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(schema) => schema,
        Err(message) => {
            eprintln!("lgsp: the schema {}: {message}", schema.display());
            return ExitCode::from(2);
        }
    };
    let outcome = std::fs::File::open(file)
        .map_err(lgsp_server::datasets::validation::ReadError::from)
        .and_then(|input| {
            lgsp_server::datasets::validation::validate_csv(input, &schema, Vec::new(), |_| {})
        });
    match outcome {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            if report.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("lgsp: {}: {error}", file.display());
            ExitCode::from(2)
        }
    }
}

fn import(
    settings: Settings,
    dataset: &str,
    mode: &str,
    sheet: Option<String>,
    file: &std::path::Path,
) -> ExitCode {
    use std::io::Read;

    use lgsp_server::datasets::import::{looks_like_xlsx, Progress, Source};
    use lgsp_server::datasets::jobs;
    use lgsp_server::error::ErrorCode;

    let fail = |message: String| {
        eprintln!("lgsp: {message}");
        ExitCode::from(2)
    };
    let mode = match lgsp_server::datasets::parse_mode(Some(mode)) {
        Ok(mode) => mode,
        Err(_) => return fail(format!("unknown mode `{mode}`: replace, upsert or append")),
    };
    let dataset = match lgsp_core::catalog::DatasetId::parse(dataset) {
        Ok(id) => id,
        Err(e) => return fail(format!("dataset id: {e}")),
    };
    let mut input = match std::fs::File::open(file) {
        Ok(input) => input,
        Err(e) => return fail(format!("{}: {e}", file.display())),
    };
    let mut head = [0u8; 4];
    let head_len = input.read(&mut head).unwrap_or(0);
    let xlsx = looks_like_xlsx(&head[..head_len])
        || file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let source = if xlsx {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        if size > settings.max_xlsx_bytes {
            return fail(format!(
                "{}: an XLSX workbook is read whole, so it may be at most {} bytes (`max_xlsx_bytes`); save it as CSV, which streams",
                file.display(),
                settings.max_xlsx_bytes
            ));
        }
        match std::fs::read(file) {
            Ok(bytes) => Source::Xlsx { bytes, sheet },
            Err(e) => return fail(format!("{}: {e}", file.display())),
        }
    } else {
        Source::Csv(Box::new(
            std::io::Cursor::new(head[..head_len].to_vec()).chain(input),
        ))
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(e.to_string()),
    };
    runtime.block_on(async {
        let store = match lgsp_store::Store::connect(settings.database_url().expose()).await {
            Ok(store) => store,
            Err(e) => return fail(format!("cannot open the database: {e}")),
        };
        if let Err(e) = store.migrate().await {
            return fail(format!("cannot migrate the database: {e}"));
        }
        let table = match store.record_table(&dataset).await {
            Ok(Some(table)) => table,
            Ok(None) => return fail(format!("dataset {dataset} has no schema yet")),
            Err(e) => return fail(e.to_string()),
        };
        let by = format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        );
        let job = match jobs::create(&store, &table, mode, source.format(), &by).await {
            Ok(job) => job,
            Err(e) => return fail(e.to_string()),
        };
        eprintln!("lgsp: import job {job}");
        let progress = std::sync::Arc::new(Progress::default());
        let watched = progress.clone();
        let ticker = tokio::spawn(async move {
            let mut last = (0, 0);
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                let now = (watched.read(), watched.written());
                if now != last {
                    eprintln!("lgsp: {} rows read, {} written", now.0, now.1);
                    last = now;
                }
            }
        });
        let guard = match settings.secret_guard() {
            Ok(guard) => std::sync::Arc::new(guard),
            Err(e) => return fail(e.to_string()),
        };
        let guarded = jobs::Guarded {
            guard,
            log: lgsp_server::transparency::TransparencyLog::start(
                store.clone(),
                &lgsp_server::transparency::origin(settings.public_url.as_deref()),
            ),
        };
        let outcome =
            jobs::run_tracked(&store, &guarded, &job, &table, mode, source, progress).await;
        ticker.abort();
        store.close().await;
        match outcome {
            Ok(imported) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&imported).unwrap_or_default()
                );
                ExitCode::SUCCESS
            }
            Err(problem) if problem.code() == ErrorCode::ImportInvalid => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&problem.extension("report")).unwrap_or_default()
                );
                ExitCode::from(1)
            }
            Err(problem) => fail(format!(
                "{}: {}",
                problem.code().code(),
                problem.detail_text().unwrap_or("the import failed")
            )),
        }
    })
}

fn annual_report(settings: Settings, year: i32, format: &str, output: Option<PathBuf>) -> ExitCode {
    use lgsp_server::annual_report::{self, render, Format};

    let fail = |message: String| {
        eprintln!("lgsp: {message}");
        ExitCode::from(2)
    };
    let Some(format) = Format::parse(format) else {
        return fail(format!(
            "unknown format `{format}`: {}",
            render::format_names()
        ));
    };
    let today = annual_report::vietnam_date(chrono::Utc::now());
    if let Err(error) = annual_report::check_year(year, today, annual_report::first_year(&settings))
    {
        return fail(format!("no report for {year}: {error}"));
    }
    let output = output.unwrap_or_else(|| PathBuf::from(format.file_name(year)));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(e.to_string()),
    };
    runtime.block_on(async {
        let store = match lgsp_store::Store::connect(settings.database_url().expose()).await {
            Ok(store) => store,
            Err(e) => return fail(format!("cannot open the database: {e}")),
        };
        if let Err(e) = store.migrate().await {
            return fail(format!("cannot migrate the database: {e}"));
        }
        let started = std::time::Instant::now();
        let built = annual_report::build(&store, &settings, year, today).await;
        store.close().await;
        let document = match built {
            Ok(document) => document,
            Err(e) => return fail(format!("cannot read the figures: {e}")),
        };
        let bytes = match render::render(format, &document) {
            Ok(bytes) => bytes,
            Err(e) => return fail(e.to_string()),
        };
        if let Err(e) = std::fs::write(&output, bytes) {
            return fail(format!("{}: {e}", output.display()));
        }
        eprintln!(
            "lgsp: the report of {year} ({} figures) written to {} in {:.1} s",
            document.figures.len(),
            output.display(),
            started.elapsed().as_secs_f64()
        );
        ExitCode::SUCCESS
    })
}
