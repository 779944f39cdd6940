//! One client connection: read frames, answer each request in order, until the client
//! leaves, idles out, misbehaves, or the server shuts down.
//!
//! Like Kafka, requests are handled one at a time and answered in order — with one
//! exception that matters for throughput: Produce requests are *accepted* (offsets
//! assigned) one at a time, in order, but their waits for durability overlap, up to
//! [`MAX_IN_FLIGHT`] per connection. Any other request first waits for those to finish,
//! so it sees everything produced before it on the connection.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use futures::stream::FuturesOrdered;
use futures::{FutureExt, StreamExt};
use streamhouse_metrics::KafkaMetrics;

use streamhouse_kafka_proto::{
    ApiKey, DecodeError, FrameError, api_name, decode_header, frame_len,
};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::Instrument;

use crate::handlers::{self, Encoded, PendingResponse};
use crate::listener::ServerContext;

/// Produce requests whose durability a connection waits for at once. librdkafka sends one
/// request per partition batch (every `linger.ms`): at 20,000 records/s over 1,000
/// partitions that is close to one request per record, and on S3, where a flush takes
/// 250 ms or more, a connection has 5,000-8,000 waiting. A cap below that stops the
/// connection reading: client-side queues and latency grow for the whole run (at 4,096:
/// p99 2.9 s and once no record for 10 s, against 0.4-0.5 s at 16,384). The bytes they
/// hold are bounded by the engine's buffer (`engine.max_buffered_bytes`), not by this
/// count; each waiting request otherwise costs a few hundred bytes of state.
const MAX_IN_FLIGHT: usize = 16_384;

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Closed {
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding the response failed: {0}")]
    Encode(String),
}

enum Read {
    Frame(Bytes),
    Eof,
    Idle,
}

/// The read buffer's starting size; it grows to hold a frame larger than that.
const READ_BUF: usize = 8 * 1024;

/// Frames at least this large leave the read buffer with its allocation to themselves.
const OWN_BUFFER_FROM: usize = 64 * 1024;

/// Reads the next whole frame (without its length prefix). Cancel-safe: partial data
/// stays in `buf`. The length is checked against `max` before space is reserved.
///
/// A large frame (a Produce request, mostly) leaves with the allocation it was read into,
/// and `buf` continues in a new one with a copy of the few bytes read past the frame. The
/// frame is then the only owner of its buffer, so the Produce handler can turn its record
/// sets into owned, writable slices that the engine keeps instead of copying.
async fn read_frame(
    socket: &mut TcpStream,
    buf: &mut BytesMut,
    max: usize,
    idle: std::time::Duration,
) -> Result<Read, Closed> {
    loop {
        if let Some(len) = frame_len(buf, max)? {
            let mut frame = buf.split_to(4 + len);
            let frame = frame.split_off(4).freeze();
            if len >= OWN_BUFFER_FROM {
                let rest = std::mem::replace(buf, BytesMut::with_capacity(READ_BUF));
                buf.extend_from_slice(&rest);
            }
            return Ok(Read::Frame(frame));
        }
        if buf.len() >= 4 {
            let want = 4 + i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            buf.reserve(want - buf.len());
        }
        match tokio::time::timeout(idle, socket.read_buf(buf)).await {
            Err(_) => return Ok(Read::Idle),
            Ok(read) => {
                if read? == 0 {
                    return Ok(Read::Eof);
                }
            }
        }
    }
}

pub(crate) async fn serve(mut socket: TcpStream, peer: SocketAddr, context: Arc<ServerContext>) {
    let _ = socket.set_nodelay(true);
    let max = context.config.max_request_bytes.as_u64() as usize;
    let idle = context.config.idle_timeout;
    let mut buf = BytesMut::with_capacity(READ_BUF);
    let context = &*context;
    let metrics = &context.engine.metrics().kafka;
    let _open = OpenConnection::new(metrics);
    let result: Result<(), Closed> = async {
        let mut in_flight: FuturesOrdered<PendingResponse<'_>> = FuturesOrdered::new();
        loop {
            tokio::select! {
                biased;
                Some(response) = in_flight.next(), if !in_flight.is_empty() => {
                    // A flush makes many produce requests durable at once: answer every
                    // one already done in one write rather than a syscall each.
                    let mut out = Outgoing::default();
                    out.push(response?);
                    while let Some(Some(response)) = in_flight.next().now_or_never() {
                        out.push(response?);
                    }
                    out.write_to(&mut socket).await?;
                }
                read = read_frame(&mut socket, &mut buf, max, idle), if in_flight.len() < MAX_IN_FLIGHT => {
                    let frame = match read? {
                        Read::Frame(frame) => frame,
                        Read::Eof => break,
                        Read::Idle if in_flight.is_empty() => {
                            tracing::debug!(%peer, "closing idle connection");
                            break;
                        }
                        Read::Idle => continue,
                    };
                    let request = decode_header(frame).inspect_err(|_| metrics.request_error("Other"))?;
                    if request.api_key == ApiKey::Produce {
                        in_flight.push_back(handlers::submit_produce(context, request).await?);
                        continue;
                    }
                    // Everything else sees the effects of the produce requests before it.
                    while let Some(response) = in_flight.next().await {
                        Outgoing::from(response?).write_to(&mut socket).await?;
                    }
                    let api = api_name(request.api_key);
                    let started = Instant::now();
                    let span = tracing::debug_span!(
                        "kafka_request",
                        api,
                        version = request.header.request_api_version,
                        correlation_id = request.header.correlation_id,
                        client_id = request.header.client_id.as_deref().unwrap_or_default(),
                    );
                    let answered = handlers::dispatch(context, peer, request).instrument(span).await;
                    match &answered {
                        Ok(_) => metrics.request(api, started.elapsed()),
                        Err(_) => metrics.request_error(api),
                    }
                    Outgoing::from(answered?).write_to(&mut socket).await?;
                }
                () = context.shutdown.cancelled() => break,
            }
        }
        // Answer what was accepted before leaving.
        while let Some(response) = in_flight.next().await {
            Outgoing::from(response?).write_to(&mut socket).await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => tracing::trace!(%peer, "connection closed"),
        Err(Closed::Io(error)) => tracing::debug!(%peer, %error, "connection dropped"),
        Err(error) => tracing::warn!(%peer, %error, "closing connection"),
    }
}

/// Buffers shorter than this are copied together rather than given a vectored-write slot
/// each: a flush completes hundreds of Produce answers of ~100 bytes at once, and one
/// `writev` takes at most 64 slices.
const JOIN_BELOW: usize = 4096;

/// Encoded responses waiting to be written, in order. A Fetch response's batches go out
/// from their own buffers in vectored writes; small pieces (answers, response heads) are
/// joined first.
#[derive(Default)]
struct Outgoing {
    queued: Queued,
    /// Small pieces since the last large one, joined.
    joining: BytesMut,
}

impl From<Option<Encoded>> for Outgoing {
    fn from(response: Option<Encoded>) -> Self {
        let mut out = Self::default();
        out.push(response);
        out
    }
}

impl Outgoing {
    /// Queues a response (`None`: nothing to send).
    fn push(&mut self, response: Option<Encoded>) {
        for part in response.into_iter().flatten() {
            if part.len() < JOIN_BELOW {
                self.joining.extend_from_slice(&part);
            } else {
                self.end_joining();
                self.queued.push(part);
            }
        }
    }

    fn end_joining(&mut self) {
        if !self.joining.is_empty() {
            self.queued.push(self.joining.split().freeze());
        }
    }

    /// Bytes queued.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.queued.remaining + self.joining.len()
    }

    async fn write_to<W: AsyncWrite + Unpin>(mut self, socket: &mut W) -> std::io::Result<()> {
        self.end_joining();
        socket.write_all_buf(&mut self.queued).await
    }
}

/// Buffers to write, as a [`Buf`] that hands the socket all of them at once.
#[derive(Default)]
struct Queued {
    parts: VecDeque<Bytes>,
    remaining: usize,
}

impl Queued {
    fn push(&mut self, part: Bytes) {
        self.remaining += part.len();
        self.parts.push_back(part);
    }
}

impl Buf for Queued {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.parts.front().map_or(&[], |part| &part[..])
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut filled = 0;
        for (slot, part) in dst.iter_mut().zip(&self.parts) {
            *slot = IoSlice::new(part);
            filled += 1;
        }
        filled
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(cnt <= self.remaining, "advanced past the end");
        self.remaining -= cnt;
        while cnt > 0 {
            let Some(front) = self.parts.front_mut() else {
                break;
            };
            if cnt < front.len() {
                front.advance(cnt);
                break;
            }
            cnt -= front.len();
            self.parts.pop_front();
        }
    }
}

/// Counts a connection open from creation to drop, however its future ends.
struct OpenConnection<'a>(&'a KafkaMetrics);

impl<'a> OpenConnection<'a> {
    fn new(metrics: &'a KafkaMetrics) -> Self {
        metrics.connection_opened();
        Self(metrics)
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.connection_closed();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    #[tokio::test]
    async fn queued_responses_arrive_whole_and_in_order_through_short_writes() {
        // Small pieces (joined), large ones (their own slots: more than one vectored
        // write takes, as tokio passes 64), empty ones, a response with nothing to send,
        // and a pipe that accepts 7 bytes at a time.
        let mut expected = Vec::new();
        let mut out = Outgoing::default();
        for i in 0..100u8 {
            let parts: Encoded = vec![
                Bytes::from(vec![i; usize::from(i % 9)]),
                Bytes::new(),
                Bytes::from(vec![i.wrapping_mul(3); JOIN_BELOW + usize::from(i)]),
                Bytes::from(vec![i.wrapping_add(1); 5]),
            ];
            expected.extend(parts.concat());
            out.push(Some(parts));
            out.push(None);
        }
        assert_eq!(out.len(), expected.len());
        let (mut writer, mut reader) = tokio::io::duplex(7);
        let read = tokio::spawn(async move {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).await.map(|_| got)
        });
        out.write_to(&mut writer).await.expect("write");
        drop(writer);
        assert_eq!(read.await.expect("join").expect("read"), expected);
    }

    #[test]
    fn small_pieces_share_a_slot_and_large_ones_keep_their_own_buffer() {
        let large = Bytes::from(vec![9u8; JOIN_BELOW]);
        let mut out = Outgoing::default();
        out.push(Some(vec![
            Bytes::from_static(b"ab"),
            Bytes::from_static(b"cd"),
        ]));
        out.push(Some(vec![Bytes::from_static(b"ef"), large.clone()]));
        out.push(Some(vec![Bytes::from_static(b"gh")]));
        out.end_joining();
        let mut slices = [IoSlice::new(&[]); 64];
        let n = out.queued.chunks_vectored(&mut slices);
        assert_eq!(n, 3);
        assert_eq!(&*slices[0], b"abcdef");
        assert_eq!(slices[1].as_ptr(), large.as_ptr(), "not copied");
        assert_eq!(&*slices[2], b"gh");
        assert_eq!(out.queued.remaining(), 8 + JOIN_BELOW);
    }

    #[tokio::test]
    async fn a_large_produce_frame_owns_its_buffer_so_its_records_are_not_copied() {
        use streamhouse_engine::Records;
        use streamhouse_kafka_proto::messages::produce_request::{
            PartitionProduceData, TopicProduceData,
        };
        use streamhouse_kafka_proto::messages::{ProduceRequest, TopicName};
        use streamhouse_kafka_proto::{Encodable, RequestHeader, StrBytes};

        let version = 9;
        let frame = |records: usize| {
            let request = ProduceRequest::default()
                .with_acks(-1)
                .with_timeout_ms(1_000)
                .with_topic_data(vec![
                    TopicProduceData::default()
                        .with_name(TopicName(StrBytes::from_static_str("t")))
                        .with_partition_data(
                            (0..3u8)
                                .map(|i| {
                                    PartitionProduceData::default()
                                        .with_index(i.into())
                                        .with_records(Some(Bytes::from(vec![i; records])))
                                })
                                .collect(),
                        ),
                ]);
            let mut body = BytesMut::new();
            RequestHeader::default()
                .with_request_api_key(ApiKey::Produce as i16)
                .with_request_api_version(version)
                .with_correlation_id(1)
                .with_client_id(Some(StrBytes::from_static_str("test")))
                .encode(&mut body, ApiKey::Produce.request_header_version(version))
                .expect("header");
            request.encode(&mut body, version).expect("body");
            let mut framed = (body.len() as u32).to_be_bytes().to_vec();
            framed.extend_from_slice(&body);
            framed
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (mut server, _) = listener.accept().await.expect("accept");
        // A large frame, then a small one sent with it, so both share reads.
        let mut sent = frame(40_000);
        sent.extend(frame(100));
        client.write_all(&sent).await.expect("send");

        let mut buf = BytesMut::with_capacity(READ_BUF);
        let idle = std::time::Duration::from_secs(5);
        for records in [40_000, 100] {
            let Read::Frame(frame) = read_frame(&mut server, &mut buf, 1 << 20, idle)
                .await
                .expect("read")
            else {
                panic!("expected a frame");
            };
            let request = decode_header(frame).expect("header");
            let parts = handlers::produce_parts(request).expect("decode");
            let sets: Vec<_> = parts.record_sets().collect();
            assert_eq!(sets.len(), 3);
            for (i, set) in sets.into_iter().enumerate() {
                let set = set.expect("records");
                assert_eq!(set.len(), records);
                assert!(set.iter().all(|&b| usize::from(b) == i));
                // Only the large frame leaves the read buffer with an allocation of its own.
                assert_eq!(
                    matches!(set, Records::Owned(_)),
                    records == 40_000,
                    "set {i}"
                );
            }
        }
    }
}
