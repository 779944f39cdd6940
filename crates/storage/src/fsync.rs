//! Makes local-filesystem PUTs durable. `object_store`'s `LocalFileSystem` writes a temp
//! file and renames it into place but never fsyncs, so an acknowledged object could vanish
//! in a power loss. This decorator writes PUTs itself, the same way (a `name#N` staging
//! file, which `LocalFileSystem` never lists, then a link or rename into place), but syncs
//! the file before it becomes visible and its directory after, so a local object is as
//! durable as an S3 one when the append is acknowledged.
//!
//! All of a PUT runs in one blocking task: a flush PUTs every few milliseconds, and a
//! delegated write followed by a separate sync cost two thread hand-offs and a reopen.
//!
//! With `direct_io` (Linux), the bytes go to disk with `O_DIRECT` through one aligned
//! buffer per thread instead of through the page cache. That is for hosts whose balloon
//! hands free memory back to the hypervisor: there every fresh page-cache page costs a
//! host fault on first touch, and the produce path spent over half its CPU on them
//! (docs/benchmarks.md, ninth round). The price is that a consumer reading objects written
//! seconds ago reads the disk. A filesystem that refuses `O_DIRECT` gets buffered writes.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, IoSlice, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// Wraps a local-filesystem store rooted at `root` and fsyncs what it writes.
pub(crate) struct FsyncStore {
    inner: Arc<dyn ObjectStore>,
    root: PathBuf,
    /// Write objects with `O_DIRECT` where the filesystem allows it.
    direct_io: bool,
}

impl FsyncStore {
    pub(crate) fn new(inner: Arc<dyn ObjectStore>, root: PathBuf, direct_io: bool) -> Self {
        Self {
            inner,
            root,
            direct_io,
        }
    }

    async fn sync(&self, location: &Path) -> object_store::Result<()> {
        let file = self.root.join(location.as_ref());
        blocking(move || {
            File::open(&file)
                .and_then(|f| f.sync_all())
                .and_then(|()| sync_parent(&file))
                .map_err(|e| generic(e.into()))
        })
        .await
    }
}

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> object_store::Result<T> + Send + 'static,
) -> object_store::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| generic(e.into()))?
}

fn generic(source: Box<dyn std::error::Error + Send + Sync>) -> object_store::Error {
    object_store::Error::Generic {
        store: "fsync",
        source,
    }
}

/// Syncs the directory holding `path`: the link or rename that published it lives there.
fn sync_parent(path: &FsPath) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// Opens a new `dest#N` staging file, creating `dest`'s directories if missing.
fn new_staging_file(dest: &FsPath) -> std::io::Result<(File, PathBuf)> {
    let mut n = 1u32;
    loop {
        let mut staging = dest.as_os_str().to_owned();
        staging.push(format!("#{n}"));
        let staging = PathBuf::from(staging);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&staging)
        {
            Ok(file) => return Ok((file, staging)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => n += 1,
            Err(e) if e.kind() == ErrorKind::NotFound => match dest.parent() {
                Some(dir) => std::fs::create_dir_all(dir)?,
                None => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
}

/// Allocates the new file's `len` bytes in one call before they are written. Without it,
/// ext4 reserves and accounts each 4 KiB block as the write reaches it (delayed
/// allocation) and allocates them at writeback; in `perf` of a produce run that per-block
/// work (`ext4_da_write_begin`) took nearly as much CPU as copying the bytes. Best effort:
/// a filesystem without `fallocate` just writes as before, and a full disk fails the
/// write that follows.
fn preallocate(file: &File, len: u64) {
    #[cfg(target_os = "linux")]
    if len > 0 {
        let _ = rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, len);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, len);
}

/// What `O_DIRECT` asks of buffer addresses, lengths and file offsets: 4 KiB covers every
/// logical block size in use.
#[cfg(target_os = "linux")]
const DIRECT_ALIGN: usize = 4096;

/// A direct write copies the payload through an aligned buffer of this size, one per
/// blocking thread, kept between PUTs so that it costs no fresh memory.
#[cfg(target_os = "linux")]
const DIRECT_CHUNK: usize = 1 << 20;

#[cfg(target_os = "linux")]
thread_local! {
    static DIRECT_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Switches `file` to direct I/O if its filesystem supports it; reports whether it did.
fn try_direct(file: &File) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
        fcntl_getfl(file).is_ok_and(|flags| fcntl_setfl(file, flags | OFlags::DIRECT).is_ok())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        false
    }
}

/// Writes `payload` to `file`, opened with `O_DIRECT`, from offset 0: whole aligned chunks,
/// the last one padded with zeros to the alignment, then the file cut back to the payload's
/// length.
#[cfg(target_os = "linux")]
fn write_all_direct(file: &mut File, payload: &PutPayload) -> std::io::Result<()> {
    DIRECT_BUFFER.with_borrow_mut(|backing| {
        if backing.len() < DIRECT_CHUNK + DIRECT_ALIGN {
            backing.resize(DIRECT_CHUNK + DIRECT_ALIGN, 0);
        }
        let start = backing.as_ptr().align_offset(DIRECT_ALIGN);
        let chunk = &mut backing[start..start + DIRECT_CHUNK];
        let mut filled = 0;
        for part in payload.iter() {
            let mut part = &part[..];
            while !part.is_empty() {
                let n = part.len().min(DIRECT_CHUNK - filled);
                chunk[filled..filled + n].copy_from_slice(&part[..n]);
                filled += n;
                part = &part[n..];
                if filled == DIRECT_CHUNK {
                    file.write_all(chunk)?;
                    filled = 0;
                }
            }
        }
        if filled > 0 {
            let padded = filled.next_multiple_of(DIRECT_ALIGN);
            chunk[filled..padded].fill(0);
            file.write_all(&chunk[..padded])?;
        }
        file.set_len(payload.content_length() as u64)
    })
}

/// Writes `payload` to the new, empty `file`: directly if `direct`, else through the page
/// cache. A filesystem that took `O_DIRECT` but refuses the write (`EINVAL`: it wants a
/// larger alignment) gets the object through the page cache instead, so that the setting
/// can never stall flushes.
fn write_payload(file: &mut File, payload: &PutPayload, direct: bool) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if direct {
        match write_all_direct(file, payload) {
            Err(e) if e.kind() == ErrorKind::InvalidInput => {
                use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| {
                    tracing::warn!(error = %e, "O_DIRECT write refused; using the page cache");
                });
                fcntl_setfl(&*file, fcntl_getfl(&*file)? - OFlags::DIRECT)?;
                file.set_len(0)?;
                std::io::Seek::rewind(file)?;
            }
            done => return done,
        }
    }
    let _ = direct;
    write_all_vectored(file, payload)
}

/// Writes every part of `payload` with as few `writev` calls as the kernel allows (std caps
/// one call at `IOV_MAX` parts). A flush object is tens of parts (the kept record sets), and
/// each `write` call costs ext4 its own locking, timestamp update and dirty-page accounting.
fn write_all_vectored(file: &mut File, payload: &PutPayload) -> std::io::Result<()> {
    // Empty parts are left out: a `writev` of only empty slices returns 0, which would read
    // as a short write (and an empty payload has nothing to write at all).
    let mut slices: Vec<IoSlice<'_>> = payload
        .iter()
        .filter(|part| !part.is_empty())
        .map(|part| IoSlice::new(part))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes `payload` to `dest` durably: staging file, fsync, link (`create`: refused with
/// `AlreadyExists` if `dest` exists) or rename into place, fsync of the directory.
/// Returns `LocalFileSystem`'s ETag for the file (inode, mtime and size), so reads and
/// writes agree on it. `shown` names the object in errors. With `direct_io` the bytes
/// bypass the page cache where the filesystem allows it.
fn put_durably(
    dest: &FsPath,
    payload: &PutPayload,
    create: bool,
    direct_io: bool,
    shown: String,
) -> object_store::Result<String> {
    let io = |e: std::io::Error| generic(e.into());
    let (mut file, staging) = new_staging_file(dest).map_err(io)?;
    let written = (|| -> object_store::Result<std::fs::Metadata> {
        preallocate(&file, payload.content_length() as u64);
        let direct = direct_io && try_direct(&file);
        write_payload(&mut file, payload, direct).map_err(io)?;
        file.sync_all().map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        drop(file);
        if create {
            std::fs::hard_link(&staging, dest).map_err(|e| match e.kind() {
                ErrorKind::AlreadyExists => object_store::Error::AlreadyExists {
                    path: shown,
                    source: e.into(),
                },
                _ => io(e),
            })?;
        } else {
            std::fs::rename(&staging, dest).map_err(io)?;
        }
        Ok(meta)
    })();
    // After a link the staging name is left over; after a failure, the whole file. A
    // leftover is never listed (as with `LocalFileSystem`), so failing to remove it is
    // not the PUT's failure.
    if create || written.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    let meta = written?;
    sync_parent(dest).map_err(io)?;
    let mtime_micros = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default()
        .as_micros();
    Ok(format!(
        "{:x}-{mtime_micros:x}-{:x}",
        meta.ino(),
        meta.len()
    ))
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
        let create = match opts.mode {
            PutMode::Create => true,
            PutMode::Overwrite => false,
            // What `LocalFileSystem` refuses (conditional updates, attributes) it refuses
            // here too, with its own error.
            PutMode::Update(_) => return self.inner.put_opts(location, payload, opts).await,
        };
        if !opts.attributes.is_empty() {
            return self.inner.put_opts(location, payload, opts).await;
        }
        let dest = self.root.join(location.as_ref());
        let shown = location.to_string();
        let direct_io = self.direct_io;
        let e_tag =
            blocking(move || put_durably(&dest, &payload, create, direct_io, shown)).await?;
        Ok(PutResult {
            e_tag: Some(e_tag),
            version: None,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &FsPath) -> Vec<String> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                found.extend(files_under(&path));
            } else {
                found.push(path.display().to_string());
            }
        }
        found
    }

    /// A `file://` store under a new temporary directory, and the directory it writes to.
    fn file_store() -> (tempfile::TempDir, PathBuf, Arc<dyn ObjectStore>) {
        file_store_with(false)
    }

    fn file_store_with(direct_io: bool) -> (tempfile::TempDir, PathBuf, Arc<dyn ObjectStore>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("objects");
        let store = crate::open_object_store_with(
            &format!("file://{}", root.display()),
            &[],
            crate::LocalWrites { direct_io },
        )
        .expect("file store")
        .store;
        (dir, root, store)
    }

    async fn read(store: &dyn ObjectStore, key: &Path) -> bytes::Bytes {
        let got = store.get(key).await.expect("get");
        got.bytes().await.expect("body")
    }

    #[tokio::test]
    async fn a_put_of_more_parts_than_one_writev_takes_lands_in_order() {
        let (_dir, _, store) = file_store();
        // Three times Linux's IOV_MAX of 1,024, empty parts among them and at the end.
        let parts: Vec<bytes::Bytes> = (0..3_000u32)
            .map(|i| {
                let len = (i % 7) as usize * 3;
                bytes::Bytes::from(vec![(i % 251) as u8; len])
            })
            .chain([bytes::Bytes::new(), bytes::Bytes::new()])
            .collect();
        let expected: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let key = Path::from("many-parts.seg");
        store
            .put_opts(&key, PutPayload::from_iter(parts), PutMode::Create.into())
            .await
            .expect("put");
        assert_eq!(read(&*store, &key).await.as_ref(), expected.as_slice());
    }

    #[tokio::test]
    async fn an_object_is_exactly_as_long_as_its_payload_buffered_or_direct() {
        for direct_io in [false, true] {
            let (_dir, root, store) = file_store_with(direct_io);
            // Empty (nothing to allocate or write), under a block, just over one, and more
            // than the direct buffer's chunks.
            for len in [0usize, 1, 4_097, (3 << 20) + 5] {
                let key = Path::from(format!("sized/{len}.seg"));
                let body: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
                let put = store
                    .put_opts(&key, body.clone().into(), PutMode::Create.into())
                    .await
                    .expect("put");
                let on_disk = std::fs::metadata(root.join(key.as_ref())).expect("stat");
                assert_eq!(on_disk.len(), len as u64, "{len} bytes, direct {direct_io}");
                let head = store.head(&key).await.expect("head");
                assert_eq!(head.size, len as u64);
                assert_eq!(put.e_tag, head.e_tag, "PUT and HEAD agree on the ETag");
                assert!(
                    read(&*store, &key).await.as_ref() == body.as_slice(),
                    "{len} bytes read back, direct {direct_io}"
                );
            }
            assert_eq!(
                files_under(&root).len(),
                4,
                "no staging file is left behind"
            );
        }
    }

    #[test]
    fn direct_and_buffered_writes_store_the_same_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Parts that straddle the direct buffer's chunks and the alignment, empty ones among
        // them.
        let sizes = [0usize, 1, 4_095, 4_096, 700_000, 1 << 20, 3, 1_500_001];
        let parts: Vec<bytes::Bytes> = sizes
            .iter()
            .enumerate()
            .map(|(i, &len)| bytes::Bytes::from(vec![i as u8 + 1; len]))
            .collect();
        let expected: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
        let payload = PutPayload::from_iter(parts);
        for direct in [false, true] {
            let path = dir.path().join(format!("direct-{direct}"));
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .expect("create");
            // The temporary directory is on ext4 here; tmpfs takes `O_DIRECT` since
            // Linux 6.6. Elsewhere than Linux the buffered path is the only one.
            let direct = direct && {
                let switched = try_direct(&file);
                assert_eq!(switched, cfg!(target_os = "linux"), "O_DIRECT taken");
                switched
            };
            write_payload(&mut file, &payload, direct).expect("write");
            drop(file);
            let written = std::fs::read(&path).expect("read back");
            assert_eq!(written.len(), expected.len(), "length, direct {direct}");
            assert!(written == expected, "bytes differ, direct {direct}");
        }
    }

    #[tokio::test]
    async fn puts_land_whole_with_the_etag_reads_report_and_leave_no_staging_files() {
        let (_dir, root, store) = file_store();
        let key = Path::from("flushes/nested/one.seg");

        let put = store
            .put_opts(
                &key,
                PutPayload::from_iter([bytes::Bytes::from_static(b"ab"), "cd".into()]),
                PutMode::Create.into(),
            )
            .await
            .expect("create in a directory that does not exist yet");
        let head = store.head(&key).await.expect("head");
        assert_eq!(put.e_tag, head.e_tag, "PUT and HEAD agree on the ETag");
        let got = read(&*store, &key).await;
        assert_eq!(&got[..], b"abcd");

        let refused = store
            .put_opts(&key, "zz".into(), PutMode::Create.into())
            .await;
        assert!(
            matches!(refused, Err(object_store::Error::AlreadyExists { .. })),
            "{refused:?}"
        );
        let got = read(&*store, &key).await;
        assert_eq!(
            &got[..],
            b"abcd",
            "a refused create leaves the object alone"
        );

        store
            .put_opts(&key, "xyz".into(), PutMode::Overwrite.into())
            .await
            .expect("overwrite");
        let got = read(&*store, &key).await;
        assert_eq!(&got[..], b"xyz");

        assert_eq!(
            files_under(&root),
            vec![root.join("flushes/nested/one.seg").display().to_string()],
            "no staging file is left behind"
        );
    }
}
