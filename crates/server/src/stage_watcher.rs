//! Keeps the SFU's view of each episode's stage current: who may publish audio and who may listen.
//! One task per episode, started by the first WHIP or WHEP session (`routes/media.rs`), feeds every
//! committed stage change to `crates/media` until the episode ends. It reads the engine directly
//! and branches on the engine's own results, not on HTTP errors.

use crate::AppState;
use domain::{AccountId, Episode, EpisodeId, EpisodeStatus};
use engine::{EpisodeChange, RoomUpdate};
use media::Media;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A failed read of the stage (an overloaded shard, say) is retried after this long; only a missing
/// or ended episode ends the watcher.
const WATCH_RETRY_MS: u64 = 500;

/// Starts the episode's watcher unless one runs: it subscribes to the room first, then reads the
/// stage, so no committed change falls between the two, and exits when the episode ends.
pub(crate) fn watch(app: &AppState, media: &Arc<Media>, episode: &Episode) {
    let episode_id = episode.id;
    if !app.media_watched.lock().expect("watch set lock").insert(episode_id) {
        return;
    }
    let task = feed_stage(app.clone(), media.clone(), episode.room_id, episode_id);
    tokio::spawn(task);
}

/// What a watcher does after a read or an update: go on, or stop for good.
enum Next {
    Continue,
    Stop,
}

async fn feed_stage(app: AppState, media: Arc<Media>, room_id: domain::RoomId, episode_id: EpisodeId) {
    let mut updates = app.engine.subscribe(room_id);
    let mut stopping = app.shutdown.clone();
    let mut resync = true;
    loop {
        if resync {
            let read = app.engine.read(episode_id.partition(), move |state| state.episode(episode_id).cloned());
            let (episode, seq) = match read.await {
                Ok((Some(episode), seq)) => (episode, seq),
                // The episode is gone: nothing more to feed.
                Ok((None, _)) => break,
                Err(error) => {
                    tracing::warn!(%episode_id, %error, "media watcher retries its read");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(WATCH_RETRY_MS)) => continue,
                        _ = stopping.changed() => break,
                    }
                }
            };
            resync = false;
            if let Next::Stop = feed(&media, &episode, seq).await {
                break;
            }
        }
        let update = tokio::select! {
            update = updates.recv() => update,
            _ = stopping.changed() => break,
        };
        let (episode, seq) = match update {
            Ok(RoomUpdate::Episode(update)) if update.episode_id == episode_id => match update.change {
                EpisodeChange::Stage(episode) | EpisodeChange::Status(episode) => (episode, update.seq),
                _ => continue,
            },
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => {
                updates = updates.resubscribe();
                resync = true;
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        if let Next::Stop = feed(&media, &episode, seq).await {
            break;
        }
    }
    let _ = media.end_episode(episode_id).await;
    app.media_watched.lock().expect("watch set lock").remove(&episode_id);
    tracing::debug!(%episode_id, "media watcher stopped");
}

/// Hands the stage as of journal position `seq` to the SFU. Stops once the SFU is gone or the
/// episode ended.
async fn feed(media: &Media, episode: &Episode, seq: u64) -> Next {
    let (publishers, members) = permissions(episode);
    if media.set_permissions(episode.id, seq, publishers, members).await.is_err() {
        return Next::Stop;
    }
    if episode.status == EpisodeStatus::Ended { Next::Stop } else { Next::Continue }
}

/// Who may publish and who is on the stage at all, as the SFU takes them.
fn permissions(episode: &Episode) -> (BTreeSet<AccountId>, BTreeSet<AccountId>) {
    let members: BTreeSet<AccountId> = if episode.status == EpisodeStatus::Live {
        episode.stage.members.keys().copied().collect()
    } else {
        BTreeSet::new()
    };
    let publishers = members.iter().copied().filter(|account| domain::may_publish(episode, *account)).collect();
    (publishers, members)
}
