//! Keep what was read before a size limit.
//!
//! Formats that are a sequence of independent records (dpkg stanzas, yarn v1 entries, requirements lines)
//! lose nothing by being read in part: a file over its parser's limit is cut at the last record boundary
//! before the limit, the records before it are parsed, and a warning names the file and says how much was
//! read. Formats that must be read whole (JSON, TOML) keep their limit and a warning by name instead.

/// `data` (the start of a file of `size` bytes) cut at the end of the last complete record within the first
/// `limit` bytes (records end with `end`: `b"\n\n"` for blank-line separated stanzas, `b"\n"` for lines),
/// and the warning to give; `data` itself when the file is within the limit.
pub(crate) fn record_prefix<'a>(
    data: &'a [u8],
    size: u64,
    limit: u64,
    end: &[u8],
) -> (&'a [u8], Option<String>) {
    if size <= limit {
        return (data, None);
    }
    let head = &data[..data.len().min(usize::try_from(limit).unwrap_or(usize::MAX))];
    let cut = head.windows(end.len()).rposition(|w| w == end).map_or(0, |i| i + end.len());
    let why = format!(
        "file is {size} bytes, over the {limit} byte limit of this parser (docs/limits.md); the first {cut} \
         bytes (up to the last complete record) were read, the rest was not"
    );
    (&data[..cut], Some(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_the_last_record_within_the_limit() {
        let data = b"a: 1\n\nb: 2\n\nc: 3\n\n";
        assert_eq!(record_prefix(data, 18, 100, b"\n\n"), (&data[..], None));
        let (kept, why) = record_prefix(data, 18, 14, b"\n\n");
        assert_eq!(kept, b"a: 1\n\nb: 2\n\n");
        assert!(why.unwrap().contains("the first 12 bytes"));
        // No complete record within the limit: nothing is kept, and the warning says so.
        // Only the prefix was read (positioned reads of a file larger than the limit).
        let (kept, why) = record_prefix(b"x\ny", 1000, 3, b"\n");
        assert_eq!(kept, b"x\n");
        assert!(why.unwrap().starts_with("file is 1000 bytes"));
        let (kept, why) = record_prefix(b"one long line without an end", 28, 5, b"\n");
        assert!(kept.is_empty() && why.unwrap().contains("the first 0 bytes"));
    }
}
