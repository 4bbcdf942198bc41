//! A JSON tree that borrows from the text it was read from, for readers that build the model
//! without a `serde_json::Value` in between (the validator's one-pass JSON reader).
//!
//! Why here, beside the model reader: the tree is one of the two [`JsonView`]s the reader
//! serves, and the reader's property tests hold the two to each other.

use std::borrow::Cow;

use serde_json::{Number, Value};

use super::JsonView;

/// A JSON value as a file reader builds it: a string without escapes borrowed from the text,
/// an object as its members in the order written. Lighter to build and to drop than
/// serde_json's `Value` (no map, no copy of each string): the validator reads a plain
/// task-definition file into this tree and the model from it, through [`JsonView`].
#[derive(Debug, Clone, PartialEq)]
pub enum JsonNode<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<JsonNode<'a>>),
    Object(Vec<(Cow<'a, str>, JsonNode<'a>)>),
}

impl JsonNode<'_> {
    /// The value serde_json reads from the same text (of a repeated key, the last value).
    pub fn into_value(self) -> Value {
        match self {
            JsonNode::Null => Value::Null,
            JsonNode::Bool(b) => Value::Bool(b),
            JsonNode::Number(n) => Value::Number(n),
            JsonNode::String(s) => Value::String(s.into_owned()),
            JsonNode::Array(items) => {
                Value::Array(items.into_iter().map(JsonNode::into_value).collect())
            }
            JsonNode::Object(members) => {
                let mut map = serde_json::Map::new();
                for (key, value) in members {
                    map.insert(key.into_owned(), value.into_value());
                }
                Value::Object(map)
            }
        }
    }
}

/// What the model reader asks of a value. A tree with a repeated key must not be read through
/// this (serde_json's map would hold one member where the tree holds two): its reader checks.
impl JsonView for JsonNode<'_> {
    fn is_null(&self) -> bool {
        matches!(self, JsonNode::Null)
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            JsonNode::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&Number> {
        match self {
            JsonNode::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            JsonNode::String(s) => Some(s),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Self]> {
        match self {
            JsonNode::Array(items) => Some(items),
            _ => None,
        }
    }

    fn members(&self) -> Option<impl Iterator<Item = (&str, &Self)>> {
        match self {
            JsonNode::Object(members) => Some(members.iter().map(|(k, v)| (k.as_ref(), v))),
            _ => None,
        }
    }

    fn object_len(&self) -> Option<usize> {
        match self {
            JsonNode::Object(members) => Some(members.len()),
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            // The last of a repeated key, as serde_json keeps (a sure tree has none).
            JsonNode::Object(members) => {
                members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    fn to_value(&self) -> Value {
        self.clone().into_value()
    }
}
