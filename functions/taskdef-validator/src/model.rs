//! The task definition as the rules read it: typed, camelCase, tolerant.
//!
//! Unknown fields are ignored (ECS adds fields every year). CloudFormation intrinsic functions
//! may stand wherever a string, a flag or a list item is expected; they are kept as
//! [`Text::Unresolved`] / skipped list items rather than failing the parse, because a template
//! is validated before CloudFormation resolves it. List items keep their index so findings
//! point at the right element.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::input::is_intrinsic;

/// A string field: a literal, or an expression left for CloudFormation to resolve.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Literal(String),
    Unresolved(Value),
}

impl Text {
    pub fn literal(&self) -> Option<&str> {
        match self {
            Text::Literal(s) => Some(s),
            Text::Unresolved(_) => None,
        }
    }

    /// Every string inside, literal or within an intrinsic function (`Fn::Sub` templates,
    /// `Fn::Join` parts).
    pub fn strings(&self) -> Vec<&str> {
        fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                Value::Object(m) => m.values().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        match self {
            Text::Literal(s) => vec![s.as_str()],
            Text::Unresolved(v) => {
                let mut out = Vec::new();
                walk(v, &mut out);
                out
            }
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Text::Literal(s)),
            // Templates write `Value: 8080`; ECS would have the string.
            Value::Number(n) => Ok(Text::Literal(n.to_string())),
            Value::Bool(b) => Ok(Text::Literal(b.to_string())),
            v if is_intrinsic(&v) => Ok(Text::Unresolved(v)),
            v => Err(de::Error::custom(format!(
                "expected a string, found {}",
                crate::input::kind(&v)
            ))),
        }
    }
}

/// A boolean field: `true`/`false` (or their strings), or unresolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Literal(bool),
    Unresolved,
}

impl Flag {
    pub fn is_true(self) -> bool {
        self == Flag::Literal(true)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Flag::Literal(b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Flag::Literal(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Flag::Literal(false)),
            v if is_intrinsic(&v) => Ok(Flag::Unresolved),
            v => Err(de::Error::custom(format!(
                "expected true or false, found {}",
                crate::input::kind(&v)
            ))),
        }
    }
}

/// A list whose items keep their index; intrinsic items (`!If`, `!Ref AWS::NoValue`) and an
/// intrinsic in place of the whole list are skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Many<T>(pub Vec<(usize, T)>);

impl<T> Default for Many<T> {
    fn default() -> Self {
        Many(Vec::new())
    }
}

impl<T> Many<T> {
    pub fn iter(&self) -> impl Iterator<Item = &(usize, T)> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

enum Item<T> {
    Known(T),
    Unresolved,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if is_intrinsic(&v) {
            return Ok(Item::Unresolved);
        }
        // A fresh path tracker: the outer one stops at the list index.
        serde_path_to_error::deserialize(v)
            .map(Item::Known)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                de::Error::custom(if path == "." {
                    inner
                } else {
                    format!("{path}: {inner}")
                })
            })
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Many<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Many<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Many<T>, A::Error> {
                let mut out = Vec::new();
                let mut index = 0;
                while let Some(item) = seq.next_element::<Item<T>>()? {
                    if let Item::Known(t) = item {
                        out.push((index, t));
                    }
                    index += 1;
                }
                Ok(Many(out))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Many<T>, A::Error> {
                // An intrinsic function in place of the list: nothing to check statically.
                while map.next_entry::<String, de::IgnoredAny>()?.is_some() {}
                Ok(Many(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Many<T>, E> {
                Ok(Many(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskDefinition {
    pub task_definition_arn: Option<Text>,
    pub family: Option<Text>,
    pub revision: Option<u64>,
    pub execution_role_arn: Option<Text>,
    pub task_role_arn: Option<Text>,
    pub network_mode: Option<Text>,
    pub requires_compatibilities: Many<Text>,
    pub runtime_platform: Option<RuntimePlatform>,
    pub container_definitions: Many<ContainerDefinition>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RuntimePlatform {
    pub operating_system_family: Option<Text>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerDefinition {
    pub name: Option<Text>,
    pub image: Option<Text>,
    pub environment: Many<KeyValue>,
    pub environment_files: Many<Value>,
    pub secrets: Many<Value>,
    pub command: Many<Text>,
    pub entry_point: Many<Text>,
    pub health_check: Option<HealthCheck>,
    pub docker_labels: Option<BTreeMap<String, Option<Text>>>,
    pub log_configuration: Option<LogConfiguration>,
    pub repository_credentials: Option<Value>,
    pub privileged: Option<Flag>,
    pub user: Option<Text>,
    pub readonly_root_filesystem: Option<Flag>,
}

impl ContainerDefinition {
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().and_then(Text::literal)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValue {
    pub name: Option<Text>,
    pub value: Option<Text>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthCheck {
    pub command: Many<Text>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogConfiguration {
    pub log_driver: Option<Text>,
    pub options: Option<BTreeMap<String, Option<Text>>>,
    pub secret_options: Many<Value>,
}

impl TaskDefinition {
    /// Reads the typed model from a normalised (camelCase) task definition; the error names
    /// the field (`containerDefinitions[0].environment[2].value: expected a string…`).
    pub fn from_value(v: &Value) -> Result<Self, String> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", without_values(&e.into_inner().to_string()))
        })
    }
}

/// serde quotes the offending string (`invalid type: string "DB_PASSWORD=…"`, escaped as Rust's
/// `Debug` does); the message must not, as the string may be a credential. Each quoted string —
/// to its real closing quote, past any escaped `\"` inside it — becomes `a string`.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("string \"") {
        out.push_str(&rest[..at]);
        out.push_str("a string");
        let after = &rest[at + "string \"".len()..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        // An unterminated quote: drop everything after it.
        rest = end.map_or("", |e| &after[e + 1..]);
    }
    out.push_str(rest);
    // serde names other scalars with their value too: integer `1`, floating point `1.5`,
    // boolean `true`. A number may be a PIN.
    for (kind, plain) in [
        ("integer `", "an integer"),
        ("floating point `", "a number"),
        ("boolean `", "a boolean"),
    ] {
        while let Some(at) = out.find(kind) {
            let after = at + kind.len();
            let end = out[after..].find('`').map_or(out.len(), |e| after + e + 1);
            out.replace_range(at..end, plain);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_messages_drop_quoted_values() {
        assert_eq!(
            super::without_values(r#"invalid type: string "A=Xk9#mP2v", expected a list"#),
            "invalid type: a string, expected a list"
        );
        // A value with an embedded `", ` (escaped by serde) is dropped whole.
        let message = format!(
            "invalid type: string {:?}, expected a list",
            "Xk9#mP2v\", tail-of-the-secret"
        );
        assert_eq!(
            super::without_values(&message),
            "invalid type: a string, expected a list"
        );
        let message = format!("invalid value: string {:?}", "ends with a backslash\\");
        assert_eq!(super::without_values(&message), "invalid value: a string");
        assert_eq!(super::without_values("string \"unterminated"), "a string");
        assert_eq!(
            super::without_values("invalid type: integer `482913`, expected a string or a map"),
            "invalid type: an integer, expected a string or a map"
        );
        assert_eq!(
            super::without_values("floating point `1.5` and boolean `true`"),
            "a number and a boolean"
        );
        let v = serde_json::json!({"containerDefinitions": [{"environment": [{"name": "X", "value": ["Xk9#mP2vL7qR"]}]}]});
        let e = super::TaskDefinition::from_value(&v).unwrap_err();
        assert!(
            e.contains("environment[0]: value") && !e.contains("Xk9#"),
            "{e}"
        );
        let v = serde_json::json!({"containerDefinitions": [{"environment": "DB_PASSWORD=Xk9#mP2vL7qR"}]});
        let e = super::TaskDefinition::from_value(&v).unwrap_err();
        assert!(
            e.contains("containerDefinitions[0]: environment") && !e.contains("Xk9#"),
            "{e}"
        );
    }
}
