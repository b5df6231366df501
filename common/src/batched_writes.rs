//! A TCP connection whose writes leave in batches: one system call for everything written to it while the tasks that
//! were ready to run ran, instead of one for every flush.
//!
//! HTTP/2 flushes often: h2 keeps a response body of 256 bytes or more aside to write it without copying, and must
//! flush it before it can take the next frame. A small gRPC answer then costs two writes (headers and message, then
//! the trailers), and answers that are ready together cannot share one. Each write also wakes the process at the other
//! end, which on a busy machine costs more than the write itself (`docs/performance.md`). Here the connection hands
//! its bytes to a writer task of its own, which lets every task that is ready run first (one `yield_now`) and then
//! writes all they wrote in one go. Under load that is one write for many answers; with one call in flight it adds
//! one task switch. The gRPC servers use it; the gateway's client connections do not, because their requests are
//! small, already share writes, and the extra task cost them more than it saved.
//!
//! A flush therefore means "handed to the writer", which writes once the tasks ready now have run; a shutdown
//! still waits until every byte is written and the write side is shut. A write error is reported by the next write,
//! flush or shutdown. At most [`HIGH_WATER`] bytes wait; past that, writes wait for the writer like writes to a full
//! socket. Dropping the connection is closing the socket: what it takes at once still leaves, and the writer stops,
//! even while it waits on a peer that does not read.

use std::{
    io,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll, Waker},
};

use futures::FutureExt;
use tokio::{
    io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpStream, tcp::OwnedReadHalf},
};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Bytes that may wait for the writer before writes wait too.
pub const HIGH_WATER: usize = 256 * 1024;

/// A connection whose writes a task of its own sends in batches: by default a TCP stream. Must be created inside a
/// Tokio runtime.
pub struct BatchedWrites<R = OwnedReadHalf> {
    read: R,
    shared: Arc<Shared>,
    info: TcpConnectInfo,
}

impl BatchedWrites {
    /// Takes `stream` over and spawns its writer.
    pub fn new(stream: TcpStream) -> Self {
        let info = TcpConnectInfo {
            local_addr: stream.local_addr().ok(),
            remote_addr: stream.peer_addr().ok(),
        };
        let (read, write) = stream.into_split();
        Self::from_halves(read, write, info)
    }
}

impl<R> BatchedWrites<R> {
    /// Reads from `read` and writes to `write` through a writer task spawned here.
    pub fn from_halves<W>(read: R, write: W, info: TcpConnectInfo) -> Self
    where
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let shared = Arc::new(Shared::default());
        tokio::spawn(write_batches(write, shared.clone()));
        Self { read, shared, info }
    }
}

impl<R> Drop for BatchedWrites<R> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.dropped = true;
        state.wake_writer();
    }
}

impl<R> Connected for BatchedWrites<R> {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for BatchedWrites<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl<R: Unpin> AsyncWrite for BatchedWrites<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.shared.lock();
        state.failure()?;
        if state.shutdown {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if state.pending.len() >= HIGH_WATER {
            state.caller = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if state.pending.is_empty() {
            state.wake_writer();
        }
        let mut written = 0;
        for buf in bufs {
            state.pending.extend_from_slice(buf);
            written += buf.len();
        }
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shared.lock().failure())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.shared.lock();
        if state.finished {
            return Poll::Ready(state.failure());
        }
        state.shutdown = true;
        state.wake_writer();
        state.caller = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[derive(Default)]
struct Shared(Mutex<State>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; recover the state rather than poison every later call.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Default)]
struct State {
    /// Written and not yet handed to the socket.
    pending: Vec<u8>,
    /// The writer's error, reported to every later call.
    failed: Option<(io::ErrorKind, String)>,
    /// The connection asked for a shutdown: write what is pending, then shut the write side.
    shutdown: bool,
    /// The connection is gone: write what the socket takes without waiting, then stop.
    dropped: bool,
    /// The writer stopped.
    finished: bool,
    writer: Option<Waker>,
    caller: Option<Waker>,
}

impl State {
    fn failure(&self) -> io::Result<()> {
        match &self.failed {
            Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
            None => Ok(()),
        }
    }

    fn wake_writer(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.wake();
        }
    }

    fn wake_caller(&mut self) {
        if let Some(caller) = self.caller.take() {
            caller.wake();
        }
    }

    fn finish(&mut self, failed: Option<io::Error>) {
        self.finished = true;
        self.failed = failed.map(|error| (error.kind(), error.to_string()));
        self.pending = Vec::new();
        self.wake_caller();
    }
}

/// Writes all of `batch`; `Ok(false)` if the connection was dropped while the socket would not take it.
async fn write_unless_dropped<W: AsyncWrite + Unpin>(
    write: &mut W,
    batch: &[u8],
    shared: &Shared,
) -> io::Result<bool> {
    let mut rest = batch;
    while !rest.is_empty() {
        let written = std::future::poll_fn(|cx| {
            if let Poll::Ready(written) = Pin::new(&mut *write).poll_write(cx, rest) {
                return Poll::Ready(Some(written));
            }
            let mut state = shared.lock();
            if state.dropped {
                return Poll::Ready(None);
            }
            state.writer = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        match written {
            None => return Ok(false),
            Some(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Some(Ok(written)) => rest = &rest[written..],
            Some(Err(error)) => return Err(error),
        }
    }
    Ok(true)
}

/// What the writer does next.
enum Next {
    Write,
    Shutdown,
    Abandon,
}

async fn write_batches<W: AsyncWrite + Unpin>(mut write: W, shared: Arc<Shared>) {
    let mut batch = Vec::new();
    loop {
        let next = std::future::poll_fn(|cx| {
            let mut state = shared.lock();
            if state.dropped {
                Poll::Ready(Next::Abandon)
            } else if !state.pending.is_empty() {
                Poll::Ready(Next::Write)
            } else if state.shutdown {
                Poll::Ready(Next::Shutdown)
            } else {
                state.writer = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        match next {
            Next::Write => {
                // Every task ready now runs before the batch is taken, and adds what it writes.
                tokio::task::yield_now().await;
                {
                    let mut state = shared.lock();
                    std::mem::swap(&mut batch, &mut state.pending);
                    state.wake_caller();
                }
                match write_unless_dropped(&mut write, &batch, &shared).await {
                    Ok(true) => batch.clear(),
                    // The connection is gone and the peer does not read: stop, as closing the socket would.
                    Ok(false) => {
                        shared.lock().finish(None);
                        return;
                    }
                    Err(error) => {
                        shared.lock().finish(Some(error));
                        return;
                    }
                }
            }
            Next::Shutdown => {
                let result = write.shutdown().await;
                shared.lock().finish(result.err());
                return;
            }
            Next::Abandon => {
                // As closing a socket would: what fits in the send buffer still leaves, nothing waits.
                let pending = std::mem::take(&mut shared.lock().pending);
                let mut rest = &pending[..];
                while let Some(Ok(sent @ 1..)) = write.write(rest).now_or_never() {
                    rest = &rest[sent..];
                }
                shared.lock().finish(None);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::{
        io::AsyncReadExt,
        net::{TcpListener, TcpStream},
        time::timeout,
    };

    use super::*;

    /// Where the writer's bytes go: records each write call, and can hold writes back or fail them.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<SinkState>>);

    #[derive(Default)]
    struct SinkState {
        calls: Vec<Vec<u8>>,
        held: bool,
        waiting: Option<Waker>,
        failing: Option<io::ErrorKind>,
        shut_down: bool,
        dropped: bool,
    }

    impl Sink {
        /// A sink that takes nothing until released.
        fn holding() -> Self {
            let sink = Self::default();
            sink.state().held = true;
            sink
        }

        fn state(&self) -> MutexGuard<'_, SinkState> {
            self.0.lock().unwrap()
        }

        fn received(&self) -> Vec<u8> {
            self.state().calls.concat()
        }

        fn release(&self) {
            let mut state = self.state();
            state.held = false;
            if let Some(waker) = state.waiting.take() {
                waker.wake();
            }
        }

        /// Waits (a bounded time) until `check` holds of the sink.
        async fn until(&self, check: impl Fn(&SinkState) -> bool) {
            timeout(Duration::from_secs(5), async {
                while !check(&self.state()) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
            .await
            .expect("the sink never got there");
        }
    }

    /// The writer's end of a sink; dropping it marks the sink dropped.
    struct SinkEnd(Sink);

    impl Drop for SinkEnd {
        fn drop(&mut self) {
            self.0.state().dropped = true;
        }
    }

    impl AsyncWrite for SinkEnd {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let mut state = self.0.state();
            if let Some(kind) = state.failing {
                return Poll::Ready(Err(kind.into()));
            }
            if state.held {
                state.waiting = Some(cx.waker().clone());
                return Poll::Pending;
            }
            state.calls.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.0.state().shut_down = true;
            Poll::Ready(Ok(()))
        }
    }

    fn connection(sink: &Sink) -> BatchedWrites<tokio::io::Empty> {
        let info = TcpConnectInfo {
            local_addr: None,
            remote_addr: None,
        };
        BatchedWrites::from_halves(tokio::io::empty(), SinkEnd(sink.clone()), info)
    }

    #[tokio::test]
    async fn frames_flushed_one_by_one_leave_in_one_write() {
        let sink = Sink::default();
        let mut connection = connection(&sink);
        let mut expected = Vec::new();
        for frame in 0..10u8 {
            // As h2 does with a response and its trailers: write, flush, write, flush.
            connection.write_all(&[frame; 300]).await.unwrap();
            connection.flush().await.unwrap();
            expected.extend_from_slice(&[frame; 300]);
        }
        sink.until(|state| !state.calls.is_empty()).await;
        assert_eq!(sink.state().calls, vec![expected.clone()]);

        // What is written after a batch left is the next batch.
        connection.write_all(b"next").await.unwrap();
        connection.flush().await.unwrap();
        sink.until(|state| state.calls.len() == 2).await;
        assert_eq!(sink.state().calls[1], b"next");
    }

    #[tokio::test]
    async fn writes_from_tasks_woken_after_the_first_write_share_its_batch() {
        // Each task writes, then wakes the next: all of them become ready after the writer was woken by the first.
        let sink = Sink::default();
        let connection = Arc::new(tokio::sync::Mutex::new(connection(&sink)));
        let (first, mut turn) = tokio::sync::oneshot::channel::<()>();
        let mut writers = Vec::new();
        for task in 0..8u8 {
            let (next, next_turn) = tokio::sync::oneshot::channel::<()>();
            let connection = connection.clone();
            writers.push(tokio::spawn(async move {
                turn.await.unwrap();
                let mut connection = connection.lock().await;
                connection.write_all(&[task; 64]).await.unwrap();
                connection.flush().await.unwrap();
                let _ = next.send(());
            }));
            turn = next_turn;
        }
        // Every task (and the writer) now waits: for its turn, and for bytes.
        tokio::time::sleep(Duration::from_millis(10)).await;
        first.send(()).unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        sink.until(|state| state.calls.concat().len() == 8 * 64)
            .await;
        let calls = sink.state().calls.clone();
        assert_eq!(calls.len(), 1, "{} writes", calls.len());
        let expected: Vec<u8> = (0..8u8).flat_map(|task| [task; 64]).collect();
        assert_eq!(calls[0], expected);
    }

    #[tokio::test]
    async fn a_shutdown_returns_once_everything_is_written_and_the_write_side_is_shut() {
        let sink = Sink::holding();
        let mut connection = connection(&sink);
        connection.write_all(b"one ").await.unwrap();
        connection.write_all(b"two").await.unwrap();
        let mut shutdown = Box::pin(async move { connection.shutdown().await });
        assert!(
            timeout(Duration::from_millis(50), &mut shutdown)
                .await
                .is_err(),
            "the shutdown returned before the bytes were written"
        );
        sink.release();
        timeout(Duration::from_secs(5), shutdown)
            .await
            .expect("the shutdown never returned")
            .unwrap();
        assert_eq!(sink.received(), b"one two");
        assert!(sink.state().shut_down);
    }

    #[tokio::test]
    async fn a_write_error_is_reported_by_every_later_call() {
        let sink = Sink::default();
        sink.state().failing = Some(io::ErrorKind::ConnectionReset);
        let mut connection = connection(&sink);
        connection.write_all(b"lost").await.unwrap();
        sink.until(|state| state.dropped).await;
        let write = connection.write_all(b"more").await.unwrap_err();
        assert_eq!(write.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(
            connection.flush().await.unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        assert_eq!(
            connection.shutdown().await.unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
    }

    #[tokio::test]
    async fn writes_wait_once_the_high_water_mark_is_reached_and_lose_nothing() {
        let sink = Sink::holding();
        let mut connection = connection(&sink);
        let chunk: Vec<u8> = (0..=255).cycle().take(4096).collect();
        let mut accepted = 0;
        // The writer holds one batch; at most HIGH_WATER more waits behind it.
        while timeout(Duration::from_millis(50), connection.write_all(&chunk))
            .await
            .is_ok()
        {
            accepted += chunk.len();
            assert!(
                accepted <= 2 * HIGH_WATER + chunk.len(),
                "{accepted} bytes taken"
            );
        }
        assert!(accepted >= HIGH_WATER, "only {accepted} bytes taken");
        // A write is taken whole or not at all, so the one that timed out left nothing behind.
        sink.release();
        let rest = connection.write_all(b"end");
        timeout(Duration::from_secs(5), rest)
            .await
            .unwrap()
            .unwrap();
        connection.shutdown().await.unwrap();
        let mut expected = chunk.repeat(accepted / chunk.len());
        expected.extend_from_slice(b"end");
        assert!(sink.received() == expected, "bytes lost or out of order");
    }

    #[tokio::test]
    async fn bytes_pending_when_the_connection_is_dropped_are_still_sent() {
        let sink = Sink::default();
        let mut connection = connection(&sink);
        connection.write_all(b"goodbye").await.unwrap();
        drop(connection);
        sink.until(|state| state.dropped).await;
        assert_eq!(sink.received(), b"goodbye");
    }

    #[tokio::test]
    async fn a_writer_stuck_on_a_peer_that_does_not_read_stops_when_the_connection_is_dropped() {
        let sink = Sink::holding();
        let mut connection = connection(&sink);
        connection.write_all(b"never read").await.unwrap();
        sink.until(|state| state.waiting.is_some()).await;
        drop(connection);
        // The writer lets go of the socket instead of waiting on it for good.
        sink.until(|state| state.dropped).await;
        assert!(sink.received().is_empty());
    }

    #[tokio::test]
    async fn over_tcp_every_byte_arrives_in_order_and_the_peer_is_known() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        let mut server = BatchedWrites::new(accepted);
        assert_eq!(
            server.connect_info().remote_addr,
            Some(client.local_addr().unwrap())
        );
        let sent: Vec<u8> = (0..4 * HIGH_WATER).map(|i| (i % 251) as u8).collect();
        let reader = tokio::spawn(async move {
            let mut client = client;
            let mut received = Vec::new();
            client.read_to_end(&mut received).await.unwrap();
            received
        });
        for piece in sent.chunks(1000) {
            server.write_all(piece).await.unwrap();
            server.flush().await.unwrap();
        }
        server.shutdown().await.unwrap();
        let received = timeout(Duration::from_secs(10), reader)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(received.len(), sent.len());
        assert!(received == sent, "the bytes arrived out of order");
    }
}
