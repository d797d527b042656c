use voicebot_sim::SimConfig;
use voicebot_xapi::{DepartmentFields, NumberLookup};

use crate::common::{start, start_with, timed};

fn named(name: &str) -> DepartmentFields {
    DepartmentFields {
        name: Some(name.to_owned()),
        ..DepartmentFields::default()
    }
}

#[tokio::test]
async fn parking_lifecycle() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let a = s.client.departments().create(&named("A")).await?;
        let b = s.client.departments().create(&named("B")).await?;
        let parkings = s.client.parkings();
        let shared = parkings.create(&[a.id, b.id], None).await?;
        assert!(
            shared
                .number
                .as_deref()
                .is_some_and(|n| n.starts_with("SP"))
        );
        let own = parkings.create(&[b.id], Some("SP100")).await?;

        let number = shared.number.clone().unwrap_or_default();
        let by_key = parkings.get_by_number(&number, NumberLookup::Auto).await?;
        assert_eq!(by_key.id, shared.id);
        let fetched = parkings.get(shared.id).await?;
        assert_eq!(fetched.groups.map(|g| g.len()), Some(2));

        let of_a = parkings.list_for_group(a.id).await?;
        assert_eq!(
            of_a.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![shared.id]
        );
        let of_b = parkings.list_for_group(b.id).await?;
        assert_eq!(of_b.len(), 2);
        assert_eq!(parkings.list().await?.len(), 2);

        let dup = parkings.create(&[a.id], Some("SP100")).await.unwrap_err();
        assert_eq!(dup.status(), Some(400));

        parkings.delete(own.id).await?;
        assert!(parkings.get(own.id).await.unwrap_err().is_not_found());
        assert!(
            parkings
                .get_by_number("SP100", NumberLookup::AlternateKey)
                .await
                .unwrap_err()
                .is_not_found()
        );
        Ok(())
    })
    .await
}

#[tokio::test]
async fn function_form_on_older_pbx() -> anyhow::Result<()> {
    timed(async {
        let config = SimConfig {
            version: "20.0.7.1057".to_owned(),
            ..SimConfig::default()
        };
        let s = start_with(config, 100).await?;
        let group = s.client.departments().create(&named("Old")).await?;
        let parking = s
            .client
            .parkings()
            .create(&[group.id], Some("SP11"))
            .await?;
        let found = s
            .client
            .parkings()
            .get_by_number("SP11", NumberLookup::Function)
            .await?;
        assert_eq!(found.id, parking.id);
        let auto = s
            .client
            .parkings()
            .get_by_number("SP11", NumberLookup::Auto)
            .await?;
        assert_eq!(auto.id, parking.id);
        assert_eq!(s.client.parkings().list_for_group(group.id).await?.len(), 1);
        Ok(())
    })
    .await
}
