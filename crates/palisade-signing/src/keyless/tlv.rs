//! A minimal DER TLV reader and writer for the two places where a certificate must be taken apart below
//! what `x509-cert` exposes: removing the SCT extension from a TBS certificate (RFC 6962 §3.2) and reading
//! the CMS structure of an RFC 3161 timestamp. Bounds-checked; never panics on hostile input.

/// One DER element: its tag byte, its whole encoding and its contents.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub whole: &'a [u8],
    pub content: &'a [u8],
}

/// The first element of `input` and what follows it.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let tag = *input.first().ok_or("DER: unexpected end of input")?;
    if tag & 0x1f == 0x1f {
        return Err("DER: multi-byte tags are not used here".into());
    }
    let first = *input.get(1).ok_or("DER: missing length")?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err(format!("DER: unsupported length form 0x{first:02x}"));
        }
        let bytes = input.get(2..2 + n).ok_or("DER: truncated length")?;
        (bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize), 2 + n)
    };
    let end = header.checked_add(len).ok_or("DER: length overflow")?;
    let whole = input.get(..end).ok_or_else(|| format!("DER: element of {len} bytes is truncated"))?;
    Ok((Tlv { tag, whole, content: &whole[header..] }, &input[end..]))
}

/// All elements of a constructed element's contents.
pub fn children(content: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

/// Encode an element.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_short_and_long_lengths() {
        for n in [0usize, 5, 127, 128, 300, 70_000] {
            let content = vec![7u8; n];
            let enc = encode(0x04, &content);
            let (t, rest) = read(&enc).expect("read");
            assert_eq!((t.tag, t.content.len(), rest.len()), (0x04, n, 0));
        }
        assert!(read(&[0x30, 0x05, 1]).is_err());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(read(&[]).is_err());
    }
}
