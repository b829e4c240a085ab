//! The layer rules, checked on the source itself: which module may use
//! which, and no cycles between modules. (Test code is not counted.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module is a file under `src/`, named by its path: `service::entries`;
/// `mod.rs` files and `lib.rs` (the root, `""`) name their folder.
fn module_name(relative: &Path) -> String {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

fn read_modules(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_modules(&path, root, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            // Tests sit at the end of a file and may use anything.
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            let relative = path.strip_prefix(root).unwrap_or(&path);
            // The binary's entry point and these checks are not layers.
            if relative != Path::new("main.rs") && relative != Path::new("architecture.rs") {
                out.insert(module_name(relative), code.to_string());
            }
        }
    }
}

/// `a::{b, c::{d}}` -> `a::b`, `a::c::d`.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else {
        return vec![path.trim().to_string()];
    };
    let prefix = &path[..open];
    let inner = &path[open + 1..path.rfind('}').unwrap_or(path.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (index, character) in inner.char_indices() {
        match character {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .flat_map(|part| expand(&format!("{prefix}{}", part.trim())))
        .collect()
}

/// Every path a module's code names: `use` trees and inline `crate::…` paths.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for statement in code.split(';') {
        if let Some(tree) = statement.trim_start().strip_prefix("use ").or_else(|| {
            statement
                .trim_start()
                .strip_prefix("pub use ")
                .or_else(|| statement.trim_start().strip_prefix("pub(crate) use "))
        }) {
            paths.extend(expand(tree));
        }
    }
    for (index, _) in code.match_indices("crate::") {
        let tail: String = code[index..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        // `crate::{a, b}` is a use tree, read above.
        if !tail.ends_with("::") {
            paths.push(tail);
        }
    }
    paths
}

/// What each module re-exports: item name -> the path it stands for.
type Reexports = BTreeMap<String, BTreeMap<String, String>>;

fn reexports(modules: &BTreeMap<String, String>) -> Reexports {
    let mut all = Reexports::new();
    for (name, code) in modules {
        for statement in code.split(';') {
            let Some(tree) = statement.trim_start().strip_prefix("pub use ") else {
                continue;
            };
            for path in expand(tree) {
                if let Some(item) = path.rsplit("::").next() {
                    all.entry(name.clone())
                        .or_default()
                        .insert(item.trim().to_string(), path.clone());
                }
            }
        }
    }
    all
}

/// The module a path names, seen from `from`: the longest known module
/// prefix, following re-exports (`crate::Config` is `config`'s).
fn resolve(
    path: &str,
    from: &str,
    modules: &BTreeMap<String, String>,
    reexported: &Reexports,
) -> Option<String> {
    let path = path.split(" as ").next().unwrap_or(path).trim();
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let (mut base, rest): (Vec<&str>, &[&str]) = match segments.first() {
        Some(&"crate") => (Vec::new(), &segments[1..]),
        Some(&"super") => {
            let mut parent: Vec<&str> = from.split("::").filter(|s| !s.is_empty()).collect();
            parent.pop();
            (parent, &segments[1..])
        }
        Some(&"self") => (
            from.split("::").filter(|s| !s.is_empty()).collect(),
            &segments[1..],
        ),
        Some(first) if modules.contains_key(&join(&from_parts(from), first)) => {
            (from_parts(from), &segments[..])
        }
        _ => return None,
    };
    let mut found = base.join("::");
    for segment in rest {
        base.push(segment);
        let candidate = base.join("::");
        if modules.contains_key(&candidate) {
            found = candidate;
        } else {
            if let Some(original) = reexported.get(&found).and_then(|items| items.get(*segment)) {
                if !original.starts_with("crate::") && original != path {
                    return resolve(original, &found, modules, reexported).or(Some(found));
                }
            }
            break;
        }
    }
    Some(found)
}

fn from_parts(from: &str) -> Vec<&str> {
    from.split("::").filter(|s| !s.is_empty()).collect()
}

fn join(parts: &[&str], last: &str) -> String {
    let mut all = parts.to_vec();
    all.push(last);
    all.join("::")
}

/// Which module uses which (a module's own children and parent excepted:
/// a folder's `mod.rs` re-exports and its files use its items).
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    read_modules(&root, &root, &mut modules);
    let reexported = reexports(&modules);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, code) in &modules {
        let used = graph.entry(name.clone()).or_default();
        for path in paths_in(code) {
            let Some(target) = resolve(&path, name, &modules, &reexported) else {
                continue;
            };
            let family = target == *name
                || !name.is_empty() && target.starts_with(&format!("{name}::"))
                || !target.is_empty() && name.starts_with(&format!("{target}::"));
            if !family {
                used.insert(target);
            }
        }
    }
    graph
}

fn layer(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

/// Every top-level module by tier, lowest first. A module uses only modules
/// of lower tiers: nothing sideways, nothing upwards.
const TIERS: [&[&str]; 8] = [
    // Rules and plumbing that know nothing of the rest: the domain (no
    // database, no HTTP), the clock, the error type, the connection-level
    // server and the documented paths.
    &["domain", "clock", "error", "server", "routes"],
    &["config"],
    // The database's shape and connection, the image pipeline, and the
    // HTTP glue the handlers share.
    &["db", "entities", "media", "middleware"],
    // The snapshot the feeds are rendered from (its rows read by the
    // services), the mail worker (handed the outbox as a queue) and the
    // requests to other servers (handed the delivery queue).
    &["feeds", "mail", "outbound"],
    &["service", "cluster"],
    // The composition of the running parts, and what is measured of them.
    &["state", "metrics"],
    // The two front doors, which never call each other.
    &["api", "web"],
    &["cli"],
];

fn tier(layer: &str) -> Option<usize> {
    TIERS.iter().position(|tier| tier.contains(&layer))
}

/// The upward and sideways uses of `graph`, and modules without a tier.
fn layer_violations(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    // Services render mail and are the worker's queue, but never send it:
    // sending is the worker's, started from `state`.
    let sending = ["mail::worker", "mail::transport"];
    let mut violations = Vec::new();
    // The crate root composes every layer.
    for (module, used) in graph.iter().filter(|(module, _)| !module.is_empty()) {
        let Some(own) = tier(layer(module)) else {
            violations.push(format!("{module} has no tier in TIERS"));
            continue;
        };
        for target in used {
            let upwards = !target.is_empty()
                && layer(target) != layer(module)
                && tier(layer(target)).is_none_or(|other| other >= own);
            let sends = layer(module) == "service" && sending.contains(&target.as_str());
            // Only the commands run the app the root composes.
            let root = target.is_empty() && layer(module) != "cli";
            if root || upwards || sends {
                let target = if target.is_empty() {
                    "the crate root"
                } else {
                    target
                };
                violations.push(format!("{module} uses {target}"));
            }
        }
    }
    violations
}

#[test]
fn layers_only_depend_downwards() {
    let graph = dependencies();
    assert!(graph.contains_key("service::entries"), "{graph:?}");
    let violations = layer_violations(&graph);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn an_upward_or_sideways_use_is_a_violation() {
    let graph = BTreeMap::from([
        (
            "domain::entry".to_string(),
            BTreeSet::from(["service::entries".to_string()]),
        ),
        (
            "api::feeds".to_string(),
            BTreeSet::from(["web::public".to_string()]),
        ),
        (
            "service::outbox".to_string(),
            BTreeSet::from(["mail::worker".to_string()]),
        ),
        (
            "web::public".to_string(),
            BTreeSet::from(["service::entries".to_string()]),
        ),
        ("newcomer".to_string(), BTreeSet::new()),
    ]);
    assert_eq!(
        layer_violations(&graph),
        [
            "api::feeds uses web::public",
            "domain::entry uses service::entries",
            "newcomer has no tier in TIERS",
            "service::outbox uses mail::worker",
        ]
    );
}

/// Crates that mean a database, HTTP or a runtime: none belongs in the domain.
const INFRASTRUCTURE_CRATES: [&str; 7] = [
    "poem", "sea_orm", "sqlx", "hyper", "reqwest", "lettre", "tokio",
];

#[test]
fn the_domain_knows_no_database_and_no_http() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    read_modules(&root, &root, &mut modules);
    for (name, code) in modules.iter().filter(|(name, _)| layer(name) == "domain") {
        for infrastructure in INFRASTRUCTURE_CRATES {
            assert!(
                !code.contains(infrastructure),
                "{name} mentions {infrastructure}"
            );
        }
    }
}

/// The cycles of `graph`, each as `a -> b -> a`.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    // Depth-first search; a node met again on the current path closes a cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            cycles.push(cycle.join(" -> "));
            return;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let (mut done, mut found) = (BTreeSet::new(), Vec::new());
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn no_module_cycles() {
    let cycles = cycles(&dependencies());
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

/// Which top-level module uses which (the crate root, which composes
/// them all, left out).
fn layer_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut layers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, used) in dependencies() {
        for target in used {
            let (from, to) = (layer(&module), layer(&target));
            if from != to && !from.is_empty() && !to.is_empty() {
                layers
                    .entry(from.to_string())
                    .or_default()
                    .insert(to.to_string());
            }
        }
    }
    layers
}

#[test]
fn no_cycles_between_layers() {
    // `api` and `web` used to call each other (the start page, the problem
    // types), and `mail` and `service` (the outbox): two layers that need
    // each other are one layer in two folders.
    let cycles = cycles(&layer_graph());
    assert!(cycles.is_empty(), "layer cycles:\n{}", cycles.join("\n"));
}

#[test]
fn paths_are_read_like_the_compiler_reads_them() {
    assert_eq!(
        expand("super::{Services, lookup::{a, b}}"),
        ["super::Services", "super::lookup::a", "super::lookup::b"]
    );
}

/// Longest a function may be, in lines, so that one can be read at once.
const MAX_FUNCTION_LINES: usize = 100;

/// `(module, function, lines)` of every function in `code` (a function runs
/// from its `fn` line to the closing brace at the same indentation).
fn function_lengths(module: &str, code: &str) -> Vec<(String, String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let signature = ["pub(crate) ", "pub(super) ", "pub ", "async ", "const "]
            .iter()
            .fold(trimmed, |rest, prefix| {
                rest.strip_prefix(prefix).unwrap_or(rest)
            });
        let Some(name) = signature.strip_prefix("fn ") else {
            continue;
        };
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let closing = format!("{indent}}}");
        if let Some(end) = lines[start..].iter().position(|line| *line == closing) {
            found.push((module.to_string(), name, end + 1));
        }
    }
    found
}

#[test]
fn no_function_is_longer_than_a_screenful_or_two() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    read_modules(&root, &root, &mut modules);
    let long: Vec<String> = modules
        .iter()
        .flat_map(|(module, code)| function_lengths(module, code))
        .filter(|(_, _, lines)| *lines > MAX_FUNCTION_LINES)
        .map(|(module, name, lines)| format!("{module}::{name}: {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn function_lengths_are_counted_to_the_closing_brace() {
    let code = "pub async fn one() {\n    a();\n}\n\nimpl X {\n    fn two(&self) {\n        b();\n        c();\n    }\n}\n";
    assert_eq!(
        function_lengths("m", code),
        [("m".into(), "one".into(), 3), ("m".into(), "two".into(), 4)]
    );
}
