//! The stored bytes of the webhook endpoint and delivery events, added after version 1 was pinned
//! without a version bump (payloads of version 1 still decode): hand-made samples are snapshotted
//! here until the next version's fixture journal holds them.
//! `UPDATE_EXPECT=1 cargo test -p codec` rewrites the snapshots after a deliberate change.

use domain::{
    AccountId, AttemptOutcome, EndpointDisabled, EndpointSecret, EntityId, Event, Timestamp, WebhookAttempt,
    WebhookEndpoint, WebhookEndpointId, WebhookEventType, WebhookSecret,
};
use expect_test::expect_file;

const OWNER: AccountId = AccountId(EntityId { partition: 7, serial: 1 });
const ENDPOINT: WebhookEndpointId = WebhookEndpointId(EntityId { partition: 7, serial: 9 });
const AT: Timestamp = Timestamp(1_796_119_200_000);

fn round_trip(event: &Event, kind: &str) -> String {
    assert_eq!(event.kind(), kind);
    assert_eq!(event.stream(), "webhook/hook_070000000009");
    assert_eq!(event.partition(), 7);
    let payload = codec::encode(event);
    assert_eq!(&codec::decode(&payload).unwrap(), event, "{kind} decodes to what was encoded");
    assert_eq!(codec::encode(&codec::decode(&payload).unwrap()), payload, "{kind} encodes to the same bytes");
    format!("{payload}\n")
}

fn attempt(outcome: AttemptOutcome, status: Option<u16>, error: Option<&str>) -> Event {
    Event::WebhookAttempted {
        attempt: WebhookAttempt {
            endpoint_id: ENDPOINT,
            message_id: "msg_00000000000004d2".into(),
            attempt: 2,
            status,
            error: error.map(str::to_owned),
            duration_ms: 31,
            outcome,
            at: AT,
        },
    }
}

#[test]
fn webhook_events_are_snapshotted() {
    let created = Event::WebhookEndpointCreated {
        endpoint: WebhookEndpoint {
            id: ENDPOINT,
            owner_id: OWNER,
            url: "https://hooks.example.com/livedrop".into(),
            events: vec![WebhookEventType::OrderPaid, WebhookEventType::EpisodeEnded],
            secrets: vec![EndpointSecret {
                secret: WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
                expires_at: None,
            }],
            created_at: AT,
            disabled: None,
            disabled_at: None,
            attempts: 0,
            delivered: 0,
        },
    };
    expect_file!["snapshots/webhook_endpoint_created.json"]
        .assert_eq(&round_trip(&created, "webhook_endpoint_created"));
    let rotated = Event::WebhookSecretRotated {
        endpoint_id: ENDPOINT,
        secret: WebhookSecret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into()),
        previous_expire_at: Timestamp(AT.0 + 86_400_000),
        at: AT,
    };
    expect_file!["snapshots/webhook_secret_rotated.json"].assert_eq(&round_trip(&rotated, "webhook_secret_rotated"));
    let disabled = Event::WebhookEndpointDisabled { endpoint_id: ENDPOINT, reason: EndpointDisabled::Gone, at: AT };
    expect_file!["snapshots/webhook_endpoint_disabled.json"]
        .assert_eq(&round_trip(&disabled, "webhook_endpoint_disabled"));
    let redelivery = Event::WebhookRedeliveryRequested {
        endpoint_id: ENDPOINT,
        message_id: "msg_00000000000004d2".into(),
        by: OWNER,
        at: AT,
    };
    expect_file!["snapshots/webhook_redelivery_requested.json"]
        .assert_eq(&round_trip(&redelivery, "webhook_redelivery_requested"));
    let retry = attempt(AttemptOutcome::Retry { next_at: Timestamp(AT.0 + 300_000) }, Some(503), None);
    expect_file!["snapshots/webhook_attempted.json"].assert_eq(&round_trip(&retry, "webhook_attempted"));
    for other in [
        attempt(AttemptOutcome::Delivered, Some(200), None),
        attempt(AttemptOutcome::Failed, None, Some("timed out")),
        attempt(AttemptOutcome::Gone, Some(410), None),
    ] {
        round_trip(&other, "webhook_attempted");
    }
}

#[test]
fn an_inbound_secret_is_snapshotted() {
    let set = Event::InboundSecretSet {
        account_id: OWNER,
        secret: WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
        previous_expire_at: Timestamp(AT.0 + 86_400_000),
        at: AT,
    };
    assert_eq!(
        (set.kind(), set.stream(), set.partition()),
        ("inbound_secret_set", "account/acct_070000000001".to_owned(), 7)
    );
    let payload = codec::encode(&set);
    assert_eq!(codec::decode(&payload).unwrap(), set);
    expect_file!["snapshots/inbound_secret_set.json"].assert_eq(&format!("{payload}\n"));
}
