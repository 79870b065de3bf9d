//! Wall-clock instants as milliseconds since the Unix epoch, shown as RFC 3339 in JSON.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant with millisecond precision. Storage adapters keep the integer; the API shows
/// RFC 3339 (`2026-03-21T10:00:00.000Z`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn now() -> Self {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self(since_epoch.as_millis() as i64)
    }

    pub fn plus(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration.as_millis() as i64))
    }

    pub fn minus(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration.as_millis() as i64))
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }

    pub fn to_rfc3339(self) -> String {
        let (days, millis) = (self.0.div_euclid(DAY_MILLIS), self.0.rem_euclid(DAY_MILLIS));
        let (year, month, day) = civil_from_days(days);
        let (seconds, millis) = (millis / 1000, millis % 1000);
        let (hour, minute, second) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
    }

    /// Any RFC 3339 date-time (`2026-03-21T10:00:00Z`, `2026-03-21t12:00:00.5+02:00`), as
    /// JSON Schema's `date-time` reads it; also with a space for the `T` and without a zone
    /// (UTC). A leap second counts as the next minute's first. Kept within years 0000 to 9999.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let number = |at: usize, len: usize| decimal(bytes.get(at..at + len)?);
        let at = |i: usize, wanted: &[u8]| bytes.get(i).is_some_and(|b| wanted.contains(b));
        let (year, month, day) = (number(0, 4)?, number(5, 2)?, number(8, 2)?);
        let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
        let separators = at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":");
        let in_range = (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second <= 60;
        if !separators || !in_range {
            return None;
        }
        let mut rest = &text[19..];
        let mut millis = 0;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            let kept = &fraction.as_bytes()[..digits.min(3)];
            // Milliseconds: the first three digits, `.5` being 500.
            millis = decimal(kept)? * 10_i64.pow(3 - kept.len() as u32);
            rest = &fraction[digits..];
        }
        let offset_minutes = match rest.as_bytes() {
            [] | [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (hours, minutes) = (decimal(&[*h1, *h2])?, decimal(&[*m1, *m2])?);
                if hours > 23 || minutes > 59 {
                    return None;
                }
                if *sign == b'-' { -(hours * 60 + minutes) } else { hours * 60 + minutes }
            }
            _ => return None,
        };
        let seconds = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute - offset_minutes) * 60 + second;
        let earliest = days_from_civil(0, 1, 1) * DAY_MILLIS;
        let latest = days_from_civil(10_000, 1, 1) * DAY_MILLIS - 1;
        Some(Self((seconds * 1000 + millis).clamp(earliest, latest)))
    }
}

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// The number `digits` spell, if there are some and they are all ASCII digits.
fn decimal(digits: &[u8]) -> Option<i64> {
    let all_digits = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    all_digits.then(|| digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

/// An RFC 3339 string in the OpenAPI document, as it is in JSON.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-03-21T10:00:00.000Z"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_keeps_milliseconds() {
        let at = Timestamp::from_millis(1_774_087_200_123);
        assert_eq!(at.to_rfc3339(), "2026-03-21T10:00:00.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&at.to_rfc3339()), Some(at));
    }

    #[test]
    fn every_rfc3339_form_is_read() {
        let at = |text: &str| Timestamp::parse_rfc3339(text).map(Timestamp::to_rfc3339);
        let ten = Some("2026-03-21T10:00:00.000Z".to_owned());
        for same in [
            "2026-03-21T10:00:00Z",
            "2026-03-21t10:00:00z",
            "2026-03-21 10:00:00",
            "2026-03-21T12:00:00+02:00",
            "2026-03-21T05:30:00.000000-04:30",
            "2026-03-21T09:59:60Z",
        ] {
            assert_eq!(at(same), ten, "{same}");
        }
        assert_eq!(at("2000-12-10T00:14:25.5-04:16"), Some("2000-12-10T04:30:25.500Z".to_owned()));
        assert_eq!(at("0338-11-23T18:46:38.583-16:34"), Some("0338-11-24T11:20:38.583Z".to_owned()));
        assert_eq!(at("1969-12-31T23:59:59.999Z"), Some("1969-12-31T23:59:59.999Z".to_owned()));
        assert_eq!(at("2024-02-29T00:00:00Z"), Some("2024-02-29T00:00:00.000Z".to_owned()));
        for wrong in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-03-21T24:00:00Z",
            "2026-03-21T10:00:00.Z",
            "2026-03-21T10:00:00+2:00",
            "2026-03-21T10:00:00+24:00",
            "2026-03-21T10:00",
            "2026-03-21X10:00:00Z",
            "later",
            "",
        ] {
            assert_eq!(at(wrong), None, "{wrong}");
        }
        for days in [-719_000, -1, 0, 1, 19_000, 2_900_000] {
            let start = Timestamp::from_millis(days * DAY_MILLIS);
            assert_eq!(Timestamp::parse_rfc3339(&start.to_rfc3339()), Some(start));
        }
    }
}
