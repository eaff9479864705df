//! What a webhook says: the facts endpoints subscribe to, read from a committed event and the state
//! after it, as the JSON body the Standard Webhooks specification suggests
//! (`{"type", "timestamp", "data"}`). Thin payloads: ids and the figures a receiver acts on, in the
//! shapes and names of the HTTP API; anything more is one `GET` away.

use domain::{AccountId, Event, State, Timestamp, WebhookEventType};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A committed fact some endpoints may want: whose it is (one account, or two: a fulfilment order
/// is its creator's and its partner's), what kind, and its `data`.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub(crate) owners: Vec<AccountId>,
    pub(crate) kind: WebhookEventType,
    pub(crate) data: Value,
    pub(crate) at: Timestamp,
}

fn rfc3339(at: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.0) * 1_000_000)
        .ok()
        .and_then(|moment| moment.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// The body of a message: the same bytes on every attempt and every endpoint.
pub(crate) fn body(source: &Source) -> Vec<u8> {
    let body = json!({ "type": source.kind.name(), "timestamp": rfc3339(source.at), "data": source.data });
    serde_json::to_vec(&body).expect("a JSON value serializes")
}

/// The webhook fact `event` is, if any, with `state` the shard's state once it is applied. Only
/// what never changes afterwards is read from the state (owners, titles, amounts), so the answer is
/// the same live, after the batch, as on replay, after the event; what does change (a drop's units
/// sold or released, for `HoldsSold`) comes as `gone`, as of the event.
pub(crate) fn source_of(state: &State, event: &Event, gone: u64) -> Option<Source> {
    let (owners, kind, data, at) = match event {
        Event::OrderPlaced { order } => {
            let lines: Vec<Value> = order
                .lines
                .iter()
                .map(|line| {
                    json!({
                        "drop_id": line.drop_id.to_string(),
                        "product_id": line.product_id.to_string(),
                        "title": line.title,
                        "quantity": line.quantity,
                        "unit_price_minor": line.unit_price.minor,
                    })
                })
                .collect();
            let data = json!({
                "order_id": order.id.to_string(),
                "room_id": order.room_id.to_string(),
                "buyer_id": order.buyer_id.to_string(),
                "total_minor": order.total.minor,
                "currency": order.total.currency.as_str(),
                "lines": lines,
                "paid_at": rfc3339(order.paid_at),
            });
            (vec![order.creator_id], WebhookEventType::OrderPaid, data, order.paid_at)
        }
        Event::RefundExecuted { refund_id, at, .. } => {
            let refund = state.refund(*refund_id)?;
            let data = json!({
                "order_id": refund.order_id.to_string(),
                "refund_id": refund.id.to_string(),
                "amount_minor": refund.amount.minor,
                "currency": refund.amount.currency.as_str(),
                "restock": refund.restock,
                "refunded_at": rfc3339(*at),
            });
            (vec![refund.creator_id], WebhookEventType::OrderRefunded, data, *at)
        }
        Event::PayoutSent { payout_id, at, .. } => {
            let payout = state.payout(*payout_id)?;
            let data = json!({
                "payout_id": payout.id.to_string(),
                "settlement_id": payout.settlement_id.to_string(),
                "amount_minor": payout.amount_minor,
                "currency": payout.currency.as_str(),
                "paid_at": rfc3339(*at),
            });
            (vec![payout.payee], WebhookEventType::PayoutPaid, data, *at)
        }
        Event::DropOpened { drop_id, at } | Event::DropClosed { drop_id, at, .. } => {
            let drop = state.drop(*drop_id)?;
            let kind = match event {
                Event::DropOpened { .. } => WebhookEventType::DropOpened,
                _ => WebhookEventType::DropClosed,
            };
            let data = json!({
                "drop_id": drop.id.to_string(),
                "room_id": drop.room_id.to_string(),
                "product_id": drop.product_id.to_string(),
                "title": drop.title,
                "quantity": drop.quantity,
                "at": rfc3339(*at),
            });
            (vec![drop.creator_id], kind, data, *at)
        }
        // The sale of the last unit: none is left to sell or held.
        Event::HoldsSold { drop_id, order_id, .. } => {
            let drop = state.drop(*drop_id)?;
            if gone != drop.quantity {
                return None;
            }
            let at = state.order(*order_id)?.paid_at;
            let data = json!({
                "drop_id": drop.id.to_string(),
                "room_id": drop.room_id.to_string(),
                "product_id": drop.product_id.to_string(),
                "title": drop.title,
                "quantity": drop.quantity,
                "last_order_id": order_id.to_string(),
                "at": rfc3339(at),
            });
            (vec![drop.creator_id], WebhookEventType::DropSoldOut, data, at)
        }
        Event::EpisodeStarted { episode_id, at, .. } | Event::EpisodeEnded { episode_id, at, .. } => {
            let episode = state.episode(*episode_id)?;
            let kind = match event {
                Event::EpisodeStarted { .. } => WebhookEventType::EpisodeLive,
                _ => WebhookEventType::EpisodeEnded,
            };
            let data = json!({
                "episode_id": episode.id.to_string(),
                "room_id": episode.room_id.to_string(),
                "title": episode.title,
                "at": rfc3339(*at),
            });
            (vec![episode.host_id], kind, data, *at)
        }
        // Its state and ETA as of this change (later changes in the same batch are their own
        // messages); opening it is the first, so a partner hears of new work without polling.
        Event::FulfilmentOpened { fulfilment: opened } => {
            let fulfilment = state.fulfilment(opened.id)?;
            let change = domain::FulfilmentChange {
                state: domain::FulfilmentState::Open,
                at: opened.created_at,
                by: opened.creator_id,
                eta: None,
                version: None,
            };
            fulfilment_updated(fulfilment, &change)
        }
        Event::FulfilmentChanged { fulfilment_id, change } => {
            fulfilment_updated(state.fulfilment(*fulfilment_id)?, change)
        }
        _ => return None,
    };
    Some(Source { owners, kind, data, at })
}

fn fulfilment_updated(
    fulfilment: &domain::FulfilmentOrder,
    change: &domain::FulfilmentChange,
) -> (Vec<AccountId>, WebhookEventType, Value, Timestamp) {
    let data = json!({
        "fulfilment_id": fulfilment.id.to_string(),
        "order_id": fulfilment.order_id.to_string(),
        "drop_id": fulfilment.drop_id.to_string(),
        "method": match fulfilment.method {
            domain::Fulfilment::Pickup => "pickup",
            _ => "ship",
        },
        "partner_id": fulfilment.partner_id.map(|id| id.to_string()),
        "state": change.state.name(),
        "eta": change.eta.map(rfc3339),
        "at": rfc3339(change.at),
    });
    let mut owners = vec![fulfilment.creator_id];
    owners.extend(fulfilment.partner_id);
    (owners, WebhookEventType::FulfilmentUpdated, data, change.at)
}
