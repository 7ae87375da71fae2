//! Thread pools for batch encoding: one cached rayon pool per thread count.
//!
//! The rayon global pool is never used: building it can fail only by panicking, and
//! a caller asking for `num_threads=3` must get three threads, not the global count.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// How many threads a batch call may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// All cores (`std::thread::available_parallelism`).
    All,
    /// Exactly this many; 1 runs on the calling thread without a pool.
    Count(NonZeroUsize),
}

impl Threads {
    /// From the Python argument: `None` is all cores; `Some(0)` is refused (`None`).
    pub fn from_option(count: Option<usize>) -> Option<Self> {
        match count {
            None => Some(Threads::All),
            Some(n) => NonZeroUsize::new(n).map(Threads::Count),
        }
    }

    /// The thread count this stands for.
    pub fn count(self) -> usize {
        match self {
            Threads::All => std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            Threads::Count(n) => n.get(),
        }
    }
}

fn pools() -> &'static Mutex<HashMap<usize, Arc<ThreadPool>>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The cached pool of `threads` workers, built on first use.
pub(crate) fn pool(threads: usize) -> Result<Arc<ThreadPool>, String> {
    // A poisoned lock only means another caller panicked while holding it; the map
    // itself is still consistent (insertions are single operations).
    let mut map = pools().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = map.get(&threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("chemtok-{i}"))
        .build()
        .map_err(|err| format!("cannot start {threads} worker threads: {err}"))?;
    let pool = Arc::new(pool);
    map.insert(threads, Arc::clone(&pool));
    Ok(pool)
}
