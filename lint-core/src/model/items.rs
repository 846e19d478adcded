//! Crate-wide item facts: structs, aliases, statics, functions and impls from every file, and
//! name resolution through `use` renames, globs and `crate::` paths.

use std::collections::HashMap;

use super::ir::{
    Block, Expr, ExprKind, FileIr, FnDef, Generics, Item, ItemKind, MacroArgs, StaticKind, Stmt, Ty, TyPath,
};
use super::types::{LockKind, LockLib, MapKind, SemTy, Wrap, is_known_crate, known_type};
use crate::catalog::{NameMap, NameSet};
use crate::diagnostic::Span;
use crate::settings::{LockTypeKind, TypeConfig};

/// Imports of one file.
#[derive(Debug, Default)]
pub struct FileScope {
    /// Local name → full path.
    pub uses: NameMap<String, Vec<String>>,
    /// Glob-imported paths (`use dashmap::*` → `["dashmap"]`).
    pub globs: Vec<Vec<String>>,
}

#[derive(Debug)]
pub struct AdtDef {
    pub name: String,
    pub file: u32,
    pub generics: Vec<String>,
    pub fields: Vec<(String, Ty)>,
    pub span: Span,
}

#[derive(Debug)]
pub struct AliasDef {
    pub name: String,
    pub file: u32,
    pub generics: Vec<String>,
    pub ty: Ty,
}

#[derive(Debug)]
pub struct StaticDef {
    pub name: String,
    pub file: u32,
    pub kind: StaticKind,
    pub ty: SemTy,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Debug)]
pub struct ImplDef {
    pub file: u32,
    pub self_ty: SemTy,
    /// The generic parameters as types (by their bounds), for the methods' signatures.
    pub generic_tys: Vec<(String, SemTy)>,
    /// Last segment of the implemented trait (`Sync`), if any.
    pub trait_name: Option<String>,
    pub is_unsafe: bool,
    /// The `unsafe impl ... for T` header.
    pub span: Span,
    pub fns: Vec<u32>,
}

#[derive(Debug)]
pub struct FnInfo {
    pub def: FnDef,
    pub file: u32,
    pub impl_id: Option<u32>,
}

/// What a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Def {
    Adt(u32),
    Alias(u32),
    Static(u32),
    Fn(u32),
}

/// All item facts of the package.
#[derive(Debug, Default)]
pub struct ItemIndex {
    pub scopes: Vec<FileScope>,
    pub adts: Vec<AdtDef>,
    pub aliases: Vec<AliasDef>,
    pub statics: Vec<StaticDef>,
    pub impls: Vec<ImplDef>,
    pub fns: Vec<FnInfo>,
    names: NameMap<String, Vec<(u32, Def)>>,
    /// The items declared in function bodies, by name: seen only from their own file (standing
    /// for their enclosing body), never by a path from elsewhere.
    nested_names: NameMap<String, Vec<(u32, Def)>>,
    /// How deep in function bodies `collect` is.
    nesting: u32,
    /// (adt id, method name) → fn ids.
    methods: NameMap<(u32, String), Vec<u32>>,
    /// (trait name, method name) → the fn ids of the package's impls of it, and whether the
    /// trait has a default body for it. Only traits the package defines.
    trait_methods: NameMap<(String, String), (Vec<u32>, bool)>,
    /// Names of the traits the package defines.
    traits: NameSet<String>,
    /// For each struct: can a value of it hold an object shared with others (an `Arc`/`Rc`
    /// field, or a field of such a struct)? A generic field is not counted.
    adt_shares: Vec<bool>,
    /// The traits implemented exactly once in the whole package, as the lexer counted them in
    /// every file (`None`: count the parsed impls).
    pub single_impl_traits: Option<crate::lex::SymSet>,
    /// The `macro_rules!` the package defines once, counted by the lexer over every file
    /// (`None`: counted from the parsed files).
    pub macro_rules_once: Option<crate::lex::SymSet>,
    /// The module names of the package, from the lexer (`None`: not known, every path may
    /// name a module of the package).
    pub modules: Option<crate::lex::SymSet>,
    /// Spawn helpers: functions that hand a closure parameter to a spawn (`fn launch<F:
    /// FnOnce() + Send>(job: F) { thread::spawn(job); }`, or through another helper), with the
    /// parameter's position (`self` first) and the kind of spawn. Filled by the model from the
    /// bodies' `spawned_params`; a call of one with a closure there is a spawn.
    pub spawners: HashMap<u32, Vec<(usize, super::body::SpawnKind)>>,
    /// Closure runners: functions that call a parameter directly in their body (`fn write<R>(
    /// &self, f: impl FnOnce(&mut Inner) -> R) -> R { f(&mut self.0.write()) }`), with its
    /// positions (`self` first). Filled by the model from the bodies' `param_calls`; a closure
    /// passed there runs during the call, under what the runner holds when it calls it
    /// (`Summary::runs_param_under`).
    pub closure_runners: HashMap<u32, Vec<usize>>,
    /// User-configured types.
    pub config: TypeConfig,
    /// Raw static types, resolved after all items are known.
    static_tys: Vec<Ty>,
    impl_tys: Vec<(Ty, Generics)>,
}

const MAX_RESOLVE_DEPTH: u32 = 32;

fn generic_names(g: &Generics) -> Vec<String> {
    g.params.iter().map(|(n, _)| n.clone()).collect()
}

/// Generic parameters as types: a parameter with trait bounds is known by them.
#[must_use]
pub fn generic_subst(g: &Generics) -> Vec<(String, SemTy)> {
    g.params
        .iter()
        .map(|(n, bounds)| {
            let t = if bounds.is_empty() {
                SemTy::Unknown
            } else {
                dyn_of(bounds)
            };
            (n.clone(), t)
        })
        .collect()
}

/// A type known by its trait bounds.
fn dyn_of(bounds: &[TyPath]) -> SemTy {
    SemTy::Dyn(bounds.iter().filter_map(|b| b.last().map(|s| s.name.clone())).collect())
}

impl ItemIndex {
    #[must_use]
    pub fn build(files: Vec<Option<FileIr>>) -> ItemIndex {
        Self::build_with(files, &TypeConfig::default())
    }

    /// Builds the index with user-configured map, lock and spawner types.
    #[must_use]
    pub fn build_with(files: Vec<Option<FileIr>>, config: &TypeConfig) -> ItemIndex {
        let mut ix = ItemIndex {
            config: config.clone(),
            ..ItemIndex::default()
        };
        for (f, ir) in files.into_iter().enumerate() {
            ix.scopes.push(FileScope::default());
            if let Some(ir) = ir {
                ix.collect(f as u32, ir.items);
            }
        }
        ix.resolve_deferred();
        ix.adt_shares = ix.compute_adt_shares();
        ix
    }

    fn define(&mut self, name: &str, file: u32, def: Def) {
        let names = if self.nesting > 0 {
            &mut self.nested_names
        } else {
            &mut self.names
        };
        names.entry(name.to_owned()).or_default().push((file, def));
    }

    /// Collects the items declared in a function body.
    fn collect_nested(&mut self, file: u32, items: Vec<Item>) {
        self.nesting += 1;
        self.collect(file, items);
        self.nesting -= 1;
    }

    fn collect(&mut self, file: u32, items: Vec<Item>) {
        for item in items {
            match item.kind {
                ItemKind::Use(entries) => {
                    let scope = &mut self.scopes[file as usize];
                    for e in entries {
                        if e.alias == "*" {
                            scope.globs.push(e.path);
                        } else if e.alias != "_" {
                            scope.uses.insert(e.alias, e.path);
                        }
                    }
                }
                ItemKind::Struct { name, generics, fields } => {
                    let id = self.adts.len() as u32;
                    let fields = fields.into_iter().map(|f| (f.name, f.ty)).collect();
                    self.adts.push(AdtDef {
                        name: name.clone(),
                        file,
                        generics: generic_names(&generics),
                        fields,
                        span: item.name_span,
                    });
                    self.define(&name, file, Def::Adt(id));
                }
                ItemKind::Enum { name, generics, .. } => {
                    let id = self.adts.len() as u32;
                    self.adts.push(AdtDef {
                        name: name.clone(),
                        file,
                        generics: generic_names(&generics),
                        fields: Vec::new(),
                        span: item.name_span,
                    });
                    self.define(&name, file, Def::Adt(id));
                }
                ItemKind::TypeAlias { name, generics, ty } => {
                    let id = self.aliases.len() as u32;
                    self.aliases.push(AliasDef {
                        name: name.clone(),
                        file,
                        generics: generic_names(&generics),
                        ty,
                    });
                    self.define(&name, file, Def::Alias(id));
                }
                ItemKind::Static { name, kind, ty, .. } => {
                    let id = self.statics.len() as u32;
                    self.statics.push(StaticDef {
                        name: name.clone(),
                        file,
                        kind,
                        ty: SemTy::Unknown,
                        span: item.span,
                        name_span: item.name_span,
                    });
                    self.static_tys.push(ty);
                    self.define(&name, file, Def::Static(id));
                }
                // Lex-first planning leaves constants and static initializers out of parsing
                // because nothing here reads them (`lex::inert`, `LexItem::value`): reading one
                // means changing the planner too. The items of a `const _` block are read, as
                // items nested in a body (seen from their own file only).
                ItemKind::Const { items, .. } => self.collect_nested(file, items),
                // Default bodies are analyzed like any function. A trait method is never a call
                // the model resolves (it knows no receiver's trait), so they define no name.
                ItemKind::Trait { fns, name } => {
                    self.traits.insert(name.clone());
                    for def in &fns {
                        let entry = self.trait_methods.entry((name.clone(), def.name.clone())).or_default();
                        entry.1 |= def.body.is_some();
                    }
                    for def in fns.into_iter().filter(|d| d.body.is_some()) {
                        let nested = nested_items(&def);
                        self.fns.push(FnInfo {
                            def,
                            file,
                            impl_id: None,
                        });
                        self.collect_nested(file, nested);
                    }
                }
                ItemKind::Fn(def) => {
                    let nested = nested_items(&def);
                    let id = self.fns.len() as u32;
                    self.define(&def.name, file, Def::Fn(id));
                    self.fns.push(FnInfo {
                        def,
                        file,
                        impl_id: None,
                    });
                    self.collect_nested(file, nested);
                }
                ItemKind::Impl {
                    generics,
                    self_ty,
                    trait_path,
                    is_unsafe,
                    fns,
                } => {
                    let impl_id = self.impls.len() as u32;
                    let mut ids = Vec::new();
                    let mut nested = Vec::new();
                    for def in fns {
                        nested.extend(nested_items(&def));
                        ids.push(self.fns.len() as u32);
                        self.fns.push(FnInfo {
                            def,
                            file,
                            impl_id: Some(impl_id),
                        });
                    }
                    self.impls.push(ImplDef {
                        file,
                        self_ty: SemTy::Unknown,
                        generic_tys: Vec::new(),
                        trait_name: trait_path.as_ref().and_then(TyPath::last).map(|s| s.name.clone()),
                        is_unsafe,
                        span: item.span,
                        fns: ids,
                    });
                    self.impl_tys.push((self_ty, generics));
                    self.collect_nested(file, nested);
                }
                ItemKind::Mod { items: Some(items), .. } => self.collect(file, items),
                ItemKind::Mod { items: None, .. } => {}
            }
        }
    }

    /// Can a value of this struct hold a shared object (see `adt_shares`)?
    #[must_use]
    pub fn adt_shares(&self, adt: u32) -> bool {
        self.adt_shares.get(adt as usize).copied().unwrap_or(true)
    }

    fn compute_adt_shares(&self) -> Vec<bool> {
        fn shares(ty: &SemTy, adts: &[bool]) -> bool {
            match ty {
                SemTy::Wrapper {
                    wrap: Wrap::Arc | Wrap::Rc,
                    ..
                } => true,
                SemTy::Adt { id, .. } => adts.get(*id as usize).copied().unwrap_or(true),
                SemTy::Wrapper { inner, .. }
                | SemTy::Lock { inner, .. }
                | SemTy::Ref { inner, .. }
                | SemTy::Ptr { inner, .. }
                | SemTy::Vec(inner) => shares(inner, adts),
                SemTy::Tuple(ts) => ts.iter().any(|t| shares(t, adts)),
                _ => false,
            }
        }
        let tys: Vec<Vec<SemTy>> = (0..self.adts.len())
            .map(|id| {
                let adt = &self.adts[id];
                let ty = SemTy::Adt {
                    id: id as u32,
                    args: Vec::new(),
                };
                adt.fields.iter().map(|(n, _)| self.field_ty(&ty, n)).collect()
            })
            .collect();
        let mut out = vec![false; self.adts.len()];
        // To a fixpoint: a struct shares when one of its fields does.
        loop {
            let mut changed = false;
            for (id, fields) in tys.iter().enumerate() {
                if !out[id] && fields.iter().any(|t| shares(t, &out)) {
                    out[id] = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        out
    }

    fn resolve_deferred(&mut self) {
        let tys = std::mem::take(&mut self.static_tys);
        for (i, ty) in tys.iter().enumerate() {
            let file = self.statics[i].file;
            let mut sem = self.resolve_ty(ty, file, &[], None);
            if self.statics[i].kind == StaticKind::ThreadLocal {
                sem = SemTy::wrap(Wrap::LocalKey, sem);
            }
            self.statics[i].ty = sem;
        }
        let impl_tys = std::mem::take(&mut self.impl_tys);
        for (i, (ty, generics)) in impl_tys.iter().enumerate() {
            let subst = generic_subst(generics);
            let sem = self.resolve_ty(ty, self.impls[i].file, &subst, None);
            self.impls[i].generic_tys = subst;
            if let Some(t) = &self.impls[i].trait_name
                && self.traits.contains(t)
            {
                for &f in &self.impls[i].fns {
                    if let Some(entry) = self
                        .trait_methods
                        .get_mut(&(t.clone(), self.fns[f as usize].def.name.clone()))
                    {
                        entry.0.push(f);
                    }
                }
            }
            if let SemTy::Adt { id, .. } = sem {
                for &f in &self.impls[i].fns {
                    self.methods
                        .entry((id, self.fns[f as usize].def.name.clone()))
                        .or_default()
                        .push(f);
                }
            }
            self.impls[i].self_ty = sem;
        }
    }

    // ------------------------------------------------------------ name resolution

    /// Expands a written path through the file's imports. Returns the full path and whether it
    /// is known to be crate-local.
    fn expand<'a>(&'a self, file: u32, names: &'a [String]) -> (Vec<&'a str>, bool) {
        let Some(first) = names.first() else {
            return (Vec::new(), false);
        };
        let scope = &self.scopes[file as usize];
        let mut full: Vec<&str> = match scope.uses.get(first) {
            Some(p) if !matches!(first.as_str(), "crate" | "self" | "super" | "Self") => {
                p.iter().chain(&names[1..]).map(String::as_str).collect()
            }
            _ => names.iter().map(String::as_str).collect(),
        };
        let skip = full
            .iter()
            .take_while(|s| matches!(**s, "crate" | "self" | "super"))
            .count();
        full.drain(..skip);
        let local = skip > 0;
        if !local && full.len() == 1 && !scope.uses.contains_key(full[0]) && !self.names.contains_key(full[0]) {
            // A glob import of a known crate can bring a well-known name in.
            for g in &scope.globs {
                if g.first().is_some_and(|c| crate::catalog::crate_provides(c, full[0])) {
                    let p: Vec<&str> = g.iter().map(String::as_str).chain([full[0]]).collect();
                    if known_type(&p, Vec::new()).is_some() {
                        return (p, false);
                    }
                }
            }
        }
        (full, local)
    }

    /// The package's only definition named `name` of the wanted kind.
    fn unique_def(&self, name: &str, want: fn(Def) -> bool) -> Option<Def> {
        let mut it = self.names.get(name)?.iter().filter(|(_, d)| want(*d));
        let first = it.next()?;
        if it.next().is_some() { None } else { Some(first.1) }
    }

    /// A crate-local definition by its last path segment: the one in `file` if any, else the
    /// only one in the package.
    fn local_def(&self, file: u32, name: &str, want: fn(Def) -> bool) -> Option<Def> {
        let in_file = |names: &NameMap<String, Vec<(u32, Def)>>| {
            names
                .get(name)?
                .iter()
                .find(|(f, d)| *f == file && want(*d))
                .map(|(_, d)| *d)
        };
        if let Some(d) = in_file(&self.names).or_else(|| in_file(&self.nested_names)) {
            return Some(d);
        }
        let mut it = self.names.get(name)?.iter().filter(|(_, d)| want(*d));
        let first = it.next()?;
        if it.next().is_some() { None } else { Some(first.1) }
    }

    /// The function an invocation `name!(..)` in `file` calls: the `macro_rules! name` of
    /// `file` read as a function (`lower::macro_rules`), or else the package's only
    /// `macro_rules! name`, from any file (`#[macro_use]`, `#[macro_export]`).
    #[must_use]
    pub fn macro_fn(&self, file: u32, name: &str) -> Option<u32> {
        let defs = self.nested_names.get(&format!("{name}!"))?;
        let mut fns = defs.iter().filter_map(|(f, d)| match d {
            Def::Fn(id) => Some((*f, *id)),
            _ => None,
        });
        if let Some((_, id)) = fns.clone().find(|(f, _)| *f == file) {
            return Some(id);
        }
        let once = match &self.macro_rules_once {
            Some(once) => once.contains(&crate::lex::sym(name)),
            None => fns.clone().count() == 1,
        };
        if once { fns.next().map(|(_, id)| id) } else { None }
    }

    /// Resolves a written type in the context of a file.
    #[must_use]
    pub fn resolve_ty(&self, ty: &Ty, file: u32, subst: &[(String, SemTy)], self_ty: Option<&SemTy>) -> SemTy {
        self.resolve_ty_depth(ty, file, subst, self_ty, 0)
    }

    fn resolve_ty_depth(
        &self,
        ty: &Ty,
        file: u32,
        subst: &[(String, SemTy)],
        self_ty: Option<&SemTy>,
        depth: u32,
    ) -> SemTy {
        if depth > MAX_RESOLVE_DEPTH {
            return SemTy::Unknown;
        }
        let rec = |t: &Ty| self.resolve_ty_depth(t, file, subst, self_ty, depth + 1);
        match ty {
            Ty::Path(p) => {
                let args: Vec<SemTy> = p.last().map(|s| s.args.iter().map(rec).collect()).unwrap_or_default();
                let names: Vec<String> = p.segments.iter().map(|s| s.name.clone()).collect();
                if names.len() == 1 {
                    if let Some((_, t)) = subst.iter().find(|(n, _)| *n == names[0]) {
                        return t.clone();
                    }
                    if names[0] == "Self" {
                        return self_ty.cloned().unwrap_or_default();
                    }
                }
                self.resolve_type_path(file, &names, args, depth)
            }
            Ty::Ref { mutable, inner } => SemTy::Ref {
                mutable: *mutable,
                inner: Box::new(rec(inner)),
            },
            Ty::Ptr { mutable, inner } => SemTy::Ptr {
                mutable: *mutable,
                inner: Box::new(rec(inner)),
            },
            Ty::Tuple(ts) => SemTy::Tuple(ts.iter().map(rec).collect()),
            Ty::Array(t) | Ty::Slice(t) => SemTy::Vec(Box::new(rec(t))),
            Ty::Bounds(bounds) => dyn_of(bounds),
            _ => SemTy::Unknown,
        }
    }

    /// Resolves a type path (with already-resolved arguments of its last segment).
    #[must_use]
    pub fn resolve_type_path(&self, file: u32, names: &[String], args: Vec<SemTy>, depth: u32) -> SemTy {
        let (full, local) = self.expand(file, names);
        let Some(&last) = full.last() else {
            return SemTy::Unknown;
        };
        if let Some(t) = self.configured_type(&full, &args) {
            return t;
        }
        let known_external = !local && full.len() > 1 && is_known_crate(full[0]);
        if known_external {
            return known_type(&full, args).unwrap_or_default();
        }
        let want: fn(Def) -> bool = |d| matches!(d, Def::Adt(_) | Def::Alias(_));
        // `Self::Item`, `Trait::Output`: an associated type, never a crate-level one.
        let def = if is_member_path(names) {
            None
        } else {
            self.local_def(file, last, want)
        };
        match def {
            Some(Def::Adt(id)) => SemTy::Adt { id, args },
            Some(Def::Alias(id)) => {
                let a = &self.aliases[id as usize];
                let subst: Vec<(String, SemTy)> = a
                    .generics
                    .iter()
                    .cloned()
                    .zip(args.into_iter().chain(std::iter::repeat(SemTy::Unknown)))
                    .collect();
                self.resolve_ty_depth(&a.ty, a.file, &subst, None, depth + 1)
            }
            _ if local || (full.len() > 1 && !is_known_crate(full[0]) && names.len() == full.len()) => {
                // A path into a module we could not resolve: a bare well-known name still counts
                // when the user wrote exactly that name.
                if full.len() == 1 {
                    known_type(&full, args).unwrap_or_default()
                } else {
                    SemTy::Unknown
                }
            }
            _ => known_type(&full, args).unwrap_or_default(),
        }
    }

    /// A user-configured map or lock type.
    fn configured_type(&self, path: &[&str], args: &[SemTy]) -> Option<SemTy> {
        if self.config.maps.iter().any(|c| TypeConfig::path_matches(c, path)) {
            return Some(SemTy::Map(MapKind::Other));
        }
        let (_, kind) = self
            .config
            .locks
            .iter()
            .find(|(c, _)| TypeConfig::path_matches(c, path))?;
        let kind = match kind {
            LockTypeKind::Mutex => LockKind::Mutex,
            LockTypeKind::RwLock => LockKind::RwLock,
        };
        // Blocking or not is unknown: `Unknown` keeps the lock out of rules that need to know.
        Some(SemTy::Lock {
            kind,
            lib: LockLib::Unknown,
            inner: Box::new(args.first().cloned().unwrap_or_default()),
        })
    }

    /// Is this resolved function path a user-configured spawner?
    #[must_use]
    pub fn is_configured_spawner(&self, path: &[&str]) -> bool {
        self.config.spawners.iter().any(|c| TypeConfig::path_matches(c, path))
    }

    /// Expands a written path through the file's imports (for callers outside this module).
    #[must_use]
    pub fn expand_path<'a>(&'a self, file: u32, names: &'a [String]) -> Vec<&'a str> {
        self.expand(file, names).0
    }

    /// A static by a written path.
    #[must_use]
    pub fn static_by_path(&self, file: u32, names: &[String]) -> Option<u32> {
        if is_member_path(names) {
            return None;
        }
        let (full, _) = self.expand(file, names);
        match self.local_def(file, full.last()?, |d| matches!(d, Def::Static(_)))? {
            Def::Static(id) => Some(id),
            _ => None,
        }
    }

    /// A free function by a written path, or a method for `Type::method` / `Self::method`.
    #[must_use]
    pub fn fn_by_path(&self, file: u32, names: &[String], self_ty: Option<&SemTy>) -> Option<u32> {
        if names.len() >= 2 {
            let owner = &names[..names.len() - 1];
            let method = &names[names.len() - 1];
            let ty = if owner.len() == 1 && owner[0] == "Self" {
                self_ty.cloned().unwrap_or_default()
            } else {
                self.resolve_type_path(file, owner, Vec::new(), 0)
            };
            match ty {
                SemTy::Adt { id, .. } => return self.method(id, method),
                // `Arc::make_mut`, `HashMap::new`: an associated fn of a known type.
                SemTy::Unknown => {}
                _ => return None,
            }
            if is_member_path(names) {
                // `Unknown::new`: an associated fn of a type we do not know, not a free fn.
                return None;
            }
        }
        let (full, local) = self.expand(file, names);
        if !local && full.len() > 1 && (is_known_crate(full[0]) || !self.is_module(full[0])) {
            // `other_crate::f()`: not a function of this package, whatever its name.
            return None;
        }
        let want = |d: Def| matches!(d, Def::Fn(_));
        // `m::f()` names the `f` of module `m`; which file that is, is not known, so only a
        // function defined once in the package is taken (never the caller's own namesake).
        let def = if full.len() > 1 {
            self.unique_def(full.last()?, want)?
        } else {
            self.local_def(file, full.last()?, want)?
        };
        match def {
            Def::Fn(id) => Some(id),
            _ => None,
        }
    }

    /// Can `name` be a module of this package?
    fn is_module(&self, name: &str) -> bool {
        self.modules.as_ref().is_none_or(|m| m.contains(&crate::lex::sym(name)))
    }

    /// The one body a call of `method` on a value known only by its traits (`dyn Trait`,
    /// `T: Trait`) can run: the package defines the trait, and exactly one of its impls in the
    /// package provides the method (no default body could run instead). Returns it with the
    /// trait's name.
    #[must_use]
    pub fn trait_method<'t>(&self, traits: &'t [String], method: &str) -> Option<(u32, &'t str)> {
        let mut found = None;
        for t in traits {
            let Some((impls, has_default)) = self.trait_methods.get(&(t.clone(), method.to_owned())) else {
                continue;
            };
            if self
                .single_impl_traits
                .as_ref()
                .is_some_and(|once| !once.contains(&crate::lex::sym(t)))
            {
                return None;
            }
            match (impls.as_slice(), *has_default, found) {
                ([one], false, None) => found = Some((*one, t.as_str())),
                _ => return None,
            }
        }
        found
    }

    /// The method `name` of a crate-local type, when exactly one impl defines it.
    #[must_use]
    pub fn method(&self, adt: u32, name: &str) -> Option<u32> {
        match self.methods.get(&(adt, name.to_owned()))?.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The type of a field of a value of type `ty` (auto-deref through references and pointers).
    #[must_use]
    pub fn field_ty(&self, ty: &SemTy, field: &str) -> SemTy {
        match ty.autoderef() {
            SemTy::Adt { id, args } => {
                let adt = &self.adts[*id as usize];
                let Some((_, fty)) = adt.fields.iter().find(|(n, _)| n == field) else {
                    return SemTy::Unknown;
                };
                let subst: Vec<(String, SemTy)> = adt
                    .generics
                    .iter()
                    .cloned()
                    .zip(args.iter().cloned().chain(std::iter::repeat(SemTy::Unknown)))
                    .collect();
                self.resolve_ty(fty, adt.file, &subst, None)
            }
            SemTy::Wrapper {
                wrap: Wrap::Lazy,
                inner,
            } => self.field_ty(inner, field),
            SemTy::Tuple(ts) => field
                .parse::<usize>()
                .ok()
                .and_then(|i| ts.get(i).cloned())
                .unwrap_or_default(),
            _ => SemTy::Unknown,
        }
    }

    /// Does a value of this type hold a plain map by value (so `.clone()` copies the map)?
    #[must_use]
    pub fn holds_map_by_value(&self, ty: &SemTy, depth: u32) -> bool {
        if depth > 4 {
            return false;
        }
        match ty {
            SemTy::Map(_) => true,
            SemTy::Wrapper {
                wrap: Wrap::Option | Wrap::Box,
                inner,
            } => self.holds_map_by_value(inner, depth + 1),
            SemTy::Adt { id, .. } => {
                let adt = &self.adts[*id as usize];
                adt.fields
                    .iter()
                    .any(|(n, _)| self.holds_map_by_value(&self.field_ty(ty, n), depth + 1))
            }
            _ => false,
        }
    }

    /// The declared return type of a function, resolved in its own file (`Self` = its impl type).
    #[must_use]
    pub fn fn_ret_ty(&self, id: u32) -> SemTy {
        let f = &self.fns[id as usize];
        let self_ty = f.impl_id.map(|i| self.impls[i as usize].self_ty.clone());
        let subst: Vec<(String, SemTy)> = f
            .def
            .generics
            .params
            .iter()
            .map(|(n, _)| (n.clone(), SemTy::Unknown))
            .collect();
        f.def.ret.as_ref().map_or(SemTy::Tuple(Vec::new()), |t| {
            self.resolve_ty(t, f.file, &subst, self_ty.as_ref())
        })
    }
}

/// Items declared inside a function body (nested `fn`s, `struct`s, statics, `use`s).
/// The items declared in a function body, at any depth: in its blocks, loops, branches,
/// closures and async blocks (each is a body of its own, capturing nothing from around it).
/// Items inside those items are collected with them.
fn nested_items(def: &FnDef) -> Vec<Item> {
    fn block(b: &Block, out: &mut Vec<Item>) {
        for s in &b.stmts {
            match s {
                Stmt::Item(i) => out.push((**i).clone()),
                Stmt::Let { init, els, .. } => {
                    if let Some(e) = init {
                        expr(e, out);
                    }
                    if let Some(b) = els {
                        block(b, out);
                    }
                }
                Stmt::Expr { expr: e, .. } => expr(e, out),
            }
        }
    }
    fn expr(e: &Expr, out: &mut Vec<Item>) {
        let all = |es: &[Expr], out: &mut Vec<Item>| es.iter().for_each(|x| expr(x, out));
        match &e.kind {
            ExprKind::Path(_) | ExprKind::Lit(_) | ExprKind::Continue => {}
            ExprKind::Block(b) | ExprKind::Unsafe(b) | ExprKind::Loop(b) | ExprKind::Async { body: b, .. } => {
                block(b, out);
            }
            ExprKind::If { cond, then, els } => {
                expr(cond, out);
                block(then, out);
                if let Some(x) = els {
                    expr(x, out);
                }
            }
            ExprKind::While { cond, body } => {
                expr(cond, out);
                block(body, out);
            }
            ExprKind::For { iter, body, .. } => {
                expr(iter, out);
                block(body, out);
            }
            ExprKind::Match { scrut, arms } => {
                expr(scrut, out);
                for a in arms {
                    if let Some(g) = &a.guard {
                        expr(g, out);
                    }
                    expr(&a.body, out);
                }
            }
            ExprKind::Closure(c) => expr(&c.body, out),
            ExprKind::Field { base: x, .. }
            | ExprKind::Let { expr: x, .. }
            | ExprKind::Unary { expr: x, .. }
            | ExprKind::Ref { expr: x, .. }
            | ExprKind::RawAddr { expr: x, .. }
            | ExprKind::Await(x)
            | ExprKind::Try(x)
            | ExprKind::Cast { expr: x, .. } => expr(x, out),
            ExprKind::Return(x) | ExprKind::Break(x) => {
                if let Some(x) = x {
                    expr(x, out);
                }
            }
            ExprKind::MethodCall { recv, args, .. } => {
                expr(recv, out);
                all(args, out);
            }
            ExprKind::Call { func, args } => {
                expr(func, out);
                all(args, out);
            }
            ExprKind::Assign { lhs, rhs, .. } | ExprKind::Binary { lhs, rhs, .. } => {
                expr(lhs, out);
                expr(rhs, out);
            }
            ExprKind::Index { base, index } => {
                expr(base, out);
                expr(index, out);
            }
            ExprKind::Struct { fields, rest, .. } => {
                for (_, x) in fields {
                    expr(x, out);
                }
                if let Some(r) = rest {
                    expr(r, out);
                }
            }
            ExprKind::Tuple(es) | ExprKind::Other(es) => all(es, out),
            ExprKind::Macro { args, .. } => match args {
                MacroArgs::Parsed(es) => all(es, out),
                MacroArgs::Select { futures, handlers } => {
                    all(futures, out);
                    all(handlers, out);
                }
                MacroArgs::Opaque(_) => {}
            },
        }
    }
    let mut out = Vec::new();
    if let Some(b) = def.body.as_ref().filter(|_| def.declares_items) {
        block(b, &mut out);
    }
    out
}

/// Is this written path `Type::member` or `Self::member` (an associated item or a variant, by
/// Rust's naming conventions: types are `CamelCase`, modules `snake_case`)? Its last segment
/// never names a crate-level item. The lexer makes the same distinction (`lex::LexItem::members`).
#[must_use]
pub fn is_member_path(names: &[String]) -> bool {
    names.len() >= 2 && {
        let owner = &names[names.len() - 2];
        owner == "Self" || owner.starts_with(|c: char| c.is_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lower::parse_and_lower;
    use crate::model::types::{LockKind, LockLib, MapKind};

    fn index(srcs: &[&str]) -> ItemIndex {
        ItemIndex::build(
            srcs.iter()
                .enumerate()
                .map(|(i, s)| Some(parse_and_lower(i as u32, s).unwrap()))
                .collect(),
        )
    }

    fn static_ty(ix: &ItemIndex, name: &str) -> SemTy {
        ix.statics.iter().find(|s| s.name == name).unwrap().ty.clone()
    }

    #[test]
    fn renames_aliases_and_fields_resolve() {
        let ix = index(&[
            "use std::collections::HashMap as Map;\n\
             use parking_lot::RwLock;\n\
             pub type Cache<V> = std::sync::Arc<RwLock<Map<String, V>>>;\n\
             static A: Cache<u8> = todo!();",
            "use crate::Cache;\n\
             struct Registry { peers: Cache<u32>, hits: Vec<u8> }\n\
             static R: Registry = todo!();",
        ]);
        let SemTy::Wrapper { wrap: Wrap::Arc, inner } = static_ty(&ix, "A") else {
            panic!("{:?}", static_ty(&ix, "A"))
        };
        let SemTy::Lock {
            kind: LockKind::RwLock,
            lib: LockLib::ParkingLot,
            inner,
        } = *inner
        else {
            panic!()
        };
        assert_eq!(*inner, SemTy::Map(MapKind::HashMap));
        let r = static_ty(&ix, "R");
        assert!(ix.field_ty(&r, "peers").contains_lock());
        assert_eq!(ix.field_ty(&r, "hits"), SemTy::Vec(Box::new(SemTy::Unknown)));
    }

    #[test]
    fn external_namesakes_are_not_std_maps() {
        let ix = index(&[
            "use papaya::HashMap;\nuse dashmap::*;\nstatic P: HashMap<u8, u8> = todo!();\nstatic D: DashMap<u8, u8> = todo!();\nstruct Mutex;\nstatic M: Mutex = Mutex;",
        ]);
        assert_eq!(static_ty(&ix, "P"), SemTy::ConcurrentMap { guarded: false });
        assert_eq!(static_ty(&ix, "D"), SemTy::ConcurrentMap { guarded: true });
        assert!(matches!(static_ty(&ix, "M"), SemTy::Adt { .. }));
    }

    #[test]
    fn struct_holding_a_map_by_value() {
        let ix = index(&[
            "use std::collections::BTreeMap;\nstruct Cfg { routes: BTreeMap<u8, u8> }\nstruct Shared { m: std::sync::Arc<std::sync::Mutex<BTreeMap<u8,u8>>> }\nstatic C: Cfg = todo!();\nstatic S: Shared = todo!();",
        ]);
        assert!(ix.holds_map_by_value(&static_ty(&ix, "C"), 0));
        assert!(!ix.holds_map_by_value(&static_ty(&ix, "S"), 0));
    }

    #[test]
    fn methods_and_functions_resolve() {
        let ix = index(&["struct S; impl S { fn get(&self) -> Self { S } } fn free() {} mod m { pub fn free2() {} }"]);
        let SemTy::Adt { id, .. } = ix.resolve_type_path(0, &["S".into()], vec![], 0) else {
            panic!()
        };
        let g = ix.method(id, "get").unwrap();
        assert!(matches!(ix.fn_ret_ty(g), SemTy::Adt { .. }));
        assert!(ix.fn_by_path(0, &["free".into()], None).is_some());
        assert!(ix.fn_by_path(0, &["m".into(), "free2".into()], None).is_some());
        assert!(ix.fn_by_path(0, &["S".into(), "get".into()], None).is_some());
    }
}
