//! Makes local-filesystem PUTs durable. `object_store`'s `LocalFileSystem` writes a temp
//! file and renames it into place but never fsyncs, so an acknowledged object could vanish
//! in a power loss. This decorator syncs the file and its directory after every PUT, so a
//! local object is as durable as an S3 one when the append is acknowledged.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// Wraps a local-filesystem store rooted at `root` and fsyncs what it writes.
pub(crate) struct FsyncStore {
    inner: Arc<dyn ObjectStore>,
    root: PathBuf,
}

impl FsyncStore {
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, root: PathBuf) -> Self {
        Self { inner, root }
    }

    async fn sync(&self, location: &Path) -> object_store::Result<()> {
        let file = self.root.join(location.as_ref());
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&file)?.sync_all()?;
            // The rename that published the file lives in its directory.
            if let Some(dir) = file.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(|e| object_store::Error::Generic {
            store: "fsync",
            source: Box::new(e),
        })?
        .map_err(|e| object_store::Error::Generic {
            store: "fsync",
            source: Box::new(e),
        })
    }
}

impl fmt::Debug for FsyncStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FsyncStore({})", self.root.display())
    }
}

impl fmt::Display for FsyncStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fsync({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for FsyncStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let result = self.inner.put_opts(location, payload, opts).await?;
        self.sync(location).await?;
        Ok(result)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        // Not used by StreamHouse's writers.
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_range(
        &self,
        location: &Path,
        range: std::ops::Range<u64>,
    ) -> object_store::Result<bytes::Bytes> {
        self.inner.get_range(location, range).await
    }

    async fn head(&self, location: &Path) -> object_store::Result<ObjectMeta> {
        self.inner.head(location).await
    }

    async fn delete(&self, location: &Path) -> object_store::Result<()> {
        self.inner.delete(location).await
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        self.inner.copy(from, to).await?;
        self.sync(to).await
    }

    async fn copy_if_not_exists(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        self.inner.copy_if_not_exists(from, to).await?;
        self.sync(to).await
    }
}
