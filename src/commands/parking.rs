//! `voicebot parking`: shared parking through XAPI.

use clap::{Args, Subcommand};
use voicebot_xapi::{GroupId, NumberLookup, Parking, ParkingId};

use super::xapi::{Connection, cell, deleted, print, with_exit_code};

/// Manage shared parking.
#[derive(Debug, Args)]
pub(crate) struct ParkingArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: ParkingCommand,
}

#[derive(Debug, Subcommand)]
enum ParkingCommand {
    /// List parkings, or those of one department.
    List {
        /// Department id.
        #[arg(long)]
        department: Option<i32>,
    },
    /// Show a parking by number (e.g. SP11).
    Get { number: String },
    /// Create a parking shared by departments.
    Create {
        /// Department ids (repeat the flag).
        #[arg(long = "department", required = true)]
        departments: Vec<i32>,
        /// Number such as SP11 (the PBX picks one when omitted).
        #[arg(long)]
        number: Option<String>,
    },
    /// Delete a parking.
    Delete {
        /// Parking id.
        id: i32,
    },
}

/// Runs `voicebot parking …`.
pub(crate) async fn run(args: ParkingArgs) -> anyhow::Result<()> {
    execute(args).await.map_err(with_exit_code)
}

async fn execute(args: ParkingArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let parkings = client.parkings();
    match args.command {
        ParkingCommand::List { department } => {
            let list = match department {
                Some(id) => parkings.list_for_group(GroupId(id)).await?,
                None => parkings.list().await?,
            };
            show(json, &list)
        }
        ParkingCommand::Get { number } => {
            let parking = parkings.get_by_number(&number, NumberLookup::Auto).await?;
            show(json, std::slice::from_ref(&parking))
        }
        ParkingCommand::Create {
            departments,
            number,
        } => {
            let groups: Vec<GroupId> = departments.into_iter().map(GroupId).collect();
            let parking = parkings.create(&groups, number.as_deref()).await?;
            show(json, std::slice::from_ref(&parking))
        }
        ParkingCommand::Delete { id } => {
            parkings.delete(ParkingId(id)).await?;
            deleted(json, "parking", id);
            Ok(())
        }
    }
}

fn show(json: bool, list: &[Parking]) -> anyhow::Result<()> {
    let rows = list
        .iter()
        .map(|p| {
            let groups: Vec<String> = p
                .groups
                .iter()
                .flatten()
                .filter_map(|g| g.name.clone())
                .collect();
            vec![
                p.id.to_string(),
                cell(p.number.as_deref()),
                groups.join(", "),
            ]
        })
        .collect();
    print(json, list, &["Id", "Number", "Departments"], rows)
}
