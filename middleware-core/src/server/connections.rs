//! The server's open connections: the watchdog, graceful shutdown, what is in flight.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::future;
use futures_util::task::AtomicWaker;

use super::Server;
use crate::request::ConnectionInfo;

/// The server's open connections, for the watchdog that closes idle ones and for graceful
/// shutdown. The hot path touches none of it but the connection's own [`Activity`]: the
/// watchdog is one task for the whole server that looks at every connection a few times per
/// timeout, so no connection polls a timer or a shutdown signal each time it wakes.
pub(super) struct Connections {
    started: Instant,
    /// Milliseconds from `started` as of the watchdog's last tick: the clock requests read when
    /// they end, one load instead of a clock call.
    now_ms: AtomicU64,
    /// The header read timeout: how long a connection may have nothing in flight.
    timeout: Duration,
    /// The send timeout: how long a response may wait for the client to read.
    send_timeout: Duration,
    open: Mutex<Vec<Weak<Activity>>>,
}

impl Connections {
    pub(super) fn new(timeout: Duration, send_timeout: Duration) -> Self {
        Connections {
            started: Instant::now(),
            now_ms: AtomicU64::new(0),
            timeout,
            send_timeout,
            open: Mutex::new(Vec::new()),
        }
    }

    /// How often the watchdog looks: an idle connection is closed between one timeout and
    /// the timeout plus two ticks after its last response, a stalled one likewise.
    fn tick(&self) -> Duration {
        (self.timeout.min(self.send_timeout) / 8)
            .clamp(Duration::from_millis(1), Duration::from_secs(1))
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Weak<Activity>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection, idle from now.
    pub(super) fn open(
        self: &Arc<Self>,
        server: Arc<Server>,
        info: ConnectionInfo,
    ) -> Arc<Activity> {
        let activity = Arc::new(Activity {
            server,
            info,
            connections: self.clone(),
            state: AtomicU64::new(self.now_ms.load(Ordering::Relaxed)),
            sending: AtomicU64::new(0),
            flags: AtomicU8::new(0),
            waker: AtomicWaker::new(),
        });
        self.list().push(Arc::downgrade(&activity));
        activity
    }

    /// The watchdog: every tick, advances the clock, forgets closed connections and closes
    /// the ones idle for longer than the timeout (a slowloris request head, or a keep-alive
    /// connection nobody uses), and the ones whose client has not taken any of a response
    /// for longer than the send timeout.
    pub(super) async fn watch(self: Arc<Self>) {
        let tick = self.tick();
        // The clock lags real time by up to a tick, so a connection may look idle a tick
        // longer than it has been: the margin keeps a close from coming before the timeout.
        let limit = u64::try_from((self.timeout + tick).as_millis()).unwrap_or(u64::MAX);
        let send_limit = u64::try_from((self.send_timeout + tick).as_millis()).unwrap_or(u64::MAX);
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(IDLE_MS_MASK);
            self.now_ms.store(now, Ordering::Relaxed);
            self.list().retain(|weak| {
                let Some(activity) = weak.upgrade() else {
                    return false;
                };
                let state = activity.state.load(Ordering::Acquire);
                if state < IN_FLIGHT_ONE && now.saturating_sub(state & IDLE_MS_MASK) >= limit {
                    activity.signal(CLOSE);
                }
                let sending = activity.sending.load(Ordering::Acquire);
                if sending >= IN_FLIGHT_ONE
                    && now.saturating_sub(sending & IDLE_MS_MASK) >= send_limit
                {
                    activity.signal(STALLED);
                }
                true
            });
        }
    }

    /// Asks up to `most` of the connections that have no request in flight, those idle the
    /// longest first, to close (gracefully: an HTTP/2 one gets GOAWAY; a request that arrives
    /// meanwhile is still served). nginx's answer to running out of connections: a keep-alive
    /// connection nobody uses is worth less than a new one with a request waiting, and its
    /// client reconnects when it has one.
    pub(super) fn shed_idle(&self, most: usize) -> usize {
        let mut idle: Vec<(u64, Arc<Activity>)> = self
            .list()
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|a| a.flags.load(Ordering::Acquire) == 0)
            .filter_map(|a| {
                let state = a.state.load(Ordering::Acquire);
                (state < IN_FLIGHT_ONE).then_some((state & IDLE_MS_MASK, a))
            })
            .collect();
        idle.sort_unstable_by_key(|(since, _)| *since);
        let shed = idle.len().min(most);
        for (_, activity) in &idle[..shed] {
            activity.signal(SHUT_DOWN);
        }
        shed
    }

    /// Asks every open connection to finish what it is serving and close.
    pub(super) fn shut_down(&self) {
        self.signal_all(SHUT_DOWN);
    }

    /// Drops every connection still open, in-flight requests and all (the shutdown timeout
    /// has passed): `serve` returns with nothing left running behind it.
    pub(super) fn abort(&self) {
        self.signal_all(ABORT);
    }

    fn signal_all(&self, flag: u8) {
        for activity in self.list().iter().filter_map(Weak::upgrade) {
            activity.signal(flag);
        }
    }
}

/// What a connection is doing, for the watchdog: how many requests are in flight (HTTP/2 may
/// have several) and since when it has had none, in one atomic word so the watchdog never
/// sees the count and the time out of step; and what the server asks of it.
pub(super) struct Activity {
    /// What the connection's requests are served by, and where they came from: held here
    /// so a request holds one reference count (its [`Busy`]) for all of them.
    pub(super) server: Arc<Server>,
    pub(super) info: ConnectionInfo,
    connections: Arc<Connections>,
    /// Requests in flight in the top 16 bits; the end of the last response, in the
    /// server's milliseconds (`Connections::now_ms`), in the low 48.
    state: AtomicU64,
    /// Response bodies whose frame hyper holds, waiting for the client to take it (top 16
    /// bits), and when the connection last sent anything (low 48), as in `state`.
    sending: AtomicU64,
    /// `CLOSE`, `SHUT_DOWN`, `ABORT` and `STALLED`, set by the server.
    flags: AtomicU8,
    /// The connection task, woken when a flag is set.
    waker: AtomicWaker,
}

const IN_FLIGHT_ONE: u64 = 1 << 48;
const IDLE_MS_MASK: u64 = IN_FLIGHT_ONE - 1;
/// Idle past the header read timeout: drop the connection.
const CLOSE: u8 = 1;
/// The server is shutting down: finish in-flight requests, then close.
const SHUT_DOWN: u8 = 2;
/// The shutdown timeout has passed: drop the connection, requests in flight or not.
const ABORT: u8 = 4;
/// A response has waited past the send timeout for the client to read it: drop the connection.
const STALLED: u8 = 8;

/// How a connection ended.
pub(super) enum Ended<E> {
    /// hyper finished with it (the client closed it, or shutdown did).
    Served(Result<(), E>),
    /// The watchdog closed it.
    Idle,
    /// The server stopped waiting for it (shutdown timeout).
    Aborted,
    /// Its client stopped reading a response (send timeout).
    Stalled,
}

impl Activity {
    /// A request head has arrived; the returned guard ends the request when the response
    /// body is done with (sent, or dropped with the connection).
    pub(super) fn begin(self: &Arc<Self>) -> Busy {
        self.state.fetch_add(IN_FLIGHT_ONE, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// Whether a request is in flight: when none is, an HTTP/1.1 connection is reading a
    /// request head.
    pub(super) fn in_flight(&self) -> bool {
        self.state.load(Ordering::Relaxed) >= IN_FLIGHT_ONE
    }

    /// A response body has handed hyper a frame that is not its last: until hyper asks for
    /// the next, the connection waits for its client.
    pub(super) fn send_waits(&self) {
        let now = self.connections.now_ms.load(Ordering::Relaxed);
        let _ = self
            .sending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |sending| {
                // The first one waiting starts the clock; more keep it.
                let since = if sending < IN_FLIGHT_ONE {
                    now
                } else {
                    sending & IDLE_MS_MASK
                };
                Some(((sending & !IDLE_MS_MASK) + IN_FLIGHT_ONE) | since)
            });
    }

    /// hyper has asked a waiting body for more: the client is reading, the clock restarts.
    pub(super) fn send_resumed(&self) {
        let now = self.connections.now_ms.load(Ordering::Relaxed);
        let _ = self
            .sending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |sending| {
                Some((sending & !IDLE_MS_MASK).saturating_sub(IN_FLIGHT_ONE) | now)
            });
    }

    fn signal(&self, flag: u8) {
        self.flags.fetch_or(flag, Ordering::AcqRel);
        self.waker.wake();
    }

    /// Polls the connection until it ends, closing it when the watchdog says it is idle
    /// and starting its graceful shutdown (`shut_down`) when the server stops.
    pub(super) async fn drive<C, E>(
        &self,
        mut conn: Pin<&mut C>,
        shut_down: impl Fn(Pin<&mut C>),
    ) -> Ended<E>
    where
        C: Future<Output = Result<(), E>>,
    {
        let mut shutting_down = false;
        // The waker last handed to `self.waker`: registering again only when the task's
        // waker changes keeps the atomic handshake off the per-request path.
        let mut registered: Option<Waker> = None;
        let mut seen = 0;
        future::poll_fn(|cx| {
            if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                self.waker.register(cx.waker());
                registered = Some(cx.waker().clone());
            }
            let mut flags = self.flags.load(Ordering::Acquire);
            if flags != seen {
                // The signal's wake took the registered waker: register again, so that a later
                // signal (shutdown, then its timeout) wakes this task too, and read the flags
                // again, for one set before that.
                self.waker.register(cx.waker());
                flags = self.flags.load(Ordering::Acquire);
                seen = flags;
            }
            if flags & ABORT != 0 {
                return Poll::Ready(Ended::Aborted);
            }
            if flags & CLOSE != 0 {
                return Poll::Ready(Ended::Idle);
            }
            if flags & STALLED != 0 {
                return Poll::Ready(Ended::Stalled);
            }
            if flags & SHUT_DOWN != 0 && !shutting_down {
                shutting_down = true;
                shut_down(conn.as_mut());
            }
            conn.as_mut().poll(cx).map(Ended::Served)
        })
        .await
    }
}

/// One request in flight on a connection (see [`Activity::begin`]).
pub(super) struct Busy(pub(super) Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.connections.now_ms.load(Ordering::Relaxed);
        // Requests of an HTTP/2 connection end concurrently: the update is atomic against
        // them and against `begin`, and keeps the latest end time.
        let _ = self
            .0
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                let in_flight = (state & !IDLE_MS_MASK).saturating_sub(IN_FLIGHT_ONE);
                Some(in_flight | (state & IDLE_MS_MASK).max(now))
            });
    }
}
