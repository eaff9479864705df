//! What a decision produces: the events to apply and the reply they give. Each decision says what it
//! answers; most replies show an entity as it is once the events are applied (also when there are
//! none: a request that changes nothing answers the entity as it is), so the reply can name the
//! entity to read back rather than carry a copy made before applying.

use super::State;
use crate::{
    AccountId, DisputeId, DropId, EpisodeId, Event, OrderId, Outcome, Partition, PayoutId, ProductId, RefundId, Reply,
    RoomId, SettlementId, SplitContractId, TemplateId, TokenId, WebhookEndpointId,
};

/// A decided command: its events, to apply in order, and its reply.
#[derive(Debug)]
pub(super) struct Decision {
    pub(super) events: Vec<Event>,
    pub(super) reply: DecidedReply,
}

/// The reply of a decided command.
#[derive(Debug)]
pub(super) enum DecidedReply {
    /// Known when deciding: a claim's receipt, the saved fraud rules, or a refusal whose attempt is
    /// itself a fact (a declined payment, a request blocked by the fraud rules).
    Immediate(Outcome),
    /// The entity as it is once the events are applied.
    ReadBack(ReadBack),
}

/// An entity a reply shows as it is after its decision's events are applied.
#[derive(Clone, Copy, Debug)]
pub(super) enum ReadBack {
    Account(AccountId),
    Product(ProductId),
    Room(RoomId),
    Drop(DropId),
    Order(OrderId),
    Refund(RefundId),
    Template(TemplateId),
    Episode(EpisodeId),
    Poll {
        episode_id: EpisodeId,
        slot: u32,
    },
    Question {
        episode_id: EpisodeId,
        number: u32,
    },
    Token(TokenId),
    SplitContract(SplitContractId),
    Settlement(SettlementId),
    Payout(PayoutId),
    Dispute(DisputeId),
    WebhookEndpoint(WebhookEndpointId),
    Fulfilment(crate::FulfilmentId),
    /// A fulfilment order a partner's signal changed.
    FulfilmentSignal(crate::FulfilmentId),
    Reconciliation(crate::ReconciliationId),
    /// The payouts a settlement created in one book.
    BookPayouts {
        settlement_id: SettlementId,
        book: Partition,
    },
}

impl Decision {
    /// A decision answered by `entity` as it is once `events` are applied.
    pub(super) fn read_back(events: Vec<Event>, entity: ReadBack) -> Decision {
        Decision { events, reply: DecidedReply::ReadBack(entity) }
    }

    /// A decision whose reply is known before `events` are applied.
    pub(super) fn immediate(events: Vec<Event>, outcome: Outcome) -> Decision {
        Decision { events, reply: DecidedReply::Immediate(outcome) }
    }
}

impl State {
    /// The reply of a decision whose events were applied. An entity to read back exists: the decision
    /// either found it or its events created it.
    pub(super) fn reply_of(&self, reply: DecidedReply) -> Outcome {
        let entity = match reply {
            DecidedReply::Immediate(outcome) => return outcome,
            DecidedReply::ReadBack(entity) => entity,
        };
        Ok(match entity {
            ReadBack::Account(account_id) => Reply::Account(Box::new(self.accounts[&account_id].clone())),
            ReadBack::Product(product_id) => Reply::Product(Box::new(self.products[&product_id].clone())),
            ReadBack::Room(room_id) => Reply::Room(Box::new(self.rooms[&room_id].clone())),
            ReadBack::Drop(drop_id) => Reply::Drop(Box::new(self.drops[&drop_id].clone())),
            ReadBack::Order(order_id) => Reply::Ordered(Box::new(self.orders[&order_id].clone())),
            ReadBack::Refund(refund_id) => Reply::Refund(Box::new(self.refunds.refunds[&refund_id].clone())),
            ReadBack::Template(template_id) => {
                Reply::Template(Box::new(self.room_book.templates[&template_id].clone()))
            }
            ReadBack::Episode(episode_id) => Reply::Episode(Box::new(self.room_book.episodes[&episode_id].clone())),
            ReadBack::Poll { episode_id, slot } => {
                Reply::Poll(Box::new(self.poll_tally(episode_id, slot).expect("a known poll")))
            }
            ReadBack::Question { episode_id, number } => {
                Reply::Question(Box::new(self.question(episode_id, number).expect("a known question").clone()))
            }
            ReadBack::Token(token_id) => Reply::Token(Box::new(self.tokens[&token_id].clone())),
            ReadBack::SplitContract(id) => Reply::SplitContract(Box::new(self.money.contracts[&id].clone())),
            ReadBack::Settlement(id) => Reply::Settlement(Box::new(self.money.settlements[&id].clone())),
            ReadBack::Payout(id) => Reply::Payout(Box::new(self.money.payouts[&id].clone())),
            ReadBack::Dispute(id) => Reply::Dispute(Box::new(self.money.disputes[&id].clone())),
            ReadBack::FulfilmentSignal(id) => Reply::FulfilmentSignal {
                fulfilment: Box::new(self.fulfilment(id).expect("a known fulfilment").clone()),
                outcome: crate::SignalOutcome::Applied,
            },
            ReadBack::Reconciliation(id) => {
                Reply::Reconciliation(Box::new(self.reconciliation_case(id).expect("a known case").clone()))
            }
            ReadBack::Fulfilment(id) => {
                Reply::Fulfilment(Box::new(self.fulfilment(id).expect("a known fulfilment").clone()))
            }
            ReadBack::WebhookEndpoint(id) => {
                Reply::WebhookEndpoint(Box::new(self.webhook_endpoint(id).expect("a known endpoint").clone()))
            }
            ReadBack::BookPayouts { settlement_id, book } => {
                let mut payouts: Vec<_> = self
                    .settlement_payouts(settlement_id)
                    .filter(|payout| payout.id.partition() == book)
                    .cloned()
                    .collect();
                payouts.sort_by_key(|payout| payout.id);
                Reply::Payouts(payouts)
            }
        })
    }
}
