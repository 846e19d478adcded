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
    /// - Only locks with a crate-wide name are compared: fields reached from `self` (named
    ///   after the `impl` type) and statics. Locks reached through locals or parameters are not.
    /// - `try_lock` is not considered.
    pub struct MapLockOrderInversion {
        name: "map_lock_order_inversion",
        level: Warn,
        summary: "two map locks are taken in opposite orders in two places",
        fix: None,
        since: "0.1.0",
    }
}

impl Rule for MapLockOrderInversion {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, model: &Model, file: u32, out: &mut Reporter<'_>) {
        let edges = &model.order_edges;
        let mut reported = Vec::new();
        for e in edges.iter().filter(|e| e.second_span.file == file) {
            let Some(other) = edges.iter().find(|o| o.first == e.second && o.second == e.first) else {
                continue;
            };
            if reported.contains(&e.second_span) {
                continue;
            }
            reported.push(e.second_span);
            let other_fn = &model.items.fns[other.fn_id as usize].def.name;
            out.report(
                e.second_span,
                format!(
                    "`{}` is locked while `{}` is held, but `{other_fn}` takes them in the opposite order (line {})",
                    e.second,
                    e.first,
                    line_of(model, other.second_span)
                ),
            )
            .primary_label(format!("`{}` taken second here", e.second))
            .label(e.first_span, format!("`{}` taken first here", e.first))
            .label(
                other.second_span,
                format!("`{other_fn}` takes `{}` while holding `{}`", other.second, other.first),
            )
            .help(format!(
                "take `{}` and `{}` in the same order everywhere, or keep both maps behind one lock",
                e.first, e.second
            ))
            .emit();
        }
    }
}
