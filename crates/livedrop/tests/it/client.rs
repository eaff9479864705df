//! A small JSON client for the binary under test, shared by the crash harnesses.

use crate::process::ServerProcess;
use reqwest::StatusCode;
use serde_json::Value;

#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub(crate) fn of(process: &ServerProcess) -> Client {
        Client { http: reqwest::Client::new(), base: process.base.clone() }
    }

    pub(crate) async fn send(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.try_send(path, token, key, body).await.unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    pub(crate) async fn try_send(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut request = match body {
            Some(body) => self.http.post(format!("{}{path}", self.base)).json(&body),
            None => self.http.get(format!("{}{path}", self.base)),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        let status = response.status();
        Ok((status, response.json().await?))
    }

    pub(crate) async fn created(&self, path: &str, token: Option<&str>, key: Option<&str>, body: Value) -> Value {
        let (status, body) = self.send(path, token, key, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        body
    }

    /// A GET that must answer 200.
    pub(crate) async fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.send(path, Some(token), None, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }
}
