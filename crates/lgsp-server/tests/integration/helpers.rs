//! `spawn_app`: the real server on 127.0.0.1:0 with the demo province, on SQLite or PostgreSQL.

use std::path::PathBuf;

use lgsp_server::app::{self, AppState};
use lgsp_server::demo::DemoCredentials;
use lgsp_server::settings::{Secret, Settings};
use lgsp_store::scratch::ScratchDatabase;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates a SQLite test and its `#[ignore]`d PostgreSQL twin from `async fn name(backend)`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {


                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::integration::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: run with --ignored postgres"]
                async fn postgres() {
                    super::$name($crate::integration::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub credentials: DemoCredentials,
    pub data_dir: PathBuf,
    /// A client without cookies that does not follow redirects.
    pub http: reqwest::Client,
    backend: Backend,
    database: Option<String>,
    configure: Configure,
    scratch: Option<ScratchDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

/// Logs go to the test output only when `TEST_LOG` is set.
fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        lgsp_server::init_tracing(&Settings {
            log_filter: "debug".into(),
            ..Settings::default()
        });
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with settings changed by `configure` (kept for restarts and second nodes).
pub async fn spawn_app_with(backend: Backend, configure: fn(&mut Settings)) -> TestApp {
    spawn_app_configured(backend, configure).await
}

/// Changes made to the test settings, kept for restarts and second nodes.
type Configure = std::sync::Arc<dyn Fn(&mut Settings) + Send + Sync>;

/// `spawn_app_with` for settings that depend on the test (a port, a path).
pub async fn spawn_app_configured(
    backend: Backend,
    configure: impl Fn(&mut Settings) + Send + Sync + 'static,
) -> TestApp {
    let configure: Configure = std::sync::Arc::new(configure);
    init_test_logging();
    let data_dir = std::env::temp_dir().join(format!("lgsp-test-{}", uuid::Uuid::now_v7()));
    let (scratch, database) = match backend {
        Backend::Sqlite => (None, None),
        Backend::Postgres => {
            let scratch = ScratchDatabase::create()
                .await
                .expect("PostgreSQL is reachable");
            let url = scratch.url();
            (Some(scratch), Some(url))
        }
    };
    let mut app = start(backend, data_dir, database, configure).await;
    app.scratch = scratch;
    app
}

async fn start(
    backend: Backend,
    data_dir: PathBuf,
    database: Option<String>,
    configure: Configure,
) -> TestApp {
    let mut settings = Settings {
        data_dir: data_dir.clone(),
        database: database.clone().map(Secret::new),
        demo: true,
        // Tests run the health-probe rounds themselves (`monitoring::probe_due`).
        health_probes: false,
        ..Settings::default()
    };
    configure(&mut settings);
    let state = lgsp_server::prepare(settings)
        .await
        .expect("the app prepares");
    let credentials: DemoCredentials = serde_json::from_slice(
        &std::fs::read(lgsp_server::demo::credentials_path(&data_dir)).expect("credentials file"),
    )
    .expect("credentials parse");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(app::run(listener, state.clone(), async move {
        let _ = stop.await;
    }));
    TestApp {
        base,
        state,
        credentials,
        data_dir,
        http: http_client(),
        backend,
        database,
        configure,
        scratch: None,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

impl TestApp {
    /// The PostgreSQL URL of the app's database; `None` for SQLite (in the data directory).
    pub fn database_url(&self) -> Option<String> {
        self.database.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn password_of(&self, username: &str) -> String {
        self.credentials
            .users
            .iter()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("demo account {username}"))
            .password
            .clone()
    }

    /// An API token for a demo account.
    pub async fn token(&self, username: &str) -> String {
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": self.password_of(username)}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "sign-in of {username}");
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A system's access token for the first demo client.
    pub async fn client_token(&self) -> (String, String) {
        let client = &self.credentials.clients[0];
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(&client.client_id, Some(&client.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        (
            client.client_id.clone(),
            body["access_token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self.http.request(method, self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// Stops the server (letting requests finish), then starts a new one on the same data
    /// directory and database, as an operator restarting the service would.
    pub async fn restart(mut self) -> TestApp {
        self.stop_server().await;
        let scratch = self.scratch.take();
        let data_dir = std::mem::take(&mut self.data_dir);
        let mut app = start(
            self.backend,
            data_dir,
            self.database.clone(),
            self.configure.clone(),
        )
        .await;
        app.scratch = scratch;
        app
    }

    /// Another server on the same data directory and database, as a second node behind a load
    /// balancer would be. Stop it before stopping this one.
    pub async fn second_node(&self) -> TestApp {
        let mut node = start(
            self.backend,
            self.data_dir.clone(),
            self.database.clone(),
            self.configure.clone(),
        )
        .await;
        // The first node owns the directory and the database: dropping this one removes neither.
        node.data_dir = PathBuf::new();
        node
    }

    async fn stop_server(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.state.store.close().await;
    }

    /// Stops the server and removes everything the test created.
    pub async fn stop(mut self) {
        self.stop_server().await;
        if let Some(scratch) = self.scratch.take() {
            scratch.drop_database().await.unwrap();
        }
    }
}

/// Asserts that `response` is a problem with `status` and `code`; returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "content type"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], format!("/docs/errors#{code}"));
    assert!(body["title"].is_string());
    body
}

impl Drop for TestApp {
    /// A test that fails half-way still drops its PostgreSQL database.
    fn drop(&mut self) {
        if let Some(scratch) = self.scratch.take() {
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                let _ = runtime.block_on(scratch.drop_database());
            })
            .join();
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
