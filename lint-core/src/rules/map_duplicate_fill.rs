use crate::catalog::{AcqOp, Interest, LockMode};
use crate::diagnostic::{Applicability, Span};
use crate::model::body::IfFacts;
use crate::model::{Function, Model};
use crate::rules::helpers::{
    MapCall, Race, Reporter, check_then_act, comments_in, key_text, line_indent, line_of, lock_name, snippet,
};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a key looked up on a synchronized map, found absent, and inserted under a second
    /// acquisition of the lock: `if !m.lock().contains_key(&k) { m.lock().insert(k, v) }`,
    /// `let hit = m.read().get(&k).is_some(); if !hit { m.write().insert(..) }`, the cache fill
    /// `if let Some(v) = cache.read().get(&k) { return v.clone() }` then compute and
    /// `cache.write().insert(k, v)`, a `None =>` arm that inserts, `DashMap` `contains_key`
    /// then `insert`, `while m.lock().contains_key(&id) { id += 1 }` then `insert(id, ..)`, and
    /// a lookup through a guard bound in a block
    /// (`let missing = { let g = m.read(); !g.contains_key(k) }; if missing { .. }`).
    ///
    /// It stays silent when the fill checks again under its own lock (`entry(..)`,
    /// `try_insert`, a second `contains_key` under the write guard), when one gate lock taken
    /// exclusively is held around both halves, when no other thread can reach the map, and
    /// where the code shows a duplicate fill is expected: the value `insert` returns (what it
    /// replaced) is looked at, or a comment between the lookup and the insert says racing
    /// callers are fine ("benign race", "idempotent", "may run twice"...).
    ///
    /// On the bundled maps (`maplint_maps`), each call locks on its own, so the same pair of
    /// calls races the same way; the help names the map's atomic call.
    ///
    /// ## Why is this bad?
    /// Two callers can both find the key absent and both fill it; the second insert replaces
    /// the first. That is harmless when the value is a pure function of the key (a parsed
    /// file, a compiled pattern, a prepared statement): both computed the same thing, and the
    /// cost is one wasted computation. It is a bug when identity matters: the first caller
    /// keeps and uses what it inserted (a fresh channel whose receiver now never hears
    /// anything, an id or session handed back to its client, an `Arc` compared by pointer,
    /// interned strings), the check decides something once ("first visit", "claim this id"),
    /// or the first value was changed between the two fills and the change is lost.
    ///
    /// ## Example
    /// ```rust,ignore
    /// // Both callers can create a channel; the first caller's receiver is orphaned.
    /// if !subscribers.lock().unwrap().contains_key(&topic) {
    ///     subscribers.lock().unwrap().insert(topic, broadcast::channel(16).0);
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// subscribers.lock().unwrap().entry(topic).or_insert_with(|| broadcast::channel(16).0);
    /// ```
    /// or `maplint_maps::ShardedMap::get_or_insert_with`. When every fill in a package is a
    /// pure function of its key, allow the rule there (`[lints] map_duplicate_fill = "allow"`
    /// in the config) and keep `map_check_then_act`, which reports lost updates.
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
    /// - Whether the value is a pure function of the key is not known: a pure fill is
    ///   reported unless the code says so (a comment, or a look at what `insert` returned).
    /// - A lookup through a bound guard (`let hit = { let g = m.lock(); g.contains_key(&k) };`)
    ///   is recognized when the guard is used for that one call only; a condition that combines
    ///   the lookup with `&&` or `||` is not.
    /// - The inserted key must be written like the looked-up one (`&k`, `k`, `k.clone()`):
    ///   `get(&session_id)` then `insert(session.clone())` on a set of sessions is not paired.
    /// - The map is identified by its access path; a second path to the same map through a
    ///   getter is not recognized.
    pub struct MapDuplicateFill {
        name: "map_duplicate_fill",
        level: Warn,
        summary: "a key found absent is inserted under a second lock acquisition: two callers can both fill it",
        fix: Sometimes,
        since: "0.2.0",
        interests: &[Interest::Locks, Interest::GuardedMaps],
        clippy: ["map_entry"],
    }
}

const DUPLICATE_HARMLESS: &str = "a duplicate fill is harmless when the value is a pure function of the key; it is a bug when the first caller keeps what it inserted (a channel, an id, a session, an `Arc` compared by pointer) or the check decides something once";

impl Rule for MapDuplicateFill {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        for pair in check_then_act(model, func) {
            let Race::Fill { guarding_if } = pair.race else {
                continue;
            };
            let name = lock_name(model, func.body, pair.act.event);
            let line = line_of(model, pair.check.call);
            let mut finding = out
                .report(
                    pair.act.call,
                    format!(
                        "`{name}` is looked up (line {line}) and the missing key is inserted under a second lock: two callers can both insert it"
                    ),
                )
                .primary_label("inserted here, under a second lock")
                .label(pair.check.call, "looked up here, under a first lock that is released at once");
            if matches!(pair.act.event.op, AcqOp::Bundled { .. }) {
                // A bundled map has the atomic calls already.
                finding
                    .help("look up and insert in one call: `try_insert(key, value)`, or `get_or_insert_with(key, init, ..)` to use the value")
                    .note(DUPLICATE_HARMLESS)
                    .emit();
                continue;
            }
            finding = match guarding_if.and_then(|i| entry_rewrite(model, i, &pair.check, &pair.act)) {
                Some((replacement, applicability)) => finding.suggestion(
                    if pair.check.event.op.blocking_mode() == Some(LockMode::Read) {
                        "look up and insert under one guard with the entry API (this takes the write lock on every call, where the lookup took a read lock)"
                    } else {
                        "look up and insert under one guard with the entry API"
                    },
                    guarding_if.expect("rewrite of an if").span,
                    replacement,
                    applicability,
                ),
                None => finding.help(
                    "look up and insert under one guard: `entry(key).or_insert_with(..)`, or check again under the write guard",
                ),
            };
            finding
                .note(DUPLICATE_HARMLESS)
                .note("`maplint_maps::ShardedMap::get_or_insert_with` looks up and fills under one lock")
                .emit();
        }
    }
}

/// `if !<recv>.contains_key(&k) { <recv2>.insert(k, v); }` → `<recv2>.entry(k).or_insert(v);`
fn entry_rewrite(
    model: &Model,
    i: &IfFacts,
    check: &MapCall<'_>,
    act: &MapCall<'_>,
) -> Option<(String, Applicability)> {
    if i.has_else || !i.negated || i.then_single_stmt != Some(act.call) || check.method != "contains_key" {
        return None;
    }
    let [check_key] = check.args else { return None };
    let [key, value] = act.args else { return None };
    let cond = snippet(model, i.cond).trim();
    if cond.strip_prefix('!').map(str::trim) != Some(snippet(model, check.call).trim()) {
        return None;
    }
    let key_src = snippet(model, *key).trim();
    let checked = snippet(model, *check_key).trim();
    // `contains_key(&k)` with `insert(k, ..)` or `insert(k.clone(), ..)`: the same key.
    if !checked.starts_with('&') || key_text(checked) != key_text(key_src) {
        return None;
    }
    let before_args = model.texts[act.call.file as usize].get(act.call.lo as usize..key.lo as usize)?;
    let recv = before_args.rfind(".insert").map(|p| before_args[..p].trim_end())?;
    let value_text = snippet(model, *value).trim();
    // Exact only when evaluating the key once instead of twice, and the value only when the key
    // is absent, changes nothing (places and literals), and no comment in the `if` is lost.
    let plain = |t: &str| {
        t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '&' | '"' | '\'' | ' ' | '-'))
    };
    let (stmt, applicability) = if plain(value_text) && plain(key_src) && plain(checked) {
        (
            format!("{recv}.entry({key_src}).or_insert({value_text});"),
            Applicability::MachineApplicable,
        )
    } else {
        (
            format!("{recv}.entry({key_src}).or_insert_with(|| {value_text});"),
            Applicability::MaybeIncorrect,
        )
    };
    Some((carry_comments(model, i.span, stmt), applicability))
}

/// The comments of the rewritten `if`, carried into its replacement: the last one after the
/// new statement, any others on lines of their own before it.
fn carry_comments(model: &Model, old: Span, stmt: String) -> String {
    let comments = comments_in(snippet(model, old));
    let Some((last, others)) = comments.split_last() else {
        return stmt;
    };
    let text = &model.texts[old.file as usize];
    let indent = line_indent(model, old);
    // Code after the `if` on its line would end up inside a trailing line comment.
    let rest = text[old.hi as usize..].lines().next().unwrap_or("").trim_start();
    let trailing = rest.is_empty() || rest.starts_with("//");
    let before = if trailing { others } else { comments.as_slice() };
    let mut out = String::new();
    for c in before {
        out.push_str(c);
        out.push('\n');
        out.push_str(indent);
    }
    out.push_str(&stmt);
    if trailing {
        out.push(' ');
        out.push_str(last);
    }
    out
}
