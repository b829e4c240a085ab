//! Connections that hold a slot without using it are closed, and past
//! `--max-connections` new ones are turned away, while the feeds answer.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::Server;

/// A bound for correctness, not a measurement: the timeouts under test are 1 s.
const WITHIN: Duration = Duration::from_secs(10);

/// Reads once: `None` while the connection is open and quiet (the read
/// timed out), `Some(true)` when the server closed it (end of stream or
/// reset), `Some(false)` when bytes came.
fn read_state(stream: &mut TcpStream) -> Option<bool> {
    let mut buffer = [0u8; 1024];
    match stream.read(&mut buffer) {
        Ok(0) => Some(true),
        Ok(_) => Some(false),
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(_) => Some(true),
    }
}

/// Waits (at most [`WITHIN`]) for the server to close `stream`; whether it did.
fn closed_within(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(WITHIN)).expect("timeout");
    let deadline = Instant::now() + WITHIN;
    while Instant::now() < deadline {
        if read_state(stream) == Some(true) {
            return true;
        }
    }
    false
}

/// One request on a kept-alive connection; the response, read to its (short) end.
fn keep_alive_get(stream: &mut TcpStream, path: &str) -> String {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    stream.set_read_timeout(Some(WITHIN)).expect("timeout");
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).expect("read");
        assert!(read > 0, "closed before the response ended");
        response.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .and_then(|value| value.trim().parse().ok())
                .expect("content-length");
            if body.len() >= length {
                return text.into_owned();
            }
        }
    }
}

/// `GET path` on a new connection, retried (within [`WITHIN`]) while the
/// server turns connections away.
fn get_when_admitted(server: &Server, path: &str) -> String {
    let deadline = Instant::now() + WITHIN;
    loop {
        let mut response = String::new();
        // A connection turned away may be reset before its answer is read.
        let _ = TcpStream::connect(&server.address).and_then(|mut stream| {
            write!(
                stream,
                "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )?;
            stream.read_to_string(&mut response)
        });
        if response.starts_with("HTTP/1.1 200") || Instant::now() > deadline {
            return response;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of the metric line starting with `name` (name and labels).
fn metric(server: &Server, name: &str) -> String {
    let metrics = get_when_admitted(server, "/metrics");
    metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
        .to_string()
}

#[test]
fn a_request_head_sent_byte_by_byte_is_cut_at_the_header_read_timeout() {
    let server = Server::start_with(&["--header-read-timeout", "1"], &[]);
    let mut slow = TcpStream::connect(&server.address).expect("connect");
    slow.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    // Always more to come, a byte every 100 ms: never idle, never done.
    let head = format!(
        "GET /feed.rss HTTP/1.1\r\nHost: x\r\nX-Slow: {}",
        "a".repeat(200)
    );
    let started = Instant::now();
    let mut cut = false;
    for byte in head.bytes() {
        if slow.write_all(&[byte]).is_err() || read_state(&mut slow) == Some(true) {
            cut = true;
            break;
        }
        assert!(started.elapsed() < WITHIN, "still open after {WITHIN:?}");
    }
    assert!(
        cut,
        "the whole slow head went in and the connection stayed open"
    );
    // A connection that sends nothing at all goes the same way.
    let mut silent = TcpStream::connect(&server.address).expect("connect");
    assert!(
        closed_within(&mut silent),
        "a silent connection stayed open"
    );
    // The feeds still answer; the two count as header timeouts.
    assert!(server.get("/feed.rss").starts_with("HTTP/1.1 200"));
    assert_eq!(
        metric(
            &server,
            "newsfeed_connections_timed_out_total{timeout=\"header_read\"}"
        ),
        "2"
    );
    server.signal("TERM");
    server.wait(Duration::from_secs(15));
}

#[test]
fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Server::start_with(&["--idle-timeout", "1", "--header-read-timeout", "60"], &[]);
    let mut stream = TcpStream::connect(&server.address).expect("connect");
    // Kept alive: a second request on the same connection is answered.
    for _ in 0..2 {
        let response = keep_alive_get(&mut stream, "/healthz");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
    assert!(closed_within(&mut stream), "an idle connection stayed open");
    assert_eq!(
        metric(
            &server,
            "newsfeed_connections_timed_out_total{timeout=\"idle\"}"
        ),
        "1"
    );
    server.signal("TERM");
    server.wait(Duration::from_secs(15));
}

#[test]
fn past_max_connections_a_new_one_is_turned_away_until_a_slot_frees() {
    let server = Server::start_with(&["--max-connections", "5"], &[]);
    // The start-up probe's connection counts until the server has seen it
    // close: wait until only the metrics request itself is open.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while metric(&server, "newsfeed_connections_open") != "1" {
        assert!(
            std::time::Instant::now() < deadline,
            "connections stay open"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut held: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut stream = TcpStream::connect(&server.address).expect("connect");
            // Answered: the server has taken it.
            let response = keep_alive_get(&mut stream, "/healthz");
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            stream
        })
        .collect();
    let mut sixth = TcpStream::connect(&server.address).expect("connect");
    sixth.set_read_timeout(Some(WITHIN)).expect("timeout");
    let _ = write!(sixth, "GET /feed.rss HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut answer = Vec::new();
    let _ = sixth.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
        "the sixth connection got {answer}"
    );
    // A slot frees: the feed answers on it.
    held.pop();
    let feed = get_when_admitted(&server, "/feed.rss");
    assert!(feed.starts_with("HTTP/1.1 200"), "{feed}");
    assert!(feed.contains("<rss"), "{feed}");
    // The sixth, and any retry that came before the freed slot was released.
    let refused: u64 = metric(&server, "newsfeed_connections_refused_total")
        .parse()
        .expect("a count");
    assert!(refused >= 1, "{refused}");
    // The four held and the one asking.
    assert_eq!(metric(&server, "newsfeed_connections_open"), "5");
    drop(held);
    server.signal("TERM");
    server.wait(Duration::from_secs(15));
}
