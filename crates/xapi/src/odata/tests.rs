use test_case::test_case;

use super::*;

#[test_case(prop("Name").eq("3CX Test"), "Name eq '3CX Test'" ; "eq string")]
#[test_case(prop("Name").eq("O'Brien"), "Name eq 'O''Brien'" ; "quote doubled")]
#[test_case(prop("Name").eq("x' or 1 eq 1 or Name eq '"), "Name eq 'x'' or 1 eq 1 or Name eq '''" ; "injection stays a literal")]
#[test_case(prop("Name").eq("''"), "Name eq ''''''" ; "only quotes")]
#[test_case(prop("Name").eq(""), "Name eq ''" ; "empty string")]
#[test_case(prop("Id").ne(5), "Id ne 5" ; "ne int")]
#[test_case(prop("Id").gt(-3), "Id gt -3" ; "gt negative")]
#[test_case(prop("Number").ge("100").and(prop("Number").lt("200")), "Number ge '100' and Number lt '200'" ; "range")]
#[test_case(prop("Id").le(7), "Id le 7" ; "le")]
#[test_case(prop("EmailAddress").ne(Literal::Null), "EmailAddress ne null" ; "ne null")]
#[test_case(prop("EmailAddress").is_null(), "EmailAddress eq null" ; "is null")]
#[test_case(prop("Enabled").eq(true), "Enabled eq true" ; "bool")]
#[test_case(prop("EmailAddress").tolower().eq("a@b.c"), "tolower(EmailAddress) eq 'a@b.c'" ; "tolower")]
#[test_case(prop("Name").toupper().eq("X"), "toupper(Name) eq 'X'" ; "toupper")]
#[test_case(prop("Caller").contains("101"), "contains(Caller,'101')" ; "contains")]
#[test_case(prop("Name").starts_with("Sal"), "startswith(Name,'Sal')" ; "startswith")]
#[test_case(prop("Name").ends_with("es"), "endswith(Name,'es')" ; "endswith")]
#[test_case(!prop("Name").contains("x"), "not contains(Name,'x')" ; "not call")]
#[test_case(!prop("Id").eq(1), "not (Id eq 1)" ; "not compare")]
#[test_case(prop("A").eq(1).or(prop("B").eq(2)).and(prop("C").eq(3)), "(A eq 1 or B eq 2) and C eq 3" ; "or inside and")]
#[test_case(prop("A").eq(1).and(prop("B").eq(2)).or(prop("C").eq(3)), "A eq 1 and B eq 2 or C eq 3" ; "and inside or")]
#[test_case(prop("A").eq(1).and(prop("B").eq(2).and(prop("C").eq(3))), "A eq 1 and (B eq 2 and C eq 3)" ; "right nested and")]
#[test_case(!(prop("A").eq(1).or(prop("B").eq(2))), "not (A eq 1 or B eq 2)" ; "not or")]
#[test_case(Filter::raw("Id gt 1 or Id lt 0").and(prop("A").eq(1)), "(Id gt 1 or Id lt 0) and A eq 1" ; "raw bracketed")]
#[test_case(prop("Groups/GroupId").eq(4), "Groups/GroupId eq 4" ; "property path")]
#[test_case(prop("Name").eq(Some("x")), "Name eq 'x'" ; "option some")]
#[test_case(prop("Name").eq(None::<&str>), "Name eq null" ; "option none")]
fn filter_text(filter: Filter, expected: &str) {
    assert_eq!(filter.to_string(), expected);
}

#[test_case(Query::new(), "" ; "empty")]
#[test_case(Query::new().select(["Id"]), "$select=Id" ; "select one")]
#[test_case(Query::new().select(["Id", "Number"]).top(50).skip(100).count(true), "$select=Id,Number&$top=50&$skip=100&$count=true" ; "paging")]
#[test_case(Query::new().order_by("Number", Direction::Asc).order_by("Id", Direction::Desc), "$orderby=Number,Id%20desc" ; "orderby")]
#[test_case(Query::new().expand("Members"), "$expand=Members" ; "expand")]
#[test_case(Query::new().expand(Expand::new("Groups").expand("Rights")), "$expand=Groups($expand%3DRights)" ; "nested expand")]
#[test_case(
    Query::new().expand(Expand::new("Groups").select(["GroupId", "Name"]).filter(prop("Name").eq("A&B")).expand(Expand::new("Rights").select(["RoleName"]))),
    "$expand=Groups($select%3DGroupId,Name%3B$filter%3DName%20eq%20'A%26B'%3B$expand%3DRights($select%3DRoleName))" ;
    "deep nested expand with options"
)]
#[test_case(Query::new().expand("Groups").expand("Members"), "$expand=Groups,Members" ; "two expands")]
#[test_case(Query::new().filter(prop("Name").eq("a b+c&d=e#f%g")), "$filter=Name%20eq%20'a%20b%2Bc%26d%3De%23f%25g'" ; "separators encoded")]
#[test_case(Query::new().filter(prop("Name").eq("Zoë")), "$filter=Name%20eq%20'Zo%C3%AB'" ; "utf8")]
#[test_case(Query::new().filter(prop("A").eq(1)).filter(prop("B").eq(2)), "$filter=A%20eq%201%20and%20B%20eq%202" ; "two filters and")]
fn query_string(query: Query, expected: &str) {
    assert_eq!(query.to_query_string(), expected);
}

#[test]
fn pairs_stay_unencoded() {
    let q = Query::new()
        .filter(prop("Name").eq("O'Brien & Sons"))
        .count(true);
    assert_eq!(
        q.to_pairs(),
        vec![
            ("$filter", "Name eq 'O''Brien & Sons'".to_owned()),
            ("$count", "true".to_owned()),
        ]
    );
}

#[test_case("Number='SP11'", "Number='SP11'" ; "alternate key")]
#[test_case("Pbx.GetByNumber(number='SP 1')", "Pbx.GetByNumber(number='SP%201')" ; "function form")]
#[test_case("Number='a/b?c#d'", "Number='a%2Fb%3Fc%23d'" ; "path breakers")]
fn key_segment(raw: &str, expected: &str) {
    assert_eq!(encode_key_segment(raw), expected);
}
