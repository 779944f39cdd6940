//! The bytes of a pending chunk, kept in blocks that are never reallocated.
//!
//! One growing buffer per partition doubles its capacity as batches arrive: every doubling
//! copies what is already there, and while it copies, the old and the new buffer are both
//! live. Under a burst that is the largest use of memory in the agent (about 2.5 × the
//! buffered bytes). Here a full block is frozen and a new one started, so bytes are copied
//! once (from the request) and memory stays close to what is buffered. Each block holds
//! whole batches and knows their offsets, so it becomes a tail entry as it is.
//!
//! Blocks leaving the tail go back to a [`BlockPool`] for reuse. A fresh block is fresh
//! memory to the kernel: copying a produce request into it faults in every page, and
//! under a steady stream that was a tenth of the agent's CPU.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};
use streamhouse_types::Offset;

/// Smallest block allocated, so a trickle of tiny batches does not allocate per batch.
const MIN_BLOCK: usize = 16 * 1024;
/// Largest block allocated for batches smaller than it; bigger batches get a block of
/// their own size.
const MAX_BLOCK: usize = 1024 * 1024;

/// Bytes of idle blocks a [`BlockPool`] keeps. A steady stream evicts from the tail about
/// what one flush adds, so a few flushes' worth covers it; more would only be memory the
/// agent holds while idle.
pub(crate) const POOL_BYTES: usize = 8 * 1024 * 1024;

/// Block allocations returned by the tail, kept for the next pending chunks.
///
/// Capacities are rounded up to a quarter of a power of two. A chunk takes the newest idle
/// block of its size class or up to twice it, so a block taken is at least half filled by
/// a chunk of the expected size and is not trimmed when sealed. When full, the pool drops
/// its oldest blocks, so what it holds follows the sizes partitions currently ask for.
#[derive(Debug)]
pub(crate) struct BlockPool {
    limit: usize,
    idle: Mutex<Idle>,
}

#[derive(Debug, Default)]
struct Idle {
    /// Cleared blocks, oldest first.
    blocks: VecDeque<BytesMut>,
    bytes: usize,
}

impl Default for BlockPool {
    fn default() -> Self {
        Self::new(POOL_BYTES)
    }
}

impl BlockPool {
    /// A pool keeping at most `limit` bytes of idle blocks.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            idle: Mutex::new(Idle::default()),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Idle> {
        // Every step under this lock leaves the pool consistent, so a poisoned guard is
        // still good.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An empty block of at least `wanted` bytes (`MIN_BLOCK..=MAX_BLOCK`): an idle one
    /// of up to twice its size class, or a new one.
    fn take(&self, wanted: usize) -> BytesMut {
        let class = size_class(wanted);
        let mut idle = self.idle();
        // Newest first: a steady stream finds a block of its size at once.
        let found = idle
            .blocks
            .iter()
            .rposition(|block| (class..2 * class).contains(&block.capacity()))
            .and_then(|i| idle.blocks.remove(i));
        match found {
            Some(block) => {
                idle.bytes -= block.capacity();
                block
            }
            None => {
                drop(idle);
                BytesMut::with_capacity(class)
            }
        }
    }

    /// Keeps `block`'s allocation for reuse if nothing else refers to it and it has a
    /// pooled size; otherwise it is freed.
    pub(crate) fn give(&self, block: Bytes) {
        if let Ok(block) = block.try_into_mut() {
            self.give_mut(block);
        }
    }

    fn give_mut(&self, mut block: BytesMut) {
        let capacity = block.capacity();
        if !(MIN_BLOCK..=MAX_BLOCK).contains(&capacity)
            || size_class(capacity) != capacity
            || capacity > self.limit
        {
            return;
        }
        block.clear();
        let mut idle = self.idle();
        while idle.bytes + capacity > self.limit {
            let Some(oldest) = idle.blocks.pop_front() else {
                break;
            };
            idle.bytes -= oldest.capacity();
        }
        idle.bytes += capacity;
        idle.blocks.push_back(block);
    }

    /// Bytes of idle blocks held.
    #[cfg(test)]
    fn idle_bytes(&self) -> usize {
        self.idle().bytes
    }
}

/// `wanted` rounded up to a quarter of its power of two.
fn size_class(wanted: usize) -> usize {
    let wanted = wanted.max(4);
    let quarter = (wanted.next_power_of_two() / 8).max(1);
    wanted.div_ceil(quarter) * quarter
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

    /// Copies `batch` (offsets `base_offset..=last_offset`) in and returns the stored copy,
    /// for patching. `size_hint` is the expected size of the whole chunk (what the
    /// partition flushed last time); it sizes the first block so a steady stream fills one
    /// block per flush. New blocks come from `pool`.
    pub(crate) fn push(
        &mut self,
        batch: &[u8],
        base_offset: Offset,
        last_offset: Offset,
        size_hint: usize,
        pool: &BlockPool,
    ) -> &mut [u8] {
        let fits = self
            .open
            .as_ref()
            .is_some_and(|open| open.bytes.capacity() - open.bytes.len() >= batch.len());
        if !fits {
            let previous = self.open.take().map(|open| {
                let capacity = open.bytes.capacity();
                self.full.push(seal(open, pool));
                capacity
            });
            let wanted = match previous {
                // Double as a chunk outgrows its estimate, as a growing buffer would.
                Some(capacity) => capacity.saturating_mul(2),
                None => size_hint,
            };
            let bytes = if batch.len() > MAX_BLOCK {
                BytesMut::with_capacity(batch.len())
            } else {
                pool.take(wanted.clamp(MIN_BLOCK, MAX_BLOCK).max(batch.len()))
            };
            self.open = Some(OpenBlock {
                base_offset,
                last_offset,
                bytes,
            });
        }
        let Some(open) = self.open.as_mut() else {
            unreachable!("a block was opened above");
        };
        open.last_offset = last_offset;
        let start = open.bytes.len();
        open.bytes.extend_from_slice(batch);
        self.len += batch.len();
        &mut open.bytes[start..]
    }

    /// Every block, frozen, in offset order.
    pub(crate) fn into_blocks(mut self, pool: &BlockPool) -> Vec<Block> {
        if let Some(open) = self.open.take() {
            self.full.push(seal(open, pool));
        }
        self.full
    }
}

/// Freezes a block. A block less than half used is copied to an exact-size allocation
/// first, and its own goes back to `pool`: blocks live on in the tail, which is bounded by
/// the bytes it holds, not by their allocations.
fn seal(open: OpenBlock, pool: &BlockPool) -> Block {
    let bytes = if open.bytes.len() * 2 < open.bytes.capacity() {
        let copy = Bytes::copy_from_slice(&open.bytes);
        pool.give_mut(open.bytes);
        copy
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

    #[test]
    fn blocks_keep_batches_whole_and_in_order() {
        let pool = BlockPool::default();
        let mut buffer = BlockBuffer::default();
        let batch = vec![7u8; 10_000];
        for i in 0..300 {
            let stored = buffer.push(&batch, i * 10, i * 10 + 9, 0, &pool);
            stored[0] = i as u8;
        }
        assert_eq!(buffer.len(), 3_000_000);
        let blocks = buffer.into_blocks(&pool);
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
        let pool = BlockPool::default();
        let mut buffer = BlockBuffer::default();
        buffer.push(&[1; 100], 0, 0, 0, &pool);
        buffer.push(&vec![2; 3 * MAX_BLOCK], 1, 1, 0, &pool);
        let blocks = buffer.into_blocks(&pool);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1].bytes.len(), 3 * MAX_BLOCK);
        assert_eq!((blocks[1].base_offset, blocks[1].last_offset), (1, 1));
    }

    #[test]
    fn the_size_hint_makes_one_block_and_a_mostly_empty_block_is_trimmed() {
        let pool = BlockPool::default();
        let mut buffer = BlockBuffer::default();
        for i in 0..50 {
            buffer.push(&[0; 1000], i, i, 64 * 1024, &pool);
        }
        let blocks = buffer.into_blocks(&pool);
        assert_eq!(blocks.len(), 1, "the hint covered the whole chunk");

        // The hint promised 1 MiB; 1 KB came. What is kept is not the 1 MiB block.
        let pool = BlockPool::default();
        let mut buffer = BlockBuffer::default();
        buffer.push(&[0; 1000], 0, 0, MAX_BLOCK, &pool);
        let block = buffer.into_blocks(&pool).remove(0);
        assert_eq!(block.bytes.len(), 1000);
        assert!(
            BytesMut::from(block.bytes).capacity() < MAX_BLOCK / 2,
            "a mostly empty block keeps only what it holds"
        );
    }

    #[test]
    fn evicted_blocks_are_reused_when_nobody_else_holds_them() {
        let pool = BlockPool::new(4 * MAX_BLOCK);
        let mut buffer = BlockBuffer::default();
        buffer.push(&[1; 150_000], 0, 0, 150_000, &pool);
        let block = buffer.into_blocks(&pool).remove(0);
        let capacity = size_class(150_000);
        assert_eq!(capacity, 160 * 1024, "rounded up to a quarter of 128 KiB");
        let address = block.bytes.as_ptr();

        // A reader still holds it: it cannot be reused.
        let reader = block.bytes.clone();
        pool.give(block.bytes);
        assert_eq!(pool.idle_bytes(), 0);

        // The last holder gives it back, and a chunk of a similar size gets it, empty.
        pool.give(reader);
        assert_eq!(pool.idle_bytes(), capacity);
        let mut buffer = BlockBuffer::default();
        let stored = buffer.push(&[2; 10], 1, 1, 140_000, &pool);
        assert_eq!(
            stored.as_ptr(),
            address,
            "the evicted allocation was reused"
        );
        assert_eq!(pool.idle_bytes(), 0);
        let block = buffer.into_blocks(&pool).remove(0);
        assert_eq!(
            &block.bytes[..],
            &[2; 10],
            "nothing of the old contents remains"
        );
    }

    #[test]
    fn the_pool_keeps_only_pooled_sizes_up_to_its_limit() {
        let pool = BlockPool::new(MAX_BLOCK + 64 * 1024);
        pool.give(Bytes::from(vec![0u8; 3 * MAX_BLOCK]));
        pool.give(Bytes::from(vec![0u8; 1000]));
        pool.give(Bytes::from(vec![0u8; 100_001]));
        assert_eq!(
            pool.idle_bytes(),
            0,
            "oversized, tiny and odd sizes are freed"
        );
        pool.give(Bytes::from(vec![0u8; 64 * 1024]));
        pool.give(Bytes::from(vec![0u8; MAX_BLOCK]));
        assert_eq!(pool.idle_bytes(), MAX_BLOCK + 64 * 1024);
        pool.give(Bytes::from(vec![0u8; 48 * 1024]));
        assert_eq!(
            pool.idle_bytes(),
            MAX_BLOCK + 48 * 1024,
            "the limit holds: the oldest block made room"
        );
        assert_eq!(
            pool.take(200 * 1024).capacity(),
            224 * 1024,
            "nothing within twice the class: a new block"
        );
        assert_eq!(pool.take(40 * 1024).capacity(), 48 * 1024);
        assert_eq!(pool.take(600 * 1024).capacity(), MAX_BLOCK);
        assert_eq!(pool.idle_bytes(), 0);
    }

    #[test]
    fn size_classes_waste_at_most_a_quarter() {
        for wanted in (MIN_BLOCK..=MAX_BLOCK).step_by(997) {
            let class = size_class(wanted);
            assert!(class >= wanted && class <= MAX_BLOCK);
            assert!((class - wanted) * 4 <= wanted, "{wanted} -> {class}");
            assert_eq!(size_class(class), class, "a class is its own class");
        }
    }
}
