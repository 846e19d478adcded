use crate::model::Model;
use crate::rules::helpers::Reporter;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// TODO
    pub struct MapMutatedInSpawn {
        name: "map_mutated_in_spawn",
        level: Deny,
        summary: "TODO",
        fix: None,
        since: "0.1.0",
    }
}

impl Rule for MapMutatedInSpawn {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, _model: &Model, _file: u32, _out: &mut Reporter<'_>) {}
}
