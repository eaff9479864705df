//! Money over HTTP: split contracts, the sale's split in the ledger, refunds taken back from every
//! party, settlement windows with payouts (paid, failed and paid again), payout profiles with a delay
//! and a rolling reserve, statements, the trial balance, and every refusal.

use crate::harness::{ADMIN_TOKEN, Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A creator, a venue and a curator partner, and a drop of 12.50 EUR tees sharing 15 % and 5 %
/// after the platform's 10 %.
pub(crate) struct Shop {
    pub(crate) creator: String,
    pub(crate) creator_id: String,
    pub(crate) venue: String,
    pub(crate) venue_id: String,
    pub(crate) curator: String,
    pub(crate) curator_id: String,
    pub(crate) drop_id: String,
}

async fn account_with_id(server: &TestServer, body: Value) -> (String, String) {
    let (status, account) = server.post("/v1/accounts", None, None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    (account["token"].as_str().unwrap().to_owned(), account["id"].as_str().unwrap().to_owned())
}

pub(crate) async fn shop(server: &TestServer) -> Shop {
    let (creator, creator_id) = account_with_id(server, json!({"handle": "maker", "role": "creator"})).await;
    let venue_body = json!({"handle": "corner_venue", "role": "partner", "partner_kind": "venue"});
    let (venue, venue_id) = account_with_id(server, venue_body).await;
    let curator_body = json!({"handle": "curator_co", "role": "partner", "partner_kind": "curator"});
    let (curator, curator_id) = account_with_id(server, curator_body).await;
    let shares =
        json!({"shares": [{"partner_id": venue_id, "share_bps": 1_500}, {"partner_id": curator_id, "share_bps": 500}]});
    let (status, contract) = server.post("/v1/split-contracts", Some(&creator), Some("contract-1"), shares).await;
    assert_eq!(status, StatusCode::CREATED, "{contract}");
    assert_eq!((contract["state"].as_str(), contract["creator_share_bps"].as_u64()), (Some("pending"), Some(8_000)));
    let contract_id = contract["id"].as_str().unwrap().to_owned();

    let (status, room) = server.post("/v1/rooms", Some(&creator), None, json!({"title": "Pop-up"})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let product = json!({"title": "Tee", "price_minor": 1250, "currency": "EUR", "stock": 100, "fulfilment": "pickup"});
    let (status, product) = server.post("/v1/products", Some(&creator), None, product).await;
    assert_eq!(status, StatusCode::CREATED, "{product}");
    let drops = format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap());
    let drop = json!({"product_id": product["id"], "quantity": 50, "per_buyer_limit": 5, "hold_seconds": 300,
        "split_contract_id": contract_id});

    // Not every partner has accepted yet: no drop may use it.
    let accept = format!("/v1/split-contracts/{contract_id}/accept");
    let (status, answered) = server.post(&accept, Some(&venue), None, json!({})).await;
    assert_eq!((status, answered["state"].as_str()), (StatusCode::OK, Some("pending")), "{answered}");
    let (status, refused) = server.post(&drops, Some(&creator), None, drop.clone()).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::CONFLICT, "split_not_accepted"));
    let (status, answered) = server.post(&accept, Some(&curator), None, json!({})).await;
    assert_eq!((status, answered["state"].as_str()), (StatusCode::OK, Some("accepted")), "{answered}");
    let (status, again) = server.post(&accept, Some(&curator), None, json!({})).await;
    assert_eq!((status, error_code(&again)), (StatusCode::CONFLICT, "contract_already_answered"));

    let (status, drop) = server.post(&drops, Some(&creator), None, drop).await;
    assert_eq!(status, StatusCode::CREATED, "{drop}");
    assert_eq!(drop["split_contract_id"].as_str(), Some(contract_id.as_str()));
    Shop { creator, creator_id, venue, venue_id, curator, curator_id, drop_id: drop["id"].as_str().unwrap().to_owned() }
}

pub(crate) async fn buy(server: &TestServer, shop: &Shop, handle: &str, units: u32) -> Value {
    let buyer = server.account(handle, "buyer").await;
    let (status, claim) = server.claim(&buyer, &shop.drop_id, &format!("{handle}-claim"), units).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let body = json!({"payment_method": "pm_card_visa"});
    let (status, order) = server.post(&path, Some(&buyer), Some(&format!("{handle}-pay")), body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    json!({"buyer": buyer, "order": order})
}

/// (pending, available, reserved, paid out) in EUR.
async fn eur(server: &TestServer, token: &str) -> (i64, i64, i64, i64) {
    let (status, body) = server.get("/v1/balances", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let balances = body["balances"].as_array().unwrap();
    let Some(eur) = balances.iter().find(|balance| balance["currency"] == "EUR") else { return (0, 0, 0, 0) };
    let field = |name: &str| eur[name].as_i64().unwrap();
    (field("pending_minor"), field("available_minor"), field("reserved_minor"), field("paid_out_minor"))
}

async fn trial_balance(server: &TestServer) -> Value {
    let (status, trial) = server.get("/v1/admin/ledger/trial-balance", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{trial}");
    assert_eq!(trial["balanced"], true, "{trial}");
    trial
}

fn account_balance(trial: &Value, account: &str) -> i64 {
    let accounts = trial["accounts"].as_array().unwrap();
    accounts.iter().find(|row| row["account"] == account).map_or(0, |row| row["balance_minor"].as_i64().unwrap())
}

async fn close(server: &TestServer, key: &str) -> Value {
    let (status, settlement) = server.post("/v1/admin/settlements", Some(ADMIN_TOKEN), Some(key), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{settlement}");
    settlement
}

fn payouts_by_account(settlement: &Value) -> Vec<(String, i64, String)> {
    let payouts = settlement["payouts"].as_array().unwrap().iter();
    let mut rows: Vec<_> = payouts
        .map(|payout| {
            let account = payout["account_id"].as_str().unwrap().to_owned();
            (account, payout["amount_minor"].as_i64().unwrap(), payout["state"].as_str().unwrap().to_owned())
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_is_split_refunded_by_every_party_settled_and_paid_once() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    let sale = buy(&server, &shop, "ana", 3).await;
    // 37.50 EUR: 10 % fee 3.75; of 33.75, 15 % (5.0625) to the venue, 5 % (1.6875) to the curator and
    // 80 % (27.00) to the creator. Largest remainder: the curator's .75 beats the venue's .25.
    assert_eq!(eur(&server, &shop.creator).await, (2_700, 0, 0, 0));
    assert_eq!(eur(&server, &shop.venue).await, (506, 0, 0, 0));
    assert_eq!(eur(&server, &shop.curator).await, (169, 0, 0, 0));
    let trial = trial_balance(&server).await;
    assert_eq!(account_balance(&trial, "processor_clearing"), 3_750);
    assert_eq!(account_balance(&trial, "platform_fees"), 375);

    let (status, earnings) = server.get("/v1/earnings", Some(&shop.venue)).await;
    assert_eq!(status, StatusCode::OK, "{earnings}");
    let earning = &earnings["earnings"][0];
    assert_eq!((earning["amount_minor"].as_i64(), earning["pending_minor"].as_i64()), (Some(506), Some(506)));
    assert!(earning["why"].as_str().unwrap().ends_with("same day"), "{earning}");

    // One unit back (12.50, under the approval threshold): a third of what each party still has.
    let order = &sale["order"];
    let refund = json!({"lines": [{"hold_id": order["lines"][0]["hold_id"], "quantity": 1}], "reason": "too small"});
    let path = format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap());
    let (status, refund) = server.post(&path, Some(sale["buyer"].as_str().unwrap()), Some("refund-1"), refund).await;
    assert_eq!((status, refund["status"].as_str()), (StatusCode::CREATED, Some("executed")), "{refund}");
    assert_eq!(eur(&server, &shop.creator).await, (1_800, 0, 0, 0));
    assert_eq!(eur(&server, &shop.venue).await, (337, 0, 0, 0));
    assert_eq!(eur(&server, &shop.curator).await, (113, 0, 0, 0));
    assert_eq!(account_balance(&trial_balance(&server).await, "platform_fees"), 250);

    // Only admins close windows; a creator asking changes nothing.
    let (status, refused) = server.post("/v1/admin/settlements", Some(&shop.creator), Some("s"), json!({})).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::FORBIDDEN, "forbidden"));
    let settlement = close(&server, "window-1").await;
    let mut expected = vec![
        (shop.creator_id.clone(), 1_800, "paid".to_owned()),
        (shop.venue_id.clone(), 337, "paid".to_owned()),
        (shop.curator_id.clone(), 113, "paid".to_owned()),
    ];
    expected.sort();
    assert_eq!(payouts_by_account(&settlement), expected);
    assert_eq!(eur(&server, &shop.creator).await, (0, 0, 0, 1_800));
    // The same key answers the same settlement and pays nobody again.
    let retried = close(&server, "window-1").await;
    assert_eq!((retried["id"].clone(), payouts_by_account(&retried)), (settlement["id"].clone(), expected.clone()));
    assert_eq!(server.payouts.n_paid(), 3);
    // A new window with nothing due creates no payout.
    assert!(close(&server, "window-2").await["payouts"].as_array().unwrap().is_empty());

    // The creator's payout pays its sale line; its statement says so as CSV too.
    let (status, payouts) = server.get("/v1/payouts", Some(&shop.creator)).await;
    assert_eq!(status, StatusCode::OK, "{payouts}");
    let payout_id = payouts["payouts"][0]["id"].as_str().unwrap().to_owned();
    let (status, payout) = server.get(&format!("/v1/payouts/{payout_id}"), Some(&shop.creator)).await;
    assert_eq!(status, StatusCode::OK, "{payout}");
    let lines = payout["lines"].as_array().unwrap();
    assert_eq!(lines.iter().map(|line| line["amount_minor"].as_i64().unwrap()).sum::<i64>(), 1_800);
    assert_eq!((lines[0]["kind"].as_str(), lines[0]["order_id"].clone()), (Some("sale"), order["order_id"].clone()));
    let (status, _) = server.get(&format!("/v1/payouts/{payout_id}"), Some(&shop.venue)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another payee's payout is not there");
    let response = server
        .client
        .get(format!("{}/v1/payouts/{payout_id}/statement.csv", server.base))
        .bearer_auth(&shop.creator)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    assert!(csv.lines().nth(1).unwrap().contains(",sale,"), "{csv}");
    assert!(csv.lines().last().unwrap().contains(",total,,,,1800,EUR,"), "{csv}");

    // Captured − refunded = paid out + fees: the processor keeps exactly the platform's fees.
    let trial = trial_balance(&server).await;
    assert_eq!(account_balance(&trial, "processor_clearing"), 250);
    let (status, page) = server.get("/v1/ledger/transactions?limit=2", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(page["transactions"][0]["cause"]["kind"], "sale", "{page}");
    let next = page["next_after"].as_str().unwrap();
    let (_, rest) = server.get(&format!("/v1/ledger/transactions?after={next}&limit=500"), Some(ADMIN_TOKEN)).await;
    // Sale, refund, one maturing per book with payees, three payouts created and three sent.
    let n_all = 2 + rest["transactions"].as_array().unwrap().len();
    assert!(n_all >= 9, "{rest}");
    let (_, own) = server.get("/v1/ledger/transactions", Some(&shop.venue)).await;
    let own = own["transactions"].as_array().unwrap();
    assert!(own.iter().all(|transaction| transaction.to_string().contains(&shop.venue_id)), "{own:?}");

    // A restart rebuilds the same ledger from the journal.
    let before = trial_balance(&server).await;
    let server = server.restart().await;
    assert_eq!(trial_balance(&server).await, before);
    assert_eq!(eur(&server, &shop.curator).await, (0, 0, 0, 113));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_payout_returns_to_available_and_is_paid_at_the_next_window() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    buy(&server, &shop, "ben", 1).await;
    let creator_id = shop.creator_id.parse().unwrap();
    server.payouts.refuse_payee(creator_id, true);
    let settlement = close(&server, "window-1").await;
    let creator_payout = payouts_by_account(&settlement).into_iter().find(|(id, _, _)| *id == shop.creator_id);
    assert_eq!(creator_payout, Some((shop.creator_id.clone(), 900, "failed".to_owned())));
    assert_eq!(eur(&server, &shop.creator).await, (0, 900, 0, 0), "back to available");
    trial_balance(&server).await;

    server.payouts.refuse_payee(creator_id, false);
    let settlement = close(&server, "window-2").await;
    assert_eq!(payouts_by_account(&settlement), vec![(shop.creator_id.clone(), 900, "paid".to_owned())]);
    assert_eq!(eur(&server, &shop.creator).await, (0, 0, 0, 900));
    let payout_id = settlement["payouts"][0]["id"].as_str().unwrap();
    let (_, payout) = server.get(&format!("/v1/payouts/{payout_id}"), Some(&shop.creator)).await;
    assert_eq!(payout["lines"][0]["kind"], "payout_returned", "{payout}");
    let (_, payouts) = server.get("/v1/payouts", Some(&shop.creator)).await;
    let states: Vec<_> = payouts["payouts"].as_array().unwrap().iter().map(|p| p["state"].clone()).collect();
    assert_eq!(states, [json!("paid"), json!("failed")], "newest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_profile_with_a_reserve_pays_on_its_dates() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let shop = shop(&server).await;
    let profile = json!({"schedule": "delayed", "delay_days": 7, "reserve_bps": 1_000, "reserve_days": 30});
    let path = format!("/v1/admin/payout-profiles/{}", shop.creator_id);
    let (status, set) = server.send("PUT", &path, Some(ADMIN_TOKEN), None, Some(profile)).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["terms"], "delayed 7 days, 10.00 % reserved 30 days");
    let (_, seen) = server.get("/v1/payout-profile", Some(&shop.creator)).await;
    assert_eq!((seen["schedule"].as_str(), seen["custom"].as_bool()), (Some("delayed"), Some(true)), "{seen}");

    buy(&server, &shop, "cleo", 2).await; // 25.00: the creator earns 18.00, 1.80 of it reserved
    assert_eq!(eur(&server, &shop.creator).await, (1_620, 0, 180, 0));
    let (_, earnings) = server.get("/v1/earnings", Some(&shop.creator)).await;
    let why = earnings["earnings"][0]["why"].as_str().unwrap();
    assert!(why.contains("delayed 7 days") && why.contains("180 of 1800 reserved until"), "{why}");

    let settlement = close(&server, "day-0").await;
    assert!(payouts_by_account(&settlement).iter().all(|(id, _, _)| *id != shop.creator_id), "not due yet");
    clock.advance_ms(8 * 86_400_000);
    let settlement = close(&server, "day-8").await;
    assert_eq!(payouts_by_account(&settlement), vec![(shop.creator_id.clone(), 1_620, "paid".to_owned())]);
    assert_eq!(eur(&server, &shop.creator).await, (0, 0, 180, 1_620));
    let server = server.restart().await;
    clock.advance_ms(23 * 86_400_000);
    let settlement = close(&server, "day-31").await;
    assert_eq!(payouts_by_account(&settlement), vec![(shop.creator_id.clone(), 180, "paid".to_owned())]);
    let payout_id = settlement["payouts"][0]["id"].as_str().unwrap();
    let (_, payout) = server.get(&format!("/v1/payouts/{payout_id}"), Some(&shop.creator)).await;
    assert_eq!(payout["lines"][0]["kind"], "reserve_released", "{payout}");
    assert_eq!(eur(&server, &shop.creator).await, (0, 0, 0, 1_800));
    trial_balance(&server).await;
}

/// A venue paid "delayed 14 days, released when fulfilled": its share waits until the pickup, then
/// goes out at the next window; a sale not picked up yet keeps waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pickup_releases_a_delayed_share_at_the_next_window() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    let profile = json!({"schedule": "delayed", "delay_days": 14, "release_on_fulfilment": true});
    let path = format!("/v1/admin/payout-profiles/{}", shop.venue_id);
    let (status, set) = server.send("PUT", &path, Some(ADMIN_TOKEN), None, Some(profile)).await;
    assert_eq!((status, set["terms"].as_str()), (StatusCode::OK, Some("delayed 14 days, released when fulfilled")));
    assert_eq!(set["release_on_fulfilment"], true, "{set}");
    let picked = buy(&server, &shop, "gail", 2).await; // 25.00: the venue earns 3.38
    buy(&server, &shop, "hugo", 2).await;
    assert_eq!(eur(&server, &shop.venue).await, (676, 0, 0, 0));
    let settlement = close(&server, "before-pickup").await;
    assert!(payouts_by_account(&settlement).iter().all(|(id, _, _)| *id != shop.venue_id), "not released yet");

    let order_id = picked["order"]["order_id"].as_str().unwrap();
    let (_, order) = server.get(&format!("/v1/orders/{order_id}"), picked["buyer"].as_str()).await;
    let fulfilment = &order["fulfilment"][0];
    let code = fulfilment["pickup_code"].as_str().unwrap();
    let changes = format!("/v1/fulfilment-orders/{}/changes", fulfilment["id"].as_str().unwrap());
    for body in [json!({"state": "accepted"}), json!({"state": "ready_for_pickup"})] {
        let (status, moved) = server.post(&changes, Some(&shop.venue), None, body).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
    }
    let (status, _) =
        server.post(&changes, Some(&shop.venue), None, json!({"state": "picked_up", "pickup_code": code})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, earnings) = server.get("/v1/earnings", Some(&shop.venue)).await;
    let released: Vec<_> =
        earnings["earnings"].as_array().unwrap().iter().filter(|e| e.get("released_at").is_some()).collect();
    assert_eq!(released.len(), 1, "{earnings}");
    assert!(released[0]["why"].as_str().unwrap().contains("released when fulfilled; fulfilled "), "{earnings}");

    let settlement = close(&server, "after-pickup").await;
    assert_eq!(
        payouts_by_account(&settlement).into_iter().find(|(id, _, _)| *id == shop.venue_id).map(|p| p.1),
        Some(338)
    );
    assert_eq!(eur(&server, &shop.venue).await, (338, 0, 0, 338), "the other sale still waits");
    let server = server.restart().await;
    assert_eq!(eur(&server, &shop.venue).await, (338, 0, 0, 338));
    trial_balance(&server).await;

    let same_day = json!({"schedule": "same_day", "release_on_fulfilment": true});
    let (status, refused) = server.send("PUT", &path, Some(ADMIN_TOKEN), None, Some(same_day)).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::BAD_REQUEST, "invalid_request"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_refusals_are_clear_and_change_nothing() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    let buyer = server.account("dan", "buyer").await;
    let buyer_id = {
        let (_, me) = server.get("/v1/accounts/me", Some(&buyer)).await;
        me["id"].as_str().unwrap().to_owned()
    };
    let propose = |shares: Value| json!({ "shares": shares });
    let cases = [
        (
            propose(
                json!([{"partner_id": shop.venue_id, "share_bps": 6_000}, {"partner_id": shop.curator_id, "share_bps": 4_001}]),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "shares_exceed_whole",
        ),
        (
            propose(json!([{"partner_id": buyer_id, "share_bps": 100}])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_partner",
        ),
        (propose(json!([{"partner_id": shop.venue_id, "share_bps": 0}])), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            propose(
                json!([{"partner_id": shop.venue_id, "share_bps": 10}, {"partner_id": shop.venue_id, "share_bps": 10}]),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (propose(json!([])), StatusCode::BAD_REQUEST, "invalid_request"),
        (propose(json!([{"partner_id": "acct_nope", "share_bps": 10}])), StatusCode::BAD_REQUEST, "invalid_request"),
    ];
    for (index, (body, status, code)) in cases.into_iter().enumerate() {
        let (got, answer) =
            server.post("/v1/split-contracts", Some(&shop.creator), Some(&format!("bad-{index}")), body).await;
        assert_eq!((got, error_code(&answer)), (status, code), "case {index}: {answer}");
    }
    let (status, answer) = server
        .post(
            "/v1/split-contracts",
            Some(&buyer),
            Some("b"),
            propose(json!([{"partner_id": shop.venue_id, "share_bps": 10}])),
        )
        .await;
    assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "forbidden"));
    let (_, listed) = server.get("/v1/split-contracts", Some(&shop.creator)).await;
    assert_eq!(listed["contracts"].as_array().unwrap().len(), 1, "no refused proposal was kept");
    let (_, listed) = server.get("/v1/split-contracts", Some(&shop.venue)).await;
    assert_eq!(listed["contracts"].as_array().unwrap().len(), 1, "the partner sees the contract naming it");

    for body in [
        json!({"handle": "kindless", "role": "partner"}),
        json!({"handle": "kindful", "role": "buyer", "partner_kind": "venue"}),
    ] {
        let (status, answer) = server.post("/v1/accounts", None, None, body).await;
        assert_eq!((status, error_code(&answer)), (StatusCode::BAD_REQUEST, "invalid_request"), "{answer}");
    }
    for (path, token) in
        [("/v1/balances", &buyer), ("/v1/admin/ledger/trial-balance", &shop.creator), ("/v1/payouts", &buyer)]
    {
        let (status, answer) = server.get(path, Some(token)).await;
        assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "forbidden"), "{path}");
    }
    let (status, _) = server.get(&format!("/v1/balances?account_id={}", shop.venue_id), Some(&shop.creator)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a payee sees its own balances only");
    let (status, venue) = server.get(&format!("/v1/balances?account_id={}", shop.venue_id), Some(ADMIN_TOKEN)).await;
    assert_eq!((status, venue["account_id"].as_str()), (StatusCode::OK, Some(shop.venue_id.as_str())));

    let bad_profiles = [
        json!({"schedule": "delayed"}),
        json!({"schedule": "same_day", "delay_days": 3}),
        json!({"schedule": "delayed", "delay_days": 400}),
        json!({"schedule": "same_day", "reserve_bps": 1_000}),
        json!({"schedule": "same_day", "reserve_bps": 20_000, "reserve_days": 10}),
        json!({"schedule": "weekly"}),
    ];
    let path = format!("/v1/admin/payout-profiles/{}", shop.creator_id);
    for profile in bad_profiles {
        let (status, answer) = server.send("PUT", &path, Some(ADMIN_TOKEN), None, Some(profile.clone())).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{profile}: {status} {answer}"
        );
    }
    let (_, seen) = server.get("/v1/payout-profile", Some(&shop.creator)).await;
    assert_eq!((seen["schedule"].as_str(), seen["custom"].as_bool()), (Some("same_day"), Some(false)), "{seen}");
    let same_day = json!({"schedule": "same_day"});
    let (status, _) = server.send("PUT", &path, Some(&shop.creator), None, Some(same_day.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let buyer_path = format!("/v1/admin/payout-profiles/{buyer_id}");
    let (status, _) = server.send("PUT", &buyer_path, Some(ADMIN_TOKEN), None, Some(same_day)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "buyers are not paid out");
    trial_balance(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disputes_take_from_the_reserve_first_and_are_won_or_lost() {
    // A won dispute gives each share back where it was taken from, under the payee's profile.
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    let profile = json!({"schedule": "delayed", "delay_days": 7, "reserve_bps": 1_000, "reserve_days": 30});
    let path = format!("/v1/admin/payout-profiles/{}", shop.creator_id);
    let (status, _) = server.send("PUT", &path, Some(ADMIN_TOKEN), None, Some(profile)).await;
    assert_eq!(status, StatusCode::OK);
    let lost_sale = buy(&server, &shop, "erin", 2).await; // 25.00: creator 18.00 (1.80 reserved)
    let won_sale = buy(&server, &shop, "finn", 1).await;
    assert_eq!(eur(&server, &shop.creator).await, (1_620 + 810, 0, 180 + 90, 0));

    let order_id = |sale: &Value| sale["order"]["order_id"].as_str().unwrap().to_owned();
    let open = |order: String, amount: Option<i64>| {
        let body = match amount {
            Some(amount) => json!({"amount_minor": amount, "reason": "fraudulent"}),
            None => json!({"reason": "not received"}),
        };
        (format!("/v1/admin/orders/{order}/disputes"), body)
    };
    let (path, body) = open(order_id(&lost_sale), Some(1_000));
    let (status, refused) = server.post(&path, Some(&shop.creator), Some("d0"), body.clone()).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, too_much) =
        server.post(&path, Some(ADMIN_TOKEN), Some("d1"), json!({"amount_minor": 2_501, "reason": "x"})).await;
    assert_eq!((status, error_code(&too_much)), (StatusCode::BAD_REQUEST, "invalid_request"), "{too_much}");
    let (status, dispute) = server.post(&path, Some(ADMIN_TOKEN), Some("d2"), body).await;
    assert_eq!((status, dispute["state"].as_str()), (StatusCode::CREATED, Some("open")), "{dispute}");
    // 40 % of each party's share: the creator's 720 comes from its 180 reserved first, then pending.
    let (_, balances) = server.get("/v1/balances", Some(&shop.creator)).await;
    let eur_row = &balances["balances"][0];
    assert_eq!(
        (eur_row["pending_minor"].as_i64(), eur_row["reserved_minor"].as_i64(), eur_row["disputed_minor"].as_i64()),
        (Some(2_430 - 540), Some(90), Some(720)),
        "{balances}"
    );
    let (status, twice) = server.post(&path, Some(ADMIN_TOKEN), Some("d3"), json!({"reason": "again"})).await;
    assert_eq!((status, error_code(&twice)), (StatusCode::CONFLICT, "already_disputed"));
    let refund = json!({"reason": "changed my mind"});
    let refunds = format!("/v1/orders/{}/refunds", order_id(&lost_sale));
    let (status, refused) = server.post(&refunds, Some(lost_sale["buyer"].as_str().unwrap()), Some("r"), refund).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::CONFLICT, "order_disputed"));

    let dispute_id = dispute["id"].as_str().unwrap();
    let (status, lost) =
        server.post(&format!("/v1/admin/disputes/{dispute_id}/lost"), Some(ADMIN_TOKEN), None, json!({})).await;
    assert_eq!((status, lost["state"].as_str()), (StatusCode::OK, Some("lost")), "{lost}");
    let (status, again) =
        server.post(&format!("/v1/admin/disputes/{dispute_id}/won"), Some(ADMIN_TOKEN), None, json!({})).await;
    assert_eq!((status, error_code(&again)), (StatusCode::CONFLICT, "dispute_not_open"));
    let trial = trial_balance(&server).await;
    // Captured 37.50, lost 10.00; the platform gave back its 1.00 share of the fee.
    assert_eq!(account_balance(&trial, "processor_clearing"), 3_750 - 1_000);
    assert_eq!(account_balance(&trial, "platform_fees"), 375 - 100);

    // A dispute of the whole second order, won: the creator's share is available at once.
    let (path, body) = open(order_id(&won_sale), None);
    let (status, dispute) = server.post(&path, Some(ADMIN_TOKEN), Some("d4"), body).await;
    assert_eq!((status, dispute["amount_minor"].as_i64()), (StatusCode::CREATED, Some(1_250)), "{dispute}");
    let dispute_id = dispute["id"].as_str().unwrap();
    let (status, seen) = server.get(&format!("/v1/disputes/{dispute_id}"), Some(&shop.creator)).await;
    assert_eq!((status, seen["state"].as_str()), (StatusCode::OK, Some("open")));
    let (status, won) =
        server.post(&format!("/v1/admin/disputes/{dispute_id}/won"), Some(ADMIN_TOKEN), None, json!({})).await;
    assert_eq!((status, won["state"].as_str()), (StatusCode::OK, Some("won")), "{won}");
    // Back where it was taken from: pending and reserved under the creator's 7-day profile.
    assert_eq!(eur(&server, &shop.creator).await, (1_890, 0, 90, 0), "the won share is pending again");
    let settlement = close(&server, "after-disputes").await;
    assert!(payouts_by_account(&settlement).iter().all(|(id, _, _)| *id != shop.creator_id), "not due yet");
    let before = trial_balance(&server).await;
    let server = server.restart().await;
    assert_eq!(trial_balance(&server).await, before);
    assert_eq!(eur(&server, &shop.creator).await, (1_890, 0, 90, 0));
}

/// Two checkouts of one cart under different keys both take a payment; the second finds the cart
/// checked out, journals its charge as unused and pays it back; with the provider down, the
/// reconciliation sweep at the next start pays it back instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_no_order_kept_is_journaled_and_paid_back() {
    let server = TestServer::start(Options { payment_latency_ms: 150, ..Options::default() }).await;
    let fixture = server.open_drop(10, 5, 300).await;
    let unreleased = |server: &TestServer| {
        let engine = server.engine.clone();
        async move { engine.read_all(|state| state.unreleased_charges().count()).await.unwrap().iter().sum::<usize>() }
    };
    for (round, provider_down) in [(0, false), (1, true)] {
        let buyer = server.account(&format!("gus{round}"), "buyer").await;
        let (status, claim) = server.claim(&buyer, &fixture.drop_id, &format!("claim-{round}"), 1).await;
        assert_eq!(status, StatusCode::CREATED, "{claim}");
        server.payments.set_refunds_failing(provider_down);
        let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
        let body = json!({"payment_method": "pm_card_visa"});
        let (key_a, key_b) = (format!("pay-a-{round}"), format!("pay-b-{round}"));
        let (first, second) = tokio::join!(
            server.post(&path, Some(&buyer), Some(&key_a), body.clone()),
            server.post(&path, Some(&buyer), Some(&key_b), body.clone()),
        );
        let mut statuses = [first.0, second.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{first:?} {second:?}");
        assert_eq!(server.payments.n_approved(), 2 * (round + 1), "both took a payment");
        assert_eq!(unreleased(&server).await, usize::from(provider_down));
    }
    assert_eq!(server.payments.refunded_charge_ids().len(), 1, "the first round's unused charge was paid back");
    server.payments.set_refunds_failing(false);
    let server = server.restart().await;
    for _ in 0..100 {
        if unreleased(&server).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(unreleased(&server).await, 0, "the sweep at start paid the second one back");
    let refunds = server.payments.refunds();
    assert_eq!(refunds.len(), 2);
    assert!(refunds.iter().all(|(request, _)| request.idempotency_key.starts_with("ld_unused_")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balances_say_when_the_next_scheduled_window_closes() {
    const DAY_MS: i64 = 86_400_000;
    let money = engine::MoneyConfig {
        settlement_every: Some(std::time::Duration::from_millis(DAY_MS as u64)),
        ..engine::MoneyConfig::default()
    };
    let server = TestServer::start(Options { manual_clock: true, money: Some(money), ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let creator = server.account("window_watcher", "creator").await;
    let next = |body: &Value| body["next_settlement_at"].as_str().map(str::to_owned);

    // Onto a midnight (UTC): the next window is the following one, a day later, until it is reached.
    let now = engine::Clock::now(clock.as_ref()).0;
    clock.advance_ms(DAY_MS - now % DAY_MS);
    let (status, at_midnight) = server.get("/v1/balances", Some(&creator)).await;
    assert_eq!(status, StatusCode::OK, "{at_midnight}");
    let first = next(&at_midnight).expect("a scheduled window");
    assert!(first.ends_with("T00:00:00Z"), "{first}");
    clock.advance_ms(DAY_MS - 1);
    let (_, before) = server.get("/v1/balances", Some(&creator)).await;
    assert_eq!(next(&before), Some(first.clone()), "still that window a millisecond before it");
    clock.advance_ms(1);
    let (_, after) = server.get("/v1/balances", Some(&creator)).await;
    let second = next(&after).expect("a scheduled window");
    assert!(second.ends_with("T00:00:00Z") && second > first, "{first} then {second}");

    // Windows closed only on request: no date to give.
    let server = TestServer::start(Options::default()).await;
    let creator = server.account("no_schedule", "creator").await;
    let (status, body) = server.get("/v1/balances", Some(&creator)).await;
    assert_eq!((status, body.get("next_settlement_at")), (StatusCode::OK, None), "{body}");
}
