//! The ledger as its payees and admins read it: balances, per-order availability, transactions
//! (paged) and the trial balance. A payee's money sits in the books of the partitions it earns in,
//! so these read every shard and add up.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::body_id;
use crate::wire::rfc3339;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::ledger::{LedgerAccount, NormalBalance};
use domain::{AccountId, Actor, Currency, EARNINGS_LISTED_MAX, LedgerTxId, PayeeBalance, Rejection, Role};
use std::collections::BTreeMap;
use utoipa::OpenApi;
use wire::{
    AccountBalanceBody, AccountQuery, BalanceBody, BalancesBody, CurrencyTotalsBody, EarningBody, EarningsBody,
    PostingBody, TransactionBody, TransactionsBody, TransactionsQuery, TrialBalanceBody,
};

/// A page of ledger transactions at most.
const TRANSACTIONS_PAGE_MAX: usize = 500;
const TRANSACTIONS_PAGE_DEFAULT: usize = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/balances", get(balances))
        .route("/v1/earnings", get(earnings))
        .route("/v1/ledger/transactions", get(transactions))
        .route("/v1/admin/ledger/trial-balance", get(trial_balance))
}

#[derive(OpenApi)]
#[openapi(
    paths(balances, earnings, transactions, trial_balance),
    components(schemas(
        BalancesBody,
        BalanceBody,
        EarningsBody,
        EarningBody,
        TransactionsBody,
        TransactionBody,
        PostingBody,
        TrialBalanceBody,
        CurrencyTotalsBody,
        AccountBalanceBody
    ))
)]
pub(crate) struct LedgerApi;

/// Whose money a request is about: a payee's own, or (admins only) `account_id`'s.
pub(crate) fn payee_of(actor: &Actor, account_id: Option<&str>) -> Result<AccountId, ApiError> {
    match (actor.role, account_id) {
        (Role::Admin, Some(text)) => body_id("account_id", text),
        (Role::Admin, None) => Err(ApiError::invalid("account_id", "admins name the payee")),
        (Role::Creator | Role::Partner, None) => Ok(actor.id),
        (Role::Creator | Role::Partner, Some(_)) => Err(ApiError::from(Rejection::Forbidden)),
        (Role::Buyer, _) => Err(ApiError::from(Rejection::Forbidden)),
    }
}

#[utoipa::path(get, path = "/v1/balances", tag = "money", params(AccountQuery), security(("bearer" = [])),
    responses((status = 200, description = "the payee's money per currency, summed over every book, and when the next scheduled settlement window closes", body = BalancesBody),
        (status = 400, description = "invalid_request (account_id)", body = ErrorBody),
        (status = 403, description = "forbidden: creators and partners see their own, admins anyone's", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn balances(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Result<Response, ApiError> {
    let payee = payee_of(&actor, query.account_id.as_deref())?;
    let per_shard = app.engine.read_all(move |state| state.payee_balances(payee)).await?;
    let mut by_currency: BTreeMap<Currency, PayeeBalance> = BTreeMap::new();
    for balance in per_shard.into_iter().flatten() {
        let sum = by_currency.entry(balance.currency).or_insert_with(|| PayeeBalance::zero(balance.currency));
        sum.pending_minor += balance.pending_minor;
        sum.available_minor += balance.available_minor;
        sum.reserved_minor += balance.reserved_minor;
        sum.in_transit_minor += balance.in_transit_minor;
        sum.disputed_minor += balance.disputed_minor;
        sum.paid_out_minor += balance.paid_out_minor;
        sum.owed_minor += balance.owed_minor;
    }
    let balances = by_currency.values().map(BalanceBody::from).collect();
    let next_settlement_at = app.engine.next_settlement_at().map(rfc3339);
    Ok(Json(BalancesBody { account_id: payee.to_string(), balances, next_settlement_at }).into_response())
}

#[utoipa::path(get, path = "/v1/earnings", tag = "money", params(AccountQuery), security(("bearer" = [])),
    responses((status = 200, description = "each order line's earning of the newest 500 orders: when it becomes available and why, soonest first", body = EarningsBody),
        (status = 400, description = "invalid_request (account_id)", body = ErrorBody),
        (status = 403, description = "forbidden: creators and partners see their own, admins anyone's", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn earnings(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Result<Response, ApiError> {
    let payee = payee_of(&actor, query.account_id.as_deref())?;
    let per_shard = app.engine.read_all(move |state| state.earnings_of(payee, EARNINGS_LISTED_MAX)).await?;
    let mut views: Vec<_> = per_shard.into_iter().flatten().collect();
    // The newest orders' across the shards, then soonest to mature first.
    views.sort_by_key(|view| std::cmp::Reverse(view.order_id));
    views.truncate(EARNINGS_LISTED_MAX);
    views.sort_by_key(|view| (view.available_at, view.order_id, view.hold_id));
    let earnings = views.iter().map(EarningBody::from).collect();
    Ok(Json(EarningsBody { account_id: payee.to_string(), earnings }).into_response())
}

#[utoipa::path(get, path = "/v1/ledger/transactions", tag = "money", params(TransactionsQuery), security(("bearer" = [])),
    responses((status = 200, description = "ledger transactions in id order (book by book, each in the order posted)", body = TransactionsBody),
        (status = 400, description = "invalid_request (account_id, after, limit)", body = ErrorBody),
        (status = 403, description = "forbidden: payees see their own, admins all", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn transactions(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<TransactionsQuery>,
) -> Result<Response, ApiError> {
    let payee = match (actor.role, query.account_id.as_deref()) {
        (Role::Admin, None) => None,
        (_, account_id) => Some(payee_of(&actor, account_id)?),
    };
    let after: Option<LedgerTxId> = query.after.as_deref().map(|text| body_id("after", text)).transpose()?;
    let limit = query.limit.unwrap_or(TRANSACTIONS_PAGE_DEFAULT);
    if !(1..=TRANSACTIONS_PAGE_MAX).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("must be 1 to {TRANSACTIONS_PAGE_MAX}")));
    }
    // Each shard answers its first `limit + 1` after the cursor; the merge keeps the first `limit`.
    let per_shard = app
        .engine
        .read_all(move |state| {
            // A payee sees its own postings and causes only.
            let page = state.ledger_page(payee, after, limit + 1).into_iter();
            let page = page.filter_map(|transaction| match payee {
                Some(payee) => transaction.seen_by(payee),
                None => Some(transaction.clone()),
            });
            page.collect::<Vec<_>>()
        })
        .await?;
    let mut page: Vec<_> = per_shard.into_iter().flatten().collect();
    page.sort_by_key(|transaction| transaction.id);
    let more = page.len() > limit;
    page.truncate(limit);
    let next_after = more.then(|| page.last().map(|transaction| transaction.id.to_string())).flatten();
    let transactions = page.iter().map(TransactionBody::from).collect();
    Ok(Json(TransactionsBody { transactions, next_after }).into_response())
}

#[utoipa::path(get, path = "/v1/admin/ledger/trial-balance", tag = "money", security(("bearer" = [])),
    responses((status = 200, description = "every account's balance over all books, and whether they balance", body = TrialBalanceBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn trial_balance(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    if actor.role != Role::Admin {
        return Err(ApiError::from(Rejection::Forbidden));
    }
    let per_shard = app
        .engine
        .read_all(|state| {
            let balances: Vec<_> = state.ledger_balances().map(|(_, c, a, b)| (c, a, b)).collect();
            let totals: Vec<_> = state.ledger_totals().map(|(_, c, d, k)| (c, d, k)).collect();
            (balances, totals)
        })
        .await?;
    let mut accounts: BTreeMap<(Currency, LedgerAccount), i64> = BTreeMap::new();
    let mut totals: BTreeMap<Currency, (i64, i64)> = BTreeMap::new();
    for (balances, shard_totals) in per_shard {
        for (currency, account, balance) in balances {
            *accounts.entry((currency, account)).or_default() += balance;
        }
        for (currency, debits, credits) in shard_totals {
            let entry = totals.entry(currency).or_default();
            entry.0 += debits;
            entry.1 += credits;
        }
    }
    let mut sides: BTreeMap<Currency, (i64, i64)> = BTreeMap::new();
    for (&(currency, account), &balance) in &accounts {
        let entry = sides.entry(currency).or_default();
        match account.normal_balance() {
            NormalBalance::Debit => entry.0 += balance,
            NormalBalance::Credit => entry.1 += balance,
        }
    }
    let balanced = totals.values().all(|(debits, credits)| debits == credits)
        && sides.values().all(|(debit_side, credit_side)| debit_side == credit_side)
        && accounts.iter().all(|((_, account), balance)| *balance >= 0 || account.may_go_negative());
    let body = TrialBalanceBody {
        balanced,
        currencies: totals
            .iter()
            .map(|(currency, (debits, credits))| CurrencyTotalsBody {
                currency: currency.to_string(),
                debits_minor: *debits,
                credits_minor: *credits,
            })
            .collect(),
        accounts: accounts
            .iter()
            .filter(|(_, balance)| **balance != 0)
            .map(|((currency, account), balance)| AccountBalanceBody {
                account: account.to_string(),
                currency: currency.to_string(),
                balance_minor: *balance,
            })
            .collect(),
    };
    Ok(Json(body).into_response())
}
