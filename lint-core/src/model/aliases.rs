//! One object reached through two field paths: `Arc` identity carried through struct literals.
//!
//! A constructor that stores `Arc::clone(&peers)` in another struct it builds
//! (`Node { peers, gossip: Gossip::new(Arc::clone(&peers)) }`) makes `node.gossip.peers` the very
//! object `node.peers` is, for every `Node` built that way. This pass reads the struct literals
//! of the package's structs and records such aliases per struct type; the guard flow names a lock
//! by its shortest path, so a lock taken through either path is one lock. Every literal of the
//! struct must agree: a literal built otherwise (`..base`, a fresh `Arc` for one of the two
//! fields) makes the alias unknown, and nothing is assumed.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::body::{BodyFacts, FieldSource, Place, Root};
use super::items::ItemIndex;
use super::locks::{canonical, root_ty};
use super::types::SemTy;

const MAX_DEPTH: u32 = 4;

/// Field paths of a struct type that always hold the same object as a shorter path.
#[derive(Debug, Default)]
pub struct FieldAliases {
    /// `(struct, longer path)` → the shorter path of the same object.
    map: HashMap<(u32, Vec<String>), Vec<String>>,
    /// Constructors: the fields of the literal a function returns that hold what one of its
    /// parameters reaches (`(field path, parameter position, path inside the parameter)`).
    ctors: Ctors,
}

type Ctors = HashMap<u32, Vec<(Vec<String>, usize, Vec<String>)>>;
/// `(longer path, shorter path)` pairs of one struct.
type Aliases = Vec<(Vec<String>, Vec<String>)>;

impl FieldAliases {
    /// Reads every struct literal of the package.
    #[must_use]
    pub fn build(bodies: &[BodyFacts]) -> FieldAliases {
        // Constructors: the fields of a returned literal that hold what a parameter was given.
        let ctors: Ctors = bodies
            .iter()
            .enumerate()
            .filter_map(|(f, body)| {
                let lit = &body.struct_lits[body.returned_lit?];
                let fields: Vec<_> = lit
                    .fields
                    .iter()
                    .filter_map(|(name, src)| {
                        let FieldSource::Shared(p) = src else { return None };
                        let p = canonical(body, p);
                        let pos = match p.root {
                            Root::SelfParam => 0,
                            Root::Local(b) => body.param_pos(b)?,
                            Root::Static(_) => return None,
                        };
                        Some((vec![name.clone()], pos, p.fields))
                    })
                    .collect();
                (!fields.is_empty()).then_some((f as u32, fields))
            })
            .collect();
        // Per struct: the aliases every literal of it agrees on (`None`: a literal disagreed).
        let mut per_adt: HashMap<u32, Option<Aliases>> = HashMap::new();
        for body in bodies {
            for (i, lit) in body.struct_lits.iter().enumerate() {
                let found = if lit.has_rest {
                    None
                } else {
                    let mut objects = Vec::new();
                    objects_of(body, &ctors, &FieldSource::Lit(i), &[], 0, &mut objects);
                    Some(aliases_among(objects))
                };
                match per_adt.entry(lit.adt) {
                    Entry::Vacant(v) => {
                        v.insert(found);
                    }
                    Entry::Occupied(mut o) => {
                        let agreed = match (o.get_mut().take(), found) {
                            (Some(a), Some(b)) => Some(a.into_iter().filter(|x| b.contains(x)).collect()),
                            _ => None,
                        };
                        o.insert(agreed);
                    }
                }
            }
        }
        let mut map = HashMap::new();
        for (adt, aliases) in per_adt {
            for (long, short) in aliases.unwrap_or_default() {
                map.insert((adt, long), short);
            }
        }
        FieldAliases { map, ctors }
    }

    /// A lock place of function `f` with every aliased field path replaced by the shortest path
    /// of the same object.
    #[must_use]
    pub fn normalize(&self, ix: &ItemIndex, body: &BodyFacts, f: u32, mut place: Place) -> Place {
        if place.fields.is_empty() {
            return place;
        }
        // A local built by a literal or a constructor: its fields are the objects they were
        // built from (`let g = Gossip::new(Arc::clone(&self.peers)); g.peers` is `self.peers`).
        if let Root::Local(b) = place.root
            && let Some(built) = body.built_bindings.get(&b)
        {
            let mut objects = Vec::new();
            objects_of(body, &self.ctors, built, &[], 0, &mut objects);
            if let Some((path, object)) = objects
                .into_iter()
                .filter(|(path, _)| place.fields.starts_with(path))
                .max_by_key(|(path, _)| path.len())
            {
                let mut p = object;
                p.fields.extend(place.fields.drain(path.len()..));
                place = p;
            }
        }
        if self.map.is_empty() {
            return place;
        }
        let root_ty = root_ty(ix, body, f, place.root);
        for _ in 0..MAX_DEPTH {
            let mut changed = false;
            let mut ty = root_ty.clone();
            for start in 0..place.fields.len() {
                if let SemTy::Adt { id, .. } = ty.autoderef() {
                    let id = *id;
                    for end in (start + 1..=place.fields.len()).rev() {
                        if let Some(short) = self.map.get(&(id, place.fields[start..end].to_vec())) {
                            place.fields.splice(start..end, short.iter().cloned());
                            changed = true;
                            break;
                        }
                    }
                }
                if changed {
                    break;
                }
                ty = ix.field_ty(&ty, &place.fields[start]);
            }
            if !changed {
                break;
            }
        }
        place
    }
}

/// The objects a value built from `src` reaches, as `(path inside the value, place in the
/// function)`: a field's object, and the objects of the literals and constructors it was built
/// from.
fn objects_of(
    body: &BodyFacts,
    ctors: &Ctors,
    src: &FieldSource,
    path: &[String],
    depth: u32,
    out: &mut Vec<(Vec<String>, Place)>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match src {
        FieldSource::Shared(p) => {
            if let (Root::Local(b), true) = (p.root, p.fields.is_empty())
                && let Some(built) = body.built_bindings.get(&b)
            {
                objects_of(body, ctors, built, path, depth + 1, out);
            }
            if !path.is_empty() {
                out.push((path.to_vec(), canonical(body, p)));
            }
        }
        FieldSource::Lit(i) => {
            for (name, field) in &body.struct_lits[*i].fields {
                let mut q = path.to_vec();
                q.push(name.clone());
                objects_of(body, ctors, field, &q, depth + 1, out);
            }
        }
        FieldSource::Call { callee, args } => {
            for (sub, pos, inside) in ctors.get(callee).into_iter().flatten() {
                if let Some(Some(p)) = args.get(*pos) {
                    let mut q = path.to_vec();
                    q.extend(sub.iter().cloned());
                    let mut object = canonical(body, p);
                    object.fields.extend(inside.iter().cloned());
                    out.push((q, object));
                }
            }
        }
        FieldSource::Unknown => {}
    }
}

/// Paths that reach the same object: each longer one is an alias of the shortest.
fn aliases_among(mut objects: Vec<(Vec<String>, Place)>) -> Aliases {
    objects.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
    let mut out = Vec::new();
    for (i, (path, place)) in objects.iter().enumerate() {
        if let Some((short, _)) = objects[..i].iter().find(|(_, p)| p == place) {
            out.push((path.clone(), short.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Edition;
    use crate::model::Model;
    use crate::model::lower::parse_and_lower;

    /// The lock places of `f`'s events, as `field.field` of their root.
    fn locks(src: &str, f: &str) -> Vec<String> {
        let m = Model::build(
            Edition::E2021,
            vec![Some(parse_and_lower(0, src).unwrap())],
            vec![src.to_owned()],
        );
        let id = m.items.fns.iter().position(|x| x.def.name == f).unwrap();
        m.guards[id].events.iter().map(|e| e.lock.fields.join(".")).collect()
    }

    const TYPES: &str = "use std::sync::{Arc, Mutex}; use std::collections::HashMap;\n\
        type Peers = Arc<Mutex<HashMap<u8, u8>>>;\n\
        struct Gossip { peers: Peers }\n\
        impl Gossip { fn new(peers: Peers) -> Self { Gossip { peers } } fn announce(&self) { self.peers.lock().unwrap().len(); } }\n\
        struct Node { peers: Peers, gossip: Gossip }\n\
        impl Node { fn handle(&self) { let _g = self.peers.lock().unwrap(); self.gossip.announce(); } }\n";

    #[test]
    fn an_arc_stored_twice_by_every_constructor_is_one_lock() {
        let src = format!(
            "{TYPES}impl Node {{ fn new() -> Node {{ let peers: Peers = Arc::new(Mutex::new(HashMap::new()));\n\
             let gossip = Gossip::new(Arc::clone(&peers)); Node {{ peers, gossip }} }} }}"
        );
        assert_eq!(locks(&src, "handle"), vec!["peers", "peers"]);
        // Written in place, the same.
        let src = format!(
            "{TYPES}impl Node {{ fn new(peers: Peers) -> Node {{ Node {{ gossip: Gossip {{ peers: peers.clone() }}, peers }} }} }}"
        );
        assert_eq!(locks(&src, "handle"), vec!["peers", "peers"]);
    }

    #[test]
    fn one_constructor_that_does_not_share_makes_it_unknown() {
        let src = format!(
            "{TYPES}impl Node {{ fn new() -> Node {{ let peers: Peers = Arc::new(Mutex::new(HashMap::new()));\n\
             let gossip = Gossip::new(Arc::clone(&peers)); Node {{ peers, gossip }} }}\n\
             fn detached() -> Node {{ Node {{ peers: Arc::new(Mutex::new(HashMap::new())), gossip: Gossip::new(Arc::new(Mutex::new(HashMap::new()))) }} }} }}"
        );
        assert_eq!(locks(&src, "handle"), vec!["peers", "gossip.peers"]);
        let src =
            format!("{TYPES}impl Node {{ fn new(n: Node) -> Node {{ Node {{ peers: n.peers.clone(), ..n }} }} }}");
        assert_eq!(locks(&src, "handle"), vec!["peers", "gossip.peers"]);
    }
}
