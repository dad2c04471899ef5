//! The one error type of the `odp` text parsers.
//!
//! A [`ParseError`] says where (line, 1-based byte column, 0-based byte
//! offset), in what (the key attribute, action or stats field being read, and
//! the field inside it) and what was expected.  It never allocates: every
//! name it carries is a `&'static str` from the grammar, never a copy of the
//! input.
use core::fmt;

/// Where in the grammar the parser was when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Context {
    /// Between items (top level of a key, an action list or a dump line).
    Top,
    /// Inside a key attribute such as `ipv4(...)`.
    Key(&'static str),
    /// After the named field of a key attribute (`ipv4` field `dst`).
    KeyField(&'static str, &'static str),
    /// Inside an action such as `ct(...)`.
    Action(&'static str),
    /// After the named field of an action (`ct` field `zone`).
    ActionField(&'static str, &'static str),
    /// In the statistics part of a dump line (`packets`, `used`, ...).
    Stats(&'static str),
    /// In a `dump-conntrack` line, at the named field.
    Conntrack(&'static str),
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input did not continue the way the grammar requires.
    Expected(&'static str),
    /// A name that is not a known key attribute.
    UnknownKey,
    /// A name that is not a known action.
    UnknownAction,
    /// A field name that the attribute or action does not have.
    UnknownField,
    /// A number too large for the field (`vid=4096`, a port above 65535,
    /// an IPv4 octet of 256); the largest allowed value is given.
    OutOfRange { max: u64 },
    /// A value of the right syntax that OVS rejects (`frag=maybe`, both
    /// `commit` and `force_commit`, a NAT range whose end is below its start).
    Invalid(&'static str),
    /// Nesting (`encap`, `clone`, `sample`, ...) deeper than OVS allows.
    TooDeep,
}

/// A parse failure with its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    /// 1-based line number (1 for single-line parsers).
    pub line: usize,
    /// 1-based column, counted in bytes.
    pub column: usize,
    /// 0-based byte offset in the line.
    pub offset: usize,
    /// The grammar element being read.
    pub context: Context,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn new(offset: usize, context: Context, kind: ErrorKind) -> Self {
        ParseError {
            line: 1,
            column: offset + 1,
            offset,
            context,
            kind,
        }
    }

    /// The same error, reported at line `line`.
    #[must_use]
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Context::Top => Ok(()),
            Context::Key(a) => write!(f, " in key {a}"),
            Context::KeyField(a, fl) => write!(f, " after {a} field '{fl}'"),
            Context::Action(a) => write!(f, " in action {a}"),
            Context::ActionField(a, fl) => write!(f, " after {a} field '{fl}'"),
            Context::Stats(s) => write!(f, " in flow statistics field '{s}'"),
            Context::Conntrack(s) => write!(f, " in conntrack field '{s}'"),
        }
    }
}

impl ParseError {
    /// What went wrong, without the trailing ` at LINE:COLUMN` (for tools
    /// that print `FILE:LINE:COLUMN: message` themselves).
    pub fn message(&self) -> impl fmt::Display + '_ {
        Message(self)
    }
}

struct Message<'a>(&'a ParseError);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_message(f)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_message(f)?;
        write!(f, " at {}:{}", self.line, self.column)
    }
}

impl ParseError {
    fn write_message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Field errors read better with "for" than "after".
        let ctx_for = |f: &mut fmt::Formatter<'_>| match self.context {
            Context::KeyField(a, fl) | Context::ActionField(a, fl) => {
                write!(f, " for {a} field '{fl}'")
            }
            other => write!(f, "{other}"),
        };
        match self.kind {
            ErrorKind::Expected(what) => {
                write!(f, "expected {what}")?;
                write!(f, "{}", self.context)?;
            }
            ErrorKind::UnknownKey => f.write_str("unknown key attribute")?,
            ErrorKind::UnknownAction => f.write_str("unknown action")?,
            ErrorKind::UnknownField => {
                f.write_str("unknown field")?;
                write!(f, "{}", self.context)?;
            }
            ErrorKind::OutOfRange { max } => {
                write!(f, "value out of range (max {max})")?;
                ctx_for(f)?;
            }
            ErrorKind::Invalid(what) => {
                write!(f, "invalid {what}")?;
                ctx_for(f)?;
            }
            ErrorKind::TooDeep => f.write_str("nesting too deep")?,
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_field_and_position() {
        let e = ParseError::new(
            86,
            Context::KeyField("ipv4", "dst"),
            ErrorKind::Expected("',' or ')'"),
        );
        assert_eq!(
            e.to_string(),
            "expected ',' or ')' after ipv4 field 'dst' at 1:87"
        );
        let e = ParseError::new(
            10,
            Context::KeyField("vlan", "vid"),
            ErrorKind::OutOfRange { max: 4095 },
        )
        .at_line(3);
        assert_eq!(
            e.to_string(),
            "value out of range (max 4095) for vlan field 'vid' at 3:11"
        );
    }
}
