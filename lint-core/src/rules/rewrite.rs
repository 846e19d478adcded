//! Code rewrites that several rules' fixes share: hold one guard for two lock calls, copy a
//! value out of a scrutinee's guard, drop a guard before an `.await`. Each returns the edits of
//! one suggestion, or `None` when the rewrite would not be the same code with the bug gone
//! (another use of the lock in the guard's new lifetime, an `.await` in it, a name taken).

use crate::catalog::AcqOp;
use crate::diagnostic::{Edit, Span};
use crate::model::body::{AwaitPoint, BodyFacts};
use crate::model::locks::LockEvent;
use crate::model::{Function, Model};
use crate::rules::helpers::{Finding, MapCall, inside, line_indent, line_start, map_call, snippet};

/// Where the block holding statement `stmt` ends, as far as the facts tell: the end of the
/// innermost statement around it, or of the body.
fn block_end(body: &BodyFacts, stmt: Span) -> u32 {
    body.statements
        .iter()
        .filter(|s| inside(stmt, **s) && **s != stmt)
        .map(|s| s.hi)
        .min()
        .unwrap_or(u32::MAX)
}

/// Is `later` in the block of statement `stmt` (after it or inside it), so that a binding
/// made just before `stmt` is in scope there?
fn in_scope_of(body: &BodyFacts, stmt: Span, later: Span) -> bool {
    later.lo >= stmt.lo
        && (inside(later, stmt)
            || body
                .statements
                .iter()
                .all(|s| !(inside(stmt, *s) && *s != stmt) || inside(later, *s)))
}

/// The whitespace before `span` on its line, when only whitespace precedes it.
fn indent_of(model: &Model, span: Span) -> Option<&str> {
    let indent = line_indent(model, span);
    (indent.len() == span.lo as usize - line_start(model, span)).then_some(indent)
}

/// The first of `names` that no binding of the body uses.
fn fresh_name<'n>(body: &BodyFacts, names: impl IntoIterator<Item = &'n str>) -> Option<String> {
    names
        .into_iter()
        .find(|n| !body.bindings.iter().any(|b| b.name == *n))
        .map(str::to_owned)
}

/// The guarding expression a map call is made on (`self.hits.lock().unwrap()` of
/// `self.hits.lock().unwrap().get(k)`), when it is the lock call with at most `.unwrap()`,
/// `.expect(..)` or `?` after it.
fn receiver(model: &Model, body: &BodyFacts, call: &MapCall<'_>) -> Option<Span> {
    let acq = &body.acquisitions[call.event.acquisition?];
    let text = &model.texts[call.call.file as usize];
    let end = call.args.first().map_or(call.call.hi, |a| a.lo) as usize;
    let dot = text
        .get(call.call.lo as usize..end)?
        .rfind(&format!(".{}", call.method))?;
    let recv = Span::new(call.call.file, call.call.lo, call.call.lo + dot as u32);
    let after = text.get(acq.span.hi as usize..recv.hi as usize)?;
    let plain = after.is_empty()
        || after == ".unwrap()"
        || after == "?"
        || (after.starts_with(".expect(") && after.ends_with(')') && after.matches('(').count() == 1);
    (acq.span.lo == recv.lo && plain).then_some(recv)
}

/// Does anything between `from` and `to` lock `lock` again (other than `except`) or await?
fn busy(func: Function<'_>, lock: &LockEvent, from: u32, to: u32, except: &[&LockEvent]) -> bool {
    let range = Span::new(lock.span.file, from, to);
    func.events()
        .iter()
        .any(|e| e.lock == lock.lock && inside(e.span, range) && !except.iter().any(|x| std::ptr::eq(*x, e)))
        || func.body.awaits.iter().any(|a| inside(a.span, range))
}

/// One guard for two lock calls on the same lock: `let mut hits = self.hits.lock().unwrap();`
/// before the statement of `first`, and both calls made on it. The guard is the exclusive
/// one when one of them is (`write()` over `read()`). Offered when both are direct lock calls,
/// `second` is in the scope of the new binding, and nothing from `first`'s statement to the end
/// of its block locks the same lock again or awaits. Returns the guard's name and the edits.
#[must_use]
pub fn one_guard(
    model: &Model,
    func: Function<'_>,
    first: &MapCall<'_>,
    second: &MapCall<'_>,
) -> Option<(String, Vec<Edit>)> {
    let body = func.body;
    let direct = |c: &MapCall<'_>| matches!(c.event.op, AcqOp::Lock { .. }) && c.event.via.is_none();
    if !direct(first) || !direct(second) {
        return None;
    }
    let first_recv = receiver(model, body, first)?;
    let second_recv = receiver(model, body, second)?;
    let stmt = body.statement_of(first.call)?;
    if !in_scope_of(body, stmt, second.call)
        || busy(
            func,
            first.event,
            stmt.lo,
            block_end(body, stmt),
            &[first.event, second.event],
        )
    {
        return None;
    }
    let (recv, exclusive) = if first.event.op.serializes() || !second.event.op.serializes() {
        (first_recv, first.event.op.serializes())
    } else {
        (second_recv, true)
    };
    let guard = fresh_name(
        body,
        first
            .event
            .lock
            .fields
            .last()
            .map(String::as_str)
            .into_iter()
            .chain(["guard"]),
    )?;
    let binding = if exclusive { "let mut" } else { "let" };
    let edits = vec![
        line_before(model, stmt, &format!("{binding} {guard} = {};", snippet(model, recv)))?,
        Edit {
            span: first_recv,
            replacement: guard.clone(),
        },
        Edit {
            span: second_recv,
            replacement: guard.clone(),
        },
    ];
    Some((guard, edits))
}

/// A copy of what a `match`/`if let` scrutinee looked up, made before the statement, so that
/// its guard ends there: `match m.lock().unwrap().get(&k) {` becomes
/// `let found = m.lock().unwrap().get(&k).cloned();` and `match found.as_ref() {` (the arms
/// see the same `Option<&V>`); a `DashMap` `get` copies with `.map(|r| r.value().clone())`.
/// Returns the copy's name and the edits.
#[must_use]
pub fn copy_out(model: &Model, body: &BodyFacts, held: &LockEvent) -> Option<(String, Vec<Edit>)> {
    let a = &body.acquisitions[held.acquisition?];
    let (scrutinee, copy) = match a.op {
        AcqOp::Lock { .. } => match &a.used_by {
            Some((m, span, _)) if m == "get" => (*span, ".cloned()"),
            _ => return None,
        },
        AcqOp::Sharded { .. } if a.method == "get" => (a.span, ".map(|r| (*r).clone())"),
        _ => return None,
    };
    if !body.scrutinees.contains(&scrutinee) {
        return None;
    }
    let stmt = body.statement_of(scrutinee)?;
    // Only the scrutinee of the statement's own `match`/`if let` (not a `while let`, evaluated
    // again on each turn, nor one inside an expression).
    let before = model.texts[stmt.file as usize].get(stmt.lo as usize..scrutinee.lo as usize)?;
    let before = before.trim_start();
    if !(before.starts_with("match") && before["match".len()..].trim().is_empty()
        || before.starts_with("if let") && before.trim_end().ends_with('='))
    {
        return None;
    }
    // Patterns that bind nothing (`Some(_)`, `None`) need no copy of the value, only whether
    // there was one; otherwise the copy is looked at through `as_ref()`, which cannot leave a
    // block whose value it would become.
    let binds = body.bindings.iter().any(|b| inside(b.span, stmt));
    let is_if_without_else = body.ifs.iter().any(|i| i.span == stmt && !i.has_else);
    let (copy, scrutinee_text) = if binds {
        if body.tails.contains(&stmt) && !is_if_without_else {
            return None;
        }
        (copy, ".as_ref()")
    } else {
        (".map(|_| ())", "")
    };
    let name = fresh_name(body, ["found", "cached", "current", "copied"])?;
    let edits = vec![
        line_before(
            model,
            stmt,
            &format!("let {name} = {}{copy};", snippet(model, scrutinee)),
        )?,
        Edit {
            span: scrutinee,
            replacement: format!("{name}{scrutinee_text}"),
        },
    ];
    Some((name, edits))
}

/// `drop(guard);` before the statement of an `.await`, when the guard is a `let` binding of
/// the same block and nothing from that statement on uses it. Returns the guard's name and
/// the edits.
fn drop_before_await(
    model: &Model,
    body: &BodyFacts,
    held: &LockEvent,
    at: &AwaitPoint,
) -> Option<(String, Vec<Edit>)> {
    let a = &body.acquisitions[held.acquisition?];
    let b = a.in_let?;
    let let_stmt = body.statement_of(a.span)?;
    if !snippet(model, let_stmt).trim_start().starts_with("let") {
        return None;
    }
    // The `.await`'s statement in the very block of the `let` (not in a loop or a branch
    // inside it, where a `drop` would move the guard on one turn or one path only).
    let await_stmt = body.statement_of(at.span)?;
    let same_block = body
        .statements
        .iter()
        .filter(|s| inside(await_stmt, **s) && **s != await_stmt)
        .all(|s| inside(let_stmt, *s));
    if await_stmt.lo < let_stmt.hi || !same_block {
        return None;
    }
    if body
        .mentions
        .iter()
        .any(|m| m.binding == b && m.span.lo >= await_stmt.lo)
    {
        return None;
    }
    let name = body.bindings[b as usize].name.clone();
    let edits = vec![line_before(model, await_stmt, &format!("drop({name});"))?];
    Some((name, edits))
}

/// A finding with the `drop(guard);` suggestion of [`drop_before_await`] when there is one.
pub fn offer_drop_before_await<'r, 'a>(
    finding: Finding<'r, 'a>,
    model: &Model,
    body: &BodyFacts,
    held: &LockEvent,
    at: &AwaitPoint,
) -> Finding<'r, 'a> {
    match drop_before_await(model, body, held, at) {
        Some((guard, edits)) => finding.suggestion_edits(
            format!("end `{guard}` before the `.await`: nothing after it uses it"),
            edits,
            crate::diagnostic::Applicability::MaybeIncorrect,
        ),
        None => finding,
    }
}

/// A new line of code before statement `stmt`, at its indentation.
fn line_before(model: &Model, stmt: Span, code: &str) -> Option<Edit> {
    let indent = indent_of(model, stmt)?;
    Some(Edit {
        span: Span::new(stmt.file, stmt.lo, stmt.lo),
        replacement: format!("{code}\n{indent}"),
    })
}

/// The fix of a lock taken while its guard is alive: when the second call is where the first
/// found the key absent (`None =>`, `else`) and both are direct lock calls, one guard for both
/// (the lookup and the change stay one step; the exclusive guard when one of them is);
/// otherwise, when the first guard is a `match`/`if let` scrutinee's lookup, a copy made before
/// the statement. Returns the suggestion's message and edits.
#[must_use]
pub fn conflict_fix(
    model: &Model,
    func: Function<'_>,
    held: &LockEvent,
    taken: &LockEvent,
) -> Option<(String, Vec<Edit>)> {
    let body = func.body;
    let absent = body
        .absent_branches
        .iter()
        .any(|(cond, branch)| inside(held.span, *cond) && inside(taken.span, *branch));
    if absent
        && let (Some(h), Some(t)) = (map_call(body, held), map_call(body, taken))
        && let Some((guard, edits)) = one_guard(model, func, &h, &t)
    {
        let upgraded = !held.op.serializes() && taken.op.serializes();
        let message = if upgraded {
            format!(
                "hold one write guard, `{guard}`, for the lookup and the change (the lookup then takes the write lock too)"
            )
        } else {
            format!("hold one guard, `{guard}`, for the lookup and the change")
        };
        return Some((message, edits));
    }
    let (name, edits) = copy_out(model, body, held)?;
    Some((
        format!(
            "copy the value out first, so that the guard ends before the lock is taken again (`{name}` is a copy: another thread can change the map between the lookup and what follows)"
        ),
        edits,
    ))
}
