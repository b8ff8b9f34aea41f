//! A function name and its arguments, merged from fragments: `tool_calls[].function` and the
//! legacy `function_call` share this.

use super::extra::LastWins;
use super::text;
use crate::model::{Arguments, Field, FunctionDelta, Text};

#[derive(Debug, Clone, Default)]
pub(crate) struct FunctionState {
    /// First non-empty name: servers that repeat the name on every fragment (MiniMax,
    /// Fireworks) must not produce `read_fileread_file`.
    name: Option<String>,
    /// Fragments concatenated; object-valued fragments (Ollama) arrive as compact JSON text.
    arguments: Option<String>,
    extra: LastWins,
}

impl FunctionState {
    #[inline]
    pub(crate) fn add(&mut self, delta: &FunctionDelta<'_>) {
        text::set_once(&mut self.name, &delta.name);
        if let Field::Value(arguments) = &delta.arguments {
            let fragment = arguments.text.as_str();
            match &mut self.arguments {
                Some(buffer) => buffer.push_str(fragment),
                None => {
                    let mut buffer = String::with_capacity(fragment.len().max(64));
                    buffer.push_str(fragment);
                    self.arguments = Some(buffer);
                }
            }
        }
        if !delta.extra.is_empty() {
            self.extra.merge(&delta.extra, &[]);
        }
    }

    /// The state as one fragment that has the same effect on any function state (a partial
    /// state's snapshot): `arguments` absent when no fragment arrived.
    pub(crate) fn snapshot(&self) -> FunctionDelta<'static> {
        FunctionDelta {
            name: text::field(self.name.clone()),
            arguments: self.arguments.as_ref().map_or(Field::Absent, |a| {
                Field::Value(Arguments {
                    text: Text::from(a.clone()),
                    sent_as_json: None,
                })
            }),
            extra: self.extra.to_extra(),
        }
    }

    /// The merged function; `arguments` is `""` when no fragment arrived (it is a required
    /// string for openai), `name` absent when none was sent.
    pub(crate) fn into_delta(self) -> FunctionDelta<'static> {
        FunctionDelta {
            name: text::field(self.name),
            arguments: Field::Value(Arguments {
                text: Text::from(self.arguments.unwrap_or_default()),
                sent_as_json: None,
            }),
            extra: self.extra.into_extra(),
        }
    }
}
