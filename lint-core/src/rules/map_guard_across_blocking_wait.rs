use crate::catalog::{AcqOp, Interest, LockMode};
use crate::model::body::WaitFor;
use crate::model::locks::LockEvent;
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, line_of, lock_name};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a guard of a map's lock (or a `DashMap` ref) alive while this thread waits for
    /// another one that needs the same lock: `handle.join()` on a thread whose closure locks
    /// the map, or `rx.recv()` on a channel whose senders are threads that lock the map. It
    /// fires only when the model sees the other side take the lock: the spawned closure of the
    /// handle, or a spawned closure that holds a sender of the channel, in the same function.
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
    /// - Only `JoinHandle::join` and channel `recv`/`recv_timeout`/`blocking_recv` are
    ///   followed, with the other side spawned in the same function; `Condvar` and `Barrier`
    ///   waits, and handles or senders passed to other functions, are not.
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
                    .flat_map(|&c| func.events_in(c))
                    .find(|o| o.lock == held.lock && waits_for(held.op, o.op))?;
                Some((held, other))
            });
            let Some((held, other)) = found else { continue };
            let name = lock_name(model, body, held);
            let line = line_of(model, held.span);
            let (what, waiting) = match wait.waits_for {
                WaitFor::Thread(_) => ("joins a thread", "waits here for the thread to finish"),
                WaitFor::Message(_) => ("waits for a message from a thread", "waits here for the message"),
            };
            out.report(
                wait.span,
                format!("this thread {what} that locks `{name}`, while its own guard from line {line} is still alive"),
            )
            .primary_label(format!("{waiting}, which cannot come: deadlock"))
            .label(held.span, "the guard is taken here and is still alive")
            .label(other.span, format!("the other thread waits for `{name}` here"))
            .help("end the guard before waiting (a block or `drop(guard)`), or take what the other thread needs before locking")
            .note("`maplint_maps::LockedMap` and `ShardedMap` run each operation under the lock inside one call, so no guard can be held across a wait")
            .emit();
        }
    }
}
