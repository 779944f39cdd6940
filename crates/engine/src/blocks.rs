//! The bytes of a pending chunk, kept in blocks that are never reallocated.
//!
//! One growing buffer per partition doubles its capacity as batches arrive: every doubling
//! copies what is already there, and while it copies, the old and the new buffer are both
//! live. Under a burst that is the largest use of memory in the agent (about 2.5 × the
//! buffered bytes). Here a full block is frozen and a new one started, so bytes are copied
//! once (from the request) and memory stays close to what is buffered. Each block holds
//! whole batches and knows their offsets, so it becomes a tail entry as it is.
//!
//! A large record set that arrives in a buffer of its own ([`Records::Owned`], a slice of a
//! Produce request read into its own allocation) is not copied at all: it is patched in
//! place and becomes a block by itself. Copying every produced byte was the largest
//! user-space cost of a produce-heavy agent.

use std::ops::Deref;

use bytes::{Bytes, BytesMut};
use streamhouse_types::Offset;

/// Smallest block allocated, so a trickle of tiny batches does not allocate per batch.
const MIN_BLOCK: usize = 16 * 1024;
/// Largest block allocated for batches smaller than it; bigger batches get a block of
/// their own size.
const MAX_BLOCK: usize = 1024 * 1024;
/// Smallest owned record set kept as its own block. Smaller ones are copied into the open
/// block, so that small appends still share blocks (fewer tail entries and write slices).
/// A kept record set holds on to the whole request buffer it is a slice of until every
/// partition's part of that request has left the tail: with clients' usual 1 MiB request
/// limit, at most 32 times its own size.
const KEEP_MIN: usize = 32 * 1024;

/// Record batches handed to the engine.
#[derive(Debug, Clone)]
pub enum Records {
    /// A buffer no one else reads: the engine patches the batches in place and keeps
    /// the buffer as it is, without a copy.
    Owned(BytesMut),
    /// Bytes that may be shared: the engine copies them.
    Shared(Bytes),
}

impl Deref for Records {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Self::Owned(bytes) => bytes,
            Self::Shared(bytes) => bytes,
        }
    }
}

impl From<Bytes> for Records {
    fn from(bytes: Bytes) -> Self {
        Self::Shared(bytes)
    }
}

impl From<BytesMut> for Records {
    fn from(bytes: BytesMut) -> Self {
        Self::Owned(bytes)
    }
}

/// A frozen block: whole batches with offsets `base_offset..=last_offset`.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) base_offset: Offset,
    pub(crate) last_offset: Offset,
    pub(crate) bytes: Bytes,
}

/// The block being filled.
#[derive(Debug)]
struct OpenBlock {
    base_offset: Offset,
    last_offset: Offset,
    bytes: BytesMut,
}

/// Batches accepted since the last flush, in blocks.
#[derive(Debug, Default)]
pub(crate) struct BlockBuffer {
    full: Vec<Block>,
    open: Option<OpenBlock>,
    len: usize,
}

impl BlockBuffer {
    /// Bytes held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `records` (whole batches with offsets `base_offset..=last_offset`) after
    /// `patch` has rewritten them where they are stored: in place for a large owned buffer,
    /// which becomes a block of its own, else in a copy in the open block. `size_hint` is
    /// the expected size of the whole chunk (what the partition flushed last time); it
    /// sizes the first block so a steady stream fills one block per flush.
    pub(crate) fn push(
        &mut self,
        records: Records,
        base_offset: Offset,
        last_offset: Offset,
        size_hint: usize,
        patch: impl FnOnce(&mut [u8]),
    ) {
        self.len += records.len();
        match records {
            Records::Owned(mut bytes) if bytes.len() >= KEEP_MIN => {
                patch(&mut bytes);
                if let Some(open) = self.open.take() {
                    self.full.push(seal(open));
                }
                self.full.push(Block {
                    base_offset,
                    last_offset,
                    bytes: bytes.freeze(),
                });
            }
            records => patch(self.copy_in(&records, base_offset, last_offset, size_hint)),
        }
    }

    /// Copies `batches` into the open block, opening a new one if they do not fit, and
    /// returns the copy.
    fn copy_in(
        &mut self,
        batches: &[u8],
        base_offset: Offset,
        last_offset: Offset,
        size_hint: usize,
    ) -> &mut [u8] {
        let fits = self
            .open
            .as_ref()
            .is_some_and(|open| open.bytes.capacity() - open.bytes.len() >= batches.len());
        if !fits {
            let previous = self.open.take().map(|open| {
                let capacity = open.bytes.capacity();
                self.full.push(seal(open));
                capacity
            });
            let wanted = match previous {
                // Double as a chunk outgrows its estimate, as a growing buffer would.
                Some(capacity) => capacity.saturating_mul(2),
                None => size_hint,
            };
            let capacity = wanted.clamp(MIN_BLOCK, MAX_BLOCK).max(batches.len());
            self.open = Some(OpenBlock {
                base_offset,
                last_offset,
                bytes: BytesMut::with_capacity(capacity),
            });
        }
        let Some(open) = self.open.as_mut() else {
            unreachable!("a block was opened above");
        };
        open.last_offset = last_offset;
        let start = open.bytes.len();
        open.bytes.extend_from_slice(batches);
        &mut open.bytes[start..]
    }

    /// Every block, frozen, in offset order.
    pub(crate) fn into_blocks(mut self) -> Vec<Block> {
        if let Some(open) = self.open.take() {
            self.full.push(seal(open));
        }
        self.full
    }
}

/// Freezes a block. A block less than half used is copied to an exact-size allocation
/// first: blocks live on in the tail, which is bounded by the bytes it holds, not by
/// their allocations.
fn seal(open: OpenBlock) -> Block {
    let bytes = if open.bytes.len() * 2 < open.bytes.capacity() {
        Bytes::copy_from_slice(&open.bytes)
    } else {
        open.bytes.freeze()
    };
    Block {
        base_offset: open.base_offset,
        last_offset: open.last_offset,
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(bytes: &[u8]) -> Records {
        Records::Shared(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn blocks_keep_batches_whole_and_in_order() {
        let mut buffer = BlockBuffer::default();
        let batch = vec![7u8; 10_000];
        for i in 0..300 {
            buffer.push(shared(&batch), i * 10, i * 10 + 9, 0, |stored| {
                stored[0] = i as u8;
            });
        }
        assert_eq!(buffer.len(), 3_000_000);
        let blocks = buffer.into_blocks();
        assert!(blocks.len() > 1, "3 MB does not fit one block");
        let mut next = 0;
        let mut seen = 0;
        for block in &blocks {
            assert_eq!(block.base_offset, next);
            assert_eq!(
                block.bytes.len() % 10_000,
                0,
                "no batch split across blocks"
            );
            for (j, piece) in block.bytes.chunks(10_000).enumerate() {
                assert_eq!(piece[0], (block.base_offset / 10 + j as i64) as u8);
            }
            next = block.last_offset + 1;
            seen += block.bytes.len();
        }
        assert_eq!((next, seen), (3000, 3_000_000));
    }

    #[test]
    fn a_batch_bigger_than_any_block_gets_its_own() {
        let mut buffer = BlockBuffer::default();
        buffer.push(shared(&[1; 100]), 0, 0, 0, |_| {});
        buffer.push(shared(&vec![2; 3 * MAX_BLOCK]), 1, 1, 0, |_| {});
        let blocks = buffer.into_blocks();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].bytes.len(), 3 * MAX_BLOCK);
        assert_eq!((blocks[1].base_offset, blocks[1].last_offset), (1, 1));
    }

    #[test]
    fn the_size_hint_makes_one_block_and_a_mostly_empty_block_is_trimmed() {
        let mut buffer = BlockBuffer::default();
        for i in 0..50 {
            buffer.push(shared(&[0; 1000]), i, i, 64 * 1024, |_| {});
        }
        let blocks = buffer.into_blocks();
        assert_eq!(blocks.len(), 1, "the hint covered the whole chunk");

        // The hint promised 1 MiB; 1 KB came. What is kept is not the 1 MiB block.
        let mut buffer = BlockBuffer::default();
        buffer.push(shared(&[0; 1000]), 0, 0, MAX_BLOCK, |_| {});
        let block = buffer.into_blocks().remove(0);
        assert_eq!(block.bytes.len(), 1000);
        assert!(
            BytesMut::from(block.bytes).capacity() < MAX_BLOCK / 2,
            "a mostly empty block keeps only what it holds"
        );
    }

    #[test]
    fn a_large_owned_record_set_is_kept_where_it_is_and_patched_in_place() {
        // Two partitions' record sets cut from one request buffer, as the Kafka server
        // hands them over.
        let mut request = BytesMut::from(&vec![9u8; 2 * KEEP_MIN + 10][..]);
        let header = request.split_to(10);
        let first = request.split_to(KEEP_MIN);
        let second = request;
        let first_at = first.as_ptr();

        let mut buffer = BlockBuffer::default();
        buffer.push(shared(&[1; 100]), 0, 0, 0, |_| {});
        buffer.push(Records::Owned(first), 1, 5, 0, |stored| stored[0] = 42);
        buffer.push(shared(&[2; 100]), 6, 6, 0, |_| {});
        assert_eq!(buffer.len(), 100 + KEEP_MIN + 100);
        let blocks = buffer.into_blocks();

        let ranges: Vec<_> = blocks
            .iter()
            .map(|b| (b.base_offset, b.last_offset))
            .collect();
        assert_eq!(
            ranges,
            [(0, 0), (1, 5), (6, 6)],
            "order and offsets are kept"
        );
        assert_eq!(blocks[1].bytes.as_ptr(), first_at, "kept, not copied");
        assert_eq!(blocks[1].bytes[0], 42, "patched in place");
        assert!(blocks[1].bytes[1..].iter().all(|&b| b == 9));
        drop((header, second));
    }

    #[test]
    fn a_small_owned_record_set_is_copied_into_the_open_block() {
        let small = BytesMut::from(&[3u8; 500][..]);
        let small_at = small.as_ptr();
        let mut buffer = BlockBuffer::default();
        buffer.push(shared(&[1; 100]), 0, 0, 0, |_| {});
        buffer.push(Records::Owned(small), 1, 1, 0, |stored| stored[0] = 7);
        let blocks = buffer.into_blocks();
        assert_eq!(blocks.len(), 1, "small appends share a block");
        assert_eq!((blocks[0].base_offset, blocks[0].last_offset), (0, 1));
        assert_ne!(blocks[0].bytes.as_ptr(), small_at);
        assert_eq!(blocks[0].bytes[100], 7, "the copy is what was patched");
    }
}
