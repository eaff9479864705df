//! `--demo`: seeds a creator, a buyer, a room, a product and a drop that opens a minute after start,
//! then prints the web pages (the host console signs in from the URL fragment) and how to try it
//! with curl. Handles get a random suffix so every start seeds afresh.

use anyhow::{Context, bail};
use domain::{Command, Envelope, Fulfilment, Money, NewDrop, Reply, Role};
use engine::Engine;
use std::net::SocketAddr;

const DEMO_OPENS_AFTER_MS: u64 = 60_000;

async fn run(engine: &Engine, command: Command) -> anyhow::Result<Reply> {
    match engine.execute(Envelope::plain(command)).await? {
        Ok(reply) => Ok(reply),
        Err(rejection) => bail!("demo seeding was refused: {rejection}"),
    }
}

async fn account(engine: &Engine, handle: String, role: Role) -> anyhow::Result<(domain::Actor, String)> {
    let token = server::new_token();
    let command = Command::CreateAccount {
        partition: engine::handle_partition(&handle),
        handle,
        role,
        partner_kind: None,
        token_sha256: engine::token_sha256(&token),
    };
    match run(engine, command).await? {
        Reply::Account(account) => Ok((domain::Actor { id: account.id, role }, token)),
        other => bail!("unexpected reply {other:?}"),
    }
}

pub(crate) async fn seed(engine: &Engine, address: SocketAddr) -> anyhow::Result<()> {
    let suffix = &server::new_token()[4..10];
    let (creator, creator_token) = account(engine, format!("demo_creator_{suffix}"), Role::Creator).await?;
    let (_, buyer_token) = account(engine, format!("demo_buyer_{suffix}"), Role::Buyer).await?;
    let price = Money { minor: 2_500, currency: "EUR".parse().context("currency")? };
    let product = match run(
        engine,
        Command::CreateProduct {
            actor: creator,
            title: "Tour tee".into(),
            price,
            stock: 100,
            fulfilment: Fulfilment::Ship,
            edition: None,
        },
    )
    .await?
    {
        Reply::Product(product) => product,
        other => bail!("unexpected reply {other:?}"),
    };
    let room =
        match run(engine, Command::CreateRoom { actor: creator, title: "Launch night".into(), template_id: None })
            .await?
        {
            Reply::Room(room) => room,
            other => bail!("unexpected reply {other:?}"),
        };
    let opens_at = engine.now().plus_ms(DEMO_OPENS_AFTER_MS);
    let drop = match run(
        engine,
        Command::CreateDrop {
            actor: creator,
            drop: NewDrop {
                split_contract_id: None,
                room_id: room.id,
                product_id: product.id,
                quantity: 25,
                per_buyer_limit: 2,
                hold_seconds: 120,
                opens_at: Some(opens_at),
                closes_at: None,
            },
        },
    )
    .await?
    {
        Reply::Drop(drop) => drop,
        other => bail!("unexpected reply {other:?}"),
    };
    let base = format!("http://{address}");
    println!(
        "\nlivedrop demo seeded — the drop opens in {} seconds\n\
         \n  creator token  {creator_token}\n  buyer token    {buyer_token}\n\
         \n  room page      {base}/rooms/{room}\n  host console   {base}/rooms/{room}/host#token={creator_token}\n\
         \n  room           {base}/v1/rooms/{room}\n  drop           {base}/v1/drops/{drop}\n  live feed      ws://{address}/v1/rooms/{room}/live\n\
         \nClaim one unit once the drop is open:\n\
         \n  curl -s -X POST {base}/v1/drops/{drop}/claims -H 'Authorization: Bearer {buyer_token}' \\\n       -H 'Idempotency-Key: demo-claim-1' -H 'Content-Type: application/json' -d '{{\"quantity\": 1}}'\n\
         \nThen check out the cart_id it returns, keeping the answer:\n\
         \n  curl -s -X POST {base}/v1/carts/CART_ID/checkout -H 'Authorization: Bearer {buyer_token}' \\\n       -H 'Idempotency-Key: demo-checkout-1' -H 'Content-Type: application/json' -d '{{\"payment_method\": \"pm_card_visa\"}}' > order.json\n\
         \nVerify its receipt offline, pinned to this server's key, and audit the whole drop:\n\
         \n  livedrop verify order.json --pubkey {key}\n  livedrop audit {base}/v1/drops/{drop} --pubkey {key}\n",
        DEMO_OPENS_AFTER_MS / 1_000,
        key = engine.transparency().public_key().to_base64(),
        room = room.id,
        drop = drop.id,
    );
    Ok(())
}
