//! Our signatures against an independent implementation of the specification (the
//! `standardwebhooks` crate): it verifies ours, we verify its, and rotation, tampering, stale
//! timestamps, retries and targets behave as the specification and the platform's rules say.

use proptest::prelude::*;
use std::net::IpAddr;
use webhooks::{Retry, Secret, TargetError, VerifyError, check_address, check_url, next_attempt, sign, verify};

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn header_map(id: &str, timestamp: i64, signature: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("webhook-id", id.parse().unwrap());
    headers.insert("webhook-timestamp", timestamp.to_string().parse().unwrap());
    headers.insert("webhook-signature", signature.parse().unwrap());
    headers
}

proptest! {
    /// Whatever the body (JSON is UTF-8; the other implementation reads bodies as text) and id, the
    /// independent implementation accepts what we sign, and signs what we accept.
    #[test]
    fn both_implementations_agree(body in "\\PC{0,300}", id in "msg_[a-zA-Z0-9]{1,30}") {
        let body = body.into_bytes();
        let secret = Secret::generate();
        let theirs = standardwebhooks::Webhook::new(&secret.to_string()).unwrap();
        let timestamp = now();
        let ours = sign(std::slice::from_ref(&secret), &id, timestamp, &body);
        prop_assert!(theirs.verify(&body, &header_map(&id, timestamp, &ours.signature)).is_ok());
        let signed = theirs.sign(&id, timestamp, &body).unwrap();
        prop_assert_eq!(&signed, &ours.signature);
        prop_assert_eq!(verify(&[secret], &id, &timestamp.to_string(), &signed, &body, timestamp), Ok(()));
    }
}

#[test]
fn a_rotating_endpoint_verifies_with_either_secret() {
    let (old, new) = (Secret::generate(), Secret::generate());
    let timestamp = now();
    let headers = sign(&[new.clone(), old.clone()], "msg_1", timestamp, b"{}");
    assert_eq!(headers.signature.split(' ').count(), 2);
    for secret in [&old, &new] {
        let receiver = standardwebhooks::Webhook::new(&secret.to_string()).unwrap();
        assert!(receiver.verify(b"{}", &header_map("msg_1", timestamp, &headers.signature)).is_ok());
    }
    let stranger = Secret::generate();
    let check = |secrets: &[Secret], body: &[u8], at: i64| {
        verify(secrets, "msg_1", &timestamp.to_string(), &headers.signature, body, at)
    };
    assert_eq!(check(std::slice::from_ref(&old), b"{}", timestamp), Ok(()));
    assert_eq!(check(std::slice::from_ref(&stranger), b"{}", timestamp), Err(VerifyError::Mismatch));
    assert_eq!(check(std::slice::from_ref(&new), b"{ }", timestamp), Err(VerifyError::Mismatch), "a changed body");
    assert_eq!(check(std::slice::from_ref(&new), b"{}", timestamp + 301), Err(VerifyError::Stale));
    assert_eq!(check(std::slice::from_ref(&new), b"{}", timestamp - 301), Err(VerifyError::Stale));
    assert_eq!(
        verify(std::slice::from_ref(&new), "msg_1", "soon", &headers.signature, b"{}", timestamp),
        Err(VerifyError::Timestamp)
    );
    assert_eq!(
        verify(&[new], "msg_1", &timestamp.to_string(), "v2,abc", b"{}", timestamp),
        Err(VerifyError::NoSignature)
    );
}

#[test]
fn secrets_read_and_write_whsec() {
    let secret = Secret::generate();
    let text = secret.to_string();
    assert!(text.starts_with("whsec_"));
    assert_eq!(text.parse::<Secret>().unwrap(), secret);
    assert_eq!(format!("{secret:?}"), "Secret(whsec_…)", "never logged");
    assert!("abc".parse::<Secret>().is_err());
    assert!("whsec_!!".parse::<Secret>().is_err());
    assert!("whsec_c2hvcnQ=".parse::<Secret>().is_err(), "too short");
}

#[test]
fn retries_follow_the_schedule_and_honour_retry_after() {
    assert_eq!(next_attempt(1, None), Retry::After(5));
    assert_eq!(next_attempt(2, None), Retry::After(300));
    assert_eq!(next_attempt(2, Some(900)), Retry::After(900), "a longer Retry-After is honoured");
    assert_eq!(next_attempt(2, Some(1)), Retry::After(300), "a shorter one is not");
    assert_eq!(next_attempt(3, Some(10_000_000)), Retry::After(86_400), "at most a day");
    assert_eq!(next_attempt(7, None), Retry::After(36_000));
    assert_eq!(next_attempt(8, None), Retry::GiveUp);
}

#[test]
fn private_targets_are_refused_unless_allowed() {
    for url in [
        "https://127.0.0.1/hook",
        "http://10.0.0.8:8080/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]:9000/",
        "https://[fd00::1]/",
        "https://[::ffff:192.168.1.1]/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        // Other spellings of internal addresses, as a URL parser (and so the HTTP client) reads them.
        "http://127.1:8080/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://127.0.0.1./",
        "http://0251.0376.0251.0376/",
        "https://127.0.0.1\\x.example.com/",
        "http://localhost:8080/",
        "http://api.localhost/",
        // IPv6 forms that carry an internal IPv4 address, and site-local.
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://[::127.0.0.1]/",
        "http://[fec0::1]/",
    ] {
        assert!(matches!(check_url(url, false), Err(TargetError::Private(_))), "{url}");
        assert!(check_url(url, true).is_ok(), "{url} allowed by the operator");
    }
    assert_eq!(check_url("https://Hooks.Example.com:8443/in?x=1", false), Ok(("hooks.example.com".into(), 8443)));
    assert_eq!(check_url("http://example.com", false), Ok(("example.com".into(), 80)));
    assert_eq!(check_url("https://93.184.216.34/", false), Ok(("93.184.216.34".into(), 443)));
    assert_eq!(check_url("ftp://example.com/", false), Err(TargetError::Url));
    assert_eq!(check_url("https://user:pw@example.com/", false), Err(TargetError::Credentials));
    assert_eq!(check_url("https://example.com:99999/", false), Err(TargetError::Url));
    assert_eq!(check_url("https://", false), Err(TargetError::Url));
    assert_eq!(
        check_url("https://[64:ff9b::5db8:d822]/", false).map(|(_, port)| port),
        Ok(443),
        "NAT64 of a public address"
    );
    let resolved: IpAddr = "192.168.0.10".parse().unwrap();
    assert_eq!(check_address(resolved, false), Err(TargetError::Private(resolved)), "a name resolving inward");
}
