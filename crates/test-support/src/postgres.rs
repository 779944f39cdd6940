//! A throwaway PostgreSQL database per test, on the local server.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use streamhouse_test_support::postgres::TestDatabase;
//! let Some(db) = TestDatabase::create().await? else { return Ok(()) }; // skipped loudly
//! // ... connect to db.url ...
//! db.drop_database().await?;
//! # Ok(()) }
//! ```

use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, Executor as _, PgConnection};

/// The server and maintenance database used unless `STREAMHOUSE_TEST_PG_URL` says otherwise.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The environment variable that overrides [`DEFAULT_URL`].
pub const URL_ENV: &str = "STREAMHOUSE_TEST_PG_URL";

/// How long to wait for the server before deciding it is not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A uniquely named database, dropped by [`TestDatabase::drop_database`] or, failing that,
/// when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// URL of the new database, for the code under test.
    pub url: String,
    /// The database's name (`sh_test_<uuid>`).
    pub name: String,
    /// URL of the maintenance database the new one was created from.
    admin_url: String,
    dropped: bool,
}

impl TestDatabase {
    /// Creates a fresh database on the test server. Returns `Ok(None)` after a loud notice
    /// (see [`crate::require_service`]) if the server cannot be reached.
    pub async fn create() -> anyhow::Result<Option<Self>> {
        let admin_url = std::env::var(URL_ENV).unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let mut admin = match connect(&admin_url).await {
            Ok(conn) => conn,
            Err(err) => {
                crate::require_service("PostgreSQL at 127.0.0.1:5432", &format!("{err:#}"));
                return Ok(None);
            }
        };
        let name = format!("sh_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .with_context(|| format!("creating test database {name}"))?;
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        tracing::debug!(%name, "created test database");
        Ok(Some(Self {
            url,
            name,
            admin_url,
            dropped: false,
        }))
    }

    /// Drops the database, disconnecting anything still connected to it.
    pub async fn drop_database(mut self) -> anyhow::Result<()> {
        self.dropped = true;
        drop_named(&self.admin_url, &self.name).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Best effort, off the test's runtime (which may be single-threaded or shutting down).
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("building a runtime to drop the test database")?;
            runtime.block_on(drop_named(&admin_url, &name))
        });
        match dropper.join() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!(
                "warning: could not drop test database {}: {err:#}",
                self.name
            ),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}

/// Connects to `url` with a timeout.
async fn connect(url: &str) -> anyhow::Result<PgConnection> {
    let options: PgConnectOptions = url
        .parse()
        .with_context(|| format!("parsing PostgreSQL URL {url:?}"))?;
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .with_context(|| format!("connecting to {url} timed out"))?
        .with_context(|| format!("connecting to {url}"))
}

async fn drop_named(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut admin = connect(admin_url).await?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .with_context(|| format!("dropping test database {name}"))?;
    admin.close().await.ok();
    Ok(())
}

/// `url` with its database path replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exists(admin_url: &str, name: &str) -> bool {
        let mut admin = connect(admin_url).await.expect("connect");
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_optional(&mut admin)
            .await
            .expect("query pg_database");
        found.is_some()
    }

    #[tokio::test]
    async fn creates_and_drops_databases() {
        let Some(first) = TestDatabase::create().await.expect("create") else {
            return;
        };
        let second = TestDatabase::create()
            .await
            .expect("create")
            .expect("server is up");
        assert_ne!(first.name, second.name);
        assert!(first.url.ends_with(&format!("/{}", first.name)));
        // The database is usable, and a connection left open does not stop the drop.
        let mut conn = PgConnection::connect(&first.url)
            .await
            .expect("connect to test db");
        conn.execute("CREATE TABLE t (x INT)")
            .await
            .expect("create table");
        let admin_url = first.admin_url.clone();
        let (first_name, second_name) = (first.name.clone(), second.name.clone());
        assert!(exists(&admin_url, &first_name).await);
        assert!(exists(&admin_url, &second_name).await);

        first.drop_database().await.expect("drop_database");
        assert!(!exists(&admin_url, &first_name).await);
        drop(second); // dropped from Drop, on its own thread
        assert!(!exists(&admin_url, &second_name).await);
        drop(conn);
    }

    #[test]
    fn replaces_the_database_path() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/db?sslmode=disable", "x"),
            "postgres://u:p@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
    }
}
