//! OAuth2 client credentials of information systems.

use chrono::{DateTime, Utc};
use lgsp_core::{AgencyCode, SystemCode, SystemId, Text};
use serde::Serialize;

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// Client credentials of a system. The secret's hash is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Client {
    pub client_id: String,
    pub name: Text,
    pub system: SystemId,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Credentials to register; the secret is already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: String,
    pub name: Text,
    pub system: SystemId,
    pub secret_hash: String,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    name: String,
    agency_code: String,
    system_code: String,
    created_at: Timestamp,
    revoked_at: Option<Timestamp>,
    secret_hash: String,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(row: ClientRow) -> Result<Self> {
        Ok(Self {
            client_id: row.client_id,
            name: Text::parse(&row.name)?,
            system: SystemId {
                agency: AgencyCode::parse(&row.agency_code)?,
                code: SystemCode::parse(&row.system_code)?,
            },
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }
}

const SELECT_CLIENT: &str = "
    SELECT c.client_id, c.name, a.code AS agency_code, s.code AS system_code,
           c.created_at, c.revoked_at, c.secret_hash
    FROM clients c JOIN systems s ON s.id = c.system_id JOIN agencies a ON a.id = s.agency_id";

impl Store {
    pub async fn insert_client(&self, client: &NewClient) -> Result<Client> {
        let at = now();
        on_pool!(self, |pool| {
            let system_id: i64 = sqlx::query_scalar(
                "SELECT s.id FROM systems s JOIN agencies a ON a.id = s.agency_id
                 WHERE a.code = $1 AND s.code = $2",
            )
            .bind(client.system.agency.as_str())
            .bind(client.system.code.as_str())
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound("system"))?;
            sqlx::query(
                "INSERT INTO clients (client_id, name, system_id, secret_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&client.client_id)
            .bind(client.name.as_str())
            .bind(system_id)
            .bind(&client.secret_hash)
            .bind(at)
            .execute(pool)
            .await
            .map_err(StoreError::on_constraint("the client id is taken"))?;
        });
        self.get_client(&client.client_id).await
    }

    async fn client_row(&self, client_id: &str) -> Result<ClientRow> {
        let row: Option<ClientRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("{SELECT_CLIENT} WHERE c.client_id = $1"))
                .bind(client_id)
                .fetch_optional(pool)
                .await?
        });
        row.ok_or(StoreError::NotFound("client"))
    }

    pub async fn get_client(&self, client_id: &str) -> Result<Client> {
        self.client_row(client_id).await?.try_into()
    }

    /// The client and its secret hash, for issuing tokens.
    pub async fn client_credentials(&self, client_id: &str) -> Result<(Client, String)> {
        let mut row = self.client_row(client_id).await?;
        let hash = std::mem::take(&mut row.secret_hash);
        Ok((row.try_into()?, hash))
    }

    /// Clients of one agency's systems, or of all, ordered by agency, system and client id.
    pub async fn list_clients(&self, agency: Option<&AgencyCode>) -> Result<Vec<Client>> {
        let rows: Vec<ClientRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_CLIENT} WHERE ($1 IS NULL OR a.code = $1)
                 ORDER BY a.code, s.code, c.client_id"
            ))
            .bind(agency.map(AgencyCode::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Client::try_from).collect()
    }

    /// Revokes a client for good; tokens it holds stop working at their next check.
    pub async fn revoke_client(&self, client_id: &str) -> Result<Client> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE clients SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL",
            )
            .bind(client_id)
            .bind(now())
            .execute(pool)
            .await?;
        });
        self.get_client(client_id).await
    }

    /// Replaces a client's secret.
    pub async fn rotate_client_secret(&self, client_id: &str, secret_hash: &str) -> Result<Client> {
        let client = self.get_client(client_id).await?;
        if client.revoked_at.is_some() {
            return Err(StoreError::Conflict("the client is revoked".into()));
        }
        on_pool!(self, |pool| {
            sqlx::query("UPDATE clients SET secret_hash = $2 WHERE client_id = $1")
                .bind(client_id)
                .bind(secret_hash)
                .execute(pool)
                .await?;
        });
        Ok(client)
    }
}
