//! When a commit fails, nothing it held is acknowledged, the engine refuses everything after it, and
//! a restart recovers exactly what was committed. Its own test binary: the fault switch is global.

use domain::{Command, Envelope, Reply, Role};
use engine::{Engine, EngineConfig, EngineError, SystemClock, TestPaymentProvider};
use std::path::Path;
use std::sync::Arc;

async fn start(data_dir: &Path) -> Result<Engine, EngineError> {
    Engine::start(EngineConfig {
        data_dir: data_dir.to_owned(),
        journal: None,
        n_shards: 2,
        admin_tokens: Vec::new(),
        clock: Arc::new(SystemClock),
        payments: Arc::new(TestPaymentProvider::default()),
        log_origin: "livedrop".to_owned(),
        refund_approval_threshold_minor: domain::REFUND_APPROVAL_THRESHOLD_MINOR_DEFAULT,
        money: Default::default(),
        payouts: std::sync::Arc::new(engine::SandboxPayouts::in_memory()),
        webhooks_allow_private: false,
    })
    .await
}

fn create_account(handle: &str) -> Envelope {
    Envelope::plain(Command::CreateAccount {
        partition: engine::handle_partition(handle),
        handle: handle.to_owned(),
        role: Role::Buyer,
        partner_kind: None,
        token_sha256: engine::token_sha256(&format!("token-of-{handle}")),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_is_never_acknowledged_and_stops_the_engine() {
    let data_dir = tempfile::tempdir().unwrap();
    let engine = start(data_dir.path()).await.unwrap();
    assert!(matches!(engine.execute(create_account("before")).await, Ok(Ok(Reply::Account(_)))));

    let second = start(data_dir.path()).await;
    assert!(
        matches!(&second, Err(EngineError::Journal(error)) if matches!(**error, journal::JournalError::Locked)),
        "a second engine on the same data directory is refused"
    );

    journal::fault::fail_commits(true);
    let during = engine.execute(create_account("during")).await;
    assert!(matches!(during, Err(EngineError::Unavailable)), "{during:?}");
    assert!(!engine.is_healthy());
    journal::fault::fail_commits(false);
    let after = engine.execute(create_account("after")).await;
    assert!(matches!(after, Err(EngineError::Unavailable)), "fail-stop: nothing more is accepted: {after:?}");
    assert!(engine.authenticate("token-of-before").is_some());
    assert!(engine.authenticate("token-of-during").is_none(), "an unacknowledged account cannot log in");
    engine.shutdown().await;

    let restarted = start(data_dir.path()).await.unwrap();
    assert!(restarted.is_healthy());
    assert!(restarted.authenticate("token-of-before").is_some(), "committed facts are back");
    assert!(restarted.authenticate("token-of-during").is_none(), "the failed commit left nothing");
    assert!(restarted.authenticate("token-of-after").is_none());
    let again = restarted.execute(create_account("during")).await;
    assert!(matches!(again, Ok(Ok(Reply::Account(_)))), "the handle of a failed commit is free: {again:?}");
    restarted.shutdown().await;
}
