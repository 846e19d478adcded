use crate::catalog::{AcqOp, Interest};
use crate::diagnostic::Applicability;
use crate::model::{Function, Model};
use crate::rules::helpers::{Race, Reporter, check_then_act, lock_name};
use crate::rules::rewrite::one_guard;
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
    /// On the bundled maps (`maplint_maps`), each call locks on its own, so the same pair of
    /// calls races the same way; the help names the map's atomic call.
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
    /// - A read through a bound guard (`let n = { let g = m.lock(); g.get(&k).copied() };`) is
    ///   recognized only when the guard is used for that one call.
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
            if matches!(pair.act.event.op, AcqOp::Bundled { .. }) {
                // A bundled map has the atomic calls already.
                finding
                    .help("read and write the key in one call: `update(key, |v| ..)` or `compute(key, |v| ..)` run under one lock")
                    .emit();
                continue;
            }
            finding = match one_guard(model, func, &pair.check, &pair.act) {
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
