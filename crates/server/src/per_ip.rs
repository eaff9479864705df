//! A client IP's share of something the server holds open for it: connections, live-feed sockets,
//! media sessions. Global caps alone let one address take every place (10 000 live sockets from
//! one client left every other viewer with 503); a share per address keeps room for the others.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The address a share belongs to: an IPv4 address (also when it arrives IPv4-mapped), or an IPv6
/// client's /64, since one IPv6 client is commonly given a whole /64 and could otherwise take a
/// share per address.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
    }
}

/// Places held per IP, each by a `Place` that gives it back on drop.
pub(crate) struct PerIp {
    /// Places one IP may hold; 0 means no cap (load tests from one address).
    max: u32,
    held: Mutex<HashMap<IpAddr, u32>>,
}

/// One place of one IP, given back when dropped.
pub(crate) struct Place {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    pub(crate) fn new(max: u32) -> Arc<PerIp> {
        Arc::new(PerIp { max, held: Mutex::default() })
    }

    /// A place for `ip`, or `None` when it already holds its share.
    pub(crate) fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Place> {
        let ip = client_key(ip);
        let mut held = self.held.lock().expect("per-ip lock");
        let n_held = held.entry(ip).or_insert(0);
        if self.max != 0 && *n_held >= self.max {
            if *n_held == 0 {
                held.remove(&ip);
            }
            return None;
        }
        *n_held += 1;
        Some(Place { owner: self.clone(), ip })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut held = self.owner.held.lock().expect("per-ip lock");
        if let Some(n_held) = held.get_mut(&self.ip) {
            *n_held -= 1;
            if *n_held == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_holds_at_most_its_share_and_gets_places_back() {
        let per_ip = PerIp::new(2);
        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let two: IpAddr = "10.0.0.2".parse().unwrap();
        let first = per_ip.take(one).unwrap();
        let _second = per_ip.take(one).unwrap();
        assert!(per_ip.take(one).is_none());
        assert!(per_ip.take(two).is_some());
        drop(first);
        assert!(per_ip.take(one).is_some());
        let unlimited = PerIp::new(0);
        let places: Vec<Place> = (0..100).map(|_| unlimited.take(one).unwrap()).collect();
        drop(places);
        assert!(unlimited.held.lock().unwrap().is_empty(), "no entry outlives its places");
    }

    #[test]
    fn an_ipv6_client_shares_its_64_and_mapped_ipv4_is_ipv4() {
        let per_ip = PerIp::new(1);
        let _first = per_ip.take("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(per_ip.take("2001:db8:1:2:ffff::9".parse().unwrap()).is_none(), "same /64");
        assert!(per_ip.take("2001:db8:1:3::1".parse().unwrap()).is_some(), "another /64");
        let _v4 = per_ip.take("10.0.0.1".parse().unwrap()).unwrap();
        assert!(per_ip.take("::ffff:10.0.0.1".parse().unwrap()).is_none(), "the same IPv4 client");
    }
}
