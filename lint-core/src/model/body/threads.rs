//! Threads and tasks: which calls spawn, and what runs in the spawned context.

use super::{BlockingWait, Channel, Spawn, SpawnBody, SpawnKind, WaitFor, Walker, peel};
use crate::catalog::{
    BARRIER_TYPE, BLOCK_ON, CONDVAR_WAITS, NOTIFY_METHODS, PAR_ITER_METHODS, SPAWN_FNS, SPAWN_METHODS, SPAWN_ROOTS,
};
use crate::model::ir::Pat;
use crate::model::ir::{Expr, ExprKind};

/// What a `let` makes that a blocking wait can wait on.
#[derive(Clone, Copy)]
pub(super) enum ThreadEnd {
    /// `let h = thread::spawn(..);`: the spawn.
    Handle(usize),
    /// `let (tx, rx) = mpsc::channel();`: a new channel.
    Channel,
    /// `let tx2 = tx.clone();`: another sender of this channel.
    Sender(usize),
    /// `let b = Arc::new(Barrier::new(n));`: a barrier.
    Barrier,
}

impl Walker<'_> {
    /// What `let PAT = init` binds among thread handles and channel ends.
    pub(super) fn thread_ends(&self, pat: &Pat, init: &Expr) -> Option<ThreadEnd> {
        let mut e = peel(init);
        while let ExprKind::MethodCall { recv, method, .. } = &e.kind
            && matches!(method.as_str(), "unwrap" | "expect")
        {
            e = recv;
        }
        if let Some(i) = self.facts.spawns.iter().position(|s| s.call == e.id) {
            return Some(ThreadEnd::Handle(i));
        }
        if is_barrier_new(e) {
            return Some(ThreadEnd::Barrier);
        }
        match (&e.kind, pat) {
            (ExprKind::Call { func, .. }, Pat::Tuple(ps)) if ps.len() == 2 => {
                let ExprKind::Path(names) = &func.kind else { return None };
                let last = names.last()?.as_str();
                let channel_fn = matches!(last, "channel" | "sync_channel" | "unbounded" | "bounded");
                let known = self.ix.fn_by_path(self.file, names, self.self_ty.as_ref()).is_none();
                (channel_fn && known).then_some(ThreadEnd::Channel)
            }
            (ExprKind::MethodCall { recv, method, args, .. }, _) if method == "clone" && args.is_empty() => {
                let ExprKind::Path(names) = &recv.kind else { return None };
                let b = self.lookup(names.first()?)?;
                let ch = self.facts.channels.iter().position(|c| c.senders.contains(&b))?;
                Some(ThreadEnd::Sender(ch))
            }
            _ => None,
        }
    }

    /// Records the ends a `let` bound (its first binding is `first`).
    pub(super) fn record_thread_ends(&mut self, ends: Option<ThreadEnd>, first: u32) {
        match ends {
            Some(ThreadEnd::Handle(i)) => {
                self.facts.join_handles.insert(first, i);
            }
            Some(ThreadEnd::Channel) if (first as usize + 1) < self.facts.bindings.len() => {
                self.facts.channels.push(Channel {
                    senders: vec![first],
                    receivers: vec![first + 1],
                });
            }
            Some(ThreadEnd::Sender(c)) => self.facts.channels[c].senders.push(first),
            Some(ThreadEnd::Barrier) if (first as usize) < self.facts.bindings.len() => {
                let id = self.facts.bindings[first as usize].identity;
                self.facts.barriers.push(id);
            }
            _ => {}
        }
    }

    /// `h.join()`, `rx.recv()`, `cvar.wait(guard)`, `barrier.wait()`, `rt.block_on(..)`: a
    /// method call that waits for another thread (or runs a future to its end).
    pub(super) fn blocking_wait(&mut self, e: &Expr, recv: &Expr, method: &str, args: &[Expr]) {
        if NOTIFY_METHODS.contains(&method) && args.is_empty() {
            let closures = self.closures();
            self.facts.notifies.push((e.span, closures));
            return;
        }
        if method == BLOCK_ON {
            if let [fut] = args {
                self.block_on(e, fut);
            }
            return;
        }
        // A condition variable's wait takes the guard of its own mutex (and gives it back).
        if CONDVAR_WAITS.contains(&method) && args.first().is_some_and(|a| self.guard_binding(a).is_some()) {
            self.push_wait(e, WaitFor::Notify);
            return;
        }
        let ExprKind::Path(names) = &recv.kind else { return };
        let Some(b) = names.first().and_then(|n| self.lookup(n)) else {
            return;
        };
        let waits_for = match method {
            "join" => self.facts.join_handles.get(&b).map(|&i| WaitFor::Thread(i)),
            "recv" | "recv_timeout" | "blocking_recv" => self
                .facts
                .channels
                .iter()
                .position(|c| c.receivers.contains(&b))
                .map(WaitFor::Message),
            "wait" if args.is_empty() => {
                let id = self.facts.bindings[b as usize].identity;
                self.facts.barriers.contains(&id).then_some(WaitFor::Barrier(id))
            }
            _ => None,
        };
        if let Some(waits_for) = waits_for {
            self.push_wait(e, waits_for);
        }
    }

    /// `block_on(fut)` (a function or a runtime's method): waits for a spawned task's handle,
    /// or runs an async block on this thread.
    pub(super) fn block_on(&mut self, e: &Expr, fut: &Expr) {
        let fut = peel(fut);
        let waits_for = match &fut.kind {
            ExprKind::Async { .. } => Some(WaitFor::Future(fut.id)),
            ExprKind::Path(names) if names.len() == 1 => self
                .lookup(&names[0])
                .and_then(|b| self.facts.join_handles.get(&b))
                .map(|&i| WaitFor::Thread(i)),
            _ => None,
        };
        if let Some(waits_for) = waits_for {
            self.push_wait(e, waits_for);
        }
    }

    fn push_wait(&mut self, e: &Expr, waits_for: WaitFor) {
        let span = match &e.kind {
            ExprKind::MethodCall { method_span, .. } => *method_span,
            ExprKind::Call { func, .. } => func.span,
            _ => e.span,
        };
        self.facts.blocking_waits.push(BlockingWait {
            expr: e.id,
            span,
            waits_for,
            closures: self.closures(),
        });
    }

    /// Classifies a called path as a spawner, through `use` imports.
    pub(super) fn spawner(&self, names: &[String]) -> Option<Spawner> {
        if self.ix.is_configured_spawner(&self.ix.expand_path(self.file, names)) {
            return Some(Spawner::Spawn(SpawnKind::Thread));
        }
        let scope = &self.ix.scopes[self.file as usize];
        let mut full: Vec<String> = match scope.uses.get(&names[0]) {
            Some(p) => p.iter().chain(&names[1..]).cloned().collect(),
            None => names.to_vec(),
        };
        if full.first().is_some_and(|f| f == "std" || f == "core") {
            full.remove(0);
        }
        let last = full.last()?.as_str();
        // `Type::spawn(..)` is a method called as a function (the lexer counts it as a method).
        let as_method = crate::model::items::is_member_path(names);
        if !SPAWN_FNS.contains(&last)
            || (as_method && !SPAWN_METHODS.contains(&last))
            || !full.iter().any(|s| SPAWN_ROOTS.contains(&s.as_str()))
        {
            return None;
        }
        let parent = full.len().checked_sub(2).map(|i| full[i].as_str());
        let root = full.first().map(String::as_str);
        Some(match (root, parent, last) {
            (_, Some("thread"), "spawn") if root != Some("async_std") && root != Some("smol") => {
                Spawner::Spawn(SpawnKind::Thread)
            }
            (_, Some("thread" | "crossbeam" | "crossbeam_utils"), "scope")
            | (_, Some("rayon"), "scope" | "in_place_scope" | "scope_fifo") => Spawner::Scope,
            (Some("rayon"), _, "spawn" | "spawn_fifo" | "spawn_broadcast") => Spawner::Spawn(SpawnKind::Rayon),
            (Some("rayon"), _, "join") => Spawner::Join,
            (
                Some("tokio" | "async_std" | "smol" | "task" | "actix_rt"),
                _,
                "spawn" | "spawn_blocking" | "spawn_local",
            ) => Spawner::Spawn(SpawnKind::Task),
            (_, Some("task"), "spawn" | "spawn_blocking" | "spawn_local") => Spawner::Spawn(SpawnKind::Task),
            (_, Some("thread"), "spawn") => Spawner::Spawn(SpawnKind::Task),
            _ => return None,
        })
    }

    /// A call of the spawn helper `callee` (see `ItemIndex::spawners`): what it is given at a
    /// spawned position is spawned here. `skip` is 1 when `self` is the receiver, not `args[0]`.
    pub(super) fn helper_spawns(&mut self, callee: u32, call: &Expr, args: &[Expr], skip: usize) {
        let Some(spawned) = self.ix.spawners.get(&callee) else {
            return;
        };
        let skip = self.receiver_skip(callee, skip);
        for &(pos, kind) in spawned {
            if let Some(a) = pos.checked_sub(skip).and_then(|i| args.get(i)) {
                self.register_spawn(kind, call, a, None);
            }
        }
    }

    /// A call of the closure runner `callee` (see `ItemIndex::closure_runners`): a closure
    /// written at a position it calls runs during the call. `skip` as for [`Self::helper_spawns`].
    pub(super) fn runner_closures(&mut self, callee: u32, args: &[Expr], skip: usize) {
        let Some(runs) = self.ix.closure_runners.get(&callee) else {
            return;
        };
        let skip = self.receiver_skip(callee, skip);
        for &pos in runs {
            if let Some(a) = pos.checked_sub(skip).and_then(|i| args.get(i)) {
                let c = super::unwrap_closure(a);
                if matches!(c.kind, ExprKind::Closure(_)) {
                    self.facts.sync_closures.insert(c.id);
                }
            }
        }
    }

    /// How many parameters of `callee` come before the call's first argument: `self` when the
    /// call has a receiver (`skip` 1) and the callee takes one. A path call of a method
    /// (`Type::run(x, job)`) passes `self` as its first argument.
    pub(super) fn receiver_skip(&self, callee: u32, skip: usize) -> usize {
        if self.ix.fns[callee as usize].def.self_kind.is_some() {
            skip
        } else {
            0
        }
    }

    /// A condition that is a parameter of this function, or its negation: the parameter's
    /// position and the value it has where the condition holds.
    pub(super) fn param_test(&self, cond: &Expr) -> Option<(usize, bool)> {
        let (e, value) = match &cond.kind {
            ExprKind::Unary {
                op: crate::model::ir::UnOp::Not,
                expr,
            } => (&**expr, false),
            _ => (cond, true),
        };
        let ExprKind::Path(names) = &e.kind else { return None };
        let [name] = names.as_slice() else { return None };
        let b = self.lookup(name)?;
        Some((self.facts.param_pos(b)?, value))
    }

    /// The kind of the innermost spawn whose closure encloses this point, if any.
    pub(super) fn spawned_here(&self) -> Option<SpawnKind> {
        let c = *self.closure_stack.last()?;
        self.facts
            .spawns
            .iter()
            .find(|s| s.body == SpawnBody::Closure(c))
            .map(|s| s.kind)
    }

    /// The binding `b`, when it is a parameter of this function, is spawned (of `kind`).
    pub(super) fn param_spawned(&mut self, b: u32, kind: SpawnKind) {
        if let Some(pos) = self.facts.param_pos(b)
            && !self.facts.spawned_params.contains(&(pos, kind))
        {
            self.facts.spawned_params.push((pos, kind));
        }
    }

    pub(super) fn register_spawn(&mut self, kind: SpawnKind, call: &Expr, arg: &Expr, scope: Option<u32>) {
        let arg = peel(arg);
        let span = match &call.kind {
            ExprKind::MethodCall { method_span, .. } => *method_span,
            ExprKind::Call { func, .. } => func.span,
            _ => call.span,
        };
        let body = match &arg.kind {
            ExprKind::Closure(_) | ExprKind::Async { .. } => {
                self.pending_spawn_closures.insert(arg.id, kind);
                Some(SpawnBody::Closure(arg.id))
            }
            ExprKind::Path(names) => {
                if names.len() == 1
                    && let Some(b) = self.lookup(&names[0])
                {
                    let closure = self.facts.closure_bindings.get(&b).map(|c| SpawnBody::Closure(*c));
                    if closure.is_none() && scope.is_none() {
                        // `thread::spawn(job)`, `job` a parameter: this function is a helper.
                        self.param_spawned(b, kind);
                    }
                    closure
                } else {
                    self.ix
                        .fn_by_path(self.file, names, self.self_ty.as_ref())
                        .map(SpawnBody::Fn)
                }
            }
            ExprKind::Call { func, .. } => match &func.kind {
                // `tokio::spawn(worker(state))`: the async fn runs in the task.
                ExprKind::Path(names) => self
                    .ix
                    .fn_by_path(self.file, names, self.self_ty.as_ref())
                    .map(SpawnBody::Fn),
                _ => None,
            },
            _ => None,
        };
        if let Some(body) = body {
            let repeated_from = self.repeat.last().copied().unwrap_or(u32::MAX);
            self.facts.spawns.push(Spawn {
                kind,
                call: call.id,
                span,
                body,
                scope,
                repeated: !self.repeat.is_empty(),
                repeated_from,
                closures: self.closures(),
            });
        }
    }
}

pub(super) enum Spawner {
    Spawn(SpawnKind),
    Join,
    Scope,
}

/// Does the receiver chain contain a call `.. A::B(..)` (e.g. `thread::Builder::new()`)?
pub(super) fn chain_has_call(e: &Expr, tail: &[&str]) -> bool {
    match &e.kind {
        ExprKind::MethodCall { recv, .. } => chain_has_call(recv, tail),
        ExprKind::Call { func, .. } => match &func.kind {
            ExprKind::Path(names) => {
                names.len() >= tail.len() && names[names.len() - tail.len()..].iter().zip(tail).all(|(a, b)| a == b)
            }
            _ => false,
        },
        _ => false,
    }
}

/// Is this receiver chain a rayon parallel iterator?
pub(super) fn chain_has_par_iter(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::MethodCall { recv, method, .. } => {
            PAR_ITER_METHODS.contains(&method.as_str()) || chain_has_par_iter(recv)
        }
        _ => false,
    }
}

/// `Barrier::new(n)`, possibly inside `Arc::new(..)`.
fn is_barrier_new(e: &Expr) -> bool {
    let ExprKind::Call { func, args } = &e.kind else {
        return false;
    };
    let ExprKind::Path(names) = &func.kind else {
        return false;
    };
    match names.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [.., ty, "new"] if *ty == BARRIER_TYPE => true,
        [.., "Arc" | "Rc", "new"] => args.first().is_some_and(|a| is_barrier_new(peel(a))),
        _ => false,
    }
}
