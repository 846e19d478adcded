use crate::catalog::Interest;
use crate::diagnostic::{Applicability, Span};
use crate::model::body::BodyFacts;
use crate::model::locks::{AcqOp, LockEvent};
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, line_of, lock_name, snippet};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a check and an act on a synchronized map made under two separate acquisitions:
    /// `if !m.lock().contains_key(&k) { m.lock().insert(k, v) }`,
    /// `let hit = m.read().get(&k).is_some(); if !hit { m.write().insert(..) }`, `DashMap`
    /// `contains_key` then `insert`, and read-modify-write through two acquisitions
    /// (`let n = *m.lock().get(&k).unwrap_or(&0); m.lock().insert(k, n + 1)`, also when the
    /// value read travels through locals and `if let` patterns before it is written back).
    ///
    /// It stays silent when the act checks again under its own lock (`entry(..)`,
    /// `try_insert`), when one gate lock taken exclusively is held around both halves, and
    /// when no other thread can reach the map (`&mut self` with no `Arc` or `Rc` on the way to
    /// it, or a mutex that is only ever locked right where it lives).
    ///
    /// ## Why is this bad?
    /// The lock is released between the check and the act, so another thread can insert the
    /// same key, or update the counter, in between: a duplicate insert that overwrites a
    /// value, or a lost update. It passes every single-threaded test.
    ///
    /// ## Example
    /// ```rust,ignore
    /// if !cache.lock().unwrap().contains_key(&url) {
    ///     cache.lock().unwrap().insert(url, page);
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// cache.lock().unwrap().entry(url).or_insert(page);
    /// ```
    /// or `maplint_maps::ShardedMap::get_or_insert_with` / `update`.
    ///
    /// ## Fix safety
    /// The rewrite to `entry(..).or_insert(..)` is offered as machine-applicable when the `if`
    /// has no `else`, its only statement is the insert, the checked key is `&key` of the
    /// inserted `key`, and the value is a plain path, field or literal. When the value is any
    /// other expression the rewrite uses `or_insert_with(|| value)` (evaluated only when the
    /// key is absent, as before) and is marked maybe-incorrect: the closure may not compile
    /// when the value moves or borrows something.
    ///
    /// ## Known problems
    /// - Only checks in the `if` condition itself, or in a `let` whose binding the condition
    ///   uses, are paired with acts in the then-block; read-modify-write is found when the
    ///   checked value appears in the inserted value.
    /// - A cache fill (`if let Some(v) = cache.get(k) { return v }`, compute, `insert`) is
    ///   reported even when the value is a pure function of the key, where a duplicate fill is
    ///   harmless.
    /// - A check in a `while` condition, a negated check stored in a `let`, and a write back
    ///   through `get_mut` on the second guard are not recognized.
    /// - The map is identified by its access path; a second path to the same map through a
    ///   getter is not recognized.
    pub struct MapCheckThenAct {
        name: "map_check_then_act",
        level: Warn,
        summary: "a map is checked and changed under two separate lock acquisitions",
        fix: Sometimes,
        since: "0.1.0",
        interests: &[Interest::Locks, Interest::GuardedMaps],
    }
}

const CHECKS: &[&str] = &["contains_key", "get", "get_key_value", "contains"];
/// Acts that can overwrite what another thread put in between. `entry(..)` and `try_insert`
/// look again under their own lock, so they are safe acts after any check.
const ACTS: &[&str] = &["insert"];

/// The method, call span and argument spans an event's guard is used for (`m.lock().insert(..)`)
/// or, for `DashMap` operations, the operation itself.
fn usage<'b>(body: &'b BodyFacts, e: &LockEvent) -> Option<(&'b str, Span, &'b [Span])> {
    let a = &body.acquisitions[e.acquisition?];
    match e.op {
        AcqOp::Sharded { .. } => Some((a.method.as_str(), a.span, a.args.as_slice())),
        AcqOp::Lock { .. } => a.used_by.as_ref().map(|(m, s, args)| (m.as_str(), *s, args.as_slice())),
        AcqOp::Borrow { .. } => None,
    }
}

fn inside(inner: Span, outer: Span) -> bool {
    inner.file == outer.file && inner.lo >= outer.lo && inner.hi <= outer.hi
}

impl Rule for MapCheckThenAct {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let body = func.body;
        let events = func.events();
        for act in events {
            let Some((act_method, act_call, act_args)) = usage(body, act) else {
                continue;
            };
            // (On a map no other thread can reach, nothing can run in between.)
            if !ACTS.contains(&act_method) || !act.on_map || act.exclusive {
                continue;
            }
            for check in events.iter().filter(|c| {
                c.span.lo < act.span.lo
                    && c.lock == act.lock
                    && c.context == act.context
                    && !func.is_held(c, act)
                    && !c.op.is_try()
                    && same_kind(c.op, act.op)
            }) {
                let Some((check_method, check_call, check_args)) = usage(body, check) else {
                    continue;
                };
                if !CHECKS.contains(&check_method) {
                    continue;
                }
                // Serialized by a gate held around both.
                if func.gate(check, act).is_some() {
                    continue;
                }
                let a = &body.acquisitions[check.acquisition.expect("direct event")];
                // The check in an `if` condition (directly, or through a `let` the
                // condition reads) and the act in its then-block.
                // Checking one key and changing another is not a race on the same entry.
                let same_key = match (check_args.first(), act_args.first()) {
                    (Some(c), Some(k)) => key_text(snippet(model, *c)) == key_text(snippet(model, *k)),
                    _ => false,
                };
                if !same_key {
                    continue;
                }
                let checked_in =
                    |cond: Span| inside(check.span, cond) || a.in_let.is_some_and(|b| mentioned_in(body, b, cond));
                // The check in a condition or scrutinee (directly, or through a `let` it
                // reads) and the act where it found the key absent: the then-block of
                // `if !..`, the else-block of `if ..`/`if let Some(..)`, the code after
                // `if .. { return }`, a `None =>` arm.
                let branch = body
                    .absent_branches
                    .iter()
                    .find(|(cond, absent)| checked_in(*cond) && inside(act.span, *absent));
                let guarding_if = branch.and_then(|(cond, _)| body.ifs.iter().find(|i| i.cond == *cond && i.negated));
                // Read-modify-write: the checked value flows into the inserted value, through a
                // `let` or the pattern of the `if let` whose then-block acts ("present, then
                // overwrite").
                let rmw = branch.is_none() && checked_value_flows(body, check.span, a.in_let, act.span, act_args);
                if branch.is_none() && !rmw {
                    continue;
                }
                let name = lock_name(model, body, act);
                let line = line_of(model, check.span);
                let (message, label) = if rmw {
                    (
                        format!(
                            "`{name}` is read and then updated under two separate locks: concurrent updates are lost"
                        ),
                        "read here, under a first lock",
                    )
                } else {
                    (
                        format!(
                            "`{name}` is checked (line {line}) and then changed under a second lock: another thread can change it in between"
                        ),
                        "checked here, under a first lock that is released at once",
                    )
                };
                let mut finding = out
                    .report(act_call, message)
                    .primary_label("changed here, under a second lock")
                    .label(check_call, label);
                if let Some(i) = guarding_if
                    && let Some((replacement, applicability)) = entry_rewrite(
                        model,
                        i,
                        check_method,
                        check_call,
                        check_args,
                        act_method,
                        act_call,
                        act_args,
                    )
                {
                    finding = finding.suggestion(
                        "check and insert under one guard with the entry API",
                        i.span,
                        replacement,
                        applicability,
                    );
                } else {
                    finding = finding
                        .help("do the check and the change under one guard: bind the guard once, or use `entry(..)`");
                }
                finding
                    .note("`maplint_maps::ShardedMap::get_or_insert_with` and `update` check and change under one lock")
                    .emit();
            }
        }
    }
}

/// Does the value read by the check reach the act's arguments: through the `let` it
/// initializes, and on through the patterns of `if let`s around the act that read it
/// (`let seen = m.get(k).copied(); if let Some(n) = seen { m.insert(k, n + 1) }`)?
fn checked_value_flows(body: &BodyFacts, check: Span, in_let: Option<u32>, act: Span, act_args: &[Span]) -> bool {
    let mentioned_in = |b: u32, at: Span| mentioned_in(body, b, at);
    let mut carriers: Vec<u32> = in_let.into_iter().collect();
    for i in body.ifs.iter().filter(|i| inside(act, i.then)) {
        let reads = inside(check, i.cond) || carriers.iter().any(|&b| mentioned_in(b, i.cond));
        if reads {
            carriers.extend(
                body.bindings
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| inside(b.span, i.cond))
                    .map(|(b, _)| b as u32),
            );
        }
    }
    carriers.iter().any(|&b| act_args.iter().any(|s| mentioned_in(b, *s)))
}

/// Is binding `b` named inside `at`?
fn mentioned_in(body: &BodyFacts, b: u32, at: Span) -> bool {
    body.mentions.iter().any(|m| m.binding == b && inside(m.span, at))
}

/// A key expression without the borrow or copy around it (`&k`, `k.clone()` → `k`).
fn key_text(s: &str) -> String {
    let mut t = s.trim();
    t = t.strip_prefix('&').unwrap_or(t).trim();
    for suffix in [".clone()", ".to_owned()", ".to_string()", ".into()"] {
        t = t.strip_suffix(suffix).unwrap_or(t);
    }
    t.chars().filter(|c| !c.is_whitespace()).collect()
}

fn same_kind(a: AcqOp, b: AcqOp) -> bool {
    matches!(
        (a, b),
        (AcqOp::Lock { .. }, AcqOp::Lock { .. }) | (AcqOp::Sharded { .. }, AcqOp::Sharded { .. })
    )
}

/// `if !<recv>.contains_key(&k) { <recv2>.insert(k, v); }` → `<recv2>.entry(k).or_insert(v);`
#[allow(clippy::too_many_arguments)]
fn entry_rewrite(
    model: &Model,
    i: &crate::model::body::IfFacts,
    check_method: &str,
    check_call: Span,
    check_args: &[Span],
    act_method: &str,
    act_call: Span,
    act_args: &[Span],
) -> Option<(String, Applicability)> {
    if i.has_else
        || !i.negated
        || i.then_single_stmt != Some(act_call)
        || check_method != "contains_key"
        || act_method != "insert"
    {
        return None;
    }
    let [check_key] = check_args else { return None };
    let [key, value] = act_args else { return None };
    let cond = snippet(model, i.cond).trim();
    if cond.strip_prefix('!').map(str::trim) != Some(snippet(model, check_call).trim()) {
        return None;
    }
    let key_src = snippet(model, *key).trim();
    let checked = snippet(model, *check_key).trim();
    // `contains_key(&k)` with `insert(k, ..)` or `insert(k.clone(), ..)`: the same key.
    if !checked.starts_with('&') || key_text(checked) != key_text(key_src) {
        return None;
    }
    let before_args = model.texts[act_call.file as usize].get(act_call.lo as usize..key.lo as usize)?;
    let recv = before_args.rfind(".insert").map(|p| before_args[..p].trim_end())?;
    let value_text = snippet(model, *value).trim();
    let plain = value_text
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '&' | '"' | '\'' | ' ' | '-'));
    Some(if plain {
        (
            format!("{recv}.entry({key_src}).or_insert({value_text});"),
            Applicability::MachineApplicable,
        )
    } else {
        (
            format!("{recv}.entry({key_src}).or_insert_with(|| {value_text});"),
            Applicability::MaybeIncorrect,
        )
    })
}
