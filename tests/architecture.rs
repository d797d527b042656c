//! Dependency direction between workspace crates (STYLE.md §1), checked from
//! `cargo metadata` so a forbidden edge fails the build, not a code review.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// Workspace crates each crate may depend on (normal and build dependencies).
/// The bots under `bots/` may depend only on `voicebot-bot`, and the examples under
/// `examples/` only on `voicebot`.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("voicebot-model", &[][..]),
        ("voicebot-media", &[][..]),
        ("voicebot-callcontrol", &["voicebot-model"][..]),
        ("voicebot-dispatch", &["voicebot-model"][..]),
        (
            "voicebot-bot",
            &["voicebot-model", "voicebot-media", "voicebot-speech"][..],
        ),
        ("voicebot-speech", &["voicebot-model", "voicebot-media"][..]),
        ("voicebot-sim", &["voicebot-model", "voicebot-media"][..]),
        (
            "voicebot-xapi",
            &["voicebot-model", "voicebot-callcontrol"][..],
        ),
        (
            "voicebot-engine",
            &[
                "voicebot-bot",
                "voicebot-callcontrol",
                "voicebot-dispatch",
                "voicebot-media",
                "voicebot-model",
                "voicebot-speech",
            ][..],
        ),
        // The test kit runs the simulator, an engine and a bot together: a library, but
        // for bot crates' and the root's `[dev-dependencies]` only.
        ("voicebot-store", &["voicebot-media"][..]),
        (
            "voicebot-testkit",
            &[
                "voicebot-bot",
                "voicebot-callcontrol",
                "voicebot-dispatch",
                "voicebot-engine",
                "voicebot-media",
                "voicebot-model",
                "voicebot-sim",
            ][..],
        ),
    ])
}

#[test]
fn workspace_dependencies_point_one_way() {
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
    let workspace: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let allowed = allowed();
    let mut violations = Vec::new();
    for package in packages {
        let name = package["name"].as_str().unwrap_or_default();
        if name == "voicebot" {
            continue; // the binary is the composition root and may link everything
        }
        let manifest = package["manifest_path"].as_str().unwrap_or_default();
        let is_bot_plugin = manifest.contains("/bots/");
        // Worked examples are what a bot author's own crate looks like: the `voicebot`
        // library (the program and the bot API) and nothing deeper.
        let is_example = manifest.contains("/examples/");
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let dep = dependency["name"].as_str().unwrap_or_default();
            let kind = dependency["kind"].as_str(); // null = normal, "dev", "build"
            if !workspace.contains(&dep) || kind == Some("dev") {
                continue;
            }
            let ok = if is_bot_plugin {
                dep == "voicebot-bot"
            } else if is_example {
                dep == "voicebot"
            } else {
                allowed.get(name).is_some_and(|list| list.contains(&dep))
            };
            if !ok {
                violations.push(format!("{name} -> {dep}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "forbidden workspace edges: {violations:?}"
    );
}
