use crate::catalog::{Interest, Wrap};
use crate::model::locks::AcqOp;
use crate::model::{Function, Model};
use crate::rules::conflicts::{Words, report_conflicts};
use crate::rules::helpers::Reporter;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a `RefCell` around a map (also `Rc<RefCell<map>>` and `thread_local!`
    /// `RefCell<map>`) that is borrowed mutably while another borrow of it is alive:
    /// `for (k, v) in m.borrow().iter() { m.borrow_mut().insert(..) }`, a held `Ref` followed
    /// by `borrow_mut()`, a `RefMut` followed by `borrow()`, including through helper
    /// functions of the same crate.
    ///
    /// ## Why is this bad?
    /// `RefCell` checks borrows at run time: the second borrow panics with `BorrowMutError`
    /// (or `BorrowError`). It is Rust's version of Go's "concurrent map iteration and map
    /// write", and it only shows up on the path that happens to run it.
    ///
    /// ## Example
    /// ```rust,ignore
    /// for (id, conn) in self.conns.borrow().iter() {
    ///     if conn.is_closed() {
    ///         self.conns.borrow_mut().remove(id);
    ///     }
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let closed: Vec<_> = self.conns.borrow().iter().filter(|(_, c)| c.is_closed()).map(|(id, _)| *id).collect();
    /// for id in closed {
    ///     self.conns.borrow_mut().remove(&id);
    /// }
    /// ```
    /// or `self.conns.borrow_mut().retain(|_, c| !c.is_closed())`.
    ///
    /// ## Known problems
    /// - `try_borrow`/`try_borrow_mut` never panic and are not reported; neither is the `Err`
    ///   arm of a `try_borrow_mut`, which holds no borrow.
    /// - The cell is identified by its access path; a second path to the same cell (a reference
    ///   stored in another struct, a getter) is not recognized.
    /// - A borrow made in a callback the model cannot resolve (a closure stored only by the
    ///   package's users, a trait object with several implementations) is not followed; one
    ///   the package stores in a handler table itself is followed at each call of the table's
    ///   closures, by struct field rather than by object.
    /// - The guard flow reports only guards that are alive on every path to the second
    ///   acquisition: a guard dropped on some paths only (`if c { drop(g) }`), or two different
    ///   guards joined from two branches of different locks, is silent.
    pub struct MapBorrowConflict {
        name: "map_borrow_conflict",
        level: Deny,
        summary: "a `RefCell` map is borrowed mutably while another borrow is alive",
        fix: None,
        since: "0.1.0",
        interests: &[Interest::Wrapper(Wrap::RefCell)],
    }
}

impl Rule for MapBorrowConflict {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let accept = |held, taken, _: &_| match (held, taken) {
            (AcqOp::Borrow { mutable: m1, .. }, AcqOp::Borrow { mutable: m2, .. }) => m1 || m2,
            _ => false,
        };
        report_conflicts(model, func, out, accept, |c| {
            let held_mut = matches!(c.held.op, AcqOp::Borrow { mutable: true, .. });
            let taken_mut = matches!(c.taken.op, AcqOp::Borrow { mutable: true, .. });
            let (what, error) = if taken_mut {
                (" mutably", "BorrowMutError")
            } else {
                ("", "BorrowError")
            };
            let held_kind = if held_mut { "mutable borrow" } else { "borrow" };
            Words {
                message: format!(
                    "`{}` is borrowed{what}{} while a {held_kind} from line {} is still alive: this panics with `{error}`",
                    c.name, c.how, c.line
                ),
                primary: format!("panics with `{error}`"),
                held: format!("the {held_kind} is taken here and is still alive"),
                help: "collect what you need (for example the keys into a `Vec`) and end the first borrow before borrowing again",
                note: None,
            }
        });
    }
}
