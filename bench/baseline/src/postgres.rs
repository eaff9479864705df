//! The PostgreSQL baseline: what open-source commerce engines do. Stock is one row per drop, taken
//! with a conditional `UPDATE … WHERE remaining >= $q`; the per-buyer count, the cart, the hold and
//! the idempotency record are rows written in the same transaction, committed with
//! `synchronous_commit = on`. Expired holds are returned by a sweep every `SWEEP_INTERVAL`.

use crate::common::{self, Catalogue, cart_id, hold_id, order_id, require_buyer, unavailable};
use deadpool_postgres::{GenericClient, Pool, Transaction};
use domain::{
    Actor, CartId, ClaimReceipt, Drop, DropId, IdempotencyKey, Money, Order, OrderLine, Outcome, Rejection, Reply,
    Timestamp,
};
use engine::{BoxFuture, Charge, EngineError, PaymentProvider, RiskContext};
use server::Inventory;
use std::sync::Arc;
use std::time::Duration;

pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_millis(250);

const SCHEMA: &str = "
DROP SCHEMA IF EXISTS livedrop_baseline CASCADE;
CREATE SCHEMA livedrop_baseline;
SET search_path TO livedrop_baseline;
CREATE TABLE drops (
    id text PRIMARY KEY, room_id text NOT NULL, product_id text NOT NULL, creator_id text NOT NULL,
    title text NOT NULL, price_minor bigint NOT NULL, currency text NOT NULL,
    remaining bigint NOT NULL CHECK (remaining >= 0), per_buyer_limit int NOT NULL, hold_ms bigint NOT NULL,
    opens_at bigint NOT NULL, closes_at bigint);
CREATE TABLE buyer_units (drop_id text, buyer_id text, units int NOT NULL, PRIMARY KEY (drop_id, buyer_id));
CREATE TABLE carts (id bigserial PRIMARY KEY, buyer_id text NOT NULL, room_id text NOT NULL,
    status text NOT NULL DEFAULT 'open');
CREATE UNIQUE INDEX one_open_cart ON carts (buyer_id, room_id) WHERE status = 'open';
CREATE TABLE holds (id bigserial PRIMARY KEY, drop_id text NOT NULL, cart_id bigint NOT NULL,
    buyer_id text NOT NULL, quantity int NOT NULL, expires_at bigint NOT NULL, status text NOT NULL DEFAULT 'active');
CREATE INDEX holds_by_cart ON holds (cart_id);
CREATE INDEX active_holds_by_expiry ON holds (expires_at) WHERE status = 'active';
CREATE TABLE orders (id bigserial PRIMARY KEY, cart_id bigint NOT NULL UNIQUE, buyer_id text NOT NULL,
    total_minor bigint NOT NULL, charge_id text NOT NULL, paid_at bigint NOT NULL);
CREATE TABLE idempotency (owner text, key text, fingerprint text NOT NULL, outcome text NOT NULL,
    at bigint NOT NULL, PRIMARY KEY (owner, key));
";

pub(crate) struct PostgresInventory {
    pool: Pool,
    catalogue: Catalogue,
    payments: Arc<dyn PaymentProvider>,
}

/// Whether a transaction produced an answer or lost a race on its idempotency key.
enum Recorded {
    Answer(Outcome),
    KeyTaken,
}

impl PostgresInventory {
    /// Connects and recreates the baseline's schema (a benchmark starts from nothing).
    pub(crate) async fn connect(
        url: &str,
        pool_size: usize,
        catalogue: Catalogue,
        payments: Arc<dyn PaymentProvider>,
    ) -> anyhow::Result<PostgresInventory> {
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(url.to_owned());
        config.options = Some("-c search_path=livedrop_baseline -c synchronous_commit=on".into());
        config.pool = Some(deadpool_postgres::PoolConfig::new(pool_size));
        let pool = config.create_pool(Some(deadpool_postgres::Runtime::Tokio1), tokio_postgres::NoTls)?;
        pool.get().await?.batch_execute(SCHEMA).await?;
        // Open every connection now, so the run does not pay for connecting and a CPU count of the
        // PostgreSQL backends taken after start-up sees all of them.
        let mut warm = Vec::with_capacity(pool_size);
        for _ in 0..pool_size {
            warm.push(pool.get().await?);
        }
        drop(warm);
        Ok(PostgresInventory { pool, catalogue, payments })
    }

    /// Returns expired holds' units to their drops and buyers, in one statement.
    pub(crate) async fn sweep(&self) -> anyhow::Result<u64> {
        let client = self.pool.get().await?;
        let now = self.catalogue.now().0;
        let statement = "WITH expired AS (
                UPDATE holds SET status = 'expired' WHERE status = 'active' AND expires_at <= $1
                RETURNING drop_id, buyer_id, quantity),
            per_drop AS (SELECT drop_id, sum(quantity) AS units FROM expired GROUP BY drop_id),
            restocked AS (UPDATE drops SET remaining = remaining + per_drop.units FROM per_drop
                WHERE drops.id = per_drop.drop_id)
            UPDATE buyer_units SET units = buyer_units.units - per_buyer.units
            FROM (SELECT drop_id, buyer_id, sum(quantity)::int AS units FROM expired GROUP BY drop_id, buyer_id) per_buyer
            WHERE buyer_units.drop_id = per_buyer.drop_id AND buyer_units.buyer_id = per_buyer.buyer_id";
        Ok(client.execute(statement, &[&now]).await?)
    }

    async fn copy_terms(&self, drop: &Drop) -> Result<(), tokio_postgres::Error> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let statement = "INSERT INTO drops (id, room_id, product_id, creator_id, title, price_minor, currency,
                remaining, per_buyer_limit, hold_ms, opens_at, closes_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING";
        let remaining = drop.remaining as i64;
        let (limit, hold_ms) = (drop.per_buyer_limit as i32, drop.hold_ms as i64);
        let closes_at = drop.closes_at.map(|at| at.0);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 12] = [
            &drop.id.to_string(),
            &drop.room_id.to_string(),
            &drop.product_id.to_string(),
            &drop.creator_id.to_string(),
            &drop.title,
            &drop.unit_price.minor,
            &drop.unit_price.currency.as_str(),
            &remaining,
            &limit,
            &hold_ms,
            &drop.opens_at.0,
            &closes_at,
        ];
        client.execute(statement, &params).await?;
        Ok(())
    }

    async fn claim_once(
        &self,
        actor: Actor,
        drop_id: DropId,
        quantity: u32,
        key: &IdempotencyKey,
    ) -> Result<Recorded, tokio_postgres::Error> {
        let now = self.catalogue.now();
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await?;
        if let Some(recorded) = recorded(&tx, key).await? {
            return Ok(Recorded::Answer(recorded));
        }
        let (drop, buyer, q) = (drop_id.to_string(), actor.id.to_string(), i64::from(quantity));
        let terms = tx
            .query_opt(
                &tx.prepare_cached(
                    "SELECT room_id, per_buyer_limit, hold_ms, opens_at, closes_at, remaining FROM drops WHERE id = $1",
                )
                .await?,
                &[&drop],
            )
            .await?;
        let Some(terms) = terms else { return record_and_commit(tx, key, Err(Rejection::NotFound), now).await };
        let (room_id, limit, hold_ms): (String, i32, i64) = (terms.get(0), terms.get(1), terms.get(2));
        if terms.get::<_, i64>(3) > now.0 || terms.get::<_, Option<i64>>(4).is_some_and(|at| at <= now.0) {
            return record_and_commit(tx, key, Err(Rejection::DropNotOpen), now).await;
        }
        // Sold out as of this snapshot: stock only comes back by expiry, so refusing now is what the
        // engine would answer at this instant; it spares the refused majority of a burst the writes.
        let remaining: i64 = terms.get(5);
        if remaining < q {
            return record_and_commit(tx, key, Err(Rejection::SoldOut { remaining: remaining as u64 }), now).await;
        }
        // The buyer's count first (it checks the limit on a new row as well as an existing one), then
        // the cart and the hold; the hot drop row is taken last, so its lock is held only until commit.
        let units = tx
            .query_opt(
                &tx.prepare_cached(
                    "INSERT INTO buyer_units (drop_id, buyer_id, units)
                     SELECT $1::text, $2::text, $3::int WHERE $3::int <= $4::int
                     ON CONFLICT (drop_id, buyer_id) DO UPDATE SET units = buyer_units.units + EXCLUDED.units
                     WHERE buyer_units.units + EXCLUDED.units <= $4 RETURNING units",
                )
                .await?,
                &[&drop, &buyer, &(quantity as i32), &limit],
            )
            .await?;
        if units.is_none() {
            let already = tx
                .query_opt("SELECT units FROM buyer_units WHERE drop_id = $1 AND buyer_id = $2", &[&drop, &buyer])
                .await?
                .map_or(0, |row| row.get::<_, i32>(0));
            let refusal = Rejection::LimitExceeded { limit: limit as u32, already: already as u32 };
            return record_and_commit(tx, key, Err(refusal), now).await;
        }
        let cart: i64 = tx
            .query_one(
                &tx.prepare_cached(
                    "INSERT INTO carts (buyer_id, room_id) VALUES ($1, $2)
                     ON CONFLICT (buyer_id, room_id) WHERE status = 'open' DO UPDATE SET status = 'open'
                     RETURNING id",
                )
                .await?,
                &[&buyer, &room_id],
            )
            .await?
            .get(0);
        let expires_at = now.plus_ms(hold_ms as u64);
        let hold: i64 = tx
            .query_one(
                &tx.prepare_cached(
                    "INSERT INTO holds (drop_id, cart_id, buyer_id, quantity, expires_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .await?,
                &[&drop, &cart, &buyer, &(quantity as i32), &expires_at.0],
            )
            .await?
            .get(0);
        let taken = tx
            .execute(
                &tx.prepare_cached(
                    "UPDATE drops SET remaining = remaining - $2 WHERE id = $1 AND remaining >= $2
                     AND opens_at <= $3 AND (closes_at IS NULL OR closes_at > $3)",
                )
                .await?,
                &[&drop, &q, &now.0],
            )
            .await?;
        if taken == 0 {
            // Sold out meanwhile (a close in between also lands here, recorded as sold out): undo the
            // count, cart and hold, then record the refusal.
            tx.rollback().await?;
            let tx = client.transaction().await?;
            if let Some(recorded) = recorded(&tx, key).await? {
                return Ok(Recorded::Answer(recorded));
            }
            let remaining: i64 = tx.query_one("SELECT remaining FROM drops WHERE id = $1", &[&drop]).await?.get(0);
            return record_and_commit(tx, key, Err(Rejection::SoldOut { remaining: remaining as u64 }), now).await;
        }
        let receipt = ClaimReceipt { hold_id: hold_id(hold), cart_id: cart_id(cart), drop_id, quantity, expires_at };
        record_and_commit(tx, key, Ok(Reply::Claimed(receipt)), now).await
    }

    async fn checkout_once(
        &self,
        actor: Actor,
        cart: CartId,
        payment_method: &str,
        key: &IdempotencyKey,
    ) -> Result<Result<Recorded, EngineError>, tokio_postgres::Error> {
        let now = self.catalogue.now();
        let cart_serial = cart.0.serial as i64;
        // Quote outside a transaction, charge, then complete in one that locks the cart's holds.
        let quote = {
            let client = self.pool.get().await.map_err(pool_error)?;
            if let Some(recorded) = recorded(&client, key).await? {
                return Ok(Ok(Recorded::Answer(recorded)));
            }
            quote(&client, actor, cart_serial, now).await?
        };
        let payment = match &quote {
            Ok((lines, total)) => {
                let quoted: Vec<_> = lines.iter().map(|line| line.0.hold_id).collect();
                match common::charge(&*self.payments, cart, key, *total, payment_method, &quoted).await {
                    Ok(charge) => Some(charge),
                    Err(error) => return Ok(Err(error)),
                }
            }
            Err(_) => None,
        };
        let mut client = self.pool.get().await.map_err(pool_error)?;
        let tx = client.transaction().await?;
        if let Some(recorded) = recorded(&tx, key).await? {
            // A concurrent request under the key answered first; our charge is returned unless that
            // answer is an order paid with it (the same request and quote share the provider key).
            if let Some(Charge::Approved { charge_id }) = &payment {
                self.refund_unless_ordered(charge_id, &recorded).await;
            }
            return Ok(Ok(Recorded::Answer(recorded)));
        }
        let outcome = match (quote, payment.clone()) {
            (Err(rejection), _) => Err(rejection),
            (Ok(_), Some(Charge::Declined { decline_code })) => Err(Rejection::PaymentDeclined { decline_code }),
            (Ok((lines, total)), Some(Charge::Approved { charge_id })) => {
                tx.query_one("SELECT status FROM carts WHERE id = $1 FOR UPDATE", &[&cart_serial]).await?;
                let now_held: Vec<i64> = tx
                    .query(
                        "SELECT id FROM holds WHERE cart_id = $1 AND status = 'active' AND expires_at > $2
                         ORDER BY id FOR UPDATE",
                        &[&cart_serial, &now.0],
                    )
                    .await?
                    .iter()
                    .map(|row| row.get(0))
                    .collect();
                let quoted: Vec<i64> = lines.iter().map(|line| line.0.hold_id.0.serial as i64).collect();
                if now_held != quoted {
                    Err(Rejection::CartChanged)
                } else {
                    tx.execute("UPDATE holds SET status = 'sold' WHERE id = ANY($1)", &[&quoted]).await?;
                    tx.execute("UPDATE carts SET status = 'checked_out' WHERE id = $1", &[&cart_serial]).await?;
                    let order: i64 = tx
                        .query_one(
                            "INSERT INTO orders (cart_id, buyer_id, total_minor, charge_id, paid_at)
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                            &[&cart_serial, &actor.id.to_string(), &total.minor, &charge_id, &now.0],
                        )
                        .await?
                        .get(0);
                    let (room_id, creator_id) = (lines[0].1.clone(), lines[0].2.clone());
                    Ok(Reply::Ordered(Box::new(Order {
                        id: order_id(order),
                        cart_id: cart,
                        room_id: room_id.parse().expect("stored room id"),
                        buyer_id: actor.id,
                        creator_id: creator_id.parse().expect("stored creator id"),
                        lines: lines.into_iter().map(|line| line.0).collect(),
                        total,
                        payment_method: payment_method.to_owned(),
                        charge_id,
                        paid_at: now,
                        review: None,
                    })))
                }
            }
            (Ok(_), None) => unreachable!("a quote is always charged"),
        };
        let recorded = match record_and_commit(tx, key, outcome, now).await? {
            // A concurrent request under the key recorded first: its answer is ours.
            Recorded::KeyTaken => match recorded(&client, key).await? {
                Some(outcome) => Recorded::Answer(outcome),
                None => Recorded::KeyTaken,
            },
            answer => answer,
        };
        // Decided and recorded: a charge that did not pay the order is returned, as the engine does.
        if let (Some(Charge::Approved { charge_id }), Recorded::Answer(outcome)) = (&payment, &recorded) {
            self.refund_unless_ordered(charge_id, outcome).await;
        }
        Ok(Ok(recorded))
    }

    async fn refund_unless_ordered(&self, charge_id: &str, outcome: &Outcome) {
        if matches!(outcome, Ok(Reply::Ordered(order)) if order.charge_id == charge_id) {
            return;
        }
        if let Err(error) = self.payments.refund(&engine::RefundRequest::whole_charge(charge_id)).await {
            tracing::error!(%charge_id, %error, "refund of an unused charge failed");
        }
    }
}

/// A quoted line with the room and creator it belongs to.
type QuotedLine = (OrderLine, String, String);

/// The cart's active holds and their total, or why the cart cannot be checked out.
async fn quote(
    client: &impl GenericClient,
    actor: Actor,
    cart: i64,
    now: Timestamp,
) -> Result<Result<(Vec<QuotedLine>, Money), Rejection>, tokio_postgres::Error> {
    let cart_row = client.query_opt("SELECT buyer_id, status FROM carts WHERE id = $1", &[&cart]).await?;
    match cart_row {
        Some(row) if row.get::<_, String>(0) == actor.id.to_string() => {
            if row.get::<_, String>(1) == "checked_out" {
                return Ok(Err(Rejection::CartCheckedOut));
            }
        }
        _ => return Ok(Err(Rejection::NotFound)),
    }
    let rows = client
        .query(
            "SELECT h.id, h.drop_id, h.quantity, d.product_id, d.title, d.price_minor, d.currency, d.room_id, d.creator_id
             FROM holds h JOIN drops d ON d.id = h.drop_id
             WHERE h.cart_id = $1 AND h.status = 'active' AND h.expires_at > $2 ORDER BY h.id",
            &[&cart, &now.0],
        )
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut total: Option<Money> = None;
    for row in &rows {
        let unit_price = Money { minor: row.get(5), currency: row.get::<_, &str>(6).parse().expect("stored currency") };
        let quantity = row.get::<_, i32>(2) as u32;
        let line_total = unit_price.times(u64::from(quantity)).expect("bounded price");
        total = Some(match total {
            None => line_total,
            Some(total) => total.plus(line_total).expect("one currency per cart"),
        });
        let line = OrderLine {
            hold_id: hold_id(row.get(0)),
            drop_id: row.get::<_, &str>(1).parse().expect("stored drop id"),
            product_id: row.get::<_, &str>(3).parse().expect("stored product id"),
            title: row.get(4),
            quantity,
            unit_price,
            edition: None,
        };
        lines.push((line, row.get(7), row.get(8)));
    }
    Ok(total.map(|total| (lines, total)).ok_or(Rejection::CartExpired))
}

/// The answer stored under `key`, or a refusal if the key was used for another request.
async fn recorded(client: &impl GenericClient, key: &IdempotencyKey) -> Result<Option<Outcome>, tokio_postgres::Error> {
    let statement =
        client.prepare_cached("SELECT fingerprint, outcome FROM idempotency WHERE owner = $1 AND key = $2").await?;
    let row = client.query_opt(&statement, &[&key.owner.to_string(), &key.key]).await?;
    Ok(row.map(|row| {
        if row.get::<_, &str>(0) == key.fingerprint {
            serde_json::from_str(row.get(1)).expect("stored outcome")
        } else {
            Err(Rejection::IdempotencyKeyReused)
        }
    }))
}

/// Stores the answer under its key and commits; a concurrent request that stored first wins, and
/// this one is rolled back so the caller re-reads the winner's answer.
async fn record_and_commit(
    tx: Transaction<'_>,
    key: &IdempotencyKey,
    outcome: Outcome,
    now: Timestamp,
) -> Result<Recorded, tokio_postgres::Error> {
    let statement = tx
        .prepare_cached(
            "INSERT INTO idempotency (owner, key, fingerprint, outcome, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (owner, key) DO NOTHING",
        )
        .await?;
    let stored = serde_json::to_string(&outcome).expect("outcomes serialize");
    let inserted =
        tx.execute(&statement, &[&key.owner.to_string(), &key.key, &key.fingerprint, &stored, &now.0]).await?;
    if inserted == 0 {
        tx.rollback().await?;
        return Ok(Recorded::KeyTaken);
    }
    tx.commit().await?;
    Ok(Recorded::Answer(outcome))
}

fn pool_error(error: deadpool_postgres::PoolError) -> tokio_postgres::Error {
    match error {
        deadpool_postgres::PoolError::Backend(error) => error,
        other => panic!("connection pool: {other}"),
    }
}

impl Inventory for PostgresInventory {
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
            match self.catalogue.uncopied(drop_id).await? {
                Err(rejection) => return Ok(Err(rejection)),
                Ok(Some(drop)) => {
                    self.copy_terms(&drop).await.map_err(unavailable)?;
                    self.catalogue.copied(drop_id);
                }
                Ok(None) => {}
            }
            loop {
                match self.claim_once(actor, drop_id, quantity, &key).await.map_err(unavailable)? {
                    Recorded::Answer(outcome) => return Ok(outcome),
                    Recorded::KeyTaken => continue,
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
        Box::pin(async move {
            loop {
                match self.checkout_once(actor, cart_id, &payment_method, &key).await.map_err(unavailable)?? {
                    Recorded::Answer(outcome) => return Ok(outcome),
                    Recorded::KeyTaken => continue,
                }
            }
        })
    }
}
