//! Path and name helpers shared by package discovery and configuration.

use std::path::{Component, Path, PathBuf};

pub fn display(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// Makes a path absolute and removes `.` and `..` without touching the file system.
pub fn absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Shell-style glob with `*`, `?` and `[...]` classes, as cargo accepts in `-p`.
pub fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('[', rest)) if rest.contains(&']') => {
                let close = rest.iter().position(|&c| c == ']').unwrap_or(0);
                let (class, after) = (&rest[..close], &rest[close + 1..]);
                let Some(&c) = n.first() else { return false };
                let (negate, class) = match class.split_first() {
                    Some(('!' | '^', r)) => (true, r),
                    _ => (false, class),
                };
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != negate && go(after, &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Cargo treats `-` and `_` alike in package names only when reporting; match exactly.
    go(&p, &n)
}
