//! Signing and verifying: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret
//! in force, separated by spaces, so a receiver keeps verifying while a secret rotates.

use crate::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// A timestamp further than this from the receiver's clock is refused: a replayed message.
pub const TOLERANCE_SECS: i64 = 5 * 60;
/// Signatures in one header at most: the secrets of one endpoint in force at once, with room for
/// other versions a sender adds.
pub const SIGNATURES_MAX: usize = 8;

/// The three headers of one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook-timestamp is not a number of seconds")]
    Timestamp,
    #[error("webhook-timestamp is more than 5 minutes from now")]
    Stale,
    #[error("webhook-signature holds no v1 signature")]
    NoSignature,
    #[error("no signature matches")]
    Mismatch,
}

fn mac(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.bytes()).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// One secret's signature, `v1,<base64>`.
pub fn signature(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(mac(secret, id, timestamp, body).finalize().into_bytes()))
}

/// The headers of a delivery signed with every secret in `secrets` (the new one first while
/// rotating).
pub fn sign(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> SignedHeaders {
    let signatures: Vec<String> = secrets.iter().map(|secret| signature(secret, id, timestamp, body)).collect();
    SignedHeaders { id: id.to_owned(), timestamp, signature: signatures.join(" ") }
}

/// Verifies an inbound webhook against any of `secrets`, its timestamp within `TOLERANCE_SECS` of
/// `now_secs`. The comparison is constant-time (`Mac::verify_slice`).
pub fn verify(
    secrets: &[Secret],
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), VerifyError> {
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| VerifyError::Timestamp)?;
    if timestamp.abs_diff(now_secs) > TOLERANCE_SECS as u64 {
        return Err(VerifyError::Stale);
    }
    let candidates: Vec<Vec<u8>> = signature_header
        .split(' ')
        .take(SIGNATURES_MAX)
        .filter_map(|part| part.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    let matches = secrets.iter().any(|secret| {
        let expected = mac(secret, id, timestamp, body);
        candidates.iter().any(|candidate| expected.clone().verify_slice(candidate).is_ok())
    });
    if matches { Ok(()) } else { Err(VerifyError::Mismatch) }
}
