use crate::catalog::Interest;
use crate::model::Model;
use crate::model::locks::{LockClass, OrderEdge};
use crate::rules::helpers::{Reporter, line_of};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds locks taken in a cycle of orders somewhere in the crate, at least one of them
    /// around a map or set: `A` then `B` in one function and `B` then `A` in another, or a ring
    /// of three or four (`parse` → `check` → `emit` → `parse`), directly, through calls, or
    /// inside a helper given the two locks in either order (`transfer(&a, &b)` and
    /// `transfer(&b, &a)`). The other locks of the cycle can guard anything (`Mutex<Stats>`).
    /// Each cycle is reported once, at its first site, with every other site as a label.
    /// A bundled map's closure (`a.update(k, |_| b.insert(..))` with `maplint_maps` maps) holds
    /// that map's lock (its shard's) while it runs, so it orders the locks taken inside it; so
    /// does a closure-taking helper of the crate (`fn with<R>(&self, f: impl FnOnce(&mut T) ->
    /// R) -> R { f(&mut self.inner.lock().unwrap()) }`) for the closure written in its call.
    ///
    /// ## Why is this bad?
    /// When the two run at the same time, each thread holds one lock and waits for the other:
    /// a deadlock that only happens under load.
    ///
    /// ## Example
    /// ```rust,ignore
    /// fn transfer(&self) {
    ///     let users = self.users.lock().unwrap();
    ///     let orders = self.orders.lock().unwrap();
    /// }
    /// fn audit(&self) {
    ///     let orders = self.orders.lock().unwrap();
    ///     let users = self.users.lock().unwrap();
    /// }
    /// ```
    /// Use instead: take the locks in one global order everywhere (`users` before `orders`),
    /// or keep related maps behind one lock.
    ///
    /// ## Known problems
    /// - A closure-taking helper orders the locks of a closure only when the closure is
    ///   written in the call and the helper calls its parameter directly in its body, under
    ///   the lock (see `map_lock_reentry`'s known problems).
    /// - In a `macro_rules!` body, each rule is read once (one pass of each repetition): its
    ///   items, or its statements or expression as a function of their own (`name!`); a lock
    ///   named through a metavariable (`$map.lock()`, `static $name`) or through `self` (whose
    ///   type is the calling method's) is never followed. An invocation `name!(..)` of a macro of
    ///   one rule is a call of that function (its arguments are unknown uses) when the macro is in
    ///   the same file or is the package's only macro of that name; an invocation of a macro of
    ///   several rules, or of a name the package defines in several other files, is not followed.
    /// - Locks are named by type and field (`Ledger.accounts`, for `self` and any value of that
    ///   struct) or by static; two instances of one struct are not told apart (a cycle of one
    ///   field locked through two instances, `a.lock` then `b.lock`, is not reported). A local
    ///   that the function moves into a field of a struct literal (`let rooms = Arc::new(..);
    ///   .. Presence { sessions, rooms }`), and its `Arc` clones (a spawned task's, a stored
    ///   handler's), is that field's lock. Locks held in other locals are compared only within
    ///   one function, between a spawned closure and the code that spawned it.
    /// - A cycle is not reported when one lock taken exclusively is held around each of its
    ///   edges (a gate), nor when all of its locks are read locks that the package never
    ///   write-locks.
    /// - Cycles of more than four locks, `try_lock`, `DashMap` shards and `RefCell`s are not
    ///   considered.
    /// - An edge is recorded only where the first guard is certainly alive (the guard flow);
    ///   a guard released on some paths only adds no edge.
    pub struct MapLockOrderInversion {
        name: "map_lock_order_inversion",
        level: Warn,
        summary: "locks around maps are taken in a cycle of opposite orders",
        fix: None,
        since: "0.1.0",
        interests: &[Interest::Locks],
    }
}

impl Rule for MapLockOrderInversion {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_file(&self, model: &Model, file: u32, out: &mut Reporter<'_>) {
        let g = &model.lock_graph;
        let name = |c: &LockClass| c.describe(&model.items, &model.bodies);
        let fn_name = |e: &OrderEdge| model.items.fns[e.fn_id as usize].def.name.clone();
        // Each cycle that can deadlock once, at its first site in the package.
        for cycle in &g.deadlocks {
            let edges: Vec<&OrderEdge> = cycle.iter().map(|&i| &g.edges[i]).collect();
            let e = edges[0];
            if e.second_span.file != file {
                continue;
            }
            let read_links = g.read_only_links(cycle);
            let message = if let [_, other] = edges.as_slice() {
                format!(
                    "`{}` is locked while `{}` is held, but `{}` takes them in the opposite order (line {})",
                    name(&e.second),
                    name(&e.first),
                    fn_name(other),
                    line_of(model, other.second_span)
                )
            } else {
                let ring: Vec<String> = edges.iter().map(|x| format!("`{}`", name(&x.first))).collect();
                format!(
                    "{} are taken in a cycle, each while holding the one before it: threads running these {} places at once deadlock",
                    ring.join(" → ") + &format!(" → `{}`", name(&e.first)),
                    edges.len()
                )
            };
            let mut finding = out.report(e.second_span, message);
            finding = if let Some(callee) = e.inside {
                finding.primary_label(format!(
                    "`{}` takes `{}` here while holding `{}`",
                    model.items.fns[callee as usize].def.name,
                    name(&e.second),
                    name(&e.first)
                ))
            } else {
                let by = if e.through_closure.is_some() {
                    " by the closure called"
                } else {
                    ""
                };
                let f = finding
                    .primary_label(format!(
                        "`{}` taken{by} here while `{}` is held",
                        name(&e.second),
                        name(&e.first)
                    ))
                    .label(e.first_span, format!("`{}` taken first here", name(&e.first)));
                match e.through_closure {
                    Some(at) => f.label(at, "the closure takes it here"),
                    None => f,
                }
            };
            for x in &edges[1..] {
                finding = finding.label(
                    x.second_span,
                    format!(
                        "`{}` takes `{}` while holding `{}`",
                        fn_name(x),
                        name(&x.second),
                        name(&x.first)
                    ),
                );
            }
            let order: Vec<String> = {
                let mut locks: Vec<String> = edges.iter().map(|x| format!("`{}`", name(&x.first))).collect();
                locks.sort();
                locks
            };
            let order = match order.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => order.join(""),
            };
            finding = finding.help(format!(
                "take {order} in the same order everywhere, or keep what they guard behind one lock"
            ));
            // What each lock guards, as declared: one of them may be no map (a queue, stats).
            let mut declared: Vec<String> = edges
                .iter()
                .filter_map(|x| {
                    Some(format!(
                        "`{}` is a `{}`",
                        name(&x.first),
                        x.first.declared_ty(&model.items)?
                    ))
                })
                .collect();
            declared.sort();
            declared.dedup();
            if declared.len() == edges.len() {
                finding = finding.note(declared.join("; "));
            }
            if !read_links.is_empty() {
                let locks: Vec<String> = read_links.iter().map(|(l, _)| format!("`{}`", name(l))).collect();
                let (is, it, blocks, them) = if locks.len() == 1 {
                    ("is", "it", "blocks", "it")
                } else {
                    ("are", "they", "block", "them")
                };
                finding = finding.note(format!(
                    "{} {is} read-locked on both sides of the cycle: {it} {blocks} only when a writer queues between the reads (the package write-locks {them} elsewhere)",
                    locks.join(" and ")
                ));
            }
            finding.emit();
        }
    }
}
