//! The money entities around the ledger: partners' split contracts, payout profiles, settlement
//! windows, payouts and the statement lines they pay.

use crate::{
    AccountId, Currency, DisputeId, Money, OrderId, PayoutId, RefundId, SettlementId, SplitContractId, Timestamp,
};

/// What kind of partner an account is; partners take a share of sales under a split contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    /// A host venue: a revenue slice and local pickup.
    Venue,
    /// Micro-fulfilment and delivery.
    Logistics,
    /// Co-branded limited editions.
    Curator,
}

impl PartnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKind::Venue => "venue",
            PartnerKind::Logistics => "logistics",
            PartnerKind::Curator => "curator",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractState {
    /// Waiting for every named partner to accept.
    Pending,
    /// Every partner accepted: drops may reference it. Immutable from here on.
    Accepted,
    /// A partner rejected it; a new version may be proposed.
    Rejected,
}

impl ContractState {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractState::Pending => "pending",
            ContractState::Accepted => "accepted",
            ContractState::Rejected => "rejected",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SplitShare {
    pub partner_id: AccountId,
    /// Basis points of each sale after the platform fee.
    pub share_bps: u32,
    /// When the partner accepted; `None` while pending.
    pub accepted_at: Option<Timestamp>,
    /// The partner's kind when the contract was proposed: it decides who fulfils what (a venue
    /// pickups, a logistics partner shipping). Absent in contracts proposed before fulfilment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PartnerKind>,
    /// The service the partner agrees to by accepting (a venue's or logistics partner's SLA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<crate::ServiceTerms>,
}

/// A creator's offer of revenue shares to partners. Its shares never change: a different split is
/// a new contract, numbered as the next `version` of the one it replaces.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SplitContract {
    pub id: SplitContractId,
    pub creator_id: AccountId,
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<SplitContractId>,
    pub shares: Vec<SplitShare>,
    pub state: ContractState,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_by: Option<AccountId>,
}

impl SplitContract {
    /// The creator's own share of the part after the platform fee, in basis points.
    pub fn creator_bps(&self) -> u32 {
        10_000 - self.shares.iter().map(|share| share.share_bps).sum::<u32>()
    }
}

/// When a payee's earnings become available: `delay_days` after the sale (0: at the next window's
/// close, "same day"), with `reserve_bps` of each earning held `reserve_days` longer as a rolling
/// reserve. Set by an admin per payee, or by the payout rules; a sale keeps the terms in force when
/// it was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PayoutProfile {
    pub delay_days: u32,
    pub reserve_bps: u32,
    pub reserve_days: u32,
    /// The delay and the reserve of a line end early, at the next window, once it is delivered or
    /// picked up (a digital line: at the sale). Absent (false) in facts written before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub release_on_fulfilment: bool,
}

impl PayoutProfile {
    pub const SAME_DAY: PayoutProfile =
        PayoutProfile { delay_days: 0, reserve_bps: 0, reserve_days: 0, release_on_fulfilment: false };

    pub fn schedule(&self) -> &'static str {
        if self.delay_days == 0 { "same_day" } else { "delayed" }
    }

    /// "same day", "delayed 7 days", "delayed 7 days, 10.00 % reserved 30 days".
    pub fn terms(&self) -> String {
        let mut terms = match self.delay_days {
            0 => "same day".to_owned(),
            1 => "delayed 1 day".to_owned(),
            days => format!("delayed {days} days"),
        };
        if self.reserve_bps > 0 {
            let percent = format!("{}.{:02} %", self.reserve_bps / 100, self.reserve_bps % 100);
            terms.push_str(&format!(", {percent} reserved {} days", self.reserve_days));
        }
        if self.release_on_fulfilment {
            terms.push_str(", released when fulfilled");
        }
        terms
    }
}

/// A settlement window's close: every book matures what is due by `closed_at` and creates payouts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settlement {
    pub id: SettlementId,
    pub closed_at: Timestamp,
    /// The admin who closed it; `None` when the schedule did.
    pub closed_by: Option<AccountId>,
    /// Payouts below this many minor units wait for a later window.
    pub minimum_minor: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutState {
    /// Journaled before the provider is called: the intent.
    Created,
    Paid,
    /// The provider refused it; the amount went back to available for the next window.
    Failed,
}

impl PayoutState {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutState::Created => "created",
            PayoutState::Paid => "paid",
            PayoutState::Failed => "failed",
        }
    }
}

/// Why an amount is in a payout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// An order's earning matured.
    Sale,
    /// A rolling reserve was released.
    ReserveReleased,
    /// A refund took back available money (negative).
    Refund,
    /// A debt from earlier refunds was recovered (negative).
    DebtRecovered,
    /// A failed payout's amount came back.
    PayoutReturned,
    /// A dispute set available money aside (negative).
    Dispute,
    /// A dispute was won: the money set aside is available again.
    DisputeWon,
}

/// One amount a payout pays (or takes back), from when it became available.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatementLine {
    pub kind: LineKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<RefundId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<PayoutId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute_id: Option<DisputeId>,
    pub amount_minor: i64,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payout {
    pub id: PayoutId,
    pub settlement_id: SettlementId,
    pub payee: AccountId,
    pub currency: Currency,
    pub amount_minor: i64,
    pub state: PayoutState,
    pub created_at: Timestamp,
    /// Sum to `amount_minor`.
    pub lines: Vec<StatementLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_payout_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<Timestamp>,
}

/// What the payout provider answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutResult {
    Paid { provider_payout_id: String },
    Failed { reason: String },
}

/// What the engine adds to a checkout so that the sale is decided purely and journaled with it: the
/// platform fee in force, the payees' payout profiles, and the seed of its pickup codes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaleTerms {
    pub fee_bps: u32,
    /// For payees without a profile of their own.
    pub default_profile: PayoutProfile,
    pub profiles: Vec<(AccountId, PayoutProfile)>,
    /// Random (the engine draws it): the pickup codes of the order's lines derive from it.
    pub pickup_seed: u64,
}

impl From<risk::PayoutTerms> for PayoutProfile {
    fn from(terms: risk::PayoutTerms) -> PayoutProfile {
        let risk::PayoutTerms { delay_days, reserve_bps, reserve_days, release_on_fulfilment } = terms;
        PayoutProfile { delay_days, reserve_bps, reserve_days, release_on_fulfilment }
    }
}

/// The payout rule that set a payee's profile: the rules' version and what the rule read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileRule {
    pub rules_version: u64,
    pub verdict: risk::PayoutVerdict,
}

/// A payee's own payout profile, and what set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileInForce {
    pub profile: PayoutProfile,
    /// `None`: an admin set it, and the payout rules leave it alone until an admin clears it.
    pub rule: Option<ProfileRule>,
}

impl ProfileInForce {
    /// Whether a payout rule's outcome is what is in force already: the same terms, set by the
    /// same rule. Another rule giving the same terms is a change: the profile says which rule set it.
    pub fn unchanged_by(&self, profile: &PayoutProfile, verdict: &risk::PayoutVerdict) -> bool {
        let same_rule = self.rule.as_ref().is_some_and(|rule| {
            (rule.verdict.rule_index, &rule.verdict.rule_name) == (verdict.rule_index, &verdict.rule_name)
        });
        self.profile == *profile && same_rule
    }
}

impl Default for PayoutProfile {
    fn default() -> Self {
        PayoutProfile::SAME_DAY
    }
}

impl SaleTerms {
    pub fn profile_of(&self, payee: AccountId) -> PayoutProfile {
        self.profiles.iter().find(|(id, _)| *id == payee).map_or(self.default_profile, |(_, profile)| *profile)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeState {
    /// Each party's share is set aside (`dispute_hold`) until the outcome.
    Open,
    /// The platform won: each share went back where it was taken from.
    Won,
    /// The buyer won: the processor took the amount back from the platform.
    Lost,
}

impl DisputeState {
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeState::Open => "open",
            DisputeState::Won => "won",
            DisputeState::Lost => "lost",
        }
    }
}

/// A chargeback of an order's charge. Opened and decided by an admin, standing in for the payment
/// provider's webhooks; one per order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dispute {
    pub id: DisputeId,
    pub order_id: OrderId,
    pub creator_id: AccountId,
    pub amount: Money,
    pub reason: String,
    pub state: DisputeState,
    pub opened_by: AccountId,
    pub opened_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<AccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
}
