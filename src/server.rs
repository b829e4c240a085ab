//! The HTTP server: hyper serves each connection (HTTP/1.1 and HTTP/2) and
//! the app answers, as under `poem::Server`, which has neither a limit on
//! open connections nor a timeout for request heads. Here a connection
//! past `--max-connections` is answered 503 and closed at once, and one
//! that holds a slot without using it is closed: a request head not
//! complete within `--header-read-timeout` of its first byte (or, on a new
//! connection, of the accept), however slowly it trickles in; a kept-alive
//! connection that sends nothing for `--idle-timeout`. A request in hand
//! is never cut: from a complete head until its response is sent the
//! connection has no deadline.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use poem::http::uri::Scheme;
use poem::http::{HeaderMap, Method, Uri};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// What the server asks first, from a request's head alone, before it
/// builds a poem request for the application: the answers that need no
/// body, no routing and no middleware (the feeds).
pub trait Front {
    /// The answer, or `None` to hand the request to the application.
    fn answer_head(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<Response>;
}

/// What a connection may take of the server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Counted for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections closed at once because `max_connections` were open.
    pub refused: AtomicU64,
    /// Connections closed because a request head was not complete in time.
    pub header_timeouts: AtomicU64,
    /// Kept-alive connections closed after sending nothing for the idle timeout.
    pub idle_timeouts: AtomicU64,
}

/// The answer to a connection past the limit (then it is closed).
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\
connection: close\r\nretry-after: 1\r\n\r\n";

/// Pause after a failed accept (out of file descriptors, say), so that the
/// loop does not spin while connections close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Serves `app` on `listener` until `stop` resolves; then stops accepting,
/// lets requests in flight finish for up to `grace` and returns.
pub async fn serve<E>(
    listener: TcpListener,
    app: E,
    limits: Limits,
    stats: Arc<ConnectionStats>,
    stop: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()>
where
    E: Endpoint<Output = Response> + Front + 'static,
{
    let shared = Arc::new(Shared::new(app, limits, stats));
    let (stopping, stop_seen) = watch::channel(false);
    let listening = listen(listener, shared, stop_seen, grace);
    tokio::pin!(listening);
    tokio::select! {
        result = &mut listening => return result,
        () = stop => {}
    }
    let _ = stopping.send(true);
    listening.await
}

/// Serves `app` as [`serve`] does, on as many threads as `listeners` (from
/// [`bind_shared`]): each thread runs its own single-threaded runtime and
/// accepts on its own listener, and the kernel spreads new connections
/// over them. A feed answered from the request's head ([`Front`]) stays on
/// the thread that accepted the connection, as in nginx's workers: no
/// hand-over, no work stealing, no connection waiting behind another
/// thread's queue. Every other request is handed to the runtime this is
/// called on, where the application's tasks, timers and pools live.
pub async fn serve_on_threads<E>(
    listeners: Vec<std::net::TcpListener>,
    app: E,
    limits: Limits,
    stats: Arc<ConnectionStats>,
    stop: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()>
where
    E: Endpoint<Output = Response> + Front + 'static,
{
    let app = OnRuntime {
        app: Arc::new(app),
        runtime: Handle::current(),
    };
    let shared = Arc::new(Shared::new(app, limits, stats));
    let (stopping, stop_seen) = watch::channel(false);
    let (finished, mut finishing) = mpsc::unbounded_channel();
    for (index, listener) in listeners.into_iter().enumerate() {
        let (shared, stop_seen, finished) = (shared.clone(), stop_seen.clone(), finished.clone());
        std::thread::Builder::new()
            .name(format!("http-{index}"))
            .spawn(move || {
                let served = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .and_then(|runtime| {
                        runtime.block_on(async {
                            let listener = TcpListener::from_std(listener)?;
                            listen(listener, shared, stop_seen, grace).await
                        })
                    });
                let _ = finished.send(served);
            })?;
    }
    drop(finished);
    tokio::pin!(stop);
    // A thread ends before the stop only when it could not start.
    let mut outcome = tokio::select! {
        () = &mut stop => Ok(()),
        Some(served) = finishing.recv() => served.and(Err(io::Error::other("a server thread ended"))),
    };
    let _ = stopping.send(true);
    while let Some(served) = finishing.recv().await {
        outcome = outcome.and(served);
    }
    outcome
}

/// `threads` listeners on `address`, all sharing it (`SO_REUSEPORT`), for
/// [`serve_on_threads`]. An ordinary bind comes first: an address in use
/// (even by another server sharing its own) is refused as it would be
/// without sharing, and port 0 picks one port for all of them.
pub async fn bind_shared(address: &str, threads: usize) -> io::Result<Vec<std::net::TcpListener>> {
    let local = TcpListener::bind(address).await?.local_addr()?;
    (0..threads.max(1))
        .map(|_| {
            let socket = if local.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.set_reuseport(true)?;
            socket.bind(local)?;
            socket.listen(LISTEN_BACKLOG)?.into_std()
        })
        .collect()
}

/// Connections the kernel holds, accepted but not yet taken (tokio's and std's default).
const LISTEN_BACKLOG: u32 = 1024;

/// Accepts on `listener` until `stop` says so; then lets requests in
/// flight finish for up to `grace`.
async fn listen<E>(
    listener: TcpListener,
    shared: Arc<Shared<E>>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) -> io::Result<()>
where
    E: Endpoint<Output = Response> + Front + 'static,
{
    let local = LocalAddr(listener.local_addr()?.into());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => break,
            Some(_) = connections.join_next() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => match shared.slots.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let slot = Slot::new(permit, shared.stats.clone());
                        let connection = Connection {
                            shared: shared.clone(),
                            local: local.clone(),
                            remote,
                            stop: stop.clone(),
                        };
                        connections.spawn(connection.serve(stream, slot));
                    }
                    Err(_) => {
                        count(&shared.stats.refused);
                        // Best effort: a full socket buffer just gets the close.
                        let _ = stream.try_write(REFUSAL);
                    }
                },
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        tracing::warn!("requests still in flight after {grace:?}: cut");
    }
    Ok(())
}

/// What every connection of a server shares.
struct Shared<E> {
    app: E,
    /// One permit per connection, `max_connections` in all.
    slots: Arc<Semaphore>,
    builder: auto::Builder<TokioExecutor>,
    limits: Limits,
    stats: Arc<ConnectionStats>,
}

impl<E> Shared<E> {
    fn new(app: E, limits: Limits, stats: Arc<ConnectionStats>) -> Self {
        Self {
            app,
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            builder: builder(),
            limits,
            stats,
        }
    }
}

/// The application seen from a server thread: the head's answers there,
/// every other request on the application's runtime.
struct OnRuntime<E> {
    app: Arc<E>,
    runtime: Handle,
}

impl<E: Front> Front for OnRuntime<E> {
    fn answer_head(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<Response> {
        self.app.answer_head(method, uri, headers, peer)
    }
}

impl<E: Endpoint<Output = Response> + 'static> Endpoint for OnRuntime<E> {
    type Output = Response;

    async fn call(&self, request: poem::Request) -> poem::Result<Response> {
        let app = self.app.clone();
        match self
            .runtime
            .spawn(async move { app.get_response(request).await })
            .await
        {
            Ok(response) => Ok(response),
            // As if the application had panicked on this thread.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // The runtime is shutting down.
            Err(_) => Ok(poem::http::StatusCode::SERVICE_UNAVAILABLE.into()),
        }
    }
}

/// hyper's settings: those of `poem::Server`, HTTP/2 streams capped as hyper does by default.
fn builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_concurrent_streams(200)
        .max_pending_accept_reset_streams(20)
        .max_header_list_size(16 * 1024);
    builder
}

fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One of `max_connections`: counted open while held.
struct Slot {
    _permit: OwnedSemaphorePermit,
    stats: Arc<ConnectionStats>,
}

impl Slot {
    fn new(permit: OwnedSemaphorePermit, stats: Arc<ConnectionStats>) -> Self {
        count(&stats.open);
        Self {
            _permit: permit,
            stats,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What serving one connection needs.
struct Connection<E> {
    shared: Arc<Shared<E>>,
    local: LocalAddr,
    remote: SocketAddr,
    stop: watch::Receiver<bool>,
}

impl<E: Endpoint<Output = Response> + Front + 'static> Connection<E> {
    async fn serve(mut self, stream: TcpStream, slot: Slot) {
        let clock = Arc::new(Deadline::new(self.shared.limits));
        let service = hyper::service::service_fn({
            let (shared, clock) = (self.shared.clone(), clock.clone());
            let (local, remote) = (self.local.clone(), RemoteAddr(self.remote.into()));
            let peer = self.remote.ip();
            move |request: poem::http::Request<Incoming>| {
                let in_flight = InFlight::begin(clock.clone());
                let shared = shared.clone();
                let (local, remote) = (local.clone(), remote.clone());
                async move {
                    let app = &shared.app;
                    let head = (request.method(), request.uri(), request.headers());
                    let response = match app.answer_head(head.0, head.1, head.2, Some(peer)) {
                        Some(response) => response,
                        None => {
                            let request =
                                poem::Request::from((request, local, remote, Scheme::HTTP));
                            app.get_response(request).await
                        }
                    };
                    let response: poem::http::Response<_> = response.into();
                    Ok::<_, Infallible>(response.map(|body| Tracked {
                        body,
                        _in_flight: in_flight,
                    }))
                }
            }
        });
        let io = TokioIo::new(Watched {
            stream,
            clock: clock.clone(),
        });
        let connection = self.shared.builder.serve_connection(io, service);
        tokio::pin!(connection);
        let expired = tokio::select! {
            _ = connection.as_mut() => None,
            timeout = clock.expired() => Some(timeout),
            () = stopped(&mut self.stop) => {
                // Requests in hand are answered; then the connection closes.
                connection.as_mut().graceful_shutdown();
                tokio::select! {
                    _ = connection.as_mut() => None,
                    timeout = clock.expired() => Some(timeout),
                }
            }
        };
        if let Some(timeout) = expired {
            let stats = &slot.stats;
            count(match timeout {
                Timeout::Head => &stats.header_timeouts,
                Timeout::Idle => &stats.idle_timeouts,
            });
            tracing::debug!(remote = %self.remote, ?timeout, "connection closed");
        }
        // Returning drops the connection, closing the socket, and then
        // `slot` (parameters are dropped after the body's locals).
    }
}

/// Resolves once the server stops (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// Which deadline closed a connection.
#[derive(Clone, Copy, Debug)]
enum Timeout {
    Head,
    Idle,
}

/// Where a connection stands, for its deadline.
#[derive(Clone, Copy)]
enum Phase {
    /// Receiving a request head since then.
    Head(Instant),
    /// Between requests since then, nothing received.
    Idle(Instant),
    /// Requests in hand (several on HTTP/2), not all answered.
    Busy(usize),
}

/// A connection's phase and the deadline it sets. Nothing is signalled
/// when the phase changes (that would wake the connection's task twice a
/// request): [`Deadline::expired`] looks again at least every shortest
/// timeout, which is soon enough for any deadline a change can set.
struct Deadline {
    phase: Mutex<Phase>,
    limits: Limits,
}

impl Deadline {
    fn new(limits: Limits) -> Self {
        Self {
            phase: Mutex::new(Phase::Head(Instant::now())),
            limits,
        }
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        *phase = change(*phase);
    }

    /// Bytes came in: after an idle spell, a request head starts.
    fn received(&self) {
        self.update(|phase| match phase {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            other => other,
        });
    }

    fn deadline(&self) -> Option<(Instant, Timeout)> {
        match *self.phase.lock().unwrap_or_else(PoisonError::into_inner) {
            Phase::Head(since) => Some((since + self.limits.header_read_timeout, Timeout::Head)),
            Phase::Idle(since) => Some((since + self.limits.idle_timeout, Timeout::Idle)),
            Phase::Busy(_) => None,
        }
    }

    /// Resolves once the deadline of the current phase has passed. A
    /// deadline set after a look is never earlier than the next look: a
    /// phase starts after the look and lasts at least the shortest timeout.
    async fn expired(&self) -> Timeout {
        let look_again = self
            .limits
            .header_read_timeout
            .min(self.limits.idle_timeout);
        loop {
            let now = Instant::now();
            let wake = match self.deadline() {
                Some((at, timeout)) if at <= now => return timeout,
                Some((at, _)) => at.min(now + look_again),
                None => now + look_again,
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// A request from its complete head until its response is sent (or dropped).
struct InFlight(Arc<Deadline>);

impl InFlight {
    fn begin(clock: Arc<Deadline>) -> Self {
        clock.update(|phase| match phase {
            Phase::Busy(count) => Phase::Busy(count + 1),
            _ => Phase::Busy(1),
        });
        Self(clock)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.update(|phase| match phase {
            Phase::Busy(count) if count > 1 => Phase::Busy(count - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }
}

/// A response body that ends its request's [`InFlight`] when hyper is done with it.
struct Tracked<B> {
    body: B,
    _in_flight: InFlight,
}

impl<B: Body<Data = Bytes> + Unpin> Body for Tracked<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket, telling the connection's [`Deadline`] when bytes come in.
struct Watched {
    stream: TcpStream,
    clock: Arc<Deadline>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.clock.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
