//! A byte-level JSON reader for the fast path.
//!
//! It accepts only what the JSON grammar accepts, but reports nothing about why it stops:
//! on `Reject` the caller re-parses with serde_json for the precise error. Outside strings
//! the grammar admits only ASCII; inside them, UTF-8 is checked only for runs that have
//! bytes above 0x7F, which the scan for the string's end notices for free.

use std::borrow::Cow;

use crate::model::Text;

/// The fast path gave up; the slow path will say why (or, rarely, accept after all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject;

pub type Result<T> = std::result::Result<T, Reject>;

pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

/// A JSON number's text and whether it is written as an integer.
pub struct Number<'a> {
    pub text: &'a str,
    pub integer: bool,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Reader { input, pos: 0 }
    }

    /// A reader starting at byte `pos` of `input`.
    pub fn at(input: &'a [u8], pos: usize) -> Self {
        Reader { input, pos }
    }

    /// The byte offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next byte that is not whitespace, without consuming it.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.input.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    #[inline]
    fn eat(&mut self, expected: u8) -> Result<()> {
        if self.peek() == Some(expected) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Reject)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.input[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Reject)
        }
    }

    /// Consumes a `null` if one comes next.
    #[inline]
    pub fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub fn boolean(&mut self) -> Result<bool> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(Reject),
        }
    }

    /// Only whitespace may follow the document.
    pub fn end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Reject),
        }
    }

    /// A string, borrowed when it has no escapes.
    #[inline(always)]
    pub fn string(&mut self) -> Result<Text<'a>> {
        self.eat(b'"')?;
        let head = self.plain_run()?;
        match self.input[self.pos - 1] {
            b'"' => Ok(Text(Cow::Borrowed(head))),
            b'\\' => {
                let mut owned = String::with_capacity(head.len() + 16);
                owned.push_str(head);
                self.escaped_into(&mut owned)
                    .map(|()| Text(Cow::Owned(owned)))
            }
            _ => Err(Reject), // a control character
        }
    }

    /// `string`, written over `out`: its allocation is reused, and escapes are decoded
    /// straight into it.
    #[inline(always)]
    pub fn string_into(&mut self, out: &mut String) -> Result<()> {
        self.eat(b'"')?;
        out.clear();
        out.push_str(self.plain_run()?);
        match self.input[self.pos - 1] {
            b'"' => Ok(()),
            b'\\' => self.escaped_into(out),
            _ => Err(Reject), // a control character
        }
    }

    /// `string` when only validity matters: a string without escapes is checked in place.
    #[inline]
    pub fn skip_string(&mut self) -> Result<()> {
        let start = self.pos;
        self.eat(b'"')?;
        let run = self.pos;
        let (len, ascii) = special_byte(&self.input[run..]).ok_or(Reject)?;
        let end = run + len;
        if self.input[end] == b'"' && (ascii || std::str::from_utf8(&self.input[run..end]).is_ok())
        {
            self.pos = end + 1;
            return Ok(());
        }
        self.pos = start;
        self.string().map(drop)
    }

    /// The text up to the next quote, backslash or control character, which is consumed.
    #[inline(always)]
    fn plain_run(&mut self) -> Result<&'a str> {
        let start = self.pos;
        let (len, ascii) = special_byte(&self.input[start..]).ok_or(Reject)?;
        let run = &self.input[start..start + len];
        self.pos = start + len + 1;
        if ascii {
            // SAFETY: every byte is ASCII.
            Ok(unsafe { std::str::from_utf8_unchecked(run) })
        } else {
            std::str::from_utf8(run).map_err(|_| Reject)
        }
    }

    /// The rest of a string after a backslash (already consumed), decoded onto `out`.
    #[cold]
    #[inline(never)]
    fn escaped_into(&mut self, out: &mut String) -> Result<()> {
        loop {
            self.escape(out)?;
            out.push_str(self.plain_run()?);
            match self.input[self.pos - 1] {
                b'"' => return Ok(()),
                b'\\' => {}
                _ => return Err(Reject),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<()> {
        let b = *self.input.get(self.pos).ok_or(Reject)?;
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        self.literal(b"\\u")?;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Reject);
                        }
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(Reject),
                    _ => u32::from(unit),
                };
                char::from_u32(code).ok_or(Reject)?
            }
            _ => return Err(Reject),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16> {
        let digits = self.input.get(self.pos..self.pos + 4).ok_or(Reject)?;
        let mut value = 0u16;
        for &d in digits {
            let nibble = (d as char).to_digit(16).ok_or(Reject)? as u16;
            value = value << 4 | nibble;
        }
        self.pos += 4;
        Ok(value)
    }

    /// A number in exactly the JSON grammar: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
    pub fn number(&mut self) -> Result<Number<'a>> {
        self.peek();
        let start = self.pos;
        let bytes = self.input;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(Reject),
        }
        let mut integer = true;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            integer = false;
            if !digits(&mut i) {
                return Err(Reject);
            }
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            integer = false;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(Reject);
            }
        }
        self.pos = i;
        // SAFETY: ASCII digits and signs only.
        let text = unsafe { std::str::from_utf8_unchecked(&bytes[start..i]) };
        Ok(Number { text, integer })
    }

    /// An integer: its sign and magnitude. Fractions, exponents and overflow are left to
    /// the slow path, which knows how to report them.
    #[inline]
    fn integer(&mut self) -> Result<(bool, u64)> {
        self.peek();
        let bytes = self.input;
        let mut i = self.pos;
        let negative = bytes.get(i) == Some(&b'-');
        i += usize::from(negative);
        let first = i;
        let mut value: u64 = 0;
        while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or(Reject)?;
            i += 1;
        }
        let digits = i - first;
        let leading_zero = digits > 1 && bytes[first] == b'0';
        if digits == 0 || leading_zero || matches!(bytes.get(i), Some(b'.' | b'e' | b'E')) {
            return Err(Reject);
        }
        self.pos = i;
        Ok((negative, value))
    }

    pub fn u64(&mut self) -> Result<u64> {
        match self.integer()? {
            (false, value) => Ok(value),
            (true, 0) => Ok(0),
            (true, _) => Err(Reject),
        }
    }

    pub fn i64(&mut self) -> Result<i64> {
        let (negative, magnitude) = self.integer()?;
        if negative {
            0i64.checked_sub_unsigned(magnitude).ok_or(Reject)
        } else {
            i64::try_from(magnitude).map_err(|_| Reject)
        }
    }

    /// An array of integers, each passed to `each` (a token's `bytes`). Elements that are
    /// plain digits right after the separator, too few to overflow, are read in a tight
    /// loop; anything else goes through `i64`, so exactly the same arrays are accepted.
    #[inline]
    pub fn i64_array(&mut self, mut each: impl FnMut(i64)) -> Result<()> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            each(match self.short_natural() {
                Some(value) => value,
                None => self.i64()?,
            });
            match self.input.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        return Ok(());
                    }
                    _ => return Err(Reject),
                },
            }
        }
    }

    /// A canonical non-negative integer of at most 18 digits starting right here, consumed;
    /// `None` (nothing consumed) for anything else.
    #[inline(always)]
    fn short_natural(&mut self) -> Option<i64> {
        let bytes = self.input;
        let start = self.pos;
        let mut i = start;
        let mut value: i64 = 0;
        while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
            if i - start == 18 {
                return None;
            }
            value = value * 10 + i64::from(d - b'0');
            i += 1;
        }
        let digits = i - start;
        let leading_zero = digits > 1 && bytes[start] == b'0';
        if digits == 0 || leading_zero || matches!(bytes.get(i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.pos = i;
        Some(value)
    }

    /// A number `f64` accepts, checked but not converted. Without an exponent, fewer than
    /// 300 integer digits cannot overflow; anything else is converted to find out.
    pub fn finite_number(&mut self) -> Result<()> {
        // A log probability's usual form, `-?d.ddd`, without an exponent: one digit, the
        // point, then a run of digits. Anything else takes the general path below.
        let bytes = &self.input[self.pos..];
        let sign = usize::from(bytes.first() == Some(&b'-'));
        if let Some(&[b'0'..=b'9', b'.']) = bytes.get(sign..sign + 2) {
            let frac = digit_run(&bytes[sign + 2..]);
            let end = sign + 2 + frac;
            if frac > 0 && !matches!(bytes.get(end), Some(b'e' | b'E')) {
                self.pos += end;
                return Ok(());
            }
        }
        let start = self.pos;
        let n = self.number()?;
        let integer_digits = n
            .text
            .bytes()
            .take_while(|&b| b != b'.' && b != b'e' && b != b'E')
            .count();
        if integer_digits < 300 && !n.text.bytes().any(|b| b == b'e' || b == b'E') {
            return Ok(());
        }
        self.pos = start;
        self.f64().map(drop)
    }

    /// `i64_array` when only validity matters. Arrays of one- to three-digit naturals
    /// without whitespace (a token's UTF-8 bytes) are checked element by element, four
    /// bytes at a time; at anything else the array is read again by `i64_array`.
    pub fn skip_i64_array(&mut self) -> Result<()> {
        self.peek();
        let bytes = &self.input[self.pos..];
        if bytes.starts_with(b"[]") {
            self.pos += 2;
            return Ok(());
        }
        if bytes.first() == Some(&b'[') {
            let mut i = 1;
            while let Some(&[a, b, c, d]) = bytes.get(i..i + 4) {
                let (digits, separator) = match (a, b, c, d) {
                    (b'0'..=b'9', b'0'..=b'9', b'0'..=b'9', d) if !d.is_ascii_digit() => (3, d),
                    (b'0'..=b'9', b'0'..=b'9', c, _) if !c.is_ascii_digit() => (2, c),
                    (b'0'..=b'9', b, _, _) if !b.is_ascii_digit() => (1, b),
                    _ => break,
                };
                if digits > 1 && a == b'0' {
                    break;
                }
                i += digits + 1;
                match separator {
                    b',' => {}
                    b']' => {
                        self.pos += i;
                        return Ok(());
                    }
                    _ => break,
                }
            }
        }
        self.i64_array(drop)
    }

    pub fn f64(&mut self) -> Result<f64> {
        let n = self.number()?;
        if let Some(value) = exact_short_decimal(n.text) {
            return Ok(value);
        }
        let value: f64 = n.text.parse().map_err(|_| Reject)?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(Reject)
        }
    }

    /// Checks and steps over one value of any kind, keeping nothing.
    pub fn skip(&mut self) -> Result<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Result<()> {
        match self.peek().ok_or(Reject)? {
            b'"' => self.string().map(drop),
            b'n' => self.null().map(drop),
            b't' | b'f' => self.boolean().map(drop),
            b'[' | b'{' if depth >= crate::model::MAX_DEPTH => Err(Reject),
            b'[' => self.array(|r| r.skip_nested(depth + 1)),
            b'{' => self.object(|r, _| r.skip_nested(depth + 1)),
            _ => self.number().map(drop),
        }
    }

    /// An object: calls `field` with each key, positioned at its value.
    #[inline]
    pub fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, Text<'a>) -> Result<()>,
    ) -> Result<()> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Reject),
            }
        }
    }

    /// An array: calls `item` positioned at each element.
    #[inline]
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(Reject),
            }
        }
    }
}

/// Clinger's fast path for a grammar-checked JSON number: when the digits form an integer
/// below 2^53 and the decimal exponent is within ±22, both are exact doubles and one IEEE
/// multiplication or division rounds correctly. Log probabilities (`-0.0013`) always fit;
/// anything else goes to the general parser.
fn exact_short_decimal(text: &str) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut in_fraction = false;
    let mut bytes = digits.bytes();
    for b in bytes.by_ref() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                exponent -= i64::from(in_fraction);
            }
            b'.' => in_fraction = true,
            _ => break, // 'e' or 'E': the rest is the exponent
        }
    }
    let explicit: &str = &digits[digits.len() - bytes.len()..];
    if !explicit.is_empty() {
        exponent += explicit.parse::<i64>().ok()?;
    }
    if mantissa > 1 << 53 {
        return None;
    }
    let m = mantissa as f64;
    let value = match exponent {
        0 => m,
        1..=22 => m * POW10[exponent as usize],
        -22..=-1 => m / POW10[(-exponent) as usize],
        _ => return None,
    };
    Some(if negative { -value } else { value })
}

/// How many ASCII digits `bytes` starts with, eight bytes at a time: numbers here are
/// short, and most end inside their first word.
#[inline(always)]
fn digit_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // Bytes below '0' (the lowest flag is exact: borrows only run upwards from it) and
        // bytes above '9' or not ASCII (each flag exact: the addition cannot carry).
        let below = x.wrapping_sub(ONES * u64::from(b'0')) & !x & HIGHS;
        let above = ((x & !HIGHS).wrapping_add(ONES * (0x7F - u64::from(b'9'))) | x) & HIGHS;
        let stops = below | above;
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count()
}

/// The index of the first byte that ends a plain run inside a string (a quote, a backslash
/// or a control character), and whether every byte before it is ASCII. Eight bytes at a
/// time, since most strings here are short and a SIMD search costs more to set up than it
/// saves.
#[inline(always)]
fn special_byte(bytes: &[u8]) -> Option<(usize, bool)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    let mut high = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero in `quote` or `backslash`, or below 0x20 in `x`.
        // Non-ASCII bytes (high bit set) are masked out of every test. Borrows only run
        // upwards from a flagged byte, so the lowest flag is exact.
        let hits =
            (quote.wrapping_sub(ONES) | backslash.wrapping_sub(ONES) | x.wrapping_sub(ONES * 0x20))
                & !x
                & HIGHS;
        if hits != 0 {
            let at = (hits.trailing_zeros() / 8) as usize;
            // Only the bytes before the hit count towards "all ASCII".
            let before = if at == 0 {
                0
            } else {
                x & (u64::MAX >> (64 - 8 * at))
            };
            return Some((i + at, (high | before) & HIGHS == 0));
        }
        high |= x;
        i += 8;
    }
    let at = bytes[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    let ascii = high & HIGHS == 0 && bytes[i..i + at].is_ascii();
    Some((i + at, ascii))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8]) -> Option<usize> {
        bytes
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    }

    /// `len` pseudo-random bytes (xorshift from `seed`): one in `special` from `alphabet`,
    /// the others `plain` of a random byte.
    fn random_bytes(
        seed: &mut u64,
        len: usize,
        alphabet: &[u8],
        special: u64,
        plain: fn(u8) -> u8,
    ) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                if *seed % special == 0 {
                    alphabet[(*seed >> 8) as usize % alphabet.len()]
                } else {
                    plain((*seed >> 16) as u8)
                }
            })
            .collect()
    }

    #[test]
    fn special_byte_agrees_with_a_plain_scan() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let alphabet = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x22, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ];
        for len in 0..40 {
            for _ in 0..300 {
                // Mostly plain bytes, so hits land at every position.
                let bytes = random_bytes(&mut seed, len, &alphabet, 5, |r| b'a' + r % 26);
                let expected = naive(&bytes).map(|at| (at, bytes[..at].is_ascii()));
                assert_eq!(special_byte(&bytes), expected, "{bytes:?}");
            }
        }
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut r = Reader::new(br#""plain" "a\"b\u00e9\ud83d\ude00\n""#);
        assert!(matches!(r.string().unwrap().0, Cow::Borrowed("plain")));
        assert_eq!(r.string().unwrap().as_str(), "a\"b\u{e9}\u{1F600}\n");
        for bad in [
            &b"\"\\ud800\""[..],
            b"\"\\x\"",
            b"\"a\x01\"",
            b"\"open",
            b"\"\\ude00\"",
            b"\"\xff\"",
            b"\"abcdefgh\xc3\"",
            b"\"a\\n\xe9\"",
        ] {
            assert_eq!(Reader::new(bad).string(), Err(Reject), "{bad:?}");
        }
    }

    #[test]
    fn skipping_or_reading_into_a_buffer_agrees_with_reading() {
        let mut out = String::from("stale text, longer than any below");
        for text in [
            &b"\"plain\" "[..],
            b"\"\"",
            b"\"caf\xc3\xa9\"",
            b"\"a\\\"b\\u00e9\\ud83d\\ude00\\n\"",
            b"\"\\ud800\"",
            b"\"a\x01\"",
            b"\"a\\q\"",
            b"\"open",
            b"\"\xff\"",
            b"\"abcdefgh\xc3\"",
            b" \"x\"",
            b"x",
        ] {
            let mut r = Reader::new(text);
            let read = r.string().map(|t| (t.as_str().to_owned(), r.position()));
            let mut r = Reader::new(text);
            let skipped = r.skip_string().map(|()| r.position());
            assert_eq!(skipped, read.clone().map(|(_, at)| at), "{text:?}");
            let mut r = Reader::new(text);
            let into = r
                .string_into(&mut out)
                .map(|()| (out.clone(), r.position()));
            assert_eq!(into, read, "{text:?}");
        }
    }

    #[test]
    fn short_decimals_parse_exactly_as_the_general_parser_does() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "-0.0",
            "1e22",
            "9007199254740993",
            "0.1",
            "-0.0013",
            "2.5e-3",
            "123456789012345678901",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20_000 {
            let digits = next() % 10_000_000_000_000_000;
            let point = (next() % 18) as usize;
            let text = digits.to_string();
            let text = if point > 0 && point < text.len() {
                format!(
                    "{}.{}",
                    &text[..text.len() - point],
                    &text[text.len() - point..]
                )
            } else {
                text
            };
            let exp = (next() % 60) as i64 - 30;
            cases.push(format!("-{text}e{exp}"));
            cases.push(text);
        }
        for case in cases {
            let mut r = Reader::new(case.as_bytes());
            let fast = r.f64().unwrap_or_else(|_| panic!("{case}"));
            let general: f64 = case.parse().unwrap();
            assert_eq!(fast.to_bits(), general.to_bits(), "{case}");
            assert_eq!(
                Reader::new(case.as_bytes()).finite_number(),
                Ok(()),
                "{case}"
            );
        }
    }

    #[test]
    fn integer_arrays_read_as_their_elements_do() {
        for text in [
            "[]",
            " [ ] ",
            "[0,1,255]",
            "[ 7 , -8 ,\n9]",
            "[999999999999999999,1000000000000000000,9223372036854775807]",
            "[9223372036854775808]",
            "[-9223372036854775808,-0]",
            "[01]",
            "[1.5]",
            "[1e2]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[\"1\"]",
            "[1",
        ] {
            let mut array = Vec::new();
            let fast = Reader::new(text.as_bytes())
                .i64_array(|v| array.push(v))
                .map(|()| array);
            let mut general = Vec::new();
            let mut r = Reader::new(text.as_bytes());
            let slow = r
                .array(|r| {
                    general.push(r.i64()?);
                    Ok(())
                })
                .map(|()| general);
            assert_eq!(fast, slow, "{text}");
            let skipped = Reader::new(text.as_bytes()).skip_i64_array();
            assert_eq!(skipped.is_ok(), slow.is_ok(), "{text}");
        }
    }

    #[test]
    fn skipping_integer_arrays_accepts_what_reading_them_accepts() {
        let mut seed = 0x5EED_0F1A_7EC0_DE11u64;
        let alphabet = b"0123456789,,,]] -.e\"x";
        for len in 0..24 {
            for _ in 0..400 {
                let mut text = vec![b'['];
                text.extend((0..len).map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed >> 8) as usize % alphabet.len()]
                }));
                let mut r = Reader::new(&text);
                let skipped = r.skip_i64_array().map(|()| r.position());
                let mut r = Reader::new(&text);
                let read = r.i64_array(drop).map(|()| r.position());
                assert_eq!(skipped, read, "{}", String::from_utf8_lossy(&text));
            }
        }
    }

    #[test]
    fn digit_runs_agree_with_a_plain_scan() {
        let mut seed = 0x0DDB_1A5E_5BAD_5EEDu64;
        let alphabet = [
            b'0', b'5', b'9', b'/', b':', b',', b']', b'.', 0x00, 0x7f, 0x80, 0xb9, 0xff,
        ];
        for len in 0..30 {
            for _ in 0..300 {
                let bytes = random_bytes(&mut seed, len, &alphabet, 4, |r| b'0' + r % 10);
                let plain = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
                assert_eq!(digit_run(&bytes), plain, "{bytes:?}");
            }
        }
    }

    #[test]
    fn finite_numbers_are_those_f64_reads() {
        let huge = format!("{}.5", "9".repeat(400));
        for case in [
            "1e308",
            "1e309",
            "-1.8e308",
            "0e99999",
            &huge,
            "1.5",
            "-0",
            "1.",
            "x",
            "-",
            "01",
            "-01.5",
            "0.5",
            "-0.000123",
            "1.5.5",
            "1.5e",
            "2E3",
            "-",
            "-.5",
            "12x",
            "0x1",
        ] {
            let mut r = Reader::new(case.as_bytes());
            let checked = r.finite_number().map(|()| r.position());
            let mut r = Reader::new(case.as_bytes());
            let read = r.f64().map(|_| r.position());
            assert_eq!(checked, read, "{case}");
        }
    }

    #[test]
    fn numbers_follow_the_json_grammar() {
        for good in ["0", "-0", "12", "-3.25", "1e5", "2E-3", "0.5e+2"] {
            let mut r = Reader::new(good.as_bytes());
            assert_eq!(r.number().map(|n| n.text), Ok(good), "{good}");
        }
        for bad in ["-", "01x", ".5", "1.", "1e", "+1"] {
            let mut r = Reader::new(bad.as_bytes());
            let whole = r.number().map(|n| n.text.len() == bad.len());
            assert_ne!(whole, Ok(true), "{bad}");
        }
    }
}
