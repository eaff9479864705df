//! The crash harness: the binary is killed with SIGKILL at a random point of a claim and checkout
//! burst and restarted on the same data directory, round after round. Buyers resend whatever a kill
//! left unanswered under the same Idempotency-Key, as a real client would.
//!
//! After every restart: each acknowledged hold is in its cart (active, or sold by an acknowledged
//! order or an unanswered checkout), each acknowledged order reads back unchanged, each keyed answer
//! replays identically, every unit is counted once, and no buyer holds more than the limit. At the
//! end a SIGTERM must stop the server cleanly and a restart must restore the same state.
//!
//! A kill lands a random delay (up to 3 ms) after the round's n-th claim or checkout was sent,
//! resends included; rounds alternate between the two triggers. The seed fixes the workload and the
//! kill points, not the timing of threads; it is printed, and `LIVEDROP_CRASH_SEED` runs it again.
//! `LIVEDROP_CRASH_ROUNDS` runs more rounds than CI's default. It runs with the journal in SQLite
//! and again, when PG_URL is set, with `--journal` in PostgreSQL (a schema of its own, dropped after).

use crate::process::ServerProcess;
use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const ROUNDS_DEFAULT: usize = 10;
const N_BUYERS: usize = 24;
/// Claims each buyer sends per round unless the kill stops it first.
const CLAIMS_PER_ROUND: usize = 8;
const CLAIM_UNITS_MAX: u32 = 2;
/// Each round opens a drop; claims go to it and to the previous one, which a kill interrupted, so
/// limits and stock are decided again on replayed state.
const DROP_QUANTITY: u64 = 100;
const PER_BUYER_LIMIT: u32 = 6;
/// Far beyond any run, so no hold expires: every committed hold is active or sold.
const HOLD_SECONDS: u64 = 3_600;
/// One acknowledged claim in this many is followed by a checkout of its cart.
const CHECKOUT_ONE_IN: u32 = 3;
/// One checkout in this many pays with a card that declines: a refusal, recorded like an order.
const DECLINED_ONE_IN: u32 = 5;
/// The kill lands at most this long after its trigger request was sent: before it arrives, while it
/// is decided or committed, or after the commit but before the answer is out.
const KILL_DELAY_US_MAX: u64 = 3_000;
/// Buyer tasks end at the first refused connection after a kill; this only turns a hang into a failure.
const BURST_END_SECS_MAX: u64 = 30;

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn of(process: &ServerProcess) -> Arc<Client> {
        Arc::new(Client { http: reqwest::Client::new(), base: process.base.clone() })
    }

    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Result<(StatusCode, Value)> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        Ok((response.status(), response.json().await?))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Claim,
    Checkout,
}

/// A buyer's keyed request; sent again, unchanged, until it is answered.
#[derive(Clone, Debug)]
enum Request {
    Claim { key: String, drop_id: String, quantity: u32 },
    Checkout { key: String, cart_id: String, payment_method: &'static str },
}

impl Request {
    fn kind(&self) -> Kind {
        match self {
            Request::Claim { .. } => Kind::Claim,
            Request::Checkout { .. } => Kind::Checkout,
        }
    }

    fn key(&self) -> &str {
        match self {
            Request::Claim { key, .. } | Request::Checkout { key, .. } => key,
        }
    }

    fn path(&self) -> String {
        match self {
            Request::Claim { drop_id, .. } => format!("/v1/drops/{drop_id}/claims"),
            Request::Checkout { cart_id, .. } => format!("/v1/carts/{cart_id}/checkout"),
        }
    }

    fn body(&self) -> Value {
        match self {
            Request::Claim { quantity, .. } => json!({"quantity": quantity}),
            Request::Checkout { payment_method, .. } => json!({"payment_method": payment_method}),
        }
    }
}

/// An answer the server gave to a keyed request: recorded, so a resend must get it again.
struct Answer {
    request: Request,
    status: StatusCode,
    body: Value,
}

impl Answer {
    /// A 201 to a request of `kind`: a hold or an order.
    fn created(&self, kind: Kind) -> bool {
        self.request.kind() == kind && self.status == StatusCode::CREATED
    }
}

/// One sequential client; it outlives the server processes.
struct Buyer {
    token: String,
    rng: StdRng,
    n_keys: usize,
    /// The cart of the last acknowledged claim, until an acknowledged order closes it.
    cart_id: Option<String>,
    /// What a kill left unanswered: it may or may not have been committed.
    pending: Option<Request>,
    answers: Vec<Answer>,
}

/// Where a round's kill lands: `delay` after the `nth` request of `kind` was sent.
#[derive(Clone, Copy, Debug)]
struct KillPoint {
    kind: Kind,
    nth: usize,
    delay: Duration,
}

/// What the buyers of one round share: the server, the drops open for claims, and the kill trigger.
struct Burst {
    client: Arc<Client>,
    drop_ids: Vec<String>,
    kill: Option<KillPoint>,
    n_sent: AtomicUsize,
    in_flight: [AtomicUsize; 2],
    trigger: Notify,
}

impl Burst {
    fn new(client: Arc<Client>, drop_ids: Vec<String>, kill: Option<KillPoint>) -> Arc<Burst> {
        let (n_sent, in_flight, trigger) = (AtomicUsize::new(0), Default::default(), Notify::new());
        Arc::new(Burst { client, drop_ids, kill, n_sent, in_flight, trigger })
    }

    /// Counts a send of `kind`; the kill's `nth` one pulls the trigger.
    fn count_send(&self, kind: Kind) {
        let Some(kill) = self.kill.filter(|kill| kill.kind == kind) else { return };
        if self.n_sent.fetch_add(1, Ordering::SeqCst) + 1 == kill.nth {
            self.trigger.notify_one();
        }
    }
}

impl Buyer {
    fn next_key(&mut self, prefix: &str) -> String {
        self.n_keys += 1;
        format!("{prefix}-{}", self.n_keys)
    }

    /// Sends `request`; `None` if the server died before the whole answer was out, which leaves the
    /// request pending.
    async fn send(&mut self, burst: &Burst, request: Request) -> Option<StatusCode> {
        let kind = request.kind();
        burst.count_send(kind);
        burst.in_flight[kind as usize].fetch_add(1, Ordering::SeqCst);
        let answer = burst.client.post(&request.path(), Some(&self.token), Some(request.key()), &request.body()).await;
        burst.in_flight[kind as usize].fetch_sub(1, Ordering::SeqCst);
        let Ok((status, body)) = answer else {
            self.pending = Some(request);
            return None;
        };
        let refusals: &[&str] = match kind {
            Kind::Claim => &["sold_out", "limit_exceeded", "cart_full"],
            Kind::Checkout => &["payment_declined"],
        };
        let refused = status.is_client_error() && refusals.iter().any(|code| body["error"]["code"] == *code);
        assert!(status == StatusCode::CREATED || refused, "{request:?} answered {status}: {body}");
        match (kind, status) {
            (Kind::Claim, StatusCode::CREATED) => self.cart_id = Some(body["cart_id"].as_str().unwrap().to_owned()),
            (Kind::Checkout, StatusCode::CREATED) => self.cart_id = None,
            _ => {}
        }
        self.answers.push(Answer { request, status, body });
        Some(status)
    }

    /// Resends what the last kill left unanswered, then claims `n_claims` times from the burst's
    /// drops, checking out now and then. Stops at the first request the server does not answer.
    async fn run(mut self, burst: Arc<Burst>, n_claims: usize) -> Buyer {
        if let Some(request) = self.pending.take()
            && self.send(&burst, request).await.is_none()
        {
            return self;
        }
        for _ in 0..n_claims {
            let drop_id = burst.drop_ids[self.rng.random_range(0..burst.drop_ids.len())].clone();
            let quantity = self.rng.random_range(1..=CLAIM_UNITS_MAX);
            let claim = Request::Claim { key: self.next_key("claim"), drop_id, quantity };
            let Some(status) = self.send(&burst, claim).await else { return self };
            if status == StatusCode::CREATED && self.rng.random_ratio(1, CHECKOUT_ONE_IN) {
                let cart_id = self.cart_id.clone().unwrap();
                let declined = self.rng.random_ratio(1, DECLINED_ONE_IN);
                let payment_method = if declined { "pm_card_chargeDeclined" } else { "pm_card_visa" };
                let checkout = Request::Checkout { key: self.next_key("pay"), cart_id, payment_method };
                if self.send(&burst, checkout).await.is_none() {
                    return self;
                }
            }
        }
        self
    }
}

/// Units per drop id.
type Units = BTreeMap<String, u64>;

/// What one buyer's check adds to the drop-wide checks.
#[derive(Default)]
struct Tally {
    acknowledged: Units,
    acknowledged_active: Units,
    ordered: Units,
    pending: Units,
    /// A pending checkout whose cart is checked out: committed, but the answer never left.
    committed_unanswered_checkouts: usize,
}

/// Reads back everything `buyer` was told, and resends every keyed request it got an answer to.
async fn check_buyer(client: &Client, buyer: &Buyer) -> Tally {
    let mut tally = Tally::default();
    let claims: Vec<&Answer> = buyer.answers.iter().filter(|answer| answer.created(Kind::Claim)).collect();
    let orders: Vec<&Answer> = buyer.answers.iter().filter(|answer| answer.created(Kind::Checkout)).collect();
    let mut carts: BTreeMap<String, Value> = BTreeMap::new();
    for claim in &claims {
        let cart_id = claim.body["cart_id"].as_str().unwrap();
        if !carts.contains_key(cart_id) {
            let (status, cart) = client.get(&format!("/v1/carts/{cart_id}"), &buyer.token).await;
            assert_eq!(status, StatusCode::OK, "{cart}");
            carts.insert(cart_id.to_owned(), cart);
        }
    }
    let hold_in = |cart_id: &str, hold_id: &Value| -> Option<Value> {
        let holds = carts[cart_id]["holds"].as_array().unwrap();
        holds.iter().find(|hold| hold["hold_id"] == *hold_id).cloned()
    };
    let claimed_hold_ids: BTreeSet<&str> = claims.iter().map(|claim| claim.body["hold_id"].as_str().unwrap()).collect();

    let mut ordered_hold_ids = BTreeSet::new();
    for order in &orders {
        let order_id = order.body["order_id"].as_str().unwrap();
        let (status, mut reread) = client.get(&format!("/v1/orders/{order_id}"), &buyer.token).await;
        // A read order also shows its fulfilment, opened in the same commit: one per shipped line.
        let fulfilment = reread.as_object_mut().and_then(|order| order.remove("fulfilment")).unwrap_or_default();
        assert_eq!((status, &reread), (StatusCode::OK, &order.body), "acknowledged order lost or changed");
        assert_eq!(
            fulfilment.as_array().map(Vec::len),
            order.body["lines"].as_array().map(Vec::len),
            "order {order_id}: each line's fulfilment order is there"
        );
        let cart_id = order.body["cart_id"].as_str().unwrap();
        for line in order.body["lines"].as_array().unwrap() {
            let hold_id = line["hold_id"].as_str().unwrap();
            assert!(claimed_hold_ids.contains(hold_id), "order {order_id} sold a hold no claim was answered with");
            assert!(ordered_hold_ids.insert(hold_id), "hold {hold_id} sold by two acknowledged orders");
            let hold = hold_in(cart_id, &line["hold_id"]).unwrap_or_else(|| panic!("{line} missing from its cart"));
            assert_eq!(hold["status"], "sold", "{hold}");
            *tally.ordered.entry(line["drop_id"].as_str().unwrap().to_owned()).or_default() +=
                line["quantity"].as_u64().unwrap();
        }
    }

    let pending_checkout = match &buyer.pending {
        Some(Request::Checkout { cart_id, .. }) => Some(cart_id.as_str()),
        _ => None,
    };
    for claim in &claims {
        let cart_id = claim.body["cart_id"].as_str().unwrap();
        let hold = hold_in(cart_id, &claim.body["hold_id"]);
        let hold = hold.unwrap_or_else(|| panic!("acknowledged hold lost: {}", claim.body));
        let fields = ["drop_id", "quantity", "expires_at"].map(|field| (&hold[field], &claim.body[field]));
        assert!(
            fields.iter().all(|(found, claimed)| found == claimed),
            "hold {hold} differs from its claim {}",
            claim.body
        );
        let hold_id = hold["hold_id"].as_str().unwrap();
        let sold_by_an_answered_order = ordered_hold_ids.contains(hold_id);
        match hold["status"].as_str().unwrap() {
            "active" => assert!(!sold_by_an_answered_order, "hold {hold_id} of an acknowledged order is active"),
            "sold" => assert!(
                sold_by_an_answered_order || pending_checkout == Some(cart_id),
                "hold {hold_id} sold, but by no order the buyer was told of"
            ),
            other => panic!("acknowledged hold {hold_id} is {other}"),
        }
        let (drop_id, quantity) = (hold["drop_id"].as_str().unwrap().to_owned(), hold["quantity"].as_u64().unwrap());
        *tally.acknowledged.entry(drop_id.clone()).or_default() += quantity;
        if hold["status"] == "active" {
            *tally.acknowledged_active.entry(drop_id).or_default() += quantity;
        }
    }

    // Everything in the buyer's carts was answered, but for at most one committed, unanswered claim.
    let mut held_or_bought = Units::new();
    let mut unanswered = 0;
    for hold in carts.values().flat_map(|cart| cart["holds"].as_array().unwrap()) {
        assert!(hold["status"] == "active" || hold["status"] == "sold", "{hold}");
        *held_or_bought.entry(hold["drop_id"].as_str().unwrap().to_owned()).or_default() +=
            hold["quantity"].as_u64().unwrap();
        unanswered += usize::from(!claimed_hold_ids.contains(hold["hold_id"].as_str().unwrap()));
    }
    let pending_claim = matches!(buyer.pending, Some(Request::Claim { .. }));
    assert!(unanswered <= usize::from(pending_claim), "{unanswered} holds in the carts answer no claim");
    for (drop_id, units) in held_or_bought {
        assert!(units <= u64::from(PER_BUYER_LIMIT), "a buyer holds or bought {units} units of drop {drop_id}");
    }
    if let Some(Request::Claim { drop_id, quantity, .. }) = &buyer.pending {
        *tally.pending.entry(drop_id.clone()).or_default() += u64::from(*quantity);
    }
    if let Some(cart_id) = pending_checkout {
        tally.committed_unanswered_checkouts += usize::from(carts[cart_id]["status"] == "checked_out");
    }

    // Idempotency records are as durable as the facts: a resend gets the first answer, refusals too.
    for answer in &buyer.answers {
        let request = &answer.request;
        let resent = client.post(&request.path(), Some(&buyer.token), Some(request.key()), &request.body()).await;
        let (status, body) = resent.unwrap();
        assert_eq!((status, &body), (answer.status, &answer.body), "{request:?} answered differently when resent");
    }
    tally
}

/// What a check read back.
struct Checked {
    drops: Vec<Value>,
    /// Of the requests still unanswered, what was committed nonetheless.
    committed_unanswered_units: u64,
    committed_unanswered_checkouts: usize,
}

/// Checks every buyer and every drop against what the buyers were told.
async fn check(client: &Arc<Client>, buyers: &[Buyer], drop_ids: &[String]) -> Checked {
    // No hold id, order id or sold hold in two answers to different requests.
    let mut seen = BTreeSet::new();
    for answer in buyers.iter().flat_map(|buyer| &buyer.answers) {
        if answer.created(Kind::Claim) {
            let hold_id = answer.body["hold_id"].as_str().unwrap();
            assert!(seen.insert(format!("hold {hold_id}")), "hold {hold_id} answered to two claims");
        } else if answer.created(Kind::Checkout) {
            let order_id = answer.body["order_id"].as_str().unwrap();
            assert!(seen.insert(format!("order {order_id}")), "order {order_id} answered to two checkouts");
            for line in answer.body["lines"].as_array().unwrap() {
                let hold_id = line["hold_id"].as_str().unwrap();
                assert!(seen.insert(format!("sold {hold_id}")), "hold {hold_id} sold by two orders");
            }
        }
    }

    let checks = buyers.iter().map(|buyer| async move { check_buyer(client, buyer).await });
    let tallies = join_all(checks).await;
    let sum = |drop_id: &String, units: fn(&Tally) -> &Units| -> u64 {
        tallies.iter().filter_map(|tally| units(tally).get(drop_id)).sum()
    };
    let mut drops = Vec::new();
    let mut committed_unanswered_units = 0;
    for drop_id in drop_ids {
        let (status, drop) = client.get(&format!("/v1/drops/{drop_id}"), &buyers[0].token).await;
        assert_eq!(status, StatusCode::OK, "{drop}");
        let [quantity, remaining, held, sold] =
            ["quantity", "remaining", "held", "sold"].map(|field| drop[field].as_u64().unwrap());
        let acknowledged = sum(drop_id, |tally| &tally.acknowledged);
        let acknowledged_active = sum(drop_id, |tally| &tally.acknowledged_active);
        let pending = sum(drop_id, |tally| &tally.pending);
        assert_eq!(quantity, DROP_QUANTITY, "{drop}");
        assert_eq!(remaining + held + sold, quantity, "{drop}");
        assert!(sum(drop_id, |tally| &tally.ordered) <= sold, "acknowledged orders sold more than {drop}");
        assert!(acknowledged_active <= held && acknowledged_active + sold <= quantity, "{drop}");
        assert!(acknowledged <= held + sold, "acknowledged units missing from {drop}");
        assert!(held + sold <= acknowledged + pending, "units held or sold that no claim accounts for: {drop}");
        committed_unanswered_units += held + sold - acknowledged;
        drops.push(drop);
    }
    let committed_unanswered_checkouts = tallies.iter().map(|tally| tally.committed_unanswered_checkouts).sum();
    Checked { drops, committed_unanswered_units, committed_unanswered_checkouts }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .map(|text| text.parse().unwrap_or_else(|_| panic!("{name}={text} does not parse")))
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_facts_survive_repeated_hard_kills() {
    hard_kills(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_facts_survive_repeated_hard_kills_on_postgres() {
    let Some(schema) = PgSchema::create("acknowledged_facts_survive_repeated_hard_kills") else { return };
    hard_kills(&["--journal", &schema.url]).await;
}

/// A PostgreSQL schema of this test's own, dropped when this is (also when the test fails); `None`,
/// said on stderr, when PG_URL is not set.
struct PgSchema {
    admin_url: String,
    schema: String,
    url: String,
}

impl PgSchema {
    fn create(test: &str) -> Option<PgSchema> {
        let Ok(admin_url) = std::env::var("PG_URL") else {
            // Past the harness's capture, so that a run without PostgreSQL says what it skipped.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("{test} on PostgreSQL: skipped: PG_URL not set\n").as_bytes(),
            );
            return None;
        };
        let schema = format!("ld_crash_{}", std::process::id());
        pg_sql(&admin_url, &format!("CREATE SCHEMA {schema}")).unwrap();
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
        Some(PgSchema { admin_url, schema, url })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if let Err(error) = pg_sql(&self.admin_url, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)) {
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

/// The harness, with `flags` added to every start of the server.
async fn hard_kills(flags: &[&str]) {
    let started = Instant::now();
    let seed = env_or("LIVEDROP_CRASH_SEED", rand::random::<u64>());
    let rounds = env_or("LIVEDROP_CRASH_ROUNDS", ROUNDS_DEFAULT);
    eprintln!("crash harness: {rounds} rounds, seed {seed} (LIVEDROP_CRASH_SEED={seed} runs it again)");
    let mut rng = StdRng::seed_from_u64(seed);
    let data_dir = tempfile::tempdir().unwrap();
    let mut process = ServerProcess::start_with(data_dir.path(), flags);
    let mut client = Client::of(&process);
    let keys = client.http.get(format!("{}/v1/transparency/keys", client.base)).send().await.unwrap();
    let keys: Value = keys.json().await.unwrap();
    let server_key = keys["keys"][0]["public_key"].as_str().unwrap().to_owned();

    let (_, creator) =
        client.post("/v1/accounts", None, None, &json!({"handle": "maker", "role": "creator"})).await.unwrap();
    let creator = creator["token"].as_str().unwrap().to_owned();
    let (_, room) = client.post("/v1/rooms", Some(&creator), None, &json!({"title": "Room"})).await.unwrap();
    let drops_path = format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap());
    let stock = DROP_QUANTITY * rounds as u64;
    let product = json!({"title": "Tee", "price_minor": 2000, "currency": "EUR", "stock": stock, "fulfilment": "ship"});
    let (_, product) = client.post("/v1/products", Some(&creator), None, &product).await.unwrap();
    let mut buyers = Vec::new();
    for buyer_idx in 0..N_BUYERS {
        let account = json!({"handle": format!("fan_{buyer_idx}"), "role": "buyer"});
        let (_, account) = client.post("/v1/accounts", None, None, &account).await.unwrap();
        let token = account["token"].as_str().unwrap().to_owned();
        let rng = StdRng::from_rng(&mut rng);
        buyers.push(Buyer { token, rng, n_keys: 0, cart_id: None, pending: None, answers: Vec::new() });
    }

    let mut drop_ids = Vec::new();
    let mut kill_kind = if rng.random_bool(0.5) { Kind::Claim } else { Kind::Checkout };
    let mut n_landed_in_flight = [0; 2];
    let mut n_restarts_with_unanswered_commits = 0;
    for round in 1..=rounds {
        let drop = json!({
            "product_id": product["id"],
            "quantity": DROP_QUANTITY,
            "per_buyer_limit": PER_BUYER_LIMIT,
            "hold_seconds": HOLD_SECONDS,
        });
        let (status, drop) =
            client.post(&drops_path, Some(&creator), Some(&format!("drop-{round}")), &drop).await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{drop}");
        drop_ids.push(drop["id"].as_str().unwrap().to_owned());

        // Claims are sent N_BUYERS * CLAIMS_PER_ROUND times, checkouts about a third as often.
        let nth_max = match kill_kind {
            Kind::Claim => N_BUYERS * CLAIMS_PER_ROUND * 3 / 4,
            Kind::Checkout => N_BUYERS / 2,
        };
        let kill = KillPoint {
            kind: kill_kind,
            nth: rng.random_range(1..=nth_max),
            delay: Duration::from_micros(rng.random_range(0..=KILL_DELAY_US_MAX)),
        };
        kill_kind = if kill_kind == Kind::Claim { Kind::Checkout } else { Kind::Claim };
        let open_drop_ids = drop_ids[drop_ids.len().saturating_sub(2)..].to_vec();
        let burst = Burst::new(client.clone(), open_drop_ids, Some(kill));
        let runs = buyers.drain(..).map(|buyer| tokio::spawn(buyer.run(burst.clone(), CLAIMS_PER_ROUND)));
        let mut runs = std::pin::pin!(join_all(runs));
        let finished_first = tokio::select! {
            () = burst.trigger.notified() => None,
            finished = &mut runs => Some(finished),
        };
        let ended_first = finished_first.is_some();
        // Microseconds matter here; the test body runs outside the runtime's workers, so the buyers go on.
        std::thread::sleep(kill.delay);
        let in_flight = burst.in_flight.each_ref().map(|n| n.load(Ordering::SeqCst));
        process.kill_hard();
        let finished = match finished_first {
            Some(finished) => finished,
            None => tokio::time::timeout(Duration::from_secs(BURST_END_SECS_MAX), runs).await.expect("buyers stop"),
        };
        buyers = finished.into_iter().map(|buyer| buyer.expect("buyer task")).collect();
        for (n_landed, n_in_flight) in n_landed_in_flight.iter_mut().zip(in_flight) {
            *n_landed += usize::from(n_in_flight > 0);
        }

        process = ServerProcess::start_with(data_dir.path(), flags);
        client = Client::of(&process);
        let checked = check(&client, &buyers, &drop_ids).await;
        let n_answers: usize = buyers.iter().map(|buyer| buyer.answers.len()).sum();
        let n_pending =
            |kind| buyers.iter().filter(|buyer| buyer.pending.as_ref().is_some_and(|r| r.kind() == kind)).count();
        let (n_pending_claims, n_pending_checkouts) = (n_pending(Kind::Claim), n_pending(Kind::Checkout));
        let committed = checked.committed_unanswered_units > 0 || checked.committed_unanswered_checkouts > 0;
        n_restarts_with_unanswered_commits += usize::from(committed);
        eprintln!(
            "round {round}: killed {:?} after {:?} #{} was sent{} ({} claims, {} checkouts in flight); \
             {n_answers} answers so far; unanswered: {n_pending_claims} claims ({} units committed), \
             {n_pending_checkouts} checkouts ({} committed)",
            kill.delay,
            kill.kind,
            kill.nth,
            if ended_first { ", the burst had ended" } else { "" },
            in_flight[Kind::Claim as usize],
            in_flight[Kind::Checkout as usize],
            checked.committed_unanswered_units,
            checked.committed_unanswered_checkouts,
        );
    }
    assert!(n_landed_in_flight.iter().any(|n| *n > 0), "no kill landed with a request in flight");

    // Settle: resend what the last kill left unanswered; then every committed unit is an answered one.
    let burst = Burst::new(client.clone(), Vec::new(), None);
    let runs = buyers.drain(..).map(|buyer| tokio::spawn(buyer.run(burst.clone(), 0)));
    buyers = join_all(runs).await.into_iter().map(|buyer| buyer.expect("buyer task")).collect();
    assert!(buyers.iter().all(|buyer| buyer.pending.is_none()), "a live server answers every resend");
    let settled = check(&client, &buyers, &drop_ids).await;
    assert_eq!(settled.committed_unanswered_units, 0, "every unit held or sold was answered");

    let exit = process.stop_gracefully();
    assert!(exit.success(), "SIGTERM ends the server cleanly: {exit}");
    let process = ServerProcess::start_with(data_dir.path(), flags);
    let client = Client::of(&process);
    let after_graceful = check(&client, &buyers, &drop_ids).await;
    assert_eq!(after_graceful.drops, settled.drops, "a graceful restart restores the same state");

    // The transparency logs came through every kill: each acknowledged receipt verifies under the key
    // the server published before the first kill, and every drop's log audits clean.
    let key = transparency::PublicKey::from_base64(&server_key).unwrap();
    for answer in buyers.iter().flat_map(|buyer| &buyer.answers).filter(|answer| answer.created(Kind::Checkout)) {
        let receipt = transparency::Receipt::from_json(&answer.body.to_string()).unwrap();
        receipt.verify(Some(&key)).unwrap_or_else(|error| panic!("{error}: {}", answer.body));
    }
    for drop_id in &drop_ids {
        let audit = std::process::Command::new(env!("CARGO_BIN_EXE_livedrop"))
            .args(["audit", &format!("{}/v1/drops/{drop_id}", process.base), "--pubkey", &server_key])
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&audit.stdout);
        assert!(audit.status.success(), "audit of {drop_id}: {report}{}", String::from_utf8_lossy(&audit.stderr));
    }
    assert!(started.elapsed() < Duration::from_secs(HOLD_SECONDS), "no hold may expire during the run");
    eprintln!(
        "{rounds} kills: {} with claims and {} with checkouts in flight, {n_restarts_with_unanswered_commits} \
         restarts found requests committed but never answered; {:?} in all",
        n_landed_in_flight[Kind::Claim as usize],
        n_landed_in_flight[Kind::Checkout as usize],
        started.elapsed()
    );
}
