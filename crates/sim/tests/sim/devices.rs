//! Device registrations and device-level / DN-level events.

use voicebot_model::{Device, DeviceId, EntityPath, EventType};
use voicebot_sim::{Sim, SimConfig};

use super::util::{connect_ws, get, next_event, token, within};

const PHONE: &str = "sip:101@10.0.0.7:5062;transport=tcp";

#[tokio::test]
async fn registering_and_unregistering_a_device_emits_device_events() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        sim.register_device("101", PHONE, "Yealink T54W").unwrap();
        let upsert = next_event(&mut ws).await;
        assert_eq!(upsert.event.event_type, EventType::Upsert);
        let entity = EntityPath::Device {
            dn: "101".into(),
            device: DeviceId::new(PHONE),
        };
        assert_eq!(upsert.event.entity_path().unwrap(), entity);
        assert!(
            !upsert.event.entity.contains(';'),
            "the id is percent-encoded"
        );
        let response = get(&sim, &token, &upsert.event.entity).await;
        assert_eq!(response.status(), 200);
        let device: Device = response.json().await.unwrap();
        assert_eq!(device.user_agent, "Yealink T54W");
        assert!(
            sim.snapshot()
                .iter()
                .any(|dn| dn.devices.iter().any(|d| d.device_id.as_str() == PHONE))
        );

        // Registering again unchanged is not news.
        sim.register_device("101", PHONE, "Yealink T54W").unwrap();
        sim.unregister_device("101", PHONE).unwrap();
        let remove = next_event(&mut ws).await;
        assert_eq!(remove.event.event_type, EventType::Remove);
        assert_eq!(remove.event.entity_path().unwrap(), entity);
        assert!(remove.sequence == upsert.sequence + 1);
        assert_eq!(get(&sim, &token, &upsert.event.entity).await.status(), 404);
        assert!(sim.register_device("999", PHONE, "x").is_err());
    })
    .await;
}

#[tokio::test]
async fn dn_events_follow_device_changes_when_enabled() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            device_events: false,
            dn_events: true,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        sim.register_device("101", PHONE, "Yealink T54W").unwrap();
        let event = next_event(&mut ws).await;
        assert_eq!(event.event.event_type, EventType::Upsert);
        assert_eq!(
            event.event.entity_path().unwrap(),
            EntityPath::Dn("101".into())
        );
    })
    .await;
}
