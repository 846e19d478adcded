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

    /// A help carrying a suggestion made of several edits, applied together or not at all.
    pub fn suggestion_edits(
        mut self,
        message: impl Into<String>,
        edits: Vec<crate::diagnostic::Edit>,
        applicability: crate::diagnostic::Applicability,
    ) -> Self {
        self.diag.helps.push(Help {
            message: message.into(),
            edits,
            applicability: Some(applicability),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.diag.notes.push(note.into());
        self
    }

    /// Adds the finding, unless the rule already reported one at the same primary span.
    pub fn emit(mut self) {
        if !self.reporter.out.iter().any(|d| d.primary == self.diag.primary) {
            // Names inside a `macro_rules!` body read as the metavariables they stand for.
            let readable = |s: &mut String| {
                if let std::borrow::Cow::Owned(r) = crate::model::lower::macro_rules::readable(s) {
                    *s = r;
                }
            };
            let d = &mut self.diag;
            readable(&mut d.message);
            d.primary_label.iter_mut().for_each(readable);
            d.labels.iter_mut().for_each(|l| readable(&mut l.message));
            d.notes.iter_mut().for_each(readable);
            for h in &mut d.helps {
                readable(&mut h.message);
                h.edits.iter_mut().for_each(|e| readable(&mut e.replacement));
                // An edit that spells a metavariable rewrites a macro body, where the same
                // text expands into other code at every call: never applied without a look.
                if h.edits.iter().any(|e| e.replacement.contains('$'))
                    && h.applicability == Some(crate::diagnostic::Applicability::MachineApplicable)
                {
                    h.applicability = Some(crate::diagnostic::Applicability::MaybeIncorrect);
                }
            }
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
        if f == crate::model::locks::EACH {
            // Each element in turn (`for s in self.shards.iter()`): `self.shards[_]`.
            s.push_str("[_]");
        } else {
            s.push('.');
            s.push_str(f);
        }
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

/// Where the line holding `span` starts (a byte offset of its file).
#[must_use]
pub fn line_start(model: &Model, span: Span) -> usize {
    let text = &model.texts[span.file as usize];
    text.get(..span.lo as usize)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |p| p + 1)
}

/// The whitespace that begins the line holding `span`.
#[must_use]
pub fn line_indent(model: &Model, span: Span) -> &str {
    let text = &model.texts[span.file as usize];
    let line = &text[line_start(model, span)..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
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

/// An `.await`, a guard alive across it, and the async function holding the guard there (see
/// [`held_across_awaits`]).
pub type HeldAcrossAwait<'m> = (&'m AwaitPoint, &'m LockEvent, Option<(u32, Span)>);

/// The map guards alive across an `.await` of async code, each with the first `.await` it is
/// held across: at each `.await`, the first guard alive there that `accept` picks; and, when
/// the guard is held there inside the awaited future of an async function it was moved into,
/// that function and its own `.await` that holds it.
#[must_use]
pub fn held_across_awaits(func: Function<'_>, accept: impl Fn(&LockEvent) -> bool) -> Vec<HeldAcrossAwait<'_>> {
    let body = func.body;
    let mut out: Vec<HeldAcrossAwait<'_>> = Vec::new();
    for (i, a) in body.awaits.iter().enumerate() {
        if !is_async_context(body, exec_context(body, &a.closures)) {
            continue;
        }
        let Some(held) = func.held_at_await(i).find(|e| e.on_map && accept(e)) else {
            continue;
        };
        if !out.iter().any(|(_, h, _)| h.span == held.span) {
            out.push((a, held, func.held_at_await_via(i, held)));
        }
    }
    out
}

/// The label of a guard held across an `.await` inside the future of the async function it
/// was moved into (see [`held_across_awaits`]).
pub fn moved_into_label<'r, 'a>(
    model: &Model,
    via: Option<(u32, Span)>,
    what: &str,
    f: Finding<'r, 'a>,
) -> Finding<'r, 'a> {
    match via {
        Some((callee, at)) => {
            let name = &model.items.fns[callee as usize].def.name;
            f.label(
                at,
                format!("`{name}`, which the {what} is moved into, keeps it across this `.await`"),
            )
        }
        None => f,
    }
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

/// What a check and an act under two acquisitions of the same map lock risk.
#[derive(Debug, Clone, Copy)]
pub enum Race<'b> {
    /// The key was found absent and is inserted under a second lock: two callers can both
    /// miss and both fill. `guarding_if` is the `if !..` whose then-block is the fill.
    Fill {
        guarding_if: Option<&'b crate::model::body::IfFacts>,
    },
    /// The value read flows into what is written under a second lock: an update is lost.
    LostUpdate,
}

/// One half of a check-then-act: the guarded call (`contains_key`, `insert`...) of an event.
#[derive(Debug, Clone, Copy)]
pub struct MapCall<'b> {
    pub event: &'b LockEvent,
    pub method: &'b str,
    /// The call on the guard (`m.lock().unwrap().insert(k, v)`), or the `DashMap` operation.
    pub call: Span,
    pub args: &'b [Span],
    /// The binding of the `let` whose initializer contains the call.
    pub in_let: Option<u32>,
}

/// A check and an act on the same key of a map, each under its own acquisition of its lock.
#[derive(Debug, Clone, Copy)]
pub struct CheckAct<'b> {
    pub check: MapCall<'b>,
    pub act: MapCall<'b>,
    pub race: Race<'b>,
}

/// Reads that look at a key.
const CHECKS: &[&str] = &["contains_key", "get", "get_key_value", "contains"];

/// The check-then-act pairs of a function, one per act: a read of a key and, under a second
/// acquisition of the same map lock in the same thread, a write of that key that can undo what
/// another thread did in between. Safe acts are left out: the entry API and `try_insert`
/// after an absence check (they look again under their own lock), halves serialized by a gate
/// lock, maps no other thread can reach, and fills whose code shows the race is expected (the
/// insert's result is looked at, or a comment there says the race is fine).
#[must_use]
pub fn check_then_act<'b>(model: &Model, func: Function<'b>) -> Vec<CheckAct<'b>> {
    let body = func.body;
    let events = func.events();
    let mut out: Vec<CheckAct<'b>> = Vec::new();
    for act_event in events {
        let Some(act) = map_call(body, act_event) else {
            continue;
        };
        // (On a map no other thread can reach, nothing can run in between.)
        if !matches!(act.method, "insert" | "get_mut" | "entry") || !act_event.on_map || act_event.exclusive {
            continue;
        }
        for check_event in events.iter().filter(|c| {
            c.span.lo < act_event.span.lo
                && c.lock == act_event.lock
                && c.context == act_event.context
                && !func.is_held(c, act_event)
                && !c.op.is_try()
                && same_kind(c.op, act_event.op)
        }) {
            // The lookup made on the guard right away, or through the binding that holds it
            // (`let known = { let g = m.read(); g.contains_key(&k) };`).
            let Some(check) = map_call(body, check_event)
                .filter(|c| CHECKS.contains(&c.method))
                .or_else(|| guard_check(body, check_event))
            else {
                continue;
            };
            // Checking one key and changing another is not a race on the same entry; a gate
            // held around both halves serializes them.
            if !same_key(model, check.args, act.args) || func.gate(check_event, act_event).is_some() {
                continue;
            }
            let in_let = check.in_let;
            let checked_in =
                |cond: Span| inside(check.call, cond) || in_let.is_some_and(|b| mentioned_in(body, b, cond));
            // The check in a condition or scrutinee (directly, or through a `let` it reads)
            // and the act where it found the key absent.
            let branch = body
                .absent_branches
                .iter()
                .find(|(cond, absent)| checked_in(*cond) && inside(act_event.span, *absent));
            let race = if let Some((cond, _)) = branch {
                if act.method != "insert" || fill_is_expected(model, body, check.call, act.call) {
                    continue;
                }
                Race::Fill {
                    guarding_if: body.ifs.iter().find(|i| i.cond == *cond && i.negated),
                }
            } else {
                // Read-modify-write: the value read reaches what is written: the inserted
                // value, or the statement that writes through `get_mut`/`entry`.
                let targets = if act.method == "insert" {
                    act.args.to_vec()
                } else {
                    body.statement_of(act.call).into_iter().collect()
                };
                if !checked_value_flows(body, check.call, in_let, act_event.span, &targets) {
                    continue;
                }
                Race::LostUpdate
            };
            out.push(CheckAct { check, act, race });
            break;
        }
    }
    out
}

/// The guarded call of a lock event: the method called on the guard right away
/// (`m.lock().insert(..)`) or, for `DashMap` operations, the operation itself.
#[must_use]
pub fn map_call<'b>(body: &'b BodyFacts, e: &'b LockEvent) -> Option<MapCall<'b>> {
    let a = &body.acquisitions[e.acquisition?];
    let (method, call, args) = match e.op {
        AcqOp::Sharded { .. } | AcqOp::Bundled { .. } => (a.method.as_str(), a.span, a.args.as_slice()),
        AcqOp::Lock { .. } => a
            .used_by
            .as_ref()
            .map(|(m, s, args)| (m.as_str(), *s, args.as_slice()))?,
        AcqOp::Borrow { .. } => return None,
    };
    Some(MapCall {
        event: e,
        method,
        call,
        args,
        in_let: a.in_let,
    })
}

/// The lookup made through the binding that holds the guard of event `e`, when there is
/// exactly one (`g.contains_key(&k)` after `let g = m.read().unwrap();`).
fn guard_check<'b>(body: &'b BodyFacts, e: &'b LockEvent) -> Option<MapCall<'b>> {
    let i = e.acquisition?;
    let mut calls = body.guard_calls.iter().filter(|c| c.acquisition == i);
    let only = calls.next()?;
    if calls.next().is_some() || !CHECKS.contains(&only.method.as_str()) {
        return None;
    }
    Some(MapCall {
        event: e,
        method: &only.method,
        call: only.span,
        args: &only.args,
        in_let: only.in_let,
    })
}

/// Words of a comment that says a duplicate fill is expected.
const BENIGN_RACE_WORDS: &[&str] = &[
    "race",
    "racy",
    "racing",
    "benign",
    "harmless",
    "idempotent",
    "twice",
    "in the meantime",
    "meanwhile",
    "concurrent",
    "another thread",
    "another task",
    "other thread",
    "doesn't matter",
    "does not matter",
    "don't care",
];

/// Does the code show that a duplicate fill is expected: the insert's result (the value it
/// replaced) is looked at, or a comment from the check to the insert (or right above the
/// check) says that racing callers are fine?
fn fill_is_expected(model: &Model, body: &BodyFacts, check: Span, act: Span) -> bool {
    if !body.discarded_calls.contains(&act) {
        return true;
    }
    let text = &model.texts[check.file as usize];
    // From the start of the comment lines above the check's line to the end of the insert.
    let mut lo = text[..check.lo as usize].rfind('\n').map_or(0, |p| p + 1);
    while lo > 0 {
        let prev = text[..lo - 1].rfind('\n').map_or(0, |p| p + 1);
        if !text[prev..lo].trim_start().starts_with("//") {
            break;
        }
        lo = prev;
    }
    let Some(region) = text.get(lo..act.hi as usize) else {
        return false;
    };
    comments_in(region).iter().any(|c| {
        let lower = c.to_lowercase();
        BENIGN_RACE_WORDS.iter().any(|w| lower.contains(w))
    })
}

/// The comments of a piece of code, in order.
#[must_use]
pub fn comments_in(code: &str) -> Vec<&str> {
    let mut at = 0;
    rustc_lexer::tokenize(code, rustc_lexer::FrontmatterAllowed::No)
        .filter_map(|t| {
            let tok = code.get(at..at + t.len as usize);
            at += t.len as usize;
            tok.filter(|_| {
                matches!(
                    t.kind,
                    rustc_lexer::TokenKind::LineComment { .. } | rustc_lexer::TokenKind::BlockComment { .. }
                )
            })
        })
        .collect()
}

/// Do a check's and an act's first arguments name the same key (`&k` and `k.clone()` do)?
fn same_key(model: &Model, check_args: &[Span], act_args: &[Span]) -> bool {
    match (check_args.first(), act_args.first()) {
        (Some(c), Some(k)) => key_text(snippet(model, *c)) == key_text(snippet(model, *k)),
        _ => false,
    }
}

/// Does the value read by the check reach one of `targets`: through the `let` it
/// initializes, and on through the patterns of `if let`s around the act that read it
/// (`let seen = m.get(k).copied(); if let Some(n) = seen { m.insert(k, n + 1) }`)?
fn checked_value_flows(body: &BodyFacts, check: Span, in_let: Option<u32>, act: Span, targets: &[Span]) -> bool {
    let mut carriers: Vec<u32> = in_let.into_iter().collect();
    for i in body.ifs.iter().filter(|i| inside(act, i.then)) {
        let reads = inside(check, i.cond) || carriers.iter().any(|&b| mentioned_in(body, b, i.cond));
        if reads {
            carriers.extend(
                body.bindings
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| inside(b.span, i.cond))
                    .map(|(b, _)| b as u32),
            );
        }
    }
    carriers
        .iter()
        .any(|&b| targets.iter().any(|s| mentioned_in(body, b, *s)))
}

/// Is binding `b` named inside `at`?
fn mentioned_in(body: &BodyFacts, b: u32, at: Span) -> bool {
    body.mentions.iter().any(|m| m.binding == b && inside(m.span, at))
}

/// Is `inner` within `outer`?
#[must_use]
pub fn inside(inner: Span, outer: Span) -> bool {
    inner.file == outer.file && inner.lo >= outer.lo && inner.hi <= outer.hi
}

/// A key expression without the borrow or copy around it (`&k`, `k.clone()` → `k`).
#[must_use]
pub fn key_text(s: &str) -> String {
    let mut t = s.trim();
    t = t.strip_prefix('&').unwrap_or(t).trim();
    for suffix in [".clone()", ".to_owned()", ".to_string()", ".into()"] {
        t = t.strip_suffix(suffix).unwrap_or(t);
    }
    t.chars().filter(|c| !c.is_whitespace()).collect()
}

fn same_kind(a: AcqOp, b: AcqOp) -> bool {
    matches!(
        (a, b),
        (AcqOp::Lock { .. }, AcqOp::Lock { .. })
            | (AcqOp::Sharded { .. }, AcqOp::Sharded { .. })
            | (AcqOp::Bundled { .. }, AcqOp::Bundled { .. })
    )
}
