//! Masking secrets before the effective config is logged.

use crate::Config;

/// What a secret is replaced with.
pub(crate) const MASK: &str = "****";

impl Config {
    /// A copy safe to log: URL passwords, secret-looking URL query parameters and
    /// `object_store.options` values whose key contains `secret`, `password`, `token` or
    /// `key` (except `…access_key_id`, which is an identifier) are replaced by `****`.
    ///
    /// The agent logs `serde_json::to_string(&config.redacted())` at startup.
    pub fn redacted(&self) -> Config {
        let mut config = self.clone();
        if let Some(url) = &mut config.object_store.url {
            *url = redact_url(url);
        }
        if let Some(url) = &mut config.metadata.url {
            *url = redact_url(url);
        }
        for (key, value) in &mut config.object_store.options {
            if is_secret_key(key) {
                *value = MASK.to_owned();
            }
        }
        config
    }
}

/// Whether an option or query-parameter name names a secret.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.ends_with("access_key_id") {
        return false;
    }
    ["secret", "password", "token", "key"]
        .iter()
        .any(|word| key.contains(word))
}

/// Masks the password and secret query parameters of a URL. Strings that don't parse as
/// URLs are returned unchanged unless they look like `user:pass@host`, which is masked
/// wholesale (better an unreadable log line than a leaked password).
pub(crate) fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return if raw.contains('@') {
            MASK.to_owned()
        } else {
            raw.to_owned()
        };
    };
    if url.password().is_some() {
        // Fails only for URLs that cannot have credentials, which have no password.
        let _ = url.set_password(Some(MASK));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_key(&k) {
                    MASK.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys() {
        for key in [
            "aws_secret_access_key",
            "AWS_SESSION_TOKEN",
            "google_service_account_key",
            "azure_storage_account_key",
            "password",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "aws_access_key_id",
            "aws_region",
            "aws_endpoint",
            "aws_allow_http",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            redact_url("postgres://sh:hunter2@db:5432/streamhouse"),
            "postgres://sh:****@db:5432/streamhouse"
        );
        assert_eq!(
            redact_url("postgres://db/x?user=a&password=hunter2&sslmode=require"),
            "postgres://db/x?user=a&password=****&sslmode=require"
        );
        assert_eq!(redact_url("s3://bucket/prefix"), "s3://bucket/prefix");
        assert_eq!(redact_url("sqlite:///tmp/m.db"), "sqlite:///tmp/m.db");
        assert_eq!(redact_url("not a url but a:pass@word"), MASK);
    }
}
