//! The matchit index: routes of the same shape share one entry, and each entry knows the
//! entries of other shapes that could match the same paths (Django's first-match rule).

use super::UrlResolver;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Static(String),
    Param,
    CatchAll,
}

#[derive(Debug)]
pub(super) struct Entry {
    pub(super) shape: Vec<Seg>,
    /// Route indices of this shape, in registration order.
    pub(super) candidates: Vec<usize>,
    /// Entries of other shapes that may match some of the same paths.
    pub(super) overlapping: Vec<usize>,
    /// Route indices of overlapping entries, in registration order.
    pub(super) overlap_routes: Vec<usize>,
}

pub(super) fn overlaps(a: &[Seg], b: &[Seg]) -> bool {
    let mut i = 0;
    loop {
        match (a.get(i), b.get(i)) {
            (None, None) => return true,
            // Conservative: a catch-all may swallow the rest.
            (Some(Seg::CatchAll), _) | (_, Some(Seg::CatchAll)) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(Seg::Static(x)), Some(Seg::Static(y))) if x != y => return false,
            (Some(Seg::Static(x)), Some(Seg::Param)) | (Some(Seg::Param), Some(Seg::Static(x)))
                if x.is_empty() =>
            {
                return false
            }
            _ => {}
        }
        i += 1;
    }
}

/// Merge `new` (sorted) into `into` (sorted), keeping it sorted.
pub(super) fn merge_sorted(into: &mut Vec<usize>, new: &[usize]) {
    into.extend_from_slice(new);
    into.sort_unstable();
    into.dedup();
}

impl<T> UrlResolver<T> {
    pub(super) fn add_to_router(&mut self, index: usize, pattern: String, shape: Vec<Seg>) {
        if let Some(&e) = self.entry_index.get(&pattern) {
            if let Some(entry) = self.entries.get_mut(e) {
                entry.candidates.push(index);
                let others = entry.overlapping.clone();
                for o in others {
                    if let Some(other) = self.entries.get_mut(o) {
                        other.overlap_routes.push(index);
                    }
                }
                return;
            }
        }
        if self
            .router
            .insert(pattern.clone(), self.entries.len())
            .is_err()
        {
            // matchit refuses this shape next to an existing one (e.g. a
            // catch-all beside a parameter); regex matching is always exact.
            self.fallback.push(index);
            return;
        }
        let e = self.entries.len();
        let mut entry = Entry {
            shape,
            candidates: vec![index],
            overlapping: Vec::new(),
            overlap_routes: Vec::new(),
        };
        for (o, other) in self.entries.iter_mut().enumerate() {
            if overlaps(&entry.shape, &other.shape) {
                entry.overlapping.push(o);
                merge_sorted(&mut entry.overlap_routes, &other.candidates);
                other.overlapping.push(e);
                other.overlap_routes.push(index);
            }
        }
        self.entries.push(entry);
        self.entry_index.insert(pattern, e);
    }
}
