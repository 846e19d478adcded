//! Shared pieces of rules: the one reporting call and message helpers.

use crate::diagnostic::{Diagnostic, Help, Label, Level, Span};
use crate::rules::RuleMeta;

/// Collects a rule's findings for one file at the level in force.
#[derive(Debug)]
pub struct Reporter<'a> {
    pub(crate) meta: &'static RuleMeta,
    pub(crate) level: Level,
    pub(crate) file: u32,
    pub(crate) out: &'a mut Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    /// Starts a finding at `primary`; finish it with [`Finding::emit`].
    pub fn report(&mut self, primary: Span, message: impl Into<String>) -> Finding<'_, 'a> {
        let diag = Diagnostic {
            rule: self.meta.name.to_owned(),
            level: self.level,
            message: message.into(),
            primary: Some(primary),
            primary_label: None,
            labels: Vec::new(),
            helps: Vec::new(),
            notes: Vec::new(),
            file: self.file,
        };
        Finding { reporter: self, diag }
    }
}

/// A finding being built.
#[derive(Debug)]
#[must_use = "call .emit()"]
pub struct Finding<'r, 'a> {
    reporter: &'r mut Reporter<'a>,
    diag: Diagnostic,
}

impl Finding<'_, '_> {
    pub fn primary_label(mut self, label: impl Into<String>) -> Self {
        self.diag.primary_label = Some(label.into());
        self
    }

    pub fn label(mut self, span: Span, label: impl Into<String>) -> Self {
        self.diag.labels.push(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn help(mut self, message: impl Into<String>) -> Self {
        self.diag.helps.push(Help {
            message: message.into(),
            edits: Vec::new(),
            applicability: None,
        });
        self
    }

    /// A help carrying a code suggestion (rustc puts these in `help` children; editors offer
    /// them as quick fixes, `--fix` applies machine-applicable ones).
    pub fn suggestion(
        mut self,
        message: impl Into<String>,
        span: Span,
        replacement: impl Into<String>,
        applicability: crate::diagnostic::Applicability,
    ) -> Self {
        self.diag.helps.push(Help {
            message: message.into(),
            edits: vec![crate::diagnostic::Edit {
                span,
                replacement: replacement.into(),
            }],
            applicability: Some(applicability),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.diag.notes.push(note.into());
        self
    }

    /// Adds the finding, unless the rule already reported one at the same primary span.
    pub fn emit(self) {
        if !self.reporter.out.iter().any(|d| d.primary == self.diag.primary) {
            self.reporter.out.push(self.diag);
        }
    }
}

use crate::model::body::AwaitPoint;
use crate::model::body::{BodyFacts, Place, Root, SpawnKind, Write};
use crate::model::locks::{AcqOp, LockEvent, exec_context, is_async_context};
use crate::model::{Function, Model};

/// How a place reads in a message: `M`, `self.cache`, `state.routes`.
#[must_use]
pub fn place_name(model: &Model, body: &BodyFacts, place: &Place) -> String {
    let mut s = match place.root {
        Root::Local(b) => body.bindings[b as usize].name.clone(),
        Root::Static(st) => model.items.statics[st as usize].name.clone(),
        Root::SelfParam => "self".to_owned(),
    };
    for f in &place.fields {
        s.push('.');
        s.push_str(f);
    }
    s
}

/// The span to underline for a write: from the receiver to the method name (`m.insert`).
#[must_use]
pub fn write_span(w: &Write) -> Span {
    Span::new(w.span.file, w.span.lo, w.method_span.hi.max(w.span.lo))
}

/// Words for what a spawn starts.
#[must_use]
pub fn spawn_noun(kind: SpawnKind) -> &'static str {
    match kind {
        SpawnKind::Thread | SpawnKind::Scoped | SpawnKind::Rayon => "a spawned thread",
        SpawnKind::Task => "a spawned task",
        SpawnKind::Parallel => "a rayon parallel iterator closure",
    }
}

/// 1-based line of an offset in a file of the package.
#[must_use]
pub fn line_of(model: &Model, span: Span) -> usize {
    let text = &model.texts[span.file as usize];
    let end = (span.lo as usize).min(text.len());
    text.get(..end).map_or(0, |t| t.matches('\n').count()) + 1
}

/// The source text of a span.
#[must_use]
pub fn snippet(model: &Model, span: Span) -> &str {
    model.texts[span.file as usize].get(span.range()).unwrap_or("")
}

/// Pairs `(held, taken)` of operations on the same map lock in one function: `taken`
/// happens while the guard of `held` is certainly alive (the guard flow says so), in the same
/// thread and call context. `accept` decides which operation kinds the rule is about. One pair
/// per site: a call whose callee takes the lock in several ways is one finding.
#[must_use]
pub fn held_while_taken(
    func: Function<'_>,
    accept: impl Fn(AcqOp, AcqOp, &LockEvent) -> bool,
) -> Vec<(&LockEvent, &LockEvent)> {
    let mut out: Vec<(&LockEvent, &LockEvent)> = Vec::new();
    for taken in func.events().iter().filter(|t| !t.op.is_try()) {
        if out.iter().any(|(_, t)| t.span == taken.span) {
            continue;
        }
        let held = func.held(taken).find(|held| {
            held.lock == taken.lock && held.context == taken.context && held.on_map && accept(held.op, taken.op, held)
        });
        if let Some(h) = held {
            out.push((h, taken));
        }
    }
    out
}

/// The map guards alive across an `.await` of async code, each with the first `.await` it is
/// held across: at each `.await`, the first guard alive there that `accept` picks.
#[must_use]
pub fn held_across_awaits(func: Function<'_>, accept: impl Fn(&LockEvent) -> bool) -> Vec<(&AwaitPoint, &LockEvent)> {
    let body = func.body;
    let mut out: Vec<(&AwaitPoint, &LockEvent)> = Vec::new();
    for (i, a) in body.awaits.iter().enumerate() {
        if !is_async_context(body, exec_context(body, &a.closures)) {
            continue;
        }
        let Some(held) = func.held_at_await(i).find(|e| e.on_map && accept(e)) else {
            continue;
        };
        if !out.iter().any(|(_, h)| h.span == held.span) {
            out.push((a, held));
        }
    }
    out
}

/// The name of a lock for messages.
#[must_use]
pub fn lock_name(model: &Model, body: &BodyFacts, e: &LockEvent) -> String {
    place_name(model, body, &e.lock)
}

/// "locked again here" or "locked again by `helper`" for events through calls.
#[must_use]
pub fn how_taken(model: &Model, e: &LockEvent) -> String {
    match (e.via, e.through_closure) {
        (Some((callee, _)), _) => format!(" by `{}`", model.items.fns[callee as usize].def.name),
        (None, Some(_)) => " by the closure called here".to_owned(),
        (None, None) => String::new(),
    }
}

/// Adds the "taken inside the callee" label of an event through a call.
pub fn via_label<'r, 'a>(model: &Model, e: &LockEvent, f: Finding<'r, 'a>) -> Finding<'r, 'a> {
    match (e.via, e.through_closure) {
        (Some((callee, inner)), _) if inner != e.span => {
            let name = &model.items.fns[callee as usize].def.name;
            f.label(inner, format!("`{name}` takes the lock here"))
        }
        (None, Some(inner)) => f.label(inner, "the closure takes the lock here"),
        _ => f,
    }
}

/// For an event through a call resolved through a trait: which implementation was assumed.
#[must_use]
pub fn trait_note(model: &Model, e: &LockEvent) -> Option<String> {
    let t = e.through_trait.as_ref()?;
    let (callee, _) = e.via?;
    let f = &model.items.fns[callee as usize];
    let ty = match &model.items.impls[f.impl_id? as usize].self_ty {
        crate::model::types::SemTy::Adt { id, .. } => model.items.adts[*id as usize].name.clone(),
        _ => return None,
    };
    Some(format!(
        "`{}` is called through the trait `{t}`, and `{ty}` is its only implementation in this package: the receiver is assumed to be a `{ty}`",
        f.def.name
    ))
}

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
        let finding = out
            .report(taken.span, w.message)
            .primary_label(w.primary)
            .label(held.span, w.held);
        let mut finding = via_label(model, taken, finding).help(w.help);
        if let Some(note) = trait_note(model, taken) {
            finding = finding.note(note);
        }
        match w.note {
            Some(n) => finding.note(n).emit(),
            None => finding.emit(),
        }
    }
}
