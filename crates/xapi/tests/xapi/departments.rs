use futures::TryStreamExt;
use voicebot_xapi::odata::{Query, prop};
use voicebot_xapi::{DepartmentFields, DepartmentProps, Error, GroupMember, roles};

use crate::common::{default_group, start, timed, user};

fn department(name: &str) -> DepartmentFields {
    DepartmentFields {
        name: Some(name.to_owned()),
        language: Some("EN".to_owned()),
        time_zone_id: Some("51".to_owned()),
        allow_call_service: Some(true),
        props: Some(DepartmentProps {
            live_chat_max_count: Some(20),
            ..DepartmentProps::with_ranges(("320", "339"), ("300", "319"), ("340", "345"))
        }),
        ..DepartmentFields::default()
    }
}

#[tokio::test]
async fn department_lifecycle() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let departments = s.client.departments();
        let created = departments.create(&department("3CX Test")).await?;
        assert!(
            created
                .number
                .as_deref()
                .is_some_and(|n| n.starts_with("GRP"))
        );
        let props = created.props.clone().unwrap_or_default();
        assert_eq!(props.user_number_from.as_deref(), Some("320"));
        assert_eq!(props.live_chat_max_count, Some(20));

        assert!(departments.exists_by_name("3CX Test").await?);
        assert!(!departments.exists_by_name("Nope").await?);

        s.client
            .users()
            .create(&user("320", "m@example.com"))
            .await?;
        let change = DepartmentFields {
            name: Some("Renamed".to_owned()),
            members: Some(vec![GroupMember::number("320", roles::USERS)]),
            ..DepartmentFields::default()
        };
        departments.update(created.id, &change).await?;
        let fetched = departments
            .get(created.id, Some(&Query::new().expand("Members")))
            .await?;
        assert_eq!(fetched.name.as_deref(), Some("Renamed"));
        let members = fetched.members.unwrap_or_default();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].number.as_deref(), Some("320"));

        let listed: Vec<_> = departments.list(Query::new()).try_collect().await?;
        assert_eq!(listed.len(), 2, "DEFAULT and ours");

        departments.delete(created.id).await?;
        assert!(
            departments
                .get(created.id, None)
                .await
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            departments
                .delete(created.id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn names_with_quotes_do_not_break_filters() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let departments = s.client.departments();
        departments.create(&department("O'Brien's Sales")).await?;
        assert!(departments.exists_by_name("O'Brien's Sales").await?);
        assert!(!departments.exists_by_name("O'Brien").await?);
        let found = departments
            .list_page(&Query::new().filter(prop("Name").contains("'s S")))
            .await?;
        assert_eq!(found.items.len(), 1);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn department_rules() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let departments = s.client.departments();
        departments.create(&department("Sales")).await?;
        let dup = departments.create(&department("sales")).await.unwrap_err();
        assert_eq!(
            dup.odata().expect("body").details[0].target.as_deref(),
            Some("Name")
        );

        let mut bad_range = department("Ranges");
        bad_range.props = Some(DepartmentProps::with_ranges(
            ("339", "320"),
            ("300", "319"),
            ("340", "345"),
        ));
        assert!(matches!(
            departments.create(&bad_range).await,
            Err(Error::BadRequest(_))
        ));

        let default = default_group(&s.client).await?;
        let err = departments.delete(default).await.unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)), "{err}");
        Ok(())
    })
    .await
}
