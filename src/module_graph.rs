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
            } else if path.extension().is_some_and(|e| e == "rs") {
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

/// The module a path such as `super::leads::lead` names, if it is one of ours.
fn resolve(from: &Module, path: &[&str], known: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let (mut base, mut rest): (Module, &[&str]) = match *path.first()? {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (from.clone(), &path[1..]),
        "super" => (from[..from.len().saturating_sub(1)].to_vec(), &path[1..]),
        _ => return None,
    };
    while rest.first() == Some(&"super") {
        base.pop();
        rest = &rest[1..];
    }
    (0..=rest.len()).rev().find_map(|take| {
        let mut candidate = base.clone();
        candidate.extend(rest[..take].iter().map(|s| s.to_string()));
        known.contains_key(&candidate).then_some(candidate)
    })
}

fn imports(module: &Module, source: &str, known: &BTreeMap<Module, PathBuf>) -> BTreeSet<Module> {
    let code = source
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths: Vec<Vec<String>> = Vec::new();
    let words: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < words.len() {
        let rest: String = words[i..words.len().min(i + 7)].iter().collect();
        let boundary = i == 0 || !(words[i - 1].is_alphanumeric() || words[i - 1] == '_');
        if boundary
            && (rest.starts_with("crate::")
                || rest.starts_with("super::")
                || rest.starts_with("self::"))
        {
            let mut j = i;
            while j < words.len()
                && (words[j].is_alphanumeric() || words[j] == '_' || words[j] == ':')
            {
                j += 1;
            }
            let prefix: String = words[i..j].iter().collect();
            let prefix = prefix.trim_end_matches(':').to_string();
            let parts: Vec<String> = prefix.split("::").map(str::to_string).collect();
            // `use super::{a, b::c}`: each item of a group is a path of its own.
            if words.get(j) == Some(&'{') {
                let close = (j..words.len())
                    .find(|&k| words[k] == '}')
                    .unwrap_or(words.len());
                let group: String = words[j + 1..close].iter().collect();
                for item in group.split(',') {
                    let item = item.split_whitespace().next().unwrap_or_default();
                    if !item.is_empty() && item != "self" {
                        let mut full = parts.clone();
                        full.extend(item.split("::").map(str::to_string));
                        paths.push(full);
                    }
                }
            }
            paths.push(parts);
            i = j;
        } else {
            i += 1;
        }
    }
    paths
        .iter()
        .filter_map(|p| {
            resolve(
                module,
                &p.iter().map(String::as_str).collect::<Vec<_>>(),
                known,
            )
        })
        .filter(|target| target != module && !module.starts_with(target))
        .collect()
}

/// The groups of modules that import each other round a loop.
fn loops(root: &Path) -> Vec<Vec<String>> {
    let known = modules(root);
    let graph: BTreeMap<Module, BTreeSet<Module>> = known
        .iter()
        .map(|(module, path)| {
            let source = std::fs::read_to_string(path).expect("source file");
            (module.clone(), imports(module, &source, &known))
        })
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

#[test]
fn the_check_sees_a_loop() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use super::b::thing;\n").unwrap();
    std::fs::write(dir.path().join("b.rs"), "use crate::{a::other, x};\n").unwrap();
    assert_eq!(
        loops(dir.path()),
        vec![vec!["a".to_string(), "b".to_string()]]
    );
}
