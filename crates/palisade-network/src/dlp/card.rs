//! Payment card numbers (PCI DSS "PAN"): 13 to 19 digits, optionally grouped with one kind of separator
//! (space or dash), not part of a longer digit run, with a valid Luhn check digit (ISO/IEC 7812-1) and a
//! prefix of a major issuer network: Visa `4`; Mastercard `51`–`55`, `2221`–`2720`; American Express
//! `34`, `37`; Discover `6011`, `644`–`649`, `65`; JCB `3528`–`3589`; Diners Club `300`–`305`, `36`,
//! `38`; UnionPay `62`. A run of one repeated digit is not a card. Previews keep the last four digits.

use super::{Kind, Pattern, Sensor, SensorId, digits};

pub const SENSOR: Sensor = Sensor {
    id: SensorId::Card,
    title: "Payment card number",
    doc: "13-19 digits (grouped by spaces or dashes or not), Luhn check digit, major issuer prefix",
    kind: Kind::Data(&[Pattern {
        name: "pan-luhn",
        regex: r"(?:^|[^0-9])[0-9](?:[ -]?[0-9]){12,18}\b",
        confirm,
    }]),
};

/// Luhn check over digit values.
pub fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn issuer(d: &[u8]) -> bool {
    let n = |k: usize| d.iter().take(k).fold(0u32, |a, &x| a * 10 + u32::from(x));
    let len = d.len();
    match d.first() {
        Some(4) => matches!(len, 13 | 16 | 19),
        Some(5) => (51..=55).contains(&n(2)) && len == 16,
        Some(2) => (2221..=2720).contains(&n(4)) && len == 16,
        Some(3) => {
            ((n(2) == 34 || n(2) == 37) && len == 15)
                || ((3528..=3589).contains(&n(4)) && (16..=19).contains(&len))
                || (((300..=305).contains(&n(3)) || n(2) == 36 || n(2) == 38) && (14..=19).contains(&len))
        }
        Some(6) => {
            (n(4) == 6011 || (644..=649).contains(&n(3)) || n(2) == 65 || n(2) == 62)
                && (16..=19).contains(&len)
        }
        _ => false,
    }
}

fn confirm(m: &[u8]) -> Option<String> {
    // The match includes the non-digit bytes around the number.
    let start = m.iter().position(u8::is_ascii_digit)?;
    let end = m.iter().rposition(u8::is_ascii_digit)? + 1;
    let s = &m[start..end];
    let has_space = s.contains(&b' ');
    let has_dash = s.contains(&b'-');
    if has_space && has_dash {
        return None;
    }
    let d = digits(s)?;
    if !(13..=19).contains(&d.len()) || d.iter().all(|&x| x == d[0]) || !luhn(&d) || !issuer(&d) {
        return None;
    }
    let last4: String = d[d.len() - 4..].iter().map(|x| (b'0' + x) as char).collect();
    Some(format!("{}{last4}", "*".repeat(d.len() - 4)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_issuers() {
        // Test numbers the networks publish for integration testing.
        for pan in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
        ] {
            assert!(confirm(pan.as_bytes()).is_some(), "{pan}");
        }
        assert_eq!(confirm(b"4111111111111111").as_deref(), Some("************1111"));
        for not in [
            "4111111111111112",
            "1234567812345670",
            "4111 1111-1111 1111",
            "0000000000000000",
            "9999999999999995",
        ] {
            assert!(confirm(not.as_bytes()).is_none(), "{not}");
        }
    }

    #[test]
    fn not_inside_longer_digit_runs() {
        let dlp = super::super::Dlp::new(&[SensorId::Card]).unwrap();
        assert_eq!(dlp.scan(b"card=4111111111111111&x=1").len(), 1);
        assert!(dlp.scan(b"id 94111111111111111 ").is_empty());
        assert!(dlp.scan(b"ts 41111111111111119999").is_empty());
    }
}
