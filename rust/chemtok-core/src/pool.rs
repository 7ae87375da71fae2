//! Thread pools for batch encoding: one cached rayon pool per thread count.
//!
//! The rayon global pool is never used: building it can fail only by panicking, and
//! a caller asking for `num_threads=3` must get three threads, not the global count.
//!
//! The cache is keyed by the process that built it. `fork()` copies the cache into
//! the child but not the worker threads (only the forking thread exists there), so a
//! child that reused a parent's pool would queue work that no thread ever runs and
//! wait for it forever (`datasets.map(num_proc=2)`, `DataLoader(num_workers=2)`). A
//! new process id therefore starts an empty cache.

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

/// The pools of one process.
#[derive(Default)]
struct Pools {
    /// The process that built `by_size` (0 before the first pool).
    pid: u32,
    by_size: HashMap<usize, Arc<ThreadPool>>,
}

impl Pools {
    /// The pool of `threads` workers for process `pid`, built on first use.
    fn get(&mut self, pid: u32, threads: usize) -> Result<Arc<ThreadPool>, String> {
        if self.pid != pid {
            // Pools inherited through fork(): their workers do not exist in this
            // process. Dropping one would signal and wait on those absent threads, so
            // the parent's pools are leaked instead (a few allocations per fork).
            std::mem::forget(std::mem::take(&mut self.by_size));
            self.pid = pid;
        }
        if let Some(pool) = self.by_size.get(&threads) {
            return Ok(Arc::clone(pool));
        }
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("chemtok-{i}"))
            .build()
            .map_err(|err| format!("cannot start {threads} worker threads: {err}"))?;
        let pool = Arc::new(pool);
        self.by_size.insert(threads, Arc::clone(&pool));
        Ok(pool)
    }
}

fn pools() -> &'static Mutex<Pools> {
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(Pools::default()))
}

/// The cached pool of `threads` workers of this process, built on first use.
pub(crate) fn pool(threads: usize) -> Result<Arc<ThreadPool>, String> {
    // A poisoned lock only means another caller panicked while holding it; the map
    // itself is still consistent (insertions are single operations).
    let mut cache = pools().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    cache.get(std::process::id(), threads)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_is_reused_within_a_process() {
        let mut pools = Pools::default();
        let first = pools.get(7, 2).expect("pool");
        let again = pools.get(7, 2).expect("pool");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.current_num_threads(), 2);
    }

    #[test]
    fn a_new_process_id_builds_new_pools_that_run() {
        let mut pools = Pools::default();
        let parent = pools.get(7, 2).expect("pool");
        // As in a forked child: same cache, another pid.
        let child = pools.get(8, 2).expect("pool");
        assert!(!Arc::ptr_eq(&parent, &child));
        assert_eq!(pools.pid, 8);
        assert_eq!(child.install(rayon::current_num_threads), 2);
        assert!(Arc::ptr_eq(&child, &pools.get(8, 2).expect("pool")));
        // The inherited map was leaked, not dropped: its reference is still counted.
        assert_eq!(Arc::strong_count(&parent), 2);
    }
}
