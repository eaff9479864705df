//! A signing secret: random bytes, written `whsec_<base64>` as the specification's libraries read it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;

const PREFIX: &str = "whsec_";
/// Bytes of a secret made here (the specification asks for 24 to 64).
const SECRET_BYTES: usize = 32;
const SECRET_BYTES_MIN: usize = 24;
const SECRET_BYTES_MAX: usize = 64;

/// A webhook signing secret. `Debug` never shows it; `Display` gives the `whsec_` form to hand to
/// its owner once.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a secret starts with whsec_")]
    Prefix,
    #[error("a secret is whsec_ and base64")]
    Base64,
    #[error("a secret is {SECRET_BYTES_MIN} to {SECRET_BYTES_MAX} bytes")]
    Length,
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Secret {
        let mut bytes = vec![0; SECRET_BYTES];
        rand::fill(&mut bytes[..]);
        Secret(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::str::FromStr for Secret {
    type Err = SecretError;

    fn from_str(text: &str) -> Result<Secret, SecretError> {
        let encoded = text.strip_prefix(PREFIX).ok_or(SecretError::Prefix)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretError::Base64)?;
        if !(SECRET_BYTES_MIN..=SECRET_BYTES_MAX).contains(&bytes.len()) {
            return Err(SecretError::Length);
        }
        Ok(Secret(bytes))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", STANDARD.encode(&self.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}
