//! The binary, end to end: kill it hard again and again in the middle of claim and checkout bursts,
//! restart it on the same data directory each time, and find every acknowledged hold and order again.

mod browser;
mod client;
mod crash;
mod process;
mod refunds;
mod settlement;
mod transparency;
mod webhooks;
