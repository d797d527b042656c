//! `[[pbx]]`: several PBXs in one file.

use std::path::Path;

use super::*;

const TWO: &str = r#"
[fallback]
destination = "100"

[[pbx]]
name = "east"
url = "https://east.example.com:5001"
client_id = "800"

[pbx.route_points."800"]
bot = "ivr-menu"

[[pbx]]
name = "west"
url = "https://west.example.com"
client_id = "801"
client_secret_env = "WEST_SECRET"

[pbx.fallback]
destination = "200"

[pbx.route_points."800"]
bot = "echo"

[pbx.route_points."801"]
bot = "recorder"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("voicebot.toml"), text)
}

#[test]
fn each_pbx_becomes_a_view_with_its_own_route_points_and_fallback() {
    let config = parse(TWO).unwrap();
    assert!(config.has_several_pbxs());
    assert_eq!(config.pbx_names(), ["east", "west"]);
    let sites = config.sites();
    assert_eq!(sites.len(), 2);
    let (east, west) = (&sites[0], &sites[1]);
    assert_eq!(east.pbx_name(), "east");
    assert_eq!(east.url(), "https://east.example.com:5001");
    assert_eq!(east.route_points.keys().collect::<Vec<_>>(), ["800"]);
    assert_eq!(east.route_points["800"].bot.get_ref(), "ivr-menu");
    assert_eq!(east.fallback.as_ref().unwrap().destination.get_ref(), "100");
    assert_eq!(west.pbx().client_id, "801");
    assert_eq!(west.pbx().client_secret_env, "WEST_SECRET");
    assert_eq!(west.route_points.keys().collect::<Vec<_>>(), ["800", "801"]);
    assert_eq!(west.route_points["800"].bot.get_ref(), "echo");
    assert_eq!(west.fallback.as_ref().unwrap().destination.get_ref(), "200");
    assert_eq!(west.route_points_key(), "pbx[1].route_points");
    assert_eq!(west.pbx_key(), "pbx[1]");
}

#[test]
fn one_pbx_is_named_default_and_may_hold_its_route_points() {
    let text = r#"
[pbx]
url = "https://pbx.example.com"
client_id = "800"

[pbx.route_points."800"]
bot = "echo"
"#;
    let config = parse(text).unwrap();
    assert!(!config.has_several_pbxs());
    assert_eq!(config.pbx_name(), "default");
    assert_eq!(config.route_points["800"].bot.get_ref(), "echo");
    assert_eq!(config.sites().len(), 1);
    let both = format!("{text}\n[route_points.\"801\"]\nbot = \"echo\"\n");
    let error = parse(&both).unwrap_err();
    assert_eq!(error.key, "pbx.route_points");
    assert!(error.message.contains("keep one place"), "{error}");
}

#[test]
fn choosing_a_pbx_by_name_and_refusing_an_ambiguous_choice() {
    let config = parse(TWO).unwrap();
    assert_eq!(config.site(Some("west")).unwrap().pbx().client_id, "801");
    let error = config.site(None).unwrap_err();
    assert!(error.message.contains("--pbx NAME"), "{error}");
    assert!(error.message.contains("east, west"), "{error}");
    let error = config.site(Some("north")).unwrap_err();
    assert!(error.message.contains("no PBX named \"north\""), "{error}");
}

#[test]
fn several_pbxs_need_names_that_differ_and_route_points_of_their_own() {
    let error = parse(&TWO.replace("name = \"east\"\n", "")).unwrap_err();
    assert_eq!(error.key, "pbx[0].name");
    assert!(error.message.contains("needs a name"), "{error}");

    let error = parse(&TWO.replace("name = \"west\"", "name = \"east\"")).unwrap_err();
    assert_eq!(error.key, "pbx[1].name");
    assert!(error.message.contains("also the name of pbx[0]"), "{error}");
    assert!(error.position.is_some(), "{error}");

    let error = parse(&TWO.replace("name = \"west\"", "name = \"west coast\"")).unwrap_err();
    assert_eq!(error.key, "pbx[1].name");

    let error = parse(&format!("[route_points.\"900\"]\nbot = \"echo\"\n{TWO}")).unwrap_err();
    assert_eq!(error.key, "route_points");
    assert!(error.message.contains("each PBX has its own"), "{error}");

    let without = TWO.replace("[pbx.route_points.\"800\"]\nbot = \"ivr-menu\"\n", "");
    let error = parse(&without).unwrap_err();
    assert_eq!(error.key, "pbx[0].route_points");
}

#[test]
fn each_pbx_table_is_checked_and_named_by_its_index() {
    let error = parse(&TWO.replace("https://west.example.com", "ftp://west")).unwrap_err();
    assert_eq!(error.key, "pbx[1].url");
    let error = parse(&TWO.replace(
        "client_secret_env = \"WEST_SECRET\"",
        "client_secret = \"hunter2\"",
    ))
    .unwrap_err();
    assert_eq!(error.key, "pbx[1].client_secret");
    let error =
        parse(&TWO.replace("client_id = \"801\"", "client_id = \"801\"\ncolour = 1")).unwrap_err();
    assert_eq!(error.key, "pbx[1].colour", "{error}");
}

#[test]
fn a_busy_fallback_needs_a_destination_for_every_pbx() {
    let text = TWO.replace(
        "[fallback]\ndestination = \"100\"\n",
        "[limits]\nwhen_busy = \"fallback\"\n",
    );
    let error = parse(&text).unwrap_err();
    assert_eq!(error.key, "limits.when_busy");
    assert!(error.message.contains("\"east\""), "{error}");
    // With east's own fallback it is fine.
    let text = text.replace(
        "[pbx.route_points.\"800\"]\nbot = \"ivr-menu\"",
        "[pbx.fallback]\ndestination = \"300\"\n\n[pbx.route_points.\"800\"]\nbot = \"ivr-menu\"",
    );
    assert!(parse(&text).is_ok(), "{:?}", parse(&text).err());
}

#[test]
fn an_empty_pbx_list_is_refused() {
    let error = parse("pbx = []\n[route_points.\"800\"]\nbot = \"echo\"\n").unwrap_err();
    assert_eq!(error.key, "pbx");
}
