//! Names for files written aside and renamed into place.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

/// A suffix for a staging name that no other writer uses: this process's id, the time (a
/// leftover of an earlier process with the same id does not collide) and a count of the
/// names handed out in this process. With the process id alone, two threads writing the
/// same file at once shared one staging file, and the second rename failed because the
/// first had taken the file away.
pub(crate) fn unique_suffix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_differ_within_a_process() {
        let first = unique_suffix();
        let second = unique_suffix();
        assert_ne!(first, second);
        assert!(first.starts_with(&format!("{}-", std::process::id())));
    }
}
