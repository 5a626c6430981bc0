//! The server's CPU time and memory, from `/proc/<pid>/stat` and `/proc/<pid>/status`.

use anyhow::{Context, bail};
use serde::Serialize;

/// utime + stime of a process, in clock ticks.
pub(crate) fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    parse_stat_ticks(&stat)
}

/// utime (field 14) + stime (field 15) of a `stat` line. The second field, the command,
/// is in parentheses and may hold spaces, so the fields are counted after its last `)`.
pub(crate) fn parse_stat_ticks(stat: &str) -> anyhow::Result<u64> {
    let after = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .context("no ')' in stat")?;
    // After the command: field 3 (state) is index 0, so utime (14) is index 11.
    let fields: Vec<&str> = after.split_whitespace().collect();
    if fields.len() < 13 {
        bail!("short stat line");
    }
    let utime: u64 = fields[11].parse().context("utime")?;
    let stime: u64 = fields[12].parse().context("stime")?;
    Ok(utime + stime)
}

/// The fields of a `stat` line after the command (field 3, the state, is index 0).
fn stat_fields(stat: &str) -> anyhow::Result<Vec<&str>> {
    let after = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .context("no ')' in stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    if fields.len() < 15 {
        bail!("short stat line");
    }
    Ok(fields)
}

/// The parent's pid (field 4) of a `stat` line.
pub(crate) fn parse_stat_parent(stat: &str) -> anyhow::Result<u32> {
    stat_fields(stat)?[1].parse().context("ppid")
}

/// utime + stime + cutime + cstime (fields 14–17) of a `stat` line: the process and its
/// children that ended and were waited for.
pub(crate) fn parse_stat_ticks_with_children(stat: &str) -> anyhow::Result<u64> {
    let fields = stat_fields(stat)?;
    let mut sum = 0u64;
    for (i, name) in [(11, "utime"), (12, "stime"), (13, "cutime"), (14, "cstime")] {
        let ticks: u64 = fields[i].parse().context(name)?;
        sum += ticks;
    }
    Ok(sum)
}

/// The parent of a process.
pub(crate) fn parent(pid: u32) -> anyhow::Result<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    parse_stat_parent(&stat)
}

/// The CPU ticks of a server that forks a process per connection (PostgreSQL's
/// postmaster): its own and its ended children's, and its living children's. A child that
/// ends between two readings moves from the second sum to the first, so the difference of
/// two readings is the tree's CPU time between them.
pub(crate) fn tree_ticks(root: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{root}/stat"))
        .with_context(|| format!("reading /proc/{root}/stat"))?;
    let mut sum = parse_stat_ticks_with_children(&stat)?;
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may end between the listing and the reading.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if parse_stat_parent(&stat).ok() == Some(root) {
            sum += parse_stat_ticks(&stat)?;
        }
    }
    Ok(sum)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when getconf is missing).
pub(crate) fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

/// Server CPU seconds in a window, and per completed login in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct CpuUse {
    pub(crate) seconds: f64,
    /// `None` when no login completed.
    pub(crate) ms_per_login: Option<f64>,
}

pub(crate) fn cpu_use(before: u64, after: u64, ticks_per_second: u64, logins: u64) -> CpuUse {
    let seconds = after.saturating_sub(before) as f64 / ticks_per_second.max(1) as f64;
    CpuUse {
        seconds,
        ms_per_login: (logins > 0).then(|| seconds * 1000.0 / logins as f64),
    }
}

/// Resident memory now and at its peak, in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Memory {
    pub(crate) rss_kib: u64,
    pub(crate) hwm_kib: u64,
}

pub(crate) fn memory(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    Ok(parse_status(&status))
}

pub(crate) fn parse_status(status: &str) -> Memory {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kib: field("VmRSS:"),
        hwm_kib: field("VmHWM:"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks_with_a_command_holding_spaces_and_parens() -> anyhow::Result<()> {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    750 250 0 0 20 0 3 0 98765 123456789 4321 18446744073709551615";
        assert_eq!(parse_stat_ticks(stat)?, 1000);
        assert!(parse_stat_ticks("12 (x) S 1 2").is_err());
        Ok(())
    }

    #[test]
    fn stat_parent_and_ticks_with_children() -> anyhow::Result<()> {
        let stat = "4242 (postgres: x (y)) S 77 4242 4242 0 -1 4194560 1234 0 0 0 \
                    750 250 30 20 20 0 3 0 98765 123456789 4321 18446744073709551615";
        assert_eq!(parse_stat_parent(stat)?, 77);
        assert_eq!(parse_stat_ticks_with_children(stat)?, 1050);
        assert!(parse_stat_parent("12 (x) S 1 2").is_err());
        Ok(())
    }

    #[test]
    fn cpu_per_login_arithmetic() {
        let c = cpu_use(1_000, 1_250, 100, 500);
        assert_eq!(c.seconds, 2.5);
        assert_eq!(c.ms_per_login, Some(5.0));
        assert_eq!(cpu_use(10, 10, 100, 0).ms_per_login, None);
        // A counter never runs backwards; a reused pid must not give a negative time.
        assert_eq!(cpu_use(500, 400, 100, 1).seconds, 0.0);
        assert_eq!(cpu_use(0, 1000, 1000, 4).ms_per_login, Some(250.0));
    }

    #[test]
    fn vm_rss_and_hwm() {
        let status = "Name:\tnod\nVmPeak:\t  900000 kB\nVmHWM:\t   21000 kB\nVmRSS:\t   17500 kB\n";
        assert_eq!(
            parse_status(status),
            Memory {
                rss_kib: 17_500,
                hwm_kib: 21_000
            }
        );
    }

    #[test]
    fn reads_this_process() -> anyhow::Result<()> {
        let pid = std::process::id();
        let own = cpu_ticks(pid)?;
        assert!(tree_ticks(pid)? >= own);
        assert!(parent(pid)? > 0);
        assert!(memory(pid)?.rss_kib > 0);
        assert!(clock_ticks_per_second() > 0);
        Ok(())
    }
}
