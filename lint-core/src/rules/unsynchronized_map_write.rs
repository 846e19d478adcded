use crate::model::Model;
use crate::rules::helpers::Reporter;
use crate::rules::{Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it does
    /// TODO
    pub struct UnsynchronizedMapWrite {
        name: "unsynchronized_map_write",
        level: Deny,
        summary: "TODO",
        fix: None,
        since: "0.1.0",
    }
}

impl Rule for UnsynchronizedMapWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, _model: &Model, _file: u32, _out: &mut Reporter<'_>) {}
}
