//! Latencies (HdrHistogram, microseconds), per step and per login, and errors counted by
//! step and kind. Each virtual user records into its own [`Recorder`]; they are merged at
//! the end.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// What went wrong in one step of a login.
#[derive(Clone, Debug)]
pub(crate) struct StepError {
    pub(crate) step: &'static str,
    /// `status 400`, `connect`, `io`, `timeout`, `body`, …
    pub(crate) kind: String,
    pub(crate) detail: String,
}

impl StepError {
    pub(crate) fn new(
        step: &'static str,
        kind: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            step,
            kind: kind.into(),
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]: {}", self.step, self.kind, self.detail)
    }
}

/// One login as the scenario saw it.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// Each request: the step's name and its latency in microseconds.
    pub(crate) steps: Vec<(&'static str, u64)>,
    /// Browser requests from authorize to the redirect URI (redirect-following scenarios).
    pub(crate) round_trips: Option<u32>,
    /// Consent pages shown during the login.
    pub(crate) consent_pages: u32,
}

/// An empty histogram from 1 µs to 10 minutes with 3 significant digits.
pub(crate) fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 600_000_000, 3)?)
}

#[derive(Clone, Debug)]
struct ErrorCount {
    count: u64,
    example: String,
}

/// Figures of one virtual user (or, merged, of a whole run).
#[derive(Clone)]
pub(crate) struct Recorder {
    /// An empty histogram, cloned for each new step.
    empty: Histogram<u64>,
    steps: BTreeMap<&'static str, Histogram<u64>>,
    step_order: Vec<&'static str>,
    logins: Histogram<u64>,
    failed: u64,
    errors: BTreeMap<(&'static str, String), ErrorCount>,
    round_trips: BTreeMap<u32, u64>,
    consent_pages: u64,
}

impl Recorder {
    pub(crate) fn new() -> anyhow::Result<Self> {
        let empty = histogram()?;
        Ok(Self {
            steps: BTreeMap::new(),
            step_order: Vec::new(),
            logins: empty.clone(),
            empty,
            failed: 0,
            errors: BTreeMap::new(),
            round_trips: BTreeMap::new(),
            consent_pages: 0,
        })
    }

    /// Records a login that ended: `latency_us` from its (scheduled) start to its end.
    /// A failed login counts its error and the steps it did, not its latency.
    pub(crate) fn record(&mut self, trace: &Trace, latency_us: u64, error: Option<&StepError>) {
        for (step, us) in &trace.steps {
            if !self.steps.contains_key(step) {
                self.step_order.push(step);
            }
            self.steps
                .entry(step)
                .or_insert_with(|| self.empty.clone())
                .saturating_record(*us);
        }
        self.consent_pages += u64::from(trace.consent_pages);
        match error {
            Some(error) => {
                self.failed += 1;
                let entry = self
                    .errors
                    .entry((error.step, error.kind.clone()))
                    .or_insert_with(|| ErrorCount {
                        count: 0,
                        example: error.detail.clone(),
                    });
                entry.count += 1;
            }
            None => {
                self.logins.saturating_record(latency_us);
                if let Some(n) = trace.round_trips {
                    *self.round_trips.entry(n).or_default() += 1;
                }
            }
        }
    }

    pub(crate) fn merge(&mut self, other: &Self) {
        for step in &other.step_order {
            if !self.steps.contains_key(step) {
                self.step_order.push(step);
            }
        }
        for (step, h) in &other.steps {
            let mine = self.steps.entry(step).or_insert_with(|| self.empty.clone());
            // Same bounds on both sides: adding cannot fail.
            let _ = mine.add(h);
        }
        let _ = self.logins.add(&other.logins);
        self.failed += other.failed;
        for (key, e) in &other.errors {
            let entry = self
                .errors
                .entry(key.clone())
                .or_insert_with(|| ErrorCount {
                    count: 0,
                    example: e.example.clone(),
                });
            entry.count += e.count;
        }
        for (n, c) in &other.round_trips {
            *self.round_trips.entry(*n).or_default() += c;
        }
        self.consent_pages += other.consent_pages;
    }

    pub(crate) fn completed(&self) -> u64 {
        self.logins.len()
    }

    pub(crate) fn failed(&self) -> u64 {
        self.failed
    }

    pub(crate) fn login_summary(&self) -> Summary {
        Summary::of(&self.logins)
    }

    pub(crate) fn step_summaries(&self) -> Vec<StepSummary> {
        self.step_order
            .iter()
            .filter_map(|step| {
                self.steps.get(step).map(|h| StepSummary {
                    step: (*step).to_owned(),
                    latency: Summary::of(h),
                })
            })
            .collect()
    }

    pub(crate) fn errors(&self) -> Vec<ErrorSummary> {
        self.errors
            .iter()
            .map(|((step, kind), e)| ErrorSummary {
                step: (*step).to_owned(),
                kind: kind.clone(),
                count: e.count,
                example: e.example.clone(),
            })
            .collect()
    }

    /// Round trips per successful login: `(round trips, logins)`.
    pub(crate) fn round_trips(&self) -> Vec<(u32, u64)> {
        self.round_trips.iter().map(|(n, c)| (*n, *c)).collect()
    }

    pub(crate) fn consent_pages(&self) -> u64 {
        self.consent_pages
    }
}

/// Count and percentiles, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Summary {
    pub(crate) count: u64,
    pub(crate) mean_ms: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

impl Summary {
    pub(crate) fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct StepSummary {
    pub(crate) step: String,
    #[serde(flatten)]
    pub(crate) latency: Summary,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ErrorSummary {
    pub(crate) step: String,
    pub(crate) kind: String,
    pub(crate) count: u64,
    pub(crate) example: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(steps: &[(&'static str, u64)]) -> Trace {
        Trace {
            steps: steps.to_vec(),
            round_trips: Some(3),
            consent_pages: 0,
        }
    }

    #[test]
    fn percentiles_of_a_known_distribution() -> anyhow::Result<()> {
        let mut h = histogram()?;
        for us in 1..=1000u64 {
            h.saturating_record(us * 1000); // 1 ms … 1000 ms
        }
        let s = Summary::of(&h);
        assert_eq!(s.count, 1000);
        // Three significant digits: within 0.1 % of the exact order statistic.
        assert!((s.p50_ms - 500.0).abs() <= 0.5, "{s:?}");
        assert!((s.p95_ms - 950.0).abs() <= 1.0, "{s:?}");
        assert!((s.p99_ms - 990.0).abs() <= 1.0, "{s:?}");
        assert!((s.max_ms - 1000.0).abs() <= 1.0, "{s:?}");
        assert!((s.mean_ms - 500.5).abs() <= 0.5, "{s:?}");
        Ok(())
    }

    #[test]
    fn empty_summary_is_zero() -> anyhow::Result<()> {
        assert_eq!(Summary::of(&histogram()?), Summary::default());
        Ok(())
    }

    #[test]
    fn failed_logins_count_errors_not_latency() -> anyhow::Result<()> {
        let mut r = Recorder::new()?;
        r.record(&trace(&[("authorize", 100), ("token", 200)]), 300, None);
        let error = StepError::new("token", "status 400", "invalid_grant");
        r.record(&trace(&[("authorize", 100)]), 999_999, Some(&error));
        r.record(&trace(&[("authorize", 100)]), 999_999, Some(&error));
        assert_eq!(r.completed(), 1);
        assert_eq!(r.failed(), 2);
        assert_eq!(r.login_summary().max_ms, 0.3);
        let errors = r.errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].count, 2);
        assert_eq!(errors[0].kind, "status 400");
        assert_eq!(r.round_trips(), vec![(3, 1)]);
        let steps = r.step_summaries();
        assert_eq!(steps[0].step, "authorize");
        assert_eq!(steps[0].latency.count, 3);
        assert_eq!(steps[1].step, "token");
        Ok(())
    }

    #[test]
    fn merging_adds_everything_and_keeps_step_order() -> anyhow::Result<()> {
        let mut a = Recorder::new()?;
        a.record(&trace(&[("authorize", 1000)]), 1000, None);
        let mut b = Recorder::new()?;
        b.record(&trace(&[("ciba", 10), ("authorize", 3000)]), 3000, None);
        b.record(
            &Trace::default(),
            0,
            Some(&StepError::new("ciba", "connect", "refused")),
        );
        a.merge(&b);
        assert_eq!(a.completed(), 2);
        assert_eq!(a.failed(), 1);
        let order: Vec<String> = a.step_summaries().into_iter().map(|s| s.step).collect();
        assert_eq!(order, ["authorize", "ciba"]);
        // Three significant digits: 3000 µs reads back as at most 3.002 ms.
        assert!((a.login_summary().max_ms - 3.0).abs() < 0.005);
        assert_eq!(a.round_trips(), vec![(3, 2)]);
        Ok(())
    }
}
