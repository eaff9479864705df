//! The browser test's last part: a venue fulfils a pickup on the partner page while the buyer's
//! room page follows it (`check_fulfilment`).

use super::{Api, Page, screenshots_dir};
use serde_json::json;
use std::time::Instant;

/// The creator sells a picked-up product in a drop under the venue's contract; a new buyer (the
/// host's window on the room page) buys it. On the partner page the venue accepts the order, sets
/// an ETA and gets it ready; the buyer's page shows "Ready for pickup", the promise, the code and
/// its QR code; the venue types a wrong code (refused, attempts left shown), then the right one,
/// and the buyer's page shows it picked up.
pub(super) async fn check_fulfilment(
    base: &str,
    creator_token: &str,
    room_id: &str,
    contract_id: &str,
    venue: &Page,
    shopper: &Page,
) {
    let started = Instant::now();
    let api = Api { http: reqwest::Client::new(), base: base.to_owned() };
    let product =
        json!({"title": "Gig poster", "price_minor": 1200, "currency": "EUR", "stock": 20, "fulfilment": "pickup"});
    let product = api.post("/v1/products", Some(creator_token), product).await;
    let drop = json!({"product_id": product["id"], "quantity": 5, "per_buyer_limit": 1, "hold_seconds": 120,
        "split_contract_id": contract_id});
    let drop = api.post(&format!("/v1/rooms/{room_id}/drops"), Some(creator_token), drop).await;
    let drop_id = drop["id"].as_str().unwrap().to_owned();

    shopper.client.goto(&format!("{base}/rooms/{room_id}")).await.unwrap();
    shopper
        .wait("the pickup drop", &format!("document.querySelector('#product').dataset.dropId === {drop_id:?}"))
        .await;
    shopper
        .wait("pickup in person", "document.querySelector('#product-fulfilment').textContent.includes('Pick up')")
        .await;
    // The venue's terms make the promise shown before buying.
    shopper
        .wait(
            "the venue's promise",
            "document.querySelector('#product-promise').textContent.includes('at Corner Venue')",
        )
        .await;
    shopper.click("#buy").await;
    shopper.wait("the receipt", "!document.querySelector('#receipt').hidden").await;
    let line = "#order-status .fulfilment-line";
    let id = shopper
        .wait("the order's status", &format!("document.querySelector('{line}[data-state=open]')?.dataset.fulfilmentId"))
        .await;
    let id = id.as_str().unwrap().to_owned();
    assert!(id.starts_with("ful_"), "{id}");

    // The venue's console lists it; it accepts, then promises a time two hours ahead and gets it ready.
    venue.click("#refresh").await;
    let item = format!("#fulfilment-list .fulfilment[data-fulfilment-id={id:?}]");
    venue.click(&format!("{item}[data-state=open] button.accept")).await;
    venue.wait("accepted", &format!("document.querySelector('{item}[data-state=accepted] input.eta')")).await;
    let local = venue
        .js("const d = new Date(Date.now() + 2 * 3600e3), p = n => String(n).padStart(2, '0'); \
             return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`")
        .await;
    venue.set(&format!("{item} input.eta"), local.as_str().unwrap()).await;
    venue.click(&format!("{item}[data-state=accepted] button.ready")).await;
    let sees = venue
        .wait(
            "ready for pickup",
            &format!("document.querySelector('{item}[data-state=ready_for_pickup] .buyer-sees')?.textContent"),
        )
        .await;
    assert!(sees.as_str().unwrap().contains("pickup from"), "{sees}");

    // The buyer's page follows by itself: the state, the promise, the code and its QR code.
    let ready = format!("{line}[data-fulfilment-id={id:?}][data-state=ready_for_pickup]");
    let promise = shopper
        .wait("ready on the buyer's page", &format!("document.querySelector('{ready} .promise')?.textContent"))
        .await;
    assert!(promise.as_str().unwrap().starts_with("pickup from"), "{promise}");
    assert!(shopper.text(&ready).await.contains("Ready for pickup"));
    let code =
        shopper.wait("the pickup code", &format!("document.querySelector('{ready} .pickup-code')?.dataset.code")).await;
    let code = code.as_str().unwrap().to_owned();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    shopper
        .wait(
            "the QR code",
            &format!("(img => img && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:'))(document.querySelector('{ready} img.qr'))"),
        )
        .await;

    // At the counter: five digits are refused on the page, a wrong code by the server, then the right one.
    let (input, submit, error) =
        (format!("{item} input.pickup-code"), format!("{item} button.hand-over"), format!("{item} .pickup-error"));
    let shown = format!("(e => e && !e.hidden && e.textContent)(document.querySelector({error:?}))");
    venue.set(&input, "12345").await;
    venue.click(&submit).await;
    let said = venue.wait("the short code's error", &shown).await;
    assert!(said.as_str().unwrap().contains("six digits"), "{said}");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    venue.set(&input, wrong).await;
    venue.click(&submit).await;
    let said =
        venue.wait("the wrong code's error", &format!("({shown} || '').includes('attempts left') && {shown}")).await;
    assert!(said.as_str().unwrap().contains("4 attempts left"), "{said}");
    venue.set(&input, &code).await;
    venue.click(&submit).await;
    venue.wait("picked up", &format!("document.querySelector('{item}[data-state=picked_up]')")).await;
    venue.wait("the SLA", "document.querySelector('#sla [data-figure=completed] dd')?.textContent === '1'").await;
    // The screenshot while the buyer's page reads the order again (every 5 s).
    venue.screenshot(&screenshots_dir().join("partner.png")).await;
    let picked = format!("{line}[data-fulfilment-id={id:?}][data-state=picked_up]");
    shopper
        .wait(
            "picked up on the buyer's page",
            &format!("document.querySelector('{picked}')?.textContent.includes('Picked up')"),
        )
        .await;
    println!("the venue handed over the pickup in {} ms", started.elapsed().as_millis());
}
