use serde_json::json;

use super::eval::properties;
use super::*;

fn matches(filter: &str, entity: serde_json::Value) -> bool {
    let expr = parse_filter(filter).expect("filter parses");
    evaluate(&expr, &entity).expect("filter evaluates")
}

#[test]
fn comparisons_and_logic() {
    let user = json!({"Id": 5, "Number": "150", "Name": "O'Brien", "EmailAddress": "A@B.c", "Enabled": true});
    assert!(matches("Number ge '100' and Number lt '200'", user.clone()));
    assert!(matches("Id eq 5 and not (Id eq 6)", user.clone()));
    assert!(matches("Id gt 10 or Name eq 'O''Brien'", user.clone()));
    assert!(matches("tolower(EmailAddress) eq 'a@b.c'", user.clone()));
    assert!(matches(
        "contains(Name,'Bri') and startswith(Name, 'O''') and endswith(Name,'en')",
        user.clone()
    ));
    assert!(matches(
        "Missing eq null and EmailAddress ne null",
        user.clone()
    ));
    assert!(matches("Enabled eq true", user.clone()));
    assert!(!matches("Id le 4", user.clone()));
    assert!(!matches("tolower(Missing) eq 'x'", user));
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    let e = json!({"A": 1, "B": 2, "C": 3});
    assert!(matches("A eq 1 or B eq 9 and C eq 9", e.clone()));
    assert!(!matches("(A eq 1 or B eq 9) and C eq 9", e));
}

#[test]
fn an_injected_quote_stays_inside_the_literal() {
    let e = json!({"Name": "x' or 1 eq 1 or Name eq '"});
    assert!(matches("Name eq 'x'' or 1 eq 1 or Name eq '''", e));
    assert!(!matches(
        "Name eq 'x'' or 1 eq 1 or Name eq '''",
        json!({"Name": "other"})
    ));
}

#[test]
fn errors() {
    for bad in [
        "Name eq 'open",
        "Name eq",
        "eq 1",
        "(Id eq 1",
        "Id eq 1)",
        "frobnicate(Name)",
        "contains(Name)",
        "Id # 1",
        "",
    ] {
        assert!(parse_filter(bad).is_err(), "{bad:?} should not parse");
    }
    let expr = parse_filter("Number eq 100").expect("parses");
    assert!(evaluate(&expr, &json!({"Number": "100"})).is_err());
    let deep = format!("{}Id eq 1{}", "(".repeat(500), ")".repeat(500));
    assert!(parse_filter(&deep).is_err());
}

#[test]
fn lists_properties() {
    let expr =
        parse_filter("tolower(EmailAddress) eq 'x' and Groups/GroupId eq 1").expect("parses");
    let props: Vec<String> = properties(&expr).iter().map(|p| p.join("/")).collect();
    assert_eq!(props, vec!["EmailAddress", "Groups/GroupId"]);
}
