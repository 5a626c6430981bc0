//! Load models. Closed loop: N virtual users, each running logins back to back. Open loop:
//! logins started on a fixed schedule whatever the server does, latency measured from the
//! scheduled start (a server that falls behind shows it; coordinated omission is not
//! hidden), on a pool of keep-alive connections that grows when all are busy.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::procfs::{self, Memory};
use crate::scenario::{Shared, Vu, micros};
use crate::stats::{ErrorSummary, Recorder, StepError, StepSummary, Summary};

/// How logins are started.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Model {
    Closed { vus: usize },
    Open { rate: f64, max_connections: usize },
}

#[derive(Clone, Debug)]
pub(crate) struct Load {
    pub(crate) model: Model,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    /// The server's processes (one per instance), for their CPU time and memory, summed.
    pub(crate) server_pids: Vec<u32>,
    /// A database server outside the server's process (PostgreSQL's postmaster), for the
    /// CPU time of it and its children.
    pub(crate) database_pid: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RoundTrips {
    pub(crate) round_trips: u32,
    pub(crate) logins: u64,
}

/// The figures of one run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunResult {
    pub(crate) target: String,
    pub(crate) scenario: String,
    pub(crate) model: &'static str,
    pub(crate) vus: Option<usize>,
    pub(crate) rate: Option<f64>,
    pub(crate) warmup_s: f64,
    pub(crate) duration_s: f64,
    /// Successful logins that ended in the measured window.
    pub(crate) completed: u64,
    /// Failed logins in the measured window.
    pub(crate) failed: u64,
    /// Failed logins outside it (warm-up, or after the window's end).
    pub(crate) failed_outside_window: u64,
    pub(crate) logins_per_s: f64,
    pub(crate) login: Summary,
    pub(crate) steps: Vec<StepSummary>,
    pub(crate) errors: Vec<ErrorSummary>,
    pub(crate) round_trips: Vec<RoundTrips>,
    pub(crate) consent_pages: u64,
    /// Virtual users (closed loop) or pooled connections (open loop) in use.
    pub(crate) connections: usize,
    /// Instances of the server the requests were spread over.
    pub(crate) instances: usize,
    /// Summed over the instances.
    pub(crate) server_cpu_s: Option<f64>,
    /// Each instance's share, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) server_cpu_s_per_instance: Vec<f64>,
    pub(crate) server_cpu_ms_per_login: Option<f64>,
    /// Summed over the instances.
    pub(crate) server_memory: Option<Memory>,
    /// The database server's processes, when the database is not inside the server's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) database_cpu_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) database_cpu_ms_per_login: Option<f64>,
    /// The load generator's own CPU seconds in the window (it shares the machine).
    pub(crate) generator_cpu_s: Option<f64>,
}

impl RunResult {
    pub(crate) fn all_failed(&self) -> u64 {
        self.failed + self.failed_outside_window
    }
}

/// Open-loop schedule: login `i` starts `i / rate` seconds after the start.
pub(crate) fn scheduled_offset(i: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// How many logins a schedule at `rate` per second starts in `seconds`.
pub(crate) fn scheduled_count(seconds: f64, rate: f64) -> u64 {
    // Float-to-integer casts saturate; a negative or NaN product gives 0.
    (seconds * rate).ceil() as u64
}

/// Prints each (step, kind) of error the first time it happens in a run.
#[derive(Default)]
struct FirstErrors(Mutex<BTreeSet<(&'static str, String)>>);

impl FirstErrors {
    fn show(&self, target: &str, error: &StepError) {
        if let Ok(mut seen) = self.0.lock()
            && seen.insert((error.step, error.kind.clone()))
        {
            eprintln!("  {target}: login failed at {error}");
        }
    }
}

struct Sampler {
    pids: Vec<u32>,
    database: Option<u32>,
    /// Each process's ticks at the start.
    before: Vec<u64>,
    database_before: Option<u64>,
    /// This process's (the load generator's) ticks at the start.
    generator_before: u64,
}

/// What a sampler measured: the server's CPU ticks and memory (summed over its
/// processes), and the database server's CPU ticks.
#[derive(Default)]
struct Sampled {
    ticks: Option<u64>,
    /// Each process's, when there are several.
    ticks_per_process: Vec<u64>,
    memory: Option<Memory>,
    database_ticks: Option<u64>,
    generator_ticks: Option<u64>,
}

impl Sampler {
    fn start(load: &Load) -> anyhow::Result<Self> {
        let pids = load.server_pids.clone();
        Ok(Self {
            before: pids
                .iter()
                .map(|&pid| procfs::cpu_ticks(pid))
                .collect::<anyhow::Result<_>>()?,
            pids,
            database: load.database_pid,
            database_before: load.database_pid.map(procfs::tree_ticks).transpose()?,
            generator_before: procfs::cpu_ticks(std::process::id())?,
        })
    }

    fn finish(self) -> anyhow::Result<Sampled> {
        let database_ticks = match (self.database, self.database_before) {
            (Some(pid), Some(before)) => Some(procfs::tree_ticks(pid)?.saturating_sub(before)),
            _ => None,
        };
        let generator_ticks =
            Some(procfs::cpu_ticks(std::process::id())?.saturating_sub(self.generator_before));
        if self.pids.is_empty() {
            return Ok(Sampled {
                database_ticks,
                generator_ticks,
                ..Sampled::default()
            });
        }
        let mut each = Vec::with_capacity(self.pids.len());
        for (&pid, &before) in self.pids.iter().zip(&self.before) {
            each.push(procfs::cpu_ticks(pid)?.saturating_sub(before));
        }
        let mut memory = Memory::default();
        for &pid in &self.pids {
            let m = procfs::memory(pid)?;
            memory.rss_kib += m.rss_kib;
            memory.hwm_kib += m.hwm_kib;
        }
        Ok(Sampled {
            ticks: Some(each.iter().sum()),
            ticks_per_process: if each.len() > 1 { each } else { Vec::new() },
            memory: Some(memory),
            database_ticks,
            generator_ticks,
        })
    }
}

pub(crate) async fn run(shared: Arc<Shared>, load: Load) -> anyhow::Result<RunResult> {
    let errors = Arc::new(FirstErrors::default());
    let (recorder, outside, connections, sampled) = match load.model {
        Model::Closed { vus } => closed(&shared, vus, &load, &errors).await?,
        Model::Open {
            rate,
            max_connections,
        } => open(&shared, rate, max_connections, &load, &errors).await?,
    };
    let completed = recorder.completed();
    let ticks_per_second = procfs::clock_ticks_per_second();
    let cpu = sampled
        .ticks
        .map(|t| procfs::cpu_use(0, t, ticks_per_second, completed));
    let database_cpu = sampled
        .database_ticks
        .map(|t| procfs::cpu_use(0, t, ticks_per_second, completed));
    let (vus, rate) = match load.model {
        Model::Closed { vus } => (Some(vus), None),
        Model::Open { rate, .. } => (None, Some(rate)),
    };
    Ok(RunResult {
        target: shared.target.name.clone(),
        scenario: shared.scenario.name().to_owned(),
        model: if vus.is_some() { "closed" } else { "open" },
        vus,
        rate,
        warmup_s: load.warmup.as_secs_f64(),
        duration_s: load.duration.as_secs_f64(),
        completed,
        failed: recorder.failed(),
        failed_outside_window: outside,
        logins_per_s: completed as f64 / load.duration.as_secs_f64().max(1e-9),
        login: recorder.login_summary(),
        steps: recorder.step_summaries(),
        errors: recorder.errors(),
        round_trips: recorder
            .round_trips()
            .into_iter()
            .map(|(round_trips, logins)| RoundTrips {
                round_trips,
                logins,
            })
            .collect(),
        consent_pages: recorder.consent_pages(),
        connections,
        instances: shared.target.instances.len(),
        server_cpu_s: cpu.map(|c| c.seconds),
        server_cpu_s_per_instance: sampled
            .ticks_per_process
            .iter()
            .map(|&t| procfs::cpu_use(0, t, ticks_per_second, completed).seconds)
            .collect(),
        server_cpu_ms_per_login: cpu.and_then(|c| c.ms_per_login),
        server_memory: sampled.memory,
        database_cpu_s: database_cpu.map(|c| c.seconds),
        database_cpu_ms_per_login: database_cpu.and_then(|c| c.ms_per_login),
        generator_cpu_s: sampled
            .generator_ticks
            .map(|t| procfs::cpu_use(0, t, ticks_per_second, completed).seconds),
    })
}

type Collected = (Recorder, u64, usize, Sampled);

async fn closed(
    shared: &Arc<Shared>,
    vus: usize,
    load: &Load,
    errors: &Arc<FirstErrors>,
) -> anyhow::Result<Collected> {
    let mut users = Vec::with_capacity(vus);
    for _ in 0..vus {
        users.push(shared.new_vu().await?);
    }
    let window_start = Instant::now() + load.warmup;
    let window_end = window_start + load.duration;
    let mut tasks = Vec::with_capacity(vus);
    for vu in users {
        let shared = Arc::clone(shared);
        let errors = Arc::clone(errors);
        tasks.push(tokio::spawn(async move {
            back_to_back(&shared, vu, window_start, window_end, &errors).await
        }));
    }
    tokio::time::sleep_until(window_start).await;
    let sampler = Sampler::start(load)?;
    tokio::time::sleep_until(window_end).await;
    let sampled = sampler.finish()?;
    let mut total = Recorder::new()?;
    let mut outside = 0;
    for task in tasks {
        let (recorder, failed) = task.await??;
        total.merge(&recorder);
        outside += failed;
    }
    Ok((total, outside, vus, sampled))
}

/// One closed-loop virtual user: logins back to back until the window's end; those that
/// end inside the window are recorded.
async fn back_to_back(
    shared: &Shared,
    mut vu: Vu,
    window_start: Instant,
    window_end: Instant,
    errors: &FirstErrors,
) -> anyhow::Result<(Recorder, u64)> {
    let mut recorder = Recorder::new()?;
    let mut outside = 0;
    loop {
        let started = Instant::now();
        if started >= window_end {
            break;
        }
        let (trace, result) = shared.login(&mut vu).await;
        let ended = Instant::now();
        let error = result.err();
        if let Some(e) = &error {
            errors.show(&shared.target.name, e);
        }
        if ended >= window_start && ended <= window_end {
            let latency = micros(ended.duration_since(started).as_micros());
            recorder.record(&trace, latency, error.as_ref());
        } else if error.is_some() {
            outside += 1;
        }
        if error.is_some() {
            // A server that refuses everything must not turn the loop into a busy spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Ok((recorder, outside))
}

async fn open(
    shared: &Arc<Shared>,
    rate: f64,
    max_connections: usize,
    load: &Load,
    errors: &Arc<FirstErrors>,
) -> anyhow::Result<Collected> {
    anyhow::ensure!(rate > 0.0 && rate.is_finite(), "the rate must be positive");
    let warmup_count = scheduled_count(load.warmup.as_secs_f64(), rate);
    let total = scheduled_count((load.warmup + load.duration).as_secs_f64(), rate);
    let pool: Arc<Mutex<Vec<Vu>>> = Arc::new(Mutex::new(Vec::new()));
    let created = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let limit = Arc::new(Semaphore::new(max_connections.max(1)));
    let recorder = Arc::new(Mutex::new(Recorder::new()?));
    let outside = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(20);
    let mut sampler = None;
    let mut tasks = Vec::new();
    for i in 0..total {
        let at = start + scheduled_offset(i, rate);
        tokio::time::sleep_until(at).await;
        let in_window = i >= warmup_count;
        if in_window && sampler.is_none() {
            sampler = Some(Sampler::start(load)?);
        }
        let shared = Arc::clone(shared);
        let pool = Arc::clone(&pool);
        let created = Arc::clone(&created);
        let limit = Arc::clone(&limit);
        let recorder = Arc::clone(&recorder);
        let outside = Arc::clone(&outside);
        let errors = Arc::clone(errors);
        tasks.push(tokio::spawn(async move {
            // Waiting for a free connection counts in the latency: it is time the login
            // was late.
            let _permit = limit.acquire_owned().await;
            let taken = pool.lock().ok().and_then(|mut p| p.pop());
            let vu = match taken {
                Some(vu) => Ok(vu),
                None => {
                    created.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    shared.new_vu().await
                }
            };
            let (trace, error) = match vu {
                Ok(mut vu) => {
                    let (trace, result) = shared.login(&mut vu).await;
                    if let Ok(mut p) = pool.lock() {
                        p.push(vu);
                    }
                    (trace, result.err())
                }
                Err(e) => (
                    crate::stats::Trace::default(),
                    Some(StepError::new("new_vu", "setup", e.to_string())),
                ),
            };
            let latency = micros(Instant::now().duration_since(at).as_micros());
            if let Some(e) = &error {
                errors.show(&shared.target.name, e);
            }
            if in_window {
                if let Ok(mut r) = recorder.lock() {
                    r.record(&trace, latency, error.as_ref());
                }
            } else if error.is_some() {
                outside.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let sampled = match sampler {
        Some(s) => s.finish()?,
        None => Sampled::default(),
    };
    let recorder = recorder
        .lock()
        .map_err(|_| anyhow::anyhow!("a login task panicked"))?
        .clone();
    Ok((
        recorder,
        outside.load(std::sync::atomic::Ordering::Relaxed),
        created.load(std::sync::atomic::Ordering::Relaxed),
        sampled,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_evenly_spaced_from_the_start() {
        assert_eq!(scheduled_offset(0, 100.0), Duration::ZERO);
        assert_eq!(scheduled_offset(1, 100.0), Duration::from_millis(10));
        assert_eq!(scheduled_offset(250, 100.0), Duration::from_millis(2500));
        assert_eq!(scheduled_offset(3, 0.5), Duration::from_secs(6));
    }

    #[test]
    fn counts_split_warm_up_and_window() {
        // 1 s warm-up and 2 s measured at 100/s: logins 0–99 warm up, 100–299 count.
        let warmup = scheduled_count(1.0, 100.0);
        let total = scheduled_count(3.0, 100.0);
        assert_eq!((warmup, total), (100, 300));
        assert!(scheduled_offset(warmup, 100.0) >= Duration::from_secs(1));
        assert!(scheduled_offset(total - 1, 100.0) < Duration::from_secs(3));
        // A fractional rate rounds up: 2.5 s at 3/s starts 8 logins (0 s … 2.33 s).
        assert_eq!(scheduled_count(2.5, 3.0), 8);
        assert!(scheduled_offset(7, 3.0) < Duration::from_secs_f64(2.5));
        assert_eq!(scheduled_count(0.0, 50.0), 0);
    }
}
