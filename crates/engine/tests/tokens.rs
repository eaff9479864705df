//! The token directory follows committed token facts: an issued token authenticates once its
//! commit is durable, a revoked one is refused from the next request on, an expired one by the
//! engine's clock and then swept out, and a restart keeps only live tokens. Configured admins are
//! accounts whose tokens follow the configuration across restarts.

use domain::{Actor, Command, Envelope, Reply, Role, Timestamp, Token, TokenId};
use engine::{AdminToken, Engine, EngineConfig, ManualClock, TestPaymentProvider, token_sha256};
use std::path::Path;
use std::sync::Arc;

const START: Timestamp = Timestamp(1_800_000_000_000);

async fn start(data_dir: &Path, clock: &Arc<ManualClock>) -> Engine {
    start_with_admins(data_dir, clock, vec![AdminToken::new("admin", "admin-secret")]).await
}

async fn start_with_admins(data_dir: &Path, clock: &Arc<ManualClock>, admin_tokens: Vec<AdminToken>) -> Engine {
    let config = EngineConfig {
        data_dir: data_dir.to_owned(),
        journal: None,
        n_shards: 2,
        admin_tokens,
        clock: clock.clone(),
        payments: Arc::new(TestPaymentProvider::default()),
        log_origin: "livedrop".to_owned(),
        refund_approval_threshold_minor: 5_000,
        money: Default::default(),
        payouts: std::sync::Arc::new(engine::SandboxPayouts::in_memory()),
        webhooks_allow_private: false,
    };
    Engine::start(config).await.expect("engine starts")
}

async fn ok(engine: &Engine, command: Command) -> Reply {
    match engine.execute(Envelope::plain(command)).await {
        Ok(Ok(reply)) => reply,
        other => panic!("refused: {other:?}"),
    }
}

async fn issue(engine: &Engine, actor: Actor, secret: &str, expires_at: Option<Timestamp>) -> Token {
    let command = Command::IssueToken { actor, token_sha256: token_sha256(secret), expires_at };
    let Reply::Token(token) = ok(engine, command).await else { panic!() };
    *token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_follows_issued_revoked_and_expired_tokens_across_a_restart() {
    let data_dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let engine = start(data_dir.path(), &clock).await;
    let command = Command::CreateAccount {
        partition: engine::handle_partition("ana"),
        handle: "ana".into(),
        role: Role::Creator,
        partner_kind: None,
        token_sha256: token_sha256("sign-up"),
    };
    let Reply::Account(account) = ok(&engine, command).await else { panic!() };
    let ana = Actor { id: account.id, role: Role::Creator };
    assert_eq!(engine.authenticate_with_created_at("sign-up"), Some((ana, START)));

    clock.advance_ms(1_000);
    let second = issue(&engine, ana, "second", None).await;
    let brief = issue(&engine, ana, "brief", Some(START.plus_ms(61_000))).await;
    // The account's creation time, not the token's, is what the fraud rules age.
    assert_eq!(engine.authenticate_with_created_at("second"), Some((ana, START)));
    assert_eq!(engine.authenticate("brief"), Some(ana));

    let revoke = Command::RevokeToken { actor: ana, token_id: TokenId(account.id.0) };
    ok(&engine, revoke).await;
    assert_eq!(engine.authenticate("sign-up"), None, "refused as soon as the revocation is answered");
    assert_eq!(engine.authenticate("second"), Some(ana));
    assert_eq!(engine.authenticate("admin-secret").map(|actor| actor.role), Some(Role::Admin));

    clock.advance_ms(59_999);
    assert_eq!(engine.authenticate("brief"), Some(ana));
    clock.advance_ms(1);
    assert_eq!(engine.authenticate("brief"), None, "expired by the engine's clock");

    let revoke = Command::RevokeToken { actor: ana, token_id: second.id };
    ok(&engine, revoke).await;
    let third = issue(&engine, ana, "third", Some(START.plus_ms(3_600_000))).await;
    engine.shutdown().await;
    drop(engine);

    let engine = start(data_dir.path(), &clock).await;
    for gone in ["sign-up", "second", "brief"] {
        assert_eq!(engine.authenticate(gone), None, "{gone} after the restart");
    }
    assert_eq!(engine.authenticate_with_created_at("third"), Some((ana, START)));
    assert_eq!(engine.authenticate("admin-secret").map(|actor| actor.role), Some(Role::Admin));
    let (tokens, _) = engine
        .read(ana.id.partition(), move |state| state.tokens_of(ana.id).cloned().collect::<Vec<_>>())
        .await
        .unwrap();
    let ids: Vec<TokenId> = tokens.iter().map(|token| token.id).collect();
    assert_eq!(ids, vec![TokenId(account.id.0), second.id, brief.id, third.id]);
    clock.advance_ms(3_600_000);
    assert_eq!(engine.authenticate("third"), None);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_swept_out_of_the_directory() {
    let data_dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let engine = start(data_dir.path(), &clock).await;
    let command = Command::CreateAccount {
        partition: engine::handle_partition("ana"),
        handle: "ana".into(),
        role: Role::Buyer,
        partner_kind: None,
        token_sha256: token_sha256("sign-up"),
    };
    let Reply::Account(account) = ok(&engine, command).await else { panic!() };
    let ana = Actor { id: account.id, role: Role::Buyer };
    issue(&engine, ana, "brief", Some(START.plus_ms(1_000))).await;
    issue(&engine, ana, "longer", Some(START.plus_ms(2_000))).await;
    let n_tokens = engine.token_directory_len();
    assert_eq!(n_tokens, 4, "the admin's, the sign-up, brief and longer");
    assert_eq!(engine.sweep_expired_tokens(), 0, "none due");
    clock.advance_ms(1_000);
    assert_eq!(engine.sweep_expired_tokens(), 1);
    assert_eq!(engine.token_directory_len(), n_tokens - 1);
    assert_eq!(engine.authenticate("longer"), Some(ana));
    clock.advance_ms(1_000);
    assert_eq!(engine.sweep_expired_tokens(), 1);
    assert_eq!(engine.token_directory_len(), n_tokens - 2);
    assert_eq!(engine.authenticate("sign-up"), Some(ana));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_admins_are_accounts_whose_tokens_follow_the_configuration() {
    let data_dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let both = vec![AdminToken::new("alice", "alice-1"), AdminToken::new("bob", "bob-1")];
    let engine = start_with_admins(data_dir.path(), &clock, both.clone()).await;
    let alice = engine.authenticate("alice-1").expect("alice is an admin");
    let bob = engine.authenticate("bob-1").expect("bob is an admin");
    assert_eq!((alice.role, bob.role), (Role::Admin, Role::Admin));
    assert_ne!(alice.id, bob.id);
    engine.shutdown().await;
    drop(engine);

    // The same configuration: the same accounts.
    let engine = start_with_admins(data_dir.path(), &clock, both).await;
    assert_eq!((engine.authenticate("alice-1"), engine.authenticate("bob-1")), (Some(alice), Some(bob)));
    engine.shutdown().await;
    drop(engine);

    // Alice's token rotated, bob removed.
    let engine = start_with_admins(data_dir.path(), &clock, vec![AdminToken::new("alice", "alice-2")]).await;
    assert_eq!(engine.authenticate("alice-2"), Some(alice), "the same admin, a new token");
    assert_eq!(engine.authenticate("alice-1"), None, "the old token stopped working");
    assert_eq!(engine.authenticate("bob-1"), None, "a removed admin's token stopped working");
    engine.shutdown().await;
    drop(engine);

    // And it stays so after a restart with no admin at all: the revocations are journaled.
    let engine = start_with_admins(data_dir.path(), &clock, Vec::new()).await;
    for token in ["alice-1", "alice-2", "bob-1"] {
        assert_eq!(engine.authenticate(token), None, "{token}");
    }
    engine.shutdown().await;
}
