//! Reading cell text as Table Schema types the way the reference implementation (Python
//! `frictionless` v5) does, so that a file valid there is valid here and the same cells fail:
//! numbers follow Python's `int()`/`Decimal()` (surrounding whitespace, signs, leading zeros,
//! underscores, `inf`/`nan`), dates follow `strptime`, date-times
//! and times follow `dateutil.isoparse` behind frictionless's length guards, e-mail addresses
//! follow the `validators` package, UUIDs Python's `UUID()`.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Python's `int()` on text, within 64 bits.
pub(super) fn integer(raw: &str) -> Result<i64, &'static str> {
    let trimmed = raw.trim();
    let (negative, digits) = split_sign(trimmed);
    // Single underscores between digits only.
    let bytes = digits.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.first().is_some_and(u8::is_ascii_digit)
        && bytes.last().is_some_and(u8::is_ascii_digit)
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        && !digits.contains("__");
    if !valid {
        return Err("integer");
    }
    if bytes.len() <= 18 && !digits.contains('_') {
        // Fits in 63 bits whatever the digits: no text to clean, no overflow to check.
        let magnitude = bytes.iter().fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
        return Ok(if negative { -magnitude } else { magnitude });
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let magnitude: i128 = clean.parse().map_err(|_| "integer within 64 bits")?;
    i64::try_from(if negative { -magnitude } else { magnitude })
        .map_err(|_| "integer within 64 bits")
}

/// Python's `Decimal()` on text, as a 64-bit float.
pub(super) fn number(raw: &str) -> Result<f64, &'static str> {
    let trimmed = raw.trim();
    let clean: std::borrow::Cow<str> = if trimmed.contains('_') {
        trimmed
            .chars()
            .filter(|c| *c != '_')
            .collect::<String>()
            .into()
    } else {
        trimmed.into()
    };
    let (negative, body) = split_sign(&clean);
    let sign = if negative { -1.0 } else { 1.0 };
    // Words (infinity, NaN) only when the text starts with a letter.
    let lower = if body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        body.to_ascii_lowercase()
    } else {
        String::new()
    };
    if lower == "inf" || lower == "infinity" {
        return Ok(sign * f64::INFINITY);
    }
    let nan_digits = lower
        .strip_prefix("nan")
        .or_else(|| lower.strip_prefix("snan"));
    if let Some(payload) = nan_digits {
        return if payload.bytes().all(|b| b.is_ascii_digit()) {
            Ok(f64::NAN)
        } else {
            Err("number")
        };
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let (_, e) = split_sign(e);
        !e.is_empty() && digits(e)
    });
    if !(mantissa_ok && exponent_ok) {
        return Err("number");
    }
    clean.parse::<f64>().map_err(|_| "number")
}

/// `YYYY-MM-DD` exactly, read without a format parser (the common case of `%Y-%m-%d`; any
/// other text goes through [`strptime`], which reads it the same when it is of this form).
fn canonical_date(raw: &str) -> Option<NaiveDate> {
    let b = raw.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// `strptime` with a Python format (the directives chrono shares), refusing surrounding
/// whitespace as Python does.
fn strptime(raw: &str, format: &str) -> Option<NaiveDateTime> {
    if raw.trim() != raw {
        return None;
    }
    NaiveDateTime::parse_from_str(raw, format)
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, format)
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })
        .or_else(|| {
            NaiveTime::parse_from_str(raw, format)
                .ok()
                .and_then(|t| Some(NaiveDate::from_ymd_opt(1900, 1, 1)?.and_time(t)))
        })
}

/// The forms `format: any` reads (a subset of what `dateutil.parser.parse` accepts).
const ANY_DATES: [&str; 12] = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%b %d %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
];

pub(super) fn date(raw: &str, format: Option<&str>) -> Option<NaiveDate> {
    match format.unwrap_or("default") {
        "default" => canonical_date(raw).or_else(|| strptime(raw, "%Y-%m-%d").map(|t| t.date())),
        "any" => ANY_DATES
            .iter()
            .find_map(|f| NaiveDate::parse_from_str(raw.trim(), f).ok())
            .or_else(|| iso_datetime(raw.trim()).map(|t| t.date_naive())),
        pattern => strptime(raw, pattern).map(|t| t.date()),
    }
}

/// A time of day as `isoparse` reads it: `HH:MM:SS`, an optional `.`/`,` fraction, an optional
/// `Z`/`z`/`±HH`/`±HHMM`/`±HH:MM` offset; `24:00:00` is the next midnight. Returns the time,
/// the offset in seconds east of UTC, and whether it rolled over to the next day.
fn iso_time(s: &str) -> Option<(NaiveTime, Option<i32>, bool)> {
    let b = s.as_bytes();
    let two = |at: usize| -> Option<u32> {
        let d = b.get(at..at + 2)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0'))
    };
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return None;
    }
    let (hour, minute, second) = (two(0)?, two(3)?, two(6)?);
    let mut at = 8;
    let mut micros = 0u32;
    if matches!(b.get(at), Some(b'.' | b',')) {
        let start = at + 1;
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        if end == start {
            return None;
        }
        let digits = &s[start..end.min(start + 6)];
        micros = digits.parse::<u32>().ok()? * 10u32.pow(6 - digits.len() as u32);
        at = end;
    }
    let offset = match &s[at..] {
        "" => None,
        "Z" | "z" => Some(0),
        zone => {
            let (negative, rest) = split_sign(zone);
            if zone.len() == rest.len() {
                return None;
            }
            let digits: String = rest.chars().filter(|c| *c != ':').collect();
            let well_formed = matches!(rest.len(), 2 | 4 | 5)
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (rest.len() != 5 || rest.as_bytes()[2] == b':')
                && (rest.len() == 5 || !rest.contains(':'));
            if !well_formed {
                return None;
            }
            let hours: i32 = digits[..2].parse().ok()?;
            let minutes: i32 = digits
                .get(2..)
                .filter(|m| !m.is_empty())
                .map_or(Ok(0), str::parse)
                .ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            Some(if negative { -seconds } else { seconds })
        }
    };
    if hour == 24 && minute == 0 && second == 0 && micros == 0 {
        return Some((NaiveTime::MIN, offset, true));
    }
    if second > 59 {
        return None;
    }
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micros)?;
    Some((time, offset, false))
}

/// `YYYY-MM-DD`, one separator character, then [`iso_time`]; naive times are taken as UTC.
fn iso_datetime(s: &str) -> Option<DateTime<Utc>> {
    let head = s.get(..10)?;
    let date = canonical_date(head).or_else(|| NaiveDate::parse_from_str(head, "%Y-%m-%d").ok())?;
    if s.get(..10)?.len() != 10 || !s.is_char_boundary(11) {
        return None;
    }
    let (time, offset, next_day) = iso_time(s.get(11..)?)?;
    let local = date.and_time(time) + Duration::days(i64::from(next_day));
    Some(local.and_utc() - Duration::seconds(i64::from(offset.unwrap_or(0))))
}

pub(super) fn datetime(raw: &str, format: Option<&str>) -> Option<DateTime<Utc>> {
    match format.unwrap_or("default") {
        // frictionless guards against the short forms dateutil would also accept.
        "default" => (raw.len() >= 19 && raw.as_bytes().get(16) == Some(&b':'))
            .then(|| iso_datetime(raw))
            .flatten(),
        "any" => iso_datetime(raw.trim()).or_else(|| {
            ["%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(raw.trim(), f).ok())
                .map(|t| t.and_utc())
        }),
        pattern => strptime(raw, pattern).map(|t| t.and_utc()),
    }
}

pub(super) fn time(raw: &str, format: Option<&str>) -> Option<NaiveTime> {
    match format.unwrap_or("default") {
        "default" => (raw.len() >= 8 && raw.as_bytes().get(5) == Some(&b':'))
            .then(|| iso_time(raw).map(|(t, _, _)| t))
            .flatten(),
        "any" => iso_time(raw.trim()).map(|(t, _, _)| t).or_else(|| {
            ["%H:%M", "%I:%M %p", "%I:%M:%S %p"]
                .iter()
                .find_map(|f| NaiveTime::parse_from_str(raw.trim(), f).ok())
        }),
        pattern => strptime(raw, pattern).map(|t| t.time()),
    }
}

fn in_range(lon: f64, lat: f64) -> Option<[f64; 2]> {
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some([lon, lat])
}

/// `lon, lat` (default), `[lon, lat]` (array) or `{"lon": …, "lat": …}` (object).
pub(super) fn geopoint(raw: &str, format: Option<&str>) -> Option<[f64; 2]> {
    match format.unwrap_or("default") {
        "array" => {
            let value: serde_json::Value = serde_json::from_str(raw).ok()?;
            match value.as_array()?.as_slice() {
                [lon, lat] => in_range(lon.as_f64()?, lat.as_f64()?),
                _ => None,
            }
        }
        "object" => {
            let value: serde_json::Value = serde_json::from_str(raw).ok()?;
            let object = value.as_object()?;
            if object.len() != 2 {
                return None;
            }
            in_range(object.get("lon")?.as_f64()?, object.get("lat")?.as_f64()?)
        }
        _ => {
            let (lon, lat) = raw.split_once(',')?;
            in_range(number(lon).ok()?, number(lat).ok()?)
        }
    }
}

/// The `validators` package's e-mail check: a dot-atom local part in ASCII, a domain of
/// letter-digit-hyphen labels ending in an alphabetic (or punycode) top-level label.
pub(super) fn email(raw: &str) -> bool {
    let Some((local, domain)) = raw.rsplit_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let tld_ok = labels.last().is_some_and(|tld| {
        (tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
            || (tld.len() > 4
                && tld.to_ascii_lowercase().starts_with("xn--")
                && tld.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    local_ok && labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok && raw.len() <= 320
}

/// Python's `UUID()`: optional `urn:`/`uuid:` prefixes and braces, hyphens anywhere, 32 hex
/// digits.
pub(super) fn uuid(raw: &str) -> bool {
    let stripped = raw.replace("urn:", "").replace("uuid:", "");
    let hex: String = stripped
        .trim_matches(['{', '}'])
        .chars()
        .filter(|c| *c != '-')
        .collect();
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}
