//! `livedrop verify RECEIPT.json [--pubkey KEY]`: checks a checkout receipt offline. Prints what the
//! receipt proves and exits 0, or says why it is not valid and exits 1.

use crate::config::VerifyArgs;
use anyhow::{Context, bail};
use std::io::Read as _;
use transparency::{KeySource, PublicKey, Receipt};

pub(crate) fn run(args: &VerifyArgs) -> anyhow::Result<()> {
    let text = if args.receipt.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading the receipt from stdin")?;
        text
    } else {
        std::fs::read_to_string(&args.receipt).with_context(|| format!("reading {}", args.receipt.display()))?
    };
    let pinned = match &args.pubkey {
        Some(key) => Some(PublicKey::from_base64(key.trim()).context("--pubkey")?),
        None => None,
    };
    let verified = match Receipt::verify_json(&text, pinned.as_ref()) {
        Ok(verified) => verified,
        Err(error) => bail!("the receipt is NOT valid: {error}"),
    };
    println!("receipt of order {} is valid", verified.order_id);
    match verified.key_source {
        KeySource::Pinned => println!("  signed by the pinned key {}", verified.key_id),
        KeySource::Embedded => println!(
            "  signed by key {}, the key the receipt names; pass the server's key with --pubkey \
             (GET /v1/transparency/keys) to be sure it is the server's",
            verified.key_id
        ),
    }
    for entry in &verified.entries {
        let holds: Vec<String> = entry.hold_ids.iter().map(ToString::to_string).collect();
        println!(
            "  drop {}: {} unit(s), holds {}, leaf {} of the log's first {} (head {}, signed {})",
            entry.drop_id,
            entry.quantity,
            holds.join(", "),
            entry.leaf_index,
            entry.tree_size,
            entry.root_hash,
            entry.timestamp
        );
    }
    Ok(())
}
