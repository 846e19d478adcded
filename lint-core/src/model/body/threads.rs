//! Threads and tasks: which calls spawn, and what runs in the spawned context.

use super::{Spawn, SpawnBody, SpawnKind, Walker, peel};
use crate::catalog::{PAR_ITER_METHODS, SPAWN_FNS, SPAWN_METHODS, SPAWN_ROOTS};
use crate::model::ir::{Expr, ExprKind};

impl Walker<'_> {
    /// Classifies a called path as a spawner, through `use` imports.
    pub(super) fn spawner(&self, names: &[String]) -> Option<Spawner> {
        let expanded = self.ix.expand_path(self.file, names);
        let refs: Vec<&str> = expanded.iter().map(String::as_str).collect();
        if self.ix.is_configured_spawner(&refs) {
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
                    self.facts.closure_bindings.get(&b).map(|c| SpawnBody::Closure(*c))
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
