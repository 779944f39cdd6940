//! What can go wrong in a command, and the exit code each failure gets.

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No connection to the agent (refused, unresolvable, timed out while connecting).
    #[error("cannot reach StreamHouse at {server}: {reason}")]
    Unreachable {
        /// The `--server` URL.
        server: String,
        /// The root cause, e.g. `Connection refused (os error 111)`.
        reason: String,
    },
    /// Connected, but the request failed or timed out midway.
    #[error("request to {url} failed: {reason}")]
    Transport {
        /// The request's URL.
        url: String,
        /// The root cause.
        reason: String,
    },
    /// The server answered with its error shape.
    #[error("{message} ({error_code})")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The API's stable error code, e.g. `unknown_topic`.
        error_code: String,
        /// The API's message.
        message: String,
    },
    /// The server answered something this client does not understand.
    #[error("unexpected answer from {url}: {reason}")]
    UnexpectedResponse {
        /// The request's URL.
        url: String,
        /// What did not fit.
        reason: String,
    },
    /// The command line is well-formed but its values do not fit together.
    #[error("{0}")]
    Usage(String),
    /// Input records that cannot be produced (no key separator, not JSON, ...).
    #[error("{source_name}, line {line}: {reason}")]
    Input {
        /// `stdin` or the file's path.
        source_name: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading input failed.
    #[error("cannot read {source_name}: {source}")]
    Read {
        /// `stdin` or the file's path.
        source_name: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing to stdout failed.
    #[error("cannot write output: {0}")]
    Output(std::io::Error),
    /// Something the command refuses to do in the cluster's current state.
    #[error("{0}")]
    Refused(String),
}

/// The result of a command.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The process exit code: 2 for usage errors (as clap's own), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            _ => 1,
        }
    }

    /// Whether stdout was closed by the reader (`streamhouse consume t | head`): not a
    /// failure worth a message.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Self::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
