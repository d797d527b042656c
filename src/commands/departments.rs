//! `voicebot departments`: list, create, delete departments (XAPI groups).

use clap::{Args, Subcommand};
use futures::TryStreamExt;
use voicebot_xapi::odata::Query;
use voicebot_xapi::{Department, DepartmentFields, DepartmentProps, GroupId};

use super::xapi::{Connection, cell, deleted, print, range, with_exit_code};

/// Manage departments.
#[derive(Debug, Args)]
pub(crate) struct DepartmentsArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: DepartmentsCommand,
}

// Parsed once per run, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum DepartmentsCommand {
    /// List departments.
    List,
    /// Create a department with number ranges.
    Create {
        /// Unique name.
        #[arg(long)]
        name: String,
        /// User extensions, e.g. 320-339.
        #[arg(long, value_parser = range)]
        user_range: Option<(String, String)>,
        /// System DNs, e.g. 300-319.
        #[arg(long, value_parser = range)]
        system_range: Option<(String, String)>,
        /// Trunks, e.g. 340-345.
        #[arg(long, value_parser = range)]
        trunk_range: Option<(String, String)>,
        #[arg(long)]
        language: Option<String>,
        #[arg(long)]
        time_zone_id: Option<String>,
    },
    /// Delete a department and everything in it.
    Delete {
        /// Department id.
        id: i32,
    },
}

/// Runs `voicebot departments …`.
pub(crate) async fn run(args: DepartmentsArgs) -> anyhow::Result<()> {
    execute(args).await.map_err(with_exit_code)
}

async fn execute(args: DepartmentsArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let departments = client.departments();
    match args.command {
        DepartmentsCommand::List => {
            let list: Vec<Department> = departments.list(Query::new()).try_collect().await?;
            show(json, &list)
        }
        DepartmentsCommand::Create {
            name,
            user_range,
            system_range,
            trunk_range,
            language,
            time_zone_id,
        } => {
            let (user, system, trunk) = (
                user_range.unwrap_or_default(),
                system_range.unwrap_or_default(),
                trunk_range.unwrap_or_default(),
            );
            let some = |s: String| (!s.is_empty()).then_some(s);
            let props = DepartmentProps {
                user_number_from: some(user.0),
                user_number_to: some(user.1),
                system_number_from: some(system.0),
                system_number_to: some(system.1),
                trunk_number_from: some(trunk.0),
                trunk_number_to: some(trunk.1),
                ..DepartmentProps::default()
            };
            let fields = DepartmentFields {
                name: Some(name),
                language,
                time_zone_id,
                props: Some(props),
                ..DepartmentFields::default()
            };
            let created = departments.create(&fields).await?;
            show(json, std::slice::from_ref(&created))
        }
        DepartmentsCommand::Delete { id } => {
            departments.delete(GroupId(id)).await?;
            deleted(json, "department", id);
            Ok(())
        }
    }
}

fn show(json: bool, list: &[Department]) -> anyhow::Result<()> {
    let rows = list
        .iter()
        .map(|d| {
            let props = d.props.clone().unwrap_or_default();
            let span = |a: Option<String>, b: Option<String>| match (a, b) {
                (Some(a), Some(b)) => format!("{a}-{b}"),
                _ => String::new(),
            };
            vec![
                d.id.to_string(),
                cell(d.number.as_deref()),
                cell(d.name.as_deref()),
                span(props.user_number_from, props.user_number_to),
                span(props.system_number_from, props.system_number_to),
                span(props.trunk_number_from, props.trunk_number_to),
            ]
        })
        .collect();
    print(
        json,
        list,
        &["Id", "Number", "Name", "Users", "System", "Trunks"],
        rows,
    )
}
