//! A real S3-API server process for tests: `s3s-fs` on a free loopback port, serving a
//! temporary directory.
//!
//! No containers and no mocks: the store under test speaks real S3 over HTTP, with
//! SigV4 signatures, ranged GETs, listings and conditional puts. `s3s-fs` maps each
//! bucket to a subdirectory of its root, so the bucket is created by making that directory
//! before the server starts.
//!
//! The binary is found through `STREAMHOUSE_S3S_FS`, then `PATH`, then `~/.cargo/bin`;
//! install it with `cargo install s3s-fs@0.14.1 --features binary --locked`. If it is
//! missing, [`S3Server::start`] skips loudly (fails under `CI=true`, see
//! [`crate::require_service`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use streamhouse_test_support::s3::S3Server;
//! let Some(s3) = S3Server::start().await? else { return Ok(()) }; // skipped loudly
//! let store = s3.object_store()?; // Arc<dyn ObjectStore> on the bucket
//! // Or configure the code under test like a user would:
//! let url = s3.url("my-test"); // s3://streamhouse-test/my-test
//! let options = s3.object_store_options(); // aws_endpoint, credentials, …
//! # let _ = (store, url, options);
//! # Ok(()) }
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

/// Environment variable naming the `s3s-fs` binary to use.
pub const BINARY_ENV: &str = "STREAMHOUSE_S3S_FS";
/// The bucket every [`S3Server`] starts with.
pub const BUCKET: &str = "streamhouse-test";
/// Region reported to clients (s3s-fs accepts any).
pub const REGION: &str = "us-east-1";

const BINARY: &str = "s3s-fs";
const INSTALL_HINT: &str = "install it with `cargo install s3s-fs@0.14.1 --features binary \
                            --locked`, or point STREAMHOUSE_S3S_FS at the binary";
/// How long the server gets to start accepting connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many ports to try when the chosen one is taken between probing and binding.
const PORT_ATTEMPTS: usize = 5;

/// A running `s3s-fs` process with one bucket, [`BUCKET`], killed when dropped.
#[derive(Debug)]
pub struct S3Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// Access key the server accepts.
    pub access_key: String,
    /// Secret key the server accepts.
    pub secret_key: String,
    /// The bucket created for the test.
    pub bucket: String,
    child: Child,
    /// Holds the served root (`data/`) and the server's log; deleted after the child dies.
    tempdir: tempfile::TempDir,
}

/// Why one attempt to start the server failed.
enum StartError {
    /// The process exited before accepting connections (possibly: port taken).
    Exited(ExitStatus),
    /// Anything else; not worth retrying.
    Fatal(anyhow::Error),
}

impl S3Server {
    /// Starts `s3s-fs` on a free loopback port with a fresh temporary root holding
    /// [`BUCKET`], and waits until it accepts connections.
    ///
    /// Returns `Ok(None)` after a loud notice if the binary is not installed (a failure
    /// under `CI=true`).
    pub async fn start() -> anyhow::Result<Option<Self>> {
        let Some(binary) = find_binary()? else {
            crate::require_service("s3s-fs (S3-API server)", INSTALL_HINT);
            return Ok(None);
        };
        let tempdir = tempfile::Builder::new()
            .prefix("streamhouse-s3-")
            .tempdir()
            .context("creating the s3s-fs temp dir")?;
        let root = tempdir.path().join("data");
        std::fs::create_dir_all(root.join(BUCKET))
            .with_context(|| format!("creating bucket directory under {}", root.display()))?;
        let access_key = "streamhouse-test-access".to_owned();
        let secret_key = format!("streamhouse-test-secret-{}", uuid::Uuid::new_v4().simple());

        let mut last_exit = None;
        for attempt in 1..=PORT_ATTEMPTS {
            let port = free_port()?;
            let log_path = tempdir.path().join(format!("s3s-fs.{attempt}.log"));
            let log = File::create(&log_path)
                .with_context(|| format!("creating {}", log_path.display()))?;
            let stdout = log.try_clone().context("duplicating the log file handle")?;
            let mut child = Command::new(&binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", &access_key, "--secret-key", &secret_key])
                .arg(&root)
                .stdin(Stdio::null())
                .stdout(stdout)
                .stderr(log)
                .spawn()
                .with_context(|| format!("spawning {}", binary.display()))?;
            match wait_ready(&mut child, port).await {
                Ok(()) => {
                    tracing::debug!(port, pid = child.id(), "s3s-fs is ready");
                    return Ok(Some(Self {
                        endpoint: format!("http://127.0.0.1:{port}"),
                        access_key,
                        secret_key,
                        bucket: BUCKET.to_owned(),
                        child,
                        tempdir,
                    }));
                }
                Err(StartError::Exited(status)) => {
                    // Most likely the port was taken after we probed it: try another.
                    tracing::debug!(port, %status, "s3s-fs exited during startup; retrying");
                    last_exit = Some((status, read_log(&log_path)));
                }
                Err(StartError::Fatal(err)) => {
                    kill(&mut child);
                    return Err(err.context(format!(
                        "starting {} on port {port}; its output:\n{}",
                        binary.display(),
                        read_log(&log_path)
                    )));
                }
            }
        }
        let (status, output) = last_exit.unwrap_or_else(|| {
            unreachable!("invariant: PORT_ATTEMPTS > 0 and every failed attempt records its exit")
        });
        bail!(
            "{} exited during startup {PORT_ATTEMPTS} times; last {status}, output:\n{output}",
            binary.display()
        )
    }

    /// Options for object_store's `parse_url_opts` (and `object_store.options` in the
    /// StreamHouse config) that point an `s3://` URL at this server.
    pub fn object_store_options(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_access_key_id", self.access_key.as_str()),
            ("aws_secret_access_key", self.secret_key.as_str()),
            ("aws_region", REGION),
            ("aws_allow_http", "true"),
            ("aws_virtual_hosted_style_request", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// `s3://<bucket>/<prefix>`, the object store URL for keys under `prefix`.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{}", self.bucket, prefix.trim_start_matches('/'))
    }

    /// An object store on the bucket (keys are not prefixed).
    pub fn object_store(&self) -> anyhow::Result<Arc<dyn ObjectStore>> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_access_key_id(&self.access_key)
            .with_secret_access_key(&self.secret_key)
            .with_region(REGION)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_bucket_name(&self.bucket)
            .build()
            .context("building an S3 client for s3s-fs")?;
        Ok(Arc::new(store))
    }

    /// The directory served as the root; bucket `b` is its subdirectory `b`.
    pub fn root(&self) -> PathBuf {
        self.tempdir.path().join("data")
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// Kills the child by its PID (never by name) and reaps it.
fn kill(child: &mut Child) {
    // Errors mean it has already exited, which is what we want.
    let _ = child.kill();
    let _ = child.wait();
}

fn find_binary() -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = std::env::var_os(BINARY_ENV) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("{BINARY_ENV}={} is not a file", path.display());
        }
        return Ok(Some(path));
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .map(|cargo| cargo.join("bin"));
    Ok(on_path
        .into_iter()
        .chain(cargo_bin)
        .map(|dir| dir.join(BINARY))
        .find(|path| path.is_file()))
}

/// A loopback port that was free a moment ago. The child may still lose a race for it,
/// hence the retries in [`S3Server::start`].
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1:0")?;
    Ok(listener
        .local_addr()
        .context("reading the bound port")?
        .port())
}

async fn wait_ready(child: &mut Child, port: u16) -> Result<(), StartError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Err(StartError::Exited(status)),
            Ok(None) => {}
            Err(err) => {
                return Err(StartError::Fatal(
                    anyhow::Error::new(err).context("checking the s3s-fs process"),
                ));
            }
        }
        let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(500), connect).await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(StartError::Fatal(anyhow::anyhow!(
                "s3s-fs did not accept connections on 127.0.0.1:{port} within {READY_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn read_log(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => "(no output)".to_owned(),
        Ok(text) => text,
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::TryStreamExt as _;
    use object_store::path::Path as ObjectPath;
    use object_store::{PutMode, PutOptions, PutPayload};

    use super::*;

    #[tokio::test]
    async fn put_ranged_get_list_and_conditional_put() -> anyhow::Result<()> {
        let Some(s3) = S3Server::start().await? else {
            return Ok(());
        };
        assert!(s3.root().join(BUCKET).is_dir());
        let store = s3.object_store()?;

        let data: Bytes = (0..=255u8).collect::<Vec<_>>().into();
        let key = ObjectPath::from("segments/0001.seg");
        store.put(&key, data.clone().into()).await?;

        let range = store.get_range(&key, 10..42).await?;
        assert_eq!(range, data.slice(10..42));
        let whole = store.get(&key).await?;
        assert_eq!(whole.meta.size, 256);
        assert_eq!(whole.bytes().await?, data);

        let listed: Vec<_> = store
            .list(Some(&ObjectPath::from("segments")))
            .try_collect()
            .await?;
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].location, key);
        assert_eq!(listed[0].size, 256);

        // Conditional create: the second one must lose.
        let create = || PutOptions::from(PutMode::Create);
        let fresh = ObjectPath::from("segments/0002.seg");
        store
            .put_opts(&fresh, PutPayload::from_static(b"first"), create())
            .await?;
        let second = store
            .put_opts(&fresh, PutPayload::from_static(b"second"), create())
            .await;
        assert!(
            matches!(second, Err(object_store::Error::AlreadyExists { .. })),
            "second PutMode::Create must fail with AlreadyExists, got {second:?}"
        );
        assert_eq!(store.get(&fresh).await?.bytes().await?, "first");
        Ok(())
    }

    /// The URL + options the agent would be configured with reach the same bucket. This
    /// is what `object_store::parse_url_opts` does for `s3://` (test-support has no direct
    /// `url` dependency to call it with).
    #[tokio::test]
    async fn url_and_options_configure_a_client() -> anyhow::Result<()> {
        let Some(s3) = S3Server::start().await? else {
            return Ok(());
        };
        let mut builder = AmazonS3Builder::new().with_url(s3.url("ignored/prefix"));
        for (key, value) in s3.object_store_options() {
            builder = builder.with_config(key.parse()?, value);
        }
        let store = builder.build()?;
        store
            .put(
                &ObjectPath::from("prefix/x.bin"),
                PutPayload::from_static(b"hello"),
            )
            .await?;
        let direct = s3.object_store()?;
        let got = direct.get(&ObjectPath::from("prefix/x.bin")).await?;
        assert_eq!(got.bytes().await?, "hello");
        Ok(())
    }

    #[tokio::test]
    async fn servers_are_independent_and_die_on_drop() -> anyhow::Result<()> {
        let Some(a) = S3Server::start().await? else {
            return Ok(());
        };
        let Some(b) = S3Server::start().await? else {
            return Ok(());
        };
        assert_ne!(a.endpoint, b.endpoint);
        a.object_store()?
            .put(
                &ObjectPath::from("only-in-a"),
                PutPayload::from_static(b"a"),
            )
            .await?;
        let in_b = b.object_store()?.head(&ObjectPath::from("only-in-a")).await;
        assert!(
            matches!(in_b, Err(object_store::Error::NotFound { .. })),
            "{in_b:?}"
        );

        let pid = a.child.id();
        let root = a.root();
        drop(a);
        // Reaped, so the PID is gone (a port check could race with other tests' servers).
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "s3s-fs {pid} survived drop"
        );
        assert!(!root.exists(), "temp dir left behind");
        drop(b);
        Ok(())
    }
}
