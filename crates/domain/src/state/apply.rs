//! `apply`, the only mutation: one fact at a time, asserting that it fits. Kept apart from the
//! decisions so that what may change the state is in one place; refund and room facts are applied
//! by their own modules, called from here.

use super::State;
use super::idempotency::digest;
use super::timers::{Deadline, episode_end_deadline};
use crate::{Cart, CartStatus, DropPhase, EntityId, Event, HoldStatus, ReviewStatus, Role};
use risk::Action;

impl State {
    pub(super) fn note_id(&mut self, id: EntityId) {
        let serial = self.serials.entry(id.partition).or_insert(0);
        *serial = (*serial).max(id.serial);
    }

    /// Applies one fact. Facts were checked when decided; a fact that does not fit the state is a bug
    /// (or a corrupt journal) and stops the process rather than be half-applied.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::AccountCreated { account } => {
                self.note_id(account.id.0);
                let handles = if account.role == Role::Admin { &mut self.admin_handles } else { &mut self.handles };
                let previous = handles.insert(account.handle.clone(), account.id);
                assert!(previous.is_none(), "handle {} taken twice", account.handle);
                self.accounts.insert(account.id, account.clone());
                self.insert_token(State::sign_up_token(account));
            }
            Event::TokenIssued { token } => {
                self.note_id(token.id.0);
                self.insert_token(token.clone());
            }
            Event::TokenRevoked { account_id, token_id, at } => self.revoke_token(*account_id, *token_id, *at),
            Event::ProductCreated { product } => {
                self.note_id(product.id.0);
                self.products.insert(product.id, product.clone());
            }
            Event::RoomCreated { room } => {
                self.note_id(room.id.0);
                self.rooms.insert(room.id, room.clone());
            }
            Event::DropCreated { drop } => {
                self.note_id(drop.id.0);
                let product = self.products.get_mut(&drop.product_id).expect("drop of a known product");
                product.allocated += drop.quantity;
                assert!(product.allocated <= product.stock, "product {} over-allocated", product.id);
                self.rooms.get_mut(&drop.room_id).expect("drop in a known room").drop_ids.push(drop.id);
                if drop.phase == DropPhase::Scheduled {
                    self.deadlines.insert((drop.opens_at, Deadline::DropOpen(drop.id)));
                }
                if let Some(closes_at) = drop.closes_at {
                    self.deadlines.insert((closes_at, Deadline::DropClose(drop.id)));
                }
                self.drops.insert(drop.id, drop.clone());
            }
            Event::DropOpened { drop_id, .. } => {
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                assert_eq!(drop.phase, DropPhase::Scheduled);
                drop.phase = DropPhase::Open;
                self.deadlines.remove(&(drop.opens_at, Deadline::DropOpen(*drop_id)));
            }
            Event::DropClosed { drop_id, .. } => {
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                if drop.phase == DropPhase::Scheduled {
                    self.deadlines.remove(&(drop.opens_at, Deadline::DropOpen(*drop_id)));
                }
                drop.phase = DropPhase::Closed;
                if let Some(closes_at) = drop.closes_at {
                    self.deadlines.remove(&(closes_at, Deadline::DropClose(*drop_id)));
                }
            }
            Event::CartOpened { cart_id, room_id, buyer_id, at } => {
                self.note_id(cart_id.0);
                self.carts.insert(
                    *cart_id,
                    Cart {
                        id: *cart_id,
                        room_id: *room_id,
                        buyer_id: *buyer_id,
                        hold_ids: Vec::new(),
                        status: CartStatus::Open,
                        declined_payments: 0,
                        flagged_for_review: false,
                        created_at: *at,
                    },
                );
                // It replaces an open cart only once every hold in that one has expired.
                if let Some(previous) = self.open_carts.insert((*buyer_id, *room_id), *cart_id) {
                    let holds = self.carts[&previous].hold_ids.iter().map(|hold_id| &self.holds[hold_id]);
                    assert!(
                        holds.clone().all(|hold| hold.status != HoldStatus::Active),
                        "cart {previous} replaced while live"
                    );
                }
            }
            Event::HoldPlaced { hold } => {
                self.note_id(hold.id.0);
                let drop = self.drops.get_mut(&hold.drop_id).expect("known drop");
                let quantity = u64::from(hold.quantity);
                assert!(drop.remaining >= quantity, "drop {} oversold", drop.id);
                drop.remaining -= quantity;
                drop.held += quantity;
                *self.buyer_units.entry((hold.drop_id, hold.buyer_id)).or_insert(0) += hold.quantity;
                self.carts.get_mut(&hold.cart_id).expect("known cart").hold_ids.push(hold.id);
                self.deadlines.insert((hold.expires_at, Deadline::HoldExpiry(hold.id)));
                self.holds.insert(hold.id, hold.clone());
            }
            Event::HoldExpired { hold_id, .. } => {
                let hold = self.holds.get_mut(hold_id).expect("known hold");
                assert_eq!(hold.status, HoldStatus::Active, "hold {hold_id} expired twice");
                hold.status = HoldStatus::Expired;
                let quantity = u64::from(hold.quantity);
                let drop = self.drops.get_mut(&hold.drop_id).expect("known drop");
                drop.held -= quantity;
                drop.remaining += quantity;
                let units = self.buyer_units.get_mut(&(hold.drop_id, hold.buyer_id)).expect("buyer units of a hold");
                *units -= hold.quantity;
                self.deadlines.remove(&(hold.expires_at, Deadline::HoldExpiry(*hold_id)));
            }
            Event::PaymentDeclined { cart_id, .. } => {
                self.carts.get_mut(cart_id).expect("known cart").declined_payments += 1;
            }
            Event::OrderPlaced { order } => {
                self.note_id(order.id.0);
                let cart = self.carts.get_mut(&order.cart_id).expect("known cart");
                assert_eq!(cart.status, CartStatus::Open, "cart {} checked out twice", cart.id);
                cart.status = CartStatus::CheckedOut(order.id);
                self.open_carts.remove(&(cart.buyer_id, cart.room_id));
                self.orders.insert(order.id, order.clone());
            }
            Event::HoldsSold { drop_id, hold_ids, quantity, .. } => {
                let mut n_units = 0;
                for hold_id in hold_ids {
                    let hold = self.holds.get_mut(hold_id).expect("known hold");
                    assert_eq!(hold.status, HoldStatus::Active, "hold {hold_id} sold while not active");
                    hold.status = HoldStatus::Sold;
                    n_units += u64::from(hold.quantity);
                    self.deadlines.remove(&(hold.expires_at, Deadline::HoldExpiry(*hold_id)));
                }
                assert_eq!(n_units, *quantity, "holds_sold quantity matches its holds");
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                drop.held -= quantity;
                drop.sold += quantity;
            }
            Event::LogCheckpointed { .. } => {} // about the log, not the state
            Event::RefundRequested { .. }
            | Event::RefundApproved { .. }
            | Event::RefundRejected { .. }
            | Event::RefundExecuted { .. }
            | Event::UnitsRefunded { .. } => self.apply_refund_event(event),
            Event::RiskDecided { cart_id, verdict, .. } => {
                if let (Some(cart_id), Action::Review) = (cart_id, verdict.action) {
                    self.carts.get_mut(cart_id).expect("known cart").flagged_for_review = true;
                }
            }
            Event::RiskRulesSaved { text, version, .. } => {
                self.risk_rules = Some((text.clone(), *version));
            }
            Event::OrderReviewed { order_id, approved, reason, at, .. } => {
                let order = self.orders.get_mut(order_id).expect("known order");
                let review = order.review.as_mut().expect("an order under review");
                assert_eq!(review.status, ReviewStatus::Pending, "order {order_id} reviewed twice");
                review.status = if *approved { ReviewStatus::Approved } else { ReviewStatus::Rejected };
                review.reason = reason.clone();
                review.decided_at = Some(*at);
                if *approved {
                    self.release_digital_lines(*order_id, *at);
                }
            }
            Event::TemplateSaved { template } => {
                self.note_id(template.id.0);
                self.apply_room_event(event);
            }
            Event::EpisodeScheduled { episode } => {
                self.note_id(episode.id.0);
                self.apply_room_event(event);
            }
            Event::EpisodeStarted { episode_id, .. } => {
                self.apply_room_event(event);
                if let Some(at) = self.room_book.episodes.get(episode_id).and_then(episode_end_deadline) {
                    self.deadlines.insert((at, Deadline::EpisodeEnd(*episode_id)));
                }
            }
            Event::EpisodeEnded { episode_id, .. } => {
                if let Some(at) = self.room_book.episodes.get(episode_id).and_then(episode_end_deadline) {
                    self.deadlines.remove(&(at, Deadline::EpisodeEnd(*episode_id)));
                }
                self.apply_room_event(event);
            }
            Event::StageChanged { .. }
            | Event::PollVoted { .. }
            | Event::QuestionAsked { .. }
            | Event::QuestionUpvoted { .. }
            | Event::QuestionResolved { .. }
            | Event::DropPinned { .. }
            | Event::DropUnpinned { .. }
            | Event::DemoStarted { .. }
            | Event::DemoStopped { .. }
            | Event::PollStarted { .. }
            | Event::PollClosed { .. } => self.apply_room_event(event),
            Event::InboundSecretSet { account_id, secret, previous_expire_at, .. } => {
                self.set_inbound_secret(*account_id, secret, *previous_expire_at)
            }
            Event::StockCounted { .. }
            | Event::ReconciliationOpened { .. }
            | Event::ReconciliationDecided { .. }
            | Event::StockWrittenOff { .. } => self.apply_reconciliation_event(event),
            Event::FulfilmentOpened { .. } | Event::FulfilmentChanged { .. } | Event::PickupCodeRejected { .. } => {
                self.apply_fulfilment_event(event)
            }
            Event::WebhookEndpointCreated { .. }
            | Event::WebhookSecretRotated { .. }
            | Event::WebhookEndpointDisabled { .. }
            | Event::WebhookRedeliveryRequested { .. }
            | Event::WebhookAttempted { .. } => self.apply_webhook_event(event),
            Event::SplitContractProposed { .. }
            | Event::SplitContractAnswered { .. }
            | Event::PayoutProfileSet { .. }
            | Event::PayoutProfileCleared { .. }
            | Event::PayoutRulesSaved { .. }
            | Event::LedgerPosted { .. }
            | Event::SettlementStarted { .. }
            | Event::BookSettled { .. }
            | Event::PayoutCreated { .. }
            | Event::PayoutSent { .. }
            | Event::PayoutFailed { .. }
            | Event::ChargeUnused { .. }
            | Event::ChargeReleased { .. }
            | Event::DisputeOpened { .. }
            | Event::DisputeDecided { .. } => self.apply_money_event(event),
            Event::IdempotencyRecorded { partition, owner, key, fingerprint, outcome, at } => {
                self.record_answer((*partition, *owner, digest(key)), digest(fingerprint), outcome.clone(), *at);
            }
        }
    }
}
