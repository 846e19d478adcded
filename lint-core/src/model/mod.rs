//! The semantic model of one package, built once from all its files and read by every rule.
//!
//! - [`ir`]: the lowered syntax of each file; [`lower`]: syn → IR.
//! - [`types`]: what a type is (map, lock, wrapper, ...); [`items`]: crate-wide items and name
//!   resolution; [`body`]: per-function bindings, identities, writes, spawns and calls.
//! - [`Model`]: all of it, plus the call graph and what is reachable from a spawned thread.

pub mod aliases;
pub mod body;
pub mod flow;
pub mod ir;
pub mod items;
pub mod locks;
pub mod lower;
pub mod stored;
pub mod types;

use std::collections::{HashMap, HashSet, VecDeque};

use rayon::prelude::*;

use crate::Edition;
use crate::diagnostic::Span;
use body::{BodyFacts, SpawnBody, SpawnKind, Walker};
use items::ItemIndex;

/// Where spawned code comes from: the function holding the spawn call and the call's span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnOrigin {
    pub fn_id: u32,
    pub span: Span,
}

/// The package-wide model.
#[derive(Debug)]
pub struct Model {
    pub edition: Edition,
    /// Whether each file was parsed (files that failed are skipped by rules).
    pub parsed: Vec<bool>,
    pub items: ItemIndex,
    /// Facts of each function body, indexed like `items.fns`.
    pub bodies: Vec<BodyFacts>,
    /// Functions reachable from a spawned closure or function, with one spawn that reaches them.
    pub spawned_fns: HashMap<u32, SpawnOrigin>,
    /// Functions of each file.
    pub fns_by_file: Vec<Vec<u32>>,
    /// What calling each function does to locks.
    pub summaries: Vec<locks::Summary>,
    /// Lock events of each function (direct and through calls) in source order, each with the
    /// guards held when it happens, and the guards held at each `.await`.
    pub guards: Vec<flow::FnGuards>,
    /// The lock-order graph of the package.
    pub lock_graph: locks::LockGraph,
    /// The text of each file (empty for files that were not read), for rules that rewrite code.
    pub texts: Vec<String>,
    /// The package builds no library ([`crate::PackageSources::binaries_only`]).
    pub binaries_only: bool,
}

impl Model {
    #[must_use]
    pub fn build(edition: Edition, files: Vec<Option<ir::FileIr>>, texts: Vec<String>) -> Model {
        Self::build_with(edition, files, texts, &crate::settings::TypeConfig::default(), None)
    }

    /// Builds the model with user-configured types and what the lexer found in every file:
    /// the traits implemented once and the module names ([`crate::lex::PackageSyms`]).
    #[must_use]
    pub fn build_with(
        edition: Edition,
        files: Vec<Option<ir::FileIr>>,
        texts: Vec<String>,
        config: &crate::settings::TypeConfig,
        lexed: Option<crate::lex::PackageSyms>,
    ) -> Model {
        let parsed = files.iter().map(Option::is_some).collect();
        let n_files = files.len();
        let mut items = ItemIndex::build_with(files, config);
        if let Some(l) = lexed {
            items.single_impl_traits = Some(l.single_impl_traits);
            items.macro_rules_once = Some(l.macro_rules_once);
            items.modules = Some(l.modules);
        }
        let mut bodies: Vec<BodyFacts> = (0..items.fns.len() as u32)
            .into_par_iter()
            .map(|f| Walker::analyze(&items, f))
            .collect();
        find_closure_runners(&mut items, &mut bodies);
        find_spawn_helpers(&mut items, &mut bodies);
        let aliases = aliases::FieldAliases::build(&bodies);
        let (summaries, guards) = flow::analyze_all(&items, &bodies, &aliases, edition);
        let mut fns_by_file = vec![Vec::new(); n_files];
        for (i, f) in items.fns.iter().enumerate() {
            fns_by_file[f.file as usize].push(i as u32);
        }
        let spawned_fns = reachable_from_spawns(&bodies);
        let mut lock_graph = locks::LockGraph::build(&items, &bodies, &guards);
        lock_graph.judge(|f| spawned_fns.contains_key(&f));
        Model {
            edition,
            parsed,
            items,
            bodies,
            spawned_fns,
            fns_by_file,
            summaries,
            guards,
            lock_graph,
            texts,
            binaries_only: false,
        }
    }

    /// One function as the rules see it.
    #[must_use]
    pub fn function(&self, id: u32) -> Function<'_> {
        Function {
            id,
            body: &self.bodies[id as usize],
            guards: &self.guards[id as usize],
        }
    }

    /// The operation an event comes from (for an event through calls, the acquisition inside
    /// the callee that takes the lock).
    #[must_use]
    pub fn origin_acquisition(&self, e: &locks::LockEvent) -> Option<&body::Acquisition> {
        let (span, f) = e.origin;
        self.bodies[f as usize].acquisitions.iter().find(|a| a.span == span)
    }

    /// Is code at this position (function, enclosing closures) run by a spawned thread or task?
    /// Returns the spawn: the innermost spawned closure around it, or a spawn that reaches the
    /// function through calls.
    #[must_use]
    pub fn spawn_context(&self, fn_id: u32, closures: &[u32]) -> Option<SpawnOrigin> {
        let body = &self.bodies[fn_id as usize];
        for c in closures.iter().rev() {
            if let Some(s) = body.spawns.iter().find(|s| s.body == SpawnBody::Closure(*c)) {
                return Some(SpawnOrigin { fn_id, span: s.span });
            }
        }
        self.spawned_fns.get(&fn_id).copied()
    }

    /// Does the spawn at `origin` run its body on several threads: a spawn inside a loop or an
    /// iterator closure, or a parallel iterator's closure?
    #[must_use]
    pub fn spawn_repeats(&self, origin: SpawnOrigin) -> bool {
        self.bodies[origin.fn_id as usize]
            .spawns
            .iter()
            .any(|s| s.span == origin.span && (s.repeated || s.kind == SpawnKind::Parallel))
    }

    /// The functions code outside every spawn runs: each function no spawn reaches, and what
    /// they call (through calls) other than inside a spawned closure. What the main thread may
    /// run while spawned code does (a function nothing calls counts too).
    #[must_use]
    pub fn run_outside_spawns(&self) -> HashSet<u32> {
        let mut out: HashSet<u32> = (0..self.bodies.len() as u32)
            .filter(|f| !self.spawned_fns.contains_key(f))
            .collect();
        let mut queue: VecDeque<u32> = out.iter().copied().collect();
        while let Some(f) = queue.pop_front() {
            let body = &self.bodies[f as usize];
            for call in &body.calls {
                if body.enclosing_spawn(&call.closures).is_none() && out.insert(call.callee) {
                    queue.push_back(call.callee);
                }
            }
        }
        out
    }
}

/// One function of the package as the rules see it: its body's facts and its lock events, with
/// the questions rules ask about them.
#[derive(Debug, Clone, Copy)]
pub struct Function<'m> {
    pub id: u32,
    pub body: &'m BodyFacts,
    pub guards: &'m flow::FnGuards,
}

impl<'m> Function<'m> {
    /// Its lock events, in source order.
    #[must_use]
    pub fn events(&self) -> &'m [locks::LockEvent] {
        &self.guards.events
    }

    /// The events at these indices.
    fn resolve(&self, hs: &'m [u32]) -> impl Iterator<Item = &'m locks::LockEvent> + use<'m> {
        let events = &self.guards.events;
        hs.iter().map(move |&h| &events[h as usize])
    }

    /// The guards certainly alive when `e` (one of [`Function::events`]) happens, in the same
    /// thread and call context.
    pub fn held(&self, e: &'m locks::LockEvent) -> impl Iterator<Item = &'m locks::LockEvent> + use<'m> {
        self.resolve(&e.held)
    }

    /// Is the guard taken by `g` still alive when `at` happens?
    #[must_use]
    pub fn is_held(&self, g: &locks::LockEvent, at: &locks::LockEvent) -> bool {
        let events = &self.guards.events;
        at.held
            .iter()
            .any(|&h| std::ptr::eq(std::ptr::from_ref(&events[h as usize]), g))
    }

    /// A gate around both `a` and `b`: a guard of another lock, taken exclusively, certainly
    /// alive at both (so no other thread can run between them through the same gate).
    #[must_use]
    pub fn gate(&self, a: &locks::LockEvent, b: &locks::LockEvent) -> Option<&'m locks::LockEvent> {
        let events = &self.guards.events;
        a.held
            .iter()
            .filter(|h| b.held.contains(h))
            .map(|&h| &events[h as usize])
            .find(|g| g.lock != a.lock && g.lock != b.lock && g.op.serializes())
    }

    /// The guards certainly alive at the `i`-th blocking wait (`BodyFacts::blocking_waits`).
    pub fn held_at_blocking_wait(&self, i: usize) -> impl Iterator<Item = &'m locks::LockEvent> + use<'m> {
        self.resolve(self.guards.blocking.get(i).map_or(&[], Vec::as_slice))
    }

    /// The lock events of a closure of this function that runs on its own (a spawned thread).
    pub fn events_in(&self, closure: u32) -> impl Iterator<Item = &'m locks::LockEvent> + use<'m> {
        self.guards.events.iter().filter(move |e| e.context == Some(closure))
    }

    /// When the guard of `e` is held at the `i`-th `.await` inside the awaited future of an
    /// async function it was moved into: that function and its `.await` that holds it.
    #[must_use]
    pub fn held_at_await_via(&self, i: usize, e: &locks::LockEvent) -> Option<(u32, Span)> {
        let events = &self.guards.events;
        self.guards
            .awaits_via
            .get(i)?
            .iter()
            .find_map(|&(t, f, at)| std::ptr::eq(std::ptr::from_ref(&events[t as usize]), e).then_some((f, at)))
    }

    /// The guards certainly alive at the `i`-th `.await` of the body (`BodyFacts::awaits`).
    pub fn held_at_await(&self, i: usize) -> impl Iterator<Item = &'m locks::LockEvent> + use<'m> {
        self.resolve(self.guards.awaits.get(i).map_or(&[], Vec::as_slice))
    }
}

/// Spawn helpers (`ItemIndex::spawners`): the functions whose bodies hand a parameter to a
/// spawn. Their callers are walked again, now seeing a spawn where they pass a closure, and
/// may be helpers in turn (a few rounds; helpers are rare, so this is usually none).
fn find_spawn_helpers(items: &mut ItemIndex, bodies: &mut [BodyFacts]) {
    const ROUNDS: usize = 4;
    for _ in 0..ROUNDS {
        let mut new = false;
        for (f, b) in bodies.iter().enumerate() {
            for &p in &b.spawned_params {
                let known = items.spawners.entry(f as u32).or_default();
                if !known.contains(&p) {
                    known.push(p);
                    new = true;
                }
            }
        }
        if !new {
            return;
        }
        reanalyze_callers(items, bodies, |c| items.spawners.contains_key(&c.callee));
    }
}

/// Walks again every body with a call `calls` picks, now that `items` knows more about the
/// callees (spawn helpers, closure runners).
fn reanalyze_callers(items: &ItemIndex, bodies: &mut [BodyFacts], calls: impl Fn(&body::Call) -> bool) {
    let callers: Vec<u32> = (0..bodies.len() as u32)
        .filter(|&f| bodies[f as usize].calls.iter().any(&calls))
        .collect();
    let fresh: Vec<BodyFacts> = callers.par_iter().map(|&f| Walker::analyze(items, f)).collect();
    for (f, b) in callers.into_iter().zip(fresh) {
        bodies[f as usize] = b;
    }
}

/// Closure runners (`ItemIndex::closure_runners`) from the bodies' `param_calls`, then the
/// bodies of their callers analyzed again, so that a closure passed to one runs during the
/// call; a caller that calls its own parameter inside such a closure is a runner in turn
/// (`fn memory_mut(&self, f: ..) { self.write(move |s| f(&mut s.memory)) }`), up to a few
/// levels.
fn find_closure_runners(items: &mut ItemIndex, bodies: &mut [BodyFacts]) {
    const ROUNDS: usize = 4;
    for _ in 0..ROUNDS {
        let mut new = false;
        for (f, b) in bodies.iter().enumerate() {
            for &(_, pos) in &b.param_calls {
                if !closure_param(&items.fns[f].def, pos) {
                    continue;
                }
                let runs = items.closure_runners.entry(f as u32).or_default();
                if !runs.contains(&pos) {
                    runs.push(pos);
                    new = true;
                }
            }
        }
        if !new {
            return;
        }
        reanalyze_callers(items, bodies, |c| {
            !c.closure_args.is_empty() && items.closure_runners.contains_key(&c.callee)
        });
    }
}

/// Is parameter `pos` (`self` first) of `def` a closure: its type names `Fn`, `FnMut` or
/// `FnOnce` (`impl FnOnce(..)`, `&dyn Fn(..)`, `Box<dyn FnMut(..)>`), or a type parameter bound
/// by one (`F: FnOnce(..)`, also in `where`)? (What the planner keeps for them, by the same
/// words: `lex::relevance`.)
fn closure_param(def: &ir::FnDef, pos: usize) -> bool {
    const FN_TRAITS: [&str; 3] = ["Fn", "FnMut", "FnOnce"];
    fn names_fn_trait(ty: &ir::Ty, generics: &ir::Generics, depth: u32) -> bool {
        let path = |p: &ir::TyPath| {
            p.segments.last().is_some_and(|s| FN_TRAITS.contains(&s.name.as_str()))
                || p.segments
                    .iter()
                    .any(|s| s.args.iter().any(|a| names_fn_trait(a, generics, depth + 1)))
        };
        if depth > 8 {
            return false;
        }
        match ty {
            ir::Ty::Path(p) => {
                path(p)
                    || matches!(p.segments.as_slice(), [one] if generics
                        .params
                        .iter()
                        .any(|(n, bounds)| *n == one.name && bounds.iter().any(&path)))
            }
            ir::Ty::Ref { inner, .. } | ir::Ty::Ptr { inner, .. } => names_fn_trait(inner, generics, depth + 1),
            ir::Ty::Bounds(bounds) => bounds.iter().any(path),
            _ => false,
        }
    }
    let Some(i) = pos.checked_sub(usize::from(def.self_kind.is_some())) else {
        return false;
    };
    def.params
        .get(i)
        .is_some_and(|p| names_fn_trait(&p.ty, &def.generics, 0))
}

/// Breadth-first over the call graph from every spawn body.
fn reachable_from_spawns(bodies: &[BodyFacts]) -> HashMap<u32, SpawnOrigin> {
    let mut out: HashMap<u32, SpawnOrigin> = HashMap::new();
    let mut queue = VecDeque::new();
    for (f, body) in bodies.iter().enumerate() {
        for s in &body.spawns {
            let origin = SpawnOrigin {
                fn_id: f as u32,
                span: s.span,
            };
            match s.body {
                SpawnBody::Fn(g) => queue.push_back((g, origin)),
                SpawnBody::Closure(c) => {
                    for call in body.calls.iter().filter(|call| call.closures.contains(&c)) {
                        queue.push_back((call.callee, origin));
                    }
                }
            }
        }
    }
    while let Some((f, origin)) = queue.pop_front() {
        if out.contains_key(&f) {
            continue;
        }
        out.insert(f, origin);
        for call in &bodies[f as usize].calls {
            if !out.contains_key(&call.callee) {
                queue.push_back((call.callee, origin));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_crosses_files_and_methods() {
        let a = "use std::thread; fn main() { let w = Worker; thread::spawn(move || w.run()); helper_main(); }\n\
                 fn helper_main() {}";
        let b = "pub struct Worker; impl Worker { pub fn run(&self) { step(); } } fn step() { deeper() } fn deeper() {} fn unused() {}";
        let files = vec![
            Some(lower::parse_and_lower(0, a).unwrap()),
            Some(lower::parse_and_lower(1, b).unwrap()),
        ];
        let m = Model::build(Edition::E2021, files, vec![String::new(); 2]);
        let name = |id: &u32| m.items.fns[*id as usize].def.name.clone();
        let mut reached: Vec<String> = m.spawned_fns.keys().map(name).collect();
        reached.sort();
        assert_eq!(reached, vec!["deeper", "run", "step"]);
    }

    #[test]
    fn closure_runners_call_a_closure_parameter_during_the_call() {
        let src = "struct S;\n\
                   impl S { fn with<R>(&self, f: impl FnOnce(&S) -> R) -> R { f(self) } }\n\
                   fn bound<F: FnMut()>(mut f: F) { f() }\n\
                   fn clause<F>(f: F) where F: Fn() { f() }\n\
                   fn by_dyn(f: &dyn Fn(u32)) { f(1) }\n\
                   fn boxed(f: Box<dyn FnOnce()>) { f() }\n\
                   fn forwards(s: &S, f: impl FnOnce()) { s.with(move |_| f()) }\n\
                   fn pointer(f: fn()) { f() }\n\
                   fn later(f: impl FnOnce() + Send + 'static) { std::thread::spawn(move || f()); }\n\
                   fn kept(f: Box<dyn Fn()>) -> Box<dyn Fn()> { f }\n";
        let m = Model::build(
            Edition::E2021,
            vec![Some(lower::parse_and_lower(0, src).unwrap())],
            vec![String::new()],
        );
        let mut runners: Vec<(String, Vec<usize>)> = m
            .items
            .closure_runners
            .iter()
            .map(|(f, pos)| (m.items.fns[*f as usize].def.name.clone(), pos.clone()))
            .collect();
        runners.sort();
        let want = [
            ("bound", 0),
            ("boxed", 0),
            ("by_dyn", 0),
            ("clause", 0),
            ("forwards", 1),
            ("with", 1),
        ];
        let want: Vec<(String, Vec<usize>)> = want.iter().map(|(n, p)| ((*n).to_owned(), vec![*p])).collect();
        assert_eq!(runners, want);
    }
}
