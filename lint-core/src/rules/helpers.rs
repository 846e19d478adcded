//! Shared pieces of rules: the one reporting call and message helpers.

use crate::diagnostic::{Diagnostic, Help, Label, Level, Span};
use crate::rules::RuleMeta;

/// Collects a rule's findings for one file at the level in force.
#[derive(Debug)]
pub struct Reporter<'a> {
    pub(crate) meta: &'static RuleMeta,
    pub(crate) level: Level,
    pub(crate) file: u32,
    pub(crate) out: &'a mut Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    /// Starts a finding at `primary`; finish it with [`Finding::emit`].
    pub fn report(&mut self, primary: Span, message: impl Into<String>) -> Finding<'_, 'a> {
        let diag = Diagnostic {
            rule: self.meta.name.to_owned(),
            level: self.level,
            message: message.into(),
            primary: Some(primary),
            primary_label: None,
            labels: Vec::new(),
            helps: Vec::new(),
            notes: Vec::new(),
            file: self.file,
        };
        Finding { reporter: self, diag }
    }
}

/// A finding being built.
#[derive(Debug)]
#[must_use = "call .emit()"]
pub struct Finding<'r, 'a> {
    reporter: &'r mut Reporter<'a>,
    diag: Diagnostic,
}

impl Finding<'_, '_> {
    pub fn primary_label(mut self, label: impl Into<String>) -> Self {
        self.diag.primary_label = Some(label.into());
        self
    }

    pub fn label(mut self, span: Span, label: impl Into<String>) -> Self {
        self.diag.labels.push(Label { span, message: label.into() });
        self
    }

    pub fn help(mut self, message: impl Into<String>) -> Self {
        self.diag.helps.push(Help { message: message.into(), edits: Vec::new(), applicability: None });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.diag.notes.push(note.into());
        self
    }

    pub fn emit(self) {
        self.reporter.out.push(self.diag);
    }
}
