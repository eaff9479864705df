//! Room templates, episodes and the stage in the domain: versioning, validation, the one-live-episode
//! rule, who may do what on the stage, `may_publish`, the host's rituals (pin, demo, live polls,
//! closing polls), and replay.

use domain::*;

const START: Timestamp = Timestamp(1_700_000_000_000);

struct World {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
    creator: Actor,
    other_creator: Actor,
    listeners: [Actor; 3],
    product: ProductId,
    room: RoomId,
}

impl World {
    fn run(&mut self, command: Command) -> Outcome {
        let n_events_before = self.events.len();
        let outcome = self.state.execute(self.now, Envelope::plain(command), &mut self.events);
        if matches!(outcome, Err(Rejection::Invalid { .. })) {
            assert_eq!(self.events.len(), n_events_before, "an invalid command writes nothing");
        }
        self.state.check_invariants().unwrap();
        outcome
    }

    fn ok(&mut self, command: Command) -> Reply {
        self.run(command).unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
    }

    fn refused(&mut self, command: Command) -> Rejection {
        let n_events = self.events.len();
        let rejection = self.run(command).expect_err("refused");
        assert_eq!(self.events.len(), n_events, "a refusal writes nothing: {rejection:?}");
        rejection
    }

    fn new() -> World {
        let mut world = World {
            state: State::default(),
            events: Vec::new(),
            now: START,
            creator: ADMIN_PLACEHOLDER,
            other_creator: ADMIN_PLACEHOLDER,
            listeners: [ADMIN_PLACEHOLDER; 3],
            product: ProductId(EntityId { partition: 0, serial: 0 }),
            room: RoomId(EntityId { partition: 0, serial: 0 }),
        };
        let account = |world: &mut World, handle: &str, role: Role| match world.ok(Command::CreateAccount {
            partition: 3,
            handle: handle.into(),
            role,
            partner_kind: None,
            token_sha256: "00".repeat(32),
        }) {
            Reply::Account(account) => Actor { id: account.id, role },
            other => panic!("{other:?}"),
        };
        world.creator = account(&mut world, "creator", Role::Creator);
        world.other_creator = account(&mut world, "other", Role::Creator);
        world.listeners = ["ana", "bob", "cat"].map(|handle| account(&mut world, handle, Role::Buyer));
        let Reply::Product(product) = world.ok(Command::CreateProduct {
            actor: world.creator,
            title: "tee".into(),
            price: Money { minor: 1_500, currency: "EUR".parse().unwrap() },
            stock: 20,
            fulfilment: Fulfilment::Ship,
            edition: None,
        }) else {
            panic!()
        };
        world.product = product.id;
        let Reply::Room(room) =
            world.ok(Command::CreateRoom { actor: world.creator, title: "room".into(), template_id: None })
        else {
            panic!()
        };
        world.room = room.id;
        world
    }

    fn save(&mut self, actor: Actor, name: &str, slots: Vec<Slot>) -> Outcome {
        self.run(Command::SaveTemplate { actor, name: name.into(), slots })
    }

    fn schedule(&mut self) -> EpisodeId {
        let command = Command::ScheduleEpisode {
            actor: self.creator,
            room_id: self.room,
            title: "Friday".into(),
            starts_at: self.now.plus_ms(60_000),
            ends_at: None,
        };
        let Reply::Episode(episode) = self.ok(command) else { panic!() };
        episode.id
    }

    fn stage(&mut self, actor: Actor, episode_id: EpisodeId, action: StageAction) -> Outcome {
        self.run(Command::ChangeStage { actor, episode_id, action })
    }

    /// A drop of one unit of the world's product in `room_id`, open now.
    fn drop_in(&mut self, room_id: RoomId) -> DropId {
        let drop = NewDrop {
            split_contract_id: None,
            room_id,
            product_id: self.product,
            quantity: 1,
            per_buyer_limit: 1,
            hold_seconds: 60,
            opens_at: None,
            closes_at: None,
        };
        let Reply::Drop(drop) = self.ok(Command::CreateDrop { actor: self.creator, drop }) else { panic!() };
        drop.id
    }

    fn episode(&self, episode_id: EpisodeId) -> &Episode {
        self.state.episode(episode_id).unwrap()
    }

    fn replayed(&self) -> State {
        let mut state = State::default();
        for event in &self.events {
            state.apply(event);
        }
        state.check_invariants().unwrap();
        state
    }
}

const ADMIN_PLACEHOLDER: Actor = Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin };

#[test]
fn templates_are_versioned_validated_and_copied_into_rooms() {
    let mut world = World::new();
    let product_id = world.product;
    let slots = vec![
        Slot::Buy { product_id },
        Slot::Demo { product_id, seconds: 90 },
        Slot::Poll { question: "Colour?".into(), options: vec!["red".into(), "blue".into()] },
        Slot::Qa,
    ];
    let Ok(Reply::Template(first)) = world.save(world.creator, "Launch", slots.clone()) else { panic!() };
    assert_eq!(first.version, 1);
    let Ok(Reply::Template(second)) = world.save(world.creator, "Launch", vec![Slot::Drop { product_id }]) else {
        panic!()
    };
    assert_eq!((second.version, second.name.as_str()), (2, "Launch"));
    assert_ne!(first.id, second.id);
    assert_eq!(world.state.template(first.id).unwrap().slots, slots, "versions are immutable");
    assert_eq!(world.state.latest_template_version(&first), 2);
    let Ok(Reply::Template(other)) = world.save(world.creator, "Other", vec![Slot::Qa]) else { panic!() };
    assert_eq!(other.version, 1, "versions count per name");

    let Reply::Room(room) =
        world.ok(Command::CreateRoom { actor: world.creator, title: "r".into(), template_id: Some(first.id) })
    else {
        panic!()
    };
    assert_eq!(room.template, Some(TemplateRef { id: first.id, version: 1 }));
    assert_eq!(room.slots, slots);

    let demo = |seconds| vec![Slot::Demo { product_id, seconds }];
    let poll = |options: &[&str]| {
        vec![Slot::Poll { question: "q".into(), options: options.iter().map(|o| o.to_string()).collect() }]
    };
    let invalid: Vec<(&str, Vec<Slot>)> = vec![
        ("", vec![Slot::Qa]),
        (" ", vec![Slot::Qa]),
        ("ok", Vec::new()),
        ("ok", vec![Slot::Qa; TEMPLATE_SLOTS_MAX + 1]),
        ("ok", demo(30)),
        ("ok", demo(61)),
        ("ok", poll(&["only"])),
        ("ok", poll(&["a", "a"])),
        ("ok", poll(&["a", "b", "c", "d", "e", "f", "g"])),
        ("ok", vec![Slot::Buy { product_id: ProductId(EntityId { partition: 3, serial: 999 }) }]),
    ];
    for (name, slots) in invalid {
        let rejection =
            world.refused(Command::SaveTemplate { actor: world.creator, name: name.into(), slots: slots.clone() });
        assert!(matches!(rejection, Rejection::Invalid { .. }), "{name:?} {slots:?}: {rejection:?}");
    }
    assert!(world.save(world.creator, "ok", demo(60)).is_ok(), "60 s demos are fine");
    // Another creator may use neither the product nor the template.
    let other_creator = world.other_creator;
    let rejection = world.refused(Command::SaveTemplate {
        actor: other_creator,
        name: "mine".into(),
        slots: vec![Slot::Buy { product_id }],
    });
    assert!(matches!(rejection, Rejection::Invalid { .. }));
    let rejection =
        world.refused(Command::CreateRoom { actor: other_creator, title: "r".into(), template_id: Some(first.id) });
    assert_eq!(rejection, Rejection::Forbidden);
    let buyer = world.listeners[0];
    assert_eq!(
        world.refused(Command::SaveTemplate { actor: buyer, name: "x".into(), slots: vec![Slot::Qa] }),
        Rejection::Forbidden
    );
    assert_eq!(world.replayed(), world.state);
}

#[test]
fn a_room_has_one_live_episode_at_a_time() {
    let mut world = World::new();
    let (creator, room) = (world.creator, world.room);
    let first = world.schedule();
    let second = world.schedule();
    let schedule = |actor, ends_at| Command::ScheduleEpisode {
        actor,
        room_id: room,
        title: "t".into(),
        starts_at: START,
        ends_at,
    };
    assert_eq!(world.refused(schedule(world.other_creator, None)), Rejection::Forbidden);
    assert!(matches!(world.refused(schedule(creator, Some(START))), Rejection::Invalid { .. }));
    assert!(matches!(
        world.refused(schedule(creator, Some(START.plus_ms(EPISODE_LENGTH_MS_MAX as u64 + 1)))),
        Rejection::Invalid { .. }
    ));
    assert_eq!(world.state.room(room).unwrap().episode_ids, vec![first, second]);

    let listener = world.listeners[0];
    assert_eq!(world.refused(Command::StartEpisode { actor: listener, episode_id: first }), Rejection::Forbidden);
    assert_eq!(world.stage(listener, first, StageAction::Join), Err(Rejection::EpisodeNotLive));
    world.ok(Command::StartEpisode { actor: creator, episode_id: first });
    assert_eq!(
        world.refused(Command::StartEpisode { actor: creator, episode_id: second }),
        Rejection::EpisodeAlreadyLive
    );
    let n_events = world.events.len();
    world.ok(Command::StartEpisode { actor: creator, episode_id: first });
    assert_eq!(world.events.len(), n_events, "starting a live episode again changes nothing");
    assert!(may_publish(world.episode(first), creator.id), "the host is on stage once live");

    world.ok(Command::EndEpisode { actor: creator, episode_id: first });
    assert_eq!(world.episode(first).status, EpisodeStatus::Ended);
    assert!(!may_publish(world.episode(first), creator.id), "nobody publishes in an ended episode");
    assert_eq!(world.refused(Command::StartEpisode { actor: creator, episode_id: first }), Rejection::EpisodeEnded);
    assert_eq!(world.stage(listener, first, StageAction::Join), Err(Rejection::EpisodeEnded));
    world.ok(Command::StartEpisode { actor: creator, episode_id: second });
    assert_eq!(world.replayed(), world.state);
}

#[test]
fn a_live_episode_ends_by_itself_at_its_ends_at() {
    let mut world = World::new();
    let (creator, room) = (world.creator, world.room);
    let [ana, bob, _] = world.listeners;
    let drop_id = world.drop_in(room);
    let ends_at = START.plus_ms(3_600_000);
    let schedule = |title: &str, ends_at| Command::ScheduleEpisode {
        actor: creator,
        room_id: room,
        title: title.into(),
        starts_at: START,
        ends_at: Some(ends_at),
    };
    let Reply::Episode(timed) = world.ok(schedule("timed", ends_at)) else { panic!() };
    let Reply::Episode(next) = world.ok(schedule("next", ends_at.plus_ms(3_600_000))) else { panic!() };
    let (timed, next) = (timed.id, next.id);
    assert_eq!(world.state.next_deadline(), None, "a scheduled episode has no end timer");
    world.ok(Command::StartEpisode { actor: creator, episode_id: timed });
    world.stage(ana, timed, StageAction::Join).unwrap();
    world.stage(creator, timed, StageAction::Invite(ana.id)).unwrap();
    assert!(may_publish(world.episode(timed), ana.id));
    assert_eq!(world.state.next_deadline(), Some(ends_at));
    let before_end = world.events.len();

    assert_eq!(world.state.advance(Timestamp(ends_at.0 - 1)), Vec::new(), "not before its ends_at");
    assert_eq!(world.episode(timed).status, EpisodeStatus::Live);
    let late = ends_at.plus_ms(5_000);
    let fired = world.state.advance(late);
    assert_eq!(fired, vec![Event::EpisodeEnded { episode_id: timed, at: ends_at }], "the host's own fact, at ends_at");
    world.events.extend(fired);
    world.state.check_invariants().unwrap();
    world.now = late;
    let episode = world.episode(timed);
    assert_eq!((episode.status, episode.ended_at), (EpisodeStatus::Ended, Some(ends_at)));
    assert!(!may_publish(episode, creator.id) && !may_publish(episode, ana.id), "nobody publishes once ended");
    assert!(world.state.live_episode(room).is_none());
    assert_eq!(world.state.next_deadline(), None, "the timer is consumed");
    assert_eq!(world.state.advance(late.plus_ms(60_000)), Vec::new(), "it ends once");

    // Refused exactly as after the host's `/end`.
    assert_eq!(world.stage(bob, timed, StageAction::Join), Err(Rejection::EpisodeEnded));
    assert_eq!(world.stage(creator, timed, StageAction::Mute(ana.id)), Err(Rejection::EpisodeEnded));
    assert_eq!(world.refused(Command::StartEpisode { actor: creator, episode_id: timed }), Rejection::EpisodeEnded);
    assert_eq!(
        world.refused(Command::PinDrop { actor: creator, episode_id: timed, drop_id }),
        Rejection::EpisodeNotLive
    );
    let n_events = world.events.len();
    world.ok(Command::EndEpisode { actor: creator, episode_id: timed });
    assert_eq!(world.events.len(), n_events, "ending it again changes nothing");

    // Replay: the journal up to before the end, advanced to the same `now`, fires the same fact.
    let mut replayed = State::default();
    for event in &world.events[..before_end] {
        replayed.apply(event);
    }
    assert_eq!(replayed.advance(late), vec![Event::EpisodeEnded { episode_id: timed, at: ends_at }]);
    assert_eq!(replayed, world.state);
    assert_eq!(world.replayed(), world.state);

    // The room goes live again; the host ending an episode early drops its timer.
    world.ok(Command::StartEpisode { actor: creator, episode_id: next });
    assert_eq!(world.state.next_deadline(), Some(ends_at.plus_ms(3_600_000)));
    world.ok(Command::EndEpisode { actor: creator, episode_id: next });
    assert_eq!(world.state.next_deadline(), None);
    assert_eq!(world.replayed(), world.state);
}

#[test]
fn an_episode_past_its_ends_at_cannot_start_but_can_be_cancelled() {
    let mut world = World::new();
    let (creator, room) = (world.creator, world.room);
    let ends_at = START.plus_ms(60_000);
    let schedule = Command::ScheduleEpisode {
        actor: creator,
        room_id: room,
        title: "missed".into(),
        starts_at: START,
        ends_at: Some(ends_at),
    };
    let Reply::Episode(episode) = world.ok(schedule) else { panic!() };
    world.now = ends_at;
    assert_eq!(world.refused(Command::StartEpisode { actor: creator, episode_id: episode.id }), Rejection::EpisodeOver);
    assert_eq!(world.episode(episode.id).status, EpisodeStatus::Scheduled);
    world.ok(Command::EndEpisode { actor: creator, episode_id: episode.id });
    assert_eq!(world.episode(episode.id).status, EpisodeStatus::Ended);
    assert_eq!(world.replayed(), world.state);
}

#[test]
fn the_stage_decides_who_may_publish() {
    let mut world = World::new();
    let creator = world.creator;
    let [ana, bob, cat] = world.listeners;
    let episode_id = world.schedule();
    world.ok(Command::StartEpisode { actor: creator, episode_id });
    for listener in [ana, bob, cat] {
        world.stage(listener, episode_id, StageAction::Join).unwrap();
    }
    let n_events = world.events.len();
    world.stage(ana, episode_id, StageAction::Join).unwrap();
    assert_eq!(world.events.len(), n_events, "joining twice changes nothing");
    assert!(!may_publish(world.episode(episode_id), ana.id), "listeners do not publish");

    // Only the host and moderators control the stage.
    assert_eq!(world.stage(bob, episode_id, StageAction::Invite(ana.id)), Err(Rejection::Forbidden));
    assert_eq!(
        world.stage(creator, episode_id, StageAction::Invite(world.other_creator.id)),
        Err(Rejection::NotInEpisode)
    );
    world.stage(ana, episode_id, StageAction::RaiseHand).unwrap();
    assert!(world.episode(episode_id).stage.members[&ana.id].hand_raised);
    world.stage(creator, episode_id, StageAction::Invite(ana.id)).unwrap();
    let member = world.episode(episode_id).stage.members[&ana.id];
    assert_eq!((member.role, member.hand_raised), (StageRole::Speaker, false));
    assert!(may_publish(world.episode(episode_id), ana.id));

    world.stage(creator, episode_id, StageAction::Mute(ana.id)).unwrap();
    assert!(!may_publish(world.episode(episode_id), ana.id), "muted speakers do not publish");
    world.stage(creator, episode_id, StageAction::Unmute(ana.id)).unwrap();
    assert!(may_publish(world.episode(episode_id), ana.id));

    // A moderator controls speakers and listeners, never the host nor another moderator.
    world.stage(creator, episode_id, StageAction::AppointModerator(bob.id)).unwrap();
    assert_eq!(world.stage(bob, episode_id, StageAction::AppointModerator(cat.id)), Err(Rejection::Forbidden));
    assert_eq!(world.stage(bob, episode_id, StageAction::Mute(creator.id)), Err(Rejection::Forbidden));
    assert_eq!(world.stage(creator, episode_id, StageAction::Remove(creator.id)), Err(Rejection::Forbidden));
    world.stage(bob, episode_id, StageAction::MoveToAudience(ana.id)).unwrap();
    assert!(!may_publish(world.episode(episode_id), ana.id), "back in the audience");
    world.stage(bob, episode_id, StageAction::Invite(cat.id)).unwrap();
    world.stage(cat, episode_id, StageAction::MoveToAudience(cat.id)).unwrap();
    assert_eq!(world.episode(episode_id).stage.members[&cat.id].role, StageRole::Listener, "anyone may step down");

    // Removal bans: out of the stage, and no way back in.
    world.stage(creator, episode_id, StageAction::Invite(cat.id)).unwrap();
    world.stage(bob, episode_id, StageAction::Remove(cat.id)).unwrap();
    assert!(!may_publish(world.episode(episode_id), cat.id));
    assert!(world.episode(episode_id).stage.banned.contains(&cat.id));
    assert_eq!(
        world.refused(Command::ChangeStage { actor: cat, episode_id, action: StageAction::Join }),
        Rejection::BannedFromEpisode
    );
    assert_eq!(world.stage(cat, episode_id, StageAction::RaiseHand), Err(Rejection::NotInEpisode));

    let replayed = world.replayed();
    assert_eq!(replayed, world.state);
    assert!(may_publish(replayed.episode(episode_id).unwrap(), creator.id));
}

#[test]
fn an_episode_holds_a_bounded_number_of_members() {
    let mut world = World::new();
    let creator = world.creator;
    let episode_id = world.schedule();
    world.ok(Command::StartEpisode { actor: creator, episode_id });
    // Accounts need not exist in this partition to join: a listener's account lives in its own.
    for serial in 0..EPISODE_MEMBERS_MAX as u64 - 1 {
        let listener = Actor { id: AccountId(EntityId { partition: 9, serial }), role: Role::Buyer };
        world.stage(listener, episode_id, StageAction::Join).unwrap();
    }
    let late = Actor { id: AccountId(EntityId { partition: 9, serial: 1 << 40 }), role: Role::Buyer };
    assert_eq!(
        world.refused(Command::ChangeStage { actor: late, episode_id, action: StageAction::Join }),
        Rejection::EpisodeFull
    );
}

#[test]
fn polls_take_one_vote_per_member_and_the_qa_queue_one_upvote() {
    let mut world = World::new();
    let creator = world.creator;
    let [ana, bob, cat] = world.listeners;
    let slots = vec![Slot::Qa, Slot::Poll { question: "Colour?".into(), options: vec!["red".into(), "blue".into()] }];
    let Ok(Reply::Template(template)) = world.save(creator, "Talk", slots) else { panic!() };
    let Reply::Room(room) =
        world.ok(Command::CreateRoom { actor: creator, title: "r".into(), template_id: Some(template.id) })
    else {
        panic!()
    };
    let plain_room = std::mem::replace(&mut world.room, room.id);
    let episode_id = world.schedule();
    let vote = |actor, slot, option| Command::VotePoll { actor, episode_id, slot, option };
    assert_eq!(world.refused(vote(ana, 1, 0)), Rejection::EpisodeNotLive);
    world.ok(Command::StartEpisode { actor: creator, episode_id });
    assert_eq!(world.refused(vote(ana, 1, 0)), Rejection::NotInEpisode, "members vote");
    for listener in [ana, bob] {
        world.stage(listener, episode_id, StageAction::Join).unwrap();
    }
    let Reply::Poll(tally) = world.ok(vote(ana, 1, 1)) else { panic!() };
    assert_eq!(tally.tallies, vec![0, 1]);
    assert_eq!(world.refused(vote(ana, 1, 0)), Rejection::AlreadyVoted, "one vote per account");
    assert!(matches!(world.refused(vote(bob, 1, 2)), Rejection::Invalid { .. }));
    assert_eq!(world.refused(vote(bob, 0, 0)), Rejection::NotFound, "slot 0 is the Q&A, not a poll");
    world.ok(vote(bob, 1, 1));
    world.ok(vote(creator, 1, 0));
    assert_eq!(world.state.poll_tallies(episode_id).unwrap()[0].tallies, vec![1, 2]);

    let ask = |actor, text: &str| Command::AskQuestion { actor, episode_id, text: text.into() };
    let Reply::Question(first) = world.ok(ask(ana, "Sizes?")) else { panic!() };
    assert_eq!((first.number, first.status), (1, QuestionStatus::Open));
    assert_eq!(world.refused(ask(cat, "Me?")), Rejection::NotInEpisode);
    assert!(matches!(world.refused(ask(bob, " ")), Rejection::Invalid { .. }));
    assert!(matches!(world.refused(ask(bob, &"q".repeat(QUESTION_CHARS_MAX + 1))), Rejection::Invalid { .. }));
    let upvote = |actor, number| Command::UpvoteQuestion { actor, episode_id, number };
    let Reply::Question(upvoted) = world.ok(upvote(bob, 1)) else { panic!() };
    assert_eq!(upvoted.upvoters.len(), 1);
    assert_eq!(world.refused(upvote(bob, 1)), Rejection::AlreadyVoted, "one upvote per account");
    assert_eq!(world.refused(upvote(bob, 2)), Rejection::NotFound);
    let resolve = |actor, number, answered| Command::ResolveQuestion { actor, episode_id, number, answered };
    assert_eq!(world.refused(resolve(bob, 1, true)), Rejection::Forbidden, "listeners do not moderate");
    world.stage(creator, episode_id, StageAction::AppointModerator(bob.id)).unwrap();
    let Reply::Question(answered) = world.ok(resolve(bob, 1, true)) else { panic!() };
    assert_eq!(answered.status, QuestionStatus::Answered);
    assert_eq!(world.refused(resolve(creator, 1, false)), Rejection::QuestionClosed);
    assert_eq!(world.refused(upvote(ana, 1)), Rejection::QuestionClosed);
    world.ok(ask(bob, "Shipping?"));
    world.ok(resolve(creator, 2, false));
    assert_eq!(world.state.questions(episode_id)[1].status, QuestionStatus::Dismissed);

    // A room without a Q&A slot has no queue.
    world.room = plain_room;
    let plain = world.schedule();
    world.ok(Command::StartEpisode { actor: creator, episode_id: plain });
    world.stage(ana, plain, StageAction::Join).unwrap();
    let ask_plain = Command::AskQuestion { actor: ana, episode_id: plain, text: "Hello?".into() };
    assert_eq!(world.refused(ask_plain), Rejection::NotFound);
    assert_eq!(world.replayed(), world.state);
}

#[test]
fn the_host_and_moderators_pin_a_drop_of_the_room() {
    let mut world = World::new();
    let creator = world.creator;
    let [ana, bob, cat] = world.listeners;
    let (first_drop, second_drop) = (world.drop_in(world.room), world.drop_in(world.room));
    let other_room = match world.ok(Command::CreateRoom { actor: creator, title: "other".into(), template_id: None }) {
        Reply::Room(room) => room.id,
        other => panic!("{other:?}"),
    };
    let foreign_drop = world.drop_in(other_room);
    let episode_id = world.schedule();
    let pin = |actor, drop_id| Command::PinDrop { actor, episode_id, drop_id };
    assert_eq!(world.refused(pin(creator, first_drop)), Rejection::EpisodeNotLive);
    world.ok(Command::StartEpisode { actor: creator, episode_id });
    for listener in [ana, bob] {
        world.stage(listener, episode_id, StageAction::Join).unwrap();
    }
    world.stage(creator, episode_id, StageAction::Invite(bob.id)).unwrap();
    // Listeners, speakers and accounts off the stage run no rituals.
    for actor in [ana, bob, cat, world.other_creator] {
        assert_eq!(world.refused(pin(actor, first_drop)), Rejection::Forbidden, "{actor:?}");
        assert_eq!(world.refused(Command::UnpinDrop { actor, episode_id }), Rejection::Forbidden);
    }
    assert!(matches!(world.refused(pin(creator, foreign_drop)), Rejection::Invalid { .. }), "another room's drop");
    let unknown = DropId(EntityId { partition: 3, serial: 999 });
    assert_eq!(world.refused(pin(creator, unknown)), Rejection::NotFound);
    assert_eq!(world.episode(episode_id).rituals, Rituals::default(), "refusals pinned nothing");

    let Reply::Episode(pinned) = world.ok(pin(creator, first_drop)) else { panic!() };
    assert_eq!(pinned.rituals.pinned, Some(Pin { drop_id: first_drop, pinned_at: START }));
    let n_events = world.events.len();
    world.now = world.now.plus_ms(1_000);
    world.ok(pin(creator, first_drop));
    assert_eq!(world.events.len(), n_events, "pinning the pinned drop changes nothing");
    // A moderator replaces the pin.
    world.stage(creator, episode_id, StageAction::AppointModerator(ana.id)).unwrap();
    let Reply::Episode(replaced) = world.ok(pin(ana, second_drop)) else { panic!() };
    assert_eq!(replaced.rituals.pinned, Some(Pin { drop_id: second_drop, pinned_at: world.now }));
    let Reply::Episode(unpinned) = world.ok(Command::UnpinDrop { actor: ana, episode_id }) else { panic!() };
    assert_eq!(unpinned.rituals.pinned, None);
    let n_events = world.events.len();
    world.ok(Command::UnpinDrop { actor: creator, episode_id });
    assert_eq!(world.events.len(), n_events, "unpinning nothing changes nothing");
    world.ok(pin(creator, first_drop));

    // An ended episode keeps its pin, read-only.
    world.ok(Command::EndEpisode { actor: creator, episode_id });
    assert_eq!(world.refused(pin(creator, second_drop)), Rejection::EpisodeNotLive);
    assert_eq!(world.refused(Command::UnpinDrop { actor: creator, episode_id }), Rejection::EpisodeNotLive);
    assert_eq!(world.episode(episode_id).rituals.pinned.map(|pin| pin.drop_id), Some(first_drop));
    assert_eq!(world.replayed(), world.state);
}

#[test]
fn a_demo_window_runs_from_now_for_its_seconds_once_at_a_time() {
    let mut world = World::new();
    let creator = world.creator;
    let [ana, bob, _] = world.listeners;
    let product = world.product;
    let Reply::Product(foreign) = world.ok(Command::CreateProduct {
        actor: world.other_creator,
        title: "cap".into(),
        price: Money { minor: 900, currency: "EUR".parse().unwrap() },
        stock: 5,
        fulfilment: Fulfilment::Ship,
        edition: None,
    }) else {
        panic!()
    };
    let episode_id = world.schedule();
    let demo = |actor, product_id, seconds| Command::StartDemo { actor, episode_id, product_id, seconds };
    assert_eq!(world.refused(demo(creator, product, 60)), Rejection::EpisodeNotLive);
    world.ok(Command::StartEpisode { actor: creator, episode_id });
    for listener in [ana, bob] {
        world.stage(listener, episode_id, StageAction::Join).unwrap();
    }
    world.stage(creator, episode_id, StageAction::Invite(bob.id)).unwrap();
    for actor in [ana, bob, world.other_creator] {
        assert_eq!(world.refused(demo(actor, product, 60)), Rejection::Forbidden);
        assert_eq!(world.refused(Command::StopDemo { actor, episode_id }), Rejection::Forbidden);
    }
    for seconds in [0, 30, 61, 120] {
        assert!(matches!(world.refused(demo(creator, product, seconds)), Rejection::Invalid { .. }), "{seconds}");
    }
    assert!(matches!(world.refused(demo(creator, foreign.id, 60)), Rejection::Invalid { .. }), "not the host's");

    let Reply::Episode(started) = world.ok(demo(creator, product, 90)) else { panic!() };
    let expected = Demo { product_id: product, seconds: 90, started_at: START, ends_at: START.plus_ms(90_000) };
    assert_eq!(started.rituals.demo, Some(expected));
    world.now = world.now.plus_ms(30_000);
    assert_eq!(world.refused(demo(creator, product, 60)), Rejection::DemoRunning);
    world.stage(creator, episode_id, StageAction::AppointModerator(ana.id)).unwrap();
    assert_eq!(world.refused(demo(ana, product, 60)), Rejection::DemoRunning, "a moderator too");
    let Reply::Episode(stopped) = world.ok(Command::StopDemo { actor: ana, episode_id }) else { panic!() };
    assert_eq!(stopped.rituals.demo, Some(Demo { ends_at: world.now, ..expected }), "stopped early, now");
    let n_events = world.events.len();
    world.ok(Command::StopDemo { actor: creator, episode_id });
    assert_eq!(world.events.len(), n_events, "stopping a stopped demo changes nothing");

    // Once a window is over (stopped or run out) the next one may start.
    let Reply::Episode(second) = world.ok(demo(ana, product, 60)) else { panic!() };
    assert_eq!(second.rituals.demo.unwrap().ends_at, world.now.plus_ms(60_000));
    world.now = world.now.plus_ms(59_999);
    assert_eq!(world.refused(demo(creator, product, 60)), Rejection::DemoRunning);
    world.now = world.now.plus_ms(1);
    let n_events = world.events.len();
    world.ok(Command::StopDemo { actor: creator, episode_id });
    assert_eq!(world.events.len(), n_events, "a demo that ran out has nothing to stop");
    world.ok(demo(creator, product, 90));

    world.ok(Command::EndEpisode { actor: creator, episode_id });
    assert_eq!(world.refused(Command::StopDemo { actor: creator, episode_id }), Rejection::EpisodeNotLive);
    world.now = world.now.plus_ms(90_000);
    assert_eq!(world.refused(demo(creator, product, 60)), Rejection::EpisodeNotLive, "read-only once ended");
    assert_eq!(world.episode(episode_id).rituals.demo.unwrap().seconds, 90, "the last demo stays");
    assert_eq!(world.replayed(), world.state);
}

#[test]
fn live_polls_take_votes_until_closed_beside_the_template_polls() {
    let mut world = World::new();
    let creator = world.creator;
    let [ana, bob, cat] = world.listeners;
    let slots = vec![Slot::Qa, Slot::Poll { question: "Colour?".into(), options: vec!["red".into(), "blue".into()] }];
    let Ok(Reply::Template(template)) = world.save(creator, "Talk", slots) else { panic!() };
    let Reply::Room(room) =
        world.ok(Command::CreateRoom { actor: creator, title: "r".into(), template_id: Some(template.id) })
    else {
        panic!()
    };
    world.room = room.id;
    let episode_id = world.schedule();
    let options = |options: &[&str]| options.iter().map(|option| option.to_string()).collect::<Vec<_>>();
    let start = |actor, question: &str, choices: &[&str]| Command::StartPoll {
        actor,
        episode_id,
        question: question.into(),
        options: options(choices),
    };
    assert_eq!(world.refused(start(creator, "Size?", &["S", "M"])), Rejection::EpisodeNotLive);
    world.ok(Command::StartEpisode { actor: creator, episode_id });
    for listener in [ana, bob, cat] {
        world.stage(listener, episode_id, StageAction::Join).unwrap();
    }
    world.stage(creator, episode_id, StageAction::Invite(bob.id)).unwrap();
    for actor in [ana, bob] {
        assert_eq!(world.refused(start(actor, "Size?", &["S", "M"])), Rejection::Forbidden);
        assert_eq!(world.refused(Command::ClosePoll { actor, episode_id, slot: 1 }), Rejection::Forbidden);
    }
    // The bounds of a template's poll slot.
    let too_many = ["a", "b", "c", "d", "e", "f", "g"];
    let long_option = "o".repeat(POLL_OPTION_CHARS_MAX + 1);
    let long_question = "q".repeat(TITLE_CHARS_MAX + 1);
    for (question, choices) in [
        ("Size?", &["S"][..]),
        ("Size?", &["S", "S"][..]),
        ("Size?", &too_many[..]),
        ("Size?", &["S", " "][..]),
        ("Size?", &["S", long_option.as_str()][..]),
        (" ", &["S", "M"][..]),
        (long_question.as_str(), &["S", "M"][..]),
    ] {
        let rejection = world.refused(start(creator, question, choices));
        assert!(matches!(rejection, Rejection::Invalid { .. }), "{question:?} {choices:?}: {rejection:?}");
    }

    let Reply::Poll(size) = world.ok(start(creator, "Size?", &["S", "M", "L"])) else { panic!() };
    assert_eq!((size.slot, size.tallies.as_slice(), size.open), (LIVE_POLL_SLOT_FIRST, &[0, 0, 0][..], true));
    world.stage(creator, episode_id, StageAction::AppointModerator(ana.id)).unwrap();
    let Reply::Poll(fit) = world.ok(start(ana, "Fit?", &["slim", "loose"])) else { panic!() };
    assert_eq!(fit.slot, LIVE_POLL_SLOT_FIRST + 1, "live polls count on from the first live slot");
    let vote = |actor, slot, option| Command::VotePoll { actor, episode_id, slot, option };
    world.ok(vote(bob, size.slot, 2));
    world.ok(vote(cat, size.slot, 2));
    world.ok(vote(cat, 1, 0));
    assert_eq!(world.refused(vote(cat, size.slot, 0)), Rejection::AlreadyVoted);
    assert!(matches!(world.refused(vote(bob, size.slot, 3)), Rejection::Invalid { .. }));
    assert_eq!(world.refused(vote(bob, LIVE_POLL_SLOT_FIRST + 2, 0)), Rejection::NotFound, "no third live poll");
    let slots: Vec<u32> = world.state.poll_tallies(episode_id).unwrap().iter().map(|poll| poll.slot).collect();
    assert_eq!(slots, [1, LIVE_POLL_SLOT_FIRST, LIVE_POLL_SLOT_FIRST + 1], "template polls, then live ones");

    // Closing: any poll, template or live; no vote after; closing again changes nothing.
    let close = |actor, slot| Command::ClosePoll { actor, episode_id, slot };
    assert_eq!(world.refused(close(creator, 0)), Rejection::NotFound, "slot 0 is the Q&A");
    let Reply::Poll(closed) = world.ok(close(ana, size.slot)) else { panic!() };
    assert_eq!((closed.open, closed.tallies), (false, vec![0, 0, 2]));
    assert_eq!(world.refused(vote(ana, size.slot, 0)), Rejection::PollClosed);
    let n_events = world.events.len();
    world.ok(close(creator, size.slot));
    assert_eq!(world.events.len(), n_events, "closing a closed poll changes nothing");
    world.ok(close(creator, 1));
    assert_eq!(world.refused(vote(bob, 1, 1)), Rejection::PollClosed, "template polls close too");
    world.ok(vote(bob, fit.slot, 0));
    assert!(world.state.poll_tally(episode_id, fit.slot).unwrap().open, "the other polls stay open");

    // A bounded number of live polls per episode.
    for poll_idx in 2..EPISODE_LIVE_POLLS_MAX {
        world.ok(start(creator, &format!("Poll {poll_idx}?"), &["yes", "no"]));
    }
    assert!(matches!(world.refused(start(creator, "One more?", &["yes", "no"])), Rejection::Invalid { .. }));

    world.ok(Command::EndEpisode { actor: creator, episode_id });
    assert_eq!(world.refused(start(creator, "Late?", &["yes", "no"])), Rejection::EpisodeNotLive);
    assert_eq!(world.refused(close(creator, fit.slot)), Rejection::EpisodeNotLive);
    assert_eq!(world.refused(vote(bob, fit.slot, 1)), Rejection::EpisodeEnded);
    let replayed = world.replayed();
    assert_eq!(replayed, world.state);
    assert!(!replayed.poll_tally(episode_id, size.slot).unwrap().open, "closed after replay");
    assert_eq!(replayed.live_polls(episode_id).len(), EPISODE_LIVE_POLLS_MAX);
}

mod random_stage {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Start(usize),
        End(usize),
        /// `actor` (0 the host, then the listeners) acts on `target` in episode `episode`.
        Stage {
            episode: usize,
            actor: usize,
            action: u8,
            target: usize,
        },
        /// A vote in the room's poll (slot 0) or the episode's first live poll.
        Vote {
            episode: usize,
            actor: usize,
            live: bool,
            option: u32,
        },
        /// `actor` runs a ritual: pin or unpin, start or stop a demo, start or close a poll.
        Ritual {
            episode: usize,
            actor: usize,
            ritual: u8,
        },
        /// Time passes, in seconds (demo windows run out).
        Wait(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            1 => (0..2usize).prop_map(Op::Start),
            1 => (0..2usize).prop_map(Op::End),
            // Half the actions are the host's: most of the others' are refused.
            48 => (0..2usize, prop_oneof![Just(0usize), 0..4usize], 0..10u8, 0..4usize)
                .prop_map(|(episode, actor, action, target)| Op::Stage { episode, actor, action, target }),
            6 => (0..2usize, 0..4usize, any::<bool>(), 0..3u32)
                .prop_map(|(episode, actor, live, option)| Op::Vote { episode, actor, live, option }),
            12 => (0..2usize, prop_oneof![Just(0usize), 0..4usize], 0..9u8)
                .prop_map(|(episode, actor, ritual)| Op::Ritual { episode, actor, ritual }),
            2 => (0..100u64).prop_map(Op::Wait),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Whatever the order of stage actions and rituals: the invariants hold after each, the
        /// banned never get back in, `may_publish` is exactly "live, on stage, not muted", only the
        /// host and moderators of a live episode change its rituals, a closed poll takes no vote, and
        /// replay rebuilds it all.
        #[test]
        fn stage_invariants_hold_and_replay_rebuilds_them(ops in prop::collection::vec(op(), 1..60)) {
            let mut world = World::new();
            let creator = world.creator;
            let slots = vec![Slot::Poll { question: "q".into(), options: vec!["a".into(), "b".into()] }];
            let Ok(Reply::Template(template)) = world.save(creator, "p", slots) else { panic!() };
            let Reply::Room(room) =
                world.ok(Command::CreateRoom { actor: creator, title: "r".into(), template_id: Some(template.id) })
            else {
                panic!()
            };
            world.room = room.id;
            let drops = [world.drop_in(room.id), world.drop_in(room.id)];
            let episodes = [world.schedule(), world.schedule()];
            world.ok(Command::StartEpisode { actor: creator, episode_id: episodes[0] });
            let people: Vec<Actor> = std::iter::once(creator).chain(world.listeners).collect();
            for listener in world.listeners {
                world.stage(listener, episodes[0], StageAction::Join).unwrap();
            }
            for op in ops {
                match op {
                    Op::Start(idx) => { let _ = world.run(Command::StartEpisode { actor: creator, episode_id: episodes[idx] }); }
                    Op::End(idx) => { let _ = world.run(Command::EndEpisode { actor: creator, episode_id: episodes[idx] }); }
                    Op::Stage { episode, actor, action, target } => {
                        let (actor, target) = (people[actor], people[target].id);
                        let action = match action {
                            0..=2 => StageAction::Join,
                            3 => StageAction::RaiseHand,
                            4 => StageAction::Invite(target),
                            5 => StageAction::MoveToAudience(target),
                            6 => StageAction::Mute(target),
                            7 => StageAction::Unmute(target),
                            8 => StageAction::Remove(target),
                            _ => StageAction::AppointModerator(target),
                        };
                        let before = world.episode(episodes[episode]);
                        let was_banned = before.status == EpisodeStatus::Live && before.stage.banned.contains(&actor.id);
                        let outcome = world.run(Command::ChangeStage { actor, episode_id: episodes[episode], action });
                        if was_banned && action == StageAction::Join {
                            prop_assert_eq!(outcome, Err(Rejection::BannedFromEpisode));
                        }
                    }
                    Op::Vote { episode, actor, live, option } => {
                        let (episode_id, slot) = (episodes[episode], if live { LIVE_POLL_SLOT_FIRST } else { 0 });
                        let closed = world.state.poll_tally(episode_id, slot).is_some_and(|poll| !poll.open);
                        let outcome = world.run(Command::VotePoll { actor: people[actor], episode_id, slot, option });
                        if closed {
                            prop_assert!(outcome.is_err(), "a closed poll takes no vote");
                        }
                    }
                    Op::Ritual { episode, actor, ritual } => {
                        let (actor, episode_id) = (people[actor], episodes[episode]);
                        let command = match ritual {
                            0 | 1 => Command::PinDrop { actor, episode_id, drop_id: drops[ritual as usize] },
                            2 => Command::UnpinDrop { actor, episode_id },
                            3 | 4 => {
                                let seconds = DEMO_SECONDS_ALLOWED[ritual as usize - 3];
                                Command::StartDemo { actor, episode_id, product_id: world.product, seconds }
                            }
                            5 => Command::StopDemo { actor, episode_id },
                            6 => Command::StartPoll {
                                actor,
                                episode_id,
                                question: "live?".into(),
                                options: vec!["yes".into(), "no".into()],
                            },
                            7 => Command::ClosePoll { actor, episode_id, slot: 0 },
                            _ => Command::ClosePoll { actor, episode_id, slot: LIVE_POLL_SLOT_FIRST },
                        };
                        let before = world.episode(episode_id);
                        let may_run = before.status == EpisodeStatus::Live
                            && before.stage.members.get(&actor.id).is_some_and(|member| {
                                matches!(member.role, StageRole::Host | StageRole::Moderator)
                            });
                        let n_events = world.events.len();
                        let outcome = world.run(command);
                        if !may_run {
                            prop_assert!(outcome.is_err(), "only the host and moderators of a live episode");
                        }
                        if outcome.is_err() {
                            prop_assert_eq!(world.events.len(), n_events, "a refused ritual writes nothing");
                        }
                    }
                    Op::Wait(seconds) => world.now = world.now.plus_ms(seconds * 1_000),
                }
                for episode_id in episodes {
                    let episode = world.episode(episode_id);
                    for person in &people {
                        let member = episode.stage.members.get(&person.id);
                        let expected = episode.status == EpisodeStatus::Live
                            && member.is_some_and(|member| member.role != StageRole::Listener && !member.muted);
                        prop_assert_eq!(may_publish(episode, person.id), expected);
                    }
                    let n_voters: u64 = world.state.poll_tally(episode_id, 0).unwrap().tallies.iter().sum();
                    prop_assert!(n_voters <= people.len() as u64, "one vote per account");
                }
            }
            prop_assert_eq!(world.replayed(), world.state);
        }
    }
}
