//! The JSON shapes of accounts: signing up and the account as answered.

use crate::wire::{rfc3339, role_name};
use domain::Account;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SignupRole {
    Buyer,
    Creator,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccountRequest {
    /// 3 to 32 characters of a-z, 0-9 and _.
    #[schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9_]{3,32}$")]
    pub(crate) handle: String,
    pub(crate) role: SignupRole,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccountBody {
    pub(crate) id: String,
    pub(crate) handle: String,
    pub(crate) role: String,
    /// The bearer token; shown once, stored only as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    pub(crate) created_at: String,
}

impl AccountBody {
    pub(crate) fn of(account: &Account, token: Option<String>) -> AccountBody {
        AccountBody {
            id: account.id.to_string(),
            handle: account.handle.clone(),
            role: role_name(account.role).to_owned(),
            token,
            created_at: rfc3339(account.created_at),
        }
    }
}
