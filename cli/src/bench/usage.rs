//! CPU time and memory, as the kernel counts them (Linux `/proc`; elsewhere zero).

use std::time::Duration;

/// Clock ticks per second of `/proc`'s CPU times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

fn cpu_of(stat: &str) -> Duration {
    // The fields after the command's closing parenthesis: utime and stime are the 12th and
    // 13th of them.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / TICKS_PER_SECOND)
}

/// The CPU time (user and system) the calling thread has used.
pub fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/stat").map_or(Duration::ZERO, |stat| cpu_of(&stat))
}

/// The CPU time the whole process has used.
pub fn process_cpu() -> Duration {
    std::fs::read_to_string("/proc/self/stat").map_or(Duration::ZERO, |stat| cpu_of(&stat))
}

/// Starts the peak of [`peak_rss_mib`] again from the memory resident now, so that a
/// workload's peak is its own (Linux: `/proc/self/clear_refs`; elsewhere nothing).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory since the last [`reset_peak_rss`], in MiB (`VmHWM`).
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_times_are_read_past_the_command_name() {
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0";
        assert_eq!(cpu_of(stat), Duration::from_secs(2));
    }
}
