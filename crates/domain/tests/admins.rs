//! Configured platform admins in the domain: created once, the same configuration writes nothing,
//! a changed token is revoked and the new one issued, a removed admin loses every token, their
//! handles are apart from sign-ups', and replay rebuilds it all.

use domain::*;

const START: Timestamp = Timestamp(1_700_000_000_000);

fn sha(n: u32) -> String {
    format!("{n:064x}")
}

struct World {
    state: State,
    events: Vec<Event>,
}

impl World {
    fn configure(&mut self, handle: &str, tokens: &[u32]) -> Outcome {
        let command = Command::ConfigureAdmin {
            partition: 7,
            handle: handle.to_owned(),
            token_sha256s: tokens.iter().map(|n| sha(*n)).collect(),
        };
        let n_before = self.events.len();
        let outcome = self.state.execute(START, Envelope::plain(command), &mut self.events);
        self.state.check_invariants().unwrap();
        if outcome.is_err() {
            assert_eq!(self.events.len(), n_before, "a refusal writes nothing");
        }
        outcome
    }

    /// The admin's live token hashes, oldest first.
    fn live(&self, handle: &str) -> Vec<String> {
        let account = self.state.admin_account(handle).expect("a configured admin");
        let tokens = self.state.tokens_of(account.id).filter(|token| token.is_live(START));
        tokens.map(|token| token.token_sha256.clone()).collect()
    }
}

#[test]
fn an_admin_is_created_once_and_its_tokens_follow_the_configuration() {
    let mut world = World { state: State::default(), events: Vec::new() };
    let Ok(Reply::Account(alice)) = world.configure("alice", &[1, 2]) else { panic!("not created") };
    assert_eq!((alice.role, alice.handle.as_str(), alice.id.partition()), (Role::Admin, "alice", 7));
    assert_eq!(world.live("alice"), [sha(1), sha(2)]);
    let n_events = world.events.len();
    assert_eq!(n_events, 2, "AccountCreated and one TokenIssued");

    // The same configuration again: the same account, nothing written.
    let Ok(Reply::Account(again)) = world.configure("alice", &[2, 1]) else { panic!() };
    assert_eq!(again.id, alice.id);
    assert_eq!(world.events.len(), n_events);

    // Token 1 replaced by token 3: 1 revoked, 3 issued, 2 untouched.
    world.configure("alice", &[2, 3]).unwrap();
    assert_eq!(world.live("alice"), [sha(2), sha(3)]);
    assert!(matches!(world.events[n_events], Event::TokenRevoked { account_id, .. } if account_id == alice.id));
    assert!(matches!(&world.events[n_events + 1], Event::TokenIssued { token } if token.token_sha256 == sha(3)));

    // A second admin is another account; removing the first revokes all it has.
    let Ok(Reply::Account(bob)) = world.configure("bob", &[4]) else { panic!() };
    assert_ne!(bob.id, alice.id);
    world.configure("alice", &[]).unwrap();
    assert!(world.live("alice").is_empty());
    assert_eq!(world.live("bob"), [sha(4)]);
    // Configured again later, with its first token: issued anew.
    world.configure("alice", &[1]).unwrap();
    assert_eq!(world.live("alice"), [sha(1)]);

    let mut replayed = State::default();
    for event in &world.events {
        replayed.apply(event);
    }
    assert_eq!(replayed, world.state);
}

#[test]
fn admin_handles_are_apart_from_sign_ups() {
    let mut world = World { state: State::default(), events: Vec::new() };
    let command = Command::CreateAccount {
        partition: 7,
        handle: "admin".into(),
        role: Role::Buyer,
        partner_kind: None,
        token_sha256: sha(9),
    };
    let Ok(Reply::Account(buyer)) = world.state.execute(START, Envelope::plain(command), &mut world.events) else {
        panic!()
    };
    let Ok(Reply::Account(admin)) = world.configure("admin", &[1]) else { panic!("an admin beside the buyer") };
    assert_ne!(admin.id, buyer.id);
    assert_eq!(world.state.account(buyer.id).unwrap().role, Role::Buyer);
    // And the other way round: the admin's handle does not take a sign-up's.
    let command = Command::CreateAccount {
        partition: 7,
        handle: "root_ops".into(),
        role: Role::Buyer,
        partner_kind: None,
        token_sha256: sha(8),
    };
    world.configure("root_ops", &[2]).unwrap();
    assert!(world.state.execute(START, Envelope::plain(command), &mut world.events).is_ok());
}

#[test]
fn bad_configurations_are_refused_and_write_nothing() {
    let mut world = World { state: State::default(), events: Vec::new() };
    assert_eq!(world.configure("nobody", &[]), Err(Rejection::NotFound));
    assert!(matches!(world.configure("Alice!", &[1]), Err(Rejection::Invalid { .. })));
    assert!(matches!(world.configure("alice", &[1, 1]), Err(Rejection::Invalid { .. })));
    let too_many: Vec<u32> = (0..=ACCOUNT_TOKENS_MAX as u32).collect();
    assert!(matches!(world.configure("alice", &too_many), Err(Rejection::Invalid { .. })));
    let command = Command::ConfigureAdmin { partition: 7, handle: "alice".into(), token_sha256s: vec!["xyz".into()] };
    assert!(matches!(
        world.state.execute(START, Envelope::plain(command), &mut world.events),
        Err(Rejection::Invalid { .. })
    ));
    assert!(world.events.is_empty());
    assert!(world.state.admin_account("alice").is_none());
}
