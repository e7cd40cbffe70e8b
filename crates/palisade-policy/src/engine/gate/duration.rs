//! Ages in gates: `30d`, `2w`, `12h`, `90 days`, or ISO 8601 (`P30D`), read by jiff. Calendar units
//! (months, years) are taken as 30 and 365 days, so an age means the same thing on every day.

/// Parse an age; `what` names the field for the error.
pub(crate) fn parse_age(text: &str, what: &str) -> Result<jiff::SignedDuration, String> {
    let span: jiff::Span =
        text.trim().parse().map_err(|e| format!("{what}: {text:?} is not an age like 30d: {e}"))?;
    let days = f64::from(span.get_years()) * 365.0 + f64::from(span.get_months()) * 30.0;
    let rest = jiff::Span::new()
        .weeks(span.get_weeks())
        .days(span.get_days())
        .hours(span.get_hours())
        .minutes(span.get_minutes())
        .seconds(span.get_seconds());
    let rest = rest
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("{what}: {text:?}: {e}"))?;
    let total = rest + jiff::SignedDuration::from_secs((days * 86_400.0) as i64);
    if total.is_negative() {
        return Err(format!("{what}: {text:?} is negative"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::parse_age;

    #[test]
    fn friendly_and_iso_ages() {
        assert_eq!(parse_age("30d", "x").unwrap().as_secs(), 30 * 86_400);
        assert_eq!(parse_age("2w", "x").unwrap().as_secs(), 14 * 86_400);
        assert_eq!(parse_age("P1M", "x").unwrap().as_secs(), 30 * 86_400);
        assert_eq!(parse_age("1y", "x").unwrap().as_secs(), 365 * 86_400);
        assert_eq!(parse_age("12h", "x").unwrap().as_secs(), 12 * 3_600);
        let e = parse_age("soon", "spec.image.maxAge").unwrap_err();
        assert!(e.starts_with("spec.image.maxAge:"), "{e}");
    }
}
