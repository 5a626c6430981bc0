//! Times as people type and read them on the command line: RFC 3339 in UTC
//! (`2026-11-26T08:00:00Z`), and durations back from now (`90s`, `15m`, `24h`, `7d`).

use anyhow::{Context, bail};
use nod_core::Timestamp;

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `2026-11-26T08:00:00Z`.
pub(crate) fn format_time(at: Timestamp) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(86_400));
    let seconds = at.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// A time: `YYYY-MM-DDTHH:MM:SSZ`, `YYYY-MM-DD` (midnight UTC) or Unix seconds.
fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((date, time)) => (date, Some(time.strip_suffix(['Z', 'z'])?)),
        None => (text, None),
    };
    let number = |s: &str, digits: usize| {
        (s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
    };
    let mut parts = date.split('-');
    let (year, month, day) = (
        number(parts.next()?, 4)?,
        number(parts.next()?, 2)?,
        number(parts.next()?, 2)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None; // 2026-02-30
    }
    let seconds = match time {
        None => 0,
        Some(time) => {
            let mut parts = time.split(':');
            let (h, m, s) = (
                number(parts.next()?, 2)?,
                number(parts.next()?, 2)?,
                number(parts.next()?, 2)?,
            );
            if parts.next().is_some() || h > 23 || m > 59 || s > 59 {
                return None;
            }
            h * 3600 + m * 60 + s
        }
    };
    Some(days * 86_400 + seconds)
}

/// A duration: a number and a unit, `s`, `m`, `h` or `d`.
fn parse_duration(text: &str) -> Option<i64> {
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let count: i64 = text[..text.len() - 1].parse().ok().filter(|n| *n >= 0)?;
    count.checked_mul(unit)
}

/// `--since`: a duration back from `now`, or a time.
pub(crate) fn parse_since(text: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    let text = text.trim();
    if let Some(duration) = parse_duration(text) {
        return Ok(now.saturating_sub(duration));
    }
    if let Some(at) = parse_time(text) {
        return Ok(at);
    }
    bail!(
        "--since {text}: expected a duration (90s, 15m, 24h, 7d) or a time (2026-11-26T08:00:00Z, 2026-11-26, Unix seconds)"
    )
}

/// `--since` with its flag named in errors.
pub(crate) fn since(text: Option<&str>, now: Timestamp) -> anyhow::Result<Option<Timestamp>> {
    text.map(|t| parse_since(t, now))
        .transpose()
        .context("reading --since")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_utc() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_time(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn times_read_back_as_written() {
        for at in [0, 1_800_000_000, 951_782_400, 1_764_145_445, -86_400] {
            assert_eq!(parse_time(&format_time(at)), Some(at), "{at}");
        }
        assert_eq!(parse_time("2027-01-15"), Some(1_800_000_000 - 8 * 3600));
        assert_eq!(parse_time("1800000000"), Some(1_800_000_000));
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "2026-01-01T25:00:00Z",
            "2026-01-01T10:00:00",
            "2026-01-01T10:00Z",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn since_takes_a_duration_or_a_time() {
        let now = 1_800_000_000;
        assert_eq!(parse_since("90s", now).unwrap(), now - 90);
        assert_eq!(parse_since("15m", now).unwrap(), now - 900);
        assert_eq!(parse_since("24h", now).unwrap(), now - 86_400);
        assert_eq!(parse_since("7d", now).unwrap(), now - 7 * 86_400);
        assert_eq!(
            parse_since("2027-01-15T07:00:00Z", now).unwrap(),
            now - 3600
        );
        for bad in ["-5m", "5w", "m", "soon", "99999999999999999999d"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}
