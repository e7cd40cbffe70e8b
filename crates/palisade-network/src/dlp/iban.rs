//! International bank account numbers (ISO 13616): a country code, two check digits and the basic bank
//! account number, written compact or in groups of four separated by single spaces. Confirmed by the
//! registry length of the country (for the countries listed in [`LENGTHS`]; 15–34 otherwise) and the
//! ISO 7064 MOD 97-10 check (the number, rotated and with letters as 10–35, is 1 modulo 97). Previews
//! keep the country code and the last four characters.

use super::{Kind, Pattern, Sensor, SensorId};

pub const SENSOR: Sensor = Sensor {
    id: SensorId::Iban,
    title: "IBAN",
    doc: "country code, check digits and BBAN (compact or grouped by 4), registry length, mod-97 check",
    kind: Kind::Data(&[Pattern {
        name: "iban-mod97",
        regex: r"(?:^|[^A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b",
        confirm,
    }]),
};

/// IBAN lengths of the SEPA countries and a few others (SWIFT IBAN registry).
pub const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
];

/// ISO 7064 MOD 97-10 over an IBAN's characters (upper-case letters and digits).
pub fn mod97(iban: &[u8]) -> Option<u32> {
    if iban.len() < 5 {
        return None;
    }
    let rotated = iban[4..].iter().chain(&iban[..4]);
    let mut r = 0u32;
    for &c in rotated {
        match c {
            b'0'..=b'9' => r = (r * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => r = (r * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return None,
        }
    }
    Some(r)
}

fn confirm(m: &[u8]) -> Option<String> {
    let start = m.iter().position(u8::is_ascii_uppercase)?;
    let end = m.iter().rposition(u8::is_ascii_alphanumeric)? + 1;
    let compact: Vec<u8> = m[start..end].iter().copied().filter(|&c| c != b' ').collect();
    let country = std::str::from_utf8(&compact[..2]).ok()?;
    let ok_len = match LENGTHS.iter().find(|(c, _)| *c == country) {
        Some((_, n)) => compact.len() == *n,
        None => (15..=34).contains(&compact.len()),
    };
    if !ok_len || mod97(&compact)? != 1 {
        return None;
    }
    let tail = std::str::from_utf8(&compact[compact.len() - 4..]).ok()?;
    Some(format!("{country}**{}{tail}", "*".repeat(compact.len() - 8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples_pass_and_a_changed_digit_fails() {
        for iban in [
            "DE89370400440532013000",
            "GB82 WEST 1234 5698 7654 32",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
        ] {
            assert!(confirm(iban.as_bytes()).is_some(), "{iban}");
        }
        assert_eq!(confirm(b"DE89370400440532013000").as_deref(), Some("DE****************3000"));
        assert!(confirm(b"DE89370400440532013001").is_none());
        assert!(confirm(b"DE8937040044053201300").is_none(), "wrong length for DE");
    }
}
