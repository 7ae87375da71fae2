//! Chunks of a batch encoded in parallel and handed over in input order, a few at a time.
//!
//! The batch paths (`Router::run`, `Tokenizer::encode_batch`, `ByteLevelBpe::encode_batch`)
//! used to collect every chunk's id vector and then copy them into one flat vector:
//! with one chunk (one thread, or a one-text batch) the whole result was copied while
//! the chunk was alive, and the grammar tokenizers copied every chunk in parallel before
//! freeing any, so both were resident at the end (2x the result at the peak).
//!
//! [`in_order`] instead lets the calling thread append each chunk to the flat result
//! and drop it ([`Rows::take`]) as soon as it and every chunk before it are done, while
//! the workers go on with later chunks. No worker starts a chunk more than `WINDOW`
//! chunks per worker ahead of the last one handed over, so at most that many chunks
//! exist beside the result at any time, and the memory a dropped chunk frees is what
//! the next one is allocated from. The peak is the result plus those few chunks: ~1x
//! the result, whatever the allocator does with freed memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex, MutexGuard, PoisonError};

use rayon::ThreadPool;

/// Chunks per worker that may be done (or under way) before they are handed over.
const WINDOW: usize = 4;

/// How far the hand-over got, shared by the calling thread and the workers.
#[derive(Default)]
struct Progress {
    /// Chunks handed over so far.
    taken: usize,
    /// A worker panicked: nobody waits for the window any more.
    abandoned: bool,
}

/// Sets `abandoned` and wakes the waiting workers when a worker unwinds, so that a
/// panic in `encode` is re-raised by the scope instead of leaving workers waiting
/// for a chunk that never comes.
struct Unwinding<'a>(&'a Mutex<Progress>, &'a Condvar);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(self.0).abandoned = true;
            self.1.notify_all();
        }
    }
}

fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    // Progress is two plain fields written whole: still consistent after a panic.
    progress.lock().unwrap_or_else(PoisonError::into_inner)
}

/// [`in_order`] over consecutive slices of `items`: `encode(slice, index of its first item)`.
///
/// Several slices per worker (at most `max_slice` items each) so that work stealing
/// evens out long records.
pub(crate) fn in_order_slices<T: Sync, C: Send>(
    pool: &ThreadPool,
    workers: usize,
    items: &[T],
    max_slice: usize,
    encode: impl Fn(&[T], usize) -> C + Sync,
    take: impl FnMut(C),
) {
    let size = (items.len() / (workers.max(1) * 8)).clamp(1, max_slice.max(1));
    in_order(
        pool,
        workers,
        items.len().div_ceil(size),
        |k| {
            let start = k * size;
            encode(&items[start..items.len().min(start + size)], start)
        },
        take,
    );
}

/// Run `encode(k)` for every `k < count` on `workers` threads of `pool`, and `take`
/// each result on the calling thread in order of `k` (see the module docs).
///
/// The calling thread must not be a worker of `pool` (it blocks while it waits).
pub(crate) fn in_order<C: Send>(
    pool: &ThreadPool,
    workers: usize,
    count: usize,
    encode: impl Fn(usize) -> C + Sync,
    mut take: impl FnMut(C),
) {
    let window = WINDOW * workers.max(1);
    let claimed = AtomicUsize::new(0);
    let progress = Mutex::new(Progress::default());
    let wake = Condvar::new();
    let (done, finished) = mpsc::channel::<(usize, C)>();
    pool.in_place_scope(|scope| {
        for _ in 0..workers.clamp(1, count.max(1)) {
            let done = done.clone();
            let (claimed, progress, wake, encode) = (&claimed, &progress, &wake, &encode);
            scope.spawn(move |_| {
                let _guard = Unwinding(progress, wake);
                loop {
                    let k = claimed.fetch_add(1, Ordering::Relaxed);
                    if k >= count {
                        return;
                    }
                    let mut state = lock(progress);
                    while k >= state.taken + window && !state.abandoned {
                        state = wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                    }
                    if state.abandoned {
                        return;
                    }
                    drop(state);
                    if done.send((k, encode(k))).is_err() {
                        return;
                    }
                }
            });
        }
        // The workers hold the only senders left: the loop ends when they are all gone.
        drop(done);
        // Should `take` panic, the workers must not wait for a hand-over either.
        let _guard = Unwinding(&progress, &wake);
        let mut early: BTreeMap<usize, C> = BTreeMap::new();
        let mut next = 0;
        for (k, chunk) in finished {
            early.insert(k, chunk);
            let before = next;
            while let Some(chunk) = early.remove(&next) {
                take(chunk);
                next += 1;
            }
            if next > before {
                lock(&progress).taken = next;
                wake.notify_all();
            }
        }
    });
}

/// The flat rows of a batch (`FlatBatch` fields and the failures), built from its
/// chunks in input order.
pub(crate) struct Rows<F> {
    pub(crate) ids: Vec<u32>,
    pub(crate) offsets: Vec<i64>,
    pub(crate) failures: Vec<F>,
}

impl<F> Rows<F> {
    /// No rows yet, room for the offsets of `count` texts.
    pub(crate) fn new(count: usize) -> Self {
        let mut offsets = Vec::with_capacity(count + 1);
        offsets.push(0);
        Rows {
            ids: Vec::new(),
            offsets,
            failures: Vec::new(),
        }
    }

    /// Append the next chunk: its ids, the length of each of its rows, its failures.
    ///
    /// The chunk's ids are freed here. The first chunk's vector becomes the flat ids
    /// as it is (no copy); later ones are copied onto its end, and the flat vector
    /// grows in place (glibc remaps a large allocation rather than copying it, and the
    /// capacity not yet written is not resident).
    pub(crate) fn take(&mut self, ids: Vec<u32>, lens: &[usize], failures: Vec<F>) {
        let mut running = self.offsets.last().copied().unwrap_or(0);
        for &len in lens {
            running += len as i64;
            self.offsets.push(running);
        }
        if self.ids.capacity() == 0 {
            self.ids = ids;
        } else {
            self.ids.extend_from_slice(&ids);
        }
        self.failures.extend(failures);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_arrive_in_order_whatever_finishes_first() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().expect("pool");
        for count in [0, 1, 2, 7, 100] {
            let mut seen = Vec::new();
            // Early chunks take longest, so later ones are done first.
            in_order(
                &pool,
                3,
                count,
                |k| {
                    let spin: u64 = (0..((count - k) as u64 * 2000)).fold(0, |a, b| a ^ b.wrapping_mul(31));
                    (k, spin)
                },
                |(k, _)| seen.push(k),
            );
            assert_eq!(seen, (0..count).collect::<Vec<_>>(), "{count} chunks");
        }
    }

    /// Chunks of pseudo-random sizes (some empty), with failures in the middle: the
    /// rows are the plain concatenation of the chunks, in order.
    #[test]
    fn rows_are_the_concatenation_of_the_chunks() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
        let mut seed: u64 = 0x5eed;
        let mut next = move |bound: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % bound
        };
        // Chunk k: its rows' lengths, ids counting up from 1000 * k, a failure every 7th.
        let chunks: Vec<(Vec<u32>, Vec<usize>, Vec<usize>)> = (0..60)
            .map(|k| {
                let lens: Vec<usize> = (0..next(9)).map(|_| next(5) as usize).collect();
                let ids = (0..lens.iter().sum::<usize>() as u32).map(|i| 1000 * k + i).collect();
                let failed = if k % 7 == 3 { vec![k as usize] } else { vec![] };
                (ids, lens, failed)
            })
            .collect();
        let mut expected_ids = Vec::new();
        let mut expected_offsets = vec![0i64];
        for (ids, lens, _) in &chunks {
            expected_ids.extend_from_slice(ids);
            for &len in lens {
                expected_offsets.push(expected_offsets[expected_offsets.len() - 1] + len as i64);
            }
        }
        let mut rows: Rows<usize> = Rows::new(0);
        in_order(
            &pool,
            2,
            chunks.len(),
            |k| chunks[k].clone(),
            |(ids, lens, failed)| rows.take(ids, &lens, failed),
        );
        assert_eq!(rows.ids, expected_ids);
        assert_eq!(rows.offsets, expected_offsets);
        assert_eq!(rows.failures, (0..60).filter(|k| k % 7 == 3).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_chunk_is_re_raised_not_waited_for() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            in_order(
                &pool,
                2,
                50,
                |k| {
                    assert!(k != 0, "chunk 0 fails");
                    k
                },
                |_| {},
            );
        }));
        assert!(outcome.is_err());
    }
}
