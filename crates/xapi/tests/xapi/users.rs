use futures::TryStreamExt;
use voicebot_sim::SimConfig;
use voicebot_xapi::odata::{Query, prop};
use voicebot_xapi::{
    Error, GroupMember, NumberLookup, UserFields, UserId, VoicemailEmailOptions, roles,
};

use crate::common::{default_group, start, start_with, timed, user};

#[tokio::test]
async fn ping_reports_the_pbx_version() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let version = s.client.ping().await?;
        assert_eq!(version.to_string(), "20.0.10.999");
        assert!(version.has_number_keys());
        assert_eq!(s.client.cached_version().await?, version);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn create_get_update_delete() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let users = s.client.users();
        let fields = UserFields {
            access_password: Some("SecurePassword123!".to_owned()),
            language: Some("DE".to_owned()),
            prompt_set: Some("1e6ed594-af95-4bb4-af56-b957ac87d6d7".to_owned()),
            voicemail_email_options: Some(VoicemailEmailOptions::Attachment),
            voicemail_pin: Some("4321".to_owned()),
            require_2fa: Some(true),
            ..user("211", "john@example.com")
        };
        let created = users.create(&fields).await?;
        assert!(created.id.0 > 0);
        assert_eq!(created.number.as_deref(), Some("211"));
        assert_eq!(created.language.as_deref(), Some("DE"));
        assert_eq!(
            created.voicemail_email_options,
            Some(VoicemailEmailOptions::Attachment)
        );
        assert!(
            !created.extra.contains_key("AccessPassword"),
            "password is write-only"
        );

        let fetched = users
            .get(created.id, Some(&Query::new().expand("Groups")))
            .await?;
        assert_eq!(fetched.email_address.as_deref(), Some("john@example.com"));
        let groups = fetched.groups.unwrap_or_default();
        assert_eq!(groups.len(), 1, "new users land in DEFAULT");
        assert_eq!(groups[0].name.as_deref(), Some("DEFAULT"));

        let change = UserFields {
            first_name: Some("Johnny".to_owned()),
            number: Some("211".to_owned()),
            ..UserFields::default()
        };
        users.update(created.id, &change).await?;
        assert_eq!(
            users.get(created.id, None).await?.first_name.as_deref(),
            Some("Johnny")
        );

        let by_number = users.get_by_number("211", NumberLookup::Auto).await?;
        assert_eq!(by_number.id, created.id);

        users.delete(created.id).await?;
        assert!(
            users
                .get(created.id, None)
                .await
                .unwrap_err()
                .is_not_found()
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn pbx_assigns_a_number_when_none_is_given() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let created = s.client.users().create(&UserFields::default()).await?;
        let number = created.number.unwrap_or_default();
        assert!(!number.is_empty() && number.chars().all(|c| c.is_ascii_digit()));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn validation_rules_of_3cx() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let users = s.client.users();
        let first = users.create(&user("300", "Jane@Example.com")).await?;

        let dup_number = users
            .create(&user("300", "other@example.com"))
            .await
            .unwrap_err();
        let body = dup_number.odata().expect("body").clone();
        assert!(matches!(dup_number, Error::BadRequest(_)));
        assert_eq!(body.details[0].target.as_deref(), Some("Number"));

        let dup_email = users
            .create(&user("301", "jane@EXAMPLE.com"))
            .await
            .unwrap_err();
        assert!(matches!(dup_email, Error::BadRequest(_)));
        assert_eq!(
            dup_email.odata().expect("body").details[0]
                .target
                .as_deref(),
            Some("EmailAddress")
        );

        let renumber = UserFields {
            number: Some("399".to_owned()),
            ..UserFields::default()
        };
        let err = users.update(first.id, &renumber).await.unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)));
        assert!(err.to_string().contains("cannot be changed"), "{err}");

        let mut unknown = UserFields::default();
        unknown
            .extra
            .insert("NoSuchProperty".to_owned(), serde_json::json!(1));
        assert!(matches!(
            users.create(&unknown).await,
            Err(Error::BadRequest(_))
        ));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn exists_by_email_ignores_case_and_escapes_quotes() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let users = s.client.users();
        users.create(&user("210", "O'Brien@Example.com")).await?;
        assert!(users.exists_by_email("o'brien@example.COM").await?);
        assert!(!users.exists_by_email("nobody@example.com").await?);
        // An attempted injection is just an e-mail that does not exist.
        assert!(
            !users
                .exists_by_email("x' or 1 eq 1 or EmailAddress eq '")
                .await?
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn paging_across_several_pages() -> anyhow::Result<()> {
    timed(async {
        let s = start_with(SimConfig::default(), 3).await?;
        let users = s.client.users();
        for n in 0..10 {
            users
                .create(&user(&format!("5{n:02}"), &format!("p{n}@example.com")))
                .await?;
        }
        let range = Query::new().filter(prop("Number").ge("500").and(prop("Number").lt("600")));
        let all: Vec<_> = users.list(range.clone()).try_collect().await?;
        let numbers: Vec<_> = all.iter().filter_map(|u| u.number.clone()).collect();
        let expected: Vec<_> = (0..10).map(|n| format!("5{n:02}")).collect();
        assert_eq!(numbers, expected);

        let window: Vec<_> = users
            .list(range.clone().skip(2).top(5))
            .try_collect()
            .await?;
        let numbers: Vec<_> = window.iter().filter_map(|u| u.number.clone()).collect();
        assert_eq!(numbers, ["502", "503", "504", "505", "506"]);

        let page = users.list_page(&range.top(4).count(true)).await?;
        assert_eq!(page.items.len(), 4);
        assert_eq!(page.count, Some(10));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn batch_delete_reports_partial_failure() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let users = s.client.users();
        let group = default_group(&s.client).await?;
        let plain = users.create(&user("401", "a@example.com")).await?;
        let owner_fields = UserFields {
            groups: Some(vec![GroupMember::in_group(group, roles::SYSTEM_OWNERS)]),
            ..user("402", "b@example.com")
        };
        let owner = users.create(&owner_fields).await?;
        let failures = users
            .batch_delete(&[plain.id, owner.id, UserId(99_999)])
            .await?;
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(
            failures
                .iter()
                .any(|f| f.extension_number.as_deref() == Some("402"))
        );
        assert!(failures.iter().all(|f| f.error.is_some()));
        assert!(users.get(plain.id, None).await.unwrap_err().is_not_found());
        assert_eq!(
            users.get(owner.id, None).await?.number.as_deref(),
            Some("402")
        );

        assert!(users.batch_delete(&[]).await?.is_empty());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn number_lookup_forms_follow_the_version() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        s.client
            .users()
            .create(&user("215", "v@example.com"))
            .await?;
        // 20.0.10 removed the function form.
        let old_form = s
            .client
            .users()
            .get_by_number("215", NumberLookup::Function)
            .await;
        assert!(old_form.unwrap_err().is_not_found());

        let old = start_with(
            SimConfig {
                version: "20.0.7.1057".to_owned(),
                ..SimConfig::default()
            },
            100,
        )
        .await?;
        old.client
            .users()
            .create(&user("215", "v@example.com"))
            .await?;
        let found = old
            .client
            .users()
            .get_by_number("215", NumberLookup::Auto)
            .await?;
        assert_eq!(found.number.as_deref(), Some("215"));
        let new_form = old
            .client
            .users()
            .get_by_number("215", NumberLookup::AlternateKey)
            .await;
        assert!(new_form.unwrap_err().is_not_found());
        drop(s.sim);
        Ok(())
    })
    .await
}
