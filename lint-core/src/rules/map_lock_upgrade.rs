use crate::catalog::Interest;
use crate::model::locks::{AcqOp, LockMode};
use crate::model::{Function, Model};
use crate::rules::conflicts::{Words, report_conflicts};
use crate::rules::helpers::Reporter;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds `write()` on an `RwLock` around a map while a read guard (or an upgradable read
    /// guard) of the same lock is alive: the classic
    /// `if let Some(v) = m.read().get(k) { .. } else { m.write().insert(..) }` up to edition
    /// 2021, and in any edition when the write is in the then-block, in a `match` arm on the
    /// read, or after a `let`-bound read guard.
    ///
    /// ## Why is this bad?
    /// A write lock waits until every read guard is gone, including the one this thread still
    /// holds. It always deadlocks; no other thread is needed.
    ///
    /// ## Example
    /// ```rust,ignore
    /// if let Some(v) = cache.read().unwrap().get(&key) {
    ///     return v.clone();
    /// } else {
    ///     cache.write().unwrap().insert(key, compute());
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let mut map = cache.write().unwrap();
    /// map.entry(key).or_insert_with(compute).clone()
    /// ```
    /// or `maplint_maps::LockedMap::get_or_insert_with`.
    ///
    /// ## Fix safety
    /// When the write lock is taken where the read found the key absent (the `else` of an
    /// `if let`, a `None =>` arm) and both are direct lock calls, a maybe-incorrect fix binds one
    /// write guard before the statement and makes both calls on it: no upgrade, and the lookup
    /// and the insert stay one step, but the lookup now takes the write lock on every call. It
    /// is offered only when nothing else locks the same lock or awaits up to the end of the
    /// block. Otherwise, when the read guard belongs to a scrutinee's `get`, the fix copies the
    /// value out first (`let found = m.read().unwrap().get(&k).cloned();`, `found.as_ref()`
    /// as the scrutinee): the lookup and the write become two steps.
    ///
    /// ## Known problems
    /// - The same lock reached through a getter method or a reference stored elsewhere is not
    ///   recognized (see `map_lock_reentry`).
    /// - `upgradable_read` followed by `upgrade` is correct and not reported.
    /// - In a `macro_rules!` body, each rule is read once (one pass of each repetition): its
    ///   items, or its statements or expression as a function of their own (`name!`); a lock
    ///   named through a metavariable (`$map.lock()`, `static $name`) or through `self` (whose
    ///   type is the calling method's) is never followed. An invocation `name!(..)` of a macro of
    ///   one rule is a call of that function (its arguments are unknown uses) when the macro is in
    ///   the same file or is the package's only macro of that name; an invocation of a macro of
    ///   several rules, or of a name the package defines in several other files, is not followed.
    /// - The guard flow reports only guards that are alive on every path to the second
    ///   acquisition: a guard dropped on some paths only (`if c { drop(g) }`), or two different
    ///   guards joined from two branches of different locks, is silent.
    /// - A guard whose lock mode changes (`RwLockWriteGuard::downgrade`, `upgrade`) or that is
    ///   handed to a function the model cannot see (an external crate, a closure stored in a
    ///   field, a parameter whose type is not a lock guard type, like a generic `R: Deref`) is no
    ///   longer followed after that point.
    pub struct MapLockUpgrade {
        name: "map_lock_upgrade",
        level: Deny,
        summary: "a map's `RwLock` is write-locked while a read guard of it is alive",
        fix: Sometimes,
        since: "0.1.0",
        interests: &[Interest::RwLocks],
        clippy: ["significant_drop_in_scrutinee"],
    }
}

impl Rule for MapLockUpgrade {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let accept = |held, taken, _: &_| {
            matches!(
                (held, taken),
                (
                    AcqOp::Lock {
                        mode: LockMode::Read | LockMode::UpgradableRead | LockMode::ReadRecursive,
                        ..
                    },
                    AcqOp::Lock {
                        mode: LockMode::Write,
                        ..
                    }
                )
            )
        };
        report_conflicts(model, func, out, accept, |c| Words {
            message: format!(
                "`{}` is write-locked{} while a read guard of it from line {} is still alive",
                c.name, c.how, c.line
            ),
            primary: "this waits for every read guard, including the one above: deadlock".into(),
            held: "the read guard is taken here and is still alive".into(),
            help: "take the write lock once and use `entry(..)` under it, or drop the read guard before writing",
            note: Some("`maplint_maps::LockedMap::get_or_insert_with` looks up and inserts under one lock"),
        });
    }
}
