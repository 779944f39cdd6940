//! The segment object format.
//!
//! ```text
//! +----------------------+  0
//! | magic "SHSEG\0\0\x01" |  8 bytes
//! +----------------------+
//! | chunk: partition A   |  record batches of one partition, contiguous, exactly as
//! | chunk: partition B   |  stored in the log (baseOffset already patched)
//! | ...                  |
//! +----------------------+  index_offset
//! | index: count: u32    |
//! |   entry × count      |  INDEX_ENTRY_LEN bytes each (see [`ChunkMeta`])
//! +----------------------+
//! | footer               |  index_offset u64, index_len u32, index_crc32c u32, magic
//! +----------------------+
//! ```
//!
//! The metadata store's segment rows carry the same (partition, offsets, byte range), so
//! reads never parse the index; it is there so that an object can be verified, recovered or
//! re-indexed on its own. All integers are big-endian, like Kafka's.

use std::ops::Range;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use object_store::PutPayload;
use streamhouse_types::{Offset, PartitionId, TimestampMs};
use uuid::Uuid;

/// Leading and trailing magic of every segment object (format version 1).
pub const MAGIC: &[u8; 8] = b"SHSEG\0\0\x01";
const INDEX_ENTRY_LEN: usize = 16 + 4 + 8 * 6;
const FOOTER_LEN: usize = 8 + 4 + 4 + MAGIC.len();

/// What one chunk holds: one partition's contiguous run of batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Topic id.
    pub topic_id: Uuid,
    /// Partition index.
    pub partition: PartitionId,
    /// First offset.
    pub base_offset: Offset,
    /// Last offset (inclusive).
    pub last_offset: Offset,
    /// Largest timestamp.
    pub max_timestamp: TimestampMs,
    /// Records in the chunk.
    pub record_count: i64,
}

impl ChunkMeta {
    /// A placeholder chunk description, for examples and tests.
    pub fn example() -> Self {
        Self {
            topic_id: Uuid::nil(),
            partition: 0,
            base_offset: 0,
            last_offset: 0,
            max_timestamp: 0,
            record_count: 1,
        }
    }
}

/// An index entry: a chunk and where it lies in the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// What the chunk holds.
    pub meta: ChunkMeta,
    /// Byte range within the object.
    pub range: Range<u64>,
}

/// Assembles one object from chunks without copying them: the payload is a list of the
/// chunks' own `Bytes`.
#[derive(Debug)]
pub struct ObjectBuilder {
    parts: Vec<Bytes>,
    index: Vec<IndexEntry>,
    len: u64,
}

impl Default for ObjectBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectBuilder {
    /// An empty object (header only).
    pub fn new() -> Self {
        Self {
            parts: vec![Bytes::from_static(MAGIC)],
            index: Vec::new(),
            len: MAGIC.len() as u64,
        }
    }

    /// Appends a chunk made of `pieces` (concatenated) and returns its byte range.
    pub fn push_chunk(
        &mut self,
        meta: ChunkMeta,
        pieces: impl IntoIterator<Item = Bytes>,
    ) -> Range<u64> {
        let start = self.len;
        for piece in pieces {
            self.len += piece.len() as u64;
            self.parts.push(piece);
        }
        let range = start..self.len;
        self.index.push(IndexEntry {
            meta,
            range: range.clone(),
        });
        range
    }

    /// Bytes of chunk data so far (excluding header, index and footer).
    pub fn data_len(&self) -> u64 {
        self.len - MAGIC.len() as u64
    }

    /// Whether no chunk was added.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Appends index and footer; returns the payload to upload.
    pub fn finish(mut self) -> PutPayload {
        let index_offset = self.len;
        let mut index =
            BytesMut::with_capacity(4 + self.index.len() * INDEX_ENTRY_LEN + FOOTER_LEN);
        index.put_u32(self.index.len() as u32);
        for entry in &self.index {
            index.put_slice(entry.meta.topic_id.as_bytes());
            index.put_i32(entry.meta.partition);
            index.put_i64(entry.meta.base_offset);
            index.put_i64(entry.meta.last_offset);
            index.put_i64(entry.meta.max_timestamp);
            index.put_i64(entry.meta.record_count);
            index.put_u64(entry.range.start);
            index.put_u64(entry.range.end - entry.range.start);
        }
        let index_len = index.len() as u32;
        let crc = crc32c(&index);
        index.put_u64(index_offset);
        index.put_u32(index_len);
        index.put_u32(crc);
        index.put_slice(MAGIC);
        self.parts.push(index.freeze());
        self.parts.into_iter().collect()
    }
}

/// CRC-32C (Castagnoli) of an object index.
fn crc32c(bytes: &[u8]) -> u32 {
    // A 32-bit CRC in the library's u64 result.
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, bytes) as u32
}

/// Reads the index of a whole object, checking magic numbers, bounds and the index CRC.
pub fn decode_index(object: &[u8]) -> Result<Vec<IndexEntry>, String> {
    if object.len() < MAGIC.len() + FOOTER_LEN || &object[..MAGIC.len()] != MAGIC {
        return Err("missing header magic".into());
    }
    let mut footer = &object[object.len() - FOOTER_LEN..];
    let index_offset = footer.get_u64();
    let index_len = footer.get_u32() as usize;
    let crc = footer.get_u32();
    if footer != MAGIC {
        return Err("missing footer magic".into());
    }
    let index_start = usize::try_from(index_offset).map_err(|_| "index offset overflows")?;
    let index_end = index_start
        .checked_add(index_len)
        .filter(|end| *end == object.len() - FOOTER_LEN)
        .ok_or("index bounds do not match the footer")?;
    let mut index = &object[index_start..index_end];
    if crc32c(index) != crc {
        return Err("index CRC mismatch".into());
    }
    let count = index.get_u32() as usize;
    if index.len() != count * INDEX_ENTRY_LEN {
        return Err(format!(
            "index holds {} bytes for {count} entries",
            index.len()
        ));
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let mut id = [0u8; 16];
        index.copy_to_slice(&mut id);
        let meta = ChunkMeta {
            topic_id: Uuid::from_bytes(id),
            partition: index.get_i32(),
            base_offset: index.get_i64(),
            last_offset: index.get_i64(),
            max_timestamp: index.get_i64(),
            record_count: index.get_i64(),
        };
        let start = index.get_u64();
        let len = index.get_u64();
        let end = start.checked_add(len).ok_or("chunk range overflows")?;
        if start < MAGIC.len() as u64 || end > index_offset {
            return Err(format!("chunk {start}..{end} lies outside the data area"));
        }
        entries.push(IndexEntry {
            meta,
            range: start..end,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flatten(payload: PutPayload) -> Bytes {
        let mut out = BytesMut::new();
        for part in payload.iter() {
            out.extend_from_slice(part);
        }
        out.freeze()
    }

    #[test]
    fn index_round_trips_and_chunks_are_where_it_says() {
        let mut builder = ObjectBuilder::new();
        let a = ChunkMeta {
            topic_id: Uuid::from_u128(7),
            partition: 3,
            base_offset: 100,
            last_offset: 109,
            max_timestamp: 1_700_000_000_000,
            record_count: 10,
        };
        let b = ChunkMeta { partition: 4, ..a };
        let ra = builder.push_chunk(a, [Bytes::from_static(b"aaaa"), Bytes::from_static(b"AA")]);
        let rb = builder.push_chunk(b, [Bytes::from_static(b"bbb")]);
        assert_eq!(builder.data_len(), 9);
        let object = flatten(builder.finish());
        let index = decode_index(&object).expect("valid");
        assert_eq!(
            index,
            vec![
                IndexEntry {
                    meta: a,
                    range: ra.clone()
                },
                IndexEntry {
                    meta: b,
                    range: rb.clone()
                }
            ]
        );
        assert_eq!(&object[ra.start as usize..ra.end as usize], b"aaaaAA");
        assert_eq!(&object[rb.start as usize..rb.end as usize], b"bbb");
    }

    #[test]
    fn damaged_objects_are_rejected_not_misread() {
        let mut builder = ObjectBuilder::new();
        builder.push_chunk(ChunkMeta::example(), [Bytes::from_static(b"x")]);
        let object = flatten(builder.finish());
        assert!(decode_index(&object[..object.len() - 1]).is_err());
        assert!(decode_index(&object[1..]).is_err());
        assert!(decode_index(b"").is_err());
        let mut flipped = object.to_vec();
        let i = flipped.len() - FOOTER_LEN - 3;
        flipped[i] ^= 0xff;
        assert_eq!(decode_index(&flipped), Err("index CRC mismatch".into()));
    }
}
