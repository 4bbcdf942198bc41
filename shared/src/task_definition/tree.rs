//! A JSON document that borrows from the text it was read from, for readers that build the
//! model without a `serde_json::Value` in between (the validator's one-pass JSON reader).
//!
//! Why a tape rather than a tree: a tree gives each object and list its own allocation, and a
//! task definition is mostly small objects (`{"name": …, "value": …}`). Building, moving and
//! dropping those lists was a twentieth of a scan at estate scale; a tape is one list for the whole
//! document, every value in the order written, each object and list followed by its contents.
//!
//! Why here, beside the model reader: the tape is one of the two [`JsonView`]s the reader
//! serves, and the reader's property tests hold the two to each other.

use std::borrow::Cow;

use serde_json::{Number, Value};

use super::JsonView;

/// One entry of a [`JsonTape`]. An object is followed by its members, each a [`TapeNode::Key`]
/// and then the key's value; a list by its items. `end` is the index just past the last entry
/// of the object's or list's contents, `len` the number of its members or items.
#[derive(Debug, Clone, PartialEq)]
pub enum TapeNode<'a> {
    Null,
    Bool(bool),
    Number(Number),
    /// A string without escapes is borrowed from the text.
    String(Cow<'a, str>),
    Array {
        len: u32,
        end: u32,
    },
    Object {
        len: u32,
        end: u32,
    },
    Key(Cow<'a, str>),
}

/// A JSON document as a file reader builds it: its values in the order written, strings
/// without escapes borrowed from the text (lighter to build and to drop than serde_json's
/// `Value`: no map, no list per object, no copy of each string). The validator reads a plain
/// task-definition file into this and the model from it, through [`JsonView`] ([`JsonRef`]).
///
/// The builder ([`JsonTape::push`], [`JsonTape::close`]) is trusted to write the shape above;
/// a tape that breaks it (an `end` out of range, a member without its key) reads as less than
/// was written — never as a panic or a loop (every read is checked and moves forward).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonTape<'a> {
    nodes: Vec<TapeNode<'a>>,
}

impl<'a> JsonTape<'a> {
    /// An empty tape with room for `values` entries.
    pub fn with_capacity(values: usize) -> Self {
        JsonTape {
            nodes: Vec::with_capacity(values),
        }
    }

    /// Adds an entry; returns its index (for [`JsonTape::close`], when it opens an object or
    /// a list).
    pub fn push(&mut self, node: TapeNode<'a>) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Ends the object or list opened at `at` here, with `len` members or items.
    pub fn close(&mut self, at: usize, len: usize) {
        let end = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        if let Some(TapeNode::Array { len: l, end: e } | TapeNode::Object { len: l, end: e }) =
            self.nodes.get_mut(at)
        {
            (*l, *e) = (len, end);
        }
    }

    /// The entry at `at`.
    pub fn node(&self, at: usize) -> Option<&TapeNode<'a>> {
        self.nodes.get(at)
    }

    /// The document's value (the first entry), or `None` for an empty tape.
    pub fn root(&self) -> Option<JsonRef<'_, 'a>> {
        (!self.nodes.is_empty()).then_some(JsonRef {
            tape: &self.nodes,
            at: 0,
        })
    }

    /// The value serde_json reads from the same text (of a repeated key, the last value).
    pub fn to_value(&self) -> Value {
        self.root().map_or(Value::Null, JsonView::to_value)
    }
}

/// One value of a [`JsonTape`]: what the model reader reads through [`JsonView`].
#[derive(Debug, Clone, Copy)]
pub struct JsonRef<'t, 'a> {
    tape: &'t [TapeNode<'a>],
    at: usize,
}

/// The same value of the same tape.
impl PartialEq for JsonRef<'_, '_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.tape, other.tape) && self.at == other.at
    }
}

impl<'t, 'a> JsonRef<'t, 'a> {
    fn node(self) -> Option<&'t TapeNode<'a>> {
        self.tape.get(self.at)
    }

    /// The index just past this value and its contents.
    fn next(self) -> usize {
        match self.node() {
            Some(TapeNode::Array { end, .. } | TapeNode::Object { end, .. }) => {
                // Forward, whatever the tape says.
                (*end as usize).max(self.at + 1)
            }
            _ => self.at + 1,
        }
    }

    /// The contents of an object or list: (index of the first entry, index past the last, count).
    fn contents(self, object: bool) -> Option<(usize, usize, usize)> {
        match (self.node()?, object) {
            (TapeNode::Array { len, end }, false) | (TapeNode::Object { len, end }, true) => {
                Some((
                    self.at + 1,
                    (*end as usize).min(self.tape.len()),
                    *len as usize,
                ))
            }
            _ => None,
        }
    }
}

/// A list's items, in order.
struct Items<'t, 'a> {
    tape: &'t [TapeNode<'a>],
    at: usize,
    end: usize,
    left: usize,
}

impl<'t, 'a> Iterator for Items<'t, 'a> {
    type Item = JsonRef<'t, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.end || self.left == 0 {
            return None;
        }
        let item = JsonRef {
            tape: self.tape,
            at: self.at,
        };
        self.at = item.next();
        self.left -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// An object's members, in the order written.
struct Members<'t, 'a> {
    tape: &'t [TapeNode<'a>],
    at: usize,
    end: usize,
}

impl<'t, 'a> Iterator for Members<'t, 'a> {
    type Item = (&'t str, JsonRef<'t, 'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.end {
            return None;
        }
        let Some(TapeNode::Key(key)) = self.tape.get(self.at) else {
            self.at = self.end;
            return None;
        };
        let value = JsonRef {
            tape: self.tape,
            at: self.at + 1,
        };
        if value.at >= self.end {
            self.at = self.end;
            return None;
        }
        self.at = value.next();
        Some((key, value))
    }
}

/// What the model reader asks of a value. A tape with a repeated key must not be read through
/// this (serde_json's map would hold one member where the tape holds two): its reader checks.
impl<'t, 'a> JsonView<'t> for JsonRef<'t, 'a> {
    fn is_null(self) -> bool {
        matches!(self.node(), Some(TapeNode::Null))
    }

    fn as_bool(self) -> Option<bool> {
        match self.node()? {
            TapeNode::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn as_number(self) -> Option<&'t Number> {
        match self.node()? {
            TapeNode::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_str(self) -> Option<&'t str> {
        match self.node()? {
            TapeNode::String(s) => Some(s),
            _ => None,
        }
    }

    fn items(self) -> Option<impl Iterator<Item = Self>> {
        let (at, end, left) = self.contents(false)?;
        Some(Items {
            tape: self.tape,
            at,
            end,
            left,
        })
    }

    fn items_len(self) -> Option<usize> {
        self.contents(false).map(|(_, _, len)| len)
    }

    fn members(self) -> Option<impl Iterator<Item = (&'t str, Self)>> {
        let (at, end, _) = self.contents(true)?;
        Some(Members {
            tape: self.tape,
            at,
            end,
        })
    }

    fn object_len(self) -> Option<usize> {
        self.contents(true).map(|(_, _, len)| len)
    }

    fn get(self, key: &str) -> Option<Self> {
        // The last of a repeated key, as serde_json keeps (a sure tape has none).
        self.members()?
            .filter(|(k, _)| *k == key)
            .last()
            .map(|(_, v)| v)
    }

    fn to_value(self) -> Value {
        match self.node() {
            None | Some(TapeNode::Null | TapeNode::Key(_)) => Value::Null,
            Some(TapeNode::Bool(b)) => Value::Bool(*b),
            Some(TapeNode::Number(n)) => Value::Number(n.clone()),
            Some(TapeNode::String(s)) => Value::String(s.clone().into_owned()),
            Some(TapeNode::Array { .. }) => Value::Array(
                self.items()
                    .into_iter()
                    .flatten()
                    .map(JsonView::to_value)
                    .collect(),
            ),
            Some(TapeNode::Object { .. }) => {
                let mut map = serde_json::Map::new();
                for (key, value) in self.members().into_iter().flatten() {
                    map.insert(key.to_owned(), value.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_tape_reads_as_less_never_as_a_panic() {
        // An object whose end runs past the tape, a member without its key, a list that says
        // it holds more than it does.
        let mut tape = JsonTape::default();
        let o = tape.push(TapeNode::Object { len: 0, end: 0 });
        tape.push(TapeNode::Key("a".into()));
        tape.push(TapeNode::Bool(true));
        tape.push(TapeNode::Null);
        tape.close(o, 2);
        if let Some(TapeNode::Object { end, .. }) = tape.nodes.get_mut(o) {
            *end = 99;
        }
        let root = tape.root().unwrap();
        let members: Vec<_> = root.members().unwrap().map(|(k, _)| k).collect();
        assert_eq!(members, ["a"]);
        assert_eq!(root.get("a").and_then(JsonView::as_bool), Some(true));
        let mut list = JsonTape::default();
        let l = list.push(TapeNode::Array { len: 0, end: 0 });
        list.push(TapeNode::Bool(false));
        list.close(l, 5);
        assert_eq!(list.root().unwrap().items().unwrap().count(), 1);
        // An end before the entry itself still moves forward.
        let mut back = JsonTape::default();
        let a = back.push(TapeNode::Array { len: 1, end: 0 });
        back.push(TapeNode::Array { len: 0, end: 0 });
        back.close(a, 1);
        if let Some(TapeNode::Array { end, .. }) = back.nodes.get_mut(1) {
            *end = 0;
        }
        assert_eq!(back.to_value(), serde_json::json!([[]]));
        assert_eq!(JsonTape::default().to_value(), Value::Null);
    }
}
