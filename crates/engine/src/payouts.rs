//! The payout provider interface and the built-in sandbox provider.
//!
//! A payout's intent (`PayoutCreated`) is journaled before the provider is called, and the
//! provider's idempotency key is derived from the payout id, so however often a payout is sent (a
//! retry, the next window, the scan at start-up after a crash) the payee is paid once.

use crate::payments::{BoxFuture, PaymentError};
use domain::{AccountId, Money, PayoutId};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The provider's idempotency key for a payout: one per payout, forever.
pub fn payout_key(payout_id: PayoutId) -> String {
    format!("ld_payout_{payout_id}")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayoutRequest {
    pub idempotency_key: String,
    pub payee: AccountId,
    pub amount: Money,
}

/// What the provider did with a payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutAnswer {
    Paid {
        provider_payout_id: String,
    },
    /// Refused for good (a closed bank account, say): the money goes back to available.
    Refused {
        reason: String,
    },
}

/// A payout provider. `payout` must be idempotent per `idempotency_key`: asked again, it answers
/// the first payout's result and never pays twice. An `Err` is a transport failure: the payout is
/// neither paid nor refused and is sent again later.
pub trait PayoutProvider: Send + Sync + 'static {
    fn payout(&self, request: PayoutRequest) -> BoxFuture<'_, Result<PayoutAnswer, PaymentError>>;
}

/// A sandbox that pays every payout and remembers each by key in an append-only file (fsynced before
/// it answers), as a real provider remembers its idempotency keys across the caller's crashes. Its
/// file is the provider's side of the books: a payout counted there twice would be a double payment.
pub struct SandboxPayouts {
    file: Option<Mutex<std::fs::File>>,
    paid: Mutex<HashMap<String, PayoutAnswer>>,
    /// Payees whose payouts are refused, for tests of failed payouts.
    #[cfg(any(test, feature = "test-hooks"))]
    refused: Mutex<std::collections::HashSet<AccountId>>,
}

/// The sandbox's record file in a data directory.
pub const SANDBOX_PAYOUTS_FILE: &str = "payouts-sandbox.jsonl";

impl SandboxPayouts {
    /// A sandbox that forgets everything on restart.
    pub fn in_memory() -> SandboxPayouts {
        SandboxPayouts {
            file: None,
            paid: Mutex::new(HashMap::new()),
            #[cfg(any(test, feature = "test-hooks"))]
            refused: Mutex::default(),
        }
    }

    /// A sandbox that keeps its payouts in `path` (created owner-only if missing, with its
    /// directory: it is opened before the journal creates the data directory).
    pub fn open(path: &Path) -> std::io::Result<SandboxPayouts> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            journal::create_private_dir(dir).map_err(std::io::Error::other)?;
        }
        let mut paid = HashMap::new();
        if path.exists() {
            for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
                let line = line?;
                // One record per line: `<key> <provider payout id> <payee> <amount> <currency>`.
                let mut fields = line.split(' ');
                if let (Some(key), Some(id)) = (fields.next(), fields.next()) {
                    paid.insert(key.to_owned(), PayoutAnswer::Paid { provider_payout_id: id.to_owned() });
                }
            }
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        Ok(SandboxPayouts {
            file: Some(Mutex::new(file)),
            paid: Mutex::new(paid),
            #[cfg(any(test, feature = "test-hooks"))]
            refused: Mutex::default(),
        })
    }

    /// Every payout key the sandbox paid, with how many times its file records it (always once).
    pub fn recorded(path: &Path) -> std::io::Result<HashMap<String, usize>> {
        let mut counts = HashMap::new();
        for line in std::io::BufReader::new(std::fs::File::open(path)?).lines() {
            let line = line?;
            if let Some(key) = line.split(' ').next() {
                *counts.entry(key.to_owned()).or_default() += 1;
            }
        }
        Ok(counts)
    }

    /// Payouts paid so far (this process's view).
    pub fn n_paid(&self) -> usize {
        self.paid.lock().expect("sandbox lock").len()
    }

    #[cfg(any(test, feature = "test-hooks"))]
    pub fn refuse_payee(&self, payee: AccountId, refuse: bool) {
        let mut refused = self.refused.lock().expect("sandbox lock");
        if refuse {
            refused.insert(payee);
        } else {
            refused.remove(&payee);
        }
    }

    fn pay(&self, request: &PayoutRequest) -> Result<PayoutAnswer, PaymentError> {
        let mut paid = self.paid.lock().expect("sandbox lock");
        if let Some(answer) = paid.get(&request.idempotency_key) {
            return Ok(answer.clone());
        }
        #[cfg(any(test, feature = "test-hooks"))]
        if self.refused.lock().expect("sandbox lock").contains(&request.payee) {
            // A refusal is not remembered: the next window's payout has a key of its own anyway.
            return Ok(PayoutAnswer::Refused { reason: "sandbox: the payee's account refuses payouts".to_owned() });
        }
        let provider_payout_id = format!("sbx_po_{}", paid.len() + 1);
        if let Some(file) = &self.file {
            let mut file = file.lock().expect("sandbox file lock");
            let record = format!(
                "{} {provider_payout_id} {} {} {}\n",
                request.idempotency_key, request.payee, request.amount.minor, request.amount.currency
            );
            file.write_all(record.as_bytes())
                .and_then(|()| file.sync_data())
                .map_err(|error| PaymentError::Provider(format!("sandbox payouts file: {error}")))?;
        }
        let answer = PayoutAnswer::Paid { provider_payout_id };
        paid.insert(request.idempotency_key.clone(), answer.clone());
        Ok(answer)
    }
}

impl PayoutProvider for SandboxPayouts {
    fn payout(&self, request: PayoutRequest) -> BoxFuture<'_, Result<PayoutAnswer, PaymentError>> {
        Box::pin(async move { self.pay(&request) })
    }
}

/// Where the sandbox keeps its record in `data_dir`.
pub fn sandbox_payouts_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SANDBOX_PAYOUTS_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `livedrop serve` opens the sandbox first, on a data directory that may not exist yet.
    #[test]
    fn opens_in_a_data_directory_that_does_not_exist_yet() {
        let parent = tempfile::tempdir().unwrap();
        let data_dir = parent.path().join("fresh");
        let path = sandbox_payouts_path(&data_dir);
        let sandbox = SandboxPayouts::open(&path).unwrap();
        let request = PayoutRequest {
            idempotency_key: "ld_payout_test".to_owned(),
            payee: AccountId(domain::EntityId { partition: 1, serial: 1 }),
            amount: Money { minor: 100, currency: "EUR".parse().unwrap() },
        };
        assert!(matches!(sandbox.pay(&request), Ok(PayoutAnswer::Paid { .. })));
        assert_eq!(SandboxPayouts::recorded(&path).unwrap().get("ld_payout_test"), Some(&1));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777, 0o700);
    }
}
