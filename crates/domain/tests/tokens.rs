//! Bearer tokens in the domain: issuing, revoking (idempotently, only one's own), the limit of live
//! tokens, expiry validation, who may, and replay.

use domain::*;

const START: Timestamp = Timestamp(1_700_000_000_000);
const ADMIN: Actor = Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin };
const DAY_MS: i64 = 24 * 3_600 * 1_000;

struct World {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
    ana: Actor,
    bob: Actor,
}

fn sha(n: u32) -> String {
    format!("{n:064x}")
}

impl World {
    fn new() -> World {
        let mut world = World { state: State::default(), events: Vec::new(), now: START, ana: ADMIN, bob: ADMIN };
        world.ana = world.account("ana", Role::Buyer);
        world.bob = world.account("bob", Role::Creator);
        world
    }

    fn account(&mut self, handle: &str, role: Role) -> Actor {
        let command = Command::CreateAccount {
            partition: 3,
            handle: handle.into(),
            role,
            partner_kind: None,
            token_sha256: sha(0),
        };
        match self.ok(command) {
            Reply::Account(account) => Actor { id: account.id, role },
            other => panic!("{other:?}"),
        }
    }

    fn run(&mut self, command: Command) -> Outcome {
        let outcome = self.state.execute(self.now, Envelope::plain(command), &mut self.events);
        self.state.check_invariants().unwrap();
        outcome
    }

    fn ok(&mut self, command: Command) -> Reply {
        self.run(command).unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
    }

    fn issue(&mut self, actor: Actor, n: u32, expires_at: Option<Timestamp>) -> Outcome {
        self.run(Command::IssueToken { actor, token_sha256: sha(n), expires_at })
    }

    fn issued(&mut self, actor: Actor, n: u32, expires_at: Option<Timestamp>) -> Token {
        match self.issue(actor, n, expires_at) {
            Ok(Reply::Token(token)) => *token,
            other => panic!("{other:?}"),
        }
    }

    fn revoke(&mut self, actor: Actor, token_id: TokenId) -> Outcome {
        self.run(Command::RevokeToken { actor, token_id })
    }

    fn n_events(&self) -> usize {
        self.events.len()
    }
}

#[test]
fn the_sign_up_token_is_listed_with_the_accounts_id() {
    let world = World::new();
    let tokens: Vec<&Token> = world.state.tokens_of(world.ana.id).collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].id, TokenId(world.ana.id.0));
    assert_eq!(tokens[0].id.to_string(), format!("tok_{}", &world.ana.id.to_string()["acct_".len()..]));
    assert_eq!((tokens[0].token_sha256.as_str(), tokens[0].created_at), (sha(0).as_str(), START));
    assert_eq!((tokens[0].expires_at, tokens[0].revoked_at), (None, None));
}

#[test]
fn an_issued_token_is_a_fact_in_the_accounts_stream() {
    let mut world = World::new();
    let before = world.n_events();
    let expires_at = Some(START.plus_ms(3_600_000));
    let token = world.issued(world.ana, 1, expires_at);
    assert_eq!(token.account_id, world.ana.id);
    assert_eq!((token.token_sha256.clone(), token.created_at, token.expires_at), (sha(1), START, expires_at));
    assert_eq!(token.revoked_at, None);
    assert_eq!(token.id.partition(), world.ana.id.partition());
    assert_ne!(token.id, TokenId(world.ana.id.0));
    let new_events = &world.events[before..];
    assert_eq!(new_events, &[Event::TokenIssued { token: token.clone() }]);
    assert_eq!(new_events[0].stream(), format!("account/{}", world.ana.id));
    assert_eq!(new_events[0].partition(), world.ana.id.partition());
    assert_eq!(new_events[0].kind(), "token_issued");
    assert_eq!(world.state.token(token.id), Some(&token));
    let ids: Vec<TokenId> = world.state.tokens_of(world.ana.id).map(|token| token.id).collect();
    assert_eq!(ids, vec![TokenId(world.ana.id.0), token.id]);
    assert_eq!(world.state.tokens_of(world.bob.id).count(), 1);
}

#[test]
fn revoking_marks_the_token_once_and_again_writes_nothing() {
    let mut world = World::new();
    let token = world.issued(world.ana, 1, None);
    world.now = START.plus_ms(5_000);
    let before = world.n_events();
    let Ok(Reply::Token(revoked)) = world.revoke(world.ana, token.id) else { panic!() };
    assert_eq!(revoked.revoked_at, Some(world.now));
    let expected = Event::TokenRevoked { account_id: world.ana.id, token_id: token.id, at: world.now };
    assert_eq!(&world.events[before..], std::slice::from_ref(&expected));
    assert_eq!(expected.stream(), format!("account/{}", world.ana.id));
    assert_eq!(expected.kind(), "token_revoked");

    world.now = START.plus_ms(9_000);
    let before = world.n_events();
    let Ok(Reply::Token(again)) = world.revoke(world.ana, token.id) else { panic!() };
    assert_eq!(again, revoked, "answered unchanged");
    assert_eq!(world.n_events(), before, "nothing written");

    // The sign-up token may be revoked too.
    let sign_up = TokenId(world.ana.id.0);
    let Ok(Reply::Token(revoked)) = world.revoke(world.ana, sign_up) else { panic!() };
    assert_eq!(revoked.revoked_at, Some(world.now));
}

#[test]
fn anothers_or_an_unknown_token_is_not_found_and_admins_are_forbidden() {
    let mut world = World::new();
    let token = world.issued(world.ana, 1, None);
    let before = world.n_events();
    assert_eq!(world.revoke(world.bob, token.id), Err(Rejection::NotFound));
    assert_eq!(world.revoke(world.bob, TokenId(world.ana.id.0)), Err(Rejection::NotFound));
    let unknown = TokenId(EntityId { partition: 3, serial: 999 });
    assert_eq!(world.revoke(world.ana, unknown), Err(Rejection::NotFound));
    assert_eq!(world.revoke(ADMIN, token.id), Err(Rejection::Forbidden));
    assert_eq!(world.issue(ADMIN, 2, None), Err(Rejection::Forbidden));
    assert_eq!(world.n_events(), before);
    assert_eq!(world.state.token(token.id).unwrap().revoked_at, None);
}

#[test]
fn an_account_has_at_most_the_limit_of_live_tokens() {
    let mut world = World::new();
    // The sign-up token counts.
    let mut issued = Vec::new();
    for n in 1..ACCOUNT_TOKENS_MAX as u32 {
        issued.push(world.issued(world.ana, n, Some(START.plus_ms(60_000))));
    }
    let before = world.n_events();
    assert_eq!(world.issue(world.ana, 100, None), Err(Rejection::TooManyTokens { limit: ACCOUNT_TOKENS_MAX as u32 }));
    assert_eq!(world.n_events(), before);
    // Other accounts are not affected.
    world.issued(world.bob, 101, None);
    // A revoked token frees a place...
    world.revoke(world.ana, issued[0].id).unwrap();
    world.issued(world.ana, 102, None);
    assert_eq!(world.issue(world.ana, 103, None), Err(Rejection::TooManyTokens { limit: 20 }));
    // ...and so do expired ones, once their expiry has passed.
    world.now = START.plus_ms(60_000);
    for n in 104..104 + 18 {
        world.issued(world.ana, n, None);
    }
    assert_eq!(world.issue(world.ana, 200, None), Err(Rejection::TooManyTokens { limit: 20 }));
    assert_eq!(world.state.tokens_of(world.ana.id).filter(|token| token.is_live(world.now)).count(), 20);
}

#[test]
fn expiry_is_in_the_future_and_within_the_longest_lifetime() {
    let mut world = World::new();
    let before = world.n_events();
    for expires_at in [START, Timestamp(START.0 - 1), Timestamp(START.0 + TOKEN_LIFETIME_MS_MAX + 1)] {
        match world.issue(world.ana, 1, Some(expires_at)) {
            Err(Rejection::Invalid { field, .. }) => assert_eq!(field, "expires_at"),
            other => panic!("{expires_at:?}: {other:?}"),
        }
    }
    match world.run(Command::IssueToken { actor: world.ana, token_sha256: "ab".into(), expires_at: None }) {
        Err(Rejection::Invalid { field, .. }) => assert_eq!(field, "token_sha256"),
        other => panic!("{other:?}"),
    }
    assert_eq!(world.n_events(), before);
    let longest = world.issued(world.ana, 1, Some(Timestamp(START.0 + TOKEN_LIFETIME_MS_MAX)));
    assert!(longest.is_live(Timestamp(START.0 + 366 * DAY_MS - 1)));
    assert!(!longest.is_live(Timestamp(START.0 + 366 * DAY_MS)));
    let shortest = world.issued(world.ana, 2, Some(START.plus_ms(1)));
    assert!(shortest.is_live(START) && !shortest.is_live(START.plus_ms(1)));
}

#[test]
fn a_keyed_issue_is_answered_from_its_record() {
    let mut world = World::new();
    let key = IdempotencyKey { owner: world.ana.id, key: "k1".into(), fingerprint: "issue".into() };
    let command = Command::IssueToken { actor: world.ana, token_sha256: sha(1), expires_at: None };
    let envelope = Envelope { idempotency: Some(key.clone()), command: command.clone() };
    let first = world.state.execute(world.now, envelope, &mut world.events);
    let before = world.n_events();
    // A retry carries a fresh secret: it is answered the first token, and issues none.
    let retry = Command::IssueToken { actor: world.ana, token_sha256: sha(2), expires_at: None };
    let again = world.state.execute(world.now, Envelope { idempotency: Some(key), command: retry }, &mut world.events);
    assert_eq!(first, again);
    assert_eq!(world.n_events(), before);
    assert_eq!(world.state.tokens_of(world.ana.id).count(), 2);
}

#[test]
fn replay_rebuilds_the_tokens() {
    let mut world = World::new();
    let first = world.issued(world.ana, 1, Some(START.plus_ms(1_000)));
    let second = world.issued(world.bob, 2, None);
    world.now = START.plus_ms(2_000);
    world.revoke(world.bob, second.id).unwrap();
    world.revoke(world.ana, TokenId(world.ana.id.0)).unwrap();
    world.issued(world.ana, 3, None);
    let mut replayed = State::default();
    for event in &world.events {
        replayed.apply(event);
    }
    replayed.check_invariants().unwrap();
    assert_eq!(replayed, world.state);
    assert_eq!(replayed.token(first.id), Some(&first));
    assert!(replayed.token(second.id).unwrap().revoked_at.is_some());
    let live: Vec<&Token> = replayed.tokens().filter(|token| token.is_live(world.now)).collect();
    assert_eq!(live.len(), 2, "bob's sign-up token and ana's third: {live:?}");
}
