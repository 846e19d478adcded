//! Source files and positions: byte offsets to 1-based lines and character columns.

/// A file's text with a line index. Columns are counted in Unicode scalar values, as rustc does.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as shown to the user (relative to the workspace root when possible).
    pub name: String,
    pub text: String,
    /// Built on first use: most files never report anything.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

/// A 1-based line and 1-based character column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// Number of lines (a trailing newline does not start a new line).
    #[must_use]
    pub fn line_count(&self) -> usize {
        if self.text.ends_with('\n') {
            self.line_starts().len() - 1
        } else {
            self.line_starts().len()
        }
    }

    /// 0-based line index of a byte offset (clamped to the file).
    #[must_use]
    pub fn line_index(&self, byte: usize) -> usize {
        let byte = byte.min(self.text.len());
        match self.line_starts().binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Byte offset of the first character of a 0-based line.
    #[must_use]
    pub fn line_start(&self, line_index: usize) -> usize {
        self.line_starts().get(line_index).copied().unwrap_or(self.text.len())
    }

    /// Text of a 0-based line without its line terminator.
    #[must_use]
    pub fn line_text(&self, line_index: usize) -> &str {
        let start = self.line_start(line_index);
        let end = self
            .line_starts()
            .get(line_index + 1)
            .copied()
            .unwrap_or(self.text.len());
        let line = &self.text[start..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// 1-based line and character column of a byte offset.
    #[must_use]
    pub fn line_col(&self, byte: usize) -> LineCol {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line = self.line_index(byte);
        let start = self.line_start(line);
        LineCol {
            line: line + 1,
            column: self.text[start..byte].chars().count() + 1,
        }
    }

    /// Byte offset of a 1-based line and 0-based character column (as proc-macro2 reports them).
    #[must_use]
    pub fn offset_of(&self, line: usize, char_column: usize) -> usize {
        offset_of(&self.text, self.line_starts(), line, char_column)
    }
}

/// The byte offset of each line's start.
pub(crate) fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::with_capacity(text.len() / 32 + 1);
    starts.push(0);
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    starts
}

/// Byte offset of a 1-based line and 0-based character column in `text`, whose
/// [`line_starts`] are given.
pub(crate) fn offset_of(text: &str, starts: &[usize], line: usize, char_column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let start = starts.get(line - 1).copied().unwrap_or(text.len());
    text[start..]
        .char_indices()
        .nth(char_column)
        .map_or(text.len(), |(i, _)| start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_chars() {
        let f = SourceFile::new("a.rs", "ab\r\nçd\n\nx");
        assert_eq!(f.line_count(), 4);
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(4), LineCol { line: 2, column: 1 });
        // 'ç' is two bytes: 'd' is at byte 6, character column 2.
        assert_eq!(f.line_col(6), LineCol { line: 2, column: 2 });
        assert_eq!(f.line_text(0), "ab");
        assert_eq!(f.line_text(1), "çd");
        assert_eq!(f.line_text(2), "");
        assert_eq!(f.offset_of(2, 1), 6);
        assert_eq!(f.line_col(10_000), LineCol { line: 4, column: 2 });
    }
}
