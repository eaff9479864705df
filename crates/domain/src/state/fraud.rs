//! The platform's side of fraud: saving the rules (kept by partition 0's shard) and an admin's review
//! of an order the rules held. The rules are evaluated outside the domain; only their text and the
//! decisions about flagged orders are state.

use super::decision::{Decision, ReadBack};
use super::{State, check_title, require_role};
use crate::limits::RISK_RULES_BYTES_MAX;
use crate::{Actor, Event, OrderId, Rejection, Reply, ReviewStatus, Role, Timestamp};
use risk::{RuleError, RuleSet};
use std::sync::Arc;

impl State {
    pub(super) fn decide_save_risk_rules(
        &self,
        now: Timestamp,
        actor: &Actor,
        text: &str,
        rules: &Result<Arc<RuleSet>, Vec<RuleError>>,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Admin)?;
        if text.len() > RISK_RULES_BYTES_MAX {
            return Err(Rejection::invalid("rules", format!("must be at most {RISK_RULES_BYTES_MAX} bytes")));
        }
        if let Err(errors) = rules {
            return Err(Rejection::invalid_text("rules", errors));
        }
        let version = self.risk_rules.as_ref().map_or(0, |(_, version)| *version) + 1;
        let saved = Event::RiskRulesSaved { text: text.to_owned(), version, at: now, by: Some(actor.id) };
        Ok(Decision::immediate(vec![saved], Ok(Reply::RiskRules { text: text.to_owned(), version })))
    }

    pub(super) fn decide_review_order(
        &self,
        now: Timestamp,
        actor: &Actor,
        order_id: OrderId,
        approve: bool,
        reason: Option<&str>,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Admin)?;
        let order = self.orders.get(&order_id).ok_or(Rejection::NotFound)?;
        if let Some(reason) = reason {
            check_title("reason", reason)?;
        }
        match &order.review {
            Some(review) if review.status == ReviewStatus::Pending => {
                let reason_text = reason.map(str::to_owned);
                let reviewed = Event::OrderReviewed {
                    order_id,
                    approved: approve,
                    reason: reason_text,
                    at: now,
                    by: Some(actor.id),
                };
                let mut events = vec![reviewed];
                // A rejected order is paid back whole, at once: the platform's own decision
                // needs no second sign-off.
                if !approve {
                    events.extend(self.refund_rejected_order(now, actor, order, reason));
                    events.extend(self.cancel_fulfilment(order_id, |_| true, actor.id, now));
                }
                Ok(Decision::read_back(events, ReadBack::Order(order_id)))
            }
            _ => Err(Rejection::OrderNotInReview),
        }
    }
}
