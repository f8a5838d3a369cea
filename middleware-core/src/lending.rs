//! Lending an owned request to code that takes it by value (a function middleware's
//! `next.run(request)`, a tower service) from a layer that holds it as `&mut`, and getting it
//! back with what the inner layers added. A leaf: [`crate::middleware::Next::run`] fills the
//! slot, the function middleware and the tower layer lend.

use std::sync::{Arc, Mutex};

use crate::body::Body;
use crate::Request;

/// Where [`Next::run`] hands the request back to the layer that lent it.
#[derive(Clone, Default)]
pub(crate) struct ReturnSlot(Arc<Mutex<Option<Request>>>);

impl ReturnSlot {
    pub(crate) fn put(&self, request: Request) {
        // A poisoned lock only means a panic elsewhere; the slot's content is still sound.
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(request);
    }

    fn take(&self) -> Option<Request> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.take()
    }
}

/// A request moved out of a `&mut` for code that takes it by value, and put back on drop
/// (even when that code panics): the request from the slot when it came back, else the copy of
/// its head.
pub(crate) struct Lent<'a> {
    request: &'a mut Request,
    slot: ReturnSlot,
    head: Option<Request>,
}

impl<'a> Lent<'a> {
    /// Moves the request out, with a return slot in its extensions.
    pub(crate) fn take(request: &'a mut Request) -> (Lent<'a>, Request) {
        let head = copy_head(request);
        let mut moved = std::mem::take(request);
        let slot = ReturnSlot::default();
        moved.extensions_mut().insert(slot.clone());
        let lent = Lent {
            request,
            slot,
            head: Some(head),
        };
        (lent, moved)
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(request) = self.slot.take().or_else(|| self.head.take()) {
            *self.request = request;
        }
    }
}

/// The head of a request, copied so it can be put back when the request does not come back.
fn copy_head(request: &Request) -> Request {
    let mut copy = Request::new(Body::empty());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    copy
}
