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

#[derive(Clone, Copy, Debug)]
pub(crate) struct Load {
    pub(crate) model: Model,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    /// The server process, for its CPU time and memory.
    pub(crate) server_pid: Option<u32>,
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
    pub(crate) server_cpu_s: Option<f64>,
    pub(crate) server_cpu_ms_per_login: Option<f64>,
    pub(crate) server_memory: Option<Memory>,
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
    pid: Option<u32>,
    before: Option<u64>,
}

impl Sampler {
    fn start(pid: Option<u32>) -> anyhow::Result<Self> {
        Ok(Self {
            pid,
            before: pid.map(procfs::cpu_ticks).transpose()?,
        })
    }

    fn finish(self) -> anyhow::Result<(Option<u64>, Option<Memory>)> {
        let (Some(pid), Some(before)) = (self.pid, self.before) else {
            return Ok((None, None));
        };
        let after = procfs::cpu_ticks(pid)?;
        Ok((
            Some(after.saturating_sub(before)),
            Some(procfs::memory(pid)?),
        ))
    }
}

pub(crate) async fn run(shared: Arc<Shared>, load: Load) -> anyhow::Result<RunResult> {
    let errors = Arc::new(FirstErrors::default());
    let (recorder, outside, connections, cpu_ticks, memory) = match load.model {
        Model::Closed { vus } => closed(&shared, vus, &load, &errors).await?,
        Model::Open {
            rate,
            max_connections,
        } => open(&shared, rate, max_connections, &load, &errors).await?,
    };
    let completed = recorder.completed();
    let cpu = cpu_ticks.map(|t| procfs::cpu_use(0, t, procfs::clock_ticks_per_second(), completed));
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
        server_cpu_s: cpu.map(|c| c.seconds),
        server_cpu_ms_per_login: cpu.and_then(|c| c.ms_per_login),
        server_memory: memory,
    })
}

type Collected = (Recorder, u64, usize, Option<u64>, Option<Memory>);

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
    let sampler = Sampler::start(load.server_pid)?;
    tokio::time::sleep_until(window_end).await;
    let (ticks, memory) = sampler.finish()?;
    let mut total = Recorder::new()?;
    let mut outside = 0;
    for task in tasks {
        let (recorder, failed) = task.await??;
        total.merge(&recorder);
        outside += failed;
    }
    Ok((total, outside, vus, ticks, memory))
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
            sampler = Some(Sampler::start(load.server_pid)?);
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
    let (ticks, memory) = match sampler {
        Some(s) => s.finish()?,
        None => (None, None),
    };
    let recorder = recorder
        .lock()
        .map_err(|_| anyhow::anyhow!("a login task panicked"))?
        .clone();
    Ok((
        recorder,
        outside.load(std::sync::atomic::Ordering::Relaxed),
        created.load(std::sync::atomic::Ordering::Relaxed),
        ticks,
        memory,
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
