//! Refunds across hard kills: the binary is SIGKILLed a random moment after the approval that
//! completes a refund's sign-offs was sent (before it arrives, while it is decided or committed,
//! while the provider pays, or after), then restarted. An approval that was committed is paid back
//! by the start-up scan; one that was not leaves the refund pending, and approving again pays it.
//! Either way an acknowledged answer is never taken back and the refund is paid exactly once.
//!
//! Also checks that `--refund-approval-threshold-minor` and `--admin-token` reach the engine.

use crate::client::Client;
use crate::process::ServerProcess;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const ADMIN_TOKEN: &str = "admin-token-for-the-refund-crash-test";
const ROUNDS: usize = 8;
const KILL_DELAY_US_MAX: u64 = 3_000;
const FLAGS: [&str; 4] = ["--admin-token", ADMIN_TOKEN, "--refund-approval-threshold-minor", "1000"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_refunds_are_paid_once_across_hard_kills() {
    let seed: u64 =
        std::env::var("LIVEDROP_CRASH_SEED").ok().and_then(|seed| seed.parse().ok()).unwrap_or_else(rand::random);
    println!("refund crash seed {seed} (LIVEDROP_CRASH_SEED={seed} runs it again)");
    let mut rng = StdRng::seed_from_u64(seed);
    let data_dir = tempfile::tempdir().unwrap();
    let mut process = ServerProcess::start_with(data_dir.path(), &FLAGS);
    let mut client = Client::of(&process);

    let account = |handle: &'static str, role: &'static str| json!({"handle": handle, "role": role});
    let creator = client.created("/v1/accounts", None, None, account("maker", "creator")).await;
    let creator = creator["token"].as_str().unwrap().to_owned();
    let room = client.created("/v1/rooms", Some(&creator), None, json!({"title": "Room"})).await;
    let product = json!({"title": "Tee", "price_minor": 1250, "currency": "EUR", "stock": 100, "fulfilment": "ship"});
    let product = client.created("/v1/products", Some(&creator), None, product).await;
    let drop = json!({"product_id": product["id"], "quantity": 50, "per_buyer_limit": 2, "hold_seconds": 3600});
    let drop =
        client.created(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(&creator), None, drop).await;
    let drop_path = format!("/v1/drops/{}", drop["id"].as_str().unwrap());

    let (mut n_paid_before_kill, mut n_found_executed, mut n_found_pending) = (0, 0, 0);
    for round in 0..ROUNDS {
        let handle = format!("buyer_{round}");
        let buyer = client.created("/v1/accounts", None, None, json!({"handle": handle, "role": "buyer"})).await;
        let buyer = buyer["token"].as_str().unwrap().to_owned();
        let claim =
            client.created(&format!("{drop_path}/claims"), Some(&buyer), Some("c"), json!({"quantity": 1})).await;
        let checkout = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
        let order = client.created(&checkout, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
        let refunds_path = format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap());
        let refund = client.created(&refunds_path, Some(&buyer), Some("r"), json!({"reason": "broken"})).await;
        assert_eq!(refund["status"], "pending_approval", "12.50 is above the configured 10.00: {refund}");
        let refund_path = format!("/v1/refunds/{}", refund["id"].as_str().unwrap());
        let (status, _) = client.send(&format!("{refund_path}/approve"), Some(&creator), None, Some(json!({}))).await;
        assert_eq!(status, StatusCode::OK);

        let approving = {
            let client = client.clone();
            let path = format!("{refund_path}/approve");
            tokio::spawn(async move { client.try_send(&path, Some(ADMIN_TOKEN), None, Some(json!({}))).await })
        };
        // Timers round up to a millisecond, so the shortest delays are spun instead.
        let delay = Duration::from_micros(rng.random_range(0..KILL_DELAY_US_MAX));
        if delay < Duration::from_millis(1) {
            let started = std::time::Instant::now();
            while started.elapsed() < delay {
                tokio::task::yield_now().await;
            }
        } else {
            tokio::time::sleep(delay).await;
        }
        process.kill_hard();
        let answered = match approving.await.unwrap() {
            Ok((StatusCode::OK, body)) => {
                assert_eq!(body["status"], "executed", "{body}");
                n_paid_before_kill += 1;
                Some(body)
            }
            Ok((status, body)) => panic!("round {round}: unexpected {status}: {body}"),
            Err(_) => None, // killed before the answer
        };

        process = ServerProcess::start_with(data_dir.path(), &FLAGS);
        client = Client::of(&process);
        // Committed approvals are paid back by the start-up scan; give it a moment.
        let mut read = Value::Null;
        for _ in 0..100 {
            read = client.send(&refund_path, Some(&buyer), None, None).await.1;
            if read["status"] != "approved" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Some(answered) = &answered {
            assert_eq!(&read, answered, "seed {seed} round {round}: an acknowledged refund reads back unchanged");
        }
        match read["status"].as_str() {
            Some("executed") => n_found_executed += usize::from(answered.is_none()),
            Some("pending_approval") => {
                assert!(answered.is_none());
                n_found_pending += 1;
                let (status, body) =
                    client.send(&format!("{refund_path}/approve"), Some(ADMIN_TOKEN), None, Some(json!({}))).await;
                assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("executed")), "{body}");
            }
            _ => panic!("seed {seed} round {round}: refund left {read}"),
        }
        let (_, listed) = client.send(&refunds_path, Some(&buyer), None, None).await;
        assert_eq!((listed["refunded_minor"].as_i64(), listed["pending_minor"].as_i64()), (Some(1_250), Some(0)));
        let (_, drop) = client.send(&drop_path, None, None, None).await;
        let counter = |name: &str| drop[name].as_u64().unwrap();
        assert_eq!((counter("sold"), counter("held")), (0, 0), "seed {seed} round {round}: {drop}");
        assert_eq!(counter("remaining") + counter("released"), counter("quantity"));
    }
    println!(
        "of {ROUNDS} approvals {n_paid_before_kill} were answered, {n_found_executed} unanswered found executed, \
         {n_found_pending} lost before their commit"
    );
    let status = process.stop_gracefully();
    assert!(status.success(), "{status}");
}
