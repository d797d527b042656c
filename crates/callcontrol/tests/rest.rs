//! Every REST endpoint, its typed result, and each error status.

use std::collections::BTreeMap;
use std::time::Duration;

use voicebot_callcontrol::{CallControlError, RetryPolicy};
use voicebot_model::{
    Action, ActionRequest, DeviceId, Dn, DnType, MakeCallRequest, ParticipantId, ParticipantStatus,
};
use voicebot_sim::{CallerState, SimConfig};

use crate::support::{builder, requests, start, within};

#[tokio::test]
async fn reads_snapshot_dn_devices_and_participants() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let route_point = sim.route_point().clone();
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();

        let snapshot = client.snapshot().await.unwrap();
        let ours = snapshot.iter().find(|info| info.dn == route_point).unwrap();
        assert_eq!(ours.dn_type, DnType::RoutePoint);
        assert!(snapshot.iter().any(|info| info.dn == Dn::new("101")));
        assert_eq!(ours.participants.len(), 1);

        let dn = client.dn(&route_point).await.unwrap();
        assert_eq!(dn.dn, route_point);
        let devices = client.devices(&route_point).await.unwrap();
        assert_eq!(devices[0].device_id, sim.route_point_device());
        let device = client
            .device(&route_point, &sim.route_point_device())
            .await
            .unwrap();
        assert_eq!(device, devices[0]);
        // The device id travels percent-encoded, as encodeURIComponent would write it.
        assert!(
            requests(
                &sim,
                "/callcontrol/800/devices/sip%3A800%40127.0.0.1%3A5488"
            )
            .iter()
            .any(|(_, _, status)| *status == 200)
        );

        let participants = client.participants(&route_point).await.unwrap();
        assert_eq!(participants[0].id, caller.participant_id());
        let participant = client
            .participant(&route_point, caller.participant_id())
            .await
            .unwrap();
        assert_eq!(participant.status, ParticipantStatus::Connected);
        assert_eq!(participant.party_caller_id, "+15551234");
    })
    .await;
}

#[tokio::test]
async fn makes_calls_from_the_dn_and_from_a_device() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let route_point = sim.route_point().clone();
        let result = client
            .make_call(&route_point, &MakeCallRequest::to("+15550001"))
            .await
            .unwrap();
        assert!(result.is_success(), "{result:?}");
        let first = result.result.unwrap().id;
        let result = client
            .make_call_from_device(
                &route_point,
                &sim.route_point_device(),
                &MakeCallRequest::to("+15550002"),
            )
            .await
            .unwrap();
        let second = result.result.unwrap().id;
        assert_ne!(first, second);
        let paths: Vec<String> = requests(&sim, "/callcontrol")
            .into_iter()
            .map(|r| r.1)
            .collect();
        assert!(paths.contains(&"/callcontrol/800/makecall".to_owned()));
        assert!(paths.contains(
            &"/callcontrol/800/devices/sip%3A800%40127.0.0.1%3A5488/makecall".to_owned()
        ));
        let error = client
            .make_call_from_device(
                &route_point,
                &DeviceId::new("sip:nobody@x"),
                &MakeCallRequest::to("1"),
            )
            .await
            .unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn participant_actions() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let route_point = sim.route_point().clone();
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let id = caller.participant_id();

        let data = BTreeMap::from([("crm_id".to_owned(), "42".to_owned())]);
        let attached = client
            .attach_participant_data(&route_point, id, data)
            .await
            .unwrap();
        assert!(attached.is_success(), "{attached:?}");

        // divert is only for ringing participants: the PBX refuses with 422 + reasontext.
        let error = client.divert(&route_point, id, "101").await.unwrap_err();
        assert!(
            matches!(error, CallControlError::Unprocessable(_)),
            "{error:?}"
        );
        assert!(error.reasontext().is_some_and(|text| !text.is_empty()));

        let error = client
            .action(
                &route_point,
                id,
                &Action::Other("park".into()),
                &ActionRequest::default(),
            )
            .await
            .unwrap_err();
        assert!(
            error
                .status()
                .is_some_and(|status| (400..500).contains(&status)),
            "{error:?}"
        );

        let dropped = client.drop_participant(&route_point, id).await.unwrap();
        assert!(dropped.is_success(), "{dropped:?}");
        within(3, caller.wait_ended()).await;
        let error = client.participant(&route_point, id).await.unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
        assert!(error.reasontext().is_some());
    })
    .await;
}

#[tokio::test]
async fn answer_connects_a_ringing_participant() {
    within(10, async {
        let (sim, client) = start(SimConfig {
            inbound: voicebot_sim::InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await;
        let caller = sim.call_in("+15551234").await.unwrap();
        assert_eq!(caller.state(), CallerState::Ringing);
        client
            .answer(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        within(3, caller.wait_connected()).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn error_statuses_are_distinguishable() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let route_point = sim.route_point().clone();
        let missing = ParticipantId(9999);
        let path = "GET /callcontrol/800/participants/9999";

        let error = client.participant(&route_point, missing).await.unwrap_err();
        assert!(matches!(error, CallControlError::NotFound(_)), "{error:?}");
        assert_eq!(
            error.rejection().unwrap().path,
            "/callcontrol/800/participants/9999"
        );
        for (status, check) in [
            (
                400,
                (|e: &CallControlError| matches!(e, CallControlError::BadRequest(_)))
                    as fn(&CallControlError) -> bool,
            ),
            (403, |e| matches!(e, CallControlError::Forbidden(_))),
            (422, |e| matches!(e, CallControlError::Unprocessable(_))),
            (424, |e| matches!(e, CallControlError::FailedDependency(_))),
            (409, |e| matches!(e, CallControlError::OtherStatus(_))),
        ] {
            sim.faults().fail_next(path, status, 1);
            let error = client.participant(&route_point, missing).await.unwrap_err();
            assert!(check(&error), "{status}: {error:?}");
            assert_eq!(error.status(), Some(status));
            assert_eq!(error.reasontext(), Some("Injected failure."));
            assert!(error.body().is_some_and(|body| body.contains("reasontext")));
        }
        // A DN this API client does not control.
        let error = client.dn(&Dn::new("nope")).await.unwrap_err();
        assert!(matches!(error, CallControlError::Forbidden(_)), "{error:?}");
        assert!(error.reasontext().is_some_and(|text| text.contains("nope")));
    })
    .await;
}

#[tokio::test]
async fn forbidden_without_call_control_access() {
    within(10, async {
        let (_sim, client) = start(SimConfig {
            call_control_enabled: false,
            ..SimConfig::default()
        })
        .await;
        let error = client.snapshot().await.unwrap_err();
        assert!(matches!(error, CallControlError::Forbidden(_)), "{error:?}");
    })
    .await;
}

#[tokio::test]
async fn gets_retry_server_errors_but_actions_do_not() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        sim.faults().fail_next("GET /callcontrol", 503, 2);
        client.snapshot().await.unwrap();
        let statuses: Vec<u16> = requests(&sim, "/callcontrol").iter().map(|r| r.2).collect();
        assert_eq!(statuses, vec![503, 503, 200]);

        sim.faults().fail_next("GET /callcontrol", 502, 10);
        let error = client.snapshot().await.unwrap_err();
        assert!(matches!(error, CallControlError::Server(_)), "{error:?}");
        assert_eq!(error.status(), Some(502));
        assert_eq!(
            requests(&sim, "/callcontrol").len(),
            3 + 3,
            "three attempts per GET"
        );
        sim.faults().fail_next("GET /callcontrol", 502, 0);

        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let action = "POST /callcontrol/800/participants";
        sim.faults().fail_next(action, 503, 1);
        let error = client
            .transfer_to(sim.route_point(), caller.participant_id(), "200")
            .await
            .unwrap_err();
        assert!(error.is_transient());
        assert_eq!(
            requests(&sim, "/callcontrol/800/participants").len(),
            1,
            "no blind retry of a transfer"
        );
        assert_eq!(caller.state(), CallerState::Connected);
    })
    .await;
}

#[tokio::test]
async fn drop_is_retried_and_a_missing_leg_is_not_found() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let client_fast = builder(&sim)
            .drop_retry(RetryPolicy {
                max_attempts: 3,
                initial_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(100),
            })
            .build()
            .unwrap();
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let prefix = format!("/callcontrol/800/participants/{}", caller.participant_id());
        sim.faults()
            .fail_next("POST /callcontrol/800/participants", 503, 2);
        client_fast
            .drop_participant(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        let statuses: Vec<u16> = requests(&sim, &prefix).iter().map(|r| r.2).collect();
        assert_eq!(
            statuses,
            vec![503, 503, 200],
            "retried until the PBX took it"
        );
        assert!(matches!(caller.state(), CallerState::Ended(_)));

        // Already gone: a 404 at once, not retried.
        let error = client
            .drop_participant(sim.route_point(), caller.participant_id())
            .await
            .unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
        assert_eq!(requests(&sim, &prefix).len(), 4);

        // A PBX that keeps failing: bounded attempts, then the last error.
        let caller = sim.call_in("+15551235").await.unwrap();
        caller.wait_connected().await.unwrap();
        let prefix = format!("/callcontrol/800/participants/{}", caller.participant_id());
        sim.faults()
            .fail_next("POST /callcontrol/800/participants", 500, 100);
        let error = client_fast
            .drop_participant(sim.route_point(), caller.participant_id())
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(500));
        assert_eq!(requests(&sim, &prefix).len(), 3, "max_attempts");
        assert_eq!(caller.state(), CallerState::Connected);
    })
    .await;
}

#[tokio::test]
async fn a_transfer_may_ring_longer_than_the_request_timeout() {
    within(15, async {
        let config = SimConfig {
            far_ends: voicebot_sim::FarEnds::default().with(
                "200",
                voicebot_sim::FarEnd::answer_after(Duration::from_secs(2)),
            ),
            ..SimConfig::default()
        };
        let sim = voicebot_sim::Sim::start_with(config).await.unwrap();
        let client = builder(&sim)
            .request_timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let caller = sim.call_in("+15551234").await.unwrap();
        caller.wait_connected().await.unwrap();
        let request = ActionRequest {
            timeout: Some(5),
            ..ActionRequest::to("200")
        };
        let result = client
            .action(
                sim.route_point(),
                caller.participant_id(),
                &Action::TransferTo,
                &request,
            )
            .await
            .unwrap();
        assert!(result.is_success());
        assert_eq!(
            caller.wait_ended().await,
            voicebot_sim::CallEnd::TransferredTo("200".into())
        );

        // A plain action still gets the short request timeout, and says so.
        let caller = sim.call_in("+15551235").await.unwrap();
        caller.wait_connected().await.unwrap();
        sim.faults().delay_requests(Duration::from_secs(2));
        let error = client
            .action(
                sim.route_point(),
                caller.participant_id(),
                &Action::AttachParticipantData,
                &ActionRequest::default(),
            )
            .await
            .unwrap_err();
        sim.faults().delay_requests(Duration::ZERO);
        assert!(
            error
                .to_string()
                .starts_with("timed out after 500 ms while POST"),
            "{error}"
        );
    })
    .await;
}

#[tokio::test]
async fn slow_answers_time_out() {
    within(10, async {
        let (sim, _) = start(SimConfig::default()).await;
        let client = builder(&sim)
            .request_timeout(Duration::from_secs(1))
            .get_retry(RetryPolicy::none())
            .build()
            .unwrap();
        client.snapshot().await.unwrap();
        // Five times the timeout: no busy machine makes the answer come in time.
        sim.faults().delay_requests(Duration::from_secs(5));
        let error = client.snapshot().await.unwrap_err();
        assert!(
            matches!(error, CallControlError::Timeout { .. }),
            "{error:?}"
        );
        assert!(error.is_transient());
        sim.faults().delay_requests(Duration::ZERO);
    })
    .await;
}
