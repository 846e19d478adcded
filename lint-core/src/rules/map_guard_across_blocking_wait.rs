use crate::catalog::{AcqOp, Interest, LockMode};
use crate::model::body::{SpawnKind, WaitFor};
use crate::model::locks::LockEvent;
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, line_of, lock_name};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a guard of a map's lock (or a `DashMap` ref) alive while this thread waits for
    /// another one that needs the same lock: `handle.join()` on a thread whose closure locks
    /// the map; `rx.recv()` on a channel whose senders are threads that lock the map;
    /// `cvar.wait(guard)` on a `Condvar` that a thread notifies after locking the map;
    /// `barrier.wait()` on a `Barrier` that another thread reaches after locking the map;
    /// `rt.block_on(handle)` on a task that locks the map, and `block_on(async { .. })` on a
    /// future that locks it (the future runs on this thread). It fires only when the model sees
    /// the other side take the lock, in the same function: the spawned closure of the handle, a
    /// spawned closure that holds a sender of the channel, that notifies (before its first
    /// `notify_*`), or that uses the same barrier (before it does), or the async block.
    ///
    /// ## Why is this bad?
    /// This thread keeps the lock and waits; the other thread waits for the lock before it can
    /// finish or send. Neither moves: a deadlock made of two threads, each correct on its own.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let mut jobs = self.jobs.lock().unwrap();
    /// let jobs2 = Arc::clone(&self.jobs);
    /// let worker = thread::spawn(move || jobs2.lock().unwrap().clear());
    /// worker.join().unwrap();
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let jobs2 = Arc::clone(&self.jobs);
    /// let worker = thread::spawn(move || jobs2.lock().unwrap().clear());
    /// worker.join().unwrap();
    /// let mut jobs = self.jobs.lock().unwrap();
    /// ```
    ///
    /// ## Known problems
    /// - The other side must be spawned in the same function; handles, senders, condition
    ///   variables and barriers passed to other functions or kept in struct fields are not
    ///   followed.
    /// - A `Condvar` wait is recognized by its argument, a binding that holds a lock's guard;
    ///   which condition variable a thread notifies is not checked, so a thread that locks the
    ///   map and then notifies another condition variable of the same function counts.
    /// - The other thread is assumed to reach its lock; a lock it takes only on some paths is
    ///   reported all the same.
    pub struct MapGuardAcrossBlockingWait {
        name: "map_guard_across_blocking_wait",
        level: Warn,
        summary: "a map's guard is held while this thread waits for a thread that locks it",
        fix: None,
        since: "0.1.0",
        interests: &[Interest::Locks, Interest::GuardedMaps],
        requires: crate::rules::SPAWNS,
    }
}

/// Does the other thread's `other` wait for a guard `held` of the same lock?
fn waits_for(held: AcqOp, other: AcqOp) -> bool {
    match (held, other) {
        (
            AcqOp::Lock { mode, .. },
            AcqOp::Lock {
                mode: m2,
                is_try: false,
            },
        ) => !matches!(
            (mode, m2),
            (
                LockMode::Read | LockMode::ReadRecursive,
                LockMode::Read | LockMode::ReadRecursive
            )
        ),
        _ => AcqOp::shard_conflict(held, other),
    }
}

impl Rule for MapGuardAcrossBlockingWait {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let body = func.body;
        for (i, wait) in body.blocking_waits.iter().enumerate() {
            // The closures running on the other side.
            let others = body.waited_closures(wait);
            let found = func.held_at_blocking_wait(i).find_map(|held| {
                if !held.on_map {
                    return None;
                }
                let other: &LockEvent = others
                    .iter()
                    .flat_map(|&(c, until)| func.events_in(c).filter(move |o| o.span.lo < until))
                    .find(|o| o.lock == held.lock && waits_for(held.op, o.op))?;
                Some((held, other))
            });
            let Some((held, other)) = found else { continue };
            let name = lock_name(model, body, held);
            let line = line_of(model, held.span);
            let (what, waiting) = match wait.waits_for {
                WaitFor::Thread(s) if body.spawns[s].kind == SpawnKind::Task => {
                    ("waits for a task", "waits here for the task to finish")
                }
                WaitFor::Thread(_) => ("joins a thread", "waits here for the thread to finish"),
                WaitFor::Message(_) => ("waits for a message from a thread", "waits here for the message"),
                WaitFor::Notify => (
                    "waits on a condition variable notified by a thread",
                    "waits here for the notification",
                ),
                WaitFor::Barrier(_) => ("waits at a barrier for a thread", "waits here for the other thread"),
                WaitFor::Future(_) => ("blocks on a future", "runs the future here, on this thread"),
            };
            let other_side = if matches!(wait.waits_for, WaitFor::Future(_)) {
                format!("the future waits for `{name}` here")
            } else {
                format!("the other thread waits for `{name}` here")
            };
            out.report(
                wait.span,
                format!("this thread {what} that locks `{name}`, while its own guard from line {line} is still alive"),
            )
            .primary_label(format!("{waiting}, which cannot finish: deadlock"))
            .label(held.span, "the guard is taken here and is still alive")
            .label(other.span, other_side)
            .help("end the guard before waiting (a block or `drop(guard)`), or take what the other thread needs before locking")
            .note("`maplint_maps::LockedMap` and `ShardedMap` run each operation under the lock inside one call, so no guard can be held across a wait")
            .emit();
        }
    }
}
