//! E-mail addresses: a local part of up to 64 characters from the common unquoted set
//! (`A-Z a-z 0-9 . _ % + -`), `@`, and a domain of dot-separated labels ending in an alphabetic TLD of 2
//! to 24 letters. Dots may not start or end the local part or repeat. Previews keep the first character of
//! the local part and the domain.

use super::{Kind, Pattern, Sensor, SensorId};

pub const SENSOR: Sensor = Sensor {
    id: SensorId::Email,
    title: "E-mail address",
    doc: "local@domain.tld with an unquoted local part of at most 64 characters and an alphabetic TLD",
    kind: Kind::Data(&[Pattern {
        name: "email",
        regex: r"[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}",
        confirm,
    }]),
};

fn confirm(m: &[u8]) -> Option<String> {
    let at = m.iter().position(|&c| c == b'@')?;
    let (local, domain) = (&m[..at], &m[at + 1..]);
    if local.first() == Some(&b'.') || local.last() == Some(&b'.') || local.windows(2).any(|w| w == b"..") {
        return None;
    }
    let first = *local.first()? as char;
    Some(format!("{first}***@{}", crate::protocol::bytes::text(domain, 253).to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_previews() {
        let dlp = super::super::Dlp::new(&[SensorId::Email]).unwrap();
        let f = dlp.scan(b"to: Jane.Doe+pay@Mail.Example.COM;");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].preview, "J***@mail.example.com");
        assert!(dlp.scan(b"user@localhost and a@b.c1").is_empty());
        assert!(confirm(b".jane@example.com").is_none());
    }
}
