//! Connections are bounded in time and per client: an idle or half-sent connection is closed after
//! the header-read timeout, so is a kept-alive one left idle, and one address cannot hold more than
//! its share of connections or live sockets while another client still gets in; a live socket's
//! oversized frame is refused by its declared length. Bounded counts, 127.0.0.1 and 127.0.0.2 only.

use crate::harness::{Options, TestServer};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const TIMEOUT: Duration = Duration::from_millis(800);

fn limits(per_ip_max: u32) -> Options {
    let connections = server::ConnectionLimits {
        header_read_timeout: TIMEOUT,
        body_read_timeout: TIMEOUT,
        per_ip_max,
        ..server::ConnectionLimits::default()
    };
    Options { connections: Some(connections), ..Options::default() }
}

fn address(server: &TestServer) -> std::net::SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

async fn connect_from(source_ip: &str, server: &TestServer) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source_ip}:0").parse().unwrap()).unwrap();
    socket.connect(address(server)).await.unwrap()
}

/// Whether the server closed the connection within `within` (end of stream or a reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1_024];
    loop {
        match tokio::time::timeout(within, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A response (the timeout's 408, or an answer) before the close: keep reading.
            Ok(Ok(_)) => continue,
        }
    }
}

async fn healthz_over(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let mut buffer = [0u8; 1_024];
    let n_read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buffer[..n_read]).into_owned()
}

#[tokio::test]
async fn idle_half_sent_and_kept_alive_connections_are_closed_after_the_timeout() {
    let server = TestServer::start(limits(0)).await;
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(connect_from("127.0.0.1", &server).await);
    }
    let mut half_sent = Vec::new();
    for _ in 0..10 {
        let mut stream = connect_from("127.0.0.1", &server).await;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: te").await.unwrap();
        half_sent.push(stream);
    }
    let mut kept_alive = connect_from("127.0.0.1", &server).await;
    assert!(healthz_over(&mut kept_alive).await.starts_with("HTTP/1.1 200"));

    // Meanwhile a new client is served at once.
    let (status, _) = server.get("/healthz", None).await;
    assert_eq!(status, 200);

    for stream in idle.iter_mut().chain(half_sent.iter_mut()).chain(std::iter::once(&mut kept_alive)) {
        assert!(closed_within(stream, TIMEOUT * 4).await, "a connection outlived the header-read timeout");
    }
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_while_another_gets_in() {
    const PER_IP_MAX: u32 = 5;
    // A long timeout, so only the cap can close anything during the test.
    let mut options = limits(PER_IP_MAX);
    options.connections.as_mut().unwrap().header_read_timeout = Duration::from_secs(30);
    let server = TestServer::start(options).await;
    let mut held = Vec::new();
    for _ in 0..PER_IP_MAX {
        held.push(connect_from("127.0.0.1", &server).await);
    }
    // Beyond the share: closed at once, long before any timeout.
    let mut refused = connect_from("127.0.0.1", &server).await;
    assert!(closed_within(&mut refused, Duration::from_secs(5)).await);
    // Another address is served.
    let mut other = connect_from("127.0.0.2", &server).await;
    assert!(healthz_over(&mut other).await.starts_with("HTTP/1.1 200"));
    // A held connection works, and once one is given back its place is free again.
    assert!(healthz_over(&mut held[0]).await.starts_with("HTTP/1.1 200"));
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = connect_from("127.0.0.1", &server).await;
    assert!(healthz_over(&mut again).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_live_sockets() {
    let mut options = limits(0);
    options.connections.as_mut().unwrap().live_per_ip_max = 3;
    let server = TestServer::start(options).await;
    let fixture = server.open_drop(5, 1, 60).await;
    let url = format!("{}/v1/rooms/{}/live", server.base.replace("http://", "ws://"), fixture.room_id);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio_tungstenite::connect_async(&url).await.unwrap());
    }
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("a fourth live socket from one address: {:?}", other.map(|_| ())),
    }
    let stream = connect_from("127.0.0.2", &server).await;
    assert!(tokio_tungstenite::client_async(&url, stream).await.is_ok(), "another address gets in");
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(tokio_tungstenite::connect_async(&url).await.is_ok(), "a place given back is free again");
}

#[tokio::test]
async fn a_live_frame_over_the_message_cap_is_refused_by_its_header() {
    let server = TestServer::start(limits(0)).await;
    let fixture = server.open_drop(5, 1, 60).await;
    let mut stream = connect_from("127.0.0.1", &server).await;
    let handshake = format!(
        "GET /v1/rooms/{}/live HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        fixture.room_id
    );
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    // A masked binary frame declaring 64 KiB, of which only the first 100 bytes are sent.
    let mut frame = vec![0x82, 0x80 | 127];
    frame.extend_from_slice(&(64u64 * 1_024).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend_from_slice(&[0u8; 100]);
    stream.write_all(&frame).await.unwrap();
    // Refused at once, without waiting for (and buffering) the rest.
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await, "the server waited for the frame");
}

#[tokio::test]
async fn a_body_not_sent_in_time_gets_408() {
    let server = TestServer::start(limits(0)).await;
    let mut stream = connect_from("127.0.0.1", &server).await;
    let head =
        "POST /v1/accounts HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"handle\": \"slow").await.unwrap();
    let mut buffer = [0u8; 1_024];
    let n_read = tokio::time::timeout(TIMEOUT * 4, stream.read(&mut buffer)).await.expect("an answer in time").unwrap();
    let answer = String::from_utf8_lossy(&buffer[..n_read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}
