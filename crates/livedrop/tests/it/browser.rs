//! The web client in headless Chromium against the real binary: a host console and a buyer's room
//! page in two browser sessions. The host goes live and speaks with Chromium's fake microphone, the
//! listener receives the audio (inbound RTP packets rising, non-zero audio energy), the host creates
//! and pins a drop, the buyer is declined once, pays, sees the stock go down and gets a receipt; a
//! demo window counts down, and a poll vote and a question go through too. Screenshots of the
//! pages at phone size are taken every run, into target/screenshots/ (`LIVEDROP_SCREENSHOTS=docs`
//! writes them to docs/room.png, docs/host.png and docs/partner.png, the README's). Once the episode ends, the
//! room page lists its recordings as replays, each an `<audio>` whose URL serves Ogg Opus.
//! The host console's Earnings card shows the sale as pending, then (after an admin closes a
//! settlement window over HTTP) a paid payout whose CSV statement downloads; then the buyer's
//! window becomes a partner on the partner page and accepts a split contract naming it; last, that
//! venue fulfils a pickup the host's window (now a new buyer's room page) bought: it accepts,
//! promises a time and gets it ready, the buyer's page follows with the pickup code and its QR
//! code, and a wrong code is refused before the right one hands it over.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/install-chromium`, which `scripts/test`
//! runs first). `LIVEDROP_SKIP_BROWSER=1` skips it. The audio checks run first but are reported
//! last, so the purchase, the screenshots and the rest are checked even when audio fails; the
//! replays (recorded audio) are reported after them.

mod fulfilment;

use crate::process::ServerProcess;
use fantoccini::{Client, ClientBuilder};
use fulfilment::check_fulfilment;
use futures_util::FutureExt;
use serde_json::{Value, json};
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A phone: the pages must work at this width.
const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;
/// Screenshots are taken of the whole page, at most this tall.
const SCREENSHOT_HEIGHT_MAX: u32 = 4_000;
const WAIT: Duration = Duration::from_secs(20);
/// The platform admin of the test's server, who closes a settlement window.
const ADMIN_TOKEN: &str = "browser-test-admin-token-0123456789";

/// Flags for a closed network: without the background-networking ones Chromium keeps trying to
/// reach its services. The fake devices give a microphone (a beep) without a prompt.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
];

struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let driver = ChromeDriver { child, url: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start listening");
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    async fn session(&self, profile: &Path) -> Client {
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|flag| (*flag).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={PHONE_WIDTH},{PHONE_HEIGHT}"));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector).capabilities(capabilities).connect(&self.url).await.expect("a Chromium session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window on one page, driven through small scripts (elements are re-rendered from
/// live messages, so scripts find them afresh every time rather than holding references).
struct Page {
    name: &'static str,
    client: Client,
}

impl Page {
    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|error| panic!("{}: {script}: {error}", self.name))
    }

    /// Waits until `expression` is truthy and returns its value.
    async fn wait(&self, what: &str, expression: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        let script = format!("try {{ return ({expression}) || null; }} catch (e) {{ return null; }}");
        loop {
            let value = self.js(&script).await;
            if !value.is_null() && value != json!(false) {
                return value;
            }
            if Instant::now() > deadline {
                let status = self.js("return document.querySelector('#status')?.textContent").await;
                let toasts =
                    self.js("return Array.from(document.querySelectorAll('.toast')).map(t => t.textContent)").await;
                panic!("{}: timed out waiting for {what} ({expression}); status {status}, toasts {toasts}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element once it is there and enabled.
    async fn click(&self, selector: &str) {
        let found = format!("document.querySelector({selector:?}) && !document.querySelector({selector:?}).disabled");
        self.wait(&format!("{selector} to be clickable"), &found).await;
        self.js(&format!("document.querySelector({selector:?}).click(); return true")).await;
    }

    async fn set(&self, selector: &str, value: &str) {
        self.wait(&format!("{selector} to exist"), &format!("document.querySelector({selector:?})")).await;
        self.js(&format!(
            "const node = document.querySelector({selector:?}); node.value = {value:?}; \
             node.dispatchEvent(new Event('input', {{bubbles: true}})); node.dispatchEvent(new Event('change', {{bubbles: true}})); return true"
        ))
        .await;
    }

    async fn text(&self, selector: &str) -> String {
        let value = self.js(&format!("return document.querySelector({selector:?})?.textContent ?? ''")).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Inbound audio of the page's listening peer connection (`window[pc]`).
    async fn inbound_audio(&self, pc: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1]; const pc = window.{pc}; \
             if (!pc) {{ done(null); return; }} \
             pc.getStats().then(stats => {{ let packets = 0, energy = 0, tracks = 0; \
               stats.forEach(r => {{ if (r.type === 'inbound-rtp' && r.kind === 'audio') {{ tracks++; packets += r.packetsReceived || 0; energy += r.totalAudioEnergy || 0; }} }}); \
               done({{packets, energy, tracks, state: pc.connectionState}}); }}, e => done({{error: String(e)}}));"
        );
        self.client.execute_async(&script, Vec::new()).await.unwrap()
    }

    /// Fetches `url` from the page (its origin, its Content-Security-Policy): status, type and the
    /// first bytes of the body as text.
    async fn fetch_head(&self, url: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1]; \
             fetch({url:?}, {{cache: 'no-store'}}).then(async r => {{ const body = new Uint8Array(await r.arrayBuffer()); \
               done({{status: r.status, type: r.headers.get('content-type'), head: String.fromCharCode(...body.slice(0, 4)), bytes: body.length}}); }}, \
               e => done({{error: String(e)}}));"
        );
        self.client.execute_async(&script, Vec::new()).await.unwrap()
    }

    /// The whole page at phone width, as PNG.
    async fn screenshot(&self, path: &Path) {
        self.js("document.querySelector('.toasts')?.remove(); window.scrollTo(0, 0); document.activeElement?.blur(); return true").await;
        // The window's outer size is set, the page's viewport follows: grow until the page fits.
        let mut window = PHONE_HEIGHT;
        for _ in 0..4 {
            let sizes = self.js("return [document.documentElement.scrollHeight, window.innerHeight]").await;
            let (page, viewport) = (sizes[0].as_u64().unwrap_or(0), sizes[1].as_u64().unwrap_or(0));
            if page <= viewport || window >= SCREENSHOT_HEIGHT_MAX {
                break;
            }
            let grow = u32::try_from(page - viewport).unwrap_or(SCREENSHOT_HEIGHT_MAX);
            window = window.saturating_add(grow).min(SCREENSHOT_HEIGHT_MAX);
            self.client.set_window_size(PHONE_WIDTH, window).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(path, png).unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        self.client.set_window_size(PHONE_WIDTH, PHONE_HEIGHT).await.unwrap();
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        self.post_keyed(path, token, None, body).await
    }

    /// `post` with an `Idempotency-Key`.
    async fn post_keyed(&self, path: &str, token: Option<&str>, key: Option<&str>, body: Value) -> Value {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// A signed-in GET that must succeed, as JSON.
    async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
        (status, content_type, response.text().await.unwrap())
    }
}

/// Where the screenshots go: the checked-in docs/ only when asked, so a test run leaves the tree clean.
fn screenshots_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::var("LIVEDROP_SCREENSHOTS").as_deref() {
        Ok("docs") => root.join("docs"),
        _ => root.join("target/screenshots"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_and_buyer_in_chromium() {
    if std::env::var("LIVEDROP_SKIP_BROWSER").as_deref() == Ok("1") {
        println!("browser test skipped: LIVEDROP_SKIP_BROWSER=1");
        return;
    }
    assert!(
        Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
        "the browser test needs {CHROMIUM} and {CHROMEDRIVER}: run scripts/install-chromium (or set LIVEDROP_SKIP_BROWSER=1)"
    );
    let data_dir = tempfile::tempdir().unwrap();
    // Same-day payouts, so a window an admin closes pays the sale at once.
    let admin = format!("browser_admin={ADMIN_TOKEN}");
    let server = ServerProcess::start_with(data_dir.path(), &["--admin-token", &admin, "--payout-delay-days", "0"]);
    let api = Api { http: reqwest::Client::new(), base: server.base.clone() };

    // The pages are served by the binary, each with its type; unknown files are the JSON 404.
    for (path, content_type) in [
        ("/", "text/html"),
        ("/rooms/room_000000000001", "text/html"),
        ("/rooms/room_000000000001/host", "text/html"),
        ("/partner", "text/html"),
        ("/web/js/room.js", "text/javascript"),
        ("/web/css/app.css", "text/css"),
    ] {
        let (status, served_type, _) = api.get(path).await;
        assert_eq!((status, served_type.starts_with(content_type)), (200, true), "{path}: {served_type}");
    }
    let (status, served_type, body) = api.get("/web/js/missing.js").await;
    assert_eq!((status, served_type.as_str()), (404, "application/json"), "{body}");
    assert!(body.contains("not_found"));

    // A creator, a product, a room with a poll and a Q&A slot, and a first drop.
    let creator = api.post("/v1/accounts", None, json!({"handle": "host_ana", "role": "creator"})).await;
    let token = creator["token"].as_str().unwrap().to_owned();
    let product =
        json!({"title": "Tour tee", "price_minor": 2500, "currency": "EUR", "stock": 100, "fulfilment": "ship"});
    let product = api.post("/v1/products", Some(&token), product).await;
    let slots = json!([{"kind": "qa"}, {"kind": "poll", "question": "Which colour next?", "options": ["Black", "Sand", "Forest"]}]);
    let template = api.post("/v1/templates", Some(&token), json!({"name": "Launch", "slots": slots})).await;
    let room =
        api.post("/v1/rooms", Some(&token), json!({"title": "Launch night", "template_id": template["id"]})).await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    let first = json!({"product_id": product["id"], "quantity": 10, "per_buyer_limit": 2, "hold_seconds": 120});
    api.post(&format!("/v1/rooms/{room_id}/drops"), Some(&token), first).await;

    let seeded = Seeded { room_id, token, product_id: product["id"].as_str().unwrap().to_owned() };
    let driver = ChromeDriver::start();
    let profiles = tempfile::tempdir().unwrap();
    let host = Page { name: "host", client: driver.session(&profiles.path().join("host")).await };
    let buyer = Page { name: "buyer", client: driver.session(&profiles.path().join("buyer")).await };

    // Whatever happens, the browsers are closed (a panic would leave them running).
    let outcome = AssertUnwindSafe(drive(&server.base, &seeded, &host, &buyer, data_dir.path())).catch_unwind().await;
    let _ = host.client.close().await;
    let _ = buyer.client.close().await;
    let (audio, speaker, replays) = outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    if let Err(problem) = audio {
        panic!("audio: {problem}");
    }
    if let Err(problem) = speaker {
        panic!("audio from the stage: {problem}");
    }
    if let Err(problem) = replays {
        panic!("replays: {problem}");
    }
}

/// What the test seeded over HTTP.
struct Seeded {
    room_id: String,
    token: String,
    product_id: String,
}

/// Both pages through the whole story; the audio outcomes (live, from the stage, and recorded) are
/// returned to be reported last.
async fn drive(
    base: &str,
    seeded: &Seeded,
    host: &Page,
    buyer: &Page,
    scratch: &Path,
) -> (Result<(), String>, Result<(), String>, Result<(), String>) {
    let Seeded { room_id, token, product_id } = seeded;
    // The host console signs in from the fragment and clears it from the address bar.
    host.client.goto(&format!("{base}/rooms/{room_id}/host#token={token}")).await.unwrap();
    host.wait("the console", "!document.querySelector('#console').hidden").await;
    let url = host.client.current_url().await.unwrap();
    assert_eq!(url.fragment(), None, "the token is cleared from the URL: {url}");
    host.wait("the feed", "document.querySelector('#status').dataset.state === 'offline'").await;

    // The buyer page makes a buyer account and shows the room offline.
    buyer.client.goto(&format!("{base}/rooms/{room_id}")).await.unwrap();
    buyer.wait("the offline room", "!document.querySelector('#offline').hidden").await;
    let account = buyer.wait("a buyer account", "JSON.parse(localStorage.getItem('livedrop.buyer'))").await;
    assert!(account["handle"].as_str().unwrap().starts_with("buyer_"), "{account}");

    // Go live: the buyer's page follows by itself.
    host.click("#go-live").await;
    host.wait("live", "document.querySelector('#status').dataset.state === 'live'").await;
    buyer.wait("live on the buyer page", "document.querySelector('#status').dataset.state === 'live'").await;
    buyer.wait("the stage", "!document.querySelector('#stage-card').hidden").await;

    // Audio: the host speaks with the fake microphone, the buyer listens. Checked now, reported last.
    let audio = check_audio(host, buyer).await;

    // The host creates a drop (pinned at once) and sees it.
    host.click("#new-drop-panel > summary").await;
    host.set("#drop-product", product_id.as_str()).await;
    host.set("#drop-quantity", "5").await;
    host.set("#drop-limit", "2").await;
    host.set("#drop-hold", "60").await;
    host.click("#create-drop").await;
    host.wait("two drops", "document.querySelectorAll('.drop-card').length === 2").await;
    let drop_id = host.js("return document.querySelector('.drop-card').dataset.dropId").await;
    let drop_id = drop_id.as_str().unwrap().to_owned();
    host.wait("the pin", &format!("window.livedropHost.live.rituals?.pinned?.drop_id === {drop_id:?}")).await;
    host.wait("the pinned card", "document.querySelector('.drop-card.pinned')").await;

    // The buyer sees it, is declined once (the hold stays), pays and gets a receipt.
    buyer.wait("the new drop", &format!("document.querySelector('#product').dataset.dropId === {drop_id:?}")).await;
    buyer.wait("5 left", "document.querySelector('#stock-text').dataset.remaining === '5'").await;
    assert!(buyer.text("#product-title").await.contains("Tour tee"));
    buyer.wait("the fulfilment", "document.querySelector('#product-fulfilment').textContent.includes('Ships')").await;
    buyer.set("#payment-method", "pm_card_chargeDeclinedInsufficientFunds").await;
    buyer.click("#buy").await;
    buyer.wait("the decline", "document.querySelector('#buy-error')?.dataset.code === 'payment_declined'").await;
    buyer
        .wait("the hold countdown", "document.querySelector('#hold-countdown')?.textContent.match(/^[01]:\\d\\d$/)")
        .await;
    buyer.wait("4 left while held", "document.querySelector('#stock-text').dataset.remaining === '4'").await;
    host.wait("one held", "document.querySelector('.drop-card [data-counter=held]')?.textContent === '1'").await;
    buyer.set("#payment-method", "pm_card_visa").await;
    buyer.click("#pay").await;
    buyer.wait("the receipt", "!document.querySelector('#receipt').hidden").await;
    let order_id = buyer.text("#order-id").await;
    assert!(order_id.starts_with("ord_"), "{order_id}");
    assert!(buyer.text("#order-total").await.contains("25"));
    assert!(buyer.text("#receipt").await.contains("livedrop verify"));
    // Beside it, the shipped line's way to the buyer: received, waiting for the creator.
    buyer
        .wait(
            "the order's status",
            "document.querySelector('#order-status .fulfilment-line[data-method=ship][data-state=open] .promise')?.textContent === 'Waiting for confirmation'",
        )
        .await;
    // What the buyer keeps (and downloads as order.json) is what `livedrop verify` checks.
    let order = buyer.js("return JSON.stringify(window.livedropRoom.purchase.order, null, 2)").await;
    let order_file = scratch.join("order.json");
    std::fs::write(&order_file, order.as_str().unwrap()).unwrap();
    let verified = Command::new(env!("CARGO_BIN_EXE_livedrop")).arg("verify").arg(&order_file).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&verified.stdout), String::from_utf8_lossy(&verified.stderr));
    assert!(verified.status.success() && said.contains(&format!("receipt of order {order_id} is valid")), "{said}");
    host.wait("one sold", "document.querySelector('.drop-card [data-counter=sold]')?.textContent === '1'").await;
    buyer.wait("still 4 left", "document.querySelector('#stock-text').dataset.remaining === '4'").await;
    check_earnings(base, host, &order_id).await;

    // A 90 s demo window: the room counts it down.
    host.click("#demo button.primary:last-child").await;
    host.wait("the demo countdown", "document.querySelector('#demo .countdown')").await;
    buyer.wait("the demo in the room", "!document.querySelector('#demo').hidden && document.querySelector('#demo .countdown').textContent.startsWith('1:')").await;

    // A vote and a question, seen by the host, who answers it.
    buyer.click("#poll-list .option").await;
    buyer.wait("the tallies", "document.querySelector('#poll-list .option.mine .share')?.textContent === '100%'").await;
    host.wait(
        "the vote on the host console",
        "document.querySelector('#polls .option .share')?.textContent.startsWith('1 ')",
    )
    .await;
    buyer.set("#ask-text", "Does it come in XL?").await;
    buyer.click("#ask button").await;
    buyer.wait("the question", "document.querySelector('#questions')?.textContent.includes('XL')").await;
    host.wait("the question on the host console", "document.querySelector('#questions')?.textContent.includes('XL')")
        .await;

    // A poll started live reaches the room.
    host.set("#poll-question", "What should we drop next?").await;
    host.set("#poll-options", "Hoodie\nCap\nTote bag").await;
    host.click("#new-poll button[type=submit]").await;
    buyer.wait("the live poll", "document.querySelector('#poll-list').textContent.includes('drop next?')").await;
    host.wait("the live poll on the host console", "document.querySelectorAll('#polls .poll').length === 2").await;

    // A raised hand, an invitation, and the buyer speaks: the host hears it. Audio, so reported last.
    let speaker = check_speaker(host, buyer).await;

    // Screenshots at phone size, for the README.
    let docs = screenshots_dir();
    std::fs::create_dir_all(&docs).unwrap();
    buyer.screenshot(&docs.join("room.png")).await;
    host.screenshot(&docs.join("host.png")).await;

    // The host answers; the room ends.
    host.click("#questions .actions .primary").await;
    buyer.wait("the answer", "document.querySelector('#questions .question-item.answered')").await;
    host.click("#end-episode").await;
    buyer.wait("offline again", "document.querySelector('#status').dataset.state === 'offline'").await;

    // The episode's recordings become the room's replays. Recorded audio, so reported last.
    let replays = check_replays(buyer).await;

    // The buyer's window becomes a partner's, which accepts the creator's split contract, then
    // fulfils a pickup the host's window buys as a new buyer.
    let contract_id = check_partner(base, token, buyer).await;
    check_fulfilment(base, token, room_id, &contract_id, buyer, host).await;

    (audio, speaker, replays)
}

/// The Earnings card follows the sale (25.00 EUR less the platform's 10 %: 22.50 pending, paid at
/// the next window, with the order's "why"); once an admin closes a window over HTTP, it shows the
/// paid payout, and its statement downloads as CSV with the creator's token.
async fn check_earnings(base: &str, host: &Page, order_id: &str) {
    host.wait(
        "the pending earning",
        "document.querySelector('#earnings [data-figure=pending]')?.dataset.minor === '2250'",
    )
    .await;
    host.wait("the next payout", "document.querySelector('#next-payout')?.dataset.minor === '2250 EUR'").await;
    host.wait("the next payout's date", "document.querySelector('#next-payout-at')?.getAttribute('datetime')").await;
    let why = host
        .wait(
            "the order's earning",
            &format!("document.querySelector('#earnings-list .earning[data-order-id={order_id:?}] .why')?.textContent"),
        )
        .await;
    assert!(why.as_str().unwrap().starts_with("available "), "{why}");
    let terms = host.wait("the payout terms", "document.querySelector('#payout-terms')?.textContent").await;
    assert!(terms.as_str().unwrap().contains("same day") && terms.as_str().unwrap().contains("default"), "{terms}");
    assert!(host.text("#earnings").await.contains("22.50"), "{}", host.text("#earnings").await);

    let api = Api { http: reqwest::Client::new(), base: base.to_owned() };
    let settlement =
        api.post_keyed("/v1/admin/settlements", Some(ADMIN_TOKEN), Some("browser-window-1"), json!({})).await;
    let paid = settlement["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|payout| payout["amount_minor"] == 2250 && payout["state"] == "paid");
    assert!(paid, "{settlement}");
    host.click("#refresh-earnings").await;
    host.wait("the paid payout", "document.querySelector('#payouts-list .payout[data-state=paid]')").await;
    host.wait("paid out", "document.querySelector('#earnings [data-figure=paid_out]')?.dataset.minor === '2250'").await;
    host.wait("nothing pending", "document.querySelector('#earnings [data-figure=pending]')?.dataset.minor === '0'")
        .await;
    host.click("#payouts-list .payout .statement").await;
    let bytes = host
        .wait("the statement", "Number(document.querySelector('#payouts-list .statement')?.dataset.downloaded)")
        .await;
    assert!(bytes.as_u64().unwrap_or(0) > 0, "{bytes}");
}

/// The partner page: a venue signs up in the form, the creator proposes a split contract naming
/// it (over HTTP), and the venue accepts it with the page's button. Returns the contract's id.
async fn check_partner(base: &str, creator_token: &str, page: &Page) -> String {
    page.client.goto(&format!("{base}/partner")).await.unwrap();
    page.wait("the partner sign-in", "!document.querySelector('#signin').hidden").await;
    page.click("#signup-panel > summary").await;
    page.set("#handle", "corner_venue").await;
    page.set("#partner-kind", "venue").await;
    page.click("#signup-form button[type=submit]").await;
    page.wait("the dashboard", "!document.querySelector('#dashboard').hidden").await;
    page.wait("the new token", "!document.querySelector('#new-token').hidden").await;
    page.wait("no contract yet", "document.querySelector('#contracts .empty')").await;
    page.wait("no balance yet", "document.querySelector('#balances [data-empty=balances]')").await;
    let partner_id = page.wait("the partner's id", "document.querySelector('#partner-id')?.textContent").await;
    let partner_id = partner_id.as_str().unwrap().to_owned();
    assert!(partner_id.starts_with("acct_"), "{partner_id}");

    let api = Api { http: reqwest::Client::new(), base: base.to_owned() };
    // The venue signs service terms with its share: the room promises buyers pickup times from them.
    let terms = json!({"accept_within_minutes": 30, "ready_within_hours": 2,
        "pickup_window": {"from": "00:00", "to": "24:00"}, "location": "Corner Venue"});
    let shares = json!({"shares": [{"partner_id": partner_id, "share_bps": 1_500, "terms": terms}]});
    let contract = api.post_keyed("/v1/split-contracts", Some(creator_token), Some("browser-contract-1"), shares).await;
    let contract_id = contract["id"].as_str().unwrap().to_owned();
    page.click("#refresh").await;
    let pending = format!("#contracts .contract[data-contract-id={contract_id:?}][data-state=pending] button.accept");
    page.click(&pending).await;
    page.wait(
        "the accepted contract",
        &format!(
            "document.querySelector('#contracts .contract[data-contract-id={contract_id:?}][data-state=accepted]')"
        ),
    )
    .await;
    let seen = api.get_json(&format!("/v1/split-contracts/{contract_id}"), creator_token).await;
    assert_eq!(seen["state"], "accepted", "{seen}");
    contract_id
}

/// After the episode ends, the room page shows it under Replays with an `<audio controls
/// preload="none">` per recording, and each one's URL serves Ogg Opus to the page.
async fn check_replays(buyer: &Page) -> Result<(), String> {
    let find = "const card = document.querySelector('#replays'); \
        if (!card || card.hidden) return null; \
        const audio = Array.from(card.querySelectorAll('.replay audio')); \
        return audio.length ? {text: card.textContent, audio: audio.map(a => ({src: a.getAttribute('src'), controls: a.controls, preload: a.getAttribute('preload')}))} : null";
    let deadline = Instant::now() + WAIT;
    let shown = loop {
        let shown = buyer.js(find).await;
        if !shown.is_null() {
            break shown;
        }
        if Instant::now() > deadline {
            let text = buyer.text("#replays").await;
            let hidden = buyer.js("return document.querySelector('#replays')?.hidden ?? null").await;
            return Err(format!(
                "no replay on the room page after the episode ended (hidden {hidden}, it says {text:?})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let text = shown["text"].as_str().unwrap_or_default();
    if !text.contains("Replays") || !text.contains("Host") {
        return Err(format!("the replays do not name the episode's host: {text:?}"));
    }
    for audio in shown["audio"].as_array().into_iter().flatten() {
        let src = audio["src"].as_str().unwrap_or_default();
        let plausible = src.strip_prefix("/v1/episodes/").and_then(|rest| rest.split_once("/recordings/")).is_some_and(
            |(episode, file)| {
                !episode.is_empty() && !episode.contains('/') && file.ends_with(".opus") && !file.contains('/')
            },
        );
        if !plausible || audio["controls"] != json!(true) || audio["preload"] != json!("none") {
            return Err(format!("a replay's <audio> is not a recording's: {audio}"));
        }
        let fetched = buyer.fetch_head(src).await;
        let ogg = fetched["status"] == json!(200)
            && fetched["type"].as_str().is_some_and(|kind| kind.starts_with("audio/ogg"))
            && fetched["head"] == json!("OggS");
        if !ogg {
            return Err(format!("{src} from the room page: {fetched}"));
        }
        println!("the replay {src} serves Ogg Opus: {fetched}");
    }
    Ok(())
}

/// The buyer raises a hand, the host invites them, the buyer speaks with the fake microphone
/// (WHIP) and the host's listening connection (WHEP) receives it.
async fn check_speaker(host: &Page, buyer: &Page) -> Result<(), String> {
    buyer.click("#raise-hand").await;
    host.wait("the raised hand", "document.querySelector('#raised-hands .member')").await;
    host.click("#raised-hands .member button.primary").await;
    buyer.click("#start-speaking").await;
    let deadline = Instant::now() + WAIT;
    loop {
        let stats = host.inbound_audio("livedropHostListener").await;
        if stats["packets"].as_u64().unwrap_or(0) > 0 && stats["energy"].as_f64().unwrap_or(0.0) > 0.0 {
            println!("the host hears the speaker: {stats}");
            return Ok(());
        }
        if Instant::now() > deadline {
            let speaker = buyer.js("return window.livedropSpeaker?.connectionState ?? null").await;
            return Err(format!("the host heard nothing: {stats} (the speaker's connection: {speaker})"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The host goes live with the microphone (WHIP) and the buyer listens (WHEP): the listener's
/// inbound audio must carry packets, more and more of them, with non-zero energy.
async fn check_audio(host: &Page, buyer: &Page) -> Result<(), String> {
    host.click("#go-live-mic").await;
    let deadline = Instant::now() + WAIT;
    loop {
        let state = host.js("return window.livedropPublisher?.connectionState ?? null").await;
        if state == json!("connected") {
            break;
        }
        let error = host
            .js("return Array.from(document.querySelectorAll('.toast.error')).map(t => t.textContent).join(' ')")
            .await;
        if Instant::now() > deadline || error.as_str().is_some_and(|text| !text.is_empty()) {
            return Err(format!("the host's microphone did not connect (state {state}, errors {error})"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    buyer.click("#listen").await;
    let deadline = Instant::now() + WAIT;
    let mut first: Option<u64> = None;
    loop {
        let stats = buyer.inbound_audio("livedropListener").await;
        let packets = stats["packets"].as_u64().unwrap_or(0);
        let energy = stats["energy"].as_f64().unwrap_or(0.0);
        match first {
            None if packets > 0 => first = Some(packets),
            Some(earlier) if packets > earlier && energy > 0.0 => {
                println!("the listener receives audio: {stats}");
                return Ok(());
            }
            _ => {}
        }
        if Instant::now() > deadline {
            let error = buyer
                .js("return Array.from(document.querySelectorAll('.toast')).map(t => t.textContent).join(' ')")
                .await;
            return Err(format!("the listener received no audio: {stats} (page says: {error})"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
