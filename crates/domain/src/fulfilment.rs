//! Fulfilment orders: what happens to a paid order line of a physical product after the sale. One
//! per line, fulfilled by the partner the drop's split contract names for its method (a venue for
//! pickup, a logistics partner for shipping) or else by the creator, moving through the states of
//! Shopify's FulfillmentOrder and Uber Direct's deliveries, with a time and an author per change.

use crate::{AccountId, DropId, Fulfilment, FulfilmentId, HoldId, OrderId, ProductId, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentState {
    Open,
    Accepted,
    ReadyForPickup,
    PickedUp,
    InTransit,
    Delivered,
    Cancelled,
    Returned,
}

impl FulfilmentState {
    pub const ALL: [FulfilmentState; 8] = [
        FulfilmentState::Open,
        FulfilmentState::Accepted,
        FulfilmentState::ReadyForPickup,
        FulfilmentState::PickedUp,
        FulfilmentState::InTransit,
        FulfilmentState::Delivered,
        FulfilmentState::Cancelled,
        FulfilmentState::Returned,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FulfilmentState::Open => "open",
            FulfilmentState::Accepted => "accepted",
            FulfilmentState::ReadyForPickup => "ready_for_pickup",
            FulfilmentState::PickedUp => "picked_up",
            FulfilmentState::InTransit => "in_transit",
            FulfilmentState::Delivered => "delivered",
            FulfilmentState::Cancelled => "cancelled",
            FulfilmentState::Returned => "returned",
        }
    }

    pub fn parse(name: &str) -> Option<FulfilmentState> {
        FulfilmentState::ALL.into_iter().find(|state| state.name() == name)
    }

    /// Whether an order of `method` may go from this state to `to`: open → accepted, then
    /// ready_for_pickup → picked_up (pickup) or in_transit → delivered (shipping); cancelled before
    /// it left the fulfiller's hands, returned after.
    pub fn may_become(self, to: FulfilmentState, method: Fulfilment) -> bool {
        use FulfilmentState::*;
        let pickup = method == Fulfilment::Pickup;
        match (self, to) {
            (Open, Accepted) => true,
            (Accepted, ReadyForPickup) | (ReadyForPickup, PickedUp) => pickup,
            (Accepted, InTransit) | (InTransit, Delivered) => !pickup,
            (Open | Accepted, Cancelled) => true,
            (ReadyForPickup, Cancelled) => pickup,
            (PickedUp, Returned) => pickup,
            (Delivered, Returned) => !pickup,
            _ => false,
        }
    }

    /// The states from this one to `to`, each a legal move from the one before (`to` last), if
    /// `to` lies ahead on the order's path; empty when it is this state.
    pub fn path_to(self, to: FulfilmentState, method: Fulfilment) -> Option<Vec<FulfilmentState>> {
        // The paths are at most four moves long: a breadth-first search over eight states.
        let mut paths: Vec<(FulfilmentState, Vec<FulfilmentState>)> = vec![(self, Vec::new())];
        while let Some((state, path)) = paths.first().cloned() {
            paths.remove(0);
            if state == to {
                return Some(path);
            }
            for next in FulfilmentState::ALL {
                if state.may_become(next, method) && !path.contains(&next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    paths.push((next, longer));
                }
            }
        }
        None
    }

    /// The goods wait at the fulfiller's: not handed over, shipped or called off.
    pub fn is_on_shelf(self) -> bool {
        matches!(self, FulfilmentState::Open | FulfilmentState::Accepted | FulfilmentState::ReadyForPickup)
    }

    /// The goods reached the buyer (and were not returned so far).
    pub fn is_completed(self) -> bool {
        matches!(self, FulfilmentState::PickedUp | FulfilmentState::Delivered)
    }
}

/// One change of a fulfilment order: its new state (or the same, with a new ETA), when, by whom.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FulfilmentChange {
    pub state: FulfilmentState,
    pub at: Timestamp,
    pub by: AccountId,
    /// The delivery or ready-for-pickup time promised with this change, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<Timestamp>,
    /// The partner's own version of the signal this change came from, if it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FulfilmentOrder {
    pub id: FulfilmentId,
    pub order_id: OrderId,
    /// The order line (its hold) this fulfils.
    pub hold_id: HoldId,
    pub drop_id: DropId,
    pub product_id: ProductId,
    pub quantity: u32,
    /// `ship` or `pickup`; digital lines need none.
    pub method: Fulfilment,
    pub creator_id: AccountId,
    pub buyer_id: AccountId,
    /// The partner who fulfils it; `None`: the creator does.
    pub partner_id: Option<AccountId>,
    pub state: FulfilmentState,
    pub eta: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Every change after `open`, oldest first.
    pub changes: Vec<FulfilmentChange>,
    /// For a pickup: the six digits the buyer shows at the venue, which the venue enters to mark it
    /// picked up. Only the buyer is shown it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_code: Option<String>,
    /// When wrong codes were entered, the last `PICKUP_CODE_ATTEMPTS_MAX` of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrong_codes: Vec<Timestamp>,
    /// The version of the partner's signal whose ETA is in force: an ETA of an older one is stale.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub eta_version: u64,
}

fn is_zero(version: &u64) -> bool {
    *version == 0
}

/// What a partner's signal came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalOutcome {
    /// It moved the order forward or promised a new time.
    Applied,
    /// Its version is not newer than one applied, or the order is already further along: nothing
    /// changed.
    Stale,
}

/// Wrong pickup codes allowed within `PICKUP_CODE_WINDOW_MS`; then entering codes waits.
pub const PICKUP_CODE_ATTEMPTS_MAX: usize = 5;
pub const PICKUP_CODE_WINDOW_MS: i64 = 15 * 60 * 1_000;

/// The pickup code of a checkout's `line`-th line: six digits from the checkout's random seed
/// (the engine draws it), mixed with SplitMix64 so each line's code looks unrelated to the others.
pub fn pickup_code(seed: u64, line: usize) -> String {
    let mut z = seed.wrapping_add((line as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("{:06}", z % 1_000_000)
}

impl FulfilmentOrder {
    /// When entering a code is allowed again, if too many wrong ones came lately.
    pub fn codes_locked_until(&self, now: Timestamp) -> Option<Timestamp> {
        let recent: Vec<&Timestamp> =
            self.wrong_codes.iter().filter(|at| at.0 > now.0 - PICKUP_CODE_WINDOW_MS).collect();
        (recent.len() >= PICKUP_CODE_ATTEMPTS_MAX).then(|| Timestamp(recent[0].0 + PICKUP_CODE_WINDOW_MS))
    }

    /// Who moves it: the partner, or the creator when no partner was assigned.
    pub fn fulfiller(&self) -> AccountId {
        self.partner_id.unwrap_or(self.creator_id)
    }
}

#[cfg(test)]
mod tests {
    use super::FulfilmentState::{self, *};
    use crate::Fulfilment;

    /// Every pair of states, for both methods: exactly these moves are legal.
    #[test]
    fn only_the_listed_moves_are_legal() {
        let pickup = [
            (Open, Accepted),
            (Open, Cancelled),
            (Accepted, ReadyForPickup),
            (Accepted, Cancelled),
            (ReadyForPickup, PickedUp),
            (ReadyForPickup, Cancelled),
            (PickedUp, Returned),
        ];
        let ship = [
            (Open, Accepted),
            (Open, Cancelled),
            (Accepted, InTransit),
            (Accepted, Cancelled),
            (InTransit, Delivered),
            (Delivered, Returned),
        ];
        for (method, legal) in [(Fulfilment::Pickup, &pickup[..]), (Fulfilment::Ship, &ship[..])] {
            for from in FulfilmentState::ALL {
                for to in FulfilmentState::ALL {
                    assert_eq!(
                        from.may_become(to, method),
                        legal.contains(&(from, to)),
                        "{method:?}: {from:?} -> {to:?}"
                    );
                }
            }
        }
        for state in FulfilmentState::ALL {
            assert_eq!(FulfilmentState::parse(state.name()), Some(state));
        }
    }
}
