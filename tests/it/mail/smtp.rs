//! An SMTP server on loopback for one test: `tests/it/support/smtp_sink.py`
//! (aiosmtpd, installed into `.venv` by `.ci/python-deps`), stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    /// The raw message with quoted-printable soft line breaks joined.
    pub data: String,
}

impl Received {
    pub fn subject(&self) -> String {
        self.data
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_string()
    }

    /// The subject without the site's name in brackets before it.
    pub fn topic(&self) -> String {
        let subject = self.subject();
        match subject
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("] "))
        {
            Some((_, topic)) => topic.to_string(),
            None => subject,
        }
    }
}

pub struct SmtpSink {
    pub port: u16,
    child: Option<Child>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// A loopback port nobody listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpSink {
    /// A sink that is down: its port refuses connections until [`SmtpSink::start`].
    pub fn down() -> Self {
        Self {
            port: free_port(),
            child: None,
            received: Arc::default(),
        }
    }

    /// A running sink on a fresh port.
    pub fn running() -> Self {
        let mut sink = Self::down();
        sink.start(None);
        sink
    }

    /// `smtp://` URL of the sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server (requiring AUTH with `credentials`, if given).
    pub fn start(&mut self, credentials: Option<(&str, &str)>) {
        let script = format!(
            "{}/tests/it/support/smtp_sink.py",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut command = Command::new(crate::common::python());
        command.arg(script).arg(self.port.to_string());
        if let Some((user, password)) = credentials {
            command.arg(user).arg(password);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", crate::common::python()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        match lines.next() {
            Some(Ok(line)) if line == "READY" => {}
            other => panic!("the SMTP sink did not start: {other:?}"),
        }
        let received = self.received.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let message: serde_json::Value = serde_json::from_str(&line).unwrap();
                let to = message["to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|to| to.as_str().unwrap().to_string())
                    .collect();
                let data = message["data"]
                    .as_str()
                    .unwrap()
                    .replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=");
                received.lock().unwrap().push(Received { to, data });
            }
        });
        self.child = Some(child);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until `count` messages have arrived, and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "expected {count} messages, got {}: {received:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
