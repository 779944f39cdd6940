/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object store URL or its options are invalid.
    #[error("invalid object store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Uploading an object failed (after retries, or permanently).
    #[error("uploading object {key}")]
    Upload {
        /// Object key.
        key: String,
        /// Cause.
        #[source]
        source: object_store::Error,
    },
    /// Reading an object failed.
    #[error("reading object {key} bytes {start}..+{len}")]
    Read {
        /// Object key.
        key: String,
        /// Range start.
        start: u64,
        /// Range length.
        len: u64,
        /// Cause.
        #[source]
        source: std::sync::Arc<object_store::Error>,
    },
    /// An object's bytes do not follow the segment object format.
    #[error("object {key} is not a valid segment object: {reason}")]
    Format {
        /// Object key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Any other object store operation (list, delete) failed.
    #[error("object store {op} failed")]
    Store {
        /// The operation.
        op: &'static str,
        /// Cause.
        #[source]
        source: object_store::Error,
    },
    /// The store is shutting down and the upload was abandoned before it succeeded.
    #[error("upload of {key} abandoned: shutting down")]
    Cancelled {
        /// Object key.
        key: String,
    },
}

/// Storage result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
