//! What the load generators read of the server's processes from /proc (Linux only).

use anyhow::Context;

/// User and system CPU time consumed so far by `pids` (exited ones count as zero).
pub fn cpu_seconds(pids: &[u32]) -> anyhow::Result<f64> {
    // USER_HZ: 100 on every Linux architecture this runs on (x86_64, aarch64).
    const TICKS_PER_SECOND: f64 = 100.0;
    let mut ticks = 0u64;
    for pid in pids {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // Fields after the command name (which may contain spaces) start after the last ')'.
        let fields: Vec<&str> = stat.rsplit_once(')').context("proc stat")?.1.split_whitespace().collect();
        ticks += fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    }
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

/// Resident memory of `pid` in bytes (`VmRSS`), 0 if it is gone.
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return Ok(0) };
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).context("VmRSS in proc status")?;
    let kib: u64 = line.split_whitespace().nth(1).context("VmRSS value")?.parse()?;
    Ok(kib * 1_024)
}
