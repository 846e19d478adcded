use crate::catalog::Interest;
use crate::model::locks::LockEvent;
use crate::model::locks::{AcqOp, LockMode, lock_lib};
use crate::model::types::LockLib;
use crate::model::{Function, Model};
use crate::rules::conflicts::{Words, report_conflicts};
use crate::rules::helpers::Reporter;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds a lock around a map that is acquired again on the same thread while a guard of
    /// it is still alive: `Mutex` then `Mutex`, a write guard then anything, and two read
    /// guards of a writer-preferring `RwLock` (std, `parking_lot` `read()`, tokio, async-lock).
    /// The first guard is followed as a value: a `let` binding, a temporary in a `match`,
    /// `if let` or `while let` scrutinee (following the edition's temporary rules), a `for`
    /// loop's iterator, a guard returned by a helper (inside an `Option`, a tuple or a struct
    /// of its own), moved into a struct, a `Vec` or a `move` closure, or re-taken in every
    /// iteration of a loop, or held by a closure-taking helper of the crate while it runs the
    /// closure written in its call (`self.write(|state| ..)`, egui's `Context` style); the
    /// second acquisition can happen in a function of the same crate (through any depth of
    /// calls, a path call `Self::helper(self, ..)`, and a trait the crate implements once).
    /// A lock taken through each element of a collection in turn (`for s in self.shards.iter()
    /// { s.write() }`, `self.shards.iter().map(|s| s.read().len())`) is every element's, so
    /// holding one shard's guard while calling a `len` that reads every shard is reported. A set is a
    /// map here, and so is a map behind an `Arc` inside the lock.
    ///
    /// ## Why is this bad?
    /// `std`, `parking_lot`, spin and async mutexes are not re-entrant: the second `lock()` waits
    /// for the first guard, which is only dropped after it returns. The thread deadlocks (std
    /// may also panic), with no contention needed. A read lock taken twice deadlocks as soon
    /// as a writer queues between the two reads.
    ///
    /// ## Example
    /// ```rust,ignore
    /// match self.peers.lock().unwrap().get(&id) {
    ///     Some(p) => p.touch(),
    ///     None => { self.peers.lock().unwrap().insert(id, Peer::new()); }
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// let mut peers = self.peers.lock().unwrap();
    /// match peers.get(&id) {
    ///     Some(p) => p.touch(),
    ///     None => { peers.insert(id, Peer::new()); }
    /// }
    /// ```
    /// or `maplint_maps::LockedMap::update` / `get_or_insert_with`, which run the whole
    /// operation under one lock and panic instead of deadlocking when called re-entrantly.
    ///
    /// ## Fix safety
    /// Two maybe-incorrect suggestions (`--unsafe-fixes`, editor quick fixes). When the second
    /// lock is taken where a `match`/`if let` lookup found the key absent (`None =>`, `else`)
    /// and both are direct lock calls, the fix binds one guard before the statement and makes
    /// both calls on it (`let mut peers = self.peers.lock().unwrap(); match peers.get_mut(&id)
    /// { .. None => { peers.insert(..) } }`): the lookup and the change stay one step. It is
    /// offered only when nothing else locks the same lock or awaits up to the end of the block.
    /// Otherwise, when the first guard belongs to a scrutinee's `get`, the fix copies the value
    /// out before the statement (`let found = m.lock().unwrap().get(&k).cloned();` and
    /// `match found.as_ref()`, so the arms see the same `Option<&V>`): no deadlock, but the
    /// lookup and what follows become two steps another thread can come between, and the
    /// value must be `Clone`.
    ///
    /// ## Known problems
    /// - In a `macro_rules!` body, each rule is read once (one pass of each repetition): its
    ///   items, or its statements or expression as a function of their own (`name!`); a lock
    ///   named through a metavariable (`$map.lock()`, `static $name`) or through `self` (whose
    ///   type is the calling method's) is never followed. An invocation `name!(..)` of a macro of
    ///   one rule is a call of that function (its arguments are unknown uses) when the macro is in
    ///   the same file or is the package's only macro of that name; an invocation of a macro of
    ///   several rules, or of a name the package defines in several other files, is not followed.
    /// - Locks are identified by their access path, with `Arc` clones resolved to their object
    ///   and a field path that every struct literal of the package fills with the same `Arc` as
    ///   another (`Node { peers, gossip: Gossip::new(Arc::clone(&peers)) }`) resolved to the
    ///   shorter one; a getter (`fn peers(&self) -> &Mutex<..>`, or a free function of one
    ///   reference parameter) is the field it returns. A reference stored in a struct, or a
    ///   parameter that aliases `self`, is not recognized.
    /// - A call through a trait object or a generic bound resolves only when the package
    ///   defines the trait and implements it once (the finding names the implementation it
    ///   assumed); closures passed to unknown functions are assumed to run later.
    /// - Elements of a collection are told apart only as "each element in turn": an element
    ///   reached by index or lookup (`self.shards[i]`, `shards.get(i)`) is not followed, and a
    ///   loop that takes each element while it holds another loop's element of the same
    ///   collection is taken to come to the held one (a loop that skips it, `if j != i`, is
    ///   a false positive).
    /// - A closure-taking helper of the package (`fn write<R>(&self, f: impl FnOnce(&mut
    ///   State) -> R) -> R { f(&mut self.0.write()) }`) runs a closure written in its call
    ///   under the locks it certainly holds when it calls its parameter: in its body, or in a
    ///   closure that runs during a call, so a helper that hands its closure on to another
    ///   (`self.write(move |s| f(&mut s.memory))`) is one too, up to four levels. A closure
    ///   bound to a variable and then passed, a parameter whose type names no `Fn` trait (a
    ///   `fn` pointer, a type alias), and `f.call(..)`-style calls are not followed: there the
    ///   closure is assumed to run later, with nothing held.
    /// - The guard flow reports only guards that are alive on every path to the second
    ///   acquisition: a guard dropped on some paths only (`if c { drop(g) }`), or two different
    ///   guards joined from two branches of different locks, is silent.
    /// - A guard whose lock mode changes (`RwLockWriteGuard::downgrade`, `upgrade`) or that is
    ///   handed to a function the model cannot see (an external crate, a closure stored in a
    ///   field, a parameter whose type is not a lock guard type, like a generic `R: Deref`) is no
    ///   longer followed after that point. A guard moved into a guard-typed parameter of a
    ///   function of the package is followed there: held at that function's locks only while
    ///   it certainly still holds it.
    /// - Locks whose type the model cannot resolve (`Mutex` from an unknown crate, generic
    ///   wrappers) are not checked.
    /// - A stored closure (a handler in a table) is followed by the struct field it is stored
    ///   in and the field of the lock it takes (`Hub.listeners`), not by object: a handler of
    ///   one hub that locks another hub of the same type is taken for the same lock. What the
    ///   functions the closure calls take counts at the call, but not in the summary the
    ///   caller's own callers see; `(x.callback)(e)` on an element of a map's values is not
    ///   followed.
    pub struct MapLockReentry {
        name: "map_lock_reentry",
        level: Deny,
        summary: "a map's lock is acquired again while its guard is alive",
        fix: Sometimes,
        since: "0.1.0",
        interests: &[Interest::Locks],
        clippy: ["significant_drop_in_scrutinee"],
    }
}

/// Does taking `second` while `first` is held deadlock on the same lock?
fn deadlocks(first: LockMode, second: LockMode, lib: Option<LockLib>) -> bool {
    use LockMode::{Mutex, Read, ReadRecursive, UpgradableRead, Write};
    match (first, second) {
        (Mutex, Mutex)
        | (Write, Mutex | Read | Write | UpgradableRead | ReadRecursive)
        | (UpgradableRead, UpgradableRead) => true,
        // Writer-preferring read locks deadlock as soon as a writer waits between the reads.
        (Read | ReadRecursive, Read) => lib.is_some_and(LockLib::writer_preferring),
        _ => false,
    }
}

impl Rule for MapLockReentry {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let accept = |held, taken, h: &LockEvent| match (held, taken) {
            (AcqOp::Lock { mode: m1, .. }, AcqOp::Lock { mode: m2, .. }) => deadlocks(m1, m2, lock_lib(&h.lock_ty)),
            _ => false,
        };
        report_conflicts(model, func, out, accept, |c| Words {
            message: format!(
                "`{}` is locked again{} while its guard from line {} is still alive",
                c.name, c.how, c.line
            ),
            primary: "this waits for the guard above: the thread deadlocks".into(),
            held: "the first guard is taken here and is still alive".into(),
            help: "bind what you need from the first guard and drop it before locking again, or hold one guard for the whole operation",
            note: Some(
                "`maplint_maps::LockedMap::update` and `ShardedMap::update` run the whole operation under one lock, and calling the map again from inside panics instead of deadlocking",
            ),
        });
    }
}
