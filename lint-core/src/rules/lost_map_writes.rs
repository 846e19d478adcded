use crate::catalog::Interest;
use crate::model::body::{BodyFacts, Role, Root, SpawnBody, SpawnKind, Via};
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, place_name, write_span};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a map that is copied (`.clone()` of a map or of a struct holding one by value, or
    /// `Arc::make_mut` on a shared `Arc<map>`) and whose copy is then mutated inside a spawned
    /// `move` closure without ever leaving it: it is not returned through `join()`, not sent
    /// on a channel, not stored anywhere, not even read after the write.
    ///
    /// ## Why is this bad?
    /// The thread's inserts go to a private copy that is dropped when the thread ends. Nobody
    /// else ever sees them: a cache that never warms, a registry that stays empty. It compiles
    /// and runs without a sound.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let cache: HashMap<String, Page> = HashMap::new();
    /// for url in urls {
    ///     let mut cache = cache.clone();
    ///     thread::spawn(move || {
    ///         cache.insert(url.clone(), fetch(&url));
    ///     });
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let cache = Arc::new(maplint_maps::ShardedMap::new());
    /// for url in urls {
    ///     let cache = Arc::clone(&cache);
    ///     thread::spawn(move || {
    ///         cache.insert(url.clone(), fetch(&url));
    ///     });
    /// }
    /// ```
    ///
    /// ## Known problems
    /// - Only copies bound to a local name are followed.
    /// - Any read of the copy after the write (even one that does not let the data escape)
    ///   keeps the lint silent.
    /// - A rayon `for_each_with` seed is reported only when it is a clone of a map the caller
    ///   reads after the call; `map_with` seeds are taken for per-worker caches.
    /// - Spawns through helpers of the package are seen (a function that hands its closure
    ///   parameter to a spawn); a helper from another crate is not, unless configured in
    ///   `spawners`, and a closure stored in a struct before it is spawned is not followed.
    pub struct LostMapWrites {
        name: "lost_map_writes",
        level: Warn,
        summary: "writes go to a copy of a map that never leaves the spawned thread",
        fix: None,
        since: "0.1.0",
        interests: &[Interest::Maps],
        requires: crate::rules::SPAWNS,
    }
}

impl Rule for LostMapWrites {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let body = func.body;
        for (b, binding) in body.bindings.iter().enumerate() {
            let b = b as u32;
            let (source, copy_span) = if let Some((src, span)) = &binding.clone_of {
                (Some(src), *span)
            } else if let Some(span) = binding.shared_clone {
                (None, span)
            } else {
                continue;
            };
            for spawn in &body.spawns {
                let SpawnBody::Closure(c) = spawn.body else { continue };
                let Some(closure) = body.closures.get(&c) else { continue };
                let captured = body.declared_outside(b, c);
                // A copy made inside the thread from something the closure captured.
                let copied_inside = !captured
                    && binding.closure.is_some_and(|d| d == c)
                    && source.is_some_and(|p| matches!(p.root, Root::Local(r) if body.declared_outside(r, c)));
                if !(copied_inside || captured && closure.is_move) {
                    continue;
                }
                let writes_in = |via_ok: fn(Via) -> bool| {
                    body.writes
                        .iter()
                        .find(|w| w.place.root == Root::Local(b) && w.closures.contains(&c) && via_ok(w.via))
                };
                let first = if source.is_some() {
                    writes_in(|v| matches!(v, Via::Direct | Via::RefCell))
                } else {
                    writes_in(|v| v == Via::MakeMut)
                };
                let Some(first) = first else { continue };
                if escapes_after(body, b, first.span.lo) {
                    continue;
                }
                // A rayon worker's copy (`for_each_with(map.clone(), |local, x| ..)`): lost
                // only if the caller looks at the map afterwards (a per-worker scratch map is
                // meant to be dropped).
                let worker_copy = spawn.kind == SpawnKind::Parallel && binding.is_param;
                if worker_copy
                    && !source.is_some_and(|p| match p.root {
                        Root::Local(r) => body
                            .mentions_of_object(r)
                            .any(|m| m.span.lo > closure.span.hi && m.closures.is_empty()),
                        _ => false,
                    })
                {
                    continue;
                }
                let name = &binding.name;
                let unit = if spawn.kind == SpawnKind::Task {
                    "task"
                } else {
                    "thread"
                };
                let what = source.map_or_else(
                    || "a clone of a shared `Arc`, so `Arc::make_mut` copies the map".to_owned(),
                    |p| {
                        let src = place_name(model, body, p);
                        if src == *name {
                            format!("a copy of the outer `{src}`")
                        } else {
                            format!("a copy of `{src}`")
                        }
                    },
                );
                let message = if worker_copy {
                    format!(
                        "writes to `{name}` are lost: each rayon worker writes its own {}, and none comes back",
                        what.trim_start_matches("a ")
                    )
                } else {
                    format!("writes to `{name}` are lost: it is {what} that never leaves the spawned {unit}")
                };
                let help = if worker_copy {
                    "build the map with `fold` + `reduce` (or `collect`) so the workers' maps come back, or share an `Arc<Mutex<HashMap<..>>>`"
                } else {
                    "share the original instead: clone an `Arc<Mutex<HashMap<..>>>` into the thread; or send the copy back (return it and `join()`, or use a channel)"
                };
                out.report(write_span(first), message)
                .primary_label(format!("this write is never seen outside the {unit}"))
                .label(copy_span, "the map is copied here")
                .label(spawn.span, format!("the copy moves into this {unit} and is dropped when it ends"))
                .help(help)
                .note("`Arc<maplint_maps::ShardedMap>` is cheap to clone into every thread and all of them write the same map")
                .emit();
                break;
            }
        }
    }
}

/// Is the copy returned, passed on, stored or named in an unknown macro after `pos` (directly
/// or through a binding that aliases it)? Writes and mentions in formatting macros only observe.
fn escapes_after(body: &BodyFacts, b: u32, pos: u32) -> bool {
    let aliases_b = |x: u32| {
        x == b
            || body.bindings[x as usize]
                .alias
                .as_ref()
                .is_some_and(|(a, _)| a.root == Root::Local(b))
    };
    body.mentions
        .iter()
        .any(|m| aliases_b(m.binding) && m.span.lo > pos && matches!(m.role, Role::Use | Role::Opaque))
}
