//! Errors that say where: line, column, byte offset and JSON path.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub column: u64,
    /// 0-based byte offset.
    pub offset: u64,
}

impl Position {
    /// The position of byte `offset` in `input`.
    pub fn at(input: &[u8], offset: usize) -> Position {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
        // Count characters, not bytes: every byte but UTF-8 continuation bytes starts one.
        let column = before[line_start..]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count() as u64
            + 1;
        Position {
            line,
            column,
            offset: offset as u64,
        }
    }

    /// This position seen from a document that starts at `base` inside a larger one.
    pub fn within(self, base: Position) -> Position {
        Position {
            line: base.line + self.line - 1,
            column: if self.line == 1 {
                base.column + self.column - 1
            } else {
                self.column
            },
            offset: base.offset + self.offset,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// None when the input was not text (a Python dict, say).
    pub position: Option<Position>,
    /// JSON path of the value at fault, `$` for the document itself.
    pub path: String,
}

impl ParseError {
    pub fn new(
        message: impl Into<String>,
        position: Option<Position>,
        path: impl Into<String>,
    ) -> Self {
        ParseError {
            message: message.into(),
            position,
            path: path.into(),
        }
    }

    /// The error as seen from a document starting at `base` inside a larger input.
    pub fn within(mut self, base: Position) -> Self {
        self.position = self.position.map(|p| p.within(base));
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(p) = self.position {
            write!(
                f,
                " at line {} column {} (byte {})",
                p.line, p.column, p.offset
            )?;
        }
        write!(f, ", path {}", self.path)
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_lines_and_characters() {
        let input = "{\n  \"é\": x}".as_bytes();
        let offset = input.iter().position(|&b| b == b'x').unwrap();
        let p = Position::at(input, offset);
        assert_eq!((p.line, p.column, p.offset), (2, 8, offset as u64));
    }

    #[test]
    fn within_shifts_first_line_only_by_column() {
        let base = Position {
            line: 10,
            column: 7,
            offset: 100,
        };
        let first = Position {
            line: 1,
            column: 3,
            offset: 2,
        };
        let later = Position {
            line: 2,
            column: 3,
            offset: 9,
        };
        assert_eq!(
            first.within(base),
            Position {
                line: 10,
                column: 9,
                offset: 102
            }
        );
        assert_eq!(
            later.within(base),
            Position {
                line: 11,
                column: 3,
                offset: 109
            }
        );
    }
}
