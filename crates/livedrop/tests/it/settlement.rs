//! Settlements across hard kills: 64 creators each sell every round, an admin closes the window
//! (one payout per creator), and the binary is SIGKILLed a random moment into the close: before the
//! settlement is journaled, while the books close, while the sandbox provider pays (one fsynced line
//! per payout), or after. On restart the start-up scan resumes the interrupted settlement and the
//! admin posts the close again (under the same key, or a new one).
//!
//! After every round: the sandbox's record holds every payout's key exactly once and no other key,
//! every payout is `paid`, each creator's payouts add up to its `paid_out` and to everything it
//! earned, nothing is left pending or available, and the trial balance balances.
//!
//! Round 0 closes without a kill, timing the close and the stretch in which the provider's record
//! grows; odd rounds kill uniformly within that stretch, even rounds within the close's time
//! (times 1.2), so the kills land inside the close whatever the machine's speed. The seed fixes
//! the kill points, not the timing of threads; it is printed, and `LIVEDROP_CRASH_SEED` runs it
//! again. `LIVEDROP_CRASH_ROUNDS` runs more kill rounds than CI's default.

use crate::client::Client;
use crate::process::ServerProcess;
use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

const ADMIN_TOKEN: &str = "admin-token-for-the-settlement-crash-test";
const N_CREATORS: usize = 64;
const ROUNDS_DEFAULT: usize = 4;
const PRICE_MINOR: i64 = 1_250;
/// 10 % of 12.50 to the platform, the rest to the creator: no rounding, so the totals are exact.
const FEE_MINOR: i64 = 125;
const FLAGS: [&str; 10] = [
    "--admin-token",
    ADMIN_TOKEN,
    "--payout-delay-days",
    "0",
    "--settlement-every",
    "off",
    "--platform-fee-bps",
    "1000",
    "--payout-minimum-minor",
    "1",
];

/// A creator with an open drop, and the buyer who buys one unit of it every round.
struct Seller {
    creator: String,
    drop_id: String,
    buyer: String,
}

async fn seller(client: &Client, index: usize) -> Seller {
    let account = |handle: String, role: &str| json!({"handle": handle, "role": role});
    let creator = client.created("/v1/accounts", None, None, account(format!("maker_{index}"), "creator")).await;
    let creator = creator["token"].as_str().unwrap().to_owned();
    let room = client.created("/v1/rooms", Some(&creator), None, json!({"title": "Room"})).await;
    let product =
        json!({"title": "Tee", "price_minor": PRICE_MINOR, "currency": "EUR", "stock": 1_000, "fulfilment": "ship"});
    let product = client.created("/v1/products", Some(&creator), None, product).await;
    let drop = json!({"product_id": product["id"], "quantity": 1_000, "per_buyer_limit": 1_000, "hold_seconds": 3_600});
    let drops = format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap());
    let drop = client.created(&drops, Some(&creator), None, drop).await;
    let buyer = client.created("/v1/accounts", None, None, account(format!("buyer_{index}"), "buyer")).await;
    let buyer = buyer["token"].as_str().unwrap().to_owned();
    Seller { creator, drop_id: drop["id"].as_str().unwrap().to_owned(), buyer }
}

/// Every seller sells one unit, all at once.
async fn sell_once(client: &Client, sellers: &[Seller], round: usize) {
    join_all(sellers.iter().map(|seller| async move {
        let claims = format!("/v1/drops/{}/claims", seller.drop_id);
        let claim =
            client.created(&claims, Some(&seller.buyer), Some(&format!("c{round}")), json!({"quantity": 1})).await;
        let checkout = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
        let body = json!({"payment_method": "pm_card_visa"});
        client.created(&checkout, Some(&seller.buyer), Some(&format!("p{round}")), body).await;
    }))
    .await;
}

async fn close(client: &Client, key: &str) -> Value {
    let settlement = client.created("/v1/admin/settlements", Some(ADMIN_TOKEN), Some(key), json!({})).await;
    for payout in settlement["payouts"].as_array().unwrap() {
        assert_eq!(payout["state"], "paid", "a close answers once every payout is sent: {payout}");
    }
    settlement
}

fn recorded(data_dir: &Path) -> std::collections::HashMap<String, usize> {
    let path = engine::sandbox_payouts_path(data_dir);
    if !path.exists() {
        return Default::default();
    }
    engine::SandboxPayouts::recorded(&path).unwrap()
}

/// Everything the round must leave behind, after `n_sales` sales per creator.
async fn check_books(client: &Client, sellers: &[Seller], data_dir: &Path, n_sales: i64, context: &str) {
    let recorded = recorded(data_dir);
    let twice: Vec<_> = recorded.iter().filter(|(_, count)| **count != 1).collect();
    assert!(twice.is_empty(), "{context}: the provider recorded payouts more than once: {twice:?}");
    let earned = n_sales * (PRICE_MINOR - FEE_MINOR);
    let per_seller = join_all(sellers.iter().map(|seller| async move {
        (client.get("/v1/payouts", &seller.creator).await, client.get("/v1/balances", &seller.creator).await)
    }))
    .await;
    let mut keys = BTreeSet::new();
    for (payouts, balances) in &per_seller {
        let mut paid = 0;
        for payout in payouts["payouts"].as_array().unwrap() {
            assert_eq!(payout["state"], "paid", "{context}: {payout}");
            paid += payout["amount_minor"].as_i64().unwrap();
            assert!(keys.insert(format!("ld_payout_{}", payout["id"].as_str().unwrap())), "{context}: {payout}");
        }
        let eur = &balances["balances"][0];
        let field = |name: &str| eur[name].as_i64().unwrap();
        assert_eq!(
            (field("paid_out_minor"), field("pending_minor"), field("available_minor"), field("in_transit_minor")),
            (earned, 0, 0, 0),
            "{context}: {balances}"
        );
        assert_eq!(paid, earned, "{context}: the payouts add up to what the creator earned");
    }
    let recorded_keys: BTreeSet<String> = recorded.into_keys().collect();
    assert_eq!(recorded_keys, keys, "{context}: the provider paid exactly the payouts the journal says are paid");

    let trial = client.get("/v1/admin/ledger/trial-balance", ADMIN_TOKEN).await;
    assert_eq!(trial["balanced"], true, "{context}: {trial}");
    let accounts: BTreeMap<&str, i64> = trial["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["account"].as_str().unwrap(), row["balance_minor"].as_i64().unwrap()))
        .collect();
    let n_total = n_sales * N_CREATORS as i64;
    // What stays at the processor is the fee on every sale: everything else was paid out.
    assert_eq!(accounts.get("processor_clearing"), Some(&(n_total * FEE_MINOR)), "{context}: {trial}");
    assert_eq!(accounts.get("platform_fees"), Some(&(n_total * FEE_MINOR)), "{context}: {trial}");
}

fn spawn_close(client: &Client, key: String) -> tokio::task::JoinHandle<reqwest::Result<(StatusCode, Value)>> {
    let client = client.clone();
    tokio::spawn(async move {
        client.try_send("/v1/admin/settlements", Some(ADMIN_TOKEN), Some(&key), Some(json!({}))).await
    })
}

/// Waits `delay`; timers round up to a millisecond, so the shortest delays are spun instead.
async fn wait(delay: Duration) {
    if delay < Duration::from_millis(1) {
        let started = Instant::now();
        while started.elapsed() < delay {
            tokio::task::yield_now().await;
        }
    } else {
        tokio::time::sleep(delay).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payouts_are_paid_once_across_kills_mid_settlement() {
    let seed: u64 =
        std::env::var("LIVEDROP_CRASH_SEED").ok().and_then(|seed| seed.parse().ok()).unwrap_or_else(rand::random);
    let rounds: usize =
        std::env::var("LIVEDROP_CRASH_ROUNDS").ok().and_then(|rounds| rounds.parse().ok()).unwrap_or(ROUNDS_DEFAULT);
    println!("settlement crash seed {seed} (LIVEDROP_CRASH_SEED={seed} runs it again), {rounds} kills");
    let mut rng = StdRng::seed_from_u64(seed);
    let data_dir = tempfile::tempdir().unwrap();
    let mut process = ServerProcess::start_with(data_dir.path(), &FLAGS);
    let mut client = Client::of(&process);
    let sellers: Vec<Seller> = join_all((0..N_CREATORS).map(|index| seller(&client, index))).await;

    // Round 0: an uninterrupted close, timed, and when its payouts reach the provider's record.
    sell_once(&client, &sellers, 0).await;
    let started = Instant::now();
    let closing = spawn_close(&client, "close-0".to_owned());
    let (mut first_paid, mut last_paid) = (None, None);
    while !closing.is_finished() {
        let n_paid = recorded(data_dir.path()).len();
        if n_paid > 0 {
            first_paid.get_or_insert(started.elapsed());
        }
        if n_paid == N_CREATORS {
            last_paid.get_or_insert(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (status, settlement) = closing.await.unwrap().unwrap();
    let close_time = started.elapsed();
    assert_eq!(status, StatusCode::CREATED, "{settlement}");
    assert_eq!(settlement["payouts"].as_array().unwrap().len(), N_CREATORS, "{settlement}");
    check_books(&client, &sellers, data_dir.path(), 1, "round 0").await;
    let payouts_phase = first_paid.unwrap_or_default()..last_paid.unwrap_or(close_time);
    println!("an uninterrupted close of {N_CREATORS} payouts took {close_time:?}, paying them {payouts_phase:?}");

    // Where each kill landed: before any payout of its close was paid, among them, or after all.
    let (mut before, mut among, mut after) = (0, 0, 0);
    for round in 1..=rounds {
        sell_once(&client, &sellers, round).await;
        let key = format!("close-{round}");
        let closing = spawn_close(&client, key.clone());
        // Odd rounds kill while the provider pays (where a double payment would come from), even
        // rounds anywhere in the close or just after it.
        let delay = if round % 2 == 1 {
            payouts_phase.start + (payouts_phase.end - payouts_phase.start).mul_f64(rng.random::<f64>())
        } else {
            close_time.mul_f64(1.2 * rng.random::<f64>())
        };
        wait(delay).await;
        process.kill_hard();
        let paid_at_kill = recorded(data_dir.path());
        let answered = match closing.await.unwrap() {
            Ok((StatusCode::CREATED, body)) => Some(body),
            Ok((status, body)) => panic!("seed {seed} round {round}: unexpected {status}: {body}"),
            Err(_) => None, // killed before the answer
        };

        process = ServerProcess::start_with(data_dir.path(), &FLAGS);
        client = Client::of(&process);
        // Rounds 1, 4, 5, 8, … retry the interrupted close; the others close anew and leave the
        // interrupted one to the start-up scan, which runs first (one close at a time).
        let same_key = round % 4 < 2;
        let retry_key = if same_key { key } else { format!("close-{round}-again") };
        let settlement = close(&client, &retry_key).await;
        if let (Some(answered), true) = (&answered, same_key) {
            assert_eq!(answered["id"], settlement["id"], "seed {seed} round {round}: a retry answers the same close");
        }
        let context = format!("seed {seed} round {round} (killed after {delay:?})");
        check_books(&client, &sellers, data_dir.path(), round as i64 + 1, &context).await;
        // Every earlier round paid every creator once.
        match paid_at_kill.len() - N_CREATORS * round {
            0 => before += 1,
            N_CREATORS => after += 1,
            _ => among += 1,
        }
    }
    println!("of {rounds} kills, {before} landed before the first payout, {among} among them, {after} after");

    let status = process.stop_gracefully();
    assert!(status.success(), "{status}");
    let process = ServerProcess::start_with(data_dir.path(), &FLAGS);
    check_books(&Client::of(&process), &sellers, data_dir.path(), rounds as i64 + 1, "after a clean restart").await;
}
