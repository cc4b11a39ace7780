//! `--demo`: loads the demo province and one account per role and one client per consumer
//! system, with random secrets written to `<data-dir>/demo-credentials.json` (mode 0600).
//!
//! Loading is idempotent: what exists is left alone, so running `--demo` again on the same data
//! directory duplicates nothing. A demo account or client that exists but whose secret is no
//! longer in the credentials file gets a new secret, so the file always works.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use lgsp_core::identity::RoleAssignment;
use lgsp_core::proposal::Decision;
use lgsp_core::{AgencyCode, CitizenId, ConnectionModel, Role, SystemId, Text, Username};
use lgsp_store::{NewClient, NewUser, Store, StoreError, UserPatch};
use serde::{Deserialize, Serialize};

use crate::auth::password;
use crate::auth::secrets::{random_token, sha256_hex};

pub mod catalog;
pub mod province;
mod records;
mod services;
pub mod traffic;

/// The shape DESIGN.md gives the credentials file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DemoCredentials {
    pub users: Vec<DemoUser>,
    pub clients: Vec<DemoClient>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoUser {
    pub username: String,
    pub password: String,
    pub role: String,
    pub agency: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoClient {
    pub client_id: String,
    pub client_secret: String,
    pub agency: String,
    pub system: String,
}

/// The platform name when the demo province is loaded and none is configured.
pub const PLATFORM_NAME: &str = "Nền tảng tích hợp, chia sẻ dữ liệu tỉnh Hà Nam";

/// The demo province's name, when none is configured.
pub const PROVINCE: &str = "Hà Nam";

/// The regulation of the demo province (/work/shared/seed), when none is configured.
pub fn regulation() -> crate::settings::Regulation {
    crate::settings::Regulation {
        number: "07/2021/QĐ-UBND".into(),
        date: chrono::NaiveDate::from_ymd_opt(2021, 4, 9).expect("a valid date"),
        title:
            "Quy chế kết nối, chia sẻ, khai thác và sử dụng cơ sở dữ liệu dùng chung tỉnh Hà Nam"
                .into(),
        report_clause: Some("khoản 6 Điều 17".into()),
    }
}

/// One demo account per role: username, full name (sample person), role, agency.
const ACCOUNTS: [(&str, &str, Role, Option<&str>); 5] = [
    (
        "operator",
        "Ngô Đức Thành",
        Role::Operator,
        Some(province::OPERATOR_AGENCY),
    ),
    (
        "approver",
        "Trần Quốc Hưng",
        Role::Approver,
        Some(province::PEOPLES_COMMITTEE),
    ),
    (
        "agency-admin",
        "Nguyễn Thị Lan",
        Role::AgencyAdmin,
        Some(province::JUSTICE),
    ),
    (
        "auditor",
        "Đỗ Văn Khải",
        Role::Auditor,
        Some(province::POLICE),
    ),
    ("citizen", "Lê Thu Hà", Role::Citizen, None),
];

/// The demo citizen's identity number (CCCD): registered in Hà Nam (035), a woman born in
/// the 20th century (1), in 1990.
pub const DEMO_CITIZEN_ID: &str = "035190012345";

pub fn credentials_path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo-credentials.json")
}

/// Loads the demo province into `store`; returns the path of the credentials file.
pub async fn load(store: &Store, data_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = credentials_path(data_dir);
    let mut credentials: DemoCredentials = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a demo credentials file", path.display()))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => DemoCredentials::default(),
        Err(error) => return Err(error).context(format!("cannot read {}", path.display())),
    };

    let mut consumer_systems = Vec::new();
    for demo in province::province() {
        match store.get_agency(&demo.agency.code).await {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => {
                store.insert_agency(&demo.agency).await?;
            }
            Err(other) => return Err(other.into()),
        }
        for system in &demo.systems {
            match store.get_system(&demo.agency.code, &system.code).await {
                Ok(_) => {}
                Err(StoreError::NotFound(_)) => {
                    store.insert_system(&demo.agency.code, system).await?;
                }
                Err(other) => return Err(other.into()),
            }
            // Systems connected through the LGSP are the ones that call the gateway.
            if system.connection == ConnectionModel::Lgsp {
                consumer_systems.push(SystemId {
                    agency: demo.agency.code.clone(),
                    code: system.code.clone(),
                });
            }
        }
    }

    for demo in catalog::catalog() {
        let decision = Decision {
            number: Text::parse(demo.decision_number)?,
            date: demo.decision_date,
            effective_date: demo.decision_date,
        };
        store.seed_entry(&demo.entry, &decision).await?;
    }
    records::load(store).await?;
    services::load(store).await?;

    for (username, full_name, role, agency) in ACCOUNTS {
        ensure_account(store, &mut credentials, username, full_name, role, agency).await?;
    }
    for system in consumer_systems {
        ensure_client(store, &mut credentials, system).await?;
    }
    write_private(&path, &serde_json::to_vec_pretty(&credentials)?)?;
    Ok(path)
}

async fn ensure_account(
    store: &Store,
    credentials: &mut DemoCredentials,
    username: &str,
    full_name: &str,
    role: Role,
    agency: Option<&str>,
) -> anyhow::Result<()> {
    let name = Username::parse(username)?;
    let known = credentials.users.iter().any(|u| u.username == username);
    let citizen_id = (role == Role::Citizen)
        .then(|| CitizenId::parse(DEMO_CITIZEN_ID))
        .transpose()?;
    let exists = match store.get_user(&name).await {
        Ok(user) => {
            // Accounts created before identity numbers were recorded get theirs.
            if user.citizen_id.is_none() && citizen_id.is_some() {
                store
                    .update_user(
                        &name,
                        &UserPatch {
                            citizen_id: citizen_id.clone(),
                            ..UserPatch::default()
                        },
                    )
                    .await?;
            }
            true
        }
        Err(StoreError::NotFound(_)) => false,
        Err(other) => return Err(other.into()),
    };
    if exists && known {
        return Ok(());
    }
    let password = random_token();
    let password_hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || password::hash(&password)).await?
    };
    if exists {
        store
            .update_user(
                &name,
                &UserPatch {
                    password_hash: Some(password_hash),
                    ..UserPatch::default()
                },
            )
            .await?;
    } else {
        store
            .insert_user(&NewUser {
                username: name,
                full_name: Text::parse(full_name)?,
                email: None,
                assignment: RoleAssignment::new(role, agency.map(AgencyCode::parse).transpose()?)?,
                password_hash,
                citizen_id,
            })
            .await?;
    }
    credentials.users.retain(|u| u.username != username);
    credentials.users.push(DemoUser {
        username: username.to_owned(),
        password,
        role: role.as_str().to_owned(),
        agency: agency.map(str::to_owned),
    });
    Ok(())
}

async fn ensure_client(
    store: &Store,
    credentials: &mut DemoCredentials,
    system: SystemId,
) -> anyhow::Result<()> {
    let client_id = format!("{}.{}", system.code, system.agency).to_lowercase();
    let known = credentials.clients.iter().any(|c| c.client_id == client_id);
    let exists = match store.get_client(&client_id).await {
        Ok(_) => true,
        Err(StoreError::NotFound(_)) => false,
        Err(other) => return Err(other.into()),
    };
    if exists && known {
        return Ok(());
    }
    let secret = random_token();
    if exists {
        store
            .rotate_client_secret(&client_id, &sha256_hex(&secret))
            .await?;
    } else {
        store
            .insert_client(&NewClient {
                client_id: client_id.clone(),
                name: Text::parse(format!("Kết nối trình diễn của hệ thống {}", system.code))?,
                system: system.clone(),
                secret_hash: sha256_hex(&secret),
            })
            .await?;
    }
    credentials.clients.retain(|c| c.client_id != client_id);
    credentials.clients.push(DemoClient {
        client_id,
        client_secret: secret,
        agency: system.agency.to_string(),
        system: system.code.to_string(),
    });
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600, replacing the file atomically.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temporary = path.with_extension("json.new");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}
