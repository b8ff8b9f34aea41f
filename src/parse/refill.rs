//! Parsing a value over an owned one of the same shape, reusing its allocations.
//!
//! A chunk template fills the same log probabilities (and usage) slot with every chunk of a
//! stream: parsing afresh would allocate and free a dozen strings and vectors per chunk.
//! Refilling
//! ends in exactly the value `FastParse` followed by `into_owned` gives (keys not sent are
//! absent again, arrays truncated, extras replaced); only the spare capacity differs.
//! On `Reject` the value is left half written: the caller must not use it.

use std::borrow::Cow;

use crate::model::{
    is_strict, CompletionTokensDetails, Field, IntoOwned, JsonValue, LogProbContent, LogProbs,
    PromptTokensDetails, Text, TopLogProb, Usage,
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

impl<'a> Refill<'a> for u64 {
    #[inline]
    fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
        *self = FastParse::fast_parse(r)?;
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

/// `Refill` for a model object whose keys are its field names: each field refilled in
/// place, a field not sent absent again, unknown keys kept as `FastParse` keeps them. The
/// type is destructured in full, so a field added to it breaks the build here rather than
/// going unread. `#[lenient_only]` objects reject strict parsing, which demands keys this
/// does not track (the full parse does it); their contents are only reached through them.
macro_rules! refill_object {
    ($(#[$check:ident])? $name:ident { $($i:literal: $field:ident),+ $(,)? }) => {
        impl<'a> Refill<'a> for $name<'static> {
            fn refill(&mut self, r: &mut Reader<'a>) -> Result<()> {
                $(refill_object!(@$check);)?
                let $name { $($field,)+ extra } = self;
                let mut seen = [false; [$($i),+].len()];
                extra.0.clear();
                r.object(|r, key| match key.as_str() {
                    $(stringify!($field) => {
                        seen[$i] = true;
                        $field.refill(r)
                    })+
                    _ => push_extra(&mut extra.0, key, r),
                })?;
                $(unless_seen(seen[$i], $field);)+
                Ok(())
            }
        }
    };
    (@lenient_only) => {
        if is_strict() {
            return Err(Reject);
        }
    };
}

refill_object!(
    #[lenient_only]
    LogProbs {
        0: content,
        1: refusal
    }
);
refill_object!(LogProbContent {
    0: token,
    1: logprob,
    2: bytes,
    3: top_logprobs
});
refill_object!(
    #[lenient_only]
    Usage {
        0: prompt_tokens,
        1: completion_tokens,
        2: total_tokens,
        3: prompt_tokens_details,
        4: completion_tokens_details,
    }
);
refill_object!(PromptTokensDetails {
    0: cached_tokens,
    1: audio_tokens,
});
refill_object!(CompletionTokensDetails {
    0: reasoning_tokens,
    1: audio_tokens,
    2: accepted_prediction_tokens,
    3: rejected_prediction_tokens,
});
refill_object!(TopLogProb {
    0: token,
    1: logprob,
    2: bytes
});

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
    fn refilling_a_usage_report_equals_a_fresh_parse() {
        let values = [
            r#"{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}"#,
            r#"{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":1,"x":[1]},"cost":0.5}"#,
            r#"{"total_tokens":null,"prompt_tokens_details":null}"#,
            r#"{}"#,
            "null",
        ];
        let fresh = |json: &str| -> Field<Box<Usage<'static>>> {
            parse_document::<Field<Box<Usage>>>(json.as_bytes())
                .unwrap()
                .into_owned()
        };
        for before in values {
            for after in values {
                let mut slot = fresh(before);
                slot.refill(&mut Reader::new(after.as_bytes())).unwrap();
                assert_eq!(slot, fresh(after), "{before} then {after}");
            }
        }
        let mut slot = fresh(values[0]);
        assert!(slot
            .refill(&mut Reader::new(b"{\"total_tokens\":-1}"))
            .is_err());
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
