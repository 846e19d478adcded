//! Guard flow: where every guard lives, followed as a value through each function body.
//!
//! A guard is a *value*: the result of `m.lock()` (inside its `LockResult`), of `map.get(k)`
//! (inside its `Option`), of a helper that returns one inside a struct. This pass walks each
//! body once in evaluation order and keeps an abstract state: which *slots* (local bindings and
//! temporaries) hold which guards, and where inside their value (the `Some` payload, a struct
//! field, the items of an iterator). It follows
//!
//! - **moves**: a guard passed by value, bound by `let`, returned, stored in a local struct or
//!   collection leaves its old slot; `drop(g)` ends it; a guard moved into a call the model
//!   cannot see is ended there (silence rather than a guess);
//! - **temporaries**, by the Reference's temporary scopes and the package's edition: statements,
//!   `if` conditions and bodies, `match` arms, lazy operands, block tails (2024), `if let`
//!   scrutinees (into `else` up to 2021), `let` lifetime extension (`let r = &*m.lock()`);
//! - **paths**: `if`/`match`/loops fork and join the state. A pattern refines what the scrutinee
//!   holds: in a `None` or `Err(_)` arm the `Option`'s payload holds nothing, while a guard
//!   beside it (the `MutexGuard` temporary of `m.lock().unwrap().get(k)`) is still alive. A guard
//!   released on only some incoming paths is *maybe* held, and rules stay silent about it;
//! - **calls**: a function of the package is summarized (the locks it takes, relative to its
//!   `self`, parameters and statics; the guards it returns and where they sit in its result; the
//!   parameters it hands back), bottom-up over the call graph's strongly connected components.
//!
//! The output per function is its lock events, each with the guards certainly held when it
//! happens, and the guards held at each `.await`. Rules ask these; none re-walks a body.

use std::collections::HashMap;

use super::aliases::FieldAliases;
use super::body::{BodyFacts, Role};
use super::ir::{BinKind, Block, Closure, Expr, ExprKind, MacroArgs, Pat, SelfKind, Stmt, Ty, UnOp};
use super::items::ItemIndex;
use super::locks::{self, LockEvent, Summary, SummaryAcq, exec_context};
pub use super::locks::{FnGuards, Path, Seg};
use super::stored::StoredAcq;
use super::types::SemTy;
use crate::Edition;
use crate::catalog::{self, GuardMethod, Shape, ShapeSeg};
use crate::diagnostic::Span;

/// Where a future of an async function of the package holds the guards moved into it.
const FUTURE: &str = "<future>";
/// Tokens at or above this value stand for what a parameter holds (for summaries).
const PARAM_TOK: u32 = 1 << 30;
/// Loops are iterated to a fixpoint at most this many times (deeper nests: once).
const LOOP_ROUNDS: u32 = 3;
const MAX_LOOP_DEPTH: u32 = 3;
const MAX_DEPTH: u32 = 384;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    path: Path,
    tok: u32,
    /// Guards of the same lock taken the same way share a class: a value that holds one guard
    /// of a lock on one path and another on the other path holds a guard of it on both.
    class: u32,
    /// Held on every path that reaches here (`false`: only on some).
    must: bool,
}

/// What a value holds: guards (event indices) at paths inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Val(Vec<Held>);

fn var(name: &str) -> Seg {
    Seg::Var(name.into())
}

fn field(name: &str) -> Seg {
    Seg::Field(name.into())
}

/// One place of a [`Shape`] as a path into a value.
fn shape_path(p: &[ShapeSeg]) -> Path {
    p.iter()
        .map(|s| match s {
            ShapeSeg::Variant(v) => var(v),
            ShapeSeg::Elem => Seg::Elem,
        })
        .collect()
}

fn is_var(p: &[Seg]) -> bool {
    matches!(p.first(), Some(Seg::Var(_)))
}

impl Val {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keeps the guards outside variants and inside the variants `keep` accepts (what a
    /// pattern or a test tells about the value).
    fn keep_variants(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|h| match h.path.first() {
            Some(Seg::Var(x)) => keep(x),
            _ => true,
        });
    }

    /// Joins `v` into what the `return`s or `break`s of a body or loop hand out so far.
    fn join_into(acc: &mut Option<Val>, v: Val) {
        *acc = Some(match acc.take() {
            Some(w) => Val::join(&w, &v),
            None => v,
        });
    }

    fn token(tok: u32, class: u32, shape: Shape) -> Val {
        Val(shape
            .iter()
            .map(|p| Held {
                path: shape_path(p),
                tok,
                class,
                must: true,
            })
            .collect())
    }

    fn extend(&mut self, other: Val) {
        for h in other.0 {
            if let Some(x) = self.0.iter_mut().find(|x| x.tok == h.tok && x.path == h.path) {
                x.must &= h.must;
            } else {
                self.0.push(h);
            }
        }
    }

    /// The value placed inside another at `prefix` (`Some(v)`, `S { f: v }`).
    fn under(mut self, prefix: &[Seg]) -> Val {
        if !prefix.is_empty() {
            for h in &mut self.0 {
                let mut p = prefix.to_vec();
                p.append(&mut h.path);
                h.path = p;
            }
        }
        self
    }

    /// `unwrap()`, `?`: the payload of `Some`/`Ok`/`Present`; an `Err`'s payload is gone.
    fn unwrap_variant(self) -> Val {
        Val(self
            .0
            .into_iter()
            .filter_map(|mut h| match h.path.first() {
                Some(Seg::Var(v)) if matches!(&**v, "Some" | "Ok" | "Present") => {
                    h.path.remove(0);
                    Some(h)
                }
                Some(Seg::Var(_)) => None,
                _ => Some(h),
            })
            .collect())
    }

    fn rename_variant(self, from: &str, to: &str) -> Val {
        Val(self
            .0
            .into_iter()
            .filter_map(|mut h| match h.path.first() {
                Some(Seg::Var(v)) if &**v == from => {
                    h.path[0] = var(to);
                    Some(h)
                }
                Some(Seg::Var(_)) => None,
                _ => Some(h),
            })
            .collect())
    }

    /// Splits off what sits under `prefix` (re-rooted), leaving the rest.
    fn take_under(&mut self, prefix: &[Seg]) -> Val {
        let (taken, rest): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|h| h.path.len() >= prefix.len() && h.path[..prefix.len()] == *prefix);
        self.0 = rest;
        Val(taken
            .into_iter()
            .map(|mut h| {
                h.path.drain(..prefix.len());
                h
            })
            .collect())
    }

    /// The items of an iterator or collection.
    fn items(&self) -> Val {
        Val(self
            .0
            .iter()
            .filter(|h| h.path.first() == Some(&Seg::Elem))
            .map(|h| Held {
                path: h.path[1..].to_vec(),
                ..h.clone()
            })
            .collect())
    }

    fn without_items(self) -> Val {
        Val(self
            .0
            .into_iter()
            .filter(|h| h.path.first() != Some(&Seg::Elem))
            .collect())
    }

    /// Without the guards in these variants' payloads (what is held where the value is the
    /// other variant).
    fn without_variants(self, variants: &[&str]) -> Val {
        Val(self
            .0
            .into_iter()
            .filter(|h| !matches!(h.path.first(), Some(Seg::Var(v)) if variants.contains(&&**v)))
            .collect())
    }

    fn holds_variant(&self) -> bool {
        self.0.iter().any(|h| is_var(&h.path))
    }

    /// Every guard moved to the value itself (an `Entry` finished into a `RefMut`).
    fn flatten(self) -> Val {
        let mut out = Val::default();
        for h in self.0 {
            out.extend(Val(vec![Held { path: Vec::new(), ..h }]));
        }
        out
    }

    fn maybe(mut self) -> Val {
        for h in &mut self.0 {
            h.must = false;
        }
        self
    }

    /// Joins the values of two paths. A guard held on only one of them is *maybe* held, except
    /// inside a variant (`Some(g)` on one path and nothing on the other is an `Option` that may
    /// be `None`, and still holds `g` whenever it is `Some`), and except where the other path
    /// holds another guard of the same lock there (a guard re-taken in each loop iteration).
    fn join(a: &Val, b: &Val) -> Val {
        let only = |h: &Held, other: &Val| {
            h.must && (is_var(&h.path) || other.0.iter().any(|x| x.must && x.class == h.class && x.path == h.path))
        };
        let mut out = Vec::new();
        for h in &a.0 {
            let must = match b.0.iter().find(|x| x.tok == h.tok && x.path == h.path) {
                Some(x) => h.must && x.must,
                None => only(h, b),
            };
            out.push(Held { must, ..h.clone() });
        }
        for h in &b.0 {
            if !a.0.iter().any(|x| x.tok == h.tok && x.path == h.path) {
                out.push(Held {
                    must: only(h, a),
                    ..h.clone()
                });
            }
        }
        Val(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Slot {
    Bind(u32),
    Temp(u32),
}

/// The guards each live slot holds on the current path. A slot that was moved out, dropped or
/// went out of scope has no entry; a slot whose guards a pattern refined away keeps an empty
/// one (so a join can tell "moved on one path" from "`None` on one path").
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    live: bool,
    slots: Vec<(Slot, Val)>,
}

impl State {
    fn new() -> State {
        State {
            live: true,
            slots: Vec::new(),
        }
    }

    fn dead() -> State {
        State {
            live: false,
            slots: Vec::new(),
        }
    }

    fn get_mut(&mut self, s: Slot) -> Option<&mut Val> {
        self.slots.iter_mut().find(|(x, _)| *x == s).map(|(_, v)| v)
    }

    fn get(&self, s: Slot) -> Option<&Val> {
        self.slots.iter().find(|(x, _)| *x == s).map(|(_, v)| v)
    }

    fn set(&mut self, s: Slot, v: Val) {
        match self.slots.binary_search_by(|(x, _)| x.cmp(&s)) {
            Ok(i) => self.slots[i].1 = v,
            Err(i) => self.slots.insert(i, (s, v)),
        }
    }

    fn take(&mut self, s: Slot) -> Val {
        match self.slots.binary_search_by(|(x, _)| x.cmp(&s)) {
            Ok(i) => self.slots.remove(i).1,
            Err(_) => Val::default(),
        }
    }

    fn join(a: State, b: State) -> State {
        if !a.live {
            return b;
        }
        if !b.live {
            return a;
        }
        let mut slots = Vec::new();
        for (s, v) in &a.slots {
            match b.get(*s) {
                Some(w) => slots.push((*s, Val::join(v, w))),
                None => slots.push((*s, v.clone().maybe())),
            }
        }
        for (s, v) in &b.slots {
            if a.get(*s).is_none() {
                slots.push((*s, v.clone().maybe()));
            }
        }
        slots.sort_by_key(|(s, _)| *s);
        State { live: true, slots }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    /// A block, arm or closure: where bindings (and extended temporaries) live.
    Block,
    /// A temporary scope: statements, conditions, arm bodies, lazy operands, tails (2024).
    Temp,
}

#[derive(Debug)]
struct Scope {
    kind: ScopeKind,
    slots: Vec<Slot>,
}

#[derive(Debug)]
struct LoopCtx {
    /// How many scopes were open when the loop started: a `break` leaves the others.
    depth: usize,
    /// The states `break` and `continue` take to the loop's exit and head, joined.
    breaks: State,
    continues: State,
    /// What `break value` hands out (`None`: no `break` with a value yet).
    value: Option<Val>,
}

impl Default for LoopCtx {
    fn default() -> LoopCtx {
        LoopCtx {
            depth: 0,
            breaks: State::dead(),
            continues: State::dead(),
            value: None,
        }
    }
}

/// A function body or a closure body: where `return` goes, and its loops.
#[derive(Debug, Default)]
struct Frame {
    ret: Option<Val>,
    loops: Vec<LoopCtx>,
}

/// Runs the guard flow over every function, callees before callers, and returns each one's
/// summary and guard facts.
#[must_use]
pub fn analyze_all(
    ix: &ItemIndex,
    bodies: &[BodyFacts],
    aliases: &FieldAliases,
    edition: Edition,
) -> (Vec<Summary>, Vec<FnGuards>) {
    let n = bodies.len();
    let stored = super::stored::resolve(ix, bodies, None);
    let mut sums = vec![Summary::default(); n];
    let mut guards: Vec<FnGuards> = (0..n).map(|_| FnGuards::default()).collect();
    for scc in sccs(bodies) {
        let recursive = scc.len() > 1 || bodies[scc[0] as usize].calls.iter().any(|c| c.callee == scc[0]);
        for _ in 0..if recursive { 4 } else { 1 } {
            let mut changed = false;
            for &f in &scc {
                let stored = &stored[f as usize];
                if !needs_flow(ix, &bodies[f as usize], f, &sums) && stored.iter().all(Vec::is_empty) {
                    continue;
                }
                let (g, s) = Flow::run(ix, aliases, f, &bodies[f as usize], edition, &sums, stored);
                guards[f as usize] = g;
                if s != sums[f as usize] {
                    sums[f as usize] = s;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
    // The stored closures' calls, now that every summary is known: the functions with a
    // stored-closure call are walked again with them (their callers keep the summaries of the
    // first walk).
    if bodies.iter().any(|b| !b.stored_calls.is_empty()) {
        let with_calls = super::stored::resolve(ix, bodies, Some(&sums));
        for (f, (now, before)) in with_calls.iter().zip(&stored).enumerate() {
            if now.iter().zip(before).any(|(a, b)| a.len() != b.len()) {
                let (g, s) = Flow::run(ix, aliases, f as u32, &bodies[f], edition, &sums, now);
                guards[f] = g;
                sums[f] = s;
            }
        }
    }
    (sums, guards)
}

/// Can anything in this function take a lock, or hand a guard on?
fn needs_flow(ix: &ItemIndex, body: &BodyFacts, f: u32, sums: &[Summary]) -> bool {
    if !body.acquisitions.is_empty() || body.calls.iter().any(|c| !sums[c.callee as usize].is_empty()) {
        return true;
    }
    // A function that may hand a guard it was given back (`fn touch(g: G) -> G { g }`).
    ix.fns[f as usize].def.params.iter().any(|p| names_guard(&p.ty))
}

/// Is parameter `pos` (`self` first) of function `f` typed as a guard (so its walk follows
/// what the caller passes there)?
fn guard_param(ix: &ItemIndex, f: usize, pos: usize) -> bool {
    let def = &ix.fns[f].def;
    let offset = usize::from(def.self_kind.is_some());
    pos >= offset && def.params.get(pos - offset).is_some_and(|p| names_guard(&p.ty))
}

/// Does a written type name a lock guard type (`MutexGuard<'_, T>`, `Option<RwLockWriteGuard<..>>`)?
/// Only such parameters are followed into summaries: what a function does with other values
/// is no lock's business (and lex-first planning keeps every function naming one).
fn names_guard(t: &Ty) -> bool {
    match t {
        Ty::Path(p) => p
            .segments
            .iter()
            .any(|s| catalog::LOCK_GUARD_TYPES.contains(&s.name.as_str()) || s.args.iter().any(names_guard)),
        Ty::Ref { inner, .. } | Ty::Ptr { inner, .. } | Ty::Array(inner) | Ty::Slice(inner) => names_guard(inner),
        Ty::Tuple(ts) => ts.iter().any(names_guard),
        _ => false,
    }
}

/// Strongly connected components of the call graph, callees first (Tarjan, iteratively).
fn sccs(bodies: &[BodyFacts]) -> Vec<Vec<u32>> {
    let n = bodies.len();
    let mut index = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0u32;
    for root in 0..n as u32 {
        if index[root as usize] != u32::MAX {
            continue;
        }
        // (node, next call to visit)
        let mut work: Vec<(u32, usize)> = vec![(root, 0)];
        index[root as usize] = next;
        low[root as usize] = next;
        next += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            let calls = &bodies[v as usize].calls;
            if *i < calls.len() {
                let w = calls[*i].callee;
                *i += 1;
                if index[w as usize] == u32::MAX {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    work.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent as usize] = low[parent as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                comp.reverse();
                out.push(comp);
            }
        }
    }
    out
}

/// The walk of one function body.
struct Flow<'a> {
    ix: &'a ItemIndex,
    aliases: &'a FieldAliases,
    f: u32,
    body: &'a BodyFacts,
    edition: Edition,
    sums: &'a [Summary],
    /// For each stored-closure call of the body, the locks the closures stored there take.
    stored: &'a [Vec<StoredAcq>],
    stored_call_of: HashMap<u32, usize>,
    /// The binding a path expression names, by expression id.
    binding_of: HashMap<u32, u32>,
    /// The binding a pattern identifier declares, by its offset.
    pat_binding: HashMap<u32, u32>,
    acq_of: HashMap<u32, usize>,
    call_of: HashMap<u32, usize>,
    closure_call_of: HashMap<u32, usize>,
    /// Calls of the function's own parameters (`BodyFacts::param_calls`): position by
    /// expression id; and the guards certainly held at each such call, for the summary's
    /// `runs_param_under`.
    param_call_of: HashMap<u32, usize>,
    param_runs: Vec<(usize, Vec<u32>)>,
    await_of: HashMap<u32, usize>,
    blocking_of: HashMap<u32, usize>,
    /// Bindings named inside unknown macros, by the macro's expression id.
    opaque: HashMap<u32, Vec<u32>>,
    /// The scope each binding was declared in.
    binding_scope: HashMap<u32, usize>,
    events: Vec<LockEvent>,
    /// The class of each event's guard: events of one lock place and operation share one.
    classes: Vec<u32>,
    class_of: HashMap<(super::body::Place, crate::catalog::AcqOp), u32>,
    event_of: HashMap<(u32, u32), u32>,
    awaits: Vec<Vec<u32>>,
    blocking: Vec<Vec<u32>>,
    /// The guard parameters (positions, `self` first) certainly held at each event and at
    /// each `.await` (for the summary's `under_param` and `param_awaits`).
    event_params: Vec<Vec<usize>>,
    await_params: Vec<Vec<usize>>,
    /// Guards moved into the future of an async function that holds them across an `.await`:
    /// the function and that `.await`.
    future_via: HashMap<u32, (u32, Span)>,
    awaits_via: Vec<Vec<(u32, u32, Span)>>,
    /// What each closure (analyzed on its own) returns, in terms of its own events.
    closure_returns: HashMap<u32, Val>,
    st: State,
    scopes: Vec<Scope>,
    frames: Vec<Frame>,
    /// Values evaluated and not yet consumed (earlier arguments of a call being evaluated).
    pending: Vec<Val>,
    next_temp: u32,
    /// Temporaries created now live in this scope (`let` lifetime extension).
    extend_to: Option<usize>,
    loop_depth: u32,
    depth: u32,
}

impl<'a> Flow<'a> {
    fn run(
        ix: &'a ItemIndex,
        aliases: &'a FieldAliases,
        f: u32,
        body: &'a BodyFacts,
        edition: Edition,
        sums: &'a [Summary],
        stored: &'a [Vec<StoredAcq>],
    ) -> (FnGuards, Summary) {
        let def = &ix.fns[f as usize].def;
        let mut binding_of = HashMap::new();
        let mut opaque: HashMap<u32, Vec<u32>> = HashMap::new();
        for m in &body.mentions {
            if m.role == Role::Opaque {
                opaque.entry(m.expr).or_default().push(m.binding);
            } else {
                binding_of.insert(m.expr, m.binding);
            }
        }
        let mut fl = Flow {
            ix,
            aliases,
            f,
            body,
            edition,
            sums,
            stored,
            stored_call_of: body.stored_calls.iter().enumerate().map(|(i, c)| (c.expr, i)).collect(),
            binding_of,
            pat_binding: body
                .bindings
                .iter()
                .enumerate()
                .map(|(i, b)| (b.span.lo, i as u32))
                .collect(),
            acq_of: body.acquisitions.iter().enumerate().map(|(i, a)| (a.expr, i)).collect(),
            call_of: body.calls.iter().enumerate().map(|(i, c)| (c.expr, i)).collect(),
            closure_call_of: body
                .closure_calls
                .iter()
                .enumerate()
                .map(|(i, c)| (c.expr, i))
                .collect(),
            param_call_of: body.param_calls.iter().copied().collect(),
            param_runs: Vec::new(),
            await_of: body.awaits.iter().enumerate().map(|(i, a)| (a.expr, i)).collect(),
            blocking_of: body
                .blocking_waits
                .iter()
                .enumerate()
                .map(|(i, b)| (b.expr, i))
                .collect(),
            opaque,
            binding_scope: HashMap::new(),
            events: Vec::new(),
            classes: Vec::new(),
            class_of: HashMap::new(),
            event_of: HashMap::new(),
            awaits: vec![Vec::new(); body.awaits.len()],
            blocking: vec![Vec::new(); body.blocking_waits.len()],
            event_params: Vec::new(),
            await_params: vec![Vec::new(); body.awaits.len()],
            future_via: HashMap::new(),
            awaits_via: vec![Vec::new(); body.awaits.len()],
            closure_returns: HashMap::new(),
            st: State::new(),
            scopes: Vec::new(),
            frames: Vec::new(),
            pending: Vec::new(),
            next_temp: 0,
            extend_to: None,
            loop_depth: 0,
            depth: 0,
        };
        // A guard-typed parameter holds what the caller passes (for summaries: guards handed
        // back).
        let params = |fl: &mut Flow<'a>| {
            for &(b, pos) in &body.params {
                if guard_param(ix, f as usize, pos) {
                    fl.bind(
                        b,
                        Val(vec![Held {
                            path: Vec::new(),
                            tok: PARAM_TOK + pos as u32,
                            class: PARAM_TOK + pos as u32,
                            must: true,
                        }]),
                    );
                }
            }
        };
        let ret = fl.in_frame(params, |fl| def.body.as_ref().map(|b| fl.block(b)).unwrap_or_default());
        fl.finish(&ret)
    }

    // ------------------------------------------------------------ scopes and slots

    fn push(&mut self, kind: ScopeKind) {
        self.scopes.push(Scope {
            kind,
            slots: Vec::new(),
        });
    }

    /// Ends the innermost scope in the current state and in `others` (the other outcome of a
    /// condition).
    fn pop_in(&mut self, others: &mut [&mut State]) {
        let Some(sc) = self.scopes.pop() else { return };
        for s in sc.slots {
            self.st.take(s);
            for o in others.iter_mut() {
                o.take(s);
            }
            if let Slot::Bind(b) = s {
                self.binding_scope.remove(&b);
            }
        }
    }

    fn pop(&mut self) {
        self.pop_in(&mut []);
    }

    fn innermost(&self, kind: ScopeKind) -> usize {
        self.scopes.iter().rposition(|s| s.kind == kind).unwrap_or(0)
    }

    /// Puts a value in a new temporary of the current temporary scope (or the extended one).
    fn temp(&mut self, v: Val) -> Option<Slot> {
        if v.is_empty() || !self.st.live {
            return None;
        }
        let s = Slot::Temp(self.next_temp);
        self.next_temp += 1;
        let at = self.extend_to.unwrap_or_else(|| self.innermost(ScopeKind::Temp));
        self.scopes[at].slots.push(s);
        self.st.set(s, v);
        Some(s)
    }

    /// Binds a value to a binding (declared in the innermost block, arm or closure scope).
    fn bind(&mut self, b: u32, v: Val) {
        if !self.st.live {
            return;
        }
        if self.binding_scope.get(&b).is_none_or(|&at| at >= self.scopes.len()) {
            let at = self.innermost(ScopeKind::Block);
            self.scopes[at].slots.push(Slot::Bind(b));
            self.binding_scope.insert(b, at);
        }
        if v.is_empty() {
            self.st.take(Slot::Bind(b));
        } else {
            self.st.set(Slot::Bind(b), v);
        }
    }

    fn frame(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a frame")
    }

    fn ret(&mut self, v: Val) {
        if !self.st.live {
            return;
        }
        Val::join_into(&mut self.frame().ret, v);
    }

    /// The guards certainly held now: in live slots and in values being evaluated.
    fn held_now(&self, except: Option<u32>) -> Vec<u32> {
        self.held_tokens(|t| t < PARAM_TOK && Some(t) != except)
    }

    /// The guard parameters (positions) certainly held now.
    fn params_held_now(&self) -> Vec<usize> {
        self.held_tokens(|t| t >= PARAM_TOK)
            .into_iter()
            .map(|t| (t - PARAM_TOK) as usize)
            .collect()
    }

    /// The tokens `pick` accepts among those certainly held now (sorted, once each).
    fn held_tokens(&self, pick: impl Fn(u32) -> bool) -> Vec<u32> {
        if !self.st.live {
            return Vec::new();
        }
        let mut out: Vec<u32> = self
            .st
            .slots
            .iter()
            .map(|(_, v)| v)
            .chain(self.pending.iter())
            .flat_map(|v| v.0.iter())
            .filter(|h| h.must && pick(h.tok))
            .map(|h| h.tok)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    // ------------------------------------------------------------ events

    fn record(&mut self, key: (u32, u32), make: impl FnOnce(&Self) -> Option<LockEvent>) -> Option<u32> {
        let id = if let Some(&id) = self.event_of.get(&key) {
            id
        } else {
            let ev = make(self)?;
            let id = self.events.len() as u32;
            let n = self.class_of.len() as u32;
            let class = *self.class_of.entry((ev.lock.clone(), ev.op)).or_insert(n);
            self.classes.push(class);
            self.events.push(ev);
            self.event_params.push(Vec::new());
            self.event_of.insert(key, id);
            id
        };
        self.events[id as usize].held = self.held_now(Some(id));
        self.event_params[id as usize] = self.params_held_now();
        Some(id)
    }

    /// A lock's place as events name it: `Arc` clones resolved to their object, aliased field
    /// paths to the shortest one.
    fn lock_place(&self, place: &super::body::Place) -> super::body::Place {
        let mut place = locks::canonical(self.body, place);
        // A lock taken through each element of a collection in turn is every element's:
        // `self.shards[*]`.
        if let super::body::Root::Local(b) = place.root
            && let Some(coll) = &self.body.bindings[b as usize].each_of
        {
            let mut each = locks::canonical(self.body, coll);
            each.fields.push(locks::EACH.to_owned());
            each.fields.append(&mut place.fields);
            place = each;
        }
        self.aliases.normalize(self.ix, self.body, self.f, place)
    }

    /// An event taking `lock` (of type `lock_ty`) at `span`, inside `closures`, from the
    /// acquisition at `origin`; the caller says how it is reached (`via`, `through_closure`,
    /// `acquisition`, `through_trait`).
    fn new_event(
        &self,
        lock: &super::body::Place,
        lock_ty: &SemTy,
        op: crate::catalog::AcqOp,
        span: Span,
        closures: &[u32],
        origin: (Span, u32),
    ) -> LockEvent {
        let lock = self.lock_place(lock);
        LockEvent {
            on_map: locks::guards_a_map(self.ix, lock_ty),
            exclusive: locks::is_exclusive(self.ix, self.body, self.f, &lock),
            lock,
            lock_ty: lock_ty.clone(),
            op,
            span,
            via: None,
            through_closure: None,
            closures: closures.to_vec(),
            context: exec_context(self.body, closures),
            acquisition: None,
            origin,
            through_trait: None,
            held: Vec::new(),
            nested: Vec::new(),
            runs_closure: false,
        }
    }

    fn direct_event(&mut self, ai: usize) -> Option<u32> {
        let a = &self.body.acquisitions[ai];
        self.record((a.expr, 0), |fl| {
            Some(LockEvent {
                acquisition: Some(ai),
                ..fl.new_event(&a.lock, &a.lock_ty, a.op, a.span, &a.closures, (a.span, fl.f))
            })
        })
    }

    fn call_event(&mut self, ci: usize, k: usize) -> Option<u32> {
        let call = &self.body.calls[ci];
        let acq = &self.sums[call.callee as usize].acquires[k];
        let has_self = self.ix.fns[call.callee as usize].def.self_kind.is_some();
        self.record((call.expr, k as u32 + 1), |fl| {
            let place = locks::at_call_site(call, has_self, &acq.lock)?;
            Some(LockEvent {
                via: Some((call.callee, acq.span)),
                through_trait: call.through_trait.clone(),
                ..fl.new_event(
                    &place,
                    &acq.lock_ty,
                    acq.op,
                    call.span,
                    &call.closures,
                    (acq.span, acq.fn_id),
                )
            })
        })
    }

    /// At the event for the callee's `acquires[k]`, the guards the caller moved into the
    /// callee's guard parameters (`moved`) are held only where the callee still holds them.
    fn release_moved(&mut self, ev: u32, callee: usize, k: usize, moved: &[(usize, Vec<u32>)]) {
        let sum = &self.sums[callee];
        for (pos, toks) in moved {
            if sum.under_param.contains(&(*pos, k)) {
                continue;
            }
            let e = ev as usize;
            self.events[e].held.retain(|t| !toks.contains(t));
            self.event_params[e].retain(|p| !toks.contains(&(PARAM_TOK + *p as u32)));
        }
    }

    fn closure_call_event(&mut self, cc: usize, ai: usize) -> Option<u32> {
        let call = &self.body.closure_calls[cc];
        let a = &self.body.acquisitions[ai];
        self.record((call.expr, ai as u32 + 1), |fl| {
            Some(LockEvent {
                through_closure: Some(a.span),
                ..fl.new_event(&a.lock, &a.lock_ty, a.op, call.span, &call.closures, (a.span, fl.f))
            })
        })
    }

    // ------------------------------------------------------------ statements and blocks

    fn block(&mut self, b: &Block) -> Val {
        self.push(ScopeKind::Block);
        let n = b.stmts.len();
        let mut value = Val::default();
        for (i, s) in b.stmts.iter().enumerate() {
            match s {
                Stmt::Expr { expr, semi: false } if i + 1 == n => {
                    // The tail's temporaries outlive the block up to 2021.
                    let own = self.edition >= Edition::E2024;
                    if own {
                        self.push(ScopeKind::Temp);
                    }
                    value = self.eval(expr);
                    if own {
                        self.pop();
                    }
                }
                _ => self.stmt(s),
            }
        }
        self.pop();
        value
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { pat, init, els, .. } => {
                self.push(ScopeKind::Temp);
                let v = match init {
                    // `let _ = place;` binds nothing and moves nothing.
                    Some(e) if matches!(pat, Pat::Wild) && is_place_expr(e) => {
                        self.place(e);
                        Val::default()
                    }
                    Some(e) => self.let_init(e),
                    None => Val::default(),
                };
                match els {
                    Some(els) => {
                        let slot = self.temp(v);
                        let mut fail = self.st.clone();
                        if let Some(s) = slot {
                            refine_fail(&mut fail, s, pat);
                        }
                        // The initializer's temporaries are gone when `else` runs.
                        let stmt_slots = self.scopes.last().map(|s| s.slots.clone()).unwrap_or_default();
                        for s in stmt_slots {
                            fail.take(s);
                        }
                        let ok = std::mem::replace(&mut self.st, fail);
                        let _ = self.block(els);
                        self.st = ok;
                        if let Some(s) = slot {
                            self.refine(s, pat);
                        }
                        self.bind_pat(slot, false, pat, &[]);
                    }
                    None => self.bind_value(pat, v),
                }
                self.pop();
            }
            Stmt::Expr { expr, .. } => {
                self.push(ScopeKind::Temp);
                let _ = self.eval(expr);
                self.pop();
            }
            Stmt::Item(_) => {}
        }
    }

    /// A `let` initializer: the operand of a top-level `&` lives as long as the binding.
    fn let_init(&mut self, e: &Expr) -> Val {
        match &e.kind {
            ExprKind::Ref { expr, .. } => {
                self.extended_place(expr);
                Val::default()
            }
            _ => self.eval(e),
        }
    }

    fn extended_place(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Unary { op: UnOp::Deref, expr } | ExprKind::Field { base: expr, .. } => self.extended_place(expr),
            ExprKind::Path(_) => {}
            _ => {
                let v = self.eval(e);
                let saved = self.extend_to.replace(self.innermost(ScopeKind::Block));
                self.temp(v);
                self.extend_to = saved;
            }
        }
    }

    /// Binds an irrefutable pattern to a value.
    fn bind_value(&mut self, pat: &Pat, v: Val) {
        match pat {
            Pat::Ident {
                by_ref: false,
                span,
                sub: None,
                ..
            } => {
                if let Some(&b) = self.pat_binding.get(&span.lo) {
                    self.bind(b, v);
                }
            }
            Pat::Wild | Pat::Other | Pat::Path(_) => {
                // Dropped at the end of the statement.
                self.temp(v);
            }
            _ => {
                let slot = self.temp(v);
                self.bind_pat(slot, false, pat, &[]);
            }
        }
    }

    /// Binds the names of `pat` to what sits at `at` in the value in `slot` (moved out of it,
    /// unless bound by reference).
    fn bind_pat(&mut self, slot: Option<Slot>, by_ref: bool, pat: &Pat, at: &[Seg]) {
        match pat {
            Pat::Ident {
                by_ref: r,
                span,
                sub,
                name,
                ..
            } => {
                if let Some(sub) = sub {
                    self.bind_pat(slot, by_ref, sub, at);
                }
                if is_unit_variant(name, sub.is_some()) {
                    return;
                }
                let Some(&b) = self.pat_binding.get(&span.lo) else {
                    return;
                };
                let v = match slot {
                    Some(s) if !by_ref && !*r => self.st.get_mut(s).map(|v| v.take_under(at)).unwrap_or_default(),
                    _ => Val::default(),
                };
                self.bind(b, v);
            }
            Pat::Variant { name, elems } => {
                let mut p = at.to_vec();
                p.push(var(name));
                if let [one] = elems.as_slice() {
                    self.bind_pat(slot, by_ref, one, &p);
                } else {
                    for (i, e) in elems.iter().enumerate() {
                        let mut q = p.clone();
                        q.push(field(&i.to_string()));
                        self.bind_pat(slot, by_ref, e, &q);
                    }
                }
            }
            Pat::Tuple(ps) => {
                for (i, e) in ps.iter().enumerate() {
                    let mut q = at.to_vec();
                    q.push(field(&i.to_string()));
                    self.bind_pat(slot, by_ref, e, &q);
                }
            }
            Pat::Struct(fs) => {
                for (n, e) in fs {
                    let mut q = at.to_vec();
                    q.push(field(n));
                    self.bind_pat(slot, by_ref, e, &q);
                }
            }
            Pat::Ref(p) => self.bind_pat(slot, true, p, at),
            Pat::Compound(ps) => {
                // Or-patterns and slices: the names are bound, by reference as far as guards go.
                for p in ps {
                    self.bind_pat(None, true, p, at);
                }
            }
            Pat::Path(_) | Pat::Other | Pat::Wild => {}
        }
    }

    /// A pattern matched: the scrutinee is not any other variant.
    fn refine(&mut self, s: Slot, pat: &Pat) {
        let Some(v) = self.st.get_mut(s) else { return };
        match pat {
            Pat::Variant { name, .. } => v.keep_variants(|x| x == name),
            Pat::Ident { name, sub: None, .. } | Pat::Path(name)
                if is_unit_variant(name, false) || matches!(pat, Pat::Path(_)) =>
            {
                v.keep_variants(|_| false);
            }
            Pat::Ident { sub: Some(sub), .. } => self.refine(s, sub),
            _ => {}
        }
    }

    // ------------------------------------------------------------ expressions

    fn eval(&mut self, e: &Expr) -> Val {
        if self.depth > MAX_DEPTH {
            return Val::default();
        }
        self.depth += 1;
        let v = self.eval_inner(e);
        self.depth -= 1;
        v
    }

    fn eval_inner(&mut self, e: &Expr) -> Val {
        match &e.kind {
            ExprKind::Path(_) => match self.binding_of.get(&e.id) {
                Some(&b) => self.st.take(Slot::Bind(b)),
                None => Val::default(),
            },
            ExprKind::Lit(_) => Val::default(),
            ExprKind::Field { .. } => self.field_value(e),
            ExprKind::MethodCall { recv, method, args, .. } => {
                let v = self.method_call(e, recv, method, args);
                if let Some(&i) = self.blocking_of.get(&e.id) {
                    self.blocking[i] = self.held_now(None);
                }
                v
            }
            ExprKind::Call { func, args } => {
                let v = self.call(e, func, args);
                if let Some(&i) = self.blocking_of.get(&e.id) {
                    self.blocking[i] = self.held_now(None);
                }
                v
            }
            ExprKind::Closure(c) => self.closure(e, c),
            ExprKind::Block(b) | ExprKind::Unsafe(b) => self.block(b),
            ExprKind::Async { is_move, body } => {
                let captured = if *is_move { self.captures(e.id) } else { Val::default() };
                let ret = self.separately(|fl| fl.block(body));
                self.closure_returns.insert(e.id, ret);
                captured
            }
            ExprKind::If { cond, then, els } => self.if_expr(cond, then, els.as_deref()),
            ExprKind::Let { .. } => {
                let (t, f) = self.cond(e);
                self.st = State::join(t, f);
                Val::default()
            }
            ExprKind::Match { scrut, arms } => {
                let (slot, by_ref) = self.scrutinee(scrut);
                let base = self.st.clone();
                let mut end = State::dead();
                let mut value = Val::default();
                for arm in arms {
                    self.st = base.clone();
                    self.push(ScopeKind::Block);
                    if let Some(s) = slot {
                        self.refine(s, &arm.pat);
                    }
                    self.bind_pat(slot, by_ref, &arm.pat, &[]);
                    if let Some(g) = &arm.guard {
                        self.push(ScopeKind::Temp);
                        let _ = self.eval(g);
                        self.pop();
                    }
                    self.push(ScopeKind::Temp);
                    let v = self.eval(&arm.body);
                    self.pop();
                    self.pop();
                    if self.st.live {
                        value = if end.live { Val::join(&value, &v) } else { v };
                    }
                    end = State::join(end, std::mem::replace(&mut self.st, State::dead()));
                }
                self.st = end;
                value
            }
            ExprKind::While { cond, body } => {
                let has_let = contains_let(cond);
                self.run_loop(|fl| {
                    fl.push(ScopeKind::Block);
                    fl.push(ScopeKind::Temp);
                    let (t, mut f) = fl.cond(cond);
                    fl.st = t;
                    if has_let {
                        // A `while let` scrutinee's temporaries live through the body.
                        let _ = fl.block(body);
                        fl.pop_in(&mut [&mut f]);
                        fl.pop_in(&mut [&mut f]);
                    } else {
                        // A plain condition's temporaries die before the body.
                        fl.pop_in(&mut [&mut f]);
                        let _ = fl.block(body);
                        fl.pop_in(&mut [&mut f]);
                    }
                    Some(f)
                });
                Val::default()
            }
            ExprKind::Loop(b) => self.run_loop(|fl| {
                let _ = fl.block(b);
                None
            }),
            ExprKind::For { pat, iter, body } => {
                let v = self.eval(iter);
                let items = v.items();
                self.temp(v);
                self.run_loop(|fl| {
                    let head = fl.st.clone();
                    fl.push(ScopeKind::Block);
                    fl.bind_value(pat, items.clone());
                    let _ = fl.block(body);
                    fl.pop();
                    Some(head)
                });
                Val::default()
            }
            ExprKind::Assign { lhs, rhs, compound } => {
                if *compound {
                    let _ = self.eval(rhs);
                    self.place(lhs);
                } else {
                    let v = self.eval(rhs);
                    self.assign(lhs, v);
                }
                Val::default()
            }
            ExprKind::Binary { lhs, rhs, op } => {
                if *op == BinKind::Other {
                    let a = self.eval(lhs);
                    self.pending.push(a);
                    let _ = self.eval(rhs);
                    self.pending.pop();
                } else {
                    let (t, f) = self.cond(e);
                    self.st = State::join(t, f);
                }
                Val::default()
            }
            ExprKind::Unary { op: UnOp::Deref, expr } | ExprKind::Ref { expr, .. } | ExprKind::RawAddr { expr, .. } => {
                self.place(expr);
                Val::default()
            }
            ExprKind::Unary { expr, .. } | ExprKind::Cast { expr, .. } => {
                let _ = self.eval(expr);
                Val::default()
            }
            ExprKind::Await(x) => {
                let mut v = self.eval(x);
                let future = v.take_under(&[field(FUTURE)]);
                self.await_future(e.id, &future);
                v
            }
            ExprKind::Try(x) => self.eval(x).unwrap_variant(),
            ExprKind::Index { base, index } => {
                self.place(base);
                let _ = self.eval(index);
                Val::default()
            }
            ExprKind::Return(x) => {
                let v = x.as_ref().map(|x| self.eval(x)).unwrap_or_default();
                self.ret(v);
                self.st = State::dead();
                Val::default()
            }
            ExprKind::Break(x) => {
                let v = x.as_ref().map(|x| self.eval(x)).unwrap_or_default();
                let st = self.leave_loop_scopes();
                if st.live
                    && let Some(l) = self.frame().loops.last_mut()
                {
                    l.breaks = State::join(std::mem::replace(&mut l.breaks, State::dead()), st);
                    Val::join_into(&mut l.value, v);
                }
                Val::default()
            }
            ExprKind::Continue => {
                let st = self.leave_loop_scopes();
                if st.live
                    && let Some(l) = self.frame().loops.last_mut()
                {
                    l.continues = State::join(std::mem::replace(&mut l.continues, State::dead()), st);
                }
                Val::default()
            }
            ExprKind::Macro { path, args } => self.macro_expr(e, path, args),
            ExprKind::Struct { fields, rest, .. } => {
                let mark = self.eval_parts(fields.iter().map(|(n, x)| (x, field(n))));
                if let Some(r) = rest {
                    self.place(r);
                }
                self.collect_pending(mark)
            }
            ExprKind::Tuple(es) => {
                let mark = self.eval_parts(es.iter().enumerate().map(|(i, x)| (x, field(&i.to_string()))));
                self.collect_pending(mark)
            }
            ExprKind::Other(es) => {
                let mark = self.eval_parts(es.iter().map(|x| (x, Seg::Elem)));
                self.collect_pending(mark)
            }
        }
    }

    /// The state a `break`/`continue` takes to its loop: the scopes it jumps out of are ended.
    /// The current path ends here.
    fn leave_loop_scopes(&mut self) -> State {
        let mut st = std::mem::replace(&mut self.st, State::dead());
        let depth = self
            .frames
            .last()
            .and_then(|f| f.loops.last())
            .map_or(self.scopes.len(), |l| l.depth);
        for sc in self.scopes.iter().skip(depth) {
            for s in &sc.slots {
                st.take(*s);
            }
        }
        st
    }

    /// Evaluates the parts of an aggregate (`S { f: a }`, `(a, b)`, `[a, b]`, `vec![a]`), each
    /// under its place in the whole and pending (alive) while the later ones are evaluated.
    /// Returns the mark to collect them from.
    fn eval_parts<'e>(&mut self, parts: impl IntoIterator<Item = (&'e Expr, Seg)>) -> usize {
        let mark = self.pending.len();
        for (x, seg) in parts {
            let v = self.eval(x).under(&[seg]);
            self.pending.push(v);
        }
        mark
    }

    fn collect_pending(&mut self, mark: usize) -> Val {
        let mut out = Val::default();
        for v in self.pending.drain(mark..) {
            out.extend(v);
        }
        out
    }

    /// Evaluates an expression in a place context (a receiver taken by reference, a `&`
    /// operand, a scrutinee): a value expression's result becomes a temporary. Returns the slot
    /// holding the place's value, when it is a binding or a new temporary.
    fn place(&mut self, e: &Expr) -> Option<Slot> {
        match &e.kind {
            ExprKind::Path(_) => self.binding_of.get(&e.id).map(|&b| Slot::Bind(b)),
            ExprKind::Field { base, .. }
            | ExprKind::Unary {
                op: UnOp::Deref,
                expr: base,
            } => {
                self.place(base);
                None
            }
            ExprKind::Index { base, index } => {
                self.place(base);
                let _ = self.eval(index);
                None
            }
            _ => {
                let v = self.eval(e);
                self.temp(v)
            }
        }
    }

    /// The slot a `match`/`if let` looks into, and whether its patterns bind by reference.
    fn scrutinee(&mut self, e: &Expr) -> (Option<Slot>, bool) {
        match &e.kind {
            ExprKind::Ref { expr, .. } => (self.place(expr), true),
            ExprKind::Unary { op: UnOp::Deref, .. } | ExprKind::Field { .. } | ExprKind::Index { .. } => {
                (self.place(e), true)
            }
            _ => (self.place(e), false),
        }
    }

    /// `s.f` in a value context: moves the field's guards out of a local.
    fn field_value(&mut self, e: &Expr) -> Val {
        let mut path = Vec::new();
        let mut cur = e;
        while let ExprKind::Field { base, name } = &cur.kind {
            path.push(field(name));
            cur = base;
        }
        path.reverse();
        if let ExprKind::Path(_) = &cur.kind {
            let Some(&b) = self.binding_of.get(&cur.id) else {
                return Val::default();
            };
            let Some(v) = self.st.get_mut(Slot::Bind(b)) else {
                return Val::default();
            };
            v.take_under(&path)
        } else {
            let mut v = self.eval(cur);
            let out = v.take_under(&path);
            self.temp(v);
            out
        }
    }

    fn assign(&mut self, lhs: &Expr, v: Val) {
        match &lhs.kind {
            ExprKind::Path(_) => {
                if let Some(&b) = self.binding_of.get(&lhs.id) {
                    // The old value is dropped.
                    self.st.take(Slot::Bind(b));
                    self.bind(b, v);
                }
            }
            ExprKind::Field { base, name } if matches!(base.kind, ExprKind::Path(_)) => {
                if let Some(&b) = self.binding_of.get(&base.id) {
                    let mut cur = self.st.take(Slot::Bind(b));
                    let _old = cur.take_under(&[field(name)]);
                    cur.extend(v.under(&[field(name)]));
                    self.bind(b, cur);
                }
            }
            // Stored into `self`, a global or through a pointer: no longer followed.
            _ => {
                self.place(lhs);
            }
        }
    }

    fn await_point(&mut self, expr: u32) {
        self.await_future(expr, &Val::default());
    }

    /// An `.await` of a future that holds `future` (guards moved into an async function that
    /// holds them across an `.await` of its own).
    fn await_future(&mut self, expr: u32, future: &Val) {
        if let Some(&i) = self.await_of.get(&expr) {
            self.pending.push(future.clone());
            self.awaits[i] = self.held_now(None);
            self.await_params[i] = self.params_held_now();
            self.pending.pop();
            self.awaits_via[i] = future
                .0
                .iter()
                .filter(|h| h.must && self.awaits[i].contains(&h.tok))
                .filter_map(|h| self.future_via.get(&h.tok).map(|&(f, at)| (h.tok, f, at)))
                .collect();
        }
    }

    // ------------------------------------------------------------ calls

    fn method_call(&mut self, e: &Expr, recv: &Expr, method: &str, args: &[Expr]) -> Val {
        if let Some(&ai) = self.acq_of.get(&e.id) {
            self.place(recv);
            let mark = self.pending.len();
            if self.body.acquisitions[ai].op.runs_closure() {
                // A bundled map's `update(k, |v| ..)`: the lock is taken first, and its closure
                // runs while it is held (the closure is inlined as its argument is evaluated).
                if let Some(ev) = self.direct_event(ai) {
                    self.pending.push(Val::token(ev, self.classes[ev as usize], &[&[]]));
                }
                self.args(args);
                self.pending.truncate(mark);
                return Val::default();
            }
            self.args(args);
            let ev = self.direct_event(ai);
            self.pending.truncate(mark);
            let a = &self.body.acquisitions[ai];
            return match ev {
                Some(ev) if a.op.returns_guard() => Val::token(ev, self.classes[ev as usize], a.shape),
                _ => Val::default(),
            };
        }
        if let Some(&ci) = self.call_of.get(&e.id) {
            let by_value = self.ix.fns[self.body.calls[ci].callee as usize].def.self_kind == Some(SelfKind::Value);
            let r = if by_value {
                self.eval(recv)
            } else {
                self.place(recv);
                Val::default()
            };
            return self.local_call(ci, Some(r), args);
        }
        // A `DashMap` entry bound to a name is consumed by its finishing calls.
        if let ExprKind::Path(_) = recv.kind
            && let Some(&b) = self.binding_of.get(&recv.id)
            && matches!(
                method,
                "remove" | "remove_entry" | "replace_entry" | "into_key" | "insert" | "insert_entry" | "into_ref"
            )
            && self.st.get(Slot::Bind(b)).is_some_and(|v| self.is_entry(v))
        {
            let v = self.st.take(Slot::Bind(b));
            let mark = self.pending.len();
            self.pending.push(v.clone());
            self.args(args);
            self.pending.truncate(mark);
            return if matches!(method, "insert" | "insert_entry" | "into_ref") {
                v.flatten()
            } else {
                Val::default()
            };
        }
        let effect = catalog::guard_method(method);
        let mark = self.pending.len();
        // The receiver: consumed by the call, or borrowed.
        let (recv_val, recv_slot) = match effect {
            Some(GuardMethod::NextItem) => {
                let s = self.place(recv);
                (s.and_then(|s| self.st.get(s).cloned()).unwrap_or_default(), None)
            }
            Some(GuardMethod::View) if is_place_expr(recv) => {
                self.place(recv);
                (Val::default(), None)
            }
            Some(_) => (self.eval(recv), None),
            None => (Val::default(), self.place(recv)),
        };
        self.pending.push(recv_val.clone());
        // `opt.map(|g| Wrapper { g })`: the closure is given the payload, and what it returns
        // is the result's payload.
        if effect == Some(GuardMethod::Combinator)
            && recv_val.holds_variant()
            && let Some((closure, c)) = self.payload_closure(method, args)
        {
            // (`map_or_else`'s other closure runs on `None`/`Err`: the payload is not there.)
            let absent = catalog::ABSENT_CLOSURE_METHODS.contains(&method);
            for a in args.iter().filter(|a| a.id != closure) {
                let v = if absent {
                    self.eval_where_absent(a, mark, &recv_val)
                } else {
                    self.eval(a)
                };
                self.pending.push(v);
            }
            let variant = if recv_val.0.iter().any(|h| h.path.first() == Some(&var("Ok"))) {
                "Ok"
            } else {
                "Some"
            };
            let v = self.inline_closure(c, recv_val.unwrap_variant());
            self.pending.truncate(mark);
            return if method == "map" { v.under(&[var(variant)]) } else { v };
        }
        // `opt.unwrap_or_else(|| ..)`, `res.or_else(|e| ..)`, the first closure of
        // `map_or_else`: it runs only when the receiver is `None`/`Err`, where the `Some`/`Ok`
        // payload (a `Ref` from `map.get(k)`) holds nothing.
        let absent_only = catalog::ABSENT_CLOSURE_METHODS.contains(&method) && recv_val.holds_variant();
        let arg_vals = self.args_with(args, |fl, i, a| {
            if absent_only && i == 0 && matches!(super::body::unwrap_closure(a).kind, ExprKind::Closure(_)) {
                fl.eval_where_absent(a, mark, &recv_val)
            } else {
                fl.eval(a)
            }
        });
        self.pending.truncate(mark);
        // A guard pushed into a local collection lives with it.
        if matches!(
            method,
            "push" | "push_back" | "push_front" | "insert" | "extend" | "append"
        ) && let Some(Slot::Bind(b)) = recv_slot
            && arg_vals.iter().any(|v| !v.is_empty())
            && self
                .st
                .get(Slot::Bind(b))
                .is_none_or(|v| v.0.iter().all(|h| h.path.first() == Some(&Seg::Elem)))
        {
            let mut cur = self.st.take(Slot::Bind(b));
            for v in arg_vals {
                cur.extend(v.under(&[Seg::Elem]));
            }
            self.bind(b, cur);
            return Val::default();
        }
        if catalog::is_condvar_wait(method)
            && let Some(g) = arg_vals.into_iter().find(|v| !v.is_empty())
        {
            return if method.starts_with("wait_timeout") {
                g.under(&[field("0")])
            } else {
                g
            };
        }
        let Some(effect) = effect else { return Val::default() };
        match effect {
            GuardMethod::Unwrap => recv_val.unwrap_variant(),
            GuardMethod::ResultToOption => recv_val.rename_variant("Ok", "Some"),
            GuardMethod::OptionToResult => recv_val.rename_variant("Some", "Ok"),
            GuardMethod::Keep => recv_val,
            GuardMethod::EntryFinish => recv_val.flatten(),
            // On an `Option`/`Result` the receiver is consumed; an iterator adapter keeps the
            // iterator (and its lock), but its items are the closure's.
            GuardMethod::Combinator if recv_val.holds_variant() => Val::default(),
            GuardMethod::Combinator => recv_val.without_items(),
            GuardMethod::NextItem => recv_val.items().under(&[var("Some")]),
            GuardMethod::Collect => recv_val.items().under(&[Seg::Elem]),
            GuardMethod::View => {
                // A view of a temporary: the same variant, so patterns refine it.
                recv_val
            }
            GuardMethod::Consume | GuardMethod::Transform => Val::default(),
        }
    }

    /// The closure an `Option`/`Result` combinator gives the payload to (`map(|g| ..)`,
    /// `map_or(d, |g| ..)`), when it is written in place and runs during the call.
    fn payload_closure<'e>(&self, method: &str, args: &'e [Expr]) -> Option<(u32, &'e Closure)> {
        let arg = match method {
            "map" | "and_then" => args.first()?,
            "map_or" | "map_or_else" => args.get(1)?,
            _ => return None,
        };
        match &arg.kind {
            ExprKind::Closure(c) if self.body.sync_closures.contains(&arg.id) => Some((arg.id, c)),
            _ => None,
        }
    }

    /// Does this value hold a `DashMap` entry (from `entry`/`try_entry` in this function)?
    fn is_entry(&self, v: &Val) -> bool {
        v.0.iter().any(|h| {
            self.events
                .get(h.tok as usize)
                .and_then(|e| e.acquisition)
                .is_some_and(|ai| matches!(self.body.acquisitions[ai].method.as_str(), "entry" | "try_entry"))
        })
    }

    /// Evaluates call arguments in order, each pending (held) while the next is evaluated and
    /// until the caller truncates `pending`; closures that run during the call see it held.
    fn args(&mut self, args: &[Expr]) -> Vec<Val> {
        self.args_with(args, |fl, _, a| fl.eval(a))
    }

    /// [`Self::args`], each argument (by index) evaluated by `eval`.
    fn args_with(&mut self, args: &[Expr], mut eval: impl FnMut(&mut Self, usize, &Expr) -> Val) -> Vec<Val> {
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let v = eval(self, i, a);
            self.pending.push(v.clone());
            out.push(v);
        }
        out
    }

    /// Evaluates `a`, a closure that runs only when the receiver pending at `mark` (`recv`) is
    /// `None`/`Err`: the guards in its `Some`/`Ok` payload are not held meanwhile.
    fn eval_where_absent(&mut self, a: &Expr, mark: usize, recv: &Val) -> Val {
        self.pending[mark] = recv.clone().without_variants(&["Some", "Ok"]);
        let v = self.eval(a);
        self.pending[mark] = recv.clone();
        v
    }

    /// The arguments of a call of a package function, as [`Self::args`]; a closure the callee
    /// runs during the call (a closure runner's, `ItemIndex::closure_runners`) is evaluated
    /// with the guards the callee certainly holds when it calls it (`runs_param_under`), as
    /// this call's events for them.
    fn runner_args(&mut self, ci: usize, args: &[Expr]) -> Vec<Val> {
        let call = &self.body.calls[ci];
        let callee = call.callee as usize;
        let under = &self.sums[callee].runs_param_under;
        if under.is_empty() || call.closure_args.is_empty() {
            return self.args(args);
        }
        let held_for = |c: u32| -> Vec<usize> {
            call.closure_args
                .iter()
                .filter(|&&(_, cl)| cl == c)
                .flat_map(|&(pos, _)| under.iter().filter(move |(p, _)| *p == pos).map(|&(_, k)| k))
                .collect()
        };
        self.args_with(args, |fl, _, a| {
            let inner = super::body::unwrap_closure(a);
            let ks = if fl.body.sync_closures.contains(&inner.id) {
                held_for(inner.id)
            } else {
                Vec::new()
            };
            let mut runner = Val::default();
            for k in ks {
                if let Some(ev) = fl.call_event(ci, k) {
                    fl.events[ev as usize].runs_closure = true;
                    runner.extend(Val::token(ev, fl.classes[ev as usize], &[&[]]));
                }
            }
            let mark = fl.pending.len();
            if !runner.is_empty() {
                fl.pending.push(runner);
            }
            let v = fl.eval(a);
            fl.pending.truncate(mark);
            v
        })
    }

    fn call(&mut self, e: &Expr, func: &Expr, args: &[Expr]) -> Val {
        let ExprKind::Path(names) = &func.kind else {
            self.place(func);
            let mark = self.pending.len();
            self.args(args);
            self.stored_call(e.id);
            self.pending.truncate(mark);
            return Val::default();
        };
        let last = names.last().map_or("", String::as_str);
        let owner = names.len().checked_sub(2).map_or("", |i| names[i].as_str());
        if let Some(&ci) = self.call_of.get(&e.id) {
            return self.local_call(ci, None, args);
        }
        if let Some(&cc) = self.closure_call_of.get(&e.id) {
            return self.closure_call(cc, args);
        }
        let mark = self.pending.len();
        let vals = self.args(args);
        self.stored_call(e.id);
        if let Some(&pos) = self.param_call_of.get(&e.id) {
            // The caller's closure runs now, under what is held (arguments included).
            let held = self.held_now(None);
            self.param_runs.push((pos, held));
        }
        self.pending.truncate(mark);
        let first = || vals.first().cloned().unwrap_or_default();
        match (owner, last) {
            // Ended here (`mem::forget` keeps the lock, but nothing after it is followed).
            (_, "drop" | "forget") => Val::default(),
            ("" | "Option" | "Result", "Some" | "Ok" | "Err") if vals.len() == 1 => first().under(&[var(last)]),
            ("Box" | "Arc" | "Rc" | "Pin" | "ManuallyDrop" | "Cell" | "RefCell", "new" | "pin" | "from") => first(),
            _ => match catalog::guard_map(owner, last) {
                // `MutexGuard::map(g, ..)`: the guard, in the places of the result's shape.
                Some(shape) => {
                    let v = first();
                    let mut out = Val::default();
                    for p in shape {
                        out.extend(v.clone().under(&shape_path(p)));
                    }
                    out
                }
                None if last.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    // A tuple struct or an enum variant built around the arguments (both read
                    // back by a tuple-struct pattern, `Locked(g)`).
                    let mut out = Val::default();
                    for (i, v) in vals.into_iter().enumerate() {
                        let mut p = vec![var(last)];
                        if args.len() > 1 {
                            p.push(field(&i.to_string()));
                        }
                        out.extend(v.under(&p));
                    }
                    out
                }
                // An unknown function: what it was given is no longer followed.
                None => Val::default(),
            },
        }
    }

    /// A call of a function of this package: its locks are taken here, while what is held
    /// now is held; its result holds what its summary says it returns.
    fn local_call(&mut self, ci: usize, recv: Option<Val>, args: &[Expr]) -> Val {
        let mark = self.pending.len();
        let mut params = Vec::new();
        if let Some(r) = recv {
            self.pending.push(r.clone());
            params.push(r);
        }
        let callee = self.body.calls[ci].callee as usize;
        params.extend(self.runner_args(ci, args));
        // Guards moved into the callee's guard parameters: held at its events only while it
        // still holds them.
        let moved: Vec<(usize, Vec<u32>)> = params
            .iter()
            .enumerate()
            .filter(|(pos, v)| !v.is_empty() && guard_param(self.ix, callee, *pos))
            .map(|(pos, v)| (pos, v.0.iter().map(|h| h.tok).collect()))
            .collect();
        let sum = &self.sums[callee];
        let mut evs = Vec::with_capacity(sum.acquires.len());
        // A flag passed as a literal rules out what the callee takes only under the other value
        // (`self.hold_range(range, false)` and `if start_holding { self.map.write() }`).
        let has_recv = params.len() > args.len();
        let flag_arg = |pos: usize| -> Option<bool> {
            let i = if has_recv { pos.checked_sub(1)? } else { pos };
            match args.get(i)?.kind {
                ExprKind::Lit(flag) => flag,
                _ => None,
            }
        };
        let ruled_out: Vec<bool> = sum
            .acquires
            .iter()
            .map(|a| {
                a.only_if
                    .is_some_and(|(pos, want)| flag_arg(pos).is_some_and(|v| v != want))
            })
            .collect();
        for (k, out) in ruled_out.into_iter().enumerate() {
            if out {
                evs.push(None);
                continue;
            }
            let ev = self.call_event(ci, k);
            if let Some(ev) = ev {
                self.release_moved(ev, callee, k, &moved);
            }
            evs.push(ev);
        }
        self.pending.truncate(mark);
        let sum = &self.sums[callee];
        // The callee's own nesting, between this call's events.
        for &(j, k) in &sum.nested {
            if let (Some(Some(ej)), Some(Some(ek))) = (evs.get(j), evs.get(k))
                && ej != ek
            {
                let nested = &mut self.events[*ek as usize].nested;
                if !nested.contains(ej) {
                    nested.push(*ej);
                }
            }
        }
        let mut out = Val::default();
        for (path, k) in &sum.returns {
            if let Some(Some(ev)) = evs.get(*k) {
                out.extend(Val(vec![Held {
                    path: path.clone(),
                    tok: *ev,
                    class: self.classes[*ev as usize],
                    must: true,
                }]));
            }
        }
        for (pos, path) in &sum.passes {
            if let Some(v) = params.get(*pos) {
                out.extend(v.clone().under(path));
            }
        }
        // The future of an async function holds the guards moved into it; those it holds
        // across an `.await` of its own are held across the caller's `.await` of it.
        if self.ix.fns[callee].def.is_async {
            for &(pos, at) in &sum.param_awaits {
                if !moved.iter().any(|(p, _)| *p == pos) {
                    continue;
                }
                for h in params[pos].0.iter().filter(|h| h.must) {
                    out.extend(Val(vec![Held {
                        path: vec![field(FUTURE)],
                        ..h.clone()
                    }]));
                    self.future_via.insert(h.tok, (callee as u32, at));
                }
            }
        }
        out
    }

    /// A call of a stored closure (a handler taken from a table): the locks the closures the
    /// package stores there take are taken here, each as the lock of this function it is: a
    /// guard held here of the same class, a field of `self`, a static (others are skipped).
    fn stored_call(&mut self, expr: u32) {
        let Some(&i) = self.stored_call_of.get(&expr) else {
            return;
        };
        let call = &self.body.stored_calls[i];
        for (j, sa) in self.stored[i].iter().enumerate() {
            let Some(place) = self.place_of_class(&sa.lock) else {
                continue;
            };
            self.record((expr, j as u32 + 1), |fl| {
                Some(LockEvent {
                    through_closure: Some(sa.span),
                    ..fl.new_event(
                        &place,
                        &sa.lock_ty,
                        sa.op,
                        call.span,
                        &call.closures,
                        (sa.span, sa.fn_id),
                    )
                })
            });
        }
    }

    /// The place of this function a lock class stands for here: the lock of a guard held now
    /// of that class, a field of `self`, or the static.
    fn place_of_class(&self, class: &locks::LockClass) -> Option<super::body::Place> {
        use super::body::{Place, Root};
        for t in self.held_now(None) {
            let lock = &self.events[t as usize].lock;
            if locks::lock_class(self.ix, self.body, self.f, lock).as_ref() == Some(class) {
                return Some(lock.clone());
            }
        }
        match class {
            locks::LockClass::Field { adt, fields } => {
                let self_ty = locks::root_ty(self.ix, self.body, self.f, Root::SelfParam);
                matches!(self_ty.autoderef(), SemTy::Adt { id, .. } if id == adt).then(|| Place {
                    root: Root::SelfParam,
                    fields: fields.clone(),
                })
            }
            locks::LockClass::Static { id, fields } => Some(Place {
                root: Root::Static(*id),
                fields: fields.clone(),
            }),
            locks::LockClass::Local { .. } => None,
        }
    }

    /// A call of a closure bound to a local name: its locks are taken here.
    fn closure_call(&mut self, cc: usize, args: &[Expr]) -> Val {
        let mark = self.pending.len();
        self.args(args);
        let closure = self.body.closure_calls[cc].closure;
        let mut mapped = HashMap::new();
        for (ai, a) in self.body.acquisitions.iter().enumerate() {
            if exec_context(self.body, &a.closures) == Some(closure)
                && let Some(ev) = self.closure_call_event(cc, ai)
            {
                mapped.insert(ai, ev);
            }
        }
        self.pending.truncate(mark);
        let Some(ret) = self.closure_returns.get(&closure) else {
            return Val::default();
        };
        let mut out = Val::default();
        for h in &ret.0 {
            let ai = self.events.get(h.tok as usize).and_then(|ev| ev.acquisition);
            if let Some(ev) = ai.and_then(|ai| mapped.get(&ai)) {
                out.extend(Val(vec![Held {
                    path: h.path.clone(),
                    tok: *ev,
                    class: self.classes[*ev as usize],
                    must: h.must,
                }]));
            }
        }
        out
    }

    fn closure(&mut self, e: &Expr, c: &Closure) -> Val {
        if self.body.sync_closures.contains(&e.id) {
            let _ = self.inline_closure(c, Val::default());
            return Val::default();
        }
        let captured = if c.is_move { self.captures(e.id) } else { Val::default() };
        let ret = self.separately(|fl| fl.eval(&c.body));
        self.closure_returns.insert(e.id, ret);
        captured
    }

    /// A closure that runs during the call it is passed to, with what is held there, its first
    /// parameter given `param`. Returns what it returns; what it does to the caller's guards is
    /// not followed.
    fn inline_closure(&mut self, c: &Closure, param: Val) -> Val {
        let saved = self.st.clone();
        let params = |fl: &mut Self| {
            if let Some(p) = c.params.first() {
                fl.bind_value(p, param);
            }
        };
        let ret = self.in_frame(params, |fl| fl.eval(&c.body));
        self.st = saved;
        ret
    }

    /// Runs a body in a frame of its own: `params` binds its parameters in its block scope,
    /// `body` evaluates it in a temporary scope. Returns what it returns (its value and every
    /// `return`).
    fn in_frame(&mut self, params: impl FnOnce(&mut Self), body: impl FnOnce(&mut Self) -> Val) -> Val {
        self.frames.push(Frame::default());
        self.push(ScopeKind::Block);
        params(self);
        self.push(ScopeKind::Temp);
        let v = body(self);
        self.ret(v);
        self.pop();
        self.pop();
        self.frames.pop().and_then(|f| f.ret).unwrap_or_default()
    }

    /// Analyzes a closure or async block on its own: it runs at another time, with nothing
    /// held. Returns what it returns.
    fn separately(&mut self, body: impl FnOnce(&mut Self) -> Val) -> Val {
        let st = std::mem::replace(&mut self.st, State::new());
        let scopes = std::mem::take(&mut self.scopes);
        let pending = std::mem::take(&mut self.pending);
        let extend = self.extend_to.take();
        let loop_depth = std::mem::take(&mut self.loop_depth);
        let ret = self.in_frame(|_| {}, body);
        self.st = st;
        self.scopes = scopes;
        self.pending = pending;
        self.extend_to = extend;
        self.loop_depth = loop_depth;
        ret
    }

    /// What a `move` closure or async block takes from its surroundings: guards of the locals
    /// it names.
    fn captures(&mut self, closure: u32) -> Val {
        let mut out = Val::default();
        let names: Vec<u32> = self
            .body
            .mentions
            .iter()
            .filter(|m| m.closures.contains(&closure) && self.body.declared_outside(m.binding, closure))
            .map(|m| m.binding)
            .collect();
        for b in names {
            let v = self.st.take(Slot::Bind(b));
            out.extend(v.under(&[Seg::Elem]));
        }
        out
    }

    fn macro_expr(&mut self, e: &Expr, path: &[String], args: &MacroArgs) -> Val {
        let name = path.last().map_or("", String::as_str);
        match args {
            MacroArgs::Parsed(es) => {
                let mut out = Val::default();
                if name == "vec" {
                    let mark = self.eval_parts(es.iter().map(|x| (x, Seg::Elem)));
                    out = self.collect_pending(mark);
                } else if matches!(name, "assert" | "debug_assert")
                    && let Some((c, rest)) = es.split_first()
                {
                    // Past an assertion its condition holds (`assert!(r.is_none())`).
                    let (t, _) = self.cond(c);
                    self.st = t;
                    for x in rest {
                        self.place(x);
                    }
                } else {
                    // Formatting and assertion macros take their arguments by reference.
                    for x in es {
                        self.place(x);
                    }
                }
                if catalog::is_awaiting_macro(name) {
                    self.await_point(e.id);
                }
                out
            }
            MacroArgs::Select { futures, handlers } => {
                for x in futures {
                    self.place(x);
                }
                self.await_point(e.id);
                // One branch runs, after the futures were awaited.
                let base = self.st.clone();
                let mut end = State::dead();
                for h in handlers {
                    self.st = base.clone();
                    self.push(ScopeKind::Temp);
                    let _ = self.eval(h);
                    self.pop();
                    end = State::join(end, std::mem::replace(&mut self.st, State::dead()));
                }
                self.st = if handlers.is_empty() { base } else { end };
                Val::default()
            }
            MacroArgs::Opaque(_) => {
                // What an unknown macro does with a guard is unknown: no longer followed.
                if let Some(bs) = self.opaque.get(&e.id).cloned() {
                    for b in bs {
                        self.st.take(Slot::Bind(b));
                    }
                }
                // A `macro_rules!` of this file read as a function (`name!`): its locks are
                // taken here, as a call's.
                if let Some(&ci) = self.call_of.get(&e.id) {
                    self.local_call(ci, None, &[]);
                }
                Val::default()
            }
        }
    }

    // ------------------------------------------------------------ control flow

    fn if_expr(&mut self, cond: &Expr, then: &Block, els: Option<&Expr>) -> Val {
        let has_let = contains_let(cond);
        // Bindings of `if let` live in the then-block; 2024 drops its scrutinee's temporaries
        // before `else`, 2021 keeps them to the end of the enclosing statement.
        let if_let_scope = has_let && self.edition >= Edition::E2024;
        self.push(ScopeKind::Block);
        if !has_let || if_let_scope {
            self.push(ScopeKind::Temp);
        }
        let (t, mut f) = self.cond(cond);
        self.st = t;
        if !has_let {
            // A plain condition's temporaries die before either branch runs.
            self.pop_in(&mut [&mut f]);
        }
        self.push(ScopeKind::Temp);
        let v_then = self.block(then);
        self.pop();
        if if_let_scope {
            self.pop_in(&mut [&mut f]);
        }
        self.pop_in(&mut [&mut f]);
        let t_end = std::mem::replace(&mut self.st, f);
        let v_else = match els {
            Some(x) => {
                self.push(ScopeKind::Temp);
                let v = self.eval(x);
                self.pop();
                v
            }
            None => Val::default(),
        };
        let f_end = std::mem::replace(&mut self.st, State::dead());
        let value = match (t_end.live, f_end.live) {
            (true, true) => Val::join(&v_then, &v_else),
            (true, false) => v_then,
            _ => v_else,
        };
        self.st = State::join(t_end, f_end);
        value
    }

    /// Evaluates a condition; returns the states where it holds and where it does not.
    fn cond(&mut self, c: &Expr) -> (State, State) {
        match &c.kind {
            ExprKind::Let { pat, expr } => {
                let (slot, by_ref) = self.scrutinee(expr);
                let mut f = self.st.clone();
                if let Some(s) = slot {
                    refine_fail(&mut f, s, pat);
                    self.refine(s, pat);
                }
                self.bind_pat(slot, by_ref, pat, &[]);
                (std::mem::replace(&mut self.st, State::dead()), f)
            }
            ExprKind::Binary {
                lhs,
                rhs,
                op: op @ (BinKind::And | BinKind::Or),
            } => {
                let scoped = !contains_let(c);
                let (t1, f1) = self.operand(lhs, scoped);
                if *op == BinKind::And {
                    self.st = t1;
                    let (t2, f2) = self.operand(rhs, scoped);
                    (t2, State::join(f1, f2))
                } else {
                    self.st = f1;
                    let (t2, f2) = self.operand(rhs, scoped);
                    (State::join(t1, t2), f2)
                }
            }
            ExprKind::Unary { op: UnOp::Not, expr } => {
                let (t, f) = self.cond(expr);
                (f, t)
            }
            ExprKind::MethodCall { recv, method, args, .. }
                if args.is_empty() && matches!(method.as_str(), "is_none" | "is_some" | "is_ok" | "is_err") =>
            {
                let slot = self.place(recv);
                let mut t = self.st.clone();
                let mut f = std::mem::replace(&mut self.st, State::dead());
                if let Some(s) = slot {
                    // `is_none()`: no payload where it holds; `is_some()`: none where it fails.
                    let empty = if matches!(method.as_str(), "is_none" | "is_err") {
                        &mut t
                    } else {
                        &mut f
                    };
                    if let Some(v) = empty.get_mut(s) {
                        v.keep_variants(|x| !matches!(x, "Some" | "Ok"));
                    }
                }
                (t, f)
            }
            _ => {
                let _ = self.eval(c);
                (self.st.clone(), std::mem::replace(&mut self.st, State::dead()))
            }
        }
    }

    /// One operand of `&&`/`||`: a temporary scope of its own (unless it binds with `let`).
    fn operand(&mut self, x: &Expr, scoped: bool) -> (State, State) {
        if scoped {
            self.push(ScopeKind::Temp);
        }
        let (mut t, mut f) = self.cond(x);
        if scoped {
            self.st = std::mem::replace(&mut t, State::dead());
            self.pop_in(&mut [&mut f]);
            t = std::mem::replace(&mut self.st, State::dead());
        }
        (t, f)
    }

    /// Runs a loop to a fixpoint: `iteration` evaluates one iteration from the loop head and
    /// returns the state in which the loop exits normally (`None` for `loop`).
    fn run_loop(&mut self, mut iteration: impl FnMut(&mut Self) -> Option<State>) -> Val {
        self.loop_depth += 1;
        let rounds = if self.loop_depth > MAX_LOOP_DEPTH {
            1
        } else {
            LOOP_ROUNDS
        };
        let mut head = self.st.clone();
        let mut exit = State::dead();
        let mut ctx = LoopCtx::default();
        for _ in 0..rounds {
            self.st = head.clone();
            let depth = self.scopes.len();
            self.frame().loops.push(LoopCtx {
                depth,
                ..LoopCtx::default()
            });
            exit = iteration(self).unwrap_or_else(State::dead);
            ctx = self.frame().loops.pop().unwrap_or_default();
            let end = std::mem::replace(&mut self.st, State::dead());
            let back = State::join(end, std::mem::replace(&mut ctx.continues, State::dead()));
            let next = State::join(head.clone(), back);
            if next == head {
                break;
            }
            head = next;
        }
        self.loop_depth -= 1;
        self.st = State::join(exit, ctx.breaks);
        ctx.value.unwrap_or_default()
    }

    // ------------------------------------------------------------ summary

    /// The `bool` parameter an operation at `at` depends on: the innermost `if` on a parameter
    /// (`if start_holding`, `if !quiet`) whose then- or else-block holds it, with the value
    /// the parameter has there.
    fn flag_condition(&self, at: Span) -> Option<(usize, bool)> {
        let inside = |outer: Span| outer.file == at.file && outer.lo <= at.lo && at.hi <= outer.hi;
        self.body
            .ifs
            .iter()
            .filter_map(|i| {
                let (pos, value) = i.param_test?;
                if inside(i.then) {
                    Some((i.then.hi - i.then.lo, (pos, value)))
                } else if i.els.is_some_and(inside) {
                    Some((i.span.hi - i.span.lo, (pos, !value)))
                } else {
                    None
                }
            })
            .min_by_key(|(width, _)| *width)
            .map(|(_, c)| c)
    }

    fn finish(mut self, ret: &Val) -> (FnGuards, Summary) {
        // Every acquisition has an event, even in code the walk did not reach.
        for ai in 0..self.body.acquisitions.len() {
            if !self.event_of.contains_key(&(self.body.acquisitions[ai].expr, 0)) {
                self.st = State::dead();
                self.direct_event(ai);
            }
        }
        let mut sum = Summary::default();
        let mut acq_index: HashMap<u32, usize> = HashMap::new();
        for (i, ev) in self.events.iter().enumerate() {
            if ev.context.is_some() {
                continue;
            }
            let Some(lock) = locks::to_sum(self.body, &ev.lock) else {
                continue;
            };
            let only_if = self.flag_condition(ev.span);
            let acq = SummaryAcq {
                lock,
                lock_ty: ev.lock_ty.clone(),
                op: ev.op,
                span: ev.origin.0,
                fn_id: ev.origin.1,
                only_if,
            };
            let k = if let Some(k) = sum.acquires.iter().position(|x| x.lock == acq.lock && x.op == acq.op) {
                // Taken under two conditions (or one and none): under none that a call can rule
                // out.
                if sum.acquires[k].only_if != only_if {
                    sum.acquires[k].only_if = None;
                }
                k
            } else {
                sum.acquires.push(acq);
                sum.acquires.len() - 1
            };
            acq_index.insert(i as u32, k);
        }
        // Nesting a caller can see; on locks only this call can reach (`&mut self`), it can
        // block no other thread.
        for (i, ev) in self.events.iter().enumerate() {
            let Some(&k) = acq_index.get(&(i as u32)) else { continue };
            for h in ev.held.iter().chain(&ev.nested) {
                if let Some(&j) = acq_index.get(h)
                    && j != k
                    && !sum.nested.contains(&(j, k))
                    && !(ev.exclusive && self.events[*h as usize].exclusive)
                {
                    sum.nested.push((j, k));
                }
            }
        }
        for (i, ps) in self.event_params.iter().enumerate() {
            let Some(&k) = acq_index.get(&(i as u32)) else { continue };
            for &p in ps {
                if !sum.under_param.contains(&(p, k)) {
                    sum.under_param.push((p, k));
                }
            }
        }
        for (pos, toks) in &self.param_runs {
            for k in toks.iter().filter_map(|t| acq_index.get(t)) {
                if !sum.runs_param_under.contains(&(*pos, *k)) {
                    sum.runs_param_under.push((*pos, *k));
                }
            }
        }
        for (i, ps) in self.await_params.iter().enumerate() {
            let a = &self.body.awaits[i];
            if exec_context(self.body, &a.closures).is_some() {
                continue;
            }
            for &p in ps {
                if !sum.param_awaits.iter().any(|(q, _)| *q == p) {
                    sum.param_awaits.push((p, a.span));
                }
            }
        }
        for h in ret.0.iter().filter(|h| h.must) {
            if h.tok >= PARAM_TOK {
                let pos = (h.tok - PARAM_TOK) as usize;
                if !sum.passes.iter().any(|(p, q)| *p == pos && *q == h.path) {
                    sum.passes.push((pos, h.path.clone()));
                }
            } else if let Some(&k) = acq_index.get(&h.tok)
                && !sum.returns.iter().any(|(p, x)| *x == k && *p == h.path)
            {
                sum.returns.push((h.path.clone(), k));
            }
        }
        // Events in source order; held sets and await points follow the new indices.
        let mut order: Vec<u32> = (0..self.events.len() as u32).collect();
        order.sort_by_key(|&i| {
            let e = &self.events[i as usize];
            (e.span.lo, e.span.hi, i)
        });
        let mut new_index = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old as usize] = new as u32;
        }
        let mut events: Vec<Option<LockEvent>> = std::mem::take(&mut self.events).into_iter().map(Some).collect();
        let mut sorted = Vec::with_capacity(events.len());
        for &old in &order {
            let mut e = events[old as usize].take().expect("each event once");
            for h in e.held.iter_mut().chain(e.nested.iter_mut()) {
                *h = new_index[*h as usize];
            }
            e.held.sort_unstable();
            e.nested.sort_unstable();
            sorted.push(e);
        }
        let remap = |sets: Vec<Vec<u32>>| -> Vec<Vec<u32>> {
            sets.into_iter()
                .map(|hs| {
                    let mut v: Vec<u32> = hs.into_iter().map(|h| new_index[h as usize]).collect();
                    v.sort_unstable();
                    v
                })
                .collect()
        };
        let awaits = remap(self.awaits);
        let blocking = remap(self.blocking);
        let awaits_via = self
            .awaits_via
            .into_iter()
            .map(|v| v.into_iter().map(|(t, f, at)| (new_index[t as usize], f, at)).collect())
            .collect();
        (
            FnGuards {
                events: sorted,
                awaits,
                blocking,
                awaits_via,
            },
            sum,
        )
    }
}

/// The else-branch of `if let PAT = s` (or a `let .. else`): the scrutinee is not `PAT`. Only
/// a variant pattern whose parts cannot fail tells what the value is then.
fn refine_fail(st: &mut State, s: Slot, pat: &Pat) {
    let Pat::Variant { name, elems } = pat else { return };
    if !elems.iter().all(irrefutable) {
        return;
    }
    if let Some(v) = st.get_mut(s) {
        v.keep_variants(|x| x != name);
    }
}

fn irrefutable(p: &Pat) -> bool {
    match p {
        Pat::Ident { name, sub, .. } => !is_unit_variant(name, sub.is_some()) && sub.as_deref().is_none_or(irrefutable),
        Pat::Wild => true,
        Pat::Tuple(ps) => ps.iter().all(irrefutable),
        Pat::Struct(fs) => fs.iter().all(|(_, p)| irrefutable(p)),
        Pat::Ref(p) => irrefutable(p),
        _ => false,
    }
}

/// An identifier pattern that names a unit variant or constant (`None`, `Empty`), by Rust's
/// naming conventions, rather than binding a name.
fn is_unit_variant(name: &str, has_sub: bool) -> bool {
    !has_sub && name.starts_with(|c: char| c.is_ascii_uppercase())
}

fn is_place_expr(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Path(_) => true,
        ExprKind::Field { base, .. }
        | ExprKind::Unary {
            op: UnOp::Deref,
            expr: base,
        } => is_place_expr(base),
        _ => false,
    }
}

/// Does a condition bind with `let` (an `if let`/`while let`, or a let chain)?
fn contains_let(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Let { .. } => true,
        ExprKind::Binary {
            lhs,
            rhs,
            op: BinKind::And | BinKind::Or,
        } => contains_let(lhs) || contains_let(rhs),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::Edition;
    use crate::model::Model;
    use crate::model::lower::parse_and_lower;

    fn model(src: &str, edition: Edition) -> Model {
        Model::build(
            edition,
            vec![Some(parse_and_lower(0, src).unwrap())],
            vec![src.to_owned()],
        )
    }

    fn line(src: &str, off: u32) -> usize {
        src[..off as usize].matches('\n').count() + 1
    }

    /// The lock events of `f` as `(line, what, lines of the guards held then)`.
    fn events(src: &str, f: &str, edition: Edition) -> Vec<(usize, String, Vec<usize>)> {
        let m = model(src, edition);
        let id = m.items.fns.iter().position(|x| x.def.name == f).unwrap();
        let evs = &m.guards[id].events;
        evs.iter()
            .map(|e| {
                let what = match (e.acquisition, e.via) {
                    (Some(i), _) => m.bodies[id].acquisitions[i].method.clone(),
                    (None, Some((callee, _))) => format!("via {}", m.items.fns[callee as usize].def.name),
                    _ => "closure".into(),
                };
                let held = e.held.iter().map(|&h| line(src, evs[h as usize].span.lo)).collect();
                (line(src, e.span.lo), what, held)
            })
            .collect()
    }

    /// The lines of the guards held at each `.await` of `f`.
    fn awaits(src: &str, f: &str, edition: Edition) -> Vec<Vec<usize>> {
        let m = model(src, edition);
        let id = m.items.fns.iter().position(|x| x.def.name == f).unwrap();
        let g = &m.guards[id];
        g.awaits
            .iter()
            .map(|hs| hs.iter().map(|&h| line(src, g.events[h as usize].span.lo)).collect())
            .collect()
    }

    const PRELUDE: &str = "use std::collections::HashMap; use std::sync::{Mutex, RwLock}; use dashmap::DashMap;\n\
        struct S { m: Mutex<HashMap<u8, u8>>, rw: RwLock<HashMap<u8, u8>>, d: DashMap<u8, u8> }\nimpl S {\n";

    fn src(body: &str) -> String {
        format!("{PRELUDE}{body}\n}}\n")
    }

    fn ev(l: usize, what: &str, held: &[usize]) -> (usize, String, Vec<usize>) {
        (l, what.to_owned(), held.to_vec())
    }

    #[test]
    fn an_option_payload_holds_nothing_where_the_pattern_says_none() {
        let s = src(
            "fn f(&self, k: u8) {\n match self.d.get(&k) {\n Some(r) => { self.d.insert(k, *r); }\n None => { self.d.insert(k, 0); }\n }\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "get", &[]), ev(6, "insert", &[5]), ev(7, "insert", &[])]
        );
        // The `MutexGuard` temporary beside the `Option` is alive in every arm.
        let s = src(
            "fn f(&self, k: u8) {\n match self.m.lock().unwrap().get(&k) {\n Some(_) => {}\n None => { self.m.lock().unwrap().insert(k, 0); }\n }\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2024),
            vec![ev(5, "lock", &[]), ev(7, "lock", &[5])]
        );
        // `let .. else`, `is_none()`, the `Err` arm of a try-lock.
        let s = src(
            "fn f(&self, k: u8) {\n let Some(r) = self.d.get(&k) else {\n self.d.insert(k, 0);\n return;\n };\n let _ = *r;\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "get", &[]), ev(6, "insert", &[])]
        );
        let s = src("fn f(&self, k: u8) {\n let r = self.d.get(&k);\n if r.is_none() {\n self.d.insert(k, 0);\n }\n}");
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "get", &[]), ev(7, "insert", &[])]
        );
        let s = src(
            "fn f(&self) {\n match self.rw.try_write() {\n Ok(mut g) => { g.clear(); }\n Err(_) => { self.rw.write().unwrap().clear(); }\n }\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "try_write", &[]), ev(7, "write", &[])]
        );
    }

    #[test]
    fn if_let_scrutinees_follow_the_edition() {
        let body = "fn f(&self, k: u8) {\n if let Some(v) = self.rw.read().unwrap().get(&k) {\n let _ = v;\n } else {\n self.rw.write().unwrap().insert(k, 0);\n }\n}";
        assert_eq!(
            events(&src(body), "f", Edition::E2021),
            vec![ev(5, "read", &[]), ev(8, "write", &[5])]
        );
        assert_eq!(
            events(&src(body), "f", Edition::E2024),
            vec![ev(5, "read", &[]), ev(8, "write", &[])]
        );
        // A `DashMap` ref in the scrutinee: in `else` the `Option` is `None` in every edition.
        let body = "fn f(&self, k: u8) {\n if let Some(v) = self.d.get(&k) {\n self.d.insert(k, *v);\n } else {\n self.d.insert(k, 0);\n }\n}";
        assert_eq!(
            events(&src(body), "f", Edition::E2021),
            vec![ev(5, "get", &[]), ev(6, "insert", &[5]), ev(8, "insert", &[])]
        );
    }

    #[test]
    fn branch_bodies_and_block_tails_end_their_temporaries() {
        // A then-branch's temporary is never alive in the else-branch.
        let s = src(
            "fn f(&self, c: bool) {\n if c { self.m.lock().unwrap().insert(1, 1) } else { self.m.lock().unwrap().insert(1, 2) };\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "lock", &[]), ev(5, "lock", &[])]
        );
        // A bare block's tail outlives the block up to 2021.
        let s = src(
            "fn f(&self) -> usize {\n let n = { self.m.lock().unwrap().len() } + self.m.lock().unwrap().len();\n n\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "lock", &[]), ev(5, "lock", &[5])]
        );
        assert_eq!(
            events(&s, "f", Edition::E2024),
            vec![ev(5, "lock", &[]), ev(5, "lock", &[])]
        );
        // Lazy operands are temporary scopes of their own; other operands live to the `;`.
        let s =
            src("fn f(&self) -> bool {\n self.m.lock().unwrap().is_empty() && self.m.lock().unwrap().is_empty()\n}");
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "lock", &[]), ev(5, "lock", &[])]
        );
    }

    #[test]
    fn guards_move_with_their_values() {
        // Moved out of the scrutinee and dropped.
        let s = src(
            "fn f(&self, k: u8) {\n if let Some(mut e) = self.d.get_mut(&k) {\n *e += 1;\n drop(e);\n self.d.remove(&k);\n }\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "get_mut", &[]), ev(8, "remove", &[])]
        );
        // Into a binding through match arms; into a local struct; into a vector.
        let s = src(
            "fn f(&self, k: u8) {\n let r = match self.d.get(&k) { Some(r) => r, None => return };\n self.d.insert(k, *r);\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "get", &[]), ev(6, "insert", &[5])]
        );
        let s = src(
            "fn f(&self, fast: bool) -> Option<()> {\n let g = if fast { self.m.lock().unwrap() } else { return None };\n self.m.lock().unwrap().clear();\n drop(g);\n Some(())\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "lock", &[]), ev(6, "lock", &[5])]
        );
        let s = src(
            "fn f(&self) {\n let mut v = Vec::new();\n v.push(self.m.lock().unwrap());\n self.m.lock().unwrap().clear();\n drop(v);\n self.m.lock().unwrap().clear();\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(6, "lock", &[]), ev(7, "lock", &[6]), ev(9, "lock", &[])]
        );
        // Dropped on one path only: maybe held, so not reported as held.
        let s = src(
            "fn f(&self, c: bool) {\n let g = self.m.lock().unwrap();\n if c { drop(g); }\n self.m.lock().unwrap().clear();\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "lock", &[]), ev(7, "lock", &[])]
        );
    }

    #[test]
    fn calls_carry_guards_in_and_out() {
        let s = format!(
            "use std::sync::MutexGuard;\nstruct Locked<'a> {{ g: MutexGuard<'a, HashMap<u8, u8>> }}\n{}",
            src(
                "fn locked(&self) -> Locked<'_> { Locked { g: self.m.lock().unwrap() } }\n\
                 fn pair(&self) -> (MutexGuard<'_, HashMap<u8, u8>>, u8) { (self.m.lock().unwrap(), 1) }\n\
                 fn keep(g: MutexGuard<'_, HashMap<u8, u8>>) -> MutexGuard<'_, HashMap<u8, u8>> { g }\n\
                 fn eat(g: MutexGuard<'_, HashMap<u8, u8>>) { drop(g) }\n\
                 fn f(&self) {\n let l = self.locked();\n self.m.lock().unwrap().clear();\n drop(l);\n\
                 let (g, _) = self.pair();\n self.m.lock().unwrap().clear();\n drop(g);\n\
                 let g = Self::keep(self.m.lock().unwrap());\n self.m.lock().unwrap().clear();\n\
                 Self::eat(g);\n self.m.lock().unwrap().clear();\n}"
            )
        );
        let got = events(&s, "f", Edition::E2021);
        let held: Vec<(String, Vec<usize>)> = got.iter().map(|(_, w, h)| (w.clone(), h.clone())).collect();
        let l = |n: usize| got[n].0;
        assert_eq!(
            held,
            vec![
                ("via locked".into(), vec![]),
                ("lock".into(), vec![l(0)]),
                ("via pair".into(), vec![]),
                ("lock".into(), vec![l(2)]),
                ("lock".into(), vec![]),
                ("lock".into(), vec![l(4)]),
                ("lock".into(), vec![]),
            ]
        );
    }

    #[test]
    fn loops_and_iterators() {
        // A `DashMap` iterator holds its shard for the whole loop; collected keys hold nothing.
        let s = src(
            "fn f(&self) {\n for r in self.d.iter() {\n self.d.remove(r.key());\n }\n let ks: Vec<u8> = self.d.iter().map(|r| *r.key()).collect();\n for k in ks { self.d.remove(&k); }\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![
                ev(5, "iter", &[]),
                ev(6, "remove", &[5]),
                ev(8, "iter", &[]),
                ev(9, "remove", &[])
            ]
        );
        // A `while let` scrutinee lives through the body; a `break` leaves the loop's scopes.
        let s = src(
            "fn f(&self) {\n while let Some(k) = self.m.lock().unwrap().keys().next().copied() {\n self.m.lock().unwrap().remove(&k);\n }\n loop {\n let g = self.m.lock().unwrap();\n if g.is_empty() { break; }\n }\n self.m.lock().unwrap().clear();\n}",
        );
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![
                ev(5, "lock", &[]),
                ev(6, "lock", &[5]),
                ev(9, "lock", &[]),
                ev(12, "lock", &[])
            ]
        );
    }

    #[test]
    fn guards_at_await_points() {
        let s = src(
            "async fn f(&self) {\n let g = self.d.get(&1);\n tick().await;\n drop(g);\n { let _h = self.m.lock().unwrap(); }\n tick().await;\n}",
        );
        assert_eq!(awaits(&s, "f", Edition::E2021), vec![vec![5], vec![]]);
        // `select!` runs a handler after its futures were awaited.
        let s = src(
            "async fn f(&self) {\n tokio::select! {\n _ = tick() => { let g = self.m.lock().unwrap(); g.len(); }\n }\n}",
        );
        assert_eq!(awaits(&s, "f", Edition::E2021), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn assertions_refine() {
        let s = src("fn f(&self) {\n let r = self.d.get(&1);\n assert!(r.is_none());\n self.d.insert(1, 1);\n}");
        assert_eq!(
            events(&s, "f", Edition::E2021),
            vec![ev(5, "get", &[]), ev(7, "insert", &[])]
        );
    }
}
