//! The money ledger, as pure values: a chart of accounts with their normal balances, balanced
//! transactions of postings, the balances they add up to, and the deterministic split of an amount
//! into shares. The state journals each transaction beside the fact that causes it
//! (`Event::LedgerPosted`) and applies it here; nothing else moves money.

mod account;
mod allocate;
mod balances;
mod transaction;

pub use account::{LedgerAccount, NormalBalance};
pub use allocate::allocate;
pub use balances::{Balances, Overdrawn};
pub use transaction::{
    Cause, Earning, EarningRole, LedgerTransaction, Posting, RefundPart, SaleLine, Side, TransactionError,
};
