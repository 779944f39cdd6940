//! `/ws`: live events over a WebSocket.
//!
//! Every message is a JSON text frame `{"type": ..., "data": ...}` (see [`Event`]):
//! `hello` first, then an `agent_status` per known agent and the latest
//! `metric_update`, then `metric_update` every
//! `http.metrics_interval`, `lag_update` when a group's lag changes, `lag_alert` when it
//! crosses `http.lag_alert_threshold`, `agent_status` when an agent appears, goes down or
//! comes back, and `error` if the client fell behind and events were dropped. Messages
//! from the client are ignored. The server closes the socket when the agent shuts down.

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

use crate::live::Event;
use crate::state::AppState;

/// How long one frame may take to go out before the client counts as gone (a client
/// that stops reading must not hold the task, and shutdown, forever).
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn send(socket: &mut WebSocket, message: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await,
        Ok(Ok(()))
    )
}

/// Upgrades to a WebSocket of live events.
#[utoipa::path(get, path = "/ws", operation_id = "live_events", tag = "metrics", responses(
    (status = 101, description = "Switching to the WebSocket protocol; JSON text frames follow", body = Event),
    (status = 400, description = "Not a WebSocket upgrade request")))]
pub(crate) async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve(state, socket))
}

async fn serve(state: AppState, mut socket: WebSocket) {
    let mut events = state.inner.live.subscribe();
    let hello = Event::Hello {
        agent_id: state.engine().agent_id().to_owned(),
        interval_ms: state.inner.config.metrics_interval.as_millis() as u64,
        lag_alert_threshold: state.inner.config.lag_alert_threshold,
    };
    let mut first = vec![hello];
    first.extend(state.inner.live.agent_statuses());
    if let Some(sample) = state.inner.live.latest() {
        first.push(Event::MetricUpdate(sample));
    }
    for event in first {
        let Ok(text) = serde_json::to_string(&event) else {
            return;
        };
        if !send(&mut socket, Message::Text(text.into())).await {
            return;
        }
    }
    let closing = state.inner.closing.clone();
    loop {
        let text: String = tokio::select! {
            event = events.recv() => match event {
                Ok(text) => text.to_string(),
                Err(RecvError::Lagged(missed)) => {
                    let event = Event::Error {
                        message: format!("fell behind: {missed} events dropped; refetch state over REST"),
                        missed,
                    };
                    serde_json::to_string(&event).unwrap_or_default()
                }
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                // Pings are answered by the protocol layer; other messages are ignored.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            () = closing.cancelled() => break,
        };
        if !send(&mut socket, Message::Text(text.into())).await {
            return;
        }
    }
    let _ = send(
        &mut socket,
        Message::Close(Some(CloseFrame {
            code: close_code::AWAY,
            reason: "streamhouse is shutting down".into(),
        })),
    )
    .await;
}
