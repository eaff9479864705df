//! The JSON shapes of accounts: signing up and the account as answered.

use crate::wire::{rfc3339, role_name};
use domain::{Account, PartnerKind, Token};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SignupRole {
    Buyer,
    Creator,
    /// A venue, logistics partner or curator; needs `partner_kind`.
    Partner,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PartnerKind)]
pub(crate) enum PartnerKindWire {
    Venue,
    Logistics,
    Curator,
}

impl PartnerKindWire {
    pub(crate) fn into_domain(self) -> PartnerKind {
        match self {
            PartnerKindWire::Venue => PartnerKind::Venue,
            PartnerKindWire::Logistics => PartnerKind::Logistics,
            PartnerKindWire::Curator => PartnerKind::Curator,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccountRequest {
    /// 3 to 32 characters of a-z, 0-9 and _.
    #[schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9_]{3,32}$")]
    pub(crate) handle: String,
    pub(crate) role: SignupRole,
    /// For partners only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) partner_kind: Option<PartnerKindWire>,
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
    /// `venue`, `logistics` or `curator`, for partners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) partner_kind: Option<&'static str>,
}

impl AccountBody {
    pub(crate) fn of(account: &Account, token: Option<String>) -> AccountBody {
        AccountBody {
            id: account.id.to_string(),
            handle: account.handle.clone(),
            role: role_name(account.role).to_owned(),
            token,
            created_at: rfc3339(account.created_at),
            partner_kind: account.partner_kind.map(PartnerKind::as_str),
        }
    }
}

/// `POST /v1/accounts/me/tokens`: a further bearer token of the caller's account.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueTokenRequest {
    /// Seconds until the token stops working, 1 to 31 622 400 (366 days); without it the token
    /// works until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 31_622_400)]
    pub(crate) expires_in_seconds: Option<u64>,
}

/// A token as issued. The secret is shown once, in the first answer: a retry answered from its
/// idempotency record has only the token's hash, so it comes without `token`.
#[derive(Serialize, ToSchema)]
pub(crate) struct IssuedTokenBody {
    pub(crate) id: String,
    /// The bearer token; shown once, stored only as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    pub(crate) created_at: String,
    /// `null`: works until revoked.
    pub(crate) expires_at: Option<String>,
}

impl IssuedTokenBody {
    pub(crate) fn of(token: &Token, secret: Option<String>) -> IssuedTokenBody {
        IssuedTokenBody {
            id: token.id.to_string(),
            token: secret,
            created_at: rfc3339(token.created_at),
            expires_at: token.expires_at.map(rfc3339),
        }
    }
}

/// A token as listed or revoked: never its secret nor its hash.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenBody {
    pub(crate) id: String,
    pub(crate) created_at: String,
    pub(crate) expires_at: Option<String>,
    pub(crate) revoked_at: Option<String>,
    /// Whether this is the token the request was sent with.
    pub(crate) current: bool,
}

impl TokenBody {
    pub(crate) fn of(token: &Token, current_sha256: &str) -> TokenBody {
        TokenBody {
            id: token.id.to_string(),
            created_at: rfc3339(token.created_at),
            expires_at: token.expires_at.map(rfc3339),
            revoked_at: token.revoked_at.map(rfc3339),
            current: token.token_sha256 == current_sha256,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TokenListBody {
    /// Oldest first, the sign-up token first; revoked and expired ones too.
    pub(crate) tokens: Vec<TokenBody>,
}
