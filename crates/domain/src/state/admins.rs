//! Platform admins: accounts of role admin, one per name the operator configures, so that every
//! sign-off and review names the admin who made it ([0025]). Their tokens come from the
//! configuration: at each start the engine makes each admin's live tokens exactly the configured
//! ones, through the same `AccountCreated`, `TokenIssued` and `TokenRevoked` facts as everyone's.
//!
//! [0025]: ../../../../docs/decisions/0025-named-admins.md

use super::State;
use super::catalogue::check_handle;
use super::decision::{Decision, ReadBack};
use super::tokens::check_token_sha256;
use crate::limits::ACCOUNT_TOKENS_MAX;
use crate::{Account, AccountId, Event, Partition, Rejection, Role, Timestamp, Token, TokenId};

impl State {
    /// The admin account of a configured name, if one was ever created.
    pub fn admin_account(&self, handle: &str) -> Option<&Account> {
        self.admin_handles.get(handle).map(|id| &self.accounts[id])
    }

    /// Creates the admin on its first start, then issues the configured tokens it lacks and
    /// revokes its live tokens that are no longer configured. A start with the same configuration
    /// writes nothing; an admin never created and configured with no token is `NotFound`.
    pub(super) fn decide_configure_admin(
        &self,
        now: Timestamp,
        partition: Partition,
        handle: &str,
        token_sha256s: &[String],
    ) -> Result<Decision, Rejection> {
        check_handle(handle)?;
        for (idx, token_sha256) in token_sha256s.iter().enumerate() {
            check_token_sha256(token_sha256)?;
            if token_sha256s[..idx].contains(token_sha256) {
                return Err(Rejection::invalid("token_sha256s", "a token is configured twice"));
            }
        }
        if token_sha256s.len() > ACCOUNT_TOKENS_MAX {
            return Err(Rejection::invalid("token_sha256s", format!("at most {ACCOUNT_TOKENS_MAX} tokens per admin")));
        }
        let mut ids = self.allocator(partition);
        let issue = |ids: &mut super::IdAllocator, account_id: AccountId, token_sha256: &String| {
            let token = Token {
                id: TokenId(ids.next()),
                account_id,
                token_sha256: token_sha256.clone(),
                created_at: now,
                expires_at: None,
                revoked_at: None,
            };
            Event::TokenIssued { token }
        };
        let mut events = Vec::new();
        let account_id = match self.admin_handles.get(handle) {
            None => {
                let Some((first, rest)) = token_sha256s.split_first() else { return Err(Rejection::NotFound) };
                let id = AccountId(ids.next());
                let account = Account {
                    id,
                    handle: handle.to_owned(),
                    role: Role::Admin,
                    token_sha256: first.clone(),
                    created_at: now,
                    partner_kind: None,
                };
                events.push(Event::AccountCreated { account });
                events.extend(rest.iter().map(|token_sha256| issue(&mut ids, id, token_sha256)));
                id
            }
            Some(&id) => {
                let live: Vec<&Token> = self.tokens_of(id).filter(|token| token.is_live(now)).collect();
                // Revocations first: a batch's directory changes follow event order.
                for token in &live {
                    if !token_sha256s.contains(&token.token_sha256) {
                        events.push(Event::TokenRevoked { account_id: id, token_id: token.id, at: now });
                    }
                }
                for token_sha256 in token_sha256s {
                    if !live.iter().any(|token| token.token_sha256 == *token_sha256) {
                        events.push(issue(&mut ids, id, token_sha256));
                    }
                }
                id
            }
        };
        Ok(Decision::read_back(events, ReadBack::Account(account_id)))
    }
}
