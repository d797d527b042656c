//! The XAPI commands (`users`, `departments`, `parking`) as processes against a
//! simulator started in this process.

use std::process::Output;

use serde_json::Value;
use voicebot_sim::Sim;

use crate::cli::{code, text, voicebot, within};

/// Runs `voicebot ARGS` against `sim` (through `VOICEBOT_URL` and friends).
async fn xapi(sim: &Sim, args: &[&str]) -> Output {
    let url = sim.base_url();
    let env = [
        ("VOICEBOT_URL", url.as_str()),
        ("VOICEBOT_CLIENT_ID", "800"),
        ("VOICEBOT_CLIENT_SECRET", sim.client_secret()),
    ];
    voicebot(args, &env).await
}

/// Runs a command that must succeed and print JSON; returns the JSON.
async fn json(sim: &Sim, args: &[&str]) -> Value {
    let output = xapi(sim, args).await;
    assert_eq!(
        code(&output),
        0,
        "{args:?}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{args:?}: {error}: {}", text(&output.stdout)))
}

/// Runs a command that must succeed; returns its stdout.
async fn table(sim: &Sim, args: &[&str]) -> String {
    let output = xapi(sim, args).await;
    assert_eq!(code(&output), 0, "{args:?}: {}", text(&output.stderr));
    text(&output.stdout)
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .filter_map(|item| item["Number"].as_str().map(str::to_owned))
        .collect()
}

fn id(list: &Value) -> String {
    list[0]["Id"].as_i64().expect("an Id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_listed_filtered_and_deleted() {
    within(async {
        let sim = Sim::start().await.unwrap();
        let ada = json(
            &sim,
            &[
                "users",
                "create",
                "--number",
                "321",
                "--first-name",
                "Ada",
                "--last-name",
                "Lovelace",
                "--email",
                "ada@example.com",
                "--json",
            ],
        )
        .await;
        assert_eq!(numbers(&ada), ["321"]);
        let bob = json(
            &sim,
            &[
                "users",
                "create",
                "--number",
                "322",
                "--first-name",
                "Bob",
                "--json",
            ],
        )
        .await;

        let all = json(&sim, &["users", "list", "--json"]).await;
        let listed = numbers(&all);
        assert!(
            listed.contains(&"321".to_owned()) && listed.contains(&"322".to_owned()),
            "{all}"
        );
        let filtered = json(
            &sim,
            &["users", "list", "--filter", "Number eq '321'", "--json"],
        )
        .await;
        assert_eq!(numbers(&filtered), ["321"], "{filtered}");
        assert_eq!(filtered[0]["FirstName"], "Ada");

        let human = table(&sim, &["users", "list"]).await;
        for expected in [
            "Id",
            "Number",
            "Name",
            "E-mail",
            "Enabled",
            "Ada Lovelace",
            "ada@example.com",
        ] {
            assert!(human.contains(expected), "{expected:?} in {human}");
        }

        // One unknown id among several: the others go, the command says which did not.
        let output = xapi(&sim, &["users", "delete", &id(&ada), &id(&bob), "99999"]).await;
        assert_eq!(code(&output), 1, "{}", text(&output.stdout));
        let stderr = text(&output.stderr);
        assert!(stderr.contains("1 of 3 users were not deleted"), "{stderr}");
        assert!(
            text(&output.stdout).contains("99999"),
            "{}",
            text(&output.stdout)
        );
        let left = numbers(&json(&sim, &["users", "list", "--json"]).await);
        assert!(
            !left.contains(&"321".to_owned()) && !left.contains(&"322".to_owned()),
            "{left:?}"
        );

        // A single unknown id fails too, with the PBX's words.
        let output = xapi(&sim, &["users", "delete", "99999"]).await;
        assert_eq!(code(&output), 1);
        assert!(
            text(&output.stderr).contains("not found"),
            "{}",
            text(&output.stderr)
        );
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departments_and_parking_are_created_listed_and_deleted() {
    within(async {
        let sim = Sim::start().await.unwrap();
        let sales = json(
            &sim,
            &[
                "departments",
                "create",
                "--name",
                "Sales",
                "--user-range",
                "320-339",
                "--json",
            ],
        )
        .await;
        assert_eq!(sales[0]["Name"], "Sales", "{sales}");
        let sales_id = id(&sales);
        let list = json(&sim, &["departments", "list", "--json"]).await;
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|d| d["Name"] == "Sales"),
            "{list}"
        );
        let human = table(&sim, &["departments", "list"]).await;
        for expected in [
            "Id", "Number", "Name", "Users", "System", "Trunks", "Sales", "320-339",
        ] {
            assert!(human.contains(expected), "{expected:?} in {human}");
        }

        let parking = json(
            &sim,
            &["parking", "create", "--department", &sales_id, "--json"],
        )
        .await;
        let parking_id = id(&parking);
        let parking_number = parking[0]["Number"].as_str().expect("a number").to_owned();
        let list = json(&sim, &["parking", "list", "--json"]).await;
        assert!(numbers(&list).contains(&parking_number), "{list}");
        let mine = json(
            &sim,
            &["parking", "list", "--department", &sales_id, "--json"],
        )
        .await;
        assert_eq!(
            numbers(&mine),
            std::slice::from_ref(&parking_number),
            "{mine}"
        );
        let human = table(&sim, &["parking", "list"]).await;
        for expected in [
            "Id",
            "Number",
            "Departments",
            parking_number.as_str(),
            "Sales",
        ] {
            assert!(human.contains(expected), "{expected:?} in {human}");
        }
        let deleted = table(&sim, &["parking", "delete", &parking_id]).await;
        assert!(deleted.contains(&parking_id), "{deleted}");
        let list = json(&sim, &["parking", "list", "--json"]).await;
        assert!(!numbers(&list).contains(&parking_number), "{list}");

        let deleted = table(&sim, &["departments", "delete", &sales_id]).await;
        assert!(deleted.contains(&sales_id), "{deleted}");
        let list = json(&sim, &["departments", "list", "--json"]).await;
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|d| d["Name"] != "Sales"),
            "{list}"
        );
        let output = xapi(&sim, &["departments", "delete", &sales_id]).await;
        assert_eq!(code(&output), 1, "deleting it again fails");
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xapi_commands_exit_with_the_cli_codes() {
    within(async {
        let sim = Sim::start().await.unwrap();
        let url = sim.base_url();
        let base = [
            ("VOICEBOT_URL", url.as_str()),
            ("VOICEBOT_CLIENT_ID", "800"),
        ];
        // No secret: a usage error naming the variable.
        let output = voicebot(&["users", "list"], &base).await;
        assert_eq!(code(&output), 2, "{}", text(&output.stderr));
        assert!(text(&output.stderr).contains("VOICEBOT_CLIENT_SECRET"));
        // A wrong secret: authentication failure.
        let mut env = base.to_vec();
        env.push(("VOICEBOT_CLIENT_SECRET", "wrong"));
        let output = voicebot(&["departments", "list"], &env).await;
        assert_eq!(code(&output), 4, "{}", text(&output.stderr));
        // Nobody listening: unreachable.
        let env = [
            ("VOICEBOT_URL", "http://127.0.0.1:1"),
            ("VOICEBOT_CLIENT_ID", "800"),
            ("VOICEBOT_CLIENT_SECRET", "x"),
        ];
        let output = voicebot(&["parking", "list"], &env).await;
        assert_eq!(code(&output), 3, "{}", text(&output.stderr));
        sim.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xapi_commands_take_the_connection_flags_anywhere_and_a_config_file() {
    within(async {
        let sim = Sim::start().await.unwrap();
        let url = sim.base_url();
        // Flags after the subcommand, and the secret in a variable of our naming.
        let output = voicebot(
            &[
                "users",
                "list",
                "--url",
                url.as_str(),
                "--client-id",
                "800",
                "--secret-env",
                "MY_PBX_KEY",
                "--json",
            ],
            &[("MY_PBX_KEY", sim.client_secret())],
        )
        .await;
        assert_eq!(code(&output), 0, "{}", text(&output.stderr));
        assert!(
            serde_json::from_slice::<Value>(&output.stdout)
                .unwrap()
                .is_array()
        );
        // `-c voicebot.toml`, as `token` and `call` take it.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("voicebot.toml");
        std::fs::write(
            &file,
            format!(
                "[pbx]\nurl = \"{url}\"\nclient_id = \"800\"\n\n[route_points.\"800\"]\nbot = \"echo\"\n"
            ),
        )
        .unwrap();
        let config = file.to_str().unwrap();
        let output = voicebot(
            &["departments", "list", "-c", config, "--json"],
            &[("VOICEBOT_CLIENT_SECRET", sim.client_secret())],
        )
        .await;
        assert_eq!(code(&output), 0, "{}", text(&output.stderr));
        // Before the subcommand works too.
        let output = voicebot(
            &["parking", "-c", config, "list"],
            &[("VOICEBOT_CLIENT_SECRET", sim.client_secret())],
        )
        .await;
        assert_eq!(code(&output), 0, "{}", text(&output.stderr));
        sim.shutdown().await;
    })
    .await;
}
