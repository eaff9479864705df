//! The payment provider interface and the built-in test provider.
//!
//! Payment is I/O, so it happens outside the shard: the engine quotes the cart, charges the quoted
//! total, then asks the shard to complete the order with the result. A charge whose order could not be
//! completed (the cart changed meanwhile) is refunded.

use domain::Money;
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
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Charge {
    Approved { charge_id: String },
    Declined { decline_code: String },
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PaymentError {
    #[error("unknown payment method {0}")]
    UnknownPaymentMethod(String),
    #[error("the payment provider failed: {0}")]
    Provider(String),
}

/// A payment provider. `charge` must be idempotent per `idempotency_key` (the same key answers the
/// first result, and a reused key with other parameters is an error, as with Stripe), and `refund`
/// must be idempotent per charge id: the engine may ask twice.
pub trait PaymentProvider: Send + Sync + 'static {
    fn charge(&self, request: ChargeRequest) -> BoxFuture<'_, Result<Charge, PaymentError>>;
    fn refund(&self, charge_id: &str) -> BoxFuture<'_, Result<(), PaymentError>>;
}

/// Answers by idempotency key with the amount and method they were given, and the keys oldest first
/// for eviction.
type ChargeCache = (HashMap<String, (Money, String, Charge)>, VecDeque<String>);

/// Charges remembered for idempotent retries; the oldest are forgotten first.
const TEST_CHARGES_REMEMBERED_MAX: usize = 100_000;

/// Mirrors Stripe's test payment methods, without a network: `pm_card_visa` (and the other
/// `pm_card_<brand>` ids) succeed, `pm_card_chargeDeclined…` ids decline with Stripe's codes.
#[derive(Default)]
pub struct TestPaymentProvider {
    charges: Mutex<ChargeCache>,
    n_charges: std::sync::atomic::AtomicU64,
    refunded: Mutex<Vec<String>>,
    latency: std::time::Duration,
}

impl TestPaymentProvider {
    /// A provider that takes `latency` to answer each charge, as a real one does over the network.
    pub fn with_latency(latency: std::time::Duration) -> TestPaymentProvider {
        TestPaymentProvider { latency, ..TestPaymentProvider::default() }
    }

    /// Charges approved so far (a retry answered from the idempotency cache is not a new charge).
    pub fn n_approved(&self) -> u64 {
        self.n_charges.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Charges refunded so far, oldest first (kept for tests; bounded like the charge cache).
    pub fn refunded_charge_ids(&self) -> Vec<String> {
        self.refunded.lock().expect("test provider lock").clone()
    }

    fn decide(&self, payment_method: &str) -> Result<Charge, PaymentError> {
        let decline = |code: &str| Ok(Charge::Declined { decline_code: code.to_owned() });
        match payment_method {
            "pm_card_visa" | "pm_card_visa_debit" | "pm_card_mastercard" | "pm_card_amex" | "pm_card_discover" => {
                let serial = self.n_charges.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                Ok(Charge::Approved { charge_id: format!("ch_test_{serial:016x}") })
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
            Ok(charge)
        })
    }

    fn refund(&self, charge_id: &str) -> BoxFuture<'_, Result<(), PaymentError>> {
        let charge_id = charge_id.to_owned();
        Box::pin(async move {
            let mut refunded = self.refunded.lock().expect("test provider lock");
            if refunded.contains(&charge_id) {
                return Ok(()); // refunds are idempotent per charge
            }
            tracing::info!(%charge_id, "test provider refunded a charge");
            if refunded.len() < TEST_CHARGES_REMEMBERED_MAX {
                refunded.push(charge_id);
            }
            Ok(())
        })
    }
}
