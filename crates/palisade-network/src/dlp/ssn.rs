//! US Social Security numbers in their written form `AAA-GG-SSSS` (dashes required: nine bare digits
//! are too often something else), not inside a longer run of digits or dashes, with the ranges the SSA
//! never issues excluded: area `000`, `666` and `900`–`999`, group `00`, serial `0000`, and the two
//! numbers known from advertising (`078-05-1120`, `219-09-9999`). Previews keep the last four digits.

use super::{Kind, Pattern, Sensor, SensorId, digits};

pub const SENSOR: Sensor = Sensor {
    id: SensorId::Ssn,
    title: "US social security number",
    doc: "AAA-GG-SSSS with valid area (not 000, 666, 9xx), group (not 00) and serial (not 0000)",
    kind: Kind::Data(&[Pattern {
        name: "ssn",
        regex: r"(?:^|[^0-9-])[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
        confirm,
    }]),
};

fn confirm(m: &[u8]) -> Option<String> {
    let start = m.iter().position(u8::is_ascii_digit)?;
    let end = m.iter().rposition(u8::is_ascii_digit)? + 1;
    let d = digits(&m[start..end])?;
    if d.len() != 9 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    let (area, group, serial) = (n(0..3), n(3..5), n(5..9));
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return None;
    }
    if (area, group, serial) == (78, 5, 1120) || (area, group, serial) == (219, 9, 9999) {
        return None;
    }
    Some(format!("***-**-{serial:04}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_never_issued_ranges() {
        assert_eq!(confirm(b" 123-45-6789 ").as_deref(), Some("***-**-6789"));
        for not in ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000", "078-05-1120"]
        {
            assert!(confirm(not.as_bytes()).is_none(), "{not}");
        }
    }

    #[test]
    fn not_a_piece_of_a_longer_number() {
        let dlp = super::super::Dlp::new(&[SensorId::Ssn]).unwrap();
        assert_eq!(dlp.scan(b"ssn: 123-45-6789\n").len(), 1);
        assert!(dlp.scan(b"tel 1-123-45-6789").is_empty());
        assert!(dlp.scan(b"id 123-45-67890").is_empty());
    }
}
