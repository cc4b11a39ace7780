//! Information systems of agencies and their connection-readiness assessments.

use chrono::{DateTime, Utc};
use lgsp_core::{
    AgencyCode, ConnectionModel, HttpUrl, NewSystem, Readiness, SecurityLevel, SystemCode,
    SystemId, Text,
};
use serde::Serialize;
use sqlx::types::Json;

use crate::{now, on_pool, Result, Store, StoreError, Timestamp};

/// A registered information system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct System {
    pub agency: AgencyCode,
    pub code: SystemCode,
    pub name: Text,
    pub security_level: SecurityLevel,
    pub connection: ConnectionModel,
    pub base_url: HttpUrl,
    pub health_url: Option<HttpUrl>,
    pub readiness: Readiness,
    pub readiness_assessed_at: Option<DateTime<Utc>>,
    pub readiness_assessed_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl System {
    pub fn id(&self) -> SystemId {
        SystemId {
            agency: self.agency.clone(),
            code: self.code.clone(),
        }
    }
}

/// Changes to a system's registration; `None` leaves a field as it is, `health_url: Some(None)`
/// removes the health URL.
#[derive(Debug, Clone, Default)]
pub struct SystemPatch {
    pub name: Option<Text>,
    pub security_level: Option<SecurityLevel>,
    pub connection: Option<ConnectionModel>,
    pub base_url: Option<HttpUrl>,
    pub health_url: Option<Option<HttpUrl>>,
}

#[derive(sqlx::FromRow)]
struct SystemRow {
    agency_code: String,
    code: String,
    name: String,
    security_level: i64,
    connection_model: String,
    connection_description: Option<String>,
    base_url: String,
    health_url: Option<String>,
    readiness_status: String,
    readiness_findings: Json<Vec<String>>,
    readiness_assessed_at: Option<Timestamp>,
    readiness_assessed_by: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<SystemRow> for System {
    type Error = StoreError;
    fn try_from(row: SystemRow) -> Result<Self> {
        let findings = row
            .readiness_findings
            .0
            .into_iter()
            .map(Text::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            agency: AgencyCode::parse(&row.agency_code)?,
            code: SystemCode::parse(&row.code)?,
            name: Text::parse(&row.name)?,
            security_level: SecurityLevel::parse(row.security_level)?,
            connection: ConnectionModel::from_parts(
                &row.connection_model,
                row.connection_description,
            )?,
            base_url: HttpUrl::parse(&row.base_url)?,
            health_url: row.health_url.map(HttpUrl::parse).transpose()?,
            readiness: Readiness::from_parts(&row.readiness_status, findings)?,
            readiness_assessed_at: row.readiness_assessed_at,
            readiness_assessed_by: row.readiness_assessed_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SELECT_SYSTEM: &str = "
    SELECT a.code AS agency_code, s.code, s.name, s.security_level, s.connection_model,
           s.connection_description, s.base_url, s.health_url, s.readiness_status,
           s.readiness_findings, s.readiness_assessed_at, s.readiness_assessed_by,
           s.created_at, s.updated_at
    FROM systems s JOIN agencies a ON a.id = s.agency_id";

impl Store {
    /// Registers a system under `agency`; it starts unassessed.
    pub async fn insert_system(&self, agency: &AgencyCode, system: &NewSystem) -> Result<System> {
        let at = now();
        on_pool!(self, |pool| {
            let agency_id: i64 = sqlx::query_scalar("SELECT id FROM agencies WHERE code = $1")
                .bind(agency.as_str())
                .fetch_optional(pool)
                .await?
                .ok_or(StoreError::NotFound("agency"))?;
            sqlx::query(
                "INSERT INTO systems (agency_id, code, name, security_level, connection_model,
                     connection_description, base_url, health_url, readiness_findings,
                     created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            )
            .bind(agency_id)
            .bind(system.code.as_str())
            .bind(system.name.as_str())
            .bind(i64::from(system.security_level))
            .bind(system.connection.as_str())
            .bind(system.connection.description().map(Text::as_str))
            .bind(system.base_url.as_str())
            .bind(system.health_url.as_ref().map(HttpUrl::as_str))
            .bind(Json(Vec::<String>::new()))
            .bind(at)
            .execute(pool)
            .await
            .map_err(StoreError::on_constraint(format!(
                "agency {agency} already has a system with code {}",
                system.code
            )))?;
        });
        self.get_system(agency, &system.code).await
    }

    pub async fn get_system(&self, agency: &AgencyCode, code: &SystemCode) -> Result<System> {
        let row: Option<SystemRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_SYSTEM} WHERE a.code = $1 AND s.code = $2"
            ))
            .bind(agency.as_str())
            .bind(code.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.ok_or(StoreError::NotFound("system"))?.try_into()
    }

    /// Systems of one agency, or of all agencies, ordered by agency and code.
    pub async fn list_systems(&self, agency: Option<&AgencyCode>) -> Result<Vec<System>> {
        let rows: Vec<SystemRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_SYSTEM} WHERE ($1 IS NULL OR a.code = $1) ORDER BY a.code, s.code"
            ))
            .bind(agency.map(AgencyCode::as_str))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(System::try_from).collect()
    }

    pub async fn update_system(
        &self,
        agency: &AgencyCode,
        code: &SystemCode,
        patch: &SystemPatch,
    ) -> Result<System> {
        let current = self.get_system(agency, code).await?;
        let connection = patch.connection.as_ref().unwrap_or(&current.connection);
        let health_url = match &patch.health_url {
            Some(url) => url.as_ref(),
            None => current.health_url.as_ref(),
        };
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE systems SET name = $3, security_level = $4, connection_model = $5,
                     connection_description = $6, base_url = $7, health_url = $8, updated_at = $9
                 WHERE agency_id = (SELECT id FROM agencies WHERE code = $1) AND code = $2",
            )
            .bind(agency.as_str())
            .bind(code.as_str())
            .bind(patch.name.as_ref().unwrap_or(&current.name).as_str())
            .bind(i64::from(
                patch.security_level.unwrap_or(current.security_level),
            ))
            .bind(connection.as_str())
            .bind(connection.description().map(Text::as_str))
            .bind(
                patch
                    .base_url
                    .as_ref()
                    .unwrap_or(&current.base_url)
                    .as_str(),
            )
            .bind(health_url.map(HttpUrl::as_str))
            .bind(now())
            .execute(pool)
            .await?;
        });
        self.get_system(agency, code).await
    }

    /// Records a connection-readiness assessment (Q21.3).
    pub async fn assess_system(
        &self,
        agency: &AgencyCode,
        code: &SystemCode,
        readiness: &Readiness,
        assessed_by: &str,
    ) -> Result<System> {
        self.get_system(agency, code).await?;
        let findings: Vec<&str> = readiness.findings().iter().map(Text::as_str).collect();
        let at = now();
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE systems SET readiness_status = $3, readiness_findings = $4,
                     readiness_assessed_at = $5, readiness_assessed_by = $6, updated_at = $5
                 WHERE agency_id = (SELECT id FROM agencies WHERE code = $1) AND code = $2",
            )
            .bind(agency.as_str())
            .bind(code.as_str())
            .bind(readiness.as_str())
            .bind(Json(&findings))
            .bind(at)
            .bind(assessed_by)
            .execute(pool)
            .await?;
        });
        self.get_system(agency, code).await
    }
}
