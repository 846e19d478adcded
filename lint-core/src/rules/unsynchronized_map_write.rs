use crate::catalog::{Interest, Wrap};
use std::collections::HashSet;

use crate::model::body::{BodyFacts, Root, Via, Write};
use crate::model::ir::{SelfKind, StaticKind};
use crate::model::types::SemTy;
use crate::model::{Function, Model};
use crate::rules::helpers::{Finding, Reporter, place_name, spawn_noun, write_span};
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// Finds maps that several threads can reach and that are written without any
    /// synchronization, in code that compiles because of `unsafe`:
    /// - a `static mut` map (also `Option<map>`, `MaybeUninit<map>`, a raw pointer to one) written
    ///   inside a spawned closure or in a function reachable from one;
    /// - a type with a hand-written `unsafe impl Sync` whose `&self` methods write a map held in
    ///   an `UnsafeCell`, behind a raw pointer, or in a `RefCell` (also `Rc<RefCell<..>>`: a
    ///   `!Sync` wrapper declared `Sync`), with no lock taken;
    /// - a raw `*mut` map pointer (often in a `Copy` wrapper with `unsafe impl Send`) captured by
    ///   spawned or rayon closures and written through;
    /// - in both, writes through an accessor that hands out `&mut` to the map from `&self`
    ///   without a lock (`unsafe { &mut *self.table.get() }` over an `UnsafeCell`,
    ///   `unsafe { &mut *self.table }` over a `*mut` field): each call is a write site, and the
    ///   accessor is labelled.
    ///
    /// ## Why is this bad?
    /// Two threads writing a `HashMap` at once is a data race: undefined behaviour that corrupts
    /// the table, loses entries, or crashes far from the cause. This is the Rust face of Go's
    /// `fatal error: concurrent map writes`, except nothing stops the program.
    ///
    /// ## Example
    /// ```rust,ignore
    /// static mut SEEN: Option<HashMap<u64, String>> = None;
    ///
    /// fn record(id: u64, name: String) {
    ///     unsafe { SEEN.as_mut().unwrap().insert(id, name); }
    /// }
    ///
    /// fn main() {
    ///     unsafe { SEEN = Some(HashMap::new()); }
    ///     let workers: Vec<_> = (0..4).map(|i| thread::spawn(move || record(i, i.to_string()))).collect();
    /// }
    /// ```
    /// Use instead:
    /// ```rust,ignore
    /// static SEEN: LazyLock<maplint_maps::LockedMap<u64, String>> = LazyLock::new(LockedMap::new);
    ///
    /// fn record(id: u64, name: String) {
    ///     SEEN.insert(id, name);
    /// }
    /// ```
    ///
    /// ## Known problems
    /// - Writes are found only where the model sees both the write and a spawn in this package:
    ///   a `pub` function of a library that writes a `static mut` and is called from threads by
    ///   another crate is not reported.
    /// - Calls through trait objects, function pointers and generic callbacks are not followed.
    /// - A type that is only `unsafe impl Send` (not `Sync`) is not checked.
    /// - An `&self` method that takes any lock, or uses compare-and-swap, is assumed to
    ///   synchronize correctly.
    /// - A type declared `Sync` is taken at its word: the finding does not ask whether a spawn
    ///   in this package reaches it (a library's `Sync` type is shared by its users). It is
    ///   reported at each unsynchronized write, with the `unsafe impl` as a label, not once at
    ///   the impl.
    /// - An accessor is recognized only when its whole body is that one expression (`&mut`
    ///   of the cell's content or of the dereferenced pointer field); one that checks or logs
    ///   first, or returns the view inside an `Option`, is not followed.
    /// - Pointers handed to a single spawned thread are reported only when the pointee is used
    ///   again before the thread is joined, or the spawn runs more than once.
    pub struct UnsynchronizedMapWrite {
        name: "unsynchronized_map_write",
        level: Deny,
        summary: "a map shared between threads is written without synchronization",
        fix: None,
        since: "0.1.0",
        interests: &[Interest::Maps, Interest::Wrapper(Wrap::UnsafeCell)],
        requires: UNSAFE_SHARING,
    }
}

/// A spawn (for `static mut` maps and raw pointers), or `Sync` (for `unsafe impl Sync`).
const UNSAFE_SHARING: crate::rules::Requires = crate::rules::Requires {
    spawn: true,
    unsafe_impl_of: &["Sync"],
};

const HELP_STATIC: &str =
    "replace the `static mut` with a `static` `LazyLock<Mutex<HashMap<..>>>` and lock it for every access";
const NOTE_TYPES: &str = "`maplint_maps::LockedMap` and `maplint_maps::ShardedMap` lock inside every call, so an unsynchronized write cannot be written with them";

impl Rule for UnsynchronizedMapWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check_fn(&self, model: &Model, func: Function<'_>, out: &mut Reporter<'_>) {
        let (f, body) = (func.id, func.body);
        let mut seen_statics = HashSet::new();
        for w in &body.writes {
            match w.place.root {
                Root::Static(s) => {
                    if !seen_statics.contains(&s) && check_static(model, f, body, w, s, out) {
                        seen_statics.insert(s);
                    }
                }
                Root::SelfParam => check_sync_impl(model, f, body, w, out),
                Root::Local(b) if w.via == Via::RawPtr => check_raw_pointer(model, body, w, b, out),
                Root::Local(_) => {}
            }
        }
    }
}

/// Reports a write to a `static mut` map from spawned code; true when reported.
fn check_static(model: &Model, f: u32, body: &BodyFacts, w: &Write, s: u32, out: &mut Reporter<'_>) -> bool {
    let st = &model.items.statics[s as usize];
    if st.kind != StaticKind::Mut {
        return false;
    }
    let Some(origin) = model.spawn_context(f, &w.closures) else {
        return false;
    };
    let name = place_name(model, body, &w.place);
    let fn_name = &model.items.fns[f as usize].def.name;
    let in_closure = body.enclosing_spawn(&w.closures).is_some();
    let where_ = if in_closure {
        "inside a spawned closure".to_owned()
    } else {
        format!("in `{fn_name}`, which runs on spawned threads")
    };
    out.report(
        write_span(w),
        format!("`static mut {}` is written without synchronization {where_}", st.name),
    )
    .primary_label(format!("unsynchronized write to `{name}`"))
    .label(
        origin.span,
        "spawned here: other threads can write the map at the same time",
    )
    .label(st.name_span, "declared `static mut` here")
    .help(HELP_STATIC)
    .note(NOTE_TYPES)
    .emit();
    true
}

fn check_sync_impl(model: &Model, f: u32, body: &BodyFacts, w: &Write, out: &mut Reporter<'_>) {
    if !matches!(w.via, Via::UnsafeCell | Via::RawPtr | Via::RefCell) || !body.locks.is_empty() {
        return;
    }
    let info = &model.items.fns[f as usize];
    if info.def.self_kind != Some(SelfKind::Ref) || info.def.is_unsafe {
        return;
    }
    let Some(impl_id) = info.impl_id else { return };
    let SemTy::Adt { id, .. } = &model.items.impls[impl_id as usize].self_ty else {
        return;
    };
    let Some(sync_impl) = model.items.impls.iter().find(|i| {
        i.is_unsafe
            && i.trait_name.as_deref() == Some("Sync")
            && matches!(&i.self_ty, SemTy::Adt { id: x, .. } if x == id)
    }) else {
        return;
    };
    let ty_name = &model.items.adts[*id as usize].name;
    let name = place_name(model, body, &w.place);
    let finding = if w.via == Via::RefCell {
        // A `!Sync` wrapper declared `Sync`: the race is on the `RefCell`'s borrow flag (and an
        // `Rc`'s count) before it reaches the map.
        out.report(
            write_span(w),
            format!("`{name}` is borrowed mutably through a `RefCell` in `&self`, but `{ty_name}` is shared between threads"),
        )
        .primary_label("unsynchronized `RefCell` borrow and write")
        .help(format!(
            "replace the `RefCell` with a `Mutex` or `RwLock` inside `{ty_name}` (and an `Rc` around it with an `Arc`), and lock it in `{}`",
            info.def.name
        ))
        .note("`RefCell` checks its borrows with a plain counter: two threads can both pass `borrow_mut` and write the map at once")
    } else {
        out.report(
            write_span(w),
            format!("`{name}` is written through `&self` without a lock, but `{ty_name}` is shared between threads"),
        )
        .primary_label("unsynchronized write")
        .help(format!(
            "hold the map in a `Mutex` or `RwLock` inside `{ty_name}` and lock it in `{}`",
            info.def.name
        ))
    };
    with_accessor(model, w, finding)
        .label(
            sync_impl.span,
            format!(
                "`unsafe impl Sync` lets several threads call `{}` at once",
                info.def.name
            ),
        )
        .note(NOTE_TYPES)
        .emit();
}

/// Labels the accessor a write reaches its map through (`self.table().insert(..)`).
fn with_accessor<'a, 'r>(model: &Model, w: &Write, finding: Finding<'a, 'r>) -> Finding<'a, 'r> {
    match w.accessor {
        Some(a) => {
            let def = &model.items.fns[a as usize].def;
            let how = if w.via == Via::UnsafeCell {
                "the `UnsafeCell`"
            } else {
                "the raw pointer"
            };
            finding.label(
                def.name_span,
                format!("`{}` hands out `&mut` to the map through {how}, with no lock", def.name),
            )
        }
        None => finding,
    }
}

fn check_raw_pointer(model: &Model, body: &BodyFacts, w: &Write, b: u32, out: &mut Reporter<'_>) {
    let Some((_, spawn, other)) = body.racing_use(b, &w.place.fields, &w.closures) else {
        return;
    };
    let name = place_name(model, body, &w.place);
    let mut finding = out
        .report(
            write_span(w),
            format!(
                "the map behind `{name}` is written through a raw pointer from {}",
                spawn_noun(spawn.kind)
            ),
        )
        .primary_label("unsynchronized write through a raw pointer")
        .label(
            spawn.span,
            if spawn.repeated || spawn.kind == crate::model::body::SpawnKind::Parallel {
                "this runs on several threads at once"
            } else {
                "spawned here"
            },
        );
    if other != spawn.span {
        finding = finding.label(other, "the map is also used here while the thread runs");
    }
    with_accessor(model, w, finding)
        .help("share the map as `Arc<Mutex<HashMap<..>>>` instead of a raw pointer, or collect per-thread results and merge them")
        .note("`maplint_maps::ShardedMap` lets many threads insert at once without raw pointers or `unsafe`")
        .emit();
}
