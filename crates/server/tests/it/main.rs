//! End-to-end tests of the API over real HTTP on 127.0.0.1 (and in process, `in_process`): one
//! binary, one module per feature.

mod admins;
mod bad_input;
mod checkout;
mod concurrency;
mod connections;
mod fulfilment;
mod harness;
mod http2;
mod in_process;
mod journal_backends;
mod limits;
mod live;
mod media;
mod money;
mod orphan_charges;
mod partnerships;
mod payout_rules;
mod reconciliation;
mod refunds;
mod risk;
mod rooms;
mod rooms_live;
mod signals;
mod tokens;
mod transparency;
mod webhooks;
