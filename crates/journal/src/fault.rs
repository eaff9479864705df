//! Fault injection for tests of the failure paths (feature `fault-injection`, never in release
//! builds): makes the writer's next commits fail as a broken disk would.

use std::sync::atomic::{AtomicBool, Ordering};

static FAIL_COMMITS: AtomicBool = AtomicBool::new(false);

/// While set, every commit fails with an I/O error. Process-wide: use it in a test binary of its own.
pub fn fail_commits(fail: bool) {
    FAIL_COMMITS.store(fail, Ordering::SeqCst);
}

pub(crate) fn commit_should_fail() -> bool {
    FAIL_COMMITS.load(Ordering::SeqCst)
}
