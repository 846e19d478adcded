//! The semantic model of one package, built once from all its files and read by every rule.

pub mod ir;
pub mod lower;

use crate::Edition;

/// One file of the package as the model sees it.
#[derive(Debug, Default)]
pub struct FileModel {
    /// `None` when the file could not be read or parsed.
    pub ir: Option<ir::FileIr>,
}

/// The package-wide model.
#[derive(Debug)]
pub struct Model {
    pub edition: Edition,
    pub files: Vec<FileModel>,
}

impl Model {
    #[must_use]
    pub fn build(edition: Edition, files: Vec<Option<ir::FileIr>>) -> Model {
        Model { edition, files: files.into_iter().map(|ir| FileModel { ir }).collect() }
    }
}
