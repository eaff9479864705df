//! Charges the journal never heard of: the provider charged, then the process stopped before the
//! order's commit (here: the test charges the provider directly and restarts the server). Once past
//! the grace, the reconciliation sweep finds them in the provider's listing, journals them as
//! unused and pays each back once; younger ones, and an order's charge, are left alone.

use crate::harness::{Options, TestServer};
use domain::{CartId, ChargeStanding, IDEMPOTENCY_TTL_MS, Money};
use engine::{Charge, ChargeRequest, ORPHAN_GRACE_MS, ORPHANS_PER_SWEEP_MAX, PaymentProvider};
use reqwest::StatusCode;
use serde_json::json;

const MINUTE_MS: i64 = 60_000;

fn eur(minor: i64) -> Money {
    Money { minor, currency: "EUR".parse().unwrap() }
}

/// Charges 12.50 EUR for `cart_id` as checkout would, without checkout: what a crash leaves.
async fn charge_and_crash(server: &TestServer, cart_id: CartId, key: &str) -> String {
    charge_for(server, cart_id, key, server.engine.journal_id()).await
}

/// A charge made for the journal `journal_id`: another deployment's on the same provider account.
async fn charge_for(server: &TestServer, cart_id: CartId, key: &str, journal_id: &str) -> String {
    let request = ChargeRequest {
        amount: eur(1_250),
        payment_method: "pm_card_visa".into(),
        idempotency_key: key.into(),
        description: format!("livedrop cart {cart_id}"),
        cart_id,
        journal_id: journal_id.to_owned(),
    };
    let Charge::Approved { charge_id } = server.payments.charge(request).await.unwrap() else { panic!("declined") };
    charge_id
}

/// What the journal says of a charge: its standing, and the provider's refund if paid back.
async fn journal_of(server: &TestServer, cart_id: CartId, charge_id: &str) -> (ChargeStanding, Option<String>) {
    let charge_id = charge_id.to_owned();
    let read = move |state: &domain::State| {
        let released = state.unused_charge(&charge_id).and_then(|(_, _, released)| released.map(str::to_owned));
        (state.charge_standing(cart_id, &charge_id), released)
    };
    server.engine.read(cart_id.partition(), read).await.unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_the_journal_never_heard_of_is_paid_back_once_after_the_grace() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let fixture = server.open_drop(10, 5, 300).await;

    // A sale that went through: its charge is an order's and stays.
    let paying = server.account("paying", "buyer").await;
    let (status, claim) = server.claim(&paying, &fixture.drop_id, "claim-paid", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, order) =
        server.post(&path, Some(&paying), Some("pay-1"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let paid_charge = order["charge_id"].as_str().unwrap().to_owned();

    // A checkout charged, then the process stopped before its commit.
    let lost_buyer = server.account("lost", "buyer").await;
    let (status, claim) = server.claim(&lost_buyer, &fixture.drop_id, "claim-lost", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let cart_id: CartId = claim["cart_id"].as_str().unwrap().parse().unwrap();
    let lost = charge_and_crash(&server, cart_id, "crashed-1").await;
    let server = server.restart().await;
    assert_eq!(journal_of(&server, cart_id, &lost).await, (ChargeStanding::Orphan, None));

    // Within the idempotency window a retry under the same key could still complete an order with
    // it, and the grace reaches past that window.
    assert_eq!(server.engine.reconcile_now().await.unwrap(), 0);
    clock.advance_ms(IDEMPOTENCY_TTL_MS as i64 + MINUTE_MS);
    let young = charge_and_crash(&server, cart_id, "crashed-2").await;
    assert_eq!(server.engine.reconcile_now().await.unwrap(), 0);
    assert!(server.payments.refunds().is_empty(), "nothing paid back within the grace");

    // A minute past the grace: the lost charge is journaled unused and paid back; the young one is
    // not.
    // (How many a sweep kept is not asserted where one is due: the background sweep may get there
    // first; the provider's refunds and the journal say what happened.)
    clock.advance_ms((ORPHAN_GRACE_MS - IDEMPOTENCY_TTL_MS) as i64);
    server.engine.reconcile_now().await.unwrap();
    let refunds = server.payments.refunds();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let (request, receipt) = &refunds[0];
    assert_eq!((request.charge_id.as_str(), request.amount), (lost.as_str(), None));
    assert_eq!(request.idempotency_key, format!("ld_unused_{lost}"));
    assert_eq!(journal_of(&server, cart_id, &lost).await, (ChargeStanding::Unused, Some(receipt.refund_id.clone())));
    assert_eq!(journal_of(&server, cart_id, &young).await, (ChargeStanding::Orphan, None));
    let paid_cart: CartId = order["cart_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(journal_of(&server, paid_cart, &paid_charge).await, (ChargeStanding::Ordered, None));

    // Again, and after a restart (its first sweep looks a week back): nothing more is paid.
    assert_eq!(server.engine.reconcile_now().await.unwrap(), 0);
    let server = server.restart().await;
    assert_eq!(server.engine.reconcile_now().await.unwrap(), 0);
    assert_eq!(server.payments.refunded_charge_ids(), vec![lost.clone()]);
    assert_eq!(journal_of(&server, cart_id, &lost).await, (ChargeStanding::Unused, Some(receipt.refund_id.clone())));

    // The young one's turn comes once it is past the grace too; the order's charge never does.
    clock.advance_ms(ORPHAN_GRACE_MS as i64);
    server.engine.reconcile_now().await.unwrap();
    assert_eq!(server.payments.refunded_charge_ids(), vec![lost, young]);
    assert_eq!(journal_of(&server, paid_cart, &paid_charge).await, (ChargeStanding::Ordered, None));
}

/// Only this journal's charges are ever paid back, and a listing with more unknown charges than a
/// crash leaves pays none back: both guard live orders against a listing that does not match
/// (another deployment on the same account, an adapter listing other ids).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_pays_back_only_its_own_few_orphans() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let fixture = server.open_drop(10, 5, 300).await;
    let buyer = server.account("shopper", "buyer").await;
    let (status, claim) = server.claim(&buyer, &fixture.drop_id, "claim-1", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let cart_id: CartId = claim["cart_id"].as_str().unwrap().parse().unwrap();
    let foreign = charge_for(&server, cart_id, "other-deployment", "another-journal").await;
    clock.advance_ms(ORPHAN_GRACE_MS as i64 + MINUTE_MS);
    assert_eq!(server.engine.reconcile_now().await.unwrap(), 0);
    assert!(server.payments.refunds().is_empty(), "another journal's charge is left alone");
    assert_eq!(journal_of(&server, cart_id, &foreign).await, (ChargeStanding::Orphan, None));

    let mut many = Vec::new();
    for n in 0..=ORPHANS_PER_SWEEP_MAX {
        many.push(charge_and_crash(&server, cart_id, &format!("lost-{n}")).await);
    }
    clock.advance_ms(ORPHAN_GRACE_MS as i64 + MINUTE_MS);
    assert_eq!(server.engine.reconcile_now().await.unwrap(), 0);
    assert_eq!(server.engine.reconcile_now().await.unwrap(), 0, "still halted: listed again, none paid");
    assert!(server.payments.refunds().is_empty(), "{} orphans: none paid back", many.len());
    assert_eq!(journal_of(&server, cart_id, &many[0]).await, (ChargeStanding::Orphan, None));
}
