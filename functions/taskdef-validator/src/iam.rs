//! An offline IAM policy evaluator for the three calls ECS makes with the execution role:
//! `secretsmanager:GetSecretValue`, `ssm:GetParameters` and `kms:Decrypt`.
//!
//! It answers *allowed*, *denied* or *unknown* and names the deciding statement, following the
//! documented evaluation logic: an explicit deny wins; otherwise an allow in an identity policy
//! or a same-account resource policy grants; across accounts both must allow; a resource or key
//! policy that names the account root delegates to the account's IAM policies. `Action` /
//! `NotAction`, `Resource` / `NotResource` and `Principal` match with `*` and `?` wildcards.
//! A condition is decided only when its key is known for this request (the role's ARN, the
//! version stage ECS asks for, `kms:ViaService`, the encryption context); any other condition —
//! or a policy variable — makes the statement "unknown", with the condition named, rather than
//! a guess. Permission boundaries, SCPs and session policies are not visible here and are not
//! evaluated (the report says so).

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Any(Vec<String>),
    Not(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    operator: String,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    label: String,
    effect: Effect,
    action: Matcher,
    resource: Option<Matcher>,
    principal: Option<Matcher>,
    conditions: Vec<Condition>,
}

/// A parsed policy document with the name it is reported by.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    statements: Vec<Statement>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn principals(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| k.as_str() == "AWS")
            .flat_map(|(_, v)| strings(v))
            .collect(),
        _ => Vec::new(),
    }
}

impl Policy {
    /// Parses a policy document (a JSON string or value, URL-decoded already).
    pub fn parse(name: &str, document: &Value) -> Result<Self, String> {
        let document = match document {
            Value::String(s) => {
                serde_json::from_str(s).map_err(|e| format!("policy {name}: not JSON: {e}"))?
            }
            v => v.clone(),
        };
        let raw = match document.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => return Err(format!("policy {name}: no Statement")),
        };
        let mut statements = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let label = match s.get("Sid").and_then(Value::as_str) {
                Some(sid) if !sid.is_empty() => format!("{name}#{sid}"),
                _ => format!("{name}#{i}"),
            };
            let effect = match s.get("Effect").and_then(Value::as_str) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                _ => return Err(format!("{label}: Effect must be Allow or Deny")),
            };
            let action = match (s.get("Action"), s.get("NotAction")) {
                (Some(a), None) => Matcher::Any(strings(a)),
                (None, Some(a)) => Matcher::Not(strings(a)),
                _ => {
                    return Err(format!(
                        "{label}: needs exactly one of Action and NotAction"
                    ))
                }
            };
            let resource = match (s.get("Resource"), s.get("NotResource")) {
                (Some(r), _) => Some(Matcher::Any(strings(r))),
                (None, Some(r)) => Some(Matcher::Not(strings(r))),
                (None, None) => None,
            };
            let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
                (Some(p), _) => Some(Matcher::Any(principals(p))),
                (None, Some(p)) => Some(Matcher::Not(principals(p))),
                (None, None) => None,
            };
            let mut conditions = Vec::new();
            if let Some(Value::Object(ops)) = s.get("Condition") {
                for (operator, keys) in ops {
                    if let Value::Object(keys) = keys {
                        for (key, values) in keys {
                            conditions.push(Condition {
                                operator: operator.clone(),
                                key: key.clone(),
                                values: strings(values),
                            });
                        }
                    }
                }
            }
            statements.push(Statement {
                label,
                effect,
                action,
                resource,
                principal,
                conditions,
            });
        }
        Ok(Policy {
            name: name.to_owned(),
            statements,
        })
    }
}

/// `*` and `?` wildcards; `case` false for action names.
pub fn glob(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_sensitive {
        (pattern.chars().collect(), text.chars().collect())
    } else {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    };
    // Iterative matcher with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Who is asking, for resource and key policies.
#[derive(Debug, Clone)]
pub struct Principal {
    pub arn: String,
    pub account: String,
}

/// One request to evaluate.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub principal: Principal,
    /// Condition keys whose values are known (lower-case keys).
    pub context: HashMap<String, Vec<String>>,
}

/// The answer of one policy set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `delegated`: the allow names the account root, so the account's IAM policies decide.
    Allowed {
        statement: String,
        delegated: bool,
    },
    Denied {
        statement: String,
    },
    /// No statement allows.
    ImplicitDeny,
    Unknown {
        statement: String,
        reason: String,
    },
}

enum Applies {
    Yes,
    No,
    Unknown(String),
}

enum PrincipalMatch {
    Direct,
    AccountRoot,
    No,
}

fn principal_matches(m: &Option<Matcher>, who: &Principal) -> PrincipalMatch {
    let Some(m) = m else {
        return PrincipalMatch::Direct;
    };
    let matches_one = |p: &str| -> Option<PrincipalMatch> {
        if p == "*" {
            Some(PrincipalMatch::Direct)
        } else if p == who.account || p == format!("arn:aws:iam::{}:root", who.account) {
            Some(PrincipalMatch::AccountRoot)
        } else if glob(p, &who.arn, true) {
            Some(PrincipalMatch::Direct)
        } else {
            None
        }
    };
    match m {
        Matcher::Any(list) => list
            .iter()
            .find_map(|p| matches_one(p))
            .unwrap_or(PrincipalMatch::No),
        Matcher::Not(list) => {
            if list.iter().any(|p| matches_one(p).is_some()) {
                PrincipalMatch::No
            } else {
                PrincipalMatch::Direct
            }
        }
    }
}

fn matcher_applies(m: &Matcher, value: &str, case_sensitive: bool) -> Applies {
    let (list, negate) = match m {
        Matcher::Any(l) => (l, false),
        Matcher::Not(l) => (l, true),
    };
    if list.iter().any(|p| p.contains("${")) {
        let hit = list
            .iter()
            .filter(|p| !p.contains("${"))
            .any(|p| glob(p, value, case_sensitive));
        if hit != negate {
            return Applies::Yes;
        }
        return Applies::Unknown("a policy variable (${…}) in the statement".to_owned());
    }
    let hit = list.iter().any(|p| glob(p, value, case_sensitive));
    if hit != negate {
        Applies::Yes
    } else {
        Applies::No
    }
}

fn condition_applies(c: &Condition, context: &HashMap<String, Vec<String>>) -> Applies {
    let named = format!("{} {} {:?}", c.operator, c.key, c.values);
    let mut op = c.operator.as_str();
    let mut any_value = false;
    if let Some(rest) = op.strip_prefix("ForAnyValue:") {
        op = rest;
        any_value = true;
    } else if let Some(rest) = op.strip_prefix("ForAllValues:") {
        op = rest;
    }
    let if_exists = op.ends_with("IfExists");
    let op = op.trim_end_matches("IfExists");
    let Some(actual) = context.get(&c.key.to_ascii_lowercase()) else {
        if op == "Null" {
            return Applies::Unknown(format!("condition {named} (its key is not known here)"));
        }
        return Applies::Unknown(format!("condition {named} (its key is not known here)"));
    };
    if actual.is_empty() {
        return if if_exists { Applies::Yes } else { Applies::No };
    }
    let test = |a: &str, v: &str| -> Option<bool> {
        Some(match op {
            "StringEquals" | "ArnEquals" => a == v,
            "StringNotEquals" | "ArnNotEquals" => a != v,
            "StringEqualsIgnoreCase" => a.eq_ignore_ascii_case(v),
            "StringNotEqualsIgnoreCase" => !a.eq_ignore_ascii_case(v),
            "StringLike" | "ArnLike" => glob(v, a, true),
            "StringNotLike" | "ArnNotLike" => !glob(v, a, true),
            "Bool" => a.eq_ignore_ascii_case(v),
            _ => return None,
        })
    };
    let negative = op.contains("Not");
    let mut results = Vec::new();
    for a in actual {
        let per_value: Option<Vec<bool>> = c.values.iter().map(|v| test(a, v)).collect();
        let Some(per_value) = per_value else {
            return Applies::Unknown(format!("condition {named} (operator not evaluated here)"));
        };
        // Positive operators match when any value matches; negated ones when none is excluded.
        results.push(if negative {
            per_value.iter().all(|b| *b)
        } else {
            per_value.iter().any(|b| *b)
        });
    }
    let ok = if any_value {
        results.iter().any(|b| *b)
    } else {
        results.iter().all(|b| *b)
    };
    if ok {
        Applies::Yes
    } else {
        Applies::No
    }
}

fn statement_applies(s: &Statement, req: &Request, resource_policy: bool) -> (Applies, bool) {
    let mut delegated = false;
    if resource_policy {
        match principal_matches(&s.principal, &req.principal) {
            PrincipalMatch::No => return (Applies::No, false),
            PrincipalMatch::AccountRoot => delegated = true,
            PrincipalMatch::Direct => {}
        }
    }
    let mut unknown = None;
    for check in [
        matcher_applies(&s.action, &req.action, false),
        s.resource
            .as_ref()
            .map_or(Applies::Yes, |r| matcher_applies(r, &req.resource, true)),
    ] {
        match check {
            Applies::No => return (Applies::No, delegated),
            Applies::Unknown(r) => unknown = unknown.or(Some(r)),
            Applies::Yes => {}
        }
    }
    for c in &s.conditions {
        match condition_applies(c, &req.context) {
            Applies::No => return (Applies::No, delegated),
            Applies::Unknown(r) => unknown = unknown.or(Some(r)),
            Applies::Yes => {}
        }
    }
    match unknown {
        Some(r) => (Applies::Unknown(r), delegated),
        None => (Applies::Yes, delegated),
    }
}

/// Evaluates a set of policies of one kind (identity policies, or one resource/key policy).
pub fn evaluate(policies: &[Policy], req: &Request, resource_policy: bool) -> Decision {
    let mut allow: Option<(String, bool)> = None;
    let mut maybe_allow: Option<(String, String)> = None;
    let mut maybe_deny: Option<(String, String)> = None;
    for s in policies.iter().flat_map(|p| &p.statements) {
        let (applies, delegated) = statement_applies(s, req, resource_policy);
        match (s.effect, applies) {
            (_, Applies::No) => {}
            (Effect::Deny, Applies::Yes) => {
                return Decision::Denied {
                    statement: s.label.clone(),
                }
            }
            (Effect::Deny, Applies::Unknown(r)) => {
                maybe_deny.get_or_insert((s.label.clone(), r));
            }
            (Effect::Allow, Applies::Yes) => {
                // A direct allow outranks a delegating one.
                if allow.as_ref().is_none_or(|(_, d)| *d && !delegated) {
                    allow = Some((s.label.clone(), delegated));
                }
            }
            (Effect::Allow, Applies::Unknown(r)) => {
                maybe_allow.get_or_insert((s.label.clone(), r));
            }
        }
    }
    if let Some((statement, reason)) = maybe_deny {
        if allow.is_some() || maybe_allow.is_some() {
            return Decision::Unknown {
                statement,
                reason: format!("a Deny may apply: {reason}"),
            };
        }
    }
    match (allow, maybe_allow) {
        (Some((statement, delegated)), _) => Decision::Allowed {
            statement,
            delegated,
        },
        (None, Some((statement, reason))) => Decision::Unknown { statement, reason },
        (None, None) => Decision::ImplicitDeny,
    }
}

/// The combined answer for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub statement: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Combines the role's identity policies with the resource's policy (a secret's resource
/// policy or a KMS key policy). `resource_policy_required`: a KMS key policy must itself allow
/// (directly or by delegating to the account); a secret's resource policy is optional within
/// one account.
pub fn decide(
    identity: &[Policy],
    resource_policy: Option<&Policy>,
    resource_account: &str,
    resource_policy_required: bool,
    req: &Request,
) -> Verdict {
    let id = evaluate(identity, req, false);
    let res = resource_policy.map(|p| evaluate(std::slice::from_ref(p), req, true));
    let verdict = |outcome, statement: Option<&String>, reason: String| Verdict {
        outcome,
        statement: statement.cloned(),
        reason,
    };
    // An explicit deny anywhere decides.
    for d in [Some(&id), res.as_ref()].into_iter().flatten() {
        if let Decision::Denied { statement } = d {
            return verdict(
                Outcome::Denied,
                Some(statement),
                format!("explicitly denied by {statement}"),
            );
        }
    }
    if resource_policy_required && resource_policy.is_none() {
        if let Decision::Allowed { statement, .. } = &id {
            return verdict(
                Outcome::Unknown,
                Some(statement),
                format!("allowed by {statement}, but the key policy could not be read"),
            );
        }
    }
    let cross_account = resource_account != req.principal.account;
    let id_allowed = matches!(id, Decision::Allowed { .. });
    let unknown = [Some(&id), res.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|d| match d {
            Decision::Unknown { statement, reason } => Some((statement.clone(), reason.clone())),
            _ => None,
        });
    let res_allowed = match &res {
        Some(Decision::Allowed { delegated, .. }) => Some(*delegated),
        _ => None,
    };
    let id_statement = match &id {
        Decision::Allowed { statement, .. } => Some(statement.clone()),
        _ => None,
    };
    let res_statement = match &res {
        Some(Decision::Allowed { statement, .. }) => Some(statement.clone()),
        _ => None,
    };
    let granted = match (resource_policy_required, cross_account) {
        // KMS: the key policy must allow; delegation to the account needs the IAM allow too.
        (true, _) => match res_allowed {
            Some(false) => !cross_account || id_allowed,
            Some(true) => id_allowed,
            None => false,
        },
        // Cross-account secret: both sides must allow.
        (false, true) => id_allowed && res_allowed.is_some(),
        // Same account: either side suffices (a delegating resource allow needs IAM).
        (false, false) => id_allowed || res_allowed == Some(false),
    };
    if granted {
        let statement = id_statement.or(res_statement);
        return verdict(
            Outcome::Allowed,
            statement.as_ref(),
            format!("allowed by {}", statement.as_deref().unwrap_or("policy")),
        );
    }
    if let Some((statement, reason)) = unknown {
        return verdict(
            Outcome::Unknown,
            Some(&statement),
            format!("{statement}: {reason}"),
        );
    }
    let reason = if resource_policy_required && res.is_none() {
        "the key policy could not be read".to_owned()
    } else if resource_policy_required && res_allowed.is_none() {
        "the key policy does not allow the role (nor delegate to its account)".to_owned()
    } else if cross_account && id_allowed {
        "the resource is in another account and its resource policy does not allow the role"
            .to_owned()
    } else {
        "no statement of the role's policies allows it (implicit deny)".to_owned()
    };
    let statement = if id_allowed { id_statement } else { None };
    verdict(Outcome::Denied, statement.as_ref(), reason)
}

#[cfg(test)]
mod tests;
