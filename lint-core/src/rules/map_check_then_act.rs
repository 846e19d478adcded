use crate::catalog::{AcqOp, Interest};
use crate::diagnostic::{Applicability, Edit, Span};
use crate::model::body::BodyFacts;
use crate::model::{Function, Model};
use crate::rules::helpers::{CheckAct, MapCall, Race, Reporter, check_then_act, lock_name, snippet};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds read-modify-write on a synchronized map through two separate acquisitions: a value
    /// is read under one lock and what is written back under a second lock is derived from it,
    /// `let n = *m.lock().get(&k).unwrap_or(&0); m.lock().insert(k, n + 1)`, also when the value
    /// travels through locals and `if let` patterns ("present, then overwrite":
    /// `if let Some(v) = seen { m.lock().insert(k, v + 1) }`), is written through `get_mut` or
    /// the entry API on the second guard, or is read on a `DashMap` and written back.
    ///
    /// A key found absent and then inserted (a fill) is `map_duplicate_fill`'s.
    ///
    /// It stays silent when one gate lock taken exclusively is held around both halves, and
    /// when no other thread can reach the map (`&mut self` with no `Arc` or `Rc` on the way to
    /// it, or a mutex that is only ever locked right where it lives).
    ///
    /// ## Why is this bad?
    /// The lock is released between the read and the write, so two threads can read the same
    /// value and both write back their update of it: one update is lost. A rate limiter
    /// undercounts, a balance loses a deposit. It passes every single-threaded test.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let n = hits.lock().unwrap().get(&client).copied().unwrap_or(0);
    /// hits.lock().unwrap().insert(client, n + 1);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// *hits.lock().unwrap().entry(client).or_insert(0) += 1;
    /// ```
    /// or `maplint_maps::ShardedMap::update`.
    ///
    /// ## Fix safety
    /// When both halves lock with a direct call (`m.lock().unwrap()`, `m.write()`), the read is
    /// a statement of a block that contains the write, and nothing in between locks the same
    /// lock or awaits up to the end of that block, the fix binds the writer's guard once before
    /// the read and reads and writes through it. It is maybe-incorrect: the guard now lives to
    /// the end of the block, which holds the lock longer (a call there that locks it through a
    /// path the model does not follow would deadlock).
    ///
    /// ## Known problems
    /// - The value read is followed through `let` bindings and `if let` patterns; a value
    ///   passed through a helper function or a struct before it is written back is not.
    /// - A check stored by a block (`let n = { let g = m.lock(); g.get(&k).copied() };`) is
    ///   not recognized.
    /// - The map is identified by its access path; a second path to the same map through a
    ///   getter is not recognized.
    pub struct MapCheckThenAct {
        name: "map_check_then_act",
        level: Warn,
        summary: "a map value is read and written back under two separate lock acquisitions",
        fix: Sometimes,
        since: "0.1.0",
        interests: &[Interest::Locks, Interest::GuardedMaps],
    }
}

impl Rule for MapCheckThenAct {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        for pair in check_then_act(model, func) {
            if !matches!(pair.race, Race::LostUpdate) {
                continue;
            }
            let name = lock_name(model, func.body, pair.act.event);
            let mut finding = out
                .report(
                    pair.act.call,
                    format!("`{name}` is read and then updated under two separate locks: concurrent updates are lost"),
                )
                .primary_label("written here, under a second lock")
                .label(
                    pair.check.call,
                    "read here, under a first lock that is released at once",
                );
            finding = match one_guard(model, func, &pair) {
                Some((guard, edits)) => finding.suggestion_edits(
                    format!(
                        "read and write under one guard: `{guard}` now lives to the end of the block, so make sure nothing after the write needs `{name}`"
                    ),
                    edits,
                    Applicability::MaybeIncorrect,
                ),
                None => finding.help(
                    "read and write under one guard: bind the guard once (`let mut m = ..lock()`), or update in place with `entry(..).and_modify(..).or_insert(..)`",
                ),
            };
            finding
                .note("`maplint_maps::ShardedMap::update` reads and writes a key under one lock")
                .emit();
        }
    }
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

/// Bind the writer's guard once before the read: `let mut hits = self.hits.lock().unwrap();`,
/// then read and write through it. Offered when both halves are direct lock calls, the read is
/// a statement of a block that contains the write, and nothing from the read to the end of
/// that block locks the same lock or awaits (the guard would make it wait for itself, or
/// cross the `.await`).
fn one_guard(model: &Model, func: Function<'_>, pair: &CheckAct<'_>) -> Option<(String, Vec<Edit>)> {
    let body = func.body;
    if !matches!(pair.act.event.op, AcqOp::Lock { .. }) || pair.act.event.via.is_some() {
        return None;
    }
    let check_recv = receiver(model, body, &pair.check)?;
    let act_recv = receiver(model, body, &pair.act)?;
    let within = |inner: Span, outer: Span| inner.lo >= outer.lo && inner.hi <= outer.hi;
    let stmt = *body
        .statements
        .iter()
        .filter(|s| within(pair.check.call, **s))
        .min_by_key(|s| s.hi - s.lo)?;
    // The guard lives to the end of the block holding the read's statement: the write must be
    // in that block, after the statement.
    if pair.act.call.lo < stmt.hi
        || body
            .statements
            .iter()
            .any(|s| within(stmt, *s) && *s != stmt && !within(pair.act.call, *s))
    {
        return None;
    }
    // Until the end of the block: the statement around the read's, or the whole body.
    let end = body
        .statements
        .iter()
        .filter(|s| within(stmt, **s) && **s != stmt)
        .map(|s| s.hi)
        .min()
        .unwrap_or(u32::MAX);
    let between = Span::new(stmt.file, stmt.lo, end);
    let others = func.events().iter().any(|e| {
        e.lock == pair.act.event.lock
            && within(e.span, between)
            && !std::ptr::eq(e, pair.check.event)
            && !std::ptr::eq(e, pair.act.event)
    });
    if others || body.awaits.iter().any(|a| within(a.span, between)) {
        return None;
    }
    let taken = |n: &str| body.bindings.iter().any(|b| b.name == n);
    let guard = [pair.act.event.lock.fields.last().map(String::as_str), Some("guard")]
        .into_iter()
        .flatten()
        .find(|n| !taken(n))?
        .to_owned();
    let text = &model.texts[stmt.file as usize];
    let line_start = text[..stmt.lo as usize].rfind('\n').map_or(0, |p| p + 1);
    let indent = text.get(line_start..stmt.lo as usize)?;
    if !indent.chars().all(char::is_whitespace) {
        return None;
    }
    let edits = vec![
        Edit {
            span: Span::new(stmt.file, stmt.lo, stmt.lo),
            replacement: format!("let mut {guard} = {};\n{indent}", snippet(model, act_recv)),
        },
        Edit {
            span: check_recv,
            replacement: guard.clone(),
        },
        Edit {
            span: act_recv,
            replacement: guard.clone(),
        },
    ];
    Some((guard, edits))
}
