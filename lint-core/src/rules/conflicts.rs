//! Findings about a lock operation made while a guard of the same map lock is alive (re-entry,
//! upgrade, `DashMap` re-entry, `RefCell` borrow conflicts): the pairs, their wording, and the
//! fix a pair allows.

use crate::model::body::BodyFacts;
use crate::model::locks::{AcqOp, LockEvent};
use crate::model::{Function, Model};
use crate::rules::helpers::{Reporter, held_while_taken, how_taken, line_of, lock_name, trait_note, via_label};
use crate::rules::rewrite::conflict_fix;

/// One "taken while held" pair, with what messages need to say about it.
#[derive(Debug)]
pub struct Conflict<'a> {
    pub body: &'a BodyFacts,
    pub held: &'a LockEvent,
    pub taken: &'a LockEvent,
    /// The lock's name (`self.peers`).
    pub name: String,
    /// The line of the first guard.
    pub line: usize,
    /// Empty, or " by \`helper\`" when the second acquisition happens in a call.
    pub how: String,
}

/// The wording of a conflict finding.
#[derive(Debug)]
pub struct Words {
    pub message: String,
    pub primary: String,
    pub held: String,
    pub help: &'static str,
    pub note: Option<&'static str>,
}

/// Reports every operation on a map lock taken while a guard of it is alive (see
/// [`held_while_taken`]), worded by the rule.
pub fn report_conflicts(
    model: &Model,
    func: Function<'_>,
    out: &mut Reporter<'_>,
    accept: impl Fn(AcqOp, AcqOp, &LockEvent) -> bool,
    words: impl Fn(&Conflict<'_>) -> Words,
) {
    let body = func.body;
    for (held, taken) in held_while_taken(func, &accept) {
        let c = Conflict {
            body,
            held,
            taken,
            name: lock_name(model, body, held),
            line: line_of(model, held.span),
            how: how_taken(model, taken),
        };
        let w = words(&c);
        let finding = out.report(taken.span, w.message).primary_label(w.primary);
        let (finding, help) = match held.via {
            // `self.write(|ctx| ..)`: the runner holds the lock while the closure runs.
            Some((runner, inner)) if held.runs_closure => {
                let name = &model.items.fns[runner as usize].def.name;
                let taker = &model.items.fns[held.origin.1 as usize].def.name;
                let at_inner = if taker == name {
                    format!("`{name}` takes the lock here and calls the closure under it")
                } else {
                    format!("`{taker}` takes the lock here, and `{name}` runs the closure under it")
                };
                let finding = finding
                    .label(held.span, format!("`{name}` holds the lock while it runs this closure"))
                    .label(inner, at_inner);
                let help = format!(
                    "use what the closure is given instead of locking again, or return what you need from the closure and make this call after `{name}` returns"
                );
                (finding, help)
            }
            _ => (finding.label(held.span, w.held), w.help.to_owned()),
        };
        let mut finding = via_label(model, taken, finding).help(help);
        if let Some((message, edits)) = conflict_fix(model, func, held, taken) {
            finding = finding.suggestion_edits(message, edits, crate::diagnostic::Applicability::MaybeIncorrect);
        }
        if let Some(note) = trait_note(model, taken) {
            finding = finding.note(note);
        }
        if let Some(i) = taken.lock.fields.iter().position(|f| f == crate::model::locks::EACH) {
            let coll = crate::model::body::Place {
                root: taken.lock.root,
                fields: taken.lock.fields[..i].to_vec(),
            };
            finding = finding.note(format!(
                "both take the elements of `{}` one by one: the second comes to the element the first guard holds",
                crate::rules::helpers::place_name(model, body, &coll)
            ));
        }
        match w.note {
            Some(n) => finding.note(n).emit(),
            None => finding.emit(),
        }
    }
}
