//! Finding one's way through JSON bytes without parsing them: the key scans of the log
//! engine and the hole search of templates.

/// The first position at or after `at` that is not JSON whitespace.
pub fn skip_space(data: &[u8], mut at: usize) -> usize {
    while matches!(data.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Just past the closing quote of the string whose opening quote is at `quote`; None if it
/// does not close.
pub fn string_end(data: &[u8], quote: usize) -> Option<usize> {
    let mut at = quote + 1;
    loop {
        at += memchr::memchr2(b'"', b'\\', data.get(at..)?)?;
        if data[at] == b'"' {
            return Some(at + 1);
        }
        at += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_end_after_their_closing_quote_escapes_skipped() {
        let data = br#" "a\"b\\" : "open"#;
        assert_eq!(skip_space(data, 0), 1);
        assert_eq!(string_end(data, 1), Some(9));
        assert_eq!(skip_space(data, 9), 10);
        assert_eq!(string_end(data, 12), None);
        assert_eq!(string_end(b"\"\\", 0), None);
        assert_eq!(
            skip_space(b" \x0c", 0),
            1,
            "form feed is not JSON whitespace"
        );
    }
}
