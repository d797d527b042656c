//! Office hours ([`Hours`]) and the [`Clock`] that tells the menu what time it is.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use voicebot_bot::BotConfigError;

use crate::NAME;
use crate::config::HoursConfig;

/// Tells the menu the current time; tests inject a [`FixedClock`].
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock stopped at one instant, for tests and demos of office hours.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// A checked weekly schedule: open ranges per weekday (Monday first) in a zone.
#[derive(Debug, Clone)]
pub(crate) struct Hours {
    zone: TimeZone,
    week: [Vec<Opening>; 7],
    holidays: BTreeSet<Date>,
}

/// `start <= t < end` on one day; `end` is `None` for "until midnight" (`24:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Opening {
    start: Time,
    end: Option<Time>,
}

impl Hours {
    /// Checks the time zone, ranges and dates of `config`.
    pub(crate) fn new(config: &HoursConfig) -> Result<Self, BotConfigError> {
        let zone = TimeZone::get(&config.time_zone).map_err(|error| {
            invalid(
                "hours.time_zone",
                format!("unknown time zone `{}`: {error}", config.time_zone),
            )
        })?;
        let mut week: [Vec<Opening>; 7] = Default::default();
        for (slot, (day, ranges)) in week.iter_mut().zip(config.week.days()) {
            for range in ranges {
                let key = format!("hours.week.{day}");
                slot.push(parse_range(range).map_err(|message| invalid(&key, message))?);
            }
        }
        let holidays = config
            .holidays
            .iter()
            .map(|text| {
                text.parse::<Date>().map_err(|error| {
                    invalid("hours.holidays", format!("`{text}` is not a date: {error}"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            zone,
            week,
            holidays,
        })
    }

    /// Whether `now` falls in an opening range of its local weekday, and is no holiday.
    pub(crate) fn is_open(&self, now: Timestamp) -> bool {
        let local = now.to_zoned_datetime(self.zone.clone());
        if self.holidays.contains(&local.date()) {
            return false;
        }
        let day = usize::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0);
        let time = local.time();
        self.week[day]
            .iter()
            .any(|opening| opening.start <= time && opening.end.is_none_or(|end| time < end))
    }
}

fn parse_range(range: &str) -> Result<Opening, String> {
    let Some((start, end)) = range.split_once('-') else {
        return Err(format!("`{range}` is not a range like \"09:00-17:00\""));
    };
    let time = |text: &str| {
        text.trim()
            .parse::<Time>()
            .map_err(|error| format!("`{text}` in `{range}` is not a time: {error}"))
    };
    let start = time(start)?;
    let end = match end.trim() {
        "24:00" => None,
        other => Some(time(other)?),
    };
    // Ranges over midnight would belong to two days; write them as two ranges.
    if end.is_some_and(|end| end <= start) {
        return Err(format!("`{range}` ends before it starts"));
    }
    Ok(Opening { start, end })
}

fn invalid(key: &str, message: String) -> BotConfigError {
    BotConfigError::new(NAME, Some(key), message)
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;
    use crate::config::WeekConfig;

    fn hours() -> Hours {
        Hours::new(&HoursConfig {
            time_zone: "America/New_York".to_owned(),
            open: "main".to_owned(),
            closed: "closed".to_owned(),
            week: WeekConfig {
                mon: vec!["09:00-12:00".to_owned(), "13:00-17:00".to_owned()],
                sat: vec!["20:00-24:00".to_owned()],
                ..WeekConfig::default()
            },
            holidays: vec!["2025-12-22".to_owned()],
        })
        .unwrap()
    }

    // 2025-12-15 is a Monday; New York is UTC-5 in December.
    #[test_case("2025-12-15T14:00:00Z", true; "monday 09:00 local opens")]
    #[test_case("2025-12-15T13:59:59Z", false; "monday 08:59 local is before opening")]
    #[test_case("2025-12-15T17:30:00Z", false; "monday lunch break")]
    #[test_case("2025-12-15T21:59:00Z", true; "monday 16:59 local")]
    #[test_case("2025-12-15T22:00:00Z", false; "monday 17:00 local closes")]
    #[test_case("2025-12-16T15:00:00Z", false; "tuesday is not listed")]
    #[test_case("2025-12-21T04:59:00Z", true; "saturday 23:59 local, past midnight UTC")]
    #[test_case("2025-12-22T15:00:00Z", false; "a holiday monday")]
    // July: daylight saving time, UTC-4, so 09:00 local is 13:00 UTC.
    #[test_case("2025-07-14T13:00:00Z", true; "summer monday 09:00 local")]
    fn opening_times_follow_the_local_clock(now: &str, open: bool) {
        assert_eq!(hours().is_open(now.parse().unwrap()), open);
    }

    #[test_case("Mars/Olympus", None, "hours.time_zone"; "unknown zone")]
    #[test_case("UTC", Some("9-17"), "hours.week.mon"; "not times")]
    #[test_case("UTC", Some("17:00-09:00"), "hours.week.mon"; "over midnight")]
    #[test_case("UTC", Some("09:00"), "hours.week.mon"; "not a range")]
    fn bad_schedules_name_their_key(zone: &str, monday: Option<&str>, key: &str) {
        let config = HoursConfig {
            time_zone: zone.to_owned(),
            open: "a".to_owned(),
            closed: "b".to_owned(),
            week: WeekConfig {
                mon: monday.into_iter().map(str::to_owned).collect(),
                ..WeekConfig::default()
            },
            holidays: Vec::new(),
        };
        let error = Hours::new(&config).unwrap_err();
        assert_eq!(error.key.as_deref(), Some(key), "{error}");
    }

    #[test]
    fn a_bad_holiday_is_named() {
        let config = HoursConfig {
            time_zone: "UTC".to_owned(),
            open: "a".to_owned(),
            closed: "b".to_owned(),
            week: WeekConfig::default(),
            holidays: vec!["25.12.2025".to_owned()],
        };
        let error = Hours::new(&config).unwrap_err();
        assert_eq!(error.key.as_deref(), Some("hours.holidays"));
    }
}
