//! A small typed client for the REST admin API: URLs built from path segments (so names
//! are percent-encoded), the API's error shape turned into [`Error::Server`], and
//! connection failures into [`Error::Unreachable`].

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// Where the agent's HTTP API is.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// The agent's HTTP address (its `http.listen`).
    #[arg(
        long,
        global = true,
        env = "STREAMHOUSE_SERVER",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080",
        value_parser = parse_server
    )]
    server: Url,
}

/// `host:port` alone means `http://host:port`.
fn parse_server(text: &str) -> Result<Url, String> {
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err("the server must be an http:// URL".to_owned());
    }
    Ok(url)
}

/// A client for one agent.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: Url,
}

/// A JSON answer, as sent (for `--output json`) and as typed (for tables).
#[derive(Debug)]
pub(crate) struct Reply<T> {
    pub(crate) raw: Value,
    pub(crate) body: T,
}

impl Client {
    pub(crate) fn new(args: &ServerArgs) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("streamhouse-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Unreachable {
                server: args.server.to_string(),
                reason: root_cause(&e),
            })?;
        Ok(Self {
            http,
            base: args.server.clone(),
        })
    }

    /// `/api/v1/<segments...>` under the server URL (which may have a path prefix).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url
    }

    /// Sends a request and returns the JSON answer (`null` for 204).
    async fn send(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Value> {
        let mut request = self.http.request(method, url.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| self.transport(&url, &e))?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport(&url, &e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| Error::UnexpectedResponse {
                url: url.to_string(),
                reason: format!("{status} with a body that is not JSON: {e}"),
            });
        }
        #[derive(serde::Deserialize)]
        struct ErrorBody {
            error_code: String,
            message: String,
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Error::Server {
                status: status.as_u16(),
                error_code: body.error_code,
                message: body.message,
            }),
            // Not our API (a proxy, another service on the port): say what answered.
            Err(_) => Err(Error::Server {
                status: status.as_u16(),
                error_code: format!("http_{}", status.as_u16()),
                message: format!(
                    "{url} answered {status}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).trim()
                ),
            }),
        }
    }

    fn transport(&self, url: &Url, error: &reqwest::Error) -> Error {
        if error.is_connect() {
            Error::Unreachable {
                server: self.base.as_str().trim_end_matches('/').to_owned(),
                reason: root_cause(error),
            }
        } else {
            Error::Transport {
                url: url.to_string(),
                reason: root_cause(error),
            }
        }
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Reply<T>> {
        let mut url = self.url(segments);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let raw = self.send(Method::GET, url.clone(), None).await?;
        typed(&url, raw)
    }

    /// Every page of a paged list (`{items, total, next_offset}`), as one list.
    pub(crate) async fn get_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Reply<Vec<T>>> {
        let mut items: Vec<Value> = Vec::new();
        let mut offset = 0u64;
        loop {
            let page: Reply<Page> = self
                .get(
                    segments,
                    &[("offset", offset.to_string()), ("limit", "1000".to_owned())],
                )
                .await?;
            items.extend(page.body.items);
            match page.body.next_offset {
                Some(next) if next > offset => offset = next,
                _ => break,
            }
        }
        let raw = serde_json::json!({ "total": items.len(), "items": items });
        let url = self.url(segments);
        let body = typed(&url, Value::Array(items))?.body;
        Ok(Reply { raw, body })
    }

    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &(impl Serialize + Sync),
    ) -> Result<Reply<T>> {
        self.with_body(Method::POST, segments, body).await
    }

    pub(crate) async fn patch<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &(impl Serialize + Sync),
    ) -> Result<Reply<T>> {
        self.with_body(Method::PATCH, segments, body).await
    }

    async fn with_body<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: &(impl Serialize + Sync),
    ) -> Result<Reply<T>> {
        let url = self.url(segments);
        let body = serde_json::to_value(body).map_err(|e| Error::Usage(e.to_string()))?;
        let raw = self.send(method, url.clone(), Some(&body)).await?;
        typed(&url, raw)
    }

    pub(crate) async fn delete(&self, segments: &[&str]) -> Result<()> {
        self.send(Method::DELETE, self.url(segments), None).await?;
        Ok(())
    }
}

#[derive(Debug, serde::Deserialize)]
struct Page {
    items: Vec<Value>,
    next_offset: Option<u64>,
}

fn typed<T: DeserializeOwned>(url: &Url, raw: Value) -> Result<Reply<T>> {
    let body = T::deserialize(&raw).map_err(|e| Error::UnexpectedResponse {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Reply { raw, body })
}

/// The innermost cause, e.g. `Connection refused (os error 111)`: reqwest's own message
/// only repeats the URL.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Whether an error is the server's 404 with this error code.
pub(crate) fn is_not_found(error: &Error, code: &str) -> bool {
    matches!(error, Error::Server { status: 404, error_code, .. } if error_code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_get_a_scheme_and_keep_a_prefix() {
        let url = parse_server("localhost:9000").expect("url");
        assert_eq!(url.as_str(), "http://localhost:9000/");
        assert!(parse_server("ftp://x").is_err());
        let client = Client::new(&ServerArgs {
            server: parse_server("http://proxy/streamhouse/").expect("url"),
        })
        .expect("client");
        assert_eq!(
            client.url(&["topics", "a b/c"]).as_str(),
            "http://proxy/streamhouse/api/v1/topics/a%20b%2Fc"
        );
    }
}
