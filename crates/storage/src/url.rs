//! Building an object store from a URL.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;
use object_store::prefix::PrefixStore;

use crate::fsync::FsyncStore;
use crate::{Error, Result};

/// A store opened from a URL, already scoped to the URL's path prefix.
#[derive(Debug)]
pub struct OpenedStore {
    /// The store; keys are relative to the URL's prefix.
    pub store: Arc<dyn ObjectStore>,
    /// Whether requests leave the machine (S3 and friends): flush policy defaults differ.
    pub remote: bool,
}

/// How a `file://` store writes its objects. Other stores ignore it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalWrites {
    /// Write with `O_DIRECT` (Linux), past the page cache. For hosts that take free memory
    /// back from the guest, where a fresh page-cache page costs a host fault; elsewhere the
    /// page cache is cheaper, and it serves consumers reading recent objects.
    pub direct_io: bool,
}

/// Opens `file:///abs/dir`, `memory://`, `s3://bucket/prefix` (and the other schemes
/// `object_store` knows) with backend options such as `aws_endpoint`. A `file://`
/// directory is created if missing.
pub fn open_object_store(url: &str, options: &[(String, String)]) -> Result<OpenedStore> {
    open_object_store_with(url, options, LocalWrites::default())
}

/// [`open_object_store`], with `local` deciding how a `file://` store writes.
pub fn open_object_store_with(
    url: &str,
    options: &[(String, String)],
    local: LocalWrites,
) -> Result<OpenedStore> {
    let invalid = |reason: String| Error::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    let remote = !matches!(parsed.scheme(), "file" | "memory");
    let local_root = if parsed.scheme() == "file" {
        let dir = parsed
            .to_file_path()
            .map_err(|()| invalid("not an absolute file path".into()))?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| invalid(format!("cannot create {}: {e}", dir.display())))?;
        Some(dir)
    } else {
        None
    };
    let (store, prefix) = object_store::parse_url_opts(
        &parsed,
        options.iter().map(|(k, v)| (k.as_str(), v.clone())),
    )
    .map_err(|e| invalid(e.to_string()))?;
    let store: Arc<dyn ObjectStore> = if prefix == Path::default() {
        Arc::from(store)
    } else {
        Arc::new(PrefixStore::new(store, prefix))
    };
    let store: Arc<dyn ObjectStore> = match local_root {
        Some(root) => Arc::new(FsyncStore::new(store, root, local.direct_io)),
        None => store,
    };
    Ok(OpenedStore { store, remote })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_decide_local_or_remote() {
        assert!(!open_object_store("memory://", &[]).expect("memory").remote);
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("file://{}/objects", dir.path().display());
        assert!(!open_object_store(&url, &[]).expect("file").remote);
        assert!(
            dir.path().join("objects").is_dir(),
            "file:// directory is created"
        );
        let s3 = open_object_store(
            "s3://bucket/prefix",
            &[("aws_region".into(), "us-east-1".into())],
        )
        .expect("s3 builds without network access");
        assert!(s3.remote);
    }

    #[test]
    fn bad_urls_are_explained() {
        let err = open_object_store("not a url", &[]).expect_err("invalid");
        assert!(err.to_string().contains("not a url"), "{err}");
        assert!(open_object_store("ftp://host/x", &[]).is_err());
    }
}
