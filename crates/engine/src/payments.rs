//! The payment provider interface and the built-in test provider.
//!
//! Payment is I/O, so it happens outside the shard: the engine quotes the cart, charges the quoted
//! total, then asks the shard to complete the order with the result. A charge whose order could not be
//! completed (the cart changed meanwhile) is refunded whole; an approved refund of an order is paid
//! back (in part or whole) the same way, before the shard records it as executed. Charges are
//! listed by creation time so the reconciliation sweep finds those the journal never heard of
//! ([0027](../../../docs/decisions/0027-orphan-charges.md)).

use crate::clock::{Clock, SystemClock};
use domain::{CartId, Money, Timestamp};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Clone, Debug)]
pub struct ChargeRequest {
    pub amount: Money,
    pub payment_method: String,
    /// Retries with the same key return the first result instead of charging twice.
    pub idempotency_key: String,
    pub description: String,
    /// Kept with the charge (Stripe: `metadata[cart_id]`), so a charge the journal never heard of
    /// can be matched to the cart's shard when it is listed.
    pub cart_id: CartId,
    /// This livedrop's journal (`Engine::journal_id`), kept with the charge too
    /// (`metadata[livedrop_journal]`): cart ids are small and repeat across deployments, so a sweep
    /// must only ever touch the charges its own journal made.
    pub journal_id: String,
}

/// Charges listed per call at most (Stripe's `limit` is at most 100; an adapter asks for several
/// of its pages per call).
pub const CHARGES_PAGE_MAX: usize = 1_000;

/// A charge as the provider lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeRecord {
    pub charge_id: String,
    pub amount: Money,
    /// From the charge's metadata; `None` for a charge another system made on the same account.
    pub cart_id: Option<CartId>,
    /// From the charge's metadata; another deployment's (or none) for charges this one did not make.
    pub journal_id: Option<String>,
    /// By the provider's clock.
    pub created_at: Timestamp,
    /// Nothing is left of it to pay back.
    pub fully_refunded: bool,
}

/// One call's worth of charges; with `has_more`, ask again `starting_after` the last one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChargePage {
    pub charges: Vec<ChargeRecord>,
    pub has_more: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    Approved { charge_id: String },
    Declined { decline_code: String },
}

/// Paying back (part of) a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    pub charge_id: String,
    /// `None` pays back whatever of the charge is not refunded yet (a charge no order kept).
    pub amount: Option<Money>,
    /// Retries with the same key answer the first refund instead of paying back twice.
    pub idempotency_key: String,
}

impl RefundRequest {
    /// The whole of a charge that no order kept; one key per charge, so asking twice pays once.
    pub fn whole_charge(charge_id: &str) -> RefundRequest {
        RefundRequest {
            charge_id: charge_id.to_owned(),
            amount: None,
            idempotency_key: format!("ld_unused_{charge_id}"),
        }
    }
}

/// The provider's record of a refund it paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundReceipt {
    pub refund_id: String,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PaymentError {
    #[error("unknown payment method {0}")]
    UnknownPaymentMethod(String),
    #[error("the payment provider failed: {0}")]
    Provider(String),
}

/// A payment provider. `charge` must be idempotent per `idempotency_key` (the same key answers the
/// first result, and a reused key with other parameters is an error, as with Stripe). So must
/// `refund`, per its `idempotency_key`: the engine asks again after a failure or a restart, and must
/// get the first refund back, never a second one. A refund beyond what is left of the charge fails.
///
/// `charges_created` lists the approved charges created in `[from, to)` by the provider's clock, at
/// most `CHARGES_PAGE_MAX` per call, each once, in an order that does not change between calls;
/// `starting_after` (a charge id of the previous page) continues a listing. A Stripe adapter maps it
/// to `GET /v1/charges?created[gte]=from&created[lt]=to&limit=100&starting_after=…`, with the cart
/// id from `metadata[cart_id]` (set from `ChargeRequest::cart_id`) and `refunded` as
/// `fully_refunded`.
pub trait PaymentProvider: Send + Sync + 'static {
    fn charge(&self, request: ChargeRequest) -> BoxFuture<'_, Result<Charge, PaymentError>>;
    fn refund(&self, request: &RefundRequest) -> BoxFuture<'_, Result<RefundReceipt, PaymentError>>;
    fn charges_created(
        &self,
        from: Timestamp,
        to: Timestamp,
        starting_after: Option<String>,
    ) -> BoxFuture<'_, Result<ChargePage, PaymentError>>;
}

/// Answers by idempotency key with the amount and method they were given, and the keys oldest first
/// for eviction.
type ChargeCache = (HashMap<String, (Money, String, Charge)>, VecDeque<String>);

/// Charges remembered for idempotent retries; the oldest are forgotten first.
const TEST_CHARGES_REMEMBERED_MAX: usize = 100_000;

/// Mirrors Stripe's test payment methods, without a network: `pm_card_visa` (and the other
/// `pm_card_<brand>` ids) succeed, `pm_card_chargeDeclined…` ids decline with Stripe's codes.
/// Charges are stamped with its clock (the system's unless given one) and listed from memory: like
/// everything else it knows, its listing is empty again after a restart of the process.
pub struct TestPaymentProvider {
    /// Part of every charge and refund id, so ids differ between processes, as a real provider's do
    /// (the test provider forgets everything on restart, and the serials start again).
    instance: u32,
    charges: Mutex<ChargeCache>,
    n_charges: std::sync::atomic::AtomicU64,
    refunds: Mutex<TestRefunds>,
    /// Set by tests: every refund fails as a provider outage would.
    #[cfg(any(test, feature = "test-hooks"))]
    refunds_failing: std::sync::atomic::AtomicBool,
    latency: std::time::Duration,
    clock: std::sync::Arc<dyn Clock>,
}

/// Refunds the test provider paid, by key, with what each charge was charged and paid back.
#[derive(Default)]
struct TestRefunds {
    by_key: HashMap<String, (RefundRequest, RefundReceipt)>,
    /// Amounts charged, so a refund beyond a charge fails. A charge it does not know (one from
    /// before a restart: the test provider forgets everything) is refunded without that check.
    charged: HashMap<String, Money>,
    /// The same charges in the order they were made, for the listing.
    created: Vec<(Timestamp, String, CartId, String)>,
    refunded_minor: HashMap<String, i64>,
    paid: Vec<(RefundRequest, RefundReceipt)>,
}

impl Default for TestPaymentProvider {
    fn default() -> TestPaymentProvider {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        TestPaymentProvider {
            instance: since_epoch.subsec_nanos() ^ (since_epoch.as_secs() as u32),
            charges: Mutex::default(),
            n_charges: std::sync::atomic::AtomicU64::default(),
            refunds: Mutex::default(),
            #[cfg(any(test, feature = "test-hooks"))]
            refunds_failing: std::sync::atomic::AtomicBool::default(),
            latency: std::time::Duration::ZERO,
            clock: std::sync::Arc::new(SystemClock),
        }
    }
}

impl TestPaymentProvider {
    /// A provider that takes `latency` to answer each charge, as a real one does over the network.
    pub fn with_latency(latency: std::time::Duration) -> TestPaymentProvider {
        TestPaymentProvider { latency, ..TestPaymentProvider::default() }
    }

    /// Stamps charges with `clock` (a test's manual clock, so that a charge's age follows it).
    pub fn with_clock(self, clock: std::sync::Arc<dyn Clock>) -> TestPaymentProvider {
        TestPaymentProvider { clock, ..self }
    }

    /// Charges approved so far (a retry answered from the idempotency cache is not a new charge).
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn n_approved(&self) -> u64 {
        self.n_charges.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The charge of each refund paid so far, oldest first (kept for tests; bounded like the charge
    /// cache). A retry answered under the same key is not a new refund.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn refunded_charge_ids(&self) -> Vec<String> {
        self.refunds().into_iter().map(|(request, _)| request.charge_id).collect()
    }

    /// Every refund paid so far, oldest first, as asked for and as answered.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn refunds(&self) -> Vec<(RefundRequest, RefundReceipt)> {
        self.refunds.lock().expect("test provider lock").paid.clone()
    }

    /// Makes every refund fail (or work again), as an outage of the provider would.
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn set_refunds_failing(&self, failing: bool) {
        self.refunds_failing.store(failing, std::sync::atomic::Ordering::SeqCst);
    }

    fn decide(&self, payment_method: &str) -> Result<Charge, PaymentError> {
        let decline = |code: &str| Ok(Charge::Declined { decline_code: code.to_owned() });
        match payment_method {
            "pm_card_visa" | "pm_card_visa_debit" | "pm_card_mastercard" | "pm_card_amex" | "pm_card_discover" => {
                let serial = self.n_charges.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                Ok(Charge::Approved { charge_id: format!("ch_test_{:08x}{serial:08x}", self.instance) })
            }
            "pm_card_chargeDeclined" => decline("generic_decline"),
            "pm_card_chargeDeclinedInsufficientFunds" => decline("insufficient_funds"),
            "pm_card_chargeDeclinedFraudulent" => decline("fraudulent"),
            "pm_card_chargeDeclinedExpiredCard" => decline("expired_card"),
            other => Err(PaymentError::UnknownPaymentMethod(other.to_owned())),
        }
    }
}

impl PaymentProvider for TestPaymentProvider {
    fn charge(&self, request: ChargeRequest) -> BoxFuture<'_, Result<Charge, PaymentError>> {
        Box::pin(async move {
            if !self.latency.is_zero() {
                tokio::time::sleep(self.latency).await;
            }
            let mut guard = self.charges.lock().expect("test provider lock");
            let (by_key, order) = &mut *guard;
            if let Some((amount, method, previous)) = by_key.get(&request.idempotency_key) {
                if (*amount, method) != (request.amount, &request.payment_method) {
                    return Err(PaymentError::Provider("idempotency key reused with other parameters".into()));
                }
                return Ok(previous.clone());
            }
            let charge = self.decide(&request.payment_method)?;
            if order.len() >= TEST_CHARGES_REMEMBERED_MAX
                && let Some(oldest) = order.pop_front()
            {
                by_key.remove(&oldest);
            }
            order.push_back(request.idempotency_key.clone());
            by_key.insert(request.idempotency_key, (request.amount, request.payment_method, charge.clone()));
            if let Charge::Approved { charge_id } = &charge {
                let mut refunds = self.refunds.lock().expect("test provider lock");
                if refunds.charged.len() < TEST_CHARGES_REMEMBERED_MAX {
                    refunds.charged.insert(charge_id.clone(), request.amount);
                    let made = (self.clock.now(), charge_id.clone(), request.cart_id, request.journal_id.clone());
                    refunds.created.push(made);
                }
            }
            Ok(charge)
        })
    }

    fn refund(&self, request: &RefundRequest) -> BoxFuture<'_, Result<RefundReceipt, PaymentError>> {
        let request = request.clone();
        Box::pin(async move {
            #[cfg(any(test, feature = "test-hooks"))]
            if self.refunds_failing.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(PaymentError::Provider("refunds are failing (test switch)".into()));
            }
            let mut guard = self.refunds.lock().expect("test provider lock");
            let refunds = &mut *guard;
            if let Some((first, receipt)) = refunds.by_key.get(&request.idempotency_key) {
                if *first != request {
                    return Err(PaymentError::Provider("idempotency key reused with other parameters".into()));
                }
                return Ok(receipt.clone());
            }
            let charged = refunds.charged.get(&request.charge_id).copied();
            let already = refunds.refunded_minor.get(&request.charge_id).copied().unwrap_or(0);
            let amount_minor = match (request.amount, charged) {
                (Some(amount), Some(charged)) if amount.currency != charged.currency => {
                    return Err(PaymentError::Provider("refund in another currency than the charge".into()));
                }
                (Some(amount), _) => amount.minor,
                (None, Some(charged)) => charged.minor - already,
                (None, None) => 0,
            };
            if amount_minor < 0 || charged.is_some_and(|charged| already + amount_minor > charged.minor) {
                return Err(PaymentError::Provider("refund exceeds what is left of the charge".into()));
            }
            let serial = refunds.paid.len() + 1;
            let receipt = RefundReceipt { refund_id: format!("re_test_{:08x}{serial:08x}", self.instance) };
            tracing::info!(charge_id = %request.charge_id, amount_minor, refund_id = %receipt.refund_id, "test provider refunded");
            *refunds.refunded_minor.entry(request.charge_id.clone()).or_insert(0) += amount_minor;
            if refunds.paid.len() < TEST_CHARGES_REMEMBERED_MAX {
                refunds.by_key.insert(request.idempotency_key.clone(), (request.clone(), receipt.clone()));
                refunds.paid.push((request, receipt.clone()));
            }
            Ok(receipt)
        })
    }

    fn charges_created(
        &self,
        from: Timestamp,
        to: Timestamp,
        starting_after: Option<String>,
    ) -> BoxFuture<'_, Result<ChargePage, PaymentError>> {
        Box::pin(async move {
            let refunds = self.refunds.lock().expect("test provider lock");
            let mut listed = refunds.created.iter().filter(|(at, ..)| (from..to).contains(at));
            if let Some(after) = &starting_after
                && listed.by_ref().all(|(_, charge_id, ..)| charge_id != after)
            {
                return Err(PaymentError::Provider(format!("starting_after {after}: no such charge listed")));
            }
            let mut charges: Vec<ChargeRecord> = listed
                .take(CHARGES_PAGE_MAX + 1)
                .map(|(created_at, charge_id, cart_id, journal_id)| {
                    let amount = refunds.charged[charge_id];
                    let refunded_minor = refunds.refunded_minor.get(charge_id).copied().unwrap_or(0);
                    ChargeRecord {
                        charge_id: charge_id.clone(),
                        amount,
                        cart_id: Some(*cart_id),
                        journal_id: Some(journal_id.clone()),
                        created_at: *created_at,
                        fully_refunded: refunded_minor >= amount.minor,
                    }
                })
                .collect();
            let has_more = charges.len() > CHARGES_PAGE_MAX;
            charges.truncate(CHARGES_PAGE_MAX);
            Ok(ChargePage { charges, has_more })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money { minor, currency: "EUR".parse().unwrap() }
    }

    #[tokio::test]
    async fn refunds_are_idempotent_per_key_and_never_exceed_the_charge() {
        let provider = TestPaymentProvider::default();
        let charge = ChargeRequest {
            amount: eur(1_000),
            payment_method: "pm_card_visa".into(),
            idempotency_key: "charge-1".into(),
            description: "test".into(),
            cart_id: domain::CartId(domain::EntityId { partition: 1, serial: 1 }),
            journal_id: "j1".into(),
        };
        let Charge::Approved { charge_id } = provider.charge(charge).await.unwrap() else { panic!("declined") };
        let refund = |key: &str, minor: Option<i64>| RefundRequest {
            charge_id: charge_id.clone(),
            amount: minor.map(eur),
            idempotency_key: key.into(),
        };
        let first = provider.refund(&refund("r1", Some(600))).await.unwrap();
        assert_eq!(provider.refund(&refund("r1", Some(600))).await.unwrap(), first, "same key, same refund");
        assert!(provider.refund(&refund("r1", Some(500))).await.is_err(), "a key reused with another amount");
        assert!(provider.refund(&refund("r2", Some(401))).await.is_err(), "beyond what is left of the charge");
        let rest = provider.refund(&refund("r3", None)).await.unwrap();
        assert_ne!(rest, first);
        assert!(provider.refund(&refund("r4", Some(1))).await.is_err(), "nothing is left");
        let paid: Vec<Option<i64>> =
            provider.refunds().iter().map(|(request, _)| request.amount.map(|a| a.minor)).collect();
        assert_eq!(paid, vec![Some(600), None]);
        provider.set_refunds_failing(true);
        assert!(provider.refund(&refund("r1", Some(600))).await.is_err());
    }

    #[tokio::test]
    async fn charges_are_listed_by_creation_time_page_after_page() {
        let clock = std::sync::Arc::new(crate::ManualClock::new(Timestamp(1_000)));
        let provider = TestPaymentProvider::default().with_clock(clock.clone());
        let cart_id = domain::CartId(domain::EntityId { partition: 3, serial: 7 });
        let charge = async |key: String| {
            let request = ChargeRequest {
                amount: eur(500),
                payment_method: "pm_card_visa".into(),
                idempotency_key: key,
                description: "test".into(),
                cart_id,
                journal_id: "j1".into(),
            };
            let Charge::Approved { charge_id } = provider.charge(request).await.unwrap() else { panic!("declined") };
            charge_id
        };
        let before = charge("before".into()).await;
        clock.advance_ms(10);
        let mut made = Vec::new();
        for n in 0..2 * CHARGES_PAGE_MAX + 5 {
            made.push(charge(format!("in-{n}")).await);
        }
        assert_eq!(charge("in-0".into()).await, made[0], "a retry is no new charge");
        clock.advance_ms(10);
        let after = charge("after".into()).await;
        provider.refund(&RefundRequest::whole_charge(&made[0])).await.unwrap();
        let part = RefundRequest { charge_id: made[1].clone(), amount: Some(eur(1)), idempotency_key: "p".into() };
        provider.refund(&part).await.unwrap();

        let (mut listed, mut pages, mut starting_after) = (Vec::new(), Vec::new(), None);
        loop {
            let page =
                provider.charges_created(Timestamp(1_010), Timestamp(1_020), starting_after.take()).await.unwrap();
            pages.push((page.charges.len(), page.has_more));
            starting_after = page.charges.last().map(|record| record.charge_id.clone());
            listed.extend(page.charges);
            if !pages.last().unwrap().1 {
                break;
            }
        }
        assert_eq!(pages, vec![(CHARGES_PAGE_MAX, true), (CHARGES_PAGE_MAX, true), (5, false)]);
        let ids: Vec<&String> = listed.iter().map(|record| &record.charge_id).collect();
        assert_eq!(ids, made.iter().collect::<Vec<_>>(), "each once, oldest first, none outside the window");
        assert!(!ids.contains(&&before) && !ids.contains(&&after));
        let first = &listed[0];
        assert_eq!((first.amount, first.created_at, first.fully_refunded), (eur(500), Timestamp(1_010), true));
        assert_eq!((first.cart_id, first.journal_id.as_deref()), (Some(cart_id), Some("j1")));
        assert!(!listed[1].fully_refunded, "partly refunded only");
        let unknown = provider.charges_created(Timestamp(0), Timestamp(2_000), Some("ch_nope".into())).await;
        assert!(unknown.is_err());
    }
}
