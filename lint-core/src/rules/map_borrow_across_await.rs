use crate::catalog::{Interest, Wrap};
use crate::model::locks::AcqOp;
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, held_across_awaits, line_of, lock_name, moved_into_label};
use crate::rules::rewrite::offer_drop_before_await;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a `Ref` or `RefMut` of a `RefCell` around a map (also `Rc<RefCell<map>>` and
    /// `thread_local!` cells) that is alive across an `.await` in an async fn or block.
    ///
    /// ## Why is this bad?
    /// A `RefCell` future is not `Send`, so it runs on a single-threaded executor (`LocalSet`,
    /// `spawn_local`, a current-thread runtime, wasm). While this task is suspended, another
    /// task on the same thread that borrows the same cell panics with `BorrowMutError` (or
    /// `BorrowError` when this task holds a `RefMut`). It passes every test in which the two
    /// tasks happen not to overlap.
    ///
    /// ## Example
    /// ```rust,ignore
    /// let mut sessions = self.sessions.borrow_mut();
    /// let user = fetch_user(id).await;
    /// sessions.insert(id, user);
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let user = fetch_user(id).await;
    /// self.sessions.borrow_mut().insert(id, user);
    /// ```
    /// or `maplint_maps::LockedMap`, whose closure API cannot keep the map borrowed across an
    /// `.await`; `tokio::sync::Mutex` when the map must stay locked across it.
    ///
    /// ## Fix safety
    /// When the borrow is a `let` binding of the block that holds the `.await` and nothing from
    /// the `.await`'s statement on uses it, a maybe-incorrect fix inserts `drop(borrow);` before
    /// that statement, ending the borrow earlier than the end of the block.
    ///
    /// ## Known problems
    /// - Whether another task can borrow the cell is not checked: a cell private to one task is
    ///   reported like any other.
    /// - A borrow ended on some paths only is not reported; a borrow handed to a function the
    ///   model cannot see is no longer followed.
    /// - An async block or closure is its own context: a borrow alive where the block is
    ///   created is not held across the block's own awaits.
    pub struct MapBorrowAcrossAwait {
        name: "map_borrow_across_await",
        level: Warn,
        summary: "a `RefCell` map is borrowed across an `.await`",
        fix: Sometimes,
        since: "0.1.0",
        interests: &[Interest::Wrapper(Wrap::RefCell)],
        clippy: ["await_holding_refcell_ref"],
    }
}

impl Rule for MapBorrowAcrossAwait {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let body = func.body;
        // One finding per borrow: the first `.await` it is held across.
        for (a, held, via) in held_across_awaits(func, |e| matches!(e.op, AcqOp::Borrow { .. })) {
            let (what, other) = if matches!(held.op, AcqOp::Borrow { mutable: true, .. }) {
                ("a mutable borrow", "borrows")
            } else {
                ("a borrow", "borrows mutably")
            };
            let name = lock_name(model, body, held);
            let line = line_of(model, held.span);
            let finding = out
                .report(
                    a.span,
                    format!("{what} of `{name}` from line {line} is held across this `.await`"),
                )
                .primary_label(format!(
                    "another task that {other} `{name}` while this one is suspended here panics"
                ))
                .label(held.span, "the borrow is taken here and is still alive at the `.await`")
                .help("copy what you need out of the map and end the borrow before `.await`");
            let finding = moved_into_label(model, via, "borrow", finding);
            offer_drop_before_await(finding, model, body, held, a)
            .note("`maplint_maps::LockedMap`'s closure API cannot keep the map borrowed across an `.await`; use `tokio::sync::Mutex` only when it must stay locked across it")
            .emit();
        }
    }
}
