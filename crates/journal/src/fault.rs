//! Fault injection for tests of the failure paths (feature `fault-injection`, never in release
//! builds): makes the writer's commits fail as a broken disk would, at once or after a number of
//! further successful commits.

use std::sync::atomic::{AtomicI64, Ordering};

/// Commits that may still succeed before every later one fails; negative: no fault armed.
static COMMITS_BEFORE_FAILURE: AtomicI64 = AtomicI64::new(-1);

/// While set, every commit fails with an I/O error. Process-wide: use it in a test binary of its own.
pub fn fail_commits(fail: bool) {
    COMMITS_BEFORE_FAILURE.store(if fail { 0 } else { -1 }, Ordering::SeqCst);
}

/// Lets `n_commits` more commits succeed, then fails every one after them.
pub fn fail_commits_after(n_commits: u32) {
    COMMITS_BEFORE_FAILURE.store(i64::from(n_commits), Ordering::SeqCst);
}

pub(crate) fn commit_should_fail() -> bool {
    let previous = COMMITS_BEFORE_FAILURE
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |remaining| (remaining > 0).then_some(remaining - 1));
    // Unchanged (Err) means either no fault is armed (negative) or its budget is spent (zero).
    matches!(previous, Err(0))
}
