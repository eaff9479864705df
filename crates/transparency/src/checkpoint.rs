//! Signed checkpoints: "the log named `origin` had `tree_size` leaves with head `root_hash` at
//! `timestamp`", signed with the server's ed25519 key. The signed bytes are a small text note (see
//! [`SignedCheckpoint::body`]) rebuilt from the JSON fields, so the JSON a client holds is all it
//! needs to check a signature, and no JSON canonicalisation is involved.

use crate::merkle::Hash;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::path::Path;
use time::OffsetDateTime;
use time::macros::format_description;

/// First line of every signed note: binds the signature to this format and version.
const NOTE_HEADER: &str = "livedrop-checkpoint/v1";
/// Domain separation of key ids from every other hash of a key.
const KEY_ID_PREFIX: &[u8] = b"livedrop-key/v1\n";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the checkpoint's root_hash is not 64 lowercase hex digits")]
    MalformedRoot,
    #[error("the checkpoint's timestamp is not an RFC 3339 UTC time with milliseconds")]
    MalformedTimestamp,
    #[error("the signature is not base64 of 64 bytes")]
    MalformedSignature,
    #[error("the checkpoint names key {named}, not key {expected}")]
    WrongKey { named: String, expected: String },
    #[error("the signature does not match the checkpoint")]
    BadSignature,
    #[error("the public key is not base64 of a valid 32-byte ed25519 key")]
    MalformedKey,
}

/// An ed25519 public key as the API and receipts spell it: standard base64 of its 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Strict: canonical base64 of exactly 32 bytes that decode to a curve point.
    pub fn from_base64(text: &str) -> Result<PublicKey, VerifyError> {
        let bytes: [u8; 32] =
            BASE64.decode(text).ok().and_then(|bytes| bytes.try_into().ok()).ok_or(VerifyError::MalformedKey)?;
        if BASE64.encode(bytes) != text {
            return Err(VerifyError::MalformedKey);
        }
        VerifyingKey::from_bytes(&bytes).map(PublicKey).map_err(|_| VerifyError::MalformedKey)
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0.as_bytes())
    }

    /// 16 hex digits of `SHA-256("livedrop-key/v1\n" ‖ key)`: short enough to read out, long enough
    /// that two keys of one operator never share it.
    pub fn key_id(&self) -> String {
        let digest = Sha256::new().chain_update(KEY_ID_PREFIX).chain_update(self.0.as_bytes()).finalize();
        hex::encode(&digest[..8])
    }
}

/// A checkpoint as the API returns it and receipts carry it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedCheckpoint {
    /// Names the log: `<server origin>/drops/<drop id>`.
    pub origin: String,
    pub tree_size: u64,
    /// The RFC 6962 tree head, lowercase hex.
    pub root_hash: String,
    /// RFC 3339, UTC, milliseconds: `2026-11-25T18:00:00.000Z`.
    pub timestamp: String,
    pub key_id: String,
    /// ed25519 over [`SignedCheckpoint::body`], standard base64.
    pub signature: String,
}

impl SignedCheckpoint {
    /// The exact bytes that are signed: one `name value` line per field after a versioned header.
    pub fn body(&self) -> String {
        format!(
            "{NOTE_HEADER}\norigin {}\ntree_size {}\nroot_hash {}\ntimestamp {}\nkey_id {}\n",
            self.origin, self.tree_size, self.root_hash, self.timestamp, self.key_id
        )
    }

    /// The tree head this checkpoint signs, once its signature is checked under `key`.
    pub fn verify(&self, key: &PublicKey) -> Result<Hash, VerifyError> {
        let root = crate::parse_hash(&self.root_hash).ok_or(VerifyError::MalformedRoot)?;
        parse_timestamp(&self.timestamp).ok_or(VerifyError::MalformedTimestamp)?;
        if self.key_id != key.key_id() {
            return Err(VerifyError::WrongKey { named: self.key_id.clone(), expected: key.key_id() });
        }
        let bytes: [u8; 64] = BASE64
            .decode(&self.signature)
            .ok()
            .filter(|bytes| BASE64.encode(bytes) == self.signature)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(VerifyError::MalformedSignature)?;
        let signature = Signature::from_bytes(&bytes);
        key.0.verify(self.body().as_bytes(), &signature).map_err(|_| VerifyError::BadSignature)?;
        Ok(root)
    }

    /// Milliseconds since the Unix epoch, if the timestamp is well formed.
    pub fn timestamp_ms(&self) -> Option<i64> {
        parse_timestamp(&self.timestamp)
    }
}

/// Formats milliseconds since the epoch the one way checkpoints spell time.
pub fn format_timestamp(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|moment| moment.format(&format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// The inverse of [`format_timestamp`]; any other spelling of a time is refused.
fn parse_timestamp(text: &str) -> Option<i64> {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    let moment = time::PrimitiveDateTime::parse(text, &format).ok()?.assume_utc();
    let ms = i64::try_from(moment.unix_timestamp_nanos() / 1_000_000).ok()?;
    (format_timestamp(ms) == text).then_some(ms)
}

/// The server's signing key.
pub struct Signer {
    key: SigningKey,
    public: PublicKey,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("could not read or create the signing key {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the signing key {path} is not 64 hex digits (an ed25519 seed)")]
    Malformed { path: String },
}

impl Signer {
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let public = PublicKey(key.verifying_key());
        Signer { key, public }
    }

    /// Reads the seed at `path`, or creates it (random, owner-only permissions) on first start, so a
    /// restarted server keeps signing with the key its earlier receipts name. Creation is atomic and
    /// durable: the seed is written and synced under a temporary name, then linked into place (which
    /// fails rather than replace a key another process made meanwhile), and the directory is synced.
    /// A crash leaves either no key file or a whole one.
    pub fn load_or_create(path: &Path) -> Result<Signer, KeyFileError> {
        let io = |source| KeyFileError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let seed = hex::decode(text.trim()).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
                seed.map(Signer::from_seed).ok_or_else(|| KeyFileError::Malformed { path: path.display().to_string() })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut seed)
                    .map_err(|error| io(std::io::Error::other(error)))?;
                let temporary = path.with_extension(format!("new-{}", std::process::id()));
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&temporary).map_err(io)?;
                writeln!(file, "{}", hex::encode(seed)).map_err(io)?;
                file.sync_all().map_err(io)?;
                let linked = std::fs::hard_link(&temporary, path);
                let _ = std::fs::remove_file(&temporary);
                match linked {
                    Ok(()) => {}
                    // Another process created it first: use that one.
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                        return Signer::load_or_create(path);
                    }
                    Err(error) => return Err(io(error)),
                }
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    std::fs::File::open(dir).and_then(|dir| dir.sync_all()).map_err(io)?;
                }
                Ok(Signer::from_seed(seed))
            }
            Err(error) => Err(io(error)),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    pub fn sign(&self, origin: &str, tree_size: u64, root: &Hash, timestamp_ms: i64) -> SignedCheckpoint {
        let mut checkpoint = SignedCheckpoint {
            origin: origin.to_owned(),
            tree_size,
            root_hash: hex::encode(root),
            timestamp: format_timestamp(timestamp_ms),
            key_id: self.public.key_id(),
            signature: String::new(),
        };
        // ed25519 signatures are deterministic (RFC 8032): the same checkpoint always gets the same
        // bytes, which keeps receipts of idempotent replays identical.
        checkpoint.signature = BASE64.encode(self.key.sign(checkpoint.body().as_bytes()).to_bytes());
        checkpoint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_one_spelling() {
        let text = format_timestamp(1_764_000_000_123);
        assert_eq!(text, "2025-11-24T16:00:00.123Z");
        assert_eq!(parse_timestamp(&text), Some(1_764_000_000_123));
        for other in ["2025-11-24T16:00:00.12Z", "2025-11-24T16:00:00Z", "2025-11-24T16:00:00.123+00:00"] {
            assert_eq!(parse_timestamp(other), None, "{other}");
        }
    }

    #[test]
    fn a_signed_checkpoint_verifies_only_unchanged_and_under_its_key() {
        let signer = Signer::from_seed([7; 32]);
        let checkpoint = signer.sign("livedrop/drops/drp_01", 5, &[9; 32], 1_764_000_000_000);
        assert_eq!(checkpoint.verify(&signer.public_key()), Ok([9; 32]));
        let other = Signer::from_seed([8; 32]).public_key();
        assert!(matches!(checkpoint.verify(&other), Err(VerifyError::WrongKey { .. })));
        let mut forged = checkpoint.clone();
        forged.tree_size = 6;
        assert_eq!(forged.verify(&signer.public_key()), Err(VerifyError::BadSignature));
        let key = signer.public_key().to_base64();
        assert_eq!(PublicKey::from_base64(&key), Ok(signer.public_key()));
        assert_eq!(PublicKey::from_base64(&key[1..]), Err(VerifyError::MalformedKey));
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let first = Signer::load_or_create(&path).unwrap().public_key();
        assert_eq!(Signer::load_or_create(&path).unwrap().public_key(), first);
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(Signer::load_or_create(&path), Err(KeyFileError::Malformed { .. })));
    }
}
