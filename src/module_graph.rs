//! A test of the code's shape: no module of `src/` or `actors/src/` imports a module that
//! imports it back (directly or round a longer loop). Imports are read from the source
//! (`crate::`, `super::` and `self::` paths outside tests), resolved to the module files
//! they name; a module may use its own ancestors' items without that counting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn modules(root: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("source directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "main.rs")
            {
                let relative = path.strip_prefix(root).expect("under the root");
                let mut name: Module = relative
                    .with_extension("")
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    name.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    name.pop();
                }
                found.insert(name, path);
            }
        }
    }
    found
}

/// Where a module's `pub use` sends a name it re-exports (`pub use vault::Vault`), or every
/// name (`pub use self::interface::*`, under `"*"`).
type Reexports = BTreeMap<Module, BTreeMap<String, Module>>;

/// The module a path such as `super::leads::lead` names, if it is one of ours; `crate::`,
/// `super::`, `self::`, or (from `from`) a child module's bare name.
fn resolve(
    from: &Module,
    path: &[String],
    known: &BTreeMap<Module, PathBuf>,
    reexports: &Reexports,
) -> Option<Module> {
    let (mut base, mut rest): (Module, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (from.clone(), &path[1..]),
        "super" => (from[..from.len().saturating_sub(1)].to_vec(), &path[1..]),
        child => {
            let mut own = from.clone();
            own.push(child.to_string());
            if !known.contains_key(&own) {
                return None;
            }
            (from.clone(), path)
        }
    };
    while rest.first().map(String::as_str) == Some("super") {
        base.pop();
        rest = &rest[1..];
    }
    let take = (0..=rest.len()).rev().find(|&take| {
        let mut candidate = base.clone();
        candidate.extend(rest[..take].iter().cloned());
        known.contains_key(&candidate)
    })?;
    let mut module = base;
    module.extend(rest[..take].iter().cloned());
    // An item the module re-exports from one of its own modules is that module's.
    if let (Some(item), Some(table)) = (rest.get(take), reexports.get(&module)) {
        if let Some(target) = table.get(item).or_else(|| table.get("*")) {
            return Some(target.clone());
        }
    }
    Some(module)
}

/// The code of a source file without comments and without what only tests compile
/// (`#[cfg(test)] mod x;` and `#[cfg(test)] mod x { … }`).
fn code_of(source: &str) -> String {
    let lines: Vec<&str> = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect();
    let mut code = String::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            let next = lines.get(i + 1).map_or("", |l| l.trim());
            if next.starts_with("mod ") && next.ends_with(';') {
                i += 2;
                continue;
            }
            if next.starts_with("mod ") && next.ends_with('{') {
                let mut depth = 0i32;
                i += 1;
                while i < lines.len() {
                    depth += lines[i].matches('{').count() as i32;
                    depth -= lines[i].matches('}').count() as i32;
                    i += 1;
                    if depth <= 0 {
                        break;
                    }
                }
                continue;
            }
        }
        code.push_str(lines[i]);
        code.push('\n');
        i += 1;
    }
    code
}

/// Every path of a `use` tree (`a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`), and
/// every `crate::`/`super::`/`self::` path used in the code.
fn paths_of(code: &str) -> Vec<Vec<String>> {
    fn tree(prefix: &[String], text: &str, out: &mut Vec<Vec<String>>) {
        let text = text.trim();
        if let Some(open) = text.find('{') {
            let head: Vec<String> = text[..open]
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let mut base = prefix.to_vec();
            base.extend(head);
            let inner = &text[open + 1..text.rfind('}').unwrap_or(text.len())];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        tree(&base, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            tree(&base, &inner[start..], out);
        } else {
            let name = text.split(" as ").next().unwrap_or_default().trim();
            let mut path = prefix.to_vec();
            path.extend(
                name.split("::")
                    .filter(|s| !s.is_empty() && *s != "self" || name == "self")
                    .map(str::to_string),
            );
            if !path.is_empty() {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    for statement in code.split(';') {
        let statement = statement.trim();
        let body = statement
            .strip_prefix("pub use ")
            .or_else(|| statement.strip_prefix("pub(crate) use "))
            .or_else(|| statement.strip_prefix("pub(super) use "))
            .or_else(|| statement.strip_prefix("use "))
            .or_else(|| statement.rsplit_once("\nuse ").map(|(_, b)| b))
            .or_else(|| statement.rsplit_once("\npub use ").map(|(_, b)| b));
        if let Some(body) = body {
            tree(&[], body, &mut out);
        }
    }
    // Paths written in the code itself.
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        let ahead: String = chars[i..chars.len().min(i + 7)].iter().collect();
        if boundary
            && ["crate::", "super::", "self::"]
                .iter()
                .any(|p| ahead.starts_with(p))
        {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == ':')
            {
                j += 1;
            }
            let text: String = chars[i..j].iter().collect();
            out.push(
                text.trim_end_matches(':')
                    .split("::")
                    .map(str::to_string)
                    .collect(),
            );
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

fn imports(
    module: &Module,
    code: &str,
    known: &BTreeMap<Module, PathBuf>,
    reexports: &Reexports,
) -> BTreeSet<Module> {
    paths_of(code)
        .iter()
        .filter_map(|p| resolve(module, p, known, reexports))
        .filter(|target| target != module && !module.starts_with(target))
        .collect()
}

/// What each module re-exports from modules below it.
fn reexports_of(codes: &BTreeMap<Module, String>, known: &BTreeMap<Module, PathBuf>) -> Reexports {
    let none = Reexports::new();
    codes
        .iter()
        .map(|(module, code)| {
            let mut table = BTreeMap::new();
            for statement in code.split(';') {
                let Some(body) = statement.trim().strip_prefix("pub use ") else {
                    continue;
                };
                let mut paths = Vec::new();
                for path in paths_of(&format!("use {body};")) {
                    if let Some(target) = resolve(module, &path, known, &none) {
                        if target.starts_with(module) && &target != module {
                            let name = path.last().cloned().unwrap_or_default();
                            paths.push((
                                if body.ends_with('*') {
                                    "*".into()
                                } else {
                                    name
                                },
                                target,
                            ));
                        }
                    }
                }
                table.extend(paths);
            }
            (module.clone(), table)
        })
        .collect()
}

/// The groups of modules that import each other round a loop.
fn loops(root: &Path) -> Vec<Vec<String>> {
    let known = modules(root);
    let codes: BTreeMap<Module, String> = known
        .iter()
        .map(|(module, path)| {
            let source = std::fs::read_to_string(path).expect("source file");
            (module.clone(), code_of(&source))
        })
        .collect();
    let reexports = reexports_of(&codes, &known);
    let graph: BTreeMap<Module, BTreeSet<Module>> = codes
        .iter()
        .map(|(module, code)| (module.clone(), imports(module, code, &known, &reexports)))
        .collect();
    // Two modules are in a loop when each reaches the other.
    let reach = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut pending = vec![from.clone()];
        while let Some(m) = pending.pop() {
            for next in &graph[&m] {
                if seen.insert(next.clone()) {
                    pending.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&Module, BTreeSet<Module>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for (module, targets) in &reached {
        if targets.contains(*module) {
            let mut group: Vec<String> = targets
                .iter()
                .filter(|t| reached[t].contains(*module))
                .map(|t| t.join("::"))
                .collect();
            group.sort();
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
    }
    groups
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for root in [manifest.join("src"), manifest.join("actors/src")] {
        let found = loops(&root);
        assert!(
            found.is_empty(),
            "{}: import loops {found:?}",
            root.display()
        );
    }
}

/// Writes `files` (path, source) under a fresh directory and answers its loops.
fn loops_in(files: &[(&str, &str)]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, source) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).unwrap();
        std::fs::write(path, source).unwrap();
    }
    loops(dir.path())
}

#[test]
fn the_check_sees_a_loop() {
    let pair = vec![vec!["a".to_string(), "b".to_string()]];
    // Flat groups.
    let flat = [
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use super::b::thing;\n"),
        ("b.rs", "use crate::{a::other, x};\n"),
    ];
    assert_eq!(loops_in(&flat), pair);
    // Nested groups, and a test-only module declared before the import.
    let nested = [
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use super::{x, b::{thing, other}};\n"),
        ("b.rs", "#[cfg(test)]\nmod t;\n\nuse crate::a::y;\n"),
    ];
    assert_eq!(loops_in(&nested), pair);
    // Through a module that re-exports what one of its own modules holds.
    let facade = [
        ("lib.rs", "mod a;\nmod c;\n"),
        ("c/mod.rs", "mod inner;\npub use inner::Thing;\n"),
        ("c/inner.rs", "use crate::a::Z;\n"),
        ("a.rs", "use crate::c::Thing;\n"),
    ];
    assert_eq!(
        loops_in(&facade),
        vec![vec!["a".to_string(), "c::inner".to_string()]]
    );
    // A test module's imports do not count.
    let tests_only = [
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use super::b::thing;\n"),
        (
            "b.rs",
            "fn f() {}\n\n#[cfg(test)]\nmod tests {\n    use crate::a::x;\n}\n",
        ),
    ];
    assert!(loops_in(&tests_only).is_empty());
}
