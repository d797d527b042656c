//! The REST endpoints of reference §3.3, typed.

use voicebot_model::{
    Action, ActionRequest, AttachedData, CallControlResult, Device, DeviceId, Dn, DnInfo,
    EntityPath, MakeCallRequest, Participant, ParticipantId, encode_segment,
};

use crate::client::{Client, Core};
use crate::error::Result;
use crate::retry::RetryPolicy;

/// The HTTP deadline of a participant action: `routeto` and `transferto` wait for the
/// destination (the request's `timeout`, else `unnamed_ring`) plus `margin` for the
/// PBX to answer; every other action gets `margin` alone.
fn action_deadline(
    action: &Action,
    request: &ActionRequest,
    margin: std::time::Duration,
    unnamed_ring: std::time::Duration,
) -> std::time::Duration {
    match action {
        Action::RouteTo | Action::TransferTo => {
            let ring = request
                .timeout
                .filter(|secs| *secs > 0)
                .map_or(unnamed_ring, |secs| {
                    std::time::Duration::from_secs(secs.into())
                });
            ring + margin
        }
        _ => margin,
    }
}

pub(crate) fn dn_path(dn: &Dn) -> String {
    EntityPath::Dn(dn.clone()).to_string()
}

pub(crate) fn participant_path(dn: &Dn, id: ParticipantId) -> String {
    EntityPath::Participant { dn: dn.clone(), id }.to_string()
}

fn device_path(dn: &Dn, device: &DeviceId) -> String {
    EntityPath::Device {
        dn: dn.clone(),
        device: device.clone(),
    }
    .to_string()
}

impl Core {
    pub(crate) async fn snapshot(&self) -> Result<Vec<DnInfo>> {
        self.get_json("/callcontrol".to_owned(), "snapshot").await
    }

    pub(crate) async fn dn(&self, dn: &Dn) -> Result<DnInfo> {
        self.get_json(dn_path(dn), "dn").await
    }

    pub(crate) async fn device(&self, dn: &Dn, device: &DeviceId) -> Result<Device> {
        self.get_json(device_path(dn, device), "device").await
    }

    pub(crate) async fn participant(&self, dn: &Dn, id: ParticipantId) -> Result<Participant> {
        self.get_json(participant_path(dn, id), "participant").await
    }
}

impl Client {
    /// `GET /callcontrol`: every DN this API client may see, with devices and
    /// participants.
    ///
    /// # Errors
    /// The status variants of [`crate::CallControlError`] (401 after one
    /// re-authentication, 403 without Call Control access), `Transport`/`Timeout`
    /// after the GET retries, `Decode` for a body that is not a DN list.
    pub async fn snapshot(&self) -> Result<Vec<DnInfo>> {
        self.core().snapshot().await
    }

    /// `GET /callcontrol/{dn}`.
    ///
    /// # Errors
    /// As [`Client::snapshot`]; `NotFound` for an unknown DN.
    pub async fn dn(&self, dn: &Dn) -> Result<DnInfo> {
        self.core().dn(dn).await
    }

    /// `GET /callcontrol/{dn}/devices`.
    ///
    /// # Errors
    /// As [`Client::dn`].
    pub async fn devices(&self, dn: &Dn) -> Result<Vec<Device>> {
        self.core()
            .get_json(format!("{}/devices", dn_path(dn)), "devices")
            .await
    }

    /// `GET /callcontrol/{dn}/devices/{deviceid}`, the id percent-encoded.
    ///
    /// # Errors
    /// As [`Client::dn`]; `NotFound` for an unknown device.
    pub async fn device(&self, dn: &Dn, device: &DeviceId) -> Result<Device> {
        self.core().device(dn, device).await
    }

    /// `GET /callcontrol/{dn}/participants`.
    ///
    /// # Errors
    /// As [`Client::dn`].
    pub async fn participants(&self, dn: &Dn) -> Result<Vec<Participant>> {
        self.core()
            .get_json(format!("{}/participants", dn_path(dn)), "participants")
            .await
    }

    /// `GET /callcontrol/{dn}/participants/{id}`.
    ///
    /// # Errors
    /// As [`Client::dn`]; `NotFound` once the participant is gone, `Forbidden` for a
    /// leg this DN does not control.
    pub async fn participant(&self, dn: &Dn, id: ParticipantId) -> Result<Participant> {
        self.core().participant(dn, id).await
    }

    /// `POST /callcontrol/{dn}/makecall`: a call from the DN without naming a device.
    /// Never retried. A 200 whose `finalstatus` is not a success is returned as `Ok`;
    /// check [`CallControlResult::is_success`].
    ///
    /// # Errors
    /// The status variants (with the PBX's `reasontext`), `Transport`, `Timeout`,
    /// `Decode`.
    pub async fn make_call(&self, dn: &Dn, request: &MakeCallRequest) -> Result<CallControlResult> {
        self.core()
            .post_json(format!("{}/makecall", dn_path(dn)), "makecall", request)
            .await
    }

    /// `POST /callcontrol/{dn}/devices/{deviceid}/makecall`, the device id
    /// percent-encoded. Never retried.
    ///
    /// # Errors
    /// As [`Client::make_call`]; `NotFound` for an unknown device.
    pub async fn make_call_from_device(
        &self,
        dn: &Dn,
        device: &DeviceId,
        request: &MakeCallRequest,
    ) -> Result<CallControlResult> {
        self.core()
            .post_json(
                format!("{}/makecall", device_path(dn, device)),
                "makecall_device",
                request,
            )
            .await
    }

    /// `POST /callcontrol/{dn}/participants/{id}/{action}`.
    ///
    /// Deadlines follow the action: `routeto` and `transferto` are answered only when
    /// the attempt ends, so they may take the request's `timeout` (or the builder's
    /// `unnamed_ring_timeout` when it names none) plus the request timeout; every
    /// other action gets the request timeout.
    ///
    /// Retries: `drop` is idempotent and is retried per the builder's `drop_retry`
    /// on 5xx, timeouts and transport errors. Other actions are never retried (only
    /// re-sent once after a 401, which the PBX did not act on): repeating a
    /// `transferto` the PBX may already be carrying out is not safe.
    ///
    /// # Errors
    /// The status variants with the PBX's `reasontext` (e.g. `Unprocessable` for a
    /// `divert` of a connected participant, `NotFound` for a leg that is gone),
    /// `Transport`, `Timeout` (saying how long it waited), `Decode`.
    pub async fn action(
        &self,
        dn: &Dn,
        id: ParticipantId,
        action: &Action,
        request: &ActionRequest,
    ) -> Result<CallControlResult> {
        let path = format!(
            "{}/{}",
            participant_path(dn, id),
            encode_segment(action.as_str())
        );
        let core = self.core();
        let settings = &core.settings;
        let timeout = action_deadline(
            action,
            request,
            settings.request_timeout,
            settings.unnamed_ring,
        );
        let retry = match action {
            Action::Drop => settings.drop_retry,
            _ => RetryPolicy::none(),
        };
        core.post_action(path, request, timeout, retry).await
    }

    /// `drop`: ends the participant's part in the call, retried per the builder's
    /// `drop_retry` (see [`Client::action`]).
    ///
    /// # Errors
    /// As [`Client::action`]; `NotFound` when the leg is already gone.
    pub async fn drop_participant(&self, dn: &Dn, id: ParticipantId) -> Result<CallControlResult> {
        self.action(dn, id, &Action::Drop, &ActionRequest::default())
            .await
    }

    /// `answer`: for direct-control devices and route-point participants.
    ///
    /// # Errors
    /// As [`Client::action`].
    pub async fn answer(&self, dn: &Dn, id: ParticipantId) -> Result<CallControlResult> {
        self.action(dn, id, &Action::Answer, &ActionRequest::default())
            .await
    }

    /// `divert` a ringing participant to `destination`.
    ///
    /// # Errors
    /// As [`Client::action`].
    pub async fn divert(
        &self,
        dn: &Dn,
        id: ParticipantId,
        destination: &str,
    ) -> Result<CallControlResult> {
        self.action(dn, id, &Action::Divert, &ActionRequest::to(destination))
            .await
    }

    /// `routeto`: route the participant to `destination`; the PBX answers when the
    /// attempt ends.
    ///
    /// # Errors
    /// As [`Client::action`].
    pub async fn route_to(
        &self,
        dn: &Dn,
        id: ParticipantId,
        destination: &str,
    ) -> Result<CallControlResult> {
        self.action(dn, id, &Action::RouteTo, &ActionRequest::to(destination))
            .await
    }

    /// `transferto`: transfer a connected participant to `destination`.
    ///
    /// # Errors
    /// As [`Client::action`].
    pub async fn transfer_to(
        &self,
        dn: &Dn,
        id: ParticipantId,
        destination: &str,
    ) -> Result<CallControlResult> {
        self.action(dn, id, &Action::TransferTo, &ActionRequest::to(destination))
            .await
    }

    /// `attach_participant_data`: attach `data` to the participant.
    ///
    /// # Errors
    /// As [`Client::action`].
    pub async fn attach_participant_data(
        &self,
        dn: &Dn,
        id: ParticipantId,
        data: AttachedData,
    ) -> Result<CallControlResult> {
        let request = ActionRequest {
            attacheddata: Some(data),
            ..ActionRequest::default()
        };
        self.action(dn, id, &Action::AttachParticipantData, &request)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_offs_wait_for_the_ring_time_other_actions_do_not() {
        use std::time::Duration;
        let (margin, unnamed) = (Duration::from_secs(10), Duration::from_secs(60));
        let ring = |secs| ActionRequest {
            timeout: secs,
            ..ActionRequest::to("200")
        };
        let deadline = |action, request| action_deadline(&action, &request, margin, unnamed);
        assert_eq!(
            deadline(Action::TransferTo, ring(Some(30))),
            Duration::from_secs(40)
        );
        assert_eq!(
            deadline(Action::RouteTo, ring(None)),
            Duration::from_secs(70)
        );
        assert_eq!(
            deadline(Action::RouteTo, ring(Some(0))),
            Duration::from_secs(70)
        );
        assert_eq!(deadline(Action::Drop, ring(Some(30))), margin);
        assert_eq!(deadline(Action::Divert, ring(Some(30))), margin);
    }

    #[test]
    fn paths_encode_dns_and_device_ids() {
        let dn = Dn::new("my app");
        assert_eq!(dn_path(&dn), "/callcontrol/my%20app");
        assert_eq!(
            device_path(&Dn::new("209"), &DeviceId::new("sip:209@127.0.0.1:5483")),
            "/callcontrol/209/devices/sip%3A209%40127.0.0.1%3A5483"
        );
        assert_eq!(
            participant_path(&Dn::new("800"), ParticipantId(12)),
            "/callcontrol/800/participants/12"
        );
        assert_eq!(
            encode_segment("attach_participant_data"),
            "attach_participant_data"
        );
    }
}
