//! The configured platform admins, made accounts of the journal at start ([0025]): each name's
//! live tokens become exactly its configured ones, and an admin no longer configured loses all of
//! its tokens, before the engine serves a request.
//!
//! [0025]: ../../../docs/decisions/0025-named-admins.md

use crate::{EngineError, directory::token_sha256, execute_on, handle_partition, shard::Request};
use domain::{Command, Envelope, State};
use std::collections::BTreeMap;
use tokio::sync::mpsc;

/// The name a token configured without one (`TOKEN` rather than `NAME=TOKEN`) acts under.
pub const DEFAULT_ADMIN_NAME: &str = "admin";

/// One configured admin token and the admin it belongs to; a name may have several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminToken {
    pub name: String,
    pub token: String,
}

impl AdminToken {
    pub fn new(name: impl Into<String>, token: impl Into<String>) -> AdminToken {
        AdminToken { name: name.into(), token: token.into() }
    }
}

/// The admins of the replayed states that still hold a live token.
pub(crate) fn admins_with_live_tokens(states: &[State], now: domain::Timestamp) -> Vec<String> {
    let mut names = Vec::new();
    for state in states {
        for account in state.accounts().filter(|account| account.role == domain::Role::Admin) {
            if state.tokens_of(account.id).any(|token| token.is_live(now)) {
                names.push(account.handle.clone());
            }
        }
    }
    names
}

/// Brings every admin's tokens in line with the configuration (see `Command::ConfigureAdmin`).
pub(crate) async fn configure(
    shards: &[mpsc::Sender<Request>],
    configured: &[AdminToken],
    known: Vec<String>,
) -> Result<(), EngineError> {
    let mut tokens: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (idx, admin) in configured.iter().enumerate() {
        // One token, one admin: else the journal could not say which of them acted.
        if configured[..idx].iter().any(|earlier| earlier.token == admin.token) {
            return Err(EngineError::AdminConfig(format!("admin {:?}: a token configured twice", admin.name)));
        }
        tokens.entry(admin.name.clone()).or_default().push(token_sha256(&admin.token));
    }
    // Known admins left out of the configuration: configured with no token, so none works.
    for name in known {
        tokens.entry(name).or_default();
    }
    for (handle, token_sha256s) in tokens {
        let n_tokens = token_sha256s.len();
        let partition = handle_partition(&handle);
        let command = Command::ConfigureAdmin { partition, handle: handle.clone(), token_sha256s };
        match execute_on(shards, Envelope::plain(command)).await? {
            Ok(_) if n_tokens == 0 => tracing::info!(admin = %handle, "admin not configured: its tokens revoked"),
            Ok(_) => tracing::info!(admin = %handle, tokens = n_tokens, "admin configured"),
            Err(rejection) => return Err(EngineError::AdminConfig(format!("admin {handle:?}: {rejection}"))),
        }
    }
    Ok(())
}
