//! Accepting connections with the limits `axum::serve` leaves off: it gives hyper no timer, so a
//! client that never finishes its request headers (slowloris) or keeps an idle connection holds
//! it forever, and nothing caps how many connections are open.
//!
//! Here every connection is served by hyper's HTTP/1 server with a timer:
//! - the request headers must arrive within `header_timeout` (`HTTP_HEADER_TIMEOUT_SECS`); the
//!   same timer runs while a kept-alive connection waits for its next request, so it is also the
//!   idle timeout (hyper starts it whenever it waits for a request head);
//! - at most `max_connections` are open (`MAX_CONNECTIONS`), and at most `max_per_address` from
//!   one client address (`MAX_CONNECTIONS_PER_ADDRESS`; off behind a trusted proxy, where every
//!   connection comes from the proxy). A connection over a cap gets a short `503` with
//!   `Retry-After` and is closed at once, so a client learns why instead of hanging.
//!
//! Websocket upgrades and graceful shutdown work as under `axum::serve`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt as _;

/// How connections are limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Request headers (and the next request on a kept-alive connection) must arrive within it.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client address; `None`: no such cap.
    pub max_per_address: Option<usize>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            max_connections: 256,
            max_per_address: Some(128),
        }
    }
}

/// What a refused connection reads before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 1\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 38\r\n\r\ntoo many connections, try again later\n";

/// Open connections per client address; a [`AddressSlot`] gives its place back when dropped.
#[derive(Default)]
struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn take(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<AddressSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// What keeps a connection's places in the caps while it is open.
struct Admitted {
    _permit: OwnedSemaphorePermit,
    _slot: Option<AddressSlot>,
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the open connections
/// finish their requests (idle ones close at once) and returns when all have.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    // Dropped receivers tell each connection to shut down gracefully; the server returns when
    // every connection dropped its `done` sender clone.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<Infallible>(1);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: the next accept may succeed once
                    // connections close; don't spin meanwhile.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(admitted) = admit(&open, &per_address, &limits, peer) else {
            refuse(tcp);
            continue;
        };
        // Streamed answers are many small writes: send each at once instead of waiting for the
        // previous one to be acknowledged (Nagle's algorithm).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(Body::new)
            });
        let service = TowerToHyperService::new(service);
        let mut stop = stop_rx.clone();
        let done = done_tx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!("connection from {} ended: {e}", peer.ip());
                        }
                        break;
                    }
                    _ = stop.wait_for(|s| *s), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(admitted);
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_tx);
    // Every connection task holds a sender; `recv` returns `None` when the last one ended.
    let _ = done_rx.recv().await;
    Ok(())
}

fn admit(
    open: &Arc<Semaphore>,
    per_address: &Arc<PerAddress>,
    limits: &ConnectionLimits,
    peer: SocketAddr,
) -> Option<Admitted> {
    let Ok(permit) = open.clone().try_acquire_owned() else {
        tracing::debug!(
            "refused a connection from {}: {} connections are open (MAX_CONNECTIONS)",
            peer.ip(),
            limits.max_connections
        );
        return None;
    };
    let slot = match limits.max_per_address {
        None => None,
        Some(cap) => match per_address.take(peer.ip(), cap) {
            Some(slot) => Some(slot),
            None => {
                tracing::debug!(
                    "refused a connection from {}: it has {cap} open (MAX_CONNECTIONS_PER_ADDRESS)",
                    peer.ip()
                );
                return None;
            }
        },
    };
    Some(Admitted {
        _permit: permit,
        _slot: slot,
    })
}

/// Tells a refused client why (without waiting for it to read) and closes the connection.
fn refuse(tcp: TcpStream) {
    let _ = tcp.try_write(BUSY);
    drop(tcp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_answer_states_its_length() {
        let text = std::str::from_utf8(BUSY).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.parse().ok())
            .expect("content-length");
        assert_eq!(length, body.len());
    }

    #[test]
    fn an_address_gets_its_places_back() {
        let table = Arc::new(PerAddress::default());
        let ip: IpAddr = [10, 0, 0, 1].into();
        let a = table.take(ip, 2).expect("first");
        let b = table.take(ip, 2).expect("second");
        assert!(table.take(ip, 2).is_none(), "a third over the cap");
        assert!(
            table.take([10, 0, 0, 2].into(), 2).is_some(),
            "another address"
        );
        drop(a);
        assert!(table.take(ip, 2).is_some(), "a place came back");
        drop(b);
        assert!(
            table.open.lock().expect("lock").is_empty(),
            "no address is left counted"
        );
    }
}
