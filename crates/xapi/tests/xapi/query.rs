use voicebot_xapi::odata::{Direction, Expand, Query, prop};
use voicebot_xapi::{GroupMember, UserFields, roles};

use crate::common::{default_group, start, timed, user};

#[tokio::test]
async fn odata_options_are_evaluated_by_the_pbx() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let users = s.client.users();
        let group = default_group(&s.client).await?;
        for (number, first) in [("601", "Anna"), ("602", "Bernd"), ("603", "Anton")] {
            let fields = UserFields {
                first_name: Some(first.to_owned()),
                groups: Some(vec![GroupMember::in_group(group, roles::MANAGERS)]),
                ..user(number, &format!("{first}@example.com"))
            };
            users.create(&fields).await?;
        }
        let query = Query::new()
            .filter(
                prop("FirstName")
                    .starts_with("An")
                    .and(!prop("Number").eq("601"))
                    .or(prop("FirstName").tolower().eq("bernd")),
            )
            .order_by("Number", Direction::Desc)
            .select(["Id", "Number"]);
        let page = users.list_page(&query).await?;
        let numbers: Vec<_> = page.items.iter().filter_map(|u| u.number.clone()).collect();
        assert_eq!(numbers, ["603", "602"]);
        assert!(
            page.items.iter().all(|u| u.first_name.is_none()),
            "$select drops the rest"
        );

        let query = Query::new().filter(prop("Number").eq("602")).expand(
            Expand::new("Groups")
                .select(["GroupId", "Name"])
                .expand(Expand::new("Rights").select(["RoleName"])),
        );
        let page = users.list_page(&query).await?;
        let groups = page.items[0].groups.clone().unwrap_or_default();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].group_id, Some(group));
        assert_eq!(
            groups[0]
                .rights
                .as_ref()
                .and_then(|r| r.role_name.as_deref()),
            Some(roles::MANAGERS)
        );
        assert!(groups[0].member_name.is_none(), "nested $select applies");

        let without = users
            .list_page(&Query::new().filter(prop("Number").eq("602")))
            .await?;
        assert!(
            without.items[0].groups.is_none(),
            "navigation only when expanded"
        );

        let none = users
            .list_page(&Query::new().filter(prop("Mobile").ne(None::<&str>)))
            .await?;
        assert!(none.items.is_empty());
        Ok(())
    })
    .await
}
