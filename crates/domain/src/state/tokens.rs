//! An account's bearer tokens: issuing a further one and revoking one. The sign-up token is a token
//! like the others (its id is the account's entity id), so it can be listed and revoked too.
//! Admins' tokens are configured (`admins`), never issued or revoked here.

use super::State;
use super::decision::{Decision, ReadBack};
use crate::limits::{ACCOUNT_TOKENS_ISSUED_MAX, ACCOUNT_TOKENS_MAX, TOKEN_LIFETIME_MS_MAX};
use crate::{AccountId, Actor, Event, Rejection, Role, Timestamp, Token, TokenId};

pub(super) fn check_token_sha256(token_sha256: &str) -> Result<(), Rejection> {
    let hex = token_sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if token_sha256.len() != 64 || !hex {
        return Err(Rejection::invalid("token_sha256", "must be 64 lowercase hex digits"));
    }
    Ok(())
}

impl State {
    pub(super) fn decide_issue_token(
        &self,
        now: Timestamp,
        actor: &Actor,
        token_sha256: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<Decision, Rejection> {
        if actor.role == Role::Admin {
            return Err(Rejection::Forbidden);
        }
        check_token_sha256(token_sha256)?;
        if let Some(expires_at) = expires_at {
            if expires_at <= now {
                return Err(Rejection::invalid("expires_at", "must be in the future"));
            }
            if expires_at.0 - now.0 > TOKEN_LIFETIME_MS_MAX {
                return Err(Rejection::invalid("expires_at", "must be within 366 days from now"));
            }
        }
        if !self.accounts.contains_key(&actor.id) {
            return Err(Rejection::NotFound);
        }
        if self.tokens_of(actor.id).count() >= ACCOUNT_TOKENS_ISSUED_MAX {
            return Err(Rejection::TooManyTokens { limit: ACCOUNT_TOKENS_ISSUED_MAX as u32 });
        }
        let n_live = self.tokens_of(actor.id).filter(|token| token.is_live(now)).count();
        if n_live >= ACCOUNT_TOKENS_MAX {
            return Err(Rejection::TooManyTokens { limit: ACCOUNT_TOKENS_MAX as u32 });
        }
        let id = TokenId(self.allocator(actor.id.partition()).next());
        let token = Token {
            id,
            account_id: actor.id,
            token_sha256: token_sha256.to_owned(),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        Ok(Decision::read_back(vec![Event::TokenIssued { token }], ReadBack::Token(id)))
    }

    /// Another account's token is answered as an unknown one: its existence is not the caller's to
    /// learn. Revoking a revoked token changes nothing and answers it as it is.
    pub(super) fn decide_revoke_token(
        &self,
        now: Timestamp,
        actor: &Actor,
        token_id: TokenId,
    ) -> Result<Decision, Rejection> {
        if actor.role == Role::Admin {
            return Err(Rejection::Forbidden);
        }
        let token = match self.tokens.get(&token_id) {
            Some(token) if token.account_id == actor.id => token,
            _ => return Err(Rejection::NotFound),
        };
        if token.revoked_at.is_some() {
            return Ok(Decision::read_back(Vec::new(), ReadBack::Token(token_id)));
        }
        let revoked = Event::TokenRevoked { account_id: actor.id, token_id, at: now };
        Ok(Decision::read_back(vec![revoked], ReadBack::Token(token_id)))
    }

    /// The sign-up token an `AccountCreated` brings.
    pub(super) fn sign_up_token(account: &crate::Account) -> Token {
        Token {
            id: TokenId(account.id.0),
            account_id: account.id,
            token_sha256: account.token_sha256.clone(),
            created_at: account.created_at,
            expires_at: None,
            revoked_at: None,
        }
    }

    pub(super) fn insert_token(&mut self, token: Token) {
        assert!(self.accounts.contains_key(&token.account_id), "token {} of an unknown account", token.id);
        let ids = self.account_tokens.entry(token.account_id).or_default();
        ids.push(token.id);
        let previous = self.tokens.insert(token.id, token);
        assert!(previous.is_none(), "token issued twice");
    }

    pub(super) fn revoke_token(&mut self, account_id: AccountId, token_id: TokenId, at: Timestamp) {
        let token = self.tokens.get_mut(&token_id).expect("known token");
        assert_eq!(token.account_id, account_id, "token {token_id} revoked in another account's stream");
        assert!(token.revoked_at.is_none(), "token {token_id} revoked twice");
        token.revoked_at = Some(at);
    }

    /// Every account has its sign-up token; every token belongs to a known account and is listed
    /// once under it, oldest first.
    pub(super) fn check_token_invariants(&self) -> Result<(), String> {
        for account in self.accounts.values() {
            if !self.tokens.contains_key(&TokenId(account.id.0)) {
                return Err(format!("account {}: no sign-up token", account.id));
            }
        }
        let mut n_listed = 0;
        for (account_id, ids) in &self.account_tokens {
            if !self.accounts.contains_key(account_id) {
                return Err(format!("tokens of unknown account {account_id}"));
            }
            for (i, id) in ids.iter().enumerate() {
                let token = self.tokens.get(id).ok_or_else(|| format!("token {id} listed but unknown"))?;
                if token.account_id != *account_id {
                    return Err(format!("token {id} listed under another account"));
                }
                if i > 0 && self.tokens[&ids[i - 1]].created_at > token.created_at {
                    return Err(format!("tokens of account {account_id} out of order"));
                }
            }
            n_listed += ids.len();
        }
        if n_listed != self.tokens.len() {
            return Err("tokens and their per-account lists out of step".to_owned());
        }
        Ok(())
    }
}
