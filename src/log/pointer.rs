//! JSON pointers (RFC 6901) into a line's raw JSON text, without parsing what they skip.
//!
//! The scanner only finds where values start and end; the value found (the chunk) is then
//! parsed and checked by the real parser. Text outside it is checked for balance and string
//! termination, and the whole line for UTF-8, by the caller.

use std::borrow::Cow;

use crate::parse::{skip_space, string_end};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    text: String,
    tokens: Vec<String>,
}

impl Pointer {
    /// Parses `/a/b~1c` style pointers; `""` points at the whole document.
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if text.is_empty() {
            return Ok(Pointer {
                text: String::new(),
                tokens: Vec::new(),
            });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!(
                "invalid JSON pointer {text:?}: it must be empty or start with '/'"
            ));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            let mut token = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => token.push('~'),
                        Some('1') => token.push('/'),
                        _ => {
                            return Err(format!(
                                "invalid JSON pointer {text:?}: '~' must be followed by 0 or 1"
                            ))
                        }
                    }
                } else {
                    token.push(c);
                }
            }
            tokens.push(token);
        }
        Ok(Pointer {
            text: text.to_owned(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// This pointer followed by `/token`.
    pub fn join(&self, token: &str) -> Pointer {
        let mut tokens = self.tokens.clone();
        tokens.push(token.to_owned());
        let escaped = token.replace('~', "~0").replace('/', "~1");
        Pointer {
            text: format!("{}/{escaped}", self.text),
            tokens,
        }
    }

    /// The byte range of the value the pointer names in `doc`, None if there is none.
    /// Errors when the text around it is not well-formed JSON.
    pub fn locate(&self, doc: &[u8]) -> Result<Option<(usize, usize)>, String> {
        // The whole document first: a truncated record is bad even if its chunk is whole.
        check_end(doc, skip_value(doc, skip_space(doc, 0))?)?;
        self.find(doc)
    }

    /// [`locate`](Self::locate) without checking the text after the value found.
    pub fn find(&self, doc: &[u8]) -> Result<Option<(usize, usize)>, String> {
        let mut pos = skip_space(doc, 0);
        let mut found = true;
        for token in &self.tokens {
            match doc.get(pos) {
                Some(b'{') => match find_key(doc, pos, token)? {
                    Some(at) => pos = at,
                    None => {
                        found = false;
                        break;
                    }
                },
                Some(b'[') => match token.parse::<usize>() {
                    Ok(index) if token == "0" || !token.starts_with('0') => {
                        match find_index(doc, pos, index)? {
                            Some(at) => pos = at,
                            None => {
                                found = false;
                                break;
                            }
                        }
                    }
                    _ => {
                        found = false;
                        break;
                    }
                },
                _ => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            return Ok(None);
        }
        let end = skip_value(doc, pos)?;
        Ok(Some((pos, end)))
    }
}

/// The grouping key a value stands for: a string's text, the JSON text of anything else,
/// `""` for null.
pub fn key_text(value: &[u8]) -> Result<Cow<'_, str>, String> {
    if value == b"null" {
        return Ok(Cow::Borrowed(""));
    }
    if value.first() == Some(&b'"') {
        if !value.contains(&b'\\') && value.len() >= 2 {
            return std::str::from_utf8(&value[1..value.len() - 1])
                .map(Cow::Borrowed)
                .map_err(|e| e.to_string());
        }
        return serde_json::from_slice::<String>(value)
            .map(Cow::Owned)
            .map_err(|e| e.to_string());
    }
    std::str::from_utf8(value)
        .map(Cow::Borrowed)
        .map_err(|e| e.to_string())
}

/// The span of the document's top-level `"id"` string when it is the object's last such key
/// and plain (no escapes), found from the end: in key-sorted records (Azure's) it follows
/// `choices`, which [`Pointer::find`] would walk through. None when that does not hold.
///
/// In JSON text a quote inside a string is escaped, so `,"id":"` starts a key; it is the
/// top-level one when what follows its value closes exactly one object.
pub fn trailing_id(doc: &[u8]) -> Option<(usize, usize)> {
    const KEY: &[u8] = b",\"id\":\"";
    let start = memchr::memmem::rfind(doc, KEY)? + KEY.len();
    let len = memchr::memchr2(b'"', b'\\', &doc[start..])?;
    let end = start + len;
    if doc[end] != b'"' {
        return None;
    }
    let mut depth = 0usize;
    let mut i = end + 1;
    while i < doc.len() {
        match doc[i] {
            b'"' => {
                i = skip_string(doc, i).ok()?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => {
                return (skip_space(doc, i + 1) == doc.len()).then_some((start, end));
            }
            b'}' | b']' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn check_end(doc: &[u8], end: usize) -> Result<(), String> {
    let rest = skip_space(doc, end);
    if rest < doc.len() {
        return Err(format!("trailing characters at byte {}", rest + 1));
    }
    Ok(())
}

fn truncated() -> String {
    "EOF while parsing a value (truncated line?)".to_owned()
}

/// End of the string starting at `pos` (a quote), just past its closing quote.
fn skip_string(doc: &[u8], pos: usize) -> Result<usize, String> {
    string_end(doc, pos).ok_or_else(truncated)
}

/// End of the value starting at `pos`.
fn skip_value(doc: &[u8], pos: usize) -> Result<usize, String> {
    match doc.get(pos) {
        None => Err(truncated()),
        Some(b'"') => skip_string(doc, pos),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = pos;
            while i < doc.len() {
                match doc[i] {
                    b'"' => {
                        i = skip_string(doc, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(truncated())
        }
        Some(_) => {
            let mut i = pos;
            while i < doc.len()
                && !matches!(
                    doc[i],
                    b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r' | b':'
                )
            {
                i += 1;
            }
            if i == pos {
                Err(format!("expected a value at byte {}", pos + 1))
            } else {
                Ok(i)
            }
        }
    }
}

fn expect(doc: &[u8], pos: usize, what: u8) -> Result<usize, String> {
    let pos = skip_space(doc, pos);
    match doc.get(pos) {
        Some(&b) if b == what => Ok(pos + 1),
        None => Err(truncated()),
        Some(_) => Err(format!("expected '{}' at byte {}", what as char, pos + 1)),
    }
}

/// Start of the value of `key` in the object at `pos`.
fn find_key(doc: &[u8], pos: usize, key: &str) -> Result<Option<usize>, String> {
    let mut i = skip_space(doc, pos + 1);
    if doc.get(i) == Some(&b'}') {
        return Ok(None);
    }
    loop {
        i = skip_space(doc, i);
        if doc.get(i) != Some(&b'"') {
            return Err(if i >= doc.len() {
                truncated()
            } else {
                format!("expected a key at byte {}", i + 1)
            });
        }
        let end = skip_string(doc, i)?;
        let matches = key_text(&doc[i..end]).is_ok_and(|k| k == key);
        i = skip_space(doc, expect(doc, end, b':')?);
        if matches {
            return Ok(Some(i));
        }
        i = skip_space(doc, skip_value(doc, i)?);
        match doc.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => return Ok(None),
            None => return Err(truncated()),
            Some(_) => return Err(format!("expected ',' or '}}' at byte {}", i + 1)),
        }
    }
}

/// Start of item `index` of the array at `pos`.
fn find_index(doc: &[u8], pos: usize, index: usize) -> Result<Option<usize>, String> {
    let mut i = skip_space(doc, pos + 1);
    if doc.get(i) == Some(&b']') {
        return Ok(None);
    }
    for n in 0.. {
        i = skip_space(doc, i);
        if n == index {
            return Ok(Some(i));
        }
        i = skip_space(doc, skip_value(doc, i)?);
        match doc.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return Ok(None),
            None => return Err(truncated()),
            Some(_) => return Err(format!("expected ',' or ']' at byte {}", i + 1)),
        }
    }
    unreachable!()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let doc =
            br#"{"a": 1, "re/q": "x\"y", "response": {"chunk": {"id": "c"}, "n": [1, {"k": 2}]}}"#;
        let at = |p: &str| {
            Pointer::parse(p)
                .unwrap()
                .locate(doc)
                .unwrap()
                .map(|(s, e)| std::str::from_utf8(&doc[s..e]).unwrap().to_owned())
        };
        assert_eq!(at("/response/chunk").as_deref(), Some(r#"{"id": "c"}"#));
        assert_eq!(at("/re~1q").as_deref(), Some(r#""x\"y""#));
        assert_eq!(at("/response/n/1/k").as_deref(), Some("2"));
        assert_eq!(at("/a").as_deref(), Some("1"));
        assert_eq!(at("/missing"), None);
        assert_eq!(at("/response/n/7"), None);
        assert_eq!(at("").as_deref(), Some(std::str::from_utf8(doc).unwrap()));
        assert_eq!(key_text(br#""x\"y""#).unwrap(), "x\"y");
        assert_eq!(key_text(b"12").unwrap(), "12");
        assert_eq!(key_text(b"null").unwrap(), "");
    }

    #[test]
    fn a_trailing_id_is_the_top_level_one_or_none() {
        let id = |doc: &str| trailing_id(doc.as_bytes()).map(|(s, e)| doc[s..e].to_owned());
        // Azure's key-sorted layout, a tool call's id inside `choices`.
        let azure = r#"{"choices":[{"delta":{"tool_calls":[{"id":"call_1","function":{"arguments":"{\",\"id\":\"x"}}]},"finish_reason":null}],"created":1,"id":"chatcmpl-9","model":"gpt-4o","object":"chat.completion.chunk"} "#;
        assert_eq!(id(azure).as_deref(), Some("chatcmpl-9"));
        // The same answer as the pointer walk, wherever it applies.
        let walked = Pointer::parse("/id")
            .unwrap()
            .find(azure.as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(&azure[walked.0 + 1..walked.1 - 1], "chatcmpl-9");
        for (doc, why) in [
            (
                r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1"}]}}]}"#,
                "nested",
            ),
            (
                r#"{"a":{"b":1,"id":"inner"},"c":2}"#,
                "nested, followed by more keys",
            ),
            (r#"[{"x":1,"id":"a"}]"#, "not the top-level object"),
            (r#"{"x":1,"id":"a\u0041"}"#, "escaped"),
            (r#"{"x":1,"id":"a","y":{"z":"#, "truncated"),
            (r#"{"x":1,"id":"a"} x"#, "trailing text"),
            (r#"{"x":"a\",\"id\":\"b"}"#, "inside a string"),
            (r#"{"id":"a","x":1}"#, "first, not after a comma"),
        ] {
            assert_eq!(id(doc), None, "{why}: {doc}");
        }
        assert_eq!(
            id(r#"{"x":[1,{"y":"}"}],"id":"k","z":{"w":[]}}"#).as_deref(),
            Some("k")
        );
    }

    #[test]
    fn reports_broken_documents() {
        let p = Pointer::parse("/b").unwrap();
        assert!(p.locate(br#"{"a": "x"#).is_err());
        assert!(p.locate(br#"{"a": 1"#).is_err());
        assert!(p.locate(br#"{"a": 1} x"#).is_err());
        assert!(Pointer::parse("a").is_err());
        assert!(Pointer::parse("/a~2").is_err());
    }
}
