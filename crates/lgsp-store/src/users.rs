//! People's accounts.

use chrono::{DateTime, Utc};
use lgsp_core::identity::RoleAssignment;
use lgsp_core::{AgencyCode, CitizenId, Email, Role, Text, Username};
use serde::Serialize;

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// A person's account. The password hash is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    #[serde(skip)]
    pub id: i64,
    pub username: Username,
    pub full_name: Text,
    pub email: Option<Email>,
    #[serde(flatten)]
    pub assignment: RoleAssignment,
    /// A citizen's identity number (CCCD); other accounts have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<CitizenId>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An account to create; the password is already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub full_name: Text,
    pub email: Option<Email>,
    pub assignment: RoleAssignment,
    /// Only for a citizen's account.
    pub citizen_id: Option<CitizenId>,
    pub password_hash: String,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub full_name: Option<Text>,
    pub email: Option<Option<Email>>,
    pub assignment: Option<RoleAssignment>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    /// Only for a citizen's account.
    pub citizen_id: Option<CitizenId>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    full_name: String,
    email: Option<String>,
    role: String,
    agency_code: Option<String>,
    citizen_id: Option<String>,
    disabled_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
    password_hash: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            username: Username::parse(&row.username)?,
            full_name: Text::parse(&row.full_name)?,
            email: row.email.map(Email::parse).transpose()?,
            assignment: RoleAssignment::new(
                Role::parse(&row.role)?,
                row.agency_code.map(AgencyCode::parse).transpose()?,
            )?,
            citizen_id: row.citizen_id.map(CitizenId::parse).transpose()?,
            disabled: row.disabled_at.is_some(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SELECT_USER: &str = "
    SELECT u.id, u.username, u.full_name, u.email, u.role, a.code AS agency_code,
           u.citizen_id, u.disabled_at, u.created_at, u.updated_at, u.password_hash
    FROM users u LEFT JOIN agencies a ON a.id = u.agency_id";

impl Store {
    pub async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let at = now();
        let agency_id = self.agency_id(user.assignment.agency()).await?;
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO users (username, full_name, email, role, agency_id, password_hash,
                     created_at, updated_at, citizen_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
            )
            .bind(user.username.as_str())
            .bind(user.full_name.as_str())
            .bind(user.email.as_ref().map(Email::as_str))
            .bind(user.assignment.role().as_str())
            .bind(agency_id)
            .bind(&user.password_hash)
            .bind(at)
            .bind(user.citizen_id.as_ref().map(CitizenId::as_str))
            .execute(pool)
            .await
            .map_err(StoreError::on_constraint(format!(
                "the username {} or the citizen identity number is taken",
                user.username
            )))?;
        });
        self.get_user(&user.username).await
    }

    async fn agency_id(&self, agency: Option<&AgencyCode>) -> Result<Option<i64>> {
        let Some(agency) = agency else {
            return Ok(None);
        };
        let id: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                .bind(agency.as_str())
                .fetch_optional(pool)
                .await?
        });
        id.map(Some)
            .ok_or_else(|| StoreError::MissingReference(format!("agency {agency} does not exist")))
    }

    async fn user_row(&self, username: &Username) -> Result<UserRow> {
        let row: Option<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_USER} WHERE u.username = $1"))
                .bind(username.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("user"))
    }

    pub async fn get_user(&self, username: &Username) -> Result<User> {
        self.user_row(username).await?.try_into()
    }

    /// The account and its password hash, for signing in.
    pub async fn user_credentials(&self, username: &Username) -> Result<(User, String)> {
        let mut row = self.user_row(username).await?;
        let hash = std::mem::take(&mut row.password_hash);
        Ok((row.try_into()?, hash))
    }

    /// Accounts of one agency, or all accounts, ordered by username.
    pub async fn list_users(&self, agency: Option<&AgencyCode>) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_USER} WHERE ($1 IS NULL OR a.code = $1) ORDER BY u.username"
            ))
            .bind(agency.map(AgencyCode::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(User::try_from).collect()
    }

    /// Updates an account. Disabling it also ends all its sessions.
    pub async fn update_user(&self, username: &Username, patch: &UserPatch) -> Result<User> {
        let current = self.user_row(username).await?;
        let current_user: User = self.get_user(username).await?;
        let assignment = patch
            .assignment
            .as_ref()
            .unwrap_or(&current_user.assignment);
        let agency_id = self.agency_id(assignment.agency()).await?;
        let citizen_id = patch
            .citizen_id
            .as_ref()
            .or(current_user.citizen_id.as_ref())
            .filter(|_| assignment.role() == Role::Citizen);
        let email = match &patch.email {
            Some(email) => email.as_ref(),
            None => current_user.email.as_ref(),
        };
        let at = now();
        let disabled_at = match patch.disabled {
            Some(true) => current.disabled_at.or(Some(at)),
            Some(false) => None,
            None => current.disabled_at,
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            sqlx::query(
                "UPDATE users SET full_name = $2, email = $3, role = $4, agency_id = $5,
                     password_hash = $6, disabled_at = $7, updated_at = $8, citizen_id = $9
                 WHERE id = $1",
            )
            .bind(current.id)
            .bind(
                patch
                    .full_name
                    .as_ref()
                    .unwrap_or(&current_user.full_name)
                    .as_str(),
            )
            .bind(email.map(Email::as_str))
            .bind(assignment.role().as_str())
            .bind(agency_id)
            .bind(
                patch
                    .password_hash
                    .as_ref()
                    .unwrap_or(&current.password_hash),
            )
            .bind(disabled_at)
            .bind(at)
            .bind(citizen_id.map(CitizenId::as_str))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_constraint(
                "the citizen identity number belongs to another account",
            ))?;
            // A changed role, password or a disabled account must not keep old sessions alive.
            if patch.assignment.is_some() || patch.password_hash.is_some() || disabled_at.is_some()
            {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(current.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.get_user(username).await
    }
}
