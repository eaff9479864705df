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

/// Checks a URL's form: scheme, length, no credentials, and its host if it is an address. A name is
/// checked by `check_address` once resolved. Answers the host and the port.
pub fn check_url(url: &str, allow_private: bool) -> Result<(String, u16), TargetError> {
    if url.chars().count() > URL_CHARS_MAX || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(TargetError::Url);
    }
    let (rest, default_port) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (rest, 443),
        (_, Some(rest)) => (rest, 80),
        _ => return Err(TargetError::Url),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(TargetError::Credentials);
    }
    let (host, port) = match authority.rsplit_once(':') {
        // `[::1]:8080`, `host:8080`; a bare IPv6 literal is always bracketed.
        Some((host, port)) if !host.is_empty() && !port.contains(']') => {
            (host, port.parse::<u16>().map_err(|_| TargetError::Url)?)
        }
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(TargetError::Url);
    }
    if let Ok(address) = host.parse::<IpAddr>() {
        check_address(address, allow_private)?;
    }
    Ok((host.to_ascii_lowercase(), port))
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
    let first = v6.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || unique_local || link_local)
}
