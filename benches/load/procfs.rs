//! What the bench reads about the engine's process: CPU and memory from `/proc`, system
//! calls from `perf stat` where the machine allows it; and the busy process of `--busy`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// User + system CPU seconds of process `pid` so far.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; utime and stime are 14 and 15.
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> u64 { fields.get(n).and_then(|v| v.parse().ok()).unwrap_or(0) };
    (field(11) + field(12)) as f64 / ticks
}

/// Resident memory of process `pid`, in KiB.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Counts the system calls process `pid` makes over `window` with `perf stat` (on a
/// thread of its own, so the caller can measure meanwhile); `None` where perf is missing
/// or not allowed.
pub(crate) fn count_syscalls(pid: u32, window: Duration) -> std::thread::JoinHandle<Option<u64>> {
    std::thread::spawn(move || {
        let output = Command::new("perf")
            .args(["stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p"])
            .arg(pid.to_string())
            .arg("--")
            .arg("sleep")
            .arg(format!("{:.3}", window.as_secs_f64()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .output()
            .ok()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        stderr
            .lines()
            .find(|line| line.contains("raw_syscalls:sys_enter"))
            .and_then(|line| line.split(',').next()?.trim().parse().ok())
    })
}

/// A process of this bench that keeps one core busy until dropped.
pub(crate) struct Busy(Child);

impl Busy {
    pub(crate) fn start() -> Self {
        let child = Command::new(std::env::current_exe().expect("the bench's own path"))
            .arg("--spin")
            .stdin(Stdio::null())
            .spawn()
            .expect("the busy process starts");
        Self(child)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The busy process's body: spin on one core for ever.
pub(crate) fn spin() -> ! {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
