//! The binary, end to end: kill it hard in the middle of a claim burst, restart it on the same data
//! directory, and find every acknowledged hold and order again.

mod process;
mod restart;
