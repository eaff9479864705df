//! The JSON shapes of an episode's recordings and of the SFU's statistics.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub(crate) struct RecordingBody {
    pub(crate) file: String,
    pub(crate) account_id: String,
    /// When the speaker's first packet arrived (RFC 3339).
    pub(crate) started_at: String,
    pub(crate) duration_ms: u64,
    pub(crate) bytes: u64,
    /// False while the speaker is on air, or if the server stopped before finishing the file (it
    /// still plays up to its last page).
    pub(crate) complete: bool,
    /// Ogg Opus (`audio/ogg`).
    pub(crate) url: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RecordingsBody {
    pub(crate) episode_id: String,
    pub(crate) recordings: Vec<RecordingBody>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsQuery {
    /// Start a new latency window after this read (default false).
    #[serde(default)]
    pub(crate) reset: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct MediaStatsBody {
    pub(crate) publishers: u64,
    pub(crate) listeners: u64,
    pub(crate) packets_in: u64,
    pub(crate) packets_forwarded: u64,
    pub(crate) sends_dropped: u64,
    /// From a packet's arrival to each listener's copy handed to the socket, since the last reset.
    pub(crate) forward_latency_us_p50: u64,
    pub(crate) forward_latency_us_p99: u64,
    pub(crate) forward_latency_us_max: u64,
    pub(crate) forward_latency_samples: u64,
    /// From a packet's arrival to its last listener's copy (the whole fan-out), since the last reset.
    pub(crate) fanout_latency_us_p50: u64,
    pub(crate) fanout_latency_us_p99: u64,
    pub(crate) fanout_latency_us_max: u64,
}
