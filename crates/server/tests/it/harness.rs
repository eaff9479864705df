//! A real server on 127.0.0.1:0 over a fresh data directory, and a small client for it.

use engine::{Clock, Engine, EngineConfig, ManualClock, SandboxPayouts, SystemClock, TestPaymentProvider};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{Server, ServerConfig};
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) const ADMIN_TOKEN: &str = "admin-token-for-tests-0123456789";

pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) client: reqwest::Client,
    pub(crate) manual_clock: Option<Arc<ManualClock>>,
    pub(crate) payments: Arc<TestPaymentProvider>,
    pub(crate) payouts: Arc<SandboxPayouts>,
    pub(crate) engine: Arc<Engine>,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<std::io::Result<()>>,
    options: Options,
    _data_dir: tempfile::TempDir,
    /// The schema of a server started on PostgreSQL by `LIVEDROP_TEST_JOURNAL=postgres`.
    _pg_schema: Option<Arc<PgSchema>>,
}

#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) rate_limit_per_ip: u32,
    pub(crate) rate_limit_per_account: u32,
    /// 0 (off) by default, like the other rate limits.
    pub(crate) signups_per_second: u32,
    pub(crate) manual_clock: bool,
    pub(crate) payment_latency_ms: u64,
    /// Defaults to the domain's default (5 000 minor units).
    pub(crate) refund_approval_threshold_minor: Option<i64>,
    /// Defaults to the server's timeouts with no per-IP cap: every test client is 127.0.0.1.
    pub(crate) connections: Option<server::ConnectionLimits>,
    /// Defaults to the engine's (10 % fee, same-day payouts, minimum 100, windows on request only).
    pub(crate) money: Option<engine::MoneyConfig>,
    /// The admins' tokens; by default one admin, `admin`, with `ADMIN_TOKEN`.
    pub(crate) admins: Option<Vec<engine::AdminToken>>,
    /// Where the journal lives; by default SQLite in the test's data directory.
    pub(crate) journal: Option<engine::JournalLocation>,
    /// Refuse private webhook targets, as a server does by default; tests' receivers are on
    /// loopback, so they are allowed unless this is set.
    pub(crate) webhooks_refuse_private: bool,
}

/// A PostgreSQL schema of a test's own, named by `location`, dropped when this is (also when the
/// test fails). `None`, after saying so on stderr, when PG_URL is not set.
pub(crate) struct PgSchema {
    url: String,
    schema: String,
    pub(crate) location: engine::JournalLocation,
}

impl PgSchema {
    pub(crate) fn create(test: &str) -> Option<PgSchema> {
        let Ok(url) = std::env::var("PG_URL") else {
            // Past the harness's capture, so that a run without PostgreSQL says what it skipped.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("{test} on PostgreSQL: skipped: PG_URL not set\n").as_bytes(),
            );
            return None;
        };
        static SCHEMAS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SCHEMAS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let schema = format!("ld_it_{}_{n}", std::process::id());
        pg_sql(&url, &format!("CREATE SCHEMA {schema}")).unwrap();
        let separator = if url.contains('?') { '&' } else { '?' };
        let location =
            engine::JournalLocation::Postgres(format!("{url}{separator}options=-c%20search_path%3D{schema}"));
        Some(PgSchema { url, schema, location })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Err(error) = pg_sql(&self.url, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)) {
            eprintln!("could not drop the test schema {}: {error}", self.schema);
        }
    }
}

/// On a thread of its own: the sync client must not run on the async runtime's threads.
fn pg_sql(url: &str, statements: &str) -> Result<(), String> {
    let (url, statements) = (url.to_owned(), statements.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).map_err(|error| error.to_string())?;
        client.batch_execute(&statements).map_err(|error| error.to_string())
    })
    .join()
    .expect("the SQL thread")
}

/// What a drop fixture is made of.
pub(crate) struct Fixture {
    pub(crate) creator: String,
    pub(crate) room_id: String,
    pub(crate) product_id: String,
    pub(crate) drop_id: String,
}

impl TestServer {
    /// With `LIVEDROP_TEST_JOURNAL=postgres` (and PG_URL), every server whose options name no
    /// journal runs on a PostgreSQL schema of its own: the whole suite on the other backend.
    pub(crate) async fn start(mut options: Options) -> TestServer {
        let mut pg_schema = None;
        if options.journal.is_none() && std::env::var("LIVEDROP_TEST_JOURNAL").as_deref() == Ok("postgres") {
            let schema = PgSchema::create("a server").expect("LIVEDROP_TEST_JOURNAL=postgres needs PG_URL");
            options.journal = Some(schema.location.clone());
            pg_schema = Some(Arc::new(schema));
        }
        let data_dir = tempfile::tempdir().unwrap();
        let manual_clock = options.manual_clock.then(|| Arc::new(ManualClock::new(SystemClock.now())));
        let latency = std::time::Duration::from_millis(options.payment_latency_ms);
        let mut payments = TestPaymentProvider::with_latency(latency);
        // The provider stamps its charges with the server's clock, so their age follows the test's.
        if let Some(clock) = &manual_clock {
            payments = payments.with_clock(clock.clone());
        }
        let payments = Arc::new(payments);
        let payouts = Arc::new(SandboxPayouts::open(&engine::sandbox_payouts_path(data_dir.path())).unwrap());
        TestServer::start_on(options, data_dir, manual_clock, payments, payouts, pg_schema).await
    }

    /// Stops the server and its engine cleanly, then starts them again on the same journal, clock
    /// and payment provider (which, unlike a real restart, remembers its charges and refunds).
    pub(crate) async fn restart(self) -> TestServer {
        let options = self.options.clone();
        self.restart_with(options).await
    }

    /// `restart` with other options (admins, limits).
    pub(crate) async fn restart_with(self, options: Options) -> TestServer {
        let TestServer {
            client, manual_clock, payments, payouts, engine, stop, serving, _data_dir, _pg_schema, ..
        } = self;
        drop(client);
        let _ = stop.send(());
        serving.await.unwrap().unwrap();
        engine.shutdown().await;
        drop(engine);
        // A server on PostgreSQL by the environment keeps its schema (and its journal) across restarts.
        let mut options = options;
        if options.journal.is_none()
            && let Some(schema) = &_pg_schema
        {
            options.journal = Some(schema.location.clone());
        }
        TestServer::start_on(options, _data_dir, manual_clock, payments, payouts, _pg_schema).await
    }

    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// Where this server's journal is, to read it back once the engine is shut down.
    pub(crate) fn journal_location(&self) -> engine::JournalLocation {
        let sqlite = || engine::JournalLocation::Sqlite(self.data_dir().to_owned());
        self.options.journal.clone().unwrap_or_else(sqlite)
    }

    async fn start_on(
        options: Options,
        data_dir: tempfile::TempDir,
        manual_clock: Option<Arc<ManualClock>>,
        payments: Arc<TestPaymentProvider>,
        payouts: Arc<SandboxPayouts>,
        pg_schema: Option<Arc<PgSchema>>,
    ) -> TestServer {
        let clock: Arc<dyn Clock> = match &manual_clock {
            Some(clock) => clock.clone(),
            None => Arc::new(SystemClock),
        };
        let engine = Engine::start(EngineConfig {
            data_dir: data_dir.path().to_owned(),
            journal: options.journal.clone(),
            n_shards: 2,
            admin_tokens: options
                .admins
                .clone()
                .unwrap_or_else(|| vec![engine::AdminToken::new(engine::DEFAULT_ADMIN_NAME, ADMIN_TOKEN)]),
            clock,
            payments: payments.clone(),
            log_origin: "livedrop".to_owned(),
            refund_approval_threshold_minor: options
                .refund_approval_threshold_minor
                .unwrap_or(domain::REFUND_APPROVAL_THRESHOLD_MINOR_DEFAULT),
            money: options.money.clone().unwrap_or_default(),
            payouts: payouts.clone(),
            webhooks_allow_private: !options.webhooks_refuse_private,
        })
        .await
        .unwrap();
        // Every test server has an SFU of its own on a loopback port, recording into its data dir.
        // Every test client is 127.0.0.1: no per-address share of listening sessions.
        let media = media::Media::start(media::MediaConfig {
            listeners_per_ip_max: 0,
            publishers_per_ip_max: 0,
            ..media::MediaConfig::new("127.0.0.1:0".parse().unwrap(), None, Some(data_dir.path().join("recordings")))
        })
        .unwrap();
        let config = ServerConfig {
            media: Some(Arc::new(media)),
            rate_limit_per_ip: options.rate_limit_per_ip,
            rate_limit_per_account: options.rate_limit_per_account,
            signups_per_second: options.signups_per_second,
            connections: options
                .connections
                .unwrap_or(server::ConnectionLimits { per_ip_max: 0, ..server::ConnectionLimits::default() }),
        };
        let engine = Arc::new(engine);
        let server = Server::new(engine.clone(), &config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(server.serve(listener, async move {
            let _ = stopped.await;
        }));
        TestServer {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            manual_clock,
            payments,
            payouts,
            engine,
            stop,
            serving,
            options,
            _data_dir: data_dir,
            _pg_schema: pg_schema,
        }
    }

    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} {path}: body is not JSON: {text}"));
        (status, body)
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send("GET", path, token, None, None).await
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        self.send("POST", path, token, key, Some(body)).await
    }

    /// Creates an account and returns its token.
    pub(crate) async fn account(&self, handle: &str, role: &str) -> String {
        let (status, body) = self.post("/v1/accounts", None, None, json!({"handle": handle, "role": role})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// A creator with a room and an open drop of `quantity` units of a 12.50 EUR product.
    pub(crate) async fn open_drop(&self, quantity: u64, per_buyer_limit: u32, hold_seconds: u64) -> Fixture {
        let creator = self.account("creator", "creator").await;
        let (status, room) = self.post("/v1/rooms", Some(&creator), None, json!({"title": "Launch night"})).await;
        assert_eq!(status, StatusCode::CREATED, "{room}");
        let product = json!({"title": "Tour tee", "price_minor": 1250, "currency": "EUR", "stock": quantity + 10, "fulfilment": "ship"});
        let (status, product) = self.post("/v1/products", Some(&creator), None, product).await;
        assert_eq!(status, StatusCode::CREATED, "{product}");
        let room_id = room["id"].as_str().unwrap().to_owned();
        let product_id = product["id"].as_str().unwrap().to_owned();
        let drop = json!({"product_id": product_id, "quantity": quantity, "per_buyer_limit": per_buyer_limit, "hold_seconds": hold_seconds});
        let (status, drop) = self.post(&format!("/v1/rooms/{room_id}/drops"), Some(&creator), None, drop).await;
        assert_eq!(status, StatusCode::CREATED, "{drop}");
        assert_eq!(drop["state"], "open");
        Fixture { creator, room_id, product_id, drop_id: drop["id"].as_str().unwrap().to_owned() }
    }

    pub(crate) async fn drop_counters(&self, drop_id: &str) -> (u64, u64, u64, String) {
        let (status, drop) = self.get(&format!("/v1/drops/{drop_id}"), None).await;
        assert_eq!(status, StatusCode::OK);
        let remaining = drop["remaining"].as_u64().unwrap();
        let held = drop["held"].as_u64().unwrap();
        let sold = drop["sold"].as_u64().unwrap();
        let released = drop["released"].as_u64().unwrap();
        assert_eq!(remaining + held + sold + released, drop["quantity"].as_u64().unwrap(), "conservation: {drop}");
        (remaining, held, sold, drop["state"].as_str().unwrap().to_owned())
    }

    pub(crate) async fn claim(&self, buyer: &str, drop_id: &str, key: &str, quantity: u32) -> (StatusCode, Value) {
        self.post(&format!("/v1/drops/{drop_id}/claims"), Some(buyer), Some(key), json!({"quantity": quantity})).await
    }
}

/// An order as `GET /v1/orders/{id}` answers it, less its `fulfilment` (which the checkout's answer
/// does not carry), to compare the two.
pub(crate) fn without_fulfilment(order: &Value) -> Value {
    let mut order = order.clone();
    assert!(order.as_object_mut().unwrap().remove("fulfilment").is_some(), "a read order has its fulfilment: {order}");
    order
}

pub(crate) fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error body: {body}"))
}
