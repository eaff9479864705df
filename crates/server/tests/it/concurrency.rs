//! Hundreds of buyers race for a small drop: exactly `quantity` units are claimed, nobody exceeds the
//! limit, and every 201 is backed by an active hold in the buyer's cart.

use crate::harness::{Options, TestServer, error_code};
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::Arc;

/// Buyers in CI; `LIVEDROP_SOAK_BUYERS` raises it for a longer soak.
const N_BUYERS_DEFAULT: usize = 300;
const CLAIMS_PER_BUYER: usize = 3;
const QUANTITY: u64 = 40;
const PER_BUYER_LIMIT: u32 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_buyers_claim_exactly_the_quantity() {
    let n_buyers =
        std::env::var("LIVEDROP_SOAK_BUYERS").ok().and_then(|text| text.parse().ok()).unwrap_or(N_BUYERS_DEFAULT);
    let server = Arc::new(TestServer::start(Options::default()).await);
    let fixture = server.open_drop(QUANTITY, PER_BUYER_LIMIT, 600).await;
    let mut buyers = Vec::new();
    for buyer_idx in 0..n_buyers {
        buyers.push(server.account(&format!("buyer_{buyer_idx}"), "buyer").await);
    }

    let mut tasks = Vec::new();
    for (buyer_idx, buyer) in buyers.iter().enumerate() {
        for claim_idx in 0..CLAIMS_PER_BUYER {
            let server = server.clone();
            let buyer = buyer.clone();
            let drop_id = fixture.drop_id.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("claim-{buyer_idx}-{claim_idx}");
                let (status, body) = server.claim(&buyer, &drop_id, &key, 1).await;
                (buyer_idx, status, body)
            }));
        }
    }
    let mut units_by_buyer: HashMap<usize, u32> = HashMap::new();
    let mut acknowledged = Vec::new();
    for task in tasks {
        let (buyer_idx, status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => {
                *units_by_buyer.entry(buyer_idx).or_default() += body["quantity"].as_u64().unwrap() as u32;
                acknowledged.push((buyer_idx, body));
            }
            StatusCode::CONFLICT => assert!(["sold_out", "limit_exceeded"].contains(&error_code(&body)), "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }

    let n_claimed: u32 = units_by_buyer.values().sum();
    assert_eq!(u64::from(n_claimed), QUANTITY, "exactly the quantity is claimed");
    assert!(units_by_buyer.values().all(|units| *units <= PER_BUYER_LIMIT), "every buyer within the limit");
    let (remaining, held, sold, state) = server.drop_counters(&fixture.drop_id).await;
    assert_eq!((remaining, held, sold, state.as_str()), (0, QUANTITY, 0, "sold_out"));

    for (buyer_idx, receipt) in acknowledged {
        let cart_id = receipt["cart_id"].as_str().unwrap();
        let (status, cart) = server.get(&format!("/v1/carts/{cart_id}"), Some(&buyers[buyer_idx])).await;
        assert_eq!(status, StatusCode::OK, "{cart}");
        let hold = cart["holds"].as_array().unwrap().iter().find(|hold| hold["hold_id"] == receipt["hold_id"]);
        let hold = hold.unwrap_or_else(|| panic!("acknowledged hold missing from its cart: {receipt} {cart}"));
        assert_eq!(hold["status"], "active");
    }
}
