//! Civil dates without a date-time dependency: the proleptic Gregorian calendar to and from days
//! since 1970-01-01 (Howard Hinnant's algorithms), month lengths, the [`Date`] of rule expiry
//! (`expires = 2026-12-31`), and the RFC 3339 timestamps access logs carry. Time zones are
//! numeric offsets only; there is no zone database.
//!
//! Used by data (column values as text), mask (date noise), rules (expiry) and load (access-log
//! timestamps).
use std::fmt;

/// Days since 1970-01-01 of `year-month-day`. The arithmetic is defined for any month in
/// 1..=12 and any day; callers check validity with [`is_valid`] first (a day past the month's
/// end counts on into the next month, as the algorithm does).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` that is `days` after 1970-01-01 (before it when
/// negative).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether `year` has a 29 February.
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` of `year`; 0 for a month outside 1..=12.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Whether `year-month-day` is a real calendar day.
pub fn is_valid(year: i64, month: u32, day: u32) -> bool {
    day >= 1 && day <= days_in_month(year, month)
}

/// Appends `YYYY-MM-DD` (at least four year digits, a `-` before negative years) for the day
/// `days` after 1970-01-01.
pub fn write_ymd(days: i64, out: &mut String) {
    use fmt::Write as _;
    let (y, m, d) = civil_from_days(days);
    match u64::try_from(y) {
        // Digits pushed directly: a dump's profile writes every kept date and timestamp as
        // text, and `write!`'s formatting was most of that cost.
        Ok(y) if y <= 9999 => {
            push_digits(out, y, 4);
            out.push('-');
            push_digits(out, u64::from(m), 2);
            out.push('-');
            push_digits(out, u64::from(d), 2);
        }
        _ => {
            let _ = write!(out, "{y:04}-{m:02}-{d:02}");
        }
    }
}

/// Pushes the last `width` decimal digits of `n`, zero-padded (`{n:0width$}` when `n` has at
/// most `width` digits), for the fixed-width fields of dates and times.
pub fn push_digits(out: &mut String, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let width = width.min(buf.len());
    let mut n = n;
    for b in buf[..width].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for &b in &buf[..width] {
        out.push(char::from(b));
    }
}

/// A calendar date, ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// The year, e.g. 2026.
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's last day.
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD` (surrounding white space ignored); `None` for anything else or a day
    /// the calendar does not have (`2026-02-29`).
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        is_valid(i64::from(year), u32::from(month), u32::from(day)).then_some(Date {
            year,
            month,
            day,
        })
    }

    /// Today in UTC (1970-01-01 if the clock is before it).
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days((secs / 86_400) as i64)
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let (y, m, d) = civil_from_days(days);
        Date {
            year: y as i32,
            month: m as u8,
            day: d as u8,
        }
    }

    /// Days since 1970-01-01.
    pub fn to_days(self) -> i64 {
        days_from_civil(
            i64::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        )
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A UTC offset as logs write it (`Z`, `+0100`, `-07:00`) in seconds east of UTC.
pub fn parse_utc_offset(z: &str) -> Option<i64> {
    let z = z.trim();
    if z == "Z" || z == "z" {
        return Some(0);
    }
    let (sign, digits) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

/// A wall-clock time with its UTC offset, as a log line gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// The year, 1970 to 9999 for [`Timestamp::epoch_micros`] to answer.
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 to 23.
    pub hour: i64,
    /// 0 to 59.
    pub minute: i64,
    /// 0 to 60 (a leap second counts as the next second's first instant).
    pub second: i64,
    /// Below 1,000,000.
    pub micros: i64,
    /// Seconds east of UTC.
    pub offset_secs: i64,
}

impl Timestamp {
    /// Microseconds since the Unix epoch; `None` outside 1970..=9999 or for a field out of its
    /// range.
    pub fn epoch_micros(&self) -> Option<u64> {
        if !(1970..=9999).contains(&self.year)
            || !(1..=12).contains(&self.month)
            || !(1..=31).contains(&self.day)
            || !(0..24).contains(&self.hour)
            || !(0..60).contains(&self.minute)
            || !(0..=60).contains(&self.second)
            || !(0..1_000_000).contains(&self.micros)
        {
            return None;
        }
        let secs = days_from_civil(self.year, self.month, self.day) * 86_400
            + self.hour * 3600
            + self.minute * 60
            + self.second
            - self.offset_secs;
        u64::try_from(secs)
            .ok()?
            .checked_mul(1_000_000)?
            .checked_add(self.micros as u64)
    }
}

/// An instant written as RFC 3339 (`2026-12-04T10:00:00Z`) or as Unix seconds (`1764842400`,
/// fractions allowed), in microseconds since the Unix epoch. The one parser of the `--start`,
/// `--end` and `--start-at` flags.
pub fn parse_instant_micros(text: &str) -> Option<u64> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let v = t.parse::<f64>().ok()?;
        return (v.is_finite() && v < 1.8e13).then(|| (v * 1e6).floor() as u64);
    }
    parse_rfc3339_micros(t)
}

/// RFC 3339 / ISO 8601 (`2026-11-23T10:00:00.123Z`, `2026-11-23 10:00:00+01:00`; no offset
/// means UTC; fractions past microseconds are cut) to microseconds since the Unix epoch.
pub fn parse_rfc3339_micros(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.len() < 19 || !s.is_char_boundary(19) {
        return None;
    }
    let b = s.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hour, minute, second) = (n(11..13)?, n(14..16)?, n(17..19)?);
    let mut rest = &s[19..];
    let mut micros = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(|b| b.is_ascii_digit()).count();
        let d = &frac[..digits];
        let padded: String = d.chars().chain(std::iter::repeat('0')).take(6).collect();
        micros = padded.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset_secs = if rest.is_empty() {
        0
    } else {
        parse_utc_offset(rest)?
    };
    Timestamp {
        year,
        month: u32::try_from(month).ok()?,
        day: u32::try_from(day).ok()?,
        hour,
        minute,
        second,
        micros,
        offset_secs,
    }
    .epoch_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_as_formatting_writes_them() {
        use std::fmt::Write as _;
        // Every day from year 1 to 9999 and a few beyond, both ways.
        for days in (-719_162..2_932_897)
            .step_by(7)
            .chain([-800_000, 3_000_000, 0, -1])
        {
            let (y, m, d) = civil_from_days(days);
            let mut want = String::new();
            let _ = write!(want, "{y:04}-{m:02}-{d:02}");
            let mut got = String::new();
            write_ymd(days, &mut got);
            assert_eq!(got, want, "day {days}");
        }
        for (n, w) in [
            (0u64, 2usize),
            (7, 2),
            (59, 2),
            (123_456, 6),
            (5, 6),
            (999_999, 6),
        ] {
            let mut got = String::new();
            push_digits(&mut got, n, w);
            assert_eq!(got, format!("{n:0w$}"));
        }
    }

    #[test]
    fn civil_conversion_round_trips_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        for z in [-1_000_000i64, -719_468, -1, 0, 59, 60, 10_957, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        let mut s = String::new();
        write_ymd(0, &mut s);
        assert_eq!(s, "1970-01-01");
    }

    #[test]
    fn month_lengths() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2026, 13), 0);
        assert!(!is_valid(2024, 2, 30));
        assert!(is_valid(2024, 12, 31));
    }

    #[test]
    fn dates_parse_order_and_convert() {
        assert!(Date::parse("2026-02-29").is_none());
        assert!(Date::parse("2028-02-29").is_some());
        assert!(Date::parse("2026-13-01").is_none());
        assert!(Date::parse("2026-01-02") > Date::parse("2025-12-31"));
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(20_454).to_string(), "2026-01-01");
        assert_eq!(
            Date::parse("2026-03-04").map(|d| d.to_string()).as_deref(),
            Some("2026-03-04")
        );
        assert_eq!(Date::from_days(20_454).to_days(), 20_454);
    }

    #[test]
    fn instants_are_rfc3339_or_unix_seconds() {
        assert_eq!(
            parse_instant_micros("1764842400"),
            Some(1_764_842_400_000_000)
        );
        assert_eq!(parse_instant_micros(" 1.5 "), Some(1_500_000));
        assert_eq!(
            parse_instant_micros("2025-12-04T10:00:00Z"),
            parse_instant_micros("1764842400")
        );
        for bad in ["", "soon", "1e9", "12:00", "99999999999999999999"] {
            assert_eq!(parse_instant_micros(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_timestamps() {
        assert_eq!(
            parse_rfc3339_micros("1970-01-01T00:00:01Z"),
            Some(1_000_000)
        );
        assert_eq!(parse_rfc3339_micros("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339_micros("2000-02-29T00:00:00.5Z"),
            Some(951_782_400_500_000)
        );
        assert_eq!(parse_rfc3339_micros("2000-13-29T00:00:00Z"), None);
        assert_eq!(parse_utc_offset("-0700"), Some(-25_200));
        assert_eq!(parse_utc_offset("+07"), None);
    }
}
