//! The few HTTP calls the load generator makes, with the time each answer arrived.

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// An answer: status and JSON body (`Null` when the body is not JSON).
pub type Answer = (u16, Value);

impl Api {
    /// A client keeping up to `connections` HTTP/1.1 connections, or with `http2` one HTTP/2
    /// connection (prior knowledge, no TLS) carrying every request as a stream.
    pub fn new(base: &str, connections: usize, http2: bool) -> anyhow::Result<Api> {
        // A request that takes a minute is a hung server: counted as a transport error, never waited out.
        let mut builder =
            reqwest::Client::builder().pool_max_idle_per_host(connections).timeout(std::time::Duration::from_secs(60));
        if http2 {
            builder = builder.http2_prior_knowledge();
        }
        let http = builder.build()?;
        Ok(Api { http, base: base.trim_end_matches('/').to_owned() })
    }

    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::POST, path, token, key, None, body).await
    }

    /// Any call, with an optional `X-Device-Id` (read by the fraud rules).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        device: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<Answer> {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).json(body);
        if let Some(device) = device {
            request = request.header("X-Device-Id", device);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.with_context(|| format!("POST {path}"))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let response =
            self.http.get(format!("{}{path}", self.base)).send().await.with_context(|| format!("GET {path}"))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    pub async fn created(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let (status, answer) = self.post(path, token, None, &body).await?;
        if status != 201 {
            bail!("POST {path} answered {status}: {answer}");
        }
        Ok(answer)
    }

    /// A new account's bearer token.
    pub async fn account(&self, handle: &str, role: &str) -> anyhow::Result<String> {
        let account = self.created("/v1/accounts", None, json!({"handle": handle, "role": role})).await?;
        Ok(account["token"].as_str().context("account token")?.to_owned())
    }
}
