//! Lex first, parse only what can matter.
//!
//! Parsing is most of the analysis cost, and most files of a crate never touch a map, a lock,
//! a cell or a thread. Every file is lexed (cheap); a file is parsed only when it is *relevant*:
//! it names something the active rules declared an interest in, or it is linked to a relevant
//! file by name — it mentions an item a relevant file defines (a type, a free function, a
//! static), or it defines an item a relevant file mentions (which could change how that name
//! resolves). A rule's interests count only in a package that meets the rule's requirements
//! (the spawn-based rules need a spawn somewhere in the package).
//!
//! Inside a parsed file, items that nothing needs are blanked out before parsing (replaced by
//! spaces, so every span stays where it was); see [`plan`]. So are constants and the
//! initializers of statics, which the model never reads (a static's type says what it holds),
//! and attributes and doc comments, which it never reads either (doc comments alone are a
//! fifth of the text parsed), where Rust allows them: one with nothing after it is parsed, and
//! reported as syn reports it (see `Trivia`). Names are compared as 64-bit hashes ([`Sym`]); members (`x.name`, `Type::name`) never count as references to free items,
//! matching how the model resolves paths (`model::items::is_member_path`).
//!
//! The closure over these links makes the findings the same as parsing everything (tested on
//! every fixture and project); a skipped file still reports lexical errors (unterminated
//! literals or comments, unbalanced delimiters) as `parse_error`. A syntax error inside a
//! blanked item of a parsed file, or anywhere in a skipped file, is not reported, nor is an
//! attribute that Rust does not allow where it stands, between tokens where attributes go
//! (`--parse-all` reports every one).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use rustc_lexer::{LiteralKind, TokenKind};
use serde::{Deserialize, Serialize};

use crate::diagnostic::Span;

/// An identifier, hashed: relevance compares names and never prints them, and a hash is
/// cheaper to store, copy and compare than a string. Two names with the same 64-bit hash would
/// only make more items relevant (never fewer facts), and no such pair is expected.
pub type Sym = u64;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// The hash of an identifier (`FxHash` over its bytes, then its length).
#[must_use]
#[inline]
pub const fn sym(s: &str) -> Sym {
    let mut b = s.as_bytes();
    let mut h = 0;
    while let Some((chunk, rest)) = b.split_first_chunk::<8>() {
        h = mix(h, u64::from_le_bytes(*chunk));
        b = rest;
    }
    mix(mix(h, tail(b)), s.len() as u64)
}

/// The last 0 to 7 bytes as a little-endian number (zero-padded), without a copy of variable
/// length: two overlapping loads.
#[inline]
const fn tail(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        lo | hi << ((n - 4) * 8)
    } else if n > 0 {
        b[0] as u64 | (b[n / 2] as u64) << (n / 2 * 8) | (b[n - 1] as u64) << ((n - 1) * 8)
    } else {
        0
    }
}

const fn mix(h: u64, n: u64) -> u64 {
    (h.rotate_left(5) ^ n).wrapping_mul(SEED)
}

/// `FxHash`: for sets of [`Sym`]s, which are hashes already.
#[derive(Debug, Default, Clone, Copy)]
pub struct SymHasher(u64);

impl Hasher for SymHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = mix(self.0, n);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of identifiers.
pub type SymSet = HashSet<Sym, BuildHasherDefault<SymHasher>>;

/// What lexing a file tells.
#[derive(Debug, Default)]
pub struct LexFacts {
    /// The identifiers seen after `.` or `Type::` outside any item (sorted, once each; those of
    /// the items are theirs, see [`LexFacts::members`]).
    pub outside_members: Vec<Sym>,
    /// The file calls a method that spawns with an argument, or names one that makes a
    /// parallel iterator ([`crate::catalog::SPAWN_METHODS`],
    /// [`crate::catalog::PAR_ITER_METHODS`]): `pool.spawn(job)`, `s.spawn(|| ..)`,
    /// `items.par_iter()`, not `Command::new("git").spawn()` (a process: the model registers a
    /// spawn only for a call given the code to run).
    pub spawn_methods: bool,
    /// The identifiers outside any item (`impl` and `mod` headers, their attributes; sorted,
    /// once each).
    pub outside: Vec<Sym>,
    /// The identifiers in the header of each `unsafe impl` (`unsafe impl<T> Sync for S<T>`).
    pub unsafe_impls: Vec<Vec<Sym>>,
    /// The file's items, with the identifiers each contains.
    pub items: Vec<LexItem>,
    /// A lexical error, which syn would reject too.
    pub error: Option<(String, Span)>,
    /// The other place a lexical error involves (the delimiter a closing one does not match).
    pub error_label: Option<(String, Span)>,
    /// Attributes and doc comments that parsing can leave out (see `Trivia`), in order.
    pub trivia: Vec<(u32, u32)>,
    /// The names of the traits the file defines.
    pub traits: Vec<Sym>,
    /// The trait of each `impl Trait for Type` in the file.
    pub trait_impls: Vec<Sym>,
    /// The names of the modules the file declares (`mod m;`, `mod m { .. }`).
    pub mods: Vec<Sym>,
    /// The file names a spawning function through a path the model can resolve as a spawn: a
    /// path through a spawning crate or module (`thread::spawn`, `tokio::task::spawn_blocking`,
    /// `rayon::scope`, also through `use .. as` renames of one), or a `use` that names both.
    pub spawn_path: bool,
}

impl LexFacts {
    /// Every identifier (and keyword) in the file that can name an item (see
    /// [`LexItem::members`]), with repeats. (Read through the items: a set of them costs more
    /// to build, for every file lexed, than its readers save.)
    pub fn idents(&self) -> impl Iterator<Item = Sym> + '_ {
        self.items
            .iter()
            .flat_map(|it| it.idents.iter())
            .chain(&self.outside)
            .copied()
    }

    /// Every identifier seen after `.` or `Type::` (methods, fields, associated items), with
    /// repeats.
    pub fn members(&self) -> impl Iterator<Item = Sym> + '_ {
        self.items
            .iter()
            .flat_map(|it| it.members.iter())
            .chain(&self.outside_members)
            .copied()
    }
}

/// An item found by the lexer: its name and kind, and the identifiers it contains.
#[derive(Debug, Default)]
#[allow(clippy::struct_excessive_bools)] // independent facts of one item, read one at a time
pub struct LexItem {
    /// The names the item defines (a type, function, static or trait; a macro invocation such
    /// as `lazy_static!` can define several; nested items add theirs).
    pub names: Vec<Sym>,
    /// For methods: the name of the `impl`'s self type (or the trait).
    pub owner: Option<Sym>,
    /// For methods of `impl Trait for Type`: the trait's name (a call through `dyn Trait` or a
    /// bound `T: Trait` can resolve to the method).
    pub trait_of: Option<Sym>,
    /// The self types of `impl` blocks nested in this item (in a function body).
    pub nested_owners: Vec<Sym>,
    /// For a type alias `type A = path::B<..>;`: `B`, the type whose methods `impl A` defines.
    pub alias_of: Option<Sym>,
    /// The identifiers that can name an item: a type, function, static, local... (sorted,
    /// once each).
    pub idents: Vec<Sym>,
    /// The identifiers seen as members: after `.` (a method or field) or after `Type::` or
    /// `Self::` (an associated item or variant). They never name a free item. (Sorted, once.)
    pub members: Vec<Sym>,
    /// `static mut` or `unsafe impl`.
    pub unsafe_sharing: bool,
    /// For `use` declarations: the renames `(original, alias)`; the alias is interesting when
    /// the original is.
    pub renames: Vec<(Sym, Sym)>,
    pub kind: LexItemKind,
    /// Defines a function (the item's last definition keyword was `fn`).
    pub is_fn: bool,
    /// The item's definition keyword (`fn`, `struct`, `const`...; empty for `use` and macros).
    pub keyword: &'static str,
    /// For macro invocations: the macro's name (the last segment of its path); for
    /// `macro_rules!`, the name it defines.
    pub macro_name: Option<Sym>,
    /// The macros the item invokes (`name!(..)`, the last segment of the path; sorted, once
    /// each): a `macro_rules!` is read as a function, and an invocation of it (of the same file,
    /// or the package's only one of that name) as a call (`model::lower::macro_rules`).
    pub macros: Vec<Sym>,
    /// The bytes of the item with its attributes and doc comments, when the lexer saw where it
    /// starts and ends (so the item can be left out of parsing).
    pub range: Option<(u32, u32)>,
    /// For an item macro: its input holds item definitions (`fn`, `struct`, `impl`...) at the
    /// start of a statement, so the model may read it as items.
    pub holds_items: bool,
    /// Names a spawning function through a spawning crate or module (see
    /// [`LexFacts::spawn_path`]): with a closure or future parameter, a possible spawn helper.
    pub spawns: bool,
    /// The model reads nothing in it (see `inert`; set when the item is complete).
    pub inert: bool,
    /// For a `static`: its initializer, from the first token after `=` to the `;`. The model
    /// reads a static's type only, so the initializer is never parsed, and its identifiers are
    /// not the item's.
    pub value: Option<(u32, u32)>,
    /// What the `RefCell`s the item names hold, where the text right after the word says it is
    /// a std type that cannot hold a map (`RefCell<Vec<T>>`, `RefCell::new(String::new())`, see
    /// [`plain_cell`]): those types' names, which the package could define itself. (Sorted,
    /// once each; a literal, `RefCell::new(0)`, adds none.)
    pub cell_heads: Vec<Sym>,
    /// Some `RefCell` the item names may hold a map: its content is not one of `cell_heads`.
    pub cell_may_hold_map: bool,
    /// For a function: the identifiers of its return type, from `->` to its body (or `;`),
    /// with repeats. A caller learns a value's type from it (`let s = shared(); s.m()`).
    pub returns: Vec<Sym>,
}

impl LexItem {
    /// A function written as one (not in an item macro's input).
    fn plain_fn(&self) -> bool {
        self.is_fn && self.kind == LexItemKind::Plain
    }

    /// The free names the item defines: all its names, or for a method (whose own name comes
    /// first) those of the items nested in its body, which the model defines at file level.
    fn free_names(&self) -> &[Sym] {
        match self.owner {
            // An item macro in an `impl` (`cfg_rt! { fn a(&self) .. }`): its names are methods,
            // and the items nested in their bodies, which cannot be told apart (all counted).
            Some(_) if self.kind == LexItemKind::Macro => &self.names,
            Some(_) => self.names.get(1..).unwrap_or_default(),
            None => &self.names,
        }
    }

    /// For an `impl` member: the methods it defines (its own name; for an item macro in the
    /// `impl`, every name it defines, see [`LexItem::free_names`]).
    fn method_names(&self) -> &[Sym] {
        match self.owner {
            Some(_) if self.kind == LexItemKind::Macro => &self.names,
            Some(_) => self.names.get(..1).unwrap_or_default(),
            None => &[],
        }
    }

    /// The names the item defines that can be seen outside its body, by a path: not a method's
    /// (the model registers those with its type), nor those of items nested in a function
    /// body, which the model sees from their own file only.
    fn global_names(&self) -> &[Sym] {
        if self.kind == LexItemKind::MacroRules {
            return &[];
        }
        match self.owner {
            Some(_) => &[],
            None if self.is_fn || self.keyword == "const" => self.names.get(..1).unwrap_or_default(),
            None => &self.names,
        }
    }

    /// The names of the items nested in a function body or a `const _` block (see
    /// [`LexItem::global_names`]).
    fn nested_names(&self) -> &[Sym] {
        if self.kind == LexItemKind::MacroRules || self.kind == LexItemKind::Macro && self.owner.is_some() {
            // The items of a `macro_rules!` body, read as a `const _` block; those of an item
            // macro in an `impl` (see [`LexItem::free_names`]).
            &self.names
        } else if self.owner.is_some() || self.is_fn || self.keyword == "const" {
            self.names.get(1..).unwrap_or_default()
        } else {
            &[]
        }
    }
}

/// What kind of item the lexer saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum LexItemKind {
    /// A type, function, static, trait or `impl` member.
    #[default]
    Plain,
    /// A `use` declaration.
    Use,
    /// `macro_rules!`: the model reads the items its body defines (placeholders for the
    /// metavariables), as a `const _` block: their names are this file's only.
    MacroRules,
    /// A macro invocation at item level (`lazy_static! { .. }`): only its statics are names.
    Macro,
}

/// Where the lexer is after the `=` of a `static` or a type alias.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    None,
    /// After a static's `=`.
    Waiting,
    /// In a static's initializer, since this byte.
    From(usize),
    /// In the path a type alias starts with.
    Head,
    /// After that path.
    Done,
}

#[derive(Clone, PartialEq, Eq)]
enum Frame {
    /// The file, an inline `mod` or an `extern` block: items live here.
    Items,
    /// An `impl` body: functions here are methods of `owner` (of the trait, when it has one).
    Impl(Sym, Option<Sym>),
    /// A `trait` body: functions here are its methods, whose default bodies are no call the
    /// model resolves.
    Trait(Sym),
    /// Any other braces (inside an item).
    Other,
}

/// A definition keyword: `fn`, `struct`, `enum`, `type`, `trait`, `union`, `static`, `const`.
const DEF: u8 = 1;
/// A word between an item keyword and its name (`pub`, `unsafe`, `mut`...).
const MODIFIER: u8 = 2;
/// Never an item name.
const KEYWORD: u8 = 4;
/// Starts a header that ends at `{`: `impl`, `trait`, `mod`, `extern`.
const HEADER: u8 = 8;

/// The words the lexer treats specially, with what each is.
const WORDS: &[(&str, u8)] = &[
    ("fn", DEF | KEYWORD),
    ("struct", DEF | KEYWORD),
    ("enum", DEF | KEYWORD),
    ("type", DEF | KEYWORD),
    ("trait", DEF | KEYWORD | HEADER),
    ("union", DEF),
    ("static", DEF),
    ("const", DEF),
    ("pub", MODIFIER),
    ("crate", MODIFIER | KEYWORD),
    ("unsafe", MODIFIER),
    ("async", MODIFIER),
    ("extern", MODIFIER | HEADER),
    ("default", MODIFIER),
    ("mut", MODIFIER),
    ("ref", MODIFIER),
    ("dyn", MODIFIER),
    ("safe", MODIFIER),
    ("impl", KEYWORD | HEADER),
    ("mod", KEYWORD | HEADER),
    ("let", KEYWORD),
    ("self", KEYWORD),
    ("Self", KEYWORD),
    ("super", KEYWORD),
    ("where", KEYWORD),
    ("for", KEYWORD),
    ("in", KEYWORD),
    ("if", KEYWORD),
    ("else", KEYWORD),
    ("match", KEYWORD),
    ("loop", KEYWORD),
    ("while", KEYWORD),
    ("return", KEYWORD),
    ("as", KEYWORD),
    ("use", KEYWORD),
    ("move", KEYWORD),
    ("true", KEYWORD),
    ("false", KEYWORD),
    ("break", KEYWORD),
    ("continue", KEYWORD),
    ("macro_rules", 0),
];

const TABLE_BITS: u32 = 10;
const TABLE_MASK: usize = (1 << TABLE_BITS) - 1;

/// One of [`WORDS`].
const WORD: u8 = 16;
/// A crate or module that spawning functions come from ([`crate::catalog::SPAWN_ROOTS`]).
const SPAWN_ROOT: u8 = 32;
/// A method that spawns or makes a parallel iterator ([`crate::catalog::SPAWN_METHODS`],
/// [`crate::catalog::PAR_ITER_METHODS`]).
const SPAWN_METHOD: u8 = 64;

/// [`WORDS`], the spawn roots and the spawning methods by hash, each in a slot of its own
/// (`0` for a free slot): one comparison for any identifier, with no probing. Per slot: the
/// hash, the flags, and for one of [`WORDS`] its index plus one. (Three arrays: the hashes,
/// which every lookup reads, apart.)
struct Table {
    hashes: [Sym; 1 << TABLE_BITS],
    flags: [u8; 1 << TABLE_BITS],
    words: [u8; 1 << TABLE_BITS],
}

/// The lists of [`TABLE`]: [`WORDS`] (by index) and the spawn lists with their flag.
const LISTS: [(&[&str], u8); 4] = [
    (&[], 0),
    (crate::catalog::SPAWN_ROOTS, SPAWN_ROOT),
    (crate::catalog::SPAWN_METHODS, SPAWN_METHOD),
    (crate::catalog::PAR_ITER_METHODS, SPAWN_METHOD),
];

/// The `n`th word of list `l` of [`LISTS`] (for `l == 0`, of [`WORDS`]), and its flags.
const fn list_word(l: usize, n: usize) -> (&'static str, u8) {
    if l == 0 {
        (WORDS[n].0, WORDS[n].1 | WORD)
    } else {
        (LISTS[l].0[n], LISTS[l].1)
    }
}

const fn list_len(l: usize) -> usize {
    if l == 0 { WORDS.len() } else { LISTS[l].0.len() }
}

/// Whether the slots the hash bits from `shift` give are all different (but for one word in
/// two lists).
const fn slots_apart(shift: u32) -> bool {
    let mut seen = [0; 1 << TABLE_BITS];
    let mut l = 0;
    while l < LISTS.len() {
        let mut i = 0;
        while i < list_len(l) {
            let h = sym(list_word(l, i).0);
            let slot = (h >> shift) as usize & TABLE_MASK;
            if seen[slot] != 0 && seen[slot] != h {
                return false;
            }
            seen[slot] = h;
            i += 1;
        }
        l += 1;
    }
    true
}

/// The first hash bits that give every word a slot of its own. (With 70 words in 1,024 slots,
/// 9 of the 55 shifts do; a list grown so much that none does fails the build here:
/// raise `TABLE_BITS`.)
const TABLE_SHIFT: u32 = {
    let mut shift = 0;
    while !slots_apart(shift) {
        shift += 1;
        assert!(
            shift <= 64 - TABLE_BITS,
            "no hash bits give every word a slot of its own: raise TABLE_BITS"
        );
    }
    shift
};

const TABLE: Table = {
    let mut t = Table {
        hashes: [0; 1 << TABLE_BITS],
        flags: [0; 1 << TABLE_BITS],
        words: [0; 1 << TABLE_BITS],
    };
    let mut l = 0;
    while l < LISTS.len() {
        let mut i = 0;
        while i < list_len(l) {
            let (w, flags) = list_word(l, i);
            let h = sym(w);
            assert!(h != 0, "a word hashes to the free slot's mark");
            let slot = slot_of(h);
            // (A word in two lists has both flags.)
            t.hashes[slot] = h;
            t.flags[slot] |= flags;
            if l == 0 {
                t.words[slot] = i as u8 + 1;
            }
            i += 1;
        }
        l += 1;
    }
    t
};

const fn slot_of(h: Sym) -> usize {
    (h >> TABLE_SHIFT) as usize & TABLE_MASK
}

/// The word whose hash is `h` when it is in [`TABLE`]: its spelling (for one of [`WORDS`]) and
/// flags. (Hashes are names, as everywhere in the lexer: see [`Sym`].)
#[inline]
fn word(h: Sym) -> (&'static str, u8) {
    let slot = slot_of(h);
    if TABLE.hashes[slot] != h {
        return ("", 0);
    }
    let w = match TABLE.words[slot] {
        0 => "",
        i => WORDS[i as usize - 1].0,
    };
    (w, TABLE.flags[slot])
}

/// A crate or module that spawning functions come from.
fn is_spawn_root(s: Sym) -> bool {
    word(s).1 & SPAWN_ROOT != 0
}

const AS: Sym = sym("as");
const UNDERSCORE: Sym = sym("_");
const SPAWN_FN_SYMS: [Sym; crate::catalog::SPAWN_FNS.len()] = syms_of(crate::catalog::SPAWN_FNS);
const PAR_ITER_SYMS: [Sym; crate::catalog::PAR_ITER_METHODS.len()] = syms_of(crate::catalog::PAR_ITER_METHODS);

/// The hashes of `words`, at compile time.
const fn syms_of<const N: usize>(words: &[&str]) -> [Sym; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = sym(words[i]);
        i += 1;
    }
    out
}
const MUT: Sym = sym("mut");
const REFCELL: Sym = sym("RefCell");
const SELF: Sym = sym("Self");

/// The std types that hold no map whatever their arguments: a `RefCell` of one (through
/// `Option`, `Box`, `Rc`, `Arc`) guards no map, so no rule can find anything in its borrows
/// (`model::locks::guards_a_map`: a `Vec` of maps is no map, and neither is a `String`).
const NO_MAP_TYPES: [&str; 20] = [
    "Vec", "VecDeque", "String", "str", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
    "i64", "i128", "isize", "f32", "f64",
];
/// What [`plain_cell`] looks through to the type a `RefCell` holds.
const CELL_WRAPPERS: [&str; 4] = ["Option", "Box", "Rc", "Arc"];

/// What the text right after the word `RefCell` (at byte `at`) says the cell holds, when it is
/// one of [`NO_MAP_TYPES`]: `RefCell<Vec<T>>`, `RefCell<Option<Box<str>>>`,
/// `RefCell::new(Vec::new())`, `RefCell::new(vec![])` give that type's name; a number,
/// `RefCell::new(0)`, gives `Some(None)`. `None` for anything else, a comment or a line break
/// in the way included: the cell may hold a map, so it counts as ever.
#[allow(clippy::option_option)] // unknown / a literal / a named type, read in one place
fn plain_cell(text: &[u8], at: usize) -> Option<Option<Sym>> {
    let space = |mut i: usize| {
        while text.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        i
    };
    // An identifier (or a number) and where it ends.
    let word = |i: usize| {
        let rest = text.get(i..)?;
        let n = crate::tokens::ident_len(rest);
        Some((std::str::from_utf8(&rest[..n]).ok().filter(|w| !w.is_empty())?, i + n))
    };
    // A path's segments (`std::vec::Vec`), and where it ends (spaces skipped).
    let path = |mut i: usize| {
        let mut segments = Vec::new();
        loop {
            let (w, end) = word(i)?;
            segments.push(w);
            let after = space(end);
            if text.get(after..after + 2) == Some(b"::") && word(space(after + 2)).is_some() {
                i = space(after + 2);
            } else {
                return Some((segments, after));
            }
        }
    };
    let plain = |name: &str| NO_MAP_TYPES.contains(&name).then(|| Some(sym(name)));
    let mut i = space(at);
    if text.get(i) == Some(&b'<') {
        loop {
            let (segments, after) = path(space(i + 1))?;
            let head = *segments.last()?;
            match text.get(after)? {
                b'<' if CELL_WRAPPERS.contains(&head) => i = after,
                b'<' | b'>' | b',' => return plain(head),
                _ => return None,
            }
        }
    }
    if text.get(i..i + 2) != Some(b"::") {
        return None;
    }
    let (new, after) = word(space(i + 2))?;
    if new != "new" || text.get(space(after)) != Some(&b'(') {
        return None;
    }
    i = space(space(after) + 1);
    let (segments, after) = path(i)?;
    match (segments.as_slice(), text.get(after)?) {
        // `RefCell::new(0)`, `RefCell::new(0u32)`.
        ([number], b')') if number.as_bytes()[0].is_ascii_digit() => Some(None),
        // `RefCell::new(vec![..])`.
        (["vec"], b'!') => plain("Vec"),
        // `RefCell::new(Vec::new())`, `RefCell::new(String::from(".."))`; `Vec::<T>::new()`.
        ([.., ty, _], b'(') => plain(ty),
        ([.., ty], b':') if text.get(after + 1) == Some(&b':') => plain(ty),
        _ => None,
    }
}

/// Lexes a file into identifiers and items.
#[must_use]
pub fn lex(file: u32, text: &str) -> LexFacts {
    let mut facts = LexFacts::default();
    let offset = body_start(text);
    let body = &text[offset..];
    let error =
        |msg: &str, at: usize, len: usize| Some((msg.to_owned(), Span::new(file, at as u32, (at + len) as u32)));
    // The innermost frame says whether we are where items live.
    let mut frames: Vec<Frame> = vec![Frame::Items];
    let mut delims: Vec<(char, usize)> = Vec::new();
    // The item being read, and the depth of `frames` it started at.
    let mut item: Option<(LexItem, (usize, usize))> = None;
    // Reading an item's header: the keyword seen, waiting for its name.
    let mut want_name: Option<&str> = None;
    // Reading an `impl`/`trait`/`mod` header up to its `{`: (keyword, depth-0 idents, angle depth).
    let mut header: Option<(&str, Vec<&str>, i32, bool)> = None;
    let mut prev = "";
    let mut before_as = "";
    // Where the next item starts (its first attribute or doc comment), once a token of it is seen.
    let mut pending: Option<usize> = None;
    let mut after_pound = false;
    // The last three tokens other than whitespace and comments.
    let mut sig: [&str; 3] = ["", "", ""];
    // In `Owner::<T>::name`: whether `Owner` is a type (set at `::<`, taken at `>::name`).
    let mut turbofish_owner: Option<bool> = None;
    // The identifiers of the item being read, and those outside any item (sorted and
    // deduplicated once, at the end of each).
    let mut item_idents: Vec<Sym> = Vec::new();
    let mut item_members: Vec<Sym> = Vec::new();
    let mut outside: Vec<Sym> = Vec::new();
    let mut outside_members: Vec<Sym> = Vec::new();
    let mut trivia = Trivia::new();
    // In the type of a `static`, or the generics of a type alias: the depth of `<..>`; where the
    // last `-` ended (`->` is no `>`).
    let mut eq_angle = 0i32;
    let mut minus_end = usize::MAX;
    // In a function's return type: where its identifiers start in `item_idents`.
    let mut returns_from: Option<usize> = None;
    // After the `=` of a static or a type alias.
    let mut value = Value::None;
    // Where the last token's identifier went (`OUTSIDE`, `IN_ITEM`), and, after `!`, where the
    // identifier before it went: `name!(..)` names a macro, which is no reference to an item.
    let (mut pushed, mut before_bang) = (0u8, 0u8);
    // The path being read goes through a spawning crate or module (see `spawn_path`), and the
    // names a `use .. as` gives one in this file.
    let mut path_root = false;
    let mut root_aliases: Vec<Sym> = Vec::new();
    // After a spawning method's name (1) and its `(` (2), see `LexFacts::spawn_methods`.
    let mut spawn_call = 0u8;
    for tok in crate::tokens::Tokens::new(body) {
        let len = tok.len as usize;
        let pos = offset + tok.start as usize;
        let t = &text[pos..pos + len];
        trivia.token(tok.kind, pos, len);
        // After a spawning method: `.spawn(f)` spawns, `cmd.spawn()` (a process) does not.
        if spawn_call > 0 && !matches!(tok.kind, TokenKind::BlockComment { .. }) {
            if spawn_call == 1 && matches!(tok.kind, TokenKind::OpenParen) {
                spawn_call = 2;
            } else {
                // (Anything but `()`: an argument, a turbofish, a method named but not called.)
                facts.spawn_methods |= !(spawn_call == 2 && matches!(tok.kind, TokenKind::CloseParen));
                spawn_call = 0;
            }
        }
        // The model reads no attribute: the names in one are no references.
        let in_attribute = trivia.in_attribute();
        let (pushed_by_last, bang_after) = (std::mem::take(&mut pushed), std::mem::take(&mut before_bang));
        if item.is_none() {
            value = Value::None;
            eq_angle = 0;
        } else if value == Value::Waiting && !matches!(tok.kind, TokenKind::Semi) {
            value = Value::From(pos);
        } else if value == Value::Head && !matches!(tok.kind, TokenKind::Ident | TokenKind::RawIdent | TokenKind::Colon)
        {
            value = Value::Done;
        }
        // Where items live: directly in a file, module, `impl` or `trait` body (not in the
        // brackets of an attribute or the parentheses of a macro call).
        let at_items = matches!(frames.last(), Some(Frame::Items | Frame::Impl(..) | Frame::Trait(_)))
            && delims.last().is_none_or(|(c, _)| *c == '}');
        if at_items && item.is_none() && header.is_none() && pending.is_none() {
            let starts_item = match tok.kind {
                // `::crate_name::macro!(..)` starts with `::`.
                TokenKind::Ident | TokenKind::RawIdent | TokenKind::Pound | TokenKind::Colon => true,
                TokenKind::LineComment { doc_style } | TokenKind::BlockComment { doc_style, .. } => {
                    matches!(doc_style, Some(rustc_lexer::DocStyle::Outer))
                }
                _ => false,
            };
            if starts_item {
                pending = Some(pos);
            }
        }
        if matches!(tok.kind, TokenKind::Bang) && after_pound && item.is_none() && pending == Some(pos - 1) {
            // `#![..]`: an attribute of the enclosing module, not the start of an item.
            pending = None;
        }
        after_pound = matches!(tok.kind, TokenKind::Pound);
        // `fn(u32) -> u32` is a type, not an item: a name must follow its keyword directly.
        if !matches!(
            tok.kind,
            TokenKind::Ident
                | TokenKind::RawIdent
                | TokenKind::Whitespace
                | TokenKind::LineComment { .. }
                | TokenKind::BlockComment { .. }
        ) && want_name.is_some_and(|k| k != "macro_rules")
        {
            want_name = None;
        }
        match tok.kind {
            TokenKind::Ident | TokenKind::RawIdent => {
                let raw = matches!(tok.kind, TokenKind::RawIdent);
                let name = if raw { &t[2..] } else { t };
                // `x.name`, `Type::name` (but not `a..name` or `module::name`).
                let member = (sig[2] == "." && sig[1] != ".")
                    || (sig[2] == ":" && sig[1] == ":" && type_like(sig[0]))
                    || (sig == [">", ":", ":"] && turbofish_owner.take() == Some(true));
                let name_sym = sym(name);
                let continues = sig[2] == ":" && sig[1] == ":";
                if continues && path_root && SPAWN_FN_SYMS.contains(&name_sym) {
                    facts.spawn_path = true;
                    if let Some((it, _)) = &mut item {
                        it.spawns = true;
                    }
                }
                let (word, flags) = word(name_sym);
                if member && flags & SPAWN_METHOD != 0 && !in_attribute {
                    if PAR_ITER_SYMS.contains(&name_sym) {
                        facts.spawn_methods = true;
                    } else {
                        spawn_call = 1;
                    }
                }
                path_root = flags & SPAWN_ROOT != 0
                    || (!root_aliases.is_empty() && root_aliases.contains(&name_sym))
                    || (continues && path_root);
                // (A raw identifier is never a keyword.)
                let (word, flags) = if raw || flags & WORD == 0 {
                    ("", 0)
                } else {
                    (word, flags & !(WORD | SPAWN_ROOT | SPAWN_METHOD))
                };
                if item.is_none() && !in_attribute {
                    // (A keyword starting an item counts both outside and in the item.)
                    if member {
                        outside_members.push(name_sym);
                    } else {
                        outside.push(name_sym);
                        pushed |= OUTSIDE;
                    }
                }
                if flags & DEF != 0 && header.as_ref().is_some_and(|(kw, ..)| *kw == "extern") {
                    // `extern "C" fn f()`: a function, not an `extern` block.
                    header = None;
                }
                if let Some((_, ids, angle, _)) = &mut header {
                    if *angle == 0 {
                        ids.push(name);
                    }
                } else if (item.is_none() && at_items
                    || (item.is_some() && matches!(prev, "{" | "}" | ";" | "unsafe" | "pub" | "]")))
                    && flags & HEADER != 0
                {
                    // At item level, or a nested item at the start of a statement in a body.
                    header = Some((word, Vec::new(), 0, prev == "unsafe"));
                } else if item.is_none() && at_items && word == "use" {
                    // `use a::B as C;`: an item whose names are the renames.
                    item = Some((
                        LexItem {
                            kind: LexItemKind::Use,
                            range: Some((pending.unwrap_or(pos) as u32, 0)),
                            ..LexItem::default()
                        },
                        (frames.len(), delims.len()),
                    ));
                } else if item.is_none() && at_items && (flags & DEF != 0 || word == "macro_rules") {
                    let owner = match frames.last() {
                        Some(Frame::Impl(o, _) | Frame::Trait(o)) => Some(*o),
                        _ => None,
                    };
                    let trait_of = match frames.last() {
                        Some(Frame::Impl(_, t)) => *t,
                        _ => None,
                    };
                    item = Some((
                        LexItem {
                            owner,
                            trait_of,
                            is_fn: word == "fn",
                            keyword: if flags & DEF != 0 { word } else { "" },
                            range: Some((pending.unwrap_or(pos) as u32, 0)),
                            ..LexItem::default()
                        },
                        (frames.len(), delims.len()),
                    ));
                    want_name = Some(word);
                    returns_from = None;
                }
                if matches!(value, Value::From(_)) {
                    // A static's initializer, which the model never reads.
                } else if let Some((it, _)) = &mut item {
                    if value == Value::Head && flags == 0 {
                        // `type A = path::B<..>`: the last segment so far.
                        it.alias_of = Some(name_sym);
                    }
                    if !in_attribute {
                        if member {
                            item_members.push(name_sym);
                        } else {
                            item_idents.push(name_sym);
                            pushed |= IN_ITEM;
                            if name_sym == REFCELL && !raw {
                                match plain_cell(text.as_bytes(), pos + len) {
                                    Some(Some(head)) => it.cell_heads.push(head),
                                    Some(None) => {}
                                    None => it.cell_may_hold_map = true,
                                }
                            }
                        }
                    }
                    if name_sym == MUT && prev == "static" {
                        it.unsafe_sharing = true;
                    }
                    if it.kind == LexItemKind::MacroRules && it.macro_name.is_none() && prev == "!" {
                        // `macro_rules! name`: the name it defines.
                        it.macro_name = Some(name_sym);
                    }
                    if it.kind == LexItemKind::Use && prev == "as" && name != "_" {
                        it.renames.push((sym(before_as), name_sym));
                        if is_spawn_root(sym(before_as)) {
                            root_aliases.push(name_sym);
                        }
                    }
                    if let Some(kw) = want_name {
                        if flags & DEF != 0 {
                            // `const fn f`, `unsafe static`...: the last keyword decides (a
                            // `macro_rules!` stays one whatever its body defines).
                            want_name = Some(word);
                            if it.kind != LexItemKind::MacroRules {
                                it.is_fn = word == "fn";
                                it.keyword = word;
                            }
                        } else if flags & MODIFIER == 0 {
                            if kw != "macro_rules" && flags & KEYWORD == 0 {
                                // A free function's own name where it is defined is no
                                // reference to a namesake (`fn main` of each example): only a
                                // use of it in its body is.
                                // (`pushed`: this name was just recorded among them.)
                                if kw == "fn"
                                    && it.names.is_empty()
                                    && it.owner.is_none()
                                    && it.kind == LexItemKind::Plain
                                    && pushed & IN_ITEM != 0
                                {
                                    item_idents.pop();
                                    pushed &= !IN_ITEM;
                                }
                                it.names.push(name_sym);
                            }
                            if kw == "macro_rules" {
                                it.kind = LexItemKind::MacroRules;
                            }
                            want_name = None;
                        }
                    } else if flags & DEF != 0
                        && match it.kind {
                            LexItemKind::Macro => word == "static" || statement_start(prev),
                            // (`$vis fn name` in a `macro_rules!` body.)
                            LexItemKind::MacroRules => statement_start(prev) || sig[1] == "$",
                            LexItemKind::Plain | LexItemKind::Use => true,
                        }
                        && sig[2] != "*"
                    {
                        // An item macro whose input holds items (`cfg_if! { if #[cfg(..)] {
                        // fn f() {} } }`, a `cfg_rt! { .. }`-style wrapper): the model reads them.
                        if it.kind == LexItemKind::Macro && word != "static" {
                            it.holds_items = true;
                        }
                        // (`*const T` is a pointer type.)
                        match frames.last() {
                            // A method of an `impl` nested in this item is no free name (the
                            // model registers it with its type), nor is a trait's.
                            Some(Frame::Impl(o, _)) => it.nested_owners.push(*o),
                            Some(Frame::Trait(_)) => {}
                            // Items nested in this one (inner fns; `static ref X` in
                            // `lazy_static!`).
                            _ => want_name = Some(name),
                        }
                    }
                }
                if name_sym != AS {
                    before_as = name;
                }
                prev = name;
            }
            TokenKind::Bang => {
                // `lazy_static! { .. }`, `thread_local! { .. }` at item level: an item of its own
                // (the name before `!` was not a keyword, so no item was started).
                if item.is_none() && header.is_none() && at_items && !prev.is_empty() {
                    // (In an `impl` or `trait`: its items are that block's methods.)
                    let owner = match frames.last() {
                        Some(Frame::Impl(o, _) | Frame::Trait(o)) => Some(*o),
                        _ => None,
                    };
                    let it = LexItem {
                        kind: LexItemKind::Macro,
                        macro_name: Some(sym(prev)),
                        owner,
                        range: Some((pending.unwrap_or(pos) as u32, 0)),
                        ..LexItem::default()
                    };
                    item_idents.push(sym(prev));
                    item = Some((it, (frames.len(), delims.len())));
                }
                before_bang = pushed_by_last;
                prev = "!";
            }
            TokenKind::Lt => {
                if let Some((_, _, angle, _)) = &mut header {
                    *angle += 1;
                }
                if eq_level(item.as_ref(), frames.len(), delims.len()) {
                    eq_angle += 1;
                }
                // Only the simplest turbofish is followed; anything else forgets it (and then
                // counts as a possible free item: never fewer facts).
                turbofish_owner = (sig[2] == ":" && sig[1] == ":").then(|| type_like(sig[0]));
                prev = "<";
            }
            TokenKind::Gt => {
                // (`impl<F: Fn() -> T> Pool<F>`: the `>` of `->` closes nothing.)
                if let Some((_, _, angle, _)) = &mut header
                    && pos != minus_end
                {
                    *angle -= 1;
                }
                if pos != minus_end && eq_level(item.as_ref(), frames.len(), delims.len()) {
                    eq_angle -= 1;
                }
                if pos == minus_end
                    && returns_from.is_none()
                    && item
                        .as_ref()
                        .is_some_and(|(it, depth)| it.plain_fn() && (frames.len(), delims.len()) == *depth)
                {
                    returns_from = Some(item_idents.len());
                }
                prev = ">";
            }
            TokenKind::Minus => {
                minus_end = pos + len;
                prev = "";
            }
            TokenKind::Eq => {
                // `static X: Box<dyn Fn() -> Y<A = B>> = ..`: the `=` outside any `<..>`.
                if eq_angle == 0
                    && value == Value::None
                    && let Some((it, _)) = item.as_ref()
                    && eq_level(item.as_ref(), frames.len(), delims.len())
                {
                    value = if it.keyword == "static" {
                        Value::Waiting
                    } else {
                        Value::Head
                    };
                }
                prev = "";
            }
            TokenKind::Whitespace | TokenKind::LineComment { .. } => {}
            TokenKind::BlockComment { terminated, .. } => {
                if !terminated && facts.error.is_none() {
                    facts.error = error("unterminated block comment", pos, len);
                }
            }
            TokenKind::Literal { kind, .. } => {
                let terminated = match kind {
                    LiteralKind::Str { terminated }
                    | LiteralKind::ByteStr { terminated }
                    | LiteralKind::CStr { terminated }
                    | LiteralKind::Char { terminated }
                    | LiteralKind::Byte { terminated } => terminated,
                    LiteralKind::RawStr { n_hashes }
                    | LiteralKind::RawByteStr { n_hashes }
                    | LiteralKind::RawCStr { n_hashes } => n_hashes.is_some(),
                    _ => true,
                };
                if !terminated && facts.error.is_none() {
                    facts.error = error("unterminated literal", pos, len);
                }
                prev = "";
            }
            TokenKind::OpenBrace => {
                unpush_macro_name(bang_after, &mut outside, &mut item_idents, &mut item);
                end_returns(&mut returns_from, &mut item, &item_idents, (frames.len(), delims.len()));
                let frame = match header.take() {
                    Some((kw @ ("impl" | "trait"), ids, _, unsafe_impl)) => {
                        // The self type: the last name before `{` (after `for` when present).
                        let head = ids.iter().position(|i| *i == "where").map_or(&ids[..], |p| &ids[..p]);
                        let after_for = head.iter().rposition(|i| *i == "for").map_or(head, |p| &head[p + 1..]);
                        let owner = after_for
                            .iter()
                            .rev()
                            .find(|i| {
                                !matches!(
                                    **i,
                                    "where" | "for" | "impl" | "trait" | "unsafe" | "dyn" | "mut" | "const"
                                )
                            })
                            .copied()
                            .unwrap_or("");
                        if kw == "trait" {
                            let name = sym(ids.first().copied().unwrap_or(""));
                            facts.traits.push(name);
                            Frame::Trait(name)
                        } else {
                            if unsafe_impl {
                                // `unsafe impl Sync for T {}`: an item of its own that shares `T`
                                // (an `unsafe impl` of another trait shares nothing).
                                let mut it = LexItem {
                                    owner: Some(sym(owner)),
                                    unsafe_sharing: ids.iter().any(|i| matches!(*i, "Send" | "Sync")),
                                    ..LexItem::default()
                                };
                                it.idents.extend(ids.iter().map(|i| sym(i)));
                                let it = finish_item(it, 0, &mut Vec::new(), &mut Vec::new());
                                facts.unsafe_impls.push(it.idents.clone());
                                facts.items.push(it);
                            }
                            // `impl path::Trait<X> for Type`: the last name before `for`, outside `<..>`.
                            let trait_name = head
                                .iter()
                                .rposition(|i| *i == "for")
                                .and_then(|p| {
                                    head[..p]
                                        .iter()
                                        .rev()
                                        .find(|i| !matches!(**i, "unsafe" | "dyn" | "impl"))
                                })
                                .map(|t| sym(t));
                            facts.trait_impls.extend(trait_name);
                            Frame::Impl(sym(owner), trait_name)
                        }
                    }
                    Some(("mod", ids, ..)) => {
                        facts.mods.extend(ids.first().map(|m| sym(m)));
                        Frame::Items
                    }
                    Some(_) => Frame::Items,
                    None => Frame::Other,
                };
                if matches!(frame, Frame::Items | Frame::Impl(..) | Frame::Trait(_)) {
                    // The items of an `impl`, `trait` or `mod` body start afresh.
                    pending = None;
                }
                frames.push(frame);
                delims.push(('}', pos));
                prev = "{";
            }
            TokenKind::OpenParen | TokenKind::OpenBracket => {
                unpush_macro_name(bang_after, &mut outside, &mut item_idents, &mut item);
                delims.push((
                    if matches!(tok.kind, TokenKind::OpenParen) {
                        ')'
                    } else {
                        ']'
                    },
                    pos,
                ));
                prev = "";
            }
            TokenKind::CloseBrace | TokenKind::CloseParen | TokenKind::CloseBracket => {
                let c = t.chars().next().unwrap_or(' ');
                if matches!(tok.kind, TokenKind::CloseBrace) && frames.len() > 1 {
                    let closed = frames.pop();
                    if let Some((it, depth)) = &item
                        && (frames.len(), delims.len().saturating_sub(1)) == *depth
                        && ends_at_brace(it)
                    {
                        facts.items.push(finish_item(
                            item.take().expect("item").0,
                            pos + len,
                            &mut item_idents,
                            &mut item_members,
                        ));
                        pending = None;
                    } else if matches!(closed, Some(Frame::Items | Frame::Impl(..) | Frame::Trait(_))) {
                        pending = None;
                    }
                }
                match delims.pop() {
                    Some((want, _)) if want == c => {}
                    // rustc's words and places.
                    Some((_, open)) if facts.error.is_none() => {
                        facts.error = error(&format!("mismatched closing delimiter: `{c}`"), pos, len);
                        facts.error_label = error("unclosed delimiter", open, 1);
                    }
                    None if facts.error.is_none() => {
                        facts.error = error(&format!("unexpected closing delimiter: `{c}`"), pos, len);
                    }
                    _ => {}
                }
                prev = match tok.kind {
                    TokenKind::CloseBrace => "}",
                    TokenKind::CloseBracket => "]",
                    _ => "",
                };
            }
            TokenKind::Semi => {
                end_returns(&mut returns_from, &mut item, &item_idents, (frames.len(), delims.len()));
                if let Some((_, depth)) = &item
                    && (frames.len(), delims.len()) == *depth
                {
                    let mut it = item.take().expect("item").0;
                    if let Value::From(start) = value {
                        it.value = Some((start as u32, pos as u32));
                    }
                    facts
                        .items
                        .push(finish_item(it, pos + len, &mut item_idents, &mut item_members));
                }
                if header.as_ref().is_some_and(|(kw, ..)| matches!(*kw, "mod" | "extern")) {
                    // `mod m;`, `extern crate c;` (an `impl` header can hold `[T; N]`).
                    if let Some(("mod", ids, ..)) = &header {
                        facts.mods.extend(ids.first().map(|m| sym(m)));
                    }
                    header = None;
                }
                if at_items && item.is_none() && header.is_none() {
                    pending = None;
                }
                prev = ";";
            }
            TokenKind::Unknown if facts.error.is_none() => facts.error = error("unexpected character", pos, len),
            _ => prev = "",
        }
        if !matches!(
            tok.kind,
            TokenKind::Whitespace | TokenKind::LineComment { .. } | TokenKind::BlockComment { .. }
        ) {
            sig = [sig[1], sig[2], t];
        }
    }
    if let Some((it, _)) = item {
        // Unterminated: never left out of parsing.
        let mut it = finish_item(it, 0, &mut item_idents, &mut item_members);
        it.range = None;
        facts.items.push(it);
    }
    // `use tokio::{spawn, sync::Mutex};`
    facts.spawn_path |= facts.items.iter().any(|it| {
        it.kind == LexItemKind::Use
            && it.idents.iter().any(|i| is_spawn_root(*i))
            && it.idents.iter().any(|i| SPAWN_FN_SYMS.contains(i))
    });
    // The file's identifiers: those of its items (once each already) and those outside.
    for v in [&mut outside, &mut outside_members] {
        v.sort_unstable();
        v.dedup();
    }
    facts.outside = outside;
    facts.outside_members = outside_members;
    // (A spawning method named last in the file.)
    facts.spawn_methods |= spawn_call > 0;
    facts.trivia = trivia.out;
    if let Some((_, at)) = delims.last()
        && facts.error.is_none()
    {
        facts.error = error("this file contains an unclosed delimiter", *at, 1);
    }
    facts
}

/// Finds the attributes (`#[..]`) and doc comments that parsing can leave out: the model
/// reads none, and doc comments are a fifth of the text parsed. Left out only where that
/// cannot turn a syntax error into a success: outer ones after `;`, `{`, `}`, `,`, `(` or
/// another attribute, and followed by something other than a closing delimiter; inner ones
/// (`#![..]`, `//!`) at the start of the file. Nothing inside a macro call's delimiters
/// (`name!(..)`, `macro_rules! name {..}`) is left out: a macro's input is its own syntax.
#[derive(Debug)]
struct Trivia {
    /// For each open delimiter: whether it is a macro body or an attribute's brackets.
    opaque: Vec<bool>,
    /// How many entries of `opaque` are true.
    in_opaque: usize,
    /// No token yet other than inner attributes and doc comments.
    at_start: bool,
    /// The previous token allows an outer attribute after it.
    attr_ok: bool,
    /// After `#` (where) and `!`: maybe an attribute.
    pound: Option<(usize, bool)>,
    /// In an attribute: where it starts, the depth of its `[`, whether it can be left out, and
    /// whether it is inner.
    attr: Option<(usize, usize, bool, bool)>,
    /// After `!` (1) or `! name` (2): a delimiter opened now is a macro's input.
    bang: u8,
    /// Attributes and doc comments waiting for the next token.
    waiting: Vec<(u32, u32)>,
    out: Vec<(u32, u32)>,
}

impl Trivia {
    fn new() -> Trivia {
        Trivia {
            opaque: Vec::new(),
            in_opaque: 0,
            at_start: true,
            attr_ok: true,
            pound: None,
            attr: None,
            bang: 0,
            waiting: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Reads the token at `pos` (any but whitespace and plain line comments).
    #[inline]
    fn token(&mut self, kind: TokenKind, pos: usize, len: usize) {
        if matches!(kind, TokenKind::Ident) && self.pound.is_none() && self.attr.is_none() && self.waiting.is_empty() {
            // Most tokens: what the end of this function does for them.
            self.at_start = false;
            self.attr_ok = false;
            self.bang = if self.bang == 1 { 2 } else { 0 };
            return;
        }
        let range = (pos as u32, (pos + len) as u32);
        let free = self.in_opaque == 0;
        match kind {
            // (The tokenizer skips whitespace and plain line comments already.)
            TokenKind::BlockComment { doc_style: None, .. } => return,
            TokenKind::LineComment { doc_style: Some(style) }
            | TokenKind::BlockComment {
                doc_style: Some(style), ..
            } => {
                let inner = matches!(style, rustc_lexer::DocStyle::Inner);
                if free && (if inner { self.at_start } else { self.attr_ok }) {
                    self.waiting.push(range);
                }
                if !inner {
                    self.at_start = false;
                }
                return;
            }
            TokenKind::Pound if free => {
                self.flush_pound();
                self.pound = Some((pos, false));
                self.bang = 0;
                return;
            }
            TokenKind::Bang if matches!(self.pound, Some((_, false))) => {
                self.pound = self.pound.map(|(p, _)| (p, true));
                return;
            }
            TokenKind::OpenBracket if self.pound.is_some() => {
                let (start, inner) = self.pound.take().expect("pound");
                let ok = if inner { self.at_start } else { self.attr_ok };
                self.attr = Some((start, self.opaque.len(), ok, inner));
                self.opaque.push(true);
                self.in_opaque += 1;
                return;
            }
            _ => self.flush_pound(),
        }
        let closing = matches!(
            kind,
            TokenKind::CloseBrace | TokenKind::CloseParen | TokenKind::CloseBracket
        );
        if closing && let Some(opaque) = self.opaque.pop() {
            self.in_opaque -= usize::from(opaque);
            if let Some((start, depth, ok, inner)) = self.attr
                && depth == self.opaque.len()
            {
                // The end of an attribute.
                self.attr = None;
                if ok {
                    self.waiting.push((start as u32, range.1));
                }
                self.at_start &= inner;
                return;
            }
        }
        if matches!(
            kind,
            TokenKind::OpenBrace | TokenKind::OpenParen | TokenKind::OpenBracket
        ) {
            let is_macro = self.bang > 0;
            self.opaque.push(is_macro);
            self.in_opaque += usize::from(is_macro);
        }
        if self.attr.is_some() {
            return;
        }
        // A token of the code: what waits before it can be left out unless it closes a delimiter.
        if !self.waiting.is_empty() {
            if closing {
                self.waiting.clear();
            } else {
                self.out.append(&mut self.waiting);
            }
        }
        self.at_start = false;
        self.attr_ok = matches!(
            kind,
            TokenKind::Semi | TokenKind::OpenBrace | TokenKind::CloseBrace | TokenKind::Comma | TokenKind::OpenParen
        );
        self.bang = match kind {
            TokenKind::Bang => 1,
            TokenKind::Ident | TokenKind::RawIdent if self.bang == 1 => 2,
            _ => 0,
        };
    }

    /// In an attribute's brackets (`#[..]`, outside any macro's input).
    fn in_attribute(&self) -> bool {
        self.attr.is_some()
    }

    /// A `#` not followed by `[`: an ordinary token.
    fn flush_pound(&mut self) {
        if self.pound.take().is_some() {
            self.out.append(&mut self.waiting);
            self.at_start = false;
            self.attr_ok = false;
            self.bang = 0;
        }
    }
}

/// Can an item start after this token (in a macro's input, where only item starts count)?
fn statement_start(prev: &str) -> bool {
    matches!(prev, "{" | "}" | ";" | "]" | "pub" | "unsafe" | "async" | "extern")
}

/// `OUTSIDE`, `IN_ITEM`: where the last identifier was recorded.
const OUTSIDE: u8 = 1;
const IN_ITEM: u8 = 2;

/// `name!(`: takes back the macro's name, recorded as an identifier two tokens ago.
fn unpush_macro_name(
    at: u8,
    outside: &mut Vec<Sym>,
    in_item: &mut Vec<Sym>,
    item: &mut Option<(LexItem, (usize, usize))>,
) {
    if at & OUTSIDE != 0 {
        outside.pop();
    }
    if at & IN_ITEM != 0
        && let Some(name) = in_item.pop()
        && let Some((it, _)) = item
    {
        it.macros.push(name);
    }
}

/// At the `{` or `;` that ends a function's signature: the identifiers of its return type,
/// read since `->` (`returns_from`), are the function's [`LexItem::returns`].
fn end_returns(
    returns_from: &mut Option<usize>,
    item: &mut Option<(LexItem, (usize, usize))>,
    idents: &[Sym],
    at: (usize, usize),
) {
    if let Some((it, depth)) = item
        && *depth == at
        && let Some(from) = returns_from.take()
    {
        it.returns = idents.get(from..).unwrap_or_default().to_vec();
    }
}

/// Is the item being read a `static` or a type alias (not an associated type), read at its own
/// depth (not in its brackets)?
fn eq_level(item: Option<&(LexItem, (usize, usize))>, frames: usize, delims: usize) -> bool {
    item.is_some_and(|(it, depth)| {
        (it.keyword == "static" || it.keyword == "type" && it.owner.is_none())
            && it.kind == LexItemKind::Plain
            && (frames, delims) == *depth
    })
}

/// Where the tokens of a file start: after its shebang line, or else its byte-order mark.
#[must_use]
pub fn body_start(text: &str) -> usize {
    match rustc_lexer::strip_shebang(text) {
        Some(n) => n,
        None if text.starts_with('\u{feff}') => 3,
        None => 0,
    }
}

/// `Self` or a `CamelCase` name: by Rust's naming conventions a type, not a module.
fn type_like(segment: &str) -> bool {
    segment == "Self" || segment.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Can a `}` end this item? `const`, `static`, `type` and `use` items end only at `;` (their
/// value can be a block).
fn ends_at_brace(it: &LexItem) -> bool {
    it.kind != LexItemKind::Use && !matches!(it.keyword, "const" | "static" | "type")
}

/// Records where an item ends, and gives it the identifiers read in it (sorted, once each;
/// `idents` and `members` are left empty for the next item).
fn finish_item(mut it: LexItem, end: usize, idents: &mut Vec<Sym>, members: &mut Vec<Sym>) -> LexItem {
    if let Some((_, e)) = &mut it.range {
        *e = end as u32;
    }
    it.nested_owners.sort_unstable();
    it.nested_owners.dedup();
    it.macros.sort_unstable();
    it.macros.dedup();
    it.cell_heads.sort_unstable();
    it.cell_heads.dedup();
    for (v, read) in [(&mut it.idents, idents), (&mut it.members, members)] {
        read.extend_from_slice(v);
        read.sort_unstable();
        read.dedup();
        // (A copy has exactly the length needed.)
        v.clone_from(read);
        read.clear();
    }
    it.inert = reads_nothing(&it);
    it
}

/// The traits a call can be resolved through: defined by the package and implemented exactly
/// once in it (a method with two implementations, or a default body, is no call the model
/// resolves). Read from every file, parsed or not, so the model counts what parsing everything
/// would.
#[must_use]
pub fn single_impl_traits(facts: &[LexFacts]) -> SymSet {
    let mut counts: HashMap<Sym, u32, BuildHasherDefault<SymHasher>> = HashMap::default();
    for t in facts.iter().flat_map(|f| f.trait_impls.iter()) {
        *counts.entry(*t).or_default() += 1;
    }
    facts
        .iter()
        .flat_map(|f| f.traits.iter().copied())
        .filter(|t| counts.get(t) == Some(&1))
        .collect()
}

/// Whether some `unsafe impl` of `trait_` is for a type that can hold one of `words`: its
/// header names one, or names a type of the package whose definition (a `struct`, `enum`,
/// `union` or `type` alias) names one or names such a type, to a fixpoint. An `unsafe impl
/// Sync` of a type that holds no map, cell or lock (the handles of bindings to foreign objects,
/// by the thousand in generated code) is no way to share a map.
#[must_use]
pub fn unsafe_impl_holding(facts: &[LexFacts], trait_: Sym, words: &SymSet) -> bool {
    let mut headers = facts
        .iter()
        .flat_map(|f| f.unsafe_impls.iter())
        .filter(|h| h.contains(&trait_))
        .peekable();
    if headers.peek().is_none() {
        return false;
    }
    let types: Vec<&LexItem> = facts
        .iter()
        .flat_map(|f| f.items.iter())
        .filter(|i| i.owner.is_none() && matches!(i.keyword, "struct" | "enum" | "union" | "type"))
        .collect();
    let mut holders = words.clone();
    loop {
        let before = holders.len();
        for t in &types {
            if t.idents.iter().any(|i| holders.contains(i)) {
                holders.extend(t.names.iter().copied());
            }
        }
        if holders.len() == before {
            break;
        }
    }
    headers.any(|h| h.iter().any(|i| holders.contains(i)))
}

/// What the lexer knows of a whole package that name resolution needs.
#[derive(Debug, Clone, Default)]
pub struct PackageSyms {
    /// The traits implemented once ([`single_impl_traits`]).
    pub single_impl_traits: SymSet,
    /// The names of the package's modules: a path whose first segment is none of them (nor
    /// `crate`, `self`, `super`) names another crate.
    pub modules: SymSet,
    /// The names of the `macro_rules!` the package defines once ([`macro_rules_once`]).
    pub macro_rules_once: SymSet,
}

/// The package-wide facts of every file's lexing.
#[must_use]
pub fn package_syms(facts: &[LexFacts]) -> PackageSyms {
    PackageSyms {
        single_impl_traits: single_impl_traits(facts),
        modules: facts.iter().flat_map(|f| f.mods.iter().copied()).collect(),
        macro_rules_once: macro_rules_once(facts),
    }
}

/// The names of the `macro_rules!` defined once in the package, in any file, parsed or not: an
/// invocation from another file (`#[macro_use]`, `#[macro_export]`) can only be that one (their
/// textual scope is not worked out).
#[must_use]
pub fn macro_rules_once(facts: &[LexFacts]) -> SymSet {
    let mut counts: HashMap<Sym, u32, BuildHasherDefault<SymHasher>> = HashMap::default();
    for it in facts.iter().flat_map(|f| &f.items) {
        if it.kind == LexItemKind::MacroRules
            && let Some(name) = it.macro_name
        {
            *counts.entry(name).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(name, _)| name)
        .collect()
}

/// What parsing leaves out of one file (see [`plan`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Omit {
    /// Byte ranges (whole tokens) replaced by spaces, line breaks kept, so that every span of
    /// what remains is where it was. Sorted and disjoint.
    pub ranges: Vec<(u32, u32)>,
    /// Where a `_` is written, inside one of `ranges`: it stands for a static's left-out
    /// initializer (`static X: T = _;`), so the static still parses. Sorted.
    pub holes: Vec<u32>,
}

impl Omit {
    /// Nothing left out.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Leaves out `lo..hi` too (it swallows the ranges and holes inside it).
    pub fn leave_out(&mut self, lo: u32, hi: u32) {
        self.ranges.retain(|&(a, b)| !(lo <= a && b <= hi));
        self.holes.retain(|&h| !(lo <= h && h < hi));
        if self.ranges.iter().any(|&(a, b)| a <= lo && hi <= b) {
            return;
        }
        let at = self.ranges.partition_point(|&(a, _)| a < lo);
        self.ranges.insert(at, (lo, hi));
    }

    /// The text as it is parsed: `ranges` blanked, `holes` filled.
    #[must_use]
    pub fn apply(&self, text: &str) -> String {
        const SPACES: &str = "                                                                ";
        // Whole tokens are replaced, so only whole characters are kept (else nothing is left
        // out).
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let kept = |out: &mut String, from: usize, to: usize| match text.get(from..to) {
            _ if from == to => true,
            Some(kept) => {
                out.push_str(kept);
                true
            }
            None => false,
        };
        for &(lo, hi) in &self.ranges {
            let lo = (lo as usize).max(at);
            let hi = (hi as usize).max(lo);
            if !kept(&mut out, at, lo) {
                return text.to_owned();
            }
            // A space for each byte, line breaks kept.
            for (i, line) in text.as_bytes()[lo..hi].split(|b| *b == b'\n').enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let mut n = line.len();
                while n > 0 {
                    let k = n.min(SPACES.len());
                    out.push_str(&SPACES[..k]);
                    n -= k;
                }
            }
            at = hi;
        }
        if !kept(&mut out, at, text.len()) {
            return text.to_owned();
        }
        for &at in &self.holes {
            let at = at as usize;
            if !(out.is_char_boundary(at) && out.is_char_boundary(at + 1)) {
                return text.to_owned();
            }
            out.replace_range(at..=at, "_");
        }
        out
    }
}

fn syms(words: &HashSet<&str>) -> SymSet {
    words.iter().map(|w| sym(w)).collect()
}

/// What to parse of each file: `None` to skip it, or what to leave out of it ([`Omit`]): items,
/// attributes and doc comments, and the initializers of the statics kept (the model reads a
/// static's type only).
///
/// An item is *interesting* when it names one of `interests`, is `static mut` or an
/// `unsafe impl`, or names an interesting type, function or static (to a fixpoint). A
/// function counts through the types it names only when it takes a lock (calls a method that
/// takes one, [`crate::catalog::lock_method_names`] or one of the package's, names a function
/// or static that does, spawns or calls a spawn helper) or returns a value of such a type; it
/// makes its callers interesting only when it takes a lock. An
/// interesting method makes its `impl` type interesting when the package defines that type
/// (methods of `u32` or `Vec<T>` are no call the model resolves), and through a type alias
/// (`type A = path::B<..>`) the type it stands for; the methods of an `impl` nested in a
/// function are no free names, nor are the names of macros (`name!(..)`) and the words inside
/// attributes, which the model never resolves. The items nested in a function body are names
/// of their own file only (the model resolves them nowhere else). A file is parsed when it has an
/// interesting item or names an interesting item, or when it defines a name that a parsed
/// file uses and another parsed file also defines (so name resolution sees the same
/// ambiguity as with every file parsed).
///
/// Constants, `macro_rules!` and macro calls the model does not read are never interesting
/// and always left out (see `inert`); a static's initializer names nothing.
///
/// A `RefCell` of a std type that holds no map (`RefCell<Vec<T>>`, see `plain_cell`) is no
/// interest: no rule reads the borrows of a cell that guards no map.
///
/// In a parsed file, an item is left out (blanked before parsing, so every span stays where it
/// was) unless it is interesting, a member of an interesting type other than a function (a
/// function as above; a trait's always), a method of a type of interest itself
/// (`impl Trait for Mutex<T>`), a `use` declaration, an item
/// the lexer could not delimit, or needed by a kept item: a type, static or constant that a
/// kept item names (its fields and generics resolve types), a method with the same owner and
/// name as a kept one, or a function whose name a kept item uses and another kept item defines
/// (the same ambiguity as with everything parsed).
#[must_use]
#[allow(clippy::implicit_hasher)] // called with the engine's own set only
pub fn plan(facts: &[LexFacts], interests: &HashSet<&str>) -> Plan {
    let wanted = syms(interests);
    let Relevance {
        relevant,
        done,
        names,
        own_traits,
        why,
    } = relevance(facts, &wanted);
    let mut keep: Vec<Vec<bool>> = facts
        .iter()
        .zip(&relevant)
        .zip(&done)
        .map(|((f, r), d)| {
            f.items
                .iter()
                .zip(d)
                .map(|(it, d)| {
                    // A method of an interesting type reads its fields through `self`; one of
                    // `impl Trait for Mutex<T>` locks `self`.
                    // (An `impl`'s functions only when they take a lock, see `relevance`; a
                    // trait's, which a call through `dyn Trait` resolves to, always.)
                    let method_of_interest = it.owner.is_some_and(|o| {
                        names.contains(&o) && (!it.plain_fn() || own_traits.contains(&o)) || wanted.contains(&o)
                    });
                    *r && (it.range.is_none()
                        || !inert(it) && (*d || method_of_interest || it.kind == LexItemKind::Use))
                })
                .collect()
        })
        .collect();
    let mut mentioned = SymSet::default();
    let mut defined = SymSet::default();
    let mut methods: HashSet<(Sym, Sym), BuildHasherDefault<SymHasher>> = HashSet::default();
    let mut counted: Vec<Vec<bool>> = facts.iter().map(|f| vec![false; f.items.len()]).collect();
    loop {
        for ((f, k), c) in facts.iter().zip(&keep).zip(&mut counted) {
            for ((it, _), c) in f
                .items
                .iter()
                .zip(k)
                .zip(c.iter_mut())
                .filter(|((_, k), c)| **k && !**c)
            {
                *c = true;
                mentioned.extend(it.idents.iter().copied());
                if let Some(o) = it.owner {
                    methods.extend(it.method_names().iter().map(|n| (o, *n)));
                }
                defined.extend(it.free_names().iter().copied());
            }
        }
        let mut changed = false;
        for ((f, k), r) in facts.iter().zip(&mut keep).zip(&relevant) {
            if !*r {
                continue;
            }
            for (it, k) in f.items.iter().zip(k.iter_mut()) {
                if *k || inert(it) {
                    continue;
                }
                let need = match it.owner {
                    Some(o) => it.method_names().iter().any(|n| methods.contains(&(o, *n))),
                    None => it
                        .names
                        .iter()
                        .any(|n| mentioned.contains(n) && (!it.is_fn || defined.contains(n))),
                };
                if need {
                    *k = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let omit = facts
        .iter()
        .zip(&relevant)
        .zip(&keep)
        .map(|((f, r), k)| {
            r.then(|| {
                let left_out = f
                    .items
                    .iter()
                    .zip(k)
                    .filter(|(_, k)| !**k)
                    .filter_map(|(it, _)| it.range);
                let values: Vec<(u32, u32)> = f
                    .items
                    .iter()
                    .zip(k)
                    .filter(|(_, k)| **k)
                    .filter_map(|(it, _)| it.value)
                    .collect();
                Omit {
                    ranges: merge(left_out.chain(values.iter().copied()), f.trivia.iter().copied()),
                    holes: values.iter().map(|(lo, _)| *lo).collect(),
                }
            })
        })
        .collect();
    Plan { omit, why }
}

/// What [`plan`] decided, and why.
#[derive(Debug, Default)]
pub struct Plan {
    /// Per file: `None` to skip it, or what to leave out of it.
    pub omit: Vec<Option<Omit>>,
    /// Why each parsed file is parsed.
    pub why: Why,
}

/// Why [`plan`] parses what it parses: for each file parsed, the first reason found, and for
/// each interesting name, the item that made it so (earlier, so the chain back to a word a rule
/// looks for has no cycle).
#[derive(Debug, Default)]
pub struct Why {
    /// Per file.
    pub files: Vec<Option<Because>>,
    /// Per interesting name: the file, and the reason in it.
    pub names: HashMap<Sym, (u32, Because), BuildHasherDefault<SymHasher>>,
}

/// One reason of [`Why`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Because {
    /// Item `item` of the file names `name`: a word a rule looks for, or an interesting name.
    Names { item: u32, name: Sym },
    /// Item `item` is a `static mut`, or an `unsafe impl` of an interesting type.
    UnsafeSharing { item: u32 },
    /// Item `item` is a function that spawns and takes a closure or future, called by an item parsed
    /// already: a spawn helper, whose closure argument is the spawned code.
    SpawnHelper { item: u32 },
    /// Item `item` is a function that takes a closure (it names `Fn`, `FnMut` or `FnOnce`),
    /// called by an item parsed already: a possible closure runner, whose closure argument
    /// runs during the call (`ItemIndex::closure_runners`).
    ClosureRunner { item: u32 },
    /// An `impl` or `mod` header of the file names `name`.
    Header { name: Sym },
    /// The file defines `name`, which a parsed file uses and another parsed file defines.
    Collision { name: Sym },
}

impl Why {
    /// Why file `file` is parsed, in words: the chain of items, each naming the next one's
    /// name, back to a word a rule looks for. `files` are the package's (name, text) pairs
    /// that `facts` were lexed from.
    #[must_use]
    pub fn explain(&self, file: usize, facts: &[LexFacts], files: &[(&str, &str)]) -> Option<String> {
        let mut at = (file as u32, self.files.get(file).copied().flatten()?);
        let mut out = String::new();
        // Each step goes back to a name made interesting earlier, so the chain ends; the bound
        // only keeps a line readable.
        for step in 0..8 {
            let (fi, cause) = at;
            let (fname, text) = files[fi as usize];
            let lexed = &facts[fi as usize];
            if step > 0 {
                out.push_str(", which ");
            }
            let item_words = |item: u32| {
                let it = &lexed.items[item as usize];
                let own = it.names.first().map(|n| spell(text, it.range, *n)).unwrap_or_default();
                let what = match (it.owner, it.kind) {
                    // (The item an `unsafe impl` header stands for has no place of its own.)
                    (Some(o), _) if it.range.is_none() => format!("an `unsafe impl` for `{}`", spell(text, None, o)),
                    (Some(o), LexItemKind::Macro) => {
                        let name = it.macro_name.map(|m| spell(text, it.range, m)).unwrap_or_default();
                        format!("`{name}!` in `impl {}`", spell(text, it.range, o))
                    }
                    (Some(o), _) => format!("`{}::{own}`", spell(text, it.range, o)),
                    (None, LexItemKind::Use) => "a `use`".to_owned(),
                    (None, LexItemKind::MacroRules) => "a `macro_rules!` body".to_owned(),
                    (None, LexItemKind::Macro) => {
                        let name = it.macro_name.map(|m| spell(text, it.range, m)).unwrap_or_default();
                        format!("`{name}!`")
                    }
                    (None, _) if it.keyword.is_empty() => format!("`{own}!`"),
                    (None, _) => format!("`{} {own}`", it.keyword),
                };
                match it.range {
                    Some((lo, _)) => format!("{what} ({fname}:{})", line_of(text, lo)),
                    None => format!("{what} in {fname}"),
                }
            };
            let next = match cause {
                Because::Names { item, name } => {
                    let range = lexed.items[item as usize].range;
                    let _ = write!(out, "{} names `{}`", item_words(item), spell(text, range, name));
                    Some(name)
                }
                Because::UnsafeSharing { item } => {
                    let what = if lexed.items[item as usize].owner.is_some() {
                        "shares a type between threads"
                    } else {
                        "is a `static mut`"
                    };
                    let _ = write!(out, "{} {what}", item_words(item));
                    None
                }
                Because::SpawnHelper { item } | Because::ClosureRunner { item } => {
                    let what = if matches!(cause, Because::SpawnHelper { .. }) {
                        "hands a closure or future to a spawn"
                    } else {
                        "takes a closure, which may run during its call,"
                    };
                    let _ = write!(out, "{} {what} and is called by parsed code", item_words(item));
                    None
                }
                Because::Header { name } => {
                    let _ = write!(
                        out,
                        "an `impl` or `mod` header in {fname} names `{}`",
                        spell(text, None, name)
                    );
                    Some(name)
                }
                Because::Collision { name } => {
                    let _ = write!(
                        out,
                        "{fname} defines `{}`, also defined and used in parsed files",
                        spell(text, None, name)
                    );
                    None
                }
            };
            match next.and_then(|n| self.names.get(&n)) {
                Some(&prior) => at = prior,
                None => return Some(out),
            }
        }
        out.push_str(", ...");
        Some(out)
    }
}

/// The text of the identifier hashed as `s` in `text` (within `range`, or anywhere), or `?`.
fn spell(text: &str, range: Option<(u32, u32)>, s: Sym) -> String {
    let find = |slice: &str| {
        slice
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .find(|w| !w.is_empty() && sym(w) == s)
            .map(str::to_owned)
    };
    range
        .and_then(|(lo, hi)| text.get(lo as usize..hi as usize))
        .and_then(find)
        .or_else(|| find(text))
        .unwrap_or_else(|| "?".to_owned())
}

/// The 1-based line of byte `at` of `text`.
fn line_of(text: &str, at: u32) -> usize {
    let end = (at as usize).min(text.len());
    memchr::memchr_iter(b'\n', &text.as_bytes()[..end]).count() + 1
}

/// Constants, `macro_rules!` definitions and invocations of macros other than `lazy_static!`,
/// `thread_local!` and those (at module level) whose input holds items: the model reads nothing
/// in them (`model::items`, `model::lower::Lowerer::item_macro`), so they are never parsed and
/// name nothing.
#[inline]
fn inert(it: &LexItem) -> bool {
    it.inert
}

/// The names a file defines that can be seen outside their bodies (see
/// [`LexItem::global_names`]), but those of items the model reads nothing in.
fn file_global_names(f: &LexFacts) -> impl Iterator<Item = Sym> + '_ {
    f.items
        .iter()
        .filter(|i| !inert(i))
        .flat_map(|i| i.global_names().iter().copied())
}

/// See [`inert`] (once per item, when it is complete: the plan asks on every round).
fn reads_nothing(it: &LexItem) -> bool {
    use crate::catalog::STATIC_MACROS;
    const READ: [Sym; STATIC_MACROS.len()] = [sym(STATIC_MACROS[0].0), sym(STATIC_MACROS[1].0)];
    match it.kind {
        // (Its body is read: the items it defines, or its statements as a function of their
        // own; `model::lower::macro_rules`.)
        LexItemKind::MacroRules => false,
        LexItemKind::Macro => {
            // (In an `impl` too: its items are the `impl`'s methods.)
            it.macro_name.is_none_or(|m| !READ.contains(&m)) && !it.holds_items
        }
        // (A `const _: () = { .. };` block that declares items is read for them.)
        LexItemKind::Plain => {
            it.keyword == "const"
                && !(it.names.first() == Some(&UNDERSCORE) && it.names.len() + it.nested_owners.len() > 1)
        }
        LexItemKind::Use => false,
    }
}

/// Two sorted lists of ranges as one sorted list of disjoint ranges.
fn merge(a: impl Iterator<Item = (u32, u32)>, b: impl Iterator<Item = (u32, u32)>) -> Vec<(u32, u32)> {
    let mut all: Vec<(u32, u32)> = a.chain(b).collect();
    all.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(all.len());
    for (lo, hi) in all {
        match out.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// The files to parse, each file's interesting items, and the interesting names.
/// What [`relevance`] decided: the files to parse, the items that are interesting themselves,
/// the interesting names, and why.
struct Relevance {
    relevant: Vec<bool>,
    done: Vec<Vec<bool>>,
    names: SymSet,
    /// The traits the package defines.
    own_traits: SymSet,
    why: Why,
}

/// A set of names that can only grow, asked whether it may hold a name: one bit per hash of
/// names (some false positives, no false negatives), a few kilobytes that stay in cache.
struct SymFilter(Box<[u64; 1024]>);

impl Default for SymFilter {
    fn default() -> SymFilter {
        SymFilter(Box::new([0; 1024]))
    }
}

impl SymFilter {
    /// (The hash's top 16 bits.)
    fn bit(s: Sym) -> (usize, u64) {
        let b = (s >> 48) as usize;
        (b >> 6, 1 << (b & 63))
    }

    fn insert(&mut self, s: Sym) {
        let (w, m) = Self::bit(s);
        self.0[w] |= m;
    }

    fn may_contain(&self, s: Sym) -> bool {
        let (w, m) = Self::bit(s);
        self.0[w] & m != 0
    }
}

fn relevance(facts: &[LexFacts], interests: &SymSet) -> Relevance {
    let items = || facts.iter().flat_map(|f| f.items.iter()).filter(|i| !inert(i));
    // The names the package defines: the self type of an `impl` is a type of the package only
    // when it is one of these (methods of `u32` or `Vec<T>` are never a call the model resolves).
    let defined: SymSet = items().flat_map(|i| i.free_names().iter().copied()).collect();
    let traits = single_impl_traits(facts);
    let own_cell = defined.contains(&REFCELL);
    // The interesting `macro_rules!` read as functions: by file, and those the package defines
    // once, which any file can invoke.
    let macros_once = macro_rules_once(facts);
    let mut macros_local: Vec<SymSet> = vec![SymSet::default(); facts.len()];
    let mut macros_global = SymSet::default();
    // `type A = path::B<C>;`: the methods of `impl A` are `B`'s (when the package defines `B`),
    // so an interesting `A` makes `B` interesting. (The other way needs no link: the alias
    // names `B`, so an interesting `B` makes the alias, and so `A`, interesting.)
    let mut links: HashMap<Sym, Vec<Sym>, BuildHasherDefault<SymHasher>> = HashMap::default();
    for alias in items().filter(|i| i.owner.is_none()) {
        if let (Some(b), [a]) = (alias.alias_of, alias.names.as_slice())
            && b != *a
            && defined.contains(&b)
        {
            links.entry(*a).or_default().push(b);
        }
    }
    let mut names = SymSet::default();
    let mut why = Why::default();
    // Every name that makes an item a candidate (below): the interests, `names`, the names of
    // each file's `local` items and `returners`. Most identifiers are none of them, which
    // this filter tells at once.
    let mut hot = SymFilter::default();
    for i in interests {
        hot.insert(*i);
    }
    // Makes `n` interesting, with every name linked to it, for the reason `cause`.
    let add = |names: &mut SymSet, hot: &mut SymFilter, why: &mut Why, n: Sym, cause: (u32, Because)| {
        let mut todo = vec![n];
        while let Some(n) = todo.pop() {
            if names.insert(n) {
                hot.insert(n);
                why.names.insert(n, cause);
                todo.extend(links.get(&n).into_iter().flatten().copied());
            }
        }
    };
    let mut item_done: Vec<Vec<bool>> = facts.iter().map(|f| vec![false; f.items.len()]).collect();
    // The items done whose names are interesting (a function kept only for what it names or
    // returns is done, but makes no caller interesting until it takes a lock).
    let mut spread: Vec<Vec<bool>> = facts.iter().map(|f| vec![false; f.items.len()]).collect();
    why.files = vec![None; facts.len()];
    // Per file, the interesting names of items nested in function bodies.
    let mut local: Vec<SymSet> = vec![SymSet::default(); facts.len()];
    let well_known: SymSet = crate::catalog::TYPES.iter().map(|t| sym(t.name)).collect();
    // The names used by the items kept so far (for spawn helpers they call), and what makes a
    // function a possible spawn helper: it spawns, and takes a closure or a future.
    let mut called = SymSet::default();
    let spawn_methods: SymSet = crate::catalog::SPAWN_METHODS.iter().map(|m| sym(m)).collect();
    let par_iter_methods = crate::catalog::PAR_ITER_METHODS.iter().map(|m| sym(m));
    let closure_traits: SymSet = ["Fn", "FnMut", "FnOnce", "Future", "BoxFuture"]
        .iter()
        .map(|t| sym(t))
        .collect();
    // (Also through another helper: `fn quietly(job: impl FnOnce()) { launch(job); }`.)
    let mut helpers = SymSet::default();
    // A function that takes a closure may run it during the call, under its locks: the model
    // needs its body whenever a kept item calls it (`ItemIndex::closure_runners`).
    let fn_traits: SymSet = ["Fn", "FnMut", "FnOnce"].iter().map(|t| sym(t)).collect();
    let closure_runner = |it: &LexItem| it.is_fn && it.idents.iter().any(|i| fn_traits.contains(i));
    let spawn_helper = |it: &LexItem, helpers: &SymSet| {
        it.is_fn
            && (it.spawns
                || it
                    .members
                    .iter()
                    .any(|m| spawn_methods.contains(m) || helpers.contains(m))
                || it.idents.iter().any(|i| helpers.contains(i)))
            && it.idents.iter().any(|i| closure_traits.contains(i))
    };
    // Items whose names are in `called` (kept items, and methods of interesting types, which
    // are kept too).
    let mut counted: Vec<Vec<bool>> = facts.iter().map(|f| vec![false; f.items.len()]).collect();
    // The types shared by an `unsafe impl Send/Sync`: what their methods, or a function that
    // names one, write is what `unsynchronized_map_write` reads (with no lock to take).
    let unsafe_shared: SymSet = items().filter(|i| i.unsafe_sharing).filter_map(|i| i.owner).collect();
    // The traits the package defines: their methods (a body is seldom more than a default)
    // are read as they were.
    let own_traits: SymSet = facts.iter().flat_map(|f| f.traits.iter().copied()).collect();
    // The names the package defines as types only (no function, static or constant has them):
    // a function that names an interesting one matters only when it takes a lock (see
    // `takes_lock` below); its type alone gives the model no event.
    let type_names: SymSet = {
        let values: SymSet = items()
            .filter(|i| i.owner.is_none() && (i.is_fn || matches!(i.keyword, "static" | "const")))
            .flat_map(|i| i.global_names().iter().copied())
            .collect();
        items()
            .filter(|i| i.owner.is_none() && matches!(i.keyword, "struct" | "enum" | "union" | "type" | "trait"))
            .flat_map(|i| i.global_names().iter().copied())
            .filter(|n| !values.contains(n) && !unsafe_shared.contains(n))
            .collect()
    };
    // The guarded and bundled maps of interest, whose methods (`get`, `insert`: everywhere)
    // take a lock only in a package that names one.
    let guarded: SymSet = crate::catalog::Interest::GuardedMaps
        .words()
        .map(sym)
        .filter(|t| interests.contains(t))
        .collect();
    // (An item that names one names an interest: it is done, and counted below, at once.)
    let mut guarded_used = false;
    // The functions that return a value of an interesting type, and the types with a method
    // that does.
    let (mut returners, mut returning_types) = (SymSet::default(), SymSet::default());
    // The members a function can take a lock through: the methods that take one (with the
    // guarded maps' once a kept item names one), the spawning methods, and the methods of the
    // package that take a lock (added as they are found).
    let mut lock_members: SymSet = crate::catalog::lock_method_names(false)
        .map(sym)
        .chain(spawn_methods.iter().copied())
        .chain(par_iter_methods)
        .collect();
    loop {
        let mut changed = false;
        for (fi, f) in facts.iter().enumerate() {
            for (ii, it) in f.items.iter().enumerate() {
                if !counted[fi][ii] && (item_done[fi][ii] || it.owner.is_some_and(|o| names.contains(&o))) {
                    counted[fi][ii] = true;
                    called.extend(it.idents.iter().chain(&it.members).copied());
                    if !guarded_used && item_done[fi][ii] && it.idents.iter().any(|x| guarded.contains(x)) {
                        guarded_used = true;
                        lock_members.extend(crate::catalog::lock_method_names(true).map(sym));
                    }
                }
                if item_done[fi][ii]
                    && it.is_fn
                    && it.returns.iter().any(|i| interests.contains(i) || names.contains(i))
                {
                    // (A method by its type: its name, `get` or `inner`, is everybody's.)
                    if let Some(o) = it.owner {
                        returning_types.insert(o);
                    } else if let Some(&n) = it.global_names().first() {
                        returners.insert(n);
                        hot.insert(n);
                    }
                }
            }
        }
        for (fi, f) in facts.iter().enumerate() {
            for (ii, it) in f.items.iter().enumerate() {
                if inert(it) {
                    continue;
                }
                // A method of `impl Trait for T`, `T` interesting, is what a call through
                // `dyn Trait` or `X: Trait` runs, when the package defines the trait. (Whether
                // it is done or not: `T` can become interesting after it is.)
                if let (Some(o), Some(t)) = (it.owner, it.trait_of)
                    && names.contains(&o)
                    && traits.contains(&t)
                    && !names.contains(&t)
                {
                    add(
                        &mut names,
                        &mut hot,
                        &mut why,
                        t,
                        (
                            fi as u32,
                            Because::Names {
                                item: ii as u32,
                                name: o,
                            },
                        ),
                    );
                    changed = true;
                }
                if item_done[fi][ii] && spread[fi][ii] {
                    continue;
                }
                if it.kind == LexItemKind::Use {
                    for (orig, alias) in &it.renames {
                        if (interests.contains(orig) || names.contains(orig)) && !names.contains(alias) {
                            let cause = Because::Names {
                                item: ii as u32,
                                name: *orig,
                            };
                            add(&mut names, &mut hot, &mut why, *alias, (fi as u32, cause));
                            changed = true;
                        }
                    }
                    continue;
                }
                // A method's own name is no reference (`fn new` in `impl Pair` is not the free `new`).
                let own = |i: &Sym| it.owner.is_some() && it.names.contains(i);
                // A `RefCell` of a std type that holds no map (`RefCell<Vec<T>>`) is no interest:
                // no rule reads its borrows. (Unless the package defines that type, or its own
                // `RefCell`.)
                let cell_counts =
                    || it.cell_may_hold_map || own_cell || it.cell_heads.iter().any(|h| defined.contains(h));
                // A function takes a lock (or may: its lock events are what a rule reads) when
                // it calls a method that takes one, names a function, static or `macro_rules!`
                // that does, spawns, or calls a spawn helper. One that does not matters only
                // for what it names directly (a map it fills, a lock it makes) or returns (a
                // caller's value of an interesting type: `let s = shared(); s.m()`), and makes
                // no caller interesting. (A trait's methods, and those of a type shared by
                // `unsafe impl Sync`, are kept as if they took one: `takes_lock`; whether they
                // do is `locks`.)
                let a_fn = it.plain_fn()
                    && it
                        .owner
                        .is_none_or(|o| !own_traits.contains(&o) && !unsafe_shared.contains(&o));
                let value =
                    |i: &Sym| (names.contains(i) && !type_names.contains(i) || local[fi].contains(i)) && !own(i);
                // (A call of an interesting `macro_rules!`, read as a function.)
                let calls_macro = || {
                    it.macros
                        .iter()
                        .any(|m| macros_local[fi].contains(m) || macros_global.contains(m))
                };
                // Whether anything below can make the item interesting: most items name nothing
                // interesting, and whether they take a lock does not matter.
                let candidate = it
                    .owner
                    .is_some_and(|o| names.contains(&o) || returning_types.contains(&o))
                    || it.idents.iter().any(|i| {
                        hot.may_contain(*i)
                            && (interests.contains(i)
                                || names.contains(i)
                                || local[fi].contains(i)
                                || returners.contains(i))
                    })
                    || it.members.iter().any(|m| hot.may_contain(*m) && interests.contains(m))
                    || calls_macro();
                let locks = candidate
                    && (it.spawns
                        || it
                            .members
                            .iter()
                            .any(|m| lock_members.contains(m) || helpers.contains(m))
                        || it.idents.iter().any(|i| helpers.contains(i) || value(i))
                        || calls_macro());
                let takes_lock = !a_fn || locks;
                let mentioned = if candidate {
                    it.idents
                        .iter()
                        .find(|i| {
                            interests.contains(*i) && (**i != REFCELL || cell_counts())
                                || ((names.contains(*i) || local[fi].contains(*i))
                                    && !own(i)
                                    && (takes_lock || value(i)))
                        })
                        // A method of an interesting type that takes a lock (through `self`'s
                        // fields, `self.inner.lock()`).
                        .or_else(|| {
                            it.owner
                                .as_ref()
                                .filter(|o| it.is_fn && takes_lock && names.contains(*o))
                        })
                        // A function that takes a lock on a value another function returns
                        // (`shared().inner.lock()`), or a method that does, of a type with a method
                        // that returns one (`let s = self.state(); s.inner.lock()`).
                        .or_else(|| {
                            if takes_lock {
                                (it.idents.iter().find(|m| returners.contains(*m) && !own(m)))
                                    .or_else(|| it.owner.as_ref().filter(|o| returning_types.contains(*o)))
                            } else {
                                None
                            }
                        })
                        // A function that returns a value of an interesting type (or `Self`, of one).
                        .or_else(|| {
                            it.returns.iter().find(|i| {
                                interests.contains(*i)
                                    || names.contains(*i)
                                    || **i == SELF && it.owner.is_some_and(|o| names.contains(&o))
                            })
                        })
                        .or_else(|| it.members.iter().find(|i| interests.contains(*i)))
                        // `name!(..)` of an interesting `macro_rules!` (of this file, or the package's
                        // only one of that name): a call of it.
                        .or_else(|| {
                            it.macros
                                .iter()
                                .find(|m| macros_local[fi].contains(*m) || macros_global.contains(*m))
                        })
                } else {
                    None
                };
                if item_done[fi][ii] && !takes_lock {
                    // Kept, and still no reason to make its callers interesting.
                    continue;
                }
                let mentions = mentioned.is_some();
                // `unsafe impl Sync for T {}` matters only when `T` does: a type that holds
                // no map, cell or lock (nor a pointer to a type that does) names no interest,
                // and no rule can find anything in it (generated bindings have thousands). A
                // `static mut` always matters, and so does a package type named like a
                // well-known one (its own `Arc` changes what `Arc<T>` means everywhere).
                let shares_interesting =
                    it.unsafe_sharing && it.owner.is_none_or(|o| names.contains(&o) || well_known.contains(&o));
                if !item_done[fi][ii]
                    && !mentions
                    && !shares_interesting
                    && it.names.first().is_some_and(|n| called.contains(n))
                {
                    let spawns = spawn_helper(it, &helpers);
                    if spawns || closure_runner(it) {
                        // Kept for what it does to its callers' closures; its callers need not
                        // be (its names are not made interesting).
                        item_done[fi][ii] = true;
                        changed = true;
                        if spawns {
                            helpers.extend(it.names.first().copied());
                            why.files[fi].get_or_insert(Because::SpawnHelper { item: ii as u32 });
                        } else {
                            why.files[fi].get_or_insert(Because::ClosureRunner { item: ii as u32 });
                        }
                        continue;
                    }
                }
                if mentions || shares_interesting {
                    // (A trait's methods are kept whether they take a lock or not, but only
                    // one that takes one makes its name a method that does: a call resolves to
                    // an `impl`'s method, which counts for itself. A method of a type shared by
                    // `unsafe impl Sync` counts whatever it does.)
                    if it.is_fn && (locks || it.owner.is_some_and(|o| unsafe_shared.contains(&o))) {
                        lock_members.extend(it.method_names().iter().copied());
                    }
                    item_done[fi][ii] = true;
                    changed = true;
                    let cause = match mentioned {
                        Some(&name) => Because::Names { item: ii as u32, name },
                        None => Because::UnsafeSharing { item: ii as u32 },
                    };
                    if it.kind != LexItemKind::Use {
                        why.files[fi].get_or_insert(cause);
                    }
                    // `unsafe impl Sync for T {}` alone does not make `T` interesting: without a
                    // map, cell or lock in `T` (which would name an interest) no rule can find
                    // anything in its uses.
                    if takes_lock {
                        spread[fi][ii] = true;
                    }
                    if (mentions || it.owner.is_none() || it.range.is_some()) && takes_lock {
                        let types = it
                            .nested_owners
                            .iter()
                            .chain(&it.owner)
                            .filter(|t| defined.contains(*t));
                        for n in it.global_names().iter().filter(|n| **n != UNDERSCORE).chain(types) {
                            add(&mut names, &mut hot, &mut why, *n, (fi as u32, cause));
                        }
                        // The items nested in a function body are seen only there, which the
                        // model's scope of their file stands for.
                        // (A `macro_rules!` read as a function is called by its name: in its
                        // file, and from any file when the package defines it once. Macro
                        // names are no item names: `assert!` is no call of a `fn assert`.)
                        if it.kind == LexItemKind::MacroRules
                            && let Some(m) = it.macro_name
                        {
                            macros_local[fi].insert(m);
                            if macros_once.contains(&m) {
                                macros_global.insert(m);
                            }
                            why.names.entry(m).or_insert((fi as u32, cause));
                        }
                        for n in it.nested_names() {
                            hot.insert(*n);
                            if local[fi].insert(*n) {
                                why.names.entry(*n).or_insert((fi as u32, cause));
                            }
                        }
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut relevant: Vec<bool> = facts
        .iter()
        .enumerate()
        .map(|(fi, f)| {
            if why.files[fi].is_some() {
                return true;
            }
            let used = f.items.iter().enumerate().find_map(|(ii, it)| {
                if it.kind != LexItemKind::Use {
                    return None;
                }
                let name = it
                    .idents
                    .iter()
                    .find(|i| hot.may_contain(**i) && (interests.contains(*i) || names.contains(*i)))?;
                Some(Because::Names {
                    item: ii as u32,
                    name: *name,
                })
            });
            // (Items that mention an interesting name are interesting themselves.)
            let header = || {
                f.outside
                    .iter()
                    .find(|i| hot.may_contain(**i) && (names.contains(*i) || interests.contains(*i)))
                    .map(|&name| Because::Header { name })
            };
            why.files[fi] = used.or_else(header);
            why.files[fi].is_some()
        })
        .collect();
    // Name collisions: a skipped file defining a name that a parsed file uses and another parsed
    // file defines would change how that name resolves.
    loop {
        let defined: SymSet = facts
            .iter()
            .zip(&relevant)
            .filter(|(_, r)| **r)
            .flat_map(|(f, _)| file_global_names(f))
            .collect();
        // The names a skipped file defines that a parsed one does too, and of those, the ones a
        // parsed file uses (most packages have none of the first: their parsed files' idents
        // need no reading).
        let mut both: SymSet = facts
            .iter()
            .zip(&relevant)
            .filter(|(_, r)| !**r)
            .flat_map(|(f, _)| file_global_names(f))
            .filter(|n| defined.contains(n))
            .collect();
        if !both.is_empty() {
            let mentioned: SymSet = facts
                .iter()
                .zip(&relevant)
                .filter(|(_, r)| **r)
                .flat_map(|(f, _)| f.idents())
                .filter(|n| both.contains(n))
                .collect();
            both.retain(|n| mentioned.contains(n));
        }
        let mut changed = false;
        for (fi, f) in facts.iter().enumerate() {
            if relevant[fi] {
                continue;
            }
            let collides = file_global_names(f).find(|n| both.contains(n));
            if let Some(name) = collides {
                relevant[fi] = true;
                why.files[fi] = Some(Because::Collision { name });
                changed = true;
            }
        }
        if !changed {
            return Relevance {
                relevant,
                done: item_done,
                names,
                own_traits,
                why,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// `Omit::apply` builds the text from slices; what it makes is what blanking the bytes
        /// one by one makes (or the text itself where a range splits a character).
        #[test]
        fn omitting_blanks_the_bytes_of_each_range(
            parts in proptest::collection::vec(prop::sample::select(vec!["a", " ", "\n", "é", "{}", "x;"]), 0..30),
            cuts in proptest::collection::vec((0u32..80, 0u32..12), 0..5),
            holes in proptest::collection::vec((0usize..5, 0u32..12), 0..3),
        ) {
            let text: String = parts.concat();
            let n = text.len() as u32;
            let mut ranges: Vec<(u32, u32)> = Vec::new();
            for (lo, len) in cuts {
                let lo = lo.min(n).max(ranges.last().map_or(0, |r| r.1));
                ranges.push((lo, (lo + len).min(n).max(lo)));
            }
            // (A hole lies in a range, as the plan writes one.)
            let mut holes: Vec<u32> = holes
                .into_iter()
                .filter_map(|(r, off)| ranges.get(r).filter(|(lo, hi)| lo < hi).map(|(lo, hi)| lo + off % (hi - lo)))
                .collect();
            holes.sort_unstable();
            let omit = Omit { ranges: ranges.clone(), holes: holes.clone() };
            let mut bytes = text.as_bytes().to_vec();
            for &(lo, hi) in &ranges {
                for b in &mut bytes[lo as usize..hi as usize] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
            }
            for &at in &holes {
                bytes[at as usize] = b'_';
            }
            let want = String::from_utf8(bytes).unwrap_or_else(|_| text.clone());
            prop_assert_eq!(omit.apply(&text), want);
        }
    }

    #[test]
    fn sym_hashes_the_tail_as_if_zero_padded() {
        // The definition `sym` implements with overlapping loads.
        fn reference(s: &str) -> Sym {
            let mut h = 0;
            let mut chunks = s.as_bytes().chunks_exact(8);
            for c in &mut chunks {
                h = mix(h, u64::from_le_bytes(c.try_into().expect("8 bytes")));
            }
            let mut tail = [0u8; 8];
            tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
            mix(mix(h, u64::from_le_bytes(tail)), s.len() as u64)
        }
        let text = "abcdefghijklmnopqrstuvwxyz_0123456789é";
        for lo in 0..8 {
            for hi in lo..text.len() {
                if let Some(s) = text.get(lo..hi) {
                    assert_eq!(sym(s), reference(s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn the_word_table_finds_each_word_with_its_flags() {
        for (w, flags) in WORDS {
            assert_eq!(word(sym(w)), (*w, flags | WORD), "{w}");
        }
        for w in crate::catalog::SPAWN_ROOTS {
            assert_eq!(word(sym(w)), ("", SPAWN_ROOT), "{w}");
        }
        for w in crate::catalog::SPAWN_METHODS
            .iter()
            .chain(crate::catalog::PAR_ITER_METHODS)
        {
            assert_eq!(word(sym(w)).1 & SPAWN_METHOD, SPAWN_METHOD, "{w}");
        }
        for w in ["map", "lock", "Mutex", "fns", "r#fn", "", "spawner"] {
            assert_eq!(word(sym(w)), ("", 0), "{w}");
        }
    }

    fn names_of(f: &LexFacts) -> Vec<Vec<Sym>> {
        f.items.iter().map(|i| i.names.clone()).collect()
    }

    fn syms_of(words: &[&str]) -> Vec<Sym> {
        words.iter().map(|w| sym(w)).collect()
    }

    /// The text as `plan` would parse it: left-out items become `~`.
    fn planned(files: &[&str], interests: &[&str]) -> Vec<Option<String>> {
        let facts: Vec<LexFacts> = files.iter().enumerate().map(|(i, t)| lex(i as u32, t)).collect();
        let interests: HashSet<&str> = interests.iter().copied().collect();
        plan(&facts, &interests)
            .omit
            .into_iter()
            .zip(files)
            .map(|(p, t)| {
                p.map(|omit| {
                    let mut b = t.as_bytes().to_vec();
                    for (lo, hi) in omit.ranges {
                        b[lo as usize..hi as usize].fill(b'~');
                    }
                    for at in omit.holes {
                        b[at as usize] = b'_';
                    }
                    String::from_utf8(b).expect("ascii")
                })
            })
            .collect()
    }

    #[test]
    fn items_owners_and_errors() {
        let f = lex(
            0,
            "use std::sync::Mutex;\nstruct S { m: Mutex<u8> }\nimpl<T: X> Tr for S<T> where T: Y { fn get(&self) {} }\nfn free() { let r#type = 1; }\nstatic mut X: u8 = 0;\nunsafe impl Sync for S {}\n",
        );
        assert!(f.idents().any(|i| i == sym("Mutex")) && f.idents().any(|i| i == sym("type")));
        let items: Vec<(Option<Sym>, Option<Sym>, bool)> = f
            .items
            .iter()
            .map(|i| (i.names.first().copied(), i.owner, i.unsafe_sharing))
            .collect();
        assert_eq!(
            items,
            vec![
                (None, None, false),
                (Some(sym("S")), None, false),
                (Some(sym("get")), Some(sym("S")), false),
                (Some(sym("free")), None, false),
                (Some(sym("X")), None, true),
                (None, Some(sym("S")), true),
            ]
        );
        let mut header = syms_of(&["S", "Sync", "for"]);
        header.sort_unstable();
        assert_eq!(f.unsafe_impls, vec![header]);
        assert!(f.error.is_none());
        let m = lex(
            0,
            "lazy_static! { static ref A: Mutex<u8> = x; static ref B: u8 = 1; }\nfn f() {}\nuse std::collections::{BTreeMap as Ordered, HashMap};",
        );
        assert_eq!(names_of(&m), vec![syms_of(&["A", "B"]), syms_of(&["f"]), vec![]]);
        assert_eq!(m.items[2].renames, vec![(sym("BTreeMap"), sym("Ordered"))]);
        // The items a `macro_rules!` body defines are its names (nested: this file's only).
        let c = lex(0, "pub const fn size() {}\nmacro_rules! m { () => { fn hidden() {} } }");
        assert_eq!(names_of(&c), vec![syms_of(&["size"]), syms_of(&["hidden"])]);
        assert!(c.items[1].global_names().is_empty());
        // `*const T` is a pointer type, not a nested item named `T`.
        let p = lex(0, "extern \"C\" { pub fn fputs(s: *const c_char) -> c_int; }");
        assert_eq!(names_of(&p), vec![syms_of(&["fputs"])]);
        assert!(lex(0, "fn f() { \"open").error.is_some());
        assert!(lex(0, "fn f() { (] }").error.is_some());
        assert!(lex(0, "fn f() {").error.is_some());
        assert!(lex(0, "/* open").error.is_some());
    }

    #[test]
    fn members_are_not_item_names() {
        let f = lex(
            0,
            "fn f() { let v = Vec::new(); v.len(); Self::make(); Foo::<u8>::build(); module::free(); a..b; }",
        );
        for free in ["Vec", "v", "module", "free", "a", "b", "Foo"] {
            assert!(f.idents().any(|i| i == sym(free)), "{free}");
        }
        for member in ["new", "len", "make", "build"] {
            assert!(
                !f.idents().any(|i| i == sym(member)) && f.members().any(|m| m == sym(member)),
                "{member}"
            );
        }
    }

    #[test]
    fn item_ranges_cover_attributes_and_stop_at_the_right_token() {
        let text = "#![allow(x)]\n//! Module docs.\n\n/// Docs.\n#[derive(Debug)]\npub(crate) struct A;\nconst C: u8 = { 1 };\n::krate::mac!(x);\nmacro_rules! m ( () => {} );\nextern crate alloc;\nfn g() {}\n";
        let f = lex(0, text);
        let ranges: Vec<&str> = f
            .items
            .iter()
            .filter_map(|i| i.range)
            .map(|(lo, hi)| &text[lo as usize..hi as usize])
            .collect();
        assert_eq!(
            ranges,
            vec![
                "/// Docs.\n#[derive(Debug)]\npub(crate) struct A;",
                "const C: u8 = { 1 };",
                "::krate::mac!(x);",
                "macro_rules! m ( () => {} );",
                "fn g() {}",
            ]
        );
    }

    #[test]
    fn macros_the_model_does_not_read_are_left_out_and_item_macros_kept() {
        let lines = [
            // Its body is read, as a function of its own (`model::lower::macro_rules`).
            ("macro_rules! m { () => { Mutex::new(0) } }", true),
            // Its input is items: the model reads them (`item_macros_whose_input_holds_items_are_read`).
            ("cfg_rt! { fn f() { Mutex::new(0); } }", true),
            ("mock! { GET => Mutex::new(0) }", false),
            (
                "lazy_static::lazy_static! { static ref L: Mutex<u8> = Mutex::new(0); }",
                true,
            ),
            // A call of `m!`, whose body (read as a function) is interesting.
            ("fn g() { m!(); }", true),
            // Methods an item macro declares in an `impl`: the model reads them as the type's.
            ("impl S { cfg_rt! { fn a(&self) { Mutex::new(0); } } }", true),
        ];
        let text: String = lines.iter().flat_map(|(l, _)| [*l, "\n"]).collect();
        let expected: String = lines
            .iter()
            .map(|(l, kept)| if *kept { (*l).to_owned() } else { "~".repeat(l.len()) } + "\n")
            .collect();
        assert_eq!(planned(&[&text], &["Mutex"]), vec![Some(expected)]);
    }

    /// The attributes and doc comments of `text` that parsing leaves out.
    fn trivia_of(text: &str) -> Vec<&str> {
        lex(0, text)
            .trivia
            .iter()
            .map(|&(lo, hi)| &text[lo as usize..hi as usize])
            .collect()
    }

    #[test]
    fn attributes_and_doc_comments_are_left_out_where_that_hides_no_error() {
        let text = "#![allow(x)]\n//! Crate docs.\n/// Docs.\n#[derive(Debug)]\nstruct A { /** f */ #[serde(skip)] f: u8 }\nfn g(#[cfg(x)] a: u8) {\n    #[cfg(x)]\n    let b = 1;\n    /// dangling\n}\n";
        assert_eq!(
            trivia_of(text),
            vec![
                "#![allow(x)]",
                "//! Crate docs.",
                "/// Docs.",
                "#[derive(Debug)]",
                "/** f */",
                "#[serde(skip)]",
                "#[cfg(x)]",
                "#[cfg(x)]",
            ]
        );
        // Inner attributes after an item, attributes after `=` and at the end of the file stay
        // (syn rejects them there), as does everything in a macro's input.
        let text = "fn f() {}\n#![inner]\nconst C: u8 = #[attr] 1;\nm!(#[a] x);\nmacro_rules! n { (#[$m:meta]) => { /// d\n fn h() {} } }\n/// last";
        assert_eq!(trivia_of(text), Vec::<&str>::new());
        // A macro's input ends at its closing delimiter.
        assert_eq!(trivia_of("m! { #[a] x }\n#[b]\nfn f() {}"), vec!["#[b]"]);
    }

    fn relevant(files: &[LexFacts], interests: &HashSet<&str>) -> Vec<bool> {
        plan(files, interests).omit.iter().map(Option::is_some).collect()
    }

    #[test]
    fn relevance_follows_interesting_items() {
        let interests: HashSet<&str> = ["Mutex"].into_iter().collect();
        let files = [
            lex(
                0,
                "pub struct Registry { m: std::sync::Mutex<u8> }\npub struct Plain { n: u8 }",
            ),
            lex(1, "fn use_it(r: &Registry) { r.m.lock(); }"),
            lex(2, "fn helper() {} fn unrelated(p: &Plain) {}"),
            lex(3, "fn caller() { use_it(); }"),
            lex(
                4,
                "impl Registry { fn touch(&self) { self.m.lock(); } }\nimpl Plain { fn get(&self) {} }",
            ),
            lex(5, "fn other() { let p = Plain { n: 1 }; p.get(); }"),
            lex(6, "fn peek(r: &Registry) -> u8 { r.len_hint() }"),
        ];
        // 0 and 4 are interesting; 1 takes `Registry`'s lock; `use_it` becomes interesting
        // through it, so 3 follows; `Plain` is not interesting, so 2 and 5 are only lexed, and
        // 6 names `Registry` but takes no lock.
        assert_eq!(
            relevant(&files, &interests),
            vec![true, true, false, true, true, false, false]
        );
        // A name defined twice among parsed files and once more in a skipped one.
        let files = [
            lex(0, "fn a() { let m = std::sync::Mutex::new(0); helper(); }"),
            lex(1, "fn helper() { let _ = std::sync::Mutex::new(1); }"),
            lex(2, "fn helper() {}"),
        ];
        assert_eq!(relevant(&files, &interests), vec![true, true, true]);
        // A free `new` that is interesting does not make every `Type::new` interesting.
        let files = [
            lex(0, "fn new() -> std::sync::Mutex<u8> { todo!() }"),
            lex(1, "fn other() { let v = Vec::new(); }"),
            lex(2, "impl Plain { fn new() -> Self { Plain } }"),
        ];
        assert_eq!(relevant(&files, &interests), vec![true, false, false]);
    }

    #[test]
    fn plan_leaves_out_items_nothing_needs() {
        let out = planned(
            &[
                "use std::sync::Mutex;\nstruct Reg { m: Mutex<Cfg> }\nstruct Cfg { n: u8 }\nstruct Other;\nfn unrelated() { println!(); }\nimpl Reg {\n    fn touch(&self) { helper(); self.m.lock(); }\n}\nimpl Other {\n    fn get(&self) {}\n}\n",
                "fn helper() {}",
            ],
            &["Mutex"],
        );
        assert_eq!(
            out,
            vec![
                Some(
                    "use std::sync::Mutex;\nstruct Reg { m: Mutex<Cfg> }\nstruct Cfg { n: u8 }\n~~~~~~~~~~~~~\n~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\nimpl Reg {\n    fn touch(&self) { helper(); self.m.lock(); }\n}\nimpl Other {\n    ~~~~~~~~~~~~~~~~\n}\n"
                        .to_owned()
                ),
                None,
            ]
        );
    }

    #[test]
    fn plain_cells_are_read_from_the_text_after_the_word() {
        let cell = |text: &str| plain_cell(text.as_bytes(), 0);
        let some = |name: &str| Some(Some(sym(name)));
        // What the cell holds cannot be a map.
        assert_eq!(cell("<Vec<Cow<'static, str>>>"), some("Vec"));
        assert_eq!(cell(" < Option<Box<std::string::String>> >"), some("String"));
        assert_eq!(cell("<Rc<VecDeque<u8>>>"), some("VecDeque"));
        assert_eq!(cell("<u64>,"), some("u64"));
        assert_eq!(cell("::new(Vec::new())"), some("Vec"));
        assert_eq!(cell("::new( Vec::<Entry>::with_capacity(8) )"), some("Vec"));
        assert_eq!(cell("::new(std::string::String::from(\"x\"))"), some("String"));
        assert_eq!(cell("::new(vec![])"), some("Vec"));
        assert_eq!(cell("::new(0)"), Some(None));
        assert_eq!(cell("::new(0u32)"), Some(None));
        // It may be: a map, a type of the package or a generic parameter, something the text
        // does not say, or a comment or line break in the way.
        for text in [
            "<HashMap<K, V>>",
            "<Option<HashMap<K, V>>>",
            "<Inner>",
            "<T>",
            "< /* a list */ Vec<T>>",
            "::new(HashMap::new())",
            "::new(Default::default())",
            "::new(None)",
            "::new(items)",
            "::new(0.5)",
            "::new(1 + n)",
            "::default()",
            "\n    <Vec<u8>>",
            "<&'a Vec<u8>>",
            "",
        ] {
            assert_eq!(cell(text), None, "{text}");
        }
    }

    #[test]
    fn refcells_that_hold_no_map_are_no_interest() {
        // Parser state with a `RefCell` of a `Vec`: no borrow rule can find anything in it.
        let lookahead = "use std::cell::RefCell;\npub struct Peek { seen: RefCell<Vec<String>> }\npub fn peek() -> Peek { Peek { seen: RefCell::new(Vec::new()) } }\nimpl Peek {\n    fn note(&self, s: String) { self.seen.borrow_mut().push(s); }\n}\n";
        let counter = "thread_local! { static DEPTH: std::cell::RefCell<usize> = std::cell::RefCell::new(0); }\nfn enter() { DEPTH.with(|d| *d.borrow_mut() += 1); }\n";
        // Near misses: a map, a type of the package, a generic parameter, a package `Vec`.
        let map = "pub struct Seen { ids: RefCell<HashMap<u32, String>> }\n";
        let inner = "pub struct Registry { inner: RefCell<Inner> }\npub struct Inner { names: Vec<String> }\n";
        let generic = "pub struct Slot<T> { value: RefCell<T> }\n";
        let plans = planned(&[lookahead, counter, map, inner, generic], &["RefCell"]);
        // (The `use` alone is parsed, as for any file that imports a word of interest.)
        assert!(
            plans[0]
                .as_ref()
                .is_some_and(|p| p.starts_with("use ") && !p.contains("RefCell<")),
            "{plans:?}"
        );
        assert_eq!(plans[1], None, "{plans:?}");
        for (i, plan) in plans.iter().enumerate().skip(2) {
            assert!(plan.as_ref().is_some_and(|p| p.contains("RefCell<")), "{i}: {plans:?}");
        }
        // A package that defines its own `Vec` (or `RefCell`): the cell may hold anything.
        let own_vec = "pub struct Vec<T>(T);\n";
        let plans = planned(&[lookahead, own_vec], &["RefCell"]);
        assert!(plans[0].as_ref().is_some_and(|p| p.contains("RefCell<")), "{plans:?}");
        let own_cell = "pub struct RefCell<T>(T);\n";
        let plans = planned(&[counter, own_cell], &["RefCell"]);
        assert!(plans[0].is_some(), "{plans:?}");
    }

    #[test]
    fn methods_of_lock_types_and_of_impls_with_fn_bounds_are_kept() {
        // A trait implemented for a lock type: its methods lock `self`.
        let for_lock = "use std::sync::Mutex;\npub trait Clock { fn tick(&self) -> u64; }\nimpl<C: Clock> Clock for Mutex<C> {\n    fn tick(&self) -> u64 { self.lock().unwrap().tick() }\n}\n";
        // `->` in the `impl`'s bounds closes no `<`: the owner is still `Pool`.
        let pool = "pub struct Pool<T, F> { stack: Mutex<Vec<T>>, make: F }\nimpl<T, F: Fn() -> T> Pool<T, F> {\n    fn put(&self, v: T) { self.stack.lock().unwrap().push(v); }\n}\n";
        // Near miss: a trait implemented for a type that is no lock.
        let for_vec = "pub trait Size { fn size(&self) -> usize; }\nimpl<T> Size for Vec<T> {\n    fn size(&self) -> usize { self.len() }\n}\n";
        let plans = planned(&[for_lock, pool, for_vec], &["Mutex"]);
        assert!(
            plans[0].as_ref().is_some_and(|p| p.contains("self.lock()")),
            "{plans:?}"
        );
        assert!(plans[1].as_ref().is_some_and(|p| p.contains("fn put")), "{plans:?}");
        assert_eq!(plans[2], None, "{plans:?}");
        let f = lex(0, pool);
        assert_eq!(f.items.last().and_then(|it| it.owner), Some(sym("Pool")));
    }

    #[test]
    fn functions_that_name_an_interesting_type_are_kept_when_they_take_a_lock_or_return_one() {
        let shared = "pub struct Shared { inner: Mutex<HashMap<u64, String>>, hits: AtomicU64 }\n\
                      impl Shared {\n\
                      \x20   pub fn new() -> Self { Shared { inner: Mutex::new(HashMap::new()), hits: AtomicU64::new(0) } }\n\
                      \x20   pub fn find(&self, k: u64) -> Option<String> { self.inner.lock().unwrap().get(&k).cloned() }\n\
                      \x20   pub fn hits(&self) -> u64 { self.hits.load(Ordering::Relaxed) }\n\
                      \x20   fn refresh(&self) { if self.find(1).is_none() { self.bump(); } }\n\
                      \x20   fn bump(&self) { self.hits.fetch_add(1, Ordering::Relaxed); }\n\
                      }\n";
        let users = "pub fn report(s: &Shared) -> String { format!(\"{}\", s.hits()) }\n\
                     pub fn lookup(s: &Shared, k: u64) -> Option<String> { s.find(k) }\n\
                     pub fn shared() -> Arc<Shared> { Arc::new(Shared::new()) }\n\
                     fn serve(k: u64) -> usize { lookup(&shared(), k).map_or(0, |v| v.len()) }\n\
                     fn stats() -> u64 { report(&shared()).len() as u64 }\n";
        // Names the type, takes no lock: nothing in the file matters.
        let logs = "fn log_hits(s: &Shared) { println!(\"{}\", s.hits()); }\n";
        let plans = planned(&[shared, users, logs], &["Mutex", "HashMap"]);
        let (types, users) = (
            plans[0].as_deref().unwrap_or_default(),
            plans[1].as_deref().unwrap_or_default(),
        );
        // It takes a lock, calls a method that does, or makes a lock; it returns `Self`.
        for kept in ["fn new", "fn find", "fn refresh"] {
            assert!(types.contains(kept), "{kept}: {types}");
        }
        for left_out in ["fn hits", "fn bump"] {
            assert!(!types.contains(left_out), "{left_out}: {types}");
        }
        // It calls a method or function that takes a lock; it returns the type.
        for kept in ["fn lookup", "fn serve", "fn shared"] {
            assert!(users.contains(kept), "{kept}: {users}");
        }
        // It reads the type's fields without a lock, or calls only such functions.
        for left_out in ["fn report", "fn stats"] {
            assert!(!users.contains(left_out), "{left_out}: {users}");
        }
        assert_eq!(plans[2], None, "{plans:?}");
    }

    #[test]
    fn a_trait_method_makes_its_name_one_that_takes_a_lock_only_when_it_takes_one() {
        // The trait's methods are kept; `describe` takes no lock (its default body formats),
        // `flush` does (through its `impl`).
        let store = "pub trait Store { fn describe(&self) -> String { String::new() } fn flush(&self); }
                     pub struct Disk { pending: Mutex<HashMap<u64, Vec<u8>>> }
                     impl Store for Disk { fn flush(&self) { self.pending.lock().unwrap().clear(); } }
";
        // `describe` of another type, and `flush` of anything, through a value of the trait.
        let users = "fn banner(d: &Disk, c: &Config) -> String { c.describe() }
                     fn sync(s: &dyn Store, d: &Disk) { s.flush(); }
";
        let plans = planned(&[store, users], &["Mutex", "HashMap"]);
        let (store, users) = (
            plans[0].as_deref().unwrap_or_default(),
            plans[1].as_deref().unwrap_or_default(),
        );
        for kept in ["fn describe", "fn flush"] {
            assert!(store.contains(kept), "{kept}: {store}");
        }
        assert!(users.contains("fn sync"), "{users}");
        assert!(!users.contains("fn banner"), "{users}");
    }

    #[test]
    fn locks_reached_through_returned_values_later_callees_and_unsafe_sharing_are_kept() {
        // A method of a type that names no lock takes one on what another method returns.
        let handle = "pub struct Results { done: Mutex<u8> }\n\
                      pub struct Handle<S> { inner: Arc<S> }\n\
                      impl Handle<Results> {\n\
                      \x20   fn state(&self) -> &Results { &self.inner }\n\
                      \x20   fn record(&self) { self.state().done.lock(); }\n\
                      \x20   fn id(&self) -> u64 { 0 }\n\
                      }\n";
        // `setup` is kept for what it returns before `setup_with` (a later file) is found to take
        // a lock: it then makes `test_one` interesting too.
        let guard = "pub struct EnvGuard { g: MutexGuard<'static, ()> }\n";
        let setup = "fn setup() -> EnvGuard { setup_with(1) }\nfn test_one() { let _g = setup(); }\n";
        let setup_with = "fn setup_with(n: u8) -> EnvGuard { let g = ENV.lock(); todo!() }\n";
        // A `macro_rules!` that takes a lock, read as a function: a function that invokes it
        // takes the lock too, so its callers matter.
        let macros = "macro_rules! with_env { ($e:expr) => {{ let _g = ENV.lock(); $e }} }\n\
                      fn env_var(k: &str) -> String { with_env!(std::env::var(k).unwrap()) }\n\
                      fn home() -> String { env_var(\"HOME\") }\n\
                      static ENV: Mutex<()> = Mutex::new(());\n";
        // The methods of a type shared by `unsafe impl Sync` write with no lock to take.
        let interner = "pub struct Interner { ids: UnsafeCell<HashMap<u8, u8>> }\n\
                        unsafe impl Sync for Interner {}\n\
                        impl Interner {\n\
                        \x20   fn put(&self) { unsafe { (*self.ids.get()).insert(1, 1); } }\n\
                        }\n\
                        fn fill(i: &Interner) { i.put(); }\n";
        let plans = planned(
            &[handle, guard, setup, setup_with, interner, macros],
            &["Mutex", "MutexGuard", "HashMap", "UnsafeCell"],
        );
        let kept = |i: usize| plans[i].as_deref().unwrap_or_default();
        assert!(
            kept(0).contains("fn state") && kept(0).contains("fn record"),
            "{}",
            kept(0)
        );
        assert!(!kept(0).contains("fn id"), "{}", kept(0));
        assert!(
            kept(2).contains("fn setup()") && kept(2).contains("fn test_one"),
            "{}",
            kept(2)
        );
        assert!(kept(4).contains("fn put") && kept(4).contains("fn fill"), "{}", kept(4));
        assert!(
            kept(5).contains("fn env_var") && kept(5).contains("fn home"),
            "{}",
            kept(5)
        );
    }

    #[test]
    fn unsafe_impls_of_uninteresting_types_parse_nothing() {
        // Generated bindings: a handle type holding no map, cell or lock, shared by `unsafe impl`.
        let bindings = "pub struct Handle(*mut u8);\nunsafe impl Send for Handle {}\nunsafe impl Sync for Handle {}\n";
        // A type holding a lock: its `unsafe impl` matters.
        let shared = "pub struct Table(std::cell::UnsafeCell<Mutex<u8>>);\nunsafe impl Sync for Table {}\n";
        // A package type named like a well-known one changes what that name means everywhere.
        let own_arc = "pub struct Arc<T>(*const T);\nunsafe impl<T: Sync> Send for Arc<T> {}\n";
        let plans = planned(&[bindings, shared, own_arc], &["Mutex"]);
        assert_eq!(plans[0], None, "{plans:?}");
        assert!(
            plans[1]
                .as_ref()
                .is_some_and(|p| p.contains("unsafe impl Sync for Table")),
            "{plans:?}"
        );
        assert!(
            plans[2].as_ref().is_some_and(|p| p.contains("pub struct Arc<T>")),
            "{plans:?}"
        );
    }

    #[test]
    fn spawn_helpers_called_by_parsed_code_are_parsed() {
        let user = "fn fill(m: Mutex<u8>) { launch(move || drop(m)); quietly(|| ()); run_here(|| ()); }\n";
        // Spawns a closure parameter; through another helper; runs it on this thread.
        let helpers = "fn launch<F: FnOnce() + Send>(job: F) { std::thread::spawn(job); }\n\
                       fn quietly(job: impl FnOnce() + Send) { launch(job); }\n\
                       fn run_here<F: FnOnce()>(job: F) { job() }\n";
        // Spawns, takes a closure, but nothing parsed calls it.
        let unused = "fn idle<F: FnOnce() + Send>(job: F) { std::thread::spawn(job); }\n";
        let plans = planned(&[user, helpers, unused], &["Mutex"]);
        let kept = plans[1].as_deref().unwrap_or_default();
        assert!(kept.contains("fn launch") && kept.contains("fn quietly"), "{plans:?}");
        // (A closure runner: kept too, see below.)
        assert!(kept.contains("fn run_here"), "{plans:?}");
        assert_eq!(plans[2], None, "{plans:?}");
    }

    #[test]
    fn closure_runners_called_by_parsed_code_are_parsed() {
        let user = "fn bump(m: &Mutex<u8>) { guarded(m, |v| *v += 1); plain(1); }\n";
        // Takes a closure (by `impl`, by a bound in `where`); takes none; nothing parsed calls it.
        let helpers = "fn guarded<T>(m: &T, f: impl FnOnce(&mut u8)) { f(&mut 0) }\n\
                       fn plain(x: u8) -> u8 { x }\n";
        let bounded = "fn unused<F>(f: F) where F: FnMut() { f() }\n\
                       fn twice<F>(f: F) where F: FnMut() { f(); f() }\n";
        let caller = "fn again(m: &Mutex<u8>) { twice(|| drop(m.lock())); }\n";
        let plans = planned(&[user, helpers, bounded, caller], &["Mutex"]);
        let kept = plans[1].as_deref().unwrap_or_default();
        assert!(kept.contains("fn guarded") && !kept.contains("fn plain"), "{plans:?}");
        let kept = plans[2].as_deref().unwrap_or_default();
        assert!(kept.contains("fn twice") && !kept.contains("fn unused"), "{plans:?}");
    }

    #[test]
    fn spawns_are_paths_through_a_spawning_crate_or_module() {
        let spawns = |t: &str| lex(0, t).spawn_path;
        // What the model resolves as a spawn.
        assert!(spawns("fn f() { std::thread::spawn(|| ()); }"));
        assert!(spawns("fn f() { tokio::task::spawn_blocking(|| ()); }"));
        assert!(spawns("use rayon;\nfn f() { rayon::scope(|s| ()); }"));
        assert!(spawns("use tokio::{spawn, sync::Mutex};\nfn f() { spawn(async {}); }"));
        assert!(spawns("use std::thread as th;\nfn f() { th::spawn(|| ()); }"));
        // The same words elsewhere: a parameter named `scope`, a field `task`, a method `join`
        // of a path (generated bindings have thousands).
        assert!(!spawns("fn f(scope: u32, task: u32) -> u32 { scope + task }"));
        assert!(!spawns("fn f(t: Task) { t.thread; Path::new(\"a\").join(\"b\"); }"));
        assert!(!spawns("fn f() { my_pool::spawn(job); }"));
    }

    #[test]
    fn a_function_is_no_reference_to_its_namesakes_where_it_is_defined() {
        // Each example has its `main`; one takes a lock.
        let locking = "fn main() { let m = std::sync::Mutex::new(0u8); *m.lock().unwrap() += 1; }\n";
        let plain = "fn main() { println!(\"{}\", helper()); }\nfn helper() -> u8 { 1 }\n";
        let plans = planned(&[locking, plain], &["Mutex"]);
        assert!(plans[0].as_deref().is_some_and(|t| t.contains("fn main")), "{plans:?}");
        assert_eq!(plans[1], None, "{plans:?}");
        // A wrapper that calls its namesake does refer to it (and then every `main` is kept,
        // as the call could be to any of them).
        let wrapper = "fn main() { crate::other::main(); }\n";
        let plans = planned(&[locking, plain, wrapper], &["Mutex"]);
        assert!(plans[2].as_deref().is_some_and(|t| t.contains("fn main")), "{plans:?}");
    }

    #[test]
    fn spawning_methods_count_when_given_the_code_to_run() {
        let spawns = |t: &str| lex(0, t).spawn_methods;
        // The model registers a spawn for a call given a closure, a future or a function.
        assert!(spawns("fn f(pool: &Pool) { pool.spawn(move || work()); }"));
        assert!(spawns("fn f(rt: &Runtime) { rt.spawn(async move { serve().await }); }"));
        assert!(spawns("fn f() { thread::scope(|s| { s.spawn(|| ()); }); }"));
        assert!(spawns("fn f(b: Builder) { b.spawn(run).unwrap(); }"));
        assert!(spawns("fn f(s: &Scope) { s.spawn_scoped::<_, ()>(s, run); }"));
        assert!(spawns(
            "fn f(v: &[u8]) -> u64 { v.par_iter().map(|b| *b as u64).sum() }"
        ));
        // (A method named last, or named but not called: counted, never fewer facts.)
        assert!(spawns("fn f() { let g = Pool::spawn; }"));
        assert!(spawns("fn f(p: &Pool) { p.spawn"));
        // A process, a test harness's child: no code of the package runs elsewhere.
        assert!(!spawns(
            "fn f() { let child = Command::new(\"git\").arg(\"log\").spawn().unwrap(); }"
        ));
        assert!(!spawns("fn f(cmd: &mut Command) -> io::Result<Child> { cmd.spawn() }"));
        assert!(!spawns("fn f(cmd: &mut Command) { cmd.spawn( /* no job */ ); }"));
    }

    #[test]
    fn unsafe_impls_count_for_a_rule_only_when_their_type_can_hold_its_words() {
        let words: SymSet = ["HashMap", "UnsafeCell"].iter().map(|w| sym(w)).collect();
        let holding = |files: &[&str]| {
            let facts: Vec<LexFacts> = files.iter().enumerate().map(|(i, t)| lex(i as u32, t)).collect();
            unsafe_impl_holding(&facts, sym("Sync"), &words)
        };
        // Through a field, a type alias and a generic wrapper, in other files.
        assert!(holding(&[
            "struct Db { t: Table }\nunsafe impl Sync for Db {}",
            "type Table = UnsafeCell<Inner>;\nstruct Inner { m: HashMap<u8, u8> }"
        ]));
        assert!(holding(&[
            "struct Cell<T>(UnsafeCell<T>);\nunsafe impl<T> Sync for Cell<T> {}"
        ]));
        // A handle of a foreign object, or `Send` only.
        assert!(!holding(&[
            "struct Handle(*mut u8);\nunsafe impl Sync for Handle {}\nstruct M { m: HashMap<u8, u8> }"
        ]));
        assert!(!holding(&[
            "struct Db { m: UnsafeCell<HashMap<u8, u8>> }\nunsafe impl Send for Db {}"
        ]));
    }

    #[test]
    fn items_nested_in_a_body_are_names_of_their_file_only() {
        // `Size` is both a type of one file and a function nested in a body of another, which
        // takes a lock: only its own file's mention is a call of it.
        let vtable = "impl Vtbl {\n    fn new() -> Self {\n        fn Size() { LOCK.lock(); }\n        Size()\n    }\n}\nfn other() -> Size { Size::default() }\n";
        let types = "pub struct Size { w: u32 }\nfn area(s: Size) -> u32 { s.w }\n";
        assert_eq!(
            relevant(&[lex(0, vtable), lex(1, types)], &["LOCK"].into_iter().collect()),
            vec![true, false]
        );
    }

    #[test]
    fn item_macros_whose_input_holds_items_are_read() {
        let text = "cfg_if::cfg_if! {\n    if #[cfg(unix)] {\n        fn lock_all() { M.lock(); }\n    } else {\n        fn lock_all() {}\n    }\n}\ncfg_rt! {\n    pub struct Rt { m: Mutex<u8> }\n}\nroutes! { GET \"/\" => index }\nimpl X { my_methods! { fn m(&self) {} } }\n";
        let facts = lex(0, text);
        let macros: Vec<(bool, Vec<Sym>, bool)> = facts
            .items
            .iter()
            .filter(|i| i.kind == LexItemKind::Macro)
            .map(|i| (i.holds_items, i.names.clone(), inert(i)))
            .collect();
        assert_eq!(
            macros,
            vec![
                (true, syms_of(&["lock_all", "lock_all"]), false),
                (true, syms_of(&["Rt"]), false),
                (false, vec![], true),
                // In an `impl`: its items are `X`'s methods, read by the model.
                (true, syms_of(&["m"]), false),
            ]
        );
        let plans = planned(&[text], &["Mutex", "M"]);
        let kept = plans[0].as_deref().expect("parsed");
        assert!(
            kept.contains("fn lock_all() { M.lock(); }") && kept.contains("pub struct Rt"),
            "{kept}"
        );
        assert!(!kept.contains("routes!"), "{kept}");
    }

    #[test]
    fn const_blocks_of_items_are_read_other_constants_are_not() {
        let text = "const _: () = {\n    impl Plugins { fn reload(&self) { self.m.lock(); } }\n    fn helper() { LOCK.lock(); }\n};\nconst _: () = assert!(true);\nconst LIMIT: Mutex<u8> = Mutex::new(0);\n";
        let facts = lex(0, text);
        let consts: Vec<(bool, &[Sym])> = facts.items.iter().map(|i| (inert(i), i.nested_names())).collect();
        let helper = [sym("helper")];
        assert_eq!(consts, vec![(false, &helper[..]), (true, &[][..]), (true, &[][..])]);
        let kept = planned(&[text], &["LOCK"])[0].clone().expect("parsed");
        assert!(
            kept.contains("fn helper() { LOCK.lock(); }") && !kept.contains("LIMIT"),
            "{kept}"
        );
    }

    #[test]
    fn the_plan_says_why_a_file_is_parsed() {
        let texts = [
            "struct Registry { users: Mutex<u8> }\n",
            "fn serve(r: &Registry) { r.users.lock(); }\n",
            "fn unrelated() {}\n",
        ];
        let facts: Vec<LexFacts> = texts.iter().enumerate().map(|(i, t)| lex(i as u32, t)).collect();
        let p = plan(&facts, &["Mutex"].into_iter().collect());
        let named: Vec<(&str, &str)> = ["a.rs", "b.rs", "c.rs"].into_iter().zip(texts).collect();
        let why: Vec<Option<String>> = (0..3).map(|i| p.why.explain(i, &facts, &named)).collect();
        assert_eq!(
            why,
            vec![
                Some("`struct Registry` (a.rs:1) names `Mutex`".to_owned()),
                Some("`fn serve` (b.rs:1) names `Registry`, which `struct Registry` (a.rs:1) names `Mutex`".to_owned()),
                None,
            ]
        );
    }

    #[test]
    fn static_initializers_and_constants_are_left_out() {
        let file = "static HOOK: Box<dyn Fn() -> Option<u8> + Send> = Box::new(|| REG.lock().ok().map(|_| 1));\nstatic mut CACHE: Vec<u8> = Vec::new();\nconst LIMIT: Mutex<u8> = Mutex::new(0);\nstatic REG: Mutex<u8> = Mutex::new(0);\nfn uses_limit() { LIMIT.lock(); }\nfn uses_hook() { HOOK(); }\nextern \"C\" { static errno: i32; }\n";
        let facts = lex(0, file);
        let value_of = |name: &str| {
            let it = facts.items.iter().find(|i| i.names == syms_of(&[name])).expect(name);
            it.value.map(|(lo, hi)| &file[lo as usize..hi as usize])
        };
        assert_eq!(value_of("HOOK"), Some("Box::new(|| REG.lock().ok().map(|_| 1))"));
        assert_eq!(value_of("CACHE"), Some("Vec::new()"));
        assert_eq!(value_of("errno"), None);
        // The initializer's names are not the static's: `HOOK` does not name `REG`.
        let hook = facts
            .items
            .iter()
            .find(|i| i.names == syms_of(&["HOOK"]))
            .expect("HOOK");
        assert!(!hook.idents.contains(&sym("REG")) && !hook.members.contains(&sym("lock")));
        // What is parsed: `_` stands for the initializers of the statics kept.
        let gone = |s: &str| "~".repeat(s.len());
        let lines: Vec<&str> = file.lines().collect();
        let expected = [
            gone(lines[0]),
            format!("static mut CACHE: Vec<u8> = _{};", gone("Vec::new(")),
            gone(lines[2]),
            format!("static REG: Mutex<u8> = _{};", gone("Mutex::new(0")),
            gone(lines[4]),
            gone(lines[5]),
            format!("extern \"C\" {{ {} }}", gone("static errno: i32;")),
        ];
        assert_eq!(planned(&[file], &["Mutex"]), vec![Some(expected.join("\n") + "\n")]);
    }

    #[test]
    fn a_static_without_initializer_keeps_its_tokens() {
        // A syntax error stays for syn to report.
        let file = "static X: u8 = ;\nstatic Y: [u8; 1 << 2] = [0; 4];\nstatic Z: Foo<A=u8>= z();\n";
        let values: Vec<Option<&str>> = lex(0, file)
            .items
            .iter()
            .map(|i| i.value.map(|(lo, hi)| &file[lo as usize..hi as usize]))
            .collect();
        assert_eq!(values, vec![None, Some("[0; 4]"), Some("z()")]);
    }

    #[test]
    fn owners_count_only_when_the_package_defines_them() {
        let out = planned(
            &[
                // Methods of `u32` and of a trait are no call the model resolves (a default
                // body is parsed, it is analyzed); `write` in `outer` is a method of a nested
                // `impl`, not a free function.
                "impl Lock for u32 {\n    fn lock(&self) { let m = Mutex::new(0); }\n}\ntrait Locked {\n    fn go(&self) { Mutex::new(0); }\n}\nfn outer() {\n    struct L;\n    impl L { fn write(&self) { Mutex::new(()); } }\n}\nfn takes(n: u32) { n.go(); }\nfn logs() { write!(out, \"\"); }\n",
                // `impl A` defines `Real`'s methods, and `Real2`'s through a path.
                "struct Real { m: Mutex<u8> }\ntype A = Real;\nimpl A {\n    fn get(&self) { self.m.lock(); }\n}\ntype B = crate::m::Real2<u8>;\nimpl B {\n    fn go(&self) { Mutex::new(0).lock(); }\n}\nstruct Real2<T>(T);\nfn user(r: &Real2<u8>) { r.go() }\nfn other(r: &Other) {}\n",
            ],
            &["Mutex"],
        );
        // Each line kept (`+`) or left out (`-`).
        let kept = |text: &str| -> String {
            text.lines()
                .map(|l| if l.trim_start().starts_with('~') { '-' } else { '+' })
                .collect()
        };
        let first = out[0].as_deref().expect("parsed");
        let second = out[1].as_deref().expect("parsed");
        assert_eq!(
            (kept(first).as_str(), kept(second).as_str()),
            ("++++++++++--", "+++++++++++-"),
            "{first}\n{second}"
        );
    }

    #[test]
    fn trait_impls_make_their_trait_interesting() {
        // `Audit::on_event` takes a lock: a call through `dyn Handler` or `H: Handler` can run it,
        // so what names `Handler` is parsed; `Quiet` is a trait nobody implements with a lock.
        // A trait implemented twice is no call the model resolves: `Twice` stays uninteresting,
        // and `Audit`'s `q` takes no lock (a method of an interesting type that takes none is
        // left out).
        let file = "trait Handler {\n    fn on_event(&self);\n}\nstruct Audit { m: Mutex<u8> }\nimpl Handler for Audit {\n    fn on_event(&self) { self.m.lock(); }\n}\nfn dispatch(h: &dyn Handler) { h.on_event() }\nfn generic<H: Handler>(h: &H) { h.on_event() }\ntrait Twice { fn q(&self); }\nfn other(q: &dyn Twice) { q.q() }\nstruct Log;\nimpl Twice for Log {\n    fn q(&self) {}\n}\nimpl Twice for Audit {\n    fn q(&self) {}\n}\n";
        let kept: String = planned(&[file], &["Mutex"])[0]
            .as_deref()
            .expect("parsed")
            .lines()
            .map(|l| if l.trim_start().starts_with('~') { '-' } else { '+' })
            .collect();
        assert_eq!(kept, "++++++++++--+-++-+");
    }

    #[test]
    fn macro_names_and_attributes_are_no_references() {
        let file = "fn assert(m: &Mutex<u8>) { m.lock(); }\nfn test() { Mutex::new(0); }\n#[test]\nfn checks() {\n    #[cfg(test)]\n    let x = 1;\n    assert!(x == 1);\n}\nfn calls() { assert(&M); }\nfn nested() { vec![1]; other::assert!{}; }\n";
        let kept: String = planned(&[file], &["Mutex"])[0]
            .as_deref()
            .expect("parsed")
            .lines()
            .map(|l| if l.starts_with('~') { '-' } else { '+' })
            .collect();
        // (`planned` fills a left-out item with `~`, line breaks too.)
        assert_eq!(kept, "++-+-");
    }
}
