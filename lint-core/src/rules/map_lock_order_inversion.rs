use crate::catalog::Interest;
use crate::model::Model;
use crate::rules::helpers::{Reporter, line_of};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds two map locks taken in opposite nested orders in two places of the crate: `A`
    /// then `B` in one function, `B` then `A` in another (directly or through calls). Both
    /// sites are reported.
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
    /// - Locks are named by type and field (`Ledger.accounts`, for `self` and any value of that
    ///   struct) or by static; two instances of one struct are not told apart. Locks held in
    ///   other locals are compared only within one function, between a spawned closure and
    ///   the code that spawned it.
    /// - Both locks must guard a map or set; a cycle through a lock around other data, a cycle
    ///   of three or more locks, and a common outer lock held around both orders (a gate, which
    ///   makes the inversion harmless) are not yet taken into account.
    /// - `try_lock` is not considered.
    /// - An edge is recorded only where the first guard is certainly alive (the guard flow);
    ///   a guard released on some paths only adds no edge.
    pub struct MapLockOrderInversion {
        name: "map_lock_order_inversion",
        level: Warn,
        summary: "two map locks are taken in opposite orders in two places",
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
        let edges = &model.order_edges;
        for e in edges.iter().filter(|e| e.second_span.file == file) {
            // Function-local locks (`name#..`) only exist in one call: the two orders must run
            // concurrently there, in different threads (a spawned closure and its parent).
            let local = e.first.is_local() || e.second.is_local();
            let Some(other) = edges.iter().find(|o| {
                o.first == e.second && o.second == e.first && (!local || (o.fn_id == e.fn_id && o.context != e.context))
            }) else {
                continue;
            };
            let other_fn = &model.items.fns[other.fn_id as usize].def.name;
            let name = |c: &crate::model::locks::LockClass| c.describe(&model.items, &model.bodies);
            let (first, second) = (name(&e.first), name(&e.second));
            let (o_first, o_second) = (name(&other.first), name(&other.second));
            out.report(
                e.second_span,
                format!(
                    "`{second}` is locked while `{first}` is held, but `{other_fn}` takes them in the opposite order (line {})",
                    line_of(model, other.second_span)
                ),
            )
            .primary_label(format!("`{second}` taken second here"))
            .label(e.first_span, format!("`{first}` taken first here"))
            .label(other.second_span, format!("`{other_fn}` takes `{o_second}` while holding `{o_first}`"))
            .help(format!("take `{first}` and `{second}` in the same order everywhere, or keep both maps behind one lock"))
            .emit();
        }
    }
}
