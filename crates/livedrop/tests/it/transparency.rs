//! The README's verification demo with the real binary: buy, `livedrop verify` the receipt (pinned
//! and not, intact and tampered), `livedrop audit` the drop, and the same after a graceful restart
//! and after SIGKILL: the key, the checkpoints and the receipts all survive.

use crate::process::ServerProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Command, Output};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token).header("Idempotency-Key", format!("key-{path}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status == StatusCode::OK || status == StatusCode::CREATED, "{path}: {status} {body}");
        body
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, token, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None, None).await
    }
}

fn livedrop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_livedrop")).args(args).output().expect("running livedrop")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_and_audit_a_drop_across_restarts() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut process = ServerProcess::start(data_dir.path());
    let api = Api { http: reqwest::Client::new(), base: process.base.clone() };
    let creator = api.post("/v1/accounts", None, json!({"handle": "maker", "role": "creator"})).await;
    let creator = creator["token"].as_str().unwrap().to_owned();
    let room = api.post("/v1/rooms", Some(&creator), json!({"title": "Room"})).await;
    let product = json!({"title": "Tee", "price_minor": 2000, "currency": "EUR", "stock": 10, "fulfilment": "ship"});
    let product = api.post("/v1/products", Some(&creator), product).await;
    let drop = json!({"product_id": product["id"], "quantity": 10, "per_buyer_limit": 2, "hold_seconds": 600});
    let drop = api.post(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(&creator), drop).await;
    let drop_url = format!("{}/v1/drops/{}", process.base, drop["id"].as_str().unwrap());
    let mut orders = Vec::new();
    for buyer_idx in 0..3 {
        let buyer =
            api.post("/v1/accounts", None, json!({"handle": format!("fan_{buyer_idx}"), "role": "buyer"})).await;
        let token = buyer["token"].as_str().unwrap();
        let claim_path = format!("/v1/drops/{}/claims", drop["id"].as_str().unwrap());
        let claim = api.post(&claim_path, Some(token), json!({"quantity": 2})).await;
        let checkout_path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
        orders.push(api.post(&checkout_path, Some(token), json!({"payment_method": "pm_card_visa"})).await);
    }
    let key = api.get("/v1/transparency/keys").await["keys"][0]["public_key"].as_str().unwrap().to_owned();

    let receipt_path = data_dir.path().join("receipt.json");
    let receipt = serde_json::to_string_pretty(&orders[0]["receipt"]).unwrap();
    std::fs::write(&receipt_path, &receipt).unwrap();
    let receipt_arg = receipt_path.to_str().unwrap();
    let pinned = livedrop(&["verify", receipt_arg, "--pubkey", &key]);
    assert!(pinned.status.success() && text(&pinned).contains("signed by the pinned key"), "{}", text(&pinned));
    let embedded = livedrop(&["verify", receipt_arg]);
    assert!(embedded.status.success() && text(&embedded).contains("--pubkey"), "{}", text(&embedded));
    let tampered = receipt.replacen("\"quantity\\\":2", "\"quantity\\\":1", 1);
    assert_ne!(tampered, receipt);
    std::fs::write(&receipt_path, &tampered).unwrap();
    let refused = livedrop(&["verify", receipt_arg, "--pubkey", &key]);
    assert!(!refused.status.success() && text(&refused).contains("NOT valid"), "{}", text(&refused));
    let other_key = transparency::Signer::from_seed([1; 32]).public_key().to_base64();
    std::fs::write(&receipt_path, &receipt).unwrap();
    let wrong_key = livedrop(&["verify", receipt_arg, "--pubkey", &other_key]);
    assert!(!wrong_key.status.success() && text(&wrong_key).contains("not by the pinned key"), "{}", text(&wrong_key));

    let audit = livedrop(&["audit", &drop_url, "--pubkey", &key]);
    assert!(audit.status.success(), "{}", text(&audit));
    assert!(text(&audit).contains("6 sold") && text(&audit).contains("the log is sound"), "{}", text(&audit));
    let checkpoints = api.get(&format!("/v1/drops/{}/checkpoints", drop["id"].as_str().unwrap())).await;

    // A graceful restart and then a hard kill: same key, every checkpoint kept, same receipts.
    assert!(process.stop_gracefully().success());
    process = ServerProcess::start(data_dir.path());
    let api = Api { http: reqwest::Client::new(), base: process.base.clone() };
    let drop_url = format!("{}/v1/drops/{}", process.base, drop["id"].as_str().unwrap());
    let before = checkpoints["checkpoints"].as_array().unwrap();
    let after = api.get(&format!("/v1/drops/{}/checkpoints", drop["id"].as_str().unwrap())).await;
    assert_eq!(&after["checkpoints"].as_array().unwrap()[..before.len()], &before[..], "checkpoints survive");
    process.kill_hard();
    process = ServerProcess::start(data_dir.path());
    let api = Api { http: reqwest::Client::new(), base: process.base.clone() };
    let drop_url_after_kill = format!("{}/v1/drops/{}", process.base, drop["id"].as_str().unwrap());
    assert_ne!(drop_url, drop_url_after_kill, "a new port each start");
    let token = creator.as_str();
    for order in &orders {
        let path = format!("/v1/orders/{}", order["order_id"].as_str().unwrap());
        let reread = api.send(reqwest::Method::GET, &path, Some(token), None).await;
        assert_eq!(reread["receipt"], order["receipt"], "the receipt is the same bytes after restarts");
    }
    let audit = livedrop(&["audit", &drop_url_after_kill, "--pubkey", &key]);
    assert!(audit.status.success(), "{}", text(&audit));

    // A replaced key file would silently fork the logs' history: the server refuses to start.
    std::mem::drop(process);
    std::fs::write(data_dir.path().join("transparency-ed25519.key"), format!("{}\n", "07".repeat(32))).unwrap();
    let data_dir_arg = data_dir.path().to_str().unwrap();
    let refused = livedrop(&["serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir_arg]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("restore the key file"), "{}", text(&refused));
}
