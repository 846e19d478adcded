//! Per-function facts: local bindings and their types, identities (`Arc` clones alias, map
//! clones copy), every mention of a binding, map writes, spawn sites, calls, lock acquisitions.
//!
//! One walk per function in source order, with lexical scopes. Closures and async blocks are
//! part of the function that contains them; each fact records the chain of closures it sits in.

use std::collections::HashMap;

mod places;
mod stored;
mod threads;
mod typing;

pub use stored::{ClosureStore, StoreSlot, Stored, StoredCall};

use threads::{Spawner, chain_has_call, chain_has_par_iter};

use super::ir::{Block, Closure, Expr, ExprKind, FnDef, MacroArgs, Pat, SelfKind, Stmt, UnOp};
use super::items::ItemIndex;
use super::types::{SemTy, Wrap};
use crate::diagnostic::Span;

pub use crate::catalog::{MAP_WRITE_METHODS, PAR_ITER_METHODS, SPAWN_FNS, SPAWN_METHODS, SPAWN_ROOTS};
use crate::catalog::{PASS_THROUGH_METHODS, SYNC_CLOSURE_METHODS, is_repeating_adapter};

#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub span: Span,
    pub ty: SemTy,
    /// Innermost closure or async block the binding is declared in.
    pub closure: Option<u32>,
    /// The binding whose object this one is (an `Arc`/`Rc` clone of it), transitively resolved.
    pub identity: u32,
    /// The place this binding refers to (`let m = &mut M;`, `let p = addr_of_mut!(M)`), and how
    /// it was reached.
    pub alias: Option<(Place, Via)>,
    /// Initialized as a copy (`x.clone()`) of a value holding a map; the span of the clone.
    pub clone_of: Option<(Place, Span)>,
    /// Initialized as a clone of an `Arc`/`Rc` (the same object, shared); the span of the clone
    /// and the cloned place.
    pub shared_clone: Option<Span>,
    pub shared_clone_of: Option<Place>,
    pub is_param: bool,
    /// Bound to an element of the collection at this place (`for h in handlers.values()`,
    /// `if let Some(h) = handlers.get(&id)`), for calls of stored closures.
    pub elem_of: Option<Place>,
    /// Bound to each element in turn of the collection at this place, by an iteration over all
    /// of it (`for s in self.shards.iter()`, `self.shards.iter().map(|s| ..)`): a lock taken
    /// through it is every element's (`self.shards[*]`, see `flow`'s lock places).
    pub each_of: Option<Place>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    Local(u32),
    Static(u32),
    SelfParam,
}

/// A memory location: a root and a field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    pub root: Root,
    pub fields: Vec<String>,
}

/// How a write reaches the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Direct,
    RefCell,
    UnsafeCell,
    RawPtr,
    MakeMut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The root of a map write (`m` in `m.insert(..)`).
    Write,
    /// Any other use.
    Use,
    /// Inside a formatting or assertion macro (`println!`, `assert_eq!`, `info!`): only observed.
    Log,
    /// Named inside an unknown macro: the model cannot tell what happens.
    Opaque,
}

#[derive(Debug, Clone)]
pub struct Mention {
    pub binding: u32,
    /// Fields accessed right after the name (`db.by_id` → `["by_id"]`).
    pub fields: Vec<String>,
    pub span: Span,
    pub expr: u32,
    pub closures: Vec<u32>,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Write {
    pub place: Place,
    /// The root expression of the written place (a path, `self`).
    pub root_expr: u32,
    /// The whole write expression and the method name span.
    pub span: Span,
    pub method_span: Span,
    pub method: String,
    pub closures: Vec<u32>,
    pub via: Via,
    /// The accessor the place is reached through (`self.table()` handing out `&mut *self.table`
    /// without a lock), when there is one.
    pub accessor: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnKind {
    /// `std::thread::spawn`, `Builder::spawn`.
    Thread,
    /// A spawn on a scope handle (`thread::scope`, crossbeam, rayon scopes).
    Scoped,
    /// An async task (`tokio::spawn`, `spawn_blocking`, `spawn_local`, async-std).
    Task,
    /// `rayon::spawn`, `rayon::join`.
    Rayon,
    /// A closure run by a rayon parallel iterator: many threads at once.
    Parallel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnBody {
    Closure(u32),
    Fn(u32),
}

#[derive(Debug, Clone)]
pub struct Spawn {
    pub kind: SpawnKind,
    /// The spawning call expression.
    pub call: u32,
    /// The spawning call's path or method name.
    pub span: Span,
    pub body: SpawnBody,
    /// The scope call the spawn belongs to (scoped spawns).
    pub scope: Option<u32>,
    /// Inside a loop or an iterator closure: runs several times. Bindings declared after this
    /// offset are fresh in each iteration; those declared before it are shared by all of them.
    pub repeated: bool,
    pub repeated_from: u32,
    pub closures: Vec<u32>,
}

/// A channel made in this function (`let (tx, rx) = mpsc::channel();`): the bindings of its
/// ends, sender clones included.
#[derive(Debug, Clone, Default)]
pub struct Channel {
    pub senders: Vec<u32>,
    pub receivers: Vec<u32>,
}

/// What a blocking wait waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// `handle.join()`: the spawned thread (an index into `BodyFacts::spawns`).
    Thread(usize),
    /// `rx.recv()`: a sender of the channel (an index into `BodyFacts::channels`).
    Message(usize),
    /// `cvar.wait(guard)`: a thread that notifies a condition variable.
    Notify,
    /// `barrier.wait()`: the other threads that wait on this barrier (its binding identity).
    Barrier(u32),
    /// `block_on(async { .. })`: the future (an async block), run on this thread.
    Future(u32),
}

/// A call that blocks this thread until another one does something.
#[derive(Debug, Clone)]
pub struct BlockingWait {
    /// The call expression.
    pub expr: u32,
    pub span: Span,
    pub waits_for: WaitFor,
    pub closures: Vec<u32>,
}

/// Placeholder for a `let` binding that does not exist yet while its initializer is walked.
const PENDING: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct Call {
    pub callee: u32,
    /// The call expression.
    pub expr: u32,
    pub span: Span,
    pub closures: Vec<u32>,
    /// The receiver's place (`self.inner` in `self.inner.helper()`), for method calls.
    pub recv: Option<Place>,
    /// The arguments' places, when they denote one.
    pub args: Vec<Option<Place>>,
    /// Closures passed as arguments, by the callee's parameter position (`self` first).
    pub closure_args: Vec<(usize, u32)>,
    /// Resolved through this trait (the receiver is a `dyn` or generic value, and the package
    /// has one implementation of the method).
    pub through_trait: Option<String>,
}

/// A lock, concurrent-map or `RefCell` operation.
#[derive(Debug, Clone)]
pub struct Acquisition {
    /// The lock (the receiver's place).
    pub lock: Place,
    /// The method call expression.
    pub expr: u32,
    /// The receiver's type after auto-deref: a `Lock`, a guarded `ConcurrentMap`, a `RefCell`.
    pub lock_ty: SemTy,
    pub op: crate::catalog::AcqOp,
    /// Where the guard sits in the call's result.
    pub shape: crate::catalog::Shape,
    pub method: String,
    pub span: Span,
    pub method_span: Span,
    pub closures: Vec<u32>,
    /// The method called on the guard right away (`contains_key` in `m.lock().contains_key(k)`),
    /// with that call's span and argument spans.
    pub used_by: Option<(String, Span, Vec<Span>)>,
    /// The spans of this call's own arguments.
    pub args: Vec<Span>,
    /// The binding of the `let` whose initializer contains this operation.
    pub in_let: Option<u32>,
}

/// A method called on a guard held by a binding (`g.contains_key(&k)` after
/// `let g = m.read().unwrap();`).
#[derive(Debug, Clone)]
pub struct GuardCall {
    /// The acquisition whose guard the binding holds (an index into `acquisitions`).
    pub acquisition: usize,
    pub method: String,
    /// The call, and its arguments.
    pub span: Span,
    pub args: Vec<Span>,
    /// The binding of the `let` whose initializer contains the call
    /// (`let known = { let g = m.read(); g.contains_key(&k) };`).
    pub in_let: Option<u32>,
}

/// An `.await`.
#[derive(Debug, Clone)]
pub struct AwaitPoint {
    /// The `.await` expression or the awaiting macro.
    pub expr: u32,
    /// What to point at: the `await` keyword, or the name of an awaiting macro.
    pub span: Span,
    pub closures: Vec<u32>,
}

/// An `if` (or `if let`): its condition and branches, for check-then-act patterns.
#[derive(Debug, Clone)]
pub struct IfFacts {
    pub span: Span,
    pub cond: Span,
    pub then: Span,
    /// The only statement of the then-block, when it has exactly one.
    pub then_single_stmt: Option<Span>,
    pub has_else: bool,
    pub els: Option<Span>,
    /// The condition tests for absence: `!..`, `..is_none()`.
    pub negated: bool,
    /// The condition is a `bool` parameter of the function (`if start_holding`, `if !quiet`):
    /// its position (`self` first) and the value it has in the then-block.
    pub param_test: Option<(usize, bool)>,
}

/// A call of a closure bound to a local name (`let f = || ..; f()`).
#[derive(Debug, Clone)]
pub struct ClosureCall {
    pub closure: u32,
    /// The call expression.
    pub expr: u32,
    pub span: Span,
    /// Enclosing closures of the call.
    pub closures: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct ClosureFacts {
    pub span: Span,
    pub is_move: bool,
    /// Enclosing closures, outermost first.
    pub parents: Vec<u32>,
}

/// Where the value of a struct literal's field comes from, as far as object identity goes.
#[derive(Debug, Clone)]
pub enum FieldSource {
    /// The object at this place: moved in, or an `Arc`/`Rc` clone of it (the same object).
    Shared(Place),
    /// What a call of a function of this package returns, given these argument places.
    Call {
        callee: u32,
        args: Vec<Option<Place>>,
    },
    /// A struct literal written in place (an index into `BodyFacts::struct_lits`).
    Lit(usize),
    Unknown,
}

/// A struct literal of a struct of this package (`Node { peers, gossip: Gossip::new(..) }`).
#[derive(Debug, Clone)]
pub struct StructLit {
    pub adt: u32,
    pub expr: u32,
    pub fields: Vec<(String, FieldSource)>,
    /// Written with `..base`: the other fields come from elsewhere.
    pub has_rest: bool,
}

/// Everything the model knows about one function body.
#[derive(Debug, Default)]
pub struct BodyFacts {
    pub bindings: Vec<Binding>,
    /// Struct literals of the package's structs.
    pub struct_lits: Vec<StructLit>,
    /// Bindings initialized by a struct literal or a call of a function of this package
    /// (`let g = Gossip::new(..);`): where their object comes from.
    pub built_bindings: HashMap<u32, FieldSource>,
    /// The struct literal the function returns as its tail value, if any.
    pub returned_lit: Option<usize>,
    pub mentions: Vec<Mention>,
    pub writes: Vec<Write>,
    pub spawns: Vec<Spawn>,
    /// Bindings holding a spawned thread's `JoinHandle`: the spawn.
    pub join_handles: HashMap<u32, usize>,
    /// Channels made in this function.
    pub channels: Vec<Channel>,
    /// Identities of the bindings holding a `Barrier` made in this function.
    pub barriers: Vec<u32>,
    /// `notify_one()`/`notify_all()` calls: where, and in which closures.
    pub notifies: Vec<(Span, Vec<u32>)>,
    /// Calls that wait for a spawned thread or for a message.
    pub blocking_waits: Vec<BlockingWait>,
    pub calls: Vec<Call>,
    pub closures: HashMap<u32, ClosureFacts>,
    /// Spans of lock acquisitions and of calls that may synchronize by hand (compare-and-swap).
    pub locks: Vec<Span>,
    /// The end of each scope call (`thread::scope(..)`) by its expression id.
    pub scope_ends: HashMap<u32, u32>,
    /// Expression ids of closure values bound to names (`let f = move || ..`), by binding.
    pub closure_bindings: HashMap<u32, u32>,
    /// Each parameter binding with its position (0 is `self` when there is one).
    pub params: Vec<(u32, usize)>,
    pub acquisitions: Vec<Acquisition>,
    /// Methods called on guards held by bindings.
    pub guard_calls: Vec<GuardCall>,
    pub awaits: Vec<AwaitPoint>,
    pub ifs: Vec<IfFacts>,
    /// Code that runs when a condition found something absent: `(condition or scrutinee, body)`
    /// for the then-block of `if !..`, the else-block of `if ..`/`if let Some(..)`, the rest of
    /// the block after `if .. { return }`, and `None =>` match arms.
    pub absent_branches: Vec<(Span, Span)>,
    /// Calls of closures bound to local names (`let f = || ..; f()`).
    pub closure_calls: Vec<ClosureCall>,
    /// Every statement (a `let` or an expression statement), in walk order.
    pub statements: Vec<Span>,
    /// Block tails: expression statements without `;` (their value is the block's).
    pub tails: Vec<Span>,
    /// Method calls whose value is thrown away (`m.insert(k, v);`, `let _ = m.insert(k, v);`).
    pub discarded_calls: Vec<Span>,
    /// Scrutinees of `match`, `if let` and `while let` (their temporaries live through the
    /// arms or the block).
    pub scrutinees: Vec<Span>,
    /// Closures that run during the call they are passed to (iterator adapters, `Option`
    /// combinators, entry API, `LocalKey::with`/`try_with`, scopes): same thread, same guards.
    pub sync_closures: std::collections::HashSet<u32>,
    /// Async blocks and async closures.
    pub async_closures: std::collections::HashSet<u32>,
    pub is_async: bool,
    /// Parameters (by position, `self` first) this function hands to a spawn: passed to a
    /// spawning call, or called inside a spawned closure. Makes it a spawn helper (see
    /// `ItemIndex::spawners`).
    pub spawned_params: Vec<(usize, SpawnKind)>,
    /// Calls of this function's own parameters during the call: in its body, or in closures
    /// that run during the call they are passed to (`writer(&mut self.0.write())`, `self.write(
    /// move |s| writer(&mut s.memory))`): the call expression and the parameter's position
    /// (`self` first). Makes it a closure runner (see `ItemIndex::closure_runners`).
    pub param_calls: Vec<(u32, usize)>,
    /// Closures (or parameters) stored into a field or a collection, to be called later.
    pub closure_stores: Vec<ClosureStore>,
    /// Calls of stored closures.
    pub stored_calls: Vec<StoredCall>,
}

impl BodyFacts {
    /// Mentions of every binding that shares `b`'s identity.
    pub fn mentions_of_object(&self, b: u32) -> impl Iterator<Item = &Mention> {
        let id = self.bindings[b as usize].identity;
        self.mentions
            .iter()
            .filter(move |m| self.bindings[m.binding as usize].identity == id)
    }

    /// The position (`self` first) of the parameter bound to `b`, when it is one.
    #[must_use]
    pub fn param_pos(&self, b: u32) -> Option<usize> {
        self.params.iter().find(|(pb, _)| *pb == b).map(|&(_, pos)| pos)
    }

    /// The innermost spawned closure around a position, if any, with its spawn.
    #[must_use]
    pub fn enclosing_spawn(&self, closures: &[u32]) -> Option<(u32, &Spawn)> {
        closures.iter().rev().find_map(|c| {
            self.spawns
                .iter()
                .find(|s| s.body == SpawnBody::Closure(*c))
                .map(|s| (*c, s))
        })
    }

    /// The binding a place starts from (`self` is a binding too).
    #[must_use]
    pub fn root_binding(&self, place: &Place) -> Option<u32> {
        match place.root {
            Root::Local(b) => Some(b),
            Root::SelfParam => self
                .bindings
                .iter()
                .position(|x| x.name == "self" && x.is_param)
                .map(|i| i as u32),
            Root::Static(_) => None,
        }
    }

    /// Is the object bound to `b` (the part at `fields`) also used concurrently with the spawned
    /// closure `c` (spawned by `spawn`)? Returns the span of such a use (or of the spawn itself when
    /// the closure runs on several threads at once).
    #[must_use]
    pub fn concurrent_use(&self, b: u32, fields: &[String], c: u32, spawn: &Spawn) -> Option<Span> {
        if spawn.kind == SpawnKind::Parallel {
            return Some(spawn.span);
        }
        // Spawned once per iteration: shared only when declared before the loop.
        let object = self.bindings[self.bindings[b as usize].identity as usize].span.lo;
        if spawn.repeated && object < spawn.repeated_from {
            return Some(spawn.span);
        }
        let closure_span = self.closures.get(&c)?.span;
        let start = closure_span.hi.max(spawn.span.lo);
        let scope_end = spawn
            .scope
            .and_then(|s| self.scope_ends.get(&s).copied())
            .unwrap_or_else(|| self.joined_at(spawn).unwrap_or(u32::MAX));
        let inside = |m: &Mention, cl: u32| m.closures.contains(&cl);
        for m in self.mentions_of_object(b) {
            if m.role == Role::Opaque || inside(m, c) {
                continue;
            }
            // A use of another field is not a use of this map.
            let n = m.fields.len().min(fields.len());
            if m.fields[..n] != fields[..n] {
                continue;
            }
            // Another spawned closure that captures the same object.
            if let Some((other, other_spawn)) = self.enclosing_spawn(&m.closures)
                && other != c
                && self.declared_outside(m.binding, other)
                && (spawn.scope.is_none() || other_spawn.scope == spawn.scope)
            {
                return Some(m.span);
            }
            // The spawning code keeps using it while the thread runs.
            if m.span.lo > start && m.span.lo < scope_end && self.enclosing_spawn(&m.closures).is_none() {
                return Some(m.span);
            }
        }
        None
    }

    /// Where the spawning code first joins the thread of `spawn` (`handle.join()` on its
    /// handle, outside any closure): nothing after it runs at the same time as that thread.
    #[must_use]
    pub fn joined_at(&self, spawn: &Spawn) -> Option<u32> {
        let idx = self.spawns.iter().position(|s| std::ptr::eq(s, spawn))?;
        self.blocking_waits
            .iter()
            .filter(|w| matches!(w.waits_for, WaitFor::Thread(i) if i == idx))
            .filter(|w| w.closures.is_empty() && w.span.lo > spawn.span.lo)
            .map(|w| w.span.hi)
            .min()
    }

    /// For a use of the object bound to `b` (the part at `fields`) inside `closures`: the
    /// innermost spawned closure around it that captures the object, its spawn, and a use
    /// that runs at the same time ([`BodyFacts::concurrent_use`]).
    #[must_use]
    pub fn racing_use(&self, b: u32, fields: &[String], closures: &[u32]) -> Option<(u32, &Spawn, Span)> {
        let (c, spawn) = self.enclosing_spawn(closures)?;
        if !self.declared_outside(b, c) {
            return None;
        }
        Some((c, spawn, self.concurrent_use(b, fields, c, spawn)?))
    }

    /// The closures a blocking wait waits on, each with the offset before which what they do
    /// holds the wait up: the thread a `join` waits for (all of it), the threads holding a
    /// sender of the channel a `recv` reads, the threads that notify (up to their first
    /// `notify_*`), the threads that wait on the same barrier (up to their first use of it),
    /// the future `block_on` runs.
    #[must_use]
    pub fn waited_closures(&self, wait: &BlockingWait) -> Vec<(u32, u32)> {
        let spawned = || {
            self.spawns.iter().filter_map(|s| match s.body {
                SpawnBody::Closure(c) => Some(c),
                SpawnBody::Fn(_) => None,
            })
        };
        match wait.waits_for {
            WaitFor::Thread(s) => match self.spawns[s].body {
                SpawnBody::Closure(c) => vec![(c, u32::MAX)],
                SpawnBody::Fn(_) => Vec::new(),
            },
            WaitFor::Future(c) => vec![(c, u32::MAX)],
            WaitFor::Message(ch) => {
                let senders = &self.channels[ch].senders;
                spawned()
                    .filter(|c| {
                        self.mentions
                            .iter()
                            .any(|m| senders.contains(&m.binding) && m.closures.contains(c))
                    })
                    .map(|c| (c, u32::MAX))
                    .collect()
            }
            WaitFor::Notify => spawned()
                .filter(|c| !wait.closures.contains(c))
                .filter_map(|c| {
                    let first = self
                        .notifies
                        .iter()
                        .filter(|(_, cs)| cs.contains(&c))
                        .map(|(s, _)| s.lo)
                        .min()?;
                    Some((c, first))
                })
                .collect(),
            WaitFor::Barrier(id) => spawned()
                .filter(|c| !wait.closures.contains(c))
                .filter_map(|c| {
                    let first = self
                        .mentions
                        .iter()
                        .filter(|m| m.closures.contains(&c) && self.bindings[m.binding as usize].identity == id)
                        .map(|m| m.span.lo)
                        .min()?;
                    Some((c, first))
                })
                .collect(),
        }
    }

    /// The innermost statement around `span`.
    #[must_use]
    pub fn statement_of(&self, span: Span) -> Option<Span> {
        self.statements
            .iter()
            .filter(|s| s.file == span.file && s.lo <= span.lo && span.hi <= s.hi)
            .min_by_key(|s| s.hi - s.lo)
            .copied()
    }

    /// Is `b` declared outside closure `c` (so `c` captures it)?
    #[must_use]
    pub fn declared_outside(&self, b: u32, c: u32) -> bool {
        let Some(decl) = self.bindings[b as usize].closure else {
            return true;
        };
        if decl == c {
            return false;
        }
        // Declared in a closure nested inside `c`?
        !self.closures.get(&decl).is_some_and(|f| f.parents.contains(&c))
    }
}

const MAX_WALK_DEPTH: u32 = 512;

/// Walks one function body.
#[derive(Debug)]
pub struct Walker<'a> {
    ix: &'a ItemIndex,
    file: u32,
    self_ty: Option<SemTy>,
    facts: BodyFacts,
    scopes: Vec<Vec<(String, u32)>>,
    closure_stack: Vec<u32>,
    /// Start offsets of the enclosing loops and iterator closures (code there runs repeatedly).
    repeat: Vec<u32>,
    depth: u32,
    /// Closure expressions that are spawn bodies (their params and kind) to mark when visited.
    pending_spawn_closures: HashMap<u32, SpawnKind>,
    /// Closures of rayon's `for_each_with`/`try_for_each_with` seeded with a copy of a map:
    /// the map's place and the copy (their first parameter is a per-worker copy).
    worker_seeds: HashMap<u32, (Place, Span, SemTy)>,
    /// The element type of bindings bound to an element of a `Vec` (for stored-closure calls
    /// only: the model's typing of such bindings is left as it is).
    elem_tys: HashMap<u32, SemTy>,
    /// Closure params typed by context (scope handles, `LocalKey::with`).
    closure_param_tys: HashMap<u32, Vec<SemTy>>,
    /// Closures of iterator adapters over a whole collection (`self.shards.iter().map(|s| ..)`):
    /// the collection their first parameter is each element of.
    closure_each_of: HashMap<u32, Place>,
    /// Nesting of formatting macros around the current expression.
    log_depth: u32,
    /// Inside a `let` initializer (`Some(PENDING)` until the binding exists).
    in_let: Option<u32>,
    /// Ends of the enclosing blocks.
    block_ends: Vec<u32>,
    /// Bindings initialized by a test for absence (`let missing = !m.contains_key(k);`).
    absence_tests: std::collections::HashSet<u32>,
    /// `break`s walked so far.
    breaks: u32,
    /// Bindings initialized with a lock's guard (`let g = m.lock().unwrap();`).
    guard_lets: std::collections::HashSet<u32>,
}

impl<'a> Walker<'a> {
    #[must_use]
    pub fn analyze(ix: &'a ItemIndex, fn_id: u32) -> BodyFacts {
        let f = &ix.fns[fn_id as usize];
        let self_ty = f.impl_id.map(|i| ix.impls[i as usize].self_ty.clone());
        let mut w = Walker {
            ix,
            file: f.file,
            self_ty,
            facts: BodyFacts {
                is_async: f.def.is_async,
                ..BodyFacts::default()
            },
            scopes: vec![Vec::new()],
            closure_stack: Vec::new(),
            repeat: Vec::new(),
            depth: 0,
            pending_spawn_closures: HashMap::new(),
            elem_tys: HashMap::new(),
            worker_seeds: HashMap::new(),
            closure_param_tys: HashMap::new(),
            closure_each_of: HashMap::new(),
            log_depth: 0,
            in_let: None,
            block_ends: Vec::new(),
            absence_tests: std::collections::HashSet::new(),
            breaks: 0,
            guard_lets: std::collections::HashSet::new(),
        };
        w.params(&f.def, f.impl_id);
        if let Some(body) = &f.def.body {
            w.block(body);
            if let Some(tail) = body.tail() {
                w.facts.returned_lit = w.facts.struct_lits.iter().position(|l| l.expr == tail.id);
            }
        }
        let write_roots: std::collections::HashSet<u32> = w.facts.writes.iter().map(|x| x.root_expr).collect();
        for m in &mut w.facts.mentions {
            if matches!(m.role, Role::Use | Role::Log) && write_roots.contains(&m.expr) {
                m.role = Role::Write;
            }
        }
        w.facts
    }

    fn params(&mut self, def: &FnDef, impl_id: Option<u32>) {
        let mut subst = impl_id
            .map(|i| self.ix.impls[i as usize].generic_tys.clone())
            .unwrap_or_default();
        subst.extend(super::items::generic_subst(&def.generics));
        if let Some(kind) = def.self_kind {
            let st = self.self_ty.clone().unwrap_or_default();
            let ty = match kind {
                SelfKind::Value => st,
                SelfKind::Ref => SemTy::Ref {
                    mutable: false,
                    inner: Box::new(st),
                },
                SelfKind::RefMut => SemTy::Ref {
                    mutable: true,
                    inner: Box::new(st),
                },
            };
            let b = self.bind("self", def.name_span, ty, true);
            self.facts.params.push((b, 0));
        }
        let offset = usize::from(def.self_kind.is_some());
        for (i, p) in def.params.iter().enumerate() {
            let ty = self.ix.resolve_ty(&p.ty, self.file, &subst, self.self_ty.as_ref());
            let before = self.facts.bindings.len() as u32;
            self.bind_pat(&p.pat, ty, true);
            if p.pat.simple_name().is_some() {
                self.facts.params.push((before, i + offset));
            }
        }
    }

    // ------------------------------------------------------------ bindings

    fn bind(&mut self, name: &str, span: Span, ty: SemTy, is_param: bool) -> u32 {
        let id = self.facts.bindings.len() as u32;
        self.facts.bindings.push(Binding {
            name: name.to_owned(),
            span,
            ty,
            closure: self.closure_stack.last().copied(),
            identity: id,
            alias: None,
            clone_of: None,
            shared_clone: None,
            shared_clone_of: None,
            is_param,
            elem_of: None,
            each_of: None,
        });
        self.scopes.last_mut().expect("scope").push((name.to_owned(), id));
        id
    }

    fn bind_pat(&mut self, pat: &Pat, ty: SemTy, is_param: bool) {
        if let Pat::Ident {
            name,
            span,
            by_ref,
            sub: None,
            ..
        } = pat
        {
            let ty = if *by_ref {
                SemTy::Ref {
                    mutable: false,
                    inner: Box::new(ty),
                }
            } else {
                ty
            };
            self.bind(name, *span, ty, is_param);
            return;
        }
        let mut names = Vec::new();
        pat.bindings(&mut names);
        for (n, s, _) in names {
            self.bind(n, s, SemTy::Unknown, is_param);
        }
    }

    /// Binds a pattern matched against a value of type `ty` at `place` (`if let`, `match`):
    /// `Some(x)` of an `Option<&mut Map>`, `Some(ref mut x)` of an `Option<Map>` and plain
    /// names bind references that alias the scrutinee's place.
    fn bind_scrutinee_pat(&mut self, pat: &Pat, ty: SemTy, place: Option<(Place, Via)>) {
        match pat {
            Pat::Ident {
                name,
                span,
                by_ref,
                sub: None,
                ..
            } => {
                let ty = if *by_ref {
                    SemTy::Ref {
                        mutable: true,
                        inner: Box::new(ty),
                    }
                } else {
                    ty
                };
                let aliases = matches!(ty, SemTy::Ref { .. } | SemTy::Ptr { .. });
                let b = self.bind(name, *span, ty, false);
                if aliases {
                    self.facts.bindings[b as usize].alias = place;
                }
            }
            Pat::Variant { name, elems } if elems.len() == 1 && matches!(name.as_str(), "Some" | "Ok") => {
                let inner = match ty {
                    SemTy::Wrapper {
                        wrap: Wrap::Option,
                        inner,
                    } => *inner,
                    // Match ergonomics: `&mut Option<T>` binds `&mut T`.
                    SemTy::Ref { mutable, inner } => match *inner {
                        SemTy::Wrapper {
                            wrap: Wrap::Option,
                            inner,
                        } => SemTy::Ref { mutable, inner },
                        _ => SemTy::Unknown,
                    },
                    _ => SemTy::Unknown,
                };
                self.bind_scrutinee_pat(&elems[0], inner, place);
            }
            other => self.bind_pat(other, SemTy::Unknown, false),
        }
    }

    fn lookup(&self, name: &str) -> Option<u32> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    /// Runs `f` in a new lexical scope.
    fn with_scope(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(Vec::new());
        f(self);
        self.scopes.pop();
    }

    // ------------------------------------------------------------ walking

    fn block(&mut self, b: &Block) {
        self.block_ends.push(b.span.hi);
        self.with_scope(|w| {
            for s in &b.stmts {
                w.stmt(s);
            }
        });
        self.block_ends.pop();
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { span, .. } => self.facts.statements.push(*span),
            Stmt::Expr { expr, semi } => {
                self.facts.statements.push(expr.span);
                if !semi {
                    self.facts.tails.push(expr.span);
                }
            }
            Stmt::Item(_) => {}
        }
        match s {
            Stmt::Let { pat, ty, init, els, .. } => {
                if let Some(e) = init
                    && matches!(pat, Pat::Wild)
                    && matches!(e.kind, ExprKind::MethodCall { .. })
                {
                    self.facts.discarded_calls.push(e.span);
                }
                let acq_before = self.facts.acquisitions.len();
                let guard_calls_before = self.facts.guard_calls.len();
                if let Some(e) = init {
                    let saved = self.in_let.replace(PENDING);
                    self.expr(e);
                    self.in_let = saved;
                }
                if let Some(b) = els {
                    self.block(b);
                }
                let declared = ty
                    .as_ref()
                    .map(|t| self.ix.resolve_ty(t, self.file, &[], self.self_ty.as_ref()));
                let inferred = init.as_ref().map(|e| self.ty_of(e)).unwrap_or_default();
                let ty = match declared {
                    Some(SemTy::Unknown) | None => inferred,
                    Some(SemTy::Ptr { mutable, inner }) if *inner == SemTy::Unknown => {
                        // `let p: *mut _ = &mut m;`
                        match inferred {
                            SemTy::Ref { inner, .. } | SemTy::Ptr { inner, .. } => SemTy::Ptr { mutable, inner },
                            _ => SemTy::Ptr { mutable, inner },
                        }
                    }
                    Some(t) => t,
                };
                // Link facts are computed before the new name shadows anything it refers to.
                let link = init
                    .as_ref()
                    .filter(|_| pat.simple_name().is_some())
                    .map(|e| self.link_info(e, &ty));
                // `let (a, b) = (x.clone(), Arc::clone(&y));`: link each element.
                let tuple_links: Vec<Link> = match (pat, init.as_ref().map(|e| &e.kind)) {
                    (Pat::Tuple(ps), Some(ExprKind::Tuple(es)))
                        if ps.len() == es.len() && ps.iter().all(|p| p.simple_name().is_some()) =>
                    {
                        es.iter().map(|e| self.link_info(e, &self.ty_of(e))).collect()
                    }
                    _ => Vec::new(),
                };
                let tuple_tys: Vec<SemTy> = match init.as_ref().map(|e| &e.kind) {
                    Some(ExprKind::Tuple(es)) if !tuple_links.is_empty() => es.iter().map(|e| self.ty_of(e)).collect(),
                    _ => Vec::new(),
                };
                let before = self.facts.bindings.len();
                let ends = init.as_ref().and_then(|e| self.thread_ends(pat, e));
                let built = init
                    .as_ref()
                    .filter(|_| pat.simple_name().is_some())
                    .map(|e| self.field_source(e))
                    .filter(|s| matches!(s, FieldSource::Lit(_) | FieldSource::Call { .. }));
                self.bind_pat(pat, ty, false);
                if let Some(built) = built {
                    self.facts.built_bindings.insert(before as u32, built);
                }
                self.record_thread_ends(ends, before as u32);
                if let Some(link) = link {
                    self.apply_link(before as u32, link);
                }
                for (i, (link, ty)) in tuple_links.into_iter().zip(tuple_tys).enumerate() {
                    let b = (before + i) as u32;
                    if (b as usize) < self.facts.bindings.len() {
                        self.facts.bindings[b as usize].ty = ty;
                        self.apply_link(b, link);
                    }
                }
                // Operations of the initializer belong to the new binding's `let`.
                let let_binding = (self.facts.bindings.len() > before).then_some(before as u32);
                if let (Some(b), Some(e)) = (let_binding, init)
                    && pat.simple_name().is_some()
                {
                    if self.absence_test(e) == Some(true) {
                        self.absence_tests.insert(b);
                    }
                    // `let g = flag.lock().unwrap();`, whatever `flag` is.
                    if guard_source(e).is_some_and(|s| {
                        self.facts.locks.contains(&s) || self.facts.acquisitions.iter().any(|a| a.span == s)
                    }) {
                        self.guard_lets.insert(b);
                    }
                }
                for a in &mut self.facts.acquisitions[acq_before..] {
                    if a.in_let == Some(PENDING) {
                        a.in_let = let_binding;
                    }
                }
                for c in &mut self.facts.guard_calls[guard_calls_before..] {
                    if c.in_let == Some(PENDING) {
                        c.in_let = let_binding;
                    }
                }
            }
            Stmt::Expr { expr, semi } => {
                if *semi && matches!(expr.kind, ExprKind::MethodCall { .. }) {
                    self.facts.discarded_calls.push(expr.span);
                }
                self.expr(expr);
            }
            Stmt::Item(_) => {}
        }
    }

    /// `g.contains_key(&k)` on a binding that holds a lock's guard: which acquisition's guard,
    /// and what for.
    fn guard_call(&mut self, e: &Expr, recv: &Expr, method: &str, args: &[Expr]) {
        // (`g.deref()` is only the way to the map behind the guard.)
        if matches!(method, "deref" | "deref_mut") {
            return;
        }
        let Some(b) = self.guard_binding(recv) else { return };
        let Some(acquisition) = self
            .facts
            .acquisitions
            .iter()
            .rposition(|a| a.in_let == Some(b) && matches!(a.op, crate::catalog::AcqOp::Lock { .. }))
        else {
            return;
        };
        self.facts.guard_calls.push(GuardCall {
            acquisition,
            method: method.to_owned(),
            span: e.span,
            args: args.iter().map(|a| a.span).collect(),
            in_let: self.in_let,
        });
    }

    /// The binding holding a lock's guard that `e` names (`g`, `&mut g`, `g.deref()`).
    fn guard_binding(&self, e: &Expr) -> Option<u32> {
        let mut e = e;
        loop {
            e = match &e.kind {
                ExprKind::Ref { expr, .. } => expr,
                ExprKind::MethodCall { recv, method, args, .. }
                    if args.is_empty() && matches!(method.as_str(), "deref" | "deref_mut") =>
                {
                    recv
                }
                _ => break,
            };
        }
        let ExprKind::Path(names) = &e.kind else { return None };
        let [name] = names.as_slice() else { return None };
        self.lookup(name).filter(|b| self.guard_lets.contains(b))
    }

    /// Does `cond` being true mean something was found absent (`Some(true)`: `!m.contains_key(k)`,
    /// `m.get(k).is_none()`, a binding initialized so) or present (`Some(false)`: `m.get(k).is_some()`,
    /// `!missing`)? `None` for anything else (`a && b`, comparisons).
    fn absence_test(&self, cond: &Expr) -> Option<bool> {
        match &cond.kind {
            ExprKind::Unary { op: UnOp::Not, expr } => self.absence_test(expr).map(|a| !a),
            ExprKind::MethodCall { method, .. } if method == "is_none" => Some(true),
            // `let missing = { let g = m.read(); !g.contains_key(k) };`
            ExprKind::Block(b) => b.tail().map_or(Some(false), |t| self.absence_test(t)),
            ExprKind::Path(p) => {
                let [name] = p.as_slice() else { return Some(false) };
                let b = self.lookup(name)?;
                Some(self.absence_tests.contains(&b))
            }
            ExprKind::Binary { .. } => None,
            _ => Some(false),
        }
    }

    /// Identity, alias and copy facts of a simple `let x = init;` (`ty`: the new binding's type).
    fn link_info(&self, init: &Expr, ty: &SemTy) -> Link {
        let init = peel(init);
        let mut link = Link::default();
        if let ExprKind::Closure(_) = &init.kind {
            link.closure = Some(init.id);
        }
        // `Arc::clone(&a)`, `a.clone()` of an Arc/Rc: the same object.
        if let Some(src) = clone_source(init) {
            let src_ty = self.ty_of(src);
            if let Some((place, _)) = self.place_of(src) {
                if src_ty.is_shared_pointer() {
                    link.shared_clone = Some(init.span);
                    link.shared_clone_of = Some(place.clone());
                    if let Root::Local(a) = place.root
                        && place.fields.is_empty()
                    {
                        link.identity = Some(self.facts.bindings[a as usize].identity);
                    }
                } else if self.ix.holds_map_by_value(src_ty.autoderef(), 0) {
                    link.clone_of = Some((place, init.span));
                }
            }
            return link;
        }
        // `let routes = self.routes();`, a getter handing out a clone of an `Arc` field: the
        // same object.
        if matches!(init.kind, ExprKind::MethodCall { .. })
            && ty.is_shared_pointer()
            && let Some((place, _)) = self.place_of(init)
            && !place.fields.is_empty()
        {
            link.shared_clone = Some(init.span);
            link.shared_clone_of = Some(place);
            return link;
        }
        // `let p = p;` (often to make a closure capture a whole value): the same object.
        if let ExprKind::Path(names) = &init.kind
            && names.len() == 1
            && let Some(src) = self.lookup(&names[0])
        {
            let bind = &self.facts.bindings[src as usize];
            link.identity = Some(bind.identity);
            link.alias = Some(bind.alias.clone().unwrap_or((
                Place {
                    root: Root::Local(src),
                    fields: Vec::new(),
                },
                Via::Direct,
            )));
            return link;
        }
        // References and raw pointers to a place alias it.
        if matches!(
            init.kind,
            ExprKind::Ref { .. }
                | ExprKind::RawAddr { .. }
                | ExprKind::Unsafe(_)
                | ExprKind::MethodCall { .. }
                | ExprKind::Cast { .. }
        ) && matches!(ty, SemTy::Ref { .. } | SemTy::Ptr { .. })
        {
            link.alias = self.place_of(init);
        }
        link
    }

    fn apply_link(&mut self, b: u32, link: Link) {
        if let Some(c) = link.closure {
            self.facts.closure_bindings.insert(b, c);
        }
        let bind = &mut self.facts.bindings[b as usize];
        if let Some(id) = link.identity {
            bind.identity = id;
        }
        bind.shared_clone = link.shared_clone;
        bind.shared_clone_of = link.shared_clone_of;
        bind.clone_of = link.clone_of;
        bind.alias = link.alias;
    }

    fn closures(&self) -> Vec<u32> {
        self.closure_stack.clone()
    }

    fn exprs(&mut self, es: &[Expr]) {
        for e in es {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &Expr) {
        if self.depth > MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        self.expr_inner(e);
        self.depth -= 1;
    }

    fn expr_inner(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Path(names) => {
                if names.len() == 1
                    && let Some(b) = self.lookup(&names[0])
                {
                    self.mention(b, Vec::new(), e);
                }
            }
            ExprKind::Lit(_) => {}
            ExprKind::Field { .. } => {
                // `a.b.c`: one mention of `a` with fields `[b, c]`.
                let mut fields = Vec::new();
                let mut cur = e;
                while let ExprKind::Field { base, name } = &cur.kind {
                    fields.push(name.clone());
                    cur = base;
                }
                fields.reverse();
                match &cur.kind {
                    ExprKind::Path(names) if names.len() == 1 => {
                        if let Some(b) = self.lookup(&names[0]) {
                            self.mention(b, fields, cur);
                        }
                    }
                    _ => self.expr(cur),
                }
            }
            ExprKind::MethodCall { recv, method, args, .. } => {
                self.method_call(e, recv, method, args);
            }
            ExprKind::Call { func, args } => self.call(e, func, args),
            ExprKind::Closure(c) => self.closure(e, c),
            ExprKind::Async { is_move, body } => {
                let parents = self.closures();
                self.facts.closures.insert(
                    e.id,
                    ClosureFacts {
                        span: e.span,
                        is_move: *is_move,
                        parents,
                    },
                );
                self.facts.async_closures.insert(e.id);
                self.closure_stack.push(e.id);
                let saved = std::mem::take(&mut self.repeat);
                self.block(body);
                self.repeat = saved;
                self.closure_stack.pop();
            }
            ExprKind::Block(b) | ExprKind::Unsafe(b) => self.block(b),
            ExprKind::If { cond, then, els } => {
                // (A condition combining tests with `&&`/`||` says nothing about either.)
                let absence = self.absence_test(cond);
                self.facts.ifs.push(IfFacts {
                    span: e.span,
                    cond: cond.span,
                    then: then.span,
                    then_single_stmt: match then.stmts.as_slice() {
                        [Stmt::Expr { expr, .. }] => Some(expr.span),
                        _ => None,
                    },
                    has_else: els.is_some(),
                    els: els.as_ref().map(|x| x.span),
                    negated: absence == Some(true),
                    param_test: self.param_test(cond),
                });
                if absence == Some(true) {
                    self.facts.absent_branches.push((cond.span, then.span));
                } else if absence.is_none() {
                } else if let Some(x) = els {
                    self.facts.absent_branches.push((cond.span, x.span));
                } else if diverges(then)
                    && let Some(&end) = self.block_ends.last()
                {
                    self.facts
                        .absent_branches
                        .push((cond.span, Span::new(e.span.file, e.span.hi, end)));
                }
                self.with_scope(|w| {
                    w.expr(cond);
                    w.block(then);
                });
                if let Some(x) = els {
                    self.expr(x);
                }
            }
            ExprKind::Let { pat, expr } => {
                self.facts.scrutinees.push(expr.span);
                self.expr(expr);
                let ty = self.ty_of(expr);
                let place = self.place_of(expr);
                let first = self.facts.bindings.len();
                self.bind_scrutinee_pat(pat, ty, place);
                self.bind_elements(first, expr);
            }
            ExprKind::Match { scrut, arms } => {
                // Scrutinee temporaries live until the end of the `match`, in every edition.
                self.facts.scrutinees.push(scrut.span);
                self.expr(scrut);
                let ty = self.ty_of(scrut);
                let place = self.place_of(scrut);
                for a in arms {
                    if matches!(&a.pat, Pat::Ident { name, sub: None, .. } if name == "None") {
                        self.facts.absent_branches.push((scrut.span, a.body.span));
                    }
                    self.with_scope(|w| {
                        w.bind_scrutinee_pat(&a.pat, ty.clone(), place.clone());
                        if let Some(g) = &a.guard {
                            w.expr(g);
                        }
                        w.expr(&a.body);
                    });
                }
            }
            ExprKind::While { cond, body } => {
                // `while !m.contains_key(&k) { .. }` runs its body when `k` is absent;
                // `while m.contains_key(&id) { id += 1 }` leaves the loop, when nothing breaks
                // out of it, with `id` absent.
                let absence = self.absence_test(cond);
                let breaks = self.breaks;
                self.repeat.push(e.span.lo);
                self.with_scope(|w| {
                    w.expr(cond);
                    w.block(body);
                });
                self.repeat.pop();
                match absence {
                    Some(true) => self.facts.absent_branches.push((cond.span, body.span)),
                    Some(false) if self.breaks == breaks => {
                        if let Some(&end) = self.block_ends.last() {
                            self.facts
                                .absent_branches
                                .push((cond.span, Span::new(e.span.file, e.span.hi, end)));
                        }
                    }
                    _ => {}
                }
            }
            ExprKind::Loop(b) => {
                self.repeat.push(e.span.lo);
                self.block(b);
                self.repeat.pop();
            }
            ExprKind::For { pat, iter, body } => {
                // The iterator expression's temporaries live for the whole loop.
                self.expr(iter);
                self.repeat.push(e.span.lo);
                self.with_scope(|w| {
                    let first = w.facts.bindings.len();
                    w.bind_pat(pat, SemTy::Unknown, false);
                    w.bind_elements(first, iter);
                    if w.facts.bindings.len() == first + 1
                        && let Some(coll) = w.each_source(iter)
                    {
                        w.bind_each(first, coll);
                    }
                    w.block(body);
                });
                self.repeat.pop();
            }
            ExprKind::Assign { lhs, rhs, .. } => {
                self.expr(rhs);
                self.expr(lhs);
                if matches!(lhs.kind, ExprKind::Field { .. })
                    && let Some((p, _)) = self.place_of(lhs)
                {
                    self.record_store(StoreSlot::Place(p), rhs);
                }
                let lt = self.ty_of(lhs);
                if lt.unsynchronized_map().is_some()
                    && !lt.contains_lock()
                    && let Some((place, via, root_expr)) = self.place_root(lhs)
                {
                    self.facts.writes.push(Write {
                        place,
                        root_expr,
                        span: e.span,
                        method_span: lhs.span,
                        method: "=".into(),
                        closures: self.closures(),
                        via,
                        accessor: self.accessor_of(lhs),
                    });
                }
            }
            ExprKind::Binary { lhs, rhs, .. } | ExprKind::Index { base: lhs, index: rhs } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::Unary { expr, .. }
            | ExprKind::Ref { expr, .. }
            | ExprKind::RawAddr { expr, .. }
            | ExprKind::Cast { expr, .. } => self.expr(expr),
            // `?` and `.await` pass the value through (`m.lock().await` is the guard).
            ExprKind::Try(expr) => self.expr(expr),
            ExprKind::Await(expr) => {
                self.expr(expr);
                let kw = Span::new(e.span.file, e.span.hi.saturating_sub(5), e.span.hi);
                self.facts.awaits.push(AwaitPoint {
                    expr: e.id,
                    span: kw,
                    closures: self.closures(),
                });
            }
            ExprKind::Return(x) => {
                if let Some(x) = x {
                    self.expr(x);
                }
            }
            ExprKind::Break(x) => {
                self.breaks += 1;
                if let Some(x) = x {
                    self.expr(x);
                }
            }
            ExprKind::Macro { args, path } => match args {
                MacroArgs::Parsed(es) => {
                    let logs = path.last().is_some_and(|n| crate::catalog::is_format_macro(n));
                    self.log_depth += u32::from(logs);
                    self.exprs(es);
                    self.log_depth -= u32::from(logs);
                    // `select!`/`join!` await their futures: the macro is a suspension point.
                    if path.last().is_some_and(|n| crate::catalog::is_awaiting_macro(n)) {
                        self.macro_await(e, path);
                    }
                }
                MacroArgs::Select { futures, handlers } => {
                    self.exprs(futures);
                    self.exprs(handlers);
                    self.macro_await(e, path);
                }
                MacroArgs::Opaque(idents) => {
                    for i in idents {
                        if let Some(b) = self.lookup(i) {
                            self.facts.mentions.push(Mention {
                                binding: b,
                                fields: Vec::new(),
                                span: e.span,
                                expr: e.id,
                                closures: self.closures(),
                                role: Role::Opaque,
                            });
                        }
                    }
                    self.macro_rules_call(e, path);
                }
            },
            ExprKind::Struct { fields, rest, path } => {
                for (_, f) in fields {
                    self.expr(f);
                }
                if let Some(r) = rest {
                    self.expr(r);
                }
                self.struct_lit(e, path, fields, rest.is_some());
            }
            ExprKind::Tuple(es) | ExprKind::Other(es) => self.exprs(es),
            ExprKind::Continue => {}
        }
    }

    /// Records a struct literal of a package struct: where each field's object comes from.
    fn struct_lit(&mut self, e: &Expr, path: &[String], fields: &[(String, Expr)], has_rest: bool) {
        let ty = if path.len() == 1 && path[0] == "Self" {
            self.self_ty.clone().unwrap_or_default()
        } else {
            self.ix.resolve_type_path(self.file, path, Vec::new(), 0)
        };
        let SemTy::Adt { id, .. } = ty else { return };
        for (name, f) in fields {
            let slot = StoreSlot::LitField {
                adt: id,
                field: name.clone(),
            };
            self.record_store(slot, f);
        }
        // Only a struct that can hold a shared object can make two paths one object.
        if !self.ix.adt_shares(id) {
            return;
        }
        let fields = fields
            .iter()
            .map(|(name, f)| (name.clone(), self.field_source(f)))
            .collect();
        self.facts.struct_lits.push(StructLit {
            adt: id,
            expr: e.id,
            fields,
            has_rest,
        });
    }

    /// The place a call argument hands over: the place itself, or the object an `Arc`/`Rc`
    /// clone of it shares (`Gossip::new(Arc::clone(&peers))` hands over `peers`).
    fn arg_place(&self, a: &Expr) -> Option<Place> {
        if let Some(src) = clone_source(peel(a))
            && self.ty_of(src).is_shared_pointer()
        {
            return self.place_of(src).map(|(p, _)| p);
        }
        self.place_of(a).map(|(p, _)| p)
    }

    fn field_source(&self, f: &Expr) -> FieldSource {
        let f = peel(f);
        if let Some(i) = self.facts.struct_lits.iter().rposition(|l| l.expr == f.id) {
            return FieldSource::Lit(i);
        }
        if let Some(src) = clone_source(f) {
            return match self.place_of(src) {
                Some((place, _)) if self.ty_of(src).is_shared_pointer() => FieldSource::Shared(place),
                _ => FieldSource::Unknown,
            };
        }
        match &f.kind {
            ExprKind::Path(_) | ExprKind::Field { .. } => self
                .place_of(f)
                .map_or(FieldSource::Unknown, |(p, _)| FieldSource::Shared(p)),
            ExprKind::Call { .. } | ExprKind::MethodCall { .. } => {
                match self.facts.calls.iter().rev().find(|c| c.expr == f.id) {
                    Some(c) => {
                        let mut args = Vec::new();
                        args.extend(c.recv.clone().map(Some));
                        args.extend(c.args.iter().cloned());
                        FieldSource::Call { callee: c.callee, args }
                    }
                    None => FieldSource::Unknown,
                }
            }
            _ => FieldSource::Unknown,
        }
    }

    /// An awaiting macro (`select!`, `join!`): a suspension point, shown at the macro's name.
    fn macro_await(&mut self, e: &Expr, path: &[String]) {
        let name = Span::new(
            e.span.file,
            e.span.lo,
            e.span.lo + path.iter().map(|p| p.len() as u32 + 2).sum::<u32>() - 2 + 1,
        );
        self.facts.awaits.push(AwaitPoint {
            expr: e.id,
            span: name,
            closures: self.closures(),
        });
    }

    fn mention(&mut self, binding: u32, fields: Vec<String>, e: &Expr) {
        let role = if self.log_depth > 0 { Role::Log } else { Role::Use };
        self.facts.mentions.push(Mention {
            binding,
            fields,
            span: e.span,
            expr: e.id,
            closures: self.closures(),
            role,
        });
    }

    fn closure(&mut self, e: &Expr, c: &Closure) {
        let parents = self.closures();
        self.facts.closures.insert(
            e.id,
            ClosureFacts {
                span: e.span,
                is_move: c.is_move,
                parents,
            },
        );
        let spawn = self.pending_spawn_closures.remove(&e.id);
        let saved_repeat = if spawn.is_some() {
            // A spawned closure runs once per spawn; repetition is the spawn's business.
            std::mem::take(&mut self.repeat)
        } else {
            self.repeat.clone()
        };
        if c.is_async {
            self.facts.async_closures.insert(e.id);
        }
        self.closure_stack.push(e.id);
        let saved_let = self.in_let.take();
        let tys = self.closure_param_tys.remove(&e.id).unwrap_or_default();
        let seed = self.worker_seeds.remove(&e.id);
        let each_of = self.closure_each_of.remove(&e.id);
        self.with_scope(|w| {
            for (i, p) in c.params.iter().enumerate() {
                let first = w.facts.bindings.len();
                w.bind_pat(p, tys.get(i).cloned().unwrap_or_default(), true);
                if i == 0
                    && w.facts.bindings.len() == first + 1
                    && let Some(coll) = &each_of
                {
                    w.bind_each(first, coll.clone());
                }
                // `for_each_with(map.clone(), |local, x| ..)`: each worker's copy of the map.
                if i == 0
                    && let Some(seed) = &seed
                    && let Some(b) = w.facts.bindings.get_mut(first)
                {
                    b.clone_of = Some((seed.0.clone(), seed.1));
                    if matches!(b.ty, SemTy::Unknown) {
                        b.ty = SemTy::Ref {
                            mutable: true,
                            inner: Box::new(seed.2.clone()),
                        };
                    }
                }
            }
            w.expr(&c.body);
        });
        self.closure_stack.pop();
        self.in_let = saved_let;
        self.repeat = saved_repeat;
    }

    fn method_call(&mut self, e: &Expr, recv: &Expr, method: &str, args: &[Expr]) {
        let recv_ty = self.ty_of(recv);
        self.expr(recv);
        self.guard_call(e, recv, method, args);
        self.blocking_wait(e, recv, method, args);
        // Spawns on handles and builders.
        let mut spawn_kind = None;
        let mut scope = None;
        if SPAWN_METHODS.contains(&method) {
            spawn_kind = Some(if let SemTy::ScopeHandle(s) = recv_ty.autoderef() {
                scope = Some(*s);
                SpawnKind::Scoped
            } else if chain_has_call(recv, &["Builder", "new"]) {
                SpawnKind::Thread
            } else {
                SpawnKind::Task
            });
        }
        let parallel = chain_has_par_iter(recv);
        // Each worker of `for_each_with(seed, f)` gets its own clone of `seed`; nothing comes back.
        if parallel
            && matches!(method, "for_each_with" | "try_for_each_with")
            && let [seed, f] = args
            && let ExprKind::Closure(_) = peel(f).kind
            && let Some(src) = clone_source(peel(seed))
            && let map_ty = self.ty_of(src).autoderef().clone()
            && map_ty.is_map()
            && let Some((place, _)) = self.place_of(src)
        {
            self.worker_seeds.insert(peel(f).id, (place, seed.span, map_ty));
        }
        let recv_inner = recv_ty.autoderef().clone();
        // Context types for closure parameters.
        if let SemTy::Wrapper {
            wrap: Wrap::LocalKey,
            inner,
        } = &recv_inner
            && let Some(c) = args.first()
        {
            let pty = match method {
                "with" => Some(SemTy::Ref {
                    mutable: false,
                    inner: inner.clone(),
                }),
                "with_borrow_mut" => match &**inner {
                    SemTy::Wrapper {
                        wrap: Wrap::RefCell,
                        inner,
                    } => Some(SemTy::Ref {
                        mutable: true,
                        inner: inner.clone(),
                    }),
                    _ => None,
                },
                "with_borrow" => match &**inner {
                    SemTy::Wrapper {
                        wrap: Wrap::RefCell,
                        inner,
                    } => Some(SemTy::Ref {
                        mutable: false,
                        inner: inner.clone(),
                    }),
                    _ => None,
                },
                _ => None,
            };
            if let Some(t) = pty {
                self.closure_param_tys.insert(peel(c).id, vec![t]);
            }
        }
        if matches!(method, "scope" | "in_place_scope") && matches!(recv_inner, SemTy::Unknown | SemTy::Dyn(_)) {
            // `pool.scope(|s| ..)` (rayon thread pools)
            if let Some(c) = args.first() {
                self.closure_param_tys
                    .insert(peel(c).id, vec![SemTy::ScopeHandle(e.id)]);
            }
        }
        if let Some(kind) = spawn_kind {
            let arg = if method == "spawn_scoped" {
                args.get(1)
            } else {
                args.first()
            };
            if let Some(a) = arg {
                self.register_spawn(kind, e, a, scope);
            }
        }
        if parallel {
            for a in args {
                if matches!(peel(a).kind, ExprKind::Closure(_)) {
                    self.register_spawn(SpawnKind::Parallel, e, a, None);
                }
            }
        }
        // A call to a method of this crate.
        let resolved = match &recv_inner {
            SemTy::Adt { id, .. } => self.ix.method(*id, method).map(|f| (f, None)),
            // Through a trait the package defines and implements once.
            SemTy::Dyn(traits) => self
                .ix
                .trait_method(traits, method)
                .map(|(f, t)| (f, Some(t.to_owned()))),
            _ => None,
        };
        if let Some((c, _)) = &resolved {
            // A spawn helper method (`self` is the receiver, not an argument).
            self.helper_spawns(*c, e, args, 1);
            self.runner_closures(*c, args, 1);
        }
        let iter_closure = !parallel && spawn_kind.is_none();
        if iter_closure
            && is_repeating_adapter(method)
            && let Some(p) = self.each_source(recv)
        {
            for a in args {
                if matches!(peel(a).kind, ExprKind::Closure(_)) {
                    self.closure_each_of.insert(peel(a).id, p.clone());
                }
            }
        }
        let acquire = super::types::classify(&recv_inner, method);
        // A bundled map's `update(k, |v| ..)`: the closure runs inside the call, under the lock.
        let runs_closure = acquire.is_some_and(|a| a.op.runs_closure());
        for a in args {
            let is_closure = matches!(peel(a).kind, ExprKind::Closure(_));
            if is_closure
                && spawn_kind.is_none()
                && !parallel
                && (SYNC_CLOSURE_METHODS.contains(&method) || runs_closure)
            {
                self.facts.sync_closures.insert(peel(a).id);
            }
            if iter_closure && is_closure && is_repeating_adapter(method) {
                self.repeat.push(a.span.lo);
                self.expr(a);
                self.repeat.pop();
            } else {
                self.expr(a);
            }
        }
        if let Some(acq) = acquire
            && let Some((place, _)) = self.place_of(recv)
        {
            let method_span = match &e.kind {
                ExprKind::MethodCall { method_span, .. } => *method_span,
                _ => e.span,
            };
            self.facts.acquisitions.push(Acquisition {
                lock: place,
                expr: e.id,
                lock_ty: recv_inner.clone(),
                op: acq.op,
                shape: acq.shape,
                method: method.to_owned(),
                // (A call that runs a closure is held where it is named, not over its closure.)
                span: if acq.op.runs_closure() {
                    Span::new(e.span.file, e.span.lo, method_span.hi)
                } else {
                    e.span
                },
                method_span,
                closures: self.closures(),
                used_by: None,
                args: args.iter().map(|x| x.span).collect(),
                in_let: self.in_let,
            });
        }
        // `m.lock().unwrap().contains_key(&k)`: remember what the guard was used for.
        if !PASS_THROUGH_METHODS.contains(&method)
            && let Some(acq_span) = guard_source(recv)
            && let Some(a) = self.facts.acquisitions.iter_mut().rev().find(|a| a.span == acq_span)
            && a.used_by.is_none()
        {
            a.used_by = Some((method.to_owned(), e.span, args.iter().map(|x| x.span).collect()));
        }
        // Lock acquisitions, and anything that may be hand-rolled synchronization (a lock-named
        // call on a value of unknown type, a compare-and-swap).
        if (crate::catalog::is_lock_method(method)
            && matches!(recv_inner, SemTy::Lock { .. } | SemTy::Unknown | SemTy::Dyn(_)))
            || method.starts_with("compare_exchange")
            || method == "compare_and_swap"
        {
            self.facts.locks.push(e.span);
        }
        if let Some((callee, through_trait)) = resolved {
            let recv_place = self.place_of(recv).map(|(p, _)| p);
            let closure_args = self.closure_args(callee, args, 1);
            let args = args.iter().map(|a| self.arg_place(a)).collect();
            self.facts.calls.push(Call {
                callee,
                expr: e.id,
                span: e.span,
                closures: self.closures(),
                recv: recv_place,
                args,
                closure_args,
                through_trait,
            });
        }
        self.store_call(recv, method, args);
        // A map write.
        if MAP_WRITE_METHODS.contains(&method)
            && recv_inner.is_map()
            && let Some((place, via, root_expr)) = self.place_root(recv)
        {
            let method_span = match &e.kind {
                ExprKind::MethodCall { method_span, .. } => *method_span,
                _ => e.span,
            };
            self.facts.writes.push(Write {
                place,
                root_expr,
                span: e.span,
                method_span,
                method: method.to_owned(),
                closures: self.closures(),
                via,
                accessor: self.accessor_of(recv),
            });
        }
    }

    fn call(&mut self, e: &Expr, func: &Expr, args: &[Expr]) {
        let ExprKind::Path(names) = &func.kind else {
            self.expr(func);
            for a in args {
                self.expr(a);
            }
            // `(sub.callback)(e)`, `(h.value())(e)`.
            self.stored_call(e, func);
            return;
        };
        if names.len() == 1 {
            // `h(e)`, `h` taken from a handler table.
            self.stored_call(e, func);
        }
        let local = names.len() == 1 && self.lookup(&names[0]).is_some();
        if local
            && let Some(b) = self.lookup(&names[0])
            && let Some(kind) = self.spawned_here()
        {
            // `thread::spawn(move || job())`: the parameter `job` runs in the spawned thread.
            self.param_spawned(b, kind);
        }
        if local
            && self.closure_stack.iter().all(|c| self.facts.sync_closures.contains(c))
            && let Some(b) = self.lookup(&names[0])
            && let Some(pos) = self.facts.param_pos(b)
        {
            // `writer(&mut self.0.write())`: a parameter called during this call (also inside
            // a closure that runs during it: `self.write(move |s| writer(&mut s.memory))`).
            self.facts.param_calls.push((e.id, pos));
        }
        if local
            && let Some(b) = self.lookup(&names[0])
            && let Some(&c) = self.facts.closure_bindings.get(&b)
        {
            self.facts.closure_calls.push(ClosureCall {
                closure: c,
                expr: e.id,
                span: e.span,
                closures: self.closures(),
            });
        }
        let callee = if local {
            None
        } else {
            self.ix.fn_by_path(self.file, names, self.self_ty.as_ref())
        };
        let spawn = if local || callee.is_some() {
            None
        } else {
            self.spawner(names)
        };
        if !local
            && callee.is_none()
            && names.last().is_some_and(|n| n == crate::catalog::BLOCK_ON)
            && let [fut] = args
        {
            self.block_on(e, fut);
        }
        if let Some(c) = callee {
            // A spawn helper of the package (arguments count `self` when it has one).
            self.helper_spawns(c, e, args, 0);
            self.runner_closures(c, args, 0);
        }
        if !local
            && callee.is_none()
            && names
                .last()
                .is_some_and(|n| crate::catalog::IMMEDIATE_CLOSURE_FNS.contains(&n.as_str()))
        {
            // `catch_unwind(AssertUnwindSafe(|| ..))`: the closure runs here, now.
            for a in args {
                let c = unwrap_closure(a);
                if matches!(c.kind, ExprKind::Closure(_)) {
                    self.facts.sync_closures.insert(c.id);
                }
            }
        }
        match spawn {
            Some(Spawner::Spawn(kind)) => {
                if let Some(a) = args.first() {
                    self.register_spawn(kind, e, a, None);
                }
            }
            Some(Spawner::Join) => {
                // Both closures finish before `join` returns: it is a scope of its own.
                for a in args.iter().take(2) {
                    self.register_spawn(SpawnKind::Rayon, e, a, Some(e.id));
                }
            }
            Some(Spawner::Scope) => {
                if let Some(c) = args.iter().find(|a| matches!(peel(a).kind, ExprKind::Closure(_))) {
                    self.closure_param_tys
                        .insert(peel(c).id, vec![SemTy::ScopeHandle(e.id)]);
                    // The scope's own closure runs on this thread, before `scope` returns.
                    self.facts.sync_closures.insert(peel(c).id);
                }
            }
            None => {}
        }
        self.expr(func);
        let iterish = names.last().is_some_and(|n| n == "for_each" || n == "map");
        for a in args {
            if iterish && matches!(peel(a).kind, ExprKind::Closure(_)) {
                self.repeat.push(a.span.lo);
                self.expr(a);
                self.repeat.pop();
            } else {
                self.expr(a);
            }
        }
        if matches!(spawn, Some(Spawner::Scope | Spawner::Join)) {
            self.facts.scope_ends.insert(e.id, e.span.hi);
        }
        if let Some(c) = callee {
            let closure_args = self.closure_args(c, args, 0);
            let args = args.iter().map(|a| self.arg_place(a)).collect();
            self.facts.calls.push(Call {
                callee: c,
                expr: e.id,
                span: e.span,
                closures: self.closures(),
                recv: None,
                args,
                closure_args,
                through_trait: None,
            });
        }
        // `Arc::make_mut(&mut a).insert(..)` is handled as a place; nothing else to record here.
    }

    /// `name!(..)` where a `macro_rules! name` of this file (or the package's only one) reads
    /// as statements or an expression (lowered as a function named `name!`, see
    /// `lower::macro_rules`, and `ItemIndex::macro_fn`): a call of that
    /// function, without arguments (its metavariables are placeholders; what the macro does
    /// with its arguments is unknown, and they count as unknown uses).
    fn macro_rules_call(&mut self, e: &Expr, path: &[String]) {
        let [name] = path else { return };
        let Some(callee) = self.ix.macro_fn(self.file, name) else {
            return;
        };
        self.facts.calls.push(Call {
            callee,
            expr: e.id,
            span: e.span,
            closures: self.closures(),
            recv: None,
            args: Vec::new(),
            closure_args: Vec::new(),
            through_trait: None,
        });
    }
}

#[derive(Default)]
struct Link {
    closure: Option<u32>,
    identity: Option<u32>,
    shared_clone: Option<Span>,
    shared_clone_of: Option<Place>,
    clone_of: Option<(Place, Span)>,
    alias: Option<(Place, Via)>,
}

/// A closure argument through references and the wrappers of
/// [`crate::catalog::CLOSURE_WRAPPERS`] (`AssertUnwindSafe(|| ..)`).
pub(crate) fn unwrap_closure(e: &Expr) -> &Expr {
    let e = peel(e);
    match &e.kind {
        ExprKind::Call { func, args } if args.len() == 1 => match &func.kind {
            ExprKind::Path(p)
                if p.last()
                    .is_some_and(|n| crate::catalog::CLOSURE_WRAPPERS.contains(&n.as_str())) =>
            {
                unwrap_closure(&args[0])
            }
            _ => e,
        },
        _ => e,
    }
}

/// Strips parentheses-like wrappers the IR already removed; kept for `&closure` arguments.
pub(super) fn peel(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Ref { expr, .. } => peel(expr),
        _ => e,
    }
}

/// `x.clone()`, `Arc::clone(&x)`, `Rc::clone(&x)`, `(*x).clone()`, `x.to_owned()`: the source.
fn clone_source(e: &Expr) -> Option<&Expr> {
    match &e.kind {
        ExprKind::MethodCall { recv, method, args, .. }
            if args.is_empty() && (method == "clone" || method == "to_owned") =>
        {
            Some(recv)
        }
        ExprKind::Call { func, args } if args.len() == 1 => match &func.kind {
            ExprKind::Path(names)
                if names.len() >= 2
                    && names.last().is_some_and(|n| n == "clone")
                    && matches!(
                        names[names.len() - 2].as_str(),
                        "Arc" | "Rc" | "HashMap" | "BTreeMap" | "Clone"
                    ) =>
            {
                Some(peel(&args[0]))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Does a block end by leaving (`return`, `break`, `continue`, or a panicking macro)?
fn diverges(b: &Block) -> bool {
    match b.stmts.last() {
        Some(Stmt::Expr { expr, .. }) => match &expr.kind {
            ExprKind::Return(_) | ExprKind::Break(_) | ExprKind::Continue => true,
            ExprKind::Macro { path, .. } => path
                .last()
                .is_some_and(|n| matches!(n.as_str(), "panic" | "unreachable" | "bail" | "todo")),
            _ => false,
        },
        _ => false,
    }
}

/// The span of the guard-producing call a receiver chain starts from
/// (`m.lock().unwrap()` → `m.lock()`), looking through pass-through methods, `?` and `.await`.
fn guard_source(e: &Expr) -> Option<Span> {
    match &e.kind {
        ExprKind::MethodCall { recv, method, .. } if PASS_THROUGH_METHODS.contains(&method.as_str()) => {
            guard_source(recv)
        }
        ExprKind::MethodCall { .. } => Some(e.span),
        ExprKind::Try(x) | ExprKind::Await(x) => guard_source(x),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lower::parse_and_lower;

    fn facts(src: &str, f: &str) -> (ItemIndex, BodyFacts) {
        let ix = ItemIndex::build(vec![Some(parse_and_lower(0, src).unwrap())]);
        let id = ix.fns.iter().position(|x| x.def.name == f).unwrap() as u32;
        let b = Walker::analyze(&ix, id);
        (ix, b)
    }

    fn binding<'a>(b: &'a BodyFacts, name: &str) -> &'a Binding {
        b.bindings.iter().find(|x| x.name == name).unwrap()
    }

    /// The text of each absent branch's condition and of the branch's first line.
    fn absent(src: &str, b: &BodyFacts) -> Vec<(String, String)> {
        b.absent_branches
            .iter()
            .map(|(c, x)| {
                let first = src[x.range()].trim().lines().next().unwrap_or("").trim().to_owned();
                (src[c.range()].to_owned(), first)
            })
            .collect()
    }

    #[test]
    fn absence_through_lets_and_loops() {
        let src = "fn f(m: &M, k: u32) {\n\
             let missing = !m.contains_key(&k); if missing { a(); }\n\
             let known = m.contains_key(&k); if !known { b(); } else { c(); }\n\
             let mut id = k; while m.contains_key(&id) { id += 1; }\n\
             d(id);\n\
             while m.contains_key(&id) { if id > 9 { break; } id += 1; }\n\
             while !m.contains_key(&k) { e(); }\n\
             if missing && known { g(); } else { h(); } }";
        let (_, b) = facts(src, "f");
        assert_eq!(
            absent(src, &b),
            [
                ("missing", "{ a(); }"),
                ("!known", "{ b(); }"),
                ("m.contains_key(&id)", "d(id);"),
                ("!m.contains_key(&k)", "{ e(); }"),
            ]
            .map(|(c, x)| (c.to_owned(), x.to_owned()))
        );
    }

    #[test]
    fn waits_on_condvars_barriers_and_futures() {
        let (_, b) = facts(
            "use std::sync::{Arc, Barrier}; fn f(pair: &P, rt: &R) {\n\
             let (lock, cvar) = &*pair; let mut g = lock.lock().unwrap(); g = cvar.wait(g).unwrap();\n\
             let bar = Arc::new(Barrier::new(2)); let b2 = Arc::clone(&bar); bar.wait(); b2.wait();\n\
             let mut child = spawn_child(); child.wait(); cvar.wait_while(other, |x| *x);\n\
             futures::executor::block_on(async { 1 }); rt.block_on(make()); cvar.notify_one(); }",
            "f",
        );
        let kinds: Vec<WaitFor> = b.blocking_waits.iter().map(|w| w.waits_for).collect();
        assert!(
            matches!(
                kinds.as_slice(),
                [WaitFor::Notify, WaitFor::Barrier(x), WaitFor::Barrier(y), WaitFor::Future(_)] if x == y
            ),
            "{kinds:?}"
        );
        assert_eq!(b.notifies.len(), 1);
    }

    #[test]
    fn arc_clones_alias_map_clones_copy() {
        let (_, b) = facts(
            "use std::sync::{Arc, Mutex}; use std::collections::HashMap;\n\
             fn f() { let a = Arc::new(Mutex::new(HashMap::new())); let a2 = Arc::clone(&a); let a3 = a.clone();\n\
             let m: HashMap<u8, u8> = HashMap::new(); let m2 = m.clone(); }",
            "f",
        );
        let a = binding(&b, "a");
        assert!(a.ty.contains_lock());
        assert_eq!(binding(&b, "a2").identity, binding(&b, "a").identity);
        assert_eq!(binding(&b, "a3").identity, binding(&b, "a").identity);
        let m2 = binding(&b, "m2");
        assert_ne!(m2.identity, binding(&b, "m").identity);
        assert!(m2.clone_of.is_some());
    }

    #[test]
    fn writes_through_statics_cells_and_pointers() {
        let src = "use std::collections::HashMap; use std::cell::UnsafeCell;\n\
             static mut M: Option<HashMap<u8, u8>> = None;\n\
             struct S { m: UnsafeCell<HashMap<u8, u8>> }\n\
             impl S { fn put(&self) { unsafe { (*self.m.get()).insert(1, 1); } } }\n\
             fn f() { unsafe { M.as_mut().unwrap().insert(1, 2); let r = M.as_mut().unwrap(); r.remove(&1); }\n\
             let mut local = HashMap::new(); let p = &mut local as *mut HashMap<u8, u8>; unsafe { (*p).insert(3, 3); } }";
        let (_, b) = facts(src, "f");
        let roots: Vec<_> = b
            .writes
            .iter()
            .map(|w| (w.method.as_str(), w.place.root, w.via))
            .collect();
        assert_eq!(roots[0], ("insert", Root::Static(0), Via::Direct));
        assert_eq!(roots[1], ("remove", Root::Static(0), Via::Direct));
        assert!(matches!(roots[2], ("insert", Root::Local(_), Via::RawPtr)));
        let (_, b) = facts(src, "put");
        assert_eq!(b.writes.len(), 1);
        assert_eq!(
            b.writes[0].place,
            Place {
                root: Root::SelfParam,
                fields: vec!["m".into()]
            }
        );
        assert_eq!(b.writes[0].via, Via::UnsafeCell);
    }

    #[test]
    fn spawn_sites_are_found() {
        let src = "use std::thread; use rayon::prelude::*;\n\
             fn worker() {}\n\
             fn f(v: Vec<u8>) {\n\
               thread::spawn(move || {});\n\
               let job = move || {}; std::thread::spawn(job);\n\
               thread::spawn(worker);\n\
               thread::scope(|s| { for _ in 0..2 { s.spawn(|| {}); } });\n\
               v.par_iter().for_each(|x| {});\n\
               tokio::spawn(async move {});\n\
               thread::Builder::new().name(\"x\".into()).spawn(|| {}).unwrap();\n\
               rayon::join(|| {}, || {});\n\
             }";
        let (_, b) = facts(src, "f");
        let kinds: Vec<_> = b
            .spawns
            .iter()
            .map(|s| (s.kind, s.repeated, s.scope.is_some()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (SpawnKind::Thread, false, false),
                (SpawnKind::Thread, false, false),
                (SpawnKind::Thread, false, false),
                (SpawnKind::Scoped, true, true),
                (SpawnKind::Parallel, false, false),
                (SpawnKind::Task, false, false),
                (SpawnKind::Thread, false, false),
                (SpawnKind::Rayon, false, true),
                (SpawnKind::Rayon, false, true),
            ]
        );
        assert!(matches!(b.spawns[2].body, SpawnBody::Fn(_)));
    }

    #[test]
    fn shadowing_and_closure_params_are_scoped() {
        let src = "use std::collections::HashMap;\n\
             fn f() { let m = HashMap::new(); let g = |m: u8| m; { let m = 1; m; } m; }";
        let (_, b) = facts(src, "f");
        let outer = b.bindings.iter().position(|x| x.name == "m").unwrap() as u32;
        let uses: Vec<_> = b.mentions.iter().filter(|m| m.binding == outer).collect();
        assert_eq!(uses.len(), 1);
        assert!(b.declared_outside(outer, *b.closures.keys().next().unwrap()));
    }
}

#[cfg(test)]
mod resolution_tests {
    use super::*;
    use crate::model::lower::parse_and_lower;

    #[test]
    fn std_paths_do_not_resolve_to_local_namesakes() {
        let src = "use std::sync::Arc; use std::collections::HashMap; use std::thread;\n\
            pub fn make_mut(shared: Arc<HashMap<String, u32>>) { let mut mine = Arc::clone(&shared);\n\
            thread::spawn(move || { Arc::make_mut(&mut mine).insert(\"x\".into(), 1); }); }";
        let ix = ItemIndex::build(vec![Some(parse_and_lower(0, src).unwrap())]);
        let b = Walker::analyze(&ix, 0);
        assert!(
            b.bindings
                .iter()
                .find(|x| x.name == "mine")
                .unwrap()
                .shared_clone
                .is_some()
        );
        assert_eq!(b.writes.len(), 1, "{:?}", b.writes);
        assert_eq!(b.writes[0].via, Via::MakeMut);
        assert!(b.calls.is_empty(), "`Arc::make_mut` is not the local `make_mut`");
    }
}
