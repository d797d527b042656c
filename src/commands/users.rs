//! `voicebot users`: list, get, create, delete users through XAPI.

use clap::{Args, Subcommand};
use futures::TryStreamExt;
use voicebot_xapi::odata::{Filter, Query};
use voicebot_xapi::{GroupId, GroupMember, User, UserFields, UserId};

use super::xapi::{Connection, cell, deleted, print, with_exit_code};

/// Manage users (extensions).
#[derive(Debug, Args)]
pub(crate) struct UsersArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: UsersCommand,
}

// Parsed once per run, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// List users (all pages).
    List {
        /// OData `$filter`, e.g. "Number ge '100' and Number lt '200'".
        #[arg(long)]
        filter: Option<String>,
        /// At most this many users.
        #[arg(long)]
        top: Option<u64>,
    },
    /// Show one user.
    Get {
        /// User id.
        id: i32,
    },
    /// Create a user.
    Create {
        /// Extension number (the PBX picks one when omitted).
        #[arg(long)]
        number: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Web client password (prefer VOICEBOT_USER_PASSWORD).
        #[arg(long, env = "VOICEBOT_USER_PASSWORD")]
        password: Option<String>,
        #[arg(long)]
        language: Option<String>,
        #[arg(long)]
        prompt_set: Option<String>,
        /// Department id to put the user in.
        #[arg(long)]
        department: Option<i32>,
        /// Role in that department.
        #[arg(long, default_value = "users")]
        role: String,
    },
    /// Delete users (several ids use one batch request).
    Delete {
        /// User ids.
        #[arg(required = true)]
        ids: Vec<i32>,
    },
}

/// Runs `voicebot users …`.
pub(crate) async fn run(args: UsersArgs) -> anyhow::Result<()> {
    execute(args).await.map_err(with_exit_code)
}

async fn execute(args: UsersArgs) -> anyhow::Result<()> {
    let client = args.connection.client()?;
    let json = args.connection.json;
    let users = client.users();
    match args.command {
        UsersCommand::List { filter, top } => {
            let mut query = Query::new();
            if let Some(filter) = filter {
                query = query.filter(Filter::raw(filter));
            }
            if let Some(top) = top {
                query = query.top(top);
            }
            let list: Vec<User> = users.list(query).try_collect().await?;
            show(json, &list)
        }
        UsersCommand::Get { id } => {
            let user = users
                .get(UserId(id), Some(&Query::new().expand("Groups")))
                .await?;
            show(json, std::slice::from_ref(&user))
        }
        UsersCommand::Create {
            number,
            first_name,
            last_name,
            email,
            password,
            language,
            prompt_set,
            department,
            role,
        } => {
            let fields = UserFields {
                number,
                first_name,
                last_name,
                email_address: email,
                access_password: password,
                language,
                prompt_set,
                groups: department.map(|d| vec![GroupMember::in_group(GroupId(d), &role)]),
                ..UserFields::default()
            };
            let user = users.create(&fields).await?;
            show(json, std::slice::from_ref(&user))
        }
        UsersCommand::Delete { ids } => {
            if let [one] = ids.as_slice() {
                users.delete(UserId(*one)).await?;
                deleted(json, "user", *one);
                return Ok(());
            }
            let user_ids: Vec<UserId> = ids.iter().copied().map(UserId).collect();
            let failures = users.batch_delete(&user_ids).await?;
            if failures.is_empty() {
                match json {
                    true => println!("[]"),
                    false => println!("deleted {} users", ids.len()),
                }
                return Ok(());
            }
            let rows = failures
                .iter()
                .map(|f| {
                    vec![
                        cell(f.extension_number.as_deref()),
                        cell(f.error.as_deref()),
                    ]
                })
                .collect();
            print(json, &failures, &["Extension", "Error"], rows)?;
            anyhow::bail!(
                "{} of {} users were not deleted (the others were)",
                failures.len(),
                ids.len()
            )
        }
    }
}

fn show(json: bool, users: &[User]) -> anyhow::Result<()> {
    let rows = users
        .iter()
        .map(|u| {
            vec![
                u.id.to_string(),
                cell(u.number.as_deref()),
                format!(
                    "{} {}",
                    cell(u.first_name.as_deref()),
                    cell(u.last_name.as_deref())
                )
                .trim()
                .to_owned(),
                cell(u.email_address.as_deref()),
                u.enabled.map(|e| e.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    print(
        json,
        users,
        &["Id", "Number", "Name", "E-mail", "Enabled"],
        rows,
    )
}
