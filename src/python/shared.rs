//! A read-only view into part of an immutable model tree.
//!
//! A parsed chunk is owned once, behind an `Arc`; every Python object for a nested part
//! (a choice, its delta, a tool call) points into that tree and keeps the root alive, so
//! attribute access never copies data.
//!
//! A tree parsed from JSON text may borrow its strings from that text (`parse_backed`):
//! the text then lives inside the same owner. Such a tree claims `'static` but is only
//! valid while its owner is, so bindings code must never clone data out of a `Shared`
//! and keep it past the `Shared`'s life: read it, convert it, or copy into owned types.

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

/// A parsed value stored next to the text it borrows from; fields drop in order, so the
/// value goes before its text.
struct Backed<T, B> {
    value: T,
    _text: B,
}

impl<T: Send + Sync + 'static> Shared<T> {
    /// Owns a value that borrows from nothing (a merged completion, an owned chunk).
    pub fn new(value: T) -> Self {
        Self::from_arc(Arc::new(value))
    }

    /// Shares a value someone else may hold too (a chunk template's last chunk).
    pub fn from_arc(owner: Arc<T>) -> Self {
        let ptr = NonNull::from(&*owner);
        Shared { owner, ptr }
    }

    /// Parses `text` (which must be the bytes held by `buffer`) into a value that borrows
    /// from it, and keeps both together.
    ///
    /// # Safety
    /// `text` must point into memory owned by `buffer` that stays put when `buffer` moves
    /// (a `Vec`'s heap data, an immutable Python `bytes` object), and `parse` must return a
    /// value borrowing from nothing but its argument.
    pub unsafe fn parse_backed<B: Send + Sync + 'static, E>(
        buffer: B,
        text: *const [u8],
        parse: impl FnOnce(&'static [u8]) -> Result<T, E>,
    ) -> Result<Self, E> {
        let value = parse(&*text)?;
        let owner = Arc::new(Backed {
            value,
            _text: buffer,
        });
        let ptr = NonNull::from(&owner.value);
        Ok(Shared { owner, ptr })
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

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared {
            owner: Arc::clone(&self.owner),
            ptr: self.ptr,
        }
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `owner` keeps the tree alive and nothing mutates it (see above).
        unsafe { self.ptr.as_ref() }
    }
}
