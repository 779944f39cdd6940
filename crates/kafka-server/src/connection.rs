//! One client connection: read frames, answer each request in order, until the client
//! leaves, idles out, misbehaves, or the server shuts down.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use streamhouse_kafka_proto::{DecodeError, FrameError, decode_header, frame_len};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::handlers;
use crate::listener::ServerContext;

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Closed {
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported {api:?} version {version}")]
    UnsupportedVersion {
        api: streamhouse_kafka_proto::ApiKey,
        version: i16,
    },
    #[error("encoding the response failed: {0}")]
    Encode(String),
}

pub(crate) async fn serve(mut socket: TcpStream, peer: SocketAddr, context: Arc<ServerContext>) {
    let _ = socket.set_nodelay(true);
    let max = context.config.max_request_bytes.as_u64() as usize;
    let idle = context.config.idle_timeout;
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let result: Result<(), Closed> = async {
        loop {
            // Wait for a whole frame, checking the length prefix before reserving space.
            let len = loop {
                if let Some(len) = frame_len(&buf, max)? {
                    break len;
                }
                if buf.len() >= 4 {
                    let want = 4 + i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                    buf.reserve(want - buf.len());
                }
                let read = tokio::select! {
                    read = tokio::time::timeout(idle, socket.read_buf(&mut buf)) => match read {
                        Ok(read) => read?,
                        Err(_) => {
                            tracing::debug!(%peer, "closing idle connection");
                            return Ok(());
                        }
                    },
                    () = context.shutdown.cancelled() => return Ok(()),
                };
                if read == 0 {
                    return Ok(()); // the client closed the connection
                }
            };
            let mut frame = buf.split_to(4 + len);
            let frame = frame.split_off(4).freeze();
            let request = decode_header(frame)?;
            if let Some(response) = handlers::dispatch(&context, request).await? {
                socket.write_all(&response).await?;
            }
        }
    }
    .await;
    match result {
        Ok(()) => tracing::trace!(%peer, "connection closed"),
        Err(Closed::Io(error)) => tracing::debug!(%peer, %error, "connection dropped"),
        Err(error) => tracing::warn!(%peer, %error, "closing connection"),
    }
}
