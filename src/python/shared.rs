//! A read-only view into part of an immutable model tree.
//!
//! A parsed chunk is owned once, behind an `Arc`; every Python object for a nested part
//! (a choice, its delta, a tool call) points into that tree and keeps the root alive, so
//! attribute access never copies data.

use std::any::Any;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

pub struct Shared<T: 'static> {
    owner: Arc<dyn Any + Send + Sync>,
    ptr: NonNull<T>,
}

// SAFETY: the pointee lives inside `owner`, is never mutated after construction, and is
// `Sync`, so sharing or sending the view across threads is as safe as sharing `&T`.
unsafe impl<T: Sync> Send for Shared<T> {}
unsafe impl<T: Sync> Sync for Shared<T> {}

impl<T: Send + Sync + 'static> Shared<T> {
    pub fn new(value: T) -> Self {
        let owner = Arc::new(value);
        let ptr = NonNull::from(&*owner);
        Shared { owner, ptr }
    }
}

impl<T> Shared<T> {
    /// A view of an optional part of this value, keeping the same root alive.
    pub fn project_opt<U>(
        &self,
        part: impl for<'x> FnOnce(&'x T) -> Option<&'x U>,
    ) -> Option<Shared<U>> {
        part(self).map(|p| Shared {
            owner: Arc::clone(&self.owner),
            ptr: NonNull::from(p),
        })
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `owner` keeps the tree alive and nothing mutates it (see above).
        unsafe { self.ptr.as_ref() }
    }
}
