//! Black-box tests of the real `streamhouse` binary.

mod cli;
mod cli_ops;
mod console;
mod crash;
mod groups;
mod groups_python;
mod http_api;
mod kafka;
mod metrics;
mod rdkafka_client;
mod schemathesis;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) fn streamhouse() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_streamhouse"));
    command
        .env_remove("RUST_LOG")
        .env("STREAMHOUSE_LOG__FILTER", "warn");
    command
}

/// Starts `command` with piped stdout and waits for a line containing `ready_marker`.
pub(crate) fn spawn_until(command: Command, ready_marker: &str) -> Child {
    spawn_until_line(command, ready_marker).0
}

/// Like [`spawn_until`], also returning the line that matched.
pub(crate) fn spawn_until_line(mut command: Command, ready_marker: &str) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn streamhouse");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = ready_marker.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(&marker) {
                let _ = tx.send(line);
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(50)) {
            return (child, line);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("streamhouse exited with {status} before printing {ready_marker:?}");
        }
        assert!(
            Instant::now() < deadline,
            "streamhouse did not print {ready_marker:?} within 30 s"
        );
    }
}

/// Sends SIGTERM and waits for the process to exit (at most 60 s).
pub(crate) fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("streamhouse did not exit within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
