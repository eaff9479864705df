//! What the two load generators share: the HTTP calls (`api`) and the server's CPU and memory
//! read from /proc (`procfs`). `main.rs` is the drop load generator (`loadgen`), `bin/loadgen-audio.rs`
//! the audio one.

pub mod api;
pub mod procfs;
