//! A sale's split into the platform fee and the payees' earnings, and a refund's reversal of it.
//!
//! Each order line is split on its own (its drop may name a split contract): the platform takes
//! `fee_bps` of the line, the partners their `share_bps` of what is left, the creator the rest, all
//! by the largest remainder rule with ties to the creator, so the parts sum to the line exactly. A
//! refund of a line splits its amount over what each party still has of that line, by the same rule,
//! so a full refund returns exactly what each party got.

use super::super::State;
use super::{Draft, take_back};
use crate::ledger::{Cause, Earning, EarningRole, LedgerAccount, LedgerTransaction, RefundPart, SaleLine, allocate};
use crate::limits::{BPS_WHOLE, DAY_MS};
use crate::{AccountId, CartId, HoldStatus, LedgerTxId, Order, Refund, SaleTerms, Timestamp};
use std::collections::BTreeMap;

impl State {
    /// Who a checkout of `cart_id` would pay: the creator and the partners of the split contracts of
    /// the drops of its active holds.
    pub fn cart_payees(&self, cart_id: CartId) -> Vec<AccountId> {
        let Some(cart) = self.carts.get(&cart_id) else { return Vec::new() };
        let mut payees = vec![self.rooms[&cart.room_id].creator_id];
        for hold in cart.hold_ids.iter().map(|id| &self.holds[id]).filter(|hold| hold.status == HoldStatus::Active) {
            let contract = self.drops[&hold.drop_id].split_contract_id.map(|id| &self.money.contracts[&id]);
            for share in contract.into_iter().flat_map(|contract| &contract.shares) {
                if !payees.contains(&share.partner_id) {
                    payees.push(share.partner_id);
                }
            }
        }
        payees
    }

    /// The transaction that records `order`'s charge: the fee and each payee's earning per line;
    /// `None` for a free order, which moves no money.
    pub(in crate::state) fn sale_transaction(
        &self,
        id: LedgerTxId,
        order: &Order,
        terms: &SaleTerms,
    ) -> Option<LedgerTransaction> {
        let fee_bps = terms.fee_bps.min(BPS_WHOLE);
        let net_bps = u64::from(BPS_WHOLE - fee_bps);
        let mut draft = Draft::default();
        let mut lines = Vec::with_capacity(order.lines.len());
        for line in &order.lines {
            let amount = line.unit_price.minor * i64::from(line.quantity);
            let contract = self.drops[&line.drop_id].split_contract_id.map(|id| &self.money.contracts[&id]);
            let shares = contract.map(|contract| contract.shares.as_slice()).unwrap_or(&[]);
            let creator_bps = BPS_WHOLE - shares.iter().map(|share| share.share_bps).sum::<u32>();
            // Index 0 is the creator (ties go there), 1 the platform, then the partners in contract order.
            let mut weights = vec![net_bps * u64::from(creator_bps), u64::from(fee_bps) * u64::from(BPS_WHOLE)];
            weights.extend(shares.iter().map(|share| net_bps * u64::from(share.share_bps)));
            let parts = allocate(amount, &weights);
            let payees = std::iter::once((order.creator_id, EarningRole::Creator, parts[0])).chain(
                shares.iter().zip(&parts[2..]).map(|(share, &part)| (share.partner_id, EarningRole::Partner, part)),
            );
            let mut earnings = Vec::with_capacity(1 + shares.len());
            for (payee, role, part) in payees {
                let profile = terms.profile_of(payee);
                let reserved = part * i64::from(profile.reserve_bps) / i64::from(BPS_WHOLE);
                let available_at = order.paid_at.plus_ms(u64::from(profile.delay_days) * DAY_MS);
                let reserve_until =
                    (reserved > 0).then(|| order.paid_at.plus_ms(u64::from(profile.reserve_days) * DAY_MS));
                draft.credit(LedgerAccount::Pending(payee), part - reserved);
                draft.credit(LedgerAccount::Reserved(payee), reserved);
                earnings.push(Earning {
                    payee,
                    role,
                    amount_minor: part,
                    reserved_minor: reserved,
                    available_at,
                    reserve_until,
                    profile,
                });
            }
            draft.credit(LedgerAccount::PlatformFees, parts[1]);
            lines.push(SaleLine { hold_id: line.hold_id, amount_minor: amount, fee_minor: parts[1], earnings });
        }
        draft.debit(LedgerAccount::ProcessorClearing, order.total.minor);
        if draft.is_empty() {
            return None;
        }
        let cause = Cause::Sale { order_id: order.id, fee_bps, lines };
        Some(draft.into_transaction(id, order.total.currency, cause, order.paid_at))
    }

    /// The transaction that takes an executed refund back from the parties of its lines; `None` for
    /// an order paid before the ledger existed, which has no split to reverse.
    pub(in crate::state) fn refund_transaction(
        &self,
        id: LedgerTxId,
        refund: &Refund,
        now: Timestamp,
    ) -> Option<LedgerTransaction> {
        let order = self.money.orders.get(&refund.order_id)?;
        let balances = &self.money.books.get(&refund.order_id.partition())?.balances;
        let currency = order.currency;
        // Available money already taken by earlier lines of this refund, per payee.
        let mut taken: BTreeMap<AccountId, i64> = BTreeMap::new();
        let mut draft = Draft::default();
        let mut parts = Vec::new();
        for line in &refund.lines {
            let amount = line.unit_price.minor * i64::from(line.quantity);
            let money = order.lines.iter().find(|money| money.hold_id == line.hold_id)?;
            let mut weights: Vec<u64> = money.earnings.iter().map(|earning| earning.remaining() as u64).collect();
            weights.push((money.fee - money.fee_refunded - money.fee_disputed) as u64);
            let shares = allocate(amount, &weights);
            for (earning, &share) in money.earnings.iter().zip(&shares) {
                parts.push(take_back(&mut draft, balances, currency, &mut taken, line.hold_id, earning, share, false));
            }
            let fee_share = shares[money.earnings.len()];
            draft.debit(LedgerAccount::PlatformFees, fee_share);
            parts.push(RefundPart {
                hold_id: line.hold_id,
                payee: None,
                amount_minor: fee_share,
                from_pending_minor: 0,
                from_reserved_minor: 0,
                from_available_minor: 0,
                owed_minor: 0,
            });
        }
        draft.credit(LedgerAccount::ProcessorClearing, refund.amount.minor);
        if draft.is_empty() {
            return None;
        }
        let cause = Cause::Refund { refund_id: refund.id, order_id: refund.order_id, parts };
        Some(draft.into_transaction(id, currency, cause, now))
    }
}
