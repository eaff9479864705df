//! Runs `livedrop serve` as a child process on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) base: String,
}

impl ServerProcess {
    /// Starts the server and waits for its "livedrop serving" log line, which names the address.
    pub(crate) fn start(data_dir: &Path) -> ServerProcess {
        ServerProcess::start_with(data_dir, &[])
    }

    /// `start` with more `serve` flags.
    pub(crate) fn start_with(data_dir: &Path, flags: &[&str]) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_livedrop"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args([
                "--rate-limit-per-ip",
                "0",
                "--rate-limit-per-account",
                "0",
                "--connections-per-ip",
                "0",
                "--signups-per-second",
                "0",
            ])
            .args(flags)
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting livedrop");
        let stderr = child.stderr.take().unwrap();
        let (address_sender, address) = mpsc::channel();
        // Keep draining stderr for the life of the process so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
                if entry["fields"]["message"] == "livedrop serving" {
                    let _ = address_sender.send(entry["fields"]["address"].as_str().unwrap().to_owned());
                }
            }
        });
        let address = address.recv_timeout(Duration::from_secs(60)).expect("livedrop did not start serving");
        ServerProcess { child, base: format!("http://{address}") }
    }

    /// SIGKILL: no shutdown hook runs, nothing is flushed on the way out.
    pub(crate) fn kill_hard(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    pub(crate) fn stop_gracefully(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
