//! How a request reaches the shard that owns its partition: partition `p` is on shard
//! `p % shards`, so partition `i` is on shard `i` for `i` below the shard count. Sends never wait:
//! a full inbox is `Overloaded` (503), a closed one `ShuttingDown`.

use crate::EngineError;
use crate::shard::{Delivery, Request};
use domain::{Envelope, Outcome, Partition, State};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

pub(crate) fn send_to(
    shards: &[mpsc::Sender<Request>],
    partition: Partition,
    request: Request,
) -> Result<(), EngineError> {
    let shard = &shards[usize::from(partition) % shards.len()];
    shard.try_send(request).map_err(|error| match error {
        mpsc::error::TrySendError::Full(_) => EngineError::Overloaded,
        mpsc::error::TrySendError::Closed(_) => EngineError::ShuttingDown,
    })
}

pub(crate) async fn read_on<T, F>(
    shards: &[mpsc::Sender<Request>],
    partition: Partition,
    read: F,
) -> Result<(T, u64), EngineError>
where
    T: Send + 'static,
    F: FnOnce(&State) -> T + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job = Box::new(move |state: &State| -> Delivery {
        let value = read(state);
        Box::new(move |committed| {
            let _ = reply.send(committed.map(|watermark| (value, watermark)));
        })
    });
    send_to(shards, partition, Request::Read(job))?;
    answer.await.map_err(|_| EngineError::ShuttingDown)?
}

/// Reads every shard (partition `i` is on shard `i`, for `i` below the shard count).
pub(crate) async fn read_all_on<T, F>(shards: &[mpsc::Sender<Request>], read: F) -> Result<Vec<T>, EngineError>
where
    T: Send + 'static,
    F: Fn(&State) -> T + Send + Sync + 'static,
{
    let read = Arc::new(read);
    let reads = (0..shards.len()).map(|shard_idx| {
        let read = read.clone();
        read_on(shards, shard_idx as Partition, move |state| read(state))
    });
    let answers = futures_util::future::join_all(reads).await;
    answers.into_iter().map(|answer| answer.map(|(value, _)| value)).collect()
}

pub(crate) async fn execute_on(shards: &[mpsc::Sender<Request>], envelope: Envelope) -> Result<Outcome, EngineError> {
    let (reply, answer) = oneshot::channel();
    send_to(shards, envelope.command.partition(), Request::Execute { envelope, reply })?;
    answer.await.map_err(|_| EngineError::ShuttingDown)?
}
