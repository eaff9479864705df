//! Closing a settlement window over a large book, in memory: what one shard's state does when the
//! engine closes a window, and the bytes the journal would then write.
//!
//! Builds one `State` holding every book (one shard: the worst case, all on one core) with
//! `PAYEES` creators spread over the 256 partitions, each with a drop, and `SALES` paid one-line
//! checkouts spread evenly over them (same-day payout profile, 10 % fee), so the close matures
//! `SALES` sale lines into `PAYEES` payouts. Then, timed phase by phase:
//!
//! 1. `StartSettlement` (partition 0);
//! 2. `SettleBook` for each of the 256 books: decide, apply and the reply, as a shard executes it;
//! 3. `codec::encode` of every event the close produced (what the shard hands the journal);
//! 4. `CompletePayout` (paid) for every payout, as the engine records the provider's answers.
//!
//! Before the close, a payout rules run's share of the work on this shard is timed too: every
//! payee's record over 90 days, and the rules evaluated once per payee.
//!
//! Not measured: the journal's write and fsync, and the payout provider's calls.
//!
//! ```sh
//! cargo run --release -p codec --example settlement_close               # 1 000 000 sales, 10 000 payees
//! SALES=100000 PAYEES=1000 cargo run --release -p codec --example settlement_close
//! ```

use domain::{
    Actor, CartId, Command, Envelope, Fulfilment, Money, NewDrop, PARTITION_COUNT, Partition, PaymentOutcome,
    PayoutProfile, PayoutResult, Reply, Role, SaleTerms, State, Timestamp,
};
use std::time::Instant;

const START: Timestamp = Timestamp(1_800_000_000_000);
/// Buyers: each buys from every drop in turn, one unit per checkout.
const BUYERS: usize = 1_000;
const PRICE_MINOR: i64 = 2_500;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// Resident memory of this process, from /proc (Linux), in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).unwrap_or(0) * 1_024
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

fn run(state: &mut State, now: Timestamp, command: Command, events: &mut Vec<domain::Event>) -> Reply {
    state.execute(now, Envelope::plain(command), events).unwrap_or_else(|rejection| panic!("{rejection:?}"))
}

fn main() {
    let n_sales = env("SALES", 1_000_000);
    let n_payees = env("PAYEES", 10_000);
    let rss_start = rss();
    let mut state = State::default();
    let mut events = Vec::new();
    let mut account = |state: &mut State, index: usize, role: Role| {
        let command = Command::CreateAccount {
            partition: (index % PARTITION_COUNT) as Partition,
            handle: format!("{role:?}_{index}").to_lowercase(),
            role,
            partner_kind: None,
            token_sha256: "00".repeat(32),
        };
        match run(state, START, command, &mut events) {
            Reply::Account(account) => Actor { id: account.id, role },
            other => panic!("{other:?}"),
        }
    };
    let creators: Vec<Actor> = (0..n_payees).map(|index| account(&mut state, index, Role::Creator)).collect();
    let buyers: Vec<Actor> = (0..BUYERS).map(|index| account(&mut state, index, Role::Buyer)).collect();
    let per_drop = n_sales.div_ceil(n_payees) as u64;
    let price = Money { minor: PRICE_MINOR, currency: "EUR".parse().unwrap() };
    let mut drops = Vec::with_capacity(n_payees);
    for creator in &creators {
        let command = Command::CreateProduct {
            actor: *creator,
            title: "tee".into(),
            price,
            stock: per_drop,
            fulfilment: Fulfilment::Ship,
            edition: None,
        };
        let Reply::Product(product) = run(&mut state, START, command, &mut events) else { panic!("product") };
        let command = Command::CreateRoom { actor: *creator, title: "room".into(), template_id: None };
        let Reply::Room(room) = run(&mut state, START, command, &mut events) else { panic!("room") };
        let drop = NewDrop {
            split_contract_id: None,
            room_id: room.id,
            product_id: product.id,
            quantity: per_drop,
            per_buyer_limit: domain::PER_BUYER_LIMIT_MAX,
            hold_seconds: 600,
            opens_at: None,
            closes_at: None,
        };
        let Reply::Drop(drop) = run(&mut state, START, Command::CreateDrop { actor: *creator, drop }, &mut events)
        else {
            panic!("drop")
        };
        drops.push(drop.id);
    }
    events.clear();

    let rss_before_sales = rss();
    let started = Instant::now();
    let terms = SaleTerms { fee_bps: 1_000, default_profile: PayoutProfile::SAME_DAY, ..SaleTerms::default() };
    for sale in 0..n_sales {
        let (buyer, drop_id) = (buyers[sale % BUYERS], drops[sale % n_payees]);
        let claim = Command::Claim { actor: buyer, drop_id, quantity: 1, risk: None };
        let Reply::Claimed(receipt) = run(&mut state, START, claim, &mut events) else { panic!("claim") };
        let cart_id: CartId = receipt.cart_id;
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: format!("ch_{sale}"),
            amount: price,
            quoted_hold_ids: vec![receipt.hold_id],
        };
        let checkout = Command::Checkout { actor: buyer, cart_id, payment, risk: None, terms: Box::new(terms.clone()) };
        let Reply::Ordered(_) = run(&mut state, START, checkout, &mut events) else { panic!("checkout") };
        // A shard drops its events once committed.
        if events.len() > 4_096 {
            events.clear();
        }
    }
    events.clear();
    let sales_time = started.elapsed();
    let rss_after_sales = rss();
    println!(
        "{n_sales} sales to {n_payees} payees in {:.2} s; RSS {:.0} MiB before the sales, {:.0} MiB after \
         ({:.0} bytes per sale, everything: hold, cart, order, ledger)",
        sales_time.as_secs_f64(),
        mib(rss_before_sales),
        mib(rss_after_sales),
        (rss_after_sales - rss_before_sales) as f64 / n_sales as f64,
    );

    let closed_at = Timestamp(START.0 + 1_000);
    payout_rules_run(&state, closed_at, n_sales);
    let started = Instant::now();
    let start = Command::StartSettlement { actor: None, minimum_minor: 1 };
    let Reply::Settlement(settlement) = run(&mut state, closed_at, start, &mut events) else { panic!("settlement") };
    let start_time = started.elapsed();

    let started = Instant::now();
    let mut n_payouts = 0;
    let mut slowest_book = std::time::Duration::ZERO;
    for book in 0..PARTITION_COUNT {
        let book_started = Instant::now();
        let command = Command::SettleBook { settlement: (*settlement).clone(), book: book as Partition };
        let Reply::Payouts(payouts) = run(&mut state, closed_at, command, &mut events) else { panic!("book") };
        n_payouts += payouts.len();
        slowest_book = slowest_book.max(book_started.elapsed());
    }
    let books_time = started.elapsed();

    let started = Instant::now();
    let encoded_bytes: usize = events.iter().map(|event| codec::encode(event).len()).sum();
    let encode_time = started.elapsed();
    let n_close_events = events.len();
    events.clear();
    let rss_after_close = rss();

    let started = Instant::now();
    let payout_ids: Vec<_> = state.unsettled_payouts().map(|payout| payout.id).collect();
    for (index, payout_id) in payout_ids.iter().enumerate() {
        let result = PayoutResult::Paid { provider_payout_id: format!("sbx_po_{index}") };
        run(&mut state, closed_at, Command::CompletePayout { payout_id: *payout_id, result }, &mut events);
    }
    let complete_time = started.elapsed();
    assert_eq!(n_payouts, n_payees, "every payee is paid once");
    assert_eq!(payout_ids.len(), n_payees);

    let close = start_time + books_time + encode_time;
    println!(
        "close: {:.3} s = start {:.1} ms + {PARTITION_COUNT} books {:.1} ms (slowest {:.1} ms) + encoding {n_close_events} \
         events ({:.1} MiB) {:.1} ms; {n_payouts} payouts",
        close.as_secs_f64(),
        start_time.as_secs_f64() * 1e3,
        books_time.as_secs_f64() * 1e3,
        slowest_book.as_secs_f64() * 1e3,
        mib(encoded_bytes as u64),
        encode_time.as_secs_f64() * 1e3,
    );
    println!(
        "then {n_payouts} CompletePayout in {:.1} ms; RSS {:.0} MiB after the close ({:+.0} MiB), {:.0} MiB at the start",
        complete_time.as_secs_f64() * 1e3,
        mib(rss_after_close),
        mib(rss_after_close) - mib(rss_after_sales),
        mib(rss_start),
    );
    // Freeing 2 GB of small objects takes longer than the close; the process exits anyway.
    std::mem::forget(state);
}

/// What `engine/src/payout_rules.rs` does before it sends any command: read every payee and its
/// record off the shard, then evaluate the rules once per payee.
fn payout_rules_run(state: &State, now: Timestamp, n_sales: usize) {
    let rules = risk::parse_payout_rules(
        "rule \"new\": delay 14 days if account_age_days < 30\n\
         rule \"refunds\": delay 7 days reserve 1000 bps for 60 days if refund_rate_bps > 800 and orders_90d >= 20",
    )
    .expect("valid rules");
    let started = Instant::now();
    let since = Timestamp(now.0 - i64::from(risk::RECORD_DAYS) * domain::DAY_MS as i64);
    // One read of every payee, as a single-shard worst case; the engine reads 256 payees at a time.
    let records: std::collections::HashMap<_, _> =
        state.payee_records(since, &state.earning_payees()).into_iter().collect();
    let payees: Vec<_> = state.payees().map(|(id, created_at, _)| (id, created_at)).collect();
    let read_time = started.elapsed();
    let matched = payees
        .iter()
        .filter(|(id, created_at)| {
            let age_days = (now.0 - created_at.0) / domain::DAY_MS as i64;
            let record = risk::PayeeRecord::of(age_days, &records.get(id).copied().unwrap_or_default());
            rules.first_match(&record).is_some()
        })
        .count();
    println!(
        "payout rules run: {} payees' records over {n_sales} orders read in {:.1} ms, evaluated in {:.1} ms \
         ({matched} matched a rule)",
        payees.len(),
        read_time.as_secs_f64() * 1e3,
        (started.elapsed() - read_time).as_secs_f64() * 1e3,
    );
}
