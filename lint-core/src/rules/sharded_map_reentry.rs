use crate::catalog::Interest;
use crate::model::body::BodyFacts;
use crate::model::locks::{AcqOp, LockEvent};
use crate::model::{Function, Model};
use crate::rules::conflicts::{Conflict, Words, report_conflicts};
use crate::rules::helpers::Reporter;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a guard into a `DashMap` (a `Ref` from `get`, a `RefMut` from `get_mut`, an
    /// `Entry`, an iterator) that is alive while the same thread calls a locking method on the
    /// same map: `insert`, `remove`, `entry`, `get_mut`, `alter`, `retain`, `clear`, or `get`
    /// while holding a `RefMut`/`Entry`, or `iter` while holding a write guard. The guard can
    /// be a `let` binding, a scrutinee temporary (`if let Some(r) = map.get(k) { map.insert(..) }`),
    /// a loop over `iter()`, a `Ref` bound out of a `match` arm, or come from a helper of the
    /// same crate (also inside a struct or tuple it returns). `DashSet` counts too.
    ///
    /// Also finds a bundled map (`maplint_maps::ShardedMap`, `LockedMap`, `SnapshotMap`) used
    /// from inside one of its own closures (`update`, `with`, `compute` and every other method
    /// that runs one), directly or through a helper of the package, including a map named for
    /// its metrics (`ShardedMap::new().named("hits")` is the same map): those maps panic there.
    ///
    /// ## Why is this bad?
    /// Every `DashMap` guard holds its shard's `RwLock`. Writing to a key of the same shard
    /// waits for that guard forever. `DashMap`'s refs are `Send`, so nothing stops it at compile
    /// time, and whether two keys share a shard changes from run to run.
    ///
    /// ## Example
    /// ```rust,ignore
    /// if let Some(session) = sessions.get(&id) {
    ///     sessions.insert(id, session.refreshed());
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let refreshed = sessions.get(&id).map(|s| s.refreshed());
    /// if let Some(s) = refreshed {
    ///     sessions.insert(id, s);
    /// }
    /// ```
    /// or `maplint_maps::ShardedMap::update(&id, |s| *s = s.refreshed())`: its closure API
    /// cannot hold a guard.
    ///
    /// ## Fix safety
    /// When the `Ref` belongs to a `match`/`if let` scrutinee's `get`, a maybe-incorrect fix
    /// copies the value out before the statement
    /// (`let found = map.get(&k).map(|r| r.value().clone());` and `found.as_ref()` as the
    /// scrutinee, so the arms see a `&V` as before): the shard is released before the map is
    /// used again, the value must be `Clone`, and the lookup and what follows become two steps.
    ///
    /// ## Known problems
    /// - Two reads (`get` while holding a `Ref`) are not reported, although they can deadlock
    ///   when a writer queues on the shard between them.
    /// - In a `None` arm, the `else` of `if let Some(r) = map.get(k)` or after `r.is_none()`,
    ///   the `Option` holds no `Ref`, so a write there is not reported (it is a check-then-act
    ///   race, which `map_check_then_act` reports).
    /// - A `Ref` handed out through a generic or `dyn` value, or by a helper whose signature the
    ///   model cannot follow, is not followed; a map reached through a getter
    ///   (`fn sessions(&self) -> &DashMap<..>`) is not the field it returns.
    /// - The guard flow reports only guards that are alive on every path to the second
    ///   acquisition: a guard dropped on some paths only (`if c { drop(g) }`), or two different
    ///   guards joined from two branches of different locks, is silent.
    pub struct ShardedMapReentry {
        name: "sharded_map_reentry",
        level: Deny,
        summary: "a `DashMap` is locked again while one of its guards is alive, or a bundled map is used inside its own closure",
        fix: Sometimes,
        since: "0.1.0",
        interests: &[Interest::GuardedMaps],
    }
}

/// A bundled map used from inside one of its own closures: it panics there.
fn bundled_words(model: &Model, c: &Conflict<'_>) -> Words {
    // (Through a call: the method the callee calls.)
    let method = |e: &LockEvent| model.origin_acquisition(e).map_or("?", |a| a.method.as_str());
    let (outer, inner) = (method(c.held), method(c.taken));
    Words {
        message: format!(
            "`{}.{inner}` is called{} inside the closure of `{}.{outer}` (line {}): the map panics on re-entry",
            c.name, c.how, c.name, c.line
        ),
        primary: format!("this calls `{}` again while its `{outer}` closure runs", c.name),
        held: format!("`{outer}` runs this closure while it holds `{}`", c.name),
        help: "return what the closure found and call the map again after `update`/`with` returns, or do both in one closure (`get_or_insert_with`, `update`)",
        note: Some(
            "the maplint-maps maps check for re-entry on every call and panic instead of deadlocking on their own lock (or losing a `SnapshotMap` update)",
        ),
    }
}

fn guard_name(body: &BodyFacts, e: &LockEvent) -> &'static str {
    let method = e.acquisition.map(|i| body.acquisitions[i].method.as_str());
    match method {
        Some("get" | "try_get") => "a `Ref`",
        Some("get_mut" | "try_get_mut") => "a `RefMut`",
        Some("entry" | "try_entry") => "an `Entry`",
        Some("iter" | "iter_mut") => "an iterator",
        _ => "a guard",
    }
}

impl Rule for ShardedMapReentry {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let accept = |held, taken, _: &_| AcqOp::shard_conflict(held, taken) || AcqOp::bundled_reentry(held, taken);
        report_conflicts(model, func, out, accept, |c| {
            if c.held.op.runs_closure() {
                return bundled_words(model, c);
            }
            let guard = guard_name(c.body, c.held);
            Words {
                message: format!(
                    "`{}` is locked again{} while {guard} from line {} still holds its shard",
                    c.name, c.how, c.line
                ),
                primary: "this waits for the shard lock held by the guard: deadlock when the keys share a shard".into(),
                held: format!("{guard} into `{}` is taken here and is still alive", c.name),
                help: "copy the value out first (`.map(|r| r.clone())`) or end the guard before writing to the map",
                note: Some(
                    "`maplint_maps::ShardedMap` has no guards: `update` and `get_or_insert_with` run a closure under the shard lock",
                ),
            }
        });
    }
}
