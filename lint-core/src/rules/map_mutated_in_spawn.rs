use crate::catalog::{Interest, Wrap};
use std::collections::HashSet;

use crate::model::body::{SpawnKind, Via};
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, place_name, spawn_noun, write_span};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a plain map (not behind a lock, not a concurrent map), or a `RefCell`/`Rc<RefCell>`
    /// around one, that is mutated inside a closure handed to a thread or task spawner while
    /// the same map is used elsewhere at the same time: by the spawning code after the spawn,
    /// by another spawned closure, or by many threads at once (a rayon parallel iterator, a
    /// spawn inside a loop).
    ///
    /// ## Why is this bad?
    /// rustc rejects this code (E0373, E0382, E0499, or `Rc`/`RefCell` not being `Send`/`Sync`),
    /// but its errors talk about borrows and lifetimes. The fix is always the same: give the
    /// threads one synchronized map, or let each thread build its own and merge them. This lint
    /// says so in the editor and in pre-commit, before a build.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let mut counts = HashMap::new();
    /// words.par_iter().for_each(|w| {
    ///     *counts.entry(w.clone()).or_insert(0) += 1;
    /// });
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let counts = words
    ///     .par_iter()
    ///     .fold(HashMap::new, |mut m, w| { *m.entry(w.clone()).or_insert(0) += 1; m })
    ///     .reduce(HashMap::new, |mut a, b| { for (k, v) in b { *a.entry(k).or_insert(0) += v; } a });
    /// ```
    /// or share an `Arc<maplint_maps::ShardedMap<String, usize>>` and call
    /// `get_or_insert_with(w.clone(), || 0, |n| *n += 1)` from every thread.
    ///
    /// ## Known problems
    /// - Maps are followed through local bindings, `self` and their fields; a map reached
    ///   through a method call (`self.maps()`) or an index (`maps[i]`) is not.
    /// - A single scoped thread that is the only user of the map until the scope ends is
    ///   correct and not reported; a use inside an unknown macro is not counted as a use.
    /// - A use after the first `join()` of the thread's handle in the spawning code is not
    ///   concurrent, even when that `join()` runs on some paths only.
    /// - An `Rc` or an `Arc<RefCell<..>>` written inside spawned code is reported even when
    ///   nothing else uses it meanwhile: rustc rejects it, and the finding says what to use.
    pub struct MapMutatedInSpawn {
        name: "map_mutated_in_spawn",
        level: Deny,
        summary: "a plain map is mutated in a spawned closure while other code uses it",
        fix: None,
        since: "0.1.0",
        interests: &[Interest::Maps, Interest::Wrapper(Wrap::RefCell)],
        requires: crate::rules::SPAWNS,
    }
}

impl Rule for MapMutatedInSpawn {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let body = func.body;
        let mut reported = HashSet::new();
        for w in &body.writes {
            if !matches!(w.via, Via::Direct | Via::RefCell) {
                continue;
            }
            let Some(b) = body.root_binding(&w.place) else {
                continue;
            };
            let binding = &body.bindings[b as usize];
            // (The use found depends only on the object, the fields and the closure.)
            let Some((c, spawn, other)) = body.racing_use(b, &w.place.fields, &w.closures) else {
                // An `Rc` or an `Arc<RefCell<..>>` captured by spawned code: rustc rejects it
                // whatever else uses it; say what to use instead.
                if let Some((c, spawn)) = body.enclosing_spawn(&w.closures)
                    && spawn.kind != SpawnKind::Parallel
                    && body.declared_outside(b, c)
                    && let Some(wrapper) = body.bindings[binding.identity as usize]
                        .ty
                        .thread_bound_sharing()
                        .or_else(|| binding.ty.thread_bound_sharing())
                    && reported.insert((binding.identity, w.place.fields.clone(), c))
                {
                    let name = &place_name(model, body, &w.place);
                    let (message, help) = match wrapper {
                        "Rc" => (
                            format!(
                                "`{name}` is an `Rc` moved into {}: `Rc` cannot be sent to another thread",
                                spawn_noun(spawn.kind)
                            ),
                            "share an `Arc<Mutex<HashMap<..>>>` instead: `Arc` counts its owners atomically, and the `Mutex` takes the place of the `RefCell`",
                        ),
                        _ => (
                            format!(
                                "`{name}` is an `Arc<RefCell<..>>` shared with {}: a `RefCell` cannot be shared between threads",
                                spawn_noun(spawn.kind)
                            ),
                            "replace the `RefCell` with a `Mutex` (`Arc<Mutex<HashMap<..>>>`) and lock it where it is borrowed now",
                        ),
                    };
                    out.report(write_span(w), message)
                        .primary_label(format!("`{name}` is written here"))
                        .label(spawn.span, "spawned here")
                        .help(help)
                        .note("`Arc<maplint_maps::ShardedMap>` lets every thread insert without a data race or a guard to hold")
                        .emit();
                }
                continue;
            };
            if !reported.insert((binding.identity, w.place.fields.clone(), c)) {
                continue;
            }
            let name = &place_name(model, body, &w.place);
            let (message, help) = if spawn.kind == SpawnKind::Parallel {
                (
                    format!("`{name}` is mutated from many threads at once inside a rayon parallel iterator"),
                    "build the map with `collect()`, or `fold` + `reduce`, instead of inserting from the closure",
                )
            } else if spawn.repeated && other == spawn.span {
                (
                    format!(
                        "`{name}` is mutated inside {} that is started several times",
                        spawn_noun(spawn.kind)
                    ),
                    "share one `Arc<Mutex<HashMap<..>>>` between the threads, or let each thread build its own map and merge the results after `join()`",
                )
            } else {
                (
                    format!(
                        "`{name}` is mutated inside {} while other code still uses it",
                        spawn_noun(spawn.kind)
                    ),
                    "share one `Arc<Mutex<HashMap<..>>>` between the threads, or move the map into the thread and get it back from `join()`",
                )
            };
            let mut finding = out
                .report(write_span(w), message)
                .primary_label(format!("`{name}` is written here"))
                .label(spawn.span, "spawned here");
            if other != spawn.span {
                finding = finding.label(other, format!("`{name}` is also used here while the spawned code runs"));
            }
            finding
                .help(help)
                .note("`Arc<maplint_maps::ShardedMap>` lets every thread insert without a data race or a guard to hold")
                .emit();
        }
    }
}
