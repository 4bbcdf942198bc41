//! Terraform's forms of a task definition.
//!
//! Terraform's `aws_ecs_task_definition` takes `container_definitions` as a JSON *array* of
//! containers, usually from a file through `file()` or `templatefile()` (`containers.json`,
//! `containers.json.tpl`), or inline as `jsonencode([...])` or a heredoc in the `.tf` file.
//! Three readers, all keeping lines:
//!
//! - [`neutralise`] turns a `templatefile()` template into JSON with the same lines: an
//!   interpolation `${…}` where a value goes becomes an unresolved value (as a CloudFormation
//!   intrinsic is), one inside a string stays a `${…}` placeholder, and directives `%{ … }` are
//!   dropped with the commas they leave dangling. `$${` and `%%{` are Terraform's escapes.
//! - the array itself is read by [`crate::input`] (a document whose root is a list of
//!   containers);
//! - [`resources`] reads `aws_ecs_task_definition` blocks of a `.tf` file with `hcl-edit` (a
//!   maintained HCL parser that keeps spans): `jsonencode(<literal>)` is converted value by
//!   value, a heredoc is read as a template, and any expression that cannot be evaluated here
//!   (a variable, a function, a conditional) is unresolved — never a finding.

use std::cell::Cell;
use std::collections::HashMap;

use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::repr::Span;
use hcl_edit::structure::{Body, Structure};
use serde_json::{json, Map, Value};

use crate::input::error::InputError;

/// What an interpolation or an expression we cannot evaluate becomes: an unresolved value.
pub fn unresolved() -> Value {
    json!({"Fn::Terraform": "evaluated by Terraform"})
}

/// Does the text use Terraform template syntax?
pub fn is_template(text: &str) -> bool {
    text.contains("${") || text.contains("%{")
}

/// Finds the end of a `${…}` / `%{…}` sequence that starts at `start` (at the `$` or `%`):
/// the index just past its closing brace, braces and quoted strings inside counted.
fn sequence_end(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start + 1;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            match c {
                '\\' => i += 1,
                '"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                '"' => in_string = true,
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn line_col(chars: &[char], at: usize) -> (usize, usize) {
    let before = &chars[..at.min(chars.len())];
    let line = before.iter().filter(|&&c| c == '\n').count() + 1;
    let column = before.iter().rev().take_while(|&&c| c != '\n').count() + 1;
    (line, column)
}

/// Deepest `%{ if }` / `%{ for }` nesting [`branch`] follows; deeper, the template is read
/// as one (directives dropped).
const MAX_DIRECTIVE_NESTING: usize = 128;

/// The template with only one side of every `%{ if }` kept: `else_side` false keeps what
/// comes before each `%{ else }`, true what comes after (and drops an `if` without `else`).
/// The other side is blanked (spaces, newlines kept), so lines stay. `None` when the
/// template has no `%{ else }`: dropping the directives keeps both sides of nothing.
pub fn branch(text: &str, else_side: bool) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    // One entry per open `if` (true once its `else` is passed); `for` frames are `None`.
    let mut frames: Vec<Option<bool>> = Vec::new();
    // How many open `if` frames are on the other side than the one kept (0: keep this text).
    let mut other_side = 0usize;
    let mut saw_else = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if (c == '$' || c == '%') && next == Some(c) && chars.get(i + 2) == Some(&'{') {
            out.extend(&chars[i..i + 3]);
            i += 3;
            continue;
        }
        if (c == '$' || c == '%') && next == Some('{') {
            let end = sequence_end(&chars, i).unwrap_or(chars.len());
            if c == '%' {
                let body: String = chars[i + 2..end.saturating_sub(1).max(i + 2)]
                    .iter()
                    .collect();
                let keyword = body
                    .trim_matches(|c: char| c.is_whitespace() || c == '~')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                match keyword {
                    "if" | "for" if frames.len() >= MAX_DIRECTIVE_NESTING => return None,
                    "if" => {
                        frames.push(Some(false));
                        other_side += usize::from(else_side);
                    }
                    "for" => frames.push(None),
                    "else" => {
                        saw_else = true;
                        if let Some(Some(in_else)) = frames.last_mut() {
                            if !*in_else {
                                *in_else = true;
                                // The frame changes side.
                                if else_side {
                                    other_side -= 1;
                                } else {
                                    other_side += 1;
                                }
                            }
                        }
                    }
                    "endif" | "endfor" => {
                        if let Some(Some(in_else)) = frames.pop() {
                            other_side -= usize::from(in_else != else_side);
                        }
                    }
                    _ => {}
                }
            }
            let active = other_side == 0;
            for &ch in &chars[i..end] {
                out.push(if active || c == '%' || ch == '\n' {
                    ch
                } else {
                    ' '
                });
            }
            i = end;
            continue;
        }
        let active = other_side == 0;
        out.push(if active || c == '\n' { c } else { ' ' });
        i += 1;
    }
    saw_else.then_some(out)
}

/// A `templatefile()` template of JSON, as JSON with the same lines (see the module doc).
pub fn neutralise(text: &str) -> Result<String, InputError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    // Newlines removed from inside a string, put back after it ends.
    let mut deferred = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // Terraform's escapes: `$${` is a literal `${`, `%%{` a literal `%{`.
        if (c == '$' || c == '%') && next == Some(c) && chars.get(i + 2) == Some(&'{') {
            out.push(c);
            out.push('{');
            i += 3;
            continue;
        }
        if (c == '$' || c == '%') && next == Some('{') {
            let Some(end) = sequence_end(&chars, i) else {
                let (line, column) = line_col(&chars, i);
                return Err(InputError {
                    line,
                    column,
                    message: format!("template: `{c}{{` is never closed"),
                });
            };
            let newlines = chars[i..end].iter().filter(|&&c| c == '\n').count();
            match (c, in_string) {
                ('$', false) => {
                    let inner: String = chars[i + 2..end - 1].iter().collect();
                    out.push_str(&interpolation(&inner));
                }
                ('$', true) => out.push_str("${…}"),
                _ => {}
            }
            if in_string {
                deferred += newlines;
            } else {
                out.extend(std::iter::repeat_n('\n', newlines));
            }
            i = end;
            continue;
        }
        if in_string {
            match c {
                '\\' => {
                    out.push(c);
                    if let Some(n) = next {
                        out.push(n);
                    }
                    i += 2;
                    continue;
                }
                '"' => {
                    in_string = false;
                    out.push(c);
                    out.extend(std::iter::repeat_n('\n', deferred));
                    deferred = 0;
                }
                _ => out.push(c),
            }
        } else {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
        i += 1;
    }
    Ok(drop_dangling_commas(&out))
}

/// The JSON an interpolation where a value goes stands for: `${jsonencode(<literal>)}` (the
/// form Terraform's documentation recommends for JSON templates) as its value, read value by
/// value; anything else unresolved, carrying its text (a provider-format credential inside it
/// is still found).
fn interpolation(inner: &str) -> String {
    let expr = nesting_bounded(inner)
        .ok()
        .and_then(|()| hcl_edit::parser::parse_expr(inner.trim()).ok());
    if let Some(Expression::FuncCall(call)) = &expr {
        if call.name.name.as_str() == "jsonencode" && call.args.len() == 1 {
            let src = Source::new(inner.trim(), None);
            if let Some(arg) = call.args.iter().next() {
                let value = value_of(arg, "", &src, &mut Vec::new());
                return value.to_string();
            }
        }
    }
    let mut strings = Vec::new();
    if let Some(e) = &expr {
        literals(e, &mut strings, 0);
    }
    json!({ "Fn::Terraform": strings }).to_string()
}

/// Removes a comma followed only by whitespace and `]` or `}`, and one right after `[` or `{`
/// (what dropping a directive leaves), outside strings.
fn drop_dangling_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut last_significant: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(&n) = chars.get(i + 1) {
                        out.push(n);
                    }
                    i += 1;
                }
                '"' => {
                    in_string = false;
                    last_significant = Some('"');
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == ',' {
            let following = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            let dangling = matches!(following, Some(']' | '}' | ',') | None)
                || matches!(last_significant, Some('[' | '{' | ','));
            if dangling {
                i += 1;
                continue;
            }
        }
        if c == '"' {
            in_string = true;
        }
        if !c.is_whitespace() {
            last_significant = Some(c);
        }
        out.push(c);
        i += 1;
    }
    out
}

/// One `aws_ecs_task_definition` of a `.tf` file.
#[derive(Debug, Clone)]
pub struct Resource {
    /// `aws_ecs_task_definition.<name>`.
    pub label: String,
    /// 1-based line of the block.
    pub line: usize,
    /// The task definition (camelCase): `family`, `executionRoleArn`, … and
    /// `containerDefinitions` when it could be read.
    pub definition: Value,
    /// (pointer inside the container array, 1-based line) of every value read from HCL.
    pub lines: Vec<(String, usize)>,
    /// A heredoc's JSON (as read, interpolations neutralised) and the number of lines before
    /// it in the file: its values' lines are found by walking it.
    pub heredoc: Option<(String, usize)>,
}

/// Byte offset → 1-based line.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    fn of(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// Task-definition arguments of the resource besides `container_definitions`, camelCase.
const ARGUMENTS: &[(&str, &str)] = &[
    ("family", "family"),
    ("execution_role_arn", "executionRoleArn"),
    ("task_role_arn", "taskRoleArn"),
    ("network_mode", "networkMode"),
    ("requires_compatibilities", "requiresCompatibilities"),
];

/// Deepest bracket nesting a `.tf` file may have: the HCL parser recurses per level, so a
/// hostile file of a million `[` would exhaust the stack before it could say no.
const MAX_HCL_NESTING: usize = 128;

/// Counts `(`, `[`, `{` nesting outside double-quoted strings (heredocs and comments are
/// counted too: an over-estimate, never an under-estimate).
fn nesting_bounded(text: &str) -> Result<(), InputError> {
    let (mut depth, mut line, mut in_string, mut escaped) = (0usize, 1usize, false, false);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_HCL_NESTING {
                    return Err(InputError {
                        line,
                        column: 0,
                        message: format!("nested deeper than {MAX_HCL_NESTING} levels"),
                    });
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Reads the `aws_ecs_task_definition` resources of a `.tf` file.
pub fn resources(text: &str) -> Result<Vec<Resource>, InputError> {
    nesting_bounded(text)?;
    let body: Body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let location = e.location();
        InputError {
            line: location.line(),
            column: location.column(),
            message: format!("invalid HCL: {}", e.message()),
        }
    })?;
    let src = Source::new(text, Some(&body));
    let lines = &src.lines;
    let mut out = Vec::new();
    for structure in body.iter() {
        let Structure::Block(block) = structure else {
            continue;
        };
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        if block.ident.as_str() != "resource" || labels.first() != Some(&"aws_ecs_task_definition")
        {
            continue;
        }
        let name = labels.get(1).copied().unwrap_or("(unnamed)");
        let mut definition = Map::new();
        let mut value_lines = Vec::new();
        let mut heredoc = None;
        for inner in block.body.iter() {
            let Structure::Attribute(attribute) = inner else {
                continue;
            };
            let key = attribute.key.as_str();
            if key == "container_definitions" {
                let read = container_definitions(&attribute.value, &src)?;
                value_lines = read.lines;
                heredoc = read.heredoc;
                definition.insert("containerDefinitions".into(), read.value);
            } else if let Some((_, camel)) = ARGUMENTS.iter().find(|(k, _)| *k == key) {
                let mut ignored = Vec::new();
                definition.insert(
                    (*camel).into(),
                    value_of(&attribute.value, "", &src, &mut ignored),
                );
            }
        }
        out.push(Resource {
            label: format!("aws_ecs_task_definition.{name}"),
            line: block.span().map(|s| lines.of(s.start)).unwrap_or(0),
            definition: Value::Object(definition),
            lines: value_lines,
            heredoc,
        });
    }
    Ok(out)
}

/// What `container_definitions` holds, and where its values are.
struct Read {
    value: Value,
    lines: Vec<(String, usize)>,
    heredoc: Option<(String, usize)>,
}

impl Read {
    fn unresolved() -> Self {
        Read {
            value: unresolved(),
            lines: Vec::new(),
            heredoc: None,
        }
    }
}

/// `container_definitions = jsonencode([...])`, a heredoc, or anything else (unresolved).
fn container_definitions(expr: &Expression, src: &Source) -> Result<Read, InputError> {
    let (text, lines) = (src.text, &src.lines);
    match expr {
        Expression::FuncCall(call)
            if call.name.name.as_str() == "jsonencode" && call.args.len() == 1 =>
        {
            let mut out = Vec::new();
            let value = call
                .args
                .iter()
                .next()
                .map(|a| value_of(a, "", src, &mut out))
                .unwrap_or_else(unresolved);
            Ok(Read {
                value,
                lines: out,
                heredoc: None,
            })
        }
        // A quoted JSON string (`container_definitions = "[{\"name\": …}]"`).
        Expression::String(json) => {
            let offset = expr.span().map_or(0, |s| lines.of(s.start) - 1);
            let value: Value = serde_json::from_str(json.value()).map_err(|e| InputError {
                line: offset + 1,
                column: 0,
                message: format!(
                    "container_definitions: the string is not JSON: {}",
                    crate::input::error::strip_position(&e.to_string())
                ),
            })?;
            Ok(Read {
                value,
                lines: Vec::new(),
                heredoc: Some((json.value().clone(), offset)),
            })
        }
        Expression::HeredocTemplate(heredoc) => {
            let Some(span) = heredoc.span() else {
                return Ok(Read::unresolved());
            };
            let raw = &text[span.clone()];
            // The template starts on the line after `<<EOF` and ends before the delimiter.
            let Some(first_newline) = raw.find('\n') else {
                return Ok(Read::unresolved());
            };
            let inner_start = span.start + first_newline + 1;
            let inner_end = text[..span.end]
                .rfind('\n')
                .filter(|&i| i >= inner_start)
                .unwrap_or(inner_start);
            let inner = &text[inner_start..inner_end];
            let offset = lines.of(inner_start) - 1;
            let json = if is_template(inner) {
                neutralise(inner).map_err(|e| shifted(e, offset))?
            } else {
                inner.to_owned()
            };
            let value: Value = serde_json::from_str(&json).map_err(|e| InputError {
                line: e.line() + offset,
                column: e.column(),
                message: format!(
                    "container_definitions heredoc: invalid JSON: {}",
                    crate::input::error::strip_position(&e.to_string())
                ),
            })?;
            Ok(Read {
                value,
                lines: Vec::new(),
                heredoc: Some((json, offset)),
            })
        }
        other => Ok(Read {
            value: src.unresolved(other),
            lines: Vec::new(),
            heredoc: None,
        }),
    }
}

fn shifted(mut e: InputError, offset: usize) -> InputError {
    if e.line > 0 {
        e.line += offset;
    }
    e
}

/// An HCL expression as JSON, recording the line of each value under `pointer`. What cannot be
/// evaluated without Terraform is [`unresolved`]; a string template keeps its text with
/// `${…}` in place of each interpolation (a placeholder to the detector).
fn value_of(
    expr: &Expression,
    pointer: &str,
    src: &Source,
    out: &mut Vec<(String, usize)>,
) -> Value {
    if let Some(span) = expr.span() {
        out.push((pointer.to_owned(), src.lines.of(span.start)));
    }
    // Each value costs about what it takes in memory; a string its bytes too.
    let text_bytes = match expr {
        Expression::String(s) => s.value().len(),
        Expression::StringTemplate(_) | Expression::HeredocTemplate(_) => {
            expr.span().map_or(0, |s| s.len())
        }
        _ => 0,
    };
    src.built.set(src.built.get() + 64 + text_bytes);
    if src.built.get() > MAX_BUILT {
        return unresolved();
    }
    match expr {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => Value::Bool(*b.value()),
        Expression::Number(n) => serde_json::to_value(n.value().as_f64())
            .ok()
            .and_then(|v| {
                n.value()
                    .as_u64()
                    .map(Value::from)
                    .or(n.value().as_i64().map(Value::from))
                    .or(Some(v))
            })
            .unwrap_or(Value::Null),
        Expression::String(s) => Value::String(s.value().clone()),
        Expression::StringTemplate(t) => {
            let mut text = String::new();
            for element in t.iter() {
                match element {
                    hcl_edit::template::Element::Literal(l) => text.push_str(l.value()),
                    _ => text.push_str("${…}"),
                }
            }
            Value::String(text)
        }
        Expression::Array(array) => Value::Array(
            array
                .iter()
                .enumerate()
                .map(|(i, item)| value_of(item, &format!("{pointer}/{i}"), src, out))
                .collect(),
        ),
        Expression::Object(object) => {
            let mut map = Map::new();
            for (key, value) in object.iter() {
                let key = match key {
                    ObjectKey::Ident(ident) => ident.as_str().to_owned(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                    // A computed key: the whole object is Terraform's to evaluate.
                    ObjectKey::Expression(_) => return unresolved(),
                };
                let child = format!("{pointer}/{}", crate::input::lines::escape_pointer(&key));
                let v = value_of(value.expr(), &child, src, out);
                map.insert(key, v);
            }
            Value::Object(map)
        }
        Expression::Parenthesis(p) => value_of(p.inner(), pointer, src, out),
        // Functions that return their argument's value as far as a scanner cares.
        Expression::FuncCall(call)
            if call.args.len() == 1
                && matches!(
                    call.name.name.as_str(),
                    "sensitive" | "nonsensitive" | "tostring" | "trimspace"
                ) =>
        {
            match call.args.iter().next() {
                Some(arg) => value_of(arg, pointer, src, out),
                None => src.unresolved(expr),
            }
        }
        // `merge({…}, {…})` of literal objects: their union, later keys winning.
        Expression::FuncCall(call)
            if call.name.name.as_str() == "merge"
                && call.args.iter().all(|a| matches!(a, Expression::Object(_))) =>
        {
            let mut map = Map::new();
            for arg in call.args.iter() {
                if let Value::Object(m) = value_of(arg, pointer, src, out) {
                    map.extend(m);
                }
            }
            Value::Object(map)
        }
        // A heredoc string: its text, `${…}` kept as a placeholder.
        Expression::HeredocTemplate(h) => {
            let mut text = String::new();
            for element in h.template.iter() {
                match element {
                    hcl_edit::template::Element::Literal(l) => text.push_str(l.value()),
                    _ => text.push_str("${…}"),
                }
            }
            Value::String(text)
        }
        Expression::Traversal(_) => match src.lookup(expr) {
            Some(given) if src.depth.get() < 8 => {
                src.depth.set(src.depth.get() + 1);
                // The value's line is where it is used (recorded above), not where it is given.
                let v = value_of(given, pointer, src, &mut Vec::new());
                src.depth.set(src.depth.get() - 1);
                v
            }
            _ => src.unresolved(expr),
        },
        _ => src.unresolved(expr),
    }
}

/// The string literals written inside an expression Terraform evaluates (a conditional's
/// branches, a function's arguments, an object's values), never its syntax or comments: what a
/// scan of the unresolved value may look at.
fn literals(expr: &Expression, out: &mut Vec<String>, depth: usize) {
    if depth > 64 || out.len() > 1024 {
        return;
    }
    let mut go = |e: &Expression| literals(e, out, depth + 1);
    match expr {
        Expression::String(s) => out.push(s.value().clone()),
        Expression::StringTemplate(t) => {
            for element in t.iter() {
                if let hcl_edit::template::Element::Literal(l) = element {
                    out.push(l.value().clone());
                }
            }
        }
        Expression::Array(a) => a.iter().for_each(go),
        Expression::Object(o) => o.iter().for_each(|(_, v)| go(v.expr())),
        Expression::FuncCall(f) => f.args.iter().for_each(go),
        Expression::Conditional(c) => {
            go(&c.true_expr);
            go(&c.false_expr);
        }
        Expression::Parenthesis(p) => go(p.inner()),
        _ => {}
    }
}

/// The text of a `.tf` file, where its lines start, and the values the file itself gives
/// `var.NAME` (a `variable` block's `default`) and `local.NAME` (a `locals` block): a literal
/// there is committed as surely as one written in place.
struct Source<'a> {
    text: &'a str,
    lines: Lines,
    known: HashMap<String, Expression>,
    /// How deep a `var.`/`local.` lookup has gone (they may refer to each other, in a cycle).
    depth: Cell<u8>,
    /// Bytes of values built so far: lookups copy what they refer to, so a file of locals that
    /// each use the next (or a large string) several times would otherwise grow without bound.
    built: Cell<usize>,
}

/// Most bytes of values built from one `.tf` file (about 64 per value, plus their strings):
/// the input limit's worth.
const MAX_BUILT: usize = crate::input::error::MAX_INPUT_BYTES;

impl<'a> Source<'a> {
    fn new(text: &'a str, body: Option<&Body>) -> Self {
        let mut known = HashMap::new();
        for structure in body.into_iter().flat_map(|b| b.iter()) {
            let Structure::Block(block) = structure else {
                continue;
            };
            let attributes = || {
                block.body.iter().filter_map(|s| match s {
                    Structure::Attribute(a) => Some(a),
                    _ => None,
                })
            };
            match (block.ident.as_str(), block.labels.first()) {
                ("variable", Some(name)) => {
                    if let Some(default) = attributes().find(|a| a.key.as_str() == "default") {
                        known.insert(format!("var.{}", name.as_str()), default.value.clone());
                    }
                }
                ("locals", None) => {
                    for a in attributes() {
                        known.insert(format!("local.{}", a.key.as_str()), a.value.clone());
                    }
                }
                _ => {}
            }
        }
        Source {
            text,
            lines: Lines::new(text),
            known,
            depth: Cell::new(0),
            built: Cell::new(0),
        }
    }

    /// The expression the file gives `var.NAME` / `local.NAME`, if it gives one.
    fn lookup(&self, expr: &Expression) -> Option<&Expression> {
        let Expression::Traversal(t) = expr else {
            return None;
        };
        let (Expression::Variable(root), [op]) = (&t.expr, t.operators.as_slice()) else {
            return None;
        };
        let TraversalOperator::GetAttr(attr) = op.value() else {
            return None;
        };
        self.known
            .get(&format!("{}.{}", root.as_str(), attr.as_str()))
    }
}

impl Source<'_> {
    /// An expression evaluated only by Terraform: unresolved, carrying its source text, so
    /// that a provider-format credential written inside it (a conditional's branch, a
    /// function's argument) is still found.
    fn unresolved(&self, expr: &Expression) -> Value {
        let mut strings = Vec::new();
        literals(expr, &mut strings, 0);
        json!({ "Fn::Terraform": strings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_unresolved(v: &Value) -> bool {
        crate::input::is_intrinsic(v) && v.get("Fn::Terraform").is_some()
    }

    #[test]
    fn what_terraform_would_evaluate_is_read_where_it_can_be() {
        let template = r#"[{"name": "app", "image": "app:1",
  "environment": ${jsonencode([
    { name = "DB_PASSWORD", value = "Hunter22-prod!" },
    { name = "TOKEN", value = var.token }
  ])}
}]"#;
        let json = neutralise(template).unwrap();
        assert_eq!(json.lines().count(), template.lines().count(), "{json}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0]["environment"][0]["value"], "Hunter22-prod!");
        assert!(is_unresolved(&v[0]["environment"][1]["value"]));
        let tf = r#"
resource "aws_ecs_task_definition" "t" {
  family = "t"
  container_definitions = jsonencode([merge(local.base, {
    name = "app"
  }), merge({ name = "b" }, {
    environment = [
      { name = "DB_PASSWORD", value = sensitive("Hunter22-prod!") },
      { name = "STRIPE", value = var.env == "prod" ? "sk_live_4eC39HqLyjWDarjtT1zdp7dc" : "" },
    ]
  })])
}
resource "aws_ecs_task_definition" "q" {
  family = "q"
  container_definitions = "[{\"name\": \"q\", \"image\": \"q:1\", \"environment\": [{\"name\": \"K\", \"value\": \"v\"}]}]"
}
"#;
        let r = resources(tf).unwrap();
        let c = &r[0].definition["containerDefinitions"];
        assert!(is_unresolved(&c[0]), "merge with a reference: {c}");
        assert_eq!(c[1]["name"], "b");
        assert_eq!(c[1]["environment"][0]["value"], "Hunter22-prod!");
        let kept = c[1]["environment"][1]["value"]["Fn::Terraform"].to_string();
        assert!(
            kept.contains("sk_live_") && !kept.contains("var.env"),
            "the literals, and only they, are kept for the scan: {kept}"
        );
        assert_eq!(
            r[1].definition["containerDefinitions"][0]["environment"][0]["value"],
            "v"
        );
    }

    #[test]
    fn templates_become_json_with_the_same_lines() {
        let template = r#"[
  {
    "name": "${name}",
    "image": "${image}:${tag}",
    "memory": ${memory},
    "environment": [
      %{ for k, v in env ~}
      {"name": "${k}", "value": "${v}"},
      %{ endfor ~}
      {"name": "DB_PASSWORD", "value": "hunter22"}
    ],
    "secrets": ${jsonencode([
      for s in secrets : {name = s.name, valueFrom = s.arn}
    ])},
    "command": ["echo", "$${NOT_INTERPOLATED}", "%%{ literal }"]
  }
]"#;
        let json = neutralise(template).unwrap();
        assert_eq!(json.lines().count(), template.lines().count(), "{json}");
        let v: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
        let c = &v[0];
        assert_eq!(c["name"], "${…}");
        assert!(is_unresolved(&c["memory"]), "{}", c["memory"]);
        assert!(is_unresolved(&c["secrets"]), "{}", c["secrets"]);
        assert_eq!(c["environment"][0]["value"], "${…}");
        assert_eq!(c["environment"][1]["value"], "hunter22");
        assert_eq!(c["command"][1], "${NOT_INTERPOLATED}");
        assert_eq!(c["command"][2], "%{ literal }");
        let line_of = |needle: &str| json.lines().position(|l| l.contains(needle)).map(|i| i + 1);
        assert_eq!(line_of("hunter22"), Some(10));
        assert_eq!(line_of("\"command\""), Some(15));
    }

    #[test]
    fn each_side_of_an_if_is_kept_once() {
        let template = "[{\"name\": \"app\",\n  %{ if prod ~}\n  \"environment\": [{\"name\": \"A\", \"value\": \"1\"}],\n  %{ else ~}\n  \"environment\": [],\n  %{ endif ~}\n  \"image\": \"x\"}]";
        let then_side = neutralise(&branch(template, false).unwrap()).unwrap();
        let else_side = neutralise(&branch(template, true).unwrap()).unwrap();
        let (a, b): (Value, Value) = (
            serde_json::from_str(&then_side).unwrap(),
            serde_json::from_str(&else_side).unwrap(),
        );
        assert_eq!(a[0]["environment"][0]["value"], "1");
        assert_eq!(b[0]["environment"], json!([]));
        assert_eq!(then_side.lines().count(), template.lines().count());
        assert_eq!(else_side.lines().count(), template.lines().count());
        assert!(branch("[%{ for x in y }1,%{ endfor }]", false).is_none());
    }

    #[test]
    fn var_and_local_values_given_in_the_file_are_read() {
        let tf = r#"
variable "db_password" {
  type    = string
  default = "Hunter22-prod!"
}
variable "token" { type = string }
locals {
  mail = local.loop
  loop = local.mail
  env  = [{ name = "A", value = var.db_password }]
}
resource "aws_ecs_task_definition" "t" {
  family = "t"
  container_definitions = jsonencode([{
    name = "app", image = "app:1",
    environment = concat(local.env, [{ name = "B", value = var.db_password }, { name = "C", value = var.token }, { name = "D", value = local.mail }])
  }, { name = "b", image = "b:1", environment = local.env }])
}
"#;
        let r = resources(tf).unwrap();
        let c = &r[0].definition["containerDefinitions"];
        assert_eq!(c[1]["environment"][0]["value"], "Hunter22-prod!");
        // concat() is not evaluated: unresolved, with its text kept.
        assert!(is_unresolved(&c[0]["environment"]));
        let line = |p: &str| r[0].lines.iter().find(|(q, _)| q == p).map(|(_, l)| *l);
        assert_eq!(
            line("/1/environment"),
            Some(17),
            "the line where it is used"
        );
        // A cycle ends unresolved, without overflowing.
        let cyc = "locals {\n  a = local.b\n  b = local.a\n}\nresource \"aws_ecs_task_definition\" \"x\" {\n  container_definitions = jsonencode([{ name = \"x\", image = \"x\", environment = [{ name = \"P\", value = local.a }] }])\n}\n";
        let r = resources(cyc).unwrap();
        assert!(is_unresolved(
            &r[0].definition["containerDefinitions"][0]["environment"][0]["value"]
        ));
        // Locals that each use the next ten times: the copies stop at the node limit, quickly.
        let mut fan = String::from("locals {\n");
        for i in 0..8 {
            fan.push_str(&format!(
                "  l{i} = [{}]\n",
                vec![format!("local.l{}", i + 1); 10].join(", ")
            ));
        }
        fan.push_str("  l8 = \"x\"\n}\nresource \"aws_ecs_task_definition\" \"f\" {\n  container_definitions = jsonencode([{ name = \"f\", image = \"f\", command = local.l0 }])\n}\n");
        let started = std::time::Instant::now();
        assert!(resources(&fan).is_ok());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn hostile_templates_and_locals_stay_bounded() {
        let started = std::time::Instant::now();
        // Sixty thousand open `if`s: linear, and beyond the nesting limit read as one.
        let ifs = format!(
            "[{{\"name\": \"a\", \"image\": \"b\"}}]{}%{{ else }}",
            "%{if a}".repeat(60_000)
        );
        assert!(branch(&ifs, false).is_none());
        let _ = crate::input::parse(ifs.as_bytes());
        // A 1 MiB local used three hundred times: the copies stop at the byte budget.
        let tf = format!(
            "locals {{\n  big = \"{}\"\n  l = [{}]\n}}\nresource \"aws_ecs_task_definition\" \"m\" {{\n  container_definitions = jsonencode([{{ name = \"m\", image = \"m\", command = local.l }}])\n}}\n",
            "x".repeat(1 << 20),
            vec!["local.big"; 300].join(", ")
        );
        let r = resources(&tf).unwrap();
        let built = r[0].definition.to_string().len();
        assert!(
            built < 2 * crate::input::MAX_INPUT_BYTES,
            "{built} bytes built"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn broken_templates_say_where() {
        let e = neutralise("[\n  {\"name\": \"${oops\"}\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("never closed"), "{e}");
    }

    #[test]
    fn dangling_commas_go() {
        assert_eq!(drop_dangling_commas("[1, 2, ]"), "[1, 2 ]");
        assert_eq!(drop_dangling_commas("[ ,1]"), "[ 1]");
        assert_eq!(drop_dangling_commas(r#"{"a": ",]", }"#), r#"{"a": ",]" }"#);
        assert_eq!(drop_dangling_commas("[1,,2]"), "[1,2]");
    }

    #[test]
    fn tf_resources_with_jsonencode_and_heredoc() {
        let tf = r#"
variable "image" {}

resource "aws_ecs_task_definition" "api" {
  family                   = "api"
  execution_role_arn       = aws_iam_role.exec.arn
  requires_compatibilities = ["FARGATE"]
  container_definitions = jsonencode([
    {
      name  = "api"
      image = "${var.image}:1"
      environment = [
        { name = "DB_PASSWORD", value = "hunter22" },
        { name = "TOKEN", value = var.token },
      ]
      "secrets" = [{ name = "K", valueFrom = aws_secretsmanager_secret.k.arn }]
    }
  ])
}

resource "aws_ecs_task_definition" "worker" {
  family = "worker"
  container_definitions = <<EOF
[
  {
    "name": "worker",
    "environment": [{"name": "API_KEY", "value": "${api_key}"},
                    {"name": "MAIL_PASSWORD", "value": "summer2024"}]
  }
]
EOF
}

resource "aws_ecs_task_definition" "file" {
  family                = "file"
  container_definitions = templatefile("${path.module}/c.json.tpl", {})
}

resource "aws_s3_bucket" "b" {}
"#;
        let found = resources(tf).unwrap();
        assert_eq!(
            found.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
            [
                "aws_ecs_task_definition.api",
                "aws_ecs_task_definition.worker",
                "aws_ecs_task_definition.file"
            ]
        );
        let api = &found[0];
        assert_eq!(api.line, 4);
        assert!(
            is_unresolved(&api.definition["executionRoleArn"]),
            "{}",
            api.definition["executionRoleArn"]
        );
        assert_eq!(
            api.definition["requiresCompatibilities"],
            json!(["FARGATE"])
        );
        let c = &api.definition["containerDefinitions"][0];
        assert_eq!(c["image"], "${…}:1");
        assert_eq!(c["environment"][0]["value"], "hunter22");
        assert!(
            is_unresolved(&c["environment"][1]["value"]),
            "{}",
            c["environment"][1]["value"]
        );
        assert!(
            is_unresolved(&c["secrets"][0]["valueFrom"]),
            "{}",
            c["secrets"][0]["valueFrom"]
        );
        let line = |r: &Resource, p: &str| r.lines.iter().find(|(q, _)| q == p).map(|(_, l)| *l);
        assert_eq!(line(api, "/0/environment/0/value"), Some(13));
        let worker = &found[1];
        let w = &worker.definition["containerDefinitions"][0];
        assert_eq!(w["environment"][0]["value"], "${…}");
        assert_eq!(w["environment"][1]["value"], "summer2024");
        let (json, offset) = worker.heredoc.clone().unwrap();
        assert_eq!(offset, 23);
        let at = json.lines().position(|l| l.contains("summer2024")).unwrap() + 1;
        assert_eq!(at + offset, 28);
        assert!(
            is_unresolved(&found[2].definition["containerDefinitions"]),
            "{}",
            found[2].definition["containerDefinitions"]
        );
    }

    #[test]
    fn hostile_nesting_is_refused_before_parsing() {
        let deep = format!("x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let e = resources(&deep).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e}");
        // Brackets inside strings do not count.
        let quoted = format!("x = \"{}\"\n", "[".repeat(1000));
        assert!(resources(&quoted).is_ok());
    }

    #[test]
    fn invalid_hcl_says_where() {
        let e = resources("resource \"aws_ecs_task_definition\" \"x\" {\n  family = \n}\n")
            .unwrap_err();
        assert!(e.line >= 2, "{e}");
        assert!(e.message.starts_with("invalid HCL"), "{e}");
    }
}
