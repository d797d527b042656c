//! `voicebot state [DN]`: the PBX's current DNs, devices and participants, as the API
//! client sees them (`GET /callcontrol` or `GET /callcontrol/{dn}`).

use anyhow::Context;
use clap::Args;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use voicebot_model::{Dn, DnInfo};

use super::pbx::PbxArgs;

/// Options of `voicebot state`.
#[derive(Debug, Args)]
pub(crate) struct StateArgs {
    #[command(flatten)]
    pbx: PbxArgs,
    /// Only this DN.
    dn: Option<String>,
    /// Print the PBX's JSON (a list of DN records).
    #[arg(long)]
    json: bool,
}

/// Prints the snapshot.
pub(crate) async fn run(args: StateArgs) -> anyhow::Result<()> {
    let target = args.pbx.target()?;
    let client = target.client()?;
    let dns = match &args.dn {
        Some(dn) => vec![
            client
                .dn(&Dn::new(dn.clone()))
                .await
                .with_context(|| format!("reading DN {dn}"))?,
        ],
        None => client.snapshot().await.context("reading the PBX state")?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&dns)?);
        return Ok(());
    }
    print_tables(&dns);
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    table
}

/// DNs, then devices, then participants (the calls in progress).
fn print_tables(dns: &[DnInfo]) {
    let mut summary = table(&["DN", "type", "devices", "participants"]);
    let mut devices = table(&["DN", "device id", "user agent"]);
    let mut participants = table(&[
        "DN",
        "id",
        "status",
        "other party",
        "caller id",
        "name",
        "call id",
        "leg id",
    ]);
    let (mut device_count, mut participant_count) = (0, 0);
    for dn in dns {
        summary.add_row(vec![
            dn.dn.to_string(),
            dn.dn_type.to_string(),
            dn.devices.len().to_string(),
            dn.participants.len().to_string(),
        ]);
        for device in &dn.devices {
            device_count += 1;
            devices.add_row(vec![
                device.dn.to_string(),
                device.device_id.as_str().to_owned(),
                device.user_agent.clone(),
            ]);
        }
        for participant in &dn.participants {
            participant_count += 1;
            participants.add_row(vec![
                participant.dn.to_string(),
                participant.id.to_string(),
                participant.status.to_string(),
                participant.party_dn.to_string(),
                participant.party_caller_id.clone(),
                participant.party_caller_name.clone(),
                participant.callid.to_string(),
                participant.legid.to_string(),
            ]);
        }
    }
    println!("{summary}");
    match device_count {
        0 => println!("no registered devices"),
        _ => println!("{devices}"),
    }
    match participant_count {
        0 => println!("no calls in progress"),
        _ => println!("{participants}"),
    }
}
