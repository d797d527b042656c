//! The workspace's dependency graph, checked from `cargo metadata` against the list
//! below, edge for edge (dev-dependencies included): an edge the manifests add, or
//! one they drop, fails the build until this list and ARCHITECTURE.md say so too.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

/// How a crate depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// `[dependencies]` (or `[build-dependencies]`): part of what ships.
    Normal,
    /// `[dev-dependencies]` only: tests, examples and benches.
    Dev,
}

use Kind::{Dev, Normal};

/// Every edge between workspace crates, as ARCHITECTURE.md draws it. A crate that
/// depends on another both ways lists the normal edge only.
const EDGES: &[(&str, &str, Kind)] = &[
    // The leaves: wire types, sync DSP.
    // `voicebot-model` and `voicebot-media` depend on no workspace crate.
    ("voicebot-callcontrol", "voicebot-model", Normal),
    ("voicebot-callcontrol", "voicebot-sim", Dev),
    ("voicebot-dispatch", "voicebot-model", Normal),
    ("voicebot-speech", "voicebot-media", Normal),
    ("voicebot-sim", "voicebot-media", Normal),
    ("voicebot-sim", "voicebot-model", Normal),
    ("voicebot-xapi", "voicebot-callcontrol", Normal),
    ("voicebot-xapi", "voicebot-sim", Dev),
    ("voicebot-store", "voicebot-media", Normal),
    ("voicebot-store", "voicebot-testkit", Dev),
    // The bot author's API, with digit collection (`gather`).
    ("voicebot-bot", "voicebot-media", Normal),
    ("voicebot-bot", "voicebot-model", Normal),
    ("voicebot-bot", "voicebot-speech", Normal),
    ("voicebot-bot", "voicebot-testkit", Dev),
    // The runtime: carries out what `bot` declares.
    ("voicebot-engine", "voicebot-bot", Normal),
    ("voicebot-engine", "voicebot-callcontrol", Normal),
    ("voicebot-engine", "voicebot-dispatch", Normal),
    ("voicebot-engine", "voicebot-media", Normal),
    ("voicebot-engine", "voicebot-model", Normal),
    ("voicebot-engine", "voicebot-speech", Normal),
    ("voicebot-engine", "voicebot-sim", Dev),
    // The test kit: a library, but only ever a dev-dependency of others.
    ("voicebot-testkit", "voicebot-bot", Normal),
    ("voicebot-testkit", "voicebot-callcontrol", Normal),
    ("voicebot-testkit", "voicebot-engine", Normal),
    ("voicebot-testkit", "voicebot-media", Normal),
    ("voicebot-testkit", "voicebot-model", Normal),
    ("voicebot-testkit", "voicebot-sim", Normal),
    // Bots: `voicebot-bot` only (their tests: the test kit; the webhook's builds a
    // `CallInfo` from a model `Participant`).
    ("voicebot-announcement", "voicebot-bot", Normal),
    ("voicebot-announcement", "voicebot-testkit", Dev),
    ("voicebot-echo", "voicebot-bot", Normal),
    ("voicebot-echo", "voicebot-testkit", Dev),
    ("voicebot-ivr-menu", "voicebot-bot", Normal),
    ("voicebot-recorder", "voicebot-bot", Normal),
    ("voicebot-recorder", "voicebot-testkit", Dev),
    ("voicebot-transcriber", "voicebot-bot", Normal),
    ("voicebot-webhook", "voicebot-bot", Normal),
    ("voicebot-webhook", "voicebot-model", Dev),
    // The root package: the composition root links everything that ships.
    ("voicebot", "voicebot-announcement", Normal),
    ("voicebot", "voicebot-bot", Normal),
    ("voicebot", "voicebot-callcontrol", Normal),
    ("voicebot", "voicebot-echo", Normal),
    ("voicebot", "voicebot-engine", Normal),
    ("voicebot", "voicebot-ivr-menu", Normal),
    ("voicebot", "voicebot-media", Normal),
    ("voicebot", "voicebot-model", Normal),
    ("voicebot", "voicebot-recorder", Normal),
    ("voicebot", "voicebot-sim", Normal),
    ("voicebot", "voicebot-speech", Normal),
    ("voicebot", "voicebot-store", Normal),
    ("voicebot", "voicebot-transcriber", Normal),
    ("voicebot", "voicebot-webhook", Normal),
    ("voicebot", "voicebot-xapi", Normal),
    ("voicebot", "voicebot-testkit", Dev),
    // A bot author's crate: the `voicebot` library alone (tests: the test kit).
    ("custom-bot", "voicebot", Normal),
    ("custom-bot", "voicebot-testkit", Dev),
];

/// The edges between workspace crates the manifests declare.
fn declared() -> BTreeSet<(String, String, Kind)> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let packages = metadata["packages"].as_array().expect("packages array");
    let workspace: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut edges = BTreeSet::new();
    for package in packages {
        let name = package["name"].as_str().unwrap_or_default();
        let dependencies = package["dependencies"].as_array().into_iter().flatten();
        let mut normal = BTreeSet::new();
        let mut dev = BTreeSet::new();
        for dependency in dependencies {
            let dep = dependency["name"].as_str().unwrap_or_default();
            if !workspace.contains(dep) {
                continue;
            }
            // null = normal, "build", "dev"
            match dependency["kind"].as_str() {
                Some("dev") => dev.insert(dep),
                _ => normal.insert(dep),
            };
        }
        for dep in &normal {
            edges.insert((name.to_owned(), (*dep).to_owned(), Normal));
        }
        for dep in dev.difference(&normal) {
            edges.insert((name.to_owned(), (*dep).to_owned(), Dev));
        }
    }
    edges
}

#[test]
fn the_dependency_graph_is_exactly_the_one_drawn() {
    let allowed: BTreeSet<(String, String, Kind)> = EDGES
        .iter()
        .map(|(from, to, kind)| ((*from).to_owned(), (*to).to_owned(), *kind))
        .collect();
    assert_eq!(allowed.len(), EDGES.len(), "an edge is listed twice");
    let declared = declared();
    let added: Vec<_> = declared.difference(&allowed).collect();
    let dropped: Vec<_> = allowed.difference(&declared).collect();
    assert!(
        added.is_empty() && dropped.is_empty(),
        "edges in the manifests but not allowed: {added:?}\n\
         allowed edges the manifests no longer have (update EDGES and ARCHITECTURE.md): {dropped:?}"
    );
}

#[test]
fn the_rules_behind_the_list_hold() {
    for (from, to, kind) in EDGES {
        // Only the root links bots.
        if is_bot(to) {
            assert_eq!(
                *from, "voicebot",
                "{from} -> {to}: only the root links bots"
            );
        }
        // The test kit and (outside the root) the simulator are for tests only.
        if *to == "voicebot-testkit" || (*to == "voicebot-sim" && !is_test_support(from)) {
            assert_eq!(*kind, Dev, "{from} -> {to} must be a dev-dependency");
        }
        // `bot` never reaches the PBX client or the runtime; the leaves stay leaves.
        assert!(
            !(*from == "voicebot-bot" && matches!(*to, "voicebot-callcontrol" | "voicebot-engine")),
            "{from} -> {to}"
        );
        assert!(
            !matches!(*from, "voicebot-model" | "voicebot-media"),
            "{from} is a leaf"
        );
        // The simulator shares no client code with what it tests.
        if *from == "voicebot-sim" {
            assert!(
                matches!(*to, "voicebot-model" | "voicebot-media"),
                "{from} -> {to}"
            );
        }
    }
}

fn is_bot(name: &str) -> bool {
    matches!(
        name,
        "voicebot-announcement"
            | "voicebot-echo"
            | "voicebot-ivr-menu"
            | "voicebot-recorder"
            | "voicebot-transcriber"
            | "voicebot-webhook"
    )
}

/// Crates that may depend on the simulator normally: the root (`voicebot sim`,
/// `voicebot demo`) and the test kit (itself only ever a dev-dependency).
fn is_test_support(name: &str) -> bool {
    matches!(name, "voicebot" | "voicebot-testkit")
}
