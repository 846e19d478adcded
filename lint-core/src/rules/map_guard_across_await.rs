use crate::catalog::Interest;
use crate::model::locks::{AcqOp, LockEvent, lock_lib};
use crate::model::types::LockLib;
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, held_across_awaits, line_of, lock_name, moved_into_label};
use crate::rules::rewrite::offer_drop_before_await;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a guard of a blocking lock around a map (std, `parking_lot` or spin `Mutex` /
    /// `RwLock`), or a `DashMap` `Ref`/`RefMut`/`Entry`/iterator, that is alive across an
    /// `.await` in an async fn or block.
    ///
    /// ## Why is this bad?
    /// While the task is suspended it keeps the lock. Another task on the same executor thread
    /// that takes the lock blocks the thread, so the first task can never be polled again to
    /// release it: a deadlock, or at best a stalled executor. `DashMap` refs are `Send`, so the
    /// compiler does not catch it, and `parking_lot` guards with `send_guard` neither.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let mut sessions = self.sessions.lock().unwrap();
    /// let user = fetch_user(id).await;
    /// sessions.insert(id, user);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let user = fetch_user(id).await;
    /// self.sessions.lock().unwrap().insert(id, user);
    /// ```
    /// or `maplint_maps::ShardedMap`, whose closure API cannot keep a guard across an
    /// `.await`. Use `tokio::sync::Mutex` only when the lock must really be held across it.
    ///
    /// ## Fix safety
    /// When the guard is a `let` binding of the block that holds the `.await` and nothing from
    /// the `.await`'s statement on uses it, a maybe-incorrect fix inserts `drop(guard);` before
    /// that statement. The lock is released earlier than before (at the `drop`, not at the end
    /// of the block), which matters only if the code relied on holding it across the `.await`.
    ///
    /// ## Known problems
    /// - Guards of `tokio`, `async-lock` and `futures` locks are designed to be held across
    ///   `.await` and are not reported; locks from crates the model does not know are skipped.
    /// - Whether another task can reach the lock is not checked: a guard into a private copy of
    ///   a map (a cloned `DashMap`) is reported like any other.
    /// - A guard dropped on some paths only is not reported.
    /// - A guard moved into an async function is followed only into a function of the package
    ///   that takes it as a guard-typed parameter, and only to an `.await` of that function's
    ///   future in the caller; a future passed to `join!`, `select!` or a spawner is not
    ///   followed.
    /// - An async block or closure is its own context: a guard alive where the block is created
    ///   is not held across the block's own awaits.
    pub struct MapGuardAcrossAwait {
        name: "map_guard_across_await",
        level: Warn,
        summary: "a blocking guard of a map is held across an `.await`",
        fix: Sometimes,
        since: "0.1.0",
        interests: &[Interest::Locks, Interest::GuardedMaps],
        clippy: ["await_holding_lock"],
    }
}

impl Rule for MapGuardAcrossAwait {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let body = func.body;
        let blocks_thread = |e: &LockEvent| match e.op {
            AcqOp::Lock { .. } => lock_lib(&e.lock_ty).is_some_and(LockLib::blocks_thread),
            AcqOp::Sharded { guard, .. } => guard,
            // (A bundled map's closure cannot `.await`.)
            AcqOp::Borrow { .. } | AcqOp::Bundled { .. } => false,
        };
        for (a, held, via) in held_across_awaits(func, blocks_thread) {
            let name = lock_name(model, body, held);
            let line = line_of(model, held.span);
            let await_kw = a.span;
            let what = if matches!(held.op, AcqOp::Sharded { .. }) {
                "a `DashMap` guard into"
            } else {
                "a guard of"
            };
            let finding = out
                .report(
                    await_kw,
                    format!("{what} `{name}` from line {line} is held across this `.await`"),
                )
                .primary_label("the task may be suspended here while the lock is held")
                .label(held.span, "the guard is taken here and is still alive at the `.await`")
                .help("copy what you need out of the map and drop the guard before `.await`");
            let finding = moved_into_label(model, via, "guard", finding);
            offer_drop_before_await(finding, model, body, held, a)
            .note("`maplint_maps::ShardedMap`'s closure API cannot hold a guard across an `.await`; use `tokio::sync::Mutex` only when the lock must be held across it")
                .emit();
        }
    }
}
