//! Which URLs a webhook may be delivered to. A platform that calls URLs its users give must not
//! become a way into its own network: loopback, private, link-local (cloud metadata), shared and
//! unspecified addresses are refused unless the operator allows them (`--webhooks-allow-private`,
//! for a receiver on the same host or network). The address is checked again on every delivery,
//! after resolution, so a name that later resolves inward is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A target URL's length at most.
const URL_CHARS_MAX: usize = 2_048;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the URL must start with https:// (or http://) and be at most 2048 characters")]
    Url,
    #[error("the URL names a credential (user:password@); put secrets in the signing secret instead")]
    Credentials,
    #[error("{0} is a private, loopback or link-local address; refused unless the operator allows private targets")]
    Private(IpAddr),
}

/// Checks a URL's form: scheme, length, no credentials, and its host if it is an address. The URL
/// is parsed as the HTTP client will parse it (the WHATWG URL standard, the `url` crate), so every
/// spelling of an address (`127.1`, `2130706433`, `0x7f.0.0.1`, a trailing dot) is the address it
/// names. A name is checked by `check_address` once resolved. Answers the host and the port.
pub fn check_url(url: &str, allow_private: bool) -> Result<(String, u16), TargetError> {
    if url.chars().count() > URL_CHARS_MAX || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TargetError::Url);
    }
    let parsed = url::Url::parse(url).map_err(|_| TargetError::Url)?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(TargetError::Url);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TargetError::Credentials);
    }
    let port = parsed.port_or_known_default().ok_or(TargetError::Url)?;
    let host = match parsed.host().ok_or(TargetError::Url)? {
        url::Host::Ipv4(v4) => {
            check_address(IpAddr::V4(v4), allow_private)?;
            v4.to_string()
        }
        url::Host::Ipv6(v6) => {
            check_address(IpAddr::V6(v6), allow_private)?;
            v6.to_string()
        }
        url::Host::Domain(name) => {
            // A name the resolver would answer for the machine itself, whatever DNS says.
            let name = name.trim_end_matches('.');
            if name.is_empty() {
                return Err(TargetError::Url);
            }
            if !allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                return Err(TargetError::Private(IpAddr::V4(Ipv4Addr::LOCALHOST)));
            }
            name.to_owned()
        }
    };
    Ok((host, port))
}

/// Refuses an address inside the platform's own networks unless `allow_private`.
pub fn check_address(address: IpAddr, allow_private: bool) -> Result<(), TargetError> {
    if allow_private || is_public(address) { Ok(()) } else { Err(TargetError::Private(address)) }
}

fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let benchmarking = a == 198 && (b == 18 || b == 19);
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || shared
        || benchmarking
        || a == 0
        || a >= 240)
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let segments = v6.segments();
    let first = segments[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    let site_local = first & 0xffc0 == 0xfec0; // fec0::/10, deprecated but still routed inward
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    // Addresses that carry an IPv4 one reach it: NAT64 (64:ff9b::/96), 6to4 (2002::/16) and the
    // old IPv4-compatible form (::a.b.c.d); the IPv4 address decides.
    let carried = if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..6] == [0; 6] {
        Some(embedded(segments[6], segments[7]))
    } else if first == 0x2002 {
        Some(embedded(segments[1], segments[2]))
    } else {
        None
    };
    if let Some(v4) = carried
        && !v6.is_loopback()
        && !v6.is_unspecified()
    {
        return is_public_v4(v4);
    }
    !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || unique_local || link_local || site_local)
}
