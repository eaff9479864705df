//! Partition rules decided from a command's ids alone: a room or template of another partition is
//! not the caller's. They are refused before the state is consulted, so the answer does not depend on
//! which partitions share the shard, and the refusal fires no timer and neither reads nor writes an
//! idempotency record.

use domain::*;

const START: Timestamp = Timestamp(1_700_000_000_000);

/// One state holding two creators' partitions, as a shard does when there are fewer shards than
/// partitions: the other creator's room and template are known here, yet refused by their ids.
struct World {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
    ana: Actor,
    bob: Actor,
    anas_product: ProductId,
    anas_room: RoomId,
    bobs_room: RoomId,
    bobs_template: TemplateId,
}

const ANA_PARTITION: Partition = 3;
const BOB_PARTITION: Partition = 4;
const PLACEHOLDER_ID: EntityId = EntityId { partition: 0, serial: 0 };
const PLACEHOLDER_ACTOR: Actor = Actor { id: AccountId(PLACEHOLDER_ID), role: Role::Admin };

fn key(owner: AccountId, key: &str, fingerprint: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey { owner, key: key.to_owned(), fingerprint: fingerprint.to_owned() })
}

impl World {
    fn execute(&mut self, idempotency: Option<IdempotencyKey>, command: Command) -> Outcome {
        let outcome = self.state.execute(self.now, Envelope { idempotency, command }, &mut self.events);
        self.state.check_invariants().unwrap();
        outcome
    }

    fn ok(&mut self, command: Command) -> Reply {
        self.execute(None, command).unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
    }

    fn creator(&mut self, partition: Partition, handle: &str) -> Actor {
        let command = Command::CreateAccount {
            partition,
            handle: handle.into(),
            role: Role::Creator,
            partner_kind: None,
            token_sha256: "00".repeat(32),
        };
        let Reply::Account(account) = self.ok(command) else { panic!() };
        Actor { id: account.id, role: Role::Creator }
    }

    fn room(&mut self, actor: Actor) -> RoomId {
        let Reply::Room(room) = self.ok(Command::CreateRoom { actor, title: "room".into(), template_id: None }) else {
            panic!()
        };
        room.id
    }

    fn new() -> World {
        let mut world = World {
            state: State::default(),
            events: Vec::new(),
            now: START,
            ana: PLACEHOLDER_ACTOR,
            bob: PLACEHOLDER_ACTOR,
            anas_product: ProductId(PLACEHOLDER_ID),
            anas_room: RoomId(PLACEHOLDER_ID),
            bobs_room: RoomId(PLACEHOLDER_ID),
            bobs_template: TemplateId(PLACEHOLDER_ID),
        };
        world.ana = world.creator(ANA_PARTITION, "ana");
        world.bob = world.creator(BOB_PARTITION, "bob");
        let Reply::Product(product) = world.ok(Command::CreateProduct {
            actor: world.ana,
            title: "tee".into(),
            price: Money { minor: 1_500, currency: "EUR".parse().unwrap() },
            stock: 20,
            fulfilment: Fulfilment::Ship,
            edition: None,
        }) else {
            panic!()
        };
        world.anas_product = product.id;
        world.anas_room = world.room(world.ana);
        world.bobs_room = world.room(world.bob);
        let save = Command::SaveTemplate { actor: world.bob, name: "show".into(), slots: vec![Slot::Qa] };
        let Reply::Template(template) = world.ok(save) else { panic!() };
        world.bobs_template = template.id;
        world
    }

    fn drop_in(&self, room_id: RoomId, closes_at: Option<Timestamp>) -> Command {
        let drop = NewDrop {
            split_contract_id: None,
            room_id,
            product_id: self.anas_product,
            quantity: 1,
            per_buyer_limit: 1,
            hold_seconds: 60,
            opens_at: None,
            closes_at,
        };
        Command::CreateDrop { actor: self.ana, drop }
    }
}

#[test]
fn another_partitions_room_or_template_is_not_yours() {
    let mut world = World::new();
    let schedule = Command::ScheduleEpisode {
        actor: world.ana,
        room_id: world.bobs_room,
        title: "Friday".into(),
        starts_at: START.plus_ms(60_000),
        ends_at: None,
    };
    let build = Command::CreateRoom { actor: world.ana, title: "copy".into(), template_id: Some(world.bobs_template) };
    let cases = [
        (world.drop_in(world.bobs_room, None), OwnedOnly::DropRoom, "only the room's creator may add drops"),
        (schedule, OwnedOnly::EpisodeRoom, "only the room's creator may schedule episodes"),
        (build, OwnedOnly::RoomTemplate, "rooms may be built from your own templates only"),
    ];
    for (command, rule, message) in cases {
        let n_events = world.events.len();
        let n_records = world.state.n_idempotency_records();
        let rejection = world.execute(key(world.ana.id, "k", "misrouted"), command).unwrap_err();
        assert_eq!(rejection, Rejection::NotYours { rule });
        assert_eq!((rejection.code(), rejection.to_string().as_str()), ("forbidden", message));
        assert_eq!(world.events.len(), n_events, "nothing journaled");
        assert_eq!(world.state.n_idempotency_records(), n_records, "nothing recorded");
    }
}

#[test]
fn a_refusal_by_partition_leaves_idempotency_keys_alone() {
    let mut world = World::new();
    let ana = world.ana;
    let Ok(Reply::Room(room)) = world.execute(
        key(ana.id, "used", "a room"),
        Command::CreateRoom { actor: ana, title: "room".into(), template_id: None },
    ) else {
        panic!()
    };
    // A key already used for another request would answer `IdempotencyKeyReused`: the partition
    // rule is decided first, as it does not depend on the state.
    let misrouted = world.drop_in(world.bobs_room, None);
    let rejection = world.execute(key(ana.id, "used", "a drop in bob's room"), misrouted).unwrap_err();
    assert_eq!(rejection, Rejection::NotYours { rule: OwnedOnly::DropRoom });
    let replay = Command::CreateRoom { actor: ana, title: "room".into(), template_id: None };
    assert_eq!(world.execute(key(ana.id, "used", "a room"), replay), Ok(Reply::Room(room)), "the key still answers");

    // A key first sent with a misrouted request stays free for the corrected one.
    let misrouted = world.drop_in(world.bobs_room, None);
    assert!(world.execute(key(ana.id, "fresh", "misrouted"), misrouted).is_err());
    let corrected = world.drop_in(world.anas_room, None);
    assert!(matches!(world.execute(key(ana.id, "fresh", "corrected"), corrected), Ok(Reply::Drop(_))));
}

#[test]
fn a_refusal_by_partition_fires_no_timer() {
    let mut world = World::new();
    let closes_at = START.plus_ms(60_000);
    let Reply::Drop(drop) = world.ok(world.drop_in(world.anas_room, Some(closes_at))) else { panic!() };
    world.now = closes_at;
    let n_events = world.events.len();
    assert!(world.execute(None, world.drop_in(world.bobs_room, None)).is_err());
    assert_eq!(world.events.len(), n_events, "the due close waits for a command that executes");
    assert_eq!(world.state.drop(drop.id).unwrap().phase, DropPhase::Open);
    world.state.advance(world.now);
    assert_eq!(world.state.drop(drop.id).unwrap().phase, DropPhase::Closed);
}
