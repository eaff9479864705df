//! The fixture journal: a small journal written by the engine as it was when schema version 1 was
//! pinned, checked in under `crates/codec/tests/fixtures/journal-v1/`. Every later build must open
//! it (chains, checkpoints and their signing key verified, every invariant checked) and replay it to
//! the state recorded beside it (`state.txt`). It holds every event kind of version 1; the codec's
//! snapshot tests read its stored bytes.
//!
//! `LIVEDROP_WRITE_FIXTURE=1 cargo test -p engine --test fixture_journal` writes it again; only do
//! that with a schema version bump, keeping the old one as `journal-v<old>` (its replay must still
//! pass).

use domain::{
    AccountId, Actor, CartId, Command, DropId, EntityId, Envelope, EpisodeId, Fulfilment, IdempotencyKey, Money,
    NewDrop, OrderId, Outcome, PARTITION_COUNT, Partition, ProductId, RefundDecision, RefundId, Reply, Role, RoomId,
    Slot, StageAction, State, Timestamp,
};
use engine::{Engine, EngineConfig, ManualClock, RiskContext, TestPaymentProvider};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2026-12-01T10:00:00Z.
const START: Timestamp = Timestamp(1_796_119_200_000);
const ADMIN: Actor = Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin };
/// Refunds above 50.00 need both sign-offs, as by default.
const REFUND_THRESHOLD_MINOR: i64 = 5_000;
/// The journal and the signing key; nothing else of a data directory is part of the fixture.
const N_SHARDS: usize = 2;
const FIXTURE_FILES: [&str; 2] = ["journal.sqlite3", "transparency-ed25519.key"];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../codec/tests/fixtures/journal-v1")
}

async fn start(data_dir: &Path, clock: Arc<ManualClock>) -> Arc<Engine> {
    let config = EngineConfig {
        data_dir: data_dir.to_owned(),
        journal: None,
        n_shards: N_SHARDS,
        admin_tokens: Vec::new(),
        clock,
        payments: Arc::new(TestPaymentProvider::default()),
        log_origin: "fixture.livedrop.test".to_owned(),
        refund_approval_threshold_minor: REFUND_THRESHOLD_MINOR,
        money: Default::default(),
        payouts: std::sync::Arc::new(engine::SandboxPayouts::in_memory()),
        webhooks_allow_private: false,
    };
    Arc::new(Engine::start(config).await.expect("the fixture journal opens"))
}

/// Every entity of every partition, in id order, as its stored JSON (one line each): accounts,
/// catalogue, drops with their counters, holds, carts, orders, refunds, templates, episodes with
/// their stage, rituals, polls and questions.
fn render(state: &State, partition: Partition) -> Vec<String> {
    fn line(kind: &str, value: &impl serde::Serialize) -> String {
        format!("{kind} {}", serde_json::to_string(value).unwrap())
    }
    let mut lines = Vec::new();
    for serial in 1..=state.serials_issued(partition) {
        let id = EntityId { partition, serial };
        if let Some(account) = state.account(AccountId(id)) {
            lines.push(line("account", account));
        }
        if let Some(product) = state.product(ProductId(id)) {
            lines.push(line("product", product));
        }
        if let Some(room) = state.room(RoomId(id)) {
            lines.push(line("room", room));
        }
        if let Some(drop) = state.drop(DropId(id)) {
            lines.push(line("drop", drop));
        }
        if let Some(hold) = state.hold(domain::HoldId(id)) {
            lines.push(line("hold", hold));
        }
        if let Some(cart) = state.cart(CartId(id)) {
            lines.push(line("cart", cart));
        }
        if let Some(order) = state.order(OrderId(id)) {
            lines.push(line("order", order));
        }
        if let Some(refund) = state.refund(RefundId(id)) {
            lines.push(line("refund", refund));
        }
        if let Some(template) = state.template(domain::TemplateId(id)) {
            lines.push(line("template", template));
        }
        if let Some(episode) = state.episode(EpisodeId(id)) {
            lines.push(line("episode", episode));
            lines.push(line("polls", &state.poll_tallies(episode.id)));
            lines.push(line("live_polls", &state.live_polls(episode.id)));
            lines.push(line("questions", &state.questions(episode.id)));
        }
    }
    lines
}

/// What a shard keeps beyond its partitions' entities: its idempotency records, and, in the shard
/// of `RISK_RULES_PARTITION`, the fraud rules.
fn render_shard(state: &State) -> Vec<String> {
    let rules = serde_json::to_string(&state.risk_rules()).unwrap();
    vec![format!("idempotency_records {}", state.n_idempotency_records()), format!("risk_rules {rules}")]
}

async fn rendered(engine: &Engine) -> String {
    let mut text = String::new();
    // Partitions 0..N_SHARDS are one of each shard's.
    for shard_idx in 0..N_SHARDS {
        let partition = Partition::try_from(shard_idx).unwrap();
        let (lines, _) = engine.read(partition, render_shard).await.unwrap();
        for line in lines {
            text.push_str(&format!("shard {shard_idx} {line}\n"));
        }
    }
    for partition_idx in 0..PARTITION_COUNT {
        let partition = Partition::try_from(partition_idx).unwrap();
        let (lines, _) = engine.read(partition, move |state| render(state, partition)).await.unwrap();
        for line in lines {
            text.push_str(&format!("{partition:02x} {line}\n"));
        }
    }
    text
}

#[tokio::test]
async fn the_fixture_journal_opens_verifies_and_replays_to_the_recorded_state() {
    if std::env::var("LIVEDROP_WRITE_FIXTURE").as_deref() == Ok("1") {
        write_fixture().await;
    }
    let copy = tempfile::tempdir().unwrap();
    for file in FIXTURE_FILES {
        std::fs::copy(fixture_dir().join(file), copy.path().join(file)).unwrap();
    }
    // The fixture's own start: no timer (hold expiry, the idempotency TTL) fires before the read.
    let clock = Arc::new(ManualClock::new(START));
    let engine = start(copy.path(), clock).await;
    let replayed = rendered(&engine).await;
    engine.shutdown().await;
    let recorded = std::fs::read_to_string(fixture_dir().join("state.txt")).unwrap();
    assert!(replayed == recorded, "the fixture journal replays to another state:\n{}", diff(&recorded, &replayed));
}

fn diff(recorded: &str, replayed: &str) -> String {
    let recorded_lines: Vec<&str> = recorded.lines().collect();
    let replayed_lines: Vec<&str> = replayed.lines().collect();
    let mut text = String::new();
    for line in &recorded_lines {
        if !replayed_lines.contains(line) {
            text.push_str(&format!("- {line}\n"));
        }
    }
    for line in &replayed_lines {
        if !recorded_lines.contains(line) {
            text.push_str(&format!("+ {line}\n"));
        }
    }
    text
}

fn key(owner: AccountId, key: &str) -> IdempotencyKey {
    IdempotencyKey { owner, key: key.to_owned(), fingerprint: format!("fixture:{key}") }
}

async fn ok(engine: &Engine, command: Command) -> Reply {
    match engine.execute(Envelope::plain(command)).await {
        Ok(Ok(reply)) => reply,
        other => panic!("fixture step failed: {other:?}"),
    }
}

fn expect_ok(outcome: Outcome) -> Reply {
    outcome.unwrap_or_else(|rejection| panic!("fixture step refused: {rejection:?}"))
}

async fn account(engine: &Engine, handle: &str, role: Role) -> Actor {
    let command = Command::CreateAccount {
        partition: engine::handle_partition(handle),
        handle: handle.to_owned(),
        role,
        partner_kind: None,
        token_sha256: format!("{:0>64}", handle.len()),
    };
    let Reply::Account(account) = ok(engine, command).await else { panic!("not an account") };
    Actor { id: account.id, role }
}

/// Drives today's engine through every kind of fact of schema version 1, then writes the journal,
/// its signing key and the state it leaves into the fixture folder.
async fn write_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let engine = start(dir.path(), clock.clone()).await;
    let eur = |minor| Money { minor, currency: "EUR".parse().unwrap() };
    let context = RiskContext::default();

    let creator = account(&engine, "ana", Role::Creator).await;
    let ben = account(&engine, "ben", Role::Buyer).await;
    let cy = account(&engine, "cy_buyer", Role::Buyer).await;
    let dee = account(&engine, "dee", Role::Buyer).await;

    let product = |title: &str, price, fulfilment| Command::CreateProduct {
        actor: creator,
        title: title.to_owned(),
        price: eur(price),
        stock: 50,
        fulfilment,
        edition: None,
    };
    let Reply::Product(mug) = ok(&engine, product("Glazed mug", 6_000, Fulfilment::Ship)).await else { panic!() };
    let Reply::Product(print) = ok(&engine, product("Risograph print", 1_000, Fulfilment::Pickup)).await else {
        panic!()
    };
    let slots = vec![
        Slot::Buy { product_id: mug.id },
        Slot::Demo { product_id: mug.id, seconds: 60 },
        Slot::Poll { question: "Which glaze next?".into(), options: vec!["Celadon".into(), "Tenmoku".into()] },
        Slot::Qa,
        Slot::Drop { product_id: print.id },
    ];
    let template = Command::SaveTemplate { actor: creator, name: "Studio hour".into(), slots };
    let Reply::Template(template) = ok(&engine, template).await else { panic!() };
    let room = Command::CreateRoom { actor: creator, title: "Ana's studio".into(), template_id: Some(template.id) };
    let Reply::Room(room) = ok(&engine, room).await else { panic!() };

    // Two drops: the mug's opens in a minute (a timer opens it), the print's at once.
    let new_drop = |product_id, quantity, opens_in_ms: i64| NewDrop {
        split_contract_id: None,
        room_id: room.id,
        product_id,
        quantity,
        per_buyer_limit: 3,
        hold_seconds: 60,
        opens_at: Some(Timestamp(START.0 + opens_in_ms)),
        closes_at: None,
    };
    let command = Command::CreateDrop { actor: creator, drop: new_drop(mug.id, 10, 60_000) };
    let Reply::Drop(mug_drop) = ok(&engine, command).await else { panic!() };
    let command = Command::CreateDrop { actor: creator, drop: new_drop(print.id, 5, 0) };
    let Reply::Drop(print_drop) = ok(&engine, command).await else { panic!() };
    clock.advance_ms(60_000);

    // Fraud rules: two units go to review, three are blocked.
    let rules = "rule \"bulk\": review if quantity >= 2\nblock if quantity >= 3\n";
    engine.save_risk_rules(ADMIN, rules.into()).await.unwrap().expect("fixture step refused");

    let claim = |actor: Actor, drop_id, quantity, name: &str| {
        let engine = engine.clone();
        let key = key(actor.id, name);
        let context = context.clone();
        async move { engine.claim(actor, drop_id, quantity, key, &context).await.unwrap() }
    };
    let checkout = |actor: Actor, cart_id, method: &str, name: &str| {
        let engine = engine.clone();
        let key = key(actor.id, name);
        let method = method.to_owned();
        async move { engine.checkout(actor, cart_id, method, key, RiskContext::default()).await.unwrap() }
    };

    // Ben buys a mug: a declined card first, then a good one.
    let Reply::Claimed(ben_hold) = expect_ok(claim(ben, mug_drop.id, 1, "ben-claim-1").await) else { panic!() };
    let declined = checkout(ben, ben_hold.cart_id, "pm_card_chargeDeclined", "ben-pay-1").await;
    assert!(declined.is_err(), "{declined:?}");
    let Reply::Ordered(ben_order) = expect_ok(checkout(ben, ben_hold.cart_id, "pm_card_visa", "ben-pay-2").await)
    else {
        panic!()
    };
    // A retry under the same key answers the recorded order.
    let retried = checkout(ben, ben_hold.cart_id, "pm_card_visa", "ben-pay-2").await;
    assert_eq!(expect_ok(retried), Reply::Ordered(ben_order.clone()));

    // Cy takes two mugs (reviewed), is blocked asking for three prints, pays; the admin rejects the
    // order, which refunds it whole.
    let Reply::Claimed(cy_hold) = expect_ok(claim(cy, mug_drop.id, 2, "cy-claim-1").await) else { panic!() };
    let blocked = claim(cy, print_drop.id, 3, "cy-claim-2").await;
    assert!(blocked.is_err(), "{blocked:?}");
    let Reply::Ordered(cy_order) = expect_ok(checkout(cy, cy_hold.cart_id, "pm_card_visa", "cy-pay-1").await) else {
        panic!()
    };
    let reviewed = engine.review_order(ADMIN, cy_order.id, false, Some("card testing pattern".into())).await;
    expect_ok(reviewed.unwrap());

    // Dee's print hold expires unpaid; Dee then buys three prints over two claims and asks for
    // refunds: one unit (under the threshold, paid back at once), then the rest (two sign-offs).
    let Reply::Claimed(_) = expect_ok(claim(dee, print_drop.id, 1, "dee-claim-1").await) else { panic!() };
    clock.advance_ms(61_000);
    let Reply::Claimed(dee_hold) = expect_ok(claim(dee, print_drop.id, 1, "dee-claim-2").await) else { panic!() };
    let Reply::Claimed(_) = expect_ok(claim(dee, mug_drop.id, 1, "dee-claim-3").await) else { panic!() };
    let Reply::Ordered(dee_order) = expect_ok(checkout(dee, dee_hold.cart_id, "pm_card_visa", "dee-pay-1").await)
    else {
        panic!()
    };
    let one_unit = Some(vec![(dee_hold.hold_id, 1)]);
    let small = engine.request_refund(dee, dee_order.id, one_unit, "arrived chipped".into(), true, key(dee.id, "r1"));
    expect_ok(small.await.unwrap());
    let rest = engine.request_refund(dee, dee_order.id, None, "changed my mind".into(), false, key(dee.id, "r2"));
    let Reply::Refund(pending) = expect_ok(rest.await.unwrap()) else { panic!() };
    let approve = |actor| engine.decide_refund(actor, pending.id, RefundDecision::Approve, None);
    expect_ok(approve(ADMIN).await.unwrap());
    expect_ok(approve(creator).await.unwrap());
    // Ben asks for his mug back and the creator says no.
    let asked = engine.request_refund(ben, ben_order.id, None, "too small".into(), true, key(ben.id, "r3"));
    let Reply::Refund(asked) = expect_ok(asked.await.unwrap()) else { panic!() };
    let reject = RefundDecision::Reject { reason: "used".into() };
    expect_ok(engine.decide_refund(creator, asked.id, reject, None).await.unwrap());

    // An episode with every stage action, poll, question and ritual, then its end.
    let command = Command::ScheduleEpisode {
        actor: creator,
        room_id: room.id,
        title: "Friday glaze test".into(),
        starts_at: Timestamp(clock_now(&engine) + 60_000),
        ends_at: None,
    };
    let Reply::Episode(episode) = ok(&engine, command).await else { panic!() };
    let episode_id = episode.id;
    ok(&engine, Command::StartEpisode { actor: creator, episode_id }).await;
    let stage = |actor, action| Command::ChangeStage { actor, episode_id, action };
    for buyer in [ben, cy, dee] {
        ok(&engine, stage(buyer, StageAction::Join)).await;
    }
    ok(&engine, stage(ben, StageAction::RaiseHand)).await;
    ok(&engine, stage(creator, StageAction::Invite(ben.id))).await;
    ok(&engine, stage(creator, StageAction::Mute(ben.id))).await;
    ok(&engine, stage(creator, StageAction::Unmute(ben.id))).await;
    ok(&engine, stage(creator, StageAction::MoveToAudience(ben.id))).await;
    ok(&engine, stage(creator, StageAction::AppointModerator(cy.id))).await;
    ok(&engine, stage(cy, StageAction::Remove(dee.id))).await;
    ok(&engine, Command::VotePoll { actor: ben, episode_id, slot: 2, option: 1 }).await;
    ok(&engine, Command::AskQuestion { actor: ben, episode_id, text: "Is it dishwasher safe?".into() }).await;
    ok(&engine, Command::UpvoteQuestion { actor: cy, episode_id, number: 1 }).await;
    ok(&engine, Command::ResolveQuestion { actor: creator, episode_id, number: 1, answered: true }).await;
    ok(&engine, Command::PinDrop { actor: creator, episode_id, drop_id: mug_drop.id }).await;
    ok(&engine, Command::UnpinDrop { actor: cy, episode_id }).await;
    ok(&engine, Command::StartDemo { actor: creator, episode_id, product_id: mug.id, seconds: 90 }).await;
    ok(&engine, Command::StopDemo { actor: creator, episode_id }).await;
    let poll = Command::StartPoll {
        actor: creator,
        episode_id,
        question: "Restock next week?".into(),
        options: vec!["Yes".into(), "No".into(), "Only mugs".into()],
    };
    let Reply::Poll(live_poll) = ok(&engine, poll).await else { panic!() };
    ok(&engine, Command::VotePoll { actor: cy, episode_id, slot: live_poll.slot, option: 2 }).await;
    ok(&engine, Command::ClosePoll { actor: creator, episode_id, slot: live_poll.slot }).await;
    ok(&engine, Command::EndEpisode { actor: creator, episode_id }).await;

    // Closing the mug's drop signs its log at once (a checkpoint journaled).
    ok(&engine, Command::CloseDrop { actor: creator, drop_id: mug_drop.id }).await;
    wait_for_checkpoint(&engine, mug_drop.id).await;

    let recorded = rendered(&engine).await;
    engine.shutdown().await;
    drop(engine);

    let fixture = fixture_dir();
    std::fs::create_dir_all(&fixture).unwrap();
    for file in FIXTURE_FILES {
        std::fs::copy(dir.path().join(file), fixture.join(file)).unwrap();
    }
    std::fs::write(fixture.join("state.txt"), recorded).unwrap();
}

fn clock_now(engine: &Engine) -> i64 {
    engine.now().0
}

async fn wait_for_checkpoint(engine: &Engine, drop_id: DropId) {
    for _ in 0..100 {
        if engine.latest_checkpoint(drop_id).await.is_ok_and(|checkpoint| checkpoint.is_some()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no checkpoint of the closed drop");
}
