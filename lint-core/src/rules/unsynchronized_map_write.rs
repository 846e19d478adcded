use crate::catalog::{Interest, Wrap};
use std::collections::HashSet;

use crate::model::body::{BodyFacts, Root, Via, Write};
use crate::model::ir::{SelfKind, StaticKind};
use crate::model::types::SemTy;
use crate::model::{Function, Model, SpawnOrigin};
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
    ///   `!Sync` wrapper declared `Sync`), with no lock taken: reported once, at the impl, with
    ///   each method's write as a label (in a package that builds no library, only when one of
    ///   its spawns reaches a write: otherwise the type lives on the main thread);
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
    /// - In a package that builds a library, a type declared `Sync` is taken at its word: the
    ///   finding does not ask whether a spawn in this package reaches it (a library's `Sync` type
    ///   is shared by its users' threads, which no spawn of the library shows). In a package
    ///   that builds only binaries (cargo targets `bin`, `example`, `test`, `bench`; `--crate-root
    ///   main.rs`), it is reported only when the package's own threads can race it (a spawn
    ///   that runs several times reaches a write, two spawns reach writes, or one does while
    ///   code outside every spawn writes too): a wrapper written by one thread is silent, and a
    ///   framework that runs the package's handlers on its own worker threads (an `axum` router,
    ///   a callback a C library calls from its thread) is no spawn the model sees, so such a
    ///   wrapper there stays silent; so does one thread spawned once that writes while the main
    ///   thread only reads (reads are not counted). Loose files linted by path count as a
    ///   library.
    /// - The finding is reported once, at the `unsafe impl Sync`, with each unsynchronized write
    ///   (up to eight) as a label: an `// maplint: allow(..)` goes on the impl.
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

    fn check_file(&self, model: &Model, file: u32, out: &mut Reporter<'_>) {
        check_sync_impls(model, file, out);
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
                // (Reported once per type, at its `unsafe impl Sync`: `check_file`.)
                Root::SelfParam => {}
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

/// The unsynchronized writes of a type declared `Sync`: in its `&self` methods that take no
/// lock, a map written through `self` by way of an `UnsafeCell`, a raw pointer or a `RefCell`.
fn unsynchronized_writes(model: &Model, adt: u32) -> Vec<(u32, &Write)> {
    let mut out = Vec::new();
    for (f, info) in model.items.fns.iter().enumerate() {
        let Some(impl_id) = info.impl_id else { continue };
        if !matches!(&model.items.impls[impl_id as usize].self_ty, SemTy::Adt { id, .. } if *id == adt)
            || info.def.self_kind != Some(SelfKind::Ref)
            || info.def.is_unsafe
        {
            continue;
        }
        let body = &model.bodies[f];
        if !body.locks.is_empty() {
            continue;
        }
        out.extend(
            body.writes
                .iter()
                .filter(|w| {
                    w.place.root == Root::SelfParam && matches!(w.via, Via::UnsafeCell | Via::RawPtr | Via::RefCell)
                })
                .map(|w| (f as u32, w)),
        );
    }
    out
}

/// At most this many (method, map) writes are labelled in one finding; the others are counted
/// in a note.
const MAX_WRITE_LABELS: usize = 8;

/// Reports each `unsafe impl Sync` of this file whose type's `&self` methods write a map
/// without a lock: once, at the impl, with every write as a label.
fn check_sync_impls(model: &Model, file: u32, out: &mut Reporter<'_>) {
    for imp in &model.items.impls {
        if !imp.is_unsafe || imp.trait_name.as_deref() != Some("Sync") || imp.span.file != file {
            continue;
        }
        let SemTy::Adt { id, .. } = &imp.self_ty else { continue };
        let writes = unsynchronized_writes(model, *id);
        if writes.is_empty() {
            continue;
        }
        // The spawns of this package that reach a write. In a package that builds no library,
        // only its own threads can race the writes: a spawn that runs on several threads, two
        // spawns, or one spawn while code outside every spawn writes too. Otherwise the type
        // lives on one thread at a time.
        let mut origins: Vec<SpawnOrigin> = Vec::new();
        for &(f, w) in &writes {
            if let Some(o) = model.spawn_context(f, &w.closures)
                && !origins.iter().any(|p| p.span == o.span)
            {
                origins.push(o);
            }
        }
        let spawned = origins.first().copied();
        if model.binaries_only
            && !spawned.is_some_and(|origin| {
                origins.len() > 1 || model.spawn_repeats(origin) || {
                    let outside = model.run_outside_spawns();
                    writes.iter().any(|(f, _)| outside.contains(f))
                }
            })
        {
            continue;
        }
        let ty_name = &model.items.adts[*id as usize].name;
        let fn_name = |f: u32| &model.items.fns[f as usize].def.name;
        // One site per method and map: its first write.
        let mut sites: Vec<(u32, &Write, String)> = Vec::new();
        for &(f, w) in &writes {
            let name = place_name(model, &model.bodies[f as usize], &w.place);
            if !sites.iter().any(|(g, _, n)| *g == f && *n == name) {
                sites.push((f, w, name));
            }
        }
        let mut methods: Vec<&str> = Vec::new();
        for (f, ..) in &sites {
            if !methods.contains(&fn_name(*f).as_str()) {
                methods.push(fn_name(*f));
            }
        }
        let refcell = writes.iter().any(|(_, w)| w.via == Via::RefCell);
        let what = if writes.iter().all(|(_, w)| w.via == Via::RefCell) {
            "a map behind a `RefCell`"
        } else {
            "a map"
        };
        let who = match methods.as_slice() {
            [one] => format!("`{one}` can"),
            [a, b] => format!("`{a}` and `{b}` can"),
            [a, b, rest @ ..] => format!("`{a}`, `{b}` and {} more methods can", rest.len()),
            [] => unreachable!("a write has a method"),
        };
        let mut finding = out
            .report(
                imp.span,
                format!("`{ty_name}` is declared `Sync`, but {who} write {what} from `&self` without a lock"),
            )
            .primary_label(match methods.as_slice() {
                [one] => format!("lets several threads call `{one}` at once"),
                _ => "lets several threads call these methods at once".to_owned(),
            });
        let mut labelled = HashSet::new();
        for (f, w, name) in sites.iter().take(MAX_WRITE_LABELS) {
            let text = if w.via == Via::RefCell {
                format!(
                    "`{name}` borrowed mutably through its `RefCell` in `{}`, no lock",
                    fn_name(*f)
                )
            } else {
                format!("`{name}` written in `{}`, no lock", fn_name(*f))
            };
            finding = finding.label(write_span(w), text);
            if let Some(a) = w.accessor
                && labelled.insert(a)
            {
                finding = with_accessor(model, w, finding);
            }
        }
        if model.binaries_only
            && let Some(origin) = spawned
        {
            finding = finding.label(origin.span, "spawned here: this thread can write while another does");
        }
        if sites.len() > MAX_WRITE_LABELS {
            finding = finding.note(format!(
                "{} more methods or maps are written so; only the first {MAX_WRITE_LABELS} are shown",
                sites.len() - MAX_WRITE_LABELS
            ));
        }
        finding = if refcell {
            finding
                .help(format!(
                    "replace each `RefCell` with a `Mutex` or `RwLock` inside `{ty_name}` (and an `Rc` around one with an `Arc`), and lock it in every method that touches it"
                ))
                .note("`RefCell` checks its borrows with a plain counter: two threads can both pass `borrow_mut` and write the map at once")
        } else {
            finding.help(format!(
                "hold each map in a `Mutex` or `RwLock` inside `{ty_name}` and lock it in every method that touches it"
            ))
        };
        finding.note(NOTE_TYPES).emit();
    }
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
