//! The figures of a whole run: JSON, a markdown table and an SVG chart.

use std::fmt::Write as _;

use serde::Serialize;

use crate::load::RunResult;
use crate::procfs::Memory;
use crate::purge::PurgeResult;
use crate::scale::{PendingResult, WaitingResult};
use crate::sign::SignResult;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) kernel: String,
}

impl Machine {
    pub(crate) fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, m)| m.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            kernel,
        }
    }
}

/// Nod against the peer at one concurrency of the `remembered` scenario: the median of
/// the rounds of each.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Comparison {
    pub(crate) scenario: String,
    pub(crate) vus: usize,
    pub(crate) rounds: usize,
    pub(crate) nod: Side,
    pub(crate) peer: Side,
    /// Nod's CPU per login over the peer's (below 1: Nod spends less).
    pub(crate) cpu_ratio: Option<f64>,
    /// Nod's logins/s over the peer's (above 1: Nod does more).
    pub(crate) throughput_ratio: Option<f64>,
    /// Nod's p99 over the peer's (below 1: Nod is faster).
    pub(crate) p99_ratio: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Side {
    pub(crate) logins_per_s: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) cpu_ms_per_login: Option<f64>,
    pub(crate) rss_mib: Option<f64>,
    pub(crate) hwm_mib: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) generated_unix: u64,
    pub(crate) smoke: bool,
    pub(crate) machine: Machine,
    /// `/proc/loadavg` before and after the runs: other work on the machine skews figures.
    pub(crate) load_average_before: String,
    pub(crate) load_average_after: String,
    pub(crate) sign: SignResult,
    pub(crate) comparisons: Vec<Comparison>,
    pub(crate) runs: Vec<RunResult>,
    /// Browsers on the waiting page approved one by one.
    pub(crate) waiting: Option<WaitingResult>,
    /// A fresh Nod's memory idle and with many pending login requests.
    pub(crate) pending: Option<PendingResult>,
    /// CPU per login with few and with many users.
    pub(crate) users: Option<UsersComparison>,
    /// The expiry purge of a backlog, and how long other writes waited meanwhile.
    pub(crate) purge: Option<PurgeResult>,
    /// `remembered` and `ciba` on PostgreSQL, one and two instances.
    pub(crate) postgres: PostgresSection,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PostgresSection {
    /// Why not.
    Skipped(String),
    Measured(PostgresResult),
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct PostgresResult {
    /// `SHOW` of the settings that shape the figures: (name, value).
    pub(crate) settings: Vec<(String, String)>,
    /// Why the PostgreSQL server's own CPU time is missing, when it is.
    pub(crate) database_cpu_missing: Option<String>,
    /// One instance, then two: `remembered` and `ciba` at each concurrency.
    pub(crate) runs: Vec<RunResult>,
}

/// Nod on a database with this many generated users (each with a consent to every sales
/// unit and a remembered browser), besides the harness's own people.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct UsersSize {
    pub(crate) users: u32,
    /// `nod user generate` wall-clock seconds.
    pub(crate) generation_s: f64,
    /// The database file and its write-ahead log when Nod starts.
    pub(crate) database_bytes: u64,
    pub(crate) server_memory: Option<Memory>,
    /// `remembered` and `ciba`.
    pub(crate) runs: Vec<RunResult>,
}

impl UsersSize {
    fn cpu(&self, scenario: &str) -> Option<f64> {
        self.runs
            .iter()
            .find(|r| r.scenario == scenario)
            .and_then(|r| r.server_cpu_ms_per_login)
    }
}

/// The large database's CPU per login over the small one's, per scenario.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct UsersComparison {
    pub(crate) sizes: Vec<UsersSize>,
    pub(crate) remembered_cpu_ratio: Option<f64>,
    pub(crate) ciba_cpu_ratio: Option<f64>,
}

impl UsersComparison {
    /// The first size is the base, the last the large one.
    pub(crate) fn of(sizes: Vec<UsersSize>) -> Self {
        let cpu_ratio = |scenario: &str| match (sizes.first(), sizes.last()) {
            (Some(small), Some(large)) if sizes.len() > 1 => {
                ratio(large.cpu(scenario), small.cpu(scenario))
            }
            _ => None,
        };
        let remembered_cpu_ratio = cpu_ratio("remembered");
        let ciba_cpu_ratio = cpu_ratio("ciba");
        Self {
            sizes,
            remembered_cpu_ratio,
            ciba_cpu_ratio,
        }
    }
}

/// The median of some numbers (the mean of the middle two for an even count).
/// The 1, 5 and 15 minute load averages.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub(crate) fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        f64::midpoint(values[mid - 1], values[mid])
    })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn side(runs: &[&RunResult]) -> Side {
    let pick =
        |f: &dyn Fn(&RunResult) -> Option<f64>| median(runs.iter().filter_map(|r| f(r)).collect());
    Side {
        logins_per_s: pick(&|r| Some(r.logins_per_s)).unwrap_or(0.0),
        p50_ms: pick(&|r| Some(r.login.p50_ms)).unwrap_or(0.0),
        p99_ms: pick(&|r| Some(r.login.p99_ms)).unwrap_or(0.0),
        cpu_ms_per_login: pick(&|r| r.server_cpu_ms_per_login),
        rss_mib: pick(&|r| r.server_memory.map(|m| mib(m.rss_kib))),
        hwm_mib: pick(&|r| r.server_memory.map(|m| mib(m.hwm_kib))),
    }
}

/// Pairs Nod's and the peer's closed-loop runs of `scenario` by concurrency.
pub(crate) fn compare(runs: &[RunResult], scenario: &str) -> Vec<Comparison> {
    let mut levels: Vec<usize> = runs
        .iter()
        .filter(|r| r.scenario == scenario)
        .filter_map(|r| r.vus)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    levels
        .into_iter()
        .filter_map(|vus| {
            let of = |target: &str| -> Vec<&RunResult> {
                runs.iter()
                    .filter(|r| r.scenario == scenario && r.vus == Some(vus) && r.target == target)
                    .collect()
            };
            let (nod, peer) = (of("nod"), of("peer"));
            if nod.is_empty() || peer.is_empty() {
                return None;
            }
            let (n, p) = (side(&nod), side(&peer));
            Some(Comparison {
                scenario: scenario.to_owned(),
                vus,
                rounds: nod.len().min(peer.len()),
                cpu_ratio: ratio(n.cpu_ms_per_login, p.cpu_ms_per_login),
                throughput_ratio: ratio(Some(n.logins_per_s), Some(p.logins_per_s)),
                p99_ratio: ratio(Some(n.p99_ms), Some(p.p99_ms)),
                nod: n,
                peer: p,
            })
        })
        .collect()
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.decimals$}"))
}

fn load_label(r: &RunResult) -> String {
    match (r.vus, r.rate) {
        (Some(vus), _) => format!("{vus} VUs"),
        (_, Some(rate)) => format!("{rate} /s open"),
        _ => String::new(),
    }
}

pub(crate) fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "Machine: {} CPUs, {} (Linux {}); the load generator shares these cores with the server.\n",
        m.cpus, m.cpu_model, m.kernel
    );
    let _ = writeln!(
        out,
        "Load average (1, 5, 15 min) before the runs: {}; after: {}.\n",
        report.load_average_before, report.load_average_after
    );
    let s = &report.sign;
    let _ = writeln!(
        out,
        "RS256 (RSA 2048, aws-lc-rs) on one core: **{:.0} signatures/s**, {:.3} ms per signature.\n",
        s.per_second, s.ms_per_signature
    );
    if !report.comparisons.is_empty() {
        out.push_str("| scenario | concurrency | logins/s Nod | logins/s peer | Nod/peer | p99 ms Nod | p99 ms peer | Nod/peer | CPU ms/login Nod | CPU ms/login peer | Nod/peer | RSS MiB Nod | RSS MiB peer |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for c in &report.comparisons {
            let _ = writeln!(
                out,
                "| {} | {} (median of {}) | {:.0} | {:.0} | {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} |",
                c.scenario,
                c.vus,
                c.rounds,
                c.nod.logins_per_s,
                c.peer.logins_per_s,
                opt(c.throughput_ratio, 2),
                c.nod.p99_ms,
                c.peer.p99_ms,
                opt(c.p99_ratio, 2),
                opt(c.nod.cpu_ms_per_login, 3),
                opt(c.peer.cpu_ms_per_login, 3),
                opt(c.cpu_ratio, 2),
                opt(c.nod.rss_mib, 1),
                opt(c.peer.rss_mib, 1),
            );
        }
        out.push('\n');
    }
    if report.runs.is_empty() {
        out.push_str("The SQLite sections were not run (`--only postgres`).\n");
    } else {
        runs_markdown(&mut out, report);
    }
    let postgres_runs = match &report.postgres {
        PostgresSection::Measured(p) => &p.runs[..],
        PostgresSection::Skipped(_) => &[],
    };
    let errors: Vec<String> = report
        .runs
        .iter()
        .chain(postgres_runs)
        .flat_map(|r| {
            r.errors.iter().map(move |e| {
                format!(
                    "- {} {} {}: {} × {} at {} (e.g. {})",
                    r.target,
                    r.scenario,
                    load_label(r),
                    e.count,
                    e.kind,
                    e.step,
                    e.example
                )
            })
        })
        .collect();
    scale_markdown(&mut out, report);
    postgres_markdown(&mut out, &report.postgres);
    out.push_str("\nErrors:");
    if errors.is_empty() {
        out.push_str(" none.\n");
    } else {
        out.push('\n');
        for e in errors {
            out.push_str(&e);
            out.push('\n');
        }
    }
    out
}

/// Every run on SQLite, and the steps of each.
fn runs_markdown(out: &mut String, report: &Report) {
    out.push_str("Every run:\n\n");
    out.push_str("| target | scenario | load | logins/s | p50 ms | p95 ms | p99 ms | max ms | CPU ms/login | failed | round trips | RSS / peak MiB |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in &report.runs {
        let trips = r
            .round_trips
            .iter()
            .map(|t| format!("{}×{}", t.round_trips, t.logins))
            .collect::<Vec<_>>()
            .join(" ");
        let memory = r.server_memory.map_or_else(
            || "–".into(),
            |m| format!("{:.1} / {:.1}", mib(m.rss_kib), mib(m.hwm_kib)),
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} |",
            r.target,
            r.scenario,
            load_label(r),
            r.logins_per_s,
            r.login.p50_ms,
            r.login.p95_ms,
            r.login.p99_ms,
            r.login.max_ms,
            opt(r.server_cpu_ms_per_login, 3),
            r.all_failed(),
            if trips.is_empty() {
                "–".into()
            } else {
                trips
            },
            memory,
        );
    }
    out.push_str("\nSteps (the last run of each target, scenario and load):\n\n");
    out.push_str(
        "| target | scenario | load | step | count | p50 ms | p95 ms | p99 ms | max ms |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    let mut shown: Vec<(String, String, String)> = Vec::new();
    for r in report.runs.iter().rev() {
        let key = (r.target.clone(), r.scenario.clone(), load_label(r));
        if shown.contains(&key) {
            continue;
        }
        shown.push(key);
    }
    shown.reverse();
    for (target, scenario, load) in &shown {
        let Some(r) = report
            .runs
            .iter()
            .rev()
            .find(|r| &r.target == target && &r.scenario == scenario && &load_label(r) == load)
        else {
            continue;
        };
        for s in &r.steps {
            let l = &s.latency;
            let _ = writeln!(
                out,
                "| {target} | {scenario} | {load} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                s.step, l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
            );
        }
    }
}

fn postgres_markdown(out: &mut String, section: &PostgresSection) {
    let p = match section {
        PostgresSection::Skipped(why) => {
            let _ = writeln!(out, "\nPostgreSQL, one and two instances: skipped ({why}).");
            return;
        }
        PostgresSection::Measured(p) => p,
    };
    let settings = p
        .settings
        .iter()
        .map(|(name, value)| format!("{name} {value}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        out,
        "\nPostgreSQL, one and two instances ({settings}); with two, every connection of a \
         virtual user sends its requests to the instances in turn. Nod's CPU is summed over \
         its instances; PostgreSQL's is its postmaster's and their children's; CPU seconds are \
         of the measured window:\n"
    );
    out.push_str("| instances | scenario | load | logins/s | p50 ms | p99 ms | Nod CPU ms/login | Nod CPU s by instance | PostgreSQL CPU ms/login | generator CPU s | failed | Nod RSS MiB |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in &p.runs {
        let split = if r.server_cpu_s_per_instance.is_empty() {
            opt(r.server_cpu_s, 2)
        } else {
            r.server_cpu_s_per_instance
                .iter()
                .map(|s| format!("{s:.2}"))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
            r.instances,
            r.scenario,
            load_label(r),
            r.logins_per_s,
            r.login.p50_ms,
            r.login.p99_ms,
            opt(r.server_cpu_ms_per_login, 3),
            split,
            opt(r.database_cpu_ms_per_login, 3),
            opt(r.generator_cpu_s, 2),
            r.all_failed(),
            opt(r.server_memory.map(|m| mib(m.rss_kib)), 1),
        );
    }
    if let Some(why) = &p.database_cpu_missing {
        let _ = writeln!(out, "\nPostgreSQL's CPU time not measured: {why}.");
    }
}

fn scale_markdown(out: &mut String, report: &Report) {
    if let Some(w) = &report.waiting {
        let l = &w.latency;
        let _ = writeln!(
            out,
            "\nWaiting browsers: {} of {} browsers on the waiting page with its event stream open \
             (set up in {:.1} s; Nod's RSS then {}), approved from the app at {}/s; approval → \
             `event: continue`:\n",
            w.waiting,
            w.browsers,
            w.setup_s,
            w.server_memory_waiting
                .map_or_else(|| "–".into(), |m| format!("{:.1} MiB", mib(m.rss_kib))),
            w.approvals_per_s
        );
        out.push_str("| continued | p50 ms | p95 ms | p99 ms | max ms | errors |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        let kinds = w
            .errors
            .kinds
            .iter()
            .map(|(kind, (n, example))| format!("{n} × {kind} (e.g. {example})"))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = writeln!(
            out,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {}{} |",
            l.count,
            l.p50_ms,
            l.p95_ms,
            l.p99_ms,
            l.max_ms,
            w.errors.count,
            if kinds.is_empty() {
                String::new()
            } else {
                format!(": {kinds}")
            }
        );
    }
    if let Some(p) = &report.purge {
        let _ = writeln!(
            out,
            "\nPurge (Nod's store on a fresh SQLite file): {} expired rows (login requests and \
             access tokens, expired two hours before) removed in {:.1} s, 100 at a time, resting \
             between batches as long as each took. Writes, one every millisecond: before the \
             purge p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} while it ran, p50 {:.2} ms, \
             p99 {:.2} ms, **max {:.2} ms** (the longest any write waited for the writer).",
            p.removed,
            p.seconds,
            p.writes_before.p50_ms,
            p.writes_before.p99_ms,
            p.writes_before.max_ms,
            p.writes.count,
            p.writes.p50_ms,
            p.writes.p99_ms,
            p.writes.max_ms
        );
    }
    if let Some(p) = &report.pending {
        let _ = writeln!(
            out,
            "\nPending login requests (a fresh Nod, authorize without cookies, 8 connections \
             back to back): {} created in {:.1} s ({} failed). RSS idle **{:.1} MiB**, with them \
             **{:.1} MiB** (peak {:.1} MiB), {} bytes per request.",
            p.pending,
            p.seconds,
            p.failed,
            mib(p.idle.rss_kib),
            mib(p.with_pending.rss_kib),
            mib(p.with_pending.hwm_kib),
            opt(p.bytes_per_pending, 0)
        );
    }
    if let Some(u) = &report.users {
        out.push_str(
            "\nUsers (each database generated before Nod starts; every user with a consent to \
             every sales unit and a remembered browser), 4 VUs:\n\n",
        );
        out.push_str("| users | generated in s | database MiB | scenario | logins/s | p99 ms | CPU ms/login |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for size in &u.sizes {
            for r in &size.runs {
                let _ = writeln!(
                    out,
                    "| {} | {:.1} | {:.1} | {} | {:.0} | {:.2} | {} |",
                    size.users,
                    size.generation_s,
                    size.database_bytes as f64 / 1_048_576.0,
                    r.scenario,
                    r.logins_per_s,
                    r.login.p99_ms,
                    opt(r.server_cpu_ms_per_login, 3)
                );
            }
        }
        let _ = writeln!(
            out,
            "\nCPU per login, largest over smallest: remembered **{}**, ciba **{}**.",
            opt(u.remembered_cpu_ratio, 2),
            opt(u.ciba_cpu_ratio, 2)
        );
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Grouped bars, Nod beside the peer: CPU ms per login on the left, logins/s on the right.
pub(crate) fn svg(report: &Report) -> String {
    const W: f64 = 860.0;
    const H: f64 = 360.0;
    const NOD: &str = "#2b6cb0";
    const PEER: &str = "#c05621";
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r##"<rect width="{W}" height="{H}" fill="#ffffff"/>"##);
    let _ = writeln!(
        out,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Whole logins, remembered browser: Nod and node-oidc-provider</text>"#,
        W / 2.0
    );
    type Value<'a> = &'a dyn Fn(&Side) -> f64;
    let panels: [(&str, Value<'_>, usize); 2] = [
        (
            "server CPU ms per login (lower is better)",
            &|s: &Side| s.cpu_ms_per_login.unwrap_or(0.0),
            2,
        ),
        (
            "logins per second (higher is better)",
            &|s: &Side| s.logins_per_s,
            0,
        ),
    ];
    let panel_w = W / 2.0;
    let (top, bottom) = (60.0, H - 60.0);
    for (p, (title, value, decimals)) in panels.iter().enumerate() {
        let x0 = p as f64 * panel_w + 50.0;
        let width = panel_w - 80.0;
        let _ = writeln!(
            out,
            r#"<text x="{}" y="46" text-anchor="middle" font-weight="bold">{}</text>"#,
            x0 + width / 2.0,
            escape(title)
        );
        let max = report
            .comparisons
            .iter()
            .flat_map(|c| [value(&c.nod), value(&c.peer)])
            .fold(0.0f64, f64::max)
            .max(1e-9);
        let _ = writeln!(
            out,
            r##"<line x1="{x0}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="#333"/>"##,
            x0 + width
        );
        let groups = report.comparisons.len().max(1) as f64;
        let group_w = width / groups;
        let bar_w = (group_w / 3.0).min(60.0);
        for (g, c) in report.comparisons.iter().enumerate() {
            let center = x0 + group_w * (g as f64 + 0.5);
            for (k, (side, color)) in [(&c.nod, NOD), (&c.peer, PEER)].into_iter().enumerate() {
                let v = value(side);
                let h = (bottom - top - 20.0) * v / max;
                let x = center - bar_w + k as f64 * bar_w;
                let _ = writeln!(
                    out,
                    r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{color}"/>"#,
                    bottom - h,
                    bar_w - 4.0
                );
                let _ = writeln!(
                    out,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{v:.decimals$}</text>"#,
                    x + (bar_w - 4.0) / 2.0,
                    bottom - h - 4.0
                );
            }
            let _ = writeln!(
                out,
                r#"<text x="{center:.1}" y="{}" text-anchor="middle">{} concurrent</text>"#,
                bottom + 18.0,
                c.vus
            );
        }
    }
    let legend_y = H - 18.0;
    let _ = writeln!(
        out,
        r#"<rect x="{}" y="{}" width="12" height="12" fill="{NOD}"/><text x="{}" y="{}">Nod (SQLite, durable)</text>"#,
        W / 2.0 - 200.0,
        legend_y - 10.0,
        W / 2.0 - 184.0,
        legend_y
    );
    let _ = writeln!(
        out,
        r#"<rect x="{}" y="{}" width="12" height="12" fill="{PEER}"/><text x="{}" y="{}">node-oidc-provider (in memory)</text>"#,
        W / 2.0 + 20.0,
        legend_y - 10.0,
        W / 2.0 + 36.0,
        legend_y
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0]), Some(3.0));
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn ratios_need_a_positive_divisor() {
        assert_eq!(ratio(Some(1.0), Some(4.0)), Some(0.25));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(1.0)), None);
    }
}
