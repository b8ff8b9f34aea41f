//! Parsing a value over an owned one of the same shape, reusing its allocations.
//!
//! A chunk template fills the same log probabilities slot with every chunk of a stream:
//! parsing afresh would allocate and free a dozen strings and vectors per chunk. Refilling
//! ends in exactly the value `FastParse` followed by `into_owned` gives (keys not sent are
//! absent again, arrays truncated, extras replaced); only the spare capacity differs.
//! On `Reject` the value is left half written: the caller must not use it.

use std::borrow::Cow;

use crate::model::{
    is_strict, Field, IntoOwned, JsonValue, LogProbContent, LogProbs, Text, TopLogProb,
};

use super::reader::{Reader, Reject, Result};
use super::FastParse;

pub trait Refill<'a> {
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()>;
}

impl<'a> Refill<'a> for Text<'static> {
    #[inline]
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        let text = r.string()?;
        match &mut self.0 {
            Cow::Owned(s) => {
                s.clear();
                s.push_str(text.as_str());
            }
            Cow::Borrowed(_) => *self = text.into_owned(),
        }
        Ok(())
    }
}

impl<'a> Refill<'a> for f64 {
    #[inline]
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        *self = r.f64()?;
        Ok(())
    }
}

impl<'a> Refill<'a> for Vec<i64> {
    #[inline]
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        self.clear();
        r.i64_array(|v| self.push(v))
    }
}

impl<'a, T: Refill<'a>> Refill<'a> for Box<T> {
    #[inline]
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        (**self).refill(r)
    }
}

/// A default value refilled is what `FastParse` reads: every type here parses from nothing.
impl<'a, T: Refill<'a> + Default> Refill<'a> for Field<T> {
    #[inline]
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        if r.null()? {
            *self = Field::Null;
            return Ok(());
        }
        if let Field::Value(value) = self {
            return value.refill(r);
        }
        let mut value = T::default();
        value.refill(r)?;
        *self = Field::Value(value);
        Ok(())
    }
}

impl<'a, T: Refill<'a> + Default> Refill<'a> for Vec<T> {
    #[inline]
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        let mut n = 0;
        r.array(|r| {
            if n == self.len() {
                self.push(T::default());
            }
            self[n].refill(r)?;
            n += 1;
            Ok(())
        })?;
        self.truncate(n);
        Ok(())
    }
}

/// One unknown key, kept as `FastParse` keeps it.
fn push_extra<'a>(
    extra: &mut Vec<(Text<'static>, JsonValue<'static>)>,
    key: Text<'a>,
    r: &mut Reader<'a>,
) -> Result<()> {
    let value = JsonValue::fast_parse(r)?;
    extra.push((key.into_owned(), value.into_owned()));
    Ok(())
}

/// A field the object did not send is absent, as in a fresh parse.
fn unless_seen<T>(seen: bool, field: &mut Field<T>) {
    if !seen {
        *field = Field::Absent;
    }
}

// The model types are destructured in full, so a field added to them breaks the build here
// rather than going unread. Strict parsing demands keys these do not track: it is left to
// the full parse.

impl<'a> Refill<'a> for LogProbs<'static> {
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        if is_strict() {
            return Err(Reject);
        }
        let LogProbs {
            content,
            refusal,
            extra,
        } = self;
        let mut seen = [false; 2];
        extra.0.clear();
        r.object(|r, key| match key.as_str() {
            "content" => {
                seen[0] = true;
                content.refill(r)
            }
            "refusal" => {
                seen[1] = true;
                refusal.refill(r)
            }
            _ => push_extra(&mut extra.0, key, r),
        })?;
        unless_seen(seen[0], content);
        unless_seen(seen[1], refusal);
        Ok(())
    }
}

impl<'a> Refill<'a> for LogProbContent<'static> {
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        let LogProbContent {
            token,
            logprob,
            bytes,
            top_logprobs,
            extra,
        } = self;
        let mut seen = [false; 4];
        extra.0.clear();
        r.object(|r, key| match key.as_str() {
            "token" => {
                seen[0] = true;
                token.refill(r)
            }
            "logprob" => {
                seen[1] = true;
                logprob.refill(r)
            }
            "bytes" => {
                seen[2] = true;
                bytes.refill(r)
            }
            "top_logprobs" => {
                seen[3] = true;
                top_logprobs.refill(r)
            }
            _ => push_extra(&mut extra.0, key, r),
        })?;
        unless_seen(seen[0], token);
        unless_seen(seen[1], logprob);
        unless_seen(seen[2], bytes);
        unless_seen(seen[3], top_logprobs);
        Ok(())
    }
}

impl<'a> Refill<'a> for TopLogProb<'static> {
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        let TopLogProb {
            token,
            logprob,
            bytes,
            extra,
        } = self;
        let mut seen = [false; 3];
        extra.0.clear();
        r.object(|r, key| match key.as_str() {
            "token" => {
                seen[0] = true;
                token.refill(r)
            }
            "logprob" => {
                seen[1] = true;
                logprob.refill(r)
            }
            "bytes" => {
                seen[2] = true;
                bytes.refill(r)
            }
            _ => push_extra(&mut extra.0, key, r),
        })?;
        unless_seen(seen[0], token);
        unless_seen(seen[1], logprob);
        unless_seen(seen[2], bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::fast::parse_document;

    /// Refilling each value over each other gives what parsing it afresh gives.
    #[test]
    fn refilling_equals_a_fresh_parse() {
        let values = [
            r#"{"content":[{"token":"a","logprob":-1.5,"bytes":[97],"top_logprobs":[{"token":"a","logprob":-1.5,"bytes":[97]},{"token":"b","logprob":-2,"bytes":[98]}]}],"refusal":null}"#,
            r#"{"content":[{"token":"x\"y","logprob":-0.25e-3,"bytes":null,"top_logprobs":[]},{"token":"z","logprob":0,"bytes":[1,2,3,-4],"top_logprobs":[{"token":"q","logprob":-9.875,"bytes":[],"n":1}],"k":"v"}],"e":[1,{"f":null}]}"#,
            r#"{"refusal":[{"token":"no"}]}"#,
            r#"{"content":null,"content":[{"top_logprobs":[{"bytes":[5]}],"top_logprobs":[{"logprob":-1}],"token":"t","token":"u"}]}"#,
            r#"{}"#,
        ];
        let fresh = |json: &str| -> Field<Box<LogProbs<'static>>> {
            parse_document::<Field<Box<LogProbs>>>(json.as_bytes())
                .unwrap()
                .into_owned()
        };
        for before in values.iter().chain(["null"].iter()) {
            for after in values.iter().chain(["null"].iter()) {
                let mut slot = fresh(before);
                slot.refill(&mut Reader::new(after.as_bytes())).unwrap();
                assert_eq!(slot, fresh(after), "{before} then {after}");
            }
        }
    }

    #[test]
    fn what_the_parser_rejects_refill_rejects() {
        let good = r#"{"content":[{"token":"a","logprob":-1.5,"bytes":[97],"top_logprobs":[]}]}"#;
        for bad in [
            good.replace("-1.5", "\"-1.5\""),
            good.replace("[97]", "[97.5]"),
            good.replace("[97]", "[\"a\"]"),
            good.replace("\"a\"", "1"),
            good.replace("-1.5", "1e999"),
            good.replace("[]", "{}"),
            good.replace("\"a\"", "\"a\\x\""),
            good.replace("}]}", "}]"),
        ] {
            let mut slot: Field<Box<LogProbs<'static>>> = Field::Absent;
            let refilled = slot.refill(&mut Reader::new(bad.as_bytes()));
            let parsed = parse_document::<Field<Box<LogProbs>>>(bad.as_bytes());
            assert_eq!(refilled.is_err(), parsed.is_err(), "{bad}");
        }
    }
}
