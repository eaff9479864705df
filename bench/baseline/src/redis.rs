//! The Redis baseline: the usual fast path of flash-sale systems. A claim is one Lua script (check the
//! key, the window, the limit and the stock, decrement, place the hold), so it is atomic without
//! locks; durability is whatever the server's `appendfsync` gives (`always` or `everysec`).
//! A checkout is a read-only quote script, the charge, then a completing script, like the engine's.

use crate::common::{self, Catalogue, cart_id, hold_id, order_id, require_buyer, unavailable};
use domain::{
    Actor, CartId, ClaimReceipt, Drop, DropId, IDEMPOTENCY_TTL_MS, IdempotencyKey, Money, Order, OrderLine, Outcome,
    Rejection, Reply, Timestamp,
};
use engine::{BoxFuture, Charge, EngineError, PaymentProvider, RiskContext};
use redis::Script;
use redis::aio::MultiplexedConnection;
use server::Inventory;
use std::sync::Arc;

/// Expired holds returned per sweep call, bounding how long one script blocks the server.
pub(crate) const SWEEP_HOLDS_MAX: usize = 1_000;

pub(crate) struct RedisInventory {
    connection: MultiplexedConnection,
    /// Every key starts with it, so runs never see each other's keys.
    prefix: String,
    catalogue: Catalogue,
    payments: Arc<dyn PaymentProvider>,
    claim: Script,
    quote: Script,
    complete: Script,
    sweep: Script,
}

impl RedisInventory {
    pub(crate) async fn connect(
        url: &str,
        catalogue: Catalogue,
        payments: Arc<dyn PaymentProvider>,
    ) -> anyhow::Result<RedisInventory> {
        let connection = redis::Client::open(url)?.get_multiplexed_async_connection().await?;
        let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
        Ok(RedisInventory {
            connection,
            prefix: format!("ld:{run}:"),
            catalogue,
            payments,
            claim: keyed_script(include_str!("redis/claim.lua")),
            quote: keyed_script(include_str!("redis/quote.lua")),
            complete: keyed_script(include_str!("redis/complete.lua")),
            sweep: Script::new(include_str!("redis/sweep.lua")),
        })
    }

    pub(crate) async fn sweep(&self) -> anyhow::Result<u64> {
        let now = self.catalogue.now().0;
        let mut connection = self.connection.clone();
        Ok(self.sweep.arg(&self.prefix).arg(now).arg(SWEEP_HOLDS_MAX).invoke_async(&mut connection).await?)
    }

    async fn copy_terms(&self, drop: &Drop) -> redis::RedisResult<()> {
        let mut connection = self.connection.clone();
        let key = format!("{}drop:{}", self.prefix, drop.id);
        let closes_at = drop.closes_at.map(|at| at.0.to_string()).unwrap_or_default();
        let fields = [
            ("remaining", drop.remaining.to_string()),
            ("per_buyer_limit", drop.per_buyer_limit.to_string()),
            ("hold_ms", drop.hold_ms.to_string()),
            ("opens_at", drop.opens_at.0.to_string()),
            ("closes_at", closes_at),
            ("room_id", drop.room_id.to_string()),
            ("price_minor", drop.unit_price.minor.to_string()),
            ("currency", drop.unit_price.currency.to_string()),
            ("product_id", drop.product_id.to_string()),
            ("title", drop.title.clone()),
            ("creator_id", drop.creator_id.to_string()),
        ];
        // Only the first copy may count: a later one would reset the stock, so check and write in one script.
        let copy =
            Script::new("if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end");
        let mut invocation = copy.key(&key);
        for (field, value) in &fields {
            invocation.arg(field).arg(value);
        }
        invocation.invoke_async::<()>(&mut connection).await
    }

    /// A checkout script's leading arguments: prefix, cart, buyer, now, and the request's key.
    fn checkout_call<'s>(
        &self,
        script: &'s Script,
        cart: CartId,
        actor: Actor,
        now: Timestamp,
        key: &IdempotencyKey,
    ) -> redis::ScriptInvocation<'s> {
        let mut call = script.prepare_invoke();
        call.arg(&self.prefix)
            .arg(cart.0.serial)
            .arg(actor.id.to_string())
            .arg(now.0)
            .arg(key.owner.to_string())
            .arg(&key.key)
            .arg(&key.fingerprint)
            .arg(IDEMPOTENCY_TTL_MS);
        call
    }

    async fn checkout_once(
        &self,
        actor: Actor,
        cart: CartId,
        payment_method: &str,
        key: &IdempotencyKey,
    ) -> Result<Outcome, EngineError> {
        let now = self.catalogue.now();
        let mut connection = self.connection.clone();
        let quote: Vec<String> = self
            .checkout_call(&self.quote, cart, actor, now, key)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let (lines, total, room_id, creator_id) = match quote[0].as_str() {
            "recorded" | "reused" | "refused" => return Ok(answer(&quote, None)),
            _ => parse_quote(&quote[1..]),
        };
        let quoted: Vec<_> = lines.iter().map(|line| line.hold_id).collect();
        let charge = common::charge(&*self.payments, cart, key, total, payment_method, &quoted).await?;
        let (decision, order_outcome) = match &charge {
            Charge::Declined { decline_code } => (format!("declined|{decline_code}"), String::new()),
            Charge::Approved { charge_id } => {
                let serial: i64 = redis::cmd("INCR")
                    .arg(format!("{}serial", self.prefix))
                    .query_async(&mut connection)
                    .await
                    .map_err(unavailable)?;
                let order = Order {
                    id: order_id(serial),
                    cart_id: cart,
                    room_id,
                    buyer_id: actor.id,
                    creator_id,
                    lines,
                    total,
                    payment_method: payment_method.to_owned(),
                    charge_id: charge_id.clone(),
                    paid_at: now,
                    review: None,
                };
                let outcome: Outcome = Ok(Reply::Ordered(Box::new(order)));
                ("approved".to_owned(), format!("json|{}", serde_json::to_string(&outcome).expect("serializes")))
            }
        };
        let quoted: Vec<String> = quoted.iter().map(|hold| hold.0.serial.to_string()).collect();
        let completed: Vec<String> = self
            .checkout_call(&self.complete, cart, actor, now, key)
            .arg(decision)
            .arg(quoted.join(","))
            .arg(order_outcome)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let outcome = answer(&completed, None);
        if let Charge::Approved { charge_id } = charge {
            let ordered = matches!(&outcome, Ok(Reply::Ordered(order)) if order.charge_id == charge_id);
            if !ordered && let Err(error) = self.payments.refund(&engine::RefundRequest::whole_charge(&charge_id)).await
            {
                tracing::error!(%charge_id, %error, "refund of an unused charge failed");
            }
        }
        Ok(outcome)
    }
}

/// A script with the shared idempotency helpers (`redis/keyed.lua`) in front of it.
fn keyed_script(body: &str) -> Script {
    Script::new(&format!("{}\n{body}", include_str!("redis/keyed.lua")))
}

/// Turns a script's answer into an outcome; `claim` is the claimed drop and quantity, which a
/// claim's compact stored line leaves out.
fn answer(answer: &[String], claim: Option<(DropId, u32)>) -> Outcome {
    match answer[0].as_str() {
        "reused" => Err(Rejection::IdempotencyKeyReused),
        _ => decode(&answer[1], claim),
    }
}

/// Decodes a stored outcome: `ok|hold|cart|expires_ms`, `err|code[|n|n]` or `json|<outcome>`.
fn decode(stored: &str, claim: Option<(DropId, u32)>) -> Outcome {
    if let Some(json) = stored.strip_prefix("json|") {
        return serde_json::from_str(json).expect("stored outcome");
    }
    let fields: Vec<&str> = stored.split('|').collect();
    let number = |idx: usize| fields[idx].parse::<i64>().expect("stored number");
    match fields[..] {
        ["ok", ..] => {
            let (drop_id, quantity) = claim.expect("a claim's answer is only stored under a claim's key");
            Ok(Reply::Claimed(ClaimReceipt {
                hold_id: hold_id(number(1)),
                cart_id: cart_id(number(2)),
                drop_id,
                quantity,
                expires_at: Timestamp(number(3)),
            }))
        }
        ["err", "drop_not_open"] => Err(Rejection::DropNotOpen),
        ["err", "limit_exceeded", ..] => {
            Err(Rejection::LimitExceeded { limit: number(2) as u32, already: number(3) as u32 })
        }
        ["err", "sold_out", ..] => Err(Rejection::SoldOut { remaining: number(2) as u64 }),
        ["err", "not_found"] => Err(Rejection::NotFound),
        ["err", "cart_checked_out"] => Err(Rejection::CartCheckedOut),
        ["err", "cart_expired"] => Err(Rejection::CartExpired),
        ["err", "cart_changed"] => Err(Rejection::CartChanged),
        ["err", "payment_declined", code] => Err(Rejection::PaymentDeclined { decline_code: code.to_owned() }),
        _ => panic!("unknown stored outcome {stored}"),
    }
}

/// The quote script's flat list: nine fields per active hold.
fn parse_quote(fields: &[String]) -> (Vec<OrderLine>, Money, domain::RoomId, domain::AccountId) {
    let mut lines = Vec::new();
    let mut total: Option<Money> = None;
    for hold in fields.chunks(9) {
        let unit_price = Money { minor: hold[3].parse().expect("price"), currency: hold[4].parse().expect("currency") };
        let quantity: u32 = hold[2].parse().expect("quantity");
        let line_total = unit_price.times(u64::from(quantity)).expect("bounded price");
        total = Some(total.map_or(line_total, |total| total.plus(line_total).expect("one currency per cart")));
        lines.push(OrderLine {
            hold_id: hold_id(hold[0].parse().expect("hold")),
            drop_id: hold[1].parse().expect("drop id"),
            product_id: hold[5].parse().expect("product id"),
            title: hold[6].clone(),
            quantity,
            unit_price,
            edition: None,
        });
    }
    (
        lines,
        total.expect("a quote has a line"),
        fields[7].parse().expect("room id"),
        fields[8].parse().expect("creator id"),
    )
}

impl Inventory for RedisInventory {
    fn claim(
        &self,
        actor: Actor,
        drop_id: DropId,
        quantity: u32,
        key: IdempotencyKey,
        _context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        Box::pin(async move {
            if let Err(rejection) = require_buyer(&actor) {
                return Ok(Err(rejection));
            }
            let mut connection = self.connection.clone();
            loop {
                let reply: Vec<String> = self
                    .claim
                    .arg(&self.prefix)
                    .arg(drop_id.to_string())
                    .arg(actor.id.to_string())
                    .arg(quantity)
                    .arg(self.catalogue.now().0)
                    .arg(key.owner.to_string())
                    .arg(&key.key)
                    .arg(&key.fingerprint)
                    .arg(IDEMPOTENCY_TTL_MS)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(unavailable)?;
                if reply[0] != "unknown_drop" {
                    return Ok(answer(&reply, Some((drop_id, quantity))));
                }
                match self.catalogue.uncopied(drop_id).await? {
                    Err(rejection) => return Ok(Err(rejection)),
                    Ok(Some(drop)) => {
                        self.copy_terms(&drop).await.map_err(unavailable)?;
                        self.catalogue.copied(drop_id);
                    }
                    // Copied by a concurrent claim between our script and the check.
                    Ok(None) => {}
                }
            }
        })
    }

    fn checkout(
        &self,
        actor: Actor,
        cart_id: CartId,
        payment_method: String,
        key: IdempotencyKey,
        _context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        Box::pin(async move { self.checkout_once(actor, cart_id, &payment_method, &key).await })
    }
}
