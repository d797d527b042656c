//! Device-level events: live upserts and removals, and a device that registers while
//! the event socket is down.

use std::time::Duration;

use voicebot_model::{DeviceId, Dn, PbxEvent};
use voicebot_sim::SimConfig;

use crate::support::{connected, start, until, within};

const PHONE: &str = "sip:101@10.0.0.7:5062;transport=tcp";

fn is_device_update(event: &PbxEvent, id: &str) -> bool {
    matches!(event, PbxEvent::DeviceUpdated { device } if device.device_id.as_str() == id)
}

#[tokio::test]
async fn device_upserts_and_removals_reach_the_stream_and_the_cache() {
    within(15, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        let dn = Dn::new("101");
        let phone = DeviceId::new(PHONE);

        sim.register_device("101", PHONE, "Yealink T54W").unwrap();
        let (event, _) = until(&mut events, |event| is_device_update(event, PHONE)).await;
        let PbxEvent::DeviceUpdated { device } = event else {
            unreachable!("until returned a matching event")
        };
        assert_eq!(device.dn, dn);
        assert_eq!(device.user_agent, "Yealink T54W");
        let cached = client
            .state()
            .dn(&dn)
            .and_then(|state| state.devices.get(&phone).cloned());
        assert_eq!(cached, Some(device));

        sim.unregister_device("101", PHONE).unwrap();
        let (event, before) = until(&mut events, |event| {
            matches!(event, PbxEvent::DeviceRemoved { .. })
        })
        .await;
        assert_eq!(
            event,
            PbxEvent::DeviceRemoved {
                dn: dn.clone(),
                device: phone.clone()
            }
        );
        assert!(before.is_empty(), "{before:?}");
        let state = client.state();
        assert!(!state.dn(&dn).unwrap().devices.contains_key(&phone));
        // The extension's own default device is untouched.
        assert_eq!(state.dn(&dn).unwrap().devices.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_device_registered_while_the_socket_is_down_is_resynced() {
    within(20, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        let default_device = sim.route_point_device();

        sim.faults().refuse_websockets(usize::MAX);
        sim.faults().drop_websockets();
        until(&mut events, |event| {
            matches!(event, PbxEvent::Disconnected { .. })
        })
        .await;
        sim.register_device("101", PHONE, "Yealink T54W").unwrap();
        // The route point's device leaves too, while nobody listens.
        sim.unregister_device(sim.route_point().clone(), default_device.clone())
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        sim.faults().refuse_websockets(0);

        let (connection, resync) = connected(&mut events).await;
        assert_eq!(connection, 2);
        assert!(
            resync.iter().any(|event| is_device_update(event, PHONE)),
            "{resync:?}"
        );
        assert!(
            resync.contains(&PbxEvent::DeviceRemoved {
                dn: sim.route_point().clone(),
                device: default_device.clone()
            }),
            "{resync:?}"
        );
        let state = client.state();
        assert!(
            state
                .dn(&Dn::new("101"))
                .unwrap()
                .devices
                .contains_key(&DeviceId::new(PHONE))
        );
        assert!(state.dn(sim.route_point()).unwrap().devices.is_empty());
    })
    .await;
}
